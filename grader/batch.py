"""Grading a whole class: find submissions, skip what the gradebook already has, grade the rest.

Results are written (atomically) and recorded as each submission finishes, so an interrupted run
keeps everything done so far and a rerun resumes: a submission whose notebook bytes, course
configuration and grader version are unchanged is taken from the gradebook, not executed again.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import __version__
from .assignments import course_assignments
from .config import CourseConfig
from .faces import ensure_faces
from .grade import grade_notebook, prepare
from .gradebook import Gradebook, config_hash, write_grades_csv, write_result
from .results import SubmissionResult
from .submissions import Submission, Unrecognised, find_submissions

__all__ = ["ClassRun", "grade_class"]

Event = Literal["cached", "graded", "failed"]


@dataclass
class ClassRun:
    """What a class run did, for the summary the CLI prints."""

    results: list[SubmissionResult] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    not_graded: list[tuple[Submission, str]] = field(default_factory=list)
    cached: int = 0


def code_fingerprint() -> str:
    """A hash of the grader's own source: a changed test case or reference regrades everything,
    even when the version number was not bumped (instructors fix tests mid-course)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _keep(book: Gradebook, out_dir: Path, run: ClassRun, sub: Submission, event: Event, result: SubmissionResult,
          key: str, on_done: Callable[[Submission, Event, SubmissionResult], None]) -> None:
    """Record one finished submission at once, so an interrupted run loses nothing."""
    book.record(result, key)
    write_result(out_dir, result)
    run.results.append(result)
    on_done(sub, event, result)


def ensure_synthetic_faces(config: CourseConfig) -> None:
    """Generate the bundled synthetic face set where ``course.toml`` points, if it is missing."""
    faces = config.faces
    root = faces.train_dir.parent
    if (faces.train_dir, faces.heldout_dir) != (root / "train", root / "heldout"):
        raise ValueError(f"{config.path}: [faces] with synthetic = true needs train_dir and heldout_dir to be "
                         f"the train/ and heldout/ folders of one directory, received {faces.train_dir} and "
                         f"{faces.heldout_dir}")
    ensure_faces(root)


def grade_class(submissions: Path, out_dir: Path, config: CourseConfig, *, assignment: str | None = None,
                jobs: int = 1,
                on_start: Callable[[int], None] = lambda total: None,
                on_done: Callable[[Submission, Event, SubmissionResult], None] = lambda s, e, r: None) -> ClassRun:
    """Grade every submission under ``submissions`` into ``out_dir``, ``jobs`` at a time.

    Each submission's work happens in its own kernel process, so threads are enough to keep
    ``jobs`` kernels busy; results are recorded by this thread alone, as each one finishes.
    """
    declared = course_assignments()
    ids = list(config.assignments)
    run = ClassRun()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cnn-grader-unzip-") as unzip:
        aliases = {aid: declared[aid].aliases if aid in declared else () for aid in ids}
        found, run.unrecognised = find_submissions(submissions, aliases, force_assignment=assignment,
                                                   extract_to=Path(unzip))
        gradable = []
        for sub in found:
            if sub.assignment in declared:
                gradable.append(sub)
            else:
                run.not_graded.append((sub, "automatic grading of this assignment is not available yet"))
        on_start(len(gradable))
        if config.faces.synthetic and any(s.assignment == "04-gender-cnn" for s in gradable):
            ensure_synthetic_faces(config)
        prepared = {aid: prepare(declared[aid], config) for aid in {s.assignment for s in gradable}}
        key = config_hash(config.path, extra=f"seed={config.seed};code={code_fingerprint()}")
        with Gradebook(out_dir) as book, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            pending = {}
            for sub in gradable:
                result = book.lookup(sub.student, sub.assignment, sub.sha256, key, __version__)
                if result is not None:
                    run.cached += 1
                    _keep(book, out_dir, run, sub, "cached", result, key, on_done)
                    continue
                future = pool.submit(grade_notebook, sub.path, student=sub.student,
                                     assignment=declared[sub.assignment], prepared=prepared[sub.assignment],
                                     config=config, source=sub.source, files=sub.folder)
                pending[future] = sub
            for future in as_completed(pending):
                result = future.result()
                event: Event = "failed" if result.error else "graded"
                _keep(book, out_dir, run, pending[future], event, result, key, on_done)
        run.results.sort(key=lambda r: (r.student, r.assignment))
    questions = {aid: [q.id for q in declared[aid].questions] for aid in ids if aid in declared}
    write_grades_csv(out_dir, run.results, questions)
    return run
