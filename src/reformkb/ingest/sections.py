"""Headings and sections of a bulletin: which lines are headings, and what each section holds.

A heading is a line that looks like one (:func:`heading_of`):

- ``【战术借鉴】`` (rank 0);
- ``# 他山之石`` — a Markdown heading, and how :func:`~reformkb.ingest.documents.read_docx` writes a
  bold or heading-styled paragraph (rank 1);
- ``一、外地经验做法``, ``第二部分 典型案例`` (rank 1), ``（一）经验借鉴`` (rank 2), ``1. 外地经验`` (rank 3),
  when short and without a sentence ending;
- a short line alone without punctuation (``外地经验``) (rank 3, a *weak* heading).

A section is classified by its name (:class:`SectionNames`, a list users can extend) and, when the
name is not known, by its content (:func:`classify_by_content`): paragraphs that start with another
place's name make a practice section; paragraphs about the bulletin's own city (its counties, its
``市财政局：``) make a section of local actions; anything else is left out.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SECTIONS_FILE = "sections.tsv"  # in the knowledge base's folder: the users' own section names
_KIND_WORDS = {"标杆经验": "practice", "practice": "practice", "工作动态": "action", "action": "action",
               "不导入": "skip", "skip": "skip"}

PRACTICE = "practice"
ACTION = "action"
SKIP = "skip"

DEFAULT_PRACTICE_NAMES = (
    "战术借鉴", "他山之石", "经验借鉴", "外地经验", "先进地区经验做法", "典型案例", "经验做法", "借鉴参考",
    "借鉴", "经验", "做法", "案例", "标杆", "先进地区", "外省", "外地", "兄弟", "学习参考", "域外",
    "先进", "他山", "对标", "好做法",
)
DEFAULT_ACTION_NAMES = ("战斗动态", "工作动态", "动态", "进展", "我市", "本市", "本地", "县市区", "各地", "在行动")
DEFAULT_SKIP_NAMES = ("编者按", "按语", "批示", "解读", "点评", "评论", "附件", "注释", "备注", "工作要求",
                      "下步", "下一步", "要目", "目录", "导读", "小贴士", "链接", "名词解释", "延伸阅读", "编后", "相关阅读",
                      "往期", "推荐阅读", "精彩回顾", "反面典型", "反面案例", "曝光", "负面典型", "问题通报", "警示")

_CN_NUM = "一二三四五六七八九十"
_BRACKET = re.compile(r"^【([^】]{1,30})】$")
_MARKDOWN = re.compile(r"^#{1,6}\s*(\S.*)$")
_RANKED = (
    (re.compile(rf"^第[{_CN_NUM}]+部分[、：:\s]*(.*)$"), 1),
    (re.compile(rf"^[{_CN_NUM}]+\s*[、.．]\s*(.+)$"), 1),
    (re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[）)]\s*(.+)$"), 2),
    (re.compile(r"^[0-9]{1,2}\s*[.．、]\s*(?!\d)(.+)$"), 3),
)
_SENTENCE_PUNCT = re.compile(r"[。！？；，,;!?]")
# A numbered heading with a subtitle after a colon: 二、他山之石：民族地区和沿边口岸经验做法, 二、涉企服务：从“企业找政策”到…
_TITLED = re.compile(r"[^：:。！？；，,;!?]{2,10}[：:][^：:。！？；，,;!?]{2,24}")
_ORNAMENTS = "◇◆□■○●☆★△▲▽▼◎※►▶•·～~=＝—-*〓◢◣ \u3000"  # framing a heading: ◇ 各地动态 ◇, ★ 工作动态 ★


@dataclass(frozen=True)
class Heading:
    name: str
    rank: int  # 0 【】, 1 一、/#, 2 （一）, 3 1. or a short line alone
    weak: bool = False  # a short line alone: a heading only by its shape


def heading_of(line: str, max_chars: int = 24) -> Heading | None:
    """The heading that ``line`` is, or None for a paragraph (see the module docstring)."""
    framed = line.strip().strip(_ORNAMENTS)
    if framed and line.strip()[:1] in _ORNAMENTS and line.strip()[-1:] in _ORNAMENTS and framed != line.strip():
        line = framed  # 〓 一、我市动态 〓: the ornaments frame the heading
    if m := _BRACKET.match(line):
        return Heading(m.group(1).strip(_ORNAMENTS) or m.group(1).strip(), 0)
    if m := _MARKDOWN.match(line):
        name = m.group(1).strip().strip("#").strip()
        inner = heading_of(name, max_chars) if not name.startswith("#") else None
        if inner is not None and not inner.weak:
            return Heading(inner.name, min(inner.rank, 1))
        if len(name) <= max_chars + 16 and not _SENTENCE_PUNCT.search(name.rstrip("。")):
            return Heading(name.rstrip("：:"), 1)
        return None
    for pattern, rank in _RANKED:
        if (m := pattern.match(line)) and (_short_name(m.group(1), max_chars) or _TITLED.fullmatch(m.group(1).strip())):
            return Heading(m.group(1).strip().rstrip("：:"), rank)
    if _short_name(line, max_chars):
        return Heading(line.strip().strip(_ORNAMENTS).rstrip("：:") or line.strip(), 3, weak=True)
    return None


def _short_name(name: str, max_chars: int) -> bool:
    """A heading's name: short, no sentence punctuation (a colon at the end is allowed)."""
    name = name.strip()
    return 1 <= len(name) <= max_chars and not _SENTENCE_PUNCT.search(name) and not re.search(r"[：:].", name)


