"""Confining a student's kernel: what it can see, what it can use, and that nothing of it survives.

A submission's kernel is launched as ``confine → bwrap → ipykernel`` (see :mod:`grader.run.confine`):

* **Sight** (bubblewrap, Linux). The kernel gets a new, empty root with only the system directories
  (``/usr``, ``/etc``, ``/lib*``), the Python installation it runs on, the data it is meant to read
  (the training faces) read-only, and its scratch folder as the only writable place; ``/tmp`` is a
  fresh tmpfs. The course repository, ``solutions/``, ``course.toml``, the grader's source, the
  held-out data, the gradebook and the other submissions are simply not there: a whitelist rather
  than a tmpfs over each instructor path we would have to remember. Every namespace is unshared —
  no network, and a pid namespace so ``/proc/<grader pid>/root`` cannot reach around the mounts —
  all capabilities are dropped, the environment is cleared to the allow-list the grader passes, and
  ``--die-with-parent``/``--new-session`` tie the kernel to the grader and cut it from the terminal.
  The kernel talks to the grader over unix sockets (the ``ipc`` transport) in a folder bound into
  the sandbox: TCP on loopback does not cross a network namespace.
* **Use.** The address space, CPU time and file size of each process are limited (``setrlimit``),
  and where a cgroup can be made (root, or a delegated cgroup v2) the whole tree's memory, number of
  tasks and CPU: a quota of ``cpus`` cores (``cpu.max``; v1 ``cpu.cfs_quota_us``) and the same
  weight as every other kernel (``cpu.weight`` / ``cpu.shares``), so a kernel gets its share however
  many processes or sessions it makes — time limits are wall-clock, and a neighbour's 24 busy
  children must not make an honest cell time out. The default quota is a fair share, the machine's
  cores divided by the kernels graded at once (:func:`fair_cpus`), so a cell takes as long next to a
  hog as alone. Where no cpu cgroup can be made, :func:`confined` warns once and results record
  ``limits.cpu = "none"``.
* **Space.** The scratch folder is a size-capped tmpfs (:class:`ScratchSpace`) when the grader may
  mount (root or ``CAP_SYS_ADMIN``): a kernel that writes or fallocates more gets ``ENOSPC``,
  and nothing reaches the instructor's disk, since tmpfs pages live in memory (charged to the
  writer's memory cgroup). The grader's exchange folder inside it gets a tmpfs of its own, so a
  scratch folder left full still lets the other questions be graded; the sockets folder, the only
  other writable bind, gets a small one. Otherwise each file is capped (``RLIMIT_FSIZE``, ``EFBIG``)
  — a weaker limit, warned about once and recorded as ``limits.scratch = "per-file"``. The private
  ``/tmp`` is capped to the same size (``bwrap --size``). A grader killed by SIGKILL leaves its
  mounts; the next run unmounts them (:func:`_sweep_stale_mounts`).
* **End.** When a submission is done, every process left in its cgroup is killed; with bubblewrap
  the pid namespace dies with the kernel anyway.

Without a working bubblewrap (macOS, a laptop without it, a container that forbids namespaces)
``grader grade`` refuses to start (:func:`isolation`, fail closed) unless the instructor passes
``--sandbox off``; then kernels run with the limits that can be set and every result records
``"sandbox": "off"``. Commands that run only trusted code use ``auto``.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["NO_SPACE", "Confinement", "Isolation", "SandboxMode", "SandboxUnavailable", "ScratchLimit", "ScratchSpace", "confined",
           "fair_cpus", "is_out_of_space", "isolation", "limits_in_force", "refusal"]

log = logging.getLogger(__name__)

Isolation = Literal["bwrap", "off"]
SandboxMode = Literal["required", "auto", "off"]
ScratchLimit = Literal["tmpfs", "per-file"]

_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CGROUP_PARENT = "cnn-grader"
GRADER_PACKAGE = Path(__file__).resolve().parents[1]  # grader/, with the reference answers
_CFS_PERIOD_US = 100_000  # the kernel's default scheduling period; the quota is cpus × this
_V1_SHARES, _V2_WEIGHT = 1024, 100  # the default weights: every kernel the same
_SCRATCH_INODES = 1 << 16  # files a scratch tmpfs may hold: empty files cost memory too
_SOCKETS_MB = 16  # connection files and unix sockets only


class SandboxUnavailable(RuntimeError):
    """Grading students' code needs the sandbox and it cannot run here; the message says why, how
    to fix it, and the explicit way out."""


@dataclass(frozen=True)
class Confinement:
    """Everything that decides the kernel's world, built per submission by :mod:`grader.grade.notebook`."""

    scratch: Path
    env: Mapping[str, str]
    readable: tuple[Path, ...] = ()
    memory_mb: int = 4096
    cpu_time: float = 1800.0
    processes: int = 512
    isolation: Isolation = "off"
    cpus: float | None = None  # the cgroup's CPU quota in cores; None: equal weight, no quota
    scratch_mb: int = 1024  # the size of the private /tmp, and of any one file the kernel writes


