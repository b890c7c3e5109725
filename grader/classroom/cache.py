"""Which submissions need grading: the gradebook's cache key and each submission's stored result.

A submission is taken from the gradebook when its notebook bytes, the course configuration (with
the seed in force) and the grader's code are all unchanged; anything else is graded again. The late
policy is no part of grading (:mod:`grader.classroom.late` applies it to cached results too), so a
changed due date, extension, ``[late]`` rule or ``[course] timezone`` regrades nothing. The key
is computed once per run, on the client: a cluster's workers are checked to run the same code
(:func:`code_fingerprint`) rather than computing keys of their own.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..course.config import CourseConfig
from ..intake.submissions import Submission
from .gradebook import Gradebook, Stored

__all__ = ["cache_key", "code_fingerprint", "stored_results"]


def code_fingerprint() -> str:
    """A hash of the grader's own source: a changed test case or reference regrades everything,
    even when the version number was not bumped (instructors fix tests mid-course)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]  # the whole grader package, not this folder
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(config: CourseConfig) -> str:
    """The configuration part of the key: what of ``course.toml`` grading reads, the seed and the
    grader's code (the notebook's SHA-256 and the grader version are the gradebook's other key
    columns)."""
    digest = hashlib.sha256(graded_part(config.path))
    digest.update(f"\0seed={config.seed};code={code_fingerprint()}".encode("utf-8"))
    return digest.hexdigest()


def graded_part(path: Path) -> bytes:
    """``course.toml`` without what only the late policy reads (``[late]``, ``[course] timezone``,
    each assignment's ``due`` and ``extensions``), as canonical JSON, so its comments and layout do
    not count either."""
    raw: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    raw.pop("late", None)
    raw.get("course", {}).pop("timezone", None)
    for entry in raw.get("assignments", {}).values():
        entry.pop("due", None)
        entry.pop("extensions", None)
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")


def stored_results(book: Gradebook, gradable: Sequence[Submission], key: str) -> Iterator[tuple[Submission, Stored | None]]:
    """Each submission of ``gradable`` in order, with the gradebook's stored result of it (``None``:
    it is to be graded). One at a time: a class's stored texts are not all held at once."""
    for sub in gradable:
        yield sub, book.lookup_stored(sub.student, sub.assignment, sub.sha256, key, __version__)
