"""导入专报: paste or upload a bulletin, review the drafts in a table, then store them."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd
import streamlit as st

from reformkb.app import display as ui
from reformkb.app.common import current_editor, flash, knowledge_base, reported, require_editor
from reformkb.errors import ImportCancelled, ReformKBError
from reformkb.ingest.pipeline import ImportReport
from reformkb.records import Record


def _parsed(drafts: list[Record], report: ImportReport, name: str, unreadable: list[tuple[str, str]] = ()) -> None:
    """Keep the drafts for review, with the paragraphs left out (table rows a tick takes back) and the
    files that could not be read at all."""
    s = st.session_state
    s.imp_drafts = [d.to_dict() for d in drafts]
    s.imp_notes = {"name": name, "warnings": report.warnings, "unreadable": list(unreadable),
                   "left_out": [{"text": o.text, "reason": o.reason} for o in report.left_out]}
    s.imp_round = s.get("imp_round", 0) + 1  # a fresh review table for every parse


# -- reading and parsing in a thread of its own, so that the page stays live and 取消导入 can stop it --
QUICK_S = 2.0  # a parse that ends within this is shown at once, without the progress panel


@dataclass
class _Job:
    """One parse running in its own thread; the page follows ``status`` and ``fraction``.

    Pressing 取消导入 sets ``cancel``: the pipeline stops at its next checkpoint (after a page of OCR,
    before a paragraph) with ImportCancelled. A parse stores nothing, so nothing is left to undo.
    """

    cancel: threading.Event = field(default_factory=threading.Event)
    status: str = "正在读取……"
    fraction: float = 0.0
    outcome: tuple | None = None  # ("parsed", drafts, report, name, unreadable) or ("flash", kind, message)
    error: Exception | None = None
    thread: threading.Thread | None = None

    def show(self, status: str, done: int = 0, total: int = 0) -> None:
        self.status, self.fraction = status, (done / total if total else 0.0)

    def finished(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


def _start(work: Callable[[_Job], tuple]) -> None:
    """Run ``work(job)`` in a thread; the previous review is dropped (a new parse replaces it)."""
    job = _Job()

    def run() -> None:
        try:
            job.outcome = work(job)
        except ImportCancelled as exc:
            job.outcome = ("flash", "warning", str(exc))
        except ReformKBError as exc:
            job.outcome = ("flash", "error", ui.web_message(exc))
        except Exception as exc:  # noqa: BLE001 -- raised again in the page, where Streamlit shows it
            job.error = exc

    job.thread = threading.Thread(target=run, name="reformkb-import", daemon=True)
    earlier = st.session_state.get("imp_job")
    if earlier is not None:
        earlier.cancel.set()  # one parse per session: a new one replaces the one still running
    st.session_state.pop("imp_drafts", None)
    st.session_state.imp_job = job
    job.thread.start()
    job.thread.join(QUICK_S)


def _take(job: _Job) -> None:
    """The finished job's outcome into the session: drafts for review, or a message."""
    del st.session_state["imp_job"]
    if job.error is not None:
        raise job.error
    if job.outcome[0] == "parsed":
        _parsed(*job.outcome[1:])
    else:
        st.session_state.imp_flash = job.outcome[1:]


@st.fragment(run_every=0.5)
def _follow() -> None:
    """The running parse: its progress and 取消导入, redrawn every half second until it ends."""
    job = st.session_state.get("imp_job")
    if job is None:
        return
    if not job.finished():
        st.progress(min(job.fraction, 1.0), text=ui.plain(job.status))
        if job.cancel.is_set():
            st.info("正在取消……当前这一页或这一段处理完就停止，不会保存任何内容。")
        else:
            st.button("取消导入", key="imp_cancel", on_click=job.cancel.set, icon=":material/cancel:",
                      help="停止读取和解析；已读取的内容全部丢弃，知识库不会有任何变化。")
        return
    _take(job)
    st.rerun()


def _parse_pasted() -> None:
    text = st.session_state.get("imp_text") or ""
    actions = st.session_state.imp_actions
    kb = knowledge_base()

    def work(job: _Job) -> tuple:
        job.show("正在解析粘贴的专报……")
        return ("parsed", *kb.parse_text(text, include_actions=actions, cancel=job.cancel), "粘贴的专报")

    _start(work)


def _parse_upload() -> None:
    """Parse every chosen file into one review table; a file that cannot be read is listed with the
    reason and the others are still parsed. The progress follows OCR page by page, then the paragraphs."""
    uploads = st.session_state.get("imp_file") or []
    if not uploads:
        st.session_state.imp_flash = ("warning", "请先选择专报文件（可一次选多个）。")
        return
    files = [(u.name, u.getvalue()) for u in uploads]
    actions = st.session_state.imp_actions
    kb = knowledge_base()
    _start(lambda job: _read_files(job, kb, files, actions))


def _read_files(job: _Job, kb, files: list[tuple[str, bytes]], include_actions: bool) -> tuple:
    """What :func:`_parse_upload` shows, computed in the job's thread (no Streamlit calls here)."""
    drafts: list[Record] = []
    merged = ImportReport()
    unreadable: list[tuple[str, str]] = []
    many = len(files) > 1
    for number, (name, data) in enumerate(files, 1):
        which = f"（第 {number}/{len(files)} 个文件）" if many else ""
        job.show(f"正在读取 {name}{which}……")

        def pages(done: int, total: int, n: str = name, w: str = which) -> None:
            job.show(f"正在识别 {n} 中的文字：第 {done}/{total} 页{w}", done, total)

        def paragraphs(done: int, total: int, n: str = name, w: str = which) -> None:
            job.show(f"正在核对 {n} 的段落：{done}/{total}{w}", done, total)

        try:
            found, report = kb.parse_file(data, name, include_actions=include_actions, page_progress=pages,
                                          draft_progress=paragraphs, cancel=job.cancel)
        except ImportCancelled:
            raise
        except ReformKBError as exc:
            unreadable.append((name, ui.web_message(exc)))
            continue
        drafts += found
        merged.warnings += [f"{name}：{w}" if many else w for w in report.warnings]
        merged.left_out += [replace(o, reason=f"{name}：{o.reason}") if many else o for o in report.left_out]
    if not drafts and len(files) == 1 and unreadable:
        return ("flash", "error", unreadable[0][1])
    return ("parsed", drafts, merged, "、".join(n for n, _ in files), unreadable)


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


