"""按地区浏览: counts by province and topic, and a table of practices to pick from."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import counted, export_bar, knowledge_base, show_card
from reformkb.search.fusion import Filters

ORDERS = {"latest": "最新收录", "reduction": "压缩幅度最大", "region": "按地区", "date": "专报日期"}
BROWSE_LIMIT = 500


def page() -> None:
    kb = knowledge_base()
    regions = kb.regions()
    if not regions:
        st.info("知识库中还没有标杆经验：可在“新增案例”或“导入专报”中添加。")
        return
    by_province: dict[str, list] = {}
    for r in regions:
        by_province.setdefault(r.province, []).append(r)
    totals = {p: sum(r.count for r in rs) for p, rs in by_province.items()}
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
    st.dataframe(pd.DataFrame([{"省份": p, "案例数": totals[p],
                                "地区（案例数）": "、".join(f"{r.region} {r.count}" for r in rs)}
                               for p, rs in by_province.items()]), hide_index=True)

    c1, c2, c3, c4 = st.columns(4)
    province = c1.selectbox("省份", ["", *totals], format_func=counted(totals, "全部省份"), key="b_province",
                            on_change=lambda: st.session_state.update(b_region=""), persist_state="session")
    places = {r.region: r.count for r in regions if not province or r.province == province}
    region = c2.selectbox("地区", ["", *places], format_func=counted(places, "全部地区"), key="b_region",
                          persist_state="session")
    topic_count = dict(kb.topic_counts())
    topic = c3.selectbox("主题", ["", *topic_count], format_func=counted(topic_count, "全部主题"), key="b_topic",
                         persist_state="session")
    order = c4.selectbox("排序", list(ORDERS), format_func=ORDERS.get, key="b_order", persist_state="session")
    records = kb.records(Filters(province=province, region=region, topic=topic), order=order, limit=BROWSE_LIMIT)
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
