"""What a regrade changed: per submission, the score before and after, the tests that flipped, and why.

Every run keeps what it found for each submission, cached ones too, and each test's verdict
(:class:`~grader.classroom.gradebook.Gradebook`'s ``runs``, ``run_results`` and ``verdicts``). A run's
changes compare each submission it found with that submission's last *graded* entry in any earlier
run: a run that graded one assignment only, or a grader error in between, does not hide what the
previous grade was. A ``grader_error`` is never a score change: the student's work was not judged,
so the submission is listed apart and compared again once it is graded.

Why a score moved is what the grader can tell from the two entries: the notebook's bytes
(``notebook``), and the runs' configuration parts: ``course.toml`` (``course``), the grader's code
(``code``) or version (``version``), and the seed in force (``seed``: the only other part of the cache
key, so a key that changed while course.toml and the code did not means GRADER_SEED did; the seed
itself, or a hash of it that a small seed could be recovered from, is never stored). A version-1
gradebook's imported entries lack the parts (``config``: the configuration or the grader changed).
A late penalty that moved is ``penalty``; a score that moved with all of these unchanged (graded
again after a grader error, a time limit just met) is ``again``.

The run writes its changes to ``DIR/changes.json`` (:func:`write_changes`), marked unfinished when it
was stopped, so that the class page (re-rendered from stored files by ``grader report``) shows the
same diff the run's summary did, and never a stopped run's half diff as if it were complete.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..judge.catalog import text
from .gradebook import Entry, Gradebook, RunRecord, Verdict, write_json

__all__ = [
    "CHANGES_FILE",
    "REASONS",
    "Change",
    "Flip",
    "HistoryLine",
    "RunChanges",
    "StudentNotFound",
    "changes_between",
    "final_words",
    "find_student",
    "flip_words",
    "keep_changes",
    "points",
    "read_changes",
    "reason_words",
    "run_changes",
    "score_words",
    "signed",
    "student_history",
    "write_changes",
]

log = logging.getLogger(__name__)

CHANGES_FILE = "changes.json"
REASONS = ("notebook", "course", "seed", "code", "version", "config", "penalty", "again")


@dataclass(frozen=True)
class Flip:
    """One test whose verdict or points differ between two entries. ``before``/``after`` are
    ``passed``, ``failed``, or ``""`` when the test was not there (a test added or removed)."""

    test: str
    question: str
    before: str
    after: str
    score_before: float | None
    score_after: float | None
    max_before: float | None
    max_after: float | None
    test_zh: str = ""  # the test with its group's Chinese title, '' when it has none

    def title(self, lang: str) -> str:
        return self.test_zh if lang == "zh" and self.test_zh else self.test

    @property
    def flipped(self) -> bool:
        """The verdict itself changed (not only the points)."""
        return self.before != self.after


@dataclass(frozen=True)
class Change:
    """One submission whose score or verdicts moved: from the entry of run ``before_run``."""

    student: str
    name: str
    assignment: str
    before_run: int
    score_before: float
    score_after: float
    final_before: float
    final_after: float
    max_before: float
    max_after: float
    flips: tuple[Flip, ...]
    reasons: tuple[str, ...]

    @property
    def delta(self) -> float:
        return round(self.score_after - self.score_before, 4)

    @property
    def final_delta(self) -> float:
        return round(self.final_after - self.final_before, 4)

    @property
    def display(self) -> str:
        return self.name or self.student


@dataclass(frozen=True)
class RunChanges:
    """What one run changed. ``reached`` is how many submissions it found (``planned`` it set out
    to); ``compared`` of those had an earlier graded entry; ``new`` had none; ``not_graded`` are
    (student, name, assignment) of its grader errors, which are not compared."""

    run: int
    started_at: str
    finished: bool
    planned: int
    reached: int
    graded: int
    cached: int
    compared: int
    new: int
    changes: tuple[Change, ...] = ()
    not_graded: tuple[tuple[str, str, str], ...] = ()
    first: bool = False  # no earlier run at all: nothing to compare with

    @property
    def unchanged(self) -> int:
        return self.compared - len(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {"format": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> RunChanges:
        """The record :meth:`to_json` wrote; anything else (a hand edit, a newer grader) is a ValueError."""
        if not isinstance(data, Mapping) or data.get("format") != 1:
            raise ValueError("not a changes record of format 1")
        changes = tuple(_change(c) for c in _list(data.get("changes")))
        not_graded = tuple((_text(s), _text(n), _text(a)) for s, n, a in
                           (x for x in _list(data.get("not_graded")) if isinstance(x, list) and len(x) == 3))
        return cls(_int(data.get("run")), _text(data.get("started_at")), data.get("finished") is True,
                   *(_int(data.get(k)) for k in ("planned", "reached", "graded", "cached", "compared", "new")),
                   changes, not_graded, data.get("first") is True)


def changes_between(before: Entry, after: Entry, runs: Mapping[int, RunRecord]) -> Change | None:
    """How ``after`` differs from ``before`` (two graded entries of one submission), or ``None``
    when its scores and every verdict are the same."""
    flips = _flips(before.verdicts, after.verdicts)
    if not flips and (before.score, before.final_score, before.max_score) == (after.score, after.final_score,
                                                                                after.max_score):
        return None
    return Change(after.student, after.name, after.assignment, before.run, before.score, after.score,
                  before.final_score, after.final_score, before.max_score, after.max_score, flips,
                  _reasons(before, after, runs))


def _flips(before: Sequence[Verdict], after: Sequence[Verdict]) -> tuple[Flip, ...]:
    """The tests whose status or points differ, in the newer entry's order (removed ones last)."""
    old = {v.test: v for v in before}
    new = {v.test: v for v in after}
    flips = []
    for test in [*new, *(t for t in old if t not in new)]:
        a, b = old.get(test), new.get(test)
        if a is not None and b is not None and (a.status, a.score, a.max_score) == (b.status, b.score, b.max_score):
            continue
        question = next(v.question for v in (b, a) if v is not None)
        flips.append(Flip(test, question, a.status if a else "", b.status if b else "",
                          a.score if a else None, b.score if b else None,
                          a.max_score if a else None, b.max_score if b else None,
                          next(v.test_zh for v in (b, a) if v is not None)))
    return tuple(flips)


