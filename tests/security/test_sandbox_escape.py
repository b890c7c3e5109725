"""Trying to get out of the sandbox: instructor files, other students, the environment, the network,
the file system, memory and processes. Each case is a student of the one hostile class run.

A probing student's ``conv2d`` returns what it could see as a string; the grader stores a wrong
answer's value in the result (``failure.actual``), so each test reads exactly what student code saw.
Without bubblewrap these tests cannot pass; CI installs it (``.ci/run``), so there they must run.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path

import pytest

from course_facts import example_scores
from grader.run.sandbox import _bwrap_problem

from .conftest import SECRET, ClassFolder, HostileRun, english, hostile, hostile_notebook, processes_mentioning
from .test_kernel_killers import assert_unaffected

TOKEN_NAME, TOKEN = "CNN_GRADER_TEST_CLOUD_TOKEN", "tok-" + SECRET
# The instructor's shell: a CI token the student must not see (set before the class run, at collection).
os.environ[TOKEN_NAME] = TOKEN
SLEEP = "987654"  # seconds: a distinctive command line for the forked sleepers

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and _bwrap_problem() is not None,
    reason="bubblewrap is not usable here (CI installs it and runs these)")

PROBE = '''
def conv2d(x, k, mode="valid"):
    import glob, os, socket
    def attempt(what):
        try:
            return repr(what())[:200]
        except BaseException as exc:
            return "refused " + type(exc).__name__
    seen = {{}}
{probes}
    return "PROBE" + __import__("json").dumps(seen)
'''

HONEST = sum(example_scores("01-convolution").values())  # the baseline's (a correct example's) score


# The secret as a probe spells it: never in a student's code as it is, since the output folder keeps
# students' own code (DIR/code/, the similarity pages) and must hold no secret the grader leaked.
SPELLED = f"({SECRET[:9]!r} + {SECRET[9:]!r})"


def probing(student: str, probes: dict[str, str]) -> str:
    """Register a student whose conv2d reports ``attempt(lambda: EXPR)`` for each probe."""
    def build(folder: ClassFolder) -> None:
        lines = "".join(f"    seen[{name!r}] = attempt(lambda: {expr.format(**paths(folder))})\n"
                        for name, expr in probes.items())
        folder.notebook(student, hostile_notebook(PROBE.format(probes=lines)))
    hostile(student)(build)
    return student


def paths(folder: ClassFolder) -> dict[str, str]:
    return {"course": str(folder.course_dir), "subs": str(folder.submissions), "base": str(folder.base)}


def seen(run: HostileRun, student: str) -> dict[str, str]:
    """What the probe reported, from the stored result (the wrong answer's value)."""
    result = run.result(student)
    assert result.sandbox == "bwrap", f"{student} was graded without the sandbox"
    actual = [t.failure.actual for t in result.tests if t.question == "conv2d" and t.failure]
    report = next((a for a in actual if isinstance(a, str) and a.startswith("PROBE")), None)
    assert report is not None, f"the probe did not report: {[t.failure for t in result.tests if t.failure]}"
    return json.loads(report[len("PROBE"):])


READER = probing("reads-instructor-files", {
    "course_toml": "open('{course}/course.toml').read()",
    "relative_course_toml": "open('../../course.toml').read()",
    "solutions": "os.listdir('{course}/solutions')",
    "other_student": "open('{subs}/aa-honest/01-convolution.ipynb').read()",
    "gradebook": "os.listdir('{base}/out')",
    "class_folder": "os.listdir('{subs}')",
    "grader_source": "__import__('grader.course.reference')",
    "home": "os.listdir(os.path.expanduser('~root'))",
})
PROC = probing("reads-through-proc", {
    "roots": "[p for p in glob.glob('/proc/*/root{course}/course.toml') if open(p).read()]",
    "cwds": "[p for p in glob.glob('/proc/*/cwd/../../../course') if os.listdir(p)]",
    "environs": "[p for p in glob.glob('/proc/*/environ') if {secret}.encode() in open(p, 'rb').read()]"
                .replace("{secret}", SPELLED),
    "pids": "sorted(int(p) for p in os.listdir('/proc') if p.isdigit())",
})
ENVIRON = probing("reads-environment", {
    "tokens": "[k for k, v in os.environ.items() if {secret} in v or k == 'GRADER_SEED']".replace("{secret}", SPELLED),
    "names": "sorted(os.environ)",
})
NETWORK = probing("opens-network", {
    "dns": "socket.getaddrinfo('pypi.org', 443)",
    "ip": "socket.create_connection(('1.1.1.1', 53), timeout=2)",
    "loopback_grader": "socket.create_connection(('127.0.0.1', 8786), timeout=2)",
})
WRITER = probing("writes-outside", {
    "course": "open('{course}/pwned', 'w').write('x')",
    "submissions": "open('{subs}/aa-honest/pwned', 'w').write('x')",
    "usr": "open('/usr/pwned', 'w').write('x')",
    "tmp": "open('/tmp/cnn-grader-pwned', 'w').write('x')",
    "scratch": "open('mine.txt', 'w').write('x')",
})


def test_instructor_files_and_other_students_are_not_visible(hostile_run: HostileRun) -> None:
    report = seen(hostile_run, READER)
    home = report.pop("home")  # only the Python installation the kernel runs on, if it lives there
    assert home.startswith("refused") or set(ast.literal_eval(home)) <= set(Path(sys.base_prefix).parts), home
    assert all(value.startswith("refused") for value in report.values()), report
    assert report["course_toml"] == "refused FileNotFoundError"
    assert report["grader_source"] == "refused ModuleNotFoundError"  # the reference answers' source


def test_proc_does_not_reach_around_the_sandbox(hostile_run: HostileRun) -> None:
    report = seen(hostile_run, PROC)
    assert report["roots"] == "[]" and report["cwds"] == "[]" and report["environs"] == "[]", report
    assert len(json.loads(report["pids"])) <= 3, f"the grader's processes are visible: {report['pids']}"


def test_environment_is_cleared_of_tokens_and_the_seed(hostile_run: HostileRun) -> None:
    report = seen(hostile_run, ENVIRON)
    assert report["tokens"] == "[]"
    names = ast.literal_eval(report["names"])
    assert TOKEN_NAME not in names and "GRADER_SEED" not in names and "HOME" in names


def test_network_connections_fail(hostile_run: HostileRun) -> None:
    report = seen(hostile_run, NETWORK)
    assert all(value.startswith("refused") for value in report.values()), report


def test_writing_outside_the_scratch_folder_fails_or_stays_inside(hostile_run: HostileRun) -> None:
    report = seen(hostile_run, WRITER)
    for place in ("course", "submissions", "usr"):
        assert report[place].startswith("refused"), report
    assert report["scratch"] == "1"  # its own folder is writable
    course = hostile_run.base / "course"
    assert not (course / "pwned").exists() and not (hostile_run.submissions / "aa-honest" / "pwned").exists()
    assert not Path("/usr/pwned").exists() and not Path("/tmp/cnn-grader-pwned").exists()


MEMORY = "memory-bomb"
hostile(MEMORY)(lambda folder: folder.notebook(MEMORY, hostile_notebook("big = np.ones((60_000, 60_000))")))


def test_memory_bomb_is_refused_and_the_answers_still_graded(hostile_run: HostileRun) -> None:
    result = hostile_run.result(MEMORY)
    assert any("MemoryError" in note for note in english(result.notes)), english(result.notes)
    assert result.score == HONEST  # the functions above the bomb are all correct
    assert_unaffected(hostile_run)


SLEEPERS = "forks-sleepers"
hostile(SLEEPERS)(lambda folder: folder.notebook(SLEEPERS, hostile_notebook(
    "import subprocess\n"
    f"sleepers = [subprocess.Popen(['sleep', '{SLEEP}'], start_new_session=True) for _ in range(40)]")))


def test_forked_sleepers_do_not_survive_the_submission(hostile_run: HostileRun) -> None:
    result = hostile_run.result(SLEEPERS)
    assert result.score == HONEST and not result.cells  # starting them is allowed
    # They sleep for 11 days: none ends by itself, so once they are gone the grader killed them.
    # Killed processes may take a moment to leave /proc; the deadline only guards against a hang.
    deadline = time.monotonic() + 120
    while processes_mentioning(f"sleep {SLEEP}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_mentioning(f"sleep {SLEEP}") == []


BOMB = "fork-bomb"
hostile(BOMB)(lambda folder: folder.notebook(BOMB, hostile_notebook(
    "import os, time\n"
    "children = 0\n"
    "while True:  # every child forks too; at the limit they wait instead of spinning\n"
    "    try:\n"
    "        if os.fork() == 0:\n"
    "            children = 0\n"
    "        else:\n"
    "            children += 1\n"
    "    except OSError:\n"
    "        time.sleep(1)\n",
    first=())))


def test_fork_bomb_is_bounded_and_the_answers_still_graded(hostile_run: HostileRun) -> None:
    result = hostile_run.result(BOMB)
    assert [c["outcome"] for c in result.cells] == ["timeout"], result.cells
    assert result.score == HONEST, hostile_run.summary()
    assert_unaffected(hostile_run)
