"""A record is one practice (or one local action) and its validation.

Records are plain dataclasses; the store turns them into rows and back. ``content_hash`` is computed
from the text alone, so the same practice imported twice (from any file) is recognised as a
duplicate, and an unchanged text is never embedded twice.
"""
from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date

from reformkb.errors import InputError

KIND_PRACTICE = "practice"  # 【战术借鉴】: what other places did; the default search scope
KIND_ACTION = "action"  # 【战斗动态】: local actions; searched only when asked for
KINDS = (KIND_PRACTICE, KIND_ACTION)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # undecodable bytes smuggled in by surrogateescape
_PROSE_FIELDS = ("text", "title", "region", "agency")  # never a number: a number here is a mistake
_TEXT_FIELDS = ("text", "region", "region_raw", "province", "city", "county", "agency", "title",
                "kind", "ref", "created_at", "updated_at", "content_hash")


def clean_text(text: str) -> str:
    """Text as stored: control characters removed, runs of blanks folded, lines trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def check_encoding(text: str, label: str) -> None:
    """InputError when ``text`` holds bytes that were not valid text (lone surrogates)."""
    if _SURROGATE.search(text):
        raise InputError(f"{label}含有无法识别的字符（编码错误，常见于非 UTF-8 的终端或文件）：请检查后重新输入。")


def clean_field(value, label: str, max_chars: int) -> str:
    """A one-line field (title, agency, ref, source …) as stored: cleaned like text, on one line, limited."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{label}应为文字。")
    check_encoding(value, label)
    cleaned = " ".join(clean_text(value).split("\n"))
    if len(cleaned) > max_chars:
        raise InputError(f"{label}有 {len(cleaned)} 字，超过上限 {max_chars} 字：请精简，或由管理员调高 REFORMKB_MAX_FIELD_CHARS。")
    return cleaned


def content_hash(text: str) -> str:
    """A stable fingerprint of the text (whitespace-insensitive), used for duplicates and caching."""
    canonical = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def record_number(value) -> int:
    """A record id given by a caller (an int or a string of digits); InputError for anything else."""
    number = 0
    if isinstance(value, str):
        if value.strip().isdigit() and value.strip().isascii():
            number = int(value.strip())
    elif not isinstance(value, bool):
        try:
            number = operator.index(value)  # int and numpy integers, not 1.5 or None
        except TypeError:
            number = 0
    if number <= 0:
        raise InputError(f"案例编号应为正整数，而不是“{str(value)[:40]}”：请用 reformkb search 或 stats 查看现有编号。")
    return number


def embed_text(rec: "Record") -> str:
    """What is embedded for a record: its place, agency and title give context to the text."""
    head = "".join(x for x in (rec.region, rec.agency) if x)
    return f"{head}：{rec.title}。{rec.text}" if head else f"{rec.title}。{rec.text}"


def vector_key(rec: "Record") -> str:
    """The vector cache key of a record: a fingerprint of everything embedded (:func:`embed_text`),
    so that a change to the title, region, agency or text gets a new vector."""
    return content_hash(embed_text(rec))


def has_content(text: str) -> bool:
    """True when the text has at least two letters or CJK characters (not only punctuation)."""
    return sum(1 for ch in text if ch.isalnum()) >= 2


@dataclass
class Source:
    """Where a record came from: the bulletin's title, 期号, date and section."""

    title: str = ""
    issue: str = ""
    date: str = ""  # ISO yyyy-mm-dd, or ""
    section: str = ""
    file: str = ""


