"""Benchmark: issue 17's side-by-side figures, every one a ratio measured in one run on this machine.

- **Light NumPy notebooks** (bench/light.py: three correct 02-pooling functions, a few small
  cells, nbgrader's cell metadata), the very same N=12 files given to three tools, interleaved run
  after run (bare, nbgrader, grader, bare, ...) so a change of load hits all alike, median of three:
  plain nbclient execution one after another (after a warm-up run), ``nbgrader autograde`` of the
  class (one process, from a fresh gradebook; nbgrader in its own venv, bench/nbgrader_course.py,
  its hidden tests calling the same functions on the grader's own cases), and ``grade_class``
  ``--jobs 1`` (similarity pass on, as ``grader grade`` does). Both graders' scores are checked:
  full marks, or the figures measure nothing.
- **A class of 60** light notebooks with the default ``--jobs`` (one per core) against the same 60
  run bare one after another.
- **Gender notebooks** (examples/submissions/*/04-gender-cnn.ipynb): grading per notebook,
  ``--jobs 1``, against their plain execution.
- **Cached regrade** of N unchanged quick submissions (``--regrade``, default 1,000): graded once,
  then ``grader grade`` again on the same folder, the CLI timed end to end in a process of its own,
  with that process's peak RSS.
- The **synthetic face set** (grader.course.faces, 800 + 300 images of 64 px) made from scratch,
  in a process of its own: the README's "in seconds", measured here rather than in a unit test.
- Issue 16's **similarity pass** over generated classes (bench/similarity_class.py): 1,000 and
  2,000 submissions of one assignment and 1,000 spread over the four, each compared in its own
  process: the median time of three passes, the pass's peak of traced allocations and the process's
  RSS growth, the work counted, and how many of the planted copies and shared bugs are flagged.

Prints the table and writes it as JSON (``--json``, default bench/results.json). It is a script, not
a test: timings are reported, never asserted (tests/test_bench_light.py checks the notebooks
themselves). ``--parts`` picks what to run; ``--similarity-only`` is ``--parts similarity``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
sys.path.insert(0, str(ROOT))  # the grader of this checkout, for the few look-ups done here

import light  # noqa: E402  (beside this script: sys.path[0])
import nbgrader_course  # noqa: E402

PARTS = ("light", "class", "gender", "regrade", "faces", "similarity")

# grade_class in a process of its own: argv course, submissions, out, jobs ("default": the CLI's).
GRADE = """
import json, resource, sys, time
from pathlib import Path
from grader.classroom.batch import grade_class
from grader.classroom.runner import local_runner
from grader.course.config import load_config
config = load_config(sys.argv[1])
jobs = None if sys.argv[4] == "default" else int(sys.argv[4])
runner = local_runner(jobs)
started = time.perf_counter()
run = grade_class(Path(sys.argv[2]), Path(sys.argv[3]), config, runner=runner)
seconds = time.perf_counter() - started
questions = {}
for r in run.results:
    marks = questions.setdefault(f"{r.student}/{r.assignment}", {})
    for t in r.tests:
        got, full = marks.get(t.question, (0.0, 0.0))
        marks[t.question] = (got + t.score, full + t.max_score)
print(json.dumps({"seconds": seconds, "cached": run.cached, "jobs": runner.jobs, "graded": len(run.results),
                  "per_notebook": {f"{r.student}/{r.assignment}": r.execution_time for r in run.results},
                  "questions": questions, "similarity": run.similarity is not None,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tensorflow": "tensorflow" in sys.modules,
                  "sandbox": sorted({r.sandbox for r in run.results})}))
"""

# Plain nbclient execution, one notebook after another: argv warm-up count, then the notebooks. The
# first notebook is run that many times untimed first (imports and the kernel's files warm).
FLOOR = """
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def run(path):
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started, [o for c in nb.cells for o in c.get("outputs", ()) if o.output_type == "error"]

paths = [Path(p) for p in sys.argv[2:]]
for _ in range(int(sys.argv[1])):
    run(paths[0])
