"""Completing a record: validated text, its place, title, agency, topics, metrics, hash.

Used for every way a record enters the knowledge base (form, CLI, bulletin import, record files),
so that they all follow the same rules. Values the user gave are kept; only missing ones are derived.

A record is never refused for its place or its topics. A place the gazetteer does not hold is kept as
written, under the deepest region named before it (``浏阳市大瑶镇`` under 浏阳市), and an ambiguous one
(``朝阳区``) is kept with no province or city: both are "地区待确认" (see :func:`place_review`), derived
from the stored region not being a unit of the gazetteer. A topic outside the taxonomy is mapped to
the topic it clearly means (``获得信贷融资`` → 获得信贷) or kept as the user's own tag
(see :func:`topic_warnings`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from reformkb.errors import InputError
from reformkb.ingest.bulletin import leading_places
from reformkb.ingest.metrics import record_metrics
from reformkb.ingest.regions import (
    CORPS,
    NATIONAL_BODY,
    Gazetteer,
    Placement,
    Region,
    ambiguous_message,
    check_place_text,
    gazetteer_for,
    unknown_message,
)
from reformkb.ingest.titles import find_agency, is_agency_name, make_title
from reformkb.ingest.topics import assign_topics, topic_for, topic_names
from reformkb.records import KINDS, Record, clean_field, content_hash, parse_date, validate_text
from reformkb.settings import Settings

#: What the review, the record card and ``reformkb regions --unresolved`` call a place to confirm.
UNRESOLVED = "地区待确认"

# A town or street written right after a region at the start of a text (东莞市虎门镇推行……): a few
# characters and 镇, 乡 or 街道, without a verb. (Zone-like words such as 新城 or 园区 are too common
# in running text to be read this way; in a region field they are kept as written.)
_SMALL_PLACE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:街道|镇|乡)")
_VERBS = ("推行", "推出", "推动", "推进", "出台", "印发", "开展", "首创", "率先", "上线", "启用", "开通", "发布",
          "制定", "实行", "实施", "举办", "召开", "打造", "加快", "探索", "深化", "落实", "建立", "建设", "创新",
          "围绕", "依托", "聚焦", "通过", "以", "在", "对", "为", "将")


@dataclass(frozen=True)
class PlaceReview:
    """Why a stored record's place needs confirming, and the units it may be (for an ambiguous name)."""

    message: str
    candidates: tuple[Region, ...] = ()


def context_regions(rec: Record, gaz: Gazetteer) -> list[Region]:
    """The regions that decide an ambiguous place: those the text names, then the bulletin's home."""
    found = gaz.find_all(rec.text[:500])
    home = gaz.find_leading(rec.source.title or "")
    return found + ([home[0]] if home else [])


def read_place(text: str, gaz: Gazetteer, context=()) -> tuple[Placement, str]:
    """The place a region field names and the agency written with it (``深圳市税务局`` → 深圳市,
    ``税务局``; ``国家税务总局厦门市税务局`` → 厦门市, ``税务局``; ``国网江苏省电力有限公司`` → 江苏省)."""
    placement = gaz.resolve(text, context)
    if (corps := CORPS.match(text)) and (inner := gaz.resolve(text[corps.end():], context)).region:
        placement = inner  # 新疆生产建设兵团第八师石河子市: the city the division runs
    if not (placement.region or placement.candidates or placement.parent):
        # An agency of higher level in front of the place (国家税务总局厦门市税务局)
        written = placement.written
        for k in range(2, len(written) - 1):
            if is_agency_name(written[:k]) or NATIONAL_BODY.fullmatch(written[:k]):
                inner = gaz.resolve(written[k:], context)
                if inner.region or inner.candidates or inner.parent:
                    placement = inner
                    break
    agency = ""
    if placement.rest and is_agency_name(placement.rest):
        agency = placement.rest
        place = placement.written[: len(placement.written) - len(placement.rest)]
        if placement.candidates:
            placement = Placement(place, candidates=placement.candidates)
        elif placement.parent:
            placement = Placement(place, region=placement.parent)
    return placement, agency


