"""Launching ahead: the right item for each key, never more than asked ahead, nothing left open."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grader.run.pool import WarmPool


class Item:
    def __init__(self, key: str, number: int) -> None:
        self.key, self.number, self.closed = key, number, False

    def close(self) -> None:
        self.closed = True


class Launcher:
    """Records what was launched, in order; optionally fails for one key."""

    def __init__(self, fail: str | None = None) -> None:
        self.items: list[Item] = []
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, key: str) -> Item:
        with self.lock:
            if key == self.fail:
                self.fail = None  # the retry in take() works
                raise OSError("no kernel today")
            item = Item(key, len(self.items))
            self.items.append(item)
            return item

    def launched(self) -> list[str]:
        with self.lock:
            return [i.key for i in self.items]


def settle(pool: WarmPool[str, Item]) -> None:
    """Until every launch the pool has asked for so far has run. Its one launcher thread runs them in
    the order asked, so a marker queued behind them ends after them: an event to wait on, not a
    guess of how long launching takes (the timeout only guards against a hang)."""
    pool._starter.submit(lambda: None).result(timeout=120)


def test_launches_ahead_in_order_and_at_most_ahead() -> None:
    launcher = Launcher()
    with WarmPool(launcher, ["a", "b", "a", "c"], ahead=2) as pool:
        settle(pool)
        assert launcher.launched() == ["a", "b"]  # not "a" again before one is taken
        first = pool.take("a")
        settle(pool)
        assert launcher.launched() == ["a", "b", "a"] and first.number == 0
        assert pool.take("b").number == 1 and pool.take("a").number == 2
        assert pool.take("c").key == "c"
    assert not any(item.closed for item in launcher.items)  # all were taken: the takers close them


def test_each_item_serves_one_taker_and_unknown_keys_launch_on_the_spot() -> None:
    launcher = Launcher()
    with WarmPool(launcher, ["a"], ahead=1) as pool:
        taken = [pool.take("a"), pool.take("a"), pool.take("z")]
    assert [i.number for i in taken] == [0, 1, 2] and [i.key for i in taken] == ["a", "a", "z"]


def test_close_closes_what_nobody_took_and_stops_launching() -> None:
    launcher = Launcher()
    pool = WarmPool(launcher, ["a", "b", "c", "d"], ahead=2)
    settle(pool)
    pool.close()  # waits for its launcher thread: nothing can be launched after it returns
    assert launcher.launched() == ["a", "b"]
    with pytest.raises(RuntimeError):  # and nothing more can be asked of it
        pool._starter.submit(lambda: None)
    assert all(item.closed for item in launcher.items)


def test_a_failed_launch_ahead_is_retried_by_the_taker() -> None:
    launcher = Launcher(fail="a")
    with WarmPool(launcher, ["a"], ahead=1) as pool:
        item = pool.take("a")
    assert item.key == "a" and launcher.launched() == ["a"]


def test_a_launch_that_fails_again_reaches_the_taker() -> None:
    def broken(key: str) -> Item:
        raise OSError(f"cannot launch {key}")

    with WarmPool(broken, ["a"], ahead=1) as pool, pytest.raises(OSError, match="cannot launch a"):
        pool.take("a")


def test_class_run_leaves_no_workspace_or_kernel_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool launches real workspaces ahead; after the run none remains (checked by folder)."""
    import tempfile

    from grader.classroom.batch import grade_class
    from grader.classroom.runner import local_runner
    from grader.course.config import load_config

    root = Path(__file__).resolve().parents[1]
    for student in ("a", "b", "c"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / "02-pooling.ipynb").write_bytes(
            (root / "examples" / "submissions" / "li_hua" / "02-pooling.ipynb").read_bytes())
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    run = grade_class(tmp_path / "subs", tmp_path / "out", load_config(root / "course.toml", environ={}),
                      runner=local_runner(jobs=2))
    assert sorted(r.score for r in run.results) == [100, 100, 100]
    assert [p.name for p in scratch.iterdir() if p.name.startswith("cnn-grader-")] == []
