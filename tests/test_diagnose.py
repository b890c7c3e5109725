"""grader.judge.diagnose without a kernel: generic diagnoses on any answer type, and the precision rule.

The precision rule: a correct answer is never diagnosed; a wrong answer gets at most one named mistake
per group, the one that explains the most failing cases; a mistake that a passing case of the group
contradicts (it would have failed there) is never named for that group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from course_facts import CONFIG
from grader.course.assignments import course_assignments
from grader.course.spec import Case, Mistake, group_rng
from grader.judge.compare import Tolerance, compare
from grader.judge.diagnose import Evidence, Failing, diagnose, diagnose_question

TOL = Tolerance()
DECLARED = course_assignments()
EXPECTED = np.arange(20, dtype=float).reshape(4, 5) / 4


def _one(expected: Any, actual: Any) -> str | None:
    """The diagnosis id of one failing case, with no declared mistake."""
    found = diagnose((), [Failing(Case(()), expected, actual)], TOL)
    return None if found is None else found.id


# -- generic diagnoses on every answer type --------------------------------------------------------
@pytest.mark.parametrize(("actual", "named"), [
    (EXPECTED[:-1].tolist(), "off_by_one_crop"),  # a nested list one row short
    (tuple(map(tuple, EXPECTED[:, 1:].tolist())), "off_by_one_crop"),  # a tuple of tuples one column short
    (EXPECTED[1:-1].tolist(), "shape_mismatch"),  # two rows short is not a loop bound's end
    (EXPECTED.T.tolist(), "transposed_output"),
    (EXPECTED[:, :, None].tolist(), "size_one_axis"),
    ((EXPECTED * 2).tolist(), "constant_factor"),
    ((EXPECTED + 1).tolist(), "constant_offset"),
    (np.trunc(EXPECTED).astype(int).tolist(), "integer_truncation"),
])
def test_lists_and_tuples_get_the_generic_diagnoses(actual: Any, named: str) -> None:
    assert _one(EXPECTED, actual) == named


def test_channels_first_and_last_layouts_are_recognised_in_lists() -> None:
    maps = np.arange(24, dtype=float).reshape(3, 4, 2)  # (H, W, C)
    assert _one(maps, np.moveaxis(maps, -1, 0).tolist()) == "channels_first_output"
    assert _one(np.moveaxis(maps, -1, 0), maps.tolist()) == "channels_last_output"


@pytest.mark.parametrize("actual", [[[1.0, 2.0], [3.0]], "4.5", None, {"a": 1}, [["a", "b"]], [None, None],
                                    [[1, 2], [3, None]], True])
def test_answers_that_are_no_numbers_are_not_diagnosed_and_do_not_crash(actual: Any) -> None:
    assert _one(EXPECTED, actual) is None


def test_a_single_wrong_number_gets_no_factor_or_offset() -> None:
    """Any wrong number is some factor or offset of the right one: that alone is no evidence."""
    assert _one(27, 19) is None
    assert _one(np.float64(3.0), [6.0]) is None


def test_scalars_with_one_factor_in_every_failing_case_are_diagnosed() -> None:
    consistent = [Failing(Case((n,)), n, 2 * n) for n in (3, 5, 8)]
    assert diagnose((), consistent, TOL).id == "constant_factor"
    mixed = [Failing(Case((3,)), 3, 6), Failing(Case((5,)), 5, 15)]
    assert diagnose((), mixed, TOL) is None


def test_a_generic_diagnosis_must_hold_on_every_failing_case() -> None:
    failing = [Failing(Case(()), EXPECTED, EXPECTED[:-1]), Failing(Case(()), EXPECTED, EXPECTED + 1)]
    assert diagnose((), failing, TOL) is None


# -- the precision rule, on the course's own declarations -------------------------------------------
def _evidence(assignment: str, question: str, student: Callable[..., Any], seed: int = 7) -> list[Evidence]:
    """Each group's (failing, passing) cases of ``student``, as the grader builds them."""
    declared = DECLARED[assignment].question(question)
    groups = []
    for group in declared.groups:
        failing, passing = [], []
        for case in group.cases(group_rng(seed, assignment, question, group)):
            args, kwargs = case.resolved()
            expected, actual = declared.reference(*args, **kwargs), student(*args, **kwargs)
            (passing if compare(expected, actual, TOL).equal else failing).append(Failing(case, expected, actual))
        groups.append((failing, passing))
    return groups


