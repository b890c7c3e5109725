"""Student-style code of the NumPy assignments: loops, plain lists, ``np.zeros`` and index arithmetic, the
way the course's students write it (not the reference's vectorised form), correct, and with each
mistake the grader names made the way students make it (``window == window.max()``, ``(F - 1) // 2``
on both sides, ``np.zeros((N, oh, ow))``…).

``CORRECT[assignment]`` is one notebook cell per question; ``MISTAKES`` lists
``(assignment, question, mistake id, old, new)``: that question's cell with ``old`` replaced by ``new``.
"""

from __future__ import annotations

CONV2D = '''
import numpy as np

def conv2d(x, k, mode="valid"):
    x = np.array(x, dtype=float)
    k = np.array(k, dtype=float)
    fh, fw = k.shape
    if mode == "full":
        x = np.pad(x, ((fh - 1, fh - 1), (fw - 1, fw - 1)))
    elif mode == "same":
        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))
    h, w = x.shape
    out = np.zeros((h - fh + 1, w - fw + 1))
    for i in range(h - fh + 1):
        for j in range(w - fw + 1):
            out[i, j] = np.sum(x[i:i + fh, j:j + fw] * k)
    return out
'''

CONV2D_MULTI = '''
def conv2d_multi(x, k):
    x = np.array(x, dtype=float)
    k = np.array(k, dtype=float)
    H, W, C = x.shape
    fh, fw, _ = k.shape
    out = np.zeros((H - fh + 1, W - fw + 1))
    for c in range(C):
        out += conv2d(x[:, :, c], k[:, :, c])
    return out
'''

CONV2D_LAYER = '''
def conv2d_layer(x, kernels, bias, stride=1, padding="valid"):
    x = np.array(x, dtype=float)
    kernels = np.array(kernels, dtype=float)
    fh, fw, C, N = kernels.shape
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    H, W = x.shape[:2]
    if padding == "same":
        ph = max((-(-H // sh) - 1) * sh + fh - H, 0)
        pw = max((-(-W // sw) - 1) * sw + fw - W, 0)
        x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    H, W = x.shape[:2]
    oh = (H - fh) // sh + 1
    ow = (W - fw) // sw + 1
    out = np.zeros((oh, ow, N))
    for n in range(N):
        for i in range(oh):
            for j in range(ow):
                window = x[i * sh:i * sh + fh, j * sw:j * sw + fw, :]
                out[i, j, n] = np.sum(window * kernels[:, :, :, n]) + bias[n]
    return out
'''

IM2COL = '''
def im2col(x, fh, fw, stride=1):
    x = np.array(x, dtype=float)
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    H, W, C = x.shape
    rows = []
    for i in range(0, H - fh + 1, sh):
        for j in range(0, W - fw + 1, sw):
            rows.append(x[i:i + fh, j:j + fw, :].reshape(-1))
    return np.array(rows)
'''

CONV2D_MATMUL = '''
def conv2d_matmul(x, kernels, bias, stride=1):
    x = np.array(x, dtype=float)
    kernels = np.array(kernels, dtype=float)
    fh, fw, C, N = kernels.shape
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    oh = (x.shape[0] - fh) // sh + 1
    ow = (x.shape[1] - fw) // sw + 1
    out = im2col(x, fh, fw, stride) @ kernels.reshape(-1, N) + bias
    return out.reshape(oh, ow, N)
'''


def _pool(name: str, reduce: str) -> str:
    return f'''
{"import numpy as np" if name == "max_pool2d" else ""}

def {name}(x, size, stride=None):
    x = np.array(x, dtype=float)
    fh, fw = (size, size) if isinstance(size, int) else size
    if stride is None:
        stride = (fh, fw)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    H, W = x.shape[:2]
    oh, ow = (H - fh) // sh + 1, (W - fw) // sw + 1
    out = np.zeros((oh, ow) + x.shape[2:])
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.{reduce}(x[i * sh:i * sh + fh, j * sw:j * sw + fw], axis=(0, 1))
    return out
'''


BACKWARD = '''
def max_pool2d_backward(dout, x, size, stride=None):
    x = np.array(x, dtype=float)
    dout = np.array(dout, dtype=float)
    fh, fw = (size, size) if isinstance(size, int) else size
    if stride is None:
        stride = (fh, fw)
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dx = np.zeros_like(x)
    x3 = x if x.ndim == 3 else x[:, :, None]
    d3 = dout if dout.ndim == 3 else dout[:, :, None]
    dx3 = dx if dx.ndim == 3 else dx[:, :, None]
    for c in range(x3.shape[2]):
        for i in range(d3.shape[0]):
            for j in range(d3.shape[1]):
                window = x3[i * sh:i * sh + fh, j * sw:j * sw + fw, c]
                a, b = np.unravel_index(np.argmax(window), window.shape)
                dx3[i * sh + a, j * sw + b, c] += d3[i, j, c]
    return dx
'''

CONV_OUTPUT_SIZE = '''
import math

def conv_output_size(n, f, padding="valid", stride=1):
    if padding == "same":
        return math.ceil(n / stride)
    return (n - f) // stride + 1
'''

