"""``grader grade --dask``: a class graded on a Dask cluster gives the files a local run gives."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from distributed import LocalCluster
from nbformat.v4 import new_code_cell, new_notebook

from grader.classroom.batch import grade_class
from grader.cli import main
from grader.course.config import load_config
from grader.classroom.distributed import DaskRunner, connect
from grader.classroom.runner import Runner, local_runner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
COURSE = ["--course", str(ROOT / "course.toml")]
TIMINGS = re.compile(rb'"(execution_time|duration)": [-+.0-9e]+')


@pytest.fixture(scope="module")
def scheduler():
    """Two worker processes, so every task and result crosses a process boundary as data."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def small_class(root: Path) -> Path:
    """NumPy notebooks in both layouts: full marks, diagnosed mistakes, a syntax error, and a student
    whose notebook reads a file and a symbolic link from their own folder."""
    subs = root / "subs"
    for name in ("li_hua/02-pooling", "wang_fang/01-convolution", "zhang_wei/03-parameter-counting"):
        (subs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / f"{name}.ipynb", subs / f"{name}.ipynb")
    shutil.copy(EXAMPLES / "zhou_xun_02-pooling.ipynb", subs)
    (subs / "ann" / "data").mkdir(parents=True)
    (subs / "ann" / "data" / "size.txt").write_text("2")
    os.symlink("data/size.txt", subs / "ann" / "size-link.txt")
    source = ("SIZE = int(open('data/size.txt').read()) + int(open('size-link.txt').read())\n"
              "def max_pool2d(x, size, stride=None):\n    return x[::SIZE]")
    nbformat.write(new_notebook(cells=[new_code_cell(source)]), subs / "ann" / "02-pooling.ipynb")
    return subs


def grade(subs: Path, out: Path, runner: Runner):  # type: ignore[no-untyped-def]
    seen: list[object] = []
    run = grade_class(subs, out, load_config(ROOT / "course.toml", environ={}), on_start=seen.append,
                      on_done=lambda sub, event, result: seen.append((sub.student, sub.assignment, event)),
                      runner=runner)
    return run, seen


def files(out: Path) -> dict[str, bytes]:
    """Every result file and grades.csv, timings blanked: what must not depend on where grading ran."""
    found = {p.relative_to(out).as_posix(): TIMINGS.sub(rb'"\1": 0', p.read_bytes())
             for p in (out / "results").rglob("*.json")}
    return {**found, "grades.csv": (out / "grades.csv").read_bytes()}


def test_cluster_results_are_the_local_results(tmp_path: Path, scheduler: str) -> None:
    subs = small_class(tmp_path)
    local, local_seen = grade(subs, tmp_path / "local", local_runner(jobs=2))
    with connect(scheduler) as executor:
        remote, remote_seen = grade(subs, tmp_path / "remote", DaskRunner(executor))
    assert len(local.results) == 5
    assert next(r for r in local.results if r.student == "ann").cells == (), "ann's own files were not there"
    assert files(tmp_path / "remote") == files(tmp_path / "local")
    assert remote_seen[0] == local_seen[0] == 5
    assert sorted(remote_seen[1:]) == sorted(local_seen[1:])  # type: ignore[type-var]


def test_cli_grades_on_the_cluster(tmp_path: Path, scheduler: str) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(EXAMPLES / "zhou_xun_02-pooling.ipynb", subs)
    assert main([*COURSE, "grade", str(subs), "--out", str(tmp_path / "out"), "--dask", scheduler]) == 0
    assert (tmp_path / "out" / "results" / "zhou_xun" / "02-pooling.json").is_file()
    assert (tmp_path / "out" / "report" / "index.html").is_file()


def test_unusable_cluster_is_one_line_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("grader.classroom.distributed.CONNECT_TIMEOUT", 1.0)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    grade_args = [*COURSE, "grade", str(EXAMPLES), "--out", str(tmp_path)]
    assert main([*grade_args, "--dask", address]) == 2
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert main([*grade_args, "--dask", "scheduler-without-port"]) == 2
    assert "not a scheduler address like tcp://host:8786" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main([*grade_args, "--dask", address]) == 2
    assert "pip install 'cnn-grader[dask]'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as both:
        main([*grade_args, "--dask", address, "--jobs", "2"])
    assert both.value.code == 2
    assert "argument --jobs: not allowed with argument --dask" in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "nothing was graded or written"


def test_a_local_run_does_not_import_dask() -> None:
    probe = ("import sys; from grader import cli; from grader.classroom import batch, distributed; "
             "sys.exit(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0


def test_the_kernels_a_worker_grades_at_once_share_its_cores_as_local_jobs_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker with three threads grades three submissions beside each other, like ``--jobs 3``:
    each kernel's CPU quota is a third of the cores (grader.run.sandbox.fair_cpus), not all of them,
    so whether a cell meets its time limit does not depend on what its neighbours do."""
    from distributed import Client

    from grader.classroom import distributed as cluster_side
    from grader.classroom.distributed import Task, grade_task

    seen: list[int] = []
    monkeypatch.setattr(cluster_side, "grade_notebook", lambda *args, **kwargs: seen.append(kwargs.get("jobs", 1)))
    notebook = (EXAMPLES / "zhou_xun_02-pooling.ipynb").read_bytes()
    task = Task("zhou_xun", "02-pooling", "zhou_xun_02-pooling.ipynb", "02-pooling.ipynb", notebook, None,
                load_config(ROOT / "course.toml", environ={}), sandbox="off")
    with LocalCluster(n_workers=1, threads_per_worker=3, processes=False, dashboard_address=":0",
                      silence_logs=logging.ERROR) as threads, Client(threads, set_as_default=False) as client:
        client.submit(grade_task, task, pure=False).result()
    assert seen == [3]
    grade_task(task)  # not on a worker: one at a time
    assert seen == [3, 1]
