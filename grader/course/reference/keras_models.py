"""Keras models of the reference layer lists: the truth for `layer_table` and `cnn_forward`.

Keras (and with it TensorFlow) is imported inside the functions only: `import grader.course.reference` must
stay light, since the grader grades the NumPy notebooks without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .counting import Conv2DSpec, DenseSpec, Layer, LayerSpec, PoolSpec, layer_table, parse_layers
from .networks import Network

if TYPE_CHECKING:
    import keras


def _keras_layer(spec: LayerSpec) -> keras.layers.Layer:
    """The Keras layer of one normalised layer spec (pooling is valid, as in `layer_table`)."""
    import keras

    if isinstance(spec, Conv2DSpec):
        return keras.layers.Conv2D(
            spec.filters, spec.kernel_size, strides=spec.strides, padding=spec.padding
        )
    if isinstance(spec, PoolSpec):
        pool = (
            keras.layers.MaxPooling2D if spec.kind == "maxpool" else keras.layers.AveragePooling2D
        )
        return pool(spec.pool_size, strides=spec.strides, padding="valid")
    if isinstance(spec, DenseSpec):
        return keras.layers.Dense(spec.units)
    return keras.layers.Flatten()


def keras_model(input_shape: Sequence[int], layers: Sequence[Layer]) -> keras.Sequential:
    """The `keras.Sequential` model of a `layer_table` layer list, built for `input_shape`.

    The list is checked by `layer_table` first, so a bad layer fails with the same message (naming
    its index and tuple) as in the NumPy reference, before any Keras object is made.
    """
    import keras

    layer_table(input_shape, layers)
    return keras.Sequential(
        [keras.Input(shape=tuple(input_shape)), *map(_keras_layer, parse_layers(layers))]
    )


def network_model(network: Network) -> keras.Sequential:
    """The Keras model of one of the course networks (`grader.course.reference.networks`)."""
    return keras_model(network.input_shape, network.layers)


def forward_network(seed: int = 0) -> keras.Sequential:
    """The fixed small network of `cnn_forward`, with weights drawn from `seed`.

    `Input (4, 4, 1) → Conv2D(1, 3×3, relu) → MaxPooling2D(2) → Flatten → Dense(1, sigmoid)`.
    Kernels and biases are uniform in [-1, 1] from seeded initialisers (no global random state is
    touched), so the biases are non-zero and the ReLU is active for some inputs and not for others.
    """
    import keras

    def uniform(offset: int) -> keras.initializers.Initializer:
        return keras.initializers.RandomUniform(-1.0, 1.0, seed=seed * 4 + offset)

    return keras.Sequential(
        [
            keras.Input(shape=(4, 4, 1)),
            keras.layers.Conv2D(
                1,
                (3, 3),
                activation="relu",
                kernel_initializer=uniform(0),
                bias_initializer=uniform(1),
            ),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(
                1,
                activation="sigmoid",
                kernel_initializer=uniform(2),
                bias_initializer=uniform(3),
            ),
        ]
    )
