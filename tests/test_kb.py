"""The knowledge base through its facade: import, duplicates, search in every mode, edits, index recovery."""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import SEED, make_kb

from reformkb.errors import InputError
from reformkb.records import KIND_PRACTICE
from reformkb.search.embedding import model_key
from reformkb.settings import Settings

SEED_REGIONS = {"长沙市": "湖南省", "株洲市": "湖南省", "衡阳市": "湖南省", "邵阳市": "湖南省", "益阳市": "湖南省",
                "海南省": "海南省", "湖北省": "湖北省", "深圳市": "广东省", "温州市": "浙江省", "濮阳市": "河南省",
                "哈尔滨市": "黑龙江省", "梅州市": "广东省"}
NEW_CASE = "苏州市推行“企业开办一日办结”，开办企业全流程压缩至1个工作日，免费刻制公章。"


def snapshot(kb) -> list[tuple]:
    return [(r.id, r.content_hash, r.updated_at) for r in kb.records()]


def test_default_content_and_regions(seeded_kb):
    regions = {r.region: (r.province, r.count) for r in seeded_kb.regions()}
    assert {name: prov for name, (prov, _) in regions.items()} == SEED_REGIONS
    assert regions["衡阳市"][1] == 4 and regions["深圳市"][1] == 3
    assert seeded_kb.count() == 30


def test_record_fields_from_seed(seeded_kb):
    changsha = seeded_kb.search("无证明城市", k=1, mode="keyword")[0].record
    assert changsha.region == "长沙市" and changsha.province == "湖南省" and changsha.city == "长沙市"
    assert changsha.title == "无证明城市"
    assert "企业注销" in changsha.topics
    assert changsha.source.title == "永州市打好优化发展环境持久仗工作专报"
    assert changsha.source.issue == "2" and changsha.source.date == "2023-03-18"
    assert changsha.source.section == "战术借鉴"
    reduction = next(m for m in changsha.metrics if m["kind"] == "reduction")
    assert (reduction["before"], reduction["after"], reduction["reduction_pct"]) == (20, 0.5, 97.5)
    assert "97.5%" in reduction["badge"]
    court = seeded_kb.search("智慧破产", k=1, mode="keyword")[0].record
    assert court.region == "衡阳市" and court.agency == "市中级人民法院"


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "semantic"])
def test_deregistration_query_ranks_changsha_first(seeded_kb, mode):
    hits = seeded_kb.search("企业注销提速", k=5, mode=mode)
    assert hits[0].record.region == "长沙市"


def test_paraphrase_finds_changsha_in_top3(seeded_kb):
    hits = seeded_kb.search("公司不开了怎么快速办完手续", k=3)
    assert "长沙市" in [h.record.region for h in hits]


def test_keyword_search_is_robust_to_segmentation(seeded_kb):
    assert {h.record.region for h in seeded_kb.search("深圳", mode="keyword")} == {"深圳市"}
    hit = seeded_kb.search("注销", mode="keyword")[0]
    assert hit.record.region == "长沙市" and "企业注销" in hit.matched


def test_filters(seeded_kb):
    hits = seeded_kb.search("营商环境", k=10, region="衡阳")
    assert len(hits) == 4 and {h.record.region for h in hits} == {"衡阳市"}
    hits = seeded_kb.search("营商环境", k=10, province="广东")
    assert {h.record.region for h in hits} == {"深圳市", "梅州市"}
    assert all("办理破产" in h.record.topics for h in seeded_kb.search("改革", topic="办理破产"))
    with pytest.raises(InputError, match="未知地区"):
        seeded_kb.search("营商环境", region="火星市")


def test_actions_are_searched_only_when_asked(seeded_kb):
    from reformkb.search.fusion import Filters

    default = seeded_kb.search("冷水滩区", k=30, mode="keyword")
    assert all(h.record.kind == KIND_PRACTICE for h in default)
    everything = seeded_kb.search("冷水滩区", k=30, mode="keyword", filters=Filters(kind=""))
    assert any(h.record.region == "冷水滩区" for h in everything)


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_dropping_a_few_actions_ranks_like_restricting_to_practices(seeded_kb, monkeypatch, mode):
    """Practices-only search drops the 12 action records from over-fetched lists; with the threshold
    at 0 it restricts both sides to the practices' ids instead. Both must give the same ranking."""
    import reformkb.search.backend as kb_module

    for query in ("冷水滩区 企业", "企业注销提速", "老百姓办事不用再开证明"):
        dropped = [(h.record.id, round(h.score, 6)) for h in seeded_kb.search(query, k=20, mode=mode)]
        monkeypatch.setattr(kb_module, "EXCLUDE_MAX", 0)
        restricted = [(h.record.id, round(h.score, 6)) for h in seeded_kb.search(query, k=20, mode=mode)]
        monkeypatch.setattr(kb_module, "EXCLUDE_MAX", 2_000)
        assert dropped == restricted and dropped
        assert all(seeded_kb.get(rid).kind == KIND_PRACTICE for rid, _ in dropped)


