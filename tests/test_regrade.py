"""Regrades: every run's verdicts kept, the diff a run makes (who, how much, which tests, why), a
student's history, a version-1 gradebook upgraded, and the class page's "changes since the last run".

No kernel runs here: results are built by hand (as tests/test_gradebook.py makes them) and recorded
as a class run records them, or graded by a fake runner through :func:`grade_class`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from html import unescape
from pathlib import Path

import pytest
from rich.console import Console

from grader import __version__, cli
from grader.classroom.batch import grade_class
from grader.classroom.gradebook import Gradebook
from grader.classroom.regrade import CHANGES_FILE, keep_changes, read_changes, run_changes
from grader.classroom.runner import Work
from grader.cli import main
from grader.course.config import load_config
from grader.intake.submissions import Submission
from grader.judge.results import Failure, GraderError, Late, StudentRecord, SubmissionResult
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.report import render_reports
from test_i18n import english

from browser import run_chromium

ROOT = Path(__file__).resolve().parents[1]
A = "01-convolution"
POINTS = {"conv2d": 20.0, "im2col": 20.0}


def result(student: str = "alice", sha: str = "a" * 64, failing: tuple[str, ...] = (), points: dict[str, float] | None = None,
           name: str = "", late: float = 0.0, assignment: str = A) -> SubmissionResult:
    """A graded submission: one hidden group per question, full marks unless ``failing`` names it."""
    points = POINTS if points is None else points
    tests = tuple(GroupResult(q, "hidden", False, 0.0 if q in failing else most, most, 4, 1 if q in failing else 4,
                              Failure("wrong", "text", {"text": "wrong"}) if q in failing else None, group_zh="隐藏测试")
                  for q, most in points.items())
    return SubmissionResult(student, assignment, sha, __version__, 1.0, tests,
                            identity=StudentRecord(student, name) if name else None,
                            late=Late(penalty=late, rule="10% a day") if late else None)


def grader_error(student: str = "alice", sha: str = "a" * 64) -> SubmissionResult:
    return SubmissionResult(student, A, sha, __version__, 0.0, (), grader_error=GraderError("grade", "OSError: lost"))


@dataclasses.dataclass
class Config:
    """A run's configuration parts, as :func:`grade_class` passes them to ``begin_run``."""

    key: str = "key-1"
    course: str = "course-1"
    code: str = "code-1"
    version: str = __version__


def run(book: Gradebook, found: list[tuple[SubmissionResult, bool]], config: Config = Config(),
        finish: bool = True) -> int:
    """A class run that found ``found`` ((result, taken from the cache)), as the Keeper records them."""
    number = book.begin_run(config.key, config.course, config.code, config.version, len(found))
    for res, cached in found:
        if res.grader_error is None:
            book.record(res, config.key, number, cached=cached)
        else:
            book.record_failure(number, res, config.key)
    if finish:
        book.finish_run(number)
    return number


# --- the diff of one run -------------------------------------------------------------------------


