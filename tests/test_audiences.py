"""Hidden stays hidden (SPEC section 7, "Audiences"), checked without a kernel.

Seen on a real run: a student's page showed ``output_size(227, 11, 0, 4) … expected 55`` for a
hidden group; reading the page and resubmitting a lookup table took the group from 0 to full marks
in nine resubmissions. Here the course's own ``03-parameter-counting`` cases are prepared, wrong
answers are graded through the grader's comparison (``grader.grade.calls.judge_answers``, what a kernel's
answers go through), and the three things a student sees — their page, the Gradescope export and
the ``grader check`` text — are searched for the hidden inputs and expected values, then mined by
an attacker who resubmits a lookup table of everything they show.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.course.assignments import course_assignments
from grader.course.assignments.counting import _forward_no_relu
from grader.course.config import CourseConfig, load_config
from grader.publish.export import gradescope_results
from grader.grade.calls import judge_answers
from grader.grade.prepare import PreparedGroup, PreparedQuestion, prepare
from grader.run.decode import Answer
from grader.course.reference import counting as ref
from grader.publish.report import render_submission
from grader.judge.audience import for_student, short_paths, student_view
from grader.judge.results import Argument, Call, Failure, SubmissionResult, TestResult, call_of
from grader.judge.summary import format_summary

from test_report import Page

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "03-parameter-counting"
ATTACKED = ("output_size", "conv_output_size", "cnn_forward")


@pytest.fixture(scope="module")
def config() -> CourseConfig:
    return load_config(ROOT / "course.toml", environ={})


@pytest.fixture(scope="module")
def prepared(config: CourseConfig) -> dict[str, PreparedQuestion]:
    questions = prepare(course_assignments()[ASSIGNMENT], config)
    return {pq.question.id: pq for pq in questions if pq.question.id in ATTACKED}


# --- a student who cannot do these, answering through the real comparison ------------------------------


def no_plus_one(n: int, f: int, p: int, s: int, rounding: str = "floor") -> int:
    return (n - f + 2 * p) // s  # forgot the + 1


def padding_ignored(n: int, f: int, padding: str = "valid", stride: int = 1) -> int:
    return (n - f) // stride + 1


def noisy_index_error(n: int, f: int, p: int, s: int, rounding: str = "floor") -> int:
    raise IndexError(f"index {n} is out of bounds for axis 0 with size {f}")  # quotes the inputs


Submission = dict[str, Callable[..., Any]]
WRONG: Submission = {"output_size": no_plus_one, "conv_output_size": padding_ignored, "cnn_forward": _forward_no_relu}


def answer(function: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Answer, str]:
    try:
        return Answer("ok", value=function(*args, **kwargs)), ""
    except Exception as exc:
        return Answer("error", ename=type(exc).__name__, evalue=str(exc),
                      traceback=f'  File "/tmp/cnn-grader-x1y2/work/notebook.py", line 3, in f\n    raise\n'
                                f"{type(exc).__name__}: {exc}\n"), ""


def grade(submission: Submission, prepared: dict[str, PreparedQuestion], config: CourseConfig) -> SubmissionResult:
    """The groups of the attacked questions, graded as a kernel's answers would be."""
    limits = config.limits_for(ASSIGNMENT)
    tests = []
    for question, pq in prepared.items():
        answers = [answer(submission[question], *case.resolved()) for pg in pq.groups for case, _ in pg.cases]
        tests += judge_answers(pq, answers, config, limits)
    return SubmissionResult("harvester", ASSIGNMENT, "0" * 64, "0.1.0", 1.0, tuple(tests))


def seen_by_student(result: SubmissionResult, config: CourseConfig) -> dict[str, str]:
    """Every text a student can read: their page, the Gradescope export, the check summary (given
    the hidden groups too, as if they ever reached it)."""
    page = Page(render_submission(result, config, "en"))
    return {
        "page": page.text + " " + " ".join(v for _, attrs in page.tags for v in attrs.values()),
        "gradescope": json.dumps(gradescope_results(result, config.show_hidden_inputs), ensure_ascii=False),
        "check": format_summary(result.tests, "en", assignment=ASSIGNMENT),
    }


def hidden_cases(pq: PreparedQuestion) -> list[tuple[tuple[Any, ...], Any]]:
    return [(case.args, expected) for pg in pq.groups if not pg.group.public for case, expected in pg.cases]


def public_cases(pq: PreparedQuestion) -> list[tuple[tuple[Any, ...], Any]]:
    """A public group's cases ship in the student bundle; a hidden group may repeat one of them."""
    return [(case.args, expected) for pg in pq.groups if pg.group.public for case, expected in pg.cases]


