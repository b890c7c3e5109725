"""04-gender-cnn (性别识别): loading the face data, building, counting and training a CNN.

``load_faces`` is compared as data on a small hidden face set. The other answers are Keras models:
the harness saves them as ``.keras`` files and the submission's :class:`grader.run.inspect_model.Inspector`
(``context.inspect``) looks at them in a confined process (``safe_mode=True``); the trained ``model``
is evaluated there on the held-out split, which never enters the student's scratch folder.
"""

from __future__ import annotations

import atexit
import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...judge.compare import compare
from ..config import CourseConfig
from ..faces import generate_faces
from ..reference.gender import load_faces
from ...judge.results import Diagnosis
from .counting import BIAS_EN, BIAS_ZH
from ..spec import VALUE, AssessContext, Assignment, Case, FileArg, Group, Mistake, Question, Var, Verdict

if TYPE_CHECKING:  # duck-typed at run time: course data imports nothing above it (pyproject's contracts)
    from ...run.decode import Answer, KerasFile
    from ...run.inspect_model import ModelReport

    Fetch = Callable[[str, Case], Answer]

TEN_UNITS = Diagnosis(
    "ten_output_units",
    "输出层有 10 个单元，但性别只有 2 类：用 Dense(2, softmax)（或 Dense(1, sigmoid)）。",
    "The output layer has 10 units but gender has 2 classes: use Dense(2, softmax) (or Dense(1, sigmoid)).",
)
INVERTED = Diagnosis(
    "labels_inverted",
    "性别标签反了：文件名以 m 开头是男性 → 0，以 f 开头是女性 → 1。",
    "The gender labels are inverted: a file name starting with m (male) is class 0, f (female) is class 1.",
)
BIAS = Diagnosis("bias_left_out", BIAS_ZH, BIAS_EN)  # the same mistake as in 03's counts
INPUT = (64, 64, 3)


def _face_fixture(rng: np.random.Generator) -> list[Case]:
    """A small hidden face set, generated once per run from the secret seed."""
    folder = Path(tempfile.mkdtemp(prefix="cnn-grader-faces-"))
    atexit.register(shutil.rmtree, folder, True)
    generate_faces(folder, n_train=10, n_heldout=2, size=48, seed=int(rng.integers(2**31)))
    files = folder / "train"
    return [Case((FileArg("FaceScore.csv"), FileArg("images")), {}, files),
            Case((FileArg("FaceScore.csv"), FileArg("images")), {"size": 32}, files)]


def _labels_inverted(csv_path: Any, image_dir: Any, size: int = 64) -> Any:
    X, y, ratings = load_faces(csv_path, image_dir, size)
    return X, 1 - y, ratings


def _not_normalised(csv_path: Any, image_dir: Any, size: int = 64) -> Any:
    X, y, ratings = load_faces(csv_path, image_dir, size)
    return X * 255, y, ratings


def _verdict(fraction: float, code: str, diagnosis: Diagnosis | None = None, kind: str = "wrong",
             **params: Any) -> Verdict:
    """A verdict worded by the catalog (``code``, ``params``), in the reader's language."""
    return Verdict(fraction, diagnosis=diagnosis, kind=kind, code=code, params=params)


def _model(fetch: Fetch, function: str, case: Case) -> KerasFile | Verdict:
    """The model ``function`` gives, or the zero verdict saying why there is none (kind ``error``)."""
    answer = fetch(function, case)
    if answer.status == "missing":
        if function == VALUE and case.args and isinstance(case.args[0], Var):
            return _verdict(0.0, "no_variable", kind="error", name=case.args[0].name)
        return _verdict(0.0, "no_function", kind="error", name=function)
    if answer.status != "ok":
        return _call_failed(function, answer)
    if not isinstance(getattr(answer.value, "path", None), Path):  # a KerasFile: no other decoded value has a path
        return _verdict(0.0, "assess.not_a_model", kind="error", function=function, type=type(answer.value).__name__)
    return answer.value


