"""Comparing a student's answer with the reference answer, in the grader's own process.

``numpy.allclose``-style with the tolerances of ``course.toml``; arrays, numbers, strings and
nested tuples/lists/dicts (``layer_table``, ``param_report``) are compared structurally. A mismatch
says what kind it is — type, shape, length, keys or values — with the largest error and where it is,
because "wrong" alone teaches nothing; it says it as a code and parameters, worded by whoever shows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from .catalog import nested

__all__ = ["Comparison", "Tolerance", "compare"]

Problem = Literal["", "type", "shape", "length", "keys", "values", "nan"]


@dataclass(frozen=True)
class Tolerance:
    """``numpy.allclose``'s two tolerances. Defined here, not in the configuration, so that this
    module needs only numpy: the student bundle's self-check ships a verbatim copy of it."""

    rtol: float = 1e-5
    atol: float = 1e-6


@dataclass(frozen=True)
class Comparison:
    """The verdict of :func:`compare`: equal, or the kind of difference as a message of
    :mod:`grader.judge.catalog` — ``code`` and ``params`` (``path`` locates the difference inside a
    nested answer) — with the largest error and where it is. No words: whoever shows it words it
    from the catalog in the reader's language (``Message(code, params).text(lang)``)."""

    equal: bool
    problem: Problem = ""
    code: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    max_abs_diff: float | None = None
    worst_index: tuple[int, ...] | None = None


_EQUAL = Comparison(True)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _describe(value: Any) -> Any:
    """The type of ``value`` for a ``type`` message: a nested message for an array, else its type's name."""
    if isinstance(value, np.ndarray):
        return nested("type.array", shape=f"{value.shape}", dtype=f"{value.dtype}")
    return type(value).__name__


def _differ(problem: Problem, code: str, path: str, **params: Any) -> Comparison:
    return Comparison(False, problem, code, {**params, "path": path} if path else params)


def _arrays(expected: np.ndarray, actual: np.ndarray, tol: Tolerance, path: str) -> Comparison:
    if actual.shape != expected.shape:
        return _differ("shape", "shape", path, actual=f"{actual.shape}", expected=f"{expected.shape}")
    if actual.dtype.kind not in "biuf":
        return _differ("type", "dtype", path, dtype=f"{actual.dtype}")
    if expected.size == 0:
        return _EQUAL
    exp, act = expected.astype(np.float64), actual.astype(np.float64)
    if np.isnan(act).any() and not np.isnan(exp).any():
        index = tuple(int(i) for i in np.argwhere(np.isnan(act))[0])
        return replace(_differ("nan", "nan", path, index=f"{index}"), max_abs_diff=math.inf, worst_index=index)
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities are handled just below
        diff = np.abs(exp - act)
    close = (diff <= tol.atol + tol.rtol * np.abs(exp)) | (exp == act)
    if close.all():
        return _EQUAL
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(close, -1.0, diff))), diff.shape))
    params: dict[str, Any] = {
        "count": int((~close).sum()), "total": int(diff.size), "largest": f"{float(diff[worst]):.6g}",
        "index": f"{worst}", "expected": f"{float(exp[worst]):.6g}", "actual": f"{float(act[worst]):.6g}"}
    if actual.dtype.kind != expected.dtype.kind:
        params["your_dtype"] = f"{actual.dtype}"
    return replace(_differ("values", "values_differ", path, **params), max_abs_diff=float(diff[worst]),
                   worst_index=worst)


def compare(expected: Any, actual: Any, tol: Tolerance, where: str = "") -> Comparison:
    """Is ``actual`` the reference answer ``expected`` within ``tol``? Never raises. ``where`` is
    the path of this piece inside the whole answer (``[0]['conv1']``)."""
    if isinstance(expected, np.ndarray):
        if _is_number(actual) or isinstance(actual, (list, tuple)):
            try:
                actual = np.asarray(actual)
            except ValueError:
                return _differ("type", "ragged", where, type=type(actual).__name__)
        if not isinstance(actual, np.ndarray):
            return _differ("type", "type", where, actual=_describe(actual), expected=_describe(expected))
        return _arrays(expected, actual, tol, where)
    if _is_number(expected):
        if isinstance(actual, np.ndarray) and actual.size == 1:
            actual = actual.reshape(()).item()
        if not _is_number(actual):
            return _differ("type", "type", where, actual=_describe(actual), expected=nested("type.number"))
        return _arrays(np.asarray(expected), np.asarray(actual), tol, where)
    if isinstance(expected, Mapping):
        return _mappings(expected, actual, tol, where)
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        return _sequences(expected, actual, tol, where)
    if type(expected) is not type(actual) or expected != actual:
        return _differ("values", "value_differs", where, actual=repr(actual), expected=repr(expected),
                       type=type(expected).__name__)
    return _EQUAL


def _mappings(expected: Mapping[Any, Any], actual: Any, tol: Tolerance, where: str) -> Comparison:
    if not isinstance(actual, Mapping):
        return _differ("type", "type", where, actual=_describe(actual), expected=nested("type.dict"))
    if set(actual) != set(expected):
        missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
        return _differ("keys", "keys", where, missing=f"{missing}", extra=f"{extra}")
    for key in expected:
        result = compare(expected[key], actual[key], tol, f"{where}[{key!r}]")
        if not result.equal:
            return result
    return _EQUAL


def _sequences(expected: Sequence[Any], actual: Any, tol: Tolerance, where: str) -> Comparison:
    if isinstance(actual, np.ndarray):
        actual = actual.tolist()
    if not isinstance(actual, Sequence) or isinstance(actual, str):
        return _differ("type", "type", where, actual=_describe(actual), expected=nested("type.sequence"))
    if len(actual) != len(expected):
        return _differ("length", "length", where, actual=len(actual), expected=len(expected))
    for index, (e, a) in enumerate(zip(expected, actual)):
        result = compare(e, a, tol, f"{where}[{index}]")
        if not result.equal:
            return result
    return _EQUAL
