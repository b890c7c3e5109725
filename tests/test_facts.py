"""A unit's facts (grader.course.facts): whatever a student's kernel, model or an edited result file
gives, the gate keeps only finite, bounded, well-formed values, and says what it dropped."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course.facts import MAX_EPOCHS, MAX_LAYERS, MAX_SERIES, checked, curves, heldout, layers

GOOD_EVALUATION = {"n": 10, "accuracy": 0.8, "confusion": [[4, 1], [1, 4]], "other": [0, 0]}


def test_a_keras_history_becomes_curves() -> None:
    history = {"loss": [0.7, 0.5, 0.4], "val_loss": [0.72, 0.6, 0.55], "accuracy": [0.5, 0.7, 0.8]}
    assert curves(history) == {"epochs": 3, "series": history, "dropped": 0}


def test_a_million_epochs_keep_the_first_thousand_and_count_the_rest() -> None:
    kept = curves({"loss": [1.0] * 10**6})
    assert kept["epochs"] == MAX_EPOCHS and len(kept["series"]["loss"]) == MAX_EPOCHS
    assert kept["dropped"] == 10**6 - MAX_EPOCHS


def test_nan_inf_strings_and_huge_values_are_gaps() -> None:
    kept = curves({"loss": [0.5, math.nan, math.inf, "0.3", None, True, 1e300, 10**400, 0.2]})
    assert kept["series"]["loss"] == [0.5, None, None, None, None, None, None, None, 0.2]


@pytest.mark.parametrize("history", [
    None, 3, "loss", [0.1, 0.2], {}, {"loss": "0.1"}, {"loss": [math.nan, math.inf]}, {1: [0.1]}, {"": [0.1]},
    {"loss": {"a": 1}},
])
def test_no_usable_series_is_a_bad_history(history: object) -> None:
    assert curves(history) == {"problem": "facts.bad_history"}


def test_too_many_series_and_odd_names_are_dropped() -> None:
    history = {f"metric{i}": [0.1, 0.2] for i in range(20)}
    history["bad\x00name\n"] = [0.3]
    kept = curves(history)
    assert len(kept["series"]) == MAX_SERIES and kept["dropped"] == 21 - MAX_SERIES
    long = curves({"x" * 500: [1.0]})
    assert list(long["series"]) == ["x" * 60]


def test_a_held_out_evaluation_keeps_its_confusion_counts() -> None:
    assert heldout(GOOD_EVALUATION, ["male", "female"]) == {**GOOD_EVALUATION, "labels": ["male", "female"]}


@pytest.mark.parametrize("change", [
    {"confusion": [[4, -1], [1, 6]]},  # a negative count
    {"confusion": [[4, 1], [1, 5]]},  # counts that do not add up to n
    {"confusion": [[4.5, 0.5], [1, 4]]},  # fractions
    {"confusion": [[4, 1, 0], [1, 4]]},  # a ragged table
    {"confusion": [["4", 1], [1, 4]]},  # strings
    {"confusion": [[True, 4], [1, 4]]},
    {"other": [1, 0]},
])
def test_counts_that_cannot_be_trusted_leave_only_the_accuracy(change: dict[str, object]) -> None:
    assert heldout({**GOOD_EVALUATION, **change}, ["male", "female"]) == {"n": 10, "accuracy": 0.8}


@pytest.mark.parametrize("evaluation", [
    {"error": "the model could not be evaluated"}, {"n": -3, "accuracy": 0.5}, {"n": 10, "accuracy": 1.5},
    {"n": 10, "accuracy": math.nan}, {"n": "10", "accuracy": 0.5}, [], None,
])
def test_an_evaluation_without_size_and_accuracy_is_a_problem(evaluation: object) -> None:
    assert heldout(evaluation) == {"problem": "facts.no_evaluation"} or heldout(evaluation) == {
        "problem": "facts.unreadable"}


def test_layers_keep_name_class_and_a_real_count() -> None:
    rows = [{"name": "conv2d", "class": "Conv2D", "params": 448, "config": {}},
            {"name": "dense", "class": "Dense", "params": -5},
            {"name": "x", "class": "Dense", "params": 2.5}, "not a layer",
            {"name": "dense_1", "class": "Dense", "params": 130.0}]
    assert layers(rows) == {"rows": [{"name": "conv2d", "class": "Conv2D", "params": 448},
                                     {"name": "dense_1", "class": "Dense", "params": 130}],
                            "total": 578, "dropped": 3}
    assert len(layers([{"name": f"l{i}", "class": "Dense", "params": 1} for i in range(5000)])["rows"]) == MAX_LAYERS
    assert layers([]) == layers(None) == {"problem": "facts.no_model"}


def test_stored_facts_pass_the_gate_again_unchanged() -> None:
    facts = checked({"curves": {"series": {"loss": [0.5, math.nan, 0.3]}},
                     "heldout": {**GOOD_EVALUATION, "labels": ["male", "female"]},
                     "layers": {"rows": [{"name": "d", "class": "Dense", "params": 3}]}})
    stored = json.loads(json.dumps(facts))  # NaN was a gap (None) before it was stored
    assert checked(stored) == facts


def test_a_problem_stays_a_problem_and_an_unknown_one_is_unreadable() -> None:
    assert checked({"curves": {"problem": "facts.no_history"}}) == {"curves": {"problem": "facts.no_history"}}
    assert checked({"curves": {"problem": "<script>"}, "layers": 3, "other": 1}) == {
        "curves": {"problem": "facts.unreadable"}, "layers": {"problem": "facts.unreadable"}}
    assert checked("facts") == checked(None) == {}


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=6),
                           max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["curves", "heldout", "layers", "x"]), json_values, max_size=4))
def test_whatever_is_stored_the_gate_gives_finite_json(facts: dict[str, object]) -> None:
    kept = checked(facts)
    text = json.dumps(kept, allow_nan=False)  # raises on NaN or infinity
    assert checked(json.loads(text)) == kept
