"""The corpus job end to end: `workbench score --queries Q --docs-jsonl D --out R` on N synthetic
documents, as a user runs it (a child process each), printing docs/s, pairs/s, tokens/s and the
child's peak RSS for each backend configuration.

    python benchmarks/bench_corpus.py 10000                    # tiny random Qwen3 (built here)
    python benchmarks/bench_corpus.py 1000 --model Qwen/Qwen3-Reranker-0.6B --queries 4 --device cuda
    python benchmarks/bench_corpus.py 10000 --model DIR --backend http://127.0.0.1:8000 --backend http://127.0.0.1:8001
    python benchmarks/bench_corpus.py 1000 --pipeline --rounds 3   # serial vs pipelined tokenisation
    python benchmarks/bench_corpus.py 1000 --pipeline --simulate-gpu 300000   # ...with a GPU-fast model
    python benchmarks/bench_corpus.py 2000 --pipeline --shape 0.6B --device cuda   # ...on a GPU

With --backend: the local model, then the first server alone, then all servers together (the
remote backend splits batches across them); --model then names the tokenizer. The rates are the
job's own (model loading excluded); peak RSS is the whole child's, loading included, so flat
memory shows as the same figure at 1k, 10k and 100k documents. Scores are never cached here
(--no-cache): every pair is scored. Flags this script does not know go to `workbench score`.

--pipeline runs the job in this process instead, once with the Ranker's tokenisation serial and
once pipelined (engine/pipeline.py), alternating for --rounds rounds, and prints pairs/s and the
time to the first scores of each; then the app-like case: sample_data ranked cold (fresh Ranker,
nothing tokenised yet), by rank() alone and as the session runs it (chunking first, for the view).
It takes --device, --dtype and --batch-tokens itself. With --simulate-gpu RATE the model is
replaced by a wait of (padded batch tokens / RATE) seconds per batch, the CPU left free as a GPU
leaves it: what the overlap gives where the model is fast, on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("tide moon sea harbour bread flour yeast oven paris river tower bridge mars rover soil crater "
         "disk write log checkpoint tea water leaf kettle orbit engine signal valve pump filter").split()
QUERIES = ["why are tides highest at full moon", "how long should bread dough rise",
           "what stopped the rover from driving", "why is the disk full", "what water temperature for green tea"]


def write_inputs(folder: Path, documents: int, queries: int, words: int, seed: int) -> tuple[Path, Path]:
    """N short documents (about `words` words each) and the first `queries` queries, as JSONL."""
    rng = random.Random(seed)
    docs, qs = folder / "corpus.jsonl", folder / "queries.jsonl"
    with docs.open("w", encoding="utf-8") as f:
        for i in range(documents):
            n = rng.randint(words // 2, words * 3 // 2)
            text = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
            f.write(json.dumps({"id": f"doc{i}", "text": text}) + "\n")
    qs.write_text("".join(json.dumps({"id": f"q{i + 1}", "query": QUERIES[i % len(QUERIES)] + ("?" * (i // len(QUERIES)))}) + "\n"
                          for i in range(queries)), encoding="utf-8")
    return docs, qs


def run_job(args, docs: Path, queries: Path, out: Path, backends: list[str], env: dict) -> dict:
    """One job in a child process: its figures from the job file, its peak RSS from wait4."""
    cmd = [sys.executable, "-m", "workbench.cli", "score", "--queries", str(queries), "--docs-jsonl", str(docs),
           "--out", str(out), "--no-cache", "--model", args.model, *args.extra]
    for url in backends:
        cmd += ["--backend", url]
    started = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stderr = child.stderr.read()
    child.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"the job failed ({' '.join(cmd)}):\n{stderr[-3000:]}")
    stats = json.loads(out.with_name(out.name + ".job.json").read_text())["stats"]
    return stats | {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}  # Linux: ru_maxrss in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("documents", type=int, help="How many documents (N)")
    parser.add_argument("--queries", type=int, default=1, help="Queries scored against every document (default 1)")
    parser.add_argument("--words", type=int, default=40, help="Mean words per document (default 40)")
    parser.add_argument("--model", help="Hub id or directory (default: a tiny random Qwen3 reranker built here)")
    parser.add_argument("--shape", help="Instead of --model: random weights in a real shape (0.6B, 4B, 8B), built "
                        "here in bf16 (on the GPU with --device cuda); speed does not depend on weight values")
    parser.add_argument("--backend", action="append", default=[], metavar="URL",
                        help="A rerank server (repeatable): compares local, the first server, all servers")
    parser.add_argument("--no-local", action="store_true", help="With --backend: skip the local model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pipeline", action="store_true", help="Serial vs pipelined tokenisation, in this process")
    parser.add_argument("--rounds", type=int, default=3, help="With --pipeline: rounds of both ways (default 3)")
    parser.add_argument("--simulate-gpu", type=float, metavar="TOKENS_PER_S",
                        help="With --pipeline: a model that waits tokens/RATE s a batch instead of computing")
    args, args.extra = parser.parse_known_args()  # other flags go to `workbench score` (--device cuda...)
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        folder = Path(tmp)
        if args.shape:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from bench_engine import save_shape

            device = "cuda" if "cuda" in " ".join(args.extra) else "cpu"
            args.model = str(save_shape(args.shape, None, "bfloat16", folder / args.shape, device))
        elif args.model is None:
            from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

            args.model = str(save_tiny_qwen3_reranker(folder / "tiny-model"))
        docs, queries = write_inputs(folder, args.documents, args.queries, args.words, args.seed)
        if args.pipeline:
            compare_pipeline(args, folder, docs, queries)
            return
        env = {**os.environ, "WORKBENCH_DATA_DIR": str(folder / "data"), "WORKBENCH_CONFIG_DIR": str(folder / "config"),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        setups = [] if args.no_local and args.backend else [("local", [])]
        if args.backend:
            setups.append((f"1 server ({args.backend[0]})", args.backend[:1]))
        if len(args.backend) > 1:
            setups.append((f"{len(args.backend)} servers", args.backend))
        print(f"{args.documents} documents x {args.queries} queries, model {args.model}")
        print(f"{'setup':<34} {'docs/s':>9} {'pairs/s':>9} {'tokens/s':>10} {'job s':>8} {'wall s':>8} {'peak RSS MB':>12}")
        for i, (name, backends) in enumerate(setups):
            s = run_job(args, docs, queries, folder / f"out{i}.jsonl", backends, env)
            docs_per_s = s["pairs_per_s"] / args.queries
            print(f"{name:<34} {docs_per_s:>9.1f} {s['pairs_per_s']:>9.1f} {s['tokens_per_s']:>10.0f} "
                  f"{s['seconds']:>8.1f} {s['wall_s']:>8.1f} {s['peak_rss_mb']:>12.0f}", flush=True)


def compare_pipeline(args, folder: Path, docs: Path, queries: Path) -> None:
    """The corpus job and the app's first ranking, serial vs pipelined, alternating which goes first."""
    from workbench.corpus_input import read_query_file, scan_corpus
    from workbench.corpus_job import make_ranker, run_job
    from workbench.corpus_output import Appender
    from workbench.engine.loading import LoadOptions, load_scorer
    from workbench.session.inputs import RunSettings

    extra = argparse.ArgumentParser()
    extra.add_argument("--device", default="auto")
    extra.add_argument("--dtype", default="auto")
    extra.add_argument("--batch-tokens", type=int)
    options = extra.parse_args(args.extra)
    scorer = load_scorer(LoadOptions(model=args.model, device=options.device, dtype=options.dtype,
                                     batch_tokens=options.batch_tokens))
    if args.simulate_gpu:
        scorer = simulated_gpu(scorer, args.simulate_gpu)
    scan, (query_list, _) = scan_corpus(docs), read_query_file(queries)
    where = f"a simulated GPU at {args.simulate_gpu:.0f} tokens/s" if args.simulate_gpu else scorer.info.device
    print(f"{args.documents} documents x {args.queries} queries, {scorer.info.model_id} on {where}, "
          f"{args.rounds} rounds alternating")

    def job(pipelined: bool, out: Path) -> tuple[float, float]:
        ranker = make_ranker(scorer, None)
        ranker.pipeline = pipelined
        began, first = time.perf_counter(), []

        def progress(pairs: float) -> None:
            if pairs > 0 and not first:
                first.append(time.perf_counter() - began)

        appender = Appender(out)
        try:
            stats = run_job(ranker, query_list, scan, "", RunSettings(), 0, appender, progress)
        finally:
            appender.close()
        return stats.pairs / stats.seconds, first[0]

    figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for r in range(args.rounds):
        for pipelined in ((False, True) if r % 2 == 0 else (True, False)):
            figures[pipelined].append(job(pipelined, folder / f"pipe{r}-{int(pipelined)}.jsonl"))
    _print_pipeline_table("corpus job", figures)

    from workbench.documents import load_documents
    from workbench.engine.ranking import Ranker

    sample = load_documents([str(ROOT / "sample_data" / "docs")]).documents
    query = "why are tides highest at full moon"

    def app(pipelined: bool, session_like: bool) -> tuple[float, float]:
        scorer.forget_texts()  # cold: no document part tokenised yet
        ranker = Ranker(scorer)
        ranker.pipeline = pipelined
        began = time.perf_counter()
        if session_like:  # the session chunks every document first, for the view, then ranks
            for d in sample:
                ranker.chunk(d, RunSettings().chunking)
        chunked = time.perf_counter() - began
        stats = ranker.rank(query, "", sample, RunSettings().chunking).stats
        return stats.pairs / (time.perf_counter() - began), chunked + stats.first_result_s

    for session_like, name in ((False, "sample_data, rank() cold"), (True, "sample_data, session-like cold")):
        figures = {False: [], True: []}
        for r in range(args.rounds):
            for pipelined in ((False, True) if r % 2 == 0 else (True, False)):
                figures[pipelined].append(app(pipelined, session_like))
        _print_pipeline_table(name, figures)


