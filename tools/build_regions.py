"""Generate ``src/reformkb/data/regions.tsv``, the region gazetteer's data, once.

This is a maintainer's tool, run by hand when the administrative divisions change; the package never
imports it and does not depend on what it uses. The TSV it writes is committed, and
``reformkb.ingest.regions`` reads only that file.

Sources of facts:

- the national statistics codes (国家统计局《统计用区划代码》, 2023 edition, 截止 2023-06-30) as published
  in the public repository modood/Administrative-divisions-of-China (``dist/provinces.csv``,
  ``dist/cities.csv``, ``dist/areas.csv``): every provincial, prefecture-level and county-level unit,
  and the statistical management areas (codes ``xxxx7x``: 开发区, 高新区, 管理区, 新区 run by a city);
- 台湾省, 香港特别行政区 and 澳门特别行政区 (not in those files), with their standard codes;
- ``tools/zones.tsv``, written by hand from the State Council's published lists: the 国家级新区, the
  pilot free trade zones and their areas (自贸试验区片区), the cooperation zones (横琴, 前海, 河套) and the
  best-known national development and high-tech zones, each with the unit that runs it;
- the word list of ``jieba`` (``jieba/dict.txt``, read as a file, never imported) to tell which short
  forms of counties are everyday words (see ``EVERYDAY``).

Output columns: ``code name short level province city aliases everyday kind``.

- ``level`` is ``province``, ``city``, ``county`` or ``zone``. The four municipalities count as their
  own city. A county-level unit run directly by its province (仙桃市, 济源市, 五指山市, 石河子市 …) and a
  zone run by a province (雄安新区, the free trade zones) have no city (the column is empty).
- ``short`` is the common short form: the name without its level suffix (省, 市, 县, 区, 旗, 地区, 盟,
  新区, 自治区/州/县/旗 and the ethnic names before them, 特别行政区). Where that stem would be a single
  character (攸县, 城区) or the short form or name of a higher-level unit (长沙县, 吉林市), the short form
  is the full name instead; an autonomous prefecture in that case keeps the usual ``X州`` (海南州).
  Two counties may share a short form (鼓楼区 in 南京, 福州, 徐州 and 开封): the gazetteer treats such a
  spelling as ambiguous.
- ``aliases`` (separated by ``|``) are further spellings of zones: the name with 经开区/高新区 for the
  long type words, without a leading province or city name, with the city's full name, and the hand
  aliases of ``tools/zones.tsv``. An alias that would be another unit's name is dropped.
- ``everyday`` is ``1`` when the short form of a county is also an everyday word (通道, 会同, 和平, 东方):
  the gazetteer does not take it from running text. ``jieba`` marks a word that is not a place name
  (its tag is not ``ns``) and frequent (see ``EVERYDAY``).
- ``kind`` names the zone type (国家级新区, 自贸试验区, 自贸试验区片区, 合作区, 经开区, 高新区, 开发区,
  管理区 …), also for a division that is one (浦东新区 is a district and a 国家级新区).

Usage (from the repository root, with a copy of the repository and ``jieba`` installed)::

    git clone https://github.com/modood/Administrative-divisions-of-China /tmp/divisions
    .venv/bin/python tools/build_regions.py --source /tmp/divisions/dist          # writes the TSV
    .venv/bin/python tools/build_regions.py --source /tmp/divisions/dist --check  # 1 if it differs
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "reformkb" / "data" / "regions.tsv"
ZONES = Path(__file__).resolve().parent / "zones.tsv"
COLUMNS = ("code", "name", "short", "level", "province", "city", "aliases", "everyday", "kind")

# Rows of the source that are not divisions (placeholders for directly administered units).
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Provincial-level units the source does not hold.
EXTRA_PROVINCES = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}

# Provinces whose short form is not the name minus 省/市.
PROVINCE_SHORTS = {
    "内蒙古自治区": "内蒙古",
    "广西壮族自治区": "广西",
    "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏",
    "新疆维吾尔自治区": "新疆",
    "香港特别行政区": "香港",
    "澳门特别行政区": "澳门",
}
MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}
# County-level names whose suffix is not one of the usual ones.
SPECIAL_SHORTS = {"神农架林区": "神农架", "六枝特区": "六枝"}

# The 56 ethnic groups, without 族: autonomous names list them before 自治州/自治县, sometimes
# without 族 (博尔塔拉蒙古自治州, 伊犁哈萨克自治州, 克孜勒苏柯尔克孜自治州).
ETHNIC = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 "
    "纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 "
    "鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山"
).split()

# A county's short form is an everyday word when jieba's dictionary tags it as a common word (not a
# place or person name: ``ns``, ``nr``, ``nrt``) and counts it at least EVERYDAY_MIN_FREQ times, or tags
# it as another proper noun (``nz``: 和平, 新华) and counts it at least EVERYDAY_NZ_FREQ times.
EVERYDAY_MIN_FREQ = 150
EVERYDAY_NZ_FREQ = 1000
PLACE_TAGS = ("ns", "nr", "nrt")
# Short forms jieba counts as common words that are first of all well-known places.
NOT_EVERYDAY = {"仙桃", "石首", "赤壁", "监利", "大兴", "平遥"}

# Long zone type words and their usual abbreviations.
ZONE_ABBREVIATIONS = (
    ("高新技术产业开发区", "高新区"),
    ("高新技术产业园区", "高新区"),
    ("高新技术开发区", "高新区"),
    ("高技术产业开发区", "高新区"),
    ("新技术产业开发区", "高新区"),
    ("经济技术开发区", "经开区"),
    ("自由贸易试验区", "自贸试验区"),
)
# The kind of a statistical zone, from the end of its name.
ZONE_KINDS = (
    ("经济技术开发区", "经开区"),
    ("高新技术产业开发区", "高新区"),
    ("高新技术产业园区", "高新区"),
    ("高新技术开发区", "高新区"),
    ("高技术产业开发区", "高新区"),
    ("经济开发区", "开发区"),
    ("开发区", "开发区"),
    ("工业园区", "园区"),
    ("园区", "园区"),
    ("产业聚集区", "园区"),
    ("食品区", "园区"),
    ("管理区", "管理区"),
    ("管理区管委会", "管理区"),
    ("行政委员会", "管理区"),
    ("示范区", "示范区"),
    ("实验区", "试验区"),
    ("新区", "新区"),
    ("新城", "新城"),
    ("风景名胜区", "风景区"),
)

LEVEL_RANK = {"province": 0, "city": 1, "county": 2, "zone": 3}


@dataclass
class Row:
    code: str
    name: str
    short: str
    level: str
    province: str
    city: str
    aliases: list[str] = field(default_factory=list)
    everyday: bool = False
    kind: str = ""


def read_csv(source: Path, name: str) -> list[dict]:
    path = source / name
    if not path.exists():
        sys.exit(f"{path} not found: pass --source with the dist/ folder of modood/Administrative-divisions-of-China")
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def strip_autonomous(stem: str) -> str:
    """``湘西土家族苗族`` -> ``湘西``: drop trailing ethnic names (with or without 族)."""
    changed = True
    while changed:
        changed = False
        for group in sorted(ETHNIC, key=len, reverse=True):
            for suffix in (group + "族", group):
                if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
                    stem = stem[: -len(suffix)]
                    changed = True
                    break
            if changed:
                break
    return stem


def stem_of(name: str) -> str:
    """The name without its level suffix (and the ethnic names of an autonomous unit)."""
    if name in PROVINCE_SHORTS:
        return PROVINCE_SHORTS[name]
    if name in SPECIAL_SHORTS:
        return SPECIAL_SHORTS[name]
    for suffix in ("自治州", "自治县", "自治旗"):
        if name.endswith(suffix):
            return strip_autonomous(name[: -len(suffix)])
    if name.endswith("新区") and len(name) >= 4:
        return name[:-2]
    for suffix in ("地区", "省", "市", "县", "区", "盟", "旗"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def jieba_words() -> dict[str, tuple[int, str]]:
    """word -> (frequency, tag) from jieba's dictionary file, found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("jieba is not installed: run `.venv/bin/pip install jieba` first")
    path = Path(list(spec.submodule_search_locations)[0]) / "dict.txt"
    words = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                words[parts[0]] = (int(parts[1]), parts[2])
    return words


