"""The docs stay true to the code: every topic and CLI command they should name is named."""
from __future__ import annotations

from reformkb.cli import build_parser
from reformkb.ingest.topics import taxonomy
from reformkb.settings import project_root

DOCS = project_root() / "docs"


def test_data_doc_lists_every_topic():
    text = (DOCS / "data.md").read_text(encoding="utf-8")
    missing = [t.name for t in taxonomy() if f"| {t.name} |" not in text]
    assert missing == []


def test_usage_doc_covers_every_cli_command():
    text = (DOCS / "usage.md").read_text(encoding="utf-8")
    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [name for name in commands if f"reformkb {name}" not in text]
    assert missing == []
