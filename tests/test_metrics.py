"""Quantified improvements in practice texts (reformkb.ingest.metrics)."""
import json

import pytest

from reformkb.errors import InputError
from reformkb.ingest.metrics import Metric, best_reduction, extract_metrics

# From the seed bulletin (永州市工作专报 第 2 期), with the spaces PDF extraction leaves.
CHANGSHA = (
    "长沙市加快建设“无证明城市”，目前 26 类证明可在线开具，41 类电子证照可实时调用，5088 项政务服务"
    "实现“减证办”“免证办”。“一次办”比例 90%以上，90%政务服务网上办。企业注销由 20 个工作日压缩至 0.5 个工作日。"
)
HARBIN = (
    "社会投资企业建设简易低风险\n\n工程项目全流程只需 3 个环节、申请 8 个事项、10 个工作日，"
    "即可办理完成自项目取得用地至房屋不动产初始登记的所有审批手续。"
)
RENSHE = (
    "市人社局：3月8日，市人社局举办“春风行动”暨就业援助月女性专场招聘活动，106家企业参会，"
    "提供就业岗位5000余个，达成就业意向572人，发放政策宣传手册2000余份。"
)
HEADER = "永州市打好优化发展环境持久仗 工作专报\n\n第 2 期\n\n2023 年 3 月 18 日\n联系电话：0746-8358692"


def only(metrics, kind):
    found = [m for m in metrics if m.kind == kind]
    assert len(found) == 1, found
    return found[0]


# --- reductions --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["企业注销由 20 个工作日压缩至 0.5 个工作日", "企业注销由20个工作日压缩至0.5个工作日"],
)
def test_before_after_reduction_with_and_without_pdf_spaces(text):
    m = only(extract_metrics(text), "reduction")
    assert (m.before, m.after, m.value) == (20, 0.5, 0.5)
    assert m.unit == "个工作日"
    assert m.reduction_pct == 97.5
    assert m.label == "企业注销"
    assert m.text == text[len("企业注销"):]  # the phrase as written
    assert m.badge() == "20→0.5 个工作日，压缩 97.5%"


def test_from_to_reduction():
    m = only(extract_metrics("从5天缩短到1天"), "reduction")
    assert (m.before, m.after, m.unit, m.reduction_pct) == (5, 1, "天", 80.0)


def test_after_only_reduction():
    m = only(extract_metrics("企业开办时间压缩至3个工作日以内。"), "reduction")
    assert m.before is None and m.after == 3 and m.value == 3
    assert m.reduction_pct is None
    assert m.label == "企业开办时间"
    assert m.text == "压缩至3个工作日以内"
    assert m.badge() == "压缩至 3 个工作日以内"  # the limit is kept (issue 15)


def test_reduction_with_chinese_numerals():
    m = only(extract_metrics("将开办时间由两个工作日压缩至一天"), "reduction")
    assert (m.before, m.after, m.reduction_pct) == (2, 1, 50.0)
    assert m.label == "开办时间"


def test_reduction_in_different_units_of_time_is_compared_in_the_smaller_one():
    m = only(extract_metrics("办理时间由3天压缩到4小时"), "reduction")
    assert (m.before, m.after, m.unit) == (72, 4, "小时")
    assert m.reduction_pct == 94.4


def test_reduction_with_bare_measure_word_after_keeps_the_full_unit():
    m = only(extract_metrics("审批环节从原来的7个环节精简为3个"), "reduction")
    assert (m.before, m.after, m.unit) == (7, 3, "个环节")


def test_growth_is_not_a_reduction():
    metrics = extract_metrics("网上办理率从60%提高到90%")
    assert all(m.kind != "reduction" for m in metrics)
    assert [m.value for m in metrics] == [60, 90]


# --- ratios ------------------------------------------------------------------------------------
def test_ratio_after_a_shrinking_verb_counts_as_a_reduction():
    m = only(extract_metrics("审批时限压减60%"), "ratio")
    assert (m.value, m.unit, m.label) == (60, "%", "审批时限")
    assert m.reduction_pct == 60
    assert m.badge() == "压减 60%"


def test_ratios_in_the_changsha_paragraph():
    ratios = [m for m in extract_metrics(CHANGSHA) if m.kind == "ratio"]
    assert [(m.value, m.label) for m in ratios] == [(90, "一次办比例"), (90, "政务服务网上办")]
    assert ratios[0].text == "90%以上"
    assert ratios[0].badge() == "90%以上"  # “以上” is kept (issue 15)
    assert ratios[0].labelled() == "一次办比例：90%以上"
    assert ratios[0].reduction_pct is None


def test_written_out_percentages_and_points():
    assert [(m.value, m.unit) for m in extract_metrics("满意率达百分之九十五，同比提高3个百分点")] == [
        (95, "%"),
        (3, "个百分点"),
    ]


# --- steps -------------------------------------------------------------------------------------
def test_procedure_run_is_one_steps_metric():
    metrics = extract_metrics(HARBIN)
    assert len(metrics) == 1
    m = metrics[0]
    assert m.kind == "steps"
    assert m.text == "3 个环节、申请 8 个事项、10 个工作日"
    assert m.value == 10 and m.unit == "个工作日"
    assert m.badge() == "3个环节、8个事项、10个工作日"
    assert m.label.endswith("全流程") and len(m.label) <= 12


def test_steps_without_a_duration_have_no_value():
    m = only(extract_metrics("只需提交3份材料、2个环节即可办结"), "steps")
    assert m.value is None
    assert m.badge() == "3份材料、2个环节"


