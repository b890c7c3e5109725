"""Every declared mistake, written into a submission, loses points and is diagnosed as itself.

Notebook k defines each question's function as that question's k-th mistaken variant, so one
kernel checks one mistake per question at once. A correct submission is never diagnosed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.course.assignments import course_assignments
from grader.course.config import load_config
from grader.grade.notebook import grade_notebook
from grader.grade.prepare import prepare
from grader.run.sandbox import grader_root

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"01-convolution": "convolution", "02-pooling": "pooling", "03-parameter-counting": "counting"}
NUMPY_ASSIGNMENTS = tuple(MODULES)


def _params() -> list[tuple[str, int]]:
    declared = course_assignments()
    return [
        (aid, k)
        for aid in NUMPY_ASSIGNMENTS
        for k in range(max(len(q.mistakes) for q in declared[aid].questions))
    ]


@pytest.fixture(scope="module")
def config():
    config = load_config(ROOT / "course.toml", environ={})
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, call_timeout=10))


@pytest.mark.parametrize(("assignment_id", "k"), _params())
def test_kth_mistake_of_every_question_is_named(tmp_path: Path, config, assignment_id: str, k: int) -> None:
    assignment = course_assignments()[assignment_id]
    lines, planted = [], {}
    for question in assignment.questions:
        if k < len(question.mistakes):
            planted[question.id] = question.mistakes[k].id
            lines.append(f"import sys\nsys.path.insert(0, {str(grader_root())!r})  # this grader's declarations\n"
                         f"from grader.course.assignments.{MODULES[assignment_id]} import ASSIGNMENT as _a\n"
                         f"{question.id} = _a.question({question.id!r}).mistakes[{k}].variant")
    path = tmp_path / "student" / f"{assignment_id}.ipynb"
    path.parent.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell(line) for line in lines]), path)
    # The planted variants are imported from the grader package, which the sandbox hides: unconfined.
    # The kernel's interpreter may find another grader first (an editable install of another
    # checkout): the cell puts this one first, so a question just declared here is found.
    result = grade_notebook(path, student="student", assignment=assignment,
                            prepared=prepare(assignment, config), config=config, isolation="off")
    for question_id, mistake_id in planted.items():
        tests = [t for t in result.tests if t.question == question_id]
        assert sum(t.score for t in tests) < sum(t.max_score for t in tests), f"{mistake_id} survives"
        named = {t.diagnosis.id for t in tests if t.diagnosis is not None}
        assert named == {mistake_id}, f"{question_id}: planted {mistake_id}, diagnosed {named}"