@dataclass
class Record:
    """One practice. ``id`` is None until the store assigns it."""

    text: str
    region: str = ""  # normalized name, e.g. 长沙市
    region_raw: str = ""  # as written, e.g. 长沙
    province: str = ""
    city: str = ""
    county: str = ""
    agency: str = ""
    title: str = ""
    topics: list[str] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    source: Source = field(default_factory=Source)
    kind: str = KIND_PRACTICE
    ref: str = ""
    id: int | None = None
    created_at: str = ""
    updated_at: str = ""
    content_hash: str = ""

    def to_dict(self) -> dict:
        """A flat, JSON-ready dict (source fields prefixed ``source_``)."""
        # Built by hand: dataclasses.asdict deep-copies recursively and was a fifth of the time of
        # storing a record (measured while profiling ingest).
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}
        d["topics"] = list(self.topics)
        d["metrics"] = [dict(m) for m in self.metrics]
        d.update({f"source_{f.name}": getattr(self.source, f.name) for f in fields(self.source)})
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Record":
        """Inverse of :meth:`to_dict`; unknown keys are ignored, missing ones take defaults.

        Raises InputError for a value of the wrong shape (a list where text belongs, an id that is
        not a number), so that a bad row of a record file is refused with a reason.
        """
        if not isinstance(d, dict):
            raise InputError("案例应为字段表（dict），例如 {\"text\": \"……\", \"region\": \"长沙市\"}。")
        for key in [f"source_{k}" for k in Source.__dataclass_fields__] + list(_TEXT_FIELDS):
            value = d.get(key)
            if isinstance(value, (list, dict, tuple, set)):
                raise InputError(f"字段 {key} 应为文字，而不是列表或对象。")
            if isinstance(value, (bytes, bytearray, memoryview)):
                raise InputError(f"字段 {key} 应为文字，而不是字节串（bytes）：请先按正确的编码解码。")
            if key in _PROSE_FIELDS and value is not None and not isinstance(value, str):
                raise InputError(f"字段 {key} 应为文字，而不是 {type(value).__name__}（{str(value)[:20]}）。")
        src = Source(**{k: str(d.get(f"source_{k}") or "") for k in Source.__dataclass_fields__})
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k != "source"}
        known.setdefault("text", "")
        for key in ("topics", "metrics"):
            value = known.get(key)
            if value is None:
                known[key] = []
            elif key == "topics" and isinstance(value, str):
                known[key] = [t.strip() for t in re.split(r"[;；,，、]", value) if t.strip()]
            elif not isinstance(value, (list, tuple)):
                raise InputError(f"字段 {key} 应为列表，例如 [\"企业注销\"]。")
            else:
                known[key] = list(value)
        rec = cls(**known, source=src)
        if rec.id in ("", None):
            rec.id = None
        else:
            try:
                rec.id = int(rec.id)
            except (TypeError, ValueError):
                raise InputError(f"编号“{rec.id}”不是数字。") from None
        for attr in _TEXT_FIELDS:
            value = getattr(rec, attr)
            setattr(rec, attr, "" if value is None else str(value))
        return rec


def parse_date(value: str, *, allow_future: bool = False, today: date | None = None) -> str:
    """Normalize a date such as 2023-03-18, 2023/3/18, 2023年3月18日 or 2023.3 to ISO; "" stays "".

    Raises InputError for text that is not a date or a date in the future.
    """
    value = (value or "").strip()
    if not value:
        return ""
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?", value)
    if not m:
        raise InputError(f"无法识别日期“{value}”：请按 2023-03-18 或 2023年3月18日 的格式填写。")
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
    try:
        parsed = date(y, mo, d)
    except ValueError:
        raise InputError(f"日期“{value}”不存在：请检查年、月、日。") from None
    if not allow_future and parsed > (today or date.today()):
        raise InputError(f"日期“{value}”在未来：请填写专报实际印发的日期。")
    return parsed.isoformat() if m.group(3) else f"{y:04d}-{mo:02d}"


def validate_text(text: str, max_chars: int) -> str:
    """The cleaned text, or InputError when it is empty, punctuation only, or too long."""
    if not isinstance(text, str):
        raise InputError("案例正文必须是文字。")
    check_encoding(text, "案例正文")
    cleaned = clean_text(text)
    if not cleaned:
        raise InputError("案例正文为空：请填写做法的具体内容。")
    if not has_content(cleaned):
        raise InputError("案例正文只有标点或符号：请填写做法的具体内容。")
    if len(cleaned) > max_chars:
        raise InputError(
            f"案例正文有 {len(cleaned)} 字，超过上限 {max_chars} 字：请拆成几条案例，"
            "或由管理员调高 REFORMKB_MAX_TEXT_CHARS。"
        )
    return cleaned


def edited(current: Record, changes: dict) -> Record:
    """``current`` with ``changes`` applied, not yet completed: a new text re-derives the title and
    topics unless they are given too, and a new region replaces what was written. Raises InputError
    for an unknown field."""
    data = current.to_dict()
    if "source" in changes:
        src = changes.pop("source")
        data.update({f"source_{k}": v for k, v in (src if isinstance(src, dict) else src.__dict__).items()})
    unknown = set(changes) - set(data)
    if unknown:
        raise InputError(f"无法修改未知字段：{', '.join(sorted(unknown))}。")
    if "text" in changes and "topics" not in changes and changes["text"] != current.text:
        data["topics"] = []  # re-derive topics for a new text unless the user set them
    if "text" in changes and "title" not in changes and changes["text"] != current.text:
        data["title"] = ""
    if "region" in changes:
        data["region_raw"] = ""
    data.update(changes)
    rec = Record.from_dict(data)
    rec.id = current.id
    return rec


MAX_HITS = 1000  # the most hits one search returns


def whole_number(value, what: str, low: int = 1, high: int | None = None):
    """``value`` if it is a whole number in low … high; InputError (saying ``what`` it is) if not."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        span = f"{low} 到 {high} 之间" if high is not None else f"不小于 {low} "
        raise InputError(f"{what}应为{span}的整数，而不是“{str(value)[:20]}”。")
    return value


def hit_count(k) -> int:
    """How many hits were asked for (1 … MAX_HITS); InputError for anything else."""
    return whole_number(k, "返回条数", 1, MAX_HITS)
