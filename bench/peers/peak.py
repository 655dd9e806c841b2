"""The machine's matmul peak, as a roofline for the benchmarks: GFLOP/s of a 2048x2048x2048
product in fp32 (the system BLAS under PyTorch) and in bf16 (oneDNN under PyTorch), the best of
every thread count up to the cores. Prints one JSON line."""
import json
import os
import time

import torch


def gflops(dtype, threads, n=2048, reps=8):
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    for _ in range(2):
        a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


cores = os.cpu_count() or 1
print(json.dumps({
    "fp32_gflop_s": max(gflops(torch.float32, t) for t in range(1, cores + 1)),
    "bf16_gflop_s": max(gflops(torch.bfloat16, t) for t in range(1, cores + 1)),
    "threads_tried": cores,
}))
