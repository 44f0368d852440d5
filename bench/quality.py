"""Search quality on the retrieval dev set: nDCG@10, Recall@10, MRR@10 and hit@1 per mode and query kind.

    python -m bench.quality                                  # all three modes, table to stdout
    python -m bench.quality --out docs/search-quality.md     # ... and into the docs
    python -m bench.quality --modes hybrid --split-check     # + tune-on-one-half / check-on-the-other

The eval set (``corpus.jsonl``, ``queries-dev.jsonl``, ``score.py``; default ``../shared/eval``
relative to the repository) is loaded into a knowledge base in a scratch home under ``bench/out/``
(git-ignored), never into the project's knowledge base: its records are for measurement only and must
not be shipped. Each record keeps the corpus id in ``ref``, so a hit maps back to it. Vectors are
cached in that home by content hash, so a second run embeds nothing. Run files are scored by the eval
set's own ``score.py``.

Everything goes through :class:`reformkb.KnowledgeBase`, as the CLI and the app do.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np

from reformkb.errors import InputError
from reformkb.ingest.regions import gazetteer, normalize
from reformkb.ingest.topics import normalize_topic
from reformkb.kb import KnowledgeBase
from reformkb.search import fusion as search_module

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"
DEFAULT_HOME = ROOT / "bench" / "out" / "quality-kb"
MODES = ("hybrid", "keyword", "semantic")
METRICS = (("ndcg", "nDCG@10"), ("recall", "Recall@10"), ("mrr", "MRR@10"), ("hit1", "hit@1"))
K = 10

log = logging.getLogger("bench.quality")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _topics(names: list[str]) -> list[str]:
    """The corpus's topic labels that the taxonomy knows (others are left to the KB to derive)."""
    out = []
    for name in names:
        try:
            out.append(normalize_topic(name))
        except InputError:
            continue
    return list(dict.fromkeys(out))


def _region(row: dict) -> str:
    """The corpus region if the gazetteer knows it, else the place it starts with, else its province
    (a few corpus regions are development zones, e.g. 深圳市前海 → 深圳市)."""
    try:
        return normalize(row["region"]).name
    except InputError:
        leading = gazetteer().find_leading(row["region"])
        return leading[0].name if leading else row["province"]


def open_eval_kb(eval_dir: Path, home: Path) -> KnowledgeBase:
    """A knowledge base holding exactly the eval corpus (built on first use, reused afterwards)."""
    corpus = read_jsonl(eval_dir / "corpus.jsonl")
    kb = KnowledgeBase(home, empty=True, actor="bench")
    refs = {r.ref for r in kb.records()}
    if refs != {row["id"] for row in corpus}:
        if refs:  # a stale scratch home (other corpus version): start again
            kb.close()
            for p in sorted(Path(home).rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
            kb = KnowledgeBase(home, empty=True, actor="bench")
        records = []
        for row in corpus:
            data = {"text": row["text"], "region": _region(row), "region_raw": row["region"],
                    "title": row.get("title", ""), "topics": _topics(row.get("topics", [])), "ref": row["id"]}
            records.append(kb.prepare(data))
        report = kb.store_records(records)
        if report.refused or len(report.added) != len(corpus):
            raise SystemExit(f"eval corpus not loaded cleanly: {report.summary()} {report.refused[:3]}")
    return kb


def run_queries(kb: KnowledgeBase, queries: list[dict], mode: str, k: int = K) -> list[dict]:
    """One run row per query: ``{"qid", "ranked": [corpus ids, best first]}``."""
    rows = []
    for q in queries:
        hits = kb.search(q["query"], k=k, mode=mode)
        rows.append({"qid": q["qid"], "ranked": [h.record.ref for h in hits]})
    return rows


def score(eval_dir: Path, run: list[dict], queries: list[dict] | None = None) -> dict:
    """The eval's own score.py on a run (optionally on a subset of the queries): kind → metrics."""
    with tempfile.TemporaryDirectory() as tmp:
        run_path, out_path = Path(tmp) / "run.jsonl", Path(tmp) / "scores.json"
        run_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run), encoding="utf-8")
        cmd = [sys.executable, str(eval_dir / "score.py"), str(run_path), "--json", str(out_path)]
        if queries is not None:
            qpath = Path(tmp) / "queries.jsonl"
            qpath.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries), encoding="utf-8")
            cmd += ["--queries", str(qpath)]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(out_path.read_text(encoding="utf-8"))["metrics"]


