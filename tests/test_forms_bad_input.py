"""Hostile and broken files in the new forms: each refused with a clear Chinese message, in bounded time
and memory, with the store unchanged (issues 13 and 16).

Memory is measured with tracemalloc (the Python allocations of the read: decompressed chunks, decoded
images, parsed text), time with a wall clock.
"""
from __future__ import annotations

import functools
import io
import os
import re
import stat
import struct
import sys
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import forms_support as fs
import pytest
from conftest import SEED
from reliability_support import fingerprint

from reformkb.errors import InputError
from reformkb.ingest.documents import read_pages
from reformkb.ingest.limits import MIB, ReadLimits

needs_font = pytest.mark.skipif(fs.cjk_font() is None, reason="no CJK font (make installs fonts-wqy-zenhei)")


def refused_import(kb, path: Path, message: str, seconds: float = 30) -> str:
    """Importing ``path`` through the facade is refused whole with ``message``, quickly; nothing is stored."""
    before = fingerprint(kb.settings.db_path)
    start = time.monotonic()
    report = kb.import_files([path])
    assert time.monotonic() - start < seconds
    assert not report.added and report.refused, report
    why = report.refused[0][1]
    assert message in why, why
    assert fingerprint(kb.settings.db_path) == before
    return why


def peak_mib(action) -> tuple[float, Exception | None]:
    """Peak Python memory (MiB) while ``action`` runs, and the InputError it raised."""
    tracemalloc.start()
    error = None
    try:
        action()
    except InputError as exc:
        error = exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / MIB, error


