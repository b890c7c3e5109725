"""Unpacking a submitted zip with limits (:class:`ZipLimits`): an unsafe zip (``..`` or absolute
entry names, symbolic links, encrypted entries, too big, too many entries, too compressed) is
refused whole, with the reason shown to the instructor (see :mod:`grader.intake.submissions`).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .names import is_junk
from ..judge.catalog import Message

__all__ = ["MiB", "ZipLimits", "extract_zip"]

MiB = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """What one zip may unpack to; a zip over any limit is refused whole.

    ``max_total_bytes`` is larger than a single submission needs because a whole class's zip of
    notebooks with plots in them runs into hundreds of MB.
    """

    max_total_bytes: int = 1024 * MiB
    max_file_bytes: int = 100 * MiB
    max_files: int = 10_000
    max_ratio: int = 100  # uncompressed / compressed, checked for entries over 1 MiB
    max_nesting: int = 3  # the class zip, a student's zip in it, a zip in that


class _Rejected(Exception):
    """A zip that is not unpacked; ``message`` is the reason shown to the instructor (``zip.*``)."""

    def __init__(self, code: str, **params: object) -> None:
        self.message = Message(f"zip.{code}", params)
        super().__init__(self.message.text("en"))


def _entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name; names without the UTF-8 flag were decoded as cp437 by zipfile."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = b""
        for encoding in ("utf-8", "gb18030"):
            try:
                name = raw.decode(encoding) if raw else name
                break
            except UnicodeDecodeError:
                pass
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def _plan(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """The entries to unpack and where, or :class:`_Rejected` if any entry is unsafe."""
    if len(infos) > limits.max_files:
        raise _Rejected("too_many", count=len(infos), limit=limits.max_files)
    plan, total = [], 0
    for info in infos:
        name = _entry_name(info)
        parts = name.split("/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise _Rejected("unsafe", entry=repr(name))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _Rejected("symlink", entry=repr(name))
        if info.flag_bits & 0x1:
            raise _Rejected("encrypted", entry=repr(name))
        rel = [part for part in parts if part not in ("", ".")]
        if info.is_dir() or not rel or any(is_junk(part) for part in rel):
            continue
        if info.file_size > limits.max_file_bytes:
            raise _Rejected("file_too_big", entry=repr(name), size=info.file_size, limit=limits.max_file_bytes)
        if info.file_size > MiB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _Rejected("ratio", entry=repr(name), ratio=info.file_size // max(info.compress_size, 1),
                            limit=limits.max_ratio)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _Rejected("too_big", limit=limits.max_total_bytes)
        plan.append((info, PurePosixPath(*rel)))
    return plan


def _unpack(zf: zipfile.ZipFile, plan: list[tuple[zipfile.ZipInfo, PurePosixPath]], dest: Path,
            limits: ZipLimits) -> None:
    """Stream the planned entries into ``dest``, counting bytes: declared sizes may lie."""
    total = 0
    for info, rel in plan:
        target = dest.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(dest):
            raise _Rejected("outside", entry=repr(info.filename))
        size = 0
        with zf.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(MiB):
                size += len(chunk)
                total += len(chunk)
                if size > min(info.file_size, limits.max_file_bytes) or total > limits.max_total_bytes:
                    raise _Rejected("lies", entry=repr(info.filename))
                out.write(chunk)
        try:  # the entry's own time, so "most recently modified" means the same on every run
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(target, (stamp, stamp))
        except (OverflowError, ValueError, OSError):
            pass


def extract_zip(zip_path: Path, dest: Path, limits: ZipLimits) -> Message | None:
    """Unpack ``zip_path`` into a fresh ``dest``; the reason it was refused (a message), or ``None``."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            plan = _plan(zf.infolist(), limits)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            _unpack(zf, plan, dest, limits)
        return None
    except _Rejected as exc:
        reason = exc.message
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        reason = Message("zip.damaged", {"error": f"{exc}"})
    except OSError as exc:
        reason = Message("zip.unpack_failed", {"error": f"{exc}"})
    shutil.rmtree(dest, ignore_errors=True)
    return reason
