"""The class page for the instructor: score histograms, pass rates, common diagnoses, problems and the
sortable table of students."""

from __future__ import annotations


import base64
import dataclasses
import hashlib
import logging
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from ... import __version__
from ...course.config import CourseConfig
from ...classroom.regrade import RunChanges
from ...classroom.similarity import Similarity
from ...intake.roster import load_roster
from ...judge.results import SubmissionResult
from .changes import ChangesView, changes_view
from .similar import similarity_view, student_names
from .paths import jinja_environment, result_href, page_href
from .stored import coerce_result, course_questions, optional_questions, ran_unconfined, text_of
from .text import Translate, TOP_DIAGNOSES, clip, points_text, translator

log = logging.getLogger(__name__)

SHARED_MIN = 3  # students sharing a cell error that make it look like the template's problem


_SORT_SCRIPT = """\
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th[data-type]").forEach(function (th, col) {
    th.tabIndex = 0;
    function sort() {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute("aria-sort") !== "ascending", num = th.dataset.type === "number";
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
        var d = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return up ? d : -d;
      });
      table.querySelectorAll("th[data-type]").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
  });
});
"""


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    count: int
    label: str


@dataclass(frozen=True)
class Histogram:
    width: int
    height: int
    base: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[int, str], ...]
    label: str


@dataclass(frozen=True)
class PassRate:
    """One question of an assignment across the class: the mean points (the bar) and how many
    submissions passed it in full."""

    question: str
    passed: int
    total: int
    percent: float  # mean points as a share of the question's points
    optional: bool
    mean: str = ""
    max_points: str = ""


@dataclass(frozen=True)
class AssignmentSummary:
    id: str
    title: str
    count: int
    stats: str
    histogram: Histogram | None
    pass_rates: tuple[PassRate, ...]


@dataclass(frozen=True)
class DiagnosisCount:
    assignment: str
    questions: str
    id: str
    text: str
    other: str
    count: int
    students: str


@dataclass(frozen=True)
class SharedError:
    """The same error of the same cell in many submissions of one assignment: most likely the
    released notebook's problem, not the students'."""

    assignment: str
    cell: str
    ename: str
    evalue: str
    count: int
    students: str


@dataclass(frozen=True)
class Problem:
    student: str
    assignment: str
    href: str
    reasons: str


@dataclass(frozen=True)
class ScoreCell:
    text: str  # the final score (after any late penalty) of the full marks
    value: float
    href: str
    json_href: str
    status: str
    late: str = ""  # "raw 80 − 8 late" when the late policy took points off


@dataclass(frozen=True)
class StudentRow:
    student: str
    cells: tuple[ScoreCell | None, ...]
    total: str  # of the final scores
    total_value: float
    penalty: str = ""  # the late penalties of all assignments, and how many were late
    penalty_value: float = 0.0
    name: str = ""  # the display name the LMS or roster gives, when it differs from the key


@dataclass(frozen=True)
class PageFailure:
    """A submission whose page (or whose line of the class summary) could not be rendered."""

    student: str
    assignment: str
    reason: str


@dataclass(frozen=True)
class IndexView:
    course: str
    counts: str
    assignments: tuple[AssignmentSummary, ...]
    diagnoses: tuple[DiagnosisCount, ...]
    problems: tuple[Problem, ...]
    columns: tuple[tuple[str, str], ...]
    students: tuple[StudentRow, ...]
    unrendered: tuple[PageFailure, ...] = ()
    unconfined: int = 0
    shared_errors: tuple[SharedError, ...] = ()
    changes: ChangesView | None = None  # the last run's regrade diff; None: no changes.json in the folder
    missing: tuple[tuple[str, str], ...] = ()  # (assignment title, the roster's students without a result)


def _histogram(scores: Sequence[float], most: float, label: str) -> Histogram:
    bins = 10
    counts = [0] * bins
    for score in scores:
        fraction = score / most if most > 0 else 1.0
        counts[min(bins - 1, max(0, int(fraction * bins)))] += 1
    width, height, left, base = 320, 150, 24, 120
    bar_width = (width - left - 8) // bins
    top = max(counts) or 1
    bars = []
    for i, count in enumerate(counts):
        h = round((base - 16) * count / top)
        low, high = most * i / bins, most * (i + 1) / bins
        closing = "]" if i == bins - 1 else ")"
        bars.append(Bar(left + i * bar_width + 1, base - h, bar_width - 2, h, count,
                        f"[{points_text(low)}, {points_text(high)}{closing}: {count}"))
    ticks = tuple((left + i * bar_width, points_text(most * i / bins)) for i in range(0, bins + 1, 2))
    return Histogram(width, height, base, tuple(bars), ticks, label)


