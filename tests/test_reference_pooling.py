"""grader.course.reference.pooling against hand-worked examples, naive loops, Keras and TF gradients."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.course.reference import avg_pool2d, max_pool2d, max_pool2d_backward, spatial_pyramid_pool

PROPERTY = settings(max_examples=40, deadline=None)
SIZES = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))
STRIDES = st.one_of(st.none(), SIZES)  # None: stride = size; smaller than size: overlapping


def as_pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


@st.composite
def pool_case(draw: st.DrawFn, distinct: bool = False) -> tuple:
    """`(x, size, stride)`, `x` 2-D or 3-D, with the window fitting inside `x`. With `distinct`, the
    values are a random permutation, so every window has a single maximum."""
    size = draw(SIZES)
    ph, pw = as_pair(size)
    shape = (draw(st.integers(ph, 9)), draw(st.integers(pw, 9)))
    if draw(st.booleans()):
        shape += (draw(st.sampled_from([1, 3, 8])),)
    if distinct:
        order = draw(st.permutations(range(math.prod(shape))))
        x = (np.array(order, dtype=float) - len(order) / 2).reshape(shape)
    else:
        elements = st.floats(-100, 100, allow_subnormal=False)  # TF flushes subnormals to 0
        x = draw(hnp.arrays(np.float64, shape, elements=elements))
    return x, size, draw(STRIDES)


def keras_pool(op, x: np.ndarray, size, stride) -> np.ndarray:
    """Keras' pooling op on `x (H, W)` or `(H, W, C)`, stride defaulting to the size like Keras."""
    x4 = keras.ops.convert_to_tensor(x.reshape(1, x.shape[0], x.shape[1], -1), dtype="float64")
    out = np.asarray(op(x4, size, size if stride is None else stride, padding="valid"))[0]
    return out if x.ndim == 3 else out[:, :, 0]


# --- forward --------------------------------------------------------------------------------------

GRID = np.arange(16.0).reshape(4, 4)


def test_pooling_small_examples() -> None:
    np.testing.assert_array_equal(max_pool2d(GRID, 2), [[5, 7], [13, 15]])
    np.testing.assert_array_equal(avg_pool2d(GRID, 2), [[2.5, 4.5], [10.5, 12.5]])
    # Overlapping 3×3 windows at stride 1, and a (rows, cols) pair.
    np.testing.assert_array_equal(max_pool2d(GRID, 3, 1), [[10, 11], [14, 15]])
    np.testing.assert_array_equal(avg_pool2d(GRID, (1, 4)), [[1.5], [5.5], [9.5], [13.5]])


def test_pooling_output_size_is_floor() -> None:
    # floor((7 - 3) / 2) + 1 = 3 and floor((5 - 2) / 2) + 1 = 2, channels kept.
    assert max_pool2d(np.zeros((7, 5, 4)), (3, 2), 2).shape == (3, 2, 4)
    assert avg_pool2d(np.zeros((7, 5)), 2).shape == (3, 2)


@PROPERTY
@given(pool_case())
def test_max_pool2d_equals_keras(case: tuple) -> None:
    x, size, stride = case
    result = max_pool2d(x, size, stride)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, keras_pool(keras.ops.max_pool, x, size, stride))


