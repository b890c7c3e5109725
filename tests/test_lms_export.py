"""Canvas's and Moodle's imports of the exports: each file is read back by the importer's own rules
(tests/lms_files.py, transcribed from Canvas's and Moodle's code) and checked column by column
against the documented layout, for students known by Canvas, by Moodle, and by folder name only."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from course_facts import CONFIG, max_score
from grader.classroom.gradebook import write_result
from grader.cli import main
from grader.judge.results import GraderError, Late, StudentRecord, Submitted, SubmissionResult
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.export import write_export
from lms_files import (CanvasUser, canvas_import, moodle_worksheet_import, moodle_zip_entry,
                       moodle_zip_entry_before_4_1)

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc)
HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'  # a display name Excel would run as a formula
# Canvas's importer: "Student", "ID", then SIS User ID + SIS Login ID as identity columns, "Section" last.
CANVAS_DOCUMENTED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
# Moodle's "Download grading worksheet" columns (mod/assign gradingtable.php, English strings).
MOODLE_DOCUMENTED = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                     "Grade can be changed", "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
TITLE = {"01-convolution": "卷积 Convolution", "02-pooling": "池化 Pooling"}
FULL = max_score("01-convolution")


def graded(student: str, assignment: str, score: float, identity: StudentRecord | None = None, *,
           late: float = 0.0, error: bool = False) -> SubmissionResult:
    """A result scoring ``score`` of the assignment's full marks, in one group (no kernel needed)."""
    full = max_score(assignment)
    tests = (GroupResult("q", "hidden", False, score, full, 1, int(score == full)),)
    return SubmissionResult(
        student, assignment, "a" * 64, "0.1.0", 1.0, tests, identity=identity,
        submitted=Submitted("2026-11-30T23:00:00+08:00", "canvas_name") if identity else None,
        late=Late("2026-11-30T00:00:00+08:00", "2026-11-30T23:00:00+08:00", "canvas_name", 82800, late, "10/day")
        if late else None,
        grader_error=GraderError("compare", "boom") if error else None)


def canvas(key: str, name: str, canvas_id: str, sis: str = "", login: str = "") -> StudentRecord:
    return StudentRecord(key, name, f"{key}@example.edu", "canvas", canvas_id, sis, login)


def moodle(key: str, name: str, number: str) -> StudentRecord:
    return StudentRecord(key, name, f"{key}@example.edu", "moodle", number)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


# --- Canvas ----------------------------------------------------------------------------------------------


@pytest.fixture
def canvas_class(tmp_path: Path) -> Path:
    """A Canvas download graded: two students with Canvas ids (one Chinese, one late), one known by
    SIS id only, one plain folder, and a display name that looks like a formula."""
    for result in (
        graded("zhangsan_1001", "01-convolution", 80, canvas("zhangsan_1001", "张三", "1001", "S-1", "zs")),
        graded("zhangsan_1001", "02-pooling", 90, canvas("zhangsan_1001", "张三", "1001", "S-1", "zs")),
        graded("lihua_1002", "01-convolution", 100, canvas("lihua_1002", "李华", "1002"), late=10),
        graded("sis_only", "01-convolution", 60, StudentRecord("sis_only", "Sis Only", lms="roster", sis_id="S-3")),
        graded("wang_fang", "01-convolution", 70),
        graded("formula", "02-pooling", 50, canvas("formula", HYPERLINK, "")),
    ):
        write_result(tmp_path, result)
    return tmp_path


COURSE = [CanvasUser(1001, "张三", sis_user_id="S-1", login_id="zs"), CanvasUser(1002, "李华"),
          CanvasUser(1003, "Sis Only", sis_user_id="S-3"), CanvasUser(1004, "Wang Fang", login_id="wf"),
          CanvasUser(1005, HYPERLINK)]


def test_canvas_csv_has_the_documented_columns_and_imports_by_canvas_id(canvas_class: Path) -> None:
    exported = write_export(canvas_class, "canvas", CONFIG)
    (path,) = exported.paths
    data = path.read_bytes()
    header, points, *rows = rows_of(data)
    for position, column in enumerate(CANVAS_DOCUMENTED):  # exactly these, in this order, first
        assert header[position] == column, position
    assert header[5:] == [TITLE["01-convolution"], TITLE["02-pooling"]]
    assert points == ["Points Possible", "", "", "", "", f"{FULL:g}", f"{max_score('02-pooling'):g}"]
    assert all(len(row) == len(header) for row in rows)
    by_key = {row[3] or row[0]: dict(zip(header, row)) for row in rows}
    assert by_key["zs"]["ID"] == "1001" and by_key["zs"]["SIS User ID"] == "S-1" and by_key["zs"]["Student"] == "张三"
    assert by_key["李华"]["ID"] == "1002" and by_key["李华"]["SIS Login ID"] == ""

    imported = canvas_import(data, COURSE)
    assert imported.grades[1001] == {TITLE["01-convolution"]: "80", TITLE["02-pooling"]: "90"}
    assert imported.grades[1002][TITLE["01-convolution"]] == f"{100 - 10:g}"  # final_score: raw less the penalty
    assert imported.grades[1003][TITLE["01-convolution"]] == "60"  # by SIS User ID
    assert imported.points == {TITLE["01-convolution"]: f"{FULL:g}", TITLE["02-pooling"]: f"{max_score('02-pooling'):g}"}
    assert imported.assignment_ids == {TITLE["01-convolution"]: None, TITLE["02-pooling"]: None}  # by title


