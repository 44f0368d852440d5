"""Import preview (``reformkb import FILE --dry-run``), sibling records, and left-out paragraphs."""
from __future__ import annotations

import json

import pytest
from conftest import SEED

from reformkb.auth import Editors
from reformkb.cli import main
from reformkb.kb import KnowledgeBase

SEED_PRACTICES_AND_ACTIONS = 30
BULLETIN = """黄冈市优化营商环境专刊
第 10 期
2024年12月2日
编者按：现将外地经验刊发如下，供参考。
【他山之石】
近期各地涌现一批好做法，现摘编如下：
南昌、赣州两市试点惠企政策“免申即享”，政策资金直接拨付到企业账户。
宜昌市建立“企业家接待日”制度，市领导每月固定一天接待企业家。
宜昌市建立“企业家接待日”制度，市领导每月固定一天接待企业家。
有关部门加强了宣传工作。
【工作要求】
各地要对标先进，抓好落实。
抄送：市委办公室
"""


@pytest.fixture
def home(seeded_copy):
    return seeded_copy


@pytest.fixture
def bulletin(tmp_path):
    path = tmp_path / "黄冈专刊.txt"
    path.write_text(BULLETIN, encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def count(home) -> int:
    with KnowledgeBase(home=home) as kb:
        return kb.count()


def test_dry_run_says_what_would_happen_and_stores_nothing(capsys, home, bulletin):
    code, out, _ = run(capsys, "--home", home, "import", bulletin, "--dry-run", "--json")
    assert code == 0 and count(home) == SEED_PRACTICES_AND_ACTIONS
    (preview,) = json.loads(out)
    assert [(r["region"], r["text"][:5]) for r in preview["added"]] == [
        ("南昌市", "南昌、赣州"), ("赣州市", "南昌、赣州"), ("宜昌市", "宜昌市建立")]
    assert [(m["region"], m["same_as_draft"]) for m in preview["merged"]] == [("宜昌市", 3)]
    assert preview["skipped"] == []
    assert len(preview["refused"]) == 1 and "没有填写地区" in preview["refused"][0]["why"]
    reasons = {o["why"] for o in preview["left_out"]}
    assert {"编者按，不是案例", "栏目的导语或结语，没有写明地区", "【工作要求】不是标杆经验栏目",
            "文尾（报送、抄送、联系方式），不是案例"} == reasons


def test_dry_run_of_what_is_stored_already_skips_everything(capsys, home):
    code, out, _ = run(capsys, "--home", home, "import", SEED, "--dry-run")
    assert code == 0 and count(home) == SEED_PRACTICES_AND_ACTIONS
    assert f"将新增 0 条，合并 0 条（文件内重复），跳过 {SEED_PRACTICES_AND_ACTIONS} 条" in out
    assert "没有写入知识库" in out


def test_dry_run_of_an_unreadable_file_fails_with_the_reason(capsys, home, tmp_path):
    bad = tmp_path / "无借鉴.txt"
    bad.write_text("某市工作专报\n【战斗动态】\n召开会议。", encoding="utf-8")
    code, out, _ = run(capsys, "--home", home, "import", bad, "--dry-run")
    assert code == 1 and "将拒绝 无借鉴.txt" in out and "战术借鉴" in out
    assert count(home) == SEED_PRACTICES_AND_ACTIONS


def test_dry_run_needs_no_sign_in(capsys, home, bulletin):
    Editors.for_home(home).add_account("张三", "zhangsan-pw", iterations=1_000)
    code, out, err = run(capsys, "--home", home, "import", bulletin, "--dry-run")
    assert code == 0 and "将新增 宜昌市" in out
    code, _, err = run(capsys, "--home", home, "import", bulletin)  # the import itself does
    assert code != 0 and count(home) == SEED_PRACTICES_AND_ACTIONS


def test_sibling_records_are_both_stored_and_both_known_on_reimport(home, bulletin):
    with KnowledgeBase(home=home) as kb:
        report = kb.import_files([bulletin])
        siblings = [r for r in report.added if r.text.startswith("南昌、赣州")]
        assert sorted(r.region for r in siblings) == ["南昌市", "赣州市"]
        assert siblings[0].text == siblings[1].text and siblings[0].content_hash != siblings[1].content_hash
        again = kb.import_files([bulletin])
        assert again.added == [] and len(again.duplicates) == len(report.added) + 1  # + the in-file repeat
        # Editing one sibling keeps it apart from the other.
        rec = kb.edit(siblings[1].id, title="免申即享")
        assert rec.region == "赣州市" and kb.count() == SEED_PRACTICES_AND_ACTIONS + 3


def test_left_out_paragraphs_come_with_their_full_text_and_reason(home, bulletin):
    with KnowledgeBase(home=home) as kb:
        drafts, report = kb.parse_file(bulletin)
    texts = {o.text: o.reason for o in report.left_out}
    assert texts["各地要对标先进，抓好落实。"] == "【工作要求】不是标杆经验栏目"
    assert "没有填写地区" in texts["有关部门加强了宣传工作。"]
    assert len(drafts) == 4


def test_users_extend_the_section_names_in_a_file_beside_the_knowledge_base(home, tmp_path):
    path = tmp_path / "点评.txt"
    path.write_text("某某市营商环境简报\n第 1 期\n2024年1月1日\n【他山之石】\n成都市上线“蓉易办”平台。\n"
                    "【专家视角】\n深圳市的做法表明，数据共享是关键。\n", encoding="utf-8")
    with KnowledgeBase(home=home) as kb:
        before = [r.text for r in kb.parse_file(path)[0]]
        (home / "sections.tsv").write_text("# 栏目名称表\n不导入\t专家视角\n标杆经验 对标学习\n乱写一行\n", encoding="utf-8")
        drafts, report = kb.parse_file(path)
    assert before == ["成都市上线“蓉易办”平台。", "深圳市的做法表明，数据共享是关键。"]
    assert [r.text for r in drafts] == ["成都市上线“蓉易办”平台。"]
    assert any(o.reason == "【专家视角】不是标杆经验栏目" for o in report.left_out)
