"""The class-wide similarity pass (grader.classroom.similarity): copies found, independent work not.

The submissions are real notebooks: the released template with its answer cells filled in by
code written in many styles (tests/similarity_corpus.py), each checked correct against the course's
reference first, so that "independent correct solutions" is a fact and not a claim.
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from course_facts import ROOT
from similarity_corpus import CONV2D, EDITED, MAX_POOL2D, ORIGINAL, RENAMED, REORDERED, SPACED

from grader.classroom import similarity
from grader.classroom.similarity import (
    Entry,
    Match,
    SimilarPair,
    Similarity,
    Span,
    compare_class,
    entry_of,
    own_code,
    template_code,
)
from grader.course.config import SimilarityPolicy
from grader.course.reference import convolution, pooling
from grader.judge.results import Diagnosis, SubmissionResult, TestResult

POLICY = SimilarityPolicy()
POOLING = "02-pooling"
CONVOLUTION = "01-convolution"


def template(assignment: str) -> dict[str, Any]:
    return json.loads((ROOT / "assignments" / f"{assignment}.ipynb").read_text(encoding="utf-8"))


def answered(assignment: str, answers: Mapping[str, str]) -> dict[str, Any]:
    """The released template with the answer cell of each question in ``answers`` replaced by the
    student's code (``max_pool2d`` -> code); every other cell as released."""
    notebook = copy.deepcopy(template(assignment))
    for cell in notebook["cells"]:
        grader = cell.get("metadata", {}).get("grader", {})
        if grader.get("role") == "answer" and grader.get("question") in answers:
            cell["source"] = answers[grader["question"]].strip("\n").splitlines(keepends=True)
    return notebook


def entry(student: str, assignment: str, answers: Mapping[str, str], wrong: frozenset[str] = frozenset()) -> Entry:
    return Entry(student, assignment, own_code(answered(assignment, answers), template(assignment)), wrong)


def compare(entries: list[Entry], policy: SimilarityPolicy = POLICY) -> Similarity:
    assignments = {e.assignment for e in entries}
    return compare_class(entries, {a: template_code(template(a)) for a in assignments}, policy)


def pair(result: Similarity, a: str, b: str) -> SimilarPair:
    found = [p for p in result.pairs if {p.student_a, p.student_b} == {a, b}]
    assert len(found) == 1, f"{a} and {b} not reported: {result.pairs}"
    return found[0]


def independent_pooling() -> list[Entry]:
    return [entry(f"mp{i:02d}", POOLING, {"max_pool2d": code}) for i, code in enumerate(MAX_POOL2D)]


def independent_convolution() -> list[Entry]:
    return [entry(f"cv{i:02d}", CONVOLUTION, {"conv2d": code}) for i, code in enumerate(CONV2D)]


def run_answer(code: str, name: str) -> Any:
    """The corpus's function, defined as in a notebook: NumPy as ``np`` and the template's ``as_pair``
    (run here, in the test, to check the corpus; the pass itself never runs code)."""
    space: dict[str, Any] = {"np": np}
    exec(compile(_as_pair_source() + "\n" + code, name, "exec"), space)
    return space[name]


def _as_pair_source() -> str:
    text = template_code(template(POOLING))
    start = text.index("def as_pair")
    return text[start:text.index("\n\n", start)] + "\n"


# -- the corpus is what it says: correct, and written apart ----------------------------------------


@pytest.mark.parametrize("index", range(len(MAX_POOL2D)))
def test_every_independent_max_pool2d_is_correct(index: int) -> None:
    student = run_answer(MAX_POOL2D[index], "max_pool2d")
    rng = np.random.default_rng(index)
    for shape, size, stride in [((6, 6), 2, None), ((7, 5, 3), (3, 2), None), ((8, 9, 2), 3, 2),
                                ((5, 7), (2, 3), (1, 2)), ((4, 4, 1), 4, None), ((9, 6), 2, (3, 1))]:
        x = rng.normal(size=shape)
        got = np.asarray(student(x, size, stride))
        np.testing.assert_allclose(got, pooling.max_pool2d(x, size, stride), err_msg=f"{shape} {size} {stride}")


