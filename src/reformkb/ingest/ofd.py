"""OFD (GB/T 33190, the national fixed-layout format) -> text, page by page.

An OFD is a zip of XML parts: ``OFD.xml`` names the document root (``Doc_0/Document.xml``), which
lists the pages (``Pages/Page_0/Content.xml``) and their templates. Text is in ``TextObject``
elements (``Boundary="x y w h"``, ``Size``) holding ``TextCode`` runs (``X``, ``Y`` within the
boundary, ``DeltaX`` spacing). The runs of a page, template included, are put in reading order by
their geometry (:mod:`reformkb.ingest.layout`). The zip is opened with :mod:`safezip` limits; XML is
parsed without entities, DTDs or network access. Encrypted documents, and documents with no text
(only a seal or scanned images, which are recognised when the OCR engine is installed), get a message.
"""
from __future__ import annotations

import logging
import posixpath
import re

from reformkb.errors import InputError
from reformkb.ingest.layout import Box, paragraphs
from reformkb.ingest.limits import DEFAULT_LIMITS, Progress, ReadLimits
from reformkb.ingest.pages import OCR, TEXT, Page, PagedText
from reformkb.ingest.safezip import SafeZip, open_zip

log = logging.getLogger(__name__)

LABEL = "OFD 文件"
_NUMBER = re.compile(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?")


def _parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def _xml(z: SafeZip, member: str):
    from lxml import etree

    try:
        return etree.fromstring(z.read(member), _parser())
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{z.name} 中的 {member} 不是有效的 XML（{exc}）：文件可能已损坏或已加密，请用 OFD 阅读器另存后再导入。") from exc


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element, name: str):
    return [e for e in element if _local(e.tag) == name]


def _descendants(element, name: str):
    return [e for e in element.iter() if _local(e.tag) == name]


def _text_of(element, name: str) -> str:
    found = _descendants(element, name)
    return (found[0].text or "").strip() if found else ""


def _numbers(value: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(value or "")]


def _delta_sum(value: str | None, count: int) -> float:
    """Total advance of ``count - 1`` gaps from a DeltaX list ("g 3 4.2" repeats 4.2 three times)."""
    tokens, values = (value or "").split(), []
    i = 0
    while i < len(tokens):
        if tokens[i] == "g" and i + 2 < len(tokens):
            values += [float(tokens[i + 2])] * int(float(tokens[i + 1]))
            i += 3
        else:
            try:
                values.append(float(tokens[i]))
            except ValueError:
                pass
            i += 1
    return sum(values[: max(count - 1, 0)])


def _resolve(base: str, loc: str) -> str:
    """A location relative to the part at ``base`` (absolute locations start at the package root)."""
    loc = (loc or "").strip().replace("\\", "/")
    if loc.startswith("/"):
        return posixpath.normpath(loc.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), loc))


def _boxes(page) -> list[Box]:
    """One box per TextCode run of a page (CTM translation applied; rotation and scale ignored)."""
    boxes = []
    for obj in _descendants(page, "TextObject"):
        bx, by, bw, bh = (_numbers(obj.get("Boundary")) + [0, 0, 0, 0])[:4]
        size = (_numbers(obj.get("Size")) or [bh or 3.5])[0]
        ctm = _numbers(obj.get("CTM"))
        sx, sy = (ctm[0], ctm[3]) if len(ctm) == 6 else (1.0, 1.0)
        for code in _children(obj, "TextCode"):
            text = "".join(code.itertext())
            if not text.strip():
                continue
            x, y = (_numbers(code.get("X")) or [0.0])[0], (_numbers(code.get("Y")) or [size])[0]
            advance = _delta_sum(code.get("DeltaX"), len(text)) or size * max(len(text) - 1, 0)
            x0, baseline = bx + x * sx, by + y * sy
            height = size * abs(sy)
            boxes.append(Box(x0, baseline - height, x0 + (advance + size) * abs(sx), baseline, text))
    return boxes


def _images(z: SafeZip, page, media: dict[str, str]) -> list[bytes]:
    out = []
    for obj in _descendants(page, "ImageObject"):
        member = media.get(obj.get("ResourceID", ""))
        if member:
            out.append(z.read(member))
    return out


def _media(z: SafeZip, document, doc_loc: str) -> dict[str, str]:
    """Resource ID -> zip member of every MultiMedia file named in the document's resource parts."""
    media: dict[str, str] = {}
    for tag in ("PublicRes", "DocumentRes"):
        for ref in _descendants(document, tag):
            res_loc = z.find(_resolve(doc_loc, ref.text or ""))
            if not res_loc:
                continue
            res = _xml(z, res_loc)
            base = res.get("BaseLoc", "")
            for mm in _descendants(res, "MultiMedia"):
                file_loc = _text_of(mm, "MediaFile")
                member = z.find(_resolve(res_loc, posixpath.join(base, file_loc) if base else file_loc))
                if member:
                    media[mm.get("ID", "")] = member
    return media