def test_canvas_rows_without_canvas_id_are_written_and_named(canvas_class: Path) -> None:
    exported = write_export(canvas_class, "canvas", CONFIG, lang="en")
    rows = {row[3] or row[0]: row for row in rows_of(exported.paths[0].read_bytes())[2:]}
    assert rows["wang_fang"][:5] == ["wang_fang", "", "", "wang_fang", ""]  # the folder name as the login guess
    assert rows["wang_fang"][5] == "70"
    imported = canvas_import(exported.paths[0].read_bytes(), COURSE)
    assert "wang_fang" in imported.not_found  # its folder is not its login: Canvas finds nobody
    (note,) = exported.notes
    assert note.code == "export.canvas_by_name" and note.params["count"] == 2
    assert note.params["students"] == "formula, wang_fang"  # not the SIS-only student: Canvas finds them
    assert "wang_fang" in note.text("zh") and "wang_fang" in note.text("en")


def test_a_formula_looking_name_stays_text(canvas_class: Path) -> None:
    data = write_export(canvas_class, "canvas", CONFIG).paths[0].read_bytes()
    rows = rows_of(data)
    assert [row[0] for row in rows if "HYPERLINK" in row[0]] == [f"'{HYPERLINK}"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_grader_error_leaves_the_canvas_cell_empty(tmp_path: Path) -> None:
    write_result(tmp_path, graded("x", "01-convolution", 0, canvas("x", "X", "7"), error=True))
    data = write_export(tmp_path, "canvas", CONFIG).paths[0].read_bytes()
    assert rows_of(data)[2] == ["X", "7", "", "", "", ""]  # empty: Canvas keeps its grade, never a 0


# --- Moodle ----------------------------------------------------------------------------------------------


@pytest.fixture
def moodle_class(tmp_path: Path) -> Path:
    """A Moodle download graded: participant numbers per assignment, a Chinese name, a name with
    underscores, a late one, one with extra credit above the maximum, and one with no number."""
    for result in (
        graded("Li Hua_4412", "01-convolution", 90, moodle("Li Hua_4412", "李华", "4412"), late=5),
        graded("Li Hua_4412", "02-pooling", 100, moodle("Li Hua_4412", "李华", "9001")),  # its own number there
        graded("Anna_Lee_4413", "01-convolution", 70, moodle("Anna_Lee_4413", "Anna_Lee", "4413")),
        graded("bonus_4414", "01-convolution", FULL + 10, moodle("bonus_4414", "Bo Nus", "4414")),
        graded("HYPER", "01-convolution", 40, moodle("HYPER", HYPERLINK, "4415")),
        graded("wang_fang", "01-convolution", 60),
    ):
        write_result(tmp_path, result)
    return tmp_path


def test_moodle_worksheet_has_the_download_columns_and_imports(moodle_class: Path) -> None:
    exported = write_export(moodle_class, "moodle", CONFIG, lang="en", now=NOW)
    paths = {p.relative_to(moodle_class).as_posix() for p in exported.paths}
    assert paths == {f"export/moodle/{a}/{f}" for a in ("01-convolution", "02-pooling")
                     for f in ("grading_worksheet.csv", "feedback_files.zip")}
    data = (moodle_class / "export/moodle/01-convolution/grading_worksheet.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Moodle trims it; Excel needs it for 李华
    header, *rows = rows_of(data)
    for position, column in enumerate(MOODLE_DOCUMENTED):
        assert header[position] == column, position
    assert len(header) == len(MOODLE_DOCUMENTED)
    by_id = {row[0]: dict(zip(header, row)) for row in rows}
    assert by_id["Participant 4412"]["Full name"] == "李华" and by_id["Participant 4412"]["Grade"] == "85"
    assert by_id["Participant 4412"]["Maximum Grade"] == f"{FULL:g}"
    assert by_id["Participant 4412"]["Last modified (grade)"] == "2026-12-01T17:00:00+00:00"
    assert by_id["Participant 4412"]["Last modified (submission)"] == "2026-11-30T23:00:00+08:00"
    assert by_id["Participant 4415"]["Full name"] == f"'{HYPERLINK}"
    assert by_id[""]["Full name"] == "wang_fang" and by_id[""]["Last modified (submission)"] == "-"  # not known

    taken = moodle_worksheet_import(data, {"4412", "4413", "4414", "4415"}, FULL)
    assert taken.grades == {"4412": 85.0, "4413": 70.0, "4415": 40.0}  # 4414's is above the maximum: skipped
    assert taken.comments["4412"] == "Score 85 / 100: 90 less a late penalty of 5. The detailed report is the " \
                                     "feedback file 01-convolution.html."
    assert "" in taken.skipped and "Participant 4414" in taken.skipped  # wang_fang's row has no Identifier
    pooling = (moodle_class / "export/moodle/02-pooling/grading_worksheet.csv").read_bytes()
    assert moodle_worksheet_import(pooling, {"9001"}, max_score("02-pooling")).grades == {"9001": 100.0}


def test_moodle_lists_who_it_cannot_match_and_what_it_would_refuse(moodle_class: Path) -> None:
    notes = {n.code: n for n in write_export(moodle_class, "moodle", CONFIG, now=NOW).notes}
    assert notes["export.moodle_unmatched"].params == {"assignment": "01-convolution", "count": 1,
                                                       "students": "wang_fang"}
    assert notes["export.moodle_over_max"].params["students"] == "bonus_4414"
    assert set(notes) == {"export.moodle_unmatched", "export.moodle_over_max"}


def test_moodle_feedback_zip_names_follow_the_download(moodle_class: Path) -> None:
    write_export(moodle_class, "moodle", CONFIG, now=NOW)
    archive = zipfile.ZipFile(moodle_class / "export/moodle/01-convolution/feedback_files.zip")
    names = sorted(archive.namelist())
    assert names == sorted([
        "李华_4412_assignsubmission_file_/01-convolution.html",
        "Anna Lee_4413_assignsubmission_file_/01-convolution.html",  # Moodle's download has no "_" in the name
        "Bo Nus_4414_assignsubmission_file_/01-convolution.html",
        "=HYPERLINK(httpevil.examplex,click)_4415_assignsubmission_file_/01-convolution.html",
    ])  # wang_fang has no participant number: no page Moodle could attach
    participants = {"4412", "4413", "4414", "4415"}
    for read in (moodle_zip_entry, moodle_zip_entry_before_4_1):  # both importers attach every page
        attached = {read(name, participants) for name in names}
        assert {number for number, _ in attached} == participants, read.__name__
        assert {file.strip("/") for _, file in attached} == {"01-convolution.html"}
    chinese = archive.getinfo("李华_4412_assignsubmission_file_/01-convolution.html")
    assert chinese.flag_bits & 0x800  # the name is UTF-8, as the zip says
    page = archive.read(chinese).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Li Hua_4412" in page


def test_moodle_export_of_a_chinese_course_comments_in_chinese(moodle_class: Path) -> None:
    write_export(moodle_class, "moodle", CONFIG, lang="zh", now=NOW)
    rows = rows_of((moodle_class / "export/moodle/02-pooling/grading_worksheet.csv").read_bytes())
    assert rows[1][-1] == f"得分 {max_score('02-pooling'):g} / {max_score('02-pooling'):g}。详细报告见反馈文件 02-pooling.html。"


# --- the command ---------------------------------------------------------------------------------------


def test_grader_export_says_which_rows_canvas_cannot_match(canvas_class: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--course", str(ROOT / "course.toml"), "export", str(canvas_class), "--format", "canvas",
                 "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    assert f"1 file(s) written under {canvas_class / 'export'}" in out
    assert "Grades → Import" in out
    assert "2 row(s) of canvas.csv have no Canvas ID" in err and "formula, wang_fang" in err


def test_grader_export_moodle_in_chinese(moodle_class: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--course", str(ROOT / "course.toml"), "export", str(moodle_class), "--format", "moodle",
                 "--lang", "zh"]) == 0
    out, err = capsys.readouterr()
    assert "4 个文件已写入" in out and "上传评分表" in out
    assert "01-convolution：1 名学生没有 Moodle 参与者编号" in err


def test_a_students_canvas_id_from_any_of_their_results(tmp_path: Path) -> None:
    """A notebook handed in by hand (no record) and one from the Canvas download: one row, with the id."""
    write_result(tmp_path, graded("zs", "01-convolution", 50))
    write_result(tmp_path, graded("zs", "02-pooling", 60, canvas("zs", "张三", "1001")))
    exported = write_export(tmp_path, "canvas", CONFIG)
    assert rows_of(exported.paths[0].read_bytes())[2] == ["张三", "1001", "", "", "", "50", "60"]
    assert exported.notes == ()
    assert canvas_import(exported.paths[0].read_bytes(), COURSE).grades[1001] == {
        TITLE["01-convolution"]: "50", TITLE["02-pooling"]: "60"}


def test_a_long_or_strange_name_still_makes_a_folder_moodle_reads(tmp_path: Path) -> None:
    name = "\u202e" + "长" * 300 + "/../_x"  # a right-to-left override, a path, an underscore, 900 bytes
    write_result(tmp_path, graded("k", "01-convolution", 10, moodle("k", name, "77")))
    write_export(tmp_path, "moodle", CONFIG, now=NOW)
    (entry,) = zipfile.ZipFile(tmp_path / "export/moodle/01-convolution/feedback_files.zip").namelist()
    folder = entry.split("/")[0]
    assert folder == "长" * 60 + "_77_assignsubmission_file_" and len(folder.encode()) < 255
    assert moodle_zip_entry(entry, {"77"}) == ("77", "/01-convolution.html")
    assert moodle_zip_entry_before_4_1(entry, {"77"}) == ("77", "/01-convolution.html")
