"""Adding a question takes four edits, and nothing else (issue 13).

An instructor adds ``conv2d_dilated`` (a dilated convolution) to 01-convolution the way
docs/instructors.md ("Adding or changing a question") tells them to, and only that:

1. the reference function, in ``grader/course/reference/convolution.py``;
2. its declaration (groups of cases, one known mistake), in ``grader/course/assignments/convolution.py``;
3. its points, in ``course.toml``;
4. its cells (intro, answer between the solution markers, self-check), in ``solutions/01-convolution.ipynb``.

Then ``grader release``, ``grader validate`` and ``grader grade`` must work with no other change: the
template gets the stub, the bundle the public cases, validation catches and names the declared mistake,
and grading counts the new points, names the mistake and renders the page.

How the copy imports its own declarations: the course's assignments are Python modules inside the
``grader`` package, so the temporary course holds its own copy of the package (as the course
repository does) and every command runs as ``python -m grader.cli`` in a subprocess whose
``PYTHONPATH`` is that course folder. ``PYTHONPATH`` comes before site-packages and before the editable
install's finder, so the subprocess grades with the copied (edited) declarations, never with the
checkout's; ``test_the_copy_imports_its_own_grader`` proves it. The mutant kernels of ``validate``
import the declared mistakes from the grader that runs them (``grader.authoring.validate``), which is
again the copy. The copy is trimmed to 01-convolution before the edits (``course.toml``'s other
sections and the other notebooks left out), so that ``validate`` runs one assignment's notebooks, not
four (the gender notebook trains a CNN); that is test set-up, not one of the instructor's edits.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course_facts import CONFIG, DECLARED, grades_columns, max_score, points, questions
from grader.grade.prepare import split_points

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "conv2d_dilated"
ASSIGNMENT = "01-convolution"
POINTS = 10
MISTAKE = "dilation_gaps_too_wide"
WRONG_LINE = ("    step = dilation\n", "    step = dilation + 1\n")  # the mistake, made by a student

REFERENCE = '''

def conv2d_dilated(x: ArrayLike, k: ArrayLike, dilation: int = 1) -> FloatArray:
    """Valid 2-D cross-correlation of `x (H, W)` with `k (FH, FW)` dilated by `dilation`.

    Keras `Conv2D(dilation_rate=d)`: the kernel's taps are `d` apart (`d - 1` zeros between them),
    so output `(i, j)` is `sum_{a, b} k[a, b] * x[i + d*a, j + d*b]`, of shape
    `(H - d*(FH-1), W - d*(FW-1))`. `dilation=1` is `conv2d(x, k, "valid")`.
    """
    x = as_float_array(x, "x", (2,), "(H, W)")
    k = as_float_array(k, "k", (2,), "(FH, FW)")
    d = integer(dilation, "dilation")
    fh, fw = k.shape
    spread = np.zeros((d * (fh - 1) + 1, d * (fw - 1) + 1))
    spread[::d, ::d] = k
    return conv2d(x, spread, "valid")
'''

DECLARATION_HELPERS = '''
# -- conv2d_dilated ----------------------------------------------------------------------------------
def _dilated_gaps_too_wide(x, k, dilation=1):
    """`dilation` zeros between the taps instead of `dilation - 1`."""
    return ref.conv2d_dilated(x, k, dilation + 1)


def _public_dilated(rng: np.random.Generator) -> list[Case]:
    x = np.arange(1.0, 26.0).reshape(5, 5)
    return [case(x, COURSE_K, 1), case(x, COURSE_K, dilation=2)]


def _dilated_cases(dilations: tuple[int, ...]):
    def make(rng: np.random.Generator) -> list[Case]:
        cases = []
        for d in dilations:
            for fh, fw in ((2, 2), (3, 3), (2, 3), (1, 3)):
                low = 4 * (max(fh, fw) - 1) + 1  # room for the mistake's wider spread too
                h, w = sizes(rng, low, low + 4)
                cases.append(case(values(rng, h, w), values(rng, fh, fw), dilation=d))
        return cases
    return make


'''

DECLARATION = '''        Question(
            "conv2d_dilated",
            ref.conv2d_dilated,
            (
                Group("course example", _public_dilated, public=True, zh="课程示例"),
                Group("dilation 1 is valid convolution", _dilated_cases((1,)), zh="扩张率 1 即 valid 卷积"),
                Group("dilation 2 and 3", _dilated_cases((2, 3)), zh="扩张率 2 和 3"),
            ),
            (
                Mistake("dilation_gaps_too_wide", _dilated_gaps_too_wide,
                        "卷积核的相邻元素之间应隔 dilation - 1 个零，而不是 dilation 个：dilation=1 就是普通卷积。",
                        "The kernel's taps are `dilation` apart, i.e. dilation - 1 zeros between them, not "
                        "`dilation` zeros: dilation=1 is the ordinary convolution."),
            ),
        ),
'''

ANSWER = '''def conv2d_dilated(x, k, dilation=1):
    """空洞（扩张）卷积，valid / dilated (atrous) valid cross-correlation.

    参数 / Parameters
    ----------
    x : array_like, shape (H, W)
    k : array_like, shape (FH, FW)
    dilation : int >= 1 — 核的相邻元素相隔 dilation 个像素 / the kernel's taps are `dilation` pixels apart

    返回 / Returns
    -------
    ndarray of float, shape (H - dilation*(FH-1), W - dilation*(FW-1))
        out[i, j] = sum_{a, b} k[a, b] * x[i + dilation*a, j + dilation*b]
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    step = dilation
    fh, fw = k.shape
    out_h = x.shape[0] - step * (fh - 1)
    out_w = x.shape[1] - step * (fw - 1)
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.sum(x[i:i + step * (fh - 1) + 1:step, j:j + step * (fw - 1) + 1:step] * k)
    return out
    ### END SOLUTION'''

