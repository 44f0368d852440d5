"""营商环境标杆经验知识库：工作人员使用的网页界面。 The staff's web app.

    streamlit run app.py            # the project's default knowledge base (kb/)
    REFORMKB_HOME=/path/to/kb streamlit run app.py

A thin front end: every page reads and writes through :class:`reformkb.kb.KnowledgeBase`, and the
pure display helpers live in :mod:`reformkb.app.display`. One KnowledgeBase is shared by every
session of the process (``st.cache_resource``); each session keeps its own page state, writes go
through the store's transactions, and what one person saves is found by everyone at once.

User text is never rendered as Markdown or HTML: cards are escaped HTML (``st.html``), tables and
code blocks show text as it is, and messages that quote user input go through ``ui.plain``.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import streamlit as st

from reformkb.app import display as ui
from reformkb.auth import Editor
from reformkb.errors import AuthError, ReformKBError
from reformkb.export import to_csv, to_report_text, to_xlsx
from reformkb.kb import ImportReport, KnowledgeBase
from reformkb.records import KIND_PRACTICE, Record
from reformkb.ingest.regions import gazetteer
from reformkb.search.fusion import Filters
from reformkb.settings import Settings
from reformkb.ingest.topics import assign_topics, topic_names

TITLE = "营商环境标杆经验知识库"
PAGES = {"search": "检索", "browse": "按地区浏览", "add": "新增案例", "import": "导入专报", "manage": "管理"}
PAGE_ICONS = {"search": ":material/search:", "browse": ":material/map:", "add": ":material/add_circle:",
              "import": ":material/upload_file:", "manage": ":material/settings:"}
MODES = {"hybrid": "智能", "keyword": "关键词", "semantic": "语义"}
MODE_HELP = "智能：兼顾字面和意思（推荐）；关键词：只找包含这些字词的案例；语义：按意思找，说法不同也能找到。"
ORDERS = {"latest": "最新收录", "reduction": "压缩幅度最大", "region": "按地区", "date": "专报日期"}
BROWSE_LIMIT = 500
NO_RESULT = ("没有找到符合条件的案例。可以换一个更宽泛的说法（例如用“注销”代替“企业简易注销一网通办”），"
             "改用“智能”检索，或清除左侧的筛选条件。")


# -- the knowledge base and the hooks every page uses -----------------------------------------------
@st.cache_resource(show_spinner="正在打开知识库……")
def _open_kb(db_path: str, _settings: Settings) -> KnowledgeBase:
    """One KnowledgeBase per database and process, shared by every session."""
    return KnowledgeBase(settings=_settings)


def knowledge_base() -> KnowledgeBase:
    """The knowledge base of ``$REFORMKB_HOME``, else the project's default one."""
    settings = Settings.default()
    return _open_kb(str(settings.db_path), settings)


def current_editor() -> Editor | None:
    """This session's signed-in editor (None in single-user mode or before signing in)."""
    return st.session_state.get("editor")


def require_editor() -> str:
    """Sign-in gate, called first by every page that writes; returns the actor the audit log records.

    Without an editors.toml (single-user mode) everyone may edit. With one, the page shows a sign-in
    form and stops until this session signs in. The check is repeated by the knowledge base on every
    write (``editor=current_editor()``), so hiding a page is never the only protection.
    """
    kb = knowledge_base()
    if not kb.requires_sign_in:
        return kb.actor
    editor = current_editor()
    if editor is not None:
        try:
            return kb.authorize(editor)
        except AuthError:
            st.session_state.pop("editor", None)
    st.info("新增、修改、删除和导入需要编辑人员登录；检索和浏览不需要。", icon=":material/lock:")
    account, shared = st.tabs(["账号登录", "编辑密钥"])
    with account, st.form("sign_in_account"):
        name = st.text_input("账号", key="si_name")
        password = st.text_input("密码", type="password", key="si_password")
        if st.form_submit_button("登录", type="primary"):
            _sign_in(lambda: kb.sign_in(name, password))
    with shared, st.form("sign_in_key"):
        person = st.text_input("您的姓名（记入修改记录）", key="si_person")
        key = st.text_input("编辑密钥", type="password", key="si_key")
        if st.form_submit_button("登录", type="primary"):
            _sign_in(lambda: kb.sign_in_key(key, person))
    st.stop()


