"""The synthetic face dataset (grader.course.faces): format, determinism, splits, and no colour shortcut."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.course import faces
from grader.course.faces import CSV_NAME, IMAGE_DIR, SPLITS, ensure_faces, generate_faces
from grader.course.reference.gender import load_faces

NAME = re.compile(r"^[mf]\d{4}\.jpg$")


def read_rows(split_dir: Path) -> tuple[list[str], list[tuple[str, str]]]:
    with (split_dir / CSV_NAME).open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [(row[0], row[1]) for row in reader]


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def default_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default synthetic set (800 + 300 images, 64 px), generated once. How long that takes (the
    README's "in seconds") is measured by ``make bench`` (its faces part), not here."""
    root = tmp_path_factory.mktemp("faces_default")
    generate_faces(root)
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces_tiny")
    generate_faces(root, n_train=9, n_heldout=4, size=48, seed=11)
    return root


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_faces(tmp_path / "a", n_train=6, n_heldout=4, seed=3)
    generate_faces(tmp_path / "b", n_train=6, n_heldout=4, seed=3)
    a, b = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert len(a) == 2 + 6 + 4
    assert a == b


def test_different_seed_gives_different_images(tmp_path: Path) -> None:
    generate_faces(tmp_path / "a", n_train=6, n_heldout=4, seed=3)
    generate_faces(tmp_path / "b", n_train=6, n_heldout=4, seed=4)
    a, b = all_files(tmp_path / "a"), all_files(tmp_path / "b")
    assert a[f"train/{CSV_NAME}"] != b[f"train/{CSV_NAME}"]
    common = set(a) & set(b) - {f"{s}/{CSV_NAME}" for s in SPLITS}
    assert all(a[name] != b[name] for name in common)


def test_format_of_each_split(tiny: Path) -> None:
    for split, n in (("train", 9), ("heldout", 4)):
        header, rows = read_rows(tiny / split)
        assert header == ["Filename", "Rating"]
        assert len(rows) == n
        names = [name for name, _ in rows]
        assert all(NAME.match(name) for name in names), names
        # exactly the listed images, no temporary files left behind
        assert sorted(p.name for p in (tiny / split / IMAGE_DIR).iterdir()) == sorted(names)
        n_female = sum(name.startswith("f") for name in names)
        assert abs(n_female - (n - n_female)) <= 1  # balanced
        for name, rating in rows:
            assert 1.0 <= float(rating) <= 5.0
            with Image.open(tiny / split / IMAGE_DIR / name) as img:
                assert img.format == "JPEG"
                assert img.mode == "RGB"
                assert img.size == (48, 48)


def test_splits_are_separate_folders_with_disjoint_names(tiny: Path) -> None:
    _, train = read_rows(tiny / "train")
    _, heldout = read_rows(tiny / "heldout")
    train_names = {name for name, _ in train}
    heldout_names = {name for name, _ in heldout}
    assert not train_names & heldout_names
    # numbered consecutively: train 1..9, held-out 10..13
    assert sorted(int(n[1:5]) for n in train_names) == list(range(1, 10))
    assert sorted(int(n[1:5]) for n in heldout_names) == list(range(10, 14))
    assert not (tiny / "train" / IMAGE_DIR / next(iter(heldout_names))).exists()


def test_default_set_is_balanced_and_shuffled(default_faces: Path) -> None:
    root = default_faces
    for split, n in (("train", faces.DEFAULT_N_TRAIN), ("heldout", faces.DEFAULT_N_HELDOUT)):
        _, rows = read_rows(root / split)
        labels = [name[0] for name, _ in rows]
        assert len(labels) == n
        assert labels.count("f") == labels.count("m") == n // 2
        assert labels != sorted(labels) and labels != sorted(labels, reverse=True)
        runs = 1 + sum(a != b for a, b in zip(labels, labels[1:]))
        assert runs > n // 4  # a shuffled sequence has about n/2 runs; a sorted one has 2


