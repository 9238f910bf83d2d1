"""The model object of `embedding_backend: openai`: what `load_model(..., "openai")` returns.

It looks like a sentence-transformers model to the callers that only embed (`embed_texts`,
docvec search and serve, the docvec_embed_query UDF, retrieval_runs): `encode(texts)` returns
L2-normalised float32 vectors in input order and `get_embedding_dimension()` their length (known
from the settings, else learnt from one small request). `send` runs the planned requests of a
list of texts, at most `concurrency` at a time, and hands each response to a callback as it
arrives (the embeddings model commits it to the journal there); a failed request stops new ones,
lets those in flight finish (they are paid for) and then raises its error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from .api_requests import RequestPlan, plan_requests
from .openai_api import ApiSettings, EmbeddingApiError, EmbeddingClient, EmbeddingResponse

# What the dimension probe embeds when the settings do not give the dimension.
PROBE_TEXT = "dimension probe"

OnResponse = Callable[[list[int], EmbeddingResponse], None]
OnFailure = Callable[[list[int], EmbeddingApiError], None]


class InputTooLongError(ValueError):
    """Texts whose token bound exceeds the per-input limit; none of them was sent."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ApiEmbedder:
    """Embeds through an OpenAI-compatible API with `settings` (see python_udfs.embedding.openai_api)."""

    backend = "openai"

    def __init__(self, settings: ApiSettings, client: EmbeddingClient | None = None):
        self.settings = settings
        self.client = client or EmbeddingClient(settings)

    def get_embedding_dimension(self) -> int:
        if self.client.dimension is None:
            self.client.embed([PROBE_TEXT])
        return int(self.client.dimension or 0)

    def plan(self, texts: Sequence[str]) -> RequestPlan:
        s = self.settings
        return plan_requests(
            texts,
            max_input_tokens=s.max_input_tokens,
            max_request_tokens=s.max_request_tokens,
            max_texts_per_request=s.max_texts_per_request,
        )

    def encode(self, texts: Sequence[str], **_ignored: Any) -> np.ndarray:
        """L2-normalised vectors of `texts` in input order (sentence-transformers' keyword
        arguments are accepted and ignored: vectors are always normalised numpy arrays)."""
        texts = list(texts)
        plan = self.plan(texts)
        if plan.too_long:
            hashes = [text_sha256(texts[i]) for i in plan.too_long]
            raise InputTooLongError(too_long_message(hashes, [plan.bounds[i] for i in plan.too_long], self.settings))
        out: np.ndarray | None = None

        def keep(rows: list[int], response: EmbeddingResponse) -> None:
            nonlocal out
            if out is None:
                out = np.empty((len(texts), response.vectors.shape[1]), dtype=np.float32)
            out[rows] = response.vectors

        self.send(texts, plan.requests, keep)
        return out if out is not None else np.zeros((0, self.get_embedding_dimension()), dtype=np.float32)

    def send(
        self,
        texts: Sequence[str],
        requests: Sequence[list[int]],
        on_response: OnResponse,
        *,
        on_failure: OnFailure | None = None,
        stop_reason: Callable[[], str | None] = lambda: None,
    ) -> bool:
        """Send `requests` (positions in `texts`), `concurrency` at a time, calling `on_response`
        (in this thread) for each as it arrives. Before each new request `stop_reason` is asked;
        returns False when it stopped the sending, True when every request was answered. The
        first failure is raised once the requests in flight have ended."""
        pending = list(requests)[::-1]
        failure: EmbeddingApiError | None = None
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="docvec-api") as pool:
            running: dict[Future[EmbeddingResponse], list[int]] = {}
            stopped = False
            while pending or running:
                while pending and failure is None and len(running) < self.settings.concurrency:
                    if stop_reason() is not None:
                        stopped = True
                        pending.clear()
                        break
                    rows = pending.pop()
                    running[pool.submit(self.client.embed, [texts[i] for i in rows])] = rows
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    rows = running.pop(future)
                    try:
                        response = future.result()
                    except EmbeddingApiError as error:
                        if on_failure is not None:
                            on_failure(rows, error)
                        failure = failure or error
                        continue
                    on_response(rows, response)
        if failure is not None:
            raise failure
        return not stopped


def too_long_message(hashes: Sequence[str], bounds: Sequence[int], settings: ApiSettings) -> str:
    """The error naming texts over the per-input limit (by hash, never by content)."""
    shown = ", ".join(hashes[:5]) + (f" and {len(hashes) - 5} more" if len(hashes) > 5 else "")
    return (
        f"{len(hashes)} text(s) exceed embedding_api_max_input_tokens {settings.max_input_tokens} "
        f"(or embedding_api_max_request_tokens {settings.max_request_tokens}) by their token bound "
        f"(UTF-8 bytes + 2; largest {max(bounds, default=0)}) and were not sent: text_sha256 {shown}. "
        "Use a chunking strategy with smaller chunks, or raise the limit if the provider allows it"
    )
