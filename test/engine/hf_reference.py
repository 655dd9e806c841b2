"""Hugging Face-faithful references for the engine's tests, in plain PyTorch (transformers is not
installed here): BertForSequenceClassification's forward pass as modeling_bert computes it, its
weight files in every layout from_pretrained reads, HF Trainer's AdamW steps, and BertTokenizer's
BasicTokenizer flags. Reads one JSON request on stdin, prints one JSON answer."""
import json
import math
import os
import struct
import sys
import unicodedata

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peers"))
from bert_tokenizer import Basic, WordPiece, is_cjk, load_vocab, split_whitespace  # noqa: E402

ACT = {
    "gelu": F.gelu,
    # transformers' NewGELUActivation and PytorchGELUTanh
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}


def param_shapes(c, labels):
    h, i = c["hidden_size"], c["intermediate_size"]
    s = {
        "bert.embeddings.word_embeddings.weight": (c["vocab_size"], h),
        "bert.embeddings.position_embeddings.weight": (c["max_position_embeddings"], h),
        "bert.embeddings.token_type_embeddings.weight": (c["type_vocab_size"], h),
        "bert.embeddings.LayerNorm.weight": (h,),
        "bert.embeddings.LayerNorm.bias": (h,),
    }
    for l in range(c["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}."
        for n, (o, k) in {"attention.self.query": (h, h), "attention.self.key": (h, h), "attention.self.value": (h, h),
                          "attention.output.dense": (h, h), "intermediate.dense": (i, h), "output.dense": (h, i)}.items():
            s[p + n + ".weight"], s[p + n + ".bias"] = (o, k), (o,)
        for n in ("attention.output.LayerNorm", "output.LayerNorm"):
            s[p + n + ".weight"], s[p + n + ".bias"] = (h,), (h,)
    s["bert.pooler.dense.weight"], s["bert.pooler.dense.bias"] = (h, h), (h,)
    s["classifier.weight"], s["classifier.bias"] = (labels, h), (labels,)
    return s


def make_weights(c, labels, seed, scale):
    g = torch.Generator().manual_seed(seed)
    w = {}
    for n, shape in param_shapes(c, labels).items():
        if "LayerNorm" in n:
            w[n] = 1.0 + 0.1 * torch.randn(shape, generator=g) if n.endswith("weight") else 0.1 * torch.randn(shape, generator=g)
        else:
            w[n] = scale * torch.randn(shape, generator=g)
    return w


def forward(w, c, ids, mask):
    """modeling_bert: embeddings, post-LN layers, the additive mask of get_extended_attention_mask."""
    b, s = ids.shape
    h, a = c["hidden_size"], c["num_attention_heads"]
    d = h // a
    eps = c.get("layer_norm_eps", 1e-12)
    act = ACT[c.get("hidden_act", "gelu")]
    lin = lambda x, n: F.linear(x, w[n + ".weight"], w[n + ".bias"])
    ln = lambda x, n: F.layer_norm(x, (h,), w[n + ".weight"], w[n + ".bias"], eps)
    x = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][:s] + w["bert.embeddings.token_type_embeddings.weight"][0]
    x = ln(x, "bert.embeddings.LayerNorm")
    ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    split = lambda t: t.view(b, s, a, d).transpose(1, 2)
    for l in range(c["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}."
        q, k, v = (split(lin(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + ext, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, s, h)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        x = ln(lin(act(lin(x, p + "intermediate.dense")), p + "output.dense") + x, p + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], "bert.pooler.dense"))
    return lin(pooled, "classifier")


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for n in sorted(tensors):
        t = tensors[n].contiguous().float().numpy().tobytes()
        header[n] = {"dtype": "F32", "shape": list(tensors[n].shape), "data_offsets": [off, off + len(t)]}
        blobs.append(t)
        off += len(t)
    hb = json.dumps(header).encode()
    hb += b" " * ((8 - (8 + len(hb)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))


def save(w, out, layout):
    """The layouts from_pretrained reads; shards split the names in two halves, as save_pretrained does by size."""
    names = sorted(w)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    if layout == "safetensors":
        write_safetensors(os.path.join(out, "model.safetensors"), w)
    elif layout == "bin":
        torch.save(dict(w), os.path.join(out, "pytorch_model.bin"))
    elif layout in ("safetensors-sharded", "bin-sharded"):
        ext = "safetensors" if layout == "safetensors-sharded" else "bin"
        stem = "model" if ext == "safetensors" else "pytorch_model"
        weight_map = {}
        for k, part in enumerate(halves):
            f = f"{stem}-0000{k + 1}-of-00002.{ext}"
            if ext == "safetensors":
                write_safetensors(os.path.join(out, f), {n: w[n] for n in part})
            else:
                torch.save({n: w[n] for n in part}, os.path.join(out, f))
            weight_map.update({n: f for n in part})
        with open(os.path.join(out, f"{stem}.{ext}.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
    else:
        raise SystemExit(f"unknown layout {layout}")


def build(req):
    c, labels = req["config"], req["numLabels"]
    w = make_weights(c, labels, req.get("seed", 0), req.get("scale", 0.2))
    if req.get("bin_transposed"):
        # A non-contiguous tensor in the pickle: stored transposed, handed over as a strided view.
        n = "bert.encoder.layer.0.intermediate.dense.weight"
        w[n] = w[n].t().contiguous().t()
    out = req["dir"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({**c, "architectures": ["BertForSequenceClassification"], "model_type": "bert", "id2label": {str(i): f"l{i}" for i in range(labels)}}, f)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("".join(f"{t}\n" for t in req["vocab"]))
    stored = {n: t for n, t in w.items() if not (req.get("drop_pooler") and n.startswith("bert.pooler."))}
    save(stored, out, req.get("layout", "safetensors"))
    ids = torch.tensor(req["ids"], dtype=torch.long)
    mask = torch.tensor(req["mask"], dtype=torch.long)
    with torch.no_grad():
        logits = forward(w, c, ids, mask)
    return {"probs": torch.softmax(logits, -1).tolist(), "logits": logits.tolist()}


def train_steps(req):
    """HF Trainer's optimizer and schedule: AdamW (eps 1e-8, no decay on bias/LayerNorm.weight),
    get_linear_schedule_with_warmup (lr factor step/warmup, then linear decay), clipping at 1.0."""
    c, labels = req["config"], req["numLabels"]
    w = {n: t.clone().requires_grad_(True) for n, t in make_weights(c, labels, req.get("seed", 0), req.get("scale", 0.2)).items()}
    out = req["dir"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({**c, "architectures": ["BertForSequenceClassification"], "model_type": "bert"}, f)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("".join(f"{t}\n" for t in req["vocab"]))
    write_safetensors(os.path.join(out, "model.safetensors"), {n: t.detach() for n, t in w.items()})
    decay = [t for n, t in w.items() if not (n.endswith(".bias") or "LayerNorm.weight" in n)]
    rest = [t for n, t in w.items() if n.endswith(".bias") or "LayerNorm.weight" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": req["weight_decay"]}, {"params": rest, "weight_decay": 0.0}], lr=req["lr"], eps=1e-8)
    warmup, total = req["warmup"], req["steps"]
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    ids = torch.tensor(req["ids"], dtype=torch.long)
    mask = torch.tensor(req["mask"], dtype=torch.long)
    y = torch.tensor(req["labels"], dtype=torch.long)
    for _ in range(total):
        opt.zero_grad()
        F.cross_entropy(forward(w, c, ids, mask), y).backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        sched.step()
    return {"weights": {n: t.detach().flatten().tolist() for n, t in w.items() if n.startswith("classifier.") or n.endswith("layer.0.output.dense.bias")}}


def adamw(req):
    """One torch.optim.AdamW update with HF Trainer's eps (1e-8) on the given values and gradients."""
    p = torch.tensor(req["p"], requires_grad=True)
    opt = torch.optim.AdamW([p], lr=req["lr"], eps=1e-8, weight_decay=req["weight_decay"])
    p.grad = torch.tensor(req["g"])
    opt.step()
    return {"p": p.detach().tolist()}


class HFBasic(Basic):
    """transformers' BasicTokenizer flags: strip_accents None follows do_lower_case; tokenize_chinese_chars."""

    def __init__(self, lower, strip_accents, chinese):
        super().__init__(False)
        self.lower_, self.strip, self.chinese = lower, strip_accents, chinese

    def tokenize(self, text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or unicodedata.category(ch).startswith("C") and ch not in "\t\n\r":
                continue
            out.append(" " if ch in " \t\n\r" or unicodedata.category(ch) == "Zs" else ch)
        text = "".join(f" {ch} " if self.chinese and is_cjk(ord(ch)) else ch for ch in "".join(out))
        pieces = []
        for word in split_whitespace(text):
            if self.lower_:
                word = word.lower()
                if self.strip is not False:
                    word = "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")
            elif self.strip:
                word = "".join(ch for ch in unicodedata.normalize("NFD", word) if unicodedata.category(ch) != "Mn")
            pieces.extend(self.split_punct(word))
        return split_whitespace(" ".join(pieces))


def tokenize(req):
    vocab = load_vocab(req["vocab"])
    tc = req["tokenizer_config"]
    basic = HFBasic(tc.get("do_lower_case", True), tc.get("strip_accents"), tc.get("tokenize_chinese_chars", True))
    wp = WordPiece(vocab)
    rows = []
    for t in req["texts"]:
        toks = ["[CLS]"] + [p for word in basic.tokenize(t) for p in wp.tokenize(word)][: req["max_len"] - 2] + ["[SEP]"]
        rows.append([vocab[x] for x in toks])
    return {"ids": rows}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps({"build": build, "train": train_steps, "adamw": adamw, "tokenize": tokenize}[request["op"]](request)))
