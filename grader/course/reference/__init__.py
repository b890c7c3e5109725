"""Reference implementations of the four assignments (SPEC section 3): the graded answers.

NumPy only at import time: modules that need Keras (`keras_models`, parts of `gender`) import it
inside their functions, so the grader can grade the NumPy notebooks without loading TensorFlow.

The names below are a convenience for tests and notebooks. The declarations in
`grader.course.assignments` import the module of their assignment (`from ..reference import
convolution as ref`), so a new reference function is graded as soon as it is written in its module and
declared; it needs no entry here.
"""

from .convolution import conv2d, conv2d_layer, conv2d_matmul, conv2d_multi, im2col
from .counting import (
    cnn_forward,
    conv2d_params,
    conv_output_size,
    dense_params,
    layer_table,
    output_size,
)
from .gender import build_model, load_faces, param_report
from .pooling import avg_pool2d, max_pool2d, max_pool2d_backward, spatial_pyramid_pool

__all__ = [
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
