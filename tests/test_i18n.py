"""Both course languages, everywhere: every catalog entry translated, every code the grader uses in
the catalog, every declared mistake named in zh and en, and failures graded in Chinese read in Chinese.

The catalog's own shape (both languages, same parameters) is checked in tests/test_catalog.py; here
the catalog is checked against the code base that uses it and against what a zh reader is shown.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import re
import zipfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from grader import cli
from grader.classroom.batch import ClassRun
from grader.classroom.plan import NOT_AVAILABLE
from grader.intake.submissions import find_submissions

from grader.course.assignments import course_assignments
from grader.course.assignments import gender
from grader.course.config import load_config
from grader.course.spec import AssessContext, Case, SpecError, Verdict
from grader.grade.calls import _case_failure, _verdict_failure, _verdict_message, judge_answers
from grader.grade.notebook import _notes
from grader.grade.prepare import prepare
from grader.judge.catalog import CATALOG, LANGUAGES, parameters
from grader.judge.results import Failure, SubmissionResult
from grader.judge.summary import format_summary
from grader.judge.results import TestResult as TestResult  # noqa: PLC0414
from grader.publish.report import render_submission
from grader.run.decode import Answer, read_answer
from grader.run.execute import CellRun, execute_cells
from grader.run.harness import HARNESS_SOURCE, ExchangeTampered, write_call
from grader.run.inspect_model import Inspector, _error

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
# Four words or numbers in a row, three of them English words: the rough mark of an English
# sentence ("held-out accuracy 0.61 on 40 images"); code and values rarely have it ("Dense(2, relu)",
# "ValueError: Lambda", "[1, 2, 3]").
_TOKEN = r"(?:[A-Za-z][A-Za-z'-]*|[0-9][0-9.,]*)"
_RUN = re.compile(rf"(?<![\w.]){_TOKEN}(?: {_TOKEN}){{3,}}")


def english(text: str) -> list[str]:
    """The English sentences (runs of words, see ``_RUN``) in ``text``."""
    return [run for run in _RUN.findall(text) if sum(len(w) > 1 and w[0].isalpha() for w in run.split()) >= 3]


def _skeleton(template: str) -> str:
    """A catalog text without its ``{placeholders}``: only the words the translator wrote."""
    return re.sub(r"\{[^{}]*\}", "◇", template)


# --- the catalog, entry by entry -------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_entry_is_translated(code: str) -> None:
    """Both languages, non-empty, the same parameters; a zh text that is an English sentence (a
    copy of the en one, or one left untranslated) is a missing translation."""
    entry = CATALOG[code]
    assert set(entry) == set(LANGUAGES), f"{code}: languages {sorted(entry)}"
    for lang in LANGUAGES:
        assert isinstance(entry[lang], str) and entry[lang].strip(), f"{code}: empty {lang} text"
    assert parameters(entry["zh"]) == parameters(entry["en"]), f"{code}: parameters differ"
    zh, en = _skeleton(entry["zh"]), _skeleton(entry["en"])
    if not CJK.search(zh):  # only a text with no words to translate is the same in both: "{ename}: {evalue}", "JSON"
        assert zh == en and not re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", en), \
            f"{code}: the zh text is not Chinese: {entry['zh']!r}"
    assert not english(zh), f"{code}: an English sentence in the zh text: {entry['zh']!r}"


# --- codes the code base uses ------------------------------------------------------------------------

# Calls whose argument is a catalog code: (function name, argument position, the family it is of).
CODE_ARGUMENTS = {
    "Message": (0, ""), "text": (0, ""), "nested": (0, ""), "render": (0, ""), "t": (0, ""), "_said": (0, ""),
    "Failure": (1, ""), "_differ": (1, ""), "_verdict": (1, ""), "NotebookUnreadable": (0, ""),
    "_Refused": (0, "refused."), "ExchangeTampered": (0, "exchange."), "_error": (0, "model."),
    "Unsupported": (0, "harness."), "_Rejected": (0, "zip."), "skip": (1, "intake."),
}


def _sources() -> Iterator[tuple[str, ast.AST]]:
    for path in sorted((ROOT / "grader").rglob("*.py")):
        yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))
    yield "grader/run/harness.py (HARNESS_SOURCE)", ast.parse(HARNESS_SOURCE)


def _used_codes() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """``(codes, prefixes)`` the code base names, each with where: literal codes, and the constant
    head of codes made with an f-string (``f"mistake.{id}"``)."""
    codes: set[tuple[str, str]] = set()
    prefixes: set[tuple[str, str]] = set()

    def found(node: ast.AST, family: str, where: str) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            codes.add((family + node.value, where))
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            prefixes.add((family + str(node.values[0].value), where))

    for where, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else (
                    node.func.attr if isinstance(node.func, ast.Attribute) else "")
                if isinstance(node.func, ast.Attribute) and name in ("text", "render"):
                    name = ""  # message.text(lang), failure.text(lang): a method taking the language
                if name in CODE_ARGUMENTS:
                    position, family = CODE_ARGUMENTS[name]
                    if len(node.args) > position:
                        found(node.args[position], family, f"{where}:{node.lineno}")
                for keyword in node.keywords:
                    if keyword.arg == "code":
                        found(keyword.value, "", f"{where}:{node.lineno}")
            elif isinstance(node, ast.Dict):  # {"code": "unsupported", "params": ...}: a nested message
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "code" and value is not None:
                        found(value, "", f"{where}:{node.lineno}")
    return codes, prefixes


def _template_codes() -> set[tuple[str, str]]:
    used = set()
    for template in sorted((ROOT / "templates").glob("*.j2")):
        for match in re.finditer(r"""\bt\(\s*["']([\w.]+)["']""", template.read_text(encoding="utf-8")):
            used.add((match.group(1), template.name))
    return used


def test_every_code_the_grader_uses_is_in_the_catalog() -> None:
    codes, prefixes = _used_codes()
    codes |= _template_codes()
    # The scan finds the codes of every layer that words something (else it would pass vacuously).
    names = {code for code, _ in codes}
    assert {"values_differ", "refused.npz", "harness.too_big", "exchange.not_written", "model.crashed",
            "assess.accuracy", "cell.stopped_after", "check.total", "status.unanswered", "page.title",
            "zip.unsafe", "intake.duplicate", "cli.table"} <= names
    missing = sorted(f"{code} ({where})" for code, where in codes if code not in CATALOG)
    assert not missing, "codes used but not in the catalog:\n" + "\n".join(missing)
    orphans = sorted(f"{prefix}… ({where})" for prefix, where in prefixes
                     if not any(key.startswith(prefix) for key in CATALOG))
    assert not orphans, "code families used but not in the catalog:\n" + "\n".join(orphans)


# --- the course's declarations -------------------------------------------------------------------------


def _mistakes() -> list[tuple[str, str, str, str]]:
    return [(f"{aid}/{question.id}/{mistake.id}", mistake.zh, mistake.en, mistake.id)
            for aid, assignment in sorted(course_assignments().items())
            for question in assignment.questions for mistake in question.mistakes]


def test_there_are_declared_mistakes_to_check() -> None:
    assert len(_mistakes()) >= 10


@pytest.mark.parametrize(("where", "zh", "en", "id_"), _mistakes(), ids=[m[0] for m in _mistakes()])
def test_every_declared_mistake_is_named_in_both_languages(where: str, zh: str, en: str, id_: str) -> None:
    assert isinstance(zh, str) and zh.strip(), f"{where}: no zh name"
    assert isinstance(en, str) and en.strip(), f"{where}: no en name"
    assert CJK.search(zh), f"{where}: the zh name is not Chinese: {zh!r}"
    assert not english(zh), f"{where}: an English sentence in the zh name: {zh!r}"
    assert re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", en) and not CJK.search(en), f"{where}: the en name is not English"


def _groups() -> list[tuple[str, str]]:
    return [(f"{aid}/{question.id}/{group.name}", group.zh)
            for aid, assignment in sorted(course_assignments().items())
            for question in assignment.questions for group in question.groups]


@pytest.mark.parametrize(("where", "zh"), _groups(), ids=[g[0] for g in _groups()])
def test_every_declared_group_has_a_chinese_title(where: str, zh: str) -> None:
    assert isinstance(zh, str) and zh.strip(), f"{where}: no zh title"
    assert CJK.search(zh), f"{where}: the zh title is not Chinese: {zh!r}"
    assert not english(zh), f"{where}: an English sentence in the zh title: {zh!r}"


def test_a_group_without_a_chinese_title_is_refused_by_name() -> None:
    config = load_config(ROOT / "course.toml", environ={})
    assignment = course_assignments()["01-convolution"]
    question = assignment.questions[0]
    untitled = dataclasses.replace(question, groups=(*question.groups[:-1],
                                                     dataclasses.replace(question.groups[-1], zh=" ")))
    broken = dataclasses.replace(assignment, questions=(untitled, *assignment.questions[1:]))
    with pytest.raises(SpecError, match=re.escape(repr(question.groups[-1].name))):
        prepare(broken, config)


def _forgot_plus_one(n: int, f: int, p: int, s: int, rounding: str = "floor") -> int:
    return (n - f + 2 * p) // s


def _graded_output_size() -> SubmissionResult:
    """``output_size`` (its groups "course example" and "floor and ceil") answered without the + 1,
    judged as the grader judges a kernel's answers, then stored and read back."""
    config = load_config(ROOT / "course.toml", environ={})
    pq = next(pq for pq in prepare(course_assignments()["03-parameter-counting"], config)
              if pq.question.id == "output_size")
    answers = [(Answer("ok", value=_forgot_plus_one(*case.args, **case.kwargs)), "")
               for pg in pq.groups for case, _ in pg.cases]
    tests = judge_answers(pq, answers, config, config.limits_for("03-parameter-counting"))
    result = SubmissionResult("li_hua", "03-parameter-counting", "0" * 64, "0.1.0", 1.0, tuple(tests))
    return SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))


