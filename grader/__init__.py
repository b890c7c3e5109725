"""cnn-grader: course package and autograder for the convolution + pooling unit.

The public API is re-exported here, loaded on first use so that ``python -m grader.faces`` and the
CLI's quick verbs do not import the whole engine; everything else is internal and may change.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("cnn-grader")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

_EXPORTS = {
    "ClassRun": "batch",
    "grade_class": "batch",
    "ConfigError": "config",
    "CourseConfig": "config",
    "load_config": "config",
    "grade_notebook": "grade",
    "prepare": "grade",
    "release": "release",
    "render_reports": "report",
    "Diagnosis": "results",
    "SubmissionResult": "results",
    "TestResult": "results",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
