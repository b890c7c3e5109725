"""Calling the student's functions in their kernel and taking the answers back as data.

The grader writes each call's inputs into a fresh, randomly named folder of the scratch directory
(``numpy.save(..., allow_pickle=False)`` for arrays, JSON for the rest), sends one line of code that
calls the function by name, and reads the return value back the same way. Nothing is ever unpickled;
anything but plain numeric arrays, numbers, strings and JSON-like containers — object arrays, ndarray
subclasses, arrays beyond the size cap, arbitrary objects — is an "unsupported return value". The
expected answers never enter the kernel, and the comparison happens in the grader's process, so
nothing the student prints, patches or writes changes a score.

Reading the answers back is :mod:`grader.run.decode`'s job alone (the one trust boundary); this module
writes the inputs — the boundary's write side: through folder descriptors, following no link the
kernel may have planted (:func:`write_call`, :func:`discard`) — and holds the kernel's side.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import stat
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from .decode import MAX_ARRAY_BYTES
from ..judge.catalog import Message, nested
from .scratch import is_out_of_space
from ..course.spec import VALUE, FileArg, Var

__all__ = ["HARNESS_SOURCE", "VALUE", "ExchangeTampered", "call_source", "discard", "write_call"]

EXCHANGE = ".grader-exchange"
_INNER_CALLS = 4  # calls of each watched function kept per graded call (grader.run.decode reads 16 in all)
_NAME = "__cnn_grader__"

# Runs once in the kernel after the student's cells. It only moves data: it decodes the inputs,
# calls the function, and encodes whatever came back. Everything it writes is validated again by
# grader.run.decode.read_answer in the grader, so a student who patches it gains nothing.
HARNESS_SOURCE = f'''
def _cnn_grader_install():
    import copy, json, os, signal, sys, traceback, types
    import numpy

    MAX_BYTES = {MAX_ARRAY_BYTES}

    class Unsupported(Exception):  # the reason as a catalog code (harness.*) and its English words
        def __init__(self, code, words, **params):
            super().__init__(words)
            self.code, self.params = "harness." + code, params

    class CallTimeout(BaseException):  # not an Exception: a student's `except Exception` cannot swallow it
        pass

    def on_alarm(signum, frame):
        raise CallTimeout()

    user_ns = get_ipython().user_ns

    def decode(value, folder):
        if isinstance(value, dict):
            if "__ndarray__" in value:
                return numpy.load(os.path.join(folder, value["__ndarray__"]), allow_pickle=False)
            if "__tuple__" in value:
                return tuple(decode(v, folder) for v in value["__tuple__"])
            if "__dict__" in value:
                return {{k: decode(v, folder) for k, v in value["__dict__"].items()}}
            if "__float__" in value:
                return float(value["__float__"])
            if "__var__" in value:
                if value["__var__"] not in user_ns:
                    raise NameError(f"the notebook defines no variable {{value['__var__']!r}}")
                return user_ns[value["__var__"]]
            if "__file__" in value:
                return os.path.join(folder, "files", value["__file__"])
        if isinstance(value, list):
            return [decode(v, folder) for v in value]
        return value

    def encode(value, folder, counter):
        if type(value) is numpy.ndarray:
            if value.dtype.kind == "c":
                raise Unsupported("complex_array",
                                  f"complex numbers are not graded (an array of dtype {{value.dtype}})",
                                  dtype=str(value.dtype))
            if value.dtype.kind not in "biuf":
                raise Unsupported("dtype", f"an array of dtype {{value.dtype}} (only numbers are graded)",
                                  dtype=str(value.dtype)[:100])
            if value.nbytes > MAX_BYTES:
                raise Unsupported("too_big", f"an array of {{value.nbytes}} bytes (the limit is {{MAX_BYTES}})",
                                  bytes=int(value.nbytes), limit=MAX_BYTES)
            name = f"r{{len(counter)}}.npy"
            counter.append(name)
            numpy.save(os.path.join(folder, name), value, allow_pickle=False)
            return {{"__ndarray__": name}}
        if isinstance(value, numpy.ndarray):
            raise Unsupported("subclass", f"an ndarray subclass ({{type(value).__name__}}); return a plain numpy array",
                              type=type(value).__name__[:100])
        if isinstance(value, numpy.generic) and value.dtype.kind in "biuf":
            value = value.item()
        if type(value) is complex or isinstance(value, numpy.complexfloating):
            raise Unsupported("complex_value", f"complex numbers are not graded (the value {{value!r}})"[:300],
                              value=repr(value)[:200])
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value if value == value and abs(value) != float("inf") else {{"__float__": repr(value)}}
        if type(value) is tuple:
            return {{"__tuple__": [encode(v, folder, counter) for v in value]}}
        if type(value) is list:
            return [encode(v, folder, counter) for v in value]
        if type(value) is dict and all(type(k) is str for k in value):
            return {{"__dict__": {{k: encode(v, folder, counter) for k, v in value.items()}}}}
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(value, keras.Model):
            name = f"m{{len(counter)}}.keras"
            counter.append(name)
            value.save(os.path.join(folder, name))
            return {{"__keras__": name}}
        if keras is not None and isinstance(value, keras.callbacks.History):  # what model.fit returns
            return encode(value.history, folder, counter)
        name = f"{{type(value).__module__}}.{{type(value).__qualname__}}"[:200]
        raise Unsupported("type", f"a value of type {{name}}", type=name)

    def write(folder, record):
        with open(os.path.join(folder, "answer.json"), "w", encoding="utf-8") as f:
            json.dump(record, f)

    def watching(names, seen):
        # The student's own earlier functions `names` (the grader asks for the ones that lost points and
        # that this function calls), each replaced for the call by a wrapper that keeps copies of its
        # first calls' arguments and answers: the grader checks those answers against their reference.
        kept = {{}}
        for watched in names:
            real = user_ns.get(watched)
            if not callable(real) or watched == "{VALUE}":
                continue
            def spy(*args, _real=real, _name=watched, **kwargs):
                value = _real(*args, **kwargs)
                calls = seen.setdefault(_name, [])
                if len(calls) < {_INNER_CALLS}:
                    try:
                        calls.append(copy.deepcopy((args, kwargs, value)))
                    except Exception:
                        pass
                return value
            kept[watched] = real
            user_ns[watched] = spy
        return kept

    def inner_calls(seen, folder, counter):
        # Encoded like the answer, sharing its file counter (one name each); a model is not worth saving.
        keras = sys.modules.get("keras")
        records = []
        for watched, calls in seen.items():
            for args, kwargs, value in calls:
                if keras is not None and isinstance(value, keras.Model):
                    continue
                try:
                    records.append({{"function": watched, "args": encode(list(args), folder, counter),
                                    "kwargs": encode(dict(kwargs), folder, counter),
                                    "value": encode(value, folder, counter)}})
                except Exception:
                    continue
        return records

    def call(name, folder, seconds, watch=()):
        with open(os.path.join(folder, "call.json"), encoding="utf-8") as f:
            spec = json.load(f)
        function = (lambda value: value) if name == "{VALUE}" else user_ns.get(name)
        if not callable(function):
            return write(folder, {{"status": "missing"}})
        try:
            args = [decode(a, folder) for a in spec["args"]]
            kwargs = {{k: decode(v, folder) for k, v in spec["kwargs"].items()}}
        except NameError as exc:
            return write(folder, {{"status": "missing", "evalue": str(exc)}})
        seen = {{}}
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        kept = watching([w for w in watch if w != name], seen)
        try:
            value = function(*args, **kwargs)
        except CallTimeout:
            write(folder, {{"status": "timeout"}})
            return "timeout"
        except Exception as exc:
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            return write(folder, {{"status": "error", "ename": type(exc).__name__,
                                   "evalue": str(exc)[:2000], "traceback": "".join(tb[-6:])[-6000:]}})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            user_ns.update(kept)
        counter = []
        try:
            record = {{"status": "ok", "value": encode(value, folder, counter)}}
        except Unsupported as exc:
            return write(folder, {{"status": "unsupported", "evalue": str(exc), "code": exc.code, "params": exc.params}})
        except Exception as exc:
            return write(folder, {{"status": "unsupported", "evalue": f"could not be saved: {{exc}}"[:2000],
                                   "code": "harness.not_saved", "params": {{"error": str(exc)[:1900]}}}})
        if seen:
            record["inner"] = inner_calls(seen, folder, counter)
        write(folder, record)

    def call_all(name, folders, seconds, watch=()):
        # Each call gets its own wall-clock alarm; after one runs out the function is not called again.
        for folder in folders:
            try:
                if call(name, folder, seconds, watch) == "timeout":
                    break
            except CallTimeout:  # the alarm rang just as the call was ending
                write(folder, {{"status": "timeout"}})
                break

    return types.SimpleNamespace(call_all=call_all)

{_NAME} = _cnn_grader_install()
del _cnn_grader_install
'''


# --- writing into the scratch folder ------------------------------------------------------------
#
# The grader runs outside the sandbox (often as root) and the scratch folder is the kernel's: its
# code, or a process it left running, can replace ``.grader-exchange`` or a call's fresh folder by
# a symbolic link (to /etc, to the instructor's out/, to a classmate's scratch) at any moment, and
# watch for the grader's folders with inotify. So nothing here follows a link: the scratch folder,
# ``.grader-exchange`` and the call's folder are held as descriptors opened with O_NOFOLLOW, each
# file is created with O_EXCL | O_NOFOLLOW relative to its folder's descriptor and written through
# its own descriptor, and folders are removed with shutil.rmtree relative to a descriptor (which on
# Linux never follows a link either). Whatever the kernel swaps, the grader writes only into real
# folders below the scratch folder, or not at all: ExchangeTampered, that call's failure.

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_ATTEMPTS = 3  # times a replaced .grader-exchange is removed and made again before the call is given up


class ExchangeTampered(Exception):
    """The call's inputs could not be written: the kernel replaced the exchange folder (or the call's
    folder) by a link or something that is not a folder, or removed it. ``message`` says which, as a
    catalog message (``exchange.*``); the exception's text is its English words."""

    def __init__(self, code: str, **params: Any) -> None:
        self.message = Message(f"exchange.{code}", params)
        super().__init__(self.message.text("en"))


