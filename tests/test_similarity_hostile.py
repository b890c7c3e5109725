"""The similarity pass (grader.classroom.similarity) under the worst a student can hand in: broken
notebooks, text that is not Python, huge or odd inputs, classes where everyone agrees. Each must
neither raise nor stall, nor change the result of any pair it is not part of; then a hypothesis
fuzz of the pass's invariants.

"Must stay fast" is asserted by counting the pass's work (the pairs it draws from its inverted
index: the pass's ``Similarity.work``), never by a clock.
The classes come from bench/similarity_class.py, the bench's generator.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.classroom.similarity import Entry, Similarity, SimilarPair, compare_class, own_code
from grader.course.config import SimilarityPolicy
from similarity_class import GeneratedClass, generate_class, notebook_of, template_code, template_notebook
from similarity_pool import POOL

POLICY = SimilarityPolicy()
CONV = "01-convolution"
KEPT = "marker_of_the_cell_that_must_survive = 1"


@pytest.fixture(scope="module")
def small() -> GeneratedClass:
    """Twelve generated submissions with one planted copy (verbatim) and one planted shared bug."""
    return generate_class(12, seed=16, copies=1, shared_bugs=1)


@pytest.fixture(scope="module")
def base(small: GeneratedClass) -> Similarity:
    return compare_class(small.entries, small.templates, POLICY)


def others(result: Similarity, *students: str) -> tuple[SimilarPair, ...]:
    """The pairs none of ``students`` is part of."""
    return tuple(p for p in result.pairs if not {p.student_a, p.student_b} & set(students))


def flagged(result: Similarity) -> set[tuple[str, str, str]]:
    return {(p.assignment, p.student_a, p.student_b) for p in result.flagged()}


def test_the_small_class_finds_what_was_planted(small, base):
    """The base the hostile cases are measured against: its planted pairs are flagged."""
    assert small.planted() <= flagged(base)


# -- notebooks no editor would write ---------------------------------------------------------------

def _cell(source: object, cell_type: object = "code") -> dict:
    return {"cell_type": cell_type, "metadata": {}, "source": source, "outputs": [], "execution_count": None}


HOSTILE_NOTEBOOKS = {
    "not a mapping: list": [],
    "not a mapping: string": "{}",
    "not a mapping: None": None,
    "cells not a list": {"cells": {"0": _cell(KEPT)}},
    "cells a string": {"cells": KEPT},
    "cells None": {"cells": None},
    "no cells key": {"metadata": {}, "nbformat": 4},
    "empty notebook": {},
    "no cells at all": {"cells": []},
    "nbformat 3 worksheets": {"worksheets": [{"cells": [{"cell_type": "code", "input": KEPT}]}]},
}
HOSTILE_CELLS = {
    "cells that are not mappings": [1, "x = 1", None, [], ["code", "x = 2"], 2.5, True],
    "source an int": [_cell(7)],
    "source a dict": [_cell({"a": "x = 1"})],
    "source None": [_cell(None)],
    "source bytes": [_cell(b"x = 1\n")],
    "source a list of non-strings": [_cell([1, None, {"a": 1}, ["y = 3"], b"z"])],
    "source a list of strings and others": [_cell(["y = 2\n", 5, None, "w = 4\n"])],
    "no source key": [{"cell_type": "code", "metadata": {}}],
    "no cell_type key": [{"source": "x = 1", "metadata": {}}],
    "cell_type raw": [_cell("x = 1", "raw")],
    "cell_type heading": [_cell("x = 1", "heading")],
    "cell_type CODE": [_cell("x = 1", "CODE")],
    "cell_type an int": [_cell("x = 1", 5)],
    "cell_type None": [_cell("x = 1", None)],
    "metadata not a mapping": [{"cell_type": "code", "metadata": 5, "source": "x = 1"}],
    "a markdown cell only": [_cell("# title", "markdown")],
}


@pytest.mark.parametrize("notebook", HOSTILE_NOTEBOOKS.values(), ids=HOSTILE_NOTEBOOKS.keys())
def test_a_notebook_that_is_not_one_has_no_own_code_and_does_not_raise(notebook):
    assert isinstance(own_code(notebook, template_notebook(CONV)), str)
    assert isinstance(own_code(notebook, None), str)


@pytest.mark.parametrize("cells", HOSTILE_CELLS.values(), ids=HOSTILE_CELLS.keys())
def test_a_broken_cell_is_skipped_and_the_notebook_s_other_cells_are_kept(cells):
    notebook = {"cells": [*cells, _cell(KEPT)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    code = own_code(notebook, template_notebook(CONV))
    assert isinstance(code, str) and KEPT in code
    assert KEPT in own_code(notebook, None)


def test_a_broken_template_does_not_raise_and_leaves_nothing_out():
    notebook = {"cells": [_cell(KEPT)]}
    for template in [*HOSTILE_NOTEBOOKS.values(), {"cells": [*HOSTILE_CELLS["cells that are not mappings"]]}]:
        assert KEPT in own_code(notebook, template)


def test_a_hundred_thousand_tiny_cells_and_a_five_megabyte_cell():
    tiny = {"cells": [_cell(f"x{i} = {i}") for i in range(100_000)]}
    assert own_code(tiny, template_notebook(CONV)).count("\n\n") == 99_999
    big = {"cells": [_cell("y = 1 + 2\n" * 500_000), _cell(KEPT)]}
    code = own_code(big, template_notebook(CONV))
    assert KEPT in code and len(code) > 5_000_000


def test_the_released_template_handed_in_unchanged_has_no_own_code():
    assert own_code(template_notebook(CONV), template_notebook(CONV)) == ""


# -- code that is not Python, or barely -----------------------------------------------------------

ESSAY = ("I don't know how to do this one, sorry. I tried to pad the input but it's not working and I "
         "couldn't find the bug before the deadline. I'll come to office hours!\n") * 20
HOSTILE_CODE = {
    "nul bytes": "x = 1\x00\ny = \x00 2\n" + "\x00" * 1000,
    "lone surrogates": 'name = "\ud800"\n\udfff = 3\nz = "\udc80\udcff"\n',
    "unterminated string": 'x = "abc\ny = 2\nprint("done\n',
    "unterminated triple quote": 'x = 1\ns = """abc\ndef f():\n    return 1\n',
    "unterminated triple quote at the end": 'def f():\n    return 1\n\n"""',
    "bad indentation": "def f():\n        return 1\n    x = 2\n  y = 3\n      z = 4\n",
    "unexpected indent first": "    x = 1\ny = 2\n",
    "a line continuation at the end": "x = 1 + \\",
    "a line continuation then nothing": "x = 1\ny = \\\n",
    "carriage returns only": "x = 1\ry = 2\rdef f():\r    return x\r",
    "crlf": "x = 1\r\ny = 2\r\ndef f():\r\n    return x\r\n",
    "form feeds": "\x0cdef f():\n\x0c    return 1\n\x0c\n",
    "tabs and spaces mixed": "def f(x):\n\tif x:\n        return 1\n\treturn 2\n  \t  y = 3\n",
    "a hundred thousand open brackets": "(" * 100_000,
    "deep balanced brackets": "x = " + "[" * 5_000 + "]" * 5_000 + "\n",
    "deep closing brackets": ")" * 50_000 + "\n",
    "deep indentation": "".join("    " * i + f"if x{i}:\n" for i in range(300)) + "    " * 300 + "pass\n",
    "a pasted essay": ESSAY,
    "chinese": "我不会做这道题。老师，对不起！\n卷积就是把核翻转……然后求和？\n「」『』，。、\n" * 30,
    "only comments": "# 我的答案\n# my answer\n#\n" * 200,
    "only whitespace": "   \n\t\n\x0b\n  \n",
    "empty": "",
    "unicode names": "变量 = 1\nπ = 3.14\nрезультат = 变量 + π\n",
    "line and paragraph separators": "x = 1\u2028y = 2\u2029z = 3\x85w = 4\n",
    "a byte order mark": "\ufeffx = 1\n\ufeffy = 2\n",
    "one very long line": "x = " + "1 + " * 60_000 + "1\n",
    "two hundred thousand short lines": "x = 1\n" * 200_000,
    "operators only": "+-*/@%&|^~<>=!:;,." * 5_000,
    "an unterminated f-string": 'x = f"{1 +\ny = 2\n',
    "python 2": 'print "hello"\nexec "x = 1"\nprint x,\n',
}


