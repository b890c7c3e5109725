"""The red-team pass over issue 15: values from an LMS download, a roster, course.toml or a
student's kernel built to break the grader, and what the grader must do with each (list it, bound
it, refuse it) instead of stopping the class's run or mixing up two students."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.classroom.plan import assignment_names
from grader.course.config import ConfigError, CourseConfig, load_config
from grader.intake.times import parse_time

import lms_layouts as layouts
from lms_layouts import find

ROOT = Path(__file__).resolve().parent.parent


def course(folder: Path, extra: str = "", due: str = "") -> CourseConfig:
    """The repository's course.toml in ``folder`` with ``extra`` appended and ``due`` in 01-convolution."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    text = text.replace("[assignments.01-convolution]\n", f"[assignments.01-convolution]\n{due}\n", 1)
    text = text.replace('train_dir = "data/', f'train_dir = "{ROOT}/data/', 1)
    text = text.replace('heldout_dir = "data/', f'heldout_dir = "{ROOT}/data/', 1)
    (folder / "course.toml").write_text(text + extra, encoding="utf-8")
    return load_config(folder / "course.toml", environ={})


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, ...]]:
    return assignment_names(course(tmp_path_factory.mktemp("course")))


# --- times no calendar holds --------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "2026-10-01 14:22:05 +99:99",  # an offset of four days
    "2026-10-01 14:22:05 -24:00",
    "0000-01-01 00:00:00",
    "9999-12-31 23:59:59",  # local, in a zone east of UTC: after 9999
])
def test_a_time_no_calendar_holds_is_no_time(written: str, shanghai: None) -> None:
    assert parse_time(written) is None


def test_an_impossible_timestamp_does_not_stop_the_others(names, tmp_path: Path) -> None:
    """One student's timestamp.txt with an offset of 99 hours raised ValueError out of the walk, and
    no notebook of the class was graded."""
    course_folder = layouts.nbgrader_exchange(tmp_path)
    stamp = next(course_folder.glob("submitted/alice/*/timestamp.txt"))
    stamp.write_text("2026-10-01 14:22:05 +99:99", encoding="utf-8")
    subs, _ = find(course_folder, names, tmp_path)
    assert sorted(subs) == ["alice", "bob"]
    assert subs["alice"].submitted is None  # no time from nbgrader: the late policy falls back to the file's
    assert subs["bob"].submitted.source == "nbgrader_timestamp"


def test_a_receipt_with_an_impossible_offset_does_not_stop_the_others(names, tmp_path: Path) -> None:
    folder = layouts.blackboard_download(tmp_path)
    receipt = sorted(folder.rglob("*.txt"))[0]
    text = receipt.read_text(encoding="utf-8")
    lines = ["Date Submitted: Thursday, December 12, 2024 1:22:26 PM +48:00" if line.startswith("Date Submitted")
             else line for line in text.splitlines()]
    receipt.write_text("\n".join(lines), encoding="utf-8")
    subs, _ = find(folder, names, tmp_path)
    assert subs  # the walk finished


def test_gradescope_times_past_the_calendar_do_not_stop_the_export(names, tmp_path: Path, shanghai: None) -> None:
    """A naive ``:created_at:`` of 9999-12-31 23:59:59 is after year 9999 once read in +08:00."""
    metadata = layouts.gradescope_metadata().replace(layouts.GRADESCOPE_SUN[3], "9999-12-31 23:59:59", 1)
    assert "9999-12-31 23:59:59" in metadata
    subs, _ = find(layouts.gradescope_export(tmp_path, metadata=metadata), names, tmp_path)
    sun = [s for s in subs.values() if s.identity.name == layouts.GRADESCOPE_SUN[0]]
    assert len(sun) == 1 and sun[0].submitted.source == "file_mtime" and len(subs) == 3


# --- course.toml ---------------------------------------------------------------------------------


