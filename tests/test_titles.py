"""Titles for practice texts and the acting agency (reformkb.ingest.titles)."""
import pytest

from reformkb.ingest.titles import find_agency, make_title, truncate_title

# Paragraphs of the 【战术借鉴】 section of the seed bulletin (永州市工作专报 第 2 期).
CHANGSHA = (
    "长沙市加快建设“无证明城市”，目前 26 类证明可在线开具，41 类电子证照可实时调用，5088 项政务服务"
    "实现“减证办”“免证办”。企业注销由 20 个工作日压缩至 0.5 个工作日。"
)
HENGYANG_CODE = "衡阳市在全国首创企业赋“码”保护机制，实现“码”上约、“码”上评、惠企政策“码”上了然。"
BANKRUPTCY = "市中级人民法院以“智慧破产”+“府院联动”为抓手，畅通“涉企案件绿色通道”；"
YANSHUIYUN = "市税务局创新“雁税云服务”，为纳税人提供网上审批、文档传输、远程代办等“一站式”服务；"
MORTGAGE = "衡阳市不动产登记中心推行“智慧抵押登记”服务。"
SHAOYANG = (
    "邵阳市 3 月 16 日至 17 日，召开产业高质量发展、“五好”园区、优化营商环境暨重点项目建设大比拼现场推进会，"
    "通过“看、学、比、促”的方式，掀起抓项目、兴产业、建园区、优环境的热潮。"
)
YIYANG = "益阳市第七次党代会将培优营商环境作为实现益阳高质量发展的两大支撑之一写入大会主题。"
SHENZHEN = "深圳市实施不动产登记“税费一次缴清”服务。打造全市统一市场主体培育服务平台“深i企”。"
PUYANG = (
    "濮阳市纪委监委出台《全市优化营商环境监督治理联席会议工作方案》，每月召开一次，"
    "当面征集意见建议、现场交办问题线索。"
)
HARBIN = (
    "哈尔滨市出台《关于优化社会投资简易低风险工程建设项目审批服务实施意见3.0版》，社会投资企业建设简易低风险"
    "\n\n工程项目全流程只需 3 个环节、申请 8 个事项、10 个工作日。"
)
MEIZHOU = "梅州市推行“中标贷”、“中小微企业贷”，采用“互联网+公共资源交易+融资服务”模式。"
HAINAN = (
    "海南省自《海南自由贸易港优化营商环境条例》施行以来，密集出台多项改革方案，推动营商环境持续优化。"
    "围绕最低市场准入、最简权力清单、最优审批服务、最有效监管“四最”目标，提出7大项共35分项措施。"
)


# --- make_title --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, region, title",
    [
        (CHANGSHA, "长沙市", "无证明城市"),
        (CHANGSHA, "", "无证明城市"),
        (BANKRUPTCY, "", "智慧破产+府院联动"),
        (YANSHUIYUN, "", "雁税云服务"),
        (MORTGAGE, "衡阳市", "智慧抵押登记服务"),
        (SHENZHEN, "深圳市", "不动产登记税费一次缴清服务"),
        (MEIZHOU, "梅州市", "中标贷、中小微企业贷"),
    ],
)
def test_quoted_names_make_the_title(text, region, title):
    assert make_title(text, region) == title


def test_one_character_quotes_are_not_names():
    # 企业赋“码”: the quoted 码 is too short; the verb-object phrase is used, quotes removed.
    assert make_title(HENGYANG_CODE, "衡阳市") == "首创企业赋码保护机制"


@pytest.mark.parametrize(
    "text, region, title",
    [
        (PUYANG, "濮阳市", "优化营商环境监督治理联席会议"),
        (HARBIN, "哈尔滨市", "社会投资简易低风险工程建设项目审批服务"),
        ("出台《海南自由贸易港营商环境评价工作方案》。", "海南省", "自由贸易港营商环境评价"),
    ],
)
def test_document_titles_lose_their_type_region_and_version(text, region, title):
    assert make_title(text, region) == title


