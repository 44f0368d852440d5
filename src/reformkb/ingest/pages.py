"""The result of reading a bulletin file: its text page by page, with how each page was read."""
from __future__ import annotations

from dataclasses import dataclass, field

TEXT, OCR = "text", "ocr"


@dataclass
class Page:
    """One page (or the whole document, for forms without pages) as text."""

    number: int  # 1-based
    text: str
    method: str = TEXT  # TEXT: the file's own text (text layer, markup); OCR: recognised from an image


@dataclass
class PagedText:
    """A file's text by page. ``form`` names what the file turned out to be, for messages ("扫描件 PDF")."""

    pages: list[Page]
    form: str
    title: str = ""  # a title the file itself declares (web page <title>, OFD DocInfo), else ""
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All pages, separated by a form feed (what the bulletin parser reads)."""
        return "\f".join(p.text for p in self.pages)

    @property
    def ocr_pages(self) -> int:
        return sum(1 for p in self.pages if p.method == OCR)
