# Maillage – the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# Address the dashboard listens on: this machine only, unless told otherwise
# (behind a reverse proxy, see the README, « Ouvrir au public »).
ADDRESS ?= 127.0.0.1
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test setup data lint bench clean

# Create the virtual environment and install the locked dependencies.
$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv sync --frozen --compile-bytecode --python $(BIN)/python
	touch $@

# Byte-code of the installed packages is written at install (--compile-bytecode) and of the
# project's own modules here: with PYTHONDONTWRITEBYTECODE set (as on some machines),
# Python otherwise recompiles about 900 modules at every start (3 s of a 5 s command).
setup: $(VENV)/.installed
	$(BIN)/python -m compileall -q -j 0 app.py server.py analysis geo maillage ui pages \
	  benchmarks tests >/dev/null

# Prepare every dataset, the map assets and the database.
data: setup
	$(BIN)/maillage data

# Set everything up and open the dashboard on the real data (server.py: app.py served by
# st.App with the routes of the sign-in cookie, see ui/session_routes.py).
run: data
	$(BIN)/streamlit run server.py --server.port $(PORT) --server.address $(ADDRESS)

# Processes the test suite runs on (pytest-xdist; a test file stays in one process).
TEST_WORKERS ?= 2

# Set everything up and run the whole test suite.
test: setup
	$(BIN)/maillage assets
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Style (ruff) and the layer contract (import-linter, see pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/sources data/build static/vendor
