"""The command line, called as users call it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from reformkb.cli import build_parser, main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(seeded_copy):
    return str(seeded_copy)


def test_search_json_ranks_changsha_first(capsys, home):
    code, out, _ = run(capsys, "--home", home, "search", "企业注销提速", "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["region"] == "长沙市"
    assert {"ref", "score", "lexical", "semantic", "matched", "text", "topics", "metrics", "source_date"} <= set(hits[0])


def test_regions_lists_every_seed_region(capsys, home):
    code, out, _ = run(capsys, "--home", home, "regions")
    rows = [line.split("\t") for line in out.strip().splitlines()]
    regions = {r[0]: (r[1], int(r[2])) for r in rows}
    assert code == 0 and len(regions) == 12
    assert regions["衡阳市"] == ("湖南省", 4) and regions["哈尔滨市"] == ("黑龙江省", 1)


def test_add_show_edit_delete(capsys, home):
    code, out, _ = run(capsys, "--home", home, "add", "苏州市推行“企业开办一日办结”，全流程压缩至1个工作日。",
                       "--ref", "SZ-001")
    assert code == 0 and "已保存第" in out
    rid = out.split("已保存第 ")[1].split(" ")[0]
    code, out, _ = run(capsys, "--home", home, "show", rid, "--json")
    shown = json.loads(out)
    assert shown["ref"] == "SZ-001" and shown["province"] == "江苏省"
    code, out, _ = run(capsys, "--home", home, "edit", rid, "--title", "一日办结")
    assert code == 0 and json.loads(run(capsys, "--home", home, "show", rid, "--json")[1])["title"] == "一日办结"
    code, out, _ = run(capsys, "--home", home, "delete", rid)
    assert code == 0
    code, _, err = run(capsys, "--home", home, "show", rid)
    assert code == 2 and "没有编号为" in err


@pytest.mark.parametrize("argv, message", [
    (["search", "！！！？？"], "只有标点"),
    (["search", "   "], "请输入检索词"),
    (["search", "营商环境", "--region", "火星市"], "未知地区"),
    (["add", "。。。"], "只有标点"),
    (["add", "某地推行一项改革。", "--region", "Mars"], "不是中文地名"),
    (["add", "长沙市推行一项改革。", "--date", "2999-01-01"], "在未来"),
    (["add", "长沙市推行一项改革。", "--date", "去年春天"], "无法识别日期"),
])
def test_bad_input_gets_a_clear_message(capsys, home, argv, message):
    before = run(capsys, "--home", home, "stats", "--json")[1]
    code, _, err = run(capsys, "--home", home, *argv)
    assert code == 2 and err.startswith("错误：") and message in err
    assert run(capsys, "--home", home, "stats", "--json")[1] == before


def test_fts_syntax_is_searched_as_text(capsys, home):
    for query in ['"', "*", "NEAR(", "AND OR", "'; drop table records; --", "营商 NOT 环境"]:
        code, out, err = run(capsys, "--home", home, "search", query, "--json", "--mode", "keyword")
        assert code in (0, 2), err
        if code == 2:
            assert "检索词" in err
    assert json.loads(run(capsys, "--home", home, "stats", "--json")[1])["practices"] == 18


def test_export_and_import_record_files(capsys, home, tmp_path):
    out_file = tmp_path / "hits.xlsx"
    code, out, _ = run(capsys, "--home", home, "export", str(out_file), "--query", "企业注销提速", "-k", "3",
                       "--include-weak")  # without it, the weak hits are left out (tests/test_relevance.py)
    assert code == 0 and out_file.stat().st_size > 3000 and "已导出 3 条" in out
    csv_file = tmp_path / "cases.csv"
    csv_file.write_text("text,region,extra\n温州市推行“企业码”服务。,温州,x\n,长沙,\n", encoding="utf-8")
    code, out, _ = run(capsys, "--home", home, "import", str(csv_file))
    assert "新增" in out and "拒绝" in out and "extra" in out


def test_help_is_bilingual():
    text = build_parser().format_help()
    assert "知识库" in text and "knowledge base" in text
    for command in ("init", "import", "add", "show", "edit", "delete", "search", "similar", "regions", "topics",
                    "export", "stats"):
        assert command in text


def test_help_and_messages_are_in_chinese(capsys):
    text = build_parser().format_help()
    assert text.startswith("用法：reformkb") and "show this help message" not in text and "usage:" not in text
    search = build_parser()._subparsers._group_actions[0].choices["search"].format_help()
    assert "显示本帮助并退出" in search and "不加载模型" in search
    with pytest.raises(SystemExit):
        main(["search"])
    assert "缺少必需的参数：query" in capsys.readouterr().err


def test_stats_says_yes_or_no(capsys, home):
    code, out, _ = run(capsys, "--home", home, "stats")
    assert code == 0 and "索引是否最新：否" in out  # the copy has no index yet
    assert "True" not in out and "False" not in out


def test_keyword_search_does_not_load_the_model(home):
    script = ("import sys; from reformkb.cli import main; code = main(['search', '注销', '--mode', 'keyword']); "
              "print('MODEL' if 'torch' in sys.modules else 'NO-MODEL', code)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, REFORMKB_HOME=home))
    assert result.returncode == 0, result.stderr
    assert "长沙市" in result.stdout and result.stdout.strip().endswith("NO-MODEL 0")


def test_console_script_in_a_fresh_process(seeded_home, tmp_path):
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    env = dict(os.environ, REFORMKB_HOME=str(home))
    exe = os.path.join(os.path.dirname(sys.executable), "reformkb")
    result = subprocess.run([exe, "search", "公司不开了怎么快速办完手续", "--json", "-k", "3"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "长沙市" in [h["region"] for h in json.loads(result.stdout)]
    assert result.stderr.strip() == ""
