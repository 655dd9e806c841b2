"""PyTorch peer for bench/engine.bench.ts and bench/bert-base.bench.ts: the same BERT classifier
shapes (post-LN, GELU, dropout 0.1, pooler tanh, dense head), AdamW, seq/batch as asked; prints one
JSON line with training and inference examples/s and peak RSS. Thread counts come from the
caller (torch threads as an argument, BLAS threads and OPENBLAS_CORETYPE in the environment).
--lengths FILE (a JSON list of token counts) runs real lengths as a tuned PyTorch loop does:
batches of similar length, each padded to its longest row. --bf16 runs the model under CPU
autocast (bf16 matmuls, fp32 weights and optimizer). On a machine with CUDA the model runs on the GPU
(as Trialbook does with tfjs-node-gpu there)."""
import argparse
import contextlib
import json
import math
import random
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"tiny": (128, 2, 2, 512), "mini": (256, 4, 4, 1024), "small": (512, 4, 8, 2048), "base": (768, 12, 12, 3072)}


class Layer(nn.Module):
    def __init__(self, h, a, i, p):
        super().__init__()
        self.a, self.d = a, h // a
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.f1, self.f2 = nn.Linear(h, i), nn.Linear(i, h)
        self.drop = nn.Dropout(p)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.a, self.d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + bias
        ctx = (self.drop(scores.softmax(-1)) @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(x + self.drop(self.f2(F.gelu(self.f1(x)))))


class Bert(nn.Module):
    def __init__(self, vocab, h, l, a, i, labels=2, p=0.1):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(vocab, h), nn.Embedding(512, h), nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, a, i, p) for _ in range(l))
        self.pool, self.head, self.drop = nn.Linear(h, h), nn.Linear(h, labels), nn.Dropout(p)

    def forward(self, ids):
        s = ids.shape[1]
        x = self.word(ids) + self.pos.weight[:s] + self.typ.weight[0]
        x = self.drop(self.ln(x))
        bias = ((ids == 0).float() * -10000.0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return self.head(self.drop(torch.tanh(self.pool(x[:, 0]))))


def batches(args):
    """Id batches: `seq`-long rows, or real lengths sorted into batches padded to their longest."""
    g = torch.Generator().manual_seed(0)
    if not args.lengths:
        return [torch.randint(5, args.vocab, (args.batch, args.seq), generator=g)]
    with open(args.lengths) as f:
        lengths = sorted(json.load(f))
    out = []
    for i in range(0, len(lengths) - args.batch + 1, args.batch):
        part = lengths[i:i + args.batch]
        ids = torch.randint(5, args.vocab, (len(part), max(part)), generator=g)
        for r, n in enumerate(part):
            ids[r, n:] = 0
        out.append(ids)
    random.Random(0).shuffle(out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--vocab", type=int, default=16424)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lengths", default="")
    ap.add_argument("--bf16", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    h, l, a, i = PRESETS[args.preset]
    model = Bert(args.vocab, h, l, a, i).to(device)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or ".ln" in n or n.startswith("ln"))]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or ".ln" in n or n.startswith("ln")]
    # AdamW's multi-tensor (foreach) form where it is the faster one on this CPU: small models
    # (tiny: 10.5 -> 5.8 ms a step with clipping), not BERT-base (260 -> 400 ms).
    foreach = sum(p.numel() for p in model.parameters()) < 20_000_000
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=5e-5, eps=1e-6, foreach=foreach)
    data = [ids.to(device) for ids in batches(args)]
    ys = torch.randint(0, 2, (args.batch,)).to(device)
    cast = (lambda: torch.autocast(device, dtype=torch.bfloat16)) if args.bf16 else contextlib.nullcontext
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def train_step(ids):
        opt.zero_grad()
        with cast():
            loss = F.cross_entropy(model(ids), ys[: ids.shape[0]])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    def timed(step, n):
        """Examples/s over n steps after 2 warm-up steps, cycling through the batches."""
        for k in range(2):
            step(data[k % len(data)])
        sync()
        t, seen = time.perf_counter(), 0
        for k in range(n):
            ids = data[k % len(data)]
            step(ids)
            seen += ids.shape[0]
        sync()
        return seen / (time.perf_counter() - t)

    model.train()
    train_eps = timed(train_step, args.steps)
    model.eval()
    with torch.no_grad(), cast():
        infer_eps = timed(model, args.steps * 2)
    print(json.dumps({"train_ex_s": train_eps, "infer_ex_s": infer_eps, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "device": device, "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
