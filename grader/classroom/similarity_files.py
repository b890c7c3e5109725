"""The similarity pass of a class run and its files: ``DIR/similarity.json`` and ``DIR/similarity.csv``.

After a run's results are kept (cached ones too), :func:`similarity_pass` reads each kept
submission's notebook and its assignment's released template (``assignments/ASSIGNMENT.ipynb``),
hands them to the engine (:mod:`grader.classroom.similarity`) and writes what it found. The class
is every result in ``DIR``, not only this run's: each submission's :class:`Entry` (its own code and
wrong answers) is kept in ``DIR/code/STUDENT/ASSIGNMENT.json`` (:data:`CODE_DIR`) with the hash of
the notebook it came from, so that grading one late student into the folder compares them with
everyone graded before, whose notebooks may no longer be at hand. The pass
only reads: it never changes a score, and nothing it does can stop the run or cost it its grades — a
notebook that cannot be read is left out of the pass (logged, its result kept), and a pass that fails
is logged, its earlier files removed, and said in the summary (:attr:`SimilarityOutcome.failure`).

The files are the instructor's alone and written private (0600), like ``results/``: they hold
students' code and name pairs of students. ``similarity.json`` is :meth:`Similarity.to_json`, from
which ``grader report`` renders the class page's section and the side-by-side pages of
``DIR/similarity/`` (:data:`PAIRS_DIR`, :mod:`grader.publish.report.similar`); ``similarity.csv``
has a row per reported pair, columns :data:`CSV_COLUMNS`, scores to three decimals, ``flagged`` as
``true``/``false``, UTF-8 with a BOM like ``grades.csv``.

Whenever a run does not make them anew (``--no-similarity``, a failed pass, a stopped run), the files
and pages of an earlier run are removed (:func:`clear_similarity`): a page must never show an earlier
class's pairs as if they were this run's.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import hashlib
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..course.config import CourseConfig
from ..grade.notebook import NotebookUnreadable, read_notebook
from ..judge.results import SubmissionResult
from .cache import code_fingerprint
from .gradebook import csv_text, load_results, read_private_json, result_path, safe_filename, write_atomic, write_json
from .similarity import Entry, SimilarPair, Similarity, compare_class, entry_of, template_code, wrong_of

__all__ = [
    "CODE_DIR",
    "CSV_COLUMNS",
    "PAIRS_DIR",
    "SIMILARITY_CSV",
    "SIMILARITY_JSON",
    "SimilarityOutcome",
    "clear_similarity",
    "read_similarity",
    "similarity_pass",
    "write_similarity",
]

log = logging.getLogger(__name__)

SIMILARITY_JSON = "similarity.json"
SIMILARITY_CSV = "similarity.csv"
CODE_DIR = "code"  # DIR/code/STUDENT/ASSIGNMENT.json: each submission's Entry, for the runs after it
_MAX_ENTRY = 64 << 20  # a kept entry larger than this is not read back: recomputed instead
PAIRS_DIR = "similarity"  # DIR/similarity/ASSIGNMENT/A--B.html: never under report/, whose pages go to students
CSV_COLUMNS = ("assignment", "student_a", "student_b", "code_score", "shared_wrong", "flagged")


@dataclass(frozen=True)
class SimilarityOutcome:
    """What the pass gave the run: its result (None when it failed), why it failed (``"TypeError:
    …"``, for the summary), the submissions left out because their notebook could not be read, and
    the folder's earlier results not compared because no code of theirs is kept (graded with
    ``--no-similarity``, or before the pass kept any): the summary names both, so that a class
    compared in part is never taken for the whole class."""

    similarity: Similarity | None
    failure: str = ""
    left_out: tuple[str, ...] = ()  # "student/assignment"
    not_compared: tuple[str, ...] = ()  # "student/assignment"


def similarity_pass(out_dir: Path, results: Iterable[SubmissionResult], notebooks: Mapping[tuple[str, str], Path],
                    config: CourseConfig) -> SimilarityOutcome:
    """Compare the kept ``results`` (their notebooks: ``notebooks[(student, assignment)]``) and write
    the files; any exception is the pass's alone: logged, the stale files removed, returned as the
    outcome's ``failure``."""
    try:
        results = list(results)
        entries, left_out = _entries(out_dir, results, notebooks, config)
        earlier, not_compared = _earlier_entries(out_dir, {(r.student, r.assignment) for r in results})
        entries += earlier
        templates = {aid: template_code(nb) for aid in sorted({e.assignment for e in entries})
                     if (nb := _template(config, aid)) is not None}
        similarity = compare_class(entries, templates, config.similarity)
        remove_pair_pages(out_dir)  # the earlier record's; the pages of this one are made with the others
        write_similarity(out_dir, similarity)
        return SimilarityOutcome(similarity, "", left_out, not_compared)
    except Exception as exc:
        log.exception("%s: the similarity pass failed; the grades are kept", out_dir)
        clear_similarity(out_dir)
        return SimilarityOutcome(None, f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__)


