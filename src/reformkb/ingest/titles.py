"""Short titles for practice texts, and the agency a practice sentence names as its actor.

:func:`make_title` turns “长沙市加快建设“无证明城市”，目前 26 类证明可在线开具……” into
“无证明城市”. It looks only at the first sentence, after the subject (region, date, agency):

1. a quoted name (“”, 「」, 『』, ‘’, ""): “无证明城市”; names joined by +、和 stay together
   (“智慧破产”+“府院联动” → 智慧破产+府院联动); a few words of context on either side are kept
   when they fit (实施不动产登记“税费一次缴清”服务 → 不动产登记税费一次缴清服务);
2. else a document title in 《》, without 关于, the region and the document type
   (《全市优化营商环境监督治理联席会议工作方案》 → 优化营商环境监督治理联席会议);
3. else the first clause, the main verb-object phrase (首创企业赋码保护机制).

Anything longer than ``max_chars`` is cut at a clause boundary (、暨) or before a function word
(的、将、作为、和 …), and only cut mid-word when there is no such place.

:func:`find_agency` returns the agency at the start of a sentence, *without* a proper place name
in front of it: the region is stored separately, so “衡阳市不动产登记中心推行……” gives
“不动产登记中心”, while the level prefix that is part of the name stays: “市税务局创新……” gives
“市税务局”.
"""
from __future__ import annotations

import re

from reformkb.ingest.regions import gazetteer

# Verbs and prepositions that open a practice clause (stripped in front of a quoted name).
_LEAD_VERBS = (
    "加快建设", "加快推进", "全国首创", "在全国", "在全省", "在全市", "进一步", "加快", "建设",
    "实施", "推行", "推出", "推动", "推进", "打造", "创新", "出台", "印发", "开展", "建立", "构建",
    "探索", "深化", "首创", "率先", "全面", "持续", "积极", "上线", "启用", "开通", "设立", "发布",
    "制定", "实行", "落实", "试点", "创建", "升级", "优化", "完善", "通过", "依托", "围绕", "聚焦",
    "着力", "大力", "深入", "全力", "不断", "召开", "举办", "组织", "启动", "编制", "健全", "强化",
    "提升", "坚持", "采用", "引入", "运用", "利用", "实现", "用好", "设置", "部署", "推广", "开发",
    "搭建", "建成", "成立", "组建", "以", "在",
)
# What may follow an agency in actor position: a verb, a preposition, a date.
_ACTOR_FOLLOW = _LEAD_VERBS + (
    "对", "为", "将", "把", "与", "联合", "会同", "牵头", "主动", "党组", "已", "于", "今年", "近日",
    "日前", "严格", "先后", "再", "又", "首次", "精准", "扎实", "切实", "专门", "按照", "根据",
    "针对", "结合", "紧扣", "紧盯", "梳理", "简化", "取消", "压缩", "投入", "研发", "畅通", "打通",
    "指导", "督促", "成功", "携手", "共同", "分别", "向", "从", "由", "自",
)
# Endings of agency names, longest first.
_AGENCY_SUFFIXES = (
    "纪委监委", "人民检察院", "人民法院", "人民政府", "检察院", "法院", "法庭", "仲裁院", "仲裁委",
    "委员会", "管委会", "办公室", "办公厅", "部门", "中心", "总局", "分局", "公司", "集团", "银行",
    "分行", "支行", "专班", "协会", "商会", "海关", "政府", "局", "委", "办", "院", "厅", "署", "部",
    "所", "站",
)
_NOT_AGENCY_ENDINGS = ("常委", "书记", "主任")
# Verbs that never occur inside an agency name: a candidate holding one is a clause, not a name
# (某县推行企业开办 ends in 办 but is not an agency).
_NOT_IN_AGENCY = (
    "推行", "推出", "推动", "推进", "出台", "印发", "开展", "首创", "率先", "上线", "启用", "开通",
    "发布", "制定", "实行", "实施", "举办", "召开", "打造", "加快", "探索", "深化", "落实", "建立",
    "设立", "组建", "成立", "允许", "的", "后由", "已",
)
# Words an agency name never starts with: a preposition or verb opening the rest of the sentence
# (闵行区在区行政服务中心设立…: the actor is 闵行区, not "在区行政服务中心").
_NOT_AGENCY_START = ("在", "对", "为", "将", "把", "与", "向", "从", "由", "于", "以", "级")
_MAX_AGENCY_CHARS = 16

