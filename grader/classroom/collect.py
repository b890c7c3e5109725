"""Collecting a run's results: each one kept the moment it arrives, whatever happens to the others.

Every submission ends in exactly one of three ways: a result (kept: written and recorded), a
``grader_error`` result (its future failed: a bug of the runner, a lost worker, a task that could not
even be packed), or nothing, when the run is stopped while it waits or runs — then the next run grades
it. One submission's failure never touches the queued ones. Only what is not about a submission stops
the run: a kernel that cannot start on this machine, no sandbox, and Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import CancelledError, Future, as_completed
from pathlib import Path
from typing import Literal

from ..course.config import CourseConfig
from ..grade.guard import StageFailure, stage
from ..grade.notebook import grader_error_result
from ..grade.prepare import PreparedQuestion
from ..intake.submissions import Submission
from ..judge.results import SubmissionResult
from ..run.execute import Aborted, KernelStartError
from ..run.sandbox import SandboxUnavailable
from .gradebook import Gradebook, Stored, result_bytes, result_path, write_result
from .late import apply_late
from .runner import Session

__all__ = ["Event", "Keeper", "collect", "with_intake"]

log = logging.getLogger(__name__)

Event = Literal["cached", "graded", "failed"]
_STOPS_THE_RUN = (KernelStartError, SandboxUnavailable)  # the machine's problem, not a submission's


class Keeper:
    """Records each finished submission at once, so an interrupted run loses nothing. A result the
    grader failed on is written for the instructor to see but never cached: the next run retries it.
    With ``course``, each result gets that course's late penalty (:mod:`grader.classroom.late`)."""

    def __init__(self, book: Gradebook, out_dir: Path, key: str, prepared: Mapping[str, Sequence[PreparedQuestion]],
                 on_done: Callable[[Submission, Event, SubmissionResult], None], run: int | None = None,
                 course: CourseConfig | None = None) -> None:
        self._book, self._out_dir, self._key, self._prepared, self._on_done = book, out_dir, key, prepared, on_done
        self._run = run  # the gradebook's run: every kept result is one of its entries, cached ones too
        self._course = course
        self.results: list[SubmissionResult] = []
        self.files: dict[Path, str] = {}  # each result file this run wrote (or found holding it): its bytes' SHA-256

    def cached(self, sub: Submission, stored: Stored) -> None:
        """Keep a result taken from the gradebook (recorded again: it is this run's latest)."""
        self._keep(sub, "cached", stored.result, stored)

    def graded(self, sub: Submission, result: SubmissionResult) -> None:
        """Keep a fresh result; one with an error (an unreadable notebook, say) counts as failed."""
        self._keep(sub, "failed" if result.error else "graded", result)

    def _keep(self, sub: Submission, event: Event, result: SubmissionResult, stored: Stored | None = None) -> None:
        """Write and record ``result``; if even that fails, the submission gets a ``grader_error``
        result naming the stage. A cached result that intake and the late policy left as it was
        stored is written as the gradebook's text, not encoded again."""
        result = apply_late(sub, with_intake(sub, result), self._course)
        try:
            with stage("write"):  # a cached result's file is rewritten only when it changed (a roster, a date)
                data = _unchanged_bytes(result, stored) or result_bytes(result)
                self.files[write_result(self._out_dir, result, data=data)] = hashlib.sha256(data).hexdigest()
                if result.grader_error is None:
                    self._book.record(result, self._key, self._run, cached=event == "cached",
                                      text=data.decode("utf-8"))
        except StageFailure as failure:
            log.error("could not store the result of %s/%s", sub.student, sub.assignment, exc_info=failure.__cause__)
            self.files.pop(result_path(self._out_dir, result.student, result.assignment), None)  # not what it holds now
            result = apply_late(sub, with_intake(sub, grader_error_result(
                sub.student, sub.assignment, sub.path, (), "write", failure.__cause__ or failure,
                result.execution_time, sub.source, like=result.tests)), self._course)
            try:
                write_result(self._out_dir, result)
            except Exception:  # the folder itself is unwritable: the summary and the exit status still say so
                log.exception("could not write the error result of %s/%s either", sub.student, sub.assignment)
        if result.grader_error is not None:
            event = "failed"
            self._enter_failure(result)
        self.results.append(result)
        self._on_done(sub, event, result)

    def _enter_failure(self, result: SubmissionResult) -> None:
        """Keep that the run reached a submission the grader failed on (its regrade diff leaves it
        out); a gradebook that cannot take even that is logged, the result file already says it."""
        if self._run is None:
            return
        try:
            self._book.record_failure(self._run, result, self._key)
        except Exception:
            log.exception("could not enter the grader error of %s/%s in the gradebook", result.student,
                          result.assignment)

    def failed(self, sub: Submission, exc: Exception) -> None:
        """Keep a ``grader_error`` result for a submission whose future failed outside its guard."""
        log.error("grading %s failed outside its guard", sub.source, exc_info=exc)
        self.graded(sub, grader_error_result(sub.student, sub.assignment, sub.path, self._prepared[sub.assignment],
                                             "grade", exc, source=sub.source))


