"""Parsing a bulletin (工作专报) into source metadata and draft records, whatever its house style.

Steps, each a function that can be tested alone:

1. :func:`repair` (in :mod:`reformkb.ingest.lines`) turns the extracted text into logical lines:
   page numbers and running headers at page boundaries dropped, broken lines joined, PDF spaces
   removed, in linear time.
2. :func:`~reformkb.ingest.masthead.read_masthead` reads the title (over one or several lines), the
   期号 (``第十二期`` → 12) and the date (``二〇二四年五月六日``, ``2024-05-06`` …) from the masthead.
3. :func:`outline` cuts the body at its headings (``【…】``, ``一、…``, ``（一）…``, a bold or short line
   alone; see :mod:`reformkb.ingest.sections`) up to the footer (报：/送：/抄送：/联系电话), and sorts
   out place headings (``上海市浦东新区`` alone on a line), table rows, and noise (编者按, 领导批示,
   footnotes, 共印 … 份).
4. Each section is a practice section, a section of local actions, or neither, by its name and else
   by its content (:func:`reformkb.ingest.sections.classify_by_content`).
5. :func:`split_practices` turns a practice paragraph into one draft per practice: one per actor
   (``市中级人民法院以…；市税务局创新…``, also after 同时/此外/另外/还), one per distinct measure
   (``打造…平台。创新…监管模式``), one per item of ``一是……二是……`` with the actor carried over and the
   enumerator stripped, and one per place when a sentence names several (``长沙、株洲两市…``; the
   drafts are *siblings*: same text, each with its own place). A place heading gives its place to
   the paragraphs under it; a Word table gives one draft per row, its 成效 kept in the text.

What is left out is said, with the reason, in :attr:`ParsedBulletin.left_out`, so that a reviewer
can take any of it back.
"""
from __future__ import annotations

import re
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from reformkb.errors import InputError
from reformkb.ingest.limits import Cancel, checkpoint
from reformkb.ingest.lines import FOOTER, NEXT_STEPS, join_spaces
from reformkb.ingest.lines import repair as _repair_lines
from reformkb.ingest.masthead import find_date, find_issue, is_issue_or_date, looks_like_title, read_masthead, strip_meta
from reformkb.ingest.regions import PROVINCE_ABBREVIATIONS, Gazetteer, Region, gazetteer
from reformkb.ingest.sections import (
    ACTION,
    DEFAULT_ACTION_NAMES,
    PRACTICE,
    SKIP,
    SectionNames,
    Tally,
    classify_by_content,
    heading_of,
)
from reformkb.ingest.titles import find_agency, is_agency_name
from reformkb.records import KIND_ACTION, KIND_PRACTICE, Source

__all__ = ["Draft", "LeftOut", "ParsedBulletin", "parse_bulletin", "repair", "split_practices", "SectionNames"]

_MEASURE_VERBS = ("出台", "印发", "实施", "推行", "推出", "打造", "创新", "建立", "开展", "上线", "设立",
                  "启用", "探索", "制定", "发布", "构建", "搭建", "率先", "首创", "全面推行", "持续开展")
_CONNECTIVE = re.compile(r"^(?:与此同时|同时|同期|此外|另外|另一方面|而且|并且|还|另)[，,、]?")
_TIME_LEAD = re.compile(
    r"^(?:近日|日前|近期|近年来|今年以来|去年以来|目前|截至目前|据悉|据了解"
    r"|(?:记者)?(?:日前|近日)?从[^，,。]{2,30}?(?:了解到|获悉)|据[^，,。]{2,16}?(?:消息|介绍|报道)"
    r"|\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:以来|起|初|底)?|\d{1,2}月(?:\d{1,2}日)?(?:以来|起|初|中旬|下旬|底|份)?"
    r"|在?[\u4e00-\u9fff]{2,10}?方面"  # 在跨境贸易方面，/法治保障方面，3月，北京互联网法院…
    r"|(?:学习)?借鉴[^，,。]{2,30}?(?:经验|做法|模式)"  # 借鉴深圳市「秒报秒批」改革经验，东莞市…
    r"|(?:我们)?(?:去年|今年|近期|前不久|日前)?(?:到|赴|去)[^，,。]{2,12}?(?:学习|考察|调研)(?:时|期间)?"  # 我们去年到苏州学习，苏州工业园区…
    r"|为(?:进一步|更好|加快|降低|破解|解决|推动|促进|助力|优化)[^，,。]{2,24})[，,：:]"  # 为降低企业用地成本，衢州市…
)

_PEOPLE_OF = re.compile(r"籍?(?:投资者|居民|市民|同胞|游客|客商|旅客|务工人员|籍人士)")
_EXAMPLE_LEAD = re.compile(r"^(?:比如|例如|譬如|再如|又如)[，,]?")  # 比如上海市推行…, 再如浙江省杭州市余杭区…
# A sentence on the home city itself inside another place's practice (…。相比之下，我市… / 我市正在…试点), or on what
# is planned (下一步我们将…, 我们正在研究…): not the practice done
_OWN_SENTENCE = re.compile(r"^(?:相比之下|对比之下|对照来看|反观|而|但)?[，,]?(?:我[市县区州]|本[市县区])|^(?:(?:下一步|下步|接下来)[，,]?)?我们(?:将|正在|计划|准备|拟|力争|要)")
# Items that are the steps of one named reform (推出“免申即享”改革：一是……二是……): one practice, not one per item
_STEPS = re.compile(r"[”」](?:改革|机制|模式|制度|服务|工程|行动)[：:]\s*(?:一是|其一|第一[，,])")
# A measure's quoted name (“一网通”)
_NAMED = re.compile(r"[“「\"][^“”「」\"]{2,20}[”」\"]")
# The items of an outline's first level (（一） 一、)
_OUTLINE_ITEM = re.compile(r"^\s*(?:[（(][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.．])")
# The points of an outline's second level (1． （1） ①), under a numbered heading （一）
_SUB_ITEM = re.compile(r"^\s*(?:[0-9]{1,2}[.．、)）](?!\d)|[（(][0-9]{1,2}[)）]|[①-⑳])")
# Since a measure began (上线半年来，/试点以来，): the results of the measure before, not a new one
_SINCE = re.compile(r"^(?:上线|运行|实施|试点|推行|开通|启用)(?:[一二两三四五六七八九十半\d]+个?(?:年|月|周|天))?以?来[，,]")
# Provinces' one-character names as a label (沪：上海市推出…, 沪苏：…): the text names the place itself
_PROVINCE_LABEL = re.compile(r"^[京津沪渝冀豫云滇辽黑湘皖鲁新苏浙赣鄂桂甘陇晋蒙陕秦吉闽贵黔粤青藏川蜀宁琼港澳]{1,3}[：:]")
_PLACE_NOTE = re.compile(r"(?<=[。！？])[（(]([^（）()]{2,24})[）)]\s*$")  # …0.5个工作日。（浙江杭州）
# A national ministry acting in a place (商务部在海南自由贸易港试点…, 国家发展改革委支持深圳…): the place is the actor's
_MINISTRY = (r"(?:(?:外交|国防|教育|科学技术|科技|工业和信息化|工信|公安|民政|司法|财政|人力资源和社会保障|人社|自然资源|生态环境"
             r"|住房和城乡建设|住建|交通运输|水利|农业农村|商务|文化和旅游|文旅|应急管理|退役军人事务)部"
             r"|国务院[\u4e00-\u9fff]{0,8}?(?:办公厅|部门|委员会)?|国家[\u4e00-\u9fff]{1,8}?(?:委员会|委|总局|局|署)"
             r"|海关总署|(?:国家)?市场监管总局|国家税务总局|中国人民银行|人民银行)")
_MINISTRY_AT = re.compile(rf"{_MINISTRY}(?:(?:[、和与及]|会同){_MINISTRY})*(?:在|支持|批复|指导)")
# A source line of its own under a text: ——摘自《大众日报》2025年5月20日《济南：…》, 转自…, 原题《…》
_SOURCE_LINE = re.compile(r"^(?:——|－－|--)?\s*(?:摘自|转自|选自|摘编自|节选自|来源[：:]|据《)[^。]{0,80}$")
_NEWS_SOURCE = re.compile(r"从([^，,。]{2,30}?)(?:了解到|获悉)")

_PLACE_DOT = r"(?<=[\u4e00-\u9fff])[·・•/／](?=[\u4e00-\u9fff])"  # 浙江·杭州, 江苏/南通
_BULLETS = "•●○◆◇■□▪▲△★☆◎❖►▶·"
_ANSWER = re.compile(r"^答[：:]")  # an interview's answer
_ENUM_LEAD = re.compile(
    r"^(?:[（(]\s*[0-9一二三四五六七八九十]+\s*[)）]|[0-9]{1,2}\s*[.．、)）](?!\d)|[一二三四五六七八九十]+[、.．]"
    r"|[①-⑳]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ][、.．\s]?|第[一二三四五六七八九十]{1,3}[，,、]|答[：:]|[" + _BULLETS + r"\-—]+"
    r"|(?:案例|经验)(?:[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九十]|[0-9]{1,2})(?!是)[：:、.．]?)\s*"
)
# 一是……二是……: an item starts after the start of the text or a punctuation mark.
_ENUM_ITEM = re.compile(r"(?:(?<=^)|(?<=[，,；;。：:]))\s*(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|第[一二三四五六七八九十]+[，,]|[（(][1-9][)）])[，,：:]?")
_ITEM_LEAD = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十]|第[一二三四五六七八九十]+[，,、]|[（(][0-9一二三四五六七八九十]{1,2}[)）]|[0-9]{1,2}[.．、)）](?!\d)|[①-⑳])\s*[，,：:]?")
_SOURCE_NOTE = re.compile(r"\s*[（(](?:(?:本期)?(?:信息|资料|数据|新闻)?来源[：:][^（）()]{1,40}|(?:摘|转|选|节选|摘编)自[^（）()]{2,60}|据《[^《》]{2,20}》(?:报道|消息)?|[^（）()]{2,30}?(?:供稿|推荐))[）)]\s*$")
_FOOTNOTE_MARK = re.compile(r"(?<=[\u4e00-\u9fff”」』》）a-zA-Z0-9])(?:[①-⑳]|\[\d{1,2}\])(?=[，。；、：,;）)\s]|$)")
_FOOTNOTE_LINE = re.compile(r"^(?:[①-⑳]|\[\d{1,2}\]|注[\d①-⑳]?[：:]|说明[：:]|[*※]\s*(?:注|资料来源|数据来源)|资料来源[：:]|数据来源[：:]|来源[：:])")
_EDITORIAL = re.compile(r"^[（(·•]?\s*(?:【?编者按】?|【?按语】?|编者的话|编者注|【?编后语?】?|小编(?:说|按|点评|有话说))[：:】]?")
_INSTRUCTION = re.compile(r"^.{0,40}?批示[：:]")
_PRINT_NOTE = re.compile(r"^[（(]?(?:共印\s*\d+\s*份|此件.{0,20}|本期.{0,6}份)[）)]?$"
                         r"|^附件\s*\d{0,2}\s*[：:].{1,30}$"  # 附件：外地经验做法汇编, a reference to what follows
                         r"|^[（(](?:本期|本栏目|以上)?[^（）()]{0,6}根据[^（）()]{2,50}整理[^（）()]{0,20}[）)]$")  # （本期信息根据…整理）
