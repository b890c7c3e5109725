"""Session-wide test setup and shared fixtures."""

import fcntl
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


@pytest.fixture
def kernel_accounts() -> Iterator[None]:
    """The "user" isolation's accounts (cnn-grader-student, cnn-grader-inspector), this test's alone
    while it runs: ending that confinement kills every process of the account, so two tests using
    them at once (pytest-xdist workers are separate processes) would end each other's kernels. A lock
    file in /tmp, which every worker sees, makes them take turns."""
    with open("/tmp/cnn-grader-tests-accounts.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under pytest-xdist (``make test`` runs two workers or more), each test file goes to one worker,
    so its module fixtures are built once; tests/security is one unit, since its files share one
    session fixture (the hostile class, graded once in a run of about two minutes)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/security" if path.startswith("tests/security/") else path

    return ByFile(config, log)