def _visible(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)))


def test_a_chinese_page_and_summary_show_the_groups_chinese_titles() -> None:
    config = load_config(ROOT / "course.toml", environ={})
    result = _graded_output_size()
    assert [t.group for t in result.tests] == ["course example", "floor and ceil"], "the identity is unchanged"
    zh, en = _visible(render_submission(result, config, "zh")), _visible(render_submission(result, config, "en"))
    assert "课程示例" in zh and "向下取整与向上取整" in zh
    assert "course example" not in zh and "floor and ceil" not in zh
    assert "course example" in en and "floor and ceil" in en
    assert "课程示例" not in en and "向下取整与向上取整" not in en
    summary = format_summary(result.tests, "zh", assignment="03-parameter-counting")
    assert "✗ output_size · 课程示例：" in summary and "✗ output_size · 向下取整与向上取整：" in summary
    assert "✗ output_size · floor and ceil: " in format_summary(result.tests, "en", assignment="03-parameter-counting")


def test_a_result_stored_without_chinese_titles_shows_the_english_names() -> None:
    """An older grader stored no zh title: a Chinese page still names every group."""
    record = _graded_output_size().to_json()
    for test in record["grader"]["results"]:
        del test["group_zh"]
    old = SubmissionResult.from_json(json.loads(json.dumps(record)))
    zh = _visible(render_submission(old, load_config(ROOT / "course.toml", environ={}), "zh"))
    assert "course example" in zh and "floor and ceil" in zh


