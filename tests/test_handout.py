"""The zips handed to students (``grader report DIR --students``) and the pages in Moodle's feedback zip:
only the student's own pages, and no byte of a hidden group's inputs or expected values."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course_facts import CONFIG
from grader.classroom.gradebook import result_path, write_result
from grader.cli import main
from grader.judge.results import Failure, StudentRecord, SubmissionResult, call_of
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.export import write_export
from grader.publish.handout import write_student_zips

ROOT = Path(__file__).resolve().parents[1]
# A hidden group's secrets, each a number that appears nowhere else: its input, its expected answer,
# the largest error (expected = actual ± it).
HIDDEN_INPUT, HIDDEN_EXPECTED, HIDDEN_ERROR = 73313.0, 90210.0, 16897.0
# A public group's values: shown, since they ship in the student bundle (so the page does show values).
PUBLIC_INPUT, PUBLIC_EXPECTED = 4242.0, 5151.0
PRIVATE = {"sis_id": "SIS-998877", "login": "login-zhang-77"}  # the LMS's ids: the instructor's


def wrong(function: str, given: float, expected: float, actual: float) -> Failure:
    params = {"count": 1, "total": 1, "largest": f"{abs(expected - actual):g}", "index": "(0, 0)",
              "expected": f"{expected:g}", "actual": f"{actual:g}", "path": "", "your_dtype": "float64"}
    return Failure("wrong", "values_differ", params, call_of(function, (np.full((2, 2), given),), {}),
                   [[expected]], [[actual]], abs(expected - actual), (0, 0))


def submission(student: str, name: str, number: str) -> SubmissionResult:
    tests = (
        GroupResult("conv2d", "public", True, 0.0, 10.0, 1, 0, wrong("conv2d", PUBLIC_INPUT, PUBLIC_EXPECTED, 1.0)),
        GroupResult("conv2d", "hidden", False, 0.0, 10.0, 1, 0,
                    wrong("conv2d", HIDDEN_INPUT, HIDDEN_EXPECTED, HIDDEN_EXPECTED - HIDDEN_ERROR)),
        GroupResult("im2col", "hidden", False, 20.0, 20.0, 4, 4),
    )
    record = StudentRecord(student, name, f"{student}@example.edu", "moodle", number, **PRIVATE)
    return SubmissionResult(student, "01-convolution", "b" * 64, "0.1.0", 1.0, tests, identity=record)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    write_result(tmp_path, submission("zhangsan", "张三", "4412"))
    write_result(tmp_path, submission("lisi", "李四", "4413"))
    write_result(tmp_path, SubmissionResult("zhangsan", "02-pooling", "c" * 64, "0.1.0", 1.0,
                                            (GroupResult("max_pool2d", "hidden", False, 20.0, 20.0, 2, 2),)))
    return tmp_path


def secrets_in(data: bytes) -> list[str]:
    """Which hidden value's digits appear in ``data``."""
    return [str(int(value)) for value in (HIDDEN_INPUT, HIDDEN_EXPECTED, HIDDEN_ERROR)
            if str(int(value)).encode() in data]


def unpacked(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_secrets_are_in_the_instructors_result_file(out: Path) -> None:
    """Else the tests below would pass for want of anything to leak."""
    stored = result_path(out, "zhangsan", "01-convolution").read_bytes()
    assert secrets_in(stored) == ["73313", "90210", "16897"]
    assert PRIVATE["sis_id"].encode() in stored


def test_each_student_zip_holds_only_their_pages(out: Path) -> None:
    zips = write_student_zips(out, [r for r in _results(out)], CONFIG, "en")
    assert [p.relative_to(out).as_posix() for p in zips.paths] == ["export/students/lisi.zip",
                                                                    "export/students/zhangsan.zip"]
    assert not zips.notes
    mine = unpacked(out / "export/students/zhangsan.zip")
    assert sorted(mine) == ["zhangsan/01-convolution.html", "zhangsan/02-pooling.html"]
    theirs = unpacked(out / "export/students/lisi.zip")
    assert sorted(theirs) == ["lisi/01-convolution.html"]
    raw = (out / "export/students/zhangsan.zip").read_bytes()
    for data in (raw, *mine.values()):
        assert b"lisi" not in data and "李四".encode() not in data  # nothing of another student
        assert PRIVATE["sis_id"].encode() not in data and PRIVATE["login"].encode() not in data
        assert b"zhangsan@example.edu" not in data and b"results/" not in data
    page = mine["zhangsan/01-convolution.html"].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and 'src="http' not in page


def test_no_byte_of_a_hidden_input_or_expected_value_is_handed_out(out: Path) -> None:
    write_student_zips(out, _results(out), CONFIG, "zh")
    write_export(out, "moodle", CONFIG, lang="en")
    handed_out = [*sorted((out / "export/students").glob("*.zip")),
                  out / "export/moodle/01-convolution/feedback_files.zip"]
    for path in handed_out:
        assert secrets_in(path.read_bytes()) == [], path.name
        for name, data in unpacked(path).items():
            assert secrets_in(data) == [], f"{path.name}:{name}"
            page = data.decode("utf-8")
            if "01-convolution" not in name:
                continue
            assert str(int(PUBLIC_INPUT)) in page and str(int(PUBLIC_EXPECTED)) in page  # public values are shown
            assert "conv2d(&lt;array (2, 2) float64&gt;)" in page  # the hidden call, by type and shape
    assert secrets_in((out / "export/moodle/01-convolution/grading_worksheet.csv").read_bytes()) == []


def test_grader_report_students_writes_the_zips(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--course", str(ROOT / "course.toml"), "report", str(out), "--students", "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report' / 'index.html'}" in printed
    assert f"2 student zip(s) written under {out / 'export' / 'students'}" in printed
    assert sorted(p.name for p in (out / "export/students").iterdir()) == ["lisi.zip", "zhangsan.zip"]


def test_grader_report_writes_no_zip_unless_asked(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--course", str(ROOT / "course.toml"), "report", str(out)]) == 0
    assert "报告：" in capsys.readouterr().out  # the course's language
    assert not (out / "export").exists()


def _results(out: Path) -> list[SubmissionResult]:
    return [SubmissionResult.from_json(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted((out / "results").glob("*/*.json"))]


def test_a_page_that_cannot_be_rendered_is_left_out_and_said(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never an error page handed out in its place; the student's other pages still go in."""
    import grader.publish.handout as handout

    real = handout.render_submission

    def broken_for_pooling(result: SubmissionResult, *args: object, **kwargs: object) -> str:
        if result.assignment == "02-pooling":
            raise RuntimeError("a template bug")
        return real(result, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(handout, "render_submission", broken_for_pooling)
    zips = write_student_zips(out, _results(out), CONFIG, "en")
    (note,) = zips.notes
    assert note.text("en") == ("zhangsan/02-pooling: the page could not be rendered, so it is left out "
                               "(RuntimeError: a template bug)")
    assert sorted(unpacked(out / "export/students/zhangsan.zip")) == ["zhangsan/01-convolution.html"]


def test_a_bad_language_writes_nothing(out: Path) -> None:
    from grader.publish.report import ReportError

    with pytest.raises(ReportError, match="received 'fr'"):
        write_student_zips(out, _results(out), CONFIG, "fr")
    assert not (out / "export").exists()


def test_an_earlier_runs_zip_of_a_student_gone_is_removed(out: Path) -> None:
    old = out / "export/students/old_name.zip"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an earlier run's pages")
    write_student_zips(out, _results(out), CONFIG, "en")
    assert sorted(p.name for p in old.parent.iterdir()) == ["lisi.zip", "zhangsan.zip"]
