"""Finding submissions: every layout, name recognition, unsafe zips, odd names and duplicates."""

from __future__ import annotations

import hashlib
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

from grader.course.assignments import course_assignments
from grader.intake.submissions import (
    Submission,
    Unrecognised,
    ZipLimits,
    find_submissions,
    recognise_assignment,
)

IDS = ("01-convolution", "02-pooling", "03-parameter-counting", "04-gender-cnn")
ASSIGNMENTS = {aid: course_assignments()[aid].aliases for aid in IDS}
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def notebook(path: Path, content: bytes = NOTEBOOK, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def find(root: Path, tmp_path: Path, **kwargs: object) -> tuple[list[Submission], list[Unrecognised]]:
    extract_to = tmp_path / "extracted"
    return find_submissions(root, ASSIGNMENTS, extract_to=extract_to, **kwargs)  # type: ignore[arg-type]


def found(submissions: list[Submission]) -> list[tuple[str, str, str]]:
    return [(s.student, s.assignment, s.source) for s in submissions]


# --- recognising assignments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("01-convolution", "01-convolution"),
        ("01-convolution.ipynb", "01-convolution"),
        ("01_convolution", "01-convolution"),
        ("01 Convolution", "01-convolution"),
        ("01-CONVOLUTION.IPYNB", "01-convolution"),
        ("01convolution", "01-convolution"),
        ("convolution", "01-convolution"),
        ("01", "01-convolution"),
        ("02", "02-pooling"),
        ("parameter-counting", "03-parameter-counting"),
        ("Parameter_Counting", "03-parameter-counting"),
        ("gender_cnn", "04-gender-cnn"),
        ("ＧＥＮＤＥＲ＿ＣＮＮ", "04-gender-cnn"),  # full-width, as typed with a Chinese IME
        ("卷积", "01-convolution"),
        ("池化", "02-pooling"),
        ("参数", "03-parameter-counting"),
        ("参数个数", "03-parameter-counting"),
        ("性别识别", "04-gender-cnn"),
        ("卷积作业", "01-convolution"),
        ("01-convolution (1)", "01-convolution"),
        ("01-convolution-Copy1", "01-convolution"),
        ("02_pooling - 副本", "02-pooling"),
        ("Copy of 02_pooling", "02-pooling"),
        ("my-pooling-final", "02-pooling"),
        ("1", None),  # only the number as the id writes it
        ("05", None),
        ("alice", None),
        ("", None),
        ("conv", None),
        ("卷积层参数", None),  # two assignments' keywords: ambiguous
        ("convolution-and-pooling", None),
        ("notes-01", None),  # a number inside a longer name is not enough
    ],
)
def test_recognise_assignment(name: str, expected: str | None) -> None:
    assert recognise_assignment(name, ASSIGNMENTS) == expected


def test_caller_aliases_and_shared_keys() -> None:
    assignments = {"01-convolution": ["hw1", "lab"], "02-pooling": ["hw2", "lab"]}
    assert recognise_assignment("HW1", assignments) == "01-convolution"
    assert recognise_assignment("hw_2", assignments) == "02-pooling"
    assert recognise_assignment("lab", assignments) is None, "an alias of two assignments is ambiguous"
    assert recognise_assignment("卷积", assignments) is None, "no Chinese keyword unless given"


def test_aliases_must_be_a_sequence_of_names() -> None:
    with pytest.raises(TypeError, match=r"aliases of '01-convolution' must be a sequence"):
        recognise_assignment("x", {"01-convolution": "卷积"})


def test_the_declarations_carry_the_course_keywords() -> None:
    assert ASSIGNMENTS["01-convolution"] == ("卷积",)
    assert "性别" in ASSIGNMENTS["04-gender-cnn"] and "参数" in ASSIGNMENTS["03-parameter-counting"]


# --- layouts -----------------------------------------------------------------------------------


def test_canonical_layout_ignores_junk(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    alice = notebook(root / "alice" / "01-convolution.ipynb", b"alice 1")
    notebook(root / "alice" / "02_Pooling.ipynb")
    notebook(root / "bob" / "卷积.ipynb")
    notebook(root / " carol " / "hw" / "03-parameter-counting.ipynb")  # deeper in the folder
    for junk in (
        "alice/.ipynb_checkpoints/01-convolution-checkpoint.ipynb",
        "__MACOSX/alice/._01-convolution.ipynb",
        "alice/._02_Pooling.ipynb",
        ".DS_Store",
        "alice/.DS_Store",
        "alice/faces.png",
        "bob/data.csv",
        "bob/__pycache__/x.ipynb",
    ):
        notebook(root / junk)
    submissions, unrecognised = find(root, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "alice/01-convolution.ipynb"),
        ("alice", "02-pooling", "alice/02_Pooling.ipynb"),
        ("bob", "01-convolution", "bob/卷积.ipynb"),
        ("carol", "03-parameter-counting", " carol /hw/03-parameter-counting.ipynb"),
    ]
    assert unrecognised == []
    assert submissions[0].path == alice.resolve()
    assert submissions[0].sha256 == hashlib.sha256(b"alice 1").hexdigest()


