"""The course's example networks as `layer_table` layer lists (plain data, no Keras).

Their parameter counts are the known answers of the course notes (SPEC section 3,
03-parameter-counting); the tests check them against `layer_table` and against Keras
`count_params()` of the same lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from .counting import Layer


@dataclass(frozen=True)
class Network:
    """A named `Sequential` architecture: `layer_table(net.input_shape, net.layers)`."""

    name: str
    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]


def _conv(filters: int, size: int, padding: str = "valid") -> Layer:
    return ("conv2d", filters, (size, size), padding, 1)


_POOL2: Layer = ("maxpool", (2, 2))
_FLATTEN: Layer = ("flatten",)

# Face-score CNN (128×128×3): three Conv2D(100, 2×2, same) + MaxPooling2D(2), Flatten, Dense(10).
FACE_SCORE_CNN = Network(
    "face_score_cnn",
    (128, 128, 3),
    (*(_conv(100, 2, "same"), _POOL2) * 3, _FLATTEN, ("dense", 10)),
)

# The same code with a fourth Conv2D(100, 2×2, same) after the third pooling, before Flatten. A
# "same" convolution keeps 16×16 and 100 channels, so Flatten and Dense are unchanged and the fourth
# layer adds exactly 2*2*100*100 + 100 = 40,100 parameters: 337,510 + 40,100 = 377,610. (Inserting
# it after any of the other conv layers gives the same total: 100 → 100 channels and "same" keep
# every later shape.)
FACE_SCORE_CNN_4CONV = Network(
    "face_score_cnn_4conv",
    (128, 128, 3),
    (*(_conv(100, 2, "same"), _POOL2) * 3, _conv(100, 2, "same"), _FLATTEN, ("dense", 10)),
)

# MNIST CNN of the Keras/TensorFlow tutorial: 55,744 parameters before the classifier (Flatten).
MNIST_CNN = Network(
    "mnist_cnn",
    (28, 28, 1),
    (
        _conv(32, 3),
        _POOL2,
        _conv(64, 3),
        _POOL2,
        _conv(64, 3),
        _FLATTEN,
        ("dense", 64),
        ("dense", 10),
    ),
)

# Gender CNN of the recipe book (50×50 grey faces).
GENDER_CNN = Network(
    "gender_cnn",
    (50, 50, 1),
    (
        _conv(64, 3),
        ("maxpool", (5, 5)),
        _conv(128, 3, "same"),
        _POOL2,
        _conv(256, 3, "same"),
        _POOL2,
        _conv(512, 3, "same"),
        _FLATTEN,
        ("dense", 100),
        ("dense", 1),
    ),
)

# LeNet-5 with every C3 map connected to all six S2 maps (the "full C3" of modern versions).
LENET5 = Network(
    "lenet5",
    (32, 32, 1),
    (
        _conv(6, 5),
        _POOL2,
        _conv(16, 5),
        _POOL2,
        _FLATTEN,
        ("dense", 120),
        ("dense", 84),
        ("dense", 10),
    ),
)


def _vgg(name: str, convs_per_block: tuple[int, ...]) -> Network:
    """VGG (Simonyan & Zisserman): blocks of 3×3 same convs + 2×2 pooling, then 4096-4096-1000."""
    features: list[Layer] = []
    for filters, count in zip((64, 128, 256, 512, 512), convs_per_block, strict=True):
        features += [_conv(filters, 3, "same")] * count + [_POOL2]
    classifier = [_FLATTEN, ("dense", 4096), ("dense", 4096), ("dense", 1000)]
    return Network(name, (224, 224, 3), tuple(features + classifier))


VGG16 = _vgg("vgg16", (2, 2, 3, 3, 3))
VGG19 = _vgg("vgg19", (2, 2, 4, 4, 4))

COURSE_NETWORKS = (
    FACE_SCORE_CNN,
    FACE_SCORE_CNN_4CONV,
    MNIST_CNN,
    GENDER_CNN,
    LENET5,
    VGG16,
    VGG19,
)