INTRO = ("## 5. 空洞卷积 / Dilated convolution\n\n"
         "`Conv2D(dilation_rate=d)` 的卷积核元素之间相隔 d 个像素（中间 d-1 个零）。\n"
         "The taps of `Conv2D(dilation_rate=d)` are d pixels apart (d-1 zeros between them).")




# -- the four edits, written to the copy -----------------------------------------------------------
def _once(text: str, old: str, new: str, where: Path) -> str:
    assert text.count(old) == 1, f"{where}: the edit expects exactly one {old!r}"
    return text.replace(old, new)


def add_reference(course: Path) -> None:
    path = course / "grader" / "course" / "reference" / "convolution.py"
    path.write_text(path.read_text(encoding="utf-8") + REFERENCE, encoding="utf-8")


def add_declaration(course: Path) -> None:
    path = course / "grader" / "course" / "assignments" / "convolution.py"
    text = _once(path.read_text(encoding="utf-8"), "ASSIGNMENT = Assignment(",
                 DECLARATION_HELPERS + "ASSIGNMENT = Assignment(", path)
    closing = "    ),\n)\n"  # the end of the questions tuple, then of Assignment(...)
    assert text.endswith("        ),\n" + closing), f"{path}: the declaration no longer ends as expected"
    path.write_text(text[: -len(closing)] + DECLARATION + closing, encoding="utf-8")


def add_points(course: Path) -> None:
    path = course / "course.toml"
    text = path.read_text(encoding="utf-8")
    found = re.search(rf"(?ms)^\[assignments\.{ASSIGNMENT}\]\n.*?^points = \{{.*?\}}", text)
    assert found, f"{path}: no points table of {ASSIGNMENT}"
    edited = found.group(0)[:-1].rstrip() + f", {QUESTION} = {POINTS} }}"
    path.write_text(text[: found.start()] + edited + text[found.end():], encoding="utf-8")


def add_cells(course: Path) -> None:
    path = course / "solutions" / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    given = {"grader": {"role": "given", "question": QUESTION}}
    nb.cells[-1:-1] = [  # before the summary
        new_markdown_cell(INTRO, id="01-dilated-intro", metadata=given),
        new_code_cell(ANSWER, id="01-dilated-answer", metadata={"grader": {"role": "answer", "question": QUESTION}}),
        new_code_cell(f'check("{QUESTION}")  # 公开测试 / the public tests', id="01-selfcheck-dilated",
                      metadata=given),
    ]
    nbformat.write(nb, path)


