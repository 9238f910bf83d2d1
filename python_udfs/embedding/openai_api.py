"""The HTTP client of `embedding_backend: openai`: one `POST {base_url}/embeddings` at a time,
retried with backoff, its response validated and L2-normalised.

Any OpenAI-compatible server works (OpenAI, Azure OpenAI through a compatible gateway, vLLM,
Ollama, Hugging Face TEI, LiteLLM). The API key is read from the environment variable that
`ApiSettings.key_env` names, when the client is made; it is sent only in the Authorization
header and never logged nor put in an error message (messages pass through `redact`).

Retries: HTTP 408, 409, 429 and 5xx and connection errors (refused, reset, dropped, timed out)
are retried up to `max_retries` times. The wait is the server's Retry-After (seconds or an HTTP
date, at most RETRY_AFTER_CAP_SECONDS) when it sends one, else exponential backoff
`backoff_seconds * 2**retry` (at most BACKOFF_CAP_SECONDS) times a jitter factor in [0.5, 1].
Other statuses (400, 401, 404...) fail at once. A failure names the status and the provider's
error message, and how many attempts were made.

Validation (`parse_embeddings`): as many vectors as inputs, each `index` exactly once (the
vectors are put back in input order: a server may return them shuffled), every vector of the
expected dimension with finite values and a non-zero norm. Anything else raises
`MalformedResponseError`: no vector of a malformed response is ever kept.
"""

from __future__ import annotations

import email.utils
import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import numpy as np

# Environment variables read by `ApiSettings.from_env` (query-time callers: docvec search and
# serve, the docvec_embed_query UDF, retrieval_runs); the dbt vars embedding_api_* default to them.
BASE_URL_ENV = "DOCVEC_EMBEDDING_API_BASE_URL"
MODEL_ENV = "DOCVEC_EMBEDDING_API_MODEL"
DIMENSIONS_ENV = "DOCVEC_EMBEDDING_API_DIMENSIONS"
KEY_ENV_ENV = "DOCVEC_EMBEDDING_API_KEY_ENV"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"

DEFAULT_MAX_INPUT_TOKENS = 8191
DEFAULT_MAX_REQUEST_TOKENS = 100_000
DEFAULT_MAX_TEXTS_PER_REQUEST = 128
DEFAULT_CONCURRENCY = 4
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RETRIES = 6
DEFAULT_BACKOFF_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
RETRY_AFTER_CAP_SECONDS = 120.0
RETRY_STATUSES = frozenset({408, 409, 429})
# Most characters of a provider's error message quoted in an error.
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class ApiSettings:
    """Where and how to embed through an OpenAI-compatible API (no secret: the key stays in env)."""

    base_url: str
    model: str
    dimensions: int | None = None  # sent as `dimensions`; None = the model's own
    expected_dimension: int | None = None  # validated; None = `dimensions`, else learnt once
    key_env: str = DEFAULT_KEY_ENV
    max_input_tokens: int = DEFAULT_MAX_INPUT_TOKENS
    max_request_tokens: int = DEFAULT_MAX_REQUEST_TOKENS
    max_texts_per_request: int = DEFAULT_MAX_TEXTS_PER_REQUEST
    concurrency: int = DEFAULT_CONCURRENCY
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_seconds: float = DEFAULT_BACKOFF_SECONDS

    @property
    def endpoint(self) -> str:
        return self.base_url.rstrip("/") + "/embeddings"

    @property
    def dimension(self) -> int | None:
        """The vector length every response must have, when known before the first one."""
        return self.expected_dimension or self.dimensions

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        """The settings of the query-time callers, from DOCVEC_EMBEDDING_API_* variables."""
        env = os.environ if environ is None else environ
        base_url, model = env.get(BASE_URL_ENV, "").strip(), env.get(MODEL_ENV, "").strip()
        if not base_url or not model:
            raise ApiConfigurationError(
                f"embedding_backend openai needs env {BASE_URL_ENV} (e.g. https://api.openai.com/v1) and "
                f"{MODEL_ENV} (the provider's model name) outside dbt, where only the backend name is passed"
            )
        dimensions = env.get(DIMENSIONS_ENV, "").strip()
        if dimensions and (not dimensions.isdigit() or int(dimensions) < 1):
            raise ApiConfigurationError(f"{DIMENSIONS_ENV} must be a positive integer, got {dimensions!r}")
        return cls(
            base_url=base_url,
            model=model,
            dimensions=int(dimensions) if dimensions else None,
            key_env=env.get(KEY_ENV_ENV, "").strip() or DEFAULT_KEY_ENV,
        )


