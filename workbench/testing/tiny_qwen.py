"""A real Qwen3 tokenizer and tiny random Qwen3 rerankers, built with no network access.

Model hubs are unreachable from every machine of this project, so tests and benchmarks cannot
download Qwen3-Reranker. Two facts make an honest offline stand-in possible:

* The Qwen byte-level BPE vocabulary ships inside the PyPI package ``dashscope`` as
  ``dashscope/resources/qwen.tiktoken`` (base64 token bytes and rank per line). The Hugging Face
  tokenizer of Qwen2/Qwen3 is that same vocabulary expressed as byte-level BPE, so it can be
  rebuilt exactly: the ids the doc lists (``yes`` = 9693, the 39-token prefix, ...) are the proof.
* A ``Qwen3ForCausalLM`` with random weights and the real vocabulary size goes through exactly the
  loading and scoring code a real checkpoint does. Speed does not depend on weight values, so
  :func:`real_shape_config` gives benchmark-ready shapes of the three published sizes.

Used by ``tests/`` and by ``benchmarks/``, which is why it lives inside the package.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep `import workbench.testing.tiny_qwen` cheap; torch/transformers load lazily
    from transformers import PreTrainedTokenizerFast, Qwen3Config

__all__ = [
    "ADDED_TOKENS",
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

# Pre-tokenisation regex of Qwen2/Qwen3 (the doc's string, character for character).
QWEN_PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Added tokens in id order starting right after the BPE ranks (151643). The flag says whether the
# token is "special" (skipped by decode(skip_special_tokens=True)). The Hub's Qwen3 tokenizer marks
# the control tokens up to <|video_pad|> special; tool/fim/think markers are plain added tokens
# (still never split by BPE). Scoring does not depend on the flag, only decoding does.
ADDED_TOKENS: tuple[tuple[str, bool], ...] = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)

BPE_VOCAB_SIZE = 151643  # ranks 0..151642 in qwen.tiktoken
QWEN3_VOCAB_SIZE = BPE_VOCAB_SIZE + len(ADDED_TOKENS)  # 151669, the models' vocab_size
YES_TOKEN_ID = 9693
NO_TOKEN_ID = 2152
ENDOFTEXT_ID = 151643
IM_END_ID = 151645

# Bump when the conversion below changes, so on-disk caches of older builds are ignored.
_CONVERSION_VERSION = "2"
_CACHE_ENV = "WORKBENCH_TOKENIZER_CACHE"  # a directory, or "0"/"off" to disable the disk cache


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


def _tiktoken_path() -> Path:
    """Locate ``qwen.tiktoken`` inside the installed dashscope package without importing it.

    ``find_spec`` reads the package location only; importing dashscope itself pulls in its HTTP
    client stack, which a tokenizer build has no use for.
    """
    spec = importlib.util.find_spec("dashscope")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "resources" / "qwen.tiktoken"
        if candidate.is_file():
            return candidate
    raise RuntimeError(
        "The Qwen BPE vocabulary (dashscope/resources/qwen.tiktoken) was not found. It ships with "
        "the PyPI package `dashscope`: run `pip install dashscope` (it is part of the `test` extra)."
    )


@functools.lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table used by byte-level BPE.

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (controls, space, NBSP,
    soft hyphen, ...) are assigned U+0100 onwards in byte order, so no byte maps to whitespace.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


def _read_ranks(path: Path) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    if len(ranks) != BPE_VOCAB_SIZE or sorted(ranks.values()) != list(range(BPE_VOCAB_SIZE)):
        raise RuntimeError(f"{path} does not hold the expected {BPE_VOCAB_SIZE} Qwen ranks 0..{BPE_VOCAB_SIZE - 1}")
    return ranks


def _merge_pair(token: bytes, rank: int, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The two parts tiktoken's own BPE ends with when it builds ``token`` from its bytes.

    tiktoken repeatedly merges the adjacent pair whose concatenation has the lowest rank. Replaying
    that with only ranks below ``rank`` stops one step short of ``token``; the last two parts are
    therefore the merge that creates it. This yields exactly one merge per multi-byte token
    (151387 for Qwen, the count Qwen's published tokenizer.json has), all reachable in rank order.
    Listing every split whose halves exist instead (a common shortcut) adds ~140k merges, ~46k of
    them using a part ranked after the result, which tiktoken itself could never apply that way.
    """
    get = ranks.get
    # Shortcut: the final two parts are tokens ranked below `rank` (all 256 single bytes rank
    # 0..255), so when only one split of `token` has both halves ranked lower, it is the answer.
    # That holds for over half the vocabulary and skips the quadratic replay below.
    only_split = None
    for i in range(1, len(token)):
        left, right = token[:i], token[i:]
        if get(left, rank) < rank and get(right, rank) < rank:
            if only_split is not None:
                break
            only_split = (left, right)
    else:
        if only_split is not None:
            return only_split

    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best_rank = rank
        best_at = -1
        for i in range(len(parts) - 1):
            merged_rank = get(parts[i] + parts[i + 1])
            if merged_rank is not None and merged_rank < best_rank:
                best_rank, best_at = merged_rank, i
        if best_at < 0:
            break
        parts[best_at : best_at + 2] = [parts[best_at] + parts[best_at + 1]]
    if len(parts) != 2:
        raise RuntimeError(f"token of rank {rank} cannot be built from lower-ranked tokens: {token!r}")
    return parts[0], parts[1]


