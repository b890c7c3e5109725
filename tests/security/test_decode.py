"""grader.run.decode, the one trust boundary, on a temporary exchange folder (no kernel: fast).

Each attack a notebook cell can make on its exchange folder, or a nasty value its function can
return, gets its own test pinning the reason; the fuzz tests (hypothesis, derandomized, no example
database, so CI is deterministic) feed random bytes, mutated real ``np.save`` output, headers
claiming huge shapes and random nested JSON, and check the property that matters: an
:class:`Answer` comes back, nothing is raised, and a valid answer round-trips exactly.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.run import decode
from grader.run.decode import MAX_ARRAY_BYTES, MAX_MODEL_BYTES, Answer, KerasFile, keep_model, read_answer

FUZZ = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FUZZ_STRUCTURED = settings(FUZZ, max_examples=500)  # drawing arrays and nested values costs more


class Exchange:
    """``<scratch>/.grader-exchange/<call>``, as grader.run.harness.write_call makes it."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.folder = scratch / ".grader-exchange" / "0123abcd"
        self.folder.mkdir(parents=True)

    def record(self, record: Any) -> None:
        self.write("answer.json", json.dumps(record).encode())

    def value(self, value: Any) -> None:
        self.record({"status": "ok", "value": value})

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_bytes(data)
        return path

    def array(self, array: np.ndarray, name: str = "r0.npy") -> None:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        self.write(name, buffer.getvalue())
        self.value({"__ndarray__": name})

    def read(self) -> Answer:
        return read_answer(self.folder, within=self.scratch)


@pytest.fixture
def ex(tmp_path: Path) -> Exchange:
    return Exchange(tmp_path / "work")


def unsupported(answer: Answer) -> str:
    assert answer.status == "unsupported", answer
    return answer.evalue


def npy_bytes(header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    """A .npy file with this header dict text, padded as numpy pads it."""
    size = 2 if version == (1, 0) else 4
    raw = header.encode("latin1")
    raw += b" " * ((-(len(raw) + 11 + size - 1)) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + len(raw).to_bytes(size, "little") + raw + data


# --- valid answers round-trip --------------------------------------------------------------------


@pytest.mark.parametrize("array", [
    np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4).T, np.zeros((0, 5)), np.array(7, np.int16),
    np.array([True, False]), np.arange(6, dtype=np.uint64), np.float32([1.5, -2]), np.float16([0.5]),
    np.array([np.nan, np.inf, -np.inf]),
])
def test_a_valid_array_round_trips(ex: Exchange, array: np.ndarray) -> None:
    ex.array(array)
    answer = ex.read()
    assert answer.status == "ok", answer
    assert answer.value.dtype == array.dtype and answer.value.shape == array.shape
    np.testing.assert_array_equal(answer.value, array)
    assert answer.value.flags.writeable and answer.value.flags.c_contiguous


def test_containers_numbers_and_strings_round_trip(ex: Exchange) -> None:
    np.save(ex.folder / "r0.npy", np.ones(3))
    ex.value({"__tuple__": [{"__ndarray__": "r0.npy"}, [1, 2.5, None, True], {"__dict__": {"a": "text"}},
                            {"__float__": "nan"}, -(10**300)]})
    value = ex.read().value
    assert isinstance(value, tuple) and value[1:3] == ([1, 2.5, None, True], {"a": "text"})
    assert math.isnan(value[3]) and value[4] == -(10**300)
    np.testing.assert_array_equal(value[0], np.ones(3))


def test_big_endian_arrays_become_native(ex: Exchange) -> None:
    ex.array(np.arange(4, dtype=">f8"))
    value = ex.read().value
    assert value.dtype == np.float64 and value.dtype.isnative and value.tolist() == [0, 1, 2, 3]


def test_bools_are_zero_or_one_whatever_the_byte(ex: Exchange) -> None:
    ex.write("r0.npy", npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b"\x00\x02\xff"))
    ex.value({"__ndarray__": "r0.npy"})
    assert ex.read().value.tolist() == [False, True, True]


def test_a_long_double_that_fits_becomes_float64(ex: Exchange) -> None:
    ex.array(np.array([1e300, -2.5, np.inf], np.longdouble))
    value = ex.read().value
    assert value.dtype == np.float64 and value.tolist() == [1e300, -2.5, np.inf]


