"""The decoder end to end: notebooks that tamper with their exchange folder or return values no
comparison can hold. Each attack costs only its own question (an "unsupported return value"), the
other questions keep their points, and the class run does not crash or block.

The cases join the one hostile class run of tests/security/conftest.py. How each file is refused
is pinned in detail, without a kernel, in tests/security/test_decode.py.
"""

from __future__ import annotations

from pathlib import Path

from course_facts import example_scores
from grader.run.decode import Answer, KerasFile
from grader.grade.calls import Caller

from .conftest import HostileRun, hostile_cells
from .test_kernel_killers import assert_unaffected, question_failures

# Each wrapped function, when the grader calls it, vandalises the exchange folders of the earlier
# calls of the same question (already answered, not yet read back by the grader). Calls made from
# inside another graded function (conv2d_matmul uses im2col) leave the folders alone.
VANDAL = hostile_cells("exchange-vandal", '''
import functools, glob, os
_busy = []

def _vandal(function, sabotage):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not _busy and sabotage is not None:
            for folder in sorted(glob.glob(".grader-exchange/*/")):
                if os.path.lexists(folder + "answer.json") and not os.path.exists(folder + "done"):
                    sabotage(folder)
                    open(folder + "done", "w").close()
        _busy.append(function)
        try:
            return function(*args, **kwargs)
        finally:
            _busy.pop()
    return wrapper

def _huge_header(folder):  # r0.npy's header claims a million by a million doubles
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (117 - len(header)) + "\\n"
    with open(folder + "r0.npy", "wb") as f:
        f.write(b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header.encode())

def _passwd_link(folder):
    os.remove(folder + "answer.json")
    os.symlink("/etc/passwd", folder + "answer.json")

def _fifo(folder):  # a reader that opens it without O_NONBLOCK waits forever
    os.remove(folder + "answer.json")
    os.mkfifo(folder + "answer.json")

def _deep(folder):
    with open(folder + "answer.json", "w") as f:
        f.write('{"status": "ok", "value": ' + "[" * 200000 + "]" * 200000 + "}")

conv2d = _vandal(conv2d, _huge_header)
conv2d_multi = _vandal(conv2d_multi, _passwd_link)
conv2d_layer = _vandal(conv2d_layer, _fifo)
im2col = _vandal(im2col, _deep)
conv2d_matmul = _vandal(conv2d_matmul, None)
''')

# Values the kernel's harness can encode but no comparison can hold. im2col is left alone (the
# baseline's conv2d_matmul calls it), so conv2d_matmul's complex answer costs only conv2d_matmul.
HUGE_NUMBERS = hostile_cells("huge-numbers", '''
def conv2d(x, k, mode="valid"):
    return 10 ** 400
def conv2d_multi(x, k):
    return -10 ** 400
def conv2d_layer(x, kernels, bias, stride=1, padding="valid"):
    return np.full((2, 2), np.longdouble("1e4000"))
def conv2d_matmul(x, kernels, bias, stride=1):
    return np.ones((2, 2)) * 1j
''')

FULL = example_scores("01-convolution")  # the baseline (a correct example) per question
ONLY_TEXT = "not a file: only files the call wrote are read"


def test_vandalised_exchange_files_are_unsupported_values_of_their_own_question(hostile_run: HostileRun) -> None:
    result = hostile_run.result(VANDAL)
    assert not result.error, result.error
    expected = {
        "conv2d": "r0.npy: the header claims 1,000,000,000,000 values (7.3 TB); the limit is 64 MB",
        "conv2d_multi": f"answer.json is a symbolic link (to '/etc/passwd'), {ONLY_TEXT}",
        "conv2d_layer": f"answer.json is a named pipe (FIFO), {ONLY_TEXT}",
        "im2col": "answer.json: nested 200,001 levels deep; the limit is 68",
    }
    for question, reason in expected.items():
        assert question_failures(result, question) == {("unsupported", f"unsupported return value: {reason}")}, \
            (question, question_failures(result, question))
        assert result.question_scores()[question] < FULL[question]
    assert result.question_scores()["conv2d_matmul"] == FULL["conv2d_matmul"], "the untouched question keeps its points"
    # A reader that opened the named pipe would wait forever (no writer ever comes): the run would
    # never end. That this result exists, naming the FIFO, is the proof it did not block; the
    # decoder's own tests (test_decode.py) show the same read returning, under a hang guard.
    assert_unaffected(hostile_run)