def _open_dir(name: str, dir_fd: int | None = None) -> int:
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


@contextmanager
def _closing(fd: int) -> Iterator[int]:
    try:
        yield fd
    finally:
        os.close(fd)


def _what(dir_fd: int, name: str) -> str:
    """What ``name`` is now (``missing``, ``link``, ``folder``, ``other``), never following it; a
    nested ``exchange.what.*`` message says it in words."""
    try:
        mode = os.lstat(name, dir_fd=dir_fd).st_mode
    except OSError:
        return "missing"
    if stat.S_ISLNK(mode):
        return "link"
    return "folder" if stat.S_ISDIR(mode) else "other"


def _words(what: str) -> dict[str, Any]:
    return nested(f"exchange.what.{what}")


def _exchange_fd(scratch_fd: int) -> int:
    """A descriptor of the real folder ``.grader-exchange`` in the scratch folder. A link, file or
    unusable folder in its place is removed (the link itself, never what it points to) or moved
    aside, and the folder made again; a kernel that keeps replacing it gets :class:`ExchangeTampered`."""
    seen = []
    for _ in range(_ATTEMPTS):
        try:
            os.mkdir(EXCHANGE, 0o777, dir_fd=scratch_fd)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ExchangeTampered("not_made", folder=EXCHANGE, reason=exc.strerror or type(exc).__name__) from None
        try:
            return _open_dir(EXCHANGE, scratch_fd)
        except OSError:
            pass
        what = _what(scratch_fd, EXCHANGE)
        seen.append(what)
        try:
            if what == "folder":  # one the grader cannot open (its permissions were changed)
                os.rename(EXCHANGE, f"{EXCHANGE}.{secrets.token_hex(4)}", src_dir_fd=scratch_fd, dst_dir_fd=scratch_fd)
            elif what != "missing":
                os.unlink(EXCHANGE, dir_fd=scratch_fd)  # unlinkat: removes a link, never its target
        except OSError as exc:
            raise ExchangeTampered("not_removed", folder=EXCHANGE, what=_words(what),
                                   reason=exc.strerror or type(exc).__name__) from None
    raise ExchangeTampered("replaced_again", folder=EXCHANGE,
                           seen=[_words(w) for w in seen])


