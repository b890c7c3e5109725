"""The self-check's plain-text summary of public test results, in Chinese or English.

``grader check`` and the student bundle's ``selfcheck`` both print this text from the same
:class:`~grader.judge.results.TestResult` records, so a teaching assistant previewing a notebook sees
exactly what the student sees. Standard library and its ``judge`` siblings only: the bundle ships
this module byte for byte with the rest of :mod:`grader.judge`. Every test goes through :func:`~grader.judge.audience.student_view` first, so a hidden
group, should one ever reach this text, shows no input and no expected value. The words are the
catalog's (``check.*``), and a failure is worded from its code in the summary's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .audience import student_view
from .catalog import Message, render, text

if TYPE_CHECKING:
    from .results import Failure, TestResult

__all__ = ["CheckCell", "format_summary"]

_MAX_ROWS, _MAX_COLS, _MAX_ITEMS, _MAX_CHARS = 8, 10, 8, 160


@dataclass(frozen=True)
class CheckCell:
    """How one of the notebook's own check cells (``metadata.grader.role == "check"``) ran:
    ``cell`` is the number Jupyter shows it with (``In [n]`` after Restart & Run All, as the pages
    number cells); ``problem`` says why it ``failed`` (its
    exception as the ``error`` message, or a timeout's)."""

    cell: int
    question: str
    outcome: Literal["passed", "todo", "failed"]
    problem: Message | None = None
    optional: bool = False

    @property
    def counts(self) -> bool:
        """Whether it counts: an optional question's check cell not attempted is no failure."""
        return not (self.optional and self.outcome == "todo")

    @classmethod
    def raised(cls, cell: int, question: str, ename: str, evalue: str) -> CheckCell:
        """The cell ended with an exception: a stub's ``NotImplementedError`` is work not done yet;
        anything else failed, shown by its name and the first line of its message."""
        if ename == "NotImplementedError":
            return cls(cell, question, "todo")
        first = evalue.strip().splitlines()[0] if evalue.strip() else ""
        first = first if len(first) <= 200 else first[:199] + "…"
        return cls(cell, question, "failed", Message("error", {"ename": ename, "evalue": first}))

    @property
    def ok(self) -> bool:
        """Passed, or does not count (see :attr:`counts`)."""
        return self.outcome == "passed" or not self.counts


def format_summary(tests: Sequence[TestResult], lang: str, *, assignment: str = "",
                   no_public: Sequence[str] = (), checks: Sequence[CheckCell] = ()) -> str:
    """One line per public test group (✓/✗), details under each failing one, then a total; then,
    for the terminal commands, one line per check cell of the notebook and their total.

    ``assignment`` adds a heading (the terminal commands); ``no_public`` names questions that have
    no public test, so the student learns why nothing was checked for them."""
    lines = [text("check.heading", lang, assignment=assignment)] if assignment else []
    for test in tests:
        lines += _test_lines(test, lang)
    lines += [text("check.no_public", lang, question=q) for q in no_public]
    if not tests and not no_public:
        lines.append(text("check.nothing", lang))
    if tests:
        passed = sum(t.failure is None for t in tests)
        lines.append(text("check.total", lang, passed=passed, total=len(tests)) + text("check.hidden", lang))
    if checks:
        lines.append(text("check.cells_heading", lang))
        lines += [_check_cell_line(c, lang) for c in checks]
        counted = [c for c in checks if c.counts]
        passed = sum(c.outcome == "passed" for c in counted)
        lines.append(text("check.cells_total", lang, passed=passed, total=len(counted)))
    return "\n".join(lines)


def _check_cell_line(check: CheckCell, lang: str) -> str:
    head = text("check.cell", lang, cell=check.cell, question=check.question) + text("check.colon", lang)
    if check.outcome == "passed":
        return f"✓ {head}{text('check.cell_passed', lang)}"
    if not check.counts:
        return f"· {head}{text('check.cell_optional', lang)}"
    if check.outcome == "todo" or check.problem is None:
        return f"✗ {head}{text('check.todo', lang)}"
    return f"✗ {head}{check.problem.text(lang)}"


def _test_lines(test: TestResult, lang: str) -> list[str]:
    test = student_view(test)
    head = f"{test.question} · {test.group_title(lang)}{text('check.colon', lang)}"
    failure = test.failure
    cases = text("check.cases", lang, passed=test.passed_cases, cases=test.cases)
    if failure is None:
        return [f"✓ {head}{cases}"]
    if failure.kind == "missing":
        if failure.code in _CAUSED:  # the cell that failed before defining it: the cause, on the question's line
            return [f"✗ {head}{failure.text(lang)}"]
        return [f"✗ {head}{text('check.missing', lang, question=test.question)}"]
    if failure.unanswered:
        return [f"✗ {head}{text('check.todo', lang)}"]
    lines = [f"✗ {head}{cases}"]
    lines += _detail(failure, lang)
    if test.diagnosis is not None:
        lines.append(f"    {text('check.diagnosis', lang)}{text('check.colon', lang)}{getattr(test.diagnosis, lang)}")
    lines += [f"    {text('check.cause', lang)}{text('check.colon', lang)}{cause}" for cause in _causes(test, lang)]
    return lines


_CAUSED = frozenset(("no_function_cell_failed", "no_function_after_failure"))


def _causes(test: TestResult, lang: str) -> list[str]:
    """What the grader knows beyond the answer: the fix of a known exception, the student's own
    earlier function this one calls (``inherited_from``), in ``lang``."""
    causes = []
    hint = test.failure.params.get("hint") if test.failure is not None else None
    if isinstance(hint, dict) and isinstance(hint.get("code"), str):
        causes.append(render(hint["code"], hint.get("params", {}), lang))
    if (inherited := test.inherited()) is not None:
        causes.append(inherited.text(lang))
    return causes


def _detail(failure: Failure, lang: str) -> list[str]:
    """The failing call, what is wrong, and a small excerpt of both answers."""
    colon = text("check.colon", lang)
    lines = [f"    {text('check.call', lang)}{colon}{failure.call.text()}"] if failure.call is not None else []
    lines.append(f"    {text('check.problem', lang)}{colon}{failure.text(lang)}")
    if failure.kind == "wrong" and (failure.expected is not None or failure.actual is not None):
        for key, value in (("check.expected", failure.expected), ("check.actual", failure.actual)):
            label = text(key, lang)
            shown = _value_lines(value, lang)
            if len(shown) == 1:
                lines.append(f"    {label}{colon}{shown[0]}")
            else:
                lines.append(f"    {label}{colon.rstrip()}")
                lines += [f"      {row}" for row in shown]
    return lines


def _value_lines(value: Any, lang: str) -> list[str]:
    """A matrix as an aligned grid (cut to 8×10), a big array as its shape and first values,
    anything else on one line (cut to 160 characters)."""
    if isinstance(value, dict) and set(value) == {"shape", "head"}:
        return [text("check.array", lang, shape=tuple(value["shape"]), head=_inline(value["head"]))]
    if _is_matrix(value):
        rows = [[_number(v) for v in row[:_MAX_COLS]] + (["…"] if len(row) > _MAX_COLS else [])
                for row in value[:_MAX_ROWS]]
        width = max(len(cell) for row in rows for cell in row)
        grid = [" ".join(cell.rjust(width) for cell in row) for row in rows]
        return grid + (["…"] if len(value) > _MAX_ROWS else [])
    line = _inline(value)
    return [line if len(line) <= _MAX_CHARS else line[:_MAX_CHARS - 1] + "…"]


def _is_matrix(value: Any) -> bool:
    return (isinstance(value, list) and len(value) > 1 and all(isinstance(row, list) for row in value)
            and len({len(row) for row in value}) == 1 and len(value[0]) > 0
            and all(_is_number(v) for row in value for v in row))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _inline(value: Any) -> str:
    if isinstance(value, list):
        items = [_inline(v) for v in value[:_MAX_ITEMS]]
        return "[" + ", ".join(items + (["…"] if len(value) > _MAX_ITEMS else [])) + "]"
    if isinstance(value, dict):
        items = [f"{k!r}: {_inline(v)}" for k, v in list(value.items())[:_MAX_ITEMS]]
        return "{" + ", ".join(items + (["…"] if len(value) > _MAX_ITEMS else [])) + "}"
    return _number(value) if _is_number(value) else repr(value)
