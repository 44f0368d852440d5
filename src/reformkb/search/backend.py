"""Search over one knowledge base: the store's keyword index and the vector index, fused.

:class:`Searcher` answers :meth:`KnowledgeBase.search`, ``similar`` and ``near_duplicates``;
:class:`SearchBackend` is what :func:`reformkb.search.fusion.rank` needs for one search's filters.
"""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from reformkb.errors import InputError
from reformkb.ingest.enrich import place_filter
from reformkb.ingest.regions import Gazetteer, normalize
from reformkb.ingest.topics import nearest_topic, normalize_topic
from reformkb.records import KIND_PRACTICE, Record
from reformkb.search import relevance
from reformkb.search.fusion import (
    MODES,
    Filters,
    Hit,
    corrected_query,
    fts_phrase,
    matched_terms,
    parse_query,
    rank,
)
from reformkb.search.glossary import Glossary
from reformkb.search.keeper import IndexKeeper
from reformkb.settings import Settings
from reformkb.store import Store

# A search of practices only (the default) in a knowledge base that also holds a few records of
# another kind (【战斗动态】) fetches that many more hits on each side and drops them, instead of
# restricting both sides to an id list of every practice (built per query: O(n) at 1M records).
# Above this many other-kind records, the id list it is.
EXCLUDE_MAX = 2_000