def test_a_grace_period_no_date_can_hold_is_a_config_error(tmp_path: Path) -> None:
    """grace_minutes = 1e12 was accepted, then timedelta() raised OverflowError on every late result,
    stopping the run."""
    with pytest.raises(ConfigError, match=r"\[late\.grace_minutes\] must be at most"):
        course(tmp_path, "\n[late]\ndeduct = 10\ngrace_minutes = 1e12\n")


# --- two students on one key --------------------------------------------------------------------


def test_two_canvas_users_the_roster_gives_one_key_are_not_a_resubmission(names, tmp_path: Path) -> None:
    """Two Canvas users called Wang Fang and a roster with one Wang Fang (no canvas_id): both matched
    her by name, and the second was dropped as a 'duplicate' of the first — one student's notebook
    graded as another's, silently."""
    from grader.intake.roster import load_roster

    folder = tmp_path / "canvas"
    layouts.copy_notebook(layouts.CORRECT, folder / "wangfang_11111_678901_02-pooling.ipynb", mtime=1_790_000_000)
    layouts.copy_notebook(layouts.WRONG, folder / "wangfang_22222_678902_02-pooling.ipynb", mtime=1_790_000_100)
    (tmp_path / "roster.csv").write_text("student,name\nwang_fang,Wang Fang\n", encoding="utf-8")
    subs, unrecognised = find(folder, names, tmp_path, roster=load_roster(tmp_path / "roster.csv"))
    assert "wang_fang" not in subs
    codes = sorted(u.message.code for u in unrecognised)
    assert codes == ["intake.two_accounts_one_key"] * 2
    assert "11111" in unrecognised[0].reason and "22222" in unrecognised[0].reason


def test_two_gradescope_submitters_with_one_sid_are_not_a_resubmission(names, tmp_path: Path) -> None:
    """A Gradescope SID is typed by the student: one who types a classmate's had the later of the
    two notebooks graded as the classmate's, and the classmate's own listed as a 'duplicate'."""
    metadata = layouts.gradescope_metadata().replace("'3032'", "'3031'")
    subs, unrecognised = find(layouts.gradescope_export(tmp_path, metadata=metadata), names, tmp_path)
    assert "3031" not in subs and "3033" in subs
    assert sorted(u.message.code for u in unrecognised) == ["intake.two_accounts_one_key"] * 2


def test_a_canvas_resubmission_is_still_one_student(names, tmp_path: Path) -> None:
    folder = tmp_path / "canvas"
    layouts.copy_notebook(layouts.WRONG, folder / "wangfang_11111_678901_02-pooling.ipynb")
    layouts.copy_notebook(layouts.CORRECT, folder / "wangfang_11111_678902_02-pooling-1.ipynb")
    subs, unrecognised = find(folder, names, tmp_path)
    assert list(subs) == ["wangfang_11111"] and [u.message.code for u in unrecognised] == ["intake.duplicate"]


# --- the instructor's terminal ------------------------------------------------------------------


def test_grader_history_never_sends_a_students_escape_sequence_to_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder named ``\\x1b]2;…\\x07mallory`` is a student key; ``grader history`` with a name
    that matches nobody (or two students) listed the keys raw in its error line, so the student's
    escape sequence ran in the instructor's terminal."""
    from grader.classroom.gradebook import Gradebook
    from grader.cli import main
    from test_regrade import result, run

    hostile = "\x1b]2;owned\x07\x1b[2Jmallory"
    with Gradebook(tmp_path) as book:
        run(book, [(result(hostile, name="Twin"), False), (result("bob", sha="b" * 64, name="Twin"), False)])
    for query in ("nobody", "twin"):
        assert main(["history", query, "--dir", str(tmp_path), "--lang", "en"]) == 2
        err = capsys.readouterr().err
        assert "mallory" in err and "\x1b" not in err and "\x07" not in err


# --- file names in the exports --------------------------------------------------------------------