times, errors = {}, {}
for path in paths:
    key = f"{path.parent.name}/{path.stem}"
    times[key], failed = run(path)
    if failed:
        errors[key] = [f"{o.ename}: {o.evalue}" for o in failed]
print(json.dumps({"seconds": sum(times.values()), "per_notebook": times, "errors": errors}))
"""

# `grader grade` itself, in this process: its own peak RSS (not its kernels'), as JSON on stdout.
CLI = """
import json, resource, sys
from grader.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# The examples that crash their kernel or never end are left out: the floor must be able to run
# them bare, and their cost is the time limit, not grading.
UNBOUNDED = ("chen_jie", "sun_mei")


def examples(kind: str) -> list[Path]:
    """The example notebooks of ``kind``: numpy (the NumPy assignments), gender or all."""
    def wanted(path: Path) -> bool:
        gender = "04-gender" in path.name
        return path.parent.name not in UNBOUNDED and kind in ("all", "gender" if gender else "numpy")

    return sorted(p for p in EXAMPLES.glob("*/*.ipynb") if wanted(p))


def build_class(target: Path, size: int, kind: str) -> list[Path]:
    """``size`` submissions: the example notebooks of ``kind`` round-robin, each under a new student
    name."""
    notebooks = examples(kind)
    made = []
    for i in range(size):
        source = notebooks[i % len(notebooks)]
        dest = target / f"s{i:04d}_{source.parent.name}" / source.name
        dest.parent.mkdir(parents=True)
        shutil.copy(source, dest)
        made.append(dest)
    return made


def scale_class(target: Path, size: int) -> None:
    """``size`` copies of the released 02-pooling template: every cell and call fails fast, so the
    run measures the grader's own cost per submission rather than the notebooks' work."""
    template = ROOT / "assignments" / "02-pooling.ipynb"
    for i in range(size):
        dest = target / f"s{i:05d}" / template.name
        dest.parent.mkdir(parents=True)
        shutil.copy(template, dest)


SIMILARITY = """
import json, resource, statistics, sys, time, tracemalloc
from grader.classroom.similarity import Entry, compare_class
from grader.course.config import SimilarityPolicy

def rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # no /proc: the peak so far stands in for the current size
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

data = json.loads(open(sys.argv[1], encoding="utf-8").read())
entries = [Entry(e["student"], e["assignment"], e["code"], frozenset(e["wrong"])) for e in data["entries"]]
templates, policy = data["templates"], SimilarityPolicy()
del data
before, peak_before = rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    result = compare_class(entries, templates, policy)
    times.append(time.perf_counter() - started)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
del result

tracemalloc.start()
result = compare_class(entries, templates, policy)
traced = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
print(json.dumps({"seconds": statistics.median(times), "runs": times, "rss_before_mb": before,
                  "rss_growth_mb": max(peak - before, 0.0), "rss_bound_only": peak <= peak_before,
                  "traced_peak_mb": traced, "compared": dict(result.compared), "reported": len(result.pairs),
                  "counts": dict(result.work),
                  "pairs": [[p.assignment, p.student_a, p.student_b, p.code_score, p.shared_wrong, p.flagged]
                            for p in result.pairs]}))
"""

# The generated classes the similarity pass is measured on: (label, submissions, assignments).
SIMILARITY_CLASSES = (
    ("1,000 x 01-convolution", 1000, ("01-convolution",)),
    ("2,000 x 01-convolution", 2000, ("01-convolution",)),
    ("1,000 over 4 assignments", 1000, ("01-convolution", "02-pooling", "03-parameter-counting", "04-gender-cnn")),
)