def evaluate(eval_dir: Path, home: Path, modes=MODES, run_dir: Path | None = None) -> dict[str, dict]:
    """mode → kind → metrics on the dev queries (run files kept in ``run_dir`` if given).

    A query text is embedded once per run even when several modes need its vector (same vector)."""
    queries = read_jsonl(eval_dir / "queries-dev.jsonl")
    results = {}
    with open_eval_kb(eval_dir, home) as kb, memoized_query_embeddings(kb):
        for mode in modes:
            run = run_queries(kb, queries, mode)
            if run_dir:
                run_dir.mkdir(parents=True, exist_ok=True)
                (run_dir / f"run-{mode}.jsonl").write_text(
                    "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run), encoding="utf-8")
            results[mode] = score(eval_dir, run)
    return results


# -- half-split robustness check ---------------------------------------------------------------------
# The knobs of reformkb.search.fusion that the check re-tunes, and the values it tries around the defaults.
SPLIT_GRID = {
    "LEXICAL_WEIGHT": (0.6, 0.8, 1.0, 1.3, 1.6),
    "FEEDBACK_DOCS": (2, 3, 5),
    "FEEDBACK_WEIGHT": (0.0, 0.3, 0.5, 0.8),
}


def knobs(**values):
    """Temporarily set fusion knobs of :mod:`reformkb.search.fusion` (for the split check only)."""
    return _patched(search_module, **values)


@contextmanager
def memoized_query_embeddings(kb: KnowledgeBase):
    """Within the block, remember query vectors (the same text always gives the same vector)."""
    embedder = kb.embedder
    cache: dict[str, object] = {}
    embed = embedder.embed_queries

    def cached(texts: list[str]):
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embed(missing)))
        return np.vstack([cache[t] for t in texts])

    embedder.embed_queries = cached
    try:
        yield
    finally:
        del embedder.embed_queries  # back to the class's method


def _grid(grid: dict) -> list[dict]:
    combos = [{}]
    for name, values in grid.items():
        combos = [{**c, name: v} for c in combos for v in values]
    return combos


def split_check(eval_dir: Path, home: Path, seeds=(1, 2, 3), grid: dict | None = None) -> list[dict]:
    """Tune the knobs on one half of the queries (stratified by kind), report on the other half.

    For each seed and each half: the best grid point on the tuning half, its nDCG@10 there, and on the
    held-out half the nDCG@10 of (a) that point, (b) the shipped defaults, (c) keyword and semantic.
    A mechanism that generalizes shows (a) ≈ (b) on the held-out half, and both above (c).
    """
    grid = grid or SPLIT_GRID
    queries = read_jsonl(eval_dir / "queries-dev.jsonl")
    out = []
    with open_eval_kb(eval_dir, home) as kb, memoized_query_embeddings(kb):
        base = {m: run_queries(kb, queries, m) for m in ("keyword", "semantic")}
        runs = []
        for combo in _grid(grid):
            with knobs(**combo):
                runs.append((combo, run_queries(kb, queries, "hybrid")))
        default_run = run_queries(kb, queries, "hybrid")
    for seed in seeds:
        rng = random.Random(seed)
        by_kind: dict[str, list[dict]] = {}
        for q in queries:
            by_kind.setdefault(q["kind"], []).append(q)
        half_a, half_b = [], []
        for kind in sorted(by_kind):
            group = by_kind[kind][:]
            rng.shuffle(group)
            half_a += group[::2]
            half_b += group[1::2]
        for name, tune, held in (("A→B", half_a, half_b), ("B→A", half_b, half_a)):
            tuned = [(score(eval_dir, run, tune)["ALL"]["ndcg"], i) for i, (_, run) in enumerate(runs)]
            best_score, best_i = max(tuned, key=lambda t: (round(t[0], 6), -t[1]))
            combo, run = runs[best_i]
            out.append({
                "seed": seed, "split": name, "tuned": combo, "tune_ndcg": best_score,
                "held_tuned": score(eval_dir, run, held)["ALL"]["ndcg"],
                "held_default": score(eval_dir, default_run, held)["ALL"]["ndcg"],
                "held_keyword": score(eval_dir, base["keyword"], held)["ALL"]["ndcg"],
                "held_semantic": score(eval_dir, base["semantic"], held)["ALL"]["ndcg"],
            })
    return out


