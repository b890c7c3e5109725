"""The write side of the trust boundary: grader.run.harness.write_call and discard, which run outside
the sandbox (often as root) and write into a scratch folder the student's code controls.

The kernel, or a process it left running, can replace ``.grader-exchange`` or a call's fresh folder
by a symbolic link at any moment (watching with inotify). The racing attacker is simulated
deterministically here, without a kernel: the os function the grader calls at the racy step is
wrapped so that the swap happens right after it. Whatever is swapped, nothing lands in (or is
removed from) the victim folder the link points to. The end-to-end case joins the hostile class.
"""

from __future__ import annotations

import json
import os
import shutil
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from course_facts import example_scores
from grader.run import harness
from grader.run.decode import Answer, KerasFile
from grader.grade.calls import Caller, _case_failure
from grader.run.harness import EXCHANGE, ExchangeTampered, discard, write_call
from grader.course.spec import Case, FileArg, Var

from .conftest import HostileRun, hostile_cells
from .test_kernel_killers import assert_unaffected, question_failures

ARGS = (np.arange(6.0).reshape(2, 3), (1, np.int64(2)), Var("model"), FileArg("faces/0.png"))
KWARGS = {"options": {"scale": np.ones(2)}}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A folder the grader must never write into: the instructor's out/, /etc, a classmate's scratch."""
    folder = tmp_path / "victim"
    (folder / "keep").mkdir(parents=True)
    (folder / "keep" / "grades.csv").write_text("precious\n")
    return folder


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A case's data files (the hidden face set for load_faces): a small folder tree."""
    folder = tmp_path / "case-files"
    (folder / "faces" / "more").mkdir(parents=True)
    (folder / "faces" / "0.png").write_bytes(b"\x89PNG face 0")
    (folder / "faces" / "more" / "1.png").write_bytes(b"\x89PNG face 1")
    (folder / "labels.csv").write_text("0,1\n")
    return folder


