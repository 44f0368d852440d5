"""Quantified improvements (量化成效) found in a practice text.

:func:`extract_metrics` finds four kinds of figures, in this order of precedence (a phrase taken by
one kind is not read again by a later one):

``steps``
    a run of procedure totals: “全流程只需 3 个环节、申请 8 个事项、10 个工作日”, or a lone
    “N 个环节”. ``value`` is the duration in the run (工作日/天/小时) or ``None``; the parts are kept
    in ``text`` and shown by :meth:`Metric.badge`.
``reduction``
    a before→after pair with a shrinking verb: “由 20 个工作日压缩至 0.5 个工作日”, “从5天缩短到1天”,
    or only the “after” side: “压缩至3个工作日以内”. ``value`` is the after figure.
``ratio``
    a percentage (“90%以上”, “百分之九十”, “3个百分点”). After a shrinking verb (“审批时限压减60%”)
    its ``reduction_pct`` is the percentage too, so that :func:`best_reduction` can rank it.
``count``
    a quantity with a measure word: “5088 项政务服务”, “26 类证明”, “提供就业岗位5000余个”.

What is never read as a figure: dates and years (“3月16日”, “2023年”, “2022—2025年”), issue and
ordinal numbers (“第 2 期”, “第7次”, “二十条”), phone numbers and other numbers without a measure
word. Chinese numerals (“两个工作日”, “一天”) are read only where they cannot be part of a slogan:
in before→after pairs and procedure runs, and with a unit of time after a word like 用/需/仅/至.

The text may come from PDF extraction: whitespace between characters is ignored (“由 20 个工作日”),
and full-width digits are read as digits. ``Metric.text`` is the phrase as written, with runs of
whitespace collapsed to one space.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reformkb.errors import InputError

KINDS = ("reduction", "steps", "count", "ratio")
#: A label is at most this many characters (the words nearest the figure are kept).
MAX_LABEL_CHARS = 12

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------
_ARABIC = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_CHINESE = r"[零〇一二两三四五六七八九十百千]+|半"
_NUM = rf"(?:{_ARABIC}|{_CHINESE})"
# Units of time, longest first. Bare 日/月/年 are not units: they are dates.
_TIME_UNITS = ["个工作日", "个自然日", "工作日", "自然日", "个小时", "个月", "小时", "分钟", "天"]
_STEP_UNITS = ["个环节", "个事项", "环节", "事项"]
_COUNT_UNITS = [
    "平方米", "人次", "户次", "件次", "万元", "亿元", "公里",
    "项", "类", "家", "个", "件", "份", "户", "人", "次", "笔", "张", "批", "名", "套", "台",
    "元", "亩", "所", "座", "场", "期次",
]
_ALL_UNITS = sorted(set(_TIME_UNITS + _STEP_UNITS + _COUNT_UNITS), key=len, reverse=True)
_UNIT = "(?:" + "|".join(map(re.escape, _ALL_UNITS)) + ")"
# Verbs that make a figure smaller (a reduction); 提速 means the time shrinks.
_SHRINK = "压缩|缩短|缩减|减少|压减|精简|降低|下降|降|减|节约|节省|提速|提效|控制"
_BOUNDARY = "，。；;：:！？!?、\n（）()《》【】"
_QUOTES = "“”‘’\"'「」『』"

# Minutes in one unit of clock time, to compare “由3天压缩至4小时”. Only exact conversions: a working
# day is not 24 hours and a month is not a fixed number of days, so “由1个工作日压缩至2小时” keeps both
# figures and gets no percentage (天 and 个工作日 are compared as counts of days, see _reduction_units).
_MINUTES = {"分钟": 1, "小时": 60, "个小时": 60, "天": 1440, "个自然日": 1440}
#: Every unit of time (durations in procedure runs, labels of time counts).
_DURATIONS = set(_MINUTES) | {"个工作日", "个月"}
# Words that qualify a figure and are kept with it: “90%以上”, “3个工作日以内”, “近90%”, “5000余个”.
_SUFFIX_QUALIFIERS = ("以上", "以内", "之内", "以下", "左右", "内")
_PREFIX_QUALIFIERS = ("近", "约", "超过", "超", "逾")
_LIMIT = "(?P<limit>以内|之内|以下|以上|左右|内)?"

# A number may not follow a digit, a decimal point, a letter, a dash or slash (phone numbers,
# codes, ranges) or 第 (ordinals).
_NOT_AFTER = set("0123456789.,-—–/第#№") | set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# A Chinese numeral with a unit of time is a figure only after one of these (or punctuation):
# 统一天然气 and 一天一个样 are not figures.
_CHINESE_OK_AFTER = set("用需仅只至到为在约近时缩短减少压") | set(_BOUNDARY) | set(_QUOTES)

_STEPS_ATOM = (
    rf"(?:{_NUM})(?:个)?(?:环节|事项)"
    rf"|(?:{_NUM})(?:份|件|个|项)?材料"
    rf"|(?:{_NUM})(?:个)?(?:工作日|自然日)|(?:{_NUM})(?:个)?小时|(?:{_NUM})天"
)
_STEPS_RUN = re.compile(
    rf"(?:{_STEPS_ATOM})(?:(?:[、，,]|以及|和|及|与)[\u4e00-\u9fff]{{0,3}}?(?:{_STEPS_ATOM}))+"
)
_STEPS_PART = re.compile(
    rf"(?P<n>{_NUM})(?P<unit>(?:个)?(?:环节|事项)|(?:份|件|个|项)?材料|(?:个)?(?:工作日|自然日)"
    rf"|(?:个)?小时|天)"
)
_REDUCTION = re.compile(
    rf"(?:由|从)(?:原来的|原先的|原有的|过去的|以前的|此前的|原来|原先|过去|原|平均|\d{{4}}年的?){{0,2}}"
    rf"(?P<a>{_NUM})(?P<amult>万|亿)?(?P<aunit>{_UNIT}|%)?"
    rf"(?P<verb>[^\d{_BOUNDARY}]{{0,4}}?)(?:至|到|为|成)(?:现在的|目前的|现在|目前|现)?"
    rf"(?P<b>{_NUM})(?P<bmult>万|亿)?(?:余|多)?(?P<bunit>{_UNIT}|%){_LIMIT}"
)
_AFTER_ONLY = re.compile(
    rf"(?P<verb>{_SHRINK})(?:在|至|到|为)(?P<b>{_NUM})(?P<bmult>万|亿)?(?P<bunit>{_UNIT}|%){_LIMIT}"
)
_RATIO = re.compile(
    rf"(?:(?P<verb>{_SHRINK})了?)?(?P<pre>达到|达|超过|超|近|约|逾)?"
    rf"(?:(?P<n>{_ARABIC})(?P<unit>%|个百分点)|百分之(?P<cn>{_ARABIC}|{_CHINESE})|(?P<n3>{_CHINESE})个百分点)"
    rf"(?P<limit>以上|以下|左右)?"
)
_COUNT = re.compile(
    rf"(?P<pre>近|约|超过|逾)?(?P<n>{_NUM})(?P<mult>万|亿)?(?P<approx>余|多)?(?P<unit>{_UNIT})"
    rf"(?P<limit>以上|以内|之内|左右)?"
)

# Words stripped from the edges of a label: scope and time adverbs in front, verbs and
# prepositions that lead into the figure behind.
_LABEL_LEADING = (
    "截至目前", "今年以来", "目前已", "现已", "目前", "已经", "全市", "全省", "全县", "全区", "全国",
    "累计", "共计", "合计", "其中", "同时", "通过", "实现", "推动", "提供", "发放", "达成", "新增",
    "惠及", "帮助", "吸引", "带动", "完成", "已", "共", "将", "把", "使", "让", "为", "对", "在", "并", "且",
)
_LABEL_TRAILING = (
    "只需", "仅需", "仅用", "需要", "用时", "耗时", "达到", "超过", "共计", "累计", "合计",
    "压缩", "压减", "缩短", "缩减", "减少", "降低", "下降", "提速", "提高", "提升", "增长", "增加",
    "精简", "控制", "由", "从", "仅", "只", "需", "用", "达", "超", "约", "近", "逾", "共", "为",
    "是", "至", "到", "等", "的", "了",
)
# After a measure word the label ends where the sentence goes on with a verb or conjunction.
_AFTER_STOP = re.compile(
    "可|能|实现|已|均|全部|参会|参加|参与|达成|完成|获得|纳入|享受|通过|进驻|入驻|上线|在|被|"
    "得到|办理|开展|提供|覆盖|实行|进行|的|等|和|与|及|并|即"
)


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Metric:
    """One quantified improvement found in a text (see the module docstring for the kinds)."""

    kind: str
    text: str
    label: str
    unit: str
    before: float | None = None
    after: float | None = None
    value: float | None = None
    reduction_pct: float | None = None
    #: The unit of ``before`` when it cannot be converted to ``unit`` (“由1个工作日压缩至2小时”).
    before_unit: str = ""
    #: Words around the figure that qualify it, as written: “近”, “以上”, “余”, “近|以上”.
    qualifier: str = ""

    def _qualified(self, figure: str) -> str:
        words = [w for w in self.qualifier.split("|") if w]
        pre = "".join(w for w in words if w in _PREFIX_QUALIFIERS)
        post = "".join(w for w in words if w not in _PREFIX_QUALIFIERS and w not in ("余", "多"))
        return f"{pre}{figure}{post}"

    def badge(self) -> str:
        """A short display form: “20→0.5 个工作日，压缩 97.5%”, “3个环节、8个事项、10个工作日”,
        “5088 项”, “90%以上”, “1 个工作日→2 小时” (units that do not convert: no percentage).
        Qualifiers (近、以上、以内、余) are kept."""
        if self.kind == "reduction":
            if self.before is None:
                space = "" if self.unit == "%" else " "
                return self._qualified(f"压缩至 {_fmt(self.after)}{space}{self.unit}".rstrip())
            if self.before_unit:
                head = f"{_fmt(self.before)} {self.before_unit}→{_fmt(self.after)} {self.unit}"
            elif self.unit == "%":
                head = f"{_fmt(self.before)}%→{_fmt(self.after)}%"
            else:
                head = f"{_fmt(self.before)}→{_fmt(self.after)} {self.unit}".rstrip()
            head = self._qualified(head)
            if self.reduction_pct is None:
                return head
            if self.reduction_pct < 0:
                return f"{head}，增加 {_fmt(-self.reduction_pct)}%"
            return f"{head}，压缩 {_fmt(self.reduction_pct)}%"
        if self.kind == "steps":
            parts = [
                f"{_fmt(_parse_number(m.group('n')))}{_normal_unit(m.group('unit'))}"
                for m in _STEPS_PART.finditer(_compact(self.text)[0])
            ]
            return "、".join(parts) or self.text
        if self.kind == "ratio":
            number = self._qualified(f"{_fmt(self.value)}{'%' if self.unit == '%' else ' ' + self.unit}")
            if self.reduction_pct is None:
                return number
            verb = re.match(_SHRINK, _compact(self.text)[0])
            return f"{verb.group(0) if verb else '压缩'} {number}"
        approx = "余" if "余" in self.qualifier.split("|") else ("多" if "多" in self.qualifier.split("|") else "")
        return self._qualified(f"{_fmt(self.value)} {approx}{self.unit}".rstrip())

    def labelled(self) -> str:
        """The badge with what it measures: “企业注销：20→0.5 个工作日，压缩 97.5%”, “证明：26 类”."""
        return f"{self.label}：{self.badge()}" if self.label else self.badge()

    def summary(self) -> str:
        """A sentence for a report or a spreadsheet cell:
        “企业注销：20 个工作日 → 0.5 个工作日（压缩 97.5%）”, “一次办比例：90%以上”."""
        if self.kind == "reduction" and self.before is not None:
            before_unit = self.before_unit or self.unit
            sep = "" if before_unit == "%" else " "
            after_sep = "" if self.unit == "%" else " "
            text = self._qualified(f"{_fmt(self.before)}{sep}{before_unit} → {_fmt(self.after)}{after_sep}{self.unit}")
            if self.reduction_pct is not None:
                word = "压缩" if self.reduction_pct >= 0 else "增加"
                text += f"（{word} {_fmt(abs(self.reduction_pct))}%）"
        else:
            text = self.badge()
        return f"{self.label}：{text}" if self.label else text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Metric":
        """The metric stored by :meth:`to_dict`. Raises InputError when ``d`` is not one."""
        if not isinstance(d, dict) or d.get("kind") not in KINDS:
            raise InputError(f"无法读取量化指标：kind 必须是 {'、'.join(KINDS)} 之一。")

        def number(key: str) -> float | None:
            raw = d.get(key)
            if raw is None:
                return None
            try:
                return float(raw)
            except (TypeError, ValueError):
                raise InputError(f"无法读取量化指标：{key} 应为数字，实际为“{raw}”。") from None

        return cls(
            kind=d["kind"],
            text=str(d.get("text", "")),
            label=str(d.get("label", "")),
            unit=str(d.get("unit", "")),
            before=number("before"),
            after=number("after"),
            value=number("value"),
            reduction_pct=number("reduction_pct"),
            before_unit=str(d.get("before_unit", "")),
            qualifier=str(d.get("qualifier", "")),
        )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
_FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {"．": ".", "％": "%"}
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
                   "六": 6, "七": 7, "八": 8, "九": 9}
_CHINESE_POWERS = {"十": 10, "百": 100, "千": 1000}


def _compact(text: str) -> tuple[str, list[int]]:
    """``text`` without whitespace (kept only between two ASCII letters or digits) and with
    full-width digits made ASCII, plus the index in ``text`` of every character kept."""
    following = [""] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        following[i] = following[i + 1] if text[i].isspace() else text[i]
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            before, after = (chars[-1] if chars else ""), following[i]
            if _ascii_alnum(before) and _ascii_alnum(after):
                chars.append(" ")
                index.append(i)
            continue
        chars.append(_FULL_WIDTH.get(ch, ch))
        index.append(i)
    return "".join(chars), index


def _ascii_alnum(ch: str) -> bool:
    return len(ch) == 1 and ch.isascii() and ch.isalnum()


def _parse_number(raw: str) -> float:
    """The value of an Arabic (“5,088”, “0.5”) or Chinese (“两”, “二十”, “一百二十”, “半”) numeral."""
    raw = raw.replace(",", "")
    if raw and raw[0].isdigit():
        return float(raw)
    if raw == "半":
        return 0.5
    total, digit = 0, None
    for ch in raw:
        if ch in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[ch]
        elif ch in _CHINESE_POWERS:
            total += (1 if digit is None else digit) * _CHINESE_POWERS[ch]
            digit = None
    return float(total + (digit or 0))


def _is_chinese_numeral(raw: str) -> bool:
    return not raw[:1].isdigit()


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _normal_unit(unit: str) -> str:
    """工作日 → 个工作日, 环节 → 个环节 … so that badges and comparisons agree."""
    return "个" + unit if unit in ("工作日", "自然日", "环节", "事项") else unit


def _number_ok(compact: str, start: int, raw: str, strict_chinese: bool) -> bool:
    """Whether the numeral at ``start`` is a figure and not part of a date, code or ordinal."""
    prev = compact[start - 1] if start > 0 else ""
    if prev in _NOT_AFTER:
        return False
    if strict_chinese and _is_chinese_numeral(raw):
        return prev == "" or prev in _CHINESE_OK_AFTER or not _is_cjk(prev)
    return True


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _strip_words(text: str, words: tuple[str, ...], leading: bool) -> str:
    changed = True
    while changed and text:
        changed = False
        for word in words:
            if leading and text.startswith(word):
                text, changed = text[len(word):], True
            elif not leading and text.endswith(word):
                text, changed = text[: -len(word)], True
    return text


def _before_label(compact: str, start: int) -> str:
    """The subject words just before the figure, up to the previous clause boundary."""
    segment = compact[max(0, start - 40):start]
    for i in range(len(segment) - 1, -1, -1):
        if segment[i] in _BOUNDARY:
            segment = segment[i + 1:]
            break
    segment = "".join(ch for ch in segment if ch not in _QUOTES)
    segment = _strip_words(segment, _LABEL_TRAILING, leading=False)
    segment = _strip_words(segment, _LABEL_LEADING, leading=True)
    return segment[-MAX_LABEL_CHARS:]


def _after_label(compact: str, end: int) -> str:
    """The noun right after a measure word (“5088 项政务服务实现…” → 政务服务)."""
    segment = compact[end:end + 30]
    for i, ch in enumerate(segment):
        if ch in _BOUNDARY:
            segment = segment[:i]
            break
    segment = "".join(ch for ch in segment if ch not in _QUOTES)
    stop = _AFTER_STOP.search(segment)
    if stop:
        segment = segment[: stop.start()]
    return segment[:MAX_LABEL_CHARS]


def _pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before <= 0:
        return None
    return round((before - after) / before * 100, 1)


def _reduction_units(aunit: str, bunit: str, before: float) -> tuple[str, float, bool]:
    """The unit of a before→after pair, the before figure in that unit, and whether the two
    figures are comparable (“由3天压缩至4小时” → 小时, 72, True; “由1个工作日压缩至2小时” → 小时, 1, False)."""
    if not aunit or aunit == bunit:
        return bunit, before, True
    if aunit in _MINUTES and bunit in _MINUTES:
        return bunit, before * _MINUTES[aunit] / _MINUTES[bunit], True
    if {aunit, bunit} == {"天", "个工作日"}:
        return bunit, before, True  # both count days: bulletins write “压缩至一天” for one working day
    if aunit in _DURATIONS or bunit in _DURATIONS:
        return bunit, before, False  # 个工作日 vs 小时, 个月 vs 天: not convertible
    if aunit.endswith(bunit) or aunit.startswith(bunit) or aunit.startswith("个" + bunit):
        return aunit, before, True  # 由7个环节精简为3个
    if bunit.endswith(aunit) or bunit.startswith(aunit):
        return bunit, before, True
    return bunit, before, False


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------
@dataclass
class _Found:
    start: int
    end: int
    metric: Metric


class _Scanner:
    """Finds metrics in one compacted text, claiming the characters each metric uses."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.compact, self.index = _compact(text)
        self.taken = [False] * len(self.compact)
        self.found: list[_Found] = []

    def original(self, start: int, end: int) -> str:
        raw = self.text[self.index[start]: self.index[end - 1] + 1]
        return re.sub(r"\s+", " ", raw).strip()

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def claim(self, start: int, end: int, metric: Metric) -> None:
        self.taken[start:end] = [True] * (end - start)
        self.found.append(_Found(start, end, metric))

    # -- kinds, in order of precedence --------------------------------------------------------
    def steps(self) -> None:
        for m in _STEPS_RUN.finditer(self.compact):
            parts = list(_STEPS_PART.finditer(m.group(0)))
            units = [_normal_unit(p.group("unit")) for p in parts]
            if not any(u in ("个环节", "个事项") or u.endswith("材料") for u in units):
                continue
            first = parts[0]
            if not _number_ok(self.compact, m.start() + first.start(), first.group("n"), False):
                continue
            if not self.free(m.start(), m.end()):
                continue
            duration = next(
                (_parse_number(p.group("n")) for p, u in zip(parts, units) if u in _DURATIONS), None
            )
            unit = next((u for u in units if u in _DURATIONS), units[0])
            metric = Metric(
                kind="steps",
                text=self.original(m.start(), m.end()),
                label=_before_label(self.compact, m.start()),
                unit=unit,
                value=duration,
            )
            self.claim(m.start(), m.end(), metric)

    def reductions(self) -> None:
        for m in _REDUCTION.finditer(self.compact):
            if not re.search(_SHRINK, m.group("verb")) or not self.free(m.start(), m.end()):
                continue
            if not _number_ok(self.compact, m.start("a"), m.group("a"), False):
                continue
            before = _parse_number(m.group("a"))
            after = _parse_number(m.group("b"))
            aunit = (m.group("amult") or "") + _normal_unit(m.group("aunit") or "")
            bunit = (m.group("bmult") or "") + _normal_unit(m.group("bunit"))
            if not m.group("aunit") and m.group("amult"):
                aunit = ""
                before *= 1e4 if m.group("amult") == "万" else 1e8
            unit, before, comparable = _reduction_units(aunit, bunit, before)
            metric = Metric(
                kind="reduction",
                text=self.original(m.start(), m.end()),
                label=_before_label(self.compact, m.start()),
                unit=unit,
                before=before,
                after=after,
                value=after,
                reduction_pct=_pct(before, after) if comparable else None,
                before_unit="" if comparable else aunit,
                qualifier=m.group("limit") or "",
            )
            self.claim(m.start(), m.end(), metric)
        for m in _AFTER_ONLY.finditer(self.compact):
            if not self.free(m.start(), m.end()):
                continue
            if not _number_ok(self.compact, m.start("b"), m.group("b"), False):
                continue
            after = _parse_number(m.group("b"))
            metric = Metric(
                kind="reduction",
                text=self.original(m.start(), m.end()),
                label=_before_label(self.compact, m.start()),
                unit=(m.group("bmult") or "") + _normal_unit(m.group("bunit")),
                after=after,
                value=after,
                qualifier=m.group("limit") or "",
            )
            self.claim(m.start(), m.end(), metric)

    def ratios(self) -> None:
        for m in _RATIO.finditer(self.compact):
            number_start = next(m.start(g) for g in ("n", "cn", "n3") if m.group(g))
            raw = m.group("n") or m.group("cn") or m.group("n3")
            if not self.free(m.start(), m.end()):
                continue
            if not _number_ok(self.compact, number_start, raw, False) and not m.group("cn"):
                continue
            value = _parse_number(raw)
            unit = "个百分点" if (m.group("unit") == "个百分点" or m.group("n3")) else "%"
            label = _before_label(self.compact, m.start()) or _after_label(self.compact, m.end())
            qualifier = "|".join(q for q in (m.group("pre"), m.group("limit")) if q and q not in ("达", "达到"))
            metric = Metric(
                kind="ratio",
                text=self.original(m.start(), m.end()),
                label=label,
                unit=unit,
                value=value,
                reduction_pct=value if (m.group("verb") and unit == "%") else None,
                qualifier=qualifier,
            )
            self.claim(m.start(), m.end(), metric)

    def counts(self) -> None:
        for m in _COUNT.finditer(self.compact):
            raw, unit = m.group("n"), _normal_unit(m.group("unit"))
            if not self.free(m.start(), m.end()):
                continue
            if _is_chinese_numeral(raw) and (unit not in _DURATIONS or m.group("mult")):
                continue  # 一次办、一件事、两位常委: slogans and words, not figures
            if not _number_ok(self.compact, m.start("n"), raw, True):
                continue
            full_unit = (m.group("mult") or "") + unit
            qualifier = "|".join(q for q in (m.group("pre"), m.group("approx"), m.group("limit")) if q)
            if unit in _DURATIONS:
                label = _before_label(self.compact, m.start())
            else:
                label = _after_label(self.compact, m.end()) or _before_label(
                    self.compact, m.start()
                )
            metric = Metric(
                kind="steps" if unit == "个环节" else "count",
                text=self.original(m.start(), m.end()),
                label=label,
                unit=full_unit,
                value=None if unit == "个环节" else _parse_number(raw),
                qualifier=qualifier,
            )
            self.claim(m.start(), m.end(), metric)