# A signature: the issuing office and the date (常州市优化营商环境工作领导小组办公室2025年10月17日)
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff（）()]{4,40}?(?:办公室|领导小组|局|委员会|中心|政府)\s*\d{4}年\d{1,2}月\d{1,2}日$")
_FRAME = re.compile(r"(?:学习借鉴|^[市县区](?:营商办|委|政府)[^。]{0,30}请各|参考借鉴|借鉴参考|学习参考|参照学习|上述(?:案例|做法|经验)|供.{0,16}(?:参考|借鉴|学习)|(?:摘编|整理|汇编|刊发|报告|汇报)如下|如下[：:]$)")
# A leader quoted: 市政府分管领导在…推进会上指出：“…”
_SPEECH = re.compile(r"^[^。“”]{0,30}?(?:领导|书记|市长|省长|县长|区长|主任|局长|厅长|负责同志|负责人)[^。“”]{0,40}?(?:指出|强调|表示|要求|提出)[：:，,]\s*[“「]")
_PLACE_SUFFIX = re.compile(r"(?:特别行政区|自治区|自治州|自治县|新区|新片区|开发区|高新区|园区|合作区|试验区|示范区|片区|市|县|区|旗|盟|州|镇|乡|街道|村|社区)$")
_AGENCY_WORDS = re.compile(r"(?:局|委|办|院|厅|署|中心|法院|法庭|海关|检察院|公司|银行|分行|支行|集团|协会)$")
# A section name that says its news are the home city's own (an action section whose name does not,
# such as 各地动态 or 工作动态, holds other places' practices when its paragraphs say so).
# A paragraph on the results of the practice before it (主要做法：… / 取得成效：…, 【做法】… / 【成效】…)
_RESULT_LEAD = re.compile(r"^(?:取得|主要|工作|实施|改革)?(?:成效|效果|成果)[：:]")
# Tagged fields of one practice: 【地区】赤峰市 / 【做法】… / 【成效】…
_FIELD_TAG = re.compile(r"^【(地区|地点|单位|实施单位|做法|主要做法|举措|主要举措|成效|主要成效|取得成效)】\s*(\S.*)$")
_QUESTION = re.compile(r"^问[：:]")
# The home city's own point beside another place's practice, in a list of problems (问题：我市… / 建议：由市…牵头 /
# 我市差距：…, or under an English label of some words: Why it matters：…): what to fix or to do here, not a practice
_OWN_POINT = re.compile(r"^(?:[A-Za-z]+(?:[ '’][A-Za-z]+)+|[\u4e00-\u9fff]{0,4}(?:建议|启示)|对我[市县区州省]的?借鉴意义|(?:我[市县区州]|本[市县区])(?:差距|短板|现状|情况)|(?:存在|主要)?问题(?=[：:].{0,6}(?:我|本)[市县区州]))[：:]")
_EDITOR_LINE = re.compile(r"^[（(]?(?:本期)?(?:编辑|责任编辑|校对|审核|审稿|签发)\s*[：:][^，。；]{1,30}[）)]?$")
_CONTENTS = re.compile(r"要目|目录|导读")  # a table of contents: its lines are the names of later sections
_OWN_NEWS = re.compile(r"[我本全][市县区州盟省]|本地|县市区|县区|市直|州直|战斗")
_LOCAL_LABEL = re.compile(r"^(?:[市县区州]|[\u4e00-\u9fff]{1,10}(?:区|县|镇|乡|街道|市))[\u4e00-\u9fff]{0,14}[：:]")
_BRACKETED = re.compile(r"^[【\[〔［〖]([^】\]〕］〗]{2,24})[】\]〕］〗]$")
_INLINE_HEADING = re.compile(r"^【([^】]{1,16})】\s*(\S.{9,})$")
# A news item's dateline tag (【本刊讯】5月9日，…, 【新华社讯】): part of the item, not a heading
_DATELINE = re.compile(r"^【(?:本[刊报台网]讯|[\u4e00-\u9fff]{1,6}社?讯)】\s*(?=\S)")
# A box inside a case, for the home city (【启示】我市可…, 【思考】…): left out like a box named not to import
_BOX_WORDS = ("启示", "思考", "评析", "借鉴意义", "借鉴点", "感悟", "建议", "划重点", "敲黑板", "小编")
_THE_END = re.compile(r"^[\W_]*END[\W_]*$", re.IGNORECASE)  # —— END ——: a WeChat or web article ends here
_CORNER_BOX = re.compile(r"^「([^」]{2,8})」")  # 「划重点」我市可借鉴…: a box in a WeChat article
_MULTI_JOIN = "、和与及"
_SUBPLACE = re.compile(r"^[\u4e00-\u9fff]{1,6}?(?:新区|新片区|开发区|高新区|园区|合作区|区|县|旗|镇)")
_NOT_IN_SUBPLACE = ("在", "全", "各", "对", "为", "与", "和", "的", "以", "将", "把", "从", "向", "辖")
_TABLE_PLACE = ("地区", "地方", "城市", "单位", "省份", "区域", "地市")
_TABLE_TITLE = ("名称", "标题", "题目", "事项")  # 经验名称, 改革事项: a title, not the practice (单位名称 is a place)
_TABLE_TEXT = ("做法", "举措", "内容", "措施", "经验", "案例", "创新", "事项")  # the first ones win
_TABLE_RESULT = ("成效", "效果", "成果", "成绩", "亮点")
# A table of one practice, a field on each row (事项 | …, 问题 | …, 做法 | …, 成效 | …): the field's role
_FIELD_ROW = re.compile(r"^(?:改革|创新|主要|具体|经验|典型|工作|取得|实施|存在)?"
                        r"(?:(?P<place>地区|地点|单位)|(?P<title>事项|名称|标题|题目)|(?P<context>问题|背景|痛点|难点)"
                        r"|(?P<text>做法|举措|措施|内容|经验|案例)|(?P<result>成效|效果|成果|成绩|亮点))[：:]?$")


@dataclass
class Draft:
    """A practice as parsed, before region normalization, topics and metrics are added."""

    text: str
    region_raw: str = ""
    agency: str = ""
    kind: str = KIND_PRACTICE
    section: str = ""
    paragraph: int = 0  # 1-based paragraph number within its section, for messages
    siblings: tuple[str, ...] = ()  # every place of a sentence that names several (this one included)


@dataclass
class LeftOut:
    """A paragraph that is not a draft, and why (a reviewer may take it back)."""

    text: str
    reason: str
    section: str = ""
    refused: bool = False  # a draft that could not be completed (the import refuses it), not a parser's choice


@dataclass
class ParsedBulletin:
    source: Source
    drafts: list[Draft] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    home_region: str = ""  # the issuing city, from the title (e.g. 永州市)
    left_out: list[LeftOut] = field(default_factory=list)


def _after_leads(text: str) -> int:
    """Where ``text`` goes on after its leading time and field phrases (法治保障方面，3月，…)."""
    start = 0
    for _ in range(3):
        if (m := _TIME_LEAD.match(text[start:]) or _PROVINCE_LABEL.match(text[start:])
                or _EXAMPLE_LEAD.match(text[start:])) is None:
            break
        start += m.end()
    return start


def repair(text: str) -> list[str]:
    """The bulletin as a list of logical lines; see :func:`reformkb.ingest.lines.repair`."""
    gaz = _gazetteer()
    return _repair_lines(text, starts_place=lambda line: gaz.find_leading(line[:24]) is not None)


#: The gazetteer of the parse under way (set by :func:`parse_bulletin` while it runs): a knowledge
#: base's, with the places its users added (a town of the home city), so that a practice that starts
#: with such a place is read as that place's, like any other.
_PLACES: ContextVar[Gazetteer | None] = ContextVar("bulletin_places", default=None)


#: What asks the parse under way to stop (set by :func:`parse_bulletin`), checked before each paragraph.
_CANCEL: ContextVar[Cancel | None] = ContextVar("bulletin_cancel", default=None)


def _gazetteer() -> Gazetteer:
    """The gazetteer places are read with: the parse's (see :data:`_PLACES`), else the shipped one."""
    return _PLACES.get() or gazetteer()


# ---------------------------------------------------------------------------------------------
# Places at the start of a text
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lead:
    """The places a text starts with (one, or several joined by 、和与及) and where they end."""

    places: tuple[tuple[Region, str], ...]  # (region, as written)
    end: int
    start: int = 0  # where the first place starts (after an enumerator and time or field phrases)

    @property
    def span(self) -> str:
        return self.places[0][1]


