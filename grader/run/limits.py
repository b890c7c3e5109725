"""What the confinement could really enforce here: one warning per run for each limit that is
weaker than meant, and the record of every limit in each result (``grader.limits``)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cgroup import Cgroup
    from .scratch import ScratchLimit

__all__ = ["limits_in_force", "warn_weaker"]

log = logging.getLogger(__name__)


_warned: set[tuple[str, str]] = set()
_claiming = threading.Lock()


def warn_weaker(limit: str, problem: str) -> None:
    """One warning per run and limit (``"cpu"``, ``"scratch"``) that could not be enforced as meant.
    Job threads make kernels at once (``grader validate --jobs``, a cluster worker's threads), and the
    second to find the limit weaker may come while the first is still writing: the warning is
    claimed under a lock first (``functools.cache``, which this was, lets every call made before the
    first has returned run again), and written outside it."""
    with _claiming:
        if (limit, problem) in _warned:
            return
        _warned.add((limit, problem))
    log.warning("%s; results record it under grader.limits.%s", problem, limit)


def limits_in_force(cgroup: Cgroup | None, scratch: ScratchLimit) -> dict[str, str]:
    """How each limit was really enforced, for the result (``grader.limits``): ``cpu`` ``"cgroup"``
    or ``"none"``, ``memory`` ``"cgroup"`` or ``"per-process"`` (address space only),
    ``processes`` ``"cgroup"`` or ``"none"``, ``scratch`` ``"tmpfs"`` or ``"per-file"``."""
    has = cgroup.controllers if cgroup is not None else frozenset()
    return {"cpu": "cgroup" if "cpu" in has else "none", "memory": "cgroup" if "memory" in has else "per-process",
            "processes": "cgroup" if "pids" in has else "none", "scratch": scratch}
