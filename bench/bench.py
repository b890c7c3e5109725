"""Benchmark: what grading costs next to running the notebooks bare (issue 8's figures).

Builds a class of N submissions from examples/submissions (copies with renamed students), then
measures in one run on this machine:

- the floor: plain nbclient execution of every notebook, one after another;
- ``grade_class`` with jobs=1 and jobs=2 (fresh output folders), and a cached regrade;
- the grader process's peak RSS (each grading run happens in its own subprocess);
- per-notebook time for the NumPy notebooks and the gender notebook separately.

Prints a table with ratios to the floor and writes it as JSON (``--json``). It is a script, not a
test: timings are reported, never asserted. ``--scale 1000`` instead grades 1,000 quick submissions
(the 02-pooling template) with ``--jobs 2`` and reports the grader's peak RSS.

The same run measures the class-wide similarity pass (issue 16) on generated classes
(bench/similarity_class.py): 1,000 and 2,000 submissions of one assignment and 1,000 spread over the
four, each compared in its own process: the median time of three passes, the pass's peak of traced
allocations and the process's RSS growth, the work counted, and how many of the planted copies and
shared bugs come out flagged. ``--similarity-only`` runs only that part.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"

GRADE = """
import json, resource, sys, time
from pathlib import Path
from grader.classroom.batch import grade_class
from grader.classroom.runner import local_runner
from grader.course.config import load_config
config = load_config(sys.argv[1])
started = time.perf_counter()
run = grade_class(Path(sys.argv[2]), Path(sys.argv[3]), config, runner=local_runner(jobs=int(sys.argv[4])))
print(json.dumps({"seconds": time.perf_counter() - started, "cached": run.cached,
                  "per_notebook": {f"{r.student}/{r.assignment}": r.execution_time for r in run.results},
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "tensorflow": "tensorflow" in sys.modules,
                  "sandbox": sorted({r.sandbox for r in run.results})}))
"""

FLOOR = """
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
times = {}
for path in map(Path, sys.argv[1:]):
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    times[f"{path.parent.name}/{path.stem}"] = time.perf_counter() - started
print(json.dumps(times))
"""


# The examples that crash their kernel or never end are left out: the floor must be able to run
# them bare, and their cost is the time limit, not grading.
UNBOUNDED = ("chen_jie", "sun_mei")


def build_class(target: Path, size: int, kind: str) -> list[Path]:
    """``size`` submissions: the example notebooks of ``kind`` (numpy, gender or all) round-robin,
    each under a new student name."""
    def wanted(path: Path) -> bool:
        gender = "04-gender" in path.name
        return path.parent.name not in UNBOUNDED and kind in ("all", "gender" if gender else "numpy")

    notebooks = sorted(p for p in EXAMPLES.glob("*/*.ipynb") if wanted(p))
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
    run measures the grader's own memory per submission rather than the notebooks' work."""
    template = ROOT / "assignments" / "02-pooling.ipynb"
    for i in range(size):
        dest = target / f"s{i:05d}" / template.name
        dest.parent.mkdir(parents=True)
        shutil.copy(template, dest)


def scale(size: int, course: str) -> None:
    """Issue 8's memory target: the grader's peak RSS over a class of ``size`` submissions."""
    with tempfile.TemporaryDirectory(prefix="cnn-grader-scale-") as tmp:
        scale_class(Path(tmp) / "class", size)
        run = python(GRADE, course, str(Path(tmp) / "class"), str(Path(tmp) / "out"), "2")
    print(f"{size} submissions (02-pooling template), --jobs 2: {run['seconds']:.0f} s, "
          f"grader peak RSS {run['rss_mb']:.0f} MB, TensorFlow in the grader process: {run['tensorflow']}")


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
    # The bare notebooks find the training faces as the grader's kernels do (the grader sets it itself).
    env = {**os.environ, "FACES_DIR": str(ROOT / "data" / "faces" / "train")}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        sys.exit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="submissions in the class (default 60)")
    parser.add_argument("--kind", choices=("all", "numpy", "gender"), default="all",
                        help="which example notebooks make up the class (default all)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--scale", type=int, metavar="N",
                        help="instead: the grader's peak RSS over N quick submissions (e.g. 1000)")
    parser.add_argument("--similarity-only", action="store_true",
                        help="only the similarity pass over generated classes of 1,000 and 2,000 submissions")
    args = parser.parse_args()
    course = str(ROOT / "course.toml")
    if args.scale:
        return scale(args.scale, course)
    if args.similarity_only:
        args.json.write_text(json.dumps({"similarity": similarity()}, indent=2), encoding="utf-8")
        return print(f"written to {args.json}")
    with tempfile.TemporaryDirectory(prefix="cnn-grader-bench-") as tmp:
        work = Path(tmp)
        notebooks = build_class(work / "class", args.n, args.kind)
        floor = python(FLOOR, *map(str, notebooks))
        one = python(GRADE, course, str(work / "class"), str(work / "out1"), "1")
        two = python(GRADE, course, str(work / "class"), str(work / "out2"), "2")
        cached = python(GRADE, course, str(work / "class"), str(work / "out1"), "1")

    def split(times: dict[str, float]) -> dict[str, float]:
        numpy = [t for k, t in times.items() if "04-gender" not in k]
        gender = [t for k, t in times.items() if "04-gender" in k]
        return {"numpy_median": statistics.median(numpy) if numpy else 0.0,
                "gender_median": statistics.median(gender) if gender else 0.0}

    floor_total = sum(floor.values())
    report = {
        "submissions": args.n,
        "kind": args.kind,
        "floor_seconds": floor_total,
        "jobs1_seconds": one["seconds"],
        "jobs2_seconds": two["seconds"],
        "cached_seconds": cached["seconds"],
        "cached_per_submission": cached["seconds"] / args.n,
        "cached_count": cached["cached"],
        "rss_mb_jobs1": one["rss_mb"],
        "tensorflow_in_grader": one["tensorflow"],
        "sandbox": one["sandbox"],
        "floor_per_notebook": split(floor),
        "graded_per_notebook": split(one["per_notebook"]),
    }
    rows = [
        ("plain nbclient (floor)", floor_total, 1.0),
        ("grade --jobs 1", one["seconds"], one["seconds"] / floor_total),
        ("grade --jobs 2", two["seconds"], two["seconds"] / floor_total),
        ("cached regrade", cached["seconds"], cached["seconds"] / floor_total),
    ]
    print(f"{args.n} submissions on this machine (kernels confined by: {', '.join(one['sandbox'])})")
    print(f"{'run':28} {'seconds':>9} {'x floor':>8}")
    for name, seconds, ratio in rows:
        print(f"{name:28} {seconds:9.1f} {ratio:8.2f}")
    f, g = report["floor_per_notebook"], report["graded_per_notebook"]
    for kind in ("numpy", "gender"):
        if f[f"{kind}_median"]:
            print(f"{kind} notebook median: floor {f[f'{kind}_median']:.2f} s, graded {g[f'{kind}_median']:.2f} s, "
                  f"ratio {g[f'{kind}_median'] / f[f'{kind}_median']:.2f}")
    print(f"jobs 2 throughput vs jobs 1: {one['seconds'] / two['seconds']:.2f}x")
    print(f"cached regrade: {report['cached_per_submission'] * 1000:.1f} ms per submission "
          f"({cached['cached']} of {args.n} from the gradebook)")
    print(f"grader peak RSS (jobs 1): {one['rss_mb']:.0f} MB; TensorFlow in the grader process: {one['tensorflow']}")
    print()
    report["similarity"] = similarity()
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