# -- is bubblewrap usable? --------------------------------------------------------------------------
_CONTAINER_HINT = ("or run the grader in a Linux VM, or in a container started with --privileged "
                   "(bubblewrap needs to create namespaces)")


@functools.cache
def _bwrap_problem() -> str | None:
    """Why bubblewrap cannot confine a kernel here, with the fix, or None. Tried once per process:
    installed is not enough (a container may forbid the namespaces it needs)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux and this is {sys.platform}: run the grader in a Linux VM or container"
    path = shutil.which("bwrap")
    if path is None:
        return ("bubblewrap is not installed: `apt-get install bubblewrap` (Debian/Ubuntu), "
                f"`dnf install bubblewrap` (Fedora), {_CONTAINER_HINT}")
    trial = [path, *_system_binds(), "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(trial, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not start ({exc}): reinstall it, {_CONTAINER_HINT}"
    if done.returncode != 0:
        return (f"this machine forbids the namespaces bubblewrap needs ({done.stderr.strip()[:200]}): allow "
                "unprivileged user namespaces (`sysctl kernel.unprivileged_userns_clone=1`, on Ubuntu "
                f"`sysctl kernel.apparmor_restrict_unprivileged_userns=0`), run the grader as root, {_CONTAINER_HINT}")
    return None


def refusal(problem: str) -> str:
    """What ``grader grade`` says when it will not run students' code unconfined."""
    return (f"refusing to grade: students' notebooks would run unconfined, with your rights (your files, "
            f"tokens and the held-out data). Why: {problem}. To grade without the sandbox anyway, on a "
            f"machine where that is acceptable, pass --sandbox off.")


