"""The bulletin parser on the seed bulletin and on .docx/.pdf versions of it made here."""
from __future__ import annotations

import docx
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from reformkb.errors import InputError
from reformkb.ingest.bulletin import parse_bulletin, repair
from reformkb.ingest.documents import read_document
from reformkb.records import KIND_ACTION, KIND_PRACTICE

SEED_REGIONS = ["长沙市", "株洲市", "衡阳市", "邵阳市", "益阳市", "海南省", "湖北省", "深圳市", "温州市",
                "濮阳市", "哈尔滨市", "梅州市"]


def practices(parsed):
    return [d for d in parsed.drafts if d.kind == KIND_PRACTICE]


def test_seed_metadata(seed_text):
    parsed = parse_bulletin(seed_text, "seed.txt")
    assert parsed.source.title == "永州市打好优化发展环境持久仗工作专报"
    assert parsed.source.issue == "2"
    assert parsed.source.date == "2023-03-18"
    assert parsed.home_region == "永州市"


def test_seed_practices_by_region(seed_text):
    parsed = parse_bulletin(seed_text, "seed.txt")
    drafts = practices(parsed)
    regions = list(dict.fromkeys(d.region_raw for d in drafts))
    assert regions == SEED_REGIONS
    assert parsed.warnings == []
    # 衡阳's paragraph names four actors: the city, the court, the tax bureau and the registry.
    hengyang = [d for d in drafts if d.region_raw == "衡阳市"]
    assert len(hengyang) == 4
    assert "企业赋“码”" in hengyang[0].text
    assert [d.agency for d in hengyang[1:]] == ["市中级人民法院", "市税务局", "不动产登记中心"]
    assert "智慧破产" in hengyang[1].text and "雁税云" in hengyang[2].text and "智慧抵押登记" in hengyang[3].text
    # 深圳 lists three distinct measures in one paragraph.
    shenzhen = [d.text for d in drafts if d.region_raw == "深圳市"]
    assert len(shenzhen) == 3 and "深i企" in shenzhen[1] and "包容期" in shenzhen[2]
    # 长沙's practice keeps its deregistration figure with the 无证明城市 text.
    changsha = [d.text for d in drafts if d.region_raw == "长沙市"]
    assert len(changsha) == 1 and "无证明城市" in changsha[0] and "20个工作日压缩至0.5个工作日" in changsha[0]


def test_seed_artefacts_repaired(seed_text):
    parsed = parse_bulletin(seed_text, "seed.txt")
    texts = [d.text for d in parsed.drafts]
    # A sentence broken across lines ("简易低风险\n\n工程项目") is joined; PDF spaces are gone.
    harbin = next(t for t in texts if t.startswith("哈尔滨市"))
    assert "简易低风险工程项目全流程只需3个环节" in harbin
    hainan = [t for t in texts if "《海南自由贸易港进一步优化营商环境行动方案" in t]
    assert hainan, "the 《海南\\n\\n自由贸易港…》 title must be joined"
    # "3\n\n月13日" in the 【战斗动态】 section is joined into one paragraph.
    assert any("3月13日，2023年永州市网络创业培训" in t for t in texts)


def test_seed_actions_kept_as_other_kind(seed_text):
    parsed = parse_bulletin(seed_text, "seed.txt")
    actions = [d for d in parsed.drafts if d.kind == KIND_ACTION]
    assert len(actions) == 12
    assert actions[0].region_raw == "冷水滩区"
    finance = next(d for d in actions if d.text.startswith("市财政局"))
    assert finance.agency == "市财政局" and finance.region_raw == "永州市"
    assert not parse_bulletin(seed_text, include_actions=False).drafts[0].kind == KIND_ACTION


def test_page_numbers_and_running_headers_dropped():
    header = "某某市优化营商环境工作专报"
    text = "\n".join([
        header, "第 5 期", "2024 年 1 月 2 日", "【战术借鉴】",
        "长沙市推行企业开办“一日办结”，", "- 1 -", header,
        "全流程压缩至 1 个工作日。", "株洲市推行“一件事一次办”。", "2", header, "第 2 页",
        "梅州市推行“中标贷”。",
    ])
    lines = repair(text)
    assert "长沙市推行企业开办“一日办结”，全流程压缩至1个工作日。" in lines
    assert not any(line in ("- 1 -", "2", "第 2 页") for line in lines)
    parsed = parse_bulletin(text, "x.txt")
    assert [d.region_raw for d in parsed.drafts] == ["长沙市", "株洲市", "梅州市"]