@pytest.mark.parametrize("index", range(len(CONV2D)))
def test_every_independent_conv2d_is_correct(index: int) -> None:
    student = run_answer(CONV2D[index], "conv2d")
    rng = np.random.default_rng(index)
    for shape, kernel in [((5, 7), (2, 2)), ((6, 6), (3, 3)), ((4, 9), (2, 4)), ((3, 3), (3, 3)), ((7, 5), (1, 3))]:
        x, k = rng.normal(size=shape), rng.normal(size=kernel)
        for mode in ("valid", "same", "full"):
            got = np.asarray(student(x, k, mode))
            np.testing.assert_allclose(got, convolution.conv2d(x, k, mode), atol=1e-9, err_msg=f"{shape} {kernel} {mode}")


@pytest.mark.parametrize("copied", [ORIGINAL, RENAMED, REORDERED, SPACED, EDITED],
                         ids=["original", "renamed", "reordered", "spaced", "edited"])
def test_the_original_and_its_copies_are_correct(copied: Mapping[str, str]) -> None:
    code = "\n\n".join(copied.values())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 8, 2))
    for size, stride in [(2, None), ((3, 2), 1), (2, (1, 3))]:
        np.testing.assert_allclose(run_answer(code, "max_pool2d")(x, size, stride), pooling.max_pool2d(x, size, stride))
        np.testing.assert_allclose(run_answer(code, "avg_pool2d")(x, size, stride), pooling.avg_pool2d(x, size, stride))
        dout = rng.normal(size=pooling.max_pool2d(x, size, stride).shape)
        np.testing.assert_allclose(run_answer(code, "max_pool2d_backward")(dout, x, size, stride),
                                   pooling.max_pool2d_backward(dout, x, size, stride))


# -- flagged: copies, however disguised, and a shared bug ------------------------------------------


@pytest.mark.parametrize("disguised", [RENAMED, REORDERED, SPACED, EDITED], ids=[
    "every name changed", "reordered and commented", "blank lines and loop variables", "renamed and statements rewritten"])
def test_a_disguised_copy_is_flagged_among_independent_work(disguised: Mapping[str, str]) -> None:
    class_ = independent_pooling() + [entry("original", POOLING, ORIGINAL), entry("copier", POOLING, disguised)]
    result = compare(class_)
    found = pair(result, "original", "copier")
    assert found.flagged and found.code_score >= POLICY.code + 0.08
    assert [(p.student_a, p.student_b) for p in result.flagged()] == [("copier", "original")]
    assert found.matches, "a flagged pair shows where the code matches"
    assert set(result.code[POOLING]) == {"copier", "original"}
    assert result.code[POOLING]["copier"] == class_[-1].code


def test_a_solution_passed_around_a_group_is_found_in_every_pair_of_the_group() -> None:
    """Six students holding one solution (disguised three ways): their code is in six submissions
    of the class, more than idiom-dropping at four would allow, and every pair of them is flagged."""
    group = [ORIGINAL, RENAMED, REORDERED, SPACED, ORIGINAL, REORDERED]
    class_ = independent_pooling() + [entry(f"group{k}", POOLING, answers) for k, answers in enumerate(group)]
    result = compare(class_)
    pairs = {(p.student_a, p.student_b) for p in result.flagged()}
    assert pairs == {(f"group{a}", f"group{b}") for a in range(6) for b in range(a + 1, 6)}
    smaller = compare(class_, SimilarityPolicy(common=5))
    assert smaller.flagged() == (), "a group larger than [similarity] common holds the class's idiom"


def test_a_shared_distinctive_bug_is_flagged_though_the_code_differs() -> None:
    bug = frozenset({"max_pool2d/stride/0:9f1c2e", "max_pool2d/stride/2:77aa01", "max_pool2d/hidden 3-D/1:c0ffee"})
    class_ = independent_pooling()
    class_[3] = Entry(class_[3].student, POOLING, class_[3].code, bug | {"max_pool2d/stride/1:aaaa11"})
    class_[7] = Entry(class_[7].student, POOLING, class_[7].code, bug)
    result = compare(class_)
    found = pair(result, "mp03", "mp07")
    assert found.flagged and found.shared_wrong == 1.0  # all of mp07's wrong answers are mp03's
    assert found.code_score < POLICY.code  # code written apart: the behaviour alone flags them
    assert found.wrong_cases == ("max_pool2d · hidden 3-D #2", "max_pool2d · stride #1", "max_pool2d · stride #3")
    assert result.flagged() == (found,)


