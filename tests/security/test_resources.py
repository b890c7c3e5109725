"""Fair resources (containment issue): a kernel's CPU share and its scratch space.

With ``--jobs 2`` a notebook forking busy children, each in its own session, used to starve the
other kernel (time limits are wall-clock), and a kernel could fill the instructor's disk from its
scratch folder. Each kernel's cgroup now has a CPU quota and an equal weight, and its scratch folder
is a size-capped tmpfs (or, without root, a per-file size limit); results record which was in force.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from grader.grade import notebook as grade
from grader.run import execute, sandbox
from grader.run import cgroup as run_cgroup, limits as run_limits, scratch as run_scratch
from grader.course.assignments import course_assignments
from grader.classroom.batch import grade_class
from grader.classroom.runner import local_runner
from grader.grade.notebook import grade_notebook
from grader.grade.workspace import Workspace
from grader.grade.prepare import prepare
from grader.judge.results import SubmissionResult
from grader.run.sandbox import Cgroup

from .conftest import ASSIGNMENT, BASELINE, LIMITS, english, hostile_notebook, load_course, write_notebook

MB = 1024 * 1024


def _cpu_cgroup_or_skip() -> None:
    """Skip where no cpu cgroup can be made (not root); CI runs as root, where it must work."""
    probe = Cgroup.create(memory_mb=256, processes=16, cpus=1.0)
    try:
        if probe is not None and "cpu" in probe.controllers:
            return
    finally:
        if probe is not None:
            probe.remove()
    if os.geteuid() == 0 and os.environ.get("CI"):
        pytest.fail("root in CI but no cpu cgroup could be made")
    pytest.skip("no cpu cgroup can be made here")


def _cpu_quota(folder: Path) -> tuple[int, int]:
    """(quota, period) in microseconds, from a v2 ``cpu.max`` or the v1 cfs files."""
    if (folder / "cpu.max").exists():
        quota, period = (folder / "cpu.max").read_text().split()
        return int(quota), int(period)
    return int((folder / "cpu.cfs_quota_us").read_text()), int((folder / "cpu.cfs_period_us").read_text())


def _cpu_dir(cgroup: Cgroup) -> Path:
    return next(d for d in cgroup.dirs if (d / "cpu.max").exists() or (d / "cpu.cfs_quota_us").exists())


# --- the CPU quota -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cpus", "jobs", "expected"), [(0.5, 1, 0.5), (0.5, 4, 0.5), (None, 2, None)])
def test_a_running_kernels_cgroup_holds_the_configured_cpu_quota(
        tmp_path: Path, cpus: float | None, jobs: int, expected: float | None) -> None:
    """Deterministic: the quota is in the kernel's cgroup while it runs — ``[limits] cpus`` when
    given, whatever ``--jobs``; otherwise the cores divided by ``--jobs`` — with the default weight."""
    _cpu_cgroup_or_skip()
    limits = {**LIMITS} if cpus is None else {**LIMITS, "cpus": cpus}
    config = load_course(tmp_path / "course", limits)
    workspace = Workspace(course_assignments()[ASSIGNMENT], config, sandbox.isolation(), jobs=jobs)
    cgroup = workspace.launch.cgroup
    try:
        assert cgroup is not None and "cpu" in cgroup.controllers
        folder = _cpu_dir(cgroup)
        with execute.kernel(workspace.launch.confinement, launch=workspace.launch) as session:
            assert session.run("x = 1", 30).ok  # the kernel answers: it joined its cgroups before the exec
            assert (folder / "cgroup.procs").read_text().split(), "the kernel is not in the cpu cgroup"
            cores = expected if expected is not None else sandbox.fair_cpus(jobs)
            assert _cpu_quota(folder) == (round(cores * 100_000), 100_000)
            weight = folder / ("cpu.weight" if (folder / "cpu.weight").exists() else "cpu.shares")
            assert weight.read_text().strip() in ("100", "1024")
            assert workspace.limits()["cpu"] == "cgroup"
    finally:
        workspace.close()
    assert cgroup is not None and not any(Path(d).exists() for d in cgroup.dirs)


def test_fair_share_is_the_cores_divided_by_the_jobs() -> None:
    cores = len(os.sched_getaffinity(0))
    assert sandbox.fair_cpus(1) == cores and sandbox.fair_cpus(4) == cores / 4 and sandbox.fair_cpus(0) == cores


def test_cgroup_v2_gets_cpu_max_and_weight_and_enables_cpu_for_its_children(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cgroup v2 (this machine has v1): the files written, on a fake hierarchy. The parent enables
    each controller it can (an existing parent made by an older grader may lack +cpu)."""
    root = tmp_path / "cgroup"
    (root / "cnn-grader").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids")
    (root / "cnn-grader" / "cgroup.subtree_control").write_text("pids memory")
    written: list[str] = []
    real_write = Path.write_text

    def write(self: Path, data: str, *args: object, **kwargs: object) -> int:
        if self.name == "cgroup.subtree_control":
            written.append(data)
        return real_write(self, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(run_cgroup, "_CGROUP_ROOT", root)
    monkeypatch.setattr(Path, "write_text", write)
    cgroup = Cgroup.create(memory_mb=512, processes=32, cpus=1.5)
    assert cgroup is not None and cgroup.controllers == {"cpu", "memory", "pids"}
    [folder] = cgroup.dirs
    assert (folder / "cpu.max").read_text() == "150000 100000"
    assert (folder / "cpu.weight").read_text() == "100"
    assert (folder / "memory.max").read_text() == str(512 * MB)
    assert (folder / "pids.max").read_text() == "32"
    assert written == ["+cpu"]


# --- scratch space: the launcher's per-file limit ------------------------------------------------


def test_launcher_file_size_limit_makes_a_large_write_fail_with_efbig_not_a_signal(tmp_path: Path) -> None:
    """The fallback where no tmpfs can be mounted: ``RLIMIT_FSIZE``. CPython ignores SIGXFSZ, so the
    write fails with EFBIG and the kernel lives on to report it."""
    code = ("import errno\ntry:\n    open('big', 'wb').write(b'0' * (9 << 20))\n"
            "except OSError as e:\n    print(errno.errorcode[e.errno])")
    done = subprocess.run([sys.executable, "-I", str(Path(sandbox.__file__).with_name("confine.py")),
                           "--memory-mb", "700", "--cpu-time", "30", "--file-size-mb", "4", "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout.strip() == "EFBIG", done.stderr
    assert (tmp_path / "big").stat().st_size == 4 * MB


def test_bubblewrap_caps_the_private_tmp_like_the_scratch_folder(tmp_path: Path) -> None:
    if sandbox.isolation() != "bwrap":
        pytest.skip("bubblewrap is not usable here")
    c = sandbox.Confinement(tmp_path, {}, isolation="bwrap", scratch_mb=64)
    argv = sandbox.bwrap_argv(c, tmp_path / "sockets")
    at = argv.index("--tmpfs")
    assert argv[at + 1] == "/tmp" and argv[at - 2:at] == ["--size", str(64 * MB)]


def _mounts() -> dict[str, str]:
    """Mount point → file-system type, from this process's mount table."""
    table = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, tail = line.partition(" - ")
        table[fields.split()[4].replace("\\040", " ")] = tail.split()[0]
    return table


def test_mounts_left_by_a_killed_grader_are_swept_and_a_live_graders_are_kept(tmp_path: Path) -> None:
    """SIGKILL skips ``Workspace.close``: the next run unmounts what a dead grader left (its pid is
    in the mount's source name), never what a live one is using."""
    if run_scratch.mount_tmpfs(tmp_path, 1) is not None:
        pytest.skip("this process may not mount")
    run_scratch.unmount(tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left, live = tmp_path / "left by a dead grader", tmp_path / "live"
    for folder, pid in ((left, int(dead.stdout)), (live, os.getpid())):
        folder.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", f"cnn-grader-{pid}", str(folder)], check=True)
    try:
        run_scratch._sweep_stale_mounts.__wrapped__()  # the once-per-run sweep, run again
        assert str(left) not in _mounts() and _mounts().get(str(live)) == "tmpfs"
    finally:
        for folder in (left, live):
            if str(folder) in _mounts():
                run_scratch.unmount(folder)


@dataclass
class _Seen:
    """What the scratch folders looked like right after each submission's cells ran."""

    scratch: dict[str, tuple[str, int]] = field(default_factory=dict)  # file name → (fs type, bytes)


@pytest.fixture
def seen_scratch(monkeypatch: pytest.MonkeyPatch) -> _Seen:
    """Looks into each scratch folder just after the cells ran, while the kernel is still alive:
    where a large file lives, and how large it is."""
    seen = _Seen()
    real = grade.execute_cells

    def execute_cells(session: execute.Kernel, *args: object, **kwargs: object) -> execute.Execution:
        execution = real(session, *args, **kwargs)  # type: ignore[arg-type]
        scratch = session.confinement.scratch
        fstype = _mounts().get(str(scratch), "disk")
        for path in scratch.iterdir():
            if path.name.endswith(".bin"):
                seen.scratch[path.name] = (fstype, os.stat(path).st_blocks * 512)
        return execution

    monkeypatch.setattr(grade, "execute_cells", execute_cells)
    return seen


_WRITE = """
chunk = b"\\0" * (1 << 20)
with open("{path}", "wb") as f:
    for _ in range(2048):  # 2 GB: far beyond scratch_mb
        f.write(chunk)
"""
_FALLOCATE = """
import os
fd = os.open("falloc.bin", os.O_CREAT | os.O_WRONLY, 0o600)
try:
    os.posix_fallocate(fd, 0, 8 << 30)  # 8 GB at once
finally:
    os.close(fd)
"""
SCRATCH_LIMITS = {**LIMITS, "cell_timeout": 20, "notebook_timeout": 90, "scratch_mb": 64}


@pytest.mark.slow
def test_writing_beyond_the_scratch_limit_is_a_clear_note_the_rest_is_graded_and_the_disk_untouched(
        tmp_path: Path, seen_scratch: _Seen) -> None:
    """Three kernels try to write far more than ``scratch_mb`` (64 MB): a loop of writes (into the
    scratch folder, then into the private /tmp) and one 8 GB ``fallocate``. Each cell gets a note
    naming the limit, every question is still graded (the full scratch folder does not stop the
    grader's calls: the exchange folder has its own tmpfs), and the files never reached the disk.
    A student folder larger than the limit is not run, with the reason, and the run goes on; one
    who fills the exchange folder itself loses the calls, with the reason, and the run goes on."""
    config = load_course(tmp_path / "course", SCRATCH_LIMITS)
    subs = tmp_path / "subs"
    write_notebook(subs / "writer" / f"{ASSIGNMENT}.ipynb",
                   hostile_notebook(first=[_WRITE.format(path="big.bin"), _WRITE.format(path="/tmp/big.bin")]))
    write_notebook(subs / "fallocator" / f"{ASSIGNMENT}.ipynb", hostile_notebook(first=[_FALLOCATE]))
    write_notebook(subs / "exchange-filler" / f"{ASSIGNMENT}.ipynb",
                   hostile_notebook(first=[_WRITE.format(path=".grader-exchange/fill.bin")]))
    write_notebook(subs / "large-folder" / f"{ASSIGNMENT}.ipynb", BASELINE.read_bytes())
    with open(subs / "large-folder" / "data.bin", "wb") as big:  # sparse: 100 MB that take no disk
        big.truncate(100 * MB)
    (tmp_path / "tmp").mkdir()
    free_before = _free_bytes(tmp_path / "tmp")
    saved, tempfile.tempdir = tempfile.tempdir, str(tmp_path / "tmp")
    try:
        run = grade_class(subs, tmp_path / "out", config, runner=local_runner(jobs=2))
    finally:
        tempfile.tempdir = saved
    results = {r.student: r for r in run.results}
    writer, fallocator, large = results["writer"], results["fallocator"], results["large-folder"]
    tmpfs = writer.limits["scratch"] == "tmpfs"

    for result in (writer, fallocator):  # the cell failed with a clear note; everything else graded
        assert (result.score, result.error) == (100, ""), english(result.notes)
    if tmpfs:
        assert english(writer.notes)[:2] == ("cell 2 ran out of scratch space: the limit is 64 MB",
                                    "cell 3 ran out of scratch space: the limit is 64 MB")
        assert english(fallocator.notes) == ("cell 2 ran out of scratch space: the limit is 64 MB",)
    else:  # a per-file limit: the first file stops at 64 MB (/tmp is a bubblewrap tmpfs anyway)
        assert english(writer.notes)[0] == "cell 2 wrote a file larger than the scratch limit (64 MB per file)"
        assert english(fallocator.notes) == ("cell 2 wrote a file larger than the scratch limit (64 MB per file)",)

    if tmpfs:  # filling the grader's exchange folder on purpose costs the calls, not the class run
        filler = results["exchange-filler"]
        assert english(filler.notes)[0] == "cell 2 ran out of scratch space: the limit is 64 MB"
        assert filler.score == 0 and {t.failure.message for t in filler.tests if t.failure} == {
            "OSError: no room left in the scratch folder for the call's inputs (the limit is 64 MB)"}

    assert large.score == 0 and large.cells == (), "not run: no cell of it was executed"
    assert large.error == ("the submission's folder holds 100.0 MB of files, more than the scratch space "
                           "(64 MB, [limits] scratch_mb): it was not run")
    assert all(t.failure is not None and t.failure.message == large.error for t in large.tests)

    fstype, used = seen_scratch.scratch["big.bin"]
    assert used <= 64 * MB
    assert seen_scratch.scratch["falloc.bin"][1] <= 64 * MB
    if tmpfs:  # the 64 MB written lived in memory, never on the instructor's disk
        assert fstype == "tmpfs"
        assert _free_bytes(tmp_path / "tmp") > free_before - 512 * MB  # 2 GB + 8 GB were attempted
    left = [p for p in (tmp_path / "tmp").iterdir() if not p.name.startswith("cnn-grader-selfcheck-")]  # a cache
    assert not left, "a workspace was left behind"
    assert not [m for m in _mounts() if m.startswith(str(tmp_path))], "a tmpfs was left mounted"


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.mark.slow
def test_without_cgroups_or_mounts_limits_are_weaker_said_once_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A TA's laptop (not root): no cgroup, no tmpfs. Grading works, each weaker limit is warned
    about once per run, results record it, and a too-large file fails at the per-file limit."""
    monkeypatch.setattr(sandbox.Cgroup, "create", classmethod(lambda cls, *a, **k: None))
    monkeypatch.setattr(run_scratch, "mount_tmpfs", lambda *a, **k: "cannot mount a tmpfs (Operation not permitted)")
    run_limits._warned.clear()
    config = load_course(tmp_path / "course", {**LIMITS, "scratch_mb": 8})
    assignment = course_assignments()[ASSIGNMENT]
    prepared = prepare(assignment, config)
    writer = write_notebook(tmp_path / "writer.ipynb", hostile_notebook(first=[_WRITE.format(path="big.bin")]))
    with caplog.at_level(logging.WARNING, logger="grader.run.sandbox"):
        results = [grade_notebook(path, student="s", assignment=assignment, prepared=prepared, config=config)
                   for path in (writer, BASELINE)]
    assert [r.score for r in results] == [100, 100]
    assert english(results[0].notes)[0] == "cell 2 wrote a file larger than the scratch limit (8 MB per file)"
    expected = {"cpu": "none", "memory": "per-process", "processes": "none", "scratch": "per-file"}
    assert [r.limits for r in results] == [expected, expected]
    assert SubmissionResult.from_json(results[0].to_json()).limits == expected
    warnings = sorted(r.getMessage() for r in caplog.records if "grader.limits" in r.getMessage())
    assert len(warnings) == 2, warnings  # one each, for two submissions
    assert "CPU is NOT shared fairly" in warnings[0] and warnings[0].endswith("grader.limits.cpu")
    assert "capped per file only (8 MB each)" in warnings[1] and warnings[1].endswith("grader.limits.scratch")
    run_limits._warned.clear()


def test_a_weaker_limit_is_said_once_when_two_threads_find_it_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Job threads make kernels at once (``grader validate --jobs``, a cluster worker's threads): the
    second to find that no cgroup can be made comes while the first is still writing its warning."""
    import threading

    said: list[str] = []
    first_in, second_done = threading.Event(), threading.Event()

    class Log:
        def warning(self, message: str, *args: object) -> None:
            said.append(message % args)
            if len(said) == 1:
                first_in.set()
                second_done.wait(timeout=30)  # only a guard against hanging: the second call sets it

    def second() -> None:
        first_in.wait(timeout=30)
        run_limits.warn_weaker("cpu", "no cpu cgroup here")
        second_done.set()

    monkeypatch.setattr(run_limits, "log", Log())
    run_limits._warned.clear()
    try:
        other = threading.Thread(target=second)
        other.start()
        run_limits.warn_weaker("cpu", "no cpu cgroup here")
        other.join(timeout=30)
    finally:
        run_limits._warned.clear()
    assert len(said) == 1, said


# --- fairness: an honest kernel next to a CPU hog ------------------------------------------------

# ~4 s of pure-Python CPU on the development machine (10 M steps ≈ 1.2 s): a fixed amount of work,
# not a time loop. conv2d_matmul (20 points) is defined only once it is done, as in the issue,
# where a 17-second cell timed out and the notebook fell from 100 to 80.
_HONEST_WORK = """
# HONEST-WORK
x = 0
for i in range(33_000_000):
    x = (x * 31 + i) % 1_000_003
conv2d_matmul = _kept_conv2d_matmul
"""
SPINNING, STOP = "HOG-SPINNING", "HOG-STOP"
_HOG = f"""
# HOG-FORK
import os, signal
children = []
for _ in range(24):
    child = os.fork()
    if child == 0:
        os.setsid()  # out of the kernel's session and process group
        try:
            while True:
                pass
        finally:
            os._exit(0)
    children.append(child)
open({SPINNING!r}, "w").close()
while not os.path.exists({STOP!r}):  # the parent spins too, until the test has measured
    pass
for child in children:  # done: the rest of the hog's notebook need not crawl beside them
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
"""
# No clock decides this test. The hog spins from before the honest cell starts until after it ends
# (the test waits for its marker, and stops it only then), and what is asserted is how the CPU was
# shared meanwhile, a ratio the machine's load does not move: with the CPU limit the two kernels'
# cgroups weigh the same, so the honest one gets about as much CPU as the hog's 25 processes
# together (~1×), however little the machine has left for both; without it each process weighs the
# same and the honest kernel gets 1/25 of the hog's (~0.04×). The time limits are far beyond any
# load (a cell spinning forever is not in this test); they only keep a broken run from hanging.
FAIR_LIMITS = {**LIMITS, "cell_timeout": 600, "notebook_timeout": 1800, "call_timeout": 60, "cpu_time": 1800}
HANG_GUARD = 600  # seconds; the honest cell waits this long at most for the hog to be spinning


def _cpu_seconds(pids: set[int]) -> dict[int, float]:
    """CPU time (user + system) of each live process of ``pids``, from /proc: not a clock."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


@dataclass
class _Share:
    """CPU seconds of the honest kernel and of the hog's cgroup while the honest cell ran."""

    honest: float = 0.0
    hog: float = 0.0


@dataclass
class _Cells:
    """The outcome of each marked cell as the grader ran it, and the CPU shared during the honest
    cell when a hog was beside it."""

    outcomes: dict[str, list[str]] = field(default_factory=dict)
    hog: execute.Kernel | None = None
    beside_hog: bool = False
    share: _Share | None = None

    def hog_file(self, name: str) -> Path:
        assert self.hog is not None
        return self.hog.confinement.scratch / name


@pytest.fixture
def marked_cells(monkeypatch: pytest.MonkeyPatch) -> _Cells:
    cells = _Cells()
    real = execute.Kernel.run

    def usage(kernel: execute.Kernel | None) -> dict[int, float]:
        assert kernel is not None and kernel.cgroup is not None, "a kernel without its cgroup"
        return _cpu_seconds(kernel.cgroup.pids())

    def honest_run(kernel: execute.Kernel, source: str, timeout: float, index: int) -> execute.CellRun:
        deadline = time.monotonic() + HANG_GUARD  # the hog's marker comes by itself
        while not (cells.hog is not None and cells.hog_file(SPINNING).exists()):
            assert time.monotonic() < deadline, "the hog never started spinning"
            time.sleep(0.05)
        before = {"honest": usage(kernel), "hog": usage(cells.hog)}
        try:
            return real(kernel, source, timeout, index)
        finally:
            after = {"honest": usage(kernel), "hog": usage(cells.hog)}
            cells.hog_file(STOP).touch()
            used = {side: sum(t - before[side].get(pid, 0.0) for pid, t in after[side].items()) for side in after}
            cells.share = _Share(used["honest"], used["hog"])

    def run(self: execute.Kernel, source: str, timeout: float, index: int = -1) -> execute.CellRun:
        if "# HOG-FORK" in source:
            cells.hog = self
        if "# HONEST-WORK" in source and cells.beside_hog:
            result = honest_run(self, source, timeout, index)
        else:
            result = real(self, source, timeout, index)
        for marker in ("HONEST-WORK", "HOG-FORK"):
            if f"# {marker}" in source:
                cells.outcomes.setdefault(marker, []).append(result.outcome)
        return result

    monkeypatch.setattr(execute.Kernel, "run", run)
    return cells


def _honest_notebook() -> nbformat.NotebookNode:
    return hostile_notebook("_kept_conv2d_matmul = conv2d_matmul\ndel conv2d_matmul", _HONEST_WORK)


@pytest.mark.slow
def test_an_honest_notebook_scores_the_same_alone_and_next_to_a_cpu_hog(
        tmp_path: Path, marked_cells: _Cells) -> None:
    """The honest notebook with a ~4 s CPU-bound cell scores 100 graded alone, and 100 again with
    ``--jobs 2`` beside a notebook whose 24 children each leave the session to spin; meanwhile its
    kernel got about as much CPU as all the hog's processes together."""
    _cpu_cgroup_or_skip()
    config = load_course(tmp_path / "course", FAIR_LIMITS)
    alone, pair = tmp_path / "alone", tmp_path / "pair"
    write_notebook(alone / "honest" / f"{ASSIGNMENT}.ipynb", _honest_notebook())
    write_notebook(pair / "honest" / f"{ASSIGNMENT}.ipynb", _honest_notebook())
    write_notebook(pair / "hog" / f"{ASSIGNMENT}.ipynb", hostile_notebook(first=[_HOG]))

    [by_itself] = grade_class(alone, tmp_path / "out-alone", config, runner=local_runner(jobs=1)).results
    assert marked_cells.outcomes.pop("HONEST-WORK") == ["ok"]
    marked_cells.beside_hog = True
    results = {r.student: r for r in grade_class(pair, tmp_path / "out-pair", config, runner=local_runner(jobs=2)).results}
    share = marked_cells.share
    assert share is not None, "the honest cell was not measured beside the hog"
    measured = f"during the honest cell: honest kernel {share.honest:.1f} s of CPU, the hog's cgroup {share.hog:.1f} s"
    logging.getLogger(__name__).info("%s", measured)  # shown with --log-cli-level=INFO
    assert marked_cells.outcomes == {"HONEST-WORK": ["ok"], "HOG-FORK": ["ok"]}, "the hog spun until told to stop"
    assert share.hog > 0.5, f"the hog was not spinning during the honest cell ({measured})"
    assert share.honest >= 0.5 * share.hog, f"the hog took the honest kernel's CPU ({measured})"
    assert (by_itself.score, results["honest"].score) == (100, 100), measured
    assert results["honest"].limits["cpu"] == "cgroup"


def test_the_model_inspector_gets_the_kernels_cpu_quota_and_scratch_size(tmp_path: Path, monkeypatch) -> None:
    """A `.keras` evaluated on every core must not slow a neighbour's cells: the inspector's cgroup
    has the submission's CPU quota (it had none: equal weight only) and its /tmp the course's size."""
    import dataclasses
    import sys
    import types

    from grader.run import sandbox
    from grader.course.config import load_config
    from grader.grade.workspace import inspector_for

    asked: list[tuple] = []
    monkeypatch.setattr(sandbox.Cgroup, "create", classmethod(lambda cls, *a: asked.append(a)))
    confinement = sandbox.Confinement(tmp_path, {}, (), isolation="off", cpus=0.5, scratch_mb=77)
    workspace = types.SimpleNamespace(folder=tmp_path, launch=types.SimpleNamespace(confinement=confinement))
    config = load_config(Path(__file__).resolve().parents[2] / "course.toml", environ={})
    limits = dataclasses.replace(config.limits, scratch_mb=77)
    inspector = inspector_for(workspace, config, limits)  # type: ignore[arg-type]
    seen: list[sandbox.Confinement] = []
    real = sandbox.inspector_prefix
    monkeypatch.setattr(sandbox, "inspector_prefix", lambda c, g: seen.append(c) or real(c, g))
    inspector._command = lambda: [sys.executable, "-c", "pass"]  # type: ignore[method-assign]
    inspector._start()
    inspector.close()
    assert asked == [(limits.memory_mb, limits.processes, 0.5)]
    assert (seen[0].cpus, seen[0].scratch_mb) == (0.5, 77)
