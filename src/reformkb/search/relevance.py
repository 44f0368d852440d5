"""Relevance grades: how close a hit is to what was asked ("strong", "related" or "weak").

Ranking orders hits; it does not say whether the best of them answers the query. A query with no
answer in the knowledge base (跨境电商海外仓 where nobody wrote about 海外仓, or ``asdfgh``) still gets
ten hits. The grade says which of them to show as answers.

Each hit is described by a few *signals*, all known once the hits are ranked (O(k), nothing that
grows with the knowledge base):

- ``cosine``: cosine of the record's vector with the query's own embedding (as typed, before
  glossary expansion and feedback), and ``cosine_best``, ``cosine_gap``: the best cosine among the
  first :data:`HEAD` hits and this hit's distance to it;
- ``coverage``: the share of the query's content words the record contains (a word also counts when
  the record uses another expression of a glossary group the word belongs to), and
  ``coverage_best``: the best coverage among the first :data:`HEAD` hits;
- ``lexical``: BM25 relative to the best lexical hit (0 when keyword search did not find it);
- ``rank``: log(1 + position) (keyword mode only: the hybrid and semantic grades judge a hit by
  what it holds, not where it ranks, since a relevant record ranked below an unrelated one must
  still come out relevant);
- ``latin``: the share of the query's letters that are Latin (English queries have lower cosines).

A logistic model per search mode turns them into the probability that the record is relevant
(grade ≥ 1 in the calibration set); thresholds cut it into grades:
``p ≥ strong`` → "strong", ``p ≥ related`` → "related", otherwise "weak". A query in Latin letters
(English, two words or more) has its own ``related`` threshold: multilingual-e5-small places English
queries about as close to unrelated Chinese records as to the right ones, so for them "weak" is given
sparingly.

The model and thresholds are data (``data/relevance.json``), fitted by ``python -m bench.calibrate
--write`` on the calibration set in ``tests/data/search/`` (cross-validated over queries; figures and
thresholds in docs/search-quality.md). Without a model for a mode every hit is "related".
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from reformkb.search.fusion import Query, Scored, lexical_confidence

#: A query whose letters are more than this share Latin is graded with the Latin threshold.
LATIN = 0.5
#: Query-level signals (``*_best``) are taken over this many first hits, whatever k is.
HEAD = 10

SIGNALS = ("latin", "cosine", "cosine_best", "cosine_gap", "coverage", "coverage_best", "lexical", "rank")
_FALLBACK = "related"
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Model:
    """A fitted logistic model over some of :data:`SIGNALS`, with its two thresholds."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    related: float  # p at or above which a hit is at least "related"
    strong: float  # p at or above which a hit is "strong"
    related_latin: float | None = None  # ... "related" for a query in Latin letters (None: ``related``)

    def probability(self, signals: dict[str, float]) -> float:
        z = self.intercept + sum(c * (signals[f] - m) / s
                                 for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def grade(self, p: float, latin: bool = False) -> str:
        """The grade of probability ``p`` (``latin``: the query is mostly Latin letters)."""
        related = self.related_latin if latin and self.related_latin is not None else self.related
        return "strong" if p >= self.strong else "related" if p >= related else "weak"

    @classmethod
    def from_dict(cls, d: dict) -> "Model":
        latin = d.get("related_latin")
        return cls(tuple(d["features"]), tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]),
                   float(d["intercept"]), float(d["related"]), float(d["strong"]),
                   None if latin is None else float(latin))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept, "related": self.related,
                "related_latin": self.related_latin, "strong": self.strong}


@lru_cache(maxsize=1)
def _shipped() -> tuple[str, dict[str, Model]]:
    try:
        raw = json.loads(resources.files("reformkb.data").joinpath("relevance.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "", {}
    fitted = {mode: Model.from_dict(d) for mode, d in raw.get("models", {}).items()}
    # a model over a signal this code no longer computes (fitted by another version) grades nothing
    return raw.get("embedding_model", ""), {mode: m for mode, m in fitted.items() if set(m.features) <= set(SIGNALS)}


def models(embedding_model: str | None = None) -> dict[str, Model]:
    """mode → the shipped model (``data/relevance.json``; empty if the file is missing).

    The hybrid and semantic models were fitted on one embedding model's cosines; with another one
    (``embedding_model`` given and different) only the keyword model applies: the others' hits are
    "related" until ``python -m bench.calibrate --write`` is run for that model."""
    fitted_for, shipped = _shipped()
    if embedding_model is None or not fitted_for or embedding_model == fitted_for:
        return shipped
    return {mode: m for mode, m in shipped.items() if mode == "keyword"}


def latin_share(text: str) -> float:
    """Share of the text's letters that are Latin (an English query's cosines with Chinese records
    run lower than a Chinese query's with the same records)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if ch.isascii()) / len(letters) if letters else 0.0


def is_latin(sig: dict[str, float]) -> bool:
    """Whether the hit's query is graded as a query in Latin letters: mostly Latin letters and at least
    two Latin words (one Latin token is as often a code, a typo or a keyboard mash such as ``asdfgh``
    as an English word, and gets the stricter threshold)."""
    return sig["latin"] > LATIN and sig["latin_words"] >= 2


def signals(q: Query, ranked: Sequence[Scored], texts: Sequence[str]) -> list[dict[str, float]]:
    """The signals of each ranked hit (``texts``: each hit's title and text, same order)."""
    if not ranked:
        return []
    coverage = [lexical_confidence(q, t) for t in texts]
    cosines = [s.cosine if s.cosine is not None else 0.0 for s in ranked]
    cos_best = max(cosines[:HEAD])
    cov_best = max(coverage[:HEAD])
    latin, latin_words = latin_share(q.text), len(_LATIN_WORD.findall(q.text))
    return [{"latin": latin, "latin_words": latin_words, "cosine": c, "cosine_best": cos_best, "cosine_gap": cos_best - c, "coverage": cov,
             "coverage_best": cov_best, "lexical": s.lexical or 0.0, "rank": math.log1p(i)}
            for i, (s, c, cov) in enumerate(zip(ranked, cosines, coverage))]


def grade(sigs: Sequence[dict[str, float]], mode: str, model: Model | None = None,
          embedding_model: str | None = None) -> list[tuple[str, float | None]]:
    """(grade, probability) for each hit's signals; ("related", None) when there is no model for ``mode``
    (and this ``embedding_model``: see :func:`models`)."""
    model = model or models(embedding_model).get(mode)
    if model is None:
        return [(_FALLBACK, None)] * len(sigs)
    out = []
    for sig in sigs:
        p = model.probability(sig)
        out.append((model.grade(p, is_latin(sig)), p))
    return out
