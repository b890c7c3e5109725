"""Similar submissions across a class, flagged for a person to look at (issue 16). Nothing here
changes a score, and nothing here runs, compiles or evaluates a student's code: it is only tokenised.

Per assignment, two signals:

- *Code*, the MOSS method (Schleimer, Wilkerson, Aiken 2003). Each student's own code
  (:func:`own_code`: the released template's unchanged cells left out) is tokenised with
  :mod:`tokenize` and normalised (names that are not keywords or builtins, numbers and strings each
  become one placeholder; comments, docstrings and line ends dropped), cut into k-grams of
  :data:`K` = 7 tokens, hashed, and winnowed with windows of :data:`W` = 4 k-grams, so any run of
  10 alike tokens is seen. The template's k-grams are subtracted (MOSS's base file: the stubs, the
  given helpers), and so is any fingerprint more than ``max(policy.common, COMMON_SHARE × class)``
  submissions hold (MOSS's ``-m``; by default 10, or 1 % of a larger class): the idiom everyone
  writes. Code that many wrote alike is no evidence that two of them copied it, so a copy of such
  code is not found by code (a shared bug in it still is); a group of up to ten holding one
  solution still is. Pairs come from an
  inverted index fingerprint -> submissions, never from the N² pairs; the score is the Sørensen–Dice
  coefficient of the two fingerprint sets, each fingerprint weighted by its rarity in the class
  (:func:`_dice`, :func:`_rarity`), so that independent answers meeting in idiom score low.
- *Behaviour*: identical wrong answers on the same hidden cases (:func:`entry_of`,
  :mod:`grader.grade.digest`), from the same kind of index; the score is the share of the smaller
  set the two hold in common (:func:`_containment`), and at least :data:`MIN_SHARED_WRONG` are needed.

The `copydetect` package (0.5.0) was evaluated first and is not used: it compares every file with
every other (300 files took 18.4 s here; 1,000 would take minutes); it hashes k-grams of characters
with Python's per-process salted ``hash()`` of text, so one file's winnowed fingerprints changed
between runs (302, then 316) and so can a score; it tokenises with Pygments, not :mod:`tokenize`,
has no class-frequency filter, and reads files by path. Its boilerplate subtraction and robust
winnowing are what this module does too.

Cost: tokenising dominates; the index's pair counting is at most the common limit times the number
of fingerprints. 1,000 submissions (2.8 MB of own code) take 3.5 to 5 s on this 2-core machine. One
submission is read up to :data:`MAX_TOKENS` tokens and :data:`MAX_CHARS` characters: under a second
whatever it holds.
"""

from __future__ import annotations

import bisect
import builtins
import itertools
import json
import keyword
import math
import tokenize
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..course.config import SimilarityPolicy
from ..judge.results import SubmissionResult

__all__ = ["Entry", "Match", "SimilarPair", "Similarity", "Span", "compare_class", "entry_of", "own_code",
           "template_code", "wrong_of"]


@dataclass(frozen=True)
class Span:
    """Lines ``first``..``last`` (1-based, inclusive) of one student's own code (:attr:`Entry.code`)."""

    first: int
    last: int


