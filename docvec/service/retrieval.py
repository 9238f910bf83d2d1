"""What the service does for a caller, whatever the transport (HTTP or MCP): search, fetch a
document, fetch a chunk with its neighbours, always with the caller's groups from the server's
mapping and always against one leased publication.

Searching is `docvec.search` itself, on the leased publication, with the principal's groups as
its filter: the access rules are exactly those of the CLI and the Python API (the build resolved
`access_mode` and the admin group into each chunk's `access_groups`; a caller reads a chunk when
they share a group). A principal with no group reads nothing: searches return no result and
fetches answer "not found", the same answer as for an id that does not exist, so that the
service is no oracle of what exists. The query model is loaded once per process (and backend: a
query is embedded by the backend of the vectors it is compared with, read from the published
model id); its vectors are computed under a lock (fast tokenizers are not thread-safe) and the
last ones are cached.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from docvec.searching import SearchFilters, check_search_request, embed_query, query_backend, search
from docvec.service import limits
from docvec.service.publication import LivePublication, Loaded
from python_udfs.ranking import DEFAULT_MODE

QUERY_CACHE_SIZE = 1_024
_ID = re.compile(limits.ID_PATTERN)
_CHUNK_COLUMNS = (
    "chunk_id, document_id, strategy_id, model_id, chunk_index, chunk_text, section, start_char, end_char, "
    "n_tokens, source_path, title, file_type, metadata"
)

_CHUNK_NAMES = tuple(name.strip() for name in _CHUNK_COLUMNS.split(","))


class NotFound(LookupError):
    """No such document or chunk that the caller may read."""


class BadRequest(ValueError):
    """A request that cannot be meant (an unknown strategy, an empty query, ...)."""


@dataclass(frozen=True)
class SearchRequest:
    """A search, as the transports hand it over after validating its shape."""

    query: str
    k: int = 10
    mode: str = DEFAULT_MODE
    strategy: str | None = None
    model: str | None = None
    path_prefix: str | None = None
    file_type: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()


class QueryEmbedder:
    """The query model's vectors: one model per process and backend, one encode at a time, recent
    ones cached. `backend` None (the default) embeds each query by the backend of the vectors it is
    compared with (docvec.searching.query_backend of the model id searched); a backend given
    must be theirs."""

    def __init__(
        self, model_path: str | None = None, backend: str | None = None, cache_size: int = QUERY_CACHE_SIZE
    ) -> None:
        self.model_path = model_path
        self.backend = backend
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._cache_size = cache_size

    def warm_up(self, model_ids: Sequence[str] = ()) -> None:
        """Load now (at start), not on the first request, the model of each backend that `model_ids`
        (the published models) need; ValueError when an explicit backend contradicts one."""
        wanted: Sequence[str | None] = model_ids or [None]
        for model_id in wanted:
            self.embed("warm up", model_id)

    def embed(self, query: str, model_id: str | None = None) -> list[float]:
        """The vector of `query` to compare with the vectors of `model_id`."""
        backend = query_backend(model_id, self.backend)
        key = (backend, query)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
            vector = embed_query(query, self.model_path, backend)
            self._cache[key] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return vector


class Retrieval:
    """Search and fetch over the live publication for authenticated principals."""

    def __init__(self, publication: LivePublication, embedder: QueryEmbedder) -> None:
        self.publication = publication
        self.embedder = embedder

    # -- search ---------------------------------------------------------------------------------

    def search(self, groups: Sequence[str], request: SearchRequest) -> dict[str, Any]:
        """The ranked chunks `groups` may read, and which publication answered."""
        started = time.perf_counter()
        check_search_request(request.query, None, request.k, request.mode)
        with self.publication.lease() as (loaded, conn):
            filters = self._filters(loaded, groups, request)
            model = filters.model_id or _only(loaded.models)
            results: list[dict[str, Any]] = []
            if groups:
                vector = None if request.mode == "keyword" else self.embedder.embed(request.query, model)
                hits = search(conn, request.query, k=request.k, mode=request.mode, filters=filters, vector=vector)
                results = [{"rank": rank, **hit.as_dict()} for rank, hit in enumerate(hits, start=1)]
            return {
                "query": request.query,
                "mode": request.mode,
                "strategy": filters.strategy_id or _only(loaded.strategies),
                "model": model,
                "publication": publication_info(loaded),
                "took_ms": round((time.perf_counter() - started) * 1000, 2),
                "results": results,
            }

    @staticmethod
    def _filters(loaded: Loaded, groups: Sequence[str], request: SearchRequest) -> SearchFilters:
        for kind, wanted, published in (
            ("strategy", request.strategy, loaded.strategies),
            ("model", request.model, loaded.models),
        ):
            if wanted is not None and wanted not in published:
                raise BadRequest(f"{kind} {wanted!r} is not published; published: {', '.join(published) or 'none'}")
            if wanted is None and len(published) > 1:
                raise BadRequest(f"this publication holds several of them: name the {kind} ({', '.join(published)})")
        return SearchFilters(
            groups=tuple(groups) or ("",),  # never queried when empty; a placeholder keeps the dataclass valid
            path_prefix=request.path_prefix,
            file_type=request.file_type,
            metadata=request.metadata,
            strategy_id=request.strategy,
            model_id=request.model,
        )

    # -- fetch ----------------------------------------------------------------------------------

    def document(self, groups: Sequence[str], document_id: str) -> dict[str, Any]:
        """A document the caller may read: its title, path, type, metadata and its chunks in order
        (of the serving strategy, or of each published strategy)."""
        check_id("document", document_id)
        with self.publication.lease() as (loaded, conn):
            rows = _readable(conn, groups, "document_id = ?", [document_id], limits.MAX_DOCUMENT_CHUNKS + 1)
            if not rows:
                raise NotFound(f"no document {document_id} that you may read")
            chunks = [chunk_dict(row) for row in rows[: limits.MAX_DOCUMENT_CHUNKS]]
            first = chunks[0]
            return {
                "document_id": document_id,
                "title": first["title"],
                "source_path": first["source_path"],
                "file_type": first["file_type"],
                "metadata": first["metadata"],
                "chunk_count": len(chunks),
                "truncated": len(rows) > limits.MAX_DOCUMENT_CHUNKS,
                "chunks": [_without_document_fields(c) for c in chunks],
                "publication": publication_info(loaded),
            }

    def chunk(self, groups: Sequence[str], chunk_id: str, neighbours: int = 0) -> dict[str, Any]:
        """A chunk the caller may read and up to `neighbours` chunks before and after it in its
        document (same strategy), for context expansion."""
        check_id("chunk", chunk_id)
        if isinstance(neighbours, bool) or not 0 <= neighbours <= limits.MAX_NEIGHBOURS:
            raise BadRequest(f"neighbours must be an integer from 0 to {limits.MAX_NEIGHBOURS}")
        with self.publication.lease() as (loaded, conn):
            rows = _readable(conn, groups, "chunk_id = ?", [chunk_id], 1)
            if not rows:
                raise NotFound(f"no chunk {chunk_id} that you may read")
            found = chunk_dict(rows[0])
            context = _readable(
                conn,
                groups,
                "document_id = ? and strategy_id = ? and chunk_index between ? and ? and chunk_id <> ?",
                [
                    found["document_id"],
                    found["strategy_id"],
                    found["chunk_index"] - neighbours,
                    found["chunk_index"] + neighbours,
                    chunk_id,
                ],
                2 * neighbours,
            )
            neighbour_chunks = [chunk_dict(row) for row in context]
            return {
                **found,
                "before": [c for c in neighbour_chunks if c["chunk_index"] < found["chunk_index"]],
                "after": [c for c in neighbour_chunks if c["chunk_index"] > found["chunk_index"]],
                "publication": publication_info(loaded),
            }


def check_id(kind: str, value: str) -> None:
    """Raise NotFound for an id that cannot exist (ids are 32 lowercase hex characters), so a
    path or SQL in an id is never looked up, let alone spliced."""
    if not isinstance(value, str) or not _ID.match(value):
        raise NotFound(f"no {kind} with that id: {kind} ids are 32 lowercase hex characters")


def _readable(
    conn: duckdb.DuckDBPyConnection, groups: Sequence[str], where: str, params: list[Any], limit: int
) -> list[tuple]:
    """Rows of search_index matching `where` that `groups` may read, in document order."""
    if not groups or limit <= 0:
        return []
    sql = (
        f"select {_CHUNK_COLUMNS} from search_index "
        f"where list_has_any(access_groups, ?::varchar[]) and {where} "
        "order by strategy_id, chunk_index limit ?"
    )
    return conn.execute(sql, [list(groups), *params, limit]).fetchall()


def chunk_dict(row: tuple) -> dict[str, Any]:
    """A search_index row (the _CHUNK_COLUMNS) as JSON-ready fields."""
    found = dict(zip(_CHUNK_NAMES, row))
    found["metadata"] = _metadata(found["metadata"])
    return found


def _metadata(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _without_document_fields(chunk: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in chunk.items() if k not in ("document_id", "title", "source_path", "file_type", "metadata")}


def _only(values: Sequence[str]) -> str | None:
    return values[0] if len(values) == 1 else None


def publication_info(loaded: Loaded) -> dict[str, Any]:
    """Which publication answered: its version, when it was published and its age."""
    return {
        "version": loaded.version,
        "published_at": loaded.published_at.isoformat(),
        "age_seconds": round(loaded.age_seconds(), 3),
    }
