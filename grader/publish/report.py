"""HTML reports from stored results: a page per submission and the class summary (SPEC section 7).

- ``DIR/report/STUDENT/ASSIGNMENT.html``: the student's page. Score, a table of questions, then for
  every test group that did not pass: what was called, the expected and the actual answer side by
  side as small coloured grids with the differing cells outlined (a difference heatmap for larger
  arrays), the largest error and where it is, the diagnosis in Chinese and English, and the cell and
  trimmed traceback of errors and timeouts. The page is made from
  :func:`grader.judge.results.for_student`, so a hidden group shows only its call by types and shapes, the
  kind of difference and the diagnosis (SPEC section 7, "Audiences").
- ``DIR/report/index.html``: the class summary for the instructor. A score histogram per assignment,
  pass rates per question, the most common diagnoses, the submissions that errored or timed out, and
  a sortable table of students linking to their pages and result files.

Rendering is a consumer: it reads :class:`~grader.judge.results.SubmissionResult` records (from
``DIR/results``) and the course configuration, never executes anything and never decides a score.
Everything a student wrote (names, outputs, tracebacks) goes through Jinja's autoescaping, and every
text is cut to a fixed length, so a page stays small and inert whatever the notebook printed. Pages
are self-contained: inline CSS, no fonts or scripts from the network, and a Content-Security-Policy
that forbids scripts on the students' pages (the index allows only its own, by hash).

The templates live in the repository's ``templates/`` folder, shipped in the wheel as
``grader/templates/`` (found by :mod:`grader.publish.templates`).
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import json
import logging
import math
import re
import statistics
from html import escape
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .. import __version__
from ..course.config import CourseConfig, Tolerance
from ..classroom.gradebook import RESULTS_DIR, safe_filename, write_atomic
from .messages import LANGUAGES, message
from .templates import TemplatesNotFound, template_folder
from ..judge.results import Diagnosis, Failure, GraderError, QuestionStatus, SubmissionResult, TestResult, for_student

__all__ = [
    "REPORT_DIR",
    "PageFailure",
    "ReportError",
    "course_questions",
    "optional_questions",
    "question_status",
    "render_index",
    "render_reports",
    "render_submission",
    "report_path",
]

log = logging.getLogger(__name__)

REPORT_DIR = "report"
INDEX_FILE = "index.html"

# How much of each text a page shows. A notebook may print, raise or return anything; the page of
# one submission must stay well under 1 MB whatever it did.
_TEXT_CHARS = 2_000  # a message, an error value, the submission-level error
_NOTE_CHARS = 600
_SOURCE_CHARS = 1_200  # a cell's source preview
_CALL_CHARS = 1_500
_TRACEBACK_LINES = 40
_TRACEBACK_CHARS = 5_000
_MAX_NOTES = 30
_MAX_CELLS = 30
_MAX_FAILED_TESTS = 60
_MAX_PARTS = 4  # differing parts of one nested answer (tuples, lists of tuples)
_GRID_MAX = 12  # a grid shows at most 12 x 12 values; larger arrays get a heatmap
_PER_ROW = 12  # 1-D values per grid row
_HEATMAP_MAX = 32  # heatmap cells per side; larger planes are max-pooled down to this
_MAX_DRAWN = 20  # failed tests drawn with grids or heatmaps; later ones show their message only
_TOP_DIAGNOSES = 12
_MAX_HINT_CELLS = 4

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


class ReportError(RuntimeError):
    """The reports cannot be rendered (no templates, a bad language); the message says why."""


# --- paths -------------------------------------------------------------------------------------


def _student_folder(student: str) -> str:
    """The student's folder of ``report/``: as in ``results/``, except that it is never the class
    summary's name (a student called ``index.html`` made a folder the index could not be written
    over, on a case-insensitive disk ``INDEX.HTML`` too): that one gets a hash, like any renamed name."""
    folder = safe_filename(student)
    if folder.lower() != INDEX_FILE:
        return folder
    return f"{folder}~{hashlib.sha256(student.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def report_path(out_dir: Path, student: str, assignment: str) -> Path:
    """``out_dir/report/STUDENT/ASSIGNMENT.html`` (file names as in ``results/``)."""
    return Path(out_dir) / REPORT_DIR / _student_folder(student) / f"{safe_filename(assignment)}.html"


def _page_href(student: str, assignment: str) -> str:
    """The link from ``report/index.html`` to a submission's page."""
    return f"{quote(_student_folder(student))}/{quote(safe_filename(assignment))}.html"


def _json_href(student: str, assignment: str) -> str:
    """The link from ``report/index.html`` to a submission's result file."""
    return f"../{RESULTS_DIR}/{quote(safe_filename(student))}/{quote(safe_filename(assignment))}.json"


def _environment() -> Environment:
    try:
        folder = template_folder()
    except TemplatesNotFound as exc:
        raise ReportError(str(exc)) from None
    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# --- small text helpers --------------------------------------------------------------------------

Translate = Callable[..., str]


def _translator(lang: str) -> Translate:
    if lang not in LANGUAGES:
        raise ReportError(f"report language must be one of {LANGUAGES}, received {lang!r}")

    def t(key: str, **values: Any) -> str:
        return message(key, lang, **values)

    return t


def _clip(text: str, limit: int, t: Translate) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + "\n" + t("text.truncated", count=f"{len(text) - limit:,}")


def _number(value: Any, digits: int = 4) -> str:
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


def _points(value: float) -> str:
    return f"{round(value, 2):g}"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The harness's own frame, which every error raised inside a graded call starts with.
_HARNESS_FRAME = re.compile(
    r'^  File "[^"\n]*", line \d+, in call\n    value = function\(\*args, \*\*kwargs\)\n(?:[ \t]*[~^]+[ \t]*\n)?',
    re.MULTILINE,
)
_RULE = re.compile(r"^-{20,}$")
_KERNEL_FILE = re.compile(r'File "(?:/tmp|/var/folders)/[^"\n]*ipykernel_\d+/\d+\.py"')


