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
checkable as a ``.po`` pair: tests/test_i18n.py asserts that every code has both languages with the
same parameters (the zh text Chinese), that every code the grader and its templates use is here, and
that failures graded in zh read in zh; :func:`text` fails loudly on an unknown code, language or
missing parameter.

Other processes' words come in as codes too: the kernel's harness (``harness.*``), the model
inspector (``model.*``) — taken through :func:`received`, since the sender may be the student's code.

Codes without a dot are messages carried as data (failures, notes, a submission's error); dotted
codes are the words of one edge (``status.*``, ``page.*`` … of the report, ``check.*`` of the
summary, ``selfcheck.*`` of the self-check, ``mistake.*`` of the generic diagnoses).
A parameter may itself be a message, ``{"code": …, "params": {…}}`` (see :func:`nested`), rendered
in the same language, or a list of messages, joined with the language's ``list.separator``. Standard library only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CATALOG", "LANGUAGES", "Message", "nested", "parameters", "received", "render", "text"]

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
    # --- the exchange folder a call's inputs are written to (grader.run.harness) ------------------------
    "exchange.what.missing": {"zh": "不存在", "en": "missing"},
    "exchange.what.link": {"zh": "一个符号链接", "en": "a symbolic link"},
    "exchange.what.folder": {"zh": "一个文件夹", "en": "a folder"},
    "exchange.what.other": {"zh": "一个不是文件夹的东西", "en": "something that is not a folder"},
    "exchange.not_made": {"zh": "无法创建 {folder}（{reason}）", "en": "{folder} could not be made ({reason})"},
    "exchange.not_removed": {
        "zh": "{folder} 被换成了{what}，而且无法删除（{reason}）",
        "en": "{folder} was replaced by {what} that could not be removed ({reason})",
    },
    "exchange.replaced_again": {
        "zh": "{folder} 每次创建后都又被替换了（{seen}）", "en": "{folder} was replaced again each time it was made ({seen})",
    },
    "exchange.new_replaced": {"zh": "新文件夹 {folder} 被换成了{what}", "en": "the new folder {folder} was replaced by {what}"},
    "exchange.new_replaced_early": {
        "zh": "新文件夹 {folder} 在写入之前就被替换了", "en": "the new folder {folder} was replaced before it was filled",
    },
    "exchange.there_before": {
        "zh": "新文件夹 {folder} 在创建之前就已经存在", "en": "the new folder {folder} was there before it was made",
    },
    "exchange.not_written": {"zh": "无法写入这次调用的输入（{reason}）", "en": "the call's inputs could not be written ({reason})"},
    "list.separator": {"zh": "、", "en": ", "},
    # --- a return value the harness could not send back (grader.run.harness, in the kernel) ----------
    "harness.complex_array": {
        "zh": "不评判复数（一个 dtype 为 {dtype} 的数组）", "en": "complex numbers are not graded (an array of dtype {dtype})",
    },
    "harness.dtype": {
        "zh": "一个 dtype 为 {dtype} 的数组（只评判数值）", "en": "an array of dtype {dtype} (only numbers are graded)",
    },
    "harness.too_big": {
        "zh": "一个 {bytes} 字节的数组（上限是 {limit}）", "en": "an array of {bytes} bytes (the limit is {limit})",
    },
    "harness.subclass": {
        "zh": "一个 ndarray 的子类（{type}）；请返回普通的 numpy 数组",
        "en": "an ndarray subclass ({type}); return a plain numpy array",
    },
    "harness.complex_value": {"zh": "不评判复数（值为 {value}）", "en": "complex numbers are not graded (the value {value})"},
    "harness.type": {"zh": "一个类型为 {type} 的值", "en": "a value of type {type}"},
    "harness.not_saved": {"zh": "无法保存：{error}", "en": "could not be saved: {error}"},
    # --- an answer the grader refused to read back (grader.run.decode; nested in "unsupported") ------
    "refused.unreadable": {"zh": "无法读取 {name}（{exception}）", "en": "{name} could not be read ({exception})"},
    "refused.folder_link": {
        "zh": "交换文件夹 {folder} 被换成了一个符号链接", "en": "the exchange folder {folder} was replaced by a symbolic link",
    },
    "refused.folder_not_dir": {
        "zh": "交换文件夹 {folder} 被换成了一个不是文件夹的东西",
        "en": "the exchange folder {folder} was replaced by something that is not a folder",
    },
    "refused.folder_unopenable": {
        "zh": "无法打开交换文件夹 {folder}：{reason}", "en": "the exchange folder {folder} could not be opened: {reason}",
    },
    "refused.kind.link": {"zh": "一个符号链接", "en": "a symbolic link"},
    "refused.kind.folder": {"zh": "一个文件夹", "en": "a folder"},
    "refused.kind.fifo": {"zh": "一个命名管道（FIFO）", "en": "a named pipe (FIFO)"},
    "refused.kind.socket": {"zh": "一个套接字", "en": "a socket"},
    "refused.kind.device": {"zh": "一个设备", "en": "a device"},
    "refused.kind.other": {"zh": "不是普通文件", "en": "not a regular file"},
    "refused.not_file": {
        "zh": "{name} 是{kind}，不是文件：只读取调用自己写的文件",
        "en": "{name} is {kind}, not a file: only files the call wrote are read",
    },
    "refused.hard_links": {
        "zh": "{name} 有 {links} 个硬链接：只读取调用自己写的文件",
        "en": "{name} has {links} hard links: only a file the call wrote itself is read",
    },
    "refused.too_large": {"zh": "{name} 有 {size}，上限是 {limit}", "en": "{name} is {size}; the limit is {limit}"},
    "refused.symlink": {
        "zh": "{name} 是一个符号链接（指向 {target}），不是文件：只读取调用自己写的文件",
        "en": "{name} is a symbolic link (to {target}), not a file: only files the call wrote are read",
    },
    "refused.unopenable": {"zh": "无法打开 {name}：{reason}", "en": "{name} could not be opened: {reason}"},
    "refused.replaced": {"zh": "{name} 在读取时被替换了", "en": "{name} was replaced while it was being read"},
    "refused.shrank": {"zh": "{name} 在读取时变小了", "en": "{name} shrank while it was being read"},
    "refused.grew": {"zh": "{name} 在读取时变大了", "en": "{name} grew while it was being read"},
    "refused.big_int": {
        "zh": "answer.json：一个 {digits} 位的整数；超出 ±{max}（float64 的范围）的数无法比较",
        "en": "answer.json: an integer of {digits} digits; numbers beyond ±{max} (the float64 range) cannot be "
              "compared",
    },
    "refused.big_float": {
        "zh": "answer.json：数 {number} 超出了 ±{max}（float64 的范围），无法比较",
        "en": "answer.json: the number {number} is beyond ±{max} (the float64 range) and cannot be compared",
    },
    "refused.literal": {
        "zh": "answer.json：字面量 {literal} 不是 JSON（评分程序把 NaN 和无穷大写成记录）",
        "en": "answer.json: the literal {literal} is not JSON (the harness writes NaN and infinity as records)",
    },
    "refused.empty": {"zh": "{name} 是空的", "en": "{name} is empty"},
    "refused.json_depth": {
        "zh": "answer.json：嵌套了 {depth} 层；上限是 {limit} 层",
        "en": "answer.json: nested {depth} levels deep; the limit is {limit}",
    },
    "refused.not_utf8": {
        "zh": "answer.json 不是 UTF-8 文本（第 {byte} 个字节）", "en": "answer.json is not UTF-8 text (byte {byte})",
    },
    "refused.bad_json": {
        "zh": "answer.json 不是合法的 JSON：{problem}，位于第 {line} 行第 {column} 列",
        "en": "answer.json is not valid JSON: {problem} at line {line} column {column}",
    },
    "refused.no_answer": {
        "zh": "这次调用没有留下答案（交换文件夹被改动了吗？）",
        "en": "the call left no answer (was the exchange folder changed?)",
    },
    "refused.not_record": {"zh": "answer.json 里没有答案记录", "en": "answer.json does not hold an answer record"},
    "refused.no_value": {"zh": "answer.json：一个 ok 记录没有值", "en": "answer.json: an ok record without a value"},
    "refused.status": {"zh": "answer.json：未知的答案状态 {status}", "en": "answer.json: unknown answer status {status}"},
    "refused.depth": {
        "zh": "answer.json：一个值嵌套超过了 {limit} 层", "en": "answer.json: a value nested more than {limit} levels deep",
    },
    "refused.long_string": {
        "zh": "answer.json：一个 {length} 个字符的字符串；上限是 {limit}",
        "en": "answer.json: a string of {length} characters; the limit is {limit}",
    },
    "refused.malformed": {"zh": "answer.json：格式不对的答案记录", "en": "answer.json: a malformed answer record"},
    "refused.bad_array_reference": {
        "zh": "answer.json：错误的数组引用 {reference}", "en": "answer.json: bad array reference {reference}",
    },
    "refused.bad_model_reference": {
        "zh": "answer.json：错误的模型引用 {reference}", "en": "answer.json: bad model reference {reference}",
    },
    "refused.twice": {"zh": "answer.json：{name} 被引用了两次", "en": "answer.json: {name} is referred to twice"},
    "refused.missing": {"zh": "{name} 不存在", "en": "{name} is missing"},
    "refused.model_gone": {
        "zh": "{name} 不存在（交换文件夹被改动了吗？）", "en": "{name} is missing (was the exchange folder changed?)",
    },
    "refused.npy_claims": {
        "zh": "{name}：文件头声称有 {count} 个值（{size}）；上限是 {limit}",
        "en": "{name}: the header claims {count} values ({size}); the limit is {limit}",
    },
    "refused.arrays_too_large": {
        "zh": "{name}：答案中的数组合计超过了 {limit}", "en": "{name}: the answer's arrays exceed {limit} together",
    },
    "refused.npy_short": {
        "zh": "{name}：文件头声称有 {count} 个值（{bytes} 字节），但文件只有 {held} 字节的数据",
        "en": "{name}: the header claims {count} values ({bytes} bytes) but the file holds {held} bytes of data",
    },
    "refused.npz": {
        "zh": "{name} 是一个 zip 压缩包（.npz？），不是 .npy 文件", "en": "{name} is a zip archive (an .npz?), not a .npy file",
    },
    "refused.not_npy": {
        "zh": "{name} 不是 .npy 文件（它的开头是 {start}）", "en": "{name} is not a .npy file (it starts with {start})",
    },
    "refused.npy_version": {
        "zh": "{name}：不读取 .npy 格式版本 {version}（只读 1.0 和 2.0）",
        "en": "{name}: .npy format version {version} is not read (only 1.0 and 2.0)",
    },
    "refused.npy_header_long": {
        "zh": "{name}：.npy 文件头有 {length} 字节；普通数组的文件头大约 128 字节",
        "en": "{name}: the .npy header is {length} bytes long; a plain array's is about 128",
    },
    "refused.npy_truncated": {"zh": "{name}：文件在 .npy 文件头中间就结束了", "en": "{name}: the file ends inside the .npy header"},
    "refused.npy_header": {
        "zh": "{name}：.npy 文件头不是 numpy 为普通数组写的文件头",
        "en": "{name}: the .npy header is not numpy's header of a plain array",
    },
    "refused.dtype": {
        "zh": "{name}：一个 dtype 为 {dtype} 的数组（只评判数值）",
        "en": "{name}: an array of dtype {dtype} (only numbers are graded)",
    },
    "refused.complex": {
        "zh": "{name}：不评判复数（一个 dtype 为 {dtype} 的数组）",
        "en": "{name}: complex numbers are not graded (an array of dtype {dtype})",
    },
    "refused.unknown_dtype": {
        "zh": "{name}：.npy 文件头写的是未知的 dtype {dtype}", "en": "{name}: the .npy header names an unknown dtype {dtype}",
    },
    "refused.ndim": {
        "zh": "{name}：文件头声称有 {ndim} 个维度；上限是 {limit}",
        "en": "{name}: the header claims {ndim} dimensions; the limit is {limit}",
    },
    "refused.shape": {"zh": "{name}：文件头声称形状是 {shape}", "en": "{name}: the header claims the shape {shape}"},
    "refused.float_range": {
        "zh": "{name}：有超出 float64 范围的值（最大的是 {largest}）；这么大的数无法比较",
        "en": "{name}: values beyond the float64 range (the largest is {largest}); numbers that large cannot be "
              "compared",
    },
    "refused.not_keras": {
        "zh": "{name} 不是 .keras 文件（它的开头是 {start}）", "en": "{name} is not a .keras file (it starts with {start})",
    },
    # --- the model inspector (grader.run.inspect_model) ------------------------------------------------
    "model.unloadable": {
        "zh": "无法安全地加载这个模型：{ename}: {evalue}", "en": "the model could not be loaded safely: {ename}: {evalue}",
    },
    "model.unevaluable": {
        "zh": "无法评估这个模型：{ename}: {evalue}", "en": "the model could not be evaluated: {ename}: {evalue}",
    },
    "model.bad_request": {"zh": "模型检查程序收到了错误的请求：{error}", "en": "the model inspector got a bad request: {error}"},
    "model.memory": {
        "zh": "这个模型需要的内存超过了课程允许的上限（{limit} MB）",
        "en": "the model needs more memory than the course allows ({limit} MB)",
    },
    "model.slow": {"zh": "检查模型用了超过 {limit} 秒", "en": "inspecting the model took longer than {limit} s"},
    "model.crashed": {"zh": "模型检查程序崩溃了：{how}", "en": "the model inspector crashed: {how}"},
    "model.crashed_said": {"zh": "模型检查程序崩溃了：{how}：{last}", "en": "the model inspector crashed: {how}: {last}"},
    "model.how.killed": {"zh": "被 {signal} 终止", "en": "killed by {signal}"},
    "model.how.signal": {"zh": "信号 {signal}", "en": "signal {signal}"},
    "model.how.exit": {"zh": "退出状态 {status}", "en": "exit status {status}"},
    "model.how.long_reply": {"zh": "一个超过 {limit} 字节的回复", "en": "a reply longer than {limit} bytes"},
    "model.how.not_object": {"zh": "一个不是对象的回复", "en": "a reply that is not an object"},
    "model.how.not_json": {"zh": "{error}", "en": "{error}"},
    # --- an assessed question's verdict (grader.course.assignments.gender) -----------------------------
    "assess.not_a_model": {
        "zh": "{function} 必须给出一个 Keras 模型，而不是 {type}", "en": "{function} must give a Keras model, not {type}",
    },
    "assess.call_failed": {"zh": "{function}：{problem}", "en": "{function}: {problem}"},
    "assess.ten_units": {"zh": "输出层有 10 个单元", "en": "the output layer has 10 units"},
    "assess.few_blocks": {
        "zh": "{convs} 个 Conv2D 层和 {pools} 个池化层；至少需要 2 个卷积 + 池化块",
        "en": "{convs} Conv2D and {pools} pooling layer(s); at least 2 conv + pooling blocks are needed",
    },
    "assess.output_layer": {
        "zh": "输出层是 Dense({units}, {activation})；请用 Dense(2, softmax) 或 Dense(1, sigmoid)",
        "en": "the output is Dense({units}, {activation}); use Dense(2, softmax) or Dense(1, sigmoid)",
    },
    "assess.architecture": {
        "zh": "{convs} 个卷积层 + {pools} 个池化层，输出层 Dense({units}, {activation})",
        "en": "{convs} conv + {pools} pooling layers, output Dense({units}, {activation})",
    },
    "assess.param_report": {"zh": "{layers} 层，共 {params} 个参数", "en": "{layers} layers, {params} parameters"},
    "assess.accuracy": {
        "zh": "在 {n} 张留出图像上的准确率 {accuracy}（{low} 时 0 分，{high} 起满分）",
        "en": "held-out accuracy {accuracy} on {n} images (0 points at {low}, full points from {high})",
    },
    "assess.rating_output": {
        "zh": "评分是一个数：输出层应为没有激活函数的 Dense(1)，而不是 Dense({units}, {activation})",
        "en": "a rating is one number: the output should be Dense(1) with no activation, not "
              "Dense({units}, {activation})",
    },
    "assess.rating": {"zh": "回归输出 Dense(1)", "en": "regression output Dense(1)"},
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
        "zh": "单元格 {cell} 的输出比上限（{limit} KB）多了 {count} 个字符：这些输出没有保留（这不扣分）",
        "en": "cell {cell} printed {count} characters more than the output limit ({limit} KB): that output was "
              "not kept (this costs no points)",
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
    "cell_restarted": {"zh": "单元格 {cell}：{outcome}；{restarted}", "en": "cell {cell}: {outcome}; {restarted}"},
    # --- the grader's own words on a cell (grader.run.execute; a cell's reason, nested in the notes) ---
    "cell.died": {"zh": "运行这个单元格时内核崩溃了", "en": "the kernel died while running this cell"},
    "cell.stopped_after": {"zh": "{seconds} 秒后被中断", "en": "stopped after {seconds} s"},
    "cell.no_time_left": {"zh": "整个笔记本的运行时限已经用完", "en": "the notebook's time limit was used up"},
    "cell.too_many_restarts": {"zh": "内核崩溃超过了 {limit} 次", "en": "the kernel died more than {limit} times"},
    "cell.not_restarted": {"zh": "内核无法再次启动（{error}）", "en": "the kernel could not be started again ({error})"},
    "cell.restarted": {
        "zh": "内核已重启（第 {restarts} 次）；重新运行了前面的 {count} 个单元格",
        "en": "kernel restarted ({restarts}); {count} earlier cell(s) re-run",
    },
    "cell_error": {"zh": "单元格 {cell} 出错 {ename}: {evalue}", "en": "cell {cell} raised {ename}: {evalue}"},
    # --- the cause of a failure (grader.grade.causes): what to fix first ------------------------------
    "no_function_cell_failed": {
        "zh": "单元格 {cell} 在定义 {name} 之前就出错了：{problem}",
        "en": "cell {cell} failed before defining {name}: {problem}",
    },
    "no_function_after_failure": {
        "zh": "笔记本中没有定义名为 {name!r} 的函数（单元格 {cell} 出错了：{problem}；{name} 是在那里定义的吗？）",
        "en": "the notebook defines no function named {name!r} (cell {cell} failed: {problem}; was {name} "
              "meant to be defined there?)",
    },
    "cause.error": {"zh": "{ename}: {evalue}", "en": "{ename}: {evalue}"},
    "cause.error_hint": {"zh": "{ename}: {evalue}。{hint}", "en": "{ename}: {evalue}. {hint}"},
    "cause.no_module": {
        "zh": "ModuleNotFoundError：评分环境中没有 {module}", "en": "ModuleNotFoundError: {module} is not in the grading environment",
    },
    "cause.timeout": {"zh": "运行时间超过了时限（{detail}）", "en": "it ran longer than the time limit ({detail})"},
    "cause.dead": {"zh": "它让内核崩溃了（退出、崩溃或内存不足）", "en": "it killed the kernel (exit, crash or out of memory)"},
    "cause.skipped": {"zh": "它没有运行：{reason}", "en": "it was not run: {reason}"},
    "cause.inherited": {
        "zh": "{function} 调用了你自己的 {uses}，而 {uses} 也丢了分：这里的错误可能来自那里，先修正 {uses}。",
        "en": "{function} calls your own {uses}, which lost points too: this mistake may come from there, so fix "
              "{uses} first.",
    },
    "cause.inherited_seen": {
        "zh": "在这个测试中，你的 {function} 调用了你自己的 {uses}，而 {uses} 在那里给出了错误的结果：先修正 {uses}，"
              "{function} 本身的代码可能是对的。",
        "en": "On this test your {function} called your own {uses}, and {uses} answered wrongly there: fix {uses} "
              "first; {function}'s own code may well be right.",
    },
    "cause.cell_uses": {
        "zh": "这个单元格调用了你的 {uses}，它丢了分：先修正 {uses}，再运行这个单元格。",
        "en": "This cell calls your {uses}, which lost points: fix {uses} first, then run this cell again.",
    },
    "hint.no_module": {
        "zh": "评分内核只提供 {offered}：请改用这些包（本课程只用 NumPy 就够了），或者请老师把 {module} 加入课程的包列表。",
        "en": "The grading kernel offers {offered} and nothing else: use those (NumPy is enough for this course), "
              "or ask your instructor to add {module} to the course's packages.",
    },
    "hint.numpy2_scalar": {
        "zh": "NumPy 2 只能把单个值转换成数：对形状像 (1, 1, 1) 的数组用 float(a) 或 int(a) 会出错，请用 a.item()（或 float(a.sum())）。",
        "en": "NumPy 2 converts only single values: float(a) or int(a) of an array such as shape (1, 1, 1) "
              "fails; use a.item() (or float(a.sum())).",
    },
    "hint.numpy2_sequence": {
        "zh": "给数组的一个元素赋了一整个数组：out[i, j] = … 需要一个数（例如 np.sum(window * k)，或一元素数组的 .item()）；"
              "NumPy 2 不再接受一元素数组。",
        "en": "An array element was given a whole array: out[i, j] = … needs one number (e.g. np.sum(window * k), "
              "or .item() of a one-element array); NumPy 2 no longer accepts a one-element array there.",
    },
    "hint.numpy2_ragged": {
        "zh": "np.array 收到了长度不同的行：检查每一行（每个窗口）的大小是否相同。",
        "en": "np.array got rows of different lengths: check that every row (every window) has the same size.",
    },
    "hint.numpy2_copy": {
        "zh": "在 NumPy 2 中，np.array(a, copy=False) 表示“绝不复制”，需要复制时就会出错：请用 np.asarray(a)。",
        "en": "In NumPy 2, np.array(a, copy=False) means 'never copy' and fails when a copy is needed: use "
              "np.asarray(a).",
    },
    "hint.numpy2_overflow": {
        "zh": "NumPy 2 不接受超出 {dtype} 范围的 Python 整数：先换成更宽的类型计算（例如 x.astype(np.int64)）。",
        "en": "NumPy 2 refuses a Python integer that does not fit in {dtype}: compute in a wider type first (e.g. "
              "x.astype(np.int64)).",
    },
    "hint.numpy2_removed": {
        "zh": "NumPy 2 删除了 {name}（评分环境用的是 NumPy 2）：请改用 {use}。",
        "en": "{name} was removed in NumPy 2 (the grading environment has NumPy 2): use {use} instead.",
    },
    "banner.fix_first": {
        "zh": "先修正 {function}：{users} 调用了它，它的错误在那里也会扣分。",
        "en": "Fix {function} first: {users} uses it, so its mistake costs points there too.",
    },
    "banner.fix_own": {"zh": "请修正 {function}。", "en": "Fix {function}."},
    "banner.missing": {"zh": "{cause}", "en": "{cause}"},
    "banner.unreadable": {
        "zh": "这个笔记本无法读取，里面的内容都没有运行，也无法评分（{problem}）。请在 Jupyter 中重新保存（File → Save Notebook）后再提交。",
        "en": "This notebook cannot be read, so nothing in it could run or be graded ({problem}). Re-save it in "
              "Jupyter (File → Save Notebook) and submit it again.",
    },
    "banner.cell_cost": {
        "zh": "单元格 {cell} {outcome}：因此扣了分，{questions} 无法评分。",
        "en": "Cell {cell} {outcome}: it cost points, {questions} could not be graded.",
    },
    "banner.cell_free": {
        "zh": "单元格 {cell} {outcome}：这没有扣分，所有函数都照常评分了。",
        "en": "Cell {cell} {outcome}: it cost no points, every function was still graded.",
    },
    "banner.output_free": {
        "zh": "单元格 {cell} 的输出超过了上限，多出的部分没有保留：这不扣分。",
        "en": "Cell {cell} printed more than the output limit; the rest was not kept, which costs no points.",
    },
    "cells.heading": {"zh": "位于“{heading}”下", "en": "under “{heading}”"},
    "cells.line": {"zh": "出错的是单元格第 {line} 行", "en": "It failed at line {line} of the cell"},
    "cells.numbering_jupyter": {
        "zh": "单元格的编号与 Jupyter 中 Kernel → Restart & Run All 之后的编号相同：代码单元格从 1 开始（In [1]、In [2] …），空单元格不计。",
        "en": "Cells are numbered as Jupyter numbers them after Kernel → Restart & Run All: code cells from 1 "
              "(In [1], In [2] …), empty cells not counted.",
    },
    "cells.cost": {"zh": "它导致扣分：{questions} 因此无法评分。", "en": "It cost points: {questions} could not be graded because of it."},
    "cells.free": {
        "zh": "它没有导致扣分：定义在它前后的函数都照常评分了。",
        "en": "It cost no points: the functions defined before and after it were still graded.",
    },
    "check.cause": {"zh": "原因", "en": "cause"},
    "error.cause_cell": {"zh": "出错的单元格：", "en": "The cell that failed:"},
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
    # the notebook's own check cells, run by `grader check` and `python -m selfcheck`
    "check.cells_heading": {"zh": "笔记本自己的检查单元格：", "en": "The notebook's own check cells:"},
    "check.cell": {"zh": "单元格 {cell}（{question}）", "en": "cell {cell} ({question})"},
    "check.cell_passed": {"zh": "通过", "en": "passed"},
    "check.cell_optional": {"zh": "选做题，还没有作答（不算失败）", "en": "optional, not attempted (not a failure)"},
    "check.cells_total": {"zh": "检查单元格通过 {passed}/{total}。", "en": "{passed}/{total} check cells pass."},
    "check.not_found": {"zh": "{path}：没有这个笔记本", "en": "{path}: no such notebook"},
    "check.unrecognised": {
        "zh": "{path}：看不出这是哪一次作业（请用 01-convolution.ipynb 这样的文件名，或者加 --assignment；可选：{known}）",
        "en": "{path}: cannot tell which assignment this notebook is (name it like 01-convolution.ipynb or pass "
              "--assignment; known: {known})",
    },
    "check.colon": {"zh": "：", "en": ": "},
    # --- what `grader grade` found but could not grade (grader.intake; the instructor's terminal) -----
    "zip.too_many": {
        "zh": "zip 有 {count} 个条目，超过了上限 {limit}", "en": "zip has {count} entries, more than the limit of {limit}",
    },
    "zip.unsafe": {
        "zh": "不安全的条目 {entry}（绝对路径或 '..' 路径：zip-slip）；没有解压任何文件",
        "en": "unsafe entry {entry} (absolute or '..' path: zip-slip); nothing unpacked",
    },
    "zip.symlink": {"zh": "条目 {entry} 是一个符号链接；没有解压任何文件", "en": "entry {entry} is a symbolic link; nothing unpacked"},
    "zip.encrypted": {"zh": "条目 {entry} 是加密的；没有解压任何文件", "en": "entry {entry} is encrypted; nothing unpacked"},
    "zip.file_too_big": {
        "zh": "条目 {entry} 解压后有 {size} 字节，超过了每个文件的上限 {limit}（zip 炸弹？）；没有解压任何文件",
        "en": "entry {entry} unpacks to {size} bytes, more than the per-file limit of {limit} (zip bomb?); "
              "nothing unpacked",
    },
    "zip.ratio": {
        "zh": "条目 {entry} 的压缩比是 {ratio}:1，超过了上限 {limit}:1（zip 炸弹？）；没有解压任何文件",
        "en": "entry {entry} is compressed {ratio}:1, more than the limit of {limit}:1 (zip bomb?); nothing unpacked",
    },
    "zip.too_big": {
        "zh": "zip 解压后超过了上限 {limit} 字节（zip 炸弹？）；没有解压任何文件",
        "en": "zip unpacks to more than the limit of {limit} bytes (zip bomb?); nothing unpacked",
    },
    "zip.outside": {
        "zh": "条目 {entry} 会被写到文件夹之外；没有解压任何文件",
        "en": "entry {entry} would be written outside the folder; nothing unpacked",
    },
    "zip.lies": {
        "zh": "条目 {entry} 解压后比它声明的大（zip 炸弹？）", "en": "entry {entry} unpacks to more than it declares (zip bomb?)",
    },
    "zip.damaged": {"zh": "损坏或不支持的 zip：{error}", "en": "damaged or unsupported zip: {error}"},
    "zip.unpack_failed": {"zh": "无法解压：{error}", "en": "cannot unpack: {error}"},
    "intake.unreadable_folder": {"zh": "无法读取文件夹：{error}", "en": "cannot read the folder: {error}"},
    "intake.broken_link": {"zh": "失效的符号链接", "en": "broken symbolic link"},
    "intake.link_outside": {
        "zh": "指向提交文件夹之外的符号链接：没有跟随", "en": "symbolic link to outside the submissions folder: not followed",
    },
    "intake.link_to_folder": {"zh": "指向文件夹的符号链接：没有跟随", "en": "symbolic link to a folder: not followed"},
    "intake.zip_nested": {"zh": "zip 嵌套超过了 {limit} 层：没有解压", "en": "zip nested more than {limit} deep: not unpacked"},
    "intake.folders_nested": {
        "zh": "文件夹嵌套超过了 {limit} 层：没有搜索", "en": "folders nested more than {limit} deep: not searched",
    },
    "intake.no_student": {
        "zh": "没有学生名字：请命名为 STUDENT_ASSIGNMENT.ipynb，或放进 STUDENT/ 文件夹",
        "en": "no student name: name it STUDENT_ASSIGNMENT.ipynb or put it in a STUDENT/ folder",
    },
    "intake.assignment_not_last": {
        "zh": "应为 STUDENT_ASSIGNMENT.ipynb，作业名（{assignment}）放在最后",
        "en": "expected STUDENT_ASSIGNMENT.ipynb with the assignment ({assignment}) at the end",
    },
    "intake.unknown_assignment": {
        "zh": "从名字看不出是哪次作业：应为 {layout}，其中 ASSIGNMENT 是 {known} 之一（或用 --assignment 评分）",
        "en": "cannot tell the assignment from the name: expected {layout} with ASSIGNMENT one of {known} (or grade "
              "with --assignment)",
    },
    "intake.duplicate": {
        "zh": "重复：{student} 还有另一份 {assignment} 笔记本 {kept}，保留那一份，因为{why}",
        "en": "duplicate: {student} has another {assignment} notebook, {kept}, kept because {why}",
    },
    "intake.why.better_name": {"zh": "它的名字与作业更匹配", "en": "its name matches the assignment better"},
    "intake.why.later": {"zh": "它修改得更晚", "en": "it was modified later"},
    "intake.why.name_order": {"zh": "按名字排序它在后面", "en": "it comes later in name order"},
    "intake.unreadable": {"zh": "无法读取：{error}", "en": "cannot read: {error}"},
    "intake.not_notebook": {
        "zh": "不是笔记本（{suffix}），而且 {student} 没有 {assignment} 的 .ipynb：请让学生提交 .ipynb",
        "en": "not a notebook ({suffix}) and {student} has no .ipynb for {assignment}: ask for the .ipynb",
    },
    "intake.not_available": {
        "zh": "这次作业还不能自动评分", "en": "automatic grading of this assignment is not available yet",
    },
    # LMS downloads and the roster (grader.intake.lms, grader.intake.roster)
    "intake.ambiguous_assignment": {
        "zh": "名字同时像几次作业（{assignments}）：没有猜，请改名或用 --assignment 评分",
        "en": "the name matches several assignments ({assignments}): not guessed; rename it or grade with "
              "--assignment",
    },
    "intake.lms_assignment_conflict": {
        "zh": "文件名是作业 {file_assignment} 的，却交到了 {lms_assignment}：没有猜，请确认后用 --assignment 评分",
        "en": "the file is named for {file_assignment} but was handed in to {lms_assignment}: not guessed; "
              "check and grade with --assignment",
    },
    "intake.lms_id_two_names": {
        "zh": "{lms} 的用户 id {id} 在这份下载里有两个名字（{names}）：没有猜是谁",
        "en": "{lms} user id {id} appears with two names in this download ({names}): not guessed",
    },
    "intake.download_among_students": {
        "zh": "这个文件夹里的文件名像 LMS 下载的（名字里带着别人的 id），却和学生自己的文件夹放在一起："
              "分不清是下载还是某个学生的，没有评分。LMS 的下载请单独评分",
        "en": "this folder holds LMS-named files (names carrying someone's id) but sits among students' own folders: "
              "a download or one student's cannot be told, not graded. Grade an LMS download on its own",
    },
    "intake.inbound_not_theirs": {
        "zh": "nbgrader 的 inbound 文件夹写着是 {student} 的，却是账号 {owner} 建的（inbound 人人可写）：没有评分。"
              "用 nbgrader collect 收集，或用 cp -r 复制一份再评",
        "en": "this nbgrader inbound folder says it is {student}'s but the account {owner} made it (inbound is "
              "writable by all): not graded. Collect with nbgrader collect, or grade a copy made with cp -r",
    },
    "intake.extension_unused": {
        "zh": "[assignments.{assignment}] 的 extensions 给了 {student} 延期，但这次没有哪份提交属于这个学生：延期没有用上。"
              "请写评分器给学生的名字（见 results/ 下的文件夹）",
        "en": "[assignments.{assignment}] extensions gives {student} more time, but no submission of this run is that "
              "student's: the extension is not used. Write the name the grader gives the student (results/ folders)",
    },
    "intake.no_submitter": {
        "zh": "submission_metadata.yml 给这份提交列出的提交者没有名字、SID 或邮箱：不知道是谁的，没有评分",
        "en": "submission_metadata.yml lists submitters for this submission with no name, SID or email: "
              "whose it is cannot be told, not graded",
    },
    "intake.two_accounts_one_key": {
        "zh": "{accounts} 这几个不同的账号都成了学生 {student}（{assignment}）：不是重交，是两个人；没有猜是谁。"
              "请在名单里给他们各自的 id",
        "en": "the accounts {accounts} all became student {student} ({assignment}): two people, not a resubmission; "
              "not guessed. Give each their own id in the roster",
    },
    "intake.roster_ambiguous": {
        "zh": "{who} 在名单 {file} 中按{by}对上了多个学生（{students}）：没有猜是谁",
        "en": "{who} matches several students of the roster {file} by {by} ({students}): not guessed",
    },
    "intake.metadata_ignored": {
        "zh": "没有使用 Gradescope 的元数据：{problem}；这些提交按文件夹名评分",
        "en": "Gradescope's metadata not used: {problem}; those submissions are graded under their folder names",
    },
    "intake.metadata_too_big": {
        "zh": "文件有 {size} 字节，超过了上限 {limit}", "en": "the file has {size} bytes, more than the limit of {limit}",
    },
    "intake.metadata_unreadable": {"zh": "不是可读的 YAML（{error}）", "en": "not readable YAML ({error})"},
    "intake.metadata_shape": {
        "zh": "不是“提交文件夹 → :submitters:”的映射（读到的是 {found}）",
        "en": "not a mapping of submission folders to :submitters: (found {found})",
    },
    "intake.receipt_ignored": {
        "zh": "没有使用 Blackboard 的回执：{problem}；提交时间取自文件名",
        "en": "Blackboard's receipt not used: {problem}; the hand-in time is taken from the file name",
    },
    "intake.receipt_unreadable": {
        "zh": "没有 Name: 或 Date Submitted: 行", "en": "it has no Name: or Date Submitted: line",
    },
    "intake.worksheet_ignored": {
        "zh": "没有使用 Moodle 的评分表：{problem}；提交时间取自文件", "en": "Moodle's grading worksheet not used: {problem}; "
                                                          "the hand-in times are taken from the files",
    },
    "intake.worksheet_too_big": {"zh": "超过了上限 {limit} 字节", "en": "more than the limit of {limit} bytes"},
    "intake.worksheet_unreadable": {"zh": "不是可读的 CSV（{error}）", "en": "not readable CSV ({error})"},
    "intake.why.later_attempt": {"zh": "它是更晚的一次提交", "en": "it is a later attempt"},
    "intake.why.handed_in_later": {"zh": "按学习平台的记录它交得更晚", "en": "the LMS records it as handed in later"},
    "intake.roster.too_big": {
        "zh": "名单 {file} 有 {size} 字节，超过了上限 {limit}：没有使用",
        "en": "roster {file} has {size} bytes, more than the limit of {limit}: not used",
    },
    "intake.roster.unreadable": {"zh": "无法读取名单 {file}：{error}", "en": "cannot read the roster {file}: {error}"},
    "intake.roster.encoding": {
        "zh": "名单 {file} 既不是 UTF-8 也不是 GB18030：没有使用", "en": "roster {file} is neither UTF-8 nor GB18030: not used",
    },
    "intake.roster.not_csv": {
        "zh": "名单 {file} 第 {line} 行不是可读的 CSV（{error}）：从这里起没有使用",
        "en": "roster {file} line {line} is not readable CSV ({error}): not used from there on",
    },
    "intake.roster.no_student_column": {
        "zh": "名单 {file} 的第一行没有 student 列（可用的列：{columns}）：没有使用",
        "en": "roster {file} has no student column in its first line (columns: {columns}): not used",
    },
    "intake.roster.too_many": {
        "zh": "名单 {file} 超过了 {limit} 行：第 {line} 行起没有使用",
        "en": "roster {file} has more than {limit} rows: not used from line {line} on",
    },
    "intake.roster.no_key": {
        "zh": "名单 {file} 第 {line} 行的 student 是空的：这一行没有使用",
        "en": "roster {file} line {line} has an empty student: the row is not used",
    },
    "intake.roster.duplicate_key": {
        "zh": "名单 {file} 第 {line} 行：{student} 在前面已经有了，这一行没有使用",
        "en": "roster {file} line {line}: {student} is already on an earlier row; this row is not used",
    },
    "intake.roster.formula": {
        "zh": "名单 {file} 第 {line} 行的 {column} 是电子表格公式，不是值：没有使用这一格",
        "en": "roster {file} line {line}: {column} is a spreadsheet formula, not a value: the cell is not used",
    },
    "intake.roster.too_long": {
        "zh": "名单 {file} 第 {line} 行的 {column} 超过了 {limit} 个字符：没有使用这一格",
        "en": "roster {file} line {line}: {column} is longer than {limit} characters: the cell is not used",
    },
    "intake.roster.shared_id": {
        "zh": "名单 {file} 第 {line} 行：{column} {value} 同时属于 {students}，不能用它认人",
        "en": "roster {file} line {line}: {column} {value} belongs to {students} at once, so it identifies nobody",
    },
    "intake.by.id": {"zh": "id", "en": "id"},
    "intake.by.email": {"zh": "邮箱", "en": "email"},
    "intake.by.key": {"zh": "学号/登录名", "en": "key"},
    "intake.by.name": {"zh": "名字", "en": "name"},
    # --- the Gradescope autograder (grader.authoring.autograder): what a student reads there -----------
    "gradescope.no_notebook": {
        "zh": "提交中没有笔记本（.ipynb）（收到的文件：{files}）：请上传 {assignment} 的 .ipynb 笔记本",
        "en": "no notebook (.ipynb) in your submission (files received: {files}): upload your {assignment} "
              ".ipynb notebook",
    },
    "gradescope.nothing": {"zh": "（无）", "en": "(none)"},
    "gradescope.two_notebooks": {
        "zh": "提交中有 {count} 个笔记本（{files}）：请只上传 {assignment} 的那一个",
        "en": "your submission holds {count} notebooks ({files}): upload only the one for {assignment}",
    },
    "gradescope.not_used": {"zh": "提交无法使用：{reasons}", "en": "your submission could not be used: {reasons}"},
    "gradescope.unconfined": {
        "zh": "自动评分器无法隔离运行你的笔记本，因此没有运行它。这不是你的问题：请告诉老师。（{reason}）",
        "en": "the autograder could not confine your notebook, so it did not run it. This is not your fault: tell "
              "your instructor. ({reason})",
    },
    "gradescope.failed": {
        "zh": "自动评分器出错（{error}）。这不是你的笔记本的问题：请告诉老师。",
        "en": "the autograder failed ({error}). This is not your notebook's fault: tell your instructor.",
    },
    # --- the instructor's terminal (grader.cli) --------------------------------------------------------
    "cli.cell": {"zh": "单元格 {index}：{what}", "en": "cell {index}: {what}"},
    "cli.diagnosed": {"zh": "诊断出 {mistake}", "en": "diagnosed {mistake}"},
    "cli.separator": {"zh": "；", "en": "; "},
    "cli.fix_first": {"zh": "先改 {root}（{users} 用到了它）", "en": "fix {root} first (used by {users})"},
    "cli.not_installed": {"zh": "{what}（没有安装 {module}）", "en": "{what} ({module} is not installed)"},
    "cli.cell_cost": {"zh": "{cell} -> 缺少 {missing}", "en": "{cell} -> {missing} missing"},
    "cli.sandbox_off": {
        "zh": "指定了 --sandbox off，学生的笔记本将以你的权限在没有隔离的情况下运行；每个结果和页面都会注明这一点。",
        "en": "--sandbox off was given, so students' notebooks run unconfined, with your rights; every result and "
              "page says so.",
    },
    "cli.written": {
        "zh": "报告：{index}  ·  结果：{results}  ·  成绩：{grades}",
        "en": "report: {index}  ·  results: {results}  ·  grades: {grades}",
    },
    "cli.grading": {"zh": "评分中", "en": "grading"},
    "cli.progress": {
        "zh": "已评分 {graded} · 失败 {failed} · 未变 {cached} · {submission}",
        "en": "graded {graded} · failed {failed} · cached {cached} · {submission}",
    },
    "cli.table": {"zh": "{count} 份提交已评分，写入 {out}", "en": "{count} submission(s) graded into {out}"},
    "cli.column.student": {"zh": "学生", "en": "student"},
    "cli.column.assignment": {"zh": "作业", "en": "assignment"},
    "cli.column.score": {"zh": "得分", "en": "score"},
    "cli.column.notes": {"zh": "说明", "en": "notes"},
    "cli.cached": {
        "zh": "{count} 份提交自上次运行以来没有变化：直接取自成绩册，没有重新运行",
        "en": "{count} submission(s) unchanged since the last run: taken from the gradebook, not re-run",
    },
    "cli.not_graded": {"zh": "未评分", "en": "not graded"},
    "cli.roster": {"zh": "名单", "en": "roster"},
    "cli.missing": {
        "zh": "名单上有 {count} 名学生什么都没交：{students}", "en": "{count} student(s) on the roster submitted nothing: {students}",
    },
    "cli.grader_error": {"zh": "评分程序出错", "en": "grader error"},
    "cli.grader_error_detail": {
        "zh": "{submission} 在 {stage} 阶段：{reason} —— 未评分；下次运行会重试（traceback 在它的结果文件里）",
        "en": "{submission} at stage {stage}: {reason} — not graded; the next run tries it again (traceback in its "
              "results file)",
    },
    # --- regrades: what a run changed, a student's history (grader.classroom.regrade; terminal, class page)
    "regrade.reason.notebook": {"zh": "笔记本变了（重新提交）", "en": "the notebook changed (a resubmission)"},
    "regrade.reason.course": {
        "zh": "course.toml 变了（分值、测试、截止日期等）", "en": "course.toml changed (points, tests, due dates…)",
    },
    "regrade.reason.seed": {"zh": "隐藏测试的种子变了", "en": "the seed of the hidden tests changed"},
    "regrade.reason.code": {"zh": "评分程序的代码变了（测试或参考答案）", "en": "the grader's code changed (its tests or references)"},
    "regrade.reason.version": {"zh": "评分程序的版本变了", "en": "a new grader version"},
    "regrade.reason.config": {
        "zh": "课程配置或评分程序变了（旧成绩册没有记下是哪一个）",
        "en": "the course configuration or the grader changed (an older gradebook does not say which)",
    },
    "regrade.reason.penalty": {"zh": "迟交扣分变了", "en": "the late penalty changed"},
    "regrade.reason.again": {
        "zh": "笔记本和配置都没变，重新评分得到了不同的结果（例如上次评分程序出错，或刚好碰到时限）",
        "en": "same notebook and configuration, graded again with another outcome (after a grader error, or a "
              "time limit only just met)",
    },
    "regrade.status.passed": {"zh": "通过", "en": "passed"},
    "regrade.status.failed": {"zh": "未通过", "en": "failed"},
    "regrade.status.absent": {"zh": "（没有这项测试）", "en": "(no such test)"},
    "regrade.flip": {"zh": "{test}：{before} → {after}", "en": "{test}: {before} → {after}"},
    "regrade.flip_points": {"zh": "{test}：{before} → {after} 分", "en": "{test}: {before} → {after} points"},
    "regrade.flip_both": {
        "zh": "{test}：{before} → {after}（{points_before} → {points_after} 分）",
        "en": "{test}: {before} → {after} ({points_before} → {points_after} points)",
    },
    "regrade.score": {"zh": "{before} → {after}（{delta}）", "en": "{before} → {after} ({delta})"},
    "regrade.final": {"zh": "最终分 {before} → {after}（{delta}）", "en": "final {before} → {after} ({delta})"},
    "regrade.why": {"zh": "原因：{why}", "en": "why: {why}"},
    "cli.changes": {
        "zh": "自上次运行以来有 {count} 份提交的得分变了：", "en": "{count} submission(s) changed since the last run:",
    },
    "cli.change": {"zh": "{student} · {assignment}：{score}{final}；{why}", "en": "{student} · {assignment}: {score}{final}; {why}"},
    "cli.change_final": {"zh": "，{final}", "en": ", {final}"},
    "cli.no_changes": {
        "zh": "自上次运行以来没有得分变化（比较了 {compared} 份提交）",
        "en": "no score changed since the last run ({compared} submission(s) compared)",
    },
    "cli.first_graded": {"zh": "{count} 份提交是第一次评分", "en": "{count} submission(s) graded for the first time"},
    "history.heading": {"zh": "{student} · {assignment}", "en": "{student} · {assignment}"},
    "history.column.run": {"zh": "运行", "en": "run"},
    "history.column.date": {"zh": "日期", "en": "date"},
    "history.column.notebook": {"zh": "笔记本", "en": "notebook"},
    "history.column.config": {"zh": "配置", "en": "config"},
    "history.column.score": {"zh": "得分", "en": "score"},
    "history.column.final": {"zh": "最终分", "en": "final"},
    "history.column.changes": {"zh": "与上次相比", "en": "since the previous run"},
    "history.first": {"zh": "第一次评分", "en": "first graded"},
    "history.same": {"zh": "没有变化", "en": "no change"},
    "history.cached": {"zh": "（未变，取自成绩册）", "en": "(unchanged, from the gradebook)"},
    "history.grader_error": {"zh": "评分程序出错：未评分，不作比较", "en": "grader error: not graded, not compared"},
    "history.stopped": {"zh": "（这次运行被中途停止）", "en": "(this run was stopped before its end)"},
    "history.imported": {"zh": "（从第 1 版成绩册导入）", "en": "(imported from a version-1 gradebook)"},
    "history.none": {"zh": "{student}：还没有任何一次运行评过这名学生", "en": "{student}: no run has graded this student yet"},
    # The similarity pass (grader.classroom.similarity): the instructor's alone, worded as a signal
    # for a person to look at ("similar, worth a look"), never as a finding about a student.
    "similar.heading": {"zh": "相似，值得一看", "en": "Similar, worth a look"},
    "similar.not_verdict": {
        "zh": "这是供人查看的线索，不是结论：相似可能有正当的原因（允许的合作、同一本教材、本来就很短的惯用写法）。"
              "相似度检查从不改变任何分数，学生的页面也从不显示它。",
        "en": "A signal for a person to look at, not a verdict: code can be alike for good reasons (allowed "
              "collaboration, the same textbook, short idiomatic answers). The similarity pass never changes a "
              "score, and no student's page shows it.",
    },
    "cli.similar": {
        "zh": "相似，值得一看：{count} 对（供人查看的线索，不改变任何分数）：",
        "en": "similar, worth a look: {count} pair(s) (a signal for a person to look at; no score is changed):",
    },
    "cli.similar_pair": {
        "zh": "{assignment}：{a} · {b}：代码相似度 {code}，相同的错误答案 {wrong}",
        "en": "{assignment}: {a} · {b}: code {code}, shared wrong answers {wrong}",
    },
    "cli.similar_none": {
        "zh": "相似，值得一看：比较了 {compared} 份提交，没有需要查看的。",
        "en": "similar, worth a look: none among the {compared} submission(s) compared",
    },
    "cli.similar_pages": {
        "zh": "并排对比页面：{folder}（仅供教师查看，切勿公开）",
        "en": "side-by-side pages: {folder} (yours alone: never publish it)",
    },
    "cli.similar_failed": {
        "zh": "相似度检查失败（{reason}）；成绩不受影响，已照常写出",
        "en": "the similarity pass failed ({reason}); the grades are unaffected and written",
    },
    "cli.similar_left_out": {
        "zh": "未参加相似度检查（笔记本无法读取）：{submissions}",
        "en": "left out of the similarity pass (notebook unreadable): {submissions}",
    },
    "cli.similar_not_compared": {
        "zh": "{count} 份较早的评分结果未参加相似度检查（评分时跳过了相似度检查，没有保存其代码；重新评分即可比较）：{submissions}",
        "en": "{count} earlier result(s) not compared (graded without the similarity pass, so no code of theirs is kept; "
              "grade them again to compare): {submissions}",
    },
    "index.similar_intro": {
        "zh": "同一作业中，学生自己的代码（已去掉发布模板的代码）非常相像，或在相同的隐藏测试上给出相同错误答案的提交对。",
        "en": "Pairs of submissions of one assignment whose own code (the released template's left out) is much "
              "alike, or that give the same wrong answers to the same hidden cases.",
    },
    "index.similar_thresholds": {
        "zh": "比较了 {compared} 份提交。阈值（course.toml 的 [similarity]）：代码相似度 ≥ {code}"
              "（双方代码都至少 {tokens} 个词元），或相同错误答案 ≥ {wrong}。",
        "en": "{compared} submission(s) compared. Thresholds (course.toml's [similarity]): code score ≥ {code} "
              "(both students' code at least {tokens} tokens long), or shared wrong answers ≥ {wrong}.",
    },
    "index.similar_none": {
        "zh": "比较了 {compared} 份提交，没有相似到值得一看的提交对。",
        "en": "No pair of the {compared} submission(s) compared is similar enough to look at.",
    },
    "index.similar_assignment": {"zh": "{title}：比较了 {compared} 份，{count} 对值得一看", "en": "{title}: {compared} compared, {count} pair(s) to look at"},
    "index.similar_private": {
        "zh": "并排对比页面在输出目录的 similarity/ 中，与 similarity.json、similarity.csv 一样仅供教师查看：切勿公开。",
        "en": "The side-by-side pages are in the output folder's similarity/, for you alone like similarity.json "
              "and similarity.csv: never publish them.",
    },
    "index.similar_more": {
        "zh": "另有 {count} 对没有列在这里：全部见 similarity.csv（每对也都有并排对比页面）。",
        "en": "{count} more pair(s) not listed here: similarity.csv has them all (and each has its side-by-side page).",
    },
    "index.similar_students": {"zh": "学生", "en": "Students"},
    "index.similar_code": {"zh": "代码相似度", "en": "Code score"},
    "index.similar_wrong": {"zh": "相同的错误答案", "en": "Shared wrong answers"},
    "index.similar_open": {"zh": "并排对比", "en": "side by side"},
    "similar.cases": {"zh": "{count} 个测试用例", "en": "{count} case(s)"},
    "similar.title": {"zh": "相似，值得一看：{a} · {b}", "en": "Similar, worth a look: {a} · {b}"},
    "similar.code_score": {"zh": "代码相似度", "en": "Code score"},
    "similar.shared_wrong": {"zh": "相同的错误答案", "en": "Shared wrong answers"},
    "similar.own_code": {"zh": "两人自己的代码（已去掉发布模板的代码）", "en": "Their own code (the released template's left out)"},
    "similar.regions": {
        "zh": "{count} 处相同的代码片段，两栏中编号和颜色一一对应；点编号可跳到另一栏的对应位置。"
              "只标出算进相似度的代码：发布模板里也有的写法、全班很多人都这样写的写法，既不计分也不标出。",
        "en": "{count} matching region(s), numbered and coloured alike in both columns; a number links to its "
              "match in the other column. Only the code the score counts is marked: what the released template "
              "also holds, and what much of the class writes alike, is neither counted nor marked.",
    },
    "similar.no_regions": {"zh": "没有相同的代码片段。", "en": "No matching regions of code."},
    "similar.no_code": {"zh": "没有保存这名学生的代码。", "en": "This student's code was not kept."},
    "similar.cut": {
        "zh": "到此截断：还有 {count} 个字符没有显示（每名学生的代码最多显示 {limit} 个字符、{lines} 行；笔记本中有全部代码）。",
        "en": "Cut here: {count} more character(s) not shown (a page shows at most {limit} characters and {lines} lines "
              "of each student's code; the notebook has all of it).",
    },
    "similar.wrong_cases": {"zh": "给出相同错误答案的隐藏测试用例", "en": "Hidden cases answered with the same wrong value"},
    "similar.no_wrong_cases": {"zh": "没有相同的错误答案。", "en": "No shared wrong answers."},
    "similar.more": {"zh": "另有 {count} 个", "en": "{count} more"},
    "similar.back": {"zh": "返回班级页面", "en": "Back to the class page"},
    "similar.private": {
        "zh": "本页仅供教师查看：它显示两名学生的代码，切勿公开或发给学生。",
        "en": "This page is for the instructor alone: it shows two students' code. Never publish it or hand it out.",
    },
    "index.changes": {"zh": "自上次运行以来的变化", "en": "Changes since the last run"},
    "index.changes_run": {
        "zh": "运行 #{run}（开始于 {started}）找到 {reached} 份提交：重新评分 {graded} 份，{cached} 份没有变化、直接取自成绩册。"
              "每份提交都与它上一次的评分相比较。",
        "en": "Run #{run} (started {started}) found {reached} submission(s): {graded} graded, {cached} unchanged and "
              "taken from the gradebook. Each is compared with its own previous grade.",
    },
    "index.changes_stopped": {
        "zh": "这次运行在结束前被停止了：只处理了 {reached}/{planned} 份提交，下面的变化不完整。其余的提交没有比较。",
        "en": "This run was stopped before its end: it reached {reached} of {planned} submission(s), so the changes "
              "below are incomplete. The others were not compared.",
    },
    "index.changes_first": {"zh": "这是第一次运行，还没有可以比较的。", "en": "This is the first run: there is nothing to compare yet."},
    "index.changes_none": {
        "zh": "没有得分变化（比较了 {compared} 份提交）。", "en": "No score changed ({compared} submission(s) compared).",
    },
    "index.changes_count": {
        "zh": "{count} 份提交的得分变了，{unchanged} 份没有变。", "en": "{count} submission(s) changed, {unchanged} did not.",
    },
    "index.changes_new": {"zh": "{count} 份提交是第一次评分。", "en": "{count} submission(s) graded for the first time."},
    "index.changes_not_graded": {
        "zh": "评分程序出错、这次不作比较的提交：{students}", "en": "Not compared (the grader failed on them): {students}",
    },
    "index.change.raw": {"zh": "原始分", "en": "Raw score"},
    "index.change.final": {"zh": "最终分（扣除迟交）", "en": "Final (after late penalty)"},
    "index.change.tests": {"zh": "变化的测试", "en": "Tests that changed"},
    "index.change.why": {"zh": "原因", "en": "Why"},
    "index.change.since": {"zh": "与运行 #{run} 相比", "en": "since run #{run}"},
    # --- exports and hand-outs (grader.publish: canvas, moodle, handout) --------------------------------
    "report.written": {"zh": "报告：{index}", "en": "report: {index}"},
    "export.written": {"zh": "{count} 个文件已写入 {folder}", "en": "{count} file(s) written under {folder}"},
    "export.students_written": {
        "zh": "已在 {folder} 写入 {count} 个学生 zip，每个只含该学生自己的页面，可以直接发给学生",
        "en": "{count} student zip(s) written under {folder}, each holding only that student's pages: safe to "
              "hand out",
    },
    "export.page_failed": {
        "zh": "{student}/{assignment}：页面无法生成，已略去（{reason}）",
        "en": "{student}/{assignment}: the page could not be rendered, so it is left out ({reason})",
    },
    "export.canvas_howto": {
        "zh": "在 Canvas 中：成绩 → 导入，选择 canvas.csv，保存前先检查预览。",
        "en": "In Canvas: Grades → Import, choose canvas.csv, and check the preview before saving.",
    },
    "export.canvas_by_name": {
        "zh": "canvas.csv 中有 {count} 行没有来自 LMS 的 Canvas ID、SIS User ID 或 SIS Login ID，Canvas 只能按完全相同的"
              "姓名匹配它们（文件夹名被当作 SIS Login ID，只有它恰好是登录名时才匹配）：{students}。请在名单中给出他们的 ID，"
              "或查看 Canvas 导入预览中列出的未找到的学生。",
        "en": "{count} row(s) of canvas.csv have no Canvas ID, SIS User ID or SIS Login ID from the LMS, so Canvas can "
              "match them only by the exact name (a folder name stands as the SIS Login ID, which matches only if it "
              "is one): {students}. Give their ids in the roster, or check the students Canvas's import preview "
              "says it did not find.",
    },
    "export.moodle_howto": {
        "zh": "在每个 Moodle 作业中：查看所有提交 → 评分操作 → “上传评分表”，以及“以 zip 上传多个反馈文件”。"
              "上传时请把 Moodle 的界面语言设为英语：评分表的列名是 Moodle 的英文列名。",
        "en": "In each Moodle assignment: View all submissions → Grading action → \"Upload grading worksheet\", then "
              "\"Upload multiple feedback files in a zip\". Upload with your Moodle language set to English: the "
              "worksheet's column names are Moodle's English ones.",
    },
    "export.moodle_unmatched": {
        "zh": "{assignment}：{count} 名学生没有 Moodle 参与者编号（结果不是来自这次作业的 Moodle 下载，名单里也没有）："
              "他们在评分表中的 Identifier 为空，Moodle 会跳过，反馈 zip 里也没有他们的页面：{students}。",
        "en": "{assignment}: {count} student(s) have no Moodle participant number (their results did not come from "
              "this assignment's Moodle download, and the roster gives none): their worksheet rows have an empty "
              "Identifier, which Moodle skips, and the feedback zip has no page of theirs: {students}.",
    },
    "export.moodle_over_max": {
        "zh": "{assignment}：Moodle 会跳过高于作业满分（{max}，加分题可能超过它）的成绩：{students}。请在 Moodle 中提高满分，"
              "或手动录入这些成绩。",
        "en": "{assignment}: Moodle skips a grade above the assignment's maximum grade ({max}; extra credit can pass "
              "it): {students}. Raise the maximum grade in Moodle, or enter these by hand.",
    },
    "export.moodle_comment": {
        "zh": "得分 {score} / {max}。详细报告见反馈文件 {file}。",
        "en": "Score {score} / {max}. The detailed report is the feedback file {file}.",
    },
    "export.moodle_comment_late": {
        "zh": "得分 {score} / {max}：{raw} 分减去迟交扣分 {penalty} 分。详细报告见反馈文件 {file}。",
        "en": "Score {score} / {max}: {raw} less a late penalty of {penalty}. The detailed report is the feedback "
              "file {file}.",
    },
    "export.moodle_not_graded": {
        "zh": "尚未评分：评分程序处理这份提交时出错，之后会重新评分。",
        "en": "Not graded yet: the grader failed on this submission and will grade it again.",
    },
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
    "status.skipped": {"zh": "选做 · 未作答", "en": "optional · not attempted"},
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
    # --- the late policy (grader.classroom.late): notes on a result, and its words on pages and the terminal
    "late_unreadable": {
        "zh": "提交时间 {at!r}（来自 {source}）无法读取：没有按迟交扣分，请老师核对",
        "en": "the hand-in time {at!r} (from {source}) cannot be read: no late penalty was applied; the "
              "instructor should check it",
    },
    "late_implausible": {
        "zh": "提交时间 {at}（来自 {source}）不可信（早于 1970 年或晚于这次评分）：没有按迟交扣分，请老师核对",
        "en": "the hand-in time {at} (from {source}) cannot be right (before 1970 or after this grading run): no "
              "late penalty was applied; the instructor should check it",
    },
    "late_naive": {
        "zh": "提交时间 {at}（来自 {source}）没有标明时区：按截止时间所在的时区理解",
        "en": "the hand-in time {at} (from {source}) has no UTC offset: it was read on the due date's clock",
    },
    "late_flag_only": {
        "zh": "{source} 标记这份提交迟交，但没有给出时间：按迟交一个计时单位扣分（任何迟交至少扣这么多），请老师核对",
        "en": "{source} marks this submission late without giving its time: one period's penalty was taken off "
              "(the least any late time costs); the instructor should check it",
    },
    "late.source.canvas_name": {"zh": "Canvas 文件名中的迟交标记", "en": "Canvas's late mark in the file name"},
    "late.source.moodle_worksheet": {"zh": "Moodle 评分表", "en": "Moodle's grading worksheet"},
    "late.source.blackboard_receipt": {"zh": "Blackboard 提交回执", "en": "Blackboard's receipt"},
    "late.source.gradescope_metadata": {"zh": "Gradescope 提交元数据", "en": "Gradescope's submission metadata"},
    "late.source.nbgrader_timestamp": {"zh": "nbgrader 的 timestamp.txt", "en": "nbgrader's timestamp.txt"},
    "late.source.zip_entry": {"zh": "压缩包中文件的时间", "en": "the file's time in the zip"},
    "late.source.file_mtime": {
        "zh": "笔记本文件的修改时间（没有 LMS 记录时的最后办法，下载或复制会改变它）",
        "en": "the notebook file's modification time (the last resort without an LMS record; a download or "
              "copy changes it)",
    },
    "late.source.unknown": {"zh": "未知", "en": "unknown"},
    "late.source.moodle_name": {"zh": "Moodle 下载中的文件", "en": "the file in Moodle's download"},
    "late.source.blackboard_name": {"zh": "Blackboard 文件名中的日期", "en": "the date in Blackboard's file name"},
    "late.source.local_zone": {
        "zh": "{source}（没有时区，按评分机器的时区读）", "en": "{source} (without a time zone: read on the grading machine's clock)",
    },
    "late.source.joiner": {"zh": "；", "en": "; "},
    "late.title": {"zh": "截止与提交", "en": "Due date and hand-in"},
    "late.due": {"zh": "截止时间", "en": "Due"},
    "late.at": {"zh": "提交时间", "en": "Handed in"},
    "late.from": {"zh": "时间来源", "en": "Time from"},
    "late.rule": {"zh": "迟交规则", "en": "Late policy"},
    "late.not_known": {"zh": "不知道", "en": "not known"},
    "late.on_time": {"zh": "按时提交", "en": "on time"},
    "late.unusable": {"zh": "无法使用（见评分说明）", "en": "not usable (see the grader notes)"},
    "late.summary": {
        "zh": "原始分 {raw} · 迟交 {late}，扣 {penalty} 分 · 最终 {final}",
        "en": "Raw score {raw} · {late} late, {penalty} points off · final {final}",
    },
    "late.summary_flag": {
        "zh": "原始分 {raw} · 迟交（没有时间），扣 {penalty} 分 · 最终 {final}",
        "en": "Raw score {raw} · late (no time given), {penalty} points off · final {final}",
    },
    "late.final": {"zh": "最终得分", "en": "Final score"},
    "late.day": {"zh": "{n} 天", "en": "{n} day"},
    "late.days": {"zh": "{n} 天", "en": "{n} days"},
    "late.hour": {"zh": "{n} 小时", "en": "{n} hour"},
    "late.hours": {"zh": "{n} 小时", "en": "{n} hours"},
    "late.minute": {"zh": "{n} 分钟", "en": "{n} minute"},
    "late.minutes": {"zh": "{n} 分钟", "en": "{n} minutes"},
    "late.second": {"zh": "{n} 秒", "en": "{n} second"},
    "late.seconds": {"zh": "{n} 秒", "en": "{n} seconds"},
    "late.per.day": {"zh": "天", "en": "day"},
    "late.per.hour": {"zh": "小时", "en": "hour"},
    "late.rule_percent": {
        "zh": "每迟交一{per}扣满分的 {deduct}%（不足一{per}按一{per}算）",
        "en": "{deduct}% of the full marks off per started {per} late",
    },
    "late.rule_points": {
        "zh": "每迟交一{per}扣 {deduct} 分（不足一{per}按一{per}算）",
        "en": "{deduct} points off per started {per} late",
    },
    "late.rule_cap_percent": {"zh": "最多扣满分的 {cap}%", "en": "at most {cap}% of the full marks"},
    "late.rule_cap_points": {"zh": "最多扣 {cap} 分", "en": "at most {cap} points"},
    "late.rule_grace": {"zh": "截止后 {minutes} 分钟内不算迟交", "en": "{minutes} minutes' grace after the due date"},
    "late.rule_separator": {"zh": "，", "en": ", "},
    "late.no_policy": {"zh": "不扣分（course.toml 没有设置 [late]）", "en": "nothing is taken off ([late] is not set)"},
    "cli.column.late": {"zh": "迟交扣分", "en": "late penalty"},
    "cli.column.final": {"zh": "最终得分", "en": "final"},
    "index.late": {"zh": "迟交扣分", "en": "Late penalty"},
    "index.late_count": {"zh": "{count} 次迟交", "en": "{count} late"},
    "index.raw_penalty": {"zh": "原始 {raw} − 迟交 {penalty}", "en": "raw {raw} − {penalty} late"},
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
    "index.no_submissions": {"zh": "还没有提交。", "en": "No submissions yet."},
    "index.diagnoses": {"zh": "最常见的错误", "en": "Most common mistakes"},
    "index.diagnosis_students": {"zh": "{count} 名学生", "en": "{count} student(s)"},
    "index.no_diagnoses": {"zh": "没有认出任何常见错误。", "en": "No known mistake was recognised."},
    "index.problems": {"zh": "出错或超时的提交", "en": "Submissions that errored or timed out"},
    "index.what_happened": {"zh": "出了什么问题", "en": "What happened"},
    "index.no_problems": {"zh": "没有。", "en": "None."},
    "index.missing": {"zh": "名单上什么都没交的学生", "en": "On the roster, submitted nothing"},
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
    # --- the class summary: mean points, the colour legend, cell errors many students share ----
    "index.mean_points": {"zh": "各题平均得分", "en": "Mean points per question"},
    "index.mean_points_row": {
        "zh": "平均 {mean} / {max} 分 · {passed} / {total} 人全部通过",
        "en": "mean {mean} / {max} points · {passed} of {total} passed in full",
    },
    "index.legend": {"zh": "颜色说明", "en": "Colours"},
    "index.full_key": {"zh": "✓ n/m = 该题拿到满分的提交数", "en": "✓ n/m = submissions with full marks on the question"},
    "index.legend_bar": {"zh": "条形长度 = 平均得分占该题满分的比例", "en": "bar length = mean points as a share of the question's points"},
    "index.shared_errors": {"zh": "许多学生遇到的相同单元格错误", "en": "The same cell error in many submissions"},
    "index.shared_errors_hint": {
        "zh": "同一个单元格在 {min} 名或更多学生（或三分之一以上的提交）中抛出相同的错误：多半是发布的作业模板本身的问题，而不是学生的错。",
        "en": "The same cell raised the same error for {min} or more students (or a third of the submissions or "
              "more): most likely a problem in the released notebook itself, not the students' doing.",
    },
    "index.shared_error_row": {
        "zh": "{count} 名学生：单元格 {cell} {ename}: {evalue}", "en": "{count} students: cell {cell} {ename}: {evalue}",
    },
    "index.likely_template": {"zh": "多半是作业模板本身的问题", "en": "likely a problem in the notebook itself"},
    "index.no_shared_errors": {"zh": "没有。", "en": "None."},
    "legend.passed": {"zh": "全部通过", "en": "full marks"},
    "legend.partial": {"zh": "得到部分分数", "en": "some points"},
    "legend.wrong": {"zh": "0 分：答案错误", "en": "no points: wrong answers"},
    "legend.error": {"zh": "出错、超时或内核崩溃", "en": "errors, timeouts or a crashed kernel"},
    # --- a unit's facts on a submission's page (grader.course.facts): curves, held-out classes, layers
    "facts.title": {"zh": "训练与模型", "en": "Training and model"},
    "facts.curves": {"zh": "训练曲线（notebook 中记录的 history）", "en": "Training curves (the notebook's recorded history)"},
    "facts.curves_label": {
        "zh": "{metric}：横轴为 epoch（共 {epochs} 个），纵轴为数值", "en": "{metric}: epochs across ({epochs}), value up",
    },
    "facts.epochs": {"zh": "{epochs} 个 epoch", "en": "{epochs} epoch(s)"},
    "facts.dropped": {"zh": "有 {count} 项无法显示，已略去。", "en": "{count} value(s) could not be shown and were left out."},
    "facts.gaps": {"zh": "曲线中断处是 NaN 或无穷大。", "en": "A gap in a curve is a NaN or infinite value."},
    "facts.train": {"zh": "训练", "en": "training"},
    "facts.validation": {"zh": "验证", "en": "validation"},
    "facts.heldout": {"zh": "留出集上的表现", "en": "Held-out evaluation"},
    "facts.heldout_accuracy": {
        "zh": "准确率 {accuracy}（{n} 张图片，这些图片学生从未见过）",
        "en": "accuracy {accuracy} on {n} images the student never saw",
    },
    "facts.class": {"zh": "真实类别", "en": "True class"},
    "facts.images": {"zh": "图片数", "en": "Images"},
    "facts.class_accuracy": {"zh": "该类准确率", "en": "Accuracy"},
    "facts.predicted_as": {"zh": "预测为 {label}", "en": "predicted {label}"},
    "facts.predicted_other": {"zh": "预测为其他类", "en": "predicted another class"},
    "facts.class.male": {"zh": "男 (m → 0)", "en": "male (m → 0)"},
    "facts.class.female": {"zh": "女 (f → 1)", "en": "female (f → 1)"},
    "facts.layers": {"zh": "模型的各层与参数", "en": "The model's layers and parameters"},
    "facts.layer": {"zh": "层", "en": "Layer"},
    "facts.layer_class": {"zh": "类型", "en": "Type"},
    "facts.params": {"zh": "参数个数", "en": "Parameters"},
    "facts.total": {"zh": "合计", "en": "Total"},
    "facts.no_history": {
        "zh": "notebook 中没有 history 变量（model.fit 的返回值），所以没有训练曲线。",
        "en": "The notebook keeps no history variable (what model.fit returns), so there are no training curves.",
    },
    "facts.bad_history": {
        "zh": "notebook 的 history 无法读取为训练曲线（不是每个 epoch 一个数的记录，或者太大）。",
        "en": "The notebook's history could not be read as training curves (not one number per epoch, or too large).",
    },
    "facts.no_model": {"zh": "没有可以查看的训练好的 model。", "en": "There is no trained model to look at."},
    "facts.no_evaluation": {"zh": "模型无法在留出集上评估。", "en": "The model could not be evaluated on the held-out set."},
    "facts.unreadable": {"zh": "这部分记录无法读取。", "en": "This part of the record could not be read."},
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


def received(code: Any, params: Any, family: str) -> Message | None:
    """A message another process sent (the kernel's harness, the model inspector), or None: taken
    only when its code is of ``family`` (``"harness."``), its parameters are exactly its text's and
    each a short text or an integer, so that it words in every language and carries nothing else.
    The sender may be the student's code: anything else is shown as the words it sent."""
    if not (isinstance(code, str) and code.startswith(family) and code in CATALOG and isinstance(params, Mapping)):
        return None
    if set(params) != parameters(CATALOG[code]["en"]):
        return None
    if not all(isinstance(v, str) and len(v) <= 2000 or type(v) is int and abs(v) < 2**63 for v in params.values()):
        return None
    return Message(code, dict(params))


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
    if isinstance(value, list) and value and all(_is_message(v) for v in value):  # a list of messages
        return CATALOG["list.separator"][lang].join(str(_value(v, lang)) for v in value)
    return value


def _is_message(value: Any) -> bool:
    return isinstance(value, Message) or (isinstance(value, Mapping) and isinstance(value.get("code"), str))