def _reasons(before: Entry, after: Entry, runs: Mapping[int, RunRecord]) -> tuple[str, ...]:
    """Why ``after`` may differ from ``before``, as far as the stored hashes tell (module docstring)."""
    reasons = []
    if before.sha256 != after.sha256:
        reasons.append("notebook")
    if before.config_hash != after.config_hash:
        old, new = runs.get(before.run), runs.get(after.run)
        if old is None or new is None or not (old.course_hash and old.code_hash and new.course_hash and new.code_hash):
            reasons.append("config")
        else:
            parts = [name for name, a, b in (("course", old.course_hash, new.course_hash),
                                             ("code", old.code_hash, new.code_hash)) if a != b]
            reasons += parts or ["seed"]
    if before.grader_version != after.grader_version:
        reasons.append("version")
    if before.penalty != after.penalty:
        reasons.append("penalty")
    return tuple(reasons) or ("again",)


def run_changes(book: Gradebook, run: int | None = None) -> RunChanges | None:
    """What ``run`` (default: the latest) changed, or ``None`` when the gradebook has no run."""
    runs = {r.id: r for r in book.runs()}
    if run is None:
        run = max(runs, default=None)
    if run is None or run not in runs:
        return None
    entries = book.entries(run)
    changes, not_graded, compared = [], [], 0
    for entry in entries:
        if not entry.graded:
            not_graded.append((entry.student, entry.name, entry.assignment))
            continue
        before = book.previous(entry.student, entry.assignment, run)
        if before is None:
            continue
        compared += 1
        if (change := changes_between(before, entry, runs)) is not None:
            changes.append(change)
    graded = sum(1 for e in entries if e.graded)
    record = runs[run]
    return RunChanges(run, record.started_at, record.finished, record.planned, len(entries),
                      sum(1 for e in entries if e.graded and not e.cached), sum(1 for e in entries if e.cached),
                      compared, graded - compared, tuple(changes), tuple(not_graded),
                      first=not any(r < run for r in runs))


def keep_changes(book: Gradebook, out_dir: Path, run: int) -> RunChanges | None:
    """``run``'s changes, written to ``DIR/changes.json``; ``None`` (logged) when the gradebook or the
    folder cannot give or take them: the run's results are kept whatever happens to its diff."""
    try:
        changes = run_changes(book, run)
        if changes is not None:
            write_changes(out_dir, changes)
        return changes
    except (sqlite3.Error, OSError):
        log.exception("%s: could not keep the changes of run %d", out_dir, run)
        return None


def write_changes(out_dir: Path, changes: RunChanges) -> Path:
    """``DIR/changes.json``: the run's changes as data (reasons as codes), for the class page."""
    path = Path(out_dir) / CHANGES_FILE
    write_json(path, changes.to_json())
    return path


def read_changes(out_dir: Path) -> RunChanges | None:
    """The last run's changes, or ``None`` when there is no (readable) ``changes.json``."""
    path = Path(out_dir) / CHANGES_FILE
    try:
        return RunChanges.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as exc:
        log.warning("%s: not a readable changes record (%s: %s); the page leaves the changes out",
                    path, type(exc).__name__, exc)
        return None


# --- in words (the terminal, the class page) -------------------------------------------------------


def points(value: float) -> str:
    return f"{round(value, 2):g}"


