"""The offline model (all-MiniLM-L6-v2, a BERT) read without transformers: its encoder in plain
torch and its WordPiece tokenizer through the tokenizers library.

transformers computes the same hidden states (BertModel) and tokens (BertTokenizer), but importing
it took about 4 s of the offline fallback's 7 s load on a 2-core CPU: its model classes
(modeling_utils and what they pull in: torch._dynamo, torch.distributed, sympy) ~3 s, the library
and its tokenizer class ~1.3 s; and a launch waits for that load before it can rank anything.

The encoder is the model's arithmetic only, read from the package's own safetensors file:
embeddings, then per layer self-attention and a GELU feed-forward, each followed by a residual sum
and a layer norm (post-norm, as BERT has it). Its output equals BertModel's within float rounding,
at the same speed; the query, key and value projections are one matmul here, three times as wide.
The tokenizer gives the very ids, offsets, word ids and decoded text transformers' gives
(tests/engine/test_minilm.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# What the arithmetic below assumes of config.json; anything else is another model, refused.
_EXPECTED = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}


class MiniLMEncoder(nn.Module):
    """Last hidden states of token ids (with [CLS] and [SEP]) under an attention mask (1 = token)."""

    def __init__(self, config: dict):
        super().__init__()
        for key, value in _EXPECTED.items():
            if config.get(key, value) != value:
                raise ValueError(f"the offline model's {key} is {config.get(key)!r}, not {value!r}")
        self.hidden_size = width = config["hidden_size"]
        eps = config["layer_norm_eps"]
        self.words = nn.Embedding(config["vocab_size"], width)
        self.positions = nn.Embedding(config["max_position_embeddings"], width)
        # Every token is of segment 0 here (one text per row): its embedding is a constant.
        self.segment = nn.Parameter(torch.empty(width))
        self.embedding_norm = nn.LayerNorm(width, eps=eps)
        heads, inner = config["num_attention_heads"], config["intermediate_size"]
        self.layers = nn.ModuleList(_Layer(width, heads, inner, eps) for _ in range(config["num_hidden_layers"]))

    @classmethod
    def load(cls, path: Path) -> MiniLMEncoder:
        """The encoder of a sentence-transformers BERT directory (config.json, model.safetensors).
        A missing file raises OSError; a damaged or different model, ValueError."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        # Built on the CPU, then its weights replaced: on torch's meta device the random
        # initialisation would be skipped (0.25 s) but torch._dynamo imported for it (~1.5 s).
        try:
            encoder = cls(config)
        except KeyError as e:
            raise ValueError(f"the offline model's config.json lacks {e}") from None
        try:
            weights = load_file(str(path / "model.safetensors"))
            encoder.load_state_dict(_renamed(weights, len(encoder.layers)), assign=True)
        except (SafetensorError, RuntimeError) as e:  # unreadable file; missing or misshapen tensors
            raise ValueError(f"the offline model's weights do not load: {str(e).splitlines()[0]}") from e
        return encoder.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        x = self.words(input_ids) + self.positions.weight[:length] + self.segment
        x = self.embedding_norm(x)
        # Padding keys are hidden from every query; with no padding no mask is passed at all, so
        # attention may take its fastest kernel (rows of equal length are the usual case).
        keys_seen = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :]
        for layer in self.layers:
            x = layer(x, keys_seen)
        return x


class _Layer(nn.Module):
    def __init__(self, width: int, heads: int, inner: int, eps: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.attention_out = nn.Linear(width, width)
        self.attention_norm = nn.LayerNorm(width, eps=eps)
        self.up = nn.Linear(width, inner)
        self.down = nn.Linear(inner, width)
        self.output_norm = nn.LayerNorm(width, eps=eps)

    def forward(self, x: torch.Tensor, keys_seen: torch.Tensor | None) -> torch.Tensor:
        rows, length, width = x.shape
        q, k, v = self.qkv(x).view(rows, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=keys_seen)
        attended = attended.transpose(1, 2).reshape(rows, length, width)
        x = self.attention_norm(x + self.attention_out(attended))
        return self.output_norm(x + self.down(F.gelu(self.up(x))))


def _renamed(weights: dict[str, torch.Tensor], layers: int) -> dict[str, torch.Tensor]:
    """The checkpoint's BertModel names mapped to this module's; query, key and value stacked."""

    def take(name: str) -> torch.Tensor:
        try:
            return weights[name]
        except KeyError:
            raise ValueError(f"the offline model's weights lack {name}") from None

    out = {
        "words.weight": take("embeddings.word_embeddings.weight"),
        "positions.weight": take("embeddings.position_embeddings.weight"),
        "segment": take("embeddings.token_type_embeddings.weight")[0].clone(),
        "embedding_norm.weight": take("embeddings.LayerNorm.weight"),
        "embedding_norm.bias": take("embeddings.LayerNorm.bias"),
    }
    for i in range(layers):
        src, dst = f"encoder.layer.{i}.", f"layers.{i}."
        for part in ("weight", "bias"):
            out[dst + "qkv." + part] = torch.cat(
                [take(f"{src}attention.self.{p}.{part}") for p in ("query", "key", "value")]
            )
            out[dst + "attention_out." + part] = take(f"{src}attention.output.dense.{part}")
            out[dst + "attention_norm." + part] = take(f"{src}attention.output.LayerNorm.{part}")
            out[dst + "up." + part] = take(f"{src}intermediate.dense.{part}")
            out[dst + "down." + part] = take(f"{src}output.dense.{part}")
            out[dst + "output_norm." + part] = take(f"{src}output.LayerNorm.{part}")
    return out


class MiniLMTokenizer:
    """The offline model's tokenizer (its tokenizer.json), answering the calls the workbench makes
    of a transformers tokenizer: `tokenizer(text or texts, ...)`, `encode`, `decode` and
    `backend_tokenizer`. Offsets come with every call; truncation is never asked of it (the
    fallback cuts by hand)."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer

        try:
            backend = Tokenizer.from_file(str(path / "tokenizer.json"))
        except Exception as e:  # the library raises a bare Exception for a missing or damaged file
            raise ValueError(f"the offline model's tokenizer does not load: {e}") from e
        # The file asks for truncation and padding to 128 tokens; transformers switches both off
        # unless a call asks for them, and so does this.
        backend.no_truncation()
        backend.no_padding()
        self.backend_tokenizer = backend

    def __call__(self, text: str | Sequence[str], add_special_tokens: bool = True, truncation: bool = False,
                 return_offsets_mapping: bool = True, return_attention_mask: bool = False):
        if truncation:
            raise ValueError("the offline model's tokenizer does not truncate: cut the ids instead")
        if isinstance(text, str):
            return _Encoded(self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens))
        encodings = self.backend_tokenizer.encode_batch(list(text), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings], "offset_mapping": [e.offsets for e in encodings]}

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return self.backend_tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)


class _Encoded(dict):
    """One text's ids and offsets, and the word each token belongs to (word_ids())."""

    def __init__(self, encoding):
        super().__init__(input_ids=encoding.ids, offset_mapping=encoding.offsets)
        self._word_ids = encoding.word_ids

    def word_ids(self) -> list[int | None]:
        return self._word_ids
