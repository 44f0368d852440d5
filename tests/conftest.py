"""Shared fixtures: the seed bulletin, and knowledge bases in temporary folders.

Building a knowledge base from the seed embeds ~30 texts; it is done once per test session and each
test gets its own copy of the database (its vector index is rebuilt from the cached vectors).
"""
from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest
from reliability_support import practice_text, tiny_model, write_jsonl

from reformkb.kb import KnowledgeBase
from reformkb.settings import Settings, project_root

ROOT = project_root()
SEED = next((ROOT / "kb" / "sources").glob("*.txt"))


def make_kb(home: Path, **kwargs) -> KnowledgeBase:
    """A knowledge base in ``home`` whose default content is the project's kb/sources/."""
    return KnowledgeBase(settings=Settings.default(home), **kwargs)


@pytest.fixture(scope="session", autouse=True)
def _warm_ups_end_before_exit():
    """Pages under AppTest load the language model in a daemon thread (app/common.py); Python exiting
    while one is still inside torch aborts the run ("terminate called without an active exception",
    exit 134) even though every test passed. The session waits for them before it ends."""
    yield
    for thread in threading.enumerate():
        if thread.name == "reformkb-warm-up":
            thread.join(300)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("seeded")
    with make_kb(home) as kb:
        kb.rebuild_index()
    return home


@pytest.fixture
def seeded_copy(seeded_home, tmp_path) -> Path:
    """A folder of its own holding a fresh copy of the seed knowledge base's database."""
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    return home


@pytest.fixture
def seeded_kb(seeded_copy):
    """A fresh copy of the knowledge base built from the seed bulletin."""
    kb = make_kb(seeded_copy)
    yield kb
    kb.close()


@pytest.fixture
def empty_kb(tmp_path):
    kb = make_kb(tmp_path / "empty", empty=True)
    yield kb
    kb.close()


# -- a tiny random embedding model, for tests where only the mechanics matter (seconds, not minutes) --
@pytest.fixture(scope="session")
def model(tmp_path_factory) -> Path:
    """The directory of the tiny 32-dimension test model (see reliability_support.py), built once."""
    return tiny_model(tmp_path_factory.getbasetemp())


@pytest.fixture
def kb(tmp_path, model):
    """A knowledge base on the tiny model holding 10 generated practices."""
    kb = KnowledgeBase(settings=Settings.default(tmp_path / "kb", model=str(model)), empty=True)
    kb.import_files([write_jsonl(tmp_path / "seed.jsonl", [practice_text(i) for i in range(10)])])
    yield kb
    kb.close()


def pytest_terminal_summary(terminalreporter):
    """The hostile-input suite's count (tests/test_hostile.py), when it ran."""
    hostile = sys.modules.get("test_hostile")
    results = dict(getattr(hostile, "RESULTS", {}) or {})
    registered = results.pop("registered", None)
    if results:
        parts = "，".join(f"{surface} {n}" for surface, n in results.items())
        terminalreporter.write_line(
            f"hostile inputs: {sum(results.values())} cases refused cleanly ({parts})"
            + (f" of {registered} in the suite" if registered else "")
            + ": each with a Chinese message, no traceback, no store change")
