"""Building every form a bulletin arrives in from its text, for the tests and the OCR bench.

Pages are rendered with a CJK font (the Makefile installs fonts-wqy-zenhei) the way a bulletin is
laid out: centred title and headings, paragraphs with a two-character first-line indent. From the
pages: an image-only PDF, a multi-page TIFF, a phone-photo-like JPEG (rotated, blurred, uneven
light), a PDF mixing text-layer and scanned pages. From the text: .docx (python-docx), .doc
(LibreOffice), OFD (GB/T 33190 parts written here), a saved web page with its boilerplate, MHTML.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from reformkb.ingest.bulletin import repair

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


def cjk_font() -> str | None:
    return next((f for f in FONT_CANDIDATES if Path(f).is_file()), None)


def excerpt(text: str, sections: tuple[str, ...] = ("战术借鉴",), max_paragraphs: int | None = None) -> str:
    """The masthead and the named 【…】 sections of a bulletin (at most ``max_paragraphs`` of each), as
    logical lines: fewer pages to OCR."""
    lines = repair(text)
    out, keep, seen_heading, kept = [], False, False, 0
    for line in lines:
        if re.fullmatch(r"【[^】]+】", line):
            seen_heading, kept = True, -1
            keep = line.strip("【】") in sections
        if (not seen_heading and not line.startswith("编者按")) or (keep and (max_paragraphs is None or kept < max_paragraphs)):
            out.append(line)
            kept += seen_heading
    return "\n\n".join(out)


def paragraphs(text: str) -> list[str]:
    return repair(text)


NO_LINE_START = "，。、；：？！”’）》】」』…"


def render_pages(text: str, width: int = 1240, height: int = 1754, size: int = 30, margin: int = 110):
    """Grayscale page images (PIL) of ``text`` laid out like a printed bulletin; ``page.info["text"]``
    holds the lines drawn on it (the reference for the character error rate)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(cjk_font(), size)
    pages, y = [], margin
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    step = int(size * 1.7)
    for n, para in enumerate(paragraphs(text)):
        centred = n < 4 or bool(re.fullmatch(r"【[^】]+】", para))
        lines, current = [], "" if centred else "\u3000\u3000"
        for ch in para:
            # Closing punctuation never starts a line (it hangs at the end of the line before, as in print).
            if font.getlength(current + ch) > width - 2 * margin and ch not in NO_LINE_START:
                lines.append(current)
                current = ""
            current += ch
        lines.append(current)
        for line in lines:
            if y + step > height - margin:
                pages.append(page)
                page = Image.new("L", (width, height), 255)
                draw = ImageDraw.Draw(page)
                y = margin
            x = (width - font.getlength(line)) / 2 if centred else margin
            draw.text((x, y), line, font=font, fill=0)
            page.info["text"] = page.info.get("text", "") + line.strip("\u3000") + "\n"
            y += step
        y += size // 3
    pages.append(page)
    return pages