def leading_places(text: str) -> Lead | None:
    """The place(s) ``text`` starts with, after an enumerator and time or field phrases (近日，/3月16日，/在跨境贸易方面，),
    read with the gazetteer of the parse under way."""
    gaz = _gazetteer()
    start = 0
    if m := _ENUM_LEAD.match(text):
        start = m.end()
    skipped = start
    start += _after_leads(text[start:])
    found = gaz.find_leading(text[start : start + 60])
    if not found and (m := _NEWS_SOURCE.search(text, skipped, start)) and (found := gaz.find_leading(m.group(1))):
        start = m.start(1)  # the source is the actor: 从山西省行政审批服务管理局获悉：该局指导全省…
    if not found and (m := _MINISTRY_AT.match(text, start)) and (found := gaz.find_leading(text[m.end() : m.end() + 60])):
        start = m.end()  # 商务部在海南自由贸易港试点…: the place where the ministry acts
    if not found and text.startswith("在", start):  # 在苏州工业园区，企业…
        found = gaz.find_leading(text[start + 1 : start + 60])
        if found and text.startswith((found[1] + "，", found[1] + ","), start + 1):
            start += 1
        else:
            found = None
    if not found:
        return None
    places = [found]
    start = text.find(found[1], start)
    pos = start + len(found[1])
    if _PEOPLE_OF.match(text, pos):
        return None  # 香港投资者在香港本地即可…: the people of a place, served by the practice of another
    while pos < len(text) and text[pos] in _MULTI_JOIN and len(places) < 8:
        nxt = gaz.find_leading(text[pos + 1 : pos + 40])
        if not nxt or not text.startswith(nxt[1], pos + 1) or any(_same(r, nxt[0]) for r, _ in places):
            break
        places.append(nxt)
        pos = pos + 1 + len(nxt[1])
    return Lead(tuple(places), pos, start)


def _source_lead(paragraph: str) -> Lead | None:
    """The place of a paragraph that names it only at its end: in its source note (…。（来源：厦门市发展和改革委员会）)
    or alone in brackets (…压缩至0.5个工作日。（浙江杭州）, （青岛海关）)."""
    m = _SOURCE_NOTE.search(paragraph)
    if m is not None and "来源" in m.group(0):
        return leading_places(re.split(r"[：:]", m.group(0).strip(" （）()"), maxsplit=1)[-1])
    m = _PLACE_NOTE.search(paragraph)
    if m is None or not (lead := leading_places(m.group(1))):
        return None
    rest = m.group(1)[lead.end:]
    return lead if not rest or is_agency_name(rest) else None


def _source_place(line: str) -> _PlaceHeading | None:
    """The place a source line on its own names: the publisher (（来源：西安高新区管委会网站）) or the article's title
    (——摘自《大众日报》…《济南：个体户开业…》, 原题《深圳市中级人民法院探索…》); None when it names none (（来源：新华网）)."""
    titles = re.findall(r"《([^《》]{4,40})》", line)
    publisher = re.search(r"(?:来源|供稿)[：:]\s*([^（）()：:]{2,30})", line)
    for text in titles[1:] + titles[:1] + ([publisher.group(1)] if publisher else []):
        if re.search(r"日报|晚报|时报|商报|报社|新闻|电视台|广播|融媒|传媒|杂志|[^公通情简汇年]报$", text):
            continue  # a newspaper or a broadcaster (《吉林日报》): where it is printed, not who acted
        written = re.sub(r"(?:门户网站|政府网站|人民政府网|官方网站|官网|网站|微信公众号|公众号|网)$", "", text)
        if (lead := leading_places(written)) is not None and lead.start == 0:
            actor = written[: lead.end + len(find_agency(written[lead.end:]) or "")] if written[lead.end:] else lead.span
            agency = written[lead.end:] if written[lead.end:] and is_agency_name(written[lead.end:]) else ""
            return _PlaceHeading(agency and written or actor, lead.span, agency)
    return None


def _headline_lead(paragraph: str) -> Lead | None:
    """The place of a paragraph that opens with a short headline sentence and names it in the next one
    (涉企执法是企业感受最直接的领域。江苏省在…推行…)."""
    sentences = _sentences(paragraph)
    if len(sentences) < 2 or len(sentences[0]) > 30 or re.search(r"[，,：:]", sentences[0]):
        return None
    return leading_places(sentences[1])


def _same(a: Region, b: Region) -> bool:
    return (a.name, a.province, a.city) == (b.name, b.province, b.city)


def _is_local(region: Region | None, home: Region | None) -> bool:
    """Whether ``region`` is the bulletin's own place or lies inside it (a county of its city; for a province's
    bulletin, any place of the province)."""
    if home is None or region is None:
        return False
    return _same(region, home) or home.level == "city" and region.city == home.name \
        or home.level == "province" and region.province == home.name


# ---------------------------------------------------------------------------------------------
# The body: sections, headings, place headings, rows, noise
# ---------------------------------------------------------------------------------------------
@dataclass
class _Section:
    name: str
    kind: str | None  # by name; None: decided by content
    rank: int
    items: list[tuple[str, object]] = field(default_factory=list)  # ("para"|"row"|"place"|"label"|"noise", …)


@dataclass(frozen=True)
class _PlaceHeading:
    line: str  # the place as written, without enumerator and colon (上海市浦东新区, 杭州互联网法院)
    span: str  # the place as the gazetteer read it
    agency: str
    label: str = ""  # what follows a colon: 上海市浦东新区：“一业一证”改革
    places: tuple[str, ...] = ()  # a heading naming several places (江苏省、浙江省和上海市): each as written
    numbered: bool = False  # the heading is an item of an outline itself: （一）上海市浦东新区：…
    article: bool = False  # an article's subtitle (——广东省佛山市顺德区推进…纪实): its whole text is one practice


def _strip_marks(line: str) -> str:
    return re.sub(r"^#{1,6}\s*", "", line)


def place_heading(line: str) -> _PlaceHeading | None:
    """A line that only names a place (and maybe an agency of it): ``上海市浦东新区``, ``杭州互联网法院``,
    or a place and a short label after a colon: ``（一）上海市浦东新区：“一业一证”改革``."""
    found = _place_heading(line)
    if found is not None and _OUTLINE_ITEM.match(_strip_marks(line)):
        found = replace(found, numbered=True)
    return found


def _place_heading(line: str) -> _PlaceHeading | None:
    text = _ENUM_LEAD.sub("", _strip_marks(line), count=1).strip().rstrip("：:")
    if re.match(r"^\s*(?:——|－－|--)", _strip_marks(line)) and len(text) <= 40 and not re.search(r"[。；;！？]", text) \
            and (found := _gazetteer().find_leading(text)) and text.startswith(found[1]):
        return _PlaceHeading(found[1], found[1], "", text[len(found[1]):], article=True)  # a subtitle: ——合肥市推进…
    if m := _BRACKETED.match(text):  # 【深圳】
        text = _tag_place(m.group(1))
    elif m := re.match(r"^[（(](?:地区|地点|单位|实施单位|实施地区)[：:]\s*([^（）()]{2,30})[）)]$", text):
        text = m.group(1)  # （地区：浙江省宁波市镇海区）
    label = ""
    if (m := re.match(r"^([^。；！？—]{2,30})——\s*([^，。；：:—]{2,24})$", text)) and _gazetteer().find_leading(m.group(2)):
        text = f"{m.group(2)}：{m.group(1).strip()}"  # a headline with its place after a dash: 标题——江苏省昆山市
    elif (m := re.match(r"^([^。；！？（）()]{2,30}?)\s*[（(](?:(?:地区|地点|单位|实施单位)[：:])?([^（）()，。；：:]{2,30})[）)]$", text)) \
            and (found := _gazetteer().find_leading(m.group(2))) and len(found[1]) >= len(m.group(2)) - 6:
        text = f"{m.group(2)}：{m.group(1).strip()}"  # a headline with its place in brackets: 标题（江苏省苏州市吴江区盛泽镇）
    if m := re.match(r"^([^：:，。；｜|]{2,24})[：:｜|]\s*([^。；！？]{2,30})$", text):
        text, label = m.group(1).strip(), m.group(2).strip()
        if re.search(r"[，,]", label):
            return None
        if not _gazetteer().find_leading(text) and (after := _gazetteer().find_leading(label)) \
                and label.startswith(after[1]) and (label == after[1] or _PLACE_SUFFIX.search(label)):
            text, label = label, text  # the title first, then the place: （二）外籍人才服务：北京市朝阳区望京街道
    if re.search(_PLACE_DOT, text):  # 浙江·杭州: one place; 广州·佛山: two
        joined = re.sub(_PLACE_DOT, "", text)
        found = _gazetteer().find_leading(joined)
        text = joined if found and found[1] == joined else re.sub(_PLACE_DOT, "、", text)
    several = leading_places(text)
    if several and len(several.places) > 1 and several.end == len(text):  # 江苏省、浙江省和上海市
        return _PlaceHeading(text, several.span, "", label, tuple(s for _, s in several.places))
    if not 2 <= len(text) <= 24:
        return None
    found = _gazetteer().find_leading(text)
    if not found and label and re.fullmatch(_MINISTRY, text) and (acted := leading_places(text + label)):
        return _PlaceHeading(text, acted.span, "", label)  # （五）商务部：支持沈阳市开展服务业扩大开放综合试点
    if not found or not text.startswith(found[1]):
        return None
    rest = text[len(found[1]):]
    if re.search(r"[，。、；：,;“”《》（）()]", rest):  # the name may hold brackets: 中国（海南）自由贸易试验区
        return None
    if re.fullmatch(r"的?(?:主要|经验|创新|特色|典型)*(?:做法|经验|举措|探索)", rest):
        rest = ""  # （一）苏州市的主要做法
    if not rest:
        return _PlaceHeading(found[1], found[1], "", label)
    if len(rest) <= 12 and not rest.startswith(_MEASURE_VERBS):
        if _PLACE_SUFFIX.search(rest) and not _AGENCY_WORDS.search(rest):
            return _PlaceHeading(text, found[1], "", label)
        if _AGENCY_WORDS.search(rest) or label and len(rest) <= 4:
            # 深圳税务：跨境电商出口退税“离境即退”: a short name of the place's agency over its news
            return _PlaceHeading(text, found[1], rest, label)
    return None


