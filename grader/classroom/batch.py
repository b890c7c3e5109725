"""Grading a whole class: find submissions, skip what the gradebook already has, grade the rest.

Results are written (atomically) and recorded as each submission finishes, so an interrupted run
keeps everything done so far and a rerun resumes: a submission whose notebook bytes, course
configuration and grader version are unchanged is taken from the gradebook, not executed again.

:func:`grade_class` only orders the steps, each a module of its own so that each can be read and
tested alone: :mod:`~grader.classroom.plan` (what to grade), :mod:`~grader.classroom.cache` (what is
already graded), :mod:`~grader.classroom.runner` (where the rest is graded: the caller's choice),
:mod:`~grader.classroom.collect` (keeping each result as it arrives),
:mod:`~grader.classroom.gradebook` (the files) and, once every result is kept,
:mod:`~grader.classroom.similarity_files` (the similarity pass over the kept results, which reads
them and never changes one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..course.config import CourseConfig
from ..intake.submissions import Submission, Unrecognised
from ..judge.catalog import Message
from ..judge.results import StudentRecord, SubmissionResult
from .cache import cache_key, code_fingerprint, stored_results
from .collect import Event, Keeper, collect
from .gradebook import Gradebook, config_hash, write_grades_csv
from .plan import plan_class, ready
from .regrade import RunChanges, keep_changes
from .runner import Runner, Work
from .similarity_files import SimilarityOutcome, clear_similarity, similarity_pass

__all__ = ["ClassRun", "Event", "grade_class"]


@dataclass
class ClassRun:
    """What a class run did, for the summary the CLI prints."""

    results: list[SubmissionResult] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    not_graded: list[tuple[Submission, Message]] = field(default_factory=list)
    cached: int = 0
    changes: RunChanges | None = None  # what this run changed since each submission's previous grade
    missing: list[StudentRecord] = field(default_factory=list)  # on the roster, nothing found (grader.intake.roster)
    roster_problems: list[Message] = field(default_factory=list)
    similarity: SimilarityOutcome | None = None  # the similarity pass; None when skipped (--no-similarity)
    files: dict[Path, str] = field(default_factory=dict)  # the result files this run wrote or left: their SHA-256


def grade_class(submissions: Path, out_dir: Path, config: CourseConfig, *, runner: Runner,
                assignment: str | None = None, on_start: Callable[[int], None] = lambda total: None,
                on_done: Callable[[Submission, Event, SubmissionResult], None] = lambda s, e, r: None,
                similarity: bool = True) -> ClassRun:
    """Grade every submission under ``submissions`` into ``out_dir`` on ``runner``
    (:func:`grader.classroom.runner.local_runner` or :class:`grader.classroom.distributed.DaskRunner`,
    whose sandbox is settled when it is made, before anything is written here).

    ``assignment`` forces every notebook's assignment. ``on_start`` gets the number of submissions
    to grade, ``on_done`` each one as it is kept, from this thread alone. With ``similarity`` the
    kept results are compared (:func:`~grader.classroom.similarity_files.similarity_pass`) after
    ``grades.csv`` is written. An earlier run's similarity files are removed as soon as the run has
    the folder (any way it stops, killed too, none is then shown as this run's).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with plan_class(submissions, config, assignment=assignment) as plan:
        on_start(len(plan.gradable))
        prepared = ready(plan, config)
        key = cache_key(config)
        with Gradebook(out_dir) as book:
            # Once the gradebook opens, the earlier run's pairs go: however this run ends (stopped,
            # killed, --no-similarity), none is shown as its own; only the pass below writes new ones.
            clear_similarity(out_dir)
            run = book.begin_run(key, config_hash(config.path), code_fingerprint(), __version__, len(plan.gradable))
            try:
                keeper = Keeper(book, out_dir, key, prepared, on_done, run, course=config)
                todo = []
                with book.batch():  # one commit for them all: a stopped run finds them again next time
                    for sub, stored in stored_results(book, plan.gradable, key):
                        if stored is None:
                            todo.append(sub)
                        else:
                            keeper.cached(sub, stored)
                cached = len(plan.gradable) - len(todo)
                with runner.session(Work(tuple(todo), plan.assignments, prepared, config)) as session:
                    collect(session, todo, keeper)
                book.finish_run(run)
            finally:  # a stopped run's changes too, marked unfinished: the page must not show the last run's
                changes = keep_changes(book, out_dir, run)
        results = sorted(keeper.results, key=lambda r: (r.student, r.assignment))
        write_grades_csv(out_dir, results, plan.columns)
        outcome = _similarity(out_dir, results, plan.gradable, config) if similarity else None
    return ClassRun(results, list(plan.unrecognised), list(plan.not_graded), cached, changes,
                    list(plan.missing), list(plan.roster_problems), outcome, keeper.files)


def _similarity(out_dir: Path, results: list[SubmissionResult], gradable: Sequence[Submission],
                config: CourseConfig) -> SimilarityOutcome:
    """The pass over the kept results, each read from the notebook it was graded from (while a zip's
    extracted files are still there). Ctrl-C during the pass leaves none of its files."""
    try:
        return similarity_pass(out_dir, results, {(s.student, s.assignment): s.path for s in gradable}, config)
    except KeyboardInterrupt:
        clear_similarity(out_dir)
        raise

