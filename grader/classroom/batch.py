"""Grading a whole class: find submissions, skip what the gradebook already has, grade the rest.

Results are written (atomically) and recorded as each submission finishes, so an interrupted run
keeps everything done so far and a rerun resumes: a submission whose notebook bytes, course
configuration and grader version are unchanged is taken from the gradebook, not executed again.
The grading itself runs on this machine's threads, or on any executor given (a Dask cluster's,
:mod:`grader.classroom.distributed`); the gradebook, the files and the progress callbacks stay here.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError, Executor, Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .. import __version__
from ..run import sandbox
from ..course.assignments import course_assignments
from ..course.config import CourseConfig
from ..course.faces import ensure_faces
from ..run.execute import Aborted, KernelStartError
from ..grade.notebook import StageFailure, Workspace, grade_notebook, grader_error_result, stage
from ..grade.prepare import PreparedQuestion, prepare
from .gradebook import Gradebook, config_hash, write_grades_csv, write_result
from ..run.pool import WarmPool
from ..judge.results import SubmissionResult
from ..run.sandbox import Isolation, SandboxMode, SandboxUnavailable
from ..course.spec import Assignment
from ..intake.submissions import Submission, Unrecognised, find_submissions

__all__ = ["ClassRun", "grade_class"]

log = logging.getLogger(__name__)

Event = Literal["cached", "graded", "failed"]


@dataclass
class ClassRun:
    """What a class run did, for the summary the CLI prints."""

    results: list[SubmissionResult] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    not_graded: list[tuple[Submission, str]] = field(default_factory=list)
    cached: int = 0


def code_fingerprint() -> str:
    """A hash of the grader's own source: a changed test case or reference regrades everything,
    even when the version number was not bumped (instructors fix tests mid-course)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]  # the whole grader package, not this folder
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _keep(book: Gradebook, out_dir: Path, run: ClassRun, sub: Submission, event: Event, result: SubmissionResult,
          key: str, on_done: Callable[[Submission, Event, SubmissionResult], None]) -> None:
    """Record one finished submission at once, so an interrupted run loses nothing. A result the
    grader failed on is written for the instructor to see but never cached: the next run retries
    it. If even writing fails, the submission gets a ``grader_error`` result naming that stage."""
    try:
        with stage("write"):
            write_result(out_dir, result)
            if result.grader_error is None:
                book.record(result, key)
    except StageFailure as failure:
        log.error("could not store the result of %s/%s", sub.student, sub.assignment, exc_info=failure.__cause__)
        result = grader_error_result(sub.student, sub.assignment, sub.path, (), "write",
                                     failure.__cause__ or failure, result.execution_time, sub.source, like=result.tests)
        try:
            write_result(out_dir, result)
        except Exception:  # the folder itself is unwritable: the summary and the exit status still say so
            log.exception("could not write the error result of %s/%s either", sub.student, sub.assignment)
    if result.grader_error is not None:
        event = "failed"
    run.results.append(result)
    on_done(sub, event, result)


def ensure_synthetic_faces(config: CourseConfig) -> None:
    """Generate the bundled synthetic face set where ``course.toml`` points, if it is missing."""
    faces = config.faces
    root = faces.train_dir.parent
    if (faces.train_dir, faces.heldout_dir) != (root / "train", root / "heldout"):
        raise ValueError(f"{config.path}: [faces] with synthetic = true needs train_dir and heldout_dir to be "
                         f"the train/ and heldout/ folders of one directory, received {faces.train_dir} and "
                         f"{faces.heldout_dir}")
    ensure_faces(root)


class _Submitter:
    """How submissions are sent off — to this machine's ``jobs`` threads, each job's next kernel
    launched ahead, or to an executor's workers (a Dask cluster) as a Task carrying its files — and
    how the ones being graded are abandoned on Ctrl-C."""

    def __init__(self, submit: Callable[[Submission], Future[SubmissionResult]]) -> None:
        self.submit = submit
        self._lock = threading.Lock()
        self._active: set[Workspace] = set()
        self._stopping = False

    def grade_warm(self, warm: WarmPool[str, Workspace], sub: Submission, assignment: Assignment,
                   prepared: Sequence[PreparedQuestion], config: CourseConfig) -> SubmissionResult:
        """One submission on a job's thread, in the workspace launched ahead for it. Once a kernel
        could not start at all (the machine cannot grade), the submissions still queued are not tried."""
        with self._lock:
            if self._stopping:
                raise Aborted()
        workspace = warm.take(sub.assignment)
        with self._lock:
            self._active.add(workspace)
            if self._stopping:  # Ctrl-C came between take and here
                workspace.launch.abort()
        try:
            return grade_notebook(sub.path, student=sub.student, assignment=assignment, prepared=prepared,
                                  config=config, source=sub.source, files=sub.folder, workspace=workspace)
        except KernelStartError:
            with self._lock:
                self._stopping = True
            raise
        finally:
            with self._lock:
                self._active.discard(workspace)

    def abort(self) -> None:
        """Kill the kernels of the submissions being graded; they end with :class:`Aborted`."""
        with self._lock:
            self._stopping = True
            active = list(self._active)
        for workspace in active:
            workspace.launch.abort()


