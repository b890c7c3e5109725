"""Fail closed (issue 18): students' code never runs unconfined unless the instructor says so by name.

``grader grade`` without a working bubblewrap stops before anything is written, naming the reason
and the fix; ``--sandbox off`` grades and says so in every result; the commands that run only
trusted code (``validate``, ``check``) fall back to running unconfined with one line saying why.
The machine "without bubblewrap" is real here: the grader runs with a ``PATH`` that has no bwrap.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from test_grade import CORRECT_CONV2D  # tests/ is on sys.path: its conftest.py is a rootdir module

from grader.run import sandbox
from grader.run.sandbox import SandboxUnavailable

from .conftest import ASSIGNMENT, course_copy, write_notebook

NO_BWRAP_PATH = os.path.dirname(sys.executable)  # the venv's bin: python, grader, no bwrap


def _grade(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    toml = course_copy(tmp_path / "course")
    nb = new_notebook(cells=[new_code_cell(CORRECT_CONV2D)])
    write_notebook(tmp_path / "subs" / "li_hua" / f"{ASSIGNMENT}.ipynb", nbformat.from_dict(nb))
    env = {**os.environ, "PATH": NO_BWRAP_PATH, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(toml), "grade",
                           str(tmp_path / "subs"), "--out", str(tmp_path / "out"), *extra],
                          capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process: a machine where bubblewrap is missing."""
    monkeypatch.setattr(sandbox, "_bwrap_problem", lambda: "bubblewrap is not installed: apt-get install bubblewrap")
    sandbox._note_trusted.cache_clear()


def test_grade_without_bubblewrap_refuses_names_the_reason_the_fix_and_the_way_out(tmp_path: Path) -> None:
    done = _grade(tmp_path)
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "refusing to grade" in message
    assert "bubblewrap is not installed" in message and "apt-get install bubblewrap" in message
    assert "--sandbox off" in message
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written when grading is refused"


def test_sandbox_off_grades_unconfined_and_every_result_says_so(tmp_path: Path) -> None:
    done = _grade(tmp_path, "--sandbox", "off")
    assert done.returncode == 0, done.stderr
    assert "SANDBOX OFF" in done.stderr
    result = json.loads((tmp_path / "out" / "results" / "li_hua" / f"{ASSIGNMENT}.json").read_text("utf-8"))
    assert result["grader"]["sandbox"] == "off"
    assert result["score"] == 20  # conv2d alone
    page = (tmp_path / "out" / "report" / "li_hua" / f"{ASSIGNMENT}.html").read_text("utf-8")
    assert "--sandbox off" in page


def test_required_isolation_raises_with_the_refusal(no_bwrap: None) -> None:
    with pytest.raises(SandboxUnavailable, match="refusing to grade.*bubblewrap is not installed.*--sandbox off"):
        sandbox.isolation("required")
    assert sandbox.isolation("off") == "off"


def test_trusted_commands_run_unconfined_and_say_why_once(no_bwrap: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="grader.run.sandbox"):
        assert [sandbox.isolation("auto") for _ in range(3)] == ["off"] * 3
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "course's own code" in said[0] and "bubblewrap is not installed" in said[0]


def test_the_probe_make_demo_asks_says_why_without_bubblewrap() -> None:
    env = {**os.environ, "PATH": NO_BWRAP_PATH}
    done = subprocess.run([sys.executable, "-m", "grader.run.sandbox"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 1 and "bubblewrap is not installed" in done.stderr
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "python -m grader.run.sandbox" in makefile and "--sandbox $$sandbox" in makefile
