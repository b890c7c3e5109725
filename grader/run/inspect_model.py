"""Looking at a student's Keras models from outside their kernel, in a confined process.

The harness saves the models the student's code produced as ``.keras`` files; this module loads
them with ``safe_mode=True`` — a model that smuggles code (a ``Lambda`` layer, a custom class) is
refused, not run — and reports the layers with their configuration and ``count_params()``, and on
request the accuracy on a held-out split that never entered the student's scratch folder.

A ``.keras`` archive is untrusted input: a 112 KB file whose config asks for a 200,000 × 200,000
``Dense`` layer makes Keras allocate 160 GB while loading it. So the inspector runs under the same
confinement as a kernel (:func:`grader.run.sandbox.inspector_prefix`): the course's memory, CPU and
task limits, a cleared environment, and with bubblewrap no network and nothing of the instructor's
but the held-out faces (read-only) and a private folder holding copies of the models.

:class:`Inspector` is the grader's side: one process per submission, started at its first model
and closed with the submission, so TensorFlow starts once, not once per model. It speaks a line
protocol (``python -m grader.run.inspect_model --serve --heldout DIR``): one JSON request per line
(``{"path": ..., "evaluate": true|false}``), one JSON reply per line. A process that dies (the
memory limit, a segfault) costs only the request it was serving, which gets an ``{"error": ...}``
reply; the next request starts a new one. ``python -m grader.run.inspect_model FILE [--evaluate DIR]``
inspects one file unconfined, for a person debugging a model.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .decode import Answer, keep_model
from ..judge.catalog import Message, nested, received

if TYPE_CHECKING:
    from .sandbox import Cgroup, Isolation

__all__ = ["Inspector", "ModelReport"]

log = logging.getLogger(__name__)

ModelReport = dict[str, Any]

_REPLY_LIMIT = 4 * 1024 * 1024  # one reply line; a model with more layers than that is refused
_STDERR_KEEP = 64 * 1024  # the tail of the inspector's stderr kept to explain a death
_CLOSE_PATIENCE = 5.0  # seconds a process may take to exit once told to
_MEMORY_MARKERS = ("MemoryError", "bad_alloc", "ResourceExhausted", "OOM when allocating", "Cannot allocate memory")


def _error(code: str, **params: Any) -> ModelReport:
    """A report saying why there is none: ``message`` as data (``model.*``), ``error`` its English words."""
    message = Message(f"model.{code}", params)
    return {"error": message.text("en"), "message": message.to_json()}


# -- the inspector process ------------------------------------------------------------------------
def _layer(layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    keep = ("units", "activation", "filters", "kernel_size", "strides", "padding", "pool_size", "use_bias")
    return {
        "name": layer.name,
        "class": type(layer).__name__,
        "params": int(layer.count_params()),
        "bias_params": int(sum(w.shape[0] for w in layer.weights if w.name.endswith("bias") or w.path.endswith("bias"))),
        "config": {k: config[k] for k in keep if k in config},
    }


def _evaluate(model: Any, folder: Path) -> dict[str, Any]:
    import numpy as np

    from ..course.reference.gender import load_faces

    size = int(model.input_shape[1])
    X, y, _ = load_faces(folder / "FaceScore.csv", folder / "images", size=size)
    if model.input_shape[-1] == 1:
        X = X.mean(axis=-1, keepdims=True)
    scores = np.asarray(model.predict(X, verbose=0))
    predicted = (scores[:, 0] > 0.5).astype(int) if scores.shape[-1] == 1 else scores.argmax(axis=-1)
    classes = int(y.max()) + 1 if len(y) else 0
    # confusion[true][predicted] over the data's classes; a prediction outside them (a Dense(10)
    # output's class 7) is counted in ``other`` of its true class.
    confusion = [[int(((y == t) & (predicted == p)).sum()) for p in range(classes)] for t in range(classes)]
    other = [int(((y == t) & ((predicted < 0) | (predicted >= classes))).sum()) for t in range(classes)]
    return {"accuracy": float((predicted == y).mean()), "n": int(len(y)), "confusion": confusion, "other": other}


def _is_memory(exc: BaseException) -> bool:
    """Whether a failure is the memory limit's doing; Keras may wrap TensorFlow's OOM in its own
    deserialization error, so the whole chain is looked at."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        text = f"{type(current).__name__}: {current}"
        if isinstance(current, MemoryError) or any(marker in text for marker in _MEMORY_MARKERS):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def _report(keras: Any, path: Path, evaluate: Path | None) -> ModelReport:
    """The report on one model file. A failure that comes from running out of memory propagates:
    the process's heap is no longer to be trusted, so it dies and the grader says why."""
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # any failure to load is the student's model's problem, reported as data
        if _is_memory(exc):
            raise
        return _error("unloadable", ename=type(exc).__name__[:100], evalue=str(exc)[:1400])
    report: ModelReport = {
        "layers": [_layer(layer) for layer in model.layers],
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
    }
    if evaluate is not None:
        try:
            report["evaluation"] = _evaluate(model, evaluate)
        except Exception as exc:
            if _is_memory(exc):
                raise
            # Only the accuracy depends on it: the layers above are still reported.
            report["evaluation"] = _error("unevaluable", ename=type(exc).__name__[:100], evalue=str(exc)[:1400])
    return report


