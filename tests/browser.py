"""Headless Chromium for the tests that look at pages as a reader does (Debian's ``chromium``).

The ``chromium`` fixture (tests/conftest.py) gives its path: skipped on a developer machine without
it, a failure with ``CI`` set, so a skipped browser test never counts as passing in CI (``.ci/run``
installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def chromium_path() -> str:
    """Chromium's path, or the skip (failure in CI) that says it is missing."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not on PATH, and CI is set: install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not on PATH (apt-get install chromium); CI runs this test")
    return path


def run_chromium(chromium: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium on ``url`` with ``args`` (``--dump-dom``, ``--screenshot=…``), in a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="cnn-grader-chromium-") as profile:
        done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args, url],
                              capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done
