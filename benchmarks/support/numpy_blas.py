"""Measurement only: a model's linear layers computed by numpy's BLAS instead of torch's.

torch's CPU wheels multiply fp32 matrices with MKL; numpy's wheels carry OpenBLAS. On the
AVX2-only AMD EPYC of 2026-12-01, OpenBLAS ran the 0.6B shape's products about 1.2x faster on one
thread (`python benchmarks/support/numpy_blas.py`). `through_numpy(model)` lets a benchmark time the
engine with that lever while the peers, sharing the same model, keep torch's products. Not used
by the workbench (README: measured, not taken).
"""

from __future__ import annotations

import statistics
import threading
import time
from contextlib import contextmanager

import numpy as np
import torch

_active = threading.Event()  # set while a timed call runs through numpy (its passes run on other threads)


def through_numpy(model: torch.nn.Module) -> None:
    """Route every fp32 nn.Linear of `model` through numpy's matmul while `numpy_products()` is on.
    numpy's BLAS is held to one thread: the engine's CPU passes run one per core."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    for module in model.modules():
        if type(module) is torch.nn.Linear:
            module.forward = _numpy_forward(module)


def _numpy_forward(module: torch.nn.Linear):
    torch_forward = module.forward
    transposed = module.weight.detach().numpy().T  # a view: (in, out), as x @ W.T wants

    def forward(x: torch.Tensor) -> torch.Tensor:
        if not _active.is_set() or x.dtype != torch.float32 or x.requires_grad:
            return torch_forward(x)
        rows = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(rows.shape[0], transposed.shape[1])
        np.matmul(rows.numpy(), transposed, out=out.numpy())
        if module.bias is not None:
            out += module.bias
        return out.reshape(*x.shape[:-1], transposed.shape[1])

    return forward


@contextmanager
def numpy_products():
    _active.set()
    try:
        yield
    finally:
        _active.clear()


def compare(shapes=((1170, 1024, 2048), (1170, 1024, 1024), (1170, 2048, 1024), (1170, 1024, 3072),
                    (1170, 3072, 1024), (1024, 384, 1152), (1024, 384, 384), (1024, 384, 1536),
                    (1024, 1536, 384)), rounds: int = 7) -> None:
    """GFLOP/s of torch's and numpy's products, one thread, for the 0.6B shape's layers (rows x in x out,
    a batch of 1,170 tokens) and the offline fallback's (1,024 tokens); median of alternating rounds."""
    from threadpoolctl import threadpool_info, threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1, user_api="blas")
    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info() if i["user_api"] == "blas")
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__} (MKL); one thread; GFLOP/s, median of {rounds} rounds")
    for m, k, n in shapes:
        x, layer = torch.randn(m, k), torch.nn.Linear(k, n)
        weight, xs = layer.weight.detach(), x.numpy()
        transposed, out = weight.numpy().T, np.empty((m, n), np.float32)
        times = {"torch": [], "numpy": []}
        calls = {"torch": lambda: torch.nn.functional.linear(x, weight), "numpy": lambda: np.matmul(xs, transposed, out=out)}
        for call in calls.values():
            call()
        for _ in range(rounds):
            for name, call in calls.items():
                start = time.perf_counter()
                for _ in range(5):
                    call()
                times[name].append((time.perf_counter() - start) / 5)
        t, n_ = statistics.median(times["torch"]), statistics.median(times["numpy"])
        flops = 2 * m * k * n
        print(f"  {m:5d} x {k:4d} x {n:4d}   torch {flops / t / 1e9:6.1f}   numpy {flops / n_ / 1e9:6.1f}   numpy x{t / n_:.2f}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="torch's and numpy's fp32 products, one thread, GFLOP/s")
    parser.add_argument("--rounds", type=int, default=7)
    compare(rounds=parser.parse_args().rounds)
