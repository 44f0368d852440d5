"""Bulletins in every form: OCR speed and accuracy, and whether each form yields the practices of its text.

    python -m bench.forms                       # the seed and tests/data/bulletins/, every form (≈ 10 min)
    python -m bench.forms --forms scan,photo    # some forms only
    python -m bench.forms --limit 3             # the first 3 bulletins

Each text bulletin (kb/sources/*.txt, tests/data/bulletins/*.txt and *.pdf.txt) is turned into each
form with tests/forms_support.py: scanned PDF (A4 pages rendered at 150 dpi with a CJK font), TIFF
(bilevel), phone photos of each page (rotated 1.5°, blurred, lit unevenly, JPEG; read one by one and
their texts joined), OFD, .docx, .doc
(LibreOffice), a saved web page and its MHTML. Every form is read through the facade
(``KnowledgeBase.parse_file``) and compared with the text read the same way:

- recall: the share of the text's practices (region and text, at least 90 % alike, see
  ``forms_support.matched``) that the form yields;
- OCR seconds per page (wall clock of the OCR pages, from the page progress callback);
- character error rate (CER) of each OCR'd page against the text drawn on it.

Results: ``bench/out/results/forms.json`` and a Markdown table on stdout (copied into docs/usage.md).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import forms_support as fs  # noqa: E402  (the test helpers build the forms)

from reformkb.errors import InputError  # noqa: E402
from reformkb.ingest.documents import read_pages  # noqa: E402
from reformkb.kb import KnowledgeBase  # noqa: E402
from reformkb.settings import Settings  # noqa: E402

FORMS = ("scan", "tiff", "photo", "ofd", "docx", "doc", "html", "mhtml")
OCR_FORMS = ("scan", "tiff", "photo")
A4 = dict(width=1240, height=1754, size=30, margin=110)  # 150 dpi, 三号-like characters


def bulletins(limit: int | None, skip: int = 0) -> list[Path]:
    paths = sorted((ROOT / "kb" / "sources").glob("*.txt"))
    data = ROOT / "tests" / "data" / "bulletins"
    paths += sorted(data.glob("*.txt"))  # plain text and text as extracted from a PDF (*.pdf.txt)
    paths = paths[skip:]
    return paths[:limit] if limit else paths


def build(form: str, text: str, pages) -> tuple[bytes, str]:
    if form == "scan":
        return fs.image_pdf(pages), "scan.pdf"
    if form == "tiff":
        return fs.tiff(pages), "scan.tif"
    if form == "ofd":
        return fs.ofd_bytes(text, run_length=1), "bulletin.ofd"
    if form == "docx":
        return fs.docx_bytes(text), "bulletin.docx"
    if form == "doc":
        return fs.soffice_convert(fs.docx_bytes(text), ".docx", "doc"), "bulletin.doc"
    title = fs.paragraphs(text)[0] + " - 某市人民政府门户网站"  # as a government site titles its pages
    if form == "html":
        return fs.html_article(text, title), "bulletin.html"
    if form == "mhtml":
        return fs.mhtml(fs.html_article(text, title)), "bulletin.mhtml"
    raise ValueError(form)


def run(forms: list[str], limit: int | None, out: Path | None = None, skip: int = 0) -> dict:
    """Every bulletin in every form; with ``out``, the results so far are written after each bulletin."""
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="reformkb-forms-"))
    kb = KnowledgeBase(settings=Settings.default(home), empty=True)
    rows = []
    for path in bulletins(limit, skip):
        text = path.read_text(encoding="utf-8")
        try:
            drafts, _ = kb.parse_file(text.encode("utf-8"), "bulletin.txt")
        except InputError as exc:  # a house style the bulletin parser does not read yet
            logging.warning("%s: the text version is refused (%s), skipped", path.name, exc)
            continue
        expected = fs.practices(drafts)
        if not expected:
            logging.warning("%s: no practices in the text version, skipped", path.name)
            continue
        pages = fs.render_pages(text, **A4)
        for form in forms:
            if form == "doc" and not shutil.which("soffice"):
                continue
            start = time.monotonic()
            ocr_pages, per_page = [], []
            if form == "photo":  # one photo per page, each read as its own file, texts joined in page order
                for page in pages:
                    t0 = time.monotonic()
                    ocr_pages += read_pages(fs.photo(page), "photo.jpg").pages
                    per_page.append(time.monotonic() - t0)
                drafts, _ = kb.parse_text("\f".join(p.text for p in ocr_pages), "photo.jpg")
            elif form in OCR_FORMS:
                data, name = build(form, text, pages)
                stamps = [time.monotonic()]
                result = read_pages(data, name, progress=lambda d, t, stamps=stamps: stamps.append(time.monotonic()))
                per_page = [b - a for a, b in zip(stamps, stamps[1:])]
                ocr_pages = result.pages
                drafts, _ = kb.parse_text(result.text, name)
            else:
                data, name = build(form, text, pages)
                drafts, _ = kb.parse_file(data, name)
            seconds = time.monotonic() - start
            found = fs.matched(expected, fs.practices(drafts))
            row = {"bulletin": path.name, "form": form, "expected": len(expected), "found": len(found),
                   "recall": len(found) / len(expected), "seconds": round(seconds, 2)}
            if form in OCR_FORMS:
                row["pages"] = len(per_page)
                row["seconds_per_page"] = [round(s, 2) for s in per_page]
                row["cer"] = [round(fs.cer(ref.info["text"], page.text), 4) for ref, page in zip(pages, ocr_pages)]
            rows.append(row)
            logging.info("%s %s: %s/%s in %.1f s", path.name, form, len(found), len(expected), seconds)
        if out:
            _write(out, _result(rows, forms, load_before))
    kb.close()
    shutil.rmtree(home, ignore_errors=True)
    return _result(rows, forms, load_before)


def _result(rows: list[dict], forms: list[str], load_before: float) -> dict:
    # OCR time depends on what else runs: the 1-minute load average before and after is kept with it.
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return {"machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        "load_average": load},
            "command": " ".join(sys.argv), "rows": rows, "summary": summary(rows, forms)}


def _write(out: Path, result: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


def summary(rows: list[dict], forms: list[str]) -> dict:
    out = {}
    for form in forms:
        mine = [r for r in rows if r["form"] == form and r["expected"]]
        if not mine:
            continue
        found, expected = sum(r["found"] for r in mine), sum(r["expected"] for r in mine)
        entry = {"bulletins": len(mine), "practices": expected, "recall": round(found / expected, 4),
                 "min_recall": round(min(r["recall"] for r in mine), 4)}
        if form in OCR_FORMS:
            per_page = [s for r in mine for s in r["seconds_per_page"]]
            cers = [c for r in mine for c in r["cer"]]
            entry.update(pages=len(per_page), seconds_per_page=round(statistics.median(per_page), 2),
                         seconds_per_page_p90=round(sorted(per_page)[int(0.9 * (len(per_page) - 1))], 2),
                         cer=round(statistics.mean(cers), 4), cer_max=round(max(cers), 4))
        out[form] = entry
    return out


def table(summary: dict) -> str:
    lines = ["| form | bulletins | practices | recall (min per bulletin) | OCR s/page (median, p90) | CER (mean, max) |",
             "|---|---|---|---|---|---|"]
    for form, e in summary.items():
        ocr = f"{e['seconds_per_page']} / {e['seconds_per_page_p90']} ({e['pages']} pages)" if "cer" in e else "–"
        cer = f"{e['cer']:.2%} / {e['cer_max']:.2%}" if "cer" in e else "–"
        lines.append(f"| {form} | {e['bulletins']} | {e['practices']} | {e['recall']:.1%} ({e['min_recall']:.0%}) | {ocr} | {cer} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", default=",".join(FORMS), help=f"comma-separated, of {','.join(FORMS)}")
    parser.add_argument("--limit", type=int, help="only the first N bulletins")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N bulletins")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "results" / "forms.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    forms = [f for f in args.forms.split(",") if f]
    unknown = set(forms) - set(FORMS)
    if unknown:
        parser.error(f"unknown forms: {', '.join(sorted(unknown))}")
    if fs.cjk_font() is None:
        parser.error("no CJK font: install fonts-wqy-zenhei (make test does)")
    result = run(forms, args.limit, args.out, args.skip)
    _write(args.out, result)
    print(table(result["summary"]))
    load = result["machine"]["load_average"]
    print(f"\n{result['machine']['cores']} cores; 1-minute load average {load['before']} before, {load['after']} after.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