def _tag_place(tag: str) -> str:
    """The place a bracketed tag names, written so the gazetteer reads it: 渝 → 重庆市, 沪·临港 → 临港 if it is a
    place, else 上海市; 浙江·杭州 → 浙江杭州; 鄂·仙桃 → 仙桃. Any other tag as it is."""
    parts = re.split(_PLACE_DOT, tag)
    if len(parts) == 1:
        return PROVINCE_ABBREVIATIONS.get(tag, tag)
    joined = "".join(parts)
    if (found := _gazetteer().find_leading(joined)) and found[1] == joined:
        return joined
    for part in reversed(parts):
        if (found := _gazetteer().find_leading(part)) and found[1] == part:
            return part
    return PROVINCE_ABBREVIATIONS.get(parts[0], tag)


def _reposted_masthead(lines: list[str]) -> int:
    """Where the masthead starts when a few short lines of a web or WeChat page come before it
    (点击上方蓝字关注我们 / 原创 … / 常州市优化营商环境工作动态 / 2025年第10期): the title line followed
    by its 期号; 0 when the text starts with its masthead."""
    for i, line in enumerate(lines[:10]):
        plain = _strip_marks(line)
        if len(plain) > 60:
            return 0
        if i and looks_like_title(plain) and _gazetteer().find_leading(plain) \
                and any(find_issue(n)[0] for n in lines[i + 1:i + 3]) \
                and not any(looks_like_title(_strip_marks(p)) for p in lines[:i]):
            return i
    return 0


def _masthead_end(lines: list[str], names: SectionNames) -> int:
    """The index of the first line after the masthead."""
    last_meta = -1
    for i, line in enumerate(lines[:10]):
        plain = _strip_marks(line)
        if plain.startswith("【") or FOOTER.match(plain) or _EDITORIAL.match(plain):
            break
        if len(plain) <= 60 and (is_issue_or_date(plain) or find_issue(plain)[0] or find_date(plain)):
            last_meta = i
    for i, line in enumerate(lines[:16]):
        if i <= last_meta:
            continue
        plain = _strip_marks(line)
        if _EDITORIAL.match(plain) or _INSTRUCTION.match(plain) or len(plain) > 60 or "\t" in line \
                or "。" in plain[:-1] or plain.endswith("。") and len(plain) > 20:
            return i  # also a sentence: the body has begun (一、新能源项目审批提速。市发展改革委…)
        if i < 3 and looks_like_title(plain) and not plain.startswith("【") and not _ENUM_LEAD.match(plain):
            # a bold title line (# 某某市营商环境专刊) is the masthead, not a section heading
            continue
        heading = heading_of(line)
        if heading and (not heading.weak or names.kind_of(heading.name)):
            return i
    return min(len(lines), max(last_meta + 1, 0)) if last_meta >= 0 else 0


def _is_box(name: str, names: SectionNames) -> bool:
    """Whether 【name】 at the start of a paragraph is a box to leave out rather than a section heading."""
    return names.kind_of(name) == SKIP or len(name) <= 8 and any(w in name for w in _BOX_WORDS)


def _split_inline_headings(lines: list[str], names: SectionNames) -> list[str]:
    """Lines with a 【…】 heading and its first paragraph on one line (【他山之石】深圳市推行……,
    【深圳】推行……) as two lines; a box (【专家点评】…, 【小贴士】…: a name not to import) stays one."""
    out = []
    for line in lines:
        line = _DATELINE.sub("", line, count=1)
        if tag := _FIELD_TAG.match(line):
            name, rest = tag.groups()
            out.append(rest if name.endswith(("地区", "地点", "单位")) else
                       f"成效：{rest}" if "成效" in name else rest)
            continue
        m = _INLINE_HEADING.match(line)
        bulleted = None if m else _INLINE_HEADING.match(_ENUM_LEAD.sub("", line, count=1))
        if bulleted and leading_places(_tag_place(bulleted.group(1))):
            m = bulleted  # ● 【深圳前海】前海深港现代服务业合作区推行…, 2．【安徽合肥】合肥市…: the place in brackets, then its text
        if m and re.match(r"^[市县区州]", m.group(1)) and is_agency_name(m.group(1)) and not m.group(2).startswith(("：", ":")):
            out.append(f"{m.group(1)}：{m.group(2)}")  # 【市政务服务中心】上线…: the home's agency over its news, as 市财政局：…
        elif m and not m.group(2).startswith(("：", ":")) and not _is_box(m.group(1), names) \
                and (len(m.group(1)) > 1 or m.group(1) in PROVINCE_ABBREVIATIONS):  # 【渝】重庆市新增…
            out += [f"【{m.group(1)}】", m.group(2)]
        else:
            out.append(line)
    return out


def outline(lines: list[str], names: SectionNames, title: str = "") -> tuple[list[_Section], list[LeftOut]]:
    """The sections of the body lines, and the noise found between them.

    ``title`` is the bulletin's title: a line that repeats it (a running header the page-boundary
    rule could not see) is noise.
    """
    sections = [_Section("", None, 99)]
    noise: list[LeftOut] = []
    in_notes = False
    toc: set[str] | None = None  # the entries so far, inside a table of contents (本期要目)
    ended = False  # after a web article's END line: its page (来源, 阅读原文, 点个在看)
    for line in _split_inline_headings(lines, names):
        plain = _strip_marks(line)
        current = sections[-1]
        if ended or _THE_END.match(plain):
            ended = True
            noise.append(LeftOut(line, "文章结束（END）之后的页面信息，不是案例", current.name))
            continue
        if (box := _INLINE_HEADING.match(plain) or _CORNER_BOX.match(plain)) and _is_box(box.group(1), names):
            # a box inside a section (【专家点评】…, 【小贴士】…): left out, the section goes on after it
            noise.append(LeftOut(line, f"【{box.group(1)}】，不是案例", current.name))
            continue
        if title and len(plain) <= len(title) + 12 and strip_meta(plain).replace(" ", "") == title.replace(" ", ""):
            noise.append(LeftOut(line, "页眉（重复的报头），不是案例", current.name))
            continue
        if "\t" in line:
            current.items.append(("row", [c for c in line.split("\t")]))
            continue
        if not re.search(r"\w", plain):  # ------, ＊＊＊: a rule between parts
            noise.append(LeftOut(line, "分隔线，不是案例", current.name))
            continue
        if m := _EDITORIAL.match(plain):
            noise.append(LeftOut(line, "编者按，不是案例", current.name))
            if not plain[m.end():].strip():  # 【编后】 on a line of its own: the note is the text under it
                sections.append(_Section(plain.strip("【】[]：: "), SKIP, 99))
            continue
        if _INSTRUCTION.match(plain) and not leading_places(plain):
            noise.append(LeftOut(line, "领导批示，不是案例", current.name))
            continue
        if _PRINT_NOTE.match(plain):
            noise.append(LeftOut(line, "印发说明，不是案例", current.name))
            continue
        if _SIGNATURE.match(plain):
            noise.append(LeftOut(line, "落款，不是案例", current.name))
            continue
        if _SOURCE_NOTE.fullmatch(plain) or _SOURCE_LINE.match(plain):
            noise.append(LeftOut(line, "供稿或来源说明，不是案例", current.name))
            if (named := _source_place(plain)) is not None:
                current.items.append(("source", named))  # the place of the text above it (该区…)
            continue
        if _EDITOR_LINE.match(plain):
            noise.append(LeftOut(line, "编辑、校对署名，不是案例", current.name))
            continue
        if _QUESTION.match(plain) and len(plain) <= 80:
            noise.append(LeftOut(line, "问答中的问题，不是案例", current.name))
            continue
        if _OWN_POINT.match(plain):
            noise.append(LeftOut(line, "本地的问题或建议，不是案例", current.name))
            continue
        if re.match(r"^注\s*\d?\s*[：:]", plain):
            in_notes = True
            if len(plain) > 3:
                noise.append(LeftOut(line, "注释，不是案例", current.name))
            continue
        if _FOOTNOTE_LINE.match(plain) and (in_notes or "指" in plain[:30] or not leading_places(_ENUM_LEAD.sub("", plain, count=1))):
            noise.append(LeftOut(line, "注释，不是案例", current.name))
            continue
        if (ph := place_heading(line)) is not None:
            current.items.append(("place", ph))
            in_notes = False
            continue
        heading = heading_of(line)
        if heading is not None and re.search(r"[：:]", heading.name) and leading_places(re.split(r"[：:]", heading.name, maxsplit=1)[1]):
            heading = None  # 二、访谈：西安高新区“秦创原”成果转化怎么做: a headline naming the place of the text under it
        if toc is not None:  # the lines of a table of contents name the sections, they do not start them
            if heading is not None and heading.weak and heading.name not in toc:
                toc.add(heading.name)
                current.items.append(("label", heading.name))
                continue
            toc = None  # its first line that is no entry, or an entry again (the section itself), ends it
        if heading is None:
            if in_notes and len(plain) < 80 and not leading_places(plain):
                noise.append(LeftOut(line, "注释，不是案例", current.name))
                continue
            current.items += [("para", part) for part in _split_intro(plain)]
            continue
        in_notes = False
        if heading.weak and re.search(r"[：:]$", plain) and leading_places(plain):
            current.items.append(("para", plain))  # 深圳市多措并举优化纳税服务： over its items on lines of their own
            continue
        kind = names.kind_of(heading.name)
        if kind is None and (heading.weak or (current.kind is not None and heading.rank > current.rank)
                             or current.kind == ACTION and leading_places(heading.name)):
            # a label inside the section; in local actions also a bold headline that starts with a place
            # (樊城区推行“企业安静期”制度 over its text)
            current.items.append(("label", heading.name))
        else:
            sections.append(_Section(heading.name, kind, heading.rank))
            if _CONTENTS.search(heading.name):
                toc = set()
    return sections, noise


def _split_intro(paragraph: str) -> list[str]:
    """A paragraph that opens with an introduction ending in a colon and goes on with a place, as two:
    ``各地持续推出新举措，现摘编如下：上海市闵行区推行……`` gives the introduction and ``上海市闵行区推行……``.
    A paragraph that starts with a place (``深圳市：推行……``) is left whole."""
    m = re.match(r"^([^：:]{4,60}[：:])(.{10,})$", paragraph)
    if m is None or re.search(r"[（(][^）)]*$", m.group(1)) or leading_places(m.group(1)) or not leading_places(m.group(2)):
        # (a colon inside brackets is no introduction's: …（来源：成都市营商环境建设局）)
        return [paragraph]
    return [m.group(1), m.group(2)]


