"""Where the pages go and how they link to each other and to the result files; the Jinja environment."""

from __future__ import annotations


import hashlib
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ...classroom.gradebook import RESULTS_DIR, safe_filename
from ..templates import TemplatesNotFound, template_folder

REPORT_DIR = "report"
INDEX_FILE = "index.html"


class ReportError(RuntimeError):
    """The reports cannot be rendered (no templates, a bad language); the message says why."""


def _student_folder(student: str) -> str:
    """The student's folder of ``report/``: as in ``results/``, except that it is never the class
    summary's name (a student called ``index.html`` made a folder the index could not be written
    over, on a case-insensitive disk ``INDEX.HTML`` too): that one gets a hash, like any renamed name."""
    folder = safe_filename(student)
    if folder.lower() != INDEX_FILE:
        return folder
    return f"{folder}~{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def report_path(out_dir: Path, student: str, assignment: str) -> Path:
    """``out_dir/report/STUDENT/ASSIGNMENT.html`` (file names as in ``results/``)."""
    return Path(out_dir) / REPORT_DIR / _student_folder(student) / f"{safe_filename(assignment)}.html"


def page_href(student: str, assignment: str) -> str:
    """The link from ``report/index.html`` to a submission's page."""
    return f"{quote(_student_folder(student))}/{quote(safe_filename(assignment))}.html"


def result_href(student: str, assignment: str) -> str:
    """The link from ``report/index.html`` to a submission's result file."""
    return f"../{RESULTS_DIR}/{quote(safe_filename(student))}/{quote(safe_filename(assignment))}.json"


def jinja_environment() -> Environment:
    try:
        folder = template_folder()
    except TemplatesNotFound as exc:
        raise ReportError(str(exc)) from None
    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
