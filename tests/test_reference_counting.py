"""grader.course.reference.counting against the course notes' known answers and the Keras models."""

from __future__ import annotations

import functools
import math

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course.reference import (
    cnn_forward,
    conv2d_params,
    conv_output_size,
    dense_params,
    layer_table,
    output_size,
)
from grader.course.reference.keras_models import forward_network, keras_model, network_model
from grader.course.reference.networks import (
    FACE_SCORE_CNN,
    FACE_SCORE_CNN_4CONV,
    GENDER_CNN,
    LENET5,
    MNIST_CNN,
    VGG16,
    VGG19,
    Network,
)

PROPERTY = settings(max_examples=40, deadline=None)

# Totals from the course notes (参数个数), each also printed by Keras `model.summary()`.
KNOWN_TOTALS = [
    (FACE_SCORE_CNN, 337_510),
    (FACE_SCORE_CNN_4CONV, 377_610),
    (MNIST_CNN, 93_322),
    (GENDER_CNN, 1_754_825),
    (LENET5, 61_706),
    (VGG16, 138_357_544),
    (VGG19, 143_667_240),
]
SLOW_NETWORKS = {VGG16.name, VGG19.name}  # ~140M parameters to allocate in Keras


def with_slow_marks(cases: list[tuple[Network, int]]) -> list:
    marks = {name: [pytest.mark.slow] for name in SLOW_NETWORKS}
    return [
        pytest.param(net, total, id=net.name, marks=marks.get(net.name, [])) for net, total in cases
    ]


# --- parameter formulas ---------------------------------------------------------------------------


