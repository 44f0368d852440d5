"""Every form through the entry points staff use: ``reformkb import`` (help, per-page OCR progress) and
the app's upload (issue 13)."""
from __future__ import annotations

import shutil

import forms_support as fs
import pytest
from conftest import SEED
from streamlit.testing.v1 import AppTest

from reformkb.cli import build_parser, main
from reformkb.ingest.documents import BULLETIN_SUFFIXES
from reformkb.settings import project_root


def test_import_help_lists_every_form(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["import", "--help"])
    out = capsys.readouterr().out
    for suffix in BULLETIN_SUFFIXES + (".jsonl", ".csv"):
        assert f"{suffix} " in out or f"{suffix}（" in out, suffix
    assert "REFORMKB_MAX_OCR_PAGES" in out


@pytest.mark.skipif(fs.cjk_font() is None, reason="no CJK font (make installs fonts-wqy-zenhei)")
def test_cli_import_of_a_scan_shows_progress_page_by_page(capsys, tmp_path, model, monkeypatch):
    monkeypatch.setenv("REFORMKB_MODEL", str(model))  # the tiny model: only the mechanics matter here
    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=2)
    pages = fs.render_pages(text, width=930, height=520, size=22, margin=60)
    assert len(pages) == 2
    scan = tmp_path / "扫描件.tif"
    scan.write_bytes(fs.tiff(pages))
    code = main(["--home", str(tmp_path / "kb"), "import", str(scan)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "文字识别 扫描件.tif" in err and "2/2" in err
    assert "新增 [" in out and "长沙市" in out and "株洲市" in out


def test_the_app_upload_reads_an_ofd(seeded_home, tmp_path, monkeypatch):
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    monkeypatch.setenv("REFORMKB_HOME", str(home))
    at = AppTest.from_file(str(project_root() / "app.py"), default_timeout=120)
    at.query_params["page"] = "import"
    at.run()
    at.toggle(key="imp_actions").set_value(False)
    data = fs.ofd_bytes(fs.excerpt(SEED.read_text(encoding="utf-8")), run_length=1)
    at.file_uploader(key="imp_file").upload("专报.ofd", data, "application/ofd")
    next(b for b in at.button if b.label == "解析文件").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("核对解析结果：18 条") for s in at.subheader)  # + the left-out rows (issue 12)


def test_usage_doc_lists_every_form():
    text = (project_root() / "docs" / "usage.md").read_text(encoding="utf-8")
    section = text[text.index("## 专报的各种格式"):]
    missing = [suffix for suffix in BULLETIN_SUFFIXES if suffix not in section]
    assert missing == []
