"""Writing every page of a class run: each student's page (one page's failure is only that page's)
and the class index last."""

from __future__ import annotations


import logging
from html import escape
from collections.abc import Iterable, Mapping
from pathlib import Path


from ...course.config import CourseConfig
from ...classroom.gradebook import result_path, write_atomic, write_if_changed
from ...classroom.regrade import read_changes
from ...classroom.similarity_files import read_similarity
from ...judge.results import SubmissionResult
from .index import PageFailure, reason_of, render_index
from .similar import student_names, write_pair_pages
from .page_keys import PageKeys, inputs_key
from .paths import INDEX_FILE, REPORT_DIR, jinja_environment, report_path
from .stored import text_of
from .student import render_submission
from .text import clip, translator

log = logging.getLogger(__name__)


_UNRENDERED_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>{title}</title></head>
<body><p>{text}</p></body></html>
"""


def render_reports(out_dir: Path, results: Iterable[SubmissionResult], config: CourseConfig,
                   lang: str | None = None, *, files: Mapping[Path, str] | None = None,
                   reuse: bool = False) -> list[Path]:
    """Write ``out_dir/report/STUDENT/ASSIGNMENT.html`` for every result and ``out_dir/report/index.html``
    (with the last run's regrade diff when the run left ``out_dir/changes.json``, and its similar
    pairs when it left ``out_dir/similarity.json``: then also the side-by-side pages of
    ``out_dir/similarity/``, the instructor's, made anew; without it that folder is removed).

    ``lang`` is ``"zh"`` or ``"en"`` (default: ``course.toml``'s ``language``). ``files`` gives the
    SHA-256 of each result's file (:func:`~grader.classroom.gradebook.result_path`) as it was read or
    written: the pages of those results get keys (:mod:`.page_keys`), and with ``reuse`` a page
    whose key still holds is left as it is (a cached regrade); the others are always rendered.
    Returns the paths of the pages under ``report/``, the index last (the private side-by-side
    pages are not among them). Each file is written atomically.
    """
    lang = lang or config.language
    translator(lang)  # a bad language fails before anything is written
    env = jinja_environment()
    results = list(results)
    files = files or {}
    inputs = inputs_key(config, lang)
    keys = PageKeys.read(Path(out_dir), inputs) if reuse else PageKeys(Path(out_dir), inputs)
    written = []
    unrendered: list[PageFailure] = []
    t = translator(lang)
    for result in results:
        student, assignment = text_of(getattr(result, "student", "")), text_of(getattr(result, "assignment", ""))
        path = None
        try:
            path = report_path(Path(out_dir), student, assignment)
            sha = files.get(result_path(Path(out_dir), student, assignment))
            if sha is not None and keys.unchanged(path, sha):
                written.append(path)
                continue
            html = render_submission(result, config, lang, environment=env)
        except Exception as exc:  # one page's failure is that page's: the others and the index still render
            log.exception("%s/%s: the report page could not be rendered", student, assignment)
            unrendered.append(PageFailure(clip(student, 200, t) or "?", clip(assignment, 200, t) or "?",
                                          reason_of(exc)))
            sha = None  # the stand-in page gets no key: it is rendered again next time
            if path is None:
                continue
            html = _UNRENDERED_PAGE.format(lang=lang, title=escape(t("index.unrendered")),
                                           text=escape(t("index.unrendered_page")))
        # Never leave an earlier run's page standing for this one; a page already holding exactly
        # these bytes is left as it is (no fsync).
        data = html.encode("utf-8")
        write_if_changed(path, data)
        if sha is not None:
            keys.wrote(path, sha, data)
        written.append(path)
    keys.save()
    similarity = read_similarity(Path(out_dir))
    try:  # outside report/: never a student's
        write_pair_pages(Path(out_dir), similarity, config, student_names(results), t, env)
    except Exception:  # the class page is still written
        log.exception("%s: the side-by-side pages of similar pairs could not be written", out_dir)
    index = Path(out_dir) / REPORT_DIR / INDEX_FILE
    write_atomic(index, render_index(results, config, lang, environment=env, unrendered=unrendered,
                                     changes=read_changes(Path(out_dir)), similarity=similarity).encode("utf-8"))
    written.append(index)
    log.info("wrote %d report page(s) and %s", len(written) - 1, index)
    return written
