"""Hand-in times as LMSs write them, turned into ISO 8601 with a UTC offset (:class:`~grader.judge.results.Submitted`).

LMSs write times for people, not programs: Blackboard's receipt says ``Thursday, December 12, 2024
1:22:26 PM EST`` (or ``Monday, 27 April 2020 14:22:05 o'clock BST`` in a UK locale), Moodle's grading
worksheet ``Wednesday, 10 June 2026, 2:14 PM`` (no zone at all: the Moodle user's own), nbgrader's
``timestamp.txt`` ``2026-10-01 14:22:05.123456 UTC``. :func:`parse_time` reads all of these: a
year, a month (number or English name), a day, hours and minutes (seconds, fractions and AM/PM if
there), then a zone — a numeric offset, ``UTC``/``Z``, or an abbreviation.

A zone abbreviation is only trusted when it names one offset: ``CST`` is both China (+08:00) and
the US centre (-06:00), ``IST`` three places. So an abbreviation is first compared with this
machine's own zone at that date (``TZ``; the grader usually runs where the course is), then looked
up in a short table of unambiguous ones; a time with no zone, or one that neither settles, is read
in this machine's zone and the result says so (``assumed_local``), so the caller can record it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["ParsedTime", "file_time", "iso", "parse_time"]

_MONTHS = {name: number for number, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
    ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
    ("dec", "december")), start=1) for name in names}

# Abbreviations that name one offset (hours). Ambiguous ones (CST, IST, BST outside the UK…) are
# left out on purpose; BST is kept as British Summer Time, the only one Blackboard writes.
_ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2,
    "EEST": 3, "MSK": 3, "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AWST": 8, "ACST": 9.5,
    "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}

_NUMERIC_DATE = re.compile(r"(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?")
_NAMED_DATE = re.compile(  # "December 12, 2024" or "12 December 2024" (weekday names are skipped)
    r"(?:(?P<mon1>[A-Za-z]{3,9})\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon2>[A-Za-z]{3,9})\.?,?\s+(?P<y2>\d{4}))")
_CLOCK = re.compile(r"(?<![\d:])(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
                    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?")
_OFFSET = re.compile(r"(?:^|[\s(])(?:UTC|GMT)?(?P<sign>[+-])(?P<oh>\d{2}):?(?P<om>\d{2})?\b")
_ABBREV = re.compile(r"\b(?P<zone>[A-Z]{1,5})\b")
_MAX_TEXT = 200  # a time is short; longer text is not a time


@dataclass(frozen=True)
class ParsedTime:
    """A time read from text: ``at`` is aware; ``assumed_local`` when the text gave no usable zone."""

    at: datetime
    assumed_local: bool


def parse_time(text: str) -> ParsedTime | None:
    """The time written in ``text`` (see the module docstring), or ``None`` if there is none."""
    text = text.strip()
    if not text or len(text) > _MAX_TEXT:
        return None
    date = _date(text)
    if date is None:
        return None
    (year, month, day), rest = date
    clock = _CLOCK.search(rest)
    hour = minute = second = micro = 0
    if clock is not None:
        hour, minute = int(clock["h"]), int(clock["mi"])
        second = int(clock["s"] or 0)
        micro = int((clock["f"] or "0")[:6].ljust(6, "0"))
        if ampm := clock["ampm"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
        rest = rest[clock.end():]
    try:
        naive = datetime(year, month, day, hour, minute, second, micro)
        return _zoned(naive, rest)
    except (ValueError, OverflowError):  # an offset of 24 hours or more; a year the zone moves past 1 or 9999
        return None


def _date(text: str) -> tuple[tuple[int, int, int], str] | None:
    """(year, month, day) and the text after the date."""
    if match := _NUMERIC_DATE.search(text):
        return (int(match["y"]), int(match["m"]), int(match["d"])), text[match.end():]
    for match in _NAMED_DATE.finditer(text):
        name = (match["mon1"] or match["mon2"]).lower()
        if name in _MONTHS:
            day = match["d1"] or match["d2"]
            return (int(match["y1"] or match["y2"]), _MONTHS[name], int(day)), text[match.end():]
    return None


def _zoned(naive: datetime, rest: str) -> ParsedTime:
    """``naive`` in the zone ``rest`` names (see the module docstring); ValueError or OverflowError
    when no such time exists (``+99:99``, 9999-12-31 23:59 in a zone east of UTC)."""
    if match := _OFFSET.search(rest):
        minutes = int(match["oh"]) * 60 + int(match["om"] or 0)
        sign = -1 if match["sign"] == "-" else 1
        return ParsedTime(naive.replace(tzinfo=timezone(timedelta(minutes=sign * minutes))), False)
    local = naive.astimezone()  # this machine's zone at that date
    for match in _ABBREV.finditer(rest):
        zone = match["zone"]
        if zone in {"AM", "PM"}:
            continue
        if zone == local.strftime("%Z"):
            return ParsedTime(local, False)
        if zone in _ZONES:
            return ParsedTime(naive.replace(tzinfo=timezone(timedelta(hours=_ZONES[zone]))), False)
    return ParsedTime(local, True)


def iso(at: datetime) -> str:
    """``at`` as ISO 8601 with its offset, to the second."""
    return at.isoformat(timespec="seconds")


def file_time(mtime_ns: int) -> str:
    """A file's modification time as ISO 8601 in this machine's zone (a zip entry's time, once
    unpacked, is its wall time in this zone), or empty if there is none."""
    if mtime_ns <= 0:
        return ""
    try:
        return iso(datetime.fromtimestamp(mtime_ns / 1e9).astimezone())
    except (OverflowError, OSError, ValueError):
        return ""
