# The two commands a new user runs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench loc docs fuzz soak install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test,lab,distributed]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m glasstorch run digits-cnn

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

# NumPy's OpenBLAS picks its own kernels here: some machine images force OPENBLAS_CORETYPE=Haswell (AVX2, for old
# OpenBLAS builds that crash on newer CPUs), which halves a current OpenBLAS's GEMM speed on an AVX-512 CPU while
# torch's oneDNN uses AVX-512 regardless. The table's header names the kernels that ran (docs/PERFORMANCE.md).
# Tests and CI keep the environment as it is.
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m benchmarks

# more parser fuzzing than make test's quick profile (tests/robustness/test_fuzz.py: safetensors, npz, IDX, PyTorch .pt)
fuzz: $(STAMP)
	GLASSTORCH_FUZZ_EXAMPLES=20000 $(BIN)/python -m pytest -p no:xdist tests/robustness/test_fuzz.py

# an hour of training killed and resumed 20 times (outside CI); its table goes into docs/RELIABILITY.md
soak: $(STAMP)
	$(BIN)/python tests/robustness/soak.py --minutes 60 --kills 20 --write

loc: $(STAMP)
	$(BIN)/python -m glasstorch.lab.loc --write

# the documentation site: regenerate the lesson and API pages, then build site/ (no warnings allowed)
docs: $(STAMP)
	$(BIN)/python -m glasstorch.lab.docs
	$(BIN)/python -m mkdocs build --strict

clean:
	rm -rf $(VENV) build site *.egg-info
