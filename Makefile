# d2lcourse: `make demo` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.11 python3.10 python3.9 python3.8 python3; do \
             command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# GPU=1 installs the CUDA 11.2 build of MXNet instead of the CPU build (never both).
ifeq ($(GPU),1)
  EXTRAS := gpu,test
  OTHER_MXNET := mxnet
else
  EXTRAS := cpu,test
  OTHER_MXNET := mxnet-cu112
endif
DEBIAN_PACKAGES := dataset-fashion-mnist bubblewrap chromium libjs-mathjax
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma := ,
# Two processes (the machine has two cores); a test file stays on one process. The
# slowest files start first (tests/conftest.py), and the slowest tests are listed.
# Tests marked gpu need an NVIDIA GPU: `make gpu-check` runs them.
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder --durations=25 -m "not gpu"

.PHONY: gpu-check install demo test lint benchmark notebooks student-wheel debian-packages python-packages clean

install: debian-packages python-packages

python-packages: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "d2lcourse: no python3 found; install Python 3.8-3.11" >&2; exit 1; }
	@$(PYTHON) tools/check_platform.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip uninstall -q -y $(OTHER_MXNET) >/dev/null 2>&1 || true
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*
	@touch $@

debian-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1; then \
	    echo "d2lcourse: please run:  sudo apt-get install$$missing"; \
	    echo "  (Fashion-MNIST data, the bubblewrap sandbox, MathJax for the feedback pages, Chromium for the page tests; not root, so not installed here)"; \
	else \
	    echo "d2lcourse: no apt-get here. Put the Fashion-MNIST IDX .gz files in a folder and set"; \
	    echo "  D2LCOURSE_DATA to it (see README, Data); grading needs Linux with bubblewrap."; \
	fi

# The demo's graded course stays in $(KEEP) (replaced at each run): `make demo KEEP=DIR`.
KEEP ?= demo-course
demo: install
	$(BIN)/d2lcourse demo --keep $(KEEP)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# With an NVIDIA GPU: the GPU build (installed if needed), doctor, the MLPs on GPU and CPU
# side by side and the tests marked gpu (tools/gpu_check.py). Without one: one line, exit 0.
NVIDIA_SMI ?= nvidia-smi
gpu-check:
	@if ! $(NVIDIA_SMI) -L 2>/dev/null | grep -q '^GPU '; then \
	    echo "no NVIDIA GPU here: nothing to check"; exit 0; fi; \
	$(MAKE) --no-print-directory install GPU=1 && $(BIN)/python tools/gpu_check.py

# pyflakes' errors and imports at the top (heavy ones excepted) everywhere; the formatter's
# layout (FORMATTED) and types (TYPED) where they are declared: the grading model, the wire
# and the check engine (pyproject.toml configures them).
FORMATTED := d2lcourse/model.py autograder/wire.py d2lcourse/notebooks.py d2lcourse/grading.py \
	d2lcourse/course.py d2lcourse/checks/core.py d2lcourse/checks/spec.py \
	d2lcourse/checks/properties.py
TYPED := $(FORMATTED)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check $(FORMATTED)
	$(BIN)/mypy $(TYPED)

benchmark: install
	$(BIN)/python benchmarks/training.py

# Regenerate the solution regions of assignments/source from solutions/.
notebooks: install
	$(BIN)/python -m d2lcourse.authoring --write

# The students' package: the library and the visible tests, with the reference solutions
# of the PUBLISHED assignments only (none by default), e.g.
#   make student-wheel PUBLISHED="01_ndarray_autograd 02_linear_regression"
PUBLISHED ?=
STUDENT_DIST ?= dist/student
student-wheel: install
	$(BIN)/python -m d2lcourse.student_package --published "$(PUBLISHED)" --out $(STUDENT_DIST)

clean:
	rm -rf $(VENV) build *.egg-info
