"""The real Qwen3 tokenizer as a transformers ``PreTrainedTokenizerFast``, built with no network
access from :mod:`workbench.testing.qwen_vocabulary` and cached on disk between processes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.testing.qwen_vocabulary import (
    ADDED_TOKENS,
    CONVERSION_VERSION,
    build_tokenizer_json,
    tiktoken_path,
)

if TYPE_CHECKING:  # importing this module stays cheap; transformers loads lazily
    from transformers import PreTrainedTokenizerFast

_CACHE_ENV = "WORKBENCH_TOKENIZER_CACHE"  # a directory, or "0"/"off" to disable the disk cache


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

    source = tiktoken_path()
    digest = hashlib.sha256(source.read_bytes())
    digest.update(f"{CONVERSION_VERSION}/{tokenizers.__version__}".encode())
    cache_dir = _disk_cache_dir()
    cache_file = cache_dir / f"qwen3-tokenizer-{digest.hexdigest()[:16]}.json" if cache_dir else None

    if cache_file is not None and cache_file.is_file():
        try:
            text = cache_file.read_text(encoding="utf-8")
            json.loads(text)  # a truncated file must not be used
            return text
        except (OSError, ValueError):
            pass

    text = build_tokenizer_json(source)
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

