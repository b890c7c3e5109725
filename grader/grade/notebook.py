"""Grading one submission: scratch copy → execution → calls with hidden inputs → results.

The pipeline of SPEC section 8, in one direction. Cases and their expected answers are prepared once
per run (:func:`prepare`) and shared by every submission; each submission then gets a fresh kernel in
a scratch copy of its folder (:mod:`grader.grade.workspace`), its cells run (:mod:`grader.run.execute`),
each question's function is called on every case and judged (:mod:`grader.grade.calls`), in the
grader's process. Whatever happens — a notebook that does not parse, a cell that hangs, a kernel that
dies — the result is a :class:`SubmissionResult` with the reason, as a message code
(:mod:`grader.judge.catalog`), and :func:`grade_notebook` is the submission's guard.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..course.config import CourseConfig, Limits
from ..course.facts import checked
from ..course.spec import Assignment, AssessContext
from ..judge.catalog import Message, nested
from ..judge.results import Failure, GraderError, SubmissionResult, TestResult, cell_error
from ..run import sandbox
from ..run.execute import Aborted, CellRun, Execution, KernelStartError, RestartFailed, execute_cells, kernel
from ..run.inspect_model import Inspector
from ..run.sandbox import NO_SPACE, Isolation, ScratchLimit
from .calls import Caller, grade_question
from .causes import Source, calls, cells_of, explain
from .guard import StageFailure, stage
from .prepare import PreparedQuestion
from .workspace import Workspace, copy_files, inspector_for, preload_for, replace_selfcheck

if TYPE_CHECKING:
    import nbformat

__all__ = ["NotebookUnreadable", "grade_notebook", "grader_error_result", "read_notebook"]

log = logging.getLogger(__name__)

Facts = Callable[[AssessContext, CourseConfig], Mapping[str, Any]]


class NotebookUnreadable(ValueError):
    """A file that is no readable notebook; ``problem`` says why, as a message (its English words
    are the exception's text, for the terminal)."""

    def __init__(self, code: str, **params: str) -> None:
        self.problem = Message(code, params)
        super().__init__(self.problem.text("en"))

    def about(self, file: str) -> Message:
        """The submission's error: ``01-convolution.ipynb: not a readable notebook: …``."""
        return Message("notebook_unreadable", {"file": file, "problem": self.problem.to_json()})


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse any nbformat version (v3 is upgraded); raises :class:`NotebookUnreadable` with the reason.
    nbformat is imported here, when a notebook is first read: a cached regrade reads none."""
    import nbformat

    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise NotebookUnreadable("not_utf8") from None
    except Exception as exc:  # nbformat raises JSON, validation and version errors of several types
        raise NotebookUnreadable("unreadable", reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__) \
            from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookUnreadable("no_cells")
    return nb


def _zero_tests(prepared: Sequence[PreparedQuestion], kind: str, reason: Message) -> tuple[TestResult, ...]:
    return tuple(
        TestResult(pq.question.id, pg.group.name, pg.group.public, 0.0, round(pg.points, 4), len(pg.cases), 0,
                   Failure(kind, reason.code, reason.params), None, pq.question.optional,  # type: ignore[arg-type]
                   group_zh=pg.group.zh)
        for pq in prepared for pg in pq.groups
    )


def grade_notebook(path: Path, *, student: str, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                   config: CourseConfig, source: str = "", files: Path | None = None,
                   isolation: Isolation | None = None, workspace: Workspace | None = None,
                   jobs: int = 1) -> SubmissionResult:
    """Grade one notebook file; always returns a result, whatever the notebook does.

    ``isolation`` is :func:`grader.run.sandbox.isolation`'s answer (the sandbox when it works here);
    ``workspace``, when given, is one launched ahead for this submission (it is closed here);
    otherwise one is made for ``jobs`` kernels running at once (their fair CPU share).

    ``files`` is the student's own folder: its other files (data, helper modules) are copied into
    the scratch folder. A flat-layout notebook shares its folder with the class, so it gets none.

    This is the submission's guard (like pytest's ``CallInfo.from_call``): an exception at any stage
    — a bug of ours, bytes no decoder foresaw — becomes this submission's ``grader_error`` result
    naming the stage, so one submission can never stop or change the grading of the others. Only
    what is not about this submission passes: a kernel that cannot start on this machine at all
    (:class:`KernelStartError`), Ctrl-C and :class:`Aborted`.
    """
    started = time.monotonic()
    try:
        return _grade_notebook(path, student=student, assignment=assignment, prepared=prepared, config=config,
                               source=source, files=files, isolation=isolation, workspace=workspace,
                               jobs=jobs, started=started)
    except KernelStartError:
        raise
    except Exception as exc:
        stage = exc.stage if isinstance(exc, StageFailure) else "grade"
        cause = exc.__cause__ if isinstance(exc, StageFailure) and exc.__cause__ is not None else exc
        log.error("grader error on %s/%s at stage %s", student, assignment.id, stage, exc_info=cause)
        return grader_error_result(student, assignment.id, path, prepared, stage, cause,
                                   time.monotonic() - started, source)


def grader_error_result(student: str, assignment: str, path: Path | None, prepared: Sequence[PreparedQuestion],
                        where: str, exc: BaseException, elapsed: float = 0.0, source: str = "",
                        like: Sequence[TestResult] = ()) -> SubmissionResult:
    """The result of a submission the grader failed on: every group (of ``prepared``, or the
    groups of the result ``like`` that could not be stored) at zero with the reason — no points
    invented — and the traceback kept for the instructor; never cached."""
    reason = f"{type(exc).__name__}: {exc}"[:500]
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else ""
    except OSError:
        sha = ""
    doing = nested(f"stage.{where}") if f"stage.{where}" in _STAGES else where
    message = Message("grader_failed", {"doing": doing, "reason": reason})
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-8000:]
    failure = Failure("error", message.code, message.params)
    tests = _zero_tests(prepared, "error", message) or tuple(
        dataclasses.replace(t, score=0.0, passed_cases=0, failure=failure, diagnosis=None, detail=None) for t in like)
    return SubmissionResult(student, assignment, sha, __version__, elapsed, tests, source=source,
                            grader_error=GraderError(where, reason, trace), reason=message)


_STAGES = {f"stage.{s}" for s in ("read", "copy", "execute", "answers", "compare", "diagnose", "assess", "write",
                                   "grade")}


def _grade_notebook(path: Path, *, student: str, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                    config: CourseConfig, source: str, files: Path | None, isolation: Isolation | None,
                    workspace: Workspace | None, jobs: int, started: float) -> SubmissionResult:
    def ungraded(kind: str, reason: Message, sha: str, ran: Workspace | None = None) -> SubmissionResult:
        where = {} if ran is None else {"sandbox": ran.launch.confinement.isolation, "limits": ran.limits()}
        return SubmissionResult(student, assignment.id, sha, __version__, time.monotonic() - started,
                                _zero_tests(prepared, kind, reason), source=source, reason=reason, **where)

    try:
        with stage("read"):
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            try:
                nb = read_notebook(path)
            except NotebookUnreadable as exc:
                return ungraded("error", exc.about(path.name), sha)
        workspace = workspace or Workspace(assignment, config, isolation or sandbox.isolation("required"), jobs,
                                           preload_for(assignment, path))
        limits = config.limits_for(assignment.id)
        with stage("copy"):
            if files is not None and (problem := copy_files(files, workspace.scratch, limits.scratch_mb)):
                return ungraded("error", problem, sha, workspace)
            replace_selfcheck(config, workspace.scratch)  # the released notebooks' `from selfcheck import check`
            workspace.hand_over()
        cells = cells_of(nb.cells)
        try:
            execution, tests, facts = _run(workspace, [(c.index, c.source) for c in cells], prepared, config, limits,
                                           assignment.facts)
        except RestartFailed as exc:  # the submission's doing: its own result, and the class run goes on
            if workspace.launch.aborted.is_set():
                raise Aborted() from None
            return ungraded("crash", Message("kernel_lost", {"reason": exc.message.to_json()}), sha, workspace)
        if workspace.launch.aborted.is_set():  # whatever came back after Ctrl-C is not a grade
            raise Aborted()
    finally:
        if workspace is not None:
            workspace.close()
    with stage("diagnose"):
        tests, records = explain(tests, cells, execution, config.offered_packages())
    numbers = {cell.index: cell.number for cell in cells}
    return SubmissionResult(
        student, assignment.id, sha, __version__, time.monotonic() - started, tests,
        cells=records, notes=_notes(execution, limits, workspace.space.mode, numbers),
        source=source, sandbox=workspace.launch.confinement.isolation, limits=workspace.limits(),
        extras={"facts": facts} if facts else {},
    )


def _run(workspace: Workspace, cells: Sequence[tuple[int, str]], prepared: Sequence[PreparedQuestion],
         config: CourseConfig, limits: Limits, gather: Facts | None = None,
         ) -> tuple[Execution, tuple[TestResult, ...], dict[str, Any]]:
    """The submission's kernel: its cells, then every question's calls and their judging, then
    what the unit shows its instructor (``Assignment.facts``) from the same kernel and inspector."""
    with kernel(workspace.launch.confinement, output_limit=limits.output_kb * 1024,
                launch=workspace.launch) as session:
        with stage("execute"):
            execution = execute_cells(session, cells, cell_timeout=limits.cell_timeout,
                                      notebook_timeout=limits.notebook_timeout)
        replay = [source for (_, source), run in zip(cells, execution.cells) if run.ok]
        caller = Caller(session, workspace.scratch, replay, config, limits, workspace.folder / "models")
        with inspector_for(workspace, config, limits) as inspector:
            workspace.launch.on_abort(inspector.kill)
            tests = _grade_questions(caller, prepared, config, limits, inspector, Source.of(s for _, s in cells))
            facts = _facts(gather, caller, inspector, config) if gather is not None else {}
    return execution, tests, facts


def _facts(gather: Facts, caller: Caller, inspector: Inspector, config: CourseConfig) -> dict[str, Any]:
    """The unit's facts, bounded and validated (grader.course.facts). They are shown, never scored:
    a failure gathering them is logged and costs only them, never the grade."""
    context = AssessContext(lambda function, case: caller.call(function, case)[0], inspector.inspect)
    try:
        return checked(gather(context, config))
    except Exception:
        log.warning("the unit's facts could not be gathered", exc_info=True)
        return {}


def _grade_questions(caller: Caller, prepared: Sequence[PreparedQuestion], config: CourseConfig, limits: Limits,
                     inspector: Inspector, source: Source) -> tuple[TestResult, ...]:
    """Every question in the declared order; each one's calls watch the student's own earlier
    functions it calls that have lost points (found in the source, never by running it), so that a
    mistake inherited from them can be shown."""
    tests: list[TestResult] = []
    lost: dict[str, Callable[..., Any]] = {}
    for pq in prepared:
        reached = calls(source, pq.question.id)
        watch = {name: reference for name, reference in lost.items() if name in reached}
        graded = grade_question(caller, pq, config, limits, inspector, watch)
        tests += graded
        if pq.question.reference is not None and any(t.failure is not None for t in graded):
            lost[pq.question.id] = pq.question.reference
    return tuple(tests)


def _out_of_space(run: CellRun) -> int | None:
    """The errno of a cell that failed writing beyond the scratch limit, or None. The kernel sends
    its exception as text; ``OSError`` keeps ``[Errno N]`` at the head of its message."""
    if run.outcome != "error" or run.ename not in ("OSError", "IOError"):
        return None
    for code in NO_SPACE:
        if run.evalue.startswith(f"[Errno {code}]"):
            return code
    return None


def _space_note(index: int, code: int, limits: Limits, scratch: ScratchLimit) -> Message:
    """A tmpfs scratch folder is full whichever error comes first (its size and the per-file
    limit are equal); with only the per-file limit, a full disk is the machine's, not the limit."""
    if scratch == "tmpfs":
        return Message("cell_out_of_space", {"cell": index, "limit": limits.scratch_mb})
    if code == errno.EFBIG:
        return Message("cell_file_too_large", {"cell": index, "limit": limits.scratch_mb})
    return Message("cell_disk_full", {"cell": index})


