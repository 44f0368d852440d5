"""Peak memory and wall time of whole imports, accepted and refused (issue 16: any refused import < 1 GiB).

    python -m bench.imports                  # full size, 3 runs per case (≈ 10 min on 2 cores)
    python -m bench.imports --smoke          # small sizes, 1 run per case (≈ 1 min)
    python -m bench.imports --runs 5 --cases bomb,huge-text
    python -m bench.imports --large 12000 --runs 1   # a larger bulletin (embedding dominates: minutes)

Each run of each case is a fresh ``python -m bench.imports --worker`` process that opens a new, empty
knowledge base (the real model, from ``REFORMKB_MODELS_DIR`` or ``models/``) and calls
``KnowledgeBase.import_files([file])`` then ``close()``: read → parse → complete → store → embed →
index → save, the whole import the CLI's ``reformkb import`` does. The cases, built on the fly:

- ``large``: a valid bulletin as a many-page .docx: masthead, 【战术借鉴】 and one synthetic practice
  (bench/synth.py) per paragraph, 3,000 of them (about 0.8 MB of text, some 100 A4 pages); accepted,
  every practice stored and embedded (a few are refused: their place is not at the start).
- ``huge-text``: a .docx that unpacks to 100 MB of text without a sentence ending (issue 16's
  1.7 MB file); refused.
- ``bomb``: a .docx whose document.xml inflates to 2 GiB of zeros while its headers claim 1,000
  bytes; refused.

Memory is the worker's own peak resident set (``VmHWM`` in /proc/self/status, read after the import:
``ru_maxrss`` of a child would carry the forking parent's peak over exec); wall time is from the
parent starting the worker to its exit (Python start, imports and model load included) and, inside
the worker, of ``import_files`` + ``close`` alone. Results: ``bench/out/results/imports.json``
(``imports-smoke.json`` for ``--smoke``) and a Markdown table on stdout (copied into docs/reliability.md).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "out" / "results"
MIB = 1024 * 1024
LIMIT_MIB = 1024  # issue 16: peak memory of any refused import under 1 GiB
CASES = ("large", "huge-text", "bomb")
#: per case: (full size, smoke size): practices in the bulletin, MB of text, MiB of zeros
SIZES = {"large": (3_000, 150), "huge-text": (100, 8), "bomb": (2048, 64)}
TIMEOUT_S = 1800


# -- the files --------------------------------------------------------------------------------------
def large_bulletin(practices: int) -> bytes:
    """A valid bulletin .docx: masthead, 【战术借鉴】, one synthetic practice per paragraph (many pages)."""
    from docx import Document

    from bench import synth

    doc = Document()
    for line in ("基准测试市优化营商环境工作专报", "第 9 期", "2024 年 5 月 6 日", "【战术借鉴】"):
        doc.add_paragraph(line)
    for row in synth.records(practices):
        doc.add_paragraph(row["text"])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_with(document_xml_chunks, size_hint: int) -> bytes:
    """A valid .docx (python-docx's blank document) whose word/document.xml is written chunk by chunk."""
    from docx import Document

    blank = io.BytesIO()
    Document().save(blank)
    buf = io.BytesIO()
    with zipfile.ZipFile(blank) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info.filename, src.read(info))
        member = zipfile.ZipInfo("word/document.xml")
        member.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(member, "w", force_zip64=size_hint > 2000 * MIB) as out:
            for chunk in document_xml_chunks:
                out.write(chunk)
    return buf.getvalue()


def huge_text_docx(mb: int) -> bytes:
    """A .docx holding ``mb`` MB of text with no sentence ending, in one paragraph: synthetic practices
    (bench/synth.py) with 。 turned into ，, drawn at random from 30 of them, so that it deflates about
    60 : 1 like issue 16's file (1.7 MB for 100 MB of text)."""
    import random

    from bench import synth

    clauses = [r["text"].replace("。", "，").encode("utf-8") for r in synth.records(30)]
    rng = random.Random(16)
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def chunks():
        yield f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body><w:p><w:r><w:t>'.encode()
        written = 0
        while written < mb * 1_000_000:
            chunk = b"".join(rng.choice(clauses) for _ in range(4000))
            written += len(chunk)
            yield chunk
        yield b"</w:t></w:r></w:p></w:body></w:document>"

    return _docx_with(chunks(), mb * 1_000_000)


