# DataLab: the two commands.
#   make up     set up this machine and bring up the embedded default (dev) environment
#   make test   run every test (CI runs exactly this, through .ci/run)
# Everything else is `datalab --help`.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

PYTHON_SOURCES := glue jobs tests ansible/library ansible/filter_plugins \
  ansible/roles/service_cert/files/datalab-cert-renew \
  ansible/roles/node_exporter/files/datalab-cert-expiry ansible/roles/prometheus/files/datalab-vault-token \
  ansible/roles/etcd/files/datalab-etcd-access
# The jobs' environment (pyspark, Delta jars, MLflow, Prefect, polars): jobs/README.md.
JOBS_VENV ?= .venv-jobs

.PHONY: up down test lint prepare venv clean jobs-venv test-jobs

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@echo "==> virtualenv $(VENV) (operator install + test tools)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

jobs-venv: $(JOBS_VENV)/.installed
$(JOBS_VENV)/.installed: pyproject.toml jobs/make_test_env.py | venv
	@echo "==> jobs environment $(JOBS_VENV) (from the artifact store + PyPI)"
	$(BIN)/python jobs/make_test_env.py --venv $(JOBS_VENV)
	@touch $@

# Local-mode Spark + Delta; not the operator suite's conftest (no datalab needed).
test-jobs: jobs-venv
	$(JOBS_VENV)/bin/python -m pytest -ra --durations=10 -p no:cacheprovider \
		--confcutdir=tests/unit/jobs tests/unit/jobs

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
	$(BIN)/pytest -ra --durations=40
	@echo "==> the jobs in local mode (Spark + Delta, Prefect, MLflow: jobs/README.md)"
	$(MAKE) test-jobs
