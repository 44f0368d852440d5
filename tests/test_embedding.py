"""The embedder's number format: bfloat16 where the CPU has it natively, float32 elsewhere."""
from __future__ import annotations

import numpy as np
import pytest

from reformkb.errors import ModelError
from reformkb.search.embedding import Embedder, native_bf16, resolve_precision
from reformkb.settings import Settings

CPU_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_tile\n"
CPU_PLAIN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"
TEXTS = ["长沙市推行企业注销一网通办，办理时间由20个工作日压缩至0.5个工作日。",
         "衡阳市为企业赋码，一企一码、扫码即知。", "梅州市推出中标贷，凭中标通知书即可贷款。"]


def test_auto_follows_the_cpu_flags():
    assert native_bf16(CPU_BF16) and not native_bf16(CPU_PLAIN)
    assert resolve_precision("auto", CPU_BF16) == "bfloat16"
    assert resolve_precision("auto", CPU_PLAIN) == "float32"
    assert resolve_precision("float32", CPU_BF16) == "float32"
    assert resolve_precision("bfloat16", CPU_PLAIN) == "bfloat16"


def test_unknown_precision_is_refused_in_chinese(tmp_path, model):
    with pytest.raises(ModelError, match="REFORMKB_PRECISION"):
        Embedder(Settings.default(tmp_path, model=str(model), precision="float16"))


def test_precision_setting_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REFORMKB_PRECISION", "float32")
    assert Settings.default(tmp_path).precision == "float32"


def test_bfloat16_vectors_are_unit_float32_and_agree_with_float32(tmp_path):
    """The real model: both precisions give unit float32 rows, nearly the same direction."""
    full = Embedder(Settings.default(tmp_path, precision="float32"))
    half = Embedder(Settings.default(tmp_path, precision="bfloat16"))
    assert (full.precision, half.precision) == ("float32", "bfloat16")
    a, b = full.embed_documents(TEXTS), half.embed_documents(TEXTS)
    assert a.dtype == b.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() > 0.99, cosines
    # and the precisions rank the same way: each text is nearest its own float32 vector
    assert (np.argmax(b @ a.T, axis=1) == np.arange(len(TEXTS))).all()
