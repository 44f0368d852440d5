"""The Streamlit app, page by page, through Streamlit's AppTest (no browser; see test_browser.py).

Every test runs the real app.py on its own copy of the seed knowledge base (REFORMKB_HOME in a tmp
dir) and checks what a member of staff would see, and what ended up in the knowledge base.
"""
from __future__ import annotations

import re
import threading

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from reformkb.app import display as ui
from reformkb.errors import NotFoundError
from reformkb.kb import KnowledgeBase
from reformkb.records import Record, Source
from reformkb.search.fusion import Filters
from reformkb.settings import project_root

APP = str(project_root() / "app.py")
TIMEOUT = 120  # the first semantic search of a test process loads the model
CHANGSHA_BADGE = "20→0.5 个工作日，压缩 97.5%"
NEAR_CHANGSHA = ("长沙市加快建设“无证明城市”，目前26类证明可在线开具，41类电子证照可实时调用，5088项政务服务实现"
                 "“减证办”“免证办”。企业注销由20个工作日压缩至0.5个工作日，推行“秒批秒办”。")
MARKUP = "岳阳市试点<script>alert(1)</script>**加粗**[链接](http://example.com)，容缺受理“秒批秒办”。"
BULLETIN = """测试市优化营商环境工作专报

第 5 期

2023 年 6 月 1 日

【战术借鉴】

苏州市推行“企业开办一日办结”，开办企业全流程压缩至1个工作日。

苏州市同步推出电子营业执照“一照通用”，企业可在线领取。

宁波市推出“拿地即开工”模式，
工程建设项目审批时间由120天压缩至30天。

厦门市试行“水电气网联合报装”，获得电力时间减少一半。

有关部门加强了宣传工作。
"""


@pytest.fixture
def home(seeded_copy, monkeypatch):
    """A fresh copy of the seed knowledge base, which the app opens through REFORMKB_HOME."""
    monkeypatch.setenv("REFORMKB_HOME", str(seeded_copy))
    return seeded_copy


