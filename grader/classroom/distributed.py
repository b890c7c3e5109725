"""Grading on a Dask cluster (``grader grade --dask ADDRESS``, SPEC section 10).

A submission travels to its worker as a :class:`Task`: the notebook's bytes, the student's folder
as an in-memory tar, the names that appear in the result, and the :class:`CourseConfig`. Nothing
needs a shared submissions folder. The worker unpacks the task into a temporary folder, prepares the
assignment's cases itself (deterministic from the seed, cached per worker process, so the prepared
cases and reference answers never cross the network) and calls :func:`grader.grade.notebook.grade_notebook` exactly as a
local run does; the :class:`SubmissionResult` comes back as the task's value. The gradebook, the
result files, ``grades.csv`` and the reports stay with the client (:func:`grader.classroom.batch.grade_class`).
:class:`DaskRunner` is the :class:`~grader.classroom.runner.Runner` that sends them; how many run at
once is the workers' threads, so it takes no ``jobs`` (``--jobs`` with ``--dask`` is refused).

Dask is imported only by :func:`connect`, so the grader runs without it unless ``--dask`` is used.
Workers need the same ``cnn-grader`` (checked on connect: the gradebook's cache key is the client's
code, so results from other code would be cached under the wrong key), the course's ``[faces]``
paths as on the client (a shared filesystem or the same checkout path; the synthetic set is
generated there when missing), and bubblewrap for the sandbox, like a local run.
"""

from __future__ import annotations

import io
import pickle
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..course.assignments import course_assignments
from ..course.config import CourseConfig
from ..grade.notebook import grade_notebook
from ..grade.prepare import PreparedQuestion, prepare
from ..intake.submissions import Submission
from ..judge.results import SubmissionResult
from ..run.sandbox import SandboxMode, isolation
from .cache import code_fingerprint
from .needs import provide
from .runner import Session, Work

__all__ = ["ClusterError", "DaskRunner", "Task", "connect", "grade_task"]

CONNECT_TIMEOUT = 5.0  # seconds: an unreachable scheduler is reported, not waited for
_FOLDER = "files"
# What grade_notebook leaves out of the scratch copy anyway: not worth sending.
_UNSENT = shutil.ignore_patterns("*.ipynb", ".*")


class ClusterError(ValueError):
    """The cluster cannot be used; a ValueError, so the CLI reports it in one line with exit 2."""


@dataclass(frozen=True)
class Task:
    """One submission as data, for a worker that cannot see the submissions folder."""

    student: str
    assignment: str
    source: str
    name: str  # the notebook's file name: messages about an unreadable notebook quote it
    notebook: bytes
    folder: bytes | None  # the student's folder as a tar (STUDENT/ layout); None for a flat file
    config: CourseConfig
    sandbox: SandboxMode = "required"  # how the worker's machine must confine the kernel

    @classmethod
    def of(cls, sub: Submission, config: CourseConfig, sandbox: SandboxMode = "required") -> Task:
        folder = None if sub.folder is None else _tar(sub.folder)
        return cls(sub.student, sub.assignment, sub.source, sub.path.name, sub.path.read_bytes(), folder, config,
                   sandbox)

    def unpack(self, into: Path) -> tuple[Path, Path | None]:
        """Write the notebook and the student's folder under ``into``; returns their paths."""
        notebook = into / "notebook" / self.name
        notebook.parent.mkdir()
        notebook.write_bytes(self.notebook)
        if self.folder is None:
            return notebook, None
        # "tar", not Python 3.14's default "data": the student's symbolic links are recreated as the
        # local scratch copy keeps them (Pythons before 3.11.4 have no filters and do that anyway).
        links_kept = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
        with tarfile.open(fileobj=io.BytesIO(self.folder)) as tar:
            tar.extractall(into, **links_kept)
        return notebook, into / _FOLDER


def _tar(folder: Path) -> bytes:
    """The folder as an uncompressed tar (notebooks are text, data files are mostly compressed)."""
    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        name = PurePosixPath(info.name).name
        return None if _UNSENT("", [name]) else info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=_FOLDER, filter=keep)
    return buffer.getvalue()


