"""Grading one submission: scratch copy → execution → calls with hidden inputs → results.

The pipeline of SPEC section 8, in one direction. Cases and their expected answers are prepared once
per run (:func:`prepare`) and shared by every submission; each submission then gets a fresh kernel in
a scratch copy of its folder, its cells run (:mod:`grader.run.execute`), each question's function is
called on every case through :mod:`grader.run.harness`, and the answers are compared and diagnosed here,
in the grader's process. Whatever happens — a notebook that does not parse, a cell that hangs, a
kernel that dies — the result is a :class:`SubmissionResult` with the reason.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from .. import __version__
from .kit import install_selfcheck
from ..judge.compare import compare
from ..course.config import CourseConfig, Limits
from ..judge.diagnose import Failing, diagnose
from ..run.decode import Answer, KerasFile, keep_model, read_answer
from ..run.execute import (Aborted, CellRun, Execution, Kernel, KernelStartError, Launch, RestartFailed, execute_cells,
                      kernel, recover)
from ..run.harness import EXCHANGE, HARNESS_SOURCE, VALUE, ExchangeTampered, call_source, discard, write_call
from ..run.inspect_model import Inspector
from ..run import sandbox
from ..judge.results import Failure, GraderError, SubmissionResult, TestResult, excerpt
from ..run.sandbox import NO_SPACE, Confinement, Isolation, ScratchLimit, ScratchSpace, is_out_of_space
from ..course.spec import AssessContext, Assignment, Case, Question, Var
from .prepare import PreparedGroup, PreparedQuestion

__all__ = ["grade_notebook", "grader_error_result", "stage"]

log = logging.getLogger(__name__)

_CALL_SLACK = 5.0  # seconds the calls' cell may take beyond the calls' own alarms (reading inputs, saving)
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


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

    def __init__(self, session: Kernel, scratch: Path, replay: Sequence[str], config: CourseConfig, limits: Limits,
                 models: Path) -> None:
        self.session, self.scratch, self.replay, self.models = session, scratch, replay, models
        self.limits, self.config = limits, config
        self.broken: dict[str, tuple[Answer, str]] = {}
        self.variables: dict[str, tuple[Answer, str]] = {}
        self.install()

    def install(self) -> None:
        self.session.run(HARNESS_SOURCE, self.limits.cell_timeout)

    def call(self, function: str, case: Case) -> tuple[Answer, str]:
        """One call. Fetching a notebook variable (the trained ``model``) is done once per
        submission: saving a Keras model again would cost seconds and give the same file."""
        variable = case.args[0].name if function == VALUE and case.args and isinstance(case.args[0], Var) else None
        if variable in self.variables:
            return self.variables[variable]
        result = self.call_all(function, [case])[0]
        if variable is not None:
            self.variables[variable] = result
        return result

    def call_all(self, function: str, cases: Sequence[Case]) -> list[tuple[Answer, str]]:
        """Call ``function`` on each case in one round trip to the kernel, each call under its own
        ``call_timeout`` (an alarm in the kernel; the cell's deadline is only the backstop). Cases
        answered before a hang or a crash keep their answers; the function is then not called
        again — its later cases fail the same way without costing a restart each."""
        if function in self.broken:
            return [self.broken[function]] * len(cases)
        limit = self.limits.call_timeout
        results: list[tuple[Answer, str] | None] = [None] * len(cases)
        folders: dict[int, Path] = {}  # case index -> its exchange folder, for the cases written
        try:
            for i, case in enumerate(cases):
                try:
                    folders[i] = write_call(self.scratch, case.args, case.kwargs, case.files)
                except ExchangeTampered as exc:  # nothing was written outside the scratch folder
                    results[i] = (Answer("lost", evalue=f"the exchange folder was tampered with: {exc}"), "error")
                except OSError as exc:  # the student filled the exchange folder (it has a tmpfs of its own)
                    if not is_out_of_space(exc):
                        raise
                    results[i] = (Answer("error", ename="OSError", evalue=f"no room left in the scratch folder for "
                                         f"the call's inputs (the limit is {self.limits.scratch_mb} MB)"), "")
            if not folders:
                return results  # type: ignore[return-value]
            run = self.session.run(call_source(function, list(folders.values()), limit),
                                   limit * len(folders) + _CALL_SLACK)
            unanswered = self._failed_run(function, run)
            for i, folder in folders.items():
                if unanswered is not None and not (folder / "answer.json").exists():
                    results[i] = unanswered
                    continue
                with stage("answers"):
                    answer = read_answer(folder, within=self.scratch)
                if answer.status == "timeout":
                    self.broken[function] = unanswered = (Answer("error", ename="timeout"), "timeout")
                    results[i] = unanswered
                    continue
                results[i] = (self._keep_models(answer), "")
            return results  # type: ignore[return-value]
        finally:
            for folder in folders.values():
                discard(folder)

    def _failed_run(self, function: str, run: CellRun) -> tuple[Answer, str] | None:
        """What the cases left without an answer get when the calls' cell did not end well."""
        if run.outcome in ("timeout", "dead_kernel"):
            if run.outcome == "dead_kernel" or not self.session.responsive():
                recover(self.session, self.replay, self.limits.cell_timeout)
                self.install()
            kind = "timeout" if run.outcome == "timeout" else "crash"
            self.broken[function] = (Answer("error", ename=kind, evalue=run.evalue), kind)
            return self.broken[function]
        if run.outcome == "error":  # the harness line itself failed: the student broke the harness
            return Answer("lost", ename=run.ename, evalue=run.evalue), "error"
        return None

    def _keep_models(self, answer: Answer) -> Answer:
        """Private copies of the Keras models a value holds (top level or nested in tuples, lists and
        dicts), beyond the kernel's reach: copied from the opened regular file, never moved or
        followed (a link to a classmate's model is refused), so nothing refers into the exchange
        folder once it is discarded. One model that cannot be kept makes the answer unsupported."""
        if answer.status != "ok":
            return answer

        def kept(value: Any) -> Any:
            if isinstance(value, KerasFile):
                self.models.mkdir(exist_ok=True)
                copy = keep_model(value.path, self.models / f"model{len(list(self.models.iterdir()))}.keras",
                                  within=self.scratch)
                if isinstance(copy, Answer):
                    raise _NotKept(copy)
                return copy
            if isinstance(value, tuple):
                return tuple(kept(v) for v in value)
            if isinstance(value, list):
                return [kept(v) for v in value]
            if isinstance(value, dict):
                return {k: kept(v) for k, v in value.items()}
            return value

        try:
            return dataclasses.replace(answer, value=kept(answer.value))
        except _NotKept as refused:
            return refused.answer


class _NotKept(Exception):
    """Internal to :meth:`_Caller._keep_models`: the refusal of one model of the value."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.evalue)
        self.answer = answer


def _assess_group(caller: _Caller, pq: PreparedQuestion, pg: PreparedGroup, config: CourseConfig,
                  inspector: Inspector) -> TestResult:
    """A group of an assessed question: its score is the smallest fraction any case earns."""
    question = pq.question
    assert question.assess is not None

    def fetch(function: str, case: Case) -> Answer:
        return caller.call(function, case)[0]

    context = AssessContext(fetch, inspector.inspect)
    with stage("assess"):
        verdicts = [question.assess(context, case, config) for case, _ in pg.cases]
    worst = min(verdicts, key=lambda v: v.fraction)
    fraction = max(0.0, min(1.0, worst.fraction))
    failure = None if fraction >= 1 else Failure(worst.kind, worst.message)  # type: ignore[arg-type]
    return TestResult(
        question=question.id, group=pg.group.name, public=pg.group.public,
        score=round(pg.points * fraction, 4), max_score=round(pg.points, 4), cases=len(verdicts),
        passed_cases=sum(v.fraction >= 1 for v in verdicts), failure=failure, diagnosis=worst.diagnosis,
        extra_credit=question.optional, detail=worst.message if failure is None else "",
    )


def _grade_question(caller: _Caller, pq: PreparedQuestion, config: CourseConfig, limits: Limits,
                    inspector: Inspector) -> list[TestResult]:
    """Every group of a question; the function is called on all their cases in one go."""
    if pq.question.assess is not None:
        return [_assess_group(caller, pq, pg, config, inspector) for pg in pq.groups]
    answers = iter(caller.call_all(pq.question.id, [case for pg in pq.groups for case, _ in pg.cases]))
    return [_grade_group(pq, pg, [next(answers) for _ in pg.cases], config, limits) for pg in pq.groups]


def _grade_group(pq: PreparedQuestion, pg: PreparedGroup, answers: Sequence[tuple[Answer, str]],
                 config: CourseConfig, limits: Limits) -> TestResult:
    question, tol = pq.question, config.tolerance
    failing: list[Failing] = []
    first: Failure | None = None
    passed = 0
    for (case, expected), (answer, kind) in zip(pg.cases, answers):
        failure: Failure | None = None
        call = case.signature(question.id, show_values=True)  # the instructor's record keeps the inputs;
        signature = case.types(question.id)  # a hidden group shows its student only this (results.student_view)
        if answer.status == "ok":
            with stage("compare"):
                result = compare(expected, answer.value, tol)
            if result.equal:
                passed += 1
                continue
            failing.append(Failing(case, expected, answer.value))
            failure = Failure("wrong", result.message, call, case.input_shapes(), excerpt(expected),
                              excerpt(answer.value), result.max_abs_diff, result.worst_index,
                              signature=signature, outline=result.outline)
        elif answer.status == "missing":
            failure = Failure("missing", f"the notebook defines no function named {question.id!r}", call,
                              signature=signature)
        elif answer.status == "unsupported":
            failure = Failure("unsupported", f"unsupported return value: {answer.evalue}", call, case.input_shapes(),
                              signature=signature)
        elif kind in ("timeout", "crash"):
            message = (f"the call did not finish in time (the limit is {limits.call_timeout:g} s per call)"
                       if kind == "timeout" else "the call killed the kernel")
            failure = Failure("timeout" if kind == "timeout" else "crash", message, call, case.input_shapes(),
                              signature=signature)
        else:
            failure = Failure("error", f"{answer.ename}: {answer.evalue}".strip(": "), call, case.input_shapes(),
                              traceback=answer.traceback, signature=signature)
        first = first or failure
    with stage("diagnose"):
        diagnosis = diagnose(question.mistakes, failing, tol) if failing else None
    total = len(pg.cases)
    return TestResult(
        question=question.id, group=pg.group.name, public=pg.group.public,
        score=round(pg.points, 4) if first is None else 0.0, max_score=round(pg.points, 4),
        cases=total, passed_cases=passed, failure=first, diagnosis=diagnosis, extra_credit=question.optional,
    )


def _error_result(student: str, assignment: str, sha: str, message: str, source: str) -> SubmissionResult:
    return SubmissionResult(student, assignment, sha, __version__, 0.0, (), error=message, source=source)


def _zero_tests(prepared: Sequence[PreparedQuestion], kind: str, message: str) -> tuple[TestResult, ...]:
    return tuple(
        TestResult(pq.question.id, pg.group.name, pg.group.public, 0.0, round(pg.points, 4), len(pg.cases), 0,
                   Failure(kind, message), None, pq.question.optional)  # type: ignore[arg-type]
        for pq in prepared for pg in pq.groups
    )


_IGNORED = shutil.ignore_patterns("*.ipynb", ".*")


def _not_copied(root: Path) -> Callable[[str, list[str]], set[str]]:
    """What stays out of the scratch copy of ``root``: notebooks, hidden files, and symbolic links
    leading out of the student's folder (at ``course.toml``, ``solutions/``…). A link to a file of
    the student's own folder is kept: it works the same in the copy."""
    inside = root.resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        links = {n for n in names if os.path.islink(os.path.join(folder, n))}
        outside = {n for n in links if not Path(folder, n).resolve().is_relative_to(inside)}
        return set(_IGNORED(folder, names)) | outside

    return ignore


class Workspace:
    """A submission's temporary folder — ``work/`` (the scratch folder, the kernel's cwd),
    ``models/`` (returned Keras models, out of the kernel's reach) and, once a model is inspected,
    ``inspector/`` (the inspector's private copies) — and the kernel launched in it.
    Made before the submission is read, so a class run can launch it ahead (:mod:`grader.run.pool`).

    ``work/`` is capped at ``[limits] scratch_mb`` (:class:`~grader.run.sandbox.ScratchSpace`: a tmpfs
    where the grader may mount) before the student's files are copied in, so a folder too large for
    it is that submission's error (:func:`_copy_files`), found before anything is written."""

    def __init__(self, assignment: Assignment, config: CourseConfig, isolation: Isolation, jobs: int = 1) -> None:
        """``jobs`` is how many kernels run at once here: without ``[limits] cpus`` each one's CPU
        quota is a fair share of the cores (:func:`grader.run.sandbox.fair_cpus`)."""
        self.folder = Path(tempfile.mkdtemp(prefix="cnn-grader-"))
        self.scratch = self.folder / "work"
        self.scratch.mkdir()
        limits = config.limits_for(assignment.id)
        cpus = limits.cpus if limits.cpus is not None else sandbox.fair_cpus(jobs)
        confinement = Confinement(self.scratch, _kernel_env(config, self.scratch), (config.faces.train_dir,),
                                  limits.memory_mb, limits.cpu_time, limits.processes, isolation, cpus,
                                  limits.scratch_mb)
        try:
            self.space = ScratchSpace(self.scratch, limits.scratch_mb, separate=(EXCHANGE,))
            try:
                self.launch = Launch(confinement, assignment.preload)
            except BaseException:
                self.space.close()
                raise
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def limits(self) -> dict[str, str]:
        """How the kernel's limits are really enforced here, for the result."""
        return sandbox.limits_in_force(self.launch.cgroup, self.space.mode)

    def close(self) -> None:
        self.launch.close()  # the kernel and everything it started are gone: nothing holds the tmpfs
        self.space.close()
        shutil.rmtree(self.folder, ignore_errors=True)


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


class StageFailure(Exception):
    """An unexpected exception while grading one submission, tagged with the stage it happened in."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Tag any unexpected exception of the block with ``name`` (the innermost stage wins)."""
    try:
        yield
    except (StageFailure, KernelStartError, RestartFailed):
        raise
    except Exception as exc:
        raise StageFailure(name) from exc


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
    message = f"not graded: the grader failed while {_STAGE_WORDS.get(where, where)} ({reason})"
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-8000:]
    tests = _zero_tests(prepared, "error", message) or tuple(
        dataclasses.replace(t, score=0.0, passed_cases=0, failure=Failure("error", message), diagnosis=None, detail="")
        for t in like)
    return SubmissionResult(student, assignment, sha, __version__, elapsed, tests,
                            error=message, source=source, grader_error=GraderError(where, reason, trace))


