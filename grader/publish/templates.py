"""Where the report templates are.

The repository keeps them in its top-level ``templates/`` folder; the build maps that folder into the
package (``pyproject.toml``: ``package-dir``, ``package-data``), so an installed wheel has them as
the package resource ``grader/templates/``. A source checkout (``PYTHONPATH=.``) or an editable
install has no such folder inside the package and uses the repository's own ``templates/``, found
next to the package's folder beside the ``pyproject.toml`` that names it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["PAGE", "TemplatesNotFound", "template_folder"]

PAGE = "submission.html.j2"  # every template folder has it; a folder without it is not one


class TemplatesNotFound(FileNotFoundError):
    """Neither the installed package nor the source tree around it has the report templates."""


def _packaged() -> Path | None:
    """``grader/templates/`` as installed from a wheel, if it is a folder on disk."""
    folder = files("grader").joinpath("templates")
    return folder if isinstance(folder, Path) and (folder / PAGE).is_file() else None


def _checkout() -> Path | None:
    """The repository's ``templates/`` when ``grader`` is imported from a source tree."""
    package = Path(str(files("grader"))).resolve()
    folder = package.parent / "templates"
    return folder if (package.parent / "pyproject.toml").is_file() and (folder / PAGE).is_file() else None


def template_folder() -> Path:
    """The folder of the report templates: the packaged one, else the source tree's."""
    folder = _packaged() or _checkout()
    if folder is None:
        raise TemplatesNotFound(
            f"no report templates: neither {files('grader')}/templates/ (installed from a wheel) nor a "
            "templates/ folder beside the source tree's pyproject.toml has " + PAGE
            + "; reinstall cnn-grader (pip install .) or run from a checkout of the repository"
        )
    return folder
