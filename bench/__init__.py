"""Benchmarks: speed (bench.run) and search quality (bench.quality)."""
