"""Similar submissions across a class, flagged for a person to look at (issue 16).

INTERFACE STUB (being built on branch c-engine): the records and signatures below are the contract
between the engine (this module) and its readers (grader.classroom.batch, grader.publish). The
bodies are filled in by the engine's branch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..course.config import SimilarityPolicy
from ..judge.results import SubmissionResult

__all__ = ["Entry", "Match", "SimilarPair", "Similarity", "Span", "compare_class", "entry_of", "own_code"]


@dataclass(frozen=True)
class Span:
    """Lines ``first``..``last`` (1-based, inclusive) of one student's own code (:attr:`Entry.code`)."""

    first: int
    last: int


@dataclass(frozen=True)
class Match:
    """One matching region of a pair: lines of A's own code and the lines of B's it matches."""

    a: Span
    b: Span


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions of one assignment and how alike they are. ``student_a < student_b``;
    ``code_score`` and ``shared_wrong`` are in [0, 1]; ``flagged`` says the course's thresholds
    (``[similarity]``) call for a look. ``matches`` are the matching regions of their own code;
    ``wrong_cases`` the hidden cases they answer with the same wrong value (``question · group #case``)."""

    assignment: str
    student_a: str
    student_b: str
    code_score: float
    shared_wrong: float
    flagged: bool
    matches: tuple[Match, ...] = ()
    wrong_cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One submission as the pass sees it: the student's own code (every code cell's text with the
    released template's unchanged cells left out, cells apart by one blank line) and the digests of
    its wrong answers not explained by a declared mistake (``question/group/CASE:DIGEST``)."""

    student: str
    assignment: str
    code: str
    wrong: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Similarity:
    """The pass's result for a class: every reported pair, flagged ones first; the own code of every
    student of a flagged pair (``code[assignment][student]``), for the side-by-side pages; and how
    many submissions of each assignment were compared."""

    pairs: tuple[SimilarPair, ...] = ()
    code: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    compared: Mapping[str, int] = field(default_factory=dict)

    def flagged(self) -> tuple[SimilarPair, ...]:
        return tuple(p for p in self.pairs if p.flagged)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``DIR/similarity.json``): ``pairs`` (each with ``matches`` as ``{"a": [first,
        last], "b": [first, last]}``), ``code`` and ``compared``."""
        return {
            "pairs": [_pair_json(p) for p in self.pairs],
            "code": {a: dict(students) for a, students in self.code.items()},
            "compared": dict(self.compared),
        }

    @classmethod
    def from_json(cls, data: Any) -> Similarity:
        """The record :meth:`to_json` wrote, from parsed JSON or its text. The file may have been
        edited by hand or cut short: whatever is not of the expected type is left out (a pair without
        its names, a match that is not two line ranges, a count that is not a number), scores are
        clamped to [0, 1], and text that does not parse is an empty result; never an exception.
        Pairs come back flagged first, in the pass's order."""
        if isinstance(data, (str, bytes, bytearray)):
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                return cls()
        if not isinstance(data, Mapping):
            return cls()
        pairs = [p for p in map(_pair_from_json, _items(data.get("pairs"))) if p is not None]
        code = {a: {s: c for s, c in students.items() if _is_name(s) and isinstance(c, str)}
                for a, students in _mapping(data.get("code")).items() if _is_name(a) and isinstance(students, Mapping)}
        compared = {a: int(n) for a, n in _mapping(data.get("compared")).items()
                    if _is_name(a) and _is_count(n)}
        return cls(tuple(sorted(pairs, key=_pair_order)), code, compared)


def own_code(notebook: Mapping[str, Any], template: Mapping[str, Any] | None) -> str:
    """A submitted notebook's own code: see :class:`Entry`."""
    raise NotImplementedError


def entry_of(result: SubmissionResult, notebook: Mapping[str, Any], template: Mapping[str, Any] | None) -> Entry:
    """The pass's view of one graded submission."""
    raise NotImplementedError


def compare_class(entries: Sequence[Entry], templates: Mapping[str, str], policy: SimilarityPolicy) -> Similarity:
    """Compare every assignment's submissions with each other. ``templates`` is each assignment's
    released template code (its fingerprints are subtracted from everyone's). Grows with the number
    of fingerprints (an inverted index), never with the number of pairs."""
    raise NotImplementedError


# -- the stored record (DIR/similarity.json) -------------------------------------------------------


def _pair_order(p: SimilarPair) -> tuple[Any, ...]:
    """Flagged first, then the more alike, then by name: one order whatever the input's."""
    return (not p.flagged, -max(p.code_score, p.shared_wrong), -p.code_score, -p.shared_wrong,
            p.assignment, p.student_a, p.student_b)


def _pair_json(p: SimilarPair) -> dict[str, Any]:
    return {
        "assignment": p.assignment, "student_a": p.student_a, "student_b": p.student_b,
        "code_score": p.code_score, "shared_wrong": p.shared_wrong, "flagged": p.flagged,
        "matches": [{"a": [m.a.first, m.a.last], "b": [m.b.first, m.b.last]} for m in p.matches],
        "wrong_cases": list(p.wrong_cases),
    }


def _pair_from_json(data: Any) -> SimilarPair | None:
    if not isinstance(data, Mapping):
        return None
    assignment, a, b = data.get("assignment"), data.get("student_a"), data.get("student_b")
    if not (_is_name(assignment) and _is_name(a) and _is_name(b)) or a == b:
        return None
    matches = [m for m in map(_match_from_json, _items(data.get("matches"))) if m is not None]
    if a > b:  # the record says student_a < student_b; a hand edit that swapped them is turned back
        a, b = b, a
        matches = [Match(m.b, m.a) for m in matches]
    return SimilarPair(
        assignment, a, b, _score(data.get("code_score")), _score(data.get("shared_wrong")),
        data.get("flagged") is True, tuple(matches),
        tuple(c for c in _items(data.get("wrong_cases")) if isinstance(c, str)))


def _match_from_json(data: Any) -> Match | None:
    if not isinstance(data, Mapping):
        return None
    a, b = _span_from_json(data.get("a")), _span_from_json(data.get("b"))
    return Match(a, b) if a is not None and b is not None else None


def _span_from_json(data: Any) -> Span | None:
    if not isinstance(data, (list, tuple)) or len(data) != 2:
        return None
    first, last = data
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (first, last)) or not 1 <= first <= last:
        return None
    return Span(first, last)


def _score(value: Any) -> float:
    """A stored score as a float in [0, 1]; anything else (text, NaN, a list) is 0."""
    if not _is_number(value) or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(min(1.0, max(0.0, value)))  # compared before converting: an int too large for a float


def _is_count(value: Any) -> bool:
    return _is_number(value) and (not isinstance(value, float) or math.isfinite(value)) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_name(value: Any) -> bool:
    """A student's or an assignment's name: non-empty text."""
    return isinstance(value, str) and value != ""


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}
