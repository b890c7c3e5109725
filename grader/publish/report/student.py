"""A student's page: the view model of one submission (questions, failed tests, cells) and its rendering."""

from __future__ import annotations


import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from ... import __version__
from ...course.config import CourseConfig
from ...judge.audience import for_student
from ...judge.catalog import Message
from ...judge.results import Failure, SubmissionResult, TestResult
from .arrays import InputView, Part, call_inputs, answer_parts
from .lateness import LateView, late_view
from .causes import cause_link, cell_extras, fix_first, hidden_cards, not_graded, nothing_ran, student_frames, test_hints
from .paths import jinja_environment
from .unit import UnitView, unit_view
from .stored import coerce_result, course_questions, ran_unconfined
from .text import (
    CALL_CHARS, MAX_CELLS, MAX_DRAWN, MAX_FAILED_TESTS, MAX_HINT_CELLS, MAX_NOTES, NOTE_CHARS, SOURCE_CHARS,
    TEXT_CHARS, clip, not_answered, points_text, question_status, skipped_optional, test_status, Translate,
    translator, trim_traceback,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupView:
    name: str
    passed: bool
    detail: str
    anchor: str


@dataclass(frozen=True)
class QuestionView:
    id: str
    score: str
    max_score: str
    passed_groups: int
    groups: tuple[GroupView, ...]
    status: str
    status_label: str
    optional: bool


@dataclass(frozen=True)
class CellView:
    index: int
    outcome: str
    outcome_label: str
    ename: str
    evalue: str
    source: str
    traceback: str
    number: int | None = None  # as Jupyter numbers it (In [n]); None in a result of an older grader
    heading: str = ""
    line_number: int | None = None
    line: str = ""
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestView:
    __test__ = False  # not a pytest test class, whatever its name

    anchor: str
    question: str
    group: str
    public: bool
    score: str
    max_score: str
    cases: int
    passed_cases: int
    status: str
    kind_label: str
    message: str
    call: str
    shapes: str
    inputs: tuple[InputView, ...]
    hidden_note: bool  # a hidden test: inputs by type and shape, no expected answer
    hidden_answer_note: bool  # a hidden test whose inputs the course shows: still no expected answer
    parts: tuple[Part, ...]
    diagnosis_first: str
    diagnosis_second: str
    traceback: str
    hints: tuple[str, ...]
    hint_cells: tuple[tuple[str, str], ...]
    not_implemented: bool
    show_message: bool
    cause_cell: bool = False  # hint_cells is the cell the failure names as its cause, not a guess


@dataclass(frozen=True)
class FailedQuestion:
    """The failed groups of one question; a diagnosis they all share is shown once, above them."""

    id: str
    score: str
    max_score: str
    diagnosis_first: str
    diagnosis_second: str
    tests: tuple[TestView, ...]
    unanswered: bool
    missing: str = ""  # every group failed for this one reason (the function is missing): one card says it


@dataclass(frozen=True)
class SubmissionView:
    student: str
    assignment: str
    title: str
    score: str
    max_score: str
    extra: str
    percent: float
    time: str
    version: str
    sandbox: str
    unconfined: bool
    source: str
    error: str
    questions: tuple[QuestionView, ...]
    failed: tuple[FailedQuestion, ...]
    failed_shown: int
    failed_total: int
    cells: tuple[CellView, ...]
    unfinished: str
    notes: tuple[str, ...]
    notes_more: int
    passed_all: bool
    problems: bool
    unit: UnitView | None = None  # the unit's facts (training curves, held-out classes, layers)
    first: tuple[str, ...] = ()  # what to fix first (grader.publish.report.causes)
    numbered: bool = False  # cells numbered as Jupyter shows them (else an older grader's positions)
    late: LateView | None = None  # due date, hand-in time and its source, the penalty (None: no due date)
    final: str = ""  # the score after the late penalty, when one was taken off
    key: str = ""  # the grader's name of the student, shown under a display name that differs


def _display(result: SubmissionResult) -> str:
    """The student's name as the LMS or roster gives it (``李华``), else the grader's key."""
    return result.identity.display if result.identity is not None else result.student


def _cell_problem_links(result: SubmissionResult, t: Translate) -> tuple[tuple[str, str], ...]:
    """(label, link) of the first cells that failed for a reason other than an unfinished answer."""
    links = []
    for cell in result.cells:
        outcome = str(cell.get("outcome", "error"))
        if outcome == "error" and cell.get("ename") == "NotImplementedError":
            continue
        what = str(cell.get("ename")) if outcome == "error" else _outcome_label(cell, t)
        links.append((f"{t('cells.cell', index=cell.get('number') or cell.get('index', '?'))} ({clip(what, 80, t)})",
                      f"#cell-{cell.get('index', '')}"))
    return tuple(links[:MAX_HINT_CELLS])


def _index(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _outcome_label(cell: Mapping[str, Any], t: Translate) -> str:
    outcome = str(cell.get("outcome", "error"))
    if outcome == "error" and cell.get("ename") == "AssertionError":
        return t("outcome.check")
    return t(f"outcome.{outcome}") if f"outcome.{outcome}" in _OUTCOMES else outcome


def _test_view(n: int, test: TestResult, failure: Failure, result: SubmissionResult, config: CourseConfig,
               lang: str, show_hidden: bool, draw: bool, t: Translate) -> TestView:
    reveal = test.public or show_hidden  # the failure is already the student's view (audience.for_student)
    call = failure.call.text() if failure.call is not None else ""
    hints: list[str] = []
    undefined = (failure.kind == "missing" and failure.code == "no_function") or failure.ename == "NameError"
    cells = _cell_problem_links(result, t) if undefined else cause_link(failure, result, t)
    if failure.kind == "timeout":
        hints.append(t("error.timeout_hint"))
    hints += test_hints(test, t)
    try:
        parts = answer_parts(failure, config.tolerance, t) if draw else ()
    except Exception:  # an answer no grid or text can show (see coerce_result): the message still says it
        log.warning("%s/%s, %s: the answers could not be drawn", result.student, result.assignment, test.name,
                    exc_info=True)
        parts = ()
    # The parts say "n of m values differ; largest error ... at ..." in the page's language already.
    show_message = not parts or failure.code != "values_differ" or bool(failure.params.get("your_dtype"))
    first = second = ""
    if test.diagnosis is not None:
        first, second = ((test.diagnosis.zh, test.diagnosis.en) if lang == "zh"
                         else (test.diagnosis.en, test.diagnosis.zh))
    return TestView(
        anchor=f"test-{n}",
        question=test.question,
        group=test.group_title(lang),
        public=test.public,
        score=points_text(test.score),
        max_score=points_text(test.max_score),
        cases=test.cases,
        passed_cases=test.passed_cases,
        status=test_status(failure),
        kind_label=t(f"kind.{failure.kind}"),
        message=clip(t.words(failure), TEXT_CHARS, t),
        call=clip(call, CALL_CHARS, t),
        shapes=", ".join(_shapes(failure)[:16]),
        inputs=call_inputs(failure.call, t) if draw and reveal and failure.call and len(call) <= CALL_CHARS else (),
        hidden_note=not test.public and not show_hidden,
        hidden_answer_note=not test.public and show_hidden,
        parts=parts,
        diagnosis_first=clip(first, TEXT_CHARS, t),
        diagnosis_second=clip(second, TEXT_CHARS, t),
        traceback=trim_traceback(failure.traceback, t),
        hints=tuple(hints),
        hint_cells=cells,
        not_implemented=not_answered(failure),
        show_message=show_message,
        cause_cell=bool(cells) and not undefined,
    )


def _shapes(failure: Failure) -> tuple[str, ...]:
    """The shapes of the call's arrays, shown beside the call (a missing function was not called)."""
    return failure.call.shapes() if failure.call is not None and failure.kind != "missing" else ()


def _failed_questions(views: Sequence[tuple[TestResult, TestView]], t: Translate) -> tuple[FailedQuestion, ...]:
    grouped: dict[str, list[tuple[TestResult, TestView]]] = {}
    for test, view in views:
        grouped.setdefault(test.question, []).append((test, view))
    questions = []
    for question, members in grouped.items():
        ids = {test.diagnosis.id if test.diagnosis is not None else None for test, _ in members}
        shared = len(ids) == 1 and None not in ids and len(members) > 1
        first, second = (members[0][1].diagnosis_first, members[0][1].diagnosis_second) if shared else ("", "")
        tests = tuple(dataclasses.replace(view, diagnosis_first="", diagnosis_second="") if shared else view
                      for _, view in members)
        unanswered = all(view.not_implemented for _, view in members)
        messages = {view.message for _, view in members}
        missing = (members[0][1].message if not unanswered and len(messages) == 1
                   and all(view.status == "missing" for _, view in members) else "")
        # The heading says the question's points; each card below says its own status, once.
        questions.append(FailedQuestion(question, points_text(sum(test.score for test, _ in members)),
                                        points_text(sum(test.max_score for test, _ in members)),
                                        first, second, tests, unanswered, missing))
    return tuple(questions)


def _question_view(question: str, numbered: Sequence[tuple[int, TestResult]], skipped: bool,
                   t: Translate) -> QuestionView:
    """A row of the questions table: the score, the status and a link to each group's failure."""
    tests = [test for _, test in numbered]
    status = question_status(tests)
    unanswered = all(not_answered(test.failure) for test in tests if test.failure is not None)
    if skipped:
        status, label = "skipped", t("status.skipped")
    else:
        label = t("status.unanswered") if status == "missing" and unanswered else t(f"status.{status}")
    return QuestionView(
        id=question,
        score=points_text(sum(test.score for test in tests)),
        max_score=points_text(sum(test.max_score for test in tests)),
        passed_groups=sum(test.failure is None for test in tests),
        groups=tuple(GroupView(test.group_title(t.lang), test.failure is None,
                               clip(t.words(test.detail) if test.detail is not None else "", NOTE_CHARS, t),
                               f"test-{n}")
                     for n, test in numbered),
        status=status,
        status_label=label,
        optional=any(test.extra_credit for test in tests),
    )


def _cell_views(result: SubmissionResult, t: Translate) -> tuple[tuple[CellView, ...], list[str]]:
    """The cells that went wrong, and apart from them the cells left unfinished (NotImplementedError)."""
    cells: list[CellView] = []
    unfinished: list[str] = []
    for cell in result.cells:
        if cell.get("outcome") == "error" and cell.get("ename") == "NotImplementedError":
            unfinished.append(str(cell.get("number") or cell.get("index", "?")))
            continue
        if len(cells) >= MAX_CELLS:
            continue
        cells.append(CellView(
            index=_index(cell.get("index")),
            outcome=str(cell.get("outcome", "error")),
            outcome_label=_outcome_label(cell, t),
            ename=clip(str(cell.get("ename", "")), 200, t),
            evalue=clip(_cell_evalue(cell, t), TEXT_CHARS, t),
            source=clip(str(cell.get("source_preview", "")), SOURCE_CHARS, t),
            traceback=student_frames(str(cell.get("traceback", "")), t),
            **cell_extras(cell, t),
        ))
    return tuple(cells), unfinished


def _cell_evalue(cell: Mapping[str, Any], t: Translate) -> str:
    """What a cell raised; the grader's own words (a timeout, a death, a skip) in the page's language."""
    reason = cell.get("reason")
    if isinstance(reason, Mapping) and reason.get("code") not in (None, "text"):
        return t.words(Message(reason["code"], reason.get("params", {})))
    return str(cell.get("evalue", ""))


def _submission_view(result: SubmissionResult, config: CourseConfig, lang: str, show_hidden: bool) -> SubmissionView:
    t = translator(lang)
    own = config.assignments.get(result.assignment)
    by_question: dict[str, list[tuple[int, TestResult]]] = {}
    for n, test in enumerate(result.tests):
        by_question.setdefault(test.question, []).append((n, test))
    order = course_questions(config).get(result.assignment, [])
    ordered = [q for q in order if q in by_question] + [q for q in by_question if q not in order]
    # An optional question left alone is no failure: the questions table says "not attempted".
    cells_failed = any(cell.get("outcome") != "error" or cell.get("ename") != "NotImplementedError"
                       for cell in result.cells)
    skipped = {q for q in ordered if skipped_optional([test for _, test in by_question[q]], cells_failed)}
    questions = tuple(_question_view(question, by_question[question], question in skipped, t) for question in ordered)
    if hidden_cards(result):  # no card per group: nothing to link to
        questions = tuple(dataclasses.replace(q, groups=tuple(dataclasses.replace(g, anchor="") for g in q.groups))
                          for q in questions)
    ran = not nothing_ran(result)
    failed = [(n, test, test.failure) for question in ordered if question not in skipped
              for n, test in by_question[question] if test.failure is not None]
    failed_views = _failed_questions(
        [(test, _test_view(n, test, failure, result, config, lang, show_hidden, i < MAX_DRAWN, t))
         for i, (n, test, failure) in enumerate(failed[:MAX_FAILED_TESTS])], t)
    cells, unfinished = _cell_views(result, t)
    shown = {str(cell.get("number") or cell.get("index")) for cell in result.cells}
    notes = [t.words(note) for note in result.notes
             if not (note.code in _CELL_NOTES and str(note.params.get("cell")) in shown)]  # the cells section says it
    extra = sum(test.score for test in result.tests if test.extra_credit)
    score, most = result.final_score, result.max_score  # the meter shows what counts: after the penalty
    return SubmissionView(
        student=clip(_display(result), 200, t),
        key=clip(result.student, 200, t) if _display(result) != result.student else "",
        assignment=result.assignment,
        title=own.title if own is not None else result.assignment,
        score=points_text(result.score),
        max_score=points_text(most),
        extra=t("head.extra", points=points_text(extra)) if extra > 0 else "",
        percent=max(0.0, min(100.0, 100 * score / most)) if most > 0 else 0.0,
        time=t("head.seconds", seconds=f"{result.execution_time:.1f}"),
        version=result.grader_version,
        sandbox=(t("head.sandbox_off") if ran_unconfined(result) else result.sandbox) if ran else "—",
        unconfined=ran_unconfined(result) and ran,
        source=clip(result.source, 300, t),
        error=clip(not_graded(result, t), TEXT_CHARS, t),
        questions=questions,
        failed=() if hidden_cards(result) else failed_views,
        failed_shown=min(len(failed), MAX_FAILED_TESTS),
        failed_total=len(failed),
        cells=tuple(cells),
        unfinished=", ".join(unfinished[:50]),
        notes=tuple(clip(note, NOTE_CHARS, t) for note in notes[:MAX_NOTES]),
        notes_more=max(0, len(notes) - MAX_NOTES),
        passed_all=not failed and not result.error and bool(result.tests),
        problems=bool(cells),
        unit=unit_view(result.extras, t),
        first=() if result.error else fix_first(result, t),
        numbered=any(cell.number is not None for cell in cells),
        late=late_view(result, config, lang),
        final=points_text(result.final_score) if result.penalty > 0 else "",
    )


_CELL_NOTES = frozenset(("cell_error", "cell_timeout", "cell_dead", "cell_skipped"))  # what the cells section shows
_OUTCOMES = {"outcome.error", "outcome.timeout", "outcome.dead_kernel", "outcome.skipped"}


def render_submission(result: SubmissionResult, config: CourseConfig, lang: str | None = None,
                      *, environment: Environment | None = None) -> str:
    """The HTML page of one submission, in ``lang`` (default: the course's language)."""
    lang = lang or config.language
    env = environment or jinja_environment()
    shown = for_student(coerce_result(result), config.show_hidden_inputs)
    view = _submission_view(shown, config, lang, config.show_hidden_inputs)
    return env.get_template("submission.html.j2").render(
        page=view, lang=lang, t=translator(lang), version=__version__,
        csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'",
    )
