"""The plain, typed records that grading produces and every later stage reads.

Data flows one way: a submission is executed (:mod:`grader.execute`), its answers are compared
(:mod:`grader.compare`) and diagnosed (:mod:`grader.diagnose`) into :class:`TestResult` records, which
make up one :class:`SubmissionResult`. The gradebook, the CSV and the reports only read these; they
never decide a score. ``to_json``/``from_json`` give Gradescope's ``results.json`` layout plus a
``grader`` object, so results cross processes (and Dask workers) as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
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
    "excerpt",
    "input_shapes",
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
    """The first failing case of a test group: enough to show the student what went wrong."""

    kind: Literal["wrong", "error", "timeout", "missing", "unsupported", "crash"]
    message: str
    call: str = ""
    input_shapes: tuple[str, ...] = ()
    expected: Any = None
    actual: Any = None
    max_abs_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    traceback: str = ""


def call_signature(function: str, args: Sequence[Any], kwargs: Mapping[str, Any], show_values: bool = False) -> str:
    """``conv2d(x: (5, 4), k: (2, 2), mode='same')`` — shapes for arrays, values otherwise.

    Here rather than in :mod:`grader.spec` so that the grader and the bundle's self-check (which
    ships this module) write a failing call the same way."""
    parts = [_show(a, show_values) for a in args]
    parts += [f"{k}={_show(v, show_values)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def input_shapes(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The shapes of the array arguments, in order, as text."""
    return tuple(f"{v.shape}" for v in [*args, *kwargs.values()] if isinstance(v, np.ndarray))


def _show(value: Any, show_values: bool) -> str:
    if isinstance(value, np.ndarray):
        if show_values and value.size <= 36:
            return np.array2string(value, separator=", ").replace("\n", "")
        return f"<array {value.shape} {value.dtype}>"
    if type(value).__name__ in ("Var", "FileArg"):  # grader.spec's argument markers, duck-typed
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
    return value


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


@dataclass(frozen=True)
class SubmissionResult:
    """One submission's grade. ``sandbox`` is how its kernel was isolated (``"bwrap"`` or
    ``"none"``); ``limits`` how each resource limit was really enforced (``cpu``, ``memory``,
    ``processes``, ``scratch``; see ``grader.sandbox.limits_in_force``), empty when no kernel ran."""

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
