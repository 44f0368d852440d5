"""Concurrent use: importing processes, a searching process and app sessions, all at once.

Promise: no "database is locked" (or any other) error reaches a user, no record is lost or stored
twice, and afterwards every record is found in every process, whose vector index has picked up what
the other processes wrote; a record deleted in one process is never returned by another.

The app shares one KnowledgeBase between its sessions (threads); the importers and the searcher are
separate processes (tests/reliability_support.py) using the tiny test model.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from reliability_support import db_state, index_agrees, practice_text, start_worker, write_jsonl

from reformkb.kb import KnowledgeBase
from reformkb.settings import Settings
from reformkb.store import Store

pytestmark = pytest.mark.slow
TIMEOUT = 300  # seconds: a bound for a loaded two-core machine; a normal run takes a fraction
SESSIONS, ADDS_PER_SESSION = 4, 10


def _start(args: list[str], model: Path) -> subprocess.Popen:
    return start_worker(args, model, TIMEOUT)


def _wait_for_done(proc: subprocess.Popen) -> str:
    for line in proc.stdout:
        if line.startswith("done"):
            return line
    raise AssertionError(f"worker failed: {proc.stderr.read()[-3000:]}")


def test_two_importers_a_searcher_and_app_sessions_at_once(tmp_path, model):
    started = time.monotonic()
    home = tmp_path / "kb"
    app_kb = KnowledgeBase(settings=Settings.default(home, model=str(model)), empty=True)
    shared = [practice_text(n, "共") for n in range(100)]  # in both files: stored once, by either
    only_a = [practice_text(n, "甲") for n in range(300)]
    only_b = [practice_text(n, "乙") for n in range(300)]
    file_a = write_jsonl(tmp_path / "a.jsonl", shared + only_a)
    file_b = write_jsonl(tmp_path / "b.jsonl", list(reversed(shared)) + only_b)
    done = tmp_path / "DONE"
    out = {name: tmp_path / f"{name}.json" for name in ("a", "b", "searcher")}
    procs = {
        "a": _start(["import", str(home), str(file_a), "--then-wait", str(done), str(out["a"])], model),
        "b": _start(["import", str(home), str(file_b), "--then-wait", str(done), str(out["b"])], model),
        "searcher": _start(["search-loop", str(home), str(done), str(out["searcher"])], model),
    }
    try:
        # Meanwhile, in this process, several app sessions add cases through one shared KnowledgeBase,
        # each finding its case at once, and delete some of them.
        def session(s: int) -> tuple[list[str], list[tuple[int, str]]]:
            kept, deleted = [], []
            for i in range(ADDS_PER_SESSION):
                text = practice_text(s * 100 + i, "会话")
                rec, _ = app_kb.add({"text": text, "agency": f"第{s}组"})
                assert app_kb.search(text, k=1, mode="keyword")[0].record.id == rec.id
                if i % 4 == 3:
                    app_kb.delete(rec.id)
                    deleted.append((rec.id, text))
                else:
                    kept.append(text)
            return kept, deleted

        with ThreadPoolExecutor(SESSIONS) as pool:
            results = list(pool.map(session, range(SESSIONS)))
        app_texts = [t for kept, _ in results for t in kept]
        deleted = [d for _, gone in results for d in gone]
        (tmp_path / "deleted.json").write_text(json.dumps(deleted, ensure_ascii=False))

        reports = {name: _wait_for_done(procs[name]) for name in ("a", "b")}
        done.touch()  # everyone has written: now every process checks what it sees
        for name, proc in procs.items():
            assert proc.wait(timeout=TIMEOUT) == 0, f"{name}: {proc.stderr.read()[-3000:]}"
            proc.timer.cancel()
    finally:
        done.touch()
        for proc in procs.values():
            proc.kill()
    seen = {name: json.loads(path.read_text()) for name, path in out.items()}

    # Nothing lost, nothing twice: the shared cases were stored by exactly one of the importers.
    added = {name: int(reports[name].split()[1]) for name in reports}
    dups = {name: int(reports[name].split()[2]) for name in reports}
    assert added["a"] + added["b"] == 700 and dups["a"] + dups["b"] == 100
    assert seen["a"]["refused"] == [] and seen["b"]["refused"] == []
    state = db_state(home / "reformkb.db")
    assert sorted(state["texts"]) == sorted(shared + only_a + only_b + app_texts)
    assert state["fts_ids"] == state["ids"]
    conn = sqlite3.connect(home / "reformkb.db")
    stored_twice = conn.execute("SELECT record_id FROM changes WHERE op IN ('add', 'import') "
                                "GROUP BY record_id HAVING count(*) > 1").fetchall()
    conn.close()
    assert stored_twice == []

    # The searcher never met an error ("database is locked" or other) while the others wrote.
    assert seen["searcher"]["errors"] == [] and seen["searcher"]["searches"] > 0
    # Every process's vector index holds exactly the stored records; every record is found by each.
    for name, report in seen.items():
        assert report["index_ids"] == state["ids"], name
        assert report["found"] and all(int(rid) in hits for rid, hits in report["found"].items()), name
        assert report["leaked"] == [], f"{name} returned deleted records {report['leaked']}"
    index_ids, db_ids = index_agrees(app_kb)
    assert index_ids == db_ids == set(state["ids"])
    for rid, text in deleted:
        for mode in ("keyword", "semantic", "hybrid"):
            assert rid not in [h.record.id for h in app_kb.search(text, k=10, mode=mode, kind="")]
    app_kb.close()
    print(f"\n{seen['searcher']['searches']} searches during the writes; test took {time.monotonic() - started:.1f}s")


def test_many_connections_creating_one_knowledge_base_at_once(tmp_path):
    """Several openers of a folder with no database yet (two processes starting the app and an import
    at the same moment): one creates the tables, none fails, all see the same knowledge base."""
    for attempt in range(3):
        path = tmp_path / f"new{attempt}" / "reformkb.db"
        barrier = threading.Barrier(6)

        def open_store(n: int, barrier=barrier, path=path) -> str:
            barrier.wait()
            store = Store(path)
            try:
                return store.meta_default("db_id", f"id-{n}")
            finally:
                store.close()

        with ThreadPoolExecutor(6) as pool:
            ids = list(pool.map(open_store, range(6)))
        assert len(set(ids)) == 1  # one identity, chosen by the first, seen by all
        state = db_state(path)
        assert state["integrity"] == "ok" and state["ids"] == []


def test_a_session_never_sees_another_sessions_uncommitted_writes(tmp_path):
    """App sessions share one connection: a read must not see a batch another session is still writing
    (and may yet roll back, e.g. an import refused half-way)."""
    from reformkb.records import Record

    store = Store(tmp_path / "reformkb.db")
    inserted, seen = threading.Event(), []

    def writer() -> None:
        try:
            with store.transaction() as conn:
                rec = Record(text="长沙市推行企业开办一网通办。", region="长沙市", content_hash="h1")
                store._insert_row(conn, rec)
                inserted.set()
                time.sleep(0.5)
                raise RuntimeError("the batch fails and is rolled back")
        except RuntimeError:
            pass

    def reader() -> None:
        inserted.wait(5)
        seen.append((store.count(), store.has_hash("h1"), store.fts('"长沙"', "", [], 5)))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [(0, None, [])]
    assert store.count() == 0
    store.close()
