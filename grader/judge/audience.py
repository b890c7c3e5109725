"""What a student may see of a result (SPEC section 7, "Audiences").

The records of :mod:`grader.judge.results` are the instructor's and keep everything: the inputs of
every call, the expected answers, the largest error. A student's page, their Gradescope file and the
self-check's text all start from :func:`for_student`: a public group shows everything (its inputs and
answers ship in the student bundle anyway), a hidden group its question, group, shapes, the kind of
difference and the diagnosis, never its inputs or expected values; and the instructor's paths are cut
to what a student can use. It works on codes and parameters, so it never reads a message back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .catalog import Message, text
from .results import Diagnosis, Failure, SubmissionResult, TestResult, is_exception_name

__all__ = ["for_student", "short_paths", "student_view"]

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
_VALUE_FREE_DIAGNOSES = ("constant_factor", "constant_offset")


def _hidden_diagnosis(diagnosis: Diagnosis | None) -> Diagnosis | None:
    if diagnosis is None or diagnosis.id not in _VALUE_FREE_DIAGNOSES:
        return diagnosis
    code = f"mistake.{diagnosis.id}_hidden"
    return Diagnosis(diagnosis.id, text(code, "zh"), text(code, "en"))


# What a hidden group's failure says instead of a message that quotes an expected value or an input.
_OUTLINES = {"values_differ": ("values_differ_outline", ("count", "total", "path", "your_dtype")),
             "value_differs": ("value_differs_outline", ("type", "path"))}


def _hidden_words(failure: Failure) -> tuple[str, dict[str, Any]]:
    """The code and parameters of a hidden group's failure: the kind of difference, the exception's
    name, the grader's fixed words — never an expected value, an input or the student's message."""
    code, params = failure.code, dict(failure.params)
    if code in _OUTLINES:
        outline, kept = _OUTLINES[code]
        return outline, {k: params[k] for k in kept if k in params}
    if failure.kind == "error" and code in ("error", "not_implemented"):
        if not is_exception_name(failure.ename):
            return "hidden_error_unnamed", {}
        if not str(params.get("evalue", "")).strip():
            return code, params  # the exception's name alone: nothing of it is hidden
        return "hidden_error", {"ename": failure.ename, **_known_fix(params)}
    if failure.kind == "error" and code == "text" and failure.call is not None:
        return "hidden_error_unnamed", {}
    if code == "unsupported":
        return "unsupported_hidden", {}
    return code, params  # the grader's own fixed words (missing, timeout, crash), or a stored text


def _known_fix(params: Mapping[str, Any]) -> dict[str, Any]:
    """The fix of a known exception (grader.grade.causes' ``hint``: NumPy 2, a missing package) kept in a
    hidden group: fixed words chosen from the exception, whose parameters name the student's own code
    (``np.float``, a module, a dtype), never an input or an expected value."""
    hint = params.get("hint")
    known = isinstance(hint, Mapping) and isinstance(hint.get("code"), str) and hint["code"].startswith("hint.")
    return {"hint": hint} if known else {}


def _short_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters with the instructor's paths cut, in nested messages too."""
    return {k: short_paths(v) if isinstance(v, str) else _short_nested(v) for k, v in params.items()}


def _short_nested(value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get("code"), str) and isinstance(value.get("params"), Mapping):
        return {**value, "params": _short_params(value["params"])}
    return value


def _hidden_failure(failure: Failure, show_inputs: bool) -> Failure:
    """A hidden group's failure as its student sees it: the call by types and shapes (or with its
    inputs, when the course's ``show_hidden_inputs`` allows it), the kind of difference, and no
    expected value, no largest error and no position of it (expected = actual ± difference)."""
    call = failure.call
    if call is not None and not show_inputs:
        call = call.without_values()
    if failure.call is None and failure.expected is None:
        code, params = failure.code, dict(failure.params)  # nothing was called or compared
    else:
        code, params = _hidden_words(failure)
    if call is not None and call.written:
        call = replace(call, written=short_paths(call.written))
    return Failure(failure.kind, code, _short_params(params), call,
                   traceback=short_paths(_frames_only(failure.traceback)))


def student_view(test: TestResult, show_hidden_inputs: bool = False) -> TestResult:
    """``test`` as its student may see it (SPEC section 7, "Audiences").

    A public group shows everything (its inputs and answers ship in the student bundle anyway),
    with the instructor's paths shortened. A hidden group shows its question, group, shapes, the
    kind of difference and the diagnosis, never its inputs or expected values: a page that showed
    ``output_size(227, 11, 0, 4)`` and ``expected 55`` became a lookup table in nine resubmissions.
    ``show_hidden_inputs`` (``course.toml``) shows the hidden inputs, never the expected values.
    The wrong answers' digests are the similarity pass's, the instructor's alone: never a student's."""
    test = replace(test, wrong=()) if test.wrong else test
    failure = test.failure
    if failure is None:
        return test
    if test.public:
        shown = replace(failure, params=_short_params(failure.params), traceback=short_paths(failure.traceback))
        return replace(test, failure=shown)
    return replace(test, failure=_hidden_failure(failure, show_hidden_inputs), diagnosis=_hidden_diagnosis(test.diagnosis))


def for_student(result: SubmissionResult, show_hidden_inputs: bool = False) -> SubmissionResult:
    """The whole submission as its student may see it: every test through :func:`student_view`,
    the cells, notes and error with the instructor's paths shortened. The page, the Gradescope
    export and the self-check text all start from this, so no student-visible place is left out."""
    cells = tuple({k: short_paths(v) if isinstance(v, str) else v for k, v in dict(cell).items()}
                  if isinstance(cell, Mapping) else cell for cell in result.cells)
    notes = tuple(Message(n.code, _short_params(n.params)) if isinstance(n, Message) else n for n in result.notes)
    reason = result.reason
    if isinstance(reason, Message):
        reason = Message(reason.code, _short_params(reason.params))
    return replace(result, tests=tuple(student_view(t, show_hidden_inputs) for t in result.tests), cells=cells,
                   notes=notes, reason=reason,
                   error=short_paths(result.error) if isinstance(result.error, str) else result.error)
