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


@dataclass
class Work:
    """The matmul work one call of a method did: tokens through the decoder layers (rows x width,
    pads included, per layer), positions turned into vocabulary logits, and their FLOPs."""

    layer_tokens: int = 0
    vocab_rows: int = 0
    flops: float = 0.0


def count_work(fn: Callable[[], object], models) -> Work:
    """Run `fn` once with the work done by `models` (transformers causal LMs, quantised or not)
    counted where it happens rather than modelled: hooks on every decoder layer add up the tokens
    that go through it, hooks on its MLP those that go through that (the engine runs the last
    layer's for one token a row: last_rows.py), and a hook on the vocabulary head the positions it
    turns into logits. A method that shares the prompt head runs those tokens once; one that pads
    or computes the whole vocabulary pays for it. Attention's own work (QK^T, AV) is not counted.

    The hooks exist only during this call, so timed runs carry none (a compiled graph would trace
    them). They may fire on several threads at once (passes per core): counts are taken under a lock."""
    from workbench.engine.batching import weights_per_layer

    work, lock, handles = Work(), threading.Lock(), []

    def add(tokens: int, flops_each: int, where: str) -> None:
        with lock:
            if where == "vocab":
                work.vocab_rows += tokens
            elif where == "layer":
                work.layer_tokens += tokens
            work.flops += tokens * flops_each  # "mlp": its FLOPs only, the layer counted its tokens

    for model in models:
        config = model.config
        per_mlp_token = 2 * 3 * config.hidden_size * config.intermediate_size  # gate, up, down
        per_vocab_row = 2 * config.hidden_size * config.vocab_size

        def layer(per_token: int):
            def hook(_module, args, kwargs):
                hidden = args[0] if args else kwargs["hidden_states"]
                add(hidden.shape[:-1].numel(), per_token, "layer")
            return hook

        def mlp(_module, args, per_mlp_token=per_mlp_token):
            add(args[0].shape[:-1].numel(), per_mlp_token, "mlp")

        def vocab(_module, args, per_vocab_row=per_vocab_row):
            add(args[0].shape[:-1].numel(), per_vocab_row, "vocab")

        for module in model.modules():
            if type(module).__name__.endswith("DecoderLayer"):
                own_mlp = isinstance(getattr(module, "mlp", None), torch.nn.Module)
                per_token = 2 * weights_per_layer(config) - (per_mlp_token if own_mlp else 0)
                handles.append(module.register_forward_pre_hook(layer(per_token), with_kwargs=True))
                if own_mlp:
                    handles.append(module.mlp.register_forward_pre_hook(mlp))
        handles.append(model.get_output_embeddings().register_forward_pre_hook(vocab))
    try:
        fn()
    finally:
        for handle in handles:
            handle.remove()
    return work


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
