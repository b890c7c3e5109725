"""Fixture generators: one folder per LMS download layout, written by the tests (never downloaded).

Each ``*_download`` function writes, under the folder it is given, what an instructor gets from
that LMS for the pooling assignment (``02-pooling``), with the names, ids and times of the
module-level constants below, so that a test states its expectations from those facts rather than
from the code under test. The notebooks are copies of the example class's: :data:`CORRECT` (all
tests pass) and :data:`WRONG` (average instead of max pooling), so a graded download shows which
of two files was kept. Every layout has a resubmission, a student with a Chinese name and a
notebook for an assignment the course does not have; :func:`roster_csv` writes a roster with one
student who handed in nothing.

Used by tests/test_lms_intake.py, and meant for the late-policy and export tests too: the times
(:data:`CANVAS_MTIME`, the receipts', the worksheet's, the metadata's, ``timestamp.txt``) and
Canvas's late flag are what a late policy reads; the ids are what an export writes back.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from grader.intake.roster import Roster
from grader.intake.submissions import Submission, Unrecognised, find_submissions

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"
CORRECT = EXAMPLES / "li_hua" / "02-pooling.ipynb"  # every pooling test passes
WRONG = EXAMPLES / "wang_fang" / "02-pooling.ipynb"  # average pooling where max pooling is asked
ASSIGNMENT = "02-pooling"

# --- Canvas: NAME[_LATE]_USERID_FILEID_ORIGINAL --------------------------------------------------
# (Canvas name as written in the file, Canvas user id, display name, email) per student.
CANVAS_WANG = ("wangfang", "12345", "王芳", "wang.fang@example.edu")
CANVAS_LI = ("lihua", "23456", "李华", "li.hua@example.edu")  # late, resubmitted once (-1)
CANVAS_ZHANG = ("张伟", "34567", "张伟", "")  # Canvas keeps Chinese letters in its names
CANVAS_ZHAO = ("zhaolei", "45678", "赵磊", "")  # hands in a notebook for no assignment of the course
CANVAS_SUN = ("sunmei", "56789", "孙梅", "sun.mei@example.edu")  # on the roster, handed in nothing
CANVAS_MTIME = 1_790_000_000  # the files' modification time (Canvas's names carry no time)
CANVAS_FILES = {  # file name -> notebook
    "wangfang_12345_678901_02-pooling.ipynb": CORRECT,
    "lihua_late_23456_678902_02-pooling.ipynb": WRONG,  # the first upload
    "lihua_late_23456_678903_02-pooling-1.ipynb": CORRECT,  # the resubmission: the one to grade
    "张伟_34567_678904_池化作业.ipynb": CORRECT,  # "pooling homework", in Chinese
    "zhaolei_45678_678905_homework3.ipynb": CORRECT,  # not an assignment of this course
}


def copy_notebook(source: Path, target: Path, mtime: float | None = None) -> Path:
    """``source`` copied to ``target`` (folders made), modified at ``mtime`` if given."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if mtime is not None:
        os.utime(target, (mtime, mtime))
    return target


