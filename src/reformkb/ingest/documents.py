"""Reading bulletin files into plain text, safely, whatever form they arrive in.

:func:`read_pages` chooses the reader by the file's content (magic bytes, :mod:`sniff`), not by its
name alone: .txt, .docx and text PDFs here; scanned PDFs and photos through offline OCR
(:mod:`ocr`); OFD (:mod:`ofd`); Word 97 .doc, WPS and RTF through LibreOffice (:mod:`office`);
saved web pages (:mod:`webpage`). A name whose suffix says one form while the content is another is
read as what it is, with a warning. Every failure is an :class:`InputError` that names the file and
says what to do. Limits (:class:`ReadLimits`): the file size, decompression of zip containers
counted while reading, OCR pages and seconds per file, image pixels, conversion time.
"""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

from reformkb.errors import InputError
from reformkb.ingest import sniff as forms
from reformkb.ingest.limits import Progress, ReadLimits
from reformkb.ingest.pages import Page, PagedText

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
BULLETIN_SUFFIXES = (".txt", ".docx", ".pdf", ".doc", ".wps", ".rtf", ".ofd", ".html", ".htm", ".mhtml", ".mht",
                     *IMAGE_SUFFIXES)
MAX_DOCX_UNPACKED = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200

#: The form each accepted suffix promises (the content decides; a mismatch is reported).
SUFFIX_FORMS = {".txt": forms.TEXT, ".text": forms.TEXT, ".md": forms.TEXT, "": forms.TEXT, ".docx": forms.DOCX,
                ".pdf": forms.PDF, ".doc": forms.DOC, ".wps": forms.DOC, ".rtf": forms.RTF, ".ofd": forms.OFD,
                ".html": forms.HTML, ".htm": forms.HTML, ".mhtml": forms.MHTML, ".mht": forms.MHTML,
                **{suffix: forms.IMAGE for suffix in IMAGE_SUFFIXES}}
ACCEPTED = "专报可以是 .txt、.docx、.doc、.wps、.pdf（含扫描件）、.ofd、网页（.html/.htm/.mhtml）或图片（.png/.jpg/.tif/.bmp）"


def _mostly_utf8(data: bytes) -> bool:
    """True when ``data`` is UTF-8 text with a few bad bytes (GBK text fails at almost every character)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good >= 4 and 4 * bad <= good


def _looks_like_big5(data: bytes, text: str) -> bool:
    """True when GB18030 text is really Big5 read wrongly: real GBK text is almost all common (GB2312
    level-1) characters, Big5 bytes read as GBK give mostly rare ones, and the bytes decode as Big5."""
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if len(cjk) < 8:
        return False
    common = 0
    for ch in cjk:
        try:
            common += ch.encode("gb2312")[0] < 0xD8  # GB2312 level 1: the 3,755 most common characters
        except UnicodeEncodeError:
            pass
    if common >= 0.7 * len(cjk):
        return False
    try:
        data.decode("big5")
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (covers GBK).

    A UTF-8 file with damaged bytes is refused (decoding it as GB18030 would store mojibake), except
    for a character cut off at the very end (a truncated copy), which is dropped.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{name} 的 UTF-16 编码已损坏：请用记事本打开后“另存为 UTF-8”再导入。") from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{name} 不是文本文件（含有二进制内容）：{ACCEPTED}。")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if _mostly_utf8(data):
        if utf8_error.reason == "unexpected end of data" and utf8_error.end == len(data):
            log.warning("%s: incomplete UTF-8 character at the end dropped", name)
            return data[: utf8_error.start].decode("utf-8-sig")
        raise InputError(
            f"{name} 是 UTF-8 编码，但第 {utf8_error.start + 1} 字节处有无效的字节（文件可能已损坏或被截断）："
            "请用记事本打开、另存为 UTF-8 后再导入。"
        )
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        if _looks_like_big5(data, text):
            raise InputError(f"{name} 似乎是繁体中文 Big5 编码（按 GBK 读出来是乱码）：请用记事本打开、"
                             "“另存为 UTF-8”后再导入。")
        log.info("%s decoded as gb18030", name)
        return text
    raise InputError(f"{name} 的文字编码无法识别（不是 UTF-8 或 GBK）：请用记事本“另存为 UTF-8”后再导入。")


def _check_binary_text(text: str, name: str) -> None:
    if not text:
        return
    odd = sum(1 for ch in text[:20000] if (ord(ch) < 32 and ch not in "\n\r\t\f") or ch == "\ufffd")
    if odd / min(len(text), 20000) > 0.02:
        raise InputError(f"{name} 看起来不是文本文件（含有大量乱码或控制字符）：请确认文件格式后再导入。")


HEADING_MARK = "# "  # how a bold or heading-styled paragraph is written (see read_docx)
_DOCX_HEADING_CHARS = 40


def read_docx(data: bytes, name: str, max_unpacked: int = MAX_DOCX_UNPACKED) -> str:
    """The text of a .docx in document order: paragraphs, and tables where they stand.

    A paragraph that is bold throughout, or has a heading style (Heading 1, 标题 2 …), and is short,
    is written as a heading line, ``# `` in front (the bulletin parser takes it as a heading, a place
    heading when it names a place). A table row is one line with its cells separated by tabs (a cell
    merged over several columns counted once). Paragraphs are separated by a blank line.

    Refused before anything is decompressed: more than ``max_unpacked`` bytes unpacked, or a
    compression ratio above MAX_ZIP_RATIO. (Headers that understate the sizes do not help a zip
    bomb either: reading stops at the stated size and the checksum then fails.)
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        total = sum(i.file_size for i in zf.infolist())
        packed = sum(i.compress_size for i in zf.infolist()) or 1
    except zipfile.BadZipFile:
        raise InputError(f"{name} 不是有效的 .docx 文件（可能已损坏、加密或只是改了扩展名）：请用 Word 打开后另存为 .docx 再导入。") from None
    if total > max_unpacked or total / packed > MAX_ZIP_RATIO:
        raise InputError(f"{name} 解压后过大（{total // (1024 * 1024)} MB），疑似异常文件，已拒绝：请检查文件来源。")
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        parts = []
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                parts.append(_docx_paragraph(Paragraph(element, document)))
            elif tag == "tbl":
                parts.extend(_docx_rows(Table(element, document)))
    except Exception as exc:  # python-docx raises many types for broken packages
        raise InputError(f"{name} 无法作为 Word 文档读取（{type(exc).__name__}）：请用 Word 打开后另存为 .docx 再导入。") from exc
    return "\n\n".join(parts)