def _serve(heldout: Path) -> None:
    """Answer requests from stdin until it closes. Replies go to a private duplicate of stdout;
    file descriptor 1 itself then points at stderr, so whatever a library prints cannot be
    mistaken for a reply."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    import keras

    for line in sys.stdin:
        try:
            request = json.loads(line)
            path, evaluate = Path(request["path"]), bool(request.get("evaluate", False))
        except (ValueError, KeyError, TypeError) as exc:
            reply: ModelReport = _error("bad_request", error=str(exc)[:500])
        else:
            try:
                reply = _report(keras, path, heldout if evaluate else None)
            except Exception as exc:
                if not _is_memory(exc):
                    raise
                sys.stderr.write(f"grader.run.inspect_model: out of memory: {type(exc).__name__}: {str(exc)[:500]}\n")
                sys.stderr.flush()
                os._exit(1)
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.run.inspect_model")
    parser.add_argument("model", nargs="?")
    parser.add_argument("--evaluate", metavar="DIR")
    parser.add_argument("--serve", action="store_true", help="answer JSON requests on stdin, one per line")
    parser.add_argument("--heldout", metavar="DIR", help="the held-out split (with --serve)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.serve:
        if args.heldout is None:
            parser.error("--serve needs --heldout")
        _serve(Path(args.heldout))
        return
    if args.model is None:
        parser.error("a model file, or --serve")
    import keras

    report = _report(keras, Path(args.model), Path(args.evaluate) if args.evaluate else None)
    print(json.dumps(report))


# -- the grader's side ----------------------------------------------------------------------------
class _BadReply(Exception):
    """Internal to :meth:`Inspector._ask`: a reply line that is no report; ``how`` says why, as a message."""

    def __init__(self, how: dict[str, Any]) -> None:
        super().__init__(how["code"])
        self.how = how


def _checked(report: ModelReport) -> ModelReport:
    """The process's reply with each ``error`` (of the report, of its evaluation) carrying a
    message the catalog words: the inspector's own (``model.*``), else its words as they are. The
    process read a student's model, so its reply is data like any other."""
    report = dict(report)
    for part in (report, report.get("evaluation")):
        if isinstance(part, dict) and "error" in part:
            part["error"] = str(part["error"])[:1500]
            message = part.get("message")
            known = received(message.get("code"), message.get("params"), "model.") if isinstance(message, dict) \
                else None
            part["message"] = (known or Message("text", {"text": part["error"]})).to_json()
    return report


