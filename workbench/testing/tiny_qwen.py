"""Tiny random Qwen3 rerankers with the real tokenizer, built with no network access.

Model hubs are unreachable from every machine of this project, so tests and benchmarks cannot
download Qwen3-Reranker. Two facts make an honest offline stand-in possible:

* The real Qwen3 tokenizer can be rebuilt exactly from the vocabulary inside the PyPI package
  ``dashscope`` (:mod:`workbench.testing.qwen_vocabulary` converts it,
  :mod:`workbench.testing.offline_tokenizer` wraps and caches it; both re-exported here).
* A ``Qwen3ForCausalLM`` with random weights and the real vocabulary size goes through exactly the
  loading and scoring code a real checkpoint does. Speed does not depend on weight values, so
  :func:`real_shape_config` gives benchmark-ready shapes of the three published sizes.

Used by ``tests/`` and by ``benchmarks/``, which is why it lives inside the package.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

# Re-exported: tests and benchmarks import the tokenizer and vocabulary from here too.
from workbench.testing.offline_tokenizer import build_qwen3_tokenizer, new_qwen3_tokenizer
from workbench.testing.qwen_vocabulary import (
    ADDED_TOKENS,
    BPE_VOCAB_SIZE,
    ENDOFTEXT_ID,
    IM_END_ID,
    NO_TOKEN_ID,
    QWEN3_VOCAB_SIZE,
    QWEN_PRETOKENIZE_REGEX,
    YES_TOKEN_ID,
)

if TYPE_CHECKING:  # keep `import workbench.testing.tiny_qwen` cheap; torch/transformers load lazily
    from transformers import Qwen3Config

__all__ = [
    "ADDED_TOKENS",
    "BPE_VOCAB_SIZE",
    "ENDOFTEXT_ID",
    "IM_END_ID",
    "NO_TOKEN_ID",
    "QWEN3_VOCAB_SIZE",
    "QWEN_PRETOKENIZE_REGEX",
    "YES_TOKEN_ID",
    "build_qwen3_tokenizer",
    "new_qwen3_tokenizer",
    "real_shape_config",
    "save_tiny_qwen3_reranker",
    "tiny_qwen3_config",
]

# Fields shared by the published Qwen3-Reranker configs (only the shapes differ between sizes).
_QWEN3_COMMON = dict(
    vocab_size=QWEN3_VOCAB_SIZE,
    hidden_act="silu",
    max_position_embeddings=40960,
    rms_norm_eps=1e-6,
    rope_theta=1_000_000.0,  # transformers 5 folds this into `rope_parameters`
    attention_bias=False,
    attention_dropout=0.0,
    use_sliding_window=False,
    bos_token_id=ENDOFTEXT_ID,
    eos_token_id=IM_END_ID,
    architectures=["Qwen3ForCausalLM"],
)

_REAL_SHAPES = {
    "0.6B": dict(
        num_hidden_layers=28,
        hidden_size=1024,
        intermediate_size=3072,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
        tie_word_embeddings=True,
    ),
    "4B": dict(
        num_hidden_layers=36,
        hidden_size=2560,
        intermediate_size=9728,
        num_attention_heads=32,
        num_key_value_heads=8,
        head_dim=128,
        tie_word_embeddings=True,
    ),
    "8B": dict(
        num_hidden_layers=36,
        hidden_size=4096,
        intermediate_size=12288,
        num_attention_heads=32,
        num_key_value_heads=8,
        head_dim=128,
        tie_word_embeddings=False,
    ),
}


def real_shape_config(name: str) -> Qwen3Config:
    """Config with the shapes of Qwen3-Reranker-{0.6B,4B,8B}, for benchmarks with random weights.

    Accepts "0.6B", "4b", "Qwen3-Reranker-8B", ... No dtype is set: pick one explicitly when
    building the model (``Qwen3ForCausalLM._from_config(cfg, dtype=torch.bfloat16)`` or cast).
    """
    from transformers import Qwen3Config

    key = name.strip().upper().removeprefix("QWEN3-RERANKER-")
    matches = [size for size in _REAL_SHAPES if size.upper() == key]
    if not matches:
        raise ValueError(f"unknown Qwen3-Reranker size {name!r}; expected one of {sorted(_REAL_SHAPES)}")
    shape = _REAL_SHAPES[matches[0]]
    return Qwen3Config(**_QWEN3_COMMON, **shape, max_window_layers=shape["num_hidden_layers"])


def tiny_qwen3_config(
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    head_dim: int = 16,
    intermediate_size: int = 128,
    tie_word_embeddings: bool = True,
    initializer_range: float = 0.02,
) -> Qwen3Config:
    """A tiny Qwen3 config with the real vocabulary, token ids and rope settings."""
    from transformers import Qwen3Config

    return Qwen3Config(
        **_QWEN3_COMMON,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        head_dim=head_dim,
        max_window_layers=num_layers,
        tie_word_embeddings=tie_word_embeddings,
        initializer_range=initializer_range,
        # `torch_dtype` rather than `dtype`: 4.x knows only the former, 5.x still accepts it.
        torch_dtype="float32",
    )


def save_tiny_qwen3_reranker(
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    head_dim: int = 16,
    intermediate_size: int = 128,
    tie_word_embeddings: bool = True,
    initializer_range: float = 0.5,
    yes_no_scale: float | None = 4.0,
    dtype: str = "float32",
    init_device: str = "cpu",
) -> Path:
    """Save a tiny random Qwen3 "reranker" (model + real tokenizer) to ``path`` and return it.

    The directory loads with ``AutoModelForCausalLM.from_pretrained`` and
    ``AutoTokenizer.from_pretrained`` like a Hub checkpoint, without trust_remote_code.
    ``tie_word_embeddings=False`` gives a separate lm_head, as the 8B has.

    Why not the default init (std 0.02): every layer is then close to the identity, the last
    position (always the suffix's final "\\n\\n") barely sees the document, and all scores sit
    near 0.48 with neighbouring documents ~1e-4 apart (measured over ten documents), too close
    to tell documents apart robustly. A large init std (0.5) makes attention and MLPs mix the
    document in strongly, and redrawing the "yes"/"no" head rows fixes the logit scale at a few
    units whatever the shape: measured with the defaults, scores spread over ~0.006..0.83 and
    logit differences over ~-5..+1.6, all finite (checked in tests/test_tokenizer.py).

    ``init_device="cuda"`` draws the weights on the GPU, where the big shapes' billions of draws
    are quick (benchmarks). The values then differ from a CPU draw with the same seed, and the
    GPU's random stream is left seeded (fork_rng below restores the CPU's only).
    """
    import torch
    from transformers import Qwen3ForCausalLM

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)

    config = tiny_qwen3_config(
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate_size,
        tie_word_embeddings=tie_word_embeddings,
        initializer_range=initializer_range,
    )
    # fork_rng: seeding must not disturb the caller's global random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        with torch.device(init_device):
            model = Qwen3ForCausalLM(config).to(torch.float32).eval()
        if yes_no_scale is not None:
            _redraw_yes_no_rows(model, yes_no_scale)
        model = model.to(getattr(torch, dtype))  # benchmarks save the big shapes in bfloat16

    save_kwargs = {}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        save_kwargs["safe_serialization"] = True  # transformers 4.x; 5.x always writes safetensors
    model.save_pretrained(out, **save_kwargs)

    tokenizer = build_qwen3_tokenizer()
    tokenizer.save_pretrained(out)
    _declare_qwen2_tokenizer_class(out)
    return out


def _redraw_yes_no_rows(model, scale: float) -> None:
    """Redraw the output-head rows of "yes" and "no" so their logits have std ~ ``scale``.

    The final RMSNorm (weight 1 at init) leaves the last hidden state with RMS ~1, i.e. norm
    sqrt(d); rows drawn with per-entry std scale / sqrt(d) then give logits <h, row> with std
    ~ scale, whatever hidden_size and initializer_range are. With tied embeddings this also sets
    the input embeddings of the two tokens, which is harmless for a random model.
    """
    import torch

    with torch.no_grad():
        head = model.get_output_embeddings().weight
        for token_id in (YES_TOKEN_ID, NO_TOKEN_ID):
            row = head[token_id]
            row.copy_(torch.randn_like(row) * (scale / row.numel() ** 0.5))


def _declare_qwen2_tokenizer_class(directory: Path) -> None:
    """Name ``Qwen2Tokenizer`` in tokenizer_config.json, as the Hub's Qwen3-Reranker repos do.

    ``AutoTokenizer`` then takes the same route it takes for the real checkpoint (in transformers
    5 that class rebuilds its backend from tokenizer.json's vocab and merges), so tests exercise
    the loading path users hit rather than a generic one.
    """
    config_file = directory / "tokenizer_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["tokenizer_class"] = "Qwen2Tokenizer"
    config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
