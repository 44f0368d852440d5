"""Nothing the product does can destroy a knowledge base (issue 16).

Promises tested here (see docs/reliability.md):

* Outputs (export, backup) refuse an existing file unless forced, never go onto any file of any
  knowledge base (database, -wal, -shm, index, editors file), appear whole or not at all, and leave no
  temporary files; those of killed runs are removed at the next open or write.
* Restore checks the backup's schema exactly (tables, indexes, triggers) and its integrity first, keeps
  the live audit log (entries written since the backup too), records itself, can be undone, and keeps
  only the newest pre-restore copies, which ``stats`` lists.
* Sign-in fails closed for an editors file in any unreadable form; failed sign-ins earn a growing
  delay and then a lock-out, per name and per client; weak passwords are refused.
* Editing any embedded field (title, region, agency, text) re-embeds the record in the same call.
* Searching, browsing and stats work while another program holds the write lock, and on a read-only
  knowledge base or index folder.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from reliability_support import fingerprint, practice_text, seeded_home

from reformkb import auth, store
from reformkb.auth import Editors
from reformkb.cli import main
from reformkb.errors import AuthError, InputError, NotFoundError, StoreError
from reformkb.kb import KnowledgeBase
from reformkb.records import content_hash, embed_text, vector_key
from reformkb.settings import Settings

N = 12
FAST = 1_000  # PBKDF2 iterations for test accounts


def open_kb(home: Path, model: Path, **kwargs) -> KnowledgeBase:
    settings = kwargs.pop("settings", None) or Settings.default(home, model=str(model))
    return KnowledgeBase(settings=settings, empty=True, **kwargs)


@pytest.fixture
def home(tmp_path, model) -> Path:
    return seeded_home(tmp_path / "kb", open_kb(tmp_path / "kb", model), N, tmp_path / "seed.jsonl")


def state(home: Path) -> tuple[str, str]:
    """The database's fingerprint and integrity check."""
    conn = sqlite3.connect(f"file:{home / 'reformkb.db'}?mode=ro", uri=True)
    try:
        return fingerprint(home / "reformkb.db"), conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


# -- outputs ------------------------------------------------------------------------------------------
def test_an_existing_file_is_kept_unless_forced(home, model, tmp_path, capsys):
    base = ["--home", str(home), "--model", str(model)]
    for command in ("export", "backup"):
        target = tmp_path / f"已有的文件.{ 'csv' if command == 'export' else 'db'}"
        target.write_text("别人的文件", encoding="utf-8")
        assert main([*base, command, str(target)]) == 2
        assert "已经存在" in capsys.readouterr().err and target.read_text(encoding="utf-8") == "别人的文件"
        assert main([*base, command, str(target), "--force"]) == 0
        assert str(target) in capsys.readouterr().out and target.read_bytes() != "别人的文件".encode()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def test_no_output_ever_goes_onto_a_knowledge_base_file(home, model, tmp_path, capsys):
    other_home = tmp_path / "other"
    other = open_kb(other_home, model)  # another knowledge base, open the whole time
    other.add({"text": practice_text(77, "另一个")}, check_duplicates=False)
    other._sync_index()
    (other_home / "editors.toml").write_text("", encoding="utf-8")
    index_file = next((home / "index").glob("*.faiss"))
    (tmp_path / "link.db").symlink_to(home / "reformkb.db")
    targets = [home / "reformkb.db", home / "reformkb.db-wal", home / "reformkb.db-shm", index_file,
               home / "index" / "new.csv", home / "editors.toml", other_home / "reformkb.db",
               other_home / "reformkb.db-wal", other_home / "reformkb.db-shm", next((other_home / "index").glob("*.json")),
               other_home / "editors.toml", tmp_path / "link.db"]
    before = {h: state(h) for h in (home, other_home)}
    base = ["--home", str(home), "--model", str(model)]
    for target in targets:
        for argv in (["export", str(target), "--format", "csv", "--force"], ["export", str(target), "--format", "jsonl"],
                     ["backup", str(target), "--force"]):
            assert main([*base, *argv]) == 2, (argv, target)
            assert "知识库" in capsys.readouterr().err
    assert {h: state(h) for h in (home, other_home)} == before
    assert other.count() == 1 and before[home][1] == "ok"
    other.close()