def test_a_regrade_that_flips_one_test_names_the_student_the_test_and_the_score_change(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice"), False), (result("bob", sha="b" * 64), False)])
        # course.toml changed (a test fixed): alice's im2col now fails; bob's result is the same.
        after = result("alice", failing=("im2col",))
        second = run(book, [(after, False), (result("bob", sha="b" * 64), False)], Config(key="key-2", course="course-2"))
        changes = run_changes(book)

    assert changes is not None and changes.run == second and changes.finished
    assert (changes.compared, changes.unchanged, changes.new) == (2, 1, 0)
    [change] = changes.changes
    assert (change.student, change.assignment) == ("alice", A)
    assert (change.score_before, change.score_after) == (sum(POINTS.values()), sum(POINTS.values()) - POINTS["im2col"])
    assert change.delta == -POINTS["im2col"] and change.final_delta == -POINTS["im2col"]
    [flip] = change.flips
    assert (flip.test, flip.before, flip.after) == ("im2col · hidden", "passed", "failed")
    assert (flip.score_before, flip.score_after) == (POINTS["im2col"], 0.0)
    assert change.reasons == ("course",), "course.toml changed, the notebook and the grader did not"


def test_a_resubmission_says_the_notebook_changed(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice", failing=("conv2d",)), False)])
        run(book, [(result("alice", sha="c" * 64), False)])
        [change] = run_changes(book).changes  # type: ignore[union-attr]
    assert change.reasons == ("notebook",)
    assert change.delta == POINTS["conv2d"]
    assert [(f.test, f.before, f.after) for f in change.flips] == [("conv2d · hidden", "failed", "passed")]


def test_an_unchanged_rerun_shows_no_changes(tmp_path: Path) -> None:
    students = [result("alice"), result("bob", sha="b" * 64, failing=("conv2d",))]
    with Gradebook(tmp_path) as book:
        run(book, [(r, False) for r in students])
        run(book, [(r, True) for r in students])  # everything taken from the cache
        changes = run_changes(book)
    assert changes is not None and changes.changes == ()
    assert (changes.compared, changes.cached, changes.graded) == (2, 2, 0)


def test_the_seed_the_grader_and_the_late_penalty_are_told_apart(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice"), False), (result("bob", sha="b" * 64), False), (result("cai", sha="c" * 64), False)])
        # The key moved while course.toml and the code did not: GRADER_SEED changed.
        run(book, [(result("alice", failing=("conv2d",)), False)], Config(key="key-2"))
        [seed] = run_changes(book).changes  # type: ignore[union-attr]
        run(book, [(result("bob", sha="b" * 64, failing=("im2col",)), False)], Config(key="key-3", code="code-2"))
        [code] = run_changes(book).changes  # type: ignore[union-attr]
        run(book, [(result("cai", sha="c" * 64, late=4.0), False)], Config(key="key-3", code="code-2"))
        [late] = run_changes(book).changes  # type: ignore[union-attr]
    assert seed.reasons == ("seed",) and code.reasons == ("code",)
    assert late.flips == () and late.delta == 0 and late.final_delta == -4.0
    assert "penalty" in late.reasons and "course" not in late.reasons


def test_points_moved_in_course_toml_show_as_a_score_change_per_test(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice"), False)])
        run(book, [(result("alice", points={"conv2d": 30.0, "im2col": 20.0}), False)],
            Config(key="key-2", course="course-2"))
        [change] = run_changes(book).changes  # type: ignore[union-attr]
    [flip] = change.flips
    assert not flip.flipped and (flip.max_before, flip.max_after) == (20.0, 30.0)
    assert (change.max_before, change.max_after) == (40.0, 50.0)


def test_a_grader_error_is_not_a_score_change(tmp_path: Path) -> None:
    with Gradebook(tmp_path) as book:
        first = run(book, [(result("alice"), False)])
        run(book, [(grader_error("alice"), False)])
        broken = run_changes(book)
        run(book, [(result("alice"), False)])  # graded again: compared with the last graded entry
        mended = run_changes(book)
    assert broken is not None and broken.changes == () and broken.compared == 0
    assert [s for s, _, _ in broken.not_graded] == ["alice"]
    assert mended is not None and mended.changes == () and mended.compared == 1
    with Gradebook(tmp_path) as book:
        assert book.previous("alice", A, before=mended.run) == book.entries(first)[0]


def test_a_stopped_run_is_marked_unfinished_and_its_page_says_the_diff_is_incomplete(tmp_path: Path) -> None:
    config = load_config(ROOT / "course.toml", environ={})
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice"), False), (result("bob", sha="b" * 64), False)])
        stopped = run(book, [(result("alice", failing=("conv2d",)), False)], Config(key="key-2", course="course-2"),
                      finish=False)
        changes = keep_changes(book, tmp_path, stopped)
    assert changes is not None and not changes.finished and (changes.reached, changes.planned) == (1, 1)
    assert read_changes(tmp_path) == changes, "changes.json holds the same record"
    html = render_reports(tmp_path, [result("alice", failing=("conv2d",))], config, "en")[-1].read_text("utf-8")
    assert 'id="changes-stopped"' in html and "incomplete" in html


# --- grade_class with a fake runner ----------------------------------------------------------------


@dataclasses.dataclass
class FakeRunner:
    """Grades each submission as ``failing`` says (the questions it fails), without a kernel."""

    failing: dict[str, tuple[str, ...]]
    graded: list[str] = dataclasses.field(default_factory=list)

    @contextmanager
    def session(self, work: Work) -> Iterator[FakeRunner]:
        yield self

    def submit(self, sub: Submission) -> Future[SubmissionResult]:
        self.graded.append(sub.student)
        future: Future[SubmissionResult] = Future()
        points = {"max_pool2d": 20.0}
        future.set_result(result(sub.student, sub.sha256, self.failing.get(sub.student, ()), points,
                                 assignment=sub.assignment))
        return future

    def abort(self) -> None:
        pass


def test_a_class_run_keeps_its_verdicts_and_prints_what_changed(tmp_path: Path) -> None:
    config = load_config(ROOT / "course.toml", environ={})
    subs = tmp_path / "subs"
    for student in ("ann", "bo"):
        (subs / student).mkdir(parents=True)
        (subs / student / "02-pooling.ipynb").write_text(f'{{"student": "{student}"}}')
    out = tmp_path / "out"
    first = grade_class(subs, out, config, runner=FakeRunner({}))
    assert first.changes is not None and first.changes.first and first.changes.new == 2

    (subs / "bo" / "02-pooling.ipynb").write_text('{"student": "bo", "again": true}')  # bo resubmits
    runner = FakeRunner({"bo": ("max_pool2d",)})
    second = grade_class(subs, out, config, runner=runner)
    assert runner.graded == ["bo"] and second.cached == 1
    assert second.changes is not None and [c.student for c in second.changes.changes] == ["bo"]
    assert read_changes(out) == second.changes
    buffer = io.StringIO()
    cli._print_run(second, out, Console(file=buffer, width=200), "en")
    shown = buffer.getvalue()
    assert "1 submission(s) changed since the last run" in shown
    assert "bo · 02-pooling: 20 → 0 (−20)" in shown and "the notebook changed" in shown
    assert "max_pool2d · hidden: passed → failed" in shown
    buffer = io.StringIO()
    cli._print_run(second, out, Console(file=buffer, width=200), "zh")
    assert "通过 → 未通过" in buffer.getvalue() and not english(buffer.getvalue().replace(str(out), ""))


# --- a version-1 gradebook ----------------------------------------------------------------------------

# The schema a version-1 grader wrote (cnn-grader before issue 15), as it wrote it.
SCHEMA_1 = """
CREATE TABLE submissions (
    student TEXT NOT NULL, assignment TEXT NOT NULL, sha256 TEXT NOT NULL, config_hash TEXT NOT NULL,
    grader_version TEXT NOT NULL, graded_at TEXT NOT NULL, recorded_at TEXT NOT NULL, seq INTEGER NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, result_json TEXT NOT NULL,
    PRIMARY KEY (student, assignment, sha256, config_hash, grader_version)
);
CREATE INDEX submissions_latest ON submissions (student, assignment, seq);
PRAGMA user_version = 1;
"""


def version_1_gradebook(folder: Path, rows: list[tuple[SubmissionResult, str, str]]) -> None:
    """A gradebook file as a version-1 grader left it: ``rows`` of (result, config hash, recorded at)."""
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(folder / "gradebook.sqlite") as db:
        db.executescript(SCHEMA_1)
        for seq, (res, key, at) in enumerate(rows, 1):
            db.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (res.student, res.assignment, res.submission_sha256, key, res.grader_version, at, at, seq,
                        res.score, res.max_score, json.dumps(res.to_json())))
    db.close()


def test_a_version_1_gradebook_is_upgraded_and_its_latest_results_become_the_first_run(tmp_path: Path) -> None:
    older = result("alice", failing=("conv2d", "im2col"))
    latest = result("alice", sha="d" * 64, failing=("im2col",))
    bob = result("bob", sha="b" * 64)
    version_1_gradebook(tmp_path, [(older, "old-key", "2026-10-01T08:00:00+00:00"),
                                   (bob, "old-key", "2026-10-01T08:01:00+00:00"),
                                   (latest, "old-key", "2026-10-02T09:00:00+00:00")])
    with Gradebook(tmp_path) as book:
        assert book.lookup("alice", A, "d" * 64, "old-key", __version__) == latest, "the cache still hits"
        assert book.latest() == [latest, bob]
        [imported] = book.runs()
        assert imported.origin == "schema-1" and imported.finished and imported.course_hash == ""
        entries = book.entries(imported.id)
        assert [(e.student, e.sha256, e.score) for e in entries] == [("alice", "d" * 64, latest.score),
                                                                      ("bob", "b" * 64, bob.score)]
        assert [(v.test, v.status) for v in entries[0].verdicts] == [("conv2d · hidden", "passed"),
                                                                      ("im2col · hidden", "failed")]
        # The first run after the upgrade, under this grader's key: what it changed, though not which part.
        run(book, [(result("alice", sha="d" * 64), False), (bob, False)])
        [change] = run_changes(book).changes  # type: ignore[union-attr]
    assert change.reasons == ("config",) and change.delta == POINTS["im2col"]
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    with Gradebook(tmp_path) as book:  # opened again: not imported twice
        assert [r.origin for r in book.runs()] == ["schema-1", "grade"]


# --- `grader history` --------------------------------------------------------------------------------


def three_runs(out: Path) -> None:
    """alice (李华): first graded, then a regrade after course.toml changed, then a resubmission."""
    with Gradebook(out) as book:
        run(book, [(result("alice", name="李华"), False), (result("bob", sha="b" * 64, name="Bo Chen"), False)])
        run(book, [(result("alice", name="李华", failing=("im2col",)), False)], Config(key="key-2", course="course-2"))
        run(book, [(result("alice", sha="e" * 64, name="李华", failing=("conv2d",)), False)],
            Config(key="key-2", course="course-2"))


def test_history_prints_each_run_and_what_flipped_between_them(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    three_runs(tmp_path)
    assert main(["history", "alice", "--dir", str(tmp_path), "--lang", "en"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"李华 (alice) · {A}"
    rows = [line for line in lines if re.match(r"\s+#\d", line)]
    assert [row.split()[0] for row in rows] == ["#1", "#2", "#3"]
    assert [row.split()[3] for row in rows] == ["a" * 8, "a" * 8, "e" * 8], "the notebook's short hash"
    assert [row.split()[4] for row in rows] == ["key-1"[:8], "key-2", "key-2"], "the configuration's short hash"
    assert "first graded" in rows[0]
    assert "40 → 20 (−20)" in rows[1] and "why: course.toml changed" in rows[1]
    assert "20 → 20 (±0)" in rows[2] and "why: the notebook changed" in rows[2]
    flips = [line.strip() for line in lines if line.strip().startswith("·")]
    assert flips == ["· im2col · hidden: passed → failed (20/20 → 0/20 points)",
                     "· conv2d · hidden: passed → failed (20/20 → 0/20 points)",
                     "· im2col · hidden: failed → passed (0/20 → 20/20 points)"]


def test_history_finds_a_student_by_display_name_and_refuses_an_unknown_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    three_runs(tmp_path)
    assert main(["history", "bo chen", "--dir", str(tmp_path), "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"Bo Chen (bob) · {A}"
    assert main(["history", "李华", "--dir", str(tmp_path), "--lang", "zh", "--assignment", A]) == 0
    shown = capsys.readouterr().out
    assert "原因：course.toml 变了" in shown and "im2col · 隐藏测试：通过 → 未通过" in shown and not english(shown)
    assert main(["history", "nobody", "--dir", str(tmp_path)]) == 2
    assert "no student 'nobody'" in capsys.readouterr().err
    assert main(["history", "alice", "--dir", str(tmp_path / "empty")]) == 2
    with sqlite3.connect(tmp_path / "gradebook.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    assert main(["history", "alice", "--dir", str(tmp_path)]) == 2
    assert "schema version 99 was written by a newer grader" in capsys.readouterr().err


# --- the class page ----------------------------------------------------------------------------------


def page_folder(tmp_path: Path) -> tuple[Path, list[SubmissionResult]]:
    """An output folder whose last run regraded alice (a test flipped) and graded bob unchanged."""
    out = tmp_path / "out"
    with Gradebook(out) as book:
        run(book, [(result("alice", name="李华"), False), (result("bob", sha="b" * 64), False)])
        latest = [result("alice", name="李华", failing=("im2col",), late=2.0), result("bob", sha="b" * 64)]
        second = run(book, [(latest[0], False), (latest[1], True)], Config(key="key-2", course="course-2"))
        keep_changes(book, out, second)
    return out, latest


def visible_text(html: str) -> str:
    section = re.search(r'<section id="changes">.*?</section>', html, re.S)
    assert section is not None, "the page has the changes section"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section.group())).split())


@pytest.mark.parametrize("lang, words", [
    ("en", ["Changes since the last run", "1 submission(s) changed, 1 did not.", "李华", "40 → 20 (−20)",
            "40 → 18 (−22)", "im2col · hidden: passed → failed", "course.toml changed", "the late penalty changed",
            "since run #1"]),
    ("zh", ["自上次运行以来的变化", "1 份提交的得分变了，1 份没有变。", "李华", "40 → 20（−20）", "40 → 18（−22）",
            "im2col · 隐藏测试：通过 → 未通过", "course.toml 变了", "迟交扣分变了", "与运行 #1 相比"]),
])
def test_the_class_page_says_who_changed_how_much_and_why(tmp_path: Path, lang: str, words: list[str]) -> None:
    out, latest = page_folder(tmp_path)
    config = load_config(ROOT / "course.toml", environ={})
    html = render_reports(out, latest, config, lang)[-1].read_text(encoding="utf-8")
    shown = visible_text(html)
    for word in words:
        assert word in shown, (word, shown)
    assert 'href="alice/01-convolution.html"' in html, "the row links to the student's page"
    if lang == "zh":
        assert not english(shown.replace("course.toml", "")), english(shown)


def test_a_folder_without_changes_json_has_no_section_and_a_bad_one_is_left_out(tmp_path: Path) -> None:
    config = load_config(ROOT / "course.toml", environ={})
    html = render_reports(tmp_path, [result()], config, "en")[-1].read_text("utf-8")
    assert 'id="changes"' not in html
    (tmp_path / CHANGES_FILE).write_text('{"format": 99}')
    assert read_changes(tmp_path) is None
    html = render_reports(tmp_path, [result()], config, "en")[-1].read_text("utf-8")
    assert 'id="changes"' not in html


def test_the_changes_section_renders_in_chromium(chromium: str, tmp_path: Path) -> None:
    out, latest = page_folder(tmp_path)
    config = load_config(ROOT / "course.toml", environ={})
    shots = Path(os.environ.get("REPORT_SHOTS_DIR", tmp_path))
    for lang, heading in (("zh", "自上次运行以来的变化"), ("en", "Changes since the last run")):
        index = render_reports(out, latest, config, lang)[-1]
        png = shots / f"changes-{lang}.png"
        run_chromium(chromium, index.as_uri(), "--window-size=1200,1400", f"--screenshot={png}")
        dom = run_chromium(chromium, index.as_uri(), "--dump-dom").stdout
        assert heading in dom and 'id="changes-table"' in dom
        assert png.is_file() and png.stat().st_size > 10_000, "a screenshot with something on it"



def test_history_shows_a_grader_error_and_a_stopped_run_without_comparing_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Gradebook(tmp_path) as book:
        run(book, [(result("alice"), False)])
        run(book, [(grader_error("alice"), False)])
        run(book, [(result("alice"), True)], finish=False)
    assert main(["history", "alice", "--dir", str(tmp_path), "--lang", "en"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if re.match(r"\s+#\d", line)]
    assert len(rows) == 3
    assert "grader error: not graded, not compared" in rows[1] and rows[1].split()[5] == "—"
    assert "no change (unchanged, from the gradebook) (this run was stopped before its end)" in rows[2], \
        "compared with run #1, the last graded one"
