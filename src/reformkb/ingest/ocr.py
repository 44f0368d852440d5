"""Offline OCR of scanned pages and photos: images (.png/.jpg/.tif/.bmp, multi-page TIFF) and PDF pages.

The engine is RapidOCR (``rapidocr-onnxruntime``): the PP-OCRv4 Chinese detection and recognition
models ship inside its wheel and run on onnxruntime, so nothing is downloaded, ever. PDF pages are
rendered with PDFium (``pypdfium2``, self-contained wheel). A PDF whose pages mix a text layer and
scanned images keeps the text layer where it has one and recognises the others.

Bounds (:class:`ReadLimits`): pages needing OCR per file (counted before any work), OCR seconds per
file (checked after each page), pixels per image (checked from the image header, before decoding).
"""
from __future__ import annotations

import functools
import io
import logging
import re
import threading
import time
import warnings
from typing import Callable, Iterator

from reformkb.errors import InputError
from reformkb.ingest.layout import boxes_from_quads, paragraphs
from reformkb.ingest.limits import DEFAULT_LIMITS, Progress, ReadLimits
from reformkb.ingest.pages import OCR, TEXT, Page, PagedText

log = logging.getLogger(__name__)

#: Pages and photos are scaled so that their longer side is at most this many pixels before OCR
#: (about 170 dpi for A4): the text of a bulletin stays legible and a page takes seconds, not minutes.
OCR_LONG_SIDE = 2000
#: A PDF page whose text layer has fewer visible characters than this is treated as a scan.
MIN_TEXT_LAYER_CHARS = 10
#: Below this mean confidence a page is tried turned (upright pages read at 0.93-0.99, turned ones near 0.65).
MIN_UPRIGHT_CONFIDENCE = 0.8
#: Scanned PDF pages are never rendered coarser than this for OCR, even when their image is.
MIN_RENDER_DPI = 100

_engine = None
_engine_lock = threading.Lock()  # one recognition at a time per process (bounded memory, and ORT sessions are shared)
_pdfium_lock = threading.Lock()  # PDFium is not thread-safe


def _ocr_engine():
    global _engine
    if _engine is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise InputError(
                "本机未安装文字识别组件（rapidocr-onnxruntime），无法读取扫描件和图片：请管理员在项目目录运行 make"
                "（或 pip install -e .）后再导入，或改用 Word / 文字版 PDF。"
            ) from exc
        _engine = RapidOCR()
    return _engine


def _run(image) -> list:
    """RapidOCR's [quad, text, score] items for one RGB image."""
    import numpy as np

    with _engine_lock:
        # No per-line orientation classifier: on crisp (bilevel) scans it takes whole upright lines for
        # upside down and turns them into garbage. Whole pages are turned instead (see recognise).
        result, _ = _ocr_engine()(np.asarray(image), use_cls=False)
    return result or []


def _confidence(result: list) -> float:
    return sum(float(item[2]) for item in result) / len(result) if result else 0.0


def _across(item) -> bool:
    """Whether a box runs across the page (a line read left to right), not down it."""
    (x0, y0), (x1, y1), (x2, y2) = item[0][0], item[0][1], item[0][2]
    return ((x1 - x0) ** 2 + (y1 - y0) ** 2) >= ((x2 - x1) ** 2 + (y2 - y1) ** 2)


def _weight(result: list) -> float:
    """Characters recognised on lines that run across the page, each counted by its confidence.

    (RapidOCR also reads a line that runs down the page, turning its crop: such a page is sideways.)"""
    return sum(len(item[1]) * float(item[2]) for item in result if _across(item))


def _upright(result: list) -> bool:
    return _confidence(result) >= MIN_UPRIGHT_CONFIDENCE and 2 * _weight(result) > _weight_all(result)


def _weight_all(result: list) -> float:
    return sum(len(item[1]) * float(item[2]) for item in result)