@dataclass(frozen=True)
class Match:
    """One matching region of a pair: lines of A's own code and the lines of B's it matches."""

    a: Span
    b: Span


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions of one assignment and how alike they are. ``student_a < student_b``;
    ``code_score`` and ``shared_wrong`` are in [0, 1]; ``flagged`` says the course's thresholds
    (``[similarity]``) call for a look. ``matches`` are the matching regions of their own code;
    ``wrong_cases`` the hidden cases they answer with the same wrong value (``question · group #case``)."""

    assignment: str
    student_a: str
    student_b: str
    code_score: float
    shared_wrong: float
    flagged: bool
    matches: tuple[Match, ...] = ()
    wrong_cases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One submission as the pass sees it: the student's own code (every code cell's text with the
    released template's unchanged cells left out, cells apart by one blank line) and the digests of
    its wrong answers not explained by a declared mistake (``question/group/CASE:DIGEST``)."""

    student: str
    assignment: str
    code: str
    wrong: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Similarity:
    """The pass's result for a class: every reported pair, flagged ones first; the own code of every
    student of a flagged pair (``code[assignment][student]``), for the side-by-side pages; how
    many submissions of each assignment were compared; and the pass's ``work``, over all
    assignments: ``fingerprints`` indexed and ``candidate_pairs`` drawn from the index (what its
    cost grows with, for the bench and the tests, which never time it)."""

    pairs: tuple[SimilarPair, ...] = ()
    code: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    compared: Mapping[str, int] = field(default_factory=dict)
    work: Mapping[str, int] = field(default_factory=dict)

    def flagged(self) -> tuple[SimilarPair, ...]:
        return tuple(p for p in self.pairs if p.flagged)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``DIR/similarity.json``): ``pairs`` (each with ``matches`` as ``{"a": [first,
        last], "b": [first, last]}``), ``code`` and ``compared``."""
        return {
            "pairs": [_pair_json(p) for p in self.pairs],
            "code": {a: dict(students) for a, students in self.code.items()},
            "compared": dict(self.compared),
            "work": dict(self.work),
        }

    @classmethod
    def from_json(cls, data: Any) -> Similarity:
        """The record :meth:`to_json` wrote, from parsed JSON or its text. The file may have been
        edited by hand or cut short: whatever is not of the expected type is left out (a pair without
        its names, a match that is not two line ranges, a count that is not a number), scores are
        clamped to [0, 1], and text that does not parse is an empty result; never an exception.
        Pairs come back flagged first, in the pass's order."""
        if isinstance(data, (str, bytes, bytearray)):
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                return cls()
        if not isinstance(data, Mapping):
            return cls()
        pairs = [p for p in map(_pair_from_json, _items(data.get("pairs"))) if p is not None]
        code = {a: {s: c for s, c in students.items() if _is_name(s) and isinstance(c, str)}
                for a, students in _mapping(data.get("code")).items() if _is_name(a) and isinstance(students, Mapping)}
        compared = {a: int(n) for a, n in _mapping(data.get("compared")).items()
                    if _is_name(a) and _is_count(n)}
        work = {k: int(n) for k, n in _mapping(data.get("work")).items() if _is_name(k) and _is_count(n)}
        return cls(tuple(sorted(pairs, key=_pair_order)), code, compared, work)


def own_code(notebook: Mapping[str, Any], template: Mapping[str, Any] | None) -> str:
    """A submitted notebook's own code: see :class:`Entry`.

    Every code cell's source (a string or a list of strings; a cell that is not a mapping, or has no
    usable source, is skipped), without the cells whose whitespace-stripped text is one of the
    released template's code cells, blank lines around each cell trimmed, cells apart by one blank
    line. Line ends are made ``\\n`` (whatever ``str.splitlines`` splits on), so that line numbers
    (:class:`Span`) count the same whichever way a reader splits the text. The cells' metadata
    (``grader.role``) is not read: a student can edit it, and an answer marked "given" must not hide.
    ``own_code(template, None)`` is the template's own code (``compare_class``'s ``templates``)."""
    released = {text.strip() for text in _code_cells(template)}
    return "\n\n".join(text for text in _code_cells(notebook) if text.strip() and text.strip() not in released)


def template_code(template: Mapping[str, Any] | None) -> str:
    """The released template's code, every code cell of it: what :func:`compare_class` subtracts."""
    return own_code(template or {}, None)


def entry_of(result: SubmissionResult, notebook: Mapping[str, Any], template: Mapping[str, Any] | None) -> Entry:
    """The pass's view of one graded submission.

    Its wrong answers are those of the tests no declared mistake explains (``diagnosis is None``): a
    declared mistake is one the course knows many students make on their own (that is why it was
    declared), so two students sharing its wrong values is expected and carries no signal."""
    return Entry(result.student, result.assignment, own_code(notebook, template), wrong_of(result))


def wrong_of(result: SubmissionResult) -> frozenset[str]:
    """The wrong answers of ``result`` that no declared mistake explains (see :func:`entry_of`)."""
    return frozenset(f"{t.question}/{t.group}/{item}" for t in result.tests if t.diagnosis is None
                     for item in (t.wrong if isinstance(t.wrong, (tuple, list)) else ()) if isinstance(item, str))


def compare_class(entries: Sequence[Entry], templates: Mapping[str, str], policy: SimilarityPolicy) -> Similarity:
    """Compare every assignment's submissions with each other. ``templates`` is each assignment's
    released template code (its fingerprints are subtracted from everyone's). Grows with the number
    of fingerprints (an inverted index), never with the number of pairs.

    Deterministic: the same entries in any order give the same result. A student with two entries of
    one assignment is compared once, with the entry holding more code (the fuller resubmission; ties
    broken by content, not by the order they came in), so a pair is never a student and themself. An
    entry without a student's or an assignment's name (text) is left out; code that is not text is
    empty, a wrong answer that is not text is dropped."""
    by_assignment: dict[str, dict[str, Entry]] = {}
    for entry in filter(None, map(_usable, entries)):
        kept = by_assignment.setdefault(entry.assignment, {})
        other = kept.get(entry.student)
        if other is None or _fuller(entry, other):
            kept[entry.student] = entry
    pairs: list[SimilarPair] = []
    code: dict[str, dict[str, str]] = {}
    work: Counter[str] = Counter(fingerprints=0, candidate_pairs=0)
    for assignment in sorted(by_assignment):
        students = by_assignment[assignment]
        template = templates.get(assignment, "") if isinstance(templates, Mapping) else ""
        found = _compare_assignment(assignment, [students[s] for s in sorted(students)],
                                    template if isinstance(template, str) else "", policy, work)
        pairs += found
        flagged = sorted({s for p in found if p.flagged for s in (p.student_a, p.student_b)})
        if flagged:
            code[assignment] = {s: students[s].code for s in flagged}
    compared = {a: len(students) for a, students in sorted(by_assignment.items())}
    return Similarity(tuple(sorted(pairs, key=_pair_order)), code, compared, dict(work))


def _usable(entry: Any) -> Entry | None:
    if not isinstance(entry, Entry) or not (_is_name(entry.student) and _is_name(entry.assignment)):
        return None
    code = entry.code if isinstance(entry.code, str) else ""
    items = entry.wrong if isinstance(entry.wrong, (set, frozenset, tuple, list)) else ()
    wrong = frozenset(w for w in items if isinstance(w, str))
    return entry if code is entry.code and wrong == entry.wrong else Entry(entry.student, entry.assignment, code, wrong)


def _fuller(entry: Entry, other: Entry) -> bool:
    return (len(entry.code), entry.code, sorted(entry.wrong)) > (len(other.code), other.code, sorted(other.wrong))


# -- code: tokens, k-grams, winnowing ---------------------------------------------------------------


K = 7  # tokens per k-gram: a match shorter than this (`N = N . N ( N`, one trivial statement) is noise
W = 4  # k-grams per winnowing window: any run of W + K - 1 = 10 alike tokens (a line) shares a fingerprint
COMMON_SHARE = 0.01  # a fingerprint in more than this share of the class (and policy.common) is idiom, dropped
WRONG_COUNT = 4  # a wrong value in more submissions than this (and COMMON_SHARE) is a common mistake
MIN_SHARED_WRONG = 2  # identical wrong answers needed before the behaviour score may flag a pair
_REPEATS = 3  # of a fingerprint either student holds more than once, the first few places on each side
_RECENT = 8  # regions an anchor may continue: the latest few (see _extend)
_LINE_GAP = 2  # matching regions this few lines apart on both sides are shown as one
MAX_TOKENS = 100_000  # tokens the tokenizer may make of one text, restarts included: what its time grows with
MAX_CHARS = 2_000_000  # own code past this is not read, even as comments and strings (which tokenise cheaply)
_RETRIES = 4  # a text so broken that recovering from its errors means reading it more often keeps what was read
_BUILTINS = frozenset(dir(builtins)) | frozenset(keyword.kwlist)
_FSTRING = {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}
_FSTRING_START, _FSTRING_END = getattr(tokenize, "FSTRING_START", None), getattr(tokenize, "FSTRING_END", None)
_QUIET = (tokenize.COMMENT, tokenize.NL)
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.ERRORTOKEN,
            tokenize.ENCODING}
