"""Grading one submission: scratch copy → execution → calls with hidden inputs → results.

The pipeline of SPEC section 8, in one direction. Cases and their expected answers are prepared once
per run (:func:`prepare`) and shared by every submission; each submission then gets a fresh kernel in
a scratch copy of its folder, its cells run (:mod:`grader.execute`), each question's function is
called on every case through :mod:`grader.harness`, and the answers are compared and diagnosed here,
in the grader's process. Whatever happens — a notebook that does not parse, a cell that hangs, a
kernel that dies — the result is a :class:`SubmissionResult` with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from . import __version__
from .compare import compare
from .config import CourseConfig
from .diagnose import Failing, diagnose
from .execute import Execution, Kernel, execute_cells, kernel, recover
from .harness import HARNESS_SOURCE, Answer, KerasFile, call_source, discard, read_answer, write_call
from .results import Failure, SubmissionResult, TestResult
from .spec import Assignment, Case, Group, Question, group_rng

__all__ = ["PreparedQuestion", "grade_notebook", "prepare"]

log = logging.getLogger(__name__)

_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


@dataclass(frozen=True)
class PreparedGroup:
    group: Group
    cases: tuple[tuple[Case, Any], ...]
    points: float


@dataclass(frozen=True)
class PreparedQuestion:
    question: Question
    groups: tuple[PreparedGroup, ...]


def prepare(assignment: Assignment, config: CourseConfig, *, public_only: bool = False) -> tuple[PreparedQuestion, ...]:
    """Every question's cases with the reference answers, generated once from the seed."""
    points = config.assignments[assignment.id].points
    assignment.validate(points)
    prepared = []
    for question in assignment.questions:
        groups = [g for g in question.groups if g.public or not public_only]
        share = points[question.id] / len(question.groups)
        prepared_groups = []
        for group in groups:
            cases = group.cases(group_rng(config.seed, assignment.id, question.id, group))
            expected = [_expected(question, c) for c in cases]
            prepared_groups.append(PreparedGroup(group, tuple(zip(cases, expected)), share))
        prepared.append(PreparedQuestion(question, tuple(prepared_groups)))
    return tuple(prepared)


def _expected(question: Question, case: Case) -> Any:
    if question.reference is None:  # assessed, not compared
        return None
    args, kwargs = case.resolved()
    return question.reference(*args, **kwargs)


def _kernel_env(config: CourseConfig, scratch: Path) -> dict[str, str]:
    """A short allow-list: no seed, tokens or credentials from the instructor's shell."""
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update(HOME=str(scratch), MPLBACKEND="agg", PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="2",
               FACES_DIR=str(config.faces.train_dir))
    return env


def _code_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse any nbformat version (v3 is upgraded); raises ValueError with the reason."""
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text (is it a notebook?)") from None
    except Exception as exc:  # nbformat raises JSON, validation and version errors of several types
        raise ValueError(f"not a readable notebook: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a readable notebook: it has no cells")
    return nb


class _Caller:
    """Calls student functions; recovers the kernel when a call kills or wedges it."""

    def __init__(self, session: Kernel, scratch: Path, replay: Sequence[str], config: CourseConfig, limits: Any,
                 models: Path) -> None:
        self.session, self.scratch, self.replay, self.models = session, scratch, replay, models
        self.limits, self.config = limits, config
        self.broken: dict[str, tuple[Answer, str]] = {}
        self.install()

    def install(self) -> None:
        self.session.run(HARNESS_SOURCE, self.limits.cell_timeout)

    def call(self, function: str, case: Case) -> tuple[Answer, str]:
        """Call ``function`` on ``case``. A function that hung or killed the kernel once is not
        called again: its other cases fail the same way without costing a restart each."""
        if function in self.broken:
            return self.broken[function]
        folder = write_call(self.scratch, case.args, case.kwargs, case.files)
        try:
            run = self.session.run(call_source(function, folder), self.limits.call_timeout)
            if run.outcome in ("timeout", "dead_kernel"):
                if run.outcome == "dead_kernel" or not self.session.responsive():
                    recover(self.session, self.replay, self.limits.cell_timeout)
                    self.install()
                kind = "timeout" if run.outcome == "timeout" else "crash"
                self.broken[function] = (Answer("error", ename=kind, evalue=run.evalue), kind)
                return self.broken[function]
            if run.outcome == "error":  # the harness line itself failed: the student broke the harness
                return Answer("lost", ename=run.ename, evalue=run.evalue), "error"
            return self._keep_models(read_answer(folder)), ""
        finally:
            discard(folder)

    def _keep_models(self, answer: Answer) -> Answer:
        """Move a returned Keras model out of the exchange folder, beyond the kernel's reach."""
        if answer.status != "ok" or not isinstance(answer.value, KerasFile):
            return answer
        self.models.mkdir(exist_ok=True)
        kept = self.models / f"model{len(list(self.models.iterdir()))}.keras"
        shutil.move(answer.value.path, kept)
        return dataclasses.replace(answer, value=KerasFile(kept))


