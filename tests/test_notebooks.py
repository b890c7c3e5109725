"""The course notebooks: every master runs cleanly, every released template fails only where a
student has work to do, and no solution text reaches the students."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from grader.course.config import load_config
from grader.run.execute import execute_cells, kernel
from grader.course.faces import ensure_faces
from grader.run.sandbox import Confinement
from grader.authoring.release import BEGIN, END, release, released_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("01-convolution", "02-pooling", "03-parameter-counting", "04-gender-cnn")
CONFIG = load_config(ROOT / "course.toml", environ={})


def marks(name: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.slow] if name == "04-gender-cnn" else []


PARAMS = [pytest.param(name, marks=marks(name)) for name in NOTEBOOKS]


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces")
    ensure_faces(root)
    return root / "train"


def run(path: Path, faces_dir: Path, name: str):
    limits = CONFIG.limits_for(name)
    nb = nbformat.read(path, as_version=4)
    cells = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    env = {**os.environ, "FACES_DIR": str(faces_dir), "MPLBACKEND": "agg", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(ROOT / "dist" / "student")}  # the self-check the notebooks import
    # The course's own notebooks, run in place (the sandbox is exercised by the grading tests).
    with kernel(Confinement(path.parent, env)) as session:
        execution = execute_cells(session, cells, cell_timeout=limits.cell_timeout,
                                  notebook_timeout=limits.notebook_timeout)
    return nb, execution


def test_every_notebook_exists_and_assignments_are_in_sync() -> None:
    assert sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb")) == list(NOTEBOOKS)
    statuses = {r.path.name: r.status for r in release(ROOT / "solutions", ROOT / "assignments", check=True)}
    assert statuses == {f"{n}.ipynb": "unchanged" for n in NOTEBOOKS}


@pytest.mark.parametrize("name", PARAMS)
def test_solution_runs_without_error(name: str, faces_dir: Path) -> None:
    started = time.monotonic()
    _, execution = run(ROOT / "solutions" / f"{name}.ipynb", faces_dir, name)
    failures = [(c.index, c.outcome, c.ename, c.evalue) for c in execution.failures]
    assert failures == [], f"{name}: {failures}"
    print(f"{name}: {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize("name", PARAMS)
def test_template_fails_only_in_answer_and_check_cells(name: str, faces_dir: Path) -> None:
    nb, execution = run(ROOT / "assignments" / f"{name}.ipynb", faces_dir, name)
    assert execution.failures, "a template with nothing to do"
    for run_ in execution.failures:
        role = nb.cells[run_.index].metadata.get("grader", {}).get("role")
        assert role in ("answer", "check"), f"{name} cell {run_.index} ({role}) failed: {run_.ename}"
        assert run_.ename == "NotImplementedError", f"{name} cell {run_.index}: {run_.ename}: {run_.evalue}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_notebook_contains_no_solution_text(name: str) -> None:
    master = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    released = released_text(ROOT / "solutions" / f"{name}.ipynb")
    assert BEGIN not in released and END not in released
    solution_lines = set()
    for cell in master.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == BEGIN:
                inside = True
            elif line.strip() == END:
                inside = False
            elif inside and len(line.strip()) > 25:
                solution_lines.add(line.strip())
    student = nbformat.reads(released, as_version=4)
    template_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    leaked = sorted(solution_lines & template_lines)
    assert leaked == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_cell_declares_its_role(name: str) -> None:
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    roles = [c.metadata.get("grader", {}).get("role") for c in nb.cells]
    assert set(roles) <= {"answer", "given", "check"}, roles
    assert "answer" in roles and "check" in roles
