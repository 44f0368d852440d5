"""The domain glossary: groups of interchangeable 营商环境 expressions used to expand queries.

The packaged ``data/glossary.tsv`` is the base; a ``glossary.tsv`` in the knowledge base's home adds
groups (same format: one group per line, tab-separated, ``#`` starts a comment). A query that contains
any expression of a group is also searched, lexically, for the group's other expressions.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path


def _parse(lines) -> list[tuple[str, ...]]:
    groups = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms = tuple(dict.fromkeys(t.strip() for t in line.split("\t") if t.strip()))
        if len(terms) > 1:
            groups.append(terms)
    return groups


@dataclass
class Glossary:
    groups: list[tuple[str, ...]]

    @classmethod
    def load(cls, user_file: Path | None = None) -> "Glossary":
        """The packaged glossary plus the user's file, if it exists."""
        text = resources.files("reformkb").joinpath("data/glossary.tsv").read_text(encoding="utf-8")
        groups = _parse(text.splitlines())
        if user_file and Path(user_file).is_file():
            groups += _parse(Path(user_file).read_text(encoding="utf-8-sig").splitlines())
        return cls(groups)

    def expand(self, query: str) -> list[str]:
        """Expressions to search for besides the query itself (never one the query already contains)."""
        out: list[str] = []
        for group in self.groups:
            if any(term in query for term in group):
                out.extend(t for t in group if t not in query and t not in out)
        return out
