"""Every sentence the grader shows, in both course languages (``zh`` and ``en``): one catalog.

Failures, notes and errors travel as data — a code and its parameters (:class:`Message`,
``grader.judge.results.Failure``) — from the comparison to the page; only the edges (the report,
the self-check and its summary, the terminal) turn them into words, here, in the reader's language.
The HTML report's own words, the self-check's and the summary's live here too, so there is one place
per sentence and ``LANGUAGES`` is defined once.

Why one module and not gettext ``.po`` files: the student bundle ships ``grader/judge/`` byte for byte
as ``selfcheck/`` and needs only NumPy and the standard library. A catalog module travels with it as
one more ``.py`` file — no compiled ``.mo`` files to build, keep in step and locate at run time, no
``msgfmt`` step in ``grader release`` — and with two fixed languages a dict keyed by code is as
checkable as a ``.po`` pair: a test asserts that every code has both languages with the same
parameters, and :func:`text` fails loudly on an unknown code, language or missing parameter.

Codes without a dot are messages carried as data (failures, notes, a submission's error); dotted
codes are the words of one edge (``status.*``, ``page.*`` … of the report, ``check.*`` of the
summary, ``selfcheck.*`` of the self-check, ``mistake.*`` of the generic diagnoses).
A parameter may itself be a message, ``{"code": …, "params": {…}}`` (see :func:`nested`), rendered
in the same language. Standard library only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CATALOG", "LANGUAGES", "Message", "nested", "parameters", "render", "text"]

LANGUAGES = ("zh", "en")

_ERROR_CODES = frozenset(("error", "not_implemented"))  # "{ename}: {evalue}", stripped when a side is empty

CATALOG: Mapping[str, Mapping[str, str]] = {
    # --- a failed comparison (grader.judge.compare) --------------------------------------------------
    "values_differ": {
        "zh": "{total} 个值中有 {count} 个不同；最大误差 {largest}，位于索引 {index}：期望 {expected}，得到 {actual}",
        "en": "{count} of {total} values differ; largest error {largest} at index {index}: expected {expected}, "
              "got {actual}",
    },
    "values_differ_outline": {"zh": "{total} 个值中有 {count} 个不同", "en": "{count} of {total} values differ"},
    "value_differs": {"zh": "得到 {actual}，期望 {expected}", "en": "got {actual}, expected {expected}"},
    "value_differs_outline": {"zh": "这个 {type} 与期望的不同", "en": "the {type} differs from the expected one"},
    "differs_hidden": {"zh": "答案与期望的不同", "en": "the answer differs from the expected one"},
    "shape": {"zh": "形状是 {actual}，应为 {expected}", "en": "shape {actual} but expected {expected}"},
    "dtype": {"zh": "dtype {dtype} 不是数值类型", "en": "dtype {dtype} is not numeric"},
    "nan": {"zh": "索引 {index} 处是 NaN", "en": "NaN at index {index}"},
    "ragged": {"zh": "得到一个不规则的 {type}，应为数组", "en": "got a ragged {type}, expected an array"},
    "type": {"zh": "得到 {actual}，应为 {expected}", "en": "got {actual}, expected {expected}"},
    "type.array": {"zh": "形状为 {shape}、dtype 为 {dtype} 的数组", "en": "array of shape {shape} and dtype {dtype}"},
    "type.number": {"zh": "一个数", "en": "a number"},
    "type.dict": {"zh": "一个 dict", "en": "a dict"},
    "type.sequence": {"zh": "一个序列", "en": "a sequence"},
    "length": {"zh": "有 {actual} 项，应为 {expected} 项", "en": "{actual} items but expected {expected}"},
    "keys": {"zh": "键不同：缺少 {missing}，多出 {extra}", "en": "keys differ: missing {missing}, unexpected {extra}"},
    "path_prefix": {"zh": "{path}：", "en": "{path}: "},
    "dtype_note": {"zh": "（你的 dtype 是 {dtype}）", "en": " (your dtype is {dtype})"},
    # --- a failed call (grader.grade.calls, the self-check) ------------------------------------------
    "no_function": {"zh": "笔记本中没有定义名为 {name!r} 的函数", "en": "the notebook defines no function named {name!r}"},
    "no_variable": {"zh": "笔记本中没有定义变量 {name!r}", "en": "the notebook defines no variable {name!r}"},
    "unsupported": {"zh": "不支持的返回值：{reason}", "en": "unsupported return value: {reason}"},
    "unsupported_hidden": {"zh": "不支持的返回值", "en": "unsupported return value"},
    "timeout": {
        "zh": "调用没有在时限内结束（每次调用限时 {limit:g} 秒）",
        "en": "the call did not finish in time (the limit is {limit:g} s per call)",
    },
    "crash": {"zh": "这次调用让内核崩溃了", "en": "the call killed the kernel"},
    "error": {"zh": "{ename}: {evalue}", "en": "{ename}: {evalue}"},
    "not_implemented": {"zh": "NotImplementedError: {evalue}", "en": "NotImplementedError: {evalue}"},
    "hidden_error": {
        "zh": "{ename}：（隐藏测试的错误信息不显示，因为它可能包含隐藏的输入）",
        "en": "{ename}: (the message of an error in a hidden test is not shown)",
    },
    "hidden_error_unnamed": {
        "zh": "一个异常：（隐藏测试的错误信息不显示，因为它可能包含隐藏的输入）",
        "en": "an exception: (the message of an error in a hidden test is not shown)",
    },
    "no_room": {
        "zh": "临时文件夹里没有空间写入这次调用的输入（上限 {limit} MB）",
        "en": "no room left in the scratch folder for the call's inputs (the limit is {limit} MB)",
    },
    "tampered": {"zh": "交换文件夹被改动了：{reason}", "en": "the exchange folder was tampered with: {reason}"},
    "text": {"zh": "{text}", "en": "{text}"},  # words made elsewhere (a stored older result, the run layer)
    # --- a submission that could not be graded (grader.grade.notebook) -------------------------------
    "notebook_unreadable": {"zh": "{file}：{problem}", "en": "{file}: {problem}"},
    "not_utf8": {"zh": "这个文件不是 UTF-8 文本（它是笔记本吗？）", "en": "the file is not UTF-8 text (is it a notebook?)"},
    "unreadable": {"zh": "无法读取的笔记本：{reason}", "en": "not a readable notebook: {reason}"},
    "no_cells": {"zh": "无法读取的笔记本：它没有单元格", "en": "not a readable notebook: it has no cells"},
    "too_big": {
        "zh": "提交的文件夹里有 {size} MB 的文件，超过了临时空间（{limit} MB，[limits] scratch_mb）：没有运行",
        "en": "the submission's folder holds {size} MB of files, more than the scratch space ({limit} MB, "
              "[limits] scratch_mb): it was not run",
    },
    "kernel_lost": {
        "zh": "内核崩溃了，并且 {reason}：笔记本的其余部分无法运行和评分",
        "en": "the kernel died and {reason}: nothing more of the notebook could be run or graded",
    },
    "grader_failed": {
        "zh": "没有评分：评分程序在{doing}时出错（{reason}）",
        "en": "not graded: the grader failed while {doing} ({reason})",
    },
    "stage.read": {"zh": "读取笔记本", "en": "reading the notebook"},
    "stage.copy": {"zh": "复制学生的文件", "en": "copying the student's files"},
    "stage.execute": {"zh": "运行单元格", "en": "running the cells"},
    "stage.answers": {"zh": "读回答案", "en": "reading the answers back"},
    "stage.compare": {"zh": "比较答案", "en": "comparing the answers"},
    "stage.diagnose": {"zh": "诊断错误", "en": "diagnosing a mistake"},
    "stage.assess": {"zh": "评估模型", "en": "assessing a model"},
    "stage.write": {"zh": "写入结果", "en": "writing the result"},
    "stage.grade": {"zh": "评分", "en": "grading"},
    # --- notes on the cells (grader.grade.notebook, the self-check) ----------------------------------
    "output_dropped": {
        "zh": "单元格 {cell} 的输出比上限（{limit} KB）多了 {count} 个字符：这些输出没有保留",
        "en": "cell {cell} printed {count} characters more than the output limit ({limit} KB): that output was "
              "not kept",
    },
    "cell_out_of_space": {
        "zh": "单元格 {cell} 用完了临时空间：上限是 {limit} MB",
        "en": "cell {cell} ran out of scratch space: the limit is {limit} MB",
    },
    "cell_file_too_large": {
        "zh": "单元格 {cell} 写了一个超过临时空间上限的文件（每个文件 {limit} MB）",
        "en": "cell {cell} wrote a file larger than the scratch limit ({limit} MB per file)",
    },
    "cell_disk_full": {
        "zh": "单元格 {cell} 用完了评分机器的磁盘空间", "en": "cell {cell} ran out of disk space on the grading machine",
    },
    "cell_timeout": {
        "zh": "单元格 {cell} 被中断了：运行时间超过了时限（{detail}）",
        "en": "cell {cell} was stopped: it ran longer than the time limit ({detail})",
    },
    "cell_dead": {
        "zh": "单元格 {cell} 让内核崩溃了（退出、崩溃或内存不足）", "en": "cell {cell} killed the kernel (exit, crash or out of memory)",
    },
    "cell_skipped": {"zh": "单元格 {cell} 没有运行：{reason}", "en": "cell {cell} was not run: {reason}"},
    "cell_error": {"zh": "单元格 {cell} 出错 {ename}: {evalue}", "en": "cell {cell} raised {ename}: {evalue}"},
    # --- the generic diagnoses (grader.judge.diagnose, grader.judge.results) --------------------------
    "mistake.off_by_one_crop": {
        "zh": "输出少了边上的一行或一列：形状是 {actual}，应为 {expected}，其余的值都对。检查循环范围（range 的上界）。",
        "en": "Your output is one edge row/column short: shape {actual}, expected {expected}, and every value you "
              "give is right. Check your loop bounds (range's end).",
    },
    "mistake.size_one_axis": {
        "zh": "数值都对，但多了或少了长度为 1 的轴：形状是 {actual}，应为 {expected}（检查 keepdims、reshape 或 [..., None]）。",
        "en": "Your values are right but an axis of length 1 is added or missing: shape {actual}, expected {expected} "
              "(check keepdims, reshape or [..., None]).",
    },
    "mistake.channels_first_output": {
        "zh": "输出是通道在前的 (C, H, W) 排列（PyTorch 的习惯），本课程（和 Keras）是通道在后 (H, W, C)：形状是 {actual}，应为 {expected}。",
        "en": "Your output is channels-first, (C, H, W) (the PyTorch habit); the course, like Keras, is "
              "channels-last, (H, W, C): shape {actual}, expected {expected}.",
    },
    "mistake.channels_last_output": {
        "zh": "输出的通道轴放到了最后：形状是 {actual}，应为 {expected}（通道在最前面）。",
        "en": "Your output has its channel axis last: shape {actual}, expected {expected} (channels first).",
    },
    "mistake.shape_mismatch": {
        "zh": "输出形状是 {actual}，应为 {expected}。", "en": "Your output has shape {actual}, expected {expected}.",
    },
    "mistake.integer_truncation": {
        "zh": "结果被截断成了整数：输出数组是整数类型（例如 np.zeros_like 一个整数输入），请用浮点数组。",
        "en": "Your values were truncated to integers: the output array has an integer dtype (e.g. np.zeros_like of "
              "an integer input); use a float array.",
    },
    "mistake.constant_factor": {
        "zh": "结果差了一个常数倍（约 {factor:.4g} 倍）：检查是否多乘或多除了什么（例如窗口大小）。",
        "en": "Your answer is off by a constant factor (about {factor:.4g}×): check for an extra multiplication or "
              "division (e.g. by the window size).",
    },
    "mistake.constant_factor_hidden": {
        "zh": "结果差了一个常数倍：检查是否多乘或多除了什么（例如窗口大小）。",
        "en": "Your answer is off by a constant factor: check for an extra multiplication or division (e.g. by the "
              "window size).",
    },
    "mistake.constant_offset": {
        "zh": "结果整体偏移了一个常数（约 {offset:.4g}）：检查偏置是否加错了。",
        "en": "Your answer is off by a constant (about {offset:.4g}): check how the bias is added.",
    },
    "mistake.constant_offset_hidden": {
        "zh": "结果整体偏移了一个常数：检查偏置是否加错了。",
        "en": "Your answer is off by a constant: check how the bias is added.",
    },
    "mistake.transposed_output": {
        "zh": "输出被转置了：行和列的顺序弄反了。", "en": "Your output is transposed: rows and columns are swapped.",
    },
    # --- the self-check's summary (grader.judge.summary; also `grader check`) -------------------------
    "check.heading": {"zh": "自检 {assignment}（只有公开测试）", "en": "Self-check {assignment} (public tests only)"},
    "check.cases": {"zh": "{passed}/{cases} 个用例通过", "en": "{passed}/{cases} cases pass"},
    "check.missing": {
        "zh": "还没有定义 {question}：先运行定义它的单元格", "en": "{question} is not defined yet: run the cell that defines it",
    },
    "check.todo": {"zh": "还没有实现（NotImplementedError）", "en": "not implemented yet (NotImplementedError)"},
    "check.call": {"zh": "调用", "en": "call"},
    "check.problem": {"zh": "问题", "en": "problem"},
    "check.expected": {"zh": "期望", "en": "expected"},
    "check.actual": {"zh": "实际", "en": "actual"},
    "check.diagnosis": {"zh": "诊断", "en": "diagnosis"},
    "check.no_public": {
        "zh": "· {question}：没有公开测试。笔记本里自己的检查单元格会检查它；评分时会运行你的笔记本，并在留出的数据上测试。",
        "en": "· {question}: no public test. The notebook's own check cells check it; the grader runs your notebook "
              "and tests it on held-out data.",
    },
    "check.nothing": {
        "zh": "还没有可以检查的函数：先运行定义函数的单元格。",
        "en": "Nothing to check yet: run the cells that define your functions first.",
    },
    "check.total": {"zh": "公开测试通过 {passed}/{total}。", "en": "{passed}/{total} public tests pass."},
    "check.hidden": {
        "zh": "公开测试只是例子：评分时还会用隐藏测试。",
        "en": " Public tests are only examples: the grader also uses hidden tests.",
    },
    "check.array": {"zh": "形状为 {shape} 的数组，前几个值：{head}", "en": "array of shape {shape}, first values: {head}"},
    "check.colon": {"zh": "：", "en": ": "},
    # --- the self-check itself (grader.judge.selfcheck) -----------------------------------------------
    "selfcheck.usage": {
        "zh": "用法 / usage: python -m selfcheck NOTEBOOK.ipynb", "en": "usage: python -m selfcheck NOTEBOOK.ipynb",
    },
    "selfcheck.unreadable": {"zh": "{path}：无法读取这个笔记本（{reason}）", "en": "{path}: cannot read this notebook ({reason})"},
    "selfcheck.unrecognised": {
        "zh": "{path}：看不出这是哪一次作业。请保留原来的文件名（例如 01-convolution.ipynb）。",
        "en": "{path}: cannot tell which assignment this is. Keep the original file name (e.g. 01-convolution.ipynb).",
    },
    "selfcheck.unknown": {
        "zh": "没有名为 {name!r} 的题目。可以检查的有：{known}", "en": "There is no question named {name!r}. Questions: {known}",
    },
    "selfcheck.broken": {
        "zh": "自检本身出错了（不是你的答案的问题）：{error}",
        "en": "The self-check itself failed (not your answer's fault): {error}",
    },
    # --- the HTML reports (grader.publish.report) ----------------------------------------------------
    # --- statuses of a question and kinds of a failed test ------------------------------------
    "status.passed": {"zh": "通过", "en": "passed"},
    "status.partial": {"zh": "部分通过", "en": "partly passed"},
    "status.wrong": {"zh": "答案错误", "en": "wrong"},
    "status.error": {"zh": "出错", "en": "error"},
    "status.timeout": {"zh": "超时", "en": "timed out"},
    "status.missing": {"zh": "缺失", "en": "missing"},
    "status.unanswered": {"zh": "未作答", "en": "not answered"},
    "kind.wrong": {"zh": "答案错误", "en": "wrong answer"},
    "kind.error": {"zh": "运行出错", "en": "raised an error"},
    "kind.timeout": {"zh": "超时", "en": "timed out"},
    "kind.missing": {"zh": "缺失", "en": "missing"},
    "kind.unsupported": {"zh": "不支持的返回值", "en": "unsupported return value"},
    "kind.crash": {"zh": "内核崩溃", "en": "crashed the kernel"},
    # --- the submission page ------------------------------------------------------------------
    "page.title": {"zh": "{student} · {assignment} · 评分报告", "en": "{student} · {assignment} · grading report"},
    "head.student": {"zh": "学生", "en": "Student"},
    "head.assignment": {"zh": "作业", "en": "Assignment"},
    "head.score": {"zh": "得分", "en": "Score"},
    "head.extra": {"zh": "含附加分 {points}", "en": "incl. {points} extra credit"},
    "head.time": {"zh": "运行时间", "en": "Run time"},
    "head.seconds": {"zh": "{seconds} 秒", "en": "{seconds} s"},
    "head.version": {"zh": "评分程序版本", "en": "Grader version"},
    "head.sandbox": {"zh": "沙箱", "en": "Sandbox"},
    "head.sandbox_off": {"zh": "关闭（--sandbox off）", "en": "off (--sandbox off)"},
    "head.unconfined": {
        "zh": "评分时没有使用沙箱（--sandbox off）：这份笔记本以评分者的权限运行，未被隔离。",
        "en": "Graded without a sandbox (--sandbox off): this notebook ran unconfined, with the grader's rights.",
    },
    "index.unconfined": {
        "zh": "{count} 份提交在没有沙箱的情况下评分（--sandbox off）：学生代码以评分者的权限运行。",
        "en": "{count} submission(s) were graded without a sandbox (--sandbox off): students' code ran with "
              "the grader's rights.",
    },
    "head.source": {"zh": "提交的文件", "en": "Submitted file"},
    "summary.all_passed": {"zh": "全部测试通过，做得好！", "en": "Every test passed. Well done!"},
    "summary.passed_with_problems": {
        "zh": "全部测试通过！不过笔记本中有单元格出了问题（见下文），请修正，让笔记本能从头到尾顺利运行。",
        "en": "Every test passed! Some cells of the notebook had problems, though (see below): fix them so "
              "that the notebook runs from top to bottom.",
    },
    "summary.failed": {
        "zh": "{failed} 个测试组没有通过，下面逐个说明原因。",
        "en": "{failed} test group(s) did not pass; each one is explained below.",
    },
    "summary.not_graded": {"zh": "这份提交无法评分：", "en": "This submission could not be graded:"},
    "questions.title": {"zh": "各题得分", "en": "Questions"},
    "questions.question": {"zh": "题目", "en": "Question"},
    "questions.points": {"zh": "得分", "en": "Points"},
    "questions.groups": {"zh": "通过的测试组", "en": "Test groups passed"},
    "questions.status": {"zh": "状态", "en": "Status"},
    "questions.optional": {"zh": "选做 · 附加分", "en": "optional · extra credit"},
    "questions.none": {"zh": "没有任何测试结果。", "en": "No test results."},
    "failed.title": {"zh": "没有通过的测试", "en": "Tests that did not pass"},
    "failed.more": {
        "zh": "还有 {count} 个没有通过的测试未在此列出。",
        "en": "{count} more failed test(s) are not listed here.",
    },
    "test.public": {"zh": "公开测试（自测时也会运行）", "en": "public test (also run by the self-check)"},
    "test.hidden": {"zh": "隐藏测试", "en": "hidden test"},
    "test.cases": {"zh": "{passed} / {total} 个用例通过", "en": "{passed} of {total} cases passed"},
    "test.points": {"zh": "{score} / {max} 分", "en": "{score} / {max} points"},
    "test.first_failure": {
        "zh": "下面是第一个没有通过的用例。",
        "en": "The first case that did not pass is shown below.",
    },
    "test.message": {"zh": "评分程序的说明", "en": "What the grader found"},
    "call.title": {"zh": "调用", "en": "What was called"},
    "call.shapes": {"zh": "输入形状", "en": "Input shapes"},
    "call.inputs": {"zh": "输入数组", "en": "Input arrays"},
    "call.argument": {"zh": "第 {n} 个参数", "en": "argument {n}"},
    "call.hidden_note": {
        "zh": "这是隐藏测试：输入只显示类型和形状，不显示数值；期望结果也不显示。",
        "en": "This is a hidden test: its inputs are shown by their types and shapes only, not their values, "
              "and its expected answer is not shown.",
    },
    "call.hidden_answer_note": {
        "zh": "这是隐藏测试：期望结果不显示。",
        "en": "This is a hidden test: its expected answer is not shown.",
    },
    "compare.title": {"zh": "期望结果和你的结果", "en": "Expected answer and yours"},
    "compare.expected": {"zh": "期望结果", "en": "Expected"},
    "compare.actual": {"zh": "你的结果", "en": "Your answer"},
    "compare.legend": {
        "zh": "红框标出与期望结果不同的值；粗红框是误差最大的位置。",
        "en": "Red outlines mark the values that differ from the expected ones; the thick one is the largest error.",
    },
    "compare.worst": {
        "zh": "最大误差 {diff}，位于索引 {index}",
        "en": "Largest error {diff}, at index {index}",
    },
    "compare.worst_values": {"zh": "期望 {expected}，你的结果 {actual}", "en": "expected {expected}, yours {actual}"},
    "compare.difference": {"zh": "相差 {diff}", "en": "difference {diff}"},
    "compare.differ_count": {"zh": "{total} 个值中有 {count} 个不同", "en": "{count} of the {total} values differ"},
    "compare.path": {"zh": "返回值中的 {path} 项", "en": "Element {path} of the answer"},
    "compare.shape": {"zh": "形状 {shape}", "en": "shape {shape}"},
    "compare.shape_mismatch": {
        "zh": "形状不同：期望 {expected}，你的结果 {actual}。",
        "en": "The shapes differ: expected {expected}, yours {actual}.",
    },
    "compare.channel": {
        "zh": "只显示第 {channel} 个通道（共 {channels} 个，下标从 0 开始）",
        "en": "Showing channel {channel} of {channels} (counting from 0)",
    },
    "compare.head": {
        "zh": "数组的形状是 {shape}，这里只显示按行展开后的前 {count} 个值",
        "en": "The array has shape {shape}; these are its first {count} values, row by row",
    },
    "compare.wrapped": {"zh": "按顺序每行 {per_row} 个值", "en": "In order, {per_row} values per row"},
    "compare.heatmap": {
        "zh": "误差热图：颜色越深，|期望 − 你的结果| 越大（最大 {max}）",
        "en": "Difference heatmap: the darker, the larger |expected − yours| (at most {max})",
    },
    "diagnosis.title": {"zh": "可能的原因", "en": "What probably went wrong"},
    "diagnosis.shared": {"zh": "适用于下面全部 {count} 个测试组", "en": "applies to all {count} test groups below"},
    "diagnosis.none": {
        "zh": "评分程序没有认出这是哪一种常见错误。对照上面的期望结果检查你的代码。",
        "en": "The grader did not recognise a known mistake here; compare your answer with the expected one above.",
    },
    "error.traceback": {"zh": "错误信息（Traceback）", "en": "Traceback"},
    "error.not_implemented": {
        "zh": "这道题还没有完成：函数里仍然是 raise NotImplementedError()。",
        "en": "Not answered yet: the function still raises NotImplementedError().",
    },
    "error.unanswered_groups": {
        "zh": "因此没有通过的测试组：{groups}", "en": "Test groups not passed because of it: {groups}",
    },
    "error.missing_hint": {
        "zh": "可能是前面的单元格出错了，这个名字因此没有被定义：",
        "en": "Perhaps a cell failed before this name could be defined:",
    },
    "error.timeout_hint": {
        "zh": "检查循环是否会结束，以及是否对很大的数组做了逐元素的 Python 循环。",
        "en": "Check that every loop ends, and avoid element-by-element Python loops over large arrays.",
    },
    "cells.title": {"zh": "笔记本运行时的问题", "en": "Problems while running your notebook"},
    "cells.cell": {"zh": "单元格 {index}", "en": "cell {index}"},
    "cells.numbering": {
        "zh": "单元格从 0 开始编号，Markdown 单元格也计算在内。",
        "en": "Cells are numbered from 0, Markdown cells included.",
    },
    "cells.source": {"zh": "单元格的开头", "en": "Start of the cell"},
    "cells.unfinished": {
        "zh": "未完成的单元格（仍然是 raise NotImplementedError）：{cells}",
        "en": "Unfinished cells (still raising NotImplementedError): {cells}",
    },
    "outcome.error": {"zh": "运行出错", "en": "raised an error"},
    "outcome.check": {"zh": "检查没有通过", "en": "a check did not pass"},
    "outcome.timeout": {"zh": "运行太久，被中断", "en": "ran too long and was stopped"},
    "outcome.dead_kernel": {"zh": "让内核崩溃了", "en": "killed the kernel"},
    "outcome.skipped": {"zh": "没有运行", "en": "was not run"},
    "notes.title": {"zh": "评分说明", "en": "Grader notes"},
    "text.truncated": {
        "zh": "…（已截断，省略了 {count} 个字符）",
        "en": "… (truncated: {count} characters left out)",
    },
    "text.more_lines": {"zh": "…（省略了前面的 {count} 行）", "en": "… ({count} earlier lines left out)"},
    "text.more_items": {"zh": "…还有 {count} 条未显示", "en": "… and {count} more not shown"},
    "footer": {
        "zh": "由 cnn-grader {version} 根据保存的评分结果生成。",
        "en": "Made by cnn-grader {version} from the stored grading results.",
    },
    # --- the class summary --------------------------------------------------------------------
    "index.title": {"zh": "班级总览", "en": "Class summary"},
    "index.counts": {
        "zh": "{students} 名学生 · {submissions} 份提交",
        "en": "{students} student(s) · {submissions} submission(s)",
    },
    "index.assignments": {"zh": "各次作业", "en": "Assignments"},
    "index.submissions": {"zh": "{count} 份提交", "en": "{count} submission(s)"},
    "index.mean": {
        "zh": "平均 {mean} · 中位数 {median} · 满分 {max}", "en": "mean {mean} · median {median} · out of {max}",
    },
    "index.histogram": {"zh": "得分分布", "en": "Score distribution"},
    "index.histogram_label": {
        "zh": "{assignment} 得分分布：横轴为得分，纵轴为人数",
        "en": "{assignment} score distribution: score across, number of submissions up",
    },
    "index.pass_rates": {"zh": "各题全部通过的比例", "en": "Share of submissions passing each question"},
    "index.no_submissions": {"zh": "还没有提交。", "en": "No submissions yet."},
    "index.diagnoses": {"zh": "最常见的错误", "en": "Most common mistakes"},
    "index.diagnosis_students": {"zh": "{count} 名学生", "en": "{count} student(s)"},
    "index.no_diagnoses": {"zh": "没有认出任何常见错误。", "en": "No known mistake was recognised."},
    "index.problems": {"zh": "出错或超时的提交", "en": "Submissions that errored or timed out"},
    "index.what_happened": {"zh": "出了什么问题", "en": "What happened"},
    "index.no_problems": {"zh": "没有。", "en": "None."},
    "index.unrendered": {"zh": "无法生成的页面", "en": "Pages that could not be rendered"},
    "index.unrendered_hint": {
        "zh": "这些提交的评分结果已保存，只是页面无法生成；原因的完整记录在评分程序的日志里。",
        "en": "These submissions' results are stored; only their pages could not be made. The grader's log has "
              "the full traceback.",
    },
    "index.unrendered_page": {
        "zh": "这一页无法生成。评分结果已经保存，老师会处理。",
        "en": "This page could not be rendered. The grading result is stored; the instructor has been told.",
    },
    "index.reason": {"zh": "原因", "en": "Reason"},
    "index.students": {"zh": "学生成绩", "en": "Students"},
    "index.student": {"zh": "学生", "en": "Student"},
    "index.total": {"zh": "总分", "en": "Total"},
    "index.sort_hint": {"zh": "点击表头可以排序。", "en": "Click a column header to sort."},
    "index.json": {"zh": "JSON", "en": "JSON"},
    "index.not_submitted": {"zh": "未提交", "en": "not submitted"},
    "problem.not_graded": {"zh": "无法评分：{reason}", "en": "could not be graded: {reason}"},
    "problem.cell_timeout": {"zh": "单元格 {index} 超时", "en": "cell {index} timed out"},
    "problem.cell_dead": {"zh": "单元格 {index} 让内核崩溃", "en": "cell {index} killed the kernel"},
    "problem.cell_error": {"zh": "单元格 {index}：{ename}", "en": "cell {index}: {ename}"},
    "problem.call_timeout": {"zh": "{question} 调用超时", "en": "{question}: the call timed out"},
    "problem.call_crash": {"zh": "{question} 调用让内核崩溃", "en": "{question}: the call crashed the kernel"},
}


@dataclass(frozen=True)
class Message:
    """A sentence as data: its catalog ``code`` and the values of its parameters (JSON values, or
    nested messages as :func:`nested` makes them). Words only at the edge: :meth:`text`."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return render(self.code, self.params, lang)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


