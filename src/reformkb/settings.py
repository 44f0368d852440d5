"""Configuration in one place.

Every knob has a default that works on a fresh machine and can be overridden by an environment
variable (``REFORMKB_*``) or, for the CLI, by a flag. Library code receives a :class:`Settings`
object; nothing else reads the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

# The built-in embedding model: multilingual-e5-small with the domain adapter (e5convert.DEFAULT_MODEL_NAME;
# not imported from there, so that the core does not import the search wing).
DEFAULT_MODEL = "multilingual-e5-small-reformkb"


def project_root() -> Path:
    """The checkout that holds ``pyproject.toml`` (editable install), else the current directory."""
    here = Path(__file__).resolve().parents[2]
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def _env_int(name: str, default: int) -> int:
    """A positive whole number from the environment; InputError (a message, not a traceback) if it is not."""
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        number = 0
    if number <= 0:
        from reformkb.errors import InputError

        raise InputError(f"环境变量 {name}={value!r} 应为正整数（默认 {default}）：请改正或删除它。")
    return number


@dataclass(frozen=True)
class Settings:
    """Where a knowledge base lives and how it behaves.

    ``home`` is the folder that holds a knowledge base. The project's default home is special: its
    database is ``kb/reformkb.db`` and its index ``index/`` (the layout in DESIGN.md). Any other home
    holds ``reformkb.db`` and ``index/`` side by side.
    """

    home: Path
    db_path: Path
    index_dir: Path
    sources_dir: Path
    models_dir: Path
    model: str = DEFAULT_MODEL  # see reformkb.search.e5convert
    # Hard limits on input, so that one bad file cannot exhaust memory. Documented in docs/.
    max_text_chars: int = 20_000
    max_file_bytes: int = 20 * 1024 * 1024
    max_query_chars: int = 500
    max_field_chars: int = 200  # title, agency, ref, source fields (see docs/reliability.md)
    # Scans and photos (see docs/usage.md): pages that need OCR in one file, and OCR seconds per file.
    max_ocr_pages: int = 60
    max_ocr_seconds: int = 600
    # Above this many vectors the index switches from exact search to an approximate one (``ann``:
    # "ivf" or "hnsw"); both chosen by measurement, see docs/benchmarks.md.
    exact_index_max: int = 20_000
    ann: str = "ivf"
    # Number format the model runs in: "auto" (bfloat16 on a CPU with native bfloat16 instructions,
    # else float32), "float32" or "bfloat16"; see reformkb.search.embedding and docs/benchmarks.md.
    precision: str = "auto"
    # How many databases replaced by restores are kept beside the database (the newest ones).
    keep_restores: int = 3
    extra: dict = field(default_factory=dict)

    @classmethod
    def default(cls, home: str | os.PathLike | None = None, **overrides) -> "Settings":
        """Settings for ``home`` (or ``$REFORMKB_HOME``, or the project's ``kb/``)."""
        root = project_root()
        home = home or os.environ.get("REFORMKB_HOME")
        if home:
            home_path = Path(home).expanduser().resolve()
            db_path, index_dir = home_path / "reformkb.db", home_path / "index"
        else:
            home_path = root / "kb"
            db_path, index_dir = home_path / "reformkb.db", root / "index"
        models_dir = Path(os.environ.get("REFORMKB_MODELS_DIR") or root / "models")
        settings = cls(
            home=home_path,
            db_path=db_path,
            index_dir=index_dir,
            sources_dir=root / "kb" / "sources",
            models_dir=models_dir,
            model=os.environ.get("REFORMKB_MODEL", DEFAULT_MODEL),
            max_text_chars=_env_int("REFORMKB_MAX_TEXT_CHARS", 20_000),
            max_file_bytes=_env_int("REFORMKB_MAX_FILE_BYTES", 20 * 1024 * 1024),
            max_query_chars=_env_int("REFORMKB_MAX_QUERY_CHARS", 500),
            max_field_chars=_env_int("REFORMKB_MAX_FIELD_CHARS", 200),
            max_ocr_pages=_env_int("REFORMKB_MAX_OCR_PAGES", 60),
            max_ocr_seconds=_env_int("REFORMKB_MAX_OCR_SECONDS", 600),
            exact_index_max=_env_int("REFORMKB_EXACT_INDEX_MAX", 20_000),
            ann=os.environ.get("REFORMKB_ANN", "ivf"),
            precision=os.environ.get("REFORMKB_PRECISION", "auto"),
            keep_restores=_env_int("REFORMKB_KEEP_RESTORES", 3),
        )
        return replace(settings, **overrides) if overrides else settings
