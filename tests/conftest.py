"""Session-wide test setup and shared fixtures."""

import os
import time
from collections.abc import Iterator

import pytest

# Quiet TensorFlow's C++ logging; it must be set before the first `import tensorflow`/`keras`.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This machine's zone is China's (+08:00, east of UTC): where a time without a zone is read, and
    where 9999-12-31 23:59 local is past the calendar's end."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Headless Chromium's path (tests/browser.py): a skip without it, a failure in CI."""
    from browser import chromium_path

    return chromium_path()
