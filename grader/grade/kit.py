"""The self-check kit: ``selfcheck/`` as the student bundle ships it and a grading kernel gets it.

The package is :mod:`grader.judge` copied byte for byte (its ``selfcheck.py`` as the package's
``__init__.py``, so its relative imports resolve the same in both places) plus ``data/``: the public
cases, their expected answers and every declared mistake's answer on them, computed from the
references with the same :func:`~grader.grade.notebook.prepare` the grader uses. It is here, below
the release tooling, because grading needs it too: the released notebooks' given cells do
``from selfcheck import check``, so every grading kernel has a copy.
"""

from __future__ import annotations

import atexit
import copy
import io
import json
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..course.assignments import course_assignments
from ..course.config import CourseConfig
from ..course.spec import Assignment, Mistake, Question
from ..judge.compare import Tolerance, compare
from .prepare import prepare

__all__ = ["BUNDLE", "JUDGE", "deterministic_zip", "install_selfcheck", "selfcheck_files", "selfcheck_package"]

BUNDLE = Path("dist") / "student"
JUDGE = Path(__file__).resolve().parents[1] / "judge"
MAIN = "from . import main\nraise SystemExit(main())\n"
_DATE = (1980, 1, 1, 0, 0, 0)
IGNORED = ("__pycache__", ".ipynb_checkpoints")


def selfcheck_files(config: CourseConfig) -> dict[str, bytes]:
    """Every file of ``selfcheck/`` by its POSIX path relative to the bundle: all of
    :mod:`grader.judge` (one folder, no list to keep in step), ``__main__.py`` and the public data."""
    files = {}
    for module in sorted(JUDGE.glob("*.py")):
        if module.name != "__init__.py":  # the judge package's docstring; the entry point takes its place
            name = "__init__.py" if module.name == "selfcheck.py" else module.name
            files[f"selfcheck/{name}"] = module.read_bytes()
    files["selfcheck/__main__.py"] = MAIN.encode("utf-8")
    files.update(_data_files(config))
    return files


# -- the public data -------------------------------------------------------------------------------
class _Encoder:
    """Values as JSON; arrays (and numpy scalars, as 0-d arrays) as members of an ``.npz``.
    Tuples and dicts are tagged so that they come back as what they were: the self-check's
    comparison and the call it shows must see the grader's values, not look-alikes."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def encode(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return {"array": self._add(value)}
        if isinstance(value, np.generic):
            return {"scalar": self._add(np.asarray(value))}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            return {"dict": [[self.encode(k), self.encode(v)] for k, v in value.items()]}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(f"the student bundle cannot store a value of type {type(value).__name__}")

    def _add(self, array: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def npz(self) -> bytes:
        """The arrays as an ``.npz`` (what ``np.savez`` writes, without its time stamps)."""
        members = {}
        for name, array in self.arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            members[f"{name}.npy"] = buffer.getvalue()
        return deterministic_zip(members, zipfile.ZIP_STORED)


def deterministic_zip(members: Mapping[str, bytes], compression: int) -> bytes:
    """A zip whose bytes depend only on ``members``: fixed date, mode and order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type, info.create_system, info.external_attr = compression, 3, 0o644 << 16
            archive.writestr(info, members[name], compresslevel=9 if compression == zipfile.ZIP_DEFLATED else None)
    return buffer.getvalue()


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _data_files(config: CourseConfig) -> dict[str, bytes]:
    """``selfcheck/data/``: the manifest, and per assignment with public tests a JSON + ``.npz``."""
    declared = course_assignments()
    manifest: dict[str, Any] = {
        "language": config.language,
        "tolerance": {"rtol": config.tolerance.rtol, "atol": config.tolerance.atol},
        "assignments": {},
    }
    files = {}
    for aid in sorted(a for a in config.assignments if a in declared):
        assignment, encoder = declared[aid], _Encoder()
        prepared = [pq for pq in prepare(assignment, config, public_only=True)
                    if pq.groups and pq.question.reference is not None]
        questions = [_question_record(pq.question, pq.groups, encoder, config.tolerance) for pq in prepared]
        limits = config.limits_for(aid)
        manifest["assignments"][aid] = {**_manifest_entry(assignment, {q["id"] for q in questions}),
                                        "cell_timeout": limits.cell_timeout, "call_timeout": limits.call_timeout}
        if questions:
            files[f"selfcheck/data/{aid}.json"] = _json({"questions": questions})
            files[f"selfcheck/data/{aid}.npz"] = encoder.npz()
    files["selfcheck/data/manifest.json"] = _json(manifest)
    return files


def _manifest_entry(assignment: Assignment, checked: set[str]) -> dict[str, Any]:
    """What the self-check needs to know of an assignment before loading its data."""
    ids = [q.id for q in assignment.questions]
    return {"aliases": list(assignment.aliases), "questions": ids, "no_public": [q for q in ids if q not in checked],
            "optional": [q.id for q in assignment.questions if q.optional]}


def _question_record(question: Question, groups: Any, encoder: _Encoder, tol: Tolerance) -> dict[str, Any]:
    """A question's public groups: per case the arguments, the expected answer and each declared
    mistake's answer (``None`` where it raises or is right, so it cannot explain that case)."""
    return {
        "id": question.id,
        "mistakes": [{"id": m.id, "zh": m.zh, "en": m.en} for m in question.mistakes],
        "groups": [
            {"name": pg.group.name, "zh": pg.group.zh, "cases": [
                {"args": encoder.encode(case.args), "kwargs": encoder.encode(dict(case.kwargs)),
                 "expected": encoder.encode(expected),
                 "mistakes": {m.id: encoder.encode(_mistaken(m, case.resolved(), expected, tol))
                              for m in question.mistakes}}
                for case, expected in pg.cases
            ]}
            for pg in groups
        ],
    }


def _mistaken(mistake: Mistake, call: tuple[tuple[Any, ...], dict[str, Any]], expected: Any, tol: Tolerance) -> Any:
    args, kwargs = copy.deepcopy(call)
    try:
        answer = mistake.variant(*args, **kwargs)
    except Exception:  # a variant may not apply to every input; then it explains nothing there
        return None
    return None if compare(expected, answer, tol).equal else answer


# -- the grading kernel's copy ---------------------------------------------------------------------
_built: dict[Path, Path] = {}
_lock = threading.Lock()


def selfcheck_package(config: CourseConfig) -> Path:
    """The course's ``dist/student/selfcheck``; when the course has no bundle yet, one built once
    per process in a temporary folder, so that grading never writes into the course."""
    committed = config.root / BUNDLE / "selfcheck"
    if (committed / "__init__.py").is_file():
        return committed
    with _lock:
        if config.path not in _built:
            folder = Path(tempfile.mkdtemp(prefix="cnn-grader-selfcheck-")) / "selfcheck"
            atexit.register(shutil.rmtree, folder.parent, True)
            for rel, data in selfcheck_files(config).items():
                (folder.parent / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder.parent / rel).write_bytes(data)
            _built[config.path] = folder
        return _built[config.path]


def install_selfcheck(config: CourseConfig, scratch: Path) -> None:
    """Put ``selfcheck/`` into a grading scratch folder: the released notebooks' given cells do
    ``from selfcheck import check``, and a template must run them cleanly."""
    shutil.copytree(selfcheck_package(config), scratch / "selfcheck", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*IGNORED))
