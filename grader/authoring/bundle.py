"""The student bundle: ``dist/student/`` (committed, like ``assignments/``) and ``dist/student.zip``.

It holds the released notebooks, a student guide, and ``selfcheck/`` — :mod:`grader.judge` copied
byte for byte plus the public cases (:mod:`grader.grade.kit`). It holds no solution, no reference
code, no hidden-test generator, no seed and no held-out data.

Every byte is a pure function of the course (``.npz`` and ``.zip`` members carry a fixed date), so
``grader release --check`` compares bytes and names every stale, missing or orphan file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..course.config import CourseConfig
from ..grade.kit import BUNDLE, IGNORED, deterministic_zip, selfcheck_files
from .release import ReleasedFile, released_text, sync_file

__all__ = ["BUNDLE", "ZIP", "build_bundle", "bundle_files"]

ZIP = Path("dist") / "student.zip"
GUIDE = Path(__file__).with_name("student_guide.md")


def bundle_files(config: CourseConfig) -> dict[str, bytes]:
    """Every file of ``dist/student/`` by its relative POSIX path."""
    files = {master.name: released_text(master).encode("utf-8")
             for master in sorted((config.root / "solutions").glob("*.ipynb"))}
    files["README.md"] = GUIDE.read_bytes()
    files.update(selfcheck_files(config))
    return files


def build_bundle(config: CourseConfig, *, check: bool = False) -> list[ReleasedFile]:
    """Write (or with ``check`` only compare) ``dist/student/``, and write ``dist/student.zip``.

    Statuses as for the notebooks: ``unchanged``/``written``, with ``check`` ``stale``/``missing``,
    and a file the bundle does not have is ``orphan`` (``removed`` when writing). Caches Python and
    Jupyter leave behind (``__pycache__``, ``.ipynb_checkpoints``) are ignored. The zip is not
    checked: it is rebuilt by every release and not committed."""
    target = config.root / BUNDLE
    files = bundle_files(config)
    results = []
    for rel, data in files.items():
        results.append(sync_file(target / rel, data, check))
    for path in sorted(target.rglob("*")) if target.is_dir() else ():
        rel = path.relative_to(target)
        if path.is_file() and rel.as_posix() not in files and not set(rel.parts) & set(IGNORED):
            if not check:
                path.unlink()
            results.append(ReleasedFile(path, "orphan" if check else "removed"))
    if not check:
        (config.root / ZIP).write_bytes(deterministic_zip({f"student/{rel}": data for rel, data in files.items()},
                                              zipfile.ZIP_DEFLATED))
    return results

