"""A submission's temporary folder and the kernel launched in it.

:class:`Workspace` is made before the submission is read, so that a class run can launch it ahead
(:mod:`grader.run.pool`); the student's own files are copied in (:func:`copy_files`, counted against
the scratch space first) and the course's ``selfcheck/`` installed over whatever had that name
(:func:`replace_selfcheck`). The model inspector of a submission is confined like its kernel
(:func:`inspector_for`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..course.config import CourseConfig, Limits
from ..course.spec import Assignment
from ..judge.catalog import Message
from ..run import sandbox
from ..run.execute import Launch
from ..run.harness import EXCHANGE
from ..run.inspect_model import Inspector
from ..run.sandbox import NO_SPACE, Confinement, Isolation, ScratchSpace, is_out_of_space
from .kit import install_selfcheck

__all__ = ["Workspace", "preload_for"]

_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


def _kernel_env(config: CourseConfig, scratch: Path) -> dict[str, str]:
    """A short allow-list: no seed, tokens or credentials from the instructor's shell."""
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update(HOME=str(scratch), MPLBACKEND="agg", PYTHONHASHSEED="0", TF_CPP_MIN_LOG_LEVEL="2",
               FACES_DIR=str(config.faces.train_dir))
    return env


_IGNORED = shutil.ignore_patterns("*.ipynb", ".*")


def _not_copied(root: Path) -> Callable[[str, list[str]], set[str]]:
    """What stays out of the scratch copy of ``root``: notebooks, hidden files, and symbolic links
    leading out of the student's folder (at ``course.toml``, ``solutions/``…). A link to a file of
    the student's own folder is kept: it works the same in the copy."""
    inside = root.resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        links = {n for n in names if os.path.islink(os.path.join(folder, n))}
        outside = {n for n in links if not Path(folder, n).resolve().is_relative_to(inside)}
        return set(_IGNORED(folder, names)) | outside

    return ignore


class Workspace:
    """A submission's temporary folder — ``work/`` (the scratch folder, the kernel's cwd),
    ``models/`` (returned Keras models, out of the kernel's reach) and, once a model is inspected,
    ``inspector/`` (the inspector's private copies) — and the kernel launched in it.
    Made before the submission is read, so a class run can launch it ahead (:mod:`grader.run.pool`).

    ``work/`` is capped at ``[limits] scratch_mb`` (:class:`~grader.run.sandbox.ScratchSpace`: a tmpfs
    where the grader may mount) before the student's files are copied in, so a folder too large for
    it is that submission's error (:func:`copy_files`), found before anything is written."""

    def __init__(self, assignment: Assignment, config: CourseConfig, isolation: Isolation, jobs: int = 1,
                 preload: tuple[str, ...] | None = None) -> None:
        """``jobs`` is how many kernels run at once here: without ``[limits] cpus`` each one's CPU
        quota is a fair share of the cores (:func:`grader.run.sandbox.fair_cpus`). ``preload`` is
        what the kernel imports as it starts (:func:`preload_for`; the assignment's whole list
        when not given)."""
        self.folder = Path(tempfile.mkdtemp(prefix="cnn-grader-"))
        self.scratch = self.folder / "work"
        self.scratch.mkdir()
        limits = config.limits_for(assignment.id)
        cpus = limits.cpus if limits.cpus is not None else sandbox.fair_cpus(jobs)
        self.user = user = sandbox.KERNEL_USER if isolation == "user" else None
        confinement = Confinement(self.scratch, _kernel_env(config, self.scratch), (config.faces.train_dir,),
                                  limits.memory_mb, limits.cpu_time, limits.processes, isolation, cpus,
                                  limits.scratch_mb, user)
        try:
            self.space = ScratchSpace(self.scratch, limits.scratch_mb, separate=(EXCHANGE,))
            if user is not None:  # the kernel's user may pass through to work/, and see nothing else here
                self.folder.chmod(0o711)
                self.hand_over()
            try:
                self.launch = Launch(confinement, assignment.preload if preload is None else preload)
            except BaseException:
                self.space.close()
                raise
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def hand_over(self) -> None:
        """Give the scratch folder and what the grader put in it to the kernel's user, when it runs
        as one (the "user" isolation): the student's files are theirs to change, as in Jupyter."""
        sandbox.hand_over(self.scratch, self.user, tree=True)

    def limits(self) -> dict[str, str]:
        """How the kernel's limits are really enforced here, for the result."""
        return sandbox.limits_in_force(self.launch.cgroup, self.space.mode)

    def close(self) -> None:
        self.launch.close()  # the kernel and everything it started are gone: nothing holds the tmpfs
        self.space.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def preload_for(assignment: Assignment, notebook: Path) -> tuple[str, ...]:
    """The assignment's preloads this notebook may use: those whose package its file names at all.

    A preload is CPU a kernel spends before the student's first cell; ``matplotlib.pyplot`` alone
    is half a second, more than a light NumPy notebook's grading, so a notebook that never names
    matplotlib gets a kernel without it. The file's bytes are searched, never parsed or run: a
    module named only in a comment or an output is preloaded for nothing (as every preload was
    before), and one imported under a name made at run time is imported by the student's cell,
    as in Jupyter. The grade cannot differ: a preload binds no name in the student's namespace."""
    try:
        text = notebook.read_bytes()
    except OSError:  # reported where the notebook is read; the kernel gets the whole list meanwhile
        return assignment.preload
    return tuple(module for module in assignment.preload if module.partition(".")[0].encode("ascii") in text)


