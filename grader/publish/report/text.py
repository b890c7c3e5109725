"""Text on a page: the translator, clipping, numbers and points, tracebacks trimmed to what a student
can use, and the status words. Every limit on how much of a text a page shows is here."""

from __future__ import annotations


import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...judge.catalog import LANGUAGES, text
from ...judge.results import Failure, QuestionStatus, TestResult
from .paths import ReportError

# How much of each text a page shows. A notebook may print, raise or return anything; the page of
# one submission must stay well under 1 MB whatever it did.
TEXT_CHARS = 2_000  # a message, an error value, the submission-level error
NOTE_CHARS = 600
SOURCE_CHARS = 1_200  # a cell's source preview
CALL_CHARS = 1_500
_TRACEBACK_LINES = 40
_TRACEBACK_CHARS = 5_000
MAX_NOTES = 30
MAX_CELLS = 30
MAX_FAILED_TESTS = 60
MAX_PARTS = 4  # differing parts of one nested answer (tuples, lists of tuples)
GRID_MAX = 12  # a grid shows at most 12 x 12 values; larger arrays get a heatmap
PER_ROW = 12  # 1-D values per grid row
HEATMAP_MAX = 32  # heatmap cells per side; larger planes are max-pooled down to this
MAX_DRAWN = 20  # failed tests drawn with grids or heatmaps; later ones show their message only
TOP_DIAGNOSES = 12
MAX_HINT_CELLS = 4


@dataclass(frozen=True)
class Translate:
    """A page's words in its language: ``t("status.passed")``, as the templates call it; a failure
    or a note (codes and parameters) is worded with :meth:`words`, from the same catalog."""

    lang: str

    def __call__(self, key: str, /, **values: Any) -> str:
        return text(key, self.lang, **values)

    def words(self, message: Any) -> str:
        """A :class:`~grader.judge.results.Failure` or :class:`~grader.judge.catalog.Message` in words."""
        return str(message.text(self.lang))


def translator(lang: str) -> Translate:
    if lang not in LANGUAGES:
        raise ReportError(f"report language must be one of {LANGUAGES}, received {lang!r}")
    return Translate(lang)


def clip(text: str, limit: int, t: Translate) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + t("text.truncated", count=f"{len(text) - limit:,}")


def number_text(value: Any, digits: int = 4) -> str:
    """A number as a student reads it: 42, -16.31, 0.0325, 1e-07, nan, 1e+400 (an int too large
    for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return str(value)
    try:
        x = float(value)
    except OverflowError:  # an int beyond 1.8e308
        text = str(abs(int(value)))
        return f"{'-' if value < 0 else ''}{text[0]}.{text[1:digits]}e+{len(text) - 1}"
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e9:
        return str(int(x))
    return f"{x:.{digits}g}"


def points_text(value: float) -> str:
    return f"{round(value, 2):g}"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The harness's own frame, which every error raised inside a graded call starts with.
_HARNESS_FRAME = re.compile(
    r'^  File "[^"\n]*", line \d+, in call\n    value = function\(\*args, \*\*kwargs\)\n(?:[ \t]*[~^]+[ \t]*\n)?',
    re.MULTILINE,
)
_RULE = re.compile(r"^-{20,}$")
_KERNEL_FILE = re.compile(r'File "(?:/tmp|/var/folders)/[^"\n]*ipykernel_\d+/\d+\.py"')


def trim_traceback(text: str, t: Translate) -> str:
    """The end of a traceback, without colour codes or the harness's frame."""
    if not text:
        return ""
    text = text[-(_TRACEBACK_CHARS * 4):]  # never work on megabytes of output
    text = _ANSI.sub("", text)
    text = _HARNESS_FRAME.sub("", text)
    text = _KERNEL_FILE.sub('File "<notebook cell>"', text)
    lines = [line for line in text.rstrip("\n").split("\n") if not _RULE.match(line)]
    if len(lines) > _TRACEBACK_LINES:
        lines = [t("text.more_lines", count=len(lines) - _TRACEBACK_LINES), *lines[-_TRACEBACK_LINES:]]
    text = "\n".join(lines)
    if len(text) > _TRACEBACK_CHARS:
        text = t("text.truncated", count=f"{len(text) - _TRACEBACK_CHARS:,}") + "\n" + text[-_TRACEBACK_CHARS:]
    return text


# --- statuses ------------------------------------------------------------------------------------


def question_status(tests: Sequence[TestResult]) -> QuestionStatus:
    """One question's status from its test groups.

    ``passed`` when every group passed; ``partial`` when some points were earned; otherwise the
    worst kind of failure: ``timeout``, then ``error`` (errors, crashes, unsupported return values),
    then ``wrong``; ``missing`` only when every failure is a missing function or variable or an
    unanswered one (it still raises ``NotImplementedError``).
    """
    failed = [test.failure for test in tests if test.failure is not None]
    if not failed:
        return "passed"
    if len(failed) < len(tests) or any(test.score > 0 for test in tests):
        return "partial"
    kinds = {"missing" if not_answered(failure) else failure.kind for failure in failed}
    if kinds == {"missing"}:
        return "missing"
    if "timeout" in kinds:
        return "timeout"
    if kinds & {"error", "crash", "unsupported"}:
        return "error"
    return "wrong"


def skipped_optional(tests: Sequence[TestResult], cells_failed: bool = False) -> bool:
    """An optional question the student left alone: the template's ``NotImplementedError`` in every
    group, or no function at all — unless a cell failed (``cells_failed``), which may be why it is
    missing, and which the student then has to see. Not attempted is no failure."""
    failed = [test.failure for test in tests if test.failure is not None]
    return (bool(tests) and all(test.extra_credit for test in tests) and len(failed) == len(tests)
            and all(not_answered(failure) or (failure.kind == "missing" and not cells_failed) for failure in failed))


def not_answered(failure: Failure) -> bool:
    """The released template's answer: the function still raises NotImplementedError."""
    return failure.unanswered


def test_status(failure: Failure) -> str:
    """The CSS status of one failed test: its kind folded into the question statuses."""
    return {"unsupported": "error", "crash": "error"}.get(failure.kind, failure.kind)
