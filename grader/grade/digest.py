"""The fingerprint of a wrong answer: the same bytes give the same digest, whoever computed them.

Two students whose functions return the *same wrong value* on the same hidden input most likely
share the bug that produced it, and that survives any renaming of their code: the class-wide
similarity pass (:mod:`grader.classroom.similarity`) compares these digests. A value anyone could
reach by accident carries no such signal, so it gets no digest: a number or a string on its own, a
container of fewer than :data:`MIN_VALUES` values, or one whose values are all the same (zeros, the
NaNs of an empty window). Nothing here says what the value was: a digest is kept beside a result
without revealing the answer or the hidden input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["MIN_VALUES", "answer_digest", "wrong_digest"]

MIN_VALUES = 4  # fewer values than this, and a wrong answer is too easily the same by chance
_DEPTH = 16  # nesting deeper than a course answer ever is (layer tables, (output, cache) pairs)
_DISTINCT = 2  # at least this many different values


class _Plain(Exception):
    """The value cannot be fingerprinted (an object the grader only describes, nesting too deep)."""


def answer_digest(value: Any) -> str | None:
    """A 16-byte hex digest of an answer's exact bytes (dtype, shape, structure and values: ``1``
    and ``1.0`` differ, as do ``float32`` and ``float64``), or None when the answer carries no signal
    (see the module docstring)."""
    h = hashlib.blake2b(digest_size=16)
    seen: set[bytes] = set()
    try:
        count = _feed(value, h, seen, 0)
    except (_Plain, ValueError):  # ValueError: an int too long to write (sys.set_int_max_str_digits)
        return None
    if count < MIN_VALUES or len(seen) < _DISTINCT:
        return None
    return h.hexdigest()


def wrong_digest(value: Any, case: Any) -> str | None:
    """:func:`answer_digest` of a wrong answer to ``case`` (a :class:`~grader.course.spec.Case`),
    or None also when the answer is one of the case's own arguments handed back unchanged:
    ``return x`` is the placeholder anyone writes (and leaves when time runs out), so two students
    who both left it are not alike, though their wrong values are the same byte for byte."""
    digest = answer_digest(value)
    if digest is None:
        return None
    arguments = (*getattr(case, "args", ()), *dict(getattr(case, "kwargs", {})).values())
    return None if any(answer_digest(argument) == digest for argument in arguments) else digest


def _feed(value: Any, h: Any, seen: set[bytes], depth: int) -> int:
    """Feed ``value``'s canonical bytes to ``h``; returns how many scalar values it holds and adds
    (up to a few) distinct ones to ``seen``."""
    if depth > _DEPTH:
        raise _Plain
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise _Plain
        data = np.ascontiguousarray(value)
        h.update(b"A" + data.dtype.str.encode() + repr(data.shape).encode() + b":")
        h.update(data.tobytes())
        if len(seen) < _DISTINCT and data.size:
            bits = data.ravel().view(f"u{data.dtype.itemsize}")  # by bits: NaN is NaN, -0.0 is not 0.0
            seen.update(bits[i:i + 1].tobytes() for i in (0, int(np.argmax(bits != bits[0]))))
        return int(data.size)
    if isinstance(value, (bool, int, float, str, np.generic)) or value is None:
        word = f"S{type(value).__name__}:{value!r}".encode("utf-8", "surrogatepass")
        h.update(len(word).to_bytes(8, "little") + word)
        if len(seen) < _DISTINCT:
            seen.add(word)
        return 1
    if isinstance(value, (list, tuple)):
        h.update(f"L{type(value).__name__}{len(value)}[".encode())
        count = sum(_feed(v, h, seen, depth + 1) for v in value)
        h.update(b"]")
        return count
    if isinstance(value, Mapping):
        h.update(f"M{len(value)}{{".encode())
        count = 0
        for key in sorted(value, key=repr):
            _feed(key, h, set(), depth + 1)
            count += _feed(value[key], h, seen, depth + 1)
        h.update(b"}")
        return count
    raise _Plain
