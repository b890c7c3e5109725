"""The similarity pass attacked as a hostile student (and a careless instructor) would: each test is
one way found to evade it, frame a classmate, break the run or reach what students must never see,
and stays as the proof that it no longer works. What still evades it is in the README
("Similarity", its limits)."""

from __future__ import annotations

import builtins
import hashlib
import itertools
import os
import random
import re
import stat
from contextlib import contextmanager
from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_notebook

from course_facts import CONFIG
from similarity_corpus import ORIGINAL
from test_similarity import POOLING, compare, entry, independent_pooling, pair
from test_similarity_report import InstantRunner, stale, subs  # noqa: F401 (fixtures)
from test_similarity_report import result as report_result

from grader.classroom import similarity, similarity_files
from grader.classroom.batch import grade_class
from grader.classroom.similarity import Entry, SimilarPair, Similarity, compare_class
from grader.classroom.gradebook import write_result
from grader.classroom.similarity_files import (CODE_DIR, PAIRS_DIR, SIMILARITY_JSON, SimilarityOutcome,
                                                similarity_pass)
from grader.course.config import SimilarityPolicy
from grader.course.spec import Case
from grader.grade.digest import answer_digest, wrong_digest
from grader.judge.results import SubmissionResult
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*
from grader.publish.report.paths import jinja_environment
from grader.publish.report.similar import pair_files, write_pair_pages
from grader.publish.report.text import Translate


def _after_every_line(code: str, statement: str, joined: bool = False) -> str:
    """``code`` with ``statement`` after each of its lines: on a line of its own (inside a block the
    line opens, at its indent), or ``joined`` to a simple statement's line by ``;``."""
    out = []
    for line in code.splitlines():
        stripped = line.strip()
        if joined:
            out.append(f"{line}; {statement}" if stripped and not stripped.endswith(":") else line)
            continue
        out.append(line)
        if stripped and not stripped.startswith(("def ", "else", "elif")):
            indent = re.match(r"\s*", line).group() + ("    " if stripped.endswith(":") else "")
            out.append(indent + statement)
    return "\n".join(out)


def test_no_op_statements_after_every_line_do_not_hide_a_copy() -> None:
    """``pass``, ``...``, a lone name or number, each after every line (or after a ``;``): statements
    that do nothing, which a student may sprinkle over a copy to cut every k-gram in two."""
    for statement in ("pass", "...", "0", "None", "x", "'''noise'''"):
        for joined in (False, True):
            copied = {question: _after_every_line(code, statement, joined) for question, code in ORIGINAL.items()}
            found = pair(compare([*independent_pooling(), entry("orig", POOLING, ORIGINAL),
                                  entry("copy", POOLING, copied)]), "orig", "copy")
            assert found.flagged and found.code_score > 0.9, (statement, joined, found.code_score)


def test_redundant_parentheses_around_every_expression_do_not_hide_a_copy() -> None:
    """``x = (np.asarray(x))``, ``return (pooled)``: parentheses that only group cut every k-gram
    they stand in (the copy scored 0.24); they are dropped with their ")", a call's are kept."""
    copied = {question: re.sub(r"(=|return) (.+)$", r"\1 (\2)", code, flags=re.M)
              for question, code in ORIGINAL.items()}
    assert copied != ORIGINAL
    found = pair(compare([*independent_pooling(), entry("orig", POOLING, ORIGINAL), entry("copy", POOLING, copied)]),
                 "orig", "copy")
    assert found.flagged and found.code_score > 0.9, found.code_score
    calls, grouped = similarity._tokens("y = f(a + b) * c\n").ids, similarity._tokens("y = f (a + b) * c\n").ids
    assert calls == grouped and similarity._tokens("y = (a + b) * c\n").ids != calls


def _flagged(assignment: str, a: str, b: str) -> SimilarPair:
    return SimilarPair(assignment, a, b, 0.9, 0.0, True)


