"""The MCP server: tools `search`, `fetch_document` and `fetch_chunk` over the same Retrieval as
the HTTP API, on streamable HTTP (`/mcp` of `docvec serve`) or on stdio (`docvec mcp`).

Who is asking never comes from the tool call. Over HTTP, docvec.service.guard authenticates every
request to /mcp before the SDK sees it and puts the Principal in the request's ASGI state; the
SDK hands each tool call the Starlette Request that carried it (`ctx.request_context.request`),
and the tool searches with that request's principal's groups. The transport is stateless with
JSON responses, so every POST is self-contained: no MCP session outlives the request it was
authenticated on, and two callers never share one (GET and DELETE, for streams and sessions
there are none of, are 405). A call that reaches a tool without a
principal is refused (fail closed), never run with default groups. Over stdio the principal is
the one `docvec mcp` authenticated at start. No tool has a groups argument, and a call naming
one is refused, as the HTTP API refuses it with a 403.

The arguments are bounded by docvec.service.limits through their JSON schema (which the agent
sees and the SDK enforces before the tool runs); a request that cannot be meant, nothing to
read or nothing published is an error result (`isError`) with the reason, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import duckdb
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from starlette.applications import Starlette
from starlette.routing import Route

from docvec.service import limits
from docvec.service.auth import Principal
from docvec.service.publication import LivePublication, NotReady
from docvec.service.retrieval import NotFound, QueryEmbedder, Retrieval, SearchRequest
from docvec.service.schemas import ChunkResponse, DocumentResponse, Mode, SearchResponse

LOG = logging.getLogger("docvec.service.mcp")
SERVER_NAME = "docvec"
MCP_PATH = "/mcp"
# DNS-rebinding protection of the SDK (Host and Origin checked on every request): the loopback
# names `docvec serve` listens on by default. A service reached under another name needs it listed.
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
NOT_AUTHENTICATED = "not authenticated: this MCP endpoint needs the caller's credentials (API key or JWT)"
GROUPS_REFUSED = "access groups cannot be sent: they come from your credentials, on the server"
STORE_FAILED = "the search failed in the serving store; the error is in the service's log"
INSTRUCTIONS = (
    "Search a docvec document collection and read what it finds. Start with `search`; read more of "
    "a hit with `fetch_chunk` (neighbouring chunks) or `fetch_document` (the whole document). Every "
    "answer is limited to what your credentials may read: a document you may not read is 'not found'."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)

PrincipalOf = Callable[[Context], Principal]

_Bounded = Annotated[str, Field(min_length=1, max_length=limits.MAX_FILTER_CHARS)]
_MetadataValue = Annotated[str, Field(max_length=limits.MAX_FILTER_CHARS)]
QueryArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.MAX_QUERY_CHARS,
        description="what to look for, in plain words (a question or keywords)",
    ),
]
KArg = Annotated[
    int, Field(ge=1, le=limits.MAX_K, strict=True, description=f"how many chunks to return (1 to {limits.MAX_K})")
]
ModeArg = Annotated[
    Mode,
    Field(description="hybrid (default: meaning and words), vector (meaning only) or keyword (BM25 words only)"),
]
StrategyArg = Annotated[_Bounded | None, Field(description="chunking strategy, when several are published")]
ModelArg = Annotated[_Bounded | None, Field(description="embedding model, when several are published")]
PathPrefixArg = Annotated[_Bounded | None, Field(description="only documents whose source path starts with this")]
FileTypeArg = Annotated[_Bounded | None, Field(description="only documents of this file type, e.g. md or pdf")]
MetadataArg = Annotated[
    dict[_Bounded, _MetadataValue] | None,
    Field(
        max_length=limits.MAX_METADATA_FILTERS,
        description="only documents whose metadata has all these key: value pairs",
    ),
]
DocumentIdArg = Annotated[str, Field(description="a document_id from a search result (32 hex characters)")]
ChunkIdArg = Annotated[str, Field(description="a chunk_id from a search result (32 hex characters)")]
NeighboursArg = Annotated[
    int,
    Field(
        ge=0,
        le=limits.MAX_NEIGHBOURS,
        strict=True,
        description=f"chunks to add before and after it in its document (0 to {limits.MAX_NEIGHBOURS})",
    ),
]


def principal_of_request(ctx: Context) -> Principal:
    """The principal docvec.service.guard authenticated the HTTP request of this tool call on;
    a ToolError when there is none (fail closed: no principal, no search)."""
    try:
        request = ctx.request_context.request
    except ValueError:  # the SDK's "no request context"
        request = None
    principal = getattr(getattr(request, "state", None), "principal", None)
    if not isinstance(principal, Principal):
        LOG.error("an MCP tool call reached the server without an authenticated principal: refused")
        raise ToolError(NOT_AUTHENTICATED)
    return principal


def fixed_principal(principal: Principal) -> PrincipalOf:
    """The principal of every call of a stdio server (authenticated once, at start)."""
    return lambda ctx: principal


def _answer(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a Retrieval call, its expected failures as ToolErrors (an isError result with the reason,
    led by the HTTP API's error code in words: "not found: ...", "not ready: ...", "bad request: ...")."""
    try:
        return work()
    except NotFound as error:
        raise ToolError(f"not found: {error}") from error
    except NotReady as error:
        raise ToolError(f"not ready: {error}") from error
    except ValueError as error:  # BadRequest included
        raise ToolError(f"bad request: {error}") from error
    except duckdb.Error as error:
        LOG.error("an MCP tool failed in DuckDB: %s", error)
        raise ToolError(STORE_FAILED) from error


