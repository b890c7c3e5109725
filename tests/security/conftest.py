"""Hostile and malformed submissions (issue 7): builders for the class that tests/security grades.

One class run grades every hostile case at once (two kernels in parallel), bracketed by two honest
students; each test then asserts on its own student's result. To add a case: write a builder with
:func:`hostile_notebook` into ``CASES`` (student name → notebook sources), or plant files into the
class folder in :func:`build_class`, then read ``hostile_run.by_student[NAME]`` in a test.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from grader.classroom.batch import ClassRun, grade_class
from grader.classroom.runner import local_runner
from grader.course.config import CourseConfig, load_config
from grader.judge.catalog import Message
from grader.judge.results import SubmissionResult

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01-convolution"
TEMPLATE = ROOT / "assignments" / f"{ASSIGNMENT}.ipynb"  # the released notebook: scores 0
BASELINE = ROOT / "examples" / "submissions" / "li_hua" / f"{ASSIGNMENT}.ipynb"  # a correct one: 100
SECRET = "INSTRUCTOR-ONLY-6f1d2c"  # planted in the course copy's files; must never reach a result

# The time limits are checked by outcome, never by a clock: every hostile cell or call that meets
# one never ends by itself (it spins or waits on nothing), so it is stopped and reported as a
# timeout however fast the machine is; every cell and call that must finish (the honest students,
# the baseline's answers in each hostile notebook) takes milliseconds, far below the limits even
# with the suite's workers and other jobs on two cores. (3 s and 2 s were once seen to fail there.)
# The price: each hanging case costs its limit, two at a time.
LIMITS = {"cell_timeout": 20, "notebook_timeout": 400, "call_timeout": 10, "memory_mb": 2048, "processes": 128,
          "output_kb": 64}


# --- the course ----------------------------------------------------------------------------------


def course_copy(folder: Path, limits: Mapping[str, float] = LIMITS) -> Path:
    """``course.toml`` with only 01-convolution, the given limits and a secret marker, plus the
    instructor's solutions/ next to it (the files a hostile student would like to read)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    head, *sections = re.split(r"(?m)^(?=\[assignments\.)", text)
    kept = head + "".join(s for s in sections if s.startswith(f"[assignments.{ASSIGNMENT}]"))
    table = "[limits]\n" + "".join(f"{key} = {value}\n" for key, value in limits.items())
    kept = re.sub(r"(?ms)^\[limits\]\n.*?(?=^\[)", table + "\n", kept)
    kept += f"\n# {SECRET}\n"
    (folder / "course.toml").write_text(kept, encoding="utf-8")
    (folder / "solutions").mkdir(exist_ok=True)
    solution = nbformat.read(ROOT / "solutions" / f"{ASSIGNMENT}.ipynb", as_version=4)
    solution.cells.append(nbformat.v4.new_markdown_cell(SECRET))
    nbformat.write(solution, folder / "solutions" / f"{ASSIGNMENT}.ipynb")
    return folder / "course.toml"


def load_course(folder: Path, limits: Mapping[str, float] = LIMITS) -> CourseConfig:
    return load_config(course_copy(folder, limits), environ={})


# --- notebooks -----------------------------------------------------------------------------------


def hostile_notebook(*cells: str, base: Path = BASELINE, first: Iterable[str] = (),
                     kernelspec: Mapping[str, str] | None = None) -> nbformat.NotebookNode:
    """``base`` (the correct baseline by default, or :data:`TEMPLATE`) with ``first`` injected after
    its imports cell and ``cells`` appended at the end. The grader grades the names a notebook
    defines, so an appended ``def conv2d`` replaces the baseline's answer (a planted function)."""
    nb = copy.deepcopy(nbformat.read(base, as_version=4))
    new = nbformat.v4.new_code_cell
    nb.cells[2:2] = [new(source) for source in first]  # cell 1 is the given imports cell
    nb.cells.extend(new(source) for source in cells)
    if kernelspec is not None:
        nb.metadata["kernelspec"] = dict(kernelspec)
    return nb


