"""Every form a bulletin arrives in yields the practices of its text version (issue 13).

Each form is built here from the seed bulletin (tests/forms_support.py): scans and photos are pages
rendered with a CJK font; .doc and .wps are a .docx converted by LibreOffice; OFD is written part by
part in the GB/T 33190 structure; web pages carry navigation, scripts and "扫一扫关注" boilerplate.
Import goes through the facade (``KnowledgeBase.parse_file``), as the CLI and the app do. Promise:
the other forms give all the practices of the text, OCR at least 90 % of them with the region right.
OCR runs on a few downscaled pages only (about 3 s a page on this machine).
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys

import forms_support as fs
import pytest
from conftest import SEED

from reformkb.ingest.documents import read_pages

needs_font = pytest.mark.skipif(fs.cjk_font() is None, reason="no CJK font (make installs fonts-wqy-zenhei)")
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (make installs it)")

SMALL = dict(width=930, height=1316, size=22, margin=80)  # A4 at ~110 dpi: legible, and quick to recognise


@pytest.fixture(scope="module")
def bulletin() -> str:
    """The masthead and 【战术借鉴】 of the seed bulletin: 18 practices on two small pages."""
    return fs.excerpt(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages(bulletin):
    return fs.render_pages(bulletin, **SMALL)


@pytest.fixture
def expected(kb, bulletin):
    drafts, report = kb.parse_file(bulletin.encode("utf-8"), "专报.txt")
    assert not report.refused
    return fs.practices(drafts)


def ocr_recall(kb, data: bytes, name: str, expected) -> float:
    drafts, _ = kb.parse_file(data, name)
    return len(fs.matched(expected, fs.practices(drafts))) / len(expected)


# -- OCR -----------------------------------------------------------------------------------------
@needs_font
def test_an_image_only_pdf_is_recognised(kb, pages, expected):
    assert len(pages) == 2 and len(expected) == 18
    assert ocr_recall(kb, fs.image_pdf(pages), "扫描件.pdf", expected) >= 0.9


@needs_font
def test_a_multi_page_tiff_is_one_page_per_frame_with_progress(kb, pages, expected):
    data = fs.tiff(pages)  # bilevel, CCITT group 4: what office scanners send
    seen = []
    result = read_pages(data, "扫描件.tif", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]
    assert result.form == "2 页的图片" and result.ocr_pages == 2
    drafts, _ = kb.parse_text(result.text, "扫描件.tif")
    assert len(fs.matched(expected, fs.practices(drafts))) / len(expected) >= 0.9


@needs_font
def test_a_phone_photo_rotated_and_blurred_is_read(kb):
    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=6)
    (page,) = fs.render_pages(text, **SMALL)
    drafts, _ = kb.parse_file(text.encode("utf-8"), "专报.txt")
    expected = fs.practices(drafts)
    assert len(expected) >= 6
    data = fs.photo(page, angle=1.5)
    assert data[:3] == b"\xff\xd8\xff"
    assert ocr_recall(kb, data, "IMG_20230318_1012.jpg", expected) >= 0.9


@needs_font
def test_a_pdf_mixing_text_and_scanned_pages_uses_each_where_it_is(kb, bulletin):
    text_part = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=2)
    scanned_text = "\n\n".join(fs.paragraphs(bulletin)[-6:-4])  # two practices near the end
    (scan,) = fs.render_pages(scanned_text, **SMALL)
    data = fs.mixed_pdf(fs.text_pdf_page(text_part), fs.image_pdf([scan]))
    result = read_pages(data, "混合.pdf")
    assert [p.method for p in result.pages] == ["text", "ocr"]
    assert "长沙市加快建设" in result.pages[0].text  # the text layer, not recognised
    assert result.form == "PDF（其中 1 页为扫描图片）" and "第 2 页是扫描图片" in result.warnings[0]
    assert fs.cer(scanned_text, result.pages[1].text) < 0.05


OFFLINE_OCR = """
import socket
try:
    socket.create_connection(("pypi.org", 443), timeout=3)
    raise SystemExit("the network is reachable: this check proves nothing here")
except OSError:
    pass
