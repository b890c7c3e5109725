"""Naming the mistake that explains a wrong answer.

First the question's declared mistakes: a mistake explains a failing case when the student's answer
equals that mistaken variant's answer there (and the variant is really wrong there). The mistake that
explains the most failing cases, and no passing one, wins. Otherwise generic checks: shape mismatch,
transposed output, integer truncation, an off-by-one crop, a constant factor or offset. A correct
answer is never diagnosed: this module is only called for failing cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .catalog import text
from .compare import Tolerance, compare
from .results import Diagnosis

if TYPE_CHECKING:  # duck-typed at run time: the student bundle copies this module without grader.course.spec
    from ..course.spec import Case, Mistake

__all__ = ["Failing", "diagnose"]


@dataclass(frozen=True)
class Failing:
    """A failing case with the answers on both sides."""

    case: Case
    expected: Any
    actual: Any


def _explains(variant: Callable[..., Any], item: Failing, tol: Tolerance) -> bool:
    args, kwargs = item.case.resolved()
    try:
        mistaken = variant(*args, **kwargs)
    except Exception:
        return False
    return compare(mistaken, item.actual, tol).equal and not compare(item.expected, mistaken, tol).equal


def _declared(mistakes: Sequence[Mistake], failing: Sequence[Failing], tol: Tolerance) -> Diagnosis | None:
    best: tuple[int, Mistake] | None = None
    for mistake in mistakes:
        hits = sum(_explains(mistake.variant, item, tol) for item in failing)
        if hits and (best is None or hits > best[0]):
            best = (hits, mistake)
    if best is None:
        return None
    return Diagnosis(best[1].id, best[1].zh, best[1].en)


def _generic(item: Failing, tol: Tolerance) -> Diagnosis | None:
    expected, actual = item.expected, item.actual
    if not isinstance(expected, np.ndarray) or not isinstance(actual, np.ndarray):
        return None
    if actual.shape != expected.shape:
        if actual.ndim == expected.ndim and expected.ndim >= 2:
            if actual.shape[:2] == expected.shape[1::-1] and compare(np.swapaxes(expected, 0, 1), actual, tol).equal:
                return _transposed()
            for crop in _crops(expected, actual):
                if compare(crop, actual, tol).equal:
                    return _named("off_by_one_crop", actual=f"{actual.shape}", expected=f"{expected.shape}")
        return _named("shape_mismatch", actual=f"{actual.shape}", expected=f"{expected.shape}")
    if actual.dtype.kind in "biu" and expected.dtype.kind == "f":
        for rounded in (np.trunc(expected), np.floor(expected), np.round(expected)):
            if compare(rounded, actual, tol).equal:
                return _named("integer_truncation")
    if expected.ndim >= 2 and expected.shape[0] == expected.shape[1]:
        if compare(np.swapaxes(expected, 0, 1), actual, tol).equal and not compare(expected, actual, tol).equal:
            return _transposed()
    exp, act = expected.astype(float).ravel(), actual.astype(float).ravel()
    if np.abs(exp).max(initial=0) > 0:
        factor = float(act @ exp / (exp @ exp))
        if not np.isclose(factor, 1) and not np.isclose(factor, 0) and compare(expected * factor, actual, tol).equal:
            return _named("constant_factor", factor=factor)
    offset = float(np.mean(act - exp))
    if not np.isclose(offset, 0) and compare(expected + offset, actual, tol).equal:
        return _named("constant_offset", offset=offset)
    return None


def _transposed() -> Diagnosis:
    return _named("transposed_output")


def _named(mistake: str, **params: Any) -> Diagnosis:
    """A generic diagnosis, in both languages, from the catalog's ``mistake.*`` words."""
    return Diagnosis(mistake, text(f"mistake.{mistake}", "zh", **params), text(f"mistake.{mistake}", "en", **params))


def _crops(expected: np.ndarray, actual: np.ndarray) -> list[np.ndarray]:
    """Views of ``expected`` missing one edge row and/or column, when shapes allow."""
    dh, dw = expected.shape[0] - actual.shape[0], expected.shape[1] - actual.shape[1]
    if dh not in (0, 1) or dw not in (0, 1):
        return []
    h, w = actual.shape[:2]
    return [expected[top:top + h, left:left + w] for top in range(dh + 1) for left in range(dw + 1)]


def diagnose(mistakes: Sequence[Mistake], failing: Sequence[Failing], tol: Tolerance) -> Diagnosis | None:
    """The named mistake that best explains ``failing`` (cases of one question), if any."""
    if not failing:
        return None
    return _declared(mistakes, failing, tol) or _generic(failing[0], tol)