def _tally(section: _Section, home: Region | None) -> Tally:
    tally = Tally()
    heading_local: bool | None = None  # the place heading the paragraphs stand under: local or not
    for what, item in _sourced(section.items):
        if what == "place":
            heading_local = _is_local(_gazetteer().lookup(item.span), home)
            if heading_local:
                tally.local += 1
            else:
                tally.foreign += 1
        elif what == "label":
            heading_local = None
        elif what in ("para", "row"):
            text = item if what == "para" else "".join(item)
            lead = leading_places(text) or (_source_lead(text) or _headline_lead(text) if what == "para" else None)
            if lead is None and heading_local is not None:  # more text of the place above
                tally.local += heading_local
                tally.foreign += not heading_local
            elif lead is None:
                if _LOCAL_LABEL.match(text[:20]) or _local_unit(text, home):
                    tally.local += 1
                else:
                    tally.other += 1
            elif _is_local(lead.places[0][0], home):
                tally.local += 1
            else:
                tally.foreign += 1
    return tally


def _local_unit(text: str, home: Region | None) -> bool:
    """Whether a paragraph that names no place is the home city's own news: 我市 in its opening, or after
    its enumerator and headline (一、新能源项目审批提速。) a unit of the city (市发展改革委…) or one of its counties."""
    if re.search(r"我市|本市", text[:30]):
        return True
    rest = _ENUM_LEAD.sub("", text, count=1)
    if (m := re.match(r"^[^。，,；;：:]{2,20}。", rest)) and len(rest) > m.end():
        rest = rest[m.end():]
    agency = find_agency(rest) or ""
    lead = leading_places(rest)
    return agency[:1] in ("市", "县", "区") or lead is not None and _is_local(lead.places[0][0], home)


# ---------------------------------------------------------------------------------------------
# Practices
# ---------------------------------------------------------------------------------------------
def _sentences(paragraph: str) -> list[str]:
    """Split at 。！？ and at ； outside quotes and book-title marks (linear time)."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(paragraph):
        if ch in "“《（(「":
            depth += 1
        elif ch in "”》）)」":
            depth = max(0, depth - 1)
        elif ch in "。！？；" and depth == 0:
            out.append(paragraph[start : i + 1])
            start = i + 1
    out.append(paragraph[start:])
    return [s.strip() for s in out if s.strip()]


def _items(sentence: str) -> list[tuple[str, bool]]:
    """``sentence`` cut before each 一是/二是 … item: (piece, starts a new item).

    The first item (一是, 其一, （1）) stays with what comes before it (the paragraph's opening);
    every later one starts a new item.
    """
    cuts = list(_ENUM_ITEM.finditer(sentence))
    if not cuts:
        return [(sentence, False)]
    pieces: list[tuple[str, bool]] = []
    if cuts[0].start() > 0:
        pieces.append((sentence[: cuts[0].start()], False))
    for k, m in enumerate(cuts):
        end = cuts[k + 1].start() if k + 1 < len(cuts) else len(sentence)
        first = bool(re.match(r"\s*(?:一是|其一|第一|[（(]1[)）])", m.group(0)))
        pieces.append((sentence[m.end() : end], not first))
    return [(p, new) for p, new in pieces if p.strip()]


def _concrete(text: str) -> bool:
    """A chunk names something specific: a quoted name, a figure, or a document."""
    return bool(re.search(r"[“「][^”」]{2,}[”」]|\d", text))


def _finish(text: str) -> str:
    text = text.strip().lstrip("，,；;、")
    text = re.sub(r"[，,；;、]$", "。", text)
    return text


def split_practices(paragraph: str, inherited: _PlaceHeading | None = None
                    ) -> tuple[list[tuple[str, str, str, tuple[str, ...]]], str]:
    """One (text, region_as_written, agency, sibling places) per practice in a practice paragraph, and the
    paragraph's introduction left out ("" if none).

    ``inherited`` is the place heading the paragraph stands under, if any: its place (and agency) is
    the paragraph's when the paragraph does not start with a place of its own.
    """
    source = _source_lead(paragraph)
    paragraph = _SOURCE_NOTE.sub("", _FOOTNOTE_MARK.sub("", _ENUM_LEAD.sub("", paragraph, count=1)))
    if inherited is not None and not leading_places(paragraph):
        paragraph = _ITEM_LEAD.sub("", paragraph, count=1)  # 一是推行… under 苏州市: 苏州市推行…
    lead = leading_places(paragraph)
    if lead is None and inherited is None and source is not None:
        # the place only in the closing source note: 市营商环境建设局依托…（来源：成都市营商环境建设局）
        inherited = _PlaceHeading(source.span, source.span, "")
    if lead:
        region_raw, siblings = lead.span, tuple(s for _, s in lead.places)
        actor, head_agency = _actor(paragraph, lead), ""
        if inherited is not None and len(lead.places) == 1 and _named_again(lead.places[0][0], inherited.span):
            region_raw = inherited.span  # 【深圳南山】南山区发布…: the heading says which 南山区
        if inherited is not None and len(inherited.places) > len(siblings) \
                and any(_same_place(lead.places[0][0], p) for p in inherited.places):
            # under a heading of several places, a text that starts with one of them is theirs:
            # 广东省广州市、深圳市 over 广州知识产权法院与深圳知识产权法庭联合建立…
            siblings = inherited.places
    elif inherited is not None:
        region_raw, siblings, actor = inherited.span, inherited.places or (inherited.span,), inherited.line
        head_agency = inherited.agency
        if not find_agency(paragraph) and not paragraph.startswith(inherited.line):
            # the text names its place: 江苏省昆山市周市镇 + 周市镇作为… is 江苏省昆山市周市镇作为…
            again = next((k for k in range(min(len(inherited.line), len(paragraph)), 1, -1)
                          if inherited.line.endswith(paragraph[:k])), 0)
            paragraph = inherited.line[:len(inherited.line) - again] + paragraph
    else:
        region_raw, siblings, actor, head_agency = "", (), "", ""
    if len(siblings) < 2 or lead and re.search(r"分别[^：:。]{0,30}[：:]", paragraph):
        siblings = ()  # 广州、佛山、东莞三市分别…：广州推行…；佛山…；东莞…: each place its own practice
    gaz = _gazetteer()
    # the steps of one named reform: 推出“免申即享”改革：一是…, or a text under its title (“一照多址”备案改革（…盛泽镇）)
    steps = bool(_STEPS.search(paragraph))
    titled = inherited is not None and bool(inherited.label)
    chunks: list[_Chunk] = []
    current = region_raw
    for sentence in _sentences(paragraph):
        for piece, new_item in [(sentence, False)] if steps else _items(sentence):
            if not chunks:
                chunks.append(_Chunk([piece], current))
                continue
            body = _CONNECTIVE.sub("", piece.strip(), count=1)
            named = body[_after_leads(body):]  # 今年以来，南京市江北新区…
            found = gaz.find_leading(named[:40])
            if found and named.startswith(found[1]) and not _same_place(found[0], current) \
                    and not _named_again(found[0], current):
                current = found[1]
                several = leading_places(named)  # …；同期，海口、三亚两市推行…
                places = tuple(s for _, s in several.places) if several and len(several.places) > 1 else ()
                chunks.append(_Chunk([body], current, siblings=places))
            elif (agency := find_agency(body)) and not agency.endswith("部门") and agency not in chunks[-1].pieces[0]:
                # another agency acts: a new practice (港口与铁路部门…, 有关部门… name none: the same one goes on, and so
                # does the agency the practice opened with: 国网杭州供电公司将… / 供电公司与政务平台…)
                chunks.append(_Chunk([body], current, agency))
            elif new_item:
                text = body if leading_places(body) else actor + body
                chunks.append(_Chunk([text], current, item=True))
            elif (body[len(region_raw):] if region_raw and body.startswith(region_raw) else body).startswith(_MEASURE_VERBS) \
                    and not titled and not _SINCE.match(body) and not re.match(r"(?:与此)?同时", piece.strip()):
                # a new measure; one joined by 同时 is part of the same reform (…无需提交产权证明；同时建立…住所库)
                chunks.append(_Chunk([piece], current))
            else:
                chunks[-1].pieces.append(piece)
    # A headline before the practice that names its actor (工业用地「弹性出让」。为降低…，衢州市推行…;
    # 二是提升港口通关便利化水平。宁波海关在…)
    head = chunks[0].pieces[0][len(chunks[0].region):] if chunks and chunks[0].pieces[0].startswith(chunks[0].region) else ""
    if len(chunks) > 1 and chunks[1].region and len(chunks[0].pieces) == 1 and not head.startswith(_MEASURE_VERBS) \
            and len(chunks[0].pieces[0]) <= 30 and not re.search(r"[，,；;：:]", chunks[0].pieces[0]):
        chunks[1].agency = chunks[1].agency or find_agency("".join(chunks[1].pieces)) or ""
        chunks[1].pieces = chunks[0].pieces + chunks[1].pieces
        chunks.pop(0)
    # An opening chunk that only sets the scene ("…施行以来，密集出台多项改革方案") joins the next one.
    if len(chunks) > 1 and not _concrete("".join(chunks[0].pieces)) and not chunks[1].agency \
            and chunks[1].region == chunks[0].region and not chunks[1].item:
        chunks[1].pieces = chunks[0].pieces + chunks[1].pieces
        chunks.pop(0)
    intro = ""
    if len(chunks) > 1 and not chunks[0].region and not _concrete("".join(chunks[0].pieces)) \
            and all(c.region for c in chunks[1:]):
        # an opening with no place, before practices that name theirs: 今年以来，各地…推出了一批务实举措。1月，昆明市官渡区…
        intro = _finish("".join(chunks.pop(0).pieces))
    out = []
    for chunk in chunks:
        text = _finish("".join(chunk.pieces))
        if not text:
            continue
        agency = chunk.agency or head_agency or find_agency(text) or ""
        if chunk.region and agency.startswith(chunk.region) and len(agency) > len(chunk.region):
            agency = agency[len(chunk.region):]  # 北京互联网法院 → 互联网法院: the place is stored apart
        out.append((text, chunk.region, agency, chunk.siblings or (siblings if chunk.region == region_raw else ())))
    return out, intro


def _subplace(text: str) -> str:
    """A smaller place that ``text`` starts with, one the gazetteer may not hold (顺德区 in 佛山市顺德区)."""
    m = _SUBPLACE.match(text)
    if m and not any(w in m.group(0) for w in _MEASURE_VERBS + _NOT_IN_SUBPLACE):
        return m.group(0)
    return ""


@dataclass
class _Chunk:
    pieces: list[str]
    region: str
    agency: str = ""
    item: bool = False  # an item of 一是……二是……
    siblings: tuple[str, ...] = ()  # the places of a chunk that names several (海口、三亚两市)


def _named_again(region: Region, span: str) -> bool:
    """Whether ``region`` is the place written ``span`` named again by its bare name (南京市鼓楼区… / 鼓楼区今年以来…,
    whichever 鼓楼区 the gazetteer reads first)."""
    other = _gazetteer().lookup(span) if span else None
    return other is not None and other.name == region.name and region.level in ("county", "zone")


def _same_place(region: Region, span: str) -> bool:
    """Whether ``region`` is the place written ``span`` or inside it (a county of the city)."""
    other = _gazetteer().lookup(span) if span else None
    return other is not None and (_same(region, other) or region.city == other.name
                                  or region.province == other.name and other.level == "province" and region.level != "province")


def _row_drafts(cells: list[str], columns: dict[str, int] | None) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(text, region_as_written, agency, sibling places) of each practice in a table row: none for a row that
    names no practice, several for a cell that numbers them (1.…2.…) or a place cell that names several
    places (广州、深圳两市)."""
    cells = [join_spaces(c.strip()) for c in cells]
    if columns:
        place, body, result, title = (cells[columns[k]] if k in columns and columns[k] < len(cells) else ""
                                      for k in ("place", "text", "result", "title"))
        place = re.sub(_PLACE_DOT, "", place)  # 浙江·杭州, 江苏/南通
        if title and body and title not in body:
            body = f"{title}：{body}"
    else:
        longest = max(range(len(cells)), key=lambda i: len(cells[i]))
        body = cells[longest]
        place = next((c for i, c in enumerate(cells) if i != longest and _gazetteer().find_leading(c)), "")
        result = ""
    if not body:
        return []
    parts = [p for p in re.split(r"(?<=[。；;])\s*(?=[2-9][.．、](?!\d))", re.sub(r"^1[.．、](?!\d)\s*", "", body)) if p.strip()]
    # a cell that numbers practices (1.推行…。2.设立…。); under a row's title (改革事项) the numbers are its steps
    parts = [re.sub(r"^[2-9][.．、]\s*", "", p) for p in parts] if len(parts) > 1 and not title else [body]
    pieces = [p for p in re.split(r"(?<=[；;])", body) if p.strip()]
    if len(parts) == 1 and len(pieces) > 1 and all(leading_places(p) for p in pieces):
        parts = pieces  # 河南省推行…；郑州市上线…；开封市推出…: each place its own practice
    elif len(parts) == 1 and len(pieces) == 2 and not title \
            and all(len(p) >= 30 and _NAMED.search(p) and re.search(r"\d", p) for p in pieces) \
            and len({m.group(0) for p in pieces for m in [_NAMED.search(p)]}) == 2:
        parts = pieces  # two measures, each named and with its own result: 上线“一网通”平台…9600余件；实行“一企一专员”…
    found = _gazetteer().find_leading(place) if place else None
    places = leading_places(place) if place else None
    out = []
    for k, part in enumerate(parts):
        lead = leading_places(part)
        if lead:
            text, region = part, lead.span
        else:
            text = place + part if place and not part.startswith(place) else part
            region = found[1] if found and place.startswith(found[1]) else ""
        agency = place[len(found[1]):] if found and place.startswith(found[1]) and _AGENCY_WORDS.search(place) else ""
        text = _as_sentence(text)
        if result and k == len(parts) - 1:
            text += _as_sentence(result)
        several = lead if lead else places  # the part's own places (北京、上海两地…), else the place cell's
        siblings = tuple(s for _, s in several.places) if several and len(several.places) > 1 else ()
        out.append((text, region, agency or find_agency(text) or "", siblings))
    return out


def _as_sentence(text: str) -> str:
    """``text`` finished (:func:`_finish`) and ending in a full stop."""
    text = _finish(text)
    return text if re.search(r"[。！？]$", text) else text + "。"


def _field_row(cells: list[str]) -> tuple[str, str] | None:
    """(role, value) of a row of a one-practice table (问题 | 新办企业首次开具发票需…), else None."""
    cells = [c.strip() for c in cells if c.strip()]
    if len(cells) != 2 or not (m := _FIELD_ROW.match(cells[0].replace(" ", ""))) or _FIELD_ROW.match(cells[1]):
        return None
    return m.lastgroup, join_spaces(cells[1])


def _field_paragraph(fields: dict[str, str], place: str) -> str:
    """One practice paragraph from a one-practice table's fields and the place it stands under:
    ``place：title。problem measures results``."""
    place = fields.get("place") or place
    body = "".join(_as_sentence(fields[k]) for k in ("context", "text", "result") if fields.get(k))
    head = "：".join(p for p in (place, _finish(fields.get("title", "")).rstrip("。")) if p)
    return f"{head}。{body}" if head and not body.startswith(head) else body


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1) if re.fullmatch(r"[\u4e00-\u9fff0-9A-Za-z]{2}", text[i:i + 2])}