def _seed_lines(seed_text: str) -> list[str]:
    return [line.strip() for line in seed_text.splitlines() if line.strip()]


def test_docx_version_of_seed(seed_text, tmp_path):
    document = docx.Document()
    for line in _seed_lines(seed_text):
        document.add_paragraph(line)
    path = tmp_path / "专报.docx"
    document.save(path)
    parsed = parse_bulletin(read_document(path), path.name)
    assert list(dict.fromkeys(d.region_raw for d in practices(parsed))) == SEED_REGIONS
    assert parsed.source.issue == "2" and parsed.source.date == "2023-03-18"
    assert len(practices(parsed)) == len(practices(parse_bulletin(seed_text)))


def _write_pdf(lines: list[str], path, width: int = 38) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    y, page = 800, 1
    for line in lines:
        for start in range(0, len(line), width):  # wrap long paragraphs like a real layout
            if y < 60:
                pdf.drawString(290, 30, str(page))  # a page number in the footer
                pdf.showPage()
                y, page = 800, page + 1
            pdf.setFont("STSong-Light", 10)
            pdf.drawString(40, y, line[start : start + width])
            y -= 16
        y -= 8
    pdf.drawString(290, 30, str(page))
    pdf.save()


def test_pdf_version_of_seed(seed_text, tmp_path):
    path = tmp_path / "专报.pdf"
    _write_pdf(_seed_lines(seed_text), path)
    parsed = parse_bulletin(read_document(path), path.name)
    drafts = practices(parsed)
    assert list(dict.fromkeys(d.region_raw for d in drafts)) == SEED_REGIONS
    changsha = next(d.text for d in drafts if d.region_raw == "长沙市")
    assert "企业注销由20个工作日压缩至0.5个工作日" in changsha
    assert len(drafts) == len(practices(parse_bulletin(seed_text)))


@pytest.mark.parametrize("content, message", [
    (b"", "空文件"),
    (b"   \n\n ", "空文件"),
    (bytes(range(256)) * 20, "不是文本文件"),
])
def test_broken_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_document(path)


