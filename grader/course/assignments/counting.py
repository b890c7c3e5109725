"""03-parameter-counting (参数个数): parameter counts, output sizes, layer tables, a forward pass by hand."""

from __future__ import annotations

import math

import numpy as np

from ..reference import convolution, pooling
from ..reference import counting as ref
from ..reference.networks import COURSE_NETWORKS, LENET5, MNIST_CNN
from ..reference._common import pair
from ..spec import Assignment, Case, Group, Mistake, Question
from ._gen import case, values

BIAS_ZH = "参数个数里漏掉了偏置：每个卷积核（每个神经元）还有一个偏置参数。"
BIAS_EN = "The bias is left out of the count: every filter (every unit) also has one bias parameter."
PLUS_ONE_ZH = "公式少了 + 1：输出尺寸是 (n + 2p - f) / s + 1（窗口的第一个位置也要算上）。"
PLUS_ONE_EN = ("The formula is missing its + 1: the output size is (n + 2p - f) / s + 1 (the window's first "
               "position counts too).")


def _conv_no_bias(fh, fw, c_in, filters, use_bias=True):
    return fh * fw * c_in * filters


def _conv_no_channels(fh, fw, c_in, filters, use_bias=True):
    return fh * fw * filters + (filters if use_bias else 0)


def _dense_no_bias(n_in, units, use_bias=True):
    return n_in * units


def _same_with_floor(n, f, padding="valid", stride=1):
    return n // stride if padding == "same" else ref.conv_output_size(n, f, padding, stride)


def _valid_with_ceil(n, f, padding="valid", stride=1):
    return math.ceil((n - f) / stride) + 1 if padding == "valid" else ref.conv_output_size(n, f, padding, stride)


def _rounding_swapped(n, f, p, s, rounding="floor"):
    return ref.output_size(n, f, p, s, "ceil" if rounding == "floor" else "floor")


def _table_no_bias(input_shape, layers):
    table = ref.layer_table(input_shape, layers)
    result = []
    for layer, (shape, params) in zip(layers, table):
        units = layer[1] if layer[0] in ("conv2d", "dense") else 0
        result.append((shape, params - units))
    return result


def _valid_without_plus_one(n, f, padding="valid", stride=1):
    return (n - f) // stride if padding == "valid" else ref.conv_output_size(n, f, padding, stride)


def _size_stride_ignored(n, f, padding="valid", stride=1):
    return ref.conv_output_size(n, f, padding, 1)


def _without_plus_one(n, f, p, s, rounding="floor"):
    return ref.output_size(n, f, p, s, rounding) - 1


def _always_floor(n, f, p, s, rounding="floor"):
    return ref.output_size(n, f, p, s, "floor")


def _pool_stride_as_size(layer):
    return tuple(layer[:2]) if layer[0] in ("maxpool", "avgpool") else layer


def _table_pool_stride_ignored(input_shape, layers):
    """Pooling layers with their stride taken to be their size (the default), whatever is given."""
    return ref.layer_table(input_shape, [_pool_stride_as_size(layer) for layer in layers])


def _table_dense_no_bias(input_shape, layers):
    table = ref.layer_table(input_shape, layers)
    return [(shape, params - layer[1] if layer[0] == "dense" else params)
            for layer, (shape, params) in zip(layers, table)]


