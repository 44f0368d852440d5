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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from reformkb.auth import Editor, Editors
from reformkb.ingest.bulletin import parse_bulletin
from reformkb.ingest.documents import BULLETIN_SUFFIXES, read_document
from reformkb.ingest.enrich import complete
from reformkb.errors import InputError, ModelError, NotFoundError, ReformKBError, StoreError
from reformkb.search.glossary import Glossary
from reformkb.records import KIND_PRACTICE, Record, Source, clean_text, content_hash
from reformkb.search.fusion import MODES, Filters, Hit, fts_phrase, matched_terms, parse_query, rank
from reformkb.settings import Settings
from reformkb.store import BackupInfo, Change, Store, verify_backup
from reformkb.search.vectors import VectorIndex

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


def _kept_path(db_path: Path) -> Path:
    """Where the database replaced by a restore is kept (never overwriting an earlier one)."""
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return db_path.with_name(f"{db_path.name}-before-restore-{stamp}")


def _restore_into(store: Store, settings: Settings, backup: Path, actor: str, kept: Path | None = None) -> dict:
    """Copy ``backup`` into ``store`` (keeping the current content first unless ``kept`` is given)."""
    verify_backup(backup)  # before anything is touched
    if backup.resolve() == settings.db_path.resolve():
        raise InputError("备份文件就是当前的知识库文件：请选择另一个备份。")
    if kept is None:
        kept = _kept_path(settings.db_path)
        store.backup_to(kept)
    info: BackupInfo = store.restore_from(backup)
    db_id = uuid.uuid4().hex
    store.set_meta("db_id", db_id)
    store.log_event("restore-db", actor, {"backup": str(backup), "records": info.records, "kept": str(kept)})
    log.info("restored %s from %s (%d records); previous database kept as %s",
             settings.db_path, backup, info.records, kept)
    return {"records": info.records, "last_change": info.last_change, "kept": str(kept), "db_id": db_id}


# A search of practices only (the default) in a knowledge base that also holds a few records of
# another kind (【战斗动态】) fetches that many more hits on each side and drops them, instead of
# restricting both sides to an id list of every practice (built per query: O(n) at 1M records).
# Above this many other-kind records, the id list it is.
EXCLUDE_MAX = 2_000


class _SearchBackend:
    """What :func:`reformkb.search.rank` needs, over this knowledge base with one search's filters."""

    def __init__(self, kb: "KnowledgeBase", filters: Filters, dense: bool):
        self.kb, self.filters = kb, filters
        self.excluded: set[int] = set()
        if filters.kind and not filters.restricts:
            others = kb.store.ids_of_other_kinds(filters.kind, limit=EXCLUDE_MAX + 1)
            if len(others) <= EXCLUDE_MAX:
                self.excluded, self.filters = set(others), replace(filters, kind="")
        self.where, self.params = self.filters.sql()
        self._allowed_set: set[int] | None = None
        self._size_bound: int | None = None
        if dense:
            self.index = kb._sync_index()
            own = self.filters.sql(alias="")
            self.allowed = kb.store.ids(*own) if own[0] else None

    def lexical(self, match: str, limit: int, weights: tuple[float, float]) -> list[tuple[int, float]]:
        found = self.kb.store.fts(match, self.where, self.params, limit + len(self.excluded), weights=weights)
        return [hit for hit in found if hit[0] not in self.excluded][:limit]

    def dense(self, vector: np.ndarray, limit: int, within: list[int] | None = None) -> list[tuple[int, float]]:
        if within is not None:
            if self.allowed is not None:
                if self._allowed_set is None:
                    self._allowed_set = set(self.allowed)
                within = [i for i in within if i in self._allowed_set]
            return self.index.search(vector, limit, [i for i in within if i not in self.excluded])
        found = self.index.search(vector, limit + len(self.excluded), self.allowed)
        return [hit for hit in found if hit[0] not in self.excluded][:limit]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.kb.embedder.embed_queries(texts)

    def expression_vectors(self, texts: list[str]) -> np.ndarray:
        return self.kb._expression_vectors(texts)

    def postings(self, column: str, token: str, cap: int) -> int:
        return self.kb._postings(column, token, cap, self.size_bound())

    def size_bound(self) -> int:
        if self._size_bound is None:
            self._size_bound = self.kb.store.max_id()
        return self._size_bound

    def vectors(self, ids: list[int]) -> list[np.ndarray]:
        return [v for v in (self.index.vector(i) for i in ids) if v is not None]

    def text(self, record_id: int) -> str:
        rec = self.kb.store.get_many([record_id]).get(record_id)
        return f"{rec.title} {rec.text}" if rec else ""

    def in_regions(self, regions) -> list[int]:
        names = [r.name for r in regions]
        marks = ",".join("?" for _ in names)
        where = f"(region IN ({marks}) OR city IN ({marks}) OR province IN ({marks}))"
        own, params = self.filters.sql(alias="")
        return self.kb.store.ids(f"{where} AND {own}" if own else where, names * 3 + params)


