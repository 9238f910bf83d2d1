"""`docvec serve` (the HTTP API, the MCP endpoint and the search page on uvicorn), `docvec mcp`
(the MCP server on stdio, for a local agent) and `docvec serve --new-key` / `--hash-key` (API keys
for the auth config). docvec/cli.py registers them."""

from __future__ import annotations

import argparse
import os
import sys

from docvec.searching import BACKEND_HELP
from docvec.service.auth import (
    AUTH_CONFIG_ENV,
    AuthConfigError,
    Authenticator,
    AuthError,
    generate_api_key,
    hash_api_key,
    load_auth_config,
)

EXIT_USAGE = 2
DEFAULT_PORT = 8000
API_KEY_ENV = "DOCVEC_API_KEY"  # `docvec mcp`: the agent's API key
TOKEN_ENV = "DOCVEC_TOKEN"  # `docvec mcp`: or its JWT


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `serve` and `mcp` to the docvec command line."""
    serve = commands.add_parser(
        "serve",
        help="run the retrieval service (HTTP API, MCP endpoint, search page) over the published store",
        description=(
            "Serve the current publication of the serving store over HTTP: POST /v1/search, GET "
            "/v1/documents/{id}, GET /v1/chunks/{id}, /healthz, /readyz, /metrics, /openapi.json, the MCP "
            "endpoint /mcp (streamable HTTP) and the search page /. Callers authenticate with an API key or a "
            "JWT; the auth config maps them to access groups. A new publication is picked up without a restart."
        ),
    )
    _add_common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument("--no-page", action="store_true", help="do not serve the search page")
    serve.add_argument("--no-mcp", action="store_true", help="do not serve the MCP endpoint /mcp")
    serve.add_argument(
        "--mcp-host",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a Host the MCP endpoint accepts besides loopback (repeatable; `name:*` for any port)",
    )
    serve.add_argument(
        "--duckdb-threads",
        type=int,
        default=1,
        help="DuckDB threads per query (default 1: concurrent requests use the other cores; 0: all cores)",
    )
    serve.add_argument(
        "--lazy-model", action="store_true", help="load the query model at the first search, not at start"
    )
    serve.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--new-key", action="store_true", help="print a new API key and its hash for the config, exit")
    serve.add_argument("--hash-key", metavar="KEY", help="print the hash of an API key for the auth config, exit")

    mcp = commands.add_parser(
        "mcp",
        help="run the MCP server on stdio (tools search and fetch_document) for a local agent",
        description=(
            f"The MCP server on stdin/stdout. The agent's credentials come from env {API_KEY_ENV} (an API key) "
            f"or {TOKEN_ENV} (a JWT) and are checked against the auth config once, at start; the groups they map "
            "to apply to every tool call, with the HTTP API's limits."
        ),
    )
    _add_common(mcp)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serving", default=None, help="serving store (default: env DOCVEC_SERVING_PATH, else beside the warehouse)"
    )
    parser.add_argument("--auth", default=None, help=f"auth config (YAML; default: env {AUTH_CONFIG_ENV})")
    parser.add_argument("--model-path", default=None, help="local folder of the query model (default: the bundled one)")
    parser.add_argument("--backend", default=None, help=BACKEND_HELP)


def _authenticator(args: argparse.Namespace) -> Authenticator:
    path = args.auth or os.environ.get(AUTH_CONFIG_ENV)
    if not path:
        raise AuthConfigError(
            f"no auth config: give --auth FILE or set {AUTH_CONFIG_ENV} (the service never runs without authentication)"
        )
    return Authenticator(load_auth_config(path))


def run_serve(args: argparse.Namespace) -> int:
    if args.new_key:
        key = generate_api_key()
        print(f"key:        {key}\nkey_sha256: {hash_api_key(key)}")
        return 0
    if args.hash_key:
        print(hash_api_key(args.hash_key))
        return 0
    import uvicorn

    from docvec.publishing.store import serving_path_for
    from docvec.service.app import ServiceSettings, create_app

    try:
        authenticator = _authenticator(args)
    except (AuthConfigError, OSError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    serving = args.serving or serving_path_for()
    settings = ServiceSettings(
        serving,
        authenticator,
        args.model_path,
        args.backend,
        warm_up=not args.lazy_model,
        page=not args.no_page,
        mcp=not args.no_mcp,
        mcp_hosts=tuple(args.mcp_host),
        duckdb_threads=args.duckdb_threads,
    )
    app = create_app(settings)
    print(f"docvec serve: {serving} on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def run_mcp(args: argparse.Namespace) -> int:
    from docvec.publishing.store import serving_path_for
    from docvec.service.mcp_server import run_stdio

    try:
        principal = _authenticator(args).authenticate(
            f"Bearer {os.environ[TOKEN_ENV]}" if os.environ.get(TOKEN_ENV) else None, os.environ.get(API_KEY_ENV)
        )
    except (AuthConfigError, AuthError, OSError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    run_stdio(args.serving or serving_path_for(), principal, args.model_path, args.backend)
    return 0
