"""The SQLite store: the source of truth for records, their keyword index and cached vectors.

One file holds everything. Writes are explicit ``BEGIN IMMEDIATE`` transactions, so a record is
stored together with its keyword-index row and its change-log entry, or not at all. The ``changes``
table is both the audit log (who, when, before/after) and the feed from which every process brings
its vector index up to date (see :mod:`reformkb.search.vectors`).

Schema versions are plain functions in ``MIGRATIONS``; ``PRAGMA user_version`` says which have run
and ``PRAGMA application_id`` marks the file as a reformkb database.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from reformkb.errors import InputError, NotFoundError, StoreError
from reformkb.records import Record
from reformkb.search.segment import index_views

log = logging.getLogger(__name__)

APPLICATION_ID = 0x52464B42  # "RFKB"
BUSY_TIMEOUT_MS = 30_000
METRICS_VERSION = "metrics_version"  # meta key: which version of the metrics reader read the stored metrics

RECORD_COLUMNS = [
    "id", "ref", "kind", "region", "region_raw", "province", "city", "county", "agency", "title",
    "text", "topics", "metrics", "best_reduction", "source_title", "source_issue", "source_date",
    "source_section", "source_file", "created_at", "updated_at", "content_hash",
]


def _migration_1(db: sqlite_utils.Database) -> None:
    db["records"].create(
        {
            "id": int, "ref": str, "kind": str, "region": str, "region_raw": str, "province": str,
            "city": str, "county": str, "agency": str, "title": str, "text": str, "topics": str,
            "metrics": str, "best_reduction": float, "source_title": str, "source_issue": str,
            "source_date": str, "source_section": str, "source_file": str, "created_at": str,
            "updated_at": str, "content_hash": str,
        },
        pk="id",
        not_null={"text", "content_hash", "kind"},
    )
    db["records"].create_index(["content_hash"], unique=True)
    db["records"].create_index(["province", "region"])
    db["records"].create_index(["source_date"])
    db.execute("CREATE VIRTUAL TABLE records_fts USING fts5(words, grams, tokenize='unicode61')")
    db["vectors"].create(
        {"model": str, "content_hash": str, "dim": int, "vector": bytes},
        pk=("model", "content_hash"),
    )
    db["changes"].create(
        {"seq": int, "record_id": int, "op": str, "actor": str, "at": str, "before": str, "after": str},
        pk="seq",
    )
    db["changes"].create_index(["record_id"])
    db["meta"].create({"key": str, "value": str}, pk="key")


def _migration_2(db: sqlite_utils.Database) -> None:
    """The audit log is append-only: no UPDATE or DELETE of a ``changes`` row, from any program."""
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER changes_no_{action.lower()} BEFORE {action} ON changes "
            "BEGIN SELECT RAISE(ABORT, '审计日志不可修改或删除（append-only audit log）'); END"
        )


def _migration_3(db: sqlite_utils.Database) -> None:
    """Searches exclude 【战斗动态】 records by kind: find them without scanning the whole table."""
    db["records"].create_index(["kind"])


def _migration_4(db: sqlite_utils.Database) -> None:
    """A region filter matches region, city or county: with an index on each, SQLite answers it from
    the indexes (measured at 100k records: a 长沙市 filter took 50 ms as a table scan)."""
    for column in ("region", "city", "county"):
        db["records"].create_index([column])


def _migration_5(db: sqlite_utils.Database) -> None:
    """The vector cache is keyed by what is embedded (place, agency, title and text: see
    :func:`reformkb.records.vector_key`), no longer by the text alone, so that editing a title, region
    or agency gets the record a new vector. A record never edited was embedded from exactly its
    current fields, so its cached vector is re-keyed (nothing is embedded again); an edited one may
    carry a vector of its old fields, so it is left to be embedded afresh. Keys of no record are dropped.
    """
    from reformkb.records import vector_key

    edited = {r[0] for r in db.execute("SELECT DISTINCT record_id FROM changes WHERE op = 'edit'")}
    rekey = []
    for row in db.query("SELECT * FROM records"):
        if row["id"] not in edited:
            rekey.append((row["content_hash"], vector_key(_row_to_record(row))))
    db.execute("CREATE TEMP TABLE rekey (old TEXT, new TEXT)")
    db.conn.executemany("INSERT INTO rekey VALUES (?, ?)", rekey)
    db.execute("INSERT OR IGNORE INTO vectors (model, content_hash, dim, vector)"
               " SELECT v.model, k.new, v.dim, v.vector FROM vectors v JOIN rekey k ON k.old = v.content_hash")
    db.execute("DELETE FROM vectors WHERE content_hash NOT IN (SELECT new FROM rekey)")
    db.execute("DROP TABLE temp.rekey")
    db["records"].create_index(["ref"])  # an external key (ref) names one record: looked up on every store


MIGRATIONS = [_migration_1, _migration_2, _migration_3, _migration_4, _migration_5]


def _is_busy(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _cannot_write(exc: sqlite3.Error) -> bool:
    """SQLite's ways of saying that the file or its folder cannot be written."""
    return any(w in str(exc) for w in ("readonly", "read-only", "unable to open"))