def test_outputs_to_unwritable_places_are_refused_and_leave_nothing(home, model, tmp_path):
    with open_kb(home, model) as kb:
        for target, message in [(tmp_path, "文件夹"), (Path("/proc/导出.csv"), "无法写入"),
                                (Path("/proc/nowhere/x.csv"), "无法写入")]:
            with pytest.raises(InputError, match=message):
                kb.export(kb.records(), target, "csv")
            with pytest.raises(InputError, match=message):
                kb.backup(target)
        written = kb.export(kb.records(), tmp_path / "新目录" / "导出.jsonl")
    assert [p.name for p in written.parent.iterdir()] == ["导出.jsonl"]


def test_temporary_files_of_killed_runs_are_removed_at_the_next_open(home, model, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [home / f".reformkb.db.{dead.pid}.0a1b2c3d.reformkb-tmp", home / f".x.db.{dead.pid}.00ff00ff.reformkb-tmp-journal"]
    alive = home / f".y.db.{os.getpid()}.12345678.reformkb-tmp"  # a write still in progress
    other = home / "notes.reformkb-tmp"  # not ours
    for path in [*stale, alive, other]:
        path.write_bytes(b"x" * 1000)
    open_kb(home, model).close()
    assert [p.exists() for p in stale] == [False, False] and alive.exists() and other.exists()
    # An output folder is cleaned when something is next written into it.
    leftover = tmp_path / f".backup.db.{dead.pid}.deadbeef.reformkb-tmp"
    leftover.write_bytes(b"x")
    with open_kb(home, model) as kb:
        kb.backup(tmp_path / "backup.db")
    assert not leftover.exists()


# -- restore ------------------------------------------------------------------------------------------
def _craft(path: Path, sql: list[str], version: int | None = None) -> None:
    conn = sqlite3.connect(path)
    for statement in sql:
        conn.execute(statement)
    if version is not None:
        conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


CRAFTED = {
    "trigger that empties the knowledge base": (["CREATE TRIGGER wipe AFTER INSERT ON changes BEGIN DELETE FROM records; END"],
                                                "触发器"),
    "audit-log triggers dropped": (["DROP TRIGGER changes_no_update", "DROP TRIGGER changes_no_delete"], "触发器"),
    "audit-log trigger replaced by one that allows all": (
        ["DROP TRIGGER changes_no_delete", "CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes BEGIN SELECT 1; END"],
        "触发器"),
    "an extra table": (["CREATE TABLE extra (x)"], "数据表"),
    "an extra index": (["CREATE INDEX idx_extra ON records (title)"], "索引"),
    "a view": (["CREATE VIEW v AS SELECT * FROM records"], "视图"),
    "a column added": (["ALTER TABLE records ADD COLUMN evil TEXT"], "数据表"),
    "a record missing from the keyword index": (["DELETE FROM records_fts WHERE rowid = 1"], "关键词索引"),
    "unreadable topics": (["UPDATE records SET topics = 'not json' WHERE id = 2"], "内容不完整"),
    "no schema version": ([], "结构版本号"),
    "a newer schema version": ([], "更新版本"),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_restore_refuses_a_crafted_backup_and_changes_nothing(home, model, tmp_path, name):
    backup = tmp_path / "crafted.db"
    with open_kb(home, model) as kb:
        kb.backup(backup)
    sql, message = CRAFTED[name]
    version = {"no schema version": 0, "a newer schema version": 99}.get(name)
    _craft(backup, sql, version)
    before = state(home)
    with open_kb(home, model) as kb, pytest.raises(StoreError, match=message):
        kb.restore_database(backup)
    assert state(home) == before and not list(home.glob("*before-restore*"))


def test_restore_keeps_the_entries_written_since_the_backup_and_can_be_undone(home, model, tmp_path, capsys):
    backup = tmp_path / "backup.db"
    with open_kb(home, model, actor="管理员") as kb:
        kb.backup(backup)
        added, _ = kb.add({"text": practice_text(300, "备份后")}, check_duplicates=False)
        kb.delete(1)
        kb.edit(2, title="备份后改的标题")
        log_before = [(c.seq, c.op, c.actor) for c in kb.changes(limit=1000)]
        result = kb.restore_database(backup)
        assert kb.count() == N and kb.get(1).id == 1 and kb.get(2).title != "备份后改的标题"
        with pytest.raises(NotFoundError):
            kb.get(added.id)
        log_after = [(c.seq, c.op, c.actor) for c in kb.changes(limit=1000)]
        assert log_after[1:] == log_before  # every entry kept, the three since the backup too
        event = kb.changes(limit=1)[0]
        assert (event.op, event.actor, event.record_id) == ("restore-db", "管理员", 0)
        assert event.after["backup"] == str(backup.resolve()) and result["carried"] == len(log_before)
        # A new record never takes the id of one added after the backup (the log still names it).
        assert kb.add({"text": practice_text(301, "再后来")}, check_duplicates=False)[0].id > added.id
    # Undo: the database as it was just before the restore, logged as a restore too.
    assert main(["--home", str(home), "--model", str(model), "restore", "--undo"]) == 0
    assert "已从" in capsys.readouterr().out
    with open_kb(home, model) as kb:
        assert kb.get(added.id).text == added.text and kb.get(2).title == "备份后改的标题"
        ops = [c.op for c in kb.changes(limit=3)]
        assert ops[0] == "restore-db" and kb.changes(limit=1)[0].after["undo"] is True
        with pytest.raises(NotFoundError):
            kb.get(1)  # it was deleted before the first restore


def test_a_backup_of_another_history_does_not_bring_its_log(home, model, tmp_path):
    """A forged history (entries under another name) stays in the backup file: the live log is the record."""
    foreign = tmp_path / "foreign"
    with open_kb(foreign, model, actor="冒名者") as other:
        other.add({"text": practice_text(500, "外来")}, check_duplicates=False)
        other.backup(tmp_path / "foreign.db")
    with open_kb(home, model) as kb:
        result = kb.restore_database(tmp_path / "foreign.db")
        assert "冒名者" not in {c.actor for c in kb.changes(limit=1000)}
        assert result["not_carried"] == 1 and kb.count() == 1


def test_pre_restore_copies_are_rotated_and_listed_in_stats(home, model, tmp_path, capsys):
    settings = Settings.default(home, model=str(model), keep_restores=2)
    with open_kb(home, model, settings=settings) as kb:
        kb.backup(tmp_path / "b.db")
        for _ in range(4):
            kb.restore_database(tmp_path / "b.db")
        copies = kb.stats()["restore_copies"]
    assert len(copies) == 2 == len(list(home.glob("reformkb.db-before-restore-*")))
    assert [c["path"] for c in copies] == sorted(str(p) for p in home.glob("reformkb.db-before-restore-*"))
    assert main(["--home", str(home), "--model", str(model), "stats"]) == 0
    assert capsys.readouterr().out.count("恢复前保留的数据库") == 2


def test_an_older_schema_backup_is_restored_and_upgraded(home, model, tmp_path):
    """A backup made by schema version 4: no ref index, vectors keyed by the text alone."""
    backup = tmp_path / "v4.db"
    with open_kb(home, model) as kb:
        kb.backup(backup)
        texts = {r.content_hash: vector_key(r) for r in kb.records()}
    conn = sqlite3.connect(backup)
    conn.execute("DROP INDEX idx_records_ref")
    for old, new in texts.items():
        conn.execute("UPDATE vectors SET content_hash = ? WHERE content_hash = ?", (old, new))
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with open_kb(home, model) as kb:
        kb.restore_database(backup)
        keys = {r[0] for r in kb.store.db.execute("SELECT content_hash FROM vectors")}
        assert {vector_key(r) for r in kb.records()} <= keys
        assert kb._sync_index().ids() == set(kb.store.ids())


def test_a_backup_with_metrics_of_an_older_reader_has_them_read_again(home, model, tmp_path):
    backup = tmp_path / "old-metrics.db"
    with open_kb(home, model) as kb:
        kb.backup(backup)
        right = {r.id: r.metrics for r in kb.records()}
    assert any(right.values())
    conn = sqlite3.connect(backup)
    conn.execute("UPDATE records SET metrics = '[]', best_reduction = NULL")
    conn.execute("UPDATE meta SET value = 'an-older-reader' WHERE key = 'metrics_version'")
    conn.commit()
    conn.close()
    with open_kb(home, model) as kb:
        kb.restore_database(backup)
        assert {r.id: r.metrics for r in kb.records()} == right


# -- editors ------------------------------------------------------------------------------------------
def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "未挂载的共享目录" / "editors.toml")


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _folder(path: Path) -> None:
    path.mkdir()


def _not_utf8(path: Path) -> None:
    path.write_bytes("[accounts]\n\"张三\" = \"x\"\n".encode("gbk"))


@pytest.mark.parametrize("make, why", [(_dangling, "不存在"), (_loop, "循环"), (_folder, "文件夹"), (_not_utf8, "编码")],
                         ids=["dangling-link", "link-loop", "a-folder", "not-utf8"])
def test_an_editors_file_that_cannot_be_read_refuses_every_write(home, model, tmp_path, capsys, make, why):
    make(home / "editors.toml")
    before = state(home)
    with open_kb(home, model) as kb:
        assert kb.requires_sign_in
        for write in (lambda: kb.add({"text": practice_text(600, "新")}, check_duplicates=False),
                      lambda: kb.delete(1), lambda: kb.rebuild_index(), lambda: kb.sign_in("张三", "whatever-pw")):
            with pytest.raises(AuthError, match=why):
                write()
        assert kb.count() == N  # reading still works
    assert main(["--home", str(home), "--model", str(model), "add", practice_text(601, "新")]) == 2
    assert "所有修改都被拒绝" in capsys.readouterr().err
    assert state(home) == before


def test_failed_sign_ins_earn_a_growing_delay_then_a_lock_out(home, model, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(auth, "_now", lambda: clock[0])
    Editors.for_home(home).add_account("张三", "zhangsan-pw", iterations=FAST)
    Editors.for_home(home).add_account("李四", "lisi-password", iterations=FAST)
    with open_kb(home, model) as kb:
        for _ in range(auth.FREE_FAILURES):
            with pytest.raises(AuthError, match="不正确"):
                kb.sign_in("张三", "wrong-password")
        with pytest.raises(AuthError, match="秒后再试"):  # refused without looking at the password
            kb.sign_in("张三", "zhangsan-pw")
        clock[0] += auth.DELAY_BASE_S
        assert kb.sign_in("张三", "zhangsan-pw").name == "张三"  # the delay is over; success resets it
        for _ in range(auth.LOCKOUT_AFTER):
            clock[0] += auth.DELAY_MAX_S
            with pytest.raises(AuthError, match="不正确"):
                kb.sign_in("张三", "wrong-password", client="10.0.0.9")
        clock[0] += auth.DELAY_MAX_S
        with pytest.raises(AuthError, match="锁定"):
            kb.sign_in("张三", "zhangsan-pw")
        with pytest.raises(AuthError, match="锁定"):  # the client is locked out too, for every name
            kb.sign_in("李四", "lisi-password", client="10.0.0.9")
        assert kb.sign_in("李四", "lisi-password", client="10.0.0.8").name == "李四"
        clock[0] += auth.LOCKOUT_S
        assert kb.sign_in("张三", "zhangsan-pw").name == "张三"


@pytest.mark.parametrize("password", [" " * 8, "aaaaaaaa", "ababababab", "12345678", "abcdefgh", "87654321", "password",
                                      "Password", "qwerty123", "zhangsan2024", "short"])
def test_weak_passwords_are_refused(tmp_path, password):
    editors = Editors.for_home(tmp_path)
    name = "zhangsan"
    with pytest.raises(InputError):
        editors.add_account(name, password, iterations=FAST)
    if name not in password:  # the shared key has no name to avoid
        with pytest.raises(InputError):
            editors.set_key(password, iterations=FAST)
    assert not editors.enabled


# -- the index follows every embedded field ---------------------------------------------------------
@pytest.mark.parametrize("field, value", [("title", "全新的标题"), ("region", "岳阳市"), ("agency", "市数据资源局"),
                                          ("text", "岳阳市推行全新的改革举措，办理时限压缩至1个工作日。")])
def test_editing_an_embedded_field_re_embeds_the_record(home, model, field, value):
    with open_kb(home, model) as kb:
        index = kb._sync_index()
        old = index.vector(3).copy()
        rec = kb.edit(3, **{field: value})
        fresh = kb.embedder.embed_documents([embed_text(rec)])[0]
        now = kb._sync_index().vector(3)
        assert np.allclose(now, fresh, atol=1e-5) and not np.allclose(now, old, atol=1e-4)


def test_editing_topics_only_keeps_the_vector(home, model):
    with open_kb(home, model) as kb:
        old = kb._sync_index().vector(3).copy()
        kb.edit(3, topics=["政务服务"])
        assert np.allclose(kb._sync_index().vector(3), old)


def test_a_version_4_database_re_keys_its_vectors_and_re_embeds_only_edited_records(home, model, monkeypatch):
    with open_kb(home, model) as kb:
        kb.edit(4, title="改过的标题")
        records = kb.records()
    conn = sqlite3.connect(home / "reformkb.db")
    conn.execute("DELETE FROM vectors")  # version 4: one vector per text (record 4's is of its old title)
    with open_kb(home / "scratch", model) as scratch:
        stale = {r.id: scratch.embedder.embed_documents([embed_text(r)])[0] for r in records}
    for rec in records:
        conn.execute("INSERT INTO vectors VALUES (?, ?, ?, ?)", (str(model), content_hash(rec.text), 32,
                                                                 np.asarray(stale[rec.id], np.float32).tobytes()))
    conn.execute("DROP INDEX idx_records_ref")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    shutil.rmtree(home / "index")
    embedded = []
    from reformkb.search.embedding import Embedder

    original = Embedder.embed_documents
    monkeypatch.setattr(Embedder, "embed_documents", lambda self, texts: embedded.extend(texts) or original(self, texts))
    with open_kb(home, model) as kb:
        index = kb._sync_index()
        assert embedded == [embed_text(kb.get(4))]  # only the edited record is embedded again
        assert np.allclose(index.vector(4), original(kb.embedder, [embed_text(kb.get(4))])[0], atol=1e-5)


# -- reading while another program writes, and read-only knowledge bases ---------------------------
def test_reading_works_while_another_program_holds_the_write_lock(home, model, monkeypatch, capsys):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 4_000)  # a reader that waited for the writer would fail
    with open_kb(home, model) as kb:  # record 5 must be embedded again, and the index rebuilt
        kb.store.db.execute("DELETE FROM vectors WHERE content_hash = ?", [vector_key(kb.get(5))])
    shutil.rmtree(home / "index")
    writer = sqlite3.connect(home / "reformkb.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta VALUES ('long-write', 'x')")
    try:
        started = time.monotonic()
        with open_kb(home, model) as kb:
            for mode in ("keyword", "semantic", "hybrid"):
                assert kb.search("企业开办 压缩", k=5, mode=mode, kind="")
            assert kb.records(limit=3) and kb.regions() and kb.stats()["records"] == N and kb.get(5).id == 5
        base = ["--home", str(home), "--model", str(model)]
        for argv in (["search", "工程建设", "--mode", "keyword"], ["stats"], ["show", "2"], ["regions"]):
            assert main([*base, *argv]) == 0, capsys.readouterr().err
        assert time.monotonic() - started < 4
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def _freeze(path: Path) -> None:
    """Make ``path`` unwritable, also for root (the immutable attribute)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)


def _thaw(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o755 if path.is_dir() else 0o644)


class Frozen:
    """Files and folders made unwritable for a test, and made writable again."""

    def __init__(self):
        self.paths: list[Path] = []

    def __call__(self, path: Path) -> None:
        self.paths.append(path)
        _freeze(path)

    def thaw(self) -> None:
        while self.paths:
            _thaw(self.paths.pop())


@pytest.fixture
def frozen():
    if os.geteuid() == 0 and shutil.which("chattr") is None:
        pytest.skip("chattr is needed to make a file read-only for root")
    frozen = Frozen()
    yield frozen
    frozen.thaw()


def test_a_read_only_knowledge_base_can_be_searched_and_refuses_writes(home, model, frozen, capsys):
    before = state(home)
    for path in (home / "reformkb.db", home / "index", home):
        frozen(path)
    with open_kb(home, model) as kb:
        assert kb.store.read_only
        for mode in ("keyword", "semantic", "hybrid"):
            assert kb.search("企业开办", k=3, mode=mode, kind="")
        assert kb.stats()["read_only"] and any("只读" in n for n in kb.notices)
        with pytest.raises(StoreError, match="只读"):
            kb.add({"text": practice_text(700, "新")}, check_duplicates=False)
    base = ["--home", str(home), "--model", str(model)]
    assert main([*base, "search", "企业开办", "--mode", "semantic"]) == 0
    assert main([*base, "delete", "1"]) == 2 and "只读" in capsys.readouterr().err
    frozen.thaw()
    assert state(home) == before


@pytest.mark.parametrize("damage", ["read-only", "a-file"])
def test_an_unusable_index_folder_keeps_the_index_in_memory_with_a_notice(home, model, frozen, damage, capsys):
    index_dir = home / "index"
    if damage == "a-file":
        shutil.rmtree(index_dir)
        index_dir.write_text("不是文件夹", encoding="utf-8")
    else:
        shutil.rmtree(index_dir)
        index_dir.mkdir()
        frozen(index_dir)
    with open_kb(home, model) as kb:
        hits = kb.search(practice_text(3), k=3, mode="semantic", kind="")
        assert hits[0].record.id == 4 and kb.add({"text": practice_text(800, "新")}, check_duplicates=False)
        assert any("内存" in n for n in kb.stats()["notices"])
    assert main(["--home", str(home), "--model", str(model), "stats"]) == 0
    assert "内存中使用" in capsys.readouterr().out


# -- imports name what a duplicate repeats; a ref names one record ----------------------------------
def test_a_text_repeated_in_one_import_names_the_record_it_repeats(home, model, tmp_path, capsys):
    rows = [{"text": practice_text(900, "新")}, {"text": practice_text(901, "新"), "ref": "R-1"},
            {"text": practice_text(900, "新")}, {"text": practice_text(902, "新"), "ref": "R-1"}]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert main(["--home", str(home), "--model", str(model), "import", str(path)]) == 0
    out = capsys.readouterr().out
    with open_kb(home, model) as kb:
        first = kb.search(practice_text(900, "新"), k=1, mode="keyword", kind="")[0].record
        assert kb.count() == N + 2
    assert f"（已有第 {first.id} 条）" in out and "已有第 0 条" not in out
    assert "ref“R-1”已被本次导入中前面的一条使用" in out
