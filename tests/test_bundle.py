"""The student bundle: what it holds, that it is in sync and byte-deterministic, and that nothing
secret leaks into it (no reference or mistake source, no solution text, no seed, no held-out data)."""

from __future__ import annotations

import ast
import inspect
import io
import json
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import nbformat
import pytest

from grader.course.assignments import course_assignments
from grader.authoring.bundle import build_bundle, bundle_files
from grader.cli import main
from grader.course.config import load_config
from grader.authoring.release import BEGIN, END, released_text
from grader.authoring.validate import validate

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_config(ROOT / "course.toml", environ={})
NOTEBOOKS = ("01-convolution", "02-pooling", "03-parameter-counting", "04-gender-cnn")


def course_copy(tmp_path: Path) -> Path:
    """course.toml, solutions/, assignments/ and the committed bundle, in a folder of their own."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "course.toml", root)
    for folder in ("solutions", "assignments", "dist/student"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


# -- contents --------------------------------------------------------------------------------------
JUDGE = ROOT / "grader" / "judge"
SHARED_MODULES = tuple(sorted(p.name for p in JUDGE.glob("*.py") if p.name not in ("__init__.py", "selfcheck.py")))


def test_the_bundle_holds_the_notebooks_the_guide_and_the_selfcheck() -> None:
    files = bundle_files(CONFIG)
    assert {"compare.py", "diagnose.py", "results.py", "summary.py"} <= set(SHARED_MODULES)
    notebooks = {f"{n}.ipynb" for n in NOTEBOOKS}
    code = {f"selfcheck/{m}" for m in ("__init__.py", "__main__.py", *SHARED_MODULES)}
    data = {f"selfcheck/data/{n}.{ext}" for n in NOTEBOOKS[:3] for ext in ("json", "npz")}
    assert set(files) == notebooks | code | data | {"README.md", "selfcheck/data/manifest.json"}
    for name in NOTEBOOKS:
        assert files[f"{name}.ipynb"] == released_text(ROOT / "solutions" / f"{name}.ipynb").encode()
    assert files["selfcheck/__init__.py"] == (JUDGE / "selfcheck.py").read_bytes()
    for module in SHARED_MODULES:
        assert files[f"selfcheck/{module}"] == (JUDGE / module).read_bytes(), "shared verbatim, not copied"
    guide = files["README.md"].decode()
    assert "中文" in guide and "English" in guide and "python -m selfcheck 01-convolution.ipynb" in guide
    assert "SELFCHECK_LANG" in guide and 'check("conv2d")' in guide
    manifest = json.loads(files["selfcheck/data/manifest.json"])
    assert manifest["language"] == CONFIG.language
    assert manifest["assignments"]["04-gender-cnn"]["no_public"] == [
        q.id for q in course_assignments()["04-gender-cnn"].questions]
    assert manifest["assignments"]["01-convolution"]["no_public"] == []


def _runtime_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run, i.e. not those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        else:
            yield from (n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))


def test_the_judge_modules_import_nothing_but_numpy_and_each_other() -> None:
    stdlib = {"__future__", "_thread", "builtins", "collections", "contextlib", "dataclasses", "functools", "io",
              "json", "math", "os", "pathlib", "re", "string", "sys", "threading", "traceback", "typing",
              "unicodedata"}
    siblings = {Path(m).stem for m in SHARED_MODULES}
    for module in ("selfcheck.py", *SHARED_MODULES):
        for node in _runtime_imports(ast.parse((JUDGE / module).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module in siblings, f"{module} imports .{node.module}, which the bundle lacks"
            else:
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert all(n.split(".")[0] in stdlib | {"numpy"} for n in names), f"{module} imports {names}"


def test_the_committed_bundle_is_in_sync() -> None:
    stale = [(r.path, r.status) for r in build_bundle(CONFIG, check=True) if r.status != "unchanged"]
    assert stale == [], "run `grader release` and commit dist/student/"


def test_release_writes_identical_bytes_every_time(tmp_path: Path) -> None:
    root = course_copy(tmp_path)
    args = ["--course", str(root / "course.toml"), "release"]
    assert main(args) == 0
    zipped = (root / "dist" / "student.zip").read_bytes()
    npz = (root / "dist/student/selfcheck/data/01-convolution.npz").read_bytes()
    assert main(args) == 0
    assert (root / "dist" / "student.zip").read_bytes() == zipped
    assert (root / "dist/student/selfcheck/data/01-convolution.npz").read_bytes() == npz
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        names = archive.namelist()
    assert "student/selfcheck/__init__.py" in names and "student/01-convolution.ipynb" in names


def test_release_check_names_stale_missing_and_orphan_bundle_files(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    root = course_copy(tmp_path)
    bundle = root / "dist" / "student"
    data = bundle / "selfcheck" / "data" / "01-convolution.json"
    data.write_text(data.read_text(encoding="utf-8").replace("course example", "course exemple"), encoding="utf-8")
    (bundle / "README.md").unlink()
    (bundle / "notes.txt").write_text("left behind", encoding="utf-8")
    (bundle / "selfcheck" / "__pycache__").mkdir(exist_ok=True)
    (bundle / "selfcheck" / "__pycache__" / "x.pyc").write_bytes(b"cache")  # ignored: Python's own
    args = ["--course", str(root / "course.toml"), "release"]
    assert main(args + ["--check"]) == 1
    err = capsys.readouterr().err
    assert "dist/student/selfcheck/data/01-convolution.json: is out of date with solutions/" in err
    assert "dist/student/README.md: is missing" in err
    assert "dist/student/notes.txt: is not part of the bundle" in err
    assert "3 file(s) out of sync" in err and "__pycache__" not in err
    assert main(args) == 0 and main(args + ["--check"]) == 0
    assert not (bundle / "notes.txt").exists()


def test_validate_reports_an_out_of_sync_bundle(tmp_path: Path) -> None:
    """On a course with one undeclared assignment, so that nothing is graded: only the sync checks."""
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "02-pooling.ipynb", root / "solutions" / "99-extra.ipynb")
    (root / "course.toml").write_text('[course]\nname = "t"\nseed = 1\n[faces]\ntrain_dir = "a"\nheldout_dir = "b"\n'
                                      "[assignments.99-extra]\npoints = { x = 1 }\n", encoding="utf-8")
    assert main(["--course", str(root / "course.toml"), "release"]) == 0
    config = load_config(root / "course.toml")
    assert [f.check for f in validate(config) if not f.ok] == ["course.toml · 99-extra"]
    (root / "dist/student/selfcheck/summary.py").write_text("# edited by hand\n", encoding="utf-8")
    failed = {f.check: f.detail for f in validate(config) if not f.ok}
    assert failed["bundle · dist/student/selfcheck/summary.py"] == "stale: run `grader release`"
    assert "bundle" in failed


# -- leaks -----------------------------------------------------------------------------------------
def _source_segments() -> Iterator[tuple[str, str]]:
    """(what, source) of every function of grader/reference (read, not imported: no TensorFlow)
    and of every declared mistake's variant."""
    for path in sorted((ROOT / "grader" / "course" / "reference").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"reference {path.stem}.{node.name}", ast.get_source_segment(text, node) or ""
    for assignment in course_assignments().values():
        for question in assignment.questions:
            for mistake in question.mistakes:
                yield f"mistake {assignment.id}.{question.id}.{mistake.id}", inspect.getsource(mistake.variant)


def _code_lines(source: str) -> list[str]:
    """The lines of a function that only its own code would contain: code, not docstrings or
    comments, longer than 40 characters (shorter ones, like ``return out`` or an ``isinstance``
    test, turn up in any code)."""
    lines, in_docstring = [], False
    for line in source.splitlines():
        text = line.strip().split("  #")[0].rstrip()
        quoted = text.count('"""') % 2 == 1 or (text.startswith('"""') and text.count('"""') == 2)
        if not in_docstring and not quoted and len(text) > 40 and not text.startswith("#"):
            lines.append(text)
        in_docstring ^= text.count('"""') % 2 == 1
    return lines


def _solution_lines() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        inside = False
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if line.strip() in (BEGIN, END):
                    inside = line.strip() == BEGIN
                elif inside and len(line.strip()) > 25:
                    yield f"solution line of {path.name}", line.strip()


def _public_lines() -> set[str]:
    """Every line of the released notebooks: public by design (given cells, signatures). Whether
    they hold solution text is tests/test_notebooks.py's question."""
    return {line.strip() for path in (ROOT / "solutions").glob("*.ipynb")
            for cell in nbformat.reads(released_text(path), as_version=4).cells for line in cell.source.splitlines()}


def forbidden() -> dict[str, str]:
    """needle -> what it is."""
    public = _public_lines()
    needles = {}
    for what, source in _source_segments():
        needles[source.strip()] = what
        needles.update({line: what for line in _code_lines(source) if line not in public})
    needles.update({line: what for what, line in _solution_lines() if line not in public})
    needles.update({str(CONFIG.seed): "the seed", f"{CONFIG.seed:_}": "the seed"})
    heldout = CONFIG.faces.heldout_dir
    needles.update({str(heldout): "the held-out path", heldout.relative_to(ROOT).as_posix(): "the held-out path"})
    return needles


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            yield "".join(value)  # a notebook cell's source lines
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


def _views(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every readable form of a file: its bytes, the strings inside JSON (notebooks escape quotes),
    and the members of a zip (the .npz, the student.zip) with their own views."""
    yield name, data
    if name.endswith((".json", ".ipynb")):
        yield name, "\n".join(_strings(json.loads(data))).encode("utf-8")
    if name.endswith((".zip", ".npz")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from _views(f"{name}!{member}", archive.read(member))


def leaks(files: Mapping[str, bytes]) -> list[str]:
    needles = {needle.encode("utf-8"): what for needle, what in forbidden().items() if needle}
    found = []
    for name, data in files.items():
        for view_name, view in _views(name, data):
            found += [f"{view_name}: {what}: {needle[:60]!r}" for needle, what in needles.items() if needle in view]
    return sorted(set(found))


def _folder(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_scan_knows_what_to_look_for() -> None:
    needles = forbidden()
    kinds = {what.split(" ")[0] for what in needles.values()}
    assert {"reference", "mistake", "solution", "the"} <= kinds
    assert "52913007" in needles and "52_913_007" in needles
    assert sum(what.startswith("solution line") for what in needles.values()) > 30


def test_nothing_secret_is_in_the_bundle_or_its_zip(tmp_path: Path) -> None:
    root = course_copy(tmp_path)
    assert main(["--course", str(root / "course.toml"), "release"]) == 0
    files = _folder(ROOT / "dist" / "student")
    files["student.zip"] = (root / "dist" / "student.zip").read_bytes()
    assert leaks(files) == []
    assert not [n for n in files if n.endswith((".png", ".jpg", ".csv", ".keras"))], "no data files"


@pytest.mark.parametrize("plant", ["reference", "solution", "seed in an npz", "mistake"])
def test_a_planted_leak_is_found(plant: str) -> None:
    files = bundle_files(CONFIG)
    if plant == "reference":
        source = next(s for what, s in _source_segments() if what == "reference convolution.conv2d")
        files["README.md"] += source.encode()
    elif plant == "solution":
        line = next(line for line, what in forbidden().items() if what == "solution line of 01-convolution.ipynb")
        nb = json.loads(files["01-convolution.ipynb"])
        nb["cells"][-1]["source"] = f"x = 1\n    {line}  \n"
        files["01-convolution.ipynb"] = json.dumps(nb, ensure_ascii=False).encode()
    elif plant == "seed in an npz":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("a0.npy", b"\x93NUMPY 52913007")
        files["selfcheck/data/02-pooling.npz"] = buffer.getvalue()
    else:
        source = next(s for what, s in _source_segments() if what.endswith("conv2d.flipped_kernel"))
        files["selfcheck/summary.py"] += _code_lines(source)[-1].encode()
    assert leaks(files), f"the planted {plant} was not found"
