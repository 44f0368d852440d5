"""Homophone typos in queries (同音错别字): corrected against the records' own bigrams and trigrams,
said so on every surface (hit.searched_as, the CLI, the search page), and never forced: as typed is
one flag or one button away."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from streamlit.testing.v1 import AppTest

from reformkb.cli import main
from reformkb.search import homophones
from reformkb.search.homophones import corrected
from reformkb.settings import project_root

CORPUS = ["长沙市企业注销由20个工作日压缩至0.5个工作日", "推行“一业一证”改革，一张许可证办成一件事",
          "梅州市推行“中标贷”，凭中标通知书线上融资", "惠企政策“免申即享”", "群众诉求“接诉即办”",
          "企业贷款码扫码融资", "符合法定条件时一次上门"]


def holders_of(texts: list[str]):
    """How many texts hold each run of two or three CJK characters: what the keyword index answers."""
    counts: Counter = Counter()
    for text in texts:
        held = set()
        for run in re.findall(r"[\u4e00-\u9fff]+", text):
            held.update(run[i:i + n] for n in (2, 3) for i in range(len(run) - n + 1))
        counts.update(held)
    return lambda chars: counts[chars]


HOLDERS = holders_of(CORPUS)


@pytest.mark.parametrize("typed, meant", [
    ("企业住销", "企业注销"),      # a middle character: neither of its bigrams is held
    ("一叶一证", "一业一证"),
    ("中标代", "中标贷"),          # the last character: one bigram and the trigram before it
    ("免申既享", "免申即享"),
    ("接速即办", "接诉即办"),
    ("企业住销 提速 ABC", "企业注销 提速 ABC"),  # other runs and Latin letters are kept as typed
])
def test_a_homophone_typo_is_corrected_where_the_records_show_the_meant_character(typed, meant):
    assert corrected(typed, HOLDERS) == meant


@pytest.mark.parametrize("query", [
    "企业注销",              # every bigram is held: nothing to correct
    "跨境电商海外仓",         # words no record holds stay as they are: no homophone makes them held
    "申请贷款吗",            # 款码 is held, but 吗 is a function word and is never replaced
    "住销",                 # two characters carry too little evidence
    "asdfgh",
    "企业住销" * 4,          # longer than MAX_CHARS: long queries are left to the semantic side
])
def test_nothing_is_corrected_without_evidence(query):
    assert corrected(query, HOLDERS) == query


def test_the_evidence_is_the_knowledge_base_itself():
    assert corrected("企业住销", holders_of(["企业住所申报承诺制"])) == "企业住销"  # no 注销 in it
    assert corrected("企业住销", lambda chars: 0) == "企业住销"


def test_the_reading_table_groups_characters_of_one_reading():
    table = homophones._homophones()
    assert "注" in table["住"] and "住" in table["注"] and "贷" in table["代"]
    assert "住" not in table["住"] and len(table) > 6000  # the GB 2312 characters, each with its others


# -- the knowledge base, the CLI and the page ---------------------------------------------------------
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_search_corrects_and_says_so(seeded_kb, mode):
    hits = seeded_kb.search("企业住销", k=5, mode=mode)
    assert hits[0].record.region == "长沙市" and hits[0].searched_as == "企业注销"
    assert "企业注销" in hits[0].matched and hits[0].to_dict()["searched_as"] == "企业注销"
    assert all(h.searched_as == "" for h in seeded_kb.search("企业住销", k=5, mode=mode, as_typed=True))
    assert all(h.searched_as == "" for h in seeded_kb.search("企业注销", k=5, mode=mode))


def test_keyword_search_as_typed_finds_what_the_typo_holds_only(seeded_kb):
    typed = seeded_kb.search("中标代", mode="keyword", as_typed=True)
    meant = seeded_kb.search("中标代", mode="keyword")
    assert meant[0].record.region == "梅州市" and "中标贷" in meant[0].matched
    assert all("中标贷" not in h.matched for h in typed)


def test_the_cli_says_what_it_searched_and_how_to_search_as_typed(capsys, seeded_copy):
    home = seeded_copy
    assert main(["--home", str(home), "search", "企业住销", "--mode", "keyword"]) == 0
    out = capsys.readouterr().out
    assert "已按“企业注销”检索" in out and "--as-typed" in out and "长沙市" in out
    assert main(["--home", str(home), "search", "企业住销", "--mode", "keyword", "--as-typed"]) == 0
    assert "已按" not in capsys.readouterr().out
    assert main(["--home", str(home), "search", "企业住销", "--mode", "keyword", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["searched_as"] == "企业注销"


def test_the_search_page_says_what_it_searched_and_offers_the_query_as_typed(seeded_copy, monkeypatch):
    monkeypatch.setenv("REFORMKB_HOME", str(seeded_copy))
    at = AppTest.from_file(str(project_root() / "app.py"), default_timeout=120)
    at.query_params["page"] = "search"
    at.run()
    at.sidebar.radio(key="mode").set_value("keyword").run()
    at.text_input(key="q").input("企业住销").run()
    assert not at.exception, at.exception
    assert any("已按“企业注销”检索" in i.value for i in at.info)
    next(b for b in at.button if b.label == "仍按“企业住销”检索").click().run()
    assert not any("已按" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("仍按")]
    at.text_input(key="q").input("中标代").run()  # another query is corrected again
    assert any("已按“中标贷”检索" in i.value for i in at.info)
