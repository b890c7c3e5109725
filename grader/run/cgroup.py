"""A kernel's cgroup: limits on its whole process tree (memory, tasks, a CPU quota and an equal
weight), and the kill at the end. Part of the confinement described in :mod:`grader.run.sandbox`.

Where a cgroup can be made (root, or a delegated cgroup v2), every kernel gets one under
``/sys/fs/cgroup/cnn-grader/``; v1 gets one directory per controller. A controller that cannot be
had is left out and the others still apply (:attr:`Cgroup.controllers`, recorded in each result by
:func:`grader.run.limits.limits_in_force`).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

__all__ = ["Cgroup", "Controller", "cores", "fair_cpus", "kill_and_wait", "wait_ended"]

log = logging.getLogger(__name__)

_CGROUP_ROOT = Path("/sys/fs/cgroup")
_CGROUP_PARENT = "cnn-grader"
_CFS_PERIOD_US = 100_000  # the kernel's default scheduling period; the quota is cpus × this
_V1_SHARES, _V2_WEIGHT = 1024, 100  # the default weights: every kernel the same


def cores() -> int:
    """The cores this process may run on (its affinity: a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def fair_cpus(jobs: int) -> float:
    """The default CPU quota of a kernel: this machine's :func:`cores` shared equally by the
    ``jobs`` kernels graded at once. A cell then runs at the same speed alone and next to a busy
    neighbour, so its time limit means the same for every student."""
    return cores() / max(1, jobs)


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
        """SIGKILL every process in the cgroup, again until none is left (a fork bomb refills).
        Each round waits for the processes it killed to end (:func:`kill_and_wait`), not for a
        fixed time: a graded kernel's cgroup is empty as soon as its processes are."""
        deadline = time.monotonic() + patience
        before: set[int] = set()
        while (pids := self.pids()) and (left := deadline - time.monotonic()) > 0:
            if pids == before:  # ended yet still listed for a moment: give the kernel that moment
                time.sleep(0.002)
            kill_and_wait(pids, left)
            before = pids

    def remove(self) -> None:
        self.kill()
        for folder in self.dirs:
            _remove(folder)


def kill_and_wait(pids: Iterable[int], timeout: float) -> None:
    """SIGKILL each of ``pids`` and wait until each has ended or ``timeout`` has passed.

    Through pidfds (Linux 5.3): the signal cannot reach another process that took a recycled pid,
    and a pidfd turns readable when its process ends, so the wait is one ``poll``, never a sleep.
    Without pidfds the signal goes by pid and the wait is a short sleep, as the caller repeats."""
    with _pidfds(pids) as (fds, unsupported):
        for fd in fds:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in unsupported:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _wait_readable(fds, timeout)
        if unsupported:
            time.sleep(0.002)


def wait_ended(pids: Iterable[int], timeout: float) -> None:
    """Wait until each of ``pids`` has ended (killed by someone else), or ``timeout`` seconds: one
    ``poll`` on their pidfds, or a short sleep where there are none."""
    with _pidfds(pids) as (fds, unsupported):
        _wait_readable(fds, timeout)
        if unsupported:
            time.sleep(0.002)


@contextmanager
def _pidfds(pids: Iterable[int]) -> Iterator[tuple[list[int], list[int]]]:
    """(pidfds of those of ``pids`` still running, the pids for which this system has none);
    the pidfds are closed on exit."""
    fds: list[int] = []
    unsupported: list[int] = []
    try:
        for pid in pids:
            try:
                fds.append(os.pidfd_open(pid))
            except ProcessLookupError:
                continue
            except (AttributeError, OSError):  # no pidfds here (before Linux 5.3, not Linux)
                unsupported.append(pid)
        yield fds, unsupported
    finally:
        for fd in fds:
            os.close(fd)


def _wait_readable(fds: list[int], timeout: float) -> None:
    """Until every one of ``fds`` is readable (its process ended), or ``timeout`` seconds."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    waiting, deadline = set(fds), time.monotonic() + timeout
    while waiting and (left := deadline - time.monotonic()) > 0:
        for fd, _ in poller.poll(left * 1000):
            poller.unregister(fd)
            waiting.discard(fd)


def _parent_weight(v2: bool) -> str:
    """The weight of the ``cnn-grader`` parent: as many default weights as the machine has cores.
    Grouped, all kernels would otherwise weigh as much as one process against the rest of the
    machine, and grade slower beside a busy neighbour than ungrouped kernels did."""
    count = cores()
    return str(min(10_000, _V2_WEIGHT * count)) if v2 else str(_V1_SHARES * count)


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


def _remove(folder: Path, patience: float = 1.0) -> None:
    """rmdir the cgroup, which the kernel refuses for a moment after its last process ended:
    retried after 1 ms, then twice as long each time, for about ``patience`` seconds."""
    pause, deadline = 0.001, time.monotonic() + patience
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # still busy for a moment after the last process died
            if time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
    log.debug("could not remove cgroup %s", folder)
