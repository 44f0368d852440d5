"""The facade: the one public API over the store, the parser, the embedder and the vector index.

The CLI, the Streamlit app, the benchmarks and the tests all go through :class:`KnowledgeBase`.

    kb = KnowledgeBase()                      # the project's default knowledge base
    for hit in kb.search("企业注销提速", k=10):
        print(hit.record.region, hit.record.title, hit.score)

The embedding model is loaded on first need (a semantic or hybrid search, or a write), so keyword
search and browsing start fast.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reformkb.bulletin import parse_bulletin
from reformkb.documents import BULLETIN_SUFFIXES, read_document
from reformkb.enrich import complete
from reformkb.errors import InputError, ModelError, NotFoundError, ReformKBError
from reformkb.glossary import Glossary
from reformkb.records import KIND_PRACTICE, Record, Source
from reformkb.search import (CANDIDATES, MODES, Filters, Hit, fuse, lexical_confidence, matched_terms,
                             parse_query)
from reformkb.settings import Settings
from reformkb.store import Store
from reformkb.vectors import VectorIndex

log = logging.getLogger(__name__)

RECORD_FILE_SUFFIXES = (".jsonl", ".csv")
DUPLICATE_THRESHOLD = 0.93  # cosine above which an incoming practice is reported as a near-duplicate
IMPORT_BATCH = 64


@dataclass
class ImportReport:
    """What an import did: records added, skipped as duplicates, and refused with the reason."""

    added: list[Record] = field(default_factory=list)
    duplicates: list[tuple[Record, int]] = field(default_factory=list)  # (incoming, existing id)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    warnings: list[str] = field(default_factory=list)
    near_duplicates: list[tuple[Record, Record, float]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"新增 {len(self.added)} 条，重复跳过 {len(self.duplicates)} 条，"
                f"拒绝 {len(self.refused)} 条。")


@dataclass
class RegionCount:
    province: str
    region: str
    count: int


def _embed_text(rec: Record) -> str:
    """What is embedded for a record: its place, agency and title give context to the text."""
    head = "".join(x for x in (rec.region, rec.agency) if x)
    return f"{head}：{rec.title}。{rec.text}" if head else f"{rec.title}。{rec.text}"


class KnowledgeBase:
    """A knowledge base in one folder (see :class:`Settings` for where its files live)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None, *,
                 empty: bool = False, actor: str = "local"):
        self.settings = settings or Settings.default(home)
        new = not self.settings.db_path.exists() or self.settings.db_path.stat().st_size == 0
        self.store = Store(self.settings.db_path)
        self.actor = actor
        self.db_id = self.store.get_meta("db_id") or ""
        if not self.db_id:
            self.db_id = uuid.uuid4().hex
            self.store.set_meta("db_id", self.db_id)
        self.glossary = Glossary.load(self.settings.home / "glossary.tsv")
        self._embedder = None
        self._index: VectorIndex | None = None
        self._lock = threading.RLock()
        if new and not empty and self.store.count() == 0:
            sources = sorted(p for p in self.settings.sources_dir.glob("*") if p.suffix.lower() in BULLETIN_SUFFIXES)
            if sources:
                self.import_files(sources)

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Persist the vector index if it changed, and close the database."""
        with self._lock:
            if self._index is not None and self._index.dirty:
                self._index.save()
            self.store.close()

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- model and index --------------------------------------------------------------------------
    @property
    def embedder(self):
        """The embedding model, loaded on first use (raises ModelError with advice if it cannot be)."""
        if self._embedder is None:
            from reformkb.embedding import Embedder

            self._embedder = Embedder(self.settings)
        return self._embedder

    def _vectors_for(self, records: list[Record]) -> np.ndarray:
        """Vectors for records, from the cache where the text is unchanged, embedding the rest."""
        model = self.settings.model
        cached = self.store.get_vectors(model, [r.content_hash for r in records])
        missing = [r for r in records if r.content_hash not in cached]
        if missing:
            fresh = self.embedder.embed_documents([_embed_text(r) for r in missing])
            new = {r.content_hash: v for r, v in zip(missing, fresh)}
            self.store.put_vectors(model, new)
            cached.update(new)
        return np.vstack([cached[r.content_hash] for r in records]) if records else np.zeros((0, self.embedder.dim), np.float32)

    def _rebuild(self, index: VectorIndex) -> None:
        seq = self.store.last_seq()
        ids, vectors = [], []
        batch = 2048
        all_ids = self.store.ids()
        for start in range(0, len(all_ids), batch):
            recs = list(self.store.get_many(all_ids[start : start + batch]).values())
            if recs:
                ids += [r.id for r in recs]
                vectors.append(self._vectors_for(recs))
        index.rebuild(ids, np.vstack(vectors) if vectors else np.zeros((0, index.dim), np.float32), seq, self.db_id)

    def _sync_index(self, save: bool = True) -> VectorIndex:
        """The vector index, loaded or rebuilt on first use and brought up to date with the change log.

        Another process's writes are picked up here too, so every process answers from current data.
        """
        with self._lock:
            index = self._index
            if index is None:
                index = VectorIndex(self.settings.index_dir, self.settings.model, self.embedder.dim,
                                    self.settings.exact_index_max)
                if not index.load(self.db_id) or index.seq > self.store.last_seq():
                    self._rebuild(index)
                self._index = index
            last = self.store.last_seq()
            if last > index.seq:
                changed = self.store.changed_since(index.seq)
                gone = [rid for rid, op in changed.items() if op == "delete"]
                index.remove(gone)
                live = self.store.get_many([rid for rid, op in changed.items() if op != "delete"])
                index.remove([rid for rid in changed if rid not in live])
                recs = list(live.values())
                index.upsert([r.id for r in recs], self._vectors_for(recs))
                index.seq = last
            if len(index) != self.store.count():
                log.warning("index holds %d records, database %d: rebuilding", len(index), self.store.count())
                self._rebuild(index)
            if save and index.dirty and len(index) <= self.settings.exact_index_max:
                index.save()
            return index

    def rebuild_index(self) -> dict:
        """Rebuild the vector index from the database (vectors come from the cache) and save it."""
        with self._lock:
            index = VectorIndex(self.settings.index_dir, self.settings.model, self.embedder.dim,
                                self.settings.exact_index_max)
            self._rebuild(index)
            index.save()
            self._index = index
            return self.index_status()

    def index_status(self) -> dict:
        """The vector index as it is on disk and in memory (without loading the model)."""
        path = self.settings.index_dir / f"{VectorIndex(self.settings.index_dir, self.settings.model, 1, 1).key}.json"
        info = {"model": self.settings.model, "records": self.store.count(), "last_change": self.store.last_seq()}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            info.update(index_type=manifest["kind"], indexed=manifest["count"], index_seq=manifest["seq"],
                        fresh=manifest["seq"] == info["last_change"] and manifest["count"] == info["records"])
        except (OSError, ValueError, KeyError):
            info.update(index_type="（尚未建立）", indexed=0, index_seq=0, fresh=False)
        return info

    # -- writing ----------------------------------------------------------------------------------
    def prepare(self, data: Record | dict) -> Record:
        """A complete, validated record from a dict or Record (not stored). Raises InputError."""
        rec = data if isinstance(data, Record) else Record.from_dict(data)
        return complete(rec, self.settings)

    def near_duplicates(self, text: str, k: int = 3, threshold: float = DUPLICATE_THRESHOLD,
                        exclude: int | None = None) -> list[tuple[Record, float]]:
        """Stored records that say nearly the same as ``text``, with their cosine similarity."""
        rec = Record(text=text)
        rec.title = ""
        index = self._sync_index()
        vec = self.embedder.embed_documents([text])[0]
        hits = [(rid, s) for rid, s in index.search(vec, k + 1) if s >= threshold and rid != exclude][:k]
        found = self.store.get_many([rid for rid, _ in hits])
        return [(found[rid], s) for rid, s in hits if rid in found]

    def add(self, data: Record | dict, *, check_duplicates: bool = True) -> tuple[Record, list[tuple[Record, float]]]:
        """Store one record; returns it (with its id) and the near-duplicates found before storing.

        An exact duplicate (same text) is refused with InputError naming the existing record.
        """
        rec = self.prepare(data)
        existing = self.store.has_hash(rec.content_hash)
        if existing:
            raise InputError(f"这条案例已经在知识库中（第 {existing} 条，正文相同），没有重复保存。")
        near = []
        if check_duplicates:
            try:
                near = self.near_duplicates(_embed_text(rec))
            except ModelError as exc:
                log.warning("duplicate check skipped: %s", exc)
        ids = self.store.insert_many([rec], actor=self.actor)
        if ids[0] is None:
            raise InputError("这条案例刚刚已被其他人保存，没有重复保存。")
        self._try_sync()
        return rec, near

    def _try_sync(self) -> None:
        """Bring the index up to date after a write; the records are safe even if the model is missing."""
        try:
            self._sync_index()
        except ModelError as exc:
            log.warning("vector index not updated (keyword search still works): %s", exc)

    def edit(self, record_id: int, **changes) -> Record:
        """Change fields of a record; derived fields (metrics, hash, topics if not given) follow the text."""
        current = self.store.get(record_id)
        data = current.to_dict()
        if "source" in changes:
            src = changes.pop("source")
            data.update({f"source_{k}": v for k, v in (src if isinstance(src, dict) else src.__dict__).items()})
        unknown = set(changes) - set(data)
        if unknown:
            raise InputError(f"无法修改未知字段：{', '.join(sorted(unknown))}。")
        if "text" in changes and "topics" not in changes and changes["text"] != current.text:
            data["topics"] = []  # re-derive topics for a new text unless the user set them
        if "text" in changes and "title" not in changes and changes["text"] != current.text:
            data["title"] = ""
        if "region" in changes:
            data["region_raw"] = ""
        data.update(changes)
        rec = self.prepare(Record.from_dict(data))
        rec.id = record_id
        self.store.update(rec, actor=self.actor)
        self._try_sync()
        return rec

    def delete(self, record_id: int) -> Record:
        """Delete a record from the database and from every search mode at once."""
        rec = self.store.delete(int(record_id), actor=self.actor)
        self._try_sync()
        return rec

    def restore(self, record_id: int) -> Record:
        """Bring back a deleted record from the audit log, under its old id."""
        for change in self.store.changes(record_id=int(record_id), limit=50):
            if change.op == "delete" and change.before:
                rec = Record.from_dict(change.before)
                if self.store.has_hash(rec.content_hash):
                    raise InputError(f"第 {record_id} 条的正文已经在知识库中，无需恢复。")
                try:
                    self.store.get(rec.id)
                    raise InputError(f"第 {record_id} 条已存在，无需恢复。")
                except NotFoundError:
                    pass
                self.store.insert_many([rec], actor=self.actor, op="restore")
                self._try_sync()
                return rec
        raise NotFoundError(f"审计日志中没有第 {record_id} 条的删除记录，无法恢复。")

    # -- importing --------------------------------------------------------------------------------
    def parse_file(self, source: Path | bytes, name: str | None = None, include_actions: bool = True) -> tuple[list[Record], ImportReport]:
        """Draft records from a bulletin or record file, validated but not stored (for review)."""
        report = ImportReport()
        name = name or Path(source).name
        suffix = Path(name).suffix.lower()
        if suffix in RECORD_FILE_SUFFIXES:
            rows = self._read_record_file(source, name, report)
        else:
            text = read_document(source, name, self.settings.max_file_bytes)
            rows = self._drafts_from_text(text, name, include_actions, report)
        drafts = []
        for label, row in rows:
            try:
                drafts.append(self.prepare(row))
            except ReformKBError as exc:
                report.refused.append((label, str(exc)))
        return drafts, report

    def parse_text(self, text: str, name: str = "粘贴的专报", include_actions: bool = True) -> tuple[list[Record], ImportReport]:
        """Like :meth:`parse_file` for pasted bulletin text."""
        report = ImportReport()
        drafts = []
        for label, row in self._drafts_from_text(text, name, include_actions, report):
            try:
                drafts.append(self.prepare(row))
            except ReformKBError as exc:
                report.refused.append((label, str(exc)))
        return drafts, report

    def _drafts_from_text(self, text: str, name: str, include_actions: bool, report: ImportReport):
        parsed = parse_bulletin(text, name, include_actions=include_actions)
        report.warnings += parsed.warnings
        out = []
        for d in parsed.drafts:
            src = Source(parsed.source.title, parsed.source.issue, parsed.source.date, d.section, name)
            rec = Record(text=d.text, region_raw=d.region_raw, agency=d.agency, kind=d.kind, source=src)
            out.append((f"【{d.section}】第 {d.paragraph} 段：{d.text[:24]}…", rec))
        return out

    def _read_record_file(self, source: Path | bytes, name: str, report: ImportReport):
        data = Path(source).read_bytes() if not isinstance(source, bytes) else source
        if len(data) > self.settings.max_file_bytes:
            raise InputError(f"{name} 超过上限 {self.settings.max_file_bytes // (1024 * 1024)} MB：请拆分文件后再导入。")
        from reformkb.documents import decode_text

        text = decode_text(data, name)
        known = set(Record.__dataclass_fields__) | {f"source_{k}" for k in Source.__dataclass_fields__}
        rows: list[tuple[str, dict]] = []
        if name.lower().endswith(".jsonl"):
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    report.refused.append((f"第 {n} 行", f"不是有效的 JSON：{exc.msg}"))
                    continue
                if not isinstance(row, dict):
                    report.refused.append((f"第 {n} 行", "应为一个 JSON 对象"))
                    continue
                rows.append((f"第 {n} 行", row))
        else:
            reader = csv.DictReader(io.StringIO(text))
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise InputError(f"{name} 缺少 text（正文）列：第一行应为列名，至少包含 text，可选 region、title、topics 等。")
            for n, row in enumerate(reader, 2):
                rows.append((f"第 {n} 行", {k: v for k, v in row.items() if k is not None}))
        extra = sorted({k for _, row in rows for k in row} - known)
        if extra:
            report.warnings.append(f"{name} 中以下列不是案例字段，已忽略：{', '.join(extra)}")
        out = []
        for label, row in rows:
            row = {k: v for k, v in row.items() if k in known}
            for key in ("topics", "metrics"):
                if isinstance(row.get(key), str):
                    value = row[key].strip()
                    try:
                        row[key] = json.loads(value) if value.startswith("[") else [t for t in value.replace("；", ";").split(";") if t.strip()]
                    except json.JSONDecodeError:
                        row[key] = []
            row.pop("metrics", None)
            row.pop("id", None)
            out.append((label, row))
        return out

    def store_records(self, records: Iterable[Record], report: ImportReport | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Store prepared records in batches (each batch one transaction), skipping exact duplicates."""
        report = report or ImportReport()
        records = list(records)
        seen: set[str] = set()
        for start in range(0, len(records), IMPORT_BATCH):
            batch = []
            for rec in records[start : start + IMPORT_BATCH]:
                existing = self.store.has_hash(rec.content_hash)
                if existing or rec.content_hash in seen:
                    report.duplicates.append((rec, existing or 0))
                else:
                    seen.add(rec.content_hash)
                    batch.append(rec)
            ids = self.store.insert_many(batch, actor=self.actor, op="import")
            for rec, rid in zip(batch, ids):
                if rid is None:
                    report.duplicates.append((rec, self.store.has_hash(rec.content_hash) or 0))
                else:
                    report.added.append(rec)
            if progress:
                progress(min(start + IMPORT_BATCH, len(records)), len(records))
        if report.added:
            self._try_sync()
        return report

    def import_files(self, paths: Iterable[Path | str], progress: Callable[[int, int], None] | None = None,
                     include_actions: bool = True) -> ImportReport:
        """Parse and store each file; a file that cannot be read is refused whole, with the reason."""
        report = ImportReport()
        for path in paths:
            path = Path(path)
            try:
                drafts, file_report = self.parse_file(path, include_actions=include_actions)
            except ReformKBError as exc:
                report.refused.append((path.name, str(exc)))
                continue
            report.refused += [(f"{path.name} {what}", why) for what, why in file_report.refused]
            report.warnings += file_report.warnings
            self.store_records(drafts, report, progress)
        return report

    # -- reading ----------------------------------------------------------------------------------
    def get(self, record_id: int) -> Record:
        return self.store.get(int(record_id))

    def count(self, filters: Filters | None = None) -> int:
        where, params = (filters or Filters(kind="")).sql(alias="")
        return self.store.count(where, params)

    def records(self, filters: Filters | None = None, order: str = "id", limit: int | None = None) -> list[Record]:
        """Records matching the filters (all kinds unless ``filters.kind`` is set)."""
        orders = {"id": "id", "latest": "updated_at DESC, id DESC", "region": "province, region, id",
                  "reduction": "best_reduction IS NULL, best_reduction DESC, id", "date": "source_date DESC, id"}
        where, params = (filters or Filters(kind="")).sql(alias="")
        return self.store.query(where, params, order=orders.get(order, "id"), limit=limit)

    def latest(self, k: int = 10, filters: Filters | None = None) -> list[Record]:
        return self.records(filters or Filters(), order="latest", limit=k)

    def search(self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
               **filter_kwargs) -> list[Hit]:
        """The k best records for ``query``. Modes: hybrid (default), keyword, semantic.

        Filters may be given as a :class:`Filters` or as keywords (province=, region=, topic=, …).
        Raises InputError for an empty or punctuation-only query, an unknown mode or region.
        """
        if mode not in MODES:
            raise InputError(f"未知的检索方式“{mode}”：可选 hybrid（智能）、keyword（关键词）、semantic（语义）。")
        filters = self._filters(filters, filter_kwargs)
        q = parse_query(query, self.settings.max_query_chars, self.glossary.expand)
        k = max(1, min(int(k), 1000))
        where, params = filters.sql()
        n_candidates = max(CANDIDATES, 3 * k)
        lexical = self.store.fts(q.fts(), where, params, n_candidates) if mode != "semantic" and q.fts() else []
        if mode == "keyword":
            ranked = [(rid, s, None, None) for rid, s in lexical]
            scaled = dict((rid, s / lexical[0][1]) for rid, s in lexical) if lexical and lexical[0][1] > 0 else {}
            ranked = [(rid, scaled.get(rid, 0.0), scaled.get(rid, 0.0), None) for rid, _, _, _ in ranked]
        else:
            index = self._sync_index()
            allowed = self.store.ids(*filters.sql(alias="")) if filters.restricts or filters.kind != "" and self._has_other_kinds() else None
            semantic = index.search(self.embedder.embed_query(q.text), n_candidates, allowed)
            if mode == "semantic":
                ranked = [(rid, s, None, s) for rid, s in semantic]
            else:
                best = self.store.get_many([lexical[0][0]]).get(lexical[0][0]) if lexical else None
                confidence = lexical_confidence(q, best.text if best else None)
                ranked = fuse(lexical, semantic, confidence)
        top = ranked[:k]
        found = self.store.get_many([rid for rid, *_ in top])
        return [Hit(found[rid], score, lex, sem, matched_terms(q, found[rid].title + found[rid].text))
                for rid, score, lex, sem in top if rid in found]

    def _has_other_kinds(self) -> bool:
        return self.store.count("kind != ?", [KIND_PRACTICE]) > 0

    def _filters(self, filters: Filters | None, kwargs: dict) -> Filters:
        filters = filters or Filters(**kwargs)
        if filters.region:
            from reformkb.regions import normalize

            filters.region = normalize(filters.region).name
        if filters.province:
            from reformkb.regions import normalize

            filters.province = normalize(filters.province).province
        if filters.topic:
            from reformkb.topics import normalize_topic

            filters.topic = normalize_topic(filters.topic)
        return filters

    def similar(self, record_id: int, k: int = 5, other_regions: bool = True) -> list[Hit]:
        """The practices most like record ``record_id`` (by default from other regions)."""
        rec = self.store.get(int(record_id))
        index = self._sync_index()
        vec = index.vector(rec.id)
        if vec is None:
            vec = self._vectors_for([rec])[0]
        hits = index.search(vec, k * 4 + 1)
        found = self.store.get_many([rid for rid, _ in hits])
        out = []
        for rid, s in hits:
            other = found.get(rid)
            if other is None or rid == rec.id or other.kind != KIND_PRACTICE:
                continue
            if other_regions and other.region == rec.region:
                continue
            out.append(Hit(other, s, None, s, []))
            if len(out) == k:
                break
        return out

    def regions(self, kind: str = KIND_PRACTICE) -> list[RegionCount]:
        """Every region with records, its province and count (most first)."""
        where, params = ("kind = ?", [kind]) if kind else ("", [])
        return [RegionCount(r["province"], r["region"], r["n"])
                for r in self.store.grouped_counts(["province", "region"], where, params)]

    def topic_counts(self, kind: str = KIND_PRACTICE) -> list[tuple[str, int]]:
        where, params = ("kind = ?", [kind]) if kind else ("", [])
        return [(r["topic"], r["n"]) for r in self.store.topic_counts(where, params)]

    def sources(self) -> list[tuple[str, str, int]]:
        """(title, date, count) per source bulletin."""
        return [(r["source_title"], r["source_date"], r["n"])
                for r in self.store.grouped_counts(["source_title", "source_date"])]

    def stats(self) -> dict:
        """Counts for the manage page and ``reformkb stats``."""
        info = self.index_status()
        info.update(
            practices=self.store.count("kind = ?", [KIND_PRACTICE]),
            actions=self.store.count("kind != ?", [KIND_PRACTICE]),
            regions=len(self.regions()),
            provinces=len({r.province for r in self.regions()}),
            sources=len(self.sources()),
            database=str(self.settings.db_path),
            index_dir=str(self.settings.index_dir),
        )
        return info

    def changes(self, record_id: int | None = None, limit: int = 200):
        """The audit log, newest first."""
        return self.store.changes(record_id, limit)

    # -- export and backup ------------------------------------------------------------------------
    def export(self, records: list[Record], path: Path | str, fmt: str | None = None) -> Path:
        """Write records to CSV, JSONL or XLSX (by ``fmt`` or the file's suffix)."""
        from reformkb.export import write_records

        return write_records(records, Path(path), fmt)

    def backup(self, dest: Path | str) -> Path:
        """A consistent copy of the database (the index is derived and rebuilt on open)."""
        dest = Path(dest)
        self.store.backup_to(dest)
        return dest
