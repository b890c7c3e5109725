"""Argument normalisation and the sliding-window view shared by the reference implementations.

Arguments are normalised first and validated loudly, the way Keras does it
(`keras/src/utils/argument_validation.py`): every message names the argument, the rule and the
value received, so that a grader log line says what was wrong without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def integer(value: Any, name: str, minimum: int = 1) -> int:
    """`value` as a Python int >= `minimum` (bools are refused: `True` is not a size)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return int(value)


def pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair of ints as `(rows, cols)`, like Keras `standardize_tuple`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        size = integer(value, name)
        return size, size
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        try:
            return integer(value[0], name), integer(value[1], name)
        except ValueError:
            pass  # re-raised below with the whole value, not just one element
    raise ValueError(
        f"`{name}` must be a positive integer or a pair of positive integers. "
        f"Received: {name}={value!r}"
    )


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """`value` if it is one of `options` (exact, case-sensitive string match)."""
    if not isinstance(value, str) or value not in options:
        expected = ", ".join(repr(option) for option in options)
        raise ValueError(f"`{name}` must be one of {expected}. Received: {name}={value!r}")
    return value


def as_float_array(value: ArrayLike, name: str, ndims: Sequence[int], layout: str) -> FloatArray:
    """`value` as a non-empty float64 array whose rank is one of `ndims`.

    float64 is the working dtype of every reference: integer inputs give their exact
    (integer-valued) results, and float32 student answers are compared against it with tolerances.
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"`{name}` must be a numeric array {layout}. Received: {error}") from error
    if array.ndim not in ndims:
        ranks = " or ".join(f"{ndim}-D" for ndim in ndims)
        raise ValueError(
            f"`{name}` must be a {ranks} array {layout}. Received: {name} with shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"`{name}` must not be empty. Received: {name} with shape {array.shape}")
    return array


def check_channels(x: FloatArray, kernels: FloatArray, kernel_name: str) -> None:
    """Kernels `(FH, FW, C, ...)` must span the `C` channels of `x (..., H, W, C)`."""
    if kernels.shape[2] != x.shape[-1]:
        raise ValueError(
            f"`{kernel_name}` must have as many input channels (its axis 2) as `x` has channels "
            f"(its last axis). Received: x with shape {x.shape}, "
            f"{kernel_name} with shape {kernels.shape}"
        )


def windows(
    x: FloatArray, size: tuple[int, int], stride: tuple[int, int], name: str = "x"
) -> FloatArray:
    """Every `size` window of `x (..., H, W, C)` at `stride`, as a view `(..., H', W', FH, FW, C)`.

    Windows start at rows `0, s, 2s, ...` and must lie inside `x` ("valid"), so
    `H' = floor((H - FH) / s) + 1`. Padding, when wanted, is applied to `x` beforehand.
    """
    (fh, fw), (sh, sw) = size, stride
    height, width = x.shape[-3], x.shape[-2]
    if fh > height or fw > width:
        raise ValueError(
            f"The window {size} is larger than `{name}`'s spatial size {(height, width)}; "
            "a valid window must fit inside the input."
        )
    view = sliding_window_view(x, (fh, fw), axis=(-3, -2))  # (..., H-FH+1, W-FW+1, C, FH, FW)
    view = view[..., ::sh, ::sw, :, :, :]
    return np.moveaxis(view, -3, -1)


def correlate(x: FloatArray, kernels: FloatArray, stride: tuple[int, int]) -> FloatArray:
    """Valid cross-correlation of `x (..., H, W, C)` with `kernels (FH, FW, C, *rest)`.

    One tensor contraction over `(FH, FW, C)` of every window: the result is `(..., H', W', *rest)`.
    """
    return np.tensordot(windows(x, (kernels.shape[0], kernels.shape[1]), stride), kernels, axes=3)