def _docx_paragraph(paragraph) -> str:
    text = paragraph.text
    stripped = text.strip()
    if not stripped or len(stripped) > _DOCX_HEADING_CHARS:
        return text
    style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
    runs = [r for r in paragraph.runs if r.text.strip()]
    bold = bool(runs) and all(r.bold or (r.bold is None and r.style is not None and r.style.font.bold) for r in runs)
    if bold or style.startswith(("heading", "标题", "title")):
        return HEADING_MARK + stripped
    return text


def _docx_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is listed once per column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append("\t".join(cells))
    return rows


def read_pdf(data: bytes, name: str) -> str:
    """Text of every page of a PDF, pages separated by a form feed."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # only an owner password: readable without one
            except Exception:  # unsupported cipher, missing crypto library …
                opened = 0
            if not opened:
                raise InputError(f"{name} 已加密：请先解除密码保护（或另存为未加密的 PDF）再导入。")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{name} 不是有效的 PDF 文件（{exc}）：请确认文件完整后再导入。") from exc
    except Exception as exc:  # pypdf raises assorted errors on hostile files
        raise InputError(f"{name} 无法作为 PDF 读取（{type(exc).__name__}）：请确认文件完整后再导入。") from exc
    text = "\f".join(pages)
    if not text.strip():
        raise InputError(f"{name} 中没有可提取的文字（可能是扫描件图片）：请先做文字识别（OCR）或改用 Word 版本导入。")
    return text


def _load(source: Path | bytes, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise InputError(f"找不到文件 {path}：请检查路径。")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{name} 有 {size / 1024 / 1024:.1f} MB，超过上限 {max_bytes / 1024 / 1024:.0f} MB：请拆分文件，"
                "或由管理员调高 REFORMKB_MAX_FILE_BYTES。"
            )
        data = path.read_bytes()
    else:
        data, name = source, name or "上传的文件"
        if len(data) > max_bytes:
            raise InputError(f"{name} 超过上限 {max_bytes / 1024 / 1024:.0f} MB：请拆分文件后再导入。")
    if not data.strip():
        raise InputError(f"{name} 是空文件：请选择有内容的专报。")
    return data, name


def _read_docx_checked(data: bytes, name: str, limits: ReadLimits) -> PagedText:
    from reformkb.ingest.safezip import open_zip

    open_zip(data, name, "Word 文档", ".docx", limits)  # every member decompressed once within the limits
    return PagedText([Page(1, read_docx(data, name, max(MAX_DOCX_UNPACKED, limits.max_unpacked_bytes)))], "Word 文档")


def _read_as(form: str, data: bytes, name: str, suffix: str, limits: ReadLimits, progress: Progress | None) -> PagedText:
    """The reader for ``form``."""
    if form == forms.TEXT:
        text = decode_text(data, name)
        _check_binary_text(text, name)
        return PagedText([Page(1, text)], "文本")
    if form == forms.DOCX:
        return _read_docx_checked(data, name, limits)
    if form == forms.PDF:
        from reformkb.ingest.ocr import read_pdf_pages

        return read_pdf_pages(data, name, read_pdf, limits, progress)
    if form == forms.IMAGE:
        from reformkb.ingest.ocr import read_image

        return read_image(data, name, limits, progress)
    if form == forms.OFD:
        from reformkb.ingest.ofd import read_ofd

        return read_ofd(data, name, limits, progress)
    if form in (forms.DOC, forms.RTF):
        from reformkb.ingest.office import convert_to_docx

        label = forms.LABELS[form]
        kind = suffix if SUFFIX_FORMS.get(suffix) == form else {forms.DOC: ".doc", forms.RTF: ".rtf"}[form]
        converted = convert_to_docx(data, name, kind, label, limits)
        result = _read_docx_checked(converted, name, limits)
        result.form = label
        return result
    if form in (forms.HTML, forms.MHTML):
        from reformkb.ingest.webpage import read_html

        return read_html(data, name, limits, mhtml=form == forms.MHTML)
    if form == forms.ENCRYPTED_OFFICE:
        raise InputError(f"{name} 已加密（有打开密码）：请在 Word / WPS 中去掉密码、另存为 .docx 后再导入。")
    raise InputError(f"{name} 的内容不是可以识别的专报格式（{forms.LABELS[form]}）：{ACCEPTED}。")


def read_pages(source: Path | bytes, name: str | None = None, max_bytes: int = 20 * 1024 * 1024, *,
               limits: ReadLimits | None = None, progress: Progress | None = None) -> PagedText:
    """The text of a bulletin file (a path, or bytes with its file name), page by page.

    ``progress(done, total)`` is called after each page that needed OCR. The reader is chosen by the
    content; the suffix must be one of SUFFIX_FORMS, or the content a form that is read anyway.
    """
    limits = limits or ReadLimits(max_file_bytes=max_bytes)
    data, name = _load(source, name, min(max_bytes, limits.max_file_bytes))
    suffix = Path(name).suffix.lower()
    expected = SUFFIX_FORMS.get(suffix)
    form = forms.sniff(data)
    if form in (forms.ZIP, forms.OLE, forms.UNKNOWN) or (form == forms.TEXT and expected not in (None, forms.TEXT)):
        # Not recognisable (damaged, or binary of another kind): the name's reader says what is wrong.
        if expected is None:
            raise InputError(f"不支持的文件类型 {suffix or '（无扩展名）'}：{ACCEPTED}，案例表请用 .jsonl 或 .csv。")
        form = expected
    if form != expected and not (expected == forms.DOC and form == forms.RTF):  # RTF saved as .doc is common
        label = forms.LABELS[form]
        try:
            result = _read_as(form, data, name, suffix, limits, progress)
        except InputError as exc:
            if expected is None:
                raise
            shown = "PDF 文件" if suffix == ".pdf" else f"{suffix or '无扩展名'} 文件"
            raise InputError(
                f"{name} 不是有效的 {shown}：内容看起来是{label}，但也无法按{label}读取（{str(exc).removeprefix(name).strip()}）"
            ) from exc
        result.warnings.insert(0, f"{name} 的扩展名是 {suffix or '（无）'}，内容却是{label}：已按{label}读取。")
    else:
        result = _read_as(form, data, name, suffix, limits, progress)
    if not result.text.strip():
        raise InputError(f"{name} 中没有文字：请检查文件内容。")
    for warning in result.warnings:
        log.warning("%s", warning)
    return result


def read_document(source: Path | bytes, name: str | None = None, max_bytes: int = 20 * 1024 * 1024, *,
                  limits: ReadLimits | None = None, progress: Progress | None = None) -> str:
    """The text of a bulletin file given as a path or as bytes with its file name (pages separated by form feeds)."""
    return read_pages(source, name, max_bytes, limits=limits, progress=progress).text
