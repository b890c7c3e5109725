"""The model inspector (grader.run.inspect_model): its confinement, its line protocol, its failures.

A student's ``.keras`` file is untrusted input: a 112 KB archive whose config asks for a huge Dense
layer once made the unconfined inspector allocate 24 GB. These tests pin what its sandbox shows,
that a crafted archive costs only its own reply, and that the protocol survives a dead, silent or
chatty process. The protocol tests run a stand-in for the inspector (no TensorFlow: milliseconds);
the memory test runs the real one.
"""

from __future__ import annotations

import os
import signal
import sys
import zipfile
from pathlib import Path

import pytest

from grader.judge.catalog import Message
from grader.run import sandbox
from grader.run.inspect_model import Inspector
from grader.run.sandbox import Confinement

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = ROOT / "data" / "faces" / "heldout"


def _inspector(tmp_path: Path, *, stand_in: str | None = None, memory_mb: int = 2048, timeout: float = 120,
               isolation: str = "off") -> Inspector:
    inspector = Inspector(tmp_path / "inspector", heldout=HELDOUT, memory_mb=memory_mb, cpu_time=300,
                          processes=256, timeout=timeout, isolation=isolation)
    if stand_in is not None:  # the same launcher, limits and protocol; a few lines of Python inside
        inspector._command = lambda: [sys.executable, "-c", stand_in]  # type: ignore[method-assign]
    return inspector


def _file(tmp_path: Path, name: str = "m.keras") -> Path:
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04 not really a model")  # a zip's signature, as the decoder checks
    return path


# -- what the inspector's sandbox shows -----------------------------------------------------------
def test_inspector_sandbox_is_cleared_unshared_and_shows_no_instructor_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SEED", "918273")
    monkeypatch.setenv("CI_TOKEN", "secret-token-value")
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/usr/bin/bwrap")
    private, heldout = tmp_path / "inspector", tmp_path / "faces" / "heldout"
    env = sandbox.inspector_env(private)
    assert set(env) <= {"PATH", "LANG", "HOME", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES", "PYTHONPATH"}
    assert env["HOME"] == str(private) and env["CUDA_VISIBLE_DEVICES"] == ""
    assert Path(env["PYTHONPATH"], "grader", "run", "inspect_model.py").is_file(), "it runs the grader's own code"
    argv = sandbox.inspector_bwrap_argv(Confinement(private, env, (heldout,), isolation="bwrap"))
    assert "918273" not in " ".join(argv) and "secret-token-value" not in " ".join(argv)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv", "--remount-ro"):
        assert flag in argv
    assert "--share-net" not in argv and argv[argv.index("--cap-drop") + 1] == "ALL"
    assert argv.index("--clearenv") < argv.index("--setenv")
    assert {argv[i + 1] for i, a in enumerate(argv) if a == "--setenv"} == set(env)
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--bind"] == [str(private)], "the only writable place"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind-try"] == [str(heldout)]
    package = Path(sandbox.__file__).resolve().parents[1]  # grader/
    for bound in (Path(argv[i + 1]) for i, a in enumerate(argv) if a in ("--bind", "--ro-bind", "--ro-bind-try")):
        assert not package.parent.is_relative_to(bound), f"{bound} shows the grader's checkout (course.toml, solutions/)"
        assert not (bound / "course.toml").exists() and bound.name != "solutions"
    assert argv[-1] == "--" and argv[argv.index("--chdir") + 1] == str(private)


def test_inspector_prefix_is_the_kernels_launcher_with_bwrap_only_when_isolated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: "/usr/bin/bwrap")
    c = Confinement(tmp_path, {"PATH": "/usr/bin"}, (), memory_mb=1234, cpu_time=56, isolation="off")
    plain = sandbox.inspector_prefix(c, None)
    launcher = str(Path(sandbox.__file__).with_name("confine.py"))
    assert plain == [sys.executable, "-I", launcher, "--memory-mb", "1234", "--cpu-time", "56",
                     "--file-size-mb", str(c.scratch_mb), "--"]
    boxed = sandbox.inspector_prefix(Confinement(tmp_path, {}, (), 1234, 56, isolation="bwrap"), None)
    assert boxed[:len(plain)] == plain and boxed[len(plain)] == "/usr/bin/bwrap"


