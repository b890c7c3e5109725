"""Light NumPy notebooks for the bench: the shape of a typical convolution submission, as nbgrader
would hand it out and a student hand it back.

One notebook: ``import numpy as np``, the three functions of the 02-pooling assignment a student
answers (``max_pool2d``, ``avg_pool2d``, ``max_pool2d_backward``, correct), a few small cells that
print small results, no matplotlib. Each answer is an nbgrader solution cell and is followed by an
autograded test cell whose *hidden* tests call the function on the grader's own cases (the
assignment's groups, drawn with a fixed seed) against the grader's reference answers, so nbgrader
and this grader check the same things.

Three versions of the notebook:

- :func:`source` the instructor's (``source/02-pooling/``): solutions and hidden tests marked;
- :func:`release` what ``nbgrader generate_assignment`` gives students: solutions replaced by its
  stub, hidden tests removed, cells locked, checksums computed (the bench checks it matches
  nbgrader's own output cell for cell, so a change in nbgrader cannot go unnoticed);
- :func:`submission` the release with the answers filled in: the file all three tools are given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "02-pooling"
FUNCTIONS = ("max_pool2d", "avg_pool2d", "max_pool2d_backward")
POINTS = 1.0  # each test cell: nbgrader's full marks are one point per function
SEED = 17  # the hidden tests' cases: the grader's groups drawn with this seed
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's ClearSolutions.code_stub for Python
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

ANSWERS = {
    "max_pool2d": '''def _pair(v):
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))

def _windows(x, size, stride):
    x = np.asarray(x, dtype=float)
    two = x.ndim == 2
    if two:
        x = x[:, :, None]
    ph, pw = _pair(size)
    sh, sw = _pair(size if stride is None else stride)
    oh, ow = (x.shape[0] - ph) // sh + 1, (x.shape[1] - pw) // sw + 1
    return x, two, ph, pw, sh, sw, oh, ow

def max_pool2d(x, size, stride=None):
    x, two, ph, pw, sh, sw, oh, ow = _windows(x, size, stride)
    out = np.empty((oh, ow, x.shape[2]))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = x[i*sh:i*sh+ph, j*sw:j*sw+pw].max(axis=(0, 1))
    return out[:, :, 0] if two else out''',
    "avg_pool2d": '''def avg_pool2d(x, size, stride=None):
    x, two, ph, pw, sh, sw, oh, ow = _windows(x, size, stride)
    out = np.empty((oh, ow, x.shape[2]))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = x[i*sh:i*sh+ph, j*sw:j*sw+pw].mean(axis=(0, 1))
    return out[:, :, 0] if two else out''',
    "max_pool2d_backward": '''def max_pool2d_backward(dout, x, size, stride=None):
    x, two, ph, pw, sh, sw, oh, ow = _windows(x, size, stride)
    dout = np.asarray(dout, dtype=float).reshape(oh, ow, -1)
    dx = np.zeros_like(x)
    for i in range(oh):
        for j in range(ow):
            win = x[i*sh:i*sh+ph, j*sw:j*sw+pw]
            for c in range(x.shape[2]):
                k = np.argmax(win[:, :, c])
                a, b = divmod(k, pw)
                dx[i*sh+a, j*sw+b, c] += dout[i, j, c]
    return dx[:, :, 0] if two else dx''',
}

PRINTS = {
    "max_pool2d": "print(max_pool2d(np.arange(16).reshape(4, 4), 2))",
    "avg_pool2d": "print(avg_pool2d(np.arange(16).reshape(4, 4), 2))",
    "max_pool2d_backward": "print(max_pool2d_backward(np.ones((2, 2)), np.arange(16).reshape(4, 4), 2))",
}

# What a student sees of each test cell: one shape check (the rest is hidden).
VISIBLE = {
    "max_pool2d": "assert max_pool2d(np.arange(16.0).reshape(4, 4), 2).shape == (2, 2)",
    "avg_pool2d": "assert avg_pool2d(np.arange(16.0).reshape(4, 4), 2).shape == (2, 2)",
    "max_pool2d_backward": "assert max_pool2d_backward(np.ones((2, 2)), np.arange(16.0).reshape(4, 4), 2).shape == (4, 4)",
}


@dataclass(frozen=True)
class Cell:
    """One cell of the notebook; ``role`` is its nbgrader part (None: an ordinary cell)."""

    kind: str  # "markdown" or "code"
    source: str
    role: str | None = None  # "solution" or "tests"
    grade_id: str = ""


def _literal(value: Any) -> str:
    """``value`` as Python source that rebuilds it exactly (arrays as ``np.array([...])``)."""
    if isinstance(value, np.ndarray):
        return f"np.array({value.tolist()!r})"
    if isinstance(value, tuple):
        return "(" + "".join(f"{_literal(v)}, " for v in value) + ")"
    return repr(value)


def hidden_tests(function: str) -> str:
    """The hidden tests of ``function``: every case of the grader's groups for that question (drawn
    with :data:`SEED`), each compared with the grader's reference answer."""
    from grader.course.assignments.pooling import ASSIGNMENT as POOLING

    question = next(q for q in POOLING.questions if q.id == function)
    lines = ["_cases = ["]
    for group in question.groups:
        for case in group.cases(np.random.default_rng(SEED)):
            args, kwargs = case.resolved()
            expected = question.reference(*args, **kwargs)
            lines.append(f"    ({_literal(tuple(args))}, {kwargs!r}, {_literal(np.asarray(expected))}),")
    lines += ["]", "for _args, _kwargs, _expected in _cases:",
              f"    np.testing.assert_allclose({function}(*_args, **_kwargs), _expected, rtol=1e-7, atol=1e-9)"]
    return "\n".join(lines)


