"""Naming the mistake that explains a wrong answer.

First the question's declared mistakes. A mistake *explains* a failing case when the student's
answer equals that mistaken variant's answer there (and the variant is really wrong there); it is
*contradicted* by a passing case of the same group where the variant is wrong, since a student who
made that mistake would have failed it (a group is one idea, so one code path: a mistake made only in
one mode is still named in that mode's group). A group's diagnosis is the uncontradicted mistake that
explains the most of its failing cases; ties go to the one that explains most across the whole
question, so one submission with one mistake gets the same name in every group where the evidence
fits it, then to the first declared. A generic diagnosis below wins instead when it explains every
failing case of the group and the mistake only some.

Otherwise generic checks, on any answer the grader accepts (arrays, nested lists, tuples, scalars,
converted first; ragged lists, strings or None are not diagnosed): shape mismatch, transposed or
channels-first/last output, a size-1 axis too many or too few, integer truncation, exactly one edge
row/column short, a constant factor or offset. A generic diagnosis of a group must hold on every
failing case of the group, and a factor or offset needs more than one number as evidence.

A correct answer is never diagnosed: only failing cases are explained, and a question with no
failing case gets no diagnosis.
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

__all__ = ["Evidence", "Failing", "diagnose", "diagnose_question"]


@dataclass(frozen=True)
class Failing:
    """A case with the answers on both sides (a failing one, or a passing one given as evidence)."""

    case: Case
    expected: Any
    actual: Any


Evidence = tuple[Sequence[Failing], Sequence[Failing]]  # one group's (failing, passing) cases


def _variant_answer(variant: Callable[..., Any], item: Failing) -> tuple[bool, Any]:
    """(ran, answer) of the mistaken variant on the item's case; a variant that raises explains nothing."""
    args, kwargs = item.case.resolved()
    try:
        with np.errstate(all="ignore"):
            return True, variant(*args, **kwargs)
    except Exception:
        return False, None


def _explained(mistake: Mistake, failing: Sequence[Failing], tol: Tolerance) -> int:
    """How many of ``failing`` the mistake explains."""
    explained = 0
    for item in failing:
        ran, mistaken = _variant_answer(mistake.variant, item)
        if ran and compare(mistaken, item.actual, tol).equal and not compare(item.expected, mistaken, tol).equal:
            explained += 1
    return explained


def _contradicted(mistake: Mistake, passing: Sequence[Failing], tol: Tolerance) -> bool:
    """Is the mistake wrong on a case the student got right?"""
    for item in passing:
        ran, mistaken = _variant_answer(mistake.variant, item)
        if ran and not compare(item.expected, mistaken, tol).equal:
            return True
    return False


def _declared(mistakes: Sequence[Mistake], groups: Sequence[Evidence],
              tol: Tolerance) -> list[tuple[int, Diagnosis] | None]:
    """Per group: the winning declared mistake and how many of the group's failing cases it explains."""
    hits = [[_explained(m, failing, tol) for failing, _ in groups] for m in mistakes]
    named: list[tuple[int, Diagnosis] | None] = []
    for g, (_, passing) in enumerate(groups):
        ranked = [((hits[i][g], sum(hits[i]), -i), m) for i, m in enumerate(mistakes)
                  if hits[i][g] and not _contradicted(m, passing, tol)]
        best = max(ranked, key=lambda r: r[0]) if ranked else None
        named.append(None if best is None else (best[0][0], _as_diagnosis(best[1])))
    return named


def _as_diagnosis(mistake: Mistake) -> Diagnosis:
    return Diagnosis(mistake.id, mistake.zh, mistake.en)


