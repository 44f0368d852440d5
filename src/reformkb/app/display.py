"""Pure helpers for the Streamlit app (``app.py``): safe HTML for record cards, and the review table.

Nothing here touches Streamlit, the database or the model, so every function can be tested alone.

User text is never trusted as markup. A record whose text contains ``<script>``, ``**bold**`` or
``[x](y)`` must show exactly those characters. Cards are therefore built as HTML in which every piece
of user text is escaped with :func:`html.escape` and nothing else is interpreted (the app renders them
with ``st.html``, which does not read Markdown); :func:`plain` escapes text for the few places where
Streamlit reads Markdown (alerts and captions).
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable

from reformkb.records import KIND_ACTION, Record

#: Styles of the card (one ``<style>`` block, sent once per page).
CARD_CSS = """
<style>
.rk-card{font-size:0.95rem;line-height:1.65}
.rk-head{color:#31333f;font-weight:600;font-size:1.02rem}
.rk-agency{color:#555;font-weight:400}
.rk-title{font-weight:600;margin:0.1rem 0 0.3rem 0}
.rk-pending{font-size:0.75rem;color:#9a2a1a;background:#fde4df;border-radius:0.6rem;padding:0.05rem 0.5rem;margin-left:0.4rem;font-weight:400}
.rk-kind{font-size:0.75rem;color:#8a5a00;background:#fff3d6;border-radius:0.6rem;padding:0.05rem 0.5rem;margin-left:0.4rem;font-weight:400}
.rk-text{white-space:pre-wrap;word-break:break-word}
.rk-text mark{background:#ffe58a;padding:0 0.1rem;border-radius:0.2rem}
.rk-row{margin-top:0.35rem;display:flex;flex-wrap:wrap;gap:0.3rem;align-items:center}
.rk-topic{background:#e8f0fe;color:#1a4fb5;border-radius:0.8rem;padding:0.05rem 0.6rem;font-size:0.8rem}
.rk-metric{background:#f0f2f6;color:#31333f;border-radius:0.3rem;padding:0.05rem 0.5rem;font-size:0.8rem}
.rk-metric.rk-cut{background:#dff5e3;color:#14692a;font-weight:600}
.rk-source{color:#6b6f7b;font-size:0.8rem;margin-top:0.3rem}
.rk-small .rk-text{font-size:0.88rem}
</style>
"""


def streamlit_texts_css(max_file_bytes: int) -> str:
    """CSS that puts Chinese over the English texts Streamlit (1.67) draws itself and offers no setting for:
    the file uploader's “Drag and drop files here / Limit … per file / Browse files” (stating the real
    limit) and the “Press Enter to apply” hint under text boxes. Texts inside the browser's own widgets
    (“Add: …” in a selectbox, table toolbar tooltips) cannot be reached this way."""
    limit = f"{max_file_bytes / (1024 * 1024):g}"
    return f"""
<style>
[data-testid="stFileUploaderDropzoneInstructions"] > div > span,
[data-testid="stFileUploaderDropzoneInstructions"] > div > small {{display:none}}
[data-testid="stFileUploaderDropzoneInstructions"] > div::before {{content:"把文件拖到这里，可一次选多个";
  display:block}}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{content:"每个文件不超过 {limit} MB";
  display:block;font-size:0.8rem;color:#6b6f7b}}
[data-testid="stFileUploaderDropzone"] button:not([data-testid="stBaseButton-minimal"]):not([aria-label="Add files"])
  {{font-size:0}}
[data-testid="stFileUploaderDropzone"] button:not([data-testid="stBaseButton-minimal"]):not([aria-label="Add files"])::after
  {{content:"选择文件";font-size:0.875rem}}
[data-testid="InputInstructions"] {{display:none}}
</style>
"""


def cookie_script(name: str, value: str, seconds: int) -> str:
    """A script that stores (``seconds`` > 0) or removes a cookie of this site, for ``st.html``.

    ``value`` must be cookie-safe (the sign-in token is base64 and hex); it is checked, not escaped.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.\-]*", value) or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError("cookie name or value with unsafe characters")
    return (f'<script>document.cookie = "{name}={value}; Max-Age={int(seconds)}; Path=/; SameSite=Strict"'
            ' + (location.protocol === "https:" ? "; Secure" : "");</script>')


#: What replaces advice meant for the command line when an error is shown in the web page.
_WEB_ADVICE = {"NotFoundError": "请在“管理”页查找现有案例。", "AuthError": "请重新登录；仍不行请联系管理员检查编辑账号设置。"}
_COMMAND_WORDS = ("reformkb ", "命令行", "--", "REFORMKB_", "make ")


def web_message(exc: Exception) -> str:
    """An error's message for the web page: advice to run a command is replaced by what to do in the page."""
    message = str(exc)
    if not any(w in message for w in _COMMAND_WORDS):
        return message
    head = message.split("：", 1)[0]
    return f"{head}：{_WEB_ADVICE.get(type(exc).__name__, '请联系知识库管理员。')}"


#: How the change log names the operators that are not people.
ACTOR_NAMES = {"local": "本机（单用户模式）", "cli": "命令行", "init": "初始导入（默认内容）", "网页": "网页（单用户模式）"}


def actor_name(actor: str) -> str:
    return ACTOR_NAMES.get(actor, actor)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&])")


def plain(text: str) -> str:
    """``text`` escaped for Streamlit Markdown (``st.error``, ``st.caption`` …): shown as written."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")


def highlight(text: str, terms: Iterable[str]) -> str:
    """HTML for ``text`` with every occurrence of ``terms`` wrapped in ``<mark>``.

    The text is split on the terms *before* escaping, and each piece is escaped on its own, so a term
    can never match inside an entity or a tag, and no user character reaches the page as markup.
    Longer terms win where terms overlap.
    """
    wanted = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not wanted:
        return html.escape(text)
    pattern = re.compile("(" + "|".join(re.escape(t) for t in wanted) + ")")
    pieces = pattern.split(text)
    # re.split with one group alternates: text, match, text, match, …, text
    return "".join(f"<mark>{html.escape(p)}</mark>" if i % 2 else html.escape(p) for i, p in enumerate(pieces))


def source_line(rec: Record) -> str:
    """“永州市…工作专报 第2期 · 2023-03-18” (plain text; empty when the record has no source)."""
    src = rec.source
    title = " ".join(x for x in (src.title, f"第{src.issue}期" if src.issue else "") if x)
    return " · ".join(x for x in (title, src.date) if x)


def labelled_badge(metric: dict) -> str:
    """A stored metric's badge with what it measures: “企业注销：20→0.5 个工作日，压缩 97.5%”, “证明：26 类”."""
    badge, label = metric.get("badge", ""), metric.get("label", "")
    return f"{label}：{badge}" if label and badge else badge


def metric_badges(rec: Record) -> list[tuple[str, bool]]:
    """(labelled badge, is a reduction) for each extracted metric, reductions first."""
    badges = [(labelled_badge(m), m.get("kind") == "reduction") for m in rec.metrics if m.get("badge")]
    return sorted(badges, key=lambda b: not b[1])


def card_html(rec: Record, terms: Iterable[str] = (), small: bool = False, pending: str = "") -> str:
    """A record as an HTML card: region and agency, title, highlighted text, topics, metrics, source.

    ``pending`` is why the record's place is "地区待确认" (shown as a mark beside the region, the reason
    on hover). Every value that comes from the record is escaped (see the module docstring).
    """
    e = html.escape
    agency = f'<span class="rk-agency"> · {e(rec.agency)}</span>' if rec.agency else ""
    kind = '<span class="rk-kind">本地工作动态</span>' if rec.kind == KIND_ACTION else ""
    mark = f'<span class="rk-pending" title="{e(pending)}">地区待确认</span>' if pending else ""
    parts = [f'<div class="rk-card{" rk-small" if small else ""}">',
             f'<div class="rk-head">{e(rec.region)}{agency}{mark}{kind}</div>']
    if rec.title:
        parts.append(f'<div class="rk-title">{e(rec.title)}</div>')
    parts.append(f'<div class="rk-text">{highlight(rec.text, terms)}</div>')
    tags = [f'<span class="rk-topic">{e(t)}</span>' for t in rec.topics]
    tags += [f'<span class="rk-metric{" rk-cut" if cut else ""}">{e(b)}</span>' for b, cut in metric_badges(rec)]
    if tags:
        parts.append(f'<div class="rk-row">{"".join(tags)}</div>')
    source = source_line(rec)
    ident = f"编号 {rec.id}" if rec.id is not None else ""
    footer = "　".join(x for x in (f"来源：{source}" if source else "", ident) if x)
    if footer:
        parts.append(f'<div class="rk-source">{e(footer)}</div>')
    parts.append("</div>")
    return "".join(parts)


# -- the results page ------------------------------------------------------------------------------
def best_improvement(rec: Record) -> float | None:
    """The record's largest reduction percentage (None when it has none)."""
    values = [m["reduction_pct"] for m in rec.metrics if m.get("reduction_pct") is not None]
    return max(values) if values else None


def sort_hits(hits: list, order: str) -> list:
    """Hits (anything with ``.record``) in the order the user chose: ``relevance`` keeps the search's
    order, ``date`` puts the newest bulletin first, ``improvement`` the largest reduction first; cases
    without a date or a reduction go last, in the search's order."""
    if order == "date":
        dated = [h for h in hits if h.record.source.date]
        return sorted(dated, key=lambda h: h.record.source.date, reverse=True) + \
            [h for h in hits if not h.record.source.date]
    if order == "improvement":
        cut = [h for h in hits if best_improvement(h.record) is not None]
        return sorted(cut, key=lambda h: best_improvement(h.record), reverse=True) + \
            [h for h in hits if best_improvement(h.record) is None]
    return list(hits)


# -- the import review table ----------------------------------------------------------------------
TOPIC_SEPARATOR = "；"
SOURCE_FIELDS = ("source_title", "source_issue", "source_date", "source_file")


def review_table(drafts: list[dict], pending: list[str] | None = None) -> list[dict]:
    """Rows of the review table for draft records (dicts from :meth:`Record.to_dict`).

    ``序号`` ties a row to its draft (1-based, as text so that a row the reviewer adds shows an empty cell,
    not “None”); a row the reviewer adds has none. ``pending`` gives, per draft, why its place is
    "地区待确认" ("" when it is known): the 地区待确认 column.
    """
    pending = pending or [""] * len(drafts)
    return [{"序号": str(n), "保留": True, "并入上一条": False, "地区": d["region"] or "", "地区待确认": why,
             "单位": d["agency"] or "", "标题": d["title"] or "", "正文": d["text"],
             "主题": TOPIC_SEPARATOR.join(d["topics"])}
            for n, (d, why) in enumerate(zip(drafts, pending), 1)]


def _cell(value) -> str:
    """A table cell as text: empty for None and NaN (what an added row holds in untouched cells)."""
    if value is None or value != value:  # NaN is the only value not equal to itself
        return ""
    return str(value).strip()


def _checked(value) -> bool:
    """A checkbox cell: unset (None, NaN) counts as unchecked."""
    return value is not None and value == value and bool(value)


def _topics(cell) -> list[str]:
    return [t.strip() for t in re.split(r"[；;，,、]", _cell(cell)) if t.strip()]


def reviewed_drafts(drafts: list[dict], rows: list[dict]) -> list[dict]:
    """The drafts as the reviewer left them: edits applied, dropped rows removed, merged rows joined.

    ``rows`` are the review table's rows, in table order. A row without 保留 is dropped; a row marked
    并入上一条 has its text appended to the nearest kept row above it; a row the reviewer added
    becomes a new draft from the same bulletin. Fields derived from the text (title, topics) are
    cleared when the text changed and the reviewer did not change them, so that they are derived
    again; a changed region is read afresh. The result is ready for :meth:`KnowledgeBase.prepare`.
    """
    template = {k: drafts[0][k] for k in SOURCE_FIELDS} if drafts else {}
    out: list[tuple[dict, dict]] = []  # (draft as edited, draft as parsed)
    for row in rows:
        text = _cell(row.get("正文"))
        if _checked(row.get("并入上一条")) and out:
            out[-1][0]["text"] = out[-1][0]["text"].rstrip() + text
            continue
        if not _checked(row.get("保留")):
            continue
        number = _cell(row.get("序号"))
        if not number and not text:
            continue  # a row added to the table and left empty
        original = drafts[int(float(number)) - 1] if number else {
            "region": "", "agency": "", "title": "", "text": "", "topics": [], **template}
        edited = dict(original)
        edited.update(region=_cell(row.get("地区")), agency=_cell(row.get("单位")), title=_cell(row.get("标题")),
                      text=text, topics=_topics(row.get("主题")))
        out.append((edited, original))
    for edited, original in out:
        if edited["region"] != original["region"]:
            edited.update(region_raw="", province="", city="", county="")
        if edited["text"] != original["text"]:
            if edited["title"] == original["title"]:
                edited["title"] = ""
            if edited["topics"] == original["topics"]:
                edited["topics"] = []
        edited.pop("metrics", None)
        edited.pop("content_hash", None)
    return [edited for edited, _ in out]
