"""The late policy: the rule (table-driven, expectations worked out by hand), course.toml's keys,
the hand-in time's sources, a cached regrade after a due date moves, hostile times from an LMS,
and the raw score, penalty and final score on every place a score is shown."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest

from grader.classroom.batch import grade_class
from grader.classroom.collect import with_intake
from grader.classroom.gradebook import write_grades_csv
from grader.classroom.late import apply_late, assess, penalty_points
from grader.classroom.runner import local_runner
from grader.course.config import ConfigError, LatePolicy, load_config
from grader.intake.submissions import Submission
from grader.judge.catalog import Message
from grader.judge.results import GraderError, Late, StudentRecord, SubmissionResult, Submitted
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.report.index import render_index
from grader.publish.report.student import render_submission

ROOT = Path(__file__).resolve().parents[1]
CST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time, the course's clock
DUE = dt.datetime(2026, 10, 1, 23, 59, tzinfo=CST)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)  # the grading run: after every hand-in below
TEN_A_DAY = LatePolicy(deduct=10)  # 10 % of the full marks per started day, no cap, no grace

from browser import run_chromium


def at(**after: float) -> str:
    """The hand-in time ``after`` the due date, as an LMS writes it (ISO 8601 with an offset)."""
    return (DUE + dt.timedelta(**after)).isoformat()


# --- the rule ------------------------------------------------------------------------------------

# (case, policy, hand-in, raw score, full marks, expected penalty in points, expected seconds late)
RULE_TABLE = [
    ("on time", TEN_A_DAY, at(hours=-1), 80, 100, None, None),
    ("on the due minute itself", TEN_A_DAY, at(), 80, 100, None, None),
    ("inside the grace period", LatePolicy(deduct=10, grace_minutes=15), at(minutes=10), 80, 100, None, None),
    # 20 min late with 15 min grace: 5 min after the grace, one started day: 10 % of 100
    ("after the grace period", LatePolicy(deduct=10, grace_minutes=15), at(minutes=20), 80, 100, 10, 300),
    ("1 s late", TEN_A_DAY, at(seconds=1), 80, 100, 10, 1),
    ("exactly one day late is one day", TEN_A_DAY, at(days=1), 80, 100, 10, 86_400),
    ("one day and a second is two", TEN_A_DAY, at(days=1, seconds=1), 80, 100, 20, 86_401),
    # 3.5 days: 4 started days, 40 %, capped at 30 % of 100
    ("3.5 days with a cap", LatePolicy(deduct=10, cap=30), at(days=3.5), 80, 100, 30, 302_400),
    # 90 minutes at 2 % an hour: 2 started hours, 4 % of 100
    ("per hour", LatePolicy(deduct=2, per="hour"), at(minutes=90), 80, 100, 4, 5_400),
    # 5 points a day, 2.5 days: 3 days, 15 points (the full marks do not matter)
    ("points per day", LatePolicy(deduct=5, unit="points"), at(days=2.5), 80, 60, 15, 216_000),
    ("points, capped", LatePolicy(deduct=5, unit="points", cap=12), at(days=2.5), 80, 60, 12, 216_000),
    # 16:30 UTC is 00:30 the next day in Beijing: 31 minutes late, one day
    ("a UTC time after a Beijing due date", TEN_A_DAY, "2026-10-01T16:30:00Z", 80, 100, 10, 1_860),
    ("a UTC time before it", TEN_A_DAY, "2026-10-01T15:00:00+00:00", 80, 100, None, None),
    # 10:00 in New York (UTC-4) on Oct 1 is 22:00 in Beijing: on time, although "10:00 Oct 1" < "23:59 Oct 1" too
    ("a New York time, on time", TEN_A_DAY, "2026-10-01T10:00:00-04:00", 80, 100, None, None),
    # 12:30 in New York is 00:30 in Beijing on Oct 2: late although its wall clock says Oct 1
    ("a New York time, late", TEN_A_DAY, "2026-10-01T12:30:00-04:00", 80, 100, 10, 1_860),
    ("never more than the raw score", TEN_A_DAY, at(days=3), 25, 100, 25, 259_200),
    ("never more than 100 % of the full marks", TEN_A_DAY, at(days=30), 100, 100, 100, 2_592_000),
    # extra credit: 110 of 100, one day late: 10 % of the full marks (100) = 10 points, final 100
    ("extra credit loses points like any other", TEN_A_DAY, at(hours=5), 110, 100, 10, 18_000),
    ("a zero loses nothing", TEN_A_DAY, at(days=2), 0, 100, 0, 172_800),
    ("a due date without [late]: shown, nothing off", None, at(days=2), 80, 100, 0, 172_800),
]


@pytest.mark.parametrize(("case", "policy", "handed_in", "score", "full", "penalty", "seconds"), RULE_TABLE,
                         ids=[row[0] for row in RULE_TABLE])
def test_the_rule(case: str, policy: LatePolicy | None, handed_in: str, score: float, full: float,
                  penalty: float | None, seconds: float | None) -> None:
    late, notes = assess(DUE, Submitted(at=handed_in, source="blackboard_receipt"), policy, score, full, NOW)
    assert notes == ()
    if penalty is None:
        assert late is None, case
        return
    assert late is not None, case
    assert (late.penalty, late.seconds) == (penalty, seconds), case
    assert late.due == "2026-10-01T23:59:00+08:00" and late.source == "blackboard_receipt"
    assert dt.datetime.fromisoformat(late.at) == dt.datetime.fromisoformat(handed_in.replace("Z", "+00:00"))


def test_penalty_points_directly() -> None:
    assert penalty_points(TEN_A_DAY, 0, 100) == 0
    assert penalty_points(TEN_A_DAY, -5, 100) == 0
    assert penalty_points(TEN_A_DAY, float("nan"), 100) == 0
    assert penalty_points(TEN_A_DAY, 1, 37) == 3.7  # 10 % of 37 full marks
    assert penalty_points(LatePolicy(deduct=2.5, unit="points"), 3 * 3600, 100) == 2.5


def test_a_canvas_late_mark_without_a_time_costs_one_period() -> None:
    """Canvas's ``_late_`` in a file name proves "after Canvas's due date", not by how much: the
    least any late time costs (one started period), and a note saying so."""
    flagged = Submitted(source="canvas_name", late=True)
    late, notes = assess(DUE, flagged, LatePolicy(deduct=10, cap=50), 80, 100, NOW)
    assert late == Late(due="2026-10-01T23:59:00+08:00", at="", source="canvas_name", seconds=0, penalty=10,
                        rule=late.rule)
    assert [n.code for n in notes] == ["late_flag_only"]
    assert "Canvas" in notes[0].text("en") and "Canvas" in notes[0].text("zh")
    hourly, _ = assess(DUE, flagged, LatePolicy(deduct=2, per="hour"), 80, 100, NOW)
    assert hourly is not None and hourly.penalty == 2
    assert assess(DUE, Submitted(source="canvas_name", late=False), TEN_A_DAY, 80, 100, NOW) == (None, ())


def test_canvas_s_mark_outranks_the_zip_entry_time_beside_it() -> None:
    """Canvas's names carry no time; intake puts the zip entry's time beside the mark, which is when
    the instructor downloaded, after the due date for everyone. Unmarked is on time, marked is the
    least a late time costs, whatever the download time says."""
    downloaded = at(days=2)  # two days after the due date
    on_time = Submitted(at=downloaded, source="canvas_name+zip_entry", late=False)
    assert assess(DUE, on_time, TEN_A_DAY, 80, 100, NOW) == (None, ())
    marked = Submitted(at=downloaded, source="canvas_name+file_mtime", late=True)
    late, notes = assess(DUE, marked, TEN_A_DAY, 80, 100, NOW)
    assert late is not None and (late.penalty, late.seconds, late.at) == (10, 0, "")
    assert [n.code for n in notes] == ["late_flag_only"]
    # a time of the LMS's own (a Blackboard receipt) is used as it is, flag or not
    receipt = Submitted(at=downloaded, source="blackboard_receipt", late=False)
    late, _ = assess(DUE, receipt, TEN_A_DAY, 80, 100, NOW)
    assert late is not None and late.penalty == 20


# --- hostile times from the LMS's data ----------------------------------------------------------

HOSTILE = [
    ("9999-12-31T23:59:59+00:00", "late_implausible"),  # after this run: a broken clock
    ("9999-12-31T23:59:59-23:59", "late_implausible"),  # past the largest UTC time
    ("1969-12-31T23:59:59+00:00", "late_implausible"),  # before the epoch
    ("0001-01-01T00:00:00+00:00", "late_implausible"),
    ("NaN", "late_unreadable"),
    ("nan", "late_unreadable"),
    ("inf", "late_unreadable"),
    ("-1", "late_unreadable"),
    ("2026-13-45T25:61:00+08:00", "late_unreadable"),
    ("2026-10-02T10:00:00+99:00", "late_unreadable"),
    ("\x00\u202e2026-10-02", "late_unreadable"),
    ("x" * 100_000, "late_unreadable"),
]


@pytest.mark.parametrize(("handed_in", "code"), HOSTILE, ids=[h[:30] for h, _ in HOSTILE])
def test_a_hostile_time_is_a_note_never_a_penalty(handed_in: str, code: str) -> None:
    late, notes = assess(DUE, Submitted(at=handed_in, source="moodle_worksheet"), TEN_A_DAY, 80, 100, NOW)
    assert late is None
    assert [n.code for n in notes] == [code]
    for lang in ("zh", "en"):
        words = notes[0].text(lang)
        assert "Moodle" in words and len(words) < 400, words  # the value is quoted, cut short


def test_a_hostile_time_on_the_page(tmp_path: Path) -> None:
    config = _course(TEN_A_DAY)
    sub = _sub(tmp_path, Submitted(at="9999-12-31T23:59:59+00:00", source="moodle_worksheet"))
    result = _applied(sub, _result(80), config)
    assert (result.score, result.penalty, result.final_score) == (80, 0, 80)
    page = _text(render_submission(result, config, "en"))
    assert "Handed in 9999-12-31 23:59:59 +00:00 · not usable (see the grader notes)" in page
    assert "cannot be right (before 1970 or after this grading run): no late penalty was applied" in page
    assert "on time" not in page and "points off" not in page


def test_a_time_that_is_not_text_or_a_huge_source_is_still_a_note() -> None:
    """Whatever an intake bug puts in the record: a note, never a crash."""
    for value in (1_790_000_000, None, ["2026-10-02"], float("nan")):
        late, notes = assess(DUE, Submitted(at=value, source="x" * 10_000), TEN_A_DAY, 80, 100, NOW)  # type: ignore[arg-type]
        assert late is None and [n.code for n in notes] == (["late_unreadable"] if value is not None else [])
        assert all(len(n.text("en")) < 400 for n in notes)


def test_a_time_without_an_offset_is_read_on_the_due_dates_clock() -> None:
    late, notes = assess(DUE, Submitted(at="2026-10-02T01:59:00", source="blackboard_receipt"), TEN_A_DAY,
                         80, 100, NOW)
    assert late is not None and late.seconds == 7_200 and late.penalty == 10  # 01:59 Beijing, 2 h late
    assert [n.code for n in notes] == ["late_naive"]
    on_time, notes = assess(DUE, Submitted(at="2026-10-01T23:00:00", source="blackboard_receipt"), TEN_A_DAY,
                            80, 100, NOW)
    assert on_time is None and [n.code for n in notes] == ["late_naive"]


def test_a_hostile_stored_penalty_is_bounded_on_the_page(tmp_path: Path) -> None:
    """A hand-edited result file with a negative or huge penalty: never a negative penalty, never a
    final score below 0 or above the raw score."""
    config = _course(TEN_A_DAY)
    for penalty in (-50.0, 1e9):
        result = dataclasses.replace(_result(80), late=Late(due=DUE.isoformat(), at=at(days=1), penalty=penalty))
        assert 0 <= result.penalty <= 80 and 0 <= result.final_score <= 80
        loaded = SubmissionResult.from_json(result.to_json())
        assert 0 <= loaded.final_score <= loaded.score
        page = _text(render_submission(loaded, config, "en"))
        assert "points off" in page and "final -" not in page and "-50" not in page


# --- course.toml --------------------------------------------------------------------------------


def _toml(tmp_path: Path, course: str = "", late: str = "", due: str = "") -> Path:
    """The real course.toml with ``course`` added to [course], ``due`` to 01-convolution and a
    ``[late]`` table when ``late`` is given."""
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    text = text.replace("[course]\n", f"[course]\n{course}\n", 1)
    text = text.replace('train_dir = "data/', f'train_dir = "{ROOT}/data/', 1)
    text = text.replace('heldout_dir = "data/', f'heldout_dir = "{ROOT}/data/', 1)
    text = text.replace("[assignments.01-convolution]\n", f"[assignments.01-convolution]\n{due}\n", 1)
    if late:
        text += f"\n[late]\n{late}\n"
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_due_dates_and_the_late_table_load(tmp_path: Path) -> None:
    config = load_config(_toml(tmp_path, due='due = 2026-10-01T23:59:00+08:00\n'
                                             'extensions = { "张三" = 2026-10-04T12:00:00+08:00 }',
                               late='per = "hour"\ndeduct = 2\nunit = "points"\ncap = 20\ngrace_minutes = 10'),
                         environ={})
    assert config.assignments["01-convolution"].due == DUE
    assert config.assignments["02-pooling"].due is None
    own = config.assignments["01-convolution"]
    assert own.due_for("张三") == dt.datetime(2026, 10, 4, 12, tzinfo=CST) and own.due_for("bob") == DUE
    assert config.late == LatePolicy(deduct=2, per="hour", unit="points", cap=20, grace_minutes=10)


@pytest.mark.parametrize(("zone", "expected"), [
    ('"+08:00"', dt.timedelta(hours=8)),
    ('"-03:30"', dt.timedelta(hours=-3, minutes=-30)),
    ('"Asia/Shanghai"', dt.timedelta(hours=8)),
    ('"America/New_York"', dt.timedelta(hours=-4)),  # 1 October: summer time
])
def test_a_due_date_without_an_offset_takes_the_course_timezone(tmp_path: Path, zone: str,
                                                                 expected: dt.timedelta) -> None:
    config = load_config(_toml(tmp_path, course=f"timezone = {zone}", due="due = 2026-10-01T23:59:00"), environ={})
    due = config.assignments["01-convolution"].due
    assert due is not None and due.utcoffset() == expected and due.replace(tzinfo=None) == DUE.replace(tzinfo=None)


CONFIG_ERRORS = [
    ({"due": "due = 2026-10-01T23:59:00"}, r"\[assignments\.01-convolution\.due\] has no UTC offset"),
    ({"due": 'due = "2026-10-01T23:59:00+08:00"'}, r"\[assignments\.01-convolution\.due\] must be a TOML date and time"),
    ({"due": "due = 2026-10-01"}, r"\[assignments\.01-convolution\.due\] must be a TOML date and time"),
    ({"due": "due = 23:59:00"}, r"\[assignments\.01-convolution\.due\] must be a TOML date and time"),
    ({"course": 'timezone = "Mars/Olympus"'}, r"\[course\.timezone\] must be a UTC offset"),
    ({"course": 'timezone = "+25:00"'}, r"\[course\.timezone\] must be a UTC offset"),
    ({"course": "timezone = 8"}, r"\[course\.timezone\] must be str"),
    ({"late": 'per = "hour"'}, r"\[late\.deduct\] is required but missing"),
    ({"late": 'deduct = 10\nper = "week"'}, r'\[late\.per\] must be "day" or "hour", received \'week\''),
    ({"late": 'deduct = 10\nunit = "%"'}, r'\[late\.unit\] must be "percent"'),
    ({"late": "deduct = 150"}, r"\[late\.deduct\] is a percentage of the full marks .* at most 100, received 150"),
    ({"late": "deduct = 10\ncap = 101"}, r"\[late\.cap\] is a percentage .* received 101"),
    ({"late": "deduct = -1"}, r"\[late\.deduct\] must be a number >= 0, received -1"),
    ({"late": "deduct = nan"}, r"\[late\.deduct\] must be a number >= 0, received nan"),
    ({"late": 'deduct = 5\nunit = "points"\ncap = inf'}, r"\[late\.cap\] must be a number >= 0, received inf"),
    ({"late": "deduct = 10\ngrace_minutes = -5"}, r"\[late\.grace_minutes\] must be a number >= 0"),
    ({"late": 'deduct = "10%"'}, r"\[late\.deduct\] must be float, received '10%'"),
    ({"late": "deduct = 10\ngrace = 15"}, r"\[late\.grace\] unknown key"),
    ({"due": "extensions = { alice = 2026-10-03T23:59:00+08:00 }"},
     r"\[assignments\.01-convolution\.extensions\] extends a due date, but this assignment has no due"),
    ({"due": "due = 2026-10-01T23:59:00+08:00\nextensions = { alice = 2026-10-03 }"},
     r"\[assignments\.01-convolution\.extensions\.alice\] must be a TOML date and time"),
    ({"due": "due = 2026-10-01T23:59:00+08:00\nextensions = { alice = 2026-10-03T23:59:00 }"},
     r"\[assignments\.01-convolution\.extensions\.alice\] has no UTC offset"),
]


@pytest.mark.parametrize(("parts", "message"), CONFIG_ERRORS, ids=[m[:40] for _, m in CONFIG_ERRORS])
def test_config_errors_name_the_key(tmp_path: Path, parts: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_config(_toml(tmp_path, **parts), environ={})
    assert str(tmp_path / "course.toml") in str(error.value)


# --- where the hand-in time comes from ------------------------------------------------------------


def _course(policy: LatePolicy | None, due: dt.datetime | None = DUE):
    config = load_config(ROOT / "course.toml", environ={})
    own = dataclasses.replace(config.assignments["01-convolution"], due=due)
    return dataclasses.replace(config, late=policy, assignments={**config.assignments, "01-convolution": own})


def _result(score: float, student: str = "张三", extra: float = 0) -> SubmissionResult:
    tests = (GroupResult("conv2d", "public", True, 20.0, 20.0, 1, 1),
             GroupResult("conv2d_layer", "hidden", False, score - 20.0, 80.0, 4, 2),)
    if extra:
        tests += (GroupResult("bonus", "hidden", False, extra, extra, 1, 1, extra_credit=True),)
    return SubmissionResult(student, "01-convolution", "a" * 64, "1.0", 1.0, tests)


def _sub(tmp_path: Path, submitted: Submitted | None = None, student: str = "张三") -> Submission:
    path = tmp_path / student / "01-convolution.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}", encoding="utf-8")
    return Submission(student, "01-convolution", path, "a" * 64, f"{student}/01-convolution.ipynb",
                      submitted=submitted)


def _applied(sub: Submission, result: SubmissionResult, config) -> SubmissionResult:
    return apply_late(sub, with_intake(sub, result), config, now=NOW)


def test_the_lms_time_wins_over_the_file_time(tmp_path: Path) -> None:
    sub = _sub(tmp_path, Submitted(at=at(hours=2), source="nbgrader_timestamp"))
    os.utime(sub.path, (DUE.timestamp() - 86_400,) * 2)  # the file says "a day early": not believed
    result = _applied(sub, _result(80), _course(TEN_A_DAY))
    assert result.late is not None and result.late.source == "nbgrader_timestamp" and result.penalty == 10
    assert (result.score, result.final_score) == (80, 70)


def test_the_file_time_is_the_last_resort_and_says_so(tmp_path: Path) -> None:
    sub = _sub(tmp_path)  # a plain folder: intake knows no time
    os.utime(sub.path, (DUE.timestamp() + 26 * 3600,) * 2)
    result = _applied(sub, _result(80), _course(LatePolicy(deduct=4)))
    assert result.submitted is not None and result.submitted.source == "file_mtime"
    assert result.late is not None and result.late.source == "file_mtime" and result.late.seconds == 26 * 3600
    assert (result.score, result.penalty, result.final_score) == (80, 8, 72)  # 2 started days at 4 %


def test_an_extension_is_the_students_own_due_date(tmp_path: Path) -> None:
    """Two students hand in at the same time, two days after the due date; one has an extension to
    the third day, so only the other is late (2 started days, 20 %)."""
    config = _course(TEN_A_DAY)
    own = dataclasses.replace(config.assignments["01-convolution"],
                              extensions={"张三": DUE + dt.timedelta(days=3)})
    config = dataclasses.replace(config, assignments={**config.assignments, "01-convolution": own})
    handed_in = Submitted(at=at(days=2), source="gradescope_metadata")
    extended = _applied(_sub(tmp_path, handed_in), _result(80), config)
    other = _applied(_sub(tmp_path, handed_in, student="bob"), _result(80, "bob"), config)
    assert extended.late is None and other.late is not None and other.penalty == 20
    page = _text(render_submission(extended, config, "en"))
    assert "Due 2026-10-04 23:59:00 +08:00" in page and "on time" in page


def test_no_due_date_or_a_grader_error_takes_nothing(tmp_path: Path) -> None:
    sub = _sub(tmp_path, Submitted(at=at(days=2), source="gradescope_metadata"))
    assert _applied(sub, _result(80), _course(TEN_A_DAY, due=None)).late is None
    failed = dataclasses.replace(_result(80), grader_error=GraderError("execute", "boom"))
    assert _applied(sub, failed, _course(TEN_A_DAY)).late is None
    assert _applied(sub, _result(80), None).late is None


def test_a_reapplied_policy_leaves_no_stale_penalty_or_note(tmp_path: Path) -> None:
    """What a cached result goes through: it arrives with the late record and notes of the run that
    stored it, and leaves with this run's only."""
    sub = _sub(tmp_path, Submitted(at="NaN", source="moodle_worksheet"))
    stale = dataclasses.replace(_result(80), late=Late(due="2020-01-01T00:00:00+00:00", penalty=40),
                                notes=(Message("late_flag_only", {"source": "canvas_name"}),
                                       Message("text", {"text": "kept"})))
    result = _applied(sub, stale, _course(TEN_A_DAY))
    assert result.late is None and result.penalty == 0
    assert [n.code for n in result.notes] == ["text", "late_unreadable"]
    again = _applied(sub, result, _course(TEN_A_DAY))
    assert [n.code for n in again.notes] == ["text", "late_unreadable"], "applied twice, noted once"