def _made_dir(parent_fd: int, name: str) -> int:
    """Open the folder ``name`` of ``parent_fd`` that this process has just made: the real, empty
    folder, not a link or another folder put in its place since (the kernel can watch with inotify)."""
    try:
        made = os.lstat(name, dir_fd=parent_fd)
        fd = _open_dir(name, parent_fd)
    except OSError:
        raise ExchangeTampered("new_replaced", folder=name, what=_words(_what(parent_fd, name))) from None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISDIR(made.st_mode) or (info.st_dev, info.st_ino) != (made.st_dev, made.st_ino)
                or info.st_uid != os.geteuid() or os.listdir(fd)):
            raise ExchangeTampered("new_replaced_early", folder=name)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _give_like(fd: int, scratch_fd: int) -> None:
    """Give the call's folder to whoever owns the scratch folder: the kernel writes its answer there,
    and under the "user" isolation (:mod:`grader.run.sandbox`) it runs as another user than the
    grader's. Nothing changes when the grader owns the scratch folder (bubblewrap, or no sandbox)."""
    owner = os.fstat(scratch_fd)
    if (owner.st_uid, owner.st_gid) != (os.geteuid(), os.getegid()):
        os.fchown(fd, owner.st_uid, owner.st_gid)


def _new_file(dir_fd: int, name: str) -> io.BufferedWriter:
    """A new file ``name`` in ``dir_fd``, open for writing: never an existing file or a link's target."""
    return os.fdopen(os.open(name, _NEW_FILE, 0o666, dir_fd=dir_fd), "wb")


