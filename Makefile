# Two commands on a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled

.PHONY: run test unit functional e2e bench route-eval train-router clean package deploy deploy-web

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "pip<26.3"

# Reinstalls only when a requirements file changed since the last install.
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Synthetic complaints seeded into the analytics by `make run` (local/seed.py seed_history); 0 for none.
DEMO_HISTORY ?= 3000
run: $(STAMP)
	$(PY) -m local --port $(PORT) --history $(DEMO_HISTORY)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q tests

# Real-browser tests: Playwright drives Debian's Chromium (Playwright's own browser download is not used).
# Installs what is missing, or stops saying what is; never skips. `make test` ignores tests/browser.
.PHONY: test-browser
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.browser-installed
$(BROWSER_STAMP): requirements-browser.txt | $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-browser.txt
	touch $(BROWSER_STAMP)

test-browser: $(STAMP) $(BROWSER_STAMP)
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Chromium is missing at $(CHROMIUM): installing Debian's chromium package"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || exit 1; \
	  else \
	    echo "make test-browser needs Chromium at $(CHROMIUM). Install it with 'sudo apt-get install -y chromium'" \
	      "(Debian/Ubuntu), or pass CHROMIUM=/path/to/chromium." >&2; exit 1; \
	  fi; \
	  [ -x "$(CHROMIUM)" ] || { echo "apt-get did not install $(CHROMIUM)" >&2; exit 1; }; \
	fi
	QALQAN_BROWSER_TESTS=1 QALQAN_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/browser

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

functional: $(STAMP)
	$(PY) -m pytest -q tests/functional

e2e: $(STAMP)
	$(PY) -m pytest -q tests/e2e

# Mutation testing of the business rules: mutmut ([tool.mutmut] in pyproject.toml) mutates chalicelib/domain
# and chalicelib/services, runs for each mutant the unit and functional tests that execute the mutated
# function, then prints killed/total per file and the survivors. Starts afresh each run. All of it is about
# 3,000 mutants and takes over an hour on 2 cores: each survivor reruns every test reaching its function
# (~50 s for code the functional fixtures call). MUTANTS='chalicelib.domain.codes.* chalicelib.services.auth.*'
# (mutant name globs) runs a part in minutes; MUTATE_MIN=90 fails when a file or the total scores lower.
.PHONY: mutate
MUTATE_MIN ?=
MUTANTS ?=
mutate: $(STAMP)
	rm -rf mutants
	set -f; $(VENV)/bin/mutmut run $(MUTANTS)
	$(PY) -m tools.mutation_report --survivors $(if $(MUTATE_MIN),--min $(MUTATE_MIN))

# One run: the corpus's held-out split, the dev set and bench/data/routing_holdout.jsonl; rules vs classifier
# vs policy, per language and agency, confusion matrices, the share asked, reliability, speed, cold start.
route-eval: $(STAMP)
	$(PY) -m bench.routing_accuracy

# Retrain the router's classifier (scikit-learn, a development dependency only). CORRECTIONS=file.jsonl adds
# agencies' reroutes (python -m tools.admin export-corrections); a model worse on the held-out split is
# refused unless FORCE=1.
TRAIN_STAMP := $(VENV)/.train-installed
$(TRAIN_STAMP): requirements-train.txt | $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-train.txt
	touch $(TRAIN_STAMP)

train-router: $(STAMP) $(TRAIN_STAMP)
	$(PY) -m tools.train_router $(if $(CORRECTIONS),--corrections $(CORRECTIONS)) $(if $(FORCE),--force)

bench: $(STAMP)
	$(PY) -m bench.cold_start
	-$(PY) -m bench.cold_start_packaged
	$(PY) -m bench.dynamodb_requests
	$(PY) -m bench.stream_reactions
	$(PY) -m bench.rating_reads
	$(PY) -m bench.stickers
	$(PY) -m bench.http_throughput
	$(PY) -m bench.analytics_requests
	$(PY) -m bench.push_open311
	$(PY) -m bench.telegram_webhook
	$(MAKE) --no-print-directory route-eval

# Cold starts of the built package as Lambda runs it: unzipped, with only the runtime's boto3 beside it, the first
# call of the QR resolver and of POST /complaints against a hand-written one-GetItem handler, on a local moto.
# Builds its own copy of the dev package (REUSE=1: the last one); exits non-zero when a target of issue 8 is missed.
.PHONY: bench-cold
bench-cold: $(STAMP)
	$(PY) -m bench.cold_start_packaged $(if $(REUSE),--reuse) $(if $(RUNS),--runs $(RUNS))

# The deployable package of a stage under dist/$(STAGE)/: merge.json (infra/ fragments merged), sam.json and lean,
# precompiled deployment.zip and reactions.zip (tools/package.py says what is dropped and why), then cfn-lint on the template.
# Needs PyPI: chalice fetches the manylinux wheels Lambda runs.
STAGE ?= dev
package: $(STAMP)
	$(PY) -m tools.package --stage $(STAGE)
	$(VENV)/bin/cfn-lint dist/$(STAGE)/sam.json

# The whole deploy of a stage, step by step (tools/deploy.py; docs/deploying.md): package, the secret, the artifacts,
# the stack qalqan-$(STAGE). Needs AWS credentials and AWS_REGION. Stack parameters: PARAMS="StickerDomain=q.qalqan.kz ..."
PARAMS ?=
deploy: package
	$(PY) -m tools.deploy api --stage $(STAGE) --skip-package $(foreach p,$(PARAMS),--parameter $(p))

# The site: the stack qalqan-$(STAGE)-web (infra/web.json), web/ synced with config.js pointing at the stage's API,
# CloudFront invalidated. PARAMS="DomainName=qalqan.kz CertificateArn=arn:aws:acm:us-east-1:..."
deploy-web: $(STAMP)
	$(PY) -m tools.deploy web --stage $(STAGE) $(foreach p,$(PARAMS),--parameter $(p))

clean:
	rm -rf $(VENV) .local .pytest_cache
