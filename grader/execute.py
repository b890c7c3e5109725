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
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

__all__ = ["CellRun", "Execution", "Kernel", "Outcome", "execute_cells", "kernel", "recover"]

log = logging.getLogger(__name__)

Outcome = Literal["ok", "error", "timeout", "dead_kernel", "skipped"]

KERNEL_NAME = "cnn-grader-python"
_TIMEOUT_ENAME = "CellTimeoutError"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX_RESTARTS = 3
_PING_TIMEOUT = 5.0
_TRACEBACK_LINES = 12


def _preview(source: str, lines: int = 3, width: int = 100) -> str:
    head = [line[:width] for line in source.strip().splitlines()[:lines]]
    return "\n".join(head) + ("\n…" if len(source.strip().splitlines()) > lines else "")


def _trim(text: str, limit: int) -> str:
    """Keep the head of a long text with a note of how much was dropped."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters not kept]"


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
        }


@dataclass(frozen=True)
class Execution:
    """The run of a notebook's cells: one :class:`CellRun` per code cell, in order."""

    cells: tuple[CellRun, ...]
    restarts: int = 0
    duration: float = 0.0
    notes: tuple[str, ...] = field(default=())

    @property
    def failures(self) -> tuple[CellRun, ...]:
        return tuple(c for c in self.cells if not c.ok)


def _write_kernelspec(folder: Path) -> None:
    """The grader's own kernel: this interpreter's ipykernel, whatever the notebook asks for."""
    spec = folder / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "cnn-grader", "language": "python"}), encoding="utf-8"
    )


class Kernel:
    """One live kernel for one submission, restartable; use through :func:`kernel`."""

    def __init__(self, cwd: Path, env: Mapping[str, str], spec_dir: Path, output_limit: int) -> None:
        self.cwd, self.env, self.spec_dir, self.output_limit = cwd, dict(env), spec_dir, output_limit
        self.restarts = 0
        self._stack = ExitStack()
        self._client: NotebookClient | None = None
        self._reply: dict[str, Any] = {}

    # -- lifetime -----------------------------------------------------------------------------
    def start(self) -> None:
        specs = KernelSpecManager(kernel_dirs=[str(self.spec_dir)], ensure_native_kernel=False)
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        client = NotebookClient(
            new_notebook(),
            km=km,
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "", "traceback": []},
            iopub_timeout=2,
            record_timing=False,
            startup_timeout=120,
            on_cell_executed=self._keep_reply,
            on_cell_error=self._keep_reply,
        )
        # The kernel process's own stdout/stderr (TensorFlow's C++ logs, crashes) is not the cells'
        # output, which arrives over IOPub; it must not flood the instructor's terminal.
        self._stack.enter_context(client.setup_kernel(cwd=str(self.cwd), env=self.env, cleanup_kc=True,
                                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self._client = client

    def stop(self) -> None:
        try:
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

    def run(self, source: str, timeout: float, index: int = -1) -> CellRun:
        """Run ``source`` with a deadline; never raises for anything the code does."""
        assert self._client is not None, "kernel not started"
        client = self._client
        cell = new_code_cell(source)
        client.nb.cells = [cell]
        client.timeout = max(1, int(round(timeout)))
        self._reply = {}
        started = time.monotonic()
        preview = _preview(source)
        try:
            client.execute_cell(cell, 0)
        except DeadKernelError:
            return CellRun(index, "dead_kernel", time.monotonic() - started, preview,
                           "DeadKernelError", "the kernel died while running this cell")
        duration = time.monotonic() - started
        content = self._reply.get("content", {})
        stdout = _trim("".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout"),
                       self.output_limit)
        if content.get("status") != "error":
            return CellRun(index, "ok", duration, preview, stdout=stdout)
        if content.get("ename") == _TIMEOUT_ENAME:
            return CellRun(index, "timeout", duration, preview, _TIMEOUT_ENAME,
                           f"stopped after {client.timeout} s", stdout=stdout)
        traceback = _ANSI.sub("", "\n".join(content.get("traceback", [])))
        lines = traceback.splitlines()
        if len(lines) > _TRACEBACK_LINES:
            traceback = "\n".join(["…", *lines[-_TRACEBACK_LINES:]])
        return CellRun(index, "error", duration, preview, str(content.get("ename", "")),
                       _trim(str(content.get("evalue", "")), 2000), _trim(traceback, 8000), stdout)

    def responsive(self) -> bool:
        """After a timeout: did the interrupt work, or is the kernel stuck (or dead)?"""
        return self.run("pass", _PING_TIMEOUT).ok


@contextmanager
def kernel(cwd: Path, env: Mapping[str, str], *, output_limit: int = 1 << 20) -> Iterator[Kernel]:
    """A started :class:`Kernel` in ``cwd``; it and its processes are shut down on exit."""
    with tempfile.TemporaryDirectory(prefix="cnn-grader-spec-") as spec_dir:
        _write_kernelspec(Path(spec_dir))
        session = Kernel(cwd, env, Path(spec_dir), output_limit)
        try:
            session.start()
            yield session
        finally:
            session.stop()


def _needs_restart(session: Kernel, run: CellRun) -> bool:
    return run.outcome == "dead_kernel" or (run.outcome == "timeout" and not session.responsive())


def recover(session: Kernel, clean: Sequence[str], cell_timeout: float) -> str:
    """Restart a dead or stuck kernel and replay the cells that had run cleanly."""
    session.restart()
    for source in clean:
        session.run(source, cell_timeout)
    return f"kernel restarted ({session.restarts}); {len(clean)} earlier cell(s) re-run"


def execute_cells(session: Kernel, cells: Sequence[tuple[int, str]], *, cell_timeout: float,
                  notebook_timeout: float) -> Execution:
    """Run ``(index, source)`` code cells in order under both deadlines: the execution loop."""
    started = time.monotonic()
    deadline = started + notebook_timeout
    done: list[tuple[str, CellRun]] = []
    notes: list[str] = []
    for index, source in cells:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or session.restarts > _MAX_RESTARTS:
            reason = ("the notebook's time limit was used up" if remaining <= 0
                      else f"the kernel died more than {_MAX_RESTARTS} times")
            done.append((source, CellRun(index, "skipped", 0.0, _preview(source), "Skipped", reason)))
            continue
        run = session.run(source, min(cell_timeout, remaining), index)
        done.append((source, run))
        if _needs_restart(session, run) and session.restarts <= _MAX_RESTARTS:
            clean = [source for source, earlier in done if earlier.ok]
            notes.append(f"cell {index}: {run.outcome}; " + recover(session, clean, cell_timeout))
    return Execution(tuple(run for _, run in done), session.restarts, time.monotonic() - started, tuple(notes))
