"""Word 97 (.doc), WPS (.wps) and RTF files -> .docx, through LibreOffice headless.

Each conversion runs ``soffice --headless --convert-to docx`` in a fresh temporary profile whose
settings disable macro execution outright (``DisableMacrosExecution``, security level "very high"),
with no network and a time limit; the process group is killed when the limit passes. The resulting
.docx is then read like any other (zip limits included). Without LibreOffice the message says how to
convert the file by hand.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from reformkb.errors import InputError
from reformkb.ingest.limits import DEFAULT_LIMITS, ReadLimits

log = logging.getLogger(__name__)

#: Profile settings written before LibreOffice starts: no macro of any document may run.
_NO_MACROS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="SecureURL" oor:op="fuse"><value/></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    """The LibreOffice program, if installed (``REFORMKB_SOFFICE`` may name it)."""
    named = os.environ.get("REFORMKB_SOFFICE")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return shutil.which("soffice") or shutil.which("libreoffice")


def _manual(name: str, label: str) -> str:
    return (f"请用 WPS 或 Word 打开 {name}，选择“文件 → 另存为”，保存类型选“Word 文档（*.docx）”后再导入；"
            f"或请管理员在本机安装 LibreOffice（在项目目录运行 make），之后 {label} 可直接导入。")


def convert_to_docx(data: bytes, name: str, suffix: str, label: str, limits: ReadLimits = DEFAULT_LIMITS) -> bytes:
    """The .docx bytes of an office document (``suffix`` ".doc", ".wps" or ".rtf" tells LibreOffice its type)."""
    program = soffice()
    if not program:
        raise InputError(f"{name} 是 {label}，本机没有安装 LibreOffice，无法直接读取：" + _manual(name, label))
    with tempfile.TemporaryDirectory(prefix="reformkb-office-") as tmp:
        work = Path(tmp)
        profile = work / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_NO_MACROS, encoding="utf-8")
        source = work / f"input{suffix}"
        source.write_bytes(data)
        out = work / "out"
        out.mkdir()
        command = [program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--nologo",
                   "--norestore", "--nolockcheck", "--nodefault", "--convert-to", "docx:MS Word 2007 XML",
                   "--outdir", str(out), str(source)]
        env = {**os.environ, "HOME": str(work), "TMPDIR": str(work), "SAL_USE_VCLPLUGIN": "svp"}
        started = time.monotonic()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=work, env=env, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=limits.convert_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise InputError(
                f"{name} 转换超时（LibreOffice 用了 {limits.convert_timeout:.0f} 秒仍未完成，文件可能已损坏或过于复杂），已放弃："
                + _manual(name, label)
            ) from None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        log.info("%s converted by LibreOffice in %.1f s (exit %s)", name, time.monotonic() - started, proc.returncode)
        result = out / "input.docx"
        if proc.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            detail = (stderr or stdout or b"").decode("utf-8", "replace").strip().splitlines()
            log.warning("LibreOffice could not convert %s: %s", name, detail[-1] if detail else proc.returncode)
            raise InputError(f"{name} 无法作为 {label}打开（文件可能已损坏、加密，或不是 {label}）：" + _manual(name, label))
        return result.read_bytes()