def test_wrong_cases_are_read_whatever_the_items() -> None:
    odd = frozenset({"q/g/²:ab", "q/a/b/7:cd", "no slash", "q/g/" + "9" * 5000 + ":ef"})
    result = compare_class([Entry("a", "A", "", odd), Entry("b", "A", "", odd)], {}, POLICY)
    assert set(pair(result, "a", "b").wrong_cases) == {"q · g", "q · a/b #8", "no slash"}


def test_one_shared_wrong_answer_is_not_enough() -> None:
    """One identical wrong value can be two different bugs meeting on one input; a shared bug shows
    on several hidden cases."""
    class_ = independent_pooling()
    class_[3] = Entry(class_[3].student, POOLING, class_[3].code, frozenset({"max_pool2d/stride/0:9f1c2e"}))
    class_[7] = Entry(class_[7].student, POOLING, class_[7].code, frozenset({"max_pool2d/stride/0:9f1c2e"}))
    result = compare(class_)
    assert pair(result, "mp03", "mp07").shared_wrong == 1.0
    assert result.flagged() == ()


def test_a_wrong_answer_many_share_is_no_signal() -> None:
    """A wrong value a large part of the class returns is a common mistake the course did not
    declare, not a shared copy."""
    common = frozenset({"max_pool2d/stride/0:9f1c2e", "max_pool2d/stride/1:77aa01"})
    class_ = [Entry(e.student, POOLING, e.code, common) for e in independent_pooling()]
    assert compare(class_).flagged() == ()


# -- not flagged: independent work, template-only notebooks, a resubmission, a declared mistake -----


@pytest.mark.parametrize("make", [independent_pooling, independent_convolution], ids=["max_pool2d", "conv2d"])
def test_no_pair_of_independent_correct_solutions_is_flagged(make: Any) -> None:
    class_ = make()
    result = compare(class_)
    assert result.flagged() == ()
    highest = max((p.code_score for p in result.pairs), default=0.0)
    assert highest < POLICY.code - 0.08, f"highest code score {highest} of independent solutions is near the threshold"
    assert result.compared == {class_[0].assignment: len(MAX_POOL2D if make is independent_pooling else CONV2D)}


def test_independent_solutions_of_both_assignments_in_one_class() -> None:
    result = compare(independent_pooling() + independent_convolution())
    assert result.flagged() == ()
    assert all(p.assignment in (POOLING, CONVOLUTION) for p in result.pairs)
    assert not any(p.student_a[:2] != p.student_b[:2] for p in result.pairs), "assignments are compared apart"


def test_template_only_notebooks_are_never_flagged() -> None:
    untouched = [Entry(f"t{i}", POOLING, own_code(template(POOLING), template(POOLING))) for i in range(4)]
    assert untouched[0].code == ""
    # a student who ran the template and changed nothing but the metadata, or a check cell's spacing
    tweaked = template(POOLING)
    for cell in tweaked["cells"]:
        cell.setdefault("metadata", {})["trusted"] = True
    result = compare(untouched + [Entry("t9", POOLING, own_code(tweaked, template(POOLING)))] + independent_pooling()[:3])
    assert result.flagged() == ()
    assert all(p.code_score == 0.0 for p in result.pairs if p.student_a.startswith("t") or p.student_b.startswith("t"))


def test_a_student_resubmitting_the_same_notebook_is_no_pair() -> None:
    first = entry("ana", POOLING, ORIGINAL)
    result = compare([first, entry("ana", POOLING, ORIGINAL), entry("ana", POOLING, {"max_pool2d": MAX_POOL2D[0]})]
                     + independent_pooling()[1:])
    assert all("ana" not in (p.student_a, p.student_b) or p.student_a != p.student_b for p in result.pairs)
    assert result.compared == {POOLING: len(MAX_POOL2D)}  # ana once, with her fuller entry
    assert result.flagged() == ()