def apply_place(rec: Record, placement: Placement) -> None:
    """Fill region, province, city and county from a placement (see the module docstring)."""
    region = placement.region
    if region is not None:
        rec.region, rec.province, rec.city = region.name, region.province, region.city or ""
        rec.county = region.name if region.level in ("county", "zone") else region.county
        return
    parent = placement.parent
    rec.region = placement.written
    rec.province = parent.province if parent else ""
    rec.city = (parent.city or "") if parent else ""
    if parent and parent.level in ("county", "zone"):
        rec.county = parent.name
    else:
        rec.county = parent.county if parent else ""


def set_region(rec: Record, name: str, gaz: Gazetteer) -> str:
    """Fill the place fields from a place name, keep it as written in ``region_raw``; the agency
    written with it, if any. An ambiguous name is decided by :func:`context_regions` when it can be.
    InputError only for text that cannot be a place name."""
    written = check_place_text(name)
    placement, agency = read_place(written, gaz)
    if placement.ambiguous:  # the text and the bulletin are read only when needed
        placement, agency = read_place(written, gaz, context_regions(rec, gaz))
    apply_place(rec, placement)
    rec.region_raw = rec.region_raw or written
    return agency


def place_filter(text: str, gaz: Gazetteer) -> tuple[str, str, str]:
    """``(region, province, city)`` to find the records of a place as a user types it (``苏州`` gives the
    city, so its counties and zones too; ``北京市朝阳区`` the district of that city; ``深圳市税务局`` the
    city; ``浏阳市大瑶镇`` a place stored as written). A province gives only ``province``.

    :class:`InputError` for text that cannot be a place, an ambiguous name (listing the candidates) or
    a place with no known part.
    """
    placement, _ = read_place(check_place_text(text), gaz)
    region = placement.region
    if region is not None:
        if region.level == "province":
            return "", region.name, ""
        if region.level == "city":
            return region.name, region.province, ""
        return region.name, region.province, region.city or ""
    if placement.ambiguous:
        raise InputError(ambiguous_message(text, placement.candidates))
    if placement.parent is None:
        raise InputError(unknown_message(text))
    return placement.written, placement.parent.province, ""


def leading_place(text: str, gaz: Gazetteer) -> str:
    """The place a text starts with, as written, with a smaller place right after it (东莞市虎门镇)."""
    leading = gaz.find_leading(text)
    if not leading:
        return ""
    span = leading[1]
    after = text[text.find(span) + len(span):]
    small = _SMALL_PLACE.match(after)
    if small and not any(verb in small.group() for verb in _VERBS) and gaz.find_leading(small.group()) is None:
        span += small.group()
    return span


