"""Keyword, semantic and hybrid search, and their fusion: every ranking knob lives here.

**Query understanding** (:func:`parse_query`). The query is normalized (NFKC, traditional-only
characters to simplified, control characters out), cut into content words (jieba with the domain
dictionary) and character bigrams, matched against the glossary (each evoked group is a
:class:`~reformkb.search.glossary.Concept`), and scanned for place names (长沙, 湖南省 …). Unless the
search is ``as_typed``, homophone typos are then corrected against the records' own bigrams
(:func:`corrected_query`, :mod:`reformkb.search.homophones`: 企业住销 is searched as 企业注销 in every
mode, and :attr:`Hit.searched_as` says so).

**Keyword search** runs SQLite FTS5 over two views of each record (jieba words and character bigrams,
see :mod:`reformkb.search.segment`), ranked by BM25 with column weights :data:`WORDS_WEIGHT` and
:data:`GRAMS_WEIGHT`. The MATCH expression ORs the query's words, its bigrams and, as phrases, the
other terms of every glossary group it evokes, so "公司不开了" also finds "企业注销". Every term is
quoted: user text is never FTS syntax.

**Semantic search** embeds the query (e5 "query: " prompt) and asks the vector index for the nearest
records. On its own (``mode="semantic"``) it uses the query as typed (after the homophone check).

**Hybrid search** (:func:`rank`) is what users get by default. Plain reciprocal-rank fusion barely
beats dense retrieval alone and lets BM25's noise (an English query over Chinese text, a typo, a
colloquial paraphrase) drag good dense results down. Instead:

1. *Dense side.* When the query evokes glossary groups whose standard expression it does not use,
   the query vector is moved toward those expressions' vectors (``q + STANDARD_WEIGHT × mean``,
   renormalized): "公司不开了怎么办手续" is moved toward "企业注销". The expressions' vectors are
   embedded once per process and kept, so a query costs one embedding either way.
2. *Score scaling.* Each side brings :data:`CANDIDATES` candidates. Cosines are min-max scaled to
   [0, 1] over the dense candidates (e5 cosines crowd into 0.8–0.95, so raw values say little);
   BM25 scores are divided by the best one (so a second lexical hit that scores 40 % of the first
   keeps 0.4, even when there are only two).
3. *Query-aware lexical weight.* The lexical part is weighted by :data:`LEXICAL_WEIGHT` times the
   query's *lexical confidence*: the share of its content words that the best lexical hit contains
   (a word counts as contained when the hit uses any expression of a glossary group the word
   belongs to). An English or misspelled query, whose words are not in the records, gets (nearly)
   dense ranking; a query whose words are all found gets a true blend.
   ``fused = semantic_scaled + LEXICAL_WEIGHT × confidence × lexical_scaled (+ region boost)``.
4. *Pseudo-relevance feedback.* The query vector is moved toward the mean vector of the
   :data:`FEEDBACK_DOCS` best fused records (``q' = q + FEEDBACK_WEIGHT × mean``, renormalized), the
   dense side is searched again with it and the fusion repeated. The records' vectors come from the
   index: no extra embedding.
5. *Place names.* A query that names a region (长沙, 湖南省) lifts records of that region (or of a
   city or county in that province) by :data:`REGION_BOOST`; the region's records are also searched
   densely so that they are candidates even in a large knowledge base.

**Relevance grades.** The first ``k`` hits also carry the cosine with the query as typed
(:class:`Scored` ``cosine``), from which :mod:`reformkb.search.relevance` grades each hit "strong",
"related" or "weak" (:attr:`Hit.relevance`); :func:`answers` keeps the strong and related ones.

Knob values and how they were chosen (including a check that they hold on held-out queries) are in
``docs/search-quality.md``; ``python -m bench.quality`` reproduces the figures.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from reformkb.errors import InputError
from reformkb.ingest.regions import Region, gazetteer
from reformkb.records import KIND_PRACTICE, Record, check_encoding, has_content
from reformkb.search import homophones
from reformkb.search.glossary import Concept, Glossary
from reformkb.search.segment import bigrams, simplified, words

MODES = ("hybrid", "keyword", "semantic")
RELEVANCE_GRADES = ("strong", "related", "weak")  # Hit.relevance, best first
#: How each grade is named to users.
RELEVANCE_LABELS = {"strong": "高度相关", "related": "相关", "weak": "相关度较低"}
#: What to say when no hit is better than weak (the closest few may follow, below this line).
SEARCHED_AS = "检索词可能有同音错别字，已按“{}”检索。"  # Hit.searched_as, said by the page and the CLI
NOTHING_CLOSE = "没有找到高度相关的做法。下面是意思最接近的几条，仅供参考；可以换个更宽泛的说法再试。"

# -- the knobs (see the module docstring and docs/search-quality.md) ---------------------------------
CANDIDATES = 100  # hits each side contributes before fusion (at least 3 × k)
LEXICAL_WEIGHT = 1.0  # weight of the scaled BM25 score for a query whose words are all found
STANDARD_WEIGHT = 0.5  # how far an evoked glossary group's standard expression moves the query vector
FEEDBACK_DOCS = 2  # pseudo-relevance feedback: how many top fused records move the query vector
FEEDBACK_WEIGHT = 0.5  # ... and how far (0 turns feedback off)
REGION_BOOST = 0.3  # added to the fused score of records in a region the query names
WORDS_WEIGHT, GRAMS_WEIGHT = 1.0, 0.5  # BM25 column weights: jieba words, character bigrams
HOLDERS_CAP = 20  # homophone correction: records holding a bigram (or trigram) are counted up to this
POSTINGS_BUDGET = 50_000  # keyword side: summed document counts of the terms ranked (see affordable_terms)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


FILTER_MAX_CHARS = 200


@dataclass
class Filters:
    """Restrictions on what a search may return; empty fields restrict nothing."""

    province: str = ""
    region: str = ""
    city: str = ""  # with ``region``: the city of a county whose name another city's county bears too
    topic: str = ""
    source: str = ""
    date_from: str = ""
    date_to: str = ""
    kind: str = KIND_PRACTICE  # "" for every kind

    def sql(self, alias: str = "r") -> tuple[str, list]:
        """An SQL fragment over table ``alias`` and its parameters; InputError for an unusable filter."""
        labels = {"province": "省份", "region": "地区", "topic": "主题", "source": "来源", "date_from": "起始日期",
                  "date_to": "截止日期", "kind": "类别"}
        for name, label in labels.items():
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InputError(f"筛选条件“{label}”应为文字。")
            check_encoding(value, f"筛选条件“{label}”")
            if len(value) > FILTER_MAX_CHARS:
                raise InputError(f"筛选条件“{label}”超过 {FILTER_MAX_CHARS} 字：请缩短。")
        clauses, params = [], []
        p = f"{alias}." if alias else ""
        if self.kind:  # "+": the kind index would be a poor pick beside a region or date filter
            clauses.append(f"+{p}kind = ?")
            params.append(self.kind)
        if self.province:
            clauses.append(f"{p}province = ?")
            params.append(self.province)
        if self.region:
            clauses.append(f"({p}region = ? OR {p}city = ? OR {p}county = ?)")
            params += [self.region] * 3
        if self.city:
            clauses.append(f"{p}city = ?")
            params.append(self.city)
        if self.topic:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({p}topics) WHERE value = ?)")
            params.append(self.topic)
        if self.source:
            clauses.append(f"({p}source_title LIKE ? OR {p}source_file LIKE ?)")
            params += [f"%{self.source}%"] * 2
        if self.date_from:
            clauses.append(f"{p}source_date >= ?")
            params.append(self.date_from)
        if self.date_to:
            clauses.append(f"{p}source_date <= ? || '~'")
            params.append(self.date_to)
        return " AND ".join(clauses), params

    @property
    def restricts(self) -> bool:
        return any((self.province, self.region, self.city, self.topic, self.source, self.date_from, self.date_to))


@dataclass
class Hit:
    """One search result with the parts of its score and the terms to highlight.

    ``score`` is the fused score the results are ordered by. In hybrid mode it is
    ``semantic part + lexical part + boost`` (see the module docstring); ``lexical`` and ``semantic``
    are the two sides' own measures, ``None`` where that side did not find the record.
    ``relevance`` is the hit's grade, one of :data:`RELEVANCE_GRADES`: "strong" (answers the query),
    "related" (near it) or "weak" (only the closest there is: not shown or exported as an answer).
    """

    record: Record
    score: float
    lexical: float | None = None  # BM25 relative to the best lexical hit of this query (0–1]
    semantic: float | None = None  # cosine similarity of the (final) query vector and the record's
    matched: list[str] = field(default_factory=list)
    boost: float = 0.0  # region boost included in ``score``
    relevance: str = "related"  # "strong" | "related" | "weak": the calibrated grade (see relevance.py)
    relevance_p: float | None = None  # the calibrated probability behind it (None: not calibrated)
    signals: dict = field(default_factory=dict, repr=False)  # what the grade was computed from
    suggested_topic: str = ""  # for a record without topics: the nearest topic by the model (a suggestion)
    searched_as: str = ""  # the query as searched, when it was the homophone correction of what was typed

    def to_dict(self) -> dict:
        return {"score": round(self.score, 4), "relevance": self.relevance,
                "relevance_p": None if self.relevance_p is None else round(self.relevance_p, 3),
                "suggested_topic": self.suggested_topic, "searched_as": self.searched_as,
                "lexical": None if self.lexical is None else round(self.lexical, 4),
                "semantic": None if self.semantic is None else round(self.semantic, 4),
                "boost": round(self.boost, 4),
                "matched": self.matched, **self.record.to_dict()}


def answers(hits: Sequence[Hit], include_weak: bool = False) -> list[Hit]:
    """The hits to present as answers (exports, report text): strong and related ones, in rank order
    (every hit with ``include_weak``)."""
    return [h for h in hits if include_weak or h.relevance != "weak"]


def fts_phrase(text: str) -> str:
    """``text`` as a quoted FTS5 phrase: user text is never FTS syntax."""
    return '"' + text.replace('"', '""') + '"'


@dataclass
class Query:
    """A query after normalization: its text, content words, bigrams, glossary concepts and places."""

    text: str
    words: list[str]
    grams: list[str]
    concepts: list[Concept] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    typed: str = ""  # the query as typed, when ``text`` is its homophone correction (corrected_query)

    @property
    def expansions(self) -> list[str]:
        """The evoked groups' other terms, not already in the query (searched for as well)."""
        low = self.text.lower()
        out: list[str] = []
        for concept in self.concepts:
            out.extend(t for t in concept.others if t.lower() not in low and t not in out)
        return out

    @property
    def standards(self) -> list[str]:
        """Standard expressions of the evoked groups that the query does not already use."""
        low = self.text.lower()
        return list(dict.fromkeys(c.standard for c in self.concepts if c.standard.lower() not in low))

    def fts_terms(self) -> list[tuple[str, str]]:
        """(column, phrase) for every term the keyword side searches, in query order; a phrase is
        one token or several separated by spaces (a glossary expression cut into bigrams or words)."""
        word_terms = list(dict.fromkeys(self.words))
        gram_terms = list(dict.fromkeys(self.grams))
        for term in self.expansions:
            if _CJK.search(term):
                gram_terms.append(" ".join(bigrams(term)))
            else:
                word_terms.append(" ".join(words(term)))
        return ([("words", t) for t in dict.fromkeys(word_terms) if t]
                + [("grams", t) for t in dict.fromkeys(gram_terms) if t])

    def fts(self, terms: list[tuple[str, str]] | None = None) -> str:
        """The FTS5 MATCH expression over ``terms`` (default: all of them); "" when there is none.
        Every phrase is quoted: user text is never FTS syntax."""
        terms = self.fts_terms() if terms is None else terms
        parts = []
        for column in ("words", "grams"):
            own = [fts_phrase(t) for c, t in terms if c == column]
            if own:
                parts.append(f"{column} : (" + " OR ".join(own) + ")")
        return " OR ".join(parts)

    def highlight_terms(self) -> list[str]:
        """Words worth highlighting, longest first (single CJK characters left out)."""
        terms = [w for w in dict.fromkeys(self.words + self.expansions) if len(w) >= 2]
        return sorted(terms, key=len, reverse=True)