# A proper place name: two to six characters and an administrative suffix (衡阳市, 金洞管理区).
_PLACE = re.compile(r"^[\u4e00-\u9fff]{2,6}?(?:特别行政区|自治区|自治州|省|市|县|区|州|盟|旗)")
_DATE = re.compile(
    r"^(?:(?:\d{4}年)?(?:\d{1,2}月)?\d{1,2}日(?:[至到\-—~～](?:\d{1,2}月)?\d{1,2}日)?"
    r"|(?:\d{4}年)?\d{1,2}月(?:份|以来|初|中旬|下旬|底)?|\d{4}年(?:以来)?)"
    r"(?:上午|下午|晚上|晚)?[，,、]?"
)
_TIME_WORDS = re.compile(r"^(?:截至目前|今年以来|去年以来|近年来|近日|日前|近期|目前|当前)[，,]?")
_SINCE = re.compile(r"^(?:自从|自)[^。；;]{0,60}?以来[，,]")
_QUOTED = re.compile(r"“([^“”]{1,40})”|\"([^\"]{1,40})\"|「([^「」]{1,40})」|『([^『』]{1,40})』|‘([^‘’]{1,40})’")
_QUOTE_CHARS = "“”‘’\"「」『』"
# Characters that end the subject of a sentence: an agency name never holds one.
_SUBJECT_ENDS = frozenset(_QUOTE_CHARS + "《》，,。；;：:、（）()")
_BOOK = re.compile(r"《([^《》]{1,100})》")
_CONNECTOR = re.compile(r"^(?:[+＋、]|和|与|及)")
# Head nouns that belong to a quoted name: “智慧抵押登记”服务.
_HEAD_NOUN = re.compile(
    r"^(?:服务|机制|模式|平台|改革|行动|工程|品牌|系统|专区|专窗|窗口|制度|体系|举措|措施|试点|"
    r"套餐|清单|园区|小程序|APP|App|码)"
)
_DOC_TAIL = re.compile(
    r"(?:的)?(?:实施意见|实施方案|工作方案|行动方案|行动计划|若干措施|若干意见|若干规定|实施细则|"
    r"暂行办法|管理办法|办法|通知|意见|方案|措施|条例|规定|细则|计划|清单)$"
)
_DOC_HEAD = re.compile(r"^(?:关于|全市|全省|全县|全区|全国)+")
_DOC_SOFT_HEAD = re.compile(r"^(?:进一步|持续|全面|加快|深化|优化)+")
_WITH_AS = re.compile(r"^以(.{2,20}?)为(?:抓手|载体|突破口|切入点|牵引|引领|重点|核心|主线)$")
_SENTENCE_END = "。！？!?；;"
_CLAUSE_END = "，,；;：:"
# Places where a too-long title may be cut: before these (clause-like first).
_SOFT_BREAKS = ("、", "暨", "，", "作为", "的", "将", "和", "及", "与", "并", "为", "在", "对", "以", "等")
_MAX_PREFIX_CHARS = 6


def _compact(text: str) -> str:
    """``text`` without whitespace, except a single space between two ASCII letters or digits."""
    text = re.sub(r"(?<=[A-Za-z0-9])\s+(?=[A-Za-z0-9])", "\x00", text or "")
    return re.sub(r"\s+", "", text).replace("\x00", " ")


def _strip_quotes(text: str) -> str:
    return "".join(ch for ch in text if ch not in _QUOTE_CHARS)


def _starts_with_any(text: str, words: tuple[str, ...]) -> bool:
    return any(text.startswith(w) for w in words)


# ---------------------------------------------------------------------------------------------
# The actor at the start of a sentence
# ---------------------------------------------------------------------------------------------
def _agency_at(text: str) -> str | None:
    """The agency name that ``text`` starts with, if what follows it is a verb, a date or
    punctuation that ends the subject."""
    window = text[:_MAX_AGENCY_CHARS + 1]
    best = None
    if window[:1] in _SUBJECT_ENDS or window.startswith(_NOT_AGENCY_START) or _starts_with_any(window, _LEAD_VERBS):
        return None
    for end in range(2, min(len(window), _MAX_AGENCY_CHARS) + 1):
        candidate = window[:end]
        # The shorter candidates held neither, so only the last character or a verb ending there can.
        if candidate[-1] in _SUBJECT_ENDS or candidate.endswith(_NOT_IN_AGENCY):
            break
        if best is not None and len(candidate) == len(best) + 1 and candidate[-1] in "与和及":
            break  # a second agency joins the first: 广州知识产权法院与深圳知识产权法庭联合…
        if not candidate.endswith(_AGENCY_SUFFIXES) or candidate.endswith(_NOT_AGENCY_ENDINGS):
            continue
        rest = text[end:]
        if (
            _starts_with_any(rest, _ACTOR_FOLLOW)
            or rest[:1].isdigit()
            or rest[:1] in ("：", ":", "，", ",", "、")
        ):
            best = candidate
    return best


