"""Record files (.jsonl, .csv): one practice per line or row, the fields of :class:`Record`."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from reformkb.errors import InputError
from reformkb.export import FIELD_OF_HEADER, KIND_OF_NAME, neutralise
from reformkb.ingest.documents import decode_text
from reformkb.records import Record, Source

RECORD_FILE_SUFFIXES = (".jsonl", ".csv")


def read_record_file(source: Path | bytes, name: str, max_bytes: int, refused: list, warnings: list
                     ) -> list[tuple[str, dict]]:
    """The rows of a record file as (label, fields), unknown columns dropped.

    A line that is not a JSON object is added to ``refused`` as (label, why); notes about the file
    go to ``warnings``. Raises InputError when the file as a whole cannot be read.
    """
    try:
        data = Path(source).read_bytes() if not isinstance(source, bytes) else source
    except OSError as exc:
        raise InputError(f"无法读取文件 {name}（{exc.strerror or exc}）：请检查路径和权限。") from exc
    if len(data) > max_bytes:
        raise InputError(f"{name} 超过上限 {max_bytes // (1024 * 1024)} MB：请拆分文件后再导入。")
    text = decode_text(data, name)
    if not text.strip():
        raise InputError(f"{name} 是空文件：请选择有内容的案例表。")
    known = set(Record.__dataclass_fields__) | {f"source_{k}" for k in Source.__dataclass_fields__}
    if name.lower().endswith(".jsonl"):
        rows = _jsonl_rows(text, refused)
    else:
        rows = _csv_rows(text, name, max_bytes, warnings)
    if not rows and not refused:
        raise InputError(f"{name} 中没有案例：JSONL 每行一条（JSON 对象），CSV 第一行为列名、其后每行一条。")
    extra = sorted({k for _, row in rows for k in row} - known)
    if extra:
        warnings.append(f"{name} 中以下列不是案例字段，已忽略：{', '.join(extra)}")
    out = []
    for label, row in rows:
        row = {k: v for k, v in row.items() if k in known}
        for key in ("topics", "metrics"):
            if isinstance(row.get(key), str):
                value = row[key].strip()
                try:
                    row[key] = json.loads(value) if value.startswith("[") else [t for t in value.replace("；", ";").split(";") if t.strip()]
                except json.JSONDecodeError:
                    row[key] = []
        row.pop("metrics", None)
        row.pop("id", None)
        out.append((label, row))
    return out


def _jsonl_rows(text: str, refused: list) -> list[tuple[str, dict]]:
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            refused.append((f"第 {n} 行", f"不是有效的 JSON：{exc.msg}"))
            continue
        if not isinstance(row, dict):
            refused.append((f"第 {n} 行", "应为一个 JSON 对象"))
            continue
        rows.append((f"第 {n} 行", row))
    return rows


def _csv_rows(text: str, name: str, max_bytes: int, warnings: list) -> list[tuple[str, dict]]:
    rows = []
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
    reader = csv.DictReader(io.StringIO(text))
    try:
        exported = bool(reader.fieldnames) and "做法" in reader.fieldnames  # a CSV written by reformkb's export
        if not reader.fieldnames or ("text" not in reader.fieldnames and not exported):
            raise InputError(f"{name} 缺少 text（正文）列：第一行应为列名，至少包含 text（或“做法”），"
                             "可选 region、title、topics 等。")
        for row in reader:
            label = f"第 {reader.line_num} 行"
            if None in row:
                warnings.append(f"{name} {label}比列名多出 {len(row[None])} 个值，多出的值已忽略。")
            row = {k: v for k, v in row.items() if k is not None}
            rows.append((label, _from_export(row) if exported else row))
    except csv.Error as exc:
        raise InputError(f"{name} 第 {reader.line_num} 行不是有效的 CSV（{exc}）：请用 Excel 另存为“CSV UTF-8”后再导入。") from exc
    return rows


def _from_export(row: dict) -> dict:
    """A row of a CSV export (Chinese headers) as record fields: the ' that kept a cell from being read
    as a formula is removed, 类别 is read back; derived columns (成效, 编号, 收录时间) are left out."""
    fields = {}
    for header, value in row.items():
        key = FIELD_OF_HEADER.get(header)
        if key is None:
            continue
        if isinstance(value, str) and value.startswith("'") and neutralise(value[1:]) == value:
            value = value[1:]
        fields[key] = KIND_OF_NAME.get(value, value) if key == "kind" else value
    return fields
