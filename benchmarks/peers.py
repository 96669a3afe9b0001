"""The engine's peers in benchmarks: other people's ways of scoring Qwen3-Reranker, texts in.

* :func:`official_logits` does what the model card's usage snippet does.
* :func:`load_cross_encoder` / :func:`cross_encoder_logits` use sentence-transformers' CrossEncoder
  (6.x), given the exact Qwen3 template so that its raw scores are the engine's.

Both return logit("yes") - logit("no") per document as float32 on the CPU, the quantity the
engine returns, so a benchmark can time texts -> scores (tokenisation included) and check that
every peer computed the same thing. The template strings are written out here rather than
imported from the engine, so a slip in the engine's copy shows up as a disagreement.

    python benchmarks/peers.py                  # tiny random model: do the three agree?
    python benchmarks/peers.py --shape 0.6B     # random weights in the real 0.6B shape
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch

# From the model card (facts in /work/shared/qwen3-reranker.md).
PREFIX = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and "
    'the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    "<|im_start|>user\n"
)
SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
OFFICIAL_MAX_LENGTH = 8192


def official_body(instruction: str, query: str, doc: str) -> str:
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"


@torch.no_grad()
def official_logits(
    model, tokenizer, instruction: str, query: str, docs: Sequence[str], batch_size: int,
    max_length: int = OFFICIAL_MAX_LENGTH,
) -> torch.Tensor:
    """Score like the official snippet: the body truncated so prefix + body + suffix fits
    ``max_length``, left padding, a full forward (every position, whole vocabulary), batches in
    the given order. The yes/no columns keep the model's dtype, as there; only their difference
    is taken in float32."""
    prefix_ids = tokenizer.encode(PREFIX, add_special_tokens=False)
    suffix_ids = tokenizer.encode(SUFFIX, add_special_tokens=False)
    yes_id = tokenizer.convert_tokens_to_ids("yes")
    no_id = tokenizer.convert_tokens_to_ids("no")
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(docs), batch_size):
        bodies = [official_body(instruction, query, d) for d in docs[start : start + batch_size]]
        encoded = tokenizer(
            bodies, padding=False, truncation="longest_first", return_attention_mask=False,
            max_length=max_length - len(prefix_ids) - len(suffix_ids),
        )
        encoded["input_ids"] = [prefix_ids + ids + suffix_ids for ids in encoded["input_ids"]]
        # The snippet loads its tokenizer with padding_side="left"; said here so a tokenizer set
        # up otherwise cannot put pads at position -1.
        inputs = tokenizer.pad(encoded, padding=True, padding_side="left", return_tensors="pt")
        last = model(**inputs.to(device)).logits[:, -1, :]
        out.append(last[:, yes_id].float() - last[:, no_id].float())
    return torch.cat(out).cpu() if out else torch.zeros(0)


def engine_logits(scorer, instruction: str, query: str, docs: Sequence[str]) -> torch.Tensor:
    """The workbench engine's way, texts in: its prompt builder, then its scoring path."""
    prompts = scorer.build_prompts(instruction, query, docs)
    logits = torch.zeros(len(prompts))
    for batch in scorer.score_prompts(prompts):
        for i, value in batch:
            logits[i] = value
    return logits


def qwen3_chat_template(instruction: str) -> str:
    """A Jinja chat template rendering a CrossEncoder (query, document) pair as the Qwen3 prompt.

    CrossEncoder turns a text pair into messages with roles "query" and "document", and a
    `prompt` into a leading "system" message, then renders them with the chat template. The
    system message, when given, replaces ``instruction``. Strings go in as JSON literals, which
    Jinja reads back exactly (escapes included).
    """
    literal = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731
    return (
        "{%- set ns = namespace(instruction=" + literal(instruction) + ", query='', document='') -%}"
        "{%- for message in messages -%}"
        "{%- if message.role == 'system' -%}{%- set ns.instruction = message.content -%}"
        "{%- elif message.role == 'query' -%}{%- set ns.query = message.content -%}"
        "{%- elif message.role == 'document' -%}{%- set ns.document = message.content -%}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{{- " + literal(PREFIX) + " ~ '<Instruct>: ' ~ ns.instruction ~ '\\n<Query>: ' ~ ns.query"
        " ~ '\\n<Document>: ' ~ ns.document ~ " + literal(SUFFIX) + " -}}"
    )


