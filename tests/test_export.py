"""Exports for people (xlsx, csv, report text, docx) and for machines (jsonl): reformkb.export (issue 15)."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from docx import Document
from openpyxl import load_workbook

from reformkb.export import HEADERS, local_time, report_paragraph, to_csv, to_docx, to_report_text, to_xlsx
from reformkb.records import Record, Source

EXPECTED_HEADERS = ["地区", "单位", "标题", "做法", "成效", "主题", "来源专报", "期号", "日期", "编号", "类别", "收录时间"]


def changsha(seeded_kb) -> Record:
    return next(r for r in seeded_kb.records() if r.region == "长沙市")


def test_headers_are_chinese_in_reading_order():
    assert HEADERS == EXPECTED_HEADERS


def test_xlsx_is_ready_to_hand_on(seeded_kb):
    records = seeded_kb.records()
    ws = load_workbook(io.BytesIO(to_xlsx(records))).active
    assert [c.value for c in ws[1]] == EXPECTED_HEADERS
    assert ws.freeze_panes == "A2" and ws[1][0].font.bold
    assert ws.column_dimensions["D"].width >= 60 and ws.column_dimensions["A"].width < 20
    rows = {r[9].value: r for r in ws.iter_rows(min_row=2)}
    assert len(rows) == len(records)
    cs = rows[changsha(seeded_kb).id]
    assert cs[0].value == "长沙市" and cs[3].alignment.wrap_text
    assert "企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）" in cs[4].value
    assert "{" not in cs[4].value  # no raw JSON
    assert cs[7].value == "2" and cs[8].value == "2023-03-18" and cs[10].value == "标杆经验"
    assert "T" not in cs[11].value and "+00:00" not in cs[11].value


def test_no_cell_becomes_a_formula():
    risky = Record(text="=SUM(A1:A9) 株洲市推行容缺受理", region="株洲市", title="+1", agency="@局", id=7,
                   topics=["-政务服务"], source=Source(title="=HYPERLINK(\"http://x\")"))
    ws = load_workbook(io.BytesIO(to_xlsx([risky]))).active
    row = ws[2]
    assert [c.data_type for c in row if c.value is not None] and all(c.data_type != "f" for c in row)
    assert row[3].value == "=SUM(A1:A9) 株洲市推行容缺受理"  # shown as written
    data = to_csv([risky])
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    cells = next(r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))) if r[0] == "株洲市")
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@")), cell
    assert cells[3] == "'=SUM(A1:A9) 株洲市推行容缺受理" and cells[2] == "'+1"


def test_csv_export_imports_again(seeded_kb, empty_kb, tmp_path):
    records = seeded_kb.records()
    path = seeded_kb.export(records, tmp_path / "out.csv")
    report = empty_kb.import_files([path])
    assert report.refused == [] and len(report.added) == len(records)
    back = {r.content_hash: r for r in empty_kb.records()}
    for rec in records:
        copy = back[rec.content_hash]
        assert (copy.region, copy.agency, copy.title, copy.text, copy.topics, copy.kind, copy.source.title,
                copy.source.issue, copy.source.date) == (rec.region, rec.agency, rec.title, rec.text, rec.topics,
                                                         rec.kind, rec.source.title, rec.source.issue, rec.source.date)


def test_jsonl_keeps_every_field(seeded_kb, tmp_path):
    records = seeded_kb.records()
    lines = seeded_kb.export(records, tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [r.to_dict() for r in records]


def test_local_time():
    stamp = "2026-12-02T05:14:42+00:00"
    assert local_time(stamp) == datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    assert local_time("") == ""
    assert local_time(stamp, "Asia/Shanghai") == "2026-12-02 13:14"  # the browser's zone, where known


def test_report_paragraph_reads_like_the_bulletin(seeded_kb):
    text = report_paragraph(changsha(seeded_kb))
    assert text.startswith("长沙市：加快建设“无证明城市”")  # the region is not said twice
    assert "。成效：" in text and "企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）" in text
    assert text.endswith("（来源：永州市打好优化发展环境持久仗工作专报 第2期）")


@pytest.mark.parametrize("group_by", ["region", "topic"])
def test_report_text_is_grouped(seeded_kb, group_by):
    records = seeded_kb.records(order="region")[:6]
    text = to_report_text(records, group_by)
    first = records[0].province if group_by == "region" else records[0].topics[0]
    assert text.startswith(f"一、{first}\n1. {report_paragraph(records[0])}")
    assert sum(line[:2] == "1." for line in text.splitlines()) == len({
        (r.province if group_by == "region" else r.topics[0]) for r in records})
    flat = to_report_text(records, "")
    assert flat.splitlines()[0].startswith("1. ") and len(flat.splitlines()) == len(records)


def test_docx_holds_the_report(seeded_kb):
    records = seeded_kb.records(order="region")[:3]
    doc = Document(io.BytesIO(to_docx(records, "region")))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "标杆经验摘编" and paragraphs[1] == f"一、{records[0].province}"
    assert paragraphs[2] == "1. " + report_paragraph(records[0])
