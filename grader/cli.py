"""The ``grader`` command: parses arguments and calls library functions, nothing more.

Each verb is a small function over the library so that everything is testable without a
subprocess; errors the user can fix (a bad ``course.toml``, a broken master notebook) are printed as
one line naming the file, with exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .classroom.gradebook import GradebookError
from .course.config import ConfigError, CourseConfig, find_config, load_config
from .judge.catalog import CATALOG, LANGUAGES, Message, text
from .run.execute import KernelStartError
from .authoring.release import ReleaseError, release
from .publish.report import ReportError
from .judge.results import SubmissionResult, TestResult
from .run.sandbox import SandboxUnavailable, isolation
from .course.spec import SpecError

if TYPE_CHECKING:
    from rich.console import Console

    from .classroom.batch import ClassRun
    from .classroom.regrade import HistoryLine, RunChanges
    from .classroom.runner import Runner
    from .classroom.similarity_files import SimilarityOutcome
    from .judge.summary import CheckCell

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def _course(args: argparse.Namespace) -> Path:
    return Path(args.course) if args.course else find_config()


def cmd_release(args: argparse.Namespace) -> int:
    """Write ``assignments/`` from ``solutions/`` and the student bundle ``dist/student/`` (+ its zip);
    with ``--check`` write nothing and report what is stale."""
    from .authoring.bundle import BUNDLE, ZIP, build_bundle

    config = load_config(_course(args))
    notebooks = release(config.root / "solutions", config.root / "assignments", check=args.check)
    bundle = build_bundle(config, check=args.check)
    problems = 0
    for item in [*notebooks, *bundle]:
        rel = item.path.relative_to(config.root)
        if item.status in ("stale", "missing", "orphan"):
            problems += 1
            advice = {
                "stale": "is out of date with solutions/",
                "missing": "is missing",
                "orphan": "has no master notebook in solutions/" if item in notebooks else "is not part of the bundle",
            }[item.status]
            print(f"{rel}: {advice}", file=sys.stderr)
        elif item.status != "unchanged" or not args.check:
            print(f"{rel}: {item.status}")
    if problems:
        print(f"{problems} file(s) out of sync: run `grader release` and commit assignments/ and {BUNDLE.as_posix()}/",
              file=sys.stderr)
        return EXIT_FAILED
    if args.check:
        print(f"assignments/ and {BUNDLE.as_posix()}/ are in sync with solutions/ "
              f"({len(notebooks)} notebooks, {len(bundle)} bundle files)")
    else:
        print(f"{ZIP.as_posix()}: written")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Grade one notebook on the public tests only and run its own check cells, and print what the
    student's self-check prints for it (teaching assistants preview what students see): exit 0 when
    all pass, 1 otherwise. Every line, stderr's too, is the catalog's, in ``--lang``."""
    from .classroom.needs import provide
    from .classroom.plan import assignment_names
    from .course.assignments import course_assignments
    from .grade.notebook import NotebookUnreadable, grade_notebook, read_notebook
    from .grade.prepare import prepare
    from .intake.submissions import recognise_assignment
    from .judge.selfcheck import cell_numbers, check_cells
    from .judge.summary import CheckCell, format_summary

    config = load_config(_course(args))
    lang = args.lang or config.language
    path = Path(args.notebook)
    if not path.is_file():
        print(_no_control(text("check.not_found", lang, path=path)), file=sys.stderr)
        return EXIT_USAGE
    try:
        nb = read_notebook(path)
    except NotebookUnreadable as exc:
        print(_no_control(text("selfcheck.unreadable", lang, path=path, reason=exc.problem.text(lang))),
              file=sys.stderr)
        return EXIT_USAGE
    declared = course_assignments()
    known = {aid: names for aid, names in assignment_names(config).items() if aid in declared}
    aid = (args.assignment or recognise_assignment(path.name, known)
           or nb.metadata.get("grader", {}).get("assignment"))
    if aid not in known:
        print(_no_control(text("check.unrecognised", lang, path=path, known=", ".join(known))), file=sys.stderr)
        return EXIT_USAGE
    prepared = prepare(declared[aid], config, public_only=True)
    checked = [pq for pq in prepared if pq.groups and pq.question.reference is not None]
    own = check_cells(nb)
    tests: Sequence[TestResult] = ()
    ran: list[CheckCell] = []
    if checked or own:
        provide([declared[aid]], config)
        result = grade_notebook(path, student="check", assignment=declared[aid], prepared=checked, config=config,
                                isolation=isolation(args.sandbox))
        tests = result.tests
        for note in result.notes:
            print(_no_control(note.text(lang)), file=sys.stderr)
        optional = {q.id for q in declared[aid].questions if q.optional}
        ran = [dataclasses.replace(c, optional=c.question in optional)
               for c in _check_cells_ran(own, cell_numbers(nb), result)]
    no_public = [pq.question.id for pq in prepared if pq not in checked]
    print(_no_control(format_summary(tests, lang, assignment=aid, no_public=no_public, checks=ran)))
    passed = all(t.failure is None for t in tests) and all(c.ok for c in ran)
    return EXIT_OK if passed else EXIT_FAILED