def _pending(kb, drafts: list[dict]) -> list[str]:
    """Per draft, why its place is "地区待确认" ("" when known): ambiguous names list their candidates."""
    reviews = [kb.place_review(Record.from_dict(d)) for d in drafts]
    return [r.message if r else "" for r in reviews]


def page() -> None:
    require_editor()
    kb = knowledge_base()
    flash("imp_flash")
    job = st.session_state.get("imp_job")
    busy = job is not None and not job.finished()  # the parse buttons wait for the running parse (or its cancel)
    st.toggle("同时导入本地工作动态（【战斗动态】）", value=True, key="imp_actions",
              help="关闭后只导入【战术借鉴】中其他地方的标杆经验。")
    paste, upload = st.tabs(["粘贴专报文字", "上传文件"])
    with paste:
        st.text_area("专报全文", key="imp_text", height=200, label_visibility="collapsed",
                     placeholder="把专报全文粘贴到这里：【战术借鉴】等栏目下的每一段会成为一条待核对的案例。")
        st.button("解析粘贴的文字", on_click=_parse_pasted, icon=":material/article:", disabled=busy)
    with upload:
        # No type= filter: Streamlit's own refusal is in English; read_document refuses other files in Chinese.
        st.file_uploader("专报文件（可一次选多个）", key="imp_file", accept_multiple_files=True,
                         help="Word（.docx/.doc/.wps）、PDF（含扫描件）、OFD、图片（扫描件、手机拍照）、网页（.html/.mhtml）或 .txt；"
                              "扫描件和图片会逐页做文字识别，请核对识别结果。")
        if st.button("解析文件", icon=":material/upload_file:", disabled=busy):
            _parse_upload()
    job = st.session_state.get("imp_job")
    if job is not None and job.finished():  # a parse that ended at once (or while the page was away)
        _take(job)
    if "imp_job" in st.session_state:
        _follow()
        return
    flash("imp_flash")

    drafts = st.session_state.get("imp_drafts")
    if drafts is None:
        return
    notes = st.session_state.imp_notes
    review = st.empty()
    with review.container():
        left_out = notes["left_out"]
        heading = st.empty()  # filled in below the table, once the reviewer's edits are known
        heading.subheader(f"核对解析结果：{len(drafts)} 条")
        if len(notes["name"].split("、")) > 1:
            st.caption(ui.plain(f"来自 {notes['name']}"))
        for warning in notes["warnings"]:
            st.warning(ui.plain(warning))
        if notes["unreadable"]:
            with st.expander(f"未能读取的文件 {len(notes['unreadable'])} 个（不会导入）", expanded=True):
                st.dataframe(pd.DataFrame(notes["unreadable"], columns=["文件", "原因"]), hide_index=True)
        if not drafts and not left_out:
            st.info("没有解析出案例：请确认专报中有【战术借鉴】或【战斗动态】等栏目。")
            return
        st.caption("可直接修改表格：改正地区、标题、正文或主题（多个主题用“；”分隔）；取消“保留”即不导入；"
                   "勾选“并入上一条”把这一段接到上一条后面；在表格末尾可补录案例。"
                   + (f"表格最后 {len(left_out)} 行是没有作为案例的段落（编者按、文尾、其他栏目等，原因见“未导入原因”），"
                      "勾选“保留”即可恢复导入（没有写明地区的请补上地区）。" if left_out else ""))
        edited = st.data_editor(
            # object columns, so that rows the reviewer adds may leave the checkboxes empty
            pd.DataFrame(ui.review_table(drafts, _pending(kb, drafts), left_out)).astype({"保留": object, "并入上一条": object}),
            key=f"imp_editor_{st.session_state.imp_round}", num_rows="dynamic", hide_index=True,
            disabled=["序号", "地区待确认", "未导入原因"],
            column_config={
                "序号": st.column_config.TextColumn(width="small", default=""),
                "保留": st.column_config.CheckboxColumn(width="small", default=True),
                "并入上一条": st.column_config.CheckboxColumn(default=False),
                "地区": st.column_config.TextColumn(default=""),
                "单位": st.column_config.TextColumn(default=""),
                "标题": st.column_config.TextColumn(default=""),
                "正文": st.column_config.TextColumn(width="large", default=""),
                "主题": st.column_config.TextColumn(default=""),
            })
        kept = ui.reviewed_drafts(drafts, edited.to_dict("records"))
        heading.subheader(f"核对解析结果：{len(kept)} 条" + (f"（表格共 {len(edited)} 行）" if len(edited) != len(kept) else ""))
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
            report.refused.append((f"第 {n} 条：{d['text'][:20]}…", ui.web_message(exc)))
    bar = st.progress(0.0, text="正在保存……")
    with reported(), st.spinner("正在保存并更新检索索引……"):
        kb.store_records(ready, report, editor=current_editor(), progress=lambda done, total: bar.progress(done / total,
                                                                                  text=f"已保存 {done}/{total} 条"))
        bar.progress(1.0, text="导入完成")
        del st.session_state["imp_drafts"]
        show_import_summary(report)
