"""检索: search in the staff's own words, with filters in the sidebar."""
from __future__ import annotations

import streamlit as st

from reformkb.app.common import counted, export_bar, knowledge_base, reported, show_card
from reformkb.ingest.topics import topic_names
from reformkb.kb import KnowledgeBase
from reformkb.records import KIND_PRACTICE
from reformkb.search.fusion import Filters

MODES = {"hybrid": "智能", "keyword": "关键词", "semantic": "语义"}
MODE_HELP = "智能：兼顾字面和意思（推荐）；关键词：只找包含这些字词的案例；语义：按意思找，说法不同也能找到。"
NO_RESULT = ("没有找到符合条件的案例。可以换一个更宽泛的说法（例如用“注销”代替“企业简易注销一网通办”），"
             "改用“智能”检索，或清除左侧的筛选条件。")
SEARCH_FILTERS = {"province": "", "region": None, "topic": "", "source": "", "date_from": None, "date_to": None}


def _clear_filters() -> None:
    for key, value in SEARCH_FILTERS.items():
        st.session_state[key] = value


def search_sidebar(kb: KnowledgeBase) -> tuple[Filters, str, int]:
    sb = st.sidebar
    mode = sb.radio("检索方式", list(MODES), format_func=MODES.get, key="mode", horizontal=True, help=MODE_HELP,
                    persist_state="session")
    sb.markdown("**筛选**")
    with_actions = sb.toggle("包含本地工作动态", key="with_actions", persist_state="session",
                             help="默认只查标杆经验（【战术借鉴】）；打开后也查本地的工作动态（【战斗动态】）。")
    kind = "" if with_actions else KIND_PRACTICE
    regions = kb.regions(kind)
    provinces: dict[str, int] = {}
    for r in regions:
        provinces[r.province] = provinces.get(r.province, 0) + r.count
    province = sb.selectbox("省份", ["", *provinces], format_func=counted(provinces, "全部省份"), key="province",
                            on_change=lambda: st.session_state.update(region=None), persist_state="session")
    places = {r.region: r.count for r in regions if not province or r.province == province}
    region = sb.selectbox("地区", list(places), index=None, format_func=counted(places, ""), key="region",
                          placeholder="全部地区（也可输入县区名）", accept_new_options=True, persist_state="session")
    topics = dict(kb.topic_counts(kind))
    topic = sb.selectbox("主题", ["", *topic_names()], format_func=counted(topics, "全部主题"), key="topic",
                         persist_state="session")
    sources = {}
    for title, _, n in kb.sources():
        sources[title] = sources.get(title, 0) + n
    source = sb.selectbox("来源专报", ["", *sources], format_func=counted(sources, "全部来源"), key="source",
                          persist_state="session")
    date_from = sb.date_input("专报日期：从", value=None, key="date_from", format="YYYY-MM-DD", persist_state="session")
    date_to = sb.date_input("专报日期：到", value=None, key="date_to", format="YYYY-MM-DD", persist_state="session")
    k = sb.select_slider("显示条数", [10, 20, 50, 100], value=10, key="k", persist_state="session")
    sb.button("清除筛选条件", on_click=_clear_filters, icon=":material/filter_alt_off:")
    filters = Filters(province=province, region=region or "", topic=topic, source=source,
                      date_from=date_from.isoformat() if date_from else "",
                      date_to=date_to.isoformat() if date_to else "", kind=kind)
    return filters, mode, k


def page() -> None:
    kb = knowledge_base()
    filters, mode, k = search_sidebar(kb)
    query = st.text_input("检索", key="q", placeholder="例如：企业注销提速", live="400ms", bind="query-params",
                          label_visibility="collapsed", icon=":material/search:")
    with reported():
        if query.strip():
            with st.spinner("正在检索……（打开后的第一次检索要加载语言模型，请稍候）"):
                hits = kb.search(query, k=k, mode=mode, filters=filters)
            records, terms = [h.record for h in hits], [h.matched for h in hits]
            if hits and mode == "hybrid" and all(h.lexical is None for h in hits):
                st.info("没有找到包含这些字词的案例，下面是意思最接近的做法。")
        else:
            records = kb.latest(k, filters)
            terms = [[] for _ in records]
            st.subheader("最新收录")
        if not records and not query.strip() and not filters.restricts:
            st.info("知识库中还没有案例：可在“新增案例”中录入，或在“导入专报”中导入。")
            return
        if not records:
            st.info(NO_RESULT, icon=":material/search_off:")
            if filters.restricts:
                st.button("清除筛选条件", key="clear_main", on_click=_clear_filters)
            return
        st.caption(f"共 {len(records)} 条" + ("，按相关程度排序" if query.strip() else ""))
        export_bar(records, "标杆经验检索结果")
        for rec, matched in zip(records, terms):
            show_card(rec, matched, key="s")
