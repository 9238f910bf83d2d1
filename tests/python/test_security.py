"""The security suite of issue #14 ("Nothing leaks"), as one real build of a canary corpus.

The corpus (tests/python/security_corpus.py) holds one file per attack, each with a unique
canary: links out of the landing folder (/etc/passwd, /etc/hostname, a folder), `hr` front
matter through every parse failure, JSON records with bad access fields, `HR/` against the
`hr/*` rule, an hr file and a link to it, an uncovered file, hidden files and planted secrets.
Built once with the defaults (access_mode enforce, pii_mode redact, include_hidden false), then:

- no canary reaches a `public` caller in any mode through the Python API, the CLI and the
  `dbt run-operation search` macro, and no canary document is public in the tables;
- the system password file, the planted secrets, the hidden and the outside files are in no
  column of any table of any schema of the warehouse file (the dbt test audit schema included);
- every file is accounted for, and the quarantine reasons the issue names are there;
- hostile filters (groups, path prefix, file type, metadata keys) stay data (regressions).

A public control document must come back through every path and mode, so that no leak check can
pass because a search path returns nothing. Hostile *queries* and the macro's hostile queries and
path prefixes are tested in tests/python/test_search.py (test_hostile_queries_are_data_not_sql,
test_search_macro_treats_hostile_queries_as_data); this file adds only the filters they lack.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from security_corpus import (
    ACCESS_UNPARSEABLE,
    AT_REST_KINDS,
    CANARIES,
    CONTROL_PATH,
    CONTROL_TOKEN,
    HIDDEN,
    ODD_KEY,
    ODD_KEYS_PATH,
    ODD_VALUE,
    OUTSIDE,
    PASSWD_MARKER,
    RULE_ONLY_TOKEN,
    Canary,
    Hit,
    leaks,
    quoted,
    scan_tables,
    warehouse_bytes,
    write_corpus,
)
from service_support import ServiceProcess, write_auth_config

from docvec import SearchFilters, connect, search
from docvec.publishing.store import ServingStore, serving_path_for
from docvec.publishing.target_search import open_target, search_target
from docvec.service import limits

from conftest import DBT, DbtProject

pytest_plugins = ("postgres_server",)

pytestmark = pytest.mark.integration

MODES = ("vector", "keyword", "hybrid")
PATHS = ("python", "cli", "macro", "served", "lancedb", "postgres", "http", "mcp")
# The build publishes to these external targets too (issue #15: access control identical in every target).
PG_DSN_ENV = "DOCVEC_SECURITY_PG_DSN"
PUBLIC = ("public",)
# Larger than the corpus' chunk count: a vector (and so a hybrid) ranking then returns EVERY chunk
# a public caller may read, whatever the query, so one call per mode checks every canary at once.
EVERYTHING = 1000
COMBINED_QUERY = " ".join(canary.query for canary in CANARIES) + " " + CONTROL_TOKEN
DOCVEC = str(Path(DBT).with_name("docvec"))
INJECTIONS = (
    "'); drop table documents; --",
    "x'; create table docvec_pwned as select 1; --",
    'a" or 1=1; --',
    "public'; --",
    "$.access_groups",
)
RESULT_LINE = re.compile(r"\b\d+\.\s+-?\d+\.\d+\s+([0-9a-f]{32})\b")
RESULT_COUNT = re.compile(r": (\d+) results\s*$", re.MULTILINE)


@dataclass
class SecurityBuild:
    project: DbtProject
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def security(make_project, tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> SecurityBuild:
    """The canary corpus built once with the default vars, published to the embedded store and
    to a LanceDB and a PostgreSQL target. Not copied (copy=False), so that the links stay as
    planted: absolute ones out of the landing folder, a relative one inside it."""
    landing = write_corpus(tmp_path_factory.mktemp("security_corpus"))
    project = make_project("security", source=landing, copy=False)
    targets = [
        {"name": "lancedb", "type": "lancedb", "uri": str(project.workdir / "lancedb")},
        {"name": "postgres", "type": "postgres", "dsn_env": PG_DSN_ENV, "schema": "security"},
    ]
    variables = json.dumps({"publish_targets": targets})
    result = project.dbt("build", "--vars", variables, check=False, **{PG_DSN_ENV: postgres_dsn})
    project.pg_dsn = postgres_dsn
    return SecurityBuild(project, result)


@pytest.fixture(scope="module")
def warehouse(security: SecurityBuild) -> DbtProject:
    """The built warehouse; fails (with dbt's output) when the build left no search_index."""
    project = security.project
    if project.db_path.exists():
        with connect(str(project.db_path)) as conn:
            tables = {name for (name,) in conn.execute("select table_name from duckdb_tables()").fetchall()}
        if {"search_index", "documents", "quarantined_documents"} <= tables:
            return project
    pytest.fail(f"the build left no warehouse to check:\n{security.result.stdout[-12000:]}", pytrace=False)


# --------------------------------------------------------------------------------------------
# The three search paths, as a public caller
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def python_hits(warehouse: DbtProject) -> dict[str, list[Hit]]:
    """Per mode, what `docvec.search` returns to a public caller for every canary's query."""
    hits: dict[str, list[Hit]] = {mode: [] for mode in MODES}
    queries = [canary.query for canary in CANARIES] + [CONTROL_TOKEN, COMBINED_QUERY]
    with connect(str(warehouse.db_path)) as conn:
        for mode in MODES:
            for query in queries:
                for r in search(conn, query, k=EVERYTHING, mode=mode, filters=SearchFilters(groups=PUBLIC)):
                    hits[mode].append(Hit("python", mode, query, r.chunk_id, r.source_path, r.chunk_text))
    return hits


def published_hits_through(warehouse: DbtProject, path: str) -> dict[str, list[Hit]]:
    """Per mode, what a public caller gets from the published stores: `served` = docvec.search on
    the embedded serving store, else the external target of that name (docvec search --target)."""
    serving = serving_path_for(str(warehouse.db_path))
    if ServingStore(serving).current() is None:
        pytest.fail(f"the security build published nothing to {serving}", pytrace=False)
    hits: dict[str, list[Hit]] = {mode: [] for mode in MODES}
    queries = [canary.query for canary in CANARIES] + [CONTROL_TOKEN, COMBINED_QUERY]
    filters = SearchFilters(groups=PUBLIC)
    if path == "served":
        with connect(ServingStore(serving).current_path()) as conn:
            for mode in MODES:
                for query in queries:
                    for r in search(conn, query, k=EVERYTHING, mode=mode, filters=filters):
                        hits[mode].append(Hit(path, mode, query, r.chunk_id, r.source_path, r.chunk_text))
        return hits
    os.environ[PG_DSN_ENV] = warehouse.pg_dsn
    target = open_target(serving, path)
    try:
        for mode in MODES:
            for query in queries:
                for r in search_target(target, query, k=EVERYTHING, mode=mode, filters=filters):
                    hits[mode].append(Hit(path, mode, query, r.chunk_id, r.source_path, r.chunk_text))
    finally:
        target.close()
    return hits


@pytest.fixture(scope="module")
def served_hits(warehouse: DbtProject) -> dict[str, list[Hit]]:
    return published_hits_through(warehouse, "served")


@pytest.fixture(scope="module")
def service(warehouse: DbtProject, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`docvec serve` over the security build's serving store, with one API key whose principal the
    server maps to `public` (the groups come from the server, never from the caller): (url, key)."""
    folder = tmp_path_factory.mktemp("security_service")
    credentials = write_auth_config(folder, {"public-bot": list(PUBLIC)})
    server = ServiceProcess(Path(serving_path_for(str(warehouse.db_path))), credentials.config_path, folder / "log")
    try:
        server.wait_ready()
        yield server.url, credentials.keys["public-bot"]
    finally:
        server.stop()


@pytest.fixture(scope="module")
def http_hits(service: tuple[str, str]) -> dict[str, list[Hit] | str]:
    """Per mode, what the HTTP API returns to the `public` principal for every canary's query (k at
    the service's bound, above the corpus' public chunk count: see test_vector_search_returns_every_public_chunk)."""
    url, key = service
    found: dict[str, list[Hit] | str] = {}
    queries = [canary.query for canary in CANARIES] + [CONTROL_TOKEN, COMBINED_QUERY]
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
        for mode in MODES:
            hits: list[Hit] = []
            for query in queries:
                response = client.post(
                    "/v1/search", json={"query": query[: limits.MAX_QUERY_CHARS], "k": limits.MAX_K, "mode": mode}
                )
                if response.status_code != 200:
                    found[mode] = f"POST /v1/search {mode} {query!r}: {response.status_code} {response.text[:2000]}"
                    break
                hits += [
                    Hit("http", mode, query, h["chunk_id"], h["source_path"], h["chunk_text"])
                    for h in response.json()["results"]
                ]
            else:
                found[mode] = hits
    return found


@pytest.fixture(scope="module")
def mcp_hits(service: tuple[str, str]) -> dict[str, list[Hit] | str]:
    """Per mode, what the MCP tool `search` (streamable HTTP, the SDK's own client, one session)
    returns to the `public` principal for every canary's query, as http_hits."""
    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    url, key = service
    queries = [canary.query for canary in CANARIES] + [CONTROL_TOKEN, COMBINED_QUERY]

    async def run() -> dict[str, list[Hit] | str]:
        found: dict[str, list[Hit] | str] = {}
        with anyio.fail_after(600):
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120) as http:
                async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
                    for mode in MODES:
                        hits: list[Hit] = []
                        for query in queries:
                            arguments = {"query": query[: limits.MAX_QUERY_CHARS], "k": limits.MAX_K, "mode": mode}
                            result = await client.call_tool("search", arguments)
                            if result.is_error or result.structured_content is None:
                                found[mode] = f"MCP search {mode} {query!r} failed: {result.content}"
                                break
                            hits += [
                                Hit("mcp", mode, query, h["chunk_id"], h["source_path"], h["chunk_text"])
                                for h in result.structured_content["results"]
                            ]
                        else:
                            found[mode] = hits
        return found

    return anyio.run(run)


@pytest.fixture(scope="module")
def lancedb_hits(warehouse: DbtProject) -> dict[str, list[Hit]]:
    return published_hits_through(warehouse, "lancedb")


@pytest.fixture(scope="module")
def postgres_hits(warehouse: DbtProject) -> dict[str, list[Hit]]:
    return published_hits_through(warehouse, "postgres")


def run_cli(project: DbtProject, query: str, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [DOCVEC, "search", query, "--mode", mode, "--groups", "public", "--format", "json"]
    return subprocess.run(
        [*command, "--k", str(EVERYTHING), *args, "--db", str(project.db_path)],
        capture_output=True,
        text=True,
        env=project.env(),
        timeout=600,
    )


@pytest.fixture(scope="module")
def cli_hits(warehouse: DbtProject) -> dict[str, list[Hit] | str]:
    """Per mode, the CLI's results for a public caller, or its error. Keyword: one call per
    canary (BM25 needs the words). Vector and hybrid: one call each with the combined query,
    which at k=EVERYTHING returns every chunk a public caller may read (each call loads the model)."""
    found: dict[str, list[Hit] | str] = {}
    for mode in MODES:
        queries = [c.query for c in CANARIES] + [CONTROL_TOKEN] if mode == "keyword" else [COMBINED_QUERY]
        hits: list[Hit] = []
        for query in queries:
            result = run_cli(warehouse, query, mode)
            if result.returncode != 0:
                found[mode] = f"docvec search {query!r} --mode {mode} failed ({result.returncode}): {result.stderr}"
                break
            hits += [
                Hit("cli", mode, query, h["chunk_id"], h["source_path"], h["chunk_text"])
                for h in json.loads(result.stdout)
            ]
        else:
            found[mode] = hits
    return found


def run_operation(project: DbtProject, macro: str, args: dict) -> subprocess.CompletedProcess[str]:
    """`dbt run-operation macro --args <YAML>` (YAML that round-trips any string)."""
    text = yaml.safe_dump(args, default_flow_style=True, allow_unicode=False, width=10**9)
    return project.dbt("run-operation", macro, "--args", text, check=False)


@pytest.fixture(scope="module")
def macro_copy(warehouse: DbtProject, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """A copy of the warehouse: run-operation opens its file read-write."""
    return warehouse.copy_build(tmp_path_factory.mktemp("security_macro"))


@pytest.fixture(scope="module")
def macro_hits(macro_copy: DbtProject) -> dict[str, list[Hit] | str]:
    """Per mode, the `search` macro's results for a public caller, or its error. One run-operation
    per mode (each is a dbt invocation) with the combined query: every canary's words for BM25,
    and k=EVERYTHING makes the vector and hybrid rankings return every readable chunk."""
    found: dict[str, list[Hit] | str] = {}
    for mode in MODES:
        args = {"query": COMBINED_QUERY, "k": EVERYTHING, "mode": mode, "groups": list(PUBLIC)}
        result = run_operation(macro_copy, "search", args)
        ids = RESULT_LINE.findall(result.stdout)
        counts = RESULT_COUNT.findall(result.stdout)
        if result.returncode != 0 or len(counts) != 1 or int(counts[0]) != len(ids):
            found[mode] = f"run-operation search ({mode}) failed ({result.returncode}):\n{result.stdout[-4000:]}"
            continue
        rows = macro_copy.query(
            "select chunk_id, source_path, chunk_text from search_index where list_contains(?::varchar[], chunk_id)",
            [ids],
        )
        found[mode] = [Hit("macro", mode, COMBINED_QUERY, *row) for row in rows]
    return found


def results_of(request: pytest.FixtureRequest, path: str, mode: str) -> list[Hit]:
    """The public caller's results through `path` in `mode` (its fixture, `<path>_hits`, runs once)."""
    found = request.getfixturevalue(f"{path}_hits")[mode]
    if isinstance(found, str):
        pytest.fail(found, pytrace=False)
    return found


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_no_canary_reaches_a_public_caller(request: pytest.FixtureRequest, path: str, mode: str) -> None:
    leaked = leaks(results_of(request, path, mode))
    assert not leaked, f"{len(leaked)} leaks via {path} {mode}:\n" + "\n".join(leaked)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", PATHS)
def test_a_public_caller_gets_the_public_control(request: pytest.FixtureRequest, path: str, mode: str) -> None:
    """The positive control: without it, a search path that returns nothing would pass the leak test."""
    hits = results_of(request, path, mode)
    assert any(CONTROL_TOKEN in h.chunk_text and h.source_path == CONTROL_PATH for h in hits), (
        f"{path} {mode} search never returned the public control {CONTROL_PATH} to a public caller"
    )


@pytest.mark.parametrize("path", PATHS)
def test_vector_search_returns_every_public_chunk(
    warehouse: DbtProject, request: pytest.FixtureRequest, path: str
) -> None:
    """What makes one vector call per path check every canary: at k=EVERYTHING it returns all the
    chunks a public caller may read (so a leak cannot hide below the top k)."""
    with connect(str(warehouse.db_path)) as conn:
        (total,) = conn.execute("select count(*) from search_index").fetchone()
        readable = {
            cid
            for (cid,) in conn.execute(
                "select chunk_id from search_index where list_contains(access_groups, 'public')"
            ).fetchall()
        }
    assert total < EVERYTHING
    returned = {h.chunk_id for h in results_of(request, path, "vector") if h.query == COMBINED_QUERY}
    assert returned == readable, f"{path}: {len(returned)} chunks returned, {len(readable)} readable by public"


def test_an_hr_reader_finds_the_rule_only_document(warehouse: DbtProject) -> None:
    """Fail-closed must not mean closed to everyone: the hr/* rule still lets `hr` read its file."""
    with connect(str(warehouse.db_path)) as conn:
        hits = search(conn, RULE_ONLY_TOKEN, k=10, mode="keyword", filters=SearchFilters(groups=("hr",)))
    assert any(RULE_ONLY_TOKEN in h.chunk_text for h in hits), (
        f"an hr caller cannot read hr/rule_only.md (protected by the hr/* rule): got {[h.source_path for h in hits]}"
    )


# --------------------------------------------------------------------------------------------
# The tables: access groups, quarantine reasons, accounting
# --------------------------------------------------------------------------------------------


# A row's access groups are restricted: not empty, and `public` is not one of them.
RESTRICTED_SQL = "access_groups, len(access_groups) > 0 and not list_contains(access_groups, 'public')"


def public_rows(project: DbtProject, canary: Canary) -> list[str]:
    """Where the tables make `canary` public (restricted) or hold it at all (never read)."""
    problems = []
    with connect(str(project.db_path)) as conn:
        for path in canary.paths:
            rows = conn.execute(
                f"""
                select 'documents', {RESTRICTED_SQL}
                from documents where source_path = $1 or starts_with(source_path, $1 || '/')
                union all
                select 'search_index', {RESTRICTED_SQL}
                from search_index where source_path = $1 or starts_with(source_path, $1 || '/')
                union all
                select 'document_duplicates', null, true
                from document_duplicates where source_path = $1 or starts_with(source_path, $1 || '/')
                """,
                [path],
            ).fetchall()
            for table, groups, restricted in rows:
                if canary.kind in (OUTSIDE, HIDDEN):
                    problems.append(f"{path} was read: it has a row in {table} (access groups {groups})")
                elif not restricted:
                    problems.append(f"{path} is in {table} with access groups {groups}")
        for marker in canary.markers:
            rows = conn.execute(
                "select 'search_index', source_path from search_index"
                " where list_contains(access_groups, 'public') and contains(chunk_text, $1)"
                " union all select 'documents', source_path from documents"
                " where list_contains(access_groups, 'public') and contains(text, $1)",
                [marker],
            ).fetchall()
            problems += [f"marker {marker!r} is public in {table} row of {path}" for table, path in rows]
    return problems


@pytest.mark.parametrize("canary", [c for c in CANARIES if c.paths], ids=lambda c: c.name)
def test_canary_documents_are_not_public_in_the_tables(warehouse: DbtProject, canary: Canary) -> None:
    problems = public_rows(warehouse, canary)
    assert not problems, f"[{canary.name}] " + "; ".join(problems)


@pytest.mark.parametrize("canary", [c for c in CANARIES if c.reason], ids=lambda c: c.name)
def test_quarantine_reason(warehouse: DbtProject, canary: Canary) -> None:
    placeholders = " or ".join("source_path = ? or starts_with(source_path, ?)" for _ in canary.paths)
    params = [value for p in canary.paths for value in (p, p + "/")]
    rows = warehouse.query(
        f"select source_path, reason, detail from quarantined_documents where {placeholders}", params
    )
    reasons = {reason for _, reason, _ in rows}
    assert reasons == {canary.reason}, (
        f"[{canary.name}] expected quarantine reason {canary.reason!r} for {canary.paths}, got {rows or 'no row'}"
    )


def test_the_build_succeeds(security: SecurityBuild) -> None:
    result = security.result
    assert result.returncode == 0, f"dbt build failed ({result.returncode}):\n{result.stdout[-12000:]}"
    assert "Traceback (most recent call last)" not in result.stdout + result.stderr, result.stdout[-12000:]


def test_every_file_is_accounted_for(warehouse: DbtProject) -> None:
    results = json.loads((warehouse.workdir / "target" / "run_results.json").read_text(encoding="utf-8"))
    statuses = {r["unique_id"]: r["status"] for r in results["results"]}
    (status,) = [s for uid, s in statuses.items() if uid.endswith(".assert_every_file_is_accounted_for")]
    assert status == "pass", f"assert_every_file_is_accounted_for: {status}"


def test_unparseable_access_is_quarantined_not_dropped(warehouse: DbtProject) -> None:
    """Every access_unparseable row names its file and says why (a warn test lists them)."""
    rows = warehouse.query(
        "select source_path, detail from quarantined_documents where reason = ?", [ACCESS_UNPARSEABLE]
    )
    expected = {p for c in CANARIES if c.reason == ACCESS_UNPARSEABLE for p in c.paths}
    assert expected <= {path for path, _ in rows}, sorted(expected - {path for path, _ in rows})
    assert all(detail for _, detail in rows), rows


# --------------------------------------------------------------------------------------------
# Nothing secret at rest: every column of every table of every schema
# --------------------------------------------------------------------------------------------

AT_REST_MARKERS = sorted({m for c in CANARIES if c.kind in AT_REST_KINDS for m in c.markers if m} - {PASSWD_MARKER})


@pytest.fixture(scope="module")
def stored(warehouse: DbtProject) -> dict[str, list[str]]:
    """marker -> the `schema.table.column`s holding it (see `scan_tables`); the control is scanned too."""
    with connect(str(warehouse.db_path)) as conn:
        return scan_tables(conn, [PASSWD_MARKER, *AT_REST_MARKERS, CONTROL_TOKEN])


def test_the_scan_finds_stored_text(stored: dict[str, list[str]]) -> None:
    """The positive control of the scan: the public control's text is stored (documents, chunks)."""
    assert any(".documents.text" in where for where in stored[CONTROL_TOKEN]), stored[CONTROL_TOKEN]


def test_the_system_password_file_is_in_no_table(stored: dict[str, list[str]]) -> None:
    assert not stored[PASSWD_MARKER], f"{PASSWD_MARKER!r} (/etc/passwd) is stored in {stored[PASSWD_MARKER]}"


@pytest.mark.parametrize("marker", AT_REST_MARKERS)
def test_secrets_and_unread_files_are_in_no_table(stored: dict[str, list[str]], marker: str) -> None:
    (canary,) = [c for c in CANARIES if marker in c.markers]
    assert not stored[marker], f"[{canary.name}] {marker!r} is stored in {stored[marker]}"


def test_the_file_scan_finds_stored_text(warehouse: DbtProject) -> None:
    """The positive control of the byte scan below: the public control's text is in the file."""
    assert CONTROL_TOKEN.encode() in warehouse_bytes(warehouse.db_path)


def test_the_warehouse_file_holds_no_secret_bytes(warehouse: DbtProject) -> None:
    """Below the tables: no marker in the file's bytes, free blocks of dropped tables included
    (dbt builds a table under a temporary name, then drops the old one)."""
    data = warehouse_bytes(warehouse.db_path)
    found = [marker for marker in [PASSWD_MARKER, *AT_REST_MARKERS] if marker.encode() in data]
    assert not found, f"in the bytes of {warehouse.db_path.name}: {found}"


# --------------------------------------------------------------------------------------------
# Injection regressions: hostile filters are data (held before #14; must keep holding)
# --------------------------------------------------------------------------------------------


def table_counts(project: DbtProject) -> dict[str, int]:
    with connect(str(project.db_path)) as conn:
        names = [
            n for (n,) in conn.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
        ]
        return {name: conn.execute(f"select count(*) from {quoted(name)}").fetchone()[0] for name in names}


@pytest.mark.parametrize("mode", MODES)
def test_hostile_filters_through_the_python_api(warehouse: DbtProject, mode: str) -> None:
    before = table_counts(warehouse)
    with connect(str(warehouse.db_path)) as conn:
        for payload in INJECTIONS:
            assert search(conn, "farm shop", k=5, mode=mode, filters=SearchFilters(groups=(payload,))) == []
            # A hostile group name next to `public` is a group nobody has: it adds nothing.
            mixed = search(conn, "farm shop", k=5, mode=mode, filters=SearchFilters(groups=("public", payload)))
            alone = search(conn, "farm shop", k=5, mode=mode, filters=SearchFilters(groups=PUBLIC))
            assert mixed and [h.chunk_id for h in mixed] == [h.chunk_id for h in alone], payload
            for filters in (
                SearchFilters(groups=PUBLIC, path_prefix=payload),
                SearchFilters(groups=PUBLIC, file_type=payload),
                SearchFilters(groups=PUBLIC, metadata=((payload, payload),)),
                SearchFilters(groups=PUBLIC, metadata=(("title", payload),)),
            ):
                assert search(conn, "farm shop", k=5, mode=mode, filters=filters) == [], filters
    assert table_counts(warehouse) == before


def test_a_metadata_key_with_quotes_and_semicolons_filters_exactly(warehouse: DbtProject) -> None:
    with connect(str(warehouse.db_path)) as conn:
        hits = search(
            conn,
            "greenhouse thermometer",
            k=5,
            mode="keyword",
            filters=SearchFilters(groups=PUBLIC, metadata=((ODD_KEY, ODD_VALUE),)),
        )
    assert hits and {h.source_path for h in hits} == {ODD_KEYS_PATH}


def test_hostile_filters_through_the_search_macro(macro_copy: DbtProject) -> None:
    before = table_counts(macro_copy)
    grouped = run_operation(
        macro_copy, "search", {"query": "farm shop", "k": 5, "mode": "keyword", "groups": [*INJECTIONS, "public"]}
    )
    assert grouped.returncode == 0, grouped.stdout[-4000:]
    ids = RESULT_LINE.findall(grouped.stdout)
    assert ids, grouped.stdout[-4000:]
    groups = macro_copy.query(
        "select access_groups from search_index where list_contains(?::varchar[], chunk_id)", [ids]
    )
    assert all("public" in g for (g,) in groups), groups
    # One dbt invocation (each loads the model): a hostile path prefix and file type together.
    args = {
        "query": "farm shop",
        "k": 5,
        "mode": "hybrid",
        "groups": ["public"],
        "path_prefix": INJECTIONS[0],
        "file_type": INJECTIONS[1],
    }
    filtered = run_operation(macro_copy, "search", args)
    assert filtered.returncode == 0 and ": 0 results" in filtered.stdout, filtered.stdout[-4000:]
    tables = {name for (name,) in macro_copy.query("select table_name from duckdb_tables()")}
    assert "docvec_pwned" not in tables
    assert table_counts(macro_copy) == before


@pytest.mark.parametrize("mode", MODES)
def test_the_service_answers_exactly_as_the_python_api(request: pytest.FixtureRequest, mode: str) -> None:
    """The HTTP API and the MCP tool apply the same access rules as docvec.search: for every canary query, the same
    chunks in the same order as the Python API on the same publication (the service's k bound is
    above what a public caller may read, so nothing is cut)."""

    def by_query(path: str) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for hit in results_of(request, path, mode):
            grouped.setdefault(hit.query[: limits.MAX_QUERY_CHARS], []).append(hit.chunk_id)
        return grouped

    served = by_query("served")
    for path in ("http", "mcp"):
        answered = by_query(path)
        assert answered == {query: ids[: limits.MAX_K] for query, ids in served.items() if query in answered}, path
        assert set(answered) == set(served), path