# The ids of the words most tokens normalise to, worked out once (an id is the word's CRC-32).
_WORD_IDS = {w: zlib.crc32(w.encode()) for w in (*_BUILTINS, *tokenize.EXACT_TOKEN_TYPES, "N", "0", "S", "<", ">")}
_NAME_IDS = {w: _WORD_IDS[w] for w in _BUILTINS}  # a name that is a keyword or a builtin stays itself
_NAME = _WORD_IDS["N"]  # every other name


def _code_cells(notebook: Any) -> list[str]:
    """The text of every code cell, blank lines around it trimmed, line ends ``\\n``."""
    cells = notebook.get("cells") if isinstance(notebook, Mapping) else None
    if not isinstance(cells, list):
        return []
    texts = []
    for cell in cells:
        if isinstance(cell, Mapping) and cell.get("cell_type") == "code":
            source = cell.get("source")
            if isinstance(source, (list, tuple)):
                source = "".join(line for line in source if isinstance(line, str))
            if isinstance(source, str):
                lines = source.splitlines()
                while lines and not lines[-1].strip():
                    lines.pop()
                while lines and not lines[0].strip():
                    lines.pop(0)
                texts.append("\n".join(line.rstrip() for line in lines))
    return texts


@dataclass(frozen=True)
class _Tokens:
    """A text's normalised tokens (as ints) and the first and last source line of each."""

    ids: tuple[int, ...]
    first: tuple[int, ...]
    last: tuple[int, ...]