def test_a_student_named_like_another_pair_s_hashed_page_never_takes_its_page() -> None:
    """``a--b`` with ``c`` meets ``a`` with ``b--c`` and gets a hash; a student named ``c~HASH`` must
    not then get that same page, so the class page would link one pair to another pair's code."""
    digest = hashlib.sha256("\0".join((POOLING, "a--b", "c")).encode()).hexdigest()[:8]
    pairs = [_flagged(POOLING, "a", "b--c"), _flagged(POOLING, "a--b", "c"), _flagged(POOLING, "a--b", f"c~{digest}")]
    for order in itertools.permutations(pairs):
        files = pair_files(list(order))
        assert len({name.lower() for name in files.values()}) == 3, files


def test_long_names_still_get_a_page_of_a_name_the_disk_takes(tmp_path: Path) -> None:
    """Two keys of 150 characters (an e-mail address, a name spelt out in full) made a file name of
    over 255 bytes: the page could not be written, and the class page linked to nothing."""
    long_a, long_b = "a" * 150 + "@example.edu", "李" * 60
    pairs = [_flagged(POOLING, long_a, long_b), _flagged(POOLING, long_a, long_b + "x")]
    files = pair_files(pairs)
    assert len(set(files.values())) == 2
    for name in files.values():
        assert all(len(part.encode()) <= 230 for part in name.split("/")), name
    code = {long_a: "x = 1\n", long_b: "y = 2\n", long_b + "x": "z\n"}
    record = Similarity(tuple(pairs), {POOLING: code}, {POOLING: 3})
    written = write_pair_pages(tmp_path, record, CONFIG, {}, Translate("en"), jinja_environment())
    assert len(written) == 2 and all(path.is_file() for path in written)


def _notebook(folder: Path, student: str, code: str) -> Path:
    path = folder / f"{student}.ipynb"
    path.write_text(nbformat.writes(new_notebook(cells=[new_code_cell(code)])), encoding="utf-8")
    return path


def test_the_kept_code_is_private_though_its_folder_was_made_open_before(tmp_path: Path) -> None:
    """``DIR/code/`` made 0755 by an earlier copy of the folder (``cp -r``, an archive unpacked): the
    pass must make it and each student's folder in it 0700 again, as README says."""
    out, subs = tmp_path / "out", tmp_path / "subs"
    subs.mkdir()
    (out / CODE_DIR / "ann").mkdir(parents=True, mode=0o755)
    os.chmod(out / CODE_DIR, 0o755)
    os.chmod(out / CODE_DIR / "ann", 0o755)
    results = [report_result("ann"), report_result("ben")]
    notebooks = {(r.student, r.assignment): _notebook(subs, r.student, "x = 1\n") for r in results}
    assert similarity_pass(out, results, notebooks, CONFIG).similarity is not None
    for folder in (out / CODE_DIR, out / CODE_DIR / "ann", out / CODE_DIR / "ben"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in (out / CODE_DIR).glob("*/*.json"))


BLOBS = {  # pasted data a notebook may start with: 200 kB, the old cut, hid everything after it
    "comment lines": "\n".join("# " + "x" * 70 for _ in range(3_000)),
    "one long string": "DATA = '" + "QUJD" * 60_000 + "'",
    "a triple-quoted string": 'DATA = """\n' + "\n".join("y" * 70 for _ in range(3_000)) + '\n"""',
}


def test_a_blob_pasted_before_a_copy_does_not_hide_it() -> None:
    """The code read was cut at 200,000 characters of text, so a comment, a docstring or a base64
    string of that size ahead of a copy left the copy unread. The tokenizer reads comments and
    strings cheaply: the cut is on the tokens it makes (what costs), and the text read is longer."""
    for name, blob in BLOBS.items():
        copied = {question: (blob + "\n" + code if question == "max_pool2d" else code)
                  for question, code in ORIGINAL.items()}
        found = pair(compare([*independent_pooling(), entry("orig", POOLING, ORIGINAL),
                              entry("copy", POOLING, copied)]), "orig", "copy")
        assert found.flagged, name


