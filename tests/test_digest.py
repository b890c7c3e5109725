"""The digests of wrong answers that the similarity pass compares (grader.grade.digest)."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grade.digest import answer_digest
from grader.judge.results import SubmissionResult, TestResult


def test_the_same_bytes_give_the_same_digest_and_any_other_byte_another():
    a = np.array([[1.5, 2.25], [3.0, 4.125]])
    assert answer_digest(a) == answer_digest(a.copy()) == answer_digest(np.asfortranarray(a))
    others = [a.astype(np.float32), a.reshape(4), a.reshape(1, 4), a + 1e-12, a.T, a.astype(int),
              [a], (a,), {"out": a}]
    digests = {answer_digest(o) for o in others}
    assert None not in digests and answer_digest(a) not in digests and len(digests) == len(others)


@pytest.mark.parametrize("value", [
    3, 2.5, "conv", None, True, np.float64(7.25),  # one value on its own: too easily the same by chance
    np.zeros((5, 5)), np.full(9, np.nan), [1, 1, 1, 1],  # all the same value
    np.array([1.0, 2.0, 3.0]),  # fewer than four values
    np.array([1 + 2j, 3, 4, 5]), np.array(["a", "b", "c", "d"]), object(),  # nothing the grader hashes
    [[[[[[[[[[[[[[[[[[[[1, 2, 3, 4]]]]]]]]]]]]]]]]]]]],  # nested deeper than any answer
    [10 ** 5000, 1, 2, 3],  # an int too long to write out
])
def test_values_anyone_could_reach_by_accident_get_no_digest(value):
    assert answer_digest(value) is None


def test_nan_and_negative_zero_count_as_values_of_their_own():
    assert answer_digest(np.array([np.nan, 1.0, 2.0, 3.0])) is not None
    assert answer_digest(np.array([0.0, -0.0, 0.0, 0.0])) is not None
    assert answer_digest(np.array([0.0, -0.0, 0.0, 0.0])) != answer_digest(np.zeros(4))


def test_digests_round_trip_through_the_result_file_and_a_hand_edit_cannot_break_the_load():
    test = TestResult("conv2d", "hidden", False, 0.0, 5.0, 3, 1, wrong=("0:ab", "2:cd"))
    result = SubmissionResult("s", "01-convolution", "sha", "v", 1.0, (test,))
    assert SubmissionResult.from_json(result.to_json()).tests[0].wrong == ("0:ab", "2:cd")
    edited = result.to_json()
    edited["grader"]["results"][0]["wrong"] = [1, None, "x" * 10_000, "1:ef", {"a": 1}]
    assert SubmissionResult.from_json(edited).tests[0].wrong == ("1:ef",)