INSTRUCTOR_EDITS = (add_reference, add_declaration, add_points, add_cells)


# -- the temporary course --------------------------------------------------------------------------
def course_copy(folder: Path) -> Path:
    """The course repository (its grader package included), trimmed to 01-convolution."""
    course = folder / "course"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "grader", course / "grader", ignore=ignore)
    # A source tree as a checkout has it: the report templates beside the package and the
    # pyproject.toml that names them (grader.publish.templates looks for both).
    shutil.copytree(ROOT / "templates", course / "templates", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", course / "pyproject.toml")
    for folder_name in ("solutions", "assignments"):
        (course / folder_name).mkdir(parents=True)
        shutil.copy(ROOT / folder_name / f"{ASSIGNMENT}.ipynb", course / folder_name)
    shutil.copytree(ROOT / "dist" / "student", course / "dist" / "student")
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    head, *sections = re.split(r"(?m)^(?=\[assignments\.)", text)
    kept = head + "".join(s for s in sections if s.startswith(f"[assignments.{ASSIGNMENT}]"))
    (course / "course.toml").write_text(kept, encoding="utf-8")
    return course


def grader_cli(course: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python -m grader.cli ARGS`` in the course folder, importing the course's own grader."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRADER_SEED")}
    env["PYTHONPATH"] = str(course)
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=timeout)


def extended_course(folder: Path) -> Path:
    course = course_copy(folder)
    for edit in INSTRUCTOR_EDITS:
        edit(course)
    return course


def course_points(course: Path) -> dict[str, float]:
    """The copy's points table, read from its course.toml (what the instructor wrote)."""
    raw = tomllib.loads((course / "course.toml").read_text(encoding="utf-8"))
    return {q: float(p) for q, p in raw["assignments"][ASSIGNMENT]["points"].items()}


# -- the tests -------------------------------------------------------------------------------------
def test_the_course_facts_tests_rely_on() -> None:
    """Literal facts of the real course; the other tests read the rest from tests/course_facts.py."""
    assert list(CONFIG.assignments) == ["01-convolution", "02-pooling", "03-parameter-counting", "04-gender-cnn"]
    assert set(CONFIG.assignments) == set(DECLARED)
    assert questions("01-convolution")[:5] == ["conv2d", "conv2d_multi", "conv2d_layer", "im2col", "conv2d_matmul"]
    assert {q: points("01-convolution")[q] for q in questions("01-convolution")[:5]} == {
        "conv2d": 20, "conv2d_multi": 10, "conv2d_layer": 30, "im2col": 20, "conv2d_matmul": 20}
    assert max_score("02-pooling") == sum(points("02-pooling").values()) >= 100
    assert DECLARED["04-gender-cnn"].question("build_rating_model").optional, "extra credit"
    assert max_score("04-gender-cnn") == sum(points("04-gender-cnn").values()) - points("04-gender-cnn")["build_rating_model"]
    columns = grades_columns()
    assert columns[:2] == ["student", "01-convolution:conv2d"] and columns[-3:] == ["total", "penalty", "final"]
    # per assignment its questions, then its raw total, late penalty and final score
    assert len(columns) == 4 + sum(len(questions(a)) + 3 for a in CONFIG.assignments)


def test_points_split_across_groups_add_up() -> None:
    assert split_points(10, 3) == [3.3334, 3.3333, 3.3333]
    assert round(sum(split_points(10, 3)), 4) == 10
    assert split_points(20, 4) == [5.0] * 4 and split_points(15, 4) == [3.75] * 4
    for points, groups in ((1, 3), (35, 2), (7, 6), (0, 2), (12.5, 7)):
        shares = split_points(points, groups)
        assert len(shares) == groups and round(sum(shares), 4) == points, (points, groups, shares)
        assert max(shares) - min(shares) <= 0.0001 + 1e-12


def test_the_copy_imports_its_own_grader(tmp_path: Path) -> None:
    course = course_copy(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(course)}
    done = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    assert Path(done.stdout.strip()).resolve() == (course / "grader" / "__init__.py").resolve()


def test_release_takes_the_new_question_with_no_other_edit(tmp_path: Path) -> None:
    course = extended_course(tmp_path)
    done = grader_cli(course, "release", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "assignments/01-convolution.ipynb: written" in done.stdout
    template = nbformat.read(course / "assignments" / f"{ASSIGNMENT}.ipynb", as_version=4)
    answer = next(c for c in template.cells if c.metadata.get("grader") == {"role": "answer", "question": QUESTION})
    assert "def conv2d_dilated(x, k, dilation=1):" in answer.source
    assert "raise NotImplementedError()" in answer.source and "step = dilation" not in answer.source
    # The self-check bundle has the public case of the new question (and the mistake's answer on it).
    data = (course / "dist" / "student" / "selfcheck" / "data" / f"{ASSIGNMENT}.json").read_text(encoding="utf-8")
    assert QUESTION in data and MISTAKE in data
    assert grader_cli(course, "release", "--check", timeout=300).returncode == 0


@pytest.mark.slow
def test_a_new_question_is_released_validated_and_graded(tmp_path: Path) -> None:
    course = extended_course(tmp_path)
    points = course_points(course)
    total = sum(points.values())
    assert points[QUESTION] == POINTS and total == 110, "the copy's course.toml: 100 points + the new 10"

    released = grader_cli(course, "release", timeout=300)
    assert released.returncode == 0, released.stderr

    validated = grader_cli(course, "validate", "--jobs", "2")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert f"ok   {ASSIGNMENT} · solution full marks: {total:g} / {total:g}" in validated.stdout
    assert f"ok   {ASSIGNMENT} · {QUESTION} · mutant {MISTAKE}: caught and named" in validated.stdout
    for generic in ("return_zeros", "return_first_argument", "off_by_one_crop"):
        assert f"ok   {ASSIGNMENT} · {QUESTION} · mutant {generic}: caught" in validated.stdout

    subs = tmp_path / "submissions"
    master = (course / "solutions" / f"{ASSIGNMENT}.ipynb").read_text(encoding="utf-8")
    old, new = (json.dumps(line)[1:-1] for line in WRONG_LINE)  # as the line is stored in the .ipynb
    assert master.count(old) == 1
    for student, text in (("ann", master), ("bob", master.replace(old, new))):
        (subs / student).mkdir(parents=True)
        (subs / student / f"{ASSIGNMENT}.ipynb").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    graded = grader_cli(course, "grade", str(subs), "--out", str(out), "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr

    def result(student: str) -> dict:
        return json.loads((out / "results" / student / f"{ASSIGNMENT}.json").read_text(encoding="utf-8"))

    def question_score(data: dict, question: str) -> float:
        return round(sum(t["score"] for t in data["tests"] if t["name"].startswith(f"{question} · ")), 4)

    ann, bob = result("ann"), result("bob")
    assert ann["score"] == ann["max_score"] == total
    assert {q: question_score(ann, q) for q in points} == points, "every question of course.toml, in full"
    assert bob["max_score"] == total and bob["score"] == total - POINTS
    assert question_score(bob, QUESTION) == 0
    assert all(question_score(bob, q) == p for q, p in points.items() if q != QUESTION)
    named = {(d["question"], d["id"]) for d in bob["grader"]["diagnoses"]}
    assert named == {(QUESTION, MISTAKE)}, named

    with (out / "grades.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert float(rows["ann"][f"{ASSIGNMENT}:{QUESTION}"]) == POINTS
    assert float(rows["bob"][f"{ASSIGNMENT}:{QUESTION}"]) == 0
    assert float(rows["ann"][ASSIGNMENT]) == total

    page = (out / "report" / "bob" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert QUESTION in text and f"{total - POINTS:g}" in text
    assert "隔 dilation - 1 个零" in text, "the declared mistake is explained on the page (course language zh)"
