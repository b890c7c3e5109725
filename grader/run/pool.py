"""Kernels launched ahead of need: while one submission runs, the kernels of the next ones start.

Starting a kernel (a Python process importing ipykernel, numpy — TensorFlow for the gender
notebook) is about half the cost of grading a NumPy notebook. The class run knows which submissions
come next, so a background thread launches their kernels while earlier ones are graded; a submission
then only connects to its kernel. Each kernel serves one submission and is never reused: nothing a
student leaves in a kernel can reach the next student.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

__all__ = ["WarmPool"]

log = logging.getLogger(__name__)


class Closeable(Protocol):
    def close(self) -> None: ...


K = TypeVar("K", bound=Hashable)
T = TypeVar("T", bound=Closeable)


class WarmPool(Generic[K, T]):
    """``launch(key)`` run ahead for the keys of ``upcoming`` (in the order they will be asked for),
    at most ``ahead`` launched and not yet taken at any time.

    :meth:`take` hands over the oldest item launched for that key, or launches one on the spot when
    none is waiting; :meth:`close` closes whatever nobody took.
    """

    def __init__(self, launch: Callable[[K], T], upcoming: Sequence[K], ahead: int) -> None:
        self._launch, self._upcoming, self._ahead = launch, deque(upcoming), max(0, ahead)
        self._waiting: deque[tuple[K, Future[T]]] = deque()
        self._lock = threading.Lock()
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnn-grader-launch")
        self._top_up()

    def _top_up(self) -> None:
        with self._lock:
            while self._upcoming and len(self._waiting) < self._ahead:
                key = self._upcoming.popleft()
                self._waiting.append((key, self._starter.submit(self._launch, key)))

    def take(self, key: K) -> T:
        with self._lock:
            found = next((item for item in self._waiting if item[0] == key), None)
            if found is not None:
                self._waiting.remove(found)
            elif key in self._upcoming:
                self._upcoming.remove(key)
        self._top_up()
        if found is not None:
            try:
                return found[1].result()
            except Exception:  # launched ahead and failed: try again here, where a failure is reported
                log.debug("a launch ahead of time failed", exc_info=True)
        return self._launch(key)

    def close(self) -> None:
        with self._lock:
            self._upcoming.clear()
            waiting, self._waiting = list(self._waiting), deque()
        self._starter.shutdown(wait=True, cancel_futures=True)
        for _, future in waiting:
            if not future.cancelled() and future.exception() is None:
                future.result().close()

    def __enter__(self) -> WarmPool[K, T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
