"""The bulletin parser on house styles other than the seed's: small cases, one mechanism each."""
from __future__ import annotations

import time

import docx
import pytest
from bulletin_corpus import docx_bytes, pdf_bytes

from reformkb.errors import InputError
from reformkb.ingest.bulletin import SectionNames, parse_bulletin, repair
from reformkb.ingest.documents import read_document
from reformkb.ingest.enrich import read_place
from reformkb.ingest.lines import MAX_PARAGRAPH_CHARS
from reformkb.ingest.masthead import chinese_number, find_date, read_masthead
from reformkb.ingest.regions import gazetteer
from reformkb.ingest.sections import heading_of
from reformkb.records import KIND_ACTION, KIND_PRACTICE

HEAD = "某某市优化营商环境工作简报\n第 3 期\n2024年5月6日\n"


def practices(parsed):
    return [d for d in parsed.drafts if d.kind == KIND_PRACTICE]


def places(parsed):
    return [d.region_raw for d in practices(parsed)]


def local_heads(parsed, n: int = 3) -> list[str]:
    """The first ``n`` characters of each local action drafted."""
    return [d.text[:n] for d in parsed.drafts if d.kind == KIND_ACTION]


def where(span: str) -> tuple[str, str]:
    """(province, city) of a place as the parser wrote it (how precise it is depends on the gazetteer)."""
    region = gazetteer().lookup(span)
    return (region.province, region.city or "") if region else ("", "")


# -- masthead ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("written, number", [("十二", 12), ("二十三", 23), ("一百零五", 105), ("十", 10),
                                             ("二〇二四", 2024), ("７", 7), ("九", 9)])
def test_chinese_numbers(written, number):
    assert chinese_number(written) == number


@pytest.mark.parametrize("line, date", [
    ("2024年5月6日", "2024-05-06"), ("2024 年 05 月 06 日", "2024-05-06"), ("2024-05-06", "2024-05-06"),
    ("2024.5.6", "2024-05-06"), ("2024/5/6", "2024-05-06"), ("二〇二四年五月六日", "2024-05-06"),
    ("二〇二四年十二月三十一日", "2024-12-31"), ("某某办公室编　　2024.3.15", "2024-03-15"),
    ("2024年13月40日", ""), ("共印30份", ""),
])
def test_dates_in_every_common_form(line, date):
    assert find_date(line) == date


@pytest.mark.parametrize("head, title, issue", [
    (["永州市优化营商环境", "工作专报", "第十二期"], "永州市优化营商环境工作专报", "12"),
    (["优化营商环境简报（2024年第9期）"], "优化营商环境简报", "9"),
    (["内部资料 注意保存", "长沙市营商环境动态", "总第35期 第4期"], "长沙市营商环境动态", "4"),
    (["长沙市优化营商环境办公室", "营商环境专刊", "总第35期"], "营商环境专刊", "35"),
    (["岳阳市", "优化营商环境工作通讯", "第 7 期"], "岳阳市优化营商环境工作通讯", "7"),
])
def test_masthead_title_over_lines_and_issue(head, title, issue):
    source = read_masthead(head)
    assert (source.title, source.issue) == (title, issue)


def test_masthead_date_from_the_printing_line_when_the_head_has_none():
    source = read_masthead(["某某市营商环境简报", "第 2 期"], ["抄送：市委办", "某某市优化办 2024年7月1日印发"])
    assert source.date == "2024-07-01"


# -- headings and sections --------------------------------------------------------------------------
@pytest.mark.parametrize("line, name, rank", [
    ("【他山之石】", "他山之石", 0), ("二、先进地区经验做法", "先进地区经验做法", 1), ("# 典型案例", "典型案例", 1),
    ("（二）经验借鉴", "经验借鉴", 2), ("外地经验", "外地经验", 3), ("领导批示：", "领导批示", 3),
])
def test_headings(line, name, rank):
    heading = heading_of(line)
    assert heading is not None and (heading.name, heading.rank) == (name, rank)


@pytest.mark.parametrize("line", ["（一）宁夏回族自治区推行“一件事一次办”改革，梳理企业全生命周期高频事项。",
                                  "请各地各部门结合实际学习借鉴。", "1.杭州市余杭区建设“余杭企业服务综合体”，集成政策兑现等功能。"])
def test_paragraphs_are_not_headings(line):
    assert heading_of(line) is None


@pytest.mark.parametrize("heading", ["【他山之石】", "【典型案例】", "二、外地经验做法", "外地经验", "（二）经验借鉴"])
def test_practice_sections_by_any_known_name(heading):
    parsed = parse_bulletin(HEAD + f"{heading}\n成都市上线“蓉易办”平台，办事材料平均精简六成。\n", "x.txt")
    assert places(parsed) == ["成都市"] and practices(parsed)[0].section == heading_of(heading).name


def test_a_section_of_unknown_name_is_classified_by_its_content():
    text = HEAD + ("【学习园地】\n成都市上线“蓉易办”平台，办事材料平均精简六成。\n"
                   "苏州市推行“企业开办一日办结”。\n"
                   "【本月要闻】\n3月5日，全市召开优化营商环境大会，部署全年工作。\n")
    parsed = parse_bulletin(text, "x.txt")
    assert places(parsed) == ["成都市", "苏州市"]
    assert any("全市召开优化营商环境大会" in left.text and "本月要闻" in left.reason for left in parsed.left_out)


def test_local_units_make_a_section_of_actions():
    text = ("永州市优化营商环境简报\n第 1 期\n2024年1月1日\n【近期工作】\n冷水滩区：推行“首席服务员”包联制度。\n"
            "市财政局：上线全流程电子化招投标平台。\n【战术借鉴】\n长沙市推行“一件事一次办”。\n")
    parsed = parse_bulletin(text, "x.txt")
    actions = [d for d in parsed.drafts if d.kind == KIND_ACTION]
    assert [d.region_raw for d in actions] == ["冷水滩区", "永州市"] and actions[1].agency == "市财政局"
    assert places(parsed) == ["长沙市"]


def test_users_can_name_their_own_practice_section():
    text = HEAD + "【他们怎么做】\n成都市上线“蓉易办”平台。\n成都市推行“企业开办一日办结”。\n【工作安排】\n部署全年工作。\n"
    with pytest.raises(InputError, match="战术借鉴"):  # not a known name, and no place starts its paragraphs
        parse_bulletin(text.replace("成都市", ""), "x.txt")
    names = SectionNames().extended(practice=["怎么做"])
    assert places(parse_bulletin(text.replace("成都市", ""), "x.txt", names=names)) == ["", ""]


def test_noise_never_becomes_a_practice():
    text = (HEAD + "编者按：现将外地经验刊发如下，供参考。\n【他山之石】\n近期各地涌现一批好做法，现摘编如下：\n"
            "市委书记张三同志批示：深圳市的做法很好，请认真学习。\n"
            "深圳市推行“秒批”改革①，审批时间压缩九成。\n注：\n①“秒批”：指系统自动审批。\n"
            "请各地结合实际学习借鉴。\n（共印30份）\n抄送：市委办公室\n联系电话：0746-1234567\n")
    parsed = parse_bulletin(text, "x.txt")
    assert [d.text for d in practices(parsed)] == ["深圳市推行“秒批”改革，审批时间压缩九成。"]
    reasons = {left.reason for left in parsed.left_out}
    assert {"编者按，不是案例", "领导批示，不是案例", "注释，不是案例", "文尾（报送、抄送、联系方式），不是案例",
            "栏目的导语或结语，没有写明地区"} <= reasons


# -- layouts ------------------------------------------------------------------------------------------
def test_enumerated_items_become_one_record_each_with_the_actor_carried_over():
    text = HEAD + ("【他山之石】\n佛山市顺德区聚焦企业服务，一是推行“拿地即开工”，当天领证；二是开展“一照通行”改革；"
                   "三是建立“政企早餐会”机制。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [d.text for d in drafts] == ["佛山市顺德区聚焦企业服务，推行“拿地即开工”，当天领证。",
                                        "佛山市顺德区开展“一照通行”改革。", "佛山市顺德区建立“政企早餐会”机制。"]
    assert {where(d.region_raw) for d in drafts} == {("广东省", "佛山市")}