def parse_query(text: str, max_chars: int, glossary: Glossary | None = None) -> Query:
    """Normalize a user's query; InputError for an empty, punctuation-only or over-long one."""
    if not isinstance(text, str):
        raise InputError("检索词必须是文字。")
    check_encoding(text, "检索词")
    text = simplified(unicodedata.normalize("NFKC", text))
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).strip()
    if not text:
        raise InputError("请输入检索词，例如“企业注销提速”。")
    if len(text) > max_chars:
        raise InputError(f"检索词有 {len(text)} 字，超过上限 {max_chars} 字：请只写要找的做法的要点。")
    if not has_content(text):
        raise InputError("检索词里只有标点或符号：请输入要找的做法，例如“企业注销提速”。")
    concepts = glossary.concepts(text) if glossary is not None else []
    return Query(text, words(text), bigrams(text), concepts, gazetteer().find_all(text))


def corrected_query(q: Query, backend: "Backend", glossary: Glossary | None = None) -> Query:
    """``q`` with its homophone typos corrected against the records' own bigrams
    (:func:`reformkb.search.homophones.corrected`: 企业住销 is searched as 企业注销), else ``q`` itself.
    A character is changed only where one of its bigrams is held by no record; the typed text's other
    bigram at that place is given up with it (一件事一次办 → 一件时一次办 loses 件事), which is why every
    hit says what was searched."""
    fixed = homophones.corrected(q.text, lambda chars: backend.postings("grams", " ".join(bigrams(chars)), HOLDERS_CAP))
    if fixed == q.text:
        return q
    return replace(parse_query(fixed, len(fixed), glossary), typed=q.text)


