"""What every publish target implements (LanceDB, PostgreSQL/pgvector, ...).

A target receives the whole candidate (an Arrow table with rows.SERVING_COLUMNS, `metadata` as
JSON text, `embedding` as a fixed-size list of float32) and its checksums, and syncs
incrementally by chunk_id: only new rows are inserted, only rows whose checksum changed are
updated, rows absent from the candidate are deleted, all in one transaction (or one version).
It records which publication it holds (`PublicationStamp`) in the same transaction where it can.

Searching a target: `vector_ranking` and `keyword_ranking` return ranked rows for the caller's
`SearchFilters`, applied before the top-k cut (a chunk the caller may not read can neither be
returned nor push a readable chunk out); `docvec.publishing.target_search` fuses them for hybrid.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyarrow as pa

from docvec.searching import SearchFilters, SearchResult


@dataclass(frozen=True)
class PublicationStamp:
    """Which publication a store holds: its id, its version number and when it was published."""

    publish_id: str
    version: int
    published_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class SyncCounts:
    """Rows a sync wrote: inserted (new chunk ids), updated (checksum changed), deleted."""

    inserted: int
    updated: int
    deleted: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted


class TargetError(RuntimeError):
    """A target cannot be reached or written; the message says which target and why, never a secret."""


class PublishTarget(ABC):
    """One external serving store named in var `publish_targets`."""

    kind: ClassVar[str]  # the `type` of its publish_targets entry

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.options = dict(options)
        # Diff a sync against checksums recomputed from the stored data instead of the stored
        # row_checksum column: slower (reads every vector) but also rewrites rows changed behind
        # the publisher's back. The publisher turns it on to repair drift its parity check found.
        self.recompute_checksums = bool(self.options.get("recompute_checksums", False))

    @abstractmethod
    def sync(self, candidate: pa.Table, checksums: Mapping[str, str], stamp: PublicationStamp) -> SyncCounts:
        """Make the target hold exactly `candidate` (incrementally, atomically) and `stamp`."""

    @abstractmethod
    def stored_checksums(self) -> dict[str, str]:
        """chunk_id -> rows.row_checksum recomputed from the stored text_sha256, model_id,
        access_groups and vector (an empty dict for a target never published to)."""

    @abstractmethod
    def stamp(self) -> PublicationStamp | None:
        """The publication the target holds, or None when it was never published to."""

    @abstractmethod
    def vector_ranking(
        self, vector: Sequence[float], filters: SearchFilters, limit: int, *, exact: bool = False
    ) -> list[SearchResult]:
        """The `limit` permitted chunks most similar (cosine) to `vector`, best first; score = cosine similarity."""

    @abstractmethod
    def keyword_ranking(self, query: str, filters: SearchFilters, limit: int) -> list[SearchResult]:
        """The `limit` permitted chunks with the best full-text score for `query`; non-matching chunks left out."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""