def is_everyday(word: str, words: dict[str, tuple[int, str]]) -> bool:
    freq, tag = words.get(word, (0, "ns"))
    if word in NOT_EVERYDAY or tag in PLACE_TAGS:
        return False
    return freq >= (EVERYDAY_NZ_FREQ if tag == "nz" else EVERYDAY_MIN_FREQ)


def zone_kind(name: str) -> str:
    for ending, kind in ZONE_KINDS:
        if name.endswith(ending):
            return kind
    return "开发区"


def divisions(source: Path) -> list[Row]:
    """Provinces, cities, counties and statistical zones from the source files."""
    rows: list[Row] = []
    provinces = {r["code"]: r["name"] for r in read_csv(source, "provinces.csv")}
    for code, name in provinces.items():
        rows.append(Row(code + "0000", name, "", "province", name, name if name in MUNICIPALITIES else ""))
    for code, name in EXTRA_PROVINCES.items():
        rows.append(Row(code, name, "", "province", name, ""))
    cities: dict[str, str] = {}  # 4-digit code -> name of the unit counties of that code belong to
    for r in read_csv(source, "cities.csv"):
        province = provinces[r["provinceCode"]]
        if r["name"] in PLACEHOLDERS:
            cities[r["code"]] = province if province in MUNICIPALITIES else ""  # "": run by the province
            continue
        cities[r["code"]] = r["name"]
        rows.append(Row(r["code"] + "00", r["name"], "", "city", province, r["name"]))
    for r in read_csv(source, "areas.csv"):
        if r["code"].endswith("00"):
            continue  # a city without counties (东莞市, 中山市, 儋州市) repeated as its own area
        province = provinces[r["provinceCode"]]
        city = cities[r["cityCode"]]
        if r["code"][4] == "7":
            rows.append(Row(r["code"], r["name"], "", "zone", province, city, kind=zone_kind(r["name"])))
        else:
            rows.append(Row(r["code"], r["name"], "", "county", province, city))
    return rows


