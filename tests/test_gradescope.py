"""The Gradescope autograder: the zip `grader gradescope` writes, and `run_autograder` in a fake root.

Gradescope's side is its documentation (gradescope-autograders.readthedocs.io, "Autograder
Specifications"): the zip's root holds ``setup.sh`` and ``run_autograder``, the zip is unpacked into
``/autograder/source``, the student's files are in ``/autograder/submission`` and the one output is
``/autograder/results/results.json``, in the "Output format" written below as a JSON Schema.
"""

from __future__ import annotations

import io
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from grader.authoring import autograder
from grader.authoring.gradescope import build_autograder
from grader.course.assignments import course_assignments
from grader.course.config import load_config
from grader.grade.prepare import prepare
from grader.judge.results import call_of
from grader.run import harness, sandbox

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-convolution"
NOTEBOOK = ROOT / "examples/submissions/wang_fang/01-convolution.ipynb"  # flipped kernel: hidden groups fail

# The "Output format" of Gradescope's specification: every field it lists, with its type; the
# visibility, status and format enums as it states them; score at the top or on every test.
_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
_FORMAT = {"enum": ["text", "simple_format", "html", "md", "ansi"]}
GRADESCOPE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": _FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": _FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": _VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
        "leaderboard": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "value"],
                      "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                                     "order": {"enum": ["asc", "desc"]}}},
        },
    },
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"], "properties": {"tests": {"items": {"required": ["score"]}}}}],
}
# What this grader always writes on each test, on top of the specification.
OUR_TEST_FIELDS = {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}


def check_results(data: dict[str, Any]) -> None:
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    for test in data["tests"]:
        assert OUR_TEST_FIELDS <= set(test), test


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_autograder(load_config(ROOT / "course.toml"), ASSIGNMENT,
                            tmp_path_factory.mktemp("zip") / "autograder.zip")


def fake_root(tmp_path: Path, zip_path: Path) -> Path:
    """``/autograder`` as Gradescope lays it out: the zip unpacked into ``source/``, an empty
    ``submission/`` and ``results/``."""
    root = tmp_path / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the Unix mode; Gradescope's unzip keeps it
            (root / "source" / info.filename).chmod(info.external_attr >> 16 & 0o777)
    return root


# --- the zip ---------------------------------------------------------------------------------------


def _members(data: bytes) -> dict[str, bytes]:
    """Every member of a zip, and of the zips (the wheel) inside it, by path."""
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            members[name] = archive.read(name)
            if name.endswith((".whl", ".zip")):
                members.update({f"{name}!{inner}": body for inner, body in _members(members[name]).items()})
    return members


def test_setup_installs_the_courses_kernel_packages_with_the_grader() -> None:
    from grader.authoring.gradescope import setup_script

    script = setup_script(ASSIGNMENT, "cnn_grader-0.1.0-py3-none-any.whl", ("scikit-image>=0.22", "opencv-python"))
    install, = [line for line in script.splitlines() if "pip install" in line]
    assert install.endswith('cnn_grader-0.1.0-py3-none-any.whl" \'scikit-image>=0.22\' opencv-python')


def test_the_zip_has_the_scripts_at_its_root_and_the_course_configuration(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 & 0o777 for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "course.toml"} <= set(names)
    wheel, = [n for n in names if n.endswith(".whl")]
    assert all("/" not in n for n in names), names  # at the root, not in a folder
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert subprocess.run(["bash", "-n", "-c", setup]).returncode == 0
    assert wheel in setup and "python3.11" in setup and "bubblewrap" in setup and sandbox.KERNEL_USER in setup
    assert run.startswith("#!") and f"--assignment {ASSIGNMENT}" in run and "GRADESCOPE_ROOT:-/autograder" in run
    assert (ROOT / "course.toml").read_bytes() == _members(autograder_zip.read_bytes())["course.toml"]


def test_no_byte_of_any_solution_is_in_the_zip(autograder_zip: Path) -> None:
    """No solution notebook, whole or as any of its cells (as the .ipynb stores them, or as code):
    the grader's reference answers are in the wheel (they must be), the notebooks are not."""
    members = _members(autograder_zip.read_bytes())
    everything = b"\0".join(members.values())
    assert not [n for n in members if re.search(r"(^|!)(solutions|assignments)/", n)]
    for master in sorted((ROOT / "solutions").glob("*.ipynb")):
        assert master.read_bytes() not in everything
        nb = json.loads(master.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            stored = json.dumps(cell["source"], ensure_ascii=False)[1:-1].encode()
            assert len(stored) < 40 or stored not in everything, (master.name, stored[:200])
            source = "".join(cell["source"])
            for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S):
                assert block.strip().encode() not in everything, (master.name, block[:200])