def test_results_graded_without_the_pass_since_are_named_not_silently_left_out(tmp_path: Path) -> None:
    """The class graded with the pass, then ben handed in anew and was graded with
    ``--no-similarity`` (his kept code is of his old notebook), then one late student graded alone:
    ben was left out of the comparison without a word, and the page counted one less."""
    out, subs = tmp_path / "out", tmp_path / "subs"
    subs.mkdir()
    first = [report_result("ann"), report_result("ben")]
    for result in first:
        write_result(out, result)
    notebooks = {(r.student, r.assignment): _notebook(subs, r.student, "x = 1\n") for r in first}
    assert similarity_pass(out, first, notebooks, CONFIG).not_compared == ()
    write_result(out, report_result("ben", sha256="b" * 64))  # regraded, the pass skipped
    write_result(out, report_result("dan"))  # graded before the pass kept anything
    late = report_result("cat")
    outcome = similarity_pass(out, [late], {("cat", POOLING): _notebook(subs, "cat", "y = 2\n")}, CONFIG)
    assert outcome.not_compared == (f"ben/{POOLING}", f"dan/{POOLING}")
    assert outcome.similarity is not None and outcome.similarity.compared == {POOLING: 2}  # ann and cat


def test_the_summary_names_the_submissions_not_compared(tmp_path: Path, capsys) -> None:
    from rich.console import Console

    from grader.cli import _print_similarity

    outcome = SimilarityOutcome(Similarity(compared={POOLING: 1}),
                                not_compared=tuple(f"s{i}/{POOLING}" for i in range(30)))
    _print_similarity(outcome, [], tmp_path, Console(width=200), "en")
    printed = capsys.readouterr().out
    assert "not compared" in printed and "30" in printed and f"s0/{POOLING}" in printed and "s29/" not in printed


def test_a_symbolic_link_for_the_kept_code_is_never_followed(tmp_path: Path) -> None:
    """``DIR/code`` (or a student's folder in it) a link to a folder elsewhere: the pass wrote the
    students' code there and made that folder 0700. It is refused (the pass fails, said in the
    summary, the grades kept) and nothing outside ``DIR`` is written or changed."""
    for link in ("code", "code/ann"):
        out, subs, elsewhere = tmp_path / link.replace("/", "-") / "out", tmp_path / link.replace("/", "-") / "subs", \
            tmp_path / link.replace("/", "-") / "elsewhere"
        subs.mkdir(parents=True)
        elsewhere.mkdir(mode=0o755)
        os.chmod(elsewhere, 0o755)
        (out / link).parent.mkdir(parents=True, exist_ok=True)
        (out / link).symlink_to(elsewhere, target_is_directory=True)
        results = [report_result("ann"), report_result("ben")]
        notebooks = {(r.student, r.assignment): _notebook(subs, r.student, "x = 1\n") for r in results}
        outcome = similarity_pass(out, results, notebooks, CONFIG)
        assert outcome.similarity is None and "link" in outcome.failure, link
        assert list(elsewhere.iterdir()) == [] and stat.S_IMODE(elsewhere.stat().st_mode) == 0o755, link


def test_a_copy_of_thousands_of_small_functions_shuffled_is_matched_in_linear_work(monkeypatch) -> None:
    """Thousands of distinct one-line functions, copied in another order: one region each, and the
    regions were merged by comparing each with every earlier one (12 million comparisons, seconds a
    pair, for 5,000). A region is compared only with those still within reach of it."""
    names = sorted(n for n in dir(builtins) if n.islower() and not n.startswith("_"))[:60]
    functions = [f"def f(x):\n    return {a}({b}(x))\n"
                 for a, b in itertools.islice(itertools.permutations(names, 2), 3_000)]
    shuffled = functions[:]
    random.Random(7).shuffle(shuffled)
    calls = 0
    near = similarity._near

    def counted(*args: int) -> bool:
        nonlocal calls
        calls += 1
        return near(*args)

    monkeypatch.setattr(similarity, "_near", counted)
    found = compare_class([Entry("a", POOLING, "\n".join(functions)), Entry("b", POOLING, "\n".join(shuffled))], {},
                          SimilarityPolicy())
    (copied,) = found.pairs
    assert copied.flagged and len(copied.matches) > 2_000
    assert calls < 20 * len(copied.matches), calls


