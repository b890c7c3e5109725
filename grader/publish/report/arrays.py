"""Expected and actual answers drawn side by side: value grids with the differing cells outlined,
heatmaps for larger arrays, the parts of a nested answer that differ, and the inputs of a public call."""

from __future__ import annotations


import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...course.config import Tolerance
from ...judge.results import Call, Failure
from .text import Translate, GRID_MAX, HEATMAP_MAX, MAX_PARTS, PER_ROW, number_text

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
    if flat.size <= PER_ROW:
        position = (0, flat_worst) if flat_worst is not None and flat_worst < flat.size else None
        return flat.reshape(1, -1), position, notes, flat.size
    rows = -(-flat.size // PER_ROW)
    padded = np.full(rows * PER_ROW, np.nan)
    padded[: flat.size] = flat
    notes.append(t("compare.wrapped", per_row=PER_ROW))
    position = divmod(flat_worst, PER_ROW) if flat_worst is not None and flat_worst < flat.size else None
    return padded.reshape(rows, PER_ROW), position, notes, flat.size


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
            text = number_text(value)
            if differ is not None and differ[r, c]:
                css.append("diff")
                if other is not None and number_text(float(other[r, c])) == text:
                    text = number_text(value, 8)  # differs below 4 digits: show enough to see how
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
    block = max(1, -(-max(diff.shape) // HEATMAP_MAX))
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
    return Heatmap(w * size, h * size, size, tuple(rects), position, t("compare.heatmap", max=number_text(top)))


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
        return Part(path, expected_text=number_text(float(expected), 8), actual_text=number_text(float(actual), 8),
                    difference=number_text(float(abs(expected - actual)), 6))
    notes.append(_worst_note(expected, actual, worst, max_diff, t))
    e_plane, position, plane_notes, used = _plane(expected, worst, t)
    a_plane, _, _, _ = _plane(actual, worst, t)
    if max(e_plane.shape) > GRID_MAX:  # too many numbers to read: where the errors are, and how large
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
    if max(plane.shape) > GRID_MAX:
        return None
    return _grid(plane, used, _scale(plane), f"{caption} · {t('compare.shape', shape=_shape_text(array.shape))}",
                 notes)


def _worst_note(expected: np.ndarray, actual: np.ndarray, worst: tuple[int, ...], max_diff: float | None,
                t: Translate) -> str:
    index = _shape_text(worst)
    if len(worst) == expected.ndim:
        e, a = float(expected[worst]), float(actual[worst])
        diff = abs(e - a) if max_diff is None else max_diff
        return (t("compare.worst", diff=number_text(diff, 6), index=index) + ": "
                + t("compare.worst_values", expected=number_text(e, 6), actual=number_text(a, 6)))
    return t("compare.worst", diff=number_text(max_diff or 0.0, 6), index=index)


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
        notes.append(t("compare.worst", diff=number_text(failure.max_abs_diff or 0.0, 6), index=_shape_text(worst)))
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


def answer_parts(failure: Failure, tol: Tolerance, t: Translate) -> tuple[Part, ...]:
    """The differing pieces of a wrong answer, each ready to draw."""
    if failure.kind != "wrong" or (failure.expected is None and failure.actual is None):
        return ()
    worst_path = str(failure.params.get("path", ""))  # where in the answer the comparison found the difference
    parts: list[Part] = []

    def walk(expected: Any, actual: Any, path: str, depth: int) -> None:
        if len(parts) >= MAX_PARTS:
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


@dataclass(frozen=True)
class InputView:
    label: str
    grid: Grid


def call_inputs(call: Call, t: Translate) -> tuple[InputView, ...]:
    """Grids of the small numeric arrays a public test's call was given (the call's own data: at most
    36 values each, kept only while the call shows its values)."""
    views = []
    for n, argument in enumerate(call.arguments, start=1):
        try:
            array = np.array(argument.array, dtype=float) if isinstance(argument.array, list) else None
        except (ValueError, TypeError):
            array = None
        if array is None or array.ndim < 1 or array.ndim > 3 or array.size > 36:
            continue
        plane, _, notes, used = _plane(array, None, t)
        if max(plane.shape) > GRID_MAX:
            continue
        label = argument.name or t("call.argument", n=n)
        views.append(InputView(label, _grid(plane, used, _scale(plane),
                                            f"{label} · {t('compare.shape', shape=_shape_text(array.shape))}", notes)))
    return tuple(views)
