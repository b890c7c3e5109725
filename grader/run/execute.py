"""Running a submission's code in a Jupyter kernel: the only module that talks to a kernel.

Modelled on nbclient's own loop (and built on its ``NotebookClient``): one kernel per submission,
started from the grader's own kernelspec (the notebook's kernelspec is ignored), cells run one by one
with a per-cell deadline inside a per-notebook deadline. Every cell ends in one of a closed set of
outcomes — ``ok``, ``error``, ``timeout``, ``dead_kernel``, ``skipped`` — carrying the cell index,
a source preview and a trimmed traceback, so one broken cell costs only what depends on it.

A kernel that dies (``os._exit``, a segfault, memory) or stops answering after a timeout is
restarted and the cells that had run cleanly before are replayed, so the functions they defined can
still be graded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from typing import TYPE_CHECKING

from .sandbox import Cgroup, Confinement, confined
from ..judge.catalog import Message, nested

if TYPE_CHECKING:
    from jupyter_client.manager import AsyncKernelManager
    from nbformat import NotebookNode

    from .jupyter import CappedClient

__all__ = ["Aborted", "CellRun", "Execution", "Kernel", "KernelStartError", "Launch", "Outcome", "RestartFailed",
           "execute_cells", "kernel", "recover"]

log = logging.getLogger(__name__)

Outcome = Literal["ok", "error", "timeout", "dead_kernel", "skipped"]

KERNEL_NAME = "cnn-grader-python"
_TIMEOUT_ENAME = "CellTimeoutError"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX_RESTARTS = 3
_PING_TIMEOUT = 5.0
_TRACEBACK_CHARS = 8000
# A unix socket's path must fit sockaddr_un.sun_path: 108 bytes on Linux, 104 on macOS, NUL included.
_SOCKET_PATH_MAX = 103
# What follows the temporary directory: the kernel's folder, sockets/, and jupyter_client's longest
# ipc name with room to spare ("k12-99999": generation 12, port 99,999).
_SOCKET_TAIL = "/cnn-grader-kernel-xxxxxxxx/sockets/k12-99999"


def _preview(source: str, lines: int = 3, width: int = 100) -> str:
    head = [line[:width] for line in source.strip().splitlines()[:lines]]
    return "\n".join(head) + ("\n…" if len(source.strip().splitlines()) > lines else "")


def _trim(text: str, limit: int) -> str:
    """Keep the head of a long text with a note of how much was dropped."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters not kept]"


def _said(code: str, **params: Any) -> tuple[str, Message]:
    """A cell's ``evalue`` in English and the message it is made from, for the grader's own words."""
    message = Message(code, params)
    return message.text("en"), message


def _ends(text: str, limit: int) -> str:
    """Both ends of a long traceback: its first frame is the student's cell (where it failed), its
    last lines the exception; a deep recursion's middle is what goes."""
    if len(text) <= limit:
        return text
    return text[:limit // 2] + f"\n… [{len(text) - limit} characters not kept]\n" + text[-(limit // 2):]


def kernel_folder_base(temporary: str | None = None) -> str:
    """Where a kernel's folder (its connection file and unix sockets) is made: the temporary directory,
    unless its path is so long that a socket inside would not fit a unix socket address — a long
    ``TMPDIR`` (a deep home folder, a CI runner's workspace, pytest's own folders) would otherwise
    make every kernel fail to start with an error naming no file. Then ``/tmp``, which always fits
    (where there is no writable ``/tmp`` either, the kernel's start fails and says so, as any failed
    start does). Only the kernel's sockets move; the submission's scratch copy stays where it was."""
    temporary = temporary or tempfile.gettempdir()
    if len(os.fsencode(temporary + _SOCKET_TAIL)) <= _SOCKET_PATH_MAX or not os.access("/tmp", os.W_OK | os.X_OK):
        return temporary
    return "/tmp"


@dataclass(frozen=True)
class CellRun:
    """What happened to one cell (``index`` is -1 for code the grader itself sent)."""

    index: int
    outcome: Outcome
    duration: float = 0.0
    source_preview: str = ""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    stdout: str = ""
    dropped: int = 0  # characters of output beyond the limit, not kept
    reason: Message | None = None  # the grader's own words on a timeout, death or skip (``evalue`` in English)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "outcome": self.outcome,
            "duration": round(self.duration, 3),
            "source_preview": self.source_preview,
            "ename": self.ename,
            "evalue": self.evalue,
            "traceback": self.traceback,
            **({"reason": self.reason.to_json()} if self.reason is not None else {}),
        }