def test_the_late_record_round_trips_through_the_result_file(tmp_path: Path) -> None:
    sub = _sub(tmp_path, Submitted(at=at(hours=30), source="blackboard_receipt"))
    result = _applied(sub, _result(80, extra=10), _course(LatePolicy(deduct=10, cap=15)))
    assert result.late is not None and (result.score, result.penalty, result.final_score) == (90, 15, 75)
    loaded = SubmissionResult.from_json(result.to_json())
    assert loaded.late == result.late and loaded.submitted == result.submitted
    assert (loaded.score, loaded.penalty, loaded.final_score) == (90, 15, 75)


# --- a cached regrade after the due date moves ---------------------------------------------------


def test_a_cached_regrade_after_the_due_date_moves_takes_the_new_penalty(tmp_path: Path) -> None:
    """One notebook, handed in (by its file time) at 12:00 on 2 October, Beijing time; graded once,
    then taken from the gradebook while the due date moves: each run's penalty is its own."""
    subs = tmp_path / "subs" / "ann"
    subs.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "submissions" / "li_hua" / "02-pooling.ipynb", subs / "02-pooling.ipynb")
    handed_in = dt.datetime(2026, 10, 2, 12, 0, tzinfo=CST).timestamp()
    os.utime(subs / "02-pooling.ipynb", (handed_in, handed_in))
    course = tmp_path / "course"
    course.mkdir()

    def run(due: str):
        text = _toml(tmp_path, late="deduct = 10").read_text(encoding="utf-8")
        text = text.replace("[assignments.02-pooling]\n", f"[assignments.02-pooling]\ndue = {due}\n")
        (course / "course.toml").write_text(text, encoding="utf-8")
        config = load_config(course / "course.toml", environ={})
        config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, cell_timeout=30))
        done = grade_class(tmp_path / "subs", tmp_path / "out", config, runner=local_runner())
        with open(tmp_path / "out" / "grades.csv", encoding="utf-8-sig", newline="") as f:
            row = next(csv.DictReader(f))
        (result,) = done.results
        return done.cached, result, row

    cached, first, row = run("2026-10-01T23:59:00+08:00")  # 12 h 1 min late: one day, 10 % of 100
    assert cached == 0 and first.score == 100 and first.penalty == 10 and first.final_score == 90
    assert (row["02-pooling"], row["02-pooling penalty"], row["02-pooling final"]) == ("100", "10", "90")

    cached, second, row = run("2026-10-05T23:59:00+08:00")  # an extension for the class: on time
    assert cached == 1, "a moved due date is no reason to run the notebook again"
    assert second.late is None and second.penalty == 0 and second.final_score == 100
    assert (row["02-pooling"], row["02-pooling penalty"], row["02-pooling final"]) == ("100", "0", "100")

    cached, third, row = run("2026-09-29T23:59:00+08:00")  # 2 days 12 h 1 min: three days, 30 %
    assert cached == 1 and third.penalty == 30 and third.late is not None and third.late.source == "file_mtime"
    assert (row["total"], row["penalty"], row["final"]) == ("100", "30", "70")
    stored = SubmissionResult.from_json(__import__("json").loads(
        (tmp_path / "out" / "results" / "ann" / "02-pooling.json").read_text(encoding="utf-8")))
    assert stored.penalty == 30, "the result file holds this run's penalty"


