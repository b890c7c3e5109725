# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FACES  := data/faces/train/FaceScore.csv
KERNEL := $(VENV)/.kernel-packages

.PHONY: demo test bench clean

# The environment: rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "cnn-grader needs Python >= 3.11 (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# course.toml's [kernel] packages (what students' notebooks may import beyond the grader's own).
$(KERNEL): $(STAMP) course.toml
	$(BIN)/grader packages --install
	@touch $@

# The synthetic face data set (train/ for students, heldout/ for the grader); seconds to make.
$(FACES): $(STAMP) grader/course/faces.py
	$(BIN)/python -m grader.course.faces data/faces

# The example class is the course's own files, not students' code: where no sandbox works (macOS, a
# container without namespaces) it is graded with --sandbox off rather than not at all.
demo: $(STAMP) $(KERNEL) $(FACES)
	$(BIN)/grader release --check
	@if $(BIN)/python -m grader.run.sandbox >/dev/null; then sandbox=required; else \
	    echo "make demo: no working sandbox here (above); the bundled examples are the course's own files," \
	         "so they are graded with --sandbox off. Real submissions need the sandbox."; sandbox=off; fi; \
	echo "$(BIN)/grader grade examples/submissions --out out/demo --jobs 2 --sandbox $$sandbox"; \
	$(BIN)/grader grade examples/submissions --out out/demo --jobs 2 --sandbox $$sandbox

# The layer contracts (pyproject.toml's [tool.importlinter]) first: a broken layer fails in a second.
# Then the suite on one pytest-xdist worker per core (at most 4: each grades with kernels of its own),
# a test file per worker (tests/conftest.py); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxprocesses 4

# Issue 17's side-by-side table (README.md, "Speed"): 12 light NumPy notebooks run bare, by nbgrader
# autograde (installed once into ~/.cache/cnn-grader/bench-nbgrader) and by the grader --jobs 1, median
# of three interleaved runs; 60 at the default --jobs vs bare; the gender notebooks vs bare; a cached
# regrade of 1,000 and its RSS; then issue 16's similarity pass over generated classes of 1,000 and
# 2,000. BENCH_ARGS="--regrade 200" for a smaller regrade, "--parts light,class" for some parts only.
bench: $(STAMP) $(FACES)
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data dist/student.zip out .pytest_cache .hypothesis