def _hostile_entry(text: str) -> Entry:
    return Entry("zz_hostile", CONV, text, frozenset({"conv2d/hidden/0:" + "f" * 32}))


@pytest.mark.parametrize("text", HOSTILE_CODE.values(), ids=HOSTILE_CODE.keys())
def test_hostile_own_code_neither_raises_nor_changes_another_pair(small, base, text):
    with_it = compare_class([*small.entries, _hostile_entry(text)], small.templates, POLICY)
    assert others(with_it, "zz_hostile") == base.pairs
    assert with_it.compared[CONV] == len(small.entries) + 1


@pytest.mark.parametrize("text", HOSTILE_CODE.values(), ids=HOSTILE_CODE.keys())
def test_hostile_text_in_a_notebook_cell_neither_raises_nor_changes_another_pair(small, base, text):
    notebook = notebook_of(CONV, [text])
    code = own_code(notebook, template_notebook(CONV))
    assert isinstance(code, str)
    with_it = compare_class([*small.entries, _hostile_entry(code)], small.templates, POLICY)
    assert others(with_it, "zz_hostile") == base.pairs


def _copy_pair(small: GeneratedClass) -> tuple[Entry, Entry]:
    (_, a, b), = small.copies
    by_student = {e.student: e for e in small.entries}
    return by_student[a], by_student[b]