def _sign_in(attempt) -> None:
    try:
        st.session_state.editor = attempt()
    except ReformKBError as exc:
        st.error(ui.plain(str(exc)), icon=":material/error:")
        return
    st.rerun()


@contextmanager
def reported() -> Iterator[None]:
    """Show a ReformKBError as its Chinese message (it says what to do) instead of a traceback."""
    try:
        yield
    except ReformKBError as exc:
        st.error(ui.plain(str(exc)), icon=":material/error:")


def flash(key: str) -> None:
    """Show, once, the message that an action left in the session (after its rerun)."""
    message = st.session_state.pop(key, None)
    if message:
        kind, text = message
        getattr(st, kind)(ui.plain(text))


def show_card(rec: Record, terms: list[str] | tuple = (), *, key: str, similar: bool = True) -> None:
    """A record as a card; practices get an expander with similar practices from other places."""
    with st.container(border=True):
        st.html(ui.card_html(rec, terms))
        if similar and rec.kind == KIND_PRACTICE and rec.id is not None:
            box = st.expander("其他地方的相似做法", key=f"sim-{key}-{rec.id}", on_change="rerun",
                              icon=":material/travel_explore:")
            if box.open:
                with box, reported():
                    hits = knowledge_base().similar(rec.id, k=3)
                    if not hits:
                        st.caption("其他地方暂无相似做法。")
                    for hit in hits:
                        st.html(ui.card_html(hit.record, small=True))