def served_model_name(model_id: str) -> str:
    """The model name to send for `embedding_model_id`: the id without a `@<dimensions>` suffix."""
    name, sep, suffix = model_id.rpartition("@")
    return name if sep and name and suffix.isdigit() else model_id


def optional_value(value: Any) -> str | None:
    """A dbt config value rendered from a var: None for null, '' and 'None'."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text in ("", "None", "none", "null") else text


def settings_from_config(
    config: Mapping[str, Any], model_id: str, dimension: int, environ: Mapping[str, str] | None = None
) -> ApiSettings:
    """The settings of the embeddings model from its `embedding_api_*` config (the vars). A value
    not configured (None, '') falls back to env DOCVEC_EMBEDDING_API_* (base URL, model,
    dimensions, key variable), then to the defaults; the model to the model id without its
    `@<dimensions>`. `model_id` is var embedding_model_id; `dimension` (var embedding_dimension)
    is what every response must have."""
    env = os.environ if environ is None else environ

    def pick(key: str, env_name: str | None = None) -> str | None:
        value = optional_value(config.get(key))
        return value if value is not None or env_name is None else optional_value(env.get(env_name))

    def number(key: str, default: float) -> float:
        value = optional_value(config.get(key))
        return default if value is None else float(value)

    base_url = pick("embedding_api_base_url", BASE_URL_ENV)
    if base_url is None:
        raise ApiConfigurationError(
            f"embedding_backend openai needs var embedding_api_base_url or env {BASE_URL_ENV} "
            "(e.g. https://api.openai.com/v1 or http://localhost:11434/v1)"
        )
    dimensions = pick("embedding_api_dimensions", DIMENSIONS_ENV)
    return ApiSettings(
        base_url=base_url,
        model=pick("embedding_api_model", MODEL_ENV) or served_model_name(model_id),
        dimensions=int(dimensions) if dimensions is not None else None,
        expected_dimension=dimension,
        key_env=pick("embedding_api_key_env", KEY_ENV_ENV) or DEFAULT_KEY_ENV,
        max_input_tokens=int(number("embedding_api_max_input_tokens", DEFAULT_MAX_INPUT_TOKENS)),
        max_request_tokens=int(number("embedding_api_max_request_tokens", DEFAULT_MAX_REQUEST_TOKENS)),
        max_texts_per_request=int(number("embedding_api_max_texts_per_request", DEFAULT_MAX_TEXTS_PER_REQUEST)),
        concurrency=int(number("embedding_api_concurrency", DEFAULT_CONCURRENCY)),
        timeout_seconds=number("embedding_api_timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
        max_retries=int(number("embedding_api_max_retries", DEFAULT_MAX_RETRIES)),
    )


class ApiConfigurationError(ValueError):
    """The API backend is not configured (base URL or model missing, bad value)."""


class EmbeddingApiError(RuntimeError):
    """A request failed for good (retries exhausted or not retryable); `attempts` were made."""

    def __init__(self, message: str, *, attempts: int, status: int | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.status = status


class MalformedResponseError(EmbeddingApiError):
    """The server answered 200 with something that is not the vectors asked for."""


@dataclass(frozen=True)
class EmbeddingResponse:
    """The vectors of one request (input order, L2-normalised), what it cost and took."""

    vectors: np.ndarray
    attempts: int
    reported_tokens: int | None  # the provider's usage.prompt_tokens, when it sends one


def redact(message: str, secret: str | None) -> str:
    """`message` without `secret` (the API key), in case a server or library echoes it."""
    return message.replace(secret, "***") if secret else message


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent
    or unreadable. Capped at RETRY_AFTER_CAP_SECONDS, never negative."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def backoff_seconds(retry: int, base: float, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff for the `retry`-th retry (0-based), with jitter in [0.5, 1] of it."""
    return min(BACKOFF_CAP_SECONDS, base * 2.0**retry) * (0.5 + 0.5 * rng())


def provider_message(body: bytes | str, limit: int = MESSAGE_LIMIT) -> str:
    """The error message of an OpenAI-style error body ({"error": {"message": ...}}), else the
    start of the body."""
    import json

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
        elif isinstance(data.get("message"), str):
            text = data["message"]
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