def fair_cpus(jobs: int) -> float:
    """The default CPU quota of a kernel: this machine's cores (those this process may run on)
    shared equally by the ``jobs`` kernels graded at once. A cell then runs at the same speed alone
    and next to a busy neighbour, so its time limit means the same for every student."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return cores / max(1, jobs)


@functools.cache
def _warn_weaker(limit: str, problem: str) -> None:
    """One warning per run and limit (``"cpu"``, ``"scratch"``) that could not be enforced as meant."""
    log.warning("%s; results record it under grader.limits.%s", problem, limit)


@functools.cache
def _note_trusted(problem: str) -> None:
    log.warning("running the course's own code without a sandbox: %s", problem)


def isolation(mode: SandboxMode = "required") -> Isolation:
    """How kernels are confined under ``mode`` (fail closed):

    * ``required`` (``grader grade``'s default): ``"bwrap"``, or :class:`SandboxUnavailable` with the
      reason, the fix and the way out — students' code never runs unconfined by accident;
    * ``off``: ``"off"``, unconfined, because the instructor asked for it by name (every result and
      page then says so);
    * ``auto``, for commands that run only trusted code (``validate`` runs the course's own
      solutions and mutants, ``check`` a student's own notebook on their own machine): the sandbox
      when it works, else ``"off"`` with one line saying why that is acceptable here.
    """
    if mode == "off":
        return "off"
    problem = _bwrap_problem()
    if problem is None:
        return "bwrap"
    if mode == "required":
        raise SandboxUnavailable(refusal(problem))
    _note_trusted(problem)
    return "off"


# -- the bubblewrap command -------------------------------------------------------------------------
@functools.cache
def _bwrap_has_size(path: str) -> bool:
    """``--size`` (bubblewrap 0.5 and later); an older one still sandboxes, with an uncapped /tmp."""
    try:
        done = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in done.stdout + done.stderr


def _system_binds() -> list[str]:
    args: list[str] = []
    for name in _SYSTEM_DIRS:
        if os.path.islink(name):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


def _python_dirs() -> list[Path]:
    """The interpreter and its packages (a venv, its base installation, user site-packages)."""
    candidates = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                  *site.getsitepackages(), site.getusersitepackages()]
    return _outermost(Path(p) for p in candidates if p and os.path.isdir(p) and not p.startswith(_SYSTEM_DIRS))


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Drop paths inside another one of the list (binding the outer one shows them already)."""
    kept: list[Path] = []
    for path in sorted({p.resolve() for p in paths}, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(outer) for outer in kept):
            kept.append(path)
    return kept


def _hidden_source(visible: list[Path]) -> list[Path]:
    """The grader's own package (with the reference answers) when an installation would show it."""
    return [GRADER_PACKAGE] if any(GRADER_PACKAGE.is_relative_to(v) for v in visible) else []


def bwrap_argv(c: Confinement, sockets: Path) -> list[str]:
    """The ``bwrap ... --`` prefix for a kernel confined as :class:`Confinement` says."""
    path = shutil.which("bwrap")
    assert path is not None, "isolation() said bubblewrap works"
    python = _python_dirs()
    # Mounts apply in order: the private /tmp first, so that a venv or a course living under /tmp
    # is bound on top of it rather than hidden by it.
    # The private /tmp is size-capped like the scratch folder (its pages are memory).
    size = ["--size", str(c.scratch_mb * 1024 * 1024)] if _bwrap_has_size(path) else []
    argv = [path, *_system_binds(), "--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/tmp"]
    for folder in python:
        argv += ["--ro-bind", str(folder), str(folder)]
    for folder in _hidden_source(python):
        argv += ["--tmpfs", str(folder)]
    for folder in c.readable:
        argv += ["--ro-bind-try", str(folder), str(folder)]
    argv += ["--bind", str(c.scratch), str(c.scratch), "--bind", str(sockets), str(sockets), "--remount-ro", "/"]
    argv += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for key, value in c.env.items():
        argv += ["--setenv", key, value]
    return [*argv, "--chdir", str(c.scratch), "--"]


# -- cgroups: limits on the whole tree, and the kill at the end -----------------------------------
Controller = Literal["pids", "memory", "cpu"]


def _limit_files(memory_mb: int, processes: int, cpus: float | None, v2: bool) -> dict[Controller, dict[str, str]]:
    """What to write in a kernel's cgroup, per controller, in order (v1: the period before the quota)."""
    memory = str(memory_mb * 1024 * 1024)
    quota = None if cpus is None else str(max(1000, round(cpus * _CFS_PERIOD_US)))
    if v2:
        cpu = {"cpu.weight": str(_V2_WEIGHT)} | ({} if quota is None else {"cpu.max": f"{quota} {_CFS_PERIOD_US}"})
        return {"pids": {"pids.max": str(processes)}, "memory": {"memory.max": memory}, "cpu": cpu}
    cpu = {"cpu.shares": str(_V1_SHARES)}
    if quota is not None:
        cpu |= {"cpu.cfs_period_us": str(_CFS_PERIOD_US), "cpu.cfs_quota_us": quota}
    return {"pids": {"pids.max": str(processes)}, "memory": {"memory.limit_in_bytes": memory}, "cpu": cpu}


class Cgroup:
    """One kernel's cgroup — v2, or one directory per v1 controller (``pids``, ``memory``, ``cpu``) —
    and the controllers whose limits are in force in it; :meth:`kill` empties it."""

    def __init__(self, dirs: list[Path], controllers: frozenset[Controller] = frozenset()) -> None:
        self.dirs = dirs
        self.controllers = controllers

    @classmethod
    def create(cls, memory_mb: int, processes: int, cpus: float | None = None) -> Cgroup | None:
        """A fresh cgroup with the limits (a CPU quota of ``cpus`` cores when given, an equal weight
        always), or None where this process may not make one. A controller that cannot be had is
        left out of :attr:`controllers`; the others still apply."""
        name = uuid.uuid4().hex[:12]
        v2 = (_CGROUP_ROOT / "cgroup.controllers").exists()
        limits = _limit_files(memory_mb, processes, cpus, v2)
        if v2:
            return cls._create_v2(_CGROUP_ROOT / _CGROUP_PARENT / name, limits)
        made: list[Path] = []
        controllers: set[Controller] = set()
        for controller, files in limits.items():
            folder = _CGROUP_ROOT / controller / _CGROUP_PARENT / name
            try:
                _make_parent_v1(folder.parent, controller)
                folder.mkdir()
                for file, value in files.items():
                    (folder / file).write_text(value, encoding="ascii")
            except OSError as exc:
                log.debug("no %s cgroup at %s: %s", controller, folder, exc)
                _remove(folder)
                continue
            made.append(folder)
            controllers.add(controller)
        return cls(made, frozenset(controllers)) if made else None

    @classmethod
    def _create_v2(cls, folder: Path, limits: Mapping[Controller, Mapping[str, str]]) -> Cgroup | None:
        try:
            _make_parent_v2(folder.parent)
            folder.mkdir()
        except OSError as exc:
            log.debug("no cgroup at %s: %s", folder, exc)
            return None
        controllers: set[Controller] = set()
        for controller, files in limits.items():
            try:
                for file, value in files.items():
                    (folder / file).write_text(value, encoding="ascii")
            except OSError as exc:  # the controller is not enabled for us: its files are missing
                log.debug("no %s controller in %s: %s", controller, folder, exc)
                continue
            controllers.add(controller)
        return cls([folder], frozenset(controllers))  # even without controllers, kill() works

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.dirs:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except OSError:
                continue
        return found

    def kill(self, patience: float = 5.0) -> None:
        """SIGKILL every process in the cgroup, again until none is left (a fork bomb refills)."""
        deadline = time.monotonic() + patience
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill()
        for folder in self.dirs:
            _remove(folder)


def _parent_weight(v2: bool) -> str:
    """The weight of the ``cnn-grader`` parent: as many default weights as the machine has cores.
    Grouped, all kernels would otherwise weigh as much as one process against the rest of the
    machine, and grade slower beside a busy neighbour than ungrouped kernels did."""
    cores = max(1, round(fair_cpus(1)))
    return str(min(10_000, _V2_WEIGHT * cores)) if v2 else str(_V1_SHARES * cores)


def _make_parent_v1(parent: Path, controller: Controller) -> None:
    if parent.exists():
        return
    parent.mkdir(exist_ok=True)
    if controller == "cpu":
        try:
            (parent / "cpu.shares").write_text(_parent_weight(v2=False), encoding="ascii")
        except OSError as exc:
            log.debug("could not weigh %s: %s", parent, exc)


def _make_parent_v2(parent: Path) -> None:
    """The v2 parent, giving its children each controller it can (an older parent may lack +cpu)."""
    created = not parent.exists()
    parent.mkdir(exist_ok=True)
    enabled = (parent / "cgroup.subtree_control").read_text(encoding="ascii").split()
    for controller in ("pids", "memory", "cpu"):
        if controller in enabled:
            continue
        try:
            (parent / "cgroup.subtree_control").write_text(f"+{controller}", encoding="ascii")
        except OSError as exc:  # not delegated to us by the level above
            log.debug("cannot enable %s under %s: %s", controller, parent, exc)
    if created:
        try:
            (parent / "cpu.weight").write_text(_parent_weight(v2=True), encoding="ascii")
        except OSError as exc:
            log.debug("could not weigh %s: %s", parent, exc)


def _remove(folder: Path) -> None:
    for _ in range(50):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # still busy for a moment after the last process died
            time.sleep(0.02)
    log.debug("could not remove cgroup %s", folder)


# -- scratch space: a size-capped tmpfs, or a per-file limit ----------------------------------------
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)  # what a write beyond the scratch limit fails with


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


_MOUNT_SOURCE = "cnn-grader-"  # + the grader's pid: whose mount it is, for _sweep_stale_mounts


def _mount_tmpfs(target: Path, size_mb: int, inodes: int = _SCRATCH_INODES) -> str | None:
    """Mount a tmpfs of ``size_mb`` on ``target``; None, or why it could not be done."""
    if not sys.platform.startswith("linux"):
        return f"a size-capped tmpfs needs Linux (this is {sys.platform})"
    _sweep_stale_mounts()
    options = f"size={size_mb}m,nr_inodes={inodes},mode=0700".encode()
    source = f"{_MOUNT_SOURCE}{os.getpid()}".encode()
    if _libc().mount(source, os.fsencode(target), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) == 0:
        return None
    return f"cannot mount a tmpfs ({os.strerror(ctypes.get_errno())}; it needs root or CAP_SYS_ADMIN)"


def _unmount(target: Path) -> None:
    """Unmount ``target``; lazily when something still holds it (the kernel is dead by then, so
    only for a moment), which frees it as soon as it is let go."""
    libc = _libc()
    if libc.umount2(os.fsencode(target), 0) == 0:
        return
    if ctypes.get_errno() == errno.EBUSY and libc.umount2(os.fsencode(target), _MNT_DETACH) == 0:
        return
    log.warning("could not unmount the scratch tmpfs at %s: %s", target, os.strerror(ctypes.get_errno()))


@functools.cache
def _sweep_stale_mounts() -> None:
    """Once per run: lazily unmount the tmpfs mounts left by a grader that was killed (SIGKILL
    skips every ``finally``), found by the pid in their source name. A live pid is left alone, so
    another grader running on this machine keeps its mounts."""
    try:
        table = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    for line in table:
        fields, _, tail = line.partition(" - ")
        parts = tail.split()
        if len(parts) < 2 or parts[0] != "tmpfs" or not parts[1].startswith(_MOUNT_SOURCE):
            continue
        owner = parts[1].removeprefix(_MOUNT_SOURCE)
        if not owner.isdigit() or _alive(int(owner)):
            continue
        target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields.split()[4])  # \040: a space
        if _libc().umount2(os.fsencode(target), _MNT_DETACH) == 0:
            log.info("unmounted %s, left by a grader (pid %s) that was killed", target, owner)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def is_out_of_space(exc: OSError) -> bool:
    """The error of a write beyond the scratch limit: no space left, or a file too large."""
    return exc.errno in NO_SPACE