def test_status_records_pass_through(ex: Exchange) -> None:
    ex.record({"status": "error", "ename": "ValueError", "evalue": "x" * 5000, "traceback": "tb"})
    answer = ex.read()
    assert (answer.status, answer.ename, len(answer.evalue), answer.traceback) == ("error", "ValueError", 2000, "tb")
    ex.record({"status": "timeout"})
    assert ex.read().status == "timeout"
    ex.record({"status": "missing"})
    assert ex.read().status == "missing"


def test_no_answer_is_lost(ex: Exchange) -> None:
    assert ex.read().status == "lost"
    (ex.folder / "call.json").write_text("{}")
    ex.folder.rename(ex.folder.with_name("elsewhere"))
    assert ex.read().status == "lost"


# --- the attacks ---------------------------------------------------------------------------------


def test_empty_npy(ex: Exchange) -> None:
    ex.write("r0.npy", b"")
    ex.value({"__ndarray__": "r0.npy"})
    assert unsupported(ex.read()) == "r0.npy is empty"


def test_npz_under_the_npy_name(ex: Exchange) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, a=np.ones(3))
    ex.write("r0.npy", buffer.getvalue())
    ex.value({"__ndarray__": "r0.npy"})
    assert unsupported(ex.read()) == "r0.npy is a zip archive (an .npz?), not a .npy file"


def test_header_claiming_a_trillion_values_is_refused_before_allocating(ex: Exchange) -> None:
    ex.write("r0.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                                 b"\0" * 64))
    ex.value({"__ndarray__": "r0.npy"})
    assert unsupported(ex.read()) == ("r0.npy: the header claims 1,000,000,000,000 values (7.3 TB); "
                                      "the limit is 64 MB")


def test_header_and_data_must_agree(ex: Exchange) -> None:
    ex.write("r0.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", b"\0" * 24))
    ex.value({"__ndarray__": "r0.npy"})
    assert unsupported(ex.read()) == ("r0.npy: the header claims 4 values (32 bytes) but the file holds "
                                      "24 bytes of data")


@pytest.mark.parametrize(("header", "reason"), [
    ("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "r0.npy: an array of dtype '|O' (only numbers are graded)"),
    ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }",
     "r0.npy: the .npy header is not numpy's header of a plain array"),
    ("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", "r0.npy: an array of dtype '<U3' (only numbers are graded)"),
    ("{'descr': '<M8[s]', 'fortran_order': False, 'shape': (1,), }",
     "r0.npy: an array of dtype '<M8[s]' (only numbers are graded)"),
    ("{'descr': '|V8', 'fortran_order': False, 'shape': (1,), }", "r0.npy: an array of dtype '|V8' (only numbers are graded)"),
    ("{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }", "r0.npy: the .npy header names an unknown dtype '<f3'"),
    ("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
     "r0.npy: complex numbers are not graded (an array of dtype '<c16')"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (" + ", ".join(["1"] * 40) + "), }",
     "r0.npy: the header claims 40 dimensions; the limit is 32"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 10000000000000000000000), }",
     "r0.npy: the header claims the shape (0, 10000000000000000000000)"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
     "r0.npy: the .npy header is not numpy's header of a plain array"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }" + " " * 5000,
     "r0.npy: the .npy header is 5,109 bytes long; a plain array's is about 128"),
])
def test_dtypes_and_shapes_that_are_not_plain_numbers(ex: Exchange, header: str, reason: str) -> None:
    ex.write("r0.npy", npy_bytes(header, b"\0" * 16))
    ex.value({"__ndarray__": "r0.npy"})
    assert unsupported(ex.read()) == reason


def test_unreadable_headers(ex: Exchange) -> None:
    ex.value({"__ndarray__": "r0.npy"})
    plain = "r0.npy: the .npy header is not numpy's header of a plain array"
    ex.write("r0.npy", npy_bytes("{'descr': '<f8', 'shape': (1,), }", b"\0" * 8))
    assert unsupported(ex.read()) == plain
    ex.write("r0.npy", npy_bytes("__import__('os').system('true')", b"\0" * 8))
    assert unsupported(ex.read()) == plain
    ex.write("r0.npy", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8, (3, 0)))
    assert unsupported(ex.read()) == "r0.npy: .npy format version 3.0 is not read (only 1.0 and 2.0)"
    ex.write("r0.npy", b"\x93NUMPY\x01\x00\xff\x0f{'descr'")
    assert unsupported(ex.read()) == "r0.npy: the file ends inside the .npy header"
    ex.write("r0.npy", b"hello world")
    assert unsupported(ex.read()) == "r0.npy is not a .npy file (it starts with b'hello wo')"


