"""The kernel's launcher: put itself under the resource limits, then become the kernel command.

Runs outside the sandbox, between jupyter_client and bubblewrap (``python -m grader.run.confine
--memory-mb M --cpu-time S [--file-size-mb F] [--cgroup DIR ...] -- COMMAND...``). Setting the
limits here, in the child, rather than with ``preexec_fn`` in the grader keeps the grader's threads
out of ``fork``. Everything the kernel starts inherits them: the address-space, CPU-time and
file-size limits per process, and the cgroups (when the grader could make them; this process joins
each one by writing its pid to its ``cgroup.procs``) bound the whole tree's memory, task count and
CPU share. The file-size limit (``RLIMIT_FSIZE``) is the scratch folder's cap where the grader could
not mount a size-capped tmpfs, and a second fence where it could; CPython ignores ``SIGXFSZ``, so a
write beyond it fails with ``EFBIG`` rather than killing the kernel.
With ``--user NAME`` (the "user" isolation of :mod:`grader.run.sandbox`) it hands the ``--own``
folders and their entries to that account, then drops to it — supplementary groups, group, user —
after the limits and before asking for the parent-death signal, which a change of user clears.
``RLIMIT_NPROC`` is not used: it counts every process of the user (and is ignored for root), so on
a TA's laptop it would stop the kernel's own threads rather than a fork bomb.
Standard library only: it must start fast and never import the grader's own code.
"""

from __future__ import annotations

import argparse
import ctypes  # imported here, before a drop to --user, who may not be able to read the standard library
import os
import resource
import signal
import sys
from collections.abc import Sequence


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m grader.run.confine")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-time", type=float, required=True)
    parser.add_argument("--file-size-mb", type=int, default=None, help="the largest file a process may write")
    parser.add_argument("--cgroup", action="append", default=[], help="a cgroup directory to join")
    parser.add_argument("--user", default=None, help="the account to run the command as (the grader is root)")
    parser.add_argument("--own", action="append", default=[], help="a folder to hand to --user first, with its entries")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("no command to run")
    return args


def _limit(which: int, value: int) -> None:
    """Lower a limit, never above what the grader itself was given."""
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value if hard == resource.RLIM_INFINITY else hard))


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    for cgroup in args.cgroup:  # before the limits and the exec: every descendant is then inside
        with open(os.path.join(cgroup, "cgroup.procs"), "w", encoding="ascii") as procs:
            procs.write(str(os.getpid()))
    _limit(resource.RLIMIT_AS, args.memory_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CPU, max(1, int(args.cpu_time)))
    if args.file_size_mb is not None:
        _limit(resource.RLIMIT_FSIZE, args.file_size_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)  # a segfaulting student function leaves no core dump behind
    if args.user is not None:
        _become(args.user, args.own)
    _die_with_grader()
    os.execvp(args.command[0], args.command)


def _become(user: str, own: Sequence[str]) -> None:
    """Hand ``own`` (each folder and its entries, links not followed) to ``user``, then become it for
    good: no way back to root, no group of the grader's kept."""
    import pwd

    account = pwd.getpwnam(user)
    for folder in own:
        for path in [folder, *(os.path.join(folder, name) for name in os.listdir(folder))]:
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    os.setgroups(os.getgrouplist(account.pw_name, account.pw_gid))
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    if os.getuid() != account.pw_uid or os.geteuid() != account.pw_uid:
        sys.exit(f"confine: could not become {user}")


def _die_with_grader() -> None:
    """SIGKILL this process (bwrap or the kernel, after the exec) when the grader dies, even by
    SIGKILL: ``bwrap --die-with-parent`` only ties the sandbox to bwrap itself, so a killed grader
    left bwrap and the kernel running. Linux only; kept across the exec of a non-setuid program."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the grader died before the prctl: nobody is left to send the signal
        os._exit(1)


if __name__ == "__main__":
    main()