def image_pdf(pages, dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    pages[0].convert("RGB").save(buf, "PDF", save_all=True, append_images=[p.convert("RGB") for p in pages[1:]],
                                 resolution=dpi)
    return buf.getvalue()


def tiff(pages) -> bytes:
    buf = io.BytesIO()
    bw = [p.convert("1") for p in pages]
    bw[0].save(buf, "TIFF", save_all=True, append_images=bw[1:], compression="group4", dpi=(150, 150))
    return buf.getvalue()


def photo(page, angle: float = 1.5, quality: int = 80) -> bytes:
    """A phone photo of ``page``: on a grey desk, slightly rotated, blurred, lit unevenly."""
    from PIL import Image, ImageFilter

    page = page.convert("L")
    shade = Image.linear_gradient("L").resize(page.size).point(lambda v: 255 - v // 6)
    lit = Image.composite(page, Image.new("L", page.size, 0), shade)
    canvas = Image.new("L", (int(page.width * 1.12), int(page.height * 1.08)), 110)
    canvas.paste(lit, ((canvas.width - page.width) // 2, (canvas.height - page.height) // 2))
    canvas = canvas.rotate(angle, resample=Image.BICUBIC, fillcolor=110).filter(ImageFilter.GaussianBlur(0.8))
    buf = io.BytesIO()
    canvas.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def text_pdf_page(text: str) -> bytes:
    """A one-page PDF with a real text layer (reportlab, CJK font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("CJK", cjk_font(), subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    y = A4[1] - 72
    for para in paragraphs(text):
        while para:
            c.setFont("CJK", 12)
            c.drawString(60, y, para[:38])
            para, y = para[38:], y - 20
    c.save()
    return buf.getvalue()


def mixed_pdf(text_page: bytes, scanned: bytes) -> bytes:
    """The pages of ``text_page`` (text layer) followed by those of ``scanned`` (images only)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (text_page, scanned):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def docx_bytes(text: str) -> bytes:
    import docx

    document = docx.Document()
    for para in paragraphs(text):
        document.add_paragraph(para)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def soffice_convert(data: bytes, suffix: str, target: str) -> bytes:
    """``data`` (a file of type ``suffix``) converted by LibreOffice to ``target`` ("doc", "rtf", "odt")."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in{suffix}"
        src.write_bytes(data)
        profile = Path(tmp) / "profile"
        subprocess.run([shutil.which("soffice"), f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        "--norestore", "--convert-to", target, "--outdir", tmp, str(src)],
                       check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": tmp})
        return (Path(tmp) / f"in.{target.split(':')[0]}").read_bytes()


OFD_NS = "http://www.ofdspec.org/2016"


def ofd_bytes(text: str, chars_per_line: int = 36, size: float = 4.2, per_page: int = 40, title: str = "",
              run_length: int = 0, extra: dict[str, bytes] | None = None) -> bytes:
    """An OFD package of ``text``: one TextObject per printed line (or per ``run_length`` characters).

    Pages are A4 (210 × 297 mm); paragraphs are indented two characters; headings centred.
    """
    lines: list[tuple[str, float]] = []  # (text, x offset)
    for n, para in enumerate(paragraphs(text)):
        centred = n < 4 or bool(re.fullmatch(r"【[^】]+】", para))
        if centred:
            lines.append((para, (210 - size * len(para)) / 2))
            continue
        first, rest = para[: chars_per_line - 2], para[chars_per_line - 2:]
        lines.append((first, 20 + 2 * size))
        while rest:
            lines.append((rest[:chars_per_line], 20.0))
            rest = rest[chars_per_line:]
    pages = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    files: dict[str, bytes] = {}
    ids = iter(range(10, 10**6))
    page_refs = []
    for p, page in enumerate(pages):
        objects = []
        for row, (line, x) in enumerate(page):
            y = 25 + row * size * 1.5
            runs = [line[i:i + run_length] for i in range(0, len(line), run_length)] if run_length else [line]
            offset = 0.0
            for run in runs:
                boundary = f"{x + offset:.2f} {y:.2f} {size * len(run) + 1:.2f} {size * 1.3:.2f}"
                delta = f'DeltaX="g {len(run) - 1} {size}"' if len(run) > 1 else ""
                objects.append(f'<ofd:TextObject ID="{next(ids)}" Boundary="{boundary}" Font="2" Size="{size}">'
                               f'<ofd:TextCode X="0" Y="{size:.2f}" {delta}>{_xml_escape(run)}</ofd:TextCode></ofd:TextObject>')
                offset += size * len(run)
        files[f"Doc_0/Pages/Page_{p}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content>'
            f'<ofd:Layer ID="{next(ids)}">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>').encode()
        page_refs.append(f'<ofd:Page ID="{next(ids)}" BaseLoc="Pages/Page_{p}/Content.xml"/>')
    files["OFD.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD">'
        f'<ofd:DocBody><ofd:DocInfo><ofd:DocID>0C1D4F7159954EEEDE517F7285E84DC4</ofd:DocID>'
        f'<ofd:Title>{_xml_escape(title)}</ofd:Title></ofd:DocInfo>'
        f'<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>').encode()
    files["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        f'<ofd:MaxUnitID>{next(ids)}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox>'
        f'</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>'
        f'<ofd:Pages>{"".join(page_refs)}</ofd:Pages></ofd:Document>').encode()
    files["Doc_0/PublicRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
        f'<ofd:Font ID="2" FontName="宋体" FamilyName="宋体"/></ofd:Fonts></ofd:Res>').encode()
    files.update(extra or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def html_article(text: str, title: str, charset: str = "utf-8") -> bytes:
    """A public-account article page: navigation, scripts, styles, share and QR-code blocks around the text."""
    body = "\n".join(f"<p>{_xml_escape(p)}</p>" if i else f"<h1 class=\"title\">{_xml_escape(p)}</h1>"
                     for i, p in enumerate(paragraphs(text)))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{charset}"><title>{_xml_escape(title)}</title>
<meta name="publishdate" content="2023-03-18">
<style>.nav {{ color: red }} body {{ font-family: 宋体 }}</style>
<script>var trackers = ["【战术借鉴】", "长沙市加快建设"]; document.write("<p>广告</p>");</script>
</head><body>
<div class="topbar"><a href="/">首页</a> | <a href="/login">登录</a></div>
<nav class="nav"><ul><li>首页</li><li>政务公开</li><li>营商环境</li><li>互动交流</li></ul></nav>
<div class="breadcrumb">当前位置：首页 &gt; 营商环境 &gt; 工作动态</div>
<div class="main"><div class="article">
<div class="info">发布时间：2023-03-18 来源：市优化办 【字号：大 中 小】 浏览次数：1024</div>
<div class="TRS_Editor">
{body}
<p style="display:none">隐藏的统计代码 长沙市</p>
</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="qrcode"><img src="qr.png">扫一扫关注“营商环境”公众号</div>
<p>扫一扫在手机打开当前页</p>
<div class="pages">上一篇：关于开展营商环境评价的通知 下一篇：一季度工作简报</div>
</div>
<aside class="sidebar"><h3>相关阅读</h3><ul><li>衡阳市推行智慧抵押登记</li></ul></aside>
</div>
<footer class="footer">版权所有：某市人民政府办公室 主办单位：某市人民政府 ICP备12345678号</footer>
<script src="stats.js"></script><noscript>请启用脚本</noscript>
</body></html>"""
    return page.encode(charset)


def mhtml(html: bytes, url: str = "https://example.gov.cn/art/2023/3/18/art_1.html") -> bytes:
    """A browser's "save as single file" of ``html`` (quoted-printable HTML plus an image part)."""
    import quopri

    boundary = "----MultipartBoundary--reformkb----"
    qp = quopri.encodestring(html).decode("ascii")
    return (f"From: <Saved by Blink>\r\nSnapshot-Content-Location: {url}\r\nSubject: article\r\n"
            f"Date: Sat, 18 Mar 2023 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/html\r\nContent-ID: <frame-1@mhtml.blink>\r\n"
            f"Content-Transfer-Encoding: quoted-printable\r\nContent-Location: {url}\r\n\r\n{qp}\r\n"
            f"--{boundary}\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Location: {url}/qr.png\r\n\r\niVBORw0KGgo=\r\n--{boundary}--\r\n").encode("ascii")


# -- comparing what two imports yield ------------------------------------------------------------
def practices(drafts, kind: str = "practice") -> list[tuple[str, str]]:
    return [(d.region, d.text) for d in drafts if d.kind == kind]


def matched(expected: list[tuple[str, str]], got: list[tuple[str, str]], min_ratio: float = 0.9) -> list[tuple[str, str]]:
    """The expected (region, text) pairs that ``got`` holds with the same region and text at least ``min_ratio`` alike."""
    from difflib import SequenceMatcher

    found, pool = [], list(got)
    for region, text in expected:
        best = max(pool, key=lambda g: SequenceMatcher(None, text, g[1]).ratio(), default=None)
        if best and best[0] == region and SequenceMatcher(None, text, best[1]).ratio() >= min_ratio:
            found.append((region, text))
            pool.remove(best)
    return found


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over the reference length (whitespace ignored)."""
    ref = re.sub(r"\s+", "", reference)
    hyp = re.sub(r"\s+", "", hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        current = [i]
        for j, b in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] / max(len(ref), 1)