def similarity_pass(size: int, assignments: tuple[str, ...], runs: int, work: Path) -> dict:
    """The similarity pass over a generated class of ``size`` submissions, in a process of its own
    that only loads the entries (the generator's own memory is not counted)."""
    from similarity_class import generate_class  # beside this script (sys.path[0])

    generated = generate_class(size, assignments, seed=size)
    path = work / f"class-{size}-{len(assignments)}.json"
    path.write_text(json.dumps({"templates": generated.templates, "entries": [
        {"student": e.student, "assignment": e.assignment, "code": e.code, "wrong": sorted(e.wrong)}
        for e in generated.entries]}), encoding="utf-8")
    run = python(SIMILARITY, str(path), str(runs))
    flagged = {(a, x, y) for a, x, y, _, _, f in run.pop("pairs") if f}
    run.update(submissions=size, assignments=list(assignments), flagged=len(flagged),
               copies=len(generated.copies), copies_flagged=len(generated.copies & flagged),
               shared_bugs=len(generated.shared_bugs), shared_bugs_flagged=len(generated.shared_bugs & flagged),
               other_flagged=len(flagged - generated.planted()))
    return run


def similarity(runs: int = 3) -> dict:
    """Issue 16's figures: the similarity pass over the generated classes, printed as a table."""
    with tempfile.TemporaryDirectory(prefix="cnn-grader-similarity-") as tmp:
        measured = {label: similarity_pass(size, assignments, runs, Path(tmp))
                    for label, size, assignments in SIMILARITY_CLASSES}
    print(f"similarity pass over generated classes (median of {runs} passes, each class in its own process)")
    print(f"{'class':26} {'seconds':>8} {'traced MB':>10} {'RSS +MB':>8} {'reported':>9} {'flagged':>8} "
          f"{'copies found':>13} {'shared bugs':>12} {'other':>6}")
    for label, m in measured.items():
        bound = "<" if m["rss_bound_only"] else " "
        print(f"{label:26} {m['seconds']:8.2f} {m['traced_peak_mb']:10.1f} {bound}{m['rss_growth_mb']:7.1f} "
              f"{m['reported']:9} {m['flagged']:8} {m['copies_flagged']:>6} of {m['copies']:<4} "
              f"{m['shared_bugs_flagged']:>5} of {m['shared_bugs']:<4} {m['other_flagged']:6}")
        if m["counts"]:
            print(f"{'':26} counted: " + ", ".join(f"{k} {v:,}" for k, v in m["counts"].items()))
    one, two = (measured[label] for label, _, _ in SIMILARITY_CLASSES[:2])
    ratios = {"seconds": two["seconds"] / one["seconds"],
              **{k: two["counts"][k] / max(v, 1) for k, v in one["counts"].items()}}
    print("2,000 / 1,000 submissions (linear 2, quadratic 4): "
          + ", ".join(f"{k.replace('_', ' ')} {r:.2f}x" for k, r in ratios.items()))
    return {"classes": measured, "ratio_2000_1000": ratios}


def python(code: str, *args: str) -> dict:
    """Run ``code`` with this Python in a process of its own; its last stdout line is JSON."""
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=ENV)
    if done.returncode != 0:
        sys.exit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# Every kernel the bench starts itself (bare runs, nbgrader's) is this Python's ipykernel, through a
# kernelspec on JUPYTER_PATH (set in main); the bare notebooks find the training faces as the
# grader's kernels do (the grader sets it itself).
ENV = {**os.environ, "FACES_DIR": str(ROOT / "data" / "faces" / "train")}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def grade(course: str, submissions: Path, out: Path, jobs: str) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    return python(GRADE, course, str(submissions), str(out), jobs)


def full_marks(run: dict, questions: tuple[str, ...]) -> list[str]:
    """The submissions whose ``questions`` did not all get full marks (empty: all did)."""
    short = []
    for key, marks in run["questions"].items():
        if any(q not in marks or marks[q][0] < marks[q][1] or marks[q][1] == 0 for q in questions):
            short.append(key)
    return short + [f"{run['graded']} graded"] * (not run["questions"])


