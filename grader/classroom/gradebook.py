"""What survives a grading run (SPEC section 7): result files, the gradebook database, grades.csv.

- ``DIR/results/STUDENT/ASSIGNMENT.json``: :meth:`SubmissionResult.to_json`, one per submission,
  written atomically (a reader sees the old file or the new one, never half of one).
- ``DIR/gradebook.sqlite``: every graded submission of every run, keyed by the notebook's SHA-256,
  the course configuration's hash (:func:`config_hash`) and the grader version. A key already in
  the gradebook is a cache hit: that submission is not executed again. Since schema version 2 it
  also keeps every run (``runs``: when, under which configuration and grader, finished or stopped),
  what each run found for each submission (``run_results``, cached ones too) and each test's verdict
  (``verdicts``), so that a regrade can say who changed and why (:mod:`grader.classroom.regrade`).
- ``DIR/grades.csv``: a row per student; UTF-8 with a byte-order mark so that Excel shows Chinese
  names correctly (Python reads it back with ``encoding="utf-8-sig"``).

This module only stores and lays out results; it never decides a score.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import logging
import os
import socket
import sqlite3
import secrets
import stat
import unicodedata
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from grader.judge.results import SubmissionResult

__all__ = [
    "PRIVATE",
    "Entry",
    "Gradebook",
    "GradebookError",
    "OutputBusy",
    "RunRecord",
    "Stored",
    "Verdict",
    "atomic_file",
    "by_student",
    "config_hash",
    "csv_number",
    "csv_text",
    "grades_header",
    "json_bytes",
    "load_results",
    "read_results",
    "output_lock",
    "result_bytes",
    "result_path",
    "safe_filename",
    "write_atomic",
    "write_if_changed",
    "write_grades_csv",
    "write_json",
    "write_result",
]

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
GRADEBOOK_FILE = "gradebook.sqlite"
GRADES_CSV = "grades.csv"
SCHEMA_VERSION = 2

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10))}
_UNSAFE = set('/\\:*?"<>|')
_MAX_NAME_BYTES = 200  # file systems allow 255; leave room for ".json" and the temporary suffix
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class GradebookError(RuntimeError):
    """The gradebook database cannot be used; the message names the file."""


class OutputBusy(ValueError):
    """Another grader is writing into the same output folder; the message names it."""


LOCK_FILE = "grader.lock"


@contextmanager
def output_lock(out_dir: Path, command: str) -> Iterator[None]:
    """Hold ``out_dir`` for one grader at a time (two TAs grading into one folder at once would
    interleave gradebook rows, result files and reports). The lock is ``flock`` on ``grader.lock``,
    so a grader killed by any signal releases it with its last file descriptor; the file stays
    (removing it would race with the next holder) and says who holds it. The second grader does not
    wait: it stops at once with :class:`OutputBusy` naming the holder."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 1000, 0).decode("utf-8", "replace").strip() or "another grader"
            raise OutputBusy(f"{out_dir}: {holder} is writing into this folder; wait until it is done, "
                             f"or use another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"`grader {command}` (pid {os.getpid()} on {socket.gethostname()}, "
                      f"started {datetime.now().astimezone():%Y-%m-%d %H:%M:%S})\n".encode(), 0)
        yield
    finally:
        os.close(fd)


# --- files -------------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """``name`` as one file name: Unicode letters kept, separators and control characters replaced.

    A name that had to change gets a short hash of the original, so two students whose names
    differ only in such characters (``a/b`` and ``a_b``) never share a file.
    """
    name = unicodedata.normalize("NFC", name)
    cleaned = "".join("_" if c in _UNSAFE or unicodedata.category(c)[0] == "C" else c for c in name)
    cleaned = cleaned.strip(" .")
    if cleaned.split(".")[0].lower() in _WINDOWS_RESERVED:
        cleaned = f"_{cleaned}"
    encoded = cleaned.encode("utf-8")
    if len(encoded) > _MAX_NAME_BYTES:
        cleaned = encoded[: _MAX_NAME_BYTES - 10].decode("utf-8", "ignore")
    if cleaned != name or not cleaned:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cleaned = f"{cleaned}~{digest}" if cleaned else f"_{digest}"
    return cleaned


PRIVATE = 0o600  # the instructor's files: results/*.json (hidden inputs, expected values), gradebook.sqlite
_PUBLIC = 0o666  # pages and exports: what the umask leaves (0644 under the usual 022), so a web server can read them


def _temporary(folder: Path, name: str, mode: int) -> tuple[int, Path]:
    """A new file beside ``name`` in ``folder``, created with ``mode`` less the umask (the kernel
    applies it: no need to read the process-wide umask, which threads share). ``tempfile.mkstemp``
    always makes 0600, which left every page unreadable to the web server publishing it."""
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name for {name}")


@contextmanager
def atomic_file(path: Path, *, private: bool = False) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` when the block ends (fsync, then rename), or is removed if
    it raises: a reader sees the old file or the new one, never half of one. ``private`` files are
    0600; the others get the usual permissions of the umask (0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path.parent, path.name, PRIVATE if private else _PUBLIC)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_file`."""
    with atomic_file(path, private=private) as f:
        f.write(data)


def write_if_changed(path: Path, data: bytes, *, private: bool = False) -> bool:
    """:func:`write_atomic`, unless ``path`` already is a regular file holding exactly ``data`` (and,
    when ``private``, mode 0600): a cached regrade then costs a read, not an fsync. Returns whether
    it wrote. Anything else there (a symbolic link, other bytes, an open mode, nothing) is replaced."""
    if not _holds(path, data, private):
        write_atomic(path, data, private=private)
        return True
    return False


def read_private_json(path: Path, limit: int, consequence: str) -> object:
    """The JSON of the instructor's own file at ``path``, or None: none there, or one refused — a
    link, not a regular file, not this user's, not private (0600), larger than ``limit`` bytes, or not
    JSON. What the grader wrote itself is read back as untrusted input: the output folder is a disk a
    student may have influenced (a link planted, a file swapped). A refused file is logged with its
    ``consequence`` ("every page is rendered"), and the caller goes on without it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("%s: not readable (%s); %s", path, exc, consequence)
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not (stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == PRIVATE
                    and info.st_uid == os.geteuid()):
                raise ValueError("not this user's private regular file")
            data = f.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"larger than {limit} bytes")
        return json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("%s: refused (%s); %s", path, exc, consequence)
        return None


def _holds(path: Path, data: bytes, private: bool) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        if private and stat.S_IMODE(info.st_mode) != PRIVATE:
            return False
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(len(data) + 1) == data
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; not possible on every platform."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def json_bytes(data: object) -> bytes:
    """``data`` as indented UTF-8 JSON (Chinese as itself, not escaped): the bytes of every JSON file."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(path: Path, data: object, *, private: bool = False) -> None:
    """``data`` as :func:`json_bytes`, written atomically."""
    write_atomic(path, json_bytes(data), private=private)


def result_path(out_dir: Path, student: str, assignment: str) -> Path:
    return Path(out_dir) / RESULTS_DIR / safe_filename(student) / f"{safe_filename(assignment)}.json"


def result_bytes(result: SubmissionResult) -> bytes:
    """What ``result``'s file holds (and, since it is the same text, its gradebook row)."""
    return json_bytes(result.to_json())


def write_result(out_dir: Path, result: SubmissionResult, data: bytes | None = None) -> Path:
    """``out_dir/results/STUDENT/ASSIGNMENT.json``, written atomically; returns its path. It holds
    the hidden inputs and expected values, so it is the instructor's alone: 0600, in a ``results/``
    folder made 0700. A file already holding these bytes is left as it is (:func:`write_if_changed`:
    a cached result, unchanged since the last run, costs no fsync). ``data`` is
    :func:`result_bytes` when the caller has them already (a cached result: its gradebook text)."""
    path = result_path(out_dir, result.student, result.assignment)
    (Path(out_dir) / RESULTS_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
    write_if_changed(path, result_bytes(result) if data is None else data, private=True)
    return path


def load_results(out_dir: Path, skip: Collection[Path] = ()) -> list[SubmissionResult]:
    """The results under ``out_dir/results``, sorted by (student, assignment); bad files are logged.
    The files of ``skip`` (:func:`result_path`: results the caller already holds) are not read."""
    return read_results(out_dir, skip)[0]


def read_results(out_dir: Path, skip: Collection[Path] = ()) -> tuple[list[SubmissionResult], dict[Path, str]]:
    """:func:`load_results`, and the SHA-256 of each file a result was read from, by its path (what
    a report page's key is made of: :mod:`grader.publish.report.page_keys`)."""
    results, files = [], {}
    skip = set(skip)
    for path in sorted((Path(out_dir) / RESULTS_DIR).glob("*/*.json")):
        if path.name.startswith(".") or path in skip:
            continue
        try:
            data = path.read_bytes()
            results.append(SubmissionResult.from_json(json.loads(data.decode("utf-8"))))
        except Exception as exc:  # a hand-edited file may hold anything (AttributeError, RecursionError…)
            log.warning("skipping %s: not a readable result (%s: %s)", path, type(exc).__name__, exc)
            continue
        files[path] = hashlib.sha256(data).hexdigest()
    results.sort(key=lambda r: (r.student, r.assignment))
    return results, files


def config_hash(config_path: Path, extra: str = "") -> str:
    """SHA-256 of ``course.toml``'s bytes and ``extra`` (the seed in force: GRADER_SEED may change it)."""
    digest = hashlib.sha256(Path(config_path).read_bytes())
    digest.update(b"\0" + extra.encode("utf-8"))
    return digest.hexdigest()


# --- grades.csv --------------------------------------------------------------------------------


def csv_number(value: float) -> str:
    """A score as a spreadsheet cell: at most four decimals, no trailing zeros."""
    return f"{round(value, 4):g}"


def csv_text(text: str) -> str:
    """Text Excel will not run as a formula (a student may name their folder ``=HYPERLINK(…)``)."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def by_student(results: Sequence[SubmissionResult]) -> dict[str, dict[str, SubmissionResult]]:
    """student → assignment → result; two results for one pair is a ValueError naming it (a table
    row holds one score per assignment, and silently keeping either would be a guess)."""
    grouped: dict[str, dict[str, SubmissionResult]] = {}
    for result in results:
        graded = grouped.setdefault(result.student, {})
        if result.assignment in graded:
            raise ValueError(
                f"two results for student={result.student!r}, assignment={result.assignment!r}; "
                "pass one result per submission (Gradebook.latest())"
            )
        graded[result.assignment] = result
    return grouped


PENALTY, FINAL = "penalty", "final"  # grades.csv: the late penalty's columns beside each raw score


def grades_header(questions: Mapping[str, Sequence[str]]) -> list[str]:
    header = ["student"]
    for assignment, names in questions.items():
        header += [f"{assignment}:{q}" for q in names] + [assignment, f"{assignment} {PENALTY}", f"{assignment} {FINAL}"]
    return [*header, "total", PENALTY, FINAL]


def write_grades_csv(
    out_dir: Path, results: Sequence[SubmissionResult], questions: Mapping[str, Sequence[str]]
) -> Path:
    """``out_dir/grades.csv``: a row per student, a column per question and assignment, the total.

    Columns are ``student``, then for each assignment of ``questions`` (in its order) one
    ``ASSIGNMENT:QUESTION`` column per question, the ``ASSIGNMENT`` raw score (the sum of those),
    ``ASSIGNMENT penalty`` (the late policy's points off, 0 when on time) and ``ASSIGNMENT final``
    (raw minus penalty: what goes into an LMS); then ``total``, ``penalty`` and ``final`` over all
    assignments. A space cannot be in a question id, so these never clash with a question's column.
    A submission that is missing, or that the grader failed on (``grader_error``), leaves its cells
    empty; a submission that scored nothing shows 0.
    Results of assignments not in ``questions`` are left out. Written atomically, as UTF-8 with BOM.
    """
    grouped = by_student(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(grades_header(questions))
    for student in sorted(grouped):
        row, total, penalty = [csv_text(student)], 0.0, 0.0
        for assignment, names in questions.items():
            own = grouped[student].get(assignment)
            if own is None or own.grader_error is not None:  # not graded is not a zero
                row += [""] * (len(names) + 3)
                continue
            scores = own.question_scores()
            row += [csv_number(scores.get(q, 0.0)) for q in names]
            row += [csv_number(own.score), csv_number(own.penalty), csv_number(own.final_score)]
            total += own.score
            penalty += own.penalty
        writer.writerow([*row, csv_number(total), csv_number(penalty), csv_number(total - penalty)])
    path = Path(out_dir) / GRADES_CSV
    write_atomic(path, buffer.getvalue().encode("utf-8-sig"))
    return path


# --- gradebook.sqlite --------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student        TEXT NOT NULL,
    assignment     TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    config_hash    TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    graded_at      TEXT NOT NULL,  -- when this result was first recorded (UTC, ISO 8601)
    recorded_at    TEXT NOT NULL,  -- when it was last recorded as the student's current submission
    seq            INTEGER NOT NULL,  -- increases with every record(): orders "latest"
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    result_json    TEXT NOT NULL,
    PRIMARY KEY (student, assignment, sha256, config_hash, grader_version)
);
CREATE INDEX IF NOT EXISTS submissions_latest ON submissions (student, assignment, seq);
"""

# Schema version 2: the runs, what each found, and every test's verdict (a regrade's diff).
_RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id             INTEGER PRIMARY KEY,
    started_at     TEXT NOT NULL,  -- UTC, ISO 8601
    finished_at    TEXT,           -- NULL: stopped before its end (Ctrl-C, a machine that cannot grade)
    config_hash    TEXT NOT NULL,  -- the run's cache key: course.toml, the seed in force, the grader's code
    course_hash    TEXT NOT NULL,  -- course.toml's bytes alone ('' when not known)
    code_hash      TEXT NOT NULL,  -- the grader's code fingerprint ('' when not known)
    grader_version TEXT NOT NULL,
    planned        INTEGER NOT NULL,  -- submissions the run set out to grade
    origin         TEXT NOT NULL DEFAULT 'grade'  -- 'grade', or 'schema-1': a version-1 gradebook's latest results
);
CREATE TABLE IF NOT EXISTS run_results (
    run            INTEGER NOT NULL REFERENCES runs (id),
    student        TEXT NOT NULL,
    assignment     TEXT NOT NULL,
    name           TEXT NOT NULL,  -- the student's display name, '' when only the key is known
    sha256         TEXT NOT NULL,
    config_hash    TEXT NOT NULL,
    grader_version TEXT NOT NULL,
    cached         INTEGER NOT NULL,  -- 1: taken from the gradebook, not executed again
    status         TEXT NOT NULL,  -- 'graded', or 'grader_error' (no verdicts: the grader failed, not the student)
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    penalty        REAL NOT NULL,  -- the late policy's, in points (score - penalty is the final score)
    recorded_at    TEXT NOT NULL,
    PRIMARY KEY (run, student, assignment)
);
CREATE INDEX IF NOT EXISTS run_results_student ON run_results (student, assignment, run);
CREATE TABLE IF NOT EXISTS verdicts (
    run            INTEGER NOT NULL,
    student        TEXT NOT NULL,
    assignment     TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    test           TEXT NOT NULL,  -- TestResult.name: "question · group"
    test_zh        TEXT NOT NULL,  -- the same with the group's Chinese title ('' when it has none)
    question       TEXT NOT NULL,
    status         TEXT NOT NULL,  -- 'passed' or 'failed'
    score          REAL NOT NULL,
    max_score      REAL NOT NULL,
    PRIMARY KEY (run, student, assignment, test),
    FOREIGN KEY (run, student, assignment) REFERENCES run_results (run, student, assignment)
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Verdict:
    """One test group's outcome in one run."""

    test: str
    question: str
    status: str
    score: float
    max_score: float
    test_zh: str = ""


@dataclass(frozen=True)
class Entry:
    """What one run found for one submission: its notebook, score and verdicts (none for a
    ``grader_error``, which says nothing about the student's work)."""

    run: int
    student: str
    assignment: str
    name: str
    sha256: str
    config_hash: str
    grader_version: str
    cached: bool
    status: str
    score: float
    max_score: float
    penalty: float
    recorded_at: str
    verdicts: tuple[Verdict, ...] = ()

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def final_score(self) -> float:
        return round(self.score - self.penalty, 4)

    @property
    def display(self) -> str:
        return self.name or self.student


@dataclass(frozen=True)
class RunRecord:
    """One ``grader grade`` run: when, under which configuration and grader, and whether it ended."""

    id: int
    started_at: str
    finished_at: str | None
    config_hash: str
    course_hash: str
    code_hash: str
    grader_version: str
    planned: int
    origin: str = "grade"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True)
class Stored:
    """A result as the gradebook keeps it, with the text it is kept as (:func:`result_bytes`
    decoded; a gradebook written before the two were one text holds compact JSON instead)."""

    result: SubmissionResult
    text: str

    @property
    def file_bytes(self) -> bytes | None:
        """The bytes of the result file, when the stored text is them (indented JSON ends with a
        newline; the compact JSON of older gradebooks holds none), else ``None``."""
        return self.text.encode("utf-8") if self.text.endswith("\n") else None


_ENTRY_COLUMNS = ("run, student, assignment, name, sha256, config_hash, grader_version, cached, status, score, "
                  "max_score, penalty, recorded_at")
_RUN_COLUMNS = "id, started_at, finished_at, config_hash, course_hash, code_hash, grader_version, planned, origin"
def _create_private(path: Path) -> None:
    """Create the gradebook file 0600 before SQLite opens it: it holds every result, hidden inputs and
    expected values included, and SQLite gives its ``-wal`` and ``-shm`` files the database file's
    permissions. An existing gradebook keeps the permissions it has."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE)
    except FileExistsError:
        return
    os.close(fd)


class Gradebook:
    """``out_dir/gradebook.sqlite``: every graded submission, kept across runs, and the cache.

    ``record`` after grading *and* after a cache hit, so that :meth:`latest` is what this run
    found: a student who goes back to an earlier notebook gets that notebook's stored result.
    Given the ``run`` (:meth:`begin_run`), ``record`` also keeps the run's entry and verdicts.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / GRADEBOOK_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._batched = False  # inside batch(): each record is a savepoint of its transaction
        try:
            _create_private(self.path)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except OSError as exc:
            raise GradebookError(f"{self.path}: cannot open the gradebook: {exc.strerror or exc}") from None
        except sqlite3.Error as exc:
            raise GradebookError(f"{self.path}: cannot open the gradebook: {exc}") from None
        try:
            self._setup()
        except sqlite3.Error as exc:
            self._db.close()
            raise GradebookError(f"{self.path}: not a usable gradebook: {exc}") from None
        except GradebookError:
            self._db.close()
            raise

    def _setup(self) -> None:
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            log.warning("%s: journal mode is %s, not WAL", self.path, mode)
        with self._transaction():  # two graders opening one old gradebook migrate it once
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise GradebookError(
                    f"{self.path}: schema version {version} was written by a newer grader "
                    f"(this one reads {SCHEMA_VERSION})"
                )
            for statement in (_SCHEMA + _RUNS_SCHEMA).split(";"):  # not executescript: it would commit
                if statement.strip():
                    self._db.execute(statement)
            if version == 1:
                self._import_schema_1()
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _import_schema_1(self) -> None:
        """A version-1 gradebook kept no runs: its latest results become one run of origin
        ``schema-1`` (its configuration parts unknown), so that the first run after the upgrade
        still says what it changed. Older rows stay in ``submissions`` (the cache) only."""
        span = self._db.execute("SELECT MIN(graded_at), MAX(recorded_at) FROM submissions").fetchone()
        if span[0] is None:
            return
        latest = list(self._latest_rows())
        cursor = self._db.execute(
            f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (NULL, ?, ?, '', '', '', '', ?, 'schema-1')",
            (span[0], span[1], len(latest)))
        run = int(cursor.lastrowid or 0)
        for key, recorded_at, result in latest:
            self._enter(run, result, key, cached=False, at=recorded_at)
        log.info("%s: upgraded from schema version 1 (%d latest results kept as run %d)", self.path, len(latest), run)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT``: a run's entry and its verdicts land together or not at
        all. Inside :meth:`batch`, a savepoint instead: the same all-or-nothing, committed with the batch."""
        if self._batched:
            self._db.execute("SAVEPOINT record")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK TO record")
                self._db.execute("RELEASE record")
                raise
            self._db.execute("RELEASE record")
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many records in one commit (one fsync, not one each): for the cached results of a run,
        which an interrupted run loses nothing by not keeping (the next run finds them again). A
        record that fails inside is undone alone (its savepoint); the others still commit."""
        if self._batched:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._batched = True
        try:
            yield
        except BaseException:
            self._batched = False
            self._db.execute("ROLLBACK")
            raise
        self._batched = False
        self._db.execute("COMMIT")

    @property
    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def lookup(self, student: str, assignment: str, sha256: str, config_hash: str,
               grader_version: str) -> SubmissionResult | None:
        """The stored result of exactly this submission, config and grader, or ``None``."""
        stored = self.lookup_stored(student, assignment, sha256, config_hash, grader_version)
        return stored.result if stored is not None else None

    def lookup_stored(self, student: str, assignment: str, sha256: str, config_hash: str,
                      grader_version: str) -> Stored | None:
        """:meth:`lookup`, with the text the result is stored as (a cached regrade writes it to the
        result file as it is, instead of encoding the result again)."""
        row = self._db.execute(
            "SELECT result_json FROM submissions WHERE student = ? AND assignment = ? AND sha256 = ? "
            "AND config_hash = ? AND grader_version = ?",
            (student, assignment, sha256, config_hash, grader_version),
        ).fetchone()
        if row is None:
            return None
        try:
            return Stored(SubmissionResult.from_json(json.loads(row[0])), row[0])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: stored result of %s/%s is unreadable (%s); grading again",
                        self.path, student, assignment, exc)
            return None

    def record(self, result: SubmissionResult, config_hash: str, run: int | None = None,
               cached: bool = False, *, text: str | None = None) -> None:
        """Store ``result`` as the current submission of its (student, assignment); with ``run``,
        also as what that run found (``cached``: taken from the gradebook), verdicts and all.

        ``text`` is :func:`result_bytes` decoded, when the caller has it. A row already holding
        this text that is already its submission's latest is not written again: a cached regrade
        changes nothing there but when it was seen, which the run's own entry keeps
        (``run_results.recorded_at``), and :meth:`latest` orders by ``seq``, which it keeps.
        """
        now = _now()
        text = result_bytes(result).decode("utf-8") if text is None else text
        with self._transaction():
            self._db.execute(
                "INSERT INTO submissions (student, assignment, sha256, config_hash, grader_version, graded_at, "
                "recorded_at, seq, score, max_score, result_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions), ?, ?, ?) "
                "ON CONFLICT (student, assignment, sha256, config_hash, grader_version) DO UPDATE SET "
                "recorded_at = excluded.recorded_at, seq = excluded.seq, score = excluded.score, "
                "max_score = excluded.max_score, result_json = excluded.result_json "
                "WHERE submissions.result_json IS NOT excluded.result_json OR submissions.seq < "
                "(SELECT MAX(t.seq) FROM submissions AS t WHERE t.student = excluded.student "
                "AND t.assignment = excluded.assignment)",
                (
                    result.student, result.assignment, result.submission_sha256, config_hash,
                    result.grader_version, now, now, result.score, result.max_score, text,
                ),
            )
            if run is not None:
                self._enter(run, result, config_hash, cached=cached, at=now)

    def record_failure(self, run: int, result: SubmissionResult, config_hash: str) -> None:
        """Keep that ``run`` reached this submission but the grader failed on it (``grader_error``):
        no verdicts, never cached, never compared as the student's score."""
        with self._transaction():
            self._enter(run, result, config_hash, cached=False, at=_now())

    def _enter(self, run: int, result: SubmissionResult, config_hash: str, *, cached: bool, at: str) -> None:
        keys = (run, result.student, result.assignment)
        self._db.execute("DELETE FROM verdicts WHERE run = ? AND student = ? AND assignment = ?", keys)
        self._db.execute(
            f"INSERT OR REPLACE INTO run_results ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*keys, result.identity.name if result.identity is not None else "", result.submission_sha256,
             config_hash, result.grader_version, int(cached), result.status, result.score, result.max_score,
             result.penalty, at))
        if result.grader_error is not None:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO verdicts (run, student, assignment, sha256, test, test_zh, question, status, "
            "score, max_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*keys, result.submission_sha256, t.name, f"{t.question} · {t.group_zh}" if t.group_zh else "",
              t.question, t.status, t.score, t.max_score) for t in result.tests])

    # --- runs ---------------------------------------------------------------------------------

    def begin_run(self, config_hash: str, course_hash: str, code_hash: str, grader_version: str,
                  planned: int) -> int:
        """A new run, unfinished until :meth:`finish_run`; returns its id (they only increase)."""
        with self._transaction():
            cursor = self._db.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (NULL, ?, NULL, ?, ?, ?, ?, ?, 'grade')",
                (_now(), config_hash, course_hash, code_hash, grader_version, planned))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run: int) -> None:
        """Mark ``run`` as having reached every submission it planned (a stopped run never is)."""
        with self._transaction():
            self._db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run))

    def run(self, run: int) -> RunRecord | None:
        row = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run,)).fetchone()
        return RunRecord(*row) if row is not None else None

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        return [RunRecord(*row) for row in self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id")]

    def entries(self, run: int) -> list[Entry]:
        """What ``run`` found, by (student, assignment)."""
        return self._entries("WHERE run = ? ORDER BY student, assignment", (run,))

    def previous(self, student: str, assignment: str, before: int) -> Entry | None:
        """The last graded entry of this submission in a run before ``before`` (a grader error is
        skipped: it says nothing about the student), or ``None`` when there is none."""
        found = self._entries("WHERE student = ? AND assignment = ? AND run < ? AND status = 'graded' "
                              "ORDER BY run DESC LIMIT 1", (student, assignment, before))
        return found[0] if found else None

    def entries_of(self, student: str, assignment: str | None = None) -> list[Entry]:
        """Every run's entry of one student (of one assignment), by assignment, then oldest first."""
        if assignment is None:
            return self._entries("WHERE student = ? ORDER BY assignment, run", (student,))
        return self._entries("WHERE student = ? AND assignment = ? ORDER BY run", (student, assignment))

    def students(self) -> list[tuple[str, str]]:
        """(key, the display name last recorded, '' when none was) of every student any run found, by key."""
        rows = self._db.execute(
            "SELECT r.student, COALESCE((SELECT t.name FROM run_results AS t WHERE t.student = r.student "
            "AND t.name != '' ORDER BY t.run DESC LIMIT 1), '') FROM run_results AS r GROUP BY r.student "
            "ORDER BY r.student")
        return [(str(key), str(name)) for key, name in rows]

    def _entries(self, where: str, params: tuple[object, ...]) -> list[Entry]:
        rows = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM run_results {where}", params).fetchall()
        entries = []
        for run, student, assignment, name, sha, key, version, cached, status, score, most, penalty, at in rows:
            verdicts = tuple(Verdict(*v) for v in self._db.execute(
                "SELECT test, question, status, score, max_score, test_zh FROM verdicts WHERE run = ? AND student = ? "
                "AND assignment = ? ORDER BY rowid", (run, student, assignment)))
            entries.append(Entry(run, student, assignment, name, sha, key, version, bool(cached), status, score, most,
                                 penalty, at, verdicts))
        return entries

    # --- the cache's views ----------------------------------------------------------------------

    def latest(self) -> list[SubmissionResult]:
        """The most recently recorded result of every (student, assignment), sorted by both."""
        return [result for _, _, result in self._latest_rows()]

    def _latest_rows(self) -> Iterator[tuple[str, str, SubmissionResult]]:
        """(config hash, recorded at, result) of every (student, assignment)'s latest record."""
        rows = self._db.execute(
            "SELECT s.config_hash, s.recorded_at, s.result_json FROM submissions AS s WHERE s.seq = "
            "(SELECT MAX(t.seq) FROM submissions AS t WHERE t.student = s.student AND t.assignment = s.assignment) "
            "ORDER BY s.student, s.assignment"
        ).fetchall()
        for key, at, text in rows:
            try:
                yield key, at, SubmissionResult.from_json(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s: skipping an unreadable stored result (%s)", self.path, exc)

    def history(self, student: str, assignment: str) -> list[tuple[str, SubmissionResult]]:
        """(graded_at, result) of every submission of one student's assignment, oldest first."""
        rows = self._db.execute(
            "SELECT graded_at, result_json FROM submissions WHERE student = ? AND assignment = ? "
            "ORDER BY graded_at, seq",
            (student, assignment),
        ).fetchall()
        return [(at, SubmissionResult.from_json(json.loads(text))) for at, text in rows]
