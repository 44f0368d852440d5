"""检索: search in the staff's own words, with filters in the sidebar; results grouped by relevance,
sorted, paged, and ticked for a report."""
from __future__ import annotations

import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import clear_ticks, counted, export_bar, knowledge_base, reported, show_card, ticked, ticked_records
from reformkb.ingest.topics import topic_names
from reformkb.kb import KnowledgeBase
from reformkb.records import KIND_PRACTICE, Record
from reformkb.search.fusion import SEARCHED_AS, Filters, Hit

MODES = {"hybrid": "智能", "keyword": "关键词", "semantic": "语义"}
MODE_HELP = "智能：兼顾字面和意思（推荐）；关键词：只找包含这些字词的案例；语义：按意思找，说法不同也能找到。"
SORTS = {"relevance": "相关程度", "date": "专报日期（新的在前）", "improvement": "压缩幅度（大的在前）"}
BROADER = "可以换一个更宽泛的说法（例如用“注销”代替“企业简易注销一网通办”），改用“智能”检索，或清除左侧的筛选条件。"
NO_RESULT = "没有找到符合条件的案例。" + BROADER
NO_STRONG = "没有找到高度相关的做法。下面是意思最接近的几条，相关度较低，仅供参考；" + BROADER
CLOSEST_FEW = 3  # cards shown under NO_STRONG
MAX_HITS = 100  # hits asked for per query, shown page by page
MAX_LATEST = 200  # newest cases listed page by page when nothing is typed
SEARCH_FILTERS = {"province": "", "region": None, "topic": "", "source": "", "date_from": None, "date_to": None}


def _search_as_typed(query: str) -> None:
    st.session_state.s_as_typed = query


def _searched_as(hits: list[Hit], query: str) -> None:
    """When the query was searched as its homophone correction: say so, and offer it as typed."""
    if hits and hits[0].searched_as:
        row = st.container(horizontal=True, vertical_alignment="center")
        row.info(SEARCHED_AS.format(ui.plain(hits[0].searched_as)), icon=":material/spellcheck:")
        row.button(f"仍按“{query}”检索", key="s_as_typed_btn", on_click=_search_as_typed, args=(query,))


def _clear_filters() -> None:
    for key, value in SEARCH_FILTERS.items():
        st.session_state[key] = value


def search_sidebar(kb: KnowledgeBase) -> tuple[Filters, str, str, int]:
    sb = st.sidebar
    mode = sb.radio("检索方式", list(MODES), format_func=MODES.get, key="mode", horizontal=True, help=MODE_HELP,
                    persist_state="session")
    sort = sb.selectbox("排序", list(SORTS), format_func=SORTS.get, key="sort", persist_state="session")
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
    sources: dict[str, int] = {}
    for title, _, n in kb.sources():
        if title:  # cases without a source are not a bulletin to choose
            sources[title] = sources.get(title, 0) + n
    source = sb.selectbox("来源专报", ["", *sources], format_func=counted(sources, "全部来源"), key="source",
                          persist_state="session")
    date_from = sb.date_input("专报日期：从", value=None, key="date_from", format="YYYY-MM-DD", persist_state="session")
    date_to = sb.date_input("专报日期：到", value=None, key="date_to", format="YYYY-MM-DD", persist_state="session")
    k = sb.select_slider("每页条数", [10, 20, 50, 100], value=10, key="k", persist_state="session")
    sb.button("清除筛选条件", on_click=_clear_filters, icon=":material/filter_alt_off:")
    filters = Filters(province=province, region=region or "", topic=topic, source=source,
                      date_from=date_from.isoformat() if date_from else "",
                      date_to=date_to.isoformat() if date_to else "", kind=kind)
    return filters, mode, sort, k