def extract_metrics(text: str) -> list[Metric]:
    """Every quantified improvement in ``text``, in order of appearance, without duplicates.

    Returns ``[]`` for empty text or text without figures. See the module docstring for what is
    and is not read as a figure.
    """
    if not text or not text.strip():
        return []
    scanner = _Scanner(text)
    scanner.steps()
    scanner.reductions()
    scanner.ratios()
    scanner.counts()
    seen: set[tuple] = set()
    result = []
    for found in sorted(scanner.found, key=lambda f: f.start):
        m = found.metric
        key = (m.kind, m.label, m.unit, m.before, m.after, m.value, _compact(m.text)[0])
        if key not in seen:
            seen.add(key)
            result.append(m)
    return result


def best_reduction(metrics: list[Metric]) -> float | None:
    """The largest ``reduction_pct`` among ``metrics`` (for sorting practices), or ``None``."""
    values = [m.reduction_pct for m in metrics if m.reduction_pct is not None]
    return max(values) if values else None


def record_metrics(text: str) -> list[dict]:
    """What a record stores as its metrics: each figure of :func:`extract_metrics` as a dict, with its
    badge and summary."""
    return [{**m.to_dict(), "badge": m.badge(), "summary": m.summary()} for m in extract_metrics(text)]


#: Changes whenever this module does. A knowledge base whose metrics another version read has them read
#: again when it is opened (:meth:`reformkb.store.Store.refresh_metrics`), so an upgrade that reads
#: figures better also corrects the records stored before it.
VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
