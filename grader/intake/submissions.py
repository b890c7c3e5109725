"""Finding the submissions in what an instructor downloaded (SPEC section 5).

Accepted layouts, also mixed in one folder:

- canonical ``ROOT/STUDENT/ASSIGNMENT.ipynb`` (notebooks may sit deeper in the student's folder);
- flat ``ROOT/STUDENT_ASSIGNMENT.ipynb``: the student is the part before the assignment part
  (``alice_01-convolution``, ``bob-smith_01_convolution``, ``张三_卷积``);
- per-student zips ``ROOT/STUDENT.zip`` holding ``ASSIGNMENT.ipynb`` (at any depth);
- assignment folders ``ROOT/ASSIGNMENT/STUDENT.ipynb`` (a folder or zip named after an assignment);
- ``ROOT`` itself a ``.zip`` of any of these, with or without one wrapping folder;
- the downloads of Canvas, Moodle (flat or a folder per student, with its grading worksheet),
  Blackboard (with its receipts), Gradescope's export (``submission_metadata.yml``) and the nbgrader
  exchange (``submitted/`` or ``inbound/``, with ``timestamp.txt``): :mod:`grader.intake.lms` says
  what each name means and where that comes from.

Each submission carries its student's record (:class:`~grader.judge.results.StudentRecord`: the
LMS, its id and name; ``None`` for a plain folder) and its hand-in time
(:class:`~grader.judge.results.Submitted`: the LMS's own when it gives one, else the zip entry's or
the file's time, ``source`` saying which). The student's key is the LMS's stable name (Canvas:
``NAME_USERID``; Moodle: the full name; Blackboard: the username; Gradescope: the SID, else the
email; nbgrader: the student id), or the roster's key when a roster matches
(:mod:`grader.intake.roster`). Nothing ambiguous is guessed: a name containing two assignments'
names, a Canvas or Moodle id seen with two names, a record matching two roster rows, a Blackboard
file named for one assignment but handed in to another, two LMS accounts that became one key, a
folder of LMS-named files among students' own folders, an nbgrader ``inbound/`` folder another
account made are listed with the reason. A student's own file name never decides whose it is: of
an LMS name's readings, the one whose LMS part comes first wins (:func:`_lms_name`).

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
only forced by ``--assignment``), then the LMS's latest attempt (Canvas's ``-N``), then the latest
hand-in (the LMS's time, else the modification time; zip entries carry their own), then the last in
name order. The others are listed as ``duplicate``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .archives import ZipLimits, extract_zip
from ..judge.catalog import Message, nested
from ..judge.results import StudentRecord, Submitted
from .lms import (GRADESCOPE_METADATA, GradescopeEntry, LmsName, Receipt, WorksheetRow, blackboard_name, canvas_name,
                  fallback_time, moodle_name, nbgrader_inbound, read_gradescope, read_receipt, read_timestamp,
                  read_worksheet, split_attempt)
from .roster import Roster, fold
from .times import ParsedTime, iso
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
    roster: Roster | None = None,
) -> tuple[list[Submission], list[Unrecognised]]:
    """The notebooks under ``root`` (a folder or a ``.zip``), sorted by (student, assignment).

    ``assignments`` maps assignment ids to extra aliases (the declarations' ``aliases``: 卷积, 池化, …,
    and course.toml's titles and aliases). ``force_assignment`` makes every notebook that assignment.
    Zips are unpacked below ``extract_to``, each into its own folder, replaced on every run.
    ``roster`` (:mod:`grader.intake.roster`) maps the LMS's names and ids to the course's keys.
    """
    root = Path(root)
    if force_assignment is not None and force_assignment not in assignments:
        known = ", ".join(assignments)
        raise ValueError(f"force_assignment={force_assignment!r} is not an assignment (known: {known})")
    if not root.exists():
        raise FileNotFoundError(f"submissions not found: {root}")
    root = root.resolve()
    finder = _Finder(Keys(assignments), force_assignment, Path(extract_to).resolve(), zip_limits, roster)
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

    @property
    def in_zip(self) -> bool:
        return bool(self.prefix)


@dataclass(frozen=True)
class _Who:
    """What an LMS says of a notebook's student and hand-in: the record (its key provisional until
    the roster and the other names are seen) and the time."""

    identity: StudentRecord
    submitted: Submitted | None = None
    attempt: int = 0  # the LMS's resubmission number, for choosing among duplicates


@dataclass(frozen=True)
class _Candidate:
    student: str
    assignment: str
    path: Path
    source: str
    quality: int
    mtime_ns: int
    folder: Path | None = None
    who: _Who | None = None

    def order(self) -> tuple[int, int, float, int, str]:
        """How the kept one of duplicates is chosen: best name, latest attempt, latest hand-in,
        latest modified, last in name order."""
        attempt = self.who.attempt if self.who is not None else 0
        return self.quality, attempt, _when(self), self.mtime_ns, self.source


def _lms_time(candidate: _Candidate) -> float | None:
    """The hand-in time the LMS gives (seconds), or ``None`` when only a file's time is known."""
    submitted = candidate.who.submitted if candidate.who is not None else None
    if submitted is None or not submitted.at or submitted.source.endswith(("zip_entry", "file_mtime")):
        return None
    try:
        return datetime.fromisoformat(submitted.at).timestamp()
    except ValueError:
        return None


