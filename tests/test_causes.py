"""The true cause of a failure (grader.grade.causes): the notebook's source read with ast, never run in
the grader; exceptions with a known fix, from what the installed NumPy really raises."""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from grader.course.config import KERNEL_PACKAGES, ConfigError, load_config
from grader.grade.causes import (
    Cell,
    Source,
    calls,
    cell_uses,
    cells_of,
    defined_names,
    exception_hint,
    failed_line,
    missing_cause,
    missing_module,
)
from grader.judge.catalog import render
from grader.judge.results import SubmissionResult, TestResult
from grader.publish.report.stored import coerce_result
from grader.run.execute import CellRun

ROOT = Path(__file__).resolve().parents[1]
OFFERED = ("numpy", "scipy")


# --- which names a cell defines --------------------------------------------------------------------------

def test_defined_names_are_the_module_level_bindings() -> None:
    source = (
        "import numpy as np\nfrom scipy import signal as sg\nimport os.path\n"
        "def conv2d(x, k):\n    inner = 1\n    return x\n"
        "class Layer:\n    attr = 2\n"
        "if True:\n    def im2col(x):\n        pass\nelse:\n    alt = 3\n"
        "try:\n    size: int = 4\nexcept ImportError:\n    fallback = 5\n"
        "for step in range(2):\n    pass\nwith open('f') as handle:\n    pass\n"
        "a, (b, c) = 1, (2, 3)\n"
    )
    assert defined_names(source) == {"np", "sg", "os", "conv2d", "Layer", "im2col", "alt", "size", "fallback",
                                     "step", "handle", "a", "b", "c"}


def test_a_cell_that_does_not_parse_is_read_line_by_line() -> None:
    broken = "import numpy as np\ndef conv2d(x, k:\n    return x\nbias = np.zeros(2)\n  nested = 1\n"
    assert defined_names(broken) == {"conv2d", "bias"}


# --- the failing line ----------------------------------------------------------------------------------

IPYTHON_TRACEBACK = """---------------------------------------------------------------------------
TypeError                                 Traceback (most recent call last)
Cell In[11], line 3
      1 x = np.ones((1, 1, 1))
      2 # a comment
----> 3 y = conv2d_layer(x)

Cell In[10], line 42, in conv2d_layer(x)
---> 42     return float(x)

TypeError: only 0-dimensional arrays can be converted to Python scalars"""


def test_the_failing_line_is_the_cells_own_frame_not_its_first_lines() -> None:
    source = "x = np.ones((1, 1, 1))\n# a comment\ny = conv2d_layer(x)\nprint(y)"
    run = CellRun(5, "error", ename="TypeError", evalue="only 0-dimensional arrays …", traceback=IPYTHON_TRACEBACK)
    assert failed_line(run, source) == (3, "y = conv2d_layer(x)")
    assert failed_line(CellRun(5, "timeout"), source) is None


# --- exceptions with a known fix: what NumPy really raises here ---------------------------------------

def _raised(action) -> tuple[str, str]:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the point is to see what NumPy raises
        return type(exc).__name__, str(exc)
    raise AssertionError("nothing was raised")


def _assign_window(out: np.ndarray) -> None:
    out[0, 0] = np.ones((1, 1)) * 2  # a one-element array into one element


NUMPY_2 = [
    ("float of a (1, 1, 1) array", lambda: float(np.ones((1, 1, 1)) * 3), "hint.numpy2_scalar"),
    ("int of a pair", lambda: int(np.arange(2)), "hint.numpy2_scalar"),
    ("an element given an array", lambda: _assign_window(np.zeros((2, 2))), "hint.numpy2_sequence"),
    ("ragged rows", lambda: np.array([[1, 2], [3]]), "hint.numpy2_ragged"),
    ("np.float", lambda: np.float, "hint.numpy2_removed"),  # type: ignore[attr-defined]
    ("np.int", lambda: np.int, "hint.numpy2_removed"),  # type: ignore[attr-defined]
    ("np.float_", lambda: np.float_, "hint.numpy2_removed"),  # type: ignore[attr-defined]
    ("np.product", lambda: np.product([1, 2]), "hint.numpy2_removed"),  # type: ignore[attr-defined]
    ("a.ptp()", lambda: np.ones(2).ptp(), "hint.numpy2_removed"),  # type: ignore[attr-defined]
    ("copy=False", lambda: np.array([1, 2], copy=False), "hint.numpy2_copy"),
    ("300 into uint8", lambda: np.array([300], dtype=np.uint8), "hint.numpy2_overflow"),
]


