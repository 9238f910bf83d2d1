"""A fake OpenAI-compatible embeddings server for the tests, backed by the bundled local model.

`POST /v1/embeddings` answers like OpenAI's API with real vectors of all-MiniLM-L6-v2
(python_udfs.embedding load_model(None, "torch"), offline), after checking the bearer key and
the model name; `usage.prompt_tokens` counts the model's word pieces. Faults are injected
through control endpoints (no key; loopback only):

- `POST /control/faults` {"faults": [fault, ...], "default": fault | null}: each request takes
  the next one-shot fault, else the default (e.g. {"kind": "slow", "seconds": 0.3} for all).
  A fault is {"kind": K, ...}: `status` (status, retry_after, message), `slow` (seconds, then a
  normal answer), `drop` (the connection is closed without an answer), `wrong_dimension`,
  `shuffle` (data in reverse order, indices kept), `wrong_count` (one vector less),
  `duplicate_index`, `nan`, `scale` (vectors times `factor`, not normalised).
- `GET /control/stats`: requests (every one received), texts (their inputs), answered (200s),
  answered_texts, tokens (prompt tokens answered), in_flight (being answered now), statuses
  {code: n}, faults_left.
- `POST /control/reset`: counters and faults back to zero.

Run: `python tests/python/openai_server.py --key KEY [--model all-MiniLM-L6-v2]`; it binds
127.0.0.1 on a free port and prints `LISTENING <port>` once the model is loaded.
`FakeOpenAIServer` starts and stops it as a subprocess for fixtures, every wait bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "all-MiniLM-L6-v2"
READY_PREFIX = "LISTENING "
START_TIMEOUT_SECONDS = 180.0
CONTROL_TIMEOUT_SECONDS = 10.0


# ---------------------------------------------------------------------------------------------
# The server (runs in its own process)
# ---------------------------------------------------------------------------------------------


class ServerState:
    """Counters and faults, shared by the handler threads."""

    def __init__(self, key: str, model_name: str):
        import numpy as np

        from python_udfs.embedding import load_model

        self.np = np
        self.key = key
        self.model_name = model_name
        self.model = load_model(None, "torch")
        self.lock = threading.Lock()
        self.encode_lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Counters and faults to zero (requests in flight still count where they end)."""
        with self.lock:
            in_flight = getattr(self, "stats", {}).get("in_flight", 0)
            self.faults: list[dict[str, Any]] = []
            self.default: dict[str, Any] | None = None
            self.stats: dict[str, Any] = {
                "requests": 0,
                "texts": 0,
                "answered": 0,
                "answered_texts": 0,
                "tokens": 0,
                "in_flight": in_flight,
                "statuses": {},
            }

    def next_fault(self) -> dict[str, Any] | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else self.default

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.stats[key] += n

    def count_status(self, status: int) -> None:
        with self.lock:
            self.stats["statuses"][str(status)] = self.stats["statuses"].get(str(status), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**json.loads(json.dumps(self.stats)), "faults_left": len(self.faults)}

    def embed(self, texts: list[str]) -> tuple[list[list[float]], int]:
        with self.encode_lock:
            vectors = self.model.encode(
                texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
            )
            tokens = sum(len(ids) for ids in self.model.tokenizer(texts, add_special_tokens=True)["input_ids"])
        return vectors.astype(float).tolist(), tokens


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-openai/1"
    protocol_version = "HTTP/1.1"
    state: ServerState

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- helpers --------------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        if self.path.startswith("/v1/"):
            self.state.count_status(status)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"message": message, "type": "invalid_request_error"}}, headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    # -- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path == "/control/stats":
            self._send(200, self.state.snapshot())
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        if self.path == "/control/reset":
            self._body()
            self.state.reset()
            self._send(200, {"ok": True})
        elif self.path == "/control/faults":
            body = self._body()
            with self.state.lock:
                self.state.faults.extend(body.get("faults") or [])
                if "default" in body:
                    self.state.default = body["default"]
            self._send(200, {"ok": True})
        elif self.path == "/v1/embeddings":
            self.state.count("in_flight")
            try:
                self._embeddings()
            finally:
                self.state.count("in_flight", -1)
        else:
            self._error(404, f"no route {self.path}")

    def _embeddings(self) -> None:
        state = self.state
        try:
            body = self._body()
        except ValueError:
            state.count("requests")
            self._error(400, "the body is not JSON")
            return
        inputs = body.get("input") if isinstance(body, dict) else None
        texts = [inputs] if isinstance(inputs, str) else inputs
        state.count("requests")
        if isinstance(texts, list):
            state.count("texts", len(texts))
        if self.headers.get("Authorization") != f"Bearer {state.key}":
            self._error(401, "Incorrect API key provided.")
            return
        if body.get("model") != state.model_name:
            self._error(404, f"The model `{body.get('model')}` does not exist.")
            return
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            self._error(400, "input must be a string or a non-empty list of strings")
            return
        if body.get("dimensions") not in (None, 384):
            self._error(400, "This model does not support specifying dimensions.")
            return
        fault = state.next_fault() or {}
        kind = fault.get("kind")
        if kind == "status":
            headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") is not None else None
            self._error(int(fault["status"]), str(fault.get("message", "injected failure")), headers)
            return
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 1.0)))
        vectors, tokens = state.embed(texts)
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        data = _apply(kind, fault, data)
        state.count("answered")
        state.count("answered_texts", len(texts))
        state.count("tokens", tokens)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        self._send(200, {"object": "list", "data": data, "model": state.model_name, "usage": usage})


