"""Why a question failed beyond its own answer, read from the notebook's source and its cells' outcomes.

Three causes a student can act on, each as data (catalog codes and parameters, never words):

- the cell that failed before defining a question's function ("cell 14 failed before defining
  conv2d_layer: ModuleNotFoundError: cv2 is not in the grading environment");
- an exception with a known fix: a package the grading kernel does not have, or NumPy 2 refusing
  what old course code does (``float(b)`` of a ``(1, 1, 1)`` array, ``np.float``);
- an earlier function of the student's own that a failing function calls and that lost points itself
  (a ``conv2d_multi`` built on a flipped ``conv2d``): fix that one first.

The source is only parsed, with :mod:`ast`, never run in the grader. A cell that does not parse
(a ``SyntaxError`` is a cell failure too) is read line by line for ``def NAME`` / ``NAME =``.
"""

from __future__ import annotations

import ast
import gc
import importlib.util
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from ..judge.catalog import nested
from ..judge.selfcheck import cell_numbers
from ..judge.results import TestResult
from ..run.execute import CellRun, Execution

__all__ = ["Cell", "Source", "calls", "cell_cause", "cell_uses", "cells_of", "defined_names", "exception_hint", "explain",
           "failed_line", "missing_cause", "missing_module", "named_frames"]


@dataclass(frozen=True)
class Cell:
    """A code cell as a student finds it: ``number`` counts the notebook's non-empty code cells from
    1 (Jupyter's ``In [n]`` after Restart & Run All), ``heading`` is the nearest Markdown heading above."""

    index: int
    number: int
    source: str
    heading: str = ""


# --- which names a cell defines -----------------------------------------------------------------------

_DEF_LINE = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)", re.M)


_PARSING = threading.Lock()
_ATTEMPTS = 3


