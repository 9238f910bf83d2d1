"""The HTTP API (FastAPI): search, documents, chunks, health, readiness, metrics, the OpenAPI
schema and the search page, over the live publication (docvec.service.publication).

Every failure is a JSON error `{"error": {"status", "code", "message"}}` with its status: 400 a
request that cannot be meant, 401 no or bad credentials, 403 a client naming its own groups, 404
nothing the caller may read, 413 a body over the bound, 422 a body of the wrong shape, 503 nothing
published; a bug is a 500 with no stack trace (it is logged on the server).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from docvec.service import limits
from docvec.service.auth import Authenticator, Principal
from docvec.service.guard import Guard, error_body
from docvec.service.metrics import CONTENT_TYPE, ServiceMetrics
from docvec.service.publication import LivePublication, NotReady
from docvec.service.retrieval import BadRequest, NotFound, QueryEmbedder, Retrieval, SearchRequest, publication_info
from docvec.service.schemas import (
    ChunkResponse,
    DocumentResponse,
    ErrorResponse,
    SearchBody,
    SearchResponse,
    WhoAmI,
)

LOG = logging.getLogger("docvec.service")
STATIC_DIR = Path(__file__).with_name("static")
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 413, 422, 503)
}
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    422: "invalid_request",
    503: "not_ready",
}


@dataclass
class ServiceSettings:
    """What `docvec serve` runs with."""

    serving_path: str
    authenticator: Authenticator
    model_path: str | None = None
    # The query embedding backend; None: that of the vectors searched (docvec.searching.query_backend).
    backend: str | None = None
    warm_up: bool = True
    page: bool = True
    mcp: bool = True
    # Extra Host names the MCP endpoint accepts besides loopback (DNS-rebinding protection), e.g.
    # "search.internal:8000" when the service is reached by that name.
    mcp_hosts: tuple[str, ...] = ()
    # DuckDB worker threads per query (0: DuckDB's default, every core). 1 by default: on a small
    # machine one request's query then leaves the other cores to concurrent requests, which is
    # what a service needs (bench.service_bench: 4 hybrid clients / 1 went from 1.3x to 1.7x on 2 cores).
    duckdb_threads: int = 1
    extra_routes: list[Callable[[FastAPI], None]] = field(default_factory=list)


def _json_error(
    status: int,
    message: str,
    code: str | None = None,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(status, code or _CODES.get(status, "error"), message, details),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _validation_error(error: RequestValidationError) -> Response:
    """422 with where and what (never the rejected input, which may be a megabyte of query);
    400 for a body that is not JSON; 403 for a body that names access groups."""
    details = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        if item.get("type") == "extra_forbidden" and location and location[-1].lower() in limits.GROUP_FIELDS:
            return _json_error(
                403,
                "access groups cannot be sent: they come from your credentials, on the server",
                "groups_not_allowed",
            )
        if item.get("type") == "json_invalid":
            return _json_error(400, "the request body is not valid JSON", "invalid_json")
        details.append({"loc": location, "type": item.get("type"), "msg": item.get("msg")})
    return _json_error(422, "the request does not match the API's schema (see /openapi.json)", details=details)


def create_app(settings: ServiceSettings) -> FastAPI:
    """The ASGI application of `docvec serve`."""
    publication = LivePublication(settings.serving_path, settings.duckdb_threads or None)
    embedder = QueryEmbedder(settings.model_path, settings.backend)
    retrieval = Retrieval(publication, embedder)
    metrics = ServiceMetrics()
    mcp_app = None
    if settings.mcp:
        from docvec.service.mcp_server import LOOPBACK_HOSTS, LOOPBACK_ORIGINS, streamable_http_app

        origins = tuple(f"{scheme}://{host}" for host in settings.mcp_hosts for scheme in ("http", "https"))
        mcp_app = streamable_http_app(retrieval, (*LOOPBACK_HOSTS, *settings.mcp_hosts), (*LOOPBACK_ORIGINS, *origins))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = publication.refresh()
        if settings.warm_up:
            embedder.warm_up(loaded.models if loaded is not None else ())
        if mcp_app is not None:
            async with mcp_app.router.lifespan_context(mcp_app):
                yield
        else:
            yield
        publication.close()

    app = FastAPI(
        title="docvec retrieval service",
        version="1",
        description="Search the published chunks of a docvec project with the caller's access groups.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.retrieval = retrieval
    app.state.metrics = metrics

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return _json_error(error.status_code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        return _validation_error(error)

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, error: BadRequest) -> Response:
        return _json_error(400, str(error))

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, error: ValueError) -> Response:
        return _json_error(400, str(error))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> Response:
        return _json_error(404, str(error))

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, error: NotReady) -> Response:
        return _json_error(503, str(error))

    @app.exception_handler(duckdb.Error)
    async def database_error(request: Request, error: duckdb.Error) -> Response:
        LOG.error("search failed in DuckDB: %s", error)
        return _json_error(
            500, "the search failed in the serving store; the error is in the service's log", "internal_error"
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> Response:
        LOG.exception("unhandled error")
        return _json_error(500, "internal error; it is in the service's log", "internal_error")

    def principal_of(request: Request, endpoint: str, mode: str | None = None) -> Principal:
        request.state.endpoint = endpoint
        if mode is not None:
            request.state.mode = mode
        principal: Principal = request.state.principal
        return principal

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is up (says nothing about the publication: see /readyz)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"model": ErrorResponse}})
    def readyz() -> Response:
        """Ready when a publication is loaded: its version, age, rows, strategies and models."""
        loaded = publication.current()
        if loaded is None:
            return _json_error(503, f"nothing is published at {settings.serving_path!r} yet", "not_ready")
        with publication.lease() as (_, conn):
            threads = conn.execute("select current_setting('threads')").fetchone()
        return JSONResponse(
            {
                "ready": True,
                **publication_info(loaded),
                "duckdb_threads": int(threads[0]) if threads else None,
                "rows": loaded.row_count,
                "strategies": list(loaded.strategies),
                "models": list(loaded.models),
                "reloads": publication.reloads,
            }
        )

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def prometheus_metrics() -> Response:
        """Prometheus text format: requests, errors, latency per endpoint and mode; the publication."""
        return Response(metrics.render(publication.current(), publication.reloads), media_type=CONTENT_TYPE)

    @app.post("/v1/search", response_model=SearchResponse, tags=["search"])
    def search_chunks(body: SearchBody, request: Request) -> dict[str, Any]:
        """The top `k` chunks for `query` that the caller's access groups may read."""
        principal = principal_of(request, "/v1/search", body.mode)
        search_request = SearchRequest(
            query=body.query,
            k=body.k,
            mode=body.mode,
            strategy=body.strategy,
            model=body.model,
            path_prefix=body.filters.path_prefix,
            file_type=body.filters.file_type,
            metadata=tuple(sorted(body.filters.metadata.items())),
        )
        return retrieval.search(principal.groups, search_request)

    @app.get("/v1/documents/{document_id}", response_model=DocumentResponse, tags=["fetch"])
    def get_document(document_id: str, request: Request) -> dict[str, Any]:
        """A document the caller may read, with its chunks in order."""
        return retrieval.document(principal_of(request, "/v1/documents").groups, document_id)

    @app.get("/v1/chunks/{chunk_id}", response_model=ChunkResponse, tags=["fetch"])
    def get_chunk(
        chunk_id: str,
        request: Request,
        neighbours: int = Query(default=0, ge=0, le=limits.MAX_NEIGHBOURS, description="chunks before and after"),
    ) -> dict[str, Any]:
        """A chunk the caller may read, with up to `neighbours` chunks on each side (context expansion)."""
        return retrieval.chunk(principal_of(request, "/v1/chunks").groups, chunk_id, neighbours)

    @app.get("/v1/whoami", response_model=WhoAmI, tags=["search"])
    def whoami(request: Request) -> dict[str, Any]:
        """Who the credentials say the caller is, and the access groups the server gives them."""
        principal = principal_of(request, "/v1/whoami")
        return {"principal": principal.name, "method": principal.method, "groups": list(principal.groups)}

    if settings.page and STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(STATIC_DIR / "index.html")

    if mcp_app is not None:
        app.router.routes.extend(mcp_app.routes)  # POST/GET/DELETE /mcp: streamable HTTP
    for add in settings.extra_routes:
        add(app)
    app.add_middleware(Guard, authenticator=settings.authenticator, metrics=metrics)
    return app