def test_reimport_adds_nothing(seeded_kb):
    before = snapshot(seeded_kb)
    report = seeded_kb.import_files([SEED])
    assert report.added == [] and len(report.duplicates) == 30
    assert snapshot(seeded_kb) == before


def test_metrics_stored_by_an_older_reader_are_read_again_on_open(seeded_copy):
    import sqlite3

    def stored(record_id):
        with sqlite3.connect(seeded_copy / "reformkb.db") as conn:
            return conn.execute("SELECT metrics, best_reduction FROM records WHERE id = ?", (record_id,)).fetchone()

    def write(sql, *params):
        conn = sqlite3.connect(seeded_copy / "reformkb.db")
        with conn:
            conn.execute(sql, params)
        conn.close()

    with make_kb(seeded_copy) as kb:
        rec = next(r for r in kb.records() if any(m.get("reduction_pct") for m in r.metrics))
        right = stored(rec.id)
    assert right[1] is not None
    with sqlite3.connect(seeded_copy / "reformkb.db") as conn:
        changes = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    write("UPDATE records SET metrics = '[]', best_reduction = NULL WHERE id = ?", rec.id)
    with make_kb(seeded_copy) as kb:  # read by this version: opening does not read every record again
        assert kb.get(rec.id).metrics == []
    write("UPDATE meta SET value = 'an-older-reader' WHERE key = 'metrics_version'")
    with make_kb(seeded_copy) as kb:
        assert kb.get(rec.id).metrics == rec.metrics
    assert stored(rec.id) == right
    with sqlite3.connect(seeded_copy / "reformkb.db") as conn:
        assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] == changes  # no edit: nothing logged


def test_refused_import_changes_nothing(seeded_kb, tmp_path):
    before = snapshot(seeded_kb)
    bad = tmp_path / "无借鉴.txt"
    bad.write_text("某市工作专报\n【战斗动态】\n召开会议。", encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    report = seeded_kb.import_files([bad, binary])
    assert [what for what, _ in report.refused] == ["无借鉴.txt", "binary.txt"]
    assert "战术借鉴" in report.refused[0][1]
    assert snapshot(seeded_kb) == before


def test_add_is_searchable_at_once_in_every_mode(seeded_kb):
    rec, near = seeded_kb.add({"text": NEW_CASE})
    assert rec.region == "苏州市" and rec.province == "江苏省" and near == []
    for mode in ("hybrid", "keyword", "semantic"):
        assert seeded_kb.search("企业开办一日办结", k=3, mode=mode)[0].record.id == rec.id


def test_exact_duplicate_refused_and_near_duplicate_reported(seeded_kb):
    changsha = seeded_kb.search("无证明城市", k=1, mode="keyword")[0].record
    with pytest.raises(InputError, match="已经在知识库中"):
        seeded_kb.add({"text": changsha.text, "region": "长沙"})
    near_text = changsha.text.replace("目前", "截至目前")
    _, near = seeded_kb.add({"text": near_text})
    assert near and near[0][0].id == changsha.id and near[0][1] > 0.9


def test_edit_replaces_old_text_in_every_mode(seeded_kb):
    target = seeded_kb.search("中标贷", k=1, mode="keyword")[0].record
    seeded_kb.edit(target.id, text="梅州市推行“政采贷”，供应商凭政府采购合同即可线上申请融资。")
    for mode in ("hybrid", "keyword", "semantic"):  # the old text's words no longer lead to it
        old = seeded_kb.search("无需抵押担保", k=3, mode=mode)
        assert all("抵押担保" not in h.record.text for h in old)
    assert target.id not in [h.record.id for h in seeded_kb.search("无需抵押担保", mode="keyword")]
    for mode in ("hybrid", "keyword", "semantic"):
        hit = seeded_kb.search("政采贷 政府采购合同融资", k=1, mode=mode)[0]
        assert hit.record.id == target.id and "中标通知书" not in hit.record.text
    assert seeded_kb.get(target.id).title != target.title


def test_delete_removes_from_every_mode(seeded_kb):
    target = seeded_kb.search("无证明城市", k=1, mode="keyword")[0].record
    seeded_kb.delete(target.id)
    for mode in ("hybrid", "keyword", "semantic"):
        assert target.id not in [h.record.id for h in seeded_kb.search("无证明城市 企业注销", k=30, mode=mode)]
    assert target.id not in [h.record.id for h in seeded_kb.similar(seeded_kb.records()[0].id, k=30, other_regions=False)]
    restored = seeded_kb.restore(target.id)
    assert seeded_kb.search("无证明城市", k=1)[0].record.id == restored.id == target.id


def test_deleted_index_is_rebuilt(seeded_kb):
    seeded_kb.search("中标贷", k=1)  # builds and saves the index
    home = seeded_kb.settings.home
    seeded_kb.close()
    shutil.rmtree(home / "index")
    kb = make_kb(home)
    assert kb.search("中标贷", k=1, mode="semantic")[0].record.region == "梅州市"
    assert kb.index_status()["fresh"]
    kb.close()


@pytest.mark.parametrize("damage", ["truncate", "zero", "lying_manifest"])
def test_damaged_index_is_detected_and_rebuilt(seeded_kb, damage):
    seeded_kb.search("中标贷", k=1)
    home = seeded_kb.settings.home
    seeded_kb.close()
    manifest_path = next((home / "index").glob("*.json"))
    manifest = json.loads(manifest_path.read_text())
    index_file = home / "index" / f"{manifest_path.stem}.{manifest['generation']}.faiss"
    if damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[:1000])
    elif damage == "zero":
        index_file.write_bytes(b"")
    else:
        manifest["count"] += 5
        manifest_path.write_text(json.dumps(manifest))
    kb = make_kb(home)
    hits = kb.search("中标贷", k=3, mode="semantic")
    assert hits[0].record.region == "梅州市"
    assert len({h.record.id for h in hits}) == 3
    kb.close()


