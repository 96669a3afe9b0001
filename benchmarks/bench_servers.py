"""The corpus job through real rerank servers: one Infinity server, then two, in the same run.

Starts two Infinity servers (from .venv-server, made by scripts/setup-test-server) on 127.0.0.1,
each serving the tests' tiny random cross-encoder, and runs benchmarks/bench_corpus.py through
the first server alone and through both. The local engine cannot run this model (only vLLM can
serve the Qwen3 test model, on a GPU): run bench_corpus.py alone for the local figure.

    python benchmarks/bench_servers.py 20000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("documents", type=int, help="How many documents")
    parser.add_argument("--words", type=int, default=12, help="Mean words per document (default 12)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "backends"))
    from real_server import SERVER_EXE, SERVER_READY, SETUP_COMMAND, build_tiny_cross_encoder, infinity_server

    if not (SERVER_EXE.exists() and SERVER_READY.exists()):
        raise SystemExit(f"the Infinity environment is missing: run {SETUP_COMMAND} first")
    with tempfile.TemporaryDirectory(prefix="bench-servers-") as tmp, ExitStack() as stack:
        model = build_tiny_cross_encoder(Path(tmp) / "cross-encoder")
        urls = [stack.enter_context(infinity_server(model, Path(tmp) / f"server{i}.log")).url for i in range(2)]
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_corpus.py"), str(args.documents),
                        "--words", str(args.words), "--model", str(model), "--no-local",
                        "--backend", urls[0], "--backend", urls[1], "--backend-api", "rerank"], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
