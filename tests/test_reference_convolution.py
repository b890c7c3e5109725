"""grader.course.reference.convolution against the course notes, naive loops and Keras/TensorFlow."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.course.reference import conv2d, conv2d_layer, conv2d_matmul, conv2d_multi, im2col

PROPERTY = settings(max_examples=40, deadline=None)

# Course notes (卷积): the same 3×3 input and even 2×2 kernel in the three modes.
X = [[2, 3, 8], [6, 1, 5], [7, 2, -1]]
K = [[4, 1], [2, 3]]
COURSE = {
    "full": [[6, 13, 30, 16], [20, 26, 37, 42], [27, 45, 10, 18], [7, 30, 7, -4]],
    "same": [[26, 37, 42], [45, 10, 18], [30, 7, -4]],
    "valid": [[26, 37], [45, 10]],
}


# --- independent truths ---------------------------------------------------------------------------


def naive_conv2d(x: np.ndarray, k: np.ndarray, mode: str) -> np.ndarray:
    """Cross-correlation by the definition: loops, with out-of-range input read as zero."""
    height, width = x.shape
    fh, fw = k.shape
    if mode == "valid":
        rows, cols, top, left = height - fh + 1, width - fw + 1, 0, 0
    elif mode == "full":
        rows, cols, top, left = height + fh - 1, width + fw - 1, fh - 1, fw - 1
    else:  # same: the anchor (FH-1)//2, (FW-1)//2 visits every input position
        rows, cols, top, left = height, width, (fh - 1) // 2, (fw - 1) // 2
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            for a in range(fh):
                for b in range(fw):
                    r, c = i - top + a, j - left + b
                    if 0 <= r < height and 0 <= c < width:
                        out[i, j] += k[a, b] * x[r, c]
    return out


def naive_im2col(x: np.ndarray, fh: int, fw: int, stride: tuple[int, int]) -> np.ndarray:
    """One row per window, windows in row-major order, each flattened (fh, fw, C)."""
    rows = []
    for i in range(0, x.shape[0] - fh + 1, stride[0]):
        for j in range(0, x.shape[1] - fw + 1, stride[1]):
            rows.append(
                [
                    x[i + a, j + b, c]
                    for a in range(fh)
                    for b in range(fw)
                    for c in range(x.shape[2])
                ]
            )
    return np.array(rows)


def keras_conv(x: np.ndarray, kernels: np.ndarray, stride: object, padding: str) -> np.ndarray:
    """Keras' own convolution op (what `Conv2D.call` runs), float64, batch of one."""
    inputs = keras.ops.convert_to_tensor(x[np.newaxis], dtype="float64")
    kernels = keras.ops.convert_to_tensor(kernels, dtype="float64")
    return np.asarray(keras.ops.conv(inputs, kernels, strides=stride, padding=padding))[0]


# --- strategies -----------------------------------------------------------------------------------

VALUES = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)
STRIDES = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)))


def values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=VALUES)


@st.composite
def image_kernel(draw: st.DrawFn, padding: str, channels: int | None = None) -> tuple:
    """`(x (H, W, C), kernel size)`: non-square, even, 1×1 and as-large-as-input kernels included;
    for "valid" the kernel fits, for "same"/"full" it may be larger than the input."""
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    fh = draw(st.integers(1, height if padding == "valid" else 5))
    fw = draw(st.integers(1, width if padding == "valid" else 5))
    c = channels or draw(st.sampled_from([1, 2, 3, 16]))
    return draw(values((height, width, c))), (fh, fw)


@st.composite
def layer_case(draw: st.DrawFn, paddings: tuple[str, ...] = ("valid", "same")) -> tuple:
    padding = draw(st.sampled_from(paddings))
    x, (fh, fw) = draw(image_kernel(padding))
    filters = draw(st.integers(1, 4))
    kernels = draw(values((fh, fw, x.shape[2], filters)))
    bias = draw(values((filters,)))
    return x, kernels, bias, draw(STRIDES), padding


# --- conv2d ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(COURSE))
def test_conv2d_course_example(mode: str) -> None:
    result = conv2d(X, K, mode)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, COURSE[mode])


def test_conv2d_default_mode_is_valid() -> None:
    np.testing.assert_array_equal(conv2d(X, K), COURSE["valid"])