# --- failures graded, then read in Chinese -------------------------------------------------------------


def _harness(tmp_path: Path) -> Any:
    """The kernel's side of the harness, installed in this process (it only needs IPython's
    namespace), so that its own reasons for refusing a value are what the tests read back."""
    namespace: dict[str, Any] = {}
    user_ns: dict[str, Any] = {}
    namespace["get_ipython"] = lambda: SimpleNamespace(user_ns=user_ns)
    exec(compile(HARNESS_SOURCE, "harness", "exec"), namespace)
    return namespace["__cnn_grader__"], user_ns


def _returned(tmp_path: Path, value: Any) -> Answer:
    """What the grader reads back when the student's function returns ``value``."""
    harness, user_ns = _harness(tmp_path)
    user_ns["f"] = lambda: value
    scratch = tmp_path / f"work{len(list(tmp_path.iterdir()))}"
    folder = write_call(scratch.mkdir() or scratch, (), {})
    harness.call_all("f", [str(folder)], 5.0)
    return read_answer(folder, within=scratch)


def _written(tmp_path: Path, files: dict[str, bytes]) -> Answer:
    """What the grader reads back from an exchange folder the student's code wrote into."""
    scratch = tmp_path / f"work{len(list(tmp_path.iterdir()))}"
    folder = scratch / ".grader-exchange" / "0123abcd"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return read_answer(folder, within=scratch)