def _problems(result: SubmissionResult, t: Translate, shared: frozenset[tuple[str, ...]] = frozenset()) -> list[str]:
    """Why a submission counts as errored or timed out (empty when it did not); a cell error that
    ``shared`` holds (:func:`_shared_keys`) says it is likely the template's."""
    reasons = []
    if result.error:
        reasons.append(t("problem.not_graded", reason=clip(result.error_text(t.lang).splitlines()[0], 160, t)))
    for cell in result.cells:
        outcome, index = cell.get("outcome"), cell.get("number") or cell.get("index", "?")  # Jupyter's number
        if outcome == "timeout":
            reasons.append(t("problem.cell_timeout", index=index))
        elif outcome == "dead_kernel":
            reasons.append(t("problem.cell_dead", index=index))
        elif outcome == "error" and cell.get("ename") not in ("NotImplementedError", "AssertionError"):
            reason = t("problem.cell_error", index=index, ename=clip(str(cell.get("ename", "")), 80, t))
            if _cell_key(result, cell) in shared:
                reason += f" ({t('index.likely_template')})"
            reasons.append(reason)
    calls: dict[str, str] = {}
    for test in result.tests:
        if test.failure is not None and test.failure.kind in ("timeout", "crash"):
            calls.setdefault(test.question, test.failure.kind)
    for question, kind in calls.items():
        reasons.append(t("problem.call_timeout" if kind == "timeout" else "problem.call_crash", question=question))
    return reasons


def _index_view(results: Sequence[SubmissionResult], config: CourseConfig, lang: str) -> IndexView:
    t = translator(lang)
    assignment_ids = list(config.assignments) + sorted({r.assignment for r in results} - set(config.assignments))
    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for result in results:
        by_student.setdefault(result.student, {})[result.assignment] = result
    shared = _shared_cell_errors(results)
    shared_keys = frozenset(key for key, _ in shared)
    return IndexView(
        course=config.name,
        counts=t("index.counts", students=len(by_student), submissions=len(results)),
        assignments=tuple(_summary(aid, [r for r in results if r.assignment == aid], config, t)
                          for aid in assignment_ids),
        diagnoses=_common_diagnoses(results, lang, t),
        shared_errors=tuple(_shared_error(key, students, t) for key, students in shared),
        problems=tuple(Problem(clip(r.student, 200, t), r.assignment, page_href(r.student, r.assignment),
                               clip("; ".join(reasons), 400, t))
                       for r in results if (reasons := _problems(r, t, shared_keys))),
        columns=tuple((aid, (config.assignments[aid].title if aid in config.assignments else aid))
                      for aid in assignment_ids),
        students=tuple(_student_row(student, by_student[student], assignment_ids, t) for student in sorted(by_student)),
        unconfined=sum(ran_unconfined(r) for r in results),
    )


def _summary(aid: str, subs: Sequence[SubmissionResult], config: CourseConfig, t: Translate) -> AssignmentSummary:
    """One assignment's histogram, mean and median, and pass rate per question."""
    own = config.assignments.get(aid)
    optional = optional_questions(config).get(aid, set())
    title = own.title if own is not None else aid
    if own is not None:
        most = sum(p for q, p in own.points.items() if q not in optional)
    else:
        most = max((r.max_score for r in subs), default=0.0)
    scores = [r.score for r in subs]
    stats = t("index.mean", mean=points_text(statistics.fmean(scores)), median=points_text(statistics.median(scores)),
              max=points_text(most)) if scores else ""
    questions = course_questions(config).get(aid) or sorted({test.question for r in subs for test in r.tests})
    rates = [_question_rate(question, subs, own.points.get(question) if own is not None else None,
                            question in optional) for question in questions]
    histogram = _histogram(scores, most, t("index.histogram_label", assignment=title)) if subs else None
    return AssignmentSummary(aid, title, len(subs), stats, histogram, tuple(rates))


