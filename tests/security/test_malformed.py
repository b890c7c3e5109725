"""Malformed notebooks, odd names and unsafe zips or links in the class folder: each gets a reason,
nothing escapes the extraction folder, instructor files never reach a result, others are unaffected.

How each is refused is tested in detail in tests/test_submissions.py and tests/test_grade.py; here
they sit in the same class run as the hostile kernels, and the run as a whole is checked.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import nbformat
from test_submissions import make_zip  # tests/ is on sys.path (see test_interrupted.py)

from course_facts import max_score
from grader.classroom.gradebook import result_path

from .conftest import (
    ASSIGNMENT,
    BASELINE,
    SECRET,
    ClassFolder,
    HostileRun,
    hostile,
    hostile_cells,
    hostile_notebook,
)
from .test_kernel_killers import assert_unaffected

ESCAPED = "escaped-by-zip-slip.txt"
CHINESE = "张伟"
BYTES_NAME = os.fsdecode(b"stud\xff")  # not UTF-8: the surrogate escape of byte 0xff


@hostile("truncated")
def _truncated(folder: ClassFolder) -> None:
    folder.notebook("truncated", BASELINE.read_bytes()[:5000])


@hostile("empty")
def _empty(folder: ClassFolder) -> None:
    folder.notebook("empty", b"")


@hostile("binary")
def _binary(folder: ClassFolder) -> None:
    folder.notebook("binary", bytes(range(256)) * 64)


@hostile("nbformat-v3")
def _v3(folder: ClassFolder) -> None:
    v3 = nbformat.convert(nbformat.read(BASELINE, as_version=4), 3)
    folder.notebook("nbformat-v3", nbformat.writes(v3, version=3).encode("utf-8"))


@hostile("sixty-mb")
def _sixty_mb(folder: ClassFolder) -> None:
    nb = hostile_notebook()
    picture = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo" + "A" * (60 << 20)})
    nb.cells[1].outputs = [picture]
    path = folder.notebook("sixty-mb", nb)
    assert path.stat().st_size > 60 << 20


R_KERNEL = hostile_cells("r-kernelspec", kernelspec={"name": "ir", "display_name": "R", "language": "R"})


@hostile(BYTES_NAME)
def _bytes_name(folder: ClassFolder) -> None:
    folder.notebook(BYTES_NAME, BASELINE.read_bytes())


@hostile(CHINESE)
def _chinese(folder: ClassFolder) -> None:
    folder.notebook(CHINESE, BASELINE.read_bytes(), name="01-卷积.ipynb")


@hostile("zip-slip")
def _zip_slip(folder: ClassFolder) -> None:
    make_zip(folder.submissions / "zip-slip.zip", {f"{ASSIGNMENT}.ipynb": BASELINE.read_bytes(),
                                                   f"../../../{ESCAPED}": b"outside"})


@hostile("zip-link")
def _zip_link(folder: ClassFolder) -> None:
    with zipfile.ZipFile(folder.submissions / "zip-link.zip", "w") as zf:
        link = zipfile.ZipInfo(f"{ASSIGNMENT}.ipynb")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(folder.course_dir / "solutions" / f"{ASSIGNMENT}.ipynb"))


@hostile("zip-bomb")
def _zip_bomb(folder: ClassFolder) -> None:
    with zipfile.ZipFile(folder.submissions / "zip-bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"{ASSIGNMENT}.ipynb", "w", force_zip64=True) as entry:
            for _ in range(120):  # 120 MB of zeros, over the 100 MB per-file limit: about 120 kB zipped
                entry.write(bytes(1 << 20))


@hostile("linked-solution")
def _linked_solution(folder: ClassFolder) -> None:
    """The notebook itself is a link to the instructor's solution: it would get full marks."""
    (folder.submissions / "linked-solution").mkdir()
    (folder.submissions / "linked-solution" / f"{ASSIGNMENT}.ipynb").symlink_to(
        folder.course_dir / "solutions" / f"{ASSIGNMENT}.ipynb")


PEEKER = "linked-data"
PEEK = (
    "import os\nLEAK = ''\n"
    "for name in ('course.toml', 'answers.ipynb'):\n"
    "    LEAK += f'{name}: link={os.path.islink(name)} '\n"
    "    try:\n        LEAK += open(name, encoding='utf-8').read()\n"
    "    except OSError as exc:\n        LEAK += type(exc).__name__ + '; '\n"
    "def conv2d_multi(x, k):\n    raise ValueError(LEAK[:3000])"
)


@hostile(PEEKER)
def _linked_data(folder: ClassFolder) -> None:
    """Its own folder holds links to course.toml and the solution, next to a notebook that reads them."""
    own = folder.submissions / PEEKER
    folder.notebook(PEEKER, hostile_notebook(PEEK))
    (own / "course.toml").symlink_to(folder.course_dir / "course.toml")
    (own / "answers.ipynb").symlink_to(folder.course_dir / "solutions" / f"{ASSIGNMENT}.ipynb")


def unreadable(hostile_run: HostileRun, student: str) -> str:
    result = hostile_run.result(student)
    assert result.score == 0 and result.max_score == max_score(ASSIGNMENT)
    assert all(t.failure is not None and t.failure.kind == "error" for t in result.tests)
    assert result.error.startswith(f"{ASSIGNMENT}.ipynb: "), result.error
    stored = json.loads(result_path(hostile_run.out, student, ASSIGNMENT).read_text(encoding="utf-8"))
    assert stored["output"] == result.error and stored["score"] == 0
    return result.error


