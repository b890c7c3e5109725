"""Small helpers shared by the input generators of the assignment declarations."""

from __future__ import annotations

import numpy as np

from ..spec import Case


def values(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random float64 values, negative ones included, away from exact ties."""
    return rng.normal(0.0, 2.0, size=shape).round(3)


def small_ints(rng: np.random.Generator, *shape: int, high: int = 4) -> np.ndarray:
    """Small integer-valued float64 values: ties are likely (for first-maximum rules)."""
    return rng.integers(-high, high + 1, size=shape).astype(np.float64)


def case(*args: object, **kwargs: object) -> Case:
    return Case(tuple(args), dict(kwargs))


def sizes(rng: np.random.Generator, low: int, high: int) -> tuple[int, int]:
    """A (rows, cols) pair, usually not square."""
    return int(rng.integers(low, high + 1)), int(rng.integers(low, high + 1))
