# Both targets work on a fresh machine: the first run makes .venv and installs the project.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo example test lint bench

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

# The main job: a fresh embedded stack, one order down every path, outcomes and balances.
demo: setup
	$(VENV)/bin/stepstream demo

# The tutorial machine on each of its inputs, through the stepstream command.
example: setup
	@for code in 200 503 429 999; do \
		echo "statuscode $$code:"; \
		$(VENV)/bin/stepstream run examples/error-handling/MyAPIStateMachine.asl.json \
			--functions examples/error-handling/functions.py \
			--input "{\"statuscode\": \"$$code\"}" --virtual-time; \
	done

# The import contracts in pyproject.toml keep the levels: library, services, entry points.
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/orchestrator.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/fulfilment.py
	$(PY) benchmarks/idle.py
	$(PY) benchmarks/broker_requests.py
