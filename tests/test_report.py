"""HTML reports: key facts of every status in both languages, escaping, hidden inputs, page sizes."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_facts import max_score
from grader.course.config import CourseConfig, load_config
from grader.classroom.gradebook import load_results, write_result
from grader.judge.catalog import CATALOG, LANGUAGES, Message
from grader.judge.catalog import text as message
from grader.publish.report import (
    ReportError,
    question_status,
    render_index,
    render_reports,
    render_submission,
    report_path,
)
from grader.judge.results import Argument, Call, Diagnosis, Failure, SubmissionResult, call_of
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*

ROOT = Path(__file__).resolve().parents[1]
FLIPPED = Diagnosis("flipped_kernel", zh="卷积核被翻转了：这是数学上的真卷积。",
                    en="Your kernel is flipped: this is true convolution.")
AVERAGE = Diagnosis("average_instead_of_max", zh="这是平均池化。", en="This is average pooling.")
HARNESS_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/tmp/ipykernel_27168/3451570914.py", line 80, in call\n'
    "    value = function(*args, **kwargs)\n"
    "            ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    '  File "/tmp/ipykernel_27168/4208612641.py", line 17, in max_pool2d\n'
    "    return \x1b[0;31mwindows\x1b[0m.max()\n"
    "ValueError: zero-size array\n"
)


@pytest.fixture(scope="module")
def config() -> CourseConfig:
    return load_config(ROOT / "course.toml", environ={})


def with_hidden_inputs(config: CourseConfig) -> CourseConfig:
    """The course config with ``show_hidden_inputs = true``."""
    return dataclasses.replace(config, show_hidden_inputs=True)


# --- building results ------------------------------------------------------------------------------


def group(question: str, name: str, points: float, failure: Failure | None = None, *, public: bool = False,
          diagnosis: Diagnosis | None = None, cases: int = 4, extra_credit: bool = False,
          detail: str = "") -> GroupResult:
    return GroupResult(question, name, public, points if failure is None else 0.0, points, cases,
                       cases if failure is None else 1, failure, diagnosis, extra_credit, detail)


def arg(type_: str, value: str = "", *, shape: tuple[int, ...] | None = None, name: str = "") -> Argument:
    """An argument of a failing call, as a result records it (no values to draw)."""
    return Argument(type_, value, name, shape)


def values_differ(count: int, total: int, largest: str, index: str, expected: str, actual: str,
                  path: str = "") -> dict[str, object]:
    """The parameters of a ``values_differ`` failure, as grader.judge.compare gives them."""
    params: dict[str, object] = {"count": count, "total": total, "largest": largest, "index": index,
                                 "expected": expected, "actual": actual}
    return {**params, "path": path} if path else params


def flipped_failure(public: bool) -> Failure:
    x = np.array([[2.0, 3, 8], [6, 1, 5], [7, 2, -1]])
    k = np.array([[4.0, 1], [2, 3]])
    expected = [[6.0, 13, 30, 16], [20, 26, 37, 42], [27, 45, 10, 18], [7, 30, 7, -4]]
    actual = [[8.0, 14, 35, 8], [28, 22, 46, 29], [40, 35, 11, 14], [14, 25, 4, -3]]
    call = call_of("conv2d", (x, k, "full") if public else (np.zeros((5, 5)), k, "full"), {})
    return Failure("wrong", "values_differ", values_differ(16, 16, "13", "(1, 3)", "42", "29"),
                   call, expected, actual, 13.0, (1, 3))


def convolution_result(student: str = "wang_fang", *, flipped: bool = True) -> SubmissionResult:
    tests = (
        group("conv2d", "course example", 5, flipped_failure(True) if flipped else None, public=True,
              diagnosis=FLIPPED if flipped else None),
        group("conv2d", "valid mode", 5, flipped_failure(False) if flipped else None,
              diagnosis=FLIPPED if flipped else None),
        group("conv2d", "same mode", 10),
        group("conv2d_multi", "depth", 10),
        group("conv2d_layer", "strides", 30),
        group("im2col", "patch matrix", 20),
        group("conv2d_matmul", "as a matrix product", 20),
    )
    return SubmissionResult(student, "01-convolution", "a" * 64, "0.1.0", 6.7, tests,
                            source=f"{student}/01-convolution.ipynb")


def every_status_result() -> SubmissionResult:
    """One submission with a failure of every kind, every cell outcome, notes and odd answers.

    Its groups are public: a hidden group draws no grid (it shows no expected value)."""
    head = {"shape": [20, 20], "head": [float(i) for i in range(64)]}
    head_actual = {"shape": [20, 20], "head": [float(i) + (i == 5) for i in range(64)]}
    tests = (
        group("max_pool2d", "course example", 5, public=True, failure=
              Failure("wrong", "values_differ_outline", {"count": 9, "total": 9},
                      Call("max_pool2d", (arg("<array (4, 4) float64>", shape=(4, 4)), arg("int", "2"))),
                      [[1.0, 2], [3, 4]], [[1.0, 2.5], [3, 4]], 0.5, (0, 1)), diagnosis=AVERAGE),
        group("max_pool2d", "windows and channels", 5, public=True, failure=
              Failure("wrong", "text", {"text": "values differ"},
                      Call("max_pool2d", (arg("<array (6, 6, 3) float64>", shape=(6, 6, 3)), arg("int", "2"))),
                      np.arange(12.0).reshape(2, 2, 3).tolist(), (np.arange(12.0).reshape(2, 2, 3) + 1).tolist(),
                      1.0, (1, 1, 2))),
        group("avg_pool2d", "large", 5, public=True, failure=
              Failure("wrong", "values_differ_outline", {"count": 1, "total": 400},
                      Call("avg_pool2d", (arg("<array (40, 40) float64>", shape=(40, 40)), arg("int", "2"))),
                      head, head_actual, 1.0, (0, 5))),
        group("avg_pool2d", "shape", 5, public=True, failure=
              Failure("wrong", "shape", {"actual": "(2, 3)", "expected": "(3, 2)"},
                      Call("avg_pool2d", (arg("<array (6, 4) float64>", shape=(6, 4)), arg("int", "2"))),
                      [[1.0, 2], [3, 4], [5, 6]], [[1.0, 2, 3], [4, 5, 6]])),
        group("avg_pool2d", "nested", 5, public=True, failure=
              Failure("wrong", "values_differ", values_differ(1, 1, "32", "()", "320", "288", path="[0][1]"),
                      Call("layer_table", (arg("tuple of 3", "(28, 28, 1)"), arg("list of 1", "[('conv2d', 32)]"))),
                      [[[26, 26, 32], 320]], [[[26, 26, 32], 288]], 32.0, ())),
        group("max_pool2d_backward", "ties", 10, public=True, failure=
              Failure("error", "error", {"ename": "ValueError", "evalue": "zero-size array"},
                      Call("max_pool2d_backward", (arg("<array (3, 3) float64>", shape=(3, 3)),)),
                      traceback=HARNESS_TRACEBACK)),
        group("max_pool2d_backward", "overlap", 10, public=True, failure=
              Failure("timeout", "timeout", {"limit": 20.0},
                      Call("max_pool2d_backward", (arg("<array (7, 7) float64>", shape=(7, 7)),)))),
        group("max_pool2d_backward", "crash", 10, public=True, failure=
              Failure("crash", "crash", {}, Call("max_pool2d_backward", (arg("<array (7, 7) float64>", shape=(7, 7)),)))),
        group("spatial_pyramid_pool", "levels", 15, public=True, failure=
              Failure("missing", "no_function", {"name": "spatial_pyramid_pool"},
                      Call("spatial_pyramid_pool", (arg("<array (8, 8, 2) float64>", shape=(8, 8, 2)),)))),
        group("spatial_pyramid_pool", "object", 10, public=True, failure=
              Failure("unsupported", "unsupported", {"reason": "object array"},
                      Call("spatial_pyramid_pool", (arg("x", "x"),)))),
        group("unfinished_question", "unanswered", 10, public=True, failure=
              Failure("error", "not_implemented", {"evalue": ""}, Call("unfinished_question", (arg("x", "x"),)),
                      traceback=HARNESS_TRACEBACK)),
        group("avg_pool2d", "fine", 0, public=True),
    )
    cells = (
        {"index": 3, "outcome": "error", "duration": 0.1, "source_preview": "def f(:\n    pass",
         "ename": "SyntaxError", "evalue": "invalid syntax (1.py, line 1)", "traceback": "SyntaxError: invalid syntax"},
        {"index": 7, "outcome": "timeout", "duration": 60, "source_preview": "while True:\n    pass",
         "ename": "CellTimeoutError", "evalue": "stopped after 60 s", "traceback": ""},
        {"index": 8, "outcome": "dead_kernel", "duration": 1, "source_preview": "import os\nos._exit(1)",
         "ename": "DeadKernelError", "evalue": "the kernel died", "traceback": ""},
        {"index": 9, "outcome": "skipped", "duration": 0, "source_preview": "x = 1", "ename": "",
         "evalue": "the notebook ran out of time", "traceback": ""},
        {"index": 11, "outcome": "error", "duration": 0.1, "source_preview": "raise NotImplementedError()",
         "ename": "NotImplementedError", "evalue": "", "traceback": ""},
    )
    notes = (Message("cell_error", {"cell": 3, "ename": "SyntaxError", "evalue": "invalid syntax"}),
             Message("text", {"text": "cell 8: dead_kernel; kernel restarted (1)"}))
    return SubmissionResult("zhang_wei", "02-pooling", "b" * 64, "0.1.0", 61.0, tests, cells, notes,
                            source="zhang_wei/02-pooling.ipynb")


# --- reading HTML ----------------------------------------------------------------------------------


class Page(HTMLParser):
    """The parsed page: its text, elements by id, classes, and tags with their attributes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text_parts: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.by_id: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag in ("meta", "br", "img", "input", "link", "hr", "rect", "line"):
            return
        self._open.append((tag, attributes.get("id")))
        if attributes.get("id"):
            self.by_id[attributes["id"]] = []
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        self._in_style = self._in_style or tag == "style"

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break
        if tag == "script":
            self._in_script = False
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        if self._in_style:
            return
        self.text_parts.append(data)
        for _, element_id in self._open:
            if element_id:
                self.by_id[element_id].append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text_parts))

    def text_of(self, element_id: str) -> str:
        return re.sub(r"\s+", " ", "".join(self.by_id[element_id])).strip()

    def having_class(self, name: str) -> list[dict[str, str]]:
        return [attrs for _, attrs in self.tags if name in attrs.get("class", "").split()]

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.tags if t == tag]