# The broken cells Python itself would not let swallow the cell after them (a notebook compiles
# every cell on its own): a student's one broken cell must not hide the copied code beside it.
@pytest.mark.parametrize("text", HOSTILE_CODE.values(), ids=HOSTILE_CODE.keys())
def test_a_copy_with_a_hostile_cell_after_its_code_is_still_flagged(small, text):
    original, copy = _copy_pair(small)
    cells = [*small.cells[(CONV, copy.student)], text]
    code = own_code(notebook_of(CONV, cells), template_notebook(CONV))
    entries = [e for e in small.entries if e.student != copy.student] + [Entry(copy.student, CONV, code, copy.wrong)]
    pair = _pair_of(compare_class(entries, small.templates, POLICY), original.student, copy.student)
    assert pair is not None and pair.flagged


def _pair_of(result: Similarity, a: str, b: str) -> SimilarPair | None:
    a, b = sorted((a, b))
    return next((p for p in result.pairs if (p.student_a, p.student_b) == (a, b)), None)


# -- templates ------------------------------------------------------------------------------------

def test_no_template_for_the_assignment_still_finds_the_copy(small):
    result = compare_class(small.entries, {}, POLICY)
    assert small.copies <= flagged(result)
    result = compare_class(small.entries, {"another-assignment": "x = 1"}, POLICY)
    assert small.copies <= flagged(result)


@pytest.mark.parametrize("template", ["", "\x00" * 100, "(" * 10_000, ESSAY, 'x = """'])
def test_a_broken_template_neither_raises_nor_hides_the_copy(small, template):
    assert small.copies <= flagged(compare_class(small.entries, {CONV: template}, POLICY))


def test_a_submission_equal_to_the_template_is_never_flagged(small):
    template = template_code(CONV)
    entries = [*small.entries, Entry("zz_template_1", CONV, template), Entry("zz_template_2", CONV, template)]
    result = compare_class(entries, small.templates, POLICY)
    assert not any({"zz_template_1", "zz_template_2"} & {p.student_a, p.student_b} for p in result.flagged())
    assert others(result, "zz_template_1", "zz_template_2") == \
        compare_class(small.entries, small.templates, POLICY).pairs


@pytest.mark.parametrize("code", ["", "template"])
def test_a_class_of_template_only_submissions_has_nothing_flagged(code):
    text = template_code(CONV) if code == "template" else ""
    entries = [Entry(f"s{i:03d}", CONV, text) for i in range(60)]
    result = compare_class(entries, {CONV: template_code(CONV)}, POLICY)
    assert result.flagged() == () and result.compared == {CONV: 60}


# -- wrong answers -------------------------------------------------------------------------------

def test_ten_thousand_wrong_answers_shared_by_two_and_unique_to_the_rest(small):
    shared = frozenset(f"conv2d/hidden/{i}:{i:032x}" for i in range(10_000))
    entries = [Entry(e.student, e.assignment, e.code, e.wrong | {f"{w}-{e.student}" for w in shared})
               for e in small.entries]
    entries += [Entry("zz_a", CONV, "", shared), Entry("zz_b", CONV, "x = 1", shared)]
    result = compare_class(entries, small.templates, POLICY)
    pair = _pair_of(result, "zz_a", "zz_b")
    assert pair is not None and pair.flagged and pair.shared_wrong == 1.0
    assert len(pair.wrong_cases) == 10_000