def test_rating_does_not_reveal_gender(default_faces: Path) -> None:
    root = default_faces
    _, rows = read_rows(root / "train")
    ratings = np.array([float(r) for _, r in rows])
    female = np.array([name[0] == "f" for name, _ in rows])
    assert 0.5 < ratings.std() < 1.0  # spread over the scale, not constant
    # 400 per class, rating sd ~0.72: the standard error of a mean difference is ~0.05
    assert abs(ratings[female].mean() - ratings[~female].mean()) < 0.2


def _colour_features(X: np.ndarray) -> np.ndarray:
    mean_rgb = X.mean(axis=(1, 2))
    return np.column_stack([mean_rgb, mean_rgb.mean(axis=1)])  # R, G, B and brightness


def test_mean_colour_classifier_is_near_chance(default_faces: Path) -> None:
    """Gender is in the shapes, not in the colours: nearest class mean on colour stays near 50 %."""
    root = default_faces
    X_train, y_train, _ = load_faces(root / "train" / CSV_NAME, root / "train" / IMAGE_DIR)
    X_test, y_test, _ = load_faces(root / "heldout" / CSV_NAME, root / "heldout" / IMAGE_DIR)
    f_train, f_test = _colour_features(X_train), _colour_features(X_test)
    mu, sd = f_train.mean(axis=0), f_train.std(axis=0)
    f_train, f_test = (f_train - mu) / sd, (f_test - mu) / sd
    centres = np.stack([f_train[y_train == c].mean(axis=0) for c in (0, 1)])
    pred = np.linalg.norm(f_test[:, None, :] - centres[None], axis=2).argmin(axis=1)
    accuracy = float((pred == y_test).mean())
    print(f"mean-colour nearest-class-mean accuracy on held-out: {accuracy:.3f}")
    # At chance, the accuracy on 300 held-out images has a standard deviation of
    # sqrt(0.25 / 300) = 0.029, so 0.35..0.65 is about five standard deviations each side: a real
    # colour signal would push it out, luck would not. (On 4000 + 4000 images it measures 0.505.)
    assert 0.35 <= accuracy <= 0.65


def test_ensure_faces_generates_only_when_missing(tmp_path: Path) -> None:
    kw = dict(n_train=4, n_heldout=2, seed=5)
    assert ensure_faces(tmp_path, **kw) is True
    csv_path = tmp_path / "train" / CSV_NAME
    before = csv_path.stat().st_mtime_ns
    assert ensure_faces(tmp_path, **kw) is False
    assert csv_path.stat().st_mtime_ns == before
    (tmp_path / "heldout" / CSV_NAME).unlink()
    assert ensure_faces(tmp_path, **kw) is True
    assert (tmp_path / "heldout" / CSV_NAME).is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_train": 0}, "n_train=0"),
        ({"n_heldout": -1}, "n_heldout=-1"),
        ({"size": 16}, "size=16"),
        ({"n_train": 2.5}, "n_train=2.5"),
        ({"seed": -3}, "seed=-3"),
        ({"n_train": 9000, "n_heldout": 1000}, "at most 9999"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        generate_faces(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())


def test_main_writes_the_set_and_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert faces.main([str(tmp_path), "--seed", "5", "--n-train", "4", "--n-heldout", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "4 train + 2 heldout" in out
    assert all((tmp_path / s / CSV_NAME).is_file() for s in SPLITS)
    generate_faces(tmp_path / "lib", n_train=4, n_heldout=2, seed=5)
    assert all_files(tmp_path / "lib") == {k: v for k, v in all_files(tmp_path).items() if not k.startswith("lib/")}


def test_main_reports_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        faces.main([str(tmp_path), "--n-train", "0"])
    assert exc.value.code == 2
    assert "n_train=0" in capsys.readouterr().err


def test_runs_as_a_module(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "grader.course.faces", str(tmp_path), "--n-train", "2", "--n-heldout", "2"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert (tmp_path / "heldout" / CSV_NAME).is_file()
