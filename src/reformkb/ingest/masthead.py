"""The masthead of a bulletin: its title, 期号 and date.

A masthead is the block of lines before the first section heading (or 编者按). Offices write it in
many ways, all of which :func:`read_masthead` accepts:

- the title on one line or over several (``永州市优化营商环境`` / ``工作专报``), ending in one of
  :data:`TITLE_WORDS` (专报, 简报, 专刊, 动态, 工作通讯 …), possibly with the 期号 on the same line;
- the 期号 in Arabic or Chinese numerals: ``第 2 期``, ``第十二期`` (12), ``2024年第9期`` (9),
  ``（第3期）``; a ``总第35期`` is taken only when there is no other;
- the date as ``2024年5月6日``, ``2024-05-06``, ``2024.5.6``, ``2024/5/6`` or ``二〇二四年五月六日``;
  when the masthead has none, the date of the 印发 line at the end is used.
"""
from __future__ import annotations

import re

from reformkb.records import Source

TITLE_WORDS = ("工作专报", "专报", "简报", "快报", "通报", "专刊", "动态", "工作通讯", "通讯", "信息", "情况",
               "要情", "周报", "月报", "参考", "内参", "导刊", "摘报", "增刊", "简讯", "快讯", "要讯", "资讯", "参阅", "周讯", "旬报", "观察", "交流", "摘编")
_TITLE_WORD = re.compile("(?:" + "|".join(sorted(TITLE_WORDS, key=len, reverse=True)) + r")(?:[（(][^）)]{0,12}[）)])?$")

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"[0-9０-９〇○零一二两三四五六七八九十百千]"
_ISSUE = re.compile(rf"(总)?第\s*({_NUM}+)\s*期")
_DATE_CN = rf"([0-9０-９〇○零一二三四五六七八九]{{4}})\s*年\s*({_NUM}{{1,3}})\s*月\s*({_NUM}{{1,3}})\s*日"
_DATE_SEP = r"(?<!\d)(\d{4})\s*[-./／]\s*(\d{1,2})\s*[-./／]\s*(\d{1,2})(?!\d)"
_DATE = re.compile(f"{_DATE_CN}|{_DATE_SEP}")
_OFFICE = re.compile(r"(?:办公室|办|局|委|室|组|班|中心|处|厅|专班|领导小组)(?:编印|编|印|主办)?$|编印$|主办$")
_CLASSIFIED = re.compile(r"内部|注意保存|机密|秘密|绝密|公开|签发|★")
_YEAR_ISSUE = re.compile(r"\d{4}\s*年\s*(?=第)")


