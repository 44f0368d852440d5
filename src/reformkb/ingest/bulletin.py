"""Parsing a bulletin (工作专报) into source metadata and draft records.

Steps, each a function that can be tested alone:

1. :func:`repair` undoes extraction artefacts: page numbers and repeated running headers are
   dropped, a sentence broken across lines or pages is joined ("3\\n\\n月13日"), and the spaces a PDF
   puts between Chinese characters and figures ("由 20 个工作日") are removed.
2. :func:`find_source` reads the title, 期号 and date from the masthead.
3. :func:`sections` cuts the text at its 【…】 headings.
4. :func:`split_practices` turns each paragraph of the 【战术借鉴】 section into one draft per
   practice: a paragraph that names several actors ("市中级人民法院以…；市税务局创新…") or several
   distinct measures ("打造…平台。创新…监管模式") becomes several drafts that keep the region.
   Paragraphs of 【战斗动态】 (local actions) become drafts of kind "action".
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reformkb.errors import InputError
from reformkb.ingest.regions import gazetteer
from reformkb.ingest.titles import find_agency
from reformkb.records import KIND_ACTION, KIND_PRACTICE, Source

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"，。、；：？！“”‘’（）《》【】—…·「」『』"
_SENTENCE_END = tuple("。！？；：…”』」）》") + (".", "!", "?", ";")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*/?\s*共\s*\d+\s*页)?|\d{1,3})\s*$")
_HEADING = re.compile(r"^【[^】]{1,12}】$")
_SUBHEADING = re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*\S{0,12}$")
_FOOTER = re.compile(r"^(报|送|发|抄送|联系电话|电话|电子邮箱|邮箱|联系人|印发|编辑|审核|签发)\s*[：:]")
_ISSUE = re.compile(r"第\s*([0-9０-９一二三四五六七八九十百]+)\s*期")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_MEASURE_VERBS = ("出台", "印发", "实施", "推行", "推出", "打造", "创新", "建立", "开展", "上线", "设立",
                  "启用", "探索", "制定", "发布", "构建", "搭建", "率先", "首创", "全面推行", "持续开展")

PRACTICE_SECTION = re.compile(r"借鉴|经验|做法")
ACTION_SECTION = re.compile(r"动态|进展")


@dataclass
class Draft:
    """A practice as parsed, before region normalization, topics and metrics are added."""

    text: str
    region_raw: str = ""
    agency: str = ""
    kind: str = KIND_PRACTICE
    section: str = ""
    paragraph: int = 0  # 1-based paragraph number within its section, for messages


@dataclass
class ParsedBulletin:
    source: Source
    drafts: list[Draft] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    home_region: str = ""  # the issuing city, from the title (e.g. 永州市)


def _join_spaces(text: str) -> str:
    """Remove spaces that PDF extraction puts next to Chinese characters; keep them between Latin words."""
    near_cjk = rf"[{_CJK}{_CJK_PUNCT}]"
    text = re.sub(rf"(?<={near_cjk})[ \t\u3000\xa0]+", "", text)
    return re.sub(rf"[ \t\u3000\xa0]+(?={near_cjk})", "", text)


def _is_structural(line: str) -> bool:
    return bool(_HEADING.match(line) or _SUBHEADING.match(line) or _FOOTER.match(line))


def repair(text: str) -> list[str]:
    """The bulletin as a list of logical lines (paragraphs, headings, masthead lines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    raw = [_join_spaces(line.strip()) for line in re.split(r"[\n\f]", text)]
    raw = [line for line in raw if line and not _PAGE_NUMBER.match(line)]
    # Running headers/footers: short lines that repeat on many pages.
    counts = Counter(line for line in raw if len(line) <= 40)
    repeated = {line for line, n in counts.items() if n >= 3 and not _HEADING.match(line)}
    raw = [line for line in raw if line not in repeated]

    lines: list[str] = []
    for line in raw:
        if lines and not _is_structural(line) and not _is_structural(lines[-1]) and _continues(lines[-1], line):
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def _continues(prev: str, line: str) -> bool:
    """Whether ``line`` is the rest of a sentence that ``prev`` started (a broken line)."""
    if prev.endswith(_SENTENCE_END):
        return False
    if _ISSUE.fullmatch(prev) or _DATE.fullmatch(prev) or _ISSUE.fullmatch(line) or _DATE.fullmatch(line):
        return False
    # Masthead lines (short, no punctuation at all) stand alone.
    if len(prev) <= 30 and not re.search(r"[，。、；：]", prev) and not re.match(r"^[\d月日年]", line):
        return False
    return True


def find_source(lines: list[str], filename: str = "") -> Source:
    """Title, 期号 and date from the masthead (the lines before the first heading or 编者按)."""
    head: list[str] = []
    for line in lines:
        if _HEADING.match(line) or line.startswith("编者按"):
            break
        head.append(line)
    head = head[:12]
    source = Source(file=filename)
    for line in head:
        if not source.issue and (m := _ISSUE.search(line)) and len(line) <= 30:
            source.issue = m.group(1)
        elif not source.date and (m := _DATE.search(line)):
            y, mo, d = (int(g) for g in m.groups())
            source.date = f"{y:04d}-{mo:02d}-{d:02d}"
        elif not source.title and re.search(r"专报|简报|快报|通报|动态|信息|情况", line) and len(line) <= 60:
            source.title = re.sub(r"\s+", " ", line).strip()
    if not source.title and filename:
        source.title = re.sub(r"\.[A-Za-z0-9]+$", "", filename)
    return source


def sections(lines: list[str]) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) for each 【…】 section; the footer (报：/发：/联系电话) ends the last one."""
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if _HEADING.match(line):
            out.append((line.strip("【】"), []))
        elif out:
            if _FOOTER.match(line):
                break
            if not _SUBHEADING.match(line):
                out[-1][1].append(line)
    return out


def _sentences(paragraph: str) -> list[str]:
    """Split at 。！？ and at ； outside quotes and book-title marks."""
    out, buf, depth = [], "", 0
    for ch in paragraph:
        buf += ch
        if ch in "“《（(「":
            depth += 1
        elif ch in "”》）)」":
            depth = max(0, depth - 1)
        elif ch in "。！？；" and depth == 0:
            out.append(buf)
            buf = ""
    if buf.strip():
        out.append(buf)
    return [s.strip() for s in out if s.strip()]


def _concrete(text: str) -> bool:
    """A chunk names something specific: a quoted name, a figure, or a document."""
    return bool(re.search(r"[“「][^”」]{2,}[”」]|\d", text))


def split_practices(paragraph: str) -> list[tuple[str, str, str]]:
    """One (text, region_as_written, agency) per practice in a 【战术借鉴】 paragraph."""
    gaz = gazetteer()
    leading = gaz.find_leading(paragraph)
    region_raw = leading[1] if leading else ""
    chunks: list[list[str]] = []
    for sentence in _sentences(paragraph):
        body = sentence[len(region_raw):] if region_raw and sentence.startswith(region_raw) else sentence
        # A sentence whose actor is an agency (市税务局创新…) is that agency's own practice.
        starts_actor = bool(chunks) and bool(find_agency(sentence))
        starts_measure = body.startswith(_MEASURE_VERBS)
        if not chunks or starts_actor or starts_measure:
            chunks.append([sentence])
        else:
            chunks[-1].append(sentence)
    # An opening chunk that only sets the scene ("…施行以来，密集出台多项改革方案") joins the next one.
    if len(chunks) > 1 and not _concrete("".join(chunks[0])) and not find_agency(chunks[1][0]):
        chunks[1] = chunks[0] + chunks[1]
        chunks.pop(0)
    out = []
    for chunk in chunks:
        text = "".join(chunk)
        text = re.sub(r"；$", "。", text)
        out.append((text, region_raw, find_agency(text) or ""))
    return out


def _action_draft(paragraph: str) -> tuple[str, str]:
    """A 【战斗动态】 paragraph "冷水滩区：3月14日，…" and its label (a place or an agency), if any."""
    m = re.match(r"^([^：:，。]{2,14})[：:]", paragraph)
    return paragraph, (m.group(1) if m else "")


def parse_bulletin(text: str, filename: str = "", include_actions: bool = True) -> ParsedBulletin:
    """Parse a bulletin's text. Raises InputError when it has no 【战术借鉴】-like section."""
    lines = repair(text)
    if not lines:
        raise InputError(f"{filename or '专报'} 没有文字内容：请检查文件。")
    source = find_source(lines, filename)
    home = gazetteer().find_leading(source.title)
    parsed = ParsedBulletin(source=source, home_region=home[0].name if home else "")
    found_practices = False
    for heading, paragraphs in sections(lines):
        if PRACTICE_SECTION.search(heading):
            found_practices = True
            for number, paragraph in enumerate(paragraphs, start=1):
                for chunk, region_raw, agency in split_practices(paragraph):
                    if not region_raw:
                        parsed.warnings.append(f"【{heading}】第 {number} 段没有写明地区，请在导入前补上：{chunk[:30]}…")
                    parsed.drafts.append(Draft(chunk, region_raw, agency, KIND_PRACTICE, heading, number))
        elif include_actions and ACTION_SECTION.search(heading):
            for number, paragraph in enumerate(paragraphs, start=1):
                body, label = _action_draft(paragraph)
                is_place = bool(label) and gazetteer().lookup(label) is not None
                region = label if is_place else parsed.home_region
                agency = "" if is_place else label
                parsed.drafts.append(Draft(body, region, agency, KIND_ACTION, heading, number))
    if not found_practices:
        headings = "、".join(f"【{h}】" for h, _ in sections(lines)) or "没有任何【…】小标题"
        raise InputError(
            f"{filename or '这份专报'} 中没有找到【战术借鉴】部分（找到的是：{headings}）。"
            "请确认这是工作专报，或把案例逐条用“新增案例”录入。"
        )
    return parsed
