"""The keyword side's cost bound (search.affordable_terms) and the practices-only shortcut."""
from __future__ import annotations

import pytest

from reformkb.search import fusion as search
from reformkb.search.fusion import affordable_terms, parse_query


class Counts:
    """A stand-in backend: token → records holding it, and how often it was asked."""

    def __init__(self, counts: dict[str, int], size: int):
        self.counts, self.size, self.asked = counts, size, []

    def postings(self, column, token, cap):
        self.asked.append(token)
        return min(self.counts.get(token, 0), cap)

    def size_bound(self):
        return self.size


TERMS = [("words", "企业"), ("words", "注销"), ("grams", "注销 销登 登记"), ("words", "提速"), ("words", "时间")]
COUNTS = {"企业": 70_000, "注销": 4_000, "销登": 3_000, "登记": 30_000, "提速": 0, "时间": 56_000}


def test_cheapest_terms_are_kept_within_the_budget_in_query_order():
    kept = affordable_terms(TERMS, Counts(COUNTS, 100_000), budget=50_000)
    # costs: 提速 0, 注销 4k, the phrase 4k+3k+30k = 37k, 时间 56k, 企业 70k
    assert kept == [("words", "注销"), ("grams", "注销 销登 登记"), ("words", "提速")]
    kept = affordable_terms(TERMS, Counts(COUNTS, 100_000), budget=10_000)
    assert kept == [("words", "注销"), ("words", "提速")]


def test_the_cheapest_term_is_kept_even_over_budget():
    kept = affordable_terms([("words", "企业"), ("words", "时间")], Counts(COUNTS, 100_000), budget=1_000)
    assert kept == [("words", "时间")]


def test_a_small_knowledge_base_drops_nothing_and_counts_nothing():
    backend = Counts(COUNTS, 40_000)
    assert affordable_terms(TERMS, backend, budget=50_000) == TERMS
    assert backend.asked == []


def test_a_tiny_budget_still_finds_the_practice(seeded_kb, monkeypatch):
    """With the budget below the seed's size, common terms are dropped and the rare one still finds
    长沙's deregistration practice; the full expression is what the search would have used before."""
    monkeypatch.setattr(search, "POSTINGS_BUDGET", 3)
    q = parse_query("企业注销提速", 500, seeded_kb.glossary)
    hits = seeded_kb.search("企业注销提速", k=5, mode="keyword")
    assert hits and hits[0].record.region == "长沙市"
    from reformkb.search.backend import SearchBackend as _SearchBackend
    from reformkb.search.fusion import Filters

    kept = affordable_terms(q.fts_terms(), _SearchBackend(seeded_kb.searcher, Filters(), dense=False))
    assert 0 < len(kept) < len(q.fts_terms())
    assert ("words", "企业") not in kept  # in most of the seed's records


@pytest.mark.parametrize("query", ["企业", "营商环境 企业"])
def test_queries_of_common_words_still_answer(seeded_kb, monkeypatch, query):
    monkeypatch.setattr(search, "POSTINGS_BUDGET", 3)
    assert seeded_kb.search(query, k=5, mode="keyword")


def _statements(kb, action) -> list[str]:
    seen: list[str] = []
    kb.store.db.conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        kb.store.db.conn.set_trace_callback(None)
    return seen


def test_a_search_reads_no_whole_table_when_nothing_changed(seeded_kb):
    """Counting the records (a scan: 10 ms at 1M records) happens only when the change log moved."""
    seeded_kb.search("企业注销提速")
    again = _statements(seeded_kb, lambda: seeded_kb.search("企业注销提速"))
    assert not [s for s in again if "count(*) FROM records" in s]
    write = _statements(seeded_kb, lambda: seeded_kb.add(
        {"region": "长沙市", "text": "长沙市推行企业注销一件事集成办理，材料减少一半。"}, check_duplicates=False))
    assert any("count(*) FROM records" in s for s in write)  # the index update after a write still checks


def test_a_region_filter_is_answered_from_indexes(seeded_kb):
    from reformkb.search.fusion import Filters

    where, params = Filters(region="长沙市").sql(alias="")
    plan = " ".join(str(row[-1]) for row in seeded_kb.store.db.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT id FROM records WHERE {where}", params))
    assert "idx_records_region" in plan and "idx_records_city" in plan and "SCAN records" not in plan
