"""Stored results read defensively: a result file is data from disk (an earlier version, a hand edit, a
hostile student's output), so every field is coerced to what a page can show before rendering."""

from __future__ import annotations


import math
from collections.abc import Mapping
from typing import Any


from ...course.config import CourseConfig
from ...judge.catalog import CATALOG, LANGUAGES, Message, render
from ...judge.results import (KINDS, Argument, Call, Diagnosis, Failure, GraderError, Late, StudentRecord,
                              SubmissionResult, Submitted, TestResult)
from .text import number_text


def course_questions(config: CourseConfig) -> dict[str, list[str]]:
    """Question ids of each assignment of ``course.toml``, in the declared order (else the file's)."""
    from ...course.assignments import course_assignments

    declared = course_assignments()
    return {
        aid: [q.id for q in declared[aid].questions] if aid in declared else list(own.points)
        for aid, own in config.assignments.items()
    }


def optional_questions(config: CourseConfig) -> dict[str, set[str]]:
    """The optional (extra-credit) question ids of each assignment of ``course.toml``."""
    from ...course.assignments import course_assignments

    declared = course_assignments()
    return {aid: {q.id for q in declared[aid].questions if q.optional} if aid in declared else set()
            for aid in config.assignments}


# --- reading whatever a result file holds ---------------------------------------------------------



def _real(value: Any, default: float = 0.0, *, finite: bool = True) -> float:
    """A float of a stored number; ``default`` for anything else (and for nan/inf when ``finite``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    try:
        x = float(value)
    except OverflowError:
        x = math.inf if value > 0 else -math.inf
    return x if math.isfinite(x) or not finite else default


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else 0


def text_of(value: Any, limit: int = 100_000) -> str:
    """A stored text; a number is written out, anything else (a list where a text belongs) is dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)[:limit]
    return ""


def _worded(code: Any, params: Any) -> tuple[str, dict[str, Any]]:
    """A message the catalog can word in every language, else the empty ``text`` message."""
    if isinstance(code, str) and code in CATALOG and isinstance(params, Mapping):
        try:
            for lang in LANGUAGES:
                render(code, params, lang)
            return code, dict(params)
        except Exception:  # a parameter of the wrong type, a nested message that is not one
            pass
    return "text", {"text": ""}


def _coerced_call(call: Any) -> Call | None:
    if not isinstance(call, Call):
        return None
    arguments = tuple(
        Argument(text_of(a.type, 300), text_of(a.value, 5_000), text_of(a.name, 200),
                 tuple(a.shape) if isinstance(a.shape, (tuple, list)) and len(a.shape) <= 32
                 and all(isinstance(n, int) and not isinstance(n, bool) for n in a.shape) else None,
                 a.array if isinstance(a.array, list) else None)
        for a in (call.arguments if isinstance(call.arguments, (tuple, list)) else ())[:64] if isinstance(a, Argument))
    return Call(text_of(call.function, 200), arguments, text_of(call.written))


def _coerced_failure(failure: Any) -> Failure | None:
    if not isinstance(failure, Failure):
        return None
    worst = failure.worst_index
    if not (isinstance(worst, (tuple, list)) and len(worst) <= 32
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**31 for i in worst)):
        worst = None
    diff = failure.max_abs_diff
    code, params = _worded(failure.code, failure.params)
    return Failure(
        failure.kind if failure.kind in KINDS else "error", code, params, _coerced_call(failure.call),
        failure.expected, failure.actual,
        None if diff is None or isinstance(diff, bool) or not isinstance(diff, (int, float))
        else _real(diff, finite=False),
        tuple(worst) if worst is not None else None, text_of(failure.traceback),
    )


def _names(value: Any) -> tuple[str, ...]:
    """A stored list of question names (at most 16)."""
    return tuple(text_of(q, 200) for q in value[:16] if isinstance(q, str)) if isinstance(value, (tuple, list)) else ()


_CELL_NUMBERS = frozenset(("index", "number", "line_number"))
_CELL_NAMES = frozenset(("uses", "cost"))  # questions: the functions a cell calls, the ones it cost


def _cell_value(key: str, value: Any) -> Any:
    """A stored cell's field as a page reads it: its numbers (the position, Jupyter's number, the
    failing line), its cause as a message the catalog can word (``hint``, ``reason``), question names,
    or text."""
    if key in _CELL_NUMBERS:
        return value if isinstance(value, int) and not isinstance(value, bool) and -1 <= value < 2**31 else -1
    if key == "hint":
        code, params = _worded(value.get("code") if isinstance(value, Mapping) else None,
                               value.get("params", {}) if isinstance(value, Mapping) else None)
        return {"code": code, "params": params} if code != "text" else None
    if key == "reason":  # the grader's own words on a timeout, a death, a skip
        code, params = _worded(value.get("code"), value.get("params", {})) if isinstance(value, Mapping) \
            else ("text", {"text": ""})
        return {"code": code, "params": params}
    if key in _CELL_NAMES:
        return _names(value)
    return text_of(value)