class _Process:
    """One running inspector: its pipes, a reader thread per output, and its cgroup. stdout lines
    arrive on a queue (``None`` at its end), so waiting for a reply can have a deadline; stderr is
    drained all the time, keeping only its tail, so a chatty TensorFlow can never block on it."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, cgroup: Cgroup | None) -> None:
        self.cgroup = cgroup
        # Its own session, like a kernel: a Ctrl-C in the grader's terminal must not kill it and
        # turn into "the model inspector crashed" on a student's result.
        self.popen = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
        assert self.popen.stdin and self.popen.stdout and self.popen.stderr
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.tail = bytearray()
        self.killed = False
        self._readers = [threading.Thread(target=self._read_lines, args=(self.popen.stdout,), daemon=True),
                         threading.Thread(target=self._drain, args=(self.popen.stderr,), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_lines(self, stream: IO[bytes]) -> None:
        try:
            while line := stream.readline(_REPLY_LIMIT + 1):
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)

    def _drain(self, stream: IO[bytes]) -> None:
        try:
            while chunk := stream.read1(65536):
                self.tail += chunk
                del self.tail[:-_STDERR_KEEP]
        except (OSError, ValueError):
            pass

    def send(self, request: dict[str, Any]) -> bool:
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(json.dumps(request).encode() + b"\n")
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def kill(self) -> None:
        self.killed = True
        self.popen.kill()
        if self.cgroup is not None:
            self.cgroup.kill()

    def finish(self, patience: float = _CLOSE_PATIENCE) -> None:
        """Wait for the process to end (killing it after ``patience``), then for its readers, then
        remove its cgroup."""
        try:
            self.popen.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            self.kill()
            self.popen.wait()
        for reader in self._readers:
            reader.join(timeout=patience)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            try:
                stream.close() if stream is not None else None
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()

    def stderr_text(self) -> str:
        return bytes(self.tail).decode("utf-8", "replace")


class Inspector:
    """The model inspector of one submission (a context manager; see the module's docstring).

    Nothing starts until the first :meth:`inspect`. ``folder`` is private to the inspector (the
    kernel never sees it): each model is copied there before it is looked at, so the inspector
    reads a file the student's kernel can no longer change, and never follows a link. Replies are
    cached per model file: the parameter report and the accuracy look at the same trained model.
    """

    def __init__(self, folder: Path, *, heldout: Path, memory_mb: int, cpu_time: float, processes: int,
                 timeout: float, isolation: Isolation = "off", cpus: float | None = None,
                 scratch_mb: int = 1024) -> None:
        """``cpus`` and ``scratch_mb`` as for the submission's kernel: its CPU quota (a model that
        evaluates on every core must not slow a neighbour's cells) and the size of the private /tmp."""
        self.folder, self.heldout, self.timeout, self.isolation = folder, heldout, timeout, isolation
        self.memory_mb, self.cpu_time, self.processes = memory_mb, cpu_time, processes
        self.cpus, self.scratch_mb = cpus, scratch_mb
        #: the "user" isolation's account for the inspector (:data:`grader.run.sandbox.INSPECTOR_USER`),
        #: which needs its folder's parent passable (the submission's :class:`~grader.grade.workspace.Workspace` is)
        self.user: str | None = None
        if isolation == "user":
            from .sandbox import INSPECTOR_USER

            self.user = INSPECTOR_USER
        self.starts = 0  # processes started over this inspector's life
        self._process: _Process | None = None
        self._killed = False  # the class run is stopping (see kill)
        self._cache: dict[tuple[Path, bool], ModelReport] = {}
        self._copies = 0

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def memory_error(self) -> ModelReport:
        return _error("memory", limit=self.memory_mb)

    def inspect(self, path: Path, *, evaluate: bool = False) -> ModelReport:
        """The report on the model at ``path`` (with the held-out accuracy when ``evaluate``), or
        ``{"error": ...}`` saying why there is none. The copy is the decoder's (:func:`grader.run.decode.keep_model`:
        a regular file with one link, read through its descriptor), so a link is refused here too."""
        key = (path, evaluate)  # a submission's model files are the grader's, made once, out of the kernel's reach
        if key in self._cache:
            return self._cache[key]
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._copies += 1
        copy = keep_model(path, self.folder / f"model{self._copies}.keras")
        if isinstance(copy, Answer):
            refused = copy.reason or Message("text", {"text": copy.evalue})
            return {"error": copy.evalue, "message": refused.to_json()}
        if self.user is not None:  # the "user" isolation: the inspector's account reads the copy
            from .sandbox import hand_over

            hand_over(copy.path, self.user)
        self._cache[key] = self._ask({"path": str(copy.path), "evaluate": evaluate})
        return self._cache[key]

    def _ask(self, request: dict[str, Any]) -> ModelReport:
        """One request to the process, starting it if needed; its death or silence is the reply."""
        process = self._process or self._start()
        if not process.send(request):
            return self._dead(process)
        try:
            line = process.lines.get(timeout=self.timeout)
        except queue.Empty:
            log.info("model inspector: no reply within %g s, killing it", self.timeout)
            process.kill()
            self._stop()
            return _error("slow", limit=f"{self.timeout:g}")
        if line is None:
            return self._dead(process)
        try:
            if not line.endswith(b"\n"):
                raise _BadReply(nested("model.how.long_reply", limit=_REPLY_LIMIT))
            reply = json.loads(line)
            if not isinstance(reply, dict):
                raise _BadReply(nested("model.how.not_object"))
        except (ValueError, _BadReply) as exc:
            process.kill()
            self._stop()
            how = exc.how if isinstance(exc, _BadReply) else nested("model.how.not_json", error=str(exc)[:300])
            return _error("crashed", how=how)
        return _checked(reply)

    def _dead(self, process: _Process) -> ModelReport:
        """The reply for a request whose process died: memory when it looks like memory."""
        self._stop()
        status = process.popen.returncode
        text = process.stderr_text()
        if (status == -signal.SIGKILL and not process.killed) or any(m in text for m in _MEMORY_MARKERS):
            return self.memory_error
        if status is not None and status < 0:
            how = (nested("model.how.killed", signal=signal.Signals(-status).name) if -status in signal.valid_signals()
                   else nested("model.how.signal", signal=-status))
        else:
            how = nested("model.how.exit", status=f"{status}")
        last = [line.strip() for line in text.splitlines() if line.strip()][-1:]
        return _error("crashed_said", how=how, last=last[0][:300]) if last else _error("crashed", how=how)

    def _start(self) -> _Process:
        from . import sandbox

        cgroup = sandbox.Cgroup.create(self.memory_mb, self.processes, self.cpus)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        confinement = sandbox.Confinement(self.folder, sandbox.inspector_env(self.folder), (self.heldout,),
                                          self.memory_mb, self.cpu_time, self.processes, self.isolation,
                                          self.cpus, self.scratch_mb, self.user)
        command = [*sandbox.inspector_prefix(confinement, cgroup), *self._command()]
        try:
            self._process = _Process(command, dict(confinement.env), self.folder, cgroup)
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            raise
        if self._killed:  # killed while starting, when kill() found no process yet: the request gets its end
            self._process.kill()
        self.starts += 1
        log.debug("model inspector started (%s): pid %d", self.isolation, self._process.popen.pid)
        return self._process

    def _command(self) -> list[str]:
        """The inspector itself, inside its confinement (a test may put a stand-in here)."""
        return [sys.executable, "-m", "grader.run.inspect_model", "--serve", "--heldout", str(self.heldout)]

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.finish()
            if self.user is not None:  # a model's code may have forked away from its process group
                from .sandbox import end_processes_of

                end_processes_of(self.user)

    def kill(self) -> None:
        """Kill the running process, from any thread (the class run is stopping): a request
        waiting for it gets its end at once, and so does any later one. The job thread may have had
        its model from the kernel just before the kill, or be starting the process as it comes: a
        process started then, found here as none, would load TensorFlow and evaluate the model for
        a stopping run that waits for it. The flag is set before the process is looked up, and
        :meth:`_start` looks at it after setting the process, so one of the two sees the other."""
        self._killed = True
        process = self._process
        if process is not None:
            process.kill()

    def close(self) -> None:
        """End the process (closing its stdin ends its loop) and remove the private folder."""
        process = self._process
        if process is not None and process.popen.stdin is not None:
            try:
                process.popen.stdin.close()
            except OSError:
                pass
        self._stop()
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    _main()
