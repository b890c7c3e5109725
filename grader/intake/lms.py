"""The download layouts of Canvas, Moodle, Blackboard, Gradescope and nbgrader: who each file is
from, and when it was handed in (used by :mod:`grader.intake.submissions`).

What this relies on, and where it comes from (checked against each system's own code or docs):

- **Canvas** "Download Submissions" (``lib/content_zipper.rb`` in instructure/canvas-lms,
  ``get_filename`` / ``add_upload_submission``): each file is
  ``NAME[_LATE]_USERID_FILEID_ORIGINAL``. ``NAME`` is the student's sortable name ("Last, First"),
  lowercased, with ``_digits_`` runs collapsed and every non-word character removed (``lastfirst``,
  ``王芳``); ``LATE`` (upper case in the code, matched in any case) is Canvas's own late flag;
  ``USERID`` is the Canvas user id (``anon_XXXXX``, with no name, in anonymous grading); the middle
  number is the *attachment* id, which changes with every upload — so it never enters the student's
  key. ``ORIGINAL`` is the file's display name, to which Canvas adds ``-N`` before the extension when
  the student uploads a file of a name they already used (``Attachment.make_unique_filename``: 1 to
  7, then a UUID): that ``N`` is recorded as the ``attempt``. The name carries no time; the time of
  the zip entry (Canvas writes entries when it zips, i.e. at download) or the file is recorded only
  as a last resort, and ``source`` says so (``canvas_name+zip_entry``, ``canvas_name+file_mtime``):
  the late flag is the one to trust. To tell a Canvas name from ``alice_2024_01_convolution``, both
  ids must have 3 or more digits.
- **Moodle** "Download all submissions" (``mod/assign/locallib.php``, ``download_submissions``):
  ``clean_filename(FULLNAME_PARTICIPANTID)`` then ``_assignsubmission_file_`` then the file name;
  with "Download submissions in folders" (the default since 3.1) the prefix ending in ``_`` is a
  folder holding the files. Underscores in the full name become spaces; with blind marking the name
  is "Participant". The participant id (``get_uniqueid_for_user``) is Moodle's per-assignment
  mapping, so it is the ``lms_id`` but not the key: the key is the full name (with the id added
  when two ids share a name). The grading worksheet ("Download grading worksheet"; its headers
  ``Identifier`` = ``Participant 4412``, ``Full name``, ``Email address``, ``Last modified
  (submission)`` … and dates like ``Wednesday, 10 June 2026, 2:14 PM`` as the tools that read and
  write it back expect them — found through their code, not Moodle's own docs), when it sits in
  the same folder, gives the email and the hand-in time; its times carry no zone (the Moodle
  user's own) and are read in this machine's zone. Only the latest submission is in a download,
  so Moodle has no attempt number here.
- **Blackboard** (Original) "Assignment File Download": ``ASSIGNMENT_USERNAME_attempt_DATE_FILE``
  with ``DATE`` ``YYYY-MM-DD-hh-mm-ss``, and for every attempt a receipt
  ``ASSIGNMENT_USERNAME_attempt_DATE.txt`` with ``Name: First Last (username)``, ``Assignment:``,
  ``Date Submitted: Thursday, December 12, 2024 1:22:26 PM EST`` and per file ``Original filename:``
  and ``Filename:`` lines (the layout documented by the parsers of BBGradebookOrganiser, bb-file-cleanup
  and parselearn). The receipt's time is the hand-in time; without a receipt the name's date is
  used (no zone: this machine's). Several attempts: the latest is kept, the others are duplicates.
- **Gradescope** "Export Submissions": one ``submission_ID/`` folder per submission and a
  ``submission_metadata.yml`` mapping each folder name to ``:submitters:`` (a list of ``:name:``,
  ``:sid:``, ``:email:``), ``:created_at:`` (the hand-in time, with its offset) and ``:history:``
  (the shape the scripts that read exports rely on; Gradescope documents the autograder's
  ``submission_metadata.json``, not this file). The ``lms_id`` is the email (what Gradescope's
  roster is keyed by), the SID the ``sis_id`` and the key.
  A group submission is graded once per submitter. Read with ``yaml.safe_load``, at most
  :data:`MAX_METADATA_BYTES`, anything that is not that shape refused with a message.
- **nbgrader** exchange (``nbgrader/exchange/default/submit.py`` and ``collect.py``):
  ``nbgrader submit`` writes ``inbound/STUDENT+ASSIGNMENT+TIMESTAMP[+RANDOM]/`` with a
  ``timestamp.txt`` (``%Y-%m-%d %H:%M:%S.%f %Z`` in ``TransferApp.timezone``, UTC by default), and
  ``nbgrader collect`` copies the latest per student to ``submitted/STUDENT/ASSIGNMENT/``, the
  ``timestamp.txt`` with it. The student id is the key and the ``lms_id``.

Every reader here takes a bounded amount of a file (the instructor's download may hold anything a
student uploaded), and turns what it cannot read into a catalog message, never an exception.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..judge.catalog import Message
from ..judge.results import Submitted
from .times import ParsedTime, file_time, iso, parse_time

__all__ = [
    "GRADESCOPE_METADATA", "MAX_METADATA_BYTES", "GradescopeEntry", "LmsName", "Receipt", "WorksheetRow",
    "blackboard_name", "canvas_name", "fallback_time", "moodle_name", "nbgrader_inbound", "read_gradescope", "read_receipt",
    "read_timestamp", "read_worksheet", "split_attempt",
]

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 16 << 20  # a class of a thousand with long histories is a few MB
_MAX_RECEIPT_BYTES = 64 << 10  # the lines that matter are at the top
_MAX_WORKSHEET_BYTES = 16 << 20
_MAX_LINE = 4096
_MAX_TEXT = 300  # a name, an email, an id

_CANVAS = re.compile(r"^(?:(?P<name>.+?)_)??(?:(?P<late>late)_)?(?P<uid>\d{3,}|anon_[A-Za-z0-9]+)_(?P<fid>\d{3,})_"
                     r"(?P<original>.+)$", re.IGNORECASE)
# The LMS's part is the first match: what follows it is the student's own file name, which may be
# made to look like a classmate's whole download name (Moodle writes the full name without "_").
_MOODLE = re.compile(r"^(?P<name>[^_]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<original>.*)$")
_BLACKBOARD = re.compile(r"^(?P<prefix>(?P<assignment>.+?)_(?P<user>[^_]+)_attempt_"
                         r"(?P<date>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}))(?:_(?P<original>.+))?$")
_ATTEMPT = re.compile(r"^(?P<stem>.+?)-(?P<n>[1-7]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
                      r"(?P<suffix>(?:\.[A-Za-z][A-Za-z0-9]*)*\.[A-Za-z0-9]*)$")
_NBGRADER_INBOUND = re.compile(r"^(?P<student>[^+]+)\+(?P<assignment>[^+]+)\+(?P<timestamp>[^+]+)(?:\+[^+]*)?$")


@dataclass(frozen=True)
class LmsName:
    """What an LMS's name for a file or folder says about who handed it in."""

    lms: str  # canvas, moodle, blackboard
    lms_id: str
    name: str  # as the LMS writes it in the name ("lastfirst", "Full Name", a Blackboard username)
    original: str  # the student's own file name; "" for a Moodle folder
    late: bool | None = None
    attempt: int = 0
    at: str = ""  # Blackboard's date in the name, read in this machine's zone
    assignment: str = ""  # Blackboard's assignment name
    prefix: str = ""  # Blackboard: the receipt's stem