def _assess_group(caller: _Caller, pq: PreparedQuestion, pg: PreparedGroup, config: CourseConfig) -> TestResult:
    """A group of an assessed question: its score is the smallest fraction any case earns."""
    question = pq.question
    assert question.assess is not None

    def fetch(function: str, case: Case) -> Answer:
        return caller.call(function, case)[0]

    verdicts = [question.assess(fetch, case, config) for case, _ in pg.cases]
    worst = min(verdicts, key=lambda v: v.fraction)
    fraction = max(0.0, min(1.0, worst.fraction))
    failure = None if fraction >= 1 else Failure(worst.kind, worst.message)  # type: ignore[arg-type]
    return TestResult(
        question=question.id, group=pg.group.name, public=pg.group.public,
        score=round(pg.points * fraction, 4), max_score=round(pg.points, 4), cases=len(verdicts),
        passed_cases=sum(v.fraction >= 1 for v in verdicts), failure=failure, diagnosis=worst.diagnosis,
        extra_credit=question.optional, detail=worst.message if failure is None else "",
    )


def _grade_group(caller: _Caller, pq: PreparedQuestion, pg: PreparedGroup, config: CourseConfig) -> TestResult:
    if pq.question.assess is not None:
        return _assess_group(caller, pq, pg, config)
    question, tol = pq.question, config.tolerance
    failing: list[Failing] = []
    first: Failure | None = None
    passed = 0
    for case, expected in pg.cases:
        answer, kind = caller.call(question.id, case)
        failure: Failure | None = None
        call = case.signature(question.id, show_values=pg.group.public or config.show_hidden_inputs)
        if answer.status == "ok":
            result = compare(expected, answer.value, tol)
            if result.equal:
                passed += 1
                continue
            failing.append(Failing(case, expected, answer.value))
            failure = Failure("wrong", result.message, call, case.input_shapes(), _excerpt(expected),
                              _excerpt(answer.value), result.max_abs_diff, result.worst_index)
        elif answer.status == "missing":
            failure = Failure("missing", f"the notebook defines no function named {question.id!r}", call)
        elif answer.status == "unsupported":
            failure = Failure("unsupported", f"unsupported return value: {answer.evalue}", call, case.input_shapes())
        elif kind in ("timeout", "crash"):
            message = (f"the call did not finish within {config.limits.call_timeout:g} s" if kind == "timeout"
                       else "the call killed the kernel")
            failure = Failure("timeout" if kind == "timeout" else "crash", message, call, case.input_shapes())
        else:
            failure = Failure("error", f"{answer.ename}: {answer.evalue}".strip(": "), call, case.input_shapes(),
                              traceback=answer.traceback)
        first = first or failure
    diagnosis = diagnose(question.mistakes, failing, tol) if failing else None
    total = len(pg.cases)
    return TestResult(
        question=question.id, group=pg.group.name, public=pg.group.public,
        score=round(pg.points, 4) if first is None else 0.0, max_score=round(pg.points, 4),
        cases=total, passed_cases=passed, failure=first, diagnosis=diagnosis, extra_credit=question.optional,
    )