_STAGE_WORDS = {
    "read": "reading the notebook", "copy": "copying the student's files", "execute": "running the cells",
    "answers": "reading the answers back", "compare": "comparing the answers", "diagnose": "diagnosing a mistake",
    "assess": "assessing a model", "write": "writing the result", "grade": "grading",
}


def _grade_notebook(path: Path, *, student: str, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                    config: CourseConfig, source: str, files: Path | None, isolation: Isolation | None,
                    workspace: Workspace | None, jobs: int, started: float) -> SubmissionResult:
    try:
        with stage("read"):
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            try:
                nb = read_notebook(path)
            except ValueError as exc:
                message = f"{path.name}: {exc}"
                return SubmissionResult(student, assignment.id, sha, __version__, time.monotonic() - started,
                                        _zero_tests(prepared, "error", message), error=message, source=source)
        workspace = workspace or Workspace(assignment, config, isolation or sandbox.isolation("required"), jobs)
        limits = config.limits_for(assignment.id)
        scratch = workspace.scratch
        with stage("copy"):
            if files is not None and (problem := _copy_files(files, scratch, limits.scratch_mb)):
                return SubmissionResult(student, assignment.id, sha, __version__, time.monotonic() - started,
                                        _zero_tests(prepared, "error", problem), error=problem, source=source,
                                        sandbox=workspace.launch.confinement.isolation, limits=workspace.limits())
            _install_selfcheck(config, scratch)  # the released notebooks' `from selfcheck import check`
        cells = _code_cells(nb)
        try:
            with kernel(workspace.launch.confinement, output_limit=limits.output_kb * 1024,
                        launch=workspace.launch) as session:
                with stage("execute"):
                    execution = execute_cells(session, cells, cell_timeout=limits.cell_timeout,
                                              notebook_timeout=limits.notebook_timeout)
                replay = [source for (_, source), run in zip(cells, execution.cells) if run.ok]
                caller = _Caller(session, scratch, replay, config, limits, workspace.folder / "models")
                with _inspector(workspace, config, limits) as inspector:
                    workspace.launch.on_abort(inspector.kill)
                    tests = tuple(t for pq in prepared for t in _grade_question(caller, pq, config, limits, inspector))
        except RestartFailed as exc:  # the submission's doing: its own result, and the class run goes on
            if workspace.launch.aborted.is_set():
                raise Aborted() from None
            message = f"the kernel died and {exc}: nothing more of the notebook could be run or graded"
            return SubmissionResult(student, assignment.id, sha, __version__, time.monotonic() - started,
                                    _zero_tests(prepared, "crash", message), error=message, source=source,
                                    sandbox=workspace.launch.confinement.isolation, limits=workspace.limits())
        if workspace.launch.aborted.is_set():  # whatever came back after Ctrl-C is not a grade
            raise Aborted()
    finally:
        if workspace is not None:
            workspace.close()
    return SubmissionResult(
        student, assignment.id, sha, __version__, time.monotonic() - started, tests,
        cells=tuple(run.to_dict() for run in execution.failures), notes=_notes(execution, limits, workspace.space.mode),
        source=source, sandbox=workspace.launch.confinement.isolation, limits=workspace.limits(),
    )


