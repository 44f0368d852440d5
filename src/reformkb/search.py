"""Keyword, semantic and hybrid search, and their fusion: every ranking knob lives here.

Keyword search runs SQLite FTS5 over two views of each record (jieba words and character bigrams,
see :mod:`reformkb.segment`), with the query expanded by the glossary, ranked by BM25.
Semantic search asks the FAISS index for the nearest record vectors.

Hybrid search fuses the two with weights that depend on how far the lexical side can be trusted
*for this query*: plain reciprocal-rank fusion lets BM25's noise (an English query over Chinese
text, a typo) drag good dense results down. Here each side's scores are scaled to [0, 1] within its
candidates, and the lexical weight is multiplied by the query's *lexical confidence*: the share of
the query's content words that the best lexical hit actually contains. A query whose words are not
in the corpus gets dense ranking; a query whose words are all found gets a true blend.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from reformkb.errors import InputError
from reformkb.records import KIND_PRACTICE, Record, has_content
from reformkb.segment import bigrams, words

MODES = ("hybrid", "keyword", "semantic")

# Fusion knobs (measured on the dev set; see docs/search-quality.md).
CANDIDATES = 100  # how many hits each side contributes before fusion
SEMANTIC_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.6
EXPANSION_WEIGHT = 0.5  # bm25 weight of glossary-expanded phrases relative to the query's own bigrams
WORDS_WEIGHT, GRAMS_WEIGHT = 1.0, 0.5  # bm25 column weights


@dataclass
class Filters:
    """Restrictions on what a search may return; empty fields restrict nothing."""

    province: str = ""
    region: str = ""
    topic: str = ""
    source: str = ""
    date_from: str = ""
    date_to: str = ""
    kind: str = KIND_PRACTICE  # "" for every kind

    def sql(self, alias: str = "r") -> tuple[str, list]:
        """An SQL fragment over table ``alias`` and its parameters."""
        clauses, params = [], []
        p = f"{alias}." if alias else ""
        if self.kind:
            clauses.append(f"{p}kind = ?"); params.append(self.kind)
        if self.province:
            clauses.append(f"{p}province = ?"); params.append(self.province)
        if self.region:
            clauses.append(f"({p}region = ? OR {p}city = ? OR {p}county = ?)"); params += [self.region] * 3
        if self.topic:
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({p}topics) WHERE value = ?)"); params.append(self.topic)
        if self.source:
            clauses.append(f"({p}source_title LIKE ? OR {p}source_file LIKE ?)"); params += [f"%{self.source}%"] * 2
        if self.date_from:
            clauses.append(f"{p}source_date >= ?"); params.append(self.date_from)
        if self.date_to:
            clauses.append(f"{p}source_date <= ? || '~'"); params.append(self.date_to)
        return " AND ".join(clauses), params

    @property
    def restricts(self) -> bool:
        return any((self.province, self.region, self.topic, self.source, self.date_from, self.date_to))


@dataclass
class Hit:
    """One search result with the parts of its score and the terms to highlight."""

    record: Record
    score: float
    lexical: float | None = None  # BM25 scaled to [0, 1] among this query's lexical candidates
    semantic: float | None = None  # cosine similarity
    matched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"score": round(self.score, 4),
                "lexical": None if self.lexical is None else round(self.lexical, 4),
                "semantic": None if self.semantic is None else round(self.semantic, 4),
                "matched": self.matched, **self.record.to_dict()}


@dataclass
class Query:
    """A query after normalization: its text, content words, bigrams and glossary expansions."""

    text: str
    words: list[str]
    grams: list[str]
    expansions: list[str]

    def fts(self) -> str:
        """The FTS5 MATCH expression: every term quoted, so user text is never FTS syntax."""
        def q(term: str) -> str:
            return '"' + term.replace('"', '""') + '"'

        parts = []
        if self.words:
            parts.append("words : (" + " OR ".join(q(w) for w in dict.fromkeys(self.words)) + ")")
        grams = list(dict.fromkeys(self.grams))
        for term in self.expansions:
            term_grams = bigrams(term)
            if term_grams:
                grams.append(" ".join(term_grams))
        if grams:
            parts.append("grams : (" + " OR ".join(q(g) for g in grams) + ")")
        return " OR ".join(parts)

    def highlight_terms(self) -> list[str]:
        """Words worth highlighting, longest first (single CJK characters left out)."""
        terms = [w for w in dict.fromkeys(self.words + self.expansions) if len(w) >= 2]
        return sorted(terms, key=len, reverse=True)


def parse_query(text: str, max_chars: int, expand) -> Query:
    """Normalize a user's query; InputError for an empty, punctuation-only or over-long one."""
    if not isinstance(text, str):
        raise InputError("检索词必须是文字。")
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).strip()
    if not text:
        raise InputError("请输入检索词，例如“企业注销提速”。")
    if len(text) > max_chars:
        raise InputError(f"检索词有 {len(text)} 字，超过上限 {max_chars} 字：请只写要找的做法的要点。")
    if not has_content(text):
        raise InputError("检索词里只有标点或符号：请输入要找的做法，例如“企业注销提速”。")
    return Query(text, words(text), bigrams(text), expand(text))


def matched_terms(query: Query, text: str) -> list[str]:
    """The query's words (and expansions) that occur in ``text``, without ones inside a longer match."""
    found: list[str] = []
    for term in query.highlight_terms():
        if term in text and not any(term in longer for longer in found):
            found.append(term)
    return found


def lexical_confidence(query: Query, best_text: str | None) -> float:
    """Share of the query's content words that the best lexical hit contains (0 without hits)."""
    if not best_text:
        return 0.0
    content = [w for w in dict.fromkeys(query.words) if len(w) >= 2 or re.match(r"[\u4e00-\u9fff]", w)]
    # Prefer whole words; a query whose words jieba split oddly falls back to its bigrams.
    units = content or query.grams
    if not units:
        return 0.0
    return sum(1 for u in units if u in best_text) / len(units)


def _scale(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    top, low = max(scores.values()), min(scores.values())
    span = top - low
    return {i: (s - low) / span if span > 1e-9 else 1.0 for i, s in scores.items()}


def fuse(lexical: list[tuple[int, float]], semantic: list[tuple[int, float]], confidence: float) -> list[tuple[int, float, float | None, float | None]]:
    """Hybrid ranking: (id, fused, lexical_scaled, cosine), best first. See the module docstring."""
    lex = _scale({i: s for i, s in lexical})
    sem_raw = {i: s for i, s in semantic}
    sem = _scale(sem_raw)
    w_lex = LEXICAL_WEIGHT * confidence
    out = []
    for rid in set(lex) | set(sem):
        fused = SEMANTIC_WEIGHT * sem.get(rid, 0.0) + w_lex * lex.get(rid, 0.0)
        out.append((rid, fused, lex.get(rid), sem_raw.get(rid)))
    out.sort(key=lambda t: (-t[1], t[0]))
    return out