def inspector_for(workspace: Workspace, config: CourseConfig, limits: Limits) -> Inspector:
    """The submission's model inspector, confined like its kernel (the same limits and isolation).
    Its process starts at the first model, if any, and ends with the submission; it gets its own
    folder, beside ``work/`` and out of the kernel's reach. A request may take as long as a cell:
    the first one starts TensorFlow, and an evaluation runs the model on the held-out split."""
    confinement = workspace.launch.confinement
    return Inspector(workspace.folder / "inspector", heldout=config.faces.heldout_dir, memory_mb=limits.memory_mb,
                     cpu_time=limits.cpu_time, processes=limits.processes, timeout=limits.cell_timeout,
                     isolation=confinement.isolation, cpus=confinement.cpus, scratch_mb=limits.scratch_mb)


_MB = 1024 * 1024


def copy_files(files: Path, scratch: Path, limit_mb: int) -> Message | None:
    """Copy the student's folder into the scratch folder; or, when it holds more than the scratch
    space (counted before copying, so a per-file limit or the instructor's disk never sees it), the
    reason the submission cannot be graded. None when copied."""
    ignore = _not_copied(files)
    total = 0
    for folder, dirs, names in os.walk(files):
        skipped = ignore(folder, [*dirs, *names])
        dirs[:] = [d for d in dirs if d not in skipped and not os.path.islink(os.path.join(folder, d))]
        total += sum(os.lstat(os.path.join(folder, n)).st_size for n in names if n not in skipped)
    too_big = Message("too_big", {"size": f"{total / _MB:,.1f}", "limit": limit_mb})
    if total > limit_mb * _MB:
        return too_big
    try:
        shutil.copytree(files, scratch, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    except shutil.Error as exc:  # copytree gathers per-file errors: (source, destination, reason)
        full = [f"[Errno {code}]" for code in NO_SPACE]
        if any(code in str(why) for *_, why in exc.args[0] for code in full):
            return too_big
        raise
    except OSError as exc:
        if is_out_of_space(exc):  # file-system overhead (inodes, blocks) beyond the sizes counted
            return too_big
        raise
    return None


def replace_selfcheck(config: CourseConfig, scratch: Path) -> None:
    """The course's ``selfcheck/`` in place of whatever the student's folder had under that name.
    A link kept by the copy (one into their own folder, possibly absolute) would have been written
    through — by the grader, outside the scratch folder — so what is there is removed first, never
    followed (rmtree does not follow links; a link itself is unlinked)."""
    target = scratch / "selfcheck"
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    install_selfcheck(config, scratch)