@PROPERTY
@given(pool_case())
def test_avg_pool2d_equals_keras(case: tuple) -> None:
    x, size, stride = case
    expected = keras_pool(keras.ops.average_pool, x, size, stride)
    np.testing.assert_allclose(avg_pool2d(x, size, stride), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("pool", "layer"),
    [(max_pool2d, keras.layers.MaxPooling2D), (avg_pool2d, keras.layers.AveragePooling2D)],
)
@pytest.mark.parametrize(
    ("shape", "size", "stride"),
    [((9, 7, 3), (3, 2), (2, 1)), ((6, 6, 2), 3, 1), ((8, 5, 1), (2, 5), None), ((5, 9, 4), 2, 3)],
)
def test_pooling_equals_the_keras_layers(pool, layer, shape, size, stride) -> None:
    x = np.random.default_rng(sum(shape)).normal(size=shape)
    expected = np.asarray(
        layer(size, strides=stride, padding="valid", dtype="float64")(x[np.newaxis])
    )
    np.testing.assert_allclose(pool(x, size, stride), expected[0], rtol=1e-12)


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pooling_validates_its_arguments(pool) -> None:
    with pytest.raises(
        ValueError, match=r"window \(5, 2\) is larger than `x`'s spatial size \(4, 4\)"
    ):
        pool(GRID, (5, 2))
    with pytest.raises(ValueError, match=r"Received: size=0"):
        pool(GRID, 0)
    with pytest.raises(ValueError, match=r"Received: stride='2'"):
        pool(GRID, 2, "2")
    with pytest.raises(ValueError, match=r"`x` must be a 2-D or 3-D array .* shape \(1, 4, 4, 1\)"):
        pool(GRID.reshape(1, 4, 4, 1), 2)


# --- backward -------------------------------------------------------------------------------------


def tf_max_pool_gradient(dout: np.ndarray, x: np.ndarray, size, stride) -> np.ndarray:
    """TensorFlow's gradient of max pooling (autodiff through `tf.nn.max_pool2d`)."""
    x4 = tf.constant(x.reshape(1, x.shape[0], x.shape[1], -1))
    ksize = as_pair(size)
    strides = ksize if stride is None else as_pair(stride)
    with tf.GradientTape() as tape:
        tape.watch(x4)
        y = tf.nn.max_pool2d(x4, ksize, strides, "VALID")
    grad = tape.gradient(y, x4, output_gradients=tf.constant(dout.reshape(y.shape)))
    return grad.numpy().reshape(x.shape)


@PROPERTY
@given(pool_case(distinct=True), st.data())
def test_max_pool2d_backward_equals_tensorflow(case: tuple, data: st.DataObject) -> None:
    x, size, stride = case
    out_shape = max_pool2d(x, size, stride).shape
    grads = st.floats(-10, 10, allow_subnormal=False)
    dout = data.draw(hnp.arrays(np.float64, out_shape, elements=grads))
    result = max_pool2d_backward(dout, x, size, stride)
    assert result.shape == x.shape and result.dtype == np.float64
    np.testing.assert_allclose(
        result, tf_max_pool_gradient(dout, x, size, stride), rtol=1e-12, atol=1e-12
    )


def test_max_pool2d_backward_routes_ties_to_the_first_maximum() -> None:
    # One 2×2 window of equal values: only its top-left position (first in row-major order) wins.
    np.testing.assert_array_equal(
        max_pool2d_backward([[7.0]], np.ones((2, 2)), 2), [[7, 0], [0, 0]]
    )
    # A tie between (0, 1) and (1, 0): (0, 1) comes first in row-major order.
    np.testing.assert_array_equal(
        max_pool2d_backward([[1.0]], [[0, 5], [5, 0]], 2), [[0, 1], [0, 0]]
    )


def test_max_pool2d_backward_sums_overlapping_windows() -> None:
    # Constant input, 2×2 windows at stride 1: every window's first maximum is its own top-left
    # corner, so dout lands unchanged in the top-left 2×2 block.
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = [[1, 2, 0], [3, 4, 0], [0, 0, 0]]
    np.testing.assert_array_equal(max_pool2d_backward(dout, np.ones((3, 3)), 2, 1), expected)
    # A single peak in the middle wins all four overlapping windows: their gradients add up.
    peak = np.zeros((3, 3))
    peak[1, 1] = 1
    np.testing.assert_array_equal(
        max_pool2d_backward(dout, peak, 2, 1), [[0, 0, 0], [0, 10, 0], [0, 0, 0]]
    )


