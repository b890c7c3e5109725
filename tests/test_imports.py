"""What a ``grader`` command imports before it needs it: the Jupyter client stack and nbformat
(most of the start-up) only when a kernel starts or a notebook is read, never for a cached
regrade, a report or an export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("nbclient", "jupyter_client", "nbformat")


def test_the_cli_and_a_class_run_import_no_jupyter_client_or_nbformat() -> None:
    probe = ("import json, sys; import grader.cli, grader.classroom.batch, grader.classroom.runner, "
             "grader.classroom.similarity_files, grader.publish.report; "
             f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout) == []


def test_reading_a_notebook_imports_nbformat_when_it_is_needed(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    probe = ("import sys; from grader.grade.notebook import read_notebook; "
             f"nb = read_notebook(__import__('pathlib').Path({str(path)!r})); print(nb.nbformat)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "4"
