"""The one message catalog (grader.judge.catalog): every code in both languages with the same
parameters, loud failures on a missing code, language or parameter, and failures worded from codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.judge.catalog import CATALOG, LANGUAGES, Message, nested, parameters, render, text
from grader.judge.results import Failure

ROOT = Path(__file__).resolve().parents[1]


def test_every_code_has_both_languages_with_the_same_parameters() -> None:
    for code, entry in CATALOG.items():
        assert set(entry) == set(LANGUAGES), code
        assert all(entry[lang].strip() for lang in LANGUAGES), code
        assert parameters(entry["zh"]) == parameters(entry["en"]), code


def test_text_fills_parameters_and_fails_loudly() -> None:
    assert text("test.cases", "en", passed=2, total=5) == "2 of 5 cases passed"
    assert text("test.cases", "zh", passed=2, total=5) == "2 / 5 个用例通过"
    with pytest.raises(KeyError, match="no message 'no.such.code'"):
        text("no.such.code", "en")
    with pytest.raises(ValueError, match="received 'fr'"):
        text("status.passed", "fr")
    with pytest.raises(KeyError, match="'timeout' needs the parameter 'limit'"):
        text("timeout", "zh")


def test_languages_are_defined_once() -> None:
    defined = [path for path in (ROOT / "grader").rglob("*.py")
               if re.search(r"^LANGUAGES\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert defined == [ROOT / "grader" / "judge" / "catalog.py"]


@pytest.mark.parametrize(("code", "params", "en", "zh"), [
    ("timeout", {"limit": 5.0}, "the call did not finish in time (the limit is 5 s per call)", "每次调用限时 5 秒"),
    ("values_differ", {"count": 3, "total": 4, "largest": "1", "index": "(0,)", "expected": "2", "actual": "3",
                       "path": "[0]", "your_dtype": "int64"},
     "[0]: 3 of 4 values differ; largest error 1 at index (0,): expected 2, got 3 (your dtype is int64)",
     "4 个值中有 3 个不同"),
    ("error", {"ename": "ValueError", "evalue": ""}, "ValueError", "ValueError"),
    ("not_implemented", {"evalue": ""}, "NotImplementedError", "NotImplementedError"),
    ("no_function", {"name": "conv2d"}, "the notebook defines no function named 'conv2d'", "没有定义名为 'conv2d' 的函数"),
    ("type", {"actual": "str", "expected": nested("type.array", shape="(3, 3)", dtype="float64")},
     "got str, expected array of shape (3, 3) and dtype float64", "形状为 (3, 3)、dtype 为 float64 的数组"),
    ("grader_failed", {"doing": nested("stage.read"), "reason": "KeyError: 'x'"},
     "not graded: the grader failed while reading the notebook (KeyError: 'x')", "读取笔记本"),
])
def test_a_failure_is_worded_from_its_code_in_either_language(code: str, params: dict[str, object], en: str,
                                                               zh: str) -> None:
    assert render(code, params, "en") == en and Message(code, params).text("en") == en
    assert zh in Failure("wrong", code, params).text("zh")


def test_a_list_of_messages_is_joined_in_the_readers_language() -> None:
    seen = [nested("exchange.what.link"), nested("exchange.what.other")]
    params = {"folder": ".grader-exchange", "seen": seen}
    assert render("exchange.replaced_again", params, "en").endswith(
        "(a symbolic link, something that is not a folder)")
    assert render("exchange.replaced_again", params, "zh").endswith("（一个符号链接、一个不是文件夹的东西）")