def _table_same_floor(input_shape, layers):
    """'same' convolutions sized floor(n/s), integer division, instead of ceil(n/s)."""
    table, shape = [], tuple(input_shape)
    for layer in layers:
        out, params = ref.layer_table(shape, [layer])[0]
        if layer[0] == "conv2d" and layer[3] == "same":
            (sh, sw) = pair(layer[4], "stride")
            out = (shape[0] // sh, shape[1] // sw, layer[1])
        table.append((out, params))
        shape = out
    return table


def _table_flatten_earlier_shape(input_shape, layers):
    """Flatten sized from the shape *before* the layer that precedes it (the conv output before pooling),
    and the next Dense counted from that size."""
    table = ref.layer_table(input_shape, layers)
    shapes = [tuple(input_shape)] + [shape for shape, _ in table]
    result, n_in = [], None
    for index, (layer, (shape, params)) in enumerate(zip(layers, table)):
        if layer[0] == "flatten":
            n_in = math.prod(shapes[max(index - 1, 0)])
            result.append(((n_in,), 0))
        elif layer[0] == "dense" and n_in is not None:
            result.append(((layer[1],), ref.dense_params(n_in, layer[1])))
            n_in = layer[1]
        else:
            result.append((shape, params))
    return result


def _forward(x, weights, relu=True, pool="max", bias=True, flip=False):
    kernel, conv_bias, dense_kernel, dense_bias = (np.asarray(w, dtype=float) for w in weights)
    if flip:
        kernel = kernel[::-1, ::-1]
    x = np.asarray(x, dtype=float)
    n = len(x)
    maps = np.stack([convolution.conv2d_layer(img, kernel, conv_bias if bias else 0 * conv_bias) for img in x])
    if relu:
        maps = np.maximum(maps, 0)
    pooled = np.stack([(pooling.max_pool2d if pool == "max" else pooling.avg_pool2d)(m, 2) for m in maps])
    z = pooled.reshape(n, -1) @ dense_kernel + (dense_bias if bias else 0)
    return 1 / (1 + np.exp(-z))


def _forward_no_relu(x, weights):
    return _forward(x, weights, relu=False)


def _forward_avg(x, weights):
    return _forward(x, weights, pool="avg")


def _forward_no_bias(x, weights):
    return _forward(x, weights, bias=False)


def _forward_flipped(x, weights):
    return _forward(x, weights, flip=True)


def _public_counts(kind: str):
    """The MNIST CNN's layers from the course notes: 320, 18,496, 36,928 (conv); 36,928, 650 (dense)."""
    def make(rng: np.random.Generator) -> list[Case]:
        if kind == "conv":
            return [case(3, 3, 1, 32), case(3, 3, 32, 64), case(3, 3, 64, 64)]
        return [case(576, 64), case(64, 10)]
    return make


def _public_sizes(rng: np.random.Generator) -> list[Case]:
    return [case(28, 3), case(26, 2, "valid", 2), case(128, 2, "same")]


def _public_forward(rng: np.random.Generator) -> list[Case]:
    weights = [np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]).reshape(3, 3, 1, 1),
               np.array([0.5]), np.array([[1.0]]), np.array([-1.0])]
    x = np.array([[[0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]], dtype=np.float64)[..., None]
    return [case(x[:, :, ::-1], weights), case(np.concatenate([x, -x]), weights)]


def _conv_param_cases(rng: np.random.Generator) -> list[Case]:
    cases = [case(3, 3, 1, 32), case(3, 3, 32, 64), case(2, 2, 3, 100), case(5, 5, 6, 16)]
    cases += [case(int(a), int(b), int(c), int(d)) for a, b, c, d in rng.integers(1, 9, size=(4, 4))]
    return cases + [case(3, 3, 16, 8, use_bias=False), case(1, 1, 64, 32, use_bias=False)]


def _dense_param_cases(rng: np.random.Generator) -> list[Case]:
    return [case(576, 64), case(64, 10), case(2048, 100), case(int(rng.integers(1, 999)), int(rng.integers(1, 99))),
            case(400, 120, use_bias=False)]


def _conv_size_cases(rng: np.random.Generator) -> list[Case]:
    cases = [case(28, 3), case(128, 2, "same"), case(50, 3, "valid", 1), case(9, 3, "same", 2),
             case(224, 7, "same", 2), case(7, 2, "valid", 3), case(10, 3, "same", 3), case(5, 5)]
    for n, f, s in rng.integers(1, 12, size=(4, 3)):
        n = int(n) + int(f)
        cases.append(case(n, int(f), "valid", int(s)))
        cases.append(case(n, int(f), "same", int(s)))
    return cases


def _output_size_course(rng: np.random.Generator) -> list[Case]:
    return [case(200, 5, 1, 2), case(99, 3, 0, 1), case(97, 3, 1, 1)]


def _output_size_cases(rng: np.random.Generator) -> list[Case]:
    cases = [case(227, 11, 0, 4), case(55, 3, 0, 2, "ceil"), case(13, 3, 0, 2, "ceil"), case(6, 3, 1, 2),
             case(14, 3, 0, 2, "ceil")]  # (14 - 3) / 2 is not whole: ceil and floor differ
    for n, f, p, s in rng.integers(1, 9, size=(4, 4)):
        cases.append(case(int(n) + 10, int(f), int(p) - 1, int(s), "ceil" if s % 2 else "floor"))
    return cases


def _course_tables(rng: np.random.Generator) -> list[Case]:
    return [case(MNIST_CNN.input_shape, list(MNIST_CNN.layers)), case(LENET5.input_shape, list(LENET5.layers))]


def _hidden_tables(rng: np.random.Generator) -> list[Case]:
    cases = [case(net.input_shape, list(net.layers)) for net in COURSE_NETWORKS if net not in (MNIST_CNN, LENET5)]
    size = int(rng.integers(20, 40))
    cases.append(case((size, size + 3, 3), [("conv2d", 8, (3, 2), "same", 2), ("maxpool", (3, 3), 2),
                                           ("conv2d", 4, (2, 2), "valid", (1, 2)), ("avgpool", (2, 2)),
                                           ("flatten",), ("dense", 7)]))
    return cases


def _forward_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n in (1, 3, 5):
        weights = [values(rng, 3, 3, 1, 1), values(rng, 1), values(rng, 1, 1), values(rng, 1)]
        cases.append(case(values(rng, n, 4, 4, 1), weights))
    # A positive image under a negative kernel: every feature is negative before the ReLU, so the ReLU shows.
    weights = [-np.abs(values(rng, 3, 3, 1, 1)) - 0.5, values(rng, 1), values(rng, 1, 1) + 3.0, values(rng, 1)]
    cases.append(case(np.abs(values(rng, 2, 4, 4, 1)) + 0.5, weights))
    return cases


ASSIGNMENT = Assignment(
    id="03-parameter-counting",
    aliases=("参数个数", "参数", "counting"),
    preload=("numpy", "keras"),
    questions=(
        Question("conv2d_params", ref.conv2d_params, (Group("course example", _public_counts("conv"), public=True, zh="课程示例"),
                                                           Group("conv layers", _conv_param_cases, zh="卷积层")), (
            Mistake("bias_left_out", _conv_no_bias, BIAS_ZH, BIAS_EN),
            Mistake("input_channels_forgotten", _conv_no_channels,
                    "忘了输入通道数：每个卷积核的大小是 fh × fw × c_in。",
                    "The input channels are forgotten: each filter has fh × fw × c_in weights."),
        )),
        Question("dense_params", ref.dense_params, (Group("course example", _public_counts("dense"), public=True, zh="课程示例"),
                                                        Group("dense layers", _dense_param_cases, zh="全连接层")), (
            Mistake("bias_left_out", _dense_no_bias, BIAS_ZH, BIAS_EN),
        )),
        Question("conv_output_size", ref.conv_output_size, (Group("course example", _public_sizes, public=True, zh="课程示例"),
                                                                 Group("Keras rules", _conv_size_cases, zh="Keras 的规则")), (
            Mistake("same_size_with_floor", _same_with_floor,
                    "same 填充的输出尺寸是 ceil(n/s)（向上取整），不是 floor。",
                    "With 'same' padding the output size is ceil(n/s), rounded up, not floor."),
            Mistake("valid_size_with_ceil", _valid_with_ceil,
                    "valid 的输出尺寸是 floor((n-f)/s)+1（向下取整）。",
                    "With 'valid' padding the output size is floor((n-f)/s)+1, rounded down."),
            Mistake("plus_one_missing", _valid_without_plus_one, PLUS_ONE_ZH, PLUS_ONE_EN),
            Mistake("stride_ignored", _size_stride_ignored,
                    "忽略了步长：valid 的输出尺寸是 floor((n-f)/s)+1，same 的是 ceil(n/s)，都要除以步长 s。",
                    "The stride is ignored: the output size is floor((n-f)/s)+1 for 'valid' and ceil(n/s) for "
                    "'same'; both divide by the stride s."),
        )),
        Question("output_size", ref.output_size, (
            Group("course example", _output_size_course, public=True, zh="课程示例"),
            Group("floor and ceil", _output_size_cases, zh="向下取整与向上取整"),
        ), (
            Mistake("floor_ceil_swapped", _rounding_swapped,
                    "取整方向反了：rounding=\"floor\" 向下取整，\"ceil\" 向上取整。",
                    "Floor and ceil are swapped: rounding=\"floor\" rounds down, \"ceil\" rounds up."),
            Mistake("plus_one_missing", _without_plus_one, PLUS_ONE_ZH, PLUS_ONE_EN),
            Mistake("integer_division_for_ceil", _always_floor,
                    "rounding=\"ceil\" 时也用了整数除法 //（向下取整）：ceil 要向上取整，例如 -(-a // b) 或 math.ceil(a / b)。",
                    "You use integer division // (rounding down) even when rounding=\"ceil\": ceil rounds up, "
                    "e.g. -(-a // b) or math.ceil(a / b)."),
        )),
        Question("layer_table", ref.layer_table, (
            Group("course networks", _course_tables, public=True, zh="课程中的网络"),
            Group("more networks", _hidden_tables, zh="更多网络"),
        ), (
            Mistake("bias_left_out", _table_no_bias, BIAS_ZH, BIAS_EN),
            Mistake("pool_stride_ignored", _table_pool_stride_ignored,
                    "池化层的步长被忽略了：(\"maxpool\", (3, 3), 2) 这样的重叠池化步长是 2，不是窗口大小 3；"
                    "输出尺寸是 floor((n-f)/s)+1。",
                    "The pooling stride is ignored: an overlapping pooling such as (\"maxpool\", (3, 3), 2) moves by "
                    "2, not by its size 3; its output size is floor((n-f)/s)+1."),
            Mistake("dense_bias_left_out", _table_dense_no_bias,
                    "Dense 层的参数个数漏掉了偏置：n_in × units 个权重之外，每个神经元还有一个偏置，共 (n_in + 1) × units。",
                    "The Dense layers' count leaves out the bias: besides n_in × units weights every unit has "
                    "a bias, (n_in + 1) × units in all."),
            Mistake("same_size_with_floor", _table_same_floor,
                    "same 填充的卷积层输出尺寸是 ceil(n/s)（向上取整），不是整数除法 n // s。",
                    "A 'same' convolution's output size is ceil(n/s), rounded up, not the integer division n // s."),
            Mistake("flatten_of_earlier_shape", _table_flatten_earlier_shape,
                    "Flatten 的大小算错了形状：它是紧挨着它的上一层输出形状的乘积（例如池化之后的 H × W × C），"
                    "不是更早一层的形状。",
                    "The Flatten size comes from the wrong shape: it is the product of the output shape of the "
                    "layer right before it (e.g. H × W × C after the pooling), not of an earlier layer."),
        )),
        Question("cnn_forward", ref.cnn_forward, (Group("course example", _public_forward, public=True, zh="课程示例"),
                                                     Group("forward pass", _forward_cases, zh="前向计算")), (
            Mistake("relu_missing", _forward_no_relu,
                    "卷积层之后忘了 ReLU 激活。", "The ReLU after the convolution is missing."),
            Mistake("average_instead_of_max", _forward_avg,
                    "用了平均池化，网络里是 MaxPooling2D。", "Average pooling was used; the network has MaxPooling2D."),
            Mistake("bias_missing", _forward_no_bias,
                    "没有加偏置：get_weights() 里的第 2 和第 4 个数组是偏置。",
                    "The biases are missing: arrays 2 and 4 of get_weights() are biases."),
            Mistake("flipped_kernel", _forward_flipped,
                    "卷积核被翻转了：Keras 的 Conv2D 是互相关，不翻转卷积核。",
                    "The kernel is flipped: Keras Conv2D is cross-correlation and does not flip it."),
        )),
    ),
)