class ScratchSpace:
    """A kernel's scratch folder that holds at most ``size_mb``, and its ``separate`` subfolders,
    which get as much again each (the grader's exchange folder: a student who fills the scratch
    folder must not stop the grader from passing the next call's inputs).

    Where the grader may mount, each is a tmpfs: writing or ``fallocate``-ing beyond it fails with
    ``ENOSPC`` and nothing reaches the disk, the pages being memory charged to the writer's memory
    cgroup (hence ``scratch_mb < memory_mb``). The folder stays an ordinary path on the host, where
    the grader writes the student's files and the calls' inputs. Elsewhere :attr:`mode` is
    ``"per-file"``: the launcher's ``RLIMIT_FSIZE`` caps each file, one warning says so, and a
    kernel could still fill the disk with many files."""

    def __init__(self, folder: Path, size_mb: int, separate: Iterable[str] = ()) -> None:
        self.folder, self.size_mb = folder, size_mb
        self.mounted: list[Path] = []
        problem = _mount_tmpfs(folder, size_mb)
        #: how the space was capped; it stays so after :meth:`close`, for the result
        self.mode: ScratchLimit = "per-file" if problem else "tmpfs"
        if problem is not None:
            _warn_weaker("scratch", f"scratch folders are capped per file only ({size_mb} MB each): {problem}")
            return
        self.mounted.append(folder)
        for name in separate:
            (folder / name).mkdir()
            if _mount_tmpfs(folder / name, size_mb) is None:
                self.mounted.append(folder / name)
            else:  # it shares the scratch folder's cap: still bounded, only less robust
                log.debug("no tmpfs of its own for %s", folder / name)

    def close(self) -> None:
        for target in reversed(self.mounted):
            _unmount(target)
        self.mounted = []


