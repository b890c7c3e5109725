"""The plain, typed records that grading produces and every later stage reads.

Data flows one way: a submission is executed (:mod:`grader.run.execute`), its answers are compared
(:mod:`grader.judge.compare`) and diagnosed (:mod:`grader.judge.diagnose`) into :class:`TestResult` records, which
make up one :class:`SubmissionResult`. The gradebook, the CSV and the reports only read these; they
never decide a score. ``to_json``/``from_json`` give Gradescope's ``results.json`` layout plus a
``grader`` object, so results cross processes (and Dask workers) as data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from .catalog import CATALOG, LANGUAGES, Message, render

__all__ = [
    "KINDS",
    "Argument",
    "Late",
    "Call",
    "Diagnosis",
    "Failure",
    "GraderError",
    "Message",
    "QuestionStatus",
    "StudentRecord",
    "SubmissionResult",
    "Submitted",
    "TestResult",
    "call_of",
    "cell_error",
    "excerpt",
    "is_exception_name",
]

TestStatus = Literal["passed", "failed"]
QuestionStatus = Literal["passed", "partial", "wrong", "error", "timeout", "missing"]


@dataclass(frozen=True)
class Diagnosis:
    """A named mistake that explains a wrong answer, in both course languages."""

    id: str
    zh: str
    en: str


Kind = Literal["wrong", "error", "timeout", "missing", "unsupported", "crash"]
KINDS: tuple[Kind, ...] = ("wrong", "error", "timeout", "missing", "unsupported", "crash")


@dataclass(frozen=True)
class Argument:
    """One argument of a :class:`Call`. ``type`` is how a hidden test shows it (``<array (5, 4)
    float64>``, ``int``, ``model``, ``file``, ``list of 3``); ``value`` how it is written with its
    value (``2``, ``'same'``, a small array's ``[[1., 2.], [3., 4.]]``), empty in a student's view of
    a hidden test; ``array`` the values of a small numeric array (at most 36), kept with ``value``,
    so that a page can draw it without reading the text back."""

    type: str
    value: str = ""
    name: str = ""  # the keyword; empty for a positional argument
    shape: tuple[int, ...] | None = None  # arrays only
    array: Any = None

    def written(self) -> str:
        return (f"{self.name}=" if self.name else "") + (self.value or self.type)


@dataclass(frozen=True)
class Call:
    """The failing call: the function and its arguments, as data. ``written`` is the call of a
    result stored by an older grader, as text: shown as it is, never read back."""

    function: str
    arguments: tuple[Argument, ...] = ()
    written: str = ""

    def text(self) -> str:
        """``conv2d([[2, 3], [6, 1]], <array (5, 5) float64>, mode='same')``; a hidden argument by its type."""
        if self.written:
            return self.written
        return f"{self.function}({', '.join(a.written() for a in self.arguments)})"

    def shapes(self) -> tuple[str, ...]:
        """The shapes of the array arguments, in order, as text."""
        return tuple(f"{a.shape}" for a in self.arguments if a.shape is not None)

    def without_values(self) -> Call:
        """The call as a hidden test shows it: every argument by its type and shape."""
        return replace(self, arguments=tuple(replace(a, value="", array=None) for a in self.arguments))

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {"function": self.function, "arguments": [
            {k: (list(v) if k == "shape" and v is not None else v) for k, v in asdict(a).items()}
            for a in self.arguments]}
        if self.written:
            record["written"] = self.written
        return record


@dataclass(frozen=True)
class Failure:
    """The first failing case of a test group: enough to show the student what went wrong.

    What went wrong is data: ``code`` names a message of :mod:`grader.judge.catalog` and ``params``
    holds its values (``timeout{limit}``, ``values_differ{count, total, largest, index, expected,
    actual}``, …; ``path`` locates a difference inside a nested answer), so every reader words it in
    its own language (:meth:`text`). The record is the instructor's and keeps everything (``call``
    with the input values, ``expected``, the largest error);
    :func:`grader.judge.audience.student_view` makes what a student may see of a hidden group."""

    kind: Kind
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    call: Call | None = None
    expected: Any = None
    actual: Any = None
    max_abs_diff: float | None = None
    worst_index: tuple[int, ...] | None = None
    traceback: str = ""

    def text(self, lang: str) -> str:
        return render(self.code, self.params, lang)

    @property
    def message(self) -> str:
        """The English words (Gradescope's output, logs, the validation summary)."""
        return self.text("en")

    @property
    def ename(self) -> str:
        """The exception's name, for a failure that is one ('' otherwise)."""
        if self.code == "not_implemented":
            return "NotImplementedError"
        return str(self.params.get("ename", "")) if self.code in ("error", "hidden_error") else ""

    @property
    def unanswered(self) -> bool:
        """The released template's answer: the function still raises NotImplementedError."""
        return self.kind == "error" and self.ename == "NotImplementedError"


def is_exception_name(ename: Any) -> bool:
    """A dotted Python name of at most 80 characters (``ValueError``, ``numpy.linalg.LinAlgError``)."""
    return isinstance(ename, str) and 0 < len(ename) <= 80 and all(part.isidentifier() for part in ename.split("."))


def call_of(function: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Call:
    """The structured :class:`Call` of ``function(*args, **kwargs)``, values included (the
    instructor's record; :meth:`Call.without_values` is a hidden test's).

    Here rather than in :mod:`grader.course.spec` so that the grader and the bundle's self-check (which
    ships this module) write a failing call the same way."""
    return Call(function, tuple(_argument(v) for v in args) + tuple(_argument(v, k) for k, v in kwargs.items()))


def _argument(value: Any, name: str = "") -> Argument:
    shape = tuple(int(n) for n in value.shape) if isinstance(value, np.ndarray) else None
    small = isinstance(value, np.ndarray) and value.size <= 36 and value.dtype.kind in "iuf" and value.ndim >= 1
    return Argument(_type_of(value), _show(value), name, shape, value.tolist() if small else None)


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


def _show(value: Any) -> str:
    """An argument's value as a call shows it: a small array in full, a larger one by shape and dtype."""
    if isinstance(value, np.ndarray):
        if value.size <= 36:
            return np.array2string(value, separator=", ").replace("\n", "")
        return f"<array {value.shape} {value.dtype}>"
    if type(value).__name__ in ("Var", "FileArg"):  # grader.course.spec's argument markers, duck-typed
        return getattr(value, "name", None) or repr(getattr(value, "path", ""))
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def cell_error(index: int, ename: str, evalue: str, limit: int = 300) -> Message:
    """``cell 3 raised ValueError: …``, its English words cut to ``limit`` characters (as they
    always were), the cut made in the parameters so that every language shows the same part."""
    head = len(f"cell {index} raised ")
    ename = ename[:max(0, limit - head)]
    evalue = evalue[:max(0, limit - head - len(ename) - 2)]
    return Message("cell_error", {"cell": index, "ename": ename, "evalue": evalue})


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
    """One test group of one question: all-or-nothing on its cases. ``detail`` is what a passed
    assessed group found (``held-out accuracy 0.87 on 200 images …``), as a message; a text given
    instead (an older grader's stored words) is kept as the ``text`` message."""

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
    detail: Message | None = None
    # The student's own earlier functions (questions that lost points) that this one calls, where its
    # mistake may come from: found in the notebook's source (grader.grade.causes), never by running it.
    inherited_from: tuple[str, ...] = ()
    # Of those, the ones seen answering wrongly inside this function's failing cases (their arguments
    # and answers came back from the call and disagree with their reference): shown, not inferred.
    inherited_seen: tuple[str, ...] = ()
    # The group's title in Chinese (its declaration's ``zh``); ``group`` stays its identity. Empty in a
    # result an older grader stored: a Chinese page then shows the English name.
    group_zh: str = ""
    # The digests (grader.grade.digest) of this group's wrong answers, one per failing case that
    # returned a value with a signal, as "CASE:DIGEST" (CASE its index in the group): the class-wide
    # similarity pass compares them; nothing on any page shows them.
    wrong: tuple[str, ...] = ()

    __test__ = False  # not a pytest test class, whatever its name

    def __post_init__(self) -> None:
        if isinstance(self.detail, str):
            object.__setattr__(self, "detail", Message("text", {"text": self.detail}) if self.detail else None)

    @property
    def status(self) -> TestStatus:
        return "passed" if self.failure is None else "failed"

    @property
    def name(self) -> str:
        return f"{self.question} · {self.group}"

    def group_title(self, lang: str) -> str:
        """The group as a reader in ``lang`` sees it: its Chinese title when known, else its name."""
        return self.group_zh if lang == "zh" and self.group_zh else self.group

    def inherited(self) -> Message | None:
        """Where this failure's mistake comes from, when it calls the student's own earlier functions
        that lost points: shown (they answered wrongly inside its failing cases) or inferred from the
        source only (then worded as a possibility)."""
        if self.inherited_seen:
            return Message("cause.inherited_seen", {"function": self.question, "uses": ", ".join(self.inherited_seen)})
        if self.inherited_from:
            return Message("cause.inherited", {"function": self.question, "uses": ", ".join(self.inherited_from)})
        return None


@dataclass(frozen=True)
class StudentRecord:
    """Who a submission is from, as the course's LMS knows them (made by :mod:`grader.intake`).

    ``key`` is the grader's own name for the student, the same as :attr:`SubmissionResult.student`:
    it names ``results/KEY/`` and the gradebook's rows, so it stays the same across resubmissions
    and runs. The rest is what an export needs to match a row back to the LMS's student: ``lms`` is
    where the record came from (``canvas``, ``moodle``, ``blackboard``, ``gradescope``, ``nbgrader``,
    ``roster``; empty for a plain folder), ``lms_id`` that system's own id of the student (Canvas's
    user id, Moodle's participant id, Blackboard's user name, Gradescope's user id), ``sis_id`` and
    ``login`` the institution's ids when known. Every field is text; empty means unknown."""

    key: str
    name: str = ""
    email: str = ""
    lms: str = ""
    lms_id: str = ""
    sis_id: str = ""
    login: str = ""

    @property
    def display(self) -> str:
        """The name to show a person: the display name, else the key."""
        return self.name or self.key


@dataclass(frozen=True)
class Submitted:
    """When a submission was handed in, and how the grader knows (made by :mod:`grader.intake`).

    ``at`` is ISO 8601 with its UTC offset, empty when unknown; ``source`` says where it (or
    ``late``) came from (``canvas_name``, ``moodle_worksheet``, ``blackboard_receipt``,
    ``gradescope_metadata``, ``nbgrader_timestamp``, ``zip_entry``, ``file_mtime``); ``late`` is the
    LMS's own late flag when it gives one (Canvas marks late files in their names) and ``attempt``
    its resubmission number (Canvas's ``-N``, Blackboard's attempt), 0 when it gives none."""

    at: str = ""
    source: str = ""
    late: bool | None = None
    attempt: int = 0


@dataclass(frozen=True)
class Late:
    """What the course's late policy took off one submission (made by the classroom stage, never by
    grading: the same notebook handed in later keeps its raw score). ``penalty`` is in points, at most
    the raw score; ``due`` and ``at`` are ISO 8601 with offsets, ``source`` is where ``at`` came from
    (:attr:`Submitted.source`), ``seconds`` how late it was after any grace period, ``rule`` the
    policy in force, in words for people (its parameters are in ``course.toml``)."""

    due: str = ""
    at: str = ""
    source: str = ""
    seconds: float = 0.0
    penalty: float = 0.0
    rule: str = ""


def _text_fields(cls: type, record: Any) -> Any:
    """``cls`` from a stored mapping, keeping only its fields whose values have the declared kind
    (a hand-edited result may hold anything; a field that does not fit is left at its default)."""
    if not isinstance(record, Mapping):
        return None
    kinds = {"str": str, "int": int, "bool | None": bool, "float": (int, float)}
    values = {}
    for name, declared in cls.__dataclass_fields__.items():  # type: ignore[attr-defined]
        value = record.get(name)
        kind = kinds.get(str(declared.type), str)
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            continue
        if kind == (int, float):
            if not math.isfinite(value := float(value)):  # json.loads reads 1e400 as inf
                continue
        values[name] = value
    try:
        return cls(**values)
    except TypeError:  # a required field (StudentRecord.key) missing
        return None


@dataclass(frozen=True)
class SubmissionResult:
    """One submission's grade. ``sandbox`` is how its kernel was isolated (``"bwrap"``, ``"user"``:
    an unprivileged account, or ``"off"``; older results say ``"none"``); ``limits`` how each resource limit was really enforced (``cpu``, ``memory``,
    ``processes``, ``scratch``; see ``grader.run.sandbox.limits_in_force``), empty when no kernel ran.

    ``notes`` are :class:`~grader.judge.catalog.Message` records (a text given instead is kept as
    the ``text`` message); ``reason`` is why the submission could not be graded, as a message, and
    ``error`` its English words (made from ``reason`` when only that is given)."""

    student: str
    assignment: str
    submission_sha256: str
    grader_version: str
    execution_time: float
    tests: tuple[TestResult, ...]
    cells: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[Message, ...] = ()
    error: str = ""
    sandbox: str = "off"
    source: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, str] = field(default_factory=dict)
    grader_error: GraderError | None = None
    reason: Message | None = None
    identity: StudentRecord | None = None  # who, as the LMS knows them; None: only the key is known
    submitted: Submitted | None = None  # when, and how the grader knows; None: not known
    late: Late | None = None  # the late policy's penalty; None: on time, or no policy

    def __post_init__(self) -> None:
        if isinstance(self.notes, (tuple, list)) and any(isinstance(n, str) for n in self.notes):
            object.__setattr__(self, "notes", tuple(Message("text", {"text": n}) if isinstance(n, str) else n
                                                     for n in self.notes))
        if isinstance(self.reason, Message) and not self.error:
            object.__setattr__(self, "error", self.reason.text("en"))

    def error_text(self, lang: str) -> str:
        """Why the submission could not be graded, in ``lang`` ('' when it was graded)."""
        return self.reason.text(lang) if isinstance(self.reason, Message) else self.error

    @property
    def status(self) -> Literal["graded", "grader_error"]:
        return "graded" if self.grader_error is None else "grader_error"

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests if not t.extra_credit), 4)

    @property
    def penalty(self) -> float:
        """Points the late policy took off (0 when on time)."""
        return round(min(max(self.late.penalty, 0.0), self.score), 4) if self.late is not None else 0.0

    @property
    def final_score(self) -> float:
        """The score after the late penalty: what goes into the LMS. ``score`` stays the raw one."""
        return round(self.score - self.penalty, 4)

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
        """Gradescope ``results.json`` fields plus the ``grader`` object (SPEC section 7). Every
        message is there as data (``code``/``params``) and, for people reading the file, in English
        (``output``, ``error``, ``notes``, a failure's ``message``): the words are never read back."""
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
                "reason": self.reason.to_json() if self.reason is not None else None,
                "notes": [n.text("en") for n in self.notes],
                "note_codes": [n.to_json() for n in self.notes],
                "diagnoses": self.diagnoses,
                "cells": [dict(c) for c in self.cells],
                "results": [_test_record(t) for t in self.tests],
                "extras": dict(self.extras),
                "status": self.status,
                "grader_error": asdict(self.grader_error) if self.grader_error else None,
                "identity": asdict(self.identity) if self.identity is not None else None,
                "submitted": asdict(self.submitted) if self.submitted is not None else None,
                "late": asdict(self.late) if self.late is not None else None,
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubmissionResult:
        """The result ``to_json`` wrote, or one an older grader wrote (messages as English text
        only: each is kept as the ``text`` message and shown as it is)."""
        g = data["grader"]
        for name in ("student", "assignment"):  # they name files and sort the class: text, or no result
            if not isinstance(g[name], str):
                raise TypeError(f"the result's {name} is {type(g[name]).__name__}, not text")
        codes = g.get("note_codes")
        notes = ([_message(n) for n in codes] if isinstance(codes, list)
                 else [Message("text", {"text": n}) for n in g.get("notes", ())])
        return cls(
            student=g["student"],
            assignment=g["assignment"],
            submission_sha256=g["submission_sha256"],
            grader_version=g["grader_version"],
            execution_time=float(data["execution_time"]),
            tests=tuple(_test_from_record(r) for r in g["results"]),
            cells=tuple(g.get("cells", ())),
            notes=tuple(n for n in notes if n is not None),
            error=g.get("error", ""),
            sandbox=g.get("sandbox", "off"),
            source=g.get("source", ""),
            extras=g.get("extras", {}),
            grader_error=GraderError(**g["grader_error"]) if g.get("grader_error") else None,
            limits=g.get("limits", {}),
            reason=_message(g["reason"]) if g.get("reason") is not None else None,
            identity=_text_fields(StudentRecord, g.get("identity")),
            submitted=_text_fields(Submitted, g.get("submitted")),
            late=_text_fields(Late, g.get("late")),
        )


