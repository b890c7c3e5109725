"""Reference answers of the 03-parameter-counting assignment (参数个数).

Sizes follow Keras: a `Conv2D` has `FH*FW*C_in*filters` weights plus one bias per filter, a `Dense`
has `n_in*units` weights plus one bias per unit, pooling and flattening have none. Layer lists are
plain tuples (see `layer_table`); `parse_layers` turns them into frozen specs, which
`grader.course.reference.keras_models.keras_model` builds into the equivalent Keras model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

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

PADDINGS = ("valid", "same")
ROUNDINGS = ("floor", "ceil")
Layer = tuple[Any, ...]
Shape = tuple[int, ...]

_FORMS = {
    "conv2d": "('conv2d', filters, (fh, fw), padding, stride)",
    "maxpool": "('maxpool', (ph, pw)) or ('maxpool', (ph, pw), stride)",
    "avgpool": "('avgpool', (ph, pw)) or ('avgpool', (ph, pw), stride)",
    "flatten": "('flatten',)",
    "dense": "('dense', units)",
}


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    return bool(value)


def conv2d_params(fh: int, fw: int, c_in: int, filters: int, use_bias: bool = True) -> int:
    """Parameters of a `Conv2D`: each of the `filters` kernels spans `fh × fw × c_in`, + a bias."""
    weights = integer(fh, "fh") * integer(fw, "fw") * integer(c_in, "c_in")
    filters = integer(filters, "filters")
    return (weights + _flag(use_bias, "use_bias")) * filters


def dense_params(n_in: int, units: int, use_bias: bool = True) -> int:
    """Parameters of a `Dense` layer: one weight per (input, unit) pair, plus one bias per unit."""
    return (integer(n_in, "n_in") + _flag(use_bias, "use_bias")) * integer(units, "units")


def conv_output_size(n: int, f: int, padding: str = "valid", stride: int = 1) -> int:
    """Output length of a Keras convolution or pooling along one axis.

    `"valid"`: the window must fit, `floor((n - f) / s) + 1`; `"same"`: `ceil(n / s)` whatever `f`.
    """
    n, f, stride = integer(n, "n"), integer(f, "f"), integer(stride, "stride")
    if choice(padding, "padding", PADDINGS) == "same":
        return -(-n // stride)
    if f > n:
        raise ValueError(
            f"A valid window must fit in the input, but f={f} > n={n}: "
            "the output size would be negative."
        )
    return (n - f) // stride + 1


def output_size(n: int, f: int, p: int, s: int, rounding: str = "floor") -> int:
    """The general formula `(n - f + 2p) / s + 1`, rounded.

    `"floor"` (Keras, the course default) or `"ceil"` (frameworks that round pooling up, like
    Caffe).
    """
    n, f, s = integer(n, "n"), integer(f, "f"), integer(s, "s")
    p = integer(p, "p", minimum=0)
    rounding = choice(rounding, "rounding", ROUNDINGS)
    span = n - f + 2 * p
    if span < 0:
        raise ValueError(
            f"The window must fit in the padded input, but f={f} > n + 2p = {n + 2 * p} "
            f"(n={n}, p={p})."
        )
    return (span // s if rounding == "floor" else -(-span // s)) + 1


@dataclass(frozen=True)
class Conv2DSpec:
    """A `("conv2d", filters, (fh, fw), padding, stride)` layer, normalised."""

    filters: int
    kernel_size: tuple[int, int]
    padding: str
    strides: tuple[int, int]


@dataclass(frozen=True)
class PoolSpec:
    """A `("maxpool" | "avgpool", (ph, pw)[, stride])` layer; the stride defaults to the size."""

    kind: Literal["maxpool", "avgpool"]
    pool_size: tuple[int, int]
    strides: tuple[int, int]


@dataclass(frozen=True)
class FlattenSpec:
    """A `("flatten",)` layer."""


@dataclass(frozen=True)
class DenseSpec:
    """A `("dense", units)` layer."""

    units: int


LayerSpec = Conv2DSpec | PoolSpec | FlattenSpec | DenseSpec


def _parse_layer(layer: Any) -> LayerSpec:
    if not isinstance(layer, (tuple, list)) or not layer or layer[0] not in _FORMS:
        kinds = ", ".join(repr(kind) for kind in _FORMS)
        raise ValueError(f"a layer is a tuple whose first item is one of {kinds}.")
    kind, *args = layer
    if kind == "conv2d" and len(args) == 4:
        filters, kernel_size, padding, stride = args
        return Conv2DSpec(
            integer(filters, "filters"),
            pair(kernel_size, "kernel_size"),
            choice(padding, "padding", PADDINGS),
            pair(stride, "stride"),
        )
    if kind in ("maxpool", "avgpool") and len(args) in (1, 2):
        pool_size = pair(args[0], "pool_size")
        strides = pool_size if len(args) == 1 or args[1] is None else pair(args[1], "stride")
        return PoolSpec(kind, pool_size, strides)
    if kind == "flatten" and not args:
        return FlattenSpec()
    if kind == "dense" and len(args) == 1:
        return DenseSpec(integer(args[0], "units"))
    raise ValueError(f"a {kind!r} layer is written {_FORMS[kind]}.")


def _located(index: int, layer: Any, error: ValueError) -> ValueError:
    """`error` prefixed with the layer's index and the tuple received."""
    return ValueError(f"layers[{index}]={layer!r}: {error}")