def cells() -> Iterator[Cell]:
    yield Cell("markdown", "# 02 池化 (pooling)\n\nImplement the three functions below; run every cell.")
    yield Cell("code", "import numpy as np")
    for function in FUNCTIONS:
        yield Cell("code", ANSWERS[function], "solution", function)
        yield Cell("code", PRINTS[function])
        yield Cell("code", VISIBLE[function], "tests", f"test_{function}")


def _metadata(cell: Cell) -> dict[str, Any]:
    """The cell's nbgrader metadata (schema 3) as the instructor marks it."""
    if cell.role is None:
        return {}
    tests = cell.role == "tests"
    meta = {"grade": tests, "grade_id": cell.grade_id, "locked": tests, "schema_version": 3,
            "solution": not tests, "task": False}
    if tests:
        meta["points"] = POINTS
    return meta


def checksum(source: str, kind: str, meta: dict[str, Any]) -> str:
    """nbgrader's cell checksum (``nbgrader.utils.compute_checksum``): md5 over the source, the cell
    type, whether it is a grade, solution and locked cell, its id and its points."""
    parts = [source, kind, str(bool(meta["grade"])), str(bool(meta["solution"])), str(bool(meta["locked"])),
             meta["grade_id"]]
    if meta["grade"]:
        parts.append(str(float(meta["points"])))
    return hashlib.md5("".join(parts).encode("utf-8")).hexdigest()


def _notebook(made: list[tuple[Cell, str, dict[str, Any]]]) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, (cell, source, extra) in enumerate(made):
        new = new_markdown_cell(source) if cell.kind == "markdown" else new_code_cell(source)
        new["id"] = f"cell-{index:02d}"  # fixed ids: every copy is the same file
        new.metadata.update(extra)
        nb.cells.append(new)
    return nb


def source() -> nbformat.NotebookNode:
    """The instructor's notebook: each answer between solution markers, each test cell's hidden
    tests between hidden-test markers."""
    made = []
    for cell in cells():
        text = cell.source
        if cell.role == "solution":
            text = f"{BEGIN_SOLUTION}\n{text}\n{END_SOLUTION}"
        elif cell.role == "tests":
            text = f"{text}\n{BEGIN_HIDDEN}\n{hidden_tests(cell.grade_id.removeprefix('test_'))}\n{END_HIDDEN}"
        made.append((cell, text, {"nbgrader": _metadata(cell)} if cell.role else {}))
    return _notebook(made)


def _released(cell: Cell, answered: bool) -> tuple[Cell, str, dict[str, Any]]:
    if cell.role is None:
        return cell, cell.source, {}
    meta = _metadata(cell)
    released = STUB if cell.role == "solution" else cell.source
    meta["checksum"] = checksum(released, cell.kind, meta)
    meta["cell_type"] = cell.kind
    lock = {"deletable": False} if cell.role == "solution" else {"deletable": False, "editable": False}
    return cell, cell.source if answered else released, {**lock, "nbgrader": meta}


def release() -> nbformat.NotebookNode:
    """What ``nbgrader generate_assignment`` makes of :func:`source`: the student's copy."""
    return _notebook([_released(cell, answered=False) for cell in cells()])


def submission() -> nbformat.NotebookNode:
    """The release with the three answers filled in: a correct submission."""
    return _notebook([_released(cell, answered=True) for cell in cells()])


def write_class(target: Path, size: int, prefix: str = "s") -> list[Path]:
    """``size`` identical submissions ``target/<prefix>NNN/02-pooling.ipynb``: the layout both
    this grader and nbgrader's ``submitted/`` folder read."""
    nb = submission()
    made = []
    for i in range(size):
        path = target / f"{prefix}{i:03d}" / f"{ASSIGNMENT}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        made.append(path)
    return made