# --- messages -----------------------------------------------------------------------------------------


def test_templates_use_only_messages_that_exist() -> None:
    used = set()
    for template in (ROOT / "templates").glob("*.j2"):
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", template.read_text(encoding="utf-8")))
    assert used and not used - set(CATALOG)


# --- statuses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kinds", "scores", "status"), [
    ([None, None], [5, 5], "passed"),
    (["wrong", None], [0, 5], "partial"),
    (["wrong"], [2.5], "partial"),  # an assessed group earning part of its points
    (["wrong", "wrong"], [0, 0], "wrong"),
    (["wrong", "error"], [0, 0], "error"),
    (["crash"], [0], "error"),
    (["unsupported"], [0], "error"),
    (["error", "timeout"], [0, 0], "timeout"),
    (["missing", "missing"], [0, 0], "missing"),
    (["missing", "wrong"], [0, 0], "wrong"),
    (["unanswered", "unanswered"], [0, 0], "missing"),
])
def test_question_status(kinds: list[str | None], scores: list[float], status: str) -> None:
    tests = []
    for kind, score in zip(kinds, scores):
        failure = None
        if kind == "unanswered":
            failure = Failure("error", "not_implemented", {"evalue": ""})
        elif kind is not None:
            failure = Failure(kind, "text", {"text": "x"})  # type: ignore[arg-type]
        tests.append(dataclasses.replace(group("q", "g", 5, failure), score=score))
    assert question_status(tests) == status


# --- the submission page ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_submission_page_states_score_questions_and_diagnosis(config: CourseConfig, lang: str) -> None:
    page = Page(render_submission(convolution_result(), config, lang))
    assert page.text_of("score") == "90 / 100"
    text = page.text
    assert "wang_fang" in text and "卷积 Convolution" in text and "01-convolution" in text
    assert message("head.seconds", lang, seconds="6.7") in text and "0.1.0" in text
    assert message("head.sandbox_off", lang) in text and message("head.unconfined", lang) in text  # sandbox "off"
    # the question table: points, groups passed, status
    assert "10 / 20" in text and "1 / 3" in text and "30 / 30" in text
    assert message("status.partial", lang) in text and message("status.passed", lang) in text
    # the diagnosis in plain words, in both languages, shown once for the two groups it explains
    assert FLIPPED.zh in text and FLIPPED.en in text
    assert text.count(FLIPPED.en) == 1
    assert message("diagnosis.shared", lang, count=2) in text


