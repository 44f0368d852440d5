"""Writing records for people and for machines.

For people (a report, a spreadsheet to hand on):

* :func:`to_xlsx` and :func:`to_csv` have Chinese column headers in a reading order (:data:`COLUMNS`),
  improvements as sentences (“企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）”), times in the
  machine's local time zone. The workbook has column widths, wrapped text and a frozen header row; the
  CSV is UTF-8 with a byte-order mark, so Excel opens it with the right characters. No cell ever starts
  a formula: CSV cells beginning with = + - @ (or a tab / carriage return) get a leading ', and
  workbook cells are written as text.
* :func:`to_report_text` and :func:`to_docx`: the chosen practices as paragraphs to paste into a
  report, “地区（单位）：做法。成效：…。（来源：专报名 第 N 期）”, grouped by province or topic.

For machines, :func:`to_jsonl` keeps every field of every record: it is the format for round trips
(``reformkb import`` reads it back unchanged). A CSV export can be imported again too (its Chinese
headers are mapped back to fields by :data:`FIELD_OF_HEADER`), but it carries only the columns above.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reformkb.errors import InputError
from reformkb.outputs import write_output
from reformkb.records import KIND_ACTION, KIND_PRACTICE, Record

FORMATS = ("xlsx", "csv", "jsonl", "docx")
KIND_NAMES = {KIND_PRACTICE: "标杆经验", KIND_ACTION: "本地工作动态"}
#: How a report text is grouped: by the record's province, by its first topic, or not at all.
GROUPINGS = {"region": "按地区", "topic": "按主题", "": "不分组"}


def local_time(iso: str, zone: str | None = None) -> str:
    """A stored UTC time (“2026-12-02T05:14:42+00:00”) as local time “2026-12-02 13:14”: in the time zone
    named ``zone`` (a browser's, e.g. “Asia/Shanghai”), else in this machine's."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(ZoneInfo(zone)) if zone else moment.astimezone()
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def metric_lines(rec: Record) -> list[str]:
    """The record's improvements as sentences (the stored summary, else the label and the badge)."""
    out = []
    for m in rec.metrics:
        text = m.get("summary") or (f"{m['label']}：{m.get('badge', '')}" if m.get("label") else m.get("badge", ""))
        if text:
            out.append(text)
    return out


def _issue(rec: Record) -> str:
    return f"第 {rec.source.issue} 期" if rec.source.issue else ""


#: (header, width in characters, value) of each column of a spreadsheet export, in reading order.
COLUMNS: list[tuple[str, int, Callable[[Record], object]]] = [
    ("地区", 12, lambda r: r.region),
    ("单位", 16, lambda r: r.agency),
    ("标题", 22, lambda r: r.title),
    ("做法", 70, lambda r: r.text),
    ("成效", 40, lambda r: "\n".join(metric_lines(r))),
    ("主题", 18, lambda r: "；".join(r.topics)),
    ("来源专报", 30, lambda r: r.source.title),
    ("期号", 6, lambda r: r.source.issue),
    ("日期", 12, lambda r: r.source.date),
    ("编号", 7, lambda r: r.id if r.id is not None else ""),
    ("类别", 12, lambda r: KIND_NAMES.get(r.kind, r.kind)),
    ("收录时间", 17, lambda r: local_time(r.created_at)),
]
HEADERS = [c[0] for c in COLUMNS]
#: The record field a CSV column is read back into (see :mod:`reformkb.ingest.recordfile`).
FIELD_OF_HEADER = {"地区": "region", "单位": "agency", "标题": "title", "做法": "text", "主题": "topics",
                   "来源专报": "source_title", "期号": "source_issue", "日期": "source_date", "类别": "kind"}
KIND_OF_NAME = {name: kind for kind, name in KIND_NAMES.items()}
_WRAPPED = {"标题", "做法", "成效", "主题", "来源专报"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(records: list[Record]) -> list[list]:
    return [[value(rec) for _, _, value in COLUMNS] for rec in records]


def neutralise(value):
    """A CSV cell that a spreadsheet cannot take for a formula: text starting with = + - @ gets a '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(records: list[Record]) -> bytes:
    """The records as CSV (UTF-8 with a byte-order mark), Chinese headers, formula cells neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADERS)
    for row in _rows(records):
        writer.writerow([neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def to_jsonl(records: list[Record]) -> str:
    """Every field of every record, one JSON object a line: the format for round trips."""
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)


def to_xlsx(records: list[Record]) -> bytes:
    """A workbook ready to hand on: bold frozen header, column widths, wrapped text, a filter; every
    cell that holds text is written as text (never as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "标杆经验"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8F0FE")
        cell.alignment = Alignment(vertical="center")
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for n, row in enumerate(_rows(records), 2):
        for col, value in enumerate(row, 1):
            cell = ws.cell(row=n, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # “=SUM(A1)” in a text stays text
            cell.alignment = wrap if HEADERS[col - 1] in _WRAPPED else top
    for col, (_, width, _) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(records) + 1)}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- report text -------------------------------------------------------------------------------------
_NUMERALS = "一二三四五六七八九十"
_END = "。！？；…”"


def _chinese_number(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    if n < 20:
        return "十" + _NUMERALS[n - 11]
    return f"{_NUMERALS[n // 10 - 1]}十{_NUMERALS[n % 10 - 1] if n % 10 else ''}" if n < 100 else str(n)


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,；;、")
    return text if not text or text[-1] in _END else text + "。"


def report_paragraph(rec: Record) -> str:
    """“长沙市（市行政审批服务局）：加快建设……。成效：企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）。
    （来源：永州市……工作专报 第 2 期）”. The region is not repeated where the text begins with it."""
    head = rec.region + (f"（{rec.agency}）" if rec.agency else "")
    text = " ".join(rec.text.split())
    for name in sorted({rec.region, rec.region_raw} - {""}, key=len, reverse=True):
        if text.startswith(name) and len(text) > len(name):
            text = text[len(name):].lstrip("：:，,")
            break
    parts = [f"{head}：{_sentence(text)}"]
    metrics = metric_lines(rec)
    if metrics:
        parts.append(_sentence("成效：" + "；".join(metrics)))
    source = " ".join(x for x in (rec.source.title, _issue(rec).replace(" ", "")) if x)
    if source:
        parts.append(f"（来源：{source}）")
    return "".join(parts)


def report_groups(records: list[Record], group_by: str = "region") -> list[tuple[str, list[Record]]]:
    """The records grouped for a report, in order of first appearance: by province (``region``), by
    first topic (``topic``), or one group without a heading (``""``)."""
    if group_by not in GROUPINGS:
        raise InputError(f"报告不能按“{group_by}”分组：可选 region（按地区）、topic（按主题）或不分组。")
    if not group_by:
        return [("", list(records))]
    groups: dict[str, list[Record]] = {}
    for rec in records:
        if group_by == "region":
            key = rec.province or rec.region or "未注明地区"
        else:
            key = rec.topics[0] if rec.topics else "其他"
        groups.setdefault(key, []).append(rec)
    return list(groups.items())


def to_report_text(records: list[Record], group_by: str = "region") -> str:
    """The practices as numbered paragraphs under “一、湖南省” headings, ready to paste into a report."""
    blocks = []
    for n, (heading, recs) in enumerate(report_groups(records, group_by), 1):
        lines = [f"{_chinese_number(n)}、{heading}"] if heading else []
        lines += [f"{i}. {report_paragraph(rec)}" for i, rec in enumerate(recs, 1)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def to_docx(records: list[Record], group_by: str = "region", title: str = "标杆经验摘编") -> bytes:
    """The report text as a Word document: a title, a heading per group, a paragraph per practice."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    doc.add_heading(title, level=1)
    for n, (heading, recs) in enumerate(report_groups(records, group_by), 1):
        if heading:
            doc.add_heading(f"{_chinese_number(n)}、{heading}", level=2)
        for i, rec in enumerate(recs, 1):
            doc.add_paragraph(f"{i}. {report_paragraph(rec)}")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_records(records: list[Record], path: Path, fmt: str | None = None, group_by: str = "region", *,
                  force: bool = False, protected: tuple[Path, ...] = ()) -> Path:
    """Write ``records`` to ``path`` as xlsx, csv, jsonl (every field) or docx (the report text), through
    :func:`reformkb.outputs.write_output` (never clobbers)."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持导出为“{fmt}”：可选 xlsx、csv、jsonl（保留全部字段）或 docx（报告文字）。")
    if fmt == "csv":
        data = to_csv(records)
    elif fmt == "jsonl":
        data = to_jsonl(records).encode("utf-8")
    elif fmt == "docx":
        data = to_docx(records, group_by)
    else:
        data = to_xlsx(records)
    return write_output(path, lambda tmp: tmp.write_bytes(data), force=force, protected=protected)
