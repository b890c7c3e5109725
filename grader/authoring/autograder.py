"""The Gradescope autograder: what ``run_autograder`` runs inside Gradescope's container.

Gradescope's side, as its documentation states it (gradescope-autograders.readthedocs.io, "Autograder
Specifications", from gradescope/autograder_samples ``docs/specs.md``; "Best practices"
``docs/best_practices.md``; "Troubleshooting" ``docs/troubleshooting.md``; "Base images"
``docs/base_images.md``):

- the zip's contents are unpacked into ``/autograder/source``; ``setup.sh`` runs once, as root, when
  the image is built (Ubuntu 22.04 by default, whose Python is 3.10); ``run_autograder`` is copied to
  ``/autograder/run_autograder`` and run, as root with ``/autograder`` as working folder, once per
  submission;
- the student's files are in ``/autograder/submission``; the harness also writes
  ``/autograder/submission_metadata.json`` (who submitted, when, and earlier results);
- the only output is ``/autograder/results/results.json`` (its "Output format": ``score``,
  ``execution_time``, ``output``, ``output_format``, ``stdout_visibility``, ``extra_data``, ``tests``
  with ``score``, ``max_score``, ``status`` ``passed``/``failed``, ``name``, ``number``, ``output``,
  ``output_format``, ``tags``, ``visibility`` ``hidden``/``after_due_date``/``after_published``/``visible``);
  stdout is kept for instructors only. "The autograder failed to execute correctly" is what students
  see when that file is missing or not JSON, so it is written whatever happens, once, at the end;
- the student's code runs in the same container, and Gradescope recommends running it as a
  non-root user with the source and results folders closed to it (``chmod o=``, ``runuser``).

So :func:`main` takes the root from ``GRADESCOPE_ROOT`` (default ``/autograder``), grades the one
notebook of ``ROOT/submission`` (a notebook, a zip or folders, read by the intake: none or two is a
clear result, not a crash) with the course of ``ROOT/source/course.toml``, and writes
``ROOT/results/results.json`` from :func:`grader.publish.export.gradescope_results` (the student's
view: public groups ``visible``, hidden groups ``after_published``, each test's output with its
diagnosis) with the student's page in ``extra_data.student_page_html``. The kernel is confined by
bubblewrap where it works, else it runs as the unprivileged :data:`~grader.run.sandbox.KERNEL_USER`
that ``setup.sh`` made, with the course files closed to it (:func:`lock_down`); where neither holds,
nothing runs (:func:`grader.run.sandbox.user_or_bwrap`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..classroom.gradebook import write_json
from ..classroom.needs import provide
from ..course.assignments import course_assignments
from ..course.config import CourseConfig, load_config
from ..grade.notebook import grade_notebook
from ..grade.prepare import prepare
from ..intake.submissions import Submission, Unrecognised, find_submissions
from ..judge.catalog import Message, nested
from ..judge.results import StudentRecord, SubmissionResult, Submitted
from ..publish.export import gradescope_results
from ..publish.report.student import render_submission
from ..run import sandbox
from ..run.sandbox import Isolation, SandboxUnavailable

__all__ = ["DEFAULT_ROOT", "ROOT_ENV", "SANDBOX_ENV", "lock_down", "main", "results_for", "run"]

log = logging.getLogger(__name__)

ROOT_ENV = "GRADESCOPE_ROOT"
DEFAULT_ROOT = "/autograder"
# "auto" (bubblewrap, else the unprivileged user) or "user" (the unprivileged user even where
# bubblewrap works: how the container confines when Docker forbids namespaces, tried on purpose).
SANDBOX_ENV = "CNN_GRADER_SANDBOX"
_KEY = "gradescope"  # the student's key when the metadata names nobody


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grader.authoring.autograder --assignment ID``: grade ``$GRADESCOPE_ROOT/submission``
    into ``$GRADESCOPE_ROOT/results/results.json``. Exit 0 when the submission got its result (a
    missing notebook included), 1 when the autograder itself failed or refused to run it unconfined;
    results.json is written either way (its reason for the student, the traceback on stdout)."""
    parser = argparse.ArgumentParser(prog="run_autograder")
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--prepare", action="store_true", help="setup.sh: make the course's data, grade nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    root = Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    if args.prepare:
        provide([course_assignments()[args.assignment]], load_config(root / "source" / "course.toml"))
        return 0
    started = time.monotonic()
    status = 0
    lang = "en"
    try:
        config = load_config(root / "source" / "course.toml")
        lang = config.language
        data = run(root, args.assignment, config, os.environ.get(SANDBOX_ENV, "auto"))
    except SandboxUnavailable as exc:
        print(f"error: {exc}", flush=True)
        data, status = _refusal("gradescope.unconfined", lang, reason=str(exc)), 1
    except Exception as exc:  # results.json must exist: the student reads why, the instructor the traceback
        traceback.print_exc(file=sys.stdout)
        data, status = _refusal("gradescope.failed", lang, error=f"{type(exc).__name__}: {exc}"[:500]), 1
    data.setdefault("execution_time", round(time.monotonic() - started, 3))
    write_json(root / "results" / "results.json", data)
    print(f"results.json: score {data.get('score')} ({len(data.get('tests', []))} tests)", flush=True)
    return status


