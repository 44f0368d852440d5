"""Crashes: a process killed with SIGKILL in the middle of a large import or an index rebuild.

Promise: the knowledge base still opens, holds exactly the records whose transactions committed
(an import commits in batches of IMPORT_BATCH records, each batch whole or not at all), its keyword
index and its vector index agree with its records, and the interrupted import can be run again and
adds only what is missing.

These tests start real worker processes (tests/reliability_support.py) and kill them with SIGKILL;
see that module for the tiny embedding model they use.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from reliability_support import db_state, index_agrees, practice_text, start_worker, write_jsonl

from reformkb.ingest.pipeline import IMPORT_BATCH
from reformkb.kb import KnowledgeBase
from reformkb.settings import Settings

pytestmark = pytest.mark.slow
ROWS = 2000
KILL_AFTER = 8 * IMPORT_BATCH  # records reported committed before the kill
TIMEOUT = 240  # seconds: a bound for a loaded two-core machine; a normal run takes a fraction


def _kb(home: Path, model: Path) -> KnowledgeBase:
    return KnowledgeBase(settings=Settings.default(home, model=str(model)), empty=True)


def _start(args: list[str], model: Path) -> subprocess.Popen:
    return start_worker(args, model, TIMEOUT)


def _kill_when(proc: subprocess.Popen, ready) -> str:
    """Read the worker's lines until ``ready(line)``, then SIGKILL it; returns that line."""
    for line in proc.stdout:
        if ready(line):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            proc.timer.cancel()
            return line
        if line.startswith("done"):
            break
    proc.kill()
    pytest.fail(f"the worker ended before it could be killed: {proc.stderr.read()[-2000:]}")


def test_sigkill_mid_import_keeps_exactly_the_committed_batches(tmp_path, model):
    home = tmp_path / "kb"
    _kb(home, model).close()
    texts = [practice_text(n) for n in range(ROWS)]
    records = write_jsonl(tmp_path / "cases.jsonl", texts, source_title="批量导入测试")

    started = time.monotonic()
    proc = _start(["import", str(home), str(records), "--report"], model)
    line = _kill_when(proc, lambda line: line.startswith("progress") and int(line.split()[1]) >= KILL_AFTER)
    assert proc.returncode == -signal.SIGKILL
    reported = int(line.split()[1])

    state = db_state(home / "reformkb.db")
    stored = len(state["ids"])
    assert state["integrity"] == "ok"
    # Every batch reported as committed is there; the batch that was being written is all or nothing.
    assert reported <= stored < ROWS, (reported, stored)
    assert stored % IMPORT_BATCH == 0
    assert state["texts"] == [t for t in texts[:stored]]  # exactly the first committed batches, in order
    assert state["fts_ids"] == state["ids"]  # keyword index agrees with the records
    assert state["logged"] == state["ids"]  # every stored record is in the audit log, once

    # The knowledge base opens; its vector index and keyword search agree with its records.
    with _kb(home, model) as kb:
        index_ids, db_ids = index_agrees(kb)
        assert index_ids == db_ids and len(db_ids) == stored
        last = kb.get(max(db_ids))
        assert kb.search(last.text, k=1, mode="keyword")[0].record.id == last.id

        # Running the same import again adds only what is missing.
        report = kb.import_files([records])
        assert (len(report.added), len(report.duplicates), report.refused) == (ROWS - stored, stored, [])
        assert kb.count() == ROWS
        index_ids, db_ids = index_agrees(kb)
        assert index_ids == db_ids and len(db_ids) == ROWS
    assert db_state(home / "reformkb.db")["texts"] == texts
    print(f"\nkilled after {reported} reported, {stored} stored; test took {time.monotonic() - started:.1f}s")


def test_sigkill_mid_index_rebuild_leaves_a_usable_index(tmp_path, model):
    home = tmp_path / "kb"
    n = 1500
    with _kb(home, model) as kb:
        kb.import_files([write_jsonl(tmp_path / "cases.jsonl", [practice_text(i, "重建") for i in range(n)])])
        assert kb.count() == n

    started = time.monotonic()
    rng = random.Random(6)
    for _attempt in range(2):
        proc = _start(["rebuild-loop", str(home)], model)
        # Let it finish one rebuild, then kill it at a random moment of a later one.
        _kill_when(proc, lambda line: line.startswith("rebuilt") and (time.sleep(rng.uniform(0, 0.4)) or True))
        assert proc.returncode == -signal.SIGKILL

        manifest = json.loads((home / "index" / f"{_key(model)}.json").read_text(encoding="utf-8"))
        assert (home / "index" / f"{_key(model)}.{manifest['generation']}.faiss").exists()
        with _kb(home, model) as kb:
            index_ids, db_ids = index_agrees(kb)
            assert index_ids == db_ids and len(db_ids) == n
            hits = kb.search(practice_text(7, "重建"), k=5, mode="semantic", kind="")
            assert len(hits) == 5 and {h.record.id for h in hits} <= db_ids
            kb.rebuild_index()  # a later save clears what the killed writer left behind
        assert not list((home / "index").glob("*.tmp"))
    print(f"\ntwo kills during rebuilds took {time.monotonic() - started:.1f}s")


def _key(model: Path) -> str:
    from reformkb.search.vectors import _safe_key

    return _safe_key(str(model))
