"""What a class run grades: the submissions found, the declarations they need, their prepared cases.

Planning is everything decided before any student's code runs, so its failures (a missing
submissions folder, a bad ``course.toml``, face data that cannot be generated) stop the run before
anything is sent off. It is split in two because the progress display learns the number of
submissions (:attr:`Plan.gradable`) before the slower part, providing the assignments' needs and
preparing their cases (:func:`ready`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..course.assignments import course_assignments
from ..course.config import CourseConfig
from ..course.spec import Assignment
from ..judge.catalog import Message
from ..grade.prepare import PreparedQuestion, prepare
from ..intake.submissions import Submission, Unrecognised, find_submissions
from .needs import provide

__all__ = ["NOT_AVAILABLE", "Plan", "plan_class", "ready"]

NOT_AVAILABLE = Message("intake.not_available")


@dataclass(frozen=True)
class Plan:
    """The submissions of one run, sorted into those to grade and those that cannot be."""

    gradable: tuple[Submission, ...]
    unrecognised: tuple[Unrecognised, ...]
    not_graded: tuple[tuple[Submission, Message], ...]  # recognised, but no declaration to grade it by
    assignments: Mapping[str, Assignment]  # the declarations of the assignments in ``gradable``
    columns: Mapping[str, tuple[str, ...]]  # grades.csv: every configured, declared assignment's questions


@contextmanager
def plan_class(submissions: Path, config: CourseConfig, *, assignment: str | None = None) -> Iterator[Plan]:
    """Find the submissions under ``submissions`` (``assignment`` forces every notebook's
    assignment). Zipped submissions are unpacked into a temporary folder that lives as long as the
    plan, since the graders read them from there."""
    declared = course_assignments()
    ids = list(config.assignments)
    aliases = {aid: declared[aid].aliases if aid in declared else () for aid in ids}
    with tempfile.TemporaryDirectory(prefix="cnn-grader-unzip-") as unzip:
        found, unrecognised = find_submissions(submissions, aliases, force_assignment=assignment,
                                               extract_to=Path(unzip))
        gradable = tuple(sub for sub in found if sub.assignment in declared)
        yield Plan(gradable=gradable, unrecognised=tuple(unrecognised),
                   not_graded=tuple((sub, NOT_AVAILABLE) for sub in found if sub.assignment not in declared),
                   assignments={sub.assignment: declared[sub.assignment] for sub in gradable},
                   columns={aid: tuple(q.id for q in declared[aid].questions) for aid in ids if aid in declared})


def ready(plan: Plan, config: CourseConfig) -> dict[str, tuple[PreparedQuestion, ...]]:
    """Provide what the planned assignments need, then prepare their cases and reference answers,
    once for the whole run (a cluster's workers prepare their own copy; these are still made here
    first, so a bad ``course.toml`` fails before any task is sent)."""
    provide(plan.assignments.values(), config)
    return {aid: prepare(declared, config) for aid, declared in plan.assignments.items()}
