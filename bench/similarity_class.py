"""A generated class for the similarity pass (issue 16): realistic submissions at any size, with
planted copies and planted shared bugs whose pairs the pass should find.

Every student answers each question of an assignment the way a student of this course would: one of
the independently written answers of :mod:`similarity_pool` (correct, or with a common bug), inside
the released template's answer cell (its docstring kept by most, dropped by some), written with
habits of their own that change the tokens the pass sees (``np.array`` for ``np.asarray``,
``range(0, n)``, ``len(x)`` for ``x.shape[0]``, a debug print...), their own variable names now and
then, comments, blank lines, an unanswered question or two, and helpers or scratch cells. An
undeclared common bug fails the same hidden cases with the same wrong values for everyone who makes
it (those students never saw each other's code); a declared one is explained by the course and
carries no digest; now and then a student has a bug of their own.

Planted on top:

- *copies*: a student's submission handed in again by another student, disguised the ways the issue
  names (every local name changed, cells reordered, comments and blank lines added; a few verbatim),
  with the same wrong answers (the same code fails the same way);
- *shared bugs*: two students whose code was written apart but who answer the same hidden cases with
  the same distinctive wrong values.

Used by ``bench/bench.py --similarity-only`` and ``tests/test_similarity_hostile.py`` (the bench
folder is on pytest's ``pythonpath``). Stdlib only, besides the pass's own :class:`Entry`.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import json
import keyword
import random
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from grader.classroom.similarity import Entry
from similarity_pool import COMMENTS, EXTRAS, POOL, Answer

__all__ = ["ASSIGNMENTS", "GeneratedClass", "disguise", "generate_class", "notebook_of", "template_code",
           "template_notebook"]

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = tuple(POOL)
_PLACEHOLDER = "# YOUR CODE HERE\n"
_RAISE = "raise NotImplementedError()"
_NAMES = ("a", "b", "t", "tmp", "val", "arr", "res", "acc", "cur", "idx", "row_", "col_", "num", "buf",
          "m", "q", "z", "data", "item", "part", "piece", "hh", "ww", "kk", "mat", "vec", "cnt", "p_",
          "first", "second", "left_", "right_", "top_", "stuff", "thing", "xx", "yy", "ii", "jj")
_RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins))


# A student's habits: rewrites that keep the program and change its tokens (names, comments and
# layout the pass normalises away; these it sees). Each student has some of them, in every cell.
_HABITS: tuple[tuple[Any, ...], ...] = (  # (pattern, replacement[, how many])
    (re.compile(r"np\.asarray\("), "np.array("),
    (re.compile(r"range\(([^(),]+)\)"), r"range(0, \1)"),
    (re.compile(r"^(\s*)(\w+) \+= (.+)$", re.M), r"\1\2 = \2 + \3"),
    (re.compile(r"dtype=float\b"), "dtype=np.float64"),
    (re.compile(r"\.reshape\(-1\)"), ".ravel()"),
    (re.compile(r"\b(\w+)\.shape\[0\]"), r"len(\1)"),
    (re.compile(r"^(\s+)return (\w+)$", re.M), r"\1result = \2\n\1return result"),
    (re.compile(r"if (\w+)\.ndim == 2:"), r"if len(\1.shape) == 2:"),
    (re.compile(r" is None\b"), " == None"),
    (re.compile(r"\b(\w+) // (\w+) \+ 1\b"), r"int(\1 / \2) + 1"),
    (re.compile(r"\b(\w+)\.max\(axis="), r"np.max(\1, axis="),
    (re.compile(r"^(\s+)(\w+) = np\.zeros\((.+)\)$", re.M), r"\1\2 = np.zeros(\3)\n\1print(\2.shape)", 1),
    (re.compile(r"^(\s+)for (\w+) in ", re.M), r"\1count = 0\n\1for \2 in ", 1),
    (re.compile(r"np\.zeros\(\("), "np.zeros(shape=("),
    (re.compile(r"np\.asarray\((\w+), dtype=float\)"), r"np.asarray(\1).astype(float)"),
)


def _habits(rng: random.Random) -> tuple[int, ...]:
    return tuple(i for i in range(len(_HABITS)) if rng.random() < 0.35)


def _with_habits(cell: str, habits: Sequence[int]) -> str:
    """``cell`` written with these habits (a rewrite that would break the cell is skipped)."""
    for i in habits:
        pattern, new, *count = _HABITS[i]
        changed = pattern.sub(new, cell, *count)
        try:
            ast.parse(changed)
        except SyntaxError:
            continue
        cell = changed
    return cell


@dataclass(frozen=True)
class GeneratedClass:
    """The entries of a generated class, its assignments' template code (what ``compare_class``
    takes as ``templates``), and the planted pairs ``(assignment, student_a, student_b)`` with
    ``student_a < student_b``."""

    entries: tuple[Entry, ...]
    templates: dict[str, str]
    copies: frozenset[tuple[str, str, str]]
    shared_bugs: frozenset[tuple[str, str, str]]
    cells: dict[tuple[str, str], tuple[str, ...]]  # (assignment, student) -> the student's own cells

    def planted(self) -> frozenset[tuple[str, str, str]]:
        return self.copies | self.shared_bugs


@cache
def template_notebook(assignment: str) -> dict[str, Any]:
    """The released template of ``assignment`` (assignments/NAME.ipynb), as JSON."""
    return json.loads((ROOT / "assignments" / f"{assignment}.ipynb").read_text(encoding="utf-8"))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


@cache
def template_code(assignment: str) -> str:
    """The template's own code: its code cells, one blank line apart (what :class:`Entry` says own
    code is, with nothing left out)."""
    cells = template_notebook(assignment)["cells"]
    return "\n\n".join(_source(c) for c in cells if c.get("cell_type") == "code")


@cache
def _answer_cells(assignment: str) -> dict[str, str]:
    """Each question's answer cell in the template, by question."""
    cells = template_notebook(assignment)["cells"]
    return {c["metadata"]["grader"]["question"]: _source(c) for c in cells
            if c.get("cell_type") == "code" and c.get("metadata", {}).get("grader", {}).get("role") == "answer"}