@pytest.mark.parametrize("enumerator", ["1.", "1、", "（一）", "一、", "①", "●", "▲", "★ "])
def test_enumerators_are_stripped(enumerator):
    text = HEAD + f"【经验借鉴】\n{enumerator}杭州市推行“企业开办全城通办”，全程最快半天办结。\n"
    assert [d.text for d in practices(parse_bulletin(text, "x.txt"))] == ["杭州市推行“企业开办全城通办”，全程最快半天办结。"]


def test_a_place_heading_gives_its_place_to_the_paragraphs_below():
    text = HEAD + ("外地经验\n上海市浦东新区\n推行“一业一证”改革，31个行业“一证准营”。\n"
                   "推出“高效办成一件事”集成服务。\n杭州互联网法院\n探索“异步审理”模式。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [(where(d.region_raw), d.agency) for d in drafts] == [
        (("上海市", "上海市"), ""), (("上海市", "上海市"), ""), (("浙江省", "杭州市"), "互联网法院")]
    assert drafts[0].text.startswith("上海市浦东新区推行“一业一证”改革") and drafts[2].text.startswith("杭州互联网法院探索")


def test_several_places_in_one_sentence_give_sibling_records():
    text = HEAD + "【他山之石】\n南昌、赣州两市试点惠企政策“免申即享”。\n郑州市和洛阳市推行“联合验收”。\n"
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [d.region_raw for d in drafts] == ["南昌", "赣州", "郑州市", "洛阳市"]
    assert drafts[0].text == drafts[1].text and drafts[0].siblings == ("南昌", "赣州")


def test_a_new_actor_after_a_connective_starts_a_record():
    text = HEAD + "【他山之石】\n杭州市推行“全城通办”，半天办结。同时，市自然资源和规划局推行“带押过户”。\n"
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [(d.region_raw, d.agency) for d in drafts] == [("杭州市", ""), ("杭州市", "市自然资源和规划局")]
    assert drafts[1].text == "市自然资源和规划局推行“带押过户”。"


def test_word_tables_are_read_in_document_order_a_row_per_practice(tmp_path):
    spec = {"blocks": [
        {"p": "某某市优化营商环境工作专报", "bold": True}, {"p": "第4期"}, {"p": "2024年6月3日"},
        {"p": "二、外地经验做法", "bold": True},
        {"table": [["地区", "做法", "成效"], ["深圳前海", "推出“深港通注册易”服务", "注册最快1个工作日"],
                   ["北京市第一中级人民法院", "建立“快审快结”机制。", ""]]},
        {"p": "请各地结合实际学习借鉴。"}, {"p": "抄送：市委办公室"}]}
    path = tmp_path / "表格.docx"
    path.write_bytes(docx_bytes(spec))
    parsed = parse_bulletin(read_document(path), path.name)
    drafts = practices(parsed)
    assert [d.text for d in drafts] == ["深圳前海推出“深港通注册易”服务。注册最快1个工作日。",
                                        "北京市第一中级人民法院建立“快审快结”机制。"]
    assert [(where(d.region_raw), d.agency) for d in drafts] == [(("广东省", "深圳市"), ""),
                                                                   (("北京市", "北京市"), "第一中级人民法院")]
    assert parsed.source.title == "某某市优化营商环境工作专报"


def test_bold_lines_in_word_are_headings(tmp_path):
    document = docx.Document()
    for text, bold in [("某某市营商环境工作专刊", True), ("第15期", False), ("2024年8月20日", False),
                       ("他山之石", True), ("深圳市南山区", True), ("推出“信用+审批”服务，容缺受理。", False),
                       ("合肥市", True), ("探索“以投带引”产业招商模式。", False)]:
        document.add_paragraph().add_run(text).bold = bold
    path = tmp_path / "加粗.docx"
    document.save(path)
    drafts = practices(parse_bulletin(read_document(path), path.name))
    assert [(where(d.region_raw), d.text[:8]) for d in drafts] == [(("广东省", "深圳市"), "深圳市南山区推出"),
                                                                     (("安徽省", "合肥市"), "合肥市探索“以投")]


# -- line repair ----------------------------------------------------------------------------------------
def test_a_sentence_broken_after_a_closing_quote_is_joined():
    lines = repair("【战术借鉴】\n长沙市推行“一件事一次办”\n改革，企业注销压缩至0.5个工作日。\n")
    assert lines[1] == "长沙市推行“一件事一次办”改革，企业注销压缩至0.5个工作日。"


def test_a_wrapped_line_that_ends_at_the_margin_with_a_full_stop_continues():
    paragraph = ("青岛市推出“企业开办一件事”集成服务，将设立登记、公章刻制、发票申领、社保登记等七个事项整合为一个环节。"
                 "企业通过“一网通办”平台一次提交材料，当天即可领取营业执照和全套印章，全程零费用。")
    others = ["西安市推行工程建设项目“分阶段验收”，对具备独立使用条件的单体工程可单独组织竣工验收并投入使用，破解难题。",
              "济南市建设“泉惠企”服务平台，惠企政策一站查询、快速兑现，落实“免申即享”改革，实现由企业找政策向政策找企业转变。"]
    width = 26
    wrapped = [p[i:i + width] for p in [paragraph] + others for i in range(0, len(p), width)]
    assert wrapped[1].endswith("。") or any(line.endswith("。") and len(line) == width for line in wrapped[:3])
    lines = repair("\n".join(["【他山之石】"] + wrapped))
    assert lines[1] == paragraph and lines[2:] == others


def test_running_headers_are_dropped_only_at_page_boundaries():
    # Four practices end in the same wrapped line; the header repeats at the top of every page.
    header = "某某市营商环境简报"
    body = []
    for place in ("长沙市", "株洲市", "湘潭市", "衡阳市"):
        body += [f"{place}推行企业开办“一网通办”，将设立登记、公章刻制等事项", "压缩至1个工作日。"]
    pages = [[header, "第 3 期", "2024年5月6日", "【战术借鉴】"] + body[:3], body[3:6], body[6:]]
    text = "\f".join("\n".join(([header] if i else []) + page + [f"- {i + 1} -"]) for i, page in enumerate(pages))
    parsed = parse_bulletin(text, "x.pdf")
    drafts = practices(parsed)
    assert len(drafts) == 4 and all(d.text.endswith("压缩至1个工作日。") for d in drafts)
    assert parsed.source.title == header and not any(header in d.text for d in drafts)


def test_a_header_printed_once_at_a_page_top_is_dropped_when_it_repeats_the_title():
    text = HEAD + "【他山之石】\n郑州市上线“郑好办”App，集成高频服务事项1000余项，同时，\n- 1 -\n" \
        "某某市优化营商环境工作简报（第3期）\n市大数据管理局推行电子证照“亮证即办”。\n"
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert len(drafts) == 1 and "简报" not in drafts[0].text and drafts[0].text.endswith("“亮证即办”。")


def test_short_lines_repeating_inside_pages_are_kept():
    text = HEAD + "【战术借鉴】\n" + "\n".join(f"{p}推行“企业开办一日办结”，\n压缩至1个工作日。" for p in ("长沙市", "株洲市", "湘潭市"))
    assert [d.text for d in practices(parse_bulletin(text, "x.txt"))] == [
        f"{p}推行“企业开办一日办结”，压缩至1个工作日。" for p in ("长沙市", "株洲市", "湘潭市")]


