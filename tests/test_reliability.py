"""Corrupt or foreign files, backup and restore, export/import round trips, and the audit log.

Promises tested here (see docs/reliability.md):

* A damaged, foreign or lying vector index is detected and rebuilt from the database; search never
  answers from it silently.
* A file that is not a reformkb database (or is damaged) is refused with a message, and not changed.
* ``backup`` is consistent while another process writes; ``restore`` checks the backup, keeps the
  replaced database, works when the current one is damaged, and every process then answers from
  the restored data (their vector indexes rebuild themselves).
* Export → import keeps every field (except the id and updated_at, which the importing knowledge
  base assigns).
* Every change is in an append-only audit log (who, when, what, before/after); deleted records
  come back from it under their old id; ids are never reused.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from reliability_support import (
    HERE,
    db_state,
    fingerprint,
    index_agrees,
    practice_text,
    seeded_home,
    tiny_model,
    worker_env,
    write_jsonl,
)

from reformkb.cli import main
from reformkb.errors import InputError, StoreError
from reformkb.kb import KnowledgeBase
from reformkb.records import KIND_ACTION, vector_key
from reformkb.search.embedding import model_key
from reformkb.search.vectors import _safe_key
from reformkb.settings import Settings
from reformkb.store import verify_backup

N = 40


def open_kb(home: Path, model: Path, **kwargs) -> KnowledgeBase:
    return KnowledgeBase(settings=Settings.default(home, model=str(model)), empty=True, **kwargs)


@pytest.fixture
def home(tmp_path, model) -> Path:
    """A knowledge base of N records with a saved vector index (tiny model)."""
    return seeded_home(tmp_path / "kb", open_kb(tmp_path / "kb", model), N, tmp_path / "seed.jsonl")


def index_files(home: Path, model: Path) -> tuple[Path, dict]:
    manifest_path = home / "index" / f"{_safe_key(str(model))}.json"
    return manifest_path, json.loads(manifest_path.read_text(encoding="utf-8"))


def assert_search_agrees(kb: KnowledgeBase) -> None:
    """The index holds every record, each with the vector cached for its text (the truth)."""
    index_ids, db_ids = index_agrees(kb)
    assert index_ids == db_ids
    index = kb._sync_index()
    recs = kb.store.get_many(sorted(db_ids))
    cached = kb.store.get_vectors(model_key(kb.settings.model), [vector_key(r) for r in recs.values()])
    for rid, rec in recs.items():
        assert np.allclose(index.vector(rid), cached[vector_key(rec)], atol=1e-5)


# -- damaged, foreign and lying index files ----------------------------------------------------------
def _zero_faiss(home, model):
    _, m = index_files(home, model)
    (home / "index" / f"{_safe_key(str(model))}.{m['generation']}.faiss").write_bytes(b"")


def _truncate_faiss(home, model):
    _, m = index_files(home, model)
    path = home / "index" / f"{_safe_key(str(model))}.{m['generation']}.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero_manifest(home, model):
    index_files(home, model)[0].write_bytes(b"")


def _missing_slots(home, model):
    _, m = index_files(home, model)
    (home / "index" / f"{_safe_key(str(model))}.{m['generation']}.slots.npy").unlink()


def _lying_count(home, model):
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "count": m["count"] + 5}), encoding="utf-8")


def _seq_ahead(home, model):
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "seq": m["seq"] + 1000}), encoding="utf-8")


def _other_database(home, model):
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "db_id": "0" * 32}), encoding="utf-8")


@pytest.mark.parametrize("damage", [_zero_faiss, _truncate_faiss, _zero_manifest, _missing_slots, _lying_count,
                                    _seq_ahead, _other_database])
def test_damaged_or_foreign_index_is_rebuilt_from_the_database(home, model, damage):
    damage(home, model)
    with open_kb(home, model) as kb:
        assert_search_agrees(kb)
        assert kb.index_status()["fresh"]


def test_manifest_claiming_a_newer_state_than_its_index_holds_is_caught(home, model, tmp_path):
    """An index saved before a delete and an add, whose manifest was then edited to claim it is current:
    same count, other records. It must not be trusted (a record would never be found by meaning)."""
    stale = tmp_path / "stale-index"
    shutil.copytree(home / "index", stale)
    with open_kb(home, model) as kb:
        kb.delete(3)
        kb.add({"text": practice_text(999, "新")}, check_duplicates=False)
        kb.rebuild_index()
        current = index_files(home, model)[1]
    shutil.rmtree(home / "index")
    shutil.copytree(stale, home / "index")
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "seq": current["seq"]}), encoding="utf-8")
    with open_kb(home, model) as kb:
        assert_search_agrees(kb)


def _plant_index_built_with(other, home, other_home, model) -> None:
    """Put into ``home`` an index built with model ``other``, under the file names of ``model``."""
    shutil.copytree(home, other_home, ignore=shutil.ignore_patterns("index"))
    with open_kb(other_home, other) as kb:
        kb.rebuild_index()
    shutil.rmtree(home / "index")
    (home / "index").mkdir()
    ours, theirs = _safe_key(str(model)), _safe_key(str(other))
    for f in (other_home / "index").glob(f"{theirs}.*"):
        shutil.copy(f, home / "index" / f.name.replace(theirs, ours))


def test_index_of_another_model_with_the_same_dimension_is_caught(home, model, tmp_path):
    """The manifest says our model, the vectors come from another one of the same size."""
    other = tiny_model(tmp_path.parent.parent, seed=1)
    other_home = tmp_path / "other"
    _plant_index_built_with(other, home, other_home, model)
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "model": str(model)}), encoding="utf-8")
    with open_kb(home, model) as kb:
        assert_search_agrees(kb)


def test_index_of_another_dimension_is_caught(home, model, tmp_path):
    wide = tiny_model(tmp_path.parent.parent, dim=48)
    other_home = tmp_path / "wide"
    _plant_index_built_with(wide, home, other_home, model)
    path, m = index_files(home, model)
    path.write_text(json.dumps({**m, "model": str(model), "dim": 32}), encoding="utf-8")
    with open_kb(home, model) as kb:
        assert_search_agrees(kb)


# -- files that are not (intact) reformkb databases ----------------------------------------------------
def _other_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE payroll (name TEXT, salary INT)")
    conn.execute("INSERT INTO payroll VALUES ('张三', 100)")
    conn.commit()
    conn.close()


def _newer_version(path: Path) -> None:
    KnowledgeBase(path.parent, empty=True).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"this is a text file, not a database\n" * 100), "不是 reformkb 知识库"),
    (lambda p: p.write_bytes(os.urandom(8192)), "不是 reformkb 知识库"),
    (_other_sqlite, "不是 reformkb 知识库"),
    (_newer_version, "更新版本"),
], ids=["text", "random", "other-sqlite", "newer-version"])
def test_a_file_that_is_not_a_reformkb_database_is_refused_and_left_alone(tmp_path, make, message):
    path = tmp_path / "kb" / "reformkb.db"
    path.parent.mkdir()
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=message):
        KnowledgeBase(path.parent)
    assert path.read_bytes() == before


@pytest.mark.parametrize("damage", ["truncated", "damaged-pages"])
def test_a_damaged_database_gives_a_message_not_a_traceback(home, model, capsys, damage):
    db = home / "reformkb.db"
    with open_kb(home, model) as kb:  # enough pages that half of them are data
        kb.import_files([write_jsonl(home / "more.jsonl", [practice_text(i, "多") for i in range(300)])])
    data = bytearray(db.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:  # the header and schema are intact: the damage shows only when records are read
        start, end = len(data) // 4, 3 * len(data) // 4  # tables and indexes, whatever their layout
        data[start:end] = os.urandom(end - start)
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="restore"):
        kb = open_kb(home, model)
        kb.records()
        kb.search("企业开办", mode="keyword")
    assert main(["--home", str(home), "stats"]) == 2
    assert capsys.readouterr().err.startswith("错误：")


# -- backup and restore ------------------------------------------------------------------------------
def test_backup_is_consistent_while_another_process_imports(home, model, tmp_path):
    records = write_jsonl(tmp_path / "big.jsonl", [practice_text(i, "备") for i in range(1500)])
    proc = subprocess.Popen([sys.executable, str(HERE / "reliability_support.py"), "import", str(home),
                             str(records), "--report"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=worker_env(model))
    timer = threading.Timer(240, proc.kill)
    timer.start()
    counts = []
    try:
        with open_kb(home, model) as kb:
            for n, line in enumerate(proc.stdout):
                if line.startswith("progress") and n % 3 == 0:
                    dest = kb.backup(tmp_path / "backups" / f"b{n}.db")
                    info = verify_backup(dest)
                    state = db_state(dest)
                    assert state["integrity"] == "ok"
                    assert state["fts_ids"] == state["ids"] == state["logged"]  # a committed state, whole
                    assert info.records == len(state["ids"])
                    counts.append(info.records)
                if len(counts) >= 4 or line.startswith("done"):
                    break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        timer.cancel()
    assert len(counts) >= 2 and counts == sorted(counts) and counts[0] >= N
    assert not list((tmp_path / "backups").glob("*.tmp"))


def test_restore_replaces_the_data_for_every_open_instance(home, model, tmp_path):
    backup = tmp_path / "backup.db"
    with open_kb(home, model) as kb:
        kb.backup(backup)
        before_id = kb.db_id
    lost_text = practice_text(500, "备份后")
    app = open_kb(home, model)  # the app, open the whole time, with its index loaded
    assert_search_agrees(app)
    with open_kb(home, model, actor="管理员") as admin:
        lost, _ = admin.add({"text": lost_text}, check_duplicates=False)
        admin.delete(1)
        result = admin.restore_database(backup)
        assert admin.count() == N and admin.get(1).id == 1
        with pytest.raises(Exception):  # noqa: B017
            admin.get(lost.id)
    # The app sees the restored data at once, and its vector index follows it.
    assert app.count() == N
    assert_search_agrees(app)
    assert app.db_id == result["db_id"] != before_id
    assert lost.id not in [h.record.id for h in app.search(lost_text, k=10, mode="semantic", kind="")]
    assert lost.id not in [h.record.id for h in app.search(lost_text, k=10, mode="keyword", kind="")]
    event = app.changes(limit=1)[0]
    assert (event.op, event.actor, event.record_id) == ("restore-db", "管理员", 0)
    app.close()
    # Nothing is lost for good: the replaced database is kept, with the record added after the backup.
    kept = Path(result["kept"])
    assert kept.exists() and lost_text in db_state(kept)["texts"]


def test_restore_twice_from_diverged_histories_keeps_search_right(home, model, tmp_path):
    """Backups of one history, restored in turn while new writes happen: the change sequence alone
    cannot tell the histories apart, the new identity of each restored database can."""
    with open_kb(home, model) as kb:
        kb.backup(tmp_path / "early.db")
        for i in range(5):
            kb.add({"text": practice_text(i, "后来")}, check_duplicates=False)
        kb.backup(tmp_path / "late.db")
    app = open_kb(home, model)
    with open_kb(home, model) as admin:
        admin.restore_database(tmp_path / "early.db")
        assert_search_agrees(app)
        for i in range(5):
            admin.add({"text": practice_text(i, "分叉")}, check_duplicates=False)
        assert_search_agrees(app)
        admin.restore_database(tmp_path / "late.db")
    assert_search_agrees(app)
    assert app.count() == N + 5
    app.close()


def test_cli_restore_works_when_the_current_database_is_damaged(home, model, tmp_path, capsys):
    backup = tmp_path / "backup.db"
    assert main(["--home", str(home), "--model", str(model), "backup", str(backup)]) == 0
    db = home / "reformkb.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    capsys.readouterr()
    assert main(["--home", str(home), "--model", str(model), "restore", str(backup)]) == 0
    assert "已从" in capsys.readouterr().out
    with open_kb(home, model) as kb:
        assert kb.count() == N
        assert_search_agrees(kb)
    kept = list(home.glob("reformkb.db-before-restore-*"))
    assert [p.read_bytes() for p in kept if not p.name.endswith(("-wal", "-shm"))] == [b"garbage" * 1000]


@pytest.mark.parametrize("bad", ["text", "foreign", "corrupt", "missing"])
def test_restore_refuses_a_bad_backup_and_changes_nothing(home, model, tmp_path, bad):
    backup = tmp_path / "bad.db"
    if bad == "text":
        backup.write_text("not a backup", encoding="utf-8")
    elif bad == "foreign":
        _other_sqlite(backup)
    elif bad == "corrupt":
        with open_kb(home, model) as kb:
            kb.import_files([write_jsonl(home / "more.jsonl", [practice_text(i, "多") for i in range(300)])])
            kb.backup(backup)
        data = bytearray(backup.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
        backup.write_bytes(bytes(data))
    before = fingerprint(home / "reformkb.db")
    with open_kb(home, model) as kb:
        with pytest.raises(StoreError):
            kb.restore_database(backup)
    assert fingerprint(home / "reformkb.db") == before
    assert not list(home.glob("*before-restore*"))


# -- export and import -------------------------------------------------------------------------------
TRICKY = [
    {"text": "长沙市推行“<b>一件事</b>一次办”，<script>alert(1)</script>企业开办压缩至0.5个工作日。", "title": "<i>一件事</i>",
     "agency": "市行政审批服务局", "topics": ["开办企业"], "ref": "CS-001", "source_title": "工作专报, 第2期",
     "source_issue": "2", "source_date": "2023-03-18", "source_section": "战术借鉴", "source_file": "专报.docx",
     "created_at": "2023-03-20T08:00:00+00:00"},
    {"text": "株洲市推行 **项目审批** `容缺受理`，\"审批\"时间由30个工作日压缩至15个工作日；=SUM(A1:A9)\n第二段：# 不是标题",
     "region": "株洲", "kind": KIND_ACTION, "topics": ["办理建筑许可", "政务服务"], "ref": "=1+1"},
    {"text": "衡阳市'; DROP TABLE records; -- 推行不动产登记“一窗受理”，登记时间压缩至1个工作日。", "agency": "",
     "source_title": "换行\n标题"},
]


@pytest.mark.parametrize("fmt", ["jsonl"])  # csv is for people now (issue 15): tests/test_export.py
def test_export_import_round_trip_keeps_every_field(tmp_path, model, fmt):
    with open_kb(tmp_path / "a", model) as kb:
        report = kb.store_records([kb.prepare(dict(r)) for r in TRICKY])
        assert len(report.added) == len(TRICKY)
        originals = kb.records()
        path = kb.export(originals, tmp_path / f"out.{fmt}")
    with open_kb(tmp_path / "b", model) as other:
        report = other.import_files([path])
        assert report.refused == [] and len(report.added) == len(TRICKY)
        copies = other.records()
    for original, copy in zip(originals, copies):
        a, b = original.to_dict(), copy.to_dict()
        for assigned in ("id", "updated_at"):
            a.pop(assigned), b.pop(assigned)
        assert a == b


# -- the audit log -----------------------------------------------------------------------------------
def test_every_change_is_logged_with_who_when_and_before_after(home, model):
    with open_kb(home, model, actor="李四") as kb:
        rec, _ = kb.add({"text": practice_text(700, "审计")}, check_duplicates=False)
        kb.edit(rec.id, title="新标题")
        kb.delete(rec.id)
        kb.restore(rec.id)
        log = list(reversed(kb.changes(record_id=rec.id)))
    assert [c.op for c in log] == ["add", "edit", "delete", "restore"]
    assert {c.actor for c in log} == {"李四"} and all(c.at.startswith("20") for c in log)
    add, edit, delete, restore = log
    assert add.before is None and add.after["text"] == rec.text
    assert edit.before["title"] != "新标题" and edit.after["title"] == "新标题"
    assert delete.before == edit.after and delete.after is None
    assert restore.after == delete.before  # every field back, under the same id


def test_deleted_records_are_listed_and_restored_under_their_old_id(home, model):
    with open_kb(home, model) as kb:
        newest = max(kb.store.ids())
        gone = kb.delete(newest)
        assert [c.record_id for c in kb.deleted()] == [newest]
        # A record added after the delete gets a new id: a deleted record's id is never reused.
        rec, _ = kb.add({"text": practice_text(800, "新增")}, check_duplicates=False)
        assert rec.id > newest
        back = kb.restore(newest)
        assert back.to_dict() == gone.to_dict() and kb.get(newest).text == gone.text
        assert kb.deleted() == []
        assert_search_agrees(kb)
        with pytest.raises(InputError):
            kb.restore(newest)


def test_the_audit_log_cannot_be_changed(home):
    conn = sqlite3.connect(home / "reformkb.db")
    for sql in ("UPDATE changes SET actor = 'someone else'", "DELETE FROM changes"):
        with pytest.raises(sqlite3.DatabaseError, match="审计日志不可修改"):
            conn.execute(sql)
    conn.close()


def test_a_database_of_the_first_release_is_upgraded_in_place(seeded_home, tmp_path):
    """A knowledge base written by schema version 2 (the first release) gains the indexes of versions
    3 to 5 on open, keeps every record and change, and answers region-filtered searches."""
    from reformkb.store import MIGRATIONS

    home = tmp_path / "old"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    conn = sqlite3.connect(home / "reformkb.db")
    for name in ("idx_records_kind", "idx_records_region", "idx_records_city", "idx_records_county", "idx_records_ref"):
        conn.execute(f"DROP INDEX {name}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    records, changes = (conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("records", "changes"))
    conn.close()
    with KnowledgeBase(home) as kb:
        assert kb.store.db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 5
        names = {r[0] for r in kb.store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"idx_records_kind", "idx_records_region", "idx_records_city", "idx_records_county",
                "idx_records_ref"} <= names
        assert kb.count() == records
        assert kb.store.db.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == changes
        assert {h.record.region for h in kb.search("企业", k=10, region="长沙市")} == {"长沙市"}