def _tokens(text: str) -> _Tokens:
    """Tokenise with :mod:`tokenize` (the code is never compiled nor run) and normalise: a name that
    is not a keyword or a builtin is ``N``, any number ``0``, any string (an f-string whole) ``S``; a
    statement that does nothing (a docstring, ``pass``, a lone name: :func:`_no_op`) is dropped like
    a comment, and so are line ends, ``;``, blank lines and parentheses that only group
    (:func:`_groups`). INDENT and DEDENT are kept: they are where a block starts and ends, the
    shape of the code that renaming and reformatting leave alone, and without them a loop's body
    and the statement after the loop read alike (the independent solutions of the tests score
    higher without them). A tokenize error keeps the tokens before it and starts again after it
    (:func:`_tokenize_from`), so one broken cell does not hide the rest.

    What is read is cut at :data:`MAX_TOKENS` tokens made (code past it is a pasted blob, not
    written code), and at :data:`MAX_CHARS` characters. The cut is on tokens, not on characters,
    so that a comment, a docstring or a base64 string of 200 kB pasted ahead of a copy (one token,
    or two a line) does not leave the copy unread, as a cut at 200,000 characters did."""
    lines = text[:MAX_CHARS].split("\n")
    ids: list[int] = []
    first: list[int] = []
    last: list[int] = []
    start, budget, tokens = 0, _RETRIES * len(lines) + 100, MAX_TOKENS  # lines and tokens, restarts included
    while start < len(lines) and budget > 0 and tokens > 0:
        raw, resume, read = _tokenize_from(lines, start, tokens)
        _normalise(raw, start, len(lines), ids, first, last)
        start, budget, tokens = resume, budget - read, tokens - len(raw)
    return _Tokens(tuple(ids), tuple(first), tuple(last))


def _tokenize_from(lines: Sequence[str], start: int, most: int) -> tuple[list[tokenize.TokenInfo], int, int]:
    """The tokens from line ``start`` (0-based) on, up to the first error or the ``most``-th token,
    the line to go on from and how many lines were read. At the end of the text inside a bracket, the tokens from the
    unclosed bracket on are left out (all that followed was read as its continuation) and the
    tokenizer starts again on the line after it; inside a triple-quoted string, on the line after
    the string began; after a bad dedent, on the line of the dedent."""
    raw: list[tokenize.TokenInfo] = []
    read = 0

    def readline() -> str:
        nonlocal read
        read += 1
        return lines[start + read - 1] + "\n" if start + read - 1 < len(lines) else ""

    try:
        raw.extend(itertools.islice(tokenize.generate_tokens(readline), most))
        return raw, len(lines), read
    except (tokenize.TokenError, SyntaxError, ValueError) as error:  # IndentationError is a SyntaxError
        opened = _unclosed(raw)
        if opened is not None:
            return raw[:opened], start + raw[opened].start[0], read
        if isinstance(error, tokenize.TokenError):
            where = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], tuple) else (1,)
            return raw, start + max(int(where[0]), 1), read
        return raw, start + max((error.lineno or 1) - 1, 1), read


def _unclosed(raw: Sequence[tokenize.TokenInfo]) -> int | None:
    """The index of the outermost bracket still open at the end of ``raw``, if any."""
    stack: list[int] = []
    for i, token in enumerate(raw):
        if token.type == tokenize.OP and token.string in "([{":
            stack.append(i)
        elif token.type == tokenize.OP and token.string in ")]}" and stack:
            stack.pop()
    return stack[0] if stack else None


def _normalise(raw: list[tokenize.TokenInfo], offset: int, lines: int,
               ids: list[int], first: list[int], last: list[int]) -> None:
    """Append the id, first and last line of each token of ``raw`` that counts: the tokenizer's lines
    moved by ``offset``, within the text's ``lines``."""
    depth = 0  # inside an f-string (Python 3.12 tokenises its parts)
    grouping: list[bool] = []  # of each open "(", whether it only groups (dropped, and its ")" too)
    add_id, add_first, add_last = ids.append, first.append, last.append  # once per token: kept at hand
    for i, token in enumerate(raw):
        kind = token.type
        if kind == tokenize.OP and token.string in "()" and not depth:
            if token.string == "(":
                grouping.append(_groups(raw, i))
            if grouping[-1] if token.string == "(" else (grouping.pop() if grouping else False):
                continue
        if depth or kind in _FSTRING:
            if kind == _FSTRING_START:
                depth += 1
                if depth == 1:
                    add_id(_WORD_IDS["S"])
                    add_first(offset + token.start[0])
                    add_last(offset + token.end[0])
            elif kind == _FSTRING_END:
                depth -= 1
                last[-1] = offset + token.end[0]
            continue
        if (token.string in _NO_OP_WORDS or i == 0 or raw[i - 1].type in _STARTS or raw[i - 1].string == ";") \
                and _no_op(raw, i):  # checked first, inline: a token after a statement's start is rare
            continue
        if kind == tokenize.NAME:
            add_id(_NAME_IDS.get(token.string, _NAME))
        elif kind == tokenize.OP:
            add_id(_word_id(token.string))
        elif kind in _DROPPED:
            continue
        elif kind == tokenize.NUMBER:
            add_id(_WORD_IDS["0"])
        elif kind == tokenize.STRING:
            add_id(_WORD_IDS["S"])
        elif kind == tokenize.INDENT:
            add_id(_WORD_IDS[">"])
        elif kind == tokenize.DEDENT:  # a region it starts begins on the next line; one it ends, on the block's last
            line = min(offset + token.start[0], lines)  # the DEDENTs at the end of the text stand past it
            add_id(_WORD_IDS["<"])
            add_first(line)
            add_last(last[-1] if last else line)
            continue
        else:
            add_id(_word_id(token.string))
        add_first(offset + token.start[0])
        add_last(offset + token.end[0])


