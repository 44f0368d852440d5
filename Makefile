# reformkb: two commands do all the set-up on a fresh machine.
#   make run    create .venv, install, build the default knowledge base, start the app
#   make test   create .venv, install (with test tools, a headless browser, LibreOffice and a CJK font), lint (ruff),
#               run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: run test init browser office fonts bench-smoke clean-kb

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

init: $(STAMP)
	$(BIN)/reformkb init

run: init office
	$(BIN)/streamlit run app.py

# LibreOffice (no GUI) reads Word 97 .doc and WPS files; libgl1/libglib2.0-0 are what OpenCV (used by the
# OCR engine) loads. Installed once; later runs only check that they are there.
office:
	@command -v soffice >/dev/null && ldconfig -p | grep -q libGL.so.1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	     libreoffice-writer-nogui libgl1 libglib2.0-0) || \
	  echo "LibreOffice could not be installed: .doc/.wps import and its tests will be skipped"

# A CJK font: the tests render bulletin pages to images to test OCR.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei) || \
	  echo "fonts-wqy-zenhei could not be installed: the OCR tests will be skipped"

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) || \
	  echo "chromium could not be installed: the browser test will be skipped"

test: $(STAMP) browser office fonts
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke

clean-kb:
	rm -f kb/reformkb.db kb/reformkb.db-wal kb/reformkb.db-shm
	rm -rf index/*.json index/*.faiss index/*.npy
