"""新增案例: one case typed by hand, with suggested topics and a near-duplicate check."""
from __future__ import annotations

import datetime as dt

import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import current_editor, flash, knowledge_base, reported, require_editor, show_card
from reformkb.errors import ReformKBError
from reformkb.ingest.regions import Gazetteer
from reformkb.ingest.topics import assign_topics, topic_names

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
        st.session_state.add_flash = ("error", ui.web_message(exc))
        return
    st.session_state.add_saved = rec.id
    st.session_state.update(ADD_FIELDS)


def region_label(name: str) -> str:
    region = knowledge_base().gazetteer.lookup(name)
    if region is None or region.level == "province":
        return name
    parent = "".join(dict.fromkeys(x for x in (region.province, region.city) if x and x != region.name))
    return f"{region.name}（{parent}）"


def region_options(gaz: Gazetteer) -> list[str]:
    """Every province, city, county and zone, as the form offers them: a county or zone by its label
    (北京市朝阳区, 长春市朝阳区), so that names two units bear stay apart."""
    provinces = gaz.provinces()
    cities = [c for p in provinces for c in gaz.children(p) if c.name != p.name]
    below = [x for c in cities for x in gaz.children(c)] + gaz.zones()
    return [r.name for r in provinces + cities] + [r.label for r in below]


def page() -> None:
    actor = require_editor()
    kb = knowledge_base()
    st.caption(ui.plain(f"操作人：{ui.actor_name(actor)}（记入修改记录）。带 * 的为必填项。"))
    flash("add_flash")
    saved = st.session_state.pop("add_saved", None)
    if saved is not None:
        with reported():
            rec = kb.get(saved)
            st.success(f"已保存第 {rec.id} 条，现在即可在“检索”中找到它：", icon=":material/check_circle:")
            show_card(rec, key="added", similar=False)

    c1, c2 = st.columns(2)
    c1.selectbox("地区 *", region_options(kb.gazetteer), index=None, key="add_region", format_func=region_label,
                 accept_new_options=True, persist_state="session",
                 placeholder="选择或输入省、市、县、园区，例如：长沙市、苏州工业园区；不在列表中的地名也可直接输入")
    c2.text_input("单位", key="add_agency", placeholder="可不填，例如：市市场监管局", persist_state="session")
    st.text_input("标题", key="add_title", placeholder="可不填：不填则根据正文自动生成", persist_state="session")
    text = st.text_area("做法正文 *", key="add_text", height=150, on_change=_suggest_topics, persist_state="session",
                        placeholder="写清楚做了什么、效果如何，例如：某市推行企业注销“一网通办”，"
                                    "办理时间由20个工作日压缩至3个工作日。")
    st.multiselect("主题（根据正文自动建议，可修改）", topic_names(), key="add_topics", persist_state="session",
                   placeholder="选择主题",
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