def _test_output(test: TestResult) -> str:
    """The plain-text explanation Gradescope shows under a test, in English."""
    if test.failure is None:
        return test.detail.text("en") if test.detail is not None else f"{test.passed_cases}/{test.cases} cases passed"
    lines = [test.failure.message]
    if test.failure.call is not None:
        lines.insert(0, f"call: {test.failure.call.text()}")
    if test.diagnosis is not None:
        lines.append(f"diagnosis: {test.diagnosis.en} / {test.diagnosis.zh}")
    hint = test.failure.params.get("hint")
    if isinstance(hint, Mapping) and isinstance(hint.get("code"), str) and hint["code"] in CATALOG:
        lines.append(f"hint: {render(hint['code'], hint.get('params', {}), 'en')}")
    if (inherited := test.inherited()) is not None:
        lines.append(f"cause: {inherited.text('en')}")
    return "\n".join(lines)


def _test_record(test: TestResult) -> dict[str, Any]:
    record = asdict(test)
    record["detail"] = test.detail.to_json() if test.detail is not None else None
    failure = test.failure
    if failure is not None:
        worst = failure.worst_index
        record["failure"] = {
            "kind": failure.kind, "code": failure.code, "params": dict(failure.params), "message": failure.message,
            "call": failure.call.to_json() if failure.call is not None else None,
            "expected": failure.expected, "actual": failure.actual, "max_abs_diff": failure.max_abs_diff,
            "worst_index": list(worst) if worst is not None else None, "traceback": failure.traceback,
        }
    return record


