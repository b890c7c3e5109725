"""Fault isolation (issue 12): a failure of the grader at any stage of one submission becomes that
submission's ``grader_error`` result, and the other submissions' results are byte for byte what a
clean run gives them (timings aside). Also: two graders never write into one output folder at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_grade import CORRECT_CONV2D  # tests/ is on sys.path: its conftest.py is a rootdir module

import grader.classroom.collect
import grader.classroom.runner
import grader.grade.calls
import grader.grade.notebook
from grader.classroom.batch import ClassRun, grade_class
from grader.classroom.runner import local_runner
from grader.course.config import CourseConfig
from grader.classroom.gradebook import OutputBusy, output_lock

from .conftest import ASSIGNMENT, load_course, write_notebook

STUDENTS = ["ann", "bo", "cai", "dan", "eve"]
VICTIM = "cai"
# A wrong conv2d_multi (no depth sum), so that comparing and diagnosing run for every student.
WRONG_MULTI = "def conv2d_multi(x, k):\n    return conv2d(x[..., 0], k[..., 0])\n"


def _class(folder: Path) -> Path:
    for student in STUDENTS:
        nb = new_notebook(cells=[new_code_cell(f"# {student}\n{CORRECT_CONV2D}\n{WRONG_MULTI}")])
        write_notebook(folder / student / f"{ASSIGNMENT}.ipynb", nbformat.from_dict(nb))
    return folder


def _comparable(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("execution_time")
    return data


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[CourseConfig, Path]:
    base = tmp_path_factory.mktemp("faults")
    return load_course(base / "course"), _class(base / "submissions")


@pytest.fixture(scope="module")
def clean(course: tuple[CourseConfig, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    config, submissions = course
    out = tmp_path_factory.mktemp("clean")
    run = grade_class(submissions, out, config, runner=local_runner(jobs=1))
    assert [r.student for r in run.results] == STUDENTS and all(r.grader_error is None for r in run.results)
    return {s: _comparable(out / "results" / s / f"{ASSIGNMENT}.json") for s in STUDENTS}


_current = threading.local()


def _failing(real: Callable[..., Any], student_of: Callable[..., str | None] | None = None) -> Callable[..., Any]:
    """``real``, raising for the victim only (known from the arguments, or from the submission the
    calling job thread is grading)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        student = student_of(*args, **kwargs) if student_of else getattr(_current, "student", None)
        if student == VICTIM:
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)
    return wrapper


@pytest.fixture
def tracked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tell the patched stages which student the job thread is grading."""
    real = grader.classroom.runner.grade_notebook

    def grade_notebook(*args: Any, **kwargs: Any) -> Any:
        _current.student = kwargs["student"]
        try:
            return real(*args, **kwargs)
        finally:
            _current.student = None

    monkeypatch.setattr(grader.classroom.runner, "grade_notebook", grade_notebook)
    yield


# stage → (module, function name) patched to fail for the victim
STAGES = {
    "read": (grader.grade.notebook, "read_notebook"),
    "execute": (grader.grade.notebook, "execute_cells"),
    "answers": (grader.grade.calls, "read_answer"),
    "compare": (grader.grade.calls, "compare"),
    "diagnose": (grader.grade.calls, "diagnose_question"),
}


@pytest.mark.slow
@pytest.mark.parametrize("where", [*STAGES, "write"])
def test_a_failure_at_any_stage_is_the_victims_result_and_changes_nobody_else(
        where: str, course: tuple[CourseConfig, Path], clean: dict[str, dict[str, Any]], tracked: None,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config, submissions = course
    if where == "write":  # the first write of the victim's result fails; its error result is written
        monkeypatch.setattr(grader.classroom.collect, "write_result", _failing(
            grader.classroom.collect.write_result, lambda out, result, **_: result.student if result.grader_error is None else None))
    else:
        module, name = STAGES[where]
        monkeypatch.setattr(module, name, _failing(getattr(module, name)))
    run: ClassRun = grade_class(submissions, tmp_path, config, runner=local_runner(jobs=1))

    assert [r.student for r in run.results] == STUDENTS, "every submission got a result"
    victim = next(r for r in run.results if r.student == VICTIM)
    assert victim.grader_error is not None and victim.grader_error.stage == where
    assert "RuntimeError: injected failure" in victim.grader_error.reason
    assert "injected failure" in victim.grader_error.traceback
    assert victim.score == 0 and victim.max_score == 100 and "not graded" in victim.error
    grades = (tmp_path / "grades.csv").read_text("utf-8-sig").splitlines()
    cells = next(line for line in grades if line.startswith(VICTIM + ",")).split(",")
    assert set(cells[1:-3]) == {""}, "not graded is an empty cell in grades.csv, not a zero"
    stored = json.loads((tmp_path / "results" / VICTIM / f"{ASSIGNMENT}.json").read_text("utf-8"))
    assert stored["grader"]["status"] == "grader_error" and stored["grader"]["grader_error"]["stage"] == where
    for student in STUDENTS:
        if student != VICTIM:
            assert _comparable(tmp_path / "results" / student / f"{ASSIGNMENT}.json") == clean[student], student

    # Never cached: the next run grades the victim again (and takes the others from the gradebook).
    monkeypatch.undo()
    again = grade_class(submissions, tmp_path, config, runner=local_runner(jobs=1))
    assert again.cached == len(STUDENTS) - 1
    assert _comparable(tmp_path / "results" / VICTIM / f"{ASSIGNMENT}.json") == clean[VICTIM]


def test_a_second_grader_on_the_same_folder_stops_and_names_the_first(tmp_path: Path) -> None:
    with output_lock(tmp_path, "grade"):
        with pytest.raises(OutputBusy, match=r"`grader grade` \(pid \d+ on .*\) is writing into this folder"):
            with output_lock(tmp_path, "report"):
                pass
    with output_lock(tmp_path, "report"):  # released with the first holder
        pass


def test_the_cli_exits_2_when_the_output_folder_is_busy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    (tmp_path / "out" / "results").mkdir(parents=True)
    with output_lock(tmp_path / "out", "grade"):
        status = main(["report", str(tmp_path / "out")])
    assert status == 2
    assert "is writing into this folder" in capsys.readouterr().err
