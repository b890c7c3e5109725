"""The cases of a run and their reference answers, generated once from the course's secret seed
and shared by every submission (and by the self-check kit, for the public groups)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..course.config import CourseConfig
from ..course.spec import Assignment, Case, Group, Question, group_rng

__all__ = ["PreparedGroup", "PreparedQuestion", "prepare", "split_points"]


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
        shares = split_points(points[question.id], len(question.groups))
        prepared_groups = []
        for group, share in zip(question.groups, shares, strict=True):
            if public_only and not group.public:
                continue
            cases = group.cases(group_rng(config.seed, assignment.id, question.id, group))
            expected = [_expected(question, c) for c in cases]
            prepared_groups.append(PreparedGroup(group, tuple(zip(cases, expected)), share))
        prepared.append(PreparedQuestion(question, tuple(prepared_groups)))
    return tuple(prepared)


def split_points(points: float, groups: int) -> list[float]:
    """``points`` split equally across ``groups`` in the results' steps of 0.0001, the first groups
    taking what does not divide: 10 over 3 groups is 3.3334 + 3.3333 + 3.3333, which adds up to 10
    (three rounded thirds would add up to 9.9999, and the total to less than course.toml says)."""
    units = round(points * 10_000)
    base, extra = divmod(units, groups)
    return [(base + (index < extra)) / 10_000 for index in range(groups)]


def _expected(question: Question, case: Case) -> Any:
    if question.reference is None:  # assessed, not compared
        return None
    args, kwargs = case.resolved()
    return question.reference(*args, **kwargs)