def test_flat_layout(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    for name in (
        "alice_01-convolution.ipynb",
        "bob-smith_01_convolution.ipynb",
        "张三_卷积.ipynb",
        "李四池化.ipynb",
        "carol_02.ipynb",
        "dave 03 Parameter Counting (1).ipynb",
        "01-convolution.ipynb",
        "erin_homework.ipynb",
        "erin-convolution-final.ipynb",
    ):
        notebook(root / name)
    submissions, unrecognised = find(root, tmp_path)
    assert [(s.student, s.assignment) for s in submissions] == [
        ("alice", "01-convolution"),
        ("bob-smith", "01-convolution"),
        ("carol", "02-pooling"),
        ("dave", "03-parameter-counting"),
        ("张三", "01-convolution"),
        ("李四", "02-pooling"),
    ]
    reasons = {u.path: u.reason for u in unrecognised}
    assert reasons.keys() == {"01-convolution.ipynb", "erin_homework.ipynb", "erin-convolution-final.ipynb"}
    assert reasons["01-convolution.ipynb"].startswith("no student name")
    assert "01-convolution, 02-pooling" in reasons["erin_homework.ipynb"]
    assert "with the assignment (01-convolution) at the end" in reasons["erin-convolution-final.ipynb"]


def test_class_zip_of_canonical_layout_in_a_wrapping_folder(tmp_path: Path) -> None:
    zip_path = make_zip(
        tmp_path / "class.zip",
        {
            "submissions/alice/01-convolution.ipynb": NOTEBOOK,
            "submissions/bob/02-pooling.ipynb": NOTEBOOK,
            "__MACOSX/submissions/alice/._01-convolution.ipynb": b"\0\5\26\7",
            "submissions/.DS_Store": b"junk",
        },
    )
    extract_to = tmp_path / "extracted"
    submissions, unrecognised = find(zip_path, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "class.zip:submissions/alice/01-convolution.ipynb"),
        ("bob", "02-pooling", "class.zip:submissions/bob/02-pooling.ipynb"),
    ]
    assert unrecognised == []
    assert all(s.path.is_relative_to(extract_to.resolve()) for s in submissions)
    assert all(s.path.read_bytes() == NOTEBOOK for s in submissions)
    assert not any(p.name == "__MACOSX" for p in extract_to.rglob("*")), "junk is not unpacked"


def test_class_zip_of_flat_layout(tmp_path: Path) -> None:
    entries = {"alice_01-convolution.ipynb": NOTEBOOK, "张三_池化.ipynb": NOTEBOOK}
    zip_path = make_zip(tmp_path / "class.zip", entries)
    submissions, unrecognised = find(zip_path, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "class.zip:alice_01-convolution.ipynb"),
        ("张三", "02-pooling", "class.zip:张三_池化.ipynb"),
    ]
    assert unrecognised == []


def test_one_student_zip_as_root_is_not_unwrapped(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "alice.zip", {"alice/01-convolution.ipynb": NOTEBOOK})
    submissions, _ = find(zip_path, tmp_path)
    assert found(submissions) == [("alice", "01-convolution", "alice.zip:alice/01-convolution.ipynb")]


def test_per_student_zips(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "alice.zip", {"01-convolution.ipynb": NOTEBOOK})
    make_zip(
        root / "bob.zip",
        {
            "bob/02-pooling.ipynb": NOTEBOOK,
            "__MACOSX/bob/._02-pooling.ipynb": b"\0\5\26\7",
            "bob/.ipynb_checkpoints/02-pooling-checkpoint.ipynb": NOTEBOOK,
        },
    )
    make_zip(root / "carol_03.zip", {"notebook.ipynb": NOTEBOOK})  # the zip's name gives the assignment
    make_zip(root / "dave" / "upload.zip", {"hw/性别识别.ipynb": NOTEBOOK})  # a zip in a student's folder
    submissions, unrecognised = find(root, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "alice.zip:01-convolution.ipynb"),
        ("bob", "02-pooling", "bob.zip:bob/02-pooling.ipynb"),
        ("carol", "03-parameter-counting", "carol_03.zip:notebook.ipynb"),
        ("dave", "04-gender-cnn", "dave/upload.zip:hw/性别识别.ipynb"),
    ]
    assert unrecognised == []


