"""Rendering benchmark results (JSON from bench/out/results/) as text, docs/benchmarks.md tables and PNG plots.

The prose of docs/benchmarks.md (findings, targets, proposals) is written by hand around the generated
tables: ``write_docs`` replaces only the part between the ``<!-- generated -->`` markers.
"""
from __future__ import annotations

import json
from pathlib import Path

START, END = "<!-- generated: start -->", "<!-- generated: end -->"
KINDS = ("ALL", "keyword", "paraphrase", "long", "regional", "english", "typo")


def _mib(b: int) -> str:
    return f"{b / 1024 / 1024:.1f} MiB" if b < 1024 ** 3 else f"{b / 1024 ** 3:.2f} GiB"


def smoke_summary(result: dict) -> str:
    lines = []
    for e in result["sizes"]:
        ing, srv = e["reformkb_ingest"], e["reformkb_serve"]
        lines.append(f"size {e['n']}: ingest {ing['rate']} records/s (embedding-only {ing.get('embed_only_rate')}/s, "
                     f"ratio {ing.get('rate_vs_embed_only')}, embedding {ing['embed_share']:.0%} of ingest)")
        for mode, lat in srv["latency"].items():
            lines.append(f"  {mode:<16} p50 {lat['p50_ms']:7.2f} ms  p95 {lat['p95_ms']:7.2f} ms")
        lines.append(f"  cold start {srv['cold_start_s']} s (keyword {e['reformkb_cold_keyword']['cold_start_s']} s), "
                     f"peak RSS ingest {ing['peak_rss_mib']:.0f} MiB, serving {srv['peak_rss_mib']:.0f} MiB, "
                     f"db {_mib(ing['db_bytes'])}, index {_mib(ing['index_bytes'])}")
        if "ratios" in e:
            lines.append(f"  txtai: ingest {e['txtai_ingest']['rate']} records/s, hybrid p95 "
                         f"{e['txtai_serve']['latency']['hybrid']['p95_ms']} ms; ratios reformkb/txtai {e['ratios']}")
        else:
            lines.append("  txtai: skipped (not installed)" if not result.get("txtai") else f"  txtai: {e.get('txtai_skipped', '')}")
    return "\n".join(lines)


# -- markdown ---------------------------------------------------------------------------------------
def _machine(m: dict) -> str:
    v = m["versions"]
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['os']}; Python {m['python']}; "
            + ", ".join(f"{k} {x}" for k, x in v.items() if x) + f"; commit {m['commit']}; "
            f"load average at start {', '.join(f'{x:.1f}' for x in m['loadavg'])}")