def _entries(out_dir: Path, results: Iterable[SubmissionResult], notebooks: Mapping[tuple[str, str], Path],
             config: CourseConfig) -> tuple[list[Entry], tuple[str, ...]]:
    """The pass's entries of the results whose notebook can be read, each kept for later runs; the
    others, by name. A kept entry of the same notebook bytes, template and grader code
    (:func:`_entry_key`) gives its code without reading the notebook again, and is not rewritten."""
    entries, left_out = [], []
    templates: dict[str, tuple[Mapping[str, Any] | None, str]] = {}
    for result in results:
        path = notebooks.get((result.student, result.assignment))
        if path is None:
            left_out.append(f"{result.student}/{result.assignment}")
            continue
        if result.assignment not in templates:
            templates[result.assignment] = _template_and_key(config, result.assignment)
        template, key = templates[result.assignment]
        kept = _kept_code(out_dir, result, key)
        if kept is not None:
            entries.append(Entry(result.student, result.assignment, kept, wrong_of(result)))
            continue
        notebook = _notebook(path)
        if notebook is None:
            left_out.append(f"{result.student}/{result.assignment}")
            continue
        entries.append(entry := entry_of(result, notebook, template))
        _keep_entry(out_dir, result, entry, key)
    return entries, tuple(left_out)


def _template_and_key(config: CourseConfig, assignment: str) -> tuple[Mapping[str, Any] | None, str]:
    """The released template and the key of the entries made with it: its bytes and the grader's
    code (:func:`~grader.classroom.cache.code_fingerprint`: how own code is cut from a notebook)."""
    digest = hashlib.sha256(code_fingerprint().encode("ascii") + b"\0")
    try:
        digest.update((config.root / "assignments" / f"{assignment}.ipynb").read_bytes())
    except OSError:
        digest.update(b"no template")
    return _template(config, assignment), digest.hexdigest()


def code_path(out_dir: Path, student: str, assignment: str) -> Path:
    return Path(out_dir) / CODE_DIR / safe_filename(student) / f"{safe_filename(assignment)}.json"


def _keep_entry(out_dir: Path, result: SubmissionResult, entry: Entry, key: str) -> None:
    """``entry`` for the runs after this one, with the hash of the notebook it was read from. It is
    students' code: private, like ``results/``, its folders 0700 even when an earlier copy of ``DIR``
    (``cp -r``, an unpacked archive) left them open."""
    path = code_path(out_dir, result.student, result.assignment)
    _private_folder(path.parent.parent)
    _private_folder(path.parent)
    write_json(path, {"student": entry.student, "assignment": entry.assignment,
                      "submission_sha256": result.submission_sha256, "entry_key": key, "code": entry.code,
                      "wrong": sorted(entry.wrong)}, private=True)


def _private_folder(folder: Path) -> None:
    """``folder`` made if need be, and 0700. A symbolic link there is refused, never followed: the
    students' code would be written (and a folder's mode changed) outside ``DIR``."""
    folder.mkdir(mode=0o700, exist_ok=True)
    if os.path.islink(folder):
        raise OSError(f"{folder} is a symbolic link; the students' code is never written through one")
    os.chmod(folder, 0o700)


def _earlier_entries(out_dir: Path, this_run: set[tuple[str, str]]) -> tuple[list[Entry], tuple[str, ...]]:
    """The kept entries of the folder's other results (graded by earlier runs): each one whose
    notebook hash is its result's, so an entry never outlives the grade it belongs to; and the
    results without one, by name (``student/assignment``)."""
    entries, missing = [], []
    for result in load_results(out_dir, skip={result_path(out_dir, *key) for key in this_run}):
        if (result.student, result.assignment) in this_run:
            continue
        entry = _kept_entry(out_dir, result)
        if entry is None:
            missing.append(f"{result.student}/{result.assignment}")
        else:
            entries.append(entry)
    return entries, tuple(missing)


def _read_kept(path: Path) -> Any:
    """The JSON of a kept entry file, or None: none there, or one refused (:func:`read_private_json`:
    the instructor's disk, which a student may have influenced). Its submission's entry is then
    recomputed (this run's) or left out (an earlier one's)."""
    return read_private_json(path, _MAX_ENTRY, "the entry is not reused")


