"""What every page shares: the one KnowledgeBase of the process (and its warm-up), the sign-in gate and
the browser's sign-in token, messages, cards with a tick box, and the export bar. Page modules import
this; nothing here imports a page or app.py."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from reformkb.app import display as ui
from reformkb.auth import SESSION_SECONDS, Editor
from reformkb.errors import AuthError, NotFoundError, ReformKBError
from reformkb.export import GROUPINGS, to_csv, to_docx, to_report_text, to_xlsx
from reformkb.kb import KnowledgeBase
from reformkb.records import KIND_PRACTICE, Record
from reformkb.settings import Settings

TITLE = "营商环境标杆经验知识库"
APP_ACTOR = "网页"  # the audit log's operator for changes made in the app in single-user mode
SESSION_COOKIE = "reformkb_editor"


@st.cache_resource(show_spinner="正在打开知识库……")
def _open_kb(db_path: str, _settings: Settings) -> KnowledgeBase:
    """One KnowledgeBase per database and process, shared by every session.

    The language model is loaded in a background thread as soon as the knowledge base is opened (when the
    first page is shown), so that the first search does not wait for it.
    """
    kb = KnowledgeBase(settings=_settings, actor=APP_ACTOR)
    threading.Thread(target=kb.warm_up, name="reformkb-warm-up", daemon=True).start()
    return kb


def knowledge_base() -> KnowledgeBase:
    """The knowledge base of ``$REFORMKB_HOME``, else the project's default one.

    When it cannot be opened (a bad setting, a damaged or foreign database) the page shows why and
    stops, instead of a traceback.
    """
    try:
        settings = Settings.default()
        return _open_kb(str(settings.db_path), settings)
    except ReformKBError as exc:
        st.error(ui.plain(str(exc)), icon=":material/error:")
        st.stop()


def page_style() -> None:
    """The page's styles: the cards, and Chinese texts over Streamlit's English ones where CSS can reach."""
    st.html(ui.CARD_CSS + ui.streamlit_texts_css(knowledge_base().settings.max_file_bytes))


# -- sign-in ----------------------------------------------------------------------------------------
def current_editor() -> Editor | None:
    """This session's signed-in editor (None in single-user mode or before signing in).

    A browser that signed in earlier (today) brings its token in a cookie: the editor is signed in
    again without a form, until the token expires or the editor signs out.
    """
    editor = st.session_state.get("editor")
    if editor is not None or st.session_state.get("signed_out"):
        return editor
    kb = knowledge_base()
    if not kb.requires_sign_in:
        return None
    token = st.context.cookies.get(SESSION_COOKIE)
    if token:
        editor = kb.resume_session(token)
        if editor is not None:
            st.session_state.editor = editor
    return editor


def sign_in_status() -> None:
    """The sidebar's “已登录：…” and 退出登录, and the script that stores or removes the browser's token."""
    cookie = st.session_state.pop("cookie_script", None)
    if cookie is not None:
        st.html(cookie, unsafe_allow_javascript=True)
    editor = current_editor()
    if editor is None:
        return
    st.sidebar.caption(ui.plain(f"已登录：{editor.name}"))
    if st.sidebar.button("退出登录", key="sign_out"):
        st.session_state.pop("editor", None)
        st.session_state.signed_out = True
        st.session_state.cookie_script = ui.cookie_script(SESSION_COOKIE, "", 0)
        st.rerun()


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
    st.info("新增、修改、删除和导入需要编辑人员登录；检索和浏览不需要。登录后当天有效，刷新页面不必重新登录。",
            icon=":material/lock:")
    account, shared = st.tabs(["账号登录", "编辑密钥"])
    with account, st.form("sign_in_account"):
        name = st.text_input("账号", key="si_name")
        password = st.text_input("密码", type="password", key="si_password")
        if st.form_submit_button("登录", type="primary"):
            _sign_in(lambda: kb.sign_in(name, password, client=st.context.ip_address or ""))
    with shared, st.form("sign_in_key"):
        person = st.text_input("您的姓名（记入修改记录）", key="si_person")
        key = st.text_input("编辑密钥", type="password", key="si_key")
        if st.form_submit_button("登录", type="primary"):
            _sign_in(lambda: kb.sign_in_key(key, person, client=st.context.ip_address or ""))
    st.stop()


def _sign_in(attempt) -> None:
    try:
        editor = attempt()
        token = knowledge_base().session_token(editor)
    except ReformKBError as exc:
        st.error(ui.plain(ui.web_message(exc)), icon=":material/error:")
        return
    st.session_state.editor = editor
    st.session_state.signed_out = False
    st.session_state.cookie_script = ui.cookie_script(SESSION_COOKIE, token, SESSION_SECONDS)
    st.rerun()


# -- messages -------------------------------------------------------------------------------------
@contextmanager
def reported() -> Iterator[None]:
    """Show a ReformKBError as its Chinese message (it says what to do) instead of a traceback."""
    try:
        yield
    except ReformKBError as exc:
        st.error(ui.plain(ui.web_message(exc)), icon=":material/error:")


def flash(key: str) -> None:
    """Show, once, the message that an action left in the session (after its rerun)."""
    message = st.session_state.pop(key, None)
    if message:
        kind, text = message
        getattr(st, kind)(ui.plain(text))


# -- cards and the cards ticked for a report --------------------------------------------------------
def ticked() -> dict[int, None]:
    """The ids of the cards this session ticked for its report, in the order they were ticked."""
    return st.session_state.setdefault("ticked", {})


def _tick(record_id: int) -> None:
    if st.session_state.get(f"tick_{record_id}"):
        ticked()[record_id] = None
    else:
        ticked().pop(record_id, None)


def clear_ticks() -> None:
    for record_id in list(ticked()):
        st.session_state[f"tick_{record_id}"] = False
    ticked().clear()


def ticked_records() -> list[Record]:
    """The ticked cards' records (a record deleted meanwhile is left out)."""
    kb, out = knowledge_base(), []
    for record_id in list(ticked()):
        try:
            out.append(kb.get(record_id))
        except NotFoundError:
            ticked().pop(record_id, None)
    return out


