"""``grader release``: write the student notebooks of ``assignments/`` from ``solutions/``.

Master notebooks mark answers the nbgrader way (SPEC section 4): the lines from ``### BEGIN
SOLUTION`` to ``### END SOLUTION`` become ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at
the marker's indentation (``YOUR ANSWER HERE`` in Markdown). Cells tagged ``solution-only`` are
dropped, outputs and execution counts are cleared. The output is a pure function of the master
notebook, so ``--check`` can compare text and name every stale file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "BEGIN",
    "END",
    "SOLUTION_ONLY_TAG",
    "ReleaseError",
    "ReleasedFile",
    "release",
    "release_notebook",
    "released_text",
    "sync_file",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_ONLY_TAG = "solution-only"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)


class ReleaseError(ValueError):
    """A master notebook cannot be released; the message names the notebook and the cell."""


@dataclass(frozen=True)
class ReleasedFile:
    """One student notebook and what ``release`` found or did with it."""

    path: Path
    status: Literal["unchanged", "written", "stale", "missing", "orphan", "removed"]


def _strip_solution(source: str, stub: tuple[str, ...], where: str) -> str:
    """Replace every BEGIN..END block by ``stub``, keeping the BEGIN line's indentation."""
    out: list[str] = []
    begin_line: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if begin_line is not None:
                raise ReleaseError(f"{where}: line {number}: {BEGIN!r} inside the block opened on line {begin_line}")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif marker == END:
            if begin_line is None:
                raise ReleaseError(f"{where}: line {number}: {END!r} without {BEGIN!r}")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise ReleaseError(f"{where}: line {begin_line}: {BEGIN!r} is never closed by {END!r}")
    return "\n".join(out)


def release_notebook(master: NotebookNode, name: str = "<notebook>") -> NotebookNode:
    """The student version of one master notebook (the master is not modified)."""
    student = copy.deepcopy(master)
    cells = []
    for index, cell in enumerate(student.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{name}: cell {index}"
        if cell.cell_type == "code":
            cell.source = _strip_solution(cell.source, CODE_STUB, where)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = _strip_solution(cell.source, MARKDOWN_STUB, where)
        cells.append(cell)
    student.cells = cells
    student.metadata.pop("widgets", None)
    return student


def released_text(master_path: Path) -> str:
    """The exact text ``release`` writes for ``master_path``. nbformat is imported here: every
    ``grader`` command imports this module (for :class:`ReleaseError`), few release anything."""
    import nbformat

    try:
        master = nbformat.read(master_path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise ReleaseError(f"{master_path}: cannot read notebook: {exc}") from None
    return nbformat.writes(release_notebook(master, master_path.name)) + "\n"


def sync_file(path: Path, data: bytes, check: bool) -> ReleasedFile:
    """Make ``path`` hold exactly ``data`` (or, with ``check``, only say whether it does)."""
    current = path.read_bytes() if path.is_file() else None
    if current == data:
        return ReleasedFile(path, "unchanged")
    if check:
        return ReleasedFile(path, "missing" if current is None else "stale")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return ReleasedFile(path, "written")


def release(solutions: Path, assignments: Path, *, check: bool = False) -> list[ReleasedFile]:
    """Write (or with ``check`` only compare) ``assignments/`` from ``solutions/``.

    Returns one entry per notebook. ``assignments/`` is generated, so a notebook there without a
    master is ``removed``; with ``check`` nothing is written and a notebook that is out of date is
    ``stale``, absent ``missing``, and one with no master ``orphan``.
    """
    masters = sorted(solutions.glob("*.ipynb"))
    if not masters:
        raise ReleaseError(f"{solutions}: no master notebooks (*.ipynb) to release")
    results = []
    for master in masters:
        results.append(sync_file(assignments / master.name, released_text(master).encode("utf-8"), check))
    known = {m.name for m in masters}
    for orphan in sorted(assignments.glob("*.ipynb")):
        if orphan.name not in known:
            if not check:
                orphan.unlink()
            results.append(ReleasedFile(orphan, "orphan" if check else "removed"))
    return results
