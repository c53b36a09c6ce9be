# Keepword: the two commands are `make up` and `make test`. See README.md.
# Set-up steps print one line each ("✓ ..."); their details go to .local/logs/ (installers' output
# to setup.log). A step that fails says what failed, shows the log's last lines and what to run next.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv/bin
LOCAL := deploy/local
STEP := $(LOCAL)/steps.sh run
# Never let uv fetch a Python build from outside the package registries.
export UV_PYTHON_DOWNLOADS := never
export KEEPWORD_CONFIG ?= $(CURDIR)/deploy/local/keepword.toml
# Python keeps its compiled modules (out of the tree, under .local/) even where the environment
# says not to write them: otherwise every service process compiles its ~700 modules again at each
# start (4.3 s to import a service here, 1.6 s with them), and every test that starts one waits.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/.local/pycache

.PHONY: help up demo down logs status test faultrun-cluster lint typecheck unit deps stack provision browser mailserver schemas docs bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

up: deps stack provision ## Install what is missing, start Kafka, PostgreSQL, the mail catcher and the five services
	@$(LOCAL)/services.sh start
	@echo "intake API: http://127.0.0.1:$${KEEPWORD_INTAKE_PORT:-8080}/docs   emails: .local/mail/new/   logs: .local/logs/ (make logs)"

demo: deps stack provision ## Play the stories through the running system (services restarted with SLAs in seconds)
	@$(LOCAL)/demo.sh

down: ## Stop the services, the broker and the database (data is kept under .local/)
	@$(LOCAL)/services.sh stop
	@$(LOCAL)/kafka.sh stop
	@$(LOCAL)/postgres.sh stop

status: ## Show what is running
	@$(LOCAL)/services.sh status || true
	@$(LOCAL)/kafka.sh status || true
	@$(LOCAL)/postgres.sh status || true

logs: ## Show where the logs are (.local/logs/), and their last lines
	@for f in .local/logs/*.log; do echo "== $$f"; tail -n 5 "$$f"; done 2>/dev/null || echo "no logs yet: run make up"

test: deps stack provision browser mailserver lint typecheck ## Run ruff, mypy and every test against the real servers
	$(VENV)/pytest -n 2 # two workers: the fault run beside the rest (conftest.py)

faultrun-cluster: deps stack ## The fault run on a 3-broker Kafka cluster with 2 instances of each service (minutes; not in make test)
	$(VENV)/pytest -m cluster tests/faults/test_fault_run_cluster.py

lint:
	@$(STEP) "ruff: lint and format clean" "$(VENV)/ruff check --fix . && $(VENV)/ruff format ." -- \
	  bash -c '$(VENV)/ruff check . && $(VENV)/ruff format --check .'

typecheck:
	@$(STEP) "mypy" "$(VENV)/mypy libs services tests bench conftest.py" --last -- \
	  $(VENV)/mypy libs services tests bench conftest.py

deps: ## Install uv (if missing) and the locked Python dependencies into .venv
	@command -v uv >/dev/null || $(STEP) "uv installed with pip" \
	  "python3 -m pip install uv" -- python3 -m pip install --disable-pip-version-check uv
	@$(STEP) "Python dependencies in .venv (uv sync, locked)" \
	  "uv sync --all-packages --frozen" -- uv sync --all-packages --frozen

mailserver: ## Install Dovecot (Debian's package) for the mailbox connector's tests
	@$(LOCAL)/dovecot.sh install

browser: ## Install headless Chromium (Debian's package) for the browser tests
	@$(LOCAL)/browser.sh install

stack: ## Start Kafka and PostgreSQL (installing them on first use)
	@$(LOCAL)/postgres.sh start
	@$(LOCAL)/kafka.sh start

provision: ## Create the catalog's topics and apply every service's migrations
	@$(LOCAL)/provision.sh

bench: deps stack ## Run the benchmarks (slow; not part of make test), beside a running make up; figures go in docs/benchmarks.md
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(VENV)/python bench/intake/run.py
	$(VENV)/python bench/commitments/run.py
	$(VENV)/python bench/escalation/run.py
	$(VENV)/python bench/escalation/tone_speed.py
	$(VENV)/python bench/notifier/run.py
	$(VENV)/python bench/insights/run.py
	$(VENV)/python bench/summary.py

schemas: ## Regenerate the committed JSON Schemas of the event contract
	$(VENV)/keepword schemas export

docs: ## Regenerate the committed AsyncAPI documents of the services (docs/asyncapi/)
	@mkdir -p docs/asyncapi
	@for service in intake commitments escalation notifier insights; do \
	  $(VENV)/faststream docs gen --yaml --factory keepword_ops.asyncapi:$$service \
	    --out docs/asyncapi/$$service.yaml; \
	done

clean: down ## Stop everything and delete all local state (.local/)
	rm -rf .local