class KnowledgeBase:
    """A knowledge base in one folder (see :class:`Settings` for where its files live)."""

    def __init__(self, home: str | Path | None = None, settings: Settings | None = None, *,
                 empty: bool = False, actor: str = "local", editor: Editor | None = None):
        """Open (or create) the knowledge base.

        ``actor`` is recorded for writes in single-user mode (no editors.toml). ``editor`` is a
        signed-in :class:`~reformkb.auth.Editor` used for writes that do not pass their own: right
        for a script or the CLI, wrong for a KnowledgeBase shared by several app sessions (pass
        ``editor=`` to each write there). See :mod:`reformkb.auth`.
        """
        self.settings = settings or Settings.default(home)
        new = not self.settings.db_path.exists() or self.settings.db_path.stat().st_size == 0
        self.store = Store(self.settings.db_path)
        self.actor = actor
        self.editors = Editors.for_home(self.settings.home)
        self.editor = editor
        self.db_id = self.store.meta_default("db_id", uuid.uuid4().hex)
        self.glossary = Glossary.load(self.settings.home / "glossary.tsv")
        self._embedder = None
        self._index: VectorIndex | None = None
        self._lock = threading.RLock()
        self._postings_cache: tuple[int, dict] = (0, {})
        self._expressions: dict[str, np.ndarray] = {}  # glossary expression → query vector
        if new and not empty and self.store.count() == 0:
            sources = sorted(p for p in self.settings.sources_dir.glob("*") if p.suffix.lower() in BULLETIN_SUFFIXES)
            if sources:  # the shipped default content, stored when the knowledge base is created
                self._import_files(sources, None, True, actor="init")

    # -- editors ------------------------------------------------------------------------------------
    @property
    def requires_sign_in(self) -> bool:
        """True when changes need an editor sign-in (editors.toml exists); reading never does."""
        return self.editors.enabled

    def sign_in(self, name: str, password: str) -> Editor:
        """Check an editor's name and password; the Editor to pass as ``editor=`` to writes.

        Raises AuthError. Does not change this KnowledgeBase (it may be shared by other sessions).
        """
        return self.editors.sign_in(name, password)

    def sign_in_key(self, key: str, name: str) -> Editor:
        """Check the shared editor key; ``name`` is the person, recorded in the audit log."""
        return self.editors.sign_in_key(key, name)

    def authorize(self, editor: Editor | None = None) -> str:
        """The actor the audit log records for a write by ``editor`` (or the default editor).

        Raises AuthError when editors are configured and ``editor`` is missing or no longer valid.
        """
        return self.editors.authorize(editor if editor is not None else self.editor, self.actor)

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
            from reformkb.search.embedding import Embedder

            self._embedder = Embedder(self.settings)
        return self._embedder

    def _vectors_for(self, records: list[Record]) -> np.ndarray:
        """Vectors for records, from the cache where the text is unchanged, embedding the rest."""
        model = self.settings.model
        cached = self.store.get_vectors(model, [r.content_hash for r in records])
        if cached and self._embedder is not None:  # a cache written by another model of the same name
            cached = {h: v for h, v in cached.items() if v.shape[0] == self._embedder.dim}
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
            db_id = self.store.get_meta("db_id") or self.db_id
            if db_id != self.db_id:  # the database was restored from a backup (by any process)
                log.warning("database %s was replaced: rebuilding the vector index", self.settings.db_path)
                self.db_id, self._index = db_id, None
            index = self._index
            loaded = False
            if index is None:
                index = VectorIndex(self.settings.index_dir, self.settings.model, self.embedder.dim,
                                    self.settings.exact_index_max, self.settings.ann)
                loaded = index.load(self.db_id)
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
                    index.upsert([r.id for r in recs], self._vectors_for(recs))
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
                index.save()
            return index

    def put_vectors(self, texts: list[str], vectors: np.ndarray) -> None:
        """Put precomputed vectors of this knowledge base's model (unit length, one row per record text,
        as ``embed_documents`` would give for the record) into the vector cache, so that storing records
        with these texts embeds nothing. For bulk loads and the benchmarks; vectors from another model
        would silently degrade semantic search, so only pass vectors this model produced."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise InputError("向量的行数应与正文条数一致。")
        self.store.put_vectors(self.settings.model, {content_hash(clean_text(t)): v for t, v in zip(texts, vectors)})

    def _vectors_agree(self, index: VectorIndex, sample: int = 8) -> bool:
        """Spot check: a few of the index's vectors equal the cached vectors of their records' texts."""
        ids = sorted(index.ids())
        if not ids:
            return True
        picks = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, min(sample, len(ids)))]
        recs = self.store.get_many(picks)
        cached = self.store.get_vectors(self.settings.model, [r.content_hash for r in recs.values()])
        for rid, rec in recs.items():
            mine, known = index.vector(rid), cached.get(rec.content_hash)
            if mine is not None and known is not None and (known.shape != mine.shape or not np.allclose(mine, known, atol=1e-4)):
                return False
        return True

    def rebuild_index(self) -> dict:
        """Rebuild the vector index from the database (vectors come from the cache) and save it."""
        with self._lock:
            index = VectorIndex(self.settings.index_dir, self.settings.model, self.embedder.dim,
                                self.settings.exact_index_max, self.settings.ann)
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

    def add(self, data: Record | dict, *, check_duplicates: bool = True,
            editor: Editor | None = None) -> tuple[Record, list[tuple[Record, float]]]:
        """Store one record; returns it (with its id) and the near-duplicates found before storing.

        An exact duplicate (same text) is refused with InputError naming the existing record.
        AuthError when editors are configured and ``editor`` is not a signed-in editor.
        """
        actor = self.authorize(editor)
        if not isinstance(data, (Record, dict)):
            raise InputError("新增的案例应为 Record 或字段表（dict）。")
        rec = self.prepare(data)
        rec.id = None  # the store numbers new records; an id in the input is not kept
        existing = self.store.has_hash(rec.content_hash)
        if existing:
            raise InputError(f"这条案例已经在知识库中（第 {existing} 条，正文相同），没有重复保存。")
        near = []
        if check_duplicates:
            try:
                near = self.near_duplicates(_embed_text(rec))
            except ModelError as exc:
                log.warning("duplicate check skipped: %s", exc)
        ids = self.store.insert_many([rec], actor=actor)
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

    def edit(self, record_id: int, *, editor: Editor | None = None, **changes) -> Record:
        """Change fields of a record; derived fields (metrics, hash, topics if not given) follow the text."""
        actor = self.authorize(editor)
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
        self.store.update(rec, actor=actor)
        self._try_sync()
        return rec

    def delete(self, record_id: int, *, editor: Editor | None = None) -> Record:
        """Delete a record from the database and from every search mode at once (undo: :meth:`restore`)."""
        actor = self.authorize(editor)
        rec = self.store.delete(int(record_id), actor=actor)
        self._try_sync()
        return rec

    def restore(self, record_id: int, *, editor: Editor | None = None) -> Record:
        """Bring back a deleted record from the audit log, under its old id."""
        actor = self.authorize(editor)
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
                if self.store.insert_many([rec], actor=actor, op="restore")[0] is None:
                    raise InputError(f"第 {record_id} 条刚刚已被恢复或其正文已被重新录入，无需恢复。")
                self._try_sync()
                return rec
        raise NotFoundError(f"审计日志中没有第 {record_id} 条的删除记录，无法恢复。")

    def deleted(self, limit: int = 100) -> list[Change]:
        """Deletions in the audit log whose record is still deleted (newest first): what can be restored."""
        return self.store.deletions(limit)

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
        try:
            data = Path(source).read_bytes() if not isinstance(source, bytes) else source
        except OSError as exc:
            raise InputError(f"无法读取文件 {name}（{exc.strerror or exc}）：请检查路径和权限。") from exc
        if len(data) > self.settings.max_file_bytes:
            raise InputError(f"{name} 超过上限 {self.settings.max_file_bytes // (1024 * 1024)} MB：请拆分文件后再导入。")
        from reformkb.ingest.documents import decode_text

        text = decode_text(data, name)
        if not text.strip():
            raise InputError(f"{name} 是空文件：请选择有内容的案例表。")
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
            csv.field_size_limit(max(csv.field_size_limit(), self.settings.max_file_bytes))
            reader = csv.DictReader(io.StringIO(text))
            try:
                if not reader.fieldnames or "text" not in reader.fieldnames:
                    raise InputError(f"{name} 缺少 text（正文）列：第一行应为列名，至少包含 text，可选 region、title、topics 等。")
                for row in reader:
                    label = f"第 {reader.line_num} 行"
                    if None in row:
                        report.warnings.append(f"{name} {label}比列名多出 {len(row[None])} 个值，多出的值已忽略。")
                    rows.append((label, {k: v for k, v in row.items() if k is not None}))
            except csv.Error as exc:
                raise InputError(f"{name} 第 {reader.line_num} 行不是有效的 CSV（{exc}）：请用 Excel 另存为“CSV UTF-8”后再导入。") from exc
        if not rows and not report.refused:
            raise InputError(f"{name} 中没有案例：JSONL 每行一条（JSON 对象），CSV 第一行为列名、其后每行一条。")
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
                      progress: Callable[[int, int], None] | None = None, *,
                      editor: Editor | None = None) -> ImportReport:
        """Store prepared records in batches (each batch one transaction), skipping exact duplicates.

        A batch is stored whole or not at all; an interrupted import can be run again and stores only
        what is missing. AuthError (nothing stored) when editors are configured and ``editor`` is not
        a signed-in editor.
        """
        return self._store_records(records, report, progress, actor=self.authorize(editor))

    def _store_records(self, records: Iterable[Record], report: ImportReport | None,
                       progress: Callable[[int, int], None] | None, *, actor: str) -> ImportReport:
        report = report or ImportReport()
        records = list(records)
        for rec in records:
            rec.id = None  # imported records are numbered by the store
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
            ids = self.store.insert_many(batch, actor=actor, op="import")
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
                     include_actions: bool = True, *, editor: Editor | None = None) -> ImportReport:
        """Parse and store each file; a file that cannot be read is refused whole, with the reason.

        AuthError (nothing read or stored) when editors are configured and ``editor`` is not a
        signed-in editor.
        """
        return self._import_files(paths, progress, include_actions, actor=self.authorize(editor))

    def _import_files(self, paths: Iterable[Path | str], progress: Callable[[int, int], None] | None,
                      include_actions: bool, *, actor: str) -> ImportReport:
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
            self._store_records(drafts, report, progress, actor=actor)
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
        q = parse_query(query, self.settings.max_query_chars, self.glossary)
        k = max(1, min(int(k), 1000))
        ranked = rank(q, mode, k, _SearchBackend(self, filters, dense=mode != "keyword"))[:k]
        found = self.store.get_many([s.id for s in ranked])
        return [Hit(found[s.id], s.score, s.lexical, s.semantic,
                    matched_terms(q, found[s.id].title + found[s.id].text), s.boost)
                for s in ranked if s.id in found]

    def _filters(self, filters: Filters | None, kwargs: dict) -> Filters:
        from reformkb.ingest.regions import normalize
        from reformkb.ingest.topics import normalize_topic

        filters = filters or Filters(**kwargs)
        if filters.region:
            filters.region = normalize(filters.region).name
        if filters.province:
            filters.province = normalize(filters.province).province
        if filters.topic:
            filters.topic = normalize_topic(filters.topic)
        return filters

    def _expression_vectors(self, texts: list[str]) -> np.ndarray:
        """Query vectors of glossary expressions, each embedded once and kept (a glossary holds a few
        hundred expressions at most, so this stays small)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._expressions]
        if missing:
            self._expressions.update(zip(missing, self.embedder.embed_queries(missing)))
        return np.vstack([self._expressions[t] for t in texts])

    def _postings(self, column: str, token: str, cap: int, bound: int) -> int:
        """Records holding ``token`` in ``column`` (up to ``cap``), remembered until the knowledge base
        (``bound``: its largest id) grows or shrinks by a tenth: the keyword side only needs them
        roughly, to bound its cost."""
        with self._lock:
            stale = not (0.9 * self._postings_cache[0] <= bound <= 1.1 * self._postings_cache[0])
            if stale or len(self._postings_cache[1]) > 100_000:  # a long-running app: keep it small
                self._postings_cache = (bound, {})
            counts = self._postings_cache[1]
            key = (column, token, cap)
        if key not in counts:
            counts[key] = self.store.fts_count(f"{column} : {fts_phrase(token)}", cap)
        return counts[key]

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
        """A consistent copy of the database (the index is derived and rebuilt on open).

        Uses SQLite's online backup API, so it is safe while the app and other processes read and
        write; ``dest`` appears only when the copy is complete and checked.
        """
        dest = Path(dest)
        self.store.backup_to(dest)
        return dest

    def restore_database(self, backup: Path | str, *, editor: Editor | None = None) -> dict:
        """Replace this knowledge base's database with a backup (see :meth:`restore_backup`)."""
        actor = self.authorize(editor)
        with self._lock:
            result = _restore_into(self.store, self.settings, Path(backup), actor)
            self.db_id, self._index = result["db_id"], None
        return result

    @classmethod
    def restore_backup(cls, backup: Path | str, home: str | Path | None = None, settings: Settings | None = None, *,
                       editor: Editor | None = None, actor: str = "local") -> dict:
        """Replace the database of ``home`` with ``backup``, also when the current one is damaged.

        The backup is checked first (a reformkb database, intact, not from a newer version); the
        current database is kept beside it as ``reformkb.db-before-restore-<time>``. The restored
        database gets a new identity, so every process rebuilds its vector index from it (from the
        cached vectors; nothing is re-embedded). The restore is recorded in the audit log.
        Returns records, last_change, kept (the previous database) and db_id.
        """
        settings = settings or Settings.default(home)
        actor = Editors.for_home(settings.home).authorize(editor, actor)
        backup = Path(backup)
        verify_backup(backup)
        if backup.resolve() == settings.db_path.resolve():
            raise InputError("备份文件就是当前的知识库文件：请选择另一个备份。")
        try:
            store = Store(settings.db_path)
        except StoreError as exc:  # damaged or foreign: set it aside whole and restore into a new file
            log.warning("current database unusable (%s): moving it aside", exc)
            kept = _kept_path(settings.db_path)
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{settings.db_path}{suffix}")
                if part.exists():
                    part.rename(Path(f"{kept}{suffix}"))
            store = Store(settings.db_path)
            try:
                result = _restore_into(store, settings, backup, actor, kept=kept)
            finally:
                store.close()
            return result
        try:
            return _restore_into(store, settings, backup, actor)
        finally:
            store.close()