def _apply(kind: str | None, fault: dict[str, Any], data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The response data with the fault `kind` applied."""
    if kind == "shuffle":
        return data[::-1]
    if kind == "wrong_count":
        return data[:-1]
    if kind == "wrong_dimension":
        return [{**d, "embedding": d["embedding"][:-1]} for d in data]
    if kind == "duplicate_index":
        return [{**d, "index": 0} for d in data]
    if kind == "nan":
        return [{**d, "embedding": [float("nan"), *d["embedding"][1:]]} for d in data]
    if kind == "scale":
        return [{**d, "embedding": [x * float(fault.get("factor", 3.0)) for x in d["embedding"]]} for d in data]
    return data


def serve(key: str, model_name: str) -> None:
    Handler.state = ServerState(key, model_name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    print(f"{READY_PREFIX}{httpd.server_address[1]}", flush=True)
    httpd.serve_forever()


# ---------------------------------------------------------------------------------------------
# The fixture side: start, control, stop
# ---------------------------------------------------------------------------------------------


class FakeOpenAIServer:
    """The fake server as a subprocess on 127.0.0.1 (a free port), with its control endpoints."""

    def __init__(self, key: str, model_name: str = DEFAULT_MODEL):
        self.key = key
        self.model_name = model_name
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> FakeOpenAIServer:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
        env["DOCVEC_EMBEDDING_THREADS"] = "1"
        command = [sys.executable, __file__, "--key", self.key, "--model", self.model_name]
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env)
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the fake OpenAI server exited: {self.stderr_tail()}")
            if selector.select(timeout=0.5):
                line = self.process.stdout.readline()
                if line.startswith(READY_PREFIX):
                    self.port = int(line[len(READY_PREFIX) :])
                    return self
        self.stop()
        raise TimeoutError(f"the fake OpenAI server did not start within {timeout:.0f}s")

    def stderr_tail(self, limit: int = 3000) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-limit:]

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        import httpx

        url = f"http://127.0.0.1:{self.port}{path}"
        response = httpx.request(method, url, json=body, timeout=CONTROL_TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "/control/stats")

    def reset(self) -> None:
        self._control("POST", "/control/reset", {})

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait (bounded) until no request is being answered, e.g. one a killed client left."""
        deadline = time.monotonic() + timeout
        while self.stats()["in_flight"] > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the fake OpenAI server still answers a request after {timeout:.0f}s")
            time.sleep(0.05)

    def inject(self, *faults: dict[str, Any], default: dict[str, Any] | None | str = "keep") -> None:
        """Queue one-shot `faults`; `default` (unless "keep") applies to every later request."""
        body: dict[str, Any] = {"faults": list(faults)}
        if default != "keep":
            body["default"] = default
        self._control("POST", "/control/faults", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--key", required=True)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_ROOT))
    serve(args.key, args.model)


if __name__ == "__main__":
    main()