def light_block(work: Path, course: str, size: int, runs: int) -> dict:
    """Bare nbclient, nbgrader autograde and grade_class --jobs 1 on the same ``size`` light
    notebooks, interleaved ``runs`` times; the median of each."""
    notebooks = light.write_class(work / "class", size)
    command = nbgrader_course.ensure_venv()
    nbgrader = nbgrader_course.Course(command, work / "nbgrader")
    nbgrader.submit(notebooks)
    measured: dict[str, list[float]] = {"nbclient": [], "nbgrader": [], "grader": []}
    problems: list[str] = []
    loads = [load()]
    for i in range(runs):
        bare = python(FLOOR, "1", *map(str, notebooks))
        measured["nbclient"].append(bare["seconds"] / size)
        problems += [f"bare run {i + 1}: {k}: {v}" for k, v in bare["errors"].items()]
        measured["nbgrader"].append(nbgrader.autograde() / size)
        scores = nbgrader.scores()
        problems += [f"nbgrader run {i + 1}: {s} got {got:g} of {full:g}" for s, (got, full) in scores.items()
                     if got < full or full < len(light.FUNCTIONS) * light.POINTS]
        problems += [f"nbgrader run {i + 1}: graded {len(scores)} of {size}"] * (len(scores) != size)
        graded = grade(course, work / "class", work / f"out{i}", "1")
        measured["grader"].append(graded["seconds"] / size)
        problems += [f"grader run {i + 1}: not full marks on {', '.join(light.FUNCTIONS)}: {k}"
                     for k in full_marks(graded, light.FUNCTIONS)]
        problems += [f"grader run {i + 1}: graded {graded['graded']} of {size}"] * (graded["graded"] != size)
        loads.append(load())
    median = {k: statistics.median(v) for k, v in measured.items()}
    return {"notebooks": size, "runs": runs, "per_notebook": measured, "median": median,
            "grader_over_nbclient": median["grader"] / median["nbclient"],
            "grader_over_nbgrader": median["grader"] / median["nbgrader"],
            "nbgrader_over_nbclient": median["nbgrader"] / median["nbclient"],
            "nbgrader": {"version": nbgrader_course.version(command), "venv": str(nbgrader_course.venv_dir())},
            "sandbox": graded["sandbox"], "similarity": graded["similarity"], "problems": problems, "load": loads}


def class_block(work: Path, course: str, size: int) -> dict:
    """A class of ``size`` light notebooks, the grader's default --jobs, against running them bare
    one after another."""
    notebooks = light.write_class(work / "class", size)
    loads = [load()]
    bare = python(FLOOR, "1", *map(str, notebooks))
    graded = grade(course, work / "class", work / "out", "default")
    loads.append(load())
    short = full_marks(graded, light.FUNCTIONS)
    return {"notebooks": size, "jobs": graded["jobs"], "bare_seconds": bare["seconds"],
            "grader_seconds": graded["seconds"], "ratio": graded["seconds"] / bare["seconds"],
            "problems": [f"not full marks: {k}" for k in short] + list(bare["errors"]), "load": loads}


def gender_block(work: Path, course: str) -> dict:
    """The example gender notebooks graded --jobs 1 against their plain execution (after a warm-up)."""
    notebooks = build_class(work / "class", len(examples("gender")), "gender")
    loads = [load()]
    bare = python(FLOOR, "1", *map(str, notebooks))
    graded = grade(course, work / "class", work / "out", "1")
    loads.append(load())
    n = len(notebooks)
    recorded = statistics.median(graded["per_notebook"].values())
    return {"notebooks": n, "bare_per_notebook": bare["seconds"] / n, "grader_per_notebook": graded["seconds"] / n,
            "ratio": graded["seconds"] / bare["seconds"], "recorded_median": recorded,
            "tensorflow_in_grader": graded["tensorflow"], "load": loads}


