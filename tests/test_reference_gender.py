"""The reference of 04-gender-cnn (grader.course.reference.gender): loading, models, parameter formulas.

Keras is imported inside the tests that need it, never at collection time.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from grader.course.faces import CSV_NAME, IMAGE_DIR, generate_faces
from grader.course.reference.gender import (
    build_model,
    build_rating_model,
    load_faces,
    param_report,
    train_reference,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gender_tiny")
    generate_faces(root, n_train=8, n_heldout=4, size=48, seed=21)
    return root


@pytest.fixture(scope="session")
def faces_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gender_faces_default")
    generate_faces(root)
    return root


def test_import_does_not_start_tensorflow() -> None:
    code = "import sys, grader.course.reference.gender; print(sorted({'keras', 'tensorflow'} & set(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------- load_faces


def test_load_faces_shapes_dtypes_and_labels(tiny: Path) -> None:
    X, y, ratings = load_faces(tiny / "train" / CSV_NAME, tiny / "train" / IMAGE_DIR)
    with (tiny / "train" / CSV_NAME).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert X.shape == (8, 64, 64, 3) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() > 0.5  # scaled to [0, 1], not 0..255
    assert y.shape == (8,) and np.issubdtype(y.dtype, np.integer)
    assert y.tolist() == [0 if r["Filename"][0] == "m" else 1 for r in rows]
    assert ratings.shape == (8,) and ratings.dtype == np.float64
    np.testing.assert_array_equal(ratings, [float(r["Rating"]) for r in rows])


def test_load_faces_size_and_pixels(tiny: Path) -> None:
    from PIL import Image

    X, _, _ = load_faces(tiny / "heldout" / CSV_NAME, tiny / "heldout" / IMAGE_DIR, size=48)
    assert X.shape == (4, 48, 48, 3)
    with (tiny / "heldout" / CSV_NAME).open(newline="") as fh:
        first = next(csv.DictReader(fh))["Filename"]
    with Image.open(tiny / "heldout" / IMAGE_DIR / first) as img:  # stored at 48 px: no resampling
        np.testing.assert_array_equal(X[0], np.asarray(img, dtype=np.float32) / 255.0)
    X32, _, _ = load_faces(tiny / "heldout" / CSV_NAME, tiny / "heldout" / IMAGE_DIR, size=32)
    assert X32.shape == (4, 32, 32, 3)


def test_load_faces_converts_grey_images_to_rgb(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "img").mkdir()
    Image.new("L", (20, 30), 128).save(tmp_path / "img" / "f0001.png")
    (tmp_path / "s.csv").write_text("Filename,Rating\nf0001.png,2.5\n")
    X, y, ratings = load_faces(tmp_path / "s.csv", tmp_path / "img", size=16)
    assert X.shape == (1, 16, 16, 3)
    np.testing.assert_allclose(X, 128 / 255, atol=1e-6)
    assert y.tolist() == [1] and ratings.tolist() == [2.5]


def _copy_with_names(src: Path, dst: Path, names: list[str]) -> Path:
    (dst / IMAGE_DIR).mkdir(parents=True)
    source = sorted((src / IMAGE_DIR).iterdir())[0]
    lines = ["Filename,Rating"]
    for name in names:
        shutil.copy(source, dst / IMAGE_DIR / name)
        lines.append(f"{name},3.0")
    (dst / CSV_NAME).write_text("\n".join(lines) + "\n")
    return dst / CSV_NAME


@pytest.mark.parametrize("bad", ["x0003.jpg", "M0003.jpg", "0003.jpg"])
def test_load_faces_rejects_an_unknown_first_letter(tiny: Path, tmp_path: Path, bad: str) -> None:
    csv_path = _copy_with_names(tiny / "train", tmp_path, ["m0001.jpg", "f0002.jpg", bad])
    with pytest.raises(ValueError, match=bad):
        load_faces(csv_path, tmp_path / IMAGE_DIR)


def test_load_faces_rejects_missing_columns(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("Image,Score\nm0001.jpg,3.0\n")
    with pytest.raises(ValueError, match=r"s\.csv.*Filename, Rating"):
        load_faces(tmp_path / "s.csv", tmp_path)


# ---------------------------------------------------------------------------------------- models


def _conv_blocks(model: Any) -> int:
    """Number of Conv2D layers directly followed (possibly after BN/activation) by a pooling layer."""
    from keras import layers

    names = [type(layer).__name__ for layer in model.layers]
    blocks, seen_conv = 0, False
    for layer, name in zip(model.layers, names):
        if isinstance(layer, layers.Conv2D):
            seen_conv = True
        elif seen_conv and "Pooling2D" in name:
            blocks, seen_conv = blocks + 1, False
    return blocks


def test_build_model_is_a_compiled_two_class_cnn() -> None:
    model = build_model((64, 64, 3))
    assert model.compiled and model.optimizer is not None
    assert _conv_blocks(model) >= 2
    assert tuple(model.output_shape) == (None, 2)
    assert model.layers[-1].get_config()["activation"] == "softmax"
    probs = model.predict(np.zeros((3, 64, 64, 3), np.float32), verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_build_rating_model_is_a_compiled_regression() -> None:
    model = build_rating_model((64, 64, 3))
    assert model.compiled and model.loss == "mse"
    assert tuple(model.output_shape) == (None, 1)
    assert _conv_blocks(model) >= 2


def _nested() -> Any:
    """A Sequential used as a layer counts as the sum of its layers."""
    import keras
    from keras import layers as L  # noqa: N812

    block = keras.Sequential([L.Conv2D(4, 3), L.BatchNormalization(), L.MaxPooling2D(2)], name="block")
    return keras.Sequential([keras.Input((16, 16, 3)), block, L.Flatten(), L.Dense(2, activation="softmax")])


def _models() -> dict[str, Callable[[], Any]]:
    def seq(*layers: Any, shape: tuple[int, ...] = (32, 32, 3)) -> Callable[[], Any]:
        def make() -> Any:
            import keras

            return keras.Sequential([keras.Input(shape), *(make_layer() for make_layer in layers)])

        return make

    from keras import layers as L  # noqa: N812 (keras idiom)

    return {
        "build_model": lambda: build_model((64, 64, 3)),
        "build_model_50x50": lambda: build_model((50, 50, 3)),
        "build_rating_model": lambda: build_rating_model((64, 64, 3)),
        "no_bias_and_batchnorm": seq(
            lambda: L.Conv2D(8, (3, 5), use_bias=False),
            lambda: L.BatchNormalization(),
            lambda: L.Activation("relu"),
            lambda: L.MaxPooling2D(2),
            lambda: L.Conv2D(16, 3, strides=2, padding="same"),
            lambda: L.AveragePooling2D(2),
            lambda: L.Flatten(),
            lambda: L.Dense(32, use_bias=False),
            lambda: L.BatchNormalization(center=False),
            lambda: L.Dense(10, activation="softmax"),
        ),
        "course_face_score_cnn": seq(  # SPEC 3: 128x128x3, three Conv2D(100, 2x2, same), Dense(10)
            lambda: L.Conv2D(100, 2, padding="same", activation="relu"),
            lambda: L.MaxPooling2D(2),
            lambda: L.Conv2D(100, 2, padding="same", activation="relu"),
            lambda: L.MaxPooling2D(2),
            lambda: L.Conv2D(100, 2, padding="same", activation="relu"),
            lambda: L.MaxPooling2D(2),
            lambda: L.Flatten(),
            lambda: L.Dense(10),
            shape=(128, 128, 3),
        ),
        "nested_block": lambda: _nested(),
        "grey_sigmoid_with_augmentation": seq(
            lambda: L.Rescaling(1 / 255),
            lambda: L.RandomFlip("horizontal"),
            lambda: L.RandomRotation(0.1),
            lambda: L.Conv2D(4, 1, groups=1),
            lambda: L.Conv2D(6, 3, groups=2),
            lambda: L.MaxPooling2D(3, strides=2),
            lambda: L.Dropout(0.5),
            lambda: L.GlobalMaxPooling2D(),
            lambda: L.Dense(1, activation="sigmoid"),
            shape=(50, 50, 1),
        ),
    }


# listed here so that collecting the tests does not import Keras
MODEL_NAMES = (
    "build_model",
    "build_model_50x50",
    "build_rating_model",
    "no_bias_and_batchnorm",
    "course_face_score_cnn",
    "nested_block",
    "grey_sigmoid_with_augmentation",
)


def test_model_names_are_all_the_models() -> None:
    assert tuple(_models()) == MODEL_NAMES


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_param_report_matches_keras_for_every_layer(name: str) -> None:
    model = _models()[name]()
    report = param_report(model)
    assert list(report) == [layer.name for layer in model.layers]
    assert report == {layer.name: layer.count_params() for layer in model.layers}
    assert all(isinstance(v, int) for v in report.values())


def test_param_report_knows_the_course_answer() -> None:
    model = _models()["course_face_score_cnn"]()
    assert sum(param_report(model).values()) == 337_510  # SPEC 3, from the course notes


def test_param_report_does_not_call_count_params(monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    model = build_model((64, 64, 3))
    expected = {layer.name: layer.count_params() for layer in model.layers}

    def forbidden(self: Any) -> int:
        raise AssertionError("param_report must compute, not call count_params")

    monkeypatch.setattr(keras.layers.Layer, "count_params", forbidden)
    assert param_report(model) == expected


def test_model_with_bias_free_layers_is_counted_without_biases() -> None:
    model = _models()["no_bias_and_batchnorm"]()
    report = param_report(model)
    conv, dense = model.layers[0], model.layers[7]
    assert report[conv.name] == 3 * 5 * 3 * 8  # no + 8
    # 32x32 -> conv 3x5 -> 30x28 -> pool -> 15x14 -> conv s2 same -> 8x7 -> pool -> 4x3x16
    assert report[dense.name] == 4 * 3 * 16 * 32  # no + 32
    assert report[model.layers[1].name] == 4 * 8 and report[model.layers[8].name] == 3 * 32


def test_param_report_names_a_layer_it_has_no_formula_for() -> None:
    import keras

    model = keras.Sequential([keras.Input((5, 3)), keras.layers.SimpleRNN(4, name="rnn")])
    with pytest.raises(ValueError, match="'rnn'.*SimpleRNN"):
        param_report(model)


# ---------------------------------------------------------------------------------------- training


@pytest.mark.slow
def test_reference_reaches_the_threshold_on_heldout(faces_default: Path, record_property: Any) -> None:
    """The reference clears course.toml's accuracy_full (0.85) on the synthetic held-out split."""
    start = time.perf_counter()
    model = train_reference(faces_default / "train", seed=0)
    seconds = time.perf_counter() - start
    X, y, _ = load_faces(faces_default / "heldout" / CSV_NAME, faces_default / "heldout" / IMAGE_DIR)
    accuracy = float((model.predict(X, verbose=0).argmax(axis=1) == y).mean())
    record_property("train_seconds", round(seconds, 1))
    record_property("heldout_accuracy", accuracy)
    print(f"reference gender CNN: trained in {seconds:.1f} s, held-out accuracy {accuracy:.3f}")
    assert accuracy >= 0.85


@pytest.mark.slow
def test_rating_model_learns_the_face_score(faces_default: Path, record_property: Any) -> None:
    """The optional regression is learnable: RMSE well below predicting the mean."""
    import keras

    X, _, r = load_faces(faces_default / "train" / CSV_NAME, faces_default / "train" / IMAGE_DIR)
    X_test, _, r_test = load_faces(faces_default / "heldout" / CSV_NAME, faces_default / "heldout" / IMAGE_DIR)
    keras.utils.set_random_seed(0)
    model = build_rating_model(X.shape[1:])
    start = time.perf_counter()
    model.fit(X, r, epochs=30, batch_size=32, verbose=0)
    seconds = time.perf_counter() - start
    rmse = float(np.sqrt(np.mean((model.predict(X_test, verbose=0)[:, 0] - r_test) ** 2)))
    baseline = float(r_test.std())  # RMSE of always predicting the mean
    record_property("rating_rmse", rmse)
    print(f"reference rating CNN: trained in {seconds:.1f} s, held-out RMSE {rmse:.3f} (baseline {baseline:.3f})")
    assert rmse < 0.8 * baseline
