"""Search quality: what hybrid search and query understanding promise, on a small knowledge base.

The practices below are written for these tests (not taken from the eval set). The last test runs
the retrieval dev set (``../shared/eval``) when it is present and checks the quality target.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from reformkb.errors import InputError
from reformkb.kb import KnowledgeBase
from reformkb.search.fusion import Filters
from reformkb.settings import Settings

PRACTICES = [
    ("株洲市", "株洲市推进市场退出便利化改革，对未开业、无债权债务的市场主体适用简易程序，公告期由45天压缩至20天，办理时间由20个工作日缩短至3个工作日。"),
    ("衡阳市", "衡阳市财政局联合多家银行推出“政采贷”，中小企业凭政府采购合同即可线上申请贷款，无需抵押担保，最快当天放款。"),
    ("岳阳市", "岳阳市全面清理证明事项，推行证明事项告知承诺制，群众和企业办事不再需要提交各类证明材料。"),
    ("深圳市", "深圳市梳理惠企政策清单，符合条件的企业无需申请，补贴资金由系统自动核定后直接拨付到企业账户，实现“免申即享”。"),
    ("湘潭市", "湘潭市对重大产业项目实行“拿地即开工”，在土地出让阶段同步完成规划、施工许可等审批，企业拿到土地当天即可开工建设。"),
    ("常德市", "常德市推行二手房“带押过户”，买卖双方无需提前还清贷款，不动产转移登记和抵押登记合并办理，最快1个小时办结。"),
    ("郴州市", "郴州市海关推广进出口货物“提前申报”和“两步申报”，口岸整体通关时间压缩一半以上，外贸企业物流成本明显降低。"),
    ("益阳市", "益阳市税务局推行“非接触式”办税，纳税人通过电子税务局即可完成申报、缴税和发票领用，九成以上涉税事项网上办理。"),
    ("邵阳市", "邵阳市市场监管局发布轻微违法行为“首违不罚”清单，对首次违法、危害后果轻微并及时改正的市场主体依法不予行政处罚。"),
    ("怀化市", "怀化市供电公司对低压小微企业用电报装实行“零上门、零审批、零投资”，接电时间由15天压缩至3天。"),
    ("娄底市", "娄底市建设“家门口”零工市场，求职者和用工企业在线发布信息、现场对接，灵活就业人员当天即可找到活干。"),
    ("长沙市", "长沙市开通12345政务服务便民热线企业专线，企业反映的诉求由专人跟踪督办，办理结果限时回复。"),
    ("永州市", "永州市实行企业开办“一网通办”，营业执照、公章刻制、发票申领和社保登记一次提交、一日办结。"),
    ("张家界市", "张家界市为重点项目配备“首席服务官”，从签约、审批到投产全程跟踪服务，协调解决用地、用工等问题。"),
    ("长沙市", "长沙市推行工程建设项目联合验收，规划、消防、人防等专项验收由“多头跑”变为“一次验”，验收时间压缩至5个工作日。"),
]
ZHUZHOU, HENGYANG, YUEYANG, SHENZHEN, XIANGTAN, CHANGDE, CHENZHOU, YIYANG, SHAOYANG, HUAIHUA = range(10)


def _build(home: Path) -> KnowledgeBase:
    kb = KnowledgeBase(settings=Settings.default(home), empty=True)
    kb.store_records([kb.prepare({"region": region, "text": text, "ref": f"T{n}"})
                      for n, (region, text) in enumerate(PRACTICES)])
    return kb


@pytest.fixture(scope="module")
def small_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("small")
    with _build(home):
        pass
    return home


@pytest.fixture
def small_kb(small_home):
    kb = KnowledgeBase(settings=Settings.default(small_home))
    yield kb
    kb.close()


def refs(hits) -> list[int]:
    return [int(h.record.ref[1:]) for h in hits]


def test_hybrid_beats_keyword_for_a_paraphrase(small_kb):
    query = "在国外卖货的公司，东西怎么更快运出去"
    hybrid = refs(small_kb.search(query, k=3))
    keyword = refs(small_kb.search(query, k=3, mode="keyword"))
    assert hybrid[0] == CHENZHOU
    assert CHENZHOU not in keyword[:1]


def test_english_query_finds_the_chinese_practice(small_kb):
    assert refs(small_kb.search("loans backed by government procurement contracts", k=3))[0] == HENGYANG
    assert refs(small_kb.search("customs clearance time", k=3))[0] == CHENZHOU


def test_glossary_expansion_finds_other_wordings(small_kb):
    # The 株洲 practice says 市场退出, never 注销: the glossary links the two.
    hits = small_kb.search("企业注销", k=3, mode="keyword")
    assert refs(hits)[0] == ZHUZHOU
    assert "市场退出" in hits[0].matched
    assert refs(small_kb.search("关门歇业", k=3))[0] == ZHUZHOU
    assert ZHUZHOU in refs(small_kb.search("公司不开了", mode="keyword"))
    # 中标贷 ≈ 政采贷, 不用开证明 ≈ 证明材料
    assert refs(small_kb.search("中标贷", k=3))[0] == HENGYANG
    assert refs(small_kb.search("不用开证明", k=3, mode="keyword"))[0] == YUEYANG


def test_done_when_colloquial_deregistration_query_finds_changsha(capsys, seeded_home, tmp_path):
    """The issue's acceptance check, on the default knowledge base built from kb/sources/."""
    import json
    import shutil

    from reformkb.cli import main

    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    assert main(["--home", str(home), "search", "公司不开了怎么快速办完手续", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert "长沙市" in [h["region"] for h in hits[:3]]


def test_user_glossary_in_the_home_is_used(tmp_path, small_home):
    home = tmp_path / "kb"
    home.mkdir()
    (home / "reformkb.db").write_bytes((small_home / "reformkb.db").read_bytes())
    with KnowledgeBase(settings=Settings.default(home)) as kb:
        assert kb.search("CSO", mode="keyword") == []
    (home / "glossary.tsv").write_text("# 我们这里的说法\n首席服务官\tCSO\t项目店小二\n", encoding="utf-8")
    with KnowledgeBase(settings=Settings.default(home)) as kb:
        hits = kb.search("CSO", mode="keyword")
        assert hits and hits[0].record.region == "张家界市" and "首席服务官" in hits[0].matched
    # Saved by Notepad or Excel as GBK, with | between the terms: still read.
    (home / "glossary.tsv").write_bytes("# 本地说法\r\n首席服务官|CSO\r\n".encode("gbk"))
    with KnowledgeBase(settings=Settings.default(home)) as kb:
        assert not kb.glossary.problems
        assert kb.search("CSO", mode="keyword")[0].record.region == "张家界市"
    # A file that cannot be read does not stop the knowledge base from opening.
    (home / "glossary.tsv").write_bytes(b"\x00\x01")
    with KnowledgeBase(settings=Settings.default(home)) as kb:
        assert kb.glossary.problems and kb.search("CSO", mode="keyword") == []


def test_hits_carry_score_parts_and_matched_terms(small_kb):
    hits = small_kb.search("首违不罚", k=5)
    top = hits[0]
    assert refs(hits)[0] == SHAOYANG
    assert top.lexical == pytest.approx(1.0) and 0 < top.semantic <= 1 and top.score > 0
    assert "首违不罚" in top.matched
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    row = top.to_dict()
    assert {"score", "lexical", "semantic", "matched", "boost"} <= set(row)
    keyword_top = small_kb.search("首违不罚", k=1, mode="keyword")[0]
    assert keyword_top.semantic is None and keyword_top.lexical == pytest.approx(1.0)
    semantic_top = small_kb.search("首违不罚", k=1, mode="semantic")[0]
    assert semantic_top.lexical is None and semantic_top.semantic == pytest.approx(semantic_top.score)


def test_a_named_region_lifts_its_practices(small_kb):
    hits = small_kb.search("长沙 审批提速", k=3)
    assert hits[0].record.region == "长沙市" and hits[0].boost > 0


# FTS5 syntax around the word 注销: must be read as plain text, so the 注销 practice is still found.
AROUND_ONE_WORD = ['企业"注销', "注销*", "-注销", "words: 注销", "^注销", "{words}: 注销"]
OTHER_SYNTAX = ['"', "*", "NEAR(", "AND OR", "'; drop table records; --", "注销 NOT 开办", "(((",
                "NEAR(注销 开办, 2)", "。，、！？", "🙂🙂"]


@pytest.mark.parametrize("query", AROUND_ONE_WORD + OTHER_SYNTAX)
@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
def test_fts_syntax_and_punctuation_never_crash(small_kb, query, mode):
    before = small_kb.count()
    try:
        hits = small_kb.search(query, k=5, mode=mode)
    except InputError as exc:
        assert str(exc)  # a message the user can act on
    else:
        assert isinstance(hits, list) and len(hits) <= 5
        if query in AROUND_ONE_WORD and mode != "semantic":
            assert ZHUZHOU in refs(hits)
    assert small_kb.count() == before


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_filtered_query_returns_k_hits_when_k_records_match(small_kb, mode):
    hunan = [r for r in small_kb.records(Filters(province="湖南省"))]
    assert len(hunan) >= 10
    hits = small_kb.search("海关通关", k=10, mode=mode, province="湖南")
    assert len(hits) == 10 and all(h.record.province == "湖南省" for h in hits)
    hits = small_kb.search("海关通关", k=2, mode=mode, region="长沙")
    assert len(hits) == 2 and {h.record.region for h in hits} == {"长沙市"}


def test_filtered_keyword_query_returns_k_hits_when_k_records_match(small_kb):
    hits = small_kb.search("压缩", k=3, mode="keyword", province="湖南")
    assert len(hits) == 3 and all("压缩" in h.record.text for h in hits)


# -- the dev set ---------------------------------------------------------------------------------------
EVAL = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


@pytest.mark.slow
@pytest.mark.skipif(not (EVAL / "corpus.jsonl").exists(), reason="retrieval dev set not present")
def test_dev_set_quality_target(tmp_path):
    from bench.quality import evaluate

    results = evaluate(EVAL, tmp_path / "eval-kb")
    ndcg = {mode: res["ALL"]["ndcg"] for mode, res in results.items()}
    assert ndcg["hybrid"] >= 0.86, ndcg  # 0.870 with the domain adapter (0.854 without)
    assert ndcg["hybrid"] > ndcg["keyword"] and ndcg["hybrid"] > ndcg["semantic"], ndcg
    for kind, row in results["hybrid"].items():
        if kind != "ALL" and row["n"] >= 5:
            # On keyword queries hybrid ties keyword mode (0.9588 against 0.9591 with the adapter, a mean
            # over 16 queries); it may not fall behind by more than 0.005.
            assert row["ndcg"] > results["keyword"][kind]["ndcg"] - 0.005, kind
            assert row["ndcg"] > results["semantic"][kind]["ndcg"], kind
