"""The topic taxonomy (营商环境改革领域) and rule-based topic assignment.

The taxonomy lives in ``data/topics.json`` and is fixed: 18 topics follow the indicators of China's
business-environment evaluation (中国营商环境评价指标体系: 开办企业 … 包容普惠创新), and 7 more cover
what municipal bulletins (工作专报) report besides them: 企业注销, 惠企政策, 政企沟通, 纪检监督护航,
考核评价, 法治环境, 社会信用. Reducing certificates (证明事项减免, “无证明城市”) is part of 政务服务,
not a topic of its own: it is always a way of serving applicants, and a separate topic would split
the same practices in two.

Each entry of the file is ``{"name", "aliases", "description", "keywords"}``. A keyword is a word of
the domain vocabulary, optionally followed by ``*N`` to give it weight ``N`` (1–5, default 1): for
example ``"破产*3"`` is a strong cue, ``"政策"`` a weak one. A topic's name and aliases count as cues
of weight :data:`NAME_WEIGHT`.

:func:`assign_topics` scores a text against every topic (see its docstring); it uses no model and
gives the same answer for the same text every time. When it finds no topic, the embedding model can
*suggest* one: :func:`topic_texts` is what a record's vector is compared with, and
:func:`nearest_topic` picks the closest (the search wing does the embedding; see
``Searcher.suggest_topics``). A suggestion is shown as such and is not stored as the record's topic.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from reformkb.errors import InputError

#: Weight of a topic's own name or one of its aliases found in the text.
NAME_WEIGHT = 3.0
#: A cue word counts at most this many times, so one repeated word cannot outweigh the rest.
MAX_HITS_PER_CUE = 2
#: A topic is assigned only if its score reaches this (one strong cue, or several weak ones).
MIN_SCORE = 3.0
#: ... and only if its score is at least this share of the best topic's score, unless the text
#: names the topic itself (its name or an alias, e.g. “企业注销” in a paragraph about 政务服务).
RELATIVE_CUTOFF = 0.3

_KEYWORD_WEIGHT = re.compile(r"^(?P<word>.+?)\*(?P<weight>[1-5])$")
# Characters removed before matching: whitespace (PDF extraction breaks words) and quote marks
# (“码”上办 must match 码上).
_IGNORED = re.compile(r"[\s“”‘’\"'「」『』]+")


@dataclass(frozen=True)
class Topic:
    """One topic of the taxonomy.

    ``keywords`` holds the cue words without their weights; ``weights`` holds the weight of each
    keyword, in the same order.
    """

    name: str
    description: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    weights: tuple[float, ...] = ()

    def cues(self) -> dict[str, float]:
        """Every cue word of the topic (name, aliases, keywords) with its weight."""
        found: dict[str, float] = {}
        for word, weight in zip(self.keywords, self.weights or (1.0,) * len(self.keywords)):
            found[_fold(word)] = max(found.get(_fold(word), 0.0), weight)
        for word in (self.name, *self.aliases):
            found[_fold(word)] = max(found.get(_fold(word), 0.0), NAME_WEIGHT)
        return found


def _fold(text: str) -> str:
    """The form used for matching: NFKC, lower case, without whitespace and quote marks."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text)).lower()


def _parse_keyword(entry: str) -> tuple[str, float]:
    match = _KEYWORD_WEIGHT.match(entry)
    if match:
        return match.group("word"), float(match.group("weight"))
    return entry, 1.0


@lru_cache(maxsize=1)
def _load() -> tuple[Topic, ...]:
    raw = json.loads(resources.files("reformkb").joinpath("data/topics.json").read_text("utf-8"))
    topics = []
    for entry in raw:
        parsed = [_parse_keyword(k) for k in entry.get("keywords", [])]
        topics.append(
            Topic(
                name=entry["name"],
                description=entry.get("description", ""),
                aliases=tuple(entry.get("aliases", [])),
                keywords=tuple(word for word, _ in parsed),
                weights=tuple(weight for _, weight in parsed),
            )
        )
    return tuple(topics)


def taxonomy() -> list[Topic]:
    """All topics, in the order of ``data/topics.json`` (read once, then cached)."""
    return list(_load())


def topic_names() -> list[str]:
    """The canonical topic names, in taxonomy order."""
    return [topic.name for topic in _load()]


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for topic in _load():
        for word in (topic.name, *topic.aliases):
            index.setdefault(_fold(word), topic.name)
    return index


def normalize_topic(name: str) -> str:
    """The canonical topic name for ``name``, which may be a topic name or one of its aliases.

    Whitespace, quote marks and full-width forms are ignored (“ 不动产登记 ” → 登记财产).
    Raises :class:`~reformkb.errors.InputError` with the list of valid topics when ``name`` is
    neither.
    """
    canonical = _name_index().get(_fold(name or ""))
    if canonical is None:
        raise InputError(
            f"未知的主题“{(name or '').strip()}”。可用的主题有：{'、'.join(topic_names())}。"
        )
    return canonical