def read_ofd(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS, progress: Progress | None = None) -> PagedText:
    """The text of every page of an OFD document, in page and reading order."""
    z = open_zip(data, name, LABEL, "OFD", limits)
    root_loc = z.find("OFD.xml")
    if not root_loc:
        raise InputError(f"{name} 不是有效的 OFD 文件（缺少 OFD.xml）：请用 OFD 阅读器打开后另存，再导入。")
    root = _xml(z, root_loc)
    if any(n.lower().endswith("encryptions.xml") for n in z.names()) or _descendants(root, "Encryptions"):
        raise InputError(f"{name} 是加密的 OFD 文件：请在 OFD 阅读器中解除加密（或另存为未加密的 OFD / PDF）后再导入。")
    body = (_descendants(root, "DocBody") or [None])[0]
    doc_ref = _text_of(body, "DocRoot") if body is not None else ""
    doc_loc = z.find(_resolve(root_loc, doc_ref)) if doc_ref else None
    if not doc_loc:
        raise InputError(f"{name} 不是有效的 OFD 文件（找不到 DocRoot 指向的文档）：请用 OFD 阅读器打开后另存，再导入。")
    title = _text_of(body, "Title")
    document = _xml(z, doc_loc)
    templates = {t.get("ID"): z.find(_resolve(doc_loc, t.get("BaseLoc", ""))) for t in _descendants(document, "TemplatePage")}
    page_refs = [p for pages in _descendants(document, "Pages") for p in _children(pages, "Page")]
    if not page_refs:
        raise InputError(f"{name} 中没有页面：请用 OFD 阅读器确认文件内容后再导入。")
    _check_page_count(name, len(page_refs), limits)
    media = None
    pages: list[Page] = []
    scans: list[tuple[int, list[bytes]]] = []
    for number, ref in enumerate(page_refs, 1):
        page_loc = z.find(_resolve(doc_loc, ref.get("BaseLoc", "")))
        if not page_loc:
            log.warning("%s: page %d (%s) is missing", name, number, ref.get("BaseLoc"))
            pages.append(Page(number, "", TEXT))
            continue
        page = _xml(z, page_loc)
        boxes = []
        for tpl in _descendants(page, "Template"):
            tpl_loc = templates.get(tpl.get("TemplateID"))
            if tpl_loc:
                boxes += _boxes(_xml(z, tpl_loc))
        boxes += _boxes(page)
        text = "\n".join(paragraphs(boxes))
        pages.append(Page(number, text, TEXT))
        if not text.strip():
            if media is None:
                media = _media(z, document, doc_loc)
            images = _images(z, page, media)
            if images:
                scans.append((number, images))
    result = PagedText(pages, "OFD", title=title)
    if scans:
        _recognise_scans(result, scans, name, limits, progress)
    if not result.text.strip():
        signed = any("sign" in n.lower() for n in z.names())
        what = "只有签章，没有正文文字" if signed else "没有可提取的文字"
        raise InputError(f"{name} 中{what}：请用 OFD 阅读器打开确认，或改用 Word / PDF 版本导入。")
    return result


def _recognise_scans(result: PagedText, scans: list[tuple[int, list[bytes]]], name: str, limits: ReadLimits,
                     progress: Progress | None) -> None:
    """OCR of the pages that hold only images (a scan saved as OFD)."""
    from reformkb.ingest.ocr import OcrClock, check_ocr_pages, load_frame, open_image, recognise

    check_ocr_pages(name, len(scans), limits)
    clock = OcrClock(name, len(scans), limits, progress)
    for number, images in scans:
        texts = []
        for data in images:
            image, _ = open_image(data, f"{name} 第 {number} 页", limits)
            texts.append(recognise(load_frame(image, name, number - 1, limits)))
        result.pages[number - 1] = Page(number, "\n".join(t for t in texts if t), OCR)
        clock.tick()
    result.form = "OFD（扫描件）"
    result.warnings.append(f"{name} 有 {len(scans)} 页是扫描图片，已做文字识别，请核对识别出的文字。")


def _check_page_count(name: str, count: int, limits: ReadLimits) -> None:
    if count > 10 * limits.max_ocr_pages:
        raise InputError(f"{name} 有 {count} 页，超过上限 {10 * limits.max_ocr_pages} 页：请拆分文件后再导入。")