READ_ONLY = ("知识库 {path} 是只读的（没有写入权限，或所在磁盘只读）：可以检索和浏览，不能修改。"
             "需要修改时，请让管理员给予该文件及其目录写入权限。")


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Turn SQLite's errors that a user can meet into StoreError messages that say what to do."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            raise StoreError(
                f"知识库正忙（另一个程序长时间占用 {path.name} 的写入锁）：请稍后再试；"
                "若一直如此，请关闭其他正在导入的窗口或程序。"
            ) from exc
        if any(word in str(exc) for word in ("I/O", "disk", "unable to open", "readonly")):
            raise StoreError(
                f"无法读写知识库文件 {path}（{exc}）：请检查磁盘空间和文件权限；"
                "若文件已损坏，请用 reformkb restore 从备份恢复。"
            ) from exc
        raise
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:  # malformed image, not a database, I/O error …
        raise StoreError(
            f"知识库文件 {path} 无法读取（{exc}）：文件可能已损坏。请用 reformkb restore 从备份恢复；"
            "向量索引会从恢复后的数据库自动重建。"
        ) from exc


def _retry_busy(action, attempts: int = 50, pause: float = 0.1):
    """Run ``action`` again while SQLite reports the database busy (switching to WAL needs a moment
    without other connections, e.g. when two processes create the same knowledge base at once)."""
    import time

    for attempt in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or attempt == attempts - 1:
                raise
            time.sleep(pause)


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot change ``path`` (not even a journal or WAL file beside it)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro&immutable=1", uri=True)


@dataclass
class BackupInfo:
    """What a backup file holds, as checked by :func:`verify_backup`."""

    path: Path
    records: int
    last_change: int
    schema_version: int
    db_id: str


def _norm(sql: str | None) -> str:
    return " ".join((sql or "").replace("[", '"').replace("]", '"').split()).lower()


def schema_of(conn: sqlite3.Connection) -> dict:
    """The schema of a database as comparable data: every table's columns, every index's table and
    columns, every trigger's and view's statement, every virtual table's statement."""
    out: dict[str, dict] = {"table": {}, "index": {}, "trigger": {}, "view": {}}
    for kind, name, table, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"):
        if kind == "table":
            columns = tuple(tuple(r[1:]) for r in conn.execute(f'PRAGMA table_xinfo("{name}")'))
            out["table"][name] = (_norm(sql) if _norm(sql).startswith("create virtual") else "", columns)
        elif kind == "index":
            info = {r[1]: r for r in conn.execute(f'PRAGMA index_list("{table}")')}.get(name)
            columns = tuple(tuple(r[:3]) for r in conn.execute(f'PRAGMA index_xinfo("{name}")'))
            out["index"][name] = (table, tuple(info[2:]) if info else (), columns)
        else:
            out.setdefault(kind, {})[name] = (table, _norm(sql))
    return out


@functools.lru_cache(maxsize=None)
def expected_schema(version: int) -> dict:
    """The schema that the migrations up to ``version`` create (built in memory)."""
    db = sqlite_utils.Database(memory=True)
    for migration in MIGRATIONS[:version]:
        migration(db)
    try:
        return schema_of(db.conn)
    finally:
        db.conn.close()


def _schema_difference(found: dict, expected: dict) -> str:
    """A short description of how ``found`` differs from ``expected`` ("" when equal)."""
    labels = {"table": "数据表", "index": "索引", "trigger": "触发器", "view": "视图"}
    for kind in labels:
        have, want = found.get(kind, {}), expected.get(kind, {})
        extra, missing = sorted(set(have) - set(want)), sorted(set(want) - set(have))
        changed = sorted(n for n in set(have) & set(want) if have[n] != want[n])
        for what, names in (("多出", extra), ("缺少", missing), ("被改动", changed)):
            if names:
                return f"{what}{labels[kind]} {'、'.join(names[:3])}"
    extra = sorted(set(found) - set(expected))
    return f"多出 {'、'.join(extra)}" if extra else ""


