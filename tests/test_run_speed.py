"""What issue 17 changed on the per-submission path, checked by behaviour (never by time): a graded
kernel is killed rather than shut down, the cgroup's kill waits for the processes themselves, a
kernel preloads only what its notebook names, and a class run grades one submission per core."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.course.assignments import course_assignments
from grader.grade.workspace import preload_for
from grader.run.cgroup import cores, kill_and_wait, wait_ended
from grader.run.execute import kernel
from grader.run.sandbox import Confinement


def _notebook(path: Path, *sources: str, markdown: str = "") -> Path:
    cells = ([new_markdown_cell(markdown)] if markdown else []) + [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells), path)
    return path


# --- preloads: what the notebook names, nothing more ---------------------------------------------
def test_a_light_notebook_gets_no_matplotlib_and_one_that_draws_gets_it(tmp_path: Path) -> None:
    pooling = course_assignments()["02-pooling"]
    assert "matplotlib.pyplot" in pooling.preload
    light = _notebook(tmp_path / "light.ipynb", "import numpy as np", "def max_pool2d(x, size):\n    return x")
    drawing = _notebook(tmp_path / "draws.ipynb", "import numpy as np\nimport matplotlib.pyplot as plt")
    assert preload_for(pooling, light) == ("numpy",)
    assert preload_for(pooling, drawing) == ("numpy", "matplotlib.pyplot")


def test_preloads_follow_the_declared_order_and_a_package_named_anywhere_counts(tmp_path: Path) -> None:
    gender = course_assignments()["04-gender-cnn"]
    named = _notebook(tmp_path / "g.ipynb", "from PIL import Image\nimport keras", markdown="uses tensorflow, pandas")
    assert preload_for(gender, named) == tuple(m for m in gender.preload if m.split(".")[0] in
                                               ("PIL", "keras", "tensorflow", "pandas"))
    assert preload_for(gender, _notebook(tmp_path / "none.ipynb", "x = 1")) == ()


def test_an_unreadable_notebook_gets_every_preload(tmp_path: Path) -> None:
    """The notebook's own problem is reported where it is read; the kernel is as it always was."""
    pooling = course_assignments()["02-pooling"]
    assert preload_for(pooling, tmp_path / "missing.ipynb") == pooling.preload


# --- killing: processes end, and the wait is for them -------------------------------------------
def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(60)"])


def test_kill_and_wait_returns_once_the_processes_have_ended() -> None:
    """After it returns, each child is already a zombie: reaping it does not block (WNOHANG)."""
    children = [_sleeper(), _sleeper()]
    kill_and_wait({c.pid for c in children}, timeout=30)
    for child in children:
        pid, status = os.waitpid(child.pid, os.WNOHANG)
        assert pid == child.pid and os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        child.returncode = -9  # reaped here; Popen must not wait again


def test_wait_ended_waits_for_a_process_someone_else_kills() -> None:
    child = _sleeper()
    os.kill(child.pid, 9)
    wait_ended([child.pid], timeout=30)
    pid, _ = os.waitpid(child.pid, os.WNOHANG)
    assert pid == child.pid
    child.returncode = -9


def test_pids_already_gone_are_no_error() -> None:
    child = _sleeper()
    child.kill()
    child.wait()
    kill_and_wait({child.pid}, timeout=1)
    wait_ended([child.pid], timeout=1)


@pytest.mark.slow
def test_a_graded_kernel_is_killed_its_atexit_code_never_runs(tmp_path: Path) -> None:
    """The kernel is not asked to shut down: nothing the student registered for the way out runs
    (a real kernel, unconfined so that its file could be written outside the scratch folder)."""
    scratch = tmp_path / "work"
    scratch.mkdir()
    marker = tmp_path / "atexit-ran"
    with kernel(Confinement(scratch, {"PATH": os.environ.get("PATH", "/usr/bin")}, isolation="off")) as session:
        done = session.run(f"import atexit\natexit.register(lambda: open({str(marker)!r}, 'w').close())", 30)
        assert done.ok, done.evalue
        pid = session.run("import os\nprint(os.getpid())", 30).stdout.strip()
    assert not marker.exists()
    assert pid.isdigit() and not Path(f"/proc/{pid}").exists()  # reaped: not even a zombie is left


# --- how many at once ----------------------------------------------------------------------------
def test_a_class_run_grades_one_submission_per_core_by_default() -> None:
    from grader.classroom.runner import default_jobs, local_runner

    assert default_jobs() == cores() == len(os.sched_getaffinity(0))
    assert local_runner(sandbox="off").jobs == cores()
    assert local_runner(1, sandbox="off").jobs == 1


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_jobs_must_be_a_whole_number_of_at_least_one(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["grade", "nowhere", "--jobs", value])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs" in err and ("at least 1" in err or "whole number" in err)
