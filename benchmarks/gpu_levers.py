"""The engine's levers one by one, on one shape and one device, against sentence-transformers.

bench_engine.py compares the engine with its peers; this takes the engine apart: the same weights
and texts scored with one lever changed at a time, alternating over rounds in one process, then a
torch.profiler view of one call (where the device's time goes), then the compiled forward.

    python benchmarks/gpu_levers.py                  # CUDA: 0.6B shape, bf16, 256 pairs
    python benchmarks/gpu_levers.py --device cpu --layers 2 --pairs 8 --chunk-len 128 --mixed-max 384

Variants: engine (defaults); shared head (the prompt head computed once and handed to every
batch as a KV cache, the CPU's default) and whole prompts (the head computed with every pair, so
a batch needs no cache and no attention mask, the GPU's default); serial (no overlap: each batch read back
before the next is launched); whole last layer (its MLP run for every token, not only the
one per row that is read: engine/last_rows.py); budget N (N tokens per forward pass instead of the device's
default); st (sentence-transformers' CrossEncoder, the peer to beat); compiled (torch.compile
over bucketed shapes, CUDA graphs on a GPU: the engine's `compile`; its compiles are timed apart);
fused (the backbone through torch.compile with dynamic shapes and no CUDA graphs: one graph for
every batch shape, which fuses the element-wise ops a profile shows between the matmuls; not in
the engine, measured to see whether big batches would gain). Prints pairs/s, tokens/s and the
ratio to the engine for each, and the largest logit gap to the engine.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "support")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_engine import save_shape  # noqa: E402
from measure import alternate  # noqa: E402
from texts import INSTRUCTION, QUERY, document_lengths, documents  # noqa: E402


def variants(scorer, budgets: list[int]) -> dict:
    from workbench.engine.reranker import Qwen3Reranker

    def copy(**changes):
        engine = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=changes.pop("token_budget", None))
        for name, value in changes.items():
            setattr(engine, name, value)
        return engine

    # One of the two head variants is the device's default (a CPU shares it, a GPU does not): timed
    # again under its own name, it shows the spread between two runs of the same code.
    out = {"engine": scorer, "shared head": copy(share_prefix=True), "whole prompts": copy(share_prefix=False),
           "serial": copy(overlap=False), "whole last layer": copy(last_rows_only=False)}
    out.update({f"budget {b}": copy(token_budget=b) for b in budgets})
    return out


def texts_in(engine):
    from peers import engine_logits

    def score(texts):
        engine.forget_texts()  # each round tokenises again, as the peer does
        return engine_logits(engine, INSTRUCTION, QUERY, texts)
    return score


def profile(name: str, score, texts, device: str, rows: int) -> None:
    """Where one call's time goes: the device's busiest kernels and its total against the wall."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    start = time.perf_counter()
    with torch_profile(activities=activities) as prof:
        score(texts)
        if device == "cuda":
            torch.cuda.synchronize()
    wall = time.perf_counter() - start
    key = "self_cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    print(f"\n# profile: {name}, one call, {wall:.2f} s wall (profiled)")
    print(prof.key_averages().table(sort_by=key, row_limit=rows, max_name_column_width=60))


