"""txtai as the peer: the same model directory, the same records, its hybrid mode with its defaults.

Configuration (everything else is txtai's default)::

    {"path": <models/multilingual-e5-small-reformkb>, "instructions": {"query": "query: ", "data": "passage: "},
     "content": True, "hybrid": True}

The model is the one reformkb uses by default (multilingual-e5-small with the project's domain adapter
merged in, :data:`reformkb.search.e5convert.DEFAULT_MODEL_NAME`), as reformkb converted it into ``models/``.

``instructions`` gives txtai the model's e5 prompts, as reformkb uses them; ``content`` stores the
fields so a filter can be written in txtai's SQL; ``hybrid`` is its BM25 + dense fusion.

For sizes whose vectors come from the benchmark's cache (see :mod:`bench.synth`), txtai is given the
same vectors through its documented ``method: external`` with a ``transform`` function: document
texts get :func:`bench.synth.vectors_for` (real from the cache, or derived from the text), query texts are embedded by the same model
(sentence-transformers, with the query prompt). Its index and BM25 are built as usual.

Used by :mod:`bench.run` (in worker processes) and for the quality table::

    python -m bench.peer_txtai --quality      # the txtai row of the quality table
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from reformkb.search.e5convert import DEFAULT_MODEL_NAME

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "models" / DEFAULT_MODEL_NAME
INSTRUCTIONS = {"query": "query: ", "data": "passage: "}


def available() -> str | None:
    """txtai's version, or None when it is not installed."""
    try:
        from importlib.metadata import version

        import txtai  # noqa: F401

        return version("txtai")
    except ImportError:
        return None


def config(external: bool = False) -> dict:
    cfg = {"path": str(MODEL_DIR), "instructions": INSTRUCTIONS, "content": True, "hybrid": True}
    if external:
        cfg.update(method="external", transform=cached_transform)
    return cfg


_QUERY_MODEL = []
_LOOKUP: dict = {}  # text → vector row, prepared before a timed ingest (see ingest())


def cached_transform(texts):
    """txtai ``transform`` (a plain function, as txtai requires): document vectors from
    :func:`bench.synth.vectors_for`, query vectors from the model with the query prompt."""
    import numpy as np

    from bench.synth import vectors_for

    docs = [t[len(INSTRUCTIONS["data"]):] for t in texts if t.startswith(INSTRUCTIONS["data"])]
    if len(docs) == len(texts):
        if _LOOKUP and all(d in _LOOKUP["rows"] for d in docs):
            return _LOOKUP["vectors"][[_LOOKUP["rows"][d] for d in docs]]
        return vectors_for(docs)[0]
    if not _QUERY_MODEL:
        from sentence_transformers import SentenceTransformer

        _QUERY_MODEL.append(SentenceTransformer(str(MODEL_DIR), device="cpu"))
    return np.asarray(_QUERY_MODEL[0].encode(list(texts), normalize_embeddings=True, batch_size=32), dtype=np.float32)


def documents(rows: list[dict]):
    """txtai (id, data, tags) rows: the record text plus the fields a filter uses."""
    for i, row in enumerate(rows):
        yield i, {"text": row["text"], "region": row.get("region", ""), "province": row.get("province", "")}, None


def search(embeddings, query: str, k: int = 10, region: str | None = None) -> list:
    if region is None:
        return embeddings.search(query, k)
    return embeddings.search(
        "select id, text, score from txtai where similar(:q) and region = :r", k, parameters={"q": query, "r": region})


# -- quality --------------------------------------------------------------------------------------
def quality(eval_dir: Path, run_dir: Path | None = None) -> dict:
    """kind → metrics of txtai's hybrid search on the dev queries, scored by the eval's score.py."""
    from txtai import Embeddings

    from bench.quality import _region, read_jsonl, score

    corpus = read_jsonl(eval_dir / "corpus.jsonl")
    queries = read_jsonl(eval_dir / "queries-dev.jsonl")
    emb = Embeddings(config())
    # The same text reformkb embeds for a record: place, title, then the text.
    emb.index((row["id"], {"text": f"{_region(row)}：{row.get('title', '')}。{row['text']}"}, None) for row in corpus)
    run = [{"qid": q["qid"], "ranked": [h["id"] for h in emb.search(q["query"], 10)]} for q in queries]
    if run_dir:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "run-txtai-hybrid.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in run), encoding="utf-8")
    return score(eval_dir, run)


# -- speed and size (called in a fresh worker process by bench.run) -------------------------------
def ingest(rows: list[dict], path: Path, external: bool) -> dict:
    """Index the rows and save the index to ``path``; timings in seconds."""
    from txtai import Embeddings

    if external:  # the vectors, looked up in memory while timed (as reformkb reads its vector cache)
        from bench.synth import vectors_for

        texts = [r["text"] for r in rows]
        _LOOKUP.update(rows={t: i for i, t in enumerate(texts)}, vectors=vectors_for(texts)[0])
    t0 = time.perf_counter()
    emb = Embeddings(config(external))  # loads the model (not counted as ingest, as for reformkb)
    t_cfg = time.perf_counter()
    emb.index(documents(rows))
    t_index = time.perf_counter()
    if path.exists():
        shutil.rmtree(path)
    emb.save(str(path))
    t_save = time.perf_counter()
    return {"seconds": t_save - t_cfg, "model_seconds": t_cfg - t0, "index_seconds": t_index - t_cfg, "save_seconds": t_save - t_index,
            "count": emb.count()}


def load(path: Path, external: bool):
    from txtai import Embeddings

    emb = Embeddings()
    emb.load(str(path), config={"transform": cached_transform} if external else None)
    return emb


def main(argv: list[str] | None = None) -> None:
    from bench.quality import DEFAULT_EVAL

    ap = argparse.ArgumentParser(description="txtai, the peer.")
    ap.add_argument("--quality", action="store_true", help="txtai's quality table on the dev set")
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    args = ap.parse_args(argv)
    if args.quality:
        if not available():
            raise SystemExit("txtai is not installed: pip install txtai 'torch==2.13.0'")
        print(json.dumps(quality(args.eval), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