def _call_failed(function: str, answer: Answer) -> Verdict:
    """The zero verdict of a call that gave no value: its exception, or why the value was refused."""
    reason = answer.reason.to_json() if answer.reason is not None else answer.evalue
    if answer.status == "unsupported":
        problem = {"code": "unsupported", "params": {"reason": reason}}
    elif answer.status == "lost" and answer.reason is not None:  # the grader's own words: no exception
        problem = answer.reason.to_json()
    else:
        problem = {"code": "error", "params": {"ename": answer.ename or answer.status, "evalue": reason}}
    return _verdict(0.0, "assess.call_failed", kind="error", function=function, problem=problem)


def _report_error(part: dict[str, Any]) -> Verdict:
    """The zero verdict of an inspector report (or its evaluation) that says why there is none."""
    message = part.get("message")
    if isinstance(message, dict) and isinstance(message.get("code"), str):  # its parameters may be named anything
        return Verdict(0.0, kind="error", code=message["code"], params=dict(message.get("params") or {}))
    return _verdict(0.0, "text", kind="error", text=str(part["error"]))


def _inspected(context: AssessContext, function: str, case: Case, *, evaluate: bool = False,
               missing: str = "error") -> ModelReport | Verdict:
    """The inspector's report on the model ``function`` gives, or the zero verdict saying why not.
    The inspector caches per model file: param_report and accuracy look at the same trained
    ``model`` (one fetch, see grader.grade.calls) and it is loaded once."""
    file = _model(context.fetch, function, case)
    if isinstance(file, Verdict):
        return dataclasses.replace(file, kind=missing)
    report = context.inspect(file.path, evaluate=evaluate)
    return _report_error(report) if "error" in report else report


def _output(report: ModelReport) -> dict[str, Any]:
    dense = [layer for layer in report["layers"] if layer["class"] == "Dense"]
    return dense[-1]["config"] if dense else {}


def _assess_architecture(context: AssessContext, case: Case, config: CourseConfig) -> Verdict:
    report = _inspected(context, "build_model", case)
    if isinstance(report, Verdict):
        return report
    classes = [layer["class"] for layer in report["layers"]]
    convs = sum(c == "Conv2D" for c in classes)
    pools = sum(c in ("MaxPooling2D", "AveragePooling2D") for c in classes)
    output = _output(report)
    units, activation = output.get("units"), output.get("activation")
    if units == 10:
        return _verdict(0.0, "assess.ten_units", TEN_UNITS)
    if convs < 2 or pools < 2:
        return _verdict(0.0, "assess.few_blocks", convs=convs, pools=pools)
    if (units, activation) not in ((2, "softmax"), (1, "sigmoid")):
        return _verdict(0.0, "assess.output_layer", units=f"{units}", activation=f"{activation}")
    return _verdict(1.0, "assess.architecture", convs=convs, pools=pools, units=f"{units}", activation=f"{activation}")


def _assess_param_report(context: AssessContext, case: Case, config: CourseConfig) -> Verdict:
    report = _inspected(context, VALUE, Case((Var("model"),)), evaluate=True, missing="missing")
    if isinstance(report, Verdict):
        return report
    answer = context.fetch("param_report", case)
    if answer.status != "ok":
        return _call_failed("param_report", answer)
    expected = {layer["name"]: layer["params"] for layer in report["layers"]}
    result = compare(expected, answer.value, config.tolerance)
    if result.equal:
        return _verdict(1.0, "assess.param_report", layers=len(expected), params=f"{sum(expected.values()):,}")
    without_bias = {layer["name"]: layer["params"] - layer["bias_params"] for layer in report["layers"]}
    diagnosis = BIAS if compare(without_bias, answer.value, config.tolerance).equal else None
    return Verdict(0.0, diagnosis=diagnosis, code=result.code, params=result.params)


