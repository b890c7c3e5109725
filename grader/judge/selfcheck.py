"""Self-check on the public tests of the course's notebooks: the student bundle's ``selfcheck``.

In a notebook::

    from selfcheck import check
    check("conv2d")   # the public tests of one question
    check()           # every question whose function is defined so far

From a terminal, ``python -m selfcheck 01-convolution.ipynb`` runs the notebook's code cells
headless and prints the same summary; the exit status is 0 when every public test passes, 1 when
one fails, 2 when the notebook cannot be read or recognised. ``SELFCHECK_LANG=zh|en`` overrides
the course's language.

This file is ``grader/judge/selfcheck.py`` in the grader and ``selfcheck/__init__.py`` in the bundle,
next to verbatim copies of the grader's ``catalog``, ``compare``, ``diagnose``, ``results``,
``audience`` and ``summary``, so the comparison, the diagnosis and the wording are the grader's own.
It needs only numpy and the standard library. The public cases, their expected answers and the answers of the known mistaken
variants on them were computed on the instructor's side and stored in ``data/``: there is no
reference code here, so a declared mistake is recognised by looking up its stored answer.
"""

from __future__ import annotations

import _thread
import builtins
import collections
import contextlib
import dataclasses
import io
import json
import os
import sys
import threading
import traceback
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .catalog import LANGUAGES, Message, text
from .compare import Tolerance, compare
from .diagnose import Failing, diagnose_question
from .results import Failure, TestResult, call_of, cell_error, excerpt
from .summary import CheckCell, format_summary

__all__ = ["cell_numbers", "check", "check_cells", "main"]

DATA = Path(__file__).parent / "data"
LANG_ENV = "SELFCHECK_LANG"
Key = tuple[int, int]  # (group, case) of one question

def check(name: str | None = None) -> None:
    """Print which public tests of question ``name`` pass (all questions defined so far when
    ``name`` is None) and, for a failing one, the call, both answers and the diagnosis.

    Never raises: a self-check must not break the notebook it runs in (the released template's
    cells must run cleanly before anything is implemented)."""
    namespace = _namespace(sys._getframe(1).f_globals)
    lang = "zh"
    try:
        lang = _language()
        print(_check_text(name, namespace, lang))
    except Exception as exc:  # a damaged bundle: say so in plain words instead of a traceback
        print(text("selfcheck.broken", lang, error=f"{type(exc).__name__}: {exc}"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m selfcheck NOTEBOOK.ipynb``: run the notebook, print the summary, exit 0/1/2."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = _language()
    if len(args) != 1 or args[0].startswith("-"):
        print(text("selfcheck.usage", lang), file=sys.stderr)
        return 2
    path = Path(args[0])
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = _code_cells(notebook)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(text("selfcheck.unreadable", lang, path=path, reason=reason), file=sys.stderr)
        return 2
    assignment = _recognise(path, notebook)
    if assignment is None:
        print(text("selfcheck.unrecognised", lang, path=path), file=sys.stderr)
        return 2
    entry = _manifest()["assignments"][assignment]
    checked = [q for q in entry["questions"] if q not in entry["no_public"]]
    own = check_cells(notebook)
    namespace: Mapping[str, Any] = {}
    ran: list[CheckCell] = []
    if checked or own:
        namespace, ran = _execute(cells, path.resolve().parent, entry["cell_timeout"], lang, own)
        ran = [dataclasses.replace(c, optional=c.question in entry.get("optional", ())) for c in ran]
    tests = _check_questions(assignment, checked, namespace, entry["call_timeout"])
    print(format_summary(tests, lang, assignment=assignment, no_public=entry["no_public"], checks=ran))
    return 0 if all(t.failure is None for t in tests) and all(c.ok for c in ran) else 1


# -- the stored public data ------------------------------------------------------------------------
@cache
def _manifest() -> dict[str, Any]:
    return json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))


