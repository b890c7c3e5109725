"""What every LMS export reads the same way: the assignments graded, their possible points, the score
that goes in (after the late penalty), and the notes an export leaves for the instructor."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..classroom.gradebook import csv_number
from ..course.config import CourseConfig
from ..judge.catalog import Message
from ..judge.results import SubmissionResult
from .report.stored import optional_questions

__all__ = ["Exported", "add_page", "graded_assignments", "names", "points_possible", "score_cell", "title_of"]

_LISTED = 20  # students named in one note; the rest are counted
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the same zip for the same pages, whenever it is made


@dataclass(frozen=True)
class Exported:
    """The files an export wrote, and what the instructor must know before uploading them (rows the
    LMS cannot match, grades it would refuse), as catalog messages."""

    paths: tuple[Path, ...]
    notes: tuple[Message, ...] = field(default=())


def graded_assignments(config: CourseConfig, results: Sequence[SubmissionResult]) -> list[str]:
    """The assignments with results: course.toml's order, then any it no longer lists, sorted."""
    graded = {r.assignment for r in results}
    return [a for a in config.assignments if a in graded] + sorted(graded - set(config.assignments))


def title_of(config: CourseConfig, assignment: str) -> str:
    own = config.assignments.get(assignment)
    return own.title if own is not None else assignment


def points_possible(config: CourseConfig, assignment: str, results: Sequence[SubmissionResult]) -> float:
    """The assignment's points without its extra credit (course.toml's), else its results' maximum."""
    own = config.assignments.get(assignment)
    if own is None:
        return max((r.max_score for r in results if r.assignment == assignment), default=0.0)
    optional = optional_questions(config).get(assignment, set())
    return sum(points for question, points in own.points.items() if question not in optional)


def score_cell(result: SubmissionResult | None) -> str:
    """What an LMS's grade cell gets: the score after the late penalty (:attr:`SubmissionResult.final_score`);
    empty when there is no result or the grader failed on it (not graded is not a zero, and an empty
    cell leaves the LMS's grade as it is)."""
    if result is None or result.grader_error is not None:
        return ""
    return csv_number(result.final_score)


def names(students: Sequence[str]) -> str:
    """Students for a note: the first ones by name, the rest counted."""
    shown = ", ".join(students[:_LISTED])
    return shown if len(students) <= _LISTED else f"{shown} (+{len(students) - _LISTED})"


def add_page(archive: zipfile.ZipFile, name: str, page: str) -> None:
    """One HTML page into ``archive``, readable by whoever unpacks it (0644), at a fixed time."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, page.encode("utf-8"))
