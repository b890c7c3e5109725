"""A kernel's scratch space: a size-capped tmpfs where the grader may mount, else a per-file limit.
Part of the confinement described in :mod:`grader.run.sandbox`.

A grader killed by SIGKILL leaves its mounts; the next run unmounts them (:func:`_sweep_stale_mounts`).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from .limits import warn_weaker

__all__ = ["NO_SPACE", "ScratchLimit", "ScratchSpace", "is_out_of_space", "mount_tmpfs", "unmount"]

log = logging.getLogger(__name__)

ScratchLimit = Literal["tmpfs", "per-file"]

_SCRATCH_INODES = 1 << 16  # files a scratch tmpfs may hold: empty files cost memory too
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)  # what a write beyond the scratch limit fails with


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


_MOUNT_SOURCE = "cnn-grader-"  # + the grader's pid: whose mount it is, for _sweep_stale_mounts


def mount_tmpfs(target: Path, size_mb: int, inodes: int = _SCRATCH_INODES) -> str | None:
    """Mount a tmpfs of ``size_mb`` on ``target``; None, or why it could not be done."""
    if not sys.platform.startswith("linux"):
        return f"a size-capped tmpfs needs Linux (this is {sys.platform})"
    _sweep_stale_mounts()
    options = f"size={size_mb}m,nr_inodes={inodes},mode=0700".encode()
    source = f"{_MOUNT_SOURCE}{os.getpid()}".encode()
    if _libc().mount(source, os.fsencode(target), b"tmpfs", _MS_NOSUID | _MS_NODEV, options) == 0:
        return None
    return f"cannot mount a tmpfs ({os.strerror(ctypes.get_errno())}; it needs root or CAP_SYS_ADMIN)"


def unmount(target: Path) -> None:
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
        problem = mount_tmpfs(folder, size_mb)
        #: how the space was capped; it stays so after :meth:`close`, for the result
        self.mode: ScratchLimit = "per-file" if problem else "tmpfs"
        if problem is not None:
            warn_weaker("scratch", f"scratch folders are capped per file only ({size_mb} MB each): {problem}")
            return
        self.mounted.append(folder)
        for name in separate:
            (folder / name).mkdir()
            if mount_tmpfs(folder / name, size_mb) is None:
                self.mounted.append(folder / name)
            else:  # it shares the scratch folder's cap: still bounded, only less robust
                log.debug("no tmpfs of its own for %s", folder / name)

    def close(self) -> None:
        for target in reversed(self.mounted):
            unmount(target)
        self.mounted = []