def faces_block(work: Path, runs: int) -> dict:
    """The default synthetic face set generated ``runs`` times from scratch, each in a fresh process
    (its imports included, as ``python -m grader.course.faces`` pays them): the median, and the
    images made, so a figure for a smaller set cannot pass for this one."""
    code = ("import sys, time\nfrom pathlib import Path\nstarted = time.perf_counter()\n"
            "from grader.course.faces import generate_faces\ngenerate_faces(Path(sys.argv[1]))\n"
            "print(time.perf_counter() - started)")
    seconds = []
    for run in range(runs):
        target = work / f"faces{run}"
        done = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT, capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds.append(float(done.stdout.split()[-1]))
    images = sum(1 for _ in target.rglob("*.jpg"))
    shutil.rmtree(work, ignore_errors=True)
    return {"seconds": statistics.median(seconds), "runs": seconds, "images": images}


def regrade_block(work: Path, size: int) -> dict:
    """``grader grade`` twice on ``size`` quick submissions: the first grades them all, the second
    (timed end to end, a process of its own) finds every one unchanged in the gradebook."""
    from grader.judge.catalog import text

    scale_class(work / "class", size)
    argv = ["--course", str(ROOT / "course.toml"), "grade", str(work / "class"), "--out", str(work / "out"),
            "--lang", "en"]
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CLI, *argv], capture_output=True, text=True, cwd=ROOT,
                              env={**ENV, "COLUMNS": "1000"})  # rich would wrap the line looked for below
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"grader grade failed:\n{done.stderr[-3000:]}")
        runs.append({**json.loads(done.stdout.strip().splitlines()[-1]), "seconds": seconds,
                     "all_cached": " ".join(text("cli.cached", "en", count=size).split()) in " ".join(done.stderr.split())})
    first, again = runs
    return {"submissions": size, "first_seconds": first["seconds"], "first_rss_mb": first["rss_mb"],
            "cached_seconds": again["seconds"], "cached_rss_mb": again["rss_mb"], "all_cached": again["all_cached"],
            "load": load()}


def met(value: float, target: float) -> str:
    return "yes" if value <= target else "NO"


def print_light(m: dict) -> None:
    med = m["median"]
    print(f"light NumPy notebooks (N={m['notebooks']}, median of {m['runs']}; grader kernels confined by: "
          f"{', '.join(m['sandbox'])}; nbgrader {m['nbgrader']['version']} in {m['nbgrader']['venv']})")
    print(f"{'':24} {'s/notebook':>10} {'x nbclient':>11} {'x nbgrader':>11} {'target':>16} {'met?':>8}")
    rows = (("nbclient (bare)", "nbclient", "", ""),
            ("nbgrader autograde", "nbgrader", "", ""),
            ("grader --jobs 1", "grader", "<= 0.8 / <= 0.6",
             f"{met(m['grader_over_nbclient'], 0.8)} / {met(m['grader_over_nbgrader'], 0.6)}"))
    for label, key, target, ok in rows:
        print(f"{label:24} {med[key]:10.2f} {med[key] / med['nbclient']:11.2f} {med[key] / med['nbgrader']:11.2f} "
              f"{target:>16} {ok:>8}")
    print("  each run, s/notebook: " + "; ".join(
        f"{key} " + " ".join(f"{s:.2f}" for s in runs) for key, runs in m["per_notebook"].items()))
    scored = "PROBLEMS: " + "; ".join(m["problems"][:6]) if m["problems"] else (
        f"every run: the grader gave full marks for {', '.join(light.FUNCTIONS)} on all {m['notebooks']}, "
        f"nbgrader {len(light.FUNCTIONS) * light.POINTS:g} of {len(light.FUNCTIONS) * light.POINTS:g} points on all")
    print(f"  {scored}; load average {' → '.join(map(str, m['load']))}")


