"""The layout stays as docs/architecture.md draws it: a thin app.py, a facade that delegates, every module
named on the map, and imports that go one way."""
from __future__ import annotations

import ast

from reformkb.settings import project_root

ROOT = project_root()
PACKAGE = ROOT / "src" / "reformkb"


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_app_entry_and_facade_stay_thin():
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) < 80
    assert len((PACKAGE / "kb.py").read_text(encoding="utf-8").splitlines()) < 450


def test_architecture_doc_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = [p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"]
    assert len(modules) > 20
    missing = [str(p.relative_to(PACKAGE)) for p in modules if p.stem not in text]
    assert missing == []


def test_page_modules_never_import_the_entry_or_each_other():
    pages = {"search", "browse", "add", "importing", "manage"}
    for path in (PACKAGE / "app").glob("*.py"):
        imported = _imports(path)
        assert "app" not in imported, path
        assert not {f"reformkb.app.{p}" for p in pages} & imported, path


def test_wings_do_not_reach_up_into_the_facade_or_the_app():
    for wing in ("ingest", "search"):
        for path in (PACKAGE / wing).glob("*.py"):
            imported = _imports(path)
            assert not any(m == "reformkb.kb" or m.startswith("reformkb.app") or m == "reformkb.cli"
                           for m in imported), path