def _excerpt(value: Any, limit: int = 576) -> Any:
    """A JSON-friendly piece of an answer for the report: arrays up to 576 values (24×24) whole,
    larger ones as their shape and first values, so a result file stays small."""
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            return value.tolist()
        return {"shape": list(value.shape), "head": value.ravel()[:64].tolist()}
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_excerpt(v, limit) for v in value[:64]]
    if isinstance(value, dict):
        return {str(k): _excerpt(v, limit) for k, v in list(value.items())[:64]}
    return value


def _error_result(student: str, assignment: str, sha: str, message: str, source: str) -> SubmissionResult:
    return SubmissionResult(student, assignment, sha, __version__, 0.0, (), error=message, source=source)


def _zero_tests(prepared: Sequence[PreparedQuestion], kind: str, message: str) -> tuple[TestResult, ...]:
    return tuple(
        TestResult(pq.question.id, pg.group.name, pg.group.public, 0.0, round(pg.points, 4), len(pg.cases), 0,
                   Failure(kind, message), None, pq.question.optional)  # type: ignore[arg-type]
        for pq in prepared for pg in pq.groups
    )


def grade_notebook(path: Path, *, student: str, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                   config: CourseConfig, source: str = "", files: Path | None = None) -> SubmissionResult:
    """Grade one notebook file; always returns a result, whatever the notebook does.

    ``files`` is the student's own folder: its other files (data, helper modules) are copied into
    the scratch folder. A flat-layout notebook shares its folder with the class, so it gets none.
    """
    started = time.monotonic()
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        nb = read_notebook(path)
    except ValueError as exc:
        message = f"{path.name}: {exc}"
        return SubmissionResult(student, assignment.id, sha, __version__, time.monotonic() - started,
                                _zero_tests(prepared, "error", message), error=message, source=source)
    limits = config.limits_for(assignment.id)
    with tempfile.TemporaryDirectory(prefix="cnn-grader-") as tmp:
        scratch = Path(tmp) / "work"
        if files is not None:
            shutil.copytree(files, scratch, symlinks=True, ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        else:
            scratch.mkdir()
        cells = _code_cells(nb)
        with kernel(scratch, _kernel_env(config, scratch), output_limit=limits.output_kb * 1024) as session:
            execution = execute_cells(session, cells, cell_timeout=limits.cell_timeout,
                                      notebook_timeout=limits.notebook_timeout)
            replay = [source for (_, source), run in zip(cells, execution.cells) if run.ok]
            caller = _Caller(session, scratch, replay, config, limits, Path(tmp) / "models")
            tests = tuple(_grade_group(caller, pq, pg, config) for pq in prepared for pg in pq.groups)
    return SubmissionResult(
        student, assignment.id, sha, __version__, time.monotonic() - started, tests,
        cells=tuple(run.to_dict() for run in execution.failures), notes=_notes(execution), source=source,
    )


def _notes(execution: Execution) -> tuple[str, ...]:
    notes = list(execution.notes)
    for run in execution.failures:
        if run.outcome == "timeout":
            notes.append(f"cell {run.index} was stopped: it ran longer than the time limit ({run.evalue})")
        elif run.outcome == "dead_kernel":
            notes.append(f"cell {run.index} killed the kernel (exit, crash or out of memory)")
        elif run.outcome == "skipped":
            notes.append(f"cell {run.index} was not run: {run.evalue}")
        elif run.ename != "NotImplementedError":
            notes.append(f"cell {run.index} raised {run.ename}: {run.evalue}"[:300])
    return tuple(notes)