def parse_layers(layers: Sequence[Layer]) -> tuple[LayerSpec, ...]:
    """Normalise and validate a `layer_table` layer list; errors name the index and the tuple."""
    specs = []
    for index, layer in enumerate(layers):
        try:
            specs.append(_parse_layer(layer))
        except ValueError as error:
            raise _located(index, layer, error) from None
    return tuple(specs)


def _spatial(spec: Conv2DSpec | PoolSpec, shape: Shape) -> tuple[int, int]:
    """`(H', W')` of a conv or pool layer on `shape (H, W, C)`."""
    if len(shape) != 3:
        raise ValueError(f"this layer needs an (H, W, C) input, but its input has shape {shape}.")
    size = spec.kernel_size if isinstance(spec, Conv2DSpec) else spec.pool_size
    padding = spec.padding if isinstance(spec, Conv2DSpec) else "valid"
    rows, cols = (
        conv_output_size(n, f, padding, s)
        for n, f, s in zip(shape[:2], size, spec.strides, strict=True)
    )
    return rows, cols


def _apply(spec: LayerSpec, shape: Shape) -> tuple[Shape, int]:
    """Output shape and parameter count of one layer on an input of `shape` (no batch axis)."""
    if isinstance(spec, Conv2DSpec):
        fh, fw = spec.kernel_size
        return (*_spatial(spec, shape), spec.filters), conv2d_params(fh, fw, shape[2], spec.filters)
    if isinstance(spec, PoolSpec):
        return (*_spatial(spec, shape), shape[2]), 0
    if isinstance(spec, FlattenSpec):
        return (math.prod(shape),), 0
    # Keras Dense acts on the last axis, whatever the rank of its input.
    return (*shape[:-1], spec.units), dense_params(shape[-1], spec.units)


def layer_table(input_shape: Sequence[int], layers: Sequence[Layer]) -> list[tuple[Shape, int]]:
    """`(output_shape, params)` of every layer of a Keras `Sequential` model (no batch axis).

    `layers` holds `("conv2d", filters, (fh, fw), padding, stride)`, `("maxpool", (ph, pw))`,
    `("maxpool", (ph, pw), stride)`, the same for `"avgpool"`, `("flatten",)` and
    `("dense", units)`; sizes and strides are ints or pairs, pooling is valid and its stride
    defaults to its size.
    `sum(params)` equals the model's `count_params()`.
    """
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise ValueError(f"`input_shape` must be a tuple of sizes. Received: {input_shape!r}")
    shape: Shape = tuple(integer(n, f"input_shape[{i}]") for i, n in enumerate(input_shape))
    if not shape:
        raise ValueError(f"`input_shape` must not be empty. Received: {input_shape!r}")
    table = []
    for index, (layer, spec) in enumerate(zip(layers, parse_layers(layers), strict=True)):
        try:
            shape, params = _apply(spec, shape)
        except ValueError as error:
            raise _located(index, layer, error) from None
        table.append((shape, params))
    return table


def cnn_forward(x: ArrayLike, weights: Sequence[ArrayLike]) -> FloatArray:
    """NumPy forward pass of `Conv2D(relu) → MaxPooling2D(2) → Flatten → Dense(1, sigmoid)`.

    `x (N, H, W, C)` (the course uses `(N, 4, 4, 1)` and a 3×3 kernel) and
    `weights = [kernel (FH, FW, C, F), conv_bias (F,), dense_kernel (n_in, 1), dense_bias (1,)]`,
    the order of Keras `model.get_weights()`. Returns `(N, 1)` float64, equal to `model.predict(x)`.
    """
    x = as_float_array(x, "x", (4,), "(N, H, W, C)")
    if len(weights) != 4:
        raise ValueError(
            "`weights` must be [conv kernel, conv bias, dense kernel, dense bias] "
            f"(model.get_weights()). Received: {len(weights)} arrays"
        )
    layouts = (("(FH, FW, C, F)", 4), ("(F,)", 1), ("(n_in, units)", 2), ("(units,)", 1))
    kernel, conv_bias, dense_kernel, dense_bias = (
        as_float_array(w, f"weights[{i}]", (ndim,), layout)
        for i, (w, (layout, ndim)) in enumerate(zip(weights, layouts, strict=True))
    )
    check_channels(x, kernel, "weights[0]")
    features = np.maximum(correlate(x, kernel, (1, 1)) + conv_bias, 0.0)
    pooled = windows(features, (2, 2), (2, 2)).max(axis=(-3, -2))
    flat = pooled.reshape(len(x), -1)
    if flat.shape[1] != dense_kernel.shape[0]:
        raise ValueError(
            f"`weights[2]` must have {flat.shape[1]} rows (the flattened pooled features). "
            f"Received: weights[2] with shape {dense_kernel.shape}"
        )
    logits: FloatArray = flat @ dense_kernel + dense_bias
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # the sigmoid, without overflow for large |z|