def _named(assignment: str, question: str, student: Callable[..., Any]) -> list[str | None]:
    declared = DECLARED[assignment].question(question)
    found = diagnose_question(declared.mistakes, _evidence(assignment, question, student), TOL)
    return [None if d is None else d.id for d in found]


@pytest.mark.parametrize(("assignment", "question"), [
    (a.id, q.id) for a in DECLARED.values() for q in a.questions if q.reference is not None])
def test_a_correct_answer_is_never_diagnosed(assignment: str, question: str) -> None:
    reference = DECLARED[assignment].question(question).reference
    assert set(_named(assignment, question, reference)) == {None}


def test_a_mistake_contradicted_by_a_passing_case_is_never_named() -> None:
    """A student who always floors passes the floor cases: 'floor and ceil swapped' (declared first,
    and explaining the same ceil cases) would have failed them, so it is not their mistake."""
    def always_floor(n, f, p, s, rounding="floor"):
        return (n + 2 * p - f) // s + 1

    declared = DECLARED["03-parameter-counting"].question("output_size")
    evidence = _evidence("03-parameter-counting", "output_size", always_floor)
    swapped = next(m for m in declared.mistakes if m.id == "floor_ceil_swapped")
    failing = [item for group_failing, _ in evidence for item in group_failing]
    assert all(compare(swapped.variant(*i.case.args, **i.case.kwargs), i.actual, TOL).equal for i in failing)
    assert set(_named("03-parameter-counting", "output_size", always_floor)) - {None} == {"integer_division_for_ceil"}


def _synthetic(values: dict[str, list[float]]) -> Mistake:
    """A mistake whose answer on case ``i`` of group ``g`` is ``values[g][i]``."""
    def variant(g: str, i: int) -> float:
        return values[g][i]
    return Mistake(f"m{len(values)}", variant, "", "")


def _items(g: str, expected: list[float], actual: list[float]) -> Evidence:
    failing = [Failing(Case((g, i)), e, a) for i, (e, a) in enumerate(zip(expected, actual)) if e != a]
    passing = [Failing(Case((g, i)), e, a) for i, (e, a) in enumerate(zip(expected, actual)) if e == a]
    return failing, passing


def test_the_mistake_that_explains_most_failing_cases_wins_the_group() -> None:
    one = Mistake("explains_one", lambda g, i: [9.0, 7.0][i], "", "")
    two = Mistake("explains_two", lambda g, i: [9.0, 8.0][i], "", "")
    evidence = [_items("a", [1.0, 2.0], [9.0, 8.0])]
    assert [d.id for d in diagnose_question((one, two), evidence, TOL)] == ["explains_two"]


def test_one_mistake_gets_one_name_across_groups() -> None:
    """In group a both mistakes explain the one failing case (the first declared would win a tie);
    group b shows it is the second: the question's evidence names it in both groups."""
    first = Mistake("first", lambda g, i: {"a": [9.0], "b": [5.0, 6.0]}[g][i], "", "")
    second = Mistake("second", lambda g, i: {"a": [9.0], "b": [7.0, 8.0]}[g][i], "", "")
    evidence = [_items("a", [1.0], [9.0]), _items("b", [2.0, 3.0], [7.0, 8.0])]
    assert [d.id for d in diagnose_question((first, second), evidence, TOL)] == ["second", "second"]


def test_a_mistake_is_judged_by_the_passing_cases_of_its_own_group() -> None:
    """Group b's passing cases say nothing about group a's code path (a mode implemented apart)."""
    always = Mistake("always_zero", lambda g, i: 0.0, "", "")
    evidence = [_items("a", [1.0], [0.0]), _items("b", [1.0, 2.0], [1.0, 2.0]), _items("c", [1.0, 2.0], [0.0, 2.0])]
    assert [d and d.id for d in diagnose_question((always,), evidence, TOL)] == ["always_zero", None, None]