# --- what people see ---------------------------------------------------------------------------


def _late_result(tmp_path: Path) -> tuple[SubmissionResult, object]:
    """80 raw points, handed in 1 day 2 hours late (Blackboard's receipt) at 4 % a day: 2 started
    days, 8 points off, 72 final."""
    config = _course(LatePolicy(deduct=4, cap=40, grace_minutes=0))
    sub = _sub(tmp_path, Submitted(at=at(days=1, hours=2), source="blackboard_receipt"))
    return _applied(sub, _result(80), config), config


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_student_page_shows_raw_penalty_final_due_and_source(tmp_path: Path) -> None:
    result, config = _late_result(tmp_path)
    zh = _text(render_submission(result, config, "zh"))
    assert "原始分 80 · 迟交 1 天 2 小时，扣 8 分 · 最终 72" in zh
    assert "最终得分 72 / 100" in zh
    assert "截止时间 2026-10-01 23:59:00 +08:00" in zh and "提交时间 2026-10-03 01:59:00 +08:00" in zh
    assert "时间来源 Blackboard 提交回执" in zh and "每迟交一天扣满分的 4%" in zh and "最多扣满分的 40%" in zh
    en = _text(render_submission(result, config, "en"))
    assert "Raw score 80 · 1 day 2 hours late, 8 points off · final 72" in en
    assert "Time from Blackboard's receipt" in en