def _check_cells_ran(own: dict[int, str], numbers: Mapping[int, int], result: SubmissionResult) -> list[CheckCell]:
    """How each check cell (index → question) ran, from the result's failed cells: a cell that is
    not among them passed. Each is named by the number Jupyter shows it with (``numbers``)."""
    from .judge.summary import CheckCell

    if result.error:  # nothing ran (an unreadable notebook, a grader error): no check cell passed
        why = result.reason or Message("text", {"text": result.error})
        return [CheckCell(numbers.get(index, index), question, "failed", why) for index, question in own.items()]
    failed = {c["index"]: c for c in result.cells}
    ran = []
    for index, question in own.items():
        cell, number = failed.get(index), numbers.get(index, index)
        if cell is None:
            ran.append(CheckCell(number, question, "passed"))
        elif cell["outcome"] == "error":
            ran.append(CheckCell.raised(number, question, cell["ename"], cell["evalue"]))
        else:
            problem = {"timeout": Message("cell_timeout", {"cell": number, "detail": cell["evalue"]}),
                       "dead_kernel": Message("cell_dead", {"cell": number})}.get(
                cell["outcome"], Message("cell_skipped", {"cell": number, "reason": cell["evalue"]}))
            ran.append(CheckCell(number, question, "failed", problem))
    return ran


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _no_control(text: object) -> str:
    """``text`` with the terminal's control characters (escape sequences) written out, not sent: a TA
    previews a student's notebook with `grader check`, whose messages are the notebook's."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _plain(text: object) -> str:
    """``text`` safe to print on the instructor's terminal through rich: a student names their
    folder, zip entries and exception messages, so ``[/x]`` (rich markup: a MarkupError that used to
    stop `grader grade` before the reports) and terminal escape sequences (``\\x1b[2J``) are shown
    as text, not obeyed."""
    from rich.markup import escape

    return escape(_no_control(text))


def _summary(result: SubmissionResult, lang: str) -> str:
    """One line for the summary table, in ``lang``: what broke, and which mistakes were recognised."""
    if result.error:
        return result.error_text(lang)[:100]
    roots: dict[str, dict[str, None]] = {}  # the function to fix first -> the questions that use it, in order
    for test in result.tests:
        for root in test.inherited_from:
            roots.setdefault(root, {})[test.question] = None
    first = [text("cli.fix_first", lang, root=root, users=", ".join(users)) for root, users in roots.items()]
    cells = [_cell_summary(c, lang) for c in result.cells if c["ename"] != "NotImplementedError"]
    found = sorted({d["id"] for d in result.diagnoses})
    return text("cli.separator", lang).join([*first, *cells, *(text("cli.diagnosed", lang, mistake=d) for d in found)])


def _cell_summary(cell: Mapping[str, Any], lang: str) -> str:
    """``cell 10: ModuleNotFoundError (cv2 is not installed) -> conv2d_layer missing``: the cell by the
    number Jupyter shows (an older result: its position), what it raised, what it cost."""
    outcome = f"outcome.{cell['outcome']}"
    what = cell["ename"] if cell["outcome"] == "error" else text(outcome, lang) if outcome in CATALOG else cell["outcome"]
    hint = cell.get("hint")
    if isinstance(hint, Mapping) and hint.get("code") == "hint.no_module":
        what = text("cli.not_installed", lang, what=what, module=hint.get("params", {}).get("module"))
    line = text("cli.cell", lang, index=cell.get("number") or cell["index"], what=what)
    cost = cell.get("cost") or ()
    return text("cli.cell_cost", lang, cell=line, missing=", ".join(cost)) if cost else line


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade a class; exit 0 when every submission got a result, whatever the scores."""
    from rich.console import Console

    from .classroom.gradebook import output_lock

    config = load_config(_course(args))
    out = Path(args.out)
    # soft_wrap: a line is never broken by rich, so a long path (an out folder deep in a course
    # repository) stays one piece to copy; the terminal wraps it. Tables still fit the width.
    console = Console(stderr=True, soft_wrap=True)
    lang = args.lang or config.language
    if args.sandbox == "off":
        console.print(f"[bold red]SANDBOX OFF[/]: {_plain(text('cli.sandbox_off', lang))}")
    with _runner(args) as runner, output_lock(out, "grade"):
        run = _grade_with_progress(args, config, out, console, runner, lang)
        _print_run(run, out, console, lang)
        index = _render(out, config, args.lang, run)
    console.print(_plain(text("cli.written", lang, index=index, results=out / "results", grades=out / "grades.csv")))
    return EXIT_OK


def _grade_with_progress(args: argparse.Namespace, config: CourseConfig, out: Path, console: Console,
                         runner: Runner, lang: str = "en") -> ClassRun:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .classroom.batch import grade_class

    counts = {"graded": 0, "failed": 0, "cached": 0}
    with Progress(
            TextColumn(f"[bold]{_plain(text('cli.grading', lang))}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"), console=console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def start(total: int) -> None:
            progress.update(task, total=total)

        def done(sub, event, result) -> None:  # type: ignore[no-untyped-def]
            counts[event] += 1
            progress.update(task, advance=1, description=_plain(text(
                "cli.progress", lang, graded=counts["graded"], failed=counts["failed"], cached=counts["cached"],
                submission=f"{sub.student}/{sub.assignment}")))

        return grade_class(Path(args.submissions), out, config, runner=runner, assignment=args.assignment,
                           on_start=start, on_done=done, similarity=not args.no_similarity)


def _print_run(run: ClassRun, out: Path, console: Console, lang: str = "en") -> None:
    """The summary table and what was not graded, and why."""
    from rich.table import Table

    from .publish.report.lateness import duration_text, late_by

    table = Table(title=_plain(text("cli.table", lang, count=len(run.results), out=out)))
    for column in ("student", "assignment", "score", "late", "final", "notes"):
        table.add_column(text(f"cli.column.{column}", lang))
    for result in run.results:
        late = result.late
        penalty = (f"-{result.penalty:g}" + (f" ({duration_text(late_by(late), lang)})" if late.at else "")
                   if late is not None else "")
        table.add_row(_plain(result.student), _plain(result.assignment), f"{result.score:g} / {result.max_score:g}",
                      _plain(penalty), f"{result.final_score:g}", _plain(_summary(result, lang)))
    console.print(table)
    if run.cached:
        console.print(_plain(text("cli.cached", lang, count=run.cached)))
    if run.changes is not None:
        _print_changes(run.changes, console, lang)
    if run.similarity is not None:
        _print_similarity(run.similarity, run.results, out, console, lang)
    not_graded = _plain(text("cli.not_graded", lang))
    for item in run.unrecognised:
        console.print(f"[yellow]{not_graded}[/]: {_plain(item.path)}: {_plain(item.text(lang))}")
    for sub, reason in run.not_graded:
        console.print(f"[yellow]{not_graded}[/]: {_plain(sub.source)}: {_plain(reason.text(lang))}")
    for problem in run.roster_problems:
        console.print(f"[yellow]{_plain(text('cli.roster', lang))}[/]: {_plain(problem.text(lang))}")
    if run.missing:
        console.print(_plain(text("cli.missing", lang, count=len(run.missing), students=text("cli.separator", lang).join(
            f"{r.key} ({r.name})" if r.name and r.name != r.key else r.key for r in run.missing))))
    for result in run.results:
        if result.grader_error is not None:
            console.print(f"[red]{_plain(text('cli.grader_error', lang))}[/]: " + _plain(text(
                "cli.grader_error_detail", lang, submission=f"{result.student}/{result.assignment}",
                stage=result.grader_error.stage, reason=result.grader_error.reason)))


def _print_changes(changes: RunChanges, console: Console, lang: str) -> None:
    """What the run changed since each submission's previous grade: who, by how much (raw and
    final score), which tests flipped, and why as far as the gradebook can tell."""
    from .classroom.regrade import final_words, flip_words, reason_words, score_words

    if changes.first:
        return
    if changes.new:
        console.print(_plain(text("cli.first_graded", lang, count=changes.new)))
    if not changes.changes:
        console.print(_plain(text("cli.no_changes", lang, compared=changes.compared)))
        return
    console.print(f"[bold]{_plain(text('cli.changes', lang, count=len(changes.changes)))}[/]")
    for change in changes.changes:
        final = final_words(change, lang)
        console.print("  " + _plain(text(
            "cli.change", lang, student=_who(change.student, change.name), assignment=change.assignment,
            score=score_words(change.score_before, change.score_after, lang),
            final=text("cli.change_final", lang, final=final) if final else "",
            why=text("regrade.why", lang, why=reason_words(change.reasons, lang)))))
        for flip in change.flips:
            console.print("      " + _plain(flip_words(flip, lang)))


_NOT_COMPARED_SHOWN = 10


def _print_similarity(outcome: SimilarityOutcome, results: Sequence[SubmissionResult], out: Path, console: Console,
                      lang: str) -> None:
    """The pairs the similarity pass flagged, for a person to look at, and where their pages are;
    or that it failed (the grades are written all the same)."""
    from .classroom.similarity_files import PAIRS_DIR

    if outcome.left_out:
        console.print(_plain(text("cli.similar_left_out", lang,
                                  submissions=text("cli.separator", lang).join(outcome.left_out))))
    if outcome.not_compared:  # a whole class may be in it: the first few named
        shown = outcome.not_compared[:_NOT_COMPARED_SHOWN]
        more = len(outcome.not_compared) - len(shown)
        console.print(_plain(text("cli.similar_not_compared", lang, count=len(outcome.not_compared),
                                  submissions=text("cli.separator", lang).join(shown) + (" …" if more else ""))))
    if outcome.similarity is None:
        console.print(f"[yellow]{_plain(text('cli.similar_failed', lang, reason=outcome.failure))}[/]")
        return
    flagged = outcome.similarity.flagged()
    if not flagged:
        console.print(_plain(text("cli.similar_none", lang, compared=sum(outcome.similarity.compared.values()))))
        return
    names = {r.student: r.identity.name for r in results if r.identity is not None}
    console.print(f"[bold]{_plain(text('cli.similar', lang, count=len(flagged)))}[/]")
    for pair in flagged:
        console.print("  " + _plain(text(
            "cli.similar_pair", lang, assignment=pair.assignment, a=_who(pair.student_a, names.get(pair.student_a, "")),
            b=_who(pair.student_b, names.get(pair.student_b, "")), code=f"{pair.code_score:.2f}",
            wrong=f"{pair.shared_wrong:.2f}")))
    console.print("  " + _plain(text("cli.similar_pages", lang, folder=out / PAIRS_DIR)))


def _who(key: str, name: str) -> str:
    """A student as an instructor recognises them: the display name with the key, or the key."""
    return f"{name} ({key})" if name and name != key else key


@contextmanager
def _runner(args: argparse.Namespace) -> Iterator[Runner]:
    """Where ``grade`` runs: ``--jobs`` threads here (the sandbox checked now, before ``--out`` is
    touched, so unconfinable code is refused first), or the ``--dask`` cluster's workers."""
    if args.dask is None:
        from .classroom.runner import local_runner

        yield local_runner(args.jobs, args.sandbox)
        return
    from .classroom.distributed import DaskRunner, connect

    with connect(args.dask) as executor:
        yield DaskRunner(executor, args.sandbox)


def _render(out: Path, config: CourseConfig, lang: str | None, run: ClassRun | None = None) -> Path:
    """Render every stored result of ``out`` (this run's and earlier ones); returns the index. After
    a ``run``, its results are not read again, and only the pages whose inputs changed are rendered
    (:mod:`grader.publish.report.page_keys`); without one (``grader report``), every page is."""
    from .classroom.gradebook import read_results, result_path
    from .publish.report import render_reports

    held = run.files if run is not None else {}
    results, files = read_results(out, skip=held)
    if run is not None:
        results += [r for r in run.results if result_path(out, r.student, r.assignment) in held]
        results.sort(key=lambda r: (r.student, r.assignment))
    return render_reports(out, results, config, lang, files={**files, **held}, reuse=run is not None)[-1]


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render the HTML reports from the stored results; nothing is executed. With ``--students``,
    also one zip per student of their own pages, to hand out (:mod:`grader.publish.handout`)."""
    config = load_config(_course(args))
    from .classroom.gradebook import load_results, output_lock

    out = Path(args.dir)
    lang = args.lang or config.language
    if not (out / "results").is_dir():
        raise ConfigError(f"{out}: no results/ folder here (run `grader grade ... --out {out}` first)")
    with output_lock(out, "report"):
        print(_no_control(text("report.written", lang, index=_render(out, config, args.lang))))
        if args.students:
            from .publish.handout import STUDENTS_DIR, write_student_zips

            zips = write_student_zips(out, load_results(out), config, lang)
            _print_export_notes(zips.notes, lang)
            print(_no_control(text("export.students_written", lang, count=len(zips.paths), folder=out / STUDENTS_DIR)))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """Write the class CSV, Gradescope results.json files, Canvas's import CSV or Moodle's worksheets and
    feedback zips; then what the instructor must know before uploading (rows an LMS cannot match)."""
    from .publish.export import EXPORT_DIR, write_export

    config = load_config(_course(args))
    lang = args.lang or config.language
    exported = write_export(Path(args.dir), args.format, config, lang=lang)
    print(_no_control(text("export.written", lang, count=len(exported.paths), folder=Path(args.dir) / EXPORT_DIR)))
    _print_export_notes(exported.notes, lang)
    if args.format in ("canvas", "moodle") and exported.paths:
        print(_no_control(text(f"export.{args.format}_howto", lang)))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    """A student's runs (by key or display name): when, which notebook and configuration (short
    hashes), the score, and what changed since the previous run and why. Nothing is executed."""
    from .classroom.gradebook import GRADEBOOK_FILE, Gradebook
    from .classroom.regrade import find_student, student_history

    out = Path(args.dir)
    if not (out / GRADEBOOK_FILE).is_file():
        raise ConfigError(f"{out}: no {GRADEBOOK_FILE} here (run `grader grade ... --out {out}` first)")
    lang = args.lang or _course_language(args)
    with Gradebook(out) as book:
        key, name = find_student(book, args.student)
        lines = student_history(book, key, args.assignment)
    if not lines:
        print(_no_control(text("history.none", lang, student=_who(key, name))))
        return EXIT_OK
    for assignment in dict.fromkeys(line.entry.assignment for line in lines):
        own = [line for line in lines if line.entry.assignment == assignment]
        print(_no_control(text("history.heading", lang, student=_who(key, own[-1].entry.name or name),
                               assignment=assignment)))
        for row in _history_rows(own, lang):
            print(_no_control(row))
        print()
    return EXIT_OK


def _course_language(args: argparse.Namespace) -> str:
    """course.toml's report language, when there is a course here (``history`` needs none)."""
    try:
        return load_config(_course(args)).language
    except ConfigError:
        return "en"


_HISTORY_COLUMNS = ("run", "date", "notebook", "config", "score", "final", "changes")


def _history_rows(lines: Sequence[HistoryLine], lang: str) -> list[str]:
    """The table of one student's assignment: a row per run, a flipped test per extra line."""
    from datetime import datetime

    from .classroom.regrade import final_words, flip_words, points, reason_words, score_words

    rows: list[tuple[list[str], list[str]]] = []
    for line in lines:
        entry = line.entry
        when = datetime.fromisoformat(line.started_at).astimezone().strftime("%Y-%m-%d %H:%M") if line.started_at else "?"
        graded = entry.graded
        cells = [f"#{entry.run}", when, entry.sha256[:8], entry.config_hash[:8] or "?",
                 f"{points(entry.score)} / {points(entry.max_score)}" if graded else "—",
                 points(entry.final_score) if graded else "—"]
        notes: list[str] = []
        if not graded:
            summary = text("history.grader_error", lang)
        elif line.first:
            summary = text("history.first", lang)
        elif line.change is None:
            summary = text("history.same", lang)
        else:
            change = line.change
            final = final_words(change, lang)
            summary = text("cli.separator", lang).join(
                [score_words(change.score_before, change.score_after, lang), *([final] if final else []),
                 text("regrade.why", lang, why=reason_words(change.reasons, lang))])
            notes = [flip_words(flip, lang) for flip in change.flips]
        if entry.cached:
            summary += " " + text("history.cached", lang)
        if not line.finished:
            summary += " " + text("history.stopped", lang)
        rows.append((cells + [summary], notes))
    header = [text(f"history.column.{c}", lang) for c in _HISTORY_COLUMNS]
    widths = [max(_width(x) for x in [header[i], *(cells[i] for cells, _ in rows)]) for i in range(len(header) - 1)]
    indent = sum(widths) + 2 * len(widths) + 2

    def joined(cells: Sequence[str]) -> str:
        return "  " + "  ".join(_pad(c, w) for c, w in zip(cells, widths)) + "  " + cells[-1]

    out = [joined(header)]
    for cells, notes in rows:
        out.append(joined(cells))
        out += [" " * indent + "· " + note for note in notes]
    return out


def _width(value: str) -> int:
    """Columns ``value`` takes on a terminal (a Chinese character takes two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def _pad(value: str, width: int) -> str:
    return value + " " * (width - _width(value))


def _print_export_notes(notes: Sequence[Message], lang: str) -> None:
    for note in notes:
        print(_no_control(note.text(lang)), file=sys.stderr)


def cmd_gradescope(args: argparse.Namespace) -> int:
    """Write the Gradescope autograder zip of one assignment (setup.sh, run_autograder, the grader's
    wheel, course.toml; never the solutions)."""
    from .authoring.gradescope import build_autograder

    config = load_config(_course(args))
    path = build_autograder(config, args.assignment, Path(args.out) if args.out else None)
    print(f"{path}: upload it as the assignment's autograder (Configure Autograder → Zip file upload)")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """The course's CI check: exit 1 with a readable summary when anything is wrong."""
    from .authoring.validate import validate

    config = load_config(_course(args))

    def show(finding) -> None:  # type: ignore[no-untyped-def]
        mark = "ok  " if finding.ok else "FAIL"
        print(f"{mark} {finding.check}: {finding.detail}", flush=True)

    findings = validate(config, jobs=args.jobs or _cores(), sandbox=args.sandbox, on_finding=show)
    failed = [f for f in findings if not f.ok]
    print(f"\n{len(findings) - len(failed)} passed, {len(failed)} failed")
    for finding in failed:
        print(f"  - {finding.check}: {finding.detail}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_packages(args: argparse.Namespace) -> int:
    """What the grading kernel offers (the grader's own packages, then course.toml's ``[kernel]
    packages``) and whether each is installed here; ``--install`` pip-installs the course's into this
    interpreter's environment, which is the kernel's (it runs ``sys.executable``)."""
    import subprocess
    from importlib.metadata import PackageNotFoundError, version

    config = load_config(_course(args))
    if args.install and config.kernel_packages:
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *config.kernel_packages]
        print(" ".join(command), flush=True)
        if subprocess.run(command, check=False).returncode != 0:
            print("error: pip could not install course.toml's [kernel] packages (above)", file=sys.stderr)
            return EXIT_FAILED
    missing = 0
    for name in config.offered_packages():
        try:
            print(f"{name} {version(name)}")
        except PackageNotFoundError:
            missing += 1
            print(f"{name}: not installed (run `grader packages --install`)")
    return EXIT_FAILED if missing else EXIT_OK


def _cores() -> int:
    from .run.sandbox import cores

    return cores()


def _jobs(value: str) -> int:
    """``--jobs``: a whole number of at least 1 (0 or a negative number graded one at a time, silently)."""
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {jobs}")
    return jobs


def _sandbox_option(parser: argparse.ArgumentParser, trusted: str = "") -> None:
    """``grade`` runs students' code: the sandbox is required unless switched off by name. The
    commands that run only trusted code (``trusted`` says whose) default to ``auto``."""
    if not trusted:
        parser.add_argument("--sandbox", choices=("required", "off"), default="required",
                            help="required (default): refuse to run without a working bubblewrap sandbox; "
                                 "off: grade unconfined, with your rights (every result and page says so)")
        return
    parser.add_argument("--sandbox", choices=("auto", "required", "off"), default="auto",
                        help=f"auto (default): the sandbox when it works here, else run unconfined, since "
                             f"{trusted}; required: its absence is an error (for CI); off: never confine")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="cnn-grader: release, grade, validate and report the convolution + pooling course "
                    "(卷积 · 池化 · 参数个数 · 性别识别).",
    )
    parser.add_argument("--version", action="version", version=f"cnn-grader {__version__}")
    parser.add_argument("--course", metavar="PATH", help="course.toml (default: the nearest one upwards)")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    rel = verbs.add_parser("release", help="write assignments/ and the student bundle dist/student/ from solutions/")
    rel.add_argument("--check", action="store_true",
                     help="write nothing; fail if assignments/ or dist/student/ is stale")
    rel.set_defaults(run=cmd_release)

    chk = verbs.add_parser("check", help="one notebook's public tests, as the student's self-check shows them")
    chk.add_argument("notebook", help="a notebook (its file name tells the assignment)")
    chk.add_argument("--assignment", help="treat the notebook as this assignment id")
    chk.add_argument("--lang", choices=LANGUAGES, help="language of the summary (default: course.toml)")
    _sandbox_option(chk, trusted="this runs the student's own notebook on their own machine")
    chk.set_defaults(run=cmd_check)

    grade = verbs.add_parser("grade", help="grade a folder (or .zip) of submitted notebooks")
    grade.add_argument("submissions", help="STUDENT/ASSIGNMENT.ipynb, flat STUDENT_ASSIGNMENT.ipynb, or a .zip")
    grade.add_argument("--out", default="out", help="output folder (default: out)")
    grade.add_argument("--assignment", help="treat every notebook as this assignment id")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                       help="grade N submissions at once on this machine (default: one per core, "
                            f"{_cores()} here); not with --dask")
    where.add_argument("--dask", metavar="ADDRESS",
                       help="grade on this Dask scheduler's workers, e.g. tcp://host:8786 (needs cnn-grader[dask]); "
                            "how many run at once is the workers' threads, so --jobs is refused with it")
    grade.add_argument("--lang", choices=LANGUAGES, help="report language (default: course.toml)")
    grade.add_argument("--no-similarity", action="store_true",
                       help="skip the similarity pass (similar pairs, worth a look; it never changes a score) "
                            "and remove an earlier run's similarity files and pages")
    _sandbox_option(grade)
    grade.set_defaults(run=cmd_grade)

    val = verbs.add_parser("validate", help="course CI: solutions full marks, templates 0, tests catch mistakes")
    val.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                     help=f"grade N notebooks at once (default: one per core, {_cores()} here)")
    _sandbox_option(val, trusted="it runs the course's own solutions, templates and mutants")
    val.set_defaults(run=cmd_validate)

    report = verbs.add_parser("report", help="re-render the HTML reports of an output folder")
    report.add_argument("dir")
    report.add_argument("--lang", choices=LANGUAGES, help="report language (default: course.toml)")
    report.add_argument("--students", action="store_true",
                        help="also write export/students/STUDENT.zip: each student's own pages, safe to hand out")
    report.set_defaults(run=cmd_report)

    pkg = verbs.add_parser("packages", help="the packages students' notebooks can import when graded")
    pkg.add_argument("--install", action="store_true", help="pip-install course.toml's [kernel] packages here first")
    pkg.set_defaults(run=cmd_packages)

    hist = verbs.add_parser("history", help="a student's graded runs and what changed between them, and why")
    hist.add_argument("student", help="the student's key (their results/ folder) or display name")
    hist.add_argument("--assignment", help="only this assignment id")
    hist.add_argument("--dir", default="out", help="the output folder of `grader grade` (default: out)")
    hist.add_argument("--lang", choices=LANGUAGES, help="language (default: course.toml's, else en)")
    hist.set_defaults(run=cmd_history)

    gs = verbs.add_parser("gradescope", help="write a Gradescope autograder zip for one assignment")
    gs.add_argument("assignment", help="the assignment id, e.g. 01-convolution")
    gs.add_argument("--out", metavar="FILE", help="the zip to write (default: dist/gradescope/ASSIGNMENT.zip)")
    gs.set_defaults(run=cmd_gradescope)

    exp = verbs.add_parser("export", help="export grades: class CSV, Gradescope results.json, Canvas CSV, "
                                          "Moodle worksheet + feedback zip")
    exp.add_argument("dir")
    exp.add_argument("--format", required=True, choices=("csv", "gradescope", "canvas", "moodle"))
    exp.add_argument("--lang", choices=LANGUAGES,
                     help="language of the messages, and of what students read in Moodle (default: course.toml)")
    exp.set_defaults(run=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _ctrl_c_stops()
    try:
        return int(args.run(args))
    except (ConfigError, ReleaseError, SpecError, ReportError, SandboxUnavailable, KernelStartError,
            GradebookError, FileNotFoundError, ValueError) as exc:  # a newer grader's gradebook, a broken one
        print(_no_control(f"error: {exc}"), file=sys.stderr)  # it may quote a student's key or file name
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: the results written so far are kept; run the same command again to finish",
              file=sys.stderr)
        return EXIT_INTERRUPTED


def _ctrl_c_stops() -> None:
    """Make Ctrl-C raise KeyboardInterrupt even when SIGINT was inherited as ignored. A program
    started in the background of a non-interactive shell (``make test &``, a CI step) inherits
    SIG_IGN for SIGINT, and Python then installs no handler: an interrupted run went on grading
    and exited 0. Stopping is always what SIGINT should do to a run that keeps what it wrote."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