# --- run_autograder in a fake root ------------------------------------------------------------------


def _venv_with(wheel: Path, folder: Path, base: str = sys.executable) -> Path:
    """A fresh venv of ``base`` with the zip's wheel, seeing this environment's dependencies through
    a ``.pth`` line (as tests/test_wheel.py does: nothing is downloaded); its python."""
    venv = folder / "venv"
    subprocess.run([base, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "cnn_grader_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--quiet", wheel], check=True)
    return python


def _as_kernel_user(python: Path) -> bool:
    """Whether the kernel's account can start ``python`` with the grading kernel's packages: where it
    can, the real run below is confined the way Gradescope's container is (the accounts made by its
    setup.sh, an interpreter outside root's home); where not, by bubblewrap."""
    confine = Path(sandbox.__file__).with_name("confine.py")
    done = subprocess.run([sys.executable, "-I", confine, "--memory-mb", "2048", "--cpu-time", "60", "--user",
                           sandbox.KERNEL_USER, "--", python, "-c", "import numpy, ipykernel"],
                          capture_output=True, timeout=120)
    return done.returncode == 0


def _probe(root: Path, python: Path) -> str:
    """A last cell that tries what the student's code must not do (read the seed, the reference
    answers of the grader ``python`` runs, the results; write the results), and says how each ended."""
    package = subprocess.run([python, "-I", "-c", "import grader, os; print(os.path.dirname(grader.__file__))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    tries = {"toml": root / "source/course.toml", "results": root / "results/results.json",
             "reference": Path(package) / "course/reference/convolution.py"}
    return (
        "import os\n"
        "seen = []\n"
        f"for key, path in {[(k, str(v)) for k, v in tries.items()]!r}:\n"
        "    try:\n"
        "        open(path, 'rb').read(1); seen.append(key + '=READ')\n"
        "    except Exception as e:\n"
        "        seen.append(key + '=' + type(e).__name__)\n"
        "try:\n"
        f"    open({str(root / 'results/results.json')!r}, 'w').write('{{}}'); seen.append('write=WROTE')\n"
        "except Exception as e:\n"
        "    seen.append('write=' + type(e).__name__)\n"
        "raise RuntimeError('probe ' + ' '.join(seen) + ' uid=' + str(os.getuid()))\n"
    )


def _hidden_values(config_path: Path) -> tuple[list[str], list[str]]:
    """The instructor's words for the hidden cases: each call with its inputs, and the expected
    values with a fractional part as the comparison quotes them (``.6g``)."""
    config = load_config(config_path)
    calls, values = [], []
    for pq in prepare(course_assignments()[ASSIGNMENT], config):
        for pg in pq.groups:
            if pg.group.public:
                continue
            for case, expected in pg.cases:
                args, kwargs = case.resolved()
                calls.append(call_of(pq.question.id, args, kwargs).text())
                flat = np.asarray(expected, dtype=float).ravel()
                values += [f"{v:.6g}" for v in flat if abs(v - round(v)) > 1e-3]
    return calls, values


@pytest.mark.slow
@pytest.mark.usefixtures("kernel_accounts")
def test_run_autograder_grades_the_submission_into_results_json(autograder_zip: Path) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # pytest's own folders are closed to other users
        Path(tmp).chmod(0o755)
        _grade_in_a_fake_root(autograder_zip, Path(tmp))


def _grade_in_a_fake_root(autograder_zip: Path, tmp: Path) -> None:
    root = fake_root(tmp, autograder_zip)
    wheel, = (root / "source").glob("*.whl")
    base = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"  # outside root's home
    can_switch = os.geteuid() == 0 and sandbox.user_problem() is None and Path(base).is_file()
    python = _venv_with(wheel, tmp / "user", base) if can_switch else None
    mode = "user" if python is not None and _as_kernel_user(python) else "auto"
    if python is None or mode == "auto":
        python = _venv_with(wheel, tmp)
    # Gradescope keeps the student's file name; the notebook ends with a cell trying to get out
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": _probe(root, python)})
    (root / "submission" / "my notebook.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (root / "submission_metadata.json").write_text(json.dumps(
        {"created_at": "2026-11-30T10:00:00.000000-08:00", "users": [{"email": "wf@example.edu", "id": 4411,
                                                                       "name": "Wang Fang"}]}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", autograder.SANDBOX_ENV)}
    done = subprocess.run([root / "source" / "run_autograder"], cwd=root, capture_output=True, text=True, timeout=600,
                          env={**env, autograder.ROOT_ENV: str(root), "GRADER_PYTHON": str(python),
                               autograder.SANDBOX_ENV: mode})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    expected = "user" if mode == "user" else "bwrap"
    assert re.search(rf"graded my notebook\.ipynb: [\d.]+ / 100 \({expected} sandbox\)", done.stdout), done.stdout

    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_results(data)
    tests = data["tests"]
    public = [t for t in tests if "public" in t["tags"]]
    hidden = [t for t in tests if "hidden" in t["tags"]]
    assert public and hidden
    assert {t["visibility"] for t in public} == {"visible"} and {t["visibility"] for t in hidden} == {"after_published"}
    assert 0 < data["score"] < 100 and data["score"] == sum(t["score"] for t in tests)
    failed = [t for t in tests if t["status"] == "failed"]
    assert failed and all("flipped" in t["output"] for t in failed if t["name"].startswith("conv2d ·"))
    assert data["extra_data"]["student_page_html"].lstrip().startswith("<!")
    probe, = re.findall(r"RuntimeError: probe ([^\n]*)", data["output"])
    assert "READ" not in probe and "WROTE" not in probe, probe
    if mode == "user":  # there, but closed to the kernel's account
        assert probe.startswith("toml=PermissionError results=PermissionError reference=PermissionError "
                                "write=PermissionError uid="), probe
        assert not probe.endswith("uid=0")

    calls, values = _hidden_values(root / "source" / "course.toml")
    everything = json.dumps(data, ensure_ascii=False)
    assert not [c for c in calls if c in everything]  # no hidden input, written as the instructor sees it
    hidden_words = "\n".join(t["output"] for t in hidden) + data["output"]
    assert values and not [v for v in values if v in hidden_words]  # no hidden expected value
    for test in hidden:
        assert "expected" not in test["output"] and "largest error" not in test["output"]
        for line in test["output"].splitlines():
            if line.startswith("call: "):  # by types and shapes only
                arguments = line.split("(", 1)[1]
                assert not re.search(r"\d", re.sub(r"<array \([\d, ]*\) [a-z]+\d*>", "", arguments)), line


# --- what is not a gradable submission -------------------------------------------------------------


def _run_main(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, Any]]:
    monkeypatch.setenv(autograder.ROOT_ENV, str(root))
    monkeypatch.delenv(autograder.SANDBOX_ENV, raising=False)
    status = autograder.main(["--assignment", ASSIGNMENT])
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_results(data)
    return status, data


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    """A fake root whose source holds only course.toml: nothing here reaches a kernel."""
    root = tmp_path / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    shutil.copy2(ROOT / "course.toml", root / "source" / "course.toml")
    return root


def test_an_empty_submission_gets_a_result_saying_so(course_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    status, data = _run_main(course_root, monkeypatch)
    assert status == 0 and data["score"] == 0 and data["tests"] == []
    assert "no notebook (.ipynb) in your submission (files received: (none))" in data["output"]
    assert "没有笔记本" in data["output"]  # the course's language first


def test_a_wrong_file_gets_a_result_naming_it(course_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (course_root / "submission" / "answers.pdf").write_bytes(b"%PDF-1.4")
    status, data = _run_main(course_root, monkeypatch)
    assert status == 0 and data["score"] == 0
    assert "files received: answers.pdf" in data["output"]


def test_two_notebooks_get_a_result_naming_both(course_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("01-convolution.ipynb", "old/draft.ipynb"):
        (course_root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(NOTEBOOK, course_root / "submission" / name)
    status, data = _run_main(course_root, monkeypatch)
    assert status == 0 and data["score"] == 0 and data["tests"] == []
    assert "holds 2 notebooks (01-convolution.ipynb, old/draft.ipynb)" in data["output"]


def test_without_a_confinement_nothing_runs_and_the_result_says_why(course_root: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy2(NOTEBOOK, course_root / "submission")

    def nothing_confines() -> str:
        raise sandbox.SandboxUnavailable("refusing to grade: bubblewrap: forbidden here; the user: no account")

    monkeypatch.setattr(sandbox, "user_or_bwrap", nothing_confines)
    status, data = _run_main(course_root, monkeypatch)
    assert status == 1 and data["score"] == 0 and data["tests"] == []
    assert "could not confine your notebook" in data["output"] and "no account" in data["output"]


def test_the_user_fallback_is_refused_where_its_accounts_are_missing(course_root: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "user_problem", lambda: "there is no account cnn-grader-student")
    monkeypatch.setenv(autograder.ROOT_ENV, str(course_root))
    monkeypatch.setenv(autograder.SANDBOX_ENV, "user")
    shutil.copy2(NOTEBOOK, course_root / "submission")
    assert autograder.main(["--assignment", ASSIGNMENT]) == 1
    data = json.loads((course_root / "results" / "results.json").read_text(encoding="utf-8"))
    assert "no account cnn-grader-student" in data["output"] and data["tests"] == []


# --- the "user" isolation's pieces (need root: the grader in Gradescope's container is) -------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
NOBODY = pwd.getpwnam("nobody")


@needs_root
def test_the_launcher_hands_over_its_folders_then_runs_as_the_user() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # pytest's own folders are closed to others
        Path(tmp).chmod(0o711)
        _launch_as_nobody(Path(tmp) / "sockets")


def _launch_as_nobody(sockets: Path) -> None:
    sockets.mkdir(mode=0o700)
    (sockets / "kernel0.json").write_text("{}", encoding="utf-8")
    confine = Path(sandbox.__file__).with_name("confine.py")
    done = subprocess.run([sys.executable, "-I", confine, "--memory-mb", "512", "--cpu-time", "10", "--user", "nobody",
                           "--own", sockets, "--", "sh", "-c", f"id -u; id -G; cat {sockets}/kernel0.json"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    uid, groups, connection = done.stdout.split("\n")[:3]
    assert int(uid) == NOBODY.pw_uid and "0" not in groups.split() and connection == "{}"
    assert all(p.stat().st_uid == NOBODY.pw_uid for p in (sockets, sockets / "kernel0.json"))


@needs_root
def test_each_call_folder_belongs_to_the_scratch_folders_owner(tmp_path: Path) -> None:
    scratch = tmp_path / "work"
    scratch.mkdir()
    os.chown(scratch, NOBODY.pw_uid, NOBODY.pw_gid)
    folder = harness.write_call(scratch, (np.zeros(3),), {})
    assert (folder.stat().st_uid, folder.stat().st_gid) == (NOBODY.pw_uid, NOBODY.pw_gid)
    assert (folder / "call.json").stat().st_uid == 0  # the grader's inputs stay the grader's


@needs_root
def test_lock_down_closes_the_course_to_the_kernels_user(tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    for name in ("source/data/faces/train/f", "source/data/faces/heldout/m", "submission", "results"):
        (root / name).mkdir(parents=True)
    shutil.copy2(ROOT / "course.toml", root / "source" / "course.toml")
    (root / "source" / "run_autograder").write_text("#!/bin/sh\n", encoding="utf-8")
    (root / "source" / "run_autograder").chmod(0o755)
    for name in ("source/data/faces/train/f/1.png", "source/data/faces/heldout/m/1.png", "results/results.json",
                 "submission_metadata.json"):
        (root / name).write_bytes(b"x")
    package = tmp_path / "site-packages" / "grader"
    package.mkdir(parents=True)
    (package / "reference.py").write_text("answer = 42\n", encoding="utf-8")
    autograder.lock_down(root, load_config(root / "source" / "course.toml"), NOBODY.pw_gid, package)

    def mode(name: str | Path) -> int:
        return stat.S_IMODE((root / name).stat().st_mode)

    assert mode("") == mode("source") == 0o711  # passable, not listable
    assert mode("source/course.toml") == mode("results/results.json") == mode("submission_metadata.json") == 0o600
    assert mode("results") == 0o700
    assert mode("source/data") == mode("source/data/faces") == 0o711
    assert mode("source/data/faces/train/f") == 0o755 and mode("source/data/faces/train/f/1.png") == 0o644
    assert mode("source/data/faces/heldout/m") == 0o750 and mode("source/data/faces/heldout/m/1.png") == 0o640
    assert (root / "source/data/faces/heldout/m/1.png").stat().st_gid == NOBODY.pw_gid
    assert mode(package) == 0o750 and mode(package / "reference.py") == 0o640
    assert mode("source/run_autograder") == 0o700  # still runnable by root, by nobody else


@needs_root
def test_lock_down_without_face_data(tmp_path: Path) -> None:
    """The NumPy assignments need no faces: nothing of them is made, and the lock-down still holds."""
    root = tmp_path / "autograder"
    for name in ("source", "submission", "results"):
        (root / name).mkdir(parents=True)
    shutil.copy2(ROOT / "course.toml", root / "source" / "course.toml")
    package = tmp_path / "grader"
    package.mkdir()
    autograder.lock_down(root, load_config(root / "source" / "course.toml"), NOBODY.pw_gid, package)
    assert stat.S_IMODE((root / "source" / "course.toml").stat().st_mode) == 0o600
    assert not (root / "source" / "data").exists()
