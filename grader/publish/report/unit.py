"""A unit's facts on a submission's page (grader.course.facts): the training curves drawn as inline
SVG (numbers only, no script), the held-out evaluation per class, the layer table.

The stored facts go through :func:`grader.course.facts.checked` again here: a result file is
data anyone may have edited, so the page draws only finite, bounded values."""

from __future__ import annotations


import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...course.facts import checked
from ...judge.catalog import CATALOG
from .text import Translate, number_text

# The chart: one panel per metric (loss, accuracy, ...), training and validation curves in it.
_WIDTH, _HEIGHT, _LEFT, _TOP, _BOTTOM, _RIGHT = 420, 190, 46, 12, 30, 10
_MAX_PANELS = 4


@dataclass(frozen=True)
class Line:
    role: str  # "train" or "validation": its colour and dash
    label: str
    runs: tuple[str, ...]  # SVG points attributes, one per unbroken stretch
    dot: tuple[float, float] | None  # a one-epoch curve is a dot


@dataclass(frozen=True)
class Panel:
    metric: str
    label: str
    width: int
    height: int
    plot: tuple[int, int, int, int]  # x, y, width, height of the plotting area
    lines: tuple[Line, ...]
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class ClassRow:
    label: str
    n: int
    accuracy: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class UnitView:
    """What the page shows; a ``*_problem`` is the sentence saying why a part is missing."""

    panels: tuple[Panel, ...] = ()
    epochs: str = ""
    curves_note: str = ""
    curves_problem: str = ""
    accuracy: str = ""
    columns: tuple[str, ...] = ()
    classes: tuple[ClassRow, ...] = ()
    heldout_problem: str = ""
    layers: tuple[tuple[str, str, str], ...] = ()
    total: str = ""
    layers_note: str = ""
    layers_problem: str = ""


def unit_view(extras: Any, t: Translate) -> UnitView | None:
    """The facts of ``result.extras["facts"]`` as the page shows them; None when there are none."""
    facts = checked(extras.get("facts") if isinstance(extras, Mapping) else None)
    if not facts:
        return None
    parts: dict[str, Any] = {}
    if "curves" in facts:
        parts.update(_curves(facts["curves"], t))
    if "heldout" in facts:
        parts.update(_heldout(facts["heldout"], t))
    if "layers" in facts:
        parts.update(_layers(facts["layers"], t))
    return UnitView(**parts)


def _curves(curves: Mapping[str, Any], t: Translate) -> dict[str, Any]:
    if "problem" in curves:
        return {"curves_problem": t(curves["problem"])}
    series: Mapping[str, list[float | None]] = curves["series"]
    metrics = [name for name in series if not name.startswith("val_")]
    metrics += [name[4:] for name in series if name.startswith("val_") and name[4:] not in series]
    epochs = int(curves["epochs"])
    panels = tuple(_panel(metric, series.get(metric), series.get(f"val_{metric}"), epochs, t)
                   for metric in metrics[:_MAX_PANELS])
    notes = []
    if any(p is None for values in series.values() for p in values):
        notes.append(t("facts.gaps"))
    if curves["dropped"]:
        notes.append(t("facts.dropped", count=curves["dropped"]))
    return {"panels": panels, "epochs": t("facts.epochs", epochs=epochs), "curves_note": " ".join(notes)}


def _panel(metric: str, train: Sequence[float | None] | None, validation: Sequence[float | None] | None,
           epochs: int, t: Translate) -> Panel:
    """One metric's chart: both curves on a shared scale, four value ticks, epoch ticks."""
    values = [v for curve in (train, validation) if curve for v in curve if v is not None]
    low, high, step = _scale(min(values), max(values))
    plot = (_LEFT, _TOP, _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM)
    lines = []
    for role, curve in (("train", train), ("validation", validation)):
        if curve:
            runs, dot = _runs(curve, plot, low, high, epochs)
            lines.append(Line(role, t("facts.train") if role == "train" else t("facts.validation"), runs, dot))
    x, y, w, h = plot
    count = round((high - low) / step)
    y_ticks = tuple((y + h - h * i / count, number_text(round(low + step * i, 10), 4)) for i in range(count + 1))
    last = max(1, epochs - 1)
    every = max(1, math.ceil(last / 6))
    shown = sorted({*range(0, epochs, every), epochs - 1} - {e for e in range(epochs) if 0 < epochs - 1 - e < every / 2})
    x_ticks = tuple((x + w * e / last, str(e + 1)) for e in shown)
    return Panel(metric, t("facts.curves_label", metric=metric, epochs=epochs), _WIDTH, _HEIGHT, plot,
                 tuple(lines), y_ticks, x_ticks)


def _scale(low: float, high: float) -> tuple[float, float, float]:
    """The value axis: ``low`` and ``high`` widened to round ticks, 2 to 5 steps of 1, 2, 2.5 or 5 × 10^k."""
    if high - low < 1e-9 * max(1.0, abs(high)):
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _runs(curve: Sequence[float | None], plot: tuple[int, int, int, int], low: float, high: float,
          epochs: int) -> tuple[tuple[str, ...], tuple[float, float] | None]:
    """SVG ``points`` of a curve, one per unbroken stretch (a NaN leaves a gap); a lone point is a dot."""
    x0, y0, width, height = plot
    step = width / max(1, epochs - 1)
    runs: list[list[str]] = [[]]
    dot = None
    for i, value in enumerate(curve[:epochs]):
        if value is None:
            runs.append([])
            continue
        point = (x0 + i * step, y0 + height - (value - low) / (high - low) * height)
        runs[-1].append(f"{point[0]:.1f},{point[1]:.1f}")
        dot = point
    kept = tuple(" ".join(run) for run in runs if len(run) > 1)
    return kept, (dot if not kept else None)


def _heldout(heldout: Mapping[str, Any], t: Translate) -> dict[str, Any]:
    if "problem" in heldout:
        return {"heldout_problem": t(heldout["problem"])}
    parts: dict[str, Any] = {"accuracy": t("facts.heldout_accuracy", accuracy=f"{heldout['accuracy']:.3f}",
                                           n=heldout["n"])}
    if "confusion" not in heldout:
        return parts
    labels = [_label(label, t) for label in heldout["labels"]]
    other = heldout["other"]
    columns = tuple(t("facts.predicted_as", label=label) for label in labels)
    if any(other):
        columns += (t("facts.predicted_other"),)
    rows = []
    for i, (label, row) in enumerate(zip(labels, heldout["confusion"])):
        n = sum(row) + other[i]
        counts = tuple(row) + ((other[i],) if any(other) else ())
        rows.append(ClassRow(label, n, f"{row[i] / n:.3f}" if n else "—", counts))
    return {**parts, "columns": columns, "classes": tuple(rows)}


def _label(label: str, t: Translate) -> str:
    """A class's name: the catalog's words for it when it has them (``facts.class.male``)."""
    return t(f"facts.class.{label}") if f"facts.class.{label}" in CATALOG else label


def _layers(layers: Mapping[str, Any], t: Translate) -> dict[str, Any]:
    if "problem" in layers:
        return {"layers_problem": t(layers["problem"])}
    rows = tuple((row["name"], row["class"], f"{row['params']:,}") for row in layers["rows"])
    note = t("facts.dropped", count=layers["dropped"]) if layers["dropped"] else ""
    return {"layers": rows, "total": f"{layers['total']:,}", "layers_note": note}