@dataclass(frozen=True)
class Execution:
    """The run of a notebook's cells: one :class:`CellRun` per code cell, in order."""

    cells: tuple[CellRun, ...]
    restarts: int = 0
    duration: float = 0.0
    notes: tuple[Message, ...] = field(default=())

    @property
    def failures(self) -> tuple[CellRun, ...]:
        return tuple(c for c in self.cells if not c.ok)


def _write_kernelspec(folder: Path, prefix: Sequence[str], preload: Sequence[str]) -> None:
    """The grader's own kernel: this interpreter's ipykernel behind the confinement ``prefix``,
    whatever kernel the notebook asks for. ``preload`` modules are imported while the kernel starts
    (no name is bound in the student's namespace), off the submission's clock when launched ahead."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    # -P: the kernel's modules are never imported from its working directory, the scratch folder, which
    # holds the student's files (an `ipykernel_launcher.py` handed in made every start fail: a
    # KernelStartError that stopped the class run). Their folder goes first on sys.path once started,
    # as `python -m` would have put it — after the preloads, which must not import the student's
    # `numpy.py` either —, so their helper modules import as in Jupyter.
    argv = [*prefix, sys.executable, "-P", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    argv += [f"--IPKernelApp.exec_lines=import {m} as _cnn_grader_preload; del _cnn_grader_preload" for m in preload]
    argv += ["--IPKernelApp.exec_lines=__import__('sys').path.insert(0, __import__('os').getcwd())"]
    (spec / "kernel.json").write_text(
        # Interrupts go as messages: the kernel runs in its own session inside the sandbox, where the
        # SIGINT jupyter_client would send to the launcher's process group never arrives.
        json.dumps({"argv": argv, "display_name": "cnn-grader", "language": "python", "interrupt_mode": "message"}),
        encoding="utf-8",
    )


class KernelStartError(RuntimeError):
    """No kernel could be started at all: a fault of this machine's setup, reported as such rather
    than graded (every submission would get it)."""


class Aborted(BaseException):
    """The class run is stopping (Ctrl-C): this submission is abandoned, not graded, and leaves no
    result. A BaseException, like KeyboardInterrupt, so that no guard turns it into a grade."""


class RestartFailed(RuntimeError):
    """A kernel that had started and run the notebook's code could not be started again: the
    submission's doing (an ``ipykernel_launcher.py`` or IPython startup file it wrote into its folder,
    which is the new kernel's working directory and home), so it is that submission's result, never
    a :class:`KernelStartError` that stops the class run. ``message`` says so as a catalog message."""

    def __init__(self, error: str) -> None:
        self.message = Message("cell.not_restarted", {"error": error})
        super().__init__(self.message.text("en"))


class Launch:
    """A confined kernel process on its way up: its folder (kernelspec, sockets), its cgroup and its
    started kernel manager. Launching is split from connecting so that :class:`KernelPool` can do it
    ahead of time, on another thread, while an earlier submission runs; connecting happens in
    :class:`Kernel`, on the thread that then uses the kernel."""

    def __init__(self, confinement: Confinement, preload: Sequence[str] = ()) -> None:
        self.confinement = confinement
        self.aborted = threading.Event()
        self._managers: list[AsyncKernelManager] = []
        self._on_abort: list[Callable[[], None]] = []
        self._stack = ExitStack()
        from .jupyter import ZMQError, new_context

        self._context = new_context()
        try:
            self.folder = Path(self._stack.enter_context(
                tempfile.TemporaryDirectory(prefix="cnn-grader-kernel-", dir=kernel_folder_base())))
            (self.folder / "sockets").mkdir()
            if confinement.user is not None:  # its user may reach sockets/ (the launcher hands it over)
                self.folder.chmod(0o711)
            prefix, self.cgroup = self._stack.enter_context(confined(confinement, self.folder / "sockets"))
            _write_kernelspec(self.folder / "spec", prefix, preload)
            self.km: AsyncKernelManager | None = self.manager(0)
            try:
                _start_kernel(self.km, **self.launch_args())
            except (OSError, ZMQError) as exc:  # no student code has run: this machine's problem
                raise KernelStartError(f"the grading kernel did not start ({confinement.isolation} sandbox): "
                                       f"{exc}") from exc
        except BaseException:
            self.close()
            raise

    def launch_args(self) -> dict[str, Any]:
        """How the kernel process is started. Its own stdout/stderr (TensorFlow's C++ logs, crashes)
        is not the cells' output, which arrives over IOPub: it must not flood the terminal."""
        return {"cwd": str(self.confinement.scratch), "env": dict(self.confinement.env),
                "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}

    def manager(self, generation: int) -> AsyncKernelManager:
        """A kernel manager for the ``generation``-th kernel (restarts get fresh sockets)."""
        from .jupyter import KernelSpecManager, SharedContextManager

        specs = KernelSpecManager(kernel_dirs=[str(self.folder / "spec")], ensure_native_kernel=False)
        sockets = self.folder / "sockets"
        # ipc: unix sockets in a folder bound into the sandbox; TCP would not cross its network namespace.
        km = SharedContextManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs, transport="ipc",
                                  context=self._context, ip=str(sockets / f"k{generation}"),
                                  connection_file=str(sockets / f"kernel{generation}.json"))
        self._managers.append(km)
        return km

    def on_abort(self, hook: Callable[[], None]) -> None:
        """Also run ``hook`` on :meth:`abort` (the submission's other processes: its model inspector)."""
        self._on_abort.append(hook)
        if self.aborted.is_set():
            hook()

    def abort(self) -> None:
        """Stop this submission now, from any thread: kill its kernel (the thread grading it sees
        a dead kernel at once) and make every later use of the kernel raise :class:`Aborted`
        instead of restarting it. Ctrl-C must not wait for a cell that never ends."""
        self.aborted.set()
        for hook in list(self._on_abort):
            hook()
        self.kill()

    def _processes(self) -> list[subprocess.Popen[bytes]]:
        found = (getattr(getattr(km, "provisioner", None), "process", None) for km in list(self._managers))
        return [process for process in found if process is not None]

    def kill(self) -> None:
        """SIGKILL the kernel and everything it started, now, from any thread, and reap the
        kernel's process. A graded submission's kernel is killed, never asked to shut down: nothing
        it would do on its way out is wanted (the student's ``atexit`` code least of all), and
        waiting for a graceful shutdown cost a third of a light notebook's grading."""
        processes = self._processes()
        for process in processes:
            if process.poll() is None:
                try:  # the launcher leads its own session (jupyter_client starts it so)
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        cgroup = getattr(self, "cgroup", None)
        if cgroup is not None:
            cgroup.kill()
        for process in processes:
            try:
                process.wait(timeout=_PING_TIMEOUT)
            except subprocess.TimeoutExpired:  # left to jupyter_client's own shutdown, which kills again
                log.debug("kernel process %s still there after SIGKILL", process.pid)

    def take(self) -> AsyncKernelManager | None:
        """The started manager, once; later generations (restarts) are launched by the kernel."""
        km, self.km = self.km, None
        return km

    def close(self) -> None:
        """Kill whatever is left (a kernel never taken, anything the student started) and clean up.

        Last, the zmq context of every manager and client of this launch is destroyed with no
        linger. Left to the garbage collector, a context whose socket still holds a message for a
        kernel that is gone (a shutdown request to a kernel that never came up) blocks forever in
        ``Context.term``, in whichever thread the collector happens to run: the whole class run, or
        the process's exit, hangs on one failed start."""
        km, self.km = self.km, None
        try:
            if km is not None:
                try:
                    _shutdown_kernel(km, now=True)
                except Exception:
                    log.debug("shutting down an unused kernel failed", exc_info=True)
            self._stack.close()
        finally:
            self._context.destroy(linger=0)


def _start_kernel(km: AsyncKernelManager, **kwargs: Any) -> None:
    from .jupyter import start_kernel

    start_kernel(km, **kwargs)


def _shutdown_kernel(km: AsyncKernelManager, **kwargs: Any) -> None:
    from .jupyter import shutdown_kernel

    shutdown_kernel(km, **kwargs)


class Kernel:
    """One live kernel for one submission, restartable; use through :func:`kernel`."""

    def __init__(self, launch: Launch, output_limit: int) -> None:
        self.launch, self.output_limit = launch, output_limit
        self.confinement = launch.confinement
        self.cgroup: Cgroup | None = launch.cgroup
        self.restarts = 0
        self._stack = ExitStack()
        self._client: CappedClient | None = None
        self._reply: dict[str, Any] = {}

    # -- lifetime -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to the launched kernel; after a restart, launch a new one and connect to it."""
        self._check_aborted()
        from .jupyter import CappedClient, new_notebook

        km = self.launch.take() or self.launch.manager(self.restarts)
        client = CappedClient(
            new_notebook(),
            km=km,
            output_limit=self.output_limit,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "", "traceback": []},
            iopub_timeout=2,
            record_timing=False,
            startup_timeout=120,
            on_cell_executed=self._keep_reply,
            on_cell_error=self._keep_reply,
        )
        try:
            self._stack.enter_context(client.setup_kernel(cleanup_kc=True, **self.launch.launch_args()))
        except RuntimeError as exc:  # before any student code runs: the machine's problem, not a grade
            if self.restarts:  # the notebook's code ran in this folder: it may have broken the start
                raise RestartFailed(f"{exc}") from exc
            raise KernelStartError(f"the grading kernel did not start ({self.confinement.isolation} sandbox): "
                                   f"{exc}") from exc
        self._client = client

    def stop(self) -> None:
        """The kernel and whatever the student started are killed first (:meth:`Launch.kill`), so
        nbclient's clean-up finds them gone and only closes the channels and files."""
        try:
            self.launch.kill()
            self._stack.close()
        except Exception:  # a kernel that is already gone must not hide the grading result
            log.debug("kernel shutdown failed", exc_info=True)
        finally:
            self._stack = ExitStack()
            self._client = None

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self.start()

    # -- running code ---------------------------------------------------------------------------
    def _keep_reply(self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        self._reply = execute_reply or {}

    def _check_aborted(self) -> None:
        if self.launch.aborted.is_set():
            raise Aborted()

    def run(self, source: str, timeout: float, index: int = -1) -> CellRun:
        """Run ``source`` with a deadline; never raises for anything the code does (only
        :class:`Aborted`, when the class run is stopping)."""
        self._check_aborted()
        assert self._client is not None, "kernel not started"
        client = self._client
        cell = _code_cell(source)
        client.nb.cells = [cell]
        client.timeout = max(1, int(round(timeout)))
        client.kept = client.dropped = 0
        self._reply = {}
        started = time.monotonic()
        preview = _preview(source)
        from .jupyter import DeadKernelError

        try:
            client.execute_cell(cell, 0)
        except DeadKernelError:
            self._check_aborted()
            evalue, reason = _said("cell.died")
            return CellRun(index, "dead_kernel", time.monotonic() - started, preview, "DeadKernelError", evalue,
                           reason=reason)
        self._check_aborted()
        duration = time.monotonic() - started
        content = self._reply.get("content", {})
        stdout = _trim("".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout"),
                       self.output_limit)
        if content.get("status") != "error":
            return CellRun(index, "ok", duration, preview, stdout=stdout, dropped=client.dropped)
        if content.get("ename") == _TIMEOUT_ENAME:
            evalue, reason = _said("cell.stopped_after", seconds=client.timeout)
            return CellRun(index, "timeout", duration, preview, _TIMEOUT_ENAME, evalue, stdout=stdout,
                           dropped=client.dropped, reason=reason)
        traceback = _ends(_ANSI.sub("", "\n".join(content.get("traceback", []))), _TRACEBACK_CHARS)
        return CellRun(index, "error", duration, preview, _trim(str(content.get("ename", "")), 200),
                       _trim(str(content.get("evalue", "")), 2000), traceback, stdout, client.dropped)

    def responsive(self) -> bool:
        """After a timeout: did the interrupt work, or is the kernel stuck (or dead)?"""
        return self.run("pass", _PING_TIMEOUT).ok


def _code_cell(source: str) -> NotebookNode:
    """A code cell for nbclient to run, made as ``new_code_cell`` makes it but not validated
    against the notebook schema: that check took longer than running a small cell, and it is a
    check of the grader's own cell, which never reaches a file."""
    from nbformat import NotebookNode

    return NotebookNode(cell_type="code", metadata=NotebookNode(), execution_count=None, source=source, outputs=[],
                        id=uuid.uuid4().hex[:8])


@contextmanager
def kernel(confinement: Confinement, *, output_limit: int = 1 << 20, launch: Launch | None = None,
           preload: Sequence[str] = ()) -> Iterator[Kernel]:
    """A started :class:`Kernel` confined as ``confinement`` says (or the one ``launch`` already
    started for it); it and every process it started are gone on exit."""
    launch = launch or Launch(confinement, preload)
    try:
        session = Kernel(launch, output_limit)
        try:
            session.start()
            yield session
        finally:
            session.stop()
    finally:
        launch.close()


def _needs_restart(session: Kernel, run: CellRun) -> bool:
    return run.outcome == "dead_kernel" or (run.outcome == "timeout" and not session.responsive())


def recover(session: Kernel, clean: Sequence[str], cell_timeout: float) -> dict[str, Any]:
    """Restart a dead or stuck kernel and replay the cells that had run cleanly; what was done, as a
    nested message."""
    session.restart()
    for source in clean:
        session.run(source, cell_timeout)
    return nested("cell.restarted", restarts=session.restarts, count=len(clean))


def execute_cells(session: Kernel, cells: Sequence[tuple[int, str]], *, cell_timeout: float,
                  notebook_timeout: float) -> Execution:
    """Run ``(index, source)`` code cells in order under both deadlines: the execution loop."""
    started = time.monotonic()
    deadline = started + notebook_timeout
    done: list[tuple[str, CellRun]] = []
    notes: list[Message] = []
    for index, source in cells:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or session.restarts > _MAX_RESTARTS:
            evalue, reason = (_said("cell.no_time_left") if remaining <= 0
                              else _said("cell.too_many_restarts", limit=_MAX_RESTARTS))
            done.append((source, CellRun(index, "skipped", 0.0, _preview(source), "Skipped", evalue, reason=reason)))
            continue
        run = session.run(source, min(cell_timeout, remaining), index)
        done.append((source, run))
        if _needs_restart(session, run) and session.restarts <= _MAX_RESTARTS:
            clean = [source for source, earlier in done if earlier.ok]
            restarted = recover(session, clean, cell_timeout)
            notes.append(Message("cell_restarted", {"cell": index, "outcome": nested(f"outcome.{run.outcome}"),
                                                    "restarted": restarted}))
    return Execution(tuple(run for _, run in done), session.restarts, time.monotonic() - started, tuple(notes))
