"""The public surface of grader.course.reference, and its promise not to load TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import grader.course.reference

PUBLIC = [
    "conv2d",
    "conv2d_multi",
    "conv2d_layer",
    "im2col",
    "conv2d_matmul",
    "max_pool2d",
    "avg_pool2d",
    "max_pool2d_backward",
    "spatial_pyramid_pool",
    "conv2d_params",
    "dense_params",
    "conv_output_size",
    "output_size",
    "layer_table",
    "cnn_forward",
    "load_faces",
    "build_model",
    "param_report",
]


def test_reference_exports_exactly_the_graded_names() -> None:
    assert sorted(grader.course.reference.__all__) == sorted(PUBLIC)
    assert len(grader.course.reference.__all__) == len(PUBLIC)
    for name in PUBLIC:
        assert callable(getattr(grader.course.reference, name)), name


def test_importing_the_references_does_not_load_tensorflow() -> None:
    # The grader grades the NumPy notebooks in a process without TensorFlow: a fresh interpreter
    # must be able to import every reference module (keras_models included) without loading Keras.
    code = (
        "import sys, grader.course.reference, grader.course.reference.keras_models, grader.course.reference.networks; "
        "loaded = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules); "
        "assert not loaded, loaded"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