def nested(code: str, /, **params: Any) -> dict[str, Any]:
    """A message as a parameter of another one (``{"code": "stage.read"}``): plain JSON, rendered in
    the outer message's language."""
    return {"code": code, "params": params} if params else {"code": code}


def parameters(template: str) -> set[str]:
    """The names of a catalog text's ``{placeholders}``."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def text(code: str, lang: str, /, **params: Any) -> str:
    """The sentence ``code`` in ``lang`` with its parameters filled in. An unknown code, an unknown
    language or a missing parameter raises, naming it: no page ever shows a code or half a sentence."""
    try:
        entry = CATALOG[code]
    except KeyError:
        raise KeyError(f"no message {code!r} in the catalog") from None
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, received {lang!r}")
    values = {name: _value(value, lang) for name, value in params.items()}
    try:
        return entry[lang].format(**values)
    except KeyError as missing:
        raise KeyError(f"message {code!r} needs the parameter {missing}") from None


def render(code: str, params: Mapping[str, Any], lang: str) -> str:
    """A message carried as data, in words: :func:`text` plus what every failure shares — a
    ``path`` into a nested answer before it (``[0]['conv1']: …``), ``your_dtype`` after it, and
    ``ename: evalue`` without the colon when one side is empty (as Python prints an exception)."""
    own = parameters(CATALOG[code][lang]) if code in CATALOG else set()
    words = text(code, lang, **{k: v for k, v in params.items() if k in own})
    if code in _ERROR_CODES:
        words = words.strip(": ")
    if params.get("your_dtype") and "your_dtype" not in own:
        words += text("dtype_note", lang, dtype=params["your_dtype"])
    if params.get("path") and "path" not in own:
        words = text("path_prefix", lang, path=params["path"]) + words
    return words


def _value(value: Any, lang: str) -> Any:
    if isinstance(value, Message):
        return value.text(lang)
    if isinstance(value, Mapping) and isinstance(value.get("code"), str):
        params = value.get("params", {})
        return render(value["code"], params if isinstance(params, Mapping) else {}, lang)
    return value