def _zip_folder(folder: Path, zip_path: Path) -> Path:
    """``folder``'s files in a zip, as the LMS hands it out (entry times the files' own)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return zip_path


def canvas_download(root: Path, *, zipped: bool = False) -> Path:
    """Canvas's "Download Submissions" for 02-pooling (:data:`CANVAS_FILES`, all flat, modified at
    :data:`CANVAS_MTIME`): the folder, or with ``zipped`` the zip Canvas serves."""
    folder = root / "canvas"
    for name, notebook in CANVAS_FILES.items():
        copy_notebook(notebook, folder / name, CANVAS_MTIME)
    return _zip_folder(folder, root / "cnn101-pooling submissions.zip") if zipped else folder


def roster_csv(root: Path, *, extra_rows: str = "") -> Path:
    """A roster (UTF-8 with Excel's BOM) of the five Canvas students, keyed by their pinyin, with
    their Canvas ids and Chinese names; :data:`CANVAS_SUN` handed nothing in. ``extra_rows`` (CSV
    text) is appended as it is, for the hostile cases."""
    lines = ["student,name,email,canvas_id,sis_id,aliases"]
    for key, (_, uid, name, email) in zip(("wang_fang", "li_hua", "zhang_wei", "zhao_lei", "sun_mei"),
                                          (CANVAS_WANG, CANVAS_LI, CANVAS_ZHANG, CANVAS_ZHAO, CANVAS_SUN)):
        lines.append(f"{key},{name},{email},{uid},S{uid},")
    path = root / "roster.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n" + extra_rows).encode("utf-8"))
    return path


# --- Moodle: FULL NAME_PARTICIPANTID_assignsubmission_file_ORIGINAL --------------------------------
MOODLE_WANG = ("Wang Fang", "4412", "wang.fang@example.edu", "Wednesday, 30 September 2026, 2:14 PM")
MOODLE_LI = ("李华", "4413", "li.hua@example.edu", "Thursday, 1 October 2026, 11:05 PM")
MOODLE_ZHAO = ("Zhao Lei", "4414", "zhao.lei@example.edu", "Thursday, 1 October 2026, 9:00 AM")
MOODLE_WORKSHEET = "Grades-CNN101-Pooling-77.csv"
MOODLE_MTIME = 1_790_000_000  # the files' modification time; 李华's old copy is an hour older


def moodle_download(root: Path, *, folders: bool = False, worksheet: bool = True) -> Path:
    """Moodle's "Download all submissions" for 02-pooling: Wang Fang's notebook, 李华's notebook
    and an older copy of it (``02-pooling (1).ipynb``, modified an hour before), Zhao Lei's notebook for no
    assignment of this course. ``folders``: "Download submissions in folders" (one
    ``NAME_ID_assignsubmission_file_/`` folder each). ``worksheet``: the grading worksheet beside
    them (:data:`MOODLE_WORKSHEET`), which gives the emails and the hand-in times."""
    folder = root / "moodle"
    files = [(MOODLE_WANG, "02-pooling.ipynb", CORRECT, MOODLE_MTIME), (MOODLE_LI, "02-pooling.ipynb", CORRECT, MOODLE_MTIME),
             (MOODLE_LI, "02-pooling (1).ipynb", WRONG, MOODLE_MTIME - 3600),
             (MOODLE_ZHAO, "lab-report.ipynb", CORRECT, MOODLE_MTIME)]
    for (name, pid, _, _), original, notebook, mtime in files:
        prefix = f"{name}_{pid}_assignsubmission_file_"
        copy_notebook(notebook, folder / prefix / original if folders else folder / f"{prefix}{original}", mtime)
    if worksheet:
        rows = ["Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
                "Last modified (submission),Last modified (grade),Feedback comments"]
        for name, pid, email, when in (MOODLE_WANG, MOODLE_LI, MOODLE_ZHAO):
            rows.append(f'Participant {pid},{name},{email},Submitted for grading,,100.00,Yes,"{when}",-,')
        (folder / MOODLE_WORKSHEET).write_bytes(("\ufeff" + "\n".join(rows) + "\n").encode("utf-8"))
    return folder


# --- Blackboard: ASSIGNMENT_USER_attempt_DATE_ORIGINAL, with a receipt per attempt ---------------
BLACKBOARD_CHEN = ("s1234567", "Chen Jie", "Thursday, October 1, 2026 2:22:05 PM EDT", "2026-10-01-14-22-05")
BLACKBOARD_CHEN_AGAIN = ("s1234567", "Chen Jie", "Friday, October 2, 2026 9:00:00 AM EDT", "2026-10-02-09-00-00")
BLACKBOARD_ZHOU = ("s7654321", "周迅", "Thursday, October 1, 2026 11:59:59 PM EDT", "2026-10-01-23-59-59")


def blackboard_receipt(user: str, name: str, when: str, stamp: str, original: str) -> str:
    """The text of Blackboard's receipt for one attempt (``stamp`` as in the file names)."""
    filename = f"Pooling_{user}_attempt_{stamp}_{original}"
    return (f"Name: {name} ({user})\nAssignment: Pooling\nDate Submitted: {when}\nCurrent Grade: Needs Grading\n\n"
            "Submission Field:\nThere is no student submission text data for this assignment.\n\n"
            "Comments:\nThere are no student comments for this assignment.\n\n"
            f"Files:\n\tOriginal filename: {original}\n\tFilename: {filename}\n")


def blackboard_download(root: Path, *, junk_receipt: bytes | None = None) -> Path:
    """Blackboard's "Assignment File Download" for the assignment "Pooling": Chen Jie's two attempts
    (the second, :data:`BLACKBOARD_CHEN_AGAIN`, is the one to grade), 周迅's one attempt, each with
    its receipt. ``junk_receipt`` replaces 周迅's receipt with those bytes."""
    folder = root / "blackboard"
    for (user, name, when, stamp), notebook in ((BLACKBOARD_CHEN, WRONG), (BLACKBOARD_CHEN_AGAIN, CORRECT),
                                                (BLACKBOARD_ZHOU, CORRECT)):
        prefix = f"Pooling_{user}_attempt_{stamp}"
        copy_notebook(notebook, folder / f"{prefix}_02-pooling.ipynb")
        receipt = folder / f"{prefix}.txt"
        if junk_receipt is not None and user == BLACKBOARD_ZHOU[0]:
            receipt.write_bytes(junk_receipt)
        else:
            receipt.write_text(blackboard_receipt(user, name, when, stamp, "02-pooling.ipynb"), encoding="utf-8")
    return folder


# --- Gradescope: submission_metadata.yml and a folder per submission ------------------------------
GRADESCOPE_SUN = ("孙梅", "3031", "sun.mei@example.edu", "2026-10-01 10:15:42.123456000 -07:00")
GRADESCOPE_PAIR = (("Li Hua", "3032", "li.hua@example.edu"), ("Zhao Lei", "3033", "zhao.lei@example.edu"))
GRADESCOPE_PAIR_AT = "2026-10-02 08:00:00.000000000 +08:00"


def gradescope_metadata(submitters: str = "") -> str:
    """The YAML Gradescope writes: 孙梅 alone in ``submission_111``, a pair in ``submission_222``."""
    name, sid, email, at = GRADESCOPE_SUN
    pair = "".join(f"  - :name: {n}\n    :sid: '{s}'\n    :email: {e}\n" for n, s, e in GRADESCOPE_PAIR)
    return (submitters or
            f"submission_111:\n  :submitters:\n  - :name: {name}\n    :sid: '{sid}'\n    :email: {email}\n"
            f"  :created_at: {at}\n  :score: 0.0\n  :history: []\n"
            f"submission_222:\n  :submitters:\n{pair}  :created_at: {GRADESCOPE_PAIR_AT}\n  :history: []\n")


def gradescope_export(root: Path, *, metadata: str | bytes | None = None) -> Path:
    """Gradescope's "Export Submissions" zip for 02-pooling, unpacked: the wrapping folder with
    :func:`gradescope_metadata` (or ``metadata`` as given) and one folder per submission."""
    folder = root / "assignment_999_export"
    copy_notebook(CORRECT, folder / "submission_111" / "02-pooling.ipynb")
    copy_notebook(WRONG, folder / "submission_222" / "02-pooling.ipynb")
    data = gradescope_metadata() if metadata is None else metadata
    (folder / "submission_metadata.yml").write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return root


# --- nbgrader: submitted/STUDENT/ASSIGNMENT/ and inbound/STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM/ ---
NBGRADER_ALICE = ("alice", "2026-10-01 14:22:05.123456 UTC")
NBGRADER_BOB_FIRST = ("bob", "2026-10-01 09:00:00.000000 UTC")
NBGRADER_BOB_LATER = ("bob", "2026-10-02 09:30:00.000000 UTC")


def nbgrader_exchange(root: Path) -> Path:
    """A course folder after ``nbgrader collect`` (``submitted/alice/02-pooling/``) beside the
    exchange's ``inbound/`` with bob's two submissions (the later, :data:`NBGRADER_BOB_LATER`,
    is the one to grade), each with its ``timestamp.txt``."""
    course = root / "course"
    student, stamp = NBGRADER_ALICE
    target = course / "submitted" / student / ASSIGNMENT
    copy_notebook(CORRECT, target / "02-pooling.ipynb")
    (target / "timestamp.txt").write_text(stamp, encoding="utf-8")
    for (student, stamp), notebook, random in ((NBGRADER_BOB_FIRST, WRONG, "Ab3d"), (NBGRADER_BOB_LATER, CORRECT, "x9Yz")):
        target = course / "inbound" / f"{student}+{ASSIGNMENT}+{stamp}+{random}"
        copy_notebook(notebook, target / "02-pooling.ipynb")
        (target / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return course


def find(root: Path, names: dict[str, tuple[str, ...]], tmp_path: Path,
         roster: Roster | None = None) -> tuple[dict[str, Submission], list[Unrecognised]]:
    """The submissions found under ``root``, by student, and what was not graded."""
    found, unrecognised = find_submissions(root, names, extract_to=tmp_path / "unzipped", roster=roster)
    return {sub.student: sub for sub in found}, unrecognised
