"""nbgrader beside this grader: its own venv, an nbgrader course for the light notebooks
(bench/light.py), and ``nbgrader autograde`` over a class of them, timed as an instructor runs it.

The venv lives outside the repository (``$XDG_CACHE_HOME/cnn-grader/bench-nbgrader``, else
``~/.cache/...``) and is reused when present; it is made with ``pip install nbgrader`` from the
package index the first time. nbgrader's kernels run the same Python as this grader's and the bare
runs (a kernelspec on ``JUPYTER_PATH``), so all three execute the notebooks with the same NumPy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

import light

CONFIG = """c = get_config()
c.CourseDirectory.course_id = "cnn-grader-bench"
c.CourseDirectory.root = {root!r}
c.Execute.timeout = 600
"""

# Run with the venv's Python after an autograde: each submission's score and full marks, from the
# gradebook nbgrader wrote.
SCORES = """
import json, sys
from nbgrader.api import Gradebook
with Gradebook(sys.argv[1]) as gb:
    print(json.dumps({s.student.id: [s.score, s.max_score] for s in gb.assignment_submissions(sys.argv[2])}))
"""


class NbgraderFailed(RuntimeError):
    """nbgrader could not be installed or did not do what the bench asked (its output says why)."""


def venv_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "cnn-grader" / "bench-nbgrader"


def ensure_venv() -> Path:
    """The nbgrader venv's ``nbgrader`` command, installing it first when it is not there."""
    venv = venv_dir()
    command = venv / "bin" / "nbgrader"
    if command.exists():
        return command
    print(f"installing nbgrader into {venv} (once; reused by later runs) ...", flush=True)
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "nbgrader"])
    return command


def version(command: Path) -> str:
    """``0.9.6``: what ``nbgrader --version`` says, without its name."""
    return _run([str(command), "--version"]).stdout.strip().splitlines()[-1].removeprefix("nbgrader version ")


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise NbgraderFailed(f"{' '.join(argv)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return done


class Course:
    """An nbgrader course directory at ``root`` with the light notebook as its one assignment,
    generated once; :meth:`autograde` grades whatever ``submitted/`` holds, from a fresh gradebook."""

    def __init__(self, command: Path, root: Path) -> None:
        self.command, self.root = command, root
        # nbgrader calls its venv's ``alembic`` by name, so that venv's bin comes first on PATH.
        self.env = {**os.environ, "JUPYTER_PATH": str(kernelspec(root / "jupyter")),
                    "PATH": f"{command.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        root.mkdir(parents=True, exist_ok=True)
        (root / "nbgrader_config.py").write_text(CONFIG.format(root=str(root)), encoding="utf-8")
        source = root / "source" / light.ASSIGNMENT / f"{light.ASSIGNMENT}.ipynb"
        source.parent.mkdir(parents=True)
        nbformat.write(light.source(), source)
        self._nbgrader("generate_assignment", light.ASSIGNMENT)
        released = root / "release" / light.ASSIGNMENT / f"{light.ASSIGNMENT}.ipynb"
        _same_cells(nbformat.read(released, as_version=4), light.release())
        shutil.copy(root / "gradebook.db", root / "gradebook.generated.db")

    def _nbgrader(self, *args: str) -> subprocess.CompletedProcess:
        return _run([str(self.command), *args], cwd=self.root, env=self.env)

    def submit(self, notebooks: list[Path]) -> None:
        """Each notebook as its student's submission (``submitted/STUDENT/ASSIGNMENT/``), the
        student being the notebook's folder name."""
        shutil.rmtree(self.root / "submitted", ignore_errors=True)
        for path in notebooks:
            dest = self.root / "submitted" / path.parent.name / light.ASSIGNMENT / path.name
            dest.parent.mkdir(parents=True)
            shutil.copy(path, dest)

    def autograde(self) -> float:
        """Seconds for one ``nbgrader autograde`` of the whole class (one process, as an instructor
        runs it), after resetting its gradebook and output so every submission is graded."""
        shutil.copy(self.root / "gradebook.generated.db", self.root / "gradebook.db")
        shutil.rmtree(self.root / "autograded", ignore_errors=True)
        started = time.perf_counter()
        self._nbgrader("autograde", light.ASSIGNMENT)
        return time.perf_counter() - started

    def scores(self) -> dict[str, tuple[float, float]]:
        """Each student's (score, full marks) from the last autograde's gradebook."""
        python = self.command.parent / "python"
        done = _run([str(python), "-c", SCORES, f"sqlite:///{self.root / 'gradebook.db'}", light.ASSIGNMENT],
                    env=self.env)
        return {k: tuple(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def kernelspec(where: Path) -> Path:
    """A ``python3`` kernelspec under ``where`` that runs this Python's ipykernel."""
    spec = where / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}), encoding="utf-8")
    return where


def _same_cells(nbgrader_made: nbformat.NotebookNode, ours: nbformat.NotebookNode) -> None:
    """nbgrader's release and :func:`light.release` must agree cell for cell (type, source and
    metadata): the light submissions are then exactly nbgrader's release with the answers in."""
    def shape(nb: nbformat.NotebookNode) -> list[tuple[str, str, str]]:
        return [(c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in nb.cells]

    theirs, mine = shape(nbgrader_made), shape(ours)
    if theirs != mine:
        diff = [f"cell {i}:\n  nbgrader: {t}\n  light.py: {m}" for i, (t, m) in enumerate(zip(theirs, mine)) if t != m]
        raise NbgraderFailed(f"nbgrader's release differs from bench/light.py's ({len(theirs)} vs {len(mine)} "
                             "cells):\n" + "\n".join(diff[:3]))
