"""Finding the submissions in what an instructor downloaded (SPEC section 5).

Accepted layouts, also mixed in one folder:

- canonical ``ROOT/STUDENT/ASSIGNMENT.ipynb`` (notebooks may sit deeper in the student's folder);
- flat ``ROOT/STUDENT_ASSIGNMENT.ipynb``: the student is the part before the assignment part
  (``alice_01-convolution``, ``bob-smith_01_convolution``, ``张三_卷积``);
- per-student zips ``ROOT/STUDENT.zip`` holding ``ASSIGNMENT.ipynb`` (at any depth);
- assignment folders ``ROOT/ASSIGNMENT/STUDENT.ipynb`` (a folder or zip named after an assignment);
- ``ROOT`` itself a ``.zip`` of any of these, with or without one wrapping folder.

Assignments are recognised from names by :func:`recognise_assignment` (:mod:`grader.intake.names`).
Zips are unpacked into ``extract_to`` with limits (:class:`ZipLimits`, :mod:`grader.intake.archives`);
an unsafe zip (``..`` or absolute entry names, symbolic links, encrypted entries, too big, too many
entries, too compressed) is refused whole.
Anything that looks like a submission but cannot be used is an :class:`Unrecognised` entry with a
reason for the instructor: a notebook whose assignment or student cannot be told, a refused zip, a
symbolic link out of the folder, a ``.html``/``.pdf``/``.py`` named like an assignment when the
student has no notebook for it. Junk (``.DS_Store``, ``__MACOSX/``, ``.ipynb_checkpoints/``,
images, data) is ignored silently. Only a ``root`` that is missing or not a folder or zip, and an
unknown ``force_assignment``, raise.

Two notebooks for the same (student, assignment): the one whose name matches the assignment best is
kept (exact name, then a name that contains it, then a name given by its folder or zip, then one
only forced by ``--assignment``), then the most recently modified (zip entries carry their own
time), then the last in name order. The others are listed as ``duplicate``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .archives import ZipLimits, extract_zip
from ..judge.catalog import Message, nested
from ..judge.results import StudentRecord, Submitted
from .names import (EXACT, FORCED, FROM_CONTAINER, NOTEBOOK_SUFFIX, Keys, clean_name, is_junk, readable,
                    recognise_assignment)

# ZipLimits (grader.intake.archives) and recognise_assignment (grader.intake.names) are named here
# too: finding submissions is this package's one entry.
__all__ = [
    "Submission",
    "Unrecognised",
    "ZipLimits",
    "find_submissions",
    "recognise_assignment",
]

log = logging.getLogger(__name__)

ZIP_SUFFIX = ".zip"

# Files a student may hand in instead of the notebook: listed when no notebook was found.
_NEAR_MISS_SUFFIXES = frozenset({".py", ".html", ".htm", ".pdf", ".txt", ".md", ".doc", ".docx"})
_MAX_DEPTH = 8  # folders inside a student's folder


@dataclass(frozen=True)
class Submission:
    """One notebook to grade."""

    student: str
    assignment: str
    path: Path  # the .ipynb on disk, extracted if it came from a zip
    sha256: str  # of the notebook's bytes
    source: str  # where it was found: "alice/01-convolution.ipynb", "class.zip:alice_01.ipynb"
    folder: Path | None = None  # the student's own folder (STUDENT/ layout); None for a flat file
    identity: StudentRecord | None = None  # who, as the LMS knows them (``identity.key == student``)
    submitted: Submitted | None = None  # when it was handed in, and how that is known


@dataclass(frozen=True)
class Unrecognised:
    """Something that looked like a submission but is not graded; shown to the instructor."""

    path: str  # written like Submission.source
    reason: str  # in English; ``message`` is the same as a catalog message (``intake.*``, ``zip.*``)
    message: Message | None = field(default=None, compare=False)

    def text(self, lang: str) -> str:
        """The reason in ``lang``."""
        return self.message.text(lang) if self.message is not None else self.reason


def find_submissions(
    root: Path,
    assignments: Mapping[str, Sequence[str]],
    *,
    force_assignment: str | None = None,
    extract_to: Path,
    zip_limits: ZipLimits = ZipLimits(),
) -> tuple[list[Submission], list[Unrecognised]]:
    """The notebooks under ``root`` (a folder or a ``.zip``), sorted by (student, assignment).

    ``assignments`` maps assignment ids to extra aliases (the declarations' ``aliases``: 卷积, 池化, …).
    ``force_assignment`` makes every notebook that assignment. Zips are unpacked below
    ``extract_to``, each into its own folder, replaced on every run.
    """
    root = Path(root)
    if force_assignment is not None and force_assignment not in assignments:
        known = ", ".join(assignments)
        raise ValueError(f"force_assignment={force_assignment!r} is not an assignment (known: {known})")
    if not root.exists():
        raise FileNotFoundError(f"submissions not found: {root}")
    root = root.resolve()
    finder = _Finder(Keys(assignments), force_assignment, Path(extract_to).resolve(), zip_limits)
    if root.is_dir():
        finder.class_folder(root, _Place(root, "", root), hint=None, zips=0)
    elif root.suffix.lower() == ZIP_SUFFIX:
        place = _Place(root.parent, "", root.parent)
        opened = finder.open_zip(root, place, zips=0)
        if opened is not None:
            inner, inner_place = opened
            finder.class_folder(finder.unwrap(inner), inner_place, hint=None, zips=1)
    else:
        raise ValueError(f"submissions must be a folder or a .zip, received {root}")
    return finder.result()


# --- walking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """A tree being walked: sources are written relative to ``base`` after ``prefix``."""

    base: Path
    prefix: str
    boundary: Path  # symbolic links may point inside this folder only

    def source(self, path: Path) -> str:
        return self.prefix + readable(path.relative_to(self.base).as_posix())


@dataclass(frozen=True)
class _Candidate:
    student: str
    assignment: str
    path: Path
    source: str
    quality: int
    mtime_ns: int
    folder: Path | None = None


class _Finder:
    """One walk of a submissions tree, collecting candidates and problems."""

    def __init__(self, keys: Keys, force: str | None, extract_to: Path, limits: ZipLimits) -> None:
        self.keys, self.force, self.extract_to, self.limits = keys, force, extract_to, limits
        self.found: list[_Candidate] = []
        self.near_misses: list[_Candidate] = []
        self.unrecognised: list[Unrecognised] = []

    def skip(self, source: str, reason: Message | str, **params: object) -> None:
        """Not graded, and why: a message, or the code of an ``intake.*`` one and its parameters."""
        message = reason if isinstance(reason, Message) else Message(f"intake.{reason}", params)
        self.unrecognised.append(Unrecognised(source, message.text("en"), message))

    def entries(self, folder: Path, place: _Place) -> Iterator[tuple[Path, bool]]:
        """(path, is_dir) of a folder's entries in name order, without junk or outward links."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.skip(place.source(folder), "unreadable_folder", error=exc.strerror or type(exc).__name__)
            return
        for entry in entries:
            path = Path(entry.path)
            if is_junk(entry.name) or path == self.extract_to:
                continue
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    self.skip(place.source(path), "broken_link")
                    continue
                if not target.is_relative_to(place.boundary):
                    self.skip(place.source(path), "link_outside")
                elif target.is_dir():
                    self.skip(place.source(path), "link_to_folder")
                elif target.is_file():
                    yield path, False
            elif entry.is_dir(follow_symlinks=False):
                yield path, True
            elif entry.is_file(follow_symlinks=False):
                yield path, False

    def open_zip(self, path: Path, place: _Place, zips: int) -> tuple[Path, _Place] | None:
        source = place.source(path)
        if zips >= self.limits.max_nesting:
            self.skip(source, "zip_nested", limit=self.limits.max_nesting)
            return None
        digest = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        dest = self.extract_to / f"{_safe_component(path.stem)}-{digest}"
        if (reason := extract_zip(path, dest, self.limits)) is not None:
            self.skip(source, reason)
            return None
        return dest, _Place(dest, f"{source}:", dest)

    def unwrap(self, folder: Path) -> Path:
        """Go into the one folder a class zip wraps everything in, if it holds the class."""
        while True:
            with os.scandir(folder) as it:
                entries = [e for e in it if not is_junk(e.name)]
            if len(entries) != 1 or not entries[0].is_dir(follow_symlinks=False):
                return folder
            with os.scandir(entries[0].path) as it:
                if not any(self._looks_like_class(e) for e in it if not is_junk(e.name)):
                    return folder
            folder = Path(entries[0].path)

    def _looks_like_class(self, entry: os.DirEntry[str]) -> bool:
        name = entry.name.lower()
        if entry.is_dir(follow_symlinks=False) or name.endswith(ZIP_SUFFIX):
            return True
        if not name.endswith(NOTEBOOK_SUFFIX):
            return False
        return self.keys.split_flat(entry.name[: -len(NOTEBOOK_SUFFIX)]) is not None

    def class_folder(self, folder: Path, place: _Place, hint: str | None, zips: int) -> None:
        """Student folders, student zips, flat notebooks and assignment folders."""
        for path, is_dir in self.entries(folder, place):
            name = path.name
            suffix = name[name.rfind("."):].lower() if "." in name else ""
            if is_dir:
                if (aid := self.keys.folder_assignment(name)) is not None and hint in (None, aid):
                    self.class_folder(path, place, aid, zips)
                else:
                    student, own = self._container(name)
                    self.student_folder(path, place, student, own or hint, zips, depth=0)
            elif suffix == NOTEBOOK_SUFFIX:
                self._flat(path, place, hint)
            elif suffix == ZIP_SUFFIX and (opened := self.open_zip(path, place, zips)) is not None:
                inner, inner_place = opened
                stem = name[: -len(ZIP_SUFFIX)]
                if hint is None and (aid := self.keys.folder_assignment(stem)) is not None:
                    self.class_folder(self.unwrap(inner), inner_place, aid, zips + 1)
                else:
                    student, own = self._container(stem)
                    self.student_folder(inner, inner_place, student, own or hint, zips + 1, depth=0)
            elif suffix in _NEAR_MISS_SUFFIXES and (parsed := self.keys.split_flat(name[: -len(suffix)])):
                self._near_miss(parsed[0], parsed[1], path, place)

    def student_folder(self, folder: Path, place: _Place, student: str, hint: str | None, zips: int,
                       depth: int) -> None:
        """Everything below one student's folder or zip is that student's."""
        if depth > _MAX_DEPTH:
            self.skip(place.source(folder), "folders_nested", limit=_MAX_DEPTH)
            return
        for path, is_dir in self.entries(folder, place):
            name = path.name
            suffix = name[name.rfind("."):].lower() if "." in name else ""
            if is_dir:
                self.student_folder(path, place, student, hint, zips, depth + 1)
            elif suffix == NOTEBOOK_SUFFIX:
                self._student_notebook(path, place, student, hint)
            elif suffix == ZIP_SUFFIX and (opened := self.open_zip(path, place, zips)) is not None:
                self.student_folder(*opened, student, hint, zips + 1, depth + 1)
            elif suffix in _NEAR_MISS_SUFFIXES and (found := self.keys.match(name[: -len(suffix)])):
                self._near_miss(student, found[0], path, place)

    def _container(self, name: str) -> tuple[str, str | None]:
        """The student a folder or zip belongs to, and the assignment its name gives, if any."""
        parsed = self.keys.split_flat(name)
        return parsed if parsed is not None else (clean_name(name) or readable(name), None)

    def _flat(self, path: Path, place: _Place, hint: str | None) -> None:
        """A notebook at the top level (or in an assignment folder): ``STUDENT_ASSIGNMENT.ipynb``."""
        stem = path.name[: -len(NOTEBOOK_SUFFIX)]
        parsed = self.keys.split_flat(stem)
        found = self.keys.match(stem)
        only_assignment = found is not None and found[1] == EXACT
        if parsed is not None:
            (student, aid), quality = parsed, EXACT
        elif (hint or self.force) and not only_assignment and (student := clean_name(stem)):
            aid, quality = hint or "", FROM_CONTAINER  # the whole name is the student's
        else:
            if only_assignment:
                reason = Message("intake.no_student")
            elif found is not None:
                reason = Message("intake.assignment_not_last", {"assignment": found[0]})
            else:
                reason = self._unknown_assignment("STUDENT_ASSIGNMENT.ipynb")
            self.skip(place.source(path), reason)
            return
        if self.force is not None and aid != self.force:
            aid, quality = self.force, FORCED
        self._add(student, aid, path, place, quality, None)

    def _student_notebook(self, path: Path, place: _Place, student: str, hint: str | None) -> None:
        found = self.keys.match(path.name[: -len(NOTEBOOK_SUFFIX)])
        if self.force is not None:
            aid, quality = self.force, found[1] if found and found[0] == self.force else FORCED
        elif found is not None:
            aid, quality = found
        elif hint is not None:
            aid, quality = hint, FROM_CONTAINER
        else:
            self.skip(place.source(path), self._unknown_assignment("STUDENT/ASSIGNMENT.ipynb"))
            return
        self._add(student, aid, path, place, quality, path.parent)

    def _unknown_assignment(self, layout: str) -> Message:
        return Message("intake.unknown_assignment", {"layout": layout, "known": ", ".join(self.keys.ids)})

    def _candidate(self, student: str, aid: str, path: Path, place: _Place, quality: int,
                   folder: Path | None = None) -> _Candidate:
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            mtime = 0
        return _Candidate(student, aid, path, place.source(path), quality, mtime, folder)

    def _add(self, student: str, aid: str, path: Path, place: _Place, quality: int, folder: Path | None) -> None:
        self.found.append(self._candidate(student, aid, path, place, quality, folder))

    def _near_miss(self, student: str, aid: str, path: Path, place: _Place) -> None:
        self.near_misses.append(self._candidate(student, aid, path, place, FORCED))

    def result(self) -> tuple[list[Submission], list[Unrecognised]]:
        groups: dict[tuple[str, str], list[_Candidate]] = {}
        for candidate in self.found:
            groups.setdefault((candidate.student, candidate.assignment), []).append(candidate)
        submissions = []
        for (student, aid), candidates in groups.items():
            keep, *others = sorted(candidates, key=lambda c: (c.quality, c.mtime_ns, c.source), reverse=True)
            for other in others:
                why = (
                    "better_name" if keep.quality > other.quality
                    else "later" if keep.mtime_ns > other.mtime_ns
                    else "name_order"
                )
                self.skip(other.source, "duplicate", student=student, assignment=aid, kept=keep.source,
                          why=nested(f"intake.why.{why}"))
            try:
                with open(keep.path, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
            except OSError as exc:
                self.skip(keep.source, "unreadable", error=exc.strerror or type(exc).__name__)
                continue
            submissions.append(Submission(student, aid, keep.path, digest, keep.source, keep.folder))
        for miss in self.near_misses:
            if (miss.student, miss.assignment) not in groups:
                suffix = miss.path.suffix.lower()
                self.skip(miss.source, "not_notebook", suffix=suffix, student=miss.student,
                          assignment=miss.assignment)
        submissions.sort(key=lambda s: (s.student, s.assignment))
        self.unrecognised.sort(key=lambda u: (u.path, u.reason))
        log.info("found %d submissions, %d unrecognised", len(submissions), len(self.unrecognised))
        return submissions, self.unrecognised


def _safe_component(name: str) -> str:
    """A folder name for unpacking into: no separators, no control characters, bounded length."""
    cleaned = "".join("_" if c in "/\\" or unicodedata.category(c)[0] == "C" else c for c in readable(name))
    return cleaned.strip(". ")[:60] or "zip"