def _strip_time(text: str) -> str:
    for pattern in (_DATE, _TIME_WORDS, _SINCE):
        match = pattern.match(text)
        if match and match.end() < len(text):
            return text[match.end():]
    return text


def is_agency_name(text: str) -> bool:
    """Whether ``text`` (a place field without its place, such as ``税务局``, ``第一中级人民法院``,
    ``国际仲裁院``) is the name of an agency: it ends in an agency word and holds no verb."""
    text = _compact(text)
    return (
        2 <= len(text) <= _MAX_AGENCY_CHARS
        and text.endswith(_AGENCY_SUFFIXES)
        and not text.endswith(_NOT_AGENCY_ENDINGS)
        and not any(verb in text for verb in _NOT_IN_AGENCY)
        and not any(ch in _SUBJECT_ENDS for ch in text)
    )


def _strip_place(text: str) -> str:
    """``text`` without a proper place name at its start, when what follows reads as the rest of
    a sentence (a verb, a date, an agency); 推动城市更新 keeps its 城市. The place is a name with an
    administrative suffix (衡阳市, 金洞管理区) or a region of the gazetteer (厦门, 前海)."""
    match = _PLACE.match(text)
    if match and (_starts_with_any(text, _LEAD_VERBS) or text.startswith(_NOT_AGENCY_START)):
        match = None  # 设立市级…, 在福州软件园…: a verb or preposition, not a place
    leading = gazetteer().find_leading(text)
    end = max(match.end() if match else 0, len(leading[1]) if leading and text.startswith(leading[1]) else 0)
    if not end:
        return text
    rest = text[end:]
    if (
        _starts_with_any(rest, _ACTOR_FOLLOW)
        or rest[:1].isdigit()
        or _agency_at(rest)
        or _PLACE.match(rest)
        or rest[:1] in ("：", ":", "，", ",")
    ):
        return rest
    return text


def find_agency(text: str) -> str | None:
    """The agency that ``text`` names as its actor, or ``None``.

    The agency must stand at the start of the sentence (after an optional place name and date)
    and end in an agency word (局, 委, 办, 院, 中心, 法院, 纪委监委, 公司, 银行 …), followed by a verb,
    a preposition, a date or a colon. A proper place name in front is not part of the result
    (“衡阳市不动产登记中心推行……” → “不动产登记中心”; “濮阳市纪委监委出台……” → “纪委监委”);
    the level prefix that belongs to the name is (“市中级人民法院以……” → “市中级人民法院”).
    “长沙市加快建设……” names no agency and gives ``None``, as do empty text and people
    (“县委常委、副县长……”).
    """
    body = _compact(text)
    for _ in range(4):
        before = body
        body = _strip_time(_strip_place(body)).lstrip("，,、：:；; ")
        if body == before:
            break
    return _agency_at(body)


# ---------------------------------------------------------------------------------------------
# Titles
# ---------------------------------------------------------------------------------------------
def _region_forms(region_span: str) -> list[str]:
    region = _compact(region_span)
    if not region:
        return []
    stem = re.sub(r"(?:特别行政区|自治区|自治州|省|市|县|区|州)$", "", region)
    # A short form in the place field (凭祥) may stand for the full name in the text (凭祥市设立…).
    suffixed = [region + suffix for suffix in "市区县省"] if stem == region else []
    return suffixed + [region] + ([stem] if len(stem) >= 2 and stem != region else [])


def _strip_subject(text: str, region_span: str) -> str:
    """``text`` without its subject: region, date, time words, “自……以来”, agency, 在全国."""
    forms = _region_forms(region_span)
    for _ in range(6):
        before = text
        for form in forms:  # the full name first, then its stem (海南省 → 海南)
            if text.startswith(form):
                if len(text) > len(form):
                    text = text[len(form):]
                break
        text = _strip_place(text)
        text = _strip_time(text)
        agency = _agency_at(text)
        if agency and len(text) > len(agency):
            text = text[len(agency):]
        text = re.sub(r"^在全(?:国|省|市|县|区)", "", text)
        text = text.lstrip("，,、：:；; ")
        if text == before:
            break
    return text


def _first_sentence(text: str) -> str:
    for i, ch in enumerate(text):
        if ch in _SENTENCE_END and i > 0:
            return text[:i]
    return text


