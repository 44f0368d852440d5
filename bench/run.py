"""The benchmark harness: one command per report (see bench/README.md).

    python -m bench.run --smoke                 # ≈1k records, < 2 min; what CI runs (tests/test_bench_smoke.py)
    python -m bench.run --speed 1k,10k,100k,1m  # speed and size, reformkb and txtai side by side
    python -m bench.run --index 100k,1m         # exact (flat) vs approximate (IVF, HNSW) index
    python -m bench.run --quality               # quality per mode and query kind, reformkb and txtai
    python -m bench.run --docs                  # docs/benchmarks.md and docs/bench/*.png from the results
    python -m bench.run --all                   # all of the above (the full run; manual, about an hour+)

Each measurement runs in a fresh worker process (``python -m bench.run --worker …``), so peak RSS
(``VmHWM`` from /proc/self/status) and cold start belong to one system and one size. reformkb is
used only through :class:`reformkb.KnowledgeBase`. Results are JSON files under ``bench/out/results/``
(git-ignored) with the machine's facts and the command; ``--docs`` renders them.

What is measured, per size (records from :mod:`bench.synth`, marked synthetic):

- ingest: ``kb.import_files`` on JSONL record files (parse → store → embed → index, then ``close``
  which saves the index). Up to ``E2E_MAX`` records the model really embeds every record; above it the
  vectors are first put into the knowledge base's vector cache (``kb.put_vectors``, not timed), so the
  ingest time is everything except embedding, and the end-to-end rate is projected with the
  embedding-only rate. The embedding-only rate is the same model on a sample of the same texts, in the
  same process, right after the ingest.
- query latency: p50/p95 in ms, warm (one untimed pass first), k=10, per mode, with and without a
  selective filter (one region: about 1/490 of the records); query embedding included; and hybrid
  "as typed" (``as_typed=True``: without the homophone check), to show what that check costs.
- cold start: from the parent starting the worker process to the first answer (hybrid, and keyword).
- memory: VmHWM of the ingest and of the serving process; disk: database (+WAL) and index files.
"""
from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = OUT / "results"
DOCS = ROOT / "docs"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
E2E_MAX = 10_000  # sizes up to this embed every record during ingest
TXTAI_MAX = 1_000_000  # largest size txtai is run at (every size here; with cached vectors its 100k ingest took 13 s)
BULK_MIN = 200_001  # from this size, records carry title/topics/agency (the documented fast path)
FILTER_REGION = "长沙市"
MODES = ("keyword", "semantic", "hybrid")
ECHO = functools.partial(print, flush=True)

log = logging.getLogger("bench.run")


# -- helpers ----------------------------------------------------------------------------------------
def proc_status() -> dict:
    """VmHWM and VmRSS of this process in MiB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) / 1024
    return {"peak_rss_mib": round(out.get("VmHWM", 0), 1), "rss_mib": round(out.get("VmRSS", 0), 1)}


def size_of(*paths: Path) -> int:
    total = 0
    for p in paths:
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return total


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_summary(ms: list[float]) -> dict:
    return {"p50_ms": round(pct(ms, 0.5), 2), "p95_ms": round(pct(ms, 0.95), 2), "n": len(ms)}


def machine() -> dict:
    """Facts about the machine and the software, recorded with every result."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(row.split()[1]) for row in open("/proc/meminfo") if row.startswith("MemTotal"))
    except OSError:
        mem = 0
    versions = {}
    for pkg in ("reformkb", "torch", "sentence-transformers", "transformers", "faiss-cpu", "numpy", "txtai"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "ram_gib": round(mem / 1024 / 1024, 1),
            "os": platform.platform(), "python": platform.python_version(), "versions": versions,
            "commit": commit + ("+uncommitted changes" if dirty else ""), "loadavg": os.getloadavg()}