def _reason(run: CellRun) -> Any:
    """A cell's reason as a message parameter: the grader's own words, or the kernel's text."""
    return run.reason.to_json() if run.reason is not None else run.evalue


def _renumbered(note: Message, numbers: Mapping[int, int]) -> Message:
    """A run-layer note about a cell (the kernel's restarts), by the number Jupyter shows the cell with."""
    cell = note.params.get("cell")
    if not isinstance(cell, int) or cell not in numbers:
        return note
    return Message(note.code, {**note.params, "cell": numbers[cell]})


def _notes(execution: Execution, limits: Limits, scratch: ScratchLimit,
           numbers: Mapping[int, int]) -> tuple[Message, ...]:
    """What the cells' run says beyond their outcomes, as messages about the cells (each by the
    number Jupyter shows it with, ``numbers`` of its position)."""
    notes = [_renumbered(note, numbers) for note in execution.notes]  # the kernel's restarts (grader.run)
    for run in execution.cells:
        if run.dropped:
            notes.append(Message("output_dropped", {"cell": numbers.get(run.index, run.index),
                                                    "count": f"{run.dropped:,}", "limit": limits.output_kb}))
    for run in execution.failures:
        cell = numbers.get(run.index, run.index)
        if (code := _out_of_space(run)) is not None:
            notes.append(_space_note(cell, code, limits, scratch))
        elif run.outcome == "timeout":
            notes.append(Message("cell_timeout", {"cell": cell, "detail": _reason(run)}))
        elif run.outcome == "dead_kernel":
            notes.append(Message("cell_dead", {"cell": cell}))
        elif run.outcome == "skipped":
            notes.append(Message("cell_skipped", {"cell": cell, "reason": _reason(run)}))
        elif run.ename != "NotImplementedError":
            notes.append(cell_error(cell, run.ename, run.evalue))
    return tuple(notes)