ODD_WRONG = ["", ":", "::::", "no colon", "/", "//", "a/b", "q/g/:", "q/g/x:", "q/g/-1:ab", "q/g/1.5:ab",
             "q/g/99999999999999999999999999:ab", "q/g/\u0661:ab", "q/g/\u00b2:ab", "q/g/\u2460:ab",
             "q/g/0:" + "f" * 100_000, "q\x00/g\x00/0:\x00", "q/\ud800/0:\udfff", "<b>q</b>/g/0:ab",
             "conv2d/" * 1_000 + "0:ab"]


@pytest.mark.parametrize("item", ODD_WRONG, ids=range(len(ODD_WRONG)))
def test_an_odd_wrong_answer_shared_by_two_neither_raises_nor_changes_another_pair(small, base, item):
    odd = frozenset({item, item + "2", item + "3"})
    entries = [*small.entries, Entry("zz_a", CONV, "", odd), Entry("zz_b", CONV, "", odd)]
    result = compare_class(entries, small.templates, POLICY)
    assert others(result, "zz_a", "zz_b") == base.pairs
    pair = _pair_of(result, "zz_a", "zz_b")
    assert pair is not None and pair.shared_wrong == 1.0 and len(pair.wrong_cases) == 3
    assert all(isinstance(w, str) for w in pair.wrong_cases)


# -- who the students are -------------------------------------------------------------------------

ODD_STUDENTS = ["<script>alert(1)</script>", "a&b\"'<>", "\u202eevil\u202c", "😀", "Ω\u0301", "",
                " ", "x" * 10_000, "s\x00nul", "s\ud800", "../../etc/passwd", "张伟"]


def test_odd_student_keys_are_compared_like_any_other(small):
    original, copy = _copy_pair(small)
    entries = [e for e in small.entries if e not in (original, copy)]
    names = iter(ODD_STUDENTS)
    odd = [Entry(next(names), CONV, original.code, original.wrong), Entry(next(names), CONV, copy.code, copy.wrong)]
    odd += [Entry(name, CONV, e.code, e.wrong) for name, e in zip(names, entries)]
    result = compare_class(odd, small.templates, POLICY)
    assert (CONV, *sorted(ODD_STUDENTS[:2])) in flagged(result)
    assert all(p.student_a < p.student_b for p in result.pairs)
    assert json.loads(json.dumps(result.to_json()))  # the stored record writes them


def test_two_entries_of_one_student_are_one_student_never_paired_with_themself(small, base):
    original, copy = _copy_pair(small)
    again = [Entry(original.student, CONV, copy.code, copy.wrong), Entry(copy.student, CONV, copy.code, copy.wrong)]
    for entries in ([*small.entries, *again], [*again, *small.entries], [*small.entries, *small.entries]):
        result = compare_class(entries, small.templates, POLICY)
        assert all(p.student_a < p.student_b for p in result.pairs)
        assert result.compared == {CONV: len(small.entries)}
    assert compare_class([*small.entries, *small.entries], small.templates, POLICY) == base


# -- whole classes that agree ------------------------------------------------------------------------

def test_a_class_of_a_thousand_identical_submissions_is_compared_without_pairing_everyone(small):
    """Everyone shares everything: it is the class's idiom, not a signal between two of them, and
    the pass must not draw the 499,500 pairs to find that out."""
    one = next(c for c in small.cells[(CONV, small.entries[0].student)] if "def conv2d(" in c)
    entries = [Entry(f"s{i:04d}", CONV, one, small.entries[0].wrong) for i in range(1000)]
    result = compare_class(entries, small.templates, POLICY)
    assert result.flagged() == () and result.compared == {CONV: 1000}
    assert result.work["candidate_pairs"] < 1000


def test_a_class_of_a_thousand_empty_submissions():
    result = compare_class([Entry(f"s{i:04d}", CONV, "") for i in range(1000)], {CONV: template_code(CONV)}, POLICY)
    assert result.pairs == () and result.compared == {CONV: 1000} and result.work["candidate_pairs"] == 0


