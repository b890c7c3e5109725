"""Moodle's offline grading files (``grader export DIR --format moodle``), one pair per assignment:
``DIR/export/moodle/ASSIGNMENT/grading_worksheet.csv`` and ``…/feedback_files.zip``.

A Moodle assignment knows a student in it by a participant number (``Participant 4412``), its own
per assignment (``assign_user_mapping``), which is also what its "Download all submissions" names the
files with (``Full Name_4412_assignsubmission_file_…``). The intake keeps it as the
:class:`~grader.judge.results.StudentRecord` of each result (``lms == "moodle"``, ``lms_id`` the number),
so each assignment's files use that assignment's own numbers. What Moodle reads, from its code
(moodle/moodle ``mod/assign``):

- **Grading worksheet** ("Upload grading worksheet", ``feedback/offline/importgradeslib.php``): the
  columns are found by their header, in the language of the instructor's Moodle session (English
  here: ``get_string('recordid', 'assign')`` = ``Identifier``, ``grade`` = ``Grade``,
  ``lastmodifiedgrade`` = ``Last modified (grade)``, and the comments plugin's ``Feedback comments``);
  those three are required. ``Identifier`` is ``Participant `` then the number (``hiddenuser``), from
  which ``next()`` takes the number back. The other columns are those of "Download grading worksheet"
  (``gradingtable.php`` when downloading: ``Identifier, Full name, Email address, Status, Grade,
  Maximum Grade, Grade can be changed, Last modified (submission), Last modified (grade), Feedback
  comments``), written in that order so the file reads like Moodle's own; the importer ignores them.
  ``process_import_grades`` skips a grade that is empty, negative or above the assignment's maximum
  grade, and one changed in Moodle more than a minute after ``Last modified (grade)`` (``strtotime``
  of it: here the export's time, ISO 8601) unless "Allow updating records that have been modified more
  recently in Moodle than in the spreadsheet" is ticked. It replaces the feedback comments of every
  row whose text differs: this file's comment is the score in words and where the full report is.
  The grade is :attr:`~grader.judge.results.SubmissionResult.final_score` (the raw score less the late
  penalty). UTF-8 with a byte-order mark (``csv_import_reader`` trims it; Excel needs it for Chinese
  names), comma-separated. A student with no participant number gets a row with an empty
  ``Identifier``, which Moodle skips: the export lists them, to be filled in by hand or in the roster.
- **Feedback files** ("Upload multiple feedback files in a zip", ``feedback/file/importziplib.php``,
  ``is_valid_filename_for_import``): a path part ``fullname_participantid_plugintype_pluginname_…``
  split on ``_`` names the student by its second field, which must be a participant of the assignment.
  Each student page goes in as ``Full Name_4412_assignsubmission_file_/ASSIGNMENT.html``: the folder
  of the download (``download_submissions``: ``str_replace('_', ' ', fullname)`` so the name has no
  ``_``, ``clean_filename``, then ``_`` and the number), with the trailing ``_`` that Moodle before 4.1
  wrote and requires and that 4.1 and later still read. The pages are the students' own view
  (:func:`grader.judge.audience.for_student`, as on every student page): no hidden input or expected
  value. A student with no participant number has no page in the zip.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from ..classroom.gradebook import atomic_file, csv_number, csv_text, safe_filename, write_atomic
from ..course.config import CourseConfig
from ..judge.catalog import Message, text
from ..judge.results import SubmissionResult
from .lms import Exported, add_page, graded_assignments, names, points_possible, score_cell
from .report import render_submission
from .report.paths import jinja_environment

__all__ = ["FEEDBACK_ZIP", "MOODLE_COLUMNS", "WORKSHEET", "feedback_folder", "participant", "write_moodle"]

log = logging.getLogger(__name__)

WORKSHEET = "grading_worksheet.csv"
FEEDBACK_ZIP = "feedback_files.zip"
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments")
_IDENTIFIER = "Participant "  # mod/assign's 'hiddenuser' string, the number follows
_PLUGIN = "assignsubmission_file"  # the download's folder names the file submission plugin
_SUBMITTED = "Submitted for grading"  # mod/assign's 'submissionstatus_submitted'; the importer ignores it
_NAME_CHARS = 60  # of the name in a folder name: a file name has at most 255 bytes
_NAME_BYTES = 180  # and of its UTF-8, so that with the number and the plugin it fits those 255
_NOT_IN_FILE_NAMES = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")  # what clean_filename (PARAM_FILE) drops


def participant(result: SubmissionResult) -> str:
    """The student's Moodle participant number in this result's assignment, or ''."""
    record = result.identity
    if record is None or record.lms != "moodle" or not record.lms_id.isascii() or not record.lms_id.isdigit():
        return ""
    return record.lms_id


def _full_name(result: SubmissionResult) -> str:
    return (result.identity.name if result.identity is not None and result.identity.name else "") or result.student


def feedback_folder(result: SubmissionResult) -> str:
    """``Full Name_4412_assignsubmission_file_``: the folder of Moodle's download for this student
    (its name without ``_`` and what ``clean_filename`` drops), as its feedback-zip importer reads it."""
    name = unicodedata.normalize("NFC", _full_name(result)).replace("_", " ")
    name = "".join(c for c in _NOT_IN_FILE_NAMES.sub("", name) if unicodedata.category(c)[0] != "C")
    name = name[:_NAME_CHARS].encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore")  # 60 four-byte letters: 240
    return f"{name.strip(' .') or 'Participant'}_{participant(result)}_{_PLUGIN}_"


def write_moodle(folder: Path, results: Sequence[SubmissionResult], config: CourseConfig, lang: str,
                 now: datetime | None = None) -> Exported:
    """Write each graded assignment's worksheet and feedback zip under ``folder/ASSIGNMENT/``."""
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    paths: list[Path] = []
    notes: list[Message] = []
    for assignment in graded_assignments(config, results):
        own = sorted((r for r in results if r.assignment == assignment), key=lambda r: r.student)
        target = folder / safe_filename(assignment)
        most = points_possible(config, assignment, results)
        paths.append(_write_worksheet(target / WORKSHEET, own, most, stamp, lang))
        paths.append(_write_feedback(target / FEEDBACK_ZIP, own, config, lang, notes))
        notes += _worksheet_notes(assignment, own, most)
    return Exported(tuple(paths), tuple(notes))