def _word_id(word: str) -> int:
    """A normalised token as an int, the same in every process (``hash`` of text is salted)."""
    known = _WORD_IDS.get(word)
    return known if known is not None else zlib.crc32(word.encode("utf-8", "surrogatepass"))


def _groups(raw: list[tokenize.TokenInfo], i: int) -> bool:
    """The "(" at ``raw[i]`` only groups (``(a + b) * c``, ``return (a, b)``): it follows no name,
    closing bracket or string, so it opens no call. Such parentheses are dropped with their ")":
    a copy with redundant ones around every expression had every k-gram cut (its score 0.24)."""
    before = i - 1
    while before >= 0 and raw[before].type in _QUIET:
        before -= 1
    if before < 0:
        return True
    token = raw[before]
    if token.type == tokenize.NAME:
        return token.string in _STATEMENTS  # `return (`, `if (`, `in (`; not `f(`, `print(`
    return token.type not in (tokenize.STRING, tokenize.NUMBER) and token.string not in (")", "]", "}")


def _no_op(raw: list[tokenize.TokenInfo], i: int) -> bool:
    """The token at ``raw[i]`` does nothing: ``pass``, the ``;`` between two statements (a line end,
    which is dropped too), or a statement of one value alone (a docstring, a string used as a
    comment, ``...``, a lone name or number). A copy with such a statement after every line would
    otherwise have every k-gram cut in two (its score fell from 1 to 0.25)."""
    token = raw[i]
    if token.type == tokenize.NAME and token.string == "pass" or token.type == tokenize.OP and token.string == ";":
        return True
    lone = (token.type in (tokenize.STRING, tokenize.NUMBER) or token.type == tokenize.OP and token.string == "..."
            or token.type == tokenize.NAME and token.string not in _STATEMENTS)
    return lone and _alone(raw, i)


_STATEMENTS = frozenset(keyword.kwlist) - {"None", "True", "False"}  # `break`, `return`: alone, they do something
_NO_OP_WORDS = frozenset({"pass", ";"})
_STARTS = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, *_QUIET})  # what a statement follows


def _alone(raw: list[tokenize.TokenInfo], i: int) -> bool:
    """The token at ``raw[i]`` is a statement of its own."""
    before = i - 1
    while before >= 0 and raw[before].type in _QUIET:
        before -= 1
    after = i + 1
    while after < len(raw) and raw[after].type in _QUIET:
        after += 1
    return ((before < 0 or raw[before].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
             or raw[before].string == ";")
            and (after == len(raw) or raw[after].type in (tokenize.NEWLINE, tokenize.ENDMARKER)
                 or raw[after].string == ";"))


def _kgrams(ids: Sequence[int]) -> list[int]:
    """The hash of every run of :data:`K` tokens (a tuple of ints hashes the same in every process)."""
    return [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]


def _winnow(hashes: Sequence[int]) -> list[int]:
    """The positions robust winnowing selects: in every window of :data:`W` hashes the smallest,
    the one already selected on a tie, else the rightmost (Schleimer, Wilkerson, Aiken 2003). A
    text shorter than one window gives its smallest hash."""
    if len(hashes) <= W:
        return [min(range(len(hashes)), key=lambda i: (hashes[i], -i))] if hashes else []
    chosen: list[int] = []
    best = -1
    for end in range(len(hashes)):
        if best <= end - W:  # the selected hash left the window: the rightmost minimum of the new one
            best = end
            for i in range(end - 1, max(end - W, -1), -1):
                if hashes[i] < hashes[best]:
                    best = i
        elif hashes[end] < hashes[best]:
            best = end
        if end >= W - 1 and (not chosen or chosen[-1] != best):
            chosen.append(best)
    return chosen


@dataclass(frozen=True)
class _Code:
    """One submission's fingerprints (hash -> token positions, template's left out) and how many of
    its tokens are its own (not inside a k-gram of the template)."""

    tokens: _Tokens
    prints: Mapping[int, tuple[int, ...]]
    own_tokens: int


def _fingerprint(text: str, template: frozenset[int]) -> _Code:
    tokens = _tokens(text)
    hashes = _kgrams(tokens.ids)
    given = [False] * len(tokens.ids)
    for i, h in enumerate(hashes):
        if h in template:
            given[i:i + K] = [True] * K
    prints: dict[int, list[int]] = {}
    for i in _winnow(hashes):
        if hashes[i] not in template:
            prints.setdefault(hashes[i], []).append(i)
    return _Code(tokens, {h: tuple(p) for h, p in prints.items()}, given.count(False))