def _assess_accuracy(context: AssessContext, case: Case, config: CourseConfig) -> Verdict:
    report = _inspected(context, VALUE, case, evaluate=True, missing="missing")
    if isinstance(report, Verdict):
        return report
    evaluation = report["evaluation"]
    if "error" in evaluation:
        return _report_error(evaluation)
    accuracy, n = evaluation["accuracy"], evaluation["n"]
    low, high = config.faces.accuracy_zero, config.faces.accuracy_full
    fraction = (accuracy - low) / (high - low)
    diagnosis = None
    if _output(report).get("units") == 10:
        diagnosis = TEN_UNITS
    elif accuracy < 0.25:
        diagnosis = INVERTED
    return _verdict(fraction, "assess.accuracy", diagnosis, accuracy=f"{accuracy:.3f}", n=n, low=f"{low:.2f}",
                    high=f"{high:.2f}")


def _assess_rating(context: AssessContext, case: Case, config: CourseConfig) -> Verdict:
    report = _inspected(context, "build_rating_model", case, missing="missing")
    if isinstance(report, Verdict):
        return report
    output = _output(report)
    if (output.get("units"), output.get("activation")) != (1, "linear"):
        return _verdict(0.0, "assess.rating_output", units=f"{output.get('units')}",
                        activation=f"{output.get('activation')}")
    return _verdict(1.0, "assess.rating")


HISTORY_NAMES = ("history", "hist", "H")  # where notebooks keep what model.fit returned
CLASSES = ("male", "female")  # class 0 and class 1, as load_faces labels them


def _facts(context: AssessContext, config: CourseConfig) -> dict[str, Any]:
    """The training curves the notebook recorded, the trained ``model``'s held-out evaluation per
    class and its layers: raw, for grader.course.facts.checked to bound and validate."""
    facts: dict[str, Any] = {"curves": {"problem": "facts.no_history"}}
    for name in HISTORY_NAMES:
        answer = context.fetch(VALUE, Case((Var(name),)))
        if answer.status == "missing":
            continue
        facts["curves"] = {"series": answer.value} if answer.status == "ok" else {"problem": "facts.bad_history"}
        break
    report = _inspected(context, VALUE, Case((Var("model"),)), evaluate=True)
    if isinstance(report, Verdict):
        return {**facts, "heldout": {"problem": "facts.no_model"}, "layers": {"problem": "facts.no_model"}}
    evaluation = report.get("evaluation", {})
    heldout = {**evaluation, "labels": list(CLASSES)} if "error" not in evaluation else {"problem": "facts.no_evaluation"}
    return {**facts, "heldout": heldout, "layers": {"rows": report["layers"]}}


def _one(*cases: Case) -> Callable[[np.random.Generator], list[Case]]:
    return lambda rng: list(cases)


ASSIGNMENT = Assignment(
    id="04-gender-cnn",
    aliases=("性别识别", "性别", "gender"),
    preload=("numpy", "pandas", "matplotlib.pyplot", "PIL.Image", "keras", "tensorflow"),
    needs=("faces",),
    facts=_facts,
    questions=(
        Question("load_faces", load_faces, (Group("hidden face set", _face_fixture, zh="隐藏的人脸数据集"),), (
            Mistake("labels_inverted", _labels_inverted, INVERTED.zh, INVERTED.en),
            Mistake("not_normalised", _not_normalised,
                    "像素没有归一化：除以 255，使数值落在 [0, 1]。",
                    "The pixels are not scaled: divide by 255 so values lie in [0, 1]."),
        )),
        Question("build_model", None, (Group("architecture", _one(Case((INPUT,))), zh="模型结构"),), assess=_assess_architecture),
        Question("param_report", None, (Group("your model's layers", _one(Case((Var("model"),))), zh="你的模型各层"),),
                 assess=_assess_param_report),
        Question("accuracy", None, (Group("held-out accuracy", _one(Case((Var("model"),))), zh="保留测试集上的准确率"),),
                 assess=_assess_accuracy),
        Question("build_rating_model", None, (Group("regression output", _one(Case((INPUT,))), zh="回归输出"),),
                 optional=True, assess=_assess_rating),
    ),
)
