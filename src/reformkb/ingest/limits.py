"""The limits every reader of a bulletin file works within, so that one file cannot exhaust memory or time;
and :func:`checkpoint`, where an import stops once the person importing has cancelled it.

One :class:`ReadLimits` is passed from the dispatch (:func:`reformkb.ingest.documents.read_pages`) to
each reader. The defaults suit bulletins (a few pages, a few MB); an administrator raises them through
the ``REFORMKB_*`` variables that :class:`reformkb.settings.Settings` reads (see docs/usage.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from reformkb.errors import ImportCancelled

#: ``progress(done, total)``: pages read so far out of all pages of the file.
Progress = Callable[[int, int], None]


class Cancel(Protocol):
    """What asks an import to stop: a :class:`threading.Event` that another thread (the app's 取消导入) sets."""

    def is_set(self) -> bool: ...


def checkpoint(cancel: Cancel | None) -> None:
    """Raise :class:`ImportCancelled` if ``cancel`` has been set; the import calls it between pages and records."""
    if cancel is not None and cancel.is_set():
        raise ImportCancelled()


def checked(progress: Progress | None, cancel: Cancel | None) -> Progress | None:
    """``progress`` followed, after each page, by a :func:`checkpoint` (``progress`` itself without ``cancel``)."""
    if cancel is None:
        return progress

    def step(done: int, total: int) -> None:
        if progress:
            progress(done, total)
        checkpoint(cancel)

    return step

MIB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on the work one file may cause.

    Zip containers (.docx, .ofd) are checked while they are decompressed, member by member, on the
    bytes actually produced, never on the sizes their headers claim.
    """

    max_file_bytes: int = 20 * MIB
    # zip containers (.docx, .ofd)
    max_unpacked_bytes: int = 100 * MIB  # all members together
    max_xml_bytes: int = 25 * MIB  # one XML member (what a parser turns into a tree in memory)
    max_zip_ratio: int = 200  # unpacked / packed, counted once a member passes RATIO_GRACE bytes
    max_zip_members: int = 5_000
    # scans and photos
    max_ocr_pages: int = 60  # pages (or TIFF frames) that need OCR in one file
    max_ocr_seconds: float = 600.0  # OCR time for one file
    max_image_pixels: int = 60_000_000  # one page or photo, checked before it is decoded
    # .doc / .wps through LibreOffice
    convert_timeout: float = 120.0
    # saved web pages
    max_html_bytes: int = 20 * MIB

    @classmethod
    def from_settings(cls, settings) -> "ReadLimits":
        """The limits a :class:`reformkb.settings.Settings` asks for (fields it lacks keep their default)."""
        values = {name: getattr(settings, name) for name in cls.__dataclass_fields__ if hasattr(settings, name)}
        return cls(**values)


#: Members smaller than this may have any compression ratio (tiny XML parts compress very well).
RATIO_GRACE = 1 * MIB

#: The limits a reader uses when it is given none.
DEFAULT_LIMITS = ReadLimits()
