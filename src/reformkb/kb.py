"""The facade: the one public API over the store, the ingest pipeline and the search wing.

The CLI, the Streamlit app, the benchmarks and the tests all go through :class:`KnowledgeBase`.

    kb = KnowledgeBase()                      # the project's default knowledge base
    for hit in kb.search("企业注销提速", k=10):
        print(hit.record.region, hit.record.title, hit.score)

Each method is a few lines that delegate: importing to :mod:`reformkb.ingest.pipeline`, searching to
:mod:`reformkb.search.backend`, keeping the vector index in step to :mod:`reformkb.search.keeper`,
restoring to :mod:`reformkb.backup`. The embedding model is loaded on first need (a semantic or
hybrid search, or a write), so keyword search and browsing start fast.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from reformkb import backup as backups
from reformkb.auth import Editor, Editors
from reformkb.errors import InputError, ModelError, ReformKBError
from reformkb.ingest import metrics, pipeline, places
from reformkb.ingest.documents import BULLETIN_SUFFIXES
from reformkb.ingest.enrich import PlaceReview, place_review
from reformkb.ingest.pipeline import FilePreview, ImportReport
from reformkb.ingest.places import PlaceCount, RegionCount, UnresolvedPlace
from reformkb.ingest.regions import Gazetteer, Region, gazetteer_for, normalize
from reformkb.outputs import clean_stale, kb_files
from reformkb.records import KIND_PRACTICE, Record, edited, hit_count, record_number, whole_number
from reformkb.search.backend import Searcher, search_filters
from reformkb.search.fusion import Filters, Hit
from reformkb.search.glossary import Glossary
from reformkb.search.keeper import IndexKeeper, embed_text
from reformkb.search.vectors import VectorIndex
from reformkb.settings import Settings
from reformkb.store import READ_ONLY, Change, Store

log = logging.getLogger(__name__)

DUPLICATE_THRESHOLD = 0.93  # cosine above which an incoming practice is reported as a near-duplicate
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
        if not self.store.read_only:
            clean_stale(self.settings.db_path.parent)  # temporary files of killed backups and restores
        self.store.refresh_metrics(metrics.VERSION, metrics.record_metrics)  # stored by an older reader
        self.actor = actor
        self.editors = Editors.for_home(self.settings.home)
        self.editor = editor
        self.glossary = Glossary.load(self.settings.home / "glossary.tsv")
        self.keeper = IndexKeeper(self.store, self.settings, self.store.identity())
        self.searcher = Searcher(self.store, self.keeper, self.settings, self.glossary)
        if new and not empty and self.store.count() == 0:
            sources = sorted(p for p in self.settings.sources_dir.glob("*") if p.suffix.lower() in BULLETIN_SUFFIXES)
            if sources:  # the shipped default content, stored when the knowledge base is created
                self._import_files(sources, None, True, actor="init")

    @property
    def notices(self) -> list[str]:
        """Why this knowledge base works with limits right now (read-only, index kept in memory)."""
        found = [READ_ONLY.format(path=self.settings.db_path)] if self.store.read_only else []
        folder = self.keeper.folder_notice()
        return found + ([folder] if folder else [])

    # -- editors ------------------------------------------------------------------------------------
    @property
    def requires_sign_in(self) -> bool:
        """True when changes need an editor sign-in (editors.toml exists); reading never does."""
        return self.editors.enabled

    def sign_in(self, name: str, password: str, client: str = "") -> Editor:
        """Check an editor's name and password; the Editor to pass as ``editor=`` to writes.

        Raises AuthError, also while the name or ``client`` (e.g. the browser's address) waits out
        a delay or lock-out earned by failed attempts. Does not change this KnowledgeBase.
        """
        return self.editors.sign_in(name, password, client)

    def sign_in_key(self, key: str, name: str, client: str = "") -> Editor:
        """Check the shared editor key; ``name`` is the person, recorded in the audit log."""
        return self.editors.sign_in_key(key, name, client)

    def session_token(self, editor: Editor) -> str:
        """A signed token for a browser to keep ``editor`` signed in for a working day (see auth.py)."""
        return self.editors.issue_token(editor)

    def resume_session(self, token: str) -> Editor | None:
        """The editor of a token from :meth:`session_token`; None when it is forged, expired or revoked."""
        return self.editors.resume(token)

    def authorize(self, editor: Editor | None = None) -> str:
        """The actor the audit log records for a write by ``editor`` (or the default editor).

        Raises AuthError when editors are configured and ``editor`` is missing or no longer valid.
        """
        return self.editors.authorize(editor if editor is not None else self.editor, self.actor)

    # -- lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Persist the vector index if it changed, and close the database."""
        with self.keeper.lock:
            self.keeper.close()
            self.store.close()

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- model and index --------------------------------------------------------------------------
    @property
    def embedder(self):
        """The embedding model, loaded on first use (raises ModelError with advice if it cannot be)."""
        return self.keeper.embedder

    def warm_up(self) -> None:
        """Load the model and the index by one search, so that the user's first is fast (for a background
        thread at start-up: problems are logged, the user's own search reports them)."""
        try:
            self.search("优化营商环境", k=1)
        except ReformKBError as exc:
            log.warning("warm-up failed: %s", exc)

    @property
    def db_id(self) -> str:
        """This database's identity (new after a restore, so that every process rebuilds its index)."""
        return self.keeper.db_id

    def _sync_index(self, save: bool = True) -> VectorIndex:
        """The vector index, brought up to date with the change log (see :class:`IndexKeeper`)."""
        return self.keeper.sync(save)

    def put_vectors(self, records: list[Record | dict | str], vectors: np.ndarray, *,
                    editor: Editor | None = None) -> None:
        """Put precomputed vectors of this knowledge base's model (unit length, one row per record, as
        ``embed_documents(embed_text(record))`` gives) into the vector cache, so that storing these
        records embeds nothing. A record may be given as a Record, a dict or its text (then completed as
        :meth:`prepare` would). For bulk loads and the benchmarks; vectors from another model would
        silently degrade semantic search, so only pass vectors this model produced. A write: AuthError
        when editors are configured and ``editor`` is not a signed-in editor."""
        self.authorize(editor)
        self.keeper.put_vectors([self.prepare({"text": r} if isinstance(r, str) else r) for r in records], vectors)

    def rebuild_index(self, *, editor: Editor | None = None) -> dict:
        """Rebuild the vector index from the database (vectors come from the cache) and save it.

        A write (it replaces the index files): AuthError in editor mode without a signed-in editor.
        """
        self.authorize(editor)
        self.keeper.rebuild()
        return self.index_status()

    def index_status(self) -> dict:
        """The vector index as it is on disk and in memory (without loading the model)."""
        return self.keeper.status()

    # -- writing ----------------------------------------------------------------------------------
    def prepare(self, data: Record | dict) -> Record:
        """A complete, validated record from a dict or Record (not stored). Raises InputError."""
        return pipeline.prepare(data, self.settings)

    def near_duplicates(self, text: str, k: int = 3, threshold: float = DUPLICATE_THRESHOLD,
                        exclude: int | None = None) -> list[tuple[Record, float]]:
        """Stored records that say nearly the same as ``text``, with their cosine similarity."""
        if not isinstance(text, str):
            raise InputError("查重的正文必须是文字。")
        return self.searcher.near_duplicates(text, hit_count(k), threshold, exclude)

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
        pipeline.check_new(self.store, rec)
        near = []
        if check_duplicates:
            try:
                near = self.near_duplicates(embed_text(rec))
            except ModelError as exc:
                log.warning("duplicate check skipped: %s", exc)
        if self.store.insert_many([rec], actor=actor)[0] is None:
            raise InputError("这条案例刚刚已被其他人保存，没有重复保存。")
        self.keeper.try_sync()
        return rec, near

    def edit(self, record_id: int, *, editor: Editor | None = None, **changes) -> Record:
        """Change fields of a record; derived fields (metrics, hash, topics if not given) follow the text.

        A change to an embedded field (title, region, agency, text) re-embeds the record and updates
        the vector index before this returns.
        """
        actor = self.authorize(editor)
        record_id = record_number(record_id)
        rec = self.prepare(edited(self.store.get(record_id), changes))
        rec.id = record_id
        self.store.update(rec, actor=actor)
        self.keeper.try_sync()
        return rec

    def delete(self, record_id: int, *, editor: Editor | None = None) -> Record:
        """Delete a record from the database and from every search mode at once (undo: :meth:`restore`)."""
        actor = self.authorize(editor)
        rec = self.store.delete(record_number(record_id), actor=actor)
        self.keeper.try_sync()
        return rec

    def restore(self, record_id: int, *, editor: Editor | None = None) -> Record:
        """Bring back a deleted record from the audit log, under its old id."""
        actor = self.authorize(editor)
        rec = self.store.undelete(record_number(record_id), actor=actor)
        self.keeper.try_sync()
        return rec

    def deleted(self, limit: int = 100) -> list[Change]:
        """Deletions in the audit log whose record is still deleted (newest first): what can be restored."""
        return self.store.deletions(whole_number(limit, "条数"))

    # -- importing --------------------------------------------------------------------------------
    def parse_file(self, source: Path | bytes, name: str | None = None, include_actions: bool = True, *,
                   page_progress: Callable[[int, int], None] | None = None, draft_progress: Callable[[int, int], None]
                   | None = None, cancel: pipeline.Cancel | None = None) -> tuple[list[Record], ImportReport]:
        """Draft records from a bulletin or record file, validated but not stored (for review).

        Bulletins in every form of docs/usage.md; ``page_progress(done, total)`` follows OCR page by page,
        ``draft_progress`` the paragraphs; ``cancel`` set: ImportCancelled at the next page or paragraph.
        """
        return pipeline.parse_file(source, self.settings, name, include_actions, page_progress, draft_progress, cancel)

    def parse_text(self, text: str, name: str = "粘贴的专报", include_actions: bool = True, *,
                   cancel: pipeline.Cancel | None = None) -> tuple[list[Record], ImportReport]:
        """Like :meth:`parse_file` for pasted bulletin text."""
        return pipeline.parse_text(text, self.settings, name, include_actions, cancel=cancel)

    def store_records(self, records: Iterable[Record], report: ImportReport | None = None,
                      progress: Callable[[int, int], None] | None = None, *,
                      editor: Editor | None = None) -> ImportReport:
        """Store prepared records in batches (each batch one transaction), skipping exact duplicates.

        A batch is stored whole or not at all; an interrupted import can be run again and stores only
        what is missing. AuthError (nothing stored) when editors are configured and ``editor`` is not
        a signed-in editor.
        """
        report = pipeline.store_records(self.store, records, report, progress, actor=self.authorize(editor))
        if report.added:
            self.keeper.try_sync()
        return report

    def import_files(self, paths: Iterable[Path | str], progress: Callable[[int, int], None] | None = None,
                     include_actions: bool = True, *, editor: Editor | None = None,
                     page_progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
        """Parse and store each file; a file that cannot be read is refused whole, with the reason.

        ``page_progress(file name, done, total)`` follows the pages that need OCR. AuthError (nothing
        read or stored) when editors are configured and ``editor`` is not a signed-in editor.
        """
        return self._import_files(paths, progress, include_actions, actor=self.authorize(editor),
                                  page_progress=page_progress)

    def preview_import(self, paths: Iterable[Path | str], include_actions: bool = True) -> list[FilePreview]:
        """What :meth:`import_files` would do with each file, nothing stored; needs no sign-in."""
        return pipeline.preview_files(self.store, self.settings, paths, include_actions)

    def _import_files(self, paths, progress, include_actions: bool, *, actor: str,
                      page_progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
        report = pipeline.import_files(self.store, self.settings, paths, progress, include_actions, actor=actor,
                                       page_progress=page_progress)
        if report.added:
            self.keeper.try_sync()
        return report

    # -- reading ----------------------------------------------------------------------------------
    def get(self, record_id: int) -> Record:
        return self.store.get(record_number(record_id))

    def count(self, filters: Filters | None = None) -> int:
        where, params = (filters or Filters(kind="")).sql(alias="")
        return self.store.count(where, params)

    def records(self, filters: Filters | None = None, order: str = "id", limit: int | None = None) -> list[Record]:
        """Records matching the filters (all kinds unless ``filters.kind`` is set)."""
        orders = {"id": "id", "latest": "updated_at DESC, id DESC", "region": "province, region, id",
                  "reduction": "best_reduction IS NULL, best_reduction DESC, id", "date": "source_date DESC, id"}
        where, params = (filters or Filters(kind="")).sql(alias="")
        limit = None if limit is None else whole_number(limit, "条数", 0)
        return self.store.query(where, params, order=orders.get(order, "id"), limit=limit)

    def latest(self, k: int = 10, filters: Filters | None = None) -> list[Record]:
        return self.records(filters or Filters(), order="latest", limit=hit_count(k))

    def search(self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None,
               as_typed: bool = False, **filter_kwargs) -> list[Hit]:
        """The k best records for ``query``. Modes: hybrid (default), keyword, semantic.

        Filters may be given as a :class:`Filters` or as keywords (province=, region=, topic=, …).
        Raises InputError for an empty or punctuation-only query, an unknown mode or region. Homophone
        typos are corrected (企业住销 is searched as 企业注销, ``hit.searched_as``) unless ``as_typed``."""
        return self.searcher.search(query, hit_count(k), mode, self._filters(filters, filter_kwargs), as_typed)

    def _filters(self, filters: Filters | None, kwargs: dict) -> Filters:
        return search_filters(filters, kwargs, self.gazetteer)

    def suggest_topics(self, records: list[Record]) -> list[str]:
        """For each record without topics, the topic the embedding model finds nearest, to show as a
        suggestion ("推荐主题"); "" for records that have topics. Nothing is stored."""
        return self.searcher.suggest_topics(records)

    def similar(self, record_id: int, k: int = 5, other_regions: bool = True) -> list[Hit]:
        """The practices most like record ``record_id`` (by default from other regions)."""
        return self.searcher.similar(record_number(record_id), hit_count(k), other_regions)

    def regions(self, kind: str = KIND_PRACTICE) -> list[RegionCount]:
        """Every region with records, its province and count (most first)."""
        where, params = ("kind = ?", [kind]) if kind else ("", [])
        return [RegionCount(r["province"], r["region"], r["n"])
                for r in self.store.grouped_counts(["province", "region"], where, params)]

    # -- places -----------------------------------------------------------------------------------
    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer with this knowledge base's own places (``places.tsv`` in its home)."""
        return gazetteer_for(self.settings.home)

    def place_tree(self, province: str = "", kind: str = KIND_PRACTICE) -> list[PlaceCount]:
        """Record counts by province → city → county or zone (only the cities of ``province`` if given)."""
        return places.place_tree(self.store, province and normalize(province, self.gazetteer).province, kind)

    def unresolved_places(self, kind: str = "") -> list[UnresolvedPlace]:
        """The stored places that are "地区待确认" (not a unit of the gazetteer), most records first."""
        return places.unresolved(self.store, self.gazetteer, kind)

    def place_review(self, rec: Record) -> PlaceReview | None:
        """Why ``rec``'s place is "地区待确认" and what it may be; ``None`` when it is a known unit."""
        return place_review(rec, self.gazetteer)

    def add_place(self, name: str, parent: str, *, editor: Editor | None = None) -> Region:
        """Add a place of this knowledge base's own (a town, a park) under ``parent``; records whose
        stored place it is are no longer "地区待确认". InputError for a bad or known name."""
        actor = self.authorize(editor)
        return places.add_own_place(self.store, self.settings.home, name, parent, actor, self.unresolved_places,
                                    lambda rid, region: self.edit(rid, region=region, editor=editor))

    def confirm_place(self, written: str, place: str, *, editor: Editor | None = None) -> list[Record]:
        """Set the place of every record whose unresolved place is ``written`` to ``place`` (for example
        朝阳区 → 长春市朝阳区); returns the records changed."""
        return [self.edit(rid, region=place, editor=editor) for rid in places.ids_written(self.unresolved_places(), written)]

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
        regions = self.regions()
        info.update(
            practices=self.store.count("kind = ?", [KIND_PRACTICE]),
            actions=self.store.count("kind != ?", [KIND_PRACTICE]),
            regions=len(regions), provinces=len({r.province for r in regions}),
            sources=len([s for s in self.sources() if s[0]]),  # cases without a source are not a bulletin
            database=str(self.settings.db_path),
            index_dir=str(self.settings.index_dir),
            restore_copies=backups.kept_list(self.settings.db_path),
            read_only=self.store.read_only,
            notices=self.notices,
        )
        return info

    def changes(self, record_id: int | None = None, limit: int = 200):
        """The audit log, newest first."""
        if record_id is not None:  # 0: entries about the whole knowledge base (restores)
            record_id = whole_number(record_id, "案例编号", 0)
        return self.store.changes(record_id, whole_number(limit, "条数"))

    # -- export and backup ------------------------------------------------------------------------
    @property
    def files(self) -> tuple[Path, ...]:
        """This knowledge base's own files and folders: no output may ever be written onto them."""
        return kb_files(self.settings.db_path, self.settings.index_dir, self.editors.path)

    def export(self, records: list[Record], path: Path | str, fmt: str | None = None, group_by: str = "region", *,
               force: bool = False) -> Path:
        """Write records as xlsx, csv, docx (report text, grouped by ``group_by``) or jsonl (every field), by
        ``fmt`` or the file's suffix; returns the path written. An existing file is refused unless ``force``;
        a knowledge-base file always (see :mod:`reformkb.outputs`)."""
        from reformkb.export import write_records

        return write_records(records, Path(path), fmt, group_by, force=force, protected=self.files)

    def backup(self, dest: Path | str, *, force: bool = False) -> Path:
        """A consistent copy of the database (the index is derived and rebuilt on open).

        Uses SQLite's online backup API, so it is safe while the app and other processes read and
        write; ``dest`` appears only when the copy is complete and checked. An existing ``dest`` is
        refused unless ``force``; a knowledge-base file always. Returns the path written.
        """
        return self.store.backup_to(Path(dest), force=force, protected=self.files)

    def restore_database(self, backup: Path | str, *, editor: Editor | None = None) -> dict:
        """Replace this knowledge base's database with a backup (see :mod:`reformkb.backup`)."""
        return self._restore(Path(backup), self.authorize(editor), undo=False)

    def undo_restore(self, *, editor: Editor | None = None) -> dict:
        """Undo the latest restore by restoring the copy it kept (logged like any restore)."""
        actor = self.authorize(editor)
        return self._restore(backups.undo_source(self.store, self.settings), actor, undo=True)

    def _restore(self, backup: Path, actor: str, undo: bool) -> dict:
        with self.keeper.lock:
            result = backups.restore_into(self.store, self.settings, backup, actor, undo=undo)
            self.keeper.forget(result["db_id"])
        return result

    @classmethod
    def restore_backup(cls, backup: Path | str, home: str | Path | None = None, settings: Settings | None = None, *,
                       editor: Editor | None = None, actor: str = "local") -> dict:
        """Replace the database of ``home`` with ``backup``, also when the current one is damaged: the
        backup is checked first, the current database kept beside it, the audit log kept whole (see
        :mod:`reformkb.backup`). Returns records, last_change, kept, db_id, carried and not_carried."""
        settings = settings or Settings.default(home)
        actor = Editors.for_home(settings.home).authorize(editor, actor)
        return backups.restore_home(settings, Path(backup), actor)
