"""The domain glossary: groups of interchangeable 营商环境 expressions used to understand queries.

The packaged ``data/glossary.tsv`` is the base; a ``glossary.tsv`` in the knowledge base's home adds
groups (same format: one group per line, terms separated by tabs or ``|``, ``#`` starts a comment).
The first term of a group is its *standard* expression (标准说法), the others are synonyms, the way
applicants say it (不开了, 不用开证明) or English.

A query that contains any term of a group *evokes* the group (see :meth:`Glossary.concepts`):

- keyword search also looks for the group's other terms, at a lower weight than the query's own words;
- semantic search also embeds the query followed by the groups' standard expressions, which moves a
  colloquial query ("公司不开了怎么办手续") toward the vocabulary the practices are written in.

Chinese terms match anywhere in the query; ASCII terms match whole words, case-insensitively
("tax" does not match "taxi").
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reformkb.errors import InputError

log = logging.getLogger(__name__)

_SEPARATORS = re.compile(r"[\t|｜]")


def _norm(term: str) -> str:
    return unicodedata.normalize("NFKC", term).strip()


def _parse(lines) -> list[tuple[str, ...]]:
    groups = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = tuple(dict.fromkeys(t for t in (_norm(t) for t in _SEPARATORS.split(line)) if t))
        if len(terms) > 1:
            groups.append(terms)
    return groups


def _matcher(term: str):
    """A function telling whether ``term`` occurs in a (NFKC, lower-cased) query."""
    low = term.lower()
    if low.isascii():
        pattern = re.compile(r"(?<![a-z0-9])" + re.escape(low) + r"(?![a-z0-9])")
        return lambda text: pattern.search(text) is not None
    return lambda text: low in text


@dataclass(frozen=True)
class Concept:
    """A glossary group evoked by a query: the terms the query used and the group's others."""

    standard: str  # the group's first term
    used: tuple[str, ...]  # terms of the group found in the query
    others: tuple[str, ...]  # the group's remaining terms, to search for as well


class Glossary:
    """Groups of interchangeable expressions (the packaged list plus the user's additions)."""

    def __init__(self, groups: list[tuple[str, ...]], problems: list[str] | None = None):
        self.groups = groups
        self.problems = problems or []  # why the user's file could not be used, for the UI to show
        self._matchers = [[(t, _matcher(t)) for t in group] for group in groups]

    @classmethod
    def load(cls, user_file: Path | None = None) -> "Glossary":
        """The packaged glossary plus the user's file, if it exists.

        The user's file may be UTF-8 (with or without BOM), UTF-16 or GBK, as Excel and Notepad save
        it. A file that cannot be read is skipped with a warning (in ``problems``): search goes on
        with the packaged glossary rather than failing to open.
        """
        text = resources.files("reformkb").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
        groups = _parse(text.splitlines())
        problems = []
        if user_file and Path(user_file).is_file():
            from reformkb.ingest.documents import decode_text

            try:
                groups += _parse(decode_text(Path(user_file).read_bytes(), Path(user_file).name).splitlines())
            except (InputError, OSError) as exc:
                problems.append(f"同义词表 {user_file} 未能读取，检索只用内置词表：{exc}")
                log.warning("%s", problems[-1])
        return cls(groups, problems)

    def concepts(self, query: str) -> list[Concept]:
        """The groups ``query`` evokes, in glossary order (the user's groups after the packaged ones)."""
        text = unicodedata.normalize("NFKC", query).lower()
        out = []
        for group, matchers in zip(self.groups, self._matchers):
            used = tuple(t for t, found in matchers if found(text))
            # A term found only inside a longer term of the same group adds nothing.
            used = tuple(t for t in used if not any(t != u and t.lower() in u.lower() for u in used))
            if used:
                out.append(Concept(group[0], used, tuple(t for t in group if t not in used)))
        return out

    def expand(self, query: str) -> list[str]:
        """Expressions to search for besides the query itself (never one the query already contains)."""
        text = unicodedata.normalize("NFKC", query).lower()
        out: list[str] = []
        for concept in self.concepts(query):
            out.extend(t for t in concept.others if t.lower() not in text and t not in out)
        return out
