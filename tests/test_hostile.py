"""Hostile inputs: at least 150 distinct cases across the Python API, the command line and the app.

Every case must be refused with a clear Chinese message — in the API a ReformKBError (any other
exception is a traceback for the user), from the CLI a non-zero exit with ``错误：…`` or ``拒绝 …``
and no traceback, in the app an error shown on the page and no exception — and must leave every
knowledge base exactly as it was: the fingerprint (records, keyword index, audit log, meta) and
integrity check of three knowledge bases (the one attacked, another one open in this process, one in
editor mode) and the bytes of the bystander files are compared before and after each case.

The run reports its count at the end of the pytest output ("hostile inputs: …"), see conftest.py.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from reliability_support import fingerprint, practice_text, worker_env
from streamlit.testing.v1 import AppTest

from reformkb.auth import Editor, Editors
from reformkb.cli import main
from reformkb.errors import ReformKBError
from reformkb.kb import KnowledgeBase
from reformkb.records import Record
from reformkb.settings import Settings, project_root

RESULTS: Counter = Counter()  # surface → cases passed; read by conftest.py's summary
CJK = re.compile(r"[\u4e00-\u9fff]")
FAST = 1_000
APP = str(project_root() / "app.py")


class World:
    """Three knowledge bases and the files the cases use, built once for this module."""

    def __init__(self, root: Path, model: Path):
        self.root, self.model = root, model
        self.home, self.other, self.ed, self.files = root / "kb", root / "other", root / "ed", root / "files"
        self.files.mkdir()
        rows = [{"text": practice_text(i), **({"ref": f"REF-{i}"} if i < 3 else {})} for i in range(12)]
        (self.files / "seed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                               encoding="utf-8")
        self.kb = self.open(self.home)
        self.kb.import_files([self.files / "seed.jsonl"])
        self.kb.rebuild_index()
        self.kb.backup(self.files / "good.db")
        self.kb.delete(12)
        self.other_kb = self.open(self.other)  # open the whole time, like another office's app
        self.other_kb.add({"text": practice_text(50, "另一个")}, check_duplicates=False)
        self.other_kb._sync_index()
        self.ed_kb = self.open(self.ed)
        self.ed_kb.add({"text": practice_text(60, "编辑")}, check_duplicates=False)
        Editors.for_home(self.ed).add_account("张三", "zhangsan-pw", iterations=FAST)
        Editors.for_home(self.ed).set_key("shared-editor-key", iterations=FAST)
        self._make_files()

    def open(self, home: Path) -> KnowledgeBase:
        return KnowledgeBase(settings=Settings.default(home, model=str(self.model)), empty=True)

    def _make_files(self) -> None:
        f = self.files
        (f / "text.txt").write_text("这不是备份", encoding="utf-8")
        (f / "random.bin").write_bytes(os.urandom(8192))
        (f / "empty.txt").write_bytes(b"")
        (f / "existing.csv").write_text("别人的文件", encoding="utf-8")
        (f / "folder").mkdir()
        os.mkfifo(f / "pipe")
        (f / "link.db").symlink_to(self.home / "reformkb.db")
        conn = sqlite3.connect(f / "foreign.sqlite")
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.commit()
        conn.close()
        (f / "big5.txt").write_bytes("【戰術借鑒】\n長沙市推行企業開辦一網通辦，辦理時間由五個工作日壓縮至半個工作日。".encode("big5"))
        (f / "junk.docx").write_bytes(b"PK\x03\x04" + os.urandom(2000))
        (f / "junk.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
        (f / "binary.txt").write_bytes(bytes(range(256)) * 20)
        (f / "program.exe").write_bytes(b"MZ" + os.urandom(100))
        (f / "notext.csv").write_text("region,title\n长沙市,标题\n", encoding="utf-8")
        (f / "nul.csv").write_bytes(b"text\n\x00\x00\x00\n")
        crafted = {
            "trigger": ["CREATE TRIGGER wipe AFTER INSERT ON changes BEGIN DELETE FROM records; END"],
            "no-audit-triggers": ["DROP TRIGGER changes_no_update", "DROP TRIGGER changes_no_delete"],
            "extra-table": ["CREATE TABLE extra (x)"],
            "extra-index": ["CREATE INDEX idx_extra ON records (title)"],
            "view": ["CREATE VIEW v AS SELECT * FROM records"],
            "extra-column": ["ALTER TABLE records ADD COLUMN evil TEXT"],
            "no-fts-row": ["DELETE FROM records_fts WHERE rowid = 1"],
            "bad-topics": ["UPDATE records SET topics = '{bad' WHERE id = 2"],
            "blob-text": ["UPDATE records SET text = x'00ff' WHERE id = 3"],
            "version-0": ["PRAGMA user_version = 0"],
            "version-99": ["PRAGMA user_version = 99"],
            "other-app-id": ["PRAGMA application_id = 7"],
        }
        for name, sql in crafted.items():
            path = f / f"crafted-{name}.db"
            shutil.copy(f / "good.db", path)
            conn = sqlite3.connect(path)
            for statement in sql:
                conn.execute(statement)
            conn.commit()
            conn.close()
        data = bytearray((f / "good.db").read_bytes())
        data[len(data) // 2:len(data) // 2 + 4096] = os.urandom(4096)
        (f / "corrupt.db").write_bytes(bytes(data))

    def state(self) -> dict:
        out = {}
        for home in (self.home, self.other, self.ed):
            conn = sqlite3.connect(f"file:{home / 'reformkb.db'}?mode=ro", uri=True)
            out[home.name] = (fingerprint(home / "reformkb.db"), conn.execute("PRAGMA integrity_check").fetchone()[0])
            conn.close()
        for path in sorted(self.files.iterdir()):
            if path.is_file() and not path.is_symlink():  # (not the pipe: reading it would block)
                out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        out["editors"] = (self.ed / "editors.toml").read_bytes()
        out["names"] = sorted(p.name for p in self.files.iterdir())
        return out

    def close(self) -> None:
        for kb in (self.kb, self.other_kb, self.ed_kb):
            kb.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory, model):
    w = World(tmp_path_factory.mktemp("hostile"), model)
    yield w
    w.close()


def _record(d: dict) -> Record:
    return Record.from_dict(d)


def unit(dim: int = 32) -> np.ndarray:
    return np.eye(1, dim, dtype=np.float32)


# -- the Python API -------------------------------------------------------------------------------
def _f(w, name):
    return w.files / name


API = {
    # records that cannot be stored
    "add empty text": lambda w: w.kb.add({"text": ""}),
    "add blank text": lambda w: w.kb.add({"text": " \n\t　"}),
    "add punctuation only": lambda w: w.kb.add({"text": "。。。！！？？……"}),
    "add number as text": lambda w: w.kb.add({"text": 12345}),
    "add float as text": lambda w: w.kb.add({"text": 3.14}),
    "add bytes as text": lambda w: w.kb.add({"text": "长沙市推行改革压缩时限。".encode()}),
    "add list as text": lambda w: w.kb.add({"text": ["长沙市"]}),
    "add dict as text": lambda w: w.kb.add({"text": {"a": 1}}),
    "add none as text": lambda w: w.kb.add({"text": None}),
    "add lone surrogate": lambda w: w.kb.add({"text": "长沙市推行\ud800改革，压缩至1个工作日。"}),
    "add over-long text": lambda w: w.kb.add({"text": "长沙市推行改革" * 4000}),
    "add non-Chinese region": lambda w: w.kb.add({"text": practice_text(900), "region": "Mars"}),
    "add region as number": lambda w: w.kb.add({"text": practice_text(901), "region": 430100}),
    "add title as bytes": lambda w: w.kb.add({"text": practice_text(902), "title": b"title"}),
    "add agency as number": lambda w: w.kb.add({"text": practice_text(903), "agency": 7}),
    "add over-long title": lambda w: w.kb.add({"text": practice_text(904), "title": "标" * 300}),
    "add over-long agency": lambda w: w.kb.add({"text": practice_text(905), "agency": "局" * 300}),
    "add over-long ref": lambda w: w.kb.add({"text": practice_text(906), "ref": "R" * 300}),
    "add non-text topic": lambda w: w.kb.add({"text": practice_text(907), "topics": [{"a": 1}]}),
    "add topics as number": lambda w: w.kb.add({"text": practice_text(908), "topics": 5}),
    "add metrics as text": lambda w: w.kb.add({"text": practice_text(909), "metrics": "很多"}),
    "add unknown kind": lambda w: w.kb.add({"text": practice_text(910), "kind": "secret"}),
    "add future date": lambda w: w.kb.add({"text": practice_text(911), "source_date": "2999-01-01"}),
    "add impossible date": lambda w: w.kb.add({"text": practice_text(912), "source_date": "2023-02-30"}),
    "add unparsable date": lambda w: w.kb.add({"text": practice_text(913), "source_date": "去年春天"}),
    "add id that is not a number": lambda w: w.kb.add({"text": practice_text(914), "id": "abc"}),
    "add source title as list": lambda w: w.kb.add({"text": practice_text(915), "source_title": ["a"]}),
    "add exact duplicate": lambda w: w.kb.add({"text": practice_text(4)}),
    "add duplicate with other spacing": lambda w: w.kb.add({"text": practice_text(4).replace("，", "， ")}),
    "add duplicate ref": lambda w: w.kb.add({"text": practice_text(916), "ref": "REF-1"}),
    "add a list": lambda w: w.kb.add([practice_text(917)]),
    "add a string": lambda w: w.kb.add(practice_text(918)),
    "add none": lambda w: w.kb.add(None),
    "prepare bytes": lambda w: w.kb.prepare({"text": b"\xff\xfe"}),
    "store_records duplicate ref": lambda w: _refused_store(w, {"text": practice_text(919), "ref": "REF-2"}),
    # edits
    "edit missing record": lambda w: w.kb.edit(99999, title="新标题"),
    "edit id as word": lambda w: w.kb.edit("abc", title="新标题"),
    "edit id zero": lambda w: w.kb.edit(0, title="新标题"),
    "edit negative id": lambda w: w.kb.edit(-3, title="新标题"),
    "edit fractional id": lambda w: w.kb.edit(1.5, title="新标题"),
    "edit id none": lambda w: w.kb.edit(None, title="新标题"),
    "edit id true": lambda w: w.kb.edit(True, title="新标题"),
    "edit empty text": lambda w: w.kb.edit(1, text=""),
    "edit punctuation text": lambda w: w.kb.edit(1, text="？？？"),
    "edit non-Chinese region": lambda w: w.kb.edit(1, region="Mars"),
    "edit text to another record's": lambda w: w.kb.edit(1, text=practice_text(1)),
    "edit ref to another record's": lambda w: w.kb.edit(1, ref="REF-2"),
    "edit number as title": lambda w: w.kb.edit(1, title=42),
    "edit future date": lambda w: w.kb.edit(1, source_date="2999-12-31"),
    "edit surrogate agency": lambda w: w.kb.edit(1, agency="\udcff局"),
    "edit deleted record": lambda w: w.kb.edit(12, title="新标题"),
    # deletes, undeletes, reads
    "delete id as word": lambda w: w.kb.delete("abc"),
    "delete id zero": lambda w: w.kb.delete(0),
    "delete missing record": lambda w: w.kb.delete(99999),
    "delete id none": lambda w: w.kb.delete(None),
    "delete id list": lambda w: w.kb.delete([1]),
    "delete already deleted": lambda w: w.kb.delete(12),
    "undelete missing": lambda w: w.kb.restore(99999),
    "undelete existing": lambda w: w.kb.restore(1),
    "undelete id as word": lambda w: w.kb.restore("x"),
    "get id as word": lambda w: w.kb.get("abc"),
    "get huge id": lambda w: w.kb.get(10 ** 12),
    "similar id as word": lambda w: w.kb.similar("x"),
    "similar missing record": lambda w: w.kb.similar(99999),
    "similar k zero": lambda w: w.kb.similar(1, k=0),
    "records limit as word": lambda w: w.kb.records(limit="abc"),
    "records negative limit": lambda w: w.kb.records(limit=-1),
    "latest k as word": lambda w: w.kb.latest(k="x"),
    "changes limit as word": lambda w: w.kb.changes(limit="x"),
    "changes record id as word": lambda w: w.kb.changes(record_id="abc"),
    "deleted limit none": lambda w: w.kb.deleted(limit=None),
    "near duplicates of a number": lambda w: w.kb.near_duplicates(5),
    "edit unknown field": lambda w: w.kb.edit(1, colour="red"),
    # searches
    "search empty": lambda w: w.kb.search(""),
    "search blank": lambda w: w.kb.search("   "),
    "search punctuation": lambda w: w.kb.search("？？？！！"),
    "search over-long": lambda w: w.kb.search("企业" * 300),
    "search lone surrogate": lambda w: w.kb.search("企业\ud800注销"),
    "search semantic lone surrogate": lambda w: w.kb.search("\udcff企业", mode="semantic"),
    "search number": lambda w: w.kb.search(123),
    "search none": lambda w: w.kb.search(None),
    "search bytes": lambda w: w.kb.search(b"qiye"),
    "search unknown mode": lambda w: w.kb.search("企业", mode="fuzzy"),
    "search k as word": lambda w: w.kb.search("企业", k="abc"),
    "search k negative": lambda w: w.kb.search("企业", k=-1),
    "search k huge": lambda w: w.kb.search("企业", k=10 ** 9),
    "search k none": lambda w: w.kb.search("企业", k=None),
    "search unknown region": lambda w: w.kb.search("企业", region="火星市"),
    "search unknown topic": lambda w: w.kb.search("企业", topic="不存在的主题"),
    "search surrogate source": lambda w: w.kb.search("企业", source="\udcff"),
    "search surrogate date": lambda w: w.kb.search("企业", date_to="2023\ud800"),
    "search number source": lambda w: w.kb.search("企业", source=5),
    "search unknown filter": lambda w: w.kb.search("企业", colour="red"),
    "search over-long filter": lambda w: w.kb.search("企业", source="专" * 300),
    "records surrogate filter": lambda w: w.kb.records(_filters(source="\ud800")),
    "count number filter": lambda w: w.kb.count(_filters(topic=7)),
    # outputs onto knowledge-base files, unwritable places, existing files
    "export onto own database": lambda w: w.kb.export(w.kb.records(), w.home / "reformkb.db", "csv", force=True),
    "export onto own wal": lambda w: w.kb.export(w.kb.records(), w.home / "reformkb.db-wal", "jsonl", force=True),
    "export onto own shm": lambda w: w.kb.export(w.kb.records(), w.home / "reformkb.db-shm", "csv"),
    "export into own index": lambda w: w.kb.export(w.kb.records(), w.home / "index" / "x.csv", "csv"),
    "export onto own index file": lambda w: w.kb.export(w.kb.records(), next((w.home / "index").glob("*.json")), "jsonl",
                                                        force=True),
    "export onto own editors file": lambda w: w.kb.export(w.kb.records(), w.home / "editors.toml", "csv"),
    "export onto other database": lambda w: w.kb.export(w.kb.records(), w.other / "reformkb.db", "csv", force=True),
    "export onto other wal": lambda w: w.kb.export(w.kb.records(), w.other / "reformkb.db-wal", "csv", force=True),
    "export onto other index": lambda w: w.kb.export(w.kb.records(), next((w.other / "index").glob("*.faiss")), "csv",
                                                     force=True),
    "export onto editor-mode editors file": lambda w: w.kb.export(w.kb.records(), w.ed / "editors.toml", "csv", force=True),
    "export onto link to database": lambda w: w.kb.export(w.kb.records(), _f(w, "link.db"), "csv", force=True),
    "export onto a backup": lambda w: w.kb.export(w.kb.records(), _f(w, "good.db"), "csv", force=True),
    "export onto existing file": lambda w: w.kb.export(w.kb.records(), _f(w, "existing.csv")),
    "export onto folder": lambda w: w.kb.export(w.kb.records(), _f(w, "folder"), "csv"),
    "export into proc": lambda w: w.kb.export(w.kb.records(), Path("/proc/export.csv")),
    "export under a file": lambda w: w.kb.export(w.kb.records(), _f(w, "existing.csv") / "x.csv"),
    "export unknown format": lambda w: w.kb.export(w.kb.records(), w.root / "x.doc"),
    "export onto dev null": lambda w: w.kb.export(w.kb.records(), Path("/dev/null"), "csv", force=True),
    "export onto a named pipe": lambda w: w.kb.export(w.kb.records(), _f(w, "pipe"), "csv", force=True),
    "backup onto a named pipe": lambda w: w.kb.backup(_f(w, "pipe"), force=True),
    "backup onto own database": lambda w: w.kb.backup(w.home / "reformkb.db", force=True),
    "backup onto own wal": lambda w: w.kb.backup(w.home / "reformkb.db-wal", force=True),
    "backup onto own journal": lambda w: w.kb.backup(w.home / "reformkb.db-journal"),
    "backup onto other database": lambda w: w.kb.backup(w.other / "reformkb.db", force=True),
    "backup onto other shm": lambda w: w.kb.backup(w.other / "reformkb.db-shm", force=True),
    "backup onto other editors file": lambda w: w.kb.backup(w.ed / "editors.toml", force=True),
    "backup onto a backup": lambda w: w.kb.backup(_f(w, "good.db"), force=True),
    "backup onto link to database": lambda w: w.kb.backup(_f(w, "link.db"), force=True),
    "backup onto existing file": lambda w: w.kb.backup(_f(w, "existing.csv")),
    "backup onto folder": lambda w: w.kb.backup(_f(w, "folder")),
    "backup into proc": lambda w: w.kb.backup(Path("/proc/backup.db")),
    "backup into own index": lambda w: w.kb.backup(w.home / "index" / "b.db"),
    # restores
    "restore a text file": lambda w: w.kb.restore_database(_f(w, "text.txt")),
    "restore random bytes": lambda w: w.kb.restore_database(_f(w, "random.bin")),
    "restore an empty file": lambda w: w.kb.restore_database(_f(w, "empty.txt")),
    "restore a missing file": lambda w: w.kb.restore_database(w.root / "missing.db"),
    "restore a folder": lambda w: w.kb.restore_database(_f(w, "folder")),
    "restore another application's database": lambda w: w.kb.restore_database(_f(w, "foreign.sqlite")),
    "restore the live database": lambda w: w.kb.restore_database(w.home / "reformkb.db"),
    "restore a corrupt backup": lambda w: w.kb.restore_database(_f(w, "corrupt.db")),
    **{f"restore crafted: {n}": functools.partial(lambda n, w: w.kb.restore_database(_f(w, f"crafted-{n}.db")), n)
       for n in ("trigger", "no-audit-triggers", "extra-table", "extra-index", "view", "extra-column", "no-fts-row",
                 "bad-topics", "blob-text", "version-0", "version-99", "other-app-id")},
    "undo with no restore": lambda w: w.kb.undo_restore(),
    # vectors
    "put_vectors wrong count": lambda w: w.kb.put_vectors([practice_text(920)], np.vstack([unit(), unit()])),
    "put_vectors zero vector": lambda w: w.kb.put_vectors([practice_text(921)], np.zeros((1, 32))),
    "put_vectors not a number": lambda w: w.kb.put_vectors([practice_text(922)], np.full((1, 32), np.nan)),
    "put_vectors wrong dimension": lambda w: w.kb.put_vectors([practice_text(923)], unit(16)),
    "put_vectors one dimension": lambda w: w.kb.put_vectors([practice_text(924)], np.ones(32)),
    "put_vectors bad record": lambda w: w.kb.put_vectors([""], unit()),
    # imports refused whole
    "import missing file": lambda w: _refused_import(w, w.root / "missing.txt"),
    "import folder": lambda w: _refused_import(w, _f(w, "folder")),
    "import empty file": lambda w: _refused_import(w, _f(w, "empty.txt")),
    "import Big5 bulletin": lambda w: _refused_import(w, _f(w, "big5.txt"), "Big5"),
    "import binary text": lambda w: _refused_import(w, _f(w, "binary.txt")),
    "import broken docx": lambda w: _refused_import(w, _f(w, "junk.docx")),
    "import broken pdf": lambda w: _refused_import(w, _f(w, "junk.pdf")),
    "import program": lambda w: _refused_import(w, _f(w, "program.exe")),
    "import csv without text": lambda w: _refused_import(w, _f(w, "notext.csv")),
    "import csv with nul bytes": lambda w: _refused_import(w, _f(w, "nul.csv")),
    "parse text without sections": lambda w: _refused_parse(w, "这只是一段话，没有任何栏目。"),
    # editor mode
    "editor mode: add without sign-in": lambda w: w.ed_kb.add({"text": practice_text(930)}),
    "editor mode: forged editor": lambda w: w.ed_kb.add({"text": practice_text(931)}, editor=Editor("张三", "account", "0" * 64)),
    "editor mode: name as editor": lambda w: w.ed_kb.delete(1, editor="张三"),
    "editor mode: put_vectors": lambda w: w.ed_kb.put_vectors([practice_text(932)], unit()),
    "editor mode: rebuild index": lambda w: w.ed_kb.rebuild_index(),
    "editor mode: restore database": lambda w: w.ed_kb.restore_database(_f(w, "good.db")),
    "editor mode: undo restore": lambda w: w.ed_kb.undo_restore(),
    "editor mode: import": lambda w: w.ed_kb.import_files([w.files / "seed.jsonl"]),
    "editor mode: store_records": lambda w: w.ed_kb.store_records([w.ed_kb.prepare({"text": practice_text(933)})]),
    "editor mode: undelete": lambda w: w.ed_kb.restore(1),
    "editor mode: restore_backup": lambda w: KnowledgeBase.restore_backup(_f(w, "good.db"), settings=w.ed_kb.settings),
    "sign in wrong password": lambda w: w.ed_kb.sign_in("张三", "wrong-password"),
    "sign in unknown name": lambda w: w.ed_kb.sign_in("无此人", "zhangsan-pw"),
    "sign in password as number": lambda w: w.ed_kb.sign_in("张三", 12345678),
    "sign in name as none": lambda w: w.ed_kb.sign_in(None, "zhangsan-pw"),
    "sign in wrong key": lambda w: w.ed_kb.sign_in_key("wrong-key", "王五"),
    "sign in key with quote in name": lambda w: w.ed_kb.sign_in_key("shared-editor-key", '王"五'),
    "sign in key with control character": lambda w: w.ed_kb.sign_in_key("shared-editor-key", "王\n五"),
    "sign in key with empty name": lambda w: w.ed_kb.sign_in_key("shared-editor-key", "  "),
    "sign in single-user mode": lambda w: w.kb.sign_in("张三", "zhangsan-pw"),
    "weak password: spaces": lambda w: Editors.for_home(w.ed).add_account("李四", " " * 10, iterations=FAST),
    "weak password: one character": lambda w: Editors.for_home(w.ed).add_account("李四", "1" * 12, iterations=FAST),
    "weak password: sequence": lambda w: Editors.for_home(w.ed).add_account("李四", "12345678", iterations=FAST),
    "weak password: common": lambda w: Editors.for_home(w.ed).add_account("李四", "password", iterations=FAST),
    "weak password: short": lambda w: Editors.for_home(w.ed).add_account("李四", "a1b2", iterations=FAST),
    "weak password: the name": lambda w: Editors.for_home(w.ed).add_account("lisi", "lisi-lisi-lisi", iterations=FAST),
    "weak key": lambda w: Editors.for_home(w.ed).set_key("aaaaaaaaaa", iterations=FAST),
    "editor name with quote": lambda w: Editors.for_home(w.ed).add_account('李"四', "lisi-password", iterations=FAST),
    "remove unknown editor": lambda w: Editors.for_home(w.ed).remove_account("无此人"),
    # settings and homes
    "text limit not a number": lambda w: _env("REFORMKB_MAX_TEXT_CHARS", "abc"),
    "query limit negative": lambda w: _env("REFORMKB_MAX_QUERY_CHARS", "-5"),
    "file limit zero": lambda w: _env("REFORMKB_MAX_FILE_BYTES", "0"),
    "kept copies not a number": lambda w: _env("REFORMKB_KEEP_RESTORES", "three"),
    "home is a file": lambda w: KnowledgeBase(_f(w, "existing.csv"), empty=True),
    "home under a file": lambda w: KnowledgeBase(_f(w, "existing.csv") / "kb", empty=True),
    "home is another application's database folder": lambda w: _foreign_home(w),
    "home in proc": lambda w: KnowledgeBase("/proc/reformkb-home", empty=True),
}


def _filters(**kw):
    from reformkb.search.fusion import Filters

    return Filters(**kw)


def _refused_store(w, data):
    report = w.kb.store_records([w.kb.prepare(data)])
    if report.refused and not report.added:
        raise ReformKBError(report.refused[0][1])


def _refused_import(w, path, word: str = ""):
    report = w.kb.import_files([path])
    assert not report.added and report.refused and word in report.refused[0][1]
    raise ReformKBError(report.refused[0][1])


def _refused_parse(w, text):
    drafts, report = w.kb.parse_text(text)
    assert not drafts
    raise ReformKBError("；".join(report.warnings + [why for _, why in report.refused]) or "没有可导入的案例")


def _env(name, value):
    os.environ[name] = value
    try:
        Settings.default()
    finally:
        del os.environ[name]


def _foreign_home(w):
    home = w.root / "foreign-home"
    home.mkdir(exist_ok=True)
    shutil.copy(_f(w, "foreign.sqlite"), home / "reformkb.db")
    KnowledgeBase(home, empty=True)


@pytest.mark.parametrize("name", list(API))
def test_api_refuses_with_a_message_and_changes_nothing(world, name):
    before = world.state()
    with pytest.raises(ReformKBError) as err:
        API[name](world)
    assert CJK.search(str(err.value)), str(err.value)
    assert world.state() == before
    RESULTS["API"] += 1


# -- the command line (in this process: main(argv), as the console script calls it) --------------
CLI = {
    "add empty": ["add", ""],
    "add punctuation": ["add", "。。。"],
    "add lone surrogate": ["add", "长沙市推行\udcff改革，压缩至1个工作日。"],
    "add non-Chinese region": ["add", practice_text(940), "--region", "Mars"],
    "add future date": ["add", practice_text(941), "--date", "2999-01-01"],
    "add unparsable date": ["add", practice_text(942), "--date", "昨天"],
    "add over-long title": ["add", practice_text(943), "--title", "标" * 300],
    "add duplicate": ["add", practice_text(5)],
    "add duplicate ref": ["add", practice_text(945), "--ref", "REF-0"],
    "show word id": ["show", "abc"],
    "show missing": ["show", "99999"],
    "edit missing": ["edit", "99999", "--title", "新标题"],
    "edit nothing": ["edit", "1"],
    "edit non-Chinese region": ["edit", "1", "--region", "Mars"],
    "edit empty text": ["edit", "1", "--text", ""],
    "edit surrogate title": ["edit", "1", "--title", "\ud800"],
    "delete missing": ["delete", "99999"],
    "delete word id": ["delete", "abc"],
    "undelete missing": ["undelete", "99999"],
    "undelete existing": ["undelete", "1"],
    "similar missing": ["similar", "99999"],
    "search empty": ["search", ""],
    "search punctuation": ["search", "？？？"],
    "search over-long": ["search", "企业" * 300],
    "search lone surrogate": ["search", "企业\udcff"],
    "search surrogate source": ["search", "企业", "--source", "\udcff", "--mode", "keyword"],
    "search surrogate date": ["search", "企业", "--date-to", "\ud800", "--mode", "keyword"],
    "search unknown region": ["search", "企业", "--region", "火星市"],
    "search unknown topic": ["search", "企业", "--topic", "不存在"],
    "search k zero": ["search", "企业", "-k", "0"],
    "search unknown mode": ["search", "企业", "--mode", "fuzzy"],
    "export onto database": ["export", "{home}/reformkb.db"],
    "export onto database forced": ["export", "{home}/reformkb.db", "--force"],
    "export csv onto database": ["export", "{home}/reformkb.db", "--format", "csv", "--force"],
    "export onto wal": ["export", "{home}/reformkb.db-wal", "--format", "jsonl", "--force"],
    "export onto index": ["export", "{index}", "--format", "csv", "--force"],
    "export onto other database": ["export", "{other}/reformkb.db", "--format", "csv", "--force"],
    "export onto other editors file": ["export", "{ed}/editors.toml", "--format", "csv", "--force"],
    "export onto existing file": ["export", "{files}/existing.csv"],
    "export onto folder": ["export", "{files}/folder", "--format", "csv"],
    "export into proc": ["export", "/proc/x.csv"],
    "export unknown format": ["export", "{root}/x.doc"],
    "export surrogate query": ["export", "{root}/q.csv", "--query", "\udcff"],
    "backup onto database": ["backup", "{home}/reformkb.db"],
    "backup onto wal forced": ["backup", "{home}/reformkb.db-wal", "--force"],
    "backup onto other database": ["backup", "{other}/reformkb.db", "--force"],
    "backup onto other shm": ["backup", "{other}/reformkb.db-shm", "--force"],
    "backup onto a backup": ["backup", "{files}/good.db"],
    "backup onto existing file": ["backup", "{files}/existing.csv"],
    "backup onto folder": ["backup", "{files}/folder"],
    "backup into proc": ["backup", "/proc/b.db"],
    "restore text file": ["restore", "{files}/text.txt"],
    "restore missing": ["restore", "{root}/missing.db"],
    "restore crafted trigger": ["restore", "{files}/crafted-trigger.db"],
    "restore crafted audit triggers": ["restore", "{files}/crafted-no-audit-triggers.db"],
    "restore corrupt": ["restore", "{files}/corrupt.db"],
    "restore the live database": ["restore", "{home}/reformkb.db"],
    "restore nothing": ["restore"],
    "restore both a file and undo": ["restore", "{files}/good.db", "--undo"],
    "restore undo with none": ["restore", "--undo"],
    "import missing": ["import", "{root}/missing.txt"],
    "import folder": ["import", "{files}/folder"],
    "import Big5": ["import", "{files}/big5.txt"],
    "import empty": ["import", "{files}/empty.txt"],
    "import program": ["import", "{files}/program.exe"],
    "editor mode: add": ["--home", "{ed}", "add", practice_text(946)],
    "editor mode: rebuild index": ["--home", "{ed}", "rebuild-index"],
    "editor mode: restore": ["--home", "{ed}", "restore", "{files}/good.db"],
    "editor mode: delete": ["--home", "{ed}", "delete", "1"],
    "editor mode: wrong key": ["--home", "{ed}", "delete", "1"],
    "editor mode: weak password": ["--home", "{ed}", "editors", "add", "王五"],
    "editor mode: remove unknown": ["--home", "{ed}", "editors", "remove", "无此人"],
    "home is a file": ["--home", "{files}/existing.csv", "stats"],
    "home in proc": ["--home", "/proc/reformkb-home", "stats"],
    "home of another application": ["--home", "{root}/foreign-home", "stats"],
    "text limit not a number": ["stats"],
    "unknown command option": ["search"],
}
CLI_ENV = {"editor mode: wrong key": {"REFORMKB_EDITOR_KEY": "wrong-key"},
           "editor mode: weak password": {"REFORMKB_PASSWORD": "        "},
           "text limit not a number": {"REFORMKB_MAX_TEXT_CHARS": "abc"}}


@pytest.mark.parametrize("name", list(CLI))
def test_cli_refuses_with_a_message_and_changes_nothing(world, name, capsys, monkeypatch):
    for key in ("REFORMKB_EDITOR_KEY", "REFORMKB_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    for key, value in CLI_ENV.get(name, {}).items():
        monkeypatch.setenv(key, value)
    if name == "home of another application":
        _foreign_home_quietly(world)
    places = {"home": world.home, "other": world.other, "ed": world.ed, "files": world.files, "root": world.root,
              "index": next((world.home / "index").glob("*.json"))}
    argv = [a.format(**places) if "{" in a else a for a in CLI[name]]
    if "--home" not in argv:
        argv = ["--home", str(world.home), *argv]
    before = world.state()
    try:
        code = main(["--model", str(world.model), *argv])
    except SystemExit as exc:  # argparse's own refusal of a malformed command line (usage and exit 2)
        code = exc.code
    out, err = capsys.readouterr()
    assert code not in (0, None), (out, err)
    assert "Traceback" not in out + err and CJK.search(err + out) or "error:" in err, (out, err)
    assert re.search(r"错误：|拒绝 |error:", err + out), (out, err)
    assert world.state() == before
    RESULTS["CLI"] += 1


def _foreign_home_quietly(w):
    home = w.root / "foreign-home"
    home.mkdir(exist_ok=True)
    if not (home / "reformkb.db").exists():
        shutil.copy(_f(w, "foreign.sqlite"), home / "reformkb.db")


# -- the command line in its own process (the console script as users run it) --------------------
SUBPROCESS = {
    "export onto another process's open database": ["export", "{other}/reformkb.db", "--format", "csv", "--force"],
    "backup onto another process's wal": ["backup", "{other}/reformkb.db-wal", "--force"],
    "undecodable bytes in a query": ["search", b"\xff\xfe\xfa", "--mode", "keyword"],
    "undecodable bytes in a filter": ["search", "企业", "--source", b"\xc3\x28", "--mode", "keyword"],
    "text limit not a number": ["stats"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SUBPROCESS))
def test_cli_process_refuses_with_a_message_and_changes_nothing(world, name):
    places = {"other": world.other}
    argv = [a.format(**places) if isinstance(a, str) and "{" in a else a for a in SUBPROCESS[name]]
    env = worker_env(world.model)
    if name == "text limit not a number":
        env["REFORMKB_MAX_TEXT_CHARS"] = "abc"
    before = world.state()
    proc = subprocess.run([sys.executable, "-m", "reformkb.cli", "--home", str(world.home), *argv],
                          capture_output=True, env=env, timeout=120)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2 and "Traceback" not in err and "错误：" in err, err
    assert world.state() == before
    RESULTS["CLI (process)"] += 1


# -- the app ----------------------------------------------------------------------------------------
@pytest.fixture
def app_home(world, tmp_path, monkeypatch):
    """A copy of the attacked knowledge base that the app opens (tiny model, through the environment)."""
    home = tmp_path / "app"
    home.mkdir()
    world.kb.backup(home / "reformkb.db")
    monkeypatch.setenv("REFORMKB_HOME", str(home))
    monkeypatch.setenv("REFORMKB_MODEL", str(world.model))
    return home


def _app(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"] = page
    at.run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def _search(at, query):
    at.text_input(key="q").input(query).run()


def _add(at, text, title=""):
    at.selectbox(key="add_region").set_value("长沙市")
    at.text_input(key="add_title").input(title)
    at.text_area(key="add_text").input(text).run()
    next(b for b in at.button if b.label == "保存案例").click().run()


def _edit(at, **fields):
    at.text_input(key="m_find").input("3").run()
    for name, value in fields.items():
        next(w for w in [*at.text_input, *at.text_area] if w.key and w.key.startswith(f"m_{name}_")).input(value)
    next(b for b in at.button if b.label == "保存修改").click().run()


def _paste(at, text):
    at.text_area(key="imp_text").input(text)
    next(b for b in at.button if b.label == "解析粘贴的文字").click().run()


def _upload(at, name, data):
    at.file_uploader(key="imp_file").upload(name, data, "application/octet-stream")
    next(b for b in at.button if b.label == "解析文件").click().run()


BIG5 = "【戰術借鑒】\n長沙市推行企業開辦一網通辦，辦理時間壓縮至半個工作日。".encode("big5")
APP_CASES = {
    "search punctuation": ("search", lambda at: _search(at, "？？？！！")),
    "search over-long": ("search", lambda at: _search(at, "企业" * 300)),
    "search SQL": ("search", lambda at: _search(at, "'; DROP TABLE records; --")),
    "search FTS syntax": ("search", lambda at: _search(at, 'NEAR("企业" *')),
    "add punctuation only": ("add", lambda at: _add(at, "。。。！！")),
    "add over-long title": ("add", lambda at: _add(at, practice_text(950), title="标" * 300)),
    "add duplicate": ("add", lambda at: _add(at, practice_text(6))),
    "edit non-Chinese region": ("manage", lambda at: _edit(at, region="Mars")),
    "edit future date": ("manage", lambda at: _edit(at, date="2999-01-01")),
    "edit empty text": ("manage", lambda at: _edit(at, text="")),
    "edit over-long title": ("manage", lambda at: _edit(at, title="标" * 300)),
    "edit text of another record": ("manage", lambda at: _edit(at, text=practice_text(0))),
    "paste without sections": ("import", lambda at: _paste(at, "没有任何栏目的一段话。")),
    "upload broken docx": ("import", lambda at: _upload(at, "专报.docx", b"PK\x03\x04" + os.urandom(500))),
    "upload Big5 text": ("import", lambda at: _upload(at, "专报.txt", BIG5)),
}
APP_SHOWS_ERROR = {"search SQL": False, "search FTS syntax": False, "paste without sections": None,
                   "upload Big5 text": None, "add duplicate": None}


@pytest.mark.parametrize("name", list(APP_CASES))
def test_app_refuses_with_a_message_and_changes_nothing(world, app_home, name):
    page, act = APP_CASES[name]
    at = _app(page)
    before = fingerprint(app_home / "reformkb.db"), world.state()
    act(at)
    assert not at.exception, at.exception
    expected = APP_SHOWS_ERROR.get(name, True)
    shown = _errors(at) + " ".join(w.value for w in at.warning)
    if expected:
        assert CJK.search(_errors(at)), shown
    elif expected is None:
        assert CJK.search(shown), shown
    assert (fingerprint(app_home / "reformkb.db"), world.state()) == before
    RESULTS["app"] += 1


def _sign_in(at, name, password):
    at.text_input(key="si_name").input(name)
    at.text_input(key="si_password").input(password)
    next(b for b in at.button if b.label == "登录").click().run()


def _sign_in_key(at, person, key):
    at.text_input(key="si_person").input(person)
    at.text_input(key="si_key").input(key)
    [b for b in at.button if b.label == "登录"][-1].click().run()


EDITOR_APP_CASES = {
    "sign in wrong password": ("add", lambda at: _sign_in(at, "张三", "wrong-password")),
    "sign in unknown name": ("manage", lambda at: _sign_in(at, "无此人", "zhangsan-pw")),
    "sign in empty": ("import", lambda at: _sign_in(at, "", "")),
    "sign in wrong key": ("add", lambda at: _sign_in_key(at, "王五", "wrong-key")),
    "sign in key with a quote in the name": ("add", lambda at: _sign_in_key(at, '王"五', "shared-editor-key")),
}


@pytest.mark.parametrize("name", list(EDITOR_APP_CASES))
def test_app_in_editor_mode_refuses_a_bad_sign_in(world, app_home, name):
    shutil.copy(world.ed / "editors.toml", app_home / "editors.toml")
    page, act = EDITOR_APP_CASES[name]
    at = _app(page)
    before = fingerprint(app_home / "reformkb.db"), world.state()
    act(at)
    assert not at.exception, at.exception
    assert CJK.search(_errors(at)), _errors(at)
    assert "editor" not in at.session_state  # still signed out: the form is shown again
    assert (fingerprint(app_home / "reformkb.db"), world.state()) == before
    RESULTS["app"] += 1


def _damage(home: Path) -> None:
    (home / "reformkb.db").write_bytes(b"garbage" * 1000)


UNOPENABLE_APP_CASES = {
    "a setting that is not a number": lambda home, mp: mp.setenv("REFORMKB_MAX_TEXT_CHARS", "abc"),
    "a damaged database": lambda home, mp: _damage(home),
    "another application's database": lambda home, mp: shutil.copy(home.parent / "foreign.sqlite",
                                                                    home / "reformkb.db"),
}


@pytest.mark.parametrize("name", list(UNOPENABLE_APP_CASES))
def test_app_that_cannot_open_its_knowledge_base_says_why(world, tmp_path, monkeypatch, name):
    home = tmp_path / "broken"
    home.mkdir()
    shutil.copy(world.files / "foreign.sqlite", tmp_path / "foreign.sqlite")
    monkeypatch.setenv("REFORMKB_HOME", str(home))
    monkeypatch.setenv("REFORMKB_MODEL", str(world.model))
    UNOPENABLE_APP_CASES[name](home, monkeypatch)
    before = home / "reformkb.db"
    content = before.read_bytes() if before.exists() else None
    for page in ("search", "manage"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["page"] = page
        at.run()
        assert not at.exception, at.exception
        assert CJK.search(_errors(at)), _errors(at)
    assert (before.read_bytes() if before.exists() else None) == content
    RESULTS["app"] += 1


def test_the_suite_has_at_least_150_distinct_cases():
    names = [*API, *CLI, *SUBPROCESS, *APP_CASES, *EDITOR_APP_CASES, *UNOPENABLE_APP_CASES]
    assert len(names) >= 150
    RESULTS.setdefault("registered", len(names))