def verify_backup(path: Path | str) -> BackupInfo:
    """Check that ``path`` is an intact reformkb database that this version can open and whose schema
    (tables, indexes, triggers) is exactly the one its version creates; StoreError saying why if not.

    The file is opened read-only (immutable): checking it changes nothing.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"找不到备份文件 {path}（或它不是文件）：请检查路径。")
    conn = None
    try:
        conn = _read_only(path)
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]  # first: nothing else is trusted before it
        if check != "ok":
            raise StoreError(f"备份 {path} 已损坏（{check}）：请换一个备份文件。")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise StoreError(f"{path} 不是 reformkb 知识库的备份：请选择用 reformkb backup 生成的文件。")
        if version > len(MIGRATIONS):
            raise StoreError(f"备份 {path} 来自更新版本的 reformkb（结构版本 {version}）：请先升级 reformkb。")
        if version < 1:
            raise StoreError(f"备份 {path} 没有结构版本号，不是 reformkb backup 生成的文件：请换一个备份文件。")
        difference = _schema_difference(schema_of(conn), expected_schema(version))
        if difference:
            raise StoreError(f"备份 {path} 的数据库结构与 reformkb 结构版本 {version} 不符（{difference}），"
                             "可能被改动过，没有恢复：请换一个用 reformkb backup 生成的备份。")
        bad = conn.execute(
            "SELECT count(*) FROM records WHERE typeof(id) != 'integer' OR text IS NULL OR typeof(text) != 'text'"
            " OR NOT json_valid(coalesce(topics, '[]')) OR NOT json_valid(coalesce(metrics, '[]'))").fetchone()[0]
        unindexed = conn.execute("SELECT (SELECT count(*) FROM records) != (SELECT count(*) FROM records_fts)"
                                 " OR EXISTS (SELECT 1 FROM records r WHERE r.id NOT IN"
                                 " (SELECT rowid FROM records_fts))").fetchone()[0]
        if bad or unindexed:
            raise StoreError(f"备份 {path} 中有 {bad} 条案例的内容不完整或关键词索引不一致，可能被改动过，没有恢复："
                             "请换一个备份文件。")
        records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        last = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        row = conn.execute("SELECT value FROM meta WHERE key = 'db_id'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} 不是可用的 reformkb 备份（{exc}）：请选择用 reformkb backup 生成的文件。") from exc
    finally:
        if conn is not None:
            conn.close()
    return BackupInfo(path, records, last, version, row[0] if row else "")


def now() -> str:
    """The current UTC time as ISO 8601 with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Change:
    """One entry of the audit log."""

    seq: int
    record_id: int
    op: str  # add | edit | delete | restore
    actor: str
    at: str
    before: dict | None
    after: dict | None


def _row_to_record(row: dict) -> Record:
    d = dict(row)
    d["topics"] = json.loads(d.get("topics") or "[]")
    d["metrics"] = json.loads(d.get("metrics") or "[]")
    return Record.from_dict(d)


def _record_to_row(rec: Record) -> dict:
    d = rec.to_dict()
    row = {k: d.get(k) for k in RECORD_COLUMNS if k in d}
    row["topics"] = json.dumps(rec.topics, ensure_ascii=False)
    row["metrics"] = json.dumps(rec.metrics, ensure_ascii=False)
    row["best_reduction"] = _best_reduction(rec.metrics)
    return row


def _best_reduction(metrics: list[dict]) -> float | None:
    reductions = [m.get("reduction_pct") for m in metrics if m.get("reduction_pct") is not None]
    return max(reductions) if reductions else None


