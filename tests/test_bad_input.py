"""Bad input through every entry point: the Python API, record and bulletin files, search, the CLI.

Promise: each bad input gets a clear message (an InputError in Chinese that says what to do, or a
refused row in the import report) or a correct result, and nothing stored changes when an input is
refused. The app's forms call the same API methods (add, edit, parse_file, store_records, search),
so what is shown here holds for them too. Limits: docs/reliability.md.
"""
from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
from reliability_support import fingerprint, practice_text, write_jsonl

from reformkb.cli import main
from reformkb.errors import InputError, NotFoundError, ReformKBError
from reformkb.kb import KnowledgeBase
from reformkb.settings import Settings

GOOD = "长沙市推行企业开办“一网通办”，开办时间由3个工作日压缩至0.5个工作日。"


def refused(kb: KnowledgeBase, action, message: str) -> str:
    """Run ``action``; it must raise InputError containing ``message`` and leave the database as it was."""
    before = fingerprint(kb.settings.db_path)
    with pytest.raises(InputError) as err:
        action()
    assert message in str(err.value), str(err.value)
    assert fingerprint(kb.settings.db_path) == before
    return str(err.value)


# -- the Python API (and the app's forms, which call it) ---------------------------------------------
@pytest.mark.parametrize("data, message", [
    ({"text": ""}, "为空"),
    ({"text": "  \n\t\u3000 "}, "为空"),
    ({"text": "。。！！？？——……“”"}, "只有标点"),
    ({"text": "长沙市" + "改" * 100_000}, "超过上限"),
    ({"text": "长沙市推行\udcff\udcfe企业开办。"}, "编码错误"),
    ({"text": ["长沙市推行企业开办。"]}, "应为文字"),
    ({"region": "长沙市"}, "为空"),
    ({"text": GOOD, "region": "Mars City"}, "不是中文地名"),  # an unknown Chinese place is kept (test_places)
    ({"text": GOOD, "region": "长沙市" * 20}, "不像地名"),
    ({"text": "某地推行企业开办一网通办。"}, "没有填写地区"),
    ({"text": GOOD, "source_date": "2999-01-01"}, "在未来"),
    ({"text": GOOD, "source_date": "去年春天"}, "无法识别日期"),
    ({"text": GOOD, "source_date": "2023-02-30"}, "不存在"),
    ({"text": GOOD, "agency": "局" * 300}, "超过上限"),
    ({"text": GOOD, "ref": "\udcff"}, "编码错误"),
    ({"text": GOOD, "topics": [5]}, "主题应为文字"),  # a name outside the taxonomy is a user tag (test_places)
    ({"text": GOOD, "topics": 5}, "应为列表"),
    ({"text": GOOD, "kind": "rumour"}, "未知的案例类型"),
    ({"text": GOOD, "id": "abc"}, "不是数字"),
    ("长沙市推行企业开办。", "应为 Record"),
])
def test_add_refuses_bad_records_and_stores_nothing(kb, data, message):
    refused(kb, lambda: kb.add(data), message)


def test_edit_refuses_bad_changes_and_stores_nothing(kb):
    refused(kb, lambda: kb.edit(1, text="？？？"), "只有标点")
    refused(kb, lambda: kb.edit(1, region="Mars"), "不是中文地名")
    refused(kb, lambda: kb.edit(1, text=kb.get(2).text), "完全相同")
    refused(kb, lambda: kb.edit(1, colour="red"), "未知字段")
    with pytest.raises(NotFoundError):
        kb.edit(999, title="x")


def test_control_characters_are_removed_and_markup_is_kept_as_text(kb):
    rec, _ = kb.add({"text": "长沙市\x00推行\x07企业\u200b开办\x1b[31m“一网通办”。", "title": "标题\r\n第二行\x0b"},
                    check_duplicates=False)
    assert kb.get(rec.id).text == "长沙市推行企业开办[31m“一网通办”。" and rec.title == "标题 第二行"
    markup = "株洲市推行<script>alert('x')</script> **容缺受理** [链接](javascript:alert(1)) <b>审批</b>压缩一半。"
    rec, _ = kb.add({"text": markup, "agency": "<img src=x onerror=alert(1)>"}, check_duplicates=False)
    stored = kb.get(rec.id)
    assert stored.text == markup and stored.agency == "<img src=x onerror=alert(1)>"  # shown as text by the app
    assert kb.search("容缺受理", mode="keyword")[0].record.text == markup


def test_an_id_in_the_input_is_not_used(kb):
    first = kb.get(1)
    rec, _ = kb.add({"text": GOOD, "id": 1}, check_duplicates=False)
    assert rec.id != 1 and kb.get(1).text == first.text


