"""The class page's "changes since the last run": who changed, by how much, which tests flipped, why.

Made from the run's stored diff, ``DIR/changes.json`` (:mod:`grader.classroom.regrade`), like every
other part of the page from stored files, so that ``grader report`` shows what the run's summary
showed. A stopped run says it is incomplete. Every text is clipped and autoescaped by the template:
the names and test titles come from students' folders and the course.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...classroom.regrade import RunChanges, flip_words, reason_words, score_words
from .paths import page_href
from .text import Translate, clip

MAX_ROWS = 200  # a regrade of a whole course lists at most this many submissions; the count says the rest
MAX_FLIPS = 12  # tests listed per submission


@dataclass(frozen=True)
class ChangeRow:
    student: str
    key: str
    assignment: str
    href: str
    raw: str
    delta: float  # for the row's colour: up, down or level
    final: str
    tests: tuple[str, ...]
    more_tests: int
    why: str
    since: str


@dataclass(frozen=True)
class ChangesView:
    run: str
    stopped: str
    summary: str
    rows: tuple[ChangeRow, ...]
    more_rows: int
    new: str
    not_graded: str


def changes_view(changes: RunChanges, t: Translate) -> ChangesView:
    """The section's view model of ``changes`` in ``t``'s language."""
    lang = t.lang
    stopped = "" if changes.finished else t("index.changes_stopped", reached=changes.reached, planned=changes.planned)
    if changes.first:
        summary = t("index.changes_first")
    elif not changes.changes:
        summary = t("index.changes_none", compared=changes.compared)
    else:
        summary = t("index.changes_count", count=len(changes.changes), unchanged=changes.unchanged)
    rows = tuple(
        ChangeRow(clip(c.name or c.student, 200, t), clip(c.student, 200, t) if c.name and c.name != c.student else "",
                  clip(c.assignment, 200, t), page_href(c.student, c.assignment),
                  score_words(c.score_before, c.score_after, lang), c.delta,
                  score_words(c.final_before, c.final_after, lang),
                  tuple(clip(flip_words(f, lang), 300, t) for f in c.flips[:MAX_FLIPS]),
                  max(0, len(c.flips) - MAX_FLIPS), reason_words(c.reasons, lang),
                  t("index.change.since", run=c.before_run))
        for c in changes.changes[:MAX_ROWS])
    names = [n or s for s, n, _ in changes.not_graded]
    return ChangesView(
        run=t("index.changes_run", run=changes.run, started=_when(changes.started_at), reached=changes.reached,
              graded=changes.graded, cached=changes.cached),
        stopped=stopped, summary=summary, rows=rows, more_rows=max(0, len(changes.changes) - MAX_ROWS),
        new=t("index.changes_new", count=changes.new) if changes.new and not changes.first else "",
        not_graded=clip(t("index.changes_not_graded", students=", ".join(sorted(names)[:50])), 800, t)
        if names else "",
    )


def _when(iso: str) -> str:
    """A run's start as the page shows it: ``2026-12-01 17:30 UTC``."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso[:40]