def secret_numbers(pq: PreparedQuestion) -> set[str]:
    public = set().union(*(numbers(args) | numbers(expected) for args, expected in public_cases(pq)))
    return set().union(*(numbers(args) | numbers(expected) for args, expected in hidden_cases(pq))) - public


def numbers(value: Any) -> set[str]:
    """The numbers of an input or answer that could not appear by chance (two digits or more)."""
    found: set[str] = set()
    for x in np.asarray(value, dtype=object).ravel() if not np.isscalar(value) else [value]:
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and abs(int(x)) >= 10:
            found.add(str(int(x)))
        elif isinstance(x, (float, np.floating)) and math.isfinite(x) and x != int(x):
            found |= {f"{x:.4g}", f"{x:.6g}"}
    return found


# --- what a student sees of a hidden group --------------------------------------------------------------


def test_no_hidden_input_or_expected_value_reaches_a_student(prepared: dict[str, PreparedQuestion],
                                                             config: CourseConfig) -> None:
    result = grade(WRONG, prepared, config)
    hidden = [t for t in result.tests if not t.public]
    assert hidden and all(t.failure is not None for t in hidden)  # every hidden group failed
    texts = seen_by_student(result, config)
    secrets = {q: secret_numbers(pq) for q, pq in prepared.items()}
    assert "227" in secrets["output_size"] and "55" in secrets["output_size"]  # the case from the issue
    # the grade itself is no secret: scores, points, numbers of cases (a coincidence with a hidden
    # value is left to the next test, which changes the hidden values and compares)
    grade_numbers = {f"{x:g}" for t in result.tests for x in (t.score, t.max_score, t.cases, t.passed_cases)}
    grade_numbers |= {f"{result.score:g}", f"{result.max_score:g}"}
    for where, text in texts.items():
        words = set(re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)) - grade_numbers
        for question, values in secrets.items():
            assert not values & words, f"{where} shows {sorted(values & words)} of {question}'s hidden cases"
    # no largest error nor its place for a hidden group (expected = actual ± that error)
    page = Page(render_submission(result, config, "en"))
    hidden_texts = [page.text_of(f"test-{n}") for n, t in enumerate(result.tests) if not t.public]
    hidden_texts += [t["output"] for t in gradescope_results(result)["tests"] if "hidden" in t["tags"]]
    assert len(hidden_texts) == 2 * len(hidden)
    for text in hidden_texts:
        assert "largest error" not in text.lower() and "at index" not in text.lower()
        assert not re.search(r"expected:?\s*[-\d\[]", text, re.IGNORECASE), text
    # what it does show: the question, the group, the call by types, the kind of difference
    page = texts["page"]
    assert "output_size · floor and ceil" in page and "output_size(int, int, int, int)" in page
    assert "1 of 1 values differ" in page
    assert re.search(r"cnn_forward\(<array \([135], 4, 4, 1\) float64>, list of 4\)", page)
    assert "The ReLU after the convolution is missing." in page  # the diagnosis
    (floor_ceil,) = [t for t in gradescope_results(result)["tests"] if t["name"] == "output_size · floor and ceil"]
    assert floor_ceil["visibility"] == "after_published"
    plus_one = course_assignments()[ASSIGNMENT].question("output_size").mistakes
    (plus_one,) = [m for m in plus_one if m.id == "plus_one_missing"]  # no_plus_one's mistake, named in words
    assert floor_ceil["output"] == (f"call: output_size(int, int, int, int)\n1 of 1 values differ\n"
                                    f"diagnosis: {plus_one.en} / {plus_one.zh}")
    # the instructor's record keeps everything
    record = json.dumps(result.to_json())
    assert "output_size(227, 11, 0, 4)" in record and "expected 55" in record


def test_a_hidden_error_shows_its_type_and_frames_not_its_message(prepared: dict[str, PreparedQuestion],
                                                                  config: CourseConfig) -> None:
    result = grade({**WRONG, "output_size": noisy_index_error}, prepared, config)
    texts = seen_by_student(result, config)
    assert "index 227 is out of bounds" not in texts["page"] and "227" not in texts["gradescope"]
    for text in (texts["page"], texts["check"], texts["gradescope"]):  # one code, the same words everywhere
        assert "IndexError: (the message of an error in a hidden test is not shown)" in text
    assert 'File "notebook.py", line 3, in f' in texts["page"]  # the frame, its path shortened
    assert "index 200 is out of bounds" in texts["page"]  # the public group's message stays whole
    assert "index 227 is out of bounds" in json.dumps(result.to_json())


