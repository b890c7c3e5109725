"""What Canvas and Moodle do with an uploaded file, transcribed from their code, so a test can upload
the exports to them in spirit: the rules below are the importers' own, not the exporter's.

- Canvas: instructure/canvas-lms ``app/models/gradebook_importer.rb`` (``row_has_student_headers?``,
  ``update_column_count``, ``header?``, ``check_for_non_student_row``, ``process_student``,
  ``process_submissions``) and ``Assignment.title_and_id``.
- Moodle: moodle/moodle ``mod/assign/feedback/offline/importgradeslib.php`` (the grading worksheet)
  with ``lib/csvlib.class.php`` (the BOM trimmed, every row as long as the header), and
  ``mod/assign/feedback/file/importziplib.php`` ``is_valid_filename_for_import`` (the feedback zip),
  as Moodle 4.1 and later read it and as earlier versions did.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

# --- Canvas ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanvasUser:
    id: int
    name: str
    sortable_name: str = ""
    sis_user_id: str = ""
    login_id: str = ""


@dataclass
class CanvasImport:
    grades: dict[int, dict[str, str]] = field(default_factory=dict)  # Canvas user id -> title -> grade
    not_found: list[str] = field(default_factory=list)  # the Student cell of rows matching nobody
    points: dict[str, str] = field(default_factory=dict)
    assignment_ids: dict[str, str | None] = field(default_factory=dict)  # column -> the id it names, if any


def _title_and_id(header: str) -> tuple[str, str | None]:
    match = re.fullmatch(r"(.*)\s\((\d+)\)", header, re.DOTALL)
    return (match.group(1), match.group(2)) if match else (header, None)


def _ruby_to_i(text: str) -> int:
    match = re.match(r"\s*[-+]?\d+", text)
    return int(match.group()) if match else 0


def canvas_import(data: bytes, users: list[CanvasUser]) -> CanvasImport:
    """What Canvas's gradebook importer makes of ``data`` in a course of ``users``."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    header = rows[0]
    if not (len(header) > 3 and "Student" in header[0] and "ID" in header[1]):
        raise ValueError("Invalid header row")
    columns, sis_user, sis_login = 3, None, None
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        sis_login, columns = 2, 4
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        sis_user, sis_login, columns = 2, 3, 5
    if "Section" not in header[columns - 1]:
        raise ValueError("Invalid header row")
    non_assignment = re.compile("Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                                "Override Score|Override Grade|Override Status")
    assignments = [(i, h) for i, h in enumerate(header) if i >= columns and not non_assignment.search(h)]
    found = CanvasImport(assignment_ids={h: _title_and_id(h)[1] for _, h in assignments})
    by_id = {u.id: u for u in users}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            found.points = {h: row[i] for i, h in assignments}
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.IGNORECASE) for c in row):
            continue
        user = by_id.get(_ruby_to_i(row[1])) if row[1] else None
        if user is None and sis_user is not None and row[sis_user]:
            user = next((u for u in users if u.sis_user_id == row[sis_user]), None)
        if user is None and sis_login is not None and row[sis_login]:
            user = next((u for u in users if u.login_id == row[sis_login]), None)
        if user is None:
            user = next((u for u in users if row[0] in (u.name, u.sortable_name)), None)
        if user is None:
            found.not_found.append(row[0])
            continue
        found.grades[user.id] = {_title_and_id(h)[0]: row[i].strip() for i, h in assignments}
    return found


# --- Moodle --------------------------------------------------------------------------------------------


@dataclass
class MoodleImport:
    grades: dict[str, float] = field(default_factory=dict)  # participant number -> grade taken
    comments: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # Identifier cells of rows Moodle passed over


def moodle_worksheet_import(data: bytes, participants: set[str], max_grade: float) -> MoodleImport:
    """What "Upload grading worksheet" takes from ``data`` (an English Moodle, comments enabled)."""
    content = data.decode("utf-8").removeprefix("\ufeff").strip()
    rows = list(csv.reader(io.StringIO(content, newline="")))
    columns = rows[0]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError("csvweirdcolumns")
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        if required not in columns:
            raise ValueError("invalidgradeimport")
    ident, grade, modified = (columns.index(c) for c in ("Identifier", "Grade", "Last modified (grade)"))
    comments = columns.index("Feedback comments") if "Feedback comments" in columns else None
    taken = MoodleImport()
    for row in rows[1:]:
        number = row[ident].strip()[len("Participant "):]
        if number not in participants:
            taken.skipped.append(row[ident])
            continue
        datetime.fromisoformat(row[modified].strip())  # strtotime must read it, or every grade looks stale
        if comments:
            taken.comments[number] = row[comments].strip()
        value = row[grade].strip()
        if value == "" or float(value) < 0 or float(value) > max_grade:
            taken.skipped.append(row[ident])
            continue
        taken.grades[number] = float(value)
    return taken


_PLUGINS = {("assignsubmission", "file"), ("assignsubmission", "onlinetext"), ("assignfeedback", "file"),
            ("assignfeedback", "comments")}


def _php_explode(text: str, limit: int) -> list[str]:
    return text.split("_", limit - 1)


def moodle_zip_entry(name: str, participants: set[str]) -> tuple[str, str] | None:
    """(participant number, file name) that Moodle 4.1+ takes from a feedback zip entry, or None."""
    basename = name.rsplit("/", 1)[-1]
    if name.endswith("/") or basename.startswith((".", "~")):
        return None
    parts = ("/import/" + name).split("/")
    while parts:
        info = _php_explode(parts.pop(0), 5)
        if len(info) < 4 or not info[1].isdigit() or info[1] not in participants:
            continue
        if (info[2], info[3]) not in _PLUGINS:
            continue
        parts.insert(0, info[4] if len(info) == 5 else "")
        return info[1], "/".join(parts)
    return None


def moodle_zip_entry_before_4_1(name: str, participants: set[str]) -> tuple[str, str] | None:
    """The same, as Moodle before 4.1 read it: the whole path split on ``_`` into five."""
    basename = name.rsplit("/", 1)[-1]
    if name.endswith("/") or basename.startswith((".", "~")):
        return None
    info = _php_explode("/import/" + name, 5)
    if len(info) < 5 or not info[1].isdigit() or (info[2], info[3]) not in _PLUGINS or info[1] not in participants:
        return None
    return info[1], info[4]