def test_an_on_time_page_shows_the_due_date_and_hand_in_time(tmp_path: Path) -> None:
    config = _course(TEN_A_DAY)
    sub = _sub(tmp_path, Submitted(at="2026-10-01T15:00:00Z", source="gradescope_metadata"))
    en = _text(render_submission(_applied(sub, _result(80), config), config, "en"))
    assert "Score 80 / 100" in en and "points off" not in en
    assert "Handed in 2026-10-01 23:00:00 +08:00 · on time" in en and "Gradescope's submission metadata" in en
    flagged = _sub(tmp_path, Submitted(source="canvas_name", late=True), student="li")
    zh = _text(render_submission(_applied(flagged, _result(80, "li"), config), config, "zh"))
    assert "原始分 80 · 迟交（没有时间），扣 10 分 · 最终 70" in zh and "Canvas 文件名中的迟交标记" in zh


def test_the_class_page_has_a_late_column(tmp_path: Path) -> None:
    late, config = _late_result(tmp_path)
    on_time = _applied(_sub(tmp_path, Submitted(at=at(hours=-3), source="nbgrader_timestamp"), "bob"),
                       _result(100, "bob"), config)
    page = render_index([late, on_time], config, "en")
    header = re.search(r'<thead>.*?</thead>', page.split('id="student-table"')[1], re.S).group()
    assert "Late penalty" in _text(header)
    rows = {(cells := _text(row).split(" "))[0]: " ".join(cells)
            for row in re.findall(r"<tr>.*?</tr>", page.split("<tbody>")[-1], re.S)}
    assert "72 / 100" in rows["张三"] and "raw 80 − 8 late" in rows["张三"] and "−8 · 1 late" in rows["张三"]
    assert "raw" not in rows["bob"] and "100 / 100" in rows["bob"]
    assert _text(render_index([late], config, "zh")).count("原始 80 − 迟交 8") == 1


