"""Where the Qwen3-Reranker prompt is built: the exact strings and token layout the model expects.

The model was trained on this template; without it scores are close to random. We never use the
tokenizer's chat template (the hub repos ship one with other roles) and build ids ourselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .types import Prompt

DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and "
    'the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
BODY = "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}"

DEFAULT_MAX_LENGTH = 8192  # the official snippet's max_length

# Tokens of PREFIX + SUFFIX in the Qwen3 tokenizer (39 + 9; a test holds this to the real one):
# known without a tokenizer, so a chunk size can be checked before a model loads.
TEMPLATE_TOKENS = 48


def check_chunk_fits(chunk_tokens: int, max_length: int) -> None:
    """Refuse a chunk size that can never fit in a prompt of `max_length` tokens: every chunk
    would be cut, silently losing its end. 0 (chunking off) always passes."""
    room = max_length - TEMPLATE_TOKENS
    if chunk_tokens > room:
        raise ValueError(
            f"--chunk-tokens {chunk_tokens} does not fit in --max-length {max_length}: the prompt template "
            f"takes {TEMPLATE_TOKENS} tokens, so a chunk can have at most {room} (less the instruction and query)"
        )


def template_hash() -> str:
    """Short hash of the template strings, logged with each run so changes are detectable."""
    return hashlib.sha256((PREFIX + "\x00" + BODY + "\x00" + SUFFIX).encode()).hexdigest()[:16]


def format_body(instruction: str, query: str, document: str) -> str:
    return BODY.format(instruction=instruction, query=query, document=document)


class PromptBuilder:
    """Turns (instruction, query, document) into the exact ids the official code produces.

    Official layout: prefix ids + body ids truncated from the right to
    `max_length - len(prefix) - len(suffix)` + suffix ids. Prefix and suffix always survive.
    """

    def __init__(self, tokenizer, max_length: int = DEFAULT_MAX_LENGTH):
        self.tokenizer = tokenizer
        self.prefix_ids = tuple(tokenizer.encode(PREFIX, add_special_tokens=False))
        self.suffix_ids = tuple(tokenizer.encode(SUFFIX, add_special_tokens=False))
        self.max_length = max_length
        self.body_budget = max_length - len(self.prefix_ids) - len(self.suffix_ids)
        if self.body_budget < 16:
            raise ValueError(f"max length {max_length} leaves no room for the query and document")

    def build(self, instruction: str, query: str, documents: Sequence[str]) -> list[Prompt]:
        """One prompt per document, tokenised in one batched call (the tokenizer is Rust-fast)."""
        if not documents:
            return []
        bodies = [format_body(instruction, query, d) for d in documents]
        # Offsets tell us how much of the document survives truncation (shown in the UI).
        encoded = self.tokenizer(
            bodies,
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
        )
        doc_start = len(format_body(instruction, query, ""))
        prompts = []
        for ids, offsets in zip(encoded["input_ids"], encoded["offset_mapping"]):
            truncated = len(ids) > self.body_budget
            kept_chars = None
            if truncated:
                ids = ids[: self.body_budget]
                kept_chars = max(0, offsets[self.body_budget - 1][1] - doc_start)
            prompts.append(
                Prompt(ids=self.prefix_ids + tuple(ids) + self.suffix_ids, truncated=truncated, kept_chars=kept_chars)
            )
        return prompts

    def decode(self, prompt: Prompt) -> str:
        """The prompt as text, exactly as the model sees it (for the 'what the model saw' view)."""
        return self.tokenizer.decode(list(prompt.ids), skip_special_tokens=False)
