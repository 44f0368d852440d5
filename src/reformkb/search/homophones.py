"""Homophone typos in queries (同音错别字): 企业住销 → 企业注销, 一叶一证 → 一业一证, 中标代 → 中标贷.

A query typed with a pinyin input method goes wrong by picking another character of the same reading.
Such a character leaves a bigram that no record holds (业住, 住销), while the intended one makes
bigrams that records do hold (业注, 注销). :func:`corrected` replaces a character only on that
evidence: one of its bigrams is held by no record, and a character of the same reading (toneless,
``data/homophones.tsv``, built by ``tools/build_homophones.py``) makes both its bigrams and the three
characters around it held (业注销). The knowledge base itself is the dictionary: what none of its
records holds is never the outcome of a correction. See docs/search-quality.md, "Homophone typos".
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import resources

from reformkb.search.segment import CJK_RUN, STOPWORDS

#: Longer queries are left as typed: they carry enough context for the semantic side, and every
#: character checked costs lookups of its bigrams.
MAX_CHARS = 12


@functools.cache
def _homophones() -> dict[str, str]:
    """Character → the other characters of its reading."""
    table = {}
    for line in resources.files("reformkb.data").joinpath("homophones.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            chars = line.split("\t")[1]
            for ch in chars:
                table[ch] = chars.replace(ch, "")
    return table


def corrected(text: str, holders: Callable[[str], int]) -> str:
    """``text`` with homophone typos corrected, or ``text`` itself.

    ``holders(chars)`` is how many records hold that run of two or three characters (0: none). A
    character is replaced when one of its two bigrams is held by no record and a character of the same
    reading makes both its bigrams and the three characters around it held (企业住销: 住 makes 业住 and
    住销, held by none; 注 makes 业注, 注销 and 业注销, held). Of several such characters the one whose
    three characters are held most is taken. Only runs of three CJK characters or more are checked
    (two carry too little evidence), left to right, a corrected character counting as typed for the
    next; function words (吗, 的 …) are never replaced."""
    if sum(len(run) for run in CJK_RUN.findall(text)) > MAX_CHARS:
        return text
    return CJK_RUN.sub(lambda m: _run_corrected(m.group(), holders), text)


def _with(chars: list[str], i: int, c: str, span: range) -> str:
    return "".join(c if j == i else chars[j] for j in span)


def _bigrams_held(chars: list[str], i: int, c: str, holders: Callable[[str], int]) -> bool:
    """Whether both bigrams (one at an end) that ``c`` at ``i`` makes are held by some record."""
    return all(holders(_with(chars, i, c, range(j, j + 2))) for j in (i - 1, i) if 0 <= j < len(chars) - 1)


def _run_corrected(run: str, holders: Callable[[str], int]) -> str:
    table = _homophones()
    chars = list(run)
    if len(chars) < 3:
        return run
    for i, ch in enumerate(chars):
        if ch not in table or ch in STOPWORDS or _bigrams_held(chars, i, ch, holders):
            continue
        start = min(max(i - 1, 0), len(chars) - 3)  # the three characters around i
        best, best_held = ch, 0
        for other in table[ch]:
            n = holders(_with(chars, i, other, range(start, start + 3))) if _bigrams_held(chars, i, other, holders) else 0
            if n > best_held:
                best, best_held = other, n
        chars[i] = best
    return "".join(chars)
