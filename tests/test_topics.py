"""Topic taxonomy and rule-based topic assignment (reformkb.ingest.topics)."""
import json
from importlib import resources

import pytest

from reformkb.errors import InputError
from reformkb.ingest.topics import Topic, assign_topics, normalize_topic, taxonomy, topic_names

# Paragraphs of the 【战术借鉴】 section of a municipal bulletin (永州市工作专报 第 2 期).
CHANGSHA = (
    "长沙市加快建设“无证明城市”，目前 26 类证明可在线开具，41 类电子证照可实时调用，5088 项政务服务"
    "实现“减证办”“免证办”。“一次办”比例 90%以上，90%政务服务网上办。企业注销由 20 个工作日压缩至 0.5 个工作日。"
)
HENGYANG_CODE = (
    "衡阳市在全国首创企业赋“码”保护机制，实现“码”上约、“码”上评、“码”上问、“码”上答、惠企政策“码”上了然。"
)
BANKRUPTCY = "市中级人民法院以“智慧破产”+“府院联动”为抓手，畅通“涉企案件绿色通道”；"
YANSHUIYUN = "市税务局创新“雁税云服务”，为纳税人提供网上审批、文档传输、远程代办等“一站式”服务；"
MORTGAGE = "衡阳市不动产登记中心推行“智慧抵押登记”服务。"
SHENZHEN_TAX = "深圳市实施不动产登记“税费一次缴清”服务。"
GRACE_PERIOD = "创新“人工智能+互联网+信用+双随机”监管模式，给予新兴产业企业1至2年成长“包容期”。"
PUYANG = (
    "濮阳市纪委监委出台《全市优化营商环境监督治理联席会议工作方案》，每月召开一次，"
    "当面征集意见建议、现场交办问题线索。"
)
HARBIN = (
    "哈尔滨市出台《关于优化社会投资简易低风险工程建设项目审批服务实施意见3.0版》，社会投资企业建设简易低风险"
    "\n\n工程项目全流程只需 3 个环节、申请 8 个事项、10 个工作日，即可办理完成自项目取得用地至房屋不动产初始登记的所有审批手续。"
)
MEIZHOU = (
    "梅州市推行“中标贷”、“中小微企业贷”，采用“互联网+公共资源交易+融资服务”模式，中标企业无需抵押担保，"
    "凭借中标通知书即可实现项目的线上融资。"
)
HAINAN_EVALUATION = (
    "出台《海南自由贸易港营商环境评价工作方案》，包括开办企业等24个一级指标、开办企业便利度等97个二级指标"
    "及若干评价要点，作为衡量各级领导班子和领导干部工作实绩的重要参考。"
)

# The 18 indicators of China's business-environment evaluation.
INDICATORS = [
    "开办企业", "工程建设审批", "获得电力", "获得用水用气", "登记财产", "获得信贷", "纳税", "跨境贸易",
    "执行合同", "办理破产", "政府采购", "招标投标", "市场监管", "政务服务", "知识产权", "保护中小投资者",
    "劳动力市场监管", "包容普惠创新",
]


# --- the taxonomy ------------------------------------------------------------------------------
def test_taxonomy_covers_the_evaluation_indicators_first_and_in_file_order():
    names = topic_names()
    assert names[: len(INDICATORS)] == INDICATORS
    for extra in ("企业注销", "惠企政策", "政企沟通", "纪检监督护航", "考核评价", "法治环境"):
        assert extra in names
    assert 22 <= len(names) <= 26
    raw = json.loads(resources.files("reformkb").joinpath("data/topics.json").read_text("utf-8"))
    assert names == [entry["name"] for entry in raw]


def test_every_topic_is_documented_and_has_cues():
    for topic in taxonomy():
        assert isinstance(topic, Topic)
        assert topic.description, topic.name
        assert len(topic.keywords) >= 5, topic.name
        assert len(topic.weights) == len(topic.keywords)
        assert all(1 <= w <= 5 for w in topic.weights)
        assert all("*" not in k for k in topic.keywords), "weights must be parsed off keywords"


def test_names_and_aliases_are_unambiguous():
    seen: dict[str, str] = {}
    for topic in taxonomy():
        for word in (topic.name, *topic.aliases):
            assert word not in seen, f"{word} is used by {seen.get(word)} and {topic.name}"
            seen[word] = topic.name


def test_taxonomy_is_cached_but_callers_cannot_change_it():
    first = taxonomy()
    first.clear()
    assert len(taxonomy()) == len(topic_names()) > 0
    with pytest.raises(AttributeError):
        taxonomy()[0].name = "改名"  # frozen


