"""The benchmark harness cannot rot: its smoke size (≈1k synthetic records) runs end to end.

Runs ``python -m bench.run --smoke`` as CI does and checks that the report holds plausible numbers.
txtai is optional: without it the report says it was skipped.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_smoke_report():
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--smoke"], cwd=ROOT, capture_output=True,
                          text=True, timeout=2400)  # ≈1.5 min on a quiet machine; generous for a loaded one
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((ROOT / "bench" / "out" / "results" / "smoke.json").read_text(encoding="utf-8"))
    assert result["machine"]["cores"] >= 1 and result["machine"]["versions"]["torch"]
    (size,) = result["sizes"]
    ingest, serve = size["reformkb_ingest"], size["reformkb_serve"]
    assert ingest["added"] == size["n"] == 1000 and ingest["refused"] == 0
    assert ingest["rate"] > 0 and ingest["embed_only_rate"] > 0 and 0 < ingest["embed_share"] < 1
    assert ingest["embedded"] == size["n"]  # every record embedded once, end to end
    assert ingest["db_bytes"] > 0 and ingest["index_bytes"] > 0 and ingest["peak_rss_mib"] > 0
    for mode in ("keyword", "semantic", "hybrid"):
        for key in (mode, mode + "+filter"):
            lat = serve["latency"][key]
            assert 0 < lat["p50_ms"] <= lat["p95_ms"], (key, lat)
    assert serve["latency"]["hybrid+filter"]["mean_hits"] <= 10
    as_typed = serve["latency"]["hybrid as typed"]  # hybrid without the homophone check, for its cost
    assert 0 < as_typed["p50_ms"] <= as_typed["p95_ms"]
    assert serve["cold_start_s"] > 0 and serve["first_hits"] == 10
    assert 0 < size["reformkb_cold_keyword"]["cold_start_s"]
    if result["txtai"]:
        assert size["txtai_ingest"]["rate"] > 0 and size["ratios"]["ingest_rate"] > 0
        assert size["txtai_serve"]["latency"]["hybrid"]["p50_ms"] <= size["txtai_serve"]["latency"]["hybrid"]["p95_ms"]
    else:
        assert "skipped" in proc.stdout


@pytest.mark.slow
def test_bench_imports_smoke_report():
    """``python -m bench.imports --smoke``: each case imported once in its own process, with its peak memory."""
    proc = subprocess.run([sys.executable, "-m", "bench.imports", "--smoke"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((ROOT / "bench" / "out" / "results" / "imports-smoke.json").read_text(encoding="utf-8"))
    cases = result["cases"]
    assert list(cases) == ["large", "huge-text", "bomb"] and result["limit_mib"] == 1024
    assert cases["large"]["accepted"] and cases["large"]["added"] > 100
    for case in ("huge-text", "bomb"):
        assert not cases[case]["accepted"] and cases[case]["refused"] and cases[case]["under_limit"], cases[case]
    assert all(0 < c["peak_rss_mib"] and 0 < c["wall_s"] for c in cases.values())
    assert "| large:" in proc.stdout and "load average" in proc.stdout
