"""The FAISS vector index: derived from the store, rebuilt or brought up to date on its own.

Vectors live in FAISS under *slots* (0, 1, 2, … in insertion order); ``slot_to_record`` maps a
slot to its record id. A deleted or edited record's slot is marked dead (-1) rather than removed,
because HNSW cannot remove vectors; searches pass a bitmap of live (and, with filters, allowed) slots
to FAISS, so a dead slot is never returned. Dead slots are compacted away on the next rebuild.

On disk, ``index/`` holds ``<key>.<generation>.faiss`` and ``.slots.npy`` files and a manifest
``<key>.json`` naming the generation, model, dimension, index type, live count and the change-log
sequence the index reflects. Files are written first and the manifest last (atomically), so a crash
leaves either the old or the new index, never a mixture; temporary files a killed writer left behind
are removed by the next save.

One VectorIndex may be used by several threads (the app's sessions share one): every method that
reads or changes the FAISS index holds the instance's lock.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IVF_NPROBE = 32  # inverted lists scanned per query (of ~4·sqrt(n))
IVF_TRAIN_MAX = 100_000  # vectors sampled to train the coarse quantizer
EXACT_FILTER_MAX = 20_000  # with an approximate index, a filter this selective is searched exactly
ANN_KINDS = ("ivf", "hnsw")


@dataclass
class Manifest:
    model: str
    dim: int
    kind: str  # "flat" | "hnsw"
    count: int  # live vectors
    slots: int  # all slots, live and dead
    seq: int  # last change-log sequence reflected
    db_id: str  # the database this index was built from
    generation: int


def _safe_key(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model).strip("._") or "model"


@contextmanager
def _dir_lock(directory: Path):
    """An exclusive lock on ``directory`` between processes (held while reading or writing files)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class VectorIndex:
    """An in-memory FAISS index over record vectors, persisted in ``index_dir``."""

    def __init__(self, index_dir: Path, model: str, dim: int, exact_max: int, ann: str = "ivf"):
        self.dir = Path(index_dir)
        self.ann = ann if ann in ANN_KINDS else "ivf"
        self.model = model
        self.dim = dim
        self.exact_max = exact_max
        self.key = _safe_key(model)
        self.index: faiss.Index | None = None
        self.slot_to_record = np.zeros(0, dtype=np.int64)
        self.record_to_slot: dict[int, int] = {}
        self.manifest: Manifest | None = None
        self.seq = 0
        self.db_id = ""
        self.generation = 0
        self.dirty = False
        self.rebuilt = False  # rebuilt since the last save or load
        self._lock = threading.RLock()

    @property
    def manifest_path(self) -> Path:
        return self.dir / f"{self.key}.json"

    @property
    def kind(self) -> str:
        if isinstance(self.index, faiss.IndexHNSW):
            return "hnsw"
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return len(self.record_to_slot)

    # -- building ---------------------------------------------------------------------------------
    def _new_index(self, vectors: np.ndarray) -> faiss.Index:
        """Exact (flat) up to ``exact_max`` vectors, else the approximate kind ``self.ann``, trained."""
        n = len(vectors)
        if n <= self.exact_max:
            return faiss.IndexFlatIP(self.dim)
        if self.ann == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return index
        nlist = max(1, min(65_536, int(4 * np.sqrt(n)), n // 39))  # FAISS wants ≥ 39 points per list
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors if n <= IVF_TRAIN_MAX else vectors[np.random.default_rng(0).choice(n, IVF_TRAIN_MAX, replace=False)]
        index.train(sample)
        index.nprobe = IVF_NPROBE
        return index

    @staticmethod
    def _prepare(index: faiss.Index) -> faiss.Index:
        """Make an IVF index able to return stored vectors by slot (needed for filters and similar())."""
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()
            index.nprobe = IVF_NPROBE
        return index

    def rebuild(self, ids: list[int], vectors: np.ndarray, seq: int, db_id: str) -> None:
        """Replace the whole index with these (id, vector) pairs."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        index = self._new_index(vectors)
        if len(ids):
            index.add(vectors)
        self._prepare(index)
        slot_to_record = np.asarray(ids, dtype=np.int64)
        with self._lock:
            self.index = index
            self.slot_to_record = slot_to_record
            self.record_to_slot = {int(r): s for s, r in enumerate(slot_to_record)}
            self.seq, self.db_id = seq, db_id
            self.dirty = self.rebuilt = True

    def upsert(self, ids: list[int], vectors: np.ndarray) -> None:
        """Add vectors for records; a record already present has its old vector retired first."""
        if not ids:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            self.remove(ids)
            start = self.index.ntotal
            self.index.add(vectors)
            self.slot_to_record = np.concatenate([self.slot_to_record, np.asarray(ids, dtype=np.int64)])
            for offset, rid in enumerate(ids):
                self.record_to_slot[int(rid)] = start + offset
            self.dirty = True

    def remove(self, ids: list[int]) -> None:
        """Retire the vectors of these records (absent ids are ignored)."""
        with self._lock:
            for rid in ids:
                slot = self.record_to_slot.pop(int(rid), None)
                if slot is not None:
                    self.slot_to_record[slot] = -1
                    self.dirty = True

    @property
    def dead(self) -> int:
        return int(self.index.ntotal - len(self.record_to_slot)) if self.index is not None else 0

    # -- searching --------------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """(record id, cosine) of the k nearest live vectors, restricted to ``allowed`` ids if given."""
        with self._lock:
            return self._search(query, k, allowed)

    def _search(self, query: np.ndarray, k: int, allowed: list[int] | None) -> list[tuple[int, float]]:
        if self.index is None or not self.record_to_slot or k <= 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if allowed is not None:
            slots = np.fromiter((self.record_to_slot[r] for r in allowed if r in self.record_to_slot), dtype=np.int64)
            if len(slots) == 0:
                return []
            if self.kind != "flat" and len(slots) <= EXACT_FILTER_MAX:
                return self._exact(query, slots, k)
        else:
            slots = None
        params = None
        if slots is not None or self.dead:
            live = np.zeros(self.index.ntotal, dtype=bool)
            if slots is None:
                live[self.slot_to_record >= 0] = True
            else:
                live[slots] = True
            bitmap = np.packbits(live, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(bitmap))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, 2 * k))
            elif self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=selector, nprobe=IVF_NPROBE)
            else:
                params = faiss.SearchParameters(sel=selector)
            scores, found = self.index.search(query, k, params=params)
        else:
            if self.kind == "hnsw":
                self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, 2 * k)
            scores, found = self.index.search(query, k)
        return [(int(self.slot_to_record[s]), float(d)) for s, d in zip(found[0], scores[0])
                if s >= 0 and self.slot_to_record[s] >= 0]

    def _exact(self, query: np.ndarray, slots: np.ndarray, k: int) -> list[tuple[int, float]]:
        vecs = self.index.reconstruct_batch(np.ascontiguousarray(slots, dtype=np.int64))
        scores = vecs @ query[0]
        top = np.argsort(-scores)[:k]
        return [(int(self.slot_to_record[slots[i]]), float(scores[i])) for i in top]

    def vector(self, record_id: int) -> np.ndarray | None:
        with self._lock:
            slot = self.record_to_slot.get(int(record_id))
            return None if slot is None else self.index.reconstruct(int(slot))

    def ids(self) -> set[int]:
        """The record ids that have a live vector."""
        with self._lock:
            return set(self.record_to_slot)

    # -- persistence ------------------------------------------------------------------------------
    def load(self, db_id: str) -> bool:
        """Load the persisted index; False (and nothing loaded) if missing, corrupt or foreign."""
        if not self.manifest_path.exists():
            return False
        with _dir_lock(self.dir):
            return self._load(db_id)

    def _load(self, db_id: str) -> bool:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            manifest = Manifest(**data)
            if manifest.model != self.model or manifest.dim != self.dim or manifest.db_id != db_id:
                log.warning("index %s was built for another model or database; rebuilding", self.manifest_path)
                return False
            index = self._prepare(faiss.read_index(str(self.dir / f"{self.key}.{manifest.generation}.faiss")))
            slots = np.load(self.dir / f"{self.key}.{manifest.generation}.slots.npy", allow_pickle=False)
            live = int((slots >= 0).sum())
            if index.d != self.dim or index.ntotal != len(slots) or live != manifest.count or len(slots) != manifest.slots:
                log.warning("index %s does not match its manifest; rebuilding", self.manifest_path)
                return False
        except (OSError, ValueError, TypeError, RuntimeError, json.JSONDecodeError) as exc:
            log.warning("index %s unreadable (%s); rebuilding", self.manifest_path, exc)
            return False
        self.index, self.slot_to_record, self.manifest = index, slots.astype(np.int64), manifest
        self.record_to_slot = {int(r): s for s, r in enumerate(self.slot_to_record) if r >= 0}
        self.seq, self.db_id, self.generation = manifest.seq, manifest.db_id, manifest.generation
        self.dirty = False
        return True

    def save(self) -> None:
        """Write the index under a new generation, then the manifest, then drop older generations."""
        with _dir_lock(self.dir), self._lock:
            self._save()

    def _save(self) -> None:
        try:
            current = json.loads(self.manifest_path.read_text(encoding="utf-8")).get("generation", 0)
        except (OSError, ValueError, AttributeError):
            current = 0
        self.generation = max(self.generation, int(current or 0))
        generation = self.generation + 1
        index_path = self.dir / f"{self.key}.{generation}.faiss"
        slots_path = self.dir / f"{self.key}.{generation}.slots.npy"
        _atomic_write(index_path, lambda tmp: faiss.write_index(self.index, tmp))

        def write_slots(tmp: str) -> None:
            with open(tmp, "wb") as f:
                np.save(f, self.slot_to_record, allow_pickle=False)

        _atomic_write(slots_path, write_slots)
        manifest = Manifest(self.model, self.dim, self.kind, len(self), int(self.index.ntotal), self.seq,
                            self.db_id, generation)
        _atomic_write(self.manifest_path, lambda tmp: Path(tmp).write_text(
            json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8"))
        self.manifest, self.generation, self.dirty, self.rebuilt = manifest, generation, False, False
        for old in self.dir.glob(f"{self.key}.*"):
            parts = old.name[len(self.key) + 1:].split(".")
            if parts and parts[0].isdigit() and int(parts[0]) != generation:
                old.unlink(missing_ok=True)
        # Writers hold the directory lock, so any temporary file now is a killed writer's leftover.
        for stale in self.dir.glob(f"{self.key}.*.tmp"):
            stale.unlink(missing_ok=True)
