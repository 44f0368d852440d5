"""The region gazetteer: which place a practice comes from.

The data is ``data/regions.tsv`` (columns ``code name short level province city``), shipped with the
package and generated once by ``tools/build_regions.py``. It holds the 34 provincial-level units, every
prefecture-level division (地级市, 地区, 自治州, 盟) and Hunan's county-level divisions, each with its
6-digit administrative code. The four municipalities (北京, 天津, 上海, 重庆) are province-level and
count as their own city.

A region can be written in several ways, all of which :meth:`Gazetteer.lookup` accepts:

- its full name (``长沙市``, ``湘西土家族苗族自治州``) or its short form (``长沙``, ``湘西``);
- a few derived aliases: ``广西区`` for an autonomous region, ``湘西州`` for an autonomous
  prefecture, ``江华县`` for an autonomous county, ``香港特区`` for a special administrative region;
- a chain from the top down, with or without suffixes (``湖南省长沙市``, ``湖南长沙``, ``长沙浏阳``);
- its 6-digit code (``430100``).

When one spelling names several regions, a full name wins over a short form, then the higher level
wins (province > city > county), then the smaller code: ``吉林`` is 吉林省 (吉林市 is ``吉林市``), and
``资阳`` is 资阳市 in Sichuan (资阳区 in 益阳 is ``资阳区``). A short form that would repeat a higher
unit's is not a short form at all: ``长沙县`` has no short form ``长沙``. Inside a chain only the
regions under the previous one count (``湖南深圳`` names nothing).

Finding regions in running text (:meth:`Gazetteer.find_leading`, :meth:`Gazetteer.find_all`) is
stricter than lookup, since Chinese text has no word boundaries:

- the longest spelling at a position wins, so ``海南藏族自治州`` is never read as 海南省;
- a short form or alias is not taken when the next character starts a smaller place that the gazetteer
  does not hold (``南京路``, ``海南岛``; ``长沙县`` is its own entry), unless that character starts a
  word about the region itself (``湖南县域``, ``长沙区域``): see ``_NOT_AFTER_SHORT``;
- short forms that are everyday words (``会同``, ``通道``, ``阿里``, ``大庆``...) are never taken from
  running text: see ``_COMMON_WORDS``; the full name (``会同县``) still is;
- the two-character full names (``南县``, ``道县``, ``攸县``, ``澧县``) are taken only at the start of
  the text, after a non-Chinese character or right after another region (``益阳市南县``), since
  ``街道县级`` or ``湖南县域`` would otherwise produce them.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from reformkb.errors import InputError, ReformKBError

__all__ = ["Region", "Gazetteer", "gazetteer", "normalize"]

LEVELS = ("province", "city", "county")
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_COLUMNS = ("code", "name", "short", "level", "province", "city")

# A short form or alias followed by one of these characters names a smaller place inside the region
# (a district, town, street, island...) that the gazetteer does not hold, not the region itself.
_NOT_AFTER_SHORT = frozenset("区县镇乡村街路巷岛州")
# ...unless they start one of these words, which say something about the region itself
# (湖南县域经济, 长沙区域协调, 湖南乡村振兴).
_WORDS_AFTER_SHORT = frozenset({"区域", "县域", "县级", "县区", "县市", "乡镇", "乡村", "村镇", "州市"})

# Short forms that are everyday words (or other well-known names) far more often than the place.
# They are still accepted by lookup(); in running text only the full name counts.
_COMMON_WORDS = frozenset(
    {
        # prefecture level
        "阿里",  # 阿里巴巴
        "来宾",
        "安康",
        "白银",
        "大庆",
        "长治",  # 长治久安
        "大同",
        "日照",
        "开封",
        "海口",  # 夸下海口
        "海西",  # 海峡西岸经济区
        "朝阳",  # 朝阳产业; also 北京市朝阳区
        "四平",  # 四平八稳
        # Hunan county level
        "芙蓉",
        "荷塘",
        "石鼓",
        "北塔",
        "北湖",
        "双清",  # 双清单
        "武陵",  # 武陵山片区
        "永定",
        "会同",  # 会同有关部门
        "通道",  # 绿色通道
        "中方",
        "凤凰",
        "洞口",
        "石门",
        "嘉禾",
        "永兴",
        "东安",
        "龙山",
        "桃源",
        "津市",  # 天津市
    }
)

# Text that may come before the region at the start of a paragraph: white space, bullets and
# enumerators such as "1.", "（一）", "一、", "一是".
_LEADER = re.compile(
    r"(?:[\s\u3000]*"
    r"(?:[（(]\s*[0-9一二三四五六七八九十]+\s*[)）]"
    r"|[0-9]+[.．、]"
    r"|[一二三四五六七八九十]+[、.．]"
    r"|[一二三四五六七八九十]+是[，,：:]?"
    r"|[•●○◆■▪·*\-—]+))*"
    r"[\s\u3000]*"
)


@dataclass(frozen=True)
class Region:
    """One administrative division.

    ``province`` is the full name of the provincial-level unit (itself for a province). ``city`` is the
    full name of the prefecture-level unit: its city for a county, itself for a city, ``None`` for a
    province except a municipality, which is its own city.
    """

    code: str
    name: str
    short: str
    level: str  # "province" | "city" | "county"
    province: str
    city: str | None


@dataclass(frozen=True)
class _Spelling:
    """One way of writing a region, as an index entry."""

    region: Region
    full: bool  # the key is the region's full name


def _aliases(region: Region) -> set[str]:
    """The spellings derived from the name and short form, besides those two."""
    aliases: set[str] = set()
    if region.name.endswith("自治州") and not region.short.endswith("州"):
        aliases.add(region.short + "州")
    if region.name.endswith("自治县") and not region.short.endswith("县"):
        aliases.add(region.short + "县")
    if region.name.endswith("自治区"):
        aliases.add(region.short + "区")
    if region.name.endswith("特别行政区"):
        aliases.add(region.short + "特区")
    return aliases


def _preference(spelling: _Spelling) -> tuple[bool, int, str]:
    """Sort key among regions written the same way: full name, then higher level, then code."""
    return (not spelling.full, _LEVEL_RANK[spelling.region.level], spelling.region.code)


def _is_under(child: Region, parent: Region) -> bool:
    """True when ``child`` lies inside ``parent`` (a city in a province, a county in a city)."""
    if child is parent or _LEVEL_RANK[child.level] <= _LEVEL_RANK[parent.level]:
        return False
    if parent.level == "province":
        return child.province == parent.name
    return child.city == parent.name


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _clean(name: str) -> str:
    """``name`` in NFKC form, without white space and without punctuation at either end."""
    text = "".join(unicodedata.normalize("NFKC", name).split())
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(text[end - 1])[0] in "PS":
        end -= 1
    return text[start:end]


class Gazetteer:
    """All regions, indexed by every way of writing them.

    Build one with :func:`gazetteer` (the shipped data, loaded once); the constructor takes any
    regions, for example in tests.
    """

    def __init__(self, regions: list[Region]) -> None:
        self._regions = sorted(regions, key=lambda r: r.code)
        self._by_code = {r.code: r for r in self._regions}
        if len(self._by_code) != len(self._regions):
            raise ReformKBError("地区数据有重复的行政区划代码：请重新生成 regions.tsv。")
        keys: dict[str, list[_Spelling]] = {}
        for region in self._regions:
            keys.setdefault(region.name, []).append(_Spelling(region, True))
            for alias in {region.short} | _aliases(region):
                if alias != region.name:
                    keys.setdefault(alias, []).append(_Spelling(region, False))
        self._keys = {key: tuple(sorted(spellings, key=_preference)) for key, spellings in keys.items()}
        self._longest = max(map(len, self._keys))

    def __len__(self) -> int:
        """The number of regions (all levels)."""
        return len(self._regions)

    def lookup(self, name: str) -> Region | None:
        """The region that ``name`` names, or ``None`` when it names none.

        ``name`` may be a full name, short form, alias, top-down chain or 6-digit code (see the module
        docstring); white space anywhere and punctuation at the ends are ignored. Empty or
        punctuation-only input gives ``None``; this never raises for a string.
        """
        text = _clean(name)
        if not text:
            return None
        if len(text) == 6 and text.isdigit():
            return self._by_code.get(text)
        spellings = self._keys.get(text)
        if spellings:
            return spellings[0].region
        return self._parse_chain(text, 0, None)

    def find_leading(self, text: str) -> tuple[Region, str] | None:
        """The region a paragraph starts with, and the span of ``text`` that names it, as written.

        Leading white space, bullets and enumerators ("1.", "（一）", "一是") are skipped. A chain
        such as ``湖南省长沙市`` gives the most specific region (长沙市) and the whole chain as the
        span. ``None`` when the paragraph does not start with a region ("市税务局创新…").
        """
        start = _LEADER.match(text).end()
        found = self._match_at(text, start, within=None, only_within=False, after_break=True)
        if found is None:
            return None
        region, end = found
        while (step := self._match_at(text, end, region, only_within=True, after_break=True)) is not None:
            region, end = step
        return region, text[start:end]

    def find_all(self, text: str) -> list[Region]:
        """Every distinct region named in ``text``, in order of first appearance.

        Both regions of a chain count (``湖南省长沙市`` gives 湖南省 and 长沙市); a name right after
        a region is read as a place inside it when it can be (``长沙浏阳`` gives 长沙市 and 浏阳市).
        """
        found: list[Region] = []
        seen: set[str] = set()
        previous: Region | None = None
        previous_end = -1
        i = 0
        while i < len(text):
            chained = i == previous_end
            after_break = i == 0 or chained or not _is_cjk(text[i - 1])
            match = self._match_at(
                text, i, previous if chained else None, only_within=False, after_break=after_break
            )
            if match is None:
                i += 1
                continue
            previous, previous_end = match
            if previous.code not in seen:
                seen.add(previous.code)
                found.append(previous)
            i = previous_end
        return found

    def provinces(self) -> list[Region]:
        """The 34 provincial-level units, by code."""
        return [r for r in self._regions if r.level == "province"]

    def children(self, name: str) -> list[Region]:
        """The regions directly under ``name``, by code: a province's cities, a city's counties.

        A county, and a municipality (whose districts are not held), have none. Raises
        :class:`InputError` when ``name`` names no region.
        """
        parent = self.lookup(name)
        if parent is None:
            raise InputError(_unknown_message(name))
        if parent.level == "county":
            return []
        if parent.level == "province" and parent.city != parent.name:
            return [r for r in self._regions if r.level == "city" and r.province == parent.name]
        return [r for r in self._regions if r.level == "county" and r.city == parent.name]

    # -- matching -------------------------------------------------------------------------------

    def _usable(self, spelling: _Spelling, key: str, text: str, end: int, after_break: bool) -> bool:
        """Whether ``spelling``, found as ``key`` ending at ``end``, names a region in running text."""
        if spelling.full:
            return after_break or len(key) > 2
        if key in _COMMON_WORDS:
            return False
        if end < len(text) and text[end] in _NOT_AFTER_SHORT:
            return text[end : end + 2] in _WORDS_AFTER_SHORT
        return True

    def _match_at(
        self,
        text: str,
        i: int,
        within: Region | None,
        only_within: bool,
        after_break: bool,
    ) -> tuple[Region, int] | None:
        """The region written at ``text[i:]`` and where its spelling ends, longest spelling first.

        With ``within``, a region inside it is preferred (``only_within``: required).
        """
        for length in range(min(self._longest, len(text) - i), 1, -1):
            key = text[i : i + length]
            spellings = self._keys.get(key)
            if not spellings:
                continue
            usable = [
                s for s in spellings if self._usable(s, key, text, i + length, after_break)
            ]
            if within is not None:
                inside = [s for s in usable if _is_under(s.region, within)]
                usable = inside if inside or only_within else usable
            if usable:
                return usable[0].region, i + length
        return None

    def _parse_chain(self, text: str, i: int, parent: Region | None) -> Region | None:
        """The deepest region of a top-down chain spelling all of ``text[i:]``, or ``None``."""
        for length in range(min(self._longest, len(text) - i), 1, -1):
            for spelling in self._keys.get(text[i : i + length], ()):
                region = spelling.region
                if parent is not None and not _is_under(region, parent):
                    continue
                if i + length == len(text):
                    return region if parent is not None else None
                deeper = self._parse_chain(text, i + length, region)
                if deeper is not None:
                    return deeper
        return None


def _unknown_message(name: str) -> str:
    return f"未知地区“{name}”：请填写省、市或县的名称，例如“长沙市”或“湖南省”。"


def _parse_tsv(text: str) -> list[Region]:
    """Regions from the TSV text; raises :class:`ReformKBError` when the file is malformed."""
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != _COLUMNS:
        raise ReformKBError("地区数据文件 regions.tsv 的表头不对：请重新安装 reformkb。")
    regions = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(_COLUMNS) or fields[3] not in _LEVEL_RANK:
            raise ReformKBError(f"地区数据文件 regions.tsv 第 {number} 行有误：请重新安装 reformkb。")
        code, name, short, level, province, city = fields
        regions.append(Region(code, name, short, level, province, city or None))
    return regions


@functools.cache
def gazetteer() -> Gazetteer:
    """The gazetteer of the shipped data, loaded on first use and shared afterwards."""
    try:
        text = (resources.files("reformkb") / "data" / "regions.tsv").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ReformKBError("找不到地区数据文件 regions.tsv：请重新安装 reformkb。") from exc
    return Gazetteer(_parse_tsv(text))


def normalize(name: str) -> Region:
    """The region ``name`` names, like :meth:`Gazetteer.lookup`; raises :class:`InputError` if none."""
    region = gazetteer().lookup(name)
    if region is None:
        raise InputError(_unknown_message(name))
    return region
