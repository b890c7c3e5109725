"""The similarity pass around the class run (grader.classroom.similarity_files) and on the instructor's
pages (grader.publish.report.similar): its two files, the class page's section, the side-by-side
pages, escaping, skipping and failing without costing the run, and never a byte of it to a student.

The records are written by hand here (the engine, grader.classroom.similarity, has its own tests);
the class runs use a runner that returns made-up results at once, and one test grades two real
copied notebooks end to end."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import stat
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_facts import CONFIG, ROOT
from grader import __version__
from grader.classroom import similarity_files
from grader.classroom.batch import grade_class
from grader.classroom.gradebook import write_result
from grader.classroom.similarity import Match, SimilarPair, Similarity, Span
from grader.classroom.similarity_files import (CSV_COLUMNS, SIMILARITY_CSV, SIMILARITY_JSON, read_similarity,
                                               write_similarity)
from grader.cli import main
from grader.judge.catalog import CATALOG
from grader.judge.results import StudentRecord, SubmissionResult
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.handout import write_student_zips
from grader.publish.report import render_reports
from grader.publish.report.similar import CODE_CHARS

EXAMPLES = ROOT / "examples" / "submissions"
POOLING = "02-pooling"
COURSE = ["--course", str(ROOT / "course.toml")]

A_CODE = "\n".join([
    "def max_pool2d(x, size, stride=None):",
    "    x = np.asarray(x, dtype=float)",
    "    out = np.zeros((2, 2))",
    "    MARKER_OF_ANN_ONLY = 1",
    "    return out",
    "",
    "def avg_pool2d(x, size, stride=None):",
    "    return x.mean()",
])
B_CODE = "\n".join([
    "# my own pooling",
    "def avg_pool2d(y, k, s=None):",
    "    return y.mean()",
    "",
    "def max_pool2d(y, k, s=None):",
    "    y = np.asarray(y, dtype=float)",
    "    res = np.zeros((2, 2))",
    "    return res",
])


def pair(a: str = "ann", b: str = "ben", *, flagged: bool = True, code: float = 0.91666, wrong: float = 0.5,
         assignment: str = POOLING) -> SimilarPair:
    return SimilarPair(assignment, a, b, code, wrong, flagged,
                       matches=(Match(Span(1, 3), Span(5, 7)), Match(Span(7, 8), Span(2, 3))),
                       wrong_cases=("max_pool2d · hidden #2", "max_pool2d · hidden #5"))


def similarity(*pairs: SimilarPair, code: dict[str, str] | None = None, compared: int = 3) -> Similarity:
    code = {"ann": A_CODE, "ben": B_CODE} if code is None else code
    return Similarity(pairs, {POOLING: code}, {POOLING: compared})


def result(student: str, name: str = "", assignment: str = POOLING, score: float = 10.0,
           sha256: str = "a" * 64) -> SubmissionResult:
    tests = (GroupResult("max_pool2d", "hidden", False, score, 20.0, 2, 1 if score < 20 else 2),)
    identity = StudentRecord(student, name) if name else None
    return SubmissionResult(student, assignment, sha256, __version__, 1.0, tests, identity=identity)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    for student, name in (("ann", "安 Ann"), ("ben", ""), ("cat", "")):
        write_result(tmp_path, result(student, name))
    return tmp_path


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def index(out: Path) -> str:
    return (out / "report" / "index.html").read_text(encoding="utf-8")


def pair_page(out: Path, a: str = "ann", b: str = "ben") -> Path:
    return out / "similarity" / POOLING / f"{a}--{b}.html"


def results_of(out: Path) -> list[SubmissionResult]:
    from grader.classroom.gradebook import load_results

    return load_results(out)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- the files ---------------------------------------------------------------------------------


def test_the_csv_has_the_columns_and_a_row_per_pair_rounded_to_three_decimals(tmp_path: Path) -> None:
    record = similarity(pair(), pair("ben", "cat", flagged=False, code=0.1234, wrong=0.0),
                        pair("=cmd|' /C calc'!A0", "ann", code=1.0, wrong=0.33333))
    data, table = write_similarity(tmp_path, record)
    assert (data.name, table.name) == (SIMILARITY_JSON, SIMILARITY_CSV)
    raw = table.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, like grades.csv"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS == ("assignment", "student_a", "student_b", "code_score", "shared_wrong",
                                            "flagged")
    assert rows[1:] == [
        [POOLING, "'=cmd|' /C calc'!A0", "ann", "1.000", "0.333", "true"],  # flagged first, the most alike first
        [POOLING, "ann", "ben", "0.917", "0.500", "true"],
        [POOLING, "ben", "cat", "0.123", "0.000", "false"],
    ]


def test_both_files_are_the_instructors_alone_and_the_record_reads_back(tmp_path: Path) -> None:
    record = similarity(pair(), pair("ben", "cat", flagged=False))
    data, table = write_similarity(tmp_path, record)
    assert mode(data) == mode(table) == 0o600
    back = read_similarity(tmp_path)
    assert back is not None and back.flagged() == record.flagged() and back.code == record.code
    assert read_similarity(tmp_path / "nothing") is None
    data.write_text("{ not json", encoding="utf-8")
    assert read_similarity(tmp_path) is None, "a broken record is no section, not a crash"


# --- the class page ----------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "heading", "never"), [("en", "Similar, worth a look", "never changes a score"),
                                                         ("zh", "相似，值得一看", "从不改变任何分数")])
def test_the_class_page_lists_the_flagged_pairs_with_links(out: Path, lang: str, heading: str, never: str) -> None:
    write_similarity(out, similarity(pair(), pair("ben", "cat", flagged=False)))
    render_reports(out, results_of(out), CONFIG, lang)
    page = index(out)
    section = page[page.index('<section id="similar">'):]
    section = section[:section.index("</section>")]
    words = visible(section)
    assert heading in words and never in words
    assert "安 Ann" in words and "ann" in words and "ben" in words and "0.92" in words and "0.50" in words
    assert "cat" not in words, "an unflagged pair is in the CSV, not on the page"
    assert "3" in visible(section[section.index('id="similar-thresholds"'):][:400])
    policy = CONFIG.similarity  # the thresholds of course.toml
    code, wrong, tokens = {"en": ("code score ≥ {}", "shared wrong answers ≥ {}", "at least {} tokens"),
                           "zh": ("代码相似度 ≥ {}", "相同错误答案 ≥ {}", "至少 {} 个词元")}[lang]
    assert code.format(f"{policy.code:g}") in words and wrong.format(f"{policy.shared_wrong:g}") in words
    assert tokens.format(policy.min_tokens) in words
    hrefs = re.findall(r'class="pair-link" href="([^"]+)"', section)
    assert hrefs == [f"../similarity/{POOLING}/ann--ben.html"]
    assert (out / "report" / hrefs[0]).resolve() == pair_page(out).resolve() and pair_page(out).is_file()


def test_nothing_flagged_is_one_line_and_no_pages(out: Path) -> None:
    write_similarity(out, similarity(pair(flagged=False), compared=3))
    render_reports(out, results_of(out), CONFIG, "en")
    assert "No pair of the 3 submission(s) compared is similar enough to look at." in visible(index(out))
    assert 'class="pair-link"' not in index(out) and not (out / "similarity").exists()


def test_a_long_list_is_cut_on_the_class_page(out: Path) -> None:
    from grader.publish.report.similar import MAX_LISTED

    many = tuple(pair(f"s{i:04d}", f"t{i:04d}") for i in range(MAX_LISTED + 5))
    write_similarity(out, Similarity(many, {POOLING: {}}, {POOLING: 2 * len(many)}))
    render_reports(out, results_of(out), CONFIG, "en")
    assert index(out).count('class="pair-link"') == MAX_LISTED
    assert "5 more pair(s) not listed here: similarity.csv has them all" in visible(index(out))
    assert len(list((out / "similarity" / POOLING).iterdir())) == len(many)


def test_no_record_no_section(out: Path) -> None:
    render_reports(out, results_of(out), CONFIG, "en")
    assert 'id="similar"' not in index(out) and "worth a look" not in index(out)


def test_pair_pages_are_private_and_outside_the_students_pages(out: Path) -> None:
    write_similarity(out, similarity(pair()))
    render_reports(out, results_of(out), CONFIG, "en")
    assert mode(pair_page(out)) == 0o600
    assert mode(out / "similarity") == mode(out / "similarity" / POOLING) == 0o700
    assert not list((out / "report").rglob("*--*")), "no pair page under report/"


# --- the side-by-side page ---------------------------------------------------------------------


def rows_of(page: str, side: str) -> dict[int, str]:
    """line number -> the row's region class ('' for none) in one column."""
    column = page[page.index(f'id="side-{side}"'):]
    column = column[:column.index("</table>")]
    return {int(n): cls for cls, n in re.findall(r'<tr(?: class="(r\d+)")?><td class="ln">(\d+)</td>', column)}