def split_attempt(original: str) -> tuple[str, int]:
    """``02-pooling-1.ipynb`` -> (``02-pooling.ipynb``, 1): Canvas's duplicate-name suffix (a UUID
    after the seventh counts as 8)."""
    match = _ATTEMPT.match(original)
    if match is None:
        return original, 0
    number = match["n"]
    return match["stem"] + match["suffix"], int(number) if number.isdigit() else 8


def canvas_name(name: str) -> LmsName | None:
    """``lastfirst[_late]_12345_678901_01-convolution.ipynb``, or ``None``."""
    match = _CANVAS.match(name)
    if match is None or match["name"] == "" or (match["name"] and match["name"].lower() == "late"):
        return None
    uid = match["uid"]
    student = match["name"] or ""
    if not student and not uid.lower().startswith("anon_"):
        return None
    return LmsName("canvas", uid, student, match["original"], late=match["late"] is not None)


def moodle_name(name: str) -> LmsName | None:
    """``Full Name_4412_assignsubmission_file_01-convolution.ipynb`` (or the folder
    ``Full Name_4412_assignsubmission_file_``), or ``None``."""
    match = _MOODLE.match(name)
    if match is None:
        return None
    return LmsName("moodle", match["pid"], match["name"].strip(), match["original"])


def blackboard_name(name: str) -> LmsName | None:
    """``Convolution_s1234567_attempt_2026-10-01-14-22-05_01-convolution.ipynb`` (``original`` is
    empty for the receipt's own stem), or ``None``."""
    match = _BLACKBOARD.match(name)
    if match is None:
        return None
    y, mo, d, h, mi, s = match["date"].split("-")
    stamp = parse_time(f"{y}-{mo}-{d} {h}:{mi}:{s}")
    return LmsName("blackboard", match["user"], match["user"], match["original"] or "",
                   at=iso(stamp.at) if stamp else "", assignment=match["assignment"], prefix=match["prefix"])


