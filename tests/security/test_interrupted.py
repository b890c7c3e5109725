"""Nothing lost: a grader killed halfway or stopped with Ctrl-C keeps what it did, and a rerun
finishes the class with exactly one correct result per submission and no kernel left behind."""

from __future__ import annotations

import csv
import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from test_grade import CORRECT_CONV2D  # tests/ is on sys.path: its conftest.py is a rootdir module

from course_facts import max_score
from grader.classroom.gradebook import GRADEBOOK_FILE, GRADES_CSV, RESULTS_DIR

from .conftest import ASSIGNMENT, course_copy, processes_mentioning, write_notebook

STUDENTS = [f"student{i}" for i in range(6)]
# conv2d alone: 20 points; each student's notebook differs (a comment), so each has its own hash.
SCORE = 20


GATE = "GATE-OPENED-BY-THE-TEST"
GATED = 2  # student2's notebook waits at its gate: a run can get past it only when the test lets it
# A named pipe opened for reading blocks until a writer comes: the cell waits for the test, not for
# a time. The limits are far beyond the test's patience, so only the test (or a kill) ends the wait.
GATE_CELL = f"import os\nos.mkfifo({GATE!r})\nopen({GATE!r}, 'rb').close()"
PATIENT = {"cell_timeout": 3000, "notebook_timeout": 3000, "call_timeout": 20}


def gated_class(base: Path) -> tuple[Path, Path]:
    """Six small submissions, student2's with its gate, and a patient course copy; returns
    (submissions, toml)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    submissions = base / "submissions"
    for i, student in enumerate(STUDENTS):
        cells = [new_code_cell(f"# {student}\n{CORRECT_CONV2D}")]
        if i == GATED:
            cells.append(new_code_cell(GATE_CELL))
        write_notebook(submissions / student / f"{ASSIGNMENT}.ipynb", nbformat.from_dict(new_notebook(cells=cells)))
    return submissions, course_copy(base / "course", PATIENT)


def gates(base: Path) -> set[Path]:
    """The gates the kernels of the runs below ``base`` made (one per run that reached student2)."""
    return set((base / "tmp").glob(f"cnn-grader-*/work/{GATE}"))


def open_gate(gate: Path) -> bool:
    """Let the waiting cell go on: open its pipe for writing once its reader is there (ENXIO until
    then) and close it, so the reader's open returns."""
    try:
        os.close(os.open(gate, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            return False
        raise
    return True


def recorded(out: Path) -> int:
    """How many submissions the gradebook has recorded (0 before it exists)."""
    try:
        with closing(sqlite3.connect(f"file:{out / GRADEBOOK_FILE}?mode=ro", uri=True)) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.OperationalError:  # not made yet, or its table not yet
        return 0


def start_grader(base: Path, submissions: Path, toml: Path, ignore_sigint: bool = False) -> subprocess.Popen[bytes]:
    """``grader grade`` in its own process group, its temporary folders below ``base``; with
    ``ignore_sigint`` it inherits SIGINT ignored, like a background job of a non-interactive shell."""
    (base / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(base / "tmp"), "COLUMNS": "120"}
    return subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "--course", str(toml), "grade", str(submissions),
         "--out", str(base / "out"), "--jobs", "1", "--lang", "en"],  # the lines asserted below are English
        cwd=base, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None)