def test_wrong_answer_shows_input_and_both_grids_with_the_differing_cells(config: CourseConfig) -> None:
    page = Page(render_submission(convolution_result(), config, "en"))
    figures = [attrs for attrs in page.having_class("grid-box")]
    roles = [attrs["class"].split()[1] for attrs in figures]
    assert roles[:4] == ["input", "input", "expected", "actual"]  # the public test: inputs then answers
    cells = page.all("td")
    # the public test's two grids, all values differing; the hidden test draws none (no expected values)
    assert sum("diff" in c.get("class", "") for c in cells) == 2 * 16
    worst = [c for c in cells if "worst" in c.get("class", "").split()]
    assert [c["title"] for c in worst] == ["[1, 3] = 42.0", "[1, 3] = 29.0"]
    assert "Largest error 13, at index (1, 3): expected 42, yours 29" in page.text
    assert "argument 1 · shape (3, 3)" in page.text  # the public input, drawn as a grid
    assert "16 of 16 values differ; largest error" not in page.text  # said once, in the page's words


def test_a_passing_submission_says_so(config: CourseConfig) -> None:
    for lang in LANGUAGES:
        page = Page(render_submission(convolution_result("li_hua", flipped=False), config, lang))
        assert page.text_of("score") == "100 / 100"
        assert message("summary.all_passed", lang) in page.text
        assert "failed" not in page.by_id


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_status_and_outcome_renders(config: CourseConfig, lang: str) -> None:
    page = Page(render_submission(every_status_result(), config, lang))
    text = page.text
    for key in ("kind.wrong", "kind.error", "kind.timeout", "kind.missing", "kind.unsupported", "kind.crash",
                "status.partial", "status.timeout", "status.unanswered", "outcome.timeout",
                "outcome.dead_kernel", "outcome.skipped", "error.not_implemented", "error.timeout_hint",
                "compare.legend", "cells.numbering"):
        assert message(key, lang) in text, key
    assert message("compare.channel", lang, channel=2, channels=3) in text  # the channel of the worst error
    assert message("compare.head", lang, shape="(20, 20)", count=64) in text
    assert message("compare.shape_mismatch", lang, expected="(3, 2)", actual="(2, 3)") in text
    assert message("compare.path", lang, path="[0][1]") in text
    assert message("no_function", lang, name="spatial_pyramid_pool") in text
    assert message("timeout", lang, limit=20) in text and message("crash", lang) in text
    assert message("cells.unfinished", lang, cells="11") in text
    # the missing function points at the cells that failed before it
    assert "#cell-3" in {a.get("href") for a in page.all("a")}
    # tracebacks: the harness's frame and colour codes are gone, the student's frame stays
    assert "value = function(*args, **kwargs)" not in text and "\x1b[" not in text
    assert 'File "<notebook cell>", line 17, in max_pool2d' in text
    # a note about a cell shown in the cells section is not repeated; other notes are kept
    assert "cell 3 raised SyntaxError" not in text and "kernel restarted (1)" in text


def test_a_large_array_gets_a_difference_heatmap(config: CourseConfig) -> None:
    expected = np.arange(400.0).reshape(20, 20)
    actual = expected.copy()
    actual[13, 7] += 5
    failure = Failure("wrong", "values_differ_outline", {"count": 1, "total": 400},
                      Call("f", (arg("<array (20, 20) float64>", shape=(20, 20)),)),
                      expected.tolist(), actual.tolist(), 5.0, (13, 7))
    result = SubmissionResult("s", "01-convolution", "c" * 64, "0.1.0", 1.0,
                              (group("conv2d", "big", 5, failure, public=True),))
    html = render_submission(result, config, "en")
    page = Page(html)
    assert [attrs["class"] for attrs in page.all("svg")] == ["heatmap"]
    assert len(re.findall(r'fill-opacity="1.0"', html)) == 1  # only the one wrong value is dark
    assert "Largest error 5, at index (13, 7): expected 267, yours 272" in page.text
    assert not page.having_class("grid")  # no 20 x 20 grid of numbers


def test_the_first_submission_error_is_shown(config: CourseConfig) -> None:
    result = SubmissionResult("s", "01-convolution", "c" * 64, "0.1.0", 0.0, (),
                              error="s.ipynb: not a readable notebook: Expecting value")
    page = Page(render_submission(result, config, "zh"))
    assert message("summary.not_graded", "zh") in page.text and "Expecting value" in page.text
    assert page.text_of("score") == "0 / 0"


def test_student_text_is_escaped_everywhere(config: CourseConfig) -> None:
    evil = "<script>alert('x')</script>"
    failure = Failure("error", "error", {"ename": "ValueError", "evalue": evil}, Call("conv2d", (arg("str", repr(evil)),)),
                      traceback=f"ValueError: {evil}\n")
    cells = ({"index": 2, "outcome": "error", "duration": 0.1, "source_preview": f"print({evil!r})",
              "ename": "ValueError", "evalue": f"<img src=x onerror=alert(1)>{evil}", "traceback": evil},)
    result = SubmissionResult(evil, "01-convolution", "d" * 64, "0.1.0", 1.0,
                              (group("conv2d", f"g{evil}", 5, failure, public=True),), cells,
                              notes=(f"the notebook printed {evil}",), error="")
    for html in (render_submission(result, config, "en"), render_index([result], config, "en")):
        page = Page(html)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert evil in page.text  # shown as text
        assert all(not s.strip() or "querySelectorAll" in s for s in page.scripts)  # only the sort script
        assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]


