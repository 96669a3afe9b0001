"""Timing, memory and FLOP accounting for the engine benchmark.

Methods run in alternating order over several rounds (a slow moment of a noisy machine then
falls on every method, not one), and each method's median round is reported.
"""

from __future__ import annotations

import gc
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

# Dense bf16 tensor-core peaks (no sparsity), from the vendors' data sheets; --peak-tflops overrides.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0}


def gpu_peak_tflops(device: str) -> float | None:
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name(0)
    return next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)


def pair_flops(config, tokens: int) -> float:
    """Forward FLOPs of one pair of `tokens` tokens up to the last position's yes/no logits: the
    matmuls of every layer (2 per weight per token) plus causal attention (QK^T and AV over on
    average half the sequence). The useful work, whatever a method wastes on pads or the
    vocabulary head; a method that skips work (the shared head) gets credit for it."""
    from workbench.engine.batching import weights_per_layer

    h, layers = config.hidden_size, config.num_hidden_layers
    q = config.num_attention_heads * config.head_dim
    linear = 2 * layers * weights_per_layer(config) * tokens
    attention = 2 * 2 * layers * q * tokens * tokens / 2
    return linear + attention + 2 * 2 * h


class PeakMemory:
    """Peak memory over a block: the CUDA allocator's peak, or sampled RSS growth on a CPU."""

    def __init__(self, device: str):
        self.device = device
        self.peak = 0

    def __enter__(self):
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            release_freed_memory()
            self.base = _rss()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss() - self.base)

    def __exit__(self, *exc):
        if self.device == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss() - self.base)


def release_freed_memory() -> None:
    """Hand freed heap back to the OS, so RSS growth measures this block, not the last one."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Timing:
    seconds: list[float]
    peak_bytes: int
    logits: torch.Tensor  # from the last round: every method's scores are compared

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def alternate(methods: dict[str, Callable[[], torch.Tensor]], rounds: int, device: str) -> dict[str, Timing]:
    """Run every method `rounds` times, rotating the order each round."""
    names = list(methods)
    out: dict[str, Timing] = {n: Timing([], 0, torch.zeros(0)) for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            gc.collect()
            with PeakMemory(device) as mem:
                start = time.perf_counter()
                logits = methods[name]()
                if device == "cuda":
                    torch.cuda.synchronize()
                elapsed = time.perf_counter() - start
            t = out[name]
            t.seconds.append(elapsed)
            t.peak_bytes = max(t.peak_bytes, mem.peak)
            t.logits = logits
    return out