# -- hints only where the evidence supports them ---------------------------------------------------
def _short_same_padding(x, k, mode="valid"):
    """Student code: 'same' with (F-1)//2 zeros on both sides, one row/column short for even kernels."""
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "same":
        x = np.pad(x, (((fh - 1) // 2,) * 2, ((fw - 1) // 2,) * 2))
    elif mode == "full":
        x = np.pad(x, ((fh - 1,) * 2, (fw - 1,) * 2))
    return np.array([[np.sum(x[i:i + fh, j:j + fw] * k) for j in range(x.shape[1] - fw + 1)]
                     for i in range(x.shape[0] - fh + 1)])


def test_same_padding_one_short_gets_its_name_not_the_loop_bounds_hint() -> None:
    named = _named("01-convolution", "conv2d", _short_same_padding)
    assert set(named) == {None, "same_padding_short"}
    # the hint is what the output alone suggests: only the declared mistake says why
    evidence = _evidence("01-convolution", "conv2d", _short_same_padding)
    assert {d and d.id for d in diagnose_question((), evidence, TOL)} == {None, "off_by_one_crop"}


def test_an_ignored_pooling_stride_is_named_in_layer_table() -> None:
    def stride_as_size(input_shape, layers):
        reference = DECLARED["03-parameter-counting"].question("layer_table").reference
        return reference(input_shape, [tuple(layer[:2]) if "pool" in layer[0] else layer for layer in layers])

    assert set(_named("03-parameter-counting", "layer_table", stride_as_size)) - {None} == {"pool_stride_ignored"}


def test_a_crop_of_every_case_is_the_loop_bounds_hint_even_where_a_padding_mistake_fits_some() -> None:
    """``range(h - fh)`` instead of ``range(h - fh + 1)``: one row and column short in every mode. In the
    'same' group the short padding explains the even kernels only; the crop explains every case."""
    reference = DECLARED["01-convolution"].question("conv2d").reference

    def loop_one_short(x, k, mode="valid"):
        return reference(x, k, mode)[:-1, :-1]

    assert set(_named("01-convolution", "conv2d", loop_one_short)) == {"off_by_one_crop"}


def _plant(assignment: str, question: str, mistake: Mistake, seed: int) -> tuple[set[str], bool]:
    """The names a student whose function is ``mistake``'s variant gets, and whether a hidden group fails."""
    declared = DECLARED[assignment].question(question)
    evidence = _evidence(assignment, question, _raising_as_right(mistake.variant, declared.reference), seed)
    named = {d.id for d in diagnose_question(declared.mistakes, evidence, TOL) if d is not None}
    hidden_fails = any(failing for (failing, _), group in zip(evidence, declared.groups) if not group.public)
    return named, hidden_fails


def _raising_as_right(variant: Callable[..., Any], reference: Callable[..., Any]) -> Callable[..., Any]:
    """The variant, answering as the reference where it raises (such a case is no wrong answer to name)."""
    def student(*args: Any, **kwargs: Any) -> Any:
        try:
            return variant(*args, **kwargs)
        except Exception:
            return reference(*args, **kwargs)
    return student


@pytest.mark.parametrize("seed", [CONFIG.seed, 1, 2])  # the course.toml seed and two others
@pytest.mark.parametrize(("assignment", "question", "index"), [
    (a, q.id, k) for a in ("01-convolution", "02-pooling", "03-parameter-counting")
    for q in DECLARED[a].questions for k in range(len(q.mistakes))])
def test_every_declared_mistake_fails_a_hidden_case_and_is_named_alone(assignment: str, question: str, index: int,
                                                                       seed: int) -> None:
    """Whatever the secret seed: the hidden cases expose the mistake, and nothing else is named."""
    mistake = DECLARED[assignment].question(question).mistakes[index]
    named, hidden_fails = _plant(assignment, question, mistake, seed)
    assert hidden_fails, f"{mistake.id} passes every hidden case with seed {seed}"
    assert named == {mistake.id}
