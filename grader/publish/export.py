"""Grade exports from stored results (``grader export DIR --format csv|gradescope|canvas|moodle``).

Everything is read from ``DIR/results`` and written under ``DIR/export/``; nothing is executed.

- ``csv``: ``export/grades.csv``, the class table of :func:`grader.classroom.gradebook.write_grades_csv`: a row
  per student, a column per question and per assignment, then the total.
- ``gradescope``: ``export/gradescope/STUDENT/ASSIGNMENT/results.json``, one per submission, with only
  the fields of Gradescope's autograder specification ("Output format" of
  https://gradescope-autograders.readthedocs.io/en/latest/specs/, from gradescope/autograder_samples
  ``docs/specs.md``): top level ``score``, ``execution_time``, ``output``, ``stdout_visibility``,
  ``extra_data``, ``tests``; per test ``score``, ``max_score``, ``status``, ``name``, ``number``,
  ``output``, ``tags``, ``visibility``. The grader's own object goes, shortened, into ``extra_data``.
- ``canvas``: ``export/canvas.csv``, Canvas's gradebook import file with each student's Canvas ID
  (:mod:`grader.publish.canvas`, which says what Canvas's importer reads).
- ``moodle``: ``export/moodle/ASSIGNMENT/grading_worksheet.csv`` and ``feedback_files.zip``, Moodle's
  offline grading worksheet and its feedback-files zip of the students' pages (:mod:`grader.publish.moodle`).

The LMS exports write the score after the late penalty (``final_score``); ``grades.csv`` and the
Gradescope files keep the raw score. :func:`write_export` also returns what the instructor must know
before uploading (rows an LMS cannot match, grades it would refuse). Pages and exports get the usual
permissions (0644 under the usual umask), so a web server can publish them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..course.config import CourseConfig
from ..classroom.gradebook import load_results, safe_filename, write_grades_csv, write_json
from .canvas import CANVAS_COLUMNS, write_canvas
from .lms import Exported
from .moodle import write_moodle
from .report.stored import coerce_result, course_questions
from .report.text import translator
from ..judge.audience import for_student
from ..judge.results import SubmissionResult

__all__ = ["CANVAS_COLUMNS", "EXPORT_DIR", "FORMATS", "Exported", "export", "gradescope_results", "write_export"]

Format = Literal["csv", "gradescope", "canvas", "moodle"]
FORMATS: tuple[Format, ...] = ("csv", "gradescope", "canvas", "moodle")
EXPORT_DIR = "export"

_OUTPUT_CHARS = 8_000  # the submission-level output Gradescope shows
_NOTE_CHARS = 500


def export(out_dir: Path, fmt: str, config: CourseConfig,
           results: Iterable[SubmissionResult] | None = None) -> list[Path]:
    """Write the ``fmt`` export of ``out_dir``'s stored results (or of ``results``); return the paths."""
    return list(write_export(out_dir, fmt, config, results).paths)


def write_export(out_dir: Path, fmt: str, config: CourseConfig, results: Iterable[SubmissionResult] | None = None,
                 *, lang: str | None = None, now: datetime | None = None) -> Exported:
    """Write the ``fmt`` export under ``out_dir/export/``: the paths, and the notes for the instructor.
    ``lang`` is what students read in it (Moodle's comments and pages; default: course.toml's);
    ``now`` the time Moodle's worksheet says its grades were changed (default: now)."""
    if fmt not in FORMATS:
        raise ValueError(f"export format must be one of {', '.join(FORMATS)}, received {fmt!r}")
    lang = lang or config.language
    translator(lang)  # a bad language fails before anything is written
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
        return Exported((write_grades_csv(target, results, questions),))
    if fmt == "gradescope":
        return Exported(tuple(_write_gradescope(target / "gradescope", results, config.show_hidden_inputs)))
    if fmt == "canvas":
        return write_canvas(target, results, config)
    return write_moodle(target / "moodle", results, config, lang, now)


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