def test_conv2d_does_not_flip_the_kernel() -> None:
    # A kernel with a single 1 at (0, 0) picks x[i, j]: cross-correlation, not convolution.
    picker = [[1, 0], [0, 0]]
    np.testing.assert_array_equal(conv2d(X, picker), [[2, 3], [6, 1]])


@st.composite
def single_channel_case(draw: st.DrawFn, modes: tuple[str, ...]) -> tuple:
    """`(mode, x (H, W), k (FH, FW))`."""
    mode = draw(st.sampled_from(modes))
    x, (fh, fw) = draw(image_kernel(mode, channels=1))
    return mode, x[:, :, 0], draw(values((fh, fw)))


@PROPERTY
@given(single_channel_case(("full", "same", "valid")))
def test_conv2d_equals_the_definition(case: tuple) -> None:
    mode, x, k = case
    np.testing.assert_allclose(conv2d(x, k, mode), naive_conv2d(x, k, mode), rtol=1e-12, atol=1e-9)


@PROPERTY
@given(single_channel_case(("same", "valid")))
def test_conv2d_same_and_valid_equal_keras(case: tuple) -> None:
    mode, x, k = case
    x = x[:, :, np.newaxis]
    expected = keras_conv(x, k[:, :, np.newaxis, np.newaxis], 1, mode)[:, :, 0]
    np.testing.assert_allclose(conv2d(x[:, :, 0], k, mode), expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"mode": "diagonal"},
            r"`mode` must be one of 'full', 'same', 'valid'. Received: mode='diagonal'",
        ),
        ({"mode": "SAME"}, r"Received: mode='SAME'"),
        (
            {"x": np.zeros((3, 3, 1))},
            r"`x` must be a 2-D array \(H, W\). Received: x with shape \(3, 3, 1\)",
        ),
        ({"k": [1, 2]}, r"`k` must be a 2-D array \(FH, FW\). Received: k with shape \(2,\)"),
        ({"k": np.zeros((0, 2))}, r"`k` must not be empty"),
        ({"k": np.ones((4, 1))}, r"window \(4, 1\) is larger than `x`'s spatial size \(3, 3\)"),
        ({"x": [["a", "b"]]}, r"`x` must be a numeric array"),
    ],
)
def test_conv2d_validates_its_arguments(kwargs: dict, message: str) -> None:
    arguments = {"x": X, "k": K, "mode": "valid"} | kwargs
    with pytest.raises(ValueError, match=message):
        conv2d(**arguments)


def test_conv2d_same_and_full_accept_a_kernel_larger_than_the_input() -> None:
    x, k = np.ones((2, 2)), np.ones((3, 4))
    np.testing.assert_array_equal(conv2d(x, k, "same"), naive_conv2d(x, k, "same"))
    np.testing.assert_array_equal(conv2d(x, k, "full"), naive_conv2d(x, k, "full"))


# --- conv2d_multi ---------------------------------------------------------------------------------


@PROPERTY
@given(image_kernel("valid"), st.data())
def test_conv2d_multi_equals_keras_single_filter(case: tuple, data: st.DataObject) -> None:
    x, (fh, fw) = case
    k = data.draw(values((fh, fw, x.shape[2])))
    expected = keras_conv(x, k[..., np.newaxis], 1, "valid")[:, :, 0]
    np.testing.assert_allclose(conv2d_multi(x, k), expected, rtol=1e-10, atol=1e-9)


def test_conv2d_multi_sums_the_channels_of_conv2d() -> None:
    rng = np.random.default_rng(3)
    x, k = rng.normal(size=(6, 5, 3)), rng.normal(size=(2, 3, 3))
    per_channel = sum(naive_conv2d(x[:, :, c], k[:, :, c], "valid") for c in range(3))
    np.testing.assert_allclose(conv2d_multi(x, k), per_channel, rtol=1e-12)


def test_conv2d_multi_rejects_mismatched_depth() -> None:
    with pytest.raises(ValueError, match=r"x with shape \(4, 4, 3\), k with shape \(2, 2, 2\)"):
        conv2d_multi(np.zeros((4, 4, 3)), np.zeros((2, 2, 2)))


# --- conv2d_layer ---------------------------------------------------------------------------------


