"""The course's assignments, each declared once as data (see :mod:`grader.course.spec`)."""

from __future__ import annotations

from ..spec import Assignment
from . import convolution, counting, gender, pooling

__all__ = ["course_assignments"]


def course_assignments() -> dict[str, Assignment]:
    """The declared assignments by id."""
    return {a.id: a for a in (convolution.ASSIGNMENT, pooling.ASSIGNMENT, counting.ASSIGNMENT, gender.ASSIGNMENT)}
