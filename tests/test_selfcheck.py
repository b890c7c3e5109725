"""The bundle's self-check, run as a student runs it (only dist/student on the path), and
``grader check``, which must print the same text for the same notebook."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from course_facts import quick_gender_solution
from grader.course.assignments.convolution import FLIPPED_EN
from grader.grade.kit import _Encoder
from grader.cli import main
from grader.judge.results import Diagnosis, Failure, TestResult, call_of, excerpt
from grader.judge.selfcheck import _decode
from grader.judge.summary import format_summary

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "student"
CORRECT = ROOT / "examples" / "submissions" / "li_hua" / "01-convolution.ipynb"
FLIPPED = ROOT / "examples" / "submissions" / "wang_fang" / "01-convolution.ipynb"

CONV2D = '''
import numpy as np

def conv2d(x, k, mode="valid"):
    x, k = np.asarray(x, dtype=float), np.asarray(k, dtype=float)
    fh, fw = k.shape
    if mode == "full":
        x = np.pad(x, ((fh - 1, fh - 1), (fw - 1, fw - 1)))
    elif mode == "same":  # anchor ((FH-1)//2, (FW-1)//2): an even kernel's extra zeros go bottom/right
        x = np.pad(x, (((fh - 1) // 2, fh // 2), ((fw - 1) // 2, fw // 2)))
    h, w = x.shape[0] - fh + 1, x.shape[1] - fw + 1
    return np.array([[np.sum(x[i:i + fh, j:j + fw] * k) for j in range(w)] for i in range(h)])

X = np.array([[2, 3, 8], [6, 1, 5], [7, 2, -1]])
K = np.array([[4, 1], [2, 3]])
assert conv2d(X, K, "full").tolist() == [[6, 13, 30, 16], [20, 26, 37, 42], [27, 45, 10, 18], [7, 30, 7, -4]]
assert conv2d(X, K, "same").tolist() == [[26, 37, 42], [45, 10, 18], [30, 7, -4]]
'''


def student_python(*args: str, cwd: Path, lang: str = "en") -> subprocess.CompletedProcess[str]:
    """Python with only the bundle added to its path, in a folder of its own, as a student has it."""
    env = {**os.environ, "PYTHONPATH": str(BUNDLE), "PYTHONDONTWRITEBYTECODE": "1", "SELFCHECK_LANG": lang,
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def in_notebook(tmp_path: Path, body: str) -> str:
    script = CONV2D + textwrap.dedent(body) + "\nimport sys\nassert 'grader' not in sys.modules, 'imported grader'\n"
    done = student_python("-c", script, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_correct_function_passes_without_importing_the_grader(tmp_path: Path) -> None:
    out = in_notebook(tmp_path, 'from selfcheck import check\ncheck("conv2d")')
    assert out.splitlines() == [
        "✓ conv2d · course example: 3/3 cases pass",
        "1/1 public tests pass. Public tests are only examples: the grader also uses hidden tests.",
    ]


def test_a_flipped_kernel_is_diagnosed_with_the_declared_mistake(tmp_path: Path) -> None:
    out = in_notebook(tmp_path, '''
        from selfcheck import check
        correct = conv2d
        def conv2d(x, k, mode="valid"):
            return correct(x, np.asarray(k)[::-1, ::-1], mode)
        check("conv2d")
    ''')
    assert out.startswith("✗ conv2d · course example: 0/3 cases pass\n    call: conv2d([[ 2.,  3.,  8.]")
    assert "    expected:\n       6 13 30 16\n" in out
    assert f"    diagnosis: {FLIPPED_EN}" in out


def test_stubs_missing_functions_and_unknown_names_are_said_plainly(tmp_path: Path) -> None:
    out = in_notebook(tmp_path, '''
        from selfcheck import check
        def conv2d_multi(x, k):
            raise NotImplementedError()
        check("conv2d_multi")
        check("im2col")
        check("conv2d_typo")
        def im2col(x, fh, fw, stride=1):
            raise ValueError("my bug")
        check()
    ''')
    assert "✗ conv2d_multi · course example: not implemented yet (NotImplementedError)" in out
    assert "✗ im2col · course example: im2col is not defined yet: run the cell that defines it" in out
    assert "There is no question named 'conv2d_typo'" in out
    tail = out.split("There is no question named")[1]
    assert "✓ conv2d · course example" in tail and "problem: ValueError: my bug" in tail


def test_check_in_chinese_by_default(tmp_path: Path) -> None:
    done = student_python("-c", CONV2D + "from selfcheck import check\ncheck()", cwd=tmp_path, lang="")
    assert "✓ conv2d · 课程示例：3/3 个用例通过" in done.stdout, "the group by its zh title, from the bundle's data"
    assert "公开测试只是例子" in done.stdout


def test_the_chinese_self_check_words_the_comparison_in_chinese(tmp_path: Path) -> None:
    flipped = CONV2D + textwrap.dedent('''
        from selfcheck import check
        correct = conv2d
        def conv2d(x, k, mode="valid"):
            return correct(x, np.asarray(k)[::-1, ::-1], mode)
        check("conv2d")
    ''')
    done = student_python("-c", flipped, cwd=tmp_path, lang="zh")
    assert done.returncode == 0, done.stderr
    assert "    问题：16 个值中有 16 个不同；最大误差 13，位于索引 (1, 3)：期望 42，得到 29" in done.stdout
    assert "values differ" not in done.stdout and "largest error" not in done.stdout


def test_the_terminal_command_exits_0_1_2(tmp_path: Path) -> None:
    # The master notebook answers every declared question (the example, only those of its day).
    good = student_python("-m", "selfcheck", str(ROOT / "solutions" / "01-convolution.ipynb"), cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("Self-check 01-convolution (public tests only)\n")
    bad = student_python("-m", "selfcheck", str(FLIPPED), cwd=tmp_path)
    assert bad.returncode == 1 and FLIPPED_EN in bad.stdout
    assert "cell 4 raised AssertionError" in bad.stderr, "the failing check cell is reported, as Jupyter numbers it"
    broken = tmp_path / "01-convolution.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    unreadable = student_python("-m", "selfcheck", str(broken), cwd=tmp_path)
    assert unreadable.returncode == 2 and str(broken) in unreadable.stderr
    unknown = tmp_path / "homework.ipynb"
    unknown.write_text('{"cells": [], "metadata": {}}', encoding="utf-8")
    assert student_python("-m", "selfcheck", str(unknown), cwd=tmp_path).returncode == 2
    assert student_python("-m", "selfcheck", cwd=tmp_path).returncode == 2


@pytest.mark.parametrize("notebook", [CORRECT, FLIPPED, ROOT / "assignments" / "02-pooling.ipynb", "gender"],
                         ids=["correct", "flipped", "template", "gender"])
def test_grader_check_prints_what_the_student_sees(notebook: Path | str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    if notebook == "gender":  # every cell runs, the model trains briefly: its accuracy is not the point
        (tmp_path / "data").symlink_to(ROOT / "data")  # the notebook's default ../data/faces/train
        (tmp_path / "course").mkdir()
        notebook = quick_gender_solution(tmp_path / "course" / "04-gender-cnn.ipynb")
    code = main(["--course", str(ROOT / "course.toml"), "check", str(notebook), "--lang", "en"])
    ours = capsys.readouterr().out
    theirs = student_python("-m", "selfcheck", str(notebook), cwd=tmp_path)
    assert code == theirs.returncode
    assert _lines(ours) == _lines(theirs.stdout)


def _lines(out: str) -> list[str]:
    """The printed lines, a briefly trained model's accuracy (``0.594``) as ``0.###``: two trainings
    of it, in two processes, do not agree to three digits (TensorFlow's threads), and what is
    compared is the self-check's report, not the model."""
    return [re.sub(r"\b0\.\d{3}\b", "0.###", line.rstrip()) for line in out.splitlines()]


def test_grader_check_and_the_bundle_name_groups_by_their_chinese_titles(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--course", str(ROOT / "course.toml"), "check", str(FLIPPED), "--lang", "zh"])
    ours = capsys.readouterr().out
    theirs = student_python("-m", "selfcheck", str(FLIPPED), cwd=tmp_path, lang="zh")
    assert code == theirs.returncode == 1
    assert "✗ conv2d · 课程示例：0/3 个用例通过" in ours and "course example" not in ours
    assert [line.rstrip() for line in ours.splitlines()] == [line.rstrip() for line in theirs.stdout.splitlines()]


def test_grader_check_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = ["--course", str(ROOT / "course.toml"), "check"]
    assert main([*course, str(tmp_path / "nothing.ipynb")]) == 2
    (tmp_path / "01-convolution.ipynb").write_text("{not json", encoding="utf-8")
    assert main([*course, str(tmp_path / "01-convolution.ipynb")]) == 2
    assert "01-convolution.ipynb" in capsys.readouterr().err


def test_stored_values_come_back_as_they_were() -> None:
    encoder = _Encoder()
    value = (np.arange(6.0).reshape(2, 3), np.float64(1.5), {"a": [1, (2, "x")], 3: None}, True, 2.5)
    stored = encoder.encode(value)
    back = _decode(stored, encoder.arrays)
    assert type(back) is tuple and type(back[1]) is np.float64 and back[2] == {"a": [1, (2, "x")], 3: None}
    assert np.array_equal(back[0], value[0]) and back[3] is True and back[4] == 2.5


def test_a_big_array_is_shown_by_its_shape_and_first_values() -> None:
    big = np.arange(30 * 30, dtype=float).reshape(30, 30)
    failure = Failure("wrong", "values_differ_outline", {"count": 900, "total": 900}, call_of("f", (big,), {}),
                      excerpt(big), excerpt(big + 1))
    test = TestResult("f", "course example", True, 0.0, 1.0, 1, 0, failure, Diagnosis("d", "中文", "English"))
    text = format_summary([test], "en", assignment="01-x")
    assert "expected: array of shape (30, 30), first values: [0, 1, 2, 3, 4, 5, 6, 7, …]" in text
    assert "diagnosis: English" in text and len(text.splitlines()) == 8


def _gender_like(tmp_path: Path, *sources: tuple[str, str]) -> Path:
    """A notebook of the gender assignment (no public tests) made of check cells only."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    import nbformat

    cells = [new_markdown_cell("# 04")]
    cells += [new_code_cell(source, metadata={"grader": {"role": "check", "question": q}}) for q, source in sources]
    path = tmp_path / "04-gender-cnn.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_check_runs_the_notebooks_own_check_cells_when_it_has_no_public_tests(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notebook = _gender_like(tmp_path, ("load_faces", "assert 1 + 1 == 3, 'labels must be m -> 0\\nsecond line'"),
                            ("build_model", "x = 2"),
                            ("build_rating_model", "raise NotImplementedError()"))
    code = main(["--course", str(ROOT / "course.toml"), "check", str(notebook), "--lang", "en"])
    ours = capsys.readouterr().out
    assert code == 1, "a failing check cell fails the check"
    assert "✗ cell 1 (load_faces): AssertionError: labels must be m -> 0\n" in ours
    assert "✓ cell 2 (build_model): passed\n" in ours
    assert "· cell 3 (build_rating_model): optional, not attempted (not a failure)\n" in ours
    assert ours.rstrip().endswith("1/2 check cells pass.")
    theirs = student_python("-m", "selfcheck", str(notebook), cwd=tmp_path)
    assert theirs.returncode == 1
    assert [line.rstrip() for line in ours.splitlines()] == [line.rstrip() for line in theirs.stdout.splitlines()]


def test_check_cells_that_pass_exit_0_and_an_optional_stub_does_not_count(tmp_path: Path) -> None:
    notebook = _gender_like(tmp_path, ("load_faces", "pass"), ("build_rating_model", "raise NotImplementedError()"))
    done = student_python("-m", "selfcheck", str(notebook), cwd=tmp_path, lang="zh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ 单元格 1（load_faces）：通过" in done.stdout and "检查单元格通过 1/1。" in done.stdout


def test_grader_check_speaks_the_chosen_language_on_stderr_too(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    course = ["--course", str(ROOT / "course.toml"), "check"]
    assert main([*course, str(tmp_path / "nothing.ipynb"), "--lang", "zh"]) == 2
    assert "没有这个笔记本" in capsys.readouterr().err
    (tmp_path / "homework.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
                                             encoding="utf-8")
    assert main([*course, str(tmp_path / "homework.ipynb"), "--lang", "zh"]) == 2
    assert "看不出这是哪一次作业" in capsys.readouterr().err
    notebook = _gender_like(tmp_path, ("load_faces", "raise ValueError('bad')"))
    assert main([*course, str(notebook), "--lang", "zh"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "单元格 1 出错 ValueError: bad"
    assert "✗ 单元格 1（load_faces）：ValueError: bad" in captured.out
