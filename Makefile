# Two entry points: `make run` (the cron job on config.toml) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench install clean

$(BIN)/archive: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# An editable install ships no bytecode; without it each command compiles the project again.
	$(BIN)/python -m compileall -q pipeline archive >/dev/null
	touch $@

install: $(BIN)/archive

run: install
	$(BIN)/archive run

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info