def test_a_name_of_four_byte_letters_still_makes_a_moodle_folder_a_disk_can_hold(tmp_path: Path) -> None:
    """60 characters of a four-byte script (CJK extension B, emoji) made a 266-byte folder name, which
    no Linux, macOS or Windows file system holds: Moodle's importer unpacks the zip and fails."""
    import zipfile
    from datetime import datetime, timezone

    from course_facts import CONFIG
    from grader.classroom.gradebook import write_result
    from grader.publish.export import write_export
    from lms_files import moodle_zip_entry
    from test_lms_export import graded, moodle

    name = "\U00020000" * 100
    write_result(tmp_path, graded("k", "01-convolution", 10, moodle("k", name, "1234567890")))
    write_export(tmp_path, "moodle", CONFIG, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    (entry,) = zipfile.ZipFile(tmp_path / "export/moodle/01-convolution/feedback_files.zip").namelist()
    folder = entry.split("/")[0]
    assert len(folder.encode("utf-8")) <= 255 and folder.startswith("\U00020000" * 10)
    assert moodle_zip_entry(entry, {"1234567890"}) == ("1234567890", "/01-convolution.html")


# --- the "user" isolation: nothing of the student's outlives their kernel ------------------------


def _kernel_user_uid() -> int | None:
    import os
    import pwd

    from grader.run import sandbox

    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(sandbox.KERNEL_USER).pw_uid
    except KeyError:
        return None


def _pids_of(uid: int) -> set[int]:
    """The live processes whose real user is ``uid``."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines = (entry / "status").read_text().splitlines()
            except OSError:
                continue
            status = dict(line.split(":", 1) for line in lines if ":" in line)
            alive = status.get("State", "").strip()[:1] not in ("Z", "X")
            if status.get("Uid", "").split()[:1] == [str(uid)] and alive:
                pids.add(int(entry.name))
    return pids


@pytest.mark.skipif(_kernel_user_uid() is None and not os.environ.get("CI"),  # .ci/run makes the accounts
                    reason="needs root and the account cnn-grader-student")
@pytest.mark.usefixtures("kernel_accounts")
def test_a_process_the_kernel_left_running_as_its_user_is_ended_with_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Gradescope's container (Docker) gives no cgroup: under the "user" isolation a cell that
    double-forks into its own session (``setsid``) left a process of the kernel's account running
    after the kernel and the grading were done, free to use the CPU or the files that account can
    reach while the results are written. Ending the confinement ends every process of that account."""
    import os
    import subprocess
    import tempfile

    from grader.run import sandbox

    uid = _kernel_user_uid()
    assert uid is not None
    if _pids_of(uid):  # another grader's kernel runs as this account now: ending it is not this test's to do
        pytest.skip("the kernel's account is in use by another run")
    monkeypatch.setattr(sandbox.Cgroup, "create", staticmethod(lambda *a, **k: None))  # as in Docker
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # pytest's own folders are closed to others
        folder = Path(tmp)
        folder.chmod(0o711)
        (folder / "sockets").mkdir()
        confinement = sandbox.Confinement(folder, {}, isolation="user", user=sandbox.KERNEL_USER)
        try:
            with sandbox.confined(confinement, folder / "sockets") as (prefix, cgroup):
                assert cgroup is None
                subprocess.run([*prefix, "sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 &"],
                               check=True, timeout=30)
                assert _pids_of(uid), "the student's process runs on after the launcher exited"
            assert not _pids_of(uid)
        finally:
            for pid in _pids_of(uid):
                os.kill(pid, 9)


@pytest.mark.skipif(_kernel_user_uid() is None and not os.environ.get("CI"),  # .ci/run makes the accounts
                    reason="needs root and the accounts of the user isolation")
@pytest.mark.usefixtures("kernel_accounts")
def test_a_process_the_model_inspector_left_running_is_ended_with_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The inspector loads the student's model (its layers' code runs) as its own account; a process
    it double-forked outlived it, as a kernel's did."""
    import os
    import pwd
    import tempfile

    from grader.run import sandbox
    from grader.run.inspect_model import Inspector

    uid = pwd.getpwnam(sandbox.INSPECTOR_USER).pw_uid
    if _pids_of(uid):
        pytest.skip("the inspector's account is in use by another run")
    monkeypatch.setattr(sandbox.Cgroup, "create", staticmethod(lambda *a, **k: None))  # as in Docker
    monkeypatch.setattr(Inspector, "_command",
                        lambda self: ["sh", "-c", "setsid sleep 300 </dev/null >/dev/null 2>&1 & exit 0"])
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        Path(tmp).chmod(0o711)
        inspector = Inspector(Path(tmp) / "inspector", heldout=Path(tmp), memory_mb=512, cpu_time=10, processes=64,
                              timeout=10, isolation="user")
        try:
            inspector._start()
            inspector._process.popen.wait(timeout=30)
            assert _pids_of(uid), "the model's process runs on after the inspector exited"
            inspector._stop()
            assert not _pids_of(uid)
        finally:
            for pid in _pids_of(uid):
                os.kill(pid, 9)


