"""Writing records to CSV, JSONL, XLSX, and a text block to paste into a report.

CSV and XLSX carry the same columns as the record files that ``reformkb import`` reads, so an export
can be imported again without losing a field (topics joined by ";", metrics as JSON).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reformkb.errors import InputError
from reformkb.outputs import write_output
from reformkb.records import Record

FORMATS = ("csv", "jsonl", "xlsx")
COLUMNS = ["id", "ref", "kind", "region", "region_raw", "province", "city", "county", "agency", "title",
           "text", "topics", "metrics", "source_title", "source_issue", "source_date", "source_section",
           "source_file", "created_at", "updated_at", "content_hash"]
HEADERS_ZH = {"id": "编号", "region": "地区", "province": "省份", "agency": "单位", "title": "标题", "text": "做法",
              "topics": "主题", "metrics": "成效", "source_title": "来源专报", "source_issue": "期号",
              "source_date": "日期"}


def _flat(rec: Record) -> dict:
    d = rec.to_dict()
    d["topics"] = ";".join(rec.topics)
    d["metrics"] = json.dumps(rec.metrics, ensure_ascii=False)
    return {c: d.get(c, "") if d.get(c) is not None else "" for c in COLUMNS}


def to_csv(records: list[Record]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for rec in records:
        writer.writerow(_flat(rec))
    return buf.getvalue()


def to_jsonl(records: list[Record]) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)


def _safe_cell(value):
    """Spreadsheet cells never start a formula: user text beginning with = + - @ is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_xlsx(records: list[Record]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "案例"
    ws.append(COLUMNS)
    for rec in records:
        row = _flat(rec)
        ws.append([_safe_cell(row[c]) for c in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_report_text(records: list[Record]) -> str:
    """A numbered text block in the bulletin's own style, ready to paste into a report."""
    lines = []
    for n, rec in enumerate(records, 1):
        badges = "；".join(m.get("badge", "") for m in rec.metrics if m.get("badge"))
        src = "，".join(x for x in (rec.source.title, f"第{rec.source.issue}期" if rec.source.issue else "",
                                   rec.source.date) if x)
        line = f"{n}. 【{rec.region}{'·' + rec.agency if rec.agency else ''}】{rec.title}：{rec.text}"
        if badges:
            line += f"（成效：{badges}）"
        if src:
            line += f"（来源：{src}）"
        lines.append(line)
    return "\n".join(lines)


def write_records(records: list[Record], path: Path, fmt: str | None = None, *, force: bool = False,
                  protected: tuple[Path, ...] = ()) -> Path:
    """Write the records to ``path`` through :func:`reformkb.outputs.write_output` (never clobbers)."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持导出为“{fmt}”：可选 csv、jsonl、xlsx。")
    if fmt == "csv":
        data = to_csv(records).encode("utf-8-sig")
    elif fmt == "jsonl":
        data = to_jsonl(records).encode("utf-8")
    else:
        data = to_xlsx(records)
    return write_output(path, lambda tmp: tmp.write_bytes(data), force=force, protected=protected)