def _answer(assignment: str, question: str, answer: Answer, keep_doc: bool) -> str:
    """The template's answer cell of ``question`` with ``answer``'s body in place of the placeholder."""
    cell = _answer_cells(assignment)[question]
    head, _, _ = cell.partition(_PLACEHOLDER)
    head = head.rstrip(" ")
    if not keep_doc and '"""' in head:
        first, _, rest = head.partition('"""')
        head = first.rstrip(" ") + rest.partition('"""')[2].lstrip("\n")
        head = head.rstrip(" ")
    if head.strip() and not head.endswith("\n"):
        head += "\n"
    return (answer.helpers + "\n\n" if answer.helpers else "") + head + answer.body


def _digest(*parts: object) -> str:
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def _wrong(question: str, answer: Answer) -> set[str]:
    """The wrong answers of an undeclared bug: the same for everyone who makes it."""
    if answer.bug is None or answer.declared:
        return set()
    return {f"{question}/hidden/{i}:{_digest(question, answer.bug, i)}" for i in range(answer.cases)}


def _logical_starts(code: str) -> list[int]:
    """The 0-based line numbers where a logical line starts (a comment or a blank line may go
    before them without changing the program)."""
    starts, fresh = [], True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                fresh = True
            elif fresh and tok.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT, tokenize.ENDMARKER):
                starts.append(tok.start[0] - 1)
                fresh = False
    except (tokenize.TokenError, SyntaxError):
        return []
    return starts


