"""Editors: who may change a knowledge base, and how they prove it.

Reading is open to everyone who can reach the knowledge base. Changing it (add, edit, delete,
undelete, import, restore from backup) is governed by ``editors.toml`` in the knowledge base's home
folder (``Settings.home``; for the project's default knowledge base that is ``kb/editors.toml``)::

    # written by `reformkb editors add NAME` and `reformkb editors set-key`
    editor_key_hash = "pbkdf2_sha256$600000$<salt>$<hash>"   # optional: a key shared by editors

    [accounts]
    "张三" = "pbkdf2_sha256$600000$<salt>$<hash>"

Policy:

* **No ``editors.toml``: single-user mode.** Every write is allowed and the audit log records the
  actor the KnowledgeBase was opened with ("local" by default, "cli" or ``--actor`` on the command
  line). A fresh install works without any set-up.
* **``editors.toml`` exists: editor mode.** Every write needs an :class:`Editor` obtained from
  :meth:`Editors.sign_in` (account name and password) or :meth:`Editors.sign_in_key` (the shared
  key, with the editor's own name for the audit log). Without one, the write raises
  :class:`~reformkb.errors.AuthError` and nothing changes. A file that cannot be read, or that
  lists nobody, refuses every write (it fails closed), and says how to fix it.

Passwords and the key are stored only as salted PBKDF2-SHA256 hashes. An :class:`Editor` carries a
proof (an HMAC with a secret of this process) tied to the account's current hash, so an Editor
cannot be made up by code that did not sign in, and it stops working when its password is changed,
its account removed, or the key replaced. Whoever can write ``editors.toml`` administers editors:
protect it with the file system (it is created readable by its owner only).
"""
from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from reformkb.errors import AuthError, InputError

log = logging.getLogger(__name__)

EDITORS_FILE = "editors.toml"
ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-SHA256; about a third of a second per sign-in
MIN_SECRET_CHARS = 8
MIN_DISTINCT_CHARS = 5  # a password of 8 spaces, or "aaaaaaaa", is no password
COMMON_SECRETS = frozenset("""password password1 passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890 87654321
11111111 88888888 66666666 00000000 qwertyui qwerty12 qwerty123 1qaz2wsx qwer1234 abcd1234 abc12345 a1234567
admin123 admin1234 iloveyou woaini520 woaini1314 zxcvbnm1 12qwaszx asdfghjk""".split())
FREE_FAILURES = 3  # consecutive failed sign-ins (per name, per client) before a delay is imposed
DELAY_BASE_S = 1.0  # the first delay; it doubles with every further failure …
DELAY_MAX_S = 60.0  # … up to this
LOCKOUT_AFTER = 10  # consecutive failures that lock a name or client out …
LOCKOUT_S = 15 * 60  # … for this long
THROTTLE_MAX_ENTRIES = 10_000  # names and clients remembered (bounded memory under a flood of made-up names)
MAX_NAME_CHARS = 40
KEY_SUFFIX = "（编辑密钥）"
SESSION_SECRET_FILE = ".editor-sessions.key"  # signs the tokens that keep an editor signed in across page loads
SESSION_SECONDS = 10 * 3600  # a working day

_SECRET = secrets.token_bytes(32)  # signs the Editors of this process; never leaves it
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\"\\]")


