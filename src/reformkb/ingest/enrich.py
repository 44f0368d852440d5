"""Completing a record: validated text, normalized region, title, agency, topics, metrics, hash.

Used for every way a record enters the knowledge base (form, CLI, bulletin import, record files),
so that they all follow the same rules. Values the user gave are kept; only missing ones are derived.
"""
from __future__ import annotations

from reformkb.errors import InputError
from reformkb.ingest.metrics import extract_metrics
from reformkb.ingest.regions import gazetteer, normalize
from reformkb.ingest.titles import find_agency, make_title
from reformkb.ingest.topics import assign_topics, normalize_topic
from reformkb.records import KINDS, Record, clean_field, content_hash, parse_date, validate_text
from reformkb.settings import Settings


def set_region(rec: Record, name: str) -> None:
    """Fill region, province, city and county from a place name; InputError for an unknown one."""
    region = normalize(name)
    rec.region = region.name
    rec.province = region.province
    rec.city = region.city or ""
    rec.county = region.name if region.level == "county" else ""
    rec.region_raw = rec.region_raw or name.strip()


def complete(rec: Record, settings: Settings) -> Record:
    """Validate ``rec`` and derive what is missing. Raises InputError with the reason; never stores."""
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
    if given:
        set_region(rec, given)
    else:
        leading = gazetteer().find_leading(rec.text)
        if not leading:
            raise InputError("没有填写地区，正文开头也没有写明地区：请填写案例所在的省、市或县，例如“长沙市”。")
        rec.region_raw = leading[1]
        set_region(rec, leading[0].name)
    rec.title = (rec.title or "").strip()[:40] or make_title(rec.text, rec.region_raw)
    rec.agency = (rec.agency or "").strip() or find_agency(rec.text) or ""
    rec.topics = [normalize_topic(str(t)) for t in rec.topics if str(t).strip()] or assign_topics(rec.text)
    rec.topics = list(dict.fromkeys(rec.topics))
    rec.metrics = [{**m.to_dict(), "badge": m.badge()} for m in extract_metrics(rec.text)]
    rec.source.date = parse_date(rec.source.date)
    rec.ref = (rec.ref or "").strip()
    rec.content_hash = content_hash(rec.text)
    return rec
