"""An opt-in compiled forward pass (torch.compile) over a bounded set of batch shapes.

A live edit scores a handful of rows. On a GPU such a pass is mostly kernel launches, which CUDA
graphs ("reduce-overhead") replay as one; on a CPU inductor can fuse the small element-wise ops
(RMSNorm, SiLU, rotary). A compiled graph is fixed to its input shapes and compiling one costs
seconds to minutes, so every batch is padded to one of a few shapes:

- the width (the longest row's document part) up to a quarter octave (17..20 -> 20, 129..160 ->
  160; at least 16): at most 25% more tokens;
- the row count up to a quarter octave (1..8 kept, 9 -> 10, 17 -> 20), with all-pad dummy rows
  whose results are dropped: a live edit's few rows waste nothing, and on a CPU every row costs;
- the shared prompt head cut down to a multiple of 16 tokens (the reranker does that): its length
  is part of every shape and changes with each edit of the query; the few tokens cut off it are
  computed with each row instead.

Pads go on the right, after every real token, so in a causal model no real token sees them and
the real rows' hidden states are those of the eager pass. The head's cache is repeated for the
padded row count. Dynamo traces through the transformers `DynamicCache` argument without a graph
break (checked with TORCH_LOGS=graph_breaks on transformers 4.56.2 and 5.24), so the head-sharing
path is compiled as it is, cache and all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from .overlap import to_device

log = logging.getLogger(__name__)

HEAD_STEP = 16
MIN_WIDTH = 16
# Graphs one compiled function may hold. Dynamo's default (8) would silently leave a longer
# workload's later shapes uncompiled; the buckets keep a run's shapes far below this.
MAX_SHAPES = 64


def round_up(n: int, steps_per_octave: int, floor: int = 1) -> int:
    """`n` rounded up to one of `steps_per_octave` evenly spaced values per power of two."""
    n = max(n, floor)
    octave = 1 << max(0, (n - 1).bit_length() - 1)  # the largest power of two below n
    step = max(1, octave // steps_per_octave)
    return -(-n // step) * step


def bucket_shape(rows: int, width: int) -> tuple[int, int]:
    """The (rows, width) a batch is padded to."""
    return round_up(rows, 4), round_up(width, 4, MIN_WIDTH)


def head_length(shared: int) -> int:
    """The shared head's length as the compiled path uses it: whole steps of HEAD_STEP tokens."""
    return shared // HEAD_STEP * HEAD_STEP


def compile_failure(error: BaseException) -> str:
    """One line naming what went wrong: dynamo's messages wrap the cause and run to pages."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return f"{type(error).__name__}: {text[:300]}"


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int, n_rows: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (n_rows x width) and each row's last real position (dummy rows: 0).

    Filled in numpy, not torch: a torch op per row releases the GIL and takes it back, and in the
    app, where the interface thread holds the GIL between those ops, each take-back can wait up to
    the interpreter's switch interval (5 ms). A 64-row batch of 250-300 tokens also takes 0.7 ms
    here against 4.1 ms through torch.tensor per row."""
    ids = np.full((n_rows, width), pad_id, dtype=np.int64)
    last = np.zeros(n_rows, dtype=np.int64)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = r
        last[j] = len(r) - 1
    return torch.from_numpy(ids), torch.from_numpy(last)


class CompiledForward:
    """The reranker's padded forward pass, compiled once per bucketed shape. Raises whatever
    compiling or running the graph raises: the caller falls back to the eager pass."""

    def __init__(self, backbone, pad_id: int, device: torch.device, backend=None):
        self.backbone = backbone
        self.pad_id = pad_id
        self.device = device
        self.backend = backend = backend or "inductor"
        # CUDA graphs need inductor; they are the point of compiling on a GPU (launch overhead).
        self.cuda_graphs = device.type == "cuda" and backend == "inductor"
        self.shapes: set[tuple[int, int, int]] = set()  # (rows, width, head tokens) seen
        # The shape whose first call runs now (rows, width), None otherwise: read from another
        # thread, so a status line can say why this batch takes seconds to minutes.
        self.compiling: tuple[int, int] | None = None
        self._compiled = torch.compile(
            self._last_hidden, backend=backend, mode="reduce-overhead" if self.cuda_graphs else None, dynamic=False
        )

    def __call__(self, rows: Sequence[Sequence[int]], head) -> torch.Tensor:
        """The hidden state of each row's last real token, as the eager padded pass gives it."""
        n_rows, width = bucket_shape(len(rows), max(len(r) for r in rows))
        ids, last = pad_rows(rows, self.pad_id, n_rows, width)
        extra = head.forward_kwargs(n_rows) if head is not None else {}
        shape = (n_rows, width, head.length if head is not None else 0)
        if shape not in self.shapes:
            self.compiling = (n_rows, width)
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        try:
            with torch._dynamo.config.patch(**{_LIMIT: MAX_SHAPES}):
                hidden = self._compiled(to_device(ids, self.device), to_device(last, self.device), extra)
        finally:
            self.compiling = None
        self.shapes.add(shape)
        # A CUDA graph's outputs are overwritten by its next replay: keep a copy of ours.
        return hidden[: len(rows)].clone() if self.cuda_graphs else hidden[: len(rows)]

    def _last_hidden(self, ids: torch.Tensor, last: torch.Tensor, extra: dict) -> torch.Tensor:
        hidden = self.backbone(input_ids=ids, use_cache=False, **extra).last_hidden_state
        return hidden[torch.arange(ids.shape[0], device=ids.device), last]


# torch 2.5 calls the per-function graph limit cache_size_limit; later releases recompile_limit.
_LIMIT = "recompile_limit" if hasattr(torch._dynamo.config, "recompile_limit") else "cache_size_limit"