def wait_for(condition: Callable[[], object], proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Wait until ``condition()`` is true while the grader runs (the timeout only guards a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"still waiting after {timeout} s"
        time.sleep(0.05)


def wait_for_results(out: Path, count: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    wait_for(lambda: len(list((out / RESULTS_DIR).glob("*/*.json"))) >= count, proc, timeout)


def wait_gone(base: Path, timeout: float = 120) -> list[tuple[int, str]]:
    """The run's processes still alive after ``timeout`` seconds (kernels die with their grader: the
    wait ends as soon as they are gone; the timeout only guards against a hang)."""
    deadline = time.monotonic() + timeout
    while (left := processes_mentioning(str(base))) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def assert_complete(out: Path, submissions: Path) -> None:
    """One readable, correct result per submission; one gradebook row each; no temporary files."""
    files = sorted((out / RESULTS_DIR).rglob("*"))
    results = [p for p in files if p.is_file()]
    assert [p.relative_to(out / RESULTS_DIR).as_posix() for p in results] == [
        f"{s}/{ASSIGNMENT}.json" for s in STUDENTS]
    for path in results:
        data = json.loads(path.read_text(encoding="utf-8"))
        student = data["grader"]["student"]
        notebook = (submissions / student / f"{ASSIGNMENT}.ipynb").read_bytes()
        import hashlib

        assert data["grader"]["submission_sha256"] == hashlib.sha256(notebook).hexdigest()
        assert data["score"] == SCORE and data["max_score"] == max_score(ASSIGNMENT), (student, data["score"])
    with sqlite3.connect(out / GRADEBOOK_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = db.execute("SELECT student, assignment, score FROM submissions ORDER BY student").fetchall()
    assert rows == [(s, ASSIGNMENT, SCORE) for s in STUDENTS]
    with open(out / GRADES_CSV, encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(row["student"], row[ASSIGNMENT]) for row in table] == [(s, str(SCORE)) for s in STUDENTS]
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == [], leftovers


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_gives_exactly_one_result_each(tmp_path: Path) -> None:
    """Deterministic: the first run is killed while student2 waits at its gate, so exactly the two
    before it are done, however fast the machine; the rerun's student2 is let through its gate."""
    submissions, toml = gated_class(tmp_path)
    out = tmp_path / "out"
    first = start_grader(tmp_path, submissions, toml)
    try:
        wait_for(lambda: gates(tmp_path) and recorded(out) == GATED, first)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    assert recorded(out) == GATED, "killed halfway: the two before the gate, nothing after"
    assert sorted(p.parent.name for p in (out / RESULTS_DIR).glob("*/*.json")) == STUDENTS[:GATED]
    assert wait_gone(tmp_path) == [], "the killed grader's kernel outlived it"

    closed = gates(tmp_path)  # the killed run's gate (its scratch folder stays behind)
    second = start_grader(tmp_path, submissions, toml)
    try:
        wait_for(lambda: any(open_gate(gate) for gate in gates(tmp_path) - closed), second)
        _, err = second.communicate(timeout=300)  # a hang guard only
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.communicate()
    assert second.returncode == 0, err.decode()
    assert f"{GATED} submission(s) unchanged since the last run" in " ".join(err.decode().split())
    assert_complete(out, submissions)
    assert wait_gone(tmp_path) == []


BLOCKING = "BLOCKING-UNTIL-INTERRUPTED"
# A cell that never ends by itself: only Ctrl-C can end the run while it is being graded.
BLOCK_CELL = f"import threading\nopen({BLOCKING!r}, 'w').close()\nthreading.Event().wait()"


@pytest.mark.slow
def test_ctrl_c_stops_a_run_stuck_in_a_cell_keeps_results_and_leaves_no_kernel(tmp_path: Path) -> None:
    """Deterministic: student2's cell blocks until interrupted (limits far beyond the test's
    patience), so the run can only end through the interrupt; the SIGINT is sent once that cell is
    known to be running. The grader is started with SIGINT ignored, as a background job of a
    non-interactive shell inherits it (how the interrupt was once lost), and must stop anyway."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    submissions = tmp_path / "submissions"
    for i, student in enumerate(STUDENTS):
        cells = [new_code_cell(f"# {student}\n{CORRECT_CONV2D}")]
        if i == 2:
            cells.append(new_code_cell(BLOCK_CELL))
        write_notebook(submissions / student / f"{ASSIGNMENT}.ipynb", nbformat.from_dict(new_notebook(cells=cells)))
    toml = course_copy(tmp_path / "course", {"cell_timeout": 3000, "notebook_timeout": 3000, "call_timeout": 20})
    out = tmp_path / "out"
    proc = start_grader(tmp_path, submissions, toml, ignore_sigint=True)
    wait_for_results(out, 2, proc)
    wait_for(lambda: list((tmp_path / "tmp").glob(f"cnn-grader-*/work/{BLOCKING}")), proc)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    _, err = proc.communicate(timeout=120)  # a hang guard only: without the interrupt it never ends
    text = err.decode()
    assert proc.returncode == 130, (proc.returncode, text)
    assert "Traceback" not in text and "interrupted" in text, text
    assert len(text.strip().splitlines()) <= 3, text
    kept = sorted(p.parent.name for p in (out / RESULTS_DIR).glob("*/*.json"))
    assert kept == STUDENTS[:2], "the two finished submissions are kept; the interrupted one left nothing"
    for path in (out / RESULTS_DIR).glob("*/*.json"):
        assert json.loads(path.read_text(encoding="utf-8"))["score"] == SCORE
    assert wait_gone(tmp_path) == [], "a kernel outlived the interrupted grader"
    with sqlite3.connect(out / GRADEBOOK_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert sorted(r[0] for r in db.execute("SELECT student FROM submissions")) == kept