def _trim_traceback(text: str, t: Translate) -> str:
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
    kinds = {"missing" if _unanswered(failure) else failure.kind for failure in failed}
    if kinds == {"missing"}:
        return "missing"
    if "timeout" in kinds:
        return "timeout"
    if kinds & {"error", "crash", "unsupported"}:
        return "error"
    return "wrong"


def _unanswered(failure: Failure) -> bool:
    """The released template's answer: the function still raises NotImplementedError."""
    return failure.kind == "error" and failure.message.startswith("NotImplementedError")


_GRADER_MESSAGES = (
    (re.compile(r"^the notebook defines no function named ('[^'\n]{1,80}')$"), "grader.no_function", ("name",)),
    (re.compile(r"^.{0,80}the notebook defines no variable ('[^'\n]{1,80}')$"), "grader.no_variable", ("name",)),
    (re.compile(r"^the call did not finish within ([\d.]+) s$"), "grader.call_timeout", ("seconds",)),
    (re.compile(r"^the call killed the kernel$"), "grader.call_crash", ()),
    # results.student_view's words for a hidden group's error
    (re.compile(r"^([A-Za-z_][\w.]{0,79}): \(the message of an error in a hidden test is not shown\)$"),
     "grader.hidden_error", ("name",)),
)


def _grader_message(text: str, t: Translate) -> str:
    """The grader's own fixed messages in the page's language; anything else as it is."""
    for pattern, key, names in _GRADER_MESSAGES:
        match = pattern.match(text)
        if match:
            return t(key, **dict(zip(names, match.groups())))
    return text


def _test_status(failure: Failure) -> str:
    """The CSS status of one failed test: its kind folded into the question statuses."""
    return {"unsupported": "error", "crash": "error"}.get(failure.kind, failure.kind)


# --- arrays: grids and heatmaps ---------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    text: str
    title: str
    style: str
    css: str


@dataclass(frozen=True)
class Grid:
    rows: tuple[tuple[GridCell, ...], ...]
    caption: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeatRect:
    x: int
    y: int
    opacity: float


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    size: int
    rects: tuple[HeatRect, ...]
    worst: tuple[int, int] | None
    caption: str


@dataclass(frozen=True)
class Part:
    """One compared piece of an answer: the whole answer, or an element of a tuple/list answer."""

    path: str
    expected: Grid | None = None
    actual: Grid | None = None
    heatmap: Heatmap | None = None
    expected_text: str = ""
    actual_text: str = ""
    notes: tuple[str, ...] = ()
    legend: bool = False
    difference: str = ""  # two numbers: their difference, shown on one line with them


def _head(value: Any) -> tuple[tuple[int, ...], np.ndarray] | None:
    """``(shape, first values)`` of an excerpt stored as ``{"shape": [...], "head": [...]}``."""
    if isinstance(value, Mapping) and set(value) == {"shape", "head"}:
        head = _to_array(value["head"])
        if head is not None and isinstance(value["shape"], list):
            return tuple(int(n) for n in value["shape"]), head.ravel()
    return None


