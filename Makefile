# Two commands set everything up on a fresh Debian machine:
#   make run   — the desktop app, with demo data on first start
#   make test  — the whole test suite
# Both install what they need (Debian packages, a virtual environment, Python packages).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The venv is rebuilt when the project's requirements or their locked versions change.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-12)
PORT   ?= 8750
# apt waits this long (seconds) for another apt/dpkg process to release its lock instead of failing
APT_LOCK_WAIT ?= 300
APT    := apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT)
# Debian packages the app and its tests use: poppler (pdfsig, pdftoppm, pdffonts, pdftotext),
# PostgreSQL (HQ's production database, real server in tests), Chromium (web-console tests),
# Xvfb (screenshots), nginx (TLS in front of HQ's workers, packaging/hq/), and the X/GL libraries Qt's platform plugins load.
# LibreOffice Calc headless + Carlito (Calibri's metrics): the XLSX exports printed to PDF (tests/test_xlsx_print.py).
DEB_PACKAGES := poppler-utils qpdf postgresql chromium xvfb fontconfig libegl1 libgl1 libxkbcommon0 \
	libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 binutils nginx \
	libreoffice-calc-nogui fonts-crosextra-carlito

.PHONY: run hq test bench package system-deps venv clean lint lock

run: venv
	$(PY) -m ui.app --demo

# HQ with demo data (directories, a draw, a laptop's synced visits) and its web console on :$(PORT)
# (make hq PORT=8760)
hq: venv
	$(PY) -m inspector.hq.demo --home .hq-demo --serve --port $(PORT)

test: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.bench $(BENCH)

package: venv
	@echo "==> Building the frozen desktop app with PyInstaller (about 3 minutes; skipped when the sources did not change)"
	$(PY) packaging/build.py

# ruff (rules in pyproject.toml [tool.ruff]) and mypy (the typed core, [tool.mypy])
lint: venv
	@echo "==> ruff check"
	$(PY) -m ruff check inspector ui tests packaging
	@echo "==> mypy"
	$(PY) -m mypy

# Re-resolve requirements.lock after changing dependencies in pyproject.toml (commit both)
lock: venv
	$(PY) -m pip install -q 'uv>=0.4,<1'
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra package --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_34 --index-strategy unsafe-best-match --no-emit-index-url \
	  --no-emit-find-links --annotation-style line -o requirements.lock $(LOCK_ARGS)

venv: system-deps $(STAMP)

# The app, the tests and the bundle all run on the versions pinned in requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || { echo "==> Creating the virtual environment $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Installing $$(grep -c '^[a-zA-Z]' requirements.lock) locked Python packages from requirements.lock (a few minutes on a fresh machine: Qt, PyInstaller, Playwright)"
	$(PY) -m pip install --progress-bar on -r requirements.lock
	@echo "==> Installing this project (editable, no further dependencies)"
	$(PY) -m pip install -q -e . --no-deps
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=""; \
	  if [ "$$(id -u)" != 0 ]; then \
	    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	      echo "make: these Debian packages are missing and installing them needs root: $$missing" >&2; \
	      echo "make: run 'sudo -v' first (then make again), run make as root, or install them yourself:" >&2; \
	      echo "      sudo apt-get install -y $$missing" >&2; \
	      exit 1; \
	    fi; \
	  fi; \
	  echo "==> apt: refreshing the package lists (waits up to $(APT_LOCK_WAIT) s if another apt/dpkg process holds the lock)"; \
	  waited=0; until $$SUDO $(APT) update -q; do \
	    [ $$waited -ge $(APT_LOCK_WAIT) ] && exit 1; \
	    echo "==> apt: update failed (another apt process holding the lists lock does not honour the timeout); retry in 5 s"; \
	    sleep 5; waited=$$((waited + 5)); \
	  done; \
	  echo "==> apt: installing $$(echo $$missing | wc -w) Debian packages (about 2 minutes on a fresh machine): $$missing"; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO $(APT) install -y -q $$missing || exit 1; \
	fi

clean:
	rm -rf build dist .pytest_cache bench-results.json .hq-demo
