"""cnn-grader: course package and autograder for the convolution + pooling unit.

The public API is re-exported here; everything else is internal and may change.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cnn-grader")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"

from .batch import ClassRun, grade_class  # noqa: E402
from .config import ConfigError, CourseConfig, load_config  # noqa: E402
from .grade import grade_notebook, prepare  # noqa: E402
from .release import release  # noqa: E402
from .results import Diagnosis, SubmissionResult, TestResult  # noqa: E402

__all__ = [
    "ClassRun",
    "ConfigError",
    "CourseConfig",
    "Diagnosis",
    "SubmissionResult",
    "TestResult",
    "__version__",
    "grade_class",
    "grade_notebook",
    "load_config",
    "prepare",
    "release",
]
