# Two commands matter: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000

.PHONY: demo test lint audit bench fuzz lock clean

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

# Minutes of schemathesis against a running demo, as every role: no request may get a 5xx.
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'schemathesis>=3.30'
	$(BIN)/python tests/fuzz_api.py $(EXAMPLES)
	HELHED_CRASH_LOOPS=100 HELHED_TEST_POSTGRES_URL="$${HELHED_TEST_POSTGRES_URL:-$$($(BIN)/python tests/find_postgres.py)}" $(BIN)/pytest -q tests/attack/test_crash_consistency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