@dataclass(frozen=True)
class SectionNames:
    """Words that name a section's kind; a heading holding one of them is of that kind.

    Skip names are looked at first (``领导批示`` is not a 做法), then practice names, then action
    names. Extend the defaults with :meth:`extended`.
    """

    practice: tuple[str, ...] = DEFAULT_PRACTICE_NAMES
    action: tuple[str, ...] = DEFAULT_ACTION_NAMES
    skip: tuple[str, ...] = DEFAULT_SKIP_NAMES

    def extended(self, practice=(), action=(), skip=()) -> "SectionNames":
        """These names and the given ones (blank entries ignored)."""
        def more(base, extra):
            return base + tuple(w.strip() for w in extra if w and w.strip() and w.strip() not in base)

        return SectionNames(more(self.practice, practice), more(self.action, action), more(self.skip, skip))

    @classmethod
    def for_home(cls, home: Path | str | None) -> "SectionNames":
        """The default names and those in ``home``/sections.tsv, if the file exists.

        Each line of the file is a kind and a word, separated by a tab (or spaces): ``标杆经验	对标学习``,
        ``工作动态	县区快讯``, ``不导入	专家点评`` (also ``practice``/``action``/``skip``); a line starting with
        # is a comment. A file that cannot be read, or a line with an unknown kind, is skipped with a
        warning in the log: the import goes on with the names it has.
        """
        names = cls()
        path = Path(home) / SECTIONS_FILE if home else None
        if path is None or not path.is_file():
            return names
        from reformkb.errors import InputError
        from reformkb.ingest.documents import decode_text

        try:
            text = decode_text(path.read_bytes(), path.name)
        except (InputError, OSError) as exc:
            log.warning("栏目名称表 %s 未能读取，只用内置栏目名称：%s", path, exc)
            return names
        extra: dict[str, list[str]] = {"practice": [], "action": [], "skip": []}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            kind = _KIND_WORDS.get(parts[0])
            if kind is None or len(parts) < 2:
                log.warning("栏目名称表 %s 第 %d 行应为“标杆经验/工作动态/不导入 + 栏目名称”，已跳过：%s", path, number, line)
                continue
            extra[kind].append(parts[1])
        return names.extended(**extra)

    def kind_of(self, name: str) -> str | None:
        """PRACTICE, ACTION or SKIP when ``name`` holds a known word, else None (a name ending in 建议, such as
        对我市的建议 or 工作建议, is SKIP: suggestions are neither other places' practices nor work done; so are the
        home's gaps: 我市短板弱项, 存在的差距)."""
        if name.endswith("建议") or re.search(r"短板|弱项|(?:我[市县区州省]|本[市县区]|存在的?|主要)的?(?:差距|不足)"
                                            r"|(?:几点|主要|对[^，。]{0,6}的)(?:启示|体会|思考)", name):
            return SKIP  # 我市短板弱项, 存在的差距, 几点启示: the home's gaps and lessons (对标一流找差距, 借鉴与启示: by content)
        for kind, words in ((SKIP, self.skip), (PRACTICE, self.practice), (ACTION, self.action)):
            if any(w in name for w in words):
                return kind
        return None


@dataclass
class Tally:
    """What the paragraphs of a section start with, for :func:`classify_by_content`."""

    foreign: int = 0  # another place's name
    local: int = 0  # the home city, one of its counties, or a local unit (市财政局：)
    other: int = 0


def classify_by_content(tally: Tally) -> str:
    """PRACTICE when most paragraphs start with another place, ACTION when most are local, else SKIP."""
    total = tally.foreign + tally.local + tally.other
    if total == 0:
        return SKIP
    if tally.foreign >= max(1, tally.local) and 2 * tally.foreign >= total:
        return PRACTICE
    if tally.local > tally.foreign and 2 * tally.local >= total:
        return ACTION
    return SKIP
