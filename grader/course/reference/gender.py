"""Reference solution of 04-gender-cnn (性别识别), SPEC section 3.

- :func:`load_faces` reads the course's face-score format (``Filename,Rating`` CSV + image folder).
- :func:`build_model` is the gender CNN, :func:`build_rating_model` the optional face-score
  regression, :func:`param_report` counts each layer's parameters from its configuration by the
  course's formulas (never with ``count_params``), and :func:`train_reference` trains the reference
  on a training split.

Keras is imported inside the functions that need it, so ``import grader.course.reference.gender`` stays
cheap and does not start TensorFlow (the grader imports the references in its own process).
"""

from __future__ import annotations

import csv
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import keras

__all__ = [
    "build_model",
    "build_rating_model",
    "load_faces",
    "param_report",
    "train_reference",
]

logger = logging.getLogger(__name__)

GENDER_CLASSES = {"m": 0, "f": 1}


def load_faces(
    csv_path: str | os.PathLike[str], image_dir: str | os.PathLike[str], size: int = 64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a face-score CSV and its images.

    Returns ``X (N, size, size, 3)`` float32 in ``[0, 1]`` (each image ``convert("RGB")`` then
    ``resize((size, size))`` with Pillow's default filter), ``y (N,)`` int64 (file name starting
    with ``m`` → 0, ``f`` → 1) and ``ratings (N,)`` float64, in the CSV's row order.
    """
    csv_path, image_dir = Path(csv_path), Path(image_dir)
    with csv_path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"Filename", "Rating"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{csv_path}: expected the columns Filename,Rating; missing {', '.join(sorted(missing))}"
                f" (received columns: {reader.fieldnames})"
            )
        rows = [(row["Filename"], row["Rating"]) for row in reader]
    X = np.empty((len(rows), size, size, 3), dtype=np.float32)
    y = np.empty(len(rows), dtype=np.int64)
    ratings = np.empty(len(rows), dtype=np.float64)
    for i, (name, rating) in enumerate(rows):
        first = Path(name).name[:1]
        if first not in GENDER_CLASSES:
            raise ValueError(
                f"{csv_path}, row {i + 2}: file name {name!r} must start with 'm' (male) or 'f' "
                f"(female); received first letter {first!r}"
            )
        y[i] = GENDER_CLASSES[first]
        try:
            ratings[i] = float(rating)
        except ValueError:
            raise ValueError(
                f"{csv_path}, row {i + 2}: Rating of {name!r} is not a number: {rating!r}"
            ) from None
        with Image.open(image_dir / name) as img:
            X[i] = np.asarray(img.convert("RGB").resize((size, size)), dtype=np.float32) / 255.0
    return X, y, ratings


def build_model(input_shape: tuple[int, ...] = (64, 64, 3)) -> keras.Model:
    """The gender CNN: three Conv2D + MaxPooling2D blocks → ``Dense(2, softmax)``.

    Compiled with Adam and sparse categorical cross-entropy. Flatten (rather than global pooling)
    keeps *where* things are — long hair beside and below the face is the strongest cue.
    """
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            layers.Input(shape=tuple(input_shape)),
            layers.RandomFlip("horizontal"),  # a mirrored face has the same gender
            layers.Conv2D(16, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(2, activation="softmax"),
        ],
        name="gender_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def build_rating_model(input_shape: tuple[int, ...] = (64, 64, 3)) -> keras.Model:
    """The optional face-score regression: conv blocks → global max pooling → ``Dense(1)``, MSE.

    The score depends on small details (the mouth's curvature, the eyes' size) wherever the face
    is, so the features are pooled over the whole image instead of flattened by position.
    """
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            layers.Input(shape=tuple(input_shape)),
            layers.RandomFlip("horizontal"),
            layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(64, activation="relu"),
            # start at the middle of the 1-5 scale rather than at 0
            layers.Dense(1, bias_initializer=keras.initializers.Constant(3.0)),
        ],
        name="rating_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mse",
        metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
    )
    return model


def _in_channels(layer: Any, data_format: str = "channels_last") -> int:
    shape = layer.input.shape
    return int(shape[1] if data_format == "channels_first" else shape[-1])


def _layer_params(layer: Any) -> int:
    import keras
    from keras import layers

    if isinstance(layer, keras.Model):  # a nested model counts as the sum of its layers
        return sum(param_report(layer).values())
    cfg = layer.get_config()
    if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        # fh*fw*c_in*filters (+ filters); with groups, each filter sees c_in/groups channels
        c_in = _in_channels(layer, cfg.get("data_format") or "channels_last")
        filters = int(cfg["filters"])
        weights = math.prod(cfg["kernel_size"]) * (c_in // int(cfg.get("groups", 1))) * filters
        return weights + (filters if cfg["use_bias"] else 0)
    if isinstance(layer, layers.Dense):
        units = int(cfg["units"])
        return _in_channels(layer) * units + (units if cfg["use_bias"] else 0)
    if isinstance(layer, layers.BatchNormalization):
        axes = cfg["axis"] if isinstance(cfg["axis"], (list, tuple)) else [cfg["axis"]]
        channels = math.prod(int(layer.input.shape[a]) for a in axes)
        # gamma (if scale) and beta (if center) are trained; the moving mean and variance are not,
        # but they are parameters of the layer all the same (Keras counts them)
        per_channel = 2 + int(cfg["scale"]) + int(cfg["center"])
        return per_channel * channels
    if not layer.weights:  # pooling, flatten, dropout, activations, augmentation, reshaping
        return 0
    kind = type(layer).__name__
    raise ValueError(f"param_report: no formula for layer {layer.name!r} of type {kind}")


def param_report(model: keras.Model) -> dict[str, int]:
    """``{layer_name: parameters}`` for every layer of ``model``, from each layer's config.

    Conv: ``fh*fw*c_in*filters (+ filters)``; Dense: ``n_in*units (+ units)``;
    BatchNormalization: ``4*channels`` (gamma, beta, moving mean, moving variance); layers without
    weights (pooling, Flatten, Dropout, augmentation...): 0.
    """
    return {layer.name: _layer_params(layer) for layer in model.layers}


def train_reference(
    train_dir: str | os.PathLike[str],
    *,
    size: int = 64,
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 0,
    verbose: int = 0,
) -> keras.Model:
    """Train :func:`build_model` on ``train_dir/FaceScore.csv`` + ``train_dir/images``, seeded."""
    import keras

    train_dir = Path(train_dir)
    X, y, _ = load_faces(train_dir / "FaceScore.csv", train_dir / "images", size=size)
    keras.utils.set_random_seed(seed)
    model = build_model(X.shape[1:])
    model.fit(X, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    logger.info("trained the reference gender CNN on %d images for %d epochs", len(X), epochs)
    return model