def test_limits_are_configurable(tmp_path, model):
    settings = Settings.default(tmp_path / "small", model=str(model), max_text_chars=30, max_file_bytes=200,
                                max_query_chars=5, max_field_chars=4)
    with KnowledgeBase(settings=settings, empty=True) as kb:
        refused(kb, lambda: kb.add({"text": GOOD}), "超过上限 30 字")
        refused(kb, lambda: kb.add({"text": "长沙市推行一网通办。", "agency": "市政务服务局"}), "超过上限 4 字")
        with pytest.raises(InputError, match="超过上限 5 字"):
            kb.search("企业开办一网通办", mode="keyword")
        big = write_jsonl(tmp_path / "big.jsonl", [GOOD] * 5)
        report = kb.import_files([big])
        assert not report.added and "超过上限" in report.refused[0][1]


# -- files -------------------------------------------------------------------------------------------
def import_refused(kb: KnowledgeBase, path: Path, message: str) -> None:
    """Importing ``path`` is refused whole, with ``message``, and nothing is stored."""
    before = fingerprint(kb.settings.db_path)
    report = kb.import_files([path])
    assert not report.added and report.refused, report
    assert message in report.refused[0][1], report.refused
    assert fingerprint(kb.settings.db_path) == before


def test_gbk_and_gb18030_bulletins_read_like_utf8(kb, seed_text):
    utf8, _ = kb.parse_file(seed_text.encode("utf-8"), "专报.txt")
    for encoding in ("gbk", "gb18030", "utf-16", "utf-8-sig"):
        drafts, report = kb.parse_file(seed_text.encode(encoding), f"专报-{encoding}.txt")
        assert [d.text for d in drafts] == [d.text for d in utf8], encoding
    rare = "长沙市推行𠀾字号商户“一照多址”改革，登记时间压缩至1个工作日。"  # 𠀾 is outside GBK
    drafts, report = kb.parse_file(f"text,region\n{rare},长沙\n".encode("gb18030"), "表.csv")
    assert [d.text for d in drafts] == [rare]


def test_gbk_csv_from_excel_imports(kb, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(f"text,region,topics\n{GOOD},长沙市,开办企业\n".encode("gbk"))
    report = kb.import_files([path])
    assert [r.text for r in report.added] == [GOOD] and report.added[0].topics == ["开办企业"]


def test_damaged_utf8_is_refused_not_stored_as_mojibake(kb, tmp_path):
    data = ("text\n" + GOOD + "\n" + practice_text(50, "乱") + "\n").encode("utf-8")
    damaged = tmp_path / "damaged.csv"
    damaged.write_bytes(data[:40] + b"\xff\xfe" + data[40:])
    import_refused(kb, damaged, "无效的字节")
    truncated = tmp_path / "truncated.csv"  # a copy cut off in the middle of the last character
    truncated.write_bytes(("text\n" + GOOD + "\n" + practice_text(51, "截") + "号").encode("utf-8")[:-1])
    report = kb.import_files([truncated])
    assert len(report.added) == 2 and GOOD in [r.text for r in report.added]


def _docx_bytes(text: str = GOOD) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"\0" * (30 * 1024 * 1024))
    return buf.getvalue()


def _lying_zip_bomb() -> bytes:
    """A zip bomb whose headers claim its member is 100 bytes, so the ratio check alone cannot see it."""
    data = bytearray(_zip_bomb())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        data[at + offset : at + offset + 4] = struct.pack("<I", 100)
    return bytes(data)


def _encrypted_office() -> bytes:
    # Word saves a password-protected .docx as an OLE compound file, not a zip.
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096)


def _not_a_docx_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return buf.getvalue()


def _pdf(encrypt: bool = False, text: str = "Changsha business registration reform") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    if text:
        pdf.cell(text=text)
    if encrypt:
        pdf.set_encryption(owner_password="owner", user_password="user")
    return bytes(pdf.output())


PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)


@pytest.mark.parametrize("name, make, message", [
    ("corrupt.docx", lambda: _docx_bytes()[:1500], "不是有效的 .docx"),
    ("encrypted.docx", _encrypted_office, "加密"),
    ("picture.docx", lambda: PNG, "不是有效的 .docx"),
    ("bomb.docx", _zip_bomb, "解压后过大"),
    ("lying-bomb.docx", _lying_zip_bomb, "无法作为 Word 文档读取"),
    ("other.docx", _not_a_docx_zip, "无法作为 Word 文档读取"),
    ("corrupt.pdf", lambda: _pdf()[:300], "PDF"),
    ("encrypted.pdf", lambda: _pdf(encrypt=True), "已加密"),
    ("picture.pdf", lambda: PNG, "PDF"),
    ("scanned.pdf", lambda: _pdf(text=""), "没有可提取的文字"),
    ("binary.txt", lambda: os.urandom(4096), "不是文本文件"),
    ("controls.txt", lambda: bytes(range(1, 32)) * 100, "不是文本文件"),
    ("empty.txt", lambda: b"", "空文件"),
    ("blank.txt", lambda: b" \n\t\r\n ", "空文件"),
    ("no-practices.txt", lambda: "一段没有任何栏目的文字。".encode(), "战术借鉴"),
    ("program.exe", lambda: b"MZ" + os.urandom(100), "不支持的文件类型"),
    ("empty.jsonl", lambda: b"\n\n", "空文件"),
    ("empty.csv", lambda: b"", "空文件"),
    ("header-only.csv", lambda: b"text,region\n", "没有案例"),
    ("no-text.csv", lambda: "region,title\n长沙市,开办\n".encode(), "缺少 text"),
    ("nul.csv", lambda: f"text\n{GOOD}\x00\n".encode(), "不是"),
])
def test_bad_files_are_refused_whole_with_a_reason(kb, tmp_path, name, make, message):
    path = tmp_path / name
    path.write_bytes(make())
    import_refused(kb, path, message)
    with pytest.raises(ReformKBError):  # the app's upload path: bytes and a name
        drafts, report = kb.parse_file(path.read_bytes(), name)
        if not drafts:
            raise InputError(report.refused[0][1] if report.refused else "empty")


