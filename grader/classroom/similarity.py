"""Similar submissions across a class, flagged for a person to look at (issue 16).

INTERFACE STUB (being built on branch c-engine): the records and signatures below are the contract
between the engine (this module) and its readers (grader.classroom.batch, grader.publish). The
bodies are filled in by the engine's branch.
"""

from __future__ import annotations

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
        raise NotImplementedError

    @classmethod
    def from_json(cls, data: Any) -> Similarity:
        raise NotImplementedError


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