def signed(value: float) -> str:
    """A score difference: ``+5``, ``−2.5`` (a minus sign, not a hyphen), ``±0``."""
    value = round(value, 2)
    return f"+{value:g}" if value > 0 else f"−{-value:g}" if value < 0 else "±0"


def score_words(before: float, after: float, lang: str) -> str:
    return text("regrade.score", lang, before=points(before), after=points(after), delta=signed(after - before))


def final_words(change: Change, lang: str) -> str:
    """The final score's move, or '' when it moved exactly as the raw score did (no penalty changed)."""
    if change.final_before == change.score_before and change.final_after == change.score_after:
        return ""
    return text("regrade.final", lang, before=points(change.final_before), after=points(change.final_after),
                delta=signed(change.final_delta))


def flip_words(flip: Flip, lang: str) -> str:
    """``conv2d · hidden: passed → failed (20 → 0 points)``; a test whose points alone moved (its
    weight in course.toml) says so without a verdict."""
    def status(value: str) -> str:
        return text(f"regrade.status.{value or 'absent'}", lang)

    moved = (flip.score_before, flip.max_before) != (flip.score_after, flip.max_after)
    before = "–" if flip.score_before is None else f"{points(flip.score_before)}/{points(flip.max_before or 0)}"
    after = "–" if flip.score_after is None else f"{points(flip.score_after)}/{points(flip.max_after or 0)}"
    test = flip.title(lang)
    if not flip.flipped:
        return text("regrade.flip_points", lang, test=test, before=before, after=after)
    if moved:
        return text("regrade.flip_both", lang, test=test, before=status(flip.before), after=status(flip.after),
                    points_before=before, points_after=after)
    return text("regrade.flip", lang, test=test, before=status(flip.before), after=status(flip.after))


def reason_words(reasons: Sequence[str], lang: str) -> str:
    return text("list.separator", lang).join(text(f"regrade.reason.{r}", lang) for r in reasons)


# --- a student's history --------------------------------------------------------------------------


class StudentNotFound(ValueError):
    """No student, or more than one, goes by the name given; the message says which keys exist."""


def find_student(book: Gradebook, query: str) -> tuple[str, str]:
    """(key, display name) of the student ``query`` names: their key, else their display name
    (case and Unicode form ignored). A name two students share is refused, naming both keys."""
    students = book.students()
    for key, name in students:
        if key == query:
            return key, name
    folded = _fold(query)
    named = [(key, name) for key, name in students if name and _fold(name) == folded]
    if len(named) == 1:
        return named[0]
    if named:
        raise StudentNotFound(f"{query!r} is the name of {len(named)} students: "
                              f"{', '.join(key for key, _ in named)}; give the key")
    known = ", ".join(key for key, _ in students[:20]) + (" …" if len(students) > 20 else "")
    raise StudentNotFound(f"no student {query!r} in {book.path}" + (f" (students: {known})" if students else ""))


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


@dataclass(frozen=True)
class HistoryLine:
    """One run's entry of a student's submission, and what changed since their previous graded one."""

    entry: Entry
    started_at: str
    finished: bool
    change: Change | None = None
    first: bool = False  # the submission's first graded entry


def student_history(book: Gradebook, student: str, assignment: str | None = None) -> list[HistoryLine]:
    """Every run's entry of ``student`` (a key), by assignment then oldest first, each compared with
    the previous graded entry of the same assignment."""
    runs = {r.id: r for r in book.runs()}
    lines: list[HistoryLine] = []
    last: dict[str, Entry] = {}
    for entry in book.entries_of(student, assignment):
        run = runs.get(entry.run)
        before = last.get(entry.assignment)
        change = changes_between(before, entry, runs) if before is not None and entry.graded else None
        lines.append(HistoryLine(entry, run.started_at if run else "", run.finished if run else False, change,
                                 first=before is None and entry.graded))
        if entry.graded:
            last[entry.assignment] = entry
    return lines


# --- reading a stored record ------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _real(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value)


def _maybe(value: Any) -> float | None:
    return None if value is None else _real(value)


def _flip(data: Any) -> Flip:
    data = data if isinstance(data, Mapping) else {}
    return Flip(_text(data.get("test")), _text(data.get("question")), _status(data.get("before")),
                _status(data.get("after")), *(_maybe(data.get(k)) for k in
                                              ("score_before", "score_after", "max_before", "max_after")),
                _text(data.get("test_zh")))


def _status(value: Any) -> str:
    return value if value in ("passed", "failed") else ""


def _change(data: Any) -> Change:
    data = data if isinstance(data, Mapping) else {}
    return Change(
        _text(data.get("student")), _text(data.get("name")), _text(data.get("assignment")), _int(data.get("before_run")),
        *(_real(data.get(k)) for k in ("score_before", "score_after", "final_before", "final_after",
                                       "max_before", "max_after")),
        tuple(_flip(f) for f in _list(data.get("flips"))),
        tuple(r for r in _list(data.get("reasons")) if r in REASONS),
    )

