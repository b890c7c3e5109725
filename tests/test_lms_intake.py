"""LMS downloads: who each notebook is from and when, per layout (tests/lms_layouts.py writes them),
the roster, the course's own names for its assignments, ambiguities, and hostile files beside the
notebooks. Only the last test runs a kernel: a Canvas download graded end to end."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pytest

from grader.classroom.plan import assignment_names, plan_class
from grader.course.config import ConfigError, CourseConfig, load_config
from grader.intake import lms
from grader.intake.roster import load_roster
from grader.intake.submissions import Unrecognised, find_submissions

import lms_layouts as layouts
from lms_layouts import find
from lms_layouts import ASSIGNMENT

ROOT = Path(__file__).resolve().parent.parent


def course(folder: Path, *, roster: str | None = None, pooling_aliases: str = "") -> CourseConfig:
    """The repository's course.toml in ``folder``, with a ``[roster]`` and aliases for 02-pooling."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    if pooling_aliases:
        text = text.replace('title = "池化 Pooling"', f'title = "池化 Pooling"\naliases = {pooling_aliases}')
    if roster is not None:
        text += f'\n[roster]\nfile = "{roster}"\n'
    (folder / "course.toml").write_text(text, encoding="utf-8")
    return load_config(folder / "course.toml", environ={})


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, ...]]:
    return assignment_names(course(tmp_path_factory.mktemp("course")))


def reasons(unrecognised: list[Unrecognised]) -> dict[str, str]:
    return {u.path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: u.reason for u in unrecognised}


