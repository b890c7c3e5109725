"""A submission cannot stop the class run by breaking its kernel's start.

The kernel's working directory and home are the scratch folder, which holds the student's files.
An ``ipykernel_launcher.py`` handed in (imported by ``python -m ipykernel_launcher`` from the
working directory) made the kernel die before it answered: a KernelStartError, "the machine's
problem", which stopped `grader grade` for the whole class. A notebook that writes such files and
then kills its kernel broke the restart the same way."""

from __future__ import annotations

from pathlib import Path

from grader.classroom.batch import grade_class
from grader.classroom.runner import local_runner

from .conftest import ASSIGNMENT, BASELINE, hostile_notebook, load_course, write_notebook

DIE = "import os\nos._exit(3)\n"


def _grade(tmp_path: Path, attacker_cells: tuple[str, ...], planted: tuple[str, ...] = ()) -> dict:
    config = load_course(tmp_path / "course")
    subs = tmp_path / "subs"
    write_notebook(subs / "a-attacker" / f"{ASSIGNMENT}.ipynb", hostile_notebook(*attacker_cells))
    for name in planted:
        (subs / "a-attacker" / name).write_text(DIE, encoding="utf-8")
    write_notebook(subs / "z-honest" / f"{ASSIGNMENT}.ipynb", BASELINE.read_bytes())
    run = grade_class(subs, tmp_path / "out", config, runner=local_runner(jobs=1))
    return {r.student: r for r in run.results}


def test_modules_handed_in_do_not_replace_the_kernels_own(tmp_path: Path) -> None:
    results = _grade(tmp_path, ("import os, sys\nassert sys.path[0] == os.getcwd(), sys.path[:3]",
                                "open('helper_mod.py', 'w').write('X = 42')\nimport helper_mod\nassert helper_mod.X == 42"),
                     planted=("ipykernel_launcher.py", "numpy.py", "matplotlib.py"))
    assert results["a-attacker"].score == 100, results["a-attacker"]  # their folder is still first on sys.path
    assert results["z-honest"].score == 100


def test_a_kernel_that_breaks_its_own_restart_costs_only_its_submission(tmp_path: Path) -> None:
    results = _grade(tmp_path, (
        f"open('ipykernel_launcher.py', 'w').write({DIE!r})\n"
        "import os\nos.makedirs(os.path.expanduser('~/.ipython/profile_default/startup'), exist_ok=True)\n"
        f"open(os.path.expanduser('~/.ipython/profile_default/startup/0.py'), 'w').write({DIE!r})",
        "import os; os._exit(1)"))
    attacker = results["a-attacker"]
    assert attacker.status == "graded" and attacker.score == 0
    assert "could not be started again" in attacker.error
    assert results["z-honest"].score == 100
