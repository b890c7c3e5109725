"""Confining a student's kernel: what it can see, what it can use, and that nothing of it survives.

A submission's kernel is launched as ``confine → bwrap → ipykernel`` (see :mod:`grader.confine`):

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
* **Use.** The address space and CPU time of each process are limited (``setrlimit``), and where a
  cgroup can be made (root, or a delegated cgroup v2) the whole tree's memory and number of tasks.
* **End.** When a submission is done, every process left in its cgroup is killed; with bubblewrap
  the pid namespace dies with the kernel anyway.

Without a working bubblewrap (macOS, a laptop without it, a container that forbids namespaces)
``grader grade`` refuses to start (:func:`isolation`, fail closed) unless the instructor passes
``--sandbox off``; then kernels run with the limits that can be set and every result records
``"sandbox": "off"``. Commands that run only trusted code use ``auto``.
"""

from __future__ import annotations

import functools
import logging
import os
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

__all__ = ["Confinement", "Isolation", "SandboxMode", "SandboxUnavailable", "confined", "isolation", "refusal"]

log = logging.getLogger(__name__)

Isolation = Literal["bwrap", "off"]
SandboxMode = Literal["required", "auto", "off"]

_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CGROUP_PARENT = "cnn-grader"


class SandboxUnavailable(RuntimeError):
    """Grading students' code needs the sandbox and it cannot run here; the message says why, how
    to fix it, and the explicit way out."""


@dataclass(frozen=True)
class Confinement:
    """Everything that decides the kernel's world, built per submission by :mod:`grader.grade`."""

    scratch: Path
    env: Mapping[str, str]
    readable: tuple[Path, ...] = ()
    memory_mb: int = 4096
    cpu_time: float = 1800.0
    processes: int = 512
    isolation: Isolation = "off"


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
    package = Path(__file__).resolve().parent
    return [package] if any(package.is_relative_to(v) for v in visible) else []


def bwrap_argv(c: Confinement, sockets: Path) -> list[str]:
    """The ``bwrap ... --`` prefix for a kernel confined as :class:`Confinement` says."""
    path = shutil.which("bwrap")
    assert path is not None, "isolation() said bubblewrap works"
    python = _python_dirs()
    # Mounts apply in order: the private /tmp first, so that a venv or a course living under /tmp
    # is bound on top of it rather than hidden by it.
    argv = [path, *_system_binds(), "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
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
class Cgroup:
    """One kernel's cgroup (v2, or the v1 ``pids``+``memory`` pair); :meth:`kill` empties it."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    @classmethod
    def create(cls, memory_mb: int, processes: int) -> Cgroup | None:
        """A fresh cgroup with the limits, or None where this process may not make one."""
        name = uuid.uuid4().hex[:12]
        limits = {"pids.max": str(processes), "memory.max": str(memory_mb * 1024 * 1024),
                  "memory.limit_in_bytes": str(memory_mb * 1024 * 1024)}
        if (_CGROUP_ROOT / "cgroup.controllers").exists():
            wanted = {_CGROUP_ROOT / _CGROUP_PARENT / name: ("pids.max", "memory.max")}
        else:
            wanted = {_CGROUP_ROOT / "pids" / _CGROUP_PARENT / name: ("pids.max",),
                      _CGROUP_ROOT / "memory" / _CGROUP_PARENT / name: ("memory.limit_in_bytes",)}
        made = []
        for folder, files in wanted.items():
            try:
                _make_cgroup(folder)
                for file in files:
                    (folder / file).write_text(limits[file], encoding="ascii")
            except OSError as exc:
                log.debug("no cgroup at %s: %s", folder, exc)
                _remove(folder)
                continue
            made.append(folder)
        return cls(made) if made else None

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


def _make_cgroup(folder: Path) -> None:
    parent = folder.parent
    if not parent.exists():
        parent.mkdir(exist_ok=True)
        if (_CGROUP_ROOT / "cgroup.controllers").exists():  # v2: give our children the controllers
            (parent / "cgroup.subtree_control").write_text("+pids +memory", encoding="ascii")
    folder.mkdir()


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


# -- putting it together ----------------------------------------------------------------------------
@contextmanager
def confined(c: Confinement, sockets: Path) -> Iterator[tuple[list[str], Cgroup | None]]:
    """The command prefix that launches a kernel confined as ``c``, and its cgroup (if any), whose
    processes are all killed on exit."""
    cgroup = Cgroup.create(c.memory_mb, c.processes)
    prefix = [sys.executable, "-m", "grader.confine", "--memory-mb", str(c.memory_mb),
              "--cpu-time", str(c.cpu_time)]
    for folder in cgroup.dirs if cgroup else ():
        prefix += ["--cgroup", str(folder)]
    prefix.append("--")
    if c.isolation == "bwrap":
        prefix += bwrap_argv(c, sockets)
    try:
        yield prefix, cgroup
    finally:
        if cgroup is not None:
            cgroup.remove()


# -- the model inspector: the same confinement, a different view ----------------------------------
# grader.inspect_model loads the students' .keras files, which are untrusted input (a small archive
# can ask for a huge layer). It runs under the kernel's launcher and limits; with bubblewrap it sees
# the system, the Python installation and the grader package (it is grader code: it needs
# grader.inspect_model and grader.reference.gender.load_faces), the held-out faces read-only, and
# one private folder with the copies of the models. Nothing else of the instructor's.

_INSPECTOR_ENV_KEEP = ("PATH", "LANG")


def grader_root() -> Path:
    """The directory holding the running ``grader`` package: the inspector's ``PYTHONPATH``, so
    that it always runs the grader's own code (a source checkout, a worktree, an installation)."""
    return Path(__file__).resolve().parent.parent


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
    package = Path(__file__).resolve().parent
    if not any(package.is_relative_to(folder) for folder in python):  # only the package, not its checkout
        argv += ["--ro-bind", str(package), str(package)]
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
    prefix = [sys.executable, "-m", "grader.confine", "--memory-mb", str(c.memory_mb), "--cpu-time", str(c.cpu_time)]
    for folder in cgroup.dirs if cgroup else ():
        prefix += ["--cgroup", str(folder)]
    prefix.append("--")
    if c.isolation == "bwrap":
        prefix += inspector_bwrap_argv(c)
    return prefix


def _main() -> int:
    """``python -m grader.sandbox``: exit 0 when students' kernels can be confined here, else print
    why (with the fix) and exit 1. ``make demo`` asks this before choosing ``--sandbox``."""
    problem = _bwrap_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    print("bubblewrap works here: kernels are confined")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
