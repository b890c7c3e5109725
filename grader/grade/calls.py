"""Calling a submission's functions on the prepared cases, and judging each test group.

:class:`Caller` makes the calls in the student's kernel through :mod:`grader.run.harness` (one round
trip per question, each call under its own alarm) and recovers the kernel when a call kills or wedges
it; the answers come back through :mod:`grader.run.decode` and are compared and diagnosed here, in the
grader's process. Every failing case becomes a :class:`~grader.judge.results.Failure` carrying a code
of :mod:`grader.judge.catalog`, its parameters and the structured call — never words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..course.config import CourseConfig, Limits
from ..course.spec import AssessContext, Case, Var, Verdict
from ..judge.catalog import Message, nested
from ..judge.compare import compare
from ..judge.diagnose import Evidence, Failing, diagnose_question
from ..judge.results import Failure, TestResult, call_of, excerpt
from ..run.decode import Answer, KerasFile, keep_model, read_answer
from ..run.execute import CellRun, Kernel, recover
from ..run.harness import HARNESS_SOURCE, VALUE, ExchangeTampered, call_source, discard, write_call
from ..run.inspect_model import Inspector
from ..run.sandbox import is_out_of_space
from .digest import wrong_digest
from .guard import stage
from .prepare import PreparedGroup, PreparedQuestion

__all__ = ["grade_question", "judge_answers"]

_CALL_SLACK = 5.0  # seconds the calls' cell may take beyond the calls' own alarms (reading inputs, saving)

# What a call's answer may come with (the second item of each of Caller's answers): nothing (""),
# or how the call failed when its answer alone cannot say it.
Outcome = str  # "", "error", "timeout", "crash", "no_room", "tampered"


class Caller:
    """Calls student functions; recovers the kernel when a call kills or wedges it."""

    def __init__(self, session: Kernel, scratch: Path, replay: Sequence[str], config: CourseConfig, limits: Limits,
                 models: Path) -> None:
        self.session, self.scratch, self.replay, self.models = session, scratch, replay, models
        self.limits, self.config = limits, config
        self.broken: dict[str, tuple[Answer, str]] = {}
        self.variables: dict[str, tuple[Answer, str]] = {}
        self.install()

    def install(self) -> None:
        self.session.run(HARNESS_SOURCE, self.limits.cell_timeout)

    def call(self, function: str, case: Case) -> tuple[Answer, str]:
        """One call. Fetching a notebook variable (the trained ``model``) is done once per
        submission: saving a Keras model again would cost seconds and give the same file."""
        variable = case.args[0].name if function == VALUE and case.args and isinstance(case.args[0], Var) else None
        if variable in self.variables:
            return self.variables[variable]
        result = _as_assessed(*self.call_all(function, [case])[0], self.limits)
        if variable is not None:
            self.variables[variable] = result
        return result

    def call_all(self, function: str, cases: Sequence[Case], watch: Sequence[str] = ()) -> list[tuple[Answer, str]]:
        """Call ``function`` on each case in one round trip to the kernel, each call under its own
        ``call_timeout`` (an alarm in the kernel; the cell's deadline is only the backstop). Cases
        answered before a hang or a crash keep their answers; the function is then not called
        again — its later cases fail the same way without costing a restart each. ``watch``: the
        student's own functions whose first calls from within ``function`` come back with each
        answer (``Answer.inner``)."""
        if function in self.broken:
            return [self.broken[function]] * len(cases)
        limit = self.limits.call_timeout
        results: list[tuple[Answer, str] | None] = [None] * len(cases)
        folders: dict[int, Path] = {}  # case index -> its exchange folder, for the cases written
        try:
            for i, case in enumerate(cases):
                try:
                    folders[i] = write_call(self.scratch, case.args, case.kwargs, case.files)
                except ExchangeTampered as exc:  # nothing was written outside the scratch folder
                    results[i] = (Answer("lost", evalue=str(exc), reason=exc.message), "tampered")
                except OSError as exc:  # the student filled the exchange folder (it has a tmpfs of its own)
                    if not is_out_of_space(exc):
                        raise
                    results[i] = (Answer("error", ename="OSError"), "no_room")
            if not folders:
                return results  # type: ignore[return-value]
            run = self.session.run(call_source(function, list(folders.values()), limit, watch),
                                   limit * len(folders) + _CALL_SLACK)
            unanswered = self._failed_run(function, run)
            for i, folder in folders.items():
                if unanswered is not None and not (folder / "answer.json").exists():
                    results[i] = unanswered
                    continue
                with stage("answers"):
                    answer = read_answer(folder, within=self.scratch)
                if answer.status == "timeout":
                    self.broken[function] = unanswered = (Answer("error", ename="timeout"), "timeout")
                    results[i] = unanswered
                    continue
                results[i] = (self._keep_models(answer), "")
            return results  # type: ignore[return-value]
        finally:
            for folder in folders.values():
                discard(folder)

    def _failed_run(self, function: str, run: CellRun) -> tuple[Answer, str] | None:
        """What the cases left without an answer get when the calls' cell did not end well."""
        if run.outcome in ("timeout", "dead_kernel"):
            if run.outcome == "dead_kernel" or not self.session.responsive():
                recover(self.session, self.replay, self.limits.cell_timeout)
                self.install()
            kind = "timeout" if run.outcome == "timeout" else "crash"
            self.broken[function] = (Answer("error", ename=kind, evalue=run.evalue), kind)
            return self.broken[function]
        if run.outcome == "error":  # the harness line itself failed: the student broke the harness
            return Answer("lost", ename=run.ename, evalue=run.evalue), "error"
        return None

    def _keep_models(self, answer: Answer) -> Answer:
        """Private copies of the Keras models a value holds (top level or nested in tuples, lists and
        dicts), beyond the kernel's reach: copied from the opened regular file, never moved or
        followed (a link to a classmate's model is refused), so nothing refers into the exchange
        folder once it is discarded. One model that cannot be kept makes the answer unsupported."""
        if answer.status != "ok":
            return answer

        def kept(value: Any) -> Any:
            if isinstance(value, KerasFile):
                self.models.mkdir(exist_ok=True)
                copy = keep_model(value.path, self.models / f"model{len(list(self.models.iterdir()))}.keras",
                                  within=self.scratch)
                if isinstance(copy, Answer):
                    raise _NotKept(copy)
                return copy
            if isinstance(value, tuple):
                return tuple(kept(v) for v in value)
            if isinstance(value, list):
                return [kept(v) for v in value]
            if isinstance(value, dict):
                return {k: kept(v) for k, v in value.items()}
            return value

        try:
            return dataclasses.replace(answer, value=kept(answer.value))
        except _NotKept as refused:
            return refused.answer


def _as_assessed(answer: Answer, outcome: Outcome, limits: Limits) -> tuple[Answer, Outcome]:
    """An answer as an assessed question reads it (grader.course.assignments.gender words what it
    holds): the inputs that could not be written say why in the answer itself."""
    if outcome == "tampered":
        reason = Message("tampered", {"reason": _reason(answer)})
    elif outcome == "no_room":
        reason = Message("no_room", {"limit": limits.scratch_mb})
    else:
        return answer, outcome
    return dataclasses.replace(answer, evalue=reason.text("en"), reason=reason), outcome


def _reason(answer: Answer) -> Any:
    """Why an answer holds no value, as a message parameter: the decoder's or the harness's
    message when it gave one, else the words the kernel sent."""
    return answer.reason.to_json() if answer.reason is not None else answer.evalue


class _NotKept(Exception):
    """Internal to :meth:`Caller._keep_models`: the refusal of one model of the value."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.evalue)
        self.answer = answer


def _assess_group(caller: Caller, pq: PreparedQuestion, pg: PreparedGroup, config: CourseConfig,
                  inspector: Inspector) -> TestResult:
    """A group of an assessed question: its score is the smallest fraction any case earns."""
    question = pq.question
    assert question.assess is not None

    def fetch(function: str, case: Case) -> Answer:
        return caller.call(function, case)[0]

    context = AssessContext(fetch, inspector.inspect)
    with stage("assess"):
        verdicts = [question.assess(context, case, config) for case, _ in pg.cases]
    worst = min(verdicts, key=lambda v: v.fraction)
    fraction = max(0.0, min(1.0, worst.fraction))
    failure = None if fraction >= 1 else _verdict_failure(worst)
    return TestResult(
        question=question.id, group=pg.group.name, group_zh=pg.group.zh, public=pg.group.public,
        score=round(pg.points * fraction, 4), max_score=round(pg.points, 4), cases=len(verdicts),
        passed_cases=sum(v.fraction >= 1 for v in verdicts), failure=failure, diagnosis=worst.diagnosis,
        extra_credit=question.optional, detail=_verdict_message(worst) if failure is None else None,
    )


def _verdict_message(verdict: Verdict) -> Message | None:
    """What an assessment's verdict says: its code when it gives one, else its words as they are."""
    if verdict.code:
        return Message(verdict.code, dict(verdict.params))
    return Message("text", {"text": verdict.message}) if verdict.message else None


def _verdict_failure(verdict: Verdict) -> Failure:
    """An assessment's verdict as a failure."""
    message = _verdict_message(verdict) or Message("text", {"text": ""})
    return Failure(verdict.kind, message.code, message.params)  # type: ignore[arg-type]


def grade_question(caller: Caller, pq: PreparedQuestion, config: CourseConfig, limits: Limits,
                   inspector: Inspector, watch: Mapping[str, Callable[..., Any]] | None = None) -> list[TestResult]:
    """Every group of a question; the function is called on all their cases in one go. ``watch``
    maps the student's own earlier functions this one calls (and that lost points) to their
    references: their answers inside this function's failing cases are checked against them."""
    if pq.question.assess is not None:
        return [_assess_group(caller, pq, pg, config, inspector) for pg in pq.groups]
    watch = watch or {}
    answers = caller.call_all(pq.question.id, [case for pg in pq.groups for case, _ in pg.cases], list(watch))
    return judge_answers(pq, answers, config, limits, watch)


def judge_answers(pq: PreparedQuestion, answers: Sequence[tuple[Answer, Outcome]], config: CourseConfig,
                  limits: Limits, watch: Mapping[str, Callable[..., Any]] | None = None) -> list[TestResult]:
    """Every group of a question judged from its answers (all the groups' cases in order), each
    diagnosed from the whole question's evidence (``watch``: see :func:`grade_question`)."""
    remaining = iter(answers)
    graded = [_grade_group(pq, pg, [next(remaining) for _ in pg.cases], config, limits, watch or {})
              for pg in pq.groups]
    with stage("diagnose"):
        named = diagnose_question(pq.question.mistakes, [evidence for _, evidence in graded], config.tolerance)
    return [dataclasses.replace(result, diagnosis=diagnosis) for (result, _), diagnosis in zip(graded, named)]


# The inner calls' arguments come from the student's kernel (within the decoder's limits): the
# reference runs on them in the grader's process, with no alarm, so its work is bounded first. The
# course's own inner calls work on pieces of the case's input (a channel, a padded copy, its
# kernel); a call on arrays far larger than the case's, or whose arrays and window sizes multiply
# to more than ``_INNER_WORK`` (an int size counts squared: a square window), is not weighed.
_INNER_WORK = 10**8
_INNER_GROWTH = 4  # how much larger than the case's largest array an inner call's may be (padding)


def _values(value: Any) -> int:
    """How many numbers an argument holds (an array, or nested lists that may be ragged)."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, (list, tuple)):
        return sum(_values(v) for v in value) or 1
    return 1


def _work(value: Any) -> int:
    """What an argument multiplies a reference's work by: an array its size, an int size its square,
    a pair of ints their product."""
    if isinstance(value, (bool, np.bool_)):
        return 1
    if isinstance(value, (int, np.integer)):
        return max(int(value), 1) ** 2
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        return int(np.prod([max(int(v), 1) for v in value], dtype=object))
    return _values(value)


def _small_enough(case: Case, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether the reference may run in the grader on the arguments an inner call was given."""
    given = [*args, *kwargs.values()]
    largest = max((_values(v) for v in (*case.args, *case.kwargs.values())), default=1)
    if any(_values(v) > _INNER_GROWTH * largest + 64 for v in given):
        return False
    work = 1
    for value in given:
        work *= _work(value)
        if work > _INNER_WORK:
            return False
    return True


def _wrong_inside(case: Case, answer: Answer, watch: Mapping[str, Callable[..., Any]],
                  config: CourseConfig) -> list[str]:
    """The watched functions that answered wrongly when the graded function called them on this case
    (their reference, run here on the arguments they were given, disagrees): the evidence that the
    mistake comes from there. The reference is the grader's own code, run on plain data."""
    wrong: list[str] = []
    for call in answer.inner:
        reference = watch.get(call.function)
        if reference is None or call.function in wrong or not _small_enough(case, call.args, call.kwargs):
            continue
        try:
            with stage("compare"):
                expected = reference(*call.args, **dict(call.kwargs))
        except Exception:  # arguments the reference refuses: no evidence either way
            continue
        with stage("compare"):
            if not compare(expected, call.value, config.tolerance).equal:
                wrong.append(call.function)
    return wrong


def _grade_group(pq: PreparedQuestion, pg: PreparedGroup, answers: Sequence[tuple[Answer, Outcome]],
                 config: CourseConfig, limits: Limits,
                 watch: Mapping[str, Callable[..., Any]]) -> tuple[TestResult, Evidence]:
    """One test group, all-or-nothing on its cases: the first failing case is its failure. Its
    diagnosis is the question's to make (:func:`judge_answers`), from the group's wrong and right
    answers (the evidence returned beside the result) and the other groups'."""
    question = pq.question
    failing: list[Failing] = []
    passing: list[Failing] = []
    first: Failure | None = None
    wrong: list[str] = []  # "CASE:DIGEST" of the wrong answers, for the similarity pass
    seen: list[str] = []  # watched functions that answered wrongly inside a failing case
    called: set[str] = set()  # watched functions called inside a failing case
    for index, ((case, expected), (answer, outcome)) in enumerate(zip(pg.cases, answers)):
        failure = _case_failure(question.id, case, expected, answer, outcome, config, limits)
        if failure is None:
            passing.append(Failing(case, expected, answer.value))
            continue
        if failure.kind == "wrong":
            failing.append(Failing(case, expected, answer.value))
            if (digest := wrong_digest(answer.value, case)) is not None:
                wrong.append(f"{index}:{digest}")
        seen += [name for name in _wrong_inside(case, answer, watch, config) if name not in seen]
        called |= {call.function for call in answer.inner}
        first = first or failure
    result = TestResult(
        question=question.id, group=pg.group.name, group_zh=pg.group.zh, public=pg.group.public,
        score=round(pg.points, 4) if first is None else 0.0, max_score=round(pg.points, 4),
        cases=len(pg.cases), passed_cases=len(passing), failure=first, extra_credit=question.optional,
        # Watched functions stay suspects unless they were called inside the failing cases and answered
        # right every time: then the mistake is this function's own, and they are not named.
        inherited_from=tuple(n for n in watch if n in seen or n not in called) if first is not None else (),
        inherited_seen=tuple(n for n in watch if n in seen) if first is not None else (),
        wrong=tuple(wrong),
    )
    return result, (failing, passing)


def _case_failure(function: str, case: Case, expected: Any, answer: Answer, outcome: Outcome, config: CourseConfig,
                  limits: Limits) -> Failure | None:
    """What went wrong with one case, as a code and its parameters (None when the answer is right).
    The call keeps its inputs: the record is the instructor's (a hidden group's student sees it
    through grader.judge.audience.student_view)."""
    call = call_of(function, case.args, case.kwargs)
    if answer.status == "ok":
        with stage("compare"):
            result = compare(expected, answer.value, config.tolerance)
        if result.equal:
            return None
        return Failure("wrong", result.code, result.params, call, excerpt(expected), excerpt(answer.value),
                       result.max_abs_diff, result.worst_index)
    if answer.status == "missing":
        return Failure("missing", "no_function", {"name": function}, call)
    if answer.status == "unsupported":
        return Failure("unsupported", "unsupported", {"reason": _reason(answer)}, call)
    if outcome == "timeout":
        return Failure("timeout", "timeout", {"limit": limits.call_timeout}, call)
    if outcome == "crash":
        return Failure("crash", "crash", {}, call)
    if outcome == "no_room":  # the call's inputs could not be written: an OSError of the grader's, in words
        return Failure("error", "error", {"ename": "OSError", "evalue": nested("no_room", limit=limits.scratch_mb)},
                       call)
    if outcome == "tampered":
        return Failure("error", "error", {"ename": "", "evalue": nested("tampered", reason=_reason(answer))}, call)
    if answer.ename == "NotImplementedError":
        return Failure("error", "not_implemented", {"evalue": answer.evalue}, call, traceback=answer.traceback)
    return Failure("error", "error", {"ename": answer.ename, "evalue": _reason(answer)}, call,
                   traceback=answer.traceback)
