"""The late policy: when a notebook was handed in, how late that was, and what it costs.

Run by the classroom on every kept result, fresh or cached, after :func:`~grader.classroom.collect.with_intake`
(so a cached result gets this run's due dates and ``[late]``, never the penalty stored with it), and
never by grading: the raw ``score`` stays what the tests gave, the :class:`~grader.judge.results.Late`
record holds the penalty apart, and ``final_score`` is the difference.

Where the hand-in time comes from, best first: the LMS's own record that intake put in
:attr:`Submission.submitted` (a Blackboard receipt, Gradescope's metadata, nbgrader's ``timestamp.txt``,
Canvas's late marker); only when intake knows nothing, the notebook's file time (``source =
"file_mtime"``: a download or a copy resets it, so pages say where the time came from).

Decisions (README, "Late policy"):

- Lateness is counted from the due date plus the grace period; every started period (day or hour)
  counts whole, as Canvas rounds (1 s late is one day; exactly one day late is one day).
- ``unit = "percent"`` is of the assignment's full marks (extra credit not counted), as Canvas does;
  extra credit earned is points like any other, so a late notebook can lose it too. The penalty is
  at most ``cap`` and at most the raw score: the final score is never below 0.
- A Canvas late mark without a time proves the notebook came after Canvas's due date but not by how
  much: it costs one period, the least that any late time would, and a note says so.
- The LMS's own late mark outranks a time that is not the LMS's own: Canvas's names carry the mark
  but no time, and the zip entry's time beside it (``canvas_name+zip_entry``) is when the instructor
  downloaded, after the due date for everyone. A notebook Canvas did not mark late is on time; one
  it marked is the "late mark without a time" above.
- A time the grader cannot trust (unreadable, ``NaN``, before 1970, later than this run) costs
  nothing and gets a note; a time without a UTC offset is read on the due date's clock, with a note.
- A ``grader_error`` result has no score to take points from: it gets no Late record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence

from ..course.config import CourseConfig, LatePolicy
from ..intake.submissions import Submission
from ..judge.catalog import CATALOG, Message, nested
from ..judge.results import Late, SubmissionResult, Submitted

__all__ = ["LATE_NOTES", "apply_late", "assess", "hand_in_time", "penalty_points", "rule_text", "time_is_a_stand_in"]

FILE_MTIME = "file_mtime"
STAND_IN_TIMES = frozenset((FILE_MTIME, "zip_entry"))  # the file's time, not the LMS's record of the hand-in
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
CLOCK_SKEW = dt.timedelta(days=1)  # a hand-in time this far after the run is a broken clock, not a hand-in
# The notes this module adds; taken off a result before it is assessed again, so none is ever stale.
LATE_NOTES = frozenset(("late_unreadable", "late_implausible", "late_naive", "late_flag_only"))
_MAX_TEXT = 80  # of a hand-in time quoted back in a note


def _source(source: str) -> object:
    """A note's ``source`` parameter: the catalog's words for a known source, else the text itself."""
    code = f"late.source.{source}"
    return nested(code) if code in CATALOG else source


def penalty_points(policy: LatePolicy, seconds: float, max_score: float) -> float:
    """The points ``policy`` takes off a notebook ``seconds`` late (counted after the grace period)
    on an assignment of ``max_score`` full marks, before it is bounded by the raw score."""
    if not seconds > 0:  # also NaN
        return 0.0
    periods = math.ceil(seconds / policy.period_seconds)
    amount = periods * policy.deduct
    ceiling = policy.cap if policy.cap is not None else (100.0 if policy.unit == "percent" else math.inf)
    amount = min(amount, ceiling)
    return round(amount * max_score / 100 if policy.unit == "percent" else amount, 4)


def rule_text(policy: LatePolicy | None) -> str:
    """The rule in English words, stored in :attr:`Late.rule` for people reading the result file
    (pages word the rule from ``course.toml`` in their own language)."""
    if policy is None:
        return "no late penalty ([late] is not set)"
    amount = f"{policy.deduct:g}%" if policy.unit == "percent" else f"{policy.deduct:g} points"
    words = f"{amount} per started {policy.per} late"
    if policy.cap is not None:
        words += f", at most {policy.cap:g}{'%' if policy.unit == 'percent' else ' points'}"
    if policy.grace_minutes:
        words += f", after {policy.grace_minutes:g} minutes' grace"
    return words


def hand_in_time(sub: Submission, submitted: Submitted | None) -> Submitted | None:
    """What intake knows of the hand-in (:attr:`Submission.submitted`) or, when it knows nothing
    (no time and no late mark), the notebook's file time as the last resort."""
    if submitted is not None and (submitted.at or submitted.late is not None):
        return submitted
    try:
        stamp = sub.path.stat().st_mtime
    except (OSError, ValueError):
        return submitted
    at = dt.datetime.fromtimestamp(stamp, dt.timezone.utc).astimezone()
    kept = submitted or Submitted()
    return dataclasses.replace(kept, at=at.isoformat(timespec="seconds"), source=FILE_MTIME)