def test_grades_csv_keeps_raw_penalty_and_final_apart(tmp_path: Path) -> None:
    result, _ = _late_result(tmp_path)
    path = write_grades_csv(tmp_path, [result], {"01-convolution": ("conv2d", "conv2d_layer")})
    with open(path, encoding="utf-8-sig", newline="") as f:
        header, row = list(csv.reader(f))
    assert header == ["student", "01-convolution:conv2d", "01-convolution:conv2d_layer", "01-convolution",
                      "01-convolution penalty", "01-convolution final", "total", "penalty", "final"]
    assert row == ["张三", "20", "60", "80", "8", "72", "80", "8", "72"]


def test_the_grade_summary_table_shows_raw_penalty_and_final(tmp_path: Path) -> None:
    from rich.console import Console

    from grader.classroom.batch import ClassRun
    from grader.cli import _print_run

    result, _ = _late_result(tmp_path)
    console = Console(record=True, width=200)
    _print_run(ClassRun(results=[result]), tmp_path, console, "zh")
    shown = console.export_text()
    assert "迟交扣分" in shown and "最终得分" in shown
    line = next(line for line in shown.splitlines() if "张三" in line)
    assert re.search(r"80 / 100 .*-8 \(1 天 2 小时\) .*72", line), line


def test_the_late_page_in_a_browser(chromium: str, tmp_path: Path) -> None:
    """Chromium renders the student page: the late line is on it, in the header, readable."""
    result, config = _late_result(tmp_path)
    page = tmp_path / "page.html"
    page.write_text(render_submission(result, config, "zh"), encoding="utf-8")
    done = run_chromium(chromium, page.as_uri(), "--dump-dom")
    late_line = re.search(r'<p class="late-line" id="late">(.*?)</p>', done.stdout, re.S)
    assert late_line is not None and _text(late_line.group(1)) == "原始分 80 · 迟交 1 天 2 小时，扣 8 分 · 最终 72"
    assert done.stdout.index('id="late"') < done.stdout.index('id="questions"'), "in the header, above the questions"