def _renders(code: Any, params: Any) -> bool:
    """Can the catalog word this stored message, in every language? (A hand edit, a newer grader.)"""
    if not isinstance(code, str) or code not in CATALOG or not isinstance(params, Mapping):
        return False
    try:
        for lang in LANGUAGES:
            render(code, params, lang)
    except Exception:  # a parameter of the wrong type or size (OverflowError: 10**400 for "{limit:g}") …
        return False
    return True


def _message(record: Any) -> Message | None:
    if isinstance(record, str):
        return Message("text", {"text": record})
    if isinstance(record, Mapping) and _renders(record.get("code"), record.get("params", {})):
        return Message(record["code"], dict(record.get("params", {})))
    return None


def _call_from_record(record: Any) -> Call | None:
    if not isinstance(record, Mapping):
        return None
    arguments = []
    for a in record.get("arguments", ()) if isinstance(record.get("arguments"), list) else ():
        if isinstance(a, Mapping):
            shape = a.get("shape")
            arguments.append(Argument(str(a.get("type", "")), str(a.get("value", "")), str(a.get("name", "")),
                                      tuple(shape) if isinstance(shape, list) else None, a.get("array")))
    return Call(str(record.get("function", "")), tuple(arguments), str(record.get("written", "")))


def _failure_from_record(record: Mapping[str, Any], public: bool) -> Failure:
    worst = record.get("worst_index")
    values = {"expected": record.get("expected"), "actual": record.get("actual"),
              "max_abs_diff": record.get("max_abs_diff"), "worst_index": tuple(worst) if worst is not None else None,
              "traceback": record.get("traceback", "")}
    if "code" in record:
        params = record.get("params", {})
        if _renders(record["code"], params):
            code, params = record["code"], dict(params)
        elif public or not _compared(record):
            code, params = "text", {"text": record.get("message", "")}
        else:  # a code this catalog cannot word (a newer grader, a hand edit): its English may quote anything
            code, params = _hidden_words(record["kind"], record.get("message", ""), "")
        return Failure(record["kind"], code, params, _call_from_record(record.get("call")), **values)
    # written by an older grader: its message, and its call as text (a hidden group's without its values)
    written = record.get("call", "") if public else record.get("signature", "")
    if not public and not written and record.get("call"):
        name = str(record["call"]).split("(", 1)[0][:80]
        written = f"{name}({', '.join([*record.get('input_shapes', ())][:16] + ['…'])})"
    message = record.get("message", "")
    code, params = _legacy_error(message) if record.get("kind") == "error" else ("text", {"text": message})
    if not public and code == "text" and _compared(record):
        code, params = _hidden_words(record.get("kind"), message, record.get("outline"))
    return Failure(record["kind"], code, params, Call("", (), str(written)) if written else None, **values)


