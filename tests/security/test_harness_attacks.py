"""Attacks on the calls with hidden inputs: only plain data crosses, and the grader compares it.

Every case is the correct baseline notebook with something planted at the end (a function of the
same name replaces the baseline's answer, because the grader grades names), so the score shows
exactly what the attack earned: nothing it should not, and no more lost than it should.
"""

from __future__ import annotations

import json

from course_facts import example_scores
from grader.classroom.gradebook import result_path
from grader.run.decode import MAX_ARRAY_BYTES

from .conftest import ASSIGNMENT, ClassFolder, HostileRun, hostile, hostile_cells, hostile_notebook
from .test_kernel_killers import assert_unaffected, question_failures

FULL = example_scores("01-convolution")  # the baseline (a correct example) per question

OBJECT_ARRAY = hostile_cells(
    "object-array", "def conv2d(x, k, mode='valid'):\n    return np.array([[object()]], dtype=object)")
LIAR = hostile_cells("lying-subclass", (
    "class Liar(np.ndarray):\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "    def __array_finalize__(self, obj):\n        pass\n"
    "def conv2d(x, k, mode='valid'):\n    return np.zeros((1, 1)).view(Liar)"))
HUGE = hostile_cells("ten-gb-array", (
    "def conv2d(x, k, mode='valid'):\n"
    "    try:  # 10 GB, never touched: the pages are not really allocated\n"
    "        return np.zeros((100_000, 100_000), dtype=np.uint8)\n"
    "    except MemoryError:  # a memory limit refuses even the reservation: the same size as a view\n"
    "        return np.broadcast_to(np.zeros(1, np.uint8), (100_000, 100_000))"))
# The function replaces the harness's own call routine (it lives in the kernel, so it can) with one
# that leaves pickles in the exchange folder and answer records pointing at them. Unpickling either
# would run the planted command, which creates the marker file.
PICKLER_SOURCE = '''
import glob, json, os, pickle
class Boom:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))
def forged_call(name, folder):
    pickle.dump(Boom(), open(os.path.join(folder, "evil.pkl"), "wb"))
    np.save(os.path.join(folder, "r0.npy"), np.array([Boom()], dtype=object), allow_pickle=True)
    target = "evil.pkl" if name == "conv2d_multi" else "r0.npy"
    json.dump({"status": "ok", "value": {"__ndarray__": target}}, open(os.path.join(folder, "answer.json"), "w"))
def forged_call_all(name, folders, *limits):
    for folder in folders:
        forged_call(name, folder)
def conv2d(x, k, mode="valid"):
    harness = get_ipython().user_ns["__cnn_grader__"]
    harness.call, harness.call_all = forged_call, forged_call_all  # from the next call on
    return np.zeros((1, 1))
'''
DELETER = hostile_cells("exchange-deleter", (
    "import glob, shutil\n_conv2d = conv2d\n"
    "def conv2d(x, k, mode='valid'):\n"
    "    for folder in glob.glob('.grader-exchange/*'):\n        shutil.rmtree(folder)\n"
    "    return _conv2d(x, k, mode)"))
NUMPY_PATCHER = hostile_cells("numpy-patcher", first=[
    "import numpy as np, numpy.testing\n"
    "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
    "np.isclose = lambda a, b, *r, **k: np.ones(np.broadcast(a, b).shape, bool)\n"
    "np.testing.assert_allclose = lambda *a, **k: None"])
BUILTINS_PATCHER = hostile_cells("builtins-patcher", (
    "import builtins\n_isinstance = builtins.isinstance\n"
    "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return True\n"
    "# isinstance(liar, np.ndarray) is now False, so the harness cannot call it a subclass\n"
    "builtins.isinstance = lambda obj, cls: (False if cls is np.ndarray and _isinstance(obj, Liar)\n"
    "                                        else _isinstance(obj, cls))\n"
    "builtins.print = lambda *args, **kwargs: None\n"
    "def conv2d(x, k, mode='valid'):\n    return np.full((2, 2), 7.0).view(Liar)"))
FAKE_SCORE = hostile_cells("fake-score-printer", (
    "import json\nprint('Score: 100 / 100')\nprint(json.dumps({'score': 100, 'max_score': 100, 'tests': []}))\n"
    "def conv2d(x, k, mode='valid'):\n"
    "    print('Score: 100 / 100  ALL TESTS PASSED')\n"
    "    print(json.dumps({'score': 100, 'max_score': 100, 'status': 'passed'}))\n"
    "    return np.zeros((1, 1))"))
FAKE_RESULTS = hostile_cells("fake-results-writer", (
    "import glob, json, os\n"
    "FAKE = {'score': 100, 'max_score': 100, 'output': 'FOR' + 'GED', 'tests': []}\n"  # not in its code as it is
    "for name in ('results.json', '../results.json', '../../results.json', 'gradebook.sqlite'):\n"
    "    try:\n        json.dump(FAKE, open(name, 'w'))\n    except OSError:\n        pass\n"
    "def conv2d(x, k, mode='valid'):\n"
    "    for folder in glob.glob('.grader-exchange/*/'):\n"
    "        json.dump(FAKE, open(folder + 'results.json', 'w'))\n"
    "    return np.zeros((1, 1))"))


