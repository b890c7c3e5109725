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
  cores divided by the kernels graded at once (:func:`grader.run.cgroup.fair_cpus`), so a cell takes
  as long next to a hog as alone. Where no cpu cgroup can be made, :func:`confined` warns once and
  results record ``limits.cpu = "none"`` (:mod:`grader.run.cgroup`, :mod:`grader.run.limits`).
* **Space.** The scratch folder is a size-capped tmpfs (:class:`grader.run.scratch.ScratchSpace`)
  when the grader may mount (root or ``CAP_SYS_ADMIN``): a kernel that writes or fallocates more
  gets ``ENOSPC``, and nothing reaches the instructor's disk, since tmpfs pages live in memory (charged to the
  writer's memory cgroup). The grader's exchange folder inside it gets a tmpfs of its own, so a
  scratch folder left full still lets the other questions be graded; the sockets folder, the only
  other writable bind, gets a small one. Otherwise each file is capped (``RLIMIT_FSIZE``, ``EFBIG``)
  — a weaker limit, warned about once and recorded as ``limits.scratch = "per-file"``. The private
  ``/tmp`` is capped to the same size (``bwrap --size``). A grader killed by SIGKILL leaves its
  mounts; the next run unmounts them (:mod:`grader.run.scratch`).
* **End.** When a submission is done, every process left in its cgroup is killed; with bubblewrap
  the pid namespace dies with the kernel anyway.

Without a working bubblewrap (macOS, a laptop without it, a container that forbids namespaces)
``grader grade`` refuses to start (:func:`isolation`, fail closed) unless the instructor passes
``--sandbox off``; then kernels run with the limits that can be set and every result records
``"sandbox": "off"``. Commands that run only trusted code use ``auto``.

