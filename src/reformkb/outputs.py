"""Writing an output file (an export, a backup, a report) without ever destroying another file.

Every file reformkb writes for a user goes through :func:`write_output`, which promises:

* an existing destination is refused unless ``force`` is given (then it is replaced whole);
* a file of a knowledge base — its database and the ``-wal``/``-shm``/``-journal`` files beside it,
  anything in an index folder, an ``editors.toml`` — is refused even with ``force``, for this
  knowledge base or any other (recognised by what the file is, not by its name alone);
* the content is written to a temporary file in the destination's folder and renamed into place when
  complete, so the destination is never half-written; without ``force`` the rename cannot replace a
  file created meanwhile by someone else;
* any problem (a folder, a missing or read-only folder, ``/proc``, a full disk) is an InputError that
  says what to do, and nothing is left behind.

Temporary files carry the writing process's id (``.<name>.<pid>.<random>.reformkb-tmp``), so that
:func:`clean_stale` can remove those of killed runs without touching a write still in progress.
"""
from __future__ import annotations

import errno
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from reformkb.errors import InputError

log = logging.getLogger(__name__)

TMP_SUFFIX = ".reformkb-tmp"
SQLITE_MAGIC = b"SQLite format 3\x00"
APPLICATION_ID = 0x52464B42  # the store's PRAGMA application_id ("RFKB"), read here from the file header
EDITORS_FILE = "editors.toml"
SIDE_FILES = ("-wal", "-shm", "-journal")


def kb_files(db_path: Path, index_dir: Path, editors_path: Path) -> tuple[Path, ...]:
    """A knowledge base's own files and folders: the database with its -wal/-shm/-journal, the index
    folder and the editors file."""
    return (db_path, *(Path(f"{db_path}{s}") for s in ("-wal", "-shm", "-journal")), index_dir, editors_path)


def is_reformkb_database(path: Path) -> bool:
    """True when ``path`` is an SQLite file marked as a reformkb knowledge base (from its header)."""
    try:
        if not Path(path).is_file():  # never open a pipe or a device to look (it could block)
            return False
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError:
        return False
    return len(head) == 100 and head[:16] == SQLITE_MAGIC and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def _is_index_folder(folder: Path) -> bool:
    """A vector-index folder: its lock file beside FAISS files or a manifest with slot files."""
    try:
        names = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    except OSError:
        return False
    return ".lock" in names and any(n.endswith((".faiss", ".slots.npy")) for n in names)


def knowledge_base_file(path: Path, protected: Iterable[Path] = ()) -> str:
    """What knowledge-base file ``path`` is ("" if none): the reason an output may never go there."""
    path = Path(os.path.abspath(path))
    targets = {path, path.resolve()}
    for guarded in protected:
        guarded = Path(guarded)
        if guarded.resolve() in targets or guarded in targets:
            return "当前知识库的文件"
        if guarded.is_dir() and any(t.is_relative_to(guarded.resolve()) for t in targets):
            return "当前知识库的索引目录"
    for target in targets:
        if is_reformkb_database(target):
            return "一个知识库的数据库文件"
        for suffix in SIDE_FILES:
            if target.name.endswith(suffix) and (is_reformkb_database(target.with_name(target.name[: -len(suffix)]))
                                                or target.name == f"reformkb.db{suffix}"):
                return "一个知识库数据库的附属文件（" + suffix + "）"
        if target.name == EDITORS_FILE:
            return "一个知识库的编辑配置文件"
        if target.name == "reformkb.db" and target.exists():
            return "一个知识库的数据库文件（或已损坏的数据库）"
        if _is_index_folder(target.parent):
            return "一个知识库的索引目录"
    return ""


def check_destination(path: Path, *, force: bool = False, protected: Iterable[Path] = ()) -> Path:
    """The destination as it will be written; InputError (nothing written) when it must not be."""
    path = Path(path)
    what = knowledge_base_file(path, protected)
    if what:
        raise InputError(f"不能写到 {path}：这是{what}，覆盖它会毁掉知识库。请换一个文件名或目录（--force 也不能覆盖它）。")
    if path.is_dir():
        raise InputError(f"{path} 是一个文件夹：请给出文件名，例如 {path / '导出.csv'}。")
    if (path.exists() or path.is_symlink()) and not force:
        raise InputError(f"{path} 已经存在，没有覆盖：请换一个文件名，或确认要替换它时加上 --force。")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} 不是普通文件（设备、管道等），不能写入：请换一个文件名。")
    return path


def temp_path(dest: Path) -> Path:
    """A temporary file beside ``dest``, named so that :func:`clean_stale` knows whose it is."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def _os_message(path: Path, exc: OSError) -> str:
    reason = {errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限", errno.EROFS: "所在磁盘是只读的",
              errno.ENOSPC: "磁盘空间不足", errno.ENOENT: "所在目录不存在或无法建立",
              errno.ENOTDIR: "路径中有一段不是文件夹"}.get(exc.errno, exc.strerror or str(exc))
    return f"无法写入 {path}（{reason}）：请换一个有写入权限的目录，或检查磁盘空间。没有留下任何文件。"


def write_output(path: Path | str, write: Callable[[Path], None], *, force: bool = False,
                 protected: Iterable[Path] = ()) -> Path:
    """Write an output file safely (see the module's promises); returns the absolute path written.

    ``write(tmp)`` writes the complete content to the temporary file ``tmp``. ``protected`` are the
    files and folders of the knowledge base at hand (its database, index folder, editors file).
    """
    dest = Path(os.path.abspath(check_destination(Path(path), force=force, protected=protected)))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(_os_message(dest, exc)) from exc
    clean_stale(dest.parent)
    tmp = temp_path(dest)
    try:
        open(tmp, "xb").close()  # can we write here at all (a read-only folder, /proc …)?
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        check_destination(dest, force=force, protected=protected)  # again: the write may have taken long
        if force:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)  # fails if dest appeared meanwhile: never clobber
            except FileExistsError:
                raise InputError(f"{dest} 刚刚被别的程序建立，没有覆盖：请换一个文件名，或加上 --force。") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                os.rename(tmp, dest)  # a file system without hard links
    except OSError as exc:
        raise InputError(_os_message(dest, exc)) from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            try:
                leftover.unlink(missing_ok=True)
            except OSError:
                pass
    log.info("wrote %s", dest)
    return dest


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove the temporary files (and their SQLite journals) of killed reformkb writers in ``folder``.

    A temporary file whose process is still running is kept. Returns what was removed.
    """
    removed = []
    try:
        candidates = [p for p in Path(folder).iterdir() if p.name.startswith(".") and
                      (p.name.endswith(TMP_SUFFIX) or p.name.endswith(TMP_SUFFIX + "-journal"))]
    except OSError:
        return removed
    for path in candidates:
        stem = path.name[: -len("-journal")] if path.name.endswith("-journal") else path.name
        parts = stem[: -len(TMP_SUFFIX)].rsplit(".", 2)
        if len(parts) != 3 or not parts[1].isdigit() or _pid_alive(int(parts[1])):
            continue
        try:
            path.unlink()
            removed.append(path)
        except OSError as exc:
            log.warning("could not remove stale temporary file %s: %s", path, exc)
    if removed:
        log.info("removed %d temporary files of interrupted runs in %s", len(removed), folder)
    return removed