PICKLER = "pickler"


@hostile(PICKLER)
def _pickler(folder: ClassFolder) -> None:
    source = PICKLER_SOURCE.replace("MARKER", repr(str(folder.base / "unpickled-marker")))
    folder.notebook(PICKLER, hostile_notebook(source))


def test_object_array_is_an_unsupported_return_value(hostile_run: HostileRun) -> None:
    result = hostile_run.result(OBJECT_ARRAY)
    assert question_failures(result, "conv2d") == {
        ("unsupported", "unsupported return value: an array of dtype object (only numbers are graded)")}
    assert result.question_scores() == {**FULL, "conv2d": 0}
    assert_unaffected(hostile_run)


def test_ndarray_subclass_with_lying_eq_is_refused(hostile_run: HostileRun) -> None:
    result = hostile_run.result(LIAR)
    assert question_failures(result, "conv2d") == {("unsupported", "unsupported return value: an ndarray "
                                                    "subclass (Liar); return a plain numpy array")}
    assert result.score == 80
    assert_unaffected(hostile_run)


def test_ten_gb_array_is_refused_in_the_kernel_before_it_is_written(hostile_run: HostileRun) -> None:
    result = hostile_run.result(HUGE)
    # The kernel side names the array's own size; the grader's check of the file would name the
    # file's (header included): so this message proves nothing was written.
    message = f"unsupported return value: an array of 10000000000 bytes (the limit is {MAX_ARRAY_BYTES})"
    assert question_failures(result, "conv2d") == {("unsupported", message)}
    assert result.score == 80
    assert_unaffected(hostile_run)


def test_pickles_left_in_the_exchange_folder_are_never_unpickled(hostile_run: HostileRun) -> None:
    result = hostile_run.result(PICKLER)
    assert not (hostile_run.base / "unpickled-marker").exists(), "the grader unpickled the student's file"
    assert {kind for kind, _ in question_failures(result, "conv2d")} <= {"wrong", "unsupported"}
    for question in ("conv2d_multi", "conv2d_layer", "im2col", "conv2d_matmul"):  # forged records only
        failures = question_failures(result, question)
        refused = ("unsupported return value: answer.json: bad array reference 'evil.pkl'" if question == "conv2d_multi"
                   else "unsupported return value: r0.npy: an array of dtype '|O' (only numbers are graded)")
        assert failures == {("unsupported", refused)}, failures
    assert result.score == 0, "every forged answer after the first call is refused"
    assert_unaffected(hostile_run)


def test_deleting_the_exchange_files_during_the_call_loses_only_that_question(hostile_run: HostileRun) -> None:
    result = hostile_run.result(DELETER)
    assert result.question_scores() == {**FULL, "conv2d": 0}
    failures = question_failures(result, "conv2d")
    assert failures and all(kind == "error" for kind, _ in failures), failures
    assert all("exchange" in message or "No such file" in message for _, message in failures), failures
    assert_unaffected(hostile_run)


def test_patching_numpy_changes_nothing_for_a_correct_notebook(hostile_run: HostileRun) -> None:
    result = hostile_run.result(NUMPY_PATCHER)
    assert result.score == 100, "the comparison happens in the grader, with the grader's numpy"
    assert_unaffected(hostile_run)


def test_patching_builtins_cannot_pass_a_lying_subclass_off_as_an_answer(hostile_run: HostileRun) -> None:
    result = hostile_run.result(BUILTINS_PATCHER)
    assert result.question_scores()["conv2d"] == 0
    assert question_failures(result, "conv2d") == {
        ("unsupported", "unsupported return value: a value of type __main__.Liar")}
    assert result.score == 80, "the other questions, called through the same patched builtins, pass"
    assert_unaffected(hostile_run)


def test_printed_fake_score_is_ignored(hostile_run: HostileRun) -> None:
    result = hostile_run.result(FAKE_SCORE)
    assert result.question_scores() == {**FULL, "conv2d": 0}
    assert {kind for kind, _ in question_failures(result, "conv2d")} == {"wrong"}
    stored = json.loads(result_path(hostile_run.out, FAKE_SCORE, ASSIGNMENT).read_text(encoding="utf-8"))
    assert stored["score"] == 80 and "ALL TESTS PASSED" not in json.dumps(stored)
    assert_unaffected(hostile_run)


def test_fake_results_json_written_by_the_kernel_is_ignored(hostile_run: HostileRun) -> None:
    result = hostile_run.result(FAKE_RESULTS)
    assert result.question_scores() == {**FULL, "conv2d": 0}
    stored = result_path(hostile_run.out, FAKE_RESULTS, ASSIGNMENT)
    assert json.loads(stored.read_text(encoding="utf-8"))["score"] == 80
    for path in hostile_run.written_files():
        if path.suffix in (".json", ".csv", ".html"):
            assert "FORGED" not in path.read_text(encoding="utf-8", errors="replace"), path
    assert_unaffected(hostile_run)