class Store:
    """Records in one SQLite file. Safe to share between threads of one process and between processes."""

    def __init__(self, path: Path | str):
        """Open (or create) the database at ``path``.

        A database that cannot be written (a read-only file or folder) is opened read-only: reading
        works, every write raises StoreError saying so (``read_only`` is then True).
        """
        self.path = Path(path)
        self._lock = threading.RLock()
        self.read_only = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"无法使用知识库目录 {self.path.parent}（{exc.strerror or exc}）："
                             "它可能是一个文件或没有权限。请用 --home 指定一个文件夹。") from exc
        if self.path.is_file() and not os.access(self.path, os.W_OK):
            self._open_read_only()
            return
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db = sqlite_utils.Database(conn)
            self._check_and_migrate()
            _retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
        except StoreError as exc:
            self._close_quietly()
            if not (self.path.is_file() and isinstance(exc.__cause__, sqlite3.OperationalError)
                    and _cannot_write(exc.__cause__)):
                raise
            self._open_read_only()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            if self.path.is_file() and isinstance(exc, sqlite3.OperationalError) and _cannot_write(exc):
                self._open_read_only()
                return
            raise StoreError(
                f"无法打开知识库文件 {self.path}：{exc}。该文件可能已损坏或不是 reformkb 知识库；"
                "请从备份恢复（reformkb restore 备份文件），或换一个目录（--home）新建知识库。"
            ) from exc

    def _open_read_only(self) -> None:
        """Open a database that cannot be written: read-only, or as an immutable file when not even
        SQLite's shared-memory file can be made beside it (then other writers are not seen)."""
        last = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            conn = None
            try:
                conn = sqlite3.connect(self.path.resolve().as_uri() + "?" + options, uri=True,
                                       isolation_level=None, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                self.db = sqlite_utils.Database(conn)
                version = self._look(conn)
                break
            except sqlite3.DatabaseError as exc:
                last = exc
                if conn is not None:
                    conn.close()
        else:
            raise StoreError(f"无法打开知识库文件 {self.path}（{last}）：请检查文件和目录的读取权限。") from last
        if version < len(MIGRATIONS):
            self._close_quietly()
            raise StoreError(f"知识库 {self.path} 需要升级到新的结构版本，但它是只读的：请让管理员给予写入权限后打开一次。")
        self.read_only = True
        log.warning("%s cannot be written: opened read-only", self.path)

    def _close_quietly(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.conn.close()

    # -- schema -----------------------------------------------------------------------------------
    def _look(self, conn) -> int:
        """This file's schema version; StoreError if it is not a reformkb database this version can open."""
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID and tables:
            raise StoreError(
                f"{self.path} 不是 reformkb 知识库（里面已有别的数据表）。为避免破坏它，reformkb 不会改动这个文件；"
                "请用 --home 指定另一个目录。"
            )
        if version > len(MIGRATIONS):
            raise StoreError(
                f"知识库 {self.path} 由更新版本的 reformkb 创建（结构版本 {version}），请升级 reformkb 后再打开。"
            )
        return version

    def _check_and_migrate(self) -> None:
        conn = self.db.conn
        with self._lock:
            conn.execute("BEGIN")  # one snapshot: another process may be creating the tables right now
            try:
                version = self._look(conn)
            finally:
                conn.execute("COMMIT")
        if version == len(MIGRATIONS):
            return
        with self.transaction():
            # Another process may have migrated between our look and our lock: look again.
            version = self._look(conn)
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                migration(self.db)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @contextmanager
    def transaction(self, busy_ms: int | None = None) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction: all of it commits, or none of it.

        ``busy_ms``: how long to wait for another writer here (default ``BUSY_TIMEOUT_MS``); a
        read-only store refuses at once.

        Another process holding the write lock is waited for (up to ``BUSY_TIMEOUT_MS``); only then
        does the caller get a StoreError saying the knowledge base is busy, never "database is locked".
        """
        if self.read_only:
            raise StoreError(READ_ONLY.format(path=self.path))
        with self._lock, _translated(self.path):
            conn = self.db.conn
            if busy_ms is not None:
                conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            try:
                conn.execute("BEGIN IMMEDIATE")
            finally:
                if busy_ms is not None:
                    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every read inside sees the same committed state (WAL snapshot).

        Other threads of this process wait; other processes' writers do not.
        """
        with self._lock, _translated(self.path):
            conn = self.db.conn
            if conn.in_transaction:  # already inside a transaction of this thread
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _all(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        """Rows of a read, fetched whole under the lock (so no other thread's open transaction shows)."""
        with self._lock, _translated(self.path):
            return self.db.conn.execute(sql, params).fetchall()

    def _dicts(self, sql: str, params: list | tuple = ()) -> list[dict]:
        with self._lock, _translated(self.path):
            cur = self.db.conn.execute(sql, params)
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            self.db.conn.close()

    # -- writes -----------------------------------------------------------------------------------
    def _log(self, conn, record_id: int, op: str, actor: str, before: Record | None, after: Record | None) -> None:
        conn.execute(
            "INSERT INTO changes (record_id, op, actor, at, before, after) VALUES (?, ?, ?, ?, ?, ?)",
            (record_id, op, actor, now(),
             json.dumps(before.to_dict(), ensure_ascii=False) if before else None,
             json.dumps(after.to_dict(), ensure_ascii=False) if after else None),
        )

    def _insert_row(self, conn, rec: Record) -> int:
        row = _record_to_row(rec)
        if rec.id is None:
            # Never reuse the id of a deleted record (SQLite would reuse the highest one): the audit log,
            # undelete and people's notes ("第 32 条") keep meaning the record they meant.
            row["id"] = conn.execute(
                "SELECT max(coalesce((SELECT max(id) FROM records), 0),"
                " coalesce((SELECT max(record_id) FROM changes), 0)) + 1").fetchone()[0]
        cols = list(row)
        conn.execute(
            f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [row[c] for c in cols],
        )
        record_id = row["id"]
        words, grams = index_views(f"{rec.title} {rec.region} {rec.agency} {rec.text}")
        conn.execute("INSERT INTO records_fts (rowid, words, grams) VALUES (?, ?, ?)", (record_id, words, grams))
        return record_id

    def id_of_ref(self, ref: str) -> int | None:
        """The id of the record with this external key (ref), if any."""
        rows = self._all("SELECT id FROM records WHERE ref = ? LIMIT 1", [ref]) if ref else []
        return rows[0][0] if rows else None

    def has_hash(self, content_hash: str) -> int | None:
        """The id of the record with this content hash, if any."""
        rows = self._all("SELECT id FROM records WHERE content_hash = ?", [content_hash])
        return rows[0][0] if rows else None

    def insert_many(self, records: Iterable[Record], actor: str, op: str = "add") -> list[int | None]:
        """Insert records in one transaction; a record whose hash or ref is already stored is skipped (None).

        Returns the new ids (None for skipped), in input order. Timestamps are set here.
        """
        ids: list[int | None] = []
        stamp = now()
        with self.transaction() as conn:
            for rec in records:
                if conn.execute("SELECT 1 FROM records WHERE content_hash = ?", (rec.content_hash,)).fetchone() or (
                        rec.ref and conn.execute("SELECT 1 FROM records WHERE ref = ?", (rec.ref,)).fetchone()):
                    ids.append(None)
                    continue
                rec.created_at = rec.created_at or stamp
                if not (op == "restore" and rec.updated_at):  # an undelete brings the record back as it was
                    rec.updated_at = stamp
                rec.id = self._insert_row(conn, rec)
                self._log(conn, rec.id, op, actor, None, rec)
                ids.append(rec.id)
        return ids

    def update(self, rec: Record, actor: str) -> Record:
        """Replace the stored record ``rec.id`` with ``rec`` (text, fields, keyword index)."""
        with self.transaction() as conn:
            before = self._get(conn, rec.id)
            clash = conn.execute("SELECT id FROM records WHERE content_hash = ? AND id != ?",
                                 (rec.content_hash, rec.id)).fetchone()
            if clash:
                raise InputError(f"修改后的正文与第 {clash[0]} 条案例完全相同：请修改正文，或删除其中一条。")
            taken = rec.ref and conn.execute("SELECT id FROM records WHERE ref = ? AND id != ?",
                                             (rec.ref, rec.id)).fetchone()
            if taken:
                raise InputError(f"外部编号 ref“{rec.ref}”已被第 {taken[0]} 条使用：一个外部编号只能对应一条案例。")
            rec.created_at = before.created_at
            rec.updated_at = now()
            conn.execute("DELETE FROM records WHERE id = ?", (rec.id,))
            conn.execute("DELETE FROM records_fts WHERE rowid = ?", (rec.id,))
            self._insert_row(conn, rec)
            self._log(conn, rec.id, "edit", actor, before, rec)
        return rec

    def delete(self, record_id: int, actor: str) -> Record:
        """Remove a record and its keyword-index row; the log keeps its last state for restoring."""
        with self.transaction() as conn:
            before = self._get(conn, record_id)
            conn.execute("DELETE FROM records WHERE id = ?", (record_id,))
            conn.execute("DELETE FROM records_fts WHERE rowid = ?", (record_id,))
            self._log(conn, record_id, "delete", actor, before, None)
        return before

    # -- reads ------------------------------------------------------------------------------------
    def _get(self, conn, record_id: int) -> Record:
        cur = conn.execute("SELECT * FROM records WHERE id = ?", (record_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFoundError(f"没有编号为 {record_id} 的案例：请用 reformkb search 或 stats 查看现有编号。")
        return _row_to_record(dict(zip([c[0] for c in cur.description], row)))

    def get(self, record_id: int) -> Record:
        with self._lock, _translated(self.path):
            return self._get(self.db.conn, int(record_id))

    def get_many(self, ids: list[int]) -> dict[int, Record]:
        """Records by id (missing ids are absent from the result)."""
        out: dict[int, Record] = {}
        for start in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[start : start + 500]]
            marks = ",".join("?" for _ in chunk)
            for row in self._dicts(f"SELECT * FROM records WHERE id IN ({marks})", chunk):
                rec = _row_to_record(row)
                out[rec.id] = rec
        return out

    def query(self, where: str = "", params: list | None = None, order: str = "id",
              limit: int | None = None) -> list[Record]:
        """Records matching an SQL ``where`` fragment (built by this package, never by users)."""
        sql = "SELECT * FROM records" + (f" WHERE {where}" if where else "") + f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_row_to_record(r) for r in self._dicts(sql, params or [])]

    def ids(self, where: str = "", params: list | None = None) -> list[int]:
        sql = "SELECT id FROM records" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        return [r[0] for r in self._all(sql, params or [])]

    def ids_of_other_kinds(self, kind: str, limit: int) -> list[int]:
        """Up to ``limit`` ids of records whose kind is not ``kind``, in no order, from the kind index
        (a "!=" or an ORDER BY would make SQLite scan the whole table)."""
        sql = ("SELECT id FROM records WHERE kind < ? UNION ALL SELECT id FROM records WHERE kind > ? "
               f"LIMIT {int(limit)}")
        return [r[0] for r in self._all(sql, [kind, kind])]

    def count(self, where: str = "", params: list | None = None) -> int:
        sql = "SELECT count(*) FROM records" + (f" WHERE {where}" if where else "")
        return self._all(sql, params or [])[0][0]

    def fts(self, match: str, where: str, params: list, limit: int,
            weights: tuple[float, float] = (1.0, 0.5)) -> list[tuple[int, float]]:
        """(id, bm25) for an FTS5 ``match`` expression, best first (bm25 is negated: higher is better)."""
        score = f"-bm25(records_fts, {weights[0]}, {weights[1]}) AS score"
        if where:
            sql = (f"SELECT r.id, {score} FROM records_fts JOIN records r ON r.id = records_fts.rowid "
                   f"WHERE records_fts MATCH ? AND {where} ORDER BY score DESC LIMIT ?")
        else:  # no filter: no lookup of each match in records (the FTS rowid is the record id)
            sql = f"SELECT rowid, {score} FROM records_fts WHERE records_fts MATCH ? ORDER BY score DESC LIMIT ?"
        try:
            return [(r[0], r[1]) for r in self._all(sql, [match, *params, limit])]
        except sqlite3.OperationalError as exc:  # a MATCH expression FTS5 cannot parse
            from reformkb.errors import InputError

            raise InputError(f"检索词无法解析（{exc}）：请去掉引号、星号等符号后再试。") from exc

    def fts_count(self, match: str, cap: int) -> int:
        """How many records an FTS5 ``match`` finds, counted up to ``cap`` (so a common term is cheap)."""
        sql = "SELECT count(*) FROM (SELECT 1 FROM records_fts WHERE records_fts MATCH ? LIMIT ?)"
        return self._all(sql, [match, int(cap)])[0][0]

    def max_id(self) -> int:
        """The largest record id (ids are distinct positive integers, so the record count is at most this)."""
        return self._all("SELECT coalesce(max(id), 0) FROM records")[0][0]

    def grouped_counts(self, columns: list[str], where: str = "", params: list | None = None) -> list[dict]:
        cols = ", ".join(columns)
        sql = (f"SELECT {cols}, count(*) AS n FROM records" + (f" WHERE {where}" if where else "")
               + f" GROUP BY {cols} ORDER BY n DESC, {cols}")
        return self._dicts(sql, params or [])

    def topic_counts(self, where: str = "", params: list | None = None) -> list[dict]:
        sql = ("SELECT j.value AS topic, count(*) AS n FROM records, json_each(records.topics) j"
               + (f" WHERE {where}" if where else "") + " GROUP BY j.value ORDER BY n DESC, topic")
        return self._dicts(sql, params or [])

    # -- change log -------------------------------------------------------------------------------
    def last_seq(self) -> int:
        return self._all("SELECT coalesce(max(seq), 0) FROM changes")[0][0]

    def changed_since(self, seq: int) -> dict[int, str]:
        """Record ids touched after ``seq`` and their latest operation."""
        rows = self._all("SELECT record_id, op FROM changes WHERE seq > ? ORDER BY seq", [seq])
        return {rid: op for rid, op in rows}

    def changes(self, record_id: int | None = None, limit: int = 200) -> list[Change]:
        where, params = ("WHERE record_id = ?", [record_id]) if record_id is not None else ("", [])
        rows = self._dicts(f"SELECT * FROM changes {where} ORDER BY seq DESC LIMIT {int(limit)}", params)
        return [Change(r["seq"], r["record_id"], r["op"], r["actor"], r["at"],
                       json.loads(r["before"]) if r["before"] else None,
                       json.loads(r["after"]) if r["after"] else None) for r in rows]

    def deletions(self, limit: int = 100) -> list[Change]:
        """The latest delete of each record that is still deleted, newest first."""
        rows = self._dicts(
            "SELECT * FROM changes c WHERE c.op = 'delete' AND c.record_id > 0"
            " AND c.seq = (SELECT max(seq) FROM changes d WHERE d.record_id = c.record_id AND d.op = 'delete')"
            " AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = c.record_id)"
            f" ORDER BY c.seq DESC LIMIT {int(limit)}")
        return [Change(r["seq"], r["record_id"], r["op"], r["actor"], r["at"],
                       json.loads(r["before"]) if r["before"] else None,
                       json.loads(r["after"]) if r["after"] else None) for r in rows]

    def undelete(self, record_id: int, actor: str) -> Record:
        """Bring back a deleted record from the audit log, under its old id."""
        for change in self.changes(record_id=record_id, limit=50):
            if change.op == "delete" and change.before:
                rec = Record.from_dict(change.before)
                if self.has_hash(rec.content_hash):
                    raise InputError(f"第 {record_id} 条的正文已经在知识库中，无需恢复。")
                if self.id_of_ref(rec.ref):
                    raise InputError(f"第 {record_id} 条的外部编号 ref“{rec.ref}”已被第 {self.id_of_ref(rec.ref)} 条使用，"
                                     "无法恢复：请先修改那一条的 ref。")
                try:
                    self.get(rec.id)
                    raise InputError(f"第 {record_id} 条已存在，无需恢复。")
                except NotFoundError:
                    pass
                if self.insert_many([rec], actor=actor, op="restore")[0] is None:
                    raise InputError(f"第 {record_id} 条刚刚已被恢复或其正文已被重新录入，无需恢复。")
                return rec
        raise NotFoundError(f"审计日志中没有第 {record_id} 条的删除记录，无法恢复。")

    # -- vectors ----------------------------------------------------------------------------------
    def get_vectors(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = self._all(
                f"SELECT content_hash, vector FROM vectors WHERE model = ? AND content_hash IN ({marks})",
                [model, *chunk],
            )
            out.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        return out

    def put_vectors(self, model: str, vectors: dict[str, np.ndarray], busy_ms: int | None = None) -> None:
        """Cache vectors under (model, key); ``busy_ms`` as for :meth:`transaction`."""
        with self.transaction(busy_ms) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors (model, content_hash, dim, vector) VALUES (?, ?, ?, ?)",
                [(model, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )

    def vector_count(self, model: str) -> int:
        return self._all("SELECT count(*) FROM vectors WHERE model = ?", [model])[0][0]

    # -- meta -------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        rows = self._all("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0][0] if rows else default

    def identity(self) -> str:
        """The database's identity, stored on first open; read without a write lock (so opening never
        waits for another program's long write), and kept in memory for a read-only database."""
        found = self.get_meta("db_id")
        if found or self.read_only:
            return found or uuid.uuid4().hex
        return self.meta_default("db_id", uuid.uuid4().hex)

    def meta_default(self, key: str, value: str) -> str:
        """The stored value of ``key``, storing ``value`` first if there is none (race-free)."""
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            return conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def refresh_metrics(self, version: str, derive: Callable[[str], list[dict]], batch: int = 2000) -> int:
        """Read every record's metrics again with ``derive`` (text → metrics) unless ``version`` read them
        (meta ``metrics_version``); returns how many records' metrics changed.

        Metrics follow from the text alone, so this is no edit: no change-log entry, no new vector.
        Records are read and written ``batch`` at a time, each batch its own short transaction (other
        programs' writes wait for one batch, not for the whole knowledge base); a record whose text
        changed meanwhile keeps the metrics its writer gave it. Interrupted, it starts again next time.
        """
        if self.read_only or self.get_meta(METRICS_VERSION) == version:
            return 0
        changed, last = 0, 0
        while rows := self._all("SELECT id, text, metrics, content_hash FROM records WHERE id > ? ORDER BY id LIMIT ?",
                                [last, batch]):
            last = rows[-1][0]
            updates = []
            for record_id, text, stored, content in rows:
                metrics = derive(text)
                if json.loads(stored or "[]") != metrics:
                    updates.append((json.dumps(metrics, ensure_ascii=False), _best_reduction(metrics), record_id, content))
            if updates:
                with self.transaction() as conn:
                    changed += conn.executemany("UPDATE records SET metrics = ?, best_reduction = ?"
                                                " WHERE id = ? AND content_hash = ?", updates).rowcount
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (METRICS_VERSION, version))
        if changed:
            log.info("%s: metrics of %d records read again (metrics version %s)", self.path, changed, version)
        return changed

    def backup_to(self, dest: Path, *, force: bool = False, protected: Iterable[Path] = ()) -> Path:
        """A consistent copy through SQLite's online backup API (safe while others write).

        Written through :func:`reformkb.outputs.write_output`: an existing ``dest`` is refused unless
        ``force``, a knowledge-base file always; the copy appears only when complete and checked. It is
        a single self-contained file (rollback journal, not WAL). Returns the path written.
        """
        from reformkb.outputs import write_output

        def write(tmp: Path) -> None:
            target = sqlite3.connect(tmp)
            try:
                with self._lock, _translated(self.path):
                    self.db.conn.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
                check = target.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise StoreError(f"备份校验失败（{check}）：知识库文件可能已损坏，请检查磁盘后重试。")
            finally:
                target.close()

        guarded = [self.path, *(Path(f"{self.path}{s}") for s in ("-wal", "-shm", "-journal")), *protected]
        return write_output(dest, write, force=force, protected=guarded)

    def replace_content(self, staged: Path, actor: str, detail: dict, db_id: str,
                        expect_seq: int | None = None) -> dict:
        """Replace the records, keyword index and meta with those of the verified, migrated database
        ``staged``, in one transaction, keeping this database's audit log whole and adding a
        ``restore-db`` entry (record id 0) with ``detail``.

        The live log is the record of what happened: its entries since the backup stay in it. Only when
        this log is empty (a new database replacing a damaged one) is the staged database's log taken
        over. Cached vectors of both are kept (they are keyed by content). ``expect_seq``: the change
        sequence a copy of this database was taken at; a StoreError (nothing changed) if another
        writer got in since. Returns seq (of the restore entry), carried (live entries kept) and
        not_carried (entries of the backup that are not in this log; they remain in the backup).
        """
        with self._lock, _translated(self.path):
            conn = self.db.conn
            conn.execute("ATTACH DATABASE ? AS staged", (str(staged),))
            try:
                with self.transaction():
                    live = conn.execute("SELECT coalesce(max(seq), 0), count(*) FROM main.changes").fetchone()
                    if expect_seq is not None and live[0] != expect_seq:
                        raise StoreError("恢复期间知识库被他人修改：没有恢复，请重试。")
                    cols = "seq, record_id, op, actor, at, before, after"
                    not_carried = conn.execute(
                        f"SELECT count(*) FROM (SELECT {cols} FROM staged.changes EXCEPT SELECT {cols} FROM main.changes)"
                    ).fetchone()[0]
                    if live[1] == 0:
                        conn.execute(f"INSERT INTO main.changes ({cols}) SELECT {cols} FROM staged.changes")
                        not_carried = 0
                    columns = ", ".join(RECORD_COLUMNS)
                    conn.execute("DELETE FROM main.records")
                    conn.execute(f"INSERT INTO main.records ({columns}) SELECT {columns} FROM staged.records")
                    conn.execute("DELETE FROM main.records_fts")
                    conn.execute("INSERT INTO main.records_fts (rowid, words, grams)"
                                 " SELECT rowid, words, grams FROM staged.records_fts")
                    conn.execute("INSERT OR IGNORE INTO main.vectors SELECT model, content_hash, dim, vector"
                                 " FROM staged.vectors")
                    conn.execute("DELETE FROM main.meta")
                    conn.execute("INSERT INTO main.meta (key, value) SELECT key, value FROM staged.meta")
                    conn.execute("INSERT OR REPLACE INTO main.meta (key, value) VALUES ('db_id', ?)", (db_id,))
                    detail = {**detail, "carried": live[1], "not_carried": not_carried}
                    conn.execute("INSERT INTO main.changes (record_id, op, actor, at, before, after)"
                                 " VALUES (0, 'restore-db', ?, ?, NULL, ?)",
                                 (actor, now(), json.dumps(detail, ensure_ascii=False)))
                    seq = conn.execute("SELECT max(seq) FROM main.changes").fetchone()[0]
            finally:
                conn.execute("DETACH DATABASE staged")
        return {"seq": seq, "carried": live[1], "not_carried": not_carried}

    def log_event(self, op: str, actor: str, detail: dict) -> None:
        """An audit-log entry about the whole knowledge base (record id 0), e.g. a restore from backup."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO changes (record_id, op, actor, at, before, after) VALUES (0, ?, ?, ?, NULL, ?)",
                         (op, actor, now(), json.dumps(detail, ensure_ascii=False)))