def test_index_picks_up_writes_of_another_instance(seeded_kb):
    seeded_kb.search("中标贷", k=1)
    other = make_kb(seeded_kb.settings.home)
    rec, _ = other.add({"text": NEW_CASE})
    other.close()
    assert seeded_kb.search("企业开办一日办结", k=1, mode="semantic")[0].record.id == rec.id


def test_switching_model_reembeds_only_what_it_must(seeded_kb, tmp_path):
    home = seeded_kb.settings.home
    default_model = seeded_kb.settings.model
    default_key = model_key(default_model)  # the default model's vectors are keyed with its adapter's version
    seeded_kb.search("中标贷", k=1)
    n = seeded_kb.count()
    seeded_kb.close()
    # A second model: the same weights under another directory name (a different cache key).
    other_dir = tmp_path / "other-model"
    shutil.copytree(seeded_kb.settings.models_dir / default_model, other_dir)
    from reformkb.kb import KnowledgeBase

    kb_b = KnowledgeBase(settings=Settings.default(home, model=str(other_dir)))
    kb_b.search("中标贷", k=1)
    assert kb_b.store.vector_count(str(other_dir)) == n  # every record embedded once for the new model
    kb_b.add({"text": NEW_CASE})
    kb_b.close()
    kb_a = KnowledgeBase(settings=Settings.default(home))
    assert kb_a.store.vector_count(default_key) == n  # nothing re-embedded for the old model yet
    assert kb_a.search("企业开办一日办结", k=1)[0].record.region == "苏州市"
    assert kb_a.store.vector_count(default_key) == n + 1  # only the record added meanwhile
    kb_a.close()


def test_export_formats_round_trip(seeded_kb, tmp_path, empty_kb):
    records = seeded_kb.records()
    for fmt in ("csv", "jsonl", "xlsx"):
        path = seeded_kb.export(records, tmp_path / f"out.{fmt}")
        assert path.stat().st_size > 1000
    report = empty_kb.import_files([tmp_path / "out.jsonl"])
    assert len(report.added) == 30 and report.refused == []
    fields = ("region", "province", "agency", "title", "text", "topics", "metrics", "kind", "source")
    original = {r.content_hash: r for r in records}
    for rec in empty_kb.records():
        assert all(getattr(rec, f) == getattr(original[rec.content_hash], f) for f in fields)
    report = empty_kb.import_files([tmp_path / "out.csv"])
    assert report.added == [] and len(report.duplicates) == 30


def test_stats(seeded_kb):
    seeded_kb.search("中标贷", k=1)
    stats = seeded_kb.stats()
    assert stats["practices"] == 18 and stats["actions"] == 12 and stats["regions"] == 12
    assert stats["index_type"] == "flat" and stats["indexed"] == 30 and stats["fresh"]


def test_large_knowledge_base_uses_the_approximate_index(seeded_kb):
    from reformkb.kb import KnowledgeBase

    home = seeded_kb.settings.home
    seeded_kb.close()
    kb = KnowledgeBase(settings=Settings.default(home, exact_index_max=10))
    assert kb.search("中标贷", k=1, mode="semantic")[0].record.region == "梅州市"
    assert kb.index_status()["index_type"] == "ivf" and kb.index_status()["fresh"]
    target = kb.search("无证明城市", k=1)[0].record
    kb.delete(target.id)
    assert target.id not in [h.record.id for h in kb.search("无证明城市 企业注销", k=30, mode="semantic")]
    assert len(kb.search("营商环境", k=3, region="衡阳", mode="semantic")) == 3
    kb.close()
