"""What a unit shows its instructor beyond the score: the training curves a notebook recorded, the
held-out evaluation per class, the layer table. Declared per assignment (``Assignment.facts``),
gathered once per submission after its questions, kept in ``SubmissionResult.extras["facts"]``.

Every value here came from a student's kernel or model (or from a stored result file that anyone
may have edited): a history of a million epochs, ``NaN``, strings where numbers belong, negative
counts. :func:`checked` is the one gate: whatever it is given, it returns a small dict of plain,
finite, bounded values in the shape below, dropping what does not fit and saying so
(``dropped``), and never raises. The grader calls it when gathering and the page calls it again
when reading a stored result.

The shape::

    {"curves": {"epochs": 40, "series": {"loss": [...], "val_loss": [...]}, "dropped": 0}
               | {"problem": "facts.no_history"},
     "heldout": {"n": 48, "accuracy": 0.92, "labels": ["m", "f"], "confusion": [[22, 2], [2, 22]]}
                | {"problem": "..."},
     "layers": {"rows": [{"name": "conv2d", "class": "Conv2D", "params": 448}], "total": 448, "dropped": 0}}

``problem`` is a catalog key (grader.judge.catalog): the page words it in its own language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_EPOCHS", "MAX_LAYERS", "MAX_SERIES", "checked", "curves", "heldout", "layers"]

MAX_EPOCHS = 1_000  # points kept per curve; a longer history keeps its first 1,000 epochs
MAX_SERIES = 8  # curves kept (loss, accuracy and their val_ twins are four)
MAX_LAYERS = 200
MAX_CLASSES = 10
_NAME_CHARS = 60
_VALUE_LIMIT = 1e12  # a loss beyond this is not drawn (it would flatten every other curve)
_PROBLEMS = frozenset(("facts.no_history", "facts.bad_history", "facts.no_model", "facts.no_evaluation",
                       "facts.unreadable"))


def _name(value: Any) -> str | None:
    """A short printable name (a metric, a layer, a class), or None."""
    if not isinstance(value, str) or not value:
        return None
    text = "".join(c for c in value if c.isprintable())
    return text[:_NAME_CHARS] or None


def _count(value: Any) -> int | None:
    """A non-negative integer count below 10^9, or None (bools, floats with fractions, negatives)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value < 10**9:
        return None
    return value


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) and abs(x) <= _VALUE_LIMIT else None


def _problem(code: Any) -> dict[str, str]:
    return {"problem": code if code in _PROBLEMS else "facts.unreadable"}


def curves(history: Any) -> dict[str, Any]:
    """A Keras ``History.history`` (metric name -> one number per epoch) as curves to draw.

    Non-finite or non-numeric points become ``None`` (a gap in the line); a series that is not a
    list, or has no finite point, is left out; at most :data:`MAX_SERIES` series of at most
    :data:`MAX_EPOCHS` points are kept, and ``dropped`` counts what was cut."""
    if not isinstance(history, Mapping):
        return _problem("facts.bad_history")
    series: dict[str, list[float | None]] = {}
    dropped = 0
    longest = 0
    for key, values in list(history.items())[:64]:
        name = _name(key)
        if name is None or not isinstance(values, (list, tuple)) or len(series) >= MAX_SERIES:
            dropped += 1
            continue
        points = [_finite(v) for v in values[:MAX_EPOCHS]]
        if not any(p is not None for p in points):
            dropped += 1
            continue
        dropped += max(0, len(values) - MAX_EPOCHS)
        longest = max(longest, len(values))
        series[name] = points
    if not series:
        return _problem("facts.bad_history")
    return {"epochs": min(longest, MAX_EPOCHS), "series": series, "dropped": dropped}


def heldout(evaluation: Any, labels: Any = None) -> dict[str, Any]:
    """The inspector's held-out evaluation: its size, accuracy and, per class, the confusion counts
    (``confusion[true][predicted]``; ``other[true]`` counts predictions outside the classes, a
    Dense(10) output's class 7). ``labels`` names the classes (catalog keys ``facts.class.NAME``
    when the catalog has them); stored facts carry their own. Counts must be non-negative
    integers adding up to ``n``; otherwise only the size and accuracy are kept."""
    if not isinstance(evaluation, Mapping) or "problem" in evaluation:
        return _problem(evaluation.get("problem") if isinstance(evaluation, Mapping) else None)
    n, accuracy = _count(evaluation.get("n")), _finite(evaluation.get("accuracy"))
    if n is None or accuracy is None or not 0 <= accuracy <= 1:
        return _problem("facts.no_evaluation")
    kept: dict[str, Any] = {"n": n, "accuracy": accuracy}
    labels = evaluation.get("labels") if labels is None else labels
    confusion, other = evaluation.get("confusion"), evaluation.get("other")
    if not (isinstance(labels, (list, tuple)) and isinstance(confusion, (list, tuple))
            and 1 < len(labels) <= MAX_CLASSES and len(confusion) == len(labels)):
        return kept
    k = len(labels)
    names = [_name(label) for label in labels]
    rows = [[_count(c) for c in row] if isinstance(row, (list, tuple)) and len(row) == k else [None] for row in confusion]
    extra = [_count(c) for c in other] if isinstance(other, (list, tuple)) and len(other) == k else [0] * k
    counts = [c for row in rows for c in row] + extra
    if None in names or None in counts or sum(counts) != n:  # type: ignore[operator]
        return kept
    return {**kept, "labels": names, "confusion": rows, "other": extra}


def layers(rows: Any) -> dict[str, Any]:
    """The inspector's layer list as a table: name, class and parameter count of each layer."""
    if not isinstance(rows, (list, tuple)) or not rows:
        return _problem("facts.no_model")
    table = []
    for row in rows[:MAX_LAYERS]:
        if not isinstance(row, Mapping):
            continue
        name, kind, params = _name(row.get("name")), _name(row.get("class")), _count(row.get("params"))
        if name is not None and kind is not None and params is not None:
            table.append({"name": name, "class": kind, "params": params})
    if not table:
        return _problem("facts.no_model")
    return {"rows": table, "total": sum(r["params"] for r in table), "dropped": len(rows) - len(table)}


def checked(facts: Any) -> dict[str, Any]:
    """Stored or freshly gathered facts, through the same gate (see the module's docstring)."""
    if not isinstance(facts, Mapping):
        return {}
    gates = {"curves": lambda v: _again(v, "series", curves), "heldout": heldout,
             "layers": lambda v: _again(v, "rows", layers)}
    return {key: gate(facts[key]) for key, gate in gates.items() if key in facts}


def _again(stored: Any, field: str, gate: Any) -> dict[str, Any]:
    """A stored part (curves or layers) through its gate again; a problem stays that problem and
    what an earlier gate dropped is still counted."""
    if not isinstance(stored, Mapping):
        return _problem("facts.unreadable")
    if "problem" in stored:
        return _problem(stored["problem"])
    result: dict[str, Any] = gate(stored.get(field))
    if "dropped" in result:
        result["dropped"] += _count(stored.get("dropped")) or 0
    return result
