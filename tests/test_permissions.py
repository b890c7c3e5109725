"""Who can read what the grader writes: pages and exports as the umask says (0644 under the usual
022), so a web server can publish them; the instructor's own files (results/*.json with the hidden
inputs and expected values, gradebook.sqlite) 0600 whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from course_facts import CONFIG
from grader.classroom.gradebook import Gradebook, write_atomic, write_grades_csv, write_result
from grader.judge.results import StudentRecord, SubmissionResult
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.export import write_export
from grader.publish.handout import write_student_zips
from grader.publish.report import render_reports


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process's umask set to the test's parameter, and restored."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def a_class(out: Path) -> list[SubmissionResult]:
    results = [SubmissionResult(s, "01-convolution", "a" * 64, "0.1.0", 1.0,
                                (GroupResult("conv2d", "hidden", False, 20.0, 20.0, 1, 1),),
                                identity=StudentRecord(s, s, lms="moodle", lms_id=n))
               for s, n in (("alice", "11"), ("李华", "12"))]
    for result in results:
        write_result(out, result)
    return results


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], indirect=True)
def test_pages_and_exports_follow_the_umask_and_results_stay_private(tmp_path: Path, umask: int) -> None:
    tmp_path = tmp_path / "out"  # made by the grader (pytest's own folder is 0700)
    results = a_class(tmp_path)
    written = [*render_reports(tmp_path, results, CONFIG, "en"), write_grades_csv(tmp_path, results, {})]
    for fmt in ("canvas", "moodle", "gradescope"):
        written += write_export(tmp_path, fmt, CONFIG).paths
    written += write_student_zips(tmp_path, results, CONFIG).paths
    assert len(written) == 2 + 1 + 1 + 1 + 2 + 2 + 2
    for path in written:
        assert mode(path) == 0o666 & ~umask, path.relative_to(tmp_path)
    for folder in {p.parent for p in written}:
        assert mode(folder) == 0o777 & ~umask, folder.relative_to(tmp_path)

    with Gradebook(tmp_path) as book:
        for result in results:
            book.record(result, "c" * 64)
        private = [*sorted((tmp_path / "results").glob("*/*.json")), *sorted(tmp_path.glob("gradebook.sqlite*"))]
        assert [p.name for p in private] == ["01-convolution.json", "01-convolution.json", "gradebook.sqlite",
                                             "gradebook.sqlite-shm", "gradebook.sqlite-wal"]  # SQLite's own, open
        for path in private:
            assert mode(path) == 0o600, path.relative_to(tmp_path)
    assert mode(tmp_path / "results") == 0o700


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_a_rewritten_page_gets_the_usual_permissions_again(tmp_path: Path, umask: int) -> None:
    """A page an older grader left 0600 (tempfile.mkstemp) is readable once rewritten."""
    page = tmp_path / "report" / "index.html"
    page.parent.mkdir()
    page.write_bytes(b"old")
    page.chmod(0o600)
    write_atomic(page, b"new")
    assert mode(page) == 0o644 and page.read_bytes() == b"new"
    assert sorted(p.name for p in page.parent.iterdir()) == ["index.html"]  # no temporary file left
