"""The real course's questions and points, read from its declarations and ``course.toml``.

Tests take question lists, point tables, totals and ``grades.csv`` columns from here instead of
writing them out, so that adding a question (docs/instructors.md, ``tests/test_extend.py``) needs no
test edit. What is asserted stays independent of the code under test: a total is the sum of
``course.toml``'s points of the required questions, a column list is one column per declared
question. The few literal facts of the real course that tests build on (what the example notebooks
answer) are pinned by ``tests/test_extend.py::test_the_course_facts_tests_rely_on``.
"""

from __future__ import annotations

from pathlib import Path

from grader.course.assignments import course_assignments
from grader.course.config import load_config

__all__ = ["CONFIG", "DECLARED", "EXAMPLES_ANSWER", "ROOT", "example_scores", "grades_columns", "max_score", "points",
           "questions", "quick_gender_solution"]

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config(ROOT / "course.toml", environ={})
DECLARED = course_assignments()


def questions(assignment: str) -> list[str]:
    """The declared question ids of ``assignment``, in declaration order."""
    return [q.id for q in DECLARED[assignment].questions]


def points(assignment: str) -> dict[str, float]:
    """``course.toml``'s points of ``assignment``, by question."""
    return dict(CONFIG.assignments[assignment].points)


def max_score(assignment: str) -> float:
    """The assignment's full marks: the points of its questions that are not optional (extra credit)."""
    optional = {q.id for q in DECLARED[assignment].questions if q.optional}
    return sum(p for q, p in points(assignment).items() if q not in optional)


def grades_columns() -> list[str]:
    """``grades.csv``'s header as documented: the student, then per assignment of ``course.toml`` one
    column per declared question, the assignment's raw total, its late penalty and its final score,
    then the overall total, penalty and final score."""
    header = ["student"]
    for assignment in CONFIG.assignments:
        header += [f"{assignment}:{q}" for q in questions(assignment)]
        header += [assignment, f"{assignment} penalty", f"{assignment} final"]
    return [*header, "total", "penalty", "final"]



# How many of each assignment's first declared questions the example notebooks (examples/submissions)
# answer: the required ones of the course they were written for. A question added since is missing
# there and costs only itself (docs/instructors.md, "Worked example").
EXAMPLES_ANSWER = {"01-convolution": 5, "02-pooling": 4, "03-parameter-counting": 6, "04-gender-cnn": 4}


def example_scores(assignment: str) -> dict[str, float]:
    """Per question, what a correct example notebook scores: the points of the questions it answers,
    0 for the questions declared after them."""
    answered = questions(assignment)[: EXAMPLES_ANSWER[assignment]]
    return {q: (points(assignment)[q] if q in answered else 0.0) for q in questions(assignment)}


# The gender solution's training lengths, and the ones a test that is not about the trained model uses.
_GENDER_EPOCHS = (("EPOCHS = 40\n", "EPOCHS = 2\n"), ("epochs=15, batch_size=32", "epochs=2, batch_size=32"))


def quick_gender_solution(dest: Path) -> Path:
    """A copy of the gender solution that trains for 2 epochs instead of 40 (and its optional rating
    model for 2 instead of 15), written to ``dest``: for tests whose point is not the trained model
    (the self-check's output, the check cells' coverage), each of which trained it for a minute or
    more. Every cell is still run; a solution whose training lines changed fails here, loudly."""
    import nbformat

    nb = nbformat.read(ROOT / "solutions" / "04-gender-cnn.ipynb", as_version=4)
    for old, new in _GENDER_EPOCHS:
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1, f"the gender solution's training line {old!r} is not there once"
        cells[0].source = cells[0].source.replace(old, new)
    nbformat.write(nb, dest)
    return dest
