"""Editors: reading is open, changing needs a sign-in once editors.toml exists.

Promises (see reformkb.auth and docs/reliability.md):

* Without editors.toml (a fresh install) every write works and is logged as the KnowledgeBase's actor.
* With editors.toml, every write method of the API (add, edit, delete, restore, store_records,
  import_files, restore_database, undo_restore, put_vectors, rebuild_index) refuses a caller without a valid signed-in Editor, and nothing
  stored changes; reads still work. The check is in the API, per call, so one KnowledgeBase shared
  by several app sessions attributes each change to the session's own editor.
* Passwords and the key are stored only as salted hashes; a changed password, a removed account or a
  replaced key ends the old sign-ins; an Editor cannot be made up.
* The CLI signs in with --user (password from REFORMKB_PASSWORD or a prompt) or REFORMKB_EDITOR_KEY.
"""
from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from reliability_support import fingerprint, practice_text, write_jsonl

from reformkb.auth import EDITORS_FILE, Editor, Editors
from reformkb.cli import main
from reformkb.errors import AuthError
from reformkb.kb import KnowledgeBase

FAST = 1_000  # PBKDF2 iterations for accounts made in tests (the default is deliberately slow)


@pytest.fixture
def editors(kb) -> Editors:
    """Editor mode: two accounts and a shared key."""
    editors = Editors.for_home(kb.settings.home)
    editors.add_account("张三", "zhangsan-pw", iterations=FAST)
    editors.add_account("李四", "lisi-password", iterations=FAST)
    editors.set_key("shared-editor-key", iterations=FAST)
    return editors


def writes(kb: KnowledgeBase, tmp_path: Path, editor=None):
    """Every write method of the API, each as a call that changes something if allowed."""
    backup = tmp_path / "backup.db"
    if not backup.exists():
        kb.backup(backup)
    new = kb.prepare({"text": practice_text(900, "新")})
    return {
        "add": lambda: kb.add({"text": practice_text(901, "新")}, check_duplicates=False, editor=editor),
        "edit": lambda: kb.edit(2, title="改过的标题", editor=editor),
        "delete": lambda: kb.delete(3, editor=editor),
        "restore": lambda: kb.restore(1, editor=editor),
        "store_records": lambda: kb.store_records([new], editor=editor),
        "import_files": lambda: kb.import_files([write_jsonl(tmp_path / "x.jsonl", [practice_text(902, "新")])],
                                                editor=editor),
        "restore_database": lambda: kb.restore_database(backup, editor=editor),
        "undo_restore": lambda: kb.undo_restore(editor=editor),
        "put_vectors": lambda: kb.put_vectors([practice_text(903, "新")], np.eye(1, 32, dtype=np.float32), editor=editor),
        "rebuild_index": lambda: kb.rebuild_index(editor=editor),
    }


def test_single_user_mode_needs_no_sign_in(kb, tmp_path):
    assert not kb.requires_sign_in
    kb.delete(1)  # so that restore has something to bring back
    for _name, write in writes(kb, tmp_path).items():
        write()
    assert {c.actor for c in kb.changes() if c.op != "import" or c.record_id > 10} <= {"local"}


@pytest.mark.parametrize("method", ["add", "edit", "delete", "restore", "store_records", "import_files",
                                    "restore_database", "undo_restore", "put_vectors", "rebuild_index"])
@pytest.mark.parametrize("who", ["nobody", "forged", "wrong-type"])
def test_every_write_refuses_without_a_valid_sign_in(kb, editors, tmp_path, method, who):
    kb.delete(1, editor=kb.sign_in("张三", "zhangsan-pw"))
    editor = {"nobody": None, "forged": Editor("张三", "account", "0" * 64), "wrong-type": "张三"}[who]
    write = writes(kb, tmp_path, editor)[method]
    before = fingerprint(kb.settings.db_path)
    with pytest.raises(AuthError) as err:
        write()
    assert isinstance(err.value, PermissionError) and "登录" in str(err.value)
    assert fingerprint(kb.settings.db_path) == before
    # Reading stays open to everyone.
    assert kb.count() == 9 and kb.search("企业开办", mode="keyword")


def test_signed_in_editors_write_and_are_named_in_the_log(kb, editors, tmp_path):
    zhang = kb.sign_in("张三", "zhangsan-pw")
    kb.delete(1, editor=zhang)
    for _name, write in writes(kb, tmp_path, zhang).items():
        write()
    assert kb.changes(limit=1)[0].actor == "张三"
    assert {c.actor for c in kb.changes() if c.op != "import" or c.record_id > 10} == {"张三"}
    keyed = kb.sign_in_key("shared-editor-key", "王五")
    rec, _ = kb.add({"text": practice_text(950, "钥")}, check_duplicates=False, editor=keyed)
    assert kb.changes(record_id=rec.id)[0].actor == "王五（编辑密钥）"


@pytest.mark.parametrize("name, secret", [("张三", "wrong-password"), ("赵六", "zhangsan-pw"), ("", ""),
                                          ("张三", None)])
def test_a_wrong_password_or_unknown_name_is_refused(kb, editors, name, secret):
    with pytest.raises(AuthError, match="不正确"):
        kb.sign_in(name, secret)


def test_a_wrong_key_is_refused(kb, editors):
    with pytest.raises(AuthError, match="不正确"):
        kb.sign_in_key("not-the-key", "王五")


def test_changing_a_password_removing_an_account_or_the_key_ends_old_sign_ins(kb, editors):
    zhang, li = kb.sign_in("张三", "zhangsan-pw"), kb.sign_in("李四", "lisi-password")
    keyed = kb.sign_in_key("shared-editor-key", "王五")
    editors.add_account("张三", "a-new-password", iterations=FAST)
    editors.remove_account("李四")
    editors.set_key("another-shared-key", iterations=FAST)
    for editor in (zhang, li, keyed):
        with pytest.raises(AuthError, match="失效"):
            kb.delete(2, editor=editor)
    kb.delete(2, editor=kb.sign_in("张三", "a-new-password"))