def load_cross_encoder(
    model_dir: str | os.PathLike[str], instruction: str, device: str = "cpu",
    dtype: torch.dtype = torch.float32, max_length: int = OFFICIAL_MAX_LENGTH, quantization_config=None,
):
    """sentence-transformers' CrossEncoder over a local Qwen3-Reranker directory, set up so that
    ``predict`` returns the engine's raw logits.

    ST 6 sees a *ForCausalLM architecture and builds Transformer(text-generation, left padding,
    last-position logits only) + LogitScore(yes, no). We add the exact template (the directory
    needs none of its own), the official 8192-token cut (ST would otherwise cut at the model's
    40960 positions) and no activation (its default is a sigmoid).
    """
    from sentence_transformers import CrossEncoder

    return CrossEncoder(
        str(model_dir),
        device=device,
        trust_remote_code=False,
        local_files_only=True,
        max_length=max_length,
        activation_fn=torch.nn.Identity(),
        model_kwargs={"dtype": dtype, **({"quantization_config": quantization_config} if quantization_config else {})},
        processor_kwargs={"chat_template": qwen3_chat_template(instruction)},
    )


def cross_encoder_logits(ce, query: str, docs: Sequence[str], batch_size: int) -> torch.Tensor:
    """CrossEncoder.predict over (query, doc) pairs: float32 raw logits in the order given (ST
    sorts by length inside predict and restores the order)."""
    pairs = [(query, d) for d in docs]
    scores = ce.predict(pairs, batch_size=batch_size, convert_to_tensor=True, show_progress_bar=False)
    return scores.float().cpu()


# --------------------------------------------------------------------------------------------
# Command line: run the engine and both peers on a few texts, print agreement and timings.
# --------------------------------------------------------------------------------------------

QUERY = "Which planet is known as the Red Planet?"
INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
TEXTS = [
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "",
    "火星因其表面的氧化铁而呈红色，被称为红色星球。",
    "Venus is often called Earth's twin. " * 4,
    "Saturn is famous for its rings and its many moons. " * 12,
    "Jupiter, the largest planet, has a prominent red spot.\n\nIt has dozens of moons. " * 25,
    "Mercury is the smallest planet and the closest to the Sun. " * 40,
    "Neptune is a windy ice giant. " * 3,
]


def _save_model(shape: str | None, where: Path) -> Path:
    from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

    if shape is None:
        return save_tiny_qwen3_reranker(where)
    from workbench.testing.tiny_qwen import real_shape_config

    cfg = real_shape_config(shape)
    # A small init std keeps 28+ random layers finite; the yes/no rows are redrawn to a sane scale.
    return save_tiny_qwen3_reranker(
        where, hidden_size=cfg.hidden_size, num_layers=cfg.num_hidden_layers,
        num_heads=cfg.num_attention_heads, num_kv_heads=cfg.num_key_value_heads, head_dim=cfg.head_dim,
        intermediate_size=cfg.intermediate_size, tie_word_embeddings=cfg.tie_word_embeddings,
        initializer_range=0.02,
    )


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Engine vs the official snippet vs sentence-transformers, texts in.")
    parser.add_argument("--model", help="local model directory (default: a random model built in a temp dir)")
    parser.add_argument("--shape", help="with no --model: random weights in this shape (0.6B, 4B, 8B); default tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--max-length", type=int, default=OFFICIAL_MAX_LENGTH)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from dataclasses import replace

    from workbench.engine.loading import LoadOptions, load_scorer
    from workbench.engine.reranker import Qwen3Reranker

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(args.model) if args.model else _save_model(args.shape, Path(tmp))
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
        loaded = load_scorer(LoadOptions(model=str(model_dir), device=args.device, dtype=args.dtype))
        scorer = Qwen3Reranker(loaded.model, loaded.tokenizer, replace(loaded.info, max_length=args.max_length))
        ce = load_cross_encoder(model_dir, INSTRUCTION, args.device, dtype, args.max_length)

        def engine(texts: list[str]) -> torch.Tensor:
            return engine_logits(scorer, INSTRUCTION, QUERY, texts)

        def snippet(texts: list[str]) -> torch.Tensor:
            model, tokenizer = scorer.model, scorer.tokenizer
            return official_logits(model, tokenizer, INSTRUCTION, QUERY, texts, args.batch_size, args.max_length)

        # One text through each first, so no one pays the others' warm-up (allocator, kernels).
        engine(TEXTS[:1]), snippet(TEXTS[:1]), cross_encoder_logits(ce, QUERY, TEXTS[:1], 1)
        ours, t_engine = _timed(lambda: engine(TEXTS))
        official, t_official = _timed(lambda: snippet(TEXTS))
        st, t_st = _timed(lambda: cross_encoder_logits(ce, QUERY, TEXTS, args.batch_size))

    print(f"{'engine':>10} {'official':>10} {'st':>10}")
    for row in zip(ours.tolist(), official.tolist(), st.tolist()):
        print(" ".join(f"{v:10.4f}" for v in row))
    gaps = (ours - official).abs().max(), (ours - st).abs().max()
    print(f"max |engine - official| = {gaps[0]:.2e}, max |engine - st| = {gaps[1]:.2e}")
    print(f"seconds (texts in, scores out): engine {t_engine:.2f}, official {t_official:.2f}, st {t_st:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