# --- a file name built to be another student's ---------------------------------------------------


def test_a_moodle_upload_named_like_a_classmates_file_stays_the_uploaders(names, tmp_path: Path) -> None:
    """Moodle names a file FULLNAME_ID_assignsubmission_file_ORIGINAL, and ORIGINAL is the student's
    own file name. Zhao Lei uploads one named like Wang Fang's download: the greedy name took
    everything up to the last ``_ID_assignsubmission_``, so the upload was Wang Fang's (participant
    id and, with the worksheet, name and key) and, modified later, replaced her notebook."""
    folder = layouts.moodle_download(tmp_path)
    wang, wang_id, _, _ = layouts.MOODLE_WANG
    zhao, zhao_id, _, _ = layouts.MOODLE_ZHAO
    forged = f"{zhao}_{zhao_id}_assignsubmission_file_{wang}_{wang_id}_assignsubmission_file_02-pooling.ipynb"
    layouts.copy_notebook(layouts.WRONG, folder / forged, mtime=layouts.MOODLE_MTIME + 3600)
    subs, unrecognised = find(folder, names, tmp_path)
    assert subs[wang].source.endswith(f"{wang}_{wang_id}_assignsubmission_file_02-pooling.ipynb")
    assert subs[zhao].source.endswith(forged) and subs[zhao].identity.lms_id == zhao_id
    assert not any(u.path.endswith(f"{wang}_{wang_id}_assignsubmission_file_02-pooling.ipynb") for u in unrecognised)


def test_a_blackboard_upload_named_like_a_classmates_attempt_stays_the_uploaders(names, tmp_path: Path) -> None:
    """Blackboard names a file ASSIGNMENT_USER_attempt_DATE_ORIGINAL: an ORIGINAL of
    ``Pooling_s1234567_attempt_2026-12-01-00-00-00_02-pooling.ipynb`` made the greedy assignment
    swallow the uploader's own user and date, so the upload was Chen Jie's latest attempt, dated by
    the uploader, and graded instead of his."""
    folder = layouts.blackboard_download(tmp_path)
    chen, stamp = layouts.BLACKBOARD_CHEN_AGAIN[0], layouts.BLACKBOARD_CHEN_AGAIN[3]
    original = f"Pooling_{chen}_attempt_2026-12-01-00-00-00_02-pooling.ipynb"
    own = "Pooling_mallory_attempt_2026-10-01-20-00-00"
    layouts.copy_notebook(layouts.WRONG, folder / f"{own}_{original}")
    (folder / f"{own}.txt").write_text(layouts.blackboard_receipt(
        "mallory", "Mal Lory", "Thursday, October 1, 2026 8:00:00 PM EDT", "2026-10-01-20-00-00", original),
        encoding="utf-8")
    subs, _ = find(folder, names, tmp_path)
    assert subs[chen].source.endswith(f"Pooling_{chen}_attempt_{stamp}_02-pooling.ipynb")
    assert subs["mallory"].identity.name == "Mal Lory"


