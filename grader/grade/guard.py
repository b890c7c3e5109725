"""The stage guard: an unexpected exception while grading one submission, tagged with where it happened.

:func:`stage` wraps each step of :func:`grader.grade.notebook.grade_notebook` (and the class run's
writing of a result); the submission's guard there turns a :class:`StageFailure` into that
submission's ``grader_error`` result naming the stage, like pytest's ``CallInfo.from_call``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..run.execute import KernelStartError, RestartFailed

__all__ = ["StageFailure", "stage"]


class StageFailure(Exception):
    """An unexpected exception while grading one submission, tagged with the stage it happened in."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Tag any unexpected exception of the block with ``name`` (the innermost stage wins)."""
    try:
        yield
    except (StageFailure, KernelStartError, RestartFailed):
        raise
    except Exception as exc:
        raise StageFailure(name) from exc
