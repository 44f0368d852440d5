"""取消导入: once its cancel event is set, an import's parse stops at the next checkpoint (after a page of
OCR, before a paragraph or row) with ImportCancelled, and nothing of it is stored; the import page's
「取消导入」 button sets that event while the file is read (AppTest, the real app.py)."""
from __future__ import annotations

import threading
import time

import forms_support as fs
import pytest
from reliability_support import fingerprint, practice_text
from streamlit.testing.v1 import AppTest

from reformkb.errors import ImportCancelled
from reformkb.kb import KnowledgeBase
from reformkb.settings import project_root

CANCELLED = "导入已取消：没有保存任何内容"


def bulletin(paragraphs: int) -> str:
    return ("测试市优化营商环境工作专报\n\n第 1 期\n\n2023 年 6 月 1 日\n\n【战术借鉴】\n\n"
            + "\n\n".join(practice_text(n, "取消") for n in range(paragraphs)) + "\n")


def test_a_cancel_stops_the_parse_before_the_next_paragraph_and_stores_nothing(kb):
    before = fingerprint(kb.settings.db_path)
    cancel = threading.Event()
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done == 5:
            cancel.set()  # as the 取消导入 button does, from another thread

    with pytest.raises(ImportCancelled, match=CANCELLED):
        kb.parse_file(bulletin(200).encode("utf-8"), "长专报.txt", draft_progress=progress, cancel=cancel)
    assert seen == [0, 1, 2, 3, 4, 5]  # the paragraph under way was finished, the next one never begun
    assert fingerprint(kb.settings.db_path) == before

    # the same file, not cancelled, is whole: the cancelled run had kept nothing back
    drafts, _ = kb.parse_file(bulletin(200).encode("utf-8"), "长专报.txt", cancel=threading.Event())
    assert len(drafts) == 200 and len(kb.store_records(drafts).added) == 200


def test_a_cancel_set_before_the_parse_reads_nothing(kb, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ImportCancelled):  # not "找不到文件": the file is never opened
        kb.parse_file(tmp_path / "没有这个文件.txt", cancel=cancel)
    with pytest.raises(ImportCancelled):
        kb.parse_text(bulletin(3), cancel=cancel)


def held_at_the_first_paragraph(progress, cancel: threading.Event):
    """A draft progress that, after the first paragraph, waits for the cancel as a slow file keeps the
    parse busy: the cancel then surely arrives while the parse is running, however fast the machine."""
    def held(done: int, total: int) -> None:
        progress(done, total)
        if done == 1:
            cancel.wait(60)
    return held


def test_a_cancel_from_another_thread_stops_a_running_parse(kb):
    before = fingerprint(kb.settings.db_path)
    started, cancel, outcome = threading.Event(), threading.Event(), {}

    def work() -> None:
        try:
            progress = held_at_the_first_paragraph(lambda done, total: started.set(), cancel)
            outcome["drafts"] = kb.parse_file(bulletin(200).encode("utf-8"), "两百段.txt",
                                              draft_progress=progress, cancel=cancel)[0]
        except ImportCancelled as exc:
            outcome["cancelled"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    assert started.wait(120)
    cancel.set()
    thread.join(120)
    assert "cancelled" in outcome and "drafts" not in outcome, outcome.keys()
    assert fingerprint(kb.settings.db_path) == before


@pytest.mark.skipif(fs.cjk_font() is None, reason="needs a CJK font to draw the scanned pages")
def test_a_cancel_stops_ocr_between_pages(kb):
    pages = fs.render_pages("\n\n".join(f"长沙市推行企业开办“一网通办”第{n}项。" for n in range(4)),
                            width=500, height=110, size=24, margin=30)
    assert len(pages) >= 3
    before = fingerprint(kb.settings.db_path)
    cancel, seen = threading.Event(), []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        cancel.set()  # pressed while the first page was being recognised

    with pytest.raises(ImportCancelled):
        kb.parse_file(fs.image_pdf(pages), "扫描件.pdf", page_progress=progress, cancel=cancel)
    assert seen == [(1, len(pages))]  # the second page was never recognised
    assert fingerprint(kb.settings.db_path) == before


# -- the import page ---------------------------------------------------------------------------------
def test_the_import_page_cancels_a_long_parse_and_says_nothing_was_saved(seeded_copy, monkeypatch):
    home = seeded_copy
    monkeypatch.setenv("REFORMKB_HOME", str(home))
    parse_file = KnowledgeBase.parse_file

    def slow_parse(self, *args, draft_progress, cancel, **kwargs):  # the page's parse, held as above
        return parse_file(self, *args, draft_progress=held_at_the_first_paragraph(draft_progress, cancel),
                          cancel=cancel, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "parse_file", slow_parse)
    before = fingerprint(home / "reformkb.db")
    at = AppTest.from_file(str(project_root() / "app.py"), default_timeout=120)
    at.query_params["page"] = "import"
    at.run()
    at.file_uploader(key="imp_file").upload("长专报.txt", bulletin(200).encode("utf-8"), "text/plain")
    next(b for b in at.button if b.label == "解析文件").click().run()
    assert not at.exception, at.exception
    # still reading after QUICK_S: the page shows the progress and the button
    assert at.get("progress") and [b for b in at.button if b.label == "取消导入"]
    assert not [s for s in at.subheader if s.value.startswith("核对解析结果")]

    next(b for b in at.button if b.label == "取消导入").click().run()
    deadline = time.monotonic() + 60
    while CANCELLED not in " ".join(w.value for w in at.warning) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()  # what the page's half-second refresh does in a browser
    assert not at.exception, at.exception
    assert CANCELLED in " ".join(w.value for w in at.warning)
    assert not [s for s in at.subheader if s.value.startswith("核对解析结果")]  # no review of a half-read file
    assert "imp_drafts" not in at.session_state and not [b for b in at.button if b.label == "取消导入"]
    assert fingerprint(home / "reformkb.db") == before


def test_a_cancel_stops_a_long_bulletin_while_its_paragraphs_are_read(kb):
    """The bulletin's own parse (sections, places: before any paragraph is checked) stops too, soon after the
    cancel rather than at its end. The gazetteer the parse asks counts the calls: a whole parse makes some
    number of them; with the cancel set half way, the parse stops well before that number."""
    from reformkb.ingest import bulletin as bulletin_module

    real, asked = bulletin_module._gazetteer, []
    cancel = threading.Event()

    def counting():
        asked.append(1)
        if stop_at and len(asked) == stop_at:
            cancel.set()
        return real()

    bulletin_module._gazetteer = counting
    try:
        stop_at = 0
        bulletin_module.parse_bulletin(bulletin(2000), "长专报.txt")
        whole, asked[:] = len(asked), []
        stop_at = whole // 2
        with pytest.raises(ImportCancelled):
            kb.parse_text(bulletin(2000), cancel=cancel)
    finally:
        bulletin_module._gazetteer = real
    assert whole // 2 <= len(asked) < whole * 0.6  # stopped within a few paragraphs of the cancel