def test_numbers_beyond_float64_and_complex_answers_are_unsupported(hostile_run: HostileRun) -> None:
    result = hostile_run.result(HUGE_NUMBERS)
    assert not result.error, result.error
    beyond = "numbers beyond ±1.8e+308 (the float64 range) cannot be compared"
    expected = {
        "conv2d": f"answer.json: an integer of 401 digits; {beyond}",
        "conv2d_multi": f"answer.json: an integer of 401 digits; {beyond}",
        "conv2d_layer": "r0.npy: values beyond the float64 range (the largest is 1e+4000); numbers that large "
                        "cannot be compared",
        "conv2d_matmul": "complex numbers are not graded (an array of dtype complex128)",
    }
    for question, reason in expected.items():
        assert question_failures(result, question) == {("unsupported", f"unsupported return value: {reason}")}, \
            (question, question_failures(result, question))
    assert result.question_scores() == {**FULL, "conv2d": 0, "conv2d_multi": 0, "conv2d_layer": 0, "conv2d_matmul": 0}
    assert_unaffected(hostile_run)


def test_a_model_answer_linked_to_a_classmates_model_is_not_kept(tmp_path: Path) -> None:
    """grade.Caller._keep_models takes a private copy through grader.run.decode.keep_model: a link to
    another student's model is refused, and nothing lands in the models folder. (No kernel: the
    caller's other parts are not needed for this step.)"""
    classmate = tmp_path / "classmate" / "model0.keras"
    classmate.parent.mkdir()
    classmate.write_bytes(b"PK\x03\x04 a trained model")
    scratch = tmp_path / "work"
    folder = scratch / ".grader-exchange" / "0123abcd"
    folder.mkdir(parents=True)
    (folder / "m0.keras").symlink_to(classmate)
    caller = object.__new__(Caller)
    caller.scratch, caller.models = scratch, tmp_path / "models"
    kept = caller._keep_models(Answer("ok", KerasFile(folder / "m0.keras")))
    assert kept.status == "unsupported" and kept.evalue.startswith("m0.keras is a symbolic link (to '/"), kept
    assert list(caller.models.iterdir()) == []
    (folder / "m0.keras").unlink()
    (folder / "m0.keras").write_bytes(b"PK\x03\x04 my own model")
    kept = caller._keep_models(Answer("ok", KerasFile(folder / "m0.keras")))
    assert kept.status == "ok" and kept.value.path.parent == caller.models
    assert kept.value.path.read_bytes() == b"PK\x03\x04 my own model"


def test_a_keras_model_where_an_array_is_expected_is_a_wrong_answer_not_a_grader_error(tmp_path: Path) -> None:
    """A kernel that writes ``{"__keras__": "m0.keras"}`` (or returns a model) for conv2d: the answer
    is wrong, and its excerpt is JSON, so the result is stored (it used to be a grader_error at
    the write stage: PosixPath is not JSON serializable, every group at zero)."""
    import json

    from grader.judge.catalog import nested
    from grader.judge.results import Failure, SubmissionResult, TestResult, excerpt

    actual = excerpt((KerasFile(tmp_path / "m0.keras"), {"m": KerasFile(tmp_path / "m1.keras")}, object()))
    failure = Failure("wrong", "type", {"actual": "tuple", "expected": nested("type.array", shape="(5, 5)", dtype="float64")},
                      actual=actual)
    result = SubmissionResult("s", "01-convolution", "", "0", 0.0,
                              (TestResult("conv2d", "valid mode", False, 0.0, 5.0, 1, 0, failure),))
    record = json.loads(json.dumps(result.to_json()))
    assert record["grader"]["results"][0]["failure"]["actual"] == ["<a Keras model>", {"m": "<a Keras model>"}, "<object>"]