from PIL import Image, ImageDraw, ImageFont
image = Image.new("L", (640, 90), 255)
ImageDraw.Draw(image).text((20, 25), "企业注销由20个工作日压缩至0.5个工作日", font=ImageFont.truetype(sys.argv[1], 28), fill=0)
from reformkb.ingest.ocr import recognise
print(recognise(image))
"""


@needs_font
@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare -n (root)")
def test_ocr_needs_no_network_not_even_the_first_time(tmp_path):
    # A fresh process in a network namespace of its own, with an empty home and cache: the models come
    # from inside the installed wheel, nothing is fetched.
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(["unshare", "-n", sys.executable, "-c", "import sys\n" + OFFLINE_OCR, fs.cjk_font()],
                          env=env, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 and "unshare" in proc.stderr and "Operation not permitted" in proc.stderr:
        pytest.skip("network namespaces are not permitted here")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "企业注销由20个工作日压缩至0.5个工作日" in proc.stdout


# -- forms with a text of their own: all practices -----------------------------------------------
@pytest.mark.parametrize("run_length", [0, 1, 5])
def test_ofd_yields_every_practice_in_reading_order(kb, bulletin, expected, run_length):
    # run_length 0: one text object per printed line; 1: per character (as many converters write it)
    data = fs.ofd_bytes(bulletin, title="永州市工作专报", run_length=run_length)
    result = read_pages(data, "专报.ofd")
    assert result.form == "OFD" and result.title == "永州市工作专报" and len(result.pages) == 2
    drafts, report = kb.parse_file(data, "专报.ofd")
    assert fs.practices(drafts) == expected, report


def test_ofd_objects_out_of_order_are_put_in_reading_order(kb, bulletin, expected):
    data = fs.ofd_bytes(bulletin, run_length=3)
    import io
    import zipfile

    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            content = zf.read(name).decode("utf-8")
            if name.endswith("Content.xml"):
                objects = re.findall(r"<ofd:TextObject.*?</ofd:TextObject>", content)
                shuffled = objects[:]
                random.Random(7).shuffle(shuffled)
                content = content.replace("".join(objects), "".join(shuffled))
            parts[name] = content
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    drafts, _ = kb.parse_file(buf.getvalue(), "乱序.ofd")
    assert fs.practices(drafts) == expected


@pytest.fixture(scope="module")
def doc_bytes(bulletin):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed (make installs it)")
    return fs.soffice_convert(fs.docx_bytes(bulletin), ".docx", "doc")


@needs_soffice
@pytest.mark.parametrize("name", ["专报.doc", "专报.wps"])
def test_word_97_and_wps_files_are_read_through_libreoffice(kb, doc_bytes, expected, name):
    assert doc_bytes[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE2 compound file, as Word 97 writes
    result = read_pages(doc_bytes, name)
    assert result.form == "Word 97 / WPS 文档"
    drafts, report = kb.parse_file(doc_bytes, name)
    assert fs.practices(drafts) == expected, report


def test_a_docx_named_doc_is_read_as_docx_without_libreoffice(kb, bulletin, expected, monkeypatch):
    monkeypatch.setenv("REFORMKB_SOFFICE", "/nonexistent/soffice")  # WPS often saves .docx content as .doc
    result = read_pages(fs.docx_bytes(bulletin), "专报.doc")
    assert "内容却是Word 文档（.docx）" in result.warnings[0]
    drafts, _ = kb.parse_file(fs.docx_bytes(bulletin), "专报.doc")
    assert fs.practices(drafts) == expected


def test_without_libreoffice_the_message_says_how_to_convert_by_hand(kb, monkeypatch):
    monkeypatch.setenv("REFORMKB_SOFFICE", "/nonexistent/soffice")
    ole = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"x" * 1024)
    ole[26:32] = b"\x03\x00\xfe\xff\x09\x00"  # a well-formed compound file header
    with pytest.raises(Exception) as err:
        kb.parse_file(bytes(ole), "旧专报.doc")
    assert "没有安装 LibreOffice" in str(err.value) and "另存为" in str(err.value) and ".docx" in str(err.value)


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_a_saved_web_article_yields_its_own_text_only(kb, bulletin, expected, charset):
    data = fs.html_article(bulletin, title="永州市优化发展环境工作专报（第2期）", charset=charset)
    result = read_pages(data, "文章.html")
    text = result.text
    assert result.title == "永州市优化发展环境工作专报（第2期）"
    for boilerplate in ("扫一扫", "分享到", "首页", "上一篇", "版权所有", "trackers", "隐藏的统计代码", "相关阅读", "字号"):
        assert boilerplate not in text
    assert text.splitlines()[0] == result.title and "2023年3月18日" in text
    drafts, report = kb.parse_file(data, "文章.htm")
    assert fs.practices(drafts) == expected, report


def test_an_mhtml_save_is_read_like_the_page(kb, bulletin, expected):
    data = fs.mhtml(fs.html_article(bulletin, title="专报"))
    drafts, report = kb.parse_file(data, "文章.mhtml")
    assert fs.practices(drafts) == expected, report


@needs_font
def test_a_scanned_ofd_is_recognised(kb):
    """An OFD whose page is only an image (what a scanner's OFD export writes) is read by OCR."""
    import io
    import zipfile

    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=4)
    (page,) = fs.render_pages(text, **SMALL)
    png = io.BytesIO()
    page.save(png, "PNG")
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    parts = {
        "OFD.xml": f'<ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>1</ofd:DocID>'
                   "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f"<ofd:Document {ns}><ofd:CommonData><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
                              '</ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
                              "</ofd:Document>",
        "Doc_0/DocumentRes.xml": f'<ofd:Res {ns} BaseLoc="Res"><ofd:MultiMedias><ofd:MultiMedia ID="5" Type="Image">'
                                 "<ofd:MediaFile>image_0.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias></ofd:Res>",
        "Doc_0/Pages/Page_0/Content.xml": f'<ofd:Page {ns}><ofd:Content><ofd:Layer ID="2"><ofd:ImageObject ID="6" '
                                          'ResourceID="5" Boundary="0 0 210 297" CTM="210 0 0 297 0 0"/>'
                                          "</ofd:Layer></ofd:Content></ofd:Page>",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
        zf.writestr("Doc_0/Res/image_0.png", png.getvalue())
    result = read_pages(buf.getvalue(), "扫描.ofd")
    assert result.form == "OFD（扫描件）" and result.ocr_pages == 1 and "文字识别" in result.warnings[0]
    expected = fs.practices(kb.parse_file(text.encode("utf-8"), "专报.txt")[0])
    assert len(expected) >= 4
    drafts, _ = kb.parse_text(result.text, "扫描.ofd")
    assert len(fs.matched(expected, fs.practices(drafts))) / len(expected) >= 0.9


def test_web_boilerplate_goes_but_a_practice_that_mentions_scanning_stays():
    page = """<html><head><title>南山区优化营商环境典型做法 - 深圳市南山区人民政府门户网站</title></head><body>
    <div id="zoom"><p>深圳市南山区推出“南山企业服务码”，企业扫码即可查询政策、反映诉求、预约服务。</p>
    <p>南山区推行二维码“一码通办”，群众扫二维码即可预约办事。</p>
    <p>扫码关注我们</p><p>来源：南山区政务服务数据管理局</p><p>责任编辑：张三</p><p>【打印本页】【关闭窗口】</p></div>
    </body></html>""".encode()
    result = read_pages(page, "南山.html")
    assert result.title == "南山区优化营商环境典型做法"  # the site's name is cut off
    assert result.text.splitlines() == [
        "南山区优化营商环境典型做法",
        "深圳市南山区推出“南山企业服务码”，企业扫码即可查询政策、反映诉求、预约服务。",
        "南山区推行二维码“一码通办”，群众扫二维码即可预约办事。",
    ]


@needs_font
@pytest.mark.parametrize("angle", [180, 90])
def test_a_page_scanned_upside_down_or_photographed_sideways_is_turned(angle):
    import io

    text = fs.excerpt(SEED.read_text(encoding="utf-8"), max_paragraphs=3)
    (page,) = fs.render_pages(text, **{**SMALL, "height": 900})  # a short page: it is read up to four times
    png = io.BytesIO()
    page.rotate(angle, expand=True).save(png, "PNG")
    result = read_pages(png.getvalue(), "转了方向.png")
    assert fs.cer(page.info["text"], result.text) < 0.05  # read upright, lines in order


def test_a_county_misread_by_one_character_after_its_city_is_corrected():
    from reformkb.ingest.ocr import correct_places

    assert correct_places("宁波市勤州区设立“首贷服务中心”。") == "宁波市鄞州区设立“首贷服务中心”。"
    for text in ("宁波市鄞州区设立“首贷服务中心”。", "长沙市开福区推行“一件事一次办”。",
                 "宁波市本级推行“一件事一次办”。", "宁波市区推行“一件事一次办”。", "宁波市勤州路口设立服务站。"):
        assert correct_places(text) == text