def run(root: Path, assignment: str, config: CourseConfig, mode: str = "auto") -> dict[str, Any]:
    """Grade the submission under ``root`` and return its ``results.json``; nothing is written."""
    declared = course_assignments()
    if assignment not in config.assignments or assignment not in declared:
        raise ValueError(f"{assignment!r} is not an assignment of this course (known: {', '.join(config.assignments)})")
    isolation = _isolation(mode)
    provide([declared[assignment]], config)  # before the lock-down, which then covers the faces made here
    if isolation == "user":
        lock_down(root, config)
    aliases = {aid: declared[aid].aliases if aid in declared else () for aid in config.assignments}
    with tempfile.TemporaryDirectory(prefix="cnn-grader-gradescope-") as tmp:
        found, skipped = _the_notebook(root / "submission", Path(tmp), aliases, assignment)
        if isinstance(found, Message):
            return _refusal(found.code, config.language, **found.params)
        sub = _with_metadata(found, root / "submission_metadata.json")
        result = grade_notebook(sub.path, student=sub.student, assignment=declared[assignment],
                                prepared=prepare(declared[assignment], config), config=config, source=sub.source,
                                files=sub.folder, isolation=isolation)
    result = _with_intake(result, sub)
    print(f"graded {_uploaded(sub.source)}: {result.score:g} / {result.max_score:g} ({result.sandbox} sandbox)",
          flush=True)
    return results_for(result, config, skipped)


def _isolation(mode: str) -> Isolation:
    if mode == "user":
        problem = sandbox.user_problem()
        if problem is not None:
            raise SandboxUnavailable(f"refusing to grade: {SANDBOX_ENV}=user, but {problem}")
        return "user"
    if mode != "auto":
        raise ValueError(f"{SANDBOX_ENV} must be auto or user, received {mode!r}")
    return sandbox.user_or_bwrap()


def results_for(result: SubmissionResult, config: CourseConfig, skipped: Sequence[Unrecognised] = ()) -> dict[str, Any]:
    """The ``results.json`` of a graded submission: the student's view (:func:`gradescope_results`)
    with plain-text outputs (what a notebook printed must never render as HTML), a note on what of the
    upload was left aside, and the student's page as ``extra_data.student_page_html``."""
    data = gradescope_results(result, config.show_hidden_inputs)
    notes = [u.text(config.language) for u in skipped]
    if notes:
        data["output"] = "\n".join([*notes, data["output"]]).strip()
    data["output_format"] = data["test_output_format"] = data["test_name_format"] = "text"
    data["extra_data"]["student_page_html"] = render_submission(result, config)
    return data


def _refusal(code: str, lang: str, **params: Any) -> dict[str, Any]:
    """A ``results.json`` without grades: the reason, in the course's language and in English."""
    message = Message(code, params)
    words = [message.text(lang)] + ([message.text("en")] if lang != "en" else [])
    return {"score": 0.0, "output": "\n".join(words), "output_format": "text", "stdout_visibility": "hidden",
            "extra_data": {"reason": message.to_json()}, "tests": []}


# --- the submission -------------------------------------------------------------------------------