def write_notebook(path: Path, nb: nbformat.NotebookNode | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    else:
        nbformat.write(nb, path)
    return path


# --- processes -----------------------------------------------------------------------------------


def processes_mentioning(*needles: str) -> list[tuple[int, str]]:
    """(pid, command line) of live processes whose command line, cwd or environment mentions any
    of ``needles`` (a test's own temporary folders): the kernels a run may have left behind."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if not cmdline:  # a zombie or a kernel thread
                continue
            where = [cmdline]
            try:
                where.append(os.readlink(Path(entry.path, "cwd")))
            except OSError:
                pass
        except OSError:
            continue
        if any(needle in text for needle in needles for text in where):
            found.append((int(entry.name), cmdline.strip()))
    return found


# --- the class run -------------------------------------------------------------------------------


@dataclass
class HostileRun:
    """The graded hostile class, for the tests to read."""

    base: Path  # everything of this run lives below it
    course: CourseConfig
    submissions: Path
    out: Path
    run: ClassRun
    by_student: dict[str, SubmissionResult] = field(default_factory=dict)
    seconds: float = 0.0

    def result(self, student: str) -> SubmissionResult:
        assert student in self.by_student, f"{student} was not graded: {sorted(self.by_student)}"
        return self.by_student[student]

    def unrecognised(self) -> dict[str, str]:
        return {u.path: u.reason for u in self.run.unrecognised}

    def summary(self) -> str:
        lines = [f"graded in {self.seconds:.1f} s"]
        for r in self.run.results:
            failures = sorted({f"{t.question}: {t.failure.kind}: {t.failure.message[:120]}"
                               for t in r.tests if t.failure})
            lines.append(f"{r.student}: {r.score:g}/{r.max_score:g} in {r.execution_time:.1f} s"
                         f" error={r.error!r} notes={english(r.notes)} failures={failures}")
        lines += [f"unrecognised {path}: {reason}" for path, reason in self.unrecognised().items()]
        return "\n".join(lines) + "\n"

    def written_files(self) -> Iterator[Path]:
        """Every file of the output folder: results, reports, grades.csv, the gradebook."""
        return (p for p in self.out.rglob("*") if p.is_file())


@dataclass(frozen=True)
class ClassFolder:
    """Where a case plants its files: the class's submissions folder and the instructor's course."""

    base: Path
    submissions: Path
    course_dir: Path

    def notebook(self, student: str, nb: nbformat.NotebookNode | bytes, name: str = f"{ASSIGNMENT}.ipynb") -> Path:
        return write_notebook(self.submissions / student / name, nb)


Builder = Callable[[ClassFolder], object]

# student -> what to plant for them. Test modules register their cases at import (collection)
# time, so the one class run graded by the session fixture holds every collected case.
HOSTILE: dict[str, Builder] = {}
HONEST_FIRST, HONEST_LAST = "aa-honest", "zz-honest"  # graded first and (among ASCII names) last


def hostile(student: str) -> Callable[[Builder], Builder]:
    """Register a case whose builder plants anything under the class folder."""
    def register(build: Builder) -> Builder:
        assert student not in HOSTILE, f"two cases named {student}"
        HOSTILE[student] = build
        return build
    return register


def hostile_cells(student: str, *cells: str, first: Iterable[str] = (), base: Path = BASELINE,
                  kernelspec: Mapping[str, str] | None = None) -> str:
    """Register a student whose notebook is :func:`hostile_notebook` of these cells; returns the name."""
    nb = hostile_notebook(*cells, base=base, first=first, kernelspec=kernelspec)
    hostile(student)(lambda folder: folder.notebook(student, nb))
    return student


def build_class(folder: ClassFolder) -> None:
    for student in (HONEST_FIRST, HONEST_LAST):
        folder.notebook(student, BASELINE.read_bytes())
    for build in HOSTILE.values():
        build(folder)


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRun]:
    """Every registered case, graded in one class run with two kernels at a time, reports rendered.

    The run's temporary folders (scratch copies, unpacked zips, kernelspecs) are put below ``base``
    so that tests can check that nothing escaped and no kernel of the run survived."""
    from grader.classroom.gradebook import load_results
    from grader.publish.report import render_reports

    base = tmp_path_factory.mktemp("hostile")
    folder = ClassFolder(base, base / "submissions", base / "course")
    course = load_course(folder.course_dir)
    folder.submissions.mkdir()
    build_class(folder)
    (base / "tmp").mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(base / "tmp")
    started = time.monotonic()
    try:
        run = grade_class(folder.submissions, base / "out", course, runner=local_runner(jobs=2))
        render_reports(base / "out", load_results(base / "out"), course, "en")
    finally:
        tempfile.tempdir = saved
    graded = HostileRun(base, course, folder.submissions, base / "out", run,
                        {r.student: r for r in run.results}, time.monotonic() - started)
    (base / "summary.txt").write_text(graded.summary(), encoding="utf-8")  # what each case got
    yield graded


def english(notes: Sequence[Message]) -> tuple[str, ...]:
    """A result's notes in English words (they are messages: a code and its parameters)."""
    return tuple(note.text("en") for note in notes)