# -- hashing ------------------------------------------------------------------------------------------
def hash_secret(secret: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$iterations$salt$hash`` for a password or key (salt and hash in base64)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8", "surrogatepass"), salt, iterations)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"{ALGORITHM}${iterations}${b64(salt)}${b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` hashes to ``stored``; False for a wrong secret or a malformed hash."""
    try:
        algorithm, iterations, salt, digest = stored.split("$")
        if algorithm != ALGORITHM:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8", "surrogatepass"),
                                     base64.b64decode(salt, validate=True), int(iterations))
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(expected, actual)


def _waste_time(secret: str) -> None:
    """As much work as checking a password, for a name that does not exist (no timing oracle)."""
    hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8", "surrogatepass"), b"reformkb-no-such-editor", ITERATIONS)


def _now() -> float:
    return time.monotonic()


class _Throttle:
    """Consecutive failed sign-ins per name and per client, and the delay or lock-out they earn.

    Kept in the memory of the process (the app's server process shares one per knowledge base), so it
    slows down guessing through the web page; someone at the command line who can read editors.toml
    can read the hashes anyway (see docs/reliability.md, threat model).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.failures: dict[tuple[str, str], tuple[int, float]] = {}

    def check(self, keys: list[tuple[str, str]]) -> None:
        """AuthError when any of ``keys`` is locked out or still waiting out its delay."""
        now = _now()
        with self.lock:
            for key in keys:
                count, last = self.failures.get(key, (0, 0.0))
                who = "该账号" if key[0] == "name" else ("编辑密钥" if key[0] == "key" else "您的电脑")
                if count >= LOCKOUT_AFTER and now - last < LOCKOUT_S:
                    minutes = max(1, round((LOCKOUT_S - (now - last)) / 60))
                    raise AuthError(f"{who}已连续 {count} 次登录失败，已被锁定：请 {minutes} 分钟后再试，"
                                    "或请管理员重设密码（reformkb editors add 姓名）。")
                if count >= FREE_FAILURES:
                    wait = min(DELAY_BASE_S * 2 ** (count - FREE_FAILURES), DELAY_MAX_S) - (now - last)
                    if wait > 0:
                        raise AuthError(f"{who}已连续 {count} 次登录失败：请 {max(1, round(wait))} 秒后再试。")

    def failed(self, keys: list[tuple[str, str]]) -> None:
        now = _now()
        with self.lock:
            for key in keys:
                self.failures[key] = (self.failures.get(key, (0, 0.0))[0] + 1, now)
            if len(self.failures) > THROTTLE_MAX_ENTRIES:  # many made-up names: forget the settled ones
                self.failures = {k: v for k, v in self.failures.items() if now - v[1] < LOCKOUT_S}
                if len(self.failures) > THROTTLE_MAX_ENTRIES:
                    newest = sorted(self.failures.items(), key=lambda kv: kv[1][1])[-THROTTLE_MAX_ENTRIES // 2:]
                    self.failures = dict(newest)

    def succeeded(self, keys: list[tuple[str, str]]) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)


_THROTTLES: dict[Path, _Throttle] = {}
_THROTTLES_LOCK = threading.Lock()


def _throttle(path: Path) -> _Throttle:
    with _THROTTLES_LOCK:
        return _THROTTLES.setdefault(Path(os.path.abspath(path)), _Throttle())


def _proof(method: str, name: str, stored: str) -> str:
    return hmac.new(_SECRET, f"{method}\0{name}\0{stored}".encode("utf-8", "surrogatepass"), "sha256").hexdigest()


def check_name(name: str) -> str:
    """An editor's name as recorded in the audit log; InputError when unusable."""
    if not isinstance(name, str):
        raise InputError("编辑姓名应为文字。")
    name = name.strip()
    if not name:
        raise InputError("请填写编辑姓名（记入审计日志）。")
    if len(name) > MAX_NAME_CHARS or _NAME_FORBIDDEN.search(name):
        raise InputError(f"编辑姓名不能超过 {MAX_NAME_CHARS} 字，也不能含有引号、反斜杠或控制字符。")
    return name


def _check_secret(secret: str, what: str, name: str = "") -> str:
    """``secret`` if it is strong enough for a password or key; InputError saying why not."""
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
        raise InputError(f"{what}至少需要 {MIN_SECRET_CHARS} 个字符。")
    if len(set(secret) - set(" \t\n\r\u3000")) < MIN_DISTINCT_CHARS:
        raise InputError(f"{what}太简单：至少需要 {MIN_DISTINCT_CHARS} 个不同的字符（不能全是空格或同一字符）。")
    steps = {ord(b) - ord(a) for a, b in zip(secret, secret[1:])}
    if secret.lower() in COMMON_SECRETS or steps in ({1}, {-1}):
        raise InputError(f"{what}太常见（如 12345678、password），很容易被猜中：请换一个。")
    if name and name.lower() in secret.lower():
        raise InputError(f"{what}不能包含编辑姓名：请换一个。")
    return secret


# -- the signed-in editor -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Editor:
    """A signed-in editor. Obtain one from ``kb.sign_in`` / ``kb.sign_in_key``; do not construct it.

    ``name`` is what the audit log records as the actor of this editor's changes.
    """

    name: str
    method: str  # "account" | "key"
    proof: str = field(default="", repr=False, compare=False)


# -- the configuration file ---------------------------------------------------------------------------
@dataclass
class EditorConfig:
    """The parsed ``editors.toml``."""

    accounts: dict[str, str] = field(default_factory=dict)
    editor_key_hash: str = ""

    @classmethod
    def parse(cls, text: str, path: Path) -> "EditorConfig":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AuthError(f"编辑配置文件 {path} 格式有误（{exc}）：请修正，或删除后用 reformkb editors add 重新建立。") from exc
        accounts = data.get("accounts", {})
        key = data.get("editor_key_hash", "")
        if not isinstance(accounts, dict) or not all(isinstance(v, str) for v in accounts.values()) \
                or not isinstance(key, str):
            raise AuthError(f"编辑配置文件 {path} 内容有误：[accounts] 下应为“姓名 = 密码哈希”，editor_key_hash 应为文字。")
        return cls(dict(accounts), key)

    def to_toml(self) -> str:
        lines = ["# reformkb 编辑账号 / editors of this knowledge base.",
                 "# Written by `reformkb editors add|remove|set-key`; only password hashes are stored.",
                 "# While this file exists, adding, editing, deleting and importing need an editor sign-in.", ""]
        if self.editor_key_hash:
            lines.append(f"editor_key_hash = {json.dumps(self.editor_key_hash)}")
            lines.append("")
        lines.append("[accounts]")
        for name, stored in sorted(self.accounts.items()):
            lines.append(f"{json.dumps(name, ensure_ascii=False)} = {json.dumps(stored)}")
        return "\n".join(lines) + "\n"


class Editors:
    """The editors of one knowledge base, read from ``<home>/editors.toml`` (re-read when it changes)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._cache: tuple[tuple[int, int], EditorConfig] | None = None

    @classmethod
    def for_home(cls, home: Path) -> "Editors":
        return cls(Path(home) / EDITORS_FILE)

    @property
    def enabled(self) -> bool:
        """True in editor mode: the file exists in any form — also a dangling or looping link, or one
        that cannot even be looked at — so that an unreadable file fails closed. False only when
        there is certainly no such file (single-user mode)."""
        try:
            os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError:
            return True
        return True

    def config(self) -> EditorConfig:
        """The current configuration; AuthError when the file cannot be read (writes then fail closed)."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if self._cache and self._cache[0] == stamp:
                return self._cache[1]
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if not self.enabled:
                return EditorConfig()
            raise AuthError(f"编辑配置文件 {self.path} 是一个指向不存在位置的链接（共享目录未挂载？）："
                            "为安全起见，所有修改都被拒绝。请恢复链接指向的文件，或由管理员修正。") from None
        except IsADirectoryError:
            raise AuthError(f"编辑配置文件 {self.path} 是一个文件夹，不是文件：所有修改都被拒绝，请由管理员修正。") from None
        except (OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
                why = "是一个循环链接"
            elif isinstance(exc, PermissionError):
                why = "没有读取权限"
            else:
                why = f"无法读取：{exc}"
            raise AuthError(f"编辑配置文件 {self.path} {why}：为安全起见，所有修改都被拒绝。"
                            "请检查文件权限和编码（UTF-8），或由管理员修正。") from exc
        config = EditorConfig.parse(text, self.path)
        self._cache = (stamp, config)
        return config

    def names(self) -> list[str]:
        return sorted(self.config().accounts)

    # -- signing in --------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str, client: str = "") -> Editor:
        """An Editor for a configured account; AuthError for an unknown name or wrong password.

        After ``FREE_FAILURES`` consecutive failures for the name or for ``client`` (the app passes
        the browser's address) each attempt must wait a delay that doubles, and after
        ``LOCKOUT_AFTER`` the name or client is locked out for ``LOCKOUT_S``: those attempts are
        refused without checking the password.
        """
        config = self.config()
        if not self.enabled:
            raise AuthError("本知识库未设置编辑账号（单用户模式），无需登录即可修改。")
        name = (name or "").strip() if isinstance(name, str) else ""
        keys = [("name", name)] + ([("client", str(client))] if client else [])
        throttle = _throttle(self.path)
        throttle.check(keys)
        stored = config.accounts.get(name)
        password = password if isinstance(password, str) else ""
        if stored is None:
            _waste_time(password)  # so that timing does not tell which names exist
        if stored is None or not verify_secret(password, stored):
            log.warning("failed editor sign-in for %r", name)
            throttle.failed(keys)
            raise AuthError("编辑姓名或密码不正确：请重新输入。")
        throttle.succeeded(keys)
        return Editor(name, "account", _proof("account", name, stored))

    def sign_in_key(self, key: str, name: str, client: str = "") -> Editor:
        """An Editor for the shared editor key; ``name`` (the person) is recorded with the change.

        Failures are counted for the key (whoever tries it) and for ``client``, as in :meth:`sign_in`.
        """
        config = self.config()
        if not self.enabled:
            raise AuthError("本知识库未设置编辑账号（单用户模式），无需登录即可修改。")
        actor = check_name(name) + KEY_SUFFIX
        keys = [("key", "")] + ([("client", str(client))] if client else [])
        throttle = _throttle(self.path)
        throttle.check(keys)
        if not config.editor_key_hash or not verify_secret(key if isinstance(key, str) else "", config.editor_key_hash):
            log.warning("failed editor-key sign-in by %r", name)
            throttle.failed(keys)
            raise AuthError("编辑密钥不正确：请向管理员确认。")
        throttle.succeeded(keys)
        return Editor(actor, "key", _proof("key", actor, config.editor_key_hash))

    def authorize(self, editor: Editor | None, default_actor: str) -> str:
        """The actor to record for a write by ``editor``; AuthError if the write is not allowed.

        Single-user mode: the editor's name if one is given, else ``default_actor``.
        """
        if not self.enabled:
            return editor.name if isinstance(editor, Editor) else default_actor
        config = self.config()
        if not config.accounts and not config.editor_key_hash:
            raise AuthError(f"编辑配置文件 {self.path} 中没有任何编辑账号：请先运行 reformkb editors add 姓名。")
        if editor is None:
            raise AuthError("修改知识库需要编辑登录：请先用编辑账号登录（命令行：--user 姓名，或设置 REFORMKB_EDITOR_KEY）。")
        if not isinstance(editor, Editor):
            raise AuthError("无效的编辑登录：请重新登录。")
        stored = config.accounts.get(editor.name) if editor.method == "account" else config.editor_key_hash
        if not stored or not hmac.compare_digest(editor.proof, _proof(editor.method, editor.name, stored)):
            raise AuthError("编辑登录已失效（账号或密码已变更）：请重新登录。")
        return editor.name

    # -- administration (whoever can write the file) -------------------------------------------------
    def _write(self, config: EditorConfig) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(config.to_toml())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._cache = None

    def add_account(self, name: str, password: str, iterations: int = ITERATIONS) -> str:
        """Add an account or change its password (creating the file, i.e. entering editor mode)."""
        name = check_name(name)
        config = self.config() if self.enabled else EditorConfig()
        config.accounts[name] = hash_secret(_check_secret(password, "密码", name), iterations)
        self._write(config)
        return name

    def remove_account(self, name: str) -> None:
        config = self.config()
        if name not in config.accounts:
            raise InputError(f"没有名为“{name}”的编辑账号。现有账号：{'、'.join(sorted(config.accounts)) or '（无）'}。")
        del config.accounts[name]
        self._write(config)

    def set_key(self, key: str, iterations: int = ITERATIONS) -> None:
        """Set (or replace) the shared editor key; sessions signed in with the old key stop working."""
        config = self.config() if self.enabled else EditorConfig()
        config.editor_key_hash = hash_secret(_check_secret(key, "编辑密钥"), iterations)
        self._write(config)

    def clear_key(self) -> None:
        config = self.config()
        config.editor_key_hash = ""
        self._write(config)

    # -- sign-in that outlives a page refresh ------------------------------------------------------------
    # A browser keeps a token: “<payload>.<signature>”, the payload the editor's name, sign-in method and
    # expiry (base64 of JSON), the signature an HMAC-SHA256 with a secret kept in the knowledge base's home
    # (``SESSION_SECRET_FILE``, readable by its owner only) over the payload and the account's current
    # password hash. So a token cannot be made without the secret, ends at its expiry, and stops working
    # when the password (or the shared key) is changed or the account removed; deleting the secret file
    # ends every session at once.
    def _session_secret(self) -> bytes:
        path = self.path.parent / SESSION_SECRET_FILE
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise AuthError(f"无法读取登录密钥文件 {path}（{exc}）：请删除该文件，所有人重新登录即可。") from exc
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # never replaces a secret another process wrote meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return bytes.fromhex(path.read_text(encoding="ascii").strip())

    def _stored_for(self, method: str, name: str) -> str:
        config = self.config()
        return (config.accounts.get(name) if method == "account" else config.editor_key_hash) or ""

    def _token_signature(self, payload: str, stored: str) -> str:
        return hmac.new(self._session_secret(), f"{payload}\0{stored}".encode("utf-8"), "sha256").hexdigest()

    def issue_token(self, editor: Editor, seconds: int = SESSION_SECONDS, now: float | None = None) -> str:
        """A token for the browser of a signed-in ``editor``, valid for ``seconds`` (a working day)."""
        self.authorize(editor, "")
        expires = int((time.time() if now is None else now) + seconds)
        data = json.dumps({"n": editor.name, "m": editor.method, "e": expires}, ensure_ascii=False)
        payload = base64.urlsafe_b64encode(data.encode("utf-8")).decode("ascii").rstrip("=")
        return f"{payload}.{self._token_signature(payload, self._stored_for(editor.method, editor.name))}"

    def resume(self, token: str, now: float | None = None) -> Editor | None:
        """The Editor a token from :meth:`issue_token` stands for, or None when it is malformed, forged,
        expired, or its account's password (or the key) has changed since."""
        if not self.enabled or not isinstance(token, str) or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8"))
            name, method, expires = data["n"], data["m"], int(data["e"])
            stored = self._stored_for(method, name) if method in ("account", "key") else ""
        except (ValueError, KeyError, TypeError, AuthError):
            return None
        if not stored or not hmac.compare_digest(signature, self._token_signature(payload, stored)):
            return None
        if expires < (time.time() if now is None else now):
            return None
        return Editor(name, method, _proof(method, name, stored))