async def _refuse_client_groups(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """A tool call that names access groups is refused (the SDK would silently drop an unknown argument,
    and a caller that believes it chose its groups should learn otherwise)."""
    if ctx.method == "tools/call" and isinstance(ctx.params, Mapping):
        arguments = ctx.params.get("arguments")
        if isinstance(arguments, Mapping) and any(str(name).lower() in limits.GROUP_FIELDS for name in arguments):
            return CallToolResult(content=[TextContent(type="text", text=GROUPS_REFUSED)], is_error=True)
    return await call_next(ctx)


def build_server(retrieval: Retrieval, principal_of: PrincipalOf) -> MCPServer:
    """The MCP tools over `retrieval`, each call with the groups of `principal_of(ctx)`."""
    server: MCPServer = MCPServer(
        SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING", middleware=[_refuse_client_groups]
    )

    @server.tool(annotations=READ_ONLY)
    def search(
        query: QueryArg,
        ctx: Context,
        k: KArg = 10,
        mode: ModeArg = "hybrid",
        strategy: StrategyArg = None,
        model: ModelArg = None,
        path_prefix: PathPrefixArg = None,
        file_type: FileTypeArg = None,
        metadata: MetadataArg = None,
    ) -> SearchResponse:
        """Search the document collection for chunks relevant to `query`, best first.

        Returns {query, mode, strategy, model, publication, took_ms, results}; each result has its rank,
        score, chunk_id, document_id, source_path, title, section, character offsets and chunk_text. Only
        chunks your credentials may read are searched: an empty list means nothing you may read matched.
        Pass a result's document_id to fetch_document or its chunk_id to fetch_chunk for more context.
        """
        groups = principal_of(ctx).groups
        request = SearchRequest(
            query=query,
            k=k,
            mode=mode,
            strategy=strategy,
            model=model,
            path_prefix=path_prefix,
            file_type=file_type,
            metadata=tuple(sorted((metadata or {}).items())),
        )
        return SearchResponse.model_validate(_answer(lambda: retrieval.search(groups, request)))

    @server.tool(annotations=READ_ONLY)
    def fetch_document(document_id: DocumentIdArg, ctx: Context) -> DocumentResponse:
        """Read a whole document: its title, source_path, file_type, metadata and its chunks in order
        (chunk_index, chunk_text, section, offsets; at most 1,000, `truncated` says if there were more).

        Only documents your credentials may read: any other id, or one that does not exist, is "not found".
        """
        groups = principal_of(ctx).groups
        return DocumentResponse.model_validate(_answer(lambda: retrieval.document(groups, document_id)))

    @server.tool(annotations=READ_ONLY)
    def fetch_chunk(chunk_id: ChunkIdArg, ctx: Context, neighbours: NeighboursArg = 0) -> ChunkResponse:
        """Read one chunk with up to `neighbours` chunks before and after it in its document (`before`
        and `after`, in order), to see the context around a search result.

        Only chunks your credentials may read: any other id, or one that does not exist, is "not found".
        """
        groups = principal_of(ctx).groups
        return ChunkResponse.model_validate(_answer(lambda: retrieval.chunk(groups, chunk_id, neighbours)))

    return server


def streamable_http_app(
    retrieval: Retrieval,
    allowed_hosts: Sequence[str] = LOOPBACK_HOSTS,
    allowed_origins: Sequence[str] = LOOPBACK_ORIGINS,
) -> Starlette:
    """The streamable HTTP app of the MCP server: the route /mcp, and a lifespan to enter around serving.

    Stateless with JSON responses (each POST one exchange, with the principal of that request; GET
    and DELETE are 405);
    Host and Origin checked against `allowed_hosts` / `allowed_origins` (DNS-rebinding protection);
    bodies bounded like the API's.
    """
    server = build_server(retrieval, principal_of_request)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=limits.MAX_BODY_BYTES,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(allowed_hosts),
            allowed_origins=list(allowed_origins),
        ),
    )
    _post_only(app)
    return app


def _post_only(app: Starlette) -> None:
    """Serve /mcp to POST only. A stateless server has nothing to send on its own, so the GET
    stream of server messages would stay open idle for as long as the client likes, and there
    is no session to DELETE: both are a 405, the spec's "no stream here" (the SDK's client never
    opens the stream without a session)."""
    routes = app.router.routes
    if len(routes) != 1 or not isinstance(routes[0], Route) or routes[0].path != MCP_PATH:
        raise RuntimeError(f"the MCP SDK's streamable HTTP app no longer has the one route {MCP_PATH}")
    app.router.routes = [Route(MCP_PATH, endpoint=routes[0].endpoint, methods=["POST"])]


def run_stdio(serving_path: str, principal: Principal, model_path: str | None, backend: str | None = None) -> None:
    """`docvec mcp`: the MCP server on stdin/stdout with `principal`'s groups, until stdin closes."""
    publication = LivePublication(serving_path)
    retrieval = Retrieval(publication, QueryEmbedder(model_path, backend))
    server = build_server(retrieval, fixed_principal(principal))
    try:
        server.run("stdio")
    finally:
        publication.close()