def open_app(page: str = "search") -> AppTest:
    """A new browser session of the app, opened on ``page`` (as by the link ?page=…)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["page"] = page
    at.run()
    assert not at.exception, at.exception
    return at


def cards(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html") if h.value.startswith('<div class="rk-card')]


def card_regions(at: AppTest) -> list[str]:
    return [re.search(r'rk-head">([^<]*)', c).group(1) for c in cards(at)]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


# -- pure helpers -----------------------------------------------------------------------------------
def test_highlight_escapes_before_marking():
    out = ui.highlight("A&B <b>注销</b> 企业注销", ["注销", "企业注销", "&"])
    assert out == "A<mark>&amp;</mark>B &lt;b&gt;<mark>注销</mark>&lt;/b&gt; <mark>企业注销</mark>"
    # a term that is also part of an entity or a tag name cannot break the markup
    assert ui.highlight("<mark>x</mark>", ["mark", "lt"]) == "&lt;<mark>mark</mark>&gt;x&lt;/<mark>mark</mark>&gt;"


def test_card_shows_markup_as_text():
    rec = Record(text=MARKUP, region="岳阳市", agency="<i>局</i>", title="**标题**", topics=["政务服务"],
                 source=Source(title="[专报](http://x)", issue="3", date="2023-05-01"))
    html = ui.card_html(rec, ["秒批"])
    assert "<script>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;**加粗**[链接](http://example.com)" in html
    assert "**标题**" in html and "[专报](http://x) 第3期 · 2023-05-01" in html
    assert "<mark>秒批</mark>" in html


def test_web_messages_never_tell_the_user_to_run_a_command():
    from reformkb.errors import AuthError, InputError

    gone = ui.web_message(NotFoundError("没有编号为 41 的案例：请用 reformkb search 或 stats 查看现有编号。"))
    assert gone == "没有编号为 41 的案例：请在“管理”页查找现有案例。"
    assert "reformkb" not in ui.web_message(AuthError("修改知识库需要编辑登录：请先用编辑账号登录（命令行：--user 姓名）。"))
    assert ui.web_message(InputError("案例正文为空：请填写。")) == "案例正文为空：请填写。"


def test_uploader_states_the_real_limit_in_chinese():
    css = ui.streamlit_texts_css(20 * 1024 * 1024)
    assert "每个文件不超过 20 MB" in css and "选择文件" in css
    with pytest.raises(ValueError):
        ui.cookie_script("reformkb_editor", 'x"; alert(1); "', 60)


def test_sort_hits_by_date_and_improvement():
    from reformkb.search.fusion import Hit

    def hit(n, date, pct):
        metrics = [{"kind": "reduction", "reduction_pct": pct}] if pct is not None else []
        return Hit(Record(text=f"第{n}条", id=n, metrics=metrics, source=Source(date=date)), score=1.0 / n)

    hits = [hit(1, "2023-01-01", None), hit(2, "", 50.0), hit(3, "2024-05-01", 97.5), hit(4, "2023-06-01", 10.0)]
    ids = lambda hs: [h.record.id for h in hs]  # noqa: E731
    assert ids(ui.sort_hits(hits, "relevance")) == [1, 2, 3, 4]
    assert ids(ui.sort_hits(hits, "date")) == [3, 4, 1, 2]
    assert ids(ui.sort_hits(hits, "improvement")) == [3, 2, 4, 1]


def test_plain_escapes_markdown():
    assert ui.plain("**x** [a](b) <i>") == r"\*\*x\*\* \[a\]\(b\) \<i\>"


def test_reviewed_drafts_applies_edits_merges_and_drops():
    drafts = [Record(text="甲市做法一。", region="甲市", title="一", topics=["纳税"],
                     source=Source(title="甲市专报")).to_dict(),
              Record(text="续写。", region="甲市", title="二", topics=["纳税"]).to_dict(),
              Record(text="乙市做法。", region="乙市", title="三").to_dict()]
    rows = ui.review_table(drafts)
    rows[1]["并入上一条"] = True
    rows[2]["保留"] = False
    rows[0]["地区"] = "丙市"
    rows.append({"序号": float("nan"), "保留": True, "并入上一条": None, "地区": "丁市", "单位": None,
                 "标题": None, "正文": "丁市补录的做法。", "主题": float("nan")})  # a row the reviewer added
    rows.append({"序号": None, "保留": True, "并入上一条": False, "地区": "", "单位": "", "标题": "", "正文": "",
                 "主题": ""})  # a row added and left empty is not a case
    out = ui.reviewed_drafts(drafts, rows)
    assert [d["text"] for d in out] == ["甲市做法一。续写。", "丁市补录的做法。"]
    assert all(isinstance(r["序号"], str) and r["单位"] is not None for r in ui.review_table(drafts))  # no “None” cells
    # the region is read afresh; title and topics follow the merged text again
    assert out[0]["region"] == "丙市" and out[0]["region_raw"] == "" and out[0]["title"] == ""
    assert out[0]["topics"] == []
    assert out[1]["region"] == "丁市" and out[1]["title"] == "" and out[1]["topics"] == []
    assert out[1]["source_title"] == "甲市专报"


# -- 检索 -------------------------------------------------------------------------------------------
def test_search_shows_latest_then_results_with_filters_and_export(home):
    at = open_app()
    assert "最新收录" in texts(at.subheader)
    assert len(cards(at)) == 10  # the latest practices, before anything is typed

    at.text_input(key="q").input("企业注销提速").run()
    first = cards(at)[0]
    assert card_regions(at)[0] == "长沙市"
    assert "<mark>企业注销</mark>" in first and CHANGSHA_BADGE in first
    assert "来源：永州市打好优化发展环境持久仗工作专报 第2期 · 2023-03-18" in first
    assert '<span class="rk-topic">企业注销</span>' in first
    # issue 15: a Word report besides the text; the report text is grouped by province, “地区（单位）：做法。成效。”
    assert {b.label for b in at.get("download_button")} == {"导出 Excel", "导出 CSV", "导出 Word 报告", "导出报告文字"}
    assert at.code[0].value.startswith("一、湖南省\n1. 长沙市：加快建设")
    assert "。成效：" in at.code[0].value

    at.sidebar.selectbox(key="province").select("广东省").run()
    assert set(card_regions(at)) == {"深圳市", "梅州市"}
    at.sidebar.selectbox(key="topic").select("惠企政策").run()
    assert card_regions(at) == ["深圳市"]

    at.sidebar.selectbox(key="topic").select("").run()
    at.text_input(key="q").input("量子计算").run()  # nothing answers it: the closest few, below a note
    # issue 14/15: every hit is weak, so the page says so (was: “下面是意思最接近的做法” over all hits)
    assert 0 < len(cards(at)) <= 3 and "没有找到高度相关的做法" in texts(at.info)
    at.sidebar.radio(key="mode").set_value("keyword").run()
    assert cards(at) == [] and "没有找到符合条件的案例" in texts(at.info)
    button(at, "清除筛选条件").click().run()  # the one under the message
    assert at.sidebar.selectbox(key="province").value == ""
    at.text_input(key="q").input("注销").run()
    assert card_regions(at) == ["长沙市"]

    at.sidebar.date_input(key="date_to").set_value("2022-12-31").run()
    assert cards(at) == []


def test_results_sorted_paged_and_ticked_for_the_report(home):
    at = open_app()
    at.sidebar.toggle(key="with_actions").set_value(True).run()  # the 30 newest cases, 10 a page
    first_page = cards(at)
    assert len(first_page) == 10 and "第 1 / 3 页（第 1–10 条，共 30 条）" in texts(at.caption)
    button(at, "下一页").click().run()
    button(at, "下一页").click().run()
    assert len(cards(at)) == 10 and "第 3 / 3 页" in texts(at.caption) and not set(cards(at)) & set(first_page)
    button(at, "上一页").click().run()
    button(at, "上一页").click().run()
    assert cards(at) == first_page

    def shown() -> list[Record]:
        with KnowledgeBase(home=home) as kb:
            return [kb.get(int(re.search(r"编号 (\d+)", c).group(1))) for c in cards(at)]

    at.sidebar.selectbox(key="sort").select("improvement").run()
    assert "第 1 / 3 页" in texts(at.caption)  # a new order starts again at the first page
    cuts = [ui.best_improvement(r) for r in shown()]
    known = [c for c in cuts if c is not None]
    assert known and known == sorted(known, reverse=True) and cuts[:len(known)] == known
    assert card_regions(at)[0] == "长沙市"  # 97.5 %, the largest in the seed; not on the first page by date
    at.sidebar.selectbox(key="sort").select("date").run()
    dates = [r.source.date for r in shown()]
    assert dates == sorted(dates, reverse=True)
    at.sidebar.selectbox(key="sort").select("relevance").run()
    at.sidebar.toggle(key="with_actions").set_value(False)
    at.text_input(key="q").input("营商环境").run()

    ids = [int(re.search(r"编号 (\d+)", c).group(1)) for c in cards(at)]
    at.checkbox(key=f"tick_{ids[3]}").check().run()
    at.checkbox(key=f"tick_{ids[1]}").check().run()
    assert "已选入报告 2 条" in "\n".join(m.value for m in at.markdown)
    report = at.code[0].value
    with KnowledgeBase(home=home) as kb:
        chosen = [kb.get(ids[3]), kb.get(ids[1])]
    from reformkb.export import to_report_text
    assert report == to_report_text(chosen, "region")  # only the ticked cards, in the order ticked
    at.text_input(key="q").input("企业注销提速").run()  # the ticks stay while searching on
    assert at.code[0].value == report
    at.radio(key="group_标杆经验_已选").set_value("topic").run()
    assert at.code[0].value == to_report_text(chosen, "topic")
    button(at, "清空已选").click().run()
    assert "已选入报告" not in "\n".join(m.value for m in at.markdown)
    assert at.code[0].value.startswith("一、湖南省\n1. 长沙市")  # back to this search's results


def _graded(monkeypatch, grade):
    """Hits graded by ``grade(hit)`` (the relevance grading is issue 14's; here only the page is tested)."""
    original = KnowledgeBase.search

    def search(self, *args, **kwargs):
        hits = original(self, *args, **kwargs)
        for hit in hits:
            hit.relevance = grade(hit)
        return hits

    monkeypatch.setattr(KnowledgeBase, "search", search)


def test_weak_hits_are_collapsed_and_left_out_of_exports(home, monkeypatch):
    _graded(monkeypatch, lambda h: "strong" if h.record.region == "长沙市" else "weak")
    at = open_app()
    at.text_input(key="q").input("企业注销提速").run()
    assert card_regions(at) == ["长沙市"]  # the weak tail is collapsed, not drawn
    weak = at.expander[-1] if at.expander else None
    assert weak is not None and weak.label.startswith("其他可能相关（相关度较低）")
    assert at.code[0].value.count("\n1. ") + at.code[0].value.startswith("1. ") == 1  # only 长沙 is exported
    assert "长沙市" in at.code[0].value and "梅州市" not in at.code[0].value


def test_nothing_better_than_weak_says_so(home, monkeypatch):
    _graded(monkeypatch, lambda h: "weak")
    at = open_app()
    at.text_input(key="q").input("企业注销提速").run()
    assert "没有找到高度相关的做法" in texts(at.info) and "更宽泛的说法" in texts(at.info)
    assert 0 < len(cards(at)) <= 3  # the closest few, below that line
    assert not at.get("download_button")  # nothing to export until a card is ticked


def test_record_markup_is_displayed_literally(home):
    with KnowledgeBase(home=home) as kb:
        kb.add({"text": MARKUP, "title": "**醒目标题**"})
    at = open_app()
    at.text_input(key="q").input("秒批秒办").run()
    card = next(c for c in cards(at) if "岳阳市" in c)
    assert "<script>" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;**加粗**[链接](http://example.com)" in card
    assert "**醒目标题**" in card


# -- 按地区浏览 --------------------------------------------------------------------------------------
def test_browse_by_region_and_topic(home):
    at = open_app("browse")
    assert len(at.get("vega_lite_chart")) == 2  # practices per province and per topic
    provinces = at.dataframe[0].value.set_index("省份")
    assert provinces.loc["湖南省", "案例数"] == 8 and "衡阳市 4" in provinces.loc["湖南省", "地区（案例数）"]

    at.selectbox(key="b_province").select("湖南省").run()
    table = at.dataframe[1].value
    assert len(table) == 8 and set(table["地区"]) == {"长沙市", "株洲市", "衡阳市", "邵阳市", "益阳市"}
    at.selectbox(key="b_region").select("衡阳市").run()
    assert set(at.dataframe[1].value["地区"]) == {"衡阳市"}

    at.selectbox(key="b_region").select("").run()
    at.selectbox(key="b_topic").select("企业注销").run()
    table = at.dataframe[1].value
    assert list(table["地区"]) == ["长沙市"]
    at.session_state["b_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}  # a click on the row
    at.run()
    assert card_regions(at) == ["长沙市"] and CHANGSHA_BADGE in cards(at)[0]


# -- 新增案例 ---------------------------------------------------------------------------------------
def test_add_warns_about_near_duplicate_and_is_searchable_at_once(home):
    at = open_app("add")
    button(at, "保存案例").click().run()
    assert "案例正文为空" in texts(at.error)

    at.selectbox(key="add_region").set_value("长沙市")
    at.text_area(key="add_text").input(NEAR_CHANGSHA).run()
    assert "企业注销" in at.multiselect(key="add_topics").value  # suggested from the text
    assert "已有 1 条与此很相似的案例" in texts(at.warning)
    assert card_regions(at) == ["长沙市"] and "编号 13" in cards(at)[0]

    button(at, "保存案例").click().run()
    assert "请先核对" in texts(at.warning)
    with KnowledgeBase(home=home) as kb:
        assert kb.count() == 30

    at.checkbox(key="add_confirm").check().run()
    button(at, "保存案例").click().run()
    assert "已保存第 31 条" in texts(at.success)
    assert at.text_area(key="add_text").value == ""  # the form is ready for the next case
    with KnowledgeBase(home=home) as kb:
        saved = kb.get(31)
    assert saved.region == "长沙市" and saved.topics == ["政务服务", "企业注销"]

    other = open_app()  # another member of staff, in another session
    other.text_input(key="q").input("秒批秒办").run()
    assert "编号 31" in cards(other)[0]


# -- 导入专报 ---------------------------------------------------------------------------------------
def test_import_pasted_bulletin_with_review(home):
    at = open_app("import")
    at.text_area(key="imp_text").input(BULLETIN)
    button(at, "解析粘贴的文字").click().run()
    assert "核对解析结果：4 条" in texts(at.subheader)
    table = at.data_editor[0].value
    assert list(table["地区"]) == ["苏州市", "苏州市", "宁波市", "厦门市", ""]
    # The paragraph without a region is the last row, not kept, with the reason (one tick takes it back).
    assert "有关部门加强了宣传工作" in table["正文"].iloc[4] and not table["保留"].iloc[4]
    assert "没有填写地区" in table["未导入原因"].iloc[4] and list(table["未导入原因"].iloc[:4]) == [""] * 4

    # The reviewer merges the second 苏州 paragraph into the first, corrects 宁波 to 杭州, drops 厦门
    # and adds a row for a case the parser could not read.
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": {1: {"并入上一条": True}, 2: {"地区": "杭州市"}, 3: {"保留": False}},
        "added_rows": [{"保留": True, "地区": "绍兴市", "正文": "绍兴市推行“企业注销一件事”，注销办理压缩至3个工作日。"}],
        "deleted_rows": []}
    at.run()
    assert "核对解析结果：3 条（表格共 6 行）" in texts(at.subheader)  # the heading follows the edits (issue 15)
    button(at, "确认导入 3 条").click().run()
    assert not at.exception
    assert at.get("progress") and "新增 3 条，重复跳过 0 条，拒绝 0 条。" in texts(at.success)
    assert not at.data_editor  # the review table is gone once imported

    with KnowledgeBase(home=home) as kb:
        new = {r.region: r for r in kb.records(Filters(source="测试市"))}
    assert set(new) == {"苏州市", "杭州市", "绍兴市"}
    assert new["苏州市"].text.endswith("开办企业全流程压缩至1个工作日。苏州市同步推出电子营业执照“一照通用”，企业可在线领取。")
    assert new["杭州市"].province == "浙江省" and new["杭州市"].metrics[0]["reduction_pct"] == 75
    assert new["绍兴市"].source.title == "测试市优化营商环境工作专报" and "企业注销" in new["绍兴市"].topics

    at.sidebar.radio(key="page").set_value("search").run()
    at.text_input(key="q").input("一照通用").run()
    assert card_regions(at)[0] == "苏州市"


def test_a_left_out_paragraph_is_taken_back_with_one_tick(home):
    at = open_app("import")
    at.text_area(key="imp_text").input(BULLETIN.replace("【战术借鉴】", "【工作要求】\n绍兴市推行“企业注销一件事”。\n【战术借鉴】"))
    button(at, "解析粘贴的文字").click().run()
    table = at.data_editor[0].value
    row = list(table["正文"]).index("绍兴市推行“企业注销一件事”。")
    assert table["未导入原因"].iloc[row] == "【工作要求】不是标杆经验栏目" and not table["保留"].iloc[row]
    at.session_state[at.data_editor[0].key] = {"edited_rows": {row: {"保留": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    button(at, "确认导入 5 条").click().run()
    assert "新增 5 条" in texts(at.success)
    with KnowledgeBase(home=home) as kb:
        taken = [r for r in kb.records(Filters(source="测试市")) if r.region == "绍兴市"]
    assert [r.text for r in taken] == ["绍兴市推行“企业注销一件事”。"] and taken[0].source.title == "测试市优化营商环境工作专报"


def test_import_uploaded_file_reports_duplicates(home, seed_text):
    at = open_app("import")
    at.toggle(key="imp_actions").set_value(False)
    at.file_uploader(key="imp_file").upload("专报.txt", seed_text.encode("utf-8"), "text/plain")
    button(at, "解析文件").click().run()
    assert "核对解析结果：18 条" in texts(at.subheader)
    button(at, "确认导入 18 条").click().run()
    assert "新增 0 条，重复跳过 18 条，拒绝 0 条。" in texts(at.success)


def test_several_bulletins_uploaded_at_once(home, seed_text):
    at = open_app("import")
    uploader = at.file_uploader(key="imp_file")
    assert uploader.accept_multiple_files and uploader.allowed_type == []  # other types are refused in Chinese
    uploader.upload("测试专报.txt", BULLETIN.encode("utf-8"), "text/plain")
    uploader.upload("表格.xlsx", b"PK\x03\x04 not a bulletin", "application/vnd.ms-excel")
    uploader.upload("永州专报.txt", seed_text.encode("utf-8"), "text/plain")
    button(at, "解析文件").click().run()
    total = 4 + 30  # the test bulletin's four cases and the seed bulletin's practices and actions
    assert f"核对解析结果：{total} 条" in texts(at.subheader)
    refused = at.dataframe[0].value
    assert "表格.xlsx" in list(refused.iloc[:, 0]) and "xlsx" in " ".join(refused.iloc[:, 1])
    regions = list(at.data_editor[0].value["地区"])
    assert regions[:4] == ["苏州市", "苏州市", "宁波市", "厦门市"] and "长沙市" in regions[4:]
    button(at, f"确认导入 {total} 条").click().run()
    assert f"新增 4 条，重复跳过 {total - 4} 条，拒绝 0 条。" in texts(at.success)


def test_a_case_without_a_source_is_not_a_bulletin(home):
    with KnowledgeBase(home=home) as kb:
        kb.add({"text": "苏州市推行“企业开办一日办结”，全流程压缩至1个工作日。"})
        assert kb.stats()["sources"] == 1  # one bulletin, though two source groups
    at = open_app()
    source = at.sidebar.selectbox(key="source")
    assert source.options == ["全部来源", "永州市打好优化发展环境持久仗工作专报（30）"] and source.value == ""


# -- 管理 -------------------------------------------------------------------------------------------
def widget(elements, prefix: str):
    return next(w for w in elements if w.key and w.key.startswith(prefix))


def test_manage_edit_delete_restore_and_stats(home):
    at = open_app("manage")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["标杆经验"] == "18" and metrics["本地工作动态"] == "12"

    at.text_input(key="m_find").input("13").run()
    assert at.selectbox(key="m_pick").value == 13
    widget(at.text_input, "m_region_").input("Mars")  # an unknown Chinese place would be kept, to confirm
    button(at, "保存修改").click().run()
    assert "地区“Mars”不是中文地名" in texts(at.error)
    widget(at.text_input, "m_region_").input("长沙市")
    widget(at.text_input, "m_title_").input("长沙“无证明城市”")
    widget(at.multiselect, "m_topics_").set_value(["政务服务"])
    button(at, "保存修改").click().run()
    assert "已保存对第 13 条的修改" in texts(at.success)
    with KnowledgeBase(home=home) as kb:
        changed = kb.get(13)
    assert changed.title == "长沙“无证明城市”" and changed.topics == ["政务服务"]

    at.checkbox(key="m_sure_13").check().run()
    at.button(key="m_delete_13").click().run()
    assert "已删除第 13 条" in texts(at.success)
    with KnowledgeBase(home=home) as kb, pytest.raises(NotFoundError):
        kb.get(13)
    assert not at.error  # the deleted case is no longer looked up (issue 15: “没有编号为 13 的案例：请用 reformkb …”)
    assert at.text_input(key="m_find").value == ""
    log = at.dataframe[-1].value
    assert list(log["操作"][:2]) == ["删除", "修改"] and list(log["编号"][:2]) == [13, 13]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", log["时间"][0])  # local time, not UTC ISO
    assert log["操作人"][0] == "网页（单用户模式）" and "local" not in set(log["操作人"])

    button(at, "撤销删除第 13 条").click().run()
    assert "已恢复第 13 条" in texts(at.success)
    with KnowledgeBase(home=home) as kb:
        assert kb.get(13).title == "长沙“无证明城市”"

    button(at, "重建索引").click().run()
    assert "索引已重建：30 条。" in texts(at.success)


# -- several sessions at once -----------------------------------------------------------------------
@pytest.fixture
def no_magic():
    """AppTest parses app.py on every run, for Streamlit's "magic" (which app.py does not use), and
    CPython before 3.11.8 cannot build ASTs in two threads at once (gh-106905: "AST constructor recursion
    depth mismatch"). A real server compiles the script once, under a lock, so only the test needs this."""
    before = st_config.get_option("runner.magicEnabled")
    st_config.set_option("runner.magicEnabled", False)
    yield
    st_config.set_option("runner.magicEnabled", before)


def test_two_sessions_write_and_search_at_the_same_time(home, no_magic):
    writer, reader = open_app("add"), open_app()
    reader.text_input(key="q").input("企业注销提速").run()  # both sessions share one loaded model
    errors: list[BaseException] = []
    cases = {"株洲市": "株洲市推行“并发测试甲”改革，企业开办压缩至1个工作日，免费刻制公章。",
             "湘潭市": "湘潭市并发测试乙：不动产登记与水电气过户联动办理，全程网办。",
             "岳阳市": "岳阳市以并发测试丙为抓手，建设港口物流跨境贸易单一窗口，通关时间缩短一半。",
             "常德市": "常德市开展并发测试丁，设立知识产权快速维权中心，专利预审周期缩至1个月。",
             "郴州市": "郴州市推出并发测试戊，对中小微企业发放信用贷款，无需抵押担保。"}

    def write():
        try:
            for n, (city, text) in enumerate(cases.items()):
                writer.selectbox(key="add_region").set_value(city)
                writer.text_area(key="add_text").input(text)
                button(writer.run(), "保存案例").click().run()
                assert f"已保存第 {31 + n} 条" in texts(writer.success), texts(writer.warning)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    def read():
        try:
            for query in ["企业注销提速", "并发测试", "工程建设审批", "惠企政策", "并发测试"] * 2:
                reader.text_input(key="q").input(query).run()
                assert not reader.exception and cards(reader)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    reader.sidebar.radio(key="mode").set_value("keyword")
    reader.text_input(key="q").input("并发测试").run()
    assert set(card_regions(reader)[:5]) == set(cases)


# -- 编辑人员登录 -------------------------------------------------------------------------------------
def test_writes_need_sign_in_when_editors_are_configured(home):
    from reformkb.auth import Editors

    Editors.for_home(home).add_account("王科长", "correct horse 9", iterations=1000)
    reader = open_app("search")
    reader.text_input(key="q").input("企业注销提速").run()
    assert card_regions(reader)[0] == "长沙市"  # reading needs no sign-in

    at = open_app("add")
    assert "需要编辑人员登录" in texts(at.info)
    assert not [w for w in at.text_area if w.key == "add_text"]  # the form is not shown
    at.text_input(key="si_name").input("王科长")
    at.text_input(key="si_password").input("wrong password")
    button(at, "登录").click().run()
    assert "密码" in texts(at.error) or "账号" in texts(at.error)
    at.text_input(key="si_password").input("correct horse 9")
    button(at, "登录").click().run()
    # the browser is given a signed token to keep (issue 15; a refresh is tested in test_browser.py)
    script = next(h.value for h in at.get("html") if "document.cookie" in h.value)
    token = re.search(r"reformkb_editor=([^;]+);", script).group(1)
    with KnowledgeBase(home=home) as kb:
        assert kb.resume_session(token).name == "王科长"
    at.selectbox(key="add_region").set_value("苏州市")
    at.text_area(key="add_text").input("苏州市推行“企业开办一日办结”，全流程压缩至1个工作日。").run()
    button(at, "保存案例").click().run()
    assert "已保存第 31 条" in texts(at.success)
    with KnowledgeBase(home=home) as kb:
        assert kb.changes(limit=1)[0].actor == "王科长"
    at.sidebar.button(key="sign_out").click().run()
    assert "需要编辑人员登录" in texts(at.info)
    assert any("reformkb_editor=; Max-Age=0" in h.value for h in at.get("html"))  # the token is removed
