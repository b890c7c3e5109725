"""The layer contracts of pyproject.toml ([tool.importlinter]): kept by the tree, and able to bite.

Each planted import goes into a copy of the package in a temporary folder, never into the tree; the
same contracts are then checked on the copy with and without it, so a contract that would pass
whatever the code did (a typo in a module name, a missing ``containers``) fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.is_file(),
                                reason="import-linter is not installed (pip install -e '.[dev]')")


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the package in ``root`` (only ``contracts``, by id, if any are named)."""
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", *selected], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "grader", tmp_path / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(root: Path, module: str, line: str) -> None:
    path = root / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # planted by tests/test_layers.py\n",
                    encoding="utf-8")


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


PLANTED = [
    # (module, planted line, contracts it must break)
    ("grader.judge.compare", "from grader.classroom import batch", ("layers", "run-judge-below")),
    ("grader.run.execute", "from grader.publish import report", ("layers", "run-judge-below")),
    ("grader.course.config", "from grader.grade import notebook", ("layers", "course-below")),
    ("grader.course.spec", "import grader.run.sandbox", ("layers", "course-below")),
    ("grader.run.execute", "from grader.intake import submissions", ("layers",)),  # siblings stay independent
    ("grader.grade.prepare", "from grader.cli import main", ("layers",)),
    ("grader.judge.compare", "import jinja2", ("judge-bundle",)),
    ("grader.judge.results", "from PIL import Image", ("judge-bundle",)),
]


@pytest.mark.parametrize(("module", "line", "broken"), PLANTED, ids=[f"{m}: {line}" for m, line, _ in PLANTED])
def test_a_planted_import_breaks_its_contracts(copy: Path, module: str, line: str, broken: tuple[str, ...]) -> None:
    before = lint(copy, *broken)
    assert before.returncode == 0, before.stdout + before.stderr
    plant(copy, module, line)
    for contract in broken:
        after = lint(copy, contract)
        assert after.returncode != 0, f"{contract} kept with {line!r} in {module}:\n{after.stdout}"
        assert "BROKEN" in after.stdout and module in after.stdout, after.stdout


def test_a_planted_cycle_breaks_the_acyclic_contract(copy: Path) -> None:
    assert "_planted" not in lint(copy, "acyclic").stdout
    (copy / "grader/judge/_planted_a.py").write_text("from . import _planted_b\n", encoding="utf-8")
    (copy / "grader/judge/_planted_b.py").write_text("from . import _planted_a\n", encoding="utf-8")
    after = lint(copy, "acyclic")
    assert after.returncode != 0 and "grader.judge" in after.stdout and "_planted_" in after.stdout, after.stdout


def test_type_checking_imports_are_left_out(copy: Path) -> None:
    """pyproject.toml sets exclude_type_checking_imports: an annotation-only import never runs, so
    it may name a higher layer (grader.judge.diagnose names grader.course.spec's types this way)."""
    plant(copy, "grader.judge.compare", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                        "    from grader.classroom import batch")
    result = lint(copy, "layers", "run-judge-below")
    assert result.returncode == 0, result.stdout + result.stderr
