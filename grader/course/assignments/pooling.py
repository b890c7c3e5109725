"""02-pooling (池化): max, average, overlapping and spatial pyramid pooling, and the max-pool gradient."""

from __future__ import annotations

import numpy as np

from ..reference import pooling as ref
from ..reference._common import pair
from ..spec import Assignment, Case, Group, Mistake, Question
from ._gen import case, small_ints, values
from ._words import STRIDE_POSITIONS_EN, STRIDE_POSITIONS_ZH

COURSE_X = np.array([[1, 5, 9, 1], [2, -1, 8, 7], [4, 3, 5, 1], [2, 3, 8, -2]], dtype=np.float64)


def _ceil_pool(reduce):
    """Pooling that keeps the last, partial window (ceil instead of floor in the output size)."""
    def pool(x, size, stride=None):
        x = np.asarray(x, dtype=float)
        (fh, fw) = pair(size, "size")
        sh, sw = pair(size if stride is None else stride, "stride")
        h, w = x.shape[:2]
        oh, ow = -(-(h - fh) // sh) + 1, -(-(w - fw) // sw) + 1
        oh, ow = oh - ((oh - 1) * sh >= h), ow - ((ow - 1) * sw >= w)  # no window may start past the end
        fill = -np.inf if reduce is np.max else np.nan
        pad = ((0, (oh - 1) * sh + fh - h), (0, (ow - 1) * sw + fw - w)) + ((0, 0),) * (x.ndim - 2)
        padded = np.pad(x, pad, constant_values=fill)
        out = [[(np.nanmean if reduce is np.mean else np.max)(padded[i * sh:i * sh + fh, j * sw:j * sw + fw],
                                                              axis=(0, 1)) for j in range(ow)] for i in range(oh)]
        return np.array(out)
    return pool


def _max_with_stride_one(x, size, stride=None):
    return ref.max_pool2d(x, size, 1)


def _avg_with_stride_one(x, size, stride=None):
    return ref.avg_pool2d(x, size, 1)


def _stride_one(reduce, x, size, stride):
    """The stride-1 pooling of ``x`` and the stride the reference uses, as a pair."""
    return reduce(x, size, 1), pair(size if stride is None else stride, "stride")


def _positions_only(reduce):
    """The stride moves the windows, the output keeps its stride-1 size: ``out[i, j]`` for the window at
    input position (i, j), zeros between."""
    def pool(x, size, stride=None):
        full, (sh, sw) = _stride_one(reduce, x, size, stride)
        kept = np.zeros_like(full)
        kept[::sh, ::sw] = full[::sh, ::sw]
        return kept
    return pool


def _size_only(reduce):
    """The output has the strided size, but window i starts at row i, not i*s."""
    def pool(x, size, stride=None):
        full, _ = _stride_one(reduce, x, size, stride)
        rows, cols = reduce(x, size, stride).shape[:2]
        return full[:rows, :cols]
    return pool


def _channels_first(reduce):
    """A channels-first (C, H', W') result for an (H, W, C) input."""
    def pool(x, size, stride=None):
        out = reduce(x, size, stride)
        return np.moveaxis(out, -1, 0) if out.ndim == 3 else out
    return pool


def _backward_loop(route):
    """A loop-style max-pool backward whose per-window step ``route`` carries the mistake."""
    def backward(dout, x, size, stride=None):
        x, dout = np.asarray(x, dtype=float), np.asarray(dout, dtype=float)
        (fh, fw), (sh, sw) = pair(size, "size"), pair(size if stride is None else stride, "stride")
        grad = np.zeros_like(x)
        for i in range(dout.shape[0]):
            for j in range(dout.shape[1]):
                route(grad[i * sh:i * sh + fh, j * sw:j * sw + fw], x[i * sh:i * sh + fh, j * sw:j * sw + fw],
                      dout[i, j])
        return grad
    return backward


def _to_every_position(grad_window, window, upstream):
    """Every position of the window gets the upstream gradient, not just the maximum."""
    grad_window += upstream


def _assign_to_maximum(grad_window, window, upstream):
    """The maximum's gradient is assigned, so overlapping windows overwrite each other."""
    for c in np.ndindex(window.shape[2:]):
        a, b = np.unravel_index(np.argmax(window[(..., *c)]), window.shape[:2])
        grad_window[(a, b, *c)] = upstream[c] if np.ndim(upstream) else upstream


def _to_every_tie(grad_window, window, upstream):
    """``mask = window == window.max()``: every tied maximum gets the whole upstream gradient."""
    grad_window += (window == window.max(axis=(0, 1))) * upstream


_backward_everywhere = _backward_loop(_to_every_position)
_backward_every_tie = _backward_loop(_to_every_tie)
_backward_overwrite = _backward_loop(_assign_to_maximum)


def _backward_last_max(dout, x, size, stride=None):
    """Ties go to the last maximum instead of the first."""
    x = np.asarray(x, dtype=float)
    flipped = ref.max_pool2d_backward(np.asarray(dout)[::-1, ::-1], x[::-1, ::-1], size, stride)
    return flipped[::-1, ::-1] if _fits_flip(x, size, stride) else flipped


def _fits_flip(x, size, stride):
    (fh, fw), (sh, sw) = pair(size, "size"), pair(size if stride is None else stride, "stride")
    h, w = np.shape(x)[:2]
    return (h - fh) % sh == 0 and (w - fw) % sw == 0


def _spp_avg(x, levels=(1, 2, 4)):
    return _spp(x, levels, np.mean)


def _spp_channels_first(x, levels=(1, 2, 4)):
    x = np.asarray(x, dtype=float)
    c = x.shape[2]
    parts, start = [], 0
    full = ref.spatial_pyramid_pool(x, levels)
    for level in levels:
        n = level * level * c
        parts.append(full[start:start + n].reshape(level, level, c).transpose(2, 0, 1).ravel())
        start += n
    return np.concatenate(parts)


def _spp_floor_edges(x, levels=(1, 2, 4)):
    return _spp(x, levels, np.max, ceil_end=False)


def _spp(x, levels, reduce, ceil_end=True):
    x = np.asarray(x, dtype=float)
    h, w, _ = x.shape
    out = []
    for level in levels:
        for i in range(level):
            for j in range(level):
                r1 = -(-(i + 1) * h // level) if ceil_end else max((i + 1) * h // level, i * h // level + 1)
                c1 = -(-(j + 1) * w // level) if ceil_end else max((j + 1) * w // level, j * w // level + 1)
                out.append(reduce(x[i * h // level:r1, j * w // level:c1], axis=(0, 1)))
    return np.concatenate(out)


STRIDE_SIZE_ZH = ("输出尺寸按步长算对了，但窗口没有按步长移动：第 i 个输出的窗口从 i*s 开始，"
                  "是 x[i*s:i*s+f]，不是 x[i:i+f]（stride 为 None 时 s 等于窗口大小）。")
STRIDE_SIZE_EN = ("Your output has the strided size but its windows do not move by the stride: output i's "
                  "window starts at i*s, x[i*s:i*s+f], not x[i:i+f] (with stride=None, s is the window size).")
CHANNELS_FIRST_ZH = "输出是通道在前的 (C, H', W')（PyTorch 的习惯）：本课程和 Keras 是通道在后，输出 (H', W', C)。"
CHANNELS_FIRST_EN = ("Your output is channels-first, (C, H', W') (the PyTorch habit): the course, like Keras, is "
                     "channels-last, (H', W', C).")


def _channels_first_input(reduce):
    """An (H, W, C) input read as (C, H, W): each row of the image is pooled as a (W, C) channel."""
    def pool(x, size, stride=None):
        x = np.asarray(x, dtype=float)
        if x.ndim != 3:
            return reduce(x, size, stride)
        return np.moveaxis(reduce(np.moveaxis(x, 0, -1), size, stride), -1, 0)
    return pool


def _stride_mistakes(reduce):
    """The stride and layout mistakes every pooling question shares."""
    return (
        Mistake("stride_in_positions_only", _positions_only(reduce), STRIDE_POSITIONS_ZH, STRIDE_POSITIONS_EN),
        Mistake("stride_in_size_only", _size_only(reduce), STRIDE_SIZE_ZH, STRIDE_SIZE_EN),
        Mistake("channels_first_output", _channels_first(reduce), CHANNELS_FIRST_ZH, CHANNELS_FIRST_EN),
        Mistake("channels_first_input", _channels_first_input(reduce),
                "输入被当成了通道在前的 (C, H, W)（PyTorch 的习惯）：本课程的 x 是 (H, W, C)，"
                "池化作用在前两个轴上，每个通道 x[:, :, c] 分别池化。",
                "Your code reads x as channels-first, (C, H, W) (the PyTorch habit): the course's x is "
                "(H, W, C), so pooling runs over the first two axes, each channel x[:, :, c] on its own."),
    )


MAX_MISTAKES = (
    Mistake("average_instead_of_max", ref.avg_pool2d,
            "这是平均池化：最大池化取每个窗口里的最大值。",
            "This is average pooling: max pooling takes the largest value of each window."),
    Mistake("stride_ignored", _max_with_stride_one,
            "忽略了步长：stride 为 None 时步长等于窗口大小（Keras 默认），窗口每次移动 stride 个像素。",
            "The stride is ignored: with stride=None it equals the window size (the Keras default)."),
    Mistake("ceil_instead_of_floor", _ceil_pool(np.max),
            "保留了不完整的最后一个窗口：valid 池化的输出尺寸是 floor((n-f)/s)+1，不是向上取整。",
            "You keep the last partial window: valid pooling has floor((n-f)/s)+1 outputs, not ceil."),
    *_stride_mistakes(ref.max_pool2d),
)


def _pool_cases(rng: np.random.Generator) -> list[Case]:
    cases = [case(values(rng, 4, 4), 2), case(values(rng, 6, 9), 3), case(values(rng, 7, 5), (2, 3)),
             case(values(rng, 5, 5), 2), case(values(rng, 6, 4, 3), 2), case(values(rng, 8, 8, 1), (4, 2))]
    return cases


def _overlap_cases(rng: np.random.Generator) -> list[Case]:
    return [case(values(rng, 7, 7), 3, 2), case(values(rng, 6, 9, 2), (3, 2), 1),
            case(values(rng, 9, 6), 3, (2, 1)), case(values(rng, 5, 8, 4), 2, 1)]


def _large_stride_cases(rng: np.random.Generator) -> list[Case]:
    return [case(values(rng, 9, 9), 2, 3), case(values(rng, 7, 10, 2), (1, 2), (3, 4)),
            case(values(rng, 4, 4), 4), case(values(rng, 5, 3), 1, 2)]


def _course_pool(rng: np.random.Generator) -> list[Case]:
    return [case(COURSE_X, 2, 1), case(COURSE_X, 2, 2), case(COURSE_X, 2)]


def _backward_cases(overlap: bool, ties: bool):
    def make(rng: np.random.Generator) -> list[Case]:
        fill = small_ints if ties else values
        shapes = [((6, 6), 2, None), ((5, 7, 2), (2, 3), None), ((8, 8), 2, 2)]
        if overlap:
            shapes = [((7, 7), 3, 2), ((6, 8, 3), (3, 2), 1), ((5, 5), 2, 1)]
        cases = []
        for shape, size, stride in shapes:
            x = fill(rng, *shape)
            out = ref.max_pool2d(x, size, stride)
            cases.append(case(values(rng, *out.shape), x, size, stride))
        return cases
    return make


def _public_backward(rng: np.random.Generator) -> list[Case]:
    dout = np.arange(1.0, 10.0).reshape(3, 3)
    return [case(dout, COURSE_X, 2, 1), case(dout[:2, :2], COURSE_X, 2)]


def _public_spp(rng: np.random.Generator) -> list[Case]:
    return [case(np.stack([COURSE_X, -COURSE_X], axis=-1), (1, 2))]


def _spp_cases(rng: np.random.Generator) -> list[Case]:
    return [case(values(rng, 8, 8, 2)), case(values(rng, 13, 7, 3)), case(values(rng, 5, 9, 1), (1, 2, 3)),
            case(values(rng, 4, 4, 16), (1, 2, 4)), case(values(rng, 11, 6, 2), (3,))]


ASSIGNMENT = Assignment(
    id="02-pooling",
    aliases=("池化",),
    preload=("numpy", "matplotlib.pyplot"),
    questions=(
        Question(
            "max_pool2d",
            ref.max_pool2d,
            (
                Group("course example", _course_pool, public=True, zh="课程示例"),
                Group("windows and channels", _pool_cases, zh="窗口与通道"),
                Group("overlapping windows", _overlap_cases, zh="重叠窗口"),
                Group("stride larger than window", _large_stride_cases, zh="步长大于窗口"),
            ),
            MAX_MISTAKES,
        ),
        Question(
            "avg_pool2d",
            ref.avg_pool2d,
            (Group("course example", _course_pool, public=True, zh="课程示例"),
             Group("windows and channels", _pool_cases, zh="窗口与通道"),
             Group("overlapping windows", _overlap_cases, zh="重叠窗口"),
             Group("stride larger than window", _large_stride_cases, zh="步长大于窗口")),
            (
                Mistake("max_instead_of_average", ref.max_pool2d,
                        "这是最大池化：平均池化取每个窗口的平均值。",
                        "This is max pooling: average pooling takes the mean of each window."),
                Mistake("stride_ignored", _avg_with_stride_one, MAX_MISTAKES[1].zh, MAX_MISTAKES[1].en),
                *_stride_mistakes(ref.avg_pool2d),
            ),
        ),
        Question(
            "max_pool2d_backward",
            ref.max_pool2d_backward,
            (
                Group("course example", _public_backward, public=True, zh="课程示例"),
                Group("non-overlapping windows", _backward_cases(False, False), zh="不重叠的窗口"),
                Group("overlapping windows", _backward_cases(True, False), zh="重叠窗口"),
                Group("ties go to the first maximum", _backward_cases(True, True), zh="并列时归第一个最大值"),
            ),
            (
                Mistake("gradient_to_every_position", _backward_everywhere,
                        "梯度被传给了窗口里的每一个位置：最大池化的梯度只流向窗口中最大值所在的位置。",
                        "The gradient goes to every position of the window: in max pooling it flows only "
                        "to the position of the window's maximum."),
                Mistake("overlap_overwritten", _backward_overwrite,
                        "重叠窗口的梯度被覆盖了：同一个位置是多个窗口的最大值时，梯度要累加（+=）。",
                        "Overlapping windows overwrite each other: when one position is the maximum of "
                        "several windows, their gradients add up (+=)."),
                Mistake("last_maximum_on_ties", _backward_last_max,
                        "并列最大值时选了最后一个：约定是按行优先顺序的第一个最大值（与 argmax 相同）。",
                        "On ties you pick the last maximum: the rule is the first one in row-major order "
                        "(as argmax does)."),
                Mistake("gradient_to_every_tie", _backward_every_tie,
                        "并列最大值时梯度给了每一个最大值（mask = window == window.max()）：梯度只给一个位置，"
                        "即按行优先顺序的第一个最大值（np.argmax 给出的那个）。",
                        "On ties the gradient goes to every tied maximum (mask = window == window.max()): it "
                        "goes to one position only, the first maximum in row-major order (the one np.argmax "
                        "gives)."),
            ),
        ),
        Question(
            "spatial_pyramid_pool",
            ref.spatial_pyramid_pool,
            (Group("course example", _public_spp, public=True, zh="课程示例"),
             Group("pyramid levels", _spp_cases, zh="金字塔各层")),
            (
                Mistake("average_instead_of_max", _spp_avg,
                        "金字塔的每个格子应取最大值，而不是平均值。",
                        "Each bin of the pyramid takes the maximum, not the mean."),
                Mistake("channels_first_order", _spp_channels_first,
                        "拼接顺序不对：每一层按 (l, l, C) 展开，通道在最内层。",
                        "The concatenation order is wrong: each level is an (l, l, C) array flattened "
                        "with channels innermost."),
                Mistake("bin_edges_floor", _spp_floor_edges,
                        "格子的边界不对：第 i 个格子从 floor(i*H/l) 到 ceil((i+1)*H/l)，结束处向上取整。",
                        "The bin edges are wrong: bin i runs from floor(i*H/l) to ceil((i+1)*H/l); the end "
                        "rounds up."),
            ),
        ),
    ),
)
