# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-sqlite test-postgresql lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/assay demo

# The whole suite, on SQLite and on PostgreSQL (127.0.0.1:5432, database test).
test: $(STAMP) lint
	$(BIN)/pytest -n 2 -q

test-sqlite: $(STAMP)
	ASSAY_TEST_DATABASES=sqlite $(BIN)/pytest -n 2 -q

test-postgresql: $(STAMP)
	ASSAY_TEST_DATABASES=postgresql $(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) assay.db assay.db-wal assay.db-shm
