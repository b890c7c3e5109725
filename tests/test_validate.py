"""grader validate on a one-assignment copy of the course: passes as shipped, fails loudly when broken."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_facts import max_score
from grader.authoring.bundle import build_bundle
from grader.cli import main
from grader.course.config import load_config

ROOT = Path(__file__).resolve().parents[1]
ID = "02-pooling"


def course_copy(tmp_path: Path) -> Path:
    """The course with only the pooling assignment (the others take the same path, slower)."""
    course = tmp_path / "course"
    for folder in ("solutions", "assignments"):
        (course / folder).mkdir(parents=True)
        shutil.copy(ROOT / folder / f"{ID}.ipynb", course / folder)
    text = (ROOT / "course.toml").read_text(encoding="utf-8")
    head, *sections = re.split(r"(?m)^(?=\[assignments\.)", text)
    kept = head + "".join(section for section in sections if section.startswith(f"[assignments.{ID}]"))
    (course / "course.toml").write_text(kept, encoding="utf-8")
    build_bundle(load_config(course / "course.toml"))  # this one-assignment course's own bundle
    return course / "course.toml"


@pytest.mark.slow
def test_validate_passes_on_the_course(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--course", str(course_copy(tmp_path)), "validate", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    full = max_score(ID)
    assert f"ok   02-pooling · solution full marks: {full:g} / {full:g}" in out
    assert "02-pooling · max_pool2d_backward · mutant overlap_overwritten: caught and named" in out
    assert re.search(r"\n\d+ passed, 0 failed", out)


@pytest.mark.slow
def test_validate_fails_with_a_clear_message_on_a_broken_copy(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    toml = course_copy(tmp_path)
    master = toml.parent / "solutions" / f"{ID}.ipynb"
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("grader", {}).get("question") == "avg_pool2d" and cell.metadata["grader"]["role"] == "answer":
            cell.source = cell.source.replace("mean(axis=(0, 1))", "max(axis=(0, 1))")
            cell.source = cell.source.replace('"""valid', '"""Valid', 1)  # the template changes too: stale
    nbformat.write(nb, master)
    assert main(["--course", str(toml), "validate", "--jobs", "2"]) == 1
    captured = capsys.readouterr()
    assert "FAIL 02-pooling · solution full marks" in captured.out
    assert "avg_pool2d" in captured.err
    assert "release · 02-pooling.ipynb: stale" in captured.out
