"""Where the Qwen3-Reranker prompt is built: the exact strings and token layout the model expects.

The model was trained on this template; without it scores are close to random. We never use the
tokenizer's chat template (the hub repos ship one with other roles) and build ids ourselves.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence

from .types import Prompt

DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and "
    'the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
# The body is a head (instruction and query) then the document part. The Qwen pre-tokeniser always
# splits right after the head's last newline, so the two parts are tokenised apart and joined: a
# chunk's part is tokenised once for every query, a query's head once for every chunk.
HEAD = "<Instruct>: {instruction}\n<Query>: {query}\n"
DOCUMENT = "<Document>: {document}"
BODY = HEAD + DOCUMENT
DOCUMENT_LABEL = DOCUMENT.format(document="")
# Token ids of document parts kept, as compact arrays (~16 MB): a few 32k-token documents' chunks.
DOCUMENT_MEMORY_IDS = 4_000_000

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
        self._documents: OrderedDict[str, array] = OrderedDict()
        self._stored_ids = 0
        self._head: tuple[str, tuple[int, ...] | None] | None = None
        self._lock = threading.Lock()  # the memories above may be shared by a UI and a worker thread

    def build(self, instruction: str, query: str, documents: Sequence[str]) -> list[Prompt]:
        """One prompt per document: the head tokenised once, each document part once ever."""
        if not documents:
            return []
        with self._lock:
            head_ids = self._head_ids(HEAD.format(instruction=instruction, query=query))
            parts = self._document_ids(documents) if head_ids is not None else None
        if head_ids is None:
            return self._build_whole(instruction, query, documents)
        prompts = []
        for document, part in zip(documents, parts):
            ids = head_ids + tuple(part)
            truncated = len(ids) > self.body_budget
            kept_chars = None
            if truncated:
                ids = ids[: self.body_budget]
                kept_chars = self._kept_chars(document, self.body_budget - 1 - len(head_ids))
            ids = self.prefix_ids + ids + self.suffix_ids
            prompts.append(Prompt(ids=ids, truncated=truncated, kept_chars=kept_chars))
        return prompts

    def remember_documents(self, documents: Sequence[str]) -> None:
        """Tokenise the document parts of prompts still to be built: they do not depend on the
        instruction or the query, and a later build then only joins ids."""
        with self._lock:
            self._document_ids(documents)

    def forget_documents(self) -> None:
        """Drop the remembered document token ids (see Scorer.forget_texts)."""
        with self._lock:
            self._documents.clear()
            self._stored_ids = 0

    def _head_ids(self, head: str) -> tuple[int, ...] | None:
        """The head's ids, or None when this tokenizer could merge across the head's end."""
        if self._head is None or self._head[0] != head:
            splits = _splits_after(self.tokenizer, head)
            self._head = (head, tuple(self.tokenizer.encode(head, add_special_tokens=False)) if splits else None)
        return self._head[1]

    def _document_ids(self, documents: Sequence[str]) -> list[array]:
        """Ids of each "<Document>: ..." part, tokenised in one batched call for those not known."""
        memory = self._documents
        missing = [d for d in dict.fromkeys(documents) if d not in memory]
        if missing:
            encoded = self.tokenizer(
                [DOCUMENT.format(document=d) for d in missing], add_special_tokens=False, return_attention_mask=False
            )["input_ids"]
            memory.update((d, array("i", ids)) for d, ids in zip(missing, encoded))
            self._stored_ids += sum(len(ids) for ids in encoded)
        parts = []
        for d in documents:
            memory.move_to_end(d)
            parts.append(memory[d])
        while self._stored_ids > DOCUMENT_MEMORY_IDS and memory:
            self._stored_ids -= len(memory.popitem(last=False)[1])
        return parts

    def _kept_chars(self, document: str, last_token: int) -> int:
        """Characters of the document covered by its part's tokens up to `last_token` (may be < 0:
        the head alone fills the budget)."""
        if last_token < 0:
            return 0
        part = DOCUMENT.format(document=document)
        offsets = self.tokenizer(part, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return max(0, offsets[last_token][1] - len(DOCUMENT_LABEL))

    def _build_whole(self, instruction: str, query: str, documents: Sequence[str]) -> list[Prompt]:
        """Every body tokenised whole (for a tokenizer that does not split after the head)."""
        bodies = [format_body(instruction, query, d) for d in documents]
        # Offsets tell us how much of the document survives truncation (shown in the UI).
        encoded = self.tokenizer(
            bodies, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False
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


def _splits_after(tokenizer, head: str) -> bool:
    """Whether the tokenizer's pre-tokeniser starts a new piece right after `head` (then no token
    can span the head and the document part, and their ids join to the whole body's)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    pre = getattr(backend, "pre_tokenizer", None)
    if pre is None:
        return False
    end = len(head)
    # Normalisation (NFC) cannot join across the newline and "<" either: both are starters.
    pieces = pre.pre_tokenize_str(head + DOCUMENT_LABEL)
    return any(start == end for _, (start, _) in pieces)