def grade_task(task: Task) -> SubmissionResult:
    """Runs on a worker: the same grading as a local run, from the task's own copy of the files.
    The assignment's needs are provided here too (on a shared filesystem the client has made them
    before sending any task)."""
    assignment = course_assignments()[task.assignment]
    provide([assignment], task.config)
    with tempfile.TemporaryDirectory(prefix="cnn-grader-task-") as tmp:
        notebook, folder = task.unpack(Path(tmp))
        return grade_notebook(notebook, student=task.student, assignment=assignment,
                              prepared=_prepared(task.assignment, task.config), config=task.config,
                              source=task.source, files=folder, isolation=isolation(task.sandbox),
                              jobs=_threads_here())


def _threads_here() -> int:
    """How many tasks this worker runs at once (its threads), each with a kernel: they share the
    machine's cores as ``--jobs`` kernels do locally (each quota a fair share, see
    :func:`grader.run.sandbox.fair_cpus`). Given all of them each, a cell would run as fast as alone
    only beside idle neighbours, and whether it met its time limit would depend on which other
    submissions the scheduler sent to the same worker. One when not run by a worker."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError):
        return 1


_PREPARED: dict[tuple[str, bytes], tuple[PreparedQuestion, ...]] = {}


def _prepared(assignment: str, config: CourseConfig) -> tuple[PreparedQuestion, ...]:
    """The assignment's cases, once per worker process. A CourseConfig holds dicts, so it is keyed by
    its pickle; two threads computing the same entry at once is harmless (it is deterministic)."""
    key = (assignment, pickle.dumps(config))
    if key not in _PREPARED:
        _PREPARED[key] = prepare(course_assignments()[assignment], config)
    return _PREPARED[key]


@dataclass(frozen=True)
class DaskRunner:
    """Grades on ``executor``'s workers (:func:`connect`'s), each submission sent as a :class:`Task`
    whose kernel the worker's machine confines as ``sandbox`` says."""

    executor: Executor
    sandbox: SandboxMode = "required"

    def session(self, work: Work) -> AbstractContextManager[Session]:
        return nullcontext(_TaskSession(self.executor, work.config, self.sandbox))


class _TaskSession:
    def __init__(self, executor: Executor, config: CourseConfig, sandbox: SandboxMode) -> None:
        self._executor, self._config, self._sandbox = executor, config, sandbox

    def submit(self, sub: Submission) -> Future[SubmissionResult]:
        return self._executor.submit(grade_task, Task.of(sub, self._config, self._sandbox))

    def abort(self) -> None:
        """Nothing to kill from here: the queued tasks' futures are cancelled, and the scheduler
        drops the running ones when :func:`connect`'s connection closes."""


@contextmanager
def connect(address: str) -> Iterator[Executor]:
    """An executor over the Dask scheduler at ``address``; leaving closes the connection, and the
    scheduler then drops whatever this client had not collected."""
    try:
        from distributed import Client
        from distributed.comm.addressing import resolve_address
    except ImportError:
        raise ClusterError("--dask needs Dask on this machine and the workers: pip install 'cnn-grader[dask]'") from None
    try:
        # Checked first: a Client given a malformed address hangs for seconds while it is collected.
        resolve_address(address)
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except ValueError as exc:
        raise ClusterError(f"--dask {address}: not a scheduler address like tcp://host:8786 ({exc})") from None
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        _check_workers(client, address)
        # pure=False: every task runs, never taken from the scheduler's memory of an equal one.
        yield client.get_executor(pure=False)


def _check_workers(client: Any, address: str) -> None:
    """Refuse workers whose grader code differs from this machine's (workers joining later are not
    checked: start them from the same installation)."""
    try:
        found = client.run(code_fingerprint)
    except Exception as exc:  # a worker without the package fails to unpickle the call
        raise ClusterError(f"the workers of {address} cannot run the grader ({type(exc).__name__}: {exc}); "
                           "install the same cnn-grader on every worker") from None
    mine = code_fingerprint()
    other = sorted(worker for worker, fingerprint in found.items() if fingerprint != mine)
    if other:
        raise ClusterError(f"worker(s) {', '.join(other)} of {address} run different grader code; "
                           "install the same cnn-grader version on every worker")