def test_what_students_see_does_not_depend_on_the_hidden_values(prepared: dict[str, PreparedQuestion],
                                                                config: CourseConfig) -> None:
    """Other hidden expected values, other hidden inputs (another seed): the same student-visible
    text, so it carries nothing about either beyond pass or fail."""
    def shifted(pq: PreparedQuestion) -> PreparedQuestion:
        groups = tuple(pg if pg.group.public else PreparedGroup(pg.group, tuple(
            (case, expected + 1000) for case, expected in pg.cases), pg.points) for pg in pq.groups)
        return PreparedQuestion(pq.question, groups)

    always_wrong: Submission = {"output_size": lambda *args: -1, "conv_output_size": lambda *args: -1,
                                "cnn_forward": lambda x, weights: ref.cnn_forward(x, weights) * 0 - 1}
    reseeded = {pq.question.id: pq for pq in prepare(course_assignments()[ASSIGNMENT],
                                                       dataclasses.replace(config, seed=config.seed + 1))
                if pq.question.id in ATTACKED}
    base = seen_by_student(grade(always_wrong, prepared, config), config)
    assert seen_by_student(grade(always_wrong, {q: shifted(pq) for q, pq in prepared.items()}, config),
                           config) == base
    other = seen_by_student(grade(always_wrong, reseeded, config), config)
    assert other["gradescope"] == base["gradescope"] and other["check"] == base["check"]


# --- the harvesting loop ------------------------------------------------------------------------------

_CALL = re.compile(r"(output_size|conv_output_size)\(([^()]*)\)")
_EXPECTED = re.compile(r"expected (-?\d+)")


def harvest(text: str) -> dict[tuple[str, tuple[Any, ...]], int]:
    """The attacker's reading: each call written with literal arguments, paired with the nearest
    "expected N" after it."""
    table = {}
    for match in _CALL.finditer(text):
        try:
            args = ast.literal_eval(f"({match.group(2)},)")
        except (ValueError, SyntaxError):
            continue  # output_size(int, int, int, int): nothing to look up
        expected = _EXPECTED.search(text, match.end(), match.end() + 600)
        if expected is not None:
            table.setdefault((match.group(1), tuple(args)), int(expected.group(1)))
    return table


def looking_up(table: dict[tuple[str, tuple[Any, ...]], int]) -> Submission:
    def output_size(*args: Any) -> int:
        return table.get(("output_size", args), no_plus_one(*args))

    def conv_output_size(*args: Any) -> int:
        return table.get(("conv_output_size", args), padding_ignored(*args))

    return {**WRONG, "output_size": output_size, "conv_output_size": conv_output_size}


def hidden_score(result: SubmissionResult) -> float:
    return sum(t.score for t in result.tests if not t.public and t.question in ("output_size", "conv_output_size"))


def resubmit(prepared: dict[str, PreparedQuestion], config: CourseConfig,
             read: Callable[[SubmissionResult], str], rounds: int = 12) -> tuple[float, float, set[Any]]:
    table: dict[tuple[str, tuple[Any, ...]], int] = {}
    first = hidden_score(grade(WRONG, prepared, config))
    result = grade(WRONG, prepared, config)
    for _ in range(rounds):
        table |= harvest(read(result))
        result = grade(looking_up(table), prepared, config)
    return first, hidden_score(result), set(table)


def test_a_lookup_table_of_what_students_see_gains_nothing(prepared: dict[str, PreparedQuestion],
                                                           config: CourseConfig) -> None:
    before, after, table = resubmit(prepared, config, lambda r: " ".join(seen_by_student(r, config).values()))
    assert before == after == 0.0
    hidden = {(q, args) for q in ("output_size", "conv_output_size") for args, _ in hidden_cases(prepared[q])}
    public = {(q, args) for q in ("output_size", "conv_output_size") for args, _ in public_cases(prepared[q])}
    assert table and table <= public  # the public examples, which the bundle has anyway
    assert not table & (hidden - public)  # no hidden case was ever harvested
    # the same attacker on the instructor's record (which keeps everything) gets full marks: the
    # harvester works, and only what the student's side leaves out stops it
    _, instructor, _ = resubmit(prepared, config, lambda r: json.dumps(r.to_json()))
    assert instructor == sum(pg.points for q in ("output_size", "conv_output_size")
                             for pg in prepared[q].groups if not pg.group.public)


