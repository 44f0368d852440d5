"""按地区浏览: counts by province and topic, a drill-down province → city → county or zone, and a table
of practices to pick from. Zones count like counties (苏州工业园区 under 苏州市); records whose place is
to confirm have their own province entry, "地区待确认"."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import counted, export_bar, knowledge_base, show_card
from reformkb.ingest.places import NO_PROVINCE, PROVINCE_LEVEL
from reformkb.records import KIND_PRACTICE
from reformkb.search.fusion import Filters

ORDERS = {"latest": "最新收录", "reduction": "压缩幅度最大", "region": "按地区", "date": "专报日期"}
BROWSE_LIMIT = 500


def _records(kb, province: str, city: str, county: str, topic: str, order: str):
    """The records of the chosen place (a county or zone, else a city, else a province) and topic."""
    if province == NO_PROVINCE:  # ambiguous or unknown places: no province to filter by
        ids = [i for place in kb.unresolved_places(KIND_PRACTICE) if not place.province for i in place.ids]
        found = [kb.get(i) for i in ids[:BROWSE_LIMIT]]
        return [r for r in found if not topic or topic in r.topics]
    city_filter = ""
    if city == PROVINCE_LEVEL:  # the province's own records, and places to confirm known only by it
        extra = [i for place in kb.unresolved_places(KIND_PRACTICE)
                 if place.province == province and not place.city and not place.county for i in place.ids]
        found = kb.records(Filters(province=province, region=province, topic=topic), order=order, limit=BROWSE_LIMIT)
        found += [r for r in (kb.get(i) for i in extra[:BROWSE_LIMIT]) if not topic or topic in r.topics]
        return found[:BROWSE_LIMIT]
    if county:
        region, city_filter = county, city
    else:
        region = city
    filters = Filters(province=province, region=region, city=city_filter, topic=topic)
    return kb.records(filters, order=order, limit=BROWSE_LIMIT)


def page() -> None:
    kb = knowledge_base()
    tree = kb.place_tree()
    if not tree:
        st.info("知识库中还没有标杆经验：可在“新增案例”或“导入专报”中添加。")
        return
    totals = {p.name: p.count for p in tree}
    left, right = st.columns(2)
    with left:
        st.markdown("**各省份标杆经验数**")
        st.bar_chart(pd.DataFrame({"省份": list(totals), "案例数": list(totals.values())}), x="省份", y="案例数",
                     horizontal=True, sort="-案例数", height=60 + 32 * len(totals), x_label="", y_label="")
    with right:
        topics = kb.topic_counts()
        st.markdown("**各主题标杆经验数**")
        st.bar_chart(pd.DataFrame(topics, columns=["主题", "案例数"]), x="主题", y="案例数", horizontal=True,
                     sort="-案例数", height=60 + 32 * len(topics), x_label="", y_label="")
    st.markdown("**省份与地区**")
    st.dataframe(pd.DataFrame([{"省份": p.name, "案例数": p.count,
                                "地区（案例数）": "、".join(f"{c.name} {c.count}" for c in p.children)}
                               for p in tree]), hide_index=True)

    c1, c2, c3, c4, c5 = st.columns(5)
    province = c1.selectbox("省份", ["", *totals], format_func=counted(totals, "全部省份"), key="b_province",
                            on_change=lambda: st.session_state.update(b_region="", b_county=""),
                            persist_state="session")
    cities = {c.name: c for p in tree if not province or p.name == province for c in p.children
              if province or c.name != PROVINCE_LEVEL}  # 省级 means something only inside a province
    city_counts = {name: c.count for name, c in cities.items()}
    city = c2.selectbox("城市", ["", *city_counts], format_func=counted(city_counts, "全部城市"), key="b_region",
                        on_change=lambda: st.session_state.update(b_county=""), persist_state="session")
    county_counts = {c.name: c.count for c in cities[city].children} if city in cities else {}
    county = c3.selectbox("县区、园区", ["", *county_counts], format_func=counted(county_counts, "全部县区"),
                          key="b_county", disabled=not county_counts, persist_state="session")
    topic_count = dict(kb.topic_counts())
    topic = c4.selectbox("主题", ["", *topic_count], format_func=counted(topic_count, "全部主题"), key="b_topic",
                         persist_state="session")
    order = c5.selectbox("排序", list(ORDERS), format_func=ORDERS.get, key="b_order", persist_state="session")
    if city and not province:  # a city chosen among all provinces' cities
        province = next(p.name for p in tree if any(c.name == city for c in p.children))
    records = _records(kb, province, city if city in cities else "", county if county in county_counts else "",
                       topic, order)
    more = f"（只列出前 {BROWSE_LIMIT} 条，请缩小范围）" if len(records) == BROWSE_LIMIT else ""
    st.caption(f"{len(records)} 条{more}。点表格中的一行查看完整案例；点列名可排序。")
    table = pd.DataFrame([{"编号": r.id, "地区": r.region, "单位": r.agency, "标题": r.title,
                           "主题": "、".join(r.topics), "成效": "；".join(b for b, _ in ui.metric_badges(r)),
                           "日期": r.source.date} for r in records])
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="b_table")
    if event.selection.rows:
        rec = records[event.selection.rows[0]]
        show_card(rec, key="b")
        export_bar([rec], f"标杆经验_{rec.id}")
