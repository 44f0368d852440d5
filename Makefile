# reformkb: two commands do all the set-up on a fresh machine.
#   make run    create .venv, install, build the default knowledge base, start the app
#   make test   create .venv, install (with test tools and a headless browser), lint (ruff), run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: run test init browser bench-smoke clean-kb

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

init: $(STAMP)
	$(BIN)/reformkb init

run: init
	$(BIN)/streamlit run app.py

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) || \
	  echo "chromium could not be installed: the browser test will be skipped"

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke

clean-kb:
	rm -f kb/reformkb.db kb/reformkb.db-wal kb/reformkb.db-shm
	rm -rf index/*.json index/*.faiss index/*.npy
