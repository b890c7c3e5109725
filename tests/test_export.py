"""Grade exports from stored results, checked against each format's documented fields."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from course_facts import grades_columns, max_score, points as course_points
from grader.course.config import CourseConfig, load_config
from grader.publish.export import CANVAS_COLUMNS, export, gradescope_results
from grader.classroom.gradebook import safe_filename, write_result
from grader.judge.results import Diagnosis, Failure, SubmissionResult, call_of
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*

ROOT = Path(__file__).resolve().parents[1]
FLIPPED = Diagnosis("flipped_kernel", zh="卷积核被翻转了", en="the kernel is flipped")

# Gradescope's autograder specification, "Output format" (gradescope/autograder_samples docs/specs.md).
GRADESCOPE_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMULA = "=cmd|' /C calc'!A0"  # a student name Excel would run as a formula


@pytest.fixture(scope="module")
def config() -> CourseConfig:
    return load_config(ROOT / "course.toml", environ={})


def result(student: str, assignment: str, scores: dict[str, tuple[float, float]], *,
           extra: dict[str, float] | None = None) -> SubmissionResult:
    tests = [
        GroupResult(q, "hidden", False, score, most, 4, 4 if score == most else 0,
                    None if score == most else Failure("wrong", "text", {"text": "values differ"},
                                                             call_of(q, (np.zeros((5, 5)),), {})),
                    None if score == most else FLIPPED)
        for q, (score, most) in scores.items()
    ]
    tests += [GroupResult(q, "optional", True, s, s, 1, 1, extra_credit=True) for q, s in (extra or {}).items()]
    return SubmissionResult(student, assignment, "a" * 64, "0.1.0", 3.25, tuple(tests),
                            notes=("cell 4 raised AssertionError: wrong",))


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    """A stored class: two students, a missing submission, extra credit and a Chinese name."""
    for stored in (
        result("wang_fang", "01-convolution", {"conv2d": (0, 20), "conv2d_multi": (10, 10), "conv2d_layer": (30, 30),
                                               "im2col": (20, 20), "conv2d_matmul": (20, 20)}),
        result("李华", "01-convolution", {"conv2d": (20, 20), "conv2d_multi": (10, 10), "conv2d_layer": (30, 30),
                                         "im2col": (20, 20), "conv2d_matmul": (20, 20)}),
        result("李华", "04-gender-cnn", {"load_faces": (20, 20), "build_model": (20, 20), "param_report": (20, 20),
                                        "accuracy": (30, 40)}, extra={"build_rating_model": 10}),
        result(FORMULA, "02-pooling", {"max_pool2d": (20, 20), "avg_pool2d": (15, 15),
                                                    "max_pool2d_backward": (0, 30), "spatial_pyramid_pool": (35, 35)}),
    ):
        write_result(tmp_path, stored)
    return tmp_path


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding=encoding), newline="")))


def test_csv_is_the_class_table(graded: Path, config: CourseConfig) -> None:
    (path,) = export(graded, "csv", config)
    assert path == graded / "export" / "grades.csv"
    rows = read_csv(path, "utf-8-sig")
    header = rows[0]
    assert header[0] == "student" and header[-3:] == ["total", "penalty", "final"]
    assert header == grades_columns()  # one column per declared question, whatever the results hold
    assert header[1:3] == ["01-convolution:conv2d", "01-convolution:conv2d_multi"]
    by_student = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_student["wang_fang"]["01-convolution:conv2d"] == "0"
    assert by_student["wang_fang"]["01-convolution"] == "80" and by_student["wang_fang"]["04-gender-cnn"] == ""
    assert by_student["李华"]["04-gender-cnn:build_rating_model"] == "10"
    assert by_student["李华"]["total"] == "200"  # 100 + 90 + 10 extra credit
    assert (by_student["李华"]["penalty"], by_student["李华"]["final"]) == ("0", "200")  # no due date: none late
    assert by_student["wang_fang"]["01-convolution penalty"] == "0" and by_student["wang_fang"]["04-gender-cnn final"] == ""
    assert f"'{FORMULA}" in by_student  # never a formula in Excel


def test_gradescope_results_use_only_the_documented_fields(graded: Path, config: CourseConfig) -> None:
    paths = export(graded, "gradescope", config)
    assert sorted(p.relative_to(graded).as_posix() for p in paths) == sorted([
        "export/gradescope/wang_fang/01-convolution/results.json",
        "export/gradescope/李华/01-convolution/results.json",
        "export/gradescope/李华/04-gender-cnn/results.json",
        f"export/gradescope/{safe_filename(FORMULA)}/02-pooling/results.json",
    ])
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) <= GRADESCOPE_TOP
        assert is_number(data["score"]) and is_number(data["execution_time"])
        assert data["stdout_visibility"] in VISIBILITY and isinstance(data["output"], str)
        for test in data["tests"]:
            assert set(test) <= GRADESCOPE_TEST
            assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
            assert is_number(test["score"]) and is_number(test["max_score"])
            assert isinstance(test["tags"], list) and all(isinstance(tag, str) for tag in test["tags"])
        assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-9
    gender = json.loads((graded / "export/gradescope/李华/04-gender-cnn/results.json").read_text(encoding="utf-8"))
    assert gender["score"] == 100.0 and gender["extra_data"]["max_score"] == 100.0
    assert [t["number"] for t in gender["tests"]] == ["1.1", "2.1", "3.1", "4.1", "5.1"]
    assert gender["output"] == "cell 4 raised AssertionError: wrong"


def test_gradescope_failed_test_explains_itself() -> None:
    data = gradescope_results(result("w", "01-convolution", {"conv2d": (0, 20), "im2col": (20, 20)}))
    failed, passed = data["tests"]
    assert failed["name"] == "conv2d · hidden" and failed["status"] == "failed" and failed["max_score"] == 20.0
    assert "call: conv2d(<array (5, 5) float64>)" in failed["output"]
    assert "the kernel is flipped / 卷积核被翻转了" in failed["output"]
    assert passed["status"] == "passed" and passed["tags"] == ["im2col", "hidden"]
    assert failed["visibility"] == passed["visibility"] == "after_published"  # hidden groups
    assert data["extra_data"]["diagnoses"][0]["id"] == "flipped_kernel"


def test_canvas_csv_has_the_gradebook_import_layout(graded: Path, config: CourseConfig) -> None:
    """The layout of Canvas's importer (tests/test_lms_export.py uploads it to a copy of its rules); here a
    class of plain folders, known by folder name only."""
    (path,) = export(graded, "canvas", config)
    assert path == graded / "export" / "canvas.csv"
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # UTF-8 without a byte-order mark
    rows = read_csv(path)
    header, points, *students = rows
    assert tuple(header[:5]) == CANVAS_COLUMNS == ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
    # one column per graded assignment, by its title (Canvas matches an existing assignment by it), in course.toml's order
    assert header[5:] == ["卷积 Convolution", "池化 Pooling", "性别识别 Gender recognition CNN"]
    possible = [f"{max_score(a):g}" for a in ("01-convolution", "02-pooling", "04-gender-cnn")]
    assert points == ["Points Possible", "", "", "", "", *possible]  # extra credit is not possible points
    gender = course_points("04-gender-cnn")
    assert possible[2] == f"{sum(gender.values()) - gender['build_rating_model']:g}"
    by_login = {row[3]: row for row in students}
    assert by_login["wang_fang"] == ["wang_fang", "", "", "wang_fang", "", "80", "", ""]
    assert by_login["李华"][5:] == ["100", "", "100"]
    formula = by_login[f"'{FORMULA}"]  # never a formula in Excel, in any column
    assert formula[0] == f"'{FORMULA}" and formula[6] == "70"
    assert all(len(row) == len(header) for row in rows)


def test_export_rejects_an_unknown_format(graded: Path, config: CourseConfig) -> None:
    with pytest.raises(ValueError, match="csv, gradescope, canvas, moodle, received 'pdf'"):
        export(graded, "pdf", config)
    assert not (graded / "export").exists()


def test_export_of_an_empty_folder_writes_headers_only(tmp_path: Path, config: CourseConfig) -> None:
    (path,) = export(tmp_path, "canvas", config)
    assert read_csv(path) == [list(CANVAS_COLUMNS), ["Points Possible", "", "", "", ""]]
    assert export(tmp_path, "gradescope", config) == []
    assert export(tmp_path, "moodle", config) == []  # a worksheet per graded assignment: none


def test_export_reads_a_hand_edited_score_as_the_pages_do(graded: Path, config: CourseConfig) -> None:
    """A score stored as text ("10") counts 0, as on the pages; the export used to stop with a
    TypeError (float + str) for the whole class. A grader_error result still leaves its cells empty."""
    path = graded / "results" / "wang_fang" / "01-convolution.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["grader"]["results"][0]["score"] = "10"
    path.write_text(json.dumps(data), encoding="utf-8")
    failed = result("zed", "01-convolution", {"conv2d": (0, 20)})
    from dataclasses import replace

    from grader.judge.results import GraderError
    write_result(graded, replace(failed, grader_error=GraderError("compare", "boom")))
    for fmt in ("csv", "gradescope", "canvas", "moodle"):
        assert export(graded, fmt, config)
    rows = {row[0]: row for row in read_csv(graded / "export" / "grades.csv")}
    header = read_csv(graded / "export" / "grades.csv")[0]
    assert rows["wang_fang"][header.index("01-convolution:conv2d")] == "0"
    assert rows["zed"][header.index("01-convolution")] == ""
