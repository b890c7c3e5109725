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

from grader.classroom import gradebook, similarity_files
from grader.classroom.gradebook import Gradebook, result_path, write_if_changed, write_result
from grader.classroom.similarity_files import CODE_DIR, similarity_pass
from grader.judge.results import SubmissionResult

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
