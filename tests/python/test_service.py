"""`docvec serve` as a real process on loopback: the HTTP API over a real serving store.

A small publication (service_support.write_publication: the publisher's own finalize and link
swap, vectors from the real model) is served to principals authenticated by API key and by JWT,
whose groups come from the server's auth config. Checked: what each principal may read in every
mode, 401/403/404/413/422/400 as JSON, the bounds, the metrics, the OpenAPI schema, the naughty
strings, and a new publication picked up under load with no failed or mixed request.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from service_support import DOCVEC, Chunk, Credentials, ServiceProcess, write_auth_config, write_publication

from docvec.service import limits
from docvec.service.auth import API_KEY_PREFIX

from conftest import naughty_strings

pytestmark = pytest.mark.integration

MODES = ("vector", "keyword", "hybrid")
HR_CANARY = "zorblatt"  # a word only the hr document holds
V2_TOKEN = "quokkafest"  # a word only the second publication holds
JWT_SECRET = "a test secret that is long enough for HS256 x"
JWT_SECRET_ENV = "DOCVEC_TEST_JWT_SECRET"
ISSUER, AUDIENCE = "https://idp.test", "docvec-tests"
GARDEN = "guide/garden.md"
CHUNKS = [
    Chunk(GARDEN, 0, "The glasshouse opens at nine in the morning.", title="Garden guide", section="Hours"),
    Chunk(GARDEN, 1, "Tomatoes and peppers grow in the warm glasshouse.", title="Garden guide", section="Plants"),
    Chunk(GARDEN, 2, "The orchard has apple and pear trees.", title="Garden guide", section="Orchard"),
    Chunk(GARDEN, 3, "Bees from the hives pollinate the orchard.", title="Garden guide", section="Orchard"),
    Chunk(GARDEN, 4, "The garden closes at dusk every day.", title="Garden guide", section="Hours"),
    Chunk(
        "guide/kitchen.md",
        0,
        "Soup is served in the kitchen at noon.",
        title="Kitchen",
        file_type="txt",
        metadata={"team": "kitchen"},
    ),
    Chunk("hr/salaries.md", 0, f"Salary bands {HR_CANARY} are confidential.", groups=("hr",), title="Salaries"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("service")
    serving = folder / "docvec.serving.duckdb"
    write_publication(serving, CHUNKS)
    return serving


@pytest.fixture(scope="module")
def credentials(store: Path) -> Credentials:
    extra = {
        "jwt": {
            "algorithm": "HS256",
            "secret_env": JWT_SECRET_ENV,
            "issuer": ISSUER,
            "audience": AUDIENCE,
            "groups_claim": "roles",
        },
        "claims": {"people-team": ["hr"]},
    }
    return write_auth_config(store.parent, {"viewer": ["public"], "hr-reader": ["public", "hr"], "nobody": []}, extra)


@pytest.fixture(scope="module")
def service(store: Path, credentials: Credentials) -> Iterator[ServiceProcess]:
    server = ServiceProcess(
        store, credentials.config_path, store.parent / "serve.log", env={JWT_SECRET_ENV: JWT_SECRET}
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client(service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        yield http


def auth(credentials: Credentials, principal: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.keys[principal]}"}


def token(**claims: object) -> str:
    payload = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300, **claims}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


def search(client: httpx.Client, headers: dict[str, str], query: str, **body: object) -> httpx.Response:
    return client.post("/v1/search", headers=headers, json={"query": query, **body})


def texts(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["chunk_text"] for hit in response.json()["results"]]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    assert "Traceback" not in response.text
    if code is not None:
        assert error["code"] == code, error
    return error


# -- operations -------------------------------------------------------------------------------


def test_health_and_readiness_report_the_publication(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["ready"] is True and body["version"] >= 1 and body["rows"] >= len(CHUNKS) - 1
    assert body["strategies"] == ["recursive_256"] and body["models"] == ["all-MiniLM-L6-v2"]
    assert body["age_seconds"] > 0
    assert body["duckdb_threads"] == 1  # the service default (docvec serve --duckdb-threads)


def test_not_ready_until_something_is_published(tmp_path: Path, credentials: Credentials) -> None:
    server = ServiceProcess(
        tmp_path / "empty.serving.duckdb",
        credentials.config_path,
        tmp_path / "log",
        "--lazy-model",
        env={JWT_SECRET_ENV: JWT_SECRET},
    )
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert_error(http.get("/readyz"), 503, "not_ready")
            assert_error(search(http, auth(credentials, "viewer"), "glasshouse"), 503)
    finally:
        server.stop()


def test_the_service_refuses_to_start_without_an_auth_config(tmp_path: Path, store: Path) -> None:
    result = subprocess.run(
        [DOCVEC, "serve", "--serving", str(store), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DOCVEC_AUTH_CONFIG"},
    )
    assert result.returncode == 2
    assert "no auth config" in result.stderr


def test_openapi_schema_has_the_endpoints_and_no_groups_field(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    for path in (
        "/v1/search",
        "/v1/documents/{document_id}",
        "/v1/chunks/{chunk_id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in schema["paths"], path
    body = schema["components"]["schemas"]["SearchBody"]
    assert {"query", "k", "mode", "strategy", "model", "filters"} <= set(body["properties"])
    assert not limits.GROUP_FIELDS & set(body["properties"])
    assert body["properties"]["k"]["maximum"] == limits.MAX_K


# -- who reads what -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_public_principal_never_gets_the_hr_document(
    client: httpx.Client, credentials: Credentials, mode: str
) -> None:
    found = texts(search(client, auth(credentials, "viewer"), f"salary bands {HR_CANARY} glasshouse", k=50, mode=mode))
    assert found, "the public control returned nothing"
    assert not [t for t in found if HR_CANARY in t]


@pytest.mark.parametrize("mode", MODES)
def test_an_hr_principal_gets_the_hr_document(client: httpx.Client, credentials: Credentials, mode: str) -> None:
    found = texts(search(client, auth(credentials, "hr-reader"), f"salary bands {HR_CANARY}", k=50, mode=mode))
    assert any(HR_CANARY in t for t in found)


def test_results_carry_what_a_rag_application_cites(client: httpx.Client, credentials: Credentials) -> None:
    response = search(client, auth(credentials, "viewer"), "When does the glasshouse open?", k=3)
    body = response.json()
    top = body["results"][0]
    assert top["chunk_text"].startswith("The glasshouse opens")
    assert (top["rank"], top["title"], top["section"], top["source_path"]) == (1, "Garden guide", "Hours", GARDEN)
    assert top["end_char"] > top["start_char"] >= 0 and len(top["document_id"]) == 32 and top["score"] > 0
    assert body["mode"] == "hybrid" and body["strategy"] == "recursive_256" and body["publication"]["version"] >= 1


def test_filters_apply_with_the_groups(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "hr-reader")
    assert texts(search(client, headers, "served", mode="keyword", filters={"file_type": "txt"})) == [CHUNKS[5].text]
    assert texts(search(client, headers, "soup", mode="keyword", filters={"path_prefix": "hr/"})) == []
    assert texts(search(client, headers, "soup", mode="keyword", filters={"metadata": {"team": "kitchen"}}))
    assert texts(search(client, headers, "soup", mode="keyword", filters={"metadata": {"team": "hr"}})) == []


@pytest.mark.parametrize("mode", MODES)
def test_naming_the_published_strategy_and_model_ranks_as_without(
    client: httpx.Client, credentials: Credentials, mode: str
) -> None:
    """The strategy and model filters work through the HNSW path too (they filter its candidates)."""
    headers = auth(credentials, "viewer")
    named = search(client, headers, "glasshouse", mode=mode, strategy="recursive_256", model="all-MiniLM-L6-v2")
    assert texts(named) == texts(search(client, headers, "glasshouse", mode=mode))
    assert named.json()["strategy"] == "recursive_256"
    assert_error(search(client, headers, "glasshouse", mode=mode, model="other-model"), 400)


def test_an_unmapped_principal_reads_nothing(client: httpx.Client, credentials: Credentials) -> None:
    for mode in MODES:
        assert texts(search(client, auth(credentials, "nobody"), "glasshouse", mode=mode)) == []
    assert client.get("/v1/whoami", headers=auth(credentials, "nobody")).json()["groups"] == []
    document = CHUNKS[0].document_id
    assert_error(client.get(f"/v1/documents/{document}", headers=auth(credentials, "nobody")), 404)


def test_jwt_principals_get_their_mapped_groups(client: httpx.Client) -> None:
    plain = {"Authorization": f"Bearer {token()}"}
    assert client.get("/v1/whoami", headers=plain).json() == {"principal": "alice", "method": "jwt", "groups": []}
    mapped = {"Authorization": f"Bearer {token(roles=['people-team'])}"}
    assert client.get("/v1/whoami", headers=mapped).json()["groups"] == ["hr"]
    assert any(HR_CANARY in t for t in texts(search(client, mapped, HR_CANARY, mode="keyword")))
    raw = {"Authorization": f"Bearer {token(roles=['hr', 'public'])}"}  # claim values are not groups
    assert texts(search(client, raw, "glasshouse", mode="keyword")) == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Bearer {API_KEY_PREFIX}not-a-known-key"},
        {"X-API-Key": "wrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": f"Bearer {token(exp=int(time.time()) - 3600)}"},
        {"Authorization": f"Bearer {token(aud='someone-else')}"},
        {"Authorization": f"Bearer {token(iss='https://evil.test')}"},
        {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300},
                "forged-secret-of-length-32-bytes!",
                algorithm="HS256",
            )
        },
        {
            "Authorization": "Bearer "
            + jwt.encode({"sub": "alice", "iss": ISSUER, "aud": AUDIENCE}, JWT_SECRET, algorithm="HS256")
        },  # no exp
    ],
    ids=[
        "none",
        "unknown-key",
        "wrong-x-api-key",
        "basic",
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "forged",
        "no-exp",
    ],
)
def test_bad_credentials_are_401_on_every_endpoint(client: httpx.Client, headers: dict[str, str]) -> None:
    document = CHUNKS[0].document_id
    for response in (
        client.post("/v1/search", headers=headers, json={"query": "glasshouse"}),
        client.post("/v1/search", headers={**headers, "content-type": "application/json"}, content=b"{not json"),
        client.get(f"/v1/documents/{document}", headers=headers),
        client.get(f"/v1/chunks/{CHUNKS[0].chunk_id}", headers=headers),
        client.post("/mcp", headers=headers, json={}),
    ):
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert JWT_SECRET not in json.dumps([client.get("/v1/whoami", headers=headers).json()])


def test_a_client_cannot_send_its_own_groups(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    attempts = [
        client.post("/v1/search", headers=headers, json={"query": HR_CANARY, "groups": ["hr"]}),
        client.post("/v1/search", headers=headers, json={"query": HR_CANARY, "access_groups": ["hr"]}),
        client.post("/v1/search", headers=headers, json={"query": HR_CANARY, "filters": {"groups": ["hr"]}}),
        client.post("/v1/search?groups=hr", headers=headers, json={"query": HR_CANARY}),
        client.post("/v1/search", headers={**headers, "X-Docvec-Groups": "hr"}, json={"query": HR_CANARY}),
        client.get(f"/v1/documents/{CHUNKS[6].document_id}?access_groups=hr", headers=headers),
    ]
    for response in attempts:
        assert_error(response, 403, "groups_not_allowed")


# -- documents and chunks ---------------------------------------------------------------------------


def test_a_document_comes_with_its_chunks_in_order(client: httpx.Client, credentials: Credentials) -> None:
    response = client.get(f"/v1/documents/{CHUNKS[0].document_id}", headers=auth(credentials, "viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["source_path"], body["title"], body["chunk_count"]) == (GARDEN, "Garden guide", 5)
    assert [c["chunk_text"] for c in body["chunks"]] == [c.text for c in CHUNKS[:5]]


def test_a_chunk_comes_with_its_neighbours(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    body = client.get(f"/v1/chunks/{CHUNKS[2].chunk_id}", params={"neighbours": 1}, headers=headers).json()
    assert body["chunk_text"] == CHUNKS[2].text
    assert [c["chunk_text"] for c in body["before"]] == [CHUNKS[1].text]
    assert [c["chunk_text"] for c in body["after"]] == [CHUNKS[3].text]
    alone = client.get(f"/v1/chunks/{CHUNKS[0].chunk_id}", params={"neighbours": 2}, headers=headers).json()
    assert alone["before"] == [] and len(alone["after"]) == 2
    too_many = client.get(
        f"/v1/chunks/{CHUNKS[0].chunk_id}", params={"neighbours": limits.MAX_NEIGHBOURS + 1}, headers=headers
    )
    assert_error(too_many, 422)


def test_documents_the_caller_may_not_read_are_not_found(client: httpx.Client, credentials: Credentials) -> None:
    viewer, hr = auth(credentials, "viewer"), auth(credentials, "hr-reader")
    hr_document, hr_chunk = CHUNKS[6].document_id, CHUNKS[6].chunk_id
    missing = assert_error(client.get(f"/v1/documents/{'0' * 32}", headers=viewer), 404)
    hidden = assert_error(client.get(f"/v1/documents/{hr_document}", headers=viewer), 404)
    assert hidden["message"].replace(hr_document, "ID") == missing["message"].replace("0" * 32, "ID")  # no oracle
    assert_error(client.get(f"/v1/chunks/{hr_chunk}", headers=viewer), 404)
    assert client.get(f"/v1/documents/{hr_document}", headers=hr).status_code == 200
    # a neighbour the caller may not read is never returned as context: none here, the hr doc is alone


@pytest.mark.parametrize(
    "bad_id",
    ["..%2F..%2Fetc%2Fpasswd", "' or 1=1 --", "%27%3B drop table search_index; --", "A" * 32, "0" * 33, "x", "%00"],
)
def test_hostile_ids_are_not_found(client: httpx.Client, credentials: Credentials, bad_id: str) -> None:
    headers = auth(credentials, "hr-reader")
    for path in (f"/v1/documents/{bad_id}", f"/v1/chunks/{bad_id}"):
        response = client.get(path, headers=headers)
        assert_error(response, 404)
        assert HR_CANARY not in response.text
    assert client.get("/readyz").status_code == 200  # the store is intact


# -- bounds ----------------------------------------------------------------------------------------------


def test_bounds_and_shapes(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    assert_error(search(client, headers, "x", k=0), 422)
    assert_error(search(client, headers, "x", k=limits.MAX_K + 1), 422)
    assert_error(search(client, headers, "x" * (limits.MAX_QUERY_CHARS + 1)), 422)
    assert_error(search(client, headers, "x", mode="semantic"), 422)
    assert_error(search(client, headers, "x", surprise=1), 422)
    assert_error(search(client, headers, "x", filters={"metadata": {f"k{i}": "v" for i in range(17)}}), 422)
    assert_error(search(client, headers, "   "), 400)
    assert_error(search(client, headers, "x", strategy="fixed_999"), 400)
    bad_json = client.post("/v1/search", headers={**headers, "content-type": "application/json"}, content=b"{")
    assert_error(bad_json, 400, "invalid_json")
    error = assert_error(search(client, headers, "x" * 5000), 422)
    assert "x" * 100 not in json.dumps(error), "the rejected input is echoed back"


def test_oversized_bodies_are_413(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    big = json.dumps({"query": "x", "filters": {"path_prefix": "p" * (limits.MAX_BODY_BYTES + 10)}}).encode()
    assert_error(client.post("/v1/search", headers={**headers, "content-type": "application/json"}, content=big), 413)

    def chunked() -> Iterator[bytes]:  # no content-length: counted while read
        yield b'{"query": "x", "filters": {"path_prefix": "'
        for _ in range(limits.MAX_BODY_BYTES // 4096 + 2):
            yield b"p" * 4096
        yield b'"}}'

    response = client.post("/v1/search", headers={**headers, "content-type": "application/json"}, content=chunked())
    assert_error(response, 413)


def test_naughty_strings_are_queries_not_failures(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    statuses: dict[int, int] = {}
    strings = naughty_strings()
    for n, text in enumerate(strings):  # every one through BM25 and the filters' SQL; every 8th embedded too
        response = search(client, headers, text, mode="hybrid" if n % 8 == 0 else "keyword", k=5)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code != 200:
            assert_error(response, response.status_code)
            assert response.status_code in (400, 422), (text, response.text)
        else:
            assert not [t for t in texts(response) if HR_CANARY in t]
    assert statuses.get(200, 0) > len(strings) * 0.9, statuses
    assert client.get("/readyz").status_code == 200


# -- metrics -------------------------------------------------------------------------------------------------


def test_metrics_count_requests_errors_and_the_publication(client: httpx.Client, credentials: Credentials) -> None:
    headers = auth(credentials, "viewer")
    for mode in MODES:
        search(client, headers, "glasshouse", mode=mode)
    client.get(f"/v1/documents/{'0' * 32}", headers=headers)
    text = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    for mode in MODES:
        assert f'docvec_requests_total{{endpoint="/v1/search",mode="{mode}",status="200"}}' in text
        assert f'docvec_request_duration_seconds_bucket{{endpoint="/v1/search",le="0.1",mode="{mode}"}}' in text
    assert 'docvec_request_errors_total{endpoint="/v1/documents",mode="none",status="404"}' in text
    assert "docvec_publication_loaded 1.0" in text
    assert "docvec_publication_version " in text and "docvec_publication_age_seconds " in text


# -- a new publication under load ------------------------------------------------------------------------


def test_a_new_publication_is_picked_up_under_load_without_failing_or_mixing(
    service: ServiceProcess, client: httpx.Client, credentials: Credentials, store: Path
) -> None:
    headers = auth(credentials, "viewer")
    before = client.get("/readyz").json()["version"]
    stop = threading.Event()
    seen: list[tuple[int, int, bool]] = []  # (status, version, saw the v2 token)
    errors: list[str] = []

    def reader() -> None:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            for _ in range(2000):  # bounded
                if stop.is_set():
                    return
                try:
                    response = search(http, headers, f"{V2_TOKEN} glasshouse", mode="keyword", k=20)
                except httpx.HTTPError as error:
                    errors.append(repr(error))
                    continue
                if response.status_code != 200:
                    errors.append(response.text)
                    continue
                body = response.json()
                seen.append(
                    (200, body["publication"]["version"], any(V2_TOKEN in h["chunk_text"] for h in body["results"]))
                )

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        after = write_publication(store, [*CHUNKS, Chunk("guide/new.md", 0, f"The {V2_TOKEN} starts in June.")])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(version == after for _, version, _ in seen):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors[:3]
    versions = {version for _, version, _ in seen}
    assert versions == {before, after}, versions
    assert all(saw == (version == after) for _, version, saw in seen), "a response mixed two publications"
    assert client.get("/readyz").json()["version"] == after
    assert service.process.poll() is None  # no restart