* **The unprivileged user** (``"user"``, :func:`user_or_bwrap`): where bubblewrap cannot run but the
  grader is root in a machine of its own — Gradescope's container, whose Docker seccomp profile
  forbids the namespaces — the launcher drops to the account :data:`KERNEL_USER` (the model inspector
  to :data:`INSPECTOR_USER`) before it becomes the kernel, with the same limits. What it cannot read
  is then up to file permissions: the folders the grader makes for it (its scratch folder, sockets,
  each call's exchange folder) are handed to it, every other folder of the grader's stays the
  grader's (``0700``), and whoever sets the machine up makes the course files unreadable to that
  account (:mod:`grader.authoring.autograder` does it for Gradescope). It shares the network and the
  process list with the grader, so it is weaker than bubblewrap, and results say ``"sandbox": "user"``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import site
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import scratch
from .cgroup import Cgroup, cores, fair_cpus, wait_ended
from .limits import limits_in_force, warn_weaker
from .scratch import NO_SPACE, ScratchLimit, ScratchSpace, is_out_of_space

# Cgroup, cores, fair_cpus, limits_in_force, NO_SPACE, ScratchLimit, ScratchSpace and is_out_of_space live in
# grader.run.cgroup, .limits and .scratch; they are named here too, as the confinement's whole surface.
__all__ = ["INSPECTOR_USER", "KERNEL_USER", "NO_SPACE", "Cgroup", "Confinement", "Isolation", "SandboxMode",
           "SandboxUnavailable", "ScratchLimit", "ScratchSpace", "confined", "cores", "fair_cpus", "hand_over",
           "is_out_of_space", "isolation", "limits_in_force", "refusal", "user_or_bwrap", "user_problem"]

log = logging.getLogger(__name__)

Isolation = Literal["bwrap", "user", "off"]
SandboxMode = Literal["required", "auto", "off"]

_SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
GRADER_PACKAGE = Path(__file__).resolve().parents[1]  # grader/, with the reference answers
_SOCKETS_MB = 16  # connection files and unix sockets only
# The accounts of the "user" isolation, made by whoever sets up the machine (the Gradescope setup.sh):
# the kernel's, which may read nothing of the course, and the model inspector's, whose group may read
# the grader package and the held-out faces.
KERNEL_USER = "cnn-grader-student"
INSPECTOR_USER = "cnn-grader-inspector"


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
    user: str | None = None  # the account the launcher drops to (the "user" isolation); None: the grader's


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


def user_or_bwrap() -> Isolation:
    """``"bwrap"`` when bubblewrap works here, else ``"user"`` when this process is root and the
    accounts :data:`KERNEL_USER` and :data:`INSPECTOR_USER` exist, else :class:`SandboxUnavailable`
    naming both reasons: the autograder in a container of its own never runs students' code
    with the grader's rights."""
    problem = _bwrap_problem()
    if problem is None:
        return "bwrap"
    missing = user_problem()
    if missing is None:
        log.warning("bubblewrap cannot run here (%s): kernels run as the unprivileged user %s", problem, KERNEL_USER)
        return "user"
    raise SandboxUnavailable(f"refusing to grade: students' notebooks would run unconfined. Bubblewrap: {problem}. "
                             f"The unprivileged user: {missing}.")


def user_problem() -> str | None:
    """Why kernels cannot be run as :data:`KERNEL_USER` here, or None."""
    import pwd

    if os.geteuid() != 0:
        return "the grader is not root, so it cannot switch to another user"
    for name in (KERNEL_USER, INSPECTOR_USER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return f"there is no account {name} (`useradd --system --no-create-home --user-group {name}`)"
    return None


def hand_over(path: Path, user: str | None, *, tree: bool = False) -> None:
    """Give ``path`` (with ``tree``, everything below it too) to ``user``, never following a link:
    the folders the grader makes for a kernel confined as that user. Nothing when ``user`` is None."""
    if user is None:
        return
    import pwd

    account = pwd.getpwnam(user)
    os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    if not tree:
        return
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(os.path.join(folder, name), account.pw_uid, account.pw_gid, follow_symlinks=False)


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


@functools.cache
def _site_path() -> tuple[str, ...]:
    """The folders this installation's interpreter puts on ``sys.path`` by itself: the standard library,
    site-packages and what their ``.pth`` files add (a venv whose packages come from another one, a
    distribution's extra folder). Asked of the interpreter once, isolated (``-I``: no ``PYTHONPATH``,
    no script folder), so a checkout that only the grader's own process sees is not among them."""
    try:
        done = subprocess.run([sys.executable, "-I", "-c", "import json, sys; print(json.dumps(sys.path))"],
                              capture_output=True, text=True, timeout=60)
        entries = json.loads(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        log.debug("could not ask %s for its sys.path: %s", sys.executable, exc)
        entries = []
    return tuple(entry for entry in entries if isinstance(entry, str) and os.path.isabs(entry))


def _python_dirs() -> list[Path]:
    """The interpreter and its packages (a venv, its base installation, user site-packages, the
    folders its ``.pth`` files add). A ``.pth`` folder that holds the grader's own source (a checkout,
    with the solutions beside it) is left out: the kernel needs none of it."""
    installation = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                    *site.getsitepackages(), site.getusersitepackages()]
    added = [p for p in _site_path() if not GRADER_PACKAGE.is_relative_to(os.path.realpath(p))]
    return _outermost(Path(p) for p in (*installation, *added)
                      if p and os.path.isdir(p) and not p.startswith(_SYSTEM_DIRS))


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



# -- putting it together ----------------------------------------------------------------------------
def launcher(c: Confinement, cgroup: Cgroup | None, own: Iterable[Path] = ()) -> list[str]:
    """``python -I …/confine.py --memory-mb … --`` with ``c``'s limits and ``cgroup``. The launcher is
    run by path, isolated (-I: no script folder, user site or PYTHON* variables on its path; it needs
    the standard library only): always this grader's own, never whichever ``grader`` the kernel's
    environment would import (an installed copy beside a checkout). With ``c.user`` it drops to that
    account, first handing it the folders ``own`` and what they hold (the sockets folder: its
    connection file exists only once jupyter_client is about to start the kernel)."""
    prefix = [sys.executable, "-I", str(Path(__file__).with_name("confine.py")), "--memory-mb", str(c.memory_mb),
              "--cpu-time", str(c.cpu_time), "--file-size-mb", str(c.scratch_mb)]
    for folder in cgroup.dirs if cgroup else ():
        prefix += ["--cgroup", str(folder)]
    if c.user is not None:
        prefix += ["--user", c.user, *(arg for folder in own for arg in ("--own", str(folder)))]
    return [*prefix, "--"]


def end_processes_of(user: str, patience: float = 5.0) -> None:
    """SIGKILL every process of ``user``, again until none is left alive (one forking refills): what
    a cgroup's kill does, for the "user" isolation where no cgroup can be made (Gradescope's
    container). A kernel's double fork into its own session leaves its process group and the
    launcher's, but not its account, which is the kernel's alone and, there, one submission's (the
    "user" isolation grades one notebook at a time). Sent by a shell running as ``user`` (``kill -1``:
    every process it may signal, itself excepted), so no process of anyone else can be hit."""
    import pwd
    import time

    try:
        account = pwd.getpwnam(user)
    except KeyError:
        return
    deadline = time.monotonic() + patience
    while (alive := _alive(account.pw_uid)) and (left := deadline - time.monotonic()) > 0:
        try:
            subprocess.run(["sh", "-c", "kill -s KILL -- -1"], user=account.pw_uid, group=account.pw_gid,
                           extra_groups=[], timeout=30, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError, ValueError):
            log.exception("could not end the processes of %s", user)
            return
        wait_ended(alive, left)  # those the shell killed; a fork made meanwhile is found next round


def _alive(uid: int) -> list[int]:
    """The processes whose real user is ``uid`` that are running (zombies, already dead, left out)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "status"), encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        dead = fields.get("State", "").strip().startswith(("Z", "X"))
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not dead:
            found.append(int(entry.name))
    return found


@contextmanager
def confined(c: Confinement, sockets: Path) -> Iterator[tuple[list[str], Cgroup | None]]:
    """The command prefix that launches a kernel confined as ``c``, and its cgroup (if any), whose
    processes are all killed on exit."""
    cgroup = Cgroup.create(c.memory_mb, c.processes, c.cpus)
    if cgroup is None or "cpu" not in cgroup.controllers:
        warn_weaker("cpu", "kernels' CPU is NOT shared fairly: no cpu cgroup could be made here (it needs root, "
                            "or a delegated cgroup v2 with the cpu controller), so with --jobs > 1 a busy kernel "
                            "can make its neighbour's cells time out")
    # The sockets folder is the sandbox's other writable bind: a small tmpfs keeps it off the disk.
    sockets_tmpfs = scratch.mount_tmpfs(sockets, _SOCKETS_MB, inodes=1024) is None
    try:
        # The launcher is run by path, isolated (-I: no script folder, user site or PYTHON* variables
        # on its path; it needs the standard library only): always this grader's own, never whichever
        # `grader` the kernel's environment would import (an installed copy beside a checkout).
        prefix = launcher(c, cgroup, own=(sockets,))
        if c.isolation == "bwrap":
            prefix += bwrap_argv(c, sockets)
        yield prefix, cgroup
    finally:
        if cgroup is not None:
            cgroup.remove()
        if c.user is not None:
            end_processes_of(c.user)
        if sockets_tmpfs:
            scratch.unmount(sockets)


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
    gets the limits and, from its caller, the cleared environment. Under the "user" isolation its
    private folder is handed to its account."""
    prefix = launcher(c, cgroup, own=(c.scratch,))
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