# -- a class: the inverted index, scores, matches ---------------------------------------------------


def _common_limit(n: int, count: int) -> int:
    """In more submissions than this, a fingerprint (``policy.common``) or a wrong value
    (:data:`WRONG_COUNT`) is idiom, not a signal. It cannot be much lower for code: a solution
    passed around a group of students is held by all of them, and below the group's size their
    copies would no longer be found. Wrong values have a lower limit: a common bug repeats byte for
    byte for everyone who makes it on their own, as independent code seldom does."""
    return max(count, math.ceil(COMMON_SHARE * n))


def _distinctive(sets: Sequence[Sequence[Any]], limit: int) -> tuple[list[set[Any]], dict[Any, list[int]]]:
    """Each submission's items less those of more than ``limit`` submissions, and the inverted
    index item -> submissions (indices ascending) of every item kept (held once included)."""
    index: dict[Any, list[int]] = {}
    for i, items in enumerate(sets):
        for item in items:
            index.setdefault(item, []).append(i)
    common = {item for item, holders in index.items() if len(holders) > limit}
    kept = [set(items) - common for items in sets]
    return kept, {item: holders for item, holders in index.items() if len(holders) <= limit}


def _shared_counts(index: Mapping[Any, list[int]],
                   weight: Mapping[Any, float] | None = None) -> Counter[tuple[int, int]]:
    """How many items each pair of submissions shares (or their total ``weight``), from the index
    alone: the cost is the sum of the squared posting lengths, each at most the common limit, never
    the N² pairs."""
    counts: Counter[tuple[int, int]] = Counter()
    for item, holders in index.items():
        if len(holders) < 2:
            continue
        if weight is None:
            counts.update(itertools.combinations(holders, 2))
        else:
            for pair in itertools.combinations(holders, 2):
                counts[pair] += weight[item]
    return counts


def _rarity(index: Mapping[Any, list[int]], limit: int) -> dict[Any, float]:
    """Each fingerprint's weight, ``log((limit + 2) / holders)`` (an inverse document frequency
    measured against the common limit rather than the class size, so that a student who shares
    nothing with anyone changes no other pair's score): code two students alone share weighs most,
    code that several wrote alike (idiom just below the limit) least. Identical code still scores
    1, whatever its weight: a group sharing one solution is found, while independent answers, which
    meet in idiom, score lower."""
    return {item: math.log((limit + 2) / len(holders)) for item, holders in index.items()}


def _compare_assignment(assignment: str, entries: Sequence[Entry], template: str,
                        policy: SimilarityPolicy, work: Counter[str]) -> list[SimilarPair]:
    """The pairs of one assignment worth reporting: every flagged pair, and of the others those
    halfway to a threshold (a code score of at least half ``policy.code``, or a behaviour score of
    half ``policy.shared_wrong``), the most alike first, at most one per submission (and at least
    50): enough to see how close the class comes, never the half-million rows of every pair of a
    thousand. A pair is flagged on code when its score reaches ``policy.code``, both students' own
    code (less the template's) is ``policy.min_tokens`` long, and so is the code they share (the
    tokens its distinctive fingerprints cover, on each side): a score made of two or three shared
    fingerprints (all else idiom) is no evidence, however high; on behaviour when its score
    reaches ``policy.shared_wrong`` with :data:`MIN_SHARED_WRONG` identical wrong answers or more:
    one identical wrong value can be two different bugs meeting on one input, a shared bug shows
    on several hidden cases."""
    n = len(entries)
    given = frozenset(_kgrams(_tokens(template).ids))
    done: dict[str, _Code] = {}  # identical code (a copy, a resubmission) is fingerprinted once
    codes = [done.get(e.code) or done.setdefault(e.code, _fingerprint(e.code, given)) for e in entries]
    limit = _common_limit(n, policy.common)
    prints, print_index = _distinctive([tuple(c.prints) for c in codes], limit)
    wrongs, wrong_index = _distinctive([tuple(sorted(e.wrong)) for e in entries], _common_limit(n, WRONG_COUNT))
    weight = _rarity(print_index, limit)
    code_shared = _shared_counts(print_index, weight)
    wrong_shared = _shared_counts(wrong_index)
    totals = [math.fsum(weight[h] for h in kept) for kept in prints]
    candidates = sorted(set(code_shared) | set(wrong_shared))
    work.update(fingerprints=sum(len(c.prints) for c in codes), candidate_pairs=len(candidates))
    found: list[SimilarPair] = []
    for i, j in candidates:
        code_score = _dice(code_shared[i, j], totals[i], totals[j])
        wrong_score = _containment(wrong_shared[i, j], wrongs[i], wrongs[j])
        long_enough = min(codes[i].own_tokens, codes[j].own_tokens) >= policy.min_tokens
        flagged = ((long_enough and code_score >= policy.code
                    and _shared_length(codes[i], codes[j], prints[i] & prints[j]) >= policy.min_tokens)
                   or (wrong_shared[i, j] >= MIN_SHARED_WRONG and wrong_score >= policy.shared_wrong))
        if flagged or code_score >= policy.code / 2 or wrong_score >= policy.shared_wrong / 2:
            found.append(_pair(assignment, entries[i], entries[j], codes[i], codes[j], prints[i] & prints[j],
                               sorted(wrongs[i] & wrongs[j]), code_score, wrong_score, flagged))
    flagged_pairs = [p for p in found if p.flagged]
    others = sorted((p for p in found if not p.flagged), key=_pair_order)[:max(n, 50)]
    return flagged_pairs + others