def simulated_gpu(scorer, tokens_per_s: float):
    """`scorer`'s tokenizer and prompts; its model a sleep per batch (batches as a GPU plans them),
    during which the GIL is free, as it is while a CUDA forward pass runs. Logits are all 0."""
    from workbench.engine.batching import plan_batches
    from workbench.engine.scorer import Cancelled, Scorer

    class SimulatedGpu(Scorer):
        tokenizer, info, max_chunk_tokens = scorer.tokenizer, scorer.info, scorer.max_chunk_tokens
        token_budget = 32768  # default_token_budget on CUDA

        def build_prompts(self, instruction, query, texts):
            return scorer.build_prompts(instruction, query, texts)

        def probability(self, logit):
            return scorer.probability(logit)

        def forget_texts(self):
            scorer.forget_texts()

        def score_prompts(self, prompts, should_cancel=None):
            for batch in plan_batches([p.tokens for p in prompts], self.token_budget, 1024):
                if should_cancel is not None and should_cancel():
                    raise Cancelled()
                time.sleep(len(batch) * prompts[batch[0]].tokens / tokens_per_s)
                yield [(i, 0.0) for i in batch]

    return SimulatedGpu()


def _print_pipeline_table(name: str, figures: dict[bool, list[tuple[float, float]]]) -> None:
    """Medians and bests over the rounds: on a shared machine the best is the least disturbed."""
    for pipelined in (False, True):
        rates, firsts = [f[0] for f in figures[pipelined]], [f[1] * 1000 for f in figures[pipelined]]
        print(f"{name:<32} {'pipelined' if pipelined else 'serial':<10} pairs/s median {statistics.median(rates):>7.1f} "
              f"best {max(rates):>7.1f}   first scores ms median {statistics.median(firsts):>6.0f} "
              f"best {min(firsts):>6.0f}", flush=True)
    for how, pick in (("median", statistics.median), ("best", max)):
        ratio = pick(f[0] for f in figures[True]) / pick(f[0] for f in figures[False])
        print(f"{name:<32} pipelined/serial pairs/s ({how}) x{ratio:.2f}")

if __name__ == "__main__":
    main()
