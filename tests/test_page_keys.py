"""A cached regrade renders only the student pages whose inputs changed (grader.publish.report.page_keys):
an unchanged page is left as it is, any one changed input renders it again, and nothing a student or
TA can do to the folder (a page edited, removed or replaced by a link, a keys file spoiled or forged)
makes the grader leave a page that is not the one it would render. Renders are counted, never timed."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import jinja2
import pytest

from test_report import ROOT, convolution_result, every_status_result

from grader import cli
from grader.classroom.batch import ClassRun
from grader.classroom.gradebook import load_results, read_results, result_path, write_result
from grader.course.config import CourseConfig, load_config
from grader.publish.report import page_keys, pages, paths, report_path, render_reports
from grader.publish.report.page_keys import KEYS_FILE


@pytest.fixture
def config(tmp_path: Path) -> CourseConfig:
    """The course, from a copy of its course.toml that a test may change."""
    course = tmp_path / "course" / "course.toml"
    course.parent.mkdir()
    shutil.copy(ROOT / "course.toml", course)
    return load_config(course, environ={})


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The student of every page rendered."""
    seen: list[str] = []
    real = pages.render_submission

    def counting(result, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(result.student)
        return real(result, *args, **kwargs)

    monkeypatch.setattr(pages, "render_submission", counting)
    return seen


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for result in (convolution_result(), every_status_result()):
        write_result(out, result)
    return out


STUDENTS = ["wang_fang", "zhang_wei"]


def regrade_render(out: Path, config: CourseConfig, lang: str = "en") -> list[Path]:
    """What ``grader grade`` renders: the stored results with their files' hashes, reusing pages."""
    results, files = read_results(out)
    return render_reports(out, results, config, lang, files=files, reuse=True)


def page_files(out: Path) -> dict[Path, tuple[bytes, int, int]]:
    """Every student page: its bytes, inode and modification time."""
    found = {}
    for path in (out / "report").glob("*/*.html"):
        info = path.stat()
        found[path] = (path.read_bytes(), info.st_ino, info.st_mtime_ns)
    return found


def test_an_unchanged_regrade_renders_and_rewrites_no_page(out: Path, config: CourseConfig,
                                                          renders: list[str]) -> None:
    regrade_render(out, config)
    assert sorted(renders) == STUDENTS
    before = page_files(out)
    renders.clear()
    written = regrade_render(out, config)
    assert renders == []
    assert page_files(out) == before  # the same files, not even rewritten
    assert written[:-1] == [report_path(out, s, a) for s, a in (("wang_fang", "01-convolution"),
                                                                 ("zhang_wei", "02-pooling"))]
    assert (out / "report" / "index.html").is_file()


def _change_result(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    write_result(out, convolution_result(flipped=False))
    return config, "en"


def _change_lang(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    return config, "zh"


def _change_course_bytes(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    with config.path.open("a", encoding="utf-8") as f:
        f.write("\n# a comment: the loaded configuration is the same\n")
    return config, "en"


def _change_loaded_config(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    return dataclasses.replace(config, show_hidden_inputs=True), "en"


def _change_seed(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    return load_config(config.path, environ={"GRADER_SEED": "7"}), "en"


def _change_template(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    folder = Path(paths.template_folder())
    with (folder / "_macros.html.j2").open("a", encoding="utf-8") as f:
        f.write("{# an edit that changes no byte of the page: the page is still made again #}\n")
    return config, "en"


def _change_code(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    monkeypatch.setattr(page_keys, "code_fingerprint", lambda: "another grader")
    return config, "en"


def _change_version(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    monkeypatch.setattr(page_keys, "__version__", "99.0")
    return config, "en"


def _change_library(out: Path, config: CourseConfig, monkeypatch: pytest.MonkeyPatch) -> tuple[CourseConfig, str]:
    monkeypatch.setattr(jinja2, "__version__", "0.0")
    return config, "en"


@pytest.fixture
def own_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the templates, used by the renderer and the keys alike."""
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    monkeypatch.setattr(paths, "template_folder", lambda: folder)
    monkeypatch.setattr(page_keys, "template_folder", lambda: folder)
    return folder


@pytest.mark.parametrize("change", [_change_result, _change_lang, _change_course_bytes, _change_loaded_config,
                                    _change_seed, _change_template, _change_code, _change_version,
                                    _change_library], ids=lambda f: f.__name__[len("_change_"):])
def test_changing_any_one_input_renders_the_page_again(out: Path, config: CourseConfig, renders: list[str],
                                                       monkeypatch: pytest.MonkeyPatch, own_templates: Path,
                                                       change) -> None:  # type: ignore[no-untyped-def]
    regrade_render(out, config)
    renders.clear()
    config, lang = change(out, config, monkeypatch)
    regrade_render(out, config, lang)
    assert sorted(renders) == (["wang_fang"] if change is _change_result else STUDENTS)


def test_every_input_the_renderer_reads_is_in_the_key(out: Path, config: CourseConfig, renders: list[str]) -> None:
    """What the key does not cover must not change the page: a page rendered anew is the page left."""
    regrade_render(out, config)
    before = page_files(out)
    os.remove(out / KEYS_FILE)
    regrade_render(out, config)
    assert {p: v[0] for p, v in page_files(out).items()} == {p: v[0] for p, v in before.items()}


def _edit(page: Path, tmp_path: Path) -> None:
    page.write_bytes(page.read_bytes().replace(b"90", b"100"))


def _remove(page: Path, tmp_path: Path) -> None:
    page.unlink()


def _link(page: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.html"
    target.write_bytes(page.read_bytes())  # even the very same bytes, through a link, are not left
    page.unlink()
    page.symlink_to(target)


def _link_folder(page: Path, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    shutil.copytree(page.parent, folder)
    shutil.rmtree(page.parent)
    page.parent.symlink_to(folder)


@pytest.mark.parametrize("spoil", [_edit, _remove, _link, _link_folder], ids=lambda f: f.__name__[1:])
def test_a_page_tampered_with_is_rendered_again(out: Path, config: CourseConfig, renders: list[str],
                                                tmp_path: Path, spoil) -> None:  # type: ignore[no-untyped-def]
    regrade_render(out, config)
    page = report_path(out, "wang_fang", "01-convolution")
    good = page.read_bytes()
    spoil(page, tmp_path)
    renders.clear()
    regrade_render(out, config)
    assert renders == ["wang_fang"]
    assert page.read_bytes() == good and not page.is_symlink()


def _garbage(keys: Path, out: Path) -> None:
    keys.write_bytes(b"\xff{not json")


def _open_mode(keys: Path, out: Path) -> None:
    os.chmod(keys, 0o644)


def _symlink(keys: Path, out: Path) -> None:
    forged = out.parent / "forged.json"
    shutil.copy(keys, forged)
    os.chmod(forged, 0o600)
    keys.unlink()
    keys.symlink_to(forged)


def _other_owner(keys: Path, out: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    os.chown(keys, 4242, 4242)


def _wrong_shape(keys: Path, out: Path) -> None:
    data = json.loads(keys.read_text(encoding="utf-8"))
    keys.write_text(json.dumps({**data, "pages": {k: "x" for k in data["pages"]}}), encoding="utf-8")


def _another_result(keys: Path, out: Path) -> None:
    """Not the forgery: the keys say wang_fang's page was made from zhang_wei's result."""
    data = json.loads(keys.read_text(encoding="utf-8"))
    names = data["pages"]
    [mine] = [k for k in names if "wang_fang" in k]
    [other] = [k for k in names if "zhang_wei" in k]
    names[mine] = [names[other][0], names[mine][1]]
    keys.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(keys, 0o600)


@pytest.mark.parametrize("spoil", [_garbage, _open_mode, _symlink, _other_owner, _wrong_shape, _another_result],
                         ids=lambda f: f.__name__[1:])
def test_a_spoiled_or_forged_keys_file_leaves_no_stale_page(out: Path, config: CourseConfig, renders: list[str],
                                                            spoil) -> None:  # type: ignore[no-untyped-def]
    """The stale page of an earlier result, and a keys file forged to say it is the new result's:
    refused unless it is the instructor's own private regular file, so the page is made again."""
    regrade_render(out, config)
    keys, page = out / KEYS_FILE, report_path(out, "wang_fang", "01-convolution")
    assert (keys.stat().st_mode & 0o777) == 0o600
    stale = page.read_bytes()
    write_result(out, convolution_result(flipped=False))
    new_sha = read_results(out)[1][result_path(out, "wang_fang", "01-convolution")]
    data = json.loads(keys.read_text(encoding="utf-8"))
    [mine] = [k for k in data["pages"] if "wang_fang" in k]
    data["pages"][mine][0] = new_sha  # the forgery: "this page is the new result's"
    keys.write_text(json.dumps(data), encoding="utf-8")
    spoil(keys, out)
    renders.clear()
    regrade_render(out, config)
    assert "wang_fang" in renders and page.read_bytes() != stale
    assert not keys.is_symlink() and (keys.stat().st_mode & 0o777) == 0o600


def test_grader_report_renders_every_page_and_keeps_their_keys(out: Path, config: CourseConfig,
                                                               renders: list[str]) -> None:
    regrade_render(out, config)
    renders.clear()
    results, files = read_results(out)
    render_reports(out, results, config, "en", files=files)
    assert sorted(renders) == STUDENTS
    renders.clear()
    regrade_render(out, config)
    assert renders == []


def test_a_page_that_failed_to_render_is_tried_again(out: Path, config: CourseConfig,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real, tries, failed = pages.render_submission, [], []

    def failing(result, *args, **kwargs):  # type: ignore[no-untyped-def]
        tries.append(result.student)
        if result.student == "wang_fang" and not failed:
            failed.append(result.student)
            raise RuntimeError("a renderer bug")
        return real(result, *args, **kwargs)

    monkeypatch.setattr(pages, "render_submission", failing)
    regrade_render(out, config)
    page = report_path(out, "wang_fang", "01-convolution")
    stand_in = page.read_bytes()
    tries.clear()
    regrade_render(out, config)
    assert tries == ["wang_fang"] and page.read_bytes() != stand_in


def test_a_run_renders_its_results_as_held_the_same_as_from_their_files(out: Path, config: CourseConfig,
                                                                         tmp_path: Path) -> None:
    """``grader grade`` renders this run's results from memory, not from their files: the pages are
    the ones ``grader report`` makes from the files."""
    held = [convolution_result(), every_status_result()]
    files = read_results(out)[1]
    for path in files:  # were they read, these would be skipped as unreadable
        path.write_text("not json", encoding="utf-8")
    run = ClassRun(results=held, files=files)
    cli._render(out, config, "en", run)
    from_memory = page_files(out)
    for result in held:
        write_result(out, result)
    render_reports(out, load_results(out), config, "en")
    assert {p: v[0] for p, v in page_files(out).items()} == {p: v[0] for p, v in from_memory.items()}


def test_a_result_file_the_run_did_not_write_is_read_and_keyed(out: Path, config: CourseConfig,
                                                                renders: list[str]) -> None:
    """An earlier run's result (a student not in this run) is still rendered, from its file."""
    held = [convolution_result()]
    path = result_path(out, "wang_fang", "01-convolution")
    run = ClassRun(results=held, files={path: read_results(out)[1][path]})
    cli._render(out, config, "en", run)
    assert sorted(renders) == STUDENTS
    renders.clear()
    cli._render(out, config, "en", run)
    assert renders == []