def parse_embeddings(payload: Any, count: int, dimension: int | None) -> tuple[np.ndarray, int | None]:
    """The L2-normalised vectors of a response body for `count` inputs, in input order, and the
    reported prompt tokens. Raises MalformedResponseError for anything but exactly that."""

    def bad(reason: str) -> MalformedResponseError:
        return MalformedResponseError(f"malformed embeddings response: {reason}; no vector of it was kept", attempts=1)

    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise bad("no `data` list")
    data = payload["data"]
    if len(data) != count:
        raise bad(f"{len(data)} vectors for {count} inputs")
    vectors: list[np.ndarray | None] = [None] * count
    for item in data:
        index = item.get("index") if isinstance(item, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            raise bad(f"index {index!r} is not an integer from 0 to {count - 1}")
        if vectors[index] is not None:
            raise bad(f"index {index} appears twice")
        vectors[index] = _vector(item.get("embedding"), index, dimension, bad)
        dimension = len(vectors[index])  # type: ignore[arg-type]
    matrix = np.stack([v for v in vectors if v is not None]).astype(np.float32)
    return matrix, _prompt_tokens(payload.get("usage"))


def _vector(value: Any, index: int, dimension: int | None, bad: Callable[[str], MalformedResponseError]) -> np.ndarray:
    if not isinstance(value, list) or not value or not all(isinstance(x, int | float) for x in value):
        raise bad(f"vector {index} is not a list of numbers")
    vector = np.asarray(value, dtype=np.float64)
    if dimension is not None and len(vector) != dimension:
        raise bad(f"vector {index} has {len(vector)} dimensions, expected {dimension}")
    if not np.all(np.isfinite(vector)):
        raise bad(f"vector {index} has a non-finite value")
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        raise bad(f"vector {index} is all zeros")
    return vector / norm


def _prompt_tokens(usage: Any) -> int | None:
    if isinstance(usage, dict):
        for key in ("prompt_tokens", "total_tokens"):
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
    return None


class EmbeddingClient:
    """Sends embedding requests for `settings` (thread-safe: one httpx client, shared)."""

    def __init__(self, settings: ApiSettings, sleep: Callable[[float], None] = time.sleep):
        import httpx

        self.settings = settings
        self._key = os.environ.get(settings.key_env) or None
        self._sleep = sleep
        self._dimension = settings.dimension
        self._lock = threading.Lock()
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(settings.timeout_seconds))

    @property
    def dimension(self) -> int | None:
        return self._dimension

    def close(self) -> None:
        self._http.close()

    def embed(self, texts: Sequence[str]) -> EmbeddingResponse:
        """The vectors of `texts` (one request, retried); raises EmbeddingApiError when it fails."""
        import httpx

        body: dict[str, Any] = {"model": self.settings.model, "input": list(texts), "encoding_format": "float"}
        if self.settings.dimensions is not None:
            body["dimensions"] = self.settings.dimensions
        attempts, last = 0, "no attempt"
        while True:
            attempts += 1
            wait: float | None = None
            status: int | None = None
            try:
                response = self._http.post(self.settings.endpoint, json=body)
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {redact(str(error), self._key) or 'connection failed'}"
            else:
                status = response.status_code
                if status == 200:
                    return self._accept(response, len(texts), attempts)
                last = f"HTTP {status}: {redact(provider_message(response.content), self._key)}"
                if status not in RETRY_STATUSES and status < 500:
                    message = self._failure(last, attempts, status, retryable=False)
                    raise EmbeddingApiError(message, attempts=attempts, status=status)
                wait = retry_after_seconds(response.headers.get("retry-after"))
            if attempts > self.settings.max_retries:
                message = self._failure(last, attempts, status, retryable=True)
                raise EmbeddingApiError(message, attempts=attempts, status=status)
            self._sleep(wait if wait is not None else backoff_seconds(attempts - 1, self.settings.backoff_seconds))

    def _accept(self, response: Any, count: int, attempts: int) -> EmbeddingResponse:
        try:
            payload = response.json()
        except ValueError:
            raise MalformedResponseError(
                "malformed embeddings response: the body is not JSON; no vector of it was kept", attempts=attempts
            ) from None
        try:
            vectors, tokens = parse_embeddings(payload, count, self._dimension)
        except MalformedResponseError as error:
            raise MalformedResponseError(str(error), attempts=attempts, status=200) from None
        with self._lock:
            if self._dimension is None:
                self._dimension = int(vectors.shape[1])
        return EmbeddingResponse(vectors, attempts, tokens)

    def _failure(self, last: str, attempts: int, status: int | None, *, retryable: bool) -> str:
        what = f"after {attempts} attempts" if retryable else "(not retried)"
        hint = f"; is env {self.settings.key_env} set to a valid key?" if status == 401 else ""
        return (
            f"embedding request to {self.settings.endpoint} (model {self.settings.model}) failed {what}: {last}{hint}"
        )
