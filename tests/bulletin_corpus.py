"""The bulletin test set in tests/data/bulletins/: building its files and scoring the parser on them.

Each bulletin is ``NN_slug`` with one source and a gold file:

- ``NN_slug.txt``: the text as it is;
- ``NN_slug.docx.json``: a block spec ``{"blocks": [{"p": …, "bold": …, "center": …}, {"table": [[…]]}]}``,
  built here into a real .docx (python-docx: bold runs, centred paragraphs, tables);
- ``NN_slug.pdf.txt``: text drawn line by line into a real PDF (reportlab, its built-in CID font
  STSong-Light), a page ending after each page-number line;
- ``NN_slug.gold.json``: title, issue, date, home, practices [{province, city, place, agency, snippet,
  must_not_contain}], actions [{snippet}], noise [substring].

A gold practice is found when a draft practice contains its snippet, none of its must_not_contain,
and has its province and city. A draft practice is right when it finds a gold practice. Noise must
never be in a draft practice. Run ``python tests/bulletin_corpus.py`` for the table.
"""
from __future__ import annotations

import io
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data" / "bulletins"
SOURCE_SUFFIXES = (".txt", ".docx.json", ".pdf.txt")
_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页.*|\d{1,4})\s*$")


def docx_bytes(spec: dict) -> bytes:
    """A .docx made from a block spec: paragraphs (bold, centred) and tables, in order."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = docx.Document()
    for block in spec["blocks"]:
        if "table" in block:
            rows = block["table"]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    table.cell(i, j).text = str(value)
        else:
            paragraph = document.add_paragraph()
            run = paragraph.add_run(block.get("p", ""))
            run.bold = bool(block.get("bold"))
            if block.get("center"):
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_bytes(text: str) -> bytes:
    """A PDF with one drawn line per text line; a page-number line is drawn at the foot and ends the page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    y = 800
    lines = text.splitlines()
    for n, line in enumerate(lines):
        pdf.setFont("STSong-Light", 10)
        if _PAGE_NUMBER.match(line) and line.strip():
            pdf.drawString(280, 30, line.strip())
            if any(rest.strip() for rest in lines[n + 1:]):
                pdf.showPage()
                y = 800
            continue
        if y < 60:
            pdf.showPage()
            y = 800
            pdf.setFont("STSong-Light", 10)
        if line.strip():
            pdf.drawString(40, y, line)
        y -= 16
    pdf.save()
    return out.getvalue()


def as_wrapped_pdf_text(text: str, width: int, lines_per_page: int, header: str) -> str:
    """``text`` as a PDF's text would be: wrapped at ``width`` characters, a page number after every
    ``lines_per_page`` lines and ``header`` on top of every page after the first. A laid-out line
    (several spaces between an office and a date) is not wrapped, as a typesetter would not."""
    out, page = [], 1
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        pieces = [line] if re.search(r"\s{4,}", line) else [line[i:i + width] for i in range(0, len(line), width)]
        for piece in pieces:
            out.append(piece)
            if len(out) % (lines_per_page + 2) == lines_per_page:
                out += [f"- {page} -", header]
                page += 1
    out.append(f"- {page} -")
    return "\n".join(out)


def source_of(stem: Path) -> tuple[str, bytes]:
    """(file name, bytes) of the bulletin ``stem`` (a path without suffix), built if need be."""
    for suffix in SOURCE_SUFFIXES:
        path = stem.with_name(stem.name + suffix)
        if path.exists():
            break
    else:
        raise FileNotFoundError(f"no source for {stem}")
    if suffix == ".docx.json":
        return stem.name + ".docx", docx_bytes(json.loads(path.read_text(encoding="utf-8")))
    if suffix == ".pdf.txt":
        return stem.name + ".pdf", pdf_bytes(path.read_text(encoding="utf-8"))
    return path.name, path.read_bytes()


def bulletins(folder: Path = DATA) -> list[Path]:
    """The stems of the bulletins with a gold file, in order."""
    return sorted(p.with_name(p.name[: -len(".gold.json")]) for p in folder.glob("*.gold.json"))


@dataclass
class FileScore:
    name: str
    gold: int = 0
    found: int = 0
    drafts: int = 0
    right: int = 0
    known: int = 0  # gold practices whose place the current gazetteer knows
    known_found: int = 0
    known_drafts: int = 0
    known_right: int = 0
    actions: int = 0
    actions_found: int = 0
    actions_extra: list[str] = field(default_factory=list)  # action drafts that are no gold action
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: (got, expected), wrong only
    noise: list[str] = field(default_factory=list)  # noise found in a practice
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.drafts if self.drafts else 1.0


def _matches(rec, gold: dict) -> bool:
    return (gold["snippet"] in rec.text and not any(bad in rec.text for bad in gold.get("must_not_contain", []))
            and rec.province == gold["province"] and (rec.city or "") == (gold["city"] or ""))