def test_gbk_file_is_read(seed_text, tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(seed_text.encode("gbk"))
    parsed = parse_bulletin(read_document(path), path.name)
    assert list(dict.fromkeys(d.region_raw for d in practices(parsed))) == SEED_REGIONS


def test_bulletin_without_practice_section():
    with pytest.raises(InputError, match="没有找到【战术借鉴】"):
        parse_bulletin("某市工作专报\n第 1 期\n【战斗动态】\n冷水滩区：召开会议。", "x.txt")


def test_oversized_file_refused_before_reading(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(InputError, match="超过上限"):
        read_document(path, max_bytes=20 * 1024 * 1024)


@pytest.mark.parametrize("suffix, content, message", [
    (".docx", b"PK\x03\x04 definitely not a zip", "不是有效的 .docx"),
    (".docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "不是有效的 .docx"),  # encrypted Word = OLE file
    (".pdf", b"%PDF-1.4\n garbage", "PDF"),
    (".pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 200, "PDF"),
])
def test_corrupt_documents(tmp_path, suffix, content, message):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_document(path)


def _actions(home, text: str, name: str) -> dict:
    """The local actions parsed from a bulletin's text for the knowledge base in ``home``, by their
    first three characters."""
    from reformkb.ingest.pipeline import parse_file
    from reformkb.settings import Settings

    records, _ = parse_file(text.encode("utf-8"), Settings.default(home), name)
    return {r.text[:3]: r for r in records if r.kind == KIND_ACTION}


def test_action_labels_that_start_with_a_place_give_the_place(tmp_path):
    actions = _actions(tmp_path, "南京市优化营商环境工作专报\n第 3 期\n【战术借鉴】\n"
                       "长沙市：推行“无证明城市”建设，企业注销时间由20个工作日压缩至0.5个工作日。\n【战斗动态】\n"
                       "鼓楼区：3月14日，召开优化营商环境推进会，部署企业开办提速工作。\n"
                       "江宁区税务局：推出“非接触式”办税，线上办税率达到96%。\n"
                       "市税务局：推出“非接触式”办税，线上办税率达到95%。\n", "nanjing.txt")
    # an ambiguous district (four cities have a 鼓楼区) is the one of the bulletin's home city
    assert (actions["鼓楼区"].city, actions["鼓楼区"].region, actions["鼓楼区"].agency) == ("南京市", "鼓楼区", "")
    # a place with its agency: the place is the district, the agency what follows it
    assert (actions["江宁区"].region, actions["江宁区"].agency) == ("江宁区", "税务局")
    # an agency without a place is the home city's
    assert (actions["市税务"].region, actions["市税务"].agency) == ("南京市", "市税务局")


def test_action_labels_naming_the_knowledge_base_s_own_places(tmp_path):
    """A label naming a place the user added (places.tsv) is a place, not an agency of the home city."""
    from reformkb.ingest.regions import add_place

    add_place(tmp_path, "大瑶镇", "浏阳市")
    actions = _actions(tmp_path, "长沙市优化营商环境工作专报\n第 5 期\n【战术借鉴】\n"
                       "株洲市：推行“一件事一次办”，企业开办压缩至1个工作日。\n【战斗动态】\n"
                       "大瑶镇：3月14日，设立花炮企业服务专窗，办理时限压缩一半。\n"
                       "市税务局：推出“非接触式”办税，线上办税率达到95%。\n", "changsha.txt")
    assert (actions["大瑶镇"].region, actions["大瑶镇"].county, actions["大瑶镇"].agency) == ("大瑶镇", "浏阳市", "")
    assert (actions["市税务"].region, actions["市税务"].agency) == ("长沙市", "市税务局")


def test_practices_of_places_the_users_added(tmp_path):
    """Towns the users added (places.tsv) are places in a practice section too: at the start of a practice,
    as a place heading and in a table's place column. Without them the heading's practice had no place and
    was refused, and the others warned that they named none."""
    from reformkb.ingest.pipeline import parse_file
    from reformkb.ingest.regions import add_place
    from reformkb.settings import Settings

    for town, county in (("周庄镇", "昆山市"), ("濮院镇", "桐乡市"), ("千灯镇", "昆山市")):
        add_place(tmp_path, town, county)
    text = ("衢州市营商环境工作专报\n2026年第7期\n【他山之石】\n"
            "周庄镇推行“民宿开办一件事”，把卫生、消防、特种行业许可合并办理，开办时间由30天压缩至7天。\n"
            "濮院镇\n设立“羊毛衫产业服务驿站”，企业在家门口即可办理商标注册、质押融资等28项业务。\n"
            "地区\t做法\t成效\n千灯镇\t推行“厂房租赁备案一次办”\t备案时间压缩至1天\n")
    records, report = parse_file(text.encode("utf-8"), Settings.default(tmp_path), "quzhou.txt")
    assert [(r.region, r.county, r.province) for r in records] == [
        ("周庄镇", "昆山市", "江苏省"), ("濮院镇", "桐乡市", "浙江省"), ("千灯镇", "昆山市", "江苏省")]
    assert records[1].text.startswith("濮院镇设立")
    assert not report.warnings and not report.refused



def test_a_news_section_of_other_places_holds_practices_and_its_closing_plan_is_no_action():
    parsed = parse_bulletin("大同市营商环境建设工作简讯\n2024年第4期\n◇ 各地动态 ◇\n"
                            "■北京市深化“接诉即办”改革，企业诉求响应率达到100%。\n"
                            "■浙江省推行“综合查一次”，入企检查次数同比下降30%以上。\n"
                            "■江苏省上线“苏服办”总门户，可办理2000余项政务服务事项。\n"
                            "◇ 本地进展 ◇\n■平城区：推行“一窗通办”，企业开办时间压缩至0.5个工作日。\n"
                            "下一步，市营商环境建设局将对标北京、上海等地经验，研究工作方案。\n"
                            "发送：市委、市政府领导\n", "简讯.txt")
    assert parsed.source.title == "大同市营商环境建设工作简讯"
    assert [d.region_raw for d in practices(parsed)] == ["北京市", "浙江省", "江苏省"]
    actions = [d for d in parsed.drafts if d.kind == KIND_ACTION]
    assert [d.region_raw for d in actions] == ["平城区"] and "下一步" not in actions[0].text
    assert any(o.text.startswith("下一步") for o in parsed.left_out)
    assert any(o.text.startswith("发送") for o in parsed.left_out)


def test_a_place_headline_opens_the_practice_under_it_and_is_none_of_its_own():
    parsed = parse_bulletin("德阳市营商环境工作专报\n第 5 期\n一、经验交流\n"
                            "（一）江西省：迭代升级“赣服通”5.0版\n"
                            "江西省上线“赣服通”5.0版，开设“无证明办事”专区，可用电子证照替代纸质证明。\n"
                            "（二）义乌市：深化“义新欧”班列便利化改革\n"
                            "一是推行“一单到底”联运模式，一次报关即可完成全程运输；二是设立“拼箱服务中心”，"
                            "小批量货物也能上班列。\n", "专报.txt")
    drafts = practices(parsed)
    assert [d.region_raw for d in drafts] == ["江西省", "义乌市", "义乌市"]
    assert drafts[0].text.startswith("江西省：迭代升级") and "开设“无证明办事”专区" in drafts[0].text
    assert "一单到底" in drafts[1].text and "拼箱" not in drafts[1].text and "拼箱" in drafts[2].text


def test_the_lines_of_a_table_of_contents_start_no_section():
    parsed = parse_bulletin("威海市营商环境简报\n第11期\n本期要目\n全市召开攻坚推进会\n先进地区做法摘编\n各区市进展\n"
                            "全市召开攻坚推进会\n6月20日，全市攻坚推进会召开，通报了上半年指标进展。\n"
                            "先进地区做法摘编\n（1）深圳市推行商事登记“秒批”，营业执照申请即时办结。\n"
                            "各区市进展\n▲环翠区：推行“首席服务官”制度，为全区重点企业配备服务专员。\n", "简报.txt")
    assert [d.region_raw for d in practices(parsed)] == ["深圳市"]
    assert [d.region_raw for d in parsed.drafts if d.kind == KIND_ACTION] == ["环翠区"]
    assert not any("推进会召开" in d.text for d in parsed.drafts)


def test_a_body_that_repeats_the_end_of_its_place_heading_names_the_place_once():
    parsed = parse_bulletin("保定市营商环境工作专报\n第 6 期\n【对标学习】\n江苏省昆山市周市镇\n"
                            "周市镇作为经济发达镇改革试点镇，承接县级审批权限268项，企业办事不出镇。\n", "专报.txt")
    assert [d.text[:11] for d in practices(parsed)] == ["江苏省昆山市周市镇作为"]


def test_a_section_the_users_named_as_local_news_stays_local_news():
    from reformkb.ingest.sections import SectionNames

    text = ("大同市营商环境建设工作简讯\n2024年第4期\n【他山之石】\n合肥市推行“拿地即开工”，审批时间压缩至10个工作日。\n"
            "【一周快讯】\n■北京市深化“接诉即办”改革，企业诉求响应率达到100%。\n"
            "■浙江省推行“综合查一次”，入企检查次数同比下降30%以上。\n")
    assert [d.region_raw for d in practices(parse_bulletin(text, "简讯.txt"))] == ["合肥市", "北京市", "浙江省"]
    ours = parse_bulletin(text, "简讯.txt", names=SectionNames().extended(action=["一周快讯"]))
    assert [d.region_raw for d in practices(ours)] == ["合肥市"]
    assert [d.kind for d in ours.drafts].count(KIND_ACTION) == 2


_HEAD = "鞍山市优化营商环境工作简报\n第15期\n"


@pytest.mark.parametrize("body, expected", [
    # a headline over 一是/二是 lines of its own: each item under the headline's place
    ("第一篇　先进地区经验借鉴\n广州市黄埔区：打造企业全生命周期服务\n一是推行“信用+承诺”审批，实行告知承诺制。\n"
     "二是设立“政策兑现窗口”，奖补资金最快7个工作日到账。\n",
     [("广州市黄埔区", "信用+承诺"), ("广州市黄埔区", "政策兑现窗口")]),
    # an introduction and its items in one paragraph, items after a time or news lead
    ("二、外地经验\n各地持续推出新举措，现择要摘编如下：上海市闵行区推行工业项目“用地清单制”，企业拿地即开工；"
     "今年以来，南京市江北新区实施“证照联办”改革，办理时间压缩一半；记者从湖北省武汉市了解到，东湖新技术开发区推行"
     "“先使用后付费”模式，减轻企业负担。\n",
     [("上海市闵行区", "用地清单制"), ("南京市江北新区", "证照联办"), ("东湖新技术开发区", "先使用后付费")]),
    # 〔〕 place headings; a contributor's credit line is no part of a practice
    ("【他山之石】\n〔广州互联网法院〕\n上线“E链存证”平台，电子证据存证核验一次完成。\n（市营商办 供稿）\n"
     "〔仙桃〕\n推行“链长+行长”金融服务模式，银行为产业链企业授信20亿元。\n",
     [("广州", "广州互联网法院上线“E链存证”"), ("仙桃", "链长+行长")]),
    # a place after the headline's dash; a box inside the section; a paragraph opening 在…，
    ("【学习借鉴】\n▶ 惠企政策“直达快享”——湖北省仙桃市\n该市梳理惠企政策清单186项，“免申即享”直接兑现。\n"
     "【专家点评】“直达快享”减少了企业申报环节，值得学习。\n在苏州工业园区，企业遇到难题可通过“企业服务管家”一键直达。\n",
     [("湖北省仙桃市", "186项"), ("苏州工业园区", "企业服务管家")]),
    # questions and answers; a section named 学习先进; items numbered 第一，
    ("【外地好做法·你问我答】\n问：企业开办后还要分头跑水电气，外地是怎么解决的？\n"
     "答：重庆江北推行“开办+水电气讯”联合报装，企业一次申请即可。\n学习先进\n"
     "第一，哈尔滨新区推行“拿地即开工”，项目开工提前3个月。\n",
     [("重庆江北", "开办+水电气讯"), ("哈尔滨新区", "拿地即开工")]),
    # Roman-numbered place headings over 主要做法 / 取得成效 paragraphs: one practice per place
    ("【兄弟盟市经验】\nⅠ　赤峰市\n主要做法：推行肉牛产业“活体抵押”贷款，银行以活牛作抵押。\n"
     "取得成效：已发放活体抵押贷款9.6亿元。\nⅡ　乌兰察布市\n主要做法：建立数据中心项目“专班服务”。\n"
     "取得成效：平均用时缩短至45天。\n",
     [("赤峰市", "9.6亿元"), ("乌兰察布市", "45天")]),
    # tagged fields, a 兵团 city, a heading of three places, an editor's line
    ("【他山借鉴】\n【地区】新疆生产建设兵团第四师可克达拉市\n【做法】推行兵地企业开办“同城通办”，双方大厅都能办。\n"
     "【成效】今年以来跨兵地办理企业开办1200件。\n【地区】江苏省、浙江省和上海市\n"
     "【做法】三省市在示范区建立“跨域执法协作”机制。\n（本期编辑：阿依古丽　校对：张华）\n",
     [("新疆生产建设兵团第四师可克达拉市", "1200件"), ("江苏省", "跨域执法协作"), ("浙江省", "跨域执法协作"), ("上海市", "跨域执法协作")]),
])
def test_more_house_styles(body, expected):
    parsed = parse_bulletin(_HEAD + body, "简报.txt")
    got = [(d.region_raw, d.text) for d in practices(parsed)]
    assert len(got) == len(expected), got
    for (region, text), (want_region, snippet) in zip(got, expected):
        assert region == want_region and snippet in text, got
        assert "供稿" not in text and "专家点评" not in text and "问：" not in text and "校对" not in text


def test_a_table_with_a_title_column_keeps_the_practice_and_its_highlight():
    from reformkb.ingest.bulletin import _row_drafts, _table_columns

    columns = _table_columns(["序号", "经验名称", "地区", "主要做法", "亮点"])
    [(text, region, _, _)] = _row_drafts(["1", "工业项目“带方案出让”", "青岛市崂山区", "方案审查与土地出让同步进行",
                                         "项目开工时间平均提前60天"], columns)
    assert region == "青岛市崂山区"
    assert text == "青岛市崂山区工业项目“带方案出让”：方案审查与土地出让同步进行。项目开工时间平均提前60天。"


def test_table_rows_carry_a_merged_place_down_and_split_numbered_and_shared_cells():
    from reformkb.ingest.bulletin import _row_drafts, _table_columns

    columns = _table_columns(["地区", "经验做法"])
    assert [(r, t[:6]) for t, r, _, _ in _row_drafts(["苏州园区", "1.推行“一码通办”，扫码办理。2.设立“白名单”，通关提速。"],
                                                    columns)] == [("苏州园区", "苏州园区推行"), ("苏州园区", "苏州园区设立")]
    [(_, _, _, siblings)] = _row_drafts(["广州、深圳两市", "试点商事登记“跨城通办”。"], columns)
    assert siblings == ("广州", "深圳")
    parsed = parse_bulletin("景德镇市营商环境简报\n第3期\n【标杆城市在行动】\n地区\t主要举措\t成效\n"
                            "深圳市\t推出“深i企”平台\t注册企业超过300万户\n\t市中级人民法院推行“预重整”识别机制\t已帮助23家企业\n",
                            "简报.txt")
    assert [(d.region_raw, d.text[:8]) for d in practices(parsed)] == [("深圳市", "深圳市推出“深i"), ("深圳市", "深圳市市中级人民")]
