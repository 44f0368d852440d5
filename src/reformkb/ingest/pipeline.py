"""The import pipeline: a file or pasted text becomes draft records, drafts become stored records.

    drafts, report = parse_file(path, settings)          # read, split, complete; nothing stored
    store_records(store, drafts, report, actor="张三")    # batches, each one transaction
    preview = preview_files(store, settings, paths)      # what an import would do; nothing stored

A parse can be cancelled from another thread: ``parse_file(..., cancel=event)`` checks the event before
reading, after each page that needs OCR, after reading, and before each paragraph or row is completed,
and raises :class:`reformkb.errors.ImportCancelled` at the first check after it is set. A parse stores
nothing, so a cancelled one leaves the store as it was.

:class:`ImportReport` says what happened to every paragraph or row: added, skipped as a duplicate,
or refused with the reason; ``left_out`` holds, with its full text and the reason, every paragraph
of a bulletin that is not a draft (编者按, a section that is not a practice section, the footer, a
paragraph without a place), so that a reviewer can take it back.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reformkb.errors import InputError, ReformKBError
from reformkb.ingest.bulletin import LeftOut, parse_bulletin
from reformkb.ingest.documents import read_pages
from reformkb.ingest.enrich import complete, place_review, topic_warnings
from reformkb.ingest.limits import Cancel, Progress, ReadLimits, checked, checkpoint
from reformkb.ingest.recordfile import RECORD_FILE_SUFFIXES, read_record_file
from reformkb.ingest.regions import gazetteer_for
from reformkb.ingest.sections import SectionNames
from reformkb.records import Record, Source
from reformkb.settings import Settings
from reformkb.store import Store

IMPORT_BATCH = 64


@dataclass
class ImportReport:
    """What an import did: records added, skipped as duplicates, and refused with the reason."""

    added: list[Record] = field(default_factory=list)
    duplicates: list[tuple[Record, int]] = field(default_factory=list)  # (incoming, existing id)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    warnings: list[str] = field(default_factory=list)
    near_duplicates: list[tuple[Record, Record, float]] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)  # paragraphs not drafted, with the reason

    def summary(self) -> str:
        return (f"新增 {len(self.added)} 条，重复跳过 {len(self.duplicates)} 条，"
                f"拒绝 {len(self.refused)} 条。")


def prepare(data: Record | dict, settings: Settings) -> Record:
    """A complete, validated record from a dict or Record (not stored). Raises InputError."""
    rec = data if isinstance(data, Record) else Record.from_dict(data)
    return complete(rec, settings)


def check_new(store: Store, rec: Record) -> None:
    """InputError when ``rec`` is already stored (same text) or its external ``ref`` is taken."""
    existing = store.has_hash(rec.content_hash)
    if existing:
        raise InputError(f"这条案例已经在知识库中（第 {existing} 条，正文相同），没有重复保存。")
    taken = store.id_of_ref(rec.ref)
    if taken:
        raise InputError(f"外部编号 ref“{rec.ref}”已被第 {taken} 条使用：一个外部编号只能对应一条案例。")


def _drafted(rows: list[tuple[str, Record | dict]], settings: Settings, report: ImportReport, keep_text: bool = False,
             progress: Progress | None = None, cancel: Cancel | None = None) -> list[Record]:
    """Prepared records; a row that cannot be prepared is refused (and, from a bulletin, left out).

    ``cancel`` is checked and ``progress(done so far, total)`` called before each row, and once at the end."""
    drafts = []
    gaz = gazetteer_for(settings.home)
    for done, (label, row) in enumerate(rows):
        checkpoint(cancel)
        if progress:
            progress(done, len(rows))
        try:
            rec = prepare(row, settings)
        except ReformKBError as exc:
            report.refused.append((label, str(exc)))
            if keep_text and isinstance(row, Record):
                report.left_out.append(LeftOut(row.text, str(exc), row.source.section, refused=True))
            continue
        drafts.append(rec)
        report.warnings += [f"{label}：{w}" for w in topic_warnings(rec)]
        review = place_review(rec, gaz)
        if review is not None:
            report.warnings.append(f"{label}：{review.message}")
    if progress and rows:
        progress(len(rows), len(rows))
    return drafts


def parse_file(source: Path | bytes, settings: Settings, name: str | None = None, include_actions: bool = True,
               page_progress: Progress | None = None, draft_progress: Progress | None = None,
               cancel: Cancel | None = None) -> tuple[list[Record], ImportReport]:
    """Draft records from a bulletin or record file, validated but not stored (for review).

    A bulletin may be in any form :func:`read_pages` reads; ``page_progress(done, total)`` follows
    the pages that need OCR, ``draft_progress(done, total)`` the paragraphs (or rows) being completed.
    What the reader noticed (a scanned page, a name that lies) is a warning. ``cancel`` set (from
    another thread): :class:`ImportCancelled` at the next page or paragraph.
    """
    checkpoint(cancel)
    report = ImportReport()
    name = name or Path(source).name
    if Path(name).suffix.lower() in RECORD_FILE_SUFFIXES:
        rows = read_record_file(source, name, settings.max_file_bytes, report.refused, report.warnings)
    else:
        paged = read_pages(source, name, settings.max_file_bytes, limits=ReadLimits.from_settings(settings),
                           progress=checked(page_progress, cancel))
        checkpoint(cancel)
        report.warnings += paged.warnings
        rows = _rows_from_text(paged.text, name, include_actions, report, settings, default_title=paged.title,
                               cancel=cancel)
        return _drafted(rows, settings, report, True, draft_progress, cancel), report
    return _drafted(rows, settings, report, False, draft_progress, cancel), report


def parse_text(text: str, settings: Settings, name: str = "粘贴的专报", include_actions: bool = True,
               draft_progress: Progress | None = None, cancel: Cancel | None = None) -> tuple[list[Record], ImportReport]:
    """Like :func:`parse_file` for pasted bulletin text."""
    checkpoint(cancel)
    report = ImportReport()
    rows = _rows_from_text(text, name, include_actions, report, settings, cancel=cancel)
    return _drafted(rows, settings, report, True, draft_progress, cancel), report


def _rows_from_text(text: str, name: str, include_actions: bool, report: ImportReport,
                    settings: Settings, default_title: str = "", cancel: Cancel | None = None) -> list[tuple[str, Record]]:
    """Draft rows of a bulletin; ``default_title`` (a web page's <title>) stands in for a masthead title."""
    names = SectionNames.for_home(settings.home)
    parsed = parse_bulletin(text, name, include_actions=include_actions, names=names, gaz=gazetteer_for(settings.home),
                            cancel=cancel)
    report.warnings += parsed.warnings
    report.left_out += parsed.left_out
    title = parsed.source.title or default_title
    out = []
    for d in parsed.drafts:
        src = Source(title, parsed.source.issue, parsed.source.date, d.section, name)
        rec = Record(text=d.text, region_raw=d.region_raw, agency=d.agency, kind=d.kind, source=src)
        out.append((f"【{d.section}】第 {d.paragraph} 段：{d.text[:24]}…", rec))
    return out


def store_records(store: Store, records: Iterable[Record], report: ImportReport | None,
                  progress: Callable[[int, int], None] | None, *, actor: str) -> ImportReport:
    """Store prepared records in batches (each batch one transaction), skipping exact duplicates.

    A batch is stored whole or not at all; an interrupted import can be run again and stores only
    what is missing. The caller brings the vector index up to date afterwards.
    """
    report = report or ImportReport()
    records = list(records)
    for rec in records:
        rec.id = None  # imported records are numbered by the store
    seen: dict[str, Record] = {}  # content hash → the earlier record of this import with that text
    refs: dict[str, Record] = {}
    for start in range(0, len(records), IMPORT_BATCH):
        batch, repeats = [], []
        for rec in records[start : start + IMPORT_BATCH]:
            existing = store.has_hash(rec.content_hash)
            taken = store.id_of_ref(rec.ref) if rec.ref else None
            if existing:
                report.duplicates.append((rec, existing))
            elif rec.content_hash in seen:
                repeats.append((rec, seen[rec.content_hash]))
            elif taken or rec.ref in refs:
                where = f"第 {taken} 条" if taken else "本次导入中前面的一条"
                report.refused.append((f"{rec.region} {rec.title}", f"外部编号 ref“{rec.ref}”已被{where}使用："
                                       "一个外部编号只能对应一条案例，请改正 ref 后再导入这一条。"))
            else:
                seen[rec.content_hash] = rec
                if rec.ref:
                    refs[rec.ref] = rec
                batch.append(rec)
        ids = store.insert_many(batch, actor=actor, op="import")
        for rec, rid in zip(batch, ids):
            if rid is None:  # stored meanwhile by another program
                report.duplicates.append((rec, store.has_hash(rec.content_hash) or store.id_of_ref(rec.ref) or 0))
            else:
                report.added.append(rec)
        for rec, earlier in repeats:  # the same text twice in this import: name the record it repeats
            report.duplicates.append((rec, earlier.id or store.has_hash(rec.content_hash) or 0))
        if progress:
            progress(min(start + IMPORT_BATCH, len(records)), len(records))
    return report


def import_files(store: Store, settings: Settings, paths: Iterable[Path | str],
                 progress: Callable[[int, int], None] | None, include_actions: bool, *, actor: str,
                 page_progress: Callable[[str, int, int], None] | None = None) -> ImportReport:
    """Parse and store each file; a file that cannot be read is refused whole, with the reason.

    ``page_progress(file name, done, total)`` follows the pages of each file that need OCR.
    """
    report = ImportReport()
    for path in paths:
        path = Path(path)
        pages = (lambda done, total, name=path.name: page_progress(name, done, total)) if page_progress else None
        try:
            drafts, file_report = parse_file(path, settings, include_actions=include_actions, page_progress=pages)
        except ReformKBError as exc:
            report.refused.append((path.name, str(exc)))
            continue
        report.refused += [(f"{path.name} {what}", why) for what, why in file_report.refused]
        report.warnings += file_report.warnings
        store_records(store, drafts, report, progress, actor=actor)
    return report


@dataclass
class FilePreview:
    """What importing one file would do (see :func:`preview_files`)."""

    file: str
    added: list[Record] = field(default_factory=list)
    merged: list[tuple[Record, int]] = field(default_factory=list)  # (draft, number of the draft it repeats)
    skipped: list[tuple[Record, int]] = field(default_factory=list)  # (draft, id of the stored record)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why); the whole file when unreadable
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.file}：将新增 {len(self.added)} 条，合并 {len(self.merged)} 条（文件内重复），"
                f"跳过 {len(self.skipped)} 条（知识库已有），拒绝 {len(self.refused)} 条，"
                f"未作为案例的段落 {len(self.left_out)} 个。")

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "added": [r.to_dict() for r in self.added],
            "merged": [{"text": r.text, "region": r.region, "same_as_draft": n} for r, n in self.merged],
            "skipped": [{"text": r.text, "region": r.region, "existing_id": i} for r, i in self.skipped],
            "refused": [{"what": w, "why": y} for w, y in self.refused],
            "left_out": [{"text": o.text, "why": o.reason, "section": o.section} for o in self.left_out],
            "warnings": self.warnings,
        }


def preview_files(store: Store, settings: Settings, paths: Iterable[Path | str],
                  include_actions: bool = True) -> list[FilePreview]:
    """What :func:`import_files` would do with each file, without storing anything.

    A draft is *added* when its content is new, *merged* when it repeats an earlier draft of the
    same file (it would be stored once), *skipped* when the knowledge base already holds it; a
    paragraph is *refused* with the reason, and *left out* when it is not a practice at all.
    """
    previews = []
    for path in paths:
        path = Path(path)
        preview = FilePreview(path.name)
        previews.append(preview)
        try:
            drafts, report = parse_file(path, settings, include_actions=include_actions)
        except ReformKBError as exc:
            preview.refused.append((path.name, str(exc)))
            continue
        preview.refused, preview.warnings = report.refused, report.warnings
        preview.left_out = [o for o in report.left_out if not o.refused]
        first: dict[str, int] = {}
        for number, rec in enumerate(drafts, 1):
            existing = store.has_hash(rec.content_hash)
            if existing:
                preview.skipped.append((rec, existing))
            elif rec.content_hash in first:
                preview.merged.append((rec, first[rec.content_hash]))
            else:
                first[rec.content_hash] = number
                preview.added.append(rec)
    return previews