class SearchBackend:
    """What :func:`reformkb.search.fusion.rank` needs, over one knowledge base with one search's filters."""

    def __init__(self, searcher: "Searcher", filters: Filters, dense: bool):
        self.searcher, self.store, self.filters = searcher, searcher.store, filters
        self.excluded: set[int] = set()
        if filters.kind and not filters.restricts:
            others = self.store.ids_of_other_kinds(filters.kind, limit=EXCLUDE_MAX + 1)
            if len(others) <= EXCLUDE_MAX:
                self.excluded, self.filters = set(others), replace(filters, kind="")
        self.where, self.params = self.filters.sql()
        self._allowed_set: set[int] | None = None
        self._size_bound: int | None = None
        if dense:
            self.index = searcher.keeper.sync()
            own = self.filters.sql(alias="")
            self.allowed = self.store.ids(*own) if own[0] else None

    def lexical(self, match: str, limit: int, weights: tuple[float, float]) -> list[tuple[int, float]]:
        found = self.store.fts(match, self.where, self.params, limit + len(self.excluded), weights=weights)
        return [hit for hit in found if hit[0] not in self.excluded][:limit]

    def dense(self, vector: np.ndarray, limit: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        if within is not None:
            if self.allowed is not None:
                if self._allowed_set is None:
                    self._allowed_set = set(self.allowed)
                within = [i for i in within if i in self._allowed_set]
            return self.index.search(vector, limit, [i for i in within if i not in self.excluded])
        found = self.index.search(vector, limit + len(self.excluded), self.allowed)
        return [hit for hit in found if hit[0] not in self.excluded][:limit]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.searcher.keeper.embedder.embed_queries(texts)

    def expression_vectors(self, texts: list[str]) -> np.ndarray:
        return self.searcher.keeper.expression_vectors(texts)

    def postings(self, column: str, token: str, cap: int) -> int:
        return self.searcher.postings(column, token, cap, self.size_bound())

    def size_bound(self) -> int:
        if self._size_bound is None:
            self._size_bound = self.store.max_id()
        return self._size_bound

    def vectors(self, ids: list[int]) -> list[np.ndarray]:
        return [v for v in (self.index.vector(i) for i in ids) if v is not None]

    def vectors_by_id(self, ids: list[int]) -> dict[int, np.ndarray]:
        return {i: v for i, v in ((i, self.index.vector(i)) for i in ids) if v is not None}

    def text(self, record_id: int) -> str:
        rec = self.store.get_many([record_id]).get(record_id)
        return f"{rec.title} {rec.text}" if rec else ""

    def in_regions(self, regions) -> list[int]:
        names = [r.name for r in regions]
        marks = ",".join("?" for _ in names)
        where = f"(region IN ({marks}) OR county IN ({marks}) OR city IN ({marks}) OR province IN ({marks}))"
        own, params = self.filters.sql(alias="")
        return self.store.ids(f"{where} AND {own}" if own else where, names * 4 + params)


class Searcher:
    """Keyword, semantic and hybrid search over a store and its vector index."""

    def __init__(self, store: Store, keeper: IndexKeeper, settings: Settings, glossary: Glossary):
        self.store, self.keeper, self.settings, self.glossary = store, keeper, settings, glossary
        self._lock = threading.Lock()
        self._postings_cache: tuple[int, dict] = (0, {})

    def search(self, query: str, k: int, mode: str, filters: Filters, as_typed: bool = False) -> list[Hit]:
        """The k best records for ``query`` (see :meth:`KnowledgeBase.search`)."""
        if mode not in MODES:
            raise InputError(f"未知的检索方式“{mode}”：可选 hybrid（智能）、keyword（关键词）、semantic（语义）。")
        q = parse_query(query, self.settings.max_query_chars, self.glossary)
        k = max(1, min(int(k), 1000))
        backend = SearchBackend(self, filters, dense=mode != "keyword")
        if not as_typed:
            q = corrected_query(q, backend, self.glossary)
        ranked = rank(q, mode, k, backend)[:k]
        found = self.store.get_many([s.id for s in ranked])
        ranked = [s for s in ranked if s.id in found]
        texts = [f"{found[s.id].title} {found[s.id].text}" for s in ranked]
        sigs = relevance.signals(q, ranked, texts)
        hits = [Hit(found[s.id], s.score, s.lexical, s.semantic,
                    matched_terms(q, found[s.id].title + found[s.id].text), s.boost,
                    relevance=g, relevance_p=p, signals=sig, searched_as=q.text if q.typed else "")
                for s, sig, (g, p) in zip(ranked, sigs, relevance.grade(sigs, mode, embedding_model=self.keeper.model_key))]
        if mode != "keyword" and any(not h.record.topics for h in hits):  # keyword search loads no model
            for hit, topic in zip(hits, self.suggest_topics([h.record for h in hits])):
                hit.suggested_topic = topic
        return hits

    def suggest_topics(self, records: list[Record]) -> list[str]:
        """For each record without topics, the topic the model finds nearest ("" for records that have
        topics): the record's stored vector (or its text embedded and cached) against the topic texts.
        A suggestion, shown as such; it is not stored."""
        out = [""] * len(records)
        bare = [i for i, r in enumerate(records) if not r.topics]
        if not bare:
            return out
        index = self.keeper.sync(save=False)
        stored = {i: index.vector(records[i].id) for i in bare if records[i].id is not None}
        missing = [i for i in bare if stored.get(i) is None]
        if missing:
            stored.update(zip(missing, self.keeper.vectors_for([records[i] for i in missing])))
        sims = self.keeper.topic_vectors() @ np.vstack([stored[i] for i in bare]).T
        for col, i in enumerate(bare):
            out[i] = nearest_topic(sims[:, col].tolist())
        return out

    def postings(self, column: str, token: str, cap: int, bound: int) -> int:
        """Records holding ``token`` in ``column`` (up to ``cap``), remembered until the knowledge base
        (``bound``: its largest id) grows or shrinks by a tenth: the keyword side only needs them
        roughly, to bound its cost."""
        with self._lock:
            stale = not (0.9 * self._postings_cache[0] <= bound <= 1.1 * self._postings_cache[0])
            if stale or len(self._postings_cache[1]) > 100_000:  # a long-running app: keep it small
                self._postings_cache = (bound, {})
            counts = self._postings_cache[1]
            key = (column, token, cap)
        if key not in counts:
            counts[key] = self.store.fts_count(f"{column} : {fts_phrase(token)}", cap)
        return counts[key]

    def similar(self, record_id: int, k: int, other_regions: bool) -> list[Hit]:
        """The practices most like record ``record_id`` (by default from other regions)."""
        rec = self.store.get(int(record_id))
        index = self.keeper.sync()
        vec = index.vector(rec.id)
        if vec is None:
            vec = self.keeper.vectors_for([rec])[0]
        hits = index.search(vec, k * 4 + 1)
        found = self.store.get_many([rid for rid, _ in hits])
        out = []
        for rid, s in hits:
            other = found.get(rid)
            if other is None or rid == rec.id or other.kind != KIND_PRACTICE:
                continue
            if other_regions and other.region == rec.region:
                continue
            out.append(Hit(other, s, None, s, [], relevance="related"))  # no calibrated grade for similar
            if len(out) == k:
                break
        return out

    def near_duplicates(self, text: str, k: int, threshold: float,
                        exclude: int | None = None) -> list[tuple[Record, float]]:
        """Stored records that say nearly the same as ``text``, with their cosine similarity."""
        index = self.keeper.sync()
        vec = self.keeper.embedder.embed_documents([text])[0]
        hits = [(rid, s) for rid, s in index.search(vec, k + 1) if s >= threshold and rid != exclude][:k]
        found = self.store.get_many([rid for rid, _ in hits])
        return [(found[rid], s) for rid, s in hits if rid in found]

def search_filters(filters: Filters | None, kwargs: dict, gaz: Gazetteer) -> Filters:
    """A search's :class:`~reformkb.search.fusion.Filters` (given, or built from keywords) with its place
    and topic normalized: a region filter takes in the counties and zones below it. InputError for an
    unknown filter name, a filter that is not text, or an unknown place or topic."""
    try:
        filters = filters or Filters(**kwargs)
    except TypeError:
        raise InputError(f"未知的筛选条件：{'、'.join(kwargs)}（可用 province、region、topic、source、"
                         "date_from、date_to、kind）。") from None
    filters.sql()  # InputError for a filter that is not usable text
    if filters.province:
        filters.province = normalize(filters.province, gaz).province
    if filters.region:
        filters.region, province, city = place_filter(filters.region, gaz)
        filters.province, filters.city = filters.province or province, filters.city or city
    if filters.topic:
        filters.topic = normalize_topic(filters.topic)
    return filters