def test_since_clause_is_skipped_and_the_main_clause_is_used():
    assert make_title(HAINAN, "海南省") == "密集出台多项改革方案"


def test_leading_date_is_stripped():
    title = make_title(SHAOYANG, "邵阳市")
    assert "月" not in title and "日" not in title
    assert title and len(title) <= 20


def test_long_clause_is_cut_before_a_function_word_not_mid_word():
    assert make_title(YIYANG, "益阳市") == "第七次党代会将培优营商环境"


def test_region_is_kept_when_it_is_not_given_and_not_followed_by_a_verb():
    assert make_title(YIYANG).startswith("益阳市")


def test_made_up_practice_without_quotes():
    text = "3 月 16 日，某县推行企业开办全程网上办理，当天即可领取营业执照。"
    assert make_title(text, "某县") == "推行企业开办全程网上办理"


@pytest.mark.parametrize("max_chars", [4, 8, 12, 20])
def test_titles_respect_max_chars(max_chars):
    for text in (CHANGSHA, HENGYANG_CODE, SHAOYANG, YIYANG, PUYANG, HARBIN, MEIZHOU, HAINAN):
        title = make_title(text, max_chars=max_chars)
        assert 0 < len(title) <= max_chars


def test_titles_never_empty_for_non_empty_text():
    assert make_title("。，！") == "。，！"
    assert make_title("“”") == "“”"
    assert make_title("长沙市", "长沙市") == "长沙市"
    assert make_title("", "长沙市") == ""
    assert make_title(" \n\t ") == ""


def test_max_chars_must_be_positive():
    with pytest.raises(ValueError):
        make_title(CHANGSHA, max_chars=0)


def test_truncate_title():
    assert truncate_title("短标题", 20) == "短标题"
    assert truncate_title("产业高质量发展、五好园区、优化营商环境暨重点项目建设大比拼现场推进会", 20) == (
        "产业高质量发展、五好园区"
    )
    assert truncate_title("一二三四五六七八九十", 4) == "一二三四"


# --- find_agency -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, agency",
    [
        (BANKRUPTCY, "市中级人民法院"),
        (YANSHUIYUN, "市税务局"),
        (MORTGAGE, "不动产登记中心"),
        (PUYANG, "纪委监委"),
        ("县纪委监委深入推进“优化营商环境纪委在行动”。", "县纪委监委"),
        ("市人社局举办“春风行动”暨就业援助月女性专场招聘活动。", "市人社局"),
        ("市财政局：3月7日，全流程电子化招投标平台通过技术审核。", "市财政局"),
        ("3月7日，市财政局推行政府采购全流程电子化。", "市财政局"),
        ("市公共资源交易中心印发《重点任务落实方案》。", "市公共资源交易中心"),
        ("郴州市农商银行推出“银税互动”信用贷产品。", "农商银行"),
    ],
)
def test_agency_in_actor_position(text, agency):
    assert find_agency(text) == agency


@pytest.mark.parametrize(
    "text",
    [
        CHANGSHA,
        MEIZHOU,
        YIYANG,
        "县委常委、常务副县长张恒主持召开调度会。",
        "冷水滩区：3月14日，第7次区委常委会专题研究优化营商环境工作。",
        "推动城市更新。",
        "加快推进政务服务中心建设。",  # 中心 is the object, not the actor
        "",
        "。，！",
    ],
)
def test_no_agency(text):
    assert find_agency(text) is None


@pytest.mark.parametrize("text, agency", [("广州知识产权法院与深圳知识产权法庭联合建立", "知识产权法院"),
                                          ("市场监管局与税务局联合推出", "市场监管局"),
                                          ("市发展和改革委员会推出", "市发展和改革委员会")])
def test_the_first_of_two_joined_agencies_is_the_actor(text, agency):
    assert find_agency(text) == agency
