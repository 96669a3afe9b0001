"""Engine vs the official snippet's way of scoring, side by side in one run.

Random weights in the real Qwen3-Reranker shapes (speed does not depend on weight values), random
token ids of controlled lengths (speed does not depend on which tokens). Prints pairs/s, tokens/s
and peak memory for each (shape, workload, quantisation, method), then the engine/official ratios.

    python benchmarks/bench_engine.py                      # CPU: short workload, 0.6B shape
    python benchmarks/bench_engine.py --shapes 0.6B,4B,8B --quantize none,8bit   # on a GPU

Needs only torch and transformers (bitsandbytes for 8bit/4bit), so it runs unchanged on a bare
CUDA box. Ratios are what to compare across machines; absolute figures are noisy.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.engine.reranker import Qwen3Reranker  # noqa: E402
from workbench.engine.types import ModelInfo, Prompt  # noqa: E402

YES, NO, PAD = 9693, 2152, 151643

SHAPES = {  # from the models' config.json files
    "0.6B": dict(num_hidden_layers=28, hidden_size=1024, intermediate_size=3072, num_attention_heads=16, tie_word_embeddings=True),
    "4B": dict(num_hidden_layers=36, hidden_size=2560, intermediate_size=9728, num_attention_heads=32, tie_word_embeddings=True),
    "8B": dict(num_hidden_layers=36, hidden_size=4096, intermediate_size=12288, num_attention_heads=32, tie_word_embeddings=False),
}


def build_model(shape: str, device: str, dtype: torch.dtype, quantize: str):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = Qwen3Config(
        vocab_size=151669, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
        rope_theta=1_000_000, rms_norm_eps=1e-6, **SHAPES[shape],
    )
    torch.manual_seed(0)
    with torch.device(device if quantize == "none" else "cpu"):
        model = Qwen3ForCausalLM(cfg).to(dtype)
    if quantize != "none":
        model = quantize_linears(model, quantize, dtype).to(device)
    return model.eval()


def quantize_linears(model, mode: str, compute_dtype: torch.dtype):
    """Swap every decoder Linear for its bitsandbytes twin (lm_head stays as is, as in the app)."""
    import bitsandbytes as bnb

    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name, lin in list(parent.named_children()):
                if not isinstance(lin, torch.nn.Linear):
                    continue
                if mode == "8bit":
                    q = bnb.nn.Linear8bitLt(lin.in_features, lin.out_features, lin.bias is not None, has_fp16_weights=False, threshold=6.0)
                    q.weight = bnb.nn.Int8Params(lin.weight.data.to(torch.float16), requires_grad=False, has_fp16_weights=False)
                else:
                    q = bnb.nn.Linear4bit(lin.in_features, lin.out_features, lin.bias is not None, compute_dtype=compute_dtype, quant_type="nf4")
                    q.weight = bnb.nn.Params4bit(lin.weight.data.to(compute_dtype), requires_grad=False, quant_type="nf4")
                setattr(parent, name, q)
    return model


SUFFIX_IDS = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]


def workload(kind: str, pairs: int, max_len: int, head_tokens: int, seed: int = 0) -> list[list[int]]:
    """Prompts as a run makes them: one shared head (system text, instruction, query), a document
    part of `max_len` tokens (chunks) or 32..max_len (mixed), the fixed suffix."""
    rng = random.Random(seed)
    head = [rng.randrange(200, 150000) for _ in range(head_tokens)]
    if kind == "chunks":
        lengths = [max_len] * pairs
    else:  # mixed lengths, as real documents are
        lengths = [rng.randint(32, max_len) for _ in range(pairs)]
    return [head + [rng.randrange(200, 150000) for _ in range(n)] + SUFFIX_IDS for n in lengths]


def official_way(model, rows: list[list[int]], batch_size: int) -> list[float]:
    """What the official snippet does: batches in the given order, left padding, a full forward
    with the LM head over every position and the whole vocabulary, then two columns kept."""
    out: list[float] = []
    device = next(model.parameters()).device
    with torch.no_grad():
        for i in range(0, len(rows), batch_size):
            batch = rows[i : i + batch_size]
            width = max(map(len, batch))
            ids = torch.tensor([[PAD] * (width - len(r)) + r for r in batch], device=device)
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in batch], device=device)
            logits = model(input_ids=ids, attention_mask=mask).logits[:, -1, :]
            pair = torch.stack([logits[:, NO], logits[:, YES]], dim=1)
            out += torch.nn.functional.log_softmax(pair, dim=1)[:, 1].exp().float().tolist()
    return out


def engine_way(scorer: Qwen3Reranker, rows: list[list[int]]) -> list[float]:
    prompts = [Prompt(ids=tuple(r)) for r in rows]
    logits = [0.0] * len(prompts)
    for batch in scorer.score_prompts(prompts):
        for i, v in batch:
            logits[i] = v
    return logits


class PeakMemory:
    """Peak memory over a block: CUDA allocator peak, or sampled process RSS growth on CPU."""

    def __init__(self, device: str):
        self.device = device
        self.peak = 0

    def __enter__(self):
        if self.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            _release_freed_memory()
            self.base = _rss()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss() - self.base)

    def __exit__(self, *exc):
        if self.device == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.base
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, _rss() - self.base)


def _release_freed_memory() -> None:
    """Hand freed heap back to the OS, so RSS growth measures this block, not the last one."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss() -> int:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Figure:
    pairs_s: float
    tokens_s: float
    peak_mib: float
    seconds: float


