"""The similarity pass on the instructor's pages: the class page's "similar, worth a look" section and
one side-by-side page per flagged pair, ``DIR/similarity/ASSIGNMENT/A--B.html``.

Both are made from the run's stored record, ``DIR/similarity.json``
(:mod:`grader.classroom.similarity_files`), so ``grader report`` shows what the run found. The pair
pages are outside ``report/`` on purpose: ``report/STUDENT/`` is what students are handed, and these
pages show two students' code side by side. They are written private (0600, their folders 0700),
like the results. Every name and every line of code is a student's and is escaped by the template;
each student's code is cut at :data:`CODE_CHARS` characters and :data:`CODE_LINES` lines (a line at
:data:`LINE_CHARS`, ending in "…"), with a note saying so, and at most :data:`MAX_REGIONS` regions and
:data:`MAX_CASES` cases are shown, so a page stays small whatever a notebook (or a hand-edited
record) held.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment

from ... import __version__
from ...classroom.gradebook import safe_filename, write_atomic
from ...classroom.similarity import SimilarPair, Similarity
from ...classroom.similarity_files import PAIRS_DIR, remove_pair_pages
from ...course.config import CourseConfig
from .paths import REPORT_DIR
from .text import Translate, clip

__all__ = ["CODE_CHARS", "CODE_LINES", "LINE_CHARS", "SimilarityView", "pair_files", "similarity_view",
           "render_pair_page", "student_names", "write_pair_pages"]

log = logging.getLogger(__name__)

CODE_CHARS = 60_000  # of one student's own code on a pair page; the rest is left out with a note
CODE_LINES = 2_000
LINE_CHARS = 400  # one line; longer ones end in "…"
NAME_CHARS = 120
MAX_LISTED = 200  # flagged pairs of one assignment listed on the class page; the CSV has them all
MAX_CASES = 60  # shared wrong cases listed on a pair page
MAX_REGIONS = 500  # matching regions marked on a pair page (a hand-edited record may hold any number)
REGION_COLOURS = 8  # the highlight colours, used in turn (region 9 looks like region 1, its number differs)
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'"


def _key(pair: SimilarPair) -> tuple[str, str, str]:
    return pair.assignment, pair.student_a, pair.student_b


def pair_files(pairs: Sequence[SimilarPair]) -> dict[tuple[str, str, str], str]:
    """Each flagged pair's page, relative to ``DIR/similarity/``: ``ASSIGNMENT/A--B.html`` (names made
    safe as in ``results/``). Two pairs whose names would meet (``a--b`` with ``c``, ``a`` with
    ``b--c``; or only the case differs, on a case-insensitive disk) get a hash of their own, tried
    again until it is free (a student may be named like another pair's hashed page); so does a
    name too long for a file (two long keys), cut to :data:`_STEM_BYTES`."""
    files: dict[tuple[str, str, str], str] = {}
    taken: set[str] = set()
    for pair in pairs:
        folder = safe_filename(pair.assignment)
        stem = f"{safe_filename(pair.student_a)}--{safe_filename(pair.student_b)}"
        name, attempt = stem, 0
        if len(stem.encode("utf-8")) > _STEM_BYTES:
            stem = stem.encode("utf-8")[:_STEM_BYTES - 10].decode("utf-8", "ignore")
            name, attempt = _hashed(stem, pair, 0), 1
        while f"{folder}/{name}".lower() in taken:
            name, attempt = _hashed(stem, pair, attempt), attempt + 1
        taken.add(f"{folder}/{name}".lower())
        files[_key(pair)] = f"{folder}/{name}.html"
    return files


_STEM_BYTES = 200  # of a page's name before ".html": with write_atomic's temporary affixes, under 255


def _hashed(stem: str, pair: SimilarPair, attempt: int) -> str:
    key = "\0".join(_key(pair)) + (f"\0{attempt}" if attempt else "")
    return f"{stem}~{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


def student_names(results: Iterable[object]) -> dict[str, str]:
    """student key -> display name, from the results' LMS records (a stored result may hold anything)."""
    names = {}
    for result in results:
        student, identity = getattr(result, "student", None), getattr(result, "identity", None)
        name = getattr(identity, "name", None)
        if isinstance(student, str) and isinstance(name, str) and name:
            names[student] = name
    return names


def _who(student: str, names: Mapping[str, str], t: Translate) -> tuple[str, str]:
    """(the name to show, the key beneath it or ''), as the class page shows students."""
    name = names.get(student, "")
    if name and name != student:
        return clip(name, NAME_CHARS, t), clip(student, NAME_CHARS, t)
    return clip(student, NAME_CHARS, t), ""


def _score(value: float) -> str:
    return f"{value:.2f}"


# --- the class page's section --------------------------------------------------------------------


@dataclass(frozen=True)
class PairRow:
    a: tuple[str, str]  # (shown, key) as :func:`_who`
    b: tuple[str, str]
    code: str
    wrong: str
    cases: str
    href: str  # from report/index.html


@dataclass(frozen=True)
class AssignmentPairs:
    id: str
    heading: str
    rows: tuple[PairRow, ...]
    more: str  # the pairs past MAX_LISTED, said; '' for none


@dataclass(frozen=True)
class SimilarityView:
    thresholds: str
    none: str  # the one line when nothing is flagged, else ''
    assignments: tuple[AssignmentPairs, ...]


def similarity_view(similarity: Similarity, config: CourseConfig, names: Mapping[str, str],
                    t: Translate) -> SimilarityView:
    """The section's view model: the flagged pairs of each assignment that has any."""
    policy = config.similarity
    compared = sum(similarity.compared.values())
    flagged = similarity.flagged()
    files = pair_files(flagged)
    by_assignment: dict[str, list[PairRow]] = {}
    for pair in flagged:
        by_assignment.setdefault(pair.assignment, []).append(PairRow(
            _who(pair.student_a, names, t), _who(pair.student_b, names, t), _score(pair.code_score),
            _score(pair.shared_wrong), t("similar.cases", count=len(pair.wrong_cases)) if pair.wrong_cases else "",
            f"../{PAIRS_DIR}/" + "/".join(quote(part) for part in files[_key(pair)].split("/"))))
    order = [aid for aid in config.assignments if aid in by_assignment]
    order += sorted(set(by_assignment) - set(order))
    titles = {aid: a.title for aid, a in config.assignments.items()}
    assignments = tuple(AssignmentPairs(
        aid, t("index.similar_assignment", title=clip(titles.get(aid, aid), NAME_CHARS, t),
               compared=similarity.compared.get(aid, 0), count=len(by_assignment[aid])),
        tuple(by_assignment[aid][:MAX_LISTED]),
        t("index.similar_more", count=len(by_assignment[aid]) - MAX_LISTED) if len(by_assignment[aid]) > MAX_LISTED else "")
        for aid in order)
    return SimilarityView(
        t("index.similar_thresholds", compared=compared, code=f"{policy.code:g}", tokens=policy.min_tokens,
          wrong=f"{policy.shared_wrong:g}"),
        "" if flagged else t("index.similar_none", compared=compared), assignments)


# --- the side-by-side pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class CodeLine:
    number: int
    text: str
    region: int  # the first matching region the line is in (1-based), 0 for none
    starts: tuple[int, ...]  # the regions that start on this line, for their numbered anchors


@dataclass(frozen=True)
class CodeColumn:
    side: str  # "a" or "b": anchors are a-r3, b-r3
    other: str
    who: tuple[str, str]
    lines: tuple[CodeLine, ...]
    note: str  # the cut, or that there is no code


def _column(side: str, code: str | None, spans: Sequence[tuple[int, int]], who: tuple[str, str],
            t: Translate) -> CodeColumn:
    """One student's code as numbered lines, each region's lines marked with its number."""
    other = "b" if side == "a" else "a"
    if code is None:
        return CodeColumn(side, other, who, (), t("similar.no_code"))
    whole = code.removesuffix("\n")  # a last line end starts no line
    shown = whole[:CODE_CHARS].split("\n")[:CODE_LINES]
    hidden = len(whole) - (sum(len(line) + 1 for line in shown) - 1)
    region = [0] * (len(shown) + 1)  # by line number: the first region the line is in
    starts: dict[int, list[int]] = {}
    for k, (first, last) in enumerate(spans[:MAX_REGIONS], start=1):
        for number in range(max(first, 1), min(last, len(shown)) + 1):
            region[number] = region[number] or k
        starts.setdefault(first, []).append(k)
    lines = tuple(CodeLine(number, _visible(line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + "…"),
                           region[number], tuple(starts.get(number, ()))) for number, line in enumerate(shown, start=1))
    note = t("similar.cut", count=f"{hidden:,}", limit=f"{CODE_CHARS:,}", lines=f"{CODE_LINES:,}") if hidden > 0 else ""
    return CodeColumn(side, other, who, lines, note)


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(line: str) -> str:
    """``line`` with its bidirectional controls written out (``\\u202e``), not obeyed: they make a
    browser show code in another order than the one it has ("Trojan Source"), and the instructor
    comparing two columns would read code that is not there."""
    return _BIDI.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def render_pair_page(pair: SimilarPair, similarity: Similarity, config: CourseConfig, names: Mapping[str, str],
                     t: Translate, environment: Environment, back: str) -> str:
    """One flagged pair side by side; ``back`` is the link to the class page from this page."""
    code = similarity.code.get(pair.assignment, {})
    a, b = _who(pair.student_a, names, t), _who(pair.student_b, names, t)
    columns = (_column("a", code.get(pair.student_a), [(m.a.first, m.a.last) for m in pair.matches], a, t),
               _column("b", code.get(pair.student_b), [(m.b.first, m.b.last) for m in pair.matches], b, t))
    title = config.assignments[pair.assignment].title if pair.assignment in config.assignments else pair.assignment
    cases = [clip(c, 300, t) for c in pair.wrong_cases[:MAX_CASES]]
    return environment.get_template("similar.html.j2").render(
        t=t, lang=t.lang, version=__version__, csp=_CSP, a=a, b=b, assignment=clip(pair.assignment, NAME_CHARS, t),
        assignment_title=clip(title, NAME_CHARS, t), code_score=_score(pair.code_score),
        shared_wrong=_score(pair.shared_wrong), columns=columns, regions=len(pair.matches), cases=cases,
        more_cases=max(0, len(pair.wrong_cases) - MAX_CASES), colours=REGION_COLOURS, back=back)


def write_pair_pages(out_dir: Path, similarity: Similarity | None, config: CourseConfig, names: Mapping[str, str],
                     t: Translate, environment: Environment) -> list[Path]:
    """``DIR/similarity/`` made anew: a page per flagged pair (0600, folders 0700); with no record,
    no folder. One page that cannot be rendered is logged and left out, never the others."""
    remove_pair_pages(out_dir)
    if similarity is None or not similarity.flagged():
        return []
    folder = Path(out_dir) / PAIRS_DIR
    flagged = similarity.flagged()
    files = pair_files(flagged)
    written = []
    for pair in flagged:
        path = folder / files[_key(pair)]  # ASSIGNMENT/A--B.html: two folders below DIR
        try:
            html = render_pair_page(pair, similarity, config, names, t, environment, f"../../{REPORT_DIR}/index.html")
            _private_folder(folder)
            _private_folder(path.parent)
            write_atomic(path, html.encode("utf-8"), private=True)
        except Exception:
            log.exception("%s: the side-by-side page could not be written", path)
            continue
        written.append(path)
    return written


def _private_folder(folder: Path) -> None:
    """``folder`` made if need be, and 0700 whatever the umask."""
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o700)
