"""The late policy in words, for the student page, the class page and the terminal: how late, where
the hand-in time came from, the rule, and "raw 80 · 1 day 2 hours late, 8 points off · final 72".

Only words: the penalty itself is :mod:`grader.classroom.late`'s, stored in the result's ``late``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...classroom.late import time_is_a_stand_in
from ...course.config import CourseConfig, LatePolicy
from ...judge.catalog import CATALOG, text
from ...judge.results import Late, SubmissionResult
from .text import points_text

__all__ = ["LateView", "duration_text", "late_by", "late_summary", "late_view", "moment_text", "rule_words", "source_text"]

_UNUSABLE = frozenset(("late_unreadable", "late_implausible"))  # notes of grader.classroom.late: no time to judge
_UNITS = ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second"))


def duration_text(seconds: float, lang: str) -> str:
    """``1 天 2 小时`` / ``1 day 2 hours``: the two largest units, each cut down to a whole number
    (what the time shows; the exact due and hand-in times are beside it); under a second is 1 s."""
    seconds = max(0.0, seconds)
    for i, (size, unit) in enumerate(_UNITS):
        if seconds >= size or unit == "second":
            parts = [(max(1, int(seconds // size)), unit)]
            if i + 1 < len(_UNITS) and (rest := int(seconds % size // _UNITS[i + 1][0])):
                parts.append((rest, _UNITS[i + 1][1]))
            return " ".join(  # both languages space the units: 1 天 2 小时, 1 day 2 hours
                text(f"late.{name}" if n == 1 else f"late.{name}s", lang, n=n) for n, name in parts)
    return ""  # not reached: the last unit always matches


_LOCAL_ZONE = "_local_zone"


def source_text(source: str, lang: str) -> str:
    """Where a hand-in time came from, in words: each part of intake's ``canvas_name+zip_entry`` in
    turn, ``…_local_zone`` (a time without its zone, read on this machine's clock) said too; a part
    this grader does not know, as it is."""
    words = []
    for part in (source or "unknown").split("+"):
        local = part.endswith(_LOCAL_ZONE)
        code = f"late.source.{part.removesuffix(_LOCAL_ZONE) if local else part}"
        word = text(code, lang) if code in CATALOG else part
        words.append(text("late.source.local_zone", lang, source=word) if local else word)
    return text("late.source.joiner", lang).join(words)


def rule_words(policy: LatePolicy | None, lang: str) -> str:
    """``course.toml``'s ``[late]`` in the reader's language."""
    if policy is None:
        return text("late.no_policy", lang)
    per = text(f"late.per.{policy.per}", lang)
    parts = [text(f"late.rule_{policy.unit}", lang, deduct=f"{policy.deduct:g}", per=per)]
    if policy.cap is not None:
        parts.append(text(f"late.rule_cap_{policy.unit}", lang, cap=f"{policy.cap:g}"))
    if policy.grace_minutes:
        parts.append(text("late.rule_grace", lang, minutes=f"{policy.grace_minutes:g}"))
    return text("late.rule_separator", lang).join(parts)


def moment_text(at: str, clock: dt.tzinfo | None = None) -> str:
    """An ISO 8601 time as people read it, on ``clock`` (the due date's, so both compare at a
    glance): ``2026-10-02 01:59:00 +08:00``; a text that is not a time, as it is."""
    try:
        when = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return at
    if when.tzinfo is not None and clock is not None:
        try:
            when = when.astimezone(clock)
        except (OverflowError, ValueError):
            pass
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    offset = when.strftime("%z")
    return f"{stamp} {offset[:3]}:{offset[3:]}" if offset else stamp


def _clock(due: str) -> dt.tzinfo | None:
    try:
        return dt.datetime.fromisoformat(due).tzinfo
    except (TypeError, ValueError):
        return None


def late_summary(result: SubmissionResult, lang: str) -> str:
    """``原始分 80 · 迟交 1 天 2 小时，扣 8 分 · 最终 72`` (empty when nothing was late)."""
    late = result.late
    if late is None:
        return ""
    numbers = {"raw": points_text(result.score), "penalty": points_text(result.penalty),
               "final": points_text(result.final_score)}
    if not late.at:
        return text("late.summary_flag", lang, **numbers)
    return text("late.summary", lang, late=duration_text(late_by(late), lang), **numbers)


def late_by(late: Late) -> float:
    """How long after the due date itself (not the end of its grace period) the notebook came: what
    a student checks against their own clock."""
    try:
        return max(late.seconds, (dt.datetime.fromisoformat(late.at) - dt.datetime.fromisoformat(late.due)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return late.seconds


@dataclass(frozen=True)
class LateView:
    """The page's due-date facts: each one empty when not known."""

    due: str
    at: str
    source: str
    rule: str
    summary: str  # "raw · late, points off · final", empty when on time
    on_time: bool
    unusable: bool = False  # the hand-in time could not be judged (a note on the page says why)


def late_view(result: SubmissionResult, config: CourseConfig, lang: str) -> LateView | None:
    """The due date, hand-in time, its source and the rule of one submission; None when the
    assignment has no due date and nothing was taken off."""
    own = config.assignments.get(result.assignment)
    own_due = own.due_for(result.student) if own is not None else None
    due = result.late.due if result.late is not None else (own_due.isoformat() if own_due is not None else "")
    if not due:
        return None
    clock = _clock(due)
    unusable = any(note.code in _UNUSABLE for note in result.notes)
    submitted = result.submitted
    # beside the LMS's late mark, the file's time is the download's, not the hand-in's: not shown as one
    stand_in = submitted is not None and time_is_a_stand_in(submitted)
    at = result.late.at if result.late is not None and result.late.at else (
        submitted.at if submitted is not None and not stand_in else "")
    source = result.late.source if result.late is not None else (submitted.source if submitted else "")
    if stand_in:
        source = source.rsplit("+", 1)[0]
    return LateView(
        due=moment_text(due, clock),
        at=moment_text(at, clock)[:100] if at else text("late.not_known", lang),
        source=source_text(source, lang) if at or source else "",
        rule=rule_words(config.late, lang),
        summary=late_summary(result, lang),
        on_time=result.late is None and bool(at) and result.grader_error is None and not unusable,
        unusable=unusable,
    )
