"""Cells and functions that hang, exit, crash or flood the kernel: each costs only itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from course_facts import example_scores
from grader.classroom.gradebook import result_path

from .conftest import (
    HONEST_FIRST,
    HONEST_LAST,
    LIMITS,
    TEMPLATE,
    HostileRun,
    course_copy,
    english,
    hostile_cells,
    hostile_notebook,
    write_notebook,
)

INFINITE_LOOP = hostile_cells("infinite-loop", first=["while True:\n    pass"])
STUBBORN_LOOP = hostile_cells("stubborn-loop", first=[
    "import time\nwhile True:  # swallows the interrupt: the kernel must be restarted\n"
    "    try:\n        time.sleep(60)\n    except KeyboardInterrupt:\n        pass"])
# conv2d blocks until interrupted; conv2d_multi (graded after conv2d, and not calling it) answers
# right only if conv2d was entered exactly once: its points count the calls, no clock does.
SLEEPER = hostile_cells("sleeper", """import threading
_entered = []
def conv2d(x, k, mode='valid'):
    _entered.append(mode)
    threading.Event().wait()
_conv2d_multi = conv2d_multi
def conv2d_multi(x, k):
    assert len(_entered) == 1, f"conv2d was entered {len(_entered)} times"
    return _conv2d_multi(x, k)""")
OS_EXIT = hostile_cells("os-exit", first=["import os\nos._exit(3)"])
SYS_EXIT = hostile_cells("sys-exit", first=["import sys\nsys.exit('bye')"])
SEGFAULT_CELL = hostile_cells("segfault-cell", first=["import ctypes\nctypes.string_at(0)"])
SEGFAULT_CALL = hostile_cells(
    "segfault-call", "def conv2d_multi(x, k):\n    import ctypes\n    return ctypes.string_at(0)")
FLOOD_SOURCE = "for _ in range(100 * 1024):  # 100 MB\n    print('x' * 1023)"
FLOOD = hostile_cells("flood", first=[FLOOD_SOURCE])


def question_failures(result, question: str) -> set[tuple[str, str]]:
    return {(t.failure.kind, t.failure.message) for t in result.tests if t.question == question and t.failure}


def assert_unaffected(hostile_run: HostileRun) -> None:
    for student in (HONEST_FIRST, HONEST_LAST):
        honest = hostile_run.result(student)
        assert honest.score == 100 and not english(honest.notes) and not honest.error, (student, english(honest.notes))


def test_infinite_loop_cell_is_stopped_and_others_graded(hostile_run: HostileRun) -> None:
    result = hostile_run.result(INFINITE_LOOP)
    assert result.score == 100, "the cells after the endless loop still ran"
    assert [(c["index"], c["outcome"]) for c in result.cells] == [(2, "timeout")]
    assert any("cell 2 was stopped: it ran longer than the time limit" in n for n in english(result.notes)), english(result.notes)
    assert_unaffected(hostile_run)


def test_loop_that_swallows_the_interrupt_gets_its_kernel_restarted(hostile_run: HostileRun) -> None:
    result = hostile_run.result(STUBBORN_LOOP)
    assert result.score == 100, "the kernel was restarted and the rest of the notebook still ran"
    assert any("cell 2 was stopped" in n for n in english(result.notes)), english(result.notes)
    assert any("kernel restarted" in n for n in english(result.notes)), english(result.notes)
    assert_unaffected(hostile_run)


def test_sleeping_function_times_out_per_call_and_costs_only_its_question(hostile_run: HostileRun) -> None:
    result = hostile_run.result(SLEEPER)
    assert result.question_scores() == {**example_scores("01-convolution"), "conv2d": 0}
    [(kind, message)] = question_failures(result, "conv2d")
    assert kind == "timeout" and "did not finish" in message and f"{LIMITS['call_timeout']:g} s" in message, message
    # A function that hung once is not called again for its other cases: it costs one call's time
    # limit, not one limit per case. conv2d_multi's full marks (above) say conv2d was entered once.
    assert len([t for t in result.tests if t.question == "conv2d"]) > 1, "the point needs several groups"
    assert_unaffected(hostile_run)


def test_os_exit_in_a_cell_restarts_the_kernel_and_keeps_the_answers(hostile_run: HostileRun) -> None:
    result = hostile_run.result(OS_EXIT)
    assert result.score == 100
    assert [(c["index"], c["outcome"]) for c in result.cells] == [(2, "dead_kernel")]
    assert "cell 2 killed the kernel (exit, crash or out of memory)" in english(result.notes)
    assert_unaffected(hostile_run)


def test_sys_exit_in_a_cell_is_an_ordinary_error(hostile_run: HostileRun) -> None:
    """IPython turns SystemExit into an error reply: the kernel lives on, nothing restarts."""
    result = hostile_run.result(SYS_EXIT)
    assert result.score == 100
    assert [(c["index"], c["outcome"], c["ename"]) for c in result.cells] == [(2, "error", "SystemExit")]
    assert "cell 2 raised SystemExit: bye" in english(result.notes)
    assert not any("restarted" in n for n in english(result.notes))
    assert_unaffected(hostile_run)


def test_segfault_in_a_cell_restarts_the_kernel(hostile_run: HostileRun) -> None:
    result = hostile_run.result(SEGFAULT_CELL)
    assert result.score == 100
    assert [(c["index"], c["outcome"]) for c in result.cells] == [(2, "dead_kernel")]
    assert any("killed the kernel" in n for n in english(result.notes))
    assert_unaffected(hostile_run)


def test_segfault_in_a_graded_call_is_a_crash_of_that_question_only(hostile_run: HostileRun) -> None:
    result = hostile_run.result(SEGFAULT_CALL)
    assert question_failures(result, "conv2d_multi") == {("crash", "the call killed the kernel")}
    assert result.score == 90, "the questions graded after the restart keep their points"
    assert_unaffected(hostile_run)


def test_100_mb_of_printed_output_is_not_kept(hostile_run: HostileRun) -> None:
    result = hostile_run.result(FLOOD)
    assert result.score == 100
    stored = result_path(hostile_run.out, FLOOD, "01-convolution")
    assert stored.stat().st_size < 64 * 1024, "the printed output did not end up in the result file"
    assert "x" * 1023 not in stored.read_text(encoding="utf-8")
    json.loads(stored.read_text(encoding="utf-8"))
    assert_unaffected(hostile_run)


def test_100_mb_of_printed_output_does_not_blow_up_the_graders_memory(tmp_path: Path) -> None:
    """In a process of its own, so that the peak memory measured is the grading's alone."""
    notebook = tmp_path / "flood" / "01-convolution.ipynb"
    write_notebook(notebook, hostile_notebook(base=TEMPLATE, first=[FLOOD_SOURCE]))
    script = (
        "import resource, sys\nfrom pathlib import Path\nfrom grader.course.config import load_config\n"
        "from grader.course.assignments import course_assignments\nfrom grader.grade.notebook import grade_notebook\nfrom grader.grade.prepare import prepare\n"
        f"c = load_config({str(course_copy(tmp_path / 'course'))!r}, environ={{}})\n"
        "a = course_assignments()['01-convolution']\np = prepare(a, c)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"r = grade_notebook(Path({str(notebook)!r}), student='s', assignment=a, prepared=p, config=c)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, r.score)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    grown_kb, score = done.stdout.split()
    assert float(score) == 0, "the released template scores 0"
    assert int(grown_kb) < 300 * 1024, f"grading 100 MB of output took {int(grown_kb) // 1024} MB more"
