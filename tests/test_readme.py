"""Every command example in the README works on the default knowledge base (issue 15).

The examples are read from the README itself, so an example added there is tested without touching this
file; each runs in-process on a copy of the default knowledge base, in a tmp folder as the working
directory (for the files they write). What each must show is checked below, by command.
"""
from __future__ import annotations

import json
import re
import shlex
import shutil

import pytest
from docx import Document
from openpyxl import load_workbook

from reformkb.cli import main
from reformkb.kb import KnowledgeBase
from reformkb.settings import project_root

README = project_root() / "README.md"


def readme_commands() -> list[list[str]]:
    block = re.search(r"## 命令行\s*```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        if line.startswith(".venv/bin/reformkb"):
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_readme_has_examples():
    assert len(readme_commands()) >= 12


def test_every_readme_example_works_on_the_default_kb(seeded_home, tmp_path, monkeypatch, capsys):
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("REFORMKB_HOME", str(home))
    monkeypatch.setenv("REFORMKB_PASSWORD", "qiye-zhuxiao-2024")  # strong enough, and without the name
    bulletin = Document()  # the bulletin the import example names
    for line in ("某市优化营商环境工作专报", "【战术借鉴】", "合肥市推行“拿地即开工”，项目审批时间由60个工作日压缩至10个工作日。"):
        bulletin.add_paragraph(line)
    bulletin.save(work / "新一期专报.docx")

    for argv in readme_commands():
        capsys.readouterr()
        if argv == ["--help"]:
            with pytest.raises(SystemExit) as done:
                main(argv)
            assert done.value.code == 0
        else:
            assert main(argv) == 0, argv
        out = capsys.readouterr().out
        command = argv[0]
        assert out.strip(), argv
        if command in ("search", "similar") and "--json" in argv:
            assert json.loads(out), argv
        elif command in ("search", "similar"):
            assert "没有找到" not in out and re.search(r"^1\. \[\d+\]", out, re.M), (argv, out)
        if argv[:2] == ["search", "融资"]:
            assert "梅州市" in out
        if command == "add":
            with KnowledgeBase(home=home) as kb:
                rec = kb.records(order="latest", limit=1)[0]
            assert rec.region == "苏州市" and rec.title.startswith("推行企业开办"), rec.title
        if command == "import":
            assert "新增" in out and "合肥市" in out
        if command == "export":
            sheet = load_workbook(work / argv[1]).active
            assert sheet["A1"].value == "地区" and sheet.max_row > 1
        if command == "stats":
            assert "索引是否最新：是" in out and "True" not in out
        if command == "backup":
            assert (work / argv[1]).stat().st_size > 10_000
        if command == "--help":
            assert "用法：" in out and "show this help message" not in out


def test_the_readme_python_example_works_on_the_default_kb(seeded_home, tmp_path, monkeypatch, capsys):
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    monkeypatch.setenv("REFORMKB_HOME", str(home))  # KnowledgeBase() opens the default knowledge base
    code = re.search(r"Python 接口：\s*```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (the README's own example)
    namespace["kb"].close()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 3 and lines[0].startswith("长沙市 ")
