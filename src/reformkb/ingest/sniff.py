"""What a file is, from its first bytes (magic numbers), not from its name.

:func:`sniff` returns one of the FORM constants below. Zip containers are told apart by their
members (``word/document.xml`` for .docx, ``OFD.xml`` for OFD), OLE2 compound files by whether they
hold an encrypted OOXML package (a password-protected .docx) or a Word/WPS document.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile

TEXT, PDF, DOCX, OFD, DOC, ENCRYPTED_OFFICE, RTF, HTML, MHTML, IMAGE, ZIP, OLE, UNKNOWN = (
    "text", "pdf", "docx", "ofd", "doc", "encrypted-office", "rtf", "html", "mhtml", "image", "zip", "ole", "unknown")

#: What each form is called in messages.
LABELS = {TEXT: "文本文件", PDF: "PDF 文件", DOCX: "Word 文档（.docx）", OFD: "OFD 文件", DOC: "Word 97 / WPS 文档",
          ENCRYPTED_OFFICE: "加密的 Office 文档", RTF: "RTF 文档", HTML: "网页", MHTML: "网页（MHTML）", IMAGE: "图片",
          ZIP: "压缩包", OLE: "Office 二进制文件", UNKNOWN: "未知格式的文件"}

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF87a", b"GIF89a")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_EXECUTABLE = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")


def _zip_form(data: bytes) -> str:
    try:
        names = {n.lower() for n in zipfile.ZipFile(io.BytesIO(data)).namelist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return ZIP  # damaged: the reader chosen by the name reports it
    if "word/document.xml" in names or "[content_types].xml" in names:
        return DOCX
    if "ofd.xml" in names:
        return OFD
    return ZIP


def _ole_form(data: bytes) -> str:
    """DOC for a plausible compound file, ENCRYPTED_OFFICE for an encrypted OOXML package, else OLE (damaged)."""
    if len(data) < 512:
        return OLE
    major, byte_order, sector_shift = struct.unpack_from("<HHH", data, 26)
    if major not in (3, 4) or byte_order != 0xFFFE or sector_shift not in (9, 12):
        return OLE
    if "EncryptedPackage".encode("utf-16-le") in data:
        return ENCRYPTED_OFFICE
    return DOC


def sniff(data: bytes) -> str:
    head = data[:4096]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_form(data)
    if head.startswith(_OLE_MAGIC):
        return _ole_form(data)
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return IMAGE
    if head.lstrip().startswith(b"{\\rtf"):
        return RTF
    if head.startswith(_EXECUTABLE):
        return UNKNOWN
    text_head = head.lstrip(b"\xef\xbb\xbf")
    if re.match(rb"^(From|MIME-Version|Content-Type|Subject|Date|Snapshot-Content-Location)\s*:", text_head, re.I) \
            and re.search(rb"multipart/related", head, re.I):
        return MHTML
    if _HTML_START.match(text_head):
        return HTML
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return UNKNOWN
    return TEXT
