"""A corpus job killed mid-way and resumed: nothing scored twice, the result complete.

Writes N synthetic documents and one query, starts `workbench score --queries --docs-jsonl --out`
with the tiny random Qwen3 reranker (or --model), kills it with SIGKILL after --kill-after
seconds, runs the same command again, and prints what each part did.

    python benchmarks/corpus_resume.py 100000 --kill-after 18
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("documents", type=int)
    parser.add_argument("--kill-after", type=float, default=10.0, help="seconds before the SIGKILL")
    parser.add_argument("--model", help="a reranker directory (default: a tiny random one built here)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_corpus import write_inputs

    with tempfile.TemporaryDirectory(prefix="corpus-resume-") as tmp:
        folder = Path(tmp)
        if args.model is None:
            from workbench.testing.tiny_qwen import save_tiny_qwen3_reranker

            args.model = str(save_tiny_qwen3_reranker(folder / "model"))
        docs, queries = write_inputs(folder, args.documents, 1, 12, 0)
        env = {**os.environ, "WORKBENCH_DATA_DIR": str(folder / "data"), "WORKBENCH_CONFIG_DIR": str(folder / "config")}
        out = folder / "out.jsonl"
        cmd = [sys.executable, "-m", "workbench.cli", "score", "--queries", str(queries), "--docs-jsonl", str(docs),
               "--out", str(out), "--model", args.model]
        job = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
        time.sleep(args.kill_after)
        job.send_signal(signal.SIGKILL)
        job.wait()
        written = sum(1 for _ in out.open()) if out.exists() else 0
        print(f"killed after {args.kill_after:.0f} s: {written} lines written")
        started = time.perf_counter()
        again = subprocess.run(cmd, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        tail = again.stderr.strip().splitlines()[-1] if again.stderr.strip() else ""
        print(f"resumed: exit {again.returncode} in {time.perf_counter() - started:.1f} s; {tail}")
        rows = [json.loads(line) for line in out.open()]
        print(f"final: {len(rows)} lines, {len({r['doc_id'] for r in rows})} distinct documents, "
              f"ranks {min(r['rank'] for r in rows)}..{max(r['rank'] for r in rows)}")


if __name__ == "__main__":
    main()