def _inspector(workspace: Workspace, config: CourseConfig, limits: Limits) -> Inspector:
    """The submission's model inspector, confined like its kernel (the same limits and isolation).
    Its process starts at the first model, if any, and ends with the submission; it gets its own
    folder, beside ``work/`` and out of the kernel's reach. A request may take as long as a cell:
    the first one starts TensorFlow, and an evaluation runs the model on the held-out split."""
    confinement = workspace.launch.confinement
    return Inspector(workspace.folder / "inspector", heldout=config.faces.heldout_dir, memory_mb=limits.memory_mb,
                     cpu_time=limits.cpu_time, processes=limits.processes, timeout=limits.cell_timeout,
                     isolation=confinement.isolation, cpus=confinement.cpus, scratch_mb=limits.scratch_mb)


_MB = 1024 * 1024


def _copy_files(files: Path, scratch: Path, limit_mb: int) -> str:
    """Copy the student's folder into the scratch folder; or, when it holds more than the scratch
    space (counted before copying, so a per-file limit or the instructor's disk never sees it), the
    reason the submission cannot be graded. Empty when copied."""
    ignore = _not_copied(files)
    total = 0
    for folder, dirs, names in os.walk(files):
        skipped = ignore(folder, [*dirs, *names])
        dirs[:] = [d for d in dirs if d not in skipped and not os.path.islink(os.path.join(folder, d))]
        total += sum(os.lstat(os.path.join(folder, n)).st_size for n in names if n not in skipped)
    too_big = (f"the submission's folder holds {total / _MB:,.1f} MB of files, more than the scratch space "
               f"({limit_mb} MB, [limits] scratch_mb): it was not run")
    if total > limit_mb * _MB:
        return too_big
    try:
        shutil.copytree(files, scratch, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    except shutil.Error as exc:  # copytree gathers per-file errors: (source, destination, reason)
        full = [f"[Errno {code}]" for code in NO_SPACE]
        if any(code in str(why) for *_, why in exc.args[0] for code in full):
            return too_big
        raise
    except OSError as exc:
        if is_out_of_space(exc):  # file-system overhead (inodes, blocks) beyond the sizes counted
            return too_big
        raise
    return ""


def _install_selfcheck(config: CourseConfig, scratch: Path) -> None:
    """The course's ``selfcheck/`` in place of whatever the student's folder had under that name.
    A link kept by the copy (one into their own folder, possibly absolute) would have been written
    through — by the grader, outside the scratch folder — so what is there is removed first, never
    followed (rmtree does not follow links; a link itself is unlinked)."""
    target = scratch / "selfcheck"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    install_selfcheck(config, scratch)


def _out_of_space(run: CellRun) -> int | None:
    """The errno of a cell that failed writing beyond the scratch limit, or None. The kernel sends
    its exception as text; ``OSError`` keeps ``[Errno N]`` at the head of its message."""
    if run.outcome != "error" or run.ename not in ("OSError", "IOError"):
        return None
    for code in NO_SPACE:
        if run.evalue.startswith(f"[Errno {code}]"):
            return code
    return None


def _space_note(index: int, code: int, limits: Limits, scratch: ScratchLimit) -> str:
    """A tmpfs scratch folder is full whichever error comes first (its size and the per-file
    limit are equal); with only the per-file limit, a full disk is the machine's, not the limit."""
    if scratch == "tmpfs":
        return f"cell {index} ran out of scratch space: the limit is {limits.scratch_mb} MB"
    if code == errno.EFBIG:
        return f"cell {index} wrote a file larger than the scratch limit ({limits.scratch_mb} MB per file)"
    return f"cell {index} ran out of disk space on the grading machine"


def _notes(execution: Execution, limits: Limits, scratch: ScratchLimit) -> tuple[str, ...]:
    notes = list(execution.notes)
    for run in execution.cells:
        if run.dropped:
            notes.append(f"cell {run.index} printed {run.dropped:,} characters more than the output limit "
                         f"({limits.output_kb} KB): that output was not kept")
    for run in execution.failures:
        if (code := _out_of_space(run)) is not None:
            notes.append(_space_note(run.index, code, limits, scratch))
        elif run.outcome == "timeout":
            notes.append(f"cell {run.index} was stopped: it ran longer than the time limit ({run.evalue})")
        elif run.outcome == "dead_kernel":
            notes.append(f"cell {run.index} killed the kernel (exit, crash or out of memory)")
        elif run.outcome == "skipped":
            notes.append(f"cell {run.index} was not run: {run.evalue}")
        elif run.ename != "NotImplementedError":
            notes.append(f"cell {run.index} raised {run.ename}: {run.evalue}"[:300])
    return tuple(notes)
