"""Helpers for the reliability tests: a tiny embedding model, record files, and subprocess workers.

The crash and concurrency tests run real processes that are killed or race each other. They use a
*tiny* sentence-transformers model (one BERT layer, 32 dimensions, random weights, built here in a
temporary folder) so that embedding thousands of records takes seconds on two cores: what they test
is the store, the change feed and the index files, which behave the same for any model. Search
quality is tested with the real model elsewhere.

Run as a script, this module is the worker the tests start::

    python tests/reliability_support.py import HOME FILE [--report] [--then-wait DONEFILE OUT.json]
    python tests/reliability_support.py rebuild-loop HOME
    python tests/reliability_support.py search-loop HOME DONEFILE OUT.json
    python tests/reliability_support.py add-loop HOME PREFIX N
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TINY_DIM = 32
REGIONS = ["长沙市", "株洲市", "湘潭市", "衡阳市", "岳阳市", "常德市", "郴州市", "永州市", "怀化市", "娄底市"]
MEASURES = ["企业开办", "工程建设项目审批", "不动产登记", "企业注销", "纳税缴费", "跨境贸易", "获得电力", "政务服务"]


def tiny_model(base: Path, dim: int = TINY_DIM, seed: int = 0) -> Path:
    """The tiny model in ``base`` (a session's temporary folder), built on first use."""
    dest = Path(base) / f"tiny-model-{dim}-{seed}"
    if not (dest / "modules.json").exists():
        build_tiny_model(dest, dim, seed)
    return dest


def worker_env(model: Path | None = None) -> dict:
    """Environment for a worker process: the tiny model, one thread each (two cores are shared)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")]))
    if model is not None:
        env["REFORMKB_MODEL"] = str(model)
    return env


def start_worker(args: list[str], model: Path, timeout: float) -> subprocess.Popen:
    """This file as a worker process; a watchdog kills it after ``timeout`` s, so a hang fails the
    test instead of hanging the suite (``proc.timer`` is the watchdog, to cancel when done)."""
    proc = subprocess.Popen([sys.executable, str(HERE / "reliability_support.py"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=worker_env(model))
    timer = threading.Timer(timeout, proc.kill)
    timer.daemon = True
    timer.start()
    proc.timer = timer
    return proc


def build_tiny_model(dest: Path, dim: int = TINY_DIM, seed: int = 0) -> Path:
    """A sentence-transformers model directory: character vocabulary, one layer, random weights."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:
        from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    except ImportError:  # sentence-transformers before 6
        from sentence_transformers.models import Normalize, Pooling, Transformer

    dest = Path(dest)
    raw = dest.parent / f"{dest.name}-hf"
    raw.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += [chr(c) for c in range(33, 127)] + [chr(c) for c in range(0x4E00, 0x9FA6)]
    vocab += list("，。、；：？！“”‘’（）《》【】—…％") + [f"##{chr(c)}" for c in range(33, 127)]
    (raw / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    BertTokenizerFast(str(raw / "vocab.txt"), do_lower_case=False).save_pretrained(raw)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(dict.fromkeys(vocab)), hidden_size=dim, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=2 * dim, max_position_embeddings=512)
    BertModel(config).save_pretrained(raw)
    word = Transformer(str(raw), max_seq_length=128)
    model = SentenceTransformer(modules=[word, Pooling(dim, "mean"), Normalize()], device="cpu")
    model.save(str(dest))
    return dest


def practice_text(n: int, tag: str = "") -> str:
    """A distinct, valid practice text (region at the start, a figure, a unique number)."""
    region = REGIONS[n % len(REGIONS)]
    measure = MEASURES[(n // len(REGIONS)) % len(MEASURES)]
    return (f"{region}推行{measure}改革第{n}项{tag}举措，办理时限由{n % 20 + 5}个工作日压缩至"
            f"{n % 3 + 1}个工作日，编号{tag}{n:05d}。")


def write_jsonl(path: Path, texts: list[str], **fields) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text, **fields}, ensure_ascii=False) + "\n")
    return path


def seeded_home(home: Path, kb, records: int, seed_file: Path) -> Path:
    """Fill the empty knowledge base ``kb`` (in ``home``) with ``records`` practices and save its index."""
    with kb:
        kb.import_files([write_jsonl(seed_file, [practice_text(i) for i in range(records)])])
        kb.rebuild_index()
    return home