def _build_tokenizer_json(tiktoken_file: Path) -> str:
    """Convert the tiktoken ranks into a serialized ``tokenizers`` byte-level BPE (tokenizer.json)."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import BPE

    ranks = _read_ranks(tiktoken_file)
    # Latin-1 decoding turns each byte into the code point of the same value; translate() then
    # applies the byte -> printable-character table in C (much faster than a join per token).
    to_char = str.maketrans(_bytes_to_unicode())

    def as_text(token: bytes) -> str:
        return token.decode("latin-1").translate(to_char)

    vocab: dict[str, int] = {}
    merges: list[tuple[str, str]] = []
    # Ascending rank order = merge priority order (a lower-ranked merge wins in both tiktoken and HF).
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        vocab[as_text(token)] = rank
        if len(token) > 1:
            left, right = _merge_pair(token, rank, ranks)
            merges.append((as_text(left), as_text(right)))

    # Every byte has its own token in Qwen's vocabulary, so no unk token and no byte fallback needed.
    backend = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False, byte_fallback=False))
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            # The regex above already did the splitting; ByteLevel only maps bytes to characters.
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    # Offsets only, as in Qwen's tokenizer.json: adds no BOS/EOS (Qwen prepends/appends nothing).
    backend.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)

    # One at a time, so each lands on the next id in the listed order (151643, 151644, ...).
    for content, special in ADDED_TOKENS:
        token = AddedToken(content, special=special, normalized=False, lstrip=False, rstrip=False, single_word=False)
        if special:
            backend.add_special_tokens([token])
        else:
            backend.add_tokens([token])
    for offset, (content, _) in enumerate(ADDED_TOKENS):
        if backend.token_to_id(content) != BPE_VOCAB_SIZE + offset:
            raise RuntimeError(f"added token {content} did not get id {BPE_VOCAB_SIZE + offset}")
    return backend.to_str()


def _disk_cache_dir() -> Path | None:
    setting = os.environ.get(_CACHE_ENV, "")
    if setting.lower() in {"0", "off", "false", "no"}:
        return None
    if setting:
        return Path(setting)
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("rerank-workbench"))
    except Exception:  # platformdirs missing or no home directory: just build every time
        return None


def _qwen3_tokenizer_json() -> str:
    """tokenizer.json text, from the disk cache when a matching build is there.

    Building takes a few seconds (one BPE replay per vocabulary entry); reading the cache takes a
    fraction of that. The cache key covers the vocabulary file's bytes, this conversion's version
    and the tokenizers version, so a changed input never serves a stale build. Any cache problem
    (read-only home, races between test workers) falls back to building in memory.
    """
    import tokenizers

    source = _tiktoken_path()
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"{_CONVERSION_VERSION}/{tokenizers.__version__}".encode())
    cache_dir = _disk_cache_dir()
    cache_file = cache_dir / f"qwen3-tokenizer-{digest.hexdigest()[:16]}.json" if cache_dir else None

    if cache_file is not None and cache_file.is_file():
        try:
            text = cache_file.read_text(encoding="utf-8")
            json.loads(text)  # a truncated file must not be used
            return text
        except (OSError, ValueError):
            pass

    text = _build_tokenizer_json(source)
    if cache_file is not None:
        tmp_name = None
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: concurrent builders never expose a half-written file.
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=cache_file.parent, delete=False) as tmp:
                tmp_name = tmp.name
                tmp.write(text)
            os.replace(tmp_name, cache_file)
        except OSError:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
    return text


@functools.lru_cache(maxsize=1)
def _qwen3_backend():
    """The ``tokenizers.Tokenizer``, parsed once per process. Never handed out: wrappers copy it."""
    from tokenizers import Tokenizer

    return Tokenizer.from_str(_qwen3_tokenizer_json())


def new_qwen3_tokenizer() -> PreTrainedTokenizerFast:
    """A fresh, independently mutable Qwen3 tokenizer (the vocabulary build itself is cached).

    ``PreTrainedTokenizerFast`` deep-copies ``tokenizer_object`` (checked in transformers 5.23),
    so the cached backend is never shared with, or mutated through, the returned tokenizer.
    """
    from transformers import PreTrainedTokenizerFast

    backend = _qwen3_backend()
    named = {"<|endoftext|>", "<|im_end|>"}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=None,  # Qwen has no BOS and prepends nothing
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        # `additional_special_tokens` is accepted by transformers 4.x and mapped to
        # `extra_special_tokens` by 5.x.
        additional_special_tokens=[t for t, special in ADDED_TOKENS if special and t not in named],
        padding_side="left",  # position -1 must be every row's real last token
        truncation_side="right",
        model_max_length=131072,
        # Anything else would change decoded text (e.g. " ." -> ".") and break round trips.
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )


@functools.lru_cache(maxsize=1)
def build_qwen3_tokenizer() -> PreTrainedTokenizerFast:
    """The real Qwen3 tokenizer rebuilt offline; one shared instance per process.

    Treat it as read-only (do not change ``padding_side`` or add tokens on it): every caller gets
    the same object. Use :func:`new_qwen3_tokenizer` for a private copy.
    """
    return new_qwen3_tokenizer()


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

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
        model = Qwen3ForCausalLM(config).to(torch.float32).eval()
        if yes_no_scale is not None:
            _redraw_yes_no_rows(model, yes_no_scale)

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
