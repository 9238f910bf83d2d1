"""Streaming embedding: chunk texts in, L2-normalised vectors out, in token-budgeted batches.

The `embeddings` Python model streams the texts that still need a vector through
`embedding_batches`, which yields Arrow record batches that DuckDB writes as they come, so memory
stays bounded by one batch whatever the corpus size. `embed_texts` also embeds search queries.
Progress goes to dbt's log (`dbt_logger`) with the dbt invocation id stored on every row. Between
two forward passes the stream asks whether to stop (SIGINT/SIGTERM, python_udfs.interrupts); if
so it ends with the vectors already computed, so a stop waits for one forward pass, not a batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from .backends import logger

DEFAULT_BATCH_SIZE = 64
# Most word pieces one forward pass may hold (texts x longest text): bounds the activations'
# memory, which grows with batch x length (measured: 64 texts of ~250 pieces add ~0.66 GB,
# 16 add ~0.30 GB, at about the same texts/s). Short texts still fill whole batches.
DEFAULT_MAX_BATCH_TOKENS = 4096
# Texts read from DuckDB per step. encode() sorts each step's texts by length before cutting them
# into batches, so a larger step gives better length bucketing (less padding).
READ_STEP = 1024


def embedding_dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def token_lengths(model, texts: list[str]) -> np.ndarray | None:
    """Word pieces the model sees per text (truncated at its max_seq_length); None if unknown."""
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None or not callable(tokenizer):
        return None
    limit = int(getattr(model, "max_seq_length", 0) or 0) or None
    try:
        ids = tokenizer(
            [t.strip() for t in texts],  # sentence-transformers strips before tokenizing
            add_special_tokens=True,
            truncation=limit is not None,
            max_length=limit,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
    except Exception:  # pragma: no cover - an exotic tokenizer: fall back to encode()'s own order
        return None
    return np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(texts))


def embed_queries(model, queries: list[str]) -> np.ndarray:
    """L2-normalised float32 vectors of `queries`, each embedded alone: exactly the vector that
    `docvec search` and the `docvec_embed_query` UDF compute for it. Dynamically quantized
    backends (onnx-int8) scale activations per batch, so a text's vector depends on the texts it
    is batched with; evaluation must rank with the query-time vector to measure what is served."""
    vectors = np.empty((len(queries), embedding_dimension(model)), dtype=np.float32)
    for row, query in enumerate(queries):
        vectors[row] = embed_texts(model, [query])[0]
    return vectors


def embed_texts(
    model,
    texts: list[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text.

    Batches are cut from the texts sorted by their token count, so each batch is padded to
    little more than its own length. (encode() sorts by character length, which is a poor proxy
    for code and mixed-language text: 12% of the positions it computes on docvec chunks are
    padding, against 2% here.) A batch holds at most `batch_size` texts and, when
    `max_batch_tokens` is set, at most that many word pieces (texts x its longest text, at least
    one text), so that long texts go in smaller batches and memory stays bounded.
    """
    vectors = np.empty((len(texts), embedding_dimension(model)), dtype=np.float32)
    for rows, batch in forward_passes(model, texts, batch_size, max_batch_tokens):
        vectors[rows] = batch
    return vectors


