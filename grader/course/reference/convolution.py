"""Reference answers of the 01-convolution assignment (卷积).

"Convolution" here is cross-correlation, as in Keras `Conv2D`: the kernel is not flipped, and output
position `(i, j)` is `sum_{a, b} k[a, b] * x[i + a, j + b]` over the (padded) input. Images are
channels-last. Every function returns float64 (integer inputs give their exact, integer-valued
results in float64), so that answers of any float dtype can be compared against it with tolerances.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._common import (
    FloatArray,
    as_float_array,
    check_channels,
    choice,
    correlate,
    integer,
    pair,
    windows,
)

MODES = ("full", "same", "valid")
PADDINGS = ("valid", "same")


def _same_padding(n: int, f: int, s: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one axis: `ceil(n/s)` outputs, the odd pixel of padding after.

    The total is `max((ceil(n/s) - 1) * s + f - n, 0)` and `total // 2` goes before. With `s = 1`
    that is `(f-1)//2` before, i.e. the kernel's anchor is `(f-1)//2`: the centre for odd `f`,
    `(f-2)//2` (left/top of the centre) for even `f`.
    """
    total = max((-(-n // s) - 1) * s + f - n, 0)
    return total // 2, total - total // 2


def conv2d(x: ArrayLike, k: ArrayLike, mode: str = "valid") -> FloatArray:
    """2-D cross-correlation of `x (H, W)` with `k (FH, FW)` → float64.

    - `"valid"`: the kernel stays inside `x` → `(H-FH+1, W-FW+1)`.
    - `"full"`: every overlap of kernel and input (zero padding `FH-1`, `FW-1` on each side)
      → `(H+FH-1, W+FW-1)`.
    - `"same"`: the kernel's anchor `((FH-1)//2, (FW-1)//2)` visits every input position → `(H, W)`;
      this is Keras `padding="same"` (the extra row/column of an even kernel is padded at the end).
    """
    x = as_float_array(x, "x", (2,), "(H, W)")
    k = as_float_array(k, "k", (2,), "(FH, FW)")
    mode = choice(mode, "mode", MODES)
    (height, width), (fh, fw) = x.shape, k.shape
    if mode == "full":
        pads = ((fh - 1, fh - 1), (fw - 1, fw - 1))
    elif mode == "same":
        pads = (_same_padding(height, fh, 1), _same_padding(width, fw, 1))
    else:
        pads = ((0, 0), (0, 0))
    padded = np.pad(x, pads)[:, :, np.newaxis]
    return correlate(padded, k[:, :, np.newaxis], (1, 1))


def conv2d_multi(x: ArrayLike, k: ArrayLike) -> FloatArray:
    """Valid cross-correlation of `x (H, W, C)` with `k (FH, FW, C)`, summed over depth.

    One filter of a convolution layer: the kernel spans all `C` channels, so each output position
    is one number and the result is `(H', W')`.
    """
    x = as_float_array(x, "x", (3,), "(H, W, C)")
    k = as_float_array(k, "k", (3,), "(FH, FW, C)")
    check_channels(x, k, "k")
    return correlate(x, k, (1, 1))


def _layer_arguments(
    x: ArrayLike, kernels: ArrayLike, bias: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """`x (H, W, C)`, `kernels (FH, FW, C, N)` and `bias (N,)` as float64, with matching sizes."""
    x = as_float_array(x, "x", (3,), "(H, W, C)")
    kernels = as_float_array(kernels, "kernels", (4,), "(FH, FW, C, N)")
    bias = as_float_array(bias, "bias", (1,), "(N,)")
    check_channels(x, kernels, "kernels")
    if bias.shape[0] != kernels.shape[3]:
        raise ValueError(
            "`bias` must hold one value per filter (kernels axis 3). "
            f"Received: kernels with shape {kernels.shape}, bias with shape {bias.shape}"
        )
    return x, kernels, bias


def conv2d_layer(
    x: ArrayLike,
    kernels: ArrayLike,
    bias: ArrayLike,
    stride: int | tuple[int, int] = 1,
    padding: str = "valid",
) -> FloatArray:
    """Keras `Conv2D` without activation: `x (H, W, C)`, `kernels (FH, FW, C, N)`, `bias (N,)`.

    Returns `(H', W', N)` float64 with `H' = floor((H-FH)/s) + 1` for `"valid"` and `ceil(H/s)` for
    `"same"`, whose zero padding follows TensorFlow (`_same_padding`: the odd pixel goes after).
    """
    x, kernels, bias = _layer_arguments(x, kernels, bias)
    strides = pair(stride, "stride")
    padding = choice(padding, "padding", PADDINGS)
    if padding == "same":
        pads = [
            _same_padding(n, f, s)
            for n, f, s in zip(x.shape[:2], kernels.shape[:2], strides, strict=True)
        ]
        x = np.pad(x, (pads[0], pads[1], (0, 0)))
    return correlate(x, kernels, strides) + bias


def im2col(x: ArrayLike, fh: int, fw: int, stride: int | tuple[int, int] = 1) -> FloatArray:
    """The `(H'*W', fh*fw*C)` patch matrix of the valid `fh × fw` windows of `x`.

    Row `i*W' + j` is the window at output position `(i, j)` (row-major over output positions),
    flattened in `(fh, fw, C)` order — the order of `kernels.reshape(-1, N)` for Keras kernels — so
    that a convolution becomes one matrix product (see `conv2d_matmul`). `x` is `(H, W, C)`, or
    `(H, W)` taken as `C = 1`.
    """
    array = as_float_array(x, "x", (2, 3), "(H, W) or (H, W, C)")
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    size = (integer(fh, "fh"), integer(fw, "fw"))
    patches = windows(array, size, pair(stride, "stride"))
    return patches.reshape(-1, size[0] * size[1] * array.shape[2])


def conv2d_matmul(
    x: ArrayLike, kernels: ArrayLike, bias: ArrayLike, stride: int | tuple[int, int] = 1
) -> FloatArray:
    """`conv2d_layer(x, kernels, bias, stride, padding="valid")` as one matrix product.

    `im2col(x) @ kernels.reshape(FH*FW*C, N) + bias` has one row per output position; reshaping it
    to `(H', W', N)` gives the feature maps.
    """
    x, kernels, bias = _layer_arguments(x, kernels, bias)
    strides = pair(stride, "stride")
    fh, fw, _, filters = kernels.shape
    patches = im2col(x, fh, fw, strides)
    rows = (x.shape[0] - fh) // strides[0] + 1
    cols = (x.shape[1] - fw) // strides[1] + 1
    return (patches @ kernels.reshape(-1, filters) + bias).reshape(rows, cols, filters)