def test_the_course_opt_in_shows_hidden_inputs_but_never_expected_values(prepared: dict[str, PreparedQuestion],
                                                                         config: CourseConfig) -> None:
    shown = dataclasses.replace(config, show_hidden_inputs=True)
    result = grade(WRONG, prepared, shown)
    texts = seen_by_student(result, shown)
    assert "output_size(227, 11, 0, 4)" in texts["page"] and "output_size(227, 11, 0, 4)" in texts["gradescope"]
    assert "expected 55" not in texts["page"] and "55" not in re.findall(r"\d+", texts["gradescope"])
    before, after, _ = resubmit(prepared, shown, lambda r: " ".join(seen_by_student(r, shown).values()))
    assert before == after == 0.0


# --- the pure pieces -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "short"), [
    ('File "/home/ta/course/.venv/lib/python3.11/site-packages/numpy/core/fromnumeric.py", line 59',
     'File "numpy/core/fromnumeric.py", line 59'),
    ('File "/usr/lib/python3.11/json/decoder.py", line 3', 'File "json/decoder.py", line 3'),
    ("No such file: '/tmp/cnn-grader-k2j4_x/work/data/faces.csv'", "No such file: 'data/faces.csv'"),
    ("/tmp/cnn-grader-k2j4/models/model0.keras", "model0.keras"),
    (r"C:\Users\ta\venv\Lib\site-packages\numpy\linalg.py", r"numpy\linalg.py"),
    ("/usr/lib/python3/dist-packages/scipy/x.py:3: RuntimeWarning", "scipy/x.py:3: RuntimeWarning"),
    ("ValueError: shapes (5,4) and (3,3) not aligned", "ValueError: shapes (5,4) and (3,3) not aligned"),
    ("", ""),
])
def test_short_paths(text: str, short: str) -> None:
    assert short_paths(text) == short


def test_short_paths_stays_fast_on_a_megabyte_of_output() -> None:
    text = "x/" * 500_000 + "cnn-grader-" * 50_000 + "/" + "y" * 1_000_000
    assert short_paths(text).startswith("x/x/")


def test_a_call_without_values_names_types_and_shapes_only() -> None:
    assert call_of("output_size", (227, 11, 0, 4), {}).without_values().text() == "output_size(int, int, int, int)"
    assert (call_of("conv2d", (np.zeros((5, 4)), (2, 2)), {"mode": "same", "k": np.float32(2)}).without_values().text()
            == "conv2d(<array (5, 4) float64>, tuple of 2, mode=str, k=float)")


def test_student_view_keeps_public_groups_whole_and_cuts_paths() -> None:
    failure = Failure("error", "error", {"ename": "FileNotFoundError", "evalue": "/tmp/cnn-grader-a1/work/x.csv"},
                      call_of("f", (3,), {}), traceback='  File "/x/.venv/lib/python3.11/site-packages/numpy/a.py", line 2, in g\n    g()\n'
                                "FileNotFoundError: /tmp/cnn-grader-a1/work/x.csv\n")
    public = student_view(TestResult("f", "example", True, 0.0, 5.0, 1, 0, failure))
    assert public.failure is not None and public.failure.call is not None and public.failure.call.text() == "f(3)"
    assert public.failure.message == "FileNotFoundError: x.csv"
    assert public.failure.traceback == ('  File "numpy/a.py", line 2, in g\n    g()\nFileNotFoundError: x.csv\n')
    hidden = student_view(TestResult("f", "more", False, 0.0, 5.0, 1, 0, failure))
    assert hidden.failure is not None and hidden.failure.call is not None and hidden.failure.call.text() == "f(int)"
    assert hidden.failure.message == "FileNotFoundError: (the message of an error in a hidden test is not shown)"
    assert hidden.failure.traceback == '  File "numpy/a.py", line 2, in g\n    g()'
    whole = SubmissionResult("s", "a", "0" * 64, "0.1.0", 1.0, (), cells=(
        {"index": 2, "traceback": "/tmp/cnn-grader-b/work/n.py"},), notes=("see /tmp/cnn-grader-b/work/n.py",))
    shown = for_student(whole)
    assert shown.cells[0]["traceback"] == "n.py" and [n.text("en") for n in shown.notes] == ["see n.py"]