# -- generic diagnoses ----------------------------------------------------------------------------
def _as_array(value: Any) -> np.ndarray | None:
    """A numeric array of ``value`` (an array, a number, nested lists/tuples of numbers), else None."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        return None
    if isinstance(value, (int, float, np.number, list, tuple, np.ndarray)):
        try:
            array = np.asarray(value)
        except (ValueError, TypeError, OverflowError):
            return None
        return array if array.dtype.kind in "biuf" else None
    return None


def _close(expected: np.ndarray, actual: np.ndarray, tol: Tolerance) -> bool:
    return compare(expected, actual, tol).equal


def _generic(item: Failing, tol: Tolerance) -> Diagnosis | None:
    """The generic diagnosis of one failing case, if one fits."""
    expected, actual = _as_array(item.expected), _as_array(item.actual)
    if expected is None or actual is None:
        return None
    if expected.ndim == 0 and actual.size == 1:  # a number answered as [n] is compared as a number
        actual = actual.reshape(())
    if actual.shape != expected.shape:
        return _reshaped(expected, actual, tol)
    if actual.dtype.kind in "biu" and expected.dtype.kind == "f":
        for rounded in (np.trunc(expected), np.floor(expected), np.round(expected)):
            if _close(rounded, actual, tol):
                return _named("integer_truncation")
    if expected.ndim >= 2 and expected.shape[0] == expected.shape[1]:
        if _close(np.swapaxes(expected, 0, 1), actual, tol) and not _close(expected, actual, tol):
            return _named("transposed_output")
    return _scaled(expected, actual, tol)


def _reshaped(expected: np.ndarray, actual: np.ndarray, tol: Tolerance) -> Diagnosis:
    """A shape mismatch, named more precisely when the values say how the shape went wrong."""
    shapes = {"actual": f"{actual.shape}", "expected": f"{expected.shape}"}
    if actual.size == expected.size and _close(expected, actual.reshape(expected.shape), tol):
        if tuple(n for n in actual.shape if n != 1) == tuple(n for n in expected.shape if n != 1):
            return _named("size_one_axis", **shapes)
    if actual.ndim == expected.ndim and expected.ndim >= 2:
        if actual.shape == expected.shape[1::-1] + expected.shape[2:] and _close(np.swapaxes(expected, 0, 1), actual,
                                                                                  tol):
            return _named("transposed_output")
        if expected.ndim >= 3:
            for layout, moved in (("channels_first", np.moveaxis(expected, -1, 0)),
                                  ("channels_last", np.moveaxis(expected, 0, -1))):
                if moved.shape == actual.shape and _close(moved, actual, tol):
                    return _named(f"{layout}_output", **shapes)
        for crop in _crops(expected, actual):
            if _close(crop, actual, tol):
                return _named("off_by_one_crop", **shapes)
    return _named("shape_mismatch", **shapes)


def _scaled(expected: np.ndarray, actual: np.ndarray, tol: Tolerance) -> Diagnosis | None:
    """A constant factor or offset between two equally shaped answers."""
    with np.errstate(all="ignore"):
        exp, act = expected.astype(float).ravel(), actual.astype(float).ravel()
        if not (np.isfinite(exp).all() and np.isfinite(act).all()):
            return None
        if np.abs(exp).max(initial=0) > 0:
            factor = float(act @ exp / (exp @ exp))
            if not np.isclose(factor, 1) and not np.isclose(factor, 0) and _close(expected * factor, actual, tol):
                return _named("constant_factor", factor=factor)
        offset = float(np.mean(act - exp)) if exp.size else 0.0
    if not np.isclose(offset, 0) and _close(expected + offset, actual, tol):
        return _named("constant_offset", offset=offset)
    return None


def _named(mistake: str, **params: Any) -> Diagnosis:
    """A generic diagnosis, in both languages, from the catalog's ``mistake.*`` words."""
    return Diagnosis(mistake, text(f"mistake.{mistake}", "zh", **params), text(f"mistake.{mistake}", "en", **params))


def _crops(expected: np.ndarray, actual: np.ndarray) -> list[np.ndarray]:
    """Views of ``expected`` exactly one edge row and/or column short, when shapes allow."""
    dh, dw = expected.shape[0] - actual.shape[0], expected.shape[1] - actual.shape[1]
    if dh not in (0, 1) or dw not in (0, 1) or actual.shape[2:] != expected.shape[2:]:
        return []
    h, w = actual.shape[:2]
    return [expected[top:top + h, left:left + w] for top in range(dh + 1) for left in range(dw + 1)]


# A factor or an offset fits any single wrong number: it is named only with more numbers as evidence.
_NEEDS_MORE_THAN_ONE_NUMBER = ("constant_factor", "constant_offset")


def _group_generic(failing: Sequence[Failing], tol: Tolerance) -> Diagnosis | None:
    """The first failing case's generic diagnosis, kept only when every failing case agrees with it."""
    first = _generic(failing[0], tol)
    if first is None:
        return None
    others = [_generic(item, tol) for item in failing[1:]]
    if any(other is None or other.id != first.id for other in others):
        return None
    if first.id in _NEEDS_MORE_THAN_ONE_NUMBER:
        numbers = sum(int(np.size(_as_array(item.actual))) for item in failing)
        if numbers < 2 or any(other is not None and other.en != first.en for other in others):
            return None
    return first


def diagnose_question(mistakes: Sequence[Mistake], groups: Sequence[Evidence],
                      tol: Tolerance) -> list[Diagnosis | None]:
    """One diagnosis (or None) per group of a question, from the question's whole evidence:
    ``groups`` holds each group's (failing, passing) cases."""
    if not any(failing for failing, _ in groups):
        return [None] * len(groups)
    return [_group_diagnosis(declared, failing, tol)
            for declared, (failing, _) in zip(_declared(mistakes, groups, tol), groups)]


def _group_diagnosis(declared: tuple[int, Diagnosis] | None, failing: Sequence[Failing],
                     tol: Tolerance) -> Diagnosis | None:
    """The declared mistake, unless a generic diagnosis explains more of the group's failing cases: a
    generic one holds on all of them (a shape mismatch explains nothing, it only describes)."""
    if not failing:
        return None
    if declared is not None and declared[0] == len(failing):
        return declared[1]
    generic = _group_generic(failing, tol)
    if declared is not None and (generic is None or generic.id == "shape_mismatch"):
        return declared[1]
    return generic


def diagnose(mistakes: Sequence[Mistake], failing: Sequence[Failing], tol: Tolerance,
             passing: Sequence[Failing] = ()) -> Diagnosis | None:
    """The named mistake that best explains ``failing`` (cases of one group of one question), if any;
    ``passing`` cases rule out the mistakes they contradict."""
    if not failing:
        return None
    return diagnose_question(mistakes, [(failing, passing)], tol)[0]
