# Two commands set everything up on a fresh Debian machine:
#   make run   — the desktop app, with demo data on first start
#   make test  — the whole test suite
# Both install what they need (Debian packages, a virtual environment, Python packages).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
# Debian packages the app and its tests use: poppler (pdfsig, pdftoppm, pdffonts, pdftotext),
# PostgreSQL (HQ's production database, real server in tests), Chromium (web-console tests),
# Xvfb (screenshots), and the X/GL libraries Qt's platform plugins load.
DEB_PACKAGES := poppler-utils postgresql chromium xvfb fontconfig libegl1 libgl1 libxkbcommon0 \
	libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 binutils

.PHONY: run hq test bench package system-deps venv clean lint

run: venv
	$(PY) -m ui.app --demo

# HQ with demo data (directories, a draw, a laptop's synced visits) and its web console on :8750
hq: venv
	$(PY) -m inspector.hq.demo --home .hq-demo --serve

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.bench $(BENCH)

package: venv
	$(PY) -m pip install -q -e '.[package]'
	$(PY) packaging/build.py

venv: system-deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,package]'
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf build dist .pytest_cache bench-results.json .hq-demo
