"""Comparing a student's answer with the reference answer, in the grader's own process.

``numpy.allclose``-style with the tolerances of ``course.toml``; arrays, numbers, strings and
nested tuples/lists/dicts (``layer_table``, ``param_report``) are compared structurally. A mismatch
says what kind it is — type, shape, length, keys or values — with the largest error and where it is,
because "wrong" alone teaches nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

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
    equal: bool
    problem: Problem = ""
    message: str = ""
    max_abs_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    summary: str = ""  # a "values" message without the values: see outline

    @property
    def outline(self) -> str:
        """What kind of difference, with no expected value and no error size in it: what a hidden
        test may show (SPEC section 7). Only a "values" message quotes the expected answer; the
        others say types, shapes, lengths, keys or where the answer has a NaN."""
        if self.problem == "values":
            return self.summary or "the values differ"
        return self.message


_EQUAL = Comparison(True)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__


def _arrays(expected: np.ndarray, actual: np.ndarray, tol: Tolerance, where: str) -> Comparison:
    if actual.shape != expected.shape:
        return Comparison(False, "shape", f"{where}shape {actual.shape} but expected {expected.shape}")
    if actual.dtype.kind not in "biuf":
        return Comparison(False, "type", f"{where}dtype {actual.dtype} is not numeric")
    if expected.size == 0:
        return _EQUAL
    exp, act = expected.astype(np.float64), actual.astype(np.float64)
    if np.isnan(act).any() and not np.isnan(exp).any():
        index = tuple(int(i) for i in np.argwhere(np.isnan(act))[0])
        return Comparison(False, "nan", f"{where}NaN at index {index}", math.inf, index)
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities are handled just below
        diff = np.abs(exp - act)
    close = (diff <= tol.atol + tol.rtol * np.abs(exp)) | (exp == act)
    if close.all():
        return _EQUAL
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(close, -1.0, diff))), diff.shape))
    wrong = int((~close).sum())
    dtype_note = f" (your dtype is {actual.dtype})" if actual.dtype.kind != expected.dtype.kind else ""
    return Comparison(
        False,
        "values",
        f"{where}{wrong} of {diff.size} values differ; largest error {float(diff[worst]):.6g} at index "
        f"{worst}: expected {float(exp[worst]):.6g}, got {float(act[worst]):.6g}{dtype_note}",
        float(diff[worst]),
        worst,
        f"{where}{wrong} of {diff.size} values differ{dtype_note}",
    )


def compare(expected: Any, actual: Any, tol: Tolerance, where: str = "") -> Comparison:
    """Is ``actual`` the reference answer ``expected`` within ``tol``? Never raises."""
    prefix = f"{where}: " if where else ""
    if isinstance(expected, np.ndarray):
        if _is_number(actual) or isinstance(actual, (list, tuple)):
            try:
                actual = np.asarray(actual)
            except ValueError:
                return Comparison(False, "type", f"{prefix}got a ragged {type(actual).__name__}, expected an array")
        if not isinstance(actual, np.ndarray):
            return Comparison(False, "type", f"{prefix}got {_describe(actual)}, expected {_describe(expected)}")
        return _arrays(expected, actual, tol, prefix)
    if _is_number(expected):
        if isinstance(actual, np.ndarray) and actual.size == 1:
            actual = actual.reshape(()).item()
        if not _is_number(actual):
            return Comparison(False, "type", f"{prefix}got {_describe(actual)}, expected a number")
        return _arrays(np.asarray(expected), np.asarray(actual), tol, prefix)
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return Comparison(False, "type", f"{prefix}got {_describe(actual)}, expected a dict")
        if set(actual) != set(expected):
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            return Comparison(False, "keys", f"{prefix}keys differ: missing {missing}, unexpected {extra}")
        for key in expected:
            result = compare(expected[key], actual[key], tol, f"{where}[{key!r}]")
            if not result.equal:
                return result
        return _EQUAL
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        if isinstance(actual, np.ndarray):
            actual = actual.tolist()
        if not isinstance(actual, Sequence) or isinstance(actual, str):
            return Comparison(False, "type", f"{prefix}got {_describe(actual)}, expected a sequence")
        if len(actual) != len(expected):
            return Comparison(False, "length", f"{prefix}{len(actual)} items but expected {len(expected)}")
        for index, (e, a) in enumerate(zip(expected, actual)):
            result = compare(e, a, tol, f"{where}[{index}]")
            if not result.equal:
                return result
        return _EQUAL
    if type(expected) is not type(actual) or expected != actual:
        return Comparison(False, "values", f"{prefix}got {actual!r}, expected {expected!r}",
                          summary=f"{prefix}the {type(expected).__name__} differs from the expected one")
    return _EQUAL
