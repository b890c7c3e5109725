"""Where submissions are graded: one :class:`Runner` protocol, chosen by the caller (the CLI).

A runner turns the run's :class:`Work` into a :class:`Session` for as long as the run lasts; the
session hands out one future per submission and can abandon those being graded (Ctrl-C). Two
implementations: :class:`LocalRunner` (this machine's threads, each job's next kernel launched
ahead) and :class:`grader.classroom.distributed.DaskRunner` (a cluster's workers, a submission sent as
a task carrying its files). Everything else — the gradebook, the result files, the progress
callbacks — stays with :func:`grader.classroom.batch.grade_class`, which never asks which runner it
has. How many submissions run at once is the runner's own setting (``jobs`` here, the workers'
threads on a cluster), so no argument can be given to a runner that ignores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from ..course.config import CourseConfig
from ..course.spec import Assignment
from ..grade.notebook import grade_notebook
from ..grade.workspace import Workspace, preload_for
from ..grade.prepare import PreparedQuestion
from ..intake.submissions import Submission
from ..judge.results import SubmissionResult
from ..run.execute import Aborted, KernelStartError
from ..run.pool import WarmPool
from ..run.sandbox import Isolation, SandboxMode, cores, isolation

__all__ = ["LocalRunner", "Runner", "Session", "Work", "default_jobs", "local_runner"]


Kind = tuple[str, tuple[str, ...]]  # the kernel a submission needs: its assignment and what to preload


@dataclass(frozen=True)
class Work:
    """What a runner needs to know about the run: the submissions to grade, in order (a local
    runner launches kernels ahead in that order), their declarations and prepared cases."""

    todo: tuple[Submission, ...]
    assignments: Mapping[str, Assignment]
    prepared: Mapping[str, Sequence[PreparedQuestion]]
    config: CourseConfig


class Session(Protocol):
    """A runner at work on one run."""

    def submit(self, sub: Submission) -> Future[SubmissionResult]:
        """Queue ``sub``; its future ends with the result, or with :class:`Aborted`/cancellation
        when the run is stopped, or with :class:`KernelStartError` when this machine cannot grade."""

    def abort(self) -> None:
        """Abandon the submissions being graded (Ctrl-C, or the machine cannot grade): start
        nothing new and end the running ones, which then leave no result."""


class Runner(Protocol):
    def session(self, work: Work) -> AbstractContextManager[Session]:
        """A session for ``work``; leaving it releases whatever the runner holds (threads, kernels)."""


@dataclass(frozen=True)
class LocalRunner:
    """``jobs`` submissions at a time on this machine's threads (each in its own kernel process,
    so threads are enough), confined by ``isolation``."""

    jobs: int
    isolation: Isolation

    @contextmanager
    def session(self, work: Work) -> Iterator[Session]:
        jobs = max(1, self.jobs)
        kinds = {sub: (sub.assignment, preload_for(work.assignments[sub.assignment], sub.path)) for sub in work.todo}

        def launch(kind: Kind) -> Workspace:  # jobs kernels at once: each one's fair CPU share
            aid, preload = kind
            return Workspace(work.assignments[aid], work.config, self.isolation, jobs, preload)

        # One kernel more than the jobs is starting while they run: a kernel's start (Python, ipykernel,
        # NumPy) takes longer than grading a light notebook, so with only one ahead per job each
        # submission waited for its kernel; two starting at once use the cores the jobs leave idle.
        with ThreadPoolExecutor(jobs, thread_name_prefix="cnn-grader-job") as pool, \
                WarmPool(launch, [kinds[sub] for sub in work.todo], ahead=jobs + 1) as warm:
            yield _LocalSession(pool, warm, work, kinds)


def default_jobs() -> int:
    """How many submissions a class run grades at once when not told: one per core this process
    may use, each kernel with a core's CPU quota (:func:`~grader.run.sandbox.fair_cpus`). Grading
    a light notebook is mostly a kernel's own start and cells, so each core is kept busy."""
    return cores()


def local_runner(jobs: int | None = None, sandbox: SandboxMode = "required") -> LocalRunner:
    """A :class:`LocalRunner` for ``jobs`` at once (:func:`default_jobs` when None) whose sandbox is
    settled now: with ``required`` and no working bubblewrap this raises
    :class:`~grader.run.sandbox.SandboxUnavailable` before anything is written."""
    return LocalRunner(default_jobs() if jobs is None else jobs, isolation(sandbox))


class _LocalSession:
    """Submissions on the job threads, each in the workspace launched ahead for it. Once a kernel
    could not start at all (the machine cannot grade), the submissions still queued are not tried."""

    def __init__(self, pool: ThreadPoolExecutor, warm: WarmPool[Kind, Workspace], work: Work,
                 kinds: Mapping[Submission, Kind]) -> None:
        self._pool, self._warm, self._work, self._kinds = pool, warm, work, kinds
        self._lock = threading.Lock()
        self._active: set[Workspace] = set()
        self._stopping = False

    def submit(self, sub: Submission) -> Future[SubmissionResult]:
        return self._pool.submit(self._grade, sub)

    def _grade(self, sub: Submission) -> SubmissionResult:
        with self._lock:
            if self._stopping:
                raise Aborted()
        workspace = self._warm.take(self._kinds[sub])
        with self._lock:
            self._active.add(workspace)
            if self._stopping:  # Ctrl-C came between take and here
                workspace.launch.abort()
        try:
            return grade_notebook(sub.path, student=sub.student, assignment=self._work.assignments[sub.assignment],
                                  prepared=self._work.prepared[sub.assignment], config=self._work.config,
                                  source=sub.source, files=sub.folder, workspace=workspace)
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