def worker(task: str, **kw) -> dict:
    """Run one task in a fresh ``python -m bench.run --worker`` process; its result (parsed JSON)."""
    kw["t_spawn"] = time.time()
    cmd = [sys.executable, "-m", "bench.run", "--worker", json.dumps({"task": task, **kw}, ensure_ascii=False)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"worker {task} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def size_name(n: int) -> str:
    return next((k for k, v in SIZES.items() if v == n), str(n))


def rows_for(n: int) -> list[dict]:
    from bench import synth

    return list(synth.records(n, derived=n >= BULK_MIN))


# -- workers (each in its own process) -------------------------------------------------------------
def w_preload(n: int, home: str, **_) -> dict:
    """Put vectors for the n records into a fresh knowledge base's vector cache (not timed as ingest)."""

    from bench import synth
    from reformkb import KnowledgeBase

    rows = rows_for(n)
    texts = [r["text"] for r in rows]
    vectors, real_n = synth.vectors_for(texts)
    with KnowledgeBase(home, empty=True, actor="bench") as kb:
        for start in range(0, n, 50_000):
            kb.put_vectors(rows[start : start + 50_000], vectors[start : start + 50_000])
    del vectors
    return {"real_vectors": real_n, "derived_vectors": n - real_n}


def w_rk_ingest(n: int, home: str, e2e: bool, sample_max: int = 2000, **_) -> dict:
    """reformkb ingest of n synthetic records through ``import_files``, instrumented per stage."""
    from bench import synth
    from reformkb import KnowledgeBase

    home = Path(home)
    rows = rows_for(n)
    files = synth.write_jsonl(rows, home.parent / f"{home.name}-files")
    kb = KnowledgeBase(home, empty=True, actor="bench")
    t = time.perf_counter()
    embedder = kb.embedder
    embedder.embed_query("预热")
    model_s = time.perf_counter() - t

    spent = {"parse": 0.0, "store": 0.0, "embed": 0.0}
    captured: list[str] = []

    def timed(name, fn, capture=False):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t0
                if capture:
                    captured.extend(a[0])
        return wrapper

    embed_documents = embedder.embed_documents
    embedder.embed_documents = timed("embed", embed_documents, capture=True)
    kb.prepare = timed("parse", kb.prepare)
    kb.store.insert_many = timed("store", kb.store.insert_many)
    t0 = time.perf_counter()
    report = kb.import_files(files)
    rebuilt = False
    if n > kb.settings.exact_index_max:
        kb.rebuild_index()  # a knowledge base grown past the threshold stays flat until rebuilt
        rebuilt = True
    t1 = time.perf_counter()
    kb.close()
    t2 = time.perf_counter()
    total = t2 - t0
    out = {"n": n, "added": len(report.added), "refused": len(report.refused), "e2e": e2e,
           "model_load_s": round(model_s, 2), "seconds": round(total, 2), "rate": round(n / total, 1),
           "parse_s": round(spent["parse"], 2), "store_s": round(spent["store"], 2), "embed_s": round(spent["embed"], 2),
           "close_s": round(t2 - t1, 2), "embedded": len(captured), "rebuilt_for_hnsw": rebuilt}
    out["index_other_s"] = round(total - spent["parse"] - spent["store"] - spent["embed"], 2)
    out["embed_share"] = round(spent["embed"] / total, 3)
    out.update(proc_status())
    if captured:
        sample = random.Random(0).sample(captured, min(len(captured), sample_max))
        embed_documents(sample[:32])  # warm
        t = time.perf_counter()
        embed_documents(sample)
        out["embed_only_rate"] = round(len(sample) / (time.perf_counter() - t), 1)
        out["embed_only_sample"] = len(sample)
        out["rate_vs_embed_only"] = round(out["rate"] / out["embed_only_rate"], 3)
        out["precision"] = embedder.precision
        if embedder.precision != "float32":  # what the same model does in float32, as txtai runs it
            from dataclasses import replace

            from reformkb.search.embedding import Embedder

            full = Embedder(replace(kb.settings, precision="float32"))
            full.embed_documents(sample[:32])
            t = time.perf_counter()
            full.embed_documents(sample)
            out["embed_only_rate_float32"] = round(len(sample) / (time.perf_counter() - t), 1)
    kb2 = KnowledgeBase(home, empty=True)
    out["db_bytes"] = size_of(*[home / f for f in ("reformkb.db", "reformkb.db-wal")])
    out["index_bytes"] = size_of(kb2.settings.index_dir)
    out["index_type"] = kb2.index_status().get("index_type")
    kb2.close()
    return out


def _latencies(search, queries: list[str], passes: int) -> list[float]:
    for q in queries:
        search(q)  # warm
    ms = []
    for _ in range(passes):
        for q in queries:
            t = time.perf_counter()
            search(q)
            ms.append((time.perf_counter() - t) * 1000)
    return ms


def w_rk_serve(home: str, t_spawn: float, passes: int, n_queries: int, mode: str = "hybrid", warm: bool = True, **_) -> dict:
    """Cold start to the first answer in ``mode``; then warm latencies per mode, with and without a filter."""
    from bench.synth import QUERIES
    from reformkb import KnowledgeBase

    kb = KnowledgeBase(home, actor="bench")
    hits = kb.search(QUERIES[0], k=10, mode=mode)
    out = {"cold_start_s": round(time.time() - t_spawn, 2), "first_hits": len(hits)}
    out.update({f"cold_{k}": v for k, v in proc_status().items()})
    if warm:
        queries = QUERIES[:n_queries]
        out["latency"] = {}
        for m in MODES:
            out["latency"][m] = latency_summary(_latencies(lambda q, m=m: kb.search(q, k=10, mode=m), queries, passes))
            counts = []
            ms = _latencies(lambda q, m=m, counts=counts: counts.append(len(kb.search(q, k=10, mode=m, region=FILTER_REGION))),
                            queries, passes)
            out["latency"][m + "+filter"] = {**latency_summary(ms), "mean_hits": round(statistics.mean(counts), 1)}
        # what the homophone check costs: the same hybrid searches as typed (no check), in the same process
        out["latency"]["hybrid as typed"] = latency_summary(
            _latencies(lambda q: kb.search(q, k=10, mode="hybrid", as_typed=True), queries, passes))
        out["filter_share"] = round(kb.count(__import__("reformkb.search.fusion", fromlist=["Filters"]).Filters(region=FILTER_REGION)) / kb.count(), 5)
    out.update(proc_status())
    kb.close()
    return out


def w_tx_ingest(n: int, path: str, external: bool, **_) -> dict:
    from bench import peer_txtai

    out = peer_txtai.ingest(rows_for(n), Path(path), external)
    out.update(n=n, rate=round(n / out["seconds"], 1), external=external, disk_bytes=size_of(Path(path)))
    out.update(proc_status())
    return out


def w_tx_serve(path: str, external: bool, t_spawn: float, passes: int, n_queries: int, warm: bool = True, **_) -> dict:
    from bench import peer_txtai
    from bench.synth import QUERIES

    emb = peer_txtai.load(Path(path), external)
    hits = peer_txtai.search(emb, QUERIES[0])
    out = {"cold_start_s": round(time.time() - t_spawn, 2), "first_hits": len(hits)}
    out.update({f"cold_{k}": v for k, v in proc_status().items()})
    if warm:
        queries = QUERIES[:n_queries]
        counts = []
        out["latency"] = {
            "hybrid": latency_summary(_latencies(lambda q: peer_txtai.search(emb, q), queries, passes)),
            "hybrid+filter": latency_summary(_latencies(
                lambda q: counts.append(len(peer_txtai.search(emb, q, region=FILTER_REGION))), queries, passes)),
        }
        out["latency"]["hybrid+filter"]["mean_hits"] = round(statistics.mean(counts), 1)
    out.update(proc_status())
    return out


HNSW_MAX = 200_000  # above this the benchmark does not build HNSW (8 min at 100k under load, see docs)


def w_index(n: int, passes: int, **_) -> dict:
    """Exact (flat) vs the approximate kinds (IVF, HNSW) at n vectors: build time, recall@10 against
    exact, search latency with and without a selective filter, file size and peak memory.

    This measures the index component alone (:class:`reformkb.search.vectors.VectorIndex`, the class and
    parameters ``KnowledgeBase`` uses), with the model's real query vectors of the benchmark queries
    and the stream's vectors (real where cached, else derived): building 1M-record knowledge bases
    through the facade once per kind would take hours on this machine, and the rest of the query path
    (FTS, fusion, fetching records) does not depend on the index type.
    """
    import tempfile

    import numpy as np

    from bench import synth
    from reformkb import KnowledgeBase
    from reformkb.search.vectors import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, IVF_NPROBE, VectorIndex

    texts = [r["text"] for r in synth.records(n)]
    vectors, real_n = synth.vectors_for(texts)
    del texts
    with KnowledgeBase(tempfile.mkdtemp(), empty=True, actor="bench") as kb:
        queries = np.vstack([kb.embedder.embed_query(q) for q in synth.QUERIES])
    ids = list(range(1, n + 1))
    rng = random.Random(1)
    allowed = sorted(rng.sample(ids, max(1, n // 490)))  # as selective as the one-region filter
    out = {"n": n, "real_vectors": real_n, "queries": len(queries),
           "params": {"hnsw": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH},
                      "ivf": {"nlist": "4·sqrt(n)", "nprobe": IVF_NPROBE}}}
    answers = {}
    for kind in ("flat", "ivf", "hnsw"):
        if kind == "hnsw" and n > HNSW_MAX:
            out[kind] = {"skipped": f"HNSW is not built above {HNSW_MAX:,} vectors here (its build takes too long on 2 cores)"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            index = VectorIndex(Path(tmp), "bench", vectors.shape[1], 10**12 if kind == "flat" else 0,
                                ann="ivf" if kind == "flat" else kind)
            t = time.perf_counter()
            index.rebuild(ids, vectors, 0, "bench")
            build = time.perf_counter() - t
            index.save()
            size = size_of(Path(tmp))
        answers[kind] = [[rid for rid, _ in index.search(q, 10)] for q in queries]
        plain = _latencies(lambda i, index=index: index.search(queries[i], 10), list(range(len(queries))), passes)
        filtered = _latencies(lambda i, index=index: index.search(queries[i], 10, allowed), list(range(len(queries))), passes)
        out[kind] = {"build_s": round(build, 1), "index_bytes": size, "search": latency_summary(plain),
                     "search+filter": latency_summary(filtered), **proc_status()}
        if kind != "flat":
            recall = [len(set(a) & set(f)) / 10 for a, f in zip(answers[kind], answers["flat"])]
            out[kind]["recall_at_10"] = round(statistics.mean(recall), 4)
            out[kind]["min_recall_at_10"] = round(min(recall), 2)
        del index
    return out


def w_harvest(home: str, **_) -> dict:
    """Copy the real vectors of an end-to-end ingest into the benchmark's vector cache."""
    from bench import synth
    from reformkb import KnowledgeBase

    with KnowledgeBase(home, empty=True, actor="bench") as kb:
        return {"harvested": synth.harvest(kb), "cached": None}


WORKERS = {"harvest": w_harvest, "preload": w_preload, "rk_ingest": w_rk_ingest, "rk_serve": w_rk_serve, "tx_ingest": w_tx_ingest,
           "tx_serve": w_tx_serve, "index": w_index}


# -- reports ----------------------------------------------------------------------------------------
def speed(sizes: list[int], txtai: bool, smoke: bool, out_dir: Path, echo=ECHO) -> dict:
    """Speed and size at each size, reformkb and txtai side by side (one size after the other)."""
    from bench import peer_txtai, synth

    tx_version = peer_txtai.available() if txtai else None
    if txtai and not tx_version:
        echo("txtai: not installed, skipped (pip install txtai 'torch==2.13.0')")
    result = {"report": "speed", "machine": machine(), "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
              "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "sizes": [],
              "txtai": tx_version, "e2e_max": E2E_MAX, "cached_vectors": synth.cached_count()}
    passes, n_queries = (1, 20) if smoke else (3, len(synth.QUERIES))
    for n in sizes:
        name = size_name(n)
        work = out_dir / f"work-{name}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        home = work / "kb"
        e2e = n <= E2E_MAX
        entry = {"n": n, "name": name, "e2e": e2e}
        if not e2e:
            echo(f"[{name}] putting cached/derived vectors into the vector cache …")
            entry["vectors"] = worker("preload", n=n, home=str(home))
        echo(f"[{name}] reformkb ingest …")
        entry["reformkb_ingest"] = ing = worker("rk_ingest", n=n, home=str(home), e2e=e2e, sample_max=500 if smoke else 2000)
        echo(f"[{name}]   {ing['rate']} records/s, embedding {ing['embed_share']:.0%} of the time, peak RSS {ing['peak_rss_mib']:.0f} MiB")
        if e2e and not smoke and synth.cached_count() < n:
            entry["harvested"] = worker("harvest", home=str(home))
        echo(f"[{name}] reformkb serving …")
        entry["reformkb_serve"] = srv = worker("rk_serve", home=str(home), passes=passes, n_queries=n_queries)
        entry["reformkb_cold_keyword"] = worker("rk_serve", home=str(home), passes=0, n_queries=0, mode="keyword", warm=False)
        echo(f"[{name}]   hybrid p50/p95 {srv['latency']['hybrid']['p50_ms']}/{srv['latency']['hybrid']['p95_ms']} ms, cold {srv['cold_start_s']} s")
        if tx_version and n <= TXTAI_MAX:
            path = work / "txtai"
            echo(f"[{name}] txtai ingest …")
            entry["txtai_ingest"] = worker("tx_ingest", n=n, path=str(path), external=not e2e)
            echo(f"[{name}] txtai serving …")
            entry["txtai_serve"] = worker("tx_serve", path=str(path), external=not e2e, passes=passes, n_queries=n_queries)
            entry["ratios"] = ratios(entry)
            echo(f"[{name}]   ratios (reformkb / txtai): {entry['ratios']}")
        elif tx_version:
            entry["txtai_skipped"] = f"txtai not run above {TXTAI_MAX} records (see docs/benchmarks.md)"
        result["sizes"].append(entry)
        save(result, "smoke" if smoke else "speed")  # partial results survive an interrupted run
        if not smoke:
            shutil.rmtree(work / "kb-files", ignore_errors=True)
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["loadavg_end"] = os.getloadavg()
    return result


def ratios(entry: dict) -> dict:
    rk, tx = entry["reformkb_serve"], entry["txtai_serve"]
    return {
        "ingest_rate": round(entry["reformkb_ingest"]["rate"] / entry["txtai_ingest"]["rate"], 2),
        "hybrid_p50": round(rk["latency"]["hybrid"]["p50_ms"] / tx["latency"]["hybrid"]["p50_ms"], 2),
        "hybrid_p95": round(rk["latency"]["hybrid"]["p95_ms"] / tx["latency"]["hybrid"]["p95_ms"], 2),
        "hybrid_filter_p95": round(rk["latency"]["hybrid+filter"]["p95_ms"] / tx["latency"]["hybrid+filter"]["p95_ms"], 2),
        "serve_peak_rss": round(rk["peak_rss_mib"] / tx["peak_rss_mib"], 2),
        "ingest_peak_rss": round(entry["reformkb_ingest"]["peak_rss_mib"] / entry["txtai_ingest"]["peak_rss_mib"], 2),
        "cold_start": round(rk["cold_start_s"] / tx["cold_start_s"], 2),
    }


def index_report(sizes: list[int], echo=ECHO) -> dict:
    """Flat vs IVF vs HNSW at each size (the index component; see :func:`w_index`)."""
    result = {"report": "index", "machine": machine(), "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
              "sizes": []}
    for n in sizes:
        echo(f"[{size_name(n)}] flat vs IVF vs HNSW …")
        r = worker("index", n=n, passes=3)
        for kind in ("flat", "ivf", "hnsw"):
            k = r[kind]
            echo(f"[{size_name(n)}]   {kind}: " + (k["skipped"] if "skipped" in k else
                 f"recall@10 {k.get('recall_at_10', 1)}, build {k['build_s']} s, search p50 {k['search']['p50_ms']} ms"))
        result["sizes"].append(r)
        save(result, "index")
    return result


def quality_report(txtai: bool, echo=ECHO) -> dict:
    from bench import peer_txtai, quality

    result = {"report": "quality", "machine": machine(), "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
              "eval": str(quality.DEFAULT_EVAL)}
    run_dir = OUT / "quality-runs"
    echo("quality: reformkb (bench.quality) …")
    result["reformkb"] = quality.evaluate(quality.DEFAULT_EVAL, OUT / "quality-kb-report", run_dir=run_dir)
    if txtai and peer_txtai.available():
        echo("quality: txtai …")
        result["txtai_hybrid"] = peer_txtai.quality(quality.DEFAULT_EVAL, run_dir)
    else:
        result["txtai_hybrid"] = None
    return result


def save(result: dict, name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def parse_sizes(text: str) -> list[int]:
    return [SIZES[s.strip().lower()] if s.strip().lower() in SIZES else int(s) for s in text.split(",") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="≈1k records, < 2 min; results in bench/out/results/smoke.json")
    ap.add_argument("--speed", metavar="SIZES", help="comma-separated sizes, e.g. 1k,10k,100k,1m")
    ap.add_argument("--index", metavar="SIZES", help="flat vs IVF vs HNSW at these sizes, e.g. 100k,1m")
    ap.add_argument("--quality", action="store_true", help="quality tables (reformkb modes and txtai)")
    ap.add_argument("--docs", action="store_true", help="write docs/benchmarks.md and docs/bench/*.png")
    ap.add_argument("--all", action="store_true", help="--speed 1k,10k,100k,1m --index 100k,1m --quality --docs")
    ap.add_argument("--no-txtai", action="store_true", help="leave the peer out")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.worker:
        spec = json.loads(args.worker)
        result = WORKERS[spec.pop("task")](**spec)
        print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    if args.all:
        args.speed, args.index, args.quality, args.docs = "1k,10k,100k,1m", "100k,1m", True, True
    txtai = not args.no_txtai
    if args.smoke:
        result = speed([SIZES["1k"]], txtai, smoke=True, out_dir=OUT / "smoke")
        path = save(result, "smoke")
        from bench.report import smoke_summary

        print(smoke_summary(result))
        print(f"results: {path}")
    if args.speed:
        path = save(speed(parse_sizes(args.speed), txtai, smoke=False, out_dir=OUT / "full"), "speed")
        print(f"results: {path}")
    if args.index:
        path = save(index_report(parse_sizes(args.index)), "index")
        print(f"results: {path}")
    if args.quality:
        path = save(quality_report(txtai), "quality")
        print(f"results: {path}")
    if args.docs:
        from bench.report import write_docs

        print(f"written: {write_docs(RESULTS, DOCS)}")
    if not any((args.smoke, args.speed, args.index, args.quality, args.docs)):
        ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