def show_card(rec: Record, terms: list[str] | tuple = (), *, key: str, similar: bool = True,
              tick: bool = False) -> None:
    """A record as a card; practices get an expander with similar practices from other places, and
    with ``tick`` a box “选入报告” that adds the card to this session's report."""
    with st.container(border=True):
        review = knowledge_base().place_review(rec) if rec.region or rec.id is not None else None
        st.html(ui.card_html(rec, terms, pending=review.message if review else ""))
        if tick and rec.id is not None:
            box = f"tick_{rec.id}"
            if box not in st.session_state:
                st.session_state[box] = rec.id in ticked()
            st.checkbox("选入报告", key=box, on_change=_tick, args=(rec.id,))
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


def export_bar(records: list[Record], stem: str, what: str = "") -> None:
    """Download the records as Excel, CSV or a Word report, and show the report text ready to copy.

    ``what`` says which records these are (shown above the buttons).
    """
    if what:
        st.caption(what)
    group_by = st.radio("报告文字", list(GROUPINGS), format_func=lambda g: GROUPINGS[g], horizontal=True,
                        key=f"group_{stem}", persist_state="session")
    row = st.container(horizontal=True)
    row.download_button("导出 Excel", data=lambda: to_xlsx(records), file_name=f"{stem}.xlsx", on_click="ignore",
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        icon=":material/table_view:")
    row.download_button("导出 CSV", data=lambda: to_csv(records), file_name=f"{stem}.csv",
                        mime="text/csv", on_click="ignore", icon=":material/csv:")
    row.download_button("导出 Word 报告", data=lambda: to_docx(records, group_by), file_name=f"{stem}.docx",
                        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        on_click="ignore", icon=":material/article:")
    row.download_button("导出报告文字", data=lambda: to_report_text(records, group_by).encode("utf-8"),
                        file_name=f"{stem}.txt", mime="text/plain", on_click="ignore", icon=":material/description:")
    with st.expander("复制到报告（可直接粘贴的文字）", icon=":material/content_copy:"):
        st.code(to_report_text(records, group_by), language=None, wrap_lines=True)


def counted(counts: dict[str, int], everything: str):
    """A format_func for a selectbox whose "" option means no restriction."""
    return lambda v: f"{v}（{counts[v]}）" if v in counts and v else (v or everything)