def matched_terms(query: Query, text: str) -> list[str]:
    """The query's words (and expansions) that occur in ``text``, without ones inside a longer match."""
    found: list[str] = []
    low = text.lower()
    for term in query.highlight_terms():
        if term.lower() in low and not any(term.lower() in longer.lower() for longer in found):
            found.append(term)
    return found


def lexical_confidence(query: Query, best_text: str | None) -> float:
    """Share of the query's content words that the best lexical hit contains (0 without hits).

    Single characters are left out (mostly particles, or the pieces jieba leaves of a misspelled
    word). A word also counts as contained when it is part of a glossary term the query used and the
    hit contains any expression of that group. A query without such words is judged by its bigrams.
    """
    if not best_text:
        return 0.0
    units = [w for w in dict.fromkeys(query.words) if len(w) >= 2] or query.grams
    if not units:
        return 0.0
    low = best_text.lower()
    evoked = [c for c in query.concepts if any(t.lower() in low for t in (c.standard, *c.others, *c.used))]

    def contained(unit: str) -> bool:
        return unit in low or any(unit in t.lower() or t.lower() in unit for c in evoked for t in c.used)

    return sum(1 for u in units if contained(u)) / len(units)


def _scale(scores: dict[int, float]) -> dict[int, float]:
    """Min-max scaling to [0, 1] (all 1.0 when the scores are equal)."""
    if not scores:
        return {}
    top, low = max(scores.values()), min(scores.values())
    span = top - low
    return {i: (s - low) / span if span > 1e-9 else 1.0 for i, s in scores.items()}