def test_a_gradescope_submission_naming_nobody_is_listed_not_dropped(names, tmp_path: Path) -> None:
    """Submitters with an empty name, SID and email (or only control characters, which are cut) gave
    no key, and the submission's folder was neither graded nor listed."""
    metadata = layouts.gradescope_metadata().replace(
        f":name: {layouts.GRADESCOPE_SUN[0]}\n    :sid: '{layouts.GRADESCOPE_SUN[1]}'\n    :email: {layouts.GRADESCOPE_SUN[2]}",
        ':name: "\\e\\a"\n    :sid: ""\n    :email: ""')
    assert layouts.GRADESCOPE_SUN[2] not in metadata
    subs, unrecognised = find(layouts.gradescope_export(tmp_path, metadata=metadata), names, tmp_path)
    assert sorted(subs) == ["3032", "3033"]
    assert [u.path for u in unrecognised] == ["assignment_999_export/submission_111"]
    assert unrecognised[0].message.code == "intake.no_submitter"


def test_an_extension_before_the_due_date_is_a_config_error(tmp_path: Path) -> None:
    """A typo'd year or month in an extension (2025 for 2026) made the student's own due date
    earlier than the class's: the one student given more time lost points nobody else did."""
    with pytest.raises(ConfigError, match=r"\[assignments\.01-convolution\.extensions\.alice\] is before"):
        course(tmp_path, due='due = 2026-10-01T23:59:00+08:00\n'
                             'extensions = { alice = 2025-10-03T23:59:00+08:00 }')


def test_a_students_folder_holding_a_canvas_name_is_not_a_download(names, tmp_path: Path) -> None:
    """A folder of LMS-named files is taken for an unpacked download. In a class of students'
    folders, Mallory's folder held ``wangfang_12345_678901_02-pooling.ipynb``: it was graded as
    Canvas user 12345, and the Canvas export then put Mallory's score on Wang Fang's row (Canvas
    imports by that id). Download-looking folders beside students' folders are listed, not guessed."""
    folder = tmp_path / "class"
    layouts.copy_notebook(layouts.CORRECT, folder / "alice" / "02-pooling.ipynb")
    layouts.copy_notebook(layouts.CORRECT, folder / "wang_fang" / "02-pooling.ipynb")
    layouts.copy_notebook(layouts.WRONG, folder / "mallory" / "wangfang_12345_678901_02-pooling.ipynb")
    subs, unrecognised = find(folder, names, tmp_path)
    assert sorted(subs) == ["alice", "wang_fang"]
    assert not any(s.identity is not None and s.identity.lms_id == "12345" for s in subs.values())
    [listed] = unrecognised
    assert listed.path == "mallory" and listed.message.code == "intake.download_among_students"


def test_downloads_side_by_side_are_still_downloads(names, tmp_path: Path) -> None:
    layouts.canvas_download(tmp_path / "class")
    layouts.moodle_download(tmp_path / "class")
    subs, _ = find(tmp_path / "class", names, tmp_path)
    assert {s.identity.lms for s in subs.values()} == {"canvas", "moodle"}


def test_a_canvas_file_named_like_a_blackboard_attempt_stays_a_canvas_file(names, tmp_path: Path) -> None:
    """Blackboard's pattern was tried first and matches ``_USER_attempt_DATE_`` anywhere in a name, so
    a Canvas upload whose own name was ``Pooling_mallory_attempt_2026-09-01-00-00-00_02-pooling.ipynb``
    lost Canvas's late flag and took the date the student wrote as its hand-in time (no penalty);
    with a user part of a classmate's login and a roster, it was that classmate's."""
    folder = layouts.canvas_download(tmp_path)
    forged = "mallory_late_55555_66666_Pooling_mallory_attempt_2026-09-01-00-00-00_02-pooling.ipynb"
    layouts.copy_notebook(layouts.CORRECT, folder / forged)
    subs, _ = find(folder, names, tmp_path)
    mallory = subs["mallory_55555"]
    assert (mallory.identity.lms, mallory.submitted.late) == ("canvas", True)
    assert mallory.submitted.source == "canvas_name+file_mtime"


