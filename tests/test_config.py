"""course.toml: the project's own file loads, and every kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course.config import ConfigError, SimilarityPolicy, find_config, load_config

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = """
[course]
name = "t"
seed = 7

[faces]
train_dir = "faces/train"
heldout_dir = "faces/heldout"

[assignments.01-convolution]
points = { conv2d = 10 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_project_course_toml_loads() -> None:
    config = load_config(ROOT / "course.toml", environ={})
    assert set(config.assignments) == {
        "01-convolution",
        "02-pooling",
        "03-parameter-counting",
        "04-gender-cnn",
    }
    assert config.language in ("zh", "en")
    assert config.faces.heldout_dir.is_absolute()
    assert config.faces.train_dir != config.faces.heldout_dir


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), environ={})
    assert config.seed == 7
    assert config.language == "zh"
    assert config.limits.cell_timeout == 120
    assert (config.limits.cpus, config.limits.scratch_mb) == (None, 1024)  # cpus: a fair share of the cores
    assert config.faces.train_dir == (tmp_path / "faces/train").resolve()
    assert config.assignments["01-convolution"].points == {"conv2d": 10.0}
    assert config.root == tmp_path.resolve()


def test_environment_seed_overrides(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL), environ={"GRADER_SEED": "99"}).seed == 99
    with pytest.raises(ConfigError, match="GRADER_SEED='x' is not an integer"):
        load_config(write(tmp_path, MINIMAL), environ={"GRADER_SEED": "x"})


def test_cpus_and_scratch_limits_are_read(tmp_path: Path) -> None:
    text = MINIMAL.replace("[faces]", "[limits]\ncpus = 1.5\nscratch_mb = 256\n\n[faces]")
    limits = load_config(write(tmp_path, text), environ={}).limits
    assert (limits.cpus, limits.scratch_mb) == (1.5, 256)
    small = MINIMAL.replace("[faces]", "[limits]\nmemory_mb = 1000\n\n[faces]")  # a default that fits
    assert load_config(write(tmp_path, small), environ={}).limits.scratch_mb == 500


def test_similarity_thresholds_are_read(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL), environ={}).similarity == SimilarityPolicy()
    text = MINIMAL.replace("[faces]", "[similarity]\ncode = 0.7\nshared_wrong = 1\nmin_tokens = 25\ncommon = 4\n\n[faces]")
    assert load_config(write(tmp_path, text), environ={}).similarity == SimilarityPolicy(0.7, 1.0, 25, 4)


def test_assignment_timeouts_override_course_limits(tmp_path: Path) -> None:
    text = MINIMAL + "cell_timeout = 600\n"
    config = load_config(write(tmp_path, text), environ={})
    assert config.limits_for("01-convolution").cell_timeout == 600
    assert config.limits_for("01-convolution").notebook_timeout == config.limits.notebook_timeout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("seed = 7", "seed = 7\nsede = 8"), r"\[course.sede\] unknown key"),
        (("[faces]", "[limits]\ncel_timeout = 3\n\n[faces]"), r"\[limits.cel_timeout\] unknown key"),
        (("seed = 7", 'seed = "7"'), r"\[course.seed\] must be int, received '7'"),
        (("seed = 7", "seed = true"), r"\[course.seed\] must be int, received True"),
        (('name = "t"', 'name = "t"\nlanguage = "fr"'), r"\[course.language\] must be one of"),
        (("seed = 7\n", ""), r"\[course.seed\] is required but missing"),
        (("conv2d = 10", "conv2d = -1"), r"\[assignments.01-convolution.points.conv2d\] must be >= 0"),
        (("[faces]", "[limits]\ncell_timeout = 0\n\n[faces]"), r"\[limits.cell_timeout\] must be > 0"),
        (("[faces]", "[limits]\ncpus = 0\n\n[faces]"), r"\[limits.cpus\] must be > 0, received 0"),
        (("[faces]", "[limits]\ncpus = \"2\"\n\n[faces]"), r"\[limits.cpus\] must be float, received '2'"),
        (("[faces]", "[limits]\nscratch_mb = 1.5\n\n[faces]"), r"\[limits.scratch_mb\] must be int, received 1.5"),
        (("[faces]", "[limits]\nmemory_mb = 1024\nscratch_mb = 2048\n\n[faces]"),
         r"\[limits.scratch_mb\] must be below memory_mb \(1024\).*received 2048"),
        (("[faces]", "[faces]\naccuracy_zero = 0.9\naccuracy_full = 0.5"), r"accuracy_zero < accuracy_full"),
        (("[faces]", "[course2]\n[faces]"), r"\[course2\] unknown key"),
        (("[faces]", "[similarity]\ncode = 1.5\n\n[faces]"), r"\[similarity.code\] .*between 0 and 1, received 1.5"),
        (("[faces]", "[similarity]\nshared_wrong = -0.1\n\n[faces]"),
         r"\[similarity.shared_wrong\] .*between 0 and 1, received -0.1"),
        (("[faces]", "[similarity]\nshared_wrong = nan\n\n[faces]"), r"\[similarity.shared_wrong\] .*received nan"),
        (("[faces]", "[similarity]\ncode = \"0.8\"\n\n[faces]"), r"\[similarity.code\] must be float, received '0.8'"),
        (("[faces]", "[similarity]\nmin_tokens = 0\n\n[faces]"), r"\[similarity.min_tokens\] must be > 0, received 0"),
        (("[faces]", "[similarity]\nmin_tokens = 4.5\n\n[faces]"), r"\[similarity.min_tokens\] must be int, received 4.5"),
        (("[faces]", "[similarity]\ncod = 0.5\n\n[faces]"), r"\[similarity.cod\] unknown key"),
        (("[faces]", "[similarity]\ncommon = 1\n\n[faces]"), r"\[similarity.common\] .*between 2 and 100, received 1"),
        (("[faces]", "[similarity]\ncommon = 100000\n\n[faces]"), r"\[similarity.common\] .*received 100000"),
        (("[faces]", "[similarity]\ncommon = 2.5\n\n[faces]"), r"\[similarity.common\] must be int, received 2.5"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, MINIMAL.replace(*change, 1))
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, environ={})
    assert str(path.resolve()) in str(info.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[course\n"), environ={})
    with pytest.raises(ConfigError, match="course configuration not found"):
        load_config(tmp_path / "nope.toml", environ={})


def test_find_config_walks_up(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == path.resolve()