def _parse(at: str, due: dt.datetime, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """(the hand-in time, or None when it cannot be used; the code of the note it needs, or "")."""
    try:
        when = dt.datetime.fromisoformat(at.strip())
    except (ValueError, TypeError, OverflowError, AttributeError):  # AttributeError: not a text at all
        return None, "late_unreadable"
    note = ""
    if when.tzinfo is None:
        when, note = when.replace(tzinfo=due.tzinfo), "late_naive"
    try:
        if not EPOCH <= when <= now + CLOCK_SKEW:
            return None, "late_implausible"
    except OverflowError:  # 9999-12-31T23:59:59-23:59 is past the largest UTC time
        return None, "late_implausible"
    return when, note


def time_is_a_stand_in(submitted: Submitted) -> bool:
    """Is the time only the file's (``…+zip_entry``, ``…+file_mtime``) beside the LMS's late mark?"""
    return submitted.late is not None and str(submitted.source).rsplit("+", 1)[-1] in STAND_IN_TIMES


def assess(due: dt.datetime, submitted: Submitted | None, policy: LatePolicy | None, score: float,
           max_score: float, now: dt.datetime) -> tuple[Late | None, tuple[Message, ...]]:
    """The Late record of one graded submission due at ``due`` (None: on time, or its time unknown)
    and the notes that explain a time the grader could not use as it was."""
    if submitted is None:
        return None, ()
    source = str(submitted.source)[:_MAX_TEXT] if submitted.source else "unknown"
    rule = rule_text(policy)
    grace = dt.timedelta(minutes=policy.grace_minutes if policy is not None else 0)
    due_text = due.isoformat(timespec="seconds")
    if not submitted.at or time_is_a_stand_in(submitted):
        if submitted.late is not True:
            return None, ()
        period = policy.period_seconds if policy is not None else 0
        penalty = penalty_points(policy, period, max_score) if policy is not None else 0.0
        late = Late(due=due_text, source=source, penalty=round(min(penalty, max(score, 0.0)), 4), rule=rule)
        return late, (Message("late_flag_only", {"source": _source(source)}),)
    when, note = _parse(submitted.at, due, now)
    quoted = str(submitted.at)[:_MAX_TEXT]
    notes = (Message(note, {"at": quoted, "source": _source(source)}),) if note else ()
    if when is None:
        return None, notes
    try:
        seconds = (when - (due + grace)).total_seconds()
    except OverflowError:  # a due date at the end of the calendar: nothing can be after it
        return None, notes
    if seconds <= 0:
        return None, notes
    penalty = penalty_points(policy, seconds, max_score) if policy is not None else 0.0
    return Late(due=due_text, at=when.isoformat(timespec="seconds"), source=source, seconds=round(seconds, 3),
                penalty=round(min(penalty, max(score, 0.0)), 4), rule=rule), notes


def apply_late(sub: Submission, result: SubmissionResult, config: CourseConfig | None,
               now: dt.datetime | None = None) -> SubmissionResult:
    """``result`` with this run's hand-in time and late penalty (and only this run's late notes),
    against the student's own due date (an extension) or the assignment's. A result without a due
    date, or one the grader failed on, carries no Late record."""
    now = now or dt.datetime.now(dt.timezone.utc)
    notes: Sequence[Message] = tuple(n for n in result.notes if n.code not in LATE_NOTES)
    submitted = hand_in_time(sub, result.submitted)
    own = config.assignments.get(result.assignment) if config is not None else None
    late, added = None, ()
    due = own.due_for(result.student) if own is not None else None
    if due is not None and result.grader_error is None:
        late, added = assess(due, submitted, config.late if config is not None else None,
                             result.score, result.max_score, now)
    return dataclasses.replace(result, submitted=submitted, late=late, notes=(*notes, *added))