def tree(folder: Path) -> dict[str, str | bytes]:
    """Everything below ``folder``, links included (never followed): path -> contents or link target."""
    found: dict[str, str | bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        found[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else path.read_bytes() if path.is_file() else "/"
    return found


def swap_for_link(path: Path, target: Path) -> None:
    """What a racing kernel does: the folder the grader just made becomes a link to ``target``."""
    os.rmdir(path)
    os.symlink(target, path)


def after_mkdir(monkeypatch: pytest.MonkeyPatch, when: Callable[[str], bool], act: Callable[[Path], None]) -> list[str]:
    """Run ``act`` right after each ``os.mkdir`` of a name ``when`` accepts (the window between the
    grader making a folder and opening it); returns the names it acted on."""
    real_mkdir, acted = os.mkdir, []

    def mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        real_mkdir(path, mode, dir_fd=dir_fd)
        if when(os.fsdecode(path)):
            acted.append(os.fsdecode(path))
            act(Path(f"/proc/self/fd/{dir_fd}", path).resolve() if dir_fd is not None else Path(path))

    monkeypatch.setattr(os, "mkdir", mkdir)
    return acted


def is_call_name(name: str) -> bool:
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


# --- an honest call ------------------------------------------------------------------------------


def test_write_call_writes_the_inputs_and_discard_removes_them(scratch: Path, files: Path) -> None:
    folder = write_call(scratch, ARGS, KWARGS, files)
    assert folder.parent == scratch / EXCHANGE and is_call_name(folder.name)
    spec = json.loads((folder / "call.json").read_text())
    assert spec == {"args": [{"__ndarray__": "a0.npy"}, {"__tuple__": [1, 2]}, {"__var__": "model"},
                             {"__file__": "faces/0.png"}],
                    "kwargs": {"options": {"__dict__": {"scale": {"__ndarray__": "a1.npy"}}}}}
    np.testing.assert_array_equal(np.load(folder / "a0.npy", allow_pickle=False), ARGS[0])
    assert tree(folder / "files") == tree(files)
    discard(folder)
    assert os.listdir(scratch / EXCHANGE) == []
    discard(folder)  # twice: nothing left to remove, no error


# --- .grader-exchange replaced before the call ---------------------------------------------------


@pytest.mark.parametrize("planted", ["link", "dangling link", "file", "fifo"])
def test_a_planted_exchange_is_removed_never_written_through(scratch: Path, victim: Path, files: Path,
                                                             planted: str) -> None:
    before = tree(victim)
    if planted == "link":
        (scratch / EXCHANGE).symlink_to(victim)
    elif planted == "dangling link":
        (scratch / EXCHANGE).symlink_to(victim / "new")
    elif planted == "file":
        (scratch / EXCHANGE).write_text("not a folder")
    else:
        os.mkfifo(scratch / EXCHANGE)
    folder = write_call(scratch, ARGS, KWARGS, files)
    assert tree(victim) == before, "nothing was written through the link"
    assert not (victim / "new").exists()
    assert not (scratch / EXCHANGE).is_symlink() and (scratch / EXCHANGE).is_dir()
    assert (folder / "call.json").is_file() and (folder / "files" / "faces" / "0.png").is_file()


def test_a_link_that_cannot_be_removed_fails_the_call_and_writes_nothing(scratch: Path, victim: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(victim)
    (scratch / EXCHANGE).symlink_to(victim)

    def unlink(path: Any, *, dir_fd: int | None = None) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(ExchangeTampered, match=r"^\.grader-exchange was replaced by a symbolic link that could "
                                               r"not be removed \(Operation not permitted\)$"):
        write_call(scratch, ARGS, KWARGS)
    monkeypatch.undo()
    assert tree(victim) == before
    assert (scratch / EXCHANGE).is_symlink(), "the link itself was left, its target untouched"


def test_an_exchange_folder_the_grader_cannot_open_is_moved_aside(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (scratch / EXCHANGE / "old").mkdir(parents=True)
    real_open, refused = os.open, []

    def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == EXCHANGE and not refused:  # as a chmod 000 does for a grader that is not root
            refused.append(path)
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", open_)
    folder = write_call(scratch, ARGS, {})
    monkeypatch.undo()
    assert (folder / "call.json").is_file() and os.listdir(scratch / EXCHANGE) == [folder.name]
    [aside] = [p for p in scratch.iterdir() if p.name.startswith(f"{EXCHANGE}.")]
    assert os.listdir(aside) == ["old"]


# --- a racing kernel -----------------------------------------------------------------------------


def test_an_exchange_replaced_by_a_link_each_time_it_is_made_fails_the_call(
        scratch: Path, victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(victim)
    acted = after_mkdir(monkeypatch, lambda name: name == EXCHANGE, lambda path: swap_for_link(path, victim))
    with pytest.raises(ExchangeTampered, match=r"^\.grader-exchange was replaced again each time it was made "
                                               r"\(a symbolic link, a symbolic link, a symbolic link\)$"):
        write_call(scratch, ARGS, KWARGS)
    monkeypatch.undo()
    assert len(acted) == 3
    assert tree(victim) == before


def test_a_call_folder_swapped_for_a_link_right_after_mkdir_gets_nothing_written(
        scratch: Path, victim: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(victim)
    acted = after_mkdir(monkeypatch, is_call_name, lambda path: swap_for_link(path, victim))
    with pytest.raises(ExchangeTampered, match=r"^the new folder [0-9a-f]{16} was replaced by a symbolic link$"):
        write_call(scratch, ARGS, KWARGS, files)
    monkeypatch.undo()
    assert len(acted) == 1
    assert tree(victim) == before
    assert os.listdir(scratch / EXCHANGE) == [], "the planted link was removed (the link, not its target)"


def test_a_call_folder_swapped_for_another_folder_is_noticed(scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_lstat, swapped = os.lstat, []

    def lstat(path: Any, *, dir_fd: int | None = None) -> os.stat_result:
        info = real_lstat(path, dir_fd=dir_fd)
        if is_call_name(os.fsdecode(path)) and dir_fd is not None and not swapped:  # between the lstat and the open
            swapped.append(path)
            os.rmdir(path, dir_fd=dir_fd)
            os.mkdir(path, dir_fd=dir_fd)
            os.symlink("/etc/passwd", os.path.join(f"/proc/self/fd/{dir_fd}", path, "call.json"))
        return info

    monkeypatch.setattr(os, "lstat", lstat)
    with pytest.raises(ExchangeTampered, match=r"^the new folder [0-9a-f]{16} was replaced before it was filled$"):
        write_call(scratch, ARGS, {})
    monkeypatch.undo()
    assert os.listdir(scratch / EXCHANGE) == []


def test_the_case_files_folder_swapped_for_a_link_gets_nothing_copied(
        scratch: Path, victim: Path, files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(victim)
    acted = after_mkdir(monkeypatch, lambda name: name in ("files", "more"), lambda path: swap_for_link(path, victim))
    with pytest.raises(ExchangeTampered, match=r"^the new folder (files|more) was replaced by a symbolic link$"):
        write_call(scratch, ARGS, {}, files)
    monkeypatch.undo()
    assert acted == ["files"]
    assert tree(victim) == before
    assert os.listdir(scratch / EXCHANGE) == [], "the half-written call folder was removed"


def test_a_call_folder_moved_away_while_it_is_written_keeps_the_writes_in_the_scratch_folder(
        scratch: Path, victim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel renames the grader's open folder away and puts a link in its place: the writes go
    on into the real folder (held by its descriptor, still in the scratch folder), and discard
    removes the link only."""
    before = tree(victim)
    real_new_file = harness._new_file

    def new_file(dir_fd: int, name: str) -> Any:
        if name == "call.json":
            folder = Path(f"/proc/self/fd/{dir_fd}").resolve()
            folder.rename(scratch / "moved")
            folder.symlink_to(victim)
        return real_new_file(dir_fd, name)

    monkeypatch.setattr(harness, "_new_file", new_file)
    folder = write_call(scratch, ARGS, {})
    monkeypatch.undo()
    assert tree(victim) == before
    assert (scratch / "moved" / "call.json").is_file() and (scratch / "moved" / "a0.npy").is_file()
    discard(folder)
    assert tree(victim) == before and victim.is_dir()
    assert os.listdir(scratch / EXCHANGE) == []


def test_discard_through_a_replaced_exchange_removes_nothing_of_the_target(scratch: Path, victim: Path) -> None:
    """After the call, ``.grader-exchange`` became a link to a folder holding a folder of the call's
    name: rmtree on the path would empty it. discard opens nothing through the link."""
    folder = write_call(scratch, ARGS, {})
    (victim / folder.name).mkdir()
    (victim / folder.name / "out.json").write_text("precious")
    before = tree(victim)
    os.rename(scratch / EXCHANGE, scratch / "old-exchange")
    (scratch / EXCHANGE).symlink_to(victim)
    discard(folder)
    assert tree(victim) == before


def test_discard_of_a_call_folder_swapped_for_a_link_removes_the_link_only(scratch: Path, victim: Path) -> None:
    folder = write_call(scratch, ARGS, {})
    before = tree(victim)
    os.rename(folder, scratch / "moved")
    folder.symlink_to(victim)
    discard(folder)
    assert tree(victim) == before and not folder.is_symlink()


def test_discard_relies_on_the_descriptor_based_rmtree() -> None:
    assert shutil.rmtree.avoids_symlink_attacks, "shutil.rmtree follows no link only where it walks by descriptors"


# --- the grading engine --------------------------------------------------------------------------


def bare_caller(scratch: Path, models: Path) -> Caller:
    """A caller without a kernel: enough for the steps around the kernel's round trip."""
    caller = object.__new__(Caller)
    caller.scratch, caller.models, caller.broken = scratch, models, {}
    caller.limits = types.SimpleNamespace(call_timeout=2.0)
    caller.session = types.SimpleNamespace(run=lambda *a: pytest.fail("the kernel was asked to run calls"))
    return caller


def test_calls_whose_inputs_cannot_be_written_fail_alone_without_an_exception(
        scratch: Path, victim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(victim)
    after_mkdir(monkeypatch, lambda name: name == EXCHANGE, lambda path: swap_for_link(path, victim))
    caller = bare_caller(scratch, tmp_path / "models")
    results = caller.call_all("conv2d", [Case((np.ones((2, 2)),)), Case((np.zeros(3),))])
    monkeypatch.undo()
    reason = ".grader-exchange was replaced again each time it was made (a symbolic link, a symbolic link, a symbolic link)"
    assert [(a.status, a.evalue, kind) for a, kind in results] == [("lost", reason, "tampered")] * 2
    failure = _case_failure("conv2d", Case((np.ones((2, 2)),)), None, *results[0], None, None)  # type: ignore[arg-type]
    assert failure is not None and (failure.kind, failure.code) == ("error", "error")
    assert failure.message == f"the exchange folder was tampered with: {reason}"
    assert tree(victim) == before


def test_nested_models_are_kept_as_private_copies(tmp_path: Path) -> None:
    scratch = tmp_path / "work"
    folder = scratch / EXCHANGE / "0123abcd"
    folder.mkdir(parents=True)
    for name in ("m0.keras", "m1.keras", "m2.keras"):
        (folder / name).write_bytes(b"PK\x03\x04 model " + name.encode())
    caller = bare_caller(scratch, tmp_path / "models")
    value = (1, KerasFile(folder / "m0.keras"), {"best": [KerasFile(folder / "m1.keras")], "last": KerasFile(folder / "m2.keras")})
    kept = caller._keep_models(Answer("ok", value))
    assert kept.status == "ok", kept
    one, first, rest = kept.value
    models = [first, rest["best"][0], rest["last"]]
    assert one == 1 and all(isinstance(m, KerasFile) and m.path.parent == caller.models for m in models)
    assert [m.path.read_bytes() for m in models] == [b"PK\x03\x04 model m0.keras", b"PK\x03\x04 model m1.keras",
                                                     b"PK\x03\x04 model m2.keras"]
    assert len({m.path for m in models}) == 3


def test_a_nested_model_linked_elsewhere_makes_the_answer_unsupported(tmp_path: Path) -> None:
    scratch = tmp_path / "work"
    folder = scratch / EXCHANGE / "0123abcd"
    folder.mkdir(parents=True)
    classmate = tmp_path / "classmate.keras"
    classmate.write_bytes(b"PK\x03\x04 a classmate's model")
    (folder / "m0.keras").symlink_to(classmate)
    caller = bare_caller(scratch, tmp_path / "models")
    kept = caller._keep_models(Answer("ok", [(KerasFile(folder / "m0.keras"),)]))
    assert kept.status == "unsupported" and kept.evalue.startswith("m0.keras is a symbolic link (to '/"), kept
    assert list(caller.models.iterdir()) == []


# --- end to end: a notebook that replaces its exchange folder by a link ---------------------------

# conv2d, when first called, moves .grader-exchange to trap/ and leaves a link in its place (its own
# calls still find their folders through it; the grader refuses their answers). conv2d_multi, graded
# next, checks that the grader did not write its call folders through the link into trap/: it
# answers correctly only if .grader-exchange is a real folder again and trap/ gained nothing.
RELINK = hostile_cells("exchange-relink", '''
import functools, os
_trap = {}

def _relinking(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if not _trap:
            _trap["blocked"] = True  # a mount point (the exchange tmpfs) cannot be moved: EBUSY
            os.rename(".grader-exchange", "trap")
            _trap["blocked"] = False
            os.symlink("trap", ".grader-exchange")
            _trap["folders"] = sorted(os.listdir("trap"))
        return function(*args, **kwargs)
    return wrapper

def _checking(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _trap.get("blocked"):
            return function(*args, **kwargs)
        if os.path.islink(".grader-exchange") or not os.path.isdir(".grader-exchange"):
            raise RuntimeError("the grader left the link in place")
        if sorted(os.listdir("trap")) != _trap.get("folders"):
            raise RuntimeError("the grader wrote through the link: " + repr(sorted(os.listdir("trap"))))
        return function(*args, **kwargs)
    return wrapper

conv2d = _relinking(conv2d)
conv2d_multi = _checking(conv2d_multi)
''')

FULL = example_scores("01-convolution")  # the baseline (a correct example) per question


def test_an_exchange_relinked_by_the_notebook_is_not_written_through(hostile_run: HostileRun) -> None:
    result = hostile_run.result(RELINK)
    assert not result.error, result.error
    # Where the grader may mount (root, as in CI), .grader-exchange is a tmpfs of its own and the
    # kernel cannot even move it (EBUSY); elsewhere the move works and the decoder refuses the link.
    # Either way conv2d alone fails, and the later questions' calls are not written through the link.
    assert question_failures(result, "conv2d") in (
        {("unsupported", "unsupported return value: the exchange folder .grader-exchange was replaced by a "
                         "symbolic link")},
        {("error", "OSError: [Errno 16] Device or resource busy: '.grader-exchange' -> 'trap'")})
    scores = result.question_scores()
    assert scores["conv2d"] < FULL["conv2d"]  # 0 through the link; the first group only where blocked
    assert {q: s for q, s in scores.items() if q != "conv2d"} == {q: s for q, s in FULL.items() if q != "conv2d"}, \
        (scores, {q: question_failures(result, q) for q in FULL})
    assert_unaffected(hostile_run)


def test_the_selfcheck_install_writes_through_no_link_of_the_students_folder(tmp_path: Path) -> None:
    """A student folder with ``selfcheck -> /abs/path/of/their/folder/own`` (kept: it stays inside
    their folder) or a ``selfcheck/`` whose files are such links: the grader installed the course's
    selfcheck package through them, into the submission folder outside the scratch folder."""
    from grader.course.config import load_config
    from grader.grade.workspace import copy_files, replace_selfcheck

    config = load_config(Path(__file__).resolve().parents[2] / "course.toml", environ={})
    for layout in ("folder link", "file links"):
        student = tmp_path / layout / "alice"
        (student / "own").mkdir(parents=True)
        (student / "own" / "keep.txt").write_text("mine", encoding="utf-8")
        if layout == "folder link":
            (student / "selfcheck").symlink_to(student / "own")
        else:
            (student / "selfcheck").mkdir()
            (student / "selfcheck" / "__init__.py").symlink_to(student / "own" / "keep.txt")
        scratch = tmp_path / layout / "scratch"
        scratch.mkdir()
        assert copy_files(student, scratch, 1024) is None
        replace_selfcheck(config, scratch)
        assert sorted(p.name for p in (student / "own").iterdir()) == ["keep.txt"]
        assert (student / "own" / "keep.txt").read_text(encoding="utf-8") == "mine"
        assert not (scratch / "selfcheck").is_symlink() and (scratch / "selfcheck" / "__init__.py").is_file()
        assert not (scratch / "selfcheck" / "__init__.py").is_symlink()
