"""Reference scorer: Qwen3-Reranker scored the way the official usage snippet does it.

Written independently from the facts in /work/shared/qwen3-reranker.md (not copied), and kept
deliberately naive: it is the yardstick the engine's optimised path is compared against in tests
and benchmarks, so it must do exactly what the model card's code does and nothing cleverer:

* body ``<Instruct>: {instruction}\\n<Query>: {query}\\n<Document>: {doc}``, tokenised as one string
  and truncated from the right so prefix + body + suffix fits ``max_length``;
* prefix and suffix token ids encoded once and glued around every body;
* left padding, a full forward pass (all positions, full vocabulary), last position only;
* log_softmax over the [no, yes] logit pair, exp -> probability of "yes".

Like the official code it does not upcast: with a bf16 model the softmax runs in bf16 (pass
``upcast=True`` to do the final arithmetic in float32). Batches are formed in the given order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and "
    'the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
OFFICIAL_MAX_LENGTH = 8192


def format_instruction(instruction: str | None, query: str, doc: str) -> str:
    """The body text of one pair; ``None`` means the default instruction, as in the snippet."""
    if instruction is None:
        instruction = DEFAULT_INSTRUCTION
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"


def _encode_batch(tokenizer, bodies: list[str], max_length: int) -> dict[str, torch.Tensor]:
    prefix_ids = tokenizer.encode(PREFIX, add_special_tokens=False)
    suffix_ids = tokenizer.encode(SUFFIX, add_special_tokens=False)
    # Only the body is truncated, so the judging template always survives intact.
    encoded = tokenizer(
        bodies,
        padding=False,
        truncation="longest_first",
        return_attention_mask=False,
        max_length=max_length - len(prefix_ids) - len(suffix_ids),
    )
    encoded["input_ids"] = [prefix_ids + ids + suffix_ids for ids in encoded["input_ids"]]
    # The official code loads the tokenizer with padding_side="left"; say so explicitly here so a
    # right-padding tokenizer cannot silently move position -1 onto pad tokens.
    return tokenizer.pad(encoded, padding=True, padding_side="left", return_tensors="pt")


@torch.no_grad()
def _yes_no_logits(
    model,
    tokenizer,
    instruction: str | None,
    query: str,
    docs: Sequence[str],
    max_length: int,
    batch_size: int | None,
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per batch: (logit of "no", logit of "yes") at the last position, in the model's dtype."""
    yes_id = tokenizer.convert_tokens_to_ids("yes")
    no_id = tokenizer.convert_tokens_to_ids("no")
    bodies = [format_instruction(instruction, query, doc) for doc in docs]
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be positive or None, got {batch_size}")
    step = batch_size if batch_size is not None else max(len(bodies), 1)
    device = next(model.parameters()).device

    results = []
    for start in range(0, len(bodies), step):
        inputs = _encode_batch(tokenizer, bodies[start : start + step], max_length)
        inputs = {name: tensor.to(device) for name, tensor in inputs.items()}
        last = model(**inputs).logits[:, -1, :]  # full forward, full vocabulary: the official way
        results.append((last[:, no_id], last[:, yes_id]))
    return results


def official_scores(
    model,
    tokenizer,
    instruction: str | None,
    query: str,
    docs: Sequence[str],
    max_length: int = OFFICIAL_MAX_LENGTH,
    batch_size: int | None = None,
    *,
    upcast: bool = False,
) -> list[float]:
    """P("yes") per document, in the order given (``batch_size=None``: one batch)."""
    scores: list[float] = []
    for no, yes in _yes_no_logits(model, tokenizer, instruction, query, docs, max_length, batch_size):
        pair = torch.stack([no, yes], dim=1)
        if upcast:
            pair = pair.float()
        scores.extend(torch.log_softmax(pair, dim=1)[:, 1].exp().float().tolist())
    return scores


def official_logit_diffs(
    model,
    tokenizer,
    instruction: str | None,
    query: str,
    docs: Sequence[str],
    max_length: int = OFFICIAL_MAX_LENGTH,
    batch_size: int | None = None,
    *,
    upcast: bool = False,
) -> list[float]:
    """logit("yes") - logit("no") per document (what sentence-transformers' CrossEncoder returns)."""
    diffs: list[float] = []
    for no, yes in _yes_no_logits(model, tokenizer, instruction, query, docs, max_length, batch_size):
        if upcast:
            yes, no = yes.float(), no.float()
        diffs.extend((yes - no).float().tolist())
    return diffs
