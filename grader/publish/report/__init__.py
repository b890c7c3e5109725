"""HTML reports from stored results: a page per submission and the class summary (SPEC section 7).

- ``DIR/report/STUDENT/ASSIGNMENT.html``: the student's page. Score, a table of questions, then for
  every test group that did not pass: what was called, the expected and the actual answer side by
  side as small coloured grids with the differing cells outlined (a difference heatmap for larger
  arrays), the largest error and where it is, the diagnosis in Chinese and English, and the cell and
  trimmed traceback of errors and timeouts. The page is made from
  :func:`grader.judge.audience.for_student`, so a hidden group shows only its call by types and shapes, the
  kind of difference and the diagnosis (SPEC section 7, "Audiences").
- ``DIR/report/index.html``: the class summary for the instructor. A score histogram per assignment,
  pass rates per question, the most common diagnoses, the submissions that errored or timed out, and
  a sortable table of students linking to their pages and result files.

Rendering is a consumer: it reads :class:`~grader.judge.results.SubmissionResult` records (from
``DIR/results``) and the course configuration, never executes anything and never decides a score.
Everything a student wrote (names, outputs, tracebacks) goes through Jinja's autoescaping, and every
text is cut to a fixed length, so a page stays small and inert whatever the notebook printed. Pages
are self-contained: inline CSS, no fonts or scripts from the network, and a Content-Security-Policy
that forbids scripts on the students' pages (the index allows only its own, by hash).

The package, in the order a page is made: :mod:`.stored` (a stored result coerced to what a page
can show), :mod:`.text` (the translator, clipping, tracebacks), :mod:`.arrays` (grids and heatmaps of
expected against actual), :mod:`.student` and :mod:`.index` (the view models and their rendering),
:mod:`.pages` (writing a class's pages); :mod:`.paths` says where they go. The templates are the
repository's ``templates/`` folder, shipped in the wheel as ``grader/templates/`` (:mod:`grader.publish.templates`).
"""

from .index import PageFailure, render_index
from .pages import render_reports
from .paths import INDEX_FILE, REPORT_DIR, ReportError, report_path
from .stored import course_questions, optional_questions
from .student import render_submission
from .text import question_status

__all__ = [
    "INDEX_FILE",
    "REPORT_DIR",
    "PageFailure",
    "ReportError",
    "course_questions",
    "optional_questions",
    "question_status",
    "render_index",
    "render_reports",
    "render_submission",
    "report_path",
]