def db_state(db_path: Path) -> dict:
    """What the database file holds, read with plain sqlite3 (independent of reformkb)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        texts = [r[0] for r in conn.execute("SELECT text FROM records ORDER BY id")]
        ids = [r[0] for r in conn.execute("SELECT id FROM records ORDER BY id")]
        return {
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
            "ids": ids,
            "texts": texts,
            "fts_ids": sorted(r[0] for r in conn.execute("SELECT rowid FROM records_fts")),
            "hashes": [r[0] for r in conn.execute("SELECT content_hash FROM records")],
            "logged": [r[0] for r in conn.execute(
                "SELECT DISTINCT record_id FROM changes WHERE op IN ('add', 'import', 'restore') ORDER BY record_id")],
            "deleted": sorted({r[0] for r in conn.execute("SELECT record_id FROM changes WHERE op = 'delete'")}),
            "last_seq": conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0],
        }
    finally:
        conn.close()


def fingerprint(db_path: Path) -> str:
    """A digest of everything stored (records, keyword index, log, meta): equal means unchanged."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for table in ("records", "changes", "meta"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
                h.update(repr(row).encode())
        for row in conn.execute("SELECT rowid, words, grams FROM records_fts ORDER BY rowid"):
            h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def index_agrees(kb) -> tuple[set[int], set[int]]:
    """(ids in the vector index after syncing, ids in the database): equal when search agrees."""
    index = kb._sync_index()
    return index.ids(), set(kb.store.ids())


# -- workers ------------------------------------------------------------------------------------------
def _open(home: str):
    from reformkb.kb import KnowledgeBase

    return KnowledgeBase(home, empty=True, actor=f"worker-{os.getpid()}")


def _final_check(kb, out: Path, extra: dict) -> None:
    """Report what this process sees once everyone has finished writing."""
    index_ids, db_ids = index_agrees(kb)
    found = {}
    for rid in sorted(db_ids)[:: max(1, len(db_ids) // 25)]:
        rec = kb.get(rid)
        hits = kb.search(rec.text[:200], k=3, mode="keyword", kind="")
        found[rid] = [h.record.id for h in hits]
    deleted = json.loads(out.with_name("deleted.json").read_text()) if out.with_name("deleted.json").exists() else []
    leaked = []
    for rid, text in deleted:
        for mode in ("keyword", "semantic"):
            hits = kb.search(text[:200], k=10, mode=mode, kind="")
            leaked += [h.record.id for h in hits if h.record.id == rid]
    out.write_text(json.dumps({"index_ids": sorted(index_ids), "db_ids": sorted(db_ids), "found": found,
                               "leaked": leaked, **extra}))


def main(argv: list[str]) -> int:
    command, home = argv[0], argv[1]
    if command == "import":
        path = argv[2]
        kb = _open(home)

        def progress(done: int, total: int) -> None:
            print(f"progress {done} {total}", flush=True)

        report = kb.import_files([path], progress=progress if "--report" in argv else None)
        print(f"done {len(report.added)} {len(report.duplicates)} {len(report.refused)}", flush=True)
        if "--then-wait" in argv:
            i = argv.index("--then-wait")
            done_file, out = Path(argv[i + 1]), Path(argv[i + 2])
            while not done_file.exists():
                time.sleep(0.05)
            _final_check(kb, out, {"added": len(report.added), "duplicates": len(report.duplicates),
                                   "refused": report.refused})
        kb.close()
        return 0
    if command == "rebuild-loop":
        kb = _open(home)
        n = 0
        while True:
            kb.rebuild_index()
            n += 1
            print(f"rebuilt {n}", flush=True)
    if command == "search-loop":
        done_file, out = Path(argv[2]), Path(argv[3])
        kb = _open(home)
        searches, errors = 0, []
        queries = ["企业开办", "工程建设项目审批 压缩", "不动产登记", "长沙市 注销"]
        while not done_file.exists():
            for mode in ("keyword", "semantic", "hybrid"):
                try:
                    kb.search(queries[searches % len(queries)], k=5, mode=mode, kind="")
                    searches += 1
                except Exception as exc:  # every error is a failure the test reports
                    errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.02)
        _final_check(kb, out, {"searches": searches, "errors": errors})
        kb.close()
        return 0
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