def _parsed(source: str) -> ast.Module | None:
    """A cell's syntax tree, or None where there is none to read: a syntax error, a NUL byte, or code
    nested deeper than the parser (a sum of 200,000 terms, 5,000 nested lambdas) — the student's
    source must not turn into the grader's exception.

    In 3.11 the depth counter that :func:`ast.parse` keeps while it builds the tree is one per
    interpreter: any other parse that gets into the middle of one (another job thread's, or the one
    :mod:`traceback` makes to underline the line of an error it logs) corrupts its count, and it
    raises "AST constructor recursion depth mismatch" — a correct submission graded 0 as a grader
    error because another was parsed beside it. Building the tree is C code that lets no other
    thread in unless the garbage collector runs a finaliser, so :func:`_unbroken` parses with the
    collector off, under one lock (so that two job threads never switch it on under each other).
    A finaliser could otherwise get into every retry (the test does). The retry stays for what
    this cannot see (a library switching the collector back on); the count is reset at each call,
    so a retry parses from a clean state."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return _parse_once(source)
        except SystemError:
            continue
    return _parse_once(source)


def _parse_once(source: str) -> ast.Module | None:
    try:
        with _unbroken():
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@contextmanager
def _unbroken() -> Iterator[None]:
    """No other parse in the middle of the block's: the grader's parses one at a time, and no
    collection (whose finalisers are the only way another thread or parse gets in) until it ends.
    The collector is switched back on only if it was on; objects it would have freed meanwhile
    wait for the next collection."""
    with _PARSING:
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if enabled:
                gc.enable()


def defined_names(source: str) -> set[str]:
    """The names a cell binds at module level (``def``, ``class``, assignments, imports, also inside
    ``if``/``try``/``with``/``for`` blocks), whether or not it ran that far."""
    tree = _parsed(source)
    if tree is None:
        return {a or b for a, b in _DEF_LINE.findall(source)}
    names: set[str] = set()
    for node in _module_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target] if not isinstance(node, ast.With)
                       else [i.optional_vars for i in node.items if i.optional_vars is not None])
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _module_level(body: Sequence[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements that run at module level: into compound statements, never into def/class bodies."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _module_level(getattr(node, field, ()) or ())
        for handler in getattr(node, "handlers", ()) or ():
            yield from _module_level(handler.body)


# --- the failing line ---------------------------------------------------------------------------------

_CELL_FRAME = re.compile(r"^\s*Cell In\[\d{1,9}\], line (\d{1,9})\b", re.M)  # the traceback is the student's


def failed_line(run: CellRun, source: str) -> tuple[int, str] | None:
    """(line number in the cell, that line) where the cell's own code failed: the first frame of its
    traceback is the cell itself (IPython's ``Cell In[n], line L``), deeper frames are what it called."""
    match = _CELL_FRAME.search(run.traceback)
    if match is None:
        return None
    number = int(match.group(1))
    lines = source.splitlines()
    return (number, lines[number - 1].strip()[:200]) if 0 < number <= len(lines) else None


# --- what went wrong, with the fix when it is a known one -----------------------------------------------

_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_SCALAR = re.compile(r"only (?:length-1|size-1|0-dimensional|integer scalar) arrays can be converted|"
                     r"Conversion of an array with ndim > 0 to a scalar")
_REMOVED = re.compile(r"(?:module 'numpy' has no attribute '(\w+)'|`np\.(\w+)` was removed in the NumPy 2\.0)")
_NDARRAY_METHOD = re.compile(r"'numpy\.ndarray' object has no attribute '(ptp|itemset|newbyteorder)'")
_OVERFLOW = re.compile(r"Python integer -?\d+ out of bounds for (\w+)")
_INTEGER_DTYPES = frozenset(f"{sign}int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64))
# NumPy 1 names NumPy 2 removed, and what replaces them (the builtin aliases say so in their own message).
_REPLACEMENTS = {
    "float": "float", "int": "int", "bool": "bool", "object": "object", "str": "str", "complex": "complex",
    "long": "int", "unicode": "str", "float_": "np.float64", "complex_": "np.complex128", "NaN": "np.nan",
    "Inf": "np.inf", "PINF": "np.inf", "NINF": "-np.inf", "infty": "np.inf", "product": "np.prod",
    "cumproduct": "np.cumprod", "alltrue": "np.all", "sometrue": "np.any", "in1d": "np.isin",
    "trapz": "np.trapezoid", "asscalar": "a.item()", "msort": "np.sort(a, axis=0)", "bool8": "np.bool_",
    "int0": "np.intp", "uint0": "np.uintp", "row_stack": "np.vstack", "round_": "np.round",
    "ptp": "np.ptp(a)", "itemset": "a[index] = value", "newbyteorder": "a.view(a.dtype.newbyteorder())",
}


# Packages students of this course import that a grading kernel may lack: a hidden group names only
# these (see _fixed_words); a public one, or a cell, names whatever the notebook imported.
KNOWN_PACKAGES = frozenset((
    "cv2", "torch", "torchvision", "skimage", "sklearn", "scipy", "PIL", "imageio", "pandas", "matplotlib",
    "seaborn", "tensorflow", "keras", "jax", "numba", "tqdm", "IPython", "ipywidgets", "plotly", "h5py",
))


def exception_hint(ename: str, evalue: str, offered: Sequence[str]) -> dict[str, object] | None:
    """A one-line fix for an exception whose cause is known (a nested catalog message), else None."""
    if ename == "ModuleNotFoundError" and (module := missing_module(evalue)):
        return nested("hint.no_module", module=module, offered=", ".join(offered))
    if ename in ("TypeError", "DeprecationWarning") and _SCALAR.search(evalue):
        return nested("hint.numpy2_scalar")
    if ename == "ValueError" and "setting an array element with a sequence" in evalue:
        return nested("hint.numpy2_ragged" if "inhomogeneous" in evalue else "hint.numpy2_sequence")
    if ename == "ValueError" and "Unable to avoid copy while creating an array" in evalue:
        return nested("hint.numpy2_copy")
    if ename == "OverflowError" and (match := _OVERFLOW.search(evalue)) and match.group(1) in _INTEGER_DTYPES:
        return nested("hint.numpy2_overflow", dtype=match.group(1))
    if ename == "AttributeError":
        removed = _REMOVED.search(evalue) or _NDARRAY_METHOD.search(evalue)
        name = next((g for g in removed.groups() if g), "") if removed else ""
        use = _REPLACEMENTS.get(name, "")
        if use:
            shown = f"a.{name}()" if _NDARRAY_METHOD.search(evalue) else f"np.{name}"
            return nested("hint.numpy2_removed", name=shown, use=use)
    return None


def missing_module(evalue: str) -> str:
    """The top-level package of ``No module named 'cv2.foo'`` when it is not installed here ('' when
    it is, e.g. a submodule that does not exist). The kernel runs this interpreter, so what cannot be
    found here cannot be imported there."""
    match = _NO_MODULE.search(evalue)
    if match is None:
        return ""
    top = match.group(1).split(".")[0]
    try:
        return "" if importlib.util.find_spec(top) is not None else top
    except (ImportError, ValueError):
        return top


def cell_cause(run: CellRun, offered: Sequence[str]) -> dict[str, object]:
    """What went wrong in a failed cell, as a nested message (its known fix included)."""
    if run.outcome == "timeout":
        return nested("cause.timeout", detail=run.evalue)
    if run.outcome == "dead_kernel":
        return nested("cause.dead")
    if run.outcome == "skipped":
        return nested("cause.skipped", reason=run.evalue)
    if run.ename == "ModuleNotFoundError" and (module := missing_module(run.evalue)):
        return nested("cause.no_module", module=module)
    hint = exception_hint(run.ename, run.evalue, offered)
    evalue = run.evalue.splitlines()[0][:300] if run.evalue else ""
    if hint is not None:
        return nested("cause.error_hint", ename=run.ename, evalue=evalue.rstrip("."), hint=hint)
    return nested("cause.error", ename=run.ename, evalue=evalue)


def missing_cause(name: str, cells: Sequence[Cell], runs: Mapping[int, CellRun],
                  offered: Sequence[str]) -> tuple[str, dict[str, object]] | None:
    """Why ``name`` is not defined, as a failure's code and parameters: the failed cell that would
    have defined it (it binds the name), else the first cell that failed for another reason than an
    unfinished answer (``NotImplementedError``); None when every cell ran (the name was never written)."""
    failed = [(cell, runs[cell.index]) for cell in cells if cell.index in runs and not runs[cell.index].ok]
    for cell, run in failed:
        if name in defined_names(cell.source):
            return "no_function_cell_failed", {"name": name, "cell": cell.number, "problem": cell_cause(run, offered)}
    for cell, run in failed:
        if run.ename != "NotImplementedError":
            return "no_function_after_failure", {"name": name, "cell": cell.number,
                                                 "problem": cell_cause(run, offered)}
    return None


# --- which of the student's own functions a function calls ----------------------------------------------


@dataclass(frozen=True)
class Source:
    """The notebook's top-level functions and the names each one's body refers to (the last
    definition of a name wins, as when the cells run in order)."""

    refers: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, sources: Iterable[str]) -> Source:
        refers: dict[str, frozenset[str]] = {}
        for source in sources:
            tree = _parsed(source)
            if tree is None:
                continue
            for node in _module_level(tree.body):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    refers[node.name] = frozenset(n.id for n in ast.walk(node) if isinstance(n, ast.Name)
                                                  and isinstance(n.ctx, ast.Load))
        return cls(refers)

    def reaches(self, start: Iterable[str]) -> set[str]:
        """Every top-level function that ``start`` (functions or names a cell uses) calls, directly or
        through other functions of the notebook."""
        seen: set[str] = set()
        todo = [name for name in start if name in self.refers]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            todo += [n for n in self.refers.get(name, ()) if n in self.refers and n not in seen]
        return seen


def _roots(source: Source, reached: set[str], lost: Sequence[str]) -> tuple[str, ...]:
    """The functions of ``lost`` in ``reached`` that call no other function of ``lost``: where a chain
    of wrong functions starts, the one to fix first."""
    found = [q for q in lost if q in reached]
    return tuple(q for q in found if not (source.reaches(source.refers.get(q, ())) - {q}) & set(found))


def calls(source: Source, function: str) -> set[str]:
    """Every top-level function of the notebook that the student's ``function`` calls, directly or
    through other functions of theirs; never ``function`` itself."""
    return source.reaches(source.refers.get(function, ())) - {function}


def cell_uses(source: Source, cell: str, lost: Sequence[str]) -> tuple[str, ...]:
    """The functions of ``lost`` that a cell's code calls (a check cell of a later question), where
    the chain starts."""
    tree = _parsed(cell)
    if tree is None:
        return ()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return _roots(source, source.reaches(names), lost)


# --- the whole submission ---------------------------------------------------------------------------------


def explain(tests: Sequence[TestResult], cells: Sequence[Cell], execution: Execution,
            offered: Sequence[str]) -> tuple[tuple[TestResult, ...], tuple[dict[str, Any], ...]]:
    """The tests with their causes, and the failed cells' records (what ``SubmissionResult.cells``
    stores) with what a student needs to find and fix them.

    A missing function's failure names the cell that failed before defining it; an exception with a
    known fix carries it as ``hint``; a failed cell says which of the student's own functions that
    lost points it calls (``uses``), Jupyter's number of it, its heading, its failing line, and which
    questions it cost (``cost``: the functions it left undefined). (A failed test's earlier functions,
    ``inherited_from``, are found while grading: grader.grade.calls watches them.)"""
    runs = {run.index: run for run in execution.cells}
    source = Source.of(cell.source for cell in cells if cell.index in runs)
    files = _cell_files(cells)
    tests = [replace(t, failure=replace(t.failure, traceback=named_frames(t.failure.traceback, files)))
             if t.failure is not None and t.failure.traceback else t for t in tests]
    order = list(dict.fromkeys(t.question for t in tests))
    lost = [q for q in order if any(t.failure is not None and t.score < t.max_score for t in tests if t.question == q)]
    explained = tuple(_explained(t, cells, runs, source, lost, offered) for t in tests)
    cost: dict[int, list[str]] = {}
    for test in explained:
        if test.failure is not None and test.failure.code == "no_function_cell_failed":
            cost.setdefault(int(test.failure.params["cell"]), [])
            if test.question not in cost[int(test.failure.params["cell"])]:
                cost[int(test.failure.params["cell"])].append(test.question)
    records = tuple(_cell_record(cell, runs[cell.index], source, lost, cost.get(cell.number, []), offered, cells, runs)
                    for cell in cells if cell.index in runs and not runs[cell.index].ok)
    return explained, records


def _explained(test: TestResult, cells: Sequence[Cell], runs: Mapping[int, CellRun], source: Source,
               lost: Sequence[str], offered: Sequence[str]) -> TestResult:
    failure = test.failure
    if failure is None:
        return test
    if failure.code == "no_function":
        cause = missing_cause(str(failure.params.get("name", test.question)), cells, runs, offered)
        if cause is not None:
            failure = replace(failure, code=cause[0], params=cause[1])
    elif failure.kind == "error" and failure.code == "error":
        hint = exception_hint(failure.ename, str(failure.params.get("evalue", "")), offered)
        if hint is not None and (test.public or _fixed_words(hint)):
            failure = replace(failure, params={**failure.params, "hint": hint})
    return replace(test, failure=failure)


def _fixed_words(hint: Mapping[str, Any]) -> bool:
    """Whether a hint's parameters come from the grader's own vocabulary, so it may stay in a hidden
    group: the exception is the student's, raised with the hidden input at hand, and a made-up module
    name (``No module named 'h_3_1_4_1_5'``) would carry that input to their page."""
    params = hint.get("params", {})
    return "module" not in params or params["module"] in KNOWN_PACKAGES


def _cell_record(cell: Cell, run: CellRun, source: Source, lost: Sequence[str], cost: Sequence[str],
                 offered: Sequence[str], cells: Sequence[Cell], runs: Mapping[int, CellRun]) -> dict[str, Any]:
    record = run.to_dict()
    record.update(number=cell.number, heading=cell.heading, uses=list(cell_uses(source, cell.source, lost)),
                  cost=list(cost))
    if (line := failed_line(run, cell.source)) is not None:
        record.update(line_number=line[0], line=line[1])
    hint = exception_hint(run.ename, run.evalue, offered) if run.outcome == "error" else None
    undefined = _UNDEFINED.search(run.evalue) if run.ename == "NameError" else None
    if undefined is not None and (cause := _undefined_hint(undefined.group(1), cells, runs, offered)):
        hint = cause  # the cell that failed before defining it; not "it lost points" as well
        record["uses"] = [q for q in record["uses"] if q != undefined.group(1)]
    if hint is not None:
        record["hint"] = hint
    return record


_UNDEFINED = re.compile(r"name '(\w+)' is not defined")


def _undefined_hint(name: str, cells: Sequence[Cell], runs: Mapping[int, CellRun],
                    offered: Sequence[str]) -> dict[str, object] | None:
    """A NameError of a cell whose name an earlier failed cell would have defined: that cell is the cause."""
    cause = missing_cause(name, cells, runs, offered)
    return nested(*cause[:1], **cause[1]) if cause is not None and cause[0] == "no_function_cell_failed" else None


_KERNEL_FILE = re.compile(r'File "[^"\n]*ipykernel_\d+[/\\](\d+)\.py"')


def _cell_files(cells: Sequence[Cell]) -> dict[str, int]:
    """The name ipykernel gives each cell's code (``/tmp/ipykernel_<pid>/<murmur2 of the source>.py``,
    what a called function's traceback frames show) -> the cell's number."""
    try:
        from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86
    except ImportError:  # another kernel's naming: frames keep their file names
        return {}
    return {str(murmur2_x86(cell.source, get_tmp_hash_seed())): cell.number for cell in cells}


def named_frames(traceback: str, files: Mapping[str, int]) -> str:
    """A called function's traceback with each frame in the student's code named by its cell as
    Jupyter shows it, ``File "In [10]", line 42, in conv2d_layer``, instead of a temporary file."""
    def named(match: re.Match[str]) -> str:
        number = files.get(match.group(1))
        return f'File "In [{number}]"' if number is not None else match.group(0)
    return _KERNEL_FILE.sub(named, traceback)


_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+([^\n]*)", re.M)  # no backtracking: a line of 10,000 spaces is linear


def _heading_text(line: str) -> str:
    """A Markdown heading's words, its closing ``#``s and spaces dropped."""
    return line.strip().rstrip("#").strip()


def cells_of(notebook_cells: Sequence[Mapping[str, Any]]) -> list[Cell]:
    """The notebook's non-empty code cells, numbered as Jupyter numbers them after Restart & Run All
    (``In [1]``, ``In [2]`` …: an empty cell gets no number), each with the nearest heading above it."""
    numbers = cell_numbers({"cells": list(notebook_cells)})  # the self-check's numbering, the same rule
    cells: list[Cell] = []
    heading = ""
    for index, cell in enumerate(notebook_cells):
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if cell.get("cell_type") == "markdown":
            found = [words for words in map(_heading_text, _HEADING.findall(text)) if words]
            heading = found[-1][:200] if found else heading
        elif index in numbers:
            cells.append(Cell(index, numbers[index], text, heading))
    return cells