def test_the_pair_page_shows_both_codes_with_paired_regions(out: Path) -> None:
    write_similarity(out, similarity(pair()))
    render_reports(out, results_of(out), CONFIG, "en")
    page = pair_page(out).read_text(encoding="utf-8")
    a, b = rows_of(page, "a"), rows_of(page, "b")
    assert len(a) == len(A_CODE.split("\n")) and len(b) == len(B_CODE.split("\n"))
    # region 1: A 1-3 / B 5-7; region 2: A 7-8 / B 2-3; the rest unmarked
    assert [a[n] for n in range(1, 9)] == ["r1", "r1", "r1", "", "", "", "r2", "r2"]
    assert [b[n] for n in range(1, 9)] == ["", "r2", "r2", "", "r1", "r1", "r1", ""]
    assert '<a id="a-r1" href="#b-r1">1</a>' in page and '<a id="b-r1" href="#a-r1">1</a>' in page
    assert '<a id="a-r2" href="#b-r2">2</a>' in page and '<a id="b-r2" href="#a-r2">2</a>' in page
    words = visible(page)
    assert "MARKER_OF_ANN_ONLY" in words and "# my own pooling" in words
    assert "0.92" in words and "0.50" in words
    assert "max_pool2d · hidden #2" in words and "max_pool2d · hidden #5" in words
    assert "not a verdict" in words and "never changes a score" in words
    assert "<script" not in page and "script-src 'none'" in html.unescape(page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "nothing fetched from elsewhere"
    assert '<a href="../../report/index.html">' in page


def test_a_last_line_end_starts_no_line_and_needs_no_note(out: Path) -> None:
    write_similarity(out, Similarity((pair(),), {POOLING: {"ann": A_CODE + "\n", "ben": B_CODE}}, {POOLING: 2}))
    render_reports(out, results_of(out), CONFIG, "en")
    page = pair_page(out).read_text(encoding="utf-8")
    assert len(rows_of(page, "a")) == len(A_CODE.split("\n")) and "not shown" not in page


def test_hostile_code_and_names_are_shown_as_text(out: Path) -> None:
    evil_name = '<img src=x onerror="alert(1)">'
    evil_code = 'x = "</pre></td></tr></table><script>alert(document.cookie)</script>"\n<!-- -->\n{{ 7*7 }}'
    write_result(out, result("mal", evil_name))
    record = Similarity((pair("ann", "mal"),), {POOLING: {"ann": A_CODE, "mal": evil_code}}, {POOLING: 4})
    write_similarity(out, record)
    render_reports(out, results_of(out), CONFIG, "en")
    page = pair_page(out, "ann", "mal").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<!-- -->" not in page
    assert "&lt;/pre&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;" in page
    assert "{{ 7*7 }}" in page, "a student's code is never a template"
    assert "&lt;img src=x onerror=" in page
    listing = index(out)
    assert "<img" not in listing and "&lt;img src=x onerror=" in listing
    assert listing.count("<script") == 1, "only the page's own sorting script"


@pytest.mark.parametrize("shape", ["lines", "one line"])
def test_a_megabyte_of_code_is_cut_with_a_note(out: Path, shape: str) -> None:
    huge = ("y = 1  # filler line of about forty chars\n" * 25_000) if shape == "lines" else "z" * 1_000_000
    record = Similarity((pair(),), {POOLING: {"ann": huge, "ben": B_CODE}}, {POOLING: 2})
    write_similarity(out, record)
    render_reports(out, results_of(out), CONFIG, "en")
    page = pair_page(out).read_text(encoding="utf-8")
    assert len(page.encode("utf-8")) < 500_000, "a page stays small whatever a notebook held"
    words = visible(page)
    assert "more character(s) not shown" in words and f"{CODE_CHARS:,} characters" in words
    assert "# my own pooling" in words, "the other column is whole"


# --- grader report -----------------------------------------------------------------------------


def test_grader_report_renders_the_record_anew_and_drops_stale_pages(out: Path) -> None:
    write_similarity(out, similarity(pair("ann", "ben")))
    assert main([*COURSE, "report", str(out), "--lang", "en"]) == 0
    assert pair_page(out).is_file()
    write_similarity(out, Similarity((pair("ben", "cat"),), {POOLING: {"ben": B_CODE, "cat": A_CODE}}, {POOLING: 3}))
    assert main([*COURSE, "report", str(out), "--lang", "en"]) == 0
    assert not pair_page(out).exists() and pair_page(out, "ben", "cat").is_file()
    assert "ann--ben" not in index(out) and "ben--cat" in index(out)
    (out / SIMILARITY_JSON).unlink()
    assert main([*COURSE, "report", str(out), "--lang", "en"]) == 0
    assert not (out / "similarity").exists() and 'id="similar"' not in index(out)


def test_names_that_would_share_a_page_get_their_own(out: Path) -> None:
    record = Similarity((pair("a--b", "c"), pair("a", "b--c")), {POOLING: {}}, {POOLING: 4})
    write_similarity(out, record)
    render_reports(out, results_of(out), CONFIG, "en")
    pages = sorted(p.name for p in (out / "similarity" / POOLING).iterdir())
    assert len(pages) == 2 and len(set(p.lower() for p in pages)) == 2
    hrefs = re.findall(r'class="pair-link" href="\.\./similarity/[^/]+/([^"]+)"', index(out))
    assert sorted(hrefs) == pages


def test_no_handout_and_no_student_page_holds_any_of_it(out: Path) -> None:
    write_similarity(out, similarity(pair()))
    render_reports(out, results_of(out), CONFIG, "en")
    write_student_zips(out, results_of(out), CONFIG, "en")
    zh, en = "相似，值得一看", "worth a look"
    for page in (out / "report").glob("*/*.html"):
        text = page.read_text(encoding="utf-8")
        for needle in (zh, en, "similarity", "MARKER_OF_ANN_ONLY", "my own pooling", "0.917", "0.92"):
            assert needle not in text, (page, needle)
    zips = list((out / "export" / "students").glob("*.zip"))
    assert len(zips) == 3
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            assert not any("similar" in name or "--" in name for name in archive.namelist())
            for name in archive.namelist():
                data = archive.read(name).decode("utf-8")
                for needle in (zh, en, "similarity", "MARKER_OF_ANN_ONLY", "my own pooling"):
                    assert needle not in data, (path.name, name, needle)


def test_no_word_of_blame_anywhere() -> None:
    words = [w for entry in CATALOG.values() for w in entry.values()]
    words += [p.read_text(encoding="utf-8") for p in (ROOT / "templates").glob("*.j2")]
    for word in ("plagiar", "抄袭", "剽窃", "cheat", "作弊"):
        assert not any(word in w.lower() for w in words), word


# --- the class run -----------------------------------------------------------------------------


class _InstantSession:
    """Every submission "graded" at once: 10 points, no kernel. ``stop_at`` raises Ctrl-C there."""

    def __init__(self, stop_at: str | None) -> None:
        self.stop_at = stop_at

    def submit(self, sub):  # type: ignore[no-untyped-def]
        if sub.student == self.stop_at:
            raise KeyboardInterrupt
        future: Future[SubmissionResult] = Future()
        future.set_result(result(sub.student, assignment=sub.assignment, sha256=sub.sha256))
        return future

    def abort(self) -> None:
        pass


class InstantRunner:
    def __init__(self, stop_at: str | None = None) -> None:
        self.stop_at = stop_at

    @contextmanager
    def session(self, work):  # type: ignore[no-untyped-def]
        yield _InstantSession(self.stop_at)


def write_notebook(path: Path, *sources: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    folder = tmp_path / "subs"
    write_notebook(folder / "ann" / f"{POOLING}.ipynb", A_CODE)
    write_notebook(folder / "ben" / f"{POOLING}.ipynb", B_CODE)
    (folder / "cat").mkdir()
    (folder / "cat" / f"{POOLING}.ipynb").write_text("{ this is not a notebook", encoding="utf-8")
    return folder


@pytest.fixture
def stale(tmp_path: Path) -> Path:
    """An earlier run's files and a pair page."""
    out = tmp_path / "out"
    write_similarity(out, similarity(pair()))
    pair_page(out).parent.mkdir(parents=True)
    pair_page(out).write_text("old", encoding="utf-8")
    return out


def fake_engine(monkeypatch: pytest.MonkeyPatch, seen: list) -> None:
    """The engine's functions replaced by ones that record what the pass gave them and flag ann/ben."""
    from grader.classroom.similarity import Entry

    monkeypatch.setattr(similarity_files, "entry_of", lambda r, nb, template: Entry(
        r.student, r.assignment, "\n".join(c.source for c in nb.cells if c.cell_type == "code")))

    def compare(entries, templates, policy):  # type: ignore[no-untyped-def]
        seen.append((sorted(e.student for e in entries), dict(templates), policy))
        return similarity(pair(), compared=len(entries))

    monkeypatch.setattr(similarity_files, "compare_class", compare)


def test_the_pass_reads_the_kept_notebooks_and_the_template(subs: Path, stale: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    run = grade_class(subs, stale, CONFIG, runner=InstantRunner())
    (students, templates, policy), = seen
    assert students == ["ann", "ben"], "cat's notebook cannot be read: left out, its result kept"
    assert set(templates) == {POOLING} and "def max_pool2d" in templates[POOLING], "the released template"
    assert policy == CONFIG.similarity
    assert run.similarity is not None and run.similarity.left_out == ("cat/02-pooling",)
    assert run.similarity.similarity is not None and run.similarity.similarity.flagged() == (pair(),)
    assert [r.student for r in run.results] == ["ann", "ben", "cat"] and all(r.score == 10 for r in run.results)
    assert not pair_page(stale).exists(), "the earlier run's pages go with its record; the pages are made anew"
    assert read_similarity(stale) is not None and mode(stale / SIMILARITY_CSV) == 0o600


def test_cached_results_are_compared_too(subs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    grade_class(subs, tmp_path / "out", CONFIG, runner=InstantRunner())
    again = grade_class(subs, tmp_path / "out", CONFIG, runner=InstantRunner())
    assert again.cached == 3 and seen[1][0] == ["ann", "ben"]


def test_one_late_student_graded_alone_is_compared_with_the_class_graded_before(
        subs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    grade_class(subs, tmp_path / "out", CONFIG, runner=InstantRunner())
    late = tmp_path / "late"
    write_notebook(late / "dan" / f"{POOLING}.ipynb", A_CODE)
    grade_class(late, tmp_path / "out", CONFIG, runner=InstantRunner())
    assert seen[1][0] == ["ann", "ben", "dan"], "the folder's class, not only this run's one notebook"
    kept = tmp_path / "out" / "code" / "ann" / f"{POOLING}.json"
    assert mode(kept) == 0o600 and mode(kept.parent.parent) == 0o700, "students' code: the instructor's alone"
    write_notebook(subs / "ann" / f"{POOLING}.ipynb", B_CODE + "\n# changed")  # ann hands in anew, graded
    grade_class(subs / "ann", tmp_path / "out", CONFIG, runner=InstantRunner())
    assert seen[2][0] == ["ann", "ben", "dan"]
    kept.write_text('{"submission_sha256": "another notebook", "code": "x", "wrong": []}', encoding="utf-8")
    grade_class(late, tmp_path / "out", CONFIG, runner=InstantRunner())
    assert seen[3][0] == ["ben", "dan"], "an entry of another notebook than the graded one is never compared"


def test_a_failing_pass_costs_the_run_nothing(subs: Path, stale: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object) -> Similarity:
        raise RuntimeError("the engine broke")

    fake_engine(monkeypatch, [])
    monkeypatch.setattr(similarity_files, "compare_class", broken)
    monkeypatch.setattr("grader.cli._runner", _instant_runner)
    assert main([*COURSE, "grade", str(subs), "--out", str(stale), "--lang", "en"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "the similarity pass failed (RuntimeError: the engine broke); the grades are unaffected and written" in err
    assert (stale / "grades.csv").is_file() and (stale / "report" / "index.html").is_file()
    assert not (stale / SIMILARITY_JSON).exists() and not (stale / SIMILARITY_CSV).exists()
    assert not (stale / "similarity").exists() and 'id="similar"' not in index(stale), "nothing stale shown"


@contextmanager
def _instant_runner(args) -> Iterator[InstantRunner]:  # type: ignore[no-untyped-def]
    yield InstantRunner()


def test_no_similarity_skips_the_pass_and_removes_an_earlier_one(subs: Path, stale: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    monkeypatch.setattr("grader.cli._runner", _instant_runner)
    assert main([*COURSE, "grade", str(subs), "--out", str(stale), "--no-similarity"]) == 0
    assert seen == []
    assert not (stale / SIMILARITY_JSON).exists() and not (stale / SIMILARITY_CSV).exists()
    assert not (stale / "similarity").exists() and 'id="similar"' not in index(stale)
    assert (stale / "grades.csv").is_file()


def test_a_stopped_run_leaves_no_similarity(subs: Path, stale: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    with pytest.raises(KeyboardInterrupt):
        grade_class(subs, stale, CONFIG, runner=InstantRunner(stop_at="ben"))
    assert seen == [] and not (stale / SIMILARITY_JSON).exists() and not (stale / "similarity").exists()


def test_the_summary_names_the_pairs_and_where_the_pages_are(subs: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    seen: list = []
    fake_engine(monkeypatch, seen)
    monkeypatch.setattr("grader.cli._runner", _instant_runner)
    out = tmp_path / ("a-course-repository-" + "x" * 60) / "out"  # longer than the terminal's 80 columns
    monkeypatch.setenv("COLUMNS", "80")
    assert main([*COURSE, "grade", str(subs), "--out", str(out), "--lang", "en"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "similar, worth a look: 1 pair(s)" in err
    assert f"{POOLING}: ann · ben: code 0.92, shared wrong answers 0.50" in err
    assert f"side-by-side pages: {out / 'similarity'}" in err
    assert "left out of the similarity pass (notebook unreadable): cat/02-pooling" in err
    assert pair_page(out).is_file() and 'class="pair-link"' in index(out)


def test_two_real_copied_notebooks_are_graded_and_flagged(tmp_path: Path) -> None:
    """End to end with real kernels: li_hua's pooling notebook and the copy in the examples."""
    subs = tmp_path / "subs"
    for student, file in (("li_hua", "li_hua/02-pooling.ipynb"), ("liu_yang", "liu_yang/02-pooling.ipynb")):
        (subs / student).mkdir(parents=True)
        shutil.copy(EXAMPLES / file, subs / student / f"{POOLING}.ipynb")
    out = tmp_path / "out"
    assert main([*COURSE, "grade", str(subs), "--out", str(out), "--lang", "en"]) == 0
    rows = list(csv.DictReader(io.StringIO((out / SIMILARITY_CSV).read_text(encoding="utf-8-sig"))))
    assert [(r["student_a"], r["student_b"], r["flagged"]) for r in rows] == [("li_hua", "liu_yang", "true")]
    page = pair_page(out, "li_hua", "liu_yang").read_text(encoding="utf-8")
    assert 'class="r1"' in page and "max_pool2d" in page


def test_a_browser_shows_the_hostile_pair_page_as_text(out: Path, chromium: str) -> None:
    from browser import run_chromium

    evil = '</td></tr></table><script>document.title = "PWNED"; document.body.innerHTML = "";</script>'
    write_result(out, result("mal", '<b onmouseover="x()">Mal</b>'))
    write_similarity(out, Similarity((pair("ann", "mal"),), {POOLING: {"ann": A_CODE, "mal": evil + "\n" + B_CODE}},
                                     {POOLING: 4}))
    render_reports(out, results_of(out), CONFIG, "en")
    dom = run_chromium(chromium, pair_page(out, "ann", "mal").as_uri(), "--dump-dom").stdout
    assert "PWNED" not in dom.split("</title>")[0], "the student's script never ran"
    assert dom.count('<tr class="r1">') == 6 and "MARKER_OF_ANN_ONLY" in dom
    assert "&lt;script&gt;document.title" in dom and "&lt;b onmouseover" in dom