def test_truncated_json_notebook_is_graded_zero_with_the_reason(hostile_run: HostileRun) -> None:
    assert "not a readable notebook" in unreadable(hostile_run, "truncated")
    assert_unaffected(hostile_run)


def test_empty_notebook_file_is_graded_zero_with_the_reason(hostile_run: HostileRun) -> None:
    assert "not a readable notebook" in unreadable(hostile_run, "empty")
    assert_unaffected(hostile_run)


def test_binary_file_named_ipynb_is_graded_zero_with_the_reason(hostile_run: HostileRun) -> None:
    assert "not UTF-8 text" in unreadable(hostile_run, "binary")
    assert_unaffected(hostile_run)


def test_nbformat_v3_notebook_is_upgraded_and_graded(hostile_run: HostileRun) -> None:
    assert hostile_run.result("nbformat-v3").score == 100
    assert_unaffected(hostile_run)


def test_sixty_mb_notebook_is_graded_and_its_result_stays_small(hostile_run: HostileRun) -> None:
    result = hostile_run.result("sixty-mb")
    assert result.score == 100 and not result.error
    assert result_path(hostile_run.out, "sixty-mb", ASSIGNMENT).stat().st_size < 64 * 1024
    assert_unaffected(hostile_run)


def test_r_kernelspec_is_ignored_and_the_python_kernel_grades_it(hostile_run: HostileRun) -> None:
    result = hostile_run.result(R_KERNEL)
    assert result.score == 100 and not result.notes
    assert_unaffected(hostile_run)


def test_non_utf8_student_folder_name_is_graded_and_stored(hostile_run: HostileRun) -> None:
    [student] = [s for s in hostile_run.by_student if s.startswith("stud")]
    result = hostile_run.result(student)
    assert result.score == 100
    stored = result_path(hostile_run.out, student, ASSIGNMENT)
    assert stored.is_file() and os.fsencode(stored.name).decode("utf-8")  # a UTF-8 file name on disk
    assert json.loads(stored.read_text(encoding="utf-8"))["grader"]["student"] == student
    assert student in (hostile_run.out / "grades.csv").read_text(encoding="utf-8-sig")
    assert_unaffected(hostile_run)


def test_chinese_student_and_file_names_are_graded(hostile_run: HostileRun) -> None:
    result = hostile_run.result(CHINESE)
    assert (result.assignment, result.source, result.score) == (ASSIGNMENT, f"{CHINESE}/01-卷积.ipynb", 100)
    assert result_path(hostile_run.out, CHINESE, ASSIGNMENT) == hostile_run.out / "results" / CHINESE / (
        f"{ASSIGNMENT}.json")
    assert (hostile_run.out / "report" / CHINESE / f"{ASSIGNMENT}.html").is_file()
    assert_unaffected(hostile_run)


def test_zip_slip_is_refused_whole_and_nothing_is_written_outside(hostile_run: HostileRun) -> None:
    assert "zip-slip" in hostile_run.unrecognised()["zip-slip.zip"]
    assert "zip-slip" not in hostile_run.by_student
    # The run's temporary folders are below base; '../../../' from the zip's folder is base itself.
    escaped = [*hostile_run.base.rglob(ESCAPED), *hostile_run.base.parent.glob(ESCAPED),
               *Path(tempfile.gettempdir()).glob(ESCAPED)]
    assert escaped == []
    assert_unaffected(hostile_run)


def test_symlink_entry_in_a_zip_is_refused(hostile_run: HostileRun) -> None:
    assert "is a symbolic link; nothing unpacked" in hostile_run.unrecognised()["zip-link.zip"]
    assert "zip-link" not in hostile_run.by_student
    assert_unaffected(hostile_run)


def test_zip_bomb_is_refused_before_unpacking(hostile_run: HostileRun) -> None:
    reason = hostile_run.unrecognised()["zip-bomb.zip"]
    assert "zip bomb?" in reason and "nothing unpacked" in reason
    assert "zip-bomb" not in hostile_run.by_student
    assert_unaffected(hostile_run)


def test_notebook_linked_to_the_instructors_solution_is_not_followed(hostile_run: HostileRun) -> None:
    assert hostile_run.unrecognised()[f"linked-solution/{ASSIGNMENT}.ipynb"] == (
        "symbolic link to outside the submissions folder: not followed")
    assert "linked-solution" not in hostile_run.by_student
    assert_unaffected(hostile_run)


def test_links_to_instructor_files_in_a_students_folder_are_not_copied(hostile_run: HostileRun) -> None:
    result = hostile_run.result(PEEKER)
    [message] = {t.failure.message for t in result.tests if t.question == "conv2d_multi"}
    assert "course.toml: link=False FileNotFoundError" in message, message
    assert "answers.ipynb: link=False FileNotFoundError" in message, message
    assert result.score == 90
    assert_unaffected(hostile_run)


def test_no_instructor_secret_appears_in_any_result_report_or_gradebook(hostile_run: HostileRun) -> None:
    files = list(hostile_run.written_files())
    assert any(p.suffix == ".sqlite" for p in files) and any(p.suffix == ".html" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    assert_unaffected(hostile_run)