def _clauses(sentence: str) -> list[str]:
    return [c for c in re.split(f"[{_CLAUSE_END}]", sentence) if c]


def truncate_title(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, at a boundary if there is one.

    Cuts before the last clause boundary or function word (see the module docstring) that leaves
    at least a third of ``max_chars``; cuts mid-word only when there is none.
    """
    if len(text) <= max_chars:
        return text
    floor = max(2, max_chars // 3)
    for word in _SOFT_BREAKS:
        cut = text.rfind(word, floor, max_chars + len(word))
        if cut >= floor:
            return text[:cut]
    return text[:max_chars]


def _after_last_verb(prefix: str) -> str:
    """The words of ``prefix`` after its last opening verb (实施不动产登记 → 不动产登记)."""
    prefix = prefix.rsplit("、", 1)[-1]
    last = 0
    for verb in _LEAD_VERBS:
        i = prefix.rfind(verb)
        if i != -1 and i + len(verb) > last:
            last = i + len(verb)
    return prefix[last:]


def _valid_name(name: str) -> bool:
    name = name.strip()
    return (
        len(name) >= 2
        and not any(ch in name for ch in "、，,。；;")
        and bool(re.search(r"[\u4e00-\u9fffA-Za-z0-9]", name))
    )


def _quoted_title(sentence: str, max_chars: int) -> str | None:
    for clause in _clauses(sentence):
        matches = [m for m in _QUOTED.finditer(clause) if _valid_name(_inner(m))]
        if not matches:
            continue
        first = matches[0]
        names, end = [_inner(first)], first.end()
        for m in matches[1:]:
            gap = clause[end:m.start()]
            if gap and not (_CONNECTOR.match(gap) and len(gap) <= 1):
                break
            names.append((gap or "、") + _inner(m))
            end = m.end()
        core = "".join(names)
        suffix_match = _HEAD_NOUN.match(clause[end:])
        suffix = suffix_match.group(0) if suffix_match else ""
        prefix = _strip_quotes(_after_last_verb(clause[:first.start()]))
        if len(prefix) > _MAX_PREFIX_CHARS:
            prefix = ""
        for candidate in (prefix + core + suffix, core + suffix, core, _inner(first)):
            if len(candidate) <= max_chars:
                return candidate
        return truncate_title(_inner(first), max_chars)
    return None


def _inner(match: re.Match) -> str:
    return next(g for g in match.groups() if g is not None).strip()


def _book_title(sentence: str, region_span: str, max_chars: int) -> str | None:
    match = _BOOK.search(sentence)
    if not match:
        return None
    name = _compact(match.group(1))
    cleaned = re.sub(r"[（(][^（）()]*[）)]$", "", name)
    cleaned = re.sub(r"\d+(?:\.\d+)?版$", "", cleaned)
    cleaned = _DOC_TAIL.sub("", cleaned)
    cleaned = _DOC_HEAD.sub("", cleaned)
    for form in _region_forms(region_span):
        if cleaned.startswith(form):
            cleaned = cleaned[len(form):]
            break
    cleaned = _DOC_HEAD.sub("", cleaned) or name
    if len(cleaned) > max_chars:
        cleaned = _DOC_SOFT_HEAD.sub("", cleaned) or cleaned
    return truncate_title(cleaned, max_chars)


def _phrase_title(sentence: str, max_chars: int) -> str | None:
    for clause in _clauses(sentence):
        clause = _strip_quotes(clause).strip()
        if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", clause):
            continue
        with_as = _WITH_AS.match(clause)
        if with_as:
            clause = with_as.group(1)
        return truncate_title(clause, max_chars)
    return None


def make_title(text: str, region_span: str = "", max_chars: int = 20) -> str:
    """A short title (at most ``max_chars`` characters) for a practice text.

    ``region_span`` is the region as written at the start of the text (“长沙市”); it is left out
    of the title. The title is a quoted name, else a 《》 document name, else the first clause
    after the subject (see the module docstring). Returns ``""`` only for empty or whitespace-only
    text; text with nothing but punctuation gives its first ``max_chars`` characters.
    Raises ValueError when ``max_chars`` is less than 1.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    compact = _compact(text)
    if not compact:
        return ""
    body = _strip_subject(compact, region_span)
    sentence = _first_sentence(body) or body
    title = (
        _quoted_title(sentence, max_chars)
        or _book_title(sentence, region_span, max_chars)
        or _phrase_title(sentence, max_chars)
        or _phrase_title(_strip_quotes(compact), max_chars)
    )
    return title or compact[:max_chars]