def _decorate(code: str, rng: random.Random, comments: float, blanks: float) -> str:
    """``code`` with comment lines and blank lines added before some of its logical lines."""
    lines = code.split("\n")
    starts = set(_logical_starts(code))
    out = []
    for n, line in enumerate(lines):
        if n in starts:
            indent = line[:len(line) - len(line.lstrip())]
            if rng.random() < blanks:
                out.append("")
            if rng.random() < comments:
                out.append(indent + rng.choice(COMMENTS))
        out.append(line)
    return "\n".join(out)


def _renamable(code: str, keep: frozenset[str]) -> set[str]:
    """The names ``code`` binds itself (locals, loop variables, its own helpers), less parameters
    (callers pass them by keyword) and ``keep`` (the graded functions)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    bound, params = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            bound.add(node.name)
            params.update(a.arg for a in node.args.args + node.args.kwonlyargs)
        elif isinstance(node, ast.arg):
            params.add(node.arg)
    return bound - params - keep - _RESERVED


def disguise(code: str, rng: random.Random, keep: frozenset[str], rename: float = 1.0, comments: float = 0.0,
             blanks: float = 0.0) -> str:
    """``code`` with each name it binds renamed with probability ``rename`` (consistently, attributes
    and keyword arguments left alone), then comments and blank lines added."""
    names = _renamable(code, keep)
    taken = set(names) | _RESERVED | keep
    mapping = {}
    for name in sorted(names):
        if rng.random() < rename:
            new = rng.choice(_NAMES)
            while new in taken:
                new = rng.choice(_NAMES) + str(rng.randrange(10))
            taken.add(new)
            mapping[name] = new
    if mapping:
        code = _rename(code, mapping)
    return _decorate(code, rng, comments, blanks)


def _rename(code: str, mapping: dict[str, str]) -> str:
    lines = code.split("\n")
    edits: list[tuple[int, int, int, str]] = []
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        if tok.type != tokenize.NAME or tok.string not in mapping:
            continue
        before = tokens[i - 1].string if i else ""
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if before == "." or (depth and after == "="):
            continue
        edits.append((tok.start[0] - 1, tok.start[1], tok.end[1], mapping[tok.string]))
    for row, start, end, new in sorted(edits, reverse=True):
        lines[row] = lines[row][:start] + new + lines[row][end:]
    return "\n".join(lines)


def _student_cells(assignment: str, rng: random.Random) -> tuple[list[str], set[str]]:
    """One independently written submission: its own cells and its wrong answers."""
    cells, wrong = [], set()
    keep = frozenset(POOL[assignment])
    style_rename = rng.random() < 0.3
    habits = _habits(rng)
    for question, answers in POOL[assignment].items():
        if rng.random() < 0.06:
            continue  # left unanswered: the template's cell, unchanged, is not own code
        weights = [0.12 if a.bug else 1.0 for a in answers]
        answer = rng.choices(answers, weights)[0]
        cell = _with_habits(_answer(assignment, question, answer, keep_doc=rng.random() < 0.85), habits)
        if style_rename:
            cell = disguise(cell, rng, keep, rename=0.5)
        cells.append(_decorate(cell, rng, comments=0.08, blanks=0.04))
        wrong |= _wrong(question, answer)
        if answer.bug is None and rng.random() < 0.04:  # a slip of one's own: wrong values nobody shares
            wrong |= {f"{question}/hidden/{i}:{_digest(rng.random())}" for i in range(rng.randint(1, 3))}
    for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
        cells.insert(rng.randrange(len(cells) + 1), rng.choice(EXTRAS))
    return cells, wrong


def _copy_cells(cells: Sequence[str], rng: random.Random, assignment: str, strength: int) -> list[str]:
    """A disguised copy: 0 verbatim, 1 names changed, 2 names changed, cells reordered, comments and
    blank lines added."""
    if strength == 0:
        return list(cells)
    keep = frozenset(POOL[assignment])
    joined = "\n\n".join(cells)
    names = _renamable(joined, keep)
    mapping = {n: f"{rng.choice(_NAMES)}{i}" for i, n in enumerate(sorted(names))}
    out = [_rename(c, mapping) for c in cells]
    if strength >= 2:
        rng.shuffle(out)
        out = [_decorate(c, rng, comments=0.25, blanks=0.2) for c in out]
    return out


def generate_class(size: int, assignments: Sequence[str] = ("01-convolution",), seed: int = 0,
                   copies: int | None = None, shared_bugs: int | None = None) -> GeneratedClass:
    """``size`` submissions spread evenly over ``assignments``; in each assignment ``copies`` planted
    copies and ``shared_bugs`` planted shared-bug pairs (by default one of each per 200 submissions,
    at least one)."""
    rng = random.Random(seed)
    entries: list[Entry] = []
    planted_copies: set[tuple[str, str, str]] = set()
    planted_bugs: set[tuple[str, str, str]] = set()
    own: dict[tuple[str, str], tuple[str, ...]] = {}
    share = [size // len(assignments) + (i < size % len(assignments)) for i in range(len(assignments))]
    for assignment, count in zip(assignments, share):
        n_copies = max(1, count // 200) if copies is None else copies
        n_bugs = max(1, count // 200) if shared_bugs is None else shared_bugs
        n_copies, n_bugs = min(n_copies, count // 2), min(n_bugs, count // 4)
        students = [f"s{i:05d}" for i in rng.sample(range(10 * count + 10), count)]
        originals = students[:count - n_copies]
        cells: dict[str, list[str]] = {}
        wrong: dict[str, set[str]] = {}
        for student in originals:
            cells[student], wrong[student] = _student_cells(assignment, rng)
        for i, copier in enumerate(students[count - n_copies:]):
            source = originals[i]
            cells[copier] = _copy_cells(cells[source], rng, assignment, strength=(0, 1, 2, 2, 2)[i % 5])
            wrong[copier] = set(wrong[source])
            planted_copies.add((assignment, *sorted((source, copier))))
        pool = originals[n_copies:]  # neither a copy's source nor a copier
        for i in range(n_bugs):
            a, b = pool[2 * i], pool[2 * i + 1]
            questions = rng.sample(list(POOL[assignment]), 2)
            bug = {f"{q}/hidden/{k}:{_digest('planted', assignment, i, q, k)}" for q in questions for k in range(3)}
            wrong[a] |= bug
            wrong[b] |= bug
            planted_bugs.add((assignment, *sorted((a, b))))
        for student in students:
            entries.append(Entry(student, assignment, "\n\n".join(cells[student]), frozenset(wrong[student])))
            own[(assignment, student)] = tuple(cells[student])
    rng.shuffle(entries)
    return GeneratedClass(tuple(entries), {a: template_code(a) for a in assignments}, frozenset(planted_copies),
                          frozenset(planted_bugs), own)


def notebook_of(assignment: str, cells: Sequence[str]) -> dict[str, Any]:
    """A submitted notebook with these own cells: the template with each answered question's cell
    replaced by the student's and their other cells (helpers, scratch) inserted before the end."""
    nb = json.loads(json.dumps(template_notebook(assignment)))
    by_name = {}
    extra = []
    for cell in cells:
        question = next((q for q in POOL[assignment] if f"def {q}(" in cell or (q == "accuracy" and "model" in cell
                                                                                 and "def " not in cell)), None)
        if question and question not in by_name:
            by_name[question] = cell
        else:
            extra.append(cell)
    for c in nb["cells"]:
        meta = c.get("metadata", {}).get("grader", {})
        if meta.get("role") == "answer" and meta.get("question") in by_name:
            c["source"] = by_name[meta["question"]]
    for cell in extra:
        nb["cells"].insert(len(nb["cells"]) - 1, {"cell_type": "code", "metadata": {}, "source": cell,
                                                    "outputs": [], "execution_count": None})
    return nb
