# Two commands matter: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: demo test lint audit bench bench-instructions fuzz fuzz-api fuzz-input fuzz-demo fuzz-crash lock clean

# requirements.lock pins every package that was tested; `make lock` refreshes it after a change
# to pyproject.toml. It is a constraints file: the install takes exactly those versions.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[test,bench]'
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.4'
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --universal \
		--python-version 3.11 --no-header -q -o requirements.lock

demo: $(STAMP)
	$(BIN)/helhed demo --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pip-audit of requirements.lock; a finding fails unless security/audit-allowlist.toml lists it.
audit: $(STAMP)
	$(BIN)/python security/audit_dependencies.py

# PostgreSQL tests run whenever a server answers; tests/find_postgres.py starts the local
# cluster if it is installed but stopped, and prints nothing when there is none.
test: lint audit
	HELHED_TEST_POSTGRES_URL="$${HELHED_TEST_POSTGRES_URL:-$$($(BIN)/python tests/find_postgres.py)}" \
		$(BIN)/pytest $(PYTEST_ARGS)

# The benchmark suite (issue 11): overhead against a bare proxy, fan-out, log, scale-out, size.
# Writes bench/results/suite.json and RESULTS.md; BENCH_ARGS=--quick runs every workload briefly.
bench: $(STAMP)
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

# Instructions a view (callgrind): a count the host's speed does not move, for small changes.
bench-instructions: $(STAMP)
	$(BIN)/python bench/instructions.py $(BENCH_ARGS)

# The attack suite's long runs (issue 12), one part after another, then one line per target
# (examples, operations x roles and token kinds, failures) and a total. Each part is a make
# target that records its counts in $(FUZZ_TALLY) (tests/fuzz_summary.py); add a part by adding
# a target to FUZZ_PARTS. A part that fails does not stop the others; the summary says so.
FUZZ_PARTS := fuzz-api fuzz-input fuzz-demo fuzz-crash
FUZZ_TALLY := $(CURDIR)/.fuzz-tally.jsonl
FUZZ_ENV = HELHED_FUZZ=long HELHED_FUZZ_TALLY=$(FUZZ_TALLY) \
	HELHED_TEST_POSTGRES_URL="$${HELHED_TEST_POSTGRES_URL:-$$($(BIN)/python tests/find_postgres.py)}"

fuzz: $(STAMP)
	rm -f $(FUZZ_TALLY)
	@status=0; $(MAKE) --no-print-directory -k $(FUZZ_PARTS) || status=1; \
		$(BIN)/python tests/fuzz_summary.py $(FUZZ_TALLY) || status=1; exit $$status

# schemathesis over HTTP, every operation x every role and broken token (thousands of requests).
fuzz-api: $(STAMP)
	$(FUZZ_ENV) $(BIN)/python -m pytest -q -p tests.fuzz_summary tests/attack/test_api_fuzz.py

# hypothesis on the parsers: CPR, consent bodies, mapping, CSV drops, checkpoints and proofs.
fuzz-input: $(STAMP)
	$(FUZZ_ENV) $(BIN)/python -m pytest -q -p tests.fuzz_summary tests/attack/test_input_fuzz.py

# schemathesis's own runner against `helhed demo` in a subprocess, with its seeded consents.
fuzz-demo: $(STAMP)
	$(FUZZ_ENV) $(BIN)/python -m tests.fuzz_api $(EXAMPLES)

# The crash-consistency loops (tests/attack/test_crash_consistency.py), many more than in make test.
fuzz-crash: $(STAMP)
	HELHED_CRASH_LOOPS=100 $(FUZZ_ENV) $(BIN)/python -m pytest -q -p tests.fuzz_summary tests/attack/test_crash_consistency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