# -- ablation: the hybrid ranking with one mechanism taken out ---------------------------------------
@contextmanager
def _patched(obj, **values):
    old = {name: getattr(obj, name) for name in values}
    for name, value in values.items():
        setattr(obj, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(obj, name, value)


def _ablations(kb: KnowledgeBase) -> dict:
    """name → a context manager that takes one mechanism of :func:`reformkb.search.fusion.rank` out."""
    from reformkb.search import homophones
    from reformkb.search.glossary import Glossary

    return {
        "without the glossary": lambda: _patched(kb.searcher, glossary=Glossary([])),
        "without lexical confidence (fixed lexical weight)": lambda: _patched(
            search_module, lexical_confidence=lambda q, text: 1.0 if text else 0.0),
        "without the expanded query vector": lambda: _patched(
            search_module, query_vector=lambda q, backend, own=None: backend.embed_queries([q.text])[0]),
        "without pseudo-relevance feedback": lambda: knobs(FEEDBACK_WEIGHT=0.0),
        "without the region boost": lambda: knobs(REGION_BOOST=0.0),
        "without homophone correction": lambda: _patched(homophones, MAX_CHARS=0),
    }


def rrf(runs: list[list[dict]], k: int = 60) -> list[dict]:
    """Plain reciprocal-rank fusion of run files (the reference the issue compares against)."""
    out = []
    for rows in zip(*runs):
        scores: dict[str, float] = {}
        for row in rows:
            for rank, doc in enumerate(row["ranked"]):
                scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank + 1)
        out.append({"qid": rows[0]["qid"], "ranked": sorted(scores, key=lambda d: -scores[d])})
    return out


def ablation(eval_dir: Path, home: Path) -> dict[str, dict]:
    """variant → kind → metrics: the shipped hybrid, each mechanism taken out, and plain RRF."""
    queries = read_jsonl(eval_dir / "queries-dev.jsonl")
    results = {}
    with open_eval_kb(eval_dir, home) as kb, memoized_query_embeddings(kb):
        results["hybrid (shipped)"] = score(eval_dir, run_queries(kb, queries, "hybrid"))
        for name, patch in _ablations(kb).items():
            with patch():
                results[name] = score(eval_dir, run_queries(kb, queries, "hybrid"))
        deep = [run_queries(kb, queries, mode, k=100) for mode in ("keyword", "semantic")]
        results["plain RRF of keyword and semantic (k=60)"] = score(eval_dir, rrf(deep))
    return results


def ablation_table(results: dict[str, dict]) -> str:
    kinds = list(next(iter(results.values())))
    head = "| variant | " + " | ".join(f"{'all' if k == 'ALL' else k} (n={results[next(iter(results))][k]['n']})"
                                      for k in kinds) + " |"
    lines = [head, "|---|" + "---:|" * len(kinds)]
    for name, res in results.items():
        lines.append(f"| {name} | " + " | ".join(f"{res[k]['ndcg']:.3f}" for k in kinds) + " |")
    return "\n".join(lines)