def _zip(members: dict[str, bytes], lie: int | None = None) -> bytes:
    """A deflated zip of ``members``; with ``lie``, every header claims that uncompressed size."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = bytearray(buf.getvalue())
    if lie is not None:
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = data.find(signature)
            while at >= 0:
                data[at + offset: at + offset + 4] = struct.pack("<I", lie)
                at = data.find(signature, at + 4)
    return bytes(data)


@functools.lru_cache(maxsize=2)
def _deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of ``size`` zero bytes, built chunk by chunk (never ``size`` bytes in memory)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MIB)
    out = [comp.compress(chunk) for _ in range(size // MIB)]
    return b"".join(out) + comp.flush()


def _bomb(name: str, size: int, claimed: int, extra: dict[str, bytes]) -> bytes:
    """A zip whose member ``name`` inflates to ``size`` bytes of zeros while its headers claim ``claimed``."""
    stream = _deflated_zeros(size)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in extra.items():
            zf.writestr(member, data)
    head = buf.getvalue()
    central_at = head.rfind(b"PK\x05\x06")
    body, entries = head[: head.find(b"PK\x01\x02")], head[head.find(b"PK\x01\x02"): central_at]
    crc = zlib.crc32(b"")
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), claimed, len(name.encode()), 0)
    offset = len(body)
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(stream), claimed,
                          len(name.encode()), 0, 0, 0, 0, 0, offset)
    count = len(extra) + 1
    entries += central + name.encode()
    start = offset + len(local) + len(name.encode()) + len(stream)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(entries), start, 0)
    return body + local + name.encode() + stream + entries + end


OFD_HEAD = {"OFD.xml": b'<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody>'
                       b"<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"}
DOCX_HEAD = {"[Content_Types].xml": b'<?xml version="1.0"?><Types/>'}


# -- zip bombs (.ofd and .docx alike) ----------------------------------------------------------------
@pytest.mark.parametrize("suffix, head, member", [
    (".ofd", OFD_HEAD, "Doc_0/Document.xml"),
    (".docx", DOCX_HEAD, "word/document.xml"),
])
@pytest.mark.parametrize("claimed", ["true", "small"])
def test_a_zip_bomb_is_stopped_while_it_inflates(kb, tmp_path, suffix, head, member, claimed):
    size = 2048 * MIB  # 2 GiB of zeros in about 2 MB
    claimed_size = size if claimed == "true" else 1000  # headers that lie cannot help it
    data = _bomb(member, size, claimed_size, head)
    assert len(data) < 4 * MIB
    peak, error = peak_mib(lambda: read_pages(data, f"bomb{suffix}"))
    assert error is not None and ("解压后过大" in str(error) or "已损坏" in str(error)), error
    assert peak < 64, peak  # a few chunks, not gigabytes
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(data)
    refused_import(kb, path, "bomb")


def test_an_xml_member_over_its_limit_is_refused_even_at_a_modest_ratio(tmp_path):
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(600_000)).encode()  # 1.7 MB, ratio ~2
    data = _zip({**OFD_HEAD, "Doc_0/Document.xml": text})
    with pytest.raises(InputError, match="解压后过大"):
        read_pages(data, "big.ofd", limits=ReadLimits(max_xml_bytes=1 * MIB))


def test_too_many_zip_members_are_refused():
    data = _zip({**OFD_HEAD, **{f"Res/{i}.xml": b"<a/>" for i in range(60)}})
    with pytest.raises(InputError, match="部件"):
        read_pages(data, "many.ofd", limits=ReadLimits(max_zip_members=50))


def test_xml_entities_in_an_ofd_are_not_expanded(kb, bulletin_ofd_parts):
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
              + ']><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>&lol9;</ofd:DocRoot>'
              "</ofd:DocBody></ofd:OFD>")
    data = _zip({**bulletin_ofd_parts, "OFD.xml": laughs.encode()})
    peak, error = peak_mib(lambda: read_pages(data, "laughs.ofd"))
    assert isinstance(error, InputError) and peak < 64


@pytest.fixture
def bulletin_ofd_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(fs.ofd_bytes(fs.excerpt(SEED.read_text(encoding="utf-8"))))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_an_encrypted_ofd_says_so(kb, tmp_path, bulletin_ofd_parts):
    path = tmp_path / "加密.ofd"
    path.write_bytes(_zip({**bulletin_ofd_parts, "Encryptions.xml": b"<Encryptions/>"}))
    refused_import(kb, path, "加密")


def test_an_ofd_with_only_a_seal_says_there_is_no_text(kb, tmp_path):
    page = (b'<?xml version="1.0"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">'
            b'<ofd:PathObject ID="2" Boundary="0 0 40 40"/></ofd:Layer></ofd:Content></ofd:Page>')
    doc = (b'<?xml version="1.0"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Pages>'
           b'<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>')
    path = tmp_path / "签章.ofd"
    path.write_bytes(_zip({**OFD_HEAD, "Doc_0/Document.xml": doc, "Doc_0/Pages/Page_0/Content.xml": page,
                           "Doc_0/Signs/Sign_0/Signature.xml": b"<Signature/>"}))
    refused_import(kb, path, "只有签章")


@pytest.mark.parametrize("parts, message", [
    ({"Doc_0/Document.xml": b"<x/>"}, "缺少 OFD.xml"),
    ({**OFD_HEAD}, "找不到 DocRoot"),
    ({**OFD_HEAD, "Doc_0/Document.xml": b"<not xml"}, "不是有效的 XML"),
])
def test_broken_ofd_packages_get_a_message(kb, tmp_path, parts, message):
    path = tmp_path / "坏.ofd"
    path.write_bytes(_zip(parts))
    refused_import(kb, path, message)


# -- images and scans -------------------------------------------------------------------------------
def _png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` × ``height`` pixels (its data is a few bytes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_a_20000_by_20000_image_is_refused_before_it_is_decoded(kb, tmp_path):
    path = tmp_path / "巨图.png"
    path.write_bytes(_png_header(20_000, 20_000))
    peak, error = peak_mib(lambda: read_pages(path))
    assert error is not None and "超过上限 60 百万像素" in str(error) and peak < 32
    refused_import(kb, path, "像素", seconds=5)


@pytest.mark.parametrize("name, data, message", [
    ("坏图.png", b"\x89PNG\r\n\x1a\n" + os.urandom(4096), "图片"),
    ("坏图.jpg", b"\xff\xd8\xff\xe0" + os.urandom(4096), "图片"),
    ("坏图.tif", b"II*\x00" + os.urandom(4096), "图片"),
])
def test_a_corrupt_image_gets_a_message(kb, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    refused_import(kb, path, message, seconds=10)


@needs_font
def test_a_truncated_photo_gets_a_message(kb, tmp_path):
    (page,) = fs.render_pages("长沙市推行企业开办“一网通办”。", width=600, height=400, size=24, margin=40)
    data = fs.photo(page)
    path = tmp_path / "半张.jpg"
    path.write_bytes(data[: len(data) // 2])
    refused_import(kb, path, "已损坏", seconds=10)


def _blank_pdf(pages: int) -> bytes:
    """An image-only PDF of ``pages`` copies of one small scanned page."""
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    one = fs.image_pdf([Image.new("L", (300, 400), 255)], dpi=50)
    page = PdfReader(io.BytesIO(one)).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_a_500_page_scan_is_refused_before_any_page_is_recognised(kb, tmp_path):
    path = tmp_path / "全年汇编.pdf"
    path.write_bytes(_blank_pdf(500))
    why = refused_import(kb, path, "500 页需要文字识别", seconds=10)
    assert "REFORMKB_MAX_OCR_PAGES" in why


@needs_font
def test_the_ocr_time_limit_stops_a_file_between_pages(tmp_path):
    pages = fs.render_pages("\n\n".join(f"长沙市推行企业开办“一网通办”第{n}项。" for n in range(3)), width=500, height=110, size=24, margin=30)
    assert len(pages) >= 2
    seen = []
    start = time.monotonic()
    with pytest.raises(InputError, match="超过每个文件 0 秒的上限") as err:
        read_pages(fs.tiff(pages), "慢.tif", limits=ReadLimits(max_ocr_seconds=0.01), progress=lambda d, t: seen.append(d))
    assert seen == [1] and "1/" in str(err.value)  # stopped after the first page
    assert time.monotonic() - start < 30


# -- .doc through LibreOffice ---------------------------------------------------------------------------
def _fake_soffice(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "soffice"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def _ole_doc() -> bytes:
    data = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + os.urandom(4096))
    data[26:32] = b"\x03\x00\xfe\xff\x09\x00"  # a well-formed compound file header, damaged contents
    return bytes(data)


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for LibreOffice")
def test_a_conversion_that_hangs_is_killed_at_the_time_limit(tmp_path, monkeypatch):
    marker = tmp_path / "still-running"
    script = _fake_soffice(tmp_path, f"sleep 30; touch {marker}")
    monkeypatch.setenv("REFORMKB_SOFFICE", str(script))
    start = time.monotonic()
    with pytest.raises(InputError, match="转换超时") as err:
        read_pages(_ole_doc(), "卡住.doc", limits=ReadLimits(convert_timeout=1))
    assert time.monotonic() - start < 10
    assert "另存为" in str(err.value)
    time.sleep(0.5)
    assert not marker.exists()  # the whole process group was killed, not just the shell


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice not installed")
def test_a_doc_libreoffice_cannot_open_gets_a_message(kb, tmp_path):
    path = tmp_path / "损坏.doc"
    path.write_bytes(_ole_doc())
    refused_import(kb, path, "无法作为 Word 97 / WPS 文档打开", seconds=120)


def test_a_password_protected_word_file_says_so(kb, tmp_path):
    data = bytearray(_ole_doc())
    data[2000:2032] = "EncryptedPackage".encode("utf-16-le")
    path = tmp_path / "加密.docx"
    path.write_bytes(bytes(data))
    refused_import(kb, path, "已加密", seconds=5)


# -- web pages ----------------------------------------------------------------------------------------
def test_a_50_mb_web_page_is_refused_by_size(kb, tmp_path):
    path = tmp_path / "巨页.html"
    with path.open("wb") as f:
        f.write(b"<html><body>")
        for _ in range(50):
            f.write(b"<p>" + "营商环境".encode() * 87_000 + b"</p>")
    assert path.stat().st_size > 50 * 1000 * 1000
    refused_import(kb, path, "超过上限", seconds=5)


def test_a_web_page_nested_thousands_deep_is_read_in_bounded_time(tmp_path):
    text = "长沙市推行企业开办“一网通办”，开办时间压缩至0.5个工作日。"
    data = ("<html><body>" + "<div>" * 20_000 + f"<p>{text}</p>" + "</div>" * 20_000 + "</body></html>").encode()
    start = time.monotonic()
    try:
        result = read_pages(data, "深.html")
    except InputError as exc:  # the parser may stop at its depth limit: then a message, not a crash
        assert "网页" in str(exc) or "正文" in str(exc)
    else:
        assert result.text
    assert time.monotonic() - start < 10


def test_a_web_page_without_an_article_says_so(kb, tmp_path):
    path = tmp_path / "空页.html"
    path.write_bytes("<html><head><title>x</title><script>var a = 1;</script></head><body><nav>首页</nav></body></html>".encode())
    refused_import(kb, path, "找不到文章正文")


# -- names that lie ---------------------------------------------------------------------------------
def test_a_docx_named_pdf_is_read_as_what_it_is(kb):
    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=3)
    result = read_pages(fs.docx_bytes(text), "专报.pdf")
    assert result.warnings and "扩展名是 .pdf" in result.warnings[0] and "Word 文档" in result.warnings[0]
    drafts, _ = kb.parse_file(fs.docx_bytes(text), "专报.pdf")
    assert len([d for d in drafts if d.kind == "practice"]) >= 3


@pytest.mark.parametrize("name, data, message", [
    ("专报.pdf", b"MZ" + os.urandom(2000), "不是有效的 PDF"),
    ("专报.docx", b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "不是有效的 .docx 文件：内容看起来是图片"),
    ("照片.jpg", b"%PDF-1.4\n" + os.urandom(2000), "不是有效的 .jpg 文件：内容看起来是PDF"),
    ("专报.ofd", b"PK\x03\x04" + os.urandom(2000), "不是有效的 OFD 文件"),
    ("专报.html", b"\x7fELF\x00" + os.urandom(2000), "不是网页文件"),
    ("专报.bin", b"\x7fELF" + os.urandom(2000), "不支持的文件类型"),
])
def test_a_name_that_lies_about_a_broken_file_gets_a_message(kb, tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    refused_import(kb, path, message, seconds=10)


# -- no document macro ever runs ----------------------------------------------------------------------
def test_each_conversion_gets_a_fresh_profile_that_disables_macros(tmp_path, monkeypatch):
    log = tmp_path / "calls"
    script = _fake_soffice(tmp_path, f'for a in "$@"; do case "$a" in -env:UserInstallation=file://*) '
                                     f'p="${{a#-env:UserInstallation=file://}}"; echo "$p" >> {log}; '
                                     f'cat "$p/user/registrymodifications.xcu" >> {log}.xcu;; esac; done; exit 1')
    monkeypatch.setenv("REFORMKB_SOFFICE", str(script))
    for _ in range(2):
        with pytest.raises(InputError, match="无法作为"):
            read_pages(_ole_doc(), "旧.doc")
    first, second = log.read_text().split()
    assert first != second and not Path(first).exists()  # a new profile each time, removed afterwards
    settings = Path(f"{log}.xcu").read_text()
    assert settings.count('oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value>') == 2
    assert settings.count('oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value>') == 2


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice not installed")
def test_the_macro_settings_are_ones_this_libreoffice_knows():
    """The profile's settings name real properties of LibreOffice's configuration schema (a typo would
    be silently ignored by LibreOffice, and macros would run at its default level)."""
    from lxml import etree

    program = Path(__import__("shutil").which("soffice")).resolve().parent
    schema = etree.parse(str(program.parent / "share" / "registry" / "main.xcd"))
    oor = "http://openoffice.org/2001/registry"
    scripting = schema.xpath('//oor:component-schema[@oor:name="Common"]/component/group[@oor:name="Security"]'
                             '/group[@oor:name="Scripting"]', namespaces={"oor": oor})
    assert scripting
    names = {p.get(f"{{{oor}}}name") for p in scripting[0].findall("prop")}
    from reformkb.ingest.office import _NO_MACROS

    for item in re.findall(r'oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="(\w+)"', _NO_MACROS):
        assert item in names, item
    assert {"DisableMacrosExecution", "MacroSecurityLevel"} <= names


def test_an_unknown_suffix_with_a_known_content_is_read_with_a_warning(kb):
    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=2)
    result = read_pages(fs.ofd_bytes(text), "专报.download")
    assert "扩展名是 .download，内容却是OFD 文件" in result.warnings[0]
    drafts, report = kb.parse_file(fs.ofd_bytes(text), "专报.download")
    assert len(drafts) >= 2 and report.warnings[0] == result.warnings[0]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("suffix, head, member", [(".ofd", OFD_HEAD, "Doc_0/Document.xml"),
                                                  (".docx", DOCX_HEAD, "word/document.xml")])
def test_a_refused_zip_bomb_keeps_the_whole_process_small(tmp_path, suffix, head, member):
    """Peak resident memory of a fresh process that imports a 2 GiB bomb with lying headers (issue 16: < 1 GiB)."""
    import subprocess

    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(_bomb(member, 2048 * MIB, 1000, head))
    # VmHWM, the peak of this process's own memory (ru_maxrss would carry the forking parent's over exec)
    code = ("import re, sys\n"
            "from reformkb.errors import InputError\n"
            "from reformkb.ingest.documents import read_pages\n"
            "try:\n    read_pages(sys.argv[1])\nexcept InputError as exc:\n    print('refused', exc)\n"
            "status = open('/proc/self/status').read()\n"
            "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) // 1024)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    refused, peak_mib = proc.stdout.splitlines()
    assert refused.startswith("refused")
    assert int(peak_mib) < 300, peak_mib