@dataclass
class Scored:
    """A ranked record id with the parts of its score."""

    id: int
    score: float
    lexical: float | None = None
    semantic: float | None = None
    boost: float = 0.0
    cosine: float | None = None  # cosine with the query as typed (before expansion and feedback)


def fuse(lexical: Sequence[tuple[int, float]], semantic: Sequence[tuple[int, float]], confidence: float,
         boosted: set[int] | frozenset[int] = frozenset()) -> list[Scored]:
    """Hybrid ranking of two candidate lists ((id, bm25) and (id, cosine)), best first.

    ``fused = scaled cosine + LEXICAL_WEIGHT × confidence × bm25 / best bm25 (+ REGION_BOOST if boosted)``;
    ties go to the lower id, so the order is deterministic.
    """
    top = max((s for _, s in lexical), default=0.0)
    lex = {i: s / top for i, s in lexical} if top > 0 else {}
    sem_raw = dict(semantic)
    sem = _scale(sem_raw)
    w_lex = LEXICAL_WEIGHT * confidence
    out = []
    for rid in set(lex) | set(sem):
        boost = REGION_BOOST if rid in boosted else 0.0
        fused = sem.get(rid, 0.0) + w_lex * lex.get(rid, 0.0) + boost
        out.append(Scored(rid, fused, lex.get(rid), sem_raw.get(rid), boost))
    out.sort(key=lambda s: (-s.score, s.id))
    return out