def test_conv2d_and_dense_params_known_answers() -> None:
    assert conv2d_params(3, 3, 1, 32) == 320  # MNIST conv 1
    assert conv2d_params(3, 3, 32, 64) == 18_496  # MNIST conv 2
    assert conv2d_params(2, 2, 100, 100) == 40_100  # face-score CNN, conv 2..4
    assert conv2d_params(5, 5, 3, 10, use_bias=False) == 750
    assert conv2d_params(11, 11, 3, 96) == 34_944  # AlexNet conv 1
    assert dense_params(576, 64) == 36_928
    assert dense_params(4096, 1000) == 4_097_000
    assert dense_params(400, 120, use_bias=False) == 48_000
    assert isinstance(conv2d_params(1, 1, 1, 1), int) and isinstance(dense_params(1, 1), int)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv2d_params(0, 3, 1, 8), r"`fh` must be an integer >= 1. Received: fh=0"),
        (lambda: conv2d_params(3, 3, 1.5, 8), r"Received: c_in=1.5"),
        (lambda: conv2d_params(3, 3, 1, 8, use_bias="no"), r"`use_bias` must be True or False"),
        (lambda: dense_params(10, True), r"Received: units=True"),
    ],
)
def test_params_validate_their_arguments(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- output sizes ---------------------------------------------------------------------------------


def test_course_output_size_chain() -> None:
    # 200 → conv f5 p1 s2 → 99 → pool f3 p0 s1 → 97 → conv f3 p1 s1 → 97
    assert output_size(200, 5, 1, 2) == 99
    assert output_size(99, 3, 0, 1) == 97
    assert output_size(97, 3, 1, 1) == 97


@pytest.mark.parametrize(
    ("args", "floor", "ceil"),
    [
        ((227, 11, 0, 4), 55, 55),  # AlexNet conv 1
        ((55, 3, 0, 2), 27, 27),  # AlexNet overlapping pool
        ((6, 3, 0, 2), 2, 3),  # the last, partial window only counts when rounding up
        ((112, 3, 0, 2), 55, 56),  # GoogLeNet-style pool, Caffe rounds up
        ((5, 5, 0, 1), 1, 1),
    ],
)
def test_output_size_rounding(args: tuple, floor: int, ceil: int) -> None:
    assert output_size(*args) == floor
    assert output_size(*args, rounding="floor") == floor
    assert output_size(*args, rounding="ceil") == ceil


def sliding_count(n: int, f: int, s: int, ceil: bool) -> int:
    """Count window positions by sliding.

    floor: keep whole windows; ceil: slide until the end of the input is covered.
    """
    count, start = 1, 0
    while (start + s + f <= n) if not ceil else (start + f < n):
        start, count = start + s, count + 1
    return count


@PROPERTY
@given(st.integers(1, 60), st.integers(1, 9), st.integers(0, 4), st.integers(1, 5))
def test_output_size_counts_window_positions(n: int, f: int, p: int, s: int) -> None:
    if f > n + 2 * p:
        with pytest.raises(ValueError, match=r"must fit in the padded input"):
            output_size(n, f, p, s)
        return
    assert output_size(n, f, p, s) == sliding_count(n + 2 * p, f, s, ceil=False)
    assert output_size(n, f, p, s, "ceil") == sliding_count(n + 2 * p, f, s, ceil=True)
    # The floor formula on an explicitly zero-padded input is Keras' valid convolution.
    keras_rows = keras.layers.Conv2D(1, (f, 1), strides=s).compute_output_shape(
        (None, n + 2 * p, 1, 1)
    )[1]
    assert output_size(n, f, p, s) == keras_rows


@PROPERTY
@given(st.integers(1, 60), st.integers(1, 9), st.integers(1, 5), st.sampled_from(["valid", "same"]))
def test_conv_output_size_equals_keras(n: int, f: int, stride: int, padding: str) -> None:
    layer = keras.layers.Conv2D(1, (f, 1), strides=(stride, 1), padding=padding)
    if padding == "valid" and f > n:
        with pytest.raises(ValueError, match=rf"f={f} > n={n}"):
            conv_output_size(n, f, padding, stride)
        return
    assert conv_output_size(n, f, padding, stride) == layer.compute_output_shape((None, n, 1, 1))[1]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: conv_output_size(28, 3, "full"),
            r"`padding` must be one of 'valid', 'same'. Received: padding='full'",
        ),
        (lambda: conv_output_size(28, 3, stride=0), r"Received: stride=0"),
        (
            lambda: output_size(28, 3, 0, 1, "round"),
            r"`rounding` must be one of 'floor', 'ceil'. Received: rounding='round'",
        ),
        (lambda: output_size(28, 3, -1, 1), r"`p` must be an integer >= 0. Received: p=-1"),
        (lambda: output_size(2, 7, 2, 1), r"f=7 > n \+ 2p = 6 \(n=2, p=2\)"),
    ],
)
def test_output_sizes_validate_their_arguments(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- layer_table ----------------------------------------------------------------------------------


@functools.cache
def course_model(network: Network) -> keras.Sequential:
    return network_model(network)


@pytest.mark.parametrize(
    ("network", "total"), [pytest.param(n, t, id=n.name) for n, t in KNOWN_TOTALS]
)
def test_layer_table_course_totals(network: Network, total: int) -> None:
    table = layer_table(network.input_shape, network.layers)
    assert len(table) == len(network.layers)
    assert sum(params for _, params in table) == total


@pytest.mark.parametrize(("network", "total"), with_slow_marks(KNOWN_TOTALS))
def test_layer_table_equals_the_keras_model(network: Network, total: int) -> None:
    model = course_model(network)
    try:
        assert model.count_params() == total
        table = layer_table(network.input_shape, network.layers)
        keras_table = [
            (tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers
        ]
        assert table == keras_table
    finally:
        if network.name in SLOW_NETWORKS:  # do not keep ~550 MB of weights for the session
            course_model.cache_clear()


def test_layer_table_mnist_summary() -> None:
    # The Keras/TensorFlow CNN tutorial's model.summary(), layer by layer.
    assert layer_table(MNIST_CNN.input_shape, MNIST_CNN.layers) == [
        ((26, 26, 32), 320),
        ((13, 13, 32), 0),
        ((11, 11, 64), 18_496),
        ((5, 5, 64), 0),
        ((3, 3, 64), 36_928),
        ((576,), 0),
        ((64,), 36_928),
        ((10,), 650),
    ]


def test_mnist_convolutional_base_has_55744_params() -> None:
    first_dense = next(i for i, layer in enumerate(MNIST_CNN.layers) if layer[0] == "dense")
    table = layer_table(MNIST_CNN.input_shape, MNIST_CNN.layers)
    assert sum(params for _, params in table[:first_dense]) == 55_744
    model = course_model(MNIST_CNN)
    assert sum(layer.count_params() for layer in model.layers[:first_dense]) == 55_744


def test_fourth_conv_of_the_face_score_cnn_adds_40100() -> None:
    extra = [layer for layer in FACE_SCORE_CNN_4CONV.layers if layer[0] == "conv2d"][3]
    assert extra == ("conv2d", 100, (2, 2), "same", 1)
    table = layer_table(FACE_SCORE_CNN_4CONV.input_shape, FACE_SCORE_CNN_4CONV.layers)
    assert table[-3] == ((16, 16, 100), 40_100)  # after the third pooling, before Flatten


@st.composite
def random_network(draw: st.DrawFn) -> tuple[tuple[int, int, int], list[tuple]]:
    """A small Sequential model whose windows always fit.

    Conv/pool layers (sizes and strides ints or pairs, overlapping pooling), then maybe Flatten,
    then Dense layers (on a 3-D input they act on the last axis).
    """
    rows, cols = draw(st.integers(3, 24)), draw(st.integers(3, 24))
    input_shape = (rows, cols, draw(st.integers(1, 4)))
    layers: list[tuple] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["conv2d", "maxpool", "avgpool"]))
        padding = draw(st.sampled_from(["valid", "same"])) if kind == "conv2d" else "valid"
        fh = draw(st.integers(1, 5 if padding == "same" else rows))
        fw = draw(st.integers(1, 5 if padding == "same" else cols))
        sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        stride = sh if sh == sw and draw(st.booleans()) else (sh, sw)
        if kind == "conv2d":
            layers.append(("conv2d", draw(st.integers(1, 8)), (fh, fw), padding, stride))
        else:
            layers.append((kind, (fh, fw), stride) if draw(st.booleans()) else (kind, (fh, fw)))
            sh, sw = (sh, sw) if len(layers[-1]) == 3 else (fh, fw)
        if padding == "same":
            rows, cols = -(-rows // sh), -(-cols // sw)
        else:
            rows, cols = (rows - fh) // sh + 1, (cols - fw) // sw + 1
    if draw(st.booleans()):
        layers.append(("flatten",))
    layers += [("dense", units) for units in draw(st.lists(st.integers(1, 6), max_size=2))]
    return input_shape, layers


@settings(max_examples=25, deadline=None)
@given(random_network())
def test_layer_table_equals_keras_on_random_networks(case: tuple) -> None:
    input_shape, layers = case
    model = keras_model(input_shape, layers)
    expected = [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]
    assert layer_table(input_shape, layers) == expected


BAD_LAYERS = [
    (
        [("conv2d", 32)],
        r"layers\[0\]=\('conv2d', 32\): a 'conv2d' layer is written "
        r"\('conv2d', filters, \(fh, fw\), padding, stride\)",
    ),
    (
        [("flatten",), ("conv", 8)],
        r"layers\[1\]=\('conv', 8\): a layer is a tuple whose first item is one of",
    ),
    (
        [("maxpool", (2, 2), 1, 1)],
        r"layers\[0\]=\('maxpool', \(2, 2\), 1, 1\): a 'maxpool' layer is written",
    ),
    (
        [("conv2d", 8, (3, 3), "full", 1)],
        r"layers\[0\]=.*: `padding` must be one of 'valid', 'same'. "
        r"Received: padding='full'",
    ),
    ([("conv2d", 0, (3, 3), "same", 1)], r"layers\[0\]=.*: `filters` must be an integer >= 1"),
    ([("dense", 10), "dense"], r"layers\[1\]='dense': a layer is a tuple"),
    (
        [("maxpool", (2, 2)), ("avgpool", (5, 5))],
        r"layers\[1\]=\('avgpool', \(5, 5\)\): .*f=5 > n=4",
    ),
    (
        [("flatten",), ("conv2d", 8, (3, 3), "same", 1)],
        r"layers\[1\]=.*: this layer needs an \(H, W, C\) input, but its input has shape \(192,\)",
    ),
]


@pytest.mark.parametrize(("layers", "message"), BAD_LAYERS)
def test_layer_table_names_the_bad_layer(layers: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layer_table((8, 8, 3), layers)


def test_keras_model_rejects_bad_layers_like_layer_table() -> None:
    layers, message = BAD_LAYERS[0]
    with pytest.raises(ValueError, match=message):
        keras_model((8, 8, 3), layers)


def test_layer_table_validates_the_input_shape() -> None:
    with pytest.raises(
        ValueError,
        match=r"`input_shape\[1\]` must be an integer >= 1. Received: input_shape\[1\]=0",
    ):
        layer_table((8, 0, 3), [])
    with pytest.raises(ValueError, match=r"`input_shape` must be a tuple of sizes"):
        layer_table("28x28", [])


# --- cnn_forward ----------------------------------------------------------------------------------


@functools.cache
def small_network(seed: int) -> keras.Sequential:
    return forward_network(seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch", [1, 16])
def test_cnn_forward_equals_model_predict(seed: int, batch: int) -> None:
    model = small_network(seed)
    x = np.random.default_rng(seed * 100 + batch).normal(size=(batch, 4, 4, 1)).astype(np.float32)
    expected = model.predict(x, verbose=0)
    result = cnn_forward(x, model.get_weights())
    assert result.shape == (batch, 1) and result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_cnn_forward_by_hand() -> None:
    x = np.ones((2, 4, 4, 1))
    x[1] *= -1
    ones = np.ones((3, 3, 1, 1))
    weights = [ones, np.zeros(1), np.array([[2.0]]), np.array([-1.0])]
    # Sample 0: every 3×3 sum is 9, ReLU keeps it, max pool 9, dense 2*9 - 1 = 17.
    # Sample 1: the sums are -9, ReLU gives 0, dense -1.
    expected = 1 / (1 + np.exp(-np.array([[17.0], [-1.0]])))
    np.testing.assert_allclose(cnn_forward(x, weights), expected, rtol=1e-12)
    # All-zero weights: logit 0 and probability one half; large logits do not overflow.
    zeros = [np.zeros((3, 3, 1, 1)), np.zeros(1), np.zeros((1, 1)), np.zeros(1)]
    assert math.isclose(cnn_forward(x, zeros)[0, 0], 0.5)
    huge = [ones, np.zeros(1), np.array([[1e6]]), np.zeros(1)]
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(cnn_forward(x, huge), [[1.0], [0.5]])


def test_cnn_forward_validates_the_weights() -> None:
    x = np.ones((1, 4, 4, 1))
    with pytest.raises(ValueError, match=r"Received: 3 arrays"):
        cnn_forward(x, [np.ones((3, 3, 1, 1)), np.zeros(1), np.ones((1, 1))])
    with pytest.raises(ValueError, match=r"`weights\[2\]` must have 1 rows .* shape \(4, 1\)"):
        cnn_forward(x, [np.ones((3, 3, 1, 1)), np.zeros(1), np.ones((4, 1)), np.zeros(1)])
    with pytest.raises(
        ValueError, match=r"x with shape \(1, 4, 4, 1\), weights\[0\] with shape \(3, 3, 2, 1\)"
    ):
        cnn_forward(x, [np.ones((3, 3, 2, 1)), np.zeros(1), np.ones((1, 1)), np.zeros(1)])
    with pytest.raises(ValueError, match=r"`x` must be a 4-D array \(N, H, W, C\)"):
        cnn_forward(x[0], small_network(0).get_weights())
