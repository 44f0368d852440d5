"""Fit the relevance grades (strong / related / weak) on the calibration set, cross-validated.

    python -m bench.calibrate                 # fit, cross-validate, check on the dev set; print only
    python -m bench.calibrate --write         # ... and write src/reformkb/data/relevance.json
    python -m bench.calibrate --write --out docs/search-quality.md   # ... and the figures into the docs

The calibration set (``tests/data/search/``: 160 practice records of our own and 317 graded queries
in four files, 119 of them without answer) is loaded into a scratch knowledge base under ``bench/out/`` like the dev
set in :mod:`bench.quality`. Every query is searched in each mode (k=10); each hit's signals
(:mod:`reformkb.search.relevance`) and its grade in the set (relevant = grade ≥ 1) make one row.

Per mode a logistic model (L2-regularized, fitted by Newton steps; numpy only) gives p(relevant).
The queries without answer, as a group, weigh as much in the fit as the answerable ones (each of
their rows counts answerable / no-answer queries times, about 2): unweighted, the fit is ruled by the
answerable queries' lower-ranked hits, and the question that matters most, whether the *top* hit of
a query answers it at all, gets a third of the say. The thresholds are then chosen on the same rows:

- ``related``: the highest threshold at which the first relevant hit of at least
  :data:`ANSWERED_TARGET` of the answerable queries is not weak (so no-answer queries get as many
  weak top hits as that allows);
- ``strong``: the lowest threshold at which at least :data:`STRONG_PRECISION` of the hits above it
  directly answer (grade 2).

The figures reported are k-fold over queries (:data:`FOLDS` folds stratified by kind: model and
thresholds fitted on the other folds, measured on the held-out one), then the fitted model on the
dev set (``../shared/eval``, measurement only), whose queries all have an answer, together with
:data:`DEV_NOANSWER`: queries with no answer in the dev set's corpus, written blind and measured only.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from datetime import date
from pathlib import Path

import numpy as np

from bench.quality import DEFAULT_EVAL, ROOT, memoized_query_embeddings, open_eval_kb, read_jsonl, write_report
from reformkb.search.embedding import model_key
from reformkb.search.relevance import HEAD, Model, is_latin

CALIBRATION = ROOT / "tests" / "data" / "search"
QUERY_FILES = ("queries.jsonl", "queries-more.jsonl", "queries-extra.jsonl", "queries-blind.jsonl")
FIRST_FILE_QIDS: set[str] = set()  # the qids of QUERY_FILES[0] (its rows are also cross-validated alone)
LAST_FILE_QIDS: set[str] = set()  # the qids of QUERY_FILES[-1], written last (also measured on a fit without them)
HOME = ROOT / "bench" / "out" / "calibration-kb"
DEV_HOME = ROOT / "bench" / "out" / "quality-kb"
OUT = ROOT / "src" / "reformkb" / "data" / "relevance.json"
# Queries with no answer in the dev set's corpus, written blind for measurement only (never fitted on):
# the dev set's own queries all have an answer (bench/data/README.md).
DEV_NOANSWER = ROOT / "bench" / "data" / "dev-noanswer.jsonl"
DEV_LABEL = "dev set + bench/data/dev-noanswer.jsonl (measured, not fitted)"
K = HEAD
FOLDS = 5
ANSWERED_TARGET = 0.96  # margin over the 95 % target: the smallest whose 5-fold CV rate reaches 95 % in every mode (0.95 gives 93.9 % in hybrid over the 317 queries)
STRONG_PRECISION = 0.85
L2 = 1.0
FEATURES = {
    "hybrid": ("latin", "cosine", "cosine_best", "cosine_gap", "coverage", "coverage_best"),
    "semantic": ("latin", "cosine", "cosine_best", "cosine_gap", "coverage", "coverage_best"),
    "keyword": ("coverage", "coverage_best", "lexical", "rank"),
}

MARKS = ("<!-- bench.calibrate:begin -->", "<!-- bench.calibrate:end -->")

log = logging.getLogger("bench.calibrate")


def collect(kb, queries: list[dict], mode: str) -> list[dict]:
    """One entry per query: its kind, and per hit (signals, grade in the set)."""
    out = []
    for q in queries:
        hits = kb.search(q["query"], k=K, mode=mode)
        out.append({"qid": q["qid"], "kind": q["kind"], "answerable": bool(q["relevant"]),
                    "hits": [(h.signals, int(q["relevant"].get(h.record.ref, 0))) for h in hits],
                    "ids": [h.record.id for h in hits], "refs": [h.record.ref for h in hits]})
    return out


def _matrix(entries: list[dict], features) -> tuple[np.ndarray, np.ndarray]:
    rows = [[sig[f] for f in features] for e in entries for sig, _ in e["hits"]]
    grades = [g for e in entries for _, g in e["hits"]]
    return np.array(rows, dtype=float).reshape(-1, len(features)), np.array(grades)


def balance(entries: list[dict]) -> np.ndarray:
    """One weight per row of :func:`_matrix`: rows of queries without answer count
    answerable / no-answer queries times, so that both groups weigh the same in the fit."""
    n_ans = sum(e["answerable"] for e in entries)
    n_noans = len(entries) - n_ans
    w_noans = n_ans / n_noans if n_ans and n_noans else 1.0
    return np.array([1.0 if e["answerable"] else w_noans for e in entries for _ in e["hits"]])


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50, weight: np.ndarray | None = None):
    """Standardized L2-regularized logistic regression by Newton's method, rows weighted by ``weight``
    (default 1): (mean, scale, coef, intercept)."""
    weight = np.ones(len(y)) if weight is None else weight
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.eye(z.shape[1]) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w)))
        grad = z.T @ (weight * (p - y)) + reg @ w
        hess = (z * (weight * p * (1 - p))[:, None]).T @ z + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


def _latin(entry: dict) -> bool:
    return bool(entry["hits"]) and is_latin(entry["hits"][0][0])


def _probabilities(model: Model, entries: list[dict]) -> list[list[tuple[float, int]]]:
    return [[(model.probability(sig), g) for sig, g in e["hits"]] for e in entries]


def _first_relevant(hits: list[tuple[float, int]]) -> float | None:
    return next((p for p, g in hits if g >= 1), None)


def targets(model: Model, entries: list[dict]) -> dict:
    """The calibration targets for ``model`` on ``entries`` (counts and rates)."""
    noans = answered = n_noans = n_ans = missed = 0
    strong_hits = strong_right = 0
    for e, probs in zip(entries, _probabilities(model, entries)):
        latin = _latin(e)
        for p, g in probs:
            if model.grade(p, latin) == "strong":
                strong_hits += 1
                strong_right += g >= 1
        if not e["answerable"]:
            n_noans += 1
            noans += not probs or model.grade(probs[0][0], latin) == "weak"
            continue
        n_ans += 1
        first = _first_relevant(probs)
        if first is None:
            missed += 1  # no relevant record in the first K: nothing to grade
            continue
        answered += model.grade(first, latin) != "weak"
    found = n_ans - missed
    return {"noanswer_weak": noans / n_noans if n_noans else None, "n_noanswer": n_noans,
            "answered_not_weak": answered / found if found else None, "n_answered": found,
            "strong_precision": strong_right / strong_hits if strong_hits else None, "n_strong": strong_hits}


def _related(model: Model, entries: list[dict]) -> float:
    """The highest threshold that keeps ANSWERED_TARGET of the first relevant hits at or above it."""
    firsts = sorted(p for e, ps in zip(entries, _probabilities(model, entries)) if e["answerable"]
                    for p in [_first_relevant(ps)] if p is not None)
    if not firsts:
        return 0.5
    return float(firsts[int(np.floor((1 - ANSWERED_TARGET) * len(firsts)))])


def choose_thresholds(model: Model, entries: list[dict]) -> Model:
    """The ``related`` thresholds (queries in Chinese, queries in Latin letters) and the ``strong`` one
    for ``model`` on these entries (see the module docstring)."""
    related = _related(model, [e for e in entries if not _latin(e)])
    latin = [e for e in entries if _latin(e)]
    related_latin = _related(model, latin) if latin else None
    pairs = sorted(((p, g) for e, ps in zip(entries, _probabilities(model, entries)) if not _latin(e)
                    for p, g in ps), reverse=True)
    strong, right = 1.0, 0
    for n, (p, g) in enumerate(pairs, 1):
        right += g >= 2
        if p < related:
            break
        if right / n >= STRONG_PRECISION:
            strong = p
    strong = max(strong, related, related_latin or 0.0)
    return Model(model.features, model.mean, model.scale, model.coef, model.intercept, related, float(strong),
                 related_latin)


def fit(entries: list[dict], features) -> Model:
    x, grades = _matrix(entries, features)
    mean, scale, coef, intercept = fit_logistic(x, (grades >= 1).astype(float), weight=balance(entries))
    model = Model(tuple(features), tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, coef)),
                  intercept, 0.5, 0.5)
    return choose_thresholds(model, entries)


def folds(entries: list[dict], n: int = FOLDS, seed: int = 1) -> list[list[int]]:
    """Query indexes in ``n`` folds, stratified by kind."""
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        by_kind.setdefault(e["kind"], []).append(i)
    out: list[list[int]] = [[] for _ in range(n)]
    j = 0
    for kind in sorted(by_kind):
        group = by_kind[kind][:]
        rng.shuffle(group)
        for i in group:
            out[j % n].append(i)
            j += 1
    return out


SUBSETS = {"all": lambda e: True, "Chinese": lambda e: not _latin(e), "Latin": _latin}


def cross_validate(entries: list[dict], features, seeds=(1, 2, 3)) -> dict:
    """subset → target → (rate, n per seed) on held-out folds (model and thresholds fitted on the
    other folds), pooled over folds and seeds."""
    pooled = {sub: {"noanswer": [0.0, 0], "answered": [0.0, 0], "strong": [0.0, 0]} for sub in SUBSETS}
    for seed in seeds:
        for fold in folds(entries, seed=seed):
            held = set(fold)
            model = fit([e for i, e in enumerate(entries) if i not in held], features)
            for sub, keep in SUBSETS.items():
                t = targets(model, [entries[i] for i in fold if keep(entries[i])])
                for key, rate, n in (("noanswer", "noanswer_weak", "n_noanswer"),
                                     ("answered", "answered_not_weak", "n_answered"),
                                     ("strong", "strong_precision", "n_strong")):
                    if t[rate] is not None:
                        pooled[sub][key][0] += t[rate] * t[n]
                        pooled[sub][key][1] += t[n]
    return {sub: {key: (hit / n if n else None, n // len(seeds)) for key, (hit, n) in d.items()}
            for sub, d in pooled.items()}


def report(data: dict, dev_data: dict, fitted: dict) -> str:
    """The markdown table of the calibration targets (docs/search-quality.md)."""
    lines = ["| mode | queries | check | no-answer: top hit weak | answerable: first relevant hit not weak | "
             "strong hits that are relevant |", "|---|---|---|---:|---:|---:|"]
    for mode, model in fitted.items():
        cv = cross_validate(data[mode], FEATURES[mode])
        for sub in SUBSETS:
            c = cv[sub]
            lines.append(f"| {mode} | {sub} | calibration set, {FOLDS}-fold CV over queries (3 seeds) | "
                         f"{_pct(c['noanswer'][0])} (n={c['noanswer'][1]}) | {_pct(c['answered'][0])} "
                         f"(n={c['answered'][1]}) | {_pct(c['strong'][0])} |")
        first = [e for e in data[mode] if e["qid"] in FIRST_FILE_QIDS]
        if first and len(first) < len(data[mode]):
            c = cross_validate(first, FEATURES[mode])["Chinese"]
            lines.append(f"| {mode} | Chinese, {QUERY_FILES[0]} only | calibration set, {FOLDS}-fold CV over queries "
                         f"(3 seeds) | {_pct(c['noanswer'][0])} (n={c['noanswer'][1]}) | {_pct(c['answered'][0])} "
                         f"(n={c['answered'][1]}) | {_pct(c['strong'][0])} |")
        later = [e for e in data[mode] if e["qid"] in LAST_FILE_QIDS]
        if later and len(later) < len(data[mode]):
            t = targets(fit([e for e in data[mode] if e["qid"] not in LAST_FILE_QIDS], FEATURES[mode]), later)
            lines.append(f"| {mode} | all, {QUERY_FILES[-1]} only | calibration set, fitted on the other files | "
                         f"{_pct(t['noanswer_weak'])} (n={t['n_noanswer']}) | {_pct(t['answered_not_weak'])} "
                         f"(n={t['n_answered']}) | {_pct(t['strong_precision'])} |")
        full = targets(model, data[mode])
        lines.append(f"| {mode} | all | calibration set, fitted on all of it | {_pct(full['noanswer_weak'])} | "
                     f"{_pct(full['answered_not_weak'])} | {_pct(full['strong_precision'])} |")
        if dev_data:
            for sub in ("all", "Chinese"):
                t = targets(model, [e for e in dev_data[mode] if SUBSETS[sub](e)])
                noans = f"{_pct(t['noanswer_weak'])} (n={t['n_noanswer']})" if t["n_noanswer"] else "–"
                lines.append(f"| {mode} | {sub} | {DEV_LABEL} | {noans} | "
                             f"{_pct(t['answered_not_weak'])} (n={t['n_answered']}) | {_pct(t['strong_precision'])} |")
    return "\n".join(lines)


def ranking_table(eval_dir: Path, data: dict, queries: list[dict]) -> str:
    """nDCG@10 per mode and kind on the calibration set's answerable queries (scored by the dev set's
    score.py): a second, untuned check of ranking quality over another corpus."""
    from bench.quality import score

    answerable = [q for q in queries if q["relevant"]]
    results = {mode: score(eval_dir, [{"qid": e["qid"], "ranked": e["refs"]} for e in entries], answerable)
               for mode, entries in data.items()}
    kinds = list(next(iter(results.values())))
    lines = ["| mode | " + " | ".join(f"{'all' if k == 'ALL' else k} (n={results[next(iter(results))][k]['n']})"
                                     for k in kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for mode, res in results.items():
        lines.append(f"| {mode} | " + " | ".join(f"{res[k]['ndcg']:.3f}" for k in kinds) + " |")
    return "\n".join(lines)


def _pct(rate) -> str:
    return "–" if rate is None else f"{100 * rate:.1f} %"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write the fitted models to {OUT.relative_to(ROOT)}")
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="dev set folder for the second check")
    ap.add_argument("--modes", nargs="+", choices=list(FEATURES), default=list(FEATURES))
    ap.add_argument("--out", type=Path, help="markdown file to write the table and thresholds into (between markers)")
    ap.add_argument("--dump", type=Path, help="also write every hit's signals and grade to this JSON file")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    queries = [q for name in QUERY_FILES for q in read_jsonl(CALIBRATION / name)]
    FIRST_FILE_QIDS.update(q["qid"] for q in read_jsonl(CALIBRATION / QUERY_FILES[0]))
    LAST_FILE_QIDS.update(q["qid"] for q in read_jsonl(CALIBRATION / QUERY_FILES[-1]))
    dev = read_jsonl(args.eval / "queries-dev.jsonl") if (args.eval / "queries-dev.jsonl").exists() else []
    if dev and DEV_NOANSWER.exists():
        dev += read_jsonl(DEV_NOANSWER)
    data, dev_data = {}, {}
    with open_eval_kb(CALIBRATION, HOME) as kb, memoized_query_embeddings(kb):
        embedding_model = model_key(kb.settings.model)
        for mode in args.modes:
            data[mode] = collect(kb, queries, mode)
    if dev:
        with open_eval_kb(args.eval, DEV_HOME) as kb, memoized_query_embeddings(kb):
            for mode in args.modes:
                dev_data[mode] = collect(kb, dev, mode)
    if args.dump:
        args.dump.write_text(json.dumps({"calibration": data, "dev": dev_data}, ensure_ascii=False), encoding="utf-8")
    fitted = {mode: fit(data[mode], FEATURES[mode]) for mode in args.modes}
    flags = (" --eval ../shared/eval" if args.eval != DEFAULT_EVAL else "") + (" --write" if args.write else "")
    out = args.out.resolve() if args.out else None
    flags += f" --out {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}" if out else ""
    body = [f"Produced by `python -m bench.calibrate{flags}` on {date.today().isoformat()} "
            f"({len(queries)} calibration queries, {sum(not q['relevant'] for q in queries)} without answer; "
            f"{sum(bool(q['relevant']) for q in dev)} dev queries and {sum(not q['relevant'] for q in dev)} "
            f"without answer over the dev corpus; k={K}).", "", report(data, dev_data, fitted), "",
            "| mode | related ≥ | related ≥ (Latin-letter queries) | strong ≥ | coefficients (standardized signals) |",
            "|---|---:|---:|---:|---|"]
    for mode, m in fitted.items():
        body.append(f"| {mode} | {m.related:.3f} | {m.related_latin or 0:.3f} | {m.strong:.3f} | "
                    + ", ".join(f"{f} {c:+.2f}" for f, c in zip(m.features, m.coef)) + " |")
    if (args.eval / "score.py").exists():
        body += ["", "Ranking on the calibration set (nDCG@10 of its answerable queries; nothing was tuned on it):", "",
                 ranking_table(args.eval, data, queries)]
    text = "\n".join(body)
    print(text)
    if args.out:
        write_report(args.out, text, MARKS)
    if args.write:
        OUT.write_text(json.dumps({
            "about": "Relevance grades fitted by `python -m bench.calibrate --write` on tests/data/search "
                     "(see docs/search-quality.md). p = logistic(intercept + Σ coef × (signal − mean) / scale).",
            "embedding_model": embedding_model,
            "models": {mode: m.to_dict() for mode, m in fitted.items()}}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