def test_an_earlier_record_is_gone_once_a_run_begins_so_a_killed_run_leaves_none(subs: Path, stale: Path,
                                                                                  monkeypatch) -> None:
    """Ctrl-C removes the earlier run's record, but a run killed (the machine off, `kill -9`) while
    grading or while the pass compares left it standing beside the new grades, and the next `grader
    report` showed the last run's pairs as if they were this one's. It is removed when the run
    begins."""
    present: list[tuple[str, bool]] = []

    class Watching(InstantRunner):
        @contextmanager
        def session(self, work):  # type: ignore[no-untyped-def]
            present.append(("grading", (stale / SIMILARITY_JSON).exists() or (stale / PAIRS_DIR).exists()))
            with super().session(work) as session:
                yield session

    def compare(entries, templates, policy):  # type: ignore[no-untyped-def]
        present.append(("comparing", (stale / SIMILARITY_JSON).exists() or (stale / PAIRS_DIR).exists()))
        return Similarity(compared={POOLING: len(entries)})

    monkeypatch.setattr(similarity_files, "compare_class", compare)
    grade_class(subs, stale, CONFIG, runner=Watching())
    assert present == [("grading", False), ("comparing", False)]


def test_bidirectional_controls_in_code_are_shown_not_obeyed(tmp_path: Path) -> None:
    """"Trojan Source": a right-to-left override or isolate in a line makes the browser show it in
    another order than the one it has (and the pass tokenised), so the instructor comparing two
    columns reads code that is not there. They are written out as ``\\u202e``, as the CLI does."""
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    code = f"access = 'user\u202e \u2066# admin\u2069 \u2066'\nx = 1  # {controls}\n"
    pair = SimilarPair(POOLING, "ann", "ben", 0.9, 0.0, True)
    record = Similarity((pair,), {POOLING: {"ann": code, "ben": code}}, {POOLING: 2})
    (page,) = write_pair_pages(tmp_path, record, CONFIG, {}, Translate("en"), jinja_environment())
    html = page.read_text(encoding="utf-8")
    assert not any(c in html for c in controls)
    assert "\\u202e" in html and "\\u2066" in html and "\\u061c" in html


def test_an_argument_handed_back_unchanged_is_no_shared_wrong_answer() -> None:
    """``return x``, the placeholder anyone writes before the real code (or leaves when time runs
    out): two students who both left it return the same wrong values on every hidden case, byte for
    byte, and were paired as if they shared a bug. A wrong answer that is one of the call's own
    arguments carries no signal; any other wrong answer still does."""
    x = np.arange(16.0).reshape(4, 4)
    case = Case((x, 2), {"stride": np.array([1, 2, 3, 4])})
    assert wrong_digest(x.copy(), case) is None
    assert wrong_digest(np.array([1, 2, 3, 4]), case) is None
    assert wrong_digest(x[::2, ::2], case) is not None and wrong_digest(x[::2, ::2], case) == answer_digest(x[::2, ::2])
    assert wrong_digest(x.astype(np.float32), case) is not None  # not the argument's bytes: a choice of its own


def test_no_digest_reaches_a_students_gradescope_file() -> None:
    """A student who saw the digests of their own wrong answers could test guesses of the hidden
    inputs offline (digest of their function on a guess, compared): held, the Gradescope file is the
    student's view, which leaves them out, public or hidden group alike."""
    import json

    from grader.publish.export import gradescope_results

    marker = "0123456789abcdef0123456789abcdef"
    tests = tuple(GroupResult("max_pool2d", group, public, 0.0, 5.0, 3, 1, wrong=(f"0:{marker}",))
                  for group, public in (("public", True), ("hidden", False)))
    result = SubmissionResult("ann", POOLING, "a" * 64, "0", 1.0, tests)
    assert marker not in json.dumps(gradescope_results(result)) and marker not in json.dumps(
        gradescope_results(result, show_hidden_inputs=True))
