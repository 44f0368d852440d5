"""The benchmark's vector cache reads and writes vectors under the key the knowledge base uses.

The default model's vectors are keyed with its adapter's version (``embedding.model_key``); a cache
that looked them up by the model's bare name found none and the 100k run stopped in its preload.
"""
import numpy as np

from bench import synth


def test_harvested_vectors_are_found_again(seeded_kb, tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "CACHE_HOME", tmp_path / "cache")
    synth._cache_keys.cache_clear()
    synth._base.cache_clear()
    try:
        assert synth.cached_count() == 0
        harvested = synth.harvest(seeded_kb)
        assert harvested == seeded_kb.count() > 0
        assert synth.cached_count() == harvested
        texts = [r.text for r in seeded_kb.records()]
        vectors = synth.cached_vectors(texts)
        assert vectors is not None and vectors.shape[0] == len(texts)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3)
        assert synth._base().shape == vectors.shape
    finally:
        synth._cache_keys.cache_clear()
        synth._base.cache_clear()
