"""What a class run grades: the submissions found, the declarations they need, their prepared cases.

Planning is everything decided before any student's code runs, so its failures (a missing
submissions folder, a bad ``course.toml``, face data that cannot be generated) stop the run before
anything is sent off. It is split in two because the progress display learns the number of
submissions (:attr:`Plan.gradable`) before the slower part, providing the assignments' needs and
preparing their cases (:func:`ready`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..course.assignments import course_assignments
from ..course.config import CourseConfig
from ..course.spec import Assignment
from ..judge.catalog import Message
from ..judge.results import StudentRecord
from ..grade.prepare import PreparedQuestion, prepare
from ..intake.roster import Roster, load_roster
from ..intake.submissions import Submission, Unrecognised, find_submissions
from .needs import provide

__all__ = ["NOT_AVAILABLE", "Plan", "assignment_names", "course_roster", "plan_class", "ready"]

NOT_AVAILABLE = Message("intake.not_available")


@dataclass(frozen=True)
class Plan:
    """The submissions of one run, sorted into those to grade and those that cannot be."""

    gradable: tuple[Submission, ...]
    unrecognised: tuple[Unrecognised, ...]
    not_graded: tuple[tuple[Submission, Message], ...]  # recognised, but no declaration to grade it by
    assignments: Mapping[str, Assignment]  # the declarations of the assignments in ``gradable``
    columns: Mapping[str, tuple[str, ...]]  # grades.csv: every configured, declared assignment's questions
    missing: tuple[StudentRecord, ...] = ()  # on the roster, but nothing of theirs was found
    roster_problems: tuple[Message, ...] = ()  # what was wrong with the roster file (named in each)


@contextmanager
def plan_class(submissions: Path, config: CourseConfig, *, assignment: str | None = None) -> Iterator[Plan]:
    """Find the submissions under ``submissions`` (``assignment`` forces every notebook's
    assignment). Zipped submissions are unpacked into a temporary folder that lives as long as the
    plan, since the graders read them from there."""
    declared = course_assignments()
    ids = list(config.assignments)
    roster = course_roster(config)
    with tempfile.TemporaryDirectory(prefix="cnn-grader-unzip-") as unzip:
        found, unrecognised = find_submissions(submissions, assignment_names(config), force_assignment=assignment,
                                               extract_to=Path(unzip), roster=roster)
        gradable = tuple(sub for sub in found if sub.assignment in declared)
        unrecognised = [*unrecognised, *_unused_extensions(config, found)]
        yield Plan(gradable=gradable, unrecognised=tuple(unrecognised),
                   not_graded=tuple((sub, NOT_AVAILABLE) for sub in found if sub.assignment not in declared),
                   assignments={sub.assignment: declared[sub.assignment] for sub in gradable},
                   columns={aid: tuple(q.id for q in declared[aid].questions) for aid in ids if aid in declared},
                   missing=roster.missing(sub.student for sub in found) if roster is not None else (),
                   roster_problems=roster.problems if roster is not None else ())


def _unused_extensions(config: CourseConfig, found: Sequence[Submission]) -> list[Unrecognised]:
    """course.toml's extensions for a key no submission of this run has (``"Wang Fang"`` where the
    grader says ``wang_fang``): said, since an extension silently unused is a late penalty the
    student was promised they would not pay."""
    students = {sub.student for sub in found}
    unused = []
    for aid, own in config.assignments.items():
        for student in own.extensions:
            if student not in students:
                message = Message("intake.extension_unused", {"student": student, "assignment": aid})
                unused.append(Unrecognised(config.path.name, message.text("en"), message))
    return unused


def assignment_names(config: CourseConfig) -> dict[str, tuple[str, ...]]:
    """Every configured assignment's other names: its declaration's aliases, then course.toml's
    title words and aliases (the declaration's first: they are what the notebooks were released as)."""
    declared = course_assignments()
    return {aid: tuple(dict.fromkeys((*(declared[aid].aliases if aid in declared else ()), *own.names())))
            for aid, own in config.assignments.items()}


def course_roster(config: CourseConfig) -> Roster | None:
    """The roster ``course.toml`` names, or ``None``; its problems travel with it, none raises."""
    return load_roster(config.roster) if config.roster is not None else None


def ready(plan: Plan, config: CourseConfig) -> dict[str, tuple[PreparedQuestion, ...]]:
    """Provide what the planned assignments need, then prepare their cases and reference answers,
    once for the whole run (a cluster's workers prepare their own copy; these are still made here
    first, so a bad ``course.toml`` fails before any task is sent)."""
    provide(plan.assignments.values(), config)
    return {aid: prepare(declared, config) for aid, declared in plan.assignments.items()}
