"""The final layer's MLP runs for the one position per row that is read, not for every token.

A reranker reads one hidden state per row: its last real token's, after the last decoder layer.
Every earlier layer must run for all tokens (the next layer's keys and values come from them), but
the last layer's outputs at other positions go nowhere. Its MLP is most of a layer's weights
(gate, up and down: 9.4M of 15.7M multiply-adds a token in the 0.6B), so running it for one token
per row spares about 2% of a call's matmul work at 28 layers, and the activation's element-wise
work on rows x width x intermediate values.

How, with public PyTorch API only: a forward hook on the last layer's `post_attention_layernorm`
(whose output feeds only the MLP) returns the row's one position (B x 1 x hidden) instead of all
of them. The MLP then runs on B tokens, and the layer's residual sum broadcasts that one vector
over the row: the read position gets exactly residual + MLP, as before; the others, read by
nobody, get a wrong sum. The positions are per forward pass and passes run on several threads at
once (core_pool.py), so they are kept per thread; with none set (the shared head's pass, a peer's
or a test's forward over the same model, a compiled graph) the hook changes nothing.

Only for the decoder layer whose forward is known to have that shape (Qwen3's: RMSNorm, MLP,
residual sum). Another architecture, or a library change to the layer's attributes, leaves the
whole layer running: same scores, full work.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# Decoder layers whose post-attention norm feeds only the MLP, whose output is added to the residual.
_KNOWN_LAYERS = ("Qwen3DecoderLayer",)

_positions = threading.local()  # .value: this thread's read positions (B), or None
_hooked: weakref.WeakSet = weakref.WeakSet()  # norms hooked already: one hook per model, however many scorers


def attach(backbone) -> bool:
    """Hook the backbone's last layer; False where its layer is not one we know the shape of."""
    layers = getattr(backbone, "layers", None)
    try:
        last = layers[-1]
    except (TypeError, IndexError):
        return False
    norm = getattr(last, "post_attention_layernorm", None)
    if type(last).__name__ not in _KNOWN_LAYERS or not isinstance(getattr(last, "mlp", None), torch.nn.Module) \
            or not isinstance(norm, torch.nn.Module):
        return False
    if norm not in _hooked:
        norm.register_forward_hook(_one_position_per_row)
        _hooked.add(norm)
    return True


@contextmanager
def reading(positions: torch.Tensor) -> Iterator[None]:
    """Within this block, forward passes on this thread keep only `positions` (one per row, on
    the model's device) in the hooked last layer."""
    _positions.value = positions
    try:
        yield
    finally:
        _positions.value = None


def _one_position_per_row(_module, _args, output):
    # Checked first: a graph being compiled traces the plain layer (and never reads the thread's state).
    if torch.compiler.is_compiling():
        return None
    positions = getattr(_positions, "value", None)
    if positions is None or output.dim() != 3 or output.shape[0] != positions.shape[0]:
        return None
    rows = torch.arange(positions.shape[0], device=output.device)
    return output[rows, positions].unsqueeze(1)
