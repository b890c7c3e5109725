"""A small SYNTHETIC face dataset in the course's face-score format (SPEC section 3, 04-gender-cnn).

The real course dataset belongs to the instructor; this module draws cartoon faces so that the demo,
the tests and the course CI run offline. **The images are synthetic**: they are drawn with
:mod:`PIL.ImageDraw` from random parameters and show no real person.

Layout written by :func:`generate_faces` (the course's format)::

    OUT_DIR/train/FaceScore.csv      columns ``Filename,Rating``
    OUT_DIR/train/images/m0001.jpg   ``m`` = male (class 0), ``f`` = female (class 1)
    OUT_DIR/heldout/FaceScore.csv    the split the grader keeps; students only get ``train/``
    OUT_DIR/heldout/images/f0801.jpg

What can be learnt from the pictures, by design:

- **Gender is carried by shape only.** Most men have short hair (a fuller top, short sides, ears
  visible), a square jaw and thick straight brows, 30 % of them a beard; most women have long
  hair falling beside the face to the shoulders, a tapered chin and thin arched brows. Every cue is
  jittered, and some faces go against the hair cue (women with short hair, men with long hair), so
  the task is not trivial.
- **Colour carries no gender signal.** Skin tone, hair colour, background, clothes, blobs in the
  background, lighting (brightness, gradient, colour cast), sensor noise, head position and scale
  are drawn from the same distributions for both genders, and the women's long sides are balanced
  by the men's fuller tops and beards so that the hair area is similar. A classifier on the mean
  colour of an image stays near chance (0.505 measured on 4000 + 4000 images; the tests check it).
- **The rating** (a 1.0–5.0 face score) is a function of the drawn face — mainly the curvature of
  the mouth (smile or frown) and the size of the eyes — plus noise, drawn the same way for both
  genders, so the optional regression question is learnable and independent of the gender.

Defaults: 800 training and 300 held-out images of 64×64 pixels. 64 px is the default ``size`` of
``load_faces``, so no resampling happens on load, and it is enough for the shape cues (a thick brow
is 2–3 px, a thin one about 1 px) while keeping the reference CNN's training well under a minute on
two CPU cores. 800 training images let that CNN reach 0.90–0.95 held-out accuracy in 20 epochs
(~20 s); with 300 held-out images the standard error of an accuracy near 0.9 is about 1.7 points
(2.9 points at chance level), small against the grading thresholds (0.60 → 0.85). Generating the
default set takes about 1.5 s (~4 MB of JPEGs).

Determinism: each image is drawn from its own generator seeded with ``(seed, global index)``, so
the same ``seed`` and sizes give byte-identical files (with the same NumPy and Pillow versions).
Train and held-out images are numbered consecutively (train ``1..n_train``, held-out after it), so
file names never collide across the splits.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO, StringIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "CSV_NAME",
    "DEFAULT_N_HELDOUT",
    "DEFAULT_N_TRAIN",
    "DEFAULT_SEED",
    "DEFAULT_SIZE",
    "IMAGE_DIR",
    "SPLITS",
    "ensure_faces",
    "generate_faces",
    "main",
]

logger = logging.getLogger(__name__)

CSV_NAME = "FaceScore.csv"
IMAGE_DIR = "images"
SPLITS = ("train", "heldout")
DEFAULT_N_TRAIN = 800
DEFAULT_N_HELDOUT = 300
DEFAULT_SIZE = 64
DEFAULT_SEED = 2024
_MIN_SIZE = 32  # below this the brows and the mouth are no longer drawable
_SUPERSAMPLE = 2  # drawn at 2x and averaged down: anti-aliased edges, still deterministic
_JPEG_QUALITY = 92

RGB = tuple[int, int, int]
Point = tuple[float, float]

# Palettes shared by both genders: the colour of a face never depends on its gender.
_SKIN_TONES: tuple[RGB, ...] = (
    (255, 224, 196), (241, 194, 160), (224, 172, 130), (198, 134, 92), (141, 85, 54), (92, 58, 40),
)
_HAIR_COLOURS: tuple[RGB, ...] = (
    (28, 24, 22), (62, 42, 30), (104, 70, 44), (140, 72, 40), (206, 174, 118), (160, 158, 154),
)


@dataclass(frozen=True)
class _Face:
    """Every random choice behind one image; :func:`_render` turns it into pixels."""

    female: bool
    long_hair: bool
    beard: bool
    # geometry, in units of the image side
    cx: float
    cy: float
    fw: float  # half-width of the face
    fh: float  # half-height of the face
    jaw: float  # superellipse exponent of the lower face: > 2 square (male), < 2 tapered (female)
    top: float  # how far the hair rises above the head
    hair_width: float  # long hair: half-width in units of fw
    hair_length: float  # long hair: bottom, in units of fh below the face centre
    hairline: float  # fringe bottom, in units of fh above the face centre
    shoulder: float  # half-width of the shoulders
    brow_thick: float
    brow_arch: float
    brow_gap: float
    eye: float  # eye half-width, in units of fw (also drives the rating)
    smile: float  # mouth curvature in [-1, 1] (also drives the rating)
    mouth: float  # mouth half-width, in units of fw
    jitter: tuple[float, ...]  # small offsets for the jagged hair edges
    # colours
    skin: RGB
    hair: RGB
    clothes: RGB
    iris: RGB
    background: tuple[RGB, RGB]
    blobs: tuple[tuple[float, float, float, float, RGB], ...]
    # photometry, applied after drawing
    brightness: float
    gradient: float
    gradient_angle: float
    cast: tuple[float, float, float]
    noise: float
    noise_seed: int
    rating: float


def _check_positive_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received {name}={value!r}")
    return int(value)


def _jitter_colour(rng: np.random.Generator, base: RGB, amount: int) -> RGB:
    c = np.asarray(base) + rng.integers(-amount, amount + 1, size=3)
    r, g, b = (int(v) for v in np.clip(c, 0, 255))
    return (r, g, b)


def _random_colour(rng: np.random.Generator, low: int = 15, high: int = 240) -> RGB:
    r, g, b = (int(v) for v in rng.integers(low, high + 1, size=3))
    return (r, g, b)


def _sample_face(rng: np.random.Generator, female: bool) -> _Face:
    """Draw the parameters of one face. Only the shape parameters depend on ``female``."""
    u = rng.uniform
    # 12 % of the women have short hair and 8 % of the men long hair: the hair is the strongest
    # cue but not a perfect one, the jaw and the brows still tell those faces apart.
    long_hair = bool(u() < 0.88) if female else bool(u() < 0.08)
    beard = (not female) and bool(u() < 0.3)
    s = u(0.9, 1.1)
    fw, fh = 0.18 * s * u(0.94, 1.06), 0.24 * s * u(0.94, 1.06)
    if female:
        jaw, brow_thick, brow_arch, brow_gap = u(1.35, 1.9), u(0.010, 0.016), u(0.5, 1.0), u(0.12, 0.18)
    else:
        jaw, brow_thick, brow_arch, brow_gap = u(3.0, 5.0), u(0.030, 0.042), u(0.0, 0.25), u(0.04, 0.09)
    # Short hair gets a fuller top so that the hair area (and hence the mean colour) of short- and
    # long-haired faces is about the same.
    top = u(0.00, 0.05) if long_hair else u(0.12, 0.21)
    smile, eye = u(-1.0, 1.0), u(0.15, 0.27)
    rating = 3.0 + 1.1 * smile + 0.5 * (eye - 0.21) / 0.06 + rng.normal(0.0, 0.2)
    skin = _jitter_colour(rng, _SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))], 12)
    hair = _jitter_colour(rng, _HAIR_COLOURS[int(rng.integers(len(_HAIR_COLOURS)))], 14)
    n_blobs = int(rng.integers(0, 4))
    blobs = tuple(
        (u(0, 1), u(0, 1), u(0.05, 0.25), u(0.05, 0.25), _random_colour(rng)) for _ in range(n_blobs)
    )
    return _Face(
        female=female, long_hair=long_hair, beard=beard,
        cx=0.5 + u(-0.06, 0.06), cy=0.45 + u(-0.05, 0.05), fw=fw, fh=fh, jaw=jaw, top=top,
        hair_width=u(1.18, 1.4), hair_length=u(1.0, 1.7), hairline=u(0.35, 0.6),
        shoulder=u(0.34, 0.46), brow_thick=brow_thick, brow_arch=brow_arch, brow_gap=brow_gap,
        eye=eye, smile=smile, mouth=u(0.28, 0.42), jitter=tuple(u(-1.0, 1.0, size=24).tolist()),
        skin=skin, hair=hair, clothes=_random_colour(rng), iris=_random_colour(rng, 10, 150),
        background=(_random_colour(rng), _random_colour(rng)), blobs=blobs,
        brightness=u(0.7, 1.2), gradient=u(0.0, 0.5), gradient_angle=u(0.0, 2 * math.pi),
        cast=(u(0.9, 1.1), u(0.9, 1.1), u(0.9, 1.1)),
        noise=u(1.0, 6.0), noise_seed=int(rng.integers(2**63)),
        rating=float(np.clip(rating, 1.0, 5.0)),
    )


def _darker(c: RGB, f: float) -> RGB:
    return (int(c[0] * f), int(c[1] * f), int(c[2] * f))


def _head_outline(f: _Face, n: int = 40) -> list[Point]:
    """Upper half an ellipse, lower half a superellipse whose exponent is the jaw shape."""
    pts: list[Point] = []
    for i in range(2 * n):
        t = math.pi + math.pi * i / n  # pi..3pi: top half first, then bottom half
        c, s = math.cos(t), math.sin(t)
        if s <= 0:  # top half (image y grows downwards)
            pts.append((f.cx + f.fw * c, f.cy + f.fh * s))
        else:
            e = 2.0 / f.jaw
            pts.append((f.cx + f.fw * math.copysign(abs(c) ** e, c), f.cy + f.fh * abs(s) ** e))
    return pts


def _hair_top(f: _Face, grow: float = 1.06) -> tuple[float, float, float, float]:
    return (f.cx - f.fw * grow, f.cy - f.fh * 1.05 - f.top, f.cx + f.fw * grow, f.cy + 0.15 * f.fh)


@dataclass(frozen=True)
class _Canvas:
    """A supersampled drawing surface with coordinates given as fractions of the image side."""

    draw: ImageDraw.ImageDraw
    side: int

    def p(self, x: float, y: float) -> Point:
        return (x * self.side, y * self.side)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * self.side, y0 * self.side, x1 * self.side, y1 * self.side)


def _render(f: _Face, size: int) -> Image.Image:
    """Draw ``f`` at ``size`` x ``size``: shapes with ImageDraw, then lighting and noise in NumPy."""
    big = size * _SUPERSAMPLE
    # background: a vertical gradient between two random colours, plus random blobs
    t = np.linspace(0.0, 1.0, big, dtype=np.float64)[:, None, None]
    c0, c1 = (np.asarray(c, dtype=np.float64) for c in f.background)
    bg = np.broadcast_to(c0 * (1 - t) + c1 * t, (big, big, 3))
    img = Image.fromarray(np.round(bg).astype(np.uint8), "RGB")
    c = _Canvas(ImageDraw.Draw(img), big)
    for bx, by, rx, ry, colour in f.blobs:
        c.draw.ellipse(c.box(bx - rx, by - ry, bx + rx, by + ry), fill=colour)
    _draw_head(c, f)
    _draw_fringe(c, f)
    _draw_eyes(c, f)
    _draw_nose_and_mouth(c, f)
    small = img.resize((size, size), Image.Resampling.BOX)
    return _photometry(np.asarray(small, dtype=np.float64), f)


def _draw_head(c: _Canvas, f: _Face) -> None:
    """Shoulders, the hair behind the head (long, with strands, or short, with ears), neck, face, beard."""
    d, p, box, j = c.draw, c.p, c.box, f.jitter
    top_shoulder = f.cy + f.fh + 0.10
    shoulders = box(f.cx - f.shoulder, top_shoulder, f.cx + f.shoulder, top_shoulder + 0.6)
    d.ellipse(shoulders, fill=f.clothes)
    d.ellipse(box(*_hair_top(f, 1.06 if f.long_hair else 1.12)), fill=f.hair)
    if f.long_hair:
        hw, bottom = f.fw * f.hair_width, f.cy + f.fh * f.hair_length
        sides = box(f.cx - hw, f.cy - 0.4 * f.fh, f.cx + hw, bottom)
        d.rounded_rectangle(sides, radius=0.04 * c.side, fill=f.hair)
        # a jagged lower edge: strands of slightly different length
        n = 8
        strands: list[Point] = [p(f.cx - hw, bottom - 0.02)]
        for i in range(n + 1):
            x = f.cx - hw + 2 * hw * i / n
            strands.append(p(x, bottom + 0.02 * (1 + j[i])))
        strands.append(p(f.cx + hw, bottom - 0.02))
        d.polygon(strands, fill=f.hair)
    else:
        for side in (-1, 1):  # ears, visible with short hair only
            ex = f.cx + side * f.fw
            ear = box(ex - 0.035, f.cy - 0.06, ex + 0.035, f.cy + 0.05)
            d.ellipse(ear, fill=_darker(f.skin, 0.92))
    neck = box(f.cx - 0.42 * f.fw, f.cy + 0.5 * f.fh, f.cx + 0.42 * f.fw, top_shoulder + 0.05)
    d.rectangle(neck, fill=_darker(f.skin, 0.9))
    outline = _head_outline(f)
    d.polygon([p(x, y) for x, y in outline], fill=f.skin)
    # beard: the lower face in hair colour, with the mouth left visible (drawn later)
    if f.beard:
        lower = [(x, y) for x, y in outline if y > f.cy + 0.15 * f.fh]
        d.polygon([p(x, y) for x, y in lower], fill=f.hair)


def _draw_fringe(c: _Canvas, f: _Face) -> None:
    """The top of the head down to a jagged hairline."""
    p, j = c.p, f.jitter
    fringe: list[Point] = []
    for i in range(21):
        a = math.pi + math.pi * i / 20
        fringe.append(p(f.cx + 1.04 * f.fw * math.cos(a), f.cy + 1.04 * f.fh * math.sin(a)))
    hairline = f.cy - f.hairline * f.fh
    side_y = f.cy - 0.1 * f.fh
    fringe.append(p(f.cx + 1.04 * f.fw, side_y))
    fringe.append(p(f.cx + 0.85 * f.fw, side_y))
    n = 7
    for i in range(n + 1):
        x = f.cx + 0.8 * f.fw - 1.6 * f.fw * i / n
        fringe.append(p(x, hairline + 0.03 * f.fh * j[10 + i]))
    fringe.append(p(f.cx - 0.85 * f.fw, side_y))
    fringe.append(p(f.cx - 1.04 * f.fw, side_y))
    c.draw.polygon(fringe, fill=f.hair)


def _draw_eyes(c: _Canvas, f: _Face) -> None:
    """Eyes with iris and pupil, and brows: thick and straight, or thin and arched."""
    d, p, box, j = c.draw, c.p, c.box, f.jitter
    ey = f.cy - 0.08 * f.fh
    ew = f.eye * f.fw
    eh = ew * 0.55
    for side in (-1, 1):
        ex = f.cx + side * 0.42 * f.fw
        d.ellipse(box(ex - ew, ey - eh, ex + ew, ey + eh), fill=(242, 240, 236))
        r = ew * 0.55
        d.ellipse(box(ex - r, ey - r, ex + r, ey + r), fill=f.iris)
        r = ew * 0.25
        d.ellipse(box(ex - r, ey - r, ex + r, ey + r), fill=(10, 10, 10))
        by = ey - eh - f.brow_gap * f.fh
        bw = ew * 1.25
        jl, jr = j[20 + 2 * (side > 0)], j[21 + 2 * (side > 0)]
        brow = [p(ex - bw, by + 0.01 * jl), p(ex, by - f.brow_arch * 0.035), p(ex + bw, by + 0.01 * jr)]
        width = max(1, round(f.brow_thick * c.side))
        d.line(brow, fill=_darker(f.hair, 0.8), width=width, joint="curve")


def _draw_nose_and_mouth(c: _Canvas, f: _Face) -> None:
    """The nose, and the mouth: a crescent between two parabolas, open upwards (smile) or downwards
    (frown); a neutral mouth is a thin line."""
    d, p, big = c.draw, c.p, c.side
    ny = f.cy + 0.28 * f.fh
    nose = [p(f.cx, f.cy + 0.02), p(f.cx + 0.012, ny), p(f.cx - 0.01, ny)]
    d.line(nose, fill=_darker(f.skin, 0.75), width=max(1, round(0.008 * big)))
    my, mw, k = f.cy + 0.58 * f.fh, f.mouth * f.fw, 0.22 * f.fh * f.smile
    xs = np.linspace(-1.0, 1.0, 9).tolist()
    upper = [p(f.cx + mw * x, my - k / 2 + k * (1 - x * x)) for x in xs]
    lower = [p(f.cx + mw * x, my - k / 2 + 1.8 * k * (1 - x * x)) for x in reversed(xs)]
    d.polygon(upper + lower, fill=(96, 28, 34))
    lips = (min(255, int(f.skin[0] * 0.75) + 30), int(f.skin[1] * 0.5), int(f.skin[2] * 0.5))
    d.line(upper, fill=lips, width=max(1, round(0.018 * big)), joint="curve")
    d.line(lower, fill=lips, width=max(1, round(0.018 * big)), joint="curve")


def _photometry(a: np.ndarray, f: _Face) -> Image.Image:
    """Lighting (brightness, a linear gradient, a colour cast) and sensor noise."""
    size = a.shape[0]
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    along = xx * math.cos(f.gradient_angle) + yy * math.sin(f.gradient_angle)
    light = f.brightness * (1.0 + f.gradient * along)
    a = a * light[:, :, None] * np.asarray(f.cast)
    noise_rng = np.random.default_rng(f.noise_seed)
    a = a + noise_rng.normal(0.0, f.noise, size=a.shape)
    return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8), "RGB")


def _write_atomic(path: Path, data: bytes) -> None:
    # Concurrent generators (grader --jobs) write identical bytes; each file appears whole.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_split(split_dir: Path, seed: int, first_index: int, n: int, size: int) -> None:
    image_dir = split_dir / IMAGE_DIR
    image_dir.mkdir(parents=True, exist_ok=True)
    order_rng = np.random.default_rng([seed, 0, first_index])
    female = np.zeros(n, dtype=bool)
    female[n // 2 :] = True  # balanced: the counts differ by at most one
    order_rng.shuffle(female)
    rows: list[tuple[str, str]] = []
    for k in range(n):
        index = first_index + k
        rng = np.random.default_rng([seed, 1, index])
        face = _sample_face(rng, bool(female[k]))
        name = f"{'f' if face.female else 'm'}{index:04d}.jpg"
        image = _render(face, size)
        buf = BytesIO()
        image.save(buf, format="JPEG", quality=_JPEG_QUALITY)
        _write_atomic(image_dir / name, buf.getvalue())
        rows.append((name, f"{face.rating:.6f}"))
    text = StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(("Filename", "Rating"))
    writer.writerows(rows)
    # the CSV is written last, so a split with a CSV is complete
    _write_atomic(split_dir / CSV_NAME, text.getvalue().encode("utf-8"))


def generate_faces(
    out_dir: str | os.PathLike[str],
    *,
    n_train: int = DEFAULT_N_TRAIN,
    n_heldout: int = DEFAULT_N_HELDOUT,
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
) -> None:
    """Write the synthetic face set: ``out_dir/train/`` and ``out_dir/heldout/``.

    Each split holds ``FaceScore.csv`` (``Filename,Rating``, rows in shuffled order, genders
    balanced) and ``images/*.jpg`` (RGB, ``size`` x ``size``). Existing files of the same names are
    replaced; nothing else in ``out_dir`` is touched. Same arguments, same bytes.
    """
    n_train = _check_positive_int("n_train", n_train, 1)
    n_heldout = _check_positive_int("n_heldout", n_heldout, 1)
    size = _check_positive_int("size", size, _MIN_SIZE)
    seed = _check_positive_int("seed", seed, 0)
    if n_train + n_heldout > 9999:
        raise ValueError(
            f"n_train + n_heldout must be at most 9999 (4-digit file numbers). "
            f"Received n_train={n_train}, n_heldout={n_heldout}"
        )
    root = Path(out_dir)
    logger.info(
        "generating synthetic faces in %s (train %d, heldout %d, %d px, seed %d)",
        root, n_train, n_heldout, size, seed,
    )
    _write_split(root / SPLITS[0], seed, 1, n_train, size)
    _write_split(root / SPLITS[1], seed, 1 + n_train, n_heldout, size)


def ensure_faces(out_dir: str | os.PathLike[str], **kwargs: int) -> bool:
    """Generate the synthetic set in ``out_dir`` unless both splits' CSVs already exist.

    Returns True when it generated. The keyword arguments are those of :func:`generate_faces`;
    an existing set is not checked against them.
    """
    root = Path(out_dir)
    if all((root / split / CSV_NAME).is_file() for split in SPLITS):
        logger.debug("synthetic faces already present in %s", root)
        return False
    generate_faces(root, **kwargs)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grader.course.faces OUT_DIR [--seed N] [--n-train N] [--n-heldout N] [--size PX]``."""
    parser = argparse.ArgumentParser(
        prog="python -m grader.course.faces",
        description="Generate the synthetic face dataset (course face-score format) in OUT_DIR.",
    )
    parser.add_argument("out_dir", metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--n-train", type=int, default=DEFAULT_N_TRAIN)
    parser.add_argument("--n-heldout", type=int, default=DEFAULT_N_HELDOUT)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    args = parser.parse_args(argv)
    try:
        generate_faces(
            args.out_dir, n_train=args.n_train, n_heldout=args.n_heldout, size=args.size, seed=args.seed
        )
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"wrote {args.n_train} train + {args.n_heldout} heldout synthetic faces to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
