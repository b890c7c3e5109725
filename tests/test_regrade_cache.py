"""A cached regrade redoes no work whose inputs are unchanged, and still redoes all of it when one
changed: the result files (left when they hold the same bytes), the cached records (one commit), and
the similarity pass's kept entries (keyed by the notebook's bytes, the template and the grader's
code; a corrupt or forged one is recomputed). Work is counted, never timed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_facts import CONFIG
from test_similarity_report import result as report_result

from grader import __version__
from grader.classroom import gradebook, similarity_files
from grader.classroom.collect import Keeper
from grader.classroom.gradebook import Gradebook, result_path, write_if_changed, write_result
from grader.classroom.similarity_files import CODE_DIR, similarity_pass
from grader.intake.submissions import Submission
from grader.judge.results import StudentRecord, SubmissionResult

POOLING = "02-pooling"


def _class(tmp_path: Path, codes: dict[str, str]) -> tuple[Path, list[SubmissionResult], dict]:
    out, subs = tmp_path / "out", tmp_path / "subs"
    subs.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    results, notebooks = [], {}
    for student, code in codes.items():
        path = subs / f"{student}.ipynb"
        path.write_text(nbformat.writes(new_notebook(cells=[new_code_cell(code)])), encoding="utf-8")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        results.append(report_result(student, sha256=sha))
        notebooks[(student, POOLING)] = path
    return out, results, notebooks


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every notebook the pass reads."""
    seen: list[Path] = []
    real = similarity_files._notebook

    def counting(path: Path):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real(path)

    monkeypatch.setattr(similarity_files, "_notebook", counting)
    return seen


CODES = {"ann": "def max_pool2d(x):\n    return x.max() + 11\n", "ben": "def max_pool2d(y):\n    return y.min() - 3\n"}


def test_a_second_pass_reads_no_notebook_and_gives_the_same_files(tmp_path: Path, reads: list[Path]) -> None:
    out, results, notebooks = _class(tmp_path, CODES)
    first = similarity_pass(out, results, notebooks, CONFIG).similarity
    kept = {p: p.read_bytes() for p in (out / CODE_DIR).glob("*/*.json")}
    csv = (out / "similarity.csv").read_bytes()
    assert len(reads) == 2
    second = similarity_pass(out, results, notebooks, CONFIG).similarity
    assert len(reads) == 2  # nothing read again
    assert second == first and (out / "similarity.csv").read_bytes() == csv
    assert {p: p.read_bytes() for p in (out / CODE_DIR).glob("*/*.json")} == kept


def test_a_changed_notebook_is_read_again(tmp_path: Path, reads: list[Path]) -> None:
    out, results, notebooks = _class(tmp_path, CODES)
    similarity_pass(out, results, notebooks, CONFIG)
    _, (ben,), changed_notebooks = _class(tmp_path, {"ben": "def max_pool2d(z):\n    return 7\n"})
    changed, notebooks = [results[0], ben], {**notebooks, **changed_notebooks}  # ann's notebook untouched
    reads.clear()
    assert similarity_pass(out, changed, notebooks, CONFIG).similarity is not None
    assert reads == [notebooks[("ben", POOLING)]]
    assert "return 7" in json.loads((out / CODE_DIR / "ben" / f"{POOLING}.json").read_text())["code"]


