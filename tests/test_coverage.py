"""Check cells agree with the tests: a call a check cell makes must look like some declared case.

The structure of arguments (grader.authoring.callshape), the features of a call and their coverage
by the declared cases (grader.authoring.coverage), and `grader validate`'s finding on a planted
check cell that exercises what no case does — and none on the shipped course.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from course_facts import quick_gender_solution
from grader.authoring.callshape import describe
from grader.authoring.coverage import CheckCall, uncovered_calls
from grader.authoring.validate import check_cells_covered
from grader.course.assignments import course_assignments
from grader.course.config import load_config
from grader.course.spec import Case, Group, Question
from grader.grade.prepare import PreparedGroup, PreparedQuestion, prepare

ROOT = Path(__file__).resolve().parents[1]


def test_arguments_are_described_by_structure_not_value() -> None:
    assert describe(3) == ["int"] and describe(np.int64(3)) == ["int"] and describe(2.5) == ["float"]
    assert describe(True) == ["bool"] and describe(None) == ["None"]
    assert describe((2, 1)) == ["(int, int)"] and describe((np.float64(1.0),)) == ["(float,)"]
    assert describe(np.zeros((3, 4))) == ["array2 float"] and describe(np.arange(8).reshape(2, 2, 2)) == ["array3 int"]
    assert describe("same") == ["'same'"] and describe("/tmp/faces/FaceScore.csv") == ["str"]
    layers = [("conv2d", 8, (3, 3), "same", 1), ("flatten",), ("dense", 2)]
    assert describe(layers) == ["list", "item ('conv2d', int, (int, int), 'same', int)", "item ('flatten',)",
                                "item ('dense', int)", "pair 'conv2d' → 'flatten'", "pair 'flatten' → 'dense'"]


def test_a_model_is_described_by_its_layer_classes() -> None:
    class Conv2D: ...

    class Dense: ...

    model = SimpleNamespace(layers=[Conv2D(), Dense(), Dense()])
    assert describe(model) == ["model", "layer Conv2D", "layer Dense"]


def _pool(x, size, stride=None):  # the reference of a made-up question: only its signature matters
    return x


def _prepared(*cases: Case) -> list[PreparedQuestion]:
    question = Question("pool", _pool, (Group("g", lambda rng: list(cases)),))
    return [PreparedQuestion(question, (PreparedGroup(question.groups[0], tuple((c, None) for c in cases), 1.0),))]


def _call(*args: object, **kwargs: object) -> CheckCall:
    return CheckCall(3, "pool", tuple(tuple(describe(a)) for a in args), {k: tuple(describe(v)) for k, v in kwargs.items()})


def test_a_call_is_covered_when_each_feature_is_some_cases() -> None:
    prepared = _prepared(Case((np.zeros((4, 4)), 2)), Case((np.zeros((5, 5, 2)), (2, 3), 1)))
    assert uncovered_calls([_call(np.ones((6, 6)), (1, 2), 2)], prepared, {}) == []
    # the same numbers, but stride passed by keyword, or as a pair, or a list instead of an array
    gaps = uncovered_calls([_call(np.ones((6, 6)), 2, stride=2), _call(np.ones((6, 6)), 2, (2, 1)),
                            _call([[1.0, 2.0]], 2)], prepared, {})
    assert [gap.missing for gap in gaps] == [
        ("call pool(x, size, stride=)",),
        ("stride: (int, int)",),
        ("x: list", "x: item list"),
    ]
    assert gaps[1].cell == 3 and gaps[1].call == "pool(array2 float, int, (int, int))"


def _solution_with(tmp_path: Path, aid: str, source: str, question: str) -> tuple[Path, int]:
    """A copy of the solution with one more check cell; returns the copy and that cell's index. The
    gender solution's model trains briefly: what its check cells call is the point, not its accuracy."""
    master = (quick_gender_solution(tmp_path / "quick-gender.ipynb") if aid == "04-gender-cnn"
              else ROOT / "solutions" / f"{aid}.ipynb")
    nb = nbformat.read(master, as_version=4)
    nb.cells.append(new_code_cell(source, metadata={"grader": {"role": "check", "question": question}}))
    path = tmp_path / f"{aid}.ipynb"
    nbformat.write(nb, path)
    return path, len(nb.cells) - 1


def _findings(path: Path, aid: str):  # type: ignore[no-untyped-def]
    config = load_config(ROOT / "course.toml")
    assignment = course_assignments()[aid]
    return check_cells_covered(path, assignment, prepare(assignment, config), config, "off")


def test_validate_names_a_check_cell_that_passes_a_tuple_stride_the_tests_never_pass(tmp_path: Path) -> None:
    aid = "01-convolution"
    path, index = _solution_with(tmp_path, aid, "assert np.shape(im2col(np.zeros((5, 5)), 1, 3, stride=(2, 1))) == (9, 3)",
                                 "im2col")
    findings = _findings(path, aid)
    assert [(f.check, f.ok) for f in findings] == [(f"{aid} · check cell {index} · im2col", False)], \
        "the planted cell is the only call of the shipped checks the tests do not make"
    assert findings[0].detail.startswith(f"{aid}.ipynb: im2col(array2 float, int, int, stride=(int, int))")
    assert "stride: (int, int)" in findings[0].detail


@pytest.mark.parametrize("aid", ["02-pooling", "03-parameter-counting"])
def test_the_shipped_check_cells_call_only_what_the_tests_do(aid: str, tmp_path: Path) -> None:
    # 01-convolution and 04-gender-cnn are checked by the planted tests: their only gap is the planted one
    path = tmp_path / f"{aid}.ipynb"
    shutil.copy(ROOT / "solutions" / f"{aid}.ipynb", path)
    findings = _findings(path, aid)
    assert [(f.ok, f.detail) for f in findings if not f.ok] == []
    assert len(findings) == 1 and "call(s) from check cells" in findings[0].detail


@pytest.mark.slow
def test_a_model_argument_is_covered_by_the_layer_classes_of_the_solutions_model(tmp_path: Path) -> None:
    aid = "04-gender-cnn"
    probe = ("param_report(keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3), "
             "layers.BatchNormalization(), layers.Flatten(), layers.Dense(1)]))")
    path, index = _solution_with(tmp_path, aid, probe, "param_report")
    findings = [f for f in _findings(path, aid) if not f.ok]
    assert [f.check for f in findings] == [f"{aid} · check cell {index} · param_report"], \
        "the planted cell is the only call of the shipped checks the tests do not make"
    assert "layer BatchNormalization" in findings[0].detail and "layer Conv2D" not in findings[0].detail
