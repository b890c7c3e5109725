"""grader release: solution markers become stubs, and --check names stale notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.cli import main
from grader.authoring.release import ReleaseError, release, release_notebook

ROOT = Path(__file__).resolve().parents[1]

ANSWER = '''def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    secret_line = x + x
    return secret_line
    ### END SOLUTION'''


def master() -> nbformat.NotebookNode:
    answer = new_code_cell(ANSWER, metadata={"grader": {"role": "answer", "question": "double"}})
    answer.outputs = [nbformat.v4.new_output("stream", text="noise")]
    answer.execution_count = 3
    return new_notebook(
        cells=[
            new_markdown_cell("Explain.\n### BEGIN SOLUTION\nthe written answer\n### END SOLUTION"),
            answer,
            new_code_cell("print('only for instructors')", metadata={"tags": ["solution-only"]}),
            new_code_cell("assert double(2) == 4", metadata={"grader": {"role": "check", "question": "double"}}),
        ]
    )


def test_markers_become_stubs_at_their_indentation() -> None:
    student = release_notebook(master())
    code = student.cells[1]
    assert code.source == (
        'def double(x):\n    """Twice x."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    )
    assert code.outputs == [] and code.execution_count is None
    assert code.metadata.grader == {"role": "answer", "question": "double"}
    assert student.cells[0].source == "Explain.\nYOUR ANSWER HERE"
    assert [c.source for c in student.cells][-1] == "assert double(2) == 4"
    assert len(student.cells) == 3, "the solution-only cell is dropped"


def test_master_is_not_modified() -> None:
    nb = master()
    before = json.dumps(nb, sort_keys=True)
    release_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before


def test_stub_defines_a_function_that_raises() -> None:
    namespace: dict[str, object] = {}
    exec(release_notebook(master()).cells[1].source, namespace)
    with pytest.raises(NotImplementedError):
        namespace["double"](1)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "line 1: '### BEGIN SOLUTION' is never closed"),
        ("x = 1\n### END SOLUTION", "line 2: '### END SOLUTION' without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: '### BEGIN SOLUTION' inside"),
    ],
)
def test_unbalanced_markers_name_notebook_and_cell(source: str, message: str) -> None:
    nb = new_notebook(cells=[new_code_cell("import numpy"), new_code_cell(source)])
    with pytest.raises(ReleaseError, match=f"bad.ipynb: cell 1: {message}"):
        release_notebook(nb, "bad.ipynb")


def make_course(tmp_path: Path) -> Path:
    (tmp_path / "solutions").mkdir()
    nbformat.write(master(), tmp_path / "solutions" / "01-double.ipynb")
    (tmp_path / "course.toml").write_text(
        '[course]\nname = "t"\nseed = 1\n[faces]\ntrain_dir = "a"\nheldout_dir = "b"\n'
        "[assignments.01-double]\npoints = { double = 1 }\n",
        encoding="utf-8",
    )
    return tmp_path


def test_release_then_check_in_sync_and_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = make_course(tmp_path)
    args = ["--course", str(course / "course.toml"), "release"]
    assert main(args + ["--check"]) == 1
    assert "assignments/01-double.ipynb: is missing" in capsys.readouterr().err

    assert main(args) == 0
    released = (course / "assignments" / "01-double.ipynb").read_text(encoding="utf-8")
    assert "secret_line" not in released and "only for instructors" not in released
    assert main(args + ["--check"]) == 0
    assert "in sync" in capsys.readouterr().out

    nb = nbformat.read(course / "solutions" / "01-double.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("x + x", "2 * x").replace('"""Twice x."""', '"""2x."""')
    nbformat.write(nb, course / "solutions" / "01-double.ipynb")
    assert main(args + ["--check"]) == 1
    assert "assignments/01-double.ipynb: is out of date" in capsys.readouterr().err


def test_orphans_fail_the_check_and_are_removed_on_release(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    release(course / "solutions", course / "assignments")
    orphan = course / "assignments" / "99-old.ipynb"
    orphan.write_text("{}", encoding="utf-8")
    statuses = {r.path.name: r.status for r in release(course / "solutions", course / "assignments", check=True)}
    assert statuses == {"01-double.ipynb": "unchanged", "99-old.ipynb": "orphan"}
    release(course / "solutions", course / "assignments")
    assert not orphan.exists()


def test_unreadable_master_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = make_course(tmp_path)
    (course / "solutions" / "02-broken.ipynb").write_text("{not json", encoding="utf-8")
    assert main(["--course", str(course / "course.toml"), "release"]) == 2
    assert "02-broken.ipynb: cannot read notebook" in capsys.readouterr().err