def test_an_own_file_name_with_numbers_stays_moodles_and_a_receipted_blackboard_name_blackboards(
        names, tmp_path: Path) -> None:
    """The other way round: a Moodle student's own ``hw_2024_1015_pooling.ipynb`` reads as a Canvas
    name too (``…_2024_1015_…``), and a Blackboard assignment called ``Lab_2024_123`` does; the
    Moodle part is the shorter, and the Blackboard attempt has its receipt."""
    wang, wang_id, _, _ = layouts.MOODLE_WANG
    folder = tmp_path / "moodle"
    layouts.copy_notebook(layouts.CORRECT, folder / f"{wang}_{wang_id}_assignsubmission_file_hw_2024_1015_pooling.ipynb")
    subs, _ = find(folder, names, tmp_path)
    assert subs[wang].identity.lms == "moodle"
    folder = tmp_path / "blackboard"
    prefix = "Lab_2024_123_s7654321_attempt_2026-10-01-23-59-59"
    layouts.copy_notebook(layouts.CORRECT, folder / f"{prefix}_02-pooling.ipynb")
    (folder / f"{prefix}.txt").write_text(layouts.blackboard_receipt(
        "s7654321", "周迅", "Thursday, October 1, 2026 11:59:59 PM EDT", "2026-10-01-23-59-59", "02-pooling.ipynb")
        .replace("Pooling_s7654321", "Lab_2024_123_s7654321").replace("Assignment: Pooling", "Assignment: Pooling 2024"),
        encoding="utf-8")
    subs, _ = find(folder, names, tmp_path)
    assert subs["s7654321"].identity.lms == "blackboard" and subs["s7654321"].identity.name == "周迅"


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="needs root to give a folder to another account")
def test_an_inbound_folder_another_account_made_for_a_student_is_listed(names, tmp_path: Path) -> None:
    """nbgrader's ``inbound/`` is writable by every student (it has to be, for ``nbgrader submit``),
    and the folder name says whose submission it is: the account ``nobody`` made
    ``bob+02-pooling+2099-…``, with a later time than Bob's own, and it was graded as Bob's."""
    import os
    import pwd

    course_folder = layouts.nbgrader_exchange(tmp_path)
    forged = course_folder / "inbound" / "bob+02-pooling+2026-10-03 09:30:00.000000 UTC+zzzz"
    layouts.copy_notebook(layouts.WRONG, forged / "02-pooling.ipynb")
    (forged / "timestamp.txt").write_text("2026-10-03 09:30:00.000000 UTC", encoding="utf-8")
    nobody = pwd.getpwnam("nobody")
    for path in (forged, forged / "02-pooling.ipynb", forged / "timestamp.txt"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    subs, unrecognised = find(course_folder, names, tmp_path)
    assert "x9Yz" in subs["bob"].source  # Bob's own latest
    [listed] = [u for u in unrecognised if "zzzz" in u.path]
    assert listed.message.code == "intake.inbound_not_theirs" and "nobody" in listed.reason


def test_an_extension_for_a_key_no_submission_has_is_said(tmp_path: Path) -> None:
    """``extensions = { "Wang Fang" = … }`` where the grader's key is ``wang_fang`` was silently
    unused, and the student given more time paid the late penalty."""
    from grader.classroom.plan import plan_class

    config = course(tmp_path / "course", due='due = 2026-10-01T23:59:00+08:00\n'
                                             'extensions = { "Wang Fang" = 2026-10-05T23:59:00+08:00 }')
    layouts.copy_notebook(layouts.CORRECT, tmp_path / "class" / "wang_fang" / "01-convolution.ipynb")
    with plan_class(tmp_path / "class", config) as plan:
        assert [s.student for s in plan.gradable] == ["wang_fang"]
        [said] = [u for u in plan.unrecognised if u.message is not None and u.message.code == "intake.extension_unused"]
    assert said.path == "course.toml" and "Wang Fang" in said.reason and "01-convolution" in said.reason