def _unchanged_bytes(result: SubmissionResult, stored: Stored | None) -> bytes | None:
    """The stored result's file bytes, if ``result`` is still that stored result."""
    if stored is None or result != stored.result:
        return None
    return stored.file_bytes


def with_intake(sub: Submission, result: SubmissionResult) -> SubmissionResult:
    """``result`` carrying what intake knows of this run's submission: who it is from and when it
    was handed in. A cached result was stored with the run that graded it; the LMS's record of the
    student and the hand-in time are this run's (a roster fixed since, a resubmission's time)."""
    return dataclasses.replace(result, identity=sub.identity, submitted=sub.submitted)


def collect(session: Session, todo: Sequence[Submission], keeper: Keeper) -> None:
    """Send every submission of ``todo`` to ``session`` and keep each result as it arrives. On
    Ctrl-C: start nothing new, abandon the submissions being graded (their kernels are killed, they
    leave no result), keep any that had finished, then stop. When the machine cannot grade, the
    rest is stopped, not graded."""
    pending: dict[Future[SubmissionResult], Submission] = {}
    kept: set[Future[SubmissionResult]] = set()
    try:
        for sub in todo:  # inside the try: packing a cluster's tasks takes a while, Ctrl-C may come
            pending[_submit(session, sub)] = sub
        _drain(list(pending), pending, kept, keeper)
    except KeyboardInterrupt:
        waiting = [f for f in pending if f not in kept and not f.cancel()]
        session.abort()
        _drain(waiting, pending, kept, keeper, stopping=True)
        raise
    except BaseException:
        for future in pending:
            future.cancel()
        session.abort()
        raise


def _submit(session: Session, sub: Submission) -> Future[SubmissionResult]:
    """``session.submit(sub)``, or a future holding why it could not be sent (a student's folder the
    client cannot pack): that submission's failure, not the run's."""
    try:
        return session.submit(sub)
    except _STOPS_THE_RUN:
        raise
    except Exception as exc:
        failed: Future[SubmissionResult] = Future()
        failed.set_exception(exc)
        return failed


def _drain(futures: Iterable[Future[SubmissionResult]], pending: Mapping[Future[SubmissionResult], Submission],
           kept: set[Future[SubmissionResult]], keeper: Keeper, stopping: bool = False) -> None:
    """Keep each of ``futures`` as it finishes; a stopping run keeps the results that made it but
    invents no grader error for a submission it abandoned itself."""
    for future in as_completed(futures):
        kept.add(future)
        sub = pending[future]
        try:
            result = future.result()
        except (Aborted, CancelledError):  # abandoned by a stopping run: the next run grades it
            continue
        except _STOPS_THE_RUN:
            raise
        except Exception as exc:
            if not stopping:
                keeper.failed(sub, exc)
            continue
        keeper.graded(sub, result)