def _coerced_message(message: Any) -> Message:
    if isinstance(message, Message):
        return Message(*_worded(message.code, message.params))
    return Message("text", {"text": text_of(message)})


def _coerced_detail(detail: Any) -> Message | None:
    """A passed group's detail: a message the catalog words, an older grader's text, or nothing."""
    if detail is None or detail == "":
        return None
    return _coerced_message(detail)


def coerce_result(result: SubmissionResult) -> SubmissionResult:
    """``result`` with every field the type the pages expect, whatever its file held.

    A result file is data from an earlier run, a hand edit or an older grader: a score may be a
    string, a count a float, an index a list of lists, a failure kind unknown. The pages read only
    this, so every view below can rely on the types; answers (``expected``/``actual``) stay as
    they are, and the grids and texts that draw them take any JSON value."""
    tests = []
    for test in result.tests if isinstance(result.tests, (tuple, list)) else ():
        if not isinstance(test, TestResult):
            continue
        diagnosis = test.diagnosis
        if diagnosis is not None:
            diagnosis = (Diagnosis(text_of(diagnosis.id), text_of(diagnosis.zh), text_of(diagnosis.en))
                         if isinstance(diagnosis, Diagnosis) else None)
        tests.append(TestResult(
            text_of(test.question, 200) or "?", text_of(test.group, 200) or "?", test.public is True,
            _real(test.score), _real(test.max_score), _count(test.cases), _count(test.passed_cases),
            _coerced_failure(test.failure), diagnosis, test.extra_credit is True, _coerced_detail(test.detail),
            _names(test.inherited_from), _names(test.inherited_seen), text_of(test.group_zh, 200),
        ))
    cells = tuple(dict(cell) for cell in result.cells if isinstance(cell, Mapping)) \
        if isinstance(result.cells, (tuple, list)) else ()
    cells = tuple({key: _cell_value(key, value) for key, value in cell.items() if isinstance(key, str)}
                  for cell in cells)
    notes = tuple(_coerced_message(note) for note in result.notes) if isinstance(result.notes, (tuple, list)) else ()
    return SubmissionResult(
        text_of(result.student, 1000) or "?", text_of(result.assignment, 1000) or "?", text_of(result.submission_sha256),
        text_of(result.grader_version, 100), _real(result.execution_time), tuple(tests), cells, notes,
        text_of(result.error), text_of(result.sandbox, 100), text_of(result.source),
        result.extras if isinstance(result.extras, Mapping) else {},
        {text_of(k, 100): text_of(v, 100) for k, v in result.limits.items()} if isinstance(result.limits, Mapping) else {},
        GraderError(text_of(result.grader_error.stage, 100), text_of(result.grader_error.reason),
                    text_of(result.grader_error.traceback)) if isinstance(result.grader_error, GraderError) else None,
        _coerced_message(result.reason) if result.reason is not None else None,
        identity=result.identity if isinstance(result.identity, StudentRecord) else None,
        submitted=_coerced_submitted(result.submitted), late=_coerced_late(result.late),
    )


def _coerced_submitted(submitted: Any) -> Submitted | None:
    """When it was handed in, as text a page shows (the late policy's input)."""
    if not isinstance(submitted, Submitted):
        return None
    return Submitted(text_of(submitted.at, 100), text_of(submitted.source, 100),
                     submitted.late if isinstance(submitted.late, bool) else None, _count(submitted.attempt))


def _coerced_late(late: Any) -> Late | None:
    """The late penalty, never negative (``final_score`` bounds it by the score as well)."""
    if not isinstance(late, Late):
        return None
    return Late(text_of(late.due, 100), text_of(late.at, 100), text_of(late.source, 100),
                max(0.0, _real(late.seconds)), max(0.0, _real(late.penalty)), text_of(late.rule, 500))


def ran_unconfined(result: SubmissionResult) -> bool:
    """Graded with ``--sandbox off`` (older results said ``"none"``): every page says so. ``"user"``
    (an unprivileged account, where bubblewrap cannot run: grader.run.sandbox) is confined."""
    return result.sandbox not in ("bwrap", "user")