@cache
def _stored(assignment: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One assignment's questions (by id) and the arrays their JSON refers to."""
    record = json.loads((DATA / f"{assignment}.json").read_text(encoding="utf-8"))
    with np.load(DATA / f"{assignment}.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return {q["id"]: q for q in record["questions"]}, arrays


def _decode(value: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """A stored value; arrays are fresh copies, so a function that writes into its input cannot
    change the next case."""
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            return arrays[value["array"]].copy()
        if "scalar" in value:
            return arrays[value["scalar"]][()]
        if "tuple" in value:
            return tuple(_decode(v, arrays) for v in value["tuple"])
        return {_decode(k, arrays): _decode(v, arrays) for k, v in value["dict"]}
    return value


def _language() -> str:
    lang = os.environ.get(LANG_ENV, "").strip().lower()
    return lang if lang in LANGUAGES else _manifest()["language"]


# -- checking --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _StoredCase:
    """A public case as :func:`diagnose` sees it: its only argument is its own key, so that a
    declared mistake's ``variant`` can be a lookup of that mistake's stored answer."""

    key: Key

    def resolved(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (self.key,), {}


@dataclass(frozen=True)
class _StoredMistake:
    """A declared mistake whose variant answers from storage (no answer: it raised there, or it
    gives the right answer there, so it cannot explain that case)."""

    id: str
    zh: str
    en: str
    answers: Mapping[Key, Any]

    def variant(self, key: Key) -> Any:
        if self.answers.get(key) is None:
            raise LookupError(f"{self.id} has no stored answer for case {key}")
        return self.answers[key]


def _check_text(name: str | None, namespace: Mapping[str, Any], lang: str) -> str:
    manifest = _manifest()["assignments"]
    owners = {q: aid for aid, entry in manifest.items() for q in entry["questions"]}
    if name is None:
        assignment, questions = _defined(namespace)
        if assignment is None:
            return format_summary([], lang)
    elif name not in owners:
        return text("selfcheck.unknown", lang, name=name, known=", ".join(owners))
    else:
        assignment, questions = owners[name], [name]
    no_public = manifest[assignment]["no_public"]
    tests = _check_questions(assignment, [q for q in questions if q not in no_public], namespace)
    return format_summary(tests, lang, no_public=[q for q in questions if q in no_public])


def _defined(namespace: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The assignment most of whose functions the namespace defines, and those functions (a
    pooling notebook may define its own ``conv2d`` helper without being the convolution one)."""
    best: tuple[str | None, list[str]] = (None, [])
    for assignment, entry in _manifest()["assignments"].items():
        defined = [q for q in entry["questions"] if callable(namespace.get(q))]
        if len(defined) > len(best[1]):
            best = (assignment, defined)
    return best


def _check_questions(assignment: str, questions: Sequence[str], namespace: Mapping[str, Any],
                     call_timeout: float | None = None) -> list[TestResult]:
    return [test for q in questions for test in _check_question(assignment, q, namespace.get(q), call_timeout)]


def _check_question(assignment: str, question: str, function: Any, call_timeout: float | None) -> list[TestResult]:
    """The question's public groups, each all-or-nothing on its cases, as the grader does them.
    ``call_timeout`` (terminal runs only) stops a call that hangs; like the grader, a function
    that hung once is not called again: its other cases fail the same way."""
    records, arrays = _stored(assignment)
    record = records[question]
    tol = Tolerance(**_manifest()["tolerance"])
    mistakes = [
        _StoredMistake(m["id"], m["zh"], m["en"], {
            (g, c): _decode(case["mistakes"][m["id"]], arrays)
            for g, group in enumerate(record["groups"]) for c, case in enumerate(group["cases"])
        })
        for m in record["mistakes"]
    ]
    tests = []
    evidence: list[tuple[list[Failing], list[Failing]]] = []
    hung: Failure | None = None
    for g, group in enumerate(record["groups"]):
        failing: list[Failing] = []
        passing: list[Failing] = []
        first: Failure | None = None
        for c, case in enumerate(group["cases"]):
            failure, expected, actual = hung, None, None
            if hung is None:
                failure, expected, actual = _run_case(function, question, case, arrays, tol, call_timeout)
                hung = failure if failure is not None and failure.kind == "timeout" else None
            if failure is None:
                passing.append(Failing(_StoredCase((g, c)), expected, actual))  # type: ignore[arg-type]
            elif failure.kind == "wrong":
                failing.append(Failing(_StoredCase((g, c)), expected, actual))  # type: ignore[arg-type]
            first = first or failure
        evidence.append((failing, passing))
        tests.append(TestResult(
            question=question, group=group["name"], group_zh=str(group.get("zh", "")), public=True, score=0.0 if first else 1.0, max_score=1.0,
            cases=len(group["cases"]), passed_cases=len(passing), failure=first,
        ))
    named = diagnose_question(mistakes, evidence, tol)  # type: ignore[arg-type]
    return [dataclasses.replace(t, diagnosis=d) for t, d in zip(tests, named)]


def _run_case(function: Any, question: str, case: Mapping[str, Any], arrays: Mapping[str, np.ndarray],
              tol: Tolerance, call_timeout: float | None) -> tuple[Failure | None, Any, Any]:
    """Call the student's function on one stored case, the way the grader's harness does:
    (failure or None, expected, actual)."""
    args, kwargs = _decode(case["args"], arrays), _decode(case["kwargs"], arrays)
    call = call_of(question, args, kwargs)
    expected = _decode(case["expected"], arrays)
    if not callable(function):
        return Failure("missing", "no_function", {"name": question}, call), expected, None
    try:
        with _time_limit(call_timeout) as expired:
            actual = _plain(function(*args, **kwargs))
    except KeyboardInterrupt:
        if not expired():
            raise
        return Failure("timeout", "timeout", {"limit": call_timeout}, call), expected, None
    except Exception as exc:  # whatever the student's code raises is a result, not a crash
        code = "not_implemented" if type(exc).__name__ == "NotImplementedError" else "error"
        params = {"evalue": str(exc)[:2000]} | ({} if code == "not_implemented" else {"ename": type(exc).__name__})
        return Failure("error", code, params, call, traceback=traceback.format_exc(limit=-6)), expected, None
    result = compare(expected, actual, tol)
    if result.equal:
        return None, expected, actual
    return (Failure("wrong", result.code, result.params, call, excerpt(expected), excerpt(actual),
                    result.max_abs_diff, result.worst_index), expected, actual)


def _plain(value: Any) -> Any:
    """Numpy scalars as Python numbers, as the grader's harness brings answers back."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if type(value) in (tuple, list):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _namespace(caller: Mapping[str, Any]) -> Mapping[str, Any]:
    """Where the student's functions live: the calling cell's globals, then IPython's user
    namespace and ``__main__`` (for a ``check`` called from inside a helper module)."""
    spaces = [caller]
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None:
        spaces.append(shell.user_ns)
    spaces.append(vars(sys.modules["__main__"]))
    return collections.ChainMap(*spaces)


# -- the terminal command --------------------------------------------------------------------------
def _code_cells(notebook: Any) -> list[tuple[int, str]]:
    """(index among all cells, source) of each code cell; nbformat 4, or 3's worksheets."""
    if not isinstance(notebook, dict):
        raise ValueError("not a notebook")
    cells = notebook.get("cells")
    if cells is None and isinstance(notebook.get("worksheets"), list) and notebook["worksheets"]:
        cells = [dict(c, source=c.get("input", "")) for c in notebook["worksheets"][0].get("cells", [])]
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise ValueError("it has no cells")
    found = []
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "code" and isinstance(source, str) and source.strip():
            found.append((index, source))
    return found


def cell_numbers(notebook: Any) -> dict[int, int]:
    """Index among all cells → the number Jupyter shows a code cell with after Restart & Run All
    (``In [n]``: the non-empty code cells counted from 1), as the grader's pages number them."""
    return {index: number for number, (index, _) in enumerate(_code_cells(notebook), 1)}


def check_cells(notebook: Any) -> dict[int, str]:
    """The notebook's own check cells: index among all cells → the question it checks. They are
    the code cells the course marked ``metadata.grader.role == "check"`` (a released notebook keeps
    them); a notebook without that metadata has none."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    found = {}
    for index, cell in enumerate(cells if isinstance(cells, list) else []):
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        grader = meta.get("grader") if isinstance(meta, dict) else None
        if cell.get("cell_type") == "code" and isinstance(grader, dict) and grader.get("role") == "check":
            found[index] = str(grader.get("question", ""))
    return found


def _key(name: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", name).casefold() if ch.isalnum())


def _recognise(path: Path, notebook: Mapping[str, Any]) -> str | None:
    """The assignment named in the file name (its id, the id without its number, or an alias such
    as 卷积), else the one in the notebook's metadata (released notebooks carry it)."""
    assignments = _manifest()["assignments"]
    stem = _key(path.stem)
    found = set()
    for assignment, entry in assignments.items():
        names = [assignment, assignment.split("-", 1)[-1], *entry["aliases"]]
        if any(key and not key.isdigit() and key in stem for key in map(_key, names)):
            found.add(assignment)
    if len(found) == 1:
        return found.pop()
    metadata = notebook.get("metadata")
    named = metadata.get("grader", {}).get("assignment") if isinstance(metadata, dict) else None
    return named if named in assignments else None


def _execute(cells: Sequence[tuple[int, str]], folder: Path, cell_timeout: float, lang: str,
             checks: Mapping[int, str]) -> tuple[dict[str, Any], list[CheckCell]]:
    """Run the code cells in a fresh namespace in the notebook's folder, as a kernel started there
    would, with their output hidden. A failing, hanging or exiting cell is reported on stderr and
    the run goes on, so the functions the other cells define are still checked (as the grader
    does after interrupting or restarting a kernel). Returns the namespace and how each of the
    ``checks`` cells (index → question) ran."""
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    ran: list[CheckCell] = []
    os.environ.setdefault("MPLBACKEND", "agg")  # plots go nowhere instead of opening windows
    cwd, exit_process = os.getcwd(), os._exit
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    os._exit = _refuse_exit  # a cell's os._exit must not end the self-check itself
    try:
        for number, (index, source) in enumerate(cells, 1):  # cells by the number Jupyter shows them with
            problem, check = _run_cell(number, source, namespace, cell_timeout, checks.get(index))
            if problem is not None:
                print(problem.text(lang), file=sys.stderr)
            if check is not None:
                ran.append(check)
    finally:
        os._exit = exit_process
        os.chdir(cwd)
        sys.path.remove(str(folder))
    return namespace, ran


def _refuse_exit(status: int = 0) -> NoReturn:
    raise SystemExit(f"os._exit({status})")


def _run_cell(index: int, source: str, namespace: dict[str, Any], cell_timeout: float,
              question: str | None = None) -> tuple[Message | None, CheckCell | None]:
    """Execute one cell (``index``: the number Jupyter shows it with); returns what went wrong (None
    when nothing did, or only a stub's NotImplementedError) and, for a check cell of ``question``,
    how it ran. IPython magics and shell lines (``%…``, ``!…``) become ``pass``."""
    lines = [line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    problem: Message | None = None
    check = None if question is None else CheckCell(index, question, "passed")
    try:
        with (_time_limit(cell_timeout) as expired, contextlib.redirect_stdout(io.StringIO()),
              contextlib.redirect_stderr(io.StringIO())):
            exec(compile("\n".join(lines), f"<cell {index}>", "exec"), namespace)
    except NotImplementedError as exc:
        check = None if question is None else CheckCell.raised(index, question, "NotImplementedError", str(exc))
    except KeyboardInterrupt:
        if not expired():
            raise
        problem = Message("cell_timeout", {"cell": index, "detail": f"{cell_timeout:g} s"})
        check = None if question is None else CheckCell(index, question, "failed", problem)
    except (Exception, SystemExit) as exc:  # the student's cell: report it, keep going
        problem = cell_error(index, type(exc).__name__, str(exc))
        check = None if question is None else CheckCell.raised(index, question, type(exc).__name__, str(exc))
    return problem, check


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[Callable[[], bool]]:
    """Interrupt the main thread after ``seconds`` (a student's endless loop); yields "did the
    limit expire?" so that a real Ctrl-C still stops the self-check. Works on every platform,
    unlike SIGALRM; a call blocked inside C code is interrupted when it returns to Python."""
    expired = threading.Event()
    if seconds is None:
        yield expired.is_set
        return

    def stop() -> None:
        expired.set()
        _thread.interrupt_main()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield expired.is_set
    finally:
        timer.cancel()
