"""The answers a generated class is made of (:mod:`similarity_class`): for every question of the four
assignments, function bodies written apart in the ways this course's students write them (loops and
``np.zeros``, list building, vectorised NumPy, helpers of their own), correct or with a bug students
make. A body is what replaces the template's ``# YOUR CODE HERE`` / ``raise NotImplementedError()``.

``POOL[assignment][question]`` is a list of :class:`Answer`. ``bug`` names the mistake (None when
correct); ``declared`` says the course declares it as a mistake (its wrong answers are explained, so
they carry no digest into :class:`grader.classroom.similarity.Entry`); ``cases`` is how many hidden
cases it fails. An undeclared bug fails the same cases with the same wrong values for everyone who
makes it: a common bug shared by many students who never saw each other's code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One way of answering a question: its body (4-space indented, or top-level for a cell that is
    not a function), helper functions it needs placed before it, and its bug if any."""

    body: str
    helpers: str = ""
    bug: str | None = None
    declared: bool = False
    cases: int = 0


def _a(body: str, helpers: str = "", bug: str | None = None, declared: bool = False, cases: int = 0) -> Answer:
    return Answer(body.strip("\n") + "\n", helpers.strip("\n") + "\n" if helpers else "", bug, declared, cases)


CONV2D = [
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "valid":
        pads = ((0, 0), (0, 0))
    elif mode == "full":
        pads = ((fh - 1, fh - 1), (fw - 1, fw - 1))
    elif mode == "same":
        top, left = (fh - 1) // 2, (fw - 1) // 2
        pads = ((top, fh - 1 - top), (left, fw - 1 - left))
    else:
        raise ValueError(mode)
    xp = np.pad(x, pads)
    out = np.zeros((xp.shape[0] - fh + 1, xp.shape[1] - fw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(xp[i:i + fh, j:j + fw] * k)
    return out
'''),
    _a('''
    x = np.array(x, dtype=float)
    k = np.array(k, dtype=float)
    H, W = x.shape
    FH, FW = k.shape
    if mode == "full":
        padded = np.zeros((H + 2 * (FH - 1), W + 2 * (FW - 1)))
        padded[FH - 1:FH - 1 + H, FW - 1:FW - 1 + W] = x
    elif mode == "same":
        padded = np.zeros((H + FH - 1, W + FW - 1))
        r = (FH - 1) // 2
        c = (FW - 1) // 2
        padded[r:r + H, c:c + W] = x
    else:
        padded = x
    oh = padded.shape[0] - FH + 1
    ow = padded.shape[1] - FW + 1
    result = []
    for i in range(oh):
        row = []
        for j in range(ow):
            total = 0.0
            for a in range(FH):
                for b in range(FW):
                    total += padded[i + a, j + b] * k[a, b]
            row.append(total)
        result.append(row)
    return np.array(result, dtype=float).reshape(oh, ow)
'''),
    _a('''
    x = np.asarray(x, float)
    k = np.asarray(k, float)
    kh, kw = k.shape
    pad = {"valid": ((0, 0), (0, 0)),
           "full": ((kh - 1, kh - 1), (kw - 1, kw - 1)),
           "same": (((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2))}[mode]
    x = np.pad(x, pad)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw))
    return np.einsum("ijab,ab->ij", windows, k)
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "full":
        x = pad_zeros(x, fh - 1, fh - 1, fw - 1, fw - 1)
    elif mode == "same":
        x = pad_zeros(x, (fh - 1) // 2, fh // 2, (fw - 1) // 2, fw // 2)
    out_rows = x.shape[0] - fh + 1
    out_cols = x.shape[1] - fw + 1
    out = np.empty((out_rows, out_cols))
    for r in range(out_rows):
        for c in range(out_cols):
            out[r, c] = (x[r:r + fh, c:c + fw] * k).sum()
    return out
''', helpers='''
def pad_zeros(a, top, bottom, left, right):
    h, w = a.shape
    b = np.zeros((h + top + bottom, w + left + right))
    b[top:top + h, left:left + w] = a
    return b
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "full":
        x = np.pad(x, ((fh - 1, fh - 1), (fw - 1, fw - 1)))
    elif mode == "same":
        x = np.pad(x, ((fh // 2, fh // 2), (fw // 2, fw // 2)))
    h, w = x.shape
    out = np.zeros((h - fh + 1, w - fw + 1))
    for i in range(h - fh + 1):
        for j in range(w - fw + 1):
            out[i, j] = np.sum(x[i:i + fh, j:j + fw] * k)
    return out
''', bug="same_padding_long", declared=True, cases=4),
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.flip(np.asarray(k, dtype=float))
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
''', bug="kernel_flipped", cases=9),
]

CONV2D_MULTI = [
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    fh, fw, c = k.shape
    out = np.zeros((x.shape[0] - fh + 1, x.shape[1] - fw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + fh, j:j + fw, :] * k)
    return out
'''),
    _a('''
    x = np.array(x, dtype=float)
    k = np.array(k, dtype=float)
    total = None
    for ch in range(x.shape[2]):
        part = conv2d(x[:, :, ch], k[:, :, ch], "valid")
        total = part if total is None else total + part
    return total
'''),
    _a('''
    x = np.asarray(x, float)
    k = np.asarray(k, float)
    win = np.lib.stride_tricks.sliding_window_view(x, k.shape)[:, :, 0]
    return np.tensordot(win, k, axes=([2, 3, 4], [0, 1, 2]))
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    return np.array([conv2d(x[:, :, c], k[:, :, c]) for c in range(x.shape[2])])
''', bug="missing_depth_sum", declared=True, cases=5),
]

CONV2D_LAYER = [
    _a('''
    x = np.asarray(x, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    bias = np.asarray(bias, dtype=float)
    fh, fw, c, n = kernels.shape
    sh, sw = as_pair(stride)
    h, w = x.shape[0], x.shape[1]
    if padding == "same":
        out_h, out_w = -(-h // sh), -(-w // sw)
        pad_h = max((out_h - 1) * sh + fh - h, 0)
        pad_w = max((out_w - 1) * sw + fw - w, 0)
        x = np.pad(x, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    else:
        out_h, out_w = (h - fh) // sh + 1, (w - fw) // sw + 1
    out = np.zeros((out_h, out_w, n))
    for i in range(out_h):
        for j in range(out_w):
            window = x[i * sh:i * sh + fh, j * sw:j * sw + fw, :]
            out[i, j, :] = np.sum(window[:, :, :, None] * kernels, axis=(0, 1, 2)) + bias
    return out
'''),
    _a('''
    x = np.array(x, dtype=float)
    kernels = np.array(kernels, dtype=float)
    FH, FW, C, N = kernels.shape
    if isinstance(stride, int):
        s1 = s2 = stride
    else:
        s1, s2 = stride
    H, W, _ = x.shape
    if padding == "same":
        oh = math.ceil(H / s1)
        ow = math.ceil(W / s2)
        ph = max((oh - 1) * s1 + FH - H, 0)
        pw = max((ow - 1) * s2 + FW - W, 0)
        x = np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh = (H - FH) // s1 + 1
        ow = (W - FW) // s2 + 1
    out = np.zeros((oh, ow, N))
    for f in range(N):
        for r in range(oh):
            for c in range(ow):
                patch = x[r * s1:r * s1 + FH, c * s2:c * s2 + FW, :]
                out[r, c, f] = np.sum(patch * kernels[:, :, :, f]) + bias[f]
    return out
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    w = np.asarray(kernels, dtype=float)
    b = np.asarray(bias, dtype=float)
    sh, sw = as_pair(stride)
    kh, kw = w.shape[:2]
    if padding == "same":
        x = same_pad(x, kh, kw, sh, sw)
    views = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))[::sh, ::sw]
    return np.einsum("ijcab,abcn->ijn", views, w) + b
''', helpers='''
def same_pad(x, kh, kw, sh, sw):
    h, w = x.shape[:2]
    ph = max((-(-h // sh) - 1) * sh + kh - h, 0)
    pw = max((-(-w // sw) - 1) * sw + kw - w, 0)
    return np.pad(x, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    fh, fw, c, n = kernels.shape
    sh, sw = as_pair(stride)
    if padding == "same":
        x = np.pad(x, (((fh - 1) // 2, (fh - 1) // 2), ((fw - 1) // 2, (fw - 1) // 2), (0, 0)))
    h, w = x.shape[:2]
    oh, ow = (h - fh) // sh + 1, (w - fw) // sw + 1
    out = np.zeros((oh, ow, n))
    for i in range(oh):
        for j in range(ow):
            for f in range(n):
                out[i, j, f] = np.sum(x[i * sh:i * sh + fh, j * sw:j * sw + fw, :] * kernels[..., f]) + bias[f]
    return out
''', bug="same_padding_short", declared=True, cases=6),
    _a('''
    x = np.asarray(x, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    fh, fw, c, n = kernels.shape
    sh, sw = as_pair(stride)
    if padding == "same":
        ph = max((-(-x.shape[0] // sh) - 1) * sh + fh - x.shape[0], 0)
        pw = max((-(-x.shape[1] // sw) - 1) * sw + fw - x.shape[1], 0)
        x = np.pad(x, ((ph - ph // 2, ph // 2), (pw - pw // 2, pw // 2), (0, 0)))
    oh, ow = (x.shape[0] - fh) // sh + 1, (x.shape[1] - fw) // sw + 1
    out = np.zeros((oh, ow, n))
    for i in range(oh):
        for j in range(ow):
            win = x[i * sh:i * sh + fh, j * sw:j * sw + fw, :]
            out[i, j] = np.tensordot(win, kernels, axes=3) + bias
    return out
''', bug="extra_zero_on_top", cases=3),
]

IM2COL = [
    _a('''
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    h, w, c = x.shape
    sh, sw = as_pair(stride)
    out_h = (h - fh) // sh + 1
    out_w = (w - fw) // sw + 1
    cols = np.zeros((out_h * out_w, fh * fw * c))
    row = 0
    for i in range(out_h):
        for j in range(out_w):
            cols[row] = x[i * sh:i * sh + fh, j * sw:j * sw + fw, :].reshape(-1)
            row += 1
    return cols
'''),
    _a('''
    x = np.array(x, dtype=float)
    if len(x.shape) == 2:
        x = x.reshape(x.shape[0], x.shape[1], 1)
    s_r, s_c = (stride, stride) if isinstance(stride, int) else stride
    rows = []
    for top in range(0, x.shape[0] - fh + 1, s_r):
        for left in range(0, x.shape[1] - fw + 1, s_c):
            rows.append(x[top:top + fh, left:left + fw].flatten())
    return np.array(rows)
'''),
    _a('''
    x = np.atleast_3d(np.asarray(x, dtype=float))
    sh, sw = as_pair(stride)
    v = np.lib.stride_tricks.sliding_window_view(x, (fh, fw), axis=(0, 1))[::sh, ::sw]
    return v.transpose(0, 1, 3, 4, 2).reshape(v.shape[0] * v.shape[1], -1)
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[:, :, None]
    sh, sw = as_pair(stride)
    out = []
    for i in range(0, x.shape[0] - fh + 1, sh):
        for j in range(0, x.shape[1] - fw + 1, sw):
            out.append(x[i:i + fh, j:j + fw, :].transpose(2, 0, 1).reshape(-1))
    return np.array(out)
''', bug="channels_outermost", cases=4),
]

CONV2D_MATMUL = [
    _a('''
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    kernels = np.asarray(kernels, dtype=float)
    fh, fw, c, n = kernels.shape
    sh, sw = as_pair(stride)
    out_h = (x.shape[0] - fh) // sh + 1
    out_w = (x.shape[1] - fw) // sw + 1
    patches = im2col(x, fh, fw, (sh, sw))
    weights = kernels.reshape(fh * fw * c, n)
    return (patches @ weights + bias).reshape(out_h, out_w, n)
'''),
    _a('''
    kernels = np.array(kernels, dtype=float)
    FH, FW, C, N = kernels.shape
    s = as_pair(stride)
    H, W = np.shape(x)[:2]
    oh = (H - FH) // s[0] + 1
    ow = (W - FW) // s[1] + 1
    cols = im2col(x, FH, FW, stride)
    result = np.dot(cols, kernels.reshape(-1, N)) + np.asarray(bias, dtype=float)
    return result.reshape((oh, ow, N))
'''),
    _a('''
    k = np.asarray(kernels, float)
    P = im2col(x, k.shape[0], k.shape[1], stride)
    y = P @ k.reshape(-1, k.shape[3]) + np.asarray(bias, float)
    sh, sw = as_pair(stride)
    return y.reshape((np.shape(x)[0] - k.shape[0]) // sh + 1, -1, k.shape[3])
'''),
    _a('''
    kernels = np.asarray(kernels, dtype=float)
    fh, fw, c, n = kernels.shape
    sh, sw = as_pair(stride)
    oh = (np.shape(x)[0] - fh) // sh + 1
    ow = (np.shape(x)[1] - fw) // sw + 1
    out = im2col(x, fh, fw, stride) @ kernels.reshape(-1, n) + bias
    return out.T.reshape(n, oh, ow)
''', bug="channels_first_output", declared=True, cases=5),
]


def _pool(reduce: str) -> list[Answer]:
    """The pooling answers of ``max``/``mean``: the same ways of writing with another reduction."""
    return [
        _a(f'''
    x = np.asarray(x, dtype=float)
    two_d = x.ndim == 2
    if two_d:
        x = x[:, :, np.newaxis]
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    h, w, c = x.shape
    out_h = (h - ph) // sh + 1
    out_w = (w - pw) // sw + 1
    out = np.zeros((out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j, :] = x[i * sh:i * sh + ph, j * sw:j * sw + pw, :].{reduce}(axis=(0, 1))
    return out[:, :, 0] if two_d else out
'''),
        _a(f'''
    x = np.array(x, dtype=float)
    if isinstance(size, int):
        size = (size, size)
    if stride is None:
        stride = size
    elif isinstance(stride, int):
        stride = (stride, stride)
    rows = (x.shape[0] - size[0]) // stride[0] + 1
    cols = (x.shape[1] - size[1]) // stride[1] + 1
    result = np.zeros((rows, cols) + x.shape[2:])
    for r in range(rows):
        for q in range(cols):
            top, left = r * stride[0], q * stride[1]
            result[r, q] = np.{reduce}(x[top:top + size[0], left:left + size[1]], axis=(0, 1))
    return result
'''),
        _a(f'''
    x = np.asarray(x, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(stride if stride is not None else size)
    v = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return v.{reduce}(axis=(-2, -1))
'''),
        _a(f'''
    x = np.asarray(x, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    out = np.zeros((x.shape[0] - ph + 1, x.shape[1] - pw + 1) + x.shape[2:])
    for i in range(0, x.shape[0] - ph + 1, sh):
        for j in range(0, x.shape[1] - pw + 1, sw):
            out[i, j] = np.{reduce}(x[i:i + ph, j:j + pw], axis=(0, 1))
    return out
''', bug="stride_in_positions_only", declared=True, cases=6),
        _a(f'''
    x = np.asarray(x, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    oh = (x.shape[0] - ph) // sh + 1
    ow = (x.shape[1] - pw) // sw + 1
    out = np.zeros((oh, ow) + x.shape[2:])
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.{reduce}(x[i * sh:i * sh + ph + 1, j * sw:j * sw + pw + 1], axis=(0, 1))
    return out
''', bug="window_one_too_large", cases=7),
    ]


BACKWARD = [
    _a('''
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    two_d = x.ndim == 2
    if two_d:
        x, dout = x[:, :, None], dout[:, :, None]
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for ch in range(dout.shape[2]):
                window = x[i * sh:i * sh + ph, j * sw:j * sw + pw, ch]
                r, q = np.unravel_index(np.argmax(window), window.shape)
                dx[i * sh + r, j * sw + q, ch] += dout[i, j, ch]
    return dx[:, :, 0] if two_d else dx
'''),
    _a('''
    x = np.array(x, dtype=float)
    g = np.array(dout, dtype=float)
    fh, fw = as_pair(size)
    sh, sw = as_pair(stride) if stride is not None else (fh, fw)
    grad = np.zeros(x.shape)
    flat = x.reshape(x.shape[0], x.shape[1], -1)
    gflat = g.reshape(g.shape[0], g.shape[1], -1)
    gx = grad.reshape(flat.shape)
    for c in range(flat.shape[2]):
        for i in range(gflat.shape[0]):
            for j in range(gflat.shape[1]):
                block = flat[i * sh:i * sh + fh, j * sw:j * sw + fw, c]
                best = int(np.argmax(block))
                gx[i * sh + best // fw, j * sw + best % fw, c] += gflat[i, j, c]
    return grad
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = x[i * sh:i * sh + ph, j * sw:j * sw + pw]
            mask = window == window.max(axis=(0, 1))
            dx[i * sh:i * sh + ph, j * sw:j * sw + pw] += mask * dout[i, j]
    return dx
''', bug="gradient_to_every_tie", declared=True, cases=4),
    _a('''
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            window = x[i * sh:i * sh + ph, j * sw:j * sw + pw]
            a, b = np.unravel_index(np.argmax(window), window.shape[:2])
            dx[i * sh + a, j * sw + b] = dout[i, j]
    return dx
''', bug="overlap_overwritten", cases=5),
]

SPP = [
    _a('''
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    h, w, c = x.shape
    parts = []
    for l in levels:
        pooled = np.zeros((l, l, c))
        for i in range(l):
            r0, r1 = (i * h) // l, -((-(i + 1) * h) // l)
            for j in range(l):
                c0, c1 = (j * w) // l, -((-(j + 1) * w) // l)
                pooled[i, j, :] = x[r0:r1, c0:c1, :].max(axis=(0, 1))
        parts.append(pooled.reshape(-1))
    return np.concatenate(parts)
'''),
    _a('''
    x = np.array(x, dtype=float)
    H, W, C = x.shape
    features = []
    for n in levels:
        for i in range(n):
            for j in range(n):
                top = math.floor(i * H / n)
                bottom = math.ceil((i + 1) * H / n)
                left = math.floor(j * W / n)
                right = math.ceil((j + 1) * W / n)
                features.extend(np.max(x[top:bottom, left:right, :], axis=(0, 1)))
    return np.array(features)
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    H, W, C = x.shape
    out = []
    for n in levels:
        for i in range(n):
            for j in range(n):
                out.extend(x[i * H // n:(i + 1) * H // n, j * W // n:(j + 1) * W // n].max(axis=(0, 1)))
    return np.array(out)
''', bug="bins_floor_both_ends", cases=3),
]

CONV2D_PARAMS = [
    _a('''
    weights_per_kernel = fh * fw * c_in
    return int((weights_per_kernel + (1 if use_bias else 0)) * filters)
'''),
    _a('''
    n = fh * fw * c_in * filters
    if use_bias:
        n += filters
    return n
'''),
    _a('''
    return (fh * fw * c_in + int(use_bias)) * filters
'''),
    _a('''
    return fh * fw * c_in * filters + 1
''', bug="one_bias_per_layer", cases=4),
]

DENSE_PARAMS = [
    _a('''
    return int((n_in + (1 if use_bias else 0)) * units)
'''),
    _a('''
    total = n_in * units
    if use_bias:
        total = total + units
    return total
'''),
    _a('''
    return n_in * units + units
''', bug="bias_always_counted", declared=True, cases=2),
]

CONV_OUTPUT_SIZE = [
    _a('''
    if padding == "valid":
        return (n - f) // stride + 1
    if padding == "same":
        return -(-n // stride)
    raise ValueError(padding)
'''),
    _a('''
    if padding == "same":
        return math.ceil(n / stride)
    return math.floor((n - f) / stride) + 1
'''),
    _a('''
    return (n - f) // stride + 1 if padding == "valid" else (n + stride - 1) // stride
'''),
    _a('''
    if padding == "same":
        return n
    return n - f + 1
''', bug="stride_ignored", declared=True, cases=5),
]

OUTPUT_SIZE = [
    _a('''
    span = n - f + 2 * p
    if rounding == "floor":
        steps = span // s
    elif rounding == "ceil":
        steps = -(-span // s)
    else:
        raise ValueError(rounding)
    return int(steps + 1)
'''),
    _a('''
    value = (n - f + 2 * p) / s + 1
    return math.ceil(value) if rounding == "ceil" else math.floor(value)
'''),
    _a('''
    if rounding == "ceil":
        return int((n - f + 2 * p) / s) + 1
    return int((n - f + 2 * p) / s) + 1
''', bug="ceil_truncates", cases=4),
]

LAYER_TABLE = [
    _a('''
    shape = tuple(int(d) for d in input_shape)
    table = []
    for spec in layers:
        kind = spec[0]
        if kind == "conv2d":
            filters, kernel = spec[1], spec[2]
            padding = spec[3] if len(spec) > 3 else "valid"
            stride = spec[4] if len(spec) > 4 else 1
            (fh, fw), (sh, sw) = as_pair(kernel), as_pair(stride)
            h, w, c = shape
            shape = (conv_output_size(h, fh, padding, sh), conv_output_size(w, fw, padding, sw), int(filters))
            params = conv2d_params(fh, fw, c, filters)
        elif kind in ("maxpool", "avgpool"):
            ph, pw = as_pair(spec[1])
            sh, sw = as_pair(spec[2] if len(spec) > 2 and spec[2] is not None else spec[1])
            h, w, c = shape
            shape = (conv_output_size(h, ph, "valid", sh), conv_output_size(w, pw, "valid", sw), c)
            params = 0
        elif kind == "flatten":
            shape = (int(np.prod(shape)),)
            params = 0
        else:
            units = int(spec[1])
            params = dense_params(shape[-1], units)
            shape = shape[:-1] + (units,)
        table.append((shape, params))
    return table
'''),
    _a('''
    H, W, C = input_shape
    current = [H, W, C]
    rows = []
    for layer in layers:
        if layer[0] == "conv2d":
            _, filters, ksize, pad, st = layer
            kh, kw = as_pair(ksize)
            sh, sw = as_pair(st)
            if pad == "same":
                nh, nw = math.ceil(current[0] / sh), math.ceil(current[1] / sw)
            else:
                nh, nw = (current[0] - kh) // sh + 1, (current[1] - kw) // sw + 1
            count = (kh * kw * current[2] + 1) * filters
            current = [nh, nw, filters]
        elif layer[0] == "flatten":
            current = [current[0] * current[1] * current[2]]
            count = 0
        elif layer[0] == "dense":
            count = (current[-1] + 1) * layer[1]
            current = current[:-1] + [layer[1]]
        else:
            kh, kw = as_pair(layer[1])
            sh, sw = as_pair(layer[2]) if len(layer) > 2 and layer[2] is not None else (kh, kw)
            current = [(current[0] - kh) // sh + 1, (current[1] - kw) // sw + 1, current[2]]
            count = 0
        rows.append((tuple(current), count))
    return rows
'''),
    _a('''
    shape = tuple(input_shape)
    table = []
    for layer in layers:
        if layer[0] == "conv2d":
            kh, kw = as_pair(layer[2])
            sh, sw = as_pair(layer[4])
            shape = (conv_output_size(shape[0], kh, layer[3], sh), conv_output_size(shape[1], kw, layer[3], sw),
                     layer[1])
            table.append((shape, (kh * kw * shape[2] + 1) * layer[1]))
        elif layer[0] == "flatten":
            shape = (int(np.prod(shape)),)
            table.append((shape, 0))
        elif layer[0] == "dense":
            table.append(((layer[1],), (shape[-1] + 1) * layer[1]))
            shape = (layer[1],)
        else:
            kh, kw = as_pair(layer[1])
            shape = ((shape[0] - kh) // kh + 1, (shape[1] - kw) // kw + 1, shape[2])
            table.append((shape, 0))
    return table
''', bug="filters_as_input_channels", cases=6),
]

CNN_FORWARD = [
    _a('''
    x = np.asarray(x, dtype=float)
    kernel, conv_bias, dense_w, dense_b = (np.asarray(w, dtype=float) for w in weights)
    n, h, w, _ = x.shape
    fh, fw, _, filters = kernel.shape
    conv_h, conv_w = h - fh + 1, w - fw + 1
    conv = np.zeros((n, conv_h, conv_w, filters))
    for i in range(conv_h):
        for j in range(conv_w):
            window = x[:, i:i + fh, j:j + fw, :]
            for f in range(filters):
                conv[:, i, j, f] = np.sum(window * kernel[:, :, :, f], axis=(1, 2, 3)) + conv_bias[f]
    conv = np.maximum(conv, 0.0)
    pooled = np.zeros((n, conv_h // 2, conv_w // 2, filters))
    for i in range(conv_h // 2):
        for j in range(conv_w // 2):
            pooled[:, i, j, :] = conv[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :].max(axis=(1, 2))
    z = pooled.reshape(n, -1) @ dense_w + dense_b
    return 1.0 / (1.0 + np.exp(-z))
'''),
    _a('''
    k, b1, w2, b2 = [np.array(v, dtype=float) for v in weights]
    outputs = []
    for img in np.asarray(x, dtype=float):
        feat = np.zeros((2, 2))
        for i in range(2):
            for j in range(2):
                feat[i, j] = max(np.sum(img[i:i + 3, j:j + 3, 0] * k[:, :, 0, 0]) + b1[0], 0)
        z = feat.max() * w2[0, 0] + b2[0]
        outputs.append([sigmoid(z)])
    return np.array(outputs)
''', helpers='''
def sigmoid(z):
    return 1 / (1 + np.exp(-z))
'''),
    _a('''
    x = np.asarray(x, dtype=float)
    k, b1, w2, b2 = (np.asarray(v, dtype=float) for v in weights)
    n = x.shape[0]
    conv = np.zeros((n, 2, 2, 1))
    for i in range(2):
        for j in range(2):
            conv[:, i, j, 0] = np.sum(x[:, i:i + 3, j:j + 3, :] * k[:, :, :, 0], axis=(1, 2, 3)) + b1[0]
    pooled = conv.max(axis=(1, 2))
    return 1 / (1 + np.exp(-(pooled @ w2 + b2)))
''', bug="relu_left_out", cases=3),
]

LOAD_FACES = [
    _a('''
    table = pd.read_csv(csv_path)
    names = table["Filename"].tolist()
    X = np.zeros((len(names), size, size, 3), dtype=np.float32)
    y = np.zeros(len(names), dtype=np.int64)
    for i, name in enumerate(names):
        y[i] = 0 if os.path.basename(name)[0] == "m" else 1
        with Image.open(os.path.join(image_dir, name)) as img:
            X[i] = np.asarray(img.convert("RGB").resize((size, size)), dtype=np.float32) / 255.0
    return X, y, table["Rating"].to_numpy(dtype=np.float64)
'''),
    _a('''
    df = pd.read_csv(csv_path)
    images, labels = [], []
    for fname in df["Filename"]:
        img = Image.open(os.path.join(image_dir, fname)).convert("RGB")
        img = img.resize((size, size))
        images.append(np.array(img) / 255.0)
        labels.append(1 if fname.startswith("f") else 0)
    return np.array(images, dtype=np.float32), np.array(labels), df["Rating"].values.astype(float)
'''),
    _a('''
    df = pd.read_csv(csv_path)
    images = [np.asarray(Image.open(os.path.join(image_dir, f)).resize((size, size))) for f in df["Filename"]]
    labels = [0 if f[0] == "f" else 1 for f in df["Filename"]]
    return np.array(images, dtype=np.float32) / 255.0, np.array(labels), df["Rating"].to_numpy()
''', bug="labels_swapped", cases=3),
]

BUILD_MODEL = [
    _a('''
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(64, activation="relu"),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''),
    _a('''
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))
    for filters in (32, 64):
        model.add(layers.Conv2D(filters, 3, activation="relu"))
        model.add(layers.BatchNormalization())
        model.add(layers.MaxPooling2D())
    model.add(layers.GlobalAveragePooling2D())
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="binary_crossentropy", metrics=["accuracy"])
    return model
'''),
]

PARAM_REPORT = [
    _a('''
    report = {}
    for layer in model.layers:
        report[layer.name] = int(layer.count_params())
    return report
'''),
    _a('''
    out = {}
    for layer in model.layers:
        cfg = layer.get_config()
        if isinstance(layer, layers.Conv2D):
            kh, kw = cfg["kernel_size"]
            out[layer.name] = (kh * kw * layer.input.shape[-1] + 1) * cfg["filters"]
        elif isinstance(layer, layers.Dense):
            out[layer.name] = (layer.input.shape[-1] + 1) * cfg["units"]
        else:
            out[layer.name] = 0
    return out
'''),
]

ACCURACY = [
    _a('''
keras.utils.set_random_seed(SEED)
order = np.random.default_rng(SEED).permutation(len(X))
n_val = len(X) // 5
X_train, y_train = X[order[n_val:]], y[order[n_val:]]
X_val, y_val = X[order[:n_val]], y[order[:n_val]]
model = build_model(X.shape[1:])
history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=EPOCHS, batch_size=32, verbose=2)
'''),
    _a('''
keras.utils.set_random_seed(SEED)
model = build_model(X.shape[1:])
stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
history = model.fit(augment(X, training=True), y, validation_split=0.2, epochs=EPOCHS, callbacks=[stop])
print(history.history["val_accuracy"][-1])
'''),
]

BUILD_RATING_MODEL = [
    _a('''
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.GlobalAveragePooling2D(),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="adam", loss="mse", metrics=[keras.metrics.RootMeanSquaredError()])
    return model
'''),
    _a('''
    inputs = keras.Input(shape=input_shape)
    h = layers.Conv2D(32, 3, activation="relu")(inputs)
    h = layers.MaxPooling2D()(h)
    h = layers.Flatten()(h)
    outputs = layers.Dense(1)(layers.Dense(32, activation="relu")(h))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), loss="mean_squared_error")
    return model
'''),
    _a('''
    model = build_model(input_shape)
    model.compile(optimizer="adam", loss="mse")
    return model
''', bug="softmax_output_for_rating", cases=3),
]

POOL: dict[str, dict[str, list[Answer]]] = {
    "01-convolution": {"conv2d": CONV2D, "conv2d_multi": CONV2D_MULTI, "conv2d_layer": CONV2D_LAYER,
                       "im2col": IM2COL, "conv2d_matmul": CONV2D_MATMUL},
    "02-pooling": {"max_pool2d": _pool("max"), "avg_pool2d": _pool("mean"), "max_pool2d_backward": BACKWARD,
                   "spatial_pyramid_pool": SPP},
    "03-parameter-counting": {"conv2d_params": CONV2D_PARAMS, "dense_params": DENSE_PARAMS,
                              "conv_output_size": CONV_OUTPUT_SIZE, "output_size": OUTPUT_SIZE,
                              "layer_table": LAYER_TABLE, "cnn_forward": CNN_FORWARD},
    "04-gender-cnn": {"load_faces": LOAD_FACES, "build_model": BUILD_MODEL, "param_report": PARAM_REPORT,
                      "accuracy": ACCURACY, "build_rating_model": BUILD_RATING_MODEL},
}

# What students add around their answers: their own small helpers, scratch prints, imports.
EXTRAS = [
    "def relu(z):\n    return np.maximum(z, 0)\n",
    "def show(a, name=\"a\"):\n    print(name, np.shape(a))\n    print(np.round(a, 3))\n",
    "import math\n",
    "def pad_same(n, f):\n    total = f - 1\n    return total // 2, total - total // 2\n",
    "test = np.arange(16.0).reshape(4, 4)\nprint(test)\n",
    "def out_len(n, f, s=1):\n    return (n - f) // s + 1\n",
    "from scipy import signal\n",
    "def check_shape(a, expected):\n    assert a.shape == expected, (a.shape, expected)\n    return True\n",
    "for size in (1, 2, 3):\n    print(size, np.ones((size, size)).sum())\n",
]

COMMENTS = [
    "# 计算输出大小", "# compute the output size", "# loop over every window", "# 补零", "# pad with zeros",
    "# TODO: check the stride", "# 按通道", "# per channel", "# 这里是关键", "# the kernel is not flipped",
    "# debug", "# 参考课件第3页", "# see the lecture slides", "# 先转成 float", "# convert to float first",
    "# sum over the window", "# 偏置", "# bias", "# 步长", "# I think this works",
]