def test_class_zip_of_student_zips(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "build" / "alice.zip", {"01-convolution.ipynb": NOTEBOOK})
    zip_path = make_zip(tmp_path / "class.zip", {"alice.zip": inner.read_bytes(), "bob/02.ipynb": NOTEBOOK})
    submissions, unrecognised = find(zip_path, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "class.zip:alice.zip:01-convolution.ipynb"),
        ("bob", "02-pooling", "class.zip:bob/02.ipynb"),
    ]
    assert unrecognised == []


def test_assignment_folders(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    notebook(root / "01-convolution" / "alice.ipynb")
    notebook(root / "01-convolution" / "bob_01-convolution.ipynb")
    notebook(root / "01-convolution" / "01-convolution.ipynb")
    notebook(root / "池化" / "张三.ipynb")
    submissions, unrecognised = find(root, tmp_path)
    assert found(submissions) == [
        ("alice", "01-convolution", "01-convolution/alice.ipynb"),
        ("bob", "01-convolution", "01-convolution/bob_01-convolution.ipynb"),
        ("张三", "02-pooling", "池化/张三.ipynb"),
    ]
    assert [u.path for u in unrecognised] == ["01-convolution/01-convolution.ipynb"]


def test_force_assignment(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    notebook(root / "alice" / "notebook.ipynb")
    notebook(root / "bob" / "01-convolution.ipynb")
    notebook(root / "carol.ipynb")
    notebook(root / "dave_01-convolution.ipynb")
    submissions, unrecognised = find(root, tmp_path, force_assignment="02-pooling")
    assert [(s.student, s.assignment) for s in submissions] == [
        ("alice", "02-pooling"),
        ("bob", "02-pooling"),
        ("carol", "02-pooling"),
        ("dave", "02-pooling"),
    ]
    assert unrecognised == []
    with pytest.raises(ValueError, match=r"force_assignment='05-x' is not an assignment"):
        find(root, tmp_path, force_assignment="05-x")


def test_unrecognised_notebooks_and_handed_in_exports(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    notebook(root / "alice" / "01-convolution.ipynb")
    notebook(root / "alice" / "01-convolution.html")  # has the notebook too: not listed
    notebook(root / "alice" / "scratch.ipynb")
    notebook(root / "bob" / "02-pooling.pdf")  # only an export
    notebook(root / "bob" / "notes.txt")
    notebook(root / "carol_03.py")
    submissions, unrecognised = find(root, tmp_path)
    assert found(submissions) == [("alice", "01-convolution", "alice/01-convolution.ipynb")]
    reasons = {u.path: u.reason for u in unrecognised}
    assert reasons.keys() == {"alice/scratch.ipynb", "bob/02-pooling.pdf", "carol_03.py"}
    assert reasons["alice/scratch.ipynb"].startswith("cannot tell the assignment")
    assert reasons["bob/02-pooling.pdf"] == (
        "not a notebook (.pdf) and bob has no .ipynb for 02-pooling: ask for the .ipynb"
    )


def test_missing_or_wrong_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="submissions not found"):
        find(tmp_path / "nope", tmp_path)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(ValueError, match=r"must be a folder or a \.zip"):
        find(tmp_path / "x.txt", tmp_path)


def test_extract_folder_inside_the_submissions_is_not_scanned(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    make_zip(root / "alice.zip", {"01-convolution.ipynb": NOTEBOOK})
    first = find_submissions(root, ASSIGNMENTS, extract_to=root / "_unpacked")
    second = find_submissions(root, ASSIGNMENTS, extract_to=root / "_unpacked")
    assert found(first[0]) == found(second[0])
    assert found(first[0]) == [("alice", "01-convolution", "alice.zip:01-convolution.ipynb")]
    assert first[1] == second[1] == []


# --- unsafe zips -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "evil", ["../evil.ipynb", "alice/../../evil.ipynb", "/tmp/evil.ipynb", "..\\evil.ipynb", "C:/evil.ipynb"]
)
def test_zip_slip_is_refused(tmp_path: Path, evil: str) -> None:
    root = tmp_path / "subs"
    make_zip(root / "alice.zip", {"01-convolution.ipynb": NOTEBOOK, evil: NOTEBOOK})
    submissions, unrecognised = find(root, tmp_path)
    assert submissions == []
    assert len(unrecognised) == 1 and unrecognised[0].path == "alice.zip"
    assert "zip-slip" in unrecognised[0].reason
    assert not (tmp_path / "evil.ipynb").exists() and not (tmp_path / "extracted" / "evil.ipynb").exists()
    assert not list((tmp_path / "extracted").rglob("*.ipynb")), "nothing of a refused zip is unpacked"


def test_symlink_entry_is_refused(tmp_path: Path) -> None:
    zip_path = tmp_path / "subs" / "alice.zip"
    zip_path.parent.mkdir()
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("01-convolution.ipynb", NOTEBOOK)
        link = zipfile.ZipInfo("02-pooling.ipynb")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    submissions, unrecognised = find(zip_path.parent, tmp_path)
    assert submissions == []
    assert unrecognised == [
        Unrecognised("alice.zip", "entry '02-pooling.ipynb' is a symbolic link; nothing unpacked")
    ]


def test_zip_bomb_of_300_mb_is_refused_without_unpacking(tmp_path: Path) -> None:
    zip_path = tmp_path / "subs" / "bomb.zip"
    zip_path.parent.mkdir()
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("01-convolution.ipynb", "w", force_zip64=True) as entry:
            for _ in range(300):
                entry.write(zeros)
    assert zip_path.stat().st_size < 5 << 20
    submissions, unrecognised = find(zip_path.parent, tmp_path)
    assert not any(p.is_file() for p in (tmp_path / "extracted").rglob("*")), "refused before unpacking"
    assert submissions == []
    assert len(unrecognised) == 1 and "more than the per-file limit" in unrecognised[0].reason


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (ZipLimits(max_total_bytes=5000), "more than the limit of 5000 bytes"),
        (ZipLimits(max_file_bytes=1000), "more than the per-file limit of 1000"),
        (ZipLimits(max_files=2), "3 entries, more than the limit of 2"),
        (ZipLimits(max_ratio=2), "compressed"),
    ],
)
def test_zip_limits(tmp_path: Path, limits: ZipLimits, message: str) -> None:
    big = b"0" * (2 << 20) if "compressed" in message else b"x" * 2000
    make_zip(tmp_path / "subs" / "alice.zip", {"01.ipynb": big, "02.ipynb": big, "03.ipynb": big})
    submissions, unrecognised = find(tmp_path / "subs", tmp_path, zip_limits=limits)
    assert submissions == []
    assert len(unrecognised) == 1 and message in unrecognised[0].reason