def topic_for(name: str) -> str | None:
    """The topic a name written outside the taxonomy clearly means, or ``None`` (a user's own tag).

    In order: a topic name or alias (``不动产登记`` → 登记财产); a name holding one topic's name or
    alias, the longest such one (``获得信贷融资`` → 获得信贷, ``跨境贸易通关`` → 跨境贸易); a name whose
    cue words (see :func:`topic_scores`) give one topic at least :data:`MIN_SCORE` and more than any
    other (``双随机一公开监管`` → 市场监管). ``数字化转型`` or ``乡村振兴`` give ``None``.
    """
    folded = _fold(name or "")
    if not folded:
        return None
    index = _name_index()
    if folded in index:
        return index[folded]
    held = sorted(((len(word), topic) for word, topic in index.items() if len(word) >= 2 and word in folded),
                  reverse=True)
    if held and (len(held) == 1 or held[0][0] > held[1][0] or held[0][1] == held[1][1]):
        return held[0][1]
    scores = sorted(topic_scores(name).items(), key=lambda item: -item[1])
    if scores and scores[0][1] >= MIN_SCORE and (len(scores) == 1 or scores[0][1] > scores[1][1]):
        return scores[0][0]
    return None


@lru_cache(maxsize=1)
def _cue_table() -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    """Per topic, its cues longest first with their weights (built once: scoring runs per record)."""
    return tuple((t.name, tuple(sorted(t.cues().items(), key=lambda c: (-len(c[0]), c[0])))) for t in _load())


def _score(folded: str, cues: tuple[tuple[str, float], ...]) -> float:
    """Sum of cue weights found in ``folded``; longer cues claim their characters first, so a
    short cue inside a longer one (破产 in 破产案件) is not counted twice."""
    taken = [False] * len(folded)
    score = 0.0
    for word, weight in cues:
        if word not in folded:
            continue
        hits, start = 0, folded.find(word)
        while start != -1 and hits < MAX_HITS_PER_CUE:
            end = start + len(word)
            if not any(taken[start:end]):
                taken[start:end] = [True] * len(word)
                hits += 1
            start = folded.find(word, start + 1)
        score += hits * weight
    return score


def topic_scores(text: str) -> dict[str, float]:
    """The score of every topic that has at least one cue in ``text`` (topic name → score)."""
    folded = _fold(text or "")
    if not folded:
        return {}
    scores = {}
    for name, cues in _cue_table():
        score = _score(folded, cues)
        if score > 0:
            scores[name] = score
    return scores


def _named_topics(text: str) -> set[str]:
    """Topics whose name or one of whose aliases occurs in ``text``."""
    folded = _fold(text or "")
    return {name for word, name in _name_index().items() if word and word in folded}


def assign_topics(text: str, max_topics: int = 3) -> list[str]:
    """Up to ``max_topics`` topic names for ``text``, best first.

    Every cue (keyword, topic name or alias) found in the text adds its weight to its topic's score
    (at most :data:`MAX_HITS_PER_CUE` times per cue). A topic is kept when its score reaches
    :data:`MIN_SCORE` and either is at least :data:`RELATIVE_CUTOFF` of the best score or the text
    names the topic (its name or an alias) outright. Ties are broken by
    taxonomy order, so the result is deterministic. Returns ``[]`` for empty text or when no topic
    fits.
    """
    if max_topics <= 0:
        return []
    scores = topic_scores(text)
    if not scores:
        return []
    best = max(scores.values())
    named = _named_topics(text)
    order = {name: i for i, name in enumerate(topic_names())}
    kept = [
        name
        for name, score in scores.items()
        if score >= MIN_SCORE and (score >= RELATIVE_CUTOFF * best or name in named)
    ]
    kept.sort(key=lambda name: (-scores[name], order[name]))
    return kept[:max_topics]


def topic_texts() -> list[tuple[str, str]]:
    """(name, text) for every topic: name, description and cue words, the text the embedding model
    compares a record with to suggest a topic when :func:`assign_topics` finds none."""
    return [(t.name, f"{t.name}：{t.description} {'、'.join(t.keywords)}") for t in _load()]


def nearest_topic(similarities: list[float]) -> str:
    """The topic whose text is most similar to a record (``similarities``: one per topic, in
    :func:`topic_texts` order); ties go to the earlier topic.

    Measured with multilingual-e5-small on the 18 records of ``tests/data/search/corpus.jsonl`` that
    the rules leave without a topic: 14 of 18 suggestions are one of the record's topics (78 %; 88 %
    over all 160 records). That is why it is shown as a suggestion for the user to confirm."""
    names = topic_names()
    if len(similarities) != len(names):
        raise ValueError("one similarity per topic is needed")
    return names[min(range(len(names)), key=lambda i: (-similarities[i], i))]