def _kept_code(out_dir: Path, result: SubmissionResult, key: str) -> str | None:
    """The code of ``result``'s kept entry when it was cut from the same notebook bytes with the same
    ``key`` (:func:`_template_and_key`), or None: then the notebook is read again (and the entry
    rewritten)."""
    kept = _read_kept(code_path(out_dir, result.student, result.assignment))
    if (isinstance(kept, dict) and kept.get("submission_sha256") == result.submission_sha256
            and kept.get("entry_key") == key and kept.get("student") == result.student
            and kept.get("assignment") == result.assignment and isinstance(kept.get("code"), str)
            and kept.get("wrong") == sorted(wrong_of(result))):
        return str(kept["code"])
    return None


def _kept_entry(out_dir: Path, result: SubmissionResult) -> Entry | None:
    """``result``'s kept entry, or None: none kept (graded before the pass kept entries, with
    ``--no-similarity``, or left out then), one of another notebook, or one refused (:func:`_read_kept`)."""
    kept = _read_kept(code_path(out_dir, result.student, result.assignment))
    if (isinstance(kept, dict) and kept.get("submission_sha256") == result.submission_sha256
            and isinstance(kept.get("code"), str) and isinstance(kept.get("wrong"), list)):
        return Entry(result.student, result.assignment, kept["code"],
                     frozenset(w for w in kept["wrong"] if isinstance(w, str)))
    return None


def _notebook(path: Path) -> Mapping[str, Any] | None:
    """A submitted notebook, or None (logged) when it cannot be read: it was graded from these bytes,
    so its result already says why, and the pass leaves it out."""
    try:
        return read_notebook(path)
    except (NotebookUnreadable, OSError) as exc:
        log.warning("%s: left out of the similarity pass (%s)", path, exc)
        return None


def _template(config: CourseConfig, assignment: str) -> Mapping[str, Any] | None:
    """The released template of ``assignment`` (``assignments/ASSIGNMENT.ipynb``), or None when
    there is none to read: then nothing is subtracted from the students' code."""
    path = config.root / "assignments" / f"{assignment}.ipynb"
    try:
        return read_notebook(path)
    except FileNotFoundError:
        return None
    except (NotebookUnreadable, OSError) as exc:
        log.warning("%s: the released template cannot be read (%s); nothing is subtracted", path, exc)
        return None


# --- the files ---------------------------------------------------------------------------------


def write_similarity(out_dir: Path, similarity: Similarity) -> tuple[Path, Path]:
    """``DIR/similarity.json`` and ``DIR/similarity.csv``, both private; returns their paths."""
    out_dir = Path(out_dir)
    data, table = out_dir / SIMILARITY_JSON, out_dir / SIMILARITY_CSV
    write_json(data, similarity.to_json(), private=True)
    write_atomic(table, csv_table(similarity.pairs).encode("utf-8-sig"), private=True)
    return data, table


def csv_table(pairs: Iterable[SimilarPair]) -> str:
    """The CSV's text: a row per pair, by assignment, flagged ones first, then the most alike."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for p in sorted(pairs, key=lambda p: (p.assignment, not p.flagged, -max(p.code_score, p.shared_wrong),
                                          p.student_a, p.student_b)):
        writer.writerow([csv_text(p.assignment), csv_text(p.student_a), csv_text(p.student_b),
                         f"{p.code_score:.3f}", f"{p.shared_wrong:.3f}", "true" if p.flagged else "false"])
    return buffer.getvalue()


def read_similarity(out_dir: Path) -> Similarity | None:
    """The last run's similarity, or None when there is no (readable) ``similarity.json``: then the
    class page has no section, as when the pass was skipped."""
    path = Path(out_dir) / SIMILARITY_JSON
    try:
        return Similarity.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        log.warning("%s: not a readable similarity record (%s: %s); the pages leave it out",
                    path, type(exc).__name__, exc)
        return None


def clear_similarity(out_dir: Path) -> None:
    """Remove an earlier run's similarity files and side-by-side pages (``DIR/similarity/``). Never
    raises: a file that cannot be removed is logged, the run goes on."""
    out_dir = Path(out_dir)
    try:
        for name in (SIMILARITY_JSON, SIMILARITY_CSV):
            (out_dir / name).unlink(missing_ok=True)
        remove_pair_pages(out_dir)
    except OSError:
        log.exception("%s: could not remove the earlier similarity files", out_dir)


def remove_pair_pages(out_dir: Path) -> None:
    """Remove ``DIR/similarity/`` and what is in it. A symbolic link there is removed itself, never
    followed: nothing outside the output folder is touched."""
    folder = Path(out_dir) / PAIRS_DIR
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(folder)  # rmtree never follows the links inside
    else:
        folder.unlink()