def print_part(part: str, report: dict) -> None:
    """One part's lines of the table, printed as soon as it is measured."""
    if part == "light":
        print_light(report["light"])
    if part == "class":
        c = report["class"]
        print(f"class of {c['notebooks']} light notebooks, grader --jobs {c['jobs']} (the default) vs bare one after "
              f"another: {c['grader_seconds']:.1f} s vs {c['bare_seconds']:.1f} s = {c['ratio']:.2f}x   "
              f"target <= 0.5   {met(c['ratio'], 0.5)}"
              + (f"   PROBLEMS: {'; '.join(c['problems'][:3])}" if c["problems"] else ""))
    if part == "gender":
        g = report["gender"]
        print(f"gender notebooks ({g['notebooks']}), grader --jobs 1 vs bare, per notebook: {g['grader_per_notebook']:.2f} s"
              f" vs {g['bare_per_notebook']:.2f} s = {g['ratio']:.2f}x   target <= 1.1   {met(g['ratio'], 1.1)}"
              f"   (recorded run per notebook {g['recorded_median']:.2f} s; TensorFlow in the grader process: "
              f"{g['tensorflow_in_grader']})")
    if part == "regrade":
        r = report["regrade"]
        cached = "" if r["all_cached"] else "   PROBLEM: not every submission came from the gradebook"
        print(f"cached regrade of {r['submissions']:,} unchanged submissions (`grader grade`, end to end): "
              f"{r['cached_seconds']:.1f} s   target <= 5 s   {met(r['cached_seconds'], 5)}{cached}"
              f"   (their first grading took {r['first_seconds']:.0f} s)")
        print(f"grader process peak RSS at {r['submissions']:,}: cached regrade {r['cached_rss_mb']:.0f} MB, first "
              f"grading {r['first_rss_mb']:.0f} MB   target <= 300 MB   "
              f"{met(max(r['cached_rss_mb'], r['first_rss_mb']), 300)}")
    if part == "faces":
        f = report["faces"]
        print(f"synthetic face set ({f['images']:,} images), made from scratch: {f['seconds']:.1f} s (median of "
              f"{len(f['runs'])}; the README says \"in seconds\")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=12, help="light notebooks side by side (default 12)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each tool; the median is shown")
    parser.add_argument("--class-size", type=int, default=60, help="light notebooks in the class (default 60)")
    parser.add_argument("--regrade", type=int, default=1000, metavar="N",
                        help="submissions in the cached regrade (default 1,000; their first grading takes minutes)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"what to measure, comma-separated (default all: {','.join(PARTS)})")
    parser.add_argument("--similarity-only", action="store_true", help="the same as --parts similarity")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args()
    parts = ["similarity"] if args.similarity_only else [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown --parts: {', '.join(sorted(unknown))} (known: {', '.join(PARTS)})")
    sys.stdout.reconfigure(line_buffering=True)  # each part's lines show as it ends, into a pipe or file too
    course = str(ROOT / "course.toml")
    report: dict = {"load_at_start": load(), "cores": len(os.sched_getaffinity(0))}
    print(f"cnn-grader bench: {report['cores']} cores, load average {report['load_at_start']} at the start")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cnn-grader-bench-") as tmp:
        work = Path(tmp)
        ENV["JUPYTER_PATH"] = str(nbgrader_course.kernelspec(work / "jupyter"))
        steps: dict[str, Callable[[], dict]] = {
            "light": lambda: light_block(work / "light", course, args.n, args.runs),
            "class": lambda: class_block(work / "class", course, args.class_size),
            "gender": lambda: gender_block(work / "gender", course),
            "regrade": lambda: regrade_block(work / "regrade", args.regrade),
            "faces": lambda: faces_block(work / "faces", args.runs),
        }
        for part in parts:
            if part in steps:
                part_started = time.perf_counter()
                try:
                    report[part] = steps[part]()
                except nbgrader_course.NbgraderFailed as exc:
                    sys.exit(f"nbgrader: {exc}")
                report[part]["part_seconds"] = time.perf_counter() - part_started
                print_part(part, report)
    if "similarity" in parts:
        print()
        report["similarity"] = similarity()
    report["seconds"] = time.perf_counter() - started
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"bench took {report['seconds']:.0f} s; written to {args.json}")
    problems = [p for part in ("light", "class") for p in report.get(part, {}).get("problems", ())]
    if problems or not report.get("regrade", {}).get("all_cached", True):
        sys.exit("the bench measured notebooks that did not grade as they should (above)")


if __name__ == "__main__":
    main()
