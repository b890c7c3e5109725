"""Where the report templates are found: in the installed package, else in the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.publish import templates
from grader.publish.report import ReportError
from grader.publish.report.paths import jinja_environment

ROOT = Path(__file__).resolve().parents[1]


def _package(root: Path, *, packaged: bool, checkout: bool) -> Path:
    """A fake ``grader`` folder inside ``root``, with templates inside it, beside it, or neither."""
    package = root / "grader"
    package.mkdir(parents=True)
    if packaged:
        (package / "templates").mkdir()
        (package / "templates" / templates.PAGE).write_text("packaged", encoding="utf-8")
    if checkout:
        (root / "pyproject.toml").write_text("", encoding="utf-8")
        (root / "templates").mkdir()
        (root / "templates" / templates.PAGE).write_text("checkout", encoding="utf-8")
    return package


def test_a_checkout_uses_the_repositorys_templates_folder() -> None:
    assert templates.template_folder() == ROOT / "templates"
    assert jinja_environment().get_template(templates.PAGE).filename == str(ROOT / "templates" / templates.PAGE)


@pytest.mark.parametrize(("packaged", "checkout", "expected"), [
    (True, False, "grader/templates"),
    (True, True, "grader/templates"),  # the wheel's copy wins over a folder beside site-packages
    (False, True, "templates"),
])
def test_the_packaged_templates_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           packaged: bool, checkout: bool, expected: str) -> None:
    package = _package(tmp_path, packaged=packaged, checkout=checkout)
    monkeypatch.setattr(templates, "files", lambda name: package)
    assert templates.template_folder() == tmp_path / expected


def test_a_templates_folder_without_a_pyproject_beside_it_is_not_the_checkouts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """site-packages/templates/ may be anyone's: only a source tree's (beside pyproject.toml) counts."""
    package = _package(tmp_path, packaged=False, checkout=True)
    (tmp_path / "pyproject.toml").unlink()
    monkeypatch.setattr(templates, "files", lambda name: package)
    with pytest.raises(templates.TemplatesNotFound, match="reinstall cnn-grader"):
        templates.template_folder()


def test_no_templates_is_a_report_error_that_says_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = _package(tmp_path, packaged=False, checkout=False)
    monkeypatch.setattr(templates, "files", lambda name: package)
    with pytest.raises(ReportError, match=f"neither {package}/templates/"):
        jinja_environment()
