"""The self-check's plain-text summary of public test results, in Chinese or English.

``grader check`` and the student bundle's ``selfcheck`` both print this text from the same
:class:`~grader.judge.results.TestResult` records, so a teaching assistant previewing a notebook sees
exactly what the student sees. Standard library and the sibling ``results`` only: the bundle ships a
verbatim copy of this module next to its copies of ``compare``, ``diagnose`` and ``results``.
Every test goes through :func:`~grader.judge.results.student_view` first, so a hidden group, should one
ever reach this text, shows no input and no expected value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .results import student_view

if TYPE_CHECKING:
    from .results import Failure, TestResult

__all__ = ["format_summary"]

_TEXT = {
    "zh": {
        "heading": "自检 {assignment}（只有公开测试）",
        "cases": "{passed}/{cases} 个用例通过",
        "missing": "还没有定义 {question}：先运行定义它的单元格",
        "todo": "还没有实现（NotImplementedError）",
        "call": "调用",
        "problem": "问题",
        "expected": "期望",
        "actual": "实际",
        "diagnosis": "诊断",
        "no_public": "· {question}：没有公开测试。笔记本里自己的检查单元格会检查它；"
                     "评分时会运行你的笔记本，并在留出的数据上测试。",
        "nothing": "还没有可以检查的函数：先运行定义函数的单元格。",
        "total": "公开测试通过 {passed}/{total}。",
        "hidden": "公开测试只是例子：评分时还会用隐藏测试。",
        "array": "形状为 {shape} 的数组，前几个值：{head}",
        "colon": "：",
    },
    "en": {
        "heading": "Self-check {assignment} (public tests only)",
        "cases": "{passed}/{cases} cases pass",
        "missing": "{question} is not defined yet: run the cell that defines it",
        "todo": "not implemented yet (NotImplementedError)",
        "call": "call",
        "problem": "problem",
        "expected": "expected",
        "actual": "actual",
        "diagnosis": "diagnosis",
        "no_public": "· {question}: no public test. The notebook's own check cells check it; the grader runs "
                     "your notebook and tests it on held-out data.",
        "nothing": "Nothing to check yet: run the cells that define your functions first.",
        "total": "{passed}/{total} public tests pass.",
        "hidden": " Public tests are only examples: the grader also uses hidden tests.",
        "array": "array of shape {shape}, first values: {head}",
        "colon": ": ",
    },
}

_MAX_ROWS, _MAX_COLS, _MAX_ITEMS, _MAX_CHARS = 8, 10, 8, 160


def format_summary(tests: Sequence[TestResult], lang: str, *, assignment: str = "",
                   no_public: Sequence[str] = ()) -> str:
    """One line per public test group (✓/✗), details under each failing one, then a total.

    ``assignment`` adds a heading (the terminal commands); ``no_public`` names questions that have
    no public test, so the student learns why nothing was checked for them."""
    text = _TEXT[lang]
    lines = [text["heading"].format(assignment=assignment)] if assignment else []
    for test in tests:
        lines += _test_lines(test, text, lang)
    lines += [text["no_public"].format(question=q) for q in no_public]
    if not tests and not no_public:
        lines.append(text["nothing"])
    if tests:
        passed = sum(t.failure is None for t in tests)
        lines.append(text["total"].format(passed=passed, total=len(tests)) + text["hidden"])
    return "\n".join(lines)


def _test_lines(test: TestResult, text: dict[str, str], lang: str) -> list[str]:
    test = student_view(test)
    head = f"{test.question} · {test.group}{text['colon']}"
    failure = test.failure
    if failure is None:
        return [f"✓ {head}{text['cases'].format(passed=test.passed_cases, cases=test.cases)}"]
    if failure.kind == "missing":
        return [f"✗ {head}{text['missing'].format(question=test.question)}"]
    if failure.kind == "error" and failure.message.startswith("NotImplementedError"):
        return [f"✗ {head}{text['todo']}"]
    lines = [f"✗ {head}{text['cases'].format(passed=test.passed_cases, cases=test.cases)}"]
    lines += _detail(failure, text)
    if test.diagnosis is not None:
        lines.append(f"    {text['diagnosis']}{text['colon']}{getattr(test.diagnosis, lang)}")
    return lines


def _detail(failure: Failure, text: dict[str, str]) -> list[str]:
    """The failing call, what is wrong, and a small excerpt of both answers."""
    colon = text["colon"]
    lines = [f"    {text['call']}{colon}{failure.call}"] if failure.call else []
    lines.append(f"    {text['problem']}{colon}{failure.message}")
    if failure.kind == "wrong" and (failure.expected is not None or failure.actual is not None):
        for label, value in ((text["expected"], failure.expected), (text["actual"], failure.actual)):
            shown = _value_lines(value, text)
            if len(shown) == 1:
                lines.append(f"    {label}{colon}{shown[0]}")
            else:
                lines.append(f"    {label}{colon.rstrip()}")
                lines += [f"      {row}" for row in shown]
    return lines


def _value_lines(value: Any, text: dict[str, str]) -> list[str]:
    """A matrix as an aligned grid (cut to 8×10), a big array as its shape and first values,
    anything else on one line (cut to 160 characters)."""
    if isinstance(value, dict) and set(value) == {"shape", "head"}:
        return [text["array"].format(shape=tuple(value["shape"]), head=_inline(value["head"]))]
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