def export_bar(records: list[Record], stem: str) -> None:
    """Download the records as Excel, CSV or report text, and show the text ready to copy."""
    row = st.container(horizontal=True)
    row.download_button("导出 Excel", data=lambda: to_xlsx(records), file_name=f"{stem}.xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       icon=":material/table_view:")
    row.download_button("导出 CSV", data=lambda: to_csv(records).encode("utf-8-sig"), file_name=f"{stem}.csv",
                       mime="text/csv", on_click="ignore", icon=":material/csv:")
    row.download_button("导出报告文字", data=lambda: to_report_text(records).encode("utf-8"),
                       file_name=f"{stem}.txt", mime="text/plain", on_click="ignore", icon=":material/description:")
    with st.expander("复制到报告（可直接粘贴的文字）", icon=":material/content_copy:"):
        st.code(to_report_text(records), language=None, wrap_lines=True)


def counted(counts: dict[str, int], everything: str):
    """A format_func for a selectbox whose "" option means no restriction."""
    return lambda v: f"{v}（{counts[v]}）" if v in counts else (v or everything)


# -- 检索 -------------------------------------------------------------------------------------------
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


def page_search() -> None:
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


# -- 按地区浏览 -------------------------------------------------------------------------------------
def page_browse() -> None:
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


# -- 新增案例 ---------------------------------------------------------------------------------------
ADD_FIELDS = {"add_region": None, "add_agency": "", "add_title": "", "add_text": "", "add_topics": [],
              "add_source": None, "add_issue": "", "add_date": None, "add_confirm": False, "add_topics_touched": False}


def _suggest_topics() -> None:
    """The text changed: suggest topics (unless the user chose them) and ask again about duplicates."""
    st.session_state.add_confirm = False
    if not st.session_state.get("add_topics_touched"):
        st.session_state.add_topics = assign_topics(st.session_state.add_text or "")


def _add_form_data() -> dict:
    s = st.session_state
    return {"region": s.add_region or "", "agency": s.add_agency, "title": s.add_title, "text": s.add_text,
            "topics": s.add_topics, "source_title": s.add_source or "", "source_issue": s.add_issue,
            "source_date": s.add_date.isoformat() if s.add_date else ""}


def _save_case() -> None:
    """Save the form as it is now (callbacks see the values of this click, not of the last run)."""
    kb = knowledge_base()
    data = _add_form_data()
    try:
        rec = kb.prepare(dict(data))
        if kb.near_duplicates(rec.text) and not st.session_state.add_confirm:
            st.session_state.add_flash = ("warning", "知识库中已有很相似的案例：请先核对下面列出的案例，"
                                          "确认不是重复后勾选“仍然保存”，再点保存。")
            return
        rec, _ = kb.add(data, check_duplicates=False, editor=current_editor())
    except ReformKBError as exc:
        st.session_state.add_flash = ("error", str(exc))
        return
    st.session_state.add_saved = rec.id
    st.session_state.update(ADD_FIELDS)


def region_label(name: str) -> str:
    region = gazetteer().lookup(name)
    if region is None or region.level == "province":
        return name
    parent = region.province if region.level == "city" or not region.city else f"{region.province}{region.city}"
    return f"{name}（{parent}）"


def page_add() -> None:
    actor = require_editor()
    kb = knowledge_base()
    st.caption(ui.plain(f"操作人：{actor}（记入修改记录）。带 * 的为必填项。"))
    flash("add_flash")
    saved = st.session_state.pop("add_saved", None)
    if saved is not None:
        with reported():
            rec = kb.get(saved)
            st.success(f"已保存第 {rec.id} 条，现在即可在“检索”中找到它：", icon=":material/check_circle:")
            show_card(rec, key="added", similar=False)

    provinces = gazetteer().provinces()
    cities = [c for p in provinces for c in gazetteer().children(p.name) if c.name != p.name]
    names = [r.name for r in provinces + cities + [x for c in cities for x in gazetteer().children(c.name)]]
    c1, c2 = st.columns(2)
    c1.selectbox("地区 *", names, index=None, key="add_region", format_func=region_label, accept_new_options=True,
                 placeholder="选择或输入省、市、县，例如：长沙市", persist_state="session")
    c2.text_input("单位", key="add_agency", placeholder="可不填，例如：市市场监管局", persist_state="session")
    st.text_input("标题", key="add_title", placeholder="可不填：不填则根据正文自动生成", persist_state="session")
    text = st.text_area("做法正文 *", key="add_text", height=150, on_change=_suggest_topics, persist_state="session",
                        placeholder="写清楚做了什么、效果如何，例如：某市推行企业注销“一网通办”，"
                                    "办理时间由20个工作日压缩至3个工作日。")
    st.multiselect("主题（根据正文自动建议，可修改）", topic_names(), key="add_topics", persist_state="session",
                   on_change=lambda: st.session_state.update(add_topics_touched=True))
    c3, c4, c5 = st.columns([3, 1, 1])
    c3.selectbox("来源专报", [t for t, _, _ in kb.sources()], index=None, key="add_source", accept_new_options=True,
                 placeholder="可不填：选择或输入专报名称", persist_state="session")
    c4.text_input("期号", key="add_issue", persist_state="session")
    c5.date_input("印发日期", value=None, key="add_date", max_value=dt.date.today(), format="YYYY-MM-DD",
                  persist_state="session")

    if text.strip():
        with reported(), st.spinner("正在查找相似案例……"):
            near = kb.near_duplicates(text)
            if near:
                st.warning(f"知识库中已有 {len(near)} 条与此很相似的案例，请核对是否重复：", icon=":material/content_copy:")
                for other, similarity in near:
                    st.caption(f"相似度 {similarity:.0%}")
                    show_card(other, key="dup", similar=False)
                st.checkbox("我已核对，不是重复案例，仍然保存", key="add_confirm")
    st.button("保存案例", type="primary", on_click=_save_case, icon=":material/save:")


# -- 导入专报 ---------------------------------------------------------------------------------------
def _parsed(drafts: list[Record], report: ImportReport, name: str) -> None:
    s = st.session_state
    s.imp_drafts = [d.to_dict() for d in drafts]
    s.imp_notes = {"name": name, "warnings": report.warnings, "refused": report.refused}
    s.imp_round = s.get("imp_round", 0) + 1  # a fresh review table for every parse


def _parse_pasted() -> None:
    text = st.session_state.get("imp_text") or ""
    try:
        _parsed(*knowledge_base().parse_text(text, include_actions=st.session_state.imp_actions), "粘贴的专报")
    except ReformKBError as exc:
        st.session_state.imp_flash = ("error", str(exc))


def _parse_upload() -> None:
    upload = st.session_state.get("imp_file")
    if upload is None:
        st.session_state.imp_flash = ("warning", "请先选择一个 .txt、.docx 或 .pdf 文件。")
        return
    try:
        drafts, report = knowledge_base().parse_file(upload.getvalue(), upload.name,
                                                     include_actions=st.session_state.imp_actions)
        _parsed(drafts, report, upload.name)
    except ReformKBError as exc:
        st.session_state.imp_flash = ("error", str(exc))


def show_import_summary(report: ImportReport) -> None:
    st.success(report.summary(), icon=":material/task_alt:")
    if report.added:
        st.dataframe(pd.DataFrame([{"编号": r.id, "地区": r.region, "标题": r.title} for r in report.added]),
                     hide_index=True)
    if report.duplicates:
        with st.expander(f"重复跳过 {len(report.duplicates)} 条"):
            st.dataframe(pd.DataFrame([{"地区": r.region, "标题": r.title, "已有编号": i or ""}
                                       for r, i in report.duplicates]), hide_index=True)
    if report.refused:
        with st.expander(f"拒绝 {len(report.refused)} 条", expanded=True):
            st.dataframe(pd.DataFrame(report.refused, columns=["内容", "原因"]), hide_index=True)


def page_import() -> None:
    require_editor()
    kb = knowledge_base()
    flash("imp_flash")
    st.toggle("同时导入本地工作动态（【战斗动态】）", value=True, key="imp_actions",
              help="关闭后只导入【战术借鉴】中其他地方的标杆经验。")
    paste, upload = st.tabs(["粘贴专报文字", "上传文件"])
    with paste:
        st.text_area("专报全文", key="imp_text", height=200, label_visibility="collapsed",
                     placeholder="把专报全文粘贴到这里：【战术借鉴】等栏目下的每一段会成为一条待核对的案例。")
        st.button("解析粘贴的文字", on_click=_parse_pasted, icon=":material/article:")
    with upload:
        st.file_uploader("专报文件（.txt、.docx、.pdf）", type=["txt", "docx", "pdf"], key="imp_file")
        st.button("解析文件", on_click=_parse_upload, icon=":material/upload_file:")

    drafts = st.session_state.get("imp_drafts")
    if drafts is None:
        return
    notes = st.session_state.imp_notes
    review = st.empty()
    with review.container():
        st.subheader(f"核对解析结果：{len(drafts)} 条")
        for warning in notes["warnings"]:
            st.warning(ui.plain(warning))
        if notes["refused"]:
            with st.expander(f"未能识别的段落 {len(notes['refused'])} 个（不会导入）"):
                st.dataframe(pd.DataFrame(notes["refused"], columns=["段落", "原因"]), hide_index=True)
        if not drafts:
            st.info("没有解析出案例：请确认专报中有【战术借鉴】或【战斗动态】等栏目。")
            return
        st.caption("可直接修改表格：改正地区、标题、正文或主题（多个主题用“；”分隔）；取消“保留”即不导入；"
                   "勾选“并入上一条”把这一段接到上一条后面；在表格末尾可补录未能识别的段落。")
        edited = st.data_editor(
            # object columns, so that rows the reviewer adds may leave the checkboxes empty
            pd.DataFrame(ui.review_table(drafts)).astype({"保留": object, "并入上一条": object}), key=f"imp_editor_{st.session_state.imp_round}",
            num_rows="dynamic", hide_index=True, disabled=["序号"],
            column_config={
                "序号": st.column_config.NumberColumn(width="small"),
                "保留": st.column_config.CheckboxColumn(width="small", default=True),
                "并入上一条": st.column_config.CheckboxColumn(default=False),
                "正文": st.column_config.TextColumn(width="large"),
            })
        kept = ui.reviewed_drafts(drafts, edited.to_dict("records"))
        go = st.button(f"确认导入 {len(kept)} 条", type="primary", disabled=not kept, icon=":material/done_all:")
    if not go:
        return
    review.empty()
    report = ImportReport()
    ready = []
    for n, d in enumerate(kept, 1):
        try:
            ready.append(kb.prepare(d))
        except ReformKBError as exc:
            report.refused.append((f"第 {n} 条：{d['text'][:20]}…", str(exc)))
    bar = st.progress(0.0, text="正在保存……")
    with reported(), st.spinner("正在保存并更新检索索引……"):
        kb.store_records(ready, report, editor=current_editor(), progress=lambda done, total: bar.progress(done / total,
                                                                                  text=f"已保存 {done}/{total} 条"))
        bar.progress(1.0, text="导入完成")
        del st.session_state["imp_drafts"]
        show_import_summary(report)


# -- 管理 -------------------------------------------------------------------------------------------
def _find_records(kb: KnowledgeBase, find: str) -> list[Record]:
    find = find.strip()
    if find.isdigit():
        return [kb.get(int(find))]
    if find:
        return [h.record for h in kb.search(find, k=30, mode="keyword", filters=Filters(kind=""))]
    return kb.records(Filters(kind=""), order="latest", limit=50)


def _restore(record_id: int) -> None:
    try:
        rec = knowledge_base().restore(record_id, editor=current_editor())
        st.session_state.m_flash = ("success", f"已恢复第 {rec.id} 条：{rec.region} {rec.title}")
    except ReformKBError as exc:
        st.session_state.m_flash = ("error", str(exc))
    st.session_state.pop("m_deleted", None)


def edit_record(kb: KnowledgeBase) -> None:
    find = st.text_input("查找案例", key="m_find", placeholder="输入编号、地区或关键词；不填则列出最近修改的案例")
    with reported():
        candidates = {r.id: r for r in _find_records(kb, find)}
        if not candidates:
            st.info("没有找到，请换个关键词。")
            return
        rid = st.selectbox("选择案例", list(candidates), key="m_pick",
                           format_func=lambda i: f"第 {i} 条 · {candidates[i].region} · {candidates[i].title}")
        rec = candidates[rid]
        show_card(rec, key="m", similar=False)
        version = f"{rec.id}-{rec.updated_at}"
        with st.form(f"edit-{version}"):
            c1, c2 = st.columns(2)
            new = {"region": c1.text_input("地区", rec.region, key=f"m_region_{version}"),
                   "agency": c2.text_input("单位", rec.agency, key=f"m_agency_{version}"),
                   "title": st.text_input("标题", rec.title, key=f"m_title_{version}"),
                   "text": st.text_area("正文", rec.text, height=150, key=f"m_text_{version}"),
                   "topics": st.multiselect("主题", topic_names(), default=rec.topics, key=f"m_topics_{version}")}
            c3, c4, c5 = st.columns([3, 1, 1])
            new["source_title"] = c3.text_input("来源专报", rec.source.title, key=f"m_source_{version}")
            new["source_issue"] = c4.text_input("期号", rec.source.issue, key=f"m_issue_{version}")
            new["source_date"] = c5.text_input("日期", rec.source.date, key=f"m_date_{version}",
                                               placeholder="2023-03-18")
            submitted = st.form_submit_button("保存修改", type="primary", icon=":material/save:")
        if submitted:
            old = rec.to_dict()
            changes = {k: v for k, v in new.items() if v != old[k]}
            if not changes:
                st.info("没有改动。")
            else:
                saved = kb.edit(rec.id, editor=current_editor(), **changes)
                st.session_state.m_flash = ("success", f"已保存对第 {saved.id} 条的修改。")
                st.rerun()
        with st.expander("删除这条案例", icon=":material/delete:"):
            sure = st.checkbox(f"确认删除第 {rec.id} 条（删除后仍可恢复）", key=f"m_sure_{rec.id}")
            if st.button("删除", disabled=not sure, key=f"m_delete_{rec.id}"):
                gone = kb.delete(rec.id, editor=current_editor())
                st.session_state.m_flash = ("success", f"已删除第 {gone.id} 条：{gone.region} {gone.title}")
                st.session_state.m_deleted = gone.id
                st.rerun()


def show_stats(kb: KnowledgeBase) -> None:
    s = kb.stats()
    for col, (label, value) in zip(st.columns(5), [("标杆经验", s["practices"]), ("本地工作动态", s["actions"]),
                                                  ("地区", s["regions"]), ("省份", s["provinces"]),
                                                  ("来源专报", s["sources"])]):
        col.metric(label, value)
    kinds = {"flat": "精确检索（flat）", "ivf": "近似检索（IVF）", "hnsw": "近似检索（HNSW）"}
    state = "已是最新" if s["fresh"] else "待更新（下次检索时自动更新，也可点“重建索引”）"
    st.dataframe(pd.DataFrame([("向量模型", s["model"]), ("索引类型", kinds.get(s["index_type"], s["index_type"])),
                               ("已索引", f"{s['indexed']} / {s['records']} 条"), ("索引状态", state),
                               ("数据库", s["database"]), ("索引目录", s["index_dir"])], columns=["项目", "值"]),
                 hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button("重建索引", icon=":material/refresh:", help="索引损坏或更换模型后使用；数据不会丢失。"):
        with reported(), st.spinner("正在重建索引……"):
            done = kb.rebuild_index()
            st.success(f"索引已重建：{done['indexed']} 条。")

    def backup() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            return kb.backup(Path(tmp) / "backup.db").read_bytes()

    c2.download_button("下载完整备份", data=backup, file_name=f"reformkb-备份-{dt.date.today().isoformat()}.db",
                       mime="application/vnd.sqlite3", on_click="ignore", icon=":material/download:",
                       help="整个知识库的数据库文件（含全部案例和修改记录）。索引可随时重建，不在备份中。")


def page_manage() -> None:
    actor = require_editor()
    kb = knowledge_base()
    st.caption(ui.plain(f"操作人：{actor}（记入修改记录）"))
    flash("m_flash")
    deleted = st.session_state.get("m_deleted")
    if deleted is not None:
        st.button(f"撤销删除第 {deleted} 条", on_click=_restore, args=(deleted,), icon=":material/undo:")
    edit, stats, log = st.tabs(["修改或删除案例", "知识库概况", "修改记录"])
    with edit:
        edit_record(kb)
    with stats:
        show_stats(kb)
    with log:
        ops = {"add": "新增", "import": "导入", "edit": "修改", "delete": "删除", "restore": "恢复"}
        st.dataframe(pd.DataFrame([{"时间": c.at, "操作": ops.get(c.op, c.op), "编号": c.record_id, "操作人": c.actor,
                                    "标题": (c.after or c.before or {}).get("title", "")} for c in kb.changes(limit=100)]),
                     hide_index=True)


# -- the app ----------------------------------------------------------------------------------------
PAGE_FUNCTIONS = {"search": page_search, "browse": page_browse, "add": page_add, "import": page_import,
                  "manage": page_manage}


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon=":material/menu_book:", layout="wide")
    st.html(ui.CARD_CSS)
    if "page" not in st.session_state:  # a link such as ?page=browse opens that page
        wanted = st.query_params.get("page")
        st.session_state.page = wanted if wanted in PAGES else "search"
    page = st.sidebar.radio("功能", list(PAGES), key="page", format_func=lambda p: f"{PAGE_ICONS[p]} {PAGES[p]}")
    st.query_params["page"] = page
    editor = current_editor()
    if editor is not None:
        st.sidebar.caption(ui.plain(f"已登录：{editor.name}"))
        if st.sidebar.button("退出登录", key="sign_out"):
            st.session_state.pop("editor", None)
            st.rerun()
    st.sidebar.divider()
    st.markdown(f"#### {TITLE} · {PAGES[page]}")
    PAGE_FUNCTIONS[page]()


main()
