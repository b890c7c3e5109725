"""``grader gradescope ASSIGNMENT``: the autograder zip for Gradescope's "Zip file upload".

Gradescope wants ``setup.sh`` and ``run_autograder`` at the root of the zip (not in a folder); the
zip is unpacked into ``/autograder/source``, ``setup.sh`` runs once as root when the image is built,
on Ubuntu 22.04 (the default base image, with Python 3.10), and ``run_autograder`` once per
submission (gradescope-autograders.readthedocs.io "Autograder Specifications" and "Base images",
gradescope/autograder_samples ``docs/specs.md``, ``docs/base_images.md``). What it holds:

- ``setup.sh``: Python 3.11 from Ubuntu's own ``python3.11`` package (jammy universe; the deadsnakes
  PPA when that fails), a venv ``/opt/cnn-grader`` with the grader installed from the wheel in the
  zip (its dependencies from PyPI), bubblewrap, and the two unprivileged accounts of the fallback
  confinement (:data:`grader.run.sandbox.KERNEL_USER`, :data:`~grader.run.sandbox.INSPECTOR_USER`);
  then the course's data (the synthetic faces) is made, once;
- ``run_autograder``: ``python -m grader.authoring.autograder --assignment ID`` with the venv's
  Python (``GRADER_PYTHON`` overrides it, for a test), root from ``GRADESCOPE_ROOT``;
- the wheel of this grader, built from the checkout it runs from;
- the hidden-test configuration: ``course.toml`` (points, limits, tolerances, the seed) and, when the
  face set is not synthetic, the configured training and held-out folders.

Never ``solutions/``, ``assignments/``, results or submissions: the members are listed here, not
gathered from the course folder. Members carry a fixed date, so the same course gives the same zip.
"""

from __future__ import annotations

import io
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..course.assignments import course_assignments
from ..course.config import ConfigError, CourseConfig
from ..run.sandbox import INSPECTOR_USER, KERNEL_USER, grader_root

__all__ = ["VENV", "autograder_files", "build_autograder", "run_autograder_script", "setup_script"]

VENV = "/opt/cnn-grader"
_EXECUTABLE = ("setup.sh", "run_autograder")

_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04: Python 3.10).
# Written by `grader gradescope {assignment}`; do not edit, rebuild the zip instead.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
SOURCE="$ROOT/source"  # where Gradescope unpacked the zip

apt-get update
# Python >= 3.11: Ubuntu 22.04 has python3.11 in universe; the deadsnakes PPA if that is not at hand.
if ! apt-get install -y --no-install-recommends python3.11 python3.11-venv; then
    apt-get install -y --no-install-recommends software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
fi
# The sandbox: used when Gradescope's container lets it create namespaces; else the accounts below.
apt-get install -y --no-install-recommends bubblewrap || echo "bubblewrap not installed: kernels run as {kernel_user}"

python3.11 -m venv {venv}
{venv}/bin/pip install --disable-pip-version-check --no-cache-dir "$SOURCE/{wheel}"{kernel_packages}

# The fallback confinement: the student's kernel runs as {kernel_user}, which may read nothing of the
# course; the model inspector as {inspector_user}, whose group may read the grader and the held-out data.
for account in {kernel_user} {inspector_user}; do
    id -u "$account" >/dev/null 2>&1 ||
        useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$account"
done

GRADESCOPE_ROOT="$ROOT" {venv}/bin/python -m grader.authoring.autograder \\
    --assignment {assignment} --prepare
"""

_RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in /autograder.
# Written by `grader gradescope {assignment}`; do not edit, rebuild the zip instead.
export GRADESCOPE_ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
exec "${{GRADER_PYTHON:-{venv}/bin/python}}" -m grader.authoring.autograder --assignment {assignment}
"""


def setup_script(assignment: str, wheel: str, kernel_packages: tuple[str, ...] = ()) -> str:
    """``setup.sh``; ``kernel_packages`` (``course.toml`` ``[kernel] packages``) are installed with the
    grader, as ``grader packages --install`` does, since the kernel runs the grader's interpreter."""
    extra = "".join(f" {shlex.quote(requirement)}" for requirement in kernel_packages)
    return _SETUP.format(assignment=assignment, wheel=wheel, venv=VENV, kernel_user=KERNEL_USER,
                         inspector_user=INSPECTOR_USER, kernel_packages=extra)


def run_autograder_script(assignment: str) -> str:
    return _RUN.format(assignment=assignment, venv=VENV)


def build_wheel(folder: Path) -> Path:
    """This grader's wheel, built into ``folder`` from the checkout it runs from (a copy of what the
    build reads, so nothing lands in the checkout)."""
    source = grader_root()
    if not (source / "pyproject.toml").is_file():
        raise ConfigError(f"`grader gradescope` builds the grader's wheel from its checkout, and {source} is none: "
                          "run it from a clone of the course repository (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="cnn-grader-wheel-") as tmp:
        copy = Path(tmp) / "src"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(source / name, copy / name)
        for name in ("grader", "templates"):
            shutil.copytree(source / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                               "--disable-pip-version-check", "--quiet", "--wheel-dir", str(folder), str(copy)],
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(f"building the grader's wheel failed: {done.stderr.strip()[-2000:]}")
    wheel, = folder.glob("cnn_grader-*.whl")
    return wheel


def autograder_files(config: CourseConfig, assignment: str, wheel: Path) -> dict[str, bytes]:
    """Every member of the autograder zip by its path: the two scripts, the wheel, ``course.toml``,
    and the face folders when they are real data (a synthetic set is made by ``setup.sh``)."""
    if assignment not in config.assignments or assignment not in course_assignments():
        raise ConfigError(f"{assignment!r} is not an assignment of {config.root / 'course.toml'} "
                          f"(known: {', '.join(config.assignments)})")
    files = {
        "setup.sh": setup_script(assignment, wheel.name, config.kernel_packages).encode("utf-8"),
        "run_autograder": run_autograder_script(assignment).encode("utf-8"),
        wheel.name: wheel.read_bytes(),
        "course.toml": (config.root / "course.toml").read_bytes(),
    }
    needs_faces = "faces" in course_assignments()[assignment].needs
    if needs_faces and not config.faces.synthetic:
        for folder in (config.faces.train_dir, config.faces.heldout_dir):
            if not folder.is_relative_to(config.root):
                raise ConfigError(f"[faces] {folder} is outside the course folder: the autograder zip cannot "
                                  "carry it to the same place")
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    files[path.relative_to(config.root).as_posix()] = path.read_bytes()
    return files


def build_autograder(config: CourseConfig, assignment: str, out: Path | None = None) -> Path:
    """Write the autograder zip of ``assignment`` (default ``dist/gradescope/ASSIGNMENT.zip`` in the
    course folder); return its path."""
    out = Path(out) if out is not None else config.root / "dist" / "gradescope" / f"{assignment}.zip"
    with tempfile.TemporaryDirectory(prefix="cnn-grader-gradescope-") as tmp:
        files = autograder_files(config, assignment, build_wheel(Path(tmp)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_zip(files))
    return out


def _zip(members: dict[str, bytes]) -> bytes:
    """The members at the zip's root in name order, with a fixed date; ``setup.sh`` and
    ``run_autograder`` marked executable (a Unix mode in the external attributes), so they run
    however the zip is unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if name in _EXECUTABLE else 0o644
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, members[name])
    return buffer.getvalue()