class _Session:
    """A kernel whose every cell dies: execute_cells' restarts and skips, without a kernel."""

    def __init__(self) -> None:
        self.restarts = 0

    def run(self, source: str, timeout: float, index: int = -1) -> CellRun:
        return CellRun(index, "dead_kernel" if index >= 0 else "ok")

    def responsive(self) -> bool:
        return True

    def restart(self) -> None:
        self.restarts += 1


def _assessed(verdict_of: Any, answer: Answer, report: dict[str, Any] | None = None) -> Verdict:
    context = AssessContext(lambda function, case: answer, lambda path, evaluate=False: report or {})
    return verdict_of(context, Case(()), load_config(ROOT / "course.toml", environ={}))


def _refused_copy(tmp_path: Path) -> dict[str, Any]:
    """The inspector's report on a "model" the kernel left as a folder: the decoder refuses to copy it."""
    (tmp_path / "m0.keras").mkdir()
    with Inspector(tmp_path / "inspector", heldout=tmp_path, memory_mb=512, cpu_time=60, processes=16,
                   timeout=5) as inspector:
        return inspector.inspect(tmp_path / "m0.keras")


def _failures(tmp_path: Path) -> list[tuple[str, Failure]]:
    """Representative failures, each made by the code that makes it in grading."""
    config = load_config(ROOT / "course.toml", environ={})
    limits = config.limits
    case = Case((np.ones((3, 3)),))

    def judged(expected: Any, answer: Answer, outcome: str = "") -> Failure:
        failure = _case_failure("conv2d", case, expected, answer, outcome, config, limits)
        assert failure is not None
        return failure

    eye = np.eye(3)
    found = [
        ("values", judged(eye, Answer("ok", eye + 1))),
        ("shape", judged(eye, Answer("ok", np.ones((2, 2))))),
        ("type", judged(eye, Answer("ok", "three"))),
        ("length", judged([1, 2], Answer("ok", [1]))),
        ("keys", judged({"conv1": 1}, Answer("ok", {"dense": 1}))),
        ("nested values", judged([("conv", 10)], Answer("ok", [("conv", 12)]))),
        ("missing", judged(eye, Answer("missing"))),
        ("timeout", judged(eye, Answer("error", ename="timeout"), "timeout")),
        ("crash", judged(eye, Answer("error", ename="crash"), "crash")),
        ("no room", judged(eye, Answer("error", ename="OSError"), "no_room")),
        ("complex", judged(eye, _returned(tmp_path, np.ones(2, complex)))),
        ("object", judged(eye, _returned(tmp_path, object()))),
        ("subclass", judged(eye, _returned(tmp_path, np.ma.masked_array([1.0])))),
        ("empty answer", judged(eye, _written(tmp_path, {"answer.json": b""}))),
        ("empty array", judged(eye, _written(tmp_path, {
            "answer.json": b'{"status": "ok", "value": {"__ndarray__": "r0.npy"}}', "r0.npy": b""}))),
        ("npz", judged(eye, _written(tmp_path, {
            "answer.json": b'{"status": "ok", "value": {"__ndarray__": "r0.npy"}}', "r0.npy": b"PK\x03\x04..."}))),
        ("no answer", judged(eye, _written(tmp_path, {}))),
    ]
    link = _written(tmp_path, {"answer.json": b'{"status": "ok", "value": {"__ndarray__": "r0.npy"}}'})
    found.append(("array missing", judged(eye, link)))
    tampered = ExchangeTampered("new_replaced", folder="0123", what={"code": "exchange.what.link"})
    found.append(("tampered", judged(eye, Answer("lost", evalue=str(tampered), reason=tampered.message), "tampered")))
    model = SimpleNamespace(path=tmp_path)  # decoded as a Keras model: it has a path
    verdicts = [
        ("not a model", _assessed(gender._assess_architecture, Answer("ok", [1, 2]))),
        ("unsupported model", _assessed(gender._assess_architecture, _written(tmp_path, {}))),
        ("ten units", _assessed(gender._assess_architecture, Answer("ok", model),
                                {"layers": [{"class": "Dense", "config": {"units": 10, "activation": "softmax"}}]})),
        ("few blocks", _assessed(gender._assess_architecture, Answer("ok", model),
                                 {"layers": [{"class": "Dense", "config": {"units": 2, "activation": "softmax"}}]})),
        ("output", _assessed(gender._assess_architecture, Answer("ok", model), {"layers": [
            {"class": c, "config": {}} for c in ("Conv2D", "MaxPooling2D") * 2] + [
            {"class": "Dense", "config": {"units": 3, "activation": "relu"}}]})),
        ("unloadable", _assessed(gender._assess_architecture, Answer("ok", model), _error(
            "unloadable", ename="ValueError", evalue="Lambda"))),
        ("memory", _assessed(gender._assess_architecture, Answer("ok", model), _error("memory", limit=512))),
        ("model refused", _assessed(gender._assess_architecture, Answer("ok", model), _refused_copy(tmp_path))),
        ("crashed", _assessed(gender._assess_architecture, Answer("ok", model), _error(
            "crashed", how={"code": "model.how.killed", "params": {"signal": "SIGSEGV"}}))),
        ("accuracy", _assessed(gender._assess_accuracy, Answer("ok", model), {"layers": [], "evaluation": {
            "accuracy": 0.61, "n": 40}})),
        ("rating", _assessed(gender._assess_rating, Answer("ok", model), {"layers": [
            {"class": "Dense", "config": {"units": 2, "activation": "softmax"}}]})),
    ]
    for name, verdict in verdicts:
        assert verdict.fraction < 1 and verdict.code, (name, verdict)
        found.append((name, _verdict_failure(verdict)))
    return found


