# DataLab: the two commands.
#   make up     set up this machine and bring up the embedded default (dev) environment
#   make test   run every test (CI runs exactly this, through .ci/run)
# Everything else is `datalab --help`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

PYTHON_SOURCES := glue tests ansible/library ansible/filter_plugins ansible/roles/service_cert/files/datalab-cert-renew \
  ansible/roles/node_exporter/files/datalab-cert-expiry ansible/roles/prometheus/files/datalab-vault-token

.PHONY: up down test lint prepare venv clean

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@echo "==> virtualenv $(VENV) (operator install + test tools)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

prepare: venv
	$(BIN)/datalab lab prepare --env dev

up: venv
	$(BIN)/datalab up --env dev

down: venv
	$(BIN)/datalab down --env dev

lint: venv
	@echo "==> ruff"
	$(BIN)/ruff check $(PYTHON_SOURCES)
	$(BIN)/ruff format --check $(PYTHON_SOURCES)
	@echo "==> ansible-lint (production profile)"
	cd ansible && $(BIN)/ansible-lint --offline -q . ../tests/lab/probe.yml

test: lint prepare
	@echo "==> pytest (unit; terraform fmt/validate/test/plan; lab)"
	$(BIN)/pytest -ra --durations=15
