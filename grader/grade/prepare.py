"""The cases of a run and their reference answers, generated once from the course's secret seed
and shared by every submission (and by the self-check kit, for the public groups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..course.config import CourseConfig
from ..course.spec import Assignment, Case, Group, Question, group_rng

__all__ = ["PreparedGroup", "PreparedQuestion", "prepare"]


@dataclass(frozen=True)
class PreparedGroup:
    group: Group
    cases: tuple[tuple[Case, Any], ...]
    points: float


@dataclass(frozen=True)
class PreparedQuestion:
    question: Question
    groups: tuple[PreparedGroup, ...]


def prepare(assignment: Assignment, config: CourseConfig, *, public_only: bool = False) -> tuple[PreparedQuestion, ...]:
    """Every question's cases with the reference answers, generated once from the seed."""
    points = config.assignments[assignment.id].points
    assignment.validate(points)
    prepared = []
    for question in assignment.questions:
        groups = [g for g in question.groups if g.public or not public_only]
        share = points[question.id] / len(question.groups)
        prepared_groups = []
        for group in groups:
            cases = group.cases(group_rng(config.seed, assignment.id, question.id, group))
            expected = [_expected(question, c) for c in cases]
            prepared_groups.append(PreparedGroup(group, tuple(zip(cases, expected)), share))
        prepared.append(PreparedQuestion(question, tuple(prepared_groups)))
    return tuple(prepared)


def _expected(question: Question, case: Case) -> Any:
    if question.reference is None:  # assessed, not compared
        return None
    args, kwargs = case.resolved()
    return question.reference(*args, **kwargs)
