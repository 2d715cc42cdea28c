# dbpoolsim: the two set-up-and-go commands are `make run` and `make test` (see README.md).
# Each installs what is missing (Debian packages with apt-get, Python packages with pip into
# .venv), builds only what changed, and is safe to repeat.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
APT_PACKAGES := libboost-dev libeigen3-dev nlohmann-json3-dev catch2 g++ cmake ninja-build
PY_BUILD_DEPS := "scikit-build-core>=0.10" "pybind11>=2.10" ninja cmake
PY_DEPS := numpy pandas tqdm pytest simpy matplotlib nbclient nbformat ipykernel scipy pyarrow pyyaml
# experiments layer (issue 8): sweeps on a Dask cluster
PY_DEPS += "dask[distributed]"
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SOURCES := $(shell find sim models python -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.py' -o -name '*.json' -o -name 'CMakeLists.txt' \) 2>/dev/null) CMakeLists.txt pyproject.toml
# The profile-guided build's pieces (cmake/pgo.cmake): its scripts, trainer and training list.
SOURCES += $(wildcard cmake/*.cmake) experiments/bench/profile.cpp experiments/bench/pgo_training.json
CPP_BUILD := build/cpp
STAMPS := build/stamps

# experiments/reality: the CI smoke subset (tests/python/test_reality.py) needs PostgreSQL,
# PgBouncer and the Python drivers; `make reality` also the JVM, Go and Node pieces.
APT_PACKAGES += postgresql pgbouncer
PY_DEPS += "psycopg[binary]" psycopg_pool SQLAlchemy asyncpg
REALITY_APT := openjdk-17-jdk-headless libhikaricp-java libpostgresql-jdbc-java libslf4j-java \
               golang-go golang-github-lib-pq-dev nodejs

.PHONY: run test test-cpp test-python install deps bench bench-sweep clean reality test-sanitize fuzz fuzz-build

run: install
	$(VENV)/bin/dbpoolsim run --out results/medium-application

# `make test` is the developer's and CI's test command. CI (.ci/run) runs it and then
# `make test-sanitize` (the C++ tests under ASan + UBSan) and `make fuzz` (each fuzz target for
# 60 s); they stay out of `make test` itself because they need clang and a second build
# (about 20 more minutes on a fresh 2-core machine; tests/fuzz/README.md, "In CI").
test: test-cpp test-python

test-cpp: $(STAMPS)/deps
	cmake -S . -B $(CPP_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDBPOOLSIM_WERROR=ON >/dev/null
	cmake --build $(CPP_BUILD)
	$(CPP_BUILD)/tests/dbpoolsim_tests

test-python: install $(STAMPS)/browser
	CI=$${CI:-} $(PY) -m pytest -q

install: $(STAMPS)/install

# The C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer (own build dir; any report fails).
SANITIZE_BUILD := build/sanitize
SANITIZE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
                  -DDBPOOLSIM_SANITIZE=address,undefined
test-sanitize: $(STAMPS)/deps
	cmake -S . -B $(SANITIZE_BUILD) -G Ninja $(SANITIZE_FLAGS) -DDBPOOLSIM_WERROR=ON >/dev/null
	cmake --build $(SANITIZE_BUILD) --target dbpoolsim_tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(SANITIZE_BUILD)/tests/dbpoolsim_tests

# libFuzzer targets (tests/fuzz): scenario reader, trace reader (clang), --set parser (atheris).
# No -Werror here: clang warns about things gcc does not, and gcc's -Werror build is the gate.
# `make fuzz` runs each FUZZ_SECONDS (60) from the seed corpus, FUZZ_JOBS (2) at a time;
# build/fuzz holds only the C++ core and the two targets. tests/fuzz/README.md says more.
FUZZ_APT_PACKAGES := clang-14 libfuzzer-14-dev
FUZZ_SECONDS ?= 60
fuzz-build: $(STAMPS)/fuzzdeps
	cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DDBPOOLSIM_BUILD_FUZZERS=ON \
	  -DDBPOOLSIM_BUILD_TESTS=OFF $(SANITIZE_FLAGS) >/dev/null
	cmake --build build/fuzz --target fuzz_scenario fuzz_trace
fuzz: fuzz-build install
	tests/fuzz/run.sh $(FUZZ_SECONDS)

$(STAMPS)/fuzzdeps: $(STAMPS)/pydeps
	@if ! dpkg -s $(FUZZ_APT_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing Debian packages: $(FUZZ_APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(FUZZ_APT_PACKAGES); \
	fi
	$(PIP) install -q atheris
	@touch $@

deps: $(STAMPS)/deps

bench: install
	$(PY) experiments/bench/bench.py

# Real pools on a real PostgreSQL and PgBouncer vs dbpoolsim (experiments/reality/README.md).
reality: install
	@if ! dpkg -s $(REALITY_APT) >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(REALITY_APT); \
	fi
	$(PY) experiments/reality/run.py $(REALITY_ARGS)

bench-sweep: install
	$(PY) experiments/bench/sweep_bench.py

# Debian packages: installed only if one is missing.
$(STAMPS)/deps: Makefile
	@mkdir -p $(STAMPS)
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi
	@touch $@

# Headless Chromium, only for the test that opens the HTML report (tests/python/test_html_report.py).
BROWSER_PACKAGES := chromium
$(STAMPS)/browser:
	@mkdir -p $(STAMPS)
	@if ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing Debian packages for the HTML report test: $(BROWSER_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(BROWSER_PACKAGES); \
	fi
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMPS)/pydeps: $(VENV)/bin/python Makefile
	@mkdir -p $(STAMPS)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(PY_BUILD_DEPS) $(PY_DEPS)
	@touch $@

# The package (C++ core + Python), rebuilt incrementally in build/<wheel tag>.
$(STAMPS)/install: $(STAMPS)/deps $(STAMPS)/pydeps $(SOURCES)
	$(PIP) install -q --no-build-isolation --no-deps .
	@touch $@

clean:
	rm -rf build results
