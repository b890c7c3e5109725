"""The Canvas gradebook import file (``grader export DIR --format canvas``): ``DIR/export/canvas.csv``.

What Canvas reads, from its importer's code (instructure/canvas-lms ``app/models/gradebook_importer.rb``,
``GradebookImporter``, and ``Assignment.title_and_id`` in ``app/models/assignment.rb``), which is what
Instructure's guide "How do I import grades in the Gradebook?"
(community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807) describes
by example; Ohio State's "Import CSV File for Carmen Grades" (teaching.resources.osu.edu) sums its
required components up the same way (a student name, ID or SIS User ID; SIS Login ID; Section; the
assignment columns; start from Canvas's own gradebook export):

- The header row must start ``Student``, ``ID`` (``row_has_student_headers?``); a third column
  ``SIS User ID`` followed by ``SIS Login ID`` makes them identity columns too, and the last identity
  column must be ``Section`` (``update_column_count``, ``header?``). So the columns are exactly
  ``Student, ID, SIS User ID, SIS Login ID, Section``, in this order, then one column per assignment.
- A row whose first cell contains ``Points Possible`` is not a student: it sets each assignment's
  points (``check_for_non_student_row``, ``process_pp``), on an existing assignment too.
- A student is found by ``ID``, Canvas's own user id (``process_student``: ``@all_students[student_id.to_i]``),
  else by ``SIS User ID`` or ``SIS Login ID`` through the root account's logins, else by the exact
  name (``name`` or ``sortable_name``); a row matching nobody is listed as a student Canvas did not
  find, and its grades are not imported.
- An assignment column named ``Title (12345)`` is matched by that numeric id (``Assignment.title_and_id``),
  else by its exact title, else Canvas creates a new assignment of that title. The grader knows no
  Canvas assignment ids, so each column is course.toml's ``title``: name the Canvas assignment the
  same, or Canvas adds one.
- An empty grade cell changes nothing; numbers may use a decimal comma or point. UTF-8 (the byte-order
  mark is not needed and not written), comma-separated.

Each student is one row, from the :class:`~grader.judge.results.StudentRecord` of their results:
``ID`` is the record's ``lms_id`` when it came from Canvas (``lms == "canvas"``), ``SIS User ID`` and
``SIS Login ID`` the record's ``sis_id`` and ``login``; a student with no record at all (a plain folder of
notebooks) has the folder name as ``SIS Login ID``, since folders are often named by login. The grade
is :attr:`~grader.judge.results.SubmissionResult.final_score`, the raw score less the late penalty.
Rows without a Canvas ID, SIS User ID or SIS login from the LMS can be matched by name only: the export
lists them (:attr:`Exported.notes`). Every text cell is kept from being an Excel formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..classroom.gradebook import by_student, csv_number, csv_text, write_atomic
from ..course.config import CourseConfig
from ..judge.catalog import Message
from ..judge.results import SubmissionResult
from .lms import Exported, graded_assignments, names, points_possible, score_cell, title_of

__all__ = ["CANVAS_COLUMNS", "CANVAS_FILE", "CANVAS_POINTS_ROW", "CanvasRow", "canvas_row", "write_canvas"]

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"
CANVAS_FILE = "canvas.csv"


@dataclass(frozen=True)
class CanvasRow:
    """How one student is named to Canvas, and whether Canvas has more than a name to go on."""

    student: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    by_name_only: bool


def canvas_row(student: str, results: Sequence[SubmissionResult]) -> CanvasRow:
    """The identity columns of ``student`` from the records of their results: each field from the
    first result that knows it (the assignments' order), the Canvas id only from a Canvas record."""
    records = [r.identity for r in results if r.identity is not None]

    def first(field: str, lms: str = "") -> str:
        return next((getattr(r, field) for r in records if getattr(r, field) and (not lms or r.lms == lms)), "")

    canvas_id = first("lms_id", "canvas")
    canvas_id = canvas_id if canvas_id.isascii() and canvas_id.isdigit() else ""  # Canvas reads it with to_i
    sis_id, login = first("sis_id"), first("login")
    name = first("name") or student
    return CanvasRow(name, canvas_id, sis_id, login or ("" if records else student),
                     by_name_only=not (canvas_id or sis_id or login))


def write_canvas(folder: Path, results: Sequence[SubmissionResult], config: CourseConfig) -> Exported:
    """Write ``folder/canvas.csv`` (see the module's docstring); the notes list the rows Canvas can
    match by name only."""
    assignments = graded_assignments(config, results)
    grouped = by_student(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CANVAS_COLUMNS, *(csv_text(title_of(config, a)) for a in assignments)])
    writer.writerow([CANVAS_POINTS_ROW, "", "", "", "",
                     *(csv_number(points_possible(config, a, results)) for a in assignments)])
    by_name: list[str] = []
    for student in sorted(grouped):
        own = grouped[student]
        row = canvas_row(student, [own[a] for a in assignments if a in own])
        if row.by_name_only:
            by_name.append(student)
        writer.writerow([csv_text(row.student), csv_text(row.canvas_id), csv_text(row.sis_user_id),
                         csv_text(row.sis_login_id), "", *(score_cell(own.get(a)) for a in assignments)])
    path = folder / CANVAS_FILE
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    notes = (Message("export.canvas_by_name", {"count": len(by_name), "students": names(by_name)}),) if by_name else ()
    return Exported((path,), notes)
