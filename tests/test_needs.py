"""An assignment's needs come from its declaration, never from its id (grader.classroom.needs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import grader.classroom.needs
from grader.classroom.needs import provide
from grader.course.assignments import course_assignments
from grader.course.config import CourseConfig, load_config
from grader.course.spec import SpecError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Where synthetic faces were generated (nothing is generated for real)."""
    roots: list[Path] = []
    monkeypatch.setattr(grader.classroom.needs, "ensure_faces", roots.append)
    return roots


@pytest.fixture
def config() -> CourseConfig:
    return load_config(ROOT / "course.toml", environ={})


def test_only_an_assignment_declaring_faces_gets_them(made: list[Path], config: CourseConfig) -> None:
    declared = course_assignments()
    assert {aid for aid, a in declared.items() if "faces" in a.needs} == {"04-gender-cnn"}
    provide([declared["01-convolution"], declared["02-pooling"]], config)
    assert made == []
    renamed = dataclasses.replace(declared["04-gender-cnn"], id="05-faces-again")
    provide([declared["02-pooling"], renamed], config)
    assert made == [config.faces.train_dir.parent], "the declaration, not the id, asks for the faces"


def test_faces_that_are_not_synthetic_are_never_generated(made: list[Path], config: CourseConfig) -> None:
    real = dataclasses.replace(config, faces=dataclasses.replace(config.faces, synthetic=False))
    provide([course_assignments()["04-gender-cnn"]], real)
    assert made == []


def test_an_unknown_need_names_the_assignment(made: list[Path], config: CourseConfig) -> None:
    odd = dataclasses.replace(course_assignments()["02-pooling"], needs=("gpu",))  # type: ignore[arg-type]
    known = r"02-pooling: needs \['gpu'\], which the grader cannot provide \(known: faces\)"
    with pytest.raises(SpecError, match=known):
        provide([odd], config)