def paged(items: list, per_page: int, signature: tuple) -> list:
    """The items of the current page, with 上一页 / 下一页 under the list. A new query, filter or sort
    starts again at the first page."""
    s = st.session_state
    if s.get("s_signature") != signature:
        s.s_signature, s.s_page = signature, 0
    pages = max(1, -(-len(items) // per_page))
    s.s_page = min(s.get("s_page", 0), pages - 1)
    start = s.s_page * per_page
    if pages > 1:
        st.session_state.s_pager = (pages, start, min(start + per_page, len(items)), len(items))
    else:
        st.session_state.pop("s_pager", None)
    return items[start:start + per_page]


def _turn(step: int) -> None:
    st.session_state.s_page = st.session_state.get("s_page", 0) + step


def pager() -> None:
    info = st.session_state.get("s_pager")
    if not info:
        return
    pages, start, end, total = info
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button("上一页", key="s_prev", on_click=_turn, args=(-1,), disabled=st.session_state.s_page == 0,
               icon=":material/chevron_left:")
    row.caption(f"第 {st.session_state.s_page + 1} / {pages} 页（第 {start + 1}–{end} 条，共 {total} 条）")
    row.button("下一页", key="s_next", on_click=_turn, args=(1,), disabled=st.session_state.s_page >= pages - 1,
               icon=":material/chevron_right:")


def ticked_bar(shown: list[Record], label: str) -> None:
    """The export bar: the ticked cards if any (from any search of this session), else ``shown``."""
    chosen = ticked_records()
    with st.container(border=True):
        if chosen:
            row = st.container(horizontal=True, vertical_alignment="center")
            row.markdown(f"**已选入报告 {len(chosen)} 条**（在卡片上勾选“选入报告”，换一个检索词也保留）")
            row.button("清空已选", on_click=clear_ticks, key="clear_ticks", icon=":material/remove_done:")
            export_bar(chosen, "标杆经验_已选", "导出和报告文字只含已勾选的案例。")
        elif not shown:
            st.caption("这些案例相关度较低，不作为检索结果导出；需要时可在卡片上勾选“选入报告”再导出。")
        else:
            export_bar(shown, "标杆经验检索结果", f"导出和报告文字含{label} {len(shown)} 条；"
                                             "在卡片上勾选“选入报告”可只导出选中的案例。")


def _show_cards(records: list[Record], terms: list[list[str]]) -> None:
    for rec, matched in zip(records, terms):
        show_card(rec, matched, key="s", tick=True)


def page() -> None:
    kb = knowledge_base()
    filters, mode, sort, k = search_sidebar(kb)
    query = st.text_input("检索", key="q", placeholder="例如：企业注销提速", live="400ms", bind="query-params",
                          label_visibility="collapsed", icon=":material/search:")
    with reported():
        if query.strip():
            with st.spinner("正在检索……"):
                hits = kb.search(query, k=MAX_HITS, mode=mode, filters=filters,
                                 as_typed=st.session_state.get("s_as_typed") == query)
            _searched_as(hits, query)
            shown = [h for h in hits if h.relevance != "weak"]
            weak = [h for h in hits if h.relevance == "weak"]
        else:
            st.subheader("最新收录")
            hits = [Hit(record=r, score=0.0) for r in kb.latest(MAX_LATEST, filters)]
            shown, weak = hits, []
        if not hits and not query.strip() and not filters.restricts:
            st.info("知识库中还没有案例：可在“新增案例”中录入，或在“导入专报”中导入。")
            return
        if not hits:
            st.info(NO_RESULT, icon=":material/search_off:")
            if filters.restricts:
                st.button("清除筛选条件", key="clear_main", on_click=_clear_filters)
            return
        if not shown:  # nothing better than weak: say so, and show the closest few below that line
            st.info(NO_STRONG, icon=":material/search_off:")
            closest = weak[:CLOSEST_FEW]
            ticked_bar([], "")
            _show_cards([h.record for h in closest], [h.matched for h in closest])
            return
        if mode == "hybrid" and all(h.lexical is None for h in shown):
            st.info("没有找到包含这些字词的案例，下面是意思最接近的做法。")
        ordered = ui.sort_hits(shown, sort)
        note = {"relevance": "按相关程度排序" if query.strip() else "最新收录的在前",
                "date": "按专报日期排序", "improvement": "按压缩幅度排序"}[sort]
        st.caption(f"共 {len(ordered)} 条，{note}" + (f"；另有 {len(weak)} 条相关度较低，列在最后" if weak else ""))
        ticked_bar([h.record for h in ordered], "本次检索的" if query.strip() else "最新收录的")
        page_hits = paged(ordered, k, (query, mode, repr(filters), sort, k))
        _show_cards([h.record for h in page_hits], [h.matched for h in page_hits])
        pager()
        if weak:
            box = st.expander(f"其他可能相关（相关度较低）{len(weak)} 条", key="s_weak", on_change="rerun",
                              icon=":material/expand_more:")
            if box.open:
                with box:
                    _show_cards([h.record for h in weak], [h.matched for h in weak])
        if ticked():
            st.caption(f"已选入报告 {len(ticked())} 条：导出在上方。")
