"""The Qwen3 vocabulary, rebuilt offline: its fixed token ids and added tokens, and the conversion of
dashscope's ``qwen.tiktoken`` ranks into a Hugging Face ``tokenizer.json``.

The Qwen byte-level BPE vocabulary ships inside the PyPI package ``dashscope`` as
``dashscope/resources/qwen.tiktoken`` (base64 token bytes and rank per line). The Hugging Face
tokenizer of Qwen2/Qwen3 is that same vocabulary expressed as byte-level BPE, so it can be rebuilt
exactly: the ids the doc lists (``yes`` = 9693, the 39-token prefix, ...) are the proof.
Wrapped as a transformers tokenizer by :mod:`workbench.testing.offline_tokenizer`.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
from pathlib import Path

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
CONVERSION_VERSION = "2"


def tiktoken_path() -> Path:
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


def build_tokenizer_json(tiktoken_file: Path) -> str:
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
