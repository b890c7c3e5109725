"""Calling the student's functions in their kernel and taking the answers back as data.

The grader writes each call's inputs into a fresh, randomly named folder of the scratch directory
(``numpy.save(..., allow_pickle=False)`` for arrays, JSON for the rest), sends one line of code that
calls the function by name, and reads the return value back the same way. Nothing is ever unpickled;
anything but plain numeric arrays, numbers, strings and JSON-like containers — object arrays, ndarray
subclasses, arrays beyond the size cap, arbitrary objects — is an "unsupported return value". The
expected answers never enter the kernel, and the comparison happens in the grader's process, so
nothing the student prints, patches or writes changes a score.

Reading the answers back is :mod:`grader.decode`'s job alone (the one trust boundary); this module
only writes the inputs and holds the kernel's side.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .decode import MAX_ARRAY_BYTES
from .spec import FileArg, Var

__all__ = ["HARNESS_SOURCE", "VALUE", "call_source", "discard", "write_call"]

EXCHANGE = ".grader-exchange"
_NAME = "__cnn_grader__"
VALUE = "__value__"  # the pseudo-function that returns its argument: fetches a notebook variable

# Runs once in the kernel after the student's cells. It only moves data: it decodes the inputs,
# calls the function, and encodes whatever came back. Everything it writes is validated again by
# grader.decode.read_answer in the grader, so a student who patches it gains nothing.
HARNESS_SOURCE = f'''
def _cnn_grader_install():
    import json, os, signal, sys, traceback, types
    import numpy

    MAX_BYTES = {MAX_ARRAY_BYTES}

    class Unsupported(Exception):
        pass

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
                raise Unsupported(f"complex numbers are not graded (an array of dtype {{value.dtype}})")
            if value.dtype.kind not in "biuf":
                raise Unsupported(f"an array of dtype {{value.dtype}} (only numbers are graded)")
            if value.nbytes > MAX_BYTES:
                raise Unsupported(f"an array of {{value.nbytes}} bytes (the limit is {{MAX_BYTES}})")
            name = f"r{{len(counter)}}.npy"
            counter.append(name)
            numpy.save(os.path.join(folder, name), value, allow_pickle=False)
            return {{"__ndarray__": name}}
        if isinstance(value, numpy.ndarray):
            raise Unsupported(f"an ndarray subclass ({{type(value).__name__}}); return a plain numpy array")
        if isinstance(value, numpy.generic) and value.dtype.kind in "biuf":
            value = value.item()
        if type(value) is complex or isinstance(value, numpy.complexfloating):
            raise Unsupported(f"complex numbers are not graded (the value {{value!r}})"[:300])
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
        raise Unsupported(f"a value of type {{type(value).__module__}}.{{type(value).__qualname__}}")

    def write(folder, record):
        with open(os.path.join(folder, "answer.json"), "w", encoding="utf-8") as f:
            json.dump(record, f)

    def call(name, folder, seconds):
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
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
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
        try:
            write(folder, {{"status": "ok", "value": encode(value, folder, [])}})
        except Unsupported as exc:
            write(folder, {{"status": "unsupported", "evalue": str(exc)}})
        except Exception as exc:
            write(folder, {{"status": "unsupported", "evalue": f"could not be saved: {{exc}}"[:2000]}})

    def call_all(name, folders, seconds):
        # Each call gets its own wall-clock alarm; after one runs out the function is not called again.
        for folder in folders:
            try:
                if call(name, folder, seconds) == "timeout":
                    break
            except CallTimeout:  # the alarm rang just as the call was ending
                write(folder, {{"status": "timeout"}})
                break

    return types.SimpleNamespace(call_all=call_all)

{_NAME} = _cnn_grader_install()
del _cnn_grader_install
'''


def _encode(value: Any, folder: Path, counter: list[str]) -> Any:
    if isinstance(value, Var):
        return {"__var__": value.name}
    if isinstance(value, FileArg):
        return {"__file__": value.path}
    if isinstance(value, np.ndarray):
        name = f"a{len(counter)}.npy"
        counter.append(name)
        np.save(folder / name, np.ascontiguousarray(value), allow_pickle=False)
        return {"__ndarray__": name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, folder, counter) for v in value]}
    if isinstance(value, list):
        return [_encode(v, folder, counter) for v in value]
    if isinstance(value, Mapping):
        return {"__dict__": {str(k): _encode(v, folder, counter) for k, v in value.items()}}
    if isinstance(value, Path):
        return str(value)
    return value


def write_call(scratch: Path, args: Sequence[Any], kwargs: Mapping[str, Any], files: Path | None = None) -> Path:
    """A fresh, unguessable exchange folder holding one call's inputs (and a copy of the case's
    data files, so the kernel never needs to see the grader's own folders); returns the folder."""
    folder = scratch / EXCHANGE / secrets.token_hex(8)
    folder.mkdir(parents=True)
    if files is not None:
        shutil.copytree(files, folder / "files")
    counter: list[str] = []
    spec = {"args": [_encode(a, folder, counter) for a in args],
            "kwargs": {k: _encode(v, folder, counter) for k, v in kwargs.items()}}
    (folder / "call.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def call_source(function: str, folders: Sequence[Path], seconds: float) -> str:
    """The one line the kernel runs to call ``function`` once per exchange folder, in order, each
    call under its own ``seconds`` alarm: one round trip for all the cases of a question."""
    return f"{_NAME}.call_all({function!r}, {[str(f) for f in folders]!r}, {float(seconds)!r})"


def discard(folder: Path) -> None:
    """Remove one call's exchange folder (the kernel may have left anything in it)."""
    shutil.rmtree(folder, ignore_errors=True)