def test_max_pool2d_backward_keeps_the_channels_apart() -> None:
    x = np.stack([GRID, -GRID], axis=-1)  # channel 0 peaks bottom-right, channel 1 top-left
    dx = max_pool2d_backward(np.ones((1, 1, 2)), x, 4)
    assert dx[3, 3, 0] == 1 and dx[0, 0, 1] == 1 and dx.sum() == 2


def test_max_pool2d_backward_validates_dout() -> None:
    with pytest.raises(
        ValueError,
        match=r"`dout` must have the shape of the pooled output, \(2, 2\). "
        r"Received: dout with shape \(3, 3\)",
    ):
        max_pool2d_backward(np.ones((3, 3)), GRID, 2)
    with pytest.raises(ValueError, match=r"`dout` must be a 3-D array"):
        max_pool2d_backward(np.ones((2, 2)), GRID[:, :, np.newaxis], 2)


# --- spatial pyramid pooling ----------------------------------------------------------------------


def naive_spp(x: np.ndarray, levels) -> np.ndarray:
    """Bins from floor(i*H/l) to ceil((i+1)*H/l); order: level, bin row, bin col, channel."""
    height, width, channels = x.shape
    out = []
    for level in levels:
        for i in range(level):
            for j in range(level):
                r0, r1 = math.floor(i * height / level), math.ceil((i + 1) * height / level)
                c0, c1 = math.floor(j * width / level), math.ceil((j + 1) * width / level)
                for c in range(channels):
                    out.append(max(x[r, s, c] for r in range(r0, r1) for s in range(c0, c1)))
    return np.array(out)


def test_spatial_pyramid_pool_hand_example() -> None:
    # Channel 0 is 0..15 on a 4×4 grid, channel 1 is 100 minus it: level 1 then the 2×2 bins
    # (top-left, top-right, bottom-left, bottom-right), each bin giving its two channel maxima.
    x = np.stack([GRID, 100 - GRID], axis=-1)
    expected = [15, 100, 5, 100, 7, 98, 13, 92, 15, 90]
    np.testing.assert_array_equal(spatial_pyramid_pool(x, levels=(1, 2)), expected)


def test_spatial_pyramid_pool_bins_overlap_when_the_size_does_not_divide() -> None:
    # H = 3, l = 2: rows [0, 2) and [1, 3) share row 1; the single column is in both column bins.
    x = np.array([9.0, 1.0, 2.0]).reshape(3, 1, 1)
    np.testing.assert_array_equal(spatial_pyramid_pool(x, levels=(2,)), [9, 9, 2, 2])


@PROPERTY
@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.sampled_from([1, 3]),
    st.lists(st.integers(1, 5), min_size=1, max_size=3),
    st.integers(0, 2**32 - 1),
)
def test_spatial_pyramid_pool_equals_naive_loops(height, width, channels, levels, seed) -> None:
    x = np.random.default_rng(seed).normal(size=(height, width, channels))
    result = spatial_pyramid_pool(x, levels)
    assert result.shape == (channels * sum(level * level for level in levels),)
    np.testing.assert_array_equal(result, naive_spp(x, levels))


@pytest.mark.parametrize("shape", [(4, 4, 3), (13, 7, 3), (64, 50, 3), (2, 9, 3)])
def test_spatial_pyramid_pool_length_does_not_depend_on_the_image_size(shape) -> None:
    assert spatial_pyramid_pool(np.ones(shape)).shape == (3 * (1 + 4 + 16),)


def test_spatial_pyramid_pool_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"`levels` must be a non-empty sequence.*levels=\(\)"):
        spatial_pyramid_pool(np.ones((4, 4, 1)), levels=())
    with pytest.raises(
        ValueError, match=r"`levels\[1\]` must be an integer >= 1. Received: levels\[1\]=0"
    ):
        spatial_pyramid_pool(np.ones((4, 4, 1)), levels=(1, 0))
    with pytest.raises(ValueError, match=r"`x` must be a 3-D array \(H, W, C\)"):
        spatial_pyramid_pool(np.ones((4, 4)))