def _question_rate(question: str, subs: Sequence[SubmissionResult], points: float | None,
                   optional: bool) -> PassRate:
    """Mean points and full passes of one question; a submission without the question scores 0."""
    own = [[x for x in r.tests if x.question == question] for r in subs]
    passed = sum(1 for tests in own if tests and all(x.failure is None for x in tests))
    scores = [sum(x.score for x in tests) for tests in own]
    most = points if points is not None else max((sum(x.max_score for x in tests) for tests in own), default=0.0)
    mean = statistics.fmean(scores) if scores else 0.0
    percent = max(0.0, min(100.0, 100 * mean / most)) if most > 0 else 0.0
    return PassRate(question, passed, len(subs), percent, optional, points_text(mean), points_text(most))


def _cell_key(result: SubmissionResult, cell: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes two cell errors the same: the assignment, the cell, the exception and its message."""
    return (result.assignment, str(cell.get("index", "?")), str(cell.get("ename", "")), str(cell.get("evalue", "")))


def _shared_cell_errors(results: Sequence[SubmissionResult]) -> list[tuple[tuple[str, ...], set[str]]]:
    """Cell errors that many students share: the same exception with the same message in the same
    cell of the same assignment, for at least :data:`SHARED_MIN` students or a third of the
    assignment's submissions (and never fewer than two), most shared first. An unanswered cell
    (``NotImplementedError``) is the template's expected state and is not counted."""
    submissions: dict[str, int] = {}
    seen: dict[tuple[str, ...], set[str]] = {}
    for result in results:
        submissions[result.assignment] = submissions.get(result.assignment, 0) + 1
        for cell in result.cells:
            ename = str(cell.get("ename", ""))
            if cell.get("outcome") == "error" and ename and ename != "NotImplementedError":
                seen.setdefault(_cell_key(result, cell), set()).add(result.student)
    shared = [(key, students) for key, students in seen.items()
              if len(students) >= 2 and (len(students) >= SHARED_MIN or 3 * len(students) >= submissions[key[0]])]
    return sorted(shared, key=lambda item: (-len(item[1]), item[0]))[:TOP_DIAGNOSES]


def _shared_error(key: tuple[str, ...], students: set[str], t: Translate) -> SharedError:
    aid, cell, ename, evalue = key
    names = sorted(students)
    return SharedError(aid, clip(cell, 20, t), clip(ename, 80, t), clip(evalue, 300, t), len(names),
                       clip(", ".join(names[:20]) + (" …" if len(names) > 20 else ""), 600, t))


def _common_diagnoses(results: Sequence[SubmissionResult], lang: str, t: Translate) -> tuple[DiagnosisCount, ...]:
    """The most common named mistakes of the class, by how many students made them."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for result in results:
        for test in result.tests:
            if test.diagnosis is None:
                continue
            entry = seen.setdefault((result.assignment, test.diagnosis.id),
                                    {"students": set(), "questions": [], "diagnosis": test.diagnosis})
            entry["students"].add(result.student)
            if test.question not in entry["questions"]:
                entry["questions"].append(test.question)
    ranked = sorted(seen.items(), key=lambda item: (-len(item[1]["students"]), item[0]))
    diagnoses = []
    for (aid, did), entry in ranked[:TOP_DIAGNOSES]:
        diagnosis = entry["diagnosis"]
        text, other = (diagnosis.zh, diagnosis.en) if lang == "zh" else (diagnosis.en, diagnosis.zh)
        students = sorted(entry["students"])
        diagnoses.append(DiagnosisCount(
            aid, ", ".join(entry["questions"]), did, clip(text, 400, t), clip(other, 400, t), len(students),
            clip(", ".join(students[:20]) + (" …" if len(students) > 20 else ""), 600, t),
        ))
    return tuple(diagnoses)


def _student_row(student: str, graded_by_assignment: Mapping[str, SubmissionResult], assignment_ids: Sequence[str],
                 t: Translate) -> StudentRow:
    """A student's line of the sortable table: a linked final score per assignment (the raw score and
    the late penalty beside it when points were taken off), the late column and the total."""
    cells: list[ScoreCell | None] = []
    total = penalty = 0.0
    late = 0
    for aid in assignment_ids:
        graded = graded_by_assignment.get(aid)
        if graded is None:
            cells.append(None)
            continue
        total += graded.final_score
        penalty += graded.penalty
        late += graded.late is not None
        status = "passed" if graded.score >= graded.max_score > 0 else (
            "error" if _problems(graded, t) else ("partial" if graded.score > 0 else "wrong"))
        cells.append(ScoreCell(
            f"{points_text(graded.final_score)} / {points_text(graded.max_score)}", graded.final_score,
            page_href(student, aid), result_href(student, aid), status,
            t("index.raw_penalty", raw=points_text(graded.score), penalty=points_text(graded.penalty))
            if graded.penalty > 0 else ""))
    shown = f"−{points_text(penalty)} · {t('index.late_count', count=late)}" if late else ""
    names = [r.identity.name for r in graded_by_assignment.values() if r.identity is not None and r.identity.name]
    name = names[0] if names and names[0] != student else ""
    return StudentRow(clip(student, 200, t), tuple(cells), points_text(total), total, shown, penalty,
                      clip(name, 200, t))


def reason_of(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200].rstrip(": ")


def _missing(results: Sequence[SubmissionResult], config: CourseConfig, t: Translate) -> tuple[tuple[str, str], ...]:
    """Per assignment with results, the roster's students who have none (no roster: nothing)."""
    if config.roster is None:
        return ()
    roster = load_roster(config.roster)
    missing = []
    for aid, own in config.assignments.items():
        present = {r.student for r in results if r.assignment == aid}
        if present and (absent := roster.missing(present)):
            names = t("cli.separator").join(clip(r.name or r.key, 80, t) for r in absent)
            missing.append((own.title, clip(names, 2000, t)))
    return tuple(missing)


