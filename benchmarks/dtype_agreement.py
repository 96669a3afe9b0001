"""Does bf16 rank like fp32 on this CPU? The judged sample queries scored both ways, same run.

For a reranker, `--dtype auto` keeps fp32 on CPUs until rankings are shown to stay equal in bf16
with real weights; the offline fallback runs bf16 autocast on CPUs with native bf16 (it ranks the
judged queries as well). This measures the agreement and the speed bf16 buys, for the offline
fallback (default) or a reranker directory (`--model`):

    python benchmarks/dtype_agreement.py                       # the offline fallback
    python benchmarks/dtype_agreement.py --model ~/models/Qwen3-Reranker-0.6B

Prints, per dtype, the time to rank every query of sample_data/queries.jsonl over sample_data/docs,
then how many queries keep the same document order and the same top-10 chunks, and the largest
score difference. Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from workbench.documents import load_documents  # noqa: E402
from workbench.engine.loading import LoadOptions, load_fallback, load_scorer  # noqa: E402
from workbench.engine.ranking import Ranker  # noqa: E402


def rank_all(scorer, queries, docs):
    out = []
    for q in queries:
        result = Ranker(scorer).rank(q, "Given a web search query, retrieve relevant passages that answer the query", docs)
        chunks = {(c.doc_id, c.chunk.index): c.score for d in result.documents for c in d.chunks}
        out.append(([d.doc_id for d in result.documents], [(c.doc_id, c.chunk.index) for c in result.ranked_chunks()][:10], chunks))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a reranker directory (default: the offline fallback)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    docs = load_documents([str(ROOT / "sample_data" / "docs")]).documents
    queries = [json.loads(line)["query"] for line in (ROOT / "sample_data" / "queries.jsonl").open(encoding="utf-8")]
    runs = {}
    for dtype in ("fp32", "bf16"):
        options = LoadOptions(model=args.model, device="cpu", dtype=dtype)
        # The fallback's bf16 is autocast (fp32 weights, bf16 matmuls): see engine/fallback.py.
        scorer = load_scorer(options) if args.model else load_fallback(options, reason="measuring")
        started = time.perf_counter()
        runs[dtype] = rank_all(scorer, queries, docs)
        print(f"{dtype}: {time.perf_counter() - started:.1f} s for {len(queries)} queries, {len(runs[dtype][0][2])} chunks each, "
              f"{torch.get_num_threads()} threads")
    same_docs = sum(a[0] == b[0] for a, b in zip(runs["fp32"], runs["bf16"]))
    same_top = sum(a[1] == b[1] for a, b in zip(runs["fp32"], runs["bf16"]))
    worst = max(abs(a[2][k] - b[2][k]) for a, b in zip(runs["fp32"], runs["bf16"]) for k in a[2])
    print(f"document order equal on {same_docs}/{len(queries)} queries; top-10 chunks equal on {same_top}/{len(queries)}; "
          f"largest |score difference| {worst:.4f}")


if __name__ == "__main__":
    main()