def known_place(gold: dict) -> bool:
    """Whether the current gazetteer can tell the province and city of a gold practice's place."""
    from reformkb.ingest.regions import gazetteer

    gaz = gazetteer()
    region = gaz.lookup(gold["place"])
    found = gaz.find_leading(gold["place"])
    for r in (region, found[0] if found else None):
        if r is not None and r.province == gold["province"] and (r.city or "") == (gold["city"] or ""):
            return True
    return False


def score_file(kb, stem: Path) -> FileScore:
    """Parse one bulletin through ``kb.parse_file`` (the import path, nothing stored) and score it."""
    gold = json.loads(stem.with_name(stem.name + ".gold.json").read_text(encoding="utf-8"))
    name, data = source_of(stem)
    score = FileScore(stem.name)
    drafts, _report = kb.parse_file(data, name)
    practices = [r for r in drafts if r.kind == "practice"]
    actions = [r for r in drafts if r.kind == "action"]
    source = practices[0].source if practices else None
    for key in ("title", "issue", "date"):
        got = getattr(source, key) if source else ""
        if got != gold[key]:
            score.metadata[key] = (got, gold[key])
    known = [known_place(g) for g in gold["practices"]]
    score.gold, score.known = len(gold["practices"]), sum(known)
    for g, is_known in zip(gold["practices"], known):
        hit = any(_matches(r, g) for r in practices)
        score.found += hit
        score.known_found += hit and is_known
        if not hit:
            score.missed.append(f"{g['place']}：{g['snippet']}")
    for rec in practices:
        matched = [k for k, g in enumerate(gold["practices"]) if _matches(rec, g)]
        score.drafts += 1
        score.right += bool(matched)
        # A draft counts for the known-place score unless it is the draft of an unknown place.
        near = [k for k, g in enumerate(gold["practices"]) if g["snippet"] in rec.text]
        if not near or any(known[k] for k in near):
            score.known_drafts += 1
            score.known_right += bool(matched)
        if not matched:
            score.wrong.append(f"{rec.region}/{rec.province}/{rec.city}：{rec.text[:40]}")
        score.noise += [n for n in gold.get("noise", []) if n in rec.text]
    score.actions = len(gold.get("actions", []))
    score.actions_found = sum(any(a["snippet"] in r.text for r in actions) for a in gold.get("actions", []))
    score.actions_extra = [r.text[:40] for r in actions if not any(a["snippet"] in r.text for a in gold.get("actions", []))]
    return score


def score_all(folder: Path = DATA) -> list[FileScore]:
    from reformkb.kb import KnowledgeBase
    from reformkb.settings import Settings

    with tempfile.TemporaryDirectory() as home:
        with KnowledgeBase(settings=Settings.default(Path(home)), empty=True) as kb:
            return [score_file(kb, stem) for stem in bulletins(folder)]


def table(scores: list[FileScore]) -> str:
    """Per file and overall: recall and precision, on all gold practices and on known places only."""
    def ratio(a: int, b: int) -> str:
        return f"{a / b:.3f}" if b else "  -  "

    lines = [f"{'file':34} {'R':>5} {'P':>5} {'R(known)':>8} {'P(known)':>8} {'actions':>7} metadata"]
    for s in scores:
        meta = "ok" if not s.metadata else ", ".join(f"{k}={g!r}≠{e!r}" for k, (g, e) in s.metadata.items())
        lines.append(f"{s.name:34} {ratio(s.found, s.gold):>5} {ratio(s.right, s.drafts):>5} "
                     f"{ratio(s.known_found, s.known):>8} {ratio(s.known_right, s.known_drafts):>8} "
                     f"{s.actions_found:>3}/{s.actions:<3} {meta}")
    total = {k: sum(getattr(s, k) for s in scores) for k in
             ("gold", "found", "drafts", "right", "known", "known_found", "known_drafts", "known_right",
              "actions", "actions_found")}
    meta_ok = sum(not s.metadata for s in scores)
    lines.append(f"{'overall':34} {ratio(total['found'], total['gold']):>5} {ratio(total['right'], total['drafts']):>5} "
                 f"{ratio(total['known_found'], total['known']):>8} {ratio(total['known_right'], total['known_drafts']):>8} "
                 f"{total['actions_found']:>3}/{total['actions']:<3} {meta_ok}/{len(scores)} files right")
    lines.append(f"gold practices {total['gold']} (known places {total['known']}), drafts {total['drafts']}")
    for s in scores:
        for m in s.missed:
            lines.append(f"  missed {s.name}: {m}")
        for w in s.wrong:
            lines.append(f"  wrong  {s.name}: {w}")
        for a in s.actions_extra:
            lines.append(f"  extra action {s.name}: {a}")
        for n in s.noise:
            lines.append(f"  NOISE  {s.name}: {n}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(table(score_all(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)) + "\n")