def chinese_number(text: str) -> int | None:
    """``十二`` → 12, ``二十三`` → 23, ``一百零五`` → 105, ``二〇二四`` → 2024, ``12`` → 12; None if not a number."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text.strip())
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(ch in _CN_UNITS for ch in text):
        total, digit = 0, None
        for ch in text:
            if ch in _CN_DIGITS:
                digit = _CN_DIGITS[ch]
            elif ch in _CN_UNITS:
                total += (1 if digit is None else digit) * _CN_UNITS[ch]
                digit = None
            else:
                return None
        return total + (digit or 0)
    if all(ch in _CN_DIGITS or ch.isdigit() for ch in text):  # digit by digit: 二〇二四
        return int("".join(str(_CN_DIGITS.get(ch, ch)) for ch in text))
    return None


def find_date(line: str) -> str:
    """The first date written in ``line`` as YYYY-MM-DD, or "" (also "" for an impossible date)."""
    for m in _DATE.finditer(line):
        parts = [g for g in m.groups() if g is not None]
        y, mo, d = (chinese_number(p) for p in parts)
        if y and mo and d and 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return ""


def find_issue(line: str) -> tuple[str, bool]:
    """The 期号 in ``line`` as digits and whether it is a 总第…期 (running total); ("", False) if none.

    A line with both (``总第35期 第4期``) gives the issue of the year.
    """
    total = ""
    for m in _ISSUE.finditer(line):
        number = chinese_number(m.group(2))
        if number is None:
            continue
        if not m.group(1):
            return str(number), False
        total = total or str(number)
    return (total, True) if total else ("", False)


def looks_like_title(line: str) -> bool:
    """A line that ends in a title word (工作专报, 简报, 专刊 …), 期号 and date aside."""
    return len(line) <= 60 and bool(_TITLE_WORD.search(strip_meta(line)))


def is_issue_or_date(line: str) -> bool:
    """True for a line that is only a 期号 and/or a date (``第 2 期``, ``2024-05-06``, ``2024年第9期``)."""
    rest = _DATE.sub("", _ISSUE.sub("", _YEAR_ISSUE.sub("", line)))
    return rest != line and not re.sub(r"[\s（）()【】\[\]〔〕,，、·]", "", rest)


def strip_meta(line: str) -> str:
    """``line`` without its 期号, date and the brackets around them."""
    line = _YEAR_ISSUE.sub("", line)
    line = _ISSUE.sub("", line)
    line = _DATE.sub("", line)
    line = re.sub(r"[（(〔\[]\s*[）)〕\]]", "", line)
    return re.sub(r"\s+", " ", line).strip(" ，,、·-—｜|")


def _is_title_part(line: str) -> bool:
    """A line that may be the first part of a title broken over lines: short, no punctuation."""
    return 2 <= len(line) <= 30 and not re.search(r"[，。、；：:！？“”《》]", line) and not is_issue_or_date(line)


def _continues_title(before: str, title: str) -> bool:
    """Whether the masthead line ``before`` is the first part of ``title`` (a title over lines).

    It is when it is short and unpunctuated, not an office or a classification line, and the title
    without it is incomplete: only a few characters (工作专报), or without the place that ``before``
    starts with (永州市 / 优化营商环境简报).
    """
    from reformkb.ingest.regions import gazetteer

    if not _is_title_part(before) or _OFFICE.search(before) or _CLASSIFIED.search(before):
        return False
    if len(before) + len(title) > 40:
        return False
    if len(title) <= 8:
        return True
    gaz = gazetteer()
    return gaz.find_leading(title) is None and gaz.find_leading(before) is not None


def read_masthead(head: list[str], tail: list[str] = (), filename: str = "") -> Source:
    """Title, 期号 and date from the masthead lines ``head`` (and a date from the footer ``tail``).

    The title is the first line ending in a title word, joined with the short lines right before it
    when they are its first part (a title over two or three lines). Falls back to the file name
    without its extension when no line looks like a title.
    """
    source = Source(file=filename)
    total_issue = ""
    title_at = None
    for i, line in enumerate(head):
        issue, is_total = find_issue(line)
        if issue and is_total:
            total_issue = total_issue or issue
        elif issue and not source.issue:
            source.issue = issue
        if not source.date:
            source.date = find_date(line)
        if title_at is None and looks_like_title(line):
            title_at = i
    source.issue = source.issue or total_issue
    if title_at is not None:
        parts = [strip_meta(head[title_at])]
        j = title_at - 1
        while j >= 0 and len(parts) < 3 and _continues_title(head[j], "".join(parts)):
            parts.insert(0, head[j])
            j -= 1
        source.title = _join_title(parts)
    if not source.date:
        for line in reversed(list(tail)):
            if (date := find_date(line)) and ("印发" in line or "编" in line or len(line) <= 30):
                source.date = date
                break
    if not source.title and filename:
        source.title = re.sub(r"\.[A-Za-z0-9]+$", "", filename)
    return source


def _join_title(parts: list[str]) -> str:
    """Title parts joined: no space between Chinese characters, one between Latin words."""
    title = " ".join(p.strip() for p in parts if p.strip())
    return re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", title)
