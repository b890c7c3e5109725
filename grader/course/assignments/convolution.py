"""01-convolution (卷积): cross-correlation, modes, depth, layers, convolution as a matrix product."""

from __future__ import annotations

import numpy as np

from ..reference import convolution as ref
from ..reference._common import pair
from ..spec import Assignment, Case, Group, Mistake, Question
from ._gen import case, sizes, values
from ._words import STRIDE_POSITIONS_EN, STRIDE_POSITIONS_ZH

COURSE_X = np.array([[2, 3, 8], [6, 1, 5], [7, 2, -1]], dtype=np.float64)
COURSE_K = np.array([[4, 1], [2, 3]], dtype=np.float64)


# -- the mistakes students make, written as variants of the reference ------------------------------
def _flipped(x, k, mode="valid"):
    return ref.conv2d(x, np.asarray(k)[::-1, ::-1], mode)


def _always_valid(x, k, mode="valid"):
    return ref.conv2d(x, k, "valid")


def _anchor_other_side(x, k, mode="valid"):
    """'same' with the anchor at (FH//2, FW//2): the extra padding of an even kernel on top/left."""
    if mode != "same":
        return ref.conv2d(x, k, mode)
    full = ref.conv2d(x, k, "full")
    (h, w), (fh, fw) = np.shape(x), np.shape(k)
    top, left = fh - 1 - fh // 2, fw - 1 - fw // 2
    return full[top:top + h, left:left + w]


def _no_depth_sum(x, k):
    return np.stack([ref.conv2d(x[:, :, c], k[:, :, c]) for c in range(np.shape(x)[2])], axis=-1)


def _first_channel_only(x, k):
    return ref.conv2d(x[:, :, 0], k[:, :, 0])


def _layer_flipped(x, kernels, bias, stride=1, padding="valid"):
    return ref.conv2d_layer(x, np.asarray(kernels)[::-1, ::-1], bias, stride, padding)


def _layer_no_stride(x, kernels, bias, stride=1, padding="valid"):
    return ref.conv2d_layer(x, kernels, bias, 1, padding)


def _layer_no_bias(x, kernels, bias, stride=1, padding="valid"):
    return ref.conv2d_layer(x, kernels, np.zeros_like(bias), stride, padding)


def _layer_bias_per_input_channel(x, kernels, bias, stride=1, padding="valid"):
    return ref.conv2d_layer(x, kernels, np.asarray(bias) * np.shape(x)[2], stride, padding)


def _layer_anchor_other_side(x, kernels, bias, stride=1, padding="valid"):
    """Keras' 'same' padding with its two sides swapped (the odd pixel of padding first)."""
    if padding != "same":
        return ref.conv2d_layer(x, kernels, bias, stride, padding)
    pads = [(after, before) for before, after in _same_pads(x, kernels, pair(stride, "stride"))]
    return ref.conv2d_layer(np.pad(x, (*pads, (0, 0))), kernels, bias, stride, "valid")