def test_the_csv_export_keeps_the_penalty(tmp_path: Path) -> None:
    """``grader export --format csv`` reads the stored results back through the pages' typed
    reading: the late record must survive it."""
    from grader.classroom.gradebook import write_result
    from grader.publish.export import export

    result, config = _late_result(tmp_path / "subs")
    write_result(tmp_path / "out", result)
    (path,) = export(tmp_path / "out", "csv", config)
    with open(path, encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["01-convolution"], row["01-convolution penalty"], row["01-convolution final"]) == ("80", "8", "72")


def test_a_canvas_download_time_is_not_shown_as_the_hand_in_time(tmp_path: Path) -> None:
    """Beside Canvas's mark, the zip entry's time is when the instructor downloaded: the page says
    the hand-in time is not known and names Canvas's mark as the source, marked late or not."""
    config = _course(TEN_A_DAY)
    for flag, summary in ((True, "no time"), (False, "")):
        sub = _sub(tmp_path, Submitted(at=at(days=2), source="canvas_name+zip_entry", late=flag))
        page = _text(render_submission(_applied(sub, _result(80), config), config, "en"))
        assert "Handed in not known" in page and "Time from Canvas's late mark in the file name" in page
        assert "the file's time in the zip" not in page
        assert (summary in page) if summary else "points off" not in page


def test_a_students_display_name_heads_their_page_and_their_row(tmp_path: Path) -> None:
    """The LMS's or roster's name (王芳) is what people read; the key stays beside it, small."""
    config = _course(None)
    result = dataclasses.replace(_result(80, student="wang_fang"),
                                 identity=StudentRecord("wang_fang", name="王芳", lms="canvas", lms_id="12345"))
    page = render_submission(result, config, "zh")
    assert re.search(r'<h1 class="student">王芳 <code[^>]*>wang_fang</code></h1>', page)
    row = _text(render_index([result, _result(60, student="li_hua")], config, "zh"))
    assert "王芳 wang_fang" in row and "li_hua" in row  # li_hua has no record: the key alone