def _when(candidate: _Candidate) -> float:
    """The hand-in time as the LMS gives it, else the file's modification time (seconds)."""
    at = _lms_time(candidate)
    return at if at is not None else candidate.mtime_ns / 1e9


@dataclass
class _Beside:
    """The LMS files found beside the notebooks of one folder."""

    worksheet: dict[str, WorksheetRow] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)
    gradescope: dict[str, GradescopeEntry] | None = None


class _Finder:
    """One walk of a submissions tree, collecting candidates and problems."""

    def __init__(self, keys: Keys, force: str | None, extract_to: Path, limits: ZipLimits,
                 roster: Roster | None = None) -> None:
        self.keys, self.force, self.extract_to, self.limits, self.roster = keys, force, extract_to, limits, roster
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
        if entry.is_dir(follow_symlinks=False) or name.endswith(ZIP_SUFFIX) or name == GRADESCOPE_METADATA:
            return True
        if not name.endswith(NOTEBOOK_SUFFIX):
            return False
        stem = entry.name[: -len(NOTEBOOK_SUFFIX)]
        return self.keys.split_flat(stem) is not None or _lms_name(entry.name) is not None

    def class_folder(self, folder: Path, place: _Place, hint: str | None, zips: int) -> None:
        """Student folders, student zips, flat notebooks, assignment folders and LMS layouts.

        A folder or zip holding LMS-named files is taken for an unpacked download, unless students'
        own folders or zips sit beside it: then it may as well be a student's who named a file like a
        classmate's download (``wangfang_12345_…``, to be graded as Canvas user 12345), so what was
        found in it is listed, not graded (:meth:`_downloads_among_students`)."""
        items = list(self.entries(folder, place))
        beside = self._beside(items, place)
        kinds: list[tuple[str, str, int, int]] = []  # (kind, source, first and past-last candidate)
        for path, is_dir in items:
            name = path.name
            suffix = name[name.rfind("."):].lower() if "." in name else ""
            start = len(self.found)
            if is_dir:
                kind = self._class_subfolder(path, place, hint, zips, beside)
                kinds.append((kind, place.source(path), start, len(self.found)))
            elif suffix == ZIP_SUFFIX:
                kind = self._class_zip(path, place, hint, zips, beside)
                kinds.append((kind, place.source(path), start, len(self.found)))
            elif suffix == NOTEBOOK_SUFFIX:
                if (lms := _lms_name(name, beside.receipts)) is not None:
                    self._lms_file(path, place, hint, lms, beside)
                else:
                    self._flat(path, place, hint)
            elif _is_lms_extra(name, suffix):
                continue  # receipts, worksheets, metadata: read by _beside
            elif suffix in _NEAR_MISS_SUFFIXES and (parsed := self.keys.split_flat(name[: -len(suffix)])):
                self._near_miss(parsed[0], parsed[1], path, place)
        self._downloads_among_students(kinds)

    def _downloads_among_students(self, kinds: list[tuple[str, str, int, int]]) -> None:
        """Beside a student's own folder or zip, a folder taken for a download is listed, and the
        candidates found in it dropped: whose folder it is cannot be told."""
        if not any(kind == _STUDENT for kind, *_ in kinds):
            return
        for kind, source, start, end in reversed(kinds):
            if kind == _DOWNLOAD:
                del self.found[start:end]
                self.skip(source, "download_among_students")

    def _class_zip(self, path: Path, place: _Place, hint: str | None, zips: int, beside: _Beside) -> str:
        """A zip in a class folder, and what it was taken for (:data:`_STUDENT`, :data:`_DOWNLOAD`, "")."""
        if (opened := self.open_zip(path, place, zips)) is None:
            return ""
        inner, inner_place = opened
        stem = path.name[: -len(ZIP_SUFFIX)]
        if (lms := _lms_name(stem, beside.receipts)) is not None:
            who = self._who(lms, path, inner_place, beside)
            self.student_folder(inner, inner_place, who.identity.key, hint, zips + 1, depth=0, who=who)
        elif hint is None and (aid := self.keys.folder_assignment(stem)) is not None:
            self.class_folder(self.unwrap(inner), inner_place, aid, zips + 1)
        elif _holds_download(self.unwrap(inner)):
            self.class_folder(self.unwrap(inner), inner_place, hint, zips + 1)
            return _DOWNLOAD
        else:
            student, own = self._container(stem)
            self.student_folder(inner, inner_place, student, own or hint, zips + 1, depth=0)
            return _STUDENT
        return ""

    def _class_subfolder(self, path: Path, place: _Place, hint: str | None, zips: int, beside: _Beside) -> str:
        """A folder in a class folder, and what it was taken for (:data:`_STUDENT`, :data:`_DOWNLOAD`, "")."""
        name = path.name
        if beside.gradescope is not None and name in beside.gradescope:
            whos = self._gradescope(beside.gradescope[name])
            if not whos:  # submitters with no name, SID or email left: nobody to grade it for
                self.skip(place.source(path), "no_submitter")
            for who in whos:
                self.student_folder(path, place, who.identity.key, hint, zips, depth=0, who=who)
        elif (lms := moodle_name(name)) is not None and not lms.original:
            who = self._who(lms, path, place, beside)
            self.student_folder(path, place, who.identity.key, hint, zips, depth=0, who=who)
        elif (inbound := nbgrader_inbound(name)) is not None and (owner := _other_owner(path, inbound[0])):
            self.skip(place.source(path), "inbound_not_theirs", student=inbound[0], owner=owner)
        elif inbound is not None:
            student, assignment, stamp = inbound
            who = _nbgrader_who(student, path, stamp)
            self.student_folder(path, place, student, self.keys.folder_assignment(assignment) or hint, zips,
                                depth=0, who=who)
        elif (aid := self.keys.folder_assignment(name)) is not None and hint in (None, aid):
            self.class_folder(path, place, aid, zips)
        elif name.lower() in _NBGRADER_FOLDERS and _holds_nbgrader(path):
            self.class_folder(path, place, hint, zips)  # not a student's: the exchange
        elif _holds_download(path):
            self.class_folder(path, place, hint, zips)  # not a student's: an LMS download
            return _DOWNLOAD
        else:
            student, own = self._container(name)
            self.student_folder(path, place, student, own or hint, zips, depth=0)
            return _STUDENT
        return ""

    def _beside(self, items: list[tuple[Path, bool]], place: _Place) -> _Beside:
        """Read the worksheets, receipts and metadata of a folder before its notebooks."""
        beside = _Beside()
        for path, is_dir in items:
            name = path.name
            lower = name.lower()
            if is_dir:
                continue
            if lower == GRADESCOPE_METADATA:
                metadata = read_gradescope(path)
                if isinstance(metadata, Message):
                    self.skip(place.source(path), "metadata_ignored", problem=metadata)
                else:
                    beside.gradescope = metadata
            elif lower.endswith(".csv"):
                worksheet = read_worksheet(path)
                if isinstance(worksheet, Message):
                    self.skip(place.source(path), "worksheet_ignored", problem=worksheet)
                elif worksheet is not None:
                    beside.worksheet.update(worksheet)
            elif lower.endswith(".txt") and (lms := blackboard_name(name[:-4])) is not None and not lms.original:
                receipt = read_receipt(path)
                if isinstance(receipt, Message):
                    self.skip(place.source(path), "receipt_ignored", problem=receipt)
                else:
                    beside.receipts[lms.prefix] = receipt
        return beside

    def student_folder(self, folder: Path, place: _Place, student: str, hint: str | None, zips: int,
                       depth: int, who: _Who | None = None) -> None:
        """Everything below one student's folder or zip is that student's."""
        if depth > _MAX_DEPTH:
            self.skip(place.source(folder), "folders_nested", limit=_MAX_DEPTH)
            return
        for path, is_dir in self.entries(folder, place):
            name = path.name
            suffix = name[name.rfind("."):].lower() if "." in name else ""
            if is_dir:
                own = self.keys.folder_assignment(name) if hint is None else None
                self.student_folder(path, place, student, own or hint, zips, depth + 1, who)
            elif suffix == NOTEBOOK_SUFFIX:
                self._student_notebook(path, place, student, hint, who)
            elif suffix == ZIP_SUFFIX and (opened := self.open_zip(path, place, zips)) is not None:
                self.student_folder(*opened, student, hint, zips + 1, depth + 1, who)
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
        if parsed is not None and (both := self.keys.ambiguous(stem)) and self.keys.match(parsed[0]) is not None:
            self.skip(place.source(path), "ambiguous_assignment", assignments=", ".join(both))
            return
        if parsed is not None:
            (student, aid), quality = parsed, EXACT
        elif (hint or self.force) and not only_assignment and (student := clean_name(stem)):
            aid, quality = hint or "", FROM_CONTAINER  # the whole name is the student's
        else:
            if only_assignment:
                reason = Message("intake.no_student")
            elif found is not None:
                reason = Message("intake.assignment_not_last", {"assignment": found[0]})
            elif both := self.keys.ambiguous(stem):
                reason = Message("intake.ambiguous_assignment", {"assignments": ", ".join(both)})
            else:
                reason = self._unknown_assignment("STUDENT_ASSIGNMENT.ipynb")
            self.skip(place.source(path), reason)
            return
        if self.force is not None and aid != self.force:
            aid, quality = self.force, FORCED
        self._add(student, aid, path, place, quality, None, _fallback(path, place))

    def _lms_file(self, path: Path, place: _Place, hint: str | None, lms: LmsName, beside: _Beside) -> None:
        """A notebook named by an LMS: the student from the LMS's part, the assignment from the
        student's own file name (Blackboard: or the LMS's assignment name)."""
        original, attempt = lms.original, 0
        if lms.lms == "blackboard" and (receipt := beside.receipts.get(lms.prefix)) is not None:
            original = receipt.originals.get(path.name, original)
            lms = _with_receipt(lms, receipt)
        found = self._assignment_of(original)
        if lms.lms == "canvas" and (found is None or found[1] != EXACT):
            stripped, attempt = split_attempt(original)
            again = self._assignment_of(stripped) if attempt else None
            if again is not None and (found is None or again[1] >= found[1]):
                found = again
            else:
                attempt = 0
        if lms.lms == "blackboard":
            named = self.keys.match(lms.assignment)
            if named is not None and found is not None and named[0] != found[0]:
                self.skip(place.source(path), "lms_assignment_conflict", file_assignment=found[0],
                          lms_assignment=lms.assignment)
                return
            found = found or ((named[0], FROM_CONTAINER) if named else None)
        if found is None and (hint or self.force) is not None:
            found = (hint or self.force or "", FROM_CONTAINER)
        if found is None:
            if both := self.keys.ambiguous(original[: -len(NOTEBOOK_SUFFIX)] if original.lower().endswith(
                    NOTEBOOK_SUFFIX) else original):
                self.skip(place.source(path), "ambiguous_assignment", assignments=", ".join(both))
            else:
                self.skip(place.source(path), self._unknown_assignment(_LMS_LAYOUTS[lms.lms]))
            return
        aid, quality = found
        if self.force is not None and aid != self.force:
            aid, quality = self.force, FORCED
        who = self._who(lms, path, place, beside, attempt)
        self._add(who.identity.key, aid, path, place, quality, None, who)

    def _assignment_of(self, original: str) -> tuple[str, int] | None:
        return self.keys.match(original[: -len(NOTEBOOK_SUFFIX)] if original.lower().endswith(NOTEBOOK_SUFFIX)
                               else original)

    def _who(self, lms: LmsName, path: Path, place: _Place, beside: _Beside, attempt: int = 0) -> _Who:
        """The record and hand-in time an LMS name (and the worksheet or receipt beside it) gives."""
        fallback = _fallback(path, place, lms.lms)
        if lms.lms == "canvas":
            key = f"{lms.name}_{lms.lms_id}" if lms.name else lms.lms_id
            identity = StudentRecord(key=key, name=lms.name, lms="canvas", lms_id=lms.lms_id)
            submitted = dataclasses.replace(fallback, late=lms.late, attempt=attempt)
        elif lms.lms == "moodle":
            row = beside.worksheet.get(lms.lms_id)
            name = (row.name if row is not None and row.name else lms.name)
            blind = fold(lms.name) == "participant"
            identity = StudentRecord(key=f"participant_{lms.lms_id}" if blind else name, name="" if blind else name,
                                     email=row.email if row is not None else "", lms="moodle", lms_id=lms.lms_id)
            submitted = (Submitted(at=iso(row.at.at), source="moodle_worksheet")
                         if row is not None and row.at is not None else fallback)
        else:  # blackboard
            receipt = beside.receipts.get(lms.prefix)
            name = receipt.name if receipt is not None else ""
            identity = StudentRecord(key=lms.lms_id, name=name, lms="blackboard", lms_id=lms.lms_id, login=lms.lms_id)
            if receipt is not None and receipt.at is not None:
                source = "blackboard_receipt_local_zone" if receipt.at.assumed_local else "blackboard_receipt"
                submitted = Submitted(at=iso(receipt.at.at), source=source)
            else:
                submitted = Submitted(at=lms.at, source="blackboard_name_local_zone") if lms.at else fallback
        return _Who(identity, submitted, attempt)

    def _gradescope(self, entry: GradescopeEntry) -> list[_Who]:
        """One record per submitter of a Gradescope submission (a group's is graded for each)."""
        submitted = Submitted(at=entry.created_at, source="gradescope_metadata") if entry.created_at else None
        whos = []
        for name, sid, email in entry.submitters:
            key = sid or email or name
            if key:
                whos.append(_Who(StudentRecord(key=key, name=name, email=email, lms="gradescope",
                                               lms_id=email or sid, sis_id=sid), submitted))
        return whos

    def _student_notebook(self, path: Path, place: _Place, student: str, hint: str | None,
                          who: _Who | None = None) -> None:
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
        if who is None and (path.parent / "timestamp.txt").is_file():
            who = _nbgrader_who(student, path.parent, None)
        elif who is not None and who.submitted is None:
            who = dataclasses.replace(who, submitted=_fallback(path, place))
        self._add(student, aid, path, place, quality, path.parent, who or _fallback(path, place))

    def _unknown_assignment(self, layout: str) -> Message:
        return Message("intake.unknown_assignment", {"layout": layout, "known": ", ".join(self.keys.ids)})

    def _candidate(self, student: str, aid: str, path: Path, place: _Place, quality: int,
                   folder: Path | None = None, who: _Who | None = None) -> _Candidate:
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            mtime = 0
        return _Candidate(student, aid, path, place.source(path), quality, mtime, folder, who)

    def _add(self, student: str, aid: str, path: Path, place: _Place, quality: int, folder: Path | None,
             who: _Who | Submitted) -> None:
        """A candidate; ``who`` is what an LMS said, or only the hand-in time of a plain layout."""
        if isinstance(who, Submitted):
            who = _Who(StudentRecord(key=student), who)
        self.found.append(self._candidate(student, aid, path, place, quality, folder, who))

    def _near_miss(self, student: str, aid: str, path: Path, place: _Place) -> None:
        self.near_misses.append(self._candidate(student, aid, path, place, FORCED))

    # --- who is who: the names seen together, then the roster -----------------------------------

    def _settle(self) -> list[_Candidate]:
        """The candidates with their final keys: an LMS id seen with two names is an ambiguity; a
        Moodle name two participant ids share in one assignment gets the id added (its ids are per
        assignment, so one student has several across assignments); then each record is looked up
        in the roster."""
        names: dict[tuple[str, str], set[str]] = {}
        ids: dict[tuple[str, str, str], set[str]] = {}
        for c in self.found:
            if c.who is not None and c.who.identity.lms in _NAMED_LMS:
                record = c.who.identity
                names.setdefault((record.lms, record.lms_id), set()).add(record.name)
                ids.setdefault((record.lms, record.key, c.assignment), set()).add(record.lms_id)
        settled = []
        for c in self.found:
            record = c.who.identity if c.who is not None else StudentRecord(key=c.student)
            if record.lms in _NAMED_LMS and len(seen := names[(record.lms, record.lms_id)]) > 1:
                self.skip(c.source, "lms_id_two_names", lms=record.lms, id=record.lms_id,
                          names=", ".join(sorted(seen)))
                continue
            if record.lms == "moodle" and len(ids[(record.lms, record.key, c.assignment)]) > 1:
                record = dataclasses.replace(record, key=f"{record.key}_{record.lms_id}")
            if self.roster is not None:
                match = self.roster.match(record)
                if match.ambiguous is not None:
                    self.skip(c.source, match.ambiguous)
                    continue
                if match.entry is not None:
                    record = match.entry.record(record.lms if record.lms else "", record.lms_id, record.email)
            who = dataclasses.replace(c.who, identity=record) if c.who is not None else _Who(record)
            settled.append(dataclasses.replace(c, student=record.key, who=who))
        return settled

    def result(self) -> tuple[list[Submission], list[Unrecognised]]:
        groups: dict[tuple[str, str], list[_Candidate]] = {}
        for candidate in self._settle():
            groups.setdefault((candidate.student, candidate.assignment), []).append(candidate)
        submissions = []
        for (student, aid), candidates in groups.items():
            if len(accounts := _accounts(candidates)) > 1:
                for candidate in candidates:
                    self.skip(candidate.source, "two_accounts_one_key", student=student, assignment=aid,
                              accounts=", ".join(accounts))
                continue
            ranked = sorted(candidates, key=_Candidate.order, reverse=True)
            keep, *others = ranked
            for other in others:
                self.skip(other.source, "duplicate", student=student, assignment=aid, kept=keep.source,
                          why=nested(f"intake.why.{_why(keep, other)}"))
            try:
                with open(keep.path, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
            except OSError as exc:
                self.skip(keep.source, "unreadable", error=exc.strerror or type(exc).__name__)
                continue
            identity, submitted = _attached(keep, len(candidates))
            submissions.append(Submission(student, aid, keep.path, digest, keep.source, keep.folder, identity,
                                          submitted))
        for miss in self.near_misses:
            if not any(s == miss.student and a == miss.assignment for s, a in groups):
                suffix = miss.path.suffix.lower()
                self.skip(miss.source, "not_notebook", suffix=suffix, student=miss.student,
                          assignment=miss.assignment)
        submissions.sort(key=lambda s: (s.student, s.assignment))
        self.unrecognised.sort(key=lambda u: (u.path, u.reason))
        log.info("found %d submissions, %d unrecognised", len(submissions), len(self.unrecognised))
        return submissions, self.unrecognised


def _accounts(candidates: Sequence[_Candidate]) -> list[str]:
    """The LMS accounts (``canvas 11111``) the notebooks of one (student, assignment) came from. Two
    accounts of one LMS are two people that a roster's name, or an id the student typed (Gradescope's
    SID), made one key: not a resubmission to keep the latest of."""
    seen = {(c.who.identity.lms, c.who.identity.lms_id) for c in candidates
            if c.who is not None and c.who.identity.lms and c.who.identity.lms_id}
    by_lms: dict[str, set[str]] = {}
    for lms, lms_id in seen:
        by_lms.setdefault(lms, set()).add(lms_id)
    return [f"{lms} {lms_id}" for lms, ids in sorted(by_lms.items()) if len(ids) > 1 for lms_id in sorted(ids)]


def _attached(keep: _Candidate, count: int) -> tuple[StudentRecord | None, Submitted | None]:
    """The record and hand-in time a kept candidate carries; a plain folder's student has no record.
    Blackboard and nbgrader give no attempt number: the kept one is the ``count``-th."""
    if keep.who is None:
        return None, None
    identity = keep.who.identity
    plain = not (identity.lms or identity.name or identity.email)
    submitted = keep.who.submitted
    if submitted is not None and identity.lms in ("blackboard", "nbgrader") and count > 1:
        submitted = dataclasses.replace(submitted, attempt=count)
    return (None if plain else identity), submitted


def _why(keep: _Candidate, other: _Candidate) -> str:
    if keep.quality > other.quality:
        return "better_name"
    if (keep.who.attempt if keep.who else 0) > (other.who.attempt if other.who else 0):
        return "later_attempt"
    if _when(keep) > _when(other):
        return "handed_in_later" if _lms_time(keep) is not None and _lms_time(other) is not None else "later"
    if keep.mtime_ns > other.mtime_ns:
        return "later"
    return "name_order"


_STUDENT, _DOWNLOAD = "student", "download"  # what a class folder's subfolder or zip was taken for
_NAMED_LMS = ("canvas", "moodle")  # the LMSs whose names carry both an id and a name
_NBGRADER_FOLDERS = ("submitted", "inbound")
_LMS_LAYOUTS = {
    "canvas": "Canvas NAME_USERID_FILEID_ASSIGNMENT.ipynb",
    "moodle": "Moodle NAME_ID_assignsubmission_file_ASSIGNMENT.ipynb",
    "blackboard": "Blackboard ASSIGNMENT_USER_attempt_DATE_ASSIGNMENT.ipynb",
}


def _with_receipt(lms: LmsName, receipt: Receipt) -> LmsName:
    """Blackboard's name read with its receipt: a username with ``_`` in it (the name alone cannot
    tell ``Pooling_john_doe`` apart) and the assignment as the receipt writes it."""
    user = lms.lms_id
    both = f"{lms.assignment}_{lms.lms_id}"
    if receipt.username and both.endswith(f"_{receipt.username}") and receipt.username != user:
        user = receipt.username
    return dataclasses.replace(lms, lms_id=user, name=user, assignment=receipt.assignment or lms.assignment)


def _lms_name(name: str, receipts: Mapping[str, Receipt] | None = None) -> LmsName | None:
    """Blackboard's, Moodle's or Canvas's name for a file. The LMS writes its part first and the
    student's own file name after it, which a student can make look like another LMS's name (a
    Canvas upload called ``Pooling_x_attempt_DATE_…`` reads as a Blackboard attempt, without
    Canvas's late flag and dated by the student): of several readings, a Blackboard one whose
    receipt is beside it (the student cannot make Blackboard write one), else the one whose LMS
    part is the shortest — the others swallow it into their own name or assignment."""
    found = [lms for parse in (blackboard_name, moodle_name, canvas_name)
             if (lms := parse(name)) is not None and lms.original]
    for lms in found:
        if lms.lms == "blackboard" and receipts and lms.prefix in receipts:
            return lms
    return max(found, key=lambda lms: len(lms.original), default=None)


def _is_lms_extra(name: str, suffix: str) -> bool:
    """A file an LMS puts beside the notebooks: a receipt, the worksheet, the export's metadata."""
    lower = name.lower()
    if lower == GRADESCOPE_METADATA or suffix == ".csv":
        return True
    return suffix == ".txt" and (lms := blackboard_name(name[:-4])) is not None and not lms.original


def _holds_download(folder: Path) -> bool:
    """Whether ``folder`` is an LMS's download (named files, Moodle's folders, an export's
    metadata) rather than one student's folder."""
    try:
        with os.scandir(folder) as it:
            names = [e.name for e, _ in zip(it, range(2000))]
    except OSError:
        return False
    for name in names:
        stem = name[: -len(ZIP_SUFFIX)] if name.lower().endswith(ZIP_SUFFIX) else name
        if name == GRADESCOPE_METADATA or _lms_name(stem) is not None:
            return True
        if (moodle := moodle_name(name)) is not None and not moodle.original:
            return True
    return False


def _holds_nbgrader(folder: Path) -> bool:
    """``submitted/STUDENT/ASSIGNMENT/timestamp.txt`` or ``inbound/STUDENT+ASSIGNMENT+TIME/``."""
    try:
        with os.scandir(folder) as it:
            children = [e for e in it if e.is_dir(follow_symlinks=False)][:1000]
    except OSError:
        return False
    if any(nbgrader_inbound(e.name) is not None for e in children):
        return True
    for child in children:
        try:
            with os.scandir(child.path) as it:
                if any((Path(e.path) / "timestamp.txt").is_file() for e in it if e.is_dir(follow_symlinks=False)):
                    return True
        except OSError:
            continue
    return False


def _other_owner(folder: Path, student: str) -> str:
    """The account that made an exchange ``inbound/STUDENT+…`` folder when it is another student's
    (``inbound/`` is writable by all, and ``nbgrader submit`` runs as the student, so the folder's
    owner is who handed it in), else "". A folder of the grader's own account or root's (a copy)
    or of an account this machine does not know proves nothing."""
    import pwd

    try:
        uid = folder.lstat().st_uid
        if uid in (0, os.geteuid()):
            return ""
        owner = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return ""
    return "" if owner == student else owner


def _nbgrader_who(student: str, folder: Path, stamp: ParsedTime | None) -> _Who:
    """nbgrader's record: the student id, and the time of ``timestamp.txt`` (else of the folder name)."""
    written = read_timestamp(folder / "timestamp.txt") if (folder / "timestamp.txt").is_file() else None
    at = written or stamp
    submitted = Submitted(at=iso(at.at), source="nbgrader_timestamp") if at is not None else None
    return _Who(StudentRecord(key=student, lms="nbgrader", lms_id=student, login=student), submitted)


def _fallback(path: Path, place: _Place, lms: str = "") -> Submitted:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return fallback_time(mtime, place.in_zip, lms)


def _safe_component(name: str) -> str:
    """A folder name for unpacking into: no separators, no control characters, bounded length."""
    cleaned = "".join("_" if c in "/\\" or unicodedata.category(c)[0] == "C" else c for c in readable(name))
    return cleaned.strip(". ")[:60] or "zip"