def test_failures_graded_in_chinese_read_in_chinese(tmp_path: Path) -> None:
    failures = _failures(tmp_path)
    for name, failure in failures:
        words = failure.text("zh")
        assert CJK.search(words) and not english(words), f"{name}: {words!r}"
        assert failure.text("en") != words, name


def test_notes_and_passed_groups_read_in_chinese(tmp_path: Path) -> None:
    execution = execute_cells(_Session(), [(i, "x = 1") for i in range(2, 12)], cell_timeout=5, notebook_timeout=60)
    numbers = {i: 100 + i for i in range(2, 12)}  # the cells' Jupyter numbers, by position
    notes = list(_notes(execution, load_config(ROOT / "course.toml", environ={}).limits, "tmpfs", numbers))
    assert {n.code for n in notes} >= {"cell_restarted", "cell_dead", "cell_skipped"}
    assert all(n.params["cell"] in numbers.values() for n in notes if "cell" in n.params), \
        "every note, the run layer's restarts too, names a cell by the number Jupyter shows"
    model = SimpleNamespace(path=tmp_path)
    passed = _assessed(gender._assess_accuracy, Answer("ok", model), {"layers": [], "evaluation": {
        "accuracy": 0.95, "n": 40}})
    assert passed.fraction >= 1
    for message in [*notes, _verdict_message(passed)]:
        assert message is not None
        words = message.text("zh")
        assert CJK.search(words) and not english(words), words