def test_the_file_holds_only_hashes_and_is_private(kb, editors):
    path = kb.settings.home / EDITORS_FILE
    text = path.read_text(encoding="utf-8")
    assert "zhangsan-pw" not in text and "shared-editor-key" not in text and "pbkdf2_sha256$" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("content", ["[accounts\nbroken", "", "[accounts]\n"], ids=["malformed", "empty", "nobody"])
def test_an_unusable_editors_file_refuses_every_write(kb, tmp_path, content):
    (kb.settings.home / EDITORS_FILE).write_text(content, encoding="utf-8")
    before = fingerprint(kb.settings.db_path)
    with pytest.raises(AuthError):
        kb.add({"text": practice_text(960, "新")}, check_duplicates=False)
    assert fingerprint(kb.settings.db_path) == before
    assert kb.count() == 10


def test_a_shared_knowledge_base_attributes_each_sessions_changes(kb, editors):
    """The app: one KnowledgeBase, several sessions at once, each with its own editor (or none)."""
    sessions = {"张三": kb.sign_in("张三", "zhangsan-pw"), "李四": kb.sign_in("李四", "lisi-password"), "访客": None}
    barrier = threading.Barrier(len(sessions))

    def session(item) -> list[tuple[int, str]]:
        who, editor = item
        barrier.wait()
        done = []
        for i in range(5):
            try:
                rec, _ = kb.add({"text": practice_text(1000 + i, who)}, check_duplicates=False, editor=editor)
                done.append((rec.id, who))
            except AuthError:
                done.append((None, who))
        return done

    with ThreadPoolExecutor(len(sessions)) as pool:
        results = [r for rs in pool.map(session, sessions.items()) for r in rs]
    for rid, who in results:
        if who == "访客":
            assert rid is None
        else:
            assert kb.changes(record_id=rid)[0].actor == who
    assert kb.count() == 20


# -- the command line --------------------------------------------------------------------------------
def test_cli_editor_sign_in(tmp_path, model, monkeypatch, capsys):
    home = str(tmp_path / "kb")
    base = ["--home", home, "--model", str(model)]
    monkeypatch.delenv("REFORMKB_EDITOR_KEY", raising=False)
    monkeypatch.setenv("REFORMKB_PASSWORD", "zhangsan-pw")
    assert main([*base, "editors", "add", "张三"]) == 0
    assert "需要编辑登录" in capsys.readouterr().out
    monkeypatch.delenv("REFORMKB_PASSWORD")

    text = "长沙市推行企业开办“一网通办”，开办时间压缩至0.5个工作日。"
    assert main([*base, "add", text]) == 2
    assert "编辑登录" in capsys.readouterr().err
    assert main([*base, "search", "企业开办", "--mode", "keyword"]) == 0  # reading needs no sign-in
    capsys.readouterr()

    monkeypatch.setenv("REFORMKB_PASSWORD", "wrong-password")
    assert main([*base, "--user", "张三", "add", text]) == 2
    assert "不正确" in capsys.readouterr().err
    monkeypatch.setenv("REFORMKB_PASSWORD", "zhangsan-pw")
    assert main([*base, "--user", "张三", "add", text]) == 0
    capsys.readouterr()
    monkeypatch.delenv("REFORMKB_PASSWORD")

    monkeypatch.setenv("REFORMKB_EDITOR_KEY", "shared-editor-key")
    assert main([*base, "editors", "set-key"]) == 0
    assert main([*base, "--user", "王五", "delete", "1"]) == 0
    assert main([*base, "editors", "list"]) == 0
    out = capsys.readouterr().out
    assert "张三" in out and "已设置" in out
    with KnowledgeBase(home, empty=True) as kb:
        assert [c.actor for c in kb.changes()][:2] == ["王五（编辑密钥）", "张三"]


# -- sign-in that survives a page refresh (issue 15) ------------------------------------------------
def test_a_token_keeps_the_editor_signed_in_until_it_expires(tmp_path):
    editors = Editors.for_home(tmp_path)
    editors.add_account("王科长", "correct horse 9", iterations=1000)
    editor = editors.sign_in("王科长", "correct horse 9")
    token = editors.issue_token(editor, seconds=3600, now=1_000_000)
    again = Editors.for_home(tmp_path).resume(token, now=1_000_000 + 3000)  # another process, same home
    assert again is not None and again.name == "王科长"
    assert Editors.for_home(tmp_path).authorize(again, "") == "王科长"
    assert editors.resume(token, now=1_000_000 + 3601) is None  # expired
    payload, signature = token.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    assert editors.resume(f"{forged}.{signature}", now=1_000_000) is None
    assert editors.resume("not a token", now=1_000_000) is None
    assert (tmp_path / ".editor-sessions.key").stat().st_mode & 0o077 == 0  # owner only


def test_a_password_change_or_a_new_secret_ends_the_token(tmp_path):
    editors = Editors.for_home(tmp_path)
    editors.add_account("王科长", "correct horse 9", iterations=1000)
    token = editors.issue_token(editors.sign_in("王科长", "correct horse 9"))
    assert editors.resume(token) is not None
    editors.add_account("王科长", "another horse 10", iterations=1000)
    assert editors.resume(token) is None
    token = editors.issue_token(editors.sign_in("王科长", "another horse 10"))
    (tmp_path / ".editor-sessions.key").unlink()  # the administrator ends every session
    assert editors.resume(token) is None
