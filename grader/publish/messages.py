"""The words of the HTML reports, in both course languages (``zh`` and ``en``).

One catalog, one lookup: :func:`message` takes a key, a language and the values of the key's
``{placeholders}``. Every key has both languages with the same placeholders (a test checks it), so
switching ``--lang`` can never show a key name or half a sentence instead of a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LANGUAGES", "MESSAGES", "message"]

LANGUAGES = ("zh", "en")

MESSAGES: Mapping[str, Mapping[str, str]] = {
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
    "grader.no_function": {
        "zh": "笔记本中没有定义名为 {name} 的函数", "en": "the notebook defines no function named {name}",
    },
    "grader.no_variable": {"zh": "笔记本中没有定义变量 {name}", "en": "the notebook defines no variable {name}"},
    "grader.call_timeout": {
        "zh": "调用在 {seconds} 秒内没有结束", "en": "the call did not finish within {seconds} s",
    },
    "grader.call_crash": {"zh": "这次调用让内核崩溃了", "en": "the call killed the kernel"},
    "grader.hidden_error": {
        "zh": "{name}（隐藏测试的错误信息不显示，因为它可能包含隐藏的输入）",
        "en": "{name} (the message of an error in a hidden test is not shown: it may quote the hidden inputs)",
    },
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
    "compare.values": {"zh": "数值", "en": "Values"},
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


def message(key: str, lang: str, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` with its placeholders filled; a bad key or language raises."""
    try:
        entry = MESSAGES[key]
    except KeyError:
        raise KeyError(f"no report message {key!r}") from None
    if lang not in entry:
        raise ValueError(f"report language must be one of {LANGUAGES}, received {lang!r}")
    return entry[lang].format(**values) if values else entry[lang]