def _has_ink(image) -> bool:
    """Whether a page shows anything at all (more than 0.5 % dark pixels on a small copy)."""
    small = image.convert("L").resize((max(1, image.width // 8), max(1, image.height // 8)))
    dark = sum(small.histogram()[:160])
    return dark > 0.005 * small.width * small.height


def recognise(image) -> str:
    """The text of one page image (PIL), as paragraphs one per line, in reading order.

    A page read with low confidence (a scan fed upside down, a photo taken sideways) is read again
    turned by 180, 90 and 270 degrees, and the turn that reads most is kept.
    """
    image = _scaled(image.convert("RGB"))
    result = _run(image)
    if (result and not _upright(result)) or (not result and _has_ink(image)):
        # Lines across the page but read badly: upside down, most likely. No lines across: sideways.
        sideways = 2 * _weight(result) <= _weight_all(result)
        for angle in ((270, 90, 180) if sideways else (180, 270, 90)):
            turned = _run(image.rotate(angle, expand=True))
            if _weight(turned) > _weight(result):
                result = turned
                log.info("page read turned by %d degrees", angle)
            if _upright(result):
                break
    if not result:
        return ""
    quads = [[(float(x), float(y)) for x, y in item[0]] for item in result]
    text = "\n".join(fix_quotes(p) for p in paragraphs(boxes_from_quads(quads, [item[1] for item in result])))
    return correct_places(text)


@functools.lru_cache(maxsize=1)
def _counties_by_city() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every prefecture-level city (and municipality) with the full names of its counties."""
    from reformkb.ingest.regions import gazetteer

    gaz = gazetteer()
    cities = [c for p in gaz.provinces() for c in gaz.children(p) if c.level == "city"]
    cities += [p for p in gaz.provinces() if p.city == p.name]  # 北京市, 上海市 …
    return tuple((c.name, tuple(r.name for r in gaz.children(c))) for c in cities)


def _one_off(seen: str, name: str) -> bool:
    """``seen`` is ``name`` with one character other than its last (区, 县, 市) misread."""
    return (len(seen) == len(name) and seen[-1:] == name[-1:]
            and sum(a != b for a, b in zip(seen[:-1], name[:-1])) == 1)


def correct_places(text: str) -> str:
    """A county misread by one character right after its city, corrected ("宁波市勤州区" → "宁波市鄞州区").

    Only where exactly one county of that city is one character away and none is written exactly:
    OCR confuses rare characters of place names (鄞/勤), and a wrong place puts a practice in the
    wrong region.
    """
    for city, counties in _counties_by_city():
        start = text.find(city)
        while start >= 0:
            at = start + len(city)
            if not any(text.startswith(c, at) for c in counties):
                near = [c for c in counties if _one_off(text[at:at + len(c)], c)]
                if len(near) == 1:
                    log.info("OCR place corrected: %s%s -> %s%s", city, text[at:at + len(near[0])], city, near[0])
                    text = text[:at] + near[0] + text[at + len(near[0]):]
            start = text.find(city, at)
    return text


def fix_quotes(text: str) -> str:
    """Straight double quotes, which OCR reads for many curly ones, made curly again by alternation.

    The bulletin parser needs balanced “…” to know where a quoted name ends.
    """
    out, open_ = [], False
    for ch in text:
        if ch == '"':
            ch = "”" if open_ else "“"
        if ch == "“":
            open_ = True
        elif ch == "”":
            open_ = False
        out.append(ch)
    return "".join(out)


def _scaled(image):
    long_side = max(image.size)
    if long_side <= OCR_LONG_SIDE:
        return image
    factor = OCR_LONG_SIDE / long_side
    return image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))))


class OcrClock:
    """Counts OCR pages against the file's time limit and reports progress."""

    def __init__(self, name: str, total: int, limits: ReadLimits, progress: Progress | None):
        self.name, self.total, self.limits, self.progress = name, total, limits, progress
        self.start, self.done = time.monotonic(), 0

    def tick(self) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)
        elapsed = time.monotonic() - self.start
        if elapsed > self.limits.max_ocr_seconds and self.done < self.total:
            raise InputError(
                f"{self.name} 的文字识别已用 {elapsed:.0f} 秒（识别了 {self.done}/{self.total} 页），超过每个文件 "
                f"{self.limits.max_ocr_seconds:.0f} 秒的上限，已停止：请把文件拆成几份再导入，或由管理员调高 REFORMKB_MAX_OCR_SECONDS。"
            )


def check_ocr_pages(name: str, count: int, limits: ReadLimits) -> None:
    if count > limits.max_ocr_pages:
        raise InputError(
            f"{name} 有 {count} 页需要文字识别，超过每个文件 {limits.max_ocr_pages} 页的上限（约需 {count * 5 // 60 + 1} 分钟）："
            "请只导入含【战术借鉴】的几页，或把文件拆开，或由管理员调高 REFORMKB_MAX_OCR_PAGES。"
        )


# -- images --------------------------------------------------------------------------------------
def open_image(data: bytes, name: str, limits: ReadLimits):
    """The opened image and its frame count; refuses what is not an image or is too large to decode."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # Pillow warns about damaged metadata; the message below says enough
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            count = getattr(image, "n_frames", 1)
    except Image.DecompressionBombError as exc:  # Pillow's own guard, far above ours: the same answer
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{int(found.group(1)) // 1_000_000} 百万像素" if found else "像素过多"
        raise InputError(_too_many_pixels(name, pixels, limits)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise InputError(f"{name} 不是可以读取的图片（文件已损坏或格式不受支持）：请重新拍照或扫描，另存为 JPG/PNG 后再导入。") from exc
    return image, count


def _too_many_pixels(name: str, size: str, limits: ReadLimits) -> str:
    return (f"{name} 的图片有 {size}，超过上限 {limits.max_image_pixels // 1_000_000} 百万像素，已拒绝：请缩小图片"
            "（或把扫描分辨率设为 200～300 dpi）后再导入。")


def load_frame(image, name: str, index: int, limits: ReadLimits):
    from PIL import Image, ImageOps

    width, height = image.size
    if width * height > limits.max_image_pixels:
        where = f"{name} 第 {index + 1} 页" if index else name
        raise InputError(_too_many_pixels(where, f"{width}×{height} 像素", limits))
    if image.format == "JPEG":
        image.draft("RGB", (OCR_LONG_SIDE, OCR_LONG_SIDE))  # decode at a reduced scale: less memory and time
    try:
        image.load()
        frame = ImageOps.exif_transpose(image) if image.format == "JPEG" else image.copy()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InputError(f"{name} 的图片数据已损坏或不完整（{exc}）：请重新拍照或扫描后再导入。") from exc
    return _scaled(frame.convert("RGB"))


def read_image(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS, progress: Progress | None = None) -> PagedText:
    """OCR of an image file: one page per frame (a multi-page TIFF is a scan of several pages)."""
    from PIL import ImageSequence

    image, count = open_image(data, name, limits)
    check_ocr_pages(name, count, limits)
    clock = OcrClock(name, count, limits, progress)
    pages = []
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= count:
            break
        pages.append(Page(index + 1, recognise(load_frame(frame, name, index, limits)), OCR))
        clock.tick()
    return _checked(PagedText(pages, "图片" if count == 1 else f"{count} 页的图片"), name)


# -- PDF -----------------------------------------------------------------------------------------
def _open_pdf(data: bytes, name: str):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InputError(f"{name} 已加密：请先解除密码保护（或另存为未加密的 PDF）再导入。") from exc
        raise _Unrenderable(str(exc)) from exc


class _Unrenderable(Exception):
    """PDFium cannot open the file: the text extraction alone decides (and says what is wrong)."""


def pdf_layers(data: bytes, name: str) -> list[str]:
    """The text layer of each page as PDFium sees it ("" for a scanned page)."""
    with _pdfium_lock:
        pdf = _open_pdf(data, name)
        try:
            texts = []
            for index in range(len(pdf)):
                page = pdf[index]
                textpage = page.get_textpage()
                texts.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return texts
        finally:
            pdf.close()


def _render_scale(page, width: float, height: float) -> float:
    """Pixels per point to render a scanned page at: its images' own resolution (no gain in going finer),
    at least MIN_RENDER_DPI, and at most what fits OCR_LONG_SIDE."""
    import pypdfium2.raw as pdfium_c

    native = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, _, right, _ = obj.get_bounds()
        pixels, _ = obj.get_px_size()
        if right - left > 0.2 * width:
            native = max(native, pixels / (right - left))
    cap = OCR_LONG_SIDE / max(width, height, 1)
    return min(cap, max(native or cap, MIN_RENDER_DPI / 72))


def _rendered_pages(data: bytes, name: str, numbers: list[int]) -> Iterator:
    """PIL images of the 0-based pages ``numbers``, rendered for OCR (see :func:`_render_scale`)."""
    for index in numbers:
        with _pdfium_lock:
            pdf = _open_pdf(data, name)
            try:
                page = pdf[index]
                width, height = page.get_size()
                image = page.render(scale=_render_scale(page, width, height), grayscale=True).to_pil()
                page.close()
            finally:
                pdf.close()
        yield image


def needs_ocr(layer: str) -> bool:
    return sum(1 for ch in layer if not ch.isspace()) < MIN_TEXT_LAYER_CHARS


def read_pdf_pages(data: bytes, name: str, read_text_layer: Callable[[bytes, str], str],
                   limits: ReadLimits = DEFAULT_LIMITS, progress: Progress | None = None) -> PagedText:
    """Every page of a PDF: its text layer where it has one, OCR where it is a scanned image.

    ``read_text_layer`` is the PDF text extraction (pages separated by form feeds); it is used only when
    at least one page has a text layer, and PDFium's text stands in if its page count disagrees.
    """
    try:
        layers = pdf_layers(data, name)
    except _Unrenderable as exc:
        log.info("%s: PDFium cannot open it (%s); text layer only", name, exc)
        return PagedText([Page(i + 1, t, TEXT) for i, t in enumerate(read_text_layer(data, name).split("\f"))], "PDF")
    scanned = [i for i, layer in enumerate(layers) if needs_ocr(layer)]
    if not scanned:
        return PagedText([Page(i + 1, t, TEXT) for i, t in enumerate(read_text_layer(data, name).split("\f"))], "PDF")
    check_ocr_pages(name, len(scanned), limits)
    texts = list(layers)
    if len(scanned) < len(layers):
        extracted = read_text_layer(data, name).split("\f")
        if len(extracted) == len(layers):
            texts = extracted
        else:
            log.warning("%s: text extraction gave %d pages for %d; PDFium's text used", name, len(extracted), len(layers))
    pages = [Page(i + 1, texts[i], TEXT) for i in range(len(layers))]
    clock = OcrClock(name, len(scanned), limits, progress)
    for index, image in zip(scanned, _rendered_pages(data, name, scanned)):
        pages[index] = Page(index + 1, recognise(image), OCR)
        clock.tick()
    form = "扫描件 PDF" if len(scanned) == len(layers) else f"PDF（其中 {len(scanned)} 页为扫描图片）"
    result = PagedText(pages, form)
    if len(scanned) < len(layers):
        result.warnings.append(f"{name} 的第 {'、'.join(str(i + 1) for i in scanned)} 页是扫描图片，已做文字识别，请核对识别出的文字。")
    return _checked(result, name)


def _checked(result: PagedText, name: str) -> PagedText:
    if not result.text.strip():
        raise InputError(
            f"{name} 中没有可提取的文字（文字识别也没有识别出文字）：请确认图片清晰、方向正确，或改用 Word / 文字版 PDF 导入。"
        )
    return result