@pytest.mark.slow
def test_the_work_grows_with_the_class_not_with_its_pairs():
    """Twice the class, about twice the pairs drawn from the index, not four times: what more
    students share is idiom and is dropped. (Classes this size are at the common limit's floor;
    above it the limit is a share of the class and the pairs drawn grow faster, see the bench.)"""
    small = compare_class(generate_class(150, seed=3).entries, {CONV: template_code(CONV)}, POLICY)
    large = compare_class(generate_class(300, seed=3).entries, {CONV: template_code(CONV)}, POLICY)
    assert large.work["candidate_pairs"] < 3 * max(small.work["candidate_pairs"], 100)
    assert large.work["fingerprints"] < 3 * small.work["fingerprints"]


# -- what the bench's classes showed (bench/bench.py --similarity-only) ----------------------------

def test_two_idiomatic_answers_sharing_one_short_helper_are_not_flagged():
    """Thirty students hand in the same idiomatic conv2d; two of them also add the same two-line
    helper. Nothing but that helper sets the two apart from the class: not worth a look. The code
    score is computed over what is left once the idiom is dropped, so such a pair scores high; what
    must keep it unflagged is that the code they share is short."""
    idiom = "def conv2d(x, k, mode='valid'):\n" + POOL[CONV]["conv2d"][0].body
    helper = "\ndef relu(z):\n    return np.maximum(z, 0.0) * (z > 0)\n"
    entries = [Entry(f"s{i:02d}", CONV, idiom) for i in range(30)]
    entries += [Entry("zz_a", CONV, idiom + helper), Entry("zz_b", CONV, helper + idiom)]
    assert flagged(compare_class(entries, {}, POLICY)) == set()


def test_a_wrong_answer_fifteen_students_share_is_a_common_bug_not_a_pair_signal():
    """Fifteen of 400 students return the same wrong values on three hidden cases, no declared
    mistake explaining it: a bug many make on their own, not 105 pairs worth a look (as it was
    while "common" meant more than 5 % of the class)."""
    bug = frozenset(f"conv2d/hidden/{i}:{i:032x}" for i in range(3))
    entries = [Entry(f"s{i:03d}", CONV, "", bug if i < 15 else frozenset({f"conv2d/hidden/0:{i:032x}"}))
               for i in range(400)]
    assert flagged(compare_class(entries, {}, POLICY)) == set()


# -- invariants, fuzzed ---------------------------------------------------------------------------

LINES = [
    "x = np.asarray(x, dtype=float)", "k = np.asarray(k, dtype=float)", "fh, fw = k.shape",
    "out = np.zeros((h - fh + 1, w - fw + 1))", "for i in range(out.shape[0]):",
    "    for j in range(out.shape[1]):", "        out[i, j] = np.sum(x[i:i + fh, j:j + fw] * k)",
    "return out", "if mode == 'same':", "    x = np.pad(x, ((1, 1), (1, 1)))", "total = 0",
    "    total += 1", "print(out)", "# a comment", "", "def helper(a):", "    return a * 2",
    "rows.append(x[i].reshape(-1))", "sh, sw = as_pair(stride)", 'raise ValueError("bad")',
]
STUDENTS = ["ana", "ben", "<b>", "dai", "emma", "fu", "gao", "hu"]
WRONG = [f"conv2d/hidden/{i}:{d}" for i in range(3) for d in ("aa", "bb")] + ["im2col/stride/0:cc", "q/g/x:"]


def _code(lines: Sequence[str]) -> str:
    body = "\n".join(("    " + line) if line and not line.startswith("def ") else line for line in lines)
    return f"def conv2d(x, k, mode='valid'):\n{body}\n"


entry = st.builds(Entry, st.sampled_from(STUDENTS), st.sampled_from([CONV, "02-pooling"]),
                  st.lists(st.sampled_from(LINES), max_size=40).map(_code) | st.sampled_from(["", "x = ("]),
                  st.frozensets(st.sampled_from(WRONG), max_size=5))