def zip_bomb(mib: int, claimed: int = 1000) -> bytes:
    """A .docx whose word/document.xml inflates to ``mib`` MiB of zeros; its headers claim ``claimed`` bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MIB)
    stream = b"".join(comp.compress(zeros) for _ in range(mib)) + comp.flush()
    head_buf = io.BytesIO()
    with zipfile.ZipFile(head_buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
    head = head_buf.getvalue()
    body, entries = head[: head.find(b"PK\x01\x02")], head[head.find(b"PK\x01\x02"): head.rfind(b"PK\x05\x06")]
    name = b"word/document.xml"
    crc = zlib.crc32(b"")
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), claimed, len(name), 0)
    offset = len(body)
    entries += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(stream), claimed,
                           len(name), 0, 0, 0, 0, 0, offset) + name
    start = offset + len(local) + len(name) + len(stream)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(entries), start, 0)
    return body + local + name + stream + entries + end


def build(case: str, size: int) -> tuple[bytes, str]:
    if case == "large":
        return large_bulletin(size), "大型专报.docx"
    if case == "huge-text":
        return huge_text_docx(size), "超长文字.docx"
    return zip_bomb(size), "压缩炸弹.docx"


# -- one run, in its own process -----------------------------------------------------------------
def _vm_hwm_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker(path: str, home: str) -> dict:
    from reformkb.kb import KnowledgeBase
    from reformkb.settings import Settings

    start = time.perf_counter()
    kb = KnowledgeBase(settings=Settings.default(Path(home)), empty=True)
    report = kb.import_files([path])
    kb.close()
    return {"import_s": round(time.perf_counter() - start, 2), "added": len(report.added),
            "refused": [why[:160] for _, why in report.refused][:3], "refused_rows": len(report.refused),
            "peak_rss_mib": round(_vm_hwm_mib(), 1)}


def run_once(path: Path, home: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.imports", "--worker", str(path), str(home)], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return {**json.loads(lines[-1][len("RESULT "):]), "wall_s": round(wall, 2)}


def run(cases: list[str], runs: int, smoke: bool) -> dict:
    from bench.run import machine

    result = {"report": "imports", "started": datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": machine(), "command": " ".join(["python -m bench.imports", *sys.argv[1:]]),
              "limit_mib": LIMIT_MIB, "runs": runs, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="reformkb-bench-imports-") as tmp:
        for case in cases:
            size = SIZES[case][1 if smoke else 0]
            data, name = build(case, size)
            path = Path(tmp) / name
            path.write_bytes(data)
            rows = []
            for n in range(runs):
                home = Path(tmp) / f"{case}-{n}"
                rows.append(run_once(path, home))
                print(f"{case} run {n + 1}/{runs}: {rows[-1]}", file=sys.stderr, flush=True)
            result["cases"][case] = summary(case, size, len(data), rows)
    result["finished"] = datetime.now().astimezone().isoformat(timespec="seconds")
    result["machine"]["loadavg_after"] = os.getloadavg()
    return result


def summary(case: str, size: int, file_bytes: int, rows: list[dict]) -> dict:
    peak = statistics.median(r["peak_rss_mib"] for r in rows)
    accepted = all(r["added"] > 0 for r in rows)  # a bulletin is accepted even if a few paragraphs are refused
    return {"size": size, "file_bytes": file_bytes, "accepted": accepted, "added": rows[0]["added"],
            "refused": rows[0]["refused"], "refused_rows": rows[0]["refused_rows"], "peak_rss_mib": round(peak, 1),
            "peak_rss_max_mib": max(r["peak_rss_mib"] for r in rows),
            "wall_s": round(statistics.median(r["wall_s"] for r in rows), 2),
            "import_s": round(statistics.median(r["import_s"] for r in rows), 2),
            "under_limit": max(r["peak_rss_mib"] for r in rows) < LIMIT_MIB, "rows": rows}


WHAT = {"large": "valid bulletin .docx, {size:,} practices", "huge-text": ".docx of {size} MB of text, no sentence ending",
        "bomb": ".docx zip bomb, {size:,} MiB of zeros, headers claim 1,000 bytes"}


def table(result: dict) -> str:
    lines = [f"| case | file | outcome | peak RSS (median / max of {result['runs']}) | wall (process) | import + close | "
             f"< {LIMIT_MIB // 1024} GiB |", "|---|---|---|---|---|---|---|"]
    for case, s in result["cases"].items():
        outcome = (f"accepted, {s['added']:,} stored, {s['refused_rows']} paragraphs refused" if s["accepted"] else "refused: " + (s["refused"] or ["?"])[0][:60])
        verdict = "pass" if s["under_limit"] else "**FAIL**"
        if s["accepted"] and not s["under_limit"]:
            verdict = "over (accepted: not bound by the target)"
        lines.append(f"| {case}: {WHAT[case].format(size=s['size'])} | {s['file_bytes'] / MIB:.2f} MiB | {outcome} | "
                     f"{s['peak_rss_mib']:.0f} / {s['peak_rss_max_mib']:.0f} MiB | {s['wall_s']:.1f} s | "
                     f"{s['import_s']:.1f} s | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="small sizes, 1 run per case")
    parser.add_argument("--runs", type=int, help="runs per case (default 3; 1 with --smoke)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {','.join(CASES)}")
    parser.add_argument("--large", type=int, help=f"practices in the large bulletin (default {SIZES['large'][0]:,}; "
                                                  f"{SIZES['large'][1]} with --smoke)")
    parser.add_argument("--worker", nargs=2, metavar=("FILE", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(*args.worker), ensure_ascii=False), flush=True)
        return 0
    cases = [c for c in args.cases.split(",") if c]
    if set(cases) - set(CASES):
        parser.error(f"unknown cases: {', '.join(sorted(set(cases) - set(CASES)))}")
    runs = args.runs or (1 if args.smoke else 3)
    if args.large:
        SIZES["large"] = (args.large, args.large)
    result = run(cases, runs, args.smoke)
    out = RESULTS / ("imports-smoke.json" if args.smoke else "imports.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(result))
    load = result["machine"]["loadavg"], result["machine"]["loadavg_after"]
    print(f"\n{result['started']} – {result['finished']}; {result['machine']['cores']} cores; "
          f"load average (1/5/15 min) {tuple(round(x, 2) for x in load[0])} before, "
          f"{tuple(round(x, 2) for x in load[1])} after.")
    failed = [c for c, s in result["cases"].items() if not s["accepted"] and not s["under_limit"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
