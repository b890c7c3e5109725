"""Recognising assignments and students from file and folder names (see :mod:`grader.intake.submissions`).

An assignment id, its aliases, their numbers and words match in any case, width and separator, and
with the marks that browsers and file managers add to copies; :class:`Keys` holds every accepted
spelling, each owned by exactly one assignment.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence

__all__ = ["CONTAINED", "EXACT", "FORCED", "FROM_CONTAINER", "NOTEBOOK_SUFFIX", "Keys", "clean_name", "is_junk",
           "readable", "recognise_assignment", "strip_suffix"]

NOTEBOOK_SUFFIX = ".ipynb"

_JUNK_NAMES = frozenset({"__macosx", "__pycache__", "thumbs.db", "desktop.ini"})
_TOKEN = re.compile(r"[^\W_]+")
_NUMBERED_ID = re.compile(r"^(\d+)[\W_]+(.+)$")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
# Marks that browsers, Jupyter and file managers add to copies: "x (1)", "x-Copy1", "x - 副本".
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|[\s_.-]+copy\d*|[\s_.-]*(?:副本|拷贝)\d*)+$", re.IGNORECASE)
_COPY_PREFIX = re.compile(r"^(?:copy of|副本)\s*", re.IGNORECASE)
_STRIP = re.compile(r"^[\s_.\-]+|[\s_.\-]+$")
_MAX_RUN = 6  # tokens in one assignment name, for the search inside longer names

# How well a notebook's name matched its assignment; the best one wins among duplicates.
FORCED, FROM_CONTAINER, CONTAINED, EXACT = 0, 1, 2, 3


def recognise_assignment(name: str, assignments: Mapping[str, Sequence[str]]) -> str | None:
    """The assignment a file name (with or without ``.ipynb``) is for, or ``None``.

    ``assignments`` maps each id to extra aliases. For the id ``01-convolution`` these names match:
    the id in any case with ``_``, spaces or nothing between words (``01_Convolution``,
    ``01convolution``), the id without its number (``convolution``), the number as written in the
    id (``01``, not ``1``), each alias the same ways, and copies (``01-convolution (1)``,
    ``01-convolution-Copy1``). Failing that, a longer name matches when it contains the names of
    exactly one assignment, numbers excepted (``alice-convolution-final``, ``卷积作业``). A name
    matching two assignments, or a key shared by two assignments, gives ``None``.
    """
    found = Keys(assignments).match(strip_suffix(name, NOTEBOOK_SUFFIX))
    return found[0] if found else None


def _tokens(text: str) -> list[str]:
    """Words and numbers of a name, compared case- and width-insensitively."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def _keys_of(name: str) -> list[str]:
    tokens = _tokens(name)
    if not tokens:
        return []
    return ["-".join(tokens), "".join(tokens)] if len(tokens) > 1 else tokens


def strip_suffix(name: str, suffix: str) -> str:
    return name[: -len(suffix)] if name.lower().endswith(suffix) else name


def _strip_copy_marks(stem: str) -> str:
    stripped = _COPY_PREFIX.sub("", _COPY_SUFFIX.sub("", stem))
    return stripped or stem


def readable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (Windows zips, GBK disks) decoded as GB18030."""
    if not any("\udc80" <= c <= "\udcff" for c in name):
        return unicodedata.normalize("NFC", name)
    raw = os.fsencode(name)
    for encoding in ("utf-8", "gb18030"):
        try:
            return unicodedata.normalize("NFC", raw.decode(encoding))
        except UnicodeDecodeError:
            pass
    return raw.decode("utf-8", "replace")


def clean_name(name: str) -> str:
    return _STRIP.sub("", readable(name))


def is_junk(name: str) -> bool:
    return name.startswith((".", "~$")) or name.lower() in _JUNK_NAMES


class Keys:
    """Every accepted spelling of every assignment, each owned by exactly one assignment."""

    def __init__(self, assignments: Mapping[str, Sequence[str]]) -> None:
        self.ids = tuple(assignments)
        owners: dict[str, set[str]] = {}
        for aid, aliases in assignments.items():
            if isinstance(aliases, str):
                raise TypeError(f"aliases of {aid!r} must be a sequence of names, received {aliases!r}")
            names = [aid, *aliases]
            if match := _NUMBERED_ID.match(aid):
                names += [match.group(1), match.group(2)]
            for name in names:
                for key in _keys_of(name):
                    owners.setdefault(key, set()).add(aid)
        self.exact = {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}
        self.words = {key: aid for key, aid in self.exact.items() if not key.isdigit()}
        self.cjk = sorted((key for key in self.exact if _CJK.match(key)), key=len, reverse=True)

    def match(self, name: str) -> tuple[str, int] | None:
        """(assignment, quality) for a whole name, or for a name containing one assignment's names."""
        tokens = _tokens(_strip_copy_marks(readable(name)))
        if (whole := self.exact.get("-".join(tokens))) is not None:
            return whole, EXACT
        found = self._contained(tokens)
        return (found.pop(), CONTAINED) if len(found) == 1 else None

    def ambiguous(self, name: str) -> tuple[str, ...]:
        """The assignments a name contains the names of, when there are several (else empty)."""
        tokens = _tokens(_strip_copy_marks(readable(name)))
        if "-".join(tokens) in self.exact:
            return ()
        found = self._contained(tokens)
        return tuple(sorted(found)) if len(found) > 1 else ()

    def _contained(self, tokens: list[str]) -> set[str]:
        found = set()
        for start in range(len(tokens)):
            for end in range(start + 1, min(len(tokens), start + _MAX_RUN) + 1):
                for key in ("-".join(tokens[start:end]), "".join(tokens[start:end])):
                    if key in self.words:
                        found.add(self.words[key])
        joined = "".join(tokens)
        found.update(self.exact[key] for key in self.cjk if key in joined)
        return found

    def folder_assignment(self, name: str) -> str | None:
        """The assignment a folder or zip is named after exactly (a number alone is a student)."""
        key = "-".join(_tokens(_strip_copy_marks(readable(name))))
        return self.words.get(key)

    def split_flat(self, stem: str) -> tuple[str, str] | None:
        """(student, assignment) of ``STUDENT_ASSIGNMENT``: the longest ending that is an assignment."""
        stem = _strip_copy_marks(readable(stem))
        if "-".join(_tokens(stem)) in self.exact:
            return None  # the name is only the assignment: no student
        spans = list(_TOKEN.finditer(stem))
        words = ["".join(_tokens(m.group())) for m in spans]
        for start in range(1, len(spans)):
            for key in ("-".join(words[start:]), "".join(words[start:])):
                if key in self.exact and (student := clean_name(stem[: spans[start].start()])):
                    return student, self.exact[key]
        if spans:  # Chinese keywords need no separator: 张三卷积, and may be followed by words: 卷积作业
            last = spans[-1]
            for key in self.cjk:
                cut = last.end() - len(key)
                if cut <= last.start() or stem[cut : last.end()] != key:
                    continue
                if student := clean_name(stem[:cut]):
                    return student, self.exact[key]
            return self._cjk_inside(stem, last)
        return None

    def _cjk_inside(self, stem: str, last: re.Match[str]) -> tuple[str, str] | None:
        """``xuesheng_卷积作业``, ``张三卷积作业``: the last word holds one assignment's Chinese name
        (and no other's); the student is everything before it."""
        word = last.group()
        places = {(word.find(key), self.exact[key]) for key in self.cjk if key in word}
        if len({aid for _, aid in places}) != 1:
            return None
        cut = last.start() + min(start for start, _ in places)
        student = clean_name(stem[:cut])
        return (student, places.pop()[1]) if student else None