def test_a_declared_mistake_shared_is_no_signal() -> None:
    """Two students whose wrong values a declared mistake explains (same digests) are not flagged:
    entry_of leaves those digests out."""
    declared = Diagnosis("pool_stride_ignored", "步长被忽略", "the stride is ignored")
    results = [graded(s, [test("max_pool2d", "stride", ("0:ab12", "1:cd34", "2:ef56"), declared)]) for s in ("ann", "bob")]
    entries = [entry_of(r, answered(POOLING, {"max_pool2d": code}), template(POOLING))
               for r, code in zip(results, (MAX_POOL2D[1], MAX_POOL2D[6]), strict=True)]
    assert all(e.wrong == frozenset() for e in entries)
    assert compare(entries).flagged() == ()


# -- entry_of and own_code --------------------------------------------------------------------------


def test(question: str, group: str, wrong: tuple[str, ...], diagnosis: Diagnosis | None = None) -> TestResult:
    return TestResult(question, group, False, 0.0, 1.0, len(wrong), 0, diagnosis=diagnosis, wrong=wrong)


test.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test


def graded(student: str, tests: list[TestResult]) -> SubmissionResult:
    return SubmissionResult(student, POOLING, "0" * 64, "test", 1.0, tuple(tests))


def test_entry_of_keeps_the_undiagnosed_wrong_answers_by_question_group_and_case() -> None:
    declared = Diagnosis("flip", "翻转", "flipped")
    result = graded("ann", [test("max_pool2d", "basic", ("0:aa", "3:bb")), test("max_pool2d", "stride", ("1:cc",), declared),
                            test("avg_pool2d", "3-D input", ())])
    found = entry_of(result, answered(POOLING, {"max_pool2d": MAX_POOL2D[0]}), template(POOLING))
    assert found == Entry("ann", POOLING, found.code, frozenset({"max_pool2d/basic/0:aa", "max_pool2d/basic/3:bb"}))
    assert "def max_pool2d(x, size, stride=None):" in found.code


def test_own_code_leaves_out_the_template_cells_whatever_their_metadata() -> None:
    notebook = answered(POOLING, {"max_pool2d": MAX_POOL2D[2]})
    for cell in notebook["cells"]:
        cell.setdefault("metadata", {})["grader"] = {"role": "given"}  # a student marking everything "given"
    code = own_code(notebook, template(POOLING))
    assert code == MAX_POOL2D[2].strip("\n")  # the answer counts; the unchanged cells do not
    assert own_code(template(POOLING), template(POOLING)) == ""


def test_own_code_tolerates_odd_cells() -> None:
    notebook = {"cells": [
        "not a cell", None, {"cell_type": "markdown", "source": "# title"}, {"cell_type": "code"},
        {"cell_type": "code", "source": ["x = 1\n", 7, "y = 2"]}, {"cell_type": "code", "source": 42},
        {"cell_type": "code", "source": "\n\n   \n"}, {"cell_type": "code", "source": "\n\nz = 3\r\nw = 4\n\n"},
    ]}
    assert own_code(notebook, None) == "x = 1\ny = 2\n\nz = 3\nw = 4"
    assert own_code(notebook, {"cells": [{"cell_type": "code", "source": "  z = 3\nw = 4  "}]}) == "x = 1\ny = 2"
    assert own_code({"cells": "nope"}, None) == "" and own_code({}, {"cells": 3}) == ""


# -- the result: matches, scores, order, the stored JSON --------------------------------------------