def _compared(record: Mapping[str, Any]) -> bool:
    """Was something called or compared? (Else the failure's words are the grader's own: an
    unreadable notebook, an assessed model.)"""
    return bool(record.get("call")) or record.get("expected") is not None


def _legacy_error(message: Any) -> tuple[str, dict[str, Any]]:
    """An older grader's error failure, which it wrote as ``f"{ename}: {evalue}".strip(": ")``, as
    the codes it stands for (``NotImplementedError`` is then still an unanswered question, and a
    hidden group still shows the exception's name); any other words stay the ``text`` message."""
    text = message if isinstance(message, str) else ""
    ename, _, evalue = text.partition(": ")
    if not is_exception_name(ename):
        return "text", {"text": text}
    if ename == "NotImplementedError":
        return "not_implemented", {"evalue": evalue}
    return "error", {"ename": ename, "evalue": evalue}


def _hidden_words(kind: Any, message: Any, outline: Any) -> tuple[str, dict[str, Any]]:
    """A hidden group's stored English words that no code says (an older grader, a code this
    catalog cannot word): the instructor's record, which may quote an expected value or an input,
    so a student is shown only what the kind says (an older grader's value-free ``outline`` kept)."""
    if kind == "wrong":
        return ("text", {"text": outline}) if isinstance(outline, str) and outline else ("differs_hidden", {})
    if kind == "error":
        return "hidden_error_unnamed", {}
    if kind == "unsupported":
        return "unsupported_hidden", {}
    return "text", {"text": message if isinstance(message, str) else ""}  # timeout, crash, missing: fixed words


_NAMES = ("inherited_from", "inherited_seen", "wrong")  # a result's lists of names


def _test_from_record(record: Mapping[str, Any]) -> TestResult:
    failure = record.get("failure")
    diagnosis = record.get("diagnosis")
    fields = {k: v for k, v in record.items() if k not in ("failure", "diagnosis", "detail", *_NAMES)}
    for key in _NAMES:
        names = record.get(key)
        fields[key] = tuple(q for q in names if isinstance(q, str) and len(q) <= 200)[:1000] \
            if isinstance(names, (list, tuple)) else ()
    if failure is not None:
        failure = _failure_from_record(failure, record.get("public") is True)
    detail = record.get("detail")  # a message, or an older grader's English words (or nothing)
    return TestResult(**fields, failure=failure, diagnosis=Diagnosis(**diagnosis) if diagnosis else None,
                      detail=_message(detail) if detail else None)