def test_repair_is_linear_in_time_on_text_without_sentence_endings():
    unit = "长沙市推行企业开办一日办结全流程压缩"
    timings = []
    for size in (1_000_000, 4_000_000):
        text = "\n".join([unit * 3] * (size // (len(unit) * 3)))
        best = float("inf")
        for _ in range(2):  # the better of two runs: other processes share the machine
            start = time.perf_counter()
            lines = repair(text)
            best = min(best, time.perf_counter() - start)
        timings.append(best)
        assert max(map(len, lines)) <= MAX_PARAGRAPH_CHARS
    # 4x the text: about 4x the time, far from the 16x of quadratic joining (0.5 s → 7.7 s before)
    assert timings[1] < 10 and timings[1] < 8 * timings[0] + 1.0


def test_a_long_document_without_paragraph_breaks_is_not_one_paragraph():
    page = "长沙市推行企业开办一日办结全流程压缩至一个工作日并推出电子营业执照一照通用在线领取"
    text = "某某市营商环境简报\n第1期\n【战术借鉴】\n" + "\f".join(f"{page}\n{page}" for _ in range(2000))
    start = time.perf_counter()
    parsed = parse_bulletin(text, "big.pdf")
    assert time.perf_counter() - start < 30
    assert len(parsed.drafts) > 50 and max(len(d.text) for d in parsed.drafts) <= MAX_PARAGRAPH_CHARS


def test_four_practices_ending_in_the_same_wrapped_line_in_a_real_pdf(tmp_path):
    lines = ["某某市营商环境简报", "第 3 期", "2024年5月6日", "【战术借鉴】"]
    for n, place in enumerate(("长沙市", "株洲市", "湘潭市", "衡阳市")):
        lines += [f"{place}推行企业开办“一网通办”，将设立登记、公章刻制等", "事项压缩至1个工作日。"]
        if n % 2:
            lines += [f"- {n // 2 + 1} -", "某某市营商环境简报"]
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf_bytes("\n".join(lines)))
    drafts = practices(parse_bulletin(read_document(path), path.name))
    assert [d.region_raw for d in drafts] == ["长沙市", "株洲市", "湘潭市", "衡阳市"]
    assert all(d.text.endswith("事项压缩至1个工作日。") for d in drafts)


# -- more house styles ------------------------------------------------------------------------------
def test_items_on_lines_of_their_own_take_the_actor_of_the_line_before():
    text = HEAD + ("【他山之石】\n深圳市多措并举优化纳税服务：\n一是推行“非接触式”办税，95%的事项网上办；\n"
                   "二是上线“智能咨询”系统；\n三是开展“税务体验师”活动。\n宁波市推行“甬易办”平台。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [d.text for d in drafts] == ["深圳市多措并举优化纳税服务：推行“非接触式”办税，95%的事项网上办。",
                                        "深圳市上线“智能咨询”系统。", "深圳市开展“税务体验师”活动。", "宁波市推行“甬易办”平台。"]
    assert [where(d.region_raw)[1] for d in drafts] == ["深圳市"] * 3 + ["宁波市"]


def test_a_place_heading_with_a_label_puts_the_label_before_its_paragraph():
    text = HEAD + "【典型案例】\n（一）上海市浦东新区：“一业一证”改革\n将多张许可证整合为一张“行业综合许可证”。\n"
    (draft,) = practices(parse_bulletin(text, "x.txt"))
    assert draft.text == "上海市浦东新区：“一业一证”改革。将多张许可证整合为一张“行业综合许可证”。"
    assert where(draft.region_raw) == ("上海市", "上海市")


@pytest.mark.parametrize("footer", ["某某市优化营商环境办公室 2024年5月6日印发", "（联系人：张三，电话：0746-1234567）",
                                    "主编：李四"])
def test_footer_lines_end_the_bulletin(footer):
    text = HEAD + f"【他山之石】\n成都市上线“蓉易办”平台。\n{footer}\n长沙市推行“一件事一次办”。\n"
    assert places(parse_bulletin(text, "x.txt")) == ["成都市"]


def test_a_source_note_after_a_practice_is_not_kept():
    text = HEAD + "【他山之石】\n成都市上线“蓉易办”平台，办事材料平均精简六成。（来源：四川日报）\n"
    assert [d.text for d in practices(parse_bulletin(text, "x.txt"))] == ["成都市上线“蓉易办”平台，办事材料平均精简六成。"]


def test_a_bold_title_without_issue_or_date_is_still_the_title(tmp_path):
    spec = {"blocks": [{"p": "某某市营商环境专刊", "bold": True}, {"p": "他山之石", "bold": True},
                       {"p": "成都市上线“蓉易办”平台。"}]}
    path = tmp_path / "无期号.docx"
    path.write_bytes(docx_bytes(spec))
    parsed = parse_bulletin(read_document(path), path.name)
    assert parsed.source.title == "某某市营商环境专刊" and places(parsed) == ["成都市"]


@pytest.mark.parametrize("line", ["【他山之石】成都市上线“蓉易办”平台，办事材料平均精简六成。",
                                  "【经验借鉴】\n【成都】上线“蓉易办”平台，办事材料平均精简六成。"])
def test_a_heading_on_the_line_of_its_first_paragraph(line):
    drafts = practices(parse_bulletin(HEAD + line + "\n", "x.txt"))
    assert [where(d.region_raw)[1] for d in drafts] == ["成都市"]
    assert drafts[0].text.endswith("上线“蓉易办”平台，办事材料平均精简六成。")


def test_a_local_action_without_a_colon_keeps_its_county():
    text = ("永州市优化营商环境简报\n第 1 期\n2024年1月1日\n【县区动态】\n冷水滩区推行“首席服务员”包联制度。\n"
            "【战术借鉴】\n长沙市推行“一件事一次办”。\n")
    actions = [d for d in parse_bulletin(text, "x.txt").drafts if d.kind == KIND_ACTION]
    assert [(d.region_raw, d.agency) for d in actions] == [("冷水滩区", "")]


# -- round 4 of bulletins written blind to the parser (tests/data/bulletins/41–48) ---------------------
def test_time_field_and_news_source_leads_before_the_place():
    text = HEAD + ("【借鉴参考】\n2月起，成都市武侯区推出“免申即享”改革，一季度兑现资金3.2亿元。\n"
                   "在跨境贸易方面，广西凭祥市推行进出口货车“无感通关”，过卡时间缩短至30秒。\n"
                   "法治保障方面，3月，北京互联网法院上线“一站式在线解纷”平台。\n"
                   "记者日前从天津海关了解到，天津海关试点进口货物“船边直提”。\n"
                   "从山西省行政审批服务管理局获悉：该局推动“一枚印章管审批”改革向县级延伸。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("四川省", "成都市"), ("广西壮族自治区", "崇左市"),
                                                     ("北京市", "北京市"), ("天津市", "天津市"), ("山西省", "")]


def test_an_opening_without_place_and_a_leader_s_words_are_no_practices():
    text = HEAD + ("【借鉴参考】\n今年以来，各地在政务服务等领域推出了一批务实举措。1月，昆明市官渡区推行“个转企”一件事，"
                   "办理时间压缩至1个工作日。\n"
                   "市政府分管领导在推进会上指出：“改革的关键是让企业少跑腿。”\n")
    parsed = parse_bulletin(text, "x.txt")
    assert [d.text[:8] for d in practices(parsed)] == ["1月，昆明市官渡"]
    assert {o.reason for o in parsed.left_out} >= {"栏目的导语或结语，没有写明地区", "领导讲话，不是案例"}


def test_a_second_actor_of_several_places_mid_paragraph_and_results_since_launch():
    text = HEAD + ("【借鉴参考】\n广西凭祥市推行“无感通关”，过卡时间缩短至30秒；同期，海口、三亚两市推行工作许可和居留许可“一窗通办”。\n"
                   "合肥市包河区推出“政策计算器”，整合1100余条涉企政策。上线半年来，平台访问量超过40万人次。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [(d.region_raw, d.text[:4]) for d in drafts] == [("广西凭祥市", "广西凭祥"), ("海口", "海口、三"),
                                                            ("三亚", "海口、三"), ("合肥市包河区", "合肥市包")]
    assert drafts[-1].text.endswith("平台访问量超过40万人次。")


def test_the_steps_of_one_named_reform_are_one_practice():
    text = HEAD + "【借鉴参考】\n成都市武侯区推出“免申即享”改革：一是梳理“直达清单”；二是自动匹配企业；三是资金直达企业账户。\n"
    [draft] = practices(parse_bulletin(text, "x.txt"))
    assert "一是梳理" in draft.text and "三是资金直达" in draft.text


def test_a_heading_of_two_places_gives_both_to_the_text_that_starts_with_one():
    text = HEAD + ("【战术借鉴】\n【地区】广东省广州市、深圳市\n【举措】广州知识产权法院与深圳知识产权法庭联合建立“快审通道”，"
                   "平均审理周期缩短至68天。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("广东省", "广州市"), ("广东省", "深圳市")]
    assert {d.agency for d in drafts} == {"知识产权法院"}


def test_the_place_of_a_closing_source_note_and_the_heading_after_it():
    text = ("某某市营商环境简讯\n第3期\n2025年10月10日\n他山之石\n一、企业诉求“接诉即办”\n"
            "市营商环境建设局依托12345热线开设企业服务专席，按时办结率98.2%。（来源：成都市营商环境建设局）\n\n"
            "二、信用修复“一口受理”\n推行信用修复“一口受理、协同修复”，修复时间缩短至3个工作日。（来源：厦门市发展和改革委员会）\n\n"
            "本地动态\n\n西秀区：推行个体工商户登记“智能秒批”。\n")
    parsed = parse_bulletin(text, "x.txt")
    assert [where(d.region_raw) for d in practices(parsed)] == [("四川省", "成都市"), ("福建省", "厦门市")]
    assert [d.region_raw for d in parsed.drafts if d.kind == KIND_ACTION] == ["西秀区"]


def test_local_actions_under_headlines_a_rule_line_and_a_results_column_named_with_the_practice():
    spec = {"blocks": [{"p": "某某市营商环境动态", "bold": True, "center": True}, {"p": "第3期"}, {"p": "2025年6月1日"},
                       {"p": "一、工作动态", "bold": True}, {"p": "樊城区推行“企业安静期”制度", "bold": True},
                       {"p": "除法定检查外，每月1日至20日原则上不入企检查，检查次数下降46%。"},
                       {"p": "——————————"},
                       {"p": "二、标杆案例", "bold": True},
                       {"table": [["序号", "地区", "经验做法及成效"], ["1", "重庆两江新区", "推行“拿地即开工”，项目开工压缩至1天。"]]}]}
    parsed = parse_bulletin(read_document(docx_bytes(spec), "x.docx"), "x.docx")
    actions = [d for d in parsed.drafts if d.kind == KIND_ACTION]
    assert [(d.region_raw, d.text[:14]) for d in actions] == [("樊城区", "樊城区推行“企业安静期”制度")]
    assert [d.region_raw for d in practices(parsed)] == ["重庆两江新区"] and not parsed.warnings
    assert any(o.reason == "分隔线，不是案例" for o in parsed.left_out)


def test_an_interview_under_a_headline_naming_its_place_is_one_practice():
    text = "晋城市优化营商环境动态\n2025年第12期\n2025年8月20日\n" + ("【各地新闻】\n1.据《大众日报》报道，淄博市张店区建立“企业家接待日”制度，问题解决率达93%。\n"
                   "2.据安徽日报客户端消息，合肥市包河区推出“政策计算器”。\n二、访谈:西安高新区“秦创原”成果转化怎么做\n"
                   "(编者注:以下内容根据本刊记者的电话访谈整理。)\n问:高新区有什么具体做法?\n"
                   "答:我们设立了“科技成果转化服务超市”，一站对接全部服务。\n问:资金问题怎么解决?\n"
                   "答:我们设立了20亿元的成果转化引导基金，实行“先投后股”。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [d.region_raw for d in drafts] == ["淄博市张店区", "合肥市包河区", "西安高新区"]
    assert "服务超市" in drafts[2].text and "先投后股" in drafts[2].text and "编者注" not in drafts[2].text


# -- round 5 (tests/data/bulletins/49–56) -------------------------------------------------------------
def test_full_width_digits_framed_headings_and_a_bracketed_place_after_a_bullet():
    text = ("盐城营商环境动态\n第１４期\n２０２５年６月１８日\n〓 一、我市动态 〓\n１．大丰区推行“船边直提”，节省通关时间１．５天。\n"
            "〓 二、他山之石 〓\n● 【深圳前海】前海深港现代服务业合作区推行“跨境通办”，已有２８００余家港资企业完成登记。\n"
            "● 【贵州】贵州省推行政务服务“全省通办”。\n")
    parsed = parse_bulletin(text, "x.txt")
    assert (parsed.source.issue, parsed.source.date) == ("14", "2025-06-18")
    assert [where(d.region_raw) for d in practices(parsed)] == [("广东省", "深圳市"), ("贵州省", "")]
    assert "2800余家" in practices(parsed)[0].text
    assert local_heads(parsed) == ["大丰区"]


def test_provinces_one_character_names_as_labels():
    text = "百色市优化营商环境参阅\n第5期\n2025年11月3日\n" + ("一、各地新招\n沪：上海市推出企业“专属网页”2.0版。\n滇：红河州河口瑶族自治县推行边民互市“一站式”申报。\n"
                   "沪苏：上海市青浦区、江苏省苏州市吴江区推行“同事同标”政务服务。\n")
    assert [where(d.region_raw) for d in practices(parse_bulletin(text, "x.txt"))] == [
        ("上海市", "上海市"), ("云南省", "红河哈尼族彝族自治州"), ("上海市", "上海市"), ("江苏省", "苏州市")]


def test_short_paragraphs_under_a_place_line_are_one_practice_and_a_bank_branch_is_its_city():
    spec = {"blocks": [{"p": "吴忠市营商环境专报", "bold": True, "center": True}, {"p": "第6期"}, {"p": "2025年7月1日"},
                       {"p": "先进地区做法", "bold": True},
                       {"p": "中国工商银行宁波分行：", "bold": True}, {"p": "推出外贸企业“订单贷”产品。"},
                       {"p": "企业凭真实出口订单即可申请信用贷款，单户授信最高500万元。"},
                       {"p": "银行与海关共享报关数据，实现当日放款。"},
                       {"p": "陕西省榆林市：", "bold": True}, {"p": "对新能源项目实行“并联审批+联合验收”。"},
                       {"p": "竣工后由住建部门牵头组织联合验收，一次出具验收意见。"},
                       {"table": [["地市", "典型做法"],
                                  ["河南省（郑州市）", "河南省推行“全省通办”清单2.0版；郑州市上线“郑好办”企业码"]]}]}
    parsed = parse_bulletin(read_document(docx_bytes(spec), "x.docx"), "x.docx")
    drafts = practices(parsed)
    assert [d.region_raw for d in drafts] == ["中国工商银行宁波", "陕西省榆林市", "河南省", "郑州市"]
    assert "当日放款" in drafts[0].text and "一次出具验收意见" in drafts[1].text


def test_a_headline_and_its_subtitle_naming_the_place_over_several_paragraphs():
    text = HEAD + ("一、兄弟省市经验\n让“沉睡专利”变成“真金白银”\n——合肥市推进知识产权质押融资扩面增量\n"
                   "合肥市建立知识产权质押融资“白名单”制度。\n在评估环节，引入第三方评估机构开展专利价值“快评”。\n"
                   "今年前三季度，全市质押登记金额达到186亿元。①\n企业注销“套餐式”服务再提速\n——江苏省昆山市打通经营主体退出“最后一公里”\n"
                   "昆山市推出企业注销“套餐式”服务。\n注①：数据来源于国家知识产权局公开统计。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("安徽省", "合肥市"), ("江苏省", "苏州市")]
    assert "快评" in drafts[0].text and "186亿元" in drafts[0].text and "套餐式" not in drafts[0].text
    assert not any("国家知识产权局" in d.text for d in drafts)


def test_closing_parenthesis_enumerators_and_places_doing_each_their_own():
    text = HEAD + ("一、异地经验\n1）国家税务总局青岛市税务局推出出口退税“白名单”。\n"
                   "2）广州、佛山两市分别作了探索：广州推行“用地清单制”；佛山实行“验收即发证”。\n"
                   "3）上海市长宁区推行“政策计算器”。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [(d.region_raw, d.text[:2]) for d in drafts] == [
        ("国家税务总局青岛市", "国家"), ("广州", "广州"), ("佛山", "佛山"), ("上海市长宁区", "上海")]


def test_a_table_row_of_two_places_a_contents_block_and_no_agency_from_a_time_word():
    text = ("肇庆市营商环境参阅\n第3期\n2025年5月6日\n◢ 本期导读\n  · 经验交流：江宁、合肥等\n◢ 经验交流\n"
            "南京市江宁区实行“三评合一”，审批时间压缩至15天。目前区内已建成5G基站4200余个。（南京市营商办供稿）\n"
            "指标\t先进地区做法\t我市现状\n商事审判\t北京、上海两地推行商事案件“全流程在线诉讼”\t尚未开展\n")
    parsed = parse_bulletin(text, "x.txt")
    assert parsed.source.title == "肇庆市营商环境参阅"
    drafts = practices(parsed)
    assert [(d.region_raw, d.agency) for d in drafts] == [("南京市江宁区", ""), ("北京", ""), ("上海", "")]
    assert drafts[0].text.endswith("5G基站4200余个。")


# -- round 6 (tests/data/bulletins/57–64) -------------------------------------------------------------
def test_numbered_cases_with_a_lesson_box_after_each():
    text = HEAD + ("一、案例借鉴\n案例一　苏州工业园区：研发用物品进口“白名单”\n苏州工业园区建立研发用物品进口“白名单”制度，通关时间缩短至3天。\n"
                   "【启示】我市可结合绿色硅谷建设，探索清单管理。\n案例六　四川天府新区：政务服务“AI帮办”\n"
                   "天府新区上线“AI帮办”系统，一次通过率提升至95%。\n【启示】市政务服务中心可借鉴引入智能预审。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("江苏省", "苏州市"), ("四川省", "成都市")]
    assert drafts[0].text.startswith("苏州工业园区：研发用物品进口“白名单”。")
    assert not any("我市" in d.text or "智能预审" in d.text for d in drafts)


def test_a_table_of_one_practice_under_its_place_a_field_on_each_row():
    rows = [["事项", "新办企业“开业即开票”"], ["问题", "新办企业首次开票往返办税厅2至3次。"],
            ["做法", "全面推行数电发票，在全省134个政务服务大厅设立“税务专区”。"], ["成效", "首张发票开具时间缩短至1小时。"]]
    spec = {"blocks": [{"p": "抚州市优化营商环境工作参考", "bold": True, "center": True}, {"p": "2025年第7期"}, {"p": "2025年7月8日"},
                       {"p": "一、外地经验做法", "bold": True}, {"p": "（一）国家税务总局江苏省税务局", "bold": True}, {"table": rows},
                       {"p": "（二）中国（海南）自由贸易试验区", "bold": True},
                       {"table": [["事项", "市场准入“承诺即入制”"], ["做法", "企业书面承诺符合许可条件即可开展经营。"]]}]}
    drafts = practices(parse_bulletin(read_document(docx_bytes(spec), "x.docx"), "x.docx"))
    assert [(d.region_raw, d.agency) for d in drafts] == [("国家税务总局江苏省", "税务局"), ("中国（海南）自由贸易试验区", "")]
    first = drafts[0].text
    assert first.startswith("国家税务总局江苏省税务局：新办企业“开业即开票”。") and "税务专区" in first and "1小时" in first


def test_the_points_under_a_numbered_place_heading_are_one_practice_until_the_next_heading():
    text = HEAD + ("一、各地经验做法\n（一）上海市浦东新区：“一业一证”改革持续深化\n1．扩大行业覆盖面，覆盖行业达到43个。\n"
                   "2．推行“证码合一”，审批时限平均压减90%。\n（二）拱北海关：港珠澳大桥口岸“跨境一锁”\n"
                   "1．在珠海公路口岸推行“跨境一锁”模式。\n2．对鲜活产品开通“绿色通道”。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("上海市", "上海市"), ("广东省", "珠海市")]
    assert "43个" in drafts[0].text and "证码合一" in drafts[0].text and "跨境一锁" not in drafts[0].text
    assert "绿色通道" in drafts[1].text and drafts[1].agency == "海关"


def test_a_table_row_titled_by_its_reform_keeps_its_numbered_steps_together():
    text = HEAD + ("一、先进地区经验对照表\n序号\t地区\t改革事项\t主要做法\t成效\n"
                   "1\t长春新区\t汽车零部件项目“预审批”\t1.提前开展用地、规划、环评预审；2.预审意见直接采信；3.组建项目帮办队。\t开工时间平均提前90天\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert len(drafts) == 1 and "帮办队" in drafts[0].text and "90天" in drafts[0].text


def test_headline_first_news_with_the_place_in_its_second_sentence_and_a_newspaper_source():
    text = HEAD + ("他山之石\n「秒批」事项扩至156项。近日，借鉴深圳市「秒报秒批一体化」改革经验，东莞市将156项高频事项纳入「智能秒批」。（据《南方日报》）\n"
                   "工业用地「弹性出让」。为降低企业初始用地成本，浙江省衢州市推行「先租后让」供应方式。（据《浙江日报》）\n"
                   "住所登记更宽松。据悉，安徽省市场监督管理局推行「住所信息申报制」；同时建立全省统一的「标准化住所库」。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [d.region_raw for d in drafts] == ["东莞市", "浙江省衢州市", "安徽省"]
    assert drafts[0].text.startswith("「秒批」事项扩至156项。") and "南方日报" not in drafts[0].text
    assert "标准化住所库" in drafts[2].text


def test_news_items_with_a_dateline_tag_and_an_agency_short_name_over_them():
    text = ("佳木斯市营商环境周讯\n第19期\n2025年5月16日\n【外埠简讯】\n深圳税务：跨境电商出口退税“离境即退”\n"
            "【本刊讯】5月8日，记者从国家税务总局深圳市税务局了解到，该局推行出口退税“离境即退”。\n"
            "【本刊讯】5月7日，记者从内蒙古自治区鄂尔多斯市伊金霍洛旗政务服务局获悉，该旗梳理出47个审批事项。\n"
            "【本地简讯】\n【本刊讯】5月14日，市政务服务中心开设“办不成事”反映窗口。\n"
            "（本期信息根据浙江省政府网站及各地政务公开信息整理）\n")
    parsed = parse_bulletin(text, "x.txt")
    assert parsed.source.title == "佳木斯市营商环境周讯"
    assert [where(d.region_raw) for d in practices(parsed)] == [("广东省", "深圳市"), ("内蒙古自治区", "鄂尔多斯市")]
    assert local_heads(parsed, 6) == ["5月14日，"]


def test_ocr_text_with_ascii_punctuation_and_a_report_whose_body_is_the_local_work():
    text = ("酒泉市优化营商环境工作专报\n第6期\n2025年8月20日\n关于近期我市优化营商环境重点工作推进情况的报告\n市委, 市政府:\n"
            "今年以来, 我市持续推进改革, 现将近期工作情况报告如下:\n"
            "一, 新能源项目审批提速。市发展改革委牵头组建审批服务专班, 上半年新开工项目21个。\n"
            "下一步, 我市将认真学习借鉴兄弟省市先进经验。\n附件: 外地经验做法汇编\n附件\n外地经验做法汇编\n"
            "一, 甘肃省嘉峪关市: 工业用地“弹性年期”出让\n嘉峪关市推行工业用地“先租后让, 弹性年期”供应。\n"
            "二, 中国 (浙江) 自由贸易试验区舟山片区: 保税燃料油“一船多供”\n舟山片区推行“一船多供”模式。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("甘肃省", "嘉峪关市"), ("浙江省", "舟山市")]
    assert "先租后让，弹性年期" in drafts[0].text
    assert local_heads(parsed, 8) == ["新能源项目审批提"]


def test_a_wechat_repost_header_before_the_masthead_and_its_chrome_left_out():
    text = ("常州营商环境　2025年10月17日 08:30　江苏\n点击上方蓝字关注我们\n【营商动态】他山之石｜全国8地营商环境新招速览\n"
            "常州市优化营商环境工作动态\n2025年第10期（总第58期）\n常州市优化营商环境工作领导小组办公室　　2025年10月17日\n"
            "★ 他山之石 ★\n▶ 义乌市：推行“市场采购贸易”组货人备案，已备案组货人1200家。\n★ 我市动态 ★\n"
            "✅ 武进区：推行“项目服务专员”全周期代办。\n💡下一步，市营商办将认真研究各地做法。\n往期回顾\n▶ 我市企业开办实现“一日办结”\n")
    parsed = parse_bulletin(text, "x.txt")
    assert (parsed.source.title, parsed.source.issue) == ("常州市优化营商环境工作动态", "10")
    assert [where(d.region_raw) for d in practices(parsed)] == [("浙江省", "金华市")]
    assert local_heads(parsed) == ["武进区"]


# -- round 7 (tests/data/bulletins/65–72) -------------------------------------------------------------
def test_places_named_only_in_closing_brackets_and_numbers_with_a_leading_zero():
    text = "锦州市营商环境建设简报\n第9期\n2025年9月15日\n" + ("各地新招\n01　推行企业开办“一网通办”，平均用时压缩至0.5个工作日。（浙江杭州）\n"
                   "02　推行重点项目进口设备“预约通关”，已办理2100余票。（大连金普新区）\n"
                   "03　推行“检疫前置+分类查验”，平均通关时间压缩至36小时。（青岛海关）\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("浙江省", "杭州市"), ("辽宁省", "大连市"), ("山东省", "青岛市")]
    assert drafts[0].text.startswith("浙江杭州推行企业开办")


def test_a_study_tour_report_its_places_practices_and_its_suggestions_left_out():
    text = "长治市营商环境建设参阅\n第6期\n2025年5月20日\n" + ("一、考察地区的主要做法\n（一）苏州市的主要做法\n一是推行惠企政策“免申即享”，386项政策逐条拆解。\n"
                   "二是提升港口通关便利化水平。宁波海关在宁波舟山港推行“船边直提”。\n二、我市对标情况\n"
                   "上党区推行工业项目“交地即交证”，已有9个项目受益。\n三、对我市的建议\n"
                   "一是建议由市行政审批局牵头，借鉴苏州做法梳理惠企政策。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [d.text[:10] for d in drafts] == ["苏州市推行惠企政策“", "苏州市提升港口通关便"]  # the headline opens its item
    assert "船边直提" in drafts[1].text and drafts[1].agency == "海关"
    assert local_heads(parsed) == ["上党区"]


def test_place_cells_written_with_a_dot_or_slash_and_a_closing_summary_table_of_the_same_practices():
    text = HEAD + ("一、外地经验\n地区\t经验做法\n浙江·杭州\t推行水电气网“联合报装”，报装环节由12个压减至4个。\n"
                   "江苏/南通\t建立涉企行政处罚与信用修复“一件事”联办机制，同步告知信用修复途径。\n"
                   "二、本期做法一览\n地区\t主要做法\n杭州市\t水电气网联合报装，报装环节由12个压减至4个\n")
    parsed = parse_bulletin(text, "x.txt")
    assert [where(d.region_raw) for d in practices(parsed)] == [("浙江省", "杭州市"), ("江苏省", "南通市")]
    assert any("汇总表" in o.reason for o in parsed.left_out)


def test_a_problem_list_each_problem_with_other_places_practices_and_a_suggestion_left_out():
    text = HEAD + ("一、问题清单及外地做法\n（一）涉企检查多头重复\n问题：我市部分企业反映一年内接受不同部门检查超过10次。\n外地做法：\n"
                   "● 浙江省：\n浙江省推行“综合查一次”，涉企检查频次同比下降35%。\n建议：由市司法局牵头建立涉企检查统筹机制。\n"
                   "（二）外资服务不足\n问题：我市外资企业数量少。\n外地做法：\n● 商务部：\n"
                   "商务部在海南自由贸易港试点实施跨境服务贸易负面清单，首批放开11项措施。\n我市差距：我市尚未开展相关试点。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("浙江省", ""), ("海南省", "")]
    assert not [d for d in parsed.drafts if d.kind == KIND_ACTION]  # 问题：我市… is what to fix, not work done
    assert not any(w in d.text for d in drafts for w in ("建议", "问题", "我市"))
    assert sum("本地的问题或建议" in o.reason for o in parsed.left_out) == 4


def test_a_label_after_a_full_line_starts_a_paragraph_and_the_agency_named_again_goes_on():
    body = ("标杆城市做法：国网杭州供电公司将低压接入容量上限提高至200千瓦，对小微企业实行“零上门、零审批、零投资”接电服务。"
            "供电公司与政务平台共享施工许可信息，高压用户平均接电时间压缩至18个工作日，全年为小微企业节省接电成本约3.2亿元。")
    lines = [body[i:i + 30] for i in range(0, len(body), 30)]
    gap = "我市差距：我市低压接入容量上限为160千瓦，高压用户平均接电时间为32个工作日，差距明显。"
    lines += [gap[i:i + 30] for i in range(0, len(gap), 30)]
    text = HEAD + "一、他山之石\n" + "\n".join(lines) + "\n"
    parsed = parse_bulletin(text, "x.pdf")
    drafts = practices(parsed)
    assert len(drafts) == 1 and read_place(drafts[0].region_raw, gazetteer())[0].region.name == "杭州市"
    assert "共享施工许可信息" in drafts[0].text and "160千瓦" not in drafts[0].text
    assert not parsed.warnings  # 标杆城市做法： is a label, not a practice without a place


# -- round 8 (tests/data/bulletins/73–78) -------------------------------------------------------------
def test_a_title_with_its_place_in_brackets_over_one_practice_and_the_lesson_for_the_home_left_out():
    text = ("德清县营商环境工作专报\n第9期\n2025年6月18日\n二、他山之石\n"
            "（一）“一照多址”备案改革（江苏省苏州市吴江区盛泽镇）\n"
            "针对纺织企业网点分散的问题，推行“一照多址”备案改革。建立“镇级受理、区局审核”通道，备案时限压缩至1个工作日。\n"
            "对我县的启示：新市镇可研究开展“一照多址”试点。\n"
            "（二）能源项目“全程代办”（内蒙古自治区鄂尔多斯市伊金霍洛旗）\n组建旗、镇两级代办队伍，重点项目审批时限压缩50%。\n"
            "县营商办将持续跟踪外地改革动态，请各乡镇于6月底前报送学习转化清单。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("江苏省", "苏州市"), ("内蒙古自治区", "鄂尔多斯市")]
    assert drafts[0].text.startswith("江苏省苏州市吴江区盛泽镇：“一照多址”备案改革。") and "镇级受理" in drafts[0].text
    assert not any(w in d.text for d in drafts for w in ("启示", "报送学习转化清单"))


def test_a_wechat_article_with_emoji_place_bar_title_lines_boxes_and_its_end():
    text = ("龙岩市优化营商环境工作动态｜第23期\n原创　龙岩营商　2025年06月18日 08:30　福建\n📌 导读\n本期聚焦他山之石。\n"
            "🔹 他山之石\n📍珠海横琴｜澳门投资者“隔海”领执照\n横琴粤澳深度合作区推出商事登记“琴澳通办”服务，已有1860家澳资企业设立。\n"
            "合作区同步实行澳门专业人士“备案即执业”，已有1100余名澳门专业人士备案。\n"
            "「划重点」🖊 我市可借鉴“隔海”办照思路，设立侨台企业服务专窗。\n"
            "📍广州·佛山｜两市联手推“跨城通办”\n两地可互办312项涉企事项，一季度办件量达4.7万件。\n"
            "✅ 龙岩在行动\n✅ 新罗区推行企业开办“全程网办”，平均用时压缩至0.5个工作日。\n"
            "—— END ——\n如对我市营商环境有意见建议，欢迎拨打12345反映。\n喜欢就点个在看吧👍\n")
    parsed = parse_bulletin(text, "x.txt")
    assert (parsed.source.title, parsed.source.issue, parsed.source.date) == ("龙岩市优化营商环境工作动态", "23", "2025-06-18")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("广东省", "珠海市"), ("广东省", "广州市"), ("广东省", "佛山市")]
    assert "备案即执业" in drafts[0].text and "划重点" not in drafts[0].text
    assert local_heads(parsed) == ["新罗区"]  # nothing after END
    assert not any("📍" in d.text or "✅" in d.text for d in parsed.drafts)


def test_an_interview_with_the_home_official_its_examples_of_other_places_and_not_its_own_plans():
    text = ("潍坊市优化营商环境工作专报\n第11期\n2025年11月5日\n对标一流找差距\n——访市营商办主任赵立群\n"
            "问：今年以来，我市取得了哪些成效？\n答：今年前三季度，全市新增经营主体11.6万户。\n"
            "问：与先进地区相比，还有哪些差距？\n答：差距主要体现在智能化水平上。比如上海市推行“一网通办”智能预审，已覆盖200个高频事项。"
            "再如浙江省杭州市余杭区推行个体工商户“无感审批”，今年以来已办理2.3万件。我市智能预审刚刚起步，覆盖事项不到40项。\n"
            "问：执法检查方面呢？\n答：重庆两江新区上线“扫码入企”系统，涉企检查频次下降46%。我们正在寿光市试点“入企扫码”。\n"
            "问：下一步有哪些重点工作？\n答：一是深化“高效办成一件事”改革；二是开展涉企检查专项整治。\n"
            "本市动态\n1．寿光市推行蔬菜种苗“一业一证”，已发证43张。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("上海市", "上海市"), ("浙江省", "杭州市"), ("重庆市", "重庆市")]
    assert not any(w in d.text for d in drafts for w in ("我市", "我们正在", "寿光"))
    assert not parsed.warnings  # the byline and the answers on the home city are left out, not drafts without a place
    assert local_heads(parsed) == ["寿光市"]


def test_the_people_of_a_place_served_by_another_place_do_not_start_a_practice_of_their_own():
    text = HEAD + ("一、他山之石\n深圳前海\n推出港资企业商事登记“深港通注册易”服务。\n"
                   "香港投资者在香港本地即可通过合作银行网点提交企业设立申请，无需往返内地。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("广东省", "深圳市")]
    assert "无需往返内地" in drafts[0].text


# -- round 9 (tests/data/bulletins/79–84) -------------------------------------------------------------
def test_numbered_place_lines_without_a_title_have_one_practice_per_point():
    text = HEAD + ("一、政务服务\n（一）福建省福州市\n1．福州市推行个体工商户“个转企”一件事，办理环节由6个压缩为1个。\n"
                   "2．在市、县两级政务服务中心设立“办不成事”反映窗口，当场解决率81%。\n"
                   "借鉴建议：市政务服务和大数据管理局可参照福州做法试点。\n"
                   "（二）国家税务总局厦门市税务局\n1．厦门市税务局对出口企业推行退税备案单证“数字化管理”。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("福建省", "福州市")] * 2 + [("福建省", "厦门市")]
    assert "办不成事" in drafts[1].text and not any("借鉴建议" in d.text for d in drafts)


def test_news_flashes_tagged_with_short_and_dotted_place_names():
    text = ("宝鸡市营商环境简讯\n2025年第14期\n■ 各地快讯\n"
            "【沪·临港】临港新片区推行外国人工作许可和居留许可“两证联办”，办理时间压缩至7个工作日。\n"
            "【深圳南山】南山区发布低空经济应用场景清单，开放46个飞行场景。\n"
            "·小编说：数据也能当“抵押物”，我市企业可以尝试。\n"
            "【渝】重庆市新增“川渝通办”事项95项，累计办件量超过320万件。\n"
            "【鄂·仙桃】仙桃市推出“产业链金融”服务，已为186家中小企业融资14.2亿元。\n"
            "■ 本市快讯\n【市政务服务中心】上线“宝企通”小程序，诉求平均响应时间缩短至2小时以内。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("上海市", "上海市"), ("广东省", "深圳市"), ("重庆市", "重庆市"), ("湖北省", "")]
    assert not any("小编" in d.text for d in drafts)
    assert [(d.agency, "宝企通" in d.text) for d in parsed.drafts if d.kind == KIND_ACTION] == [("市政务服务中心", True)]


def test_a_province_bulletin_its_cities_are_local_work_and_a_ministry_heading_names_the_place():
    text = ("山西省优化营商环境工作简报\n第12期\n2025年11月5日\n一、各市工作动态\n"
            "太原市推行“承诺制+标准地+全代办”改革，47个工业项目平均审批时间压缩至28个工作日。\n"
            "晋中市上线“晋中企业服务码”，累计受理企业诉求2180件。\n二、外省标杆做法\n"
            "（一）江苏省无锡市：工业企业“亩均效益”分类施策\n无锡市对规模以上工业企业开展“亩均效益”综合评价。\n"
            "启示：建议省工信厅在晋中、运城等市开展试点。\n（二）商务部：支持沈阳市开展服务业扩大开放综合试点\n"
            "商务部支持沈阳市开展服务业扩大开放综合试点，沈阳市推出首批62项试点措施。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("江苏省", "无锡市"), ("辽宁省", "沈阳市")]
    assert not any("启示" in d.text for d in drafts) and not parsed.warnings
    assert local_heads(parsed) == ["太原市", "晋中市"]


def test_a_case_study_under_its_subtitle_is_one_practice_and_a_closing_note_under_its_label_is_left_out():
    text = HEAD + ("典型案例一\n老旧工业区“工改工”腾出发展新空间\n——广东省佛山市顺德区推进村级工业园连片改造纪实\n"
                   "顺德区是全国制造业重镇，村级工业园普遍存在布局零散等问题。\n"
                   "一是统筹规划、连片收储，累计收储整理土地4.6万亩。\n二是分类施策、以链招商，园区亩均税收提高到26万元。\n"
                   "【本市动态】\n靖江市推行在建船舶抵押登记“一次办”，办理抵押融资37亿元。\n"
                   "【编后】\n两篇案例共同的经验在于用改革思维破解发展难题，建议市自然资源和规划局借鉴。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("广东省", "佛山市")]
    assert "连片收储" in drafts[0].text and "以链招商" in drafts[0].text
    assert local_heads(parsed) == ["靖江市"]


def test_numbered_experiences_with_the_place_in_a_bracketed_line_and_a_lesson_box_after_each():
    text = HEAD + ("一、经验做法\n经验一：化工园区项目“区域评估+承诺准入”\n（地区：浙江省宁波市镇海区）\n"
                   "镇海区在宁波石化经济技术开发区开展区域评估，评估结果由园区内化工项目共享。\n"
                   "【可借鉴点】泰兴经济开发区可参照开展区域评估成果共享。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("浙江省", "宁波市")]
    assert not any("泰兴" in d.text for d in drafts) and not parsed.warnings


def test_a_table_laid_out_with_spaces_its_cells_wrapped_over_lines_and_its_header_repeated_on_the_next_page():
    text = HEAD + ("二、外地典型做法\n"
                   "序号　　地区　　　　主要做法　　　　　　　成效\n"
                   "1    山东省济南市   依托“泉惠企”平台梳理132项惠企政策，     今年已兑现资金18.6\n"
                   "                    符合条件企业“免申即享”                 亿元\n"
                   "2    广东省东莞市     建成大型科研仪器共享平台，向中小企   开放仪器1270台\n"
                   "     松山湖高新区     业开放使用\n"
                   "- 1 -\n"
                   "序号　　地区　　　　主要做法　　　　　　　成效\n"
                   "3  河北省雄安新区    推行企业“一照多址”，增设经营场所无需另办登记    惠及企业1.2万余家\n"
                   "资料来源：根据各地政府门户网站整理。\n")
    parsed = parse_bulletin(text, "x.pdf")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("山东省", "济南市"), ("广东省", "东莞市"), ("河北省", "")]
    assert "“免申即享”" in drafts[0].text and "18.6亿元" in drafts[0].text
    assert "向中小企业开放使用" in drafts[1].text and "松山湖" in drafts[1].region_raw
    assert not any("资料来源" in d.text or "序号" in d.text for d in drafts)


def test_lines_with_wide_gaps_that_are_no_table_are_left_as_they_are():
    text = "荆州市优化营商环境工作领导小组办公室　　　　　　2025年9月16日\n联系人：刘倩　  联系电话：0716-8468127\n"
    assert repair(text) == ["荆州市优化营商环境工作领导小组办公室2025年9月16日", "联系人：刘倩联系电话：0716-8468127"]


# -- round 10 (tests/data/bulletins/85–90) ------------------------------------------------------------
def test_an_essay_that_names_other_places_practices_among_its_remarks():
    text = ("嘉兴市营商环境观察\n2025年第9期\n2025年9月26日\n一、营商环境竞争进入“比服务”阶段\n"
            "据国家发展改革委通报，全国已有29个省份出台营商环境条例。\n与杭州相比，我市在政策兑现速度上仍有差距。\n"
            "在涉企服务方面，各地各有探索：上海市推行以专用信用报告替代有无违法记录证明，已出具报告6.8万份；"
            "北京市海淀区为1200家重点企业配备“服务包”专员，诉求平均响应时间缩短至2小时。\n"
            "这些做法的共同点，是把数据跑路作为服务前提。\n"
            "在融资方面，台州市依托小微企业信用保证基金提供增信服务，累计担保贷款超过1000亿元。\n"
            "五、本市动态\n1．南湖区设立企业综合服务中心，帮助企业解决问题142个。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("上海市", "上海市"), ("北京市", "北京市"), ("浙江省", "台州市")]
    assert not parsed.warnings and any("评述" in o.reason for o in parsed.left_out)  # the remarks are left out
    assert local_heads(parsed) == ["南湖区"]


def test_texts_whose_place_is_only_in_the_source_line_under_them():
    text = HEAD + ("二、外地改革案例\n# 工业项目“竣工预验收+联合验收”一次办\n"
                   "该区对新建工业厂房项目推行“分阶段预验收”，联合验收时间由15个工作日压缩至3个工作日。\n"
                   "（来源：西安高新区管委会网站）\n# 出口退税“极速退”\n"
                   "该局对纳税信用A级、B级出口企业实行“预审核+即时退”，退税平均办理时间压缩至1个工作日。\n"
                   "（来源：国家税务总局宁波市税务局网站）\n# 个体工商户开业“零材料”\n"
                   "该市上线个体工商户登记“智能导办”系统，申请材料“零提交”。\n"
                   "——摘自《大众日报》2025年5月20日《济南：个体户开业“零材料”办理》\n"
                   "# 企业开办一日办结\n图为企业开办专区。\n（来源：吉林日报）\n")
    parsed = parse_bulletin(text, "x.docx")
    drafts = practices(parsed)
    assert [read_place(d.region_raw, gazetteer())[0].region.city for d in drafts] == ["西安市", "宁波市", "济南市"]
    assert drafts[0].text.startswith("西安高新区管委会对新建") and drafts[1].text.startswith("国家税务总局宁波市税务局对")


def test_a_section_of_other_places_criticised_and_one_of_the_home_gaps_are_left_out():
    text = HEAD + ("一、我市短板弱项\n我市惠企政策兑现周期为38天，低于全省平均水平。\n"
                   "二、借他山之石　攻本地之玉\n江阴市推行“一企一码”，涉企诉求办结率98%。\n"
                   "三、反面典型曝光\n河南省某县在政府采购中设置隐性壁垒，被国务院督查组通报。\n"
                   "四、本市动态\n县委主要负责同志在县委常委会会议上指出：“要把便民服务作为优化营商环境的重点。”\n"
                   "龙头镇设立便民服务驿站，办理事项86项。\n")
    parsed = parse_bulletin(text, "x.txt")
    assert [where(d.region_raw) for d in practices(parsed)] == [("江苏省", "无锡市")]
    assert local_heads(parsed) == ["龙头镇"]


def test_a_title_first_then_its_place_after_a_colon_and_a_village_as_a_place_heading():
    text = HEAD + ("一、他山之石\n（一）外籍人才服务：北京市朝阳区望京街道\n"
                   "北京市朝阳区望京街道辖区外籍常住人员超过1万人，设立国际人才服务站。\n"
                   "（二）重庆市巴南区二圣镇集体村：盘活闲置资源引企入村\n"
                   "重庆市巴南区二圣镇集体村将村内闲置农房41栋统一收储，引入文旅企业发展民宿。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("北京市", "北京市"), ("重庆市", "重庆市")]  # no heading of its own
    assert "国际人才服务站" in drafts[0].text and "盘活闲置资源引企入村" in drafts[1].text and "闲置农房" in drafts[1].text


# -- round 11 (tests/data/bulletins/91–96) ------------------------------------------------------------
def test_a_district_named_again_by_its_bare_name_is_the_same_one_and_a_customs_house_names_its_city():
    text = HEAD + ("一、他山之石\n南京市鼓楼区推行惠企政策“免申即享”。鼓楼区今年以来兑现资金2.7亿元。\n"
                   "长春市朝阳区推行商户“首违不罚”。朝阳区今年以来已有620家商户受益。\n"
                   "日照海关对进口铁矿石实行“先放后检”，通关时间压缩至1天以内。\n")
    drafts = practices(parse_bulletin(text, "x.txt"))
    assert [where(d.region_raw) for d in drafts] == [("江苏省", "南京市"), ("吉林省", "长春市"), ("山东省", "日照市")]
    assert "2.7亿元" in drafts[0].text and "620家" in drafts[1].text


def test_remarks_under_an_english_label_and_a_title_read_from_the_running_header():
    text = ("唐山市优化营商环境工作专扱\n2025年第11期\n2025年9月16日\nPart 2 Best Practices 标杆经验\n"
            "上海海关对有意向申请AEO认证的外贸企业实行“一企一策”信用培育，培育周期缩短至6个月。\n"
            "Why it matters：长安镇、虎门镇加工贸易企业集中，可率先对接。\n- 1 -\n"
            "唐山市优化营商环境工作专报　　2025年第11期\n"
            "成都市依托“天府蓉易办”APP推出“企业码”服务，126个场景实现“一码通用”。\n- 2 -\n"
            "唐山市优化营商环境工作专报　　2025年第11期\n本页完\n")
    parsed = parse_bulletin(text, "x.pdf")
    assert parsed.source.title == "唐山市优化营商环境工作专报"
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("上海市", "上海市"), ("四川省", "成都市")]
    assert not any("Why it matters" in d.text or "虎门镇" in d.text for d in drafts)


def test_a_prefecture_bulletin_a_numbered_heading_with_a_subtitle_and_a_paragraph_that_goes_on():
    text = ("延边朝鲜族自治州优化营商环境工作专报\n第7期\n2025年9月16日\n一、全州工作动态\n"
            "1．珲春市推行俄罗斯进口海产品“预约通关+冷链直通”，平均通关时间压缩至4小时。\n"
            "二、他山之石：民族地区和沿边口岸经验做法\n（一）“智慧卡口”让货车通关“不停车”\n"
            "满洲里海关在满洲里公路口岸建成“智慧卡口”系统，货车通关时间压缩至3分钟。\n"
            "同时，对进口俄罗斯木材、粮食等大宗商品推行“提前申报、货到验放”。\n"
            "（二）跨境结算“柜台办”\n东兴市推行人民币对越南盾挂牌兑换，边贸资金两小时到账。\n"
            "说明：本期外地做法均来自公开报道。\n")
    parsed = parse_bulletin(text, "x.txt")
    drafts = practices(parsed)
    assert [where(d.region_raw) for d in drafts] == [("内蒙古自治区", "呼伦贝尔市"), ("广西壮族自治区", "防城港市")]
    assert "货到验放" in drafts[0].text  # the 同时 paragraph names no place of its own: the same practice
    assert local_heads(parsed) == ["珲春市"]  # a county of the home prefecture


def test_a_running_header_with_its_issue_on_one_later_page_only_is_left_out():
    text = ("新乡市营商环境月度信息摘编\n2025年第10期\n2025年11月6日\n一、外地动态\n"
            + "\n".join(["【10月23日·兵团日报】新疆生产建设兵团第八师石河子市推行“兵地通办”，兵团职工可在石河子市政务服务中心"[i:i + 30]
                         for i in range(0, 60, 30)])
            + "\n- 1 -\n新乡营商月度摘编　2025年第10期\n办理营业执照、不动产登记等156项高频事项。\n- 2 -\n")
    parsed = parse_bulletin(text, "x.pdf")
    assert parsed.source.title == "新乡市营商环境月度信息摘编"
    drafts = practices(parsed)
    assert len(drafts) == 1 and "156项" in drafts[0].text and "月度摘编" not in drafts[0].text


# -- round 12 (tests/data/bulletins/98) ---------------------------------------------------------------
def test_numbered_items_with_the_place_in_brackets_a_speech_lead_and_a_table_of_local_work():
    text = HEAD + ("一、外地经验做法\n2．【安徽合肥】合肥市对新能源汽车产业链项目推行“链长+专班”服务，配套项目开工用时缩短至45天。\n"
                   "8．【海南】海南省实施经营主体注销“一网通办”，公告期由45天压缩至20天。\n"
                   "我们去年到苏州学习，苏州工业园区推行“企业服务总入口”，去年兑现资金达到38亿元。\n"
                   "二、本市动态\n单位\t工作进展\n市行政审批服务局\t上线企业开办“一链通办”服务，平均用时0.5个工作日。\n")
    parsed = parse_bulletin(text, "x.docx")
    assert [where(d.region_raw) for d in practices(parsed)] == [("安徽省", "合肥市"), ("海南省", ""), ("江苏省", "苏州市")]
    assert ["一链通办" in d.text for d in parsed.drafts if d.kind == KIND_ACTION] == [True]  # the header row is none