def main() -> None:
    gpu = torch.cuda.is_available()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if gpu else "cpu")
    ap.add_argument("--dtype", default="bf16" if gpu else "fp32", choices=("bf16", "fp32"))
    ap.add_argument("--shape", default="0.6B")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--chunk-len", type=int, default=512)
    ap.add_argument("--mixed-max", type=int, default=2048)
    ap.add_argument("--workloads", default="chunks,mixed")
    ap.add_argument("--budgets", default="8192,65536", help="token budgets to try beside the default")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--st-batch", type=int, default=32)
    ap.add_argument("--profile", default="shared head,whole prompts,st", help="variants to profile once (none: '')")
    ap.add_argument("--profile-rows", type=int, default=12)
    ap.add_argument("--compiled", default="chunks", help="workloads to time the compiled forward on ('' for none)")
    args = ap.parse_args()

    from peers import cross_encoder_logits, load_cross_encoder
    from workbench.engine.loading import LoadOptions, load_scorer, quiet_libraries

    quiet_libraries()
    budgets = [int(b) for b in args.budgets.split(",") if b]
    with tempfile.TemporaryDirectory() as tmp:
        save_dtype = "float32" if args.dtype == "fp32" else "bfloat16"
        model_dir = save_shape(args.shape, args.layers, save_dtype, Path(tmp) / args.shape, args.device)
        scorer = load_scorer(LoadOptions(model=str(model_dir), device=args.device, dtype=args.dtype))
        ce = load_cross_encoder(model_dir, INSTRUCTION, args.device, scorer.model.dtype, scorer.info.max_length)
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"# {args.shape} shape, {args.dtype}, {where}, {args.pairs} pairs, {args.rounds} rounds, "
          f"engine budget {scorer.token_budget} tokens, ST batch {args.st_batch}")
    engines = variants(scorer, budgets)
    methods = {name: texts_in(e) for name, e in engines.items()}
    methods["st"] = lambda texts: cross_encoder_logits(ce, QUERY, texts, args.st_batch)
    workloads = {}
    for wl in args.workloads.split(","):
        texts = workloads[wl] = documents(scorer.tokenizer, document_lengths(wl, args.pairs, args.chunk_len if wl == "chunks" else args.mixed_max))
        tokens = sum(p.tokens for p in scorer.build_prompts(INSTRUCTION, QUERY, texts))
        start = time.perf_counter()
        scorer.forget_texts()
        scorer.build_prompts(INSTRUCTION, QUERY, texts)
        print(f"\n## {wl}: {tokens} prompt tokens; the engine's tokenising and prompt building alone: "
              f"{time.perf_counter() - start:.3f} s")
        for fn in methods.values():
            fn(texts[:4])  # warm-up
        timed(methods, texts, tokens, args)
        for name in filter(None, args.profile.split(",")):
            try:
                profile(name, methods[name], texts, args.device, args.profile_rows)
            except Exception as e:  # a profiler API change must not lose the figures above
                print(f"# profile of {name} failed: {type(e).__name__}: {e}")
        gc.collect()
    # Last: its compiles take the longest, and the figures above do not wait for them.
    for wl in filter(None, args.compiled.split(",")):
        timed_compiled(scorer, methods["engine"], workloads[wl], wl, args)


def timed(methods: dict, texts, tokens: int, args) -> None:
    """The methods alternated over rounds on `texts`; one line each, against the engine."""
    timings = alternate({m: (lambda fn=fn: fn(texts)) for m, fn in methods.items()}, args.rounds, args.device)
    base = timings["engine"]
    print(f"{'variant':16} {'pairs/s':>9} {'tokens/s':>10} {'x engine':>9} {'peak MiB':>9}  max |d logit| vs engine")
    for name, t in timings.items():
        gap = (t.logits - base.logits).abs().max().item()
        print(f"{name:16} {len(texts) / t.median:9.1f} {tokens / t.median:10.0f} {base.median / t.median:9.2f} "
              f"{t.peak_bytes / 2**20:9.0f}  {gap:.1e}", flush=True)


def timed_compiled(scorer, engine, texts, workload: str, args) -> None:
    from workbench.engine.reranker import Qwen3Reranker

    compiled = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info)
    compiled.compile = True
    fused = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info)
    fused.backbone = torch.compile(scorer.backbone, dynamic=True)
    # The compiled wrapper's forward hides the cache argument the shared head needs: whole prompts,
    # the GPU's default (on a CPU compare it with "whole prompts" above).
    fused.share_prefix = False
    methods = {"engine": engine}
    for name, variant in (("compiled", compiled), ("fused", fused)):
        score = texts_in(variant)
        start = time.perf_counter()
        try:
            score(texts)  # every compile this workload needs, before the timed rounds
        except Exception as e:  # a compile that fails must not lose the other figures
            print(f"\n## {workload}: {name} failed: {type(e).__name__}: {str(e)[:300]}", flush=True)
            continue
        if args.device == "cuda":
            torch.cuda.synchronize()
        if name == "compiled":
            state = f"{len(compiled._compiled.shapes)} shapes" if compiled.compile else f"OFF: {compiled.compile_off_reason}"
        else:
            state = "dynamic shapes"
        print(f"\n## {workload}: {name} warm-up (its compiles) {time.perf_counter() - start:.1f} s, {state}", flush=True)
        methods[name] = score
    timed(methods, texts, sum(p.tokens for p in scorer.build_prompts(INSTRUCTION, QUERY, texts)), args)


if __name__ == "__main__":
    main()