def test_the_gender_page_shows_no_label_of_the_hidden_face_set(config: CourseConfig) -> None:
    """load_faces' expected excerpt held the first labels of the held-out faces."""
    labels = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1]
    expected = [{"shape": [40, 64, 64, 3], "head": [0.25] * 64}, labels * 4]
    actual = [{"shape": [40, 64, 64, 3], "head": [0.25] * 64}, [1 - y for y in labels] * 4]
    params = {"count": 40, "total": 40, "largest": "1", "index": "(0,)", "expected": "0", "actual": "1", "path": "[1]"}
    call = Call("load_faces", (Argument("file", "'heldout/FaceScore.csv'"), Argument("file", "'heldout/images'")))
    failure = Failure("wrong", "values_differ", params, call, expected, actual, 1.0, (0,))
    result = SubmissionResult("s", "04-gender-cnn", "0" * 64, "0.1.0", 1.0,
                              (TestResult("load_faces", "hidden face set", False, 0.0, 20.0, 1, 0, failure),))
    page = Page(render_submission(result, config, "en"))
    assert "load_faces(file, file)" in page.text and "[1]: 40 of 40 values differ" in page.text
    assert not page.having_class("grid-box") and "heldout" not in page.text
    assert "0, 1, 1, 0" not in page.text and "[0, 1" not in page.text


def stored(failure: dict[str, Any], public: bool) -> SubmissionResult:
    """A result file holding one group of ``output_size`` with ``failure``, as read from disk."""
    record = {"question": "output_size", "group": "public" if public else "hidden", "public": public, "score": 0.0,
              "max_score": 5.0, "cases": 3, "passed_cases": 0, "extra_credit": False, "detail": "",
              "diagnosis": None, "failure": failure}
    data = SubmissionResult("s", "03-parameter-counting", "0" * 64, "0.1.0", 1.0, ()).to_json()
    data["grader"]["results"] = [record]
    return SubmissionResult.from_json(data)


# failures as the grader before codes (7dd829a) stored them: English message, call as text
OLD_CALL = {"call": "output_size(227, 11, 0, 4)", "signature": "output_size(int, int, int, int)",
            "input_shapes": [], "traceback": ""}
OLD_HIDDEN = [  # (stored failure, what that grader showed a student of a hidden group)
    ({"kind": "wrong", "message": "got 3, expected 55", "expected": 55, "actual": 3, **OLD_CALL},
     "the answer differs from the expected one"),  # stored before failures had an outline
    ({"kind": "unsupported", "message": "unsupported return value: could not be saved: 227", **OLD_CALL},
     "unsupported return value"),
    ({"kind": "error", "message": "IndexError: index 227 is out of bounds", **OLD_CALL},
     "IndexError: (the message of an error in a hidden test is not shown)"),
    ({"kind": "error", "message": "ZeroDivisionError", **OLD_CALL}, "ZeroDivisionError"),
]


@pytest.mark.parametrize(("failure", "shown"), OLD_HIDDEN, ids=[f["kind"] + ": " + f["message"] for f, _ in OLD_HIDDEN])
def test_a_hidden_group_stored_by_an_older_grader_shows_what_it_showed_then(config: CourseConfig,
                                                                             failure: dict[str, Any],
                                                                             shown: str) -> None:
    result = stored(failure, public=False)
    seen = student_view(result.tests[0])
    assert seen.failure is not None and seen.failure.message == shown
    for text in (Page(render_submission(result, config, "en")).text, json.dumps(gradescope_results(result))):
        assert "227" not in text and "55" not in text.replace("0" * 64, "")


def test_an_older_graders_unanswered_question_is_still_unanswered(config: CourseConfig) -> None:
    """It stored ``NotImplementedError``: the question's status is 'not answered', not an error."""
    for public in (True, False):
        result = stored({"kind": "error", "message": "NotImplementedError", **OLD_CALL}, public)
        assert result.tests[0].failure is not None and result.tests[0].failure.unanswered
        assert "Not answered yet" in Page(render_submission(result, config, "en")).text
    named = stored({"kind": "error", "message": "NameError: name 'np' is not defined", **OLD_CALL}, True)
    assert named.tests[0].failure is not None and named.tests[0].failure.ename == "NameError"


def test_a_hidden_failure_this_catalog_cannot_word_shows_none_of_its_stored_words(config: CourseConfig) -> None:
    """A newer grader's code (or a hand edit) falls back to the stored English, which is the
    instructor's and quotes the expected value: a hidden group's student sees only its kind."""
    for kind in ("wrong", "error", "unsupported"):
        failure = {"kind": kind, "code": "a_newer_code", "params": {"x": 1},
                   "message": "expected 55 for output_size(227, 11, 0, 4)", "expected": 55,
                   "call": call_of("output_size", (227, 11, 0, 4), {}).to_json()}
        result = stored(failure, public=False)
        for text in (Page(render_submission(result, config, "en")).text, json.dumps(gradescope_results(result))):
            assert "227" not in text and "expected 55" not in text, kind
        assert "expected 55" in stored(failure, public=True).tests[0].failure.message  # type: ignore[union-attr]
