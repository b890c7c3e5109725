"""The course roster: one student key and display name for every way an LMS names a student, and
who handed in nothing (``[roster] file`` in ``course.toml``).

The roster is a CSV file with a header row. Its columns (any order, any case; only ``student`` is
required, unknown columns are ignored):

``student``   the grader's key for the student (``results/KEY/``, gradebook rows), unique
``name``      the display name (``王芳``, ``Fang Wang``)
``email``     matched against Moodle's worksheet and Gradescope's metadata
``canvas_id`` the Canvas user id (the number in Canvas's download names)
``moodle_id`` the Moodle participant id (per assignment in Moodle; prefer ``email`` there)
``sis_id``    the institution's student number (Gradescope's SID)
``login``     the login (Blackboard's username, nbgrader's student id)
``aliases``   other names the student goes by, separated by ``;`` (Canvas writes "Last, First" as
              ``lastfirst``; add it here if the name alone does not match)

It is read as UTF-8 (with or without the BOM Excel writes) or else GB18030 (Excel's "CSV" on a
Chinese Windows). A record from a download is matched by, in turn: its LMS id, the SIS id or login,
the email, the key itself, then the name or an alias (compared without case, spaces or punctuation,
also with the words reversed). Whatever matches two rows is an ambiguity, never a guess.

Nothing in a roster stops a run: a row without a key, a duplicate key, an id two rows share, a
cell that is a spreadsheet formula (``=…``) or longer than 300 characters, a file that is missing,
too big or not CSV — each is a message naming the file and line, and every other row is used.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path

from ..judge.catalog import Message, nested
from ..judge.results import StudentRecord

__all__ = ["COLUMNS", "Match", "Roster", "RosterEntry", "load_roster"]

COLUMNS = ("student", "name", "email", "canvas_id", "moodle_id", "sis_id", "login", "aliases")
_ID_COLUMNS = ("canvas_id", "moodle_id", "sis_id", "login", "email")
MAX_BYTES = 8 << 20
MAX_ROWS = 100_000
_MAX_CELL = 300
_FOLD = re.compile(r"[\W_]+")


def fold(name: str) -> str:
    """A name as compared: width and case folded, without spaces or punctuation."""
    return _FOLD.sub("", unicodedata.normalize("NFKC", name).casefold())


def _name_keys(name: str) -> set[str]:
    """``Wang, Fang`` -> {``wangfang``, ``fangwang``}: Canvas writes names last-first."""
    words = [w for w in re.split(r"[\s,，;]+", unicodedata.normalize("NFKC", name).strip()) if w]
    keys = {fold(name)}
    if len(words) > 1:
        keys.add(fold("".join(reversed(words))))
    return {k for k in keys if k}


@dataclass(frozen=True)
class RosterEntry:
    """One row of the roster."""

    student: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    moodle_id: str = ""
    sis_id: str = ""
    login: str = ""
    aliases: tuple[str, ...] = ()
    line: int = 0

    def record(self, lms: str = "", lms_id: str = "", email: str = "") -> StudentRecord:
        """This student as a :class:`StudentRecord`, keeping what the LMS's download said of them. A
        submission that came without an LMS's record (a plain folder) takes the roster's Canvas id, else
        its Moodle id, so that the exports can still match the row (the issue: "the student's Canvas ID,
        from the download names or the roster")."""
        if not lms_id and lms in ("", "roster"):
            lms, lms_id = ("canvas", self.canvas_id) if self.canvas_id else ("moodle", self.moodle_id) \
                if self.moodle_id else (lms, lms_id)
        return StudentRecord(key=self.student, name=self.name, email=self.email or email, lms=lms or "roster",
                             lms_id=lms_id, sis_id=self.sis_id, login=self.login)


@dataclass(frozen=True)
class Match:
    """The roster row a record belongs to (``entry``), or why it cannot be told (``ambiguous``)."""

    entry: RosterEntry | None = None
    ambiguous: Message | None = None


@dataclass(frozen=True)
class Roster:
    """The roster's rows and what was wrong with the file (``problems``: messages naming file and line)."""

    path: Path
    entries: tuple[RosterEntry, ...] = ()
    problems: tuple[Message, ...] = ()

    @cached_property
    def _index(self) -> tuple[Mapping[tuple[str, str], list[RosterEntry]], Mapping[str, list[RosterEntry]]]:
        """The rows by (column, id) and by folded name, built once."""
        ids: dict[tuple[str, str], list[RosterEntry]] = {}
        names: dict[str, list[RosterEntry]] = {}
        for entry in self.entries:
            for column in _ID_COLUMNS:
                if value := getattr(entry, column):
                    ids.setdefault((column, value.casefold() if column == "email" else value), []).append(entry)
            ids.setdefault(("student", entry.student), []).append(entry)
            for name in (entry.name, *entry.aliases):
                for key in _name_keys(name):
                    if entry not in names.setdefault(key, []):
                        names[key].append(entry)
        return ids, names

    def match(self, record: StudentRecord) -> Match:
        """The row of ``record`` (see the module docstring for the order), ``Match()`` if none."""
        ids, names = self._index
        own = {"canvas": "canvas_id", "moodle": "moodle_id", "blackboard": "login", "nbgrader": "login",
               "gradescope": "sis_id"}.get(record.lms)
        steps: list[tuple[str, list[tuple[str, str]]]] = [
            ("id", [(own, record.lms_id)] if own and record.lms_id else []),
            ("id", [(c, v) for c, v in (("sis_id", record.sis_id), ("login", record.login)) if v]),
            ("email", [("email", record.email.casefold())] if record.email else []),
            ("key", [("student", record.key), ("login", record.key)]),
        ]
        for what, lookups in steps:
            found = _unique(entry for lookup in lookups for entry in ids.get(lookup, ()))
            if found:
                return self._one(found, what, record)
        found = _unique(entry for key in _name_keys(record.name or record.key) for entry in names.get(key, ()))
        return self._one(found, "name", record) if found else Match()

    def _one(self, found: list[RosterEntry], what: str, record: StudentRecord) -> Match:
        if len(found) == 1:
            return Match(found[0])
        return Match(ambiguous=Message("intake.roster_ambiguous", {
            "who": record.name or record.key, "by": nested(f"intake.by.{what}"), "file": self.path.name,
            "students": ", ".join(e.student for e in found)}))

    def missing(self, present: Iterable[str]) -> tuple[StudentRecord, ...]:
        """The roster's students whose keys are not in ``present``, in roster order."""
        seen = set(present)
        return tuple(entry.record() for entry in self.entries if entry.student not in seen)


def _unique(entries: Iterable[RosterEntry]) -> list[RosterEntry]:
    out: list[RosterEntry] = []
    for entry in entries:
        if entry not in out:
            out.append(entry)
    return out


def load_roster(path: Path) -> Roster:
    """The roster at ``path``; every problem with it is in :attr:`Roster.problems`, none raises."""
    path = Path(path)
    problem = partial(_problem, path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Roster(path, problems=(problem(0, "roster.too_big", size=size, limit=MAX_BYTES),))
        raw = path.read_bytes()
    except OSError as exc:
        return Roster(path, problems=(problem(0, "roster.unreadable", error=exc.strerror or type(exc).__name__),))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return Roster(path, problems=(problem(0, "roster.encoding"),))
    return _parse(path, text.replace("\x00", ""))


def _problem(path: Path, line: int, code: str, **params: object) -> Message:
    """A roster problem: the message ``intake.CODE`` naming the file and the line."""
    return Message(f"intake.{code}", {"file": path.name, "line": line, **params})


_Problem = Callable[..., Message]


def _parse(path: Path, text: str) -> Roster:
    problem = partial(_problem, path)
    problems: list[Message] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [unicodedata.normalize("NFKC", h).strip().lower().lstrip("\ufeff") for h in next(reader, [])]
    except csv.Error as exc:
        return Roster(path, problems=(problem(1, "roster.not_csv", error=f"{exc}"),))
    if "student" not in header:
        return Roster(path, problems=(problem(1, "roster.no_student_column", columns=", ".join(COLUMNS)),))
    columns = {name: header.index(name) for name in COLUMNS if name in header}
    entries: list[RosterEntry] = []
    keys: set[str] = set()
    try:
        for cells in reader:
            line = reader.line_num
            if len(entries) >= MAX_ROWS:
                problems.append(problem(line, "roster.too_many", limit=MAX_ROWS))
                break
            if not any(c.strip() for c in cells):
                continue
            values = {name: _cell(cells, index, name, line, problems, problem) for name, index in columns.items()}
            student = values.get("student", "")
            if not student:
                problems.append(problem(line, "roster.no_key"))
                continue
            if student in keys:
                problems.append(problem(line, "roster.duplicate_key", student=student))
                continue
            keys.add(student)
            aliases = tuple(a.strip() for a in values.pop("aliases", "").split(";") if a.strip())
            entries.append(RosterEntry(**values, aliases=aliases, line=line))
    except csv.Error as exc:
        problems.append(problem(reader.line_num, "roster.not_csv", error=f"{exc}"))
    entries = _drop_shared_ids(entries, problems, problem)
    return Roster(path, tuple(entries), tuple(problems))


def _cell(cells: list[str], index: int, column: str, line: int, problems: list[Message], problem: _Problem) -> str:
    value = unicodedata.normalize("NFC", cells[index]).strip() if index < len(cells) else ""
    value = "".join(c for c in value if c.isprintable())
    if value.startswith("="):
        problems.append(problem(line, "roster.formula", column=column))
        return ""
    if len(value) > _MAX_CELL:
        problems.append(problem(line, "roster.too_long", column=column, limit=_MAX_CELL))
        return ""
    return value


def _drop_shared_ids(entries: list[RosterEntry], problems: list[Message], problem: _Problem) -> list[RosterEntry]:
    """An id two rows share identifies neither: it is removed from both, with a message."""
    owners: dict[tuple[str, str], list[RosterEntry]] = {}
    for entry in entries:
        for column in _ID_COLUMNS:
            if value := getattr(entry, column):
                owners.setdefault((column, value.casefold() if column == "email" else value), []).append(entry)
    shared = {key: rows for key, rows in owners.items() if len(rows) > 1}
    for (column, value), rows in shared.items():
        problems.append(problem(rows[1].line, "roster.shared_id", column=column, value=value,
                                students=", ".join(r.student for r in rows)))
    cleaned = []
    for entry in entries:
        changes = {column: "" for column in _ID_COLUMNS
                   if (column, (getattr(entry, column).casefold() if column == "email" else getattr(entry, column)))
                   in shared}
        cleaned.append(replace(entry, **changes) if changes else entry)
    return cleaned
