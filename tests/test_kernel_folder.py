"""A kernel's unix sockets must fit a socket address (108 bytes on Linux): a long temporary directory
moves the kernel's folder to /tmp instead of failing every kernel's start."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from grader.run.execute import kernel_folder_base

ROOT = Path(__file__).resolve().parents[1]


def test_a_short_temporary_directory_is_used_as_it_is() -> None:
    assert kernel_folder_base("/tmp/short") == "/tmp/short"


def test_a_temporary_directory_too_long_for_a_socket_address_gives_way_to_tmp() -> None:
    assert kernel_folder_base("/home/" + "x" * 70) == "/tmp"


def test_the_limit_is_counted_in_bytes_not_characters() -> None:
    """60 Chinese characters are 180 bytes: far too long, though 60 characters would fit."""
    assert kernel_folder_base("/tmp/" + "卷" * 20) == "/tmp"
    assert kernel_folder_base("/tmp/" + "j" * 20) == "/tmp/" + "j" * 20


@pytest.fixture
def long_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real temporary directory of 150 bytes, as ``TMPDIR`` of a deep CI workspace would be (after
    pytest has made its own folders, which must not land in it)."""
    base = Path(tempfile.mkdtemp(prefix="t", dir="/tmp"))
    folder = base / ("deep-workspace-" + "x" * 120)
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_class_is_graded_in_full_under_a_temporary_directory_too_long_for_sockets(long_temporary: Path,
                                                                                   tmp_path: Path) -> None:
    """Before, every kernel failed to start here (zmq: the ipc path is too long) and the run stopped."""
    from grader.classroom.batch import grade_class
    from grader.classroom.runner import local_runner
    from grader.course.config import load_config

    assert len(os.fsencode(str(long_temporary))) > 108
    (tmp_path / "subs" / "a").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "submissions" / "li_hua" / "02-pooling.ipynb", tmp_path / "subs" / "a")
    run = grade_class(tmp_path / "subs", tmp_path / "out", load_config(ROOT / "course.toml", environ={}),
                      runner=local_runner(jobs=1))
    assert [(r.student, r.score, r.grader_error) for r in run.results] == [("a", 100, None)]
    assert [p.name for p in long_temporary.iterdir() if p.name.startswith("cnn-grader-")] == []


@pytest.mark.slow
def test_a_kernel_that_cannot_start_stops_the_run_and_leaves_no_zmq_context_open(
        long_temporary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A start that fails at the socket (here: a socket path too long, the folder forced into the long
    directory) is the machine's problem: the run stops with it, as with any kernel that cannot start.
    And every zmq context it made is closed: one left to the garbage collector with a message queued
    for the kernel that never came blocked the process forever in ``Context.term``."""
    import zmq.asyncio

    from grader.classroom.batch import grade_class
    from grader.classroom.runner import local_runner
    from grader.course.config import load_config
    from grader.run import execute

    made: list[zmq.asyncio.Context] = []

    class Recorded(zmq.asyncio.Context):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(zmq.asyncio, "Context", Recorded)
    monkeypatch.setattr(execute, "kernel_folder_base", lambda: str(long_temporary))
    (tmp_path / "subs" / "a").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "submissions" / "li_hua" / "02-pooling.ipynb", tmp_path / "subs" / "a")
    with pytest.raises(execute.KernelStartError, match="did not start.*too long"):
        grade_class(tmp_path / "subs", tmp_path / "out", load_config(ROOT / "course.toml", environ={}),
                    runner=local_runner(jobs=1))
    assert made and all(context.closed for context in made)