def local(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


# --- Canvas ------------------------------------------------------------------------------------


def test_canvas_keys_are_name_and_user_id_and_the_resubmission_is_kept(names, tmp_path: Path) -> None:
    subs, unrecognised = find(layouts.canvas_download(tmp_path), names, tmp_path)
    assert sorted(subs) == ["lihua_23456", "wangfang_12345", "张伟_34567"]  # no attachment id in a key
    li = subs["lihua_23456"]
    assert li.source == "lihua_late_23456_678903_02-pooling-1.ipynb" and li.assignment == ASSIGNMENT
    assert (li.identity.lms, li.identity.lms_id, li.identity.name) == ("canvas", "23456", "lihua")
    assert (li.submitted.late, li.submitted.attempt) == (True, 1)
    assert subs["wangfang_12345"].submitted.late is False and subs["wangfang_12345"].submitted.attempt == 0
    # Canvas's names carry no time: the file's is recorded, and the source says so
    assert subs["wangfang_12345"].submitted.at == local(layouts.CANVAS_MTIME)
    assert subs["wangfang_12345"].submitted.source == "canvas_name+file_mtime"
    assert subs["张伟_34567"].identity.name == "张伟"  # 池化作业.ipynb: the Chinese title with 作业 after it
    why = reasons(unrecognised)
    assert "later attempt" in why["lihua_late_23456_678902_02-pooling.ipynb"]
    assert "cannot tell the assignment" in why["zhaolei_45678_678905_homework3.ipynb"]
    assert len(unrecognised) == 2


def test_forcing_the_assignment_takes_a_canvas_file_of_any_name(names, tmp_path: Path) -> None:
    found, _ = find_submissions(layouts.canvas_download(tmp_path), names, extract_to=tmp_path / "x",
                                force_assignment=ASSIGNMENT)
    assert {s.student for s in found} == {"lihua_23456", "wangfang_12345", "张伟_34567", "zhaolei_45678"}


def test_a_zipped_canvas_download_takes_the_entry_time_and_says_so(names, tmp_path: Path) -> None:
    subs, _ = find(layouts.canvas_download(tmp_path, zipped=True), names, tmp_path)
    assert sorted(subs) == ["lihua_23456", "wangfang_12345", "张伟_34567"]
    assert {s.submitted.source for s in subs.values()} == {"canvas_name+zip_entry"}
    assert subs["wangfang_12345"].source == "cnn101-pooling submissions.zip:wangfang_12345_678901_02-pooling.ipynb"


def test_a_canvas_user_id_seen_with_two_names_is_not_guessed(names, tmp_path: Path) -> None:
    folder = tmp_path / "canvas"
    for name in ("wangfang_12345_678901_02-pooling.ipynb", "fangwang_12345_678999_02-pooling.ipynb"):
        layouts.copy_notebook(layouts.CORRECT, folder / name)
    subs, unrecognised = find(folder, names, tmp_path)
    assert subs == {}
    assert [u.message.code for u in unrecognised] == ["intake.lms_id_two_names"] * 2
    assert "12345" in unrecognised[0].reason and "fangwang, wangfang" in unrecognised[0].reason


def test_the_roster_gives_keys_names_and_who_submitted_nothing(tmp_path: Path) -> None:
    config = course(tmp_path / "course", roster="roster.csv")
    layouts.roster_csv(tmp_path / "course")
    with plan_class(layouts.canvas_download(tmp_path), config) as plan:
        subs = {s.student: s for s in plan.gradable}
        assert sorted(subs) == ["li_hua", "wang_fang", "zhang_wei"]
        wang = subs["wang_fang"].identity
        assert (wang.name, wang.email, wang.lms, wang.lms_id, wang.sis_id) == (
            "王芳", "wang.fang@example.edu", "canvas", "12345", "S12345")
        assert subs["li_hua"].submitted.late is True
        # zhao_lei handed in a notebook for no assignment; sun_mei nothing at all
        assert [r.key for r in plan.missing] == ["zhao_lei", "sun_mei"]
        assert plan.missing[1].name == "孙梅" and plan.roster_problems == ()


def test_a_plain_folder_takes_the_rosters_canvas_id(tmp_path: Path) -> None:
    """No LMS download, only STUDENT/ASSIGNMENT.ipynb folders: the Canvas export still needs the
    student's Canvas id, and the roster is where it comes from."""
    config = course(tmp_path / "course", roster="roster.csv")
    layouts.roster_csv(tmp_path / "course")
    layouts.copy_notebook(layouts.CORRECT, tmp_path / "class" / "wang_fang" / f"{ASSIGNMENT}.ipynb")
    layouts.copy_notebook(layouts.CORRECT, tmp_path / "class" / "nobody" / f"{ASSIGNMENT}.ipynb")
    with plan_class(tmp_path / "class", config) as plan:
        records = {s.student: s.identity for s in plan.gradable}
    wang = records["wang_fang"]
    assert (wang.lms, wang.lms_id, wang.sis_id, wang.name) == ("canvas", "12345", "S12345", "王芳")
    assert getattr(records["nobody"], "lms_id", "") == ""  # not on the roster: nothing invented


def test_downloads_unpacked_side_by_side_are_each_a_download(names, tmp_path: Path) -> None:
    """Two LMS downloads in one folder, as unpacked: neither folder is taken for a student."""
    layouts.canvas_download(tmp_path / "class")
    layouts.moodle_download(tmp_path / "class")
    layouts.canvas_download(tmp_path / "zips", zipped=True)
    (tmp_path / "zips" / "canvas").rename(tmp_path / "unzipped-copy")  # only the zip stays in zips/
    subs, _ = find(tmp_path / "class", names, tmp_path)
    assert set(subs) == {"Wang Fang", "lihua_23456", "wangfang_12345", "李华", "张伟_34567"}
    subs, _ = find(tmp_path / "zips", names, tmp_path)
    assert sorted(subs) == ["lihua_23456", "wangfang_12345", "张伟_34567"]


# --- Moodle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("folders", [False, True], ids=["flat", "folder-per-student"])
def test_moodle_names_with_spaces_and_chinese_and_the_worksheet_times(names, tmp_path: Path, shanghai: None,
                                                                     folders: bool) -> None:
    subs, unrecognised = find(layouts.moodle_download(tmp_path, folders=folders), names, tmp_path)
    assert sorted(subs) == ["Wang Fang", "李华"]
    wang = subs["Wang Fang"]
    assert (wang.identity.lms, wang.identity.lms_id, wang.identity.email) == ("moodle", "4412", "wang.fang@example.edu")
    # the worksheet's times have no zone: this machine's (+08:00 here)
    assert wang.submitted.at == "2026-09-30T14:14:00+08:00" and wang.submitted.source == "moodle_worksheet"
    assert subs["李华"].submitted.at == "2026-10-01T23:05:00+08:00"
    assert subs["李华"].path.name == "02-pooling.ipynb" if folders else subs["李华"].source.endswith("file_02-pooling.ipynb")
    why = {u.message.code for u in unrecognised}
    assert why == {"intake.duplicate", "intake.unknown_assignment"}  # 李华's older copy; Zhao Lei's lab report


def test_moodle_without_its_worksheet_falls_back_to_the_file_time(names, tmp_path: Path) -> None:
    subs, _ = find(layouts.moodle_download(tmp_path, worksheet=False), names, tmp_path)
    assert subs["Wang Fang"].submitted.source == "moodle_name+file_mtime"
    assert subs["Wang Fang"].submitted.at == local(layouts.MOODLE_MTIME)
    assert subs["Wang Fang"].identity.email == ""


def test_two_moodle_participants_with_one_name_get_their_ids_in_their_keys(names, tmp_path: Path) -> None:
    folder = tmp_path / "moodle"
    for pid in ("4412", "4499"):
        layouts.copy_notebook(layouts.CORRECT, folder / "pooling" / f"Wang Fang_{pid}_assignsubmission_file_02-pooling.ipynb")
    # Moodle's participant ids are per assignment: another id in another assignment is the same student
    layouts.copy_notebook(layouts.CORRECT, folder / "convolution" / "Li Hua_5512_assignsubmission_file_01-convolution.ipynb")
    layouts.copy_notebook(layouts.CORRECT, folder / "pooling" / "Li Hua_4413_assignsubmission_file_02-pooling.ipynb")
    found, _ = find_submissions(folder, names, extract_to=tmp_path / "x")
    assert sorted((s.student, s.assignment) for s in found) == [
        ("Li Hua", "01-convolution"), ("Li Hua", "02-pooling"), ("Wang Fang_4412", "02-pooling"),
        ("Wang Fang_4499", "02-pooling")]


# --- Blackboard --------------------------------------------------------------------------------


def test_blackboard_keeps_the_latest_attempt_with_the_receipts_name_and_time(names, tmp_path: Path) -> None:
    subs, unrecognised = find(layouts.blackboard_download(tmp_path), names, tmp_path)
    assert sorted(subs) == ["s1234567", "s7654321"]
    chen = subs["s1234567"]
    user, name, _, stamp = layouts.BLACKBOARD_CHEN_AGAIN
    assert chen.source == f"Pooling_{user}_attempt_{stamp}_02-pooling.ipynb"
    assert (chen.identity.name, chen.identity.lms, chen.identity.lms_id) == (name, "blackboard", user)
    assert chen.submitted.at == "2026-10-02T09:00:00-04:00" and chen.submitted.source == "blackboard_receipt"
    assert chen.submitted.attempt == 2
    assert subs["s7654321"].identity.name == "周迅"
    assert [u.message.code for u in unrecognised] == ["intake.duplicate"]
    assert "handed in later" in unrecognised[0].reason


@pytest.mark.parametrize("junk", [b"\x00\xff\xfe binary \x89PNG\r\n" * 50, b"Name: " + b"x" * (10 << 20)],
                         ids=["binary", "10MB-line"])
def test_a_junk_receipt_is_named_and_the_time_comes_from_the_file_name(names, tmp_path: Path, junk: bytes) -> None:
    subs, unrecognised = find(layouts.blackboard_download(tmp_path, junk_receipt=junk), names, tmp_path)
    assert sorted(subs) == ["s1234567", "s7654321"]  # nothing else lost
    zhou = subs["s7654321"]
    assert zhou.submitted.source == "blackboard_name_local_zone"
    assert zhou.submitted.at == local(datetime(2026, 10, 1, 23, 59, 59).timestamp())
    receipt = [u for u in unrecognised if u.message.code == "intake.receipt_ignored"]
    assert [u.path for u in receipt] == [f"Pooling_s7654321_attempt_{layouts.BLACKBOARD_ZHOU[3]}.txt"]


def test_a_blackboard_username_with_an_underscore_is_read_from_the_receipt(names, tmp_path: Path) -> None:
    folder = tmp_path / "bb"
    stamp, original = "2026-10-01-14-22-05", "02-pooling.ipynb"
    layouts.copy_notebook(layouts.CORRECT, folder / f"Pooling_john_doe_attempt_{stamp}_{original}")
    (folder / f"Pooling_john_doe_attempt_{stamp}.txt").write_text(
        layouts.blackboard_receipt("john_doe", "John Doe", "Thursday, October 1, 2026 2:22:05 PM EDT", stamp, original),
        encoding="utf-8")
    subs, unrecognised = find(folder, names, tmp_path)
    assert list(subs) == ["john_doe"] and subs["john_doe"].identity.name == "John Doe" and unrecognised == []


def test_a_blackboard_file_named_for_another_assignment_is_not_guessed(names, tmp_path: Path) -> None:
    folder = tmp_path / "bb"
    layouts.copy_notebook(layouts.CORRECT, folder / "Pooling_s1234567_attempt_2026-10-01-14-22-05_01-convolution.ipynb")
    subs, unrecognised = find(folder, names, tmp_path)
    assert subs == {}
    assert unrecognised[0].message.code == "intake.lms_assignment_conflict"
    assert "01-convolution" in unrecognised[0].reason and "Pooling" in unrecognised[0].reason


# --- Gradescope --------------------------------------------------------------------------------


def test_gradescope_metadata_gives_each_submitter_a_record_and_the_time(names, tmp_path: Path) -> None:
    subs, unrecognised = find(layouts.gradescope_export(tmp_path), names, tmp_path)
    name, sid, email, _ = layouts.GRADESCOPE_SUN
    assert sorted(subs) == [sid, "3032", "3033"] and unrecognised == []
    sun = subs[sid]
    assert (sun.identity.name, sun.identity.email, sun.identity.sis_id, sun.identity.lms) == (
        name, email, sid, "gradescope")
    assert sun.submitted.at == "2026-10-01T10:15:42-07:00" and sun.submitted.source == "gradescope_metadata"
    # a pair's submission is graded for each of them, at the pair's time
    assert subs["3032"].source == subs["3033"].source == "assignment_999_export/submission_222/02-pooling.ipynb"
    assert subs["3033"].submitted.at == "2026-10-02T08:00:00+08:00"


@pytest.mark.parametrize(("metadata", "why"), [
    ("[" * 100_000 + "]" * 100_000, "readable YAML"),
    ("- submission_111\n- submission_222\n", "not a mapping"),
    ("submission_111: !!python/object/apply:os.system ['true']\n", "readable YAML"),
    (b"\xff\xfe\x00junk" * 10, "not a mapping"),
], ids=["nested", "a-list", "python-tag", "binary"])
def test_hostile_gradescope_metadata_is_named_and_the_folders_still_graded(names, tmp_path: Path, metadata,
                                                                        why: str) -> None:
    subs, unrecognised = find(layouts.gradescope_export(tmp_path, metadata=metadata), names, tmp_path)
    ignored = [u for u in unrecognised if u.message.code == "intake.metadata_ignored"]
    assert [u.path for u in ignored] == ["assignment_999_export/submission_metadata.yml"]
    assert why in ignored[0].reason
    assert set(subs) == {"submission_111", "submission_222"}  # under their folder names


def test_huge_gradescope_metadata_is_not_read(names, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lms, "MAX_METADATA_BYTES", 1000)
    subs, unrecognised = find(layouts.gradescope_export(tmp_path, metadata="a: b\n" * 1000), names, tmp_path)
    assert "more than the limit of 1000" in unrecognised[0].reason and len(subs) == 2


# --- nbgrader ----------------------------------------------------------------------------------


def test_nbgrader_submitted_and_inbound_with_their_timestamps(names, tmp_path: Path) -> None:
    subs, unrecognised = find(layouts.nbgrader_exchange(tmp_path), names, tmp_path)
    assert sorted(subs) == ["alice", "bob"]
    alice = subs["alice"]
    assert (alice.identity.lms, alice.identity.lms_id) == ("nbgrader", "alice")
    assert alice.submitted.at == "2026-10-01T14:22:05+00:00" and alice.submitted.source == "nbgrader_timestamp"
    bob = subs["bob"]
    assert bob.submitted.at == "2026-10-02T09:30:00+00:00" and "x9Yz" in bob.source
    assert [u.message.code for u in unrecognised] == ["intake.duplicate"] and "Ab3d" in unrecognised[0].path


# --- times as LMSs write them ------------------------------------------------------------------


@pytest.mark.parametrize(("written", "expected"), [
    ("Thursday, December 12, 2024 1:22:26 PM EST", "2024-12-12T13:22:26-05:00"),  # Blackboard, US
    ("Monday, 27 April 2020 14:22:05 o'clock BST", "2020-04-27T14:22:05+01:00"),  # Blackboard, UK
    ("2026-10-01 14:22:05.123456 UTC", "2026-10-01T14:22:05+00:00"),  # nbgrader's timestamp.txt
    ("2019-09-24 16:01:09.212376000 -07:00", "2019-09-24T16:01:09-07:00"),  # Gradescope's created_at
    ("Wednesday, 10 June 2026, 2:14 PM", "2026-06-10T14:14:00+08:00"),  # Moodle: no zone, this machine's
    ("2026年06月10日 星期三 14:14", "2026-06-10T14:14:00+08:00"),  # Moodle in Chinese
    ("2026-10-01 14:22:05.000000 CST", "2026-10-01T14:22:05+08:00"),  # CST is this machine's zone: China's
])
def test_times_as_lms_write_them(written: str, expected: str, shanghai: None) -> None:
    from grader.intake.times import iso, parse_time

    parsed = parse_time(written)
    assert parsed is not None and iso(parsed.at) == expected


def test_a_zone_abbreviation_that_names_two_offsets_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.intake.times import parse_time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        parsed = parse_time("2026-10-01 14:22:05 CST")  # China or the US centre: read in this machine's zone
        assert parsed is not None and parsed.assumed_local and parsed.at.utcoffset().total_seconds() == 0
        assert parse_time("not a time") is None and parse_time("2026-02-30 10:00") is None
    finally:
        monkeypatch.undo()
        time.tzset()


# --- the course's names for its assignments ----------------------------------------------------


def test_chinese_titles_and_course_aliases_name_assignments(tmp_path: Path) -> None:
    config = course(tmp_path / "course", pooling_aliases='["lab2", "池化实验"]')
    folder = tmp_path / "class"
    for name in ("xuesheng_卷积作业.ipynb", "zhang_lab2.ipynb", "王芳_池化实验.ipynb", "wang_卷积池化.ipynb"):
        layouts.copy_notebook(layouts.CORRECT, folder / name)
    subs, unrecognised = find(folder, assignment_names(config), tmp_path)
    assert {(s.student, s.assignment) for s in subs.values()} == {
        ("xuesheng", "01-convolution"), ("zhang", "02-pooling"), ("王芳", "02-pooling")}
    assert [u.message.code for u in unrecognised] == ["intake.ambiguous_assignment"]  # 卷积 and 池化 at once
    assert "01-convolution, 02-pooling" in unrecognised[0].reason


def test_course_toml_checks_aliases_and_the_roster_file(tmp_path: Path) -> None:
    config = course(tmp_path / "ok", roster="lists/roster.csv", pooling_aliases='["lab2"]')
    assert config.roster == (tmp_path / "ok" / "lists" / "roster.csv").resolve()
    assert config.assignments["02-pooling"].aliases == ("lab2",)
    with pytest.raises(ConfigError, match=r"aliases\] must be a list of names.*'lab2'"):
        course(tmp_path / "bad", pooling_aliases='"lab2"')
    toml = tmp_path / "ok" / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('file = "lists/roster.csv"', "file = 3"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[roster.file\] must be str, received 3"):
        load_config(toml, environ={})


# --- hostile rosters ---------------------------------------------------------------------------


def test_a_hostile_roster_names_its_file_and_line_and_keeps_every_good_row(tmp_path: Path) -> None:
    extra = ('evil,"=HYPERLINK(""http://x"",""hi"")",e@x.org,99999,,\r\n'  # a formula cell
             "wang_fang,王芳二,,11111,,\r\n"  # a second row for wang_fang
             "twin,李华,,23456,,\r\n"  # li_hua's Canvas id again
             ",nobody,,,,\r\n")  # no key
    roster = load_roster(layouts.roster_csv(tmp_path, extra_rows=extra))
    codes = [(p.code, p.params["line"]) for p in roster.problems]
    assert codes == [("intake.roster.formula", 7), ("intake.roster.duplicate_key", 8), ("intake.roster.no_key", 10),
                     ("intake.roster.shared_id", 9)]
    assert all(p.params["file"] == "roster.csv" for p in roster.problems)
    assert [e.student for e in roster.entries] == ["wang_fang", "li_hua", "zhang_wei", "zhao_lei", "sun_mei", "evil",
                                                   "twin"]
    assert roster.entries[5].name == "" and roster.entries[5].canvas_id == "99999"  # only the formula is dropped
    assert roster.entries[1].canvas_id == "" == roster.entries[6].canvas_id  # a shared id identifies nobody
    assert "roster.csv" in roster.problems[0].text("zh") and "roster.csv" in roster.problems[0].text("en")


def test_a_gb18030_roster_and_one_without_a_student_column(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("student,name\r\nwang_fang,王芳\r\n".encode("gb18030"))
    assert [(e.student, e.name) for e in load_roster(path).entries] == [("wang_fang", "王芳")]
    path.write_text("id,name\nwang_fang,王芳\n", encoding="utf-8")
    bad = load_roster(path)
    assert bad.entries == () and bad.problems[0].code == "intake.roster.no_student_column"
    missing = load_roster(tmp_path / "nope.csv")
    assert missing.problems[0].code == "intake.roster.unreadable" and "nope.csv" in missing.problems[0].text("en")


def test_a_name_matching_two_roster_students_is_listed_not_guessed(names, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("student,name\nwang_fang_1,王芳\nwang_fang_2,王芳\nli_hua,李华\n", encoding="utf-8")
    folder = tmp_path / "class"
    layouts.copy_notebook(layouts.CORRECT, folder / "王芳" / "02-pooling.ipynb")
    layouts.copy_notebook(layouts.CORRECT, folder / "李华" / "02-pooling.ipynb")
    subs, unrecognised = find(folder, names, tmp_path, load_roster(path))
    assert sorted(subs) == ["li_hua"] and subs["li_hua"].identity.name == "李华"
    assert unrecognised[0].message.code == "intake.roster_ambiguous"
    assert "wang_fang_1, wang_fang_2" in unrecognised[0].reason and "名字" in unrecognised[0].text("zh")


def test_the_class_page_lists_who_submitted_nothing(tmp_path: Path) -> None:
    from grader.judge.results import SubmissionResult
    from grader.publish.report.index import render_index

    config = course(tmp_path / "course", roster="roster.csv")
    layouts.roster_csv(tmp_path / "course")
    results = [SubmissionResult(key, ASSIGNMENT, "", "0", 50.0, (), ()) for key in ("wang_fang", "li_hua")]
    html = render_index(results, config, "en")
    missing = re.search(r'<section id="missing">(.*?)</section>', html, re.S)
    assert missing is not None and "池化 Pooling" in missing.group(1)
    assert all(name in missing.group(1) for name in ("张伟", "赵磊", "孙梅")) and "王芳" not in missing.group(1)


@pytest.mark.parametrize(("lang", "words"), [("en", "submitted nothing"), ("zh", "什么都没交")])
def test_the_run_summary_prints_who_submitted_nothing_and_the_rosters_problems(tmp_path: Path, lang: str,
                                                                             words: str) -> None:
    import io

    from rich.console import Console

    from grader import cli
    from grader.classroom.batch import ClassRun

    roster = load_roster(layouts.roster_csv(tmp_path, extra_rows="wang_fang,again,,,,\r\n"))
    run = ClassRun(missing=list(roster.missing(["wang_fang", "li_hua", "zhang_wei"])),
                   roster_problems=list(roster.problems))
    buffer = io.StringIO()
    cli._print_run(run, tmp_path, Console(file=buffer, width=300), lang)
    printed = buffer.getvalue()
    assert words in printed and "zhao_lei (赵磊)" in printed and "sun_mei (孙梅)" in printed
    assert "roster.csv" in printed and "wang_fang" in printed  # the duplicate row, named by file and line


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_canvas_download_graded_end_to_end_carries_the_identity(tmp_path: Path) -> None:
    from grader.classroom.batch import grade_class
    from grader.classroom.gradebook import load_results
    from grader.classroom.runner import local_runner

    config = course(tmp_path / "course", roster="roster.csv")
    layouts.roster_csv(tmp_path / "course")
    out = tmp_path / "out"
    run = grade_class(layouts.canvas_download(tmp_path, zipped=True), out, config, runner=local_runner(jobs=1))
    results = {r.student: r for r in run.results}
    assert sorted(results) == ["li_hua", "wang_fang", "zhang_wei"]
    assert all(r.grader_error is None for r in results.values())
    li = results["li_hua"]
    assert li.score == li.max_score  # the resubmission (-1, correct) was graded, not the first upload
    assert (li.identity.key, li.identity.lms, li.identity.lms_id, li.identity.name) == ("li_hua", "canvas", "23456", "李华")
    assert li.submitted.late is True and li.submitted.attempt == 1
    assert [r.key for r in run.missing] == ["zhao_lei", "sun_mei"]
    stored = {r.student: r for r in load_results(out)}
    assert stored["wang_fang"].identity == results["wang_fang"].identity  # through the stored JSON
    assert stored["wang_fang"].submitted.source == "canvas_name+zip_entry"