def test_matches_are_the_copied_functions_on_both_sides() -> None:
    """A wrote max_pool2d alone and copied the other two answers from B (renamed); B wrote their own
    max_pool2d in another style. The matches lie on the copied functions' lines, and cover most of
    them: not their first lines, the idiom (``np.asarray``, the stride's default) most of the class
    writes alike, which is not a sign of copying and is not counted."""
    a_own, b_own = MAX_POOL2D[6].strip("\n"), MAX_POOL2D[3].strip("\n")
    a_copied = RENAMED["avg_pool2d"].strip("\n") + "\n\n" + RENAMED["max_pool2d_backward"].strip("\n")
    b_copied = ORIGINAL["avg_pool2d"].strip("\n") + "\n\n" + ORIGINAL["max_pool2d_backward"].strip("\n")
    a = Entry("a", POOLING, a_own + "\n\n" + a_copied)
    b = Entry("b", POOLING, b_own + "\n\n" + b_copied)
    found = pair(compare([a, b] + independent_pooling()[:6] + independent_pooling()[7:]), "a", "b")
    assert found.flagged and found.matches
    copied_in_a = range(_lines(a_own) + 2, _lines(a.code) + 1)  # a blank line between the cells
    copied_in_b = range(_lines(b_own) + 2, _lines(b.code) + 1)
    for m in found.matches:
        assert m.a.first in copied_in_a and m.a.last in copied_in_a, m
        assert m.b.first in copied_in_b and m.b.last in copied_in_b, m
    for side, copied in (("a", copied_in_a), ("b", copied_in_b)):
        covered = {line for m in found.matches for line in range(getattr(m, side).first, getattr(m, side).last + 1)}
        assert len(covered & set(copied)) >= 0.7 * len(copied), f"{side}: the copied functions are covered"
    text = a.code.splitlines()
    functions = [next(line for line in reversed(text[:m.a.first]) if line.startswith("def ")) for m in found.matches]
    assert [f.split("(")[0] for f in functions] == ["def avg_pool2d", "def max_pool2d_backward"]


def _lines(text: str) -> int:
    return text.count("\n") + 1


def test_scores_are_in_zero_one_and_pairs_are_ordered() -> None:
    result = compare(independent_pooling() + [entry("original", POOLING, ORIGINAL), entry("copier", POOLING, RENAMED)])
    for p in result.pairs:
        assert 0.0 <= p.code_score <= 1.0 and 0.0 <= p.shared_wrong <= 1.0
        assert p.student_a < p.student_b
    flags = [p.flagged for p in result.pairs]
    assert flags == sorted(flags, reverse=True), "flagged pairs first"
    unflagged = [max(p.code_score, p.shared_wrong) for p in result.pairs if not p.flagged]
    assert unflagged == sorted(unflagged, reverse=True)


def test_the_result_does_not_depend_on_the_order_of_the_entries() -> None:
    class_ = (independent_pooling() + independent_convolution()
              + [entry("original", POOLING, ORIGINAL, frozenset({"max_pool2d/a/0:11", "max_pool2d/a/1:22"})),
                 entry("copier", POOLING, RENAMED, frozenset({"max_pool2d/a/0:11", "max_pool2d/a/1:22"}))])
    first = compare(class_)
    for seed in range(3):
        shuffled = class_[:]
        random.Random(seed).shuffle(shuffled)
        assert compare(shuffled) == first


def test_winnowing_keeps_the_smallest_hash_of_every_window() -> None:
    """Schleimer, Wilkerson and Aiken's guarantee: every window of W k-grams has a selected one, its
    minimum, so any W + K - 1 alike tokens in two texts give both a fingerprint in common."""
    rng = random.Random(16)
    for _ in range(300):
        hashes = [rng.randrange(6) for _ in range(rng.randrange(1, 40))]  # few values: many ties
        chosen = similarity._winnow(hashes)
        assert chosen == sorted(set(chosen))
        for start in range(max(1, len(hashes) - similarity.W + 1)):
            window = range(start, min(start + similarity.W, len(hashes)))
            picked = [i for i in chosen if i in window]
            assert picked and min(hashes[i] for i in picked) == min(hashes[i] for i in window)


