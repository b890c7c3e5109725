"""What a student's page says to fix first, and a failed cell as the student can find it.

The causes are the grader's data (:mod:`grader.grade.causes` put them in the result): the earlier
function a failing one calls (``TestResult.inherited_from``), the cell that failed before defining a
function (the failure's code), a cell's Jupyter number, heading, failing line, known fix (``hint``)
and the questions it cost (``cost``). This module only words them, in the page's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ...judge.catalog import Message
from ...judge.results import Failure, SubmissionResult, TestResult
from .text import NOTE_CHARS, TEXT_CHARS, Translate, clip, trim_traceback

__all__ = ["cause_link", "cell_extras", "fix_first", "hidden_cards", "not_graded", "nothing_ran", "student_frames", "test_hints"]

_MISSING_CAUSES = ("no_function_cell_failed",)
_CELL_CAUSES = ("no_function_cell_failed", "no_function_after_failure")
_STOPPED = ("timeout", "dead_kernel", "skipped")


def _cell_words(cell: Mapping[str, Any]) -> str:
    """A cell by its Jupyter number (a result of an older grader: its position)."""
    number = cell.get("number") if isinstance(cell.get("number"), int) and cell["number"] > 0 else cell.get("index")
    return str(number)


def _outcome(cell: Mapping[str, Any], t: Translate) -> str:
    outcome = str(cell.get("outcome", "error"))
    return t(f"outcome.{outcome}") if outcome in ("error", "timeout", "dead_kernel", "skipped") else outcome


def _headline(words: str) -> str:
    """A named mistake's cause without its explanation (the card below gives that): its words up to
    the first colon, "Your kernel is flipped", when the colon comes early enough to end a cause."""
    cut = min((i for i in (words.find(":"), words.find("：")) if i > 0), default=-1)
    return words[:cut] if 0 < cut <= 90 else words


def _diagnosis(tests: Sequence[TestResult], question: str, t: Translate) -> str:
    """Why ``question`` lost points, in a line: its named mistake, else the known fix of its error."""
    for test in tests:
        if test.question == question and test.diagnosis is not None:
            return _headline(test.diagnosis.zh if t.lang == "zh" else test.diagnosis.en)
    for test in tests:
        if test.question == question and (fix := _fix(test, t)):
            return fix
    return ""


def _named_on_their_own(tests: Sequence[TestResult], roots: Mapping[str, Sequence[str]]) -> list[str]:
    """The failed questions, in order, whose own mistake is named and comes from no earlier function
    of the student's (those inheriting one are fixed by fixing it, the roots have their own line)."""
    inheriting = {test.question for test in tests if test.inherited_from}
    named: list[str] = []
    for test in tests:
        q = test.question
        if test.diagnosis is not None and q not in roots and q not in inheriting and q not in named:
            named.append(q)
    return named


def _fix(test: TestResult, t: Translate) -> str:
    """The known fix of a failed test's exception (grader.grade.causes' ``hint``), in words, or ''."""
    hint = test.failure.params.get("hint") if test.failure is not None else None
    if isinstance(hint, Mapping) and isinstance(hint.get("code"), str):
        return t.words(Message(hint["code"], dict(hint.get("params", {}))))
    return ""


def fix_first(result: SubmissionResult, t: Translate) -> tuple[str, ...]:
    """The banner's list, most useful first: an earlier function whose mistake others inherit, a cell
    that failed before defining functions, and each crash, time-out or output limit with whether it
    cost points."""
    lines: list[str] = []
    roots: dict[str, list[str]] = {}
    for test in result.tests:
        for root in test.inherited_from:
            users = roots.setdefault(root, [])
            if test.question not in users:
                users.append(test.question)
    shown_inherited = {test.question for test in result.tests if test.inherited_seen}
    for root, users in roots.items():
        if root in shown_inherited:  # its own mistake was seen coming from a function further down
            continue
        why = _diagnosis(result.tests, root, t)
        line = t("banner.fix_first", function=root, users=", ".join(users))
        lines.append(f"{why} → {line}" if why else line)
    for question in _named_on_their_own(result.tests, roots):
        lines.append(f"{_diagnosis(result.tests, question, t)} → {t('banner.fix_own', function=question)}")
    for test in result.tests:  # an error with a known fix (NumPy 2, a package): once per question
        fix = _fix(test, t)
        if fix and test.question not in roots and not any(fix in line for line in lines):
            lines.append(f"{test.question}: {fix}")
    seen: set[str] = set()
    for test in result.tests:
        failure = test.failure
        if failure is not None and failure.code in _MISSING_CAUSES and test.question not in seen:
            seen.add(test.question)
            words = t.words(failure)
            if words not in lines:
                lines.append(words)
    for cell in result.cells:
        if cell.get("outcome") in _STOPPED:
            cost = [q for q in cell.get("cost", ()) if isinstance(q, str)]
            key = "banner.cell_cost" if cost else "banner.cell_free"
            lines.append(t(key, cell=_cell_words(cell), outcome=_outcome(cell, t), questions=", ".join(cost)))
    for note in result.notes:
        if note.code == "output_dropped":
            lines.append(t("banner.output_free", cell=note.params.get("cell", "?")))
    return tuple(clip(line, NOTE_CHARS, t) for line in lines[:12])