def measure(fn, rows, device: str, repeats: int) -> Figure:
    fn(rows[: max(1, len(rows) // 8)])  # warm-up: kernels, allocator
    best = None
    for _ in range(repeats):
        gc.collect()
        with PeakMemory(device) as mem:
            t = time.perf_counter()
            fn(rows)
            if device == "cuda":
                torch.cuda.synchronize()
            dt = time.perf_counter() - t
        if best is None or dt < best[0]:
            best = (dt, mem.peak)
    dt, peak = best
    tokens = sum(map(len, rows))
    return Figure(len(rows) / dt, tokens / dt, peak / 2**20, dt)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    gpu = torch.cuda.is_available()
    ap.add_argument("--device", default="cuda" if gpu else "cpu")
    ap.add_argument("--shapes", default="0.6B,4B,8B" if gpu else "0.6B")
    ap.add_argument("--quantize", default="none,8bit" if gpu else "none", help="comma list of none,8bit,4bit")
    ap.add_argument("--workloads", default="chunks,mixed")
    ap.add_argument("--pairs", type=int, default=256 if gpu else 8)
    ap.add_argument("--chunk-len", type=int, default=512 if gpu else 128, help="document tokens per pair in 'chunks'")
    ap.add_argument("--mixed-max", type=int, default=2048 if gpu else 384, help="longest document part in 'mixed' (shortest is 32)")
    ap.add_argument("--official-batch", type=int, default=16 if gpu else 4)
    ap.add_argument("--batch-tokens", type=int, default=None, help="engine token budget (default by device)")
    ap.add_argument("--head-tokens", type=int, default=39 + 41, help="prompt head shared by all pairs: system text + instruction + query")
    ap.add_argument("--no-share", action="store_true", help="engine without the shared-head reuse (to see what it saves)")
    ap.add_argument("--methods", default="official,engine", help="which ways to time (one alone: check peak memory with /usr/bin/time)")
    ap.add_argument("--repeats", type=int, default=3 if gpu else 1)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    print(f"# torch {torch.__version__}, device {args.device}"
          f"{' (' + torch.cuda.get_device_name(0) + ')' if args.device == 'cuda' else f', {torch.get_num_threads()} threads'},"
          f" dtype {dtype}, official batch {args.official_batch}, pairs {args.pairs}")
    header = f"{'shape':5} {'quant':5} {'workload':8} {'method':8} {'pairs/s':>9} {'tokens/s':>10} {'peak MiB':>9} {'s':>7}"
    print(header)
    ratios = []
    for shape in args.shapes.split(","):
        for quant in args.quantize.split(","):
            model = build_model(shape, args.device, dtype, quant)
            info = ModelInfo(model_id=f"random-{shape}", kind="qwen3-reranker", device=args.device, dtype=str(dtype), quantization=quant)
            scorer = Qwen3Reranker(model, None, info, token_budget=args.batch_tokens, yes_no_pad_ids=(YES, NO, PAD))
            scorer.share_prefix = not args.no_share
            for wl in args.workloads.split(","):
                max_len = args.chunk_len if wl == "chunks" else args.mixed_max
                rows = workload(wl, args.pairs, max_len, args.head_tokens)
                if args.methods == "official,engine":
                    check = rows[: min(4, len(rows))]
                    drift = max(abs(torch.sigmoid(torch.tensor(e)).item() - o)
                                for e, o in zip(engine_way(scorer, check), official_way(model, check, args.official_batch)))
                    print(f"{shape:5} {quant:5} {wl:8} max |engine - official| score on {len(check)} pairs: {drift:.2e}")
                ways = {"official": lambda r: official_way(model, r, args.official_batch), "engine": lambda r: engine_way(scorer, r)}
                figs = {name: measure(ways[name], rows, args.device, args.repeats) for name in args.methods.split(",")}
                for name, f in figs.items():
                    print(f"{shape:5} {quant:5} {wl:8} {name:8} {f.pairs_s:9.2f} {f.tokens_s:10.0f} {f.peak_mib:9.0f} {f.seconds:7.2f}", flush=True)
                if len(figs) == 2:
                    ratios.append((shape, quant, wl, figs["engine"].pairs_s / figs["official"].pairs_s,
                                   figs["official"].peak_mib / max(figs["engine"].peak_mib, 1e-9)))
            del model, scorer
            gc.collect()
            if args.device == "cuda":
                torch.cuda.empty_cache()
    print("\n# engine vs official (same run)")
    for shape, quant, wl, speed, mem in ratios:
        print(f"{shape:5} {quant:5} {wl:8} speed x{speed:.2f}  peak memory official/engine x{mem:.2f}")


if __name__ == "__main__":
    main()
