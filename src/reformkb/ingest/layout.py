"""Reading order from geometry: positioned pieces of text (OCR boxes, OFD text objects) -> paragraphs.

The pieces of one page are deskewed (a phone photo is rarely straight), gathered into lines by their
vertical position, ordered left to right, and the lines joined into paragraphs the way a reader sees
them: a paragraph starts where a line is indented, where the line before it stopped short of the right
margin, after a wider gap than the usual line spacing, and at a 【…】 heading. One paragraph is one line
of the result, so the bulletin parser's line repair only has to join paragraphs broken across pages.
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass

_HEADING = re.compile(r"^【[^】]{1,12}】$")
_WORD_END = re.compile(r"[A-Za-z0-9]$")
_WORD_START = re.compile(r"^[A-Za-z0-9]")


@dataclass
class Box:
    """A piece of text and its bounding box on the page (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1e-6)

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


def skew(quads: list[list[tuple[float, float]]]) -> float:
    """The page's skew in radians: the median slope of the top edges of wide boxes (0 when none)."""
    angles = []
    for q in quads:
        (x0, y0), (x1, y1) = q[0], q[1]
        width, height = math.dist(q[0], q[1]), math.dist(q[1], q[2])
        if width > 3 * max(height, 1e-6):
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if angles else 0.0


def boxes_from_quads(quads: list[list[tuple[float, float]]], texts: list[str]) -> list[Box]:
    """Axis-aligned boxes of OCR quadrilaterals (corners clockwise from top-left), page skew removed."""
    angle = skew(quads)
    cos, sin = math.cos(-angle), math.sin(-angle)
    boxes = []
    for q, text in zip(quads, texts):
        xs = [x * cos - y * sin for x, y in q]
        ys = [x * sin + y * cos for x, y in q]
        boxes.append(Box(min(xs), min(ys), max(xs), max(ys), text))
    return boxes


@dataclass
class Line:
    boxes: list[Box]

    @property
    def x0(self) -> float:
        return min(b.x0 for b in self.boxes)

    @property
    def x1(self) -> float:
        return max(b.x1 for b in self.boxes)

    @property
    def y0(self) -> float:
        return min(b.y0 for b in self.boxes)

    @property
    def height(self) -> float:
        return statistics.median(b.height for b in self.boxes)

    @property
    def yc(self) -> float:
        return statistics.median(b.yc for b in self.boxes)

    def text(self) -> str:
        out = ""
        prev: Box | None = None
        for box in sorted(self.boxes, key=lambda b: b.x0):
            gap = box.x0 - prev.x1 if prev else 0.0
            words = _WORD_END.search(out) and _WORD_START.match(box.text)
            if prev and (gap > 1.5 * box.height or (words and gap > 0.3 * box.height)):
                out += " "
            out += box.text
            prev = box
        return out.strip()


def lines(boxes: list[Box]) -> list[Line]:
    """Boxes gathered into lines (top to bottom): a box joins the line whose centre is within half its height."""
    result: list[Line] = []
    for box in sorted((b for b in boxes if b.text.strip()), key=lambda b: (b.yc, b.x0)):
        for line in reversed(result[-3:]):
            if abs(line.yc - box.yc) < 0.5 * min(line.height, box.height) and \
                    all(box.x0 >= b.x1 - 0.3 * box.height or box.x1 <= b.x0 + 0.3 * box.height for b in line.boxes):
                line.boxes.append(box)
                break
        else:
            result.append(Line([box]))
    result.sort(key=lambda ln: ln.yc)
    return result


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def paragraphs(boxes: list[Box]) -> list[str]:
    """The page's paragraphs in reading order (see the module docstring for where one starts)."""
    page = lines(boxes)
    if not page:
        return []
    h = statistics.median(ln.height for ln in page)
    wide = [ln for ln in page if ln.x1 - ln.x0 > 8 * h] or page
    left, right = _percentile([ln.x0 for ln in wide], 0.1), _percentile([ln.x1 for ln in wide], 0.9)
    steps = [b.yc - a.yc for a, b in zip(page, page[1:])]
    spacing = statistics.median(steps) if steps else h
    out: list[str] = []
    prev: Line | None = None
    for ln in page:
        text = ln.text()
        starts = (prev is None or ln.x0 - left > 1.0 * h or right - prev.x1 > 1.5 * h
                  or ln.yc - prev.yc > 1.6 * spacing or _HEADING.match(text) or _HEADING.match(out[-1]))
        if starts:
            out.append(text)
        else:
            sep = " " if _WORD_END.search(out[-1]) and _WORD_START.match(text) else ""
            out[-1] += sep + text
        prev = ln
    return out
