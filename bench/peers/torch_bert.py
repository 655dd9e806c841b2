"""PyTorch peer for bench/engine.bench.ts: the same BERT classifier shapes (post-LN, GELU,
dropout 0.1, pooler tanh, dense head), AdamW, seq/batch as asked; prints one JSON line with
training and inference examples/s. Thread counts come from the caller (torch threads as an
argument, BLAS threads through OMP/OPENBLAS_NUM_THREADS in the environment)."""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {"tiny": (128, 2, 2, 512), "mini": (256, 4, 4, 1024), "small": (512, 4, 8, 2048)}


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--vocab", type=int, default=16424)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    h, l, a, i = PRESETS[args.preset]
    model = Bert(args.vocab, h, l, a, i)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or ".ln" in n or n.startswith("ln"))]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or ".ln" in n or n.startswith("ln")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=5e-5, eps=1e-6)
    ids = torch.randint(5, args.vocab, (args.batch, args.seq))
    y = torch.randint(0, 2, (args.batch,))

    def train_step():
        opt.zero_grad()
        loss = F.cross_entropy(model(ids), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    model.train()
    for _ in range(2):
        train_step()
    t = time.perf_counter()
    for _ in range(args.steps):
        train_step()
    train_eps = args.steps * args.batch / (time.perf_counter() - t)
    model.eval()
    with torch.no_grad():
        for _ in range(2):
            model(ids)
        t = time.perf_counter()
        n = args.steps * 2
        for _ in range(n):
            model(ids)
        infer_eps = n * args.batch / (time.perf_counter() - t)
    print(json.dumps({"train_ex_s": train_eps, "infer_ex_s": infer_eps, "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
