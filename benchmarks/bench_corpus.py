"""The corpus job end to end: `workbench score --queries Q --docs-jsonl D --out R` on N synthetic
documents, as a user runs it (a child process each), printing docs/s, pairs/s, tokens/s and the
child's peak RSS for each backend configuration.

    python benchmarks/bench_corpus.py 10000                    # tiny random Qwen3 (built here)
    python benchmarks/bench_corpus.py 1000 --model Qwen/Qwen3-Reranker-0.6B --queries 4 --device cuda
    python benchmarks/bench_corpus.py 10000 --model DIR --backend http://127.0.0.1:8000 --backend http://127.0.0.1:8001

With --backend: the local model, then the first server alone, then all servers together (the
remote backend splits batches across them); --model then names the tokenizer. The rates are the
job's own (model loading excluded); peak RSS is the whole child's, loading included, so flat
memory shows as the same figure at 1k, 10k and 100k documents. Scores are never cached here
(--no-cache): every pair is scored. Flags this script does not know go to `workbench score`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
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
    parser.add_argument("--backend", action="append", default=[], metavar="URL",
                        help="A rerank server (repeatable): compares local, the first server, all servers")
    parser.add_argument("--no-local", action="store_true", help="With --backend: skip the local model")
    parser.add_argument("--seed", type=int, default=0)
    args, args.extra = parser.parse_known_args()  # other flags go to `workbench score` (--device cuda...)
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        folder = Path(tmp)
        if args.model is None:
            from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

            args.model = str(save_tiny_qwen3_reranker(folder / "tiny-model"))
        docs, queries = write_inputs(folder, args.documents, args.queries, args.words, args.seed)
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


if __name__ == "__main__":
    main()
