"""What an assignment's notebooks need before they run, provided from its declaration.

An :class:`~grader.course.spec.Assignment` names its needs (``needs=("faces",)``) instead of the
grader knowing which assignment id trains on faces. The class run (before any submission is sent),
each cluster worker (before its task) and ``grader validate`` all call :func:`provide`, so the one
place that knows what a need means is here. It sits in the classroom layer because the three callers
are this layer and the layers above it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..course.config import CourseConfig
from ..course.faces import ensure_faces
from ..course.spec import Assignment, SpecError

__all__ = ["KNOWN_NEEDS", "ensure_synthetic_faces", "provide"]

KNOWN_NEEDS = ("faces",)


def provide(assignments: Iterable[Assignment], config: CourseConfig) -> None:
    """Make what the ``assignments`` need exist; a need this grader does not know is a
    :class:`SpecError` naming the assignment, not a notebook that fails for want of its data."""
    needs: set[str] = set()
    for assignment in assignments:
        unknown = sorted(set(assignment.needs) - set(KNOWN_NEEDS))
        if unknown:
            raise SpecError(f"{assignment.id}: needs {unknown}, which the grader cannot provide "
                            f"(known: {', '.join(KNOWN_NEEDS)})")
        needs.update(assignment.needs)
    if "faces" in needs and config.faces.synthetic:
        ensure_synthetic_faces(config)


def ensure_synthetic_faces(config: CourseConfig) -> None:
    """Generate the bundled synthetic face set where ``course.toml`` points, if it is missing.

    One process of this machine at a time: several cluster workers (or two graders) on a fresh
    machine would otherwise write the same files together. The lock is not in the data folder,
    which may be read-only."""
    faces = config.faces
    root = faces.train_dir.parent
    if (faces.train_dir, faces.heldout_dir) != (root / "train", root / "heldout"):
        raise ValueError(f"{config.path}: [faces] with synthetic = true needs train_dir and heldout_dir to be "
                         f"the train/ and heldout/ folders of one directory, received {faces.train_dir} and "
                         f"{faces.heldout_dir}")
    with open(Path(tempfile.gettempdir()) / f"cnn-grader-faces-{os.getuid()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_faces(root)
