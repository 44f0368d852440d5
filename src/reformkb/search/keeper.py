"""Keeping the vector index in step with the store.

The store (SQLite) is the source of truth; the FAISS index is derived from it. :class:`IndexKeeper`
loads the index on first use, rebuilds it when it is missing, stale, lying or from another model
or database, and applies the change log so that every process answers from current data. Vectors
come from the store's cache (one per model and content hash), so unchanged text is never embedded
twice.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import threading

import numpy as np

from reformkb.errors import InputError, ModelError, StoreError
from reformkb.records import Record, embed_text, vector_key
from reformkb.search.vectors import VectorIndex
from reformkb.settings import Settings
from reformkb.store import Store

log = logging.getLogger(__name__)

__all__ = ["IndexKeeper", "embed_text", "vector_key"]

CACHE_WAIT_MS = 1_000  # caching vectors while another program writes waits this long, then goes on without


class IndexKeeper:
    """The embedding model and the vector index of one knowledge base, kept in step with its store."""

    def __init__(self, store: Store, settings: Settings, db_id: str):
        self.store, self.settings, self.db_id = store, settings, db_id
        self.lock = threading.RLock()
        self._embedder = None
        self._loading = threading.Lock()
        self._index: VectorIndex | None = None
        self._expressions: dict[str, np.ndarray] = {}  # glossary expression → query vector
        self.notice = ""  # why the index could not be saved (it is then used from memory)
        self._topics: np.ndarray | None = None  # topic texts' query vectors (suggested topics)

    @property
    def embedder(self):
        """The embedding model, loaded on first use (raises ModelError with advice if it cannot be)."""
        if self._embedder is None:
            with self._loading:  # the app's warm-up thread and a first search may ask at the same moment
                if self._embedder is None:
                    from reformkb.search.embedding import Embedder

                    self._embedder = Embedder(self.settings)
        return self._embedder

    @functools.cached_property
    def model_key(self) -> str:
        """The model's name as vectors are cached and indexed under (:func:`embedding.model_key`)."""
        from reformkb.search.embedding import model_key

        return model_key(self.settings.model)

    def _new_index(self) -> VectorIndex:
        return VectorIndex(self.settings.index_dir, self.model_key, self.embedder.dim,
                           self.settings.exact_index_max, self.settings.ann)

    def vectors_for(self, records: list[Record]) -> np.ndarray:
        """Vectors for records, from the cache where the text is unchanged, embedding the rest."""
        model = self.model_key
        keys = [vector_key(r) for r in records]
        cached = self.store.get_vectors(model, keys)
        if cached and self._embedder is not None:  # a cache written by another model of the same name
            cached = {h: v for h, v in cached.items() if v.shape[0] == self._embedder.dim}
        missing = [(r, k) for r, k in zip(records, keys) if k not in cached]
        if missing:
            fresh = self.embedder.embed_documents([embed_text(r) for r, _ in missing])
            new = {k: v for (_, k), v in zip(missing, fresh)}
            try:  # the cache saves work next time; a busy or read-only database must not stop a search
                self.store.put_vectors(model, new, busy_ms=CACHE_WAIT_MS)
            except StoreError as exc:
                log.warning("vectors not cached, used from memory: %s", exc)
            cached.update(new)
        if not records:
            return np.zeros((0, self.embedder.dim), np.float32)
        return np.vstack([cached[k] for k in keys])

    def _rebuild(self, index: VectorIndex) -> None:
        seq = self.store.last_seq()
        ids, vectors = [], []
        batch = 2048
        all_ids = self.store.ids()
        for start in range(0, len(all_ids), batch):
            recs = list(self.store.get_many(all_ids[start : start + batch]).values())
            if recs:
                ids += [r.id for r in recs]
                vectors.append(self.vectors_for(recs))
        index.rebuild(ids, np.vstack(vectors) if vectors else np.zeros((0, index.dim), np.float32), seq, self.db_id)

    def sync(self, save: bool = True) -> VectorIndex:
        """The vector index, loaded or rebuilt on first use and brought up to date with the change log.

        Another process's writes are picked up here too, so every process answers from current data.
        """
        with self.lock:
            db_id = self.store.get_meta("db_id") or self.db_id
            if db_id != self.db_id:  # the database was restored from a backup (by any process)
                log.warning("database %s was replaced: rebuilding the vector index", self.settings.db_path)
                self.db_id, self._index = db_id, None
            index = self._index
            loaded = False
            if index is None:
                index = self._new_index()
                loaded = self._load(index)
                if not loaded:
                    self._rebuild(index)
                self._index = index
            # One snapshot, so that the changes, the records and the count agree with each other.
            with self.store.snapshot():
                last = self.store.last_seq()
                changed = self.store.changed_since(index.seq) if last > index.seq else {}
                live = self.store.get_many([rid for rid, op in changed.items() if op != "delete"])
                # Every write moves the change log, so while it stands still the count that agreed
                # last time still does (counting costs 10 ms per search at 1M records).
                count = self.store.count() if loaded or last != index.seq else len(index)
                ids = set(self.store.ids()) if loaded else None
            if last < index.seq:
                log.warning("index is ahead of the database (seq %d > %d): rebuilding", index.seq, last)
                self._rebuild(index)
            else:
                if changed:
                    index.remove([rid for rid in changed if rid not in live])
                    recs = list(live.values())
                    index.upsert([r.id for r in recs], self.vectors_for(recs))
                    index.seq = last
                if ids is not None and (index.ids() != ids or not self._vectors_agree(index)):
                    # A loaded index whose manifest lied (other records, another model's vectors).
                    log.warning("index %s does not match the database: rebuilding", index.manifest_path)
                    self._rebuild(index)
                elif len(index) != count:
                    log.warning("index holds %d records, database %d: rebuilding", len(index), count)
                    self._rebuild(index)
            if index.kind == "flat" and len(index) > self.settings.exact_index_max:
                log.info("%d vectors: switching to the approximate index", len(index))
                self._rebuild(index)
            # A small index is saved after every change; a large one after a rebuild (which is the
            # expensive part) and on close(), so that single additions stay cheap.
            if save and index.dirty and (len(index) <= self.settings.exact_index_max or index.rebuilt):
                self._save(index)
            return index

    def folder_notice(self) -> str:
        """Why the index folder cannot hold the index ("" if it can), without touching it."""
        folder = self.settings.index_dir
        if self.notice:
            return self.notice
        if folder.exists() and not folder.is_dir():
            return f"索引目录 {folder} 是一个文件，不是文件夹：向量索引只能在内存中使用，每次打开都要重建；请移走该文件。"
        if folder.is_dir() and not os.access(folder, os.W_OK):
            return f"索引目录 {folder} 不可写入：向量索引只能在内存中使用，每次打开都要重建；请检查该目录的写入权限。"
        return ""

    def _load(self, index: VectorIndex) -> bool:
        try:
            return index.load(self.db_id)
        except OSError as exc:  # the folder cannot be made or locked (read-only, a file in its place)
            log.warning("index folder %s unusable (%s): building the index in memory", self.settings.index_dir, exc)
            return False

    def _save(self, index: VectorIndex) -> None:
        """Save the index; if its folder cannot be written, keep it in memory and say so in ``notice``."""
        try:
            index.save()
            self.notice = ""
        except OSError as exc:
            if not self.notice:
                log.warning("vector index not saved to %s (%s): kept in memory", self.settings.index_dir, exc)
            self.notice = (f"向量索引无法保存到 {self.settings.index_dir}（{exc.strerror or exc}）：本次在内存中使用，"
                           "检索不受影响；每次打开都要重建，请检查该目录的写入权限。")

    def try_sync(self) -> None:
        """Bring the index up to date after a write; the records are safe even if the model is missing."""
        try:
            self.sync()
        except ModelError as exc:
            log.warning("vector index not updated (keyword search still works): %s", exc)

    def forget(self, db_id: str) -> None:
        """The database was replaced (a restore): the next use rebuilds the index for ``db_id``."""
        with self.lock:
            self.db_id, self._index = db_id, None

    def put_vectors(self, records: list[Record], vectors: np.ndarray) -> None:
        """Put precomputed vectors (one row per record, of :func:`embed_text`) into the vector cache."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(records):
            raise InputError("向量的行数应与案例条数一致。")
        if not np.all(np.isfinite(vectors)) or np.any(np.abs(np.linalg.norm(vectors, axis=1) - 1) > 1e-3):
            raise InputError("向量应为单位长度的有限数值（由本知识库的模型生成）：没有写入。")
        if vectors.shape[1] != self.embedder.dim:
            raise InputError(f"向量是 {vectors.shape[1]} 维，本知识库的模型是 {self.embedder.dim} 维：没有写入。")
        self.store.put_vectors(self.model_key, {vector_key(r): v for r, v in zip(records, vectors)})

    def _vectors_agree(self, index: VectorIndex, sample: int = 8) -> bool:
        """Spot check: a few of the index's vectors equal the cached vectors of their records' texts."""
        ids = sorted(index.ids())
        if not ids:
            return True
        picks = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, min(sample, len(ids)))]
        recs = self.store.get_many(picks)
        cached = self.store.get_vectors(self.model_key, [vector_key(r) for r in recs.values()])
        for rid, rec in recs.items():
            mine, known = index.vector(rid), cached.get(vector_key(rec))
            if mine is not None and known is not None and (known.shape != mine.shape or not np.allclose(mine, known, atol=1e-4)):
                return False
        return True

    def rebuild(self) -> None:
        """Rebuild the vector index from the database (vectors come from the cache) and save it."""
        with self.lock:
            index = self._new_index()
            self._rebuild(index)
            self._save(index)
            self._index = index

    def status(self) -> dict:
        """The vector index as it is on disk and in memory (without loading the model)."""
        path = self.settings.index_dir / f"{VectorIndex(self.settings.index_dir, self.model_key, 1, 1).key}.json"
        info = {"model": self.settings.model, "records": self.store.count(), "last_change": self.store.last_seq()}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            info.update(index_type=manifest["kind"], indexed=manifest["count"], index_seq=manifest["seq"],
                        fresh=manifest["seq"] == info["last_change"] and manifest["count"] == info["records"])
        except (OSError, ValueError, KeyError):
            info.update(index_type="（尚未建立）", indexed=0, index_seq=0, fresh=False)
        return info

    def expression_vectors(self, texts: list[str]) -> np.ndarray:
        """Query vectors of glossary expressions, each embedded once and kept (a glossary holds a few
        hundred expressions at most, so this stays small)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._expressions]
        if missing:
            self._expressions.update(zip(missing, self.embedder.embed_queries(missing)))
        return np.vstack([self._expressions[t] for t in texts])

    def topic_vectors(self) -> np.ndarray:
        """Query vectors of the topic texts (:func:`reformkb.ingest.topics.topic_texts`), embedded once
        per keeper and kept."""
        if self._topics is None:
            from reformkb.ingest.topics import topic_texts

            self._topics = self.embedder.embed_queries([text for _, text in topic_texts()])
        return self._topics

    def close(self) -> None:
        """Persist the vector index if it changed."""
        with self.lock:
            if self._index is not None and self._index.dirty:
                self._save(self._index)
