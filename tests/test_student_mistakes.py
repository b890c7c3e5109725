"""Mistakes written the way students write them are named; their correct twins get full marks.

The code is ``tests/student_code.py``'s: loops, plain lists, channels-first indexing,
``window == window.max()``, not the declared variants imported. One notebook per assignment holds the
correct code of every question; each other notebook makes at most one mistake per question (the
others correct), so every mistake is graded in a real kernel once. They are graded as one class (the
pool's jobs at once, as an instructor grades them), each notebook its own student. The sandbox is not
the point here: ``sandbox="off"``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.course.config import load_config
from grader.judge.results import SubmissionResult
from student_code import CORRECT, MISTAKES, with_mistake

ROOT = Path(__file__).resolve().parents[1]
Planted = dict[str, str]  # question -> mistake id


def _notebooks() -> list[tuple[str, Planted]]:
    """Every mistake of MISTAKES in some notebook, at most one per question per notebook; a correct one first."""
    notebooks: list[tuple[str, Planted]] = []
    for assignment in CORRECT:
        notebooks.append((assignment, {}))
        packed: list[Planted] = []
        for aid, question, mistake, _, _ in MISTAKES:
            if aid != assignment:
                continue
            free = next((p for p in packed if question not in p), None)
            if free is None:
                packed.append(free := {})
            free[question] = mistake
        notebooks += [(assignment, planted) for planted in packed]
    return notebooks


def _cells(assignment: str, planted: Planted) -> dict[str, str]:
    cells = dict(CORRECT[assignment])
    for aid, question, mistake, old, new in MISTAKES:
        if aid == assignment and planted.get(question) == mistake:
            cells[question] = with_mistake(aid, question, old, new)[question]
    return cells


@pytest.fixture(scope="module")
def config():
    config = load_config(ROOT / "course.toml", environ={})
    return dataclasses.replace(config, limits=dataclasses.replace(config.limits, call_timeout=10))


def _label(assignment_id: str, planted: Planted) -> str:
    return f"{assignment_id}-{'+'.join(planted.values()) or 'correct'}"


def _student(assignment_id: str, planted: Planted) -> str:
    """The notebook's student in the class: its place in :func:`_notebooks` (a folder name any intake takes)."""
    return f"s{_notebooks().index((assignment_id, planted)):02d}"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, config) -> dict[str, SubmissionResult]:
    """Every notebook of :func:`_notebooks`, graded as one class: the result of each by its student."""
    from grader.classroom.batch import grade_class
    from grader.classroom.runner import local_runner

    base = tmp_path_factory.mktemp("mistakes")
    for assignment_id, planted in _notebooks():
        path = base / "subs" / _student(assignment_id, planted) / f"{assignment_id}.ipynb"
        path.parent.mkdir(parents=True)
        cells = _cells(assignment_id, planted)
        nbformat.write(new_notebook(cells=[new_code_cell(source) for source in cells.values()]), path)
    run = grade_class(base / "subs", base / "out", config, runner=local_runner(sandbox="off"), similarity=False)
    return {r.student: r for r in run.results}


def test_every_student_mistake_is_packed_once() -> None:
    packed = sorted((a, q, m) for a, planted in _notebooks() for q, m in planted.items())
    assert packed == sorted((a, q, m) for a, q, m, _, _ in MISTAKES)


@pytest.mark.slow
@pytest.mark.parametrize(("assignment_id", "planted"), _notebooks(),
                         ids=[_label(a, p) for a, p in _notebooks()])
def test_student_code_is_named_or_full_marks(graded: dict[str, SubmissionResult], assignment_id: str,
                                            planted: Planted) -> None:
    result = graded[_student(assignment_id, planted)]
    assert result.assignment == assignment_id and result.grader_error is None, result.grader_error
    for question in CORRECT[assignment_id]:
        tests = [t for t in result.tests if t.question == question]
        named = {t.diagnosis.id for t in tests if t.diagnosis is not None}
        if question in planted:
            assert sum(t.score for t in tests) < sum(t.max_score for t in tests), f"{planted[question]} survives"
            assert named == {planted[question]}, f"{question}: {planted[question]} written, diagnosed {named}"
        else:
            assert all(t.score == t.max_score for t in tests), f"{question}'s correct code loses points: {tests}"
            assert named == set(), f"{question}'s correct code is diagnosed {named}"