def read_zones() -> list[dict]:
    """The hand-written zones: name, kind, province, city (empty: run by the province), aliases."""
    with ZONES.open(encoding="utf-8") as f:
        lines = [line for line in f if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def add_zones(rows: list[Row]) -> None:
    """Merge ``tools/zones.tsv`` into ``rows``: a zone that is already a unit gains its aliases and kind."""
    by_name: dict[tuple[str, str], Row] = {(r.province, r.name): r for r in rows}
    provinces = {r.name for r in rows if r.level == "province"}
    cities = {(r.province, r.city) for r in rows if r.city}
    for z in read_zones():
        name, province, city = z["name"], z["province"], z["city"]
        if province not in provinces:
            sys.exit(f"zones.tsv: unknown province {province} for {name}")
        if city and (province, city) not in cities:
            sys.exit(f"zones.tsv: {city} is not a city of {province} ({name})")
        aliases = [a for a in z["aliases"].split("|") if a]
        row = by_name.get((province, name))
        if row is None:
            row = Row("", name, "", "zone", province, city, kind=z["kind"])
            rows.append(row)
            by_name[(province, name)] = row
        elif city and row.city != city:
            sys.exit(f"zones.tsv: {name} is under {row.city}, not {city}")
        row.kind = z["kind"]
        row.aliases += aliases


# Zone names that say only what kind of zone it is: never an alias on their own.
GENERIC_PREFIXES = ("自贸", "自由贸易", "经济", "经开", "高新", "高技术", "新技术", "国家", "综合", "保税")
GENERIC_NAMES = {"开发区", "工业园区", "新区", "片区", "管理区", "示范区", "新城", "园区"}


def distinctive(tail: str) -> bool:
    """Whether ``tail``, a zone's name without the place in front, still names that zone by itself."""
    return len(tail) >= 4 and not tail.startswith(GENERIC_PREFIXES) and tail not in GENERIC_NAMES


def derived_aliases(row: Row, shorts: dict[str, str], province_shorts: dict[str, str]) -> set[str]:
    """Spellings of a zone besides its name: abbreviated, without a leading place, with the city's full name."""
    forms = {row.name, *row.aliases}
    province_short = province_shorts.get(row.province, "")
    for form in list(forms):  # 湖南自贸试验区长沙片区 is also written 中国（湖南）自由贸易试验区长沙片区, 湖南自贸区长沙片区
        if province_short and form.startswith(province_short + "自贸试验区"):
            rest = form[len(province_short + "自贸试验区"):]
            forms.update(f"{head}{rest}" for head in (f"中国（{province_short}）自由贸易试验区",
                                                       f"{province_short}自由贸易试验区", f"{province_short}自贸区"))
    for form in list(forms):
        for long, short in ZONE_ABBREVIATIONS:  # the longest type word only (高新技术产业开发区)
            if long in form:
                forms.add(form.replace(long, short))
                break
    city_short = shorts.get(row.city, "") if row.level == "zone" else ""  # a division keeps its hand aliases
    for form in list(forms):
        rest = form
        for prefix in (row.province, province_shorts.get(row.province, "")) if row.level == "zone" else ():
            if prefix and rest.startswith(prefix) and rest != prefix:
                tail = rest[len(prefix):]
                if distinctive(tail) or (city_short and tail.startswith(city_short)):
                    rest = tail
                    forms.add(rest)
                break
        for prefix in (row.city, city_short):
            if city_short and rest.startswith(prefix):
                tail = rest[len(prefix):]
                forms.update((row.city + tail, city_short + tail))  # 长沙经开区, 长沙市经开区
                if distinctive(tail):
                    forms.add(tail)
                break
    forms.discard(row.name)
    return forms


def build(source: Path) -> list[Row]:
    rows = divisions(source)
    add_zones(rows)
    words = jieba_words()
    # Short forms, highest level first, so that a lower unit never takes a higher one's short form.
    rows.sort(key=lambda r: (LEVEL_RANK[r.level], r.code or "999999", r.name))
    higher: set[str] = set()  # names and short forms of provinces and cities
    for row in rows:
        if row.level == "zone":
            row.short = row.name
            continue
        stem = stem_of(row.name)
        if len(stem) < 2 or stem in higher:
            stem = stem + "州" if row.name.endswith("自治州") and stem + "州" not in higher else row.name
        if row.level in ("province", "city"):
            if stem in higher or row.name in higher:
                raise SystemExit(f"short form {stem} of {row.name} is taken")
            higher.update((stem, row.name))
        row.short = stem
        row.everyday = row.level == "county" and stem != row.name and is_everyday(stem, words)
    shorts = {r.name: r.short for r in rows if r.level in ("province", "city")}
    province_shorts = {r.name: r.short for r in rows if r.level == "province"}
    taken = {r.name for r in rows} | {r.short for r in rows}
    claimed: dict[str, list[Row]] = {}
    for row in rows:
        if row.level == "zone" or row.aliases:
            for alias in derived_aliases(row, shorts, province_shorts):
                claimed.setdefault(alias, []).append(row)
    for alias, owners in sorted(claimed.items()):
        if alias in taken or len(owners) > 1:
            continue  # another unit's name, or two zones' spelling: not an alias of either
        owners[0].aliases.append(alias)
    for row in rows:
        row.aliases = sorted({a for a in row.aliases if a in claimed and len(claimed[a]) == 1
                              and a not in taken}, key=lambda a: (len(a), a))
        if row.level == "zone" and len(row.aliases) and min(map(len, row.aliases)) < len(row.short):
            row.short = row.aliases[0]
    return rows


def render(rows: list[Row]) -> str:
    lines = ["\t".join(COLUMNS)]
    for r in rows:
        lines.append("\t".join((r.code, r.name, r.short, r.level, r.province, r.city, "|".join(r.aliases),
                                "1" if r.everyday else "", r.kind)))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="the dist/ folder of modood/Administrative-divisions-of-China")
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args()
    rows = build(args.source)
    text = render(rows)
    counts = {lvl: sum(r.level == lvl for r in rows) for lvl in LEVEL_RANK}
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'DIFFERS'} {counts}")
        sys.exit(0 if same else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}: {len(rows)} rows {counts}")


if __name__ == "__main__":
    main()