# -- report ------------------------------------------------------------------------------------------
def table(results: dict[str, dict]) -> str:
    """A markdown table: one row per query kind and mode, best mode per kind in bold."""
    kinds = list(next(iter(results.values())))
    lines = ["| kind | n | mode | " + " | ".join(label for _, label in METRICS) + " |",
             "|---|---:|---|" + "---:|" * len(METRICS)]
    for kind in kinds:
        best = max(results, key=lambda m: results[m][kind]["ndcg"])
        for mode, res in results.items():
            row = res[kind]
            cells = [f"{row[key]:.3f}" for key, _ in METRICS]
            if mode == best and len(results) > 1:
                cells[0] = f"**{cells[0]}**"
            lines.append(f"| {'all' if kind == 'ALL' else kind} | {row['n']} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def split_table(rows: list[dict]) -> str:
    lines = ["| seed | tune → check | knobs chosen on the tuning half | nDCG@10 tuning half | held-out: tuned | "
             "held-out: defaults | held-out: keyword | held-out: semantic |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        knob_text = ", ".join(f"{k}={v}" for k, v in r["tuned"].items())
        lines.append(f"| {r['seed']} | {r['split']} | {knob_text} | {r['tune_ndcg']:.3f} | {r['held_tuned']:.3f} | "
                     f"{r['held_default']:.3f} | {r['held_keyword']:.3f} | {r['held_semantic']:.3f} |")
    mean = lambda key: sum(r[key] for r in rows) / len(rows)  # noqa: E731
    lines.append(f"| mean | | | {mean('tune_ndcg'):.3f} | {mean('held_tuned'):.3f} | {mean('held_default'):.3f} | "
                 f"{mean('held_keyword'):.3f} | {mean('held_semantic'):.3f} |")
    return "\n".join(lines)


MARK_BEGIN, MARK_END = "<!-- bench.quality:begin -->", "<!-- bench.quality:end -->"


def write_report(path: Path, body: str, marks: tuple[str, str] = (MARK_BEGIN, MARK_END)) -> None:
    """Put ``body`` between the markers in ``path`` (the rest of the page is hand-written), or create it."""
    begin, end = marks
    block = f"{begin}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = (text.rstrip() + "\n\n" if text else "# Search quality\n\n") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="eval set folder (default ../shared/eval)")
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--out", type=Path, help="markdown file to write the tables into (between markers)")
    ap.add_argument("--home", type=Path, default=DEFAULT_HOME,
                    help="scratch knowledge base (default bench/out/quality-kb)")
    ap.add_argument("--split-check", action="store_true",
                    help="also tune on half the queries and check on the other half")
    ap.add_argument("--ablation", action="store_true", help="also score the hybrid with each mechanism taken out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not (args.eval / "corpus.jsonl").exists():
        print(f"eval set not found in {args.eval} (use --eval)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = evaluate(args.eval, args.home, args.modes, run_dir=args.home.parent / "runs")
    command = "python -m bench.quality"
    command += f" --modes {' '.join(args.modes)}" if list(args.modes) != list(MODES) else ""
    command += (f" --out {args.out}" if args.out else "") + (" --split-check" if args.split_check else "")
    command += " --ablation" if args.ablation else ""
    body = [f"Produced by `{command}` on {date.today().isoformat()} "
            f"({sum(1 for _ in open(args.eval / 'queries-dev.jsonl', encoding='utf-8') if _.strip())} dev queries, "
            f"k={K}; Recall/MRR/hit@1 count grade ≥ 1).", "", table(results)]
    if args.ablation:
        body += ["", "Ablation (nDCG@10 per kind; each row takes one mechanism out of the shipped hybrid):", "",
                 ablation_table(ablation(args.eval, args.home))]
    if args.split_check:
        body += ["", "Half-split check (stratified by kind; knobs re-tuned on one half, scored on the other):", "",
                 split_table(split_check(args.eval, args.home))]
    text = "\n".join(body)
    print(text)
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.out:
        write_report(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
