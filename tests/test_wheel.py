"""The package as users install it: a wheel (not an editable checkout) grades and renders reports.

The fresh venv gets no packages from the index: its site-packages has a ``.pth`` line naming this
environment's site-packages (NumPy, TensorFlow, Jupyter), and the wheel is installed with
``--no-deps``. A ``.pth`` folder is also what the sandbox must bind for the kernel to start (it
binds the folders the interpreter puts on ``sys.path``), so the grading here runs in bubblewrap
wherever bubblewrap works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
STUDENT, ASSIGNMENT = "li_hua", "01-convolution"  # all correct (examples/submissions/README.txt)


def test_the_wheel_lists_every_package() -> None:
    """``[tool.setuptools] packages`` is a list (a mapped folder is not found by ``packages.find``):
    a new package folder must be added to it, or the wheel would ship without it."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    on_disk = set(find_packages(str(ROOT), include=["grader", "grader.*"]))
    assert set(declared["packages"]) == on_disk | {"grader.templates"}
    assert declared["package-dir"] == {"grader.templates": "templates"}


def _run(argv: list[str | Path], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """A command as a user would run it: no PYTHONPATH pointing at this checkout."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _source(tmp_path: Path) -> Path:
    """What the build reads, copied so that build/ and *.egg-info never land in the checkout."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("grader", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _venv(tmp_path: Path) -> Path:
    """A fresh venv seeing this environment's packages through a ``.pth`` line; its python."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
    (Path(purelib.stdout.strip()) / "cnn_grader_test_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return python


def _install(python: Path, *args: str | Path) -> None:
    """``pip install --no-deps`` into the venv of ``python``, with this environment's pip."""
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "--no-build-isolation", "--disable-pip-version-check", "--quiet", *args], cwd=python.parents[2])


def _course(tmp_path: Path) -> Path:
    """A course folder as an instructor has one, with one student's notebook handed in."""
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "course.toml", course)
    for name in ("solutions", "assignments"):
        shutil.copytree(ROOT / name, course / name)
    (course / "submissions" / STUDENT).mkdir(parents=True)
    shutil.copy2(ROOT / "examples/submissions" / STUDENT / f"{ASSIGNMENT}.ipynb", course / "submissions" / STUDENT)
    return course


@pytest.mark.slow
def test_a_wheel_install_grades_a_submission_and_renders_its_page(tmp_path: Path) -> None:
    src = _source(tmp_path)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
          "--quiet", "--wheel-dir", tmp_path / "dist", src], cwd=tmp_path)
    wheel, = (tmp_path / "dist").glob("cnn_grader-*.whl")
    python = _venv(tmp_path)
    _install(python, wheel)
    shutil.rmtree(src)  # nothing may come from the source tree now
    course = _course(tmp_path)

    where = _run([python, "-c", "import grader, grader.publish.templates as t; print(grader.__file__); "
                                "print(t.template_folder())"], cwd=course).stdout.split()
    assert all(Path(p).is_relative_to(tmp_path / "venv") for p in where), where

    # The example notebooks are the course's own files; where bubblewrap cannot run here they are
    # graded unconfined, as `make demo` does. CI installs bubblewrap, so there the sandbox is used.
    works = subprocess.run([python, "-m", "grader.run.sandbox"], cwd=course, capture_output=True).returncode == 0
    sandbox = "required" if works or os.environ.get("CI") else "off"
    grader = python.parent / "grader"
    _run([grader, "grade", "submissions", "--out", "out", "--sandbox", sandbox], cwd=course)

    result = json.loads((course / "out/results" / STUDENT / f"{ASSIGNMENT}.json").read_text(encoding="utf-8"))
    assert result["score"] == 100 and result["grader"]["sandbox"] == ("bwrap" if sandbox == "required" else "off")
    page = (course / "out/report" / STUDENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    score = re.search(r'id="score">(.*?)</div>', page, re.S)
    assert score is not None and re.sub(r"<[^>]+>|\s+", " ", score.group(1)).split() == ["100", "/", "100"]
    assert STUDENT in page
    index = (course / "out/report/index.html").read_text(encoding="utf-8")
    assert f"{STUDENT}/{ASSIGNMENT}.html" in index


@pytest.mark.slow
def test_an_editable_install_finds_the_checkouts_templates(tmp_path: Path) -> None:
    """``pip install -e .`` (what ``make`` does): the package-dir mapping still imports the checkout,
    and the report templates are the repository's own ``templates/``."""
    src = _source(tmp_path)
    python = _venv(tmp_path)
    _install(python, "--editable", src)
    where = _run([python, "-c", "import grader, grader.publish.templates as t; print(grader.__file__); "
                                "print(t.template_folder())"], cwd=tmp_path).stdout.split()
    assert [Path(p) for p in where] == [src / "grader/__init__.py", src / "templates"]
