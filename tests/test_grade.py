"""The grading engine end to end on small notebooks: scores, diagnoses, crashes and forgeries.

Each notebook runs in a real kernel. Known answers come from the course notes (the full/same/valid
table) through the reference; the student functions here are written in the notebooks themselves.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_facts import max_score, points as course_points
from grader.course.assignments import course_assignments
from grader.course.config import load_config
from grader.grade.notebook import grade_notebook
from grader.grade.prepare import prepare
from grader.judge.catalog import text
from grader.judge.results import SubmissionResult
from grader.publish.report import render_submission

from test_report import Page

ROOT = Path(__file__).resolve().parents[1]

CORRECT_CONV2D = '''
import numpy as np
def conv2d(x, k, mode="valid"):
    x = np.asarray(x, float); k = np.asarray(k, float)
    fh, fw = k.shape
    if mode == "full":
        x = np.pad(x, ((fh - 1, fh - 1), (fw - 1, fw - 1)))
    elif mode == "same":
        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))
    h, w = x.shape[0] - fh + 1, x.shape[1] - fw + 1
    return np.array([[np.sum(x[i:i + fh, j:j + fw] * k) for j in range(w)] for i in range(h)]).reshape(h, w)
'''


LIMIT = 10  # seconds, for a cell and for a call


@pytest.fixture(scope="module")
def setup():
    config = load_config(ROOT / "course.toml", environ={})
    # The hanging cells and calls below never end by themselves, so they meet these limits however
    # fast the machine is; the correct ones take milliseconds, far below them under any load.
    limits = dataclasses.replace(config.limits, cell_timeout=LIMIT, call_timeout=LIMIT, notebook_timeout=300)
    config = dataclasses.replace(config, limits=limits)
    assignment = course_assignments()["01-convolution"]
    return config, assignment, prepare(assignment, config)


def grade(tmp_path: Path, setup, *sources: str):
    config, assignment, prepared = setup
    path = tmp_path / "alice" / "01-convolution.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    result = grade_notebook(path, student="alice", assignment=assignment, prepared=prepared, config=config)
    return result, {t.name: t for t in result.tests}


def test_correct_flipped_hanging_and_crashing(tmp_path: Path, setup) -> None:
    result, tests = grade(
        tmp_path, setup,
        CORRECT_CONV2D,
        "def conv2d_multi(x, k):\n    return conv2d(x[:, :, 0], k[:, :, 0])",
        "import time\nwhile True:\n    time.sleep(0.1)",
        "def im2col(x, fh, fw, stride=1):\n    import os\n    os._exit(1)",
        "def conv2d_matmul(x, kernels, bias, stride=1):\n    while True:\n        pass",
    )
    points = result.question_scores()
    assert points["conv2d"] == 20, "every conv2d group passes, defined before the hanging cell"
    assert [t.passed_cases == t.cases for n, t in tests.items() if n.startswith("conv2d ·")] == [True] * 4
    assert tests["conv2d_multi · depth"].diagnosis.id == "first_channel_only"
    assert tests["im2col · patch matrix"].failure.kind == "crash"
    assert tests["conv2d_matmul · as a matrix product"].failure.kind == "timeout"
    assert tests["conv2d_layer · valid, stride 1"].failure.kind == "missing"
    assert any("cell 3 was stopped" in note.text("en") for note in result.notes), "Jupyter's number: In [3]"
    assert result.score == 20 and result.max_score == max_score("01-convolution")
    assert result.cells[0]["index"] == 2 and result.cells[0]["outcome"] == "timeout"
    assert result.cells[0]["number"] == 3 and result.cells[0]["cost"] == []  # nothing was left undefined by it
    json.dumps(result.to_json())


def test_a_call_that_never_returns_says_so_in_chinese_on_the_page(tmp_path: Path, setup) -> None:
    """The engine's timeout used to be words the report's pattern did not know ("did not finish in time
    (the limit is … s per call)" against "did not finish within N s"): a Chinese page showed it in
    English. Now it is a code with its limit, stored and read back as the gradebook keeps it."""
    config = setup[0]
    result, tests = grade(tmp_path, setup, CORRECT_CONV2D, "def conv2d_multi(x, k):\n    while True:\n        pass")
    failure = tests["conv2d_multi · depth"].failure
    assert failure is not None and (failure.kind, failure.code, dict(failure.params)) == ("timeout", "timeout",
                                                                                          {"limit": LIMIT})
    stored = SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))
    chinese = Page(render_submission(stored, config, "zh")).text
    assert text("timeout", "zh", limit=LIMIT) == "调用没有在时限内结束（每次调用限时 10 秒）"
    assert text("timeout", "zh", limit=LIMIT) in chinese and "did not finish" not in chinese
    english = Page(render_submission(stored, config, "en")).text
    assert "the call did not finish in time (the limit is 10 s per call)" in english


def test_flipped_kernel_is_diagnosed_and_correct_answer_is_not(tmp_path: Path, setup) -> None:
    flipped = CORRECT_CONV2D.replace("* k)", "* k[::-1, ::-1])")
    result, tests = grade(tmp_path, setup, flipped)
    groups = [t for t in result.tests if t.question == "conv2d"]
    assert all(t.score == 0 and t.diagnosis.id == "flipped_kernel" for t in groups)
    assert "cross-correlation" in groups[0].diagnosis.en
    good, _ = grade(tmp_path, setup, CORRECT_CONV2D)
    assert all(t.diagnosis is None for t in good.tests if t.question == "conv2d")


def test_forgeries_change_nothing(tmp_path: Path, setup) -> None:
    result, tests = grade(
        tmp_path, setup,
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True",
        "print('{\"score\": 100, \"max_score\": 100}')",
        "def conv2d(x, k, mode='valid'):\n    x[...] = 0\n    return np.zeros((1, 1))",
        "def conv2d_multi(x, k):\n    return np.array([object()], dtype=object)",
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
        "def im2col(x, fh, fw, stride=1):\n    return np.zeros((2, 2)).view(Liar)",
    )
    assert result.score == 0
    assert tests["conv2d · course example"].failure.kind == "wrong"
    assert tests["conv2d_multi · depth"].failure.kind == "unsupported"
    assert "subclass" in tests["im2col · patch matrix"].failure.message


def test_unreadable_notebook_gets_a_result_with_the_reason(tmp_path: Path, setup) -> None:
    config, assignment, prepared = setup
    path = tmp_path / "bob" / "01-convolution.ipynb"
    path.parent.mkdir()
    path.write_text('{"cells": [', encoding="utf-8")
    result = grade_notebook(path, student="bob", assignment=assignment, prepared=prepared, config=config)
    assert result.score == 0 and result.max_score == max_score("01-convolution")
    assert "01-convolution.ipynb: not a readable notebook" in result.error


def test_written_answer_files_and_v3_notebooks(tmp_path: Path, setup) -> None:
    forger = (
        "import glob, json, os, numpy as np\n"
        "def conv2d(x, k, mode='valid'):\n"
        "    for folder in glob.glob('.grader-exchange/*/'):\n"
        "        np.save(folder + 'r0.npy', np.full((9, 9), 7.0))\n"
        "        json.dump({'status': 'ok', 'value': {'__ndarray__': 'r0.npy'}}, open(folder + 'answer.json', 'w'))\n"
        "    return np.zeros((1, 1))"
    )
    result, tests = grade(tmp_path, setup, forger)
    # A question's calls share one cell, so a forger can rewrite the answers of its other calls too —
    # but only with values its own code computes: it gains nothing a plain return would not.
    assert result.question_scores()["conv2d"] == 0
    assert tests["conv2d · course example"].failure.message.endswith("but expected (4, 4)")

    config, assignment, prepared = setup
    v3 = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell(CORRECT_CONV2D)])])
    path = tmp_path / "old" / "01-convolution.ipynb"
    path.parent.mkdir()
    path.write_text(nbformat.writes(v3, version=3), encoding="utf-8")
    old = grade_notebook(path, student="old", assignment=assignment, prepared=prepared, config=config)
    assert old.question_scores()["conv2d"] == 20


def test_grader_process_imports_no_tensorflow_for_numpy_notebooks(tmp_path: Path) -> None:
    import subprocess
    import sys

    nb = tmp_path / "s" / "01-convolution.ipynb"
    nb.parent.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell(CORRECT_CONV2D)]), nb)
    script = (
        "import sys\nfrom pathlib import Path\nfrom grader.course.config import load_config\n"
        "from grader.course.assignments import course_assignments\nfrom grader.grade.notebook import grade_notebook\nfrom grader.grade.prepare import prepare\n"
        f"c = load_config({str(ROOT / 'course.toml')!r}); a = course_assignments()['01-convolution']\n"
        f"r = grade_notebook(Path({str(nb)!r}), student='s', assignment=a, prepared=prepare(a, c), config=c)\n"
        "assert r.question_scores()['conv2d'] == 20, r\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


GENDER_MODELS = '''
import keras
from keras import layers

def build_model(input_shape=(64, 64, 3)):
    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                             layers.Dense(2, activation="softmax")])

def build_rating_model(input_shape=(64, 64, 3)):
    return keras.Sequential([keras.Input(input_shape), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(1)])

def param_report(model):
    return {layer.name: layer.count_params() for layer in model.layers}

model = build_model()  # untrained: the accuracy earns nothing, the rest is graded all the same
'''


def test_a_gender_submission_starts_one_inspector_for_all_its_models(tmp_path: Path, monkeypatch) -> None:
    """build_model, the trained model and build_rating_model are three .keras files: one confined
    inspector process looks at all of them, starting TensorFlow once rather than three times."""
    from grader.course.faces import generate_faces
    from grader.run.inspect_model import Inspector

    starts = []
    real_start = Inspector._start

    def counted(self):
        starts.append(self)
        return real_start(self)

    monkeypatch.setattr(Inspector, "_start", counted)
    generate_faces(tmp_path / "faces", n_train=4, n_heldout=6, size=64, seed=5)
    config = load_config(ROOT / "course.toml", environ={})
    faces = dataclasses.replace(config.faces, train_dir=tmp_path / "faces" / "train",
                                heldout_dir=tmp_path / "faces" / "heldout")
    config = dataclasses.replace(config, faces=faces)
    assignment = course_assignments()["04-gender-cnn"]
    path = tmp_path / "amy" / "04-gender-cnn.ipynb"
    path.parent.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell(GENDER_MODELS)]), path)
    result = grade_notebook(path, student="amy", assignment=assignment, prepared=prepare(assignment, config),
                            config=config)
    points = result.question_scores()
    full = course_points("04-gender-cnn")
    assert {q: points[q] for q in ("build_model", "param_report", "build_rating_model")} == {
        q: full[q] for q in ("build_model", "param_report", "build_rating_model")}, result
    accuracy = next(t for t in result.tests if t.question == "accuracy")
    said = accuracy.failure or accuracy.detail
    assert said is not None and "on 6 images" in said.text("en") and "6 张留出图像" in said.text("zh")
    assert len(starts) == 1 and starts[0].starts == 1
    assert starts[0]._process is None and not starts[0].folder.exists(), "closed with the submission"
    # what the unit's instructor looks at, from the same inspector: the layers, the held-out classes
    facts = result.extras["facts"]
    assert facts["curves"] == {"problem": "facts.no_history"}  # this notebook never called fit
    assert [row["class"] for row in facts["layers"]["rows"]][-1] == "Dense" and facts["layers"]["total"] > 0
    assert facts["heldout"]["n"] == 6 and sum(map(sum, facts["heldout"]["confusion"])) + sum(facts["heldout"]["other"]) == 6
