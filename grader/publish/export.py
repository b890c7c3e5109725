"""Grade exports from stored results (``grader export DIR --format csv|gradescope|canvas``).

Everything is read from ``DIR/results`` and written under ``DIR/export/``; nothing is executed.

- ``csv``: ``export/grades.csv``, the class table of :func:`grader.classroom.gradebook.write_grades_csv`: a row
  per student, a column per question and per assignment, then the total.
- ``gradescope``: ``export/gradescope/STUDENT/ASSIGNMENT/results.json``, one per submission, with only
  the fields of Gradescope's autograder specification ("Output format" of
  https://gradescope-autograders.readthedocs.io/en/latest/specs/, from gradescope/autograder_samples
  ``docs/specs.md``): top level ``score``, ``execution_time``, ``output``, ``stdout_visibility``,
  ``extra_data``, ``tests``; per test ``score``, ``max_score``, ``status``, ``name``, ``number``,
  ``output``, ``tags``, ``visibility``. The grader's own object goes, shortened, into ``extra_data``.
- ``canvas``: ``export/canvas.csv``, a Canvas gradebook import file. Layout as Canvas's own gradebook
  export, which its import reads back (Instructure guide "How do I import grades in the Gradebook?",
  community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807; the
  required columns and their order as summarised by Ohio State's "Import CSV File for Carmen Grades"
  guide, teaching.resources.osu.edu, and a TA guide noting Canvas wants exactly this order): the
  columns ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment named
  ``Assignment Name (id)``; the second row is ``Points Possible`` with each assignment's points.
  Students are identified by their submission folder name, written as ``Student`` and ``SIS Login
  ID``; ``ID``, ``SIS User ID`` and ``Section`` stay empty. A submission that is missing leaves its
  cell empty, which Canvas reads as "no change". UTF-8 without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ..course.config import CourseConfig
from ..classroom.gradebook import (by_student, csv_number, csv_text, load_results, safe_filename, write_atomic,
                                   write_grades_csv, write_json)
from .report.stored import coerce_result, course_questions, optional_questions
from ..judge.audience import for_student
from ..judge.results import SubmissionResult

__all__ = ["CANVAS_COLUMNS", "EXPORT_DIR", "FORMATS", "export", "gradescope_results"]

Format = Literal["csv", "gradescope", "canvas"]
FORMATS: tuple[Format, ...] = ("csv", "gradescope", "canvas")
EXPORT_DIR = "export"
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"

_OUTPUT_CHARS = 8_000  # the submission-level output Gradescope shows
_NOTE_CHARS = 500


def export(out_dir: Path, fmt: str, config: CourseConfig,
           results: Iterable[SubmissionResult] | None = None) -> list[Path]:
    """Write the ``fmt`` export of ``out_dir``'s stored results (or of ``results``); return the paths."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, received {fmt!r}")
    out_dir = Path(out_dir)
    # the pages' typed reading: a hand-edited score "10" counts 0 here too, instead of stopping the export
    results = [coerce_result(r) for r in (load_results(out_dir) if results is None else results)]
    target = out_dir / EXPORT_DIR
    if fmt == "csv":
        questions = course_questions(config)
        extra = sorted({r.assignment for r in results} - set(questions))
        for assignment in extra:  # results of an assignment course.toml no longer lists: keep them
            questions[assignment] = sorted({t.question for r in results if r.assignment == assignment
                                            for t in r.tests})
        return [write_grades_csv(target, results, questions)]
    if fmt == "gradescope":
        return _write_gradescope(target / "gradescope", results, config.show_hidden_inputs)
    return [_write_canvas(target / "canvas.csv", results, config)]


# --- Gradescope ----------------------------------------------------------------------------------


def gradescope_results(result: SubmissionResult, show_hidden_inputs: bool = False) -> dict[str, Any]:
    """One submission as Gradescope's ``results.json``, limited to the specification's fields.

    Students read this file on Gradescope, so it is made from :func:`grader.judge.audience.for_student`:
    a hidden group says what kind of difference, never its inputs or expected values, and is
    ``after_published`` (its score and that text appear once the instructor publishes grades)."""
    result = for_student(result, show_hidden_inputs)
    data = result.to_json()
    numbers: dict[str, int] = {}
    groups: dict[str, int] = {}
    tests: list[dict[str, Any]] = []
    for test, record in zip(result.tests, data["tests"]):
        question = numbers.setdefault(test.question, len(numbers) + 1)
        groups[test.question] = group = groups.get(test.question, 0) + 1
        tests.append({
            "name": record["name"],
            "number": f"{question}.{group}",
            "score": record["score"],
            "max_score": record["max_score"],
            "status": record["status"],
            "output": record["output"],
            "tags": [test.question, "public" if test.public else "hidden"],
            "visibility": "visible" if test.public else "after_published",
        })
    output = [data["output"]] if data["output"] else []
    output += [note.text("en")[:_NOTE_CHARS] for note in result.notes[:20]]
    return {
        "score": data["score"],
        "execution_time": data["execution_time"],
        "output": "\n".join(output)[:_OUTPUT_CHARS],
        "stdout_visibility": "hidden",
        "extra_data": {
            "student": result.student,
            "assignment": result.assignment,
            "max_score": data["max_score"],
            "submission_sha256": result.submission_sha256,
            "grader_version": result.grader_version,
            "diagnoses": result.diagnoses,
        },
        "tests": tests,
    }


def _write_gradescope(folder: Path, results: Sequence[SubmissionResult], show_hidden_inputs: bool) -> list[Path]:
    paths = []
    for result in results:
        path = folder / safe_filename(result.student) / safe_filename(result.assignment) / "results.json"
        write_json(path, gradescope_results(result, show_hidden_inputs))
        paths.append(path)
    return paths


# --- Canvas --------------------------------------------------------------------------------------


def _points_possible(config: CourseConfig, assignment: str, results: Sequence[SubmissionResult]) -> float:
    own = config.assignments.get(assignment)
    if own is None:
        return max((r.max_score for r in results if r.assignment == assignment), default=0.0)
    optional = optional_questions(config).get(assignment, set())
    return sum(points for question, points in own.points.items() if question not in optional)


def _write_canvas(path: Path, results: Sequence[SubmissionResult], config: CourseConfig) -> Path:
    graded = {r.assignment for r in results}
    assignments = [a for a in config.assignments if a in graded] + sorted(graded - set(config.assignments))
    titles: Mapping[str, str] = {a: (config.assignments[a].title if a in config.assignments else a)
                                 for a in assignments}
    grouped = by_student(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*CANVAS_COLUMNS, *(f"{titles[a]} ({a})" for a in assignments)])
    writer.writerow([CANVAS_POINTS_ROW, "", "", "", "",
                     *(csv_number(_points_possible(config, a, results)) for a in assignments)])
    for student in sorted(grouped):
        own = grouped[student]
        writer.writerow([csv_text(student), "", "", student, "",
                         *(csv_number(own[a].score) if a in own else "" for a in assignments)])
    write_atomic(path, buffer.getvalue().encode("utf-8"))
    return path