@PROPERTY
@given(layer_case())
def test_conv2d_layer_equals_keras_conv(case: tuple) -> None:
    x, kernels, bias, stride, padding = case
    expected = keras_conv(x, kernels, stride, padding) + bias
    result = conv2d_layer(x, kernels, bias, stride=stride, padding=padding)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "padding"),
    [
        ((7, 5, 3), (2, 3), 2, "same"),  # even kernel, odd padding split, stride
        ((6, 9, 2), (3, 3), (2, 3), "same"),
        ((8, 8, 1), (1, 1), 3, "valid"),  # 1×1 kernel, stride > kernel
        ((5, 4, 4), (5, 4), 1, "valid"),  # kernel as large as the input
    ],
)
def test_conv2d_layer_equals_a_keras_conv2d_layer(shape, kernel, stride, padding) -> None:
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(size=shape)
    kernels = rng.normal(size=(*kernel, shape[2], 3))
    bias = rng.normal(size=3)
    layer = keras.layers.Conv2D(3, kernel, strides=stride, padding=padding, dtype="float64")
    layer.build((None, *shape))
    layer.set_weights([kernels, bias])
    expected = np.asarray(layer(x[np.newaxis]))[0]
    np.testing.assert_allclose(
        conv2d_layer(x, kernels, bias, stride, padding), expected, rtol=1e-10
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"kernels": np.zeros((2, 2, 2, 4))},
            r"x with shape \(5, 5, 3\), kernels with shape \(2, 2, 2, 4\)",
        ),
        ({"bias": np.zeros(3)}, r"kernels with shape \(2, 2, 3, 4\), bias with shape \(3,\)"),
        ({"stride": 0}, r"Received: stride=0"),
        ({"stride": (1, 2, 3)}, r"pair of positive integers. Received: stride=\(1, 2, 3\)"),
        (
            {"padding": "full"},
            r"`padding` must be one of 'valid', 'same'. Received: padding='full'",
        ),
        ({"x": np.zeros((5, 5))}, r"`x` must be a 3-D array \(H, W, C\)"),
    ],
)
def test_conv2d_layer_validates_its_arguments(kwargs: dict, message: str) -> None:
    arguments = {"x": np.zeros((5, 5, 3)), "kernels": np.zeros((2, 2, 3, 4)), "bias": np.zeros(4)}
    with pytest.raises(ValueError, match=message):
        conv2d_layer(**(arguments | kwargs))


# --- im2col / conv2d_matmul -----------------------------------------------------------------------


def test_im2col_small_example() -> None:
    # 3×3 input 0..8, 2×2 windows: rows are windows in row-major order, each read row by row.
    expected = [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]
    np.testing.assert_array_equal(im2col(np.arange(9).reshape(3, 3), 2, 2), expected)


@PROPERTY
@given(image_kernel("valid"), STRIDES)
def test_im2col_equals_the_naive_patch_matrix(case: tuple, stride: object) -> None:
    x, (fh, fw) = case
    strides = (stride, stride) if isinstance(stride, int) else stride
    expected = naive_im2col(x, fh, fw, strides)
    np.testing.assert_array_equal(im2col(x, fh, fw, stride), expected)
    if x.shape[2] == 1:  # (H, W) input is read as one channel
        np.testing.assert_array_equal(im2col(x[:, :, 0], fh, fw, stride), expected)


@PROPERTY
@given(layer_case(paddings=("valid",)))
def test_conv2d_matmul_equals_keras_valid_conv(case: tuple) -> None:
    x, kernels, bias, stride, _ = case
    expected = keras_conv(x, kernels, stride, "valid") + bias
    np.testing.assert_allclose(
        conv2d_matmul(x, kernels, bias, stride), expected, rtol=1e-10, atol=1e-9
    )


def test_im2col_validates_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"`fh` must be an integer >= 1. Received: fh=0"):
        im2col(np.zeros((4, 4)), 0, 2)
    with pytest.raises(ValueError, match=r"`x` must be a 2-D or 3-D array"):
        im2col(np.zeros(4), 2, 2)
    with pytest.raises(ValueError, match=r"larger than `x`'s spatial size \(4, 4\)"):
        im2col(np.zeros((4, 4)), 5, 2)
