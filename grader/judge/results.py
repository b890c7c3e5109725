"""The plain, typed records that grading produces and every later stage reads.

Data flows one way: a submission is executed (:mod:`grader.run.execute`), its answers are compared
(:mod:`grader.judge.compare`) and diagnosed (:mod:`grader.judge.diagnose`) into :class:`TestResult` records, which
make up one :class:`SubmissionResult`. The gradebook, the CSV and the reports only read these; they
never decide a score. ``to_json``/``from_json`` give Gradescope's ``results.json`` layout plus a
``grader`` object, so results cross processes (and Dask workers) as data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

__all__ = [
    "Diagnosis",
    "Failure",
    "GraderError",
    "QuestionStatus",
    "SubmissionResult",
    "TestResult",
    "call_signature",
    "call_types",
    "excerpt",
    "for_student",
    "input_shapes",
    "short_paths",
    "student_view",
]

TestStatus = Literal["passed", "failed"]
QuestionStatus = Literal["passed", "partial", "wrong", "error", "timeout", "missing"]


@dataclass(frozen=True)
class Diagnosis:
    """A named mistake that explains a wrong answer, in both course languages."""

    id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Failure:
    """The first failing case of a test group: enough to show the student what went wrong.

    The record is the instructor's and keeps everything (``call`` with the input values,
    ``expected``, the largest error). What a student may see of a hidden group is the value-free
    pair ``signature`` (the call by types and shapes) and ``outline`` (the kind of difference
    without any expected value); :func:`student_view` makes that view."""

    kind: Literal["wrong", "error", "timeout", "missing", "unsupported", "crash"]
    message: str
    call: str = ""
    input_shapes: tuple[str, ...] = ()
    expected: Any = None
    actual: Any = None
    max_abs_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    traceback: str = ""
    signature: str = ""
    outline: str = ""


def call_signature(function: str, args: Sequence[Any], kwargs: Mapping[str, Any], show_values: bool = False) -> str:
    """``conv2d(x: (5, 4), k: (2, 2), mode='same')`` — shapes for arrays, values otherwise.

    Here rather than in :mod:`grader.course.spec` so that the grader and the bundle's self-check (which
    ships this module) write a failing call the same way."""
    parts = [_show(a, show_values) for a in args]
    parts += [f"{k}={_show(v, show_values)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def call_types(function: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """``output_size(int, int, int, int, str)``, ``conv2d(<array (5, 4) float64>, mode=str)``: the call
    of a hidden test as a student may read it, with no input value in it (arrays as their shapes)."""
    parts = [_type_of(a) for a in args] + [f"{k}={_type_of(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def _type_of(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape} {value.dtype}>"
    if type(value).__name__ == "Var":  # a variable of the student's own notebook: its name is no secret
        return str(getattr(value, "name", "variable"))
    if type(value).__name__ == "FileArg":
        return "file"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, np.generic):
        return type(value.item()).__name__
    return type(value).__name__


def input_shapes(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The shapes of the array arguments, in order, as text."""
    return tuple(f"{v.shape}" for v in [*args, *kwargs.values()] if isinstance(v, np.ndarray))


