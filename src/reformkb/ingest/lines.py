"""Text repair: the extracted text of a bulletin as its logical lines (paragraphs, headings, masthead).

What PDF and plain-text extraction leave behind, and what :func:`repair` does about it, in time
linear in the length of the text:

- **Pages.** A form feed (how :func:`~reformkb.ingest.documents.read_pdf` separates pages) or a
  page-number line (``- 3 -``, ``第 3 页``, ``3``) ends a page; page-number lines are dropped.
- **Running headers and footers** are lines that repeat *at page boundaries*: among the first and
  last two lines of the pages, a short line without a sentence ending (digits ignored, so
  ``专报 第 3 页`` repeats too) that occurs at two or more boundaries, or at one boundary and in the
  masthead (the title printed again on top of page 2). Only those occurrences are dropped: the same
  words inside a page are text (four practices that end in the same wrapped line ``压缩至1个工作日。``
  keep it).
- **Broken lines** are joined into their paragraph. A line continues the one before when that one
  leaves a sentence open (no sentence ending, an unclosed “ 《 or （), or when the document is wrapped
  at a fixed width and the line before is full (so a sentence that happens to end at the margin does
  not end the paragraph), unless the line starts a new unit: a heading, an enumerator (``1.``,
  ``（一）``), an indent, a footer, or a place name after a finished sentence. A short line without
  punctuation and without a verb (a masthead line, a heading, a place name alone) stands alone. No paragraph grows past
  :data:`MAX_PARAGRAPH_CHARS` by joining, so a document without sentence endings never becomes one
  paragraph.
- **Spaces** a PDF puts between Chinese characters and figures (``由 20 个工作日``) are removed;
  spaces between Latin words stay. A line with tab characters is a table row (how
  :func:`~reformkb.ingest.documents.read_docx` writes one) and keeps its tabs.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

from reformkb.ingest.masthead import find_date, find_issue, is_issue_or_date, strip_meta
from reformkb.ingest.sections import heading_of

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"，。、；：？！“”‘’（）《》【】—…·「」『』"
_NEAR_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])[ \u3000\xa0]+|[ \u3000\xa0]+(?=[{_CJK}{_CJK_PUNCT}])")
PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页(?:\s*[/／,，]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$"
)
FOOTER = re.compile(
    r"^[（(]?(?:报|送|发|抄送|抄报|报送|主送|分送|发送|印发|供稿|联系电话|电话|电子邮箱|邮箱|联系人|编辑|主编|审核|签发|责任编辑|校对)\s*[：:]"
    r"|^.{0,40}(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2})\s*印发[）)]?$"
)
_ENDS = "。！？；!?;…"
# Full-width digits and Latin letters as ASCII (第１４期 is 第14期); Chinese punctuation stays.
_FULL_WIDTH = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
_DECIMAL_POINT = re.compile(r"(?<=\d)．(?=\d)")
# ASCII punctuation in Chinese text (OCR, or typed on an English keyboard): 湖北省:…, 水电,光伏, 中国(浙江)
_OCR_ENUMERATOR = re.compile(r"^(\s*[一二三四五六七八九十]{1,3})[ \t\u3000]*,", re.M)  # 一, for 一、
_ZERO_ENUMERATOR = re.compile(r"^(\s*0[1-9])[ \t\u3000]+(?=\S)", re.M)  # 01　推行…, numbered with a space: 01、
_ASCII_AFTER_CJK = re.compile(r"([\u4e00-\u9fff”」』》）])[ \t\u3000]*([,:;!?)])")
_ASCII_OPEN = re.compile(r"\([ \t\u3000]*(?=[\u4e00-\u9fff])")
_TO_FULL = str.maketrans(",:;!?()", "，：；！？（）")
# Emoji of a WeChat or web article (📌 导读, ✅ 新罗区推行…, 建议收藏⭐): decoration, dropped; ★☆ and ❖ stay (bullets and
# frames), and so do ❶❷… (numbers)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u2604\u2607-\u26FF\u2700-\u2755\u2757-\u2775\u2794-\u27BF\u2B50\u2B55\uFE0F\u200D\u20E3]")
_CLOSING_NOTE = re.compile(r"[。！？][（(][^（）()]{2,40}[）)]$")  # …。（来源：…）
_CLOSERS = "”」』）》)"
_ENUMERATOR = re.compile(r"^(?:[（(]\s*[0-9一二三四五六七八九十]+\s*[)）]|[0-9]{1,2}\s*[.．、)）](?!\d)|[一二三四五六七八九十]+、|[①-⑳]|[•●○◆◇■□▪▲△★☆◎❖►▶◢◣〓])")
_HEADING_LIKE = re.compile(r"^(?:【[^】]{1,30}】|#+\s*\S.{0,40}|第[一二三四五六七八九十]+部分.{0,20})$")
_OPENS = re.compile(r"^(?:【?编者按|【?按语|编者的话|注\s*\d?\s*[：:])")  # paragraphs that always start anew
_BRACKET_LEAD = re.compile(r"^【[^】]{1,16}】")  # a 【…】 heading with its text on the line starts anew too
# ... and after a finished sentence: the closing word on the home city's next steps (下一步，我市将…)
NEXT_STEPS = re.compile(r"^(?:下一步|下步|接下来)[，,：:]")
# An item of an enumeration on its own line (一是…, 第二，…, 问：/答：…); after a full line of a wrapped
# document only when that line does not end in a character that makes a word with the numeral (统|一是…)
_NUMERAL_WORD_HEADS = "统唯同单万第逐之专划归合不再独"  # 统一是…, 第二是…: a full line cut inside a word
_ITEM_LINE = re.compile(r"^(?:[一二三四五六七八九十]{1,2}是[，,：:]?|第[一二三四五六七八九十]{1,2}[，,、]|[问答][：:])(?=[\u4e00-\u9fff“])")
# A field's label at the start of a line (问题：… / 外地做法： / 建议：… / 成效：…, a WeChat box 「划重点」…): after a finished
# sentence, a new paragraph
_LABEL_LINE = re.compile(r"^(?:(?:存在|主要|突出)?问题|[\u4e00-\u9fff]{0,4}(?:建议|启示)|(?:外地|主要|经验|具体|典型|先进)?做法"
                         r"|(?:取得|主要)?成效|背景|我[市县区](?:差距|短板|现状))[：:]|^「(?:划重点|敲黑板|小编[说按]?|启示|点评)」|^[·•]?\s*小编(?:说|按|点评)")
_CONTINUATION_START = re.compile(r"^[\d０-９月日年%％，。、；：）》”」』.]")
# A short line holding one of these verbs is the start of a sentence, not a heading or a masthead line.
_SENTENCE_VERB = re.compile(r"推行|推出|打造|建立|开展|实施|上线|设立|出台|印发|探索|创新|建设|推动|推进|实行|开通|发布")
_INDENT = re.compile(r"^(?:\u3000|\s{2,})")
_DIGITS = re.compile(r"\d+")
_STOPS = re.compile(r"[，。；,;]")
_PUNCT = re.compile(r"[，。、；：,;]")
MAX_PARAGRAPH_CHARS = 3000
_BOUNDARY_LINES = 2  # lines at the top and at the bottom of a page where running headers/footers sit


# A table laid out with spaces (a PDF's text extracted by layout, a plain-text table): cells apart by two spaces or more,
# or by ideographic spaces; a header row names its columns with words like these
_CELL = re.compile(r"[^ \u3000\t]+(?: [^ \u3000\t]+)*")
_HEADER_WORDS = ("序号", "地区", "地方", "城市", "单位", "做法", "举措", "措施", "内容", "经验", "成效", "效果", "名称", "事项")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cells(line: str) -> list[tuple[int, str]]:
    """(display column, text) of each cell of a line laid out with spaces."""
    out, column, end = [], 0, 0
    for m in _CELL.finditer(line):
        column += _display_width(line[end : m.start()])
        out.append((column, m.group(0)))
        column += _display_width(m.group(0))
        end = m.end()
    return out


def _is_header(cells: list[tuple[int, str]]) -> bool:
    return len(cells) >= 3 and all(len(c) <= 8 and not re.search(r"[，。；：,;:]", c) for _, c in cells) \
        and sum(any(w in c for w in _HEADER_WORDS) for _, c in cells) >= 2


def _aligned_tables(text: str) -> str:
    """``text`` with each table laid out with spaces as tab-separated rows, one line per row: a row starts at the
    first column (with its number, when the first column is 序号), and an indented line continues the cells of the
    row above, each in the column nearest to where it starts (序号  地区  主要做法  成效 / 1  山东省济南市  依托… /
    (indented) 符合条件企业…). A header repeated after a page break is dropped; other lines are left as they are."""
    lines = text.split("\n")
    out: list[str] = []
    header: list[tuple[int, str]] | None = None
    seen_headers: set[tuple[str, ...]] = set()
    row: list[str] | None = None

    def flush() -> None:
        nonlocal row
        if row is not None:
            out.append("\t".join(row))
            row = None

    for line in lines:
        cells = _cells(line.rstrip())
        if _is_header(cells):
            flush()
            header = cells
            names = tuple(c for _, c in cells)
            if names not in seen_headers:
                out.append("\t".join(names))
                seen_headers.add(names)
            continue
        if header is None or not cells or PAGE_NUMBER.match(line.strip()) or "\t" in line:
            if header is not None and cells and not PAGE_NUMBER.match(line.strip()):
                flush()
                header = None
            elif header is not None and PAGE_NUMBER.match(line.strip()):
                flush()
                header = None  # a table goes on after a page break only under its header repeated
            out.append(line)
            continue
        starts = [at for at, _ in header]
        first = min(range(len(starts)), key=lambda j: abs(starts[j] - cells[0][0]))
        new_row = first == 0 and (not header[0][1].startswith("序号") or cells[0][1].isdigit())
        if len(cells) == 1 and first == 0 and not new_row or len(cells) == 1 and row is None:
            flush()  # a line of text after the table (资料来源：…): the table has ended
            header = None
            out.append(line)
            continue
        if new_row:
            flush()
            row = [""] * len(starts)
        if row is None:
            row = [""] * len(starts)
        last = -1
        for k, (at, cell) in enumerate(cells):
            if len(cells) == len(starts) and new_row:
                j = k
            else:
                j = min(range(last + 1, len(starts)), key=lambda j: abs(starts[j] - at), default=len(starts) - 1)
            row[j] += cell
            last = j
    flush()
    return "\n".join(out)


def join_spaces(text: str) -> str:
    """Remove spaces that PDF extraction puts next to Chinese characters; keep them between Latin words."""
    return _NEAR_CJK.sub("", text)


def ends_sentence(line: str) -> bool:
    """True when ``line`` ends a sentence: 。！？；… or a closing quote or bracket right after one, or a
    note in brackets after one (…信用修复。（来源：厦门市发展和改革委员会）)."""
    if not line:
        return False
    last = line[-1]
    if last in _ENDS:
        return True
    if (last in _CLOSERS or "①" <= last <= "⑳") and len(line) > 1 and line[-2] in _ENDS:
        return True  # …1400余家。① (a footnote mark after the full stop)
    return bool(_CLOSING_NOTE.search(line))


def _clean(line: str) -> str:
    if "\t" in line:  # a table row: cells keep their separators
        return "\t".join(join_spaces(cell.strip()) for cell in line.split("\t")).rstrip("\t")  # a blank first cell is a merged one
    return join_spaces(line.strip())


def _pages(text: str) -> list[list[tuple[str, bool]]]:
    """The pages, each a list of (line, indented); page-number lines end a page and are dropped."""
    pages: list[list[tuple[str, bool]]] = [[]]
    for raw in re.split(r"\n", text):
        for k, piece in enumerate(raw.split("\f")):
            if k:
                pages.append([])
            if PAGE_NUMBER.match(piece):
                if pages[-1]:
                    pages.append([])
                continue
            line = _clean(piece)
            if line:
                indented = bool(_INDENT.match(piece))
                pages[-1].append((line, indented))
    return [page for page in pages if page]


def _key(line: str) -> str:
    return _DIGITS.sub("#", line)


def _running_lines(pages: list[list[tuple[str, bool]]]) -> set[str]:
    """Keys of the lines that repeat at page boundaries (see the module docstring)."""
    if len(pages) < 2:
        return set()
    at: dict[str, set[int]] = defaultdict(set)  # key -> boundaries where it stands
    later: set[str] = set()  # keys seen at the edge of a page after the first
    stripped: dict[str, str] = {}  # key -> key of the line without 期号 and date
    edges = [(i, where, edge) for i in range(1, len(pages))
             for where, edge in ((i - 1, pages[i - 1][-_BOUNDARY_LINES:]), (i, pages[i][:_BOUNDARY_LINES]))]
    edges.append((len(pages), len(pages) - 1, pages[-1][-_BOUNDARY_LINES:]))  # the foot of the last page too
    issued: set[str] = set()  # keys of lines with a 期号 at the top of a later page: a running header, even once
    for i, where, edge in edges:
        for line, _ in edge:
            if len(line) <= 40 and not ends_sentence(line) and not line.startswith("【") and "\t" not in line:
                key = _key(line)
                at[key].add(i)
                if where > 0:
                    later.add(key)
                    stripped[key] = _key(strip_meta(line))
                    if where == i and find_issue(line)[0] and strip_meta(line) != line.strip():
                        issued.add(key)  # 新乡营商月度摘编　2025年第10期, on page 2 only
    top = [line for line, _ in pages[0][:8]]
    # The masthead's lines, alone and joined two or three at a time (a title over two lines).
    joined = top + ["".join(top[i:i + 2]) for i in range(len(top) - 1)] + ["".join(top[i:i + 3]) for i in range(len(top) - 2)]
    masthead = {_key(strip_meta(line)) for line in joined} | {_key(line) for line in joined}
    boundaries = len(pages)
    running = set(issued)
    for key, where in at.items():
        in_masthead = key in later and (key in masthead or stripped.get(key) in masthead)
        if len(where) + in_masthead >= 2 and (len(where) >= boundaries / 2 or in_masthead):
            running.add(key)
    return running


def _without_running(pages: list[list[tuple[str, bool]]]) -> list[tuple[str, bool, bool]]:
    """All lines as (line, indented, starts_page), running headers and footers left out."""
    running = _running_lines(pages)
    out = []
    for p, page in enumerate(pages):
        n = len(page)
        first = True
        for i, (line, indented) in enumerate(page):
            at_edge = (p > 0 and i < _BOUNDARY_LINES) or i >= n - _BOUNDARY_LINES
            if at_edge and running and _key(line) in running:
                continue
            out.append((line, indented, first and p > 0))
            first = False
    return out


def _full_width(lines: list[str]) -> int:
    """The width a document is wrapped at, or 0 when its lines are not wrapped at a fixed width.

    A wrapped document has many lines of about the same length (its full lines); a text with one
    paragraph a line has lengths all over the place.
    """
    lengths = [len(line) for line in lines if len(line) >= 12 and "\t" not in line]
    if len(lengths) < 6:
        return 0
    counts = Counter(lengths)
    width = max(counts, key=lambda n: (sum(counts.get(m, 0) for m in range(n - 2, n + 1)), n))
    near = sum(counts.get(m, 0) for m in range(width - 2, width + 1))
    longer = sum(c for n, c in counts.items() if n > width)
    if near < max(4, 0.3 * len(lengths)) or longer > max(1, 0.1 * len(lengths)) or not 12 <= width <= 120:
        return 0
    return width


def _structural(line: str) -> bool:
    """A heading (not a short line alone), a footer line or a table row: never joined with another."""
    if _HEADING_LIKE.match(line) or FOOTER.match(line) or "\t" in line:
        return True
    heading = heading_of(line)
    return heading is not None and not heading.weak


def _is_masthead_meta(line: str) -> bool:
    """A 期号 or date line, or a short unpunctuated line with a date (an office and its date)."""
    if len(line) > 40:
        return False
    return is_issue_or_date(line) or bool(find_date(line)) and not _STOPS.search(line)


class _Open:
    """Counts of unclosed “ 《 （ in a paragraph, kept up to date line by line (linear time)."""

    __slots__ = ("depth",)
    _PAIRS = {"“": 1, "”": -1, "《": 1, "》": -1, "（": 1, "）": -1, "(": 1, ")": -1, "「": 1, "」": -1}

    def __init__(self) -> None:
        self.depth = 0

    def add(self, line: str) -> None:
        for ch in line:
            step = self._PAIRS.get(ch)
            if step:
                self.depth = max(0, self.depth + step)


def _starts_new_unit(line: str, indented: bool) -> bool:
    """Indented, enumerated, a heading, or a 【…】 heading with its text on the line (【案例四】云南省昆明市：…)."""
    return indented or bool(_ENUMERATOR.match(line) or _OPENS.match(line) or _BRACKET_LEAD.match(line)) \
        or _structural(line)


def repair(text: str, starts_place=None) -> list[str]:
    """The bulletin as a list of logical lines (paragraphs, headings, table rows, masthead lines).

    ``starts_place`` (a function of a line) tells whether a line starts with a place name; it marks a
    new paragraph after a finished sentence in a wrapped document. By default the gazetteer decides.
    """
    if starts_place is None:
        from reformkb.ingest.regions import gazetteer

        gaz = gazetteer()

        def starts_place(line: str) -> bool:
            return gaz.find_leading(line[:24]) is not None

    text = _aligned_tables(_EMOJI.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    text = _DECIMAL_POINT.sub(".", text.translate(_FULL_WIDTH))  # 第１４期, ２０２５年, １．５天
    text = _ZERO_ENUMERATOR.sub(r"\1、", _OCR_ENUMERATOR.sub(r"\1、", text))
    text = _ASCII_OPEN.sub("（", _ASCII_AFTER_CJK.sub(lambda m: m.group(1) + m.group(2).translate(_TO_FULL), text))
    lines = _without_running(_pages(text))
    width = _full_width([line for line, _, _ in lines])
    out: list[str] = []
    parts: list[str] = []
    size = 0
    opened = _Open()

    def flush() -> None:
        nonlocal parts, size, opened
        if parts:
            out.append("".join(parts))
        parts, size, opened = [], 0, _Open()

    for line, indented, _ in lines:
        if parts and _joins(parts[-1], line, indented, width, opened.depth, size, starts_place, "".join(parts[-3:])):
            parts.append(line)
            size += len(line)
            opened.add(line)
            continue
        flush()
        parts, size = [line], len(line)
        opened.add(line)
    flush()
    return out


def _alone(line: str, width: int) -> bool:
    """A short line without punctuation and not cut at the margin: a heading, a place name, a title."""
    return len(line) <= 30 and len(line) < width - 4 and not _PUNCT.search(line) \
        and not _SENTENCE_VERB.search(line)


def _joins(prev: str, line: str, indented: bool, width: int, depth: int, size: int, starts_place,
           tail: str = "") -> bool:
    """Whether ``line`` continues the paragraph whose last line is ``prev`` (``tail``: its last three lines, for a
    note cut over lines: …决定。（据《重庆 / 日报》）, （本栏目内容根据公开报道整理，数据以原报道为 / 准）)."""
    if size + len(line) > MAX_PARAGRAPH_CHARS:
        return False
    full = width and len(prev) >= width - 4
    if _starts_new_unit(line, indented) or _is_masthead_meta(prev) or _is_masthead_meta(line):
        return False
    if _ITEM_LINE.match(line) and (not full or prev[-1] not in _NUMERAL_WORD_HEADS):
        return False
    if prev[-1] in "市区县州省盟旗局" and line.startswith("该" + prev[-1]):
        return False  # …——广东省广州市黄埔区 / 该区建立…: a heading ending in a place, then its text
    if _structural(prev) and not (full and _ENUMERATOR.match(prev) and not ends_sentence(prev) and not starts_place(line)):
        # a heading stands alone; a full line that only looks like one (（二）某某市对煤炭、化) goes on, unless the next
        # line starts with a place (（一）“一次申报、分段放行”跑出班列加速度 / 二连浩特市依托…: a title over its text)
        return False
    if not full and re.fullmatch(r"[（(][^（）()]{2,60}[）)]", tail):
        return False  # a note in brackets on its own line: （本栏目内容根据公开报道整理）
    if ends_sentence(prev) or prev.endswith(("：", ":")) or _CLOSING_NOTE.search(tail):
        # A finished sentence ends the paragraph, unless the line was cut at the margin of a wrapped
        # document and the next line does not start a new practice.
        return bool(full) and not starts_place(line) and not _alone(line, width) and not NEXT_STEPS.match(line) \
            and not _ITEM_LINE.match(line) and not _LABEL_LINE.match(line)
    if full:
        return True
    if _ENUMERATOR.match(prev) and len(prev) <= 40:
        return False  # an enumerated short line: a heading or a place heading (（一）上海市浦东新区：…)
    if len(prev) <= 30 and not _PUNCT.search(prev) and not _SENTENCE_VERB.search(prev):
        # A short line without punctuation stands alone (masthead line, heading, a place name),
        # unless it was cut inside a figure or a date (…2000余份3 / 月13日).
        return prev[-1].isdigit() and bool(_CONTINUATION_START.match(line))
    if depth > 0 or prev.endswith(("，", "、", ",", "“", "《", "（")) or _CONTINUATION_START.match(line):
        return True
    return not starts_place(line)
