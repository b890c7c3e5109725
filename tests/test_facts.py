"""A unit's facts (grader.course.facts): whatever a student's kernel, model or an edited result file
gives, the gate keeps only finite, bounded, well-formed values, and says what it dropped."""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.course.assignments import gender
from grader.course.facts import MAX_EPOCHS, MAX_LAYERS, MAX_SERIES, checked, curves, heldout, layers
from grader.course.faces import generate_faces
from grader.course.spec import VALUE, AssessContext, Case, Var
from grader.run.decode import Answer, KerasFile, read_answer
from grader.run.harness import HARNESS_SOURCE, call_source, write_call
from grader.run.inspect_model import _evaluate

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


# --- where the gender unit's facts come from -------------------------------------------------------------

class _Model:
    """What the inspector's evaluation uses of a Keras model: its input shape and predict."""

    def __init__(self, predict: object) -> None:
        self.input_shape = (None, 32, 32, 3)
        self._predict = predict

    def predict(self, X: np.ndarray, verbose: int = 0) -> np.ndarray:
        return self._predict(X)  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="module")
def heldout_faces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("faces")
    generate_faces(folder, n_train=2, n_heldout=12, size=32, seed=3)
    rows = (folder / "heldout" / "FaceScore.csv").read_text().splitlines()[1:]
    labels = np.array([0 if row.startswith("m") else 1 for row in rows])
    return folder / "heldout", labels


def test_the_evaluation_counts_confusion_per_true_class(heldout_faces: tuple[Path, np.ndarray]) -> None:
    folder, y = heldout_faces
    always_female = _Model(lambda X: np.tile([[0.2, 0.8]], (len(X), 1)))
    evaluation = _evaluate(always_female, folder)
    males, females = int((y == 0).sum()), int((y == 1).sum())
    assert evaluation["confusion"] == [[0, males], [0, females]] and evaluation["other"] == [0, 0]
    assert evaluation["accuracy"] == pytest.approx(females / len(y))


def test_a_prediction_outside_the_classes_is_counted_as_other(heldout_faces: tuple[Path, np.ndarray]) -> None:
    folder, y = heldout_faces
    ten_units = _Model(lambda X: np.eye(10)[np.full(len(X), 7)])  # a Dense(10) output always saying 7
    evaluation = _evaluate(ten_units, folder)
    assert evaluation["confusion"] == [[0, 0], [0, 0]]
    assert evaluation["other"] == [int((y == 0).sum()), int((y == 1).sum())]
    assert heldout(evaluation, ["male", "female"])["other"] == evaluation["other"]


def _answer(status: str, value: object = None) -> Answer:
    return Answer(status, value=value)  # type: ignore[arg-type]


def _context(variables: dict[str, Answer], report: dict[str, object]) -> AssessContext:
    def fetch(function: str, case: Case) -> Answer:
        assert function == VALUE
        return variables.get(case.args[0].name, _answer("missing"))

    return AssessContext(fetch, lambda path, evaluate=False: report)


MODEL_REPORT = {"layers": [{"name": "dense", "class": "Dense", "params": 130, "bias_params": 2, "config": {}}],
                "evaluation": {"n": 4, "accuracy": 0.75, "confusion": [[2, 0], [1, 1]], "other": [0, 0]}}


def test_the_gender_facts_read_the_history_the_model_and_its_evaluation(tmp_path: Path) -> None:
    model = _answer("ok", KerasFile(tmp_path / "m.keras"))
    context = _context({"hist": _answer("ok", {"loss": [0.7, 0.4]}), "model": model}, MODEL_REPORT)
    facts = checked(gender.ASSIGNMENT.facts(context, None))  # type: ignore[misc]
    assert facts["curves"]["series"] == {"loss": [0.7, 0.4]}
    assert facts["heldout"]["labels"] == ["male", "female"] and facts["heldout"]["confusion"] == [[2, 0], [1, 1]]
    assert facts["layers"]["rows"] == [{"name": "dense", "class": "Dense", "params": 130}]


def test_no_history_an_unreadable_one_and_no_model_are_said(tmp_path: Path) -> None:
    assert checked(gender.ASSIGNMENT.facts(_context({}, MODEL_REPORT), None)) == {  # type: ignore[misc]
        "curves": {"problem": "facts.no_history"}, "heldout": {"problem": "facts.no_model"},
        "layers": {"problem": "facts.no_model"}}
    history = {"history": _answer("unsupported")}  # a History the harness could not send (or too large)
    assert checked(gender.ASSIGNMENT.facts(_context(history, MODEL_REPORT), None))["curves"] == {  # type: ignore[misc]
        "problem": "facts.bad_history"}


def _in_a_fake_kernel(user_ns: dict[str, object], scratch: Path, name: str) -> Answer:
    """Fetch the notebook variable ``name`` through the real harness source, run in this process."""
    namespace: dict[str, object] = {"get_ipython": lambda: types.SimpleNamespace(user_ns=user_ns)}
    exec(HARNESS_SOURCE, namespace)  # noqa: S102 - the grader's own source, as the kernel runs it
    folder = write_call(scratch, (Var(name),), {})
    exec(call_source(VALUE, [folder], 5.0), namespace)  # noqa: S102
    return read_answer(folder, within=scratch)


def test_a_keras_history_crosses_the_harness_as_its_dict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keras = types.ModuleType("keras")
    keras.Model = type("Model", (), {})  # type: ignore[attr-defined]
    keras.callbacks = types.SimpleNamespace(History=type("History", (), {}))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keras", keras)
    history = keras.callbacks.History()  # type: ignore[attr-defined]
    history.history = {"loss": [np.float32(0.5), 0.25], "val_loss": [0.6, float("nan")]}
    answer = _in_a_fake_kernel({"history": history}, tmp_path, "history")
    assert answer.status == "ok" and answer.value["loss"] == [0.5, 0.25] and math.isnan(answer.value["val_loss"][1])
    assert curves(answer.value)["series"]["val_loss"] == [0.6, None]


def test_a_history_too_large_for_the_answer_file_is_refused(tmp_path: Path) -> None:
    answer = _in_a_fake_kernel({"history": {"loss": [0.123456789] * 10**6}}, tmp_path, "history")
    assert answer.status != "ok"  # beyond decode's answer.json limit: the facts say "could not be read"