@pytest.mark.parametrize("what, action, code", NUMPY_2, ids=[w for w, _, _ in NUMPY_2])
def test_numpy_2_breakages_get_a_one_line_fix(what, action, code) -> None:
    ename, evalue = _raised(action)
    hint = exception_hint(ename, evalue, OFFERED)
    assert hint is not None and hint["code"] == code, (ename, evalue)
    for lang in ("zh", "en"):
        assert render(hint["code"], hint.get("params", {}), lang)


def test_a_removed_alias_names_its_replacement() -> None:
    ename, evalue = _raised(lambda: np.float)  # type: ignore[attr-defined]
    hint = exception_hint(ename, evalue, OFFERED)
    assert hint is not None and hint["params"] == {"name": "np.float", "use": "float"}
    assert "use float instead" in render(hint["code"], hint["params"], "en")


def test_an_ordinary_error_gets_no_hint() -> None:
    assert exception_hint("ValueError", "mode must be 'full', 'same' or 'valid'", OFFERED) is None
    assert exception_hint("IndexError", "index 5 is out of bounds for axis 0 with size 5", OFFERED) is None
    assert exception_hint("AttributeError", "'list' object has no attribute 'shape'", OFFERED) is None


def test_a_missing_package_is_one_this_environment_does_not_have() -> None:
    absent = "cnn_grader_surely_absent_pkg"
    assert importlib.util.find_spec(absent) is None
    assert missing_module(f"No module named '{absent}'") == absent
    assert missing_module(f"No module named '{absent}.sub'") == absent
    assert missing_module("No module named 'numpy.nonexistent'") == ""  # numpy is there: another problem
    hint = exception_hint("ModuleNotFoundError", f"No module named '{absent}'", OFFERED)
    assert hint == {"code": "hint.no_module", "params": {"module": absent, "offered": "numpy, scipy"}}
    assert importlib.util.find_spec("scipy") is not None, "scipy belongs in the grading environment"


# --- which cell would have defined a missing function ------------------------------------------------

def _cells(*sources: str) -> list[Cell]:
    return [Cell(index=2 * i + 1, number=i + 1, source=s) for i, s in enumerate(sources)]


def test_the_failed_cell_that_binds_the_name_is_the_cause() -> None:
    cells = _cells("import numpy as np", "print('hello'", "import cv2\ndef conv2d_layer(x):\n    return x",
                   "def later():\n    pass")
    runs = {1: CellRun(1, "ok"), 3: CellRun(3, "error", ename="SyntaxError", evalue="'(' was never closed"),
            5: CellRun(5, "error", ename="ModuleNotFoundError", evalue="No module named 'cnn_grader_absent'"),
            7: CellRun(7, "ok")}
    code, params = missing_cause("conv2d_layer", cells, runs, OFFERED)
    assert (code, params["cell"], params["problem"]) == (
        "no_function_cell_failed", 3, {"code": "cause.no_module", "params": {"module": "cnn_grader_absent"}})
    assert render(code, params, "en") == ("cell 3 failed before defining conv2d_layer: ModuleNotFoundError: "
                                          "cnn_grader_absent is not in the grading environment")
    assert "单元格 3" in render(code, params, "zh")


def test_without_a_defining_cell_the_first_real_failure_is_named_and_none_when_all_ran() -> None:
    cells = _cells("check('conv2d')", "x = 1 / 0", "def other():\n    pass")
    runs = {1: CellRun(1, "error", ename="NotImplementedError"), 3: CellRun(3, "error", ename="ZeroDivisionError",
                                                                            evalue="division by zero"),
            5: CellRun(5, "ok")}
    code, params = missing_cause("conv2d", cells, runs, OFFERED)
    assert (code, params["cell"]) == ("no_function_after_failure", 2)
    assert missing_cause("conv2d", cells, {i: CellRun(i, "ok") for i in runs}, OFFERED) is None


def test_cells_are_numbered_as_jupyter_numbers_them_with_their_heading() -> None:
    notebook = [
        {"cell_type": "markdown", "source": "# Convolution\n\nintro"},
        {"cell_type": "code", "source": "import numpy as np"},
        {"cell_type": "code", "source": "   \n"},  # an empty cell: Jupyter gives it no number
        {"cell_type": "markdown", "source": ["## 2. Multi-depth ", "convolution\n", "text"]},
        {"cell_type": "raw", "source": "# not a heading"},
        {"cell_type": "code", "source": "def conv2d_multi(x, k):\n    pass"},
    ]
    cells = cells_of(notebook)
    assert [(c.index, c.number, c.heading) for c in cells] == [
        (1, 1, "Convolution"), (5, 2, "2. Multi-depth convolution")]


# --- the student's own earlier function ------------------------------------------------------------

NOTEBOOK = [
    "import numpy as np",
    "def conv2d(x, k):\n    return x",
    "def _channel(x, k, c):\n    return conv2d(x[:, :, c], k[:, :, c])",
    "def conv2d_multi(x, k):\n    return sum(_channel(x, k, c) for c in range(x.shape[2]))",
    "def conv2d_layer(x, kernels, bias):\n    return np.zeros(3)",
    "def im2col(x):\n    return x",
    "def conv2d_matmul(x, w):\n    conv2d = None\n    return im2col(x) @ w",
]


