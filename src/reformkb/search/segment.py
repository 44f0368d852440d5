"""Chinese word segmentation for the keyword index and query terms.

The keyword index stores two views of each text, so that a segmentation mismatch between a query
and a record never hides a match: jieba's search-mode words (with a domain dictionary, so
"无证明城市" and "企业注销" are words, while their parts "证明", "注销" are still indexed) and
character bigrams of every CJK run (so "深圳" still finds a text that jieba cut as "深圳市").
"""
from __future__ import annotations

import functools
import logging
import re
from importlib import resources

import jieba

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORDISH = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
# Function words that carry no meaning for search; kept short on purpose.
STOPWORDS = frozenset(
    "的 了 和 与 及 或 等 在 对 为 以 将 把 被 由 从 至 到 于 是 有 也 都 就 而 并 其 之 中 上 下 个 "
    "怎么 怎样 如何 什么 哪些 哪个 一下 可以 能 要 吗 呢 啊 吧 我 我们 你 他们 这 那 这个 那个 "
    "the a an of to in on for and or is are be with by how what which".split()
)


@functools.cache
def _t2s() -> dict[int, str]:
    table = {}
    for line in resources.files("reformkb.data").joinpath("t2s.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            table[ord(trad)] = simp
    return table


def simplified(text: str) -> str:
    """``text`` with traditional-only characters replaced by their simplified form (企業註銷 → 企业注销).

    Characters that simplified text uses as well (著, 乾) are kept: see ``tools/build_t2s.py``. The
    records are written in simplified characters, so a query in traditional ones would otherwise share
    no words with them and embed farther from them."""
    return text.translate(_t2s())


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with resources.files("reformkb").joinpath("data/domain_dict.txt").open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if parts and not line.startswith("#"):
                tok.add_word(parts[0], int(parts[1]) if len(parts) > 1 else None)
    return tok


def words(text: str) -> list[str]:
    """Search-mode words of ``text``, lower-cased, without stopwords and punctuation, in order."""
    out = []
    for w in _tokenizer().cut_for_search(text):
        w = w.strip().lower()
        if w and w not in STOPWORDS and _WORDISH.search(w):
            out.append(w)
    return out


def bigrams(text: str) -> list[str]:
    """Character bigrams of each CJK run (a lone CJK character stands for itself)."""
    out = []
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def index_views(text: str) -> tuple[str, str]:
    """The two space-joined views stored in the FTS table: (words, bigrams)."""
    return " ".join(words(text)), " ".join(bigrams(text))

