"""Do a notebook's check cells exercise only what the declared cases do? (``grader validate``)

The released notebooks keep their check cells: plain ``assert`` cells a student runs in Jupyter.
When one of them calls a function in a way the hidden tests never do (a tuple stride where the
tests pass ints, a ``Dense`` layer before ``Flatten``, a ``BatchNormalization`` layer), a submission
the grader gives full marks shows a failing cell and is told to fix it. So the solution notebook is
run once more with every question's function wrapped while a check cell runs: each call the cell
makes (directly, not from inside another traced call) is recorded as the structure of its
arguments (:func:`grader.authoring.callshape.describe`), in the kernel, and sent back as JSON on the
last cell's output. Each call is then turned into features — how it is called
(``call im2col(x, fh, fw, stride=)``: which parameters by position, which by keyword) and, per
parameter (named as the question's reference names them), its structure — and must have only
features that some declared case of that question (public or hidden group) has too. Nothing here
knows a question: the functions are the declaration's questions, the parameters the reference's,
and a :class:`~grader.course.spec.Var` argument (the student's own ``model``) is described from the
solution's own variable of that name.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from ..course.config import CourseConfig
from ..course.spec import Assignment, FileArg, Var
from ..grade.prepare import PreparedQuestion
from ..grade.workspace import Workspace, replace_selfcheck
from ..judge.selfcheck import check_cells
from ..run.execute import execute_cells, kernel
from ..run.sandbox import Isolation
from . import callshape

__all__ = ["CheckCall", "Uncovered", "declared_features", "traced_check_calls", "uncovered_calls"]

_MARK = "__cnn_grader_check_calls__ "
_TRACE = "_cnn_grader_trace"

# Runs first in the kernel: the tracer, in a namespace of its own; one name is bound for the notebook.
_TRACER = '''
def _cnn_grader_tracer(shape_source, mark):
    import functools, json
    shapes = {}
    exec(compile(shape_source, "callshape", "exec"), shapes)
    describe = shapes["describe"]

    class Trace:
        def __init__(self):
            self.calls, self.cell, self.depth, self.originals = [], None, 0, {}

        def start(self, cell, names, space):
            self.cell = cell
            for name in names:
                function = space.get(name)
                if callable(function) and not getattr(function, "__cnn_grader_traced__", False):
                    self.originals[name] = function
                    space[name] = self.wrap(name, function)

        def stop(self, space):
            for name, function in self.originals.items():
                if getattr(space.get(name), "__cnn_grader_traced__", False):
                    space[name] = function
            self.originals, self.cell, self.depth = {}, None, 0

        def wrap(self, name, function):
            @functools.wraps(function)
            def traced(*args, **kwargs):
                if self.depth == 0:
                    self.calls.append({"cell": self.cell, "function": name,
                                       "args": [describe(a) for a in args],
                                       "kwargs": {k: describe(v) for k, v in kwargs.items()}})
                self.depth += 1
                try:
                    return function(*args, **kwargs)
                finally:
                    self.depth -= 1
            traced.__cnn_grader_traced__ = True
            return traced

        def report(self, space, variables):
            found = {name: describe(space[name]) for name in variables if name in space}
            return mark + json.dumps({"calls": self.calls, "variables": found})

    return Trace()
'''


@dataclass(frozen=True)
class CheckCall:
    """One call a check cell made: the cell (its index among the notebook's cells), the function,
    and each argument's structure (positional ones in order, keyword ones by name)."""

    cell: int
    function: str
    args: tuple[tuple[str, ...], ...]
    kwargs: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Uncovered:
    """A check cell's call with features no declared case of its question has."""

    cell: int
    function: str
    call: str
    missing: tuple[str, ...]


def _traced_cells(nb: nbformat.NotebookNode, functions: Sequence[str], variables: Sequence[str]) -> list[tuple[int, str]]:
    """The notebook's code cells, each check cell between the tracer's start and stop, then the report."""
    checks = check_cells(nb)
    cells = [(-1, f"{_TRACER}\n{_TRACE} = _cnn_grader_tracer({inspect.getsource(callshape)!r}, {_MARK!r})\n"
                  f"del _cnn_grader_tracer")]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if index in checks:
            cells.append((-1, f"{_TRACE}.start({index}, {list(functions)!r}, globals())"))
        cells.append((index, cell.source))
        if index in checks:
            cells.append((-1, f"{_TRACE}.stop(globals())"))
    cells.append((-1, f"print({_TRACE}.report(globals(), {list(variables)!r}))"))
    return cells


def traced_check_calls(notebook: Path, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                       config: CourseConfig, isolation: Isolation) -> tuple[list[CheckCall], dict[str, list[str]]]:
    """Run ``notebook`` (the course's own solution) in a kernel of its assignment, recording the
    calls its check cells make into the questions' functions; returns them and the structure of
    the notebook's variables that declared cases pass (:class:`Var`)."""
    functions = [pq.question.id for pq in prepared]
    variables = sorted({a.name for pq in prepared for pg in pq.groups for case, _ in pg.cases
                        for a in (*case.args, *case.kwargs.values()) if isinstance(a, Var)})
    nb = nbformat.read(notebook, as_version=4)
    workspace = Workspace(assignment, config, isolation)
    try:
        replace_selfcheck(config, workspace.scratch)
        limits = config.limits_for(assignment.id)
        with kernel(workspace.launch.confinement, output_limit=8 << 20, launch=workspace.launch) as session:
            execution = execute_cells(session, _traced_cells(nb, functions, variables),
                                      cell_timeout=limits.cell_timeout, notebook_timeout=limits.notebook_timeout)
    finally:
        workspace.close()
    last = execution.cells[-1]
    lines = [line for line in last.stdout.splitlines() if line.startswith(_MARK)]
    if not last.ok or not lines:
        raise RuntimeError(f"{notebook.name}: the traced run gave no report "
                           f"({last.outcome}: {last.ename} {last.evalue})".strip())
    data = json.loads(lines[-1][len(_MARK):])
    calls = [CheckCall(c["cell"], c["function"], tuple(tuple(a) for a in c["args"]),
                       {k: tuple(v) for k, v in c["kwargs"].items()}) for c in data["calls"]]
    return calls, data["variables"]


def _parameters(pq: PreparedQuestion) -> list[str]:
    """The question's parameter names, as its reference calls them (none for an assessed question)."""
    if pq.question.reference is None:
        return []
    return [p.name for p in inspect.signature(pq.question.reference).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _features(function: str, parameters: Sequence[str], args: Sequence[Sequence[str]],
              kwargs: Mapping[str, Sequence[str]]) -> tuple[str, list[str]]:
    """(the call as text, its features): how it is called, then each parameter's structure."""
    names = [parameters[i] if i < len(parameters) else f"argument {i + 1}" for i in range(len(args))]
    how = f"call {function}({', '.join([*names, *(f'{k}=' for k in sorted(kwargs))])})"
    slots = [*zip(names, args), *sorted(kwargs.items())]
    shown = [shape[0] for _, shape in zip(names, args)] + [f"{k}={v[0]}" for k, v in sorted(kwargs.items())]
    return f"{function}({', '.join(shown)})", [how, *(f"{name}: {feature}" for name, shape in slots for feature in shape)]


def _describe_declared(value: Any, variables: Mapping[str, Sequence[str]]) -> list[str]:
    if isinstance(value, Var):
        return list(variables.get(value.name, [f"the notebook's variable {value.name}"]))
    if isinstance(value, FileArg):
        return ["str"]  # the harness passes a file argument as its path, a string
    return callshape.describe(value)


def declared_features(prepared: Iterable[PreparedQuestion], variables: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
    """Every feature of every declared case (public and hidden groups), per question."""
    declared: dict[str, set[str]] = {}
    for pq in prepared:
        parameters = _parameters(pq)
        features = declared.setdefault(pq.question.id, set())
        for pg in pq.groups:
            for case, _ in pg.cases:
                args = [_describe_declared(a, variables) for a in case.args]
                kwargs = {k: _describe_declared(v, variables) for k, v in case.kwargs.items()}
                features.update(_features(pq.question.id, parameters, args, kwargs)[1])
    return declared


def uncovered_calls(calls: Iterable[CheckCall], prepared: Sequence[PreparedQuestion],
                    variables: Mapping[str, Sequence[str]]) -> list[Uncovered]:
    """The recorded calls that do something no declared case does, once per cell, call and gap."""
    declared = declared_features(prepared, variables)
    parameters = {pq.question.id: _parameters(pq) for pq in prepared}
    found: dict[tuple[int, str, tuple[str, ...]], Uncovered] = {}
    for call in calls:
        text, features = _features(call.function, parameters[call.function], call.args, call.kwargs)
        missing = tuple(f for f in dict.fromkeys(features) if f not in declared[call.function])
        if missing:
            found.setdefault((call.cell, call.function, missing), Uncovered(call.cell, call.function, text, missing))
    return list(found.values())