classes = st.lists(entry, max_size=10)
policies = st.builds(SimilarityPolicy, st.floats(0, 1), st.floats(0, 1), st.integers(0, 80))
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(classes, policies)
def test_every_pair_is_two_students_of_one_assignment_with_scores_in_range(entries, policy):
    result = compare_class(entries, {CONV: _code(LINES[:3])}, policy)
    students = {(e.assignment, e.student) for e in entries}
    for p in result.pairs:
        assert p.student_a < p.student_b
        assert (p.assignment, p.student_a) in students and (p.assignment, p.student_b) in students
        assert 0.0 <= p.code_score <= 1.0 and 0.0 <= p.shared_wrong <= 1.0
        assert not p.flagged or p.code_score >= policy.code or p.shared_wrong >= policy.shared_wrong
        for m in p.matches:
            assert 1 <= m.a.first <= m.a.last and 1 <= m.b.first <= m.b.last
    assert len({(p.assignment, p.student_a, p.student_b) for p in result.pairs}) == len(result.pairs)
    assert result.compared == {a: len({s for b, s in students if b == a}) for a, _ in students}
    for p in result.flagged():
        code = result.code[p.assignment]
        assert {p.student_a, p.student_b} <= set(code)
        for m in p.matches:  # the regions are lines of the code the pair's page shows
            assert m.a.last <= len(code[p.student_a].split("\n")) and m.b.last <= len(code[p.student_b].split("\n"))
    assert Similarity.from_json(json.loads(json.dumps(result.to_json()))) == result


@FUZZ
@given(classes, st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_the_entries(entries, rng):
    shuffled = list(entries)
    rng.shuffle(shuffled)
    assert compare_class(shuffled, {}, POLICY) == compare_class(entries, {}, POLICY)


@FUZZ
@given(classes, st.frozensets(st.text(max_size=8), max_size=4))
def test_a_student_who_shares_nothing_with_anyone_changes_no_other_pair(entries, wrong):
    """Exactly invariant: a third student can change a pair only through the common-fingerprint
    rule (an item held by more than a share of the class is idiom); one who holds nothing any
    other holds changes no count, and in a class this small the share stays at its floor."""
    unrelated = Entry("zzz_unrelated", CONV, "~" * 300 + "\n" + "@" * 300, frozenset(f"\x00{w}" for w in wrong))
    before = compare_class(entries, {}, POLICY)
    after = compare_class([*entries, unrelated], {}, POLICY)
    assert others(after, unrelated.student) == before.pairs
    assert others(after, unrelated.student) == after.pairs


@FUZZ
@given(classes, policies, policies)
def test_a_stricter_policy_flags_no_pair_a_laxer_one_does_not(entries, a, b):
    lax = SimilarityPolicy(min(a.code, b.code), min(a.shared_wrong, b.shared_wrong), min(a.min_tokens, b.min_tokens))
    strict = SimilarityPolicy(max(a.code, b.code), max(a.shared_wrong, b.shared_wrong),
                              max(a.min_tokens, b.min_tokens))
    assert flagged(compare_class(entries, {}, strict)) <= flagged(compare_class(entries, {}, lax))


@FUZZ
@given(classes, st.integers(0, 2**32))
def test_scores_of_a_pair_do_not_depend_on_which_student_is_a_or_b(entries, seed):
    """Renaming the students (keeping who is who) swaps A and B in some pairs; the scores and the
    flags stay with the two submissions."""
    names = list(dict.fromkeys(e.student for e in entries))
    shuffled = names[:]
    random.Random(seed).shuffle(shuffled)
    rename = dict(zip(names, (f"r{i}_{n}" for i, n in enumerate(shuffled))))
    renamed = [Entry(rename[e.student], e.assignment, e.code, e.wrong) for e in entries]
    key = {v: k for k, v in rename.items()}

    def scores(result):
        return {(p.assignment, frozenset({key.get(p.student_a, p.student_a), key.get(p.student_b, p.student_b)})):
                (p.code_score, p.shared_wrong, p.flagged, len(p.matches)) for p in result.pairs}

    assert scores(compare_class(renamed, {}, POLICY)) == scores(compare_class(entries, {}, POLICY))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)
cells = st.lists(st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values,
                                        "source": st.text(max_size=60) | st.lists(st.text(max_size=20), max_size=4)
                                        | json_values}) | json_values, max_size=8)
notebooks = st.fixed_dictionaries({"cells": cells}) | json_values


@FUZZ
@given(notebooks, notebooks)
def test_own_code_of_any_json_is_text_and_a_notebook_handed_in_as_released_has_none(notebook, template):
    code = own_code(notebook, template)
    assert isinstance(code, str)
    assert own_code(notebook, notebook) == ""
    result = compare_class([Entry("a", CONV, code), Entry("b", CONV, code)], {CONV: own_code(template, None)}, POLICY)
    assert result.compared == {CONV: 2}
