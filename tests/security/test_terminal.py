"""What `grader grade` prints on the instructor's terminal: student-chosen text is text.

A folder, a zip entry or an exception message is the student's to name; the CLI prints through
rich, whose markup ``[/x]`` used to raise MarkupError after grading (no reports rendered, exit 1),
and whose output passed terminal escape sequences (``ESC[2J`` clears the screen) through."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from grader import cli
from grader.classroom.batch import ClassRun
from grader.judge.results import GraderError, SubmissionResult
from grader.intake.submissions import Unrecognised

HOSTILE = "[/x][bold]\x1b[2J\x07"


def test_the_run_summary_prints_hostile_names_as_text() -> None:
    run = ClassRun(results=[
        SubmissionResult(HOSTILE, "01-convolution", "", "0", 0.0, (), error=f"bad {HOSTILE}"),
        SubmissionResult("bob", "01-convolution", "", "0", 0.0, (), grader_error=GraderError("read", f"KeyError {HOSTILE}")),
    ], unrecognised=[Unrecognised(f"{HOSTILE}.ipynb", f"no assignment {HOSTILE}")])
    buffer = io.StringIO()
    cli._print_run(run, Path("/tmp/out[/y]"), Console(file=buffer, force_terminal=True, width=300))
    text = buffer.getvalue()
    assert "[/x]" in text and "\\x1b[2J" in text
    assert "\x1b[2J" not in text and "\x07" not in text


def test_grader_check_prints_a_notebooks_escape_sequences_as_text(tmp_path: Path, capsys) -> None:
    """A TA previewing a student's notebook with `grader check` gets its messages, not its terminal
    commands (an OSC title sequence here; OSC 52 would write the TA's clipboard)."""
    from .conftest import ASSIGNMENT, course_copy, hostile_notebook, write_notebook

    course = course_copy(tmp_path / "course")
    nb = write_notebook(tmp_path / f"{ASSIGNMENT}.ipynb", hostile_notebook(
        "def conv2d(x, k, mode='valid'):\n    raise ValueError('\\x1b]0;pwned\\x07 \\x1b[2J')",
        "raise RuntimeError('\\x1b[31mred')"))
    assert cli.main(["--course", str(course), "check", str(nb), "--sandbox", "off"]) == 1
    out, err = capsys.readouterr()
    assert "\\x1b]0;pwned" in out and "\x1b" not in out + err and "\x07" not in out + err
