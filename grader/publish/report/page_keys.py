"""Which student pages a class run may leave as they are: a cached regrade renders only the pages
whose inputs changed.

A page is made from its result file's bytes and from what is the same for every page of a render
(:func:`inputs_key`: the language, ``course.toml`` as read and as loaded, the templates, the grader's
code and version, the libraries that format the page). ``DIR/page-keys.json`` keeps, for each page
written, the inputs key, its result file's SHA-256 and the SHA-256 of the page's own bytes. A page is
left only when all three still hold: the inputs and the result are those it was made from, and the
file there (a regular file, not a link) holds exactly the bytes written then. Anything else — no key,
a page edited, removed or replaced by a link, a keys file that is not the instructor's own private
regular file or that does not parse — renders the page again: a page rendered for nothing costs
time, a stale one would show a student the wrong grade.

The keys file is the instructor's (0600, beside ``gradebook.sqlite``, never under ``report/``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import sys
from importlib import metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy

from ... import __version__
from ...classroom.cache import code_fingerprint
from ...classroom.gradebook import read_private_json, write_atomic
from ...course.config import CourseConfig
from ..templates import template_folder

__all__ = ["KEYS_FILE", "PageKeys", "inputs_key"]

log = logging.getLogger(__name__)

KEYS_FILE = "page-keys.json"
_MAX_BYTES = 64 << 20  # a keys file larger than this is not read: every page is rendered


def inputs_key(config: CourseConfig, lang: str) -> str:
    """A hash of everything a student page is made from besides its result: missing one here would
    leave a stale page when only it changed. ``course.toml`` counts both as bytes and as loaded
    (``GRADER_SEED`` and the folder it sits in are in the loaded one); the grader's code covers the
    catalog, the declarations and the renderer itself."""
    digest = hashlib.sha256()
    for part in (lang, __version__, code_fingerprint(), repr(config), sys.version, jinja2.__version__,
                 metadata.version("markupsafe"), numpy.__version__):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(_file_bytes(config.path) + b"\0")
    folder = template_folder()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogatepass") + b"\0"
                          + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # gone since it was loaded: a key no earlier render had
        return os.urandom(32)


@dataclass
class PageKeys:
    """The pages of ``report/`` a render may leave, and the keys of the pages it writes."""

    out_dir: Path
    inputs: str
    kept: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # page → (result's SHA-256, page's)
    written: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, out_dir: Path, inputs: str) -> PageKeys:
        """The keys the last render left, those of pages made from ``inputs`` only."""
        data = read_private_json(Path(out_dir) / KEYS_FILE, _MAX_BYTES, "every page is rendered")
        if not isinstance(data, dict) or data.get("inputs") != inputs or not isinstance(data.get("pages"), dict):
            return cls(Path(out_dir), inputs)
        kept = {page: (entry[0], entry[1]) for page, entry in data["pages"].items()
                if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry)}
        return cls(Path(out_dir), inputs, kept)

    def _name(self, page: Path) -> str:
        return page.relative_to(self.out_dir).as_posix()

    def unchanged(self, page: Path, result_sha: str) -> bool:
        """Whether ``page`` is the one written from this result and these inputs, byte for byte;
        if so it is kept for the next render too."""
        name = self._name(page)
        entry = self.kept.get(name)
        if entry is None or entry[0] != result_sha or _page_sha(page) != entry[1]:
            return False
        self.written[name] = entry
        return True

    def wrote(self, page: Path, result_sha: str, data: bytes) -> None:
        """``page`` now holds ``data``, made from the result whose file's SHA-256 is ``result_sha``."""
        self.written[self._name(page)] = (result_sha, hashlib.sha256(data).hexdigest())

    def save(self) -> None:
        """Keep the keys of this render's pages (only theirs: a page it did not write or check is
        rendered next time)."""
        write_atomic(self.out_dir / KEYS_FILE, json.dumps(
            {"inputs": self.inputs, "pages": {k: list(v) for k, v in sorted(self.written.items())}},
            ensure_ascii=False).encode("utf-8"), private=True)


def _page_sha(page: Path) -> str | None:
    """The SHA-256 of the regular file at ``page`` (in a real folder, not through a link), else None."""
    try:
        if not stat.S_ISDIR(os.lstat(page.parent).st_mode):
            return None
        fd = os.open(page, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        return hashlib.sha256(f.read()).hexdigest()
