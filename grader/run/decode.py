"""The one trust boundary: everything the grader reads back from a student's scratch folder.

The kernel runs the student's code, and that code can write anything into its scratch folder —
including the exchange folder the harness answers through: a symbolic link to ``/etc/passwd`` or a
classmate's model (resolved in the *grader's* file system, not the sandbox's), a named pipe that
would block a reader forever, a hard link, a ``.npy`` header that claims a terabyte, JSON nested
deeper than the C scanner's recursion, integers no float can hold. Like CPython's ``zipfile``
limits or SQLite's record decoder, this module has one narrow entry per kind of read that checks
every size before allocating, and it can only return a value or a typed failure:

- :func:`read_answer` — one call's ``answer.json`` and the ``r<n>.npy`` arrays it refers to, as an
  :class:`Answer`; anything refused is ``Answer("unsupported", evalue=<reason>)``, which the grading
  engine turns into that call's "unsupported return value" failure.
- :func:`keep_model` — a private copy of a returned ``m<n>.keras`` file, taken from the opened
  file, so the inspector never evaluates a link's target or a file the kernel can still change.

Files are opened with ``O_NOFOLLOW | O_NONBLOCK`` relative to a folder descriptor (itself opened
without following links below the trusted folder), checked with ``lstat`` and again with ``fstat``
on the open descriptor (regular, one link, within the size cap), and read with a bounded read. Any
exception nobody foresaw is caught at the entry, logged, and reported as an unsupported value
naming the exception type: one bad answer never costs the other questions.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..judge.catalog import Message, nested, received

__all__ = [
    "Answer", "InnerCall", "KerasFile", "MAX_ARRAY_BYTES", "MAX_DEPTH", "MAX_JSON_BYTES", "MAX_MODEL_BYTES",
    "keep_model", "read_answer",
]

log = logging.getLogger(__name__)

MAX_ARRAY_BYTES = 64 * 1024 * 1024  # one returned array's data
MAX_ANSWER_BYTES = 256 * 1024 * 1024  # all the arrays of one answer together
MAX_JSON_BYTES = 4 * 1024 * 1024  # answer.json
MAX_MODEL_BYTES = 256 * 1024 * 1024  # one .keras file
MAX_DEPTH = 32  # nesting of the decoded value (lists, tuples, dicts)
MAX_STRING = 100_000  # characters of one string in an answer
MAX_NDIM = 32
MAX_INNER_CALLS = 16  # watched inner calls read back per answer (the harness keeps 2 per function)
_JSON_DEPTH = 2 * MAX_DEPTH + 4  # a tuple or dict record is two JSON levels ({"__tuple__": [...]})
_MAX_HEADER = 4096  # a numeric array's .npy header is about 128 bytes
_FLOAT_MAX = sys.float_info.max
_INT_DIGITS = len(str(int(_FLOAT_MAX)))  # 309: more digits is beyond float64 whatever they are
_ARRAY_NAME = re.compile(r"r[0-9]{1,6}\.npy")  # the names the harness gives (grader/run/harness.py)
_MODEL_NAME = re.compile(r"m[0-9]{1,6}\.keras")
# numpy.lib.format's header of a plain array: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
# padded with spaces to a multiple of 64 bytes and ended by a newline.
_NPY_HEADER = re.compile(r"\{'descr': '([^'\\]{1,32})', 'fortran_order': (True|False), "
                         r"'shape': \(((?:[0-9]{1,30}, )*[0-9]{1,30},?|)\), \} *\n")
_NUMERIC = re.compile(r"[<>|=]([biufc])([0-9]{1,2})")  # bool, int, uint, float (complex: refused by name)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """What a call returned, as the grader read it: a value (``ok``) or why there is none."""

    status: Literal["ok", "error", "missing", "unsupported", "lost", "timeout"]
    value: Any = None
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    reason: Message | None = None  # why there is no value, as a catalog message (``evalue`` its English)
    inner: tuple[InnerCall, ...] = ()  # the first calls of the student's own functions the grader watched


@dataclass(frozen=True)
class InnerCall:
    """A call the graded function made to another function of the student's that the grader watched
    (:func:`grader.run.harness.call_source`'s ``watch``): what it was given and what it answered."""

    function: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    value: Any


@dataclass(frozen=True)
class KerasFile:
    """A Keras model the student's code returned, saved as ``.keras``; only inspected out of process."""

    path: Path


class _Refused(Exception):
    """Internal: a reason to refuse what was read, as a catalog message (``refused.*``) whose
    English words are the exception's text. Never leaves this module."""

    def __init__(self, code: str, **params: Any) -> None:
        self.message = Message(f"refused.{code}", params)
        super().__init__(self.message.text("en"))


def _refused(exc: _Refused) -> Answer:
    return Answer("unsupported", evalue=str(exc), reason=exc.message)


def _unreadable(file: str, exc: Exception) -> Answer:
    """An exception nobody foresaw while reading ``file``: the answer is unsupported, naming its type."""
    message = Message("refused.unreadable", {"name": file, "exception": type(exc).__name__})
    return Answer("unsupported", evalue=message.text("en"), reason=message)


@dataclass
class _Reading:
    """The state of decoding one answer: the exchange folder's descriptor and the arrays' budget."""

    dir_fd: int
    folder: Path
    seen: set[str] = field(default_factory=set)
    array_bytes: int = 0


# --- entry points --------------------------------------------------------------------------------


def read_answer(folder: Path, *, within: Path | None = None) -> Answer:
    """Read and validate what the kernel wrote for one call. Never raises (except KeyboardInterrupt).

    ``within`` is the trusted folder ``folder`` lies below (the scratch folder): every component
    between them is opened without following symbolic links, since the kernel may have replaced
    ``.grader-exchange`` or the call's folder by a link. Without it only ``folder`` itself is."""
    try:
        return _read_answer(folder, within)
    except _Refused as exc:
        return _refused(exc)
    except Exception as exc:  # a path nobody foresaw: still only this call's failure
        log.warning("unexpected failure reading the answer in %s", folder, exc_info=True)
        return _unreadable("answer.json", exc)


def keep_model(source: Path, dest: Path, *, within: Path | None = None) -> KerasFile | Answer:
    """Copy the ``.keras`` file ``source`` to ``dest`` (a new file in a folder out of the kernel's
    reach) and return it, or the unsupported :class:`Answer` saying why not. Never raises.

    The copy is read from the opened descriptor of a regular file with one link, so a symbolic link
    to a classmate's model, a hard link or a pipe is refused, and the kernel cannot change the file
    after it was checked. ``within`` as for :func:`read_answer`."""
    try:
        return _keep_model(source, dest, within)
    except _Refused as exc:
        return _refused(exc)
    except Exception as exc:
        log.warning("unexpected failure copying the model %s", source, exc_info=True)
        return _unreadable(source.name, exc)


# --- files ---------------------------------------------------------------------------------------


def _size(n: int) -> str:
    """A byte count in words: 64 MB, 7.3 TB."""
    value, unit = float(n), "bytes"
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB", "EB"):
        if value < 1024 or unit == "EB":
            break
        value /= 1024
    if unit == "bytes":
        return f"{n:,} bytes"
    return f"{value:.1f} {unit}" if value < 10 and value != int(value) else f"{value:.0f} {unit}"


def _open_folder(folder: Path, within: Path | None) -> int:
    """A descriptor of ``folder``; the components below ``within`` (or ``folder`` alone) must be
    real folders, not links. Raises :class:`_Refused`, or FileNotFoundError when one is missing."""
    if within is None:
        start, parts = folder.parent, (folder.name,)
    else:
        start, parts = within, folder.relative_to(within).parts
    fd = os.open(start, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    for part in parts:
        try:
            info = os.lstat(part, dir_fd=fd)
            if stat.S_ISLNK(info.st_mode):
                raise _Refused("folder_link", folder=part)
            if not stat.S_ISDIR(info.st_mode):
                raise _Refused("folder_not_dir", folder=part)
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:  # its permissions were changed, or it was swapped since the lstat
                raise _Refused("folder_unopenable", folder=part, reason=exc.strerror or type(exc).__name__) from None
        finally:
            os.close(fd)
        fd = inner
    return fd


def _kind(mode: int) -> dict[str, Any]:
    """What a file that is not a regular one is, as a nested message (``refused.kind.*``)."""
    if stat.S_ISLNK(mode):
        return nested("refused.kind.link")
    if stat.S_ISDIR(mode):
        return nested("refused.kind.folder")
    if stat.S_ISFIFO(mode):
        return nested("refused.kind.fifo")
    if stat.S_ISSOCK(mode):
        return nested("refused.kind.socket")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return nested("refused.kind.device")
    return nested("refused.kind.other")


def _check(name: str, info: os.stat_result, limit: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not_file", name=name, kind=_kind(info.st_mode))
    if info.st_nlink != 1:
        raise _Refused("hard_links", name=name, links=info.st_nlink)
    if info.st_size > limit:
        raise _Refused("too_large", name=name, size=_size(info.st_size), limit=_size(limit))


def _lstat(dir_fd: int, name: str, limit: int) -> os.stat_result:
    """The checked ``lstat`` of ``name``: a link is refused naming its target, without following it."""
    info = os.lstat(name, dir_fd=dir_fd)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(name, dir_fd=dir_fd)
        except OSError:
            target = "?"
        raise _Refused("symlink", name=name, target=repr(target[:200]))
    _check(name, info, limit)
    return info


def _open_regular(dir_fd: int, name: str, limit: int) -> tuple[int, int]:
    """``(descriptor, size)`` of the regular file ``name`` in ``dir_fd``: checked before it is
    opened (so a device is never opened) and again on the descriptor (so it was not swapped)."""
    before = _lstat(dir_fd, name, limit)
    try:
        fd = os.open(name, _FLAGS, dir_fd=dir_fd)
    except OSError as exc:  # ELOOP: it became a link since the lstat
        raise _Refused("unopenable", name=name, reason=exc.strerror or type(exc).__name__) from None
    try:
        info = os.fstat(fd)
        _check(name, info, limit)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            raise _Refused("replaced", name=name)
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def _chunks(fd: int, name: str, size: int) -> Any:
    """The file's bytes in chunks, never more than the ``size`` checked on the descriptor."""
    left = size
    while left > 0:
        chunk = os.read(fd, min(_CHUNK, left))
        if not chunk:
            raise _Refused("shrank", name=name)
        left -= len(chunk)
        yield chunk
    if os.read(fd, 1):
        raise _Refused("grew", name=name)


def _read(dir_fd: int, name: str, limit: int) -> bytes:
    fd, size = _open_regular(dir_fd, name, limit)
    try:
        return b"".join(_chunks(fd, name, size))
    finally:
        os.close(fd)


# --- answer.json ---------------------------------------------------------------------------------


def _json_depth(data: bytes) -> int:
    """How deep ``[``/``{`` nest outside strings: checked before ``json.loads``, whose C scanner
    recurses once per level (200,000 levels are a RecursionError, or worse, inside the parser)."""
    bare = np.frombuffer(_JSON_STRING.sub(b'""', data), np.uint8)
    step = np.zeros(bare.shape, np.int32)
    step[(bare == ord("[")) | (bare == ord("{"))] = 1
    step[(bare == ord("]")) | (bare == ord("}"))] = -1
    return int(np.cumsum(step).max(initial=0))


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _INT_DIGITS or abs(value := int(text)) > _FLOAT_MAX:
        raise _Refused("big_int", digits=f"{digits:,}", max=f"{_FLOAT_MAX:.3g}")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # `1e400`: float() would make it an infinity the call never returned
        raise _Refused("big_float", number=text[:40], max=f"{_FLOAT_MAX:.3g}")
    return value


def _parse_constant(text: str) -> Any:
    raise _Refused("literal", literal=text[:40])


def _load_json(data: bytes) -> Any:
    if not data:
        raise _Refused("empty", name="answer.json")
    depth = _json_depth(data)
    if depth > _JSON_DEPTH:
        raise _Refused("json_depth", depth=f"{depth:,}", limit=_JSON_DEPTH)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused("not_utf8", byte=f"{exc.start:,}") from None
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise _Refused("bad_json", problem=exc.msg, line=exc.lineno, column=exc.colno) from None


def _text(value: Any, limit: int) -> str:
    return (value if isinstance(value, str) else str(value))[:limit]


def _no_answer() -> Answer:
    message = Message("refused.no_answer")
    return Answer("lost", evalue=message.text("en"), reason=message)


def _read_answer(folder: Path, within: Path | None) -> Answer:
    try:
        dir_fd = _open_folder(folder, within)
    except (FileNotFoundError, NotADirectoryError):
        return _no_answer()
    try:
        try:
            data = _read(dir_fd, "answer.json", MAX_JSON_BYTES)
        except FileNotFoundError:
            return _no_answer()
        record = _load_json(data)
        if not isinstance(record, dict) or "status" not in record:
            raise _Refused("not_record")
        status = record["status"]
        if status == "ok":
            if "value" not in record:
                raise _Refused("no_value")
            reading = _Reading(dir_fd, folder)
            value = _decode(record["value"], reading, 0)
            return Answer("ok", value, inner=_inner_calls(record.get("inner"), reading))
        if status == "timeout":
            return Answer("timeout")
        if status in ("error", "missing", "unsupported"):
            return Answer(status, ename=_text(record.get("ename", ""), 200),
                          evalue=_text(record.get("evalue", ""), 2000),
                          traceback=_text(record.get("traceback", ""), 6000),
                          reason=_harness_reason(record) if status == "unsupported" else None)
        raise _Refused("status", status=repr(status)[:100])
    finally:
        os.close(dir_fd)


def _harness_reason(record: dict[str, Any]) -> Message | None:
    """The harness's reason for an unsupported value as a catalog message (``harness.*``), when the
    record holds one; else None, and the record's ``evalue`` is shown as it is (the kernel wrote it)."""
    return received(record.get("code"), record.get("params"), "harness.")


def _inner_calls(records: Any, reading: _Reading) -> tuple[InnerCall, ...]:
    """The watched inner calls of an answer record, decoded like the answer (same names, same array
    budget after it). They are evidence, not the answer: anything refused about them drops them all,
    never the answer."""
    if not isinstance(records, list):
        return ()
    calls = []
    try:
        for record in records[:MAX_INNER_CALLS]:
            if not isinstance(record, dict) or not isinstance(record.get("function"), str) \
                    or not record["function"].isidentifier() or len(record["function"]) > 100:
                raise _Refused("malformed")
            args = _decode(record.get("args"), reading, 1)
            kwargs = _decode(record.get("kwargs"), reading, 1)
            if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
                raise _Refused("malformed")
            calls.append(InnerCall(record["function"], tuple(args), kwargs, _decode(record.get("value"), reading, 1)))
    except _Refused:
        return ()
    return tuple(calls)


def _decode(value: Any, reading: _Reading, depth: int) -> Any:
    """The answer record's value as a Python value; raises :class:`_Refused` with the reason."""
    if depth > MAX_DEPTH:
        raise _Refused("depth", limit=MAX_DEPTH)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise _Refused("long_string", length=f"{len(value):,}", limit=f"{MAX_STRING:,}")
        return value
    if isinstance(value, list):
        return [_decode(v, reading, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise _Refused("malformed")
    [(key, inner)] = value.items()
    if key == "__ndarray__":
        return _array(reading, inner)
    if key == "__tuple__" and isinstance(inner, list):
        return tuple(_decode(v, reading, depth + 1) for v in inner)
    if key == "__dict__" and isinstance(inner, dict):
        return {_decode(k, reading, depth + 1): _decode(v, reading, depth + 1) for k, v in inner.items()}
    if key == "__float__" and inner in ("nan", "inf", "-inf"):
        return float(inner)
    if key == "__keras__":
        return _model_reference(reading, inner)
    raise _Refused("malformed")


def _reference(reading: _Reading, name: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise _Refused(f"bad_{what}_reference", reference=repr(name)[:100])
    if name in reading.seen:
        raise _Refused("twice", name=name)
    reading.seen.add(name)
    return name


def _model_reference(reading: _Reading, name: Any) -> KerasFile:
    name = _reference(reading, name, _MODEL_NAME, "model")
    try:
        _lstat(reading.dir_fd, name, MAX_MODEL_BYTES)
    except FileNotFoundError:
        raise _Refused("missing", name=name) from None
    return KerasFile(reading.folder / name)


# --- .npy ----------------------------------------------------------------------------------------


def _array(reading: _Reading, name: Any) -> np.ndarray:
    name = _reference(reading, name, _ARRAY_NAME, "array")
    try:
        fd, size = _open_regular(reading.dir_fd, name, MAX_ARRAY_BYTES + _MAX_HEADER + 16)
    except FileNotFoundError:
        raise _Refused("missing", name=name) from None
    try:
        chunks = _chunks(fd, name, size)
        head = b""
        for chunk in chunks:  # enough for the header; the rest is read only once it is checked
            head += chunk
            if len(head) >= _MAX_HEADER + 16:
                break
        dtype, shape, fortran, offset = _npy_header(name, head)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if nbytes > MAX_ARRAY_BYTES:
            raise _Refused("npy_claims", name=name, count=f"{count:,}", size=_size(nbytes),
                           limit=_size(MAX_ARRAY_BYTES))
        if reading.array_bytes + nbytes > MAX_ANSWER_BYTES:
            raise _Refused("arrays_too_large", name=name, limit=_size(MAX_ANSWER_BYTES))
        if size - offset != nbytes:
            raise _Refused("npy_short", name=name, count=f"{count:,}", bytes=f"{nbytes:,}",
                           held=f"{size - offset:,}")
        reading.array_bytes += nbytes
        data = bytearray(head)
        for chunk in chunks:
            data += chunk
    finally:
        os.close(fd)
    return _numbers(name, np.frombuffer(data, np.uint8, nbytes, offset), dtype, shape, fortran)


def _npy_header(name: str, head: bytes) -> tuple[np.dtype[Any], tuple[int, ...], bool, int]:
    """``(dtype, shape, fortran_order, data offset)`` from the first bytes of a .npy file, with the
    shape and dtype checked; nothing of the size it claims is allocated here. The header is matched
    against exactly what ``numpy.save`` writes for a plain array, not evaluated: numpy's own reader
    (``ast.literal_eval``, then ``tokenize`` for old headers) raises half a dozen exception types on
    mutated headers, which fuzzing found."""
    if not head:
        raise _Refused("empty", name=name)
    if not head.startswith(b"\x93NUMPY"):
        if head.startswith(b"PK\x03\x04"):
            raise _Refused("npz", name=name)
        raise _Refused("not_npy", name=name, start=repr(head[:8]))
    if head[6:8] == b"\x01\x00":
        start, length = 10, int.from_bytes(head[8:10], "little")
    elif head[6:8] == b"\x02\x00":
        start, length = 12, int.from_bytes(head[8:12], "little")
    else:
        version = ".".join(str(b) for b in head[6:8])
        raise _Refused("npy_version", name=name, version=version)
    if length > _MAX_HEADER:
        raise _Refused("npy_header_long", name=name, length=f"{length:,}")
    offset = start + length
    if offset > len(head):
        raise _Refused("npy_truncated", name=name)
    match = _NPY_HEADER.fullmatch(head[start:offset].decode("latin1"))
    if match is None:
        raise _Refused("npy_header", name=name)
    descr, fortran, dims = match.groups()
    numeric = _NUMERIC.fullmatch(descr)
    if numeric is None:  # objects, strings, dates, structures, subarrays: no numpy.dtype(...) of it
        raise _Refused("dtype", name=name, dtype=repr(descr))
    if numeric.group(1) == "c":
        raise _Refused("complex", name=name, dtype=repr(descr))
    try:
        dtype = np.dtype(descr)
    except TypeError:  # '<f3'
        raise _Refused("unknown_dtype", name=name, dtype=repr(descr)) from None
    shape = tuple(int(n) for n in dims.replace(",", " ").split())
    if len(shape) > MAX_NDIM:
        raise _Refused("ndim", name=name, ndim=len(shape), limit=MAX_NDIM)
    if any(n > MAX_ARRAY_BYTES for n in shape) or (0 in shape and math.prod(n for n in shape if n) > MAX_ARRAY_BYTES):
        raise _Refused("shape", name=name, shape=f"{shape}")
    return dtype, shape, fortran == "True", offset


def _numbers(name: str, raw: np.ndarray, dtype: np.dtype[Any], shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    """A native, writable, C-ordered array of the checked bytes. Bools are 0 or 1 whatever the byte
    was; a long double (float128) becomes float64 when every value fits, else it is refused."""
    if dtype.kind == "b":
        flat = raw != 0
    else:
        flat = raw.view(dtype)
        if not dtype.isnative:
            flat = flat.astype(dtype.newbyteorder("="))
    array = np.array(flat.reshape(shape, order="F" if fortran else "C"), order="C")
    if dtype.kind == "f" and dtype.itemsize > 8:
        with np.errstate(all="ignore"):
            magnitude = np.abs(array[np.isfinite(array)])
        if magnitude.size and magnitude.max() > _FLOAT_MAX:
            largest = np.format_float_scientific(magnitude.max(), precision=3, trim="-")
            raise _Refused("float_range", name=name, largest=largest)
        array = array.astype(np.float64)
    return array


# --- models --------------------------------------------------------------------------------------


def _keep_model(source: Path, dest: Path, within: Path | None) -> KerasFile:
    try:
        dir_fd = _open_folder(source.parent, within)
    except (FileNotFoundError, NotADirectoryError):
        raise _Refused("model_gone", name=source.name) from None
    try:
        try:
            fd, size = _open_regular(dir_fd, source.name, MAX_MODEL_BYTES)
        except FileNotFoundError:
            raise _Refused("missing", name=source.name) from None
    finally:
        os.close(dir_fd)
    try:
        out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:  # a refused or failed copy leaves no file behind (only the one created here is removed)
            first = True
            for chunk in _chunks(fd, source.name, size):
                if first and not chunk.startswith(b"PK\x03\x04"):
                    raise _Refused("not_keras", name=source.name, start=repr(chunk[:8]))
                first = False
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
            if first:
                raise _Refused("empty", name=source.name)
        except BaseException:
            os.close(out)
            dest.unlink(missing_ok=True)
            raise
        os.close(out)
    finally:
        os.close(fd)
    return KerasFile(dest)
