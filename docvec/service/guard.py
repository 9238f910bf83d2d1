"""The ASGI middleware in front of every route: metrics, then, for the API and MCP paths,
authentication, the refusal of client-supplied groups and the body bound, in that order and
before any route runs (so a request without credentials is a 401 whatever its body, and an
oversized body is refused without being read to its end)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

from docvec.service import limits
from docvec.service.auth import Authenticator, AuthError
from docvec.service.metrics import NO_MODE, ServiceMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROTECTED_PREFIXES = ("/v1/", "/mcp")
UNMATCHED = "unmatched"  # the endpoint label of a path no route serves (bounded label values)


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> bytes:
    """The JSON error every failure answers with (never a stack trace)."""
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error}, ensure_ascii=False).encode("utf-8")


async def send_error(
    send: Send, status: int, code: str, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = error_body(status, code, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Metrics for every request; authentication, no client groups and the body bound on the
    protected paths. The principal goes to `scope["state"]["principal"]`."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator, metrics: ServiceMetrics) -> None:
        self.app = app
        self.authenticator = authenticator
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status = {"code": 500}

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self._guarded(scope, receive, send_counted, state)
        finally:
            self.metrics.in_flight.dec()
            endpoint = state.get("endpoint") or _static_endpoint(scope["path"])
            self.metrics.observe(endpoint, state.get("mode", NO_MODE), status["code"], time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]) -> None:
        if not scope["path"].startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/mcp"):
            state["endpoint"] = "/mcp"
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        try:
            principal = self.authenticator.authenticate(
                _header(headers, b"authorization"), _header(headers, b"x-api-key")
            )
        except AuthError as error:
            await send_error(send, 401, "unauthorized", str(error), [(b"www-authenticate", b'Bearer realm="docvec"')])
            return
        state["principal"] = principal
        named = _client_groups(headers, scope.get("query_string", b""))
        if named:
            await send_error(
                send,
                403,
                "groups_not_allowed",
                f"{named} cannot be sent: access groups come from your credentials, on the server",
            )
            return
        length = _header(headers, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limits.MAX_BODY_BYTES):
            await send_error(send, 413, "body_too_large", f"the request body is over {limits.MAX_BODY_BYTES} bytes")
            return
        await self.app(scope, _bounded(receive), send)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


def _client_groups(headers: dict[bytes, bytes], query_string: bytes) -> str | None:
    """The header or query parameter by which the client tries to name its own groups, if any."""
    for name in limits.GROUP_HEADERS:
        if name in headers:
            return f"the header {name.decode()}"
    for key, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key.lower() in limits.GROUP_FIELDS:
            return f"the query parameter {key!r}"
    return None


def _bounded(receive: Receive) -> Receive:
    """`receive`, raising a 413 once the body read passes the bound (a body sent in chunks)."""
    seen = {"bytes": 0}

    async def bounded() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            seen["bytes"] += len(message.get("body", b""))
            if seen["bytes"] > limits.MAX_BODY_BYTES:
                raise HTTPException(413, f"the request body is over {limits.MAX_BODY_BYTES} bytes")
        return message

    return bounded


def _static_endpoint(path: str) -> str:
    """The endpoint label of a path that set none: the fixed ones by name, the rest bounded."""
    if path in ("/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"):
        return path
    if path.startswith("/static/"):
        return "/static"
    return UNMATCHED
