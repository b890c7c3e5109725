"""The similarity pass attacked as a hostile student (and a careless instructor) would: each test is
one way found to evade it, frame a classmate, break the run or reach what students must never see,
and stays as the proof that it no longer works. What still evades it is in the README
("Similarity", its limits)."""

from __future__ import annotations

import re

from similarity_corpus import ORIGINAL
from test_similarity import POOLING, compare, entry, independent_pooling, pair


def _after_every_line(code: str, statement: str, joined: bool = False) -> str:
    """``code`` with ``statement`` after each of its lines: on a line of its own (inside a block the
    line opens, at its indent), or ``joined`` to a simple statement's line by ``;``."""
    out = []
    for line in code.splitlines():
        stripped = line.strip()
        if joined:
            out.append(f"{line}; {statement}" if stripped and not stripped.endswith(":") else line)
            continue
        out.append(line)
        if stripped and not stripped.startswith(("def ", "else", "elif")):
            indent = re.match(r"\s*", line).group() + ("    " if stripped.endswith(":") else "")
            out.append(indent + statement)
    return "\n".join(out)


def test_no_op_statements_after_every_line_do_not_hide_a_copy() -> None:
    """``pass``, ``...``, a lone name or number, each after every line (or after a ``;``): statements
    that do nothing, which a student may sprinkle over a copy to cut every k-gram in two."""
    for statement in ("pass", "...", "0", "None", "x", "'''noise'''"):
        for joined in (False, True):
            copied = {question: _after_every_line(code, statement, joined) for question, code in ORIGINAL.items()}
            found = pair(compare([*independent_pooling(), entry("orig", POOLING, ORIGINAL),
                                  entry("copy", POOLING, copied)]), "orig", "copy")
            assert found.flagged and found.code_score > 0.9, (statement, joined, found.code_score)
