"""cnn-grader: course package and autograder for the convolution + pooling unit."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cnn-grader")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