def test_a_function_built_on_an_earlier_one_calls_it_through_helpers() -> None:
    source = Source.of(NOTEBOOK)
    assert calls(source, "conv2d_multi") == {"_channel", "conv2d"}
    assert calls(source, "conv2d_matmul") == {"im2col"}  # a local named conv2d is not the function
    assert calls(source, "conv2d_layer") == set()
    recursive = Source.of(["def f(x):\n    return f(x - 1) if x else g(x)", "def g(x):\n    return x"])
    assert calls(recursive, "f") == {"g"}  # never itself


def test_the_last_definition_wins_and_unparsable_cells_are_skipped() -> None:
    source = Source.of(["def f(x):\n    return g(x)", "def g(x):\n    return x", "def f(x):\n    return x",
                        "def g(:"])
    assert calls(source, "f") == set()


def test_a_check_cell_names_where_a_chain_of_wrong_functions_starts() -> None:
    source = Source.of(["def a(x):\n    return b(x)", "def b(x):\n    return c(x)", "def c(x):\n    return x"])
    assert cell_uses(source, "assert a(1) == 2", ["a", "b", "c"]) == ("c",)
    assert cell_uses(source, "assert a(1) == 2", ["a", "b"]) == ("b",)
    assert cell_uses(source, "print(1)", ["a", "b", "c"]) == ()


# --- stored results ---------------------------------------------------------------------------------

def test_causes_round_trip_through_the_stored_json_and_old_results_still_load() -> None:
    test = TestResult("conv2d_multi", "depth", False, 0.0, 5.0, 5, 0, inherited_from=("conv2d",))
    cell = {"index": 7, "outcome": "error", "ename": "ModuleNotFoundError", "evalue": "No module named 'cv2'",
            "traceback": "", "source_preview": "import cv2", "duration": 0.1, "number": 5, "heading": "3. Layers",
            "line_number": 1, "line": "import cv2", "uses": ["conv2d"], "cost": ["conv2d_layer"],
            "hint": {"code": "hint.no_module", "params": {"module": "cv2", "offered": "numpy"}}}
    result = SubmissionResult("s", "01-convolution", "", "0", 1.0, (test,), cells=(cell,))
    stored = SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))
    assert stored.tests[0].inherited_from == ("conv2d",)
    shown = coerce_result(stored)
    assert shown.tests[0].inherited_from == ("conv2d",)
    assert {k: shown.cells[0][k] for k in ("number", "line_number", "uses", "cost", "hint")} == {
        "number": 5, "line_number": 1, "uses": ("conv2d",), "cost": ("conv2d_layer",), "hint": cell["hint"]}
    old = result.to_json()
    del old["grader"]["results"][0]["inherited_from"]
    assert SubmissionResult.from_json(old).tests[0].inherited_from == ()
    forged = dict(cell, hint={"code": "no_such_code"}, number="5", uses="conv2d")
    shown = coerce_result(SubmissionResult("s", "a", "", "0", 1.0, (test,), cells=(forged,)))
    assert (shown.cells[0]["hint"], shown.cells[0]["number"], shown.cells[0]["uses"]) == (None, -1, ())


# --- the grading environment -------------------------------------------------------------------------

def test_the_kernels_own_packages_are_the_projects_dependencies() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split(";")[0].strip() for d in dependencies}
    for package in KERNEL_PACKAGES:
        assert package in names or (package == "keras" and {"tensorflow", "tensorflow-cpu"} <= names), package


def _course(tmp_path: Path, kernel: str) -> Path:
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    start = text.index("[kernel]")
    end = text.index("[tolerance]")
    path = tmp_path / "course.toml"
    path.write_text(text[:start] + kernel + "\n\n" + text[end:], encoding="utf-8")
    return path


def test_course_toml_lists_more_kernel_packages(tmp_path: Path) -> None:
    config = load_config(_course(tmp_path, '[kernel]\npackages = ["scikit-image>=0.22", "opencv-python-headless"]'),
                         environ={})
    assert config.kernel_packages == ("scikit-image>=0.22", "opencv-python-headless")
    assert config.offered_packages()[-2:] == ("scikit-image", "opencv-python-headless")
    assert load_config(_course(tmp_path, ""), environ={}).kernel_packages == ()