def _the_notebook(submission: Path, tmp: Path, aliases: Mapping[str, Sequence[str]],
                  assignment: str) -> tuple[Submission | Message, list[Unrecognised]]:
    """The one notebook of the upload, read as one student's folder by the intake (every notebook
    is ``assignment``: Gradescope knows which assignment it is, whatever the file is called), and
    what was left aside; or, instead of the notebook, why there is none to grade."""
    folder = tmp / "upload" / _KEY
    if submission.is_dir():
        shutil.copytree(submission, folder, symlinks=True)
    else:
        folder.mkdir(parents=True)
    found, skipped = find_submissions(folder.parent, aliases, force_assignment=assignment, extract_to=tmp / "unzip")
    duplicates = [u for u in skipped if u.message is not None and u.message.code == "intake.duplicate"]
    if duplicates and found:
        names = sorted(_uploaded(s) for s in [found[0].source, *(u.path for u in duplicates)])
        return Message("gradescope.two_notebooks", {"count": len(names), "assignment": assignment,
                                                    "files": ", ".join(names)}), []
    if found:
        return found[0], skipped
    if skipped:
        return Message("gradescope.not_used", {"reasons": "; ".join(f"{_uploaded(u.path)}: {u.text('en')}"
                                                                    for u in skipped)}), []
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    listed = ", ".join(files[:20]) if files else nested("gradescope.nothing")
    return Message("gradescope.no_notebook", {"files": listed, "assignment": assignment}), []


def _uploaded(source: str) -> str:
    """A source as the student named it: without the folder the upload was copied into."""
    return source.removeprefix(f"{_KEY}/")


def _with_metadata(sub: Submission, metadata: Path) -> Submission:
    """``sub`` with the student and hand-in time of Gradescope's ``submission_metadata.json`` (its
    first user: ``id``, ``name``, ``email``; ``created_at``), when the file is there and readable."""
    try:
        data = json.loads(metadata.read_text(encoding="utf-8"))
        user = data["users"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return sub
    if not isinstance(user, Mapping):
        return sub
    record = StudentRecord(_KEY, name=str(user.get("name", "")), email=str(user.get("email", "")),
                           lms="gradescope", lms_id=str(user.get("id", "")))
    at = data.get("created_at") if isinstance(data, Mapping) else None
    submitted = Submitted(at=str(at), source="gradescope_metadata") if at else None
    return replace(sub, identity=record, submitted=submitted)


def _with_intake(result: SubmissionResult, sub: Submission) -> SubmissionResult:
    return replace(result, identity=sub.identity, submitted=sub.submitted)


# --- the container's permissions (the "user" isolation) -----------------------------------------


def lock_down(root: Path, config: CourseConfig, inspector_group: int | None = None,
              package: Path = sandbox.GRADER_PACKAGE) -> None:
    """Close the course to the kernel's user: ``root`` and ``source/`` may only be passed through
    (``0711``), every file of ``source/`` (``course.toml`` with the seed, the wheel) is the grader's
    alone, ``results/`` and ``submission_metadata.json`` too; the training faces are readable by all
    (the notebook trains on them), the held-out faces and the grader ``package`` (the reference
    answers) only by the inspector's group (``inspector_group``, default
    :data:`~grader.run.sandbox.INSPECTOR_USER`'s), which the kernel's user is not in."""
    if inspector_group is None:
        import grp

        inspector_group = grp.getgrnam(sandbox.INSPECTOR_USER).gr_gid
    _tree(root / "source", 0o700, 0o600)
    _tree(root / "results", 0o700, 0o600)
    for folder in (root, root / "source"):
        folder.chmod(0o711)
    if (root / "submission_metadata.json").exists():
        (root / "submission_metadata.json").chmod(0o600)
    faces = config.faces
    _tree(faces.train_dir, 0o755, 0o644)
    _tree(faces.heldout_dir, 0o750, 0o640, inspector_group)
    _tree(package, 0o750, 0o640, inspector_group)
    for path in (faces.train_dir, faces.heldout_dir):
        for parent in path.parents:  # passable, never opened to listing
            if parent.is_relative_to(root) and parent != root and parent.is_dir():
                parent.chmod(stat.S_IMODE(parent.stat().st_mode) | 0o111)


def _tree(top: Path, dirs: int, files: int, group: int | None = None) -> None:
    """Set the modes (and the group) of ``top`` and everything below it, never following a link; a
    file its owner may run (``run_autograder``) stays runnable by its owner."""
    if not top.exists():
        return
    for folder, names, leaves in os.walk(top):
        _mode(Path(folder), dirs, group)
        for name in leaves:
            _mode(Path(folder, name), files, group, keep=stat.S_IXUSR)


def _mode(path: Path, mode: int, group: int | None, keep: int = 0) -> None:
    if path.is_symlink():
        return
    if group is not None:
        os.chown(path, -1, group, follow_symlinks=False)
    path.chmod(mode | (stat.S_IMODE(path.stat().st_mode) & keep))


if __name__ == "__main__":
    sys.exit(main())