# --- counts ------------------------------------------------------------------------------------
def test_counts_in_the_changsha_paragraph():
    metrics = extract_metrics(CHANGSHA)
    counts = [(m.value, m.unit, m.label) for m in metrics if m.kind == "count"]
    assert counts == [(26, "类", "证明"), (41, "类", "电子证照"), (5088, "项", "政务服务")]
    assert metrics[2].badge() == "5088 项"


def test_whole_changsha_paragraph_in_order_of_appearance():
    kinds = [m.kind for m in extract_metrics(CHANGSHA)]
    assert kinds == ["count", "count", "count", "ratio", "ratio", "reduction"]
    assert best_reduction(extract_metrics(CHANGSHA)) == 97.5


def test_counts_with_approximate_numbers_and_labels_on_either_side():
    metrics = extract_metrics(RENSHE)
    assert [(m.value, m.unit, m.label) for m in metrics] == [
        (106, "家", "企业"),
        (5000, "个", "就业岗位"),
        (572, "人", "就业意向"),
        (2000, "份", "政策宣传手册"),
    ]
    assert metrics[1].text == "5000余个"


def test_money_keeps_its_magnitude_in_the_unit():
    m = only(extract_metrics("为企业新增贷款3.5亿元"), "count")
    assert (m.value, m.unit) == (3.5, "亿元")


def test_full_width_digits_and_thousands_separators():
    assert [m.value for m in extract_metrics("累计办理５０８８项，惠及5,000户")] == [5088, 5000]


# --- what is not a figure ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "3月16日，召开全市政务服务暨优化营商环境工作会议",
        "邵阳市 3 月 16 日至 17 日，召开现场推进会",
        "2023年第8次会议",
        "第 2 期",
        "出台“优化法治化营商环境二十条举措”",
        "3月14日，第7次区委常委会专题研究",
        "出台《海南自由贸易港进一步优化营商环境行动方案（2022—2025年）》",
        "联系电话：0746-8358692",
        "深化“一件事一次办”改革，每月召开一次",
        "统一天然气价格",
        "两位区委常委任总召集人",
        "实施意见3.0版",
    ],
)
def test_dates_ordinals_phones_and_slogans_are_not_figures(text):
    assert extract_metrics(text) == []


def test_bulletin_header_has_no_figures():
    assert extract_metrics(HEADER) == []


@pytest.mark.parametrize("text", ["", "   \n ", "。，！？……", "“”《》"])
def test_empty_or_punctuation_only_text(text):
    assert extract_metrics(text) == []


def test_no_duplicates_for_a_repeated_sentence():
    metrics = extract_metrics("提供就业岗位5000余个。提供就业岗位5000余个。")
    assert len(metrics) == 1


def test_a_figure_is_read_once():
    # 压缩至0.5个工作日 is inside the before→after phrase and is not read again.
    assert len(extract_metrics("企业注销由20个工作日压缩至0.5个工作日")) == 1


# --- Metric as data ----------------------------------------------------------------------------
def test_to_dict_round_trips_through_json():
    for m in extract_metrics(CHANGSHA + HARBIN):
        data = json.loads(json.dumps(m.to_dict(), ensure_ascii=False))
        assert Metric.from_dict(data) == m


def test_from_dict_rejects_unknown_kind_and_bad_numbers():
    with pytest.raises(InputError):
        Metric.from_dict({"kind": "speed", "text": "", "label": "", "unit": ""})
    with pytest.raises(InputError):
        Metric.from_dict({"kind": "count", "text": "", "label": "", "unit": "项", "value": "很多"})


def test_best_reduction():
    assert best_reduction([]) is None
    assert best_reduction(extract_metrics("26 类证明可在线开具")) is None
    mixed = extract_metrics("从5天缩短到1天，审批时限压减60%，企业注销由20个工作日压缩至0.5个工作日")
    assert best_reduction(mixed) == 97.5


# --- units and labels (issue 15) -----------------------------------------------------------------
def test_a_working_day_is_not_24_hours():
    m = only(extract_metrics("企业开办由1个工作日压缩至2小时"), "reduction")
    assert (m.before, m.before_unit, m.after, m.unit) == (1, "个工作日", 2, "小时")
    assert m.reduction_pct is None  # the figures are not comparable: both shown, no percentage
    assert m.badge() == "1 个工作日→2 小时"
    assert best_reduction([m]) is None


def test_clock_units_still_convert():
    m = only(extract_metrics("办理时间由3天压缩到4小时"), "reduction")
    assert m.summary() == "办理时间：72 小时 → 4 小时（压缩 94.4%）"


def test_every_badge_is_labelled_and_qualifiers_are_kept():
    labelled = [m.labelled() for m in extract_metrics(CHANGSHA)]
    assert labelled == ["证明：26 类", "电子证照：41 类", "政务服务：5088 项", "一次办比例：90%以上",
                        "政务服务网上办：90%", "企业注销：20→0.5 个工作日，压缩 97.5%"]
    assert [m.badge() for m in extract_metrics("满意率近95%，提供就业岗位5000余个")] == ["近95%", "5000 余个"]


def test_summary_reads_as_a_sentence():
    m = only(extract_metrics("企业注销由 20 个工作日压缩至 0.5 个工作日"), "reduction")
    assert m.summary() == "企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）"
    again = Metric.from_dict(m.to_dict())
    assert again == m and again.summary() == m.summary()
