"""The offline fallback's first full ranking, taken apart: what a first launch waits for.

`./scripts/launch` opens sample_data with the starter query and, with no reranker weights, ranks it
with the offline fallback (all-MiniLM-L6-v2). This runs that ranking through the session path the
app uses (Workbench.run_now, a fresh model each time, every core as for the app's first run) and
times its parts: reading the files, chunking, tokenising the chunks, the model's forward passes,
and the rest (pooling, cosine, aggregation). It counts tokens computed against real tokens (the
padding's waste) and what the chunk overlap adds. Each dtype loads fresh in every round, in ABBA
order, so a machine shared with other work biases no dtype; ratios are per round.

    python benchmarks/fallback_first_screen.py                      # fp32 vs bf16, 2 rounds
    python benchmarks/fallback_first_screen.py --rounds 3 --quality # + nDCG/MRR on the judged queries
    python benchmarks/fallback_first_screen.py --dtypes auto        # what a launch picks here
    python benchmarks/fallback_first_screen.py --dtypes bf16,bf16/16 --threads 1   # rows per batch
    python benchmarks/fallback_first_screen.py --dtypes bf16/64/0,bf16 --rounds 4  # pieces vs whole batches
    python benchmarks/fallback_first_screen.py --dtypes fp32/64/0,fp32             # the same in fp32
    python benchmarks/fallback_first_screen.py --dtypes fp32,int8 --quality        # int8 linears (not offered)

--quality scores sample_data/queries.jsonl (judged by qrels.txt) in each dtype: chunk and
document nDCG@10 and MRR@10, how often the document order and top document equal the first
dtype's, and how far each moves every chunk's score and order from it. Prints figures, asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from workbench.documents import load_documents  # noqa: E402
from workbench.engine import fallback  # noqa: E402
from workbench.engine.loading import LoadOptions, load_fallback, quiet_libraries  # noqa: E402
from workbench.session import NullRecorder, Workbench  # noqa: E402

DEFAULT_BATCH = fallback.BATCH
DEFAULT_PIECE = fallback.PIECE_TOKENS
STARTER = "how long are backups kept"  # scripts/launch's starter query
DOCS = ROOT / "sample_data" / "docs"


def timed(owner, name: str, totals: dict, key: str) -> None:
    """Wrap owner.name (on the instance) so its wall time adds up under totals[key]."""
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - t

    setattr(owner, name, wrapper)


def watch_model(scorer, totals: dict) -> None:
    """The model's wall time (every embedding call, pieces on several threads counted once), and
    tokens computed (batch x width) vs real (the mask), counted by a forward hook on any thread."""
    timed(scorer, "_embed", totals, "model")
    timed(scorer, "_embed_ahead", totals, "model")
    lock = threading.Lock()

    def after(_module, _args, kwargs, _output):
        mask = kwargs["attention_mask"]
        with lock:
            totals["computed"] += mask.numel()
            totals["real"] += int(mask.sum())
            totals["batches"] += 1

    scorer.model.register_forward_hook(after, with_kwargs=True)


def load(variant: str):
    """The fallback as a variant names it: DTYPE[/ROWS[/PIECE]]: rows per batch, and the tokens per
    forward pass on the CPU (fallback.PIECE_TOKENS; 0 = one multi-threaded pass per batch).
    DTYPE int8 (measured here only, not offered by the workbench): fp32 with every linear layer
    quantised by torch's dynamic int8 quantisation, weights per output channel, activations per
    pass."""
    dtype, rows, piece = (variant.split("/") + ["", ""])[:3]
    fallback.BATCH = int(rows) if rows else DEFAULT_BATCH
    fallback.PIECE_TOKENS = int(piece) if piece else DEFAULT_PIECE
    scorer = load_fallback(LoadOptions(device="cpu", dtype="fp32" if dtype == "int8" else dtype), reason="measuring")
    if dtype == "int8":
        import warnings

        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        with warnings.catch_warnings():  # torch.ao's eager quantisation is deprecated for torchao's
            warnings.simplefilter("ignore")
            scorer.model = quantize_dynamic(scorer.model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
    return scorer


def label(dtype: str, variant: str) -> str:
    """The dtype the fallback runs (what auto picked), with the variant's batch settings."""
    return "/".join(["int8" if variant.startswith("int8") else dtype, *variant.split("/")[1:]])


