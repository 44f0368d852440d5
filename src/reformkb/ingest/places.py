"""The places of stored records: counts to browse by (province → city → county or zone) and the places
still to confirm ("地区待确认").

Nothing here is stored: both are derived from the records' ``province``, ``city``, ``county`` and
``region`` columns and the gazetteer. A record's place is to confirm when its stored region is not a
unit of the gazetteer (see :func:`reformkb.ingest.enrich.place_review`), so confirming a place (editing
the records, or adding it to the knowledge base's own places) needs no migration.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from reformkb.errors import InputError
from reformkb.ingest.enrich import UNRESOLVED, PlaceReview, place_review
from reformkb.ingest.regions import Gazetteer, Region, add_place, gazetteer_for
from reformkb.records import Record
from reformkb.store import Store

#: The label of records with no province (an ambiguous or unknown place).
NO_PROVINCE = UNRESOLVED
#: The label, inside a province, of records of the province itself (no city).
PROVINCE_LEVEL = "省级"


@dataclass
class RegionCount:
    """A region with records, its province and how many."""

    province: str
    region: str
    count: int


@dataclass
class PlaceCount:
    """A province, city, county or zone and how many records lie in it; ``children`` one level down."""

    name: str
    count: int
    children: list["PlaceCount"] = field(default_factory=list)


@dataclass
class UnresolvedPlace:
    """A place as stored that is not a unit of the gazetteer, with its records and why."""

    region: str
    province: str
    city: str
    county: str
    count: int
    review: PlaceReview
    ids: list[int] = field(default_factory=list)


def _kind_filter(kind: str) -> tuple[str, list]:
    return ("kind = ?", [kind]) if kind else ("", [])


def place_tree(store: Store, province: str = "", kind: str = "") -> list[PlaceCount]:
    """Provinces (or the cities of ``province``) with their counts, most first, each with its cities and
    their counties and zones. A province's own records are under :data:`PROVINCE_LEVEL`; a unit run by
    its province (仙桃市, 雄安新区) stands beside the cities; records with no province are under
    :data:`NO_PROVINCE`."""
    where, params = _kind_filter(kind)
    if province:
        where = " AND ".join(x for x in (where, "province = ?") if x)
        params = [*params, province]
    tree: dict[str, dict[str, dict[str, int]]] = {}
    for row in store.grouped_counts(["province", "city", "county"], where, params):
        city = row["city"] or row["county"] or PROVINCE_LEVEL
        county = row["county"] if row["city"] else ""
        counties = tree.setdefault(row["province"] or NO_PROVINCE, {}).setdefault(city, {})
        counties[county] = counties.get(county, 0) + row["n"]
    out = []
    for name, cities in tree.items():
        city_counts = []
        for city, counties in cities.items():
            children = [PlaceCount(c, n) for c, n in counties.items() if c]
            city_counts.append(PlaceCount(city, sum(counties.values()), _ordered(children)))
        out.append(PlaceCount(name, sum(c.count for c in city_counts), _ordered(city_counts)))
    return _ordered(out)


def _ordered(counts: list[PlaceCount]) -> list[PlaceCount]:
    return sorted(counts, key=lambda c: (c.name in (NO_PROVINCE, PROVINCE_LEVEL), -c.count, c.name))


def unresolved(store: Store, gaz: Gazetteer, kind: str = "") -> list[UnresolvedPlace]:
    """Every stored place that is "地区待确认", with its record count and review, most records first."""
    where, params = _kind_filter(kind)
    out = []
    for row in store.grouped_counts(["region", "province", "city", "county"], where, params):
        rec = Record(text="", region=row["region"], province=row["province"], city=row["city"],
                     county=row["county"])
        review = place_review(rec, gaz)
        if review is None:
            continue
        clauses = "region = ? AND province = ? AND city = ?" + (f" AND {where}" if where else "")
        ids = store.ids(clauses, [row["region"], row["province"], row["city"], *params])
        out.append(UnresolvedPlace(row["region"], row["province"], row["city"], row["county"], row["n"],
                                   review, ids))
    return out


def add_own_place(store, home, name: str, parent: str, actor: str, unresolved, edit) -> Region:
    """Add ``name`` under ``parent`` to the knowledge base's own places (``places.tsv`` in ``home``), log
    it, and re-place every record written as it (``edit(record_id, region)``, the facade's write)."""
    region = add_place(home, name, parent)
    store.log_event("add-place", actor, {"name": region.name, "parent": parent})
    gaz = gazetteer_for(home)
    for place in unresolved():  # records written as this place now resolve to it
        if gaz.lookup(place.region) == region:
            for rid in place.ids:
                edit(rid, place.region)
    return region


def ids_written(unresolved: list[UnresolvedPlace], written: str) -> list[int]:
    """The ids of the records whose unresolved place is ``written``; InputError when there are none."""
    found = [rid for u in unresolved if u.region == written for rid in u.ids]
    if not found:
        raise InputError(f"没有地区待确认为“{written}”的案例：请从待确认地区列表中选择。")
    return found