def _repeats(text: str, drafts: list[Draft]) -> bool:
    """Whether a table row only sums up a practice drafted before it (a closing 一览表 of the issue's practices):
    most of its words (two-character pieces) are in one earlier practice."""
    words = _bigrams(text)
    return len(words) >= 6 and any(d.kind == KIND_PRACTICE and len(words & _bigrams(d.text)) >= 0.6 * len(words)
                                   for d in drafts)


def _table_columns(cells: list[str]) -> dict[str, int] | None:
    """Which column holds the place, the practice and its result, when ``cells`` is a header row."""
    if not cells or any(len(c) > 8 for c in cells):
        return None
    columns: dict[str, int] = {}
    text_rank = len(_TABLE_TEXT)
    for i, cell in enumerate(cells):
        practice = any(w in cell for w in _TABLE_TEXT[:3])  # 经验做法及成效, 先进地区做法: the practice column
        if any(w in cell for w in _TABLE_RESULT) and not practice:
            columns.setdefault("result", i)
        elif any(w in cell for w in _TABLE_PLACE) and not practice:
            columns.setdefault("place", i)
        elif any(w in cell for w in _TABLE_TITLE):
            columns.setdefault("title", i)
        elif (rank := next((k for k, w in enumerate(_TABLE_TEXT) if w in cell), text_rank)) < text_rank:
            columns["text"], text_rank = i, rank
    if "text" not in columns and "title" in columns:  # 经验名称 alone: the practice is written there
        columns["text"] = columns.pop("title")
    return columns if "text" in columns else None


def _action_draft(paragraph: str) -> tuple[str, str]:
    """A local-action paragraph "冷水滩区：3月14日，…" and its label (a place or an agency), if any."""
    paragraph = _SOURCE_NOTE.sub("", _FOOTNOTE_MARK.sub("", _ENUM_LEAD.sub("", paragraph, count=1)))
    paragraph = re.sub(r"^[^\w“「（(【]+", "", paragraph)  # ✅ 武进区：…
    m = re.match(r"^([^：:，。]{2,14})[：:]", paragraph)
    return paragraph, (m.group(1) if m else "")


# ---------------------------------------------------------------------------------------------
# The whole bulletin
# ---------------------------------------------------------------------------------------------
def _home(source: Source, head: list[str]) -> Region | None:
    gaz = _gazetteer()
    for line in [source.title] + head:
        found = gaz.find_leading(re.sub(r"^(?:中共|中国共产党)", "", _strip_marks(line)))
        if found:
            return found[0]
    return None


def parse_bulletin(text: str, filename: str = "", include_actions: bool = True,
                   names: SectionNames | None = None, gaz: Gazetteer | None = None,
                   cancel: Cancel | None = None) -> ParsedBulletin:
    """Parse a bulletin's text. Raises InputError when it holds no practice at all.

    ``names`` are the section names to know (the defaults, or :meth:`SectionNames.extended`); ``gaz``
    the gazetteer every place is read with, in practices and local actions alike (default: the
    shipped one; a knowledge base passes its own, with the places its users added, such as a town of
    the home city). ``cancel`` set (from another thread): :class:`ImportCancelled` before the next
    paragraph, so that a long bulletin stops while it is read.
    """
    token, stop = _PLACES.set(gaz), _CANCEL.set(cancel)
    try:
        return _parse(text, filename, include_actions, names or SectionNames())
    finally:
        _PLACES.reset(token)
        _CANCEL.reset(stop)


