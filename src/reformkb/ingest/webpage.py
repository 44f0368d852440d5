"""Saved web pages (.html/.htm, and .mhtml/.mht "single file" saves) -> the article's own text.

Parsed with lxml's HTML parser (tolerant of real-world markup). Scripts, styles, forms, navigation,
headers, footers, side bars and share/QR-code blocks are dropped; the article is the element holding
most paragraph text (WeChat's ``#js_content`` and common CMS containers are tried first). The result
is the title, the publication date when the page states one, and the body paragraphs, one per line;
the page title is the source title. Lines of boilerplate ("扫一扫关注", "上一篇", "责任编辑") are removed.
"""
from __future__ import annotations

import email
import email.policy
import logging
import re

from reformkb.errors import InputError
from reformkb.ingest.limits import DEFAULT_LIMITS, MIB, ReadLimits
from reformkb.ingest.pages import TEXT, Page, PagedText

log = logging.getLogger(__name__)

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "form",
              "button", "select", "input", "textarea", "nav", "header", "footer", "aside", "menu", "head")
_DROP_ATTR = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumb|crumb|sidebar|side|footer|foot|header|topbar|share|qrcode|qr|erweima|"
    r"comment|comments|related|recommend|advert|ads?|banner|login|search|toolbar|copyright|pagination|pager|"
    r"bdsharebuttonbox|js_pc_qr_code|js_profile_qrcode|rich_media_tool|rich_media_area_extra|reward)($|[\s_-])",
    re.I,
)
_ARTICLE_IDS = ("js_content", "activity-name", "zoom", "UCAP-CONTENT", "article", "content", "Zoom")
_ARTICLE_CLASSES = ("rich_media_content", "TRS_Editor", "article-content", "article_content", "content", "article",
                    "pages_content", "news_content", "detail")
_BLOCKS = {"p", "div", "section", "article", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td",
           "th", "tr", "table", "ul", "ol", "dd", "dt", "center"}
# Lines that are the page's furniture, not the article: cues that start a line, and cues that only
# furniture contains (a practice may well say "扫码即可查询", so bare 扫码/二维码 are not cues).
_BOILERPLATE_START = re.compile(
    r"^(来源|编辑|责任编辑|作者|审核|校对|发布时间|发布日期|浏览次数|阅读量|分享到|分享至|上一篇|下一篇|相关阅读|"
    r"相关链接|打印本页|关闭窗口|【?字号|字体|点击上方|点击蓝字|长按|扫一扫|扫码关注|阅读原文|返回顶部)"
)
_BOILERPLATE_ANYWHERE = re.compile(
    r"扫一扫|扫码关注|长按(识别|二维码|关注)|关注(我们|公众号|微信公众号)|分享到|上一篇|下一篇|打印本页|关闭窗口|"
    r"版权所有|主办单位|承办单位|ICP备|网站标识码|公网安备|返回顶部|收藏本站|设为首页"
)
_SITE_SUFFIX = re.compile(r"\s*[-_|－—｜]+\s*[^-_|－—｜]{2,30}(网|网站|门户|政府|人民政府|公众号|平台|中心|客户端)\s*$")


def _boilerplate(line: str) -> bool:
    return (len(line) <= 80 and bool(_BOILERPLATE_START.match(line))) or \
        (len(line) <= 40 and bool(_BOILERPLATE_ANYWHERE.search(line)))


