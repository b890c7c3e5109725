"""Feedback to hand out (``grader report DIR --students``): ``DIR/export/students/STUDENT.zip``, one per
student, holding that student's pages and nothing else.

Each zip is made from the stored results, not copied from ``report/``: its pages are rendered anew
by :func:`grader.publish.report.render_submission`, which starts from
:func:`grader.judge.audience.for_student` (a hidden group shows its call by types and shapes and the
kind of difference, never its inputs or expected values). It holds ``STUDENT/ASSIGNMENT.html`` for
each of the student's results (the names of ``report/``) and nothing more: the pages are
self-contained (inline CSS, no script, nothing fetched), so they need no other file, and no result
file, class page or other student's page is ever put in. A page that cannot be rendered is left out
of the zip (and said), rather than handed out as an error page. The zips of an earlier run whose
student has no result any more (renamed by the roster, say) are removed: every zip in the folder is
this run's.

Not the default of ``grader report``: a zip per student is a copy of pages made for handing out, and a
copy made on every re-render is one more thing that can be handed out stale after the next regrade.
Making them is a step of its own, run right before they go out, like ``grader export``.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

from ..classroom.gradebook import atomic_file
from ..course.config import CourseConfig
from ..judge.catalog import Message
from ..judge.results import SubmissionResult
from .lms import Exported, add_page
from .report import REPORT_DIR, render_submission, report_path
from .report.paths import jinja_environment
from .report.text import translator

__all__ = ["STUDENTS_DIR", "write_student_zips"]

log = logging.getLogger(__name__)

STUDENTS_DIR = Path("export") / "students"


def _page_name(result: SubmissionResult) -> str:
    """``STUDENT/ASSIGNMENT.html``, as the page is named under ``report/``."""
    return report_path(Path(), result.student, result.assignment).relative_to(REPORT_DIR).as_posix()


def write_student_zips(out_dir: Path, results: Sequence[SubmissionResult], config: CourseConfig,
                       lang: str | None = None) -> Exported:
    """Write ``out_dir/export/students/STUDENT.zip`` for every student with a result."""
    lang = lang or config.language
    translator(lang)  # a bad language fails before anything is written
    env = jinja_environment()
    by_folder: dict[str, list[SubmissionResult]] = {}
    for result in results:
        by_folder.setdefault(_page_name(result).split("/")[0], []).append(result)
    paths, notes = [], []
    for folder, own in sorted(by_folder.items()):
        path = Path(out_dir) / STUDENTS_DIR / f"{folder}.zip"
        with atomic_file(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as archive:
            for result in sorted(own, key=lambda r: r.assignment):
                try:
                    page = render_submission(result, config, lang, environment=env)
                except Exception as exc:  # one page's failure is that page's: the student's others still go
                    log.exception("%s/%s: the page could not be rendered", result.student, result.assignment)
                    notes.append(Message("export.page_failed", {
                        "student": result.student, "assignment": result.assignment,
                        "reason": f"{type(exc).__name__}: {exc}"[:200]}))
                    continue
                add_page(archive, _page_name(result), page)
        paths.append(path)
    for stale in sorted((Path(out_dir) / STUDENTS_DIR).glob("*.zip")):
        if stale not in paths:  # an earlier run's zip of a student with no result now: never to be handed out
            stale.unlink()
    return Exported(tuple(paths), tuple(notes))
