# Two commands do all set-up on a fresh machine: `make demo` and `make test` (every test, as CI runs them).
# `make check` is the inner loop: the same tests and doctests without the slow and browser ones.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STATIC_VENDOR := src/observatoire/api/static/vendor
DEMO_DIR ?= var/demo
PORT ?= 8000

.PHONY: demo test check install install-test web chromium debian-libs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

# Runtime dependencies, pinned by requirements.lock, then the package itself (editable).
$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	touch $@

# The benchmarks' baselines (Microsoft Presidio for the PII scrubber).
$(VENV)/.installed-bench: $(VENV)/.installed requirements-bench.lock
	$(BIN)/python -m pip install --quiet -r requirements-bench.lock
	touch $@

# Front-end libraries come from npm at set-up time and are served by the app (no CDN).
$(STATIC_VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	rm -rf $(STATIC_VENDOR) && mkdir -p $(STATIC_VENDOR)/leaflet
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
	      node_modules/leaflet/dist/images node_modules/leaflet/LICENSE $(STATIC_VENDOR)/leaflet/
	touch $@

install: $(VENV)/.installed web debian-libs
install-test: $(VENV)/.installed-test web chromium debian-libs
web: $(STATIC_VENDOR)/.installed

# Browser tests use Debian's chromium, never a downloaded browser.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The control report's PDF: WeasyPrint needs Debian's pango (and fonts); the tests read PDFs back with
# poppler's pdftotext.
DEBIAN_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils
debian-libs:
	@missing=$$(for p in $(DEBIAN_LIBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

demo: install
	$(BIN)/observatoire demo --out $(DEMO_DIR) --port $(PORT)

# Every test (tests/) and every docstring example (src/observatoire, as doctests): what CI runs (.ci/run).
test: install-test
	$(BIN)/python -m pytest

# The inner loop: the same without the tests marked slow (simulated city-years, benches) or browser
# (Chromium), so no browser is needed.
check: $(VENV)/.installed-test web debian-libs
	$(BIN)/python -m pytest -m "not slow and not browser"

# Every bench the README cites (read from it, so that a bench cited there is always run), then those behind
# the tables of docs/pii.md and docs/release.md.
README_BENCHES = $(shell grep -o 'bench/[a-z_]*\.py' README.md | awk '!seen[$$0]++')
BENCHES = $(README_BENCHES) $(filter-out $(README_BENCHES),bench/pii_work.py bench/release_utility.py)

bench: install $(VENV)/.installed-bench
	@set -e; for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf var $(STATIC_VENDOR) node_modules .pytest_cache
