"""The engine against the official snippet's way and sentence-transformers' CrossEncoder, one run.

Texts in, scores out: every method tokenises its own prompts. Random weights in the real
Qwen3-Reranker shapes (speed does not depend on weight values), loaded through the workbench's own
loading path, and by sentence-transformers from the same directory with the exact Qwen3 template
(so its scores are ours). For each shape x quantisation x workload it prints pairs/s, tokens/s,
peak memory, MFU on a GPU, the matmul work each method does (GFLOP, counted by hooks on the
layers and the vocabulary head in one more, untimed call), and agreement on every pair; then the
ratios, speed split into work and FLOP/s; then the live-edit latencies (bench_live_edit.py).
Methods alternate over --rounds; the median round is reported.

    python benchmarks/bench_engine.py            # CPU: 0.6B, fp32, 8 pairs (a few minutes)
    python benchmarks/bench_engine.py            # CUDA: 0.6B/4B/8B, none/8bit/4bit, bf16, 256 pairs
    python benchmarks/bench_engine.py --shapes 4B,8B --layers 4   # the big shapes' layers on a CPU
    python benchmarks/bench_engine.py --methods engine,compiled --workloads chunks --no-live-edit
    python benchmarks/bench_engine.py --live-batches   # tiny model, 1-8 rows: eager vs compiled
    python benchmarks/bench_engine.py --methods engine,onepass --no-live-edit   # passes per core

`compiled` is the engine with torch.compile over bucketed shapes (engine/compiled.py; CUDA graphs
on a GPU). It is warmed up over the workload's shapes before timing; the warm-up (the compiles)
is printed on its own line. `onepass` is the engine running one multi-threaded pass at a time
instead of one single-threaded pass per core (core_pool.py; on a GPU the two are the same).
`engine` runs as the batch commands and the Python API load it (whole calls); `live` as the app
does, the call's smallest batch first on every thread so its first rows come at once
(benchmarks/first_rows.py measures what that buys). `wholelast` is `engine` with the last
layer's MLP run for every token instead of one per row (engine/last_rows.py): the lever's gain.
`openblas` (CPU, fp32) is `engine` with its linear layers multiplied by numpy's BLAS (OpenBLAS)
instead of torch's (MKL), one thread per pass (support/numpy_blas.py): measured, not used.

Needs torch, transformers, sentence-transformers (and bitsandbytes + accelerate for 8bit/4bit).
Ratios are what to compare across machines; absolute figures of a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "support")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from measure import alternate, count_work, gpu_peak_tflops, pair_flops  # noqa: E402
from texts import INSTRUCTION, QUERY, document_lengths, documents  # noqa: E402

SHAPE_HELP = "comma list of 0.6B,4B,8B (random weights in the real shapes)"


def save_shape(shape: str, layers: int | None, dtype: str, where: Path, device: str = "cpu") -> Path:
    from workbench.testing.tiny_qwen import real_shape_config, save_tiny_qwen3_reranker

    cfg = real_shape_config(shape)
    # Init std 0.02 keeps many random layers finite; the yes/no rows are redrawn to a sane scale.
    return save_tiny_qwen3_reranker(
        where, hidden_size=cfg.hidden_size, num_layers=layers or cfg.num_hidden_layers,
        num_heads=cfg.num_attention_heads, num_kv_heads=cfg.num_key_value_heads, head_dim=cfg.head_dim,
        intermediate_size=cfg.intermediate_size, tie_word_embeddings=cfg.tie_word_embeddings,
        initializer_range=0.02, dtype=dtype, init_device=device,
    )


def load_methods(model_dir: Path, args, quant: str):
    """The ways of scoring asked for, all over the weights in `model_dir`, as callables on texts."""
    from peers import cross_encoder_logits, engine_logits, load_cross_encoder, official_logits
    from workbench.engine.loading import LoadOptions, load_scorer, quantization_config
    from workbench.engine.reranker import Qwen3Reranker

    # As `workbench score` and the Python API load it: whole calls, no early batch for a quick
    # first row (`live` below is the app's schedule).
    options = LoadOptions(model=str(model_dir), device=args.device, dtype=args.dtype, quantize=quant,
                          batch_tokens=args.batch_tokens, quick_first_rows=False)
    scorer = load_scorer(options)
    weights = torch.cuda.memory_allocated() if args.device == "cuda" else None
    chosen = args.methods.split(",")
    ce = None
    if "st" in chosen:  # a second copy of the weights: loaded only when timed
        torch_dtype = getattr(torch, {"bf16": "bfloat16", "fp32": "float32", "fp16": "float16"}[args.dtype])
        ce = load_cross_encoder(
            model_dir, INSTRUCTION, args.device, torch_dtype, scorer.info.max_length,
            quantization_config(quant, args.dtype) if quant != "none" else None,
        )

    packed = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=args.batch_tokens)
    packed.packing = True  # the same weights, document parts packed end to end (packing.py)
    compiled = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=args.batch_tokens)
    compiled.compile = True
    onepass = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=args.batch_tokens)
    onepass.pass_per_core = False  # one multi-threaded pass at a time (core_pool.py)
    live = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=args.batch_tokens,
                         quick_first_rows=True)  # the app's: a call's smallest batch first, on every thread
    wholelast = Qwen3Reranker(scorer.model, scorer.tokenizer, scorer.info, token_budget=args.batch_tokens,
                              quick_first_rows=False)
    wholelast.last_rows_only = False  # the last layer's MLP for every token, not one a row (last_rows.py)
    if "openblas" in chosen:  # the engine's fp32 products by numpy's BLAS; the peers keep torch's
        from numpy_blas import numpy_products, through_numpy

        through_numpy(scorer.model)

    def ours(engine):
        def score(texts):
            engine.forget_texts()  # every round tokenises its documents again, as the peers do
            return engine_logits(engine, INSTRUCTION, QUERY, texts)
        return score

    def through_numpy_blas(texts):
        with numpy_products():
            return ours(scorer)(texts)

    methods = {
        "engine": ours(scorer),
        "packed": ours(packed),
        "compiled": ours(compiled),
        "onepass": ours(onepass),
        "live": ours(live),
        "wholelast": ours(wholelast),
        "openblas": through_numpy_blas,
        "official": lambda texts: official_logits(scorer.model, scorer.tokenizer, INSTRUCTION, QUERY, texts,
                                                  args.official_batch, scorer.info.max_length),
        "st": lambda texts: cross_encoder_logits(ce, QUERY, texts, args.st_batch),
    }
    models = [scorer.model] + ([causal_lm_in(ce)] if ce is not None else [])
    return scorer, {m: methods[m] for m in chosen}, weights, compiled, models


def causal_lm_in(module):
    """The transformers causal LM inside a sentence-transformers model: whose work to count."""
    from transformers import PreTrainedModel

    return next(m for m in module.modules() if isinstance(m, PreTrainedModel) and m.get_output_embeddings() is not None)


def agreement(ours: torch.Tensor, theirs: torch.Tensor) -> str:
    from scipy.stats import kendalltau

    gap = (ours - theirs).abs().max().item()
    same = torch.equal(torch.argsort(ours, descending=True), torch.argsort(theirs, descending=True))
    tau = kendalltau(ours.numpy(), theirs.numpy()).statistic if len(ours) > 1 else 1.0
    return f"max |d logit| {gap:.1e}, order {'equal' if same else f'differs (tau {tau:.4f})'}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    gpu = torch.cuda.is_available()
    ap.add_argument("--device", default="cuda" if gpu else "cpu")
    ap.add_argument("--dtype", default="bf16" if gpu else "fp32", choices=("bf16", "fp16", "fp32"))
    ap.add_argument("--shapes", default="0.6B,4B,8B" if gpu else "0.6B", help=SHAPE_HELP)
    ap.add_argument("--layers", type=int, help="keep only this many layers (the big shapes on a CPU)")
    ap.add_argument("--quantize", default="none,8bit,4bit" if gpu else "none", help="comma list of none,8bit,4bit")
    ap.add_argument("--workloads", default="chunks,mixed", help="chunks (all --chunk-len) and/or mixed (32..--mixed-max)")
    ap.add_argument("--pairs", type=int, default=256 if gpu else 8)
    ap.add_argument("--chunk-len", type=int, default=512 if gpu else 128, help="document tokens per pair in 'chunks'")
    ap.add_argument("--mixed-max", type=int, default=2048 if gpu else 384, help="longest document in 'mixed' (shortest 32)")
    ap.add_argument("--official-batch", type=int, default=16 if gpu else 4, help="the snippet's batch size")
    ap.add_argument("--st-batch", type=int, default=32 if gpu else 4, help="CrossEncoder.predict batch size")
    ap.add_argument("--methods", default="engine,packed,official,st" if gpu else "engine,official,st",
                    help="engine, packed (the engine with packed batches), compiled (torch.compile), "
                         "onepass (the engine, one multi-threaded pass at a time), live (the engine as the app runs it: "
                         "the smallest batch first, on every thread), wholelast (the engine with the last layer's MLP run "
                         "for every token), openblas (the engine's products by numpy's BLAS, CPU fp32), official, st")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-tokens", type=int, help="the engine's tokens per forward pass (default: by device)")
    ap.add_argument("--peak-tflops", type=float, help="the device's dense peak for MFU (default: known GPUs)")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--no-live-edit", action="store_true", help="skip the live-edit latencies")
    ap.add_argument("--live-batches", action="store_true",
                    help="only: tiny model, batches of 1-8 chunks, eager vs compiled latency per batch")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.live_batches:
        return live_batches(args.device, max(args.rounds, 10))
    from workbench.engine.loading import quiet_libraries, quiet_transformers

    quiet_libraries()
    quiet_transformers()
    peak = args.peak_tflops or gpu_peak_tflops(args.device)
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    import transformers

    print(f"# torch {torch.__version__}, transformers {transformers.__version__}, {where}, {args.dtype}, "
          f"{args.pairs} pairs, {args.rounds} rounds, official batch {args.official_batch}, ST batch {args.st_batch}")
    print(f"{'shape':5} {'quant':5} {'workload':8} {'method':8} {'pairs/s':>9} {'tokens/s':>10} {'peak MiB':>9} "
          f"{'MFU':>6} {'s':>7} {'GFLOP':>8}")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            save_dtype = "float32" if args.dtype == "fp32" else "bfloat16"
            model_dir = save_shape(shape, args.layers, save_dtype, Path(tmp) / shape, args.device)
            for quant in args.quantize.split(","):
                ratios += measure_quantisation(model_dir, shape, quant, args, peak)
                gc.collect()
                if args.device == "cuda":
                    torch.cuda.empty_cache()
    print("\n# engine against each peer (same run): speed = their median time / ours; work = the matmul FLOPs\n"
          "# they do / ours (GFLOP column: layers and vocabulary head, pads included); speed / work = our\n"
          "# FLOP/s over theirs")
    for shape, quant, wl, name, speed, mem, work_ratio in ratios:
        per_flop = f"  work x{work_ratio:.2f}, FLOP/s ours/theirs x{speed / work_ratio:.2f}" if work_ratio else ""
        print(f"{shape:5} {quant:5} {wl:8} vs {name:8} speed x{speed:.2f}{per_flop}  peak memory theirs/ours x{mem:.2f}")
        if name == "compiled":
            print(f"{shape:5} {quant:5} {wl:8} compiled over engine: x{speed and 1 / speed:.2f} pairs/s")
    if not args.no_live_edit:
        from bench_live_edit import live_edit_report

        print("\n# live edit (tiny model, CPU; bench_live_edit.py)")
        live_edit_report(None, 32_000, 7)


def measure_quantisation(model_dir: Path, shape: str, quant: str, args, peak: float | None) -> list[tuple]:
    """Load one shape x quantisation, time every method on every workload, print the rows; the
    ratios against the engine for the summary. Every reference to the weights ends with this call
    (a loop variable left in the caller once kept the last model's memory through the next load)."""
    ratios = []
    scorer, methods, weights, compiled, models = load_methods(model_dir, args, quant)
    if weights is not None:
        print(f"{shape:5} {quant:5} weights on the GPU: {weights / 2**30:.2f} GiB")
    for wl in args.workloads.split(","):
        lengths = document_lengths(wl, args.pairs, args.chunk_len if wl == "chunks" else args.mixed_max)
        texts = documents(scorer.tokenizer, lengths)
        tokens = [p.tokens for p in scorer.build_prompts(INSTRUCTION, QUERY, texts)]
        flops = sum(pair_flops(scorer.model.config, n) for n in tokens)
        for name, fn in methods.items():
            if name != "compiled":  # its warm-up is every shape of the workload: below
                fn(texts[:2])  # warm-up: kernels, allocator, lazy imports
        if "compiled" in methods:
            label = f"{shape:5} {quant:5} {wl:8}"
            warm_up_compiled(compiled, methods["compiled"], texts, args.device, label)
        timings = alternate({m: (lambda fn=fn: fn(texts)) for m, fn in methods.items()}, args.rounds, args.device)
        # Counted in one more, untimed call: the hooks that count would slow the timed ones,
        # and a compiled graph would trace them (its work is the engine's plus its buckets).
        work = {m: count_work(lambda fn=fn: fn(texts), models).flops for m, fn in methods.items() if m != "compiled"}
        for name, t in timings.items():
            mfu = f"{flops / t.median / (peak * 1e12):6.1%}" if peak else f"{'-':>6}"
            done = f"{work[name] / 1e9:8.0f}" if name in work else f"{'-':>8}"
            print(f"{shape:5} {quant:5} {wl:8} {name:8} {len(texts) / t.median:9.2f} "
                  f"{sum(tokens) / t.median:10.0f} {t.peak_bytes / 2**20:9.0f} {mfu} {t.median:7.2f} {done}", flush=True)
        if "engine" in timings:
            for name, t in timings.items():
                if name != "engine":
                    print(f"{shape:5} {quant:5} {wl:8} engine vs {name}: {agreement(timings['engine'].logits, t.logits)}")
                    ratios.append((shape, quant, wl, name, t.median / timings["engine"].median,
                                   t.peak_bytes / max(timings["engine"].peak_bytes, 1),
                                   work[name] / work["engine"] if name in work else None))
    return ratios


def warm_up_compiled(compiled, score, texts, device: str, label: str) -> None:
    """Score the workload once so every shape it needs is compiled before timing."""
    import time

    start = time.perf_counter()
    score(texts)
    if device == "cuda":
        torch.cuda.synchronize()
    state = f"{len(compiled._compiled.shapes)} shapes" if compiled.compile else f"OFF: {compiled.compile_off_reason}"
    print(f"{label} compiled warm-up (compiles) {time.perf_counter() - start:.1f} s, {state}", flush=True)


def live_batches(device: str, reps: int) -> None:
    """What a live edit scores: 1-8 chunks of 128 tokens on the tiny model. Per batch size: the
    first call (the compile), then the median latency, eager and compiled, shared head on."""
    import statistics
    import time

    from workbench.engine.loading import LoadOptions, load_scorer
    from workbench.engine.reranker import Qwen3Reranker
    from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

    with tempfile.TemporaryDirectory() as tmp:
        eager = load_scorer(LoadOptions(model=str(save_tiny_qwen3_reranker(Path(tmp) / "tiny")), device=device))
    compiled = Qwen3Reranker(eager.model, eager.tokenizer, eager.info)
    compiled.compile = True
    texts = documents(eager.tokenizer, document_lengths("chunks", 8, 128))

    def timed(scorer, prompts) -> float:
        start = time.perf_counter()
        for _ in scorer.score_prompts(prompts):
            pass
        if device == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    print(f"# live batches: tiny model, {device}, 128-token chunks, median of {reps}; ms per batch")
    print(f"{'rows':>4} {'eager':>8} {'compiled':>9} {'speed-up':>8} {'first call s':>12}")
    for rows in (1, 2, 4, 8):
        prompts = compiled.build_prompts(INSTRUCTION, QUERY, texts[:rows])
        first = timed(compiled, prompts)
        timed(eager, prompts)
        e, c = [], []
        for _ in range(reps):  # alternating, so a busy moment falls on both
            e.append(timed(eager, prompts))
            c.append(timed(compiled, prompts))
        e_ms, c_ms = statistics.median(e) * 1e3, statistics.median(c) * 1e3
        print(f"{rows:4} {e_ms:8.2f} {c_ms:9.2f} {e_ms / c_ms:7.2f}x {first:12.1f}", flush=True)
    if not compiled.compile:
        print(f"compiled path OFF: {compiled.compile_off_reason}")


if __name__ == "__main__":
    main()