def test_changed_grader_code_recomputes_every_entry(tmp_path: Path, reads: list[Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out, results, notebooks = _class(tmp_path, CODES)
    similarity_pass(out, results, notebooks, CONFIG)
    monkeypatch.setattr(similarity_files, "code_fingerprint", lambda: "another grader")
    reads.clear()
    similarity_pass(out, results, notebooks, CONFIG)
    assert len(reads) == 2


@pytest.mark.parametrize("spoil", ["garbage", "forged code of another notebook", "open mode", "symlink", "wrong list"])
def test_a_corrupt_or_forged_entry_is_recomputed(tmp_path: Path, reads: list[Path], spoil: str) -> None:
    out, results, notebooks = _class(tmp_path, CODES)
    first = similarity_pass(out, results, notebooks, CONFIG).similarity
    path = out / CODE_DIR / "ben" / f"{POOLING}.json"
    kept = json.loads(path.read_text(encoding="utf-8"))
    if spoil == "garbage":
        path.write_bytes(b"\xff{not json")
    elif spoil == "forged code of another notebook":
        path.write_text(json.dumps({**kept, "submission_sha256": "0" * 64, "code": "FORGED"}), encoding="utf-8")
    elif spoil == "open mode":
        os.chmod(path, 0o644)
    elif spoil == "symlink":
        target = tmp_path / "elsewhere.json"
        target.write_text(json.dumps({**kept, "code": "FORGED"}), encoding="utf-8")
        path.unlink()
        path.symlink_to(target)
    else:
        path.write_text(json.dumps({**kept, "wrong": ["x/y/z"]}), encoding="utf-8")
    reads.clear()
    second = similarity_pass(out, results, notebooks, CONFIG).similarity
    assert reads == [notebooks[("ben", POOLING)]]
    assert second == first and "FORGED" not in path.read_text(encoding="utf-8") and not path.is_symlink()


def test_a_cached_result_file_holding_the_same_bytes_is_not_rewritten(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    result = report_result("ann")
    path = write_result(tmp_path, result)
    written: list[Path] = []
    real = gradebook.write_atomic
    monkeypatch.setattr(gradebook, "write_atomic", lambda p, d, **k: (written.append(p), real(p, d, **k)))
    write_result(tmp_path, result)
    assert written == []
    write_result(tmp_path, report_result("ann", score=3.0))
    assert written == [path] and SubmissionResult.from_json(json.loads(path.read_text())) is not None
    os.chmod(path, 0o644)  # an open copy is made private again
    write_result(tmp_path, report_result("ann", score=3.0))
    assert written == [path, path] and (path.stat().st_mode & 0o777) == 0o600


def test_write_if_changed_replaces_a_symlink_rather_than_reading_through_it(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"same")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert write_if_changed(link, b"same") is True
    assert not link.is_symlink() and link.read_bytes() == b"same"
    assert write_if_changed(link, b"same") is False


def test_a_batch_commits_every_record_and_a_failed_one_alone_is_undone(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        run = book.begin_run("key", "", "", "v", 2)
        with book.batch():
            book.record(report_result("ann"), "key", run, cached=True)
            with pytest.raises(RuntimeError), book._transaction():
                book._db.execute("DELETE FROM submissions")
                raise RuntimeError("a record that fails")
            book.record(report_result("ben"), "key", run, cached=True)
    with Gradebook(tmp_path) as book:
        assert sorted(r.student for r in book.latest()) == ["ann", "ben"]
        assert [e.cached for e in book.entries(run)] == [True, True]


def test_the_result_files_of_this_run_are_not_read_again(tmp_path: Path) -> None:
    for student in ("ann", "ben"):
        write_result(tmp_path, report_result(student))
    result_path(tmp_path, "ben", POOLING).write_text("not json")  # would be logged if it were read
    assert [r.student for r in gradebook.load_results(tmp_path, skip={result_path(tmp_path, "ben", POOLING)})] == ["ann"]


# --- a cached result: encoded once, its gradebook row left alone --------------------------------


def _keeper(out: Path, book: Gradebook, run: int) -> Keeper:
    return Keeper(book, out, "key", {}, lambda sub, event, result: None, run)


def _submission(result: SubmissionResult, tmp_path: Path, name: str = "") -> Submission:
    identity = StudentRecord(result.student, name) if name else None
    return Submission(result.student, result.assignment, tmp_path / "nb.ipynb", result.submission_sha256,
                      f"{result.student}.ipynb", identity=identity)


def _row(book: Gradebook, student: str) -> tuple:
    return book._db.execute("SELECT seq, recorded_at, result_json FROM submissions WHERE student = ?",
                            (student,)).fetchone()


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The student of every result JSON-encoded."""
    seen: list[str] = []
    real = SubmissionResult.to_json

    def counting(self: SubmissionResult) -> dict:
        seen.append(self.student)
        return real(self)

    monkeypatch.setattr(SubmissionResult, "to_json", counting)
    return seen


def test_a_cached_result_unchanged_is_not_encoded_and_its_row_not_rewritten(tmp_path: Path,
                                                                            encodings: list[str]) -> None:
    out, ann = tmp_path / "out", report_result("ann")
    with Gradebook(out) as book:
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).graded(_submission(ann, tmp_path), ann)
        assert encodings == ["ann"]  # once for the file and the row together
        before, file = _row(book, "ann"), result_path(out, "ann", POOLING)
        assert before[2].encode("utf-8") == file.read_bytes()
        second = book.begin_run("key", "", "", "v", 1)
        keeper = _keeper(out, book, second)
        keeper.cached(_submission(ann, tmp_path), book.lookup_stored("ann", POOLING, ann.submission_sha256, "key",
                                                                     __version__))
        assert encodings == ["ann"] and _row(book, "ann") == before
        assert keeper.files == {file: hashlib.sha256(file.read_bytes()).hexdigest()}
        [entry] = book.entries(second)  # the run's own entry is still kept, as cached
        assert entry.cached and entry.score == ann.score


def test_a_cached_result_that_intake_changed_is_encoded_and_stored_again(tmp_path: Path) -> None:
    out, ann = tmp_path / "out", report_result("ann")
    with Gradebook(out) as book:
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).graded(_submission(ann, tmp_path), ann)
        before = _row(book, "ann")
        stored = book.lookup_stored("ann", POOLING, ann.submission_sha256, "key", __version__)
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).cached(_submission(ann, tmp_path, "安 Ann"), stored)
        after = _row(book, "ann")
        assert after[0] > before[0] and "安 Ann" in after[2]
        assert after[2].encode("utf-8") == result_path(out, "ann", POOLING).read_bytes()


def test_a_student_back_to_an_earlier_notebook_has_it_as_latest_again(tmp_path: Path) -> None:
    out, first, second = tmp_path / "out", report_result("ann"), report_result("ann", sha256="b" * 64, score=3.0)
    with Gradebook(out) as book:
        for result in (first, second):
            _keeper(out, book, book.begin_run("key", "", "", "v", 1)).graded(_submission(result, tmp_path), result)
        stored = book.lookup_stored("ann", POOLING, "a" * 64, "key", __version__)
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).cached(_submission(first, tmp_path), stored)
        assert book.latest() == [first]


def test_a_gradebook_row_of_compact_json_is_written_out_as_the_file_bytes(tmp_path: Path) -> None:
    """A gradebook from before the row held the file's text: its cached result's file is encoded, not
    copied from the row, and the row takes the file's text for the next run."""
    out, ann = tmp_path / "out", report_result("ann")
    with Gradebook(out) as book:
        book.record(ann, "key", text=json.dumps(ann.to_json(), ensure_ascii=False))
        stored = book.lookup_stored("ann", POOLING, ann.submission_sha256, "key", __version__)
        assert stored.file_bytes is None
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).cached(_submission(ann, tmp_path), stored)
        file = result_path(out, "ann", POOLING).read_bytes()
        assert SubmissionResult.from_json(json.loads(file)) == ann and file.startswith(b"{\n")
        assert _row(book, "ann")[2].encode("utf-8") == file


def test_a_result_file_edited_by_hand_is_put_back_by_a_cached_regrade(tmp_path: Path) -> None:
    out, ann = tmp_path / "out", report_result("ann")
    with Gradebook(out) as book:
        _keeper(out, book, book.begin_run("key", "", "", "v", 1)).graded(_submission(ann, tmp_path), ann)
        path = result_path(out, "ann", POOLING)
        kept = path.read_bytes()
        path.write_bytes(kept.replace(b'"score": 10.0', b'"score": 20.0', 1))
        assert path.read_bytes() != kept
        stored = book.lookup_stored("ann", POOLING, ann.submission_sha256, "key", __version__)
        keeper = _keeper(out, book, book.begin_run("key", "", "", "v", 1))
        keeper.cached(_submission(ann, tmp_path), stored)
        assert path.read_bytes() == kept and keeper.files[path] == hashlib.sha256(kept).hexdigest()
