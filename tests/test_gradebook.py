"""What survives a run: atomic result files, the SQLite gradebook and its cache, grades.csv."""

from __future__ import annotations

import csv
import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from grader.classroom.gradebook import (
    Gradebook,
    GradebookError,
    config_hash,
    load_results,
    safe_filename,
    write_atomic,
    write_grades_csv,
    write_result,
)
# Imported under another name: pytest would try to collect a class called Test*.
from grader.judge.results import Diagnosis, Failure, SubmissionResult
from grader.judge.results import TestResult as GroupResult

FLIPPED = Diagnosis(id="flipped-kernel", zh="卷积核未翻转", en="kernel not flipped")
QUESTIONS = {"01-convolution": ["conv2d", "im2col"], "02-pooling": ["max_pool2d"]}


def make_result(
    student: str = "alice",
    assignment: str = "01-convolution",
    sha: str = "a" * 64,
    scores: dict[str, tuple[float, float]] | None = None,
    version: str = "1.0",
) -> SubmissionResult:
    scores = {"conv2d": (20.0, 20.0), "im2col": (5.0, 20.0)} if scores is None else scores
    tests = tuple(
        GroupResult(
            question=q,
            group="hidden",
            public=False,
            score=score,
            max_score=most,
            cases=4,
            passed_cases=4 if score == most else 1,
            failure=None if score == most else Failure(kind="wrong", code="text", params={"text": "形状不对 wrong shape"},
                                                     worst_index=(0, 2)),
            diagnosis=None if score == most else FLIPPED,
        )
        for q, (score, most) in scores.items()
    )
    return SubmissionResult(student, assignment, sha, version, execution_time=1.25, tests=tests)


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- result files ------------------------------------------------------------------------------


def test_write_result_round_trips_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    result = make_result(student="张三")
    path = write_result(tmp_path, result)
    assert path == tmp_path / "results" / "张三" / "01-convolution.json"
    text = path.read_text(encoding="utf-8")
    assert "张三" in text and "卷积核未翻转" in text, "ensure_ascii=False"
    assert text.startswith('{\n  "score": 25.0')
    assert SubmissionResult.from_json(json.loads(text)) == result
    write_result(tmp_path, make_result(student="张三", scores={"conv2d": (20.0, 20.0)}))
    assert files_in(tmp_path) == ["results/张三/01-convolution.json"]
    assert json.loads(path.read_text(encoding="utf-8"))["score"] == 20.0