def complete(rec: Record, settings: Settings, gaz: Gazetteer | None = None) -> Record:
    """Validate ``rec`` and derive what is missing. Raises InputError with the reason; never stores.

    ``gaz`` is the gazetteer to read places with (default: the shipped one with the places of the
    knowledge base in ``settings.home``).
    """
    gaz = gaz or gazetteer_for(settings.home)
    rec.text = validate_text(rec.text, settings.max_text_chars)
    limit = settings.max_field_chars
    for attr, label in (("title", "标题"), ("agency", "单位"), ("ref", "外部编号"), ("region", "地区"),
                        ("region_raw", "地区"), ("created_at", "收录时间")):
        setattr(rec, attr, clean_field(getattr(rec, attr), label, limit))
    for attr, label in (("title", "来源专报"), ("issue", "期号"), ("section", "栏目"), ("file", "来源文件"),
                        ("date", "日期")):
        setattr(rec.source, attr, clean_field(getattr(rec.source, attr), label, limit))
    if rec.kind not in KINDS:
        raise InputError(f"未知的案例类型“{rec.kind}”：应为 practice（标杆经验）或 action（工作动态）。")
    given = (rec.region or rec.region_raw).strip()
    agency = ""
    unit = gaz.unit(rec.region, rec.province, rec.city) if rec.region else None
    if unit is not None:  # already a unit with its province and city (a stored record being edited)
        apply_place(rec, Placement(unit.name, region=unit))
    else:
        if not given:
            given = leading_place(rec.text, gaz)
            if not given:
                raise InputError("没有填写地区，正文开头也没有写明地区：请填写案例所在的省、市或县，例如“长沙市”。")
            rec.region_raw = given
        agency = set_region(rec, given, gaz)
    # The title leaves out the place the text starts with as the text writes it, not as the region field
    # does (“--region 苏州” with “苏州市推行…” must not give the title “市推行…”).
    rec.title = (rec.title or "").strip()[:40] or make_title(rec.text, leading_place(rec.text, gaz) or rec.region_raw)
    rec.agency = (rec.agency or "").strip() or agency or find_agency(rec.text) or ""
    rec.topics = list(dict.fromkeys(_topics(rec.topics) or assign_topics(rec.text)))
    rec.metrics = record_metrics(rec.text)
    rec.source.date = parse_date(rec.source.date)
    rec.ref = (rec.ref or "").strip()
    rec.content_hash = record_hash(rec)
    return rec


def record_hash(rec: Record) -> str:
    """The content hash of a record: of its text, and of its region too when the text names several
    places at its start ("南昌、赣州两市试点……"), so that each place's record of that sentence (its
    siblings) is stored, and the duplicate check still finds a re-import of either."""
    opening = rec.text[:60]
    first_break = min((i for i in map(opening.find, "，。；：,;:") if i >= 0), default=len(opening))
    if not any(ch in opening[:first_break] for ch in "、和与及"):
        return content_hash(rec.text)  # one place at most: the common case, decided without the gazetteer
    lead = leading_places(rec.text[:200])
    if lead is not None and len(lead.places) > 1 and rec.region in {r.name for r, _ in lead.places}:
        return content_hash(f"{rec.text}\n{rec.region}")
    return content_hash(rec.text)


def _topics(given: list) -> list[str]:
    """Topics as given, each mapped to its topic where it clearly is one, else kept as a user tag."""
    out = []
    for item in given:
        if not isinstance(item, str):
            raise InputError("主题应为文字，例如 [\"企业注销\"]。")
        name = " ".join(item.split())
        if name:
            out.append(topic_for(name) or name)
    return out


def topic_warnings(rec: Record) -> list[str]:
    """A warning for each of the record's topics that is not in the taxonomy (a user tag)."""
    known = set(topic_names())
    return [f"主题“{t}”不在主题分类中，已作为自定义标签保存；可用的主题有：{'、'.join(topic_names())}。"
            for t in rec.topics if t not in known]


def place_review(rec: Record, gaz: Gazetteer) -> PlaceReview | None:
    """Why the record's place is "地区待确认" (``None`` when it is a unit of the gazetteer)."""
    if gaz.unit(rec.region, rec.province, rec.city) is not None:
        return None
    candidates = tuple(gaz.candidates(rec.region)) if rec.region else ()
    if len(candidates) > 1:
        return PlaceReview(f"{UNRESOLVED}：“{rec.region}”有 {len(candidates)} 处（"
                           f"{'、'.join(c.label for c in candidates)}），请选择一处。", candidates)
    if len(candidates) == 1:
        return PlaceReview(f"{UNRESOLVED}：“{rec.region}”应为“{candidates[0].label}”，请确认。", candidates)
    where = "".join(dict.fromkeys(x for x in (rec.province, rec.city, rec.county) if x))
    inside = f"，暂归入{where}" if where else ""
    return PlaceReview(f"{UNRESOLVED}：“{rec.region or '（未填写）'}”不在地区表中{inside}；"
                       "可确认并新增为地名，或改为已知地区。")
