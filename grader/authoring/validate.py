"""``grader validate``: the course repository's CI check (SPEC section 5).

It answers "can this course be graded as it stands?": ``course.toml`` and the declarations agree;
``assignments/`` and the student bundle ``dist/student/`` are in sync with ``solutions/``; every
solution notebook gets full marks; every released template runs cleanly and scores 0 with nothing
but ``NotImplementedError`` in its answer and check cells; every call a solution's check cells make
into a question's function does only what some declared case of that question does
(:mod:`grader.authoring.coverage`: a check must not fail code the tests give full marks); and every
test is sharp enough — each
declared mistake, injected into the solution in place of the solution's function, must lose points
on that question and be diagnosed as itself, and generic mutants (return zeros, return the first
argument, crop one row and column) must lose points too. A mutant that survives is a weakness of
the test cases, reported by name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from ..course.assignments import course_assignments
from ..classroom.needs import provide
from .bundle import BUNDLE, build_bundle
from .coverage import traced_check_calls, uncovered_calls
from ..course.config import CourseConfig
from ..grade.notebook import grade_notebook
from ..grade.prepare import PreparedQuestion, prepare
from .release import release
from ..judge.results import SubmissionResult
from ..run.sandbox import Isolation, SandboxMode, grader_root, isolation
from ..course.spec import Assignment

__all__ = ["Finding", "validate"]

# Generic mutants: (name, source template); {f} is the question's function name.
GENERIC_MUTANTS = (
    ("return_zeros", "import numpy as _np\n_orig_{f} = {f}\n"
                     "{f} = lambda *a, **k: _np.zeros_like(_np.asarray(_orig_{f}(*a, **k), dtype=float))"),
    ("return_first_argument", "{f} = lambda *a, **k: a[0]"),
    ("off_by_one_crop", "import numpy as _np\n_orig_{f} = {f}\n"
                        "{f} = lambda *a, **k: _np.asarray(_orig_{f}(*a, **k))[:-1, :-1]"),
)


@dataclass(frozen=True)
class Finding:
    """One check of the course: ``ok`` or not, with what was found."""

    check: str
    ok: bool
    detail: str = ""


def _write(nb: nbformat.NotebookNode, folder: Path, name: str) -> Path:
    path = folder / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _mutant(solution: nbformat.NotebookNode, planted: Sequence[str], cells: Sequence[str]) -> nbformat.NotebookNode:
    """The solution's given cells and the answers of the planted questions, then cells that replace
    those functions. Only the planted questions are judged, so nothing else (the gender notebook's
    training) needs to run."""
    def keep(cell: nbformat.NotebookNode) -> bool:
        meta = cell.metadata.get("grader", {})
        return meta.get("role") == "given" or (meta.get("role") == "answer" and meta.get("question") in planted)

    nb = nbformat.from_dict(solution)
    nb.cells = [*(c for c in solution.cells if keep(c)), *(new_code_cell(source) for source in cells)]
    return nb


# The mutant's kernel imports the variants from this very grader (the one whose declarations are being
# validated), not whichever `grader` its interpreter would find first (an installed or editable copy
# beside a checkout, a worktree, a course copy): its folder goes first on the kernel's sys.path.
_IMPORT_THIS_GRADER = f"import sys as _sys\n_sys.path.insert(0, {str(grader_root())!r})\n"


def _declared_mutants(assignment: Assignment) -> list[tuple[str, dict[str, str], list[str]]]:
    """Notebook k replaces every question's function by its k-th declared mistake."""
    mutants = []
    depth = max((len(q.mistakes) for q in assignment.questions), default=0)
    for k in range(depth):
        planted = {q.id: q.mistakes[k].id for q in assignment.questions if k < len(q.mistakes)}
        cells = [f"{_IMPORT_THIS_GRADER}from grader.course.assignments import course_assignments as _ca\n"
                 f"{qid} = _ca()[{assignment.id!r}].question({qid!r}).mistakes[{k}].variant" for qid in planted]
        mutants.append((f"declared-{k}", planted, cells))
    return mutants


def _generic_mutants(assignment: Assignment) -> list[tuple[str, dict[str, str], list[str]]]:
    plain = [q.id for q in assignment.questions if q.assess is None]
    return [(name, {qid: name for qid in plain}, [template.format(f=qid) for qid in plain])
            for name, template in GENERIC_MUTANTS]


def _judge(result: SubmissionResult, planted: dict[str, str], declared: bool) -> list[Finding]:
    findings = []
    for question, mutant in planted.items():
        tests = [t for t in result.tests if t.question == question]
        lost = sum(t.score for t in tests) < sum(t.max_score for t in tests)
        named = sorted({t.diagnosis.id for t in tests if t.diagnosis is not None})
        check = f"{result.assignment} · {question} · mutant {mutant}"
        if not lost:
            findings.append(Finding(check, False, "survives: it keeps full marks (a weakness of the test cases)"))
        elif declared and named != [mutant]:
            findings.append(Finding(check, False, f"loses points but is diagnosed as {named or 'nothing'}"))
        else:
            findings.append(Finding(check, True, "caught" + (" and named" if declared else "")))
    return findings


