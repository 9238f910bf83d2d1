"""The serving rows a publication carries, and the per-row checksum that proves a target holds
exactly them ("the vectors that leave match the vectors that arrive").

A row's checksum covers what decides what a search may return and how it ranks: the text's hash,
the model that embedded it, its access groups and the vector's float32 bytes. Each target
recomputes it from the data it stores (never from a stored checksum column), so a changed
vector, a widened access group or a swapped model is caught even when a stale checksum column
says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

SERVING_TABLE = "search_index"
KEY_COLUMN = "chunk_id"
CHECKSUM_COLUMNS = ("text_sha256", "model_id", "access_groups", "embedding")
# Every column of search_index, in its order (what each target stores).
SERVING_COLUMNS = (
    "chunk_id",
    "document_id",
    "strategy_id",
    "model_id",
    "chunk_index",
    "chunk_text",
    "text_sha256",
    "section",
    "start_char",
    "end_char",
    "n_tokens",
    "source_path",
    "title",
    "file_type",
    "metadata",
    "access_groups",
    "embedding",
    "fts_text",
)
_SEPARATOR = b"\x1f"


def row_checksum(
    text_sha256: str | None,
    model_id: str | None,
    access_groups: Iterable[str] | None,
    embedding: Sequence[float] | np.ndarray,
) -> str:
    """sha256 (hex) of one serving row: text hash, model id, sorted access groups, then the
    vector as little-endian float32 bytes."""
    digest = hashlib.sha256()
    for part in (text_sha256 or "", model_id or "", json.dumps(sorted(access_groups or ()), ensure_ascii=False)):
        digest.update(part.encode("utf-8"))
        digest.update(_SEPARATOR)
    digest.update(np.asarray(embedding, dtype="<f4").tobytes())
    return digest.hexdigest()


def table_checksums(table: pa.Table) -> dict[str, str]:
    """chunk_id -> row_checksum for every row of an Arrow table holding KEY_COLUMN and
    CHECKSUM_COLUMNS (embedding as a list or fixed-size list of floats)."""
    ids = table.column(KEY_COLUMN).to_pylist()
    texts = table.column("text_sha256").to_pylist()
    models = table.column("model_id").to_pylist()
    groups = table.column("access_groups").to_pylist()
    vectors = _vectors(table.column("embedding"))
    return {
        chunk_id: row_checksum(text, model, group, vector)
        for chunk_id, text, model, group, vector in zip(ids, texts, models, groups, vectors)
    }


def _vectors(column: pa.ChunkedArray) -> list[np.ndarray]:
    """The rows of a vector column as float32 arrays (fast path for fixed-size lists)."""
    combined = column.combine_chunks()
    if pa.types.is_fixed_size_list(combined.type) and combined.null_count == 0:
        width = combined.type.list_size
        flat = combined.flatten().to_numpy(zero_copy_only=False).astype("<f4", copy=False)
        return list(flat.reshape(-1, width)) if width else [np.zeros(0, "<f4")] * len(combined)
    return [np.asarray(v if v is not None else [], dtype="<f4") for v in combined.to_pylist()]