def test_lying_sizes_in_the_directory_are_caught(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "subs" / "alice.zip", {"01-convolution.ipynb": b"y" * 4000})
    data = zip_path.read_bytes()
    # Shrink the declared size (4000 = 0x0fa0) in the local header and the central directory.
    patched = data.replace((4000).to_bytes(4, "little"), (40).to_bytes(4, "little"))
    assert patched != data
    zip_path.write_bytes(patched)
    submissions, unrecognised = find(tmp_path / "subs", tmp_path)
    assert submissions == [] and len(unrecognised) == 1
    assert unrecognised[0].path == "alice.zip"


def test_damaged_zip_and_encrypted_entry(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    notebook(root / "alice.zip", b"PK\3\4 this is not a zip")
    encrypted = make_zip(root / "bob.zip", {"01-convolution.ipynb": NOTEBOOK})
    data = bytearray(encrypted.read_bytes())
    data[6] |= 0x1  # general purpose flag of the local header: encrypted
    central = data.rfind(b"PK\1\2")
    data[central + 8] |= 0x1
    encrypted.write_bytes(bytes(data))
    _, unrecognised = find(root, tmp_path)
    reasons = {u.path: u.reason for u in unrecognised}
    assert reasons["alice.zip"].startswith("damaged or unsupported zip")
    assert "encrypted" in reasons["bob.zip"]


def test_zip_nesting_limit(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "build" / "inner.zip", {"01-convolution.ipynb": NOTEBOOK})
    make_zip(tmp_path / "subs" / "alice.zip", {"inner.zip": inner.read_bytes()})
    submissions, unrecognised = find(tmp_path / "subs", tmp_path, zip_limits=ZipLimits(max_nesting=1))
    assert submissions == []
    assert unrecognised == [Unrecognised("alice.zip:inner.zip", "zip nested more than 1 deep: not unpacked")]


# --- links and names ---------------------------------------------------------------------------


def test_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    outside = notebook(tmp_path / "secret" / "01-convolution.ipynb")
    inside = notebook(root / "alice" / "01-convolution.ipynb")
    (root / "bob").mkdir()
    (root / "bob" / "01-convolution.ipynb").symlink_to(outside)
    (root / "carol").symlink_to(outside.parent, target_is_directory=True)
    (root / "dave").mkdir()
    (root / "dave" / "02-pooling.ipynb").symlink_to(inside)
    (root / "erin").mkdir()
    (root / "erin" / "03.ipynb").symlink_to(root / "missing.ipynb")
    submissions, unrecognised = find(root, tmp_path)
    assert [(s.student, s.assignment) for s in submissions] == [
        ("alice", "01-convolution"),
        ("dave", "02-pooling"),
    ]
    assert {u.path: u.reason for u in unrecognised} == {
        "bob/01-convolution.ipynb": "symbolic link to outside the submissions folder: not followed",
        "carol": "symbolic link to outside the submissions folder: not followed",
        "erin/03.ipynb": "broken symbolic link",
    }


def test_non_utf8_names_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    root.mkdir()
    try:
        with open(os.fsencode(root) + b"/" + "张三_卷积.ipynb".encode("gbk"), "wb") as f:
            f.write(NOTEBOOK)
        os.mkdir(os.fsencode(root) + b"/" + "李四".encode("gbk"))
        with open(os.fsencode(root) + b"/" + "李四".encode("gbk") + b"/02.ipynb", "wb") as f:
            f.write(NOTEBOOK)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    submissions, unrecognised = find(root, tmp_path)
    assert found(submissions) == [
        ("张三", "01-convolution", "张三_卷积.ipynb"),
        ("李四", "02-pooling", "李四/02.ipynb"),
    ]
    assert unrecognised == []
    assert all(s.path.read_bytes() == NOTEBOOK for s in submissions)


def test_gbk_names_in_a_zip_without_the_utf8_flag(tmp_path: Path) -> None:
    # ASCII placeholders of the same length, replaced by the GBK bytes: no UTF-8 flag is set.
    names = {"张三/卷积.ipynb": "A", "李四_池化.ipynb": "B"}
    names = {name: letter * len(name.encode("gbk")) for name, letter in names.items()}
    zip_path = tmp_path / "class.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        for placeholder in names.values():
            zf.writestr(placeholder, NOTEBOOK)
    data = zip_path.read_bytes()
    for name, placeholder in names.items():
        data = data.replace(placeholder.encode(), name.encode("gbk"))
    zip_path.write_bytes(data)
    submissions, unrecognised = find(zip_path, tmp_path)
    assert found(submissions) == [
        ("张三", "01-convolution", "class.zip:张三/卷积.ipynb"),
        ("李四", "02-pooling", "class.zip:李四_池化.ipynb"),
    ]
    assert unrecognised == []


# --- duplicates --------------------------------------------------------------------------------


def test_duplicates_keep_the_most_recently_modified(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    now = time.time()
    notebook(root / "alice" / "01-convolution.ipynb", b"old", mtime=now - 100)
    notebook(root / "alice" / "01_Convolution (1).ipynb", b"new", mtime=now)
    notebook(root / "alice_01-convolution.ipynb", b"older", mtime=now - 200)
    submissions, unrecognised = find(root, tmp_path)
    assert [(s.student, s.source) for s in submissions] == [("alice", "alice/01_Convolution (1).ipynb")]
    assert submissions[0].sha256 == hashlib.sha256(b"new").hexdigest()
    assert [u.path for u in unrecognised] == ["alice/01-convolution.ipynb", "alice_01-convolution.ipynb"]
    assert all(
        u.reason == "duplicate: alice has another 01-convolution notebook, alice/01_Convolution (1).ipynb, "
        "kept because it was modified later"
        for u in unrecognised
    )


def test_duplicates_prefer_the_exact_name(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    now = time.time()
    notebook(root / "alice" / "01-convolution.ipynb", b"real", mtime=now - 100)
    notebook(root / "alice" / "convolution-scratch.ipynb", b"scratch", mtime=now)
    submissions, unrecognised = find(root, tmp_path)
    assert [s.source for s in submissions] == ["alice/01-convolution.ipynb"]
    assert unrecognised[0].path == "alice/convolution-scratch.ipynb"
    assert unrecognised[0].reason.endswith("kept because its name matches the assignment better")


def test_results_are_sorted_and_repeatable(tmp_path: Path) -> None:
    root = tmp_path / "subs"
    for student in ("zoe", "Bob", "amy", "张三"):
        for aid in reversed(IDS):
            notebook(root / student / f"{aid}.ipynb")
    make_zip(root / "carl.zip", {"01.ipynb": NOTEBOOK, "02.ipynb": NOTEBOOK})
    first, second = find(root, tmp_path), find(root, tmp_path)
    assert first == second
    keys = [(s.student, s.assignment) for s in first[0]]
    assert keys == sorted(keys) and len(keys) == 18
