"""A local server speaking the rerank APIs (vLLM's /v1/rerank and /score, Cohere-style /rerank),
for injecting faults a real server will not produce on demand: timeouts, 500s, 429s, answers
missing documents, slow replies, garbage. Tests and benchmarks only; it listens on 127.0.0.1.

Scores come from a function the caller gives (query text, document texts) -> probabilities, so
a test can put a real model behind it and check what arrives.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ScoreFn = Callable[[str, list[str]], list[float]]


class VllmLikeModel:
    """A ScoreFn doing what vLLM does with the original Qwen3 reranker: tokenise the query text
    and each document text apart, join the ids, one full forward, sigmoid(yes - no). Independent
    of the engine's hot path, so a test comparing the two compares two computations."""

    def __init__(self, model, tokenizer):
        self.model, self.tokenizer = model, tokenizer
        self.yes = tokenizer.convert_tokens_to_ids("yes")
        self.no = tokenizer.convert_tokens_to_ids("no")
        self.seen_ids: list[tuple[int, ...]] = []  # every pair's ids, as the server built them

    @classmethod
    def from_dir(cls, model_dir) -> "VllmLikeModel":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        return cls(AutoModelForCausalLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir))

    def __call__(self, query: str, documents: list[str]) -> list[float]:
        import torch

        out = []
        q = self.tokenizer.encode(query, add_special_tokens=False)
        with torch.no_grad():
            for d in documents:
                ids = q + self.tokenizer.encode(d, add_special_tokens=False)
                self.seen_ids.append(tuple(ids))
                last = self.model(input_ids=torch.tensor([ids])).logits[0, -1].float()
                out.append(float(torch.sigmoid(last[self.yes] - last[self.no])))
        return out

# Faults, one consumed per scoring request (FIFO): "500", "429", "timeout" (no answer for longer
# than the client waits), "partial" (drops the last document), "garbage" (not JSON), "slow:S".
FAULTS = ("500", "429", "timeout", "partial", "garbage")


class ProtocolServer:
    def __init__(self, score: ScoreFn, model: str = "test/tiny-reranker", root: str | None = None,
                 vllm: bool = True, hang_s: float = 5.0, max_model_len: int | None = 8192):
        self.score = score
        self.model, self.root, self.vllm = model, root, vllm
        self.hang_s = hang_s
        self.max_model_len = max_model_len
        self.faults: list[str] = []
        self.requests: list[dict] = []  # every scoring request body, in arrival order
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # Closing waits for requests in flight: a handler thread still in a model's forward at
        # interpreter exit would abort the process.
        self.httpd.daemon_threads = False
        self.httpd.block_on_close = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> "ProtocolServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def documents_scored(self) -> int:
        with self.lock:
            return sum(len(r.get("documents") or r.get("text_2") or []) for r in self.requests)


def _handler(server: ProtocolServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: tests read failures, not access logs
            pass

        def do_GET(self) -> None:
            if self.path == "/version" and server.vllm:
                return self._json(200, {"version": "0.0.test"})
            if self.path in ("/v1/models", "/models"):
                entry = {"id": server.model, "object": "model", "root": server.root}
                if server.max_model_len:
                    entry["max_model_len"] = server.max_model_len
                return self._json(200, {"object": "list", "data": [entry]})
            self._json(404, {"detail": "Not Found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            if self.path not in ("/v1/rerank", "/rerank", "/score"):
                return self._json(404, {"detail": "Not Found"})
            with server.lock:
                server.requests.append(body)
            fault = server.next_fault()
            if fault == "500":
                return self._json(500, {"error": "injected failure"})
            if fault == "429":
                return self._json(429, {"error": "too many requests"}, {"Retry-After": "0"})
            if fault == "timeout":
                time.sleep(server.hang_s)
                return self._json(503, {"error": "too late"})
            if fault and fault.startswith("slow:"):
                time.sleep(float(fault[5:]))
            if fault == "garbage":
                return self._raw(200, b"<html>proxy error</html>")
            query = body.get("query", body.get("text_1"))
            documents = body.get("documents", body.get("text_2"))
            scores = server.score(query, list(documents))
            rows = list(enumerate(scores))
            if fault == "partial":
                rows = rows[:-1]
            if self.path == "/score":
                return self._json(200, {"object": "list", "data": [{"index": i, "object": "score", "score": s} for i, s in rows]})
            rows.sort(key=lambda r: -r[1])  # servers answer best first, not in input order
            self._json(200, {"model": server.model, "results": [{"index": i, "relevance_score": s} for i, s in rows]})

        def _json(self, status: int, payload: object, headers: dict | None = None) -> None:
            self._raw(status, json.dumps(payload).encode(), headers, "application/json")

        def _raw(self, status: int, data: bytes, headers: dict | None = None, kind: str = "text/html") -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

    return Handler