_DATE = re.compile(r"(20\d{2}|19\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
_META_DATE_NAMES = ("publishdate", "pubdate", "publish_date", "article:published_time", "firstpublishtime", "dc.date")


def _decode(data: bytes, declared: str | None = None) -> str:
    """Markup as text: BOM, else the declared or <meta> charset, else UTF-8, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    found = _META_CHARSET.search(data[:8192])
    for charset in (declared, found.group(1).decode("ascii") if found else None, "utf-8"):
        if not charset:
            continue
        charset = "gb18030" if charset.lower() in ("gb2312", "gbk", "gb18030", "x-gbk") else charset
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("gb18030", "replace")


def _mhtml_html(data: bytes, name: str) -> str:
    """The main HTML part of an MHTML file (the first text/html part)."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True) or b""
            return _decode(payload, part.get_content_charset())
    raise InputError(f"{name} 中没有网页内容（MHTML 文件里找不到 HTML 部分）：请在浏览器中重新“另存为网页”后再导入。")


def _attr_text(element) -> str:
    return f"{element.get('id', '')} {element.get('class', '')}"


def _clean(root) -> None:
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:  # processing instructions, the root
            continue
        style = (element.get("style") or "").replace(" ", "").lower()
        if element.tag in _DROP_TAGS or "display:none" in style or element.get("hidden") is not None:
            element.drop_tree()
        elif element.tag not in ("body", "html") and _DROP_ATTR.search(_attr_text(element)) \
                and element.get("id") not in _ARTICLE_IDS:
            element.drop_tree()


def _text_length(element) -> int:
    return sum(len(t.strip()) for t in element.itertext())


def _article(body):
    for article_id in _ARTICLE_IDS:
        found = body.xpath(f'.//*[@id="{article_id}"]')
        if found and _text_length(found[0]) > 50:
            return found[0]
    for cls in _ARTICLE_CLASSES:
        found = body.xpath(f'.//*[contains(concat(" ", normalize-space(@class), " "), " {cls} ")]')
        if found and _text_length(found[0]) > 50:
            return max(found, key=_text_length)
    # The element whose own paragraphs hold the most text.
    best, best_score = body, 0
    for element in body.iter("div", "article", "section", "td", "main"):
        score = sum(_text_length(p) for p in element if isinstance(p.tag, str) and p.tag in ("p", "section", "div", "br", "span"))
        if score > best_score:
            best, best_score = element, score
    return best


def _paragraphs(element) -> list[str]:
    """The element's text as paragraphs: a new one at every block element and <br> (no recursion, any depth)."""
    from lxml import etree

    out, current = [], []

    def flush():
        text = re.sub(r"[ \t\r\n\xa0\u3000]+", " ", "".join(current)).strip()
        if text:
            out.append(text)
        current.clear()

    for event, node in etree.iterwalk(element, events=("start", "end")):
        if not isinstance(node.tag, str):
            continue
        block = node.tag in _BLOCKS or node.tag == "br"
        if event == "start":
            if block:
                flush()
            if node.text and node.tag != "br":
                current.append(node.text)
        else:
            if block:
                flush()
            if node.tail and node is not element:
                current.append(node.tail)
    flush()
    return out


def _title(root) -> str:
    for xpath in ('//meta[@property="og:title"]/@content', '//meta[@name="ArticleTitle"]/@content',
                  '//*[@id="activity-name"]//text()', "//title//text()", "//h1//text()"):
        text = _SITE_SUFFIX.sub("", re.sub(r"\s+", " ", "".join(root.xpath(xpath))).strip())
        if text:
            return text[:200]
    return ""


def _date(root) -> str:
    for meta in root.xpath("//meta[@name or @property]"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in _META_DATE_NAMES and (m := _DATE.search(meta.get("content", ""))):
            return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    for xpath in ('//*[@id="publish_time"]//text()', '//*[contains(@class, "date") or contains(@class, "time")]//text()'):
        if m := _DATE.search(" ".join(root.xpath(xpath))):
            return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return ""


def read_html(data: bytes, name: str, limits: ReadLimits = DEFAULT_LIMITS, mhtml: bool = False) -> PagedText:
    """The article of a saved web page: title line, date line (when stated), then its paragraphs."""
    from lxml import etree, html

    if len(data) > limits.max_html_bytes:
        raise InputError(f"{name} 有 {len(data) / MIB:.1f} MB，超过网页上限 {limits.max_html_bytes // MIB} MB：请只保存文章正文后再导入。")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} 不是网页文件（含有二进制内容）：请在浏览器中打开文章，“另存为网页”后再导入。")
    markup = _mhtml_html(data, name) if mhtml else _decode(data)
    try:
        root = html.document_fromstring(markup, parser=html.HTMLParser(remove_comments=True, no_network=True))
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"{name} 不是可以读取的网页（{exc}）：请在浏览器中重新“另存为网页”后再导入。") from exc
    title = _title(root)
    _clean(root)
    body = root.find("body") if root.find("body") is not None else root
    article = _article(body)
    paragraphs = [p for p in _paragraphs(article) if not _boilerplate(p)]
    date = _date(root)
    # The page title leads, unless the article's own first lines already give it (a bulletin's masthead).
    head = [title] if title and not any(title in p or (len(p) >= 8 and p in title) for p in paragraphs[:3]) else []
    if date and not any(_DATE.search(p) for p in paragraphs[:5]):
        head.append(date)
    text = "\n".join(head + paragraphs)
    if not paragraphs:
        raise InputError(f"{name} 中找不到文章正文：请在浏览器中打开文章，复制正文粘贴导入，或另存为 Word 后再导入。")
    return PagedText([Page(1, text, TEXT)], "网页", title=title)