@pytest.mark.parametrize("table, named", [
    ('[kernel]\npackage = ["scipy"]', "[kernel.package] unknown key"),
    ('[kernel]\npackages = "scipy"', "[kernel.packages] must be a list"),
    ('[kernel]\npackages = ["--index-url http://x"]', "[kernel.packages] must hold pip requirements"),
    ('[kernel]\npackages = ["git+https://example.org/x.git"]', "[kernel.packages] must hold pip requirements"),
])
def test_a_bad_kernel_table_is_an_error_naming_the_key(tmp_path: Path, table: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_config(_course(tmp_path, table), environ={})


# --- real notebooks, graded: the released notebook as a student fills it in ------------------------------

SOLUTION = ROOT / "solutions" / "01-convolution.ipynb"


@pytest.fixture(scope="module")
def course():
    import dataclasses

    from grader.course.assignments import course_assignments
    from grader.grade.prepare import prepare

    config = load_config(ROOT / "course.toml", environ={})
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, cell_timeout=20, call_timeout=5,
                                                                     notebook_timeout=120))
    assignment = course_assignments()["01-convolution"]
    return config, assignment, prepare(assignment, config)


def _student_notebook(**answers: str):
    """The solution notebook with its markers removed, some answer cells replaced (question -> source)."""
    import nbformat

    nb = nbformat.read(SOLUTION, as_version=4)
    for cell in nb.cells:
        role = cell.metadata.get("grader", {})
        if cell.cell_type == "code":
            cell.source = cell.source.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION", "")
        if role.get("role") == "answer" and role.get("question") in answers:
            cell.source = answers[role["question"]](cell.source)
    return nb


def _graded(tmp_path: Path, course, nb):
    import nbformat

    from grader.grade.notebook import grade_notebook

    config, assignment, prepared = course
    path = tmp_path / "student" / "01-convolution.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, path)
    result = grade_notebook(path, student="student", assignment=assignment, prepared=prepared, config=config)
    return SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))  # as the gradebook keeps it


def _page(result, config, lang):
    from grader.publish.report import render_submission
    from test_report import Page

    return Page(render_submission(result, config, lang))


def _answer_number(question: str) -> int:
    """The answer cell's number as Jupyter shows it (In [n] after Restart & Run All)."""
    import nbformat

    cells = cells_of(nbformat.read(SOLUTION, as_version=4).cells)
    return next(c.number for c in cells if "def " + question + "(" in c.source)


SCIPY_CONV2D = '''def conv2d(x, k, mode="valid"):
    from scipy.signal import correlate2d
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    if mode == "same":
        fh, fw = k.shape
        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))
        mode = "valid"
    return correlate2d(x, k, mode=mode)
'''


@pytest.mark.slow
def test_a_package_the_kernel_lacks_is_the_missing_functions_cause(tmp_path: Path, course) -> None:
    from grader.judge.summary import format_summary

    config = course[0]
    if importlib.util.find_spec("cv2") is not None:
        pytest.skip("OpenCV is installed here (course.toml [kernel] packages?): no package to be missing")
    nb = _student_notebook(conv2d=lambda _: SCIPY_CONV2D, conv2d_layer=lambda s: "import cv2\n\n" + s)
    result = _graded(tmp_path, course, nb)
    assert result.question_scores()["conv2d"] == 20, "scipy is in the grading environment"
    number = _answer_number("conv2d_layer")
    layer = [t for t in result.tests if t.question == "conv2d_layer"]
    assert {(t.failure.code, t.failure.params["cell"]) for t in layer} == {("no_function_cell_failed", number)}
    expected = (f"cell {number} failed before defining conv2d_layer: ModuleNotFoundError: cv2 is not in the "
                "grading environment")
    assert layer[0].failure.text("en") == expected
    cell = next(c for c in result.cells if c["number"] == number)
    assert (cell["line_number"], cell["line"], cell["cost"]) == (1, "import cv2", ["conv2d_layer"])
    assert cell["heading"].startswith("3. ") and cell["hint"]["code"] == "hint.no_module"
    english = _page(result, config, "en")
    assert expected in english.text_of("fix-first")
    assert len(english.having_class("test")) == 1, "one card for the question, not one per group"
    assert expected in english.text_of("q-conv2d_layer")
    assert "The grading kernel offers numpy, scipy" in english.text_of(f"cell-{cell['index']}")
    chinese = _page(result, config, "zh")
    assert f"单元格 {number} 在定义 conv2d_layer 之前就出错了：ModuleNotFoundError：评分环境中没有 cv2" in chinese.text
    public = [t for t in result.tests if t.public]
    assert f"✗ conv2d_layer · course example: {expected}" in format_summary(public, "en").splitlines()


FLIPPED_MULTI = '''def conv2d_multi(x, k):
    x = np.asarray(x, dtype=float)
    k = np.asarray(k, dtype=float)
    return sum(conv2d(x[:, :, c], k[:, :, c]) for c in range(x.shape[2]))
'''


