"""The ``grader`` command: parses arguments and calls library functions, nothing more.

Each verb is a small function over the library so that everything is testable without a
subprocess; errors the user can fix (a bad ``course.toml``, a broken master notebook) are printed as
one line naming the file, with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import ConfigError, find_config, load_config
from .release import ReleaseError, release

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _course(args: argparse.Namespace) -> Path:
    return Path(args.course) if args.course else find_config()


def cmd_release(args: argparse.Namespace) -> int:
    """Write ``assignments/`` from ``solutions/``; with ``--check`` only report what is stale."""
    config = load_config(_course(args))
    results = release(config.root / "solutions", config.root / "assignments", check=args.check)
    problems = 0
    for item in results:
        rel = item.path.relative_to(config.root)
        if item.status in ("stale", "missing", "orphan"):
            problems += 1
            advice = {
                "stale": "is out of date with solutions/",
                "missing": "is missing",
                "orphan": "has no master notebook in solutions/",
            }[item.status]
            print(f"{rel}: {advice}", file=sys.stderr)
        elif item.status != "unchanged" or not args.check:
            print(f"{rel}: {item.status}")
    if problems:
        print(f"{problems} notebook(s) out of sync: run `grader release` and commit assignments/", file=sys.stderr)
        return EXIT_FAILED
    if args.check:
        print(f"assignments/ is in sync with solutions/ ({len(results)} notebooks)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grader", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"cnn-grader {__version__}")
    parser.add_argument("--course", metavar="PATH", help="course.toml (default: the nearest one upwards)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    rel = verbs.add_parser("release", help="write assignments/ from solutions/")
    rel.add_argument("--check", action="store_true", help="write nothing; fail if assignments/ is stale")
    rel.set_defaults(run=cmd_release)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ConfigError, ReleaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