def limits_in_force(cgroup: Cgroup | None, scratch: ScratchLimit) -> dict[str, str]:
    """How each limit was really enforced, for the result (``grader.limits``): ``cpu`` ``"cgroup"``
    or ``"none"``, ``memory`` ``"cgroup"`` or ``"per-process"`` (address space only),
    ``processes`` ``"cgroup"`` or ``"none"``, ``scratch`` ``"tmpfs"`` or ``"per-file"``."""
    has = cgroup.controllers if cgroup is not None else frozenset()
    return {"cpu": "cgroup" if "cpu" in has else "none", "memory": "cgroup" if "memory" in has else "per-process",
            "processes": "cgroup" if "pids" in has else "none", "scratch": scratch}


# -- putting it together ----------------------------------------------------------------------------
def launcher(c: Confinement, cgroup: Cgroup | None) -> list[str]:
    """``python -I …/confine.py --memory-mb … --`` with ``c``'s limits and ``cgroup``. The launcher is
    run by path, isolated (-I: no script folder, user site or PYTHON* variables on its path; it needs
    the standard library only): always this grader's own, never whichever ``grader`` the kernel's
    environment would import (an installed copy beside a checkout)."""
    prefix = [sys.executable, "-I", str(Path(__file__).with_name("confine.py")), "--memory-mb", str(c.memory_mb),
              "--cpu-time", str(c.cpu_time), "--file-size-mb", str(c.scratch_mb)]
    for folder in cgroup.dirs if cgroup else ():
        prefix += ["--cgroup", str(folder)]
    return [*prefix, "--"]


