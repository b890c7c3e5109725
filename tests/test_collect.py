"""Collecting a class run: one submission's failure is its own result and never costs the queued ones.

No kernel runs here: the grading function and the workspaces are replaced, so each test decides
exactly which submission fails and how, and asserts what every other one got.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import grader.classroom.runner
from grader import __version__
from grader.classroom.batch import grade_class
from grader.classroom.regrade import read_changes
from grader.classroom.runner import LocalRunner, Work
from grader.course.config import CourseConfig, load_config
from grader.intake.submissions import Submission
from grader.judge.results import SubmissionResult
from grader.run.execute import KernelStartError

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "02-pooling"
STUDENTS = ["ann", "bo", "cai", "dan", "eve"]
VICTIM = "cai"


@pytest.fixture
def config() -> CourseConfig:
    return load_config(ROOT / "course.toml", environ={})


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    for student in STUDENTS:
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / f"{ASSIGNMENT}.ipynb").write_text(f'{{"student": "{student}"}}')
    return tmp_path / "subs"


def result_of(path: Path, student: str, assignment: str) -> SubmissionResult:
    """A graded result as grade_notebook gives it (no tests: only who got one matters here)."""
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return SubmissionResult(student, assignment, sha, __version__, 0.0, ())


class FakeWorkspace:
    """What LocalRunner launches ahead for each submission, without a kernel."""

    closed: list[FakeWorkspace] = []

    def __init__(self, *args: Any) -> None:
        self.launch = self

    def abort(self) -> None:
        pass

    def close(self) -> None:
        FakeWorkspace.closed.append(self)


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The local runner with a grading function that raises for the victim only; lists who was tried."""
    seen: list[str] = []

    def grade_notebook(path: Path, *, student: str, workspace: Any, **kwargs: Any) -> SubmissionResult:
        seen.append(student)
        workspace.close()
        if student == VICTIM:
            raise RuntimeError("injected failure outside the guard")
        return result_of(path, student, ASSIGNMENT)

    monkeypatch.setattr(grader.classroom.runner, "grade_notebook", grade_notebook)
    monkeypatch.setattr(grader.classroom.runner, "Workspace", FakeWorkspace)
    FakeWorkspace.closed = []
    return seen


def events_of(subs: Path, tmp_path: Path, config: CourseConfig, runner: Any) -> tuple[Any, dict[str, str]]:
    events: dict[str, str] = {}
    run = grade_class(subs, tmp_path / "out", config, runner=runner,
                      on_done=lambda sub, event, result: events.__setitem__(sub.student, event))
    return run, events


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_future_that_raises_is_its_own_grader_error_and_the_queued_ones_are_graded(
        subs: Path, tmp_path: Path, config: CourseConfig, tried: list[str], jobs: int) -> None:
    run, events = events_of(subs, tmp_path, config, LocalRunner(jobs, "off"))

    assert sorted(tried) == STUDENTS, "the submissions queued behind the victim were still graded"
    assert [r.student for r in run.results] == STUDENTS
    victim = next(r for r in run.results if r.student == VICTIM)
    assert victim.grader_error is not None and victim.grader_error.stage == "grade"
    assert victim.grader_error.reason == "RuntimeError: injected failure outside the guard"
    assert victim.max_score == 100, "its zero tests come from the prepared questions"
    assert all(r.grader_error is None for r in run.results if r.student != VICTIM)
    assert events == {s: "failed" if s == VICTIM else "graded" for s in STUDENTS}
    assert len(FakeWorkspace.closed) == len(STUDENTS), "every workspace launched ahead was closed"
    grades = (tmp_path / "out" / "grades.csv").read_text("utf-8-sig").splitlines()
    row = next(line for line in grades if line.startswith(VICTIM + ",")).split(",")
    assert set(row[1:-3]) == {""} and row[-3:] == ["0", "0", "0"]  # its cells empty; total, penalty, final

    tried.clear()
    again, events = events_of(subs, tmp_path, config, LocalRunner(jobs, "off"))
    assert tried == [VICTIM], "the grader error was not cached; the others were"
    assert again.cached == len(STUDENTS) - 1 and events[VICTIM] == "failed"


@dataclasses.dataclass
class ScriptedRunner:
    """A runner whose futures end as ``script`` says: a result, an exception from ``submit`` (a
    task that cannot be packed), one from ``result()`` (a lost worker), or never (still running)."""

    script: dict[str, str]
    aborted: int = 0
    futures: dict[str, Future[SubmissionResult]] = dataclasses.field(default_factory=dict)

    @contextmanager
    def session(self, work: Work) -> Iterator[ScriptedRunner]:
        assert [sub.student for sub in work.todo] == STUDENTS
        yield self

    def submit(self, sub: Submission) -> Future[SubmissionResult]:
        how = self.script.get(sub.student, "result")
        if how == "submit raises":
            raise PermissionError(f"{sub.student}/data: permission denied")
        future: Future[SubmissionResult] = Future()
        if how == "result":
            future.set_result(result_of(sub.path, sub.student, sub.assignment))
        elif how == "kernel cannot start":
            future.set_exception(KernelStartError("the grading kernel did not start"))
        elif how == "result raises":
            future.set_exception(OSError("worker lost"))
        self.futures[sub.student] = future
        return future

    def abort(self) -> None:
        self.aborted += 1


def test_a_submission_that_cannot_be_sent_or_whose_worker_is_lost_costs_only_itself(
        subs: Path, tmp_path: Path, config: CourseConfig) -> None:
    runner = ScriptedRunner({"bo": "submit raises", "dan": "result raises"})
    run, events = events_of(subs, tmp_path, config, runner)

    assert [r.student for r in run.results] == STUDENTS
    errors = {r.student: r.grader_error.reason for r in run.results if r.grader_error is not None}
    assert errors == {"bo": "PermissionError: bo/data: permission denied", "dan": "OSError: worker lost"}
    assert events == {"ann": "graded", "bo": "failed", "cai": "graded", "dan": "failed", "eve": "graded"}
    assert runner.aborted == 0


def test_a_machine_that_cannot_grade_stops_the_run_and_cancels_the_rest(
        subs: Path, tmp_path: Path, config: CourseConfig) -> None:
    runner = ScriptedRunner({student: "running" for student in STUDENTS} | {VICTIM: "kernel cannot start"})
    with pytest.raises(KernelStartError):
        events_of(subs, tmp_path, config, runner)

    assert all(runner.futures[s].cancelled() for s in STUDENTS if s != VICTIM)
    assert runner.aborted == 1, "the submissions being graded were abandoned"
    assert not list((tmp_path / "out").rglob("results/**/*.json")), "no result was recorded for anyone"
    changes = read_changes(tmp_path / "out")
    assert changes is not None and not changes.finished, "the stopped run's diff says it is incomplete"
    assert (changes.planned, changes.reached) == (len(STUDENTS), 0)