def nbgrader_inbound(name: str) -> tuple[str, str, ParsedTime | None] | None:
    """(student, assignment, time) of an exchange ``inbound/STUDENT+ASSIGNMENT+TIMESTAMP[+RANDOM]``
    folder, or ``None``."""
    match = _NBGRADER_INBOUND.match(name)
    if match is None:
        return None
    return match["student"], match["assignment"], parse_time(match["timestamp"])


# --- files beside the notebooks ----------------------------------------------------------------


def _read_head(path: Path, limit: int) -> str | Message:
    """The first ``limit`` bytes of ``path`` as text (UTF-8, else GB18030, NULs dropped), or why not."""
    try:
        with open(path, "rb") as f:
            raw = f.read(limit)
    except OSError as exc:
        return Message("intake.unreadable", {"error": exc.strerror or type(exc).__name__})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding).replace("\x00", "")
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace").replace("\x00", "")


def _clip(value: Any) -> str:
    """A short text field: stripped, control characters removed, at most :data:`_MAX_TEXT` long."""
    text = value if isinstance(value, str) else (f"{value}" if isinstance(value, (int, float)) else "")
    text = "".join(c for c in text if c.isprintable()).strip()
    return text[:_MAX_TEXT]


@dataclass(frozen=True)
class Receipt:
    """A Blackboard receipt: who, what, when, and the student's own file names."""

    name: str
    username: str
    assignment: str
    at: ParsedTime | None
    originals: Mapping[str, str]  # Blackboard's file name -> the student's


_RECEIPT_NAME = re.compile(r"^(?P<name>.*?)\s*\((?P<user>[^()]*)\)\s*$")


def read_receipt(path: Path) -> Receipt | Message:
    """The receipt at ``path`` (its first :data:`_MAX_RECEIPT_BYTES`, lines over 4096 characters
    skipped), or a message saying why it is not one."""
    text = _read_head(path, _MAX_RECEIPT_BYTES)
    if isinstance(text, Message):
        return text
    fields: dict[str, str] = {}
    originals: dict[str, str] = {}
    original = ""
    for line in text.splitlines():
        if len(line) > _MAX_LINE:
            continue
        key, sep, value = line.strip().partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), _clip(value)
        if key == "original filename":
            original = value
        elif key == "filename" and original:
            originals[value] = original
            original = ""
        elif key in ("name", "assignment", "date submitted") and key not in fields:
            fields[key] = value
    if "name" not in fields and "date submitted" not in fields:
        return Message("intake.receipt_unreadable", {})
    who = _RECEIPT_NAME.match(fields.get("name", ""))
    name, username = (who["name"], who["user"]) if who else (fields.get("name", ""), "")
    return Receipt(name, username, fields.get("assignment", ""), parse_time(fields.get("date submitted", "")),
                   originals)


@dataclass(frozen=True)
class WorksheetRow:
    """One student of Moodle's grading worksheet."""

    name: str
    email: str
    at: ParsedTime | None


_PARTICIPANT = re.compile(r"(\d+)\s*$")