def test_npy_version_2_is_read(ex: Exchange) -> None:
    ex.write("r0.npy", npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                 np.int32([5, 6]).tobytes(), (2, 0)))
    ex.value({"__ndarray__": "r0.npy"})
    assert ex.read().value.tolist() == [5, 6]


def test_answer_json_nested_200000_levels_deep(ex: Exchange) -> None:
    ex.write("answer.json", b'{"status": "ok", "value": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    assert unsupported(ex.read()) == "answer.json: nested 200,001 levels deep; the limit is 68"


def test_brackets_inside_strings_are_not_nesting(ex: Exchange) -> None:
    ex.value('[{"\\"' * 1000)
    assert ex.read().value == '[{"\\"' * 1000


def test_value_nested_beyond_the_limit(ex: Exchange) -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    ex.value(value)
    assert unsupported(ex.read()) == "answer.json: a value nested more than 32 levels deep"


@pytest.mark.parametrize("number", [10**400, -(10**400), 2**1024])
def test_integers_beyond_float64(ex: Exchange, number: int) -> None:
    ex.value(number)
    digits = len(str(abs(number)))
    assert unsupported(ex.read()) == (f"answer.json: an integer of {digits} digits; numbers beyond ±1.8e+308 "
                                      "(the float64 range) cannot be compared")


@pytest.mark.parametrize("literal", [b"1e400", b"-1.8e308", b"[0.5, 2e999]"])
def test_float_literals_beyond_float64(ex: Exchange, literal: bytes) -> None:
    """The harness writes infinity as a record; a literal beyond the range was read as one anyway."""
    ex.write("answer.json", b'{"status": "ok", "value": ' + literal + b"}")
    assert "beyond ±1.8e+308 (the float64 range) and cannot be compared" in unsupported(ex.read())


def test_an_integer_of_a_million_digits_costs_nothing(ex: Exchange) -> None:
    """Turning decimal digits into an int costs quadratic time in their number: the decoder counts
    the digits and refuses without converting them. Checked by outcome, not by a clock: with
    CPython's cap on conversions at its lowest (640 digits) a conversion of the million would raise
    ValueError and the answer would read "could not be read (ValueError)" instead."""
    saved = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    try:
        ex.write("answer.json", b'{"status": "ok", "value": [12, ' + b"9" * 1_000_000 + b"]}")
        assert unsupported(ex.read()) == ("answer.json: an integer of 1,000,000 digits; numbers beyond "
                                          "\u00b11.8e+308 (the float64 range) cannot be compared")
        ex.value([12, 10**300])  # 301 digits: within float64's range, converted and kept exactly
        assert ex.read().value == [12, 10**300]
    finally:
        sys.set_int_max_str_digits(saved)


def test_long_double_beyond_float64(ex: Exchange) -> None:
    ex.array(np.array([1.0, np.longdouble("-1e4000")], np.longdouble))
    assert unsupported(ex.read()) == ("r0.npy: values beyond the float64 range (the largest is 1e+4000); "
                                      "numbers that large cannot be compared")


def test_complex_arrays(ex: Exchange) -> None:
    ex.array(np.array([1 + 2j]))
    assert unsupported(ex.read()) == "r0.npy: complex numbers are not graded (an array of dtype '<c16')"


def test_nan_literals_strings_and_malformed_records(ex: Exchange) -> None:
    ex.write("answer.json", b'{"status": "ok", "value": NaN}')
    assert unsupported(ex.read()).startswith("answer.json: the literal NaN is not JSON")
    ex.value("x" * 100_001)
    assert unsupported(ex.read()) == "answer.json: a string of 100,001 characters; the limit is 100,000"
    ex.value({"__ndarray__": "r0.npy", "extra": 1})
    assert unsupported(ex.read()) == "answer.json: a malformed answer record"
    ex.record(["status", "ok"])
    assert unsupported(ex.read()) == "answer.json does not hold an answer record"
    ex.record({"status": "ok"})
    assert unsupported(ex.read()) == "answer.json: an ok record without a value"
    ex.record({"status": "passed"})
    assert unsupported(ex.read()) == "answer.json: unknown answer status 'passed'"
    ex.write("answer.json", b"")
    assert unsupported(ex.read()) == "answer.json is empty"
    ex.write("answer.json", b'{"status": \xff}')
    assert unsupported(ex.read()) == "answer.json is not UTF-8 text (byte 11)"
    ex.write("answer.json", b'{"status": ')
    assert unsupported(ex.read()).startswith("answer.json is not valid JSON: Expecting value at line 1")


@pytest.mark.parametrize("name", ["../r0.npy", "/etc/passwd", "evil.pkl", ".r0.npy", "a0.npy", 7, None])
def test_array_references_must_be_the_harness_names(ex: Exchange, name: Any) -> None:
    np.save(ex.folder / "r0.npy", np.ones(1))
    ex.value({"__ndarray__": name})
    assert unsupported(ex.read()) == f"answer.json: bad array reference {name!r}"


def test_one_file_referred_to_many_times_is_refused(ex: Exchange) -> None:
    np.save(ex.folder / "r0.npy", np.ones(1))
    ex.value([{"__ndarray__": "r0.npy"}] * 1000)
    assert unsupported(ex.read()) == "answer.json: r0.npy is referred to twice"


def test_the_arrays_of_one_answer_have_a_budget(ex: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode, "MAX_ANSWER_BYTES", 100)
    for i in range(2):
        np.save(ex.folder / f"r{i}.npy", np.ones(8))
    ex.value([{"__ndarray__": "r0.npy"}, {"__ndarray__": "r1.npy"}])
    assert unsupported(ex.read()) == "r1.npy: the answer's arrays exceed 100 bytes together"


def test_a_missing_array(ex: Exchange) -> None:
    ex.value({"__ndarray__": "r3.npy"})
    assert unsupported(ex.read()) == "r3.npy is missing"


# --- what a file is ------------------------------------------------------------------------------


FILE_ATTACKS = ["symlink-passwd", "symlink-classmate", "fifo", "hardlink", "folder", "socket"]


def plant(ex: Exchange, name: str, attack: str) -> None:
    """Replace the exchange file ``name`` by the attack's kind of file."""
    path = ex.folder / name
    if path.is_symlink() or path.is_file():
        path.unlink()
    outside = ex.scratch.parent / "classmate"
    outside.mkdir(exist_ok=True)
    if attack == "symlink-passwd":
        path.symlink_to("/etc/passwd")
    elif attack == "symlink-classmate":
        target = outside / name
        target.write_bytes((ex.folder / "call.json").read_bytes() if name == "answer.json" else b"PK\x03\x04")
        path.symlink_to(target)
    elif attack == "fifo":
        os.mkfifo(path)
    elif attack == "hardlink":
        (outside / "linked").write_bytes(b"{}")
        os.link(outside / "linked", path)
    elif attack == "folder":
        path.mkdir()
    elif attack == "socket":
        import socket
        import tempfile

        # Bound at a short path, then moved in: a socket's path has at most 107 bytes, fewer than
        # pytest's folders can take under xdist (…/popen-gw0/test_…0/work/.grader-exchange/r0.npy).

        with tempfile.TemporaryDirectory() as short, socket.socket(socket.AF_UNIX) as sock:
            sock.bind(os.path.join(short, "s"))
            os.rename(os.path.join(short, "s"), path)


REASONS = {
    "symlink-passwd": "{name} is a symbolic link (to '/etc/passwd'), not a file: only files the call wrote are read",
    "fifo": "{name} is a named pipe (FIFO), not a file: only files the call wrote are read",
    "hardlink": "{name} has 2 hard links: only a file the call wrote itself is read",
    "folder": "{name} is a folder, not a file: only files the call wrote are read",
    "socket": "{name} is a socket, not a file: only files the call wrote are read",
}


T = TypeVar("T")
HANG_GUARD = 120  # seconds; never reached by a reader that does not block: it only keeps the suite from hanging


def returns_unblocked(read: Callable[[], T], planted: Path) -> T:
    """``read()``, run in a thread that must end by itself. A named pipe with no writer blocks
    whoever opens it for reading (without O_NONBLOCK) until a writer comes, and here none ever
    comes, so a reader that opened it never returns: the verdict is whether the thread ended, not
    how fast. On a hang the pipe is opened for writing, releasing the reader, and the test fails."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = read()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    blocked = thread.is_alive()
    if blocked and stat.S_ISFIFO(os.lstat(planted).st_mode):
        os.close(os.open(planted, os.O_WRONLY | os.O_NONBLOCK))  # the reader's open returns
        thread.join(HANG_GUARD)
    assert not blocked, f"reading {planted.name} blocked (a pipe must not block the reader)"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.parametrize("attack", FILE_ATTACKS)
@pytest.mark.parametrize("name", ["answer.json", "r0.npy"])
def test_only_regular_files_are_read(ex: Exchange, attack: str, name: str) -> None:
    (ex.folder / "call.json").write_text('{"status": "ok", "value": 1}')
    ex.array(np.ones(2))
    plant(ex, name, attack)
    reason = unsupported(returns_unblocked(ex.read, ex.folder / name))
    if attack == "symlink-classmate":
        assert reason.startswith(f"{name} is a symbolic link (to '/"), reason
    else:
        assert reason == REASONS[attack].format(name=name)


def test_the_exchange_folder_replaced_by_a_link(ex: Exchange, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / ".grader-exchange" / "0123abcd"
    elsewhere.mkdir(parents=True)
    (elsewhere / "answer.json").write_text('{"status": "ok", "value": 100}')
    ex.folder.rmdir()
    ex.folder.symlink_to(elsewhere)
    assert unsupported(ex.read()) == "the exchange folder 0123abcd was replaced by a symbolic link"
    ex.folder.unlink()
    ex.folder.parent.rmdir()
    ex.folder.parent.symlink_to(elsewhere.parent)
    assert unsupported(ex.read()) == "the exchange folder .grader-exchange was replaced by a symbolic link"
    ex.folder.parent.unlink()
    ex.folder.parent.write_text("")
    assert unsupported(ex.read()) == ("the exchange folder .grader-exchange was replaced by something that is not "
                                      "a folder")


def test_an_unforeseen_exception_is_an_unsupported_value(ex: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the decoder")

    monkeypatch.setattr(decode, "_load_json", broken)
    ex.value(1)
    assert unsupported(ex.read()) == "answer.json could not be read (RuntimeError)"
    monkeypatch.setattr(decode, "_load_json", lambda data: (_ for _ in ()).throw(MemoryError()))
    assert unsupported(ex.read()) == "answer.json could not be read (MemoryError)"


# --- models --------------------------------------------------------------------------------------

KERAS = b"PK\x03\x04" + b"model bytes" * 1000


@pytest.fixture
def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def test_a_model_answer_is_referenced_then_copied(ex: Exchange, models: Path) -> None:
    ex.write("m0.keras", KERAS)
    ex.value({"__keras__": "m0.keras"})
    answer = ex.read()
    assert answer.value == KerasFile(ex.folder / "m0.keras")
    kept = keep_model(answer.value.path, models / "model0.keras", within=ex.scratch)
    assert kept == KerasFile(models / "model0.keras")
    assert kept.path.read_bytes() == KERAS and not kept.path.is_symlink() and kept.path.stat().st_nlink == 1
    (ex.folder / "m0.keras").write_bytes(b"changed later")
    assert kept.path.read_bytes() == KERAS, "a private copy, not a link"


@pytest.mark.parametrize("attack", FILE_ATTACKS)
def test_a_model_must_be_a_regular_file(ex: Exchange, models: Path, attack: str) -> None:
    ex.write("m0.keras", KERAS)
    plant(ex, "m0.keras", attack)
    kept = returns_unblocked(lambda: keep_model(ex.folder / "m0.keras", models / "model0.keras", within=ex.scratch),
                             ex.folder / "m0.keras")
    reason = unsupported(kept)  # type: ignore[arg-type]
    if attack == "symlink-classmate":
        assert reason.startswith("m0.keras is a symbolic link (to '/"), reason
    else:
        assert reason == REASONS[attack].format(name="m0.keras")
    assert not (models / "model0.keras").exists()
    ex.value({"__keras__": "m0.keras"})  # read_answer already refuses the reference
    assert unsupported(ex.read()) == reason


def test_an_oversized_model_is_refused_without_reading_it(ex: Exchange, models: Path) -> None:
    with open(ex.folder / "m0.keras", "wb") as f:
        f.truncate(MAX_MODEL_BYTES + 1)  # sparse: no disk, no time
    kept = keep_model(ex.folder / "m0.keras", models / "model0.keras", within=ex.scratch)
    assert unsupported(kept) == "m0.keras is 256 MB; the limit is 256 MB"  # type: ignore[arg-type]
    assert not (models / "model0.keras").exists()


def test_a_model_that_is_not_a_keras_file(ex: Exchange, models: Path) -> None:
    ex.write("m0.keras", b"")
    assert unsupported(keep_model(ex.folder / "m0.keras", models / "a.keras")) == "m0.keras is empty"  # type: ignore[arg-type]
    ex.write("m0.keras", b"not a zip")
    assert unsupported(keep_model(ex.folder / "m0.keras", models / "a.keras")) == (  # type: ignore[arg-type]
        "m0.keras is not a .keras file (it starts with b'not a zi')")
    assert not (models / "a.keras").exists()
    assert unsupported(keep_model(ex.folder / "m9.keras", models / "a.keras")) == "m9.keras is missing"  # type: ignore[arg-type]


def test_a_model_copy_never_overwrites(ex: Exchange, models: Path) -> None:
    ex.write("m0.keras", KERAS)
    (models / "model0.keras").write_bytes(b"kept before")
    kept = keep_model(ex.folder / "m0.keras", models / "model0.keras", within=ex.scratch)
    assert kept.status == "unsupported"  # type: ignore[union-attr]
    assert (models / "model0.keras").read_bytes() == b"kept before"


# --- fuzz ----------------------------------------------------------------------------------------


@pytest.fixture
def fuzz(tmp_path: Path) -> Iterator[Exchange]:
    yield Exchange(tmp_path / "fuzz")


def never_raises(ex: Exchange) -> Answer:
    answer = ex.read()
    assert isinstance(answer, Answer)
    assert answer.status in ("ok", "unsupported", "error", "missing", "timeout", "lost")
    assert "could not be read" not in answer.evalue, answer.evalue  # the guard is for bugs, not inputs
    return answer


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_as_answer_json(fuzz: Exchange, data: bytes) -> None:
    fuzz.write("answer.json", data)
    never_raises(fuzz)


@FUZZ
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_as_npy(fuzz: Exchange, data: bytes) -> None:
    fuzz.write("r0.npy", data)
    fuzz.value({"__ndarray__": "r0.npy"})
    never_raises(fuzz)


NUMERIC = st.sampled_from(["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", ">f8", "<i4"])
ARRAYS = NUMERIC.flatmap(lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=4,
                                                                                      min_side=0, max_side=5)))
MUTATION = st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate", "none"]),
                     st.integers(0, 10_000), st.integers(0, 255))


def mutate(data: bytes, mutation: tuple[str, int, int]) -> bytes:
    kind, at, byte = mutation
    at %= len(data) + 1
    if kind == "flip" and at < len(data):
        return data[:at] + bytes([data[at] ^ (byte or 1)]) + data[at + 1:]
    if kind == "insert":
        return data[:at] + bytes([byte]) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + 1:]
    if kind == "truncate":
        return data[:at]
    return data


@FUZZ_STRUCTURED
@given(ARRAYS, st.booleans(), MUTATION)
def test_fuzz_mutated_npy_files(fuzz: Exchange, array: np.ndarray, fortran: bool, mutation: tuple[str, int, int]) -> None:
    buffer = io.BytesIO()
    array = np.asfortranarray(array) if fortran else array  # (0-d becomes 1-d)
    np.save(buffer, array, allow_pickle=False)
    original = buffer.getvalue()
    data = mutate(original, mutation)
    fuzz.write("r0.npy", data)
    fuzz.value({"__ndarray__": "r0.npy"})
    answer = never_raises(fuzz)
    if data == original:  # a valid array round-trips exactly (a native copy of it)
        assert answer.status == "ok", answer
        assert answer.value.shape == array.shape and answer.value.dtype == array.dtype.newbyteorder("=")
        np.testing.assert_array_equal(answer.value, array)


@FUZZ
@given(st.lists(st.integers(-2, 2**70), max_size=6), st.sampled_from(["<f8", "|u1", "<f16", "<c8", "|O"]),
       st.integers(0, 256))
def test_fuzz_headers_claiming_any_shape(fuzz: Exchange, shape: list[int], descr: str, data: int) -> None:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    fuzz.write("r0.npy", npy_bytes(header, b"\x01" * data))
    fuzz.value({"__ndarray__": "r0.npy"})
    answer = never_raises(fuzz)
    claimed = math.prod(shape) * np.dtype(descr).itemsize if all(n >= 0 for n in shape) else -1
    if answer.status == "ok":
        assert claimed == data and answer.value.shape == tuple(shape)
    else:
        assert claimed != data or descr in ("<c8", "|O") or math.prod(n for n in shape if n) > MAX_ARRAY_BYTES


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=30)


def harness_encode(value: Any) -> Any:
    """What the kernel's harness writes for a plain value (grader/run/harness.py, encode)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [harness_encode(v) for v in value]}
    if isinstance(value, list):
        return [harness_encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {k: harness_encode(v) for k, v in value.items()}}
    return value


def depth(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


@FUZZ_STRUCTURED
@given(PLAIN)
def test_fuzz_plain_values_round_trip(fuzz: Exchange, value: Any) -> None:
    fuzz.value(harness_encode(value))
    answer = never_raises(fuzz)
    assert answer.status == "ok", answer
    assert answer.value == value


@FUZZ_STRUCTURED
@given(st.recursive(st.none() | st.integers() | st.text(max_size=4) | st.just("__ndarray__"),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["__tuple__", "__dict__", "__float__", "__ndarray__", "__keras__", "x"]),
                        inner, max_size=2),
                    max_leaves=40),
       st.integers(0, 100))
