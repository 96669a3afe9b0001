"""Keeping a GPU busy between batches: inputs and results cross the bus without the host waiting.

Reading a batch's scores (`.tolist()`) makes the host wait until the GPU has finished everything
queued so far. Copying them into pinned host memory instead, queued right behind the batch's own
kernels and marked by an event, lets the host build and launch the next batch first and wait only
for this one. On a CPU there is nothing to overlap: everything here is then a plain pass-through.
"""

from __future__ import annotations

import torch


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host tensor to `device`; to a GPU from pinned memory, without blocking the host."""
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


class Readback:
    """A batch's logits on their way to the host; `values()` waits for this batch only."""

    def __init__(self, logits: torch.Tensor):
        if logits.device.type == "cuda":
            self._host = torch.empty(logits.shape, dtype=logits.dtype, pin_memory=True)
            self._host.copy_(logits, non_blocking=True)
            self._done: torch.cuda.Event | None = torch.cuda.Event()
            self._done.record()
        else:
            self._host, self._done = logits, None

    def values(self) -> list[float]:
        if self._done is not None:
            self._done.synchronize()
        return self._host.tolist()