@pytest.mark.slow
def test_a_function_built_on_a_flipped_conv2d_says_to_fix_conv2d_first(tmp_path: Path, course) -> None:
    config = course[0]
    flipped = _student_notebook(conv2d=lambda s: s.replace("* k)", "* k[::-1, ::-1])"),
                                conv2d_multi=lambda _: FLIPPED_MULTI)
    result = _graded(tmp_path, course, flipped)
    scores = result.question_scores()
    assert scores["conv2d"] == 0 and scores["conv2d_multi"] == 0
    multi = [t for t in result.tests if t.question == "conv2d_multi"]
    assert all(t.inherited_from == ("conv2d",) and t.inherited_seen == ("conv2d",) for t in multi), \
        "seen: conv2d's answers inside conv2d_multi disagree with conv2d's reference"
    assert all(t.inherited_from == () for t in result.tests if t.question != "conv2d_multi")
    page = _page(result, config, "en")
    banner = page.text_of("fix-first")
    assert "Your kernel is flipped" in banner and "Fix conv2d first: conv2d_multi uses it" in banner
    assert "On this test your conv2d_multi called your own conv2d, and conv2d answered wrongly there" in page.text
    check = next(c for c in result.cells if c["uses"] == ["conv2d"])
    assert "This cell calls your conv2d, which lost points" in page.text_of(f"cell-{check['index']}")
    assert "先修正 conv2d" in _page(result, config, "zh").text_of("fix-first")

    twin = _graded(tmp_path, course, _student_notebook(conv2d_multi=lambda _: FLIPPED_MULTI))
    assert twin.score == twin.max_score and all(not t.inherited_from for t in twin.tests)
    assert "fix-first" not in _page(twin, config, "en").by_id


@pytest.mark.slow
def test_numpy_2_breaking_old_course_code_gets_its_fix(tmp_path: Path, course) -> None:
    old = ("for f in range(n):\n                b = bias[f].reshape(1, 1, 1)\n"
           "                out[i, j, f] = np.sum(window * kernels[:, :, :, f]) + float(b)")
    nb = _student_notebook(conv2d_layer=lambda s: s.replace(
        "out[i, j, :] = np.sum(window[:, :, :, np.newaxis] * kernels, axis=(0, 1, 2)) + bias", old))
    result = _graded(tmp_path, course, nb)
    layer = [t for t in result.tests if t.question == "conv2d_layer"]
    assert {t.failure.params["hint"]["code"] for t in layer} == {"hint.numpy2_scalar"}
    assert {t.failure.params["hint"]["code"] for t in layer if not t.public} == {"hint.numpy2_scalar"}
    page = _page(result, course[0], "en")
    assert "float(a) or int(a) of an array such as shape (1, 1, 1) fails; use a.item()" in page.text
    number = _answer_number("conv2d_layer")
    assert f'File "In [{number}]", line' in layer[0].failure.traceback, "the student's frame names their cell"
    assert f'File "In [{number}]", line' in page.text
    hidden = next(t for t in layer if not t.public)
    from grader.judge.audience import student_view
    assert student_view(hidden).failure.params["hint"]["code"] == "hint.numpy2_scalar", "a fixed text: no input"