OUTPUT_SIZE = '''
def output_size(n, f, p, s, rounding="floor"):
    if rounding == "ceil":
        return math.ceil((n + 2 * p - f) / s) + 1
    return (n + 2 * p - f) // s + 1
'''

LAYER_TABLE = '''
def layer_table(input_shape, layers):
    def two(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    shape = tuple(input_shape)
    table = []
    for layer in layers:
        kind = layer[0]
        if kind == "conv2d":
            _, filters, size, padding, stride = layer
            (fh, fw), (sh, sw) = two(size), two(stride)
            h, w, c = shape
            if padding == "same":
                shape = (math.ceil(h / sh), math.ceil(w / sw), filters)
            else:
                shape = ((h - fh) // sh + 1, (w - fw) // sw + 1, filters)
            params = (fh * fw * c + 1) * filters
        elif kind in ("maxpool", "avgpool"):
            ph, pw = two(layer[1])
            sh, sw = two(layer[2]) if len(layer) > 2 and layer[2] is not None else (ph, pw)
            h, w, c = shape
            shape = ((h - ph) // sh + 1, (w - pw) // sw + 1, c)
            params = 0
        elif kind == "flatten":
            shape = (math.prod(shape),)
            params = 0
        else:
            units = layer[1]
            params = (shape[-1] + 1) * units
            shape = shape[:-1] + (units,)
        table.append((shape, params))
    return table
'''

CORRECT = {
    "01-convolution": {"conv2d": CONV2D, "conv2d_multi": CONV2D_MULTI, "conv2d_layer": CONV2D_LAYER,
                       "im2col": IM2COL, "conv2d_matmul": CONV2D_MATMUL},
    "02-pooling": {"max_pool2d": _pool("max_pool2d", "max"), "avg_pool2d": _pool("avg_pool2d", "mean"),
                   "max_pool2d_backward": BACKWARD},
    "03-parameter-counting": {"conv_output_size": CONV_OUTPUT_SIZE, "output_size": OUTPUT_SIZE,
                              "layer_table": LAYER_TABLE},
}

_SAME_PAD = "        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))"
_LAYER_PAD = "        x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))"
_LAYER_LOOP = '''    oh = (H - fh) // sh + 1
    ow = (W - fw) // sw + 1
    out = np.zeros((oh, ow, N))
    for n in range(N):
        for i in range(oh):
            for j in range(ow):
                window = x[i * sh:i * sh + fh, j * sw:j * sw + fw, :]
                out[i, j, n] = np.sum(window * kernels[:, :, :, n]) + bias[n]'''
_POOL_LOOP = '''    oh, ow = (H - fh) // sh + 1, (W - fw) // sw + 1
    out = np.zeros((oh, ow) + x.shape[2:])
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.{r}(x[i * sh:i * sh + fh, j * sw:j * sw + fw], axis=(0, 1))'''


def _pool_mistakes(question: str, reduce: str) -> list[tuple[str, str, str, str, str]]:
    loop = _POOL_LOOP.format(r=reduce)
    return [
        ("02-pooling", question, "stride_in_positions_only", loop,
         f'''    out = np.zeros((H - fh + 1, W - fw + 1) + x.shape[2:])
    for i in range(0, H - fh + 1, sh):
        for j in range(0, W - fw + 1, sw):
            out[i, j] = np.{reduce}(x[i:i + fh, j:j + fw], axis=(0, 1))'''),
        ("02-pooling", question, "stride_in_size_only", "x[i * sh:i * sh + fh, j * sw:j * sw + fw]",
         "x[i:i + fh, j:j + fw]"),
        ("02-pooling", question, "channels_first_output", loop,
         f'''    oh, ow = (H - fh) // sh + 1, (W - fw) // sw + 1
    if x.ndim == 3:
        out = np.zeros((x.shape[2], oh, ow))
        for c in range(x.shape[2]):
            for i in range(oh):
                for j in range(ow):
                    out[c, i, j] = np.{reduce}(x[i * sh:i * sh + fh, j * sw:j * sw + fw, c])
        return out
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.{reduce}(x[i * sh:i * sh + fh, j * sw:j * sw + fw])'''),
        ("02-pooling", question, "channels_first_input", "    H, W = x.shape[:2]\n" + loop,
         f'''    if x.ndim == 3:
        C, H, W = x.shape
        oh, ow = (H - fh) // sh + 1, (W - fw) // sw + 1
        out = np.zeros((C, oh, ow))
        for c in range(C):
            for i in range(oh):
                for j in range(ow):
                    out[c, i, j] = np.{reduce}(x[c, i * sh:i * sh + fh, j * sw:j * sw + fw])
        return out
    H, W = x.shape
''' + loop),
    ]