@contextmanager
def confined(c: Confinement, sockets: Path) -> Iterator[tuple[list[str], Cgroup | None]]:
    """The command prefix that launches a kernel confined as ``c``, and its cgroup (if any), whose
    processes are all killed on exit."""
    cgroup = Cgroup.create(c.memory_mb, c.processes, c.cpus)
    if cgroup is None or "cpu" not in cgroup.controllers:
        _warn_weaker("cpu", "kernels' CPU is NOT shared fairly: no cpu cgroup could be made here (it needs root, "
                            "or a delegated cgroup v2 with the cpu controller), so with --jobs > 1 a busy kernel "
                            "can make its neighbour's cells time out")
    # The sockets folder is the sandbox's other writable bind: a small tmpfs keeps it off the disk.
    sockets_tmpfs = _mount_tmpfs(sockets, _SOCKETS_MB, inodes=1024) is None
    try:
        # The launcher is run by path, isolated (-I: no script folder, user site or PYTHON* variables
        # on its path; it needs the standard library only): always this grader's own, never whichever
        # `grader` the kernel's environment would import (an installed copy beside a checkout).
        prefix = launcher(c, cgroup)
        if c.isolation == "bwrap":
            prefix += bwrap_argv(c, sockets)
        yield prefix, cgroup
    finally:
        if cgroup is not None:
            cgroup.remove()
        if sockets_tmpfs:
            _unmount(sockets)


# -- the model inspector: the same confinement, a different view ----------------------------------
# grader.run.inspect_model loads the students' .keras files, which are untrusted input (a small archive
# can ask for a huge layer). It runs under the kernel's launcher and limits; with bubblewrap it sees
# the system, the Python installation and the grader package (it is grader code: it needs
# grader.run.inspect_model and grader.course.reference.gender.load_faces), the held-out faces read-only, and
# one private folder with the copies of the models. Nothing else of the instructor's.

_INSPECTOR_ENV_KEEP = ("PATH", "LANG")


def grader_root() -> Path:
    """The directory holding the running ``grader`` package: the inspector's ``PYTHONPATH``, so
    that it always runs the grader's own code (a source checkout, a worktree, an installation)."""
    return GRADER_PACKAGE.parent


def inspector_env(private: Path) -> dict[str, str]:
    """The inspector's whole environment: a short allow-list, never the instructor's seed or tokens."""
    env = {key: os.environ[key] for key in _INSPECTOR_ENV_KEEP if key in os.environ}
    env.update(HOME=str(private), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               PYTHONPATH=str(grader_root()))
    return env


def inspector_bwrap_argv(c: Confinement) -> list[str]:
    """The ``bwrap ... --`` prefix of the model inspector: ``c.scratch`` is its private folder
    (the only writable place), ``c.readable`` the held-out faces, ``c.env`` its environment."""
    path = shutil.which("bwrap")
    assert path is not None, "isolation() said bubblewrap works"
    python = _python_dirs()
    argv = [path, *_system_binds(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for folder in python:
        argv += ["--ro-bind", str(folder), str(folder)]
    if not any(GRADER_PACKAGE.is_relative_to(folder) for folder in python):  # only the package, not its checkout
        argv += ["--ro-bind", str(GRADER_PACKAGE), str(GRADER_PACKAGE)]
    for folder in c.readable:
        argv += ["--ro-bind-try", str(folder), str(folder)]
    argv += ["--bind", str(c.scratch), str(c.scratch), "--remount-ro", "/"]
    argv += ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for key, value in c.env.items():
        argv += ["--setenv", key, value]
    return [*argv, "--chdir", str(c.scratch), "--"]


def inspector_prefix(c: Confinement, cgroup: Cgroup | None) -> list[str]:
    """The command prefix that starts the inspector as ``c`` says: the launcher (rlimits, the
    cgroup), then bubblewrap when ``c.isolation`` is ``"bwrap"``. Without it the inspector still
    gets the limits and, from its caller, the cleared environment."""
    prefix = launcher(c, cgroup)
    if c.isolation == "bwrap":
        prefix += inspector_bwrap_argv(c)
    return prefix


def _main() -> int:
    """``python -m grader.run.sandbox``: exit 0 when students' kernels can be confined here, else print
    why (with the fix) and exit 1. ``make demo`` asks this before choosing ``--sandbox``."""
    problem = _bwrap_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    print("bubblewrap works here: kernels are confined")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