class Backend(Protocol):
    """What ranking needs from a knowledge base (which applies the search's filters to all of it)."""

    def lexical(self, match: str, limit: int, weights: tuple[float, float]) -> list[tuple[int, float]]:
        """(id, bm25) for an FTS5 MATCH expression with these column weights (words, grams), best first."""

    def dense(self, vector: np.ndarray, limit: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        """(id, cosine) of the nearest records (only among ``within`` if given), best first."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of query texts, one row each (encoded together)."""

    def expression_vectors(self, texts: list[str]) -> np.ndarray:
        """Query vectors of glossary expressions, one row each (may be remembered between searches)."""

    def vectors(self, ids: list[int]) -> list[np.ndarray]:
        """The stored vectors of these records (those that have one)."""

    def vectors_by_id(self, ids: list[int]) -> dict[int, np.ndarray]:
        """id → stored vector, for the records of ``ids`` that have one."""

    def text(self, record_id: int) -> str:
        """Title and text of a record."""

    def in_regions(self, regions: list[Region]) -> list[int]:
        """Ids of the records located in any of these regions (or in a place inside one)."""

    def postings(self, column: str, token: str, cap: int) -> int:
        """How many records hold ``token`` in ``column``, counted up to ``cap`` (may be cached)."""

    def size_bound(self) -> int:
        """An upper bound of the number of records (cheap to get)."""


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def query_vector(q: Query, backend: Backend, own: np.ndarray | None = None) -> np.ndarray:
    """The query's vector for hybrid search: the query's own (``own`` if already embedded), moved
    toward the standard expressions of the glossary groups it evokes (if any)."""
    vector = backend.embed_queries([q.text])[0] if own is None else own
    if not q.standards:
        return vector
    return _unit(vector + STANDARD_WEIGHT * backend.expression_vectors(q.standards).mean(axis=0))


def _own_and_expanded(q: Query, backend: Backend) -> tuple[np.ndarray, np.ndarray]:
    own = backend.embed_queries([q.text])[0]
    return own, query_vector(q, backend, own)


def _cosines(scored: list[Scored], own: np.ndarray, backend: Backend) -> None:
    """Set ``cosine`` (with the query as typed) on these hits: one dot product each, from the index's
    vectors (the relevance grade uses it; feedback moves the final query vector toward the top hits,
    so their cosine with it says less about how close they are to what was asked)."""
    vectors = backend.vectors_by_id([s.id for s in scored])
    for s in scored:
        v = vectors.get(s.id)
        s.cosine = None if v is None else float(np.dot(own, v))


def affordable_terms(terms: list[tuple[str, str]], backend: Backend,
                     budget: int | None = None) -> list[tuple[str, str]]:
    """The terms the keyword side ranks, so that its cost stays bounded as the knowledge base grows.

    A term costs the postings of its tokens (records holding each token; measured ≈ 0.2–1 µs each to
    rank, so "企业", in 70 % of 100k synthetic records, alone took 44 ms). Terms are kept cheapest
    first while their costs add up to at most ``budget``, and the cheapest is always kept (counted in
    full when every term is over the budget, the only case where counting costs more). A dropped
    term contains a token that many records hold, so it weighs little in BM25 (FTS5 gives a term in
    half the records or more an IDF of nearly 0) and the dense side still sees the whole query.
    Nothing is dropped while the knowledge base holds at most ``budget`` records.
    """
    budget = POSTINGS_BUDGET if budget is None else budget
    bound = backend.size_bound()
    if len(terms) <= 1 or bound <= budget:
        return terms
    def costs(cap: int) -> dict:
        return {(c, p): sum(backend.postings(c, token, cap) for token in p.split()) for c, p in terms}

    cost = costs(budget + 1)
    if min(cost.values()) > budget:  # every term is over the budget: count them fully to keep the cheapest
        cost = costs(bound)
    ordered = sorted(terms, key=lambda t: cost[t])
    kept, total = [ordered[0]], cost[ordered[0]]
    for term in ordered[1:]:
        if total + cost[term] > budget:
            break
        kept.append(term)
        total += cost[term]
    return [t for t in terms if t in kept]  # query order, as before


def rank(q: Query, mode: str, k: int, backend: Backend) -> list[Scored]:
    """The best records for a parsed query, at least ``k`` of them when that many match.

    The first ``k`` carry ``cosine`` (with the query as typed; not in keyword mode) for the
    relevance grade; that costs one stored vector and one dot product per hit."""
    n = max(CANDIDATES, 3 * k)
    match = q.fts(affordable_terms(q.fts_terms(), backend)) if mode != "semantic" else ""
    if mode == "semantic":
        return [Scored(rid, s, None, s, cosine=s)
                for rid, s in backend.dense(backend.embed_queries([q.text])[0], n)]
    if mode == "keyword":
        lexical = backend.lexical(match, n, (WORDS_WEIGHT, GRAMS_WEIGHT)) if match else []
        top = lexical[0][1] if lexical and lexical[0][1] > 0 else 1.0
        return [Scored(rid, s / top, s / top, None) for rid, s in lexical]

    # The query's embedding (most of a search's time) runs on another thread while this one does the
    # keyword side: torch and SQLite both release the GIL, so the two overlap on two cores.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_own_and_expanded, q, backend)
        lexical = backend.lexical(match, n, (WORDS_WEIGHT, GRAMS_WEIGHT)) if match else []
        confidence = lexical_confidence(q, backend.text(lexical[0][0])) if lexical else 0.0
        region_ids = backend.in_regions(q.regions) if q.regions else []
        own, vec = pending.result()
    boosted = set(region_ids)

    def dense_side(vec: np.ndarray) -> list[tuple[int, float]]:
        found = dict(backend.dense(vec, n))
        if region_ids:  # the named region's records compete even if far down the global list
            found.update(backend.dense(vec, n, within=region_ids))
        return sorted(found.items(), key=lambda t: -t[1])

    fused = fuse(lexical, dense_side(vec), confidence, boosted)
    if FEEDBACK_DOCS and FEEDBACK_WEIGHT and fused:
        feedback = backend.vectors([s.id for s in fused[:FEEDBACK_DOCS]])
        if feedback:
            vec = _unit(vec + FEEDBACK_WEIGHT * np.mean(feedback, axis=0))
            fused = fuse(lexical, dense_side(vec), confidence, boosted)
    _cosines(fused[:k], own, backend)
    return fused