def test_pages_forbid_scripts_except_the_index_sort_script(config: CourseConfig) -> None:
    submission = Page(render_submission(convolution_result(), config, "en"))
    (csp,) = [m["content"] for m in submission.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp and not submission.scripts
    index = Page(render_index([convolution_result()], config, "en"))
    (csp,) = [m["content"] for m in index.all("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    (script,) = index.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp


def test_pages_load_nothing_from_the_network(config: CourseConfig) -> None:
    for html in (render_submission(every_status_result(), config, "en"),
                 render_index([every_status_result(), convolution_result()], config, "en")):
        page = Page(html)
        assert not page.all("link") and not page.all("img") and not page.all("iframe")
        assert not [s for s in page.all("script") if "src" in s]
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
        assert "@import" not in html and "url(" not in html


def test_hidden_inputs_show_shapes_unless_the_course_allows_values(config: CourseConfig) -> None:
    values = "[[1.25, 2.75], [3.625, 4.875]]"
    array = Argument("<array (2, 2) float64>", values, "", (2, 2), [[1.25, 2.75], [3.625, 4.875]])
    call = Call("conv2d", (array, array, Argument("str", "'same'", "mode")))
    failure = Failure("wrong", "values_differ", values_differ(1, 4, "1", "(0, 0)", "9.5", "8.5"), call,
                      [[9.5, 1], [2, 3]], [[8.5, 1], [2, 3]], 1.0, (0, 0))
    result = SubmissionResult("s", "01-convolution", "e" * 64, "0.1.0", 1.0, (group("conv2d", "hidden", 5, failure),))
    hidden = Page(render_submission(result, config, "en"))
    assert "conv2d(<array (2, 2) float64>, <array (2, 2) float64>, mode=str)" in hidden.text
    assert "1 of 4 values differ" in hidden.text and message("call.hidden_note", "en") in hidden.text
    for secret in ("3.625", "same", "9.5", "8.5", "largest", "Largest", "(0, 0)"):
        assert secret not in hidden.text, secret
    assert not hidden.having_class("input") and not hidden.having_class("grid-box")
    # the course's opt-in shows the hidden inputs, still no expected value
    shown = Page(render_submission(result, with_hidden_inputs(config), "en"))
    assert values in shown.text and len(shown.having_class("input")) == 2
    assert "9.5" not in shown.text and message("call.hidden_answer_note", "en") in shown.text
    public = Page(render_submission(dataclasses.replace(
        result, tests=(dataclasses.replace(result.tests[0], public=True),)), config, "en"))
    assert values in public.text and len(public.having_class("input")) == 2 and "expected 9.5" in public.text


def test_a_huge_output_keeps_the_page_under_one_megabyte(config: CourseConfig) -> None:
    huge = "x" * 100_000_000  # a student printed 100 MB
    failure = Failure("error", "error", {"ename": "ValueError", "evalue": huge[:2_000_000]},
                      Call("conv2d", (arg("<array (5, 5) float64>", shape=(5, 5)),)), traceback="Traceback\n" + "  line\n" * 200_000 + "ValueError: boom\n")
    cells = tuple({"index": i, "outcome": "error", "duration": 0.1, "source_preview": "print('x' * 10**8)",
                   "ename": "ValueError", "evalue": huge[:1_000_000], "traceback": "y\n" * 500_000}
                  for i in range(100))
    tests = tuple(group("conv2d", f"group {i}", 1, failure, public=True) for i in range(100))
    result = SubmissionResult("s", "01-convolution", "f" * 64, "0.1.0", 1.0, tests, cells,
                              notes=(f"cell 1 printed {huge}", *(f"note {i}" for i in range(500))))
    html = render_submission(result, config, "en")
    assert len(html.encode("utf-8")) < 1_000_000
    page = Page(html)
    note = result.notes[0].text("en")
    assert message("text.truncated", "en", count=f"{len(note) - 600:,}") in page.text
    assert "ValueError: boom" in page.text  # a traceback keeps its end
    assert message("failed.more", "en", count=40) in page.text


# --- the class summary --------------------------------------------------------------------------------


def test_index_summarises_the_class(config: CourseConfig) -> None:
    results = [convolution_result("wang_fang"), convolution_result("li_hua", flipped=False),
               convolution_result("sun_mei", flipped=True), every_status_result()]
    page = Page(render_index(results, config, "en"))
    text = page.text
    assert message("index.counts", "en", students=4, submissions=4) in text
    full = f"{max_score('01-convolution'):g}"  # out of course.toml's points; the scores are the results'
    assert message("index.mean", "en", mean="93.33", median="90", max=full) in text
    # most common diagnoses: the flipped kernel, with how many students
    assert FLIPPED.en in text and FLIPPED.zh in text and message("index.diagnosis_students", "en", count=2) in text
    # errored or timed out: the student with the timeout, the dead kernel and the syntax error
    problems = page.text_of("problems")
    assert "zhang_wei" in problems and "cell 7 timed out" in problems and "cell 8 killed the kernel" in problems
    assert "wang_fang" not in problems
    # histograms (inline SVG) and pass rates
    assert len([s for s in page.all("svg") if s.get("class") == "hist"]) == 2
    # per question: the mean points (li_hua 20, the two flipped kernels 10 each, of 20) and the full passes
    conv2d = page.text_of("a-01-convolution")
    assert "13.33 / 20" in conv2d and "✓ 1/3" in conv2d  # conv2d passed in full by li_hua only
    # the students table links each score to the page and the JSON
    hrefs = {a.get("href") for a in page.all("a")}
    assert {"wang_fang/01-convolution.html", "../results/wang_fang/01-convolution.json",
            "zhang_wei/02-pooling.html", "../results/zhang_wei/02-pooling.json"} <= hrefs
    # sortable: the student, one column per assignment of course.toml, the late penalty, the total
    assert [th.get("data-type") for th in page.all("th") if th.get("data-type")] == ["text", *["number"] * 6]


def test_index_links_escape_unusual_student_names(config: CourseConfig) -> None:
    page = Page(render_index([convolution_result("王 芳/a")], config, "en"))
    hrefs = [a["href"] for a in page.all("a") if a["href"].endswith(".html")]
    assert hrefs and all(" " not in h and "/a" not in h.split("/")[0] for h in hrefs)
    assert "%E7%8E%8B%20%E8%8A%B3_a" in hrefs[0]


def synthetic_class(students: int) -> Iterator[SubmissionResult]:
    for n in range(students):
        name = f"学生_{n:03d}"
        yield convolution_result(name, flipped=n % 2 == 0)
        yield dataclasses.replace(every_status_result(), student=name)
        yield dataclasses.replace(convolution_result(name, flipped=n % 3 == 0), assignment="03-parameter-counting")
        yield dataclasses.replace(convolution_result(name), assignment="04-gender-cnn")


def test_an_index_of_200_students_stays_under_two_megabytes(config: CourseConfig) -> None:
    results = list(synthetic_class(200))
    html = render_index(results, config, "zh")
    assert len(html.encode("utf-8")) < 2_000_000
    page = Page(html)
    rows = [attrs for tag, attrs in page.tags if tag == "tr"]
    assert len(rows) > 200 and message("index.diagnosis_students", "zh", count=200) in page.text


# --- writing the reports -------------------------------------------------------------------------------


def test_a_student_named_like_the_class_summary_does_not_take_its_place(config: CourseConfig, tmp_path: Path) -> None:
    """A submission folder (or a student's zip) called ``index.html`` made ``report/index.html/`` a
    folder, and the class summary could not be written: `grader report` stopped with IsADirectoryError."""
    results = [convolution_result("index.html"), convolution_result("INDEX.HTML"), convolution_result("wang_fang")]
    paths = render_reports(tmp_path, results, config)
    index = tmp_path / "report" / "index.html"
    assert paths[-1] == index and index.is_file()
    assert len(set(paths)) == 4 and all(p.is_file() for p in paths)
    text = index.read_text(encoding="utf-8")
    assert all(f'href="{p.relative_to(index.parent).as_posix()}"' in text for p in paths[:-1])


def test_render_reports_rereads_stored_results(config: CourseConfig, tmp_path: Path) -> None:
    for result in (convolution_result(), every_status_result()):
        write_result(tmp_path, result)
    paths = render_reports(tmp_path, load_results(tmp_path), config)
    assert paths == [report_path(tmp_path, "wang_fang", "01-convolution"),
                     report_path(tmp_path, "zhang_wei", "02-pooling"), tmp_path / "report" / "index.html"]
    page = Page(paths[0].read_text(encoding="utf-8"))
    assert page.text_of("score") == "90 / 100"
    assert message("failed.title", config.language) in page.text  # the course's language by default
    assert paths[0].relative_to(tmp_path).as_posix() == "report/wang_fang/01-convolution.html"


def test_render_reports_rejects_an_unknown_language(config: CourseConfig, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="received 'fr'"):
        render_reports(tmp_path, [convolution_result()], config, "fr")
    assert not (tmp_path / "report").exists()


# --- any stored value renders; one page's failure is its own -----------------------------------------


def old_record(public: bool) -> dict[str, object]:
    """A group's record as the grader wrote it before failures were codes: English words only."""
    return {"question": "conv2d", "group": "course example" if public else "valid mode", "public": public,
            "score": 0.0, "max_score": 5.0, "cases": 3, "passed_cases": 0, "extra_credit": False, "detail": "",
            "diagnosis": None, "failure": {
                "kind": "wrong", "message": "16 of 16 values differ; largest error 13 at index (1, 3): expected 42, "
                                            "got 29",
                "call": "conv2d([[ 2.,  3.], [ 6.,  1.]], [[4., 1.], [2., 3.]], 'full')", "input_shapes": ["(2, 2)"],
                "expected": [[6.0, 13], [20, 26]], "actual": [[8.0, 14], [28, 22]], "max_abs_diff": 13.0,
                "worst_index": [1, 1], "traceback": "", "signature": "conv2d(<array (2, 2) float64>, str)",
                "outline": "16 of 16 values differ"}}


def test_a_result_stored_before_failures_were_codes_still_renders(config: CourseConfig) -> None:
    data = convolution_result().to_json()
    data["grader"]["results"] = [old_record(True), old_record(False)]
    data["grader"]["notes"] = ["cell 3 raised SyntaxError: invalid syntax"]
    for key in ("note_codes", "reason"):
        del data["grader"][key]
    result = SubmissionResult.from_json(data)
    assert [n.text("zh") for n in result.notes] == ["cell 3 raised SyntaxError: invalid syntax"]
    for lang in LANGUAGES:
        text = Page(render_submission(result, config, lang)).text
        assert "16 of 16 values differ; largest error 13" in text  # the stored words, shown as they are
        assert "conv2d([[ 2., 3.], [ 6., 1.]], [[4., 1.], [2., 3.]], 'full')" in text  # the public call
        assert "conv2d(<array (2, 2) float64>, str)" in text  # the hidden one by its stored signature only
        assert text.count("6., 1.") == 1 and "cell 3 raised SyntaxError" in text


def test_a_huge_integer_answer_renders_and_keeps_the_class_report(config: CourseConfig, tmp_path: Path) -> None:
    """A function returned 10**400: grading stored it, and rendering raised OverflowError on every
    later run until the file was deleted by hand."""
    huge = Failure("wrong", "dtype", {"dtype": "object"}, call_of("output_size", (227, 11, 0, 4), {}), 55, 10**400)
    result = SubmissionResult("big", "03-parameter-counting", "g" * 64, "0.1.0", 1.0,
                              (group("output_size", "course example", 15, huge, public=True),
                               group("output_size", "floor and ceil", 15, huge)))
    write_result(tmp_path, result)
    write_result(tmp_path, convolution_result())
    paths = render_reports(tmp_path, load_results(tmp_path), config, "en")
    page = Page(paths[0].read_text(encoding="utf-8"))
    assert "1.000e+400" in page.text or "1000000000" in page.text  # the answer, shown as text
    assert "unrendered" not in Page(paths[-1].read_text(encoding="utf-8")).by_id


JSON_LEAF = (st.none() | st.booleans() | st.integers(min_value=-10**400, max_value=10**400)
             | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=6)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=40)
# what a result file's failure may hold, field by field, after a hand edit, an old grader or a bug
SMALL = st.one_of(JSON_LEAF, st.lists(JSON_LEAF, max_size=3))
ARGUMENTS = st.builds(Argument, type=SMALL, value=SMALL, name=SMALL,
                      shape=st.one_of(st.none(), st.lists(st.integers(-1, 5), max_size=3), JSON_LEAF),
                      array=st.one_of(st.none(), st.lists(st.floats() | st.integers(), max_size=4), JSON_LEAF))
FAILURES = st.builds(
    Failure,
    kind=st.sampled_from(["wrong", "error", "timeout", "missing", "unsupported", "crash", "odd"]),
    code=st.one_of(st.sampled_from(sorted(CATALOG)), JSON_LEAF),
    params=st.one_of(st.dictionaries(st.sampled_from(["count", "total", "name", "limit", "text", "ename", "evalue",
                                                      "path", "your_dtype", "expected", "actual", "index"]),
                                     SMALL, max_size=4), JSON_LEAF),
    call=st.one_of(st.none(), JSON_LEAF, st.builds(Call, function=SMALL, arguments=st.lists(ARGUMENTS, max_size=2)
                                                   .map(tuple), written=SMALL)),
    expected=JSON_VALUE | st.builds(lambda s, h: {"shape": s, "head": h}, JSON_VALUE, JSON_VALUE),
    actual=JSON_VALUE | st.builds(lambda s, h: {"shape": s, "head": h}, JSON_VALUE, JSON_VALUE),
    max_abs_diff=JSON_VALUE,
    worst_index=st.one_of(st.none(), st.lists(st.integers(-3, 40), max_size=4), JSON_VALUE),
    traceback=st.one_of(st.text(max_size=40), JSON_VALUE),
)
ODD_TESTS = st.builds(
    GroupResult,
    question=st.one_of(st.sampled_from(["conv2d", "im2col"]), JSON_VALUE),
    group=st.one_of(st.text(max_size=10), JSON_VALUE),
    public=st.one_of(st.booleans(), JSON_VALUE),
    score=JSON_VALUE, max_score=JSON_VALUE, cases=JSON_VALUE, passed_cases=JSON_VALUE,
    failure=st.one_of(st.none(), FAILURES),
    diagnosis=st.one_of(st.none(), st.just(FLIPPED)),
    extra_credit=st.one_of(st.booleans(), JSON_VALUE),
    detail=st.one_of(st.text(max_size=10), JSON_VALUE),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tests=st.lists(ODD_TESTS, min_size=1, max_size=4), score_field=JSON_VALUE,
       cells=st.lists(st.dictionaries(st.sampled_from(["index", "outcome", "ename", "evalue", "traceback",
                                                       "source_preview"]), JSON_VALUE), max_size=2),
       hidden_inputs=st.booleans())
def test_any_stored_value_renders(config: CourseConfig, tests: list[GroupResult], score_field: object,
                                  cells: list[dict[str, object]], hidden_inputs: bool) -> None:
    """Rendering is total: whatever JSON a result file holds, the student page and the index render."""
    result = SubmissionResult("s", "01-convolution", "h" * 64, "0.1.0", score_field, tuple(tests),  # type: ignore[arg-type]
                              tuple(cells), notes=(score_field,), error=score_field)  # type: ignore[arg-type]
    course = with_hidden_inputs(config) if hidden_inputs else config
    Page(render_submission(result, course, "en"))
    index = Page(render_index([result, convolution_result()], course, "zh"))
    assert "unrendered" not in index.by_id  # summarised, not left out


def test_deeply_nested_and_ragged_answers_render(config: CourseConfig) -> None:
    deep: object = 1.0
    for _ in range(5_000):
        deep = [deep]
    for expected, actual in ((deep, deep), ([[1, 2], [3]], [[1, 2], [3, 4]]), ([], []), ([[]], [[1.0]]),
                             (True, None), ({"shape": [10**400], "head": [1]}, {"shape": "x", "head": None})):
        failure = Failure("wrong", "text", {"text": "values differ"}, Call("f", (arg("x", "x"),)), expected, actual,
                          10**400, (0,))
        result = SubmissionResult("s", "01-convolution", "i" * 64, "0.1.0", 1.0,
                                  (group("conv2d", "public", 5, failure, public=True),))
        assert "values differ" in Page(render_submission(result, config, "en")).text


def test_one_page_that_fails_leaves_the_others_and_says_why(config: CourseConfig, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    import grader.publish.report.pages as pages

    real = pages.render_submission

    def broken_for_li_hua(result: SubmissionResult, *args: object, **kwargs: object) -> str:
        if result.student == "li_hua":
            raise RuntimeError("template exploded\nsecond line")
        return real(result, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "render_submission", broken_for_li_hua)
    results = [convolution_result("wang_fang"), convolution_result("li_hua"), every_status_result()]
    stale = report_path(tmp_path, "li_hua", "01-convolution")
    stale.parent.mkdir(parents=True)
    stale.write_text("an earlier run's page", encoding="utf-8")
    with caplog.at_level("ERROR", logger="grader.publish.report.pages"):
        paths = render_reports(tmp_path, results, config, "en")
    assert paths[-1] == tmp_path / "report" / "index.html"
    assert Page(report_path(tmp_path, "wang_fang", "01-convolution").read_text(encoding="utf-8")).text_of(
        "score") == "90 / 100"
    assert "zhang_wei" in Page(report_path(tmp_path, "zhang_wei", "02-pooling").read_text(encoding="utf-8")).text
    assert message("index.unrendered_page", "en") in stale.read_text(encoding="utf-8")  # not the stale page
    index = Page(paths[-1].read_text(encoding="utf-8"))
    assert index.text_of("unrendered").count("li_hua") == 1
    assert "RuntimeError: template exploded" in index.text_of("unrendered")
    assert "second line" not in index.text  # a short reason; the traceback is in the log
    assert "Traceback" in caplog.text and "template exploded" in caplog.text
    assert "wang_fang" in index.text_of("students") and "li_hua" in index.text_of("students")


def test_a_result_the_summary_cannot_read_is_listed_not_fatal(config: CourseConfig,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.publish.report.index as index_page

    real = index_page._problems

    def picky(result: SubmissionResult, t: object, *shared: object) -> list[str]:
        if result.student == "li_hua":
            raise ValueError("no idea")
        return real(result, t, *shared)  # type: ignore[arg-type]

    monkeypatch.setattr(index_page, "_problems", picky)
    index = Page(render_index([convolution_result("wang_fang"), convolution_result("li_hua")], config, "en"))
    assert "ValueError: no idea" in index.text_of("unrendered") and "li_hua" not in index.text_of("students")


def test_a_class_the_summary_can_read_is_summarised_at_once_not_per_result(config: CourseConfig,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.publish.report.index as index_page

    real, sizes = index_page._index_view, []

    def counting(results, *args):  # type: ignore[no-untyped-def]
        sizes.append(len(results))
        return real(results, *args)

    monkeypatch.setattr(index_page, "_index_view", counting)
    class_ = [convolution_result(f"s{i}") for i in range(30)]
    page = Page(render_index(class_, config, "en"))
    assert sizes == [30, 30] and all(f"s{i}" in page.text_of("students") for i in range(30))


def test_a_stored_parameter_the_catalog_cannot_format_keeps_the_result(config: CourseConfig, tmp_path: Path) -> None:
    """``{limit:g}`` of 10**400 raised OverflowError in from_json: the whole result was skipped."""
    data = convolution_result().to_json()
    data["grader"]["results"][0]["failure"].update(kind="timeout", code="timeout", params={"limit": 10**400},
                                                   message="the call did not finish in time")
    data["grader"]["note_codes"] = [{"code": "cell_timeout", "params": {"cell": 1, "detail": "x"}},
                                    {"code": "mistake.constant_factor", "params": {"factor": 10**400}}]
    result = SubmissionResult.from_json(data)
    assert result.tests[0].failure is not None and result.tests[0].failure.message == "the call did not finish in time"
    assert [n.code for n in result.notes] == ["cell_timeout"]
    assert "the call did not finish in time" in Page(render_submission(result, config, "en")).text


# --- one status per card, the optional question, the class page's means and shared cell errors ---------

def test_a_failed_card_says_its_status_once(config: CourseConfig) -> None:
    page = Page(render_submission(convolution_result(), config, "en"))
    failed = page.text_of("failed")
    assert message("status.partial", "en") not in failed  # the question's heading says its points, not a status
    assert message("test.points", "en", score="0", max="10") in failed  # conv2d: 10 of its 20 points lost
    assert failed.count(message("kind.wrong", "en")) == 2  # one badge on each of the two failed cards
    assert len([b for b in page.having_class("badge") if b.get("class") == "badge s-wrong"]) == 2
    assert "of 1 cases" not in failed  # a one-case group's card shows no case count (its badge says it)


def test_a_many_case_card_gives_its_case_count_as_a_detail(config: CourseConfig) -> None:
    failure = Failure("wrong", "text", {"text": "values differ"}, Call("conv2d", ()))
    result = SubmissionResult("s", "01-convolution", "a" * 64, "0.1.0", 1.0,
                              (dataclasses.replace(group("conv2d", "same mode", 10, failure), cases=4, passed_cases=3),))
    card = Page(render_submission(result, config, "en")).text_of("test-0")
    assert message("test.cases", "en", passed=3, total=4) in card and card.count(message("kind.wrong", "en")) == 1


def gender_result(*, rating: Failure | None, facts: object = None) -> SubmissionResult:
    tests = (group("load_faces", "hidden face set", 20), group("build_model", "architecture", 20),
             group("param_report", "your model's layers", 20), group("accuracy", "held-out accuracy", 40),
             group("build_rating_model", "regression output", 10, rating, extra_credit=True))
    return SubmissionResult("zhao_lei", "04-gender-cnn", "c" * 64, "0.1.0", 80.0, tests,
                            extras={"facts": facts} if facts is not None else {})


UNANSWERED = Failure("error", "not_implemented", {"evalue": ""})


@pytest.mark.parametrize("skipped", [UNANSWERED, Failure("missing", "no_function", {"name": "build_rating_model"})])
def test_an_optional_question_left_alone_is_not_a_failure(config: CourseConfig, skipped: Failure) -> None:
    for lang in LANGUAGES:
        page = Page(render_submission(gender_result(rating=skipped), config, lang))
        assert "failed" not in page.by_id  # nothing to fix: no failed section, no red
        assert message("summary.all_passed", lang) in page.text
        assert message("status.skipped", lang) in page.text_of("questions")
        assert {b.get("class") for b in page.having_class("badge")} == {"badge s-passed", "badge s-skipped"}
        assert "✗" not in page.text_of("questions") and "#test-4" not in {a.get("href") for a in page.all("a")}


def test_an_optional_question_attempted_and_wrong_is_a_failure(config: CourseConfig) -> None:
    wrong = Failure("wrong", "text", {"text": "the output should be Dense(1)"})
    page = Page(render_submission(gender_result(rating=wrong), config, "en"))
    assert "the output should be Dense(1)" in page.text_of("failed")


def test_the_class_page_shows_mean_points_and_a_colour_legend(config: CourseConfig) -> None:
    partly = Failure("wrong", "text", {"text": "one stride wrong"})
    ninety = dataclasses.replace(convolution_result("a", flipped=False), tests=tuple(
        dataclasses.replace(t, score=27.0, failure=partly) if t.question == "conv2d_layer" else t
        for t in convolution_result(flipped=False).tests))
    for lang in LANGUAGES:
        page = Page(render_index([ninety, dataclasses.replace(ninety, student="b")], config, lang))
        card = page.text_of("a-01-convolution")
        assert "27 / 30" in card and "✓ 0/2" in card  # nobody passed conv2d_layer in full, but 27 of 30 on average
        assert "20 / 20" in card and "✓ 2/2" in card
        legend = page.text_of("legend")
        assert all(message(f"legend.{s}", lang) in legend for s in ("passed", "partial", "wrong", "error"))


def cell_failing(student: str, index: int = 19, evalue: str = "im2col() got an unexpected keyword argument 'stride'",
                 ename: str = "TypeError") -> SubmissionResult:
    return dataclasses.replace(convolution_result(student, flipped=False), cells=(
        {"index": index, "outcome": "error", "ename": ename, "evalue": evalue, "source_preview": "check()"},))


def test_the_same_cell_error_in_many_submissions_is_marked_as_the_templates(config: CourseConfig) -> None:
    results = [cell_failing(f"s{i}") for i in range(19)] + [convolution_result(f"ok{i}") for i in range(20)]
    results += [cell_failing("odd", evalue="something of its own"), cell_failing("odd2", index=3),
                cell_failing("todo", ename="NotImplementedError", evalue="")]
    for lang in LANGUAGES:
        page = Page(render_index(results, config, lang))
        shared = page.text_of("shared-errors")
        assert message("index.shared_error_row", lang, count=19, cell=19, ename="TypeError",
                       evalue="im2col() got an unexpected keyword argument 'stride'") in shared
        assert message("index.likely_template", lang) in shared
        assert "something of its own" not in shared and "odd2" not in shared and "NotImplementedError" not in shared
        problems = page.text_of("problems")  # each of the 19 still listed, and marked
        assert problems.count(message("index.likely_template", lang)) == 19


@pytest.mark.parametrize(("sharing", "class_size", "shown"), [(2, 6, True), (2, 7, False), (3, 40, True), (1, 2, False)])
def test_a_shared_error_needs_three_students_or_a_third_of_the_class(config: CourseConfig, sharing: int,
                                                                      class_size: int, shown: bool) -> None:
    results = [cell_failing(f"s{i}") for i in range(sharing)]
    results += [convolution_result(f"ok{i}") for i in range(class_size - sharing)]
    page = Page(render_index(results, config, "en"))
    assert (message("index.likely_template", "en") in page.text_of("shared-errors")) is shown


# --- the gender CNN's facts: curves, held-out classes, layers ---------------------------------------------

GENDER_FACTS = {
    "curves": {"epochs": 3, "series": {"loss": [0.7, 0.5, 0.4], "val_loss": [0.72, 0.6, 0.55],
                                       "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.66, 0.75]}, "dropped": 0},
    "heldout": {"n": 300, "accuracy": 0.9167, "labels": ["male", "female"], "confusion": [[134, 16], [9, 141]],
                "other": [0, 0]},
    "layers": {"rows": [{"name": "conv2d", "class": "Conv2D", "params": 448},
                        {"name": "dense_7", "class": "Dense", "params": 262208}], "total": 262656, "dropped": 0},
}


def test_the_gender_page_draws_the_curves_the_classes_and_the_layers(config: CourseConfig) -> None:
    for lang in LANGUAGES:
        page = Page(render_submission(gender_result(rating=None, facts=GENDER_FACTS), config, lang))
        unit = page.text_of("unit")
        assert len([s for s in page.all("svg") if s.get("class") == "curves"]) == 2  # loss, accuracy
        lines = page.all("polyline")
        assert len(lines) == 4 and all(len(line["points"].split()) == 3 for line in lines)
        assert message("facts.heldout_accuracy", lang, accuracy="0.917", n=300) in unit
        assert message("facts.class.male", lang) in unit and "0.893" in unit and "0.940" in unit  # 134/150, 141/150
        assert "262,208" in unit and "262,656" in unit and "dense_7" in unit


HOSTILE_FACTS = {
    "curves": {"series": {"loss": [math.nan, 1e308, -math.inf, "x", 0.5] * 300_000, "<b>val_loss</b>": [1, 2],
                          "accuracy": "0.9"}, "dropped": -4},
    "heldout": {"n": 10, "accuracy": 0.5, "labels": ["<script>", "f"], "confusion": [[-1, 6], [3, 2]]},
    "layers": {"rows": [{"name": "<img src=x>", "class": "Dense", "params": 10**30}, {"name": "ok", "class": "D",
                                                                                    "params": 7}]},
}


def test_hostile_facts_render_bounded_and_escaped(config: CourseConfig) -> None:
    html = render_submission(gender_result(rating=None, facts=HOSTILE_FACTS), config, "en")
    page = Page(html)
    lines = page.all("polyline")
    assert lines and all(len(line["points"].split()) <= 1000 for line in lines)
    coordinates = [float(c) for line in lines for point in line["points"].split() for c in point.split(",")]
    assert all(math.isfinite(c) and -10 <= c <= 500 for c in coordinates)  # inside the chart, whatever was stored
    assert "<script>" not in html and "<img" not in html and "<b>val_loss" not in html
    assert message("facts.gaps", "en") in page.text_of("unit")
    assert message("facts.class.male", "en") not in page.text  # counts that do not add up: no per-class table
    assert "0.500" in page.text_of("unit") and "ok" in page.text_of("unit")
    assert len(html) < 400_000


def test_a_page_without_facts_or_with_problems_renders(config: CourseConfig) -> None:
    assert "unit" not in Page(render_submission(gender_result(rating=None), config, "en")).by_id
    problems = {"curves": {"problem": "facts.no_history"}, "heldout": {"problem": "facts.no_model"},
                "layers": {"problem": "facts.no_model"}}
    for lang in LANGUAGES:
        unit = Page(render_submission(gender_result(rating=None, facts=problems), config, lang)).text_of("unit")
        assert message("facts.no_history", lang) in unit and message("facts.no_model", lang) in unit


def test_facts_survive_the_stored_result(config: CourseConfig, tmp_path: Path) -> None:
    result = SubmissionResult.from_json(gender_result(rating=None, facts=GENDER_FACTS).to_json())
    assert len(Page(render_submission(result, config, "zh")).all("polyline")) == 4


def test_an_unanswered_question_has_one_card_with_one_status(config: CourseConfig) -> None:
    tests = tuple(group("max_pool2d", name, 5, UNANSWERED, public=True) for name in ("course example", "channels"))
    page = Page(render_submission(SubmissionResult("s", "02-pooling", "a" * 64, "0.1.0", 1.0, tests), config, "en"))
    assert page.text_of("failed").count(message("status.unanswered", "en")) == 1
    assert len(page.having_class("test")) == 1


def test_an_optional_function_missing_after_a_failed_cell_is_still_shown(config: CourseConfig) -> None:
    missing = Failure("missing", "no_function", {"name": "build_rating_model"})
    cell = {"index": 18, "outcome": "error", "ename": "ModuleNotFoundError", "evalue": "No module named 'cv2'"}
    result = dataclasses.replace(gender_result(rating=missing), cells=(cell,))
    page = Page(render_submission(result, config, "en"))
    assert "build_rating_model" in page.text_of("failed") and message("status.skipped", "en") not in page.text


def test_one_epoch_is_a_dot_and_predictions_outside_the_classes_get_a_column(config: CourseConfig) -> None:
    facts = {"curves": {"series": {"loss": [0.7]}},
             "heldout": {"n": 4, "accuracy": 0.25, "labels": ["male", "female"], "confusion": [[1, 0], [0, 0]],
                         "other": [1, 2]}}
    page = Page(render_submission(gender_result(rating=None, facts=facts), config, "en"))
    assert not page.all("polyline") and len(page.all("circle")) == 1
    unit = page.text_of("unit")
    assert message("facts.predicted_other", "en") in unit and "0.500" in unit and "0.000" in unit  # 1 of 2, 0 of 2
