"""Reference answers of the 02-pooling assignment (池化).

Pooling is valid (windows lie inside the input) and per channel, on `x (H, W)` or `x (H, W, C)`;
`size` and `stride` are ints or `(rows, cols)` pairs, and `stride=None` means `stride=size` (the
Keras default), so the output has `floor((n - f) / s) + 1` positions per axis. `stride < size` is
the overlapping pooling of AlexNet. Results are float64 with the shape of the input's rank.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._common import FloatArray, as_float_array, integer, pair, windows


def _pool_arguments(
    x: ArrayLike, size: Any, stride: Any
) -> tuple[FloatArray, tuple[int, int], tuple[int, int]]:
    """`x` as float64 `(H, W, C)` (a 2-D `x` gets `C = 1`), and `size`, `stride` as pairs."""
    array = as_float_array(x, "x", (2, 3), "(H, W) or (H, W, C)")
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    sizes = pair(size, "size")
    strides = sizes if stride is None else pair(stride, "stride")
    return array, sizes, strides


def _like_input(result: FloatArray, x: ArrayLike) -> FloatArray:
    """Drop the channel axis that `_pool_arguments` added to a 2-D input."""
    return result[:, :, 0] if np.ndim(x) == 2 else result


def max_pool2d(
    x: ArrayLike, size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> FloatArray:
    """Valid max pooling, per channel: the largest value of every `size` window at `stride`."""
    array, sizes, strides = _pool_arguments(x, size, stride)
    return _like_input(windows(array, sizes, strides).max(axis=(-3, -2)), x)


def avg_pool2d(
    x: ArrayLike, size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> FloatArray:
    """Valid average pooling, per channel: the mean of every `size` window at `stride`."""
    array, sizes, strides = _pool_arguments(x, size, stride)
    return _like_input(windows(array, sizes, strides).mean(axis=(-3, -2)), x)


def max_pool2d_backward(
    dout: ArrayLike,
    x: ArrayLike,
    size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
) -> FloatArray:
    """Gradient of `max_pool2d(x, size, stride)` w.r.t. `x`, given the upstream gradient `dout`.

    Each window passes its `dout` value to the one input position that was its maximum (the first
    one in row-major order within the window when several are equal); all other positions get 0.
    Where windows overlap (`stride < size`) a position collects the sum over the windows it won.
    `dout` has the shape of the pooled output; the result has the shape of `x`.
    """
    array, sizes, strides = _pool_arguments(x, size, stride)
    patches = windows(array, sizes, strides)  # (H', W', PH, PW, C)
    rows, cols, ph, pw, channels = patches.shape
    expected = (rows, cols, channels) if np.ndim(x) == 3 else (rows, cols)
    grad = as_float_array(dout, "dout", (len(expected),), "shaped like the pooled output")
    if grad.shape != expected:
        raise ValueError(
            f"`dout` must have the shape of the pooled output, {expected}. "
            f"Received: dout with shape {grad.shape} (x with shape {np.shape(x)}, "
            f"size={sizes}, stride={strides})"
        )
    # argmax over the flattened (PH, PW) window returns the first maximum in row-major order.
    winner = np.moveaxis(patches, -1, 2).reshape(rows, cols, channels, ph * pw).argmax(axis=-1)
    target_rows = np.arange(rows)[:, None, None] * strides[0] + winner // pw
    target_cols = np.arange(cols)[None, :, None] * strides[1] + winner % pw
    target_channels = np.arange(channels)[None, None, :]
    dx = np.zeros_like(array)
    np.add.at(dx, (target_rows, target_cols, target_channels), grad.reshape(rows, cols, channels))
    return _like_input(dx, x)


def _bin_edges(n: int, bins: int) -> list[tuple[int, int]]:
    """Bin `i` of `bins` over `n` pixels: `floor(i*n/bins)` to `ceil((i+1)*n/bins)` (exclusive).

    Adjacent bins may share a pixel when `bins` does not divide `n`; no bin is ever empty.
    """
    return [((i * n) // bins, -((-(i + 1) * n) // bins)) for i in range(bins)]


def spatial_pyramid_pool(x: ArrayLike, levels: Sequence[int] = (1, 2, 4)) -> FloatArray:
    """Spatial pyramid pooling (SPP-net) of `x (H, W, C)` → float64 vector of `C * sum(l*l)`.

    For each level `l`, `x` is cut into `l × l` bins (`_bin_edges` per axis) and each bin is
    max-pooled per channel, giving an `(l, l, C)` array. The output is those arrays, level after
    level in the order of `levels`, each flattened row-major: bins in row-major order, and for each
    bin its `C` channel values. Its length does not depend on `H, W`, which is the point of SPP: a
    fixed-size input for the dense layers whatever the image size.
    """
    array = as_float_array(x, "x", (3,), "(H, W, C)")
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ValueError(
            "`levels` must be a non-empty sequence of positive integers. "
            f"Received: levels={levels!r}"
        )
    pyramid = []
    for index, value in enumerate(levels):
        level = integer(value, f"levels[{index}]")
        # Bins are few (l per axis); every bin is reduced in one vectorised max over its pixels.
        bands = np.stack([array[a:b].max(axis=0) for a, b in _bin_edges(array.shape[0], level)])
        grid = np.stack(
            [bands[:, a:b].max(axis=1) for a, b in _bin_edges(array.shape[1], level)], axis=1
        )
        pyramid.append(grid.reshape(-1))
    return np.concatenate(pyramid)