def test_missing_files_are_refused(kb, tmp_path):
    for name in ("nowhere.txt", "nowhere.jsonl", "nowhere.csv", "nowhere.docx"):
        import_refused(kb, tmp_path / name, "")
    import_refused(kb, tmp_path, "")  # a folder


def test_record_files_with_bad_rows_store_the_good_ones(kb, tmp_path):
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text("\n".join([
        '{"text": "' + GOOD + '"}',
        '{"text": "broken json',
        '["not", "an", "object"]',
        '{"region": "长沙市"}',
        '{"text": ["a", "list"]}',
        '{"text": "' + practice_text(60, "行") + '", "topics": 5}',
        '{"text": "' + practice_text(61, "行") + '", "region": "Mars"}',
        '{"text": "' + practice_text(62, "行") + '", "source_date": "2999-12-31"}',
        '{"text": "' + practice_text(63, "行") + '", "colour": "red", "id": 1, "metrics": "x"}',
    ]), encoding="utf-8")
    report = kb.import_files([jsonl])
    assert [r.text for r in report.added] == [GOOD, practice_text(63, "行")]
    reasons = [why for _, why in report.refused]
    for expected in ("不是有效的 JSON", "JSON 对象", "为空", "应为文字", "应为列表", "不是中文地名", "在未来"):
        assert any(expected in why for why in reasons), (expected, reasons)
    assert any("colour" in w for w in report.warnings)


def test_csv_with_extra_missing_and_huge_cells(kb, tmp_path):
    path = tmp_path / "cells.csv"
    huge = "长沙市" + "审" * 200_000  # longer than the csv module's default field limit
    path.write_text("text,region,note\n"
                    f"{GOOD},长沙市,备注\n"
                    f"{practice_text(70, '列')},,备注,多余,又多余\n"
                    f"{practice_text(71, '列')}\n"
                    f"{huge},长沙市,\n", encoding="utf-8")
    report = kb.import_files([path])
    assert [r.text for r in report.added] == [GOOD, practice_text(70, "列"), practice_text(71, "列")]
    assert any("超过上限" in why for _, why in report.refused)
    assert any("note" in w for w in report.warnings) and any("多出 2 个值" in w for w in report.warnings)


# -- search ------------------------------------------------------------------------------------------
QUERIES = ['"', "*", "NEAR(", "NEAR(企业 开办)", "AND OR", "企业 AND OR NOT 开办", "'; drop table records; --",
           "开办\" OR 1=1 --", "text:开办", "^开办", "开办*", "(((", "{开办}", "-开办", "\\", "%", "_",
           "<script>alert(1)</script>", "**开办**", "企业\x00开办", "𠀾", "a" * 500]


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_query_syntax_is_searched_as_text(kb, mode):
    before = fingerprint(kb.settings.db_path)
    for query in QUERIES:
        try:
            hits = kb.search(query, k=5, mode=mode)
        except InputError as exc:
            assert query.strip('"*(\\%_') == "" or "标点" in str(exc), (query, str(exc))
            continue
        assert all(h.record.id is not None for h in hits)
    assert fingerprint(kb.settings.db_path) == before
    assert kb.search("企业开办", k=3, mode=mode)  # still answers


@pytest.mark.parametrize("query, message", [("", "请输入检索词"), ("   ", "请输入检索词"), ("？！。", "只有标点"),
                                            ("开" * 501, "超过上限")])
def test_empty_or_oversized_queries_get_a_message(kb, query, message):
    with pytest.raises(InputError, match=message):
        kb.search(query)


# -- the command line --------------------------------------------------------------------------------
def test_cli_reports_bad_input_with_a_message(kb, tmp_path, model, capsys):
    base = ["--home", str(kb.settings.home), "--model", str(model)]
    kb.close()
    before = fingerprint(kb.settings.db_path)
    assert main([*base, "add", "长沙市推行\udcff企业开办。"]) == 2  # bytes a non-UTF-8 terminal passed on
    assert "编码错误" in capsys.readouterr().err
    bad = tmp_path / "bad.docx"
    bad.write_bytes(PNG)
    assert main([*base, "import", str(bad)]) == 1
    assert "拒绝" in capsys.readouterr().out
    assert main([*base, "search", '"']) == 2
    assert capsys.readouterr().err.startswith("错误：")
    assert main([*base, "show", "999"]) == 2
    assert fingerprint(kb.settings.db_path) == before
