"""Embedding of chunk texts with sentence-transformers, loaded offline from a local folder.

The `embeddings` Python model streams the texts that still need a vector through
`embedding_batches`, which yields Arrow record batches that DuckDB writes as they come, so memory
stays bounded by one batch whatever the corpus size. The same loaded model embeds search queries.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np
import pyarrow as pa

from .tokens import DEFAULT_MODEL_ID, resolve_model_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BACKENDS = ("torch",)
DEFAULT_BATCH_SIZE = 64
# Texts read from DuckDB per step. encode() sorts each step's texts by length before cutting them
# into batches, so a larger step gives better length bucketing (less padding).
READ_STEP = 1024

logger = logging.getLogger("docvec.embedding")


def effective_model_id(model_id: str, backend: str) -> str:
    """The `model_id` stored with vectors: vectors from different backends never mix."""
    check_backend(backend)
    return model_id if backend == "torch" else f"{model_id}@{backend}"


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding_backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def load_model(model_path: str | None = None, backend: str = "torch"):
    """Load (once per process) the sentence-transformers model from a local folder."""
    return _load_model(model_path or None, backend)


@lru_cache(maxsize=2)
def _load_model(model_path: str | None, backend: str):
    check_backend(backend)
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    path = resolve_model_path(model_path)
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embedding_dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def embed_texts(model, texts: list[str], batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    if not texts:
        return np.zeros((0, embedding_dimension(model)), dtype=np.float32)
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


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
        return (
            f"embeddings: {self.done:,}/{self.total:,} texts ({pct:.0f}%), "
            f"{rate:,.1f} texts/s, ETA {left:,.0f}s"
        )


def embedding_batches(
    batches: Iterable[pa.RecordBatch],
    model,
    *,
    model_id: str,
    total: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    invocation_id: str | None = None,
    log: Callable[[str], None] = logger.info,
) -> Iterator[pa.RecordBatch]:
    """Embed record batches of (`text_sha256`, `chunk_text`) into output record batches."""
    dimension = embedding_dimension(model)
    schema = output_schema(dimension)
    progress = Progress(total, log)
    log(f"embeddings: {total:,} texts to embed with {model_id} ({dimension}-d, batch size {batch_size})")
    for batch in batches:
        if batch.num_rows == 0:
            continue
        keys = batch.column("text_sha256")
        vectors = embed_texts(model, batch.column("chunk_text").to_pylist(), batch_size)
        n = len(vectors)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        yield pa.RecordBatch.from_arrays(
            [
                keys.cast(pa.string()),
                pa.array([model_id] * n, pa.string()),
                pa.FixedSizeListArray.from_arrays(flat, dimension),
                pa.array(np.full(n, dimension, dtype=np.int32)),
                pa.array([datetime.now(timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
                pa.array([invocation_id] * n, pa.string()),
            ],
            schema=schema,
        )
        progress.advance(n)


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


__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL_ID",
    "effective_model_id",
    "embed_texts",
    "embedding_batches",
    "load_model",
]