def _same_pads(x, kernels, strides):
    """TensorFlow's 'same' padding (before, after) of the two spatial axes: the odd pixel after."""
    pads = []
    for n, f, step in zip(np.shape(x)[:2], np.shape(kernels)[:2], strides):
        total = max((-(-n // step) - 1) * step + f - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def _pad_both_sides(half):
    """'same' padding of ``half(f)`` zeros on both sides of each axis: right for odd kernels, one row/column
    short ((F-1)//2) or long (F//2) for even ones."""
    def conv(x, k, mode="valid"):
        if mode != "same":
            return ref.conv2d(x, k, mode)
        (fh, fw) = np.shape(k)
        return ref.conv2d(np.pad(np.asarray(x, dtype=float), ((half(fh),) * 2, (half(fw),) * 2)), k, "valid")

    def layer(x, kernels, bias, stride=1, padding="valid"):
        if padding != "same":
            return ref.conv2d_layer(x, kernels, bias, stride, padding)
        fh, fw = np.shape(kernels)[:2]
        padded = np.pad(np.asarray(x, dtype=float), ((half(fh),) * 2, (half(fw),) * 2, (0, 0)))
        return ref.conv2d_layer(padded, kernels, bias, stride, "valid")
    return conv, layer


_conv_pad_short, _layer_pad_short = _pad_both_sides(lambda f: (f - 1) // 2)
_conv_pad_long, _layer_pad_long = _pad_both_sides(lambda f: f // 2)


def _no_depth_sum_channels_first(x, k):
    return np.moveaxis(_no_depth_sum(x, k), -1, 0)


def _layer_channels_first(x, kernels, bias, stride=1, padding="valid"):
    return np.moveaxis(ref.conv2d_layer(x, kernels, bias, stride, padding), -1, 0)


def _matmul_channels_first(x, kernels, bias, stride=1):
    return np.moveaxis(ref.conv2d_matmul(x, kernels, bias, stride), -1, 0)


def _stride_one_map(x, kernels, bias, stride, padding):
    """Every stride-1 window of the input padded as the reference pads it for ``stride`` (the student's
    padding is right, only the loop is wrong), and the stride as a pair."""
    s = pair(stride, "stride")
    x = np.asarray(x, dtype=float)
    if padding == "same":
        x = np.pad(x, (*_same_pads(x, kernels, s), (0, 0)))
    return ref.conv2d_layer(x, kernels, bias, 1, "valid"), s


def _layer_stride_positions_only(x, kernels, bias, stride=1, padding="valid"):
    """``for i in range(0, H - FH + 1, s): out[i, j] = ...`` into an unstrided ``out``: the strided windows
    land at their input positions and zeros fill the rest."""
    full, (sh, sw) = _stride_one_map(x, kernels, bias, stride, padding)
    kept = np.zeros_like(full)
    kept[::sh, ::sw] = full[::sh, ::sw]
    return kept


def _layer_stride_size_only(x, kernels, bias, stride=1, padding="valid"):
    """The output is strided in size, but its windows start at ``x[i:i+FH]``, not ``x[i*s:i*s+FH]``."""
    full, _ = _stride_one_map(x, kernels, bias, stride, padding)
    rows, cols = ref.conv2d_layer(x, kernels, bias, stride, padding).shape[:2]
    return full[:rows, :cols]


def _im2col_channels_first(x, fh, fw, stride=1):
    x3 = np.asarray(x, dtype=float)
    x3 = x3[:, :, None] if x3.ndim == 2 else x3
    cols = ref.im2col(x3, fh, fw, stride).reshape(-1, fh, fw, x3.shape[2])
    return cols.transpose(0, 3, 1, 2).reshape(len(cols), -1)


def _im2col_column_major(x, fh, fw, stride=1):
    x3 = np.asarray(x, dtype=float)
    h, w = x3.shape[:2]
    s = pair(stride, "stride")
    oh, ow = (h - fh) // s[0] + 1, (w - fw) // s[1] + 1
    cols = ref.im2col(x, fh, fw, stride)
    return cols.reshape(oh, ow, -1).transpose(1, 0, 2).reshape(oh * ow, -1)


def _matmul_no_bias(x, kernels, bias, stride=1):
    return ref.conv2d_matmul(x, kernels, np.zeros_like(bias), stride)


def _matmul_flipped(x, kernels, bias, stride=1):
    return ref.conv2d_matmul(x, np.asarray(kernels)[::-1, ::-1], bias, stride)


FLIPPED_ZH = "卷积核被翻转了：这是数学上的真卷积，而本课程（和 Keras）用的是互相关，卷积核不翻转。"
FLIPPED_EN = ("Your kernel is flipped: this is true convolution, but the course (like Keras Conv2D) "
              "uses cross-correlation, which does not flip the kernel.")


PAD_SHORT_ZH = ("same 填充两边都补了 (F-1)//2 个零：偶数尺寸的卷积核这样会少一行/列。总共要补 F-1 个零，"
                "上/左 (F-1)//2 个，多出的一个补在下/右（与 Keras 相同）。")
PAD_SHORT_EN = ("Your 'same' padding puts (F-1)//2 zeros on both sides, one row/column short for even kernels: "
                "pad F-1 zeros in all, (F-1)//2 at the top/left and the extra one at the bottom/right (as Keras does).")
PAD_LONG_ZH = ("same 填充两边都补了 F//2 个零：偶数尺寸的卷积核这样会多一行/列。总共要补 F-1 个零，"
               "上/左 (F-1)//2 个，下/右 F//2 个。")
PAD_LONG_EN = ("Your 'same' padding puts F//2 zeros on both sides, one row/column too many for even kernels: "
               "pad F-1 zeros in all, (F-1)//2 at the top/left and F//2 at the bottom/right.")
CHANNELS_FIRST_ZH = "输出是通道在前的 (N, H', W')（PyTorch 的习惯）：本课程和 Keras 是通道在后，输出 (H', W', N)。"
CHANNELS_FIRST_EN = ("Your output is channels-first, (N, H', W') (the PyTorch habit): the course, like Keras, is "
                     "channels-last, (H', W', N).")
STRIDE_SIZE_ZH = ("输出尺寸按步长算对了，但窗口没有按步长移动：第 i 个输出的窗口从 i*s 开始，"
                  "是 x[i*s:i*s+f]，不是 x[i:i+f]。")
STRIDE_SIZE_EN = ("Your output has the strided size but its windows do not move by the stride: output i's "
                  "window starts at i*s, x[i*s:i*s+f], not x[i:i+f].")


# -- the inputs ------------------------------------------------------------------------------------
def _course_example(rng: np.random.Generator) -> list[Case]:
    return [case(COURSE_X, COURSE_K, mode) for mode in ("full", "same", "valid")]


# Public examples (self-check, shown in full in reports): small, fixed, built on the course's x and k.
COURSE_X2 = np.stack([COURSE_X, COURSE_X[::-1]], axis=-1)  # 3×3×2
COURSE_K2 = np.stack([COURSE_K, -COURSE_K], axis=-1)  # 2×2×2


def _public_multi(rng: np.random.Generator) -> list[Case]:
    return [case(COURSE_X2, COURSE_K2)]


def _public_layer(rng: np.random.Generator) -> list[Case]:
    kernels = np.stack([COURSE_K2, COURSE_K2[::-1]], axis=-1)  # 2×2×2×2
    return [case(COURSE_X2, kernels, np.array([1.0, -1.0]), stride=s, padding=p)
            for s, p in ((1, "valid"), (1, "same"), (2, "same"))]


def _public_im2col(rng: np.random.Generator) -> list[Case]:
    return [case(COURSE_X, 2, 2), case(COURSE_X2, 2, 2, stride=1)]


def _public_matmul(rng: np.random.Generator) -> list[Case]:
    kernels = np.stack([COURSE_K2, COURSE_K2[::-1]], axis=-1)
    return [case(COURSE_X2, kernels, np.array([0.5, 0.0]))]


def _kernels_for(rng, h, w):
    """Kernel sizes covering 1×1, even, non-square and as large as the input."""
    return [(1, 1), (2, 2), (3, 3), (2, 3), (h, w), sizes(rng, 1, min(h, w))]


def _mode_cases(mode: str):
    def make(rng: np.random.Generator) -> list[Case]:
        cases = []
        for h, w in [(5, 5), (6, 4), sizes(rng, 3, 9), (1, 7)]:
            for fh, fw in _kernels_for(rng, h, w):
                if fh <= h and fw <= w:
                    cases.append(case(values(rng, h, w), values(rng, fh, fw), mode))
        return cases
    return make


def _multi_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for c in (1, 2, 3, 8):
        h, w = sizes(rng, 3, 8)
        fh, fw = sizes(rng, 1, min(h, w, 3))
        cases.append(case(values(rng, h, w, c), values(rng, fh, fw, c)))
    cases.append(case(values(rng, 4, 6, 2), values(rng, 4, 6, 2)))
    return cases


def _layer_cases(padding: str, strides: tuple[object, ...]):
    def make(rng: np.random.Generator) -> list[Case]:
        cases = []
        for stride in strides:
            for c, n in ((1, 1), (3, 2), (2, 5)):
                h, w = sizes(rng, 4, 9)
                fh, fw = sizes(rng, 1, 4)
                cases.append(case(values(rng, h, w, c), values(rng, fh, fw, c, n), values(rng, n),
                                  stride=stride, padding=padding))
        return cases
    return make


def _many_channels(rng: np.random.Generator) -> list[Case]:
    return [case(values(rng, 6, 5, 16), values(rng, 3, 2, 16, 8), values(rng, 8), stride=2, padding="same"),
            case(values(rng, 5, 5, 3), values(rng, 5, 5, 3, 4), values(rng, 4), stride=1, padding="valid")]


def _im2col_cases(rng: np.random.Generator) -> list[Case]:
    return [case(values(rng, 4, 5), 2, 3), case(values(rng, 5, 4, 3), 2, 2),
            case(values(rng, 7, 6, 2), 3, 2, stride=2), case(values(rng, 6, 6, 1), 1, 1, stride=3),
            case(values(rng, 3, 3), 3, 3)]


def _matmul_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for stride in (1, 2, 3):
        h, w = sizes(rng, 4, 8)
        c, n = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        fh, fw = sizes(rng, 1, 3)
        cases.append(case(values(rng, h, w, c), values(rng, fh, fw, c, n), values(rng, n), stride=stride))
    return cases


ASSIGNMENT = Assignment(
    id="01-convolution",
    aliases=("卷积",),
    preload=("numpy", "matplotlib.pyplot"),
    questions=(
        Question(
            "conv2d",
            ref.conv2d,
            (
                Group("course example", _course_example, public=True, zh="课程示例"),
                Group("valid mode", _mode_cases("valid"), zh="valid 模式"),
                Group("same mode, even kernels", _mode_cases("same"), zh="偶数卷积核的 same 模式"),
                Group("full mode", _mode_cases("full"), zh="full 模式"),
            ),
            (
                Mistake("flipped_kernel", _flipped, FLIPPED_ZH, FLIPPED_EN),
                Mistake("wrong_mode", _always_valid,
                        "不论 mode 是什么都返回了 valid 卷积的结果：full 和 same 需要先在四周补零。",
                        "You return the 'valid' result whatever `mode` is: 'full' and 'same' pad the "
                        "input with zeros first."),
                Mistake("even_anchor_wrong_side", _anchor_other_side,
                        "偶数尺寸卷积核的锚点放反了：same 模式下锚点是 ((FH-2)/2, (FW-2)/2)，多出来的一行/列补在下方和右侧。",
                        "For even kernels your 'same' anchor is on the wrong side: it is ((FH-2)/2, (FW-2)/2), "
                        "so the extra row/column of padding goes at the bottom/right (as in Keras)."),
                Mistake("same_padding_short", _conv_pad_short, PAD_SHORT_ZH, PAD_SHORT_EN),
                Mistake("same_padding_long", _conv_pad_long, PAD_LONG_ZH, PAD_LONG_EN),
            ),
        ),
        Question(
            "conv2d_multi",
            ref.conv2d_multi,
            (Group("course example", _public_multi, public=True, zh="课程示例"),
             Group("depth", _multi_cases, zh="多深度（多通道）")),
            (
                Mistake("missing_depth_sum", _no_depth_sum,
                        "忘了沿深度方向求和：每个通道分别卷积之后，要把所有通道的结果加起来，输出是二维的。",
                        "You forgot the sum over depth: after correlating each channel, add the channels "
                        "up; the output is 2-D."),
                Mistake("first_channel_only", _first_channel_only,
                        "只用了第一个通道：多深度卷积要用到全部 C 个通道。",
                        "Only the first channel is used: a multi-depth convolution uses all C channels."),
                Mistake("missing_depth_sum_channels_first", _no_depth_sum_channels_first,
                        "忘了沿深度方向求和，而且每个通道的结果按通道在前 (C, H', W') 叠在了一起：把所有通道的结果加起来，输出是二维的 (H', W')。",
                        "You forgot the sum over depth (and stacked the channels' results channels-first, "
                        "(C, H', W')): add the channels up; the output is 2-D, (H', W')."),
            ),
        ),
        Question(
            "conv2d_layer",
            ref.conv2d_layer,
            (
                Group("course example", _public_layer, public=True, zh="课程示例"),
                Group("valid, stride 1", _layer_cases("valid", (1,)), zh="valid，步长 1"),
                Group("same, stride 1", _layer_cases("same", (1,)), zh="same，步长 1"),
                Group("strides (incl. stride > kernel)", _layer_cases("valid", (2, (1, 3), 5)), zh="步长（含步长大于卷积核）"),
                Group("same with strides", _layer_cases("same", (2, (3, 2))), zh="带步长的 same"),
                Group("many channels", _many_channels, zh="很多通道"),
            ),
            (
                Mistake("flipped_kernel", _layer_flipped, FLIPPED_ZH, FLIPPED_EN),
                Mistake("stride_ignored", _layer_no_stride,
                        "忽略了步长 stride：窗口每次应移动 stride 个像素，输出尺寸是 floor((n-f)/s)+1。",
                        "The stride is ignored: the window moves `stride` pixels at a time, so the output "
                        "has floor((n-f)/s)+1 positions."),
                Mistake("bias_missing", _layer_no_bias,
                        "没有加偏置 bias：每个滤波器的输出都要加上它自己的偏置。",
                        "The bias is missing: every filter's output gets its own bias added."),
                Mistake("bias_per_input_channel", _layer_bias_per_input_channel,
                        "偏置加了太多次：偏置只在深度求和之后加一次，而不是每个输入通道加一次。",
                        "The bias is added once per input channel: add it once, after the sum over depth."),
                Mistake("even_anchor_wrong_side", _layer_anchor_other_side,
                        "same 填充放反了：偶数卷积核时多出的那一行/列零要补在下方和右侧（与 Keras 相同）。",
                        "Your 'same' padding is on the wrong side: for even kernels the extra row/column "
                        "of zeros goes at the bottom/right, as in Keras."),
                Mistake("same_padding_short", _layer_pad_short, PAD_SHORT_ZH, PAD_SHORT_EN),
                Mistake("same_padding_long", _layer_pad_long, PAD_LONG_ZH, PAD_LONG_EN),
                Mistake("channels_first_output", _layer_channels_first, CHANNELS_FIRST_ZH, CHANNELS_FIRST_EN),
                Mistake("stride_in_positions_only", _layer_stride_positions_only, STRIDE_POSITIONS_ZH,
                        STRIDE_POSITIONS_EN),
                Mistake("stride_in_size_only", _layer_stride_size_only, STRIDE_SIZE_ZH, STRIDE_SIZE_EN),
            ),
        ),
        Question(
            "im2col",
            ref.im2col,
            (Group("course example", _public_im2col, public=True, zh="课程示例"),
             Group("patch matrix", _im2col_cases, zh="补丁矩阵")),
            (
                Mistake("channels_first_patches", _im2col_channels_first,
                        "每个窗口展开的顺序不对：应按 (fh, fw, C) 的顺序展开（通道在最内层）。",
                        "Each patch is flattened in the wrong order: use (fh, fw, C), channels innermost."),
                Mistake("column_major_positions", _im2col_column_major,
                        "行的顺序不对：输出位置应按先行后列（row-major）的顺序排列。",
                        "The rows are in the wrong order: output positions go row by row (row-major)."),
            ),
        ),
        Question(
            "conv2d_matmul",
            ref.conv2d_matmul,
            (Group("course example", _public_matmul, public=True, zh="课程示例"),
             Group("as a matrix product", _matmul_cases, zh="写成矩阵乘法")),
            (
                Mistake("bias_missing", _matmul_no_bias,
                        "没有加偏置 bias。", "The bias is missing."),
                Mistake("flipped_kernel", _matmul_flipped, FLIPPED_ZH, FLIPPED_EN),
                Mistake("channels_first_output", _matmul_channels_first, CHANNELS_FIRST_ZH, CHANNELS_FIRST_EN),
            ),
        ),
    ),
)