def _show(value: Any, show_values: bool) -> str:
    if isinstance(value, np.ndarray):
        if show_values and value.size <= 36:
            return np.array2string(value, separator=", ").replace("\n", "")
        return f"<array {value.shape} {value.dtype}>"
    if type(value).__name__ in ("Var", "FileArg"):  # grader.course.spec's argument markers, duck-typed
        return getattr(value, "name", None) or repr(getattr(value, "path", ""))
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def excerpt(value: Any, limit: int = 576) -> Any:
    """A JSON-friendly piece of an answer for a :class:`Failure`: arrays up to 576 values (24×24)
    whole, larger ones as their shape and first values, so a result file stays small."""
    if isinstance(value, np.ndarray):
        if value.size <= limit:
            return value.tolist()
        return {"shape": list(value.shape), "head": value.ravel()[:64].tolist()}
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [excerpt(v, limit) for v in value[:64]]
    if isinstance(value, dict):
        return {str(k): excerpt(v, limit) for k, v in list(value.items())[:64]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__name__ == "KerasFile":  # grader.run.decode's, duck-typed (the bundle ships this module)
        return "<a Keras model>"
    return f"<{type(value).__name__}>"  # a result file holds JSON only: one answer never stops it being written


@dataclass(frozen=True)
class GraderError:
    """The grader itself failed on this submission (a bug, or a file it could not write): not the
    student's doing, so the result carries no points and is never cached — the next run tries again.
    ``stage`` names where it happened (``read``, ``execute``, ``answers``, ``compare``, ``diagnose``,
    ``assess``, ``write``, ``grade``); ``traceback`` is for the instructor, never for a student page."""

    stage: str
    reason: str
    traceback: str = ""


@dataclass(frozen=True)
class TestResult:
    """One test group of one question: all-or-nothing on its cases."""

    question: str
    group: str
    public: bool
    score: float
    max_score: float
    cases: int
    passed_cases: int
    failure: Failure | None = None
    diagnosis: Diagnosis | None = None
    extra_credit: bool = False
    detail: str = ""

    __test__ = False  # not a pytest test class, whatever its name

    @property
    def status(self) -> TestStatus:
        return "passed" if self.failure is None else "failed"

    @property
    def name(self) -> str:
        return f"{self.question} · {self.group}"


# --- what a student may see ------------------------------------------------------------------------

# Installed packages and the standard library, as the instructor's machine has them
# (``/home/ta/course/.venv/lib/python3.11/site-packages/numpy/…``, ``/usr/lib/python3.11/json/…``):
# only the package-relative part (``numpy/…``, ``json/…``) says something to a student. The same
# for the submission's temporary folder (grader.grade.notebook.Workspace), ``/tmp/cnn-grader-k2j4/work/``.
# Paths are cut token by token (a token ends at white space, quotes, brackets), with no pattern
# that could backtrack over a megabyte the notebook printed.
_TOKEN_END = re.compile(r"""([\s"'`<>|,;()\[\]{}]+)""")
_PACKAGES = ("site-packages/", "dist-packages/", "site-packages\\", "dist-packages\\")
_STDLIB = re.compile(r"[/\\]lib[/\\]python\d+(?:\.\d+)?[/\\]")
_SCRATCH = re.compile(r"cnn-grader-[\w.-]{0,64}[/\\](?:(?:work|models)[/\\])?")
_PATH_CHARS = 4_096  # longer "tokens" are no path
_EXCEPTION_NAME = re.compile(r"^([A-Za-z_][\w.]{0,79})(?::|$)")
_FRAME = re.compile(r'^  File "[^"\n]{0,300}", line \d+, in [\w<>.]{1,80}$')


def short_paths(text: str) -> str:
    """``text`` with the instructor's paths cut to what a student can use: ``numpy/core/…`` for an
    installed package or the standard library, ``data.csv`` for a file of the scratch folder.

    They tell a student nothing and the instructor's machine layout is nobody else's business."""
    if not text or ("/" not in text and "\\" not in text):
        return text
    pieces = _TOKEN_END.split(text)
    return "".join(_short_path(piece) if i % 2 == 0 else piece for i, piece in enumerate(pieces))


def _short_path(token: str) -> str:
    if len(token) > _PATH_CHARS or ("/" not in token and "\\" not in token):
        return token
    cut = max(token.rfind(marker) + len(marker) if marker in token else 0 for marker in _PACKAGES)
    if not cut:
        stdlib = _STDLIB.search(token)
        cut = stdlib.end() if stdlib else 0
    scratch = _SCRATCH.search(token, cut)
    return token[scratch.end() if scratch else cut:]


def _frames_only(traceback: str) -> str:
    """The frames of a traceback (file, line, function and the source line under each), without the
    exception's message: in a hidden test that message may quote the hidden inputs
    (``IndexError: index 227 is out of bounds``). This stops the accidental quote, not a student set
    on it: the call runs in their kernel, so every text it sends back is theirs to choose (see the
    README, "Reports and exports"); what it can never carry is an expected value, which stays here."""
    kept: list[str] = []
    under = 0  # lines kept under the last frame: its source line and the carets
    for line in traceback.splitlines():
        if _FRAME.match(line):
            kept.append(line)
            under = 2
        elif under and line.startswith("    "):
            kept.append(line[:200])
            under -= 1
        else:
            under = 0
    return "\n".join(kept)


# grader.judge.diagnose's generic diagnoses that quote a number computed from the expected answer ("off by
# a constant factor, about 0.5×": expected = actual / 0.5): a hidden group says the same in words only.
_VALUE_FREE_DIAGNOSES = {
    "constant_factor": ("结果差了一个常数倍：检查是否多乘或多除了什么（例如窗口大小）。",
                        "Your answer is off by a constant factor: check for an extra multiplication or division "
                        "(e.g. by the window size)."),
    "constant_offset": ("结果整体偏移了一个常数：检查偏置是否加错了。",
                        "Your answer is off by a constant: check how the bias is added."),
}


def _hidden_diagnosis(diagnosis: Diagnosis | None) -> Diagnosis | None:
    if diagnosis is None or diagnosis.id not in _VALUE_FREE_DIAGNOSES:
        return diagnosis
    zh, en = _VALUE_FREE_DIAGNOSES[diagnosis.id]
    return Diagnosis(diagnosis.id, zh, en)


def _hidden_failure(failure: Failure, show_inputs: bool) -> Failure:
    """A hidden group's failure as its student sees it: the call by types and shapes (or with its
    inputs, when the course's ``show_hidden_inputs`` allows it), the kind of difference, and no
    expected value, no largest error and no position of it (expected = actual ± difference)."""
    name = failure.call.split("(", 1)[0][:80] if failure.call else ""
    call = failure.call if show_inputs else (
        failure.signature or (f"{name}({', '.join([*failure.input_shapes[:16], '…'])})" if name else ""))
    if not failure.call and failure.expected is None:
        message = failure.message  # nothing was called or compared (an unreadable notebook, an assessed model)
    elif failure.kind == "wrong":
        message = failure.outline or "the answer differs from the expected one"
    elif failure.kind == "error":
        match = _EXCEPTION_NAME.match(failure.message)
        ename = match.group(1) if match else "an exception"
        message = ename + (": (the message of an error in a hidden test is not shown)"
                           if failure.message.strip() != ename else "")
    elif failure.kind == "unsupported":
        message = "unsupported return value"
    else:  # missing, timeout, crash: the grader's own fixed words
        message = failure.message
    return Failure(failure.kind, short_paths(message), short_paths(call), failure.input_shapes,
                   traceback=short_paths(_frames_only(failure.traceback)), signature=failure.signature,
                   outline=failure.outline)


def student_view(test: TestResult, show_hidden_inputs: bool = False) -> TestResult:
    """``test`` as its student may see it (SPEC section 7, "Audiences").

    A public group shows everything (its inputs and answers ship in the student bundle anyway),
    with the instructor's paths shortened. A hidden group shows its question, group, shapes, the
    kind of difference and the diagnosis, never its inputs or expected values: a page that showed
    ``output_size(227, 11, 0, 4)`` and ``expected 55`` became a lookup table in nine resubmissions.
    ``show_hidden_inputs`` (``course.toml``) shows the hidden inputs, never the expected values."""
    failure = test.failure
    if failure is None:
        return test
    if test.public:
        shown = replace(failure, message=short_paths(failure.message), traceback=short_paths(failure.traceback))
        return replace(test, failure=shown)
    return replace(test, failure=_hidden_failure(failure, show_hidden_inputs), diagnosis=_hidden_diagnosis(test.diagnosis))


def for_student(result: SubmissionResult, show_hidden_inputs: bool = False) -> SubmissionResult:
    """The whole submission as its student may see it: every test through :func:`student_view`,
    the cells, notes and error with the instructor's paths shortened. The page, the Gradescope
    export and the self-check text all start from this, so no student-visible place is left out."""
    cells = tuple({k: short_paths(v) if isinstance(v, str) else v for k, v in dict(cell).items()}
                  if isinstance(cell, Mapping) else cell for cell in result.cells)
    return replace(result, tests=tuple(student_view(t, show_hidden_inputs) for t in result.tests), cells=cells,
                   notes=tuple(short_paths(n) if isinstance(n, str) else n for n in result.notes),
                   error=short_paths(result.error) if isinstance(result.error, str) else result.error)


@dataclass(frozen=True)
class SubmissionResult:
    """One submission's grade. ``sandbox`` is how its kernel was isolated (``"bwrap"`` or
    ``"none"``); ``limits`` how each resource limit was really enforced (``cpu``, ``memory``,
    ``processes``, ``scratch``; see ``grader.run.sandbox.limits_in_force``), empty when no kernel ran."""

    student: str
    assignment: str
    submission_sha256: str
    grader_version: str
    execution_time: float
    tests: tuple[TestResult, ...]
    cells: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    error: str = ""
    sandbox: str = "off"
    source: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)
    grader_error: GraderError | None = None

    @property
    def status(self) -> Literal["graded", "grader_error"]:
        return "graded" if self.grader_error is None else "grader_error"

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests if not t.extra_credit), 4)

    def question_scores(self) -> dict[str, float]:
        scores: dict[str, float] = {}
        for test in self.tests:
            scores[test.question] = round(scores.get(test.question, 0.0) + test.score, 4)
        return scores

    @property
    def diagnoses(self) -> list[dict[str, str]]:
        return [
            {"question": t.question, "group": t.group, **asdict(t.diagnosis)}
            for t in self.tests
            if t.diagnosis is not None
        ]

    def to_json(self) -> dict[str, Any]:
        """Gradescope ``results.json`` fields plus the ``grader`` object (SPEC section 7)."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": self.error,
            "tests": [
                {
                    "name": t.name,
                    "score": t.score,
                    "max_score": t.max_score,
                    "status": t.status,
                    "visibility": "visible",
                    "output": _test_output(t),
                }
                for t in self.tests
            ],
            "grader": {
                "student": self.student,
                "assignment": self.assignment,
                "submission_sha256": self.submission_sha256,
                "grader_version": self.grader_version,
                "sandbox": self.sandbox,
                "limits": dict(self.limits),
                "source": self.source,
                "error": self.error,
                "notes": list(self.notes),
                "diagnoses": self.diagnoses,
                "cells": [dict(c) for c in self.cells],
                "results": [_test_record(t) for t in self.tests],
                "extras": dict(self.extras),
                "status": self.status,
                "grader_error": asdict(self.grader_error) if self.grader_error else None,
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubmissionResult:
        g = data["grader"]
        for name in ("student", "assignment"):  # they name files and sort the class: text, or no result
            if not isinstance(g[name], str):
                raise TypeError(f"the result's {name} is {type(g[name]).__name__}, not text")
        return cls(
            student=g["student"],
            assignment=g["assignment"],
            submission_sha256=g["submission_sha256"],
            grader_version=g["grader_version"],
            execution_time=float(data["execution_time"]),
            tests=tuple(_test_from_record(r) for r in g["results"]),
            cells=tuple(g.get("cells", ())),
            notes=tuple(g.get("notes", ())),
            error=g.get("error", ""),
            sandbox=g.get("sandbox", "off"),
            source=g.get("source", ""),
            extras=g.get("extras", {}),
            grader_error=GraderError(**g["grader_error"]) if g.get("grader_error") else None,
            limits=g.get("limits", {}),
        )


def _test_output(test: TestResult) -> str:
    """The plain-text explanation Gradescope shows under a test."""
    if test.failure is None:
        return test.detail or f"{test.passed_cases}/{test.cases} cases passed"
    lines = [test.failure.message]
    if test.failure.call:
        lines.insert(0, f"call: {test.failure.call}")
    if test.diagnosis is not None:
        lines.append(f"diagnosis: {test.diagnosis.en} / {test.diagnosis.zh}")
    return "\n".join(lines)


def _test_record(test: TestResult) -> dict[str, Any]:
    record = asdict(test)
    if test.failure is not None:
        record["failure"]["input_shapes"] = list(test.failure.input_shapes)
        worst = test.failure.worst_index
        record["failure"]["worst_index"] = list(worst) if worst is not None else None
    return record


def _test_from_record(record: Mapping[str, Any]) -> TestResult:
    failure = record.get("failure")
    diagnosis = record.get("diagnosis")
    fields = {k: v for k, v in record.items() if k not in ("failure", "diagnosis")}
    if failure is not None:
        worst = failure.get("worst_index")
        failure = Failure(
            **{**failure, "input_shapes": tuple(failure.get("input_shapes", ())),
               "worst_index": tuple(worst) if worst is not None else None}
        )
    return TestResult(**fields, failure=failure, diagnosis=Diagnosis(**diagnosis) if diagnosis else None)
