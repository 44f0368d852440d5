"""管理: edit, delete and restore cases, confirm places ("地区待确认") or add places of the knowledge base's
own, the knowledge base's figures, backup, and the change log."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import current_editor, flash, knowledge_base, reported, require_editor, show_card
from reformkb.errors import NotFoundError, ReformKBError
from reformkb.export import local_time
from reformkb.ingest.regions import PLACES_FILE
from reformkb.ingest.topics import topic_names
from reformkb.kb import KnowledgeBase
from reformkb.records import Record
from reformkb.search.fusion import Filters


def _find_records(kb: KnowledgeBase, find: str) -> list[Record]:
    find = find.strip()
    if find.isdigit():
        try:
            return [kb.get(int(find))]
        except NotFoundError:  # e.g. just deleted: the page says so without an error
            return []
    if find:
        return [h.record for h in kb.search(find, k=30, mode="keyword", filters=Filters(kind=""))]
    return kb.records(Filters(kind=""), order="latest", limit=50)


def _restore(record_id: int) -> None:
    try:
        rec = knowledge_base().restore(record_id, editor=current_editor())
        st.session_state.m_flash = ("success", f"已恢复第 {rec.id} 条：{rec.region} {rec.title}")
    except ReformKBError as exc:
        st.session_state.m_flash = ("error", ui.web_message(exc))
    st.session_state.pop("m_deleted", None)


def edit_record(kb: KnowledgeBase) -> None:
    if st.session_state.pop("m_forget_find", False):  # the case looked up was deleted
        st.session_state.m_find = ""
    find = st.text_input("查找案例", key="m_find", placeholder="输入编号、地区或关键词；不填则列出最近修改的案例")
    with reported():
        candidates = {r.id: r for r in _find_records(kb, find)}
        if not candidates:
            st.info(f"没有编号为 {find.strip()} 的案例。" if find.strip().isdigit() else "没有找到，请换个关键词。")
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
                   "topics": st.multiselect("主题", topic_names(), default=rec.topics, key=f"m_topics_{version}",
                                            placeholder="选择主题")}
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
                st.session_state.m_forget_find = True
                st.rerun()


def _confirm(written: str, place: str) -> None:
    try:
        changed = knowledge_base().confirm_place(written, place, editor=current_editor())
        st.session_state.m_flash = ("success", f"已将 {len(changed)} 条案例的地区“{written}”确认为“{changed[0].region}”。")
    except ReformKBError as exc:
        st.session_state.m_flash = ("error", str(exc))


def _add_place(name: str, parent: str) -> None:
    try:
        place = knowledge_base().add_place(name, parent, editor=current_editor())
        st.session_state.m_flash = ("success", f"已新增地名“{place.name}”（属于{place.label[:-len(place.name)] or place.province}）。")
    except ReformKBError as exc:
        st.session_state.m_flash = ("error", str(exc))


def confirm_places(kb: KnowledgeBase) -> None:
    """The places to confirm: choose one of an ambiguous name's units, correct it, or add it as a place."""
    with reported():
        pending = kb.unresolved_places()
    if not pending:
        st.success("没有地区待确认的案例。", icon=":material/check_circle:")
    else:
        st.dataframe(pd.DataFrame([{"地区": p.region, "暂归入": "".join(dict.fromkeys(x for x in (p.province, p.city, p.county) if x)),
                                    "案例数": p.count, "说明": p.review.message} for p in pending]), hide_index=True)
        chosen = st.selectbox("确认哪个地区", range(len(pending)), key="m_place",
                              format_func=lambda i: f"{pending[i].region}（{pending[i].count} 条）")
        place = pending[chosen]
        labels = [c.label for c in place.review.candidates]
        c1, c2 = st.columns(2)
        with c1.form(key=f"m_confirm_{chosen}"):
            if labels:
                to = st.selectbox("确认为", labels, key="m_confirm_to")
            else:
                to = st.text_input("改为已知地区", key="m_confirm_to", placeholder="例如：长沙市浏阳市")
            if st.form_submit_button("确认地区", icon=":material/done:"):
                _confirm(place.region, to)
                st.rerun()
        with c2.form(key=f"m_newplace_{chosen}"):
            name = st.text_input("新增为地名", place.region, key="m_new_name")
            parent = st.text_input("所属的县、市或省", "".join(dict.fromkeys(x for x in (place.city, place.county) if x))
                                   or place.province, key="m_new_parent", placeholder="例如：浏阳市")
            if st.form_submit_button("新增地名", icon=":material/add_location:"):
                _add_place(name, parent)
                st.rerun()
    st.caption(f"新增的地名保存在知识库目录的 {PLACES_FILE} 中（每行：地名、所属地区、别名），可随知识库一起备份和迁移。")


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
                               ("数据库", s["database"]), ("索引目录", s["index_dir"]),
                               ("恢复前保留的数据库", f"{len(s['restore_copies'])} 份"
                                + "".join(f"；{c['path']}" for c in s["restore_copies"]))], columns=["项目", "值"]),
                 hide_index=True)
    for notice in s["notices"]:
        st.warning(ui.plain(notice), icon=":material/warning:")
    c1, c2 = st.columns(2)
    if c1.button("重建索引", icon=":material/refresh:", help="索引损坏或更换模型后使用；数据不会丢失。"):
        with reported(), st.spinner("正在重建索引……"):
            done = kb.rebuild_index(editor=current_editor())
            st.success(f"索引已重建：{done['indexed']} 条。")

    def backup() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            return kb.backup(Path(tmp) / "backup.db").read_bytes()

    c2.download_button("下载完整备份", data=backup, file_name=f"reformkb-备份-{dt.date.today().isoformat()}.db",
                       mime="application/vnd.sqlite3", on_click="ignore", icon=":material/download:",
                       help="整个知识库的数据库文件（含全部案例和修改记录）。索引可随时重建，不在备份中。")


def page() -> None:
    actor = require_editor()
    kb = knowledge_base()
    st.caption(ui.plain(f"操作人：{ui.actor_name(actor)}（记入修改记录）"))
    flash("m_flash")
    deleted = st.session_state.get("m_deleted")
    if deleted is not None:
        st.button(f"撤销删除第 {deleted} 条", on_click=_restore, args=(deleted,), icon=":material/undo:")
    edit, places, stats, log = st.tabs(["修改或删除案例", "地区待确认", "知识库概况", "修改记录"])
    with edit:
        edit_record(kb)
    with places:
        confirm_places(kb)
    with stats:
        show_stats(kb)
    with log:
        ops = {"add": "新增", "import": "导入", "edit": "修改", "delete": "删除", "restore": "恢复", "add-place": "新增地名"}
        st.dataframe(pd.DataFrame([{"时间": local_time(c.at, st.context.timezone), "操作": ops.get(c.op, c.op), "编号": c.record_id,
                                    "操作人": ui.actor_name(c.actor),
                                    "标题": (c.after or c.before or {}).get("title", "")} for c in kb.changes(limit=100)]),
                     hide_index=True)