def test_confined_inspector_sees_a_cleared_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even without bubblewrap: what the process itself finds in its environment."""
    monkeypatch.setenv("GRADER_SEED", "918273")
    monkeypatch.setenv("CI_TOKEN", "secret-token-value")
    echo_env = ("import json, os, sys\nfor line in sys.stdin:\n"
                "    print(json.dumps({'env': dict(os.environ)}), flush=True)")
    with _inspector(tmp_path, stand_in=echo_env) as inspector:
        env = inspector.inspect(_file(tmp_path))["env"]
    assert "GRADER_SEED" not in env and "CI_TOKEN" not in env
    assert set(env) - {"LC_CTYPE"} <= {"PATH", "LANG", "HOME", "TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES",
                                       "PYTHONPATH"}


# -- the files it looks at --------------------------------------------------------------------------
def test_symlinked_or_irregular_model_is_refused_without_starting_anything(tmp_path: Path) -> None:
    secret = tmp_path / "course.toml"
    secret.write_text("seed = 1")
    link = tmp_path / "model0.keras"
    link.symlink_to(secret)
    (tmp_path / "folder.keras").mkdir()
    with _inspector(tmp_path, stand_in="raise SystemExit(9)") as inspector:
        assert inspector.inspect(link)["error"].startswith(f"model0.keras is a symbolic link (to '{secret}'), not a file")
        assert inspector.inspect(tmp_path / "folder.keras")["error"].startswith("folder.keras is a folder, not a file")
        assert inspector.starts == 0


def test_the_inspector_reads_a_private_copy_and_caches_per_file(tmp_path: Path) -> None:
    echo_path = ("import json, os, sys\nfor line in sys.stdin:\n    r = json.loads(line)\n"
                 "    print(json.dumps({'path': r['path'], 'evaluate': r['evaluate'], 'link': os.path.islink(r['path'])}),"
                 " flush=True)")
    model = _file(tmp_path)
    with _inspector(tmp_path, stand_in=echo_path) as inspector:
        first = inspector.inspect(model)
        assert inspector.inspect(model) is first, "one reply per model file"
        evaluated = inspector.inspect(model, evaluate=True)
        other = inspector.inspect(_file(tmp_path, "n.keras"))
        assert inspector.starts == 1
        copy = Path(first["path"])
        assert copy.parent == tmp_path / "inspector" and copy != model and not first["link"]
        assert copy.read_bytes() == model.read_bytes()
        assert evaluated["evaluate"] and Path(other["path"]) != copy
    assert not (tmp_path / "inspector").exists(), "closing removes the private folder"


# -- deaths, silence and noise ----------------------------------------------------------------------
def test_a_crash_costs_one_request_and_the_next_one_restarts(tmp_path: Path) -> None:
    crash_then_answer = ("import json, os, signal, sys\nfor line in sys.stdin:\n"
                         "    if json.loads(line)['path'].endswith('1.keras'):\n"
                         "        os.kill(os.getpid(), signal.SIGSEGV)\n"
                         "    print(json.dumps({'layers': []}), flush=True)")
    with _inspector(tmp_path, stand_in=crash_then_answer) as inspector:
        crashed = inspector.inspect(_file(tmp_path, "a.keras"))
        assert crashed["error"] == "the model inspector crashed: killed by SIGSEGV"
        assert Message(**crashed["message"]).text("zh") == "模型检查程序崩溃了：被 SIGSEGV 终止"
        assert inspector.inspect(_file(tmp_path, "b.keras")) == {"layers": []}
        assert inspector.starts == 2


def test_memory_looking_deaths_say_memory(tmp_path: Path) -> None:
    for last_words in ("MemoryError", "terminate called after throwing an instance of 'std::bad_alloc'",
                       "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM"):
        dies = f"import sys\nsys.stdin.readline()\nsys.stderr.write({last_words!r})\nsys.exit(1)"
        with _inspector(tmp_path, stand_in=dies, memory_mb=777) as inspector:
            assert inspector.inspect(_file(tmp_path))["error"] == \
                "the model needs more memory than the course allows (777 MB)", last_words


def test_a_silent_inspector_is_killed_at_the_timeout(tmp_path: Path) -> None:
    """The first model's process never answers (it blocks until killed), so its request can only end
    by the timeout: it is killed, the reply says so, and the next model gets a new process. No clock
    in the verdict: the second request is given a timeout no machine comes near."""
    hangs_once = ("import json, sys, threading\nfor line in sys.stdin:\n"
                  "    if json.loads(line)['path'].endswith('1.keras'):\n        threading.Event().wait()\n"
                  "    print(json.dumps({'layers': []}), flush=True)")
    with _inspector(tmp_path, stand_in=hangs_once, timeout=1.5) as inspector:
        started: list = []
        start = inspector._start
        inspector._start = lambda: started.append(start()) or started[-1]  # type: ignore[method-assign]
        assert inspector.inspect(_file(tmp_path, "a.keras"))["error"] == "inspecting the model took longer than 1.5 s"
        [silent] = started
        assert silent.killed and silent.popen.returncode == -signal.SIGKILL, "killed by the grader, at the timeout"
        inspector.timeout = 120  # a prompt stand-in, however loaded the machine
        assert inspector.inspect(_file(tmp_path, "b.keras")) == {"layers": []}
        assert len(started) == 2 and inspector.starts == 2


def test_stderr_is_drained_and_stdout_noise_is_not_a_reply(tmp_path: Path) -> None:
    chatty = ("import json, sys\nfor line in sys.stdin:\n    sys.stderr.write('x' * 5_000_000)\n"
              "    sys.stderr.flush()\n    print(json.dumps({'layers': [1]}), flush=True)")
    with _inspector(tmp_path, stand_in=chatty, timeout=30) as inspector:
        assert inspector.inspect(_file(tmp_path)) == {"layers": [1]}
    garbage = "import sys\nsys.stdin.readline()\nprint('Epoch 1/1 ...', flush=True)\nsys.stdin.readline()"
    with _inspector(tmp_path, stand_in=garbage, timeout=30) as inspector:
        assert inspector.inspect(_file(tmp_path))["error"].startswith("the model inspector crashed: ")


# -- the real inspector on a crafted archive --------------------------------------------------------
def _small_and_huge(folder: Path, units: int = 200_000) -> tuple[Path, Path]:
    """A small saved model (Dense(3) on 4 inputs), and the same archive with its config.json edited
    to ask for a units × units Dense layer (160 GB of float32 for 200,000) — the weights file stays
    the small one: what a hostile or careless student can hand in, in a few kilobytes."""
    import keras

    small = folder / "small.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="big")]).save(small)
    with zipfile.ZipFile(small) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    text = files["config.json"].decode()
    for before, after in (("[null, 4]", f"[null, {units}]"), ('"units": 3', f'"units": {units}')):
        assert before in text
        text = text.replace(before, after)
    files["config.json"] = text.encode()
    huge = folder / "huge.keras"
    with zipfile.ZipFile(huge, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return small, huge


def test_a_huge_dense_layer_is_refused_within_the_limits_and_grading_carries_on(tmp_path: Path) -> None:
    isolation = sandbox.isolation()
    small, huge = _small_and_huge(tmp_path)
    with _inspector(tmp_path, memory_mb=2048, timeout=300, isolation=isolation) as inspector:
        first = inspector.inspect(small)
        assert "error" not in first and first["layers"][0]["config"]["units"] == 3, first
        process = inspector._process
        assert process is not None
        assert inspector.inspect(huge)["error"] == "the model needs more memory than the course allows (2048 MB)"
        assert process.popen.returncode is not None and inspector._process is None, "the process is gone"
        again = tmp_path / "again.keras"
        again.write_bytes(small.read_bytes())
        assert inspector.inspect(again)["layers"][0]["params"] == 4 * 3 + 3, "the grader carries on"
        assert inspector.starts == 2
    assert os.path.getsize(huge) < 64 * 1024


# -- stopping from another thread (Ctrl-C: the class run kills each submission's inspector) ----------
_ANSWERS_AT_ONCE = "import json, sys\nfor line in sys.stdin:\n    print(json.dumps({'layers': []}), flush=True)"


def test_after_a_kill_no_request_starts_an_inspection(tmp_path: Path) -> None:
    """The job thread may have its model from the kernel just before the run is stopped: its next
    request must not start TensorFlow and an evaluation that a stopping run would wait for."""
    with _inspector(tmp_path, stand_in=_ANSWERS_AT_ONCE) as inspector:
        inspector.kill()
        reply = inspector.inspect(_file(tmp_path))
    assert "error" in reply and reply["message"]["code"].startswith("model.crashed"), reply


def test_a_kill_while_the_inspector_starts_reaches_the_process_it_starts(tmp_path: Path) -> None:
    """The kill comes from the thread stopping the run while the job thread is starting the process
    (here: between choosing the command and starting it), when there is no process yet to kill."""
    with _inspector(tmp_path, stand_in=_ANSWERS_AT_ONCE) as inspector:
        command = inspector._command

        def stopped_meanwhile() -> list[str]:
            inspector.kill()
            return command()

        inspector._command = stopped_meanwhile  # type: ignore[method-assign]
        reply = inspector.inspect(_file(tmp_path))
    assert "error" in reply and reply["message"]["code"].startswith("model.crashed"), reply
