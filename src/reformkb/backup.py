"""Restoring a knowledge base's database from a backup (backups themselves: :meth:`Store.backup_to`).

A restore, in order:

1. checks the backup (:func:`reformkb.store.verify_backup`): a reformkb database, intact (integrity
   check first), of a known schema version whose tables, indexes and triggers are exactly those that
   version creates, with complete records — before anything is touched;
2. copies it into a temporary file beside the database and upgrades that copy to the current schema;
3. keeps the current database as ``reformkb.db-before-restore-<time>`` (the last
   ``Settings.keep_restores`` of these are kept; older ones are removed);
4. replaces the records, keyword index and meta in one transaction, keeping the audit log whole
   (entries written since the backup stay) and adding a ``restore-db`` entry naming the backup;
5. reads the records' metrics again if an older version read them (:meth:`Store.refresh_metrics`).

The database gets a new identity, so every process rebuilds its vector index. A restore is undone by
restoring the copy it kept (:func:`undo_source`; ``reformkb restore --undo``), which is itself logged.
"""
from __future__ import annotations

import logging
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

from reformkb.errors import InputError, NotFoundError, StoreError
from reformkb.ingest import metrics
from reformkb.outputs import TMP_SUFFIX, temp_path
from reformkb.settings import Settings
from reformkb.store import BackupInfo, Store, _read_only, verify_backup

log = logging.getLogger(__name__)

KEPT_MARK = "-before-restore-"
ATTEMPTS = 3  # a writer getting in between keeping the copy and replacing: keep it again


def kept_path(db_path: Path) -> Path:
    """Where the database replaced by a restore is kept (never overwriting an earlier one)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return db_path.with_name(f"{db_path.name}{KEPT_MARK}{stamp}")


def kept_copies(db_path: Path) -> list[Path]:
    """The databases kept by earlier restores, oldest first (their -wal/-shm files not listed)."""
    return sorted(p for p in db_path.parent.glob(f"{db_path.name}{KEPT_MARK}*")
                  if not p.name.endswith(("-wal", "-shm", "-journal", TMP_SUFFIX)))


def kept_list(db_path: Path) -> list[dict]:
    """The kept copies for ``stats``: path, size in bytes and when kept (newest last)."""
    out = []
    for path in kept_copies(db_path):
        try:
            out.append({"path": str(path), "bytes": path.stat().st_size,
                        "kept_at": path.name.rsplit(KEPT_MARK, 1)[-1]})
        except OSError:
            continue
    return out


def rotate(db_path: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` kept copies (and their side files); returns what was removed."""
    copies = kept_copies(db_path)
    removed = copies[: max(0, len(copies) - max(keep, 1))]
    for path in removed:
        for part in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
            part.unlink(missing_ok=True)
        log.info("removed old pre-restore copy %s", path)
    return removed


def _check_backup(settings: Settings, backup: Path) -> BackupInfo:
    info = verify_backup(backup)  # before anything is touched
    if backup.resolve() == settings.db_path.resolve():
        raise InputError("备份文件就是当前的知识库文件：请选择另一个备份。")
    return info


def _staged(settings: Settings, backup: Path) -> Path:
    """A copy of the backup beside the database, upgraded to the current schema (a temporary file)."""
    staged = temp_path(settings.db_path)
    source = _read_only(backup)
    try:
        target = sqlite3.connect(staged)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        staged.unlink(missing_ok=True)
        raise StoreError(f"无法读取备份 {backup}（{exc}）：当前知识库未被改动。") from exc
    finally:
        source.close()
    try:
        Store(staged).close()  # migrates an older backup
    except BaseException:
        _remove(staged)
        raise
    return staged


def _remove(path: Path) -> None:
    for part in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
        part.unlink(missing_ok=True)


def _seq_of(path: Path) -> int:
    conn = _read_only(path)
    try:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
    finally:
        conn.close()


def restore_into(store: Store, settings: Settings, backup: Path, actor: str, kept: Path | None = None,
                 undo: bool = False) -> dict:
    """Restore ``backup`` into ``store`` (keeping the current content first unless ``kept`` is given).

    Returns records, last_change, kept (the previous database), db_id (the new identity), carried
    (audit entries of the live log kept) and not_carried (entries of the backup not in the live log).
    """
    info = _check_backup(settings, backup)
    staged = _staged(settings, backup)
    db_id = uuid.uuid4().hex
    try:
        for attempt in range(ATTEMPTS):
            expect = None
            if kept is None or attempt:
                if attempt:
                    _remove(kept)
                kept = store.backup_to(kept_path(settings.db_path))
                expect = _seq_of(kept)
            detail = {"backup": str(backup.resolve()), "records": info.records, "backup_last_change": info.last_change,
                      "backup_db_id": info.db_id, "kept": str(kept), "undo": undo}
            try:
                result = store.replace_content(staged, actor, detail, db_id, expect_seq=expect)
                break
            except StoreError:
                if expect is None or attempt == ATTEMPTS - 1:
                    raise
    finally:
        _remove(staged)
    store.refresh_metrics(metrics.VERSION, metrics.record_metrics)  # a backup's may be an older reader's
    rotate(settings.db_path, settings.keep_restores)
    log.info("restored %s from %s (%d records); previous database kept as %s",
             settings.db_path, backup, info.records, kept)
    return {"records": info.records, "last_change": result["seq"], "kept": str(kept), "db_id": db_id,
            "carried": result["carried"], "not_carried": result["not_carried"]}


def restore_home(settings: Settings, backup: Path, actor: str, undo: bool = False) -> dict:
    """Restore the database of ``settings.home`` from ``backup``, also when the current one is damaged
    (then it is set aside whole and the backup restored into a new file)."""
    _check_backup(settings, backup)
    try:
        store = Store(settings.db_path)
    except StoreError as exc:  # damaged or foreign: set it aside whole and restore into a new file
        log.warning("current database unusable (%s): moving it aside", exc)
        kept = kept_path(settings.db_path)
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{settings.db_path}{suffix}")
            if part.exists():
                part.rename(Path(f"{kept}{suffix}"))
        store = Store(settings.db_path)
        try:
            return restore_into(store, settings, backup, actor, kept=kept, undo=undo)
        finally:
            store.close()
    try:
        return restore_into(store, settings, backup, actor, undo=undo)
    finally:
        store.close()


def undo_source(store: Store, settings: Settings) -> Path:
    """The copy kept by the latest restore, which restoring undoes it; NotFoundError if none is left."""
    for change in store.changes(record_id=0, limit=50):
        if change.op == "restore-db" and change.after and change.after.get("kept"):
            kept = Path(change.after["kept"])
            if kept.is_file():
                return kept
            raise NotFoundError(f"上次恢复前保留的数据库 {kept} 已不存在（可能已被轮换删除），无法撤销。")
    raise NotFoundError("审计日志中没有从备份恢复的记录：没有可撤销的恢复。")