def read_worksheet(path: Path) -> dict[str, WorksheetRow] | Message | None:
    """Moodle's grading worksheet by participant id; ``None`` if ``path`` is another CSV, a message if
    it is a worksheet that cannot be read."""
    text = _read_head(path, _MAX_WORKSHEET_BYTES + 1)
    if isinstance(text, Message):
        return text
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if "identifier" not in header or "last modified (submission)" not in header:
            return None
        if len(text.encode("utf-8")) > _MAX_WORKSHEET_BYTES:
            return Message("intake.worksheet_too_big", {"limit": _MAX_WORKSHEET_BYTES})
        columns = {name: header.index(name) for name in ("identifier", "full name", "email address",
                                                          "last modified (submission)") if name in header}
        rows: dict[str, WorksheetRow] = {}
        for cells in reader:
            def cell(name: str) -> str:
                index = columns.get(name)
                return _clip(cells[index]) if index is not None and index < len(cells) else ""
            if (pid := _PARTICIPANT.search(cell("identifier"))) is not None:
                rows[pid.group(1)] = WorksheetRow(cell("full name"), cell("email address"),
                                                  parse_time(cell("last modified (submission)")))
        return rows
    except csv.Error as exc:
        return Message("intake.worksheet_unreadable", {"error": f"{exc}"})


@dataclass(frozen=True)
class GradescopeEntry:
    """One submission of a Gradescope export: its submitters (name, sid, email) and when."""

    submitters: tuple[tuple[str, str, str], ...]
    created_at: str


def read_gradescope(path: Path) -> dict[str, GradescopeEntry] | Message:
    """``submission_metadata.yml`` by folder name, or a message saying why it cannot be used (too
    big, not YAML, nested too deep, not a mapping of submissions)."""
    import yaml

    try:
        size = path.stat().st_size
    except OSError as exc:
        return Message("intake.unreadable", {"error": exc.strerror or type(exc).__name__})
    if size > MAX_METADATA_BYTES:
        return Message("intake.metadata_too_big", {"size": size, "limit": MAX_METADATA_BYTES})
    text = _read_head(path, MAX_METADATA_BYTES)
    if isinstance(text, Message):
        return text
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, MemoryError, ValueError) as exc:
        detail = type(exc).__name__ if isinstance(exc, (RecursionError, MemoryError)) else f"{exc}"[:300]
        return Message("intake.metadata_unreadable", {"error": detail})
    if not isinstance(data, Mapping):
        return Message("intake.metadata_shape", {"found": type(data).__name__})
    entries = {}
    for folder, record in data.items():
        if not isinstance(folder, str) or not isinstance(record, Mapping):
            continue
        submitters = tuple(
            (_clip(s.get(":name")), _clip(s.get(":sid")), _clip(s.get(":email")))
            for s in (record.get(":submitters") if isinstance(record.get(":submitters"), list) else [])[:100]
            if isinstance(s, Mapping))
        if submitters:
            entries[_clip(folder)] = GradescopeEntry(submitters, _gradescope_time(record.get(":created_at")))
    if data and not entries:
        return Message("intake.metadata_shape", {"found": "mapping without :submitters:"})
    return entries


def _gradescope_time(value: Any) -> str:
    """``:created_at:`` as YAML gives it (a datetime, or text when it does not read as one)."""
    from datetime import datetime

    if isinstance(value, datetime):
        try:
            return iso(value if value.tzinfo is not None else value.astimezone())
        except (ValueError, OverflowError):  # 9999-12-31 23:59 without a zone, in a zone east of UTC
            return ""
    parsed = parse_time(value) if isinstance(value, str) else None
    return iso(parsed.at) if parsed is not None else ""


def read_timestamp(path: Path) -> ParsedTime | None:
    """nbgrader's ``timestamp.txt``, or ``None`` if it holds no time."""
    text = _read_head(path, 256)
    return None if isinstance(text, Message) else parse_time(text.strip().splitlines()[0] if text.strip() else "")


def fallback_time(mtime_ns: int, in_zip: bool, lms: str = "") -> Submitted:
    """The hand-in time when the LMS gives none: the zip entry's or the file's, saying which."""
    source = "zip_entry" if in_zip else "file_mtime"
    return Submitted(at=file_time(mtime_ns), source=f"{lms}_name+{source}" if lms else source)