def test_fuzz_random_records(fuzz: Exchange, value: Any, extra_depth: int) -> None:
    for _ in range(extra_depth):
        value = [value]
    fuzz.record({"status": "ok", "value": value})
    answer = never_raises(fuzz)
    if answer.status == "ok":
        assert depth(answer.value) <= decode.MAX_DEPTH + 1


# --- watched inner calls (grader.grade.calls: the evidence of an inherited mistake) -------------------


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_inner_calls_come_back_decoded_like_the_answer(ex: Exchange) -> None:
    ex.write("r0.npy", _npy(np.ones((2, 2))))
    ex.write("r1.npy", _npy(np.arange(4.0).reshape(2, 2)))
    ex.write("r2.npy", _npy(np.eye(2)))
    ex.record({"status": "ok", "value": {"__ndarray__": "r0.npy"}, "inner": [
        {"function": "conv2d", "args": [{"__ndarray__": "r1.npy"}, 3], "kwargs": {"__dict__": {"mode": "valid"}},
         "value": {"__ndarray__": "r2.npy"}}]})
    answer = read_answer(ex.folder, within=ex.scratch)
    assert answer.status == "ok" and np.array_equal(answer.value, np.ones((2, 2)))
    [call] = answer.inner
    assert (call.function, call.args[1], dict(call.kwargs)) == ("conv2d", 3, {"mode": "valid"})
    assert np.array_equal(call.args[0], np.arange(4.0).reshape(2, 2)) and np.array_equal(call.value, np.eye(2))


@pytest.mark.parametrize("inner", [
    "not a list",
    [{"function": "os.system", "args": [], "kwargs": {"__dict__": {}}, "value": 1}],
    [{"function": "f", "args": {"__tuple__": []}, "kwargs": {"__dict__": {}}, "value": 1}],
    [{"function": "f", "args": [{"__ndarray__": "../r0.npy"}], "kwargs": {"__dict__": {}}, "value": 1}],
    [{"function": "f", "args": [{"__ndarray__": "r0.npy"}], "kwargs": {"__dict__": {}}, "value": 1}],  # reused name
    [{"function": "f", "args": [], "kwargs": {"__dict__": {}}, "value": {"__pickle__": "x"}}],
])
def test_a_refused_inner_call_drops_the_evidence_never_the_answer(ex: Exchange, inner: Any) -> None:
    ex.write("r0.npy", _npy(np.ones(3)))
    ex.record({"status": "ok", "value": {"__ndarray__": "r0.npy"}, "inner": inner})
    answer = read_answer(ex.folder, within=ex.scratch)
    assert answer.status == "ok" and np.array_equal(answer.value, np.ones(3)) and answer.inner == ()
