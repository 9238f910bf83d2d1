"""The MCP server (docvec.service.mcp_server) through the SDK's real clients: streamable HTTP against
a real `docvec serve` on loopback, stdio against a real `docvec mcp`, over a real publication with
public chunks and an hr-only canary. What is checked is who reads what: every tool call searches
with the groups of the credentials of the request that carried it, never a group the client
names, never a default; plus the limits, the errors and the transport's own guards.

One server and one publication for the module; the server loads its query model while the
publication is written (the two model loads are most of the module's time).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult
from service_support import DOCVEC, Chunk, ServiceProcess, write_auth_config, write_publication

from docvec.service import limits
from docvec.service.auth import METHOD_API_KEY, Principal
from docvec.service.mcp_server import (
    GROUPS_REFUSED,
    NOT_AUTHENTICATED,
    build_server,
    fixed_principal,
    streamable_http_app,
)
from docvec.service.publication import LivePublication
from docvec.service.retrieval import QueryEmbedder, Retrieval

pytestmark = pytest.mark.integration  # a `docvec serve` with its model, a publication embedded for real: ~40 s

CANARY = "CANARY-HR-7f3a"
HANDBOOK = "docs/handbook.md"
CHUNKS = [
    Chunk(
        HANDBOOK, 0, "The holiday policy allows twenty-five days of paid leave per year.", metadata={"team": "people"}
    ),
    Chunk(HANDBOOK, 1, "Salary reviews happen every March, after the yearly appraisal.", metadata={"team": "people"}),
    Chunk(HANDBOOK, 2, "Remote work needs the approval of your manager.", metadata={"team": "people"}),
    Chunk("notes/kitchen.txt", 0, "The office kitchen is cleaned on Fridays.", file_type="txt"),
    Chunk("hr/salaries.md", 0, f"{CANARY} salary bands for staff engineers are confidential.", groups=("hr",)),
]
HR_CHUNK = CHUNKS[-1]
PRINCIPALS = {"bot": ["public"], "hr-bot": ["public", "hr"], "nobody": []}
TOOLS = {
    "search": {"query", "k", "mode", "strategy", "model", "path_prefix", "file_type", "metadata"},
    "fetch_document": {"document_id"},
    "fetch_chunk": {"chunk_id", "neighbours"},
}
CLIENT_MODES = ("auto", "legacy")  # auto negotiates 2026-07-28 (per-request path); legacy, the initialize handshake
TIMEOUT_S = 120  # any one client session, start to end
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

T = TypeVar("T")
Work = Callable[[Client], Awaitable[T]]


@dataclass(frozen=True)
class Service:
    url: str
    keys: dict[str, str]
    serving: Path
    auth: Path
    folder: Path

    @property
    def mcp(self) -> str:
        return self.url + "/mcp"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("mcp")
    credentials = write_auth_config(folder, PRINCIPALS)
    serving = folder / "serving.duckdb"
    process = ServiceProcess(serving, credentials.config_path, folder / "serve.log")
    try:
        write_publication(serving, CHUNKS)  # meanwhile the server starts; it picks the publication up on request
        process.wait_ready()
        yield Service(process.url, credentials.keys, serving, credentials.config_path, folder)
    finally:
        process.stop()


# -- clients ------------------------------------------------------------------------------------------


async def _over_http(url: str, key: str, mode: str, work: Work[T]) -> T:
    with anyio.fail_after(TIMEOUT_S):
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
                return await work(client)


def over_http(service: Service, principal: str, work: Work[T], mode: str = "auto") -> T:
    return anyio.run(_over_http, service.mcp, service.keys[principal], mode, work)


def call(service: Service, principal: str, tool: str, arguments: dict[str, Any], mode: str = "auto") -> CallToolResult:
    async def work(client: Client) -> CallToolResult:
        return await client.call_tool(tool, arguments)

    return over_http(service, principal, work, mode)


async def _over_stdio(service: Service, principal: str, work: Work[T]) -> T:
    params = StdioServerParameters(
        command=DOCVEC,
        args=["mcp", "--serving", str(service.serving), "--auth", str(service.auth)],
        env={"DOCVEC_API_KEY": service.keys[principal], "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    with open(service.folder / f"mcp-{principal}.log", "w") as errlog, anyio.fail_after(TIMEOUT_S):
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=60) as client:
            return await work(client)


def error_text(result: CallToolResult) -> str:
    assert result.is_error, f"expected a tool error, got {result.structured_content}"
    return " ".join(getattr(block, "text", "") for block in result.content)


def results(result: CallToolResult) -> list[dict[str, Any]]:
    assert not result.is_error, error_text(result) if result.is_error else ""
    assert result.structured_content is not None
    hits: list[dict[str, Any]] = result.structured_content["results"]
    return hits


def everything(result: CallToolResult) -> str:
    """All a result carries (structured and text), to look for a canary in."""
    return json.dumps(result.structured_content) + " ".join(getattr(block, "text", "") for block in result.content)


def comparable(search: dict[str, Any]) -> dict[str, Any]:
    """A search answer without what differs from one call to the next."""
    return {key: value for key, value in search.items() if key not in ("took_ms", "publication")}


# -- the tools ----------------------------------------------------------------------------------------


def test_tools_are_listed_with_bounded_schemas_and_no_groups_argument(service: Service) -> None:
    async def work(client: Client) -> dict[str, Any]:
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = over_http(service, "bot", work)
    assert set(tools) == set(TOOLS)
    for name, arguments in TOOLS.items():
        schema = tools[name].input_schema
        assert set(schema["properties"]) == arguments, name  # nothing else: no groups, no context
        assert not limits.GROUP_FIELDS & {argument.lower() for argument in schema["properties"]}
        assert tools[name].output_schema is not None, name
        assert "may read" in (tools[name].description or ""), name
        assert tools[name].annotations is not None and tools[name].annotations.read_only_hint
    search = tools["search"].input_schema
    assert search["required"] == ["query"]
    assert search["properties"]["query"]["maxLength"] == limits.MAX_QUERY_CHARS
    assert (search["properties"]["k"]["minimum"], search["properties"]["k"]["maximum"]) == (1, limits.MAX_K)
    assert "results" in tools["search"].output_schema["properties"]


@pytest.mark.parametrize("mode", CLIENT_MODES)
def test_search_reads_with_the_groups_of_the_callers_credentials(service: Service, mode: str) -> None:
    query = {"query": "salary bands for staff engineers"}
    as_bot = call(service, "bot", "search", query, mode)
    assert results(as_bot), "the public chunks are readable by bot"
    assert CANARY not in everything(as_bot)
    assert HR_CHUNK.chunk_id not in {hit["chunk_id"] for hit in results(as_bot)}

    as_hr = call(service, "hr-bot", "search", query, mode)
    assert results(as_hr)[0]["chunk_id"] == HR_CHUNK.chunk_id
    assert CANARY in results(as_hr)[0]["chunk_text"]

    as_nobody = call(service, "nobody", "search", query, mode)
    assert results(as_nobody) == []


def test_one_connection_per_caller_does_not_leak_groups_between_callers(service: Service) -> None:
    """Calls alternate between two clients held open together: each keeps its own groups."""

    async def both() -> list[bool]:
        seen = []
        with anyio.fail_after(TIMEOUT_S):
            async with (
                httpx2.AsyncClient(
                    headers={"Authorization": f"Bearer {service.keys['hr-bot']}"}, timeout=60
                ) as hr_http,
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {service.keys['bot']}"}, timeout=60) as bot_http,
                Client(streamable_http_client(service.mcp, http_client=hr_http)) as hr,
                Client(streamable_http_client(service.mcp, http_client=bot_http)) as bot,
            ):
                for _ in range(2):
                    for client in (hr, bot):
                        found = await client.call_tool("search", {"query": "salary bands", "mode": "keyword"})
                        seen.append(CANARY in everything(found))
        return seen

    assert anyio.run(both) == [True, False, True, False]


def test_a_tool_call_naming_groups_is_refused(service: Service) -> None:
    for field in ("groups", "access_groups", "Groups"):
        refused = call(service, "bot", "search", {"query": "salary bands", field: ["hr"]})
        assert GROUPS_REFUSED in error_text(refused)
        assert CANARY not in everything(refused)


def test_filters_narrow_what_the_caller_may_read(service: Service) -> None:
    by_type = call(service, "hr-bot", "search", {"query": "cleaned on Fridays", "file_type": "txt", "mode": "keyword"})
    assert {hit["source_path"] for hit in results(by_type)} == {"notes/kitchen.txt"}
    by_path = call(service, "hr-bot", "search", {"query": "salary", "path_prefix": "docs/", "mode": "keyword"})
    assert {hit["source_path"] for hit in results(by_path)} == {HANDBOOK}
    by_metadata = call(service, "hr-bot", "search", {"query": "salary", "metadata": {"team": "people"}, "k": 5})
    assert {hit["source_path"] for hit in results(by_metadata)} == {HANDBOOK}


def test_fetch_document_only_what_the_caller_may_read(service: Service) -> None:
    handbook = call(service, "bot", "fetch_document", {"document_id": CHUNKS[0].document_id})
    assert not handbook.is_error and handbook.structured_content is not None
    assert [chunk["chunk_index"] for chunk in handbook.structured_content["chunks"]] == [0, 1, 2]
    assert handbook.structured_content["metadata"] == {"team": "people"}

    hidden = error_text(call(service, "bot", "fetch_document", {"document_id": HR_CHUNK.document_id}))
    absent_id = "0" * 32
    absent = error_text(call(service, "bot", "fetch_document", {"document_id": absent_id}))
    assert "not found" in hidden and CANARY not in hidden
    assert hidden == absent.replace(absent_id, HR_CHUNK.document_id)  # no oracle of what exists

    readable = call(service, "hr-bot", "fetch_document", {"document_id": HR_CHUNK.document_id})
    assert not readable.is_error and readable.structured_content is not None
    assert CANARY in readable.structured_content["chunks"][0]["chunk_text"]
    assert "not found" in error_text(call(service, "nobody", "fetch_document", {"document_id": CHUNKS[0].document_id}))


def test_fetch_chunk_with_its_neighbours(service: Service) -> None:
    middle = call(service, "bot", "fetch_chunk", {"chunk_id": CHUNKS[1].chunk_id, "neighbours": 1})
    assert not middle.is_error and middle.structured_content is not None
    assert [c["chunk_id"] for c in middle.structured_content["before"]] == [CHUNKS[0].chunk_id]
    assert [c["chunk_id"] for c in middle.structured_content["after"]] == [CHUNKS[2].chunk_id]
    assert "not found" in error_text(call(service, "bot", "fetch_chunk", {"chunk_id": HR_CHUNK.chunk_id}))


@pytest.mark.parametrize(
    "hostile",
    ["../../../etc/passwd", "' or 1=1 --", "0" * 31 + "'", '"; drop table search_index; --', "%2e%2e%2f", ""],
)
def test_ids_that_cannot_exist_are_not_found(service: Service, hostile: str) -> None:
    for tool, argument in (("fetch_document", "document_id"), ("fetch_chunk", "chunk_id")):
        assert "not found" in error_text(call(service, "hr-bot", tool, {argument: hostile}))
    upper = HR_CHUNK.document_id.upper()  # ids are lowercase hex: another spelling is another (absent) id
    assert "not found" in error_text(call(service, "hr-bot", "fetch_document", {"document_id": upper}))


# -- the limits -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"query": "x" * (limits.MAX_QUERY_CHARS + 1)}, f"at most {limits.MAX_QUERY_CHARS} characters"),
        ({"query": ""}, "at least 1 character"),
        ({"query": "   "}, "the query is empty"),
        ({"query": "salary", "k": 0}, "greater than or equal to 1"),
        ({"query": "salary", "k": limits.MAX_K + 1}, f"less than or equal to {limits.MAX_K}"),
        ({"query": "salary", "k": True}, "valid integer"),
        ({"query": "salary", "k": "5"}, "valid integer"),
        ({"query": "salary", "mode": "sql"}, "'vector', 'keyword' or 'hybrid'"),
        ({"query": "salary", "path_prefix": "d" * (limits.MAX_FILTER_CHARS + 1)}, "at most"),
        ({"query": "salary", "metadata": {f"k{i}": "v" for i in range(limits.MAX_METADATA_FILTERS + 1)}}, "at most"),
        ({"query": "salary", "strategy": "nope"}, "bad request: strategy 'nope' is not published"),
    ],
    ids=[
        "long-query",
        "empty",
        "blank",
        "k0",
        "k-over",
        "k-bool",
        "k-string",
        "mode",
        "prefix",
        "metadata",
        "strategy",
    ],
)
def test_search_beyond_the_limits_is_a_tool_error(service: Service, arguments: dict[str, Any], reason: str) -> None:
    text = error_text(call(service, "hr-bot", "search", arguments))
    assert reason in text
    assert "Traceback" not in text


def test_search_at_the_limits_is_answered(service: Service) -> None:
    at_limit = {"query": "salary " + "x" * (limits.MAX_QUERY_CHARS - 7), "k": limits.MAX_K, "mode": "keyword"}
    assert not call(service, "hr-bot", "search", at_limit).is_error
    too_far = call(service, "bot", "fetch_chunk", {"chunk_id": CHUNKS[1].chunk_id, "neighbours": 6})
    assert f"less than or equal to {limits.MAX_NEIGHBOURS}" in error_text(too_far)


# -- the HTTP transport ---------------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [{}, {"Authorization": "Bearer dvk_not-a-key"}, {"X-API-Key": "wrong"}])
def test_no_mcp_exchange_without_valid_credentials(service: Service, credentials: dict[str, str]) -> None:
    refused = httpx2.post(service.mcp, json=INITIALIZE, headers={**MCP_HEADERS, **credentials}, timeout=30)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert "jsonrpc" not in refused.text
    accepted = httpx2.post(
        service.mcp, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": f"Bearer {service.keys['bot']}"}
    )
    assert accepted.status_code == 200 and accepted.json()["result"]["serverInfo"]["name"] == "docvec"


def test_dns_rebinding_protection_accepts_loopback_only(service: Service) -> None:
    key = {"Authorization": f"Bearer {service.keys['bot']}"}

    def post(**headers: str) -> int:
        return httpx2.post(
            service.mcp, json=INITIALIZE, headers={**MCP_HEADERS, **key, **headers}, timeout=30
        ).status_code

    assert post(Origin=service.url) == 200
    assert post(Host="attacker.example") == 421
    assert post(Origin="http://attacker.example") == 403


def test_only_post_is_served(service: Service) -> None:
    """Stateless: no stream of server messages to GET (it would hang open, idle) and no session to DELETE."""
    key = {"Authorization": f"Bearer {service.keys['bot']}", "Accept": "application/json, text/event-stream"}
    for method in ("GET", "DELETE"):
        refused = httpx2.request(method, service.mcp, headers=key, timeout=10)
        assert refused.status_code == 405, method
        assert refused.headers["allow"] == "POST"


def test_a_tool_call_without_an_authenticated_request_fails_closed(service: Service) -> None:
    """The MCP app mounted without docvec.service.guard in front: there is a request, but no
    principal on it, so no search runs (least of all with some default groups)."""
    retrieval = Retrieval(LivePublication(str(service.serving)), QueryEmbedder())
    app = streamable_http_app(retrieval)

    async def unguarded() -> CallToolResult:
        with anyio.fail_after(TIMEOUT_S):
            async with (
                app.router.lifespan_context(app),
                httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), timeout=60) as http,
                Client(streamable_http_client("http://127.0.0.1:8000/mcp", http_client=http)) as client,
            ):
                return await client.call_tool("search", {"query": "salary", "mode": "keyword"})

    try:
        refused = anyio.run(unguarded)
    finally:
        retrieval.publication.close()
    assert NOT_AUTHENTICATED in error_text(refused)
    assert refused.structured_content is None


def test_nothing_published_is_a_tool_error(tmp_path: Path) -> None:
    retrieval = Retrieval(LivePublication(str(tmp_path / "serving.duckdb")), QueryEmbedder())
    server = build_server(retrieval, fixed_principal(Principal("bot", ("public",), METHOD_API_KEY)))

    async def work() -> CallToolResult:
        async with Client(server) as client:
            return await client.call_tool("search", {"query": "salary", "mode": "keyword"})

    assert "not ready: nothing is published at" in error_text(anyio.run(work))


# -- stdio ----------------------------------------------------------------------------------------------


def test_stdio_answers_like_http_for_the_same_principal(service: Service) -> None:
    query = {"query": "salary", "mode": "keyword", "k": 10}

    async def session(client: Client) -> dict[str, Any]:
        return {
            "tools": {tool.name: tool.input_schema for tool in (await client.list_tools()).tools},
            "search": await client.call_tool("search", query),
            "document": await client.call_tool("fetch_document", {"document_id": CHUNKS[0].document_id}),
            "hidden": await client.call_tool("fetch_document", {"document_id": HR_CHUNK.document_id}),
            "groups": await client.call_tool("search", {**query, "groups": ["hr"]}),
            "k0": await client.call_tool("search", {**query, "k": 0}),
        }

    stdio = anyio.run(_over_stdio, service, "bot", session)
    http = over_http(service, "bot", session)
    assert stdio["tools"] == http["tools"]
    assert results(stdio["search"]), "bot reads the public salary chunk"
    assert comparable(stdio["search"].structured_content) == comparable(http["search"].structured_content)
    assert CANARY not in everything(stdio["search"])
    document = stdio["document"].structured_content
    assert document is not None and {k: v for k, v in document.items() if k != "publication"} == {
        k: v for k, v in (http["document"].structured_content or {}).items() if k != "publication"
    }
    assert error_text(stdio["hidden"]) == error_text(http["hidden"])
    assert GROUPS_REFUSED in error_text(stdio["groups"]) and CANARY not in everything(stdio["groups"])
    assert "greater than or equal to 1" in error_text(stdio["k0"])


def test_stdio_refuses_to_start_with_a_wrong_key(service: Service) -> None:
    started = subprocess.run(
        [DOCVEC, "mcp", "--serving", str(service.serving), "--auth", str(service.auth)],
        env={"PATH": "/usr/bin:/bin", "DOCVEC_API_KEY": "dvk_wrong", "HF_HUB_OFFLINE": "1"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2
    assert "unknown API key" in started.stderr
    assert started.stdout == ""  # no MCP message was ever written
