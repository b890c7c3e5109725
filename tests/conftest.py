"""Session-wide test setup."""

import os

# Quiet TensorFlow's C++ logging; it must be set before the first `import tensorflow`/`keras`.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