def render_index(results: Sequence[SubmissionResult], config: CourseConfig, lang: str | None = None,
                 *, environment: Environment | None = None, unrendered: Sequence[PageFailure] = (),
                 changes: RunChanges | None = None, similarity: Similarity | None = None) -> str:
    """The class summary page, ``report/index.html``.

    ``unrendered`` names the pages :func:`render_reports` could not write; ``changes`` is the last
    run's regrade diff (``DIR/changes.json``), shown as "changes since the last run"; ``similarity``
    the last run's similarity pass (``DIR/similarity.json``), shown as "similar, worth a look" (no
    section when it is None: the pass was skipped or never ran). A submission that
    cannot be summarised either is left out of the summary and listed there too, so one odd result
    file never costs the class its page."""
    lang = lang or config.language
    env = environment or jinja_environment()
    t = translator(lang)
    usable, failed = _summarisable(results, config, lang, t)
    view = dataclasses.replace(_index_view(usable, config, lang), unrendered=(*unrendered, *failed),
                               changes=changes_view(changes, t) if changes is not None else None,
                               missing=_missing(usable, config, t))
    digest = base64.b64encode(hashlib.sha256(_SORT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("index.html.j2").render(
        page=view, lang=lang, t=t, version=__version__, shared_min=SHARED_MIN,
        page_similar=similarity_view(similarity, config, student_names(usable), t) if similarity is not None else None,
        script=_SORT_SCRIPT,
        csp=f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'",
    )


def _summarisable(results: Sequence[SubmissionResult], config: CourseConfig, lang: str,
                  t: Translate) -> tuple[list[SubmissionResult], list[PageFailure]]:
    """(the results coerced that the summary can show; a failure for each it cannot). The class is
    tried at once; only when that fails is each result tried alone, to find the odd ones (a summary
    made per result was most of a cached regrade's time at 1,000 submissions)."""
    try:
        coerced = [coerce_result(result) for result in results]
        _index_view(coerced, config, lang)
        return coerced, []
    except Exception:  # some result is odd: found below, one at a time
        pass
    usable, failed = [], []
    for result in results:
        try:
            one = coerce_result(result)
            _index_view([one], config, lang)
        except Exception as exc:
            log.exception("%s/%s: left out of the class summary", getattr(result, "student", "?"),
                          getattr(result, "assignment", "?"))
            failed.append(PageFailure(clip(text_of(getattr(result, "student", "")), 200, t) or "?",
                                      clip(text_of(getattr(result, "assignment", "")), 200, t) or "?", reason_of(exc)))
            continue
        usable.append(one)
    return usable, failed