# --- normalize_topic ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "given, canonical",
    [
        ("纳税", "纳税"),
        ("办理建筑许可", "工程建设审批"),
        ("不动产登记", "登记财产"),
        ("  不动产登记 ", "登记财产"),
        ("市场退出", "企业注销"),
        ("诉求响应", "政企沟通"),
        ("司法服务", "法治环境"),
        ("招投标", "招标投标"),
        ("证明事项减免", "政务服务"),
    ],
)
def test_normalize_topic_accepts_names_and_aliases(given, canonical):
    assert normalize_topic(given) == canonical


@pytest.mark.parametrize("unknown", ["招商引资", "", "纳税服务中心"])
def test_normalize_topic_rejects_unknown_names_and_lists_the_valid_ones(unknown):
    with pytest.raises(InputError) as info:
        normalize_topic(unknown)
    message = str(info.value)
    assert "未知的主题" in message
    assert "开办企业" in message and "考核评价" in message


# --- assign_topics on the seed bulletin --------------------------------------------------------
@pytest.mark.parametrize(
    "text, first, also",
    [
        (CHANGSHA, "政务服务", {"企业注销"}),
        (HENGYANG_CODE, "政企沟通", {"惠企政策"}),
        (BANKRUPTCY, "办理破产", set()),
        (YANSHUIYUN, "纳税", set()),
        (MORTGAGE, "登记财产", set()),
        (SHENZHEN_TAX, "登记财产", {"纳税"}),
        (GRACE_PERIOD, "包容普惠创新", {"市场监管"}),
        (PUYANG, "纪检监督护航", set()),
        (HARBIN, "工程建设审批", set()),
        (MEIZHOU, "获得信贷", {"招标投标"}),
        (HAINAN_EVALUATION, "考核评价", set()),
    ],
)
def test_seed_paragraphs_get_their_topics(text, first, also):
    topics = assign_topics(text)
    assert topics[0] == first
    assert also <= set(topics)
    assert len(topics) <= 3


@pytest.mark.parametrize(
    "text, expected",
    [
        ("推行用电报装“三零”服务，低压小微企业接电时间压缩至5天。", "获得电力"),
        ("推行水气报装“一窗受理”，供水、燃气接入全程网办。", "获得用水用气"),
        ("海关推行“提前申报”“两步申报”，进口整体通关时间压缩45%。", "跨境贸易"),
        ("法院建立商事纠纷诉前调解机制，合同纠纷案件平均审理周期缩短30天。", "执行合同"),
        ("开展专利快速预审，设立知识产权维权援助工作站。", "知识产权"),
        ("举办春季招聘会，提供就业岗位3000个，开展职业技能培训。", "劳动力市场监管"),
        ("推行政府采购意向公开和预付款制度，降低供应商参与成本。", "政府采购"),
        ("企业开办时间压缩至1个工作日以内，营业执照、公章刻制一次办结。", "开办企业"),
        ("上市公司完善信息披露制度，畅通中小股东维权渠道。", "保护中小投资者"),
        ("建立守信激励和失信惩戒机制，推行信用修复“一件事”。", "社会信用"),
    ],
)
def test_made_up_sentences_get_the_obvious_topic(text, expected):
    assert assign_topics(text)[0] == expected


def test_quotes_and_pdf_whitespace_do_not_hide_cues():
    assert assign_topics("办 理 破 产 案 件 实 行 “ 府 院 联 动 ”")[0] == "办理破产"


def test_general_statements_get_no_topic():
    assert assign_topics("今天天气很好，我们去公园散步。") == []
    # A party congress paragraph names no reform area.
    assert assign_topics(
        "益阳市第七次党代会将培优营商环境作为实现益阳高质量发展的两大支撑之一写入大会主题。"
    ) == []


@pytest.mark.parametrize("text", ["", "   ", "。，！？……", "123 456"])
def test_empty_and_punctuation_only_text_gets_no_topic(text):
    assert assign_topics(text) == []


def test_max_topics_limits_the_answer_and_keeps_the_order():
    three = assign_topics(MEIZHOU, max_topics=3)
    assert assign_topics(MEIZHOU, max_topics=1) == three[:1]
    assert assign_topics(MEIZHOU, max_topics=0) == []


def test_assignment_is_deterministic():
    assert {tuple(assign_topics(CHANGSHA + PUYANG + MEIZHOU)) for _ in range(5)} == {
        tuple(assign_topics(CHANGSHA + PUYANG + MEIZHOU))
    }


def test_a_weak_cue_alone_is_not_enough():
    # “政策” is a weak cue of 惠企政策; one occurrence does not make the topic.
    assert assign_topics("会议传达了有关政策。") == []
