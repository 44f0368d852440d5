"""Generate ``src/reformkb/data/regions.tsv``, the region gazetteer's data, once.

This is a maintainer's tool, run by hand when the administrative divisions change; the package never
imports it and does not depend on what it uses. The TSV it writes is committed, and ``reformkb.ingest.regions``
reads only that file.

Source of facts: the ``adcodes.csv`` table shipped inside the PyPI package ``cpca`` (0.5.5, data from
about 2017). The file is read directly from the installed package; ``cpca`` itself is never imported
(its ``__init__`` builds a matcher and needs ``pkg_resources``).

What it keeps:
- the 34 provincial-level units (the four municipalities count as their own city);
- every prefecture-level division (地级市, 地区, 自治州, 盟), without the placeholder rows
  ``市辖区``, ``县`` and ``省直辖县级行政区划``;
- Hunan's county-level divisions (市辖区, 县级市, 县, 自治县).

What it corrects (changes after the source's snapshot; see ``CORRECTIONS`` and ``REMOVED``):
- 莱芜市 (371200) merged into 济南市 in 2019: dropped;
- 那曲地区 (542400) became 那曲市 (540600) in 2017;
- 宁乡县 → 宁乡市 (430182, 2017); 株洲县 → 渌口区 (430212, 2018); 邵东县 → 邵东市 (430582, 2019);
  祁阳县 → 祁阳市 (431182, 2021).

The ``short`` column is the common short form: the name without its level suffix (省, 市, 县, 区, 地区,
盟, 自治区/自治州/自治县 and the ethnic names before them, 特别行政区). Where that stem would be a
single character (攸县, 南县) or the short form of a higher-level unit (长沙县, 吉林市), the short form
is the full name instead; an autonomous prefecture in that case keeps the usual ``X州`` (海南州).

Usage (from the repository root, with ``cpca`` installed in the virtualenv)::

    .venv/bin/pip install cpca
    .venv/bin/python tools/build_regions.py            # writes src/reformkb/data/regions.tsv
    .venv/bin/python tools/build_regions.py --check    # exits 1 if the committed file differs
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "reformkb" / "data" / "regions.tsv"
COLUMNS = ("code", "name", "short", "level", "province", "city")

# Rows of the source that are not divisions (placeholders for directly administered units).
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# Source rows that no longer exist, by 6-digit code.
REMOVED = {
    "371200",  # 莱芜市: merged into 济南市 (2019)
    "542400",  # 那曲地区: replaced by 那曲市 540600 (2017)
    "430124",  # 宁乡县: became 宁乡市 430182 (2017)
    "430221",  # 株洲县: became 渌口区 430212 (2018)
    "430521",  # 邵东县: became 邵东市 430582 (2019)
    "431121",  # 祁阳县: became 祁阳市 431182 (2021)
}

# Rows to add (code -> name), the successors of the rows above.
CORRECTIONS = {
    "540600": "那曲市",
    "430182": "宁乡市",
    "430212": "渌口区",
    "430582": "邵东市",
    "431182": "祁阳市",
}

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

# The 56 ethnic groups, without 族: autonomous names list them before 自治州/自治县, sometimes
# without 族 (博尔塔拉蒙古自治州, 伊犁哈萨克自治州, 克孜勒苏柯尔克孜自治州).
ETHNIC = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 "
    "纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 "
    "鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 高山"
).split()

LEVEL_RANK = {"province": 0, "city": 1, "county": 2}


@dataclass
class Row:
    code: str
    name: str
    short: str
    level: str
    province: str
    city: str


def source_csv() -> Path:
    """The path of cpca's ``adcodes.csv``, found without importing ``cpca``."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("cpca is not installed: run `.venv/bin/pip install cpca` first")
    return Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"


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
    for suffix in ("自治州", "自治县"):
        if name.endswith(suffix):
            return strip_autonomous(name[: -len(suffix)])
    for suffix in ("地区", "省", "市", "县", "区", "盟"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def load_source() -> dict[str, str]:
    """6-digit code -> name for every row of the source, corrected."""
    with source_csv().open(encoding="utf-8") as f:
        table = {r["adcode"][:6]: r["name"] for r in csv.DictReader(f)}
    for code in REMOVED:
        table.pop(code)
    for code, name in CORRECTIONS.items():
        assert code not in table, code
        table[code] = name
    return table


def build() -> list[Row]:
    table = load_source()
    rows: list[Row] = []
    provinces = {code[:2]: name for code, name in table.items() if code.endswith("0000")}
    city_names: dict[str, str] = {}
    for code, name in sorted(table.items()):
        if name in PLACEHOLDERS:
            continue
        province = provinces[code[:2]]
        if code.endswith("0000"):
            city = name if name in MUNICIPALITIES else ""
            rows.append(Row(code, name, "", "province", name, city))
        elif code.endswith("00"):
            if province in MUNICIPALITIES:
                continue
            city_names[code[:4]] = name
            rows.append(Row(code, name, "", "city", province, name))
        elif code.startswith("43"):
            rows.append(Row(code, name, "", "county", province, city_names[code[:4]]))

    # Short forms, highest level first, so that a lower unit never takes a higher one's short form.
    taken: set[str] = set()
    for row in sorted(rows, key=lambda r: (LEVEL_RANK[r.level], r.code)):
        stem = stem_of(row.name)
        if len(stem) < 2 or stem in taken:
            stem = stem + "州" if row.name.endswith("自治州") else row.name
        if stem in taken:
            raise SystemExit(f"short form {stem} of {row.name} is taken")
        row.short = stem
        taken.add(stem)
    return rows


def render(rows: list[Row]) -> str:
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(getattr(r, c) for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args()
    rows = build()
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