def _shared_length(a: _Code, b: _Code, shared: set[int]) -> int:
    """How many tokens the shared fingerprints cover, on the side where they cover fewer."""
    return min(_covered(a, shared), _covered(b, shared))


def _covered(code: _Code, shared: set[int]) -> int:
    covered, end = 0, -1
    for p in sorted(p for h in shared for p in code.prints[h]):
        covered += min(K, p + K - max(p, end))  # the k-gram's tokens past the last one counted
        end = max(end, p + K)
    return covered


def _dice(shared: float, a: float, b: float) -> float:
    """The code score: the shared fingerprints' weight over the mean of the two sets' weights
    (Sørensen–Dice, weighted by :func:`_rarity`), rounded to 4 places (the flag compares the score
    shown). Over the smaller set instead, a short answer whose few idioms all recur in a longer one
    scores high (0.44 among the tests' independent solutions, against 0.28); over the larger, a copy
    with code added scores low; the mean is between. Unweighted, the independent solutions reached
    0.55 and a group of six holding one solution was found only by dropping its code as idiom."""
    total = a + b
    return round(min(1.0, 2 * shared / total), 4) if total > 0 else 0.0


def _containment(shared: int, a: set[Any], b: set[Any]) -> float:
    """The behaviour score: shared wrong answers over the smaller set of the two. One bug shared is
    the signal, whatever else either student got wrong on their own, so the other's extra mistakes
    do not dilute it."""
    smaller = min(len(a), len(b))
    return round(min(1.0, shared / smaller), 4) if smaller else 0.0


def _pair(assignment: str, a: Entry, b: Entry, code_a: _Code, code_b: _Code, shared: set[int],
          wrong: list[str], code_score: float, wrong_score: float, flagged: bool) -> SimilarPair:
    matches = _matches(code_a, code_b, shared) if flagged else []  # only a flagged pair's page shows them
    if a.student > b.student:
        a, b = b, a
        matches = [Match(m.b, m.a) for m in matches]
    return SimilarPair(assignment, a.student, b.student, code_score, wrong_score, flagged,
                       tuple(sorted(matches, key=lambda m: (m.a.first, m.b.first, m.a.last, m.b.last))),
                       tuple(_wrong_case(w) for w in wrong))


def _matches(a: _Code, b: _Code, shared: set[int]) -> list[Match]:
    """The shared fingerprints as regions of both students' code. Anchors (a position in A, one in
    B) of the fingerprints each holds once make the regions, joined while both sides advance
    together (within one winnowing guarantee, :data:`W` + :data:`K`); a fingerprint either holds more
    than once (a line written twice) only extends a region it fits, so it does not tie unrelated
    places together. Each region is then the lines it covers on each side, and regions whose lines
    overlap or nearly touch (:data:`_LINE_GAP`) on both sides are one, each compared only with
    the regions still within reach of it on A's side (thousands of small functions copied in
    another order made millions of comparisons). Code moved around (functions reordered) gives one
    region per block."""
    once = sorted((a.prints[h][0], b.prints[h][0]) for h in shared if len(a.prints[h]) == len(b.prints[h]) == 1)
    again = sorted((pa, pb) for h in shared if len(a.prints[h]) > 1 or len(b.prints[h]) > 1
                   for pa in a.prints[h][:_REPEATS] for pb in b.prints[h][:_REPEATS])
    regions: list[list[int]] = []  # [A's first token, A's last, B's first, B's last], by A's first
    for pa, pb in once or again[:1]:
        if not _extend(regions, len(regions), pa, pb):
            regions.append([pa, pa + K - 1, pb, pb + K - 1])
    starts = [r[0] for r in regions]
    for pa, pb in again:
        _extend(regions, bisect.bisect_right(starts, pa + W + K), pa, pb)
    spans = [_lines(a.tokens, r[0], r[1]) + _lines(b.tokens, r[2], r[3]) for r in regions]
    merged: list[list[int]] = []
    reach: list[list[int]] = []  # the merged regions a later span may still be near on A's side
    for span in sorted(spans):  # by A's first line: a region that ends too far above it is out of reach for good
        reach = [m for m in reach if m[1] + _LINE_GAP >= span[0]]
        for m in reach:
            if _near(span[0], span[1], m[0], m[1]) and _near(span[2], span[3], m[2], m[3]):
                m[:] = [min(m[0], span[0]), max(m[1], span[1]), min(m[2], span[2]), max(m[3], span[3])]
                break
        else:
            merged.append(list(span))
            reach.append(merged[-1])
    return [Match(Span(m[0], m[1]), Span(m[2], m[3])) for m in merged]