def first_ranking(variant: str, threads: int) -> dict:
    """Load the fallback as `variant` says, read and rank sample_data for the starter query; the figures."""
    totals = dict.fromkeys(("read", "chunk", "tokenise", "model", "computed", "real", "batches"), 0.0)
    torch.set_num_threads(threads)
    t = time.perf_counter()
    scorer = load(variant)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    documents = load_documents([str(DOCS)]).documents
    totals["read"] = time.perf_counter() - t
    bench = Workbench(documents=documents, recorder=NullRecorder("benchmark"))
    bench.attach(scorer)
    timed(bench.ranker, "chunk", totals, "chunk")
    timed(scorer, "build_prompts", totals, "tokenise")
    watch_model(scorer, totals)
    bench.set_query(STARTER)
    t, cpu = time.perf_counter(), time.process_time()
    result = bench.run_now()
    run_s, cpu_s = time.perf_counter() - t, time.process_time() - cpu
    spans = [c for d in result.documents for c in d.chunks]
    return {
        **totals, "dtype": label(scorer.info.dtype, variant), "load": load_s, "run": run_s, "cpu": cpu_s, "total": totals["read"] + run_s,
        "first_result": result.stats.first_result_s, "chunks": len(spans),
        "chunk_tokens": sum(c.chunk.tokens for c in spans),
        "doc_tokens": sum(len(scorer.tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in documents),
        "order": [d.doc_id for d in result.documents],
        "scores": {(c.doc_id, c.chunk.index): c.logit for c in spans},
    }


def print_round(r: dict) -> None:
    other = r["run"] - r["chunk"] - r["tokenise"] - r["model"]
    waste = 1 - r["real"] / r["computed"] if r["computed"] else 0.0
    print(f"  {r['dtype']:12s} total {r['total']:5.1f} s = read {r['read']:.2f} + chunk {r['chunk']:.2f} + tokenise "
          f"{r['tokenise']:.2f} + model {r['model']:5.1f} + other {other:.2f}; cpu {r['cpu']:5.1f} s   (load {r['load']:.1f} s, "
          f"first batch shown at {r['first_result'] or 0:.1f} s; {r['real'] / r['model']:,.0f} real tokens/s; "
          f"{int(r['batches'])} batches, padding {waste:.1%} of {int(r['computed']):,} computed)")


def timing(dtypes: list[str], rounds: int, threads: int) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {d: [] for d in dtypes}
    for n in range(rounds):
        print(f"round {n + 1}/{rounds}, {threads} threads, load average {os.getloadavg()[0]:.1f}")
        for d in (dtypes if n % 2 == 0 else dtypes[::-1]):  # ABBA: drift in the machine's load cancels
            runs[d].append(first_ranking(d, threads))
            print_round(runs[d][-1])
    first = runs[dtypes[0]][0]
    print(f"\nchunking: {first['chunks']} chunks, {first['chunk_tokens']:,} chunk tokens for {first['doc_tokens']:,} "
          f"document tokens (overlap adds {first['chunk_tokens'] / first['doc_tokens'] - 1:.1%}); the model ran "
          f"{int(first['real']):,} real tokens (identical chunks embedded once; [CLS]/[SEP] and the query added)")
    print("median over rounds (ratio: first dtype's time / this one's, same round; cpu time is what the process\n"
          "computed, less sensitive than wall time to other work on the machine):")
    for d in dtypes:
        med = {k: statistics.median(r[k] for r in runs[d]) for k in ("total", "model", "load", "cpu")}
        ratios = [a["total"] / b["total"] for a, b in zip(runs[dtypes[0]], runs[d])]
        cpu_ratio = statistics.median(a["cpu"] / b["cpu"] for a, b in zip(runs[dtypes[0]], runs[d]))
        same = all(r["scores"] == runs[d][0]["scores"] for r in runs[d])
        print(f"  {runs[d][0]['dtype']:12s} total {med['total']:5.1f} s, model {med['model']:5.1f} s, cpu {med['cpu']:5.1f} s, load {med['load']:.1f} s; "
              f"ratio {statistics.median(ratios):.2f}x, in cpu time {cpu_ratio:.2f}x (rounds: {', '.join(f'{x:.2f}' for x in ratios)}); "
              f"scores identical across rounds: {'yes' if same else 'NO'}")
        print(f"        document order: {', '.join(runs[d][0]['order'][:5])}, ...")
    return runs


def quality(dtypes: list[str], threads: int) -> None:
    from workbench.evaluation import Candidate, apply_qrels, read_qrels, read_queries, report, sweep
    from workbench.engine.prompt import DEFAULT_INSTRUCTION

    judged, problems = read_queries(ROOT / "sample_data" / "queries.jsonl")
    lines, more = read_qrels(ROOT / "sample_data" / "qrels.txt")
    judged = apply_qrels(judged, lines, problems + more)
    documents = load_documents([str(DOCS)]).documents
    texts = {d.id: d.text for d in documents}
    torch.set_num_threads(threads)
    rows = {}
    for d in dtypes:
        bench = Workbench(documents=documents, recorder=NullRecorder("benchmark"))
        bench.attach(load(d))
        t = time.perf_counter()
        (result,) = sweep(bench, judged, [Candidate("default", None)], DEFAULT_INSTRUCTION, texts, 10)
        data = report([result], judged, 10, {"id": "fallback", "fallback": True})["instructions"][0]
        rows[d] = (label(bench.model.dtype, d), data, result, time.perf_counter() - t)
    print(f"\nquality on {len(judged)} judged queries (sample_data/queries.jsonl + qrels.txt), k=10:")
    print("  dtype         chunk nDCG  chunk MRR  doc nDCG  doc MRR  hit@1  first-chunk MRR  same doc order  same top doc  top-10 chunks equal  time")
    base = rows[dtypes[0]][2]
    for d in dtypes:
        name, data, result, secs = rows[d]
        m = data["metrics"]
        order = [(result.judged[q.id].runs["document"], base.judged[q.id].runs["document"]) for q in judged]
        chunks = [(result.judged[q.id].runs["chunk"][:10], base.judged[q.id].runs["chunk"][:10]) for q in judged]
        same_order = sum([i for i, _ in a] == [i for i, _ in b] for a, b in order)
        same_top = sum(a[0][0] == b[0][0] for a, b in order)
        same_chunks = sum([i for i, _ in a] == [i for i, _ in b] for a, b in chunks)
        print(f"  {name:12s}  {m['chunk']['nDCG@10']:10.3f}  {m['chunk']['MRR@10']:9.3f}  {m['document']['nDCG@10']:8.3f}  "
              f"{m['document']['MRR@10']:7.3f}  {data['hit@1']:5.2f}  {data['mrr']:15.3f}  {same_order:>10d}/{len(judged)}  "
              f"{same_top:>10d}/{len(judged)}  {same_chunks:>16d}/{len(judged)}  {secs:5.1f} s")
    fidelity(dtypes, rows, [q.id for q in judged])


def fidelity(dtypes: list[str], rows: dict, query_ids: list[str]) -> None:
    """How far each dtype moves what a user sees from the first dtype's: every chunk's score, the
    chunk order (Kendall tau over all chunks, per query), and the documents swapped; from the
    sweep's runs, which hold every chunk and document of each query."""
    from scipy.stats import kendalltau

    def runs(d: str, qid: str) -> tuple[dict, dict]:
        judged = rows[d][2].judged[qid].runs
        return dict(judged["chunk"]), dict(judged["document"])

    print(f"\nagainst {rows[dtypes[0]][0]}, all chunks of every query:")
    print("  dtype         chunk score max |d|  Kendall tau median (min)  documents swapped  widest gap swapped")
    for d in dtypes[1:]:
        gaps, taus, swapped = [], [], []
        for qid in query_ids:
            (ref_chunks, ref_docs), (chunks, docs) = runs(dtypes[0], qid), runs(d, qid)
            keys = list(ref_chunks)
            gaps.append(max(abs(ref_chunks[k] - chunks[k]) for k in keys))
            taus.append(kendalltau([ref_chunks[k] for k in keys], [chunks[k] for k in keys]).statistic)
            order = sorted(ref_docs, key=ref_docs.get, reverse=True)
            for i, a in enumerate(order):
                swapped += [ref_docs[a] - ref_docs[b] for b in order[i + 1:] if docs[b] > docs[a]]
        print(f"  {rows[d][0]:12s}  {max(gaps):19.4f}  {statistics.median(taus):12.3f} ({min(taus):.3f})  "
              f"{len(swapped):17d}  {max(swapped, default=0.0):18.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtypes", default="fp32,bf16", help="comma-separated: fp32, bf16, auto, int8, each with /ROWS "
                        f"(rows per batch, default {DEFAULT_BATCH}) and /ROWS/PIECE (tokens per forward pass, each on a "
                        f"thread of its own; 0 = one pass per batch; default {DEFAULT_PIECE}); default fp32,bf16")
    parser.add_argument("--rounds", type=int, default=2, help="timed first rankings per dtype (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: every usable core, as the app's first run)")
    parser.add_argument("--quality", action="store_true", help="also judge each dtype on the 15 sample queries")
    parser.add_argument("--no-timing", action="store_true", help="only the quality table")
    args = parser.parse_args()
    quiet_libraries()
    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    threads = args.threads or len(os.sched_getaffinity(0))
    if not args.no_timing:
        timing(dtypes, args.rounds, threads)
    if args.quality or args.no_timing:
        quality(dtypes, threads)


if __name__ == "__main__":
    main()
