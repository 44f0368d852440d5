"""Restoring a knowledge base's database from a backup (backups themselves: :meth:`Store.backup_to`)."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path

from reformkb.errors import InputError, StoreError
from reformkb.settings import Settings
from reformkb.store import BackupInfo, Store, verify_backup

log = logging.getLogger(__name__)


def kept_path(db_path: Path) -> Path:
    """Where the database replaced by a restore is kept (never overwriting an earlier one)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return db_path.with_name(f"{db_path.name}-before-restore-{stamp}")


def _check_backup(settings: Settings, backup: Path) -> None:
    verify_backup(backup)  # before anything is touched
    if backup.resolve() == settings.db_path.resolve():
        raise InputError("备份文件就是当前的知识库文件：请选择另一个备份。")


def restore_into(store: Store, settings: Settings, backup: Path, actor: str, kept: Path | None = None) -> dict:
    """Copy ``backup`` into ``store`` (keeping the current content first unless ``kept`` is given).

    Returns records, last_change, kept (the previous database) and db_id (the new identity).
    """
    _check_backup(settings, backup)
    if kept is None:
        kept = kept_path(settings.db_path)
        store.backup_to(kept)
    info: BackupInfo = store.restore_from(backup)
    db_id = uuid.uuid4().hex
    store.set_meta("db_id", db_id)
    store.log_event("restore-db", actor, {"backup": str(backup), "records": info.records, "kept": str(kept)})
    log.info("restored %s from %s (%d records); previous database kept as %s",
             settings.db_path, backup, info.records, kept)
    return {"records": info.records, "last_change": info.last_change, "kept": str(kept), "db_id": db_id}


def restore_home(settings: Settings, backup: Path, actor: str) -> dict:
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
            return restore_into(store, settings, backup, actor, kept=kept)
        finally:
            store.close()
    try:
        return restore_into(store, settings, backup, actor)
    finally:
        store.close()
