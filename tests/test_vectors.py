"""The vector index on its own: every kind answers like exact search, never returns a retired vector,
fills a filtered page, and survives a save and load."""
from __future__ import annotations

import numpy as np
import pytest

from reformkb.search.vectors import VectorIndex

DIM = 32


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(40, DIM))
    vectors = unit(centers[rng.integers(0, 40, 4000)] + 0.3 * rng.normal(size=(4000, DIM)))
    queries = unit(vectors[:50] + 0.05 * rng.normal(size=(50, DIM)))
    return list(range(1, 4001)), vectors, queries


def build(tmp_path, data, kind: str) -> VectorIndex:
    ids, vectors, _ = data
    exact_max = 10**9 if kind == "flat" else 100
    index = VectorIndex(tmp_path, f"model-{kind}", DIM, exact_max, ann=kind if kind != "flat" else "ivf")
    index.rebuild(ids, vectors, seq=1, db_id="db")
    assert index.kind == kind
    return index


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_agrees_with_exact_search(tmp_path, data, kind):
    ids, vectors, queries = data
    index = build(tmp_path, data, kind)
    recall = []
    for q in queries:
        truth = set((np.argsort(-(vectors @ q))[:10] + 1).tolist())
        recall.append(len(truth & {i for i, _ in index.search(q, 10)}) / 10)
    assert np.mean(recall) >= (1.0 if kind == "flat" else 0.9)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_retired_vectors_never_return(tmp_path, data, kind):
    _, vectors, queries = data
    index = build(tmp_path, data, kind)
    top = [i for i, _ in index.search(queries[0], 5)]
    index.remove(top[:3])
    again = [i for i, _ in index.search(queries[0], 20)]
    assert not set(top[:3]) & set(again) and len(again) == 20
    # An edited record: its new vector replaces the old one under the same id.
    index.upsert([top[3]], -queries[0:1])
    assert top[3] not in [i for i, _ in index.search(queries[0], 20)]
    assert index.search(-queries[0], 1)[0][0] == top[3]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("n_allowed", [7, 3000])
def test_filtered_search_fills_the_page(tmp_path, data, kind, n_allowed):
    _, _, queries = data
    index = build(tmp_path, data, kind)
    allowed = list(range(4000, 4000 - n_allowed, -1))
    hits = index.search(queries[0], 10, allowed=allowed)
    assert len(hits) == min(10, n_allowed) and {i for i, _ in hits} <= set(allowed)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_and_load(tmp_path, data, kind):
    _, _, queries = data
    index = build(tmp_path, data, kind)
    index.remove([1, 2])
    index.save()
    loaded = VectorIndex(tmp_path, f"model-{kind}", DIM, index.exact_max, ann=index.ann)
    assert loaded.load("db") and loaded.kind == kind and len(loaded) == 3998
    assert loaded.search(queries[5], 10) == index.search(queries[5], 10)
    assert not VectorIndex(tmp_path, f"model-{kind}", DIM, 100).load("another-db")