@pytest.mark.slow
def test_an_unreadable_notebook_is_one_card_saying_to_resave_it(tmp_path: Path, course) -> None:
    text = SOLUTION.read_text(encoding="utf-8")
    result = _graded(tmp_path, course, text[: len(text) // 2])
    page = _page(result, course[0], "en")
    assert "Re-save it in Jupyter (File → Save Notebook) and submit it again" in page.text_of("not-graded")
    assert "failed" not in page.by_id and "sandbox-off" not in page.by_id, "one card; nothing ran unconfined"
    assert not page.all("a") or all(not a.get("href", "").startswith("#test-") for a in page.all("a"))


@pytest.mark.slow
def test_an_earlier_function_that_answered_right_inside_is_not_blamed(tmp_path: Path, course) -> None:
    """conv2d is wrong only for 'same' with even kernels; conv2d_multi calls it in 'valid' mode, where it
    is right, and makes its own mistake (the first channel only): that one is named, conv2d is not."""
    anchor = _student_notebook(
        conv2d=lambda s: s.replace("pads = ((top, fh - 1 - top), (left, fw - 1 - left))",
                                   "pads = ((fh - 1 - top, top), (fw - 1 - left, left))"),
        conv2d_multi=lambda _: "def conv2d_multi(x, k):\n    return conv2d(x[:, :, 0], k[:, :, 0])\n")
    result = _graded(tmp_path, course, anchor)
    conv2d = [t for t in result.tests if t.question == "conv2d"]
    assert {t.diagnosis.id for t in conv2d if t.failure is not None} == {"even_anchor_wrong_side"}
    multi = [t for t in result.tests if t.question == "conv2d_multi" and t.failure is not None]
    assert multi and all(t.inherited_from == () and t.inherited_seen == () for t in multi)
    assert {t.diagnosis.id for t in multi if t.diagnosis is not None} == {"first_channel_only"}
    assert "Fix conv2d first" not in _page(result, course[0], "en").text


BACKWARD_ON_FORWARD = '''def max_pool2d_backward(dout, x, size, stride=None):
    x = np.asarray(x, dtype=float)
    dout = np.asarray(dout, dtype=float)
    two_d = x.ndim == 2
    if two_d:
        x, dout = x[:, :, np.newaxis], dout[:, :, np.newaxis]
    pooled = max_pool2d(x, size, stride)          # the forward pass tells where each maximum is
    ph, pw = as_pair(size)
    sh, sw = as_pair(size if stride is None else stride)
    dx = np.zeros_like(x)
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for ch in range(x.shape[2]):
                window = x[i * sh:i * sh + ph, j * sw:j * sw + pw, ch]
                hits = np.flatnonzero(window == pooled[i, j, ch])
                if hits.size:
                    r, q = divmod(int(hits[0]), pw)
                    dx[i * sh + r, j * sw + q, ch] += dout[i, j, ch]
    return dx[:, :, 0] if two_d else dx
'''


@pytest.mark.slow
def test_a_pooling_gradient_built_on_a_wrong_max_pool2d_says_so_in_its_check_cell(tmp_path: Path) -> None:
    import dataclasses

    import nbformat

    from grader.course.assignments import course_assignments
    from grader.grade.notebook import grade_notebook
    from grader.grade.prepare import prepare

    config = load_config(ROOT / "course.toml", environ={})
    assignment = course_assignments()["02-pooling"]
    nb = nbformat.read(ROOT / "solutions" / "02-pooling.ipynb", as_version=4)
    for cell in nb.cells:
        role = cell.metadata.get("grader", {})
        if cell.cell_type == "code":
            cell.source = cell.source.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION", "")
        if role.get("role") == "answer" and role.get("question") == "max_pool2d":
            cell.source = cell.source.replace("window.max(axis=(0, 1))", "window.mean(axis=(0, 1))")
        if role.get("role") == "answer" and role.get("question") == "max_pool2d_backward":
            cell.source = BACKWARD_ON_FORWARD
    path = tmp_path / "mei" / "02-pooling.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    config = dataclasses.replace(config, limits=dataclasses.replace(config.limits, call_timeout=5))
    result = grade_notebook(path, student="mei", assignment=assignment, prepared=prepare(assignment, config),
                            config=config)
    backward = [t for t in result.tests if t.question == "max_pool2d_backward"]
    assert all(t.inherited_seen == ("max_pool2d",) for t in backward if t.failure is not None)
    check = next(c for c in result.cells if "max_pool2d_backward(" in c["source_preview"] or
                 c["heading"].startswith("2."))
    assert check["uses"] == ["max_pool2d"]
    page = _page(result, config, "en")
    assert "This cell calls your max_pool2d, which lost points: fix max_pool2d first" in page.text_of(
        f"cell-{check['index']}")
    assert "Fix max_pool2d first: max_pool2d_backward uses it" in page.text_of("fix-first")


def test_the_banner_names_a_functions_own_mistake_and_what_to_fix() -> None:
    """A failed question whose mistake is named and comes from no earlier function gets a line of its
    own on top: the cause in a few words, then what to fix; the full explanation stays on its card."""
    from test_report import FLIPPED, Page, convolution_result

    from grader.publish.report import render_submission

    config = load_config(ROOT / "course.toml", environ={})
    english = Page(render_submission(convolution_result(), config, "en")).text_of("fix-first")
    assert english == "Your kernel is flipped → Fix conv2d."
    chinese = Page(render_submission(convolution_result(), config, "zh")).text_of("fix-first")
    assert chinese == "卷积核被翻转了 → 请修正 conv2d。"
    assert FLIPPED.zh.startswith("卷积核被翻转了：")
    passing = Page(render_submission(convolution_result(flipped=False), config, "en"))
    assert "fix-first" not in passing.by_id


@pytest.mark.parametrize("source", [
    "x = " + "+".join(["a"] * 200_000),  # deeper than the parser's recursion
    "f = " + "lambda: " * 5_000 + "0",    # the parser runs out of memory for it
    "def conv2d(x):\x00 return x",        # a NUL byte
    "def conv2d(x:\n    return x",        # a syntax error
])
def test_a_cell_the_parser_cannot_read_is_no_grader_error(source: str) -> None:
    """Cell sources are the student's: whatever the parser makes of them, reading them for causes
    never raises (the grader would lose the submission's grades to its own exception)."""
    names = defined_names(source)
    assert isinstance(names, set)
    source_graph = Source.of([source, "def conv2d_multi(x):\n    return conv2d(x)"])
    assert calls(source_graph, "conv2d_multi") <= {"conv2d"}
    assert cell_uses(source_graph, source, ["conv2d"]) == ()


def test_an_inner_call_too_big_for_the_reference_is_no_evidence() -> None:
    """The student's kernel says what its own conv2d or max_pool2d was given; the grader runs their
    reference on that, unguarded, so arrays far beyond the case's, or a window that makes the work
    explode on a modest array, are not weighed."""
    from grader.course.config import load_config
    from grader.course.spec import Case
    from grader.grade.calls import _wrong_inside
    from grader.run.decode import Answer, InnerCall

    ran: list[int] = []

    def reference(x, *rest, **kwargs):
        ran.append(len(x))
        return np.zeros((1, 1))

    config = load_config(ROOT / "course.toml", environ={})
    watch = {"conv2d": reference, "max_pool2d": reference}
    case = Case((np.zeros((8, 8, 3)), np.zeros((3, 3, 3))))

    def inner(function, *args):
        return Answer("ok", 0.0, inner=(InnerCall(function, args, {}, np.ones((1, 1))),))

    huge = np.zeros((2000, 2000))
    assert _wrong_inside(case, inner("conv2d", huge, huge, "full"), watch, config) == []
    assert _wrong_inside(Case((huge,)), inner("max_pool2d", huge, 1000, 1), watch, config) == []
    assert ran == [], "the reference never ran on them"
    assert _wrong_inside(case, inner("conv2d", [[1.0, 2.0], [3.0]], [[1.0]]), watch, config) == ["conv2d"]
    assert _wrong_inside(case, inner("max_pool2d", np.zeros((8, 8)), 2, (2, 1)), watch, config) == ["max_pool2d"]
    assert _wrong_inside(case, inner("conv2d", np.zeros((10, 10)), np.zeros((3, 3))), watch, config) == ["conv2d"]
    assert ran == [2, 8, 10], "a channel of the case, a padded copy: weighed"


def test_a_heading_or_traceback_made_to_stall_the_parser_is_read_in_linear_time() -> None:
    """A Markdown heading of 20,000 spaces (cubic backtracking in a lazy pattern: hours) and a
    traceback whose line number has 5,000 digits (beyond int()'s limit) are the student's text."""
    cells = cells_of([{"cell_type": "markdown", "source": "# a" + " " * 20_000 + "b  ##"},
                      {"cell_type": "code", "source": "x = 1"}])
    assert cells[0].heading == ("a" + " " * 20_000 + "b")[:200], "read, and clipped as any heading"
    assert cells_of([{"cell_type": "markdown", "source": "## 卷积 Convolution ##"},
                     {"cell_type": "code", "source": "x = 1"}])[0].heading == "卷积 Convolution"
    run = CellRun(0, "error", ename="ValueError", evalue="", traceback="Cell In[1], line " + "9" * 5_000)
    assert failed_line(run, "x = 1") is None
    assert failed_line(CellRun(0, "error", ename="ValueError", traceback="Cell In[3], line 1\n"), "x = 1") == (1, "x = 1")


@pytest.mark.parametrize(("ename", "evalue"), [
    ("ModuleNotFoundError", "No module named 'h_3_1_4_1_5_9_2_6'"),
    ("OverflowError", "Python integer 1 out of bounds for h_3_1_4_1_5"),
    ("AttributeError", "module 'numpy' has no attribute 'h_3_1_4'. Use `h_3_1_4` instead"),
])
def test_a_hidden_groups_hint_carries_no_words_the_student_made_up(ename: str, evalue: str) -> None:
    """A hint's parameters come from the student's exception; in a hidden group, raised with the
    hidden input at hand, they could carry it to the student's page. Only the grader's vocabulary
    stays (a package it knows, a NumPy dtype, a removed NumPy name)."""
    from grader.grade.causes import explain
    from grader.judge.results import Failure
    from grader.run.execute import Execution

    def graded(public: bool, words: str) -> TestResult:
        failure = Failure("error", "error", {"ename": ename, "evalue": words})
        return TestResult("conv2d", "g", public, 0.0, 1.0, 1, 0, failure)

    for public in (True, False):
        (test,), _ = explain([graded(public, evalue)], [], Execution(()), ("numpy",))
        assert "hint" not in test.failure.params or (public and ename == "ModuleNotFoundError"), test.failure.params
    (known,), _ = explain([graded(False, "No module named 'cv2'")] if ename == "ModuleNotFoundError" else
                          [graded(False, "Python integer 300 out of bounds for uint8")] if ename == "OverflowError" else
                          [graded(False, "module 'numpy' has no attribute 'float_'")], [], Execution(()), ("numpy",))
    assert "hint" in known.failure.params, "the grader's own vocabulary stays in a hidden group"


# --- parsing beside other job threads (CPython 3.11's shared AST depth counter) --------------------------

_NESTED = "\n".join(f"def f{i}(x):\n    return [[(x + {i}) * (y - {i}) for y in range(3)] for _ in (1, 2)]\n"
                    for i in range(40))


class _Finaliser:
    """Garbage whose ``__del__`` runs Python code: the collector runs it in the middle of another
    thread's parse, which is how a second job thread gets in."""

    def __del__(self) -> None:
        sum(i for i in range(3))


def _parse_beside_garbage(parse, rounds: int) -> list[object]:
    results: list[object] = []
    for n in range(rounds):
        results.append(parse(_NESTED))
        if n % 20 == 0:
            for _ in range(200):
                cycle = _Finaliser()
                cycle.self = cycle  # type: ignore[attr-defined]
    return results


def test_cells_parsed_by_several_job_threads_at_once_each_get_their_own_tree() -> None:
    """Unguarded, three threads doing this get "AST constructor recursion depth mismatch" within a few
    hundred parses on 3.11 (it graded a correct submission 0 in CI); guarded, every parse agrees with
    a lone one."""
    import gc
    import sys
    from concurrent.futures import ThreadPoolExecutor

    alone = Source.of([_NESTED]).refers
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(50)
    try:
        with ThreadPoolExecutor(3) as pool:
            runs = [pool.submit(_parse_beside_garbage, lambda s: Source.of([s]).refers, 150) for _ in range(3)]
            results = [r for run in runs for r in run.result()]
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
    assert len(results) == 450 and all(r == alone for r in results)
    assert len(alone) == 40


def test_a_parse_upset_by_a_parse_outside_the_grader_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock cannot cover a parse of a library's own (traceback underlines a logged error's line
    with one): a mismatch is retried from a clean count, not turned into a grader error."""
    import ast as real_ast

    from grader.grade import causes

    failures = iter([True, True])

    class Upset:
        def __getattr__(self, name):
            return getattr(real_ast, name)

        @staticmethod
        def parse(source):
            if next(failures, False):
                raise SystemError("AST constructor recursion depth mismatch (before=36, after=28)")
            return real_ast.parse(source)

    monkeypatch.setattr(causes, "ast", Upset())
    assert defined_names("def f(x):\n    return x\ny = 2\n") == {"f", "y"}


def test_a_mismatch_that_persists_is_the_graders_error_not_a_silent_empty_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    import ast as real_ast

    from grader.grade import causes

    class Broken:
        def __getattr__(self, name):
            return getattr(real_ast, name)

        @staticmethod
        def parse(source):
            raise SystemError("AST constructor recursion depth mismatch (before=36, after=28)")

    monkeypatch.setattr(causes, "ast", Broken())
    with pytest.raises(SystemError):
        defined_names("def f(x):\n    return x\n")


def test_the_grader_parses_python_only_through_the_guarded_parser() -> None:
    """Any other ``ast.parse`` in the grader's process would race the job threads again."""
    root = Path(__file__).resolve().parents[1] / "grader"
    found = [str(p.relative_to(root)) for p in root.rglob("*.py")
             for line in p.read_text(encoding="utf-8").splitlines()
             if "ast.parse(" in line or "PyCF_ONLY_AST" in line]
    assert found == ["grade/causes.py"]


class _ParsingFinaliser:
    """Garbage whose ``__del__`` parses code unguarded, as :mod:`traceback` does to underline a logged
    error's line, and leaves another of itself behind: the collector runs one at almost every
    allocation while ``budget`` lasts, so one gets into the middle of each of the grader's parses."""

    budget = 0

    def __init__(self) -> None:
        self.self = self

    def __del__(self) -> None:
        import ast

        if _ParsingFinaliser.budget > 0:
            _ParsingFinaliser.budget -= 1
            ast.parse("y = x + 1")
            _ParsingFinaliser()


def test_a_parse_outside_the_grader_cannot_get_into_the_middle_of_the_graders() -> None:
    """Another thread's parse (traceback underlining an error it logs) gets into the grader's through
    a finaliser, like a job thread's did: the retries alone met one each time, and a correct
    submission was graded 0 as a grader error. Here the finaliser parses on the grader's own thread,
    so it reaches every attempt, every time; no collection may happen inside the grader's parse."""
    import gc

    alone = Source.of([_NESTED]).refers
    threshold = gc.get_threshold()
    _ParsingFinaliser.budget = 2000
    gc.set_threshold(1)
    try:
        _ParsingFinaliser()
        results = [Source.of([_NESTED]).refers for _ in range(5)]
    finally:
        gc.set_threshold(*threshold)
        _ParsingFinaliser.budget = 0
        gc.collect()
    assert results == [alone] * 5