def _copy_tree(source: Path, parent_fd: int, name: str) -> None:
    """Copy the grader's own folder ``source`` (trusted: read as ``shutil.copytree`` reads it) into
    the folder ``name`` just made in ``parent_fd``, each folder and file made through descriptors."""
    with _closing(_made_dir(parent_fd, name)) as fd:
        for entry in sorted(os.scandir(source), key=lambda e: e.name):
            if entry.is_dir():
                os.mkdir(entry.name, 0o777, dir_fd=fd)
                _copy_tree(Path(entry.path), fd, entry.name)
            elif entry.is_file():
                with open(entry.path, "rb") as src, _new_file(fd, entry.name) as dst:
                    shutil.copyfileobj(src, dst)


def _encode(value: Any, dir_fd: int, counter: list[str]) -> Any:
    if isinstance(value, Var):
        return {"__var__": value.name}
    if isinstance(value, FileArg):
        return {"__file__": value.path}
    if isinstance(value, np.ndarray):
        name = f"a{len(counter)}.npy"
        counter.append(name)
        with _new_file(dir_fd, name) as f:
            np.save(f, np.ascontiguousarray(value), allow_pickle=False)
        return {"__ndarray__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, dir_fd, counter) for v in value]}
    if isinstance(value, list):
        return [_encode(v, dir_fd, counter) for v in value]
    if isinstance(value, Mapping):
        return {"__dict__": {str(k): _encode(v, dir_fd, counter) for k, v in value.items()}}
    if isinstance(value, Path):
        return str(value)
    return value


def write_call(scratch: Path, args: Sequence[Any], kwargs: Mapping[str, Any], files: Path | None = None) -> Path:
    """A fresh, unguessable exchange folder holding one call's inputs (and a copy of the case's
    data files, so the kernel never needs to see the grader's own folders); returns the folder.

    Raises :class:`ExchangeTampered` when the kernel's replacements leave no real folder to write
    into (a folder half written by then is removed). Nothing is written anywhere else."""
    name = secrets.token_hex(8)
    try:  # the scratch folder's parents are the grader's, out of the kernel's reach
        with _closing(_open_dir(str(scratch))) as scratch_fd, _closing(_exchange_fd(scratch_fd)) as exchange_fd:
            try:
                os.mkdir(name, 0o777, dir_fd=exchange_fd)
            except FileExistsError:  # a folder of that random name was put there first
                raise ExchangeTampered("there_before", folder=name) from None
            try:
                with _closing(_made_dir(exchange_fd, name)) as folder_fd:
                    _give_like(folder_fd, scratch_fd)
                    if files is not None:
                        os.mkdir("files", 0o777, dir_fd=folder_fd)
                        _copy_tree(files, folder_fd, "files")
                    counter: list[str] = []
                    spec = {"args": [_encode(a, folder_fd, counter) for a in args],
                            "kwargs": {k: _encode(v, folder_fd, counter) for k, v in kwargs.items()}}
                    with _new_file(folder_fd, "call.json") as f:
                        f.write(json.dumps(spec).encode("utf-8"))
            except BaseException:
                _remove(exchange_fd, name)
                raise
    except OSError as exc:  # a folder vanished or lost its permissions under the grader
        if is_out_of_space(exc):
            raise  # the student filled the exchange folder: the caller says so in those words
        raise ExchangeTampered("not_written", reason=exc.strerror or type(exc).__name__) from None
    return scratch / EXCHANGE / name


def call_source(function: str, folders: Sequence[Path], seconds: float, watch: Sequence[str] = ()) -> str:
    """The one line the kernel runs to call ``function`` once per exchange folder, in order, each
    call under its own ``seconds`` alarm: one round trip for all the cases of a question. ``watch``
    names the student's own functions whose first calls from within ``function`` are sent back too
    (their arguments and answers, ``"inner"`` of the answer record)."""
    names = [str(w) for w in watch if str(w).isidentifier()]
    return f"{_NAME}.call_all({function!r}, {[str(f) for f in folders]!r}, {float(seconds)!r}, {names!r})"


def _remove(parent_fd: int, name: str) -> None:
    """Remove ``name`` from ``parent_fd``: a folder with everything in it, a link or file itself."""
    try:
        if stat.S_ISDIR(os.lstat(name, dir_fd=parent_fd).st_mode):
            shutil.rmtree(name, ignore_errors=True, dir_fd=parent_fd)  # never follows a link (Linux)
        else:
            os.unlink(name, dir_fd=parent_fd)
    except OSError:
        pass


def discard(folder: Path) -> None:
    """Remove one call's exchange folder, ``<scratch>/.grader-exchange/<call>`` as :func:`write_call`
    returned it (the kernel may have left anything in it, or put a link in its place). Nothing is
    followed: if ``.grader-exchange`` is no longer a real folder, there is nothing of the call's to remove."""
    scratch = folder.parent.parent
    try:
        scratch_fd = _open_dir(str(scratch))
    except OSError:
        return
    try:
        exchange_fd = _open_dir(EXCHANGE, scratch_fd)
    except OSError:
        return
    finally:
        os.close(scratch_fd)
    try:
        _remove(exchange_fd, folder.name)
    finally:
        os.close(exchange_fd)