@contextmanager
def _submitter(todo: Sequence[Submission], declared: Mapping[str, Assignment],
               prepared: Mapping[str, Sequence[PreparedQuestion]], config: CourseConfig, jobs: int,
               executor: Executor | None, isolation: Isolation | None, mode: SandboxMode) -> Iterator[_Submitter]:
    if executor is not None:
        from .distributed import Task, grade_task  # it imports this module

        yield _Submitter(lambda sub: executor.submit(grade_task, Task.of(sub, config, mode)))
        return
    assert isolation is not None

    def launch(aid: str) -> Workspace:  # jobs kernels at once: each one's fair CPU share
        return Workspace(declared[aid], config, isolation, jobs)

    with ThreadPoolExecutor(max(1, jobs), thread_name_prefix="cnn-grader-job") as pool, \
            WarmPool(launch, [sub.assignment for sub in todo], ahead=max(1, jobs)) as warm:
        submitter = _Submitter(lambda sub: pool.submit(submitter.grade_warm, warm, sub, declared[sub.assignment],
                                                       prepared[sub.assignment], config))
        yield submitter


def _collect(pending: Mapping[Future[SubmissionResult], Submission], submitter: _Submitter,
             keep: Callable[[Submission, SubmissionResult], None],
             failed: Callable[[Submission, Exception], SubmissionResult]) -> None:
    """Record each result as it arrives. A future that fails (the guard inside grade_notebook
    makes that a bug of the runner, or a worker lost) gives its submission a ``grader_error``
    result; the others carry on. On Ctrl-C: start nothing new, abandon the submissions being graded
    (their kernels are killed, they leave no result and are graded by the next run), keep any that
    had finished, then stop."""
    kept: set[Future[SubmissionResult]] = set()

    def drain(futures: Iterable[Future[SubmissionResult]], stopping: bool = False) -> None:
        for future in as_completed(futures):
            kept.add(future)
            sub = pending[future]
            try:
                result = future.result()
            except (Aborted, CancelledError):
                continue
            except (KernelStartError, SandboxUnavailable):  # the machine's problem, not this submission's
                raise
            except Exception as exc:
                if stopping:
                    continue
                log.error("grading %s failed outside its guard", sub.source, exc_info=exc)
                result = failed(sub, exc)
            keep(sub, result)

    try:
        drain(pending)
    except KeyboardInterrupt:
        waiting = [f for f in pending if f not in kept and not f.cancel()]
        submitter.abort()
        drain(waiting, stopping=True)
        raise
    except BaseException:  # the machine cannot grade (no kernel starts): stop the rest, not grade it
        for future in pending:
            future.cancel()
        submitter.abort()
        raise


def grade_class(submissions: Path, out_dir: Path, config: CourseConfig, *, assignment: str | None = None,
                jobs: int = 1, executor: Executor | None = None, sandbox_mode: SandboxMode = "required",
                on_start: Callable[[int], None] = lambda total: None,
                on_done: Callable[[Submission, Event, SubmissionResult], None] = lambda s, e, r: None) -> ClassRun:
    """Grade every submission under ``submissions`` into ``out_dir``, ``jobs`` at a time.

    Each submission's work happens in its own kernel process, so threads are enough to keep
    ``jobs`` kernels busy; results are recorded by this thread alone, as each one finishes.
    With ``executor`` (``jobs`` is then unused) each submission is sent as a
    :class:`~grader.classroom.distributed.Task` carrying its files, since the executor's workers may be other
    machines; the cases are still prepared here first, so a bad ``course.toml`` fails before any task.
    ``sandbox_mode`` is :func:`grader.run.sandbox.isolation`'s: ``required`` (students' code never runs
    unconfined: no working bubblewrap is :class:`~grader.run.sandbox.SandboxUnavailable` before anything
    runs) or ``off``, the instructor's explicit choice.
    """
    isolation = sandbox.isolation(sandbox_mode) if executor is None else None  # before anything is written
    declared = course_assignments()
    ids = list(config.assignments)
    run = ClassRun()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cnn-grader-unzip-") as unzip:
        aliases = {aid: declared[aid].aliases if aid in declared else () for aid in ids}
        found, run.unrecognised = find_submissions(submissions, aliases, force_assignment=assignment,
                                                   extract_to=Path(unzip))
        gradable = []
        for sub in found:
            if sub.assignment in declared:
                gradable.append(sub)
            else:
                run.not_graded.append((sub, "automatic grading of this assignment is not available yet"))
        on_start(len(gradable))
        if config.faces.synthetic and any(s.assignment == "04-gender-cnn" for s in gradable):
            ensure_synthetic_faces(config)
        prepared = {aid: prepare(declared[aid], config) for aid in {s.assignment for s in gradable}}
        key = config_hash(config.path, extra=f"seed={config.seed};code={code_fingerprint()}")
        with Gradebook(out_dir) as book:
            todo = []
            for sub in gradable:
                result = book.lookup(sub.student, sub.assignment, sub.sha256, key, __version__)
                if result is None:
                    todo.append(sub)
                    continue
                run.cached += 1
                _keep(book, out_dir, run, sub, "cached", result, key, on_done)

            def failed(sub: Submission, exc: Exception) -> SubmissionResult:
                return grader_error_result(sub.student, sub.assignment, sub.path, prepared[sub.assignment], "grade",
                                           exc, source=sub.source)

            def keep(sub: Submission, result: SubmissionResult) -> None:
                _keep(book, out_dir, run, sub, "failed" if result.error else "graded", result, key, on_done)

            with _submitter(todo, declared, prepared, config, jobs, executor, isolation, sandbox_mode) as submitter:
                _collect({submitter.submit(sub): sub for sub in todo}, submitter, keep, failed)
        run.results.sort(key=lambda r: (r.student, r.assignment))
    questions = {aid: [q.id for q in declared[aid].questions] for aid in ids if aid in declared}
    write_grades_csv(out_dir, run.results, questions)
    return run
