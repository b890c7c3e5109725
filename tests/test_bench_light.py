"""The bench's light notebooks (bench/light.py) are what the bench says they are: valid notebooks
with valid nbgrader cell metadata, hidden tests that pass on the answers and catch a wrong one,
and a submission this grader gives full marks for the three functions. Nothing here is timed: the
bench (bench/bench.py) measures, this only keeps it from measuring broken notebooks."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import light
from grader.classroom.batch import grade_class
from grader.classroom.runner import local_runner
from grader.course.config import load_config

ROOT = Path(__file__).resolve().parents[1]
NBGRADER_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum",
                 "cell_type"}  # nbgrader's cell metadata schema, version 3, allows no other key


def graded_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if "nbgrader" in c.metadata]


@pytest.mark.parametrize("version", [light.source, light.release, light.submission])
def test_every_version_is_a_valid_notebook_with_valid_nbgrader_metadata(version) -> None:
    nb = version()
    nbformat.validate(nb)
    cells = graded_cells(nb)
    assert [c.metadata.nbgrader["grade_id"] for c in cells] == [
        "max_pool2d", "test_max_pool2d", "avg_pool2d", "test_avg_pool2d", "max_pool2d_backward",
        "test_max_pool2d_backward"]
    for cell in cells:
        meta = cell.metadata.nbgrader
        assert set(meta) <= NBGRADER_KEYS and {"schema_version", "grade", "locked", "solution"} <= set(meta)
        assert meta["schema_version"] == 3 and cell.cell_type == "code"
        assert re.fullmatch(r"[a-zA-Z0-9_\-]+", meta["grade_id"])
        tests = meta["grade_id"].startswith("test_")
        assert (meta["grade"], meta["solution"], meta["locked"]) == (tests, not tests, tests)
        assert (meta.get("points", 0) > 0) == tests
        if version is not light.source:  # the student's copies carry nbgrader's checksum and cell type
            assert re.fullmatch(r"[0-9a-f]{32}", meta["checksum"]) and meta["cell_type"] == "code"


def test_the_submission_is_the_release_with_the_answers_filled_in() -> None:
    released, submitted = light.release(), light.submission()
    assert len(released.cells) == len(submitted.cells)
    for before, after in zip(released.cells, submitted.cells):
        assert before.metadata == after.metadata
        solution = before.metadata.get("nbgrader", {}).get("solution", False)
        assert (before.source != after.source) == solution
        if solution:
            assert "raise NotImplementedError()" in before.source and f"def {before.metadata.nbgrader['grade_id']}(" in after.source
    assert "import matplotlib" not in "".join(c.source for c in submitted.cells)


def run_cells(nb: nbformat.NotebookNode, replace: dict[str, str] | None = None) -> None:
    """Execute the notebook's code cells here, in order (``replace``: a solution cell's new source)."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            exec((replace or {}).get(grade_id, cell.source), namespace)


def test_the_hidden_tests_pass_on_the_answers_and_catch_a_wrong_one() -> None:
    source, released = light.source(), light.release()
    hidden = [c.source for c in graded_cells(source) if c.metadata.nbgrader["grade"]]
    assert all(light.BEGIN_HIDDEN in s and s.count("\n    ((") >= 10 for s in hidden)  # the grader's cases
    assert not any(light.BEGIN_HIDDEN in c.source for c in released.cells)
    run_cells(source)
    wrong_mean = light.ANSWERS["avg_pool2d"].replace(".mean(axis=(0, 1))", ".max(axis=(0, 1))")
    with pytest.raises(AssertionError):
        run_cells(source, {"avg_pool2d": wrong_mean})


def test_the_grader_gives_the_submission_full_marks_for_the_three_functions(tmp_path: Path) -> None:
    light.write_class(tmp_path / "class", 1)
    config = load_config(ROOT / "course.toml", environ={})
    run = grade_class(tmp_path / "class", tmp_path / "out", config, runner=local_runner(jobs=1), similarity=False)
    [result] = run.results
    assert result.assignment == light.ASSIGNMENT and not result.error
    for function in light.FUNCTIONS:
        tests = [t for t in result.tests if t.question == function]
        assert tests and all(t.score == t.max_score > 0 for t in tests), function
