"""The demo reports in a real browser: headless Chromium renders them, and they are not blank.

Skipped only on a developer machine without ``chromium``; with ``CI`` set a missing browser is a
failure, so a skipped test never counts as passing in CI (``.ci/run`` installs Debian's chromium).
Set ``REPORT_SHOTS_DIR`` to keep the screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.course.config import CourseConfig, load_config
from grader.classroom.gradebook import load_results, write_result
from grader.publish.report import render_reports, report_path
from grader.judge.catalog import Message
from grader.judge.results import Diagnosis, Failure, SubmissionResult, call_of
from grader.judge.results import TestResult as GroupResult  # pytest would collect a class called Test*

from browser import run_chromium

ROOT = Path(__file__).resolve().parents[1]
# --- the demo class (SPEC: examples/submissions), as stored results ----------------------------------


def passed(question: str, name: str, points: float, detail: str = "", extra: bool = False) -> GroupResult:
    return GroupResult(question, name, False, points, points, 3, 3, extra_credit=extra, detail=detail)


def failed(question: str, name: str, points: float, failure: Failure, diagnosis: Diagnosis | None = None,
           public: bool = False) -> GroupResult:
    return GroupResult(question, name, public, 0.0, points, 3, 0, failure, diagnosis)


FLIPPED = Diagnosis("flipped_kernel",
                    zh="卷积核被翻转了：这是数学上的真卷积，而本课程（和 Keras）用的是互相关，卷积核不翻转。",
                    en="Your kernel is flipped: this is true convolution, but the course (like Keras Conv2D) "
                       "uses cross-correlation, which does not flip the kernel.")
TEN_UNITS = Diagnosis("ten_output_units", zh="输出层有 10 个单元，但性别只有 2 类。",
                      en="The output layer has 10 units but gender has 2 classes: use Dense(2, softmax).")


def demo_class() -> list[SubmissionResult]:
    x = np.array([[2.0, 3, 8], [6, 1, 5], [7, 2, -1]])
    k = np.array([[4.0, 1], [2, 3]])
    expected = np.array([[6.0, 13, 30, 16], [20, 26, 37, 42], [27, 45, 10, 18], [7, 30, 7, -4]])
    actual = np.array([[8.0, 14, 35, 8], [28, 22, 46, 29], [40, 35, 11, 14], [14, 25, 4, -3]])
    params = {"count": 16, "total": 16, "largest": "13", "index": "(1, 3)", "expected": "42", "actual": "29"}
    flipped = Failure("wrong", "values_differ", params, call_of("conv2d", (x, k, "full"), {}), expected.tolist(),
                      actual.tolist(), 13.0, (1, 3))
    convolution_rest = [passed("conv2d_multi", "depth", 10), passed("conv2d_layer", "strides", 30),
                        passed("im2col", "patch matrix", 20), passed("conv2d_matmul", "as a matrix product", 20)]
    li_hua = SubmissionResult("li_hua", "01-convolution", "1" * 64, "0.1.0", 2.1,
                              (passed("conv2d", "course example", 10), passed("conv2d", "valid mode", 10),
                               *convolution_rest))
    wang_fang = SubmissionResult("wang_fang", "01-convolution", "2" * 64, "0.1.0", 6.7,
                                 (failed("conv2d", "course example", 10, flipped, FLIPPED, public=True),
                                  failed("conv2d", "valid mode", 10, flipped, FLIPPED), *convolution_rest))
    syntax = {"index": 3, "outcome": "error", "duration": 0.01, "source_preview": "def conv2d_params(:\n    pass",
              "ename": "SyntaxError", "evalue": "invalid syntax (2415954723.py, line 1)",
              "traceback": "  Cell In[2], line 1\n    def conv2d_params(:\n"
                           "                      ^\nSyntaxError: invalid syntax\n"}
    zhang_wei = SubmissionResult(
        "zhang_wei", "03-parameter-counting", "3" * 64, "0.1.0", 24.3,
        (failed("conv2d_params", "conv layers", 10,
                Failure("missing", "no_function", {"name": "conv2d_params"}, call_of("conv2d_params", (3, 3, 1, 32), {}))),
         passed("dense_params", "dense layers", 10), passed("conv_output_size", "Keras rules", 15),
         passed("output_size", "floor and ceil", 15), passed("layer_table", "course networks", 30),
         passed("cnn_forward", "forward pass", 20)),
        cells=(syntax,), notes=(Message("cell_error", {"cell": 3, "ename": "SyntaxError",
                                                      "evalue": "invalid syntax (2415954723.py, line 1)"}),))
    gender = SubmissionResult(
        "wang_fang", "04-gender-cnn", "4" * 64, "0.1.0", 119.8,
        (passed("load_faces", "hidden face set", 20),
         failed("build_model", "architecture", 20, Failure("wrong", "text", {"text": "the output layer has 10 units"}),
                TEN_UNITS),
         passed("param_report", "your model's layers", 20, "10 layers, 286,442 parameters"),
         passed("accuracy", "held-out accuracy", 40, "held-out accuracy 0.887 on 300 images"),
         passed("build_rating_model", "regression output", 10, "regression output Dense(1)", extra=True)),
        extras={"facts": GENDER_FACTS})
    return [li_hua, wang_fang, zhang_wei, gender]


EPOCHS = np.arange(40)
GENDER_FACTS = {  # what grader.course.assignments.gender gathers: the recorded history, held-out classes, layers
    "curves": {"series": {"loss": (0.7 * np.exp(-EPOCHS / 12) + 0.1).tolist(),
                          "val_loss": (0.7 * np.exp(-EPOCHS / 15) + 0.15).tolist(),
                          "accuracy": (0.95 - 0.45 * np.exp(-EPOCHS / 8)).tolist(),
                          "val_accuracy": (0.9 - 0.4 * np.exp(-EPOCHS / 8)).tolist()}},
    "heldout": {"n": 300, "accuracy": 0.903, "labels": ["male", "female"], "confusion": [[135, 15], [14, 136]],
                "other": [0, 0]},
    "layers": {"rows": [{"name": "conv2d", "class": "Conv2D", "params": 448},
                        {"name": "dense_1", "class": "Dense", "params": 650}]},
}
TRAIN_BLUE = np.array([0x09, 0x69, 0xDA])  # the training curve's stroke (templates/_macros.html.j2)


PAGES = [  # (student, assignment, language, the score the page must show)
    ("li_hua", "01-convolution", "en", "100 / 100"),
    ("wang_fang", "01-convolution", "zh", "80 / 100"),
    ("wang_fang", "01-convolution", "en", "80 / 100"),
    ("zhang_wei", "03-parameter-counting", "en", "90 / 100"),
    ("wang_fang", "04-gender-cnn", "zh", "90 / 100"),
]


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    config: CourseConfig = load_config(ROOT / "course.toml", environ={})
    folders = {}
    for lang in ("zh", "en"):
        out = tmp_path_factory.mktemp(f"demo-{lang}")
        for result in demo_class():
            write_result(out, result)
        render_reports(out, load_results(out), config, lang)  # what `grader report DIR` does
        folders[lang] = out
    return folders


def not_blank(png: Path) -> None:
    image = Image.open(png).convert("RGB")
    assert image.width >= 800 and image.height >= 600
    pixels = np.asarray(image.resize((image.width // 4, image.height // 4))).reshape(-1, 3)
    inked = int((pixels.min(axis=1) < 200).sum())
    assert inked > 0.01 * len(pixels), f"{png.name}: the page looks blank"
    assert len(np.unique(pixels, axis=0)) > 50, f"{png.name}: the page has almost no colours"


def element_text(dom: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', dom, re.DOTALL)
    assert match, f"no element with id={element_id!r} in the rendered DOM"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(2)))).strip()


def test_demo_reports_render_in_chromium(chromium: str, demo_reports: dict[str, Path], tmp_path: Path) -> None:
    jobs = []
    for student, assignment, lang, score in PAGES:
        page = report_path(demo_reports[lang], student, assignment)
        jobs.append((page, f"{student}-{assignment}-{lang}", score))
    index = demo_reports["zh"] / "report" / "index.html"
    jobs.append((index, "index-zh", None))

    def shoot(job: tuple[Path, str, str | None]) -> tuple[Path, str]:
        page, name, _ = job
        png = tmp_path / f"{name}.png"
        run_chromium(chromium, page.as_uri(), "--window-size=1100,2600", f"--screenshot={png}")
        dom = run_chromium(chromium, page.as_uri(), "--dump-dom").stdout
        return png, dom

    with ThreadPoolExecutor(max_workers=3) as pool:
        shots = list(pool.map(shoot, jobs))
    keep = os.environ.get("REPORT_SHOTS_DIR")
    for (_, name, score), (png, dom) in zip(jobs, shots):
        assert png.is_file(), f"{name}: no screenshot"
        not_blank(png)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(keep) / png.name)
        if score is not None:
            assert element_text(dom, "score") == score, name
        else:  # the class summary: scores in the table, and its sort script ran under the CSP
            table = element_text(dom, "student-table")
            assert "wang_fang" in table and "80 / 100" in table and "90 / 100" in table
            assert re.search(r'<th[^>]*data-type="number"[^>]*tabindex="0"', dom), "the sort script did not run"
    wang_fang_zh = next(dom for (_, name, _), (_, dom) in zip(jobs, shots) if name == "wang_fang-01-convolution-zh")
    assert "卷积核被翻转了" in wang_fang_zh and "Your kernel is flipped" in wang_fang_zh

    # the gender page draws the recorded curves (inline SVG, no script) and the per-class table
    (png, gender_dom), = [shot for (_, name, _), shot in zip(jobs, shots) if name == "wang_fang-04-gender-cnn-zh"]
    assert gender_dom.count("<polyline") == 4 and "135" in element_text(gender_dom, "unit")
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.abs(pixels - TRAIN_BLUE).sum(axis=1) < 12).sum() > 200, "no training curve was drawn"
