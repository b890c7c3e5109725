"""What survives a grading run (SPEC section 7): result files, the gradebook database, grades.csv.

- ``DIR/results/STUDENT/ASSIGNMENT.json``: :meth:`SubmissionResult.to_json`, one per submission,
  written atomically (a reader sees the old file or the new one, never half of one).
- ``DIR/gradebook.sqlite``: every graded submission of every run, keyed by the notebook's SHA-256,
  the course configuration's hash (:func:`config_hash`) and the grader version. A key already in
  the gradebook is a cache hit: that submission is not executed again.
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
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from grader.judge.results import SubmissionResult

__all__ = [
    "Gradebook",
    "GradebookError",
    "OutputBusy",
    "by_student",
    "config_hash",
    "csv_number",
    "csv_text",
    "grades_header",
    "load_results",
    "output_lock",
    "result_path",
    "safe_filename",
    "write_atomic",
    "write_grades_csv",
    "write_json",
    "write_result",
]

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
GRADEBOOK_FILE = "gradebook.sqlite"
GRADES_CSV = "grades.csv"
SCHEMA_VERSION = 1

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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not possible on every platform
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_json(path: Path, data: object) -> None:
    """``data`` as indented UTF-8 JSON (Chinese as itself, not escaped), written atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"))


def result_path(out_dir: Path, student: str, assignment: str) -> Path:
    return Path(out_dir) / RESULTS_DIR / safe_filename(student) / f"{safe_filename(assignment)}.json"


def write_result(out_dir: Path, result: SubmissionResult) -> Path:
    """``out_dir/results/STUDENT/ASSIGNMENT.json``, written atomically; returns its path."""
    path = result_path(out_dir, result.student, result.assignment)
    write_json(path, result.to_json())
    return path


def load_results(out_dir: Path) -> list[SubmissionResult]:
    """The results under ``out_dir/results``, sorted by (student, assignment); bad files are logged."""
    results = []
    for path in sorted((Path(out_dir) / RESULTS_DIR).glob("*/*.json")):
        if path.name.startswith("."):
            continue
        try:
            results.append(SubmissionResult.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except Exception as exc:  # a hand-edited file may hold anything (AttributeError, RecursionError…)
            log.warning("skipping %s: not a readable result (%s: %s)", path, type(exc).__name__, exc)
    results.sort(key=lambda r: (r.student, r.assignment))
    return results


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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Gradebook:
    """``out_dir/gradebook.sqlite``: every graded submission, kept across runs, and the cache.

    ``record`` after grading *and* after a cache hit, so that :meth:`latest` is what this run
    found: a student who goes back to an earlier notebook gets that notebook's stored result.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = Path(out_dir) / GRADEBOOK_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
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
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise GradebookError(
                f"{self.path}: schema version {version} was written by a newer grader "
                f"(this one reads {SCHEMA_VERSION})"
            )
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
        row = self._db.execute(
            "SELECT result_json FROM submissions WHERE student = ? AND assignment = ? AND sha256 = ? "
            "AND config_hash = ? AND grader_version = ?",
            (student, assignment, sha256, config_hash, grader_version),
        ).fetchone()
        if row is None:
            return None
        try:
            return SubmissionResult.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s: stored result of %s/%s is unreadable (%s); grading again",
                        self.path, student, assignment, exc)
            return None

    def record(self, result: SubmissionResult, config_hash: str) -> None:
        """Store ``result`` as the current submission of its (student, assignment)."""
        now = _now()
        self._db.execute(
            "INSERT INTO submissions (student, assignment, sha256, config_hash, grader_version, graded_at, "
            "recorded_at, seq, score, max_score, result_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM submissions), ?, ?, ?) "
            "ON CONFLICT (student, assignment, sha256, config_hash, grader_version) DO UPDATE SET "
            "recorded_at = excluded.recorded_at, seq = excluded.seq, score = excluded.score, "
            "max_score = excluded.max_score, result_json = excluded.result_json",
            (
                result.student, result.assignment, result.submission_sha256, config_hash,
                result.grader_version, now, now, result.score, result.max_score,
                json.dumps(result.to_json(), ensure_ascii=False),
            ),
        )

    def latest(self) -> list[SubmissionResult]:
        """The most recently recorded result of every (student, assignment), sorted by both."""
        rows = self._db.execute(
            "SELECT s.result_json FROM submissions AS s WHERE s.seq = (SELECT MAX(t.seq) "
            "FROM submissions AS t WHERE t.student = s.student AND t.assignment = s.assignment) "
            "ORDER BY s.student, s.assignment"
        )
        return list(self._results(rows))

    def history(self, student: str, assignment: str) -> list[tuple[str, SubmissionResult]]:
        """(graded_at, result) of every submission of one student's assignment, oldest first."""
        rows = self._db.execute(
            "SELECT graded_at, result_json FROM submissions WHERE student = ? AND assignment = ? "
            "ORDER BY graded_at, seq",
            (student, assignment),
        ).fetchall()
        return [(at, SubmissionResult.from_json(json.loads(text))) for at, text in rows]

    def _results(self, rows: Iterator[tuple[str]]) -> Iterator[SubmissionResult]:
        for (text,) in rows:
            try:
                yield SubmissionResult.from_json(json.loads(text))
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s: skipping an unreadable stored result (%s)", self.path, exc)
