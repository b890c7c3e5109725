"""Code for the similarity pass's tests: answers to the course's questions written the many ways
students write them, each correct (tests/test_similarity.py checks them against the reference), and
copies of one student's notebook disguised the ways copies are disguised.

``MAX_POOL2D`` and ``CONV2D`` are independent solutions of one small function each: loops, slicing,
``np.lib.stride_tricks``, ``einsum``, comprehensions, im2col and a matrix product, recursion, while
loops, padding done by hand or by ``np.pad``. None of them is a copy of another, so none of their
pairs may be flagged. ``ORIGINAL`` is one student's pooling answers; ``RENAMED``, ``REORDERED`` and
``SPACED`` are copies of it (every name changed; functions in another order with comments added;
blank lines added and a loop variable changed).
"""

from __future__ import annotations

MAX_POOL2D = [
    # 1. the course's loops, one window at a time, np.max over both axes
    '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    out_h = (x.shape[0] - ph) // sh + 1
    out_w = (x.shape[1] - pw) // sw + 1
    out = np.zeros((out_h, out_w) + x.shape[2:])
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.max(x[i * sh:i * sh + ph, j * sw:j * sw + pw], axis=(0, 1))
    return out
''',
    # 2. plain Python: four nested loops and a running maximum, no NumPy reduction
    '''
def max_pool2d(x, size, stride=None):
    a = np.array(x, dtype=float)
    flat = a.ndim == 2
    if flat:
        a = a.reshape(a.shape[0], a.shape[1], 1)
    if isinstance(size, int):
        size = (size, size)
    if stride is None:
        stride = size
    elif isinstance(stride, int):
        stride = (stride, stride)
    rows = (a.shape[0] - size[0]) // stride[0] + 1
    cols = (a.shape[1] - size[1]) // stride[1] + 1
    result = np.empty((rows, cols, a.shape[2]))
    for ch in range(a.shape[2]):
        for r in range(rows):
            for q in range(cols):
                best = -np.inf
                for dr in range(size[0]):
                    for dq in range(size[1]):
                        v = a[r * stride[0] + dr, q * stride[1] + dq, ch]
                        if v > best:
                            best = v
                result[r, q, ch] = best
    if flat:
        return result[:, :, 0]
    return result
''',
    # 3. sliding_window_view, then every stride-th window
    '''
from numpy.lib.stride_tricks import sliding_window_view

def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    ph, pw = as_pair(size)
    sh, sw = as_pair(stride) if stride is not None else (ph, pw)
    views = sliding_window_view(x, (ph, pw), axis=(0, 1))[::sh, ::sw]
    return views.max(axis=(-2, -1))
''',
    # 4. as_strided with the strides computed by hand
    '''
def max_pool2d(x, size, stride=None):
    data = np.ascontiguousarray(x, dtype=np.float64)
    two_dim = data.ndim == 2
    if two_dim:
        data = data[..., None]
    kh, kw = (size, size) if np.isscalar(size) else tuple(size)
    if stride is None:
        step_r, step_c = kh, kw
    else:
        step_r, step_c = (stride, stride) if np.isscalar(stride) else tuple(stride)
    H, W, C = data.shape
    OH, OW = (H - kh) // step_r + 1, (W - kw) // step_c + 1
    s0, s1, s2 = data.strides
    patches = np.lib.stride_tricks.as_strided(
        data, shape=(OH, OW, kh, kw, C), strides=(s0 * step_r, s1 * step_c, s0, s1, s2))
    pooled = patches.max(axis=(2, 3))
    return pooled[..., 0] if two_dim else pooled
''',
    # 5. one nested list comprehension
    '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, float)
    p, q = as_pair(size)
    s, t = as_pair(stride if stride is not None else size)
    n_rows = range((len(x) - p) // s + 1)
    n_cols = range((x.shape[1] - q) // t + 1)
    return np.array([[x[r * s:r * s + p, c * t:c * t + q].max(axis=(0, 1)) for c in n_cols] for r in n_rows])
''',
    # 6. the windows gathered with index arrays (im2col by fancy indexing), then one max
    '''
def max_pool2d(x, size, stride=None):
    arr = np.asarray(x, dtype=float)
    fh, fw = as_pair(size)
    sy, sx = as_pair(stride) if stride is not None else (fh, fw)
    oh = (arr.shape[0] - fh) // sy + 1
    ow = (arr.shape[1] - fw) // sx + 1
    rows = (np.arange(oh) * sy)[:, None, None, None] + np.arange(fh)[None, None, :, None]
    cols = (np.arange(ow) * sx)[None, :, None, None] + np.arange(fw)[None, None, None, :]
    gathered = arr[rows, cols]          # (oh, ow, fh, fw) or (oh, ow, fh, fw, C)
    return gathered.max(axis=(2, 3))
''',
    # 7. while loops and a manual index
    '''
def max_pool2d(x, size, stride=None):
    img = np.array(x, dtype=float)
    if type(size) is int:
        wh = ww = size
    else:
        wh, ww = size
    if stride is None:
        vh, vw = wh, ww
    elif type(stride) is int:
        vh = vw = stride
    else:
        vh, vw = stride
    out_rows = []
    top = 0
    while top + wh <= img.shape[0]:
        row = []
        left = 0
        while left + ww <= img.shape[1]:
            row.append(img[top:top + wh, left:left + ww].max(axis=0).max(axis=0))
            left += vw
        out_rows.append(row)
        top += vh
    return np.array(out_rows, dtype=float)
''',
    # 8. recursion: a 3-D input is pooled channel by channel, a 2-D one row of windows by row
    '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    if x.ndim == 3:
        return np.stack([max_pool2d(x[:, :, ch], size, stride) for ch in range(x.shape[2])], axis=2)
    h_size, w_size = as_pair(size)
    h_step, w_step = as_pair(size) if stride is None else as_pair(stride)

    def pool_rows(start):
        if start + h_size > x.shape[0]:
            return []
        band = x[start:start + h_size]
        line = [band[:, c:c + w_size].max() for c in range(0, x.shape[1] - w_size + 1, w_step)]
        return [line] + pool_rows(start + h_step)

    return np.array(pool_rows(0), dtype=float)
''',
    # 9. separable: the maximum over the rows of each window first, then over its columns
    '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    fh, fw = as_pair(size)
    sh, sw = as_pair(stride or size)
    nh = (x.shape[0] - fh) // sh + 1
    nw = (x.shape[1] - fw) // sw + 1
    tall = np.stack([x[i * sh:i * sh + fh].max(axis=0) for i in range(nh)])
    return np.stack([tall[:, j * sw:j * sw + fw].max(axis=1) for j in range(nw)], axis=1)
''',
    # 10. np.maximum over the shifted, strided copies of the input: one per position inside a window
    '''
def max_pool2d(x, size, stride=None):
    src = np.asarray(x, dtype=float)
    ky, kx = as_pair(size)
    dy, dx = (ky, kx) if stride is None else as_pair(stride)
    ny = (src.shape[0] - ky) // dy + 1
    nx = (src.shape[1] - kx) // dx + 1
    best = np.full((ny, nx) + src.shape[2:], -np.inf)
    for a in range(ky):
        for b in range(kx):
            shifted = src[a:a + dy * (ny - 1) + 1:dy, b:b + dx * (nx - 1) + 1:dx]
            best = np.maximum(best, shifted)
    return best
''',
    # 11. reshape into blocks when the windows tile the input, the loops otherwise
    '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    if isinstance(size, (tuple, list)):
        m, n = int(size[0]), int(size[1])
    else:
        m = n = int(size)
    st = (m, n) if stride is None else ((stride, stride) if isinstance(stride, int) else tuple(stride))
    H, W = x.shape[:2]
    if st == (m, n) and H % m == 0 and W % n == 0:
        blocks = x.reshape((H // m, m, W // n, n) + x.shape[2:])
        return blocks.max(axis=3).max(axis=1)
    res = np.zeros(((H - m) // st[0] + 1, (W - n) // st[1] + 1) + x.shape[2:])
    for u in range(res.shape[0]):
        for v in range(res.shape[1]):
            res[u, v] = x[u * st[0]:u * st[0] + m, v * st[1]:v * st[1] + n].max(axis=(0, 1))
    return res
''',
    # 12. itertools.product over the output positions, results kept in a dict
    '''
import itertools

def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    wh, ww = as_pair(size)
    sh, sw = as_pair(stride) if stride else (wh, ww)
    grid = ((x.shape[0] - wh) // sh + 1, (x.shape[1] - ww) // sw + 1)
    maxima = {}
    for r, c in itertools.product(range(grid[0]), range(grid[1])):
        patch = x[r * sh:r * sh + wh, c * sw:c * sw + ww]
        maxima[r, c] = np.amax(np.amax(patch, axis=0), axis=0)
    out = np.zeros(grid + x.shape[2:])
    for (r, c), value in maxima.items():
        out[r, c] = value
    return out
''',
]

CONV2D = [
    # 1. the course's loops over the output, np.pad by mode
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "full":
        x = np.pad(x, ((fh - 1, fh - 1), (fw - 1, fw - 1)))
    elif mode == "same":
        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))
    oh, ow = x.shape[0] - fh + 1, x.shape[1] - fw + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(x[i:i + fh, j:j + fw] * k)
    return out
''',
    # 2. four nested loops, the padding written into a zero array by hand, scalar sums
    '''
def conv2d(x, k, mode="valid"):
    img = np.array(x, dtype=float)
    ker = np.array(k, dtype=float)
    H, W = img.shape
    KH, KW = ker.shape
    if mode == "valid":
        top = bottom = left = right = 0
    elif mode == "full":
        top = bottom = KH - 1
        left = right = KW - 1
    else:
        top, left = (KH - 1) // 2, (KW - 1) // 2
        bottom, right = KH - 1 - top, KW - 1 - left
    padded = np.zeros((H + top + bottom, W + left + right))
    padded[top:top + H, left:left + W] = img
    OH = padded.shape[0] - KH + 1
    OW = padded.shape[1] - KW + 1
    result = np.zeros((OH, OW))
    for r in range(OH):
        for c in range(OW):
            total = 0.0
            for a in range(KH):
                for b in range(KW):
                    total += padded[r + a, c + b] * ker[a, b]
            result[r, c] = total
    return result
''',
    # 3. sliding_window_view and einsum
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    pads = {
        "valid": ((0, 0), (0, 0)),
        "full": ((k.shape[0] - 1,) * 2, (k.shape[1] - 1,) * 2),
        "same": (((k.shape[0] - 1) // 2, k.shape[0] // 2), ((k.shape[1] - 1) // 2, k.shape[1] // 2)),
    }[mode]
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, pads), k.shape)
    return np.einsum("ijab,ab->ij", windows, k)
''',
    # 4. as_strided and tensordot
    '''
from numpy.lib.stride_tricks import as_strided

def conv2d(x, k, mode="valid"):
    k = np.asarray(k, dtype=float)
    p, q = k.shape
    if mode == "same":
        x = np.pad(np.asarray(x, dtype=float), [((p - 1) // 2, p // 2), ((q - 1) // 2, q // 2)])
    elif mode == "full":
        x = np.pad(np.asarray(x, dtype=float), [(p - 1, p - 1), (q - 1, q - 1)])
    x = np.ascontiguousarray(x, dtype=float)
    view = as_strided(x, shape=(x.shape[0] - p + 1, x.shape[1] - q + 1, p, q), strides=x.strides * 2)
    return np.tensordot(view, k, axes=([2, 3], [0, 1]))
''',
    # 5. im2col with index arrays, then one matrix product
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    kh, kw = k.shape
    before_r = {"valid": 0, "same": (kh - 1) // 2, "full": kh - 1}[mode]
    before_c = {"valid": 0, "same": (kw - 1) // 2, "full": kw - 1}[mode]
    after_r = {"valid": 0, "same": kh // 2, "full": kh - 1}[mode]
    after_c = {"valid": 0, "same": kw // 2, "full": kw - 1}[mode]
    xp = np.pad(x, ((before_r, after_r), (before_c, after_c)))
    n_r, n_c = xp.shape[0] - kh + 1, xp.shape[1] - kw + 1
    ii = np.arange(n_r).repeat(n_c)[:, None] + np.tile(np.arange(kh).repeat(kw), 1)[None, :]
    jj = np.tile(np.arange(n_c), n_r)[:, None] + np.tile(np.arange(kw), kh)[None, :]
    cols = xp[ii, jj]                       # one row per output pixel
    return (cols @ k.ravel()).reshape(n_r, n_c)
''',
    # 6. shift and add: a loop over the kernel's weights, not over the output
    '''
def conv2d(x, k, mode="valid"):
    signal = np.asarray(x, dtype=float)
    weights = np.asarray(k, dtype=float)
    m, n = weights.shape
    if mode == "full":
        signal = np.pad(signal, [(m - 1, m - 1), (n - 1, n - 1)], mode="constant")
    if mode == "same":
        signal = np.pad(signal, [((m - 1) // 2, m - 1 - (m - 1) // 2), ((n - 1) // 2, n - 1 - (n - 1) // 2)])
    rows = signal.shape[0] - m + 1
    cols = signal.shape[1] - n + 1
    acc = np.zeros((rows, cols))
    for di in range(m):
        for dj in range(n):
            acc += weights[di, dj] * signal[di:di + rows, dj:dj + cols]
    return acc
''',
    # 7. a list comprehension over the output pixels
    '''
def conv2d(x, k, mode="valid"):
    x, k = np.asarray(x, float), np.asarray(k, float)
    a, b = k.shape
    if mode != "valid":
        top = a - 1 if mode == "full" else (a - 1) // 2
        lft = b - 1 if mode == "full" else (b - 1) // 2
        bot = a - 1 if mode == "full" else a // 2
        rgt = b - 1 if mode == "full" else b // 2
        x = np.pad(x, ((top, bot), (lft, rgt)))
    return np.array([[float((x[r:r + a, c:c + b] * k).sum()) for c in range(x.shape[1] - b + 1)]
                     for r in range(x.shape[0] - a + 1)])
''',
    # 8. while loops over the padded input
    '''
def conv2d(x, k, mode="valid"):
    inp = np.array(x, dtype=float)
    filt = np.array(k, dtype=float)
    fr, fc = filt.shape
    if mode == "valid":
        pad = [(0, 0), (0, 0)]
    elif mode == "same":
        pad = [((fr - 1) // 2, fr // 2), ((fc - 1) // 2, fc // 2)]
    elif mode == "full":
        pad = [(fr - 1, fr - 1), (fc - 1, fc - 1)]
    else:
        raise ValueError("unknown mode " + str(mode))
    inp = np.pad(inp, pad)
    out = []
    y = 0
    while y + fr <= inp.shape[0]:
        line = []
        z = 0
        while z + fc <= inp.shape[1]:
            line.append(np.vdot(inp[y:y + fr, z:z + fc], filt))
            z += 1
        out.append(line)
        y += 1
    return np.array(out, dtype=float)
''',
    # 9. recursion over the rows of the output
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    h, w = k.shape
    extra = {"valid": (0, 0, 0, 0), "full": (h - 1, h - 1, w - 1, w - 1),
             "same": ((h - 1) // 2, h // 2, (w - 1) // 2, w // 2)}[mode]
    x = np.pad(x, ((extra[0], extra[1]), (extra[2], extra[3])))

    def rows_from(r):
        if r > x.shape[0] - h:
            return []
        first = [np.sum(x[r:r + h, c:c + w] * k) for c in range(x.shape[1] - w + 1)]
        return [first] + rows_from(r + 1)

    return np.array(rows_from(0), dtype=float).reshape(x.shape[0] - h + 1, x.shape[1] - w + 1)
''',
    # 10. np.convolve of every row with the reversed kernel row, summed over the kernel's rows
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    kr, kc = k.shape
    if mode == "same":
        x = np.pad(x, (((kr - 1) // 2, kr // 2), ((kc - 1) // 2, kc // 2)))
    elif mode == "full":
        x = np.pad(x, ((kr - 1, kr - 1), (kc - 1, kc - 1)))
    n_out = x.shape[0] - kr + 1
    rows = []
    for i in range(n_out):
        rows.append(sum(np.convolve(x[i + t], k[t, ::-1], mode="valid") for t in range(kr)))
    return np.array(rows).reshape(n_out, x.shape[1] - kc + 1)
''',
    # 11. the sum of the kernel-weighted windows by broadcasting over sliding windows
    '''
import numpy.lib.stride_tricks as st

def pad_for(mode, kernel_shape):
    rows, cols = kernel_shape
    if mode == "full":
        return (rows - 1, rows - 1), (cols - 1, cols - 1)
    if mode == "same":
        return ((rows - 1) // 2, rows // 2), ((cols - 1) // 2, cols // 2)
    return (0, 0), (0, 0)

def conv2d(x, k, mode="valid"):
    kernel = np.asarray(k, dtype=float)
    image = np.pad(np.asarray(x, dtype=float), pad_for(mode, kernel.shape))
    patches = st.sliding_window_view(image, kernel.shape)
    return (patches * kernel[np.newaxis, np.newaxis]).sum(axis=(-1, -2))
''',
    # 12. the 2-D FFT of the zero-padded arrays (a correlation is a product of spectra)
    '''
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    H, W = x.shape
    R, S = k.shape
    size = (H + R - 1, W + S - 1)
    spectrum = np.fft.rfft2(x, size) * np.fft.rfft2(k[::-1, ::-1], size)
    full = np.fft.irfft2(spectrum, size)
    if mode == "full":
        return full
    if mode == "same":
        r0, c0 = R - 1 - (R - 1) // 2, S - 1 - (S - 1) // 2
        return full[r0:r0 + H, c0:c0 + W]
    return full[R - 1:H, S - 1:W]
''',
]

# One student's pooling answers, and three copies of them.
ORIGINAL = {
    "max_pool2d": '''
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)
    H, W, C = x.shape
    oh = (H - ph) // sh + 1
    ow = (W - pw) // sw + 1
    pooled = np.zeros((oh, ow, C))
    for i in range(oh):
        for j in range(ow):
            for c in range(C):
                pooled[i, j, c] = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c].max()
    if squeeze:
        pooled = pooled[:, :, 0]
    return pooled
''',
    "avg_pool2d": '''
def avg_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)
    H, W, C = x.shape
    oh = (H - ph) // sh + 1
    ow = (W - pw) // sw + 1
    pooled = np.zeros((oh, ow, C))
    for i in range(oh):
        for j in range(ow):
            for c in range(C):
                pooled[i, j, c] = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c].sum() / (ph * pw)
    if squeeze:
        pooled = pooled[:, :, 0]
    return pooled
''',
    "max_pool2d_backward": '''
def max_pool2d_backward(dout, x, size, stride=None):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
        dout = dout[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)
    grad = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for c in range(dout.shape[2]):
                patch = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c]
                flat = int(np.argmax(patch))
                r, q = flat // pw, flat % pw
                grad[i * sh + r, j * sw + q, c] += dout[i, j, c]
    if squeeze:
        grad = grad[:, :, 0]
    return grad
''',
}

# Every name changed (the functions', the course's, the loop variables').
RENAMED = {
    "max_pool2d": '''
def max_pool2d(inp, window, step=None):
    inp = np.asarray(inp, dtype=float)
    was_flat = inp.ndim == 2
    if was_flat:
        inp = inp[:, :, None]
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    rows, cols, depth = inp.shape
    n_rows = (rows - wy) // ty + 1
    n_cols = (cols - wx) // tx + 1
    result = np.zeros((n_rows, n_cols, depth))
    for r in range(n_rows):
        for s in range(n_cols):
            for d in range(depth):
                result[r, s, d] = inp[r * ty:r * ty + wy, s * tx:s * tx + wx, d].max()
    if was_flat:
        result = result[:, :, 0]
    return result
''',
    "avg_pool2d": '''
def avg_pool2d(inp, window, step=None):
    inp = np.asarray(inp, dtype=float)
    was_flat = inp.ndim == 2
    if was_flat:
        inp = inp[:, :, None]
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    rows, cols, depth = inp.shape
    n_rows = (rows - wy) // ty + 1
    n_cols = (cols - wx) // tx + 1
    result = np.zeros((n_rows, n_cols, depth))
    for r in range(n_rows):
        for s in range(n_cols):
            for d in range(depth):
                result[r, s, d] = inp[r * ty:r * ty + wy, s * tx:s * tx + wx, d].sum() / (wy * wx)
    if was_flat:
        result = result[:, :, 0]
    return result
''',
    "max_pool2d_backward": '''
def max_pool2d_backward(upstream, inp, window, step=None):
    inp = np.asarray(inp, dtype=float)
    upstream = np.asarray(upstream, dtype=float)
    was_flat = inp.ndim == 2
    if was_flat:
        inp = inp[:, :, None]
        upstream = upstream[:, :, None]
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    dinp = np.zeros(inp.shape)
    for r in range(upstream.shape[0]):
        for s in range(upstream.shape[1]):
            for d in range(upstream.shape[2]):
                region = inp[r * ty:r * ty + wy, s * tx:s * tx + wx, d]
                where = int(np.argmax(region))
                u, v = where // wx, where % wx
                dinp[r * ty + u, s * tx + v, d] += upstream[r, s, d]
    if was_flat:
        dinp = dinp[:, :, 0]
    return dinp
''',
}

# The same functions in another order (all in the first answer cell), with comments added.
REORDERED = {
    "max_pool2d": '''
# gradient first: it is the hardest part
def max_pool2d_backward(dout, x, size, stride=None):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    squeeze = x.ndim == 2  # 2-D input: add a channel axis
    if squeeze:
        x = x[:, :, None]
        dout = dout[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw  # Keras: the stride defaults to the window
    else:
        sh, sw = as_pair(stride)
    grad = np.zeros(x.shape)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for c in range(dout.shape[2]):
                patch = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c]
                flat = int(np.argmax(patch))  # the first maximum, row-major
                r, q = flat // pw, flat % pw
                grad[i * sh + r, j * sw + q, c] += dout[i, j, c]  # overlaps add up
    if squeeze:
        grad = grad[:, :, 0]
    return grad


# average pooling: the same windows, the mean instead of the max
def avg_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)
    H, W, C = x.shape
    oh = (H - ph) // sh + 1  # valid: no padding
    ow = (W - pw) // sw + 1
    pooled = np.zeros((oh, ow, C))
    for i in range(oh):
        for j in range(ow):
            for c in range(C):
                pooled[i, j, c] = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c].sum() / (ph * pw)
    if squeeze:
        pooled = pooled[:, :, 0]
    return pooled


# max pooling
def max_pool2d(x, size, stride=None):
    x = np.asarray(x, dtype=float)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    ph, pw = as_pair(size)
    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)
    H, W, C = x.shape
    oh = (H - ph) // sh + 1
    ow = (W - pw) // sw + 1
    pooled = np.zeros((oh, ow, C))
    for i in range(oh):  # every window
        for j in range(ow):
            for c in range(C):
                pooled[i, j, c] = x[i * sh:i * sh + ph, j * sw:j * sw + pw, c].max()
    if squeeze:
        pooled = pooled[:, :, 0]
    return pooled
''',
}

# Blank lines added everywhere, and the loops' variables changed.
SPACED = {
    "max_pool2d": '''

def max_pool2d(x, size, stride=None):

    x = np.asarray(x, dtype=float)

    squeeze = x.ndim == 2
    if squeeze:

        x = x[:, :, None]

    ph, pw = as_pair(size)

    if stride is None:
        sh, sw = ph, pw

    else:
        sh, sw = as_pair(stride)

    H, W, C = x.shape

    oh = (H - ph) // sh + 1

    ow = (W - pw) // sw + 1

    pooled = np.zeros((oh, ow, C))

    for row in range(oh):

        for col in range(ow):

            for ch in range(C):

                pooled[row, col, ch] = x[row * sh:row * sh + ph, col * sw:col * sw + pw, ch].max()

    if squeeze:
        pooled = pooled[:, :, 0]

    return pooled

''',
    "avg_pool2d": '''

def avg_pool2d(x, size, stride=None):

    x = np.asarray(x, dtype=float)

    squeeze = x.ndim == 2

    if squeeze:
        x = x[:, :, None]

    ph, pw = as_pair(size)

    if stride is None:

        sh, sw = ph, pw

    else:

        sh, sw = as_pair(stride)

    H, W, C = x.shape

    oh = (H - ph) // sh + 1
    ow = (W - pw) // sw + 1

    pooled = np.zeros((oh, ow, C))

    for row in range(oh):
        for col in range(ow):
            for ch in range(C):

                pooled[row, col, ch] = x[row * sh:row * sh + ph, col * sw:col * sw + pw, ch].sum() / (ph * pw)

    if squeeze:

        pooled = pooled[:, :, 0]

    return pooled
''',
    "max_pool2d_backward": '''
def max_pool2d_backward(dout, x, size, stride=None):

    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)

    squeeze = x.ndim == 2

    if squeeze:

        x = x[:, :, None]

        dout = dout[:, :, None]

    ph, pw = as_pair(size)

    if stride is None:
        sh, sw = ph, pw
    else:
        sh, sw = as_pair(stride)

    grad = np.zeros(x.shape)

    for row in range(dout.shape[0]):

        for col in range(dout.shape[1]):

            for ch in range(dout.shape[2]):

                patch = x[row * sh:row * sh + ph, col * sw:col * sw + pw, ch]

                flat = int(np.argmax(patch))

                r, q = flat // pw, flat % pw

                grad[row * sh + r, col * sw + q, ch] += dout[row, col, ch]

    if squeeze:
        grad = grad[:, :, 0]

    return grad
''',
}

# A copy edited beyond disguise: the names changed and a few statements rewritten (a reshape for the
# channel axis, np.max for .max(), the output shape computed in one line, the mean by .mean()).
EDITED = {
    "max_pool2d": '''
def max_pool2d(img, window, step=None):
    img = np.asarray(img, dtype=float)
    flat = img.ndim == 2
    if flat:
        img = img.reshape(img.shape[0], img.shape[1], 1)
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    rows, cols, depth = img.shape
    n_rows, n_cols = (rows - wy) // ty + 1, (cols - wx) // tx + 1
    result = np.zeros((n_rows, n_cols, depth))
    for r in range(n_rows):
        for s in range(n_cols):
            for d in range(depth):
                result[r, s, d] = np.max(img[r * ty:r * ty + wy, s * tx:s * tx + wx, d])
    if flat:
        result = result[:, :, 0]
    return result
''',
    "avg_pool2d": '''
def avg_pool2d(img, window, step=None):
    img = np.asarray(img, dtype=float)
    flat = img.ndim == 2
    if flat:
        img = img.reshape(img.shape[0], img.shape[1], 1)
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    rows, cols, depth = img.shape
    n_rows, n_cols = (rows - wy) // ty + 1, (cols - wx) // tx + 1
    result = np.zeros((n_rows, n_cols, depth))
    for r in range(n_rows):
        for s in range(n_cols):
            for d in range(depth):
                result[r, s, d] = img[r * ty:r * ty + wy, s * tx:s * tx + wx, d].mean()
    if flat:
        result = result[:, :, 0]
    return result
''',
    "max_pool2d_backward": '''
def max_pool2d_backward(upstream, img, window, step=None):
    img = np.asarray(img, dtype=float)
    upstream = np.asarray(upstream, dtype=float)
    flat = img.ndim == 2
    if flat:
        img = img.reshape(img.shape[0], img.shape[1], 1)
        upstream = upstream.reshape(upstream.shape[0], upstream.shape[1], 1)
    wy, wx = as_pair(window)
    if step is None:
        ty, tx = wy, wx
    else:
        ty, tx = as_pair(step)
    dimg = np.zeros(img.shape)
    for r in range(upstream.shape[0]):
        for s in range(upstream.shape[1]):
            for d in range(upstream.shape[2]):
                region = img[r * ty:r * ty + wy, s * tx:s * tx + wx, d]
                u, v = np.unravel_index(np.argmax(region), region.shape)
                dimg[r * ty + u, s * tx + v, d] += upstream[r, s, d]
    if flat:
        dimg = dimg[:, :, 0]
    return dimg
''',
}