def _to_array(value: Any) -> np.ndarray | None:
    """A float array of a number or a rectangular nested list of numbers, else ``None``."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return np.array(float(value))
        except OverflowError:  # an int beyond a float: shown as text
            return None
    if not isinstance(value, list) or not value:
        return None
    try:
        array = np.array(value, dtype=float)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None
    return array if array.dtype.kind == "f" else None


def _differs(expected: np.ndarray, actual: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Which values differ, exactly as :func:`grader.judge.compare.compare` decides it."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(expected - actual)
        close = (diff <= tol.atol + tol.rtol * np.abs(expected)) | (expected == actual)
    return np.asarray(~close, dtype=bool)


def _shade(value: float, scale: float) -> str:
    """A light background for a value: orange above zero, blue below, white at zero."""
    if not math.isfinite(value) or scale <= 0:
        return ""
    level = max(-1.0, min(1.0, value / scale))
    hue = 28 if level >= 0 else 212
    return f"background-color:hsl({hue},80%,{97 - 25 * abs(level):.0f}%)"


def _plane(array: np.ndarray, worst: tuple[int, ...] | None, t: Translate,
           ) -> tuple[np.ndarray, tuple[int, int] | None, list[str], int]:
    """A 2-D view of ``array`` for a grid: (plane, worst position in it, notes, values in use).

    1-D arrays are wrapped into rows of 12; (H, W, C) arrays show one channel, the one with the
    largest error when it is known; arrays of more dimensions are wrapped like 1-D ones.
    """
    notes: list[str] = []
    if array.ndim == 2:
        position = (worst[0], worst[1]) if worst is not None and len(worst) == 2 else None
        return array, position, notes, array.size
    if array.ndim == 3:
        channels = array.shape[2]
        channel = worst[2] if worst is not None and len(worst) == 3 and worst[2] < channels else 0
        position = (worst[0], worst[1]) if worst is not None and len(worst) == 3 else None
        if channels > 1:
            notes.append(t("compare.channel", channel=channel, channels=channels))
        return array[:, :, channel], position, notes, array.shape[0] * array.shape[1]
    flat = array.ravel()
    flat_worst = None
    if worst is not None and len(worst) == array.ndim and array.ndim > 0:
        try:
            flat_worst = int(np.ravel_multi_index(worst, array.shape))
        except ValueError:
            flat_worst = None
    return _wrap(flat, flat_worst, notes, t)


def _wrap(flat: np.ndarray, flat_worst: int | None, notes: list[str], t: Translate,
          ) -> tuple[np.ndarray, tuple[int, int] | None, list[str], int]:
    if flat.size <= _PER_ROW:
        position = (0, flat_worst) if flat_worst is not None and flat_worst < flat.size else None
        return flat.reshape(1, -1), position, notes, flat.size
    rows = -(-flat.size // _PER_ROW)
    padded = np.full(rows * _PER_ROW, np.nan)
    padded[: flat.size] = flat
    notes.append(t("compare.wrapped", per_row=_PER_ROW))
    position = divmod(flat_worst, _PER_ROW) if flat_worst is not None and flat_worst < flat.size else None
    return padded.reshape(rows, _PER_ROW), position, notes, flat.size


def _grid(plane: np.ndarray, used: int, scale: float, caption: str, notes: Sequence[str],
          differ: np.ndarray | None = None, worst: tuple[int, int] | None = None,
          other: np.ndarray | None = None) -> Grid:
    rows = []
    for r in range(plane.shape[0]):
        cells = []
        for c in range(plane.shape[1]):
            if r * plane.shape[1] + c >= used and plane.ndim == 2 and used < plane.size:
                cells.append(GridCell("", "", "", "pad"))
                continue
            value = float(plane[r, c])
            css = []
            text = _number(value)
            if differ is not None and differ[r, c]:
                css.append("diff")
                if other is not None and _number(float(other[r, c])) == text:
                    text = _number(value, 8)  # differs below 4 digits: show enough to see how
            if worst is not None and (r, c) == worst:
                css.append("worst")
            cells.append(GridCell(text, f"[{r}, {c}] = {value!r}", _shade(value, scale), " ".join(css)))
        rows.append(tuple(cells))
    return Grid(tuple(rows), caption, tuple(notes))


def _heatmap(expected: np.ndarray, actual: np.ndarray, worst: tuple[int, int] | None, t: Translate) -> Heatmap:
    """|expected - actual| of a plane as SVG rectangles, max-pooled to at most 32 x 32."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(expected - actual)
    padding = np.isnan(expected) & np.isnan(actual)  # the end of a wrapped 1-D answer
    diff = np.where(padding, 0.0, np.where(np.isnan(diff), np.inf, diff))
    finite = diff[np.isfinite(diff)]
    top = float(finite.max()) if finite.size else 0.0
    block = max(1, -(-max(diff.shape) // _HEATMAP_MAX))
    h, w = -(-diff.shape[0] // block), -(-diff.shape[1] // block)
    size = max(6, min(20, 320 // max(h, w)))
    rects = []
    for r in range(h):
        for c in range(w):
            cell = diff[r * block:(r + 1) * block, c * block:(c + 1) * block]
            value = float(cell.max())
            opacity = 1.0 if not math.isfinite(value) else (value / top if top > 0 else 0.0)
            if opacity > 0:
                rects.append(HeatRect(c * size, r * size, round(opacity, 2)))
    position = (worst[1] // block * size, worst[0] // block * size) if worst is not None else None
    return Heatmap(w * size, h * size, size, tuple(rects), position, t("compare.heatmap", max=_number(top)))


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _array_part(path: str, expected: np.ndarray, actual: np.ndarray, worst: tuple[int, ...] | None,
                max_diff: float | None, tol: Tolerance, t: Translate) -> Part | None:
    """The comparison of two numeric arrays (or numbers); ``None`` when they are equal."""
    notes: list[str] = []
    if expected.shape != actual.shape:
        notes.append(t("compare.shape_mismatch", expected=_shape_text(expected.shape),
                       actual=_shape_text(actual.shape)))
        grids = [_lone_grid(a, caption, t) for a, caption in
                 ((expected, t("compare.expected")), (actual, t("compare.actual")))]
        return Part(path, grids[0], grids[1], notes=tuple(notes),
                    expected_text="" if grids[0] else _preview(expected.tolist()),
                    actual_text="" if grids[1] else _preview(actual.tolist()))
    differ = _differs(expected, actual, tol)
    if not differ.any():
        return None
    if worst is None or len(worst) != expected.ndim:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(differ, np.abs(expected - actual), -1))),
                                                       expected.shape)) if expected.ndim else ()
    if expected.ndim == 0:
        return Part(path, expected_text=_number(float(expected), 8), actual_text=_number(float(actual), 8),
                    difference=_number(float(abs(expected - actual)), 6))
    notes.append(_worst_note(expected, actual, worst, max_diff, t))
    e_plane, position, plane_notes, used = _plane(expected, worst, t)
    a_plane, _, _, _ = _plane(actual, worst, t)
    if max(e_plane.shape) > _GRID_MAX:  # too many numbers to read: where the errors are, and how large
        return Part(path, heatmap=_heatmap(e_plane, a_plane, position, t), notes=(*plane_notes, *notes))
    d_plane = _differs(e_plane, a_plane, tol) & ~np.isnan(e_plane)
    scale = _scale(e_plane, a_plane)
    count = int(differ.sum())
    notes.insert(0, t("compare.differ_count", count=count, total=expected.size))
    shape = t("compare.shape", shape=_shape_text(expected.shape))
    return Part(
        path,
        _grid(e_plane, used, scale, f"{t('compare.expected')} · {shape}", plane_notes, d_plane, position, a_plane),
        _grid(a_plane, used, scale, f"{t('compare.actual')} · {shape}", plane_notes, d_plane, position, e_plane),
        notes=tuple(notes),
        legend=True,
    )


def _scale(*planes: np.ndarray) -> float:
    values = np.concatenate([p[np.isfinite(p)].ravel() for p in planes])
    return float(np.abs(values).max()) if values.size else 0.0


def _lone_grid(array: np.ndarray, caption: str, t: Translate) -> Grid | None:
    """A grid of one array without a partner to compare with (shapes differ), if it is small."""
    if array.ndim == 0:
        return None
    plane, _, notes, used = _plane(array, None, t)
    if max(plane.shape) > _GRID_MAX:
        return None
    return _grid(plane, used, _scale(plane), f"{caption} · {t('compare.shape', shape=_shape_text(array.shape))}",
                 notes)


def _worst_note(expected: np.ndarray, actual: np.ndarray, worst: tuple[int, ...], max_diff: float | None,
                t: Translate) -> str:
    index = _shape_text(worst)
    if len(worst) == expected.ndim:
        e, a = float(expected[worst]), float(actual[worst])
        diff = abs(e - a) if max_diff is None else max_diff
        return (t("compare.worst", diff=_number(diff, 6), index=index) + ": "
                + t("compare.worst_values", expected=_number(e, 6), actual=_number(a, 6)))
    return t("compare.worst", diff=_number(max_diff or 0.0, 6), index=index)


def _head_part(path: str, expected: Any, actual: Any, failure: Failure, use_worst: bool, tol: Tolerance,
               t: Translate) -> Part | None:
    """Answers too large to store whole: compare the stored first values, report the true worst."""
    e_head, a_head = _head(expected), _head(actual)
    either = e_head or a_head
    shape = either[0] if either is not None else ()
    e_values = e_head[1] if e_head else _to_array(expected)
    a_values = a_head[1] if a_head else _to_array(actual)
    notes = []
    if e_head and a_head and e_head[0] != a_head[0]:
        notes.append(t("compare.shape_mismatch", expected=_shape_text(e_head[0]), actual=_shape_text(a_head[0])))
    if e_values is None or a_values is None:
        return Part(path, expected_text=_preview(expected), actual_text=_preview(actual), notes=tuple(notes))
    e_flat, a_flat = e_values.ravel(), a_values.ravel()
    n = min(e_flat.size, a_flat.size)
    e_flat, a_flat = e_flat[:n], a_flat[:n]
    differ = _differs(e_flat, a_flat, tol)
    worst = failure.worst_index if use_worst else None
    if not differ.any() and not notes and worst is None:
        return None
    flat_worst = None
    if worst is not None and shape and len(worst) == len(shape):
        try:
            flat_worst = int(np.ravel_multi_index(worst, shape))
        except ValueError:
            flat_worst = None
    notes.insert(0, t("compare.head", shape=_shape_text(shape), count=n))
    if worst is not None:
        notes.append(t("compare.worst", diff=_number(failure.max_abs_diff or 0.0, 6), index=_shape_text(worst)))
    e_plane, position, plane_notes, used = _wrap(e_flat, flat_worst, [], t)
    a_plane, _, _, _ = _wrap(a_flat, flat_worst, [], t)
    d_plane = _differs(e_plane, a_plane, tol) & ~np.isnan(e_plane)
    scale = _scale(e_plane, a_plane)
    return Part(
        path,
        _grid(e_plane, used, scale, t("compare.expected"), plane_notes, d_plane, position, a_plane),
        _grid(a_plane, used, scale, t("compare.actual"), plane_notes, d_plane, position, e_plane),
        notes=tuple(notes),
        legend=True,
    )


def _preview(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " …"


_VALUES_MESSAGE = re.compile(r"^(?:\[[^\]\n]{1,40}\])*:? ?\d+ of \d+ values differ; "
                             r"largest error [^;()]*at index \([^)]*\): expected [^,]*, got \S+$")
_PATH_PREFIX = re.compile(r"^((?:\[[^\]\n]{1,40}\])+):")


def _parts(failure: Failure, tol: Tolerance, t: Translate) -> tuple[Part, ...]:
    """The differing pieces of a wrong answer, each ready to draw."""
    if failure.kind != "wrong" or (failure.expected is None and failure.actual is None):
        return ()
    match = _PATH_PREFIX.match(failure.message)
    worst_path = match.group(1) if match else ""
    parts: list[Part] = []

    def walk(expected: Any, actual: Any, path: str, depth: int) -> None:
        if len(parts) >= _MAX_PARTS:
            return
        use_worst = path == worst_path
        if _head(expected) is not None or _head(actual) is not None:
            part = _head_part(path, expected, actual, failure, use_worst, tol, t)
            if part is not None:
                parts.append(part)
            return
        e, a = _to_array(expected), _to_array(actual)
        if e is not None and a is not None:
            part = _array_part(path, e, a, failure.worst_index if use_worst else None,
                               failure.max_abs_diff if use_worst else None, tol, t)
            if part is not None:
                parts.append(part)
            return
        if (depth < 3 and isinstance(expected, list) and isinstance(actual, list)
                and len(expected) == len(actual) and 0 < len(expected) <= 64):
            for i, (x, y) in enumerate(zip(expected, actual)):
                walk(x, y, f"{path}[{i}]", depth + 1)
            return
        if (depth < 3 and isinstance(expected, Mapping) and isinstance(actual, Mapping)
                and set(expected) == set(actual)):
            for key in list(expected)[:64]:
                walk(expected[key], actual[key], f"{path}[{key!r}]", depth + 1)
            return
        if expected != actual:
            parts.append(Part(path, expected_text=_preview(expected), actual_text=_preview(actual)))

    walk(failure.expected, failure.actual, "", 0)
    return tuple(parts)


# --- what was called -------------------------------------------------------------------------------

_NUMERIC_GROUP = re.compile(r"^\[[\s\d.,eE+\-\[\]naif]*\]$")


def _split_arguments(call: str) -> tuple[str, list[str]] | None:
    """``"f(a, [1, 2], k='x')"`` -> ``("f", ["a", "[1, 2]", "k='x'"])``; ``None`` if it is not a call."""
    match = re.match(r"^\s*([A-Za-z_][\w.]*)\((.*)\)\s*$", call, re.DOTALL)
    if not match:
        return None
    name, inner = match.groups()
    args, depth, quote_char, start = [], 0, "", 0
    for i, char in enumerate(inner):
        if quote_char:
            if char == quote_char and inner[i - 1] != "\\":
                quote_char = ""
        elif char in "'\"":
            quote_char = char
        elif char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    if inner[start:].strip():
        args.append(inner[start:].strip())
    return name, args


def _numeric_literal(text: str) -> np.ndarray | None:
    """The array written as ``[[ 2.,  3.], [nan, -inf]]`` (NumPy's printing), or ``None``."""
    text = text.strip()
    if not _NUMERIC_GROUP.match(text):
        return None
    try:
        value = ast.literal_eval(re.sub(r"\bnan\b", "None", re.sub(r"\binf\b", "1e999", text)))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    try:
        array = np.array(value, dtype=float)
    except (ValueError, TypeError):
        return None
    return array if array.ndim >= 1 else None


def _scrub_call(call: str) -> str:
    """The call with every array literal replaced by its shape (hidden inputs stay hidden)."""
    out, i = [], 0
    while i < len(call):
        char = call[i]
        if char in "'\"":  # copy a string literal whole: its brackets are not arrays
            end = call.find(char, i + 1)
            end = len(call) - 1 if end == -1 else end
            out.append(call[i:end + 1])
            i = end + 1
            continue
        if char == "[":
            depth, j = 0, i
            while j < len(call):
                depth += {"[": 1, "]": -1}.get(call[j], 0)
                if depth == 0:
                    break
                j += 1
            group = call[i:j + 1]
            array = _numeric_literal(group)
            if array is not None:
                out.append(f"<array {_shape_text(array.shape)}>")
                i = j + 1
                continue
        out.append(char)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class InputView:
    label: str
    grid: Grid


def _call_inputs(call: str, t: Translate) -> tuple[InputView, ...]:
    """Grids of the small arrays written out in a public test's call."""
    split = _split_arguments(call)
    if split is None:
        return ()
    views = []
    for n, argument in enumerate(split[1], start=1):
        name, _, value = argument.partition("=")
        keyword = bool(value) and name.isidentifier()
        array = _numeric_literal(value if keyword else argument)
        if array is None or array.ndim > 3:
            continue
        plane, _, notes, used = _plane(array, None, t)
        if max(plane.shape) > _GRID_MAX:
            continue
        label = name if keyword else t("call.argument", n=n)
        views.append(InputView(label, _grid(plane, used, _scale(plane),
                                            f"{label} · {t('compare.shape', shape=_shape_text(array.shape))}", notes)))
    return tuple(views)


# --- one submission's page -----------------------------------------------------------------------


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


@dataclass(frozen=True)
class FailedQuestion:
    """The failed groups of one question; a diagnosis they all share is shown once, above them."""

    id: str
    status: str
    status_label: str
    diagnosis_first: str
    diagnosis_second: str
    tests: tuple[TestView, ...]
    unanswered: bool


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


def _cell_problem_links(result: SubmissionResult, t: Translate) -> tuple[tuple[str, str], ...]:
    """(label, link) of the first cells that failed for a reason other than an unfinished answer."""
    links = []
    for cell in result.cells:
        outcome = str(cell.get("outcome", "error"))
        if outcome == "error" and cell.get("ename") == "NotImplementedError":
            continue
        what = str(cell.get("ename")) if outcome == "error" else _outcome_label(cell, t)
        links.append((f"{t('cells.cell', index=cell.get('index', '?'))} ({_clip(what, 80, t)})",
                      f"#cell-{cell.get('index', '')}"))
    return tuple(links[:_MAX_HINT_CELLS])


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
    reveal = test.public or show_hidden  # the failure is already the student's view (results.for_student)
    call = failure.call
    if not reveal:  # belt and braces for an old record: a cut array literal would escape the scrubbing
        name = call.split("(", 1)[0][:80]
        shapes = ", ".join(failure.input_shapes[:16])
        call = _scrub_call(call) if len(call) <= 4 * _CALL_CHARS else f"{name}({shapes} …)"
    hints: list[str] = []
    not_implemented = _unanswered(failure)
    undefined = failure.kind == "missing" or (failure.kind == "error" and failure.message.startswith("NameError"))
    cells = _cell_problem_links(result, t) if undefined else ()
    if failure.kind == "timeout":
        hints.append(t("error.timeout_hint"))
    try:
        parts = _parts(failure, config.tolerance, t) if draw else ()
    except Exception:  # an answer no grid or text can show (see _coerced): the message still says it
        log.warning("%s/%s, %s: the answers could not be drawn", result.student, result.assignment, test.name,
                    exc_info=True)
        parts = ()
    # The parts say "n of m values differ; largest error ... at ..." in the page's language already.
    show_message = not parts or not _VALUES_MESSAGE.match(failure.message[:1000])
    first = second = ""
    if test.diagnosis is not None:
        first, second = ((test.diagnosis.zh, test.diagnosis.en) if lang == "zh"
                         else (test.diagnosis.en, test.diagnosis.zh))
    return TestView(
        anchor=f"test-{n}",
        question=test.question,
        group=test.group,
        public=test.public,
        score=_points(test.score),
        max_score=_points(test.max_score),
        cases=test.cases,
        passed_cases=test.passed_cases,
        status=_test_status(failure),
        kind_label=t(f"kind.{failure.kind}"),
        message=_clip(_grader_message(failure.message, t), _TEXT_CHARS, t),
        call=_clip(call, _CALL_CHARS, t),
        shapes=", ".join(failure.input_shapes[:16]),
        inputs=_call_inputs(call, t) if draw and reveal and len(call) <= _CALL_CHARS else (),
        hidden_note=not test.public and not show_hidden,
        hidden_answer_note=not test.public and show_hidden,
        parts=parts,
        diagnosis_first=_clip(first, _TEXT_CHARS, t),
        diagnosis_second=_clip(second, _TEXT_CHARS, t),
        traceback=_trim_traceback(failure.traceback, t),
        hints=tuple(hints),
        hint_cells=cells,
        not_implemented=not_implemented,
        show_message=show_message,
    )


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
        status = question_status([test for test, _ in members])
        unanswered = all(view.not_implemented for _, view in members)
        label = t("status.unanswered") if unanswered else t(f"status.{status}")
        questions.append(FailedQuestion(question, status, label, first, second, tests, unanswered))
    return tuple(questions)


def _submission_view(result: SubmissionResult, config: CourseConfig, lang: str, show_hidden: bool) -> SubmissionView:
    t = _translator(lang)
    own = config.assignments.get(result.assignment)
    by_question: dict[str, list[tuple[int, TestResult]]] = {}
    for n, test in enumerate(result.tests):
        by_question.setdefault(test.question, []).append((n, test))
    order = course_questions(config).get(result.assignment, [])
    ordered = [q for q in order if q in by_question] + [q for q in by_question if q not in order]
    questions, failed = [], []
    for question in ordered:
        tests = [test for _, test in by_question[question]]
        status = question_status(tests)
        unanswered = all(_unanswered(test.failure) for test in tests if test.failure is not None)
        questions.append(QuestionView(
            id=question,
            score=_points(sum(test.score for test in tests)),
            max_score=_points(sum(test.max_score for test in tests)),
            passed_groups=sum(test.failure is None for test in tests),
            groups=tuple(GroupView(test.group, test.failure is None, _clip(test.detail, _NOTE_CHARS, t),
                                   f"test-{n}") for n, test in by_question[question]),
            status=status,
            status_label=t("status.unanswered") if status == "missing" and unanswered else t(f"status.{status}"),
            optional=any(test.extra_credit for test in tests),
        ))
        for n, test in by_question[question]:
            if test.failure is not None:
                failed.append((n, test, test.failure))
    failed_views = _failed_questions(
        [(test, _test_view(n, test, failure, result, config, lang, show_hidden, i < _MAX_DRAWN, t))
         for i, (n, test, failure) in enumerate(failed[:_MAX_FAILED_TESTS])], t)
    cells: list[CellView] = []
    unfinished: list[str] = []
    for cell in result.cells:
        if cell.get("outcome") == "error" and cell.get("ename") == "NotImplementedError":
            unfinished.append(str(cell.get("index", "?")))
            continue
        if len(cells) >= _MAX_CELLS:
            continue
        outcome = str(cell.get("outcome", "error"))
        cells.append(CellView(
            index=_index(cell.get("index")),
            outcome=outcome,
            outcome_label=_outcome_label(cell, t),
            ename=_clip(str(cell.get("ename", "")), 200, t),
            evalue=_clip(str(cell.get("evalue", "")), _TEXT_CHARS, t),
            source=_clip(str(cell.get("source_preview", "")), _SOURCE_CHARS, t),
            traceback=_trim_traceback(str(cell.get("traceback", "")), t),
        ))
    shown = {str(cell.get("index")) for cell in result.cells}
    notes = [note for note in result.notes
             if not ((m := _CELL_NOTE.match(note)) and m.group(1) in shown)]  # the cells section says it
    extra = sum(test.score for test in result.tests if test.extra_credit)
    score, most = result.score, result.max_score
    return SubmissionView(
        student=_clip(result.student, 200, t),
        assignment=result.assignment,
        title=own.title if own is not None else result.assignment,
        score=_points(score),
        max_score=_points(most),
        extra=t("head.extra", points=_points(extra)) if extra > 0 else "",
        percent=max(0.0, min(100.0, 100 * score / most)) if most > 0 else 0.0,
        time=t("head.seconds", seconds=f"{result.execution_time:.1f}"),
        version=result.grader_version,
        sandbox=t("head.sandbox_off") if _unconfined(result) else result.sandbox,
        unconfined=_unconfined(result),
        source=_clip(result.source, 300, t),
        error=_clip(result.error, _TEXT_CHARS, t),
        questions=tuple(questions),
        failed=failed_views,
        failed_shown=min(len(failed), _MAX_FAILED_TESTS),
        failed_total=len(failed),
        cells=tuple(cells),
        unfinished=", ".join(unfinished[:50]),
        notes=tuple(_clip(note, _NOTE_CHARS, t) for note in notes[:_MAX_NOTES]),
        notes_more=max(0, len(notes) - _MAX_NOTES),
        passed_all=not failed and not result.error and bool(result.tests),
        problems=bool(cells),
    )


_CELL_NOTE = re.compile(r"^cell (\d+) (?:raised|was stopped|killed the kernel|was not run)")
_OUTCOMES = {"outcome.error", "outcome.timeout", "outcome.dead_kernel", "outcome.skipped"}


def course_questions(config: CourseConfig) -> dict[str, list[str]]:
    """Question ids of each assignment of ``course.toml``, in the declared order (else the file's)."""
    from ..course.assignments import course_assignments

    declared = course_assignments()
    return {
        aid: [q.id for q in declared[aid].questions] if aid in declared else list(own.points)
        for aid, own in config.assignments.items()
    }


def optional_questions(config: CourseConfig) -> dict[str, set[str]]:
    """The optional (extra-credit) question ids of each assignment of ``course.toml``."""
    from ..course.assignments import course_assignments

    declared = course_assignments()
    return {aid: {q.id for q in declared[aid].questions if q.optional} if aid in declared else set()
            for aid in config.assignments}


# --- reading whatever a result file holds ---------------------------------------------------------

_KINDS = frozenset(("wrong", "error", "timeout", "missing", "unsupported", "crash"))


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


def _str(value: Any, limit: int = 100_000) -> str:
    """A stored text; a number is written out, anything else (a list where a text belongs) is dropped."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)[:limit]
    return ""


def _coerced_failure(failure: Any) -> Failure | None:
    if not isinstance(failure, Failure):
        return None
    worst = failure.worst_index
    if not (isinstance(worst, (tuple, list)) and len(worst) <= 32
            and all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**31 for i in worst)):
        worst = None
    shapes = failure.input_shapes if isinstance(failure.input_shapes, (tuple, list)) else ()
    diff = failure.max_abs_diff
    return Failure(
        failure.kind if failure.kind in _KINDS else "error",  # type: ignore[arg-type]
        _str(failure.message), _str(failure.call), tuple(_str(x, 200) for x in shapes[:64]),
        failure.expected, failure.actual,
        None if diff is None or isinstance(diff, bool) or not isinstance(diff, (int, float))
        else _real(diff, finite=False),
        tuple(worst) if worst is not None else None, _str(failure.traceback), _str(failure.signature),
        _str(failure.outline),
    )


def _coerced(result: SubmissionResult) -> SubmissionResult:
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
            diagnosis = (Diagnosis(_str(diagnosis.id), _str(diagnosis.zh), _str(diagnosis.en))
                         if isinstance(diagnosis, Diagnosis) else None)
        tests.append(TestResult(
            _str(test.question, 200) or "?", _str(test.group, 200) or "?", test.public is True,
            _real(test.score), _real(test.max_score), _count(test.cases), _count(test.passed_cases),
            _coerced_failure(test.failure), diagnosis, test.extra_credit is True, _str(test.detail),
        ))
    cells = tuple(dict(cell) for cell in result.cells if isinstance(cell, Mapping)) \
        if isinstance(result.cells, (tuple, list)) else ()
    cells = tuple({key: value if key == "index" and isinstance(value, int) and not isinstance(value, bool)
                   else _str(value) for key, value in cell.items() if isinstance(key, str)} for cell in cells)
    notes = tuple(_str(note) for note in result.notes) if isinstance(result.notes, (tuple, list)) else ()
    return SubmissionResult(
        _str(result.student, 1000) or "?", _str(result.assignment, 1000) or "?", _str(result.submission_sha256),
        _str(result.grader_version, 100), _real(result.execution_time), tuple(tests), cells, notes,
        _str(result.error), _str(result.sandbox, 100), _str(result.source),
        result.extras if isinstance(result.extras, Mapping) else {},
        {_str(k, 100): _str(v, 100) for k, v in result.limits.items()} if isinstance(result.limits, Mapping) else {},
        GraderError(_str(result.grader_error.stage, 100), _str(result.grader_error.reason),
                    _str(result.grader_error.traceback)) if isinstance(result.grader_error, GraderError) else None,
    )


def render_submission(result: SubmissionResult, config: CourseConfig, lang: str | None = None,
                      *, environment: Environment | None = None) -> str:
    """The HTML page of one submission, in ``lang`` (default: the course's language)."""
    lang = lang or config.language
    env = environment or _environment()
    shown = for_student(_coerced(result), config.show_hidden_inputs)
    view = _submission_view(shown, config, lang, config.show_hidden_inputs)
    return env.get_template("submission.html.j2").render(
        page=view, lang=lang, t=_translator(lang), version=__version__,
        csp="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'",
    )


# --- the class summary ---------------------------------------------------------------------------


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
    question: str
    passed: int
    total: int
    percent: float
    optional: bool


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
class Problem:
    student: str
    assignment: str
    href: str
    reasons: str


@dataclass(frozen=True)
class ScoreCell:
    text: str
    value: float
    href: str
    json_href: str
    status: str


@dataclass(frozen=True)
class StudentRow:
    student: str
    cells: tuple[ScoreCell | None, ...]
    total: str
    total_value: float


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
                        f"[{_points(low)}, {_points(high)}{closing}: {count}"))
    ticks = tuple((left + i * bar_width, _points(most * i / bins)) for i in range(0, bins + 1, 2))
    return Histogram(width, height, base, tuple(bars), ticks, label)


def _problems(result: SubmissionResult, t: Translate) -> list[str]:
    """Why a submission counts as errored or timed out (empty when it did not)."""
    reasons = []
    if result.error:
        reasons.append(t("problem.not_graded", reason=_clip(result.error.splitlines()[0], 160, t)))
    for cell in result.cells:
        outcome, index = cell.get("outcome"), cell.get("index", "?")
        if outcome == "timeout":
            reasons.append(t("problem.cell_timeout", index=index))
        elif outcome == "dead_kernel":
            reasons.append(t("problem.cell_dead", index=index))
        elif outcome == "error" and cell.get("ename") not in ("NotImplementedError", "AssertionError"):
            reasons.append(t("problem.cell_error", index=index, ename=_clip(str(cell.get("ename", "")), 80, t)))
    calls: dict[str, str] = {}
    for test in result.tests:
        if test.failure is not None and test.failure.kind in ("timeout", "crash"):
            calls.setdefault(test.question, test.failure.kind)
    for question, kind in calls.items():
        reasons.append(t("problem.call_timeout" if kind == "timeout" else "problem.call_crash", question=question))
    return reasons


def _index_view(results: Sequence[SubmissionResult], config: CourseConfig, lang: str) -> IndexView:
    t = _translator(lang)
    order = course_questions(config)
    optional = optional_questions(config)
    assignment_ids = list(config.assignments) + sorted({r.assignment for r in results} - set(config.assignments))
    by_assignment: dict[str, list[SubmissionResult]] = {aid: [] for aid in assignment_ids}
    for result in results:
        by_assignment[result.assignment].append(result)

    summaries = []
    for aid in assignment_ids:
        own = config.assignments.get(aid)
        title = own.title if own is not None else aid
        subs = by_assignment[aid]
        if own is not None:
            most = sum(p for q, p in own.points.items() if q not in optional.get(aid, set()))
        else:
            most = max((r.max_score for r in subs), default=0.0)
        scores = [r.score for r in subs]
        stats = t("index.mean", mean=_points(statistics.fmean(scores)), median=_points(statistics.median(scores)),
                  max=_points(most)) if scores else ""
        questions = order.get(aid) or sorted({test.question for r in subs for test in r.tests})
        rates = []
        for question in questions:
            passed = sum(1 for r in subs if (own_tests := [x for x in r.tests if x.question == question])
                         and all(x.failure is None for x in own_tests))
            rates.append(PassRate(question, passed, len(subs), 100 * passed / len(subs) if subs else 0.0,
                                  question in optional.get(aid, set())))
        summaries.append(AssignmentSummary(
            aid, title, len(subs), stats,
            _histogram(scores, most, t("index.histogram_label", assignment=title)) if subs else None,
            tuple(rates),
        ))

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
    for (aid, did), entry in ranked[:_TOP_DIAGNOSES]:
        diagnosis = entry["diagnosis"]
        text, other = (diagnosis.zh, diagnosis.en) if lang == "zh" else (diagnosis.en, diagnosis.zh)
        students = sorted(entry["students"])
        diagnoses.append(DiagnosisCount(
            aid, ", ".join(entry["questions"]), did, _clip(text, 400, t), _clip(other, 400, t), len(students),
            _clip(", ".join(students[:20]) + (" …" if len(students) > 20 else ""), 600, t),
        ))

    problems = []
    for result in results:
        reasons = _problems(result, t)
        if reasons:
            problems.append(Problem(_clip(result.student, 200, t), result.assignment,
                                    _page_href(result.student, result.assignment),
                                    _clip("; ".join(reasons), 400, t)))

    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for result in results:
        by_student.setdefault(result.student, {})[result.assignment] = result
    rows = []
    for student in sorted(by_student):
        cells: list[ScoreCell | None] = []
        total = 0.0
        for aid in assignment_ids:
            graded = by_student[student].get(aid)
            if graded is None:
                cells.append(None)
                continue
            total += graded.score
            status = "passed" if graded.score >= graded.max_score > 0 else (
                "error" if _problems(graded, t) else ("partial" if graded.score > 0 else "wrong"))
            cells.append(ScoreCell(f"{_points(graded.score)} / {_points(graded.max_score)}", graded.score,
                                   _page_href(student, aid), _json_href(student, aid), status))
        rows.append(StudentRow(_clip(student, 200, t), tuple(cells), _points(total), total))

    return IndexView(
        course=config.name,
        counts=t("index.counts", students=len(by_student), submissions=len(results)),
        assignments=tuple(summaries),
        diagnoses=tuple(diagnoses),
        problems=tuple(problems),
        columns=tuple((aid, (config.assignments[aid].title if aid in config.assignments else aid))
                      for aid in assignment_ids),
        students=tuple(rows),
        unconfined=sum(_unconfined(r) for r in results),
    )


def _unconfined(result: SubmissionResult) -> bool:
    """Graded with ``--sandbox off`` (older results said ``"none"``): every page says so."""
    return result.sandbox != "bwrap"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200].rstrip(": ")


def render_index(results: Sequence[SubmissionResult], config: CourseConfig, lang: str | None = None,
                 *, environment: Environment | None = None, unrendered: Sequence[PageFailure] = ()) -> str:
    """The class summary page, ``report/index.html``.

    ``unrendered`` names the pages :func:`render_reports` could not write. A submission that
    cannot be summarised either is left out of the summary and listed there too, so one odd result
    file never costs the class its page."""
    lang = lang or config.language
    env = environment or _environment()
    t = _translator(lang)
    usable, failed = [], list(unrendered)
    for result in results:
        try:
            coerced = _coerced(result)
            _index_view([coerced], config, lang)
        except Exception as exc:
            log.exception("%s/%s: left out of the class summary", getattr(result, "student", "?"),
                          getattr(result, "assignment", "?"))
            failed.append(PageFailure(_clip(_str(getattr(result, "student", "")), 200, t) or "?",
                                      _clip(_str(getattr(result, "assignment", "")), 200, t) or "?", _reason(exc)))
            continue
        usable.append(coerced)
    view = dataclasses.replace(_index_view(usable, config, lang), unrendered=tuple(failed))
    digest = base64.b64encode(hashlib.sha256(_SORT_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("index.html.j2").render(
        page=view, lang=lang, t=t, version=__version__,
        script=_SORT_SCRIPT,
        csp=f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'",
    )


_UNRENDERED_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>{title}</title></head>
<body><p>{text}</p></body></html>
"""


def render_reports(out_dir: Path, results: Iterable[SubmissionResult], config: CourseConfig,
                   lang: str | None = None) -> list[Path]:
    """Write ``out_dir/report/STUDENT/ASSIGNMENT.html`` for every result and ``out_dir/report/index.html``.

    ``lang`` is ``"zh"`` or ``"en"`` (default: ``course.toml``'s ``language``). Returns the paths
    written, the index last. Each file is written atomically.
    """
    lang = lang or config.language
    _translator(lang)  # a bad language fails before anything is written
    env = _environment()
    results = list(results)
    written = []
    unrendered: list[PageFailure] = []
    t = _translator(lang)
    for result in results:
        student, assignment = _str(getattr(result, "student", "")), _str(getattr(result, "assignment", ""))
        path = None
        try:
            path = report_path(Path(out_dir), student, assignment)
            html = render_submission(result, config, lang, environment=env)
        except Exception as exc:  # one page's failure is that page's: the others and the index still render
            log.exception("%s/%s: the report page could not be rendered", student, assignment)
            unrendered.append(PageFailure(_clip(student, 200, t) or "?", _clip(assignment, 200, t) or "?",
                                          _reason(exc)))
            if path is None:
                continue
            html = _UNRENDERED_PAGE.format(lang=lang, title=escape(t("index.unrendered")),
                                           text=escape(t("index.unrendered_page")))
        write_atomic(path, html.encode("utf-8"))  # never leave an earlier run's page standing for this one
        written.append(path)
    index = Path(out_dir) / REPORT_DIR / INDEX_FILE
    write_atomic(index, render_index(results, config, lang, environment=env, unrendered=unrendered).encode("utf-8"))
    written.append(index)
    log.info("wrote %d report page(s) and %s", len(written) - 1, index)
    return written