def test_a_page_in_chinese_has_no_english_sentence(tmp_path: Path) -> None:
    """The student's page, from the stored result (as `grader report` renders it), in zh."""
    failures = _failures(tmp_path)
    tests = tuple(TestResult(name, "hidden" if n % 2 else "public", n % 2 == 0, 0.0, 1.0, 3, 1, failure)
                  for n, (name, failure) in enumerate(failures))
    execution = execute_cells(_Session(), [(i, "x = 1") for i in range(2, 12)], cell_timeout=5, notebook_timeout=60)
    config = load_config(ROOT / "course.toml", environ={})
    passed = _assessed(gender._assess_accuracy, Answer("ok", SimpleNamespace(path=tmp_path)),
                       {"layers": [], "evaluation": {"accuracy": 0.95, "n": 40}})
    tests += (TestResult("accuracy", "held-out", False, 1.0, 1.0, 1, 1, detail=_verdict_message(passed)),)
    result = SubmissionResult("li_hua", "01-convolution", "0" * 64, "0.1.0", 1.0, tests,
                              tuple(run.to_dict() for run in execution.cells),
                              _notes(execution, config.limits, "tmpfs", {}))
    stored = SubmissionResult.from_json(json.loads(json.dumps(result.to_json())))
    html = render_submission(stored, config, "zh")
    visible = re.sub(r"<(script|style|pre|code)\b.*?</\1>", " ", html, flags=re.S)
    visible = unescape(re.sub(r"<[^>]+>", " ", visible))
    assert not english(visible), english(visible)
    assert "在 40 张留出图像上的准确率 0.950" in visible  # the passed group's detail, in Chinese


def test_an_older_result_in_english_words_still_renders(tmp_path: Path) -> None:
    """A result stored before the codes: its details and notes are English text, shown as they are."""
    config = load_config(ROOT / "course.toml", environ={})
    record = SubmissionResult("li_hua", "04-gender-cnn", "0" * 64, "0.0.9", 1.0, (
        TestResult("accuracy", "held-out", False, 1.0, 1.0, 1, 1, detail="held-out accuracy 0.950 on 40 images"),),
        ({"index": 3, "outcome": "timeout", "ename": "CellTimeoutError", "evalue": "stopped after 60 s",
          "source_preview": "", "traceback": ""},), ("cell 3: timeout; kernel restarted (1)",)).to_json()
    record["grader"]["results"][0]["detail"] = "held-out accuracy 0.950 on 40 images"  # as older graders wrote it
    stored = SubmissionResult.from_json(json.loads(json.dumps(record)))
    assert stored.tests[0].detail is not None and stored.tests[0].detail.code == "text"
    html = render_submission(stored, config, "zh")
    assert "held-out accuracy 0.950 on 40 images" in html and "stopped after 60 s" in html


def test_the_self_check_summary_in_chinese_has_no_english_sentence(tmp_path: Path) -> None:
    """What `grader check --lang zh` and the student's self-check print for the same failures."""
    tests = [TestResult(name, "public", True, 0.0, 1.0, 3, 1, failure) for name, failure in _failures(tmp_path)]
    summary = format_summary(tests, "zh", assignment="01-convolution", no_public=["accuracy"])
    assert summary.count("✗") == len(tests)
    assert not english(summary), english(summary)


def test_the_class_run_on_the_terminal_in_chinese(tmp_path: Path) -> None:
    """`grader grade --lang zh`'s table and its lines on what was not graded, for submissions the
    intake refused (a zip-slip zip, a notebook with no student name, a duplicate)."""
    root = tmp_path / "class"
    (root / "wang").mkdir(parents=True)
    with zipfile.ZipFile(root / "li.zip", "w") as zf:
        zf.writestr("../evil.ipynb", "{}")
    (root / "01-convolution.ipynb").write_text("{}", encoding="utf-8")
    (root / "wang" / "01-convolution.ipynb").write_text("{}", encoding="utf-8")
    (root / "wang" / "01-convolution (1).ipynb").write_text("{}", encoding="utf-8")
    found, unrecognised = find_submissions(root, {"01-convolution": ("convolution",)}, extract_to=tmp_path / "x")
    assert len(unrecognised) == 3, unrecognised
    timed_out = {"index": 3, "outcome": "timeout", "ename": "CellTimeoutError", "evalue": ""}
    run = ClassRun(results=[SubmissionResult("wang", "01-convolution", "", "0", 0.0, (), (timed_out,))],
                   unrecognised=unrecognised, not_graded=[(found[0], NOT_AVAILABLE)])
    buffer = io.StringIO()
    cli._print_run(run, tmp_path / "out", Console(file=buffer, width=400), "zh")
    shown = buffer.getvalue().replace(str(tmp_path), "")
    assert "未评分" in shown and "单元格 3：运行太久，被中断" in shown
    assert not english(shown), english(shown)
