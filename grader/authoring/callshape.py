"""The structure of a call's arguments, as ``grader validate`` compares check cells with the tests.

A check cell of a released notebook must not exercise anything the graded contract does not (issue
14: a check calling ``im2col(…, stride=(2, 1))`` failed every submission whose stride is an int, the
100-point ones included, while the hidden tests only ever pass ints). So ``validate`` records every
call a check cell makes into a question's function and describes each argument by its structure,
not its value: ``int`` vs ``float`` vs ``(int, int)``, an array's number of dimensions and whether it
holds integers or floats, short strings by value (``'same'``, ``'ceil'``: modes and layer kinds), a
list by its items and each pair of neighbours (``'dense'`` before ``'flatten'``), a Keras model by its
layer classes. The declared cases of the question (public and hidden groups) are described the same
way; a call is covered when every feature it has is a feature of some declared case.

This module runs in two places: in the grader's process for the declared cases, and — its source
sent as is — in the solution's kernel for the recorded calls. So it imports only the standard
library (NumPy arrays are recognised by their attributes) and defines nothing but :func:`describe`.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["describe"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,23}")


def describe(value: Any) -> list[str]:
    """``value``'s structure as features: the first is its own shape (``'array3 float'``,
    ``'(int, int)'``, ``"'same'"``, ``'list'``, ``'model'``); a list adds ``item S`` for each item's
    shape and ``pair A → B`` for each pair of neighbours (by their heads: a layer tuple's kind); a
    Keras model adds ``layer C`` for each of its layers' classes."""
    def shape(v: Any) -> str:
        if v is None or isinstance(v, bool):
            return repr(v) if v is None else "bool"
        if hasattr(v, "dtype") and hasattr(v, "ndim") and hasattr(v, "shape"):
            kind = {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(getattr(v.dtype, "kind", ""), "other")
            return kind if v.ndim == 0 else f"array{v.ndim} {kind}"
        if isinstance(v, int):
            return "int"
        if isinstance(v, float):
            return "float"
        if isinstance(v, str):
            return repr(v) if _WORD.fullmatch(v) else "str"
        if isinstance(v, tuple):
            return "(" + ", ".join(shape(item) for item in v) + ("," if len(v) == 1 else "") + ")"
        if isinstance(v, list):
            return "list"
        if isinstance(v, dict):
            return "dict"
        if isinstance(getattr(v, "layers", None), list):
            return "model"
        return type(v).__name__

    def head(v: Any) -> str:
        return repr(v[0]) if isinstance(v, tuple) and v and isinstance(v[0], str) else shape(v)

    features = [shape(value)]
    if isinstance(value, list):
        features += [f"item {shape(item)}" for item in value]
        features += [f"pair {head(a)} → {head(b)}" for a, b in zip(value, value[1:])]
    elif features[0] == "model":
        features += [f"layer {type(layer).__name__}" for layer in value.layers]
    return list(dict.fromkeys(features))