def test_write_atomic_keeps_the_old_file_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.json"
    write_atomic(path, b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert files_in(tmp_path) == ["x.json"], "the temporary file is removed"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alice", "alice"),
        ("张三", "张三"),
        ("José García", "José García"),
        ("bob-smith", "bob-smith"),
    ],
)
def test_safe_filename_keeps_ordinary_names(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize(
    "name", ["a/b", "a\\b", "..", ".", "", "a\nb", "a\x00b", "CON", "nul.txt", "x" * 300, "张" * 100, "a:b?"]
)
def test_safe_filename_makes_odd_names_one_safe_component(name: str) -> None:
    safe = safe_filename(name)
    assert safe and safe not in (".", "..")
    assert not any(c in safe for c in '/\\\n\x00:?')
    assert len(safe.encode("utf-8")) <= 210
    assert safe != name
    assert safe.split(".")[0].lower() not in ("con", "nul")


def test_safe_filename_keeps_different_students_apart() -> None:
    names = ["a/b", "a_b", "a\\b", "a:b"]
    assert len({safe_filename(n) for n in names}) == len(names)
    assert safe_filename("a_b") == "a_b"


def test_student_names_with_separators_stay_inside_results(tmp_path: Path) -> None:
    path = write_result(tmp_path, make_result(student="../../evil"))
    assert path.resolve().is_relative_to((tmp_path / "results").resolve())
    assert load_results(tmp_path)[0].student == "../../evil"


def test_load_results_skips_corrupt_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_result(tmp_path, make_result(student="bob"))
    write_result(tmp_path, make_result(student="alice", assignment="02-pooling"))
    write_result(tmp_path, make_result(student="alice"))
    (tmp_path / "results" / "carol").mkdir()
    (tmp_path / "results" / "carol" / "01-convolution.json").write_text("{ not json", encoding="utf-8")
    (tmp_path / "results" / "carol" / "02-pooling.json").write_text('{"score": 1}', encoding="utf-8")
    (tmp_path / "results" / "bob" / ".01-convolution.json.x1.tmp").write_text("partial", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="grader.classroom.gradebook"):
        results = load_results(tmp_path)
    assert [(r.student, r.assignment) for r in results] == [
        ("alice", "01-convolution"),
        ("alice", "02-pooling"),
        ("bob", "01-convolution"),
    ]
    assert sum("skipping" in m and "carol" in m for m in caplog.messages) == 2
    assert load_results(tmp_path / "nothing-here") == []


def test_config_hash_follows_the_file_and_the_seed(tmp_path: Path) -> None:
    config = tmp_path / "course.toml"
    config.write_text("[course]\nseed = 1\n", encoding="utf-8")
    first = config_hash(config, "seed=1")
    assert first == config_hash(config, "seed=1") and len(first) == 64
    assert config_hash(config, "seed=2") != first
    config.write_text("[course]\nseed = 1 \n", encoding="utf-8")
    assert config_hash(config, "seed=1") != first


# --- the gradebook -----------------------------------------------------------------------------


def test_gradebook_uses_wal_and_closes(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        assert book.journal_mode == "wal"
    assert (tmp_path / "gradebook.sqlite").exists()
    with pytest.raises(sqlite3.ProgrammingError):
        book.latest()


def test_cache_hits_only_when_content_config_and_version_match(tmp_path: Path) -> None:
    result = make_result()
    key = ("alice", "01-convolution", "a" * 64, "cfg1", "1.0")
    with Gradebook(tmp_path) as book:
        assert book.lookup(*key) is None
        book.record(result, "cfg1")
    with Gradebook(tmp_path) as book:  # kept across runs
        assert book.lookup(*key) == result
        assert book.lookup("alice", "01-convolution", "b" * 64, "cfg1", "1.0") is None
        assert book.lookup("alice", "01-convolution", "a" * 64, "cfg2", "1.0") is None
        assert book.lookup("alice", "01-convolution", "a" * 64, "cfg1", "1.1") is None
        assert book.lookup("bob", "01-convolution", "a" * 64, "cfg1", "1.0") is None
        assert book.lookup("alice", "02-pooling", "a" * 64, "cfg1", "1.0") is None


def test_latest_is_the_newest_record_and_history_keeps_everything(tmp_path: Path) -> None:
    first = make_result(sha="a" * 64, scores={"conv2d": (0.0, 20.0)})
    second = make_result(sha="b" * 64, scores={"conv2d": (20.0, 20.0)})
    other = make_result(student="张三", assignment="02-pooling", scores={"max_pool2d": (10.0, 20.0)})
    with Gradebook(tmp_path) as book:
        book.record(first, "cfg")
        book.record(other, "cfg")
        book.record(second, "cfg")
        assert book.latest() == [second, other]
        regraded = make_result(sha="b" * 64, scores={"conv2d": (15.0, 20.0)}, version="1.1")
        book.record(regraded, "cfg")
        assert book.latest() == [regraded, other]
        # The student goes back to the first notebook: a cache hit, recorded again as current.
        assert book.lookup("alice", "01-convolution", "a" * 64, "cfg", "1.0") == first
        book.record(first, "cfg")
        assert book.latest() == [first, other]
        history = book.history("alice", "01-convolution")
        assert [r for _, r in history] == [first, second, regraded]
        assert all(a <= b for (a, _), (b, _) in zip(history, history[1:]))


def test_gradebook_from_a_newer_grader_is_refused(tmp_path: Path) -> None:
    Gradebook(tmp_path).close()
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(GradebookError, match=r"gradebook.sqlite: schema version 99 .* newer grader"):
        Gradebook(tmp_path)


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    (tmp_path / "gradebook.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GradebookError, match=r"gradebook.sqlite: not a usable gradebook"):
        Gradebook(tmp_path)


# --- grades.csv --------------------------------------------------------------------------------


HEADER = [
    "student",
    *("01-convolution:conv2d", "01-convolution:im2col", "01-convolution", "01-convolution penalty",
      "01-convolution final"),
    *("02-pooling:max_pool2d", "02-pooling", "02-pooling penalty", "02-pooling final"),
    "total", "penalty", "final",
]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_grades_csv_layout_missing_submissions_and_chinese_names(tmp_path: Path) -> None:
    results = [
        make_result(student="张三"),
        make_result(student="张三", assignment="02-pooling", scores={"max_pool2d": (12.5, 20.0)}),
        make_result(student="bob", scores={}),  # graded, nothing passed (e.g. the notebook crashed)
        make_result(student="alice", assignment="02-pooling", scores={"max_pool2d": (20.0, 20.0)}),
        make_result(student="alice", assignment="99-unknown", scores={"x": (5.0, 5.0)}),
    ]
    path = write_grades_csv(tmp_path, results, QUESTIONS)
    assert path == tmp_path / "grades.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "a BOM, for Excel"
    assert read_csv(path) == [
        HEADER,
        ["alice", "", "", "", "", "", "20", "20", "0", "20", "20", "0", "20"],
        ["bob", "0", "0", "0", "0", "0", "", "", "", "", "0", "0", "0"],
        ["张三", "20", "5", "25", "0", "25", "12.5", "12.5", "0", "12.5", "37.5", "0", "37.5"],
    ]
    assert files_in(tmp_path) == ["grades.csv"]


def test_grades_csv_refuses_two_results_for_one_submission(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"two results for student='alice', assignment='01-convolution'"):
        write_grades_csv(tmp_path, [make_result(), make_result(sha="b" * 64)], QUESTIONS)
    assert not (tmp_path / "grades.csv").exists()


def test_grades_csv_does_not_let_names_become_formulas(tmp_path: Path) -> None:
    path = write_grades_csv(tmp_path, [make_result(student="=HYPERLINK(1)")], QUESTIONS)
    assert read_csv(path)[1][0] == "'=HYPERLINK(1)"


def test_grades_csv_with_no_results_has_the_header(tmp_path: Path) -> None:
    assert read_csv(write_grades_csv(tmp_path, [], QUESTIONS)) == [HEADER]


def test_load_results_skips_hand_edited_files_of_any_shape(tmp_path: Path) -> None:
    """A careless hand edit: a test record that is a string (AttributeError inside from_json), a
    student that is a number (the class sort would compare int and str): each file is skipped, the
    others load, and `grader report` renders them (these used to stop it with a traceback)."""
    write_result(tmp_path, make_result(student="bob"))
    good = make_result(student="x").to_json()
    for name, edit in (("carol", lambda g: g.__setitem__("results", ["oops"])),
                       ("dave", lambda g: g["results"][0].__setitem__("failure", "oops")),
                       ("erin", lambda g: g.__setitem__("student", 42))):
        data = json.loads(json.dumps(good))
        data["grader"]["student"] = name
        edit(data["grader"])
        (tmp_path / "results" / name).mkdir(parents=True)
        (tmp_path / "results" / name / "01-convolution.json").write_text(json.dumps(data), encoding="utf-8")
    assert [r.student for r in load_results(tmp_path)] == ["bob"]


def test_grade_names_an_unusable_gradebook_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grader.cli import main

    out, empty = tmp_path / "out", tmp_path / "none"
    out.mkdir()
    empty.mkdir()
    (out / "gradebook.sqlite").write_bytes(b"this is not sqlite" * 100)
    assert main(["grade", str(empty), "--out", str(out), "--sandbox", "off"]) == 2
    err = capsys.readouterr().err
    assert "gradebook.sqlite: not a usable gradebook" in err and "Traceback" not in err