def _parse(text: str, filename: str, include_actions: bool, names: SectionNames) -> ParsedBulletin:
    lines = repair(text)
    checkpoint(_CANCEL.get())
    if not lines:
        raise InputError(f"{filename or '专报'} 没有文字内容：请检查文件。")
    parsed_head: list[LeftOut] = []
    if start := _reposted_masthead(lines):
        # the bulletin as reposted on a web or WeChat page: the page's own header comes before its masthead
        parsed_head = [LeftOut(line, "转载页面的页头，不是案例") for line in lines[:start]]
        lines = lines[start:]
    end = _masthead_end(lines, names)
    head = [_strip_marks(line) for line in lines[:end]]
    body = lines[end:]
    footer_at = next((i for i, line in enumerate(body) if FOOTER.match(_strip_marks(line))), len(body))
    tail = body[footer_at:]
    body = body[:footer_at]
    source = read_masthead(head, tail, filename)
    if source.title == re.sub(r"\.[A-Za-z0-9]+$", "", filename or "") and (running := _running_title(text)):
        source.title = running  # a title line misread (OCR: …工作专扱): the running header at the top of later pages
    home = _home(source, head)
    parsed = ParsedBulletin(source=source, home_region=home.name if home else "")
    parsed.left_out += parsed_head
    sections, noise = outline(body, names, source.title if source.title != filename else "")
    parsed.left_out += noise
    parsed.left_out += [LeftOut(line, "文尾（报送、抄送、联系方式），不是案例") for line in tail]
    tallies = [_tally(section, home) for section in sections]
    kinds = [_section_kind(section, tally, home, names) for section, tally in zip(sections, tallies)]
    # An essay names other places' practices among its own remarks (…各地各有探索：上海市推行…；北京市海淀区…): a section
    # of no known name that its content would skip, but that starts more paragraphs with another place than with the
    # home, holds practices; there, a paragraph that names no place is a remark, not a practice to complete
    remarks = [kind == SKIP and section.kind is None and tally.foreign >= max(1, tally.local)
               for section, kind, tally in zip(sections, kinds, tallies)]
    found_practices = False
    for section, kind, essay in zip(sections, kinds, remarks):
        label = section.name or "正文"
        if kind == PRACTICE or essay:
            found_practices = True
            _practice_drafts(section, label, parsed, remarks=essay)
        elif kind == ACTION and include_actions:
            _action_drafts(section, label, parsed)
        else:
            reason = ("本地工作动态（未选择导入工作动态）" if kind == ACTION else
                      f"【{label}】不是标杆经验栏目" if section.name else "不在任何标杆经验栏目中")
            for what, item in section.items:
                if what in ("para", "row"):
                    parsed.left_out.append(LeftOut(item if what == "para" else "\t".join(item), reason, section.name))
    if not found_practices:
        headings = "、".join(f"【{s.name}】" for s in sections if s.name) or "没有任何栏目标题"
        raise InputError(
            f"{filename or '这份专报'} 中没有找到【战术借鉴】等标杆经验栏目，也没有以外地地名开头的段落"
            f"（找到的栏目：{headings}）。请确认这是工作专报，或把案例逐条用“新增案例”录入。"
        )
    return parsed


def _section_kind(section: _Section, tally: Tally, home: Region | None, names: SectionNames) -> str:
    """PRACTICE, ACTION or SKIP: by the section's name, checked against what its paragraphs start with (``tally``)."""
    by_content = classify_by_content(tally)
    kind = section.kind or by_content
    if kind == ACTION and home is not None and not _OWN_NEWS.search(section.name) \
            and not any(w in section.name for w in names.action if w not in DEFAULT_ACTION_NAMES) \
            and by_content == PRACTICE:
        # 各地动态 that are other places' news (most paragraphs start with a place outside home); a name
        # the users put in sections.tsv as 工作动态 stays theirs
        kind = PRACTICE
    if kind == PRACTICE and _OWN_NEWS.search(section.name) and by_content == ACTION:
        kind = ACTION  # 我市对标情况: a practice word in the name, the home city's own news in the section
    return kind


def _running_title(text: str) -> str:
    """The title a running header repeats (唐山市优化营商环境工作专报　2025年第11期 on each later page), or ""."""
    counts = Counter(strip_meta(join_spaces(line)) for line in text.splitlines()[:2000]
                     if looks_like_title(line.strip()) and len(line.strip()) <= 60)
    title, n = counts.most_common(1)[0] if counts else ("", 0)
    return title if n >= 2 else ""


def _frame_tail(paragraph: str) -> tuple[str, str]:
    """``paragraph`` without the section's closing words joined to its end (…压缩七成。请各地结合实际学习借鉴。),
    and those words."""
    sentences = _sentences(paragraph)
    cut = len(sentences)
    while cut > 1 and _FRAME.search(sentences[cut - 1]) and not leading_places(sentences[cut - 1]):
        cut -= 1
    if cut == len(sentences):
        return paragraph, ""
    return "".join(sentences[:cut]), "".join(sentences[cut:])


def _own_sentences(paragraph: str) -> tuple[str, str]:
    """``paragraph`` without its sentences on the home city (…压缩至45天。相比之下，我市一般工业项目…), and those
    sentences; unchanged when every sentence is such (a paragraph of local news)."""
    sentences = _sentences(paragraph)
    own = [s for s in sentences if _OWN_SENTENCE.match(_ENUM_LEAD.sub("", s, count=1))]
    if not own or len(own) == len(sentences):
        return paragraph, ""
    return "".join(s for s in sentences if s not in own), "".join(own)


def _actor(paragraph: str, lead: Lead) -> str:
    """Who acts in a paragraph that starts with ``lead``: the place as written, a smaller place after
    it, and the agency right after (深圳市南山区, 深圳市税务局)."""
    end = lead.end
    if len(lead.places) == 1:
        end += len(_subplace(paragraph[end:]))
    actor = paragraph[lead.start:end] if len(lead.places) == 1 else lead.span
    if (agency := find_agency(paragraph)) and paragraph[end:].startswith(agency):
        actor += agency
    return actor