def test_the_result_is_the_same_in_every_process() -> None:
    """Python salts the hash of text per process; the pass's fingerprints must not depend on it."""
    script = (
        "import json, sys; sys.path[:0] = sys.argv[1:]\n"
        "import test_similarity as t\n"
        "from similarity_corpus import EDITED, ORIGINAL\n"
        "w = frozenset({'max_pool2d/a/0:11', 'max_pool2d/a/1:22'})\n"
        "r = t.compare(t.independent_pooling() + [t.entry('o', t.POOLING, ORIGINAL, w), t.entry('c', t.POOLING, EDITED, w)])\n"
        "print(json.dumps(r.to_json()))\n")
    outputs = {subprocess.run([sys.executable, "-c", script, str(ROOT), str(ROOT / "tests")], capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outputs) == 1
    assert Similarity.from_json(outputs.pop()).flagged()


def test_min_tokens_keeps_short_answers_from_being_flagged_on_code() -> None:
    short = "def output_size(n, f, p, s, rounding='floor'):\n    return (n - f + 2 * p) // s + 1"
    renamed = "def output_size(m, g, q, t, rounding='floor'):\n    return (m - g + 2 * q) // t + 1"
    entries = [Entry("a", "03", short), Entry("b", "03", renamed)]
    assert compare_class(entries, {}, SimilarityPolicy(min_tokens=40)).flagged() == ()
    assert compare_class(entries, {}, SimilarityPolicy(min_tokens=5)).flagged() != ()


def test_broken_code_still_compares_the_rest() -> None:
    """A cell that does not tokenize (an unclosed string, a bad dedent) hides nothing after it."""
    good = ORIGINAL["max_pool2d"].strip("\n")
    broken = "s = '''never closed\n\ndef f(:\n      x = 1\n  y = 2\n\n" + RENAMED["max_pool2d"].strip("\n")
    result = compare([Entry("a", POOLING, good), Entry("b", POOLING, broken)])
    assert pair(result, "a", "b").flagged


def test_to_json_round_trip() -> None:
    result = compare(independent_pooling() + [entry("original", POOLING, ORIGINAL, frozenset({"q/g/0:1", "q/g/1:2"})),
                                              entry("copier", POOLING, RENAMED, frozenset({"q/g/0:1", "q/g/1:2"}))])
    stored = json.loads(json.dumps(result.to_json()))
    assert Similarity.from_json(stored) == result
    assert Similarity.from_json(json.dumps(stored)) == result


@pytest.mark.parametrize("hostile", [
    None, 3, "", "{", '{"pairs": [', b"\xff\xfe", [], {"pairs": "x", "code": [], "compared": 7},
    {"pairs": [None, 1, "p", {"assignment": 5, "student_a": "a", "student_b": "b"}]},
    {"pairs": [{"assignment": "A", "student_a": "x", "student_b": "x"}]},
    {"compared": {"A": -1, "B": "3", "C": float("nan"), "D": True, "E": 10 ** 400}},
    {"code": {"A": {"x": 3, "y": ["code"]}, "B": "text", "": {"x": "c"}}},
], ids=repr)
def test_from_json_survives_hostile_input(hostile: Any) -> None:
    result = Similarity.from_json(hostile)
    assert result.pairs == ()
    assert all(isinstance(n, int) and n >= 0 for n in result.compared.values())
    assert all(isinstance(c, str) for codes in result.code.values() for c in codes.values())


def test_from_json_repairs_what_it_can() -> None:
    stored = {"pairs": [
        {"assignment": "A", "student_a": "zoe", "student_b": "amy", "code_score": 7, "shared_wrong": "high",
         "flagged": "yes", "matches": [{"a": [3, 5], "b": [1, 2]}, {"a": [5, 3], "b": [1, 1]}, {"a": [1]}, "m",
                                       {"a": [True, 2], "b": [1, 2]}],
         "wrong_cases": ["q · g #1", 4]},
        {"assignment": "A", "student_a": "amy", "student_b": "bea", "code_score": -0.5, "shared_wrong": 0.9, "flagged": True},
    ], "compared": {"A": 3, "B": 2.0}}
    result = Similarity.from_json(stored)
    assert result.pairs == (
        SimilarPair("A", "amy", "bea", 0.0, 0.9, True),
        SimilarPair("A", "amy", "zoe", 1.0, 0.0, False, (Match(Span(1, 2), Span(3, 5)),), ("q · g #1",)),
    )
    assert result.compared == {"A": 3, "B": 2}