def _write_worksheet(path: Path, results: Sequence[SubmissionResult], most: float, stamp: str, lang: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MOODLE_COLUMNS)
    for result in results:
        number = participant(result)
        email = result.identity.email if result.identity is not None else ""
        submitted = csv_text(result.submitted.at) if result.submitted is not None and result.submitted.at else "-"
        writer.writerow([f"{_IDENTIFIER}{number}" if number else "", csv_text(_full_name(result)), csv_text(email),
                         _SUBMITTED, score_cell(result), csv_number(most), "Yes", submitted, stamp,
                         csv_text(_comment(result, lang))])
    write_atomic(path, buffer.getvalue().encode("utf-8-sig"))
    return path


def _comment(result: SubmissionResult, lang: str) -> str:
    """The row's feedback comment, which students read in Moodle: the grade in words, out of what the
    student's page says, and the file."""
    page, most = f"{safe_filename(result.assignment)}.html", result.max_score
    if result.grader_error is not None:
        return text("export.moodle_not_graded", lang)
    if result.penalty > 0:
        return text("export.moodle_comment_late", lang, score=csv_number(result.final_score), max=csv_number(most),
                    raw=csv_number(result.score), penalty=csv_number(result.penalty), file=page)
    return text("export.moodle_comment", lang, score=csv_number(result.final_score), max=csv_number(most), file=page)


def _worksheet_notes(assignment: str, results: Sequence[SubmissionResult], most: float) -> list[Message]:
    notes = []
    unnumbered = [r.student for r in results if not participant(r)]
    if unnumbered:
        notes.append(Message("export.moodle_unmatched", {"assignment": assignment, "count": len(unnumbered),
                                                         "students": names(unnumbered)}))
    over = [r.student for r in results if participant(r) and r.grader_error is None and r.final_score > most]
    if over:
        notes.append(Message("export.moodle_over_max", {"assignment": assignment, "max": csv_number(most),
                                                        "students": names(over)}))
    return notes


def _write_feedback(path: Path, results: Sequence[SubmissionResult], config: CourseConfig, lang: str,
                    notes: list[Message]) -> Path:
    """The students' pages, each in its download folder; a page that cannot be rendered is left out
    and said (the class's other pages still go in)."""
    env = jinja_environment()
    with atomic_file(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
        for result in results:
            if not participant(result):
                continue
            try:
                page = render_submission(result, config, lang, environment=env)
            except Exception as exc:  # one page's failure is that page's
                log.exception("%s/%s: the feedback page could not be rendered", result.student, result.assignment)
                notes.append(Message("export.page_failed", {"student": result.student, "assignment": result.assignment,
                                                            "reason": f"{type(exc).__name__}: {exc}"[:200]}))
                continue
            add_page(archive, f"{feedback_folder(result)}/{safe_filename(result.assignment)}.html", page)
    return path