MISTAKES: list[tuple[str, str, str, str, str]] = [
    ("01-convolution", "conv2d", "same_padding_short", _SAME_PAD,
     "        x = np.pad(x, (((fh - 1) // 2, (fh - 1) // 2), ((fw - 1) // 2, (fw - 1) // 2)))"),
    ("01-convolution", "conv2d", "same_padding_long", _SAME_PAD,
     "        x = np.pad(x, ((fh // 2, fh // 2), (fw // 2, fw // 2)))"),
    ("01-convolution", "conv2d_multi", "missing_depth_sum_channels_first",
     '''    out = np.zeros((H - fh + 1, W - fw + 1))
    for c in range(C):
        out += conv2d(x[:, :, c], k[:, :, c])
    return out''',
     "    return np.array([conv2d(x[:, :, c], k[:, :, c]) for c in range(C)])"),
    ("01-convolution", "conv2d_layer", "same_padding_short",
     "    if padding == \"same\":\n        ph = max((-(-H // sh) - 1) * sh + fh - H, 0)\n"
     "        pw = max((-(-W // sw) - 1) * sw + fw - W, 0)\n" + _LAYER_PAD,
     "    if padding == \"same\":\n"
     "        x = np.pad(x, (((fh - 1) // 2, (fh - 1) // 2), ((fw - 1) // 2, (fw - 1) // 2), (0, 0)))"),
    ("01-convolution", "conv2d_layer", "same_padding_long",
     "    if padding == \"same\":\n        ph = max((-(-H // sh) - 1) * sh + fh - H, 0)\n"
     "        pw = max((-(-W // sw) - 1) * sw + fw - W, 0)\n" + _LAYER_PAD,
     "    if padding == \"same\":\n        p, q = fh // 2, fw // 2\n        x = np.pad(x, ((p, p), (q, q), (0, 0)))"),
    ("01-convolution", "conv2d_layer", "channels_first_output", _LAYER_LOOP,
     _LAYER_LOOP.replace("np.zeros((oh, ow, N))", "np.zeros((N, oh, ow))").replace("out[i, j, n]", "out[n, i, j]")),
    ("01-convolution", "conv2d_layer", "stride_in_positions_only", _LAYER_LOOP,
     '''    out = np.zeros((H - fh + 1, W - fw + 1, N))
    for n in range(N):
        for i in range(0, H - fh + 1, sh):
            for j in range(0, W - fw + 1, sw):
                out[i, j, n] = np.sum(x[i:i + fh, j:j + fw, :] * kernels[:, :, :, n]) + bias[n]'''),
    ("01-convolution", "conv2d_layer", "stride_in_size_only", "x[i * sh:i * sh + fh, j * sw:j * sw + fw, :]",
     "x[i:i + fh, j:j + fw, :]"),
    ("01-convolution", "conv2d_matmul", "channels_first_output", "    return out.reshape(oh, ow, N)",
     "    return out.T.reshape(N, oh, ow)"),
    *_pool_mistakes("max_pool2d", "max"),
    *_pool_mistakes("avg_pool2d", "mean"),
    ("02-pooling", "max_pool2d_backward", "gradient_to_every_tie",
     '''                a, b = np.unravel_index(np.argmax(window), window.shape)
                dx3[i * sh + a, j * sw + b, c] += d3[i, j, c]''',
     '''                mask = window == window.max()
                dx3[i * sh:i * sh + fh, j * sw:j * sw + fw, c] += mask * d3[i, j, c]'''),
    ("03-parameter-counting", "conv_output_size", "plus_one_missing", "    return (n - f) // stride + 1",
     "    return (n - f) // stride"),
    ("03-parameter-counting", "conv_output_size", "stride_ignored",
     "        return math.ceil(n / stride)\n    return (n - f) // stride + 1",
     "        return n\n    return n - f + 1"),
    ("03-parameter-counting", "output_size", "plus_one_missing",
     "        return math.ceil((n + 2 * p - f) / s) + 1\n    return (n + 2 * p - f) // s + 1",
     "        return math.ceil((n + 2 * p - f) / s)\n    return (n + 2 * p - f) // s"),
    ("03-parameter-counting", "output_size", "integer_division_for_ceil",
     "        return math.ceil((n + 2 * p - f) / s) + 1", "        return (n + 2 * p - f) // s + 1"),
    ("03-parameter-counting", "layer_table", "pool_stride_ignored",
     "            sh, sw = two(layer[2]) if len(layer) > 2 and layer[2] is not None else (ph, pw)",
     "            sh, sw = ph, pw"),
    ("03-parameter-counting", "layer_table", "dense_bias_left_out", "            params = (shape[-1] + 1) * units",
     "            params = shape[-1] * units"),
    ("03-parameter-counting", "layer_table", "same_size_with_floor",
     "                shape = (math.ceil(h / sh), math.ceil(w / sw), filters)",
     "                shape = (h // sh, w // sw, filters)"),
    ("03-parameter-counting", "layer_table", "flatten_of_earlier_shape", "            shape = (math.prod(shape),)",
     "            shape = (h * w * c,)"),
]


def with_mistake(assignment: str, question: str, old: str, new: str) -> dict[str, str]:
    """The assignment's correct cells with one question's cell changed from ``old`` to ``new``."""
    cells = dict(CORRECT[assignment])
    assert cells[question].count(old) == 1, f"{question}: the mistake's text is not in the correct code once"
    cells[question] = cells[question].replace(old, new)
    return cells