def forward_passes(
    model,
    texts: list[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The forward passes of `embed_texts`, one at a time and only when asked for: (positions in
    `texts`, their vectors), so a caller can stop between two passes."""
    if not texts:
        return
    lengths = token_lengths(model, texts) if len(texts) > 1 else None
    if lengths is None:
        yield np.arange(len(texts)), _encode(model, texts, batch_size)
        return
    order = np.argsort(-lengths, kind="stable")  # longest first, like encode()
    for rows in _batches(lengths[order], order, batch_size, max_batch_tokens):
        yield rows, _encode(model, [texts[i] for i in rows], batch_size)


def _batches(
    sorted_lengths: np.ndarray, order: np.ndarray, batch_size: int, max_batch_tokens: int | None
) -> Iterator[np.ndarray]:
    """Cut `order` (texts by decreasing token count) into batches within both limits."""
    if batch_size < 1 or (max_batch_tokens is not None and max_batch_tokens < 1):
        raise ValueError(f"batch_size and max_batch_tokens must be >= 1, got {batch_size}, {max_batch_tokens}")
    start = 0
    while start < len(order):
        size = batch_size
        if max_batch_tokens is not None:  # the first text of a batch is its longest
            size = max(1, min(batch_size, max_batch_tokens // max(int(sorted_lengths[start]), 1)))
        yield order[start : start + size]
        start += size


def _encode(model, texts: list[str], batch_size: int) -> np.ndarray:
    return model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def output_schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [
            ("text_sha256", pa.string()),
            ("model_id", pa.string()),
            ("embedding", pa.list_(pa.float32(), dimension)),
            ("dimension", pa.int32()),
            ("embedded_at", pa.timestamp("us", tz="UTC")),
            ("invocation_id", pa.string()),
        ]
    )


class Progress:
    """Logs done/total, texts per second and the time left, at most every `every` seconds."""

    def __init__(self, total: int, log: Callable[[str], None], every: float = 10.0):
        self.total, self.log, self.every = total, log, every
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            self.log(self.message(now))

    def message(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return f"embeddings: {self.done:,}/{self.total:,} texts ({pct:.0f}%), {rate:,.1f} texts/s, ETA {left:,.0f}s"


def embedding_batches(
    batches: Iterable[pa.RecordBatch],
    model,
    *,
    model_id: str,
    total: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
    invocation_id: str | None = None,
    log: Callable[[str], None] = logger.info,
    stop_reason: Callable[[], str | None] = lambda: None,
) -> Iterator[pa.RecordBatch]:
    """Embed record batches of (`text_sha256`, `chunk_text`) into output record batches, one per
    input batch.

    `stop_reason` is asked before every forward pass; once it names a reason (a signal), the
    stream yields the vectors of the passes already done and ends, so that a stop costs at most
    one forward pass and keeps what was embedded.

    An API embedder (`load_model(..., "openai")`) goes through python_udfs.embedding.api_streaming
    instead: each response is committed to the embedding journal before its vectors are yielded,
    and a stop waits for the requests in flight."""
    if getattr(model, "backend", None) == "openai":
        from .api_streaming import api_embedding_batches

        yield from api_embedding_batches(
            batches,
            model,
            model_id=model_id,
            total=total,
            invocation_id=invocation_id,
            log=log,
            stop_reason=stop_reason,
        )
        return
    dimension = embedding_dimension(model)
    schema = output_schema(dimension)
    progress = Progress(total, log)
    log(
        f"embeddings: {total:,} texts to embed with {model_id} ({dimension}-d, batch size {batch_size}, "
        f"at most {max_batch_tokens or 'any number of'} word pieces per batch)"
    )
    for batch in batches:
        if batch.num_rows == 0:
            continue
        texts = batch.column("chunk_text").to_pylist()
        rows, vectors = _embed_until_stopped(model, texts, batch_size, max_batch_tokens, stop_reason)
        if len(rows):
            yield vector_batch(
                batch.column("text_sha256").take(pa.array(rows)), vectors, model_id, invocation_id, schema
            )
            progress.advance(len(rows))
        if len(rows) < len(texts):
            left = total - progress.done
            log(
                f"embeddings: stopped by {stop_reason()} after {progress.done:,}/{total:,} texts; their vectors "
                f"are kept, the next build embeds the other {left:,}"
            )
            return


def _embed_until_stopped(
    model, texts: list[str], batch_size: int, max_batch_tokens: int | None, stop_reason: Callable[[], str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, vectors) of `texts`, in input order: all of them, or those of the forward passes
    done before `stop_reason` named a reason."""
    done: list[tuple[np.ndarray, np.ndarray]] = []
    passes = forward_passes(model, texts, batch_size, max_batch_tokens)
    while stop_reason() is None:
        step = next(passes, None)
        if step is None:
            break
        done.append(step)
    if not done:
        return np.zeros(0, dtype=np.int64), np.zeros((0, embedding_dimension(model)), dtype=np.float32)
    rows = np.concatenate([r for r, _ in done])
    vectors = np.concatenate([v for _, v in done]).astype(np.float32, copy=False)
    order = np.argsort(rows, kind="stable")
    return rows[order], vectors[order]


def vector_batch(
    keys: pa.Array, vectors: np.ndarray, model_id: str, invocation_id: str | None, schema: pa.Schema
) -> pa.RecordBatch:
    """The output record batch of `keys` (text hashes) and their `vectors`."""
    n, dimension = vectors.shape
    flat = pa.array(np.ascontiguousarray(vectors).reshape(-1), type=pa.float32())
    return pa.RecordBatch.from_arrays(
        [
            keys.cast(pa.string()),
            pa.repeat(pa.scalar(model_id, pa.string()), n),
            pa.FixedSizeListArray.from_arrays(flat, dimension),
            pa.array(np.full(n, dimension, dtype=np.int32)),
            pa.repeat(pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC")), n),
            pa.repeat(pa.scalar(invocation_id, pa.string()), n),
        ],
        schema=schema,
    )


def current_invocation_id() -> str | None:
    """The id of the running dbt invocation (None outside dbt)."""
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:  # pragma: no cover - outside dbt
        return None
    return get_invocation_id()


def dbt_logger() -> Callable[[str], None]:
    """Log through dbt's event system when running inside dbt (so lines reach dbt's log)."""
    try:
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note
    except ImportError:  # pragma: no cover - outside dbt
        return logger.info

    def log(message: str) -> None:
        fire_event(Note(msg=message))

    return log