def speed_tables(r: dict) -> str:
    out = [f"Command: `{r['command']}` (started {r['started']}, finished {r.get('finished', '?')}).",
           f"Machine: {_machine(r['machine'])}; load average at the end {', '.join(f'{x:.1f}' for x in r.get('loadavg_end', []))}.", ""]
    out += ["#### Ingest", "",
            "| records | path | reformkb records/s | embedding share | embedding-only rate | ingest / embedding-only | parse s | store s | embed s | index+other s | txtai records/s | reformkb / txtai |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in r["sizes"]:
        i = e["reformkb_ingest"]
        path = "end to end (model embeds)" if e["e2e"] else (
            f"cached vectors ({e.get('vectors', {}).get('real_vectors', '?')} real, {e.get('vectors', {}).get('derived_vectors', '?')} derived)")
        tx = e.get("txtai_ingest")
        only = f"{i.get('embed_only_rate', '–')}" + (f" {i['precision']}; {i['embed_only_rate_float32']} float32"
                                                     if "embed_only_rate_float32" in i else "")
        out.append(f"| {e['n']:,} | {path} | {i['rate']:,} | {i['embed_share']:.0%} | {only} | "
                   f"{i.get('rate_vs_embed_only', '–')} | {i['parse_s']} | {i['store_s']} | {i['embed_s']} | {i['index_other_s']} | "
                   f"{tx['rate'] if tx else '–'} | {e['ratios']['ingest_rate'] if 'ratios' in e else '–'} |")
    out += projected_ingest(r)
    out += ["", "#### Query latency (warm, k=10, ms, query embedding included)", "",
            "| records | mode | p50 | p95 | with filter p50 | with filter p95 | txtai p50 | txtai p95 | txtai filter p95 (mean hits) |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in r["sizes"]:
        lat = e["reformkb_serve"]["latency"]
        tl = e.get("txtai_serve", {}).get("latency", {})
        for mode in ("keyword", "semantic", "hybrid"):
            f = lat[mode + "+filter"]
            txt = (f"{tl['hybrid']['p50_ms']} | {tl['hybrid']['p95_ms']} | {tl['hybrid+filter']['p95_ms']} ({tl['hybrid+filter'].get('mean_hits')})"
                   if mode == "hybrid" and tl else "– | – | –")
            out.append(f"| {e['n']:,} | {mode} | {lat[mode]['p50_ms']} | {lat[mode]['p95_ms']} | {f['p50_ms']} | {f['p95_ms']} | {txt} |")
    out += ["", "#### Cold start, memory, disk", "",
            "| records | cold start hybrid s | cold start keyword s | peak RSS ingest | peak RSS serving | database | index | index type | txtai cold s | txtai peak RSS serving | txtai ingest peak RSS | txtai disk |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for e in r["sizes"]:
        i, s = e["reformkb_ingest"], e["reformkb_serve"]
        ti, ts = e.get("txtai_ingest"), e.get("txtai_serve")
        out.append(f"| {e['n']:,} | {s['cold_start_s']} | {e['reformkb_cold_keyword']['cold_start_s']} | {i['peak_rss_mib']:.0f} MiB | "
                   f"{s['peak_rss_mib']:.0f} MiB | {_mib(i['db_bytes'])} | {_mib(i['index_bytes'])} | {i['index_type']} | "
                   + (f"{ts['cold_start_s']} | {ts['peak_rss_mib']:.0f} MiB | {ti['peak_rss_mib']:.0f} MiB | {_mib(ti['disk_bytes'])} |"
                      if ts else "– | – | – | – |"))
    rat = [e for e in r["sizes"] if "ratios" in e]
    if rat:
        out += ["", "#### Ratios reformkb / txtai (same run; < 1 means reformkb is faster or smaller, except ingest rate where > 1 is better)", "",
                "| records | ingest rate (above 10k: without embedding) | hybrid p50 | hybrid p95 | hybrid+filter p95 | serving peak RSS | ingest peak RSS | cold start |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for e in rat:
            x = e["ratios"]
            out.append(f"| {e['n']:,} | {x['ingest_rate']} | {x['hybrid_p50']} | {x['hybrid_p95']} | {x['hybrid_filter_p95']} | "
                       f"{x['serve_peak_rss']} | {x['ingest_peak_rss']} | {x['cold_start']} |")
    skipped = [f"{e['n']:,}: {e['txtai_skipped']}" for e in r["sizes"] if "txtai_skipped" in e]
    if skipped:
        out += ["", "txtai not run: " + "; ".join(skipped) + "."]
    return "\n".join(out)


def projected_ingest(r: dict) -> list[str]:
    """End-to-end ingest rates at every size: measured up to the end-to-end limit; above it, the
    measured time without embedding plus embedding at the system's own rate from the largest
    end-to-end size of the same run (reformkb: its timed embedding stage; txtai: its whole
    end-to-end rate, which slightly understates txtai's embedding rate)."""
    e2e = [e for e in r["sizes"] if e["e2e"]]
    if not e2e or all(e["e2e"] for e in r["sizes"]):
        return []
    ref = max(e2e, key=lambda e: e["n"])
    rk_rate = ref["reformkb_ingest"]["embedded"] / ref["reformkb_ingest"]["embed_s"]
    tx_rate = ref["txtai_ingest"]["rate"] if "txtai_ingest" in ref else None
    out = ["", f"End-to-end ingest, projected where vectors were cached (embedding at the rate measured at "
               f"{ref['n']:,} records in this run: reformkb {rk_rate:.1f} texts/s"
               + (f", txtai {tx_rate} records/s end to end" if tx_rate else "") + "):", "",
           "| records | reformkb records/s | txtai records/s | reformkb / txtai |", "|---:|---:|---:|---:|"]
    for e in r["sizes"]:
        i, t, n = e["reformkb_ingest"], e.get("txtai_ingest"), e["n"]
        rk = i["rate"] if e["e2e"] else n / (i["seconds"] + n / rk_rate)
        tx = (t["rate"] if e["e2e"] else n / (t["seconds"] + n / tx_rate)) if t and tx_rate else None
        mark = "" if e["e2e"] else " (projected)"
        out.append(f"| {n:,} | {rk:,.1f}{mark} | " + (f"{tx:,.1f}{mark} | {rk / tx:.2f} |" if tx else "– | – |"))
    return out


def index_tables(r: dict) -> str:
    out = [f"Command: `{r['command']}`. Machine: {_machine(r['machine'])}.", "",
           "Index component alone (`reformkb.search.vectors.VectorIndex`; IVF nlist=4·sqrt(n), nprobe=32; "
           "HNSW M=32, efConstruction=80, efSearch=128), 42 real query vectors, k=10; the filter allows "
           "a random 1/490 of the records.", "",
           "| vectors (real) | kind | recall@10 vs exact (min) | build s | search p50/p95 ms | filtered p50/p95 ms | index file | peak RSS |",
           "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for e in r["sizes"]:
        for kind in ("flat", "ivf", "hnsw"):
            k = e.get(kind)
            if not k:
                continue
            if "skipped" in k:
                out.append(f"| {e['n']:,} ({e['real_vectors']:,}) | {kind} | – | – | – | – | – | {k['skipped']} |")
                continue
            recall = f"{k['recall_at_10']} ({k['min_recall_at_10']})" if "recall_at_10" in k else "1 (exact)"
            out.append(f"| {e['n']:,} ({e['real_vectors']:,}) | {kind} | {recall} | {k['build_s']} | "
                       f"{k['search']['p50_ms']}/{k['search']['p95_ms']} | "
                       f"{k['search+filter']['p50_ms']}/{k['search+filter']['p95_ms']} | "
                       f"{_mib(k['index_bytes'])} | {k['peak_rss_mib']:.0f} MiB |")
    return "\n".join(out)


def quality_tables(r: dict) -> str:
    out = [f"Command: `{r['command']}`. Machine: {_machine(r['machine'])}.", ""]
    systems = [(f"reformkb {m}", r["reformkb"][m]) for m in ("keyword", "semantic", "hybrid") if m in r["reformkb"]]
    if r.get("txtai_hybrid"):
        systems.append(("txtai hybrid (defaults)", r["txtai_hybrid"]))
    for metric, label in (("ndcg", "nDCG@10"), ("recall", "Recall@10"), ("mrr", "MRR@10"), ("hit1", "hit@1")):
        kinds = [k for k in KINDS if k in systems[0][1]]
        out += [f"**{label}**", "", "| system | " + " | ".join(f"{k} (n={systems[0][1][k]['n']})" for k in kinds) + " |",
                "|---|" + "---:|" * len(kinds)]
        for name, res in systems:
            out.append(f"| {name} | " + " | ".join(f"{res[k][metric]:.3f}" for k in kinds) + " |")
        out.append("")
    return "\n".join(out)


# -- plots ------------------------------------------------------------------------------------------
def _save(fig, ax, path: Path) -> Path:
    """Legend, layout, PNG at ``path``; the figure is closed."""
    import matplotlib.pyplot as plt

    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plots(speed: dict | None, index: dict | None, quality: dict | None, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    if speed:
        sizes = speed["sizes"]
        ns = [e["n"] for e in sizes]
        fig, ax = plt.subplots(figsize=(6.4, 4))
        for mode, style in (("keyword", "o-"), ("semantic", "s-"), ("hybrid", "^-")):
            ax.plot(ns, [e["reformkb_serve"]["latency"][mode]["p95_ms"] for e in sizes], style, label=f"reformkb {mode} p95")
        tx = [e for e in sizes if "txtai_serve" in e]
        if tx:
            ax.plot([e["n"] for e in tx], [e["txtai_serve"]["latency"]["hybrid"]["p95_ms"] for e in tx], "x--", label="txtai hybrid p95")
        ax.axhline(50, color="grey", lw=0.8, ls=":")
        ax.axhline(100, color="grey", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="records (synthetic)", ylabel="ms (warm, k=10)", title="Query latency p95")
        made.append(_save(fig, ax, out_dir / "latency.png"))

        fig, ax = plt.subplots(figsize=(6.4, 4))
        ax.plot(ns, [e["reformkb_ingest"]["rate"] for e in sizes], "o-", label="reformkb ingest")
        e2e = [e for e in sizes if e["reformkb_ingest"].get("embed_only_rate")]
        ax.plot([e["n"] for e in e2e], [e["reformkb_ingest"]["embed_only_rate"] for e in e2e], "s:", label="embedding only (limit)")
        if tx:
            ax.plot([e["n"] for e in tx], [e["txtai_ingest"]["rate"] for e in tx], "x--", label="txtai ingest")
        ax.set(xscale="log", yscale="log", xlabel="records (synthetic)", ylabel="records/s",
               title="Ingest rate (above 10k: vectors cached, embedding excluded)")
        made.append(_save(fig, ax, out_dir / "ingest.png"))

        fig, ax = plt.subplots(figsize=(6.4, 4))
        ax.plot(ns, [e["reformkb_serve"]["peak_rss_mib"] for e in sizes], "o-", label="reformkb serving peak RSS")
        ax.plot(ns, [e["reformkb_ingest"]["peak_rss_mib"] for e in sizes], "o:", label="reformkb ingest peak RSS")
        if tx:
            ax.plot([e["n"] for e in tx], [e["txtai_serve"]["peak_rss_mib"] for e in tx], "x--", label="txtai serving peak RSS")
        ax.axhline(4096, color="grey", lw=0.8, ls=":")
        ax.set(xscale="log", xlabel="records (synthetic)", ylabel="MiB", title="Memory")
        made.append(_save(fig, ax, out_dir / "memory.png"))
    if quality:
        systems = [(f"reformkb {m}", quality["reformkb"][m]) for m in ("keyword", "semantic", "hybrid")]
        if quality.get("txtai_hybrid"):
            systems.append(("txtai hybrid", quality["txtai_hybrid"]))
        kinds = [k for k in KINDS if k in systems[0][1]]
        fig, ax = plt.subplots(figsize=(7.5, 4))
        width = 0.8 / len(systems)
        for j, (name, res) in enumerate(systems):
            ax.bar([i + j * width for i in range(len(kinds))], [res[k]["ndcg"] for k in kinds], width, label=name)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(kinds))], kinds)
        ax.set(ylabel="nDCG@10", ylim=(0, 1), title="Quality on the dev set (48 queries)")
        made.append(_save(fig, ax, out_dir / "quality.png"))
    return made


def write_docs(results: Path, docs: Path) -> Path:
    """Replace the generated part of docs/benchmarks.md with tables from the results; redraw the plots."""
    def load(name: str):
        path = results / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    speed, index, quality = load("speed"), load("index"), load("quality")
    plots(speed, index, quality, docs / "bench")
    parts = []
    if quality:
        parts += ["### Quality (generated)", "", quality_tables(quality), "![quality](bench/quality.png)", ""]
    if speed:
        parts += ["### Speed and size (generated)", "", speed_tables(speed), "",
                  "![latency](bench/latency.png) ![ingest](bench/ingest.png) ![memory](bench/memory.png)", ""]
    if index:
        parts += ["### Index type: exact vs IVF vs HNSW (generated)", "", index_tables(index), ""]
    generated = "\n".join([START, *parts, END])
    path = docs / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n" + START + "\n" + END + "\n"
    if START in text and END in text:
        text = text[: text.index(START)] + generated + text[text.index(END) + len(END):]
    else:
        text += "\n" + generated + "\n"
    path.write_text(text, encoding="utf-8")
    return path
