"""The HTTP API's request and response bodies (pydantic): what /docs and /openapi.json show, and
the first line of the bounds in `limits` (a field beyond them is a 422 before any work)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from docvec.service import limits

Mode = Literal["vector", "keyword", "hybrid"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchFiltersBody(_Strict):
    """Optional filters, applied with the caller's access groups before the ranking."""

    path_prefix: str | None = Field(default=None, min_length=1, max_length=limits.MAX_FILTER_CHARS)
    file_type: str | None = Field(default=None, min_length=1, max_length=limits.MAX_FILTER_CHARS)
    metadata: dict[str, str] = Field(
        default_factory=dict,
        max_length=limits.MAX_METADATA_FILTERS,
        description="metadata key -> value, all of which a chunk's document must have",
    )


class SearchBody(_Strict):
    """A search. There is no groups field: the caller's access groups come from its credentials."""

    query: str = Field(min_length=1, max_length=limits.MAX_QUERY_CHARS)
    k: int = Field(default=10, ge=1, le=limits.MAX_K)
    mode: Mode = "hybrid"
    strategy: str | None = Field(default=None, min_length=1, max_length=limits.MAX_FILTER_CHARS)
    model: str | None = Field(default=None, min_length=1, max_length=limits.MAX_FILTER_CHARS)
    filters: SearchFiltersBody = Field(default_factory=SearchFiltersBody)


class PublicationInfo(BaseModel):
    version: int
    published_at: str
    age_seconds: float


class SearchHit(BaseModel):
    rank: int
    chunk_id: str
    score: float
    source_path: str
    title: str | None
    section: str | None
    start_char: int
    end_char: int
    chunk_text: str
    document_id: str


class SearchResponse(BaseModel):
    query: str
    mode: Mode
    strategy: str | None
    model: str | None
    publication: PublicationInfo
    took_ms: float
    results: list[SearchHit]


class ChunkBody(BaseModel):
    chunk_id: str
    strategy_id: str
    model_id: str
    chunk_index: int
    chunk_text: str
    section: str | None
    start_char: int
    end_char: int
    n_tokens: int | None


class ChunkResponse(ChunkBody):
    document_id: str
    source_path: str
    title: str | None
    file_type: str | None
    metadata: Any = None
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    publication: PublicationInfo


class DocumentResponse(BaseModel):
    document_id: str
    title: str | None
    source_path: str
    file_type: str | None
    metadata: Any = None
    chunk_count: int
    truncated: bool
    chunks: list[ChunkBody]
    publication: PublicationInfo


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class WhoAmI(BaseModel):
    principal: str
    method: str
    groups: list[str]
