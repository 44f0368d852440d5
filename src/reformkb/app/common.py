"""What every page shares: the one KnowledgeBase of the process, the sign-in gate, messages, cards
and the export bar. Page modules import this; nothing here imports a page or app.py."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from reformkb.app import display as ui
from reformkb.auth import Editor
from reformkb.errors import AuthError, ReformKBError
from reformkb.export import to_csv, to_report_text, to_xlsx
from reformkb.kb import KnowledgeBase
from reformkb.records import KIND_PRACTICE, Record
from reformkb.settings import Settings

TITLE = "营商环境标杆经验知识库"


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
        review = knowledge_base().place_review(rec) if rec.region or rec.id is not None else None
        st.html(ui.card_html(rec, terms, pending=review.message if review else ""))
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