def validate(config: CourseConfig, *, jobs: int = 1, sandbox: SandboxMode = "auto",
             on_finding: Callable[[Finding], None] = lambda f: None) -> list[Finding]:
    """Run every check; returns all findings (the course is valid when all are ``ok``)."""
    findings: list[Finding] = []

    def note(finding: Finding) -> None:
        findings.append(finding)
        on_finding(finding)

    declared = course_assignments()
    root = config.root
    confined = isolation(sandbox)
    for item in release(root / "solutions", root / "assignments", check=True):
        if item.status != "unchanged":
            note(Finding(f"release · {item.path.name}", False, f"{item.status}: run `grader release`"))
    note(Finding("release", not findings, "assignments/ is in sync with solutions/" if not findings else ""))
    stale = [item for item in build_bundle(config, check=True) if item.status != "unchanged"]
    for item in stale:
        rel = item.path.relative_to(root).as_posix()
        note(Finding(f"bundle · {rel}", False, f"{item.status}: run `grader release`"))
    in_sync = f"{BUNDLE.as_posix()}/ is in sync with solutions/ and the grader"
    note(Finding("bundle", not stale, f"{len(stale)} file(s) out of sync" if stale else in_sync))

    ids = [aid for aid in config.assignments if aid in declared]
    for aid in sorted(set(config.assignments) - set(declared)):
        note(Finding(f"course.toml · {aid}", False, "no declaration of this assignment in grader/assignments"))
    prepared = {aid: prepare(declared[aid], config) for aid in ids}
    provide([declared[aid] for aid in ids], config)

    with tempfile.TemporaryDirectory(prefix="cnn-grader-validate-") as tmp:
        work = Path(tmp)
        jobs_list: list[tuple[str, Path, str, dict[str, str], bool]] = []
        for aid in ids:
            solution = nbformat.read(root / "solutions" / f"{aid}.ipynb", as_version=4)
            jobs_list.append(("solution", root / "solutions" / f"{aid}.ipynb", aid, {}, False))
            jobs_list.append(("template", root / "assignments" / f"{aid}.ipynb", aid, {}, False))
            for name, planted, cells in _declared_mutants(declared[aid]) + _generic_mutants(declared[aid]):
                path = _write(_mutant(solution, list(planted), cells), work / aid, name)
                jobs_list.append((name, path, aid, planted, name.startswith("declared")))

        def run(job: tuple[str, Path, str, dict[str, str], bool]) -> SubmissionResult:
            # The mutants import their variants from the grader package, which the sandbox hides; they
            # are the course's own code, so they run unconfined. Solutions and templates run as
            # submissions do, which also proves they work inside the sandbox.
            kind, path, aid, _, _ = job
            return grade_notebook(path, student="validate", assignment=declared[aid], prepared=prepared[aid],
                                  config=config, isolation=confined if kind in ("solution", "template") else "off",
                                  jobs=jobs)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for job, result in zip(jobs_list, pool.map(run, jobs_list)):
                kind, path, aid, planted, is_declared = job
                if kind == "solution":
                    note(_judge_solution(result, path))
                elif kind == "template":
                    note(_judge_template(result, path))
                else:
                    for finding in _judge(result, planted, is_declared):
                        note(finding)

        def covered(aid: str) -> list[Finding]:
            return check_cells_covered(root / "solutions" / f"{aid}.ipynb", declared[aid], prepared[aid], config,
                                       confined)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for found in pool.map(covered, ids):
                for finding in found:
                    note(finding)
    return findings


def check_cells_covered(solution: Path, assignment: Assignment, prepared: Sequence[PreparedQuestion],
                        config: CourseConfig, confined: Isolation) -> list[Finding]:
    """One finding per check-cell call that does what no declared case does, or one ``ok``."""
    check = f"{assignment.id} · check cells agree with the tests"
    try:
        calls, variables = traced_check_calls(solution, assignment, prepared, config, confined)
    except RuntimeError as exc:
        return [Finding(check, False, str(exc))]
    gaps = uncovered_calls(calls, prepared, variables)
    if not gaps:
        return [Finding(check, True, f"{len(calls)} call(s) from check cells, each like a declared case")]
    return [Finding(f"{assignment.id} · check cell {gap.cell} · {gap.function}", False,
                    f"{solution.name}: {gap.call} does what no declared case of {gap.function} (public or "
                    f"hidden) does: {'; '.join(gap.missing)} — change the check cell, or declare a case that does it")
            for gap in gaps]


def _judge_solution(result: SubmissionResult, path: Path) -> Finding:
    check = f"{result.assignment} · solution full marks"
    problems = [f"cell {c['index']}: {c['ename'] or c['outcome']}: {c['evalue']}"[:200] for c in result.cells]
    lost = [f"{t.name}: {t.failure.message if t.failure else ''}"[:200] for t in result.tests if t.score < t.max_score]
    if result.error or problems or lost:
        return Finding(check, False, f"{path.name}: " + "; ".join([result.error, *problems, *lost]).strip("; "))
    return Finding(check, True, f"{result.score:g} / {result.max_score:g}")


def _judge_template(result: SubmissionResult, path: Path) -> Finding:
    check = f"{result.assignment} · template scores 0 cleanly"
    nb = nbformat.read(path, as_version=4)
    bad = []
    for cell in result.cells:
        role = nb.cells[cell["index"]].metadata.get("grader", {}).get("role")
        if cell["ename"] != "NotImplementedError" or role not in ("answer", "check"):
            bad.append(f"cell {cell['index']} ({role}): {cell['ename'] or cell['outcome']}: {cell['evalue']}"[:200])
    if result.error or bad or result.score != 0:
        return Finding(check, False, f"{path.name}: score {result.score:g}; " + "; ".join([result.error, *bad]).strip("; "))
    return Finding(check, True, "0 points, only NotImplementedError in answer/check cells")