def _near(first: int, last: int, other_first: int, other_last: int) -> bool:
    """Two line ranges overlap, or have at most :data:`_LINE_GAP` - 1 lines between them."""
    return first <= other_last + _LINE_GAP and other_first <= last + _LINE_GAP


def _lines(tokens: _Tokens, first: int, last: int) -> tuple[int, int]:
    """The lines of tokens ``first``..``last``; a region of nothing but block ends is on its last line."""
    return min(tokens.first[first], tokens.last[last]), tokens.last[last]


def _extend(regions: list[list[int]], end: int, pa: int, pb: int) -> bool:
    """Add the anchor to the latest region before ``end`` it continues on both sides; False if none.
    Only the few regions starting last are looked at: the anchors come by A's position, so a region
    they continue is one of the latest."""
    reach = W + K
    for region in reversed(regions[max(0, end - _RECENT):end]):
        if region[0] - reach <= pa <= region[1] + reach and region[2] - reach <= pb <= region[3] + reach:
            region[:] = [min(region[0], pa), max(region[1], pa + K - 1), min(region[2], pb), max(region[3], pb + K - 1)]
            return True
    return False


def _wrong_case(item: str) -> str:
    """``conv2d/same mode/3:DIGEST`` as ``conv2d · same mode #4`` (cases counted from 1)."""
    question, slash, rest = item.partition("/")
    if not slash:
        return item
    group, _, case = rest.rpartition("/")
    index = case.partition(":")[0]
    plain = index.isascii() and index.isdigit() and len(index) <= 9  # not '²', not 10,000 digits
    return f"{question} · {group} #{int(index) + 1}" if plain else f"{question} · {group}"


# -- the stored record (DIR/similarity.json) -------------------------------------------------------


def _pair_order(p: SimilarPair) -> tuple[Any, ...]:
    """Flagged first, then the more alike, then by name: one order whatever the input's."""
    return (not p.flagged, -max(p.code_score, p.shared_wrong), -p.code_score, -p.shared_wrong,
            p.assignment, p.student_a, p.student_b)


def _pair_json(p: SimilarPair) -> dict[str, Any]:
    return {
        "assignment": p.assignment, "student_a": p.student_a, "student_b": p.student_b,
        "code_score": p.code_score, "shared_wrong": p.shared_wrong, "flagged": p.flagged,
        "matches": [{"a": [m.a.first, m.a.last], "b": [m.b.first, m.b.last]} for m in p.matches],
        "wrong_cases": list(p.wrong_cases),
    }


def _pair_from_json(data: Any) -> SimilarPair | None:
    if not isinstance(data, Mapping):
        return None
    assignment, a, b = data.get("assignment"), data.get("student_a"), data.get("student_b")
    if not (_is_name(assignment) and _is_name(a) and _is_name(b)) or a == b:
        return None
    matches = [m for m in map(_match_from_json, _items(data.get("matches"))) if m is not None]
    if a > b:  # the record says student_a < student_b; a hand edit that swapped them is turned back
        a, b = b, a
        matches = [Match(m.b, m.a) for m in matches]
    return SimilarPair(
        assignment, a, b, _score(data.get("code_score")), _score(data.get("shared_wrong")),
        data.get("flagged") is True, tuple(matches),
        tuple(c for c in _items(data.get("wrong_cases")) if isinstance(c, str)))


def _match_from_json(data: Any) -> Match | None:
    if not isinstance(data, Mapping):
        return None
    a, b = _span_from_json(data.get("a")), _span_from_json(data.get("b"))
    return Match(a, b) if a is not None and b is not None else None


def _span_from_json(data: Any) -> Span | None:
    if not isinstance(data, (list, tuple)) or len(data) != 2:
        return None
    first, last = data
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (first, last)) or not 1 <= first <= last:
        return None
    return Span(first, last)


def _score(value: Any) -> float:
    """A stored score as a float in [0, 1]; anything else (text, NaN, a list) is 0."""
    if not _is_number(value) or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(min(1.0, max(0.0, value)))  # compared before converting: an int too large for a float


def _is_count(value: Any) -> bool:
    return _is_number(value) and (not isinstance(value, float) or math.isfinite(value)) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_name(value: Any) -> bool:
    """A student's or an assignment's name: non-empty text."""
    return isinstance(value, str) and value != ""


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}