def _practice_drafts(section: _Section, label: str, parsed: ParsedBulletin, remarks: bool = False) -> None:
    """The practices of a section; ``remarks``: its paragraphs that name no place are the writer's remarks (an essay),
    left out rather than drafted with a warning."""
    place: _PlaceHeading | None = None
    columns: dict[str, int] | None = None
    number = 0
    previous_region = ""
    intro: tuple[str, _PlaceHeading] | None = None  # "深圳市多措并举：" before items on lines of their own
    intro_used = False  # the intro went into its first item
    labelled = False  # the place heading's label went into the first paragraph under it
    row_place = ""  # the place cell of the table row above (a row with a blank one is the same place's)
    answered: _PlaceHeading | None = None  # the place heading an interview's answer (答：) went under
    title = ""  # a headline waiting for its subtitle (——合肥市推进…)
    drafted_under: _PlaceHeading | None = None  # the place heading the last paragraph's practice went under
    fields: dict[str, str] = {}  # the rows so far of a one-practice table (事项 | …, 做法 | …)

    def emit(paragraph: str, inherited: _PlaceHeading | None, headline: str = "") -> None:
        nonlocal number, previous_region
        paragraph, tail = _frame_tail(paragraph)
        if tail:
            parsed.left_out.append(LeftOut(tail, "栏目的导语或结语，没有写明地区", section.name))
        paragraph, own = _own_sentences(paragraph)
        if own:
            parsed.left_out.append(LeftOut(own, "谈本地的情况或打算，不是外地做法", section.name))
        number += 1
        chunks, intro_text = split_practices(paragraph, inherited)
        if intro_text:
            parsed.left_out.append(LeftOut(intro_text, "栏目的导语或结语，没有写明地区", section.name))
        if headline and len(chunks) > 1 and chunks[0][0].strip() == headline:
            # a place heading's headline over practices that each name their place or are 一是/二是 items:
            # the headline opens the first of them, it is no practice of its own
            chunks = [(f"{headline}{chunks[1][0]}", *chunks[1][1:]), *chunks[2:]]
        for chunk, region_raw, agency, siblings in chunks:
            add(chunk, region_raw, agency, siblings, f"第 {number} 段")
            previous_region = region_raw or previous_region

    def add(text: str, region_raw: str, agency: str, siblings: tuple[str, ...], where: str) -> None:
        """The drafts of one practice: one per place it names (siblings), a warning when it names none."""
        if not region_raw and remarks:
            parsed.left_out.append(LeftOut(text, "评述或背景，没有写明地区", section.name))
            return
        if not region_raw:
            parsed.warnings.append(f"【{label}】{where}没有写明地区，请在导入前补上：{text[:30]}…")
        for place_raw in siblings or (region_raw,):
            parsed.drafts.append(Draft(text, place_raw, agency, KIND_PRACTICE, section.name or label, number, siblings))

    def emit_fields() -> None:
        """The practice of a one-practice table: its rows are one text, whatever their sentences start with."""
        nonlocal number
        if fields.get("text") or fields.get("context") or fields.get("result"):
            number += 1
            chunks, _ = split_practices(_field_paragraph(fields, place.line if place else ""), place)
            if chunks:
                add("".join(c[0] for c in chunks), *chunks[0][1:], f"表格第 {number} 项")
        fields.clear()

    for at, (what, item) in enumerate(_sourced(section.items)):
        checkpoint(_CANCEL.get())
        if what == "source":
            continue
        field = _field_row(item) if what == "row" and columns is None else None
        if fields and (field is None or field[0] in fields):
            emit_fields()  # the table of one practice ends, or the next one's first field comes
        if field is not None:
            fields[field[0]] = field[1]
            continue
        if what != "row":
            columns = None
        if intro is not None and not (what == "para" and _ITEM_LEAD.match(item) and not leading_places(item)):
            if not intro_used:
                emit(intro[0], None)
            intro = None
        if what == "label":
            place = None
            continue
        if what == "place":
            place, labelled = item, False
            if title and not item.label:  # 经验一：化工园区项目“区域评估+承诺准入” / （地区：浙江省宁波市镇海区）
                place, title = replace(item, label=title), ""
            continue
        if what == "row":
            if columns is None and (header := _table_columns(item)) is not None:
                columns = header
                continue
            at = columns.get("place") if columns else None
            if at is not None and at < len(item) and not item[at].strip() and row_place:
                item = [row_place if i == at else c for i, c in enumerate(item)]  # merged cells: the place above
            elif at is not None and at < len(item):
                row_place = item[at].strip()
            rows = _row_drafts(item, columns)
            if rows:
                number += 1
            for text, region, agency, siblings in rows:
                if _repeats(text[len(region):], parsed.drafts):
                    parsed.left_out.append(LeftOut(text, "汇总表重复前文的做法，不另作案例", section.name))
                    continue
                add(text, region, agency, siblings, f"表格第 {number} 行")
            continue
        paragraph = item
        if place is not None and place.numbered and _OUTLINE_ITEM.match(paragraph):
            place = None  # the next item of the outline: the numbered place heading's text has ended
        bare = _ENUM_LEAD.sub("", paragraph, count=1)
        lead = leading_places(bare)
        if intro is not None:  # an item of the intro before it: the first takes the intro, the others its actor
            body = _ITEM_LEAD.sub("", paragraph, count=1)
            emit(body if intro_used else intro[0] + body, intro[1] if intro_used else None)
            intro_used = True
            continue
        following = section.items[at + 1] if at + 1 < len(section.items) else ("", "")
        below = following[1] if following[0] == "para" else ""
        if not lead and len(paragraph) <= 30 and not re.search(r"[。；;！？，,：:]", paragraph) and below.startswith("——"):
            title = paragraph  # a headline over its subtitle: 让“沉睡专利”变成“真金白银” / ——合肥市推进…
            continue
        if not lead and _ENUM_LEAD.match(paragraph) and len(bare) <= 30 and not re.search(r"[。；;！？，,：:]", bare) \
                and following[0] == "place":
            title = bare  # a numbered title over the line that names its place (经验一：… / （地区：…）)
            continue
        if lead and len(bare) <= 40 and not re.search(r"[。；;！？]|[：:]$", bare) \
                and (paragraph.startswith("——") or below and not leading_places(_ENUM_LEAD.sub("", below, count=1))):
            # a headline or subtitle that names the place of the text under it (西安高新区“秦创原”成果转化怎么做 /
            # 答：我们…; ——合肥市推进知识产权质押融资扩面增量 / 合肥市聚焦…)
            place = _PlaceHeading(lead.span, lead.span, "", title or bare[lead.end:].strip("：: "),
                                  article=paragraph.startswith("——"))
            labelled, title = False, ""
            continue
        if lead and re.search(r"[：:]$", paragraph) and len(paragraph) <= 80:
            actor = _actor(bare, lead)
            intro, intro_used = (paragraph, _PlaceHeading(actor, lead.span, "")), False
            continue
        if not lead and _RESULT_LEAD.match(paragraph) and _add_results(parsed, section.name or label, number, paragraph):
            continue
        if not lead and _SPEECH.match(paragraph):
            parsed.left_out.append(LeftOut(paragraph, "领导讲话，不是案例", section.name))
            continue
        if not lead and (place is None or re.match(r"[市县区](?:营商办|委|政府)", paragraph)) and _FRAME.search(paragraph):
            parsed.left_out.append(LeftOut(paragraph, "栏目的导语或结语，没有写明地区", section.name))
            continue
        if not lead and len(paragraph) <= 10 and re.search(r"[：:]$", paragraph):
            parsed.left_out.append(LeftOut(paragraph, "小标题，不是案例", section.name))  # 访谈：, 标杆城市做法：
            continue
        answer = not lead and _ANSWER.match(paragraph)
        if answer and place is None and not _gazetteer().find_all(paragraph):
            # an interview with the home city's own official: an answer that names no place is about the home city
            parsed.left_out.append(LeftOut(paragraph, "访谈中谈本地情况的回答，没有外地做法", section.name))
            continue
        if not lead and re.match(r"^(?:——|－－|--)\s*(?:专)?访", paragraph):
            parsed.left_out.append(LeftOut(paragraph, "访谈对象，不是案例", section.name))  # ——访市营商办主任…
            continue
        rest = _CONNECTIVE.sub("", bare, count=1)
        if not lead and place is not None and drafted_under is place and not answer \
                and (not rest.startswith(_MEASURE_VERBS) and not _ITEM_LEAD.match(paragraph)
                     and len(find_agency(rest) or "") <= 2 or place.numbered and place.label and _SUB_ITEM.match(paragraph)
                     or place.label and not _ITEM_LEAD.match(paragraph) and not find_agency(rest)
                     or place.article and len(find_agency(rest) or "") <= 2) \
                and _add_results(parsed, section.name or label, number, _ITEM_LEAD.sub("", paragraph, count=1)):
            # more of the practice under the same heading (银行网点对投资者身份…核验后，… / 今年前三季度，…), or
            # in a two-level outline, the next point under a numbered heading that names the reform (（一）上海市浦东新区：
            # “一业一证”改革持续深化 / 1．… 2．…; under a heading of no number, 广州市黄埔区：… / 一是…二是…, and under one
            # that only names the place, （一）福建省福州市 / 1．… 2．…, each item is a practice)
            continue
        if answer and place is not None and answered is place \
                and _add_results(parsed, section.name or label, number, _ENUM_LEAD.sub("", paragraph, count=1)):
            continue  # the interview's next answer: the same practice goes on
        if place is not None and not _ITEM_LEAD.match(paragraph) and (not lead or _same_place(lead.places[0][0], place.span)) \
                and following[0] == "para" and re.match(r"^\s*一是", following[1]):
            # an overview of the place before its items (苏州市把优化营商环境作为“一号改革工程”… / 一是…二是…)
            parsed.left_out.append(LeftOut(paragraph, "地方的总体情况，做法在下面分条", section.name))
            continue
        answered = place if answer else None
        inherited, headline = place, ""
        if place is not None and place.label and not labelled:
            headline = f"{place.line}：{place.label}。"
            paragraph, labelled = headline + _ENUM_LEAD.sub('', paragraph, count=1), True
        elif not lead and place is None and previous_region and re.match(r"^(?:该[市省区县州]|其|此外|同时|另外|还)", paragraph):
            if re.match(r"^(?:此外|同时|另外)", paragraph) and not leading_places(_CONNECTIVE.sub("", paragraph, count=1)) \
                    and _add_results(parsed, section.name or label, number, paragraph):
                continue  # 同时，对进口俄罗斯木材…: more of the practice before (同时，杭州市…推出… names its own new one)
            inherited = _PlaceHeading(previous_region, previous_region, "")
        emit(paragraph, inherited, headline)
        drafted_under = place
    if fields:
        emit_fields()
    if intro is not None and not intro_used:
        emit(intro[0], None)


def _sourced(items: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """``items`` with the place of each source line (``("source", place heading)``) put before the paragraphs above it
    that name no place of their own (该区对新建工业厂房… / （来源：西安高新区管委会网站）), their 该区/该局 written as it."""
    out = list(items)
    for at in range(len(out) - 1, -1, -1):
        if out[at][0] != "source":
            continue
        heading = out[at][1]
        start = at
        while start > 0 and out[start - 1][0] == "para" and not leading_places(out[start - 1][1]):
            start -= 1
        if start == at or start > 0 and out[start - 1][0] == "place":
            continue  # nothing above it, or a place heading over those paragraphs already
        for k in range(start, at):
            out[k] = ("para", re.sub(r"^该(?:[市区县州省镇]|局|院|委|中心)", heading.line, out[k][1], count=1))
        out.insert(start, ("place", heading))
    return out


def _add_results(parsed: ParsedBulletin, section: str, number: int, paragraph: str) -> bool:
    """Join a results paragraph (取得成效：…) to the practice drafted last in this section (and to the
    drafts of its other places); False when there is none."""
    drafts = parsed.drafts
    if not drafts or drafts[-1].kind != KIND_PRACTICE or drafts[-1].section != section or drafts[-1].paragraph != number:
        return False
    last = drafts[-1].text
    for i in range(len(drafts) - 1, -1, -1):
        if drafts[i].text != last or drafts[i].paragraph != number:
            break
        drafts[i] = replace(drafts[i], text=last + _finish(paragraph))
    return True


def _names_place(label: str) -> bool:
    """Whether a local-action label starts with a place, also an ambiguous one (鼓楼区) or one followed
    by a smaller place or an agency (江宁区大学城街道, 江宁区税务局): the label is then the record's
    place field, read as any place field is (the agency split off, the ambiguity settled by the
    bulletin's home). ``市税务局`` names no place: it is the agency, the place is the bulletin's home."""
    placement = _gazetteer().resolve(label)
    return bool(placement.region or placement.candidates or placement.parent)


def _action_drafts(section: _Section, label: str, parsed: ParsedBulletin) -> None:
    number = 0
    headline = ""  # a headline naming a place (樊城区推行“企业安静期”制度): it opens the paragraph under it
    for what, item in section.items:
        checkpoint(_CANCEL.get())
        if what == "label":
            headline = item if leading_places(item) else ""
            continue
        if what not in ("para", "row"):
            continue
        if what == "row" and all(len(c.strip()) <= 8 and not re.search(r"[\d，。；：,;]", c) for c in item):
            continue  # the header row of a table of local work (单位 | 工作进展)
        if headline and what == "para":
            item = f"{headline}。{item}"
            headline = ""
        if what == "para" and (NEXT_STEPS.match(re.sub(r"^[^\w“「（(]+", "", item))  # 💡下一步，…
                               or re.match(r"^建议", _ITEM_LEAD.sub("", _ENUM_LEAD.sub("", item, count=1), count=1))
                               or re.fullmatch(r"关于.{4,60}的?(?:报告|请示|汇报)", item)):
            # （一）建议市商务局…/一是建议…: a suggestion; 关于…的报告: the title of a report
            parsed.left_out.append(LeftOut(item, "下一步工作打算，不是已做的工作", section.name))
            continue
        if what == "para" and _SPEECH.match(item):
            parsed.left_out.append(LeftOut(item, "领导讲话，不是案例", section.name))
            continue
        if what == "para" and not leading_places(item) and not find_agency(item) \
                and re.search(r"存在(?:明显|一定|较大)?(?:差距|短板|不足)|也要看到|差距在于", item):
            parsed.left_out.append(LeftOut(item, "对照差距的分析，不是已做的工作", section.name))
            continue
        if what == "para" and (len(item) > 20 and re.search(r"[：:]$", item) or _FRAME.search(item)) \
                and not leading_places(item):
            parsed.left_out.append(LeftOut(item, "栏目的导语或结语，没有写明做了什么", section.name))
            continue
        number += 1
        body, tag = _action_draft(item if what == "para" else "".join(item))
        is_place = bool(tag) and _names_place(tag)
        lead = None if tag else leading_places(body)  # 冷水滩区推行…, without a colon
        region = tag if is_place else lead.span if lead else parsed.home_region
        parsed.drafts.append(Draft(body, region, "" if is_place else tag, KIND_ACTION, section.name or label, number))
