"""How the sandbox is set up: the bubblewrap command, the limits launcher, the cgroup (failing closed
without it: test_fail_closed.py)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.run import sandbox
from grader.run.sandbox import Cgroup, Confinement

from .conftest import ASSIGNMENT, BASELINE, ROOT, load_course

needs_bwrap = pytest.mark.skipif(not os.environ.get("CI") and sandbox._bwrap_problem() is not None,
                                 reason="bubblewrap is not usable here (CI installs it)")


@needs_bwrap
def test_bubblewrap_command_shows_no_instructor_path_and_drops_everything(tmp_path: Path) -> None:
    scratch = tmp_path / "work"
    scratch.mkdir()
    c = Confinement(scratch, {"HOME": str(scratch), "PATH": "/usr/bin"}, (ROOT / "data" / "faces" / "train",),
                    isolation="bwrap")
    argv = sandbox.bwrap_argv(c, tmp_path / "sockets")
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--remount-ro"):
        assert flag in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL"
    assert "--share-net" not in argv
    binds = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind", "--ro-bind-try")]
    for bound in map(Path, binds):  # the course is never bound; only its venv and training faces
        assert not (ROOT.is_relative_to(bound)), f"{bound} shows the course repository"
        assert bound.name != "grader" and not (bound / "course.toml").exists()
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"] == [str(scratch), str(tmp_path / "sockets")]


def _confined(*args: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader.run.confine", *args, "--", sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=300)  # a hang guard only


def test_launcher_sets_the_address_space_and_cpu_limits() -> None:
    done = _confined("--memory-mb", "700", "--cpu-time", "30", code=(
        "import resource as r; print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_CPU)[0], "
        "r.getrlimit(r.RLIMIT_CORE)[0])"))
    assert done.stdout.split() == [str(700 * 1024 * 1024), "30", "0"], done.stderr


def test_cpu_time_limit_stops_a_spinning_process() -> None:
    """The loop never ends by itself, so its end is the limit's doing: a signal of the CPU limit, after
    most of the second of CPU it was allowed, not at its start (CPU time, which a loaded machine does
    not stretch; getrusage's ticks may read a little under the kernel's exact count, hence "most").
    The wall-clock timeout of :func:`_confined` only guards against a hang."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = _confined("--memory-mb", "700", "--cpu-time", "1", code="while True: pass")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode in (-signal.SIGXCPU, -signal.SIGKILL), (done.returncode, done.stderr)
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) >= 0.5


def test_memory_limit_refuses_a_large_allocation() -> None:
    done = _confined("--memory-mb", "400", "--cpu-time", "30",
                     code="import numpy as np\ntry:\n    np.ones((20_000, 20_000))\nexcept MemoryError:\n    print('refused')")
    assert done.stdout.strip() == "refused", done.stderr


def test_cgroup_kill_leaves_no_process_even_one_that_left_the_session() -> None:
    cgroup = Cgroup.create(memory_mb=512, processes=32)
    if cgroup is None:
        if os.geteuid() == 0 and os.environ.get("CI"):
            pytest.fail("root in CI but no cgroup could be made")
        pytest.skip("no writable cgroup here")
    try:
        args = [f"--cgroup={d}" for d in cgroup.dirs]
        leader = subprocess.Popen([sys.executable, "-m", "grader.run.confine", "--memory-mb", "512", "--cpu-time", "60",
                                   *args, "--", "sh", "-c", "setsid sleep 876543 & sleep 876543"])
        deadline = time.monotonic() + 120  # both sleepers join by themselves; this only guards a hang
        while len(cgroup.pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(cgroup.pids()) >= 2
        cgroup.kill()
        assert cgroup.pids() == set()
        leader.wait(timeout=120)  # it was killed with the cgroup: reaping it only guards a hang
    finally:
        cgroup.remove()
    assert all(not Path(d).exists() for d in cgroup.dirs)


def test_private_tmp_comes_before_the_python_installation_so_a_venv_under_tmp_stays_visible(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clone under /tmp (CI checkouts often are) has its venv there: binding it before the private
    /tmp would hide it, and no kernel could start."""
    venv = Path("/tmp/course-checkout/.venv")
    monkeypatch.setattr(sandbox, "_python_dirs", lambda: [venv])
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/usr/bin/bwrap")
    argv = sandbox.bwrap_argv(Confinement(tmp_path, {}, isolation="bwrap"), tmp_path / "sockets")
    mounts = [(a, argv[i + 1]) for i, a in enumerate(argv) if a in ("--tmpfs", "--ro-bind")]
    assert mounts.index(("--tmpfs", "/tmp")) < mounts.index(("--ro-bind", str(venv)))


def test_folders_a_pth_file_adds_are_bound_but_never_the_graders_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A venv whose packages come from another folder through a ``.pth`` line (tests/test_wheel.py
    makes one) needs that folder in the sandbox, or its kernel cannot import ipykernel; a ``.pth``
    naming the grader's own checkout (an old-style editable install) must not show the solutions."""
    packages = tmp_path / "shared-site-packages"
    packages.mkdir()
    checkout = str(sandbox.GRADER_PACKAGE.parent)
    monkeypatch.setattr(sandbox, "_site_path", lambda: (str(packages), checkout, str(tmp_path / "missing")))
    dirs = sandbox._python_dirs()
    assert packages.resolve() in dirs
    assert Path(checkout).resolve() not in dirs and tmp_path / "missing" not in dirs


def test_the_site_path_is_the_isolated_interpreters() -> None:
    """Asked of ``python -I``: this process's PYTHONPATH (a checkout, in the tests) is not on it."""
    entries = sandbox._site_path()
    assert entries and all(os.path.isabs(e) for e in entries)
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry and not any(Path(entry).resolve() == Path(p).resolve() for p in (sys.prefix, sys.base_prefix)):
            assert os.path.realpath(entry) not in map(os.path.realpath, entries)


def test_a_kernel_that_cannot_start_is_a_clear_error_not_a_grade(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: None)
    monkeypatch.setattr(sandbox, "bwrap_argv", lambda c, sockets: ["false", "--"])  # a sandbox that cannot run
    course = load_course(tmp_path / "course").path
    for student in ("li_hua", "wang_fang", "zhou_xun"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / f"{ASSIGNMENT}.ipynb").write_bytes(BASELINE.read_bytes())
    import grader.classroom.runner

    tried: list[str] = []
    real = grader.classroom.runner.grade_notebook

    def counting(*args: object, **kwargs: object) -> object:
        tried.append(str(kwargs["student"]))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(grader.classroom.runner, "grade_notebook", counting)
    status = main(["--course", str(course), "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                   "--jobs", "2"])
    assert status == 2
    assert "the grading kernel did not start (bwrap sandbox)" in capsys.readouterr().err
    assert not list((tmp_path / "out" / "results").rglob("*.json"))  # no zero was recorded for any student
    changes = json.loads((tmp_path / "out" / "changes.json").read_text(encoding="utf-8"))
    assert changes["finished"] is False and changes["changes"] == []  # the stopped run is marked, changes nothing
    # The two jobs start li_hua and wang_fang at once; whichever fails first stops the run, so the
    # queued third is never tried.
    assert sorted(tried) in (["li_hua"], ["li_hua", "wang_fang"]), \
        "the machine cannot grade: the queued submissions are not tried one by one"
