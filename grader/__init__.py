"""cnn-grader: course package and autograder for the convolution + pooling unit.

The public API is re-exported here, loaded on first use so that ``python -m grader.course.faces`` and the
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
    "ClassRun": "classroom.batch",
    "grade_class": "classroom.batch",
    "local_runner": "classroom.runner",
    "ConfigError": "course.config",
    "CourseConfig": "course.config",
    "load_config": "course.config",
    "grade_notebook": "grade.notebook",
    "prepare": "grade.prepare",
    "release": "authoring.release",
    "render_reports": "publish.report",
    "Diagnosis": "judge.results",
    "SubmissionResult": "judge.results",
    "TestResult": "judge.results",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