def hidden_cards(result: SubmissionResult) -> bool:
    """A submission that could not be graded at all (an unreadable notebook …) gets one card, the
    banner, not one per test group saying the same."""
    return bool(result.error)


def nothing_ran(result: SubmissionResult) -> bool:
    """An unreadable notebook: no kernel started, so no sandbox was or was not in force."""
    return isinstance(result.reason, Message) and result.reason.code == "notebook_unreadable"


def not_graded(result: SubmissionResult, t: Translate) -> str:
    """Why the submission could not be graded; an unreadable notebook with what to do about it."""
    reason = result.reason
    if nothing_ran(result) and isinstance(reason, Message):
        return t("banner.unreadable", problem=reason.params.get("problem", ""))
    return result.error_text(t.lang)


def cause_link(failure: Failure, result: SubmissionResult, t: Translate) -> tuple[tuple[str, str], ...]:
    """(label, link) of the cell a failure names as its cause, on the page's cells section."""
    if failure.code not in _CELL_CAUSES:
        return ()
    for cell in result.cells:
        if cell.get("number") == failure.params.get("cell"):
            return ((t("cells.cell", index=cell["number"]), f"#cell-{cell.get('index', '')}"),)
    return ()


def test_hints(test: TestResult, t: Translate) -> tuple[str, ...]:
    """A failed test's causes: the known fix of its exception, the earlier function it calls."""
    hints = [fix] if (fix := _fix(test, t)) else []
    if (inherited := test.inherited()) is not None:
        hints.append(t.words(inherited))
    return tuple(clip(h, TEXT_CHARS, t) for h in hints)


def cell_extras(cell: Mapping[str, Any], t: Translate) -> dict[str, Any]:
    """What a cell's card shows beyond its outcome: its number as Jupyter shows it, its heading, the
    failing line, the known fix, the earlier function it calls, whether it cost points."""
    number = cell.get("number") if isinstance(cell.get("number"), int) and cell["number"] > 0 else None
    hints = []
    hint = cell.get("hint")
    if isinstance(hint, Mapping) and isinstance(hint.get("code"), str):
        hints.append(t.words(Message(hint["code"], dict(hint.get("params", {})))))
    uses = [q for q in cell.get("uses", ()) if isinstance(q, str)]
    if uses:
        hints.append(t("cause.cell_uses", uses=", ".join(uses)))
    cost = [q for q in cell.get("cost", ()) if isinstance(q, str)]
    if cost:
        hints.append(t("cells.cost", questions=", ".join(cost)))
    elif number is not None and cell.get("outcome") in _STOPPED:
        hints.append(t("cells.free"))
    line = cell.get("line_number")
    return {
        "number": number,
        "heading": clip(str(cell.get("heading", "")), 200, t),
        "line_number": line if isinstance(line, int) and line > 0 else None,
        "line": clip(str(cell.get("line", "")), 300, t),
        "hints": tuple(clip(h, TEXT_CHARS, t) for h in hints),
    }


# IPython's frames: ``Cell In[12], line 4, in conv2d(x, k)`` (a cell of the notebook) and
# ``File /…/numpy/__init__.py:775, in __getattr__(attr)`` (a library); what follows a frame's header
# is its source lines, up to the next header or the exception.
_FRAME_HEAD = re.compile(r"^(?:Cell In\[\d+\], line \d+|File [^\n]*:\d+, in )")
_RULE = re.compile(r"^-{20,}$")
_SOURCE_LINE = re.compile(r"^(?:\s|-*>)")  # "    774 ...", "--> 775 ...", carets


def student_frames(traceback: str, t: Translate) -> str:
    """A cell's traceback as the student can use it: the frames of their own cells in full, a
    library's frames by their header line only, then the exception."""
    lines = [line for line in traceback.splitlines() if not _RULE.match(line)]
    kept: list[str] = []
    in_library = False
    for line in lines:
        if _FRAME_HEAD.match(line):
            in_library = not line.startswith("Cell In[")
            kept.append(line)
            continue
        if in_library and (not line.strip() or _SOURCE_LINE.match(line)):
            continue  # a library frame's source lines
        in_library = False
        kept.append(line)
    return trim_traceback("\n".join(kept), t)
