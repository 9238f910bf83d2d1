"""embedding_backend openai against a real OpenAI-compatible server (tests/python/openai_server.py,
backed by the bundled all-MiniLM-L6-v2, so its vectors are real), with faults injected there.

The client tests (unit tier: no dbt) cover retries (429 with Retry-After in seconds and as an
HTTP date, 500, timeouts, dropped connections), their limit, the response checks (shuffled
order, wrong count, dimension, duplicate index, NaN), normalisation, request sizing and the
journal (a failed run keeps what it got; the next run sends only the rest). One integration
group builds the real dbt project through the server: a build killed by SIGKILL mid-embedding,
then a rebuild that must send only the missing texts; the vectors, the pipeline_runs counters
and the absence of the API key anywhere in the build's files and tables are checked on it.
"""

from __future__ import annotations

import email.utils
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from openai_server import DEFAULT_MODEL, FakeOpenAIServer

from python_udfs.configuration.rules import check_vars
from python_udfs.embedding import (
    ApiConfigurationError,
    ApiEmbedder,
    ApiSettings,
    ApiStats,
    EmbeddingApiError,
    EmbeddingClient,
    InputTooLongError,
    Journal,
    MalformedResponseError,
    Progress,
    effective_model_id,
    embed_texts,
    fill_journal,
    journal_batches,
    journal_path,
    load_model,
    plan_requests,
    settings_from_config,
    token_bound,
)
from python_udfs.embedding.openai_api import retry_after_seconds
from python_udfs.embedding.streaming import embedding_batches

from conftest import DbtProject, copy_project

PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"
# Recognisable, so that a leak anywhere is found by grep.
API_KEY = "sk-docvec-LEAKCHECK-7f3a9c1e5b"
MODEL_ID = effective_model_id(DEFAULT_MODEL, "openai")
TEXTS = ["The tilapia tank is checked at dawn.", "Basil needs six hours of light.", "Perch spawn in spring.", "x"]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    fake = FakeOpenAIServer(API_KEY).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(autouse=True)
def fresh_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test that uses the server starts with its counters and faults at zero, and the key set."""
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()


def settings(server: FakeOpenAIServer, **overrides: object) -> ApiSettings:
    values: dict[str, object] = {"base_url": server.base_url, "model": DEFAULT_MODEL, "backoff_seconds": 0.01}
    values.update(overrides)
    return ApiSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def local_vectors() -> np.ndarray:
    return embed_texts(load_model(None, "torch"), TEXTS)


def project_vars() -> dict:
    import yaml

    return yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["vars"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# ---------------------------------------------------------------------------------------------
# The client against the server
# ---------------------------------------------------------------------------------------------


def test_vectors_equal_the_local_model(server: FakeOpenAIServer, local_vectors: np.ndarray) -> None:
    response = EmbeddingClient(settings(server)).embed(TEXTS)
    assert response.vectors.shape == (len(TEXTS), 384) and response.attempts == 1
    assert cosines(response.vectors, local_vectors).min() >= 0.9999
    assert response.reported_tokens == server.stats()["tokens"] > 0


def test_a_shuffled_response_is_put_back_in_input_order(server: FakeOpenAIServer, local_vectors: np.ndarray) -> None:
    server.inject({"kind": "shuffle"})
    response = EmbeddingClient(settings(server)).embed(TEXTS)
    assert server.stats()["faults_left"] == 0, "the shuffled answer was the one used"
    assert cosines(response.vectors, local_vectors).min() >= 0.9999


def test_vectors_are_l2_normalised(server: FakeOpenAIServer) -> None:
    server.inject({"kind": "scale", "factor": 7.0})
    vectors = EmbeddingClient(settings(server)).embed(TEXTS).vectors
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_429_waits_for_retry_after_seconds(server: FakeOpenAIServer) -> None:
    server.inject({"kind": "status", "status": 429, "retry_after": "1", "message": "slow down"})
    started = time.monotonic()
    response = EmbeddingClient(settings(server, backoff_seconds=0.001)).embed(TEXTS[:1])
    assert time.monotonic() - started >= 0.95, "Retry-After: 1 was not honoured"
    assert response.attempts == 2
    assert server.stats()["statuses"] == {"429": 1, "200": 1}


def test_429_waits_for_retry_after_as_an_http_date(server: FakeOpenAIServer) -> None:
    server.inject(
        {"kind": "status", "status": 429, "retry_after": email.utils.formatdate(time.time() + 2, usegmt=True)}
    )
    started = time.monotonic()
    response = EmbeddingClient(settings(server, backoff_seconds=0.001)).embed(TEXTS[:1])
    assert time.monotonic() - started >= 0.9 and response.attempts == 2


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds("-4") == 0.0
    assert retry_after_seconds("99999") == 120.0  # capped
    assert retry_after_seconds(email.utils.formatdate(1_000_010, usegmt=True), now=1_000_000) == pytest.approx(
        10, abs=1
    )
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None and retry_after_seconds("") is None


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500, "message": "internal"},
        {"kind": "status", "status": 503},
        {"kind": "drop"},
        {"kind": "slow", "seconds": 3.0},
    ],
    ids=["500", "503", "dropped-connection", "timeout"],
)
def test_transient_failures_are_retried(server: FakeOpenAIServer, local_vectors: np.ndarray, fault: dict) -> None:
    response = EmbeddingClient(settings(server, timeout_seconds=1.0))
    server.inject(fault)
    result = response.embed(TEXTS)
    assert result.attempts == 2
    assert cosines(result.vectors, local_vectors).min() >= 0.9999
    assert server.stats()["requests"] == 2


def test_exhausted_retries_name_the_status_and_the_provider_message(server: FakeOpenAIServer) -> None:
    server.inject(default={"kind": "status", "status": 500, "message": "the GPU caught fire"})
    with pytest.raises(EmbeddingApiError) as caught:
        EmbeddingClient(settings(server, max_retries=2)).embed(TEXTS)
    message = str(caught.value)
    assert "after 3 attempts" in message and "HTTP 500" in message and "the GPU caught fire" in message
    assert API_KEY not in message and caught.value.attempts == 3
    assert server.stats()["requests"] == 3


def test_a_wrong_key_fails_at_once_without_the_key(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCVEC_TEST_WRONG_KEY", "sk-wrong-0000")
    with pytest.raises(EmbeddingApiError) as caught:
        EmbeddingClient(settings(server, key_env="DOCVEC_TEST_WRONG_KEY")).embed(TEXTS)
    message = str(caught.value)
    assert caught.value.status == 401 and "not retried" in message and "DOCVEC_TEST_WRONG_KEY" in message
    assert "sk-wrong-0000" not in message
    assert server.stats()["requests"] == 1


@pytest.mark.parametrize("kind", ["wrong_dimension", "wrong_count", "duplicate_index", "nan"])
def test_a_malformed_response_fails_loudly(server: FakeOpenAIServer, kind: str) -> None:
    server.inject({"kind": kind})
    with pytest.raises(MalformedResponseError, match="malformed embeddings response"):
        EmbeddingClient(settings(server, expected_dimension=384)).embed(TEXTS)


def test_requests_are_sized_by_texts_and_token_budget(server: FakeOpenAIServer, local_vectors: np.ndarray) -> None:
    bounds = [token_bound(t) for t in TEXTS]
    embedder = ApiEmbedder(settings(server, max_texts_per_request=3, max_request_tokens=bounds[0] + bounds[1]))
    vectors = embedder.encode(TEXTS)
    assert cosines(vectors, local_vectors).min() >= 0.9999
    # [t0, t1] (budget full), [t2, t3]
    assert server.stats()["requests"] == 2
    plan = plan_requests(TEXTS, max_input_tokens=100, max_request_tokens=1000, max_texts_per_request=3)
    assert plan.requests == [[0, 1, 2], [3]] and plan.too_long == []


def test_an_input_over_the_limit_is_never_sent(server: FakeOpenAIServer) -> None:
    embedder = ApiEmbedder(settings(server, max_input_tokens=20))
    with pytest.raises(InputTooLongError, match="text_sha256 [0-9a-f]{64}") as caught:
        embedder.encode(["short", "a" * 19])
    assert "a" * 19 not in str(caught.value)
    assert server.stats()["requests"] == 0
    assert token_bound("é") == 4  # two UTF-8 bytes + 2


def test_query_embedding_through_load_model_reads_the_environment(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, local_vectors: np.ndarray
) -> None:
    """What docvec search / serve and the docvec_embed_query UDF call: load_model(path, backend)."""
    from docvec.searching import embed_query
    from python_udfs.plugin import embed_query_udf

    monkeypatch.setenv("DOCVEC_EMBEDDING_API_BASE_URL", server.base_url)
    monkeypatch.setenv("DOCVEC_EMBEDDING_API_MODEL", DEFAULT_MODEL)
    vector = np.asarray([embed_query(TEXTS[0], None, "openai"), embed_query_udf(TEXTS[0], None, "openai")])
    assert cosines(vector, local_vectors[[0, 0]]).min() >= 0.9999
    assert server.stats()["answered_texts"] >= 2


# ---------------------------------------------------------------------------------------------
# The journal: nothing paid for is lost
# ---------------------------------------------------------------------------------------------


def text_batch(texts: list[str]) -> pa.RecordBatch:
    from python_udfs.embedding.api_embedder import text_sha256

    return pa.RecordBatch.from_pydict({"text_sha256": [text_sha256(t) for t in texts], "chunk_text": texts})


def corpus(n: int) -> list[str]:
    return [f"Note {i}: pump {i * 7} was serviced on day {i * 3} in bay {i % 5}." for i in range(n)]


def run_fill(embedder: ApiEmbedder, journal: Journal, batches: list[pa.RecordBatch], stats: ApiStats) -> None:
    total = sum(b.num_rows for b in batches)
    fill_journal(batches, embedder, journal, stats, progress=Progress(total, lambda _: None), log=lambda _: None)


def test_a_failed_run_keeps_what_it_got_and_the_next_sends_only_the_rest(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    texts = corpus(12)
    batches = [text_batch(texts[:8]), text_batch(texts[8:])]
    embedder = ApiEmbedder(settings(server, max_texts_per_request=2, concurrency=1, max_retries=1))
    server.inject({"kind": "ok"}, {"kind": "ok"}, default={"kind": "status", "status": 502, "message": "bad gateway"})
    path = tmp_path / "journal.sqlite3"
    stats = ApiStats()
    with Journal(path, 384) as journal, pytest.raises(EmbeddingApiError, match="HTTP 502: bad gateway"):
        run_fill(embedder, journal, batches, stats)
    assert stats.texts_sent == 4 and stats.requests == 4 and stats.retries == 1  # 2 answered, 1 failed twice
    with Journal(path, 384) as journal:
        assert journal.count() == 4

    server.reset()
    stats = ApiStats()
    with Journal(path, 384) as journal:
        run_fill(embedder, journal, batches, stats)
        assert server.stats()["texts"] == 8, "only the texts the journal lacked were sent"
        assert stats.texts_from_journal == 4 and stats.texts_sent == 8
        out = pa.Table.from_batches(
            journal_batches(batches, journal, model_id=MODEL_ID, dimension=384, invocation_id="i", close=False)
        )
        assert journal.prune_except_marked() == 0
    local = embed_texts(load_model(None, "torch"), texts)
    stored = np.asarray(out.column("embedding").to_pylist())
    assert out.column("text_sha256").to_pylist() == [h for b in batches for h in b.column("text_sha256").to_pylist()]
    assert cosines(stored, local).min() >= 0.9999


def test_the_journal_prunes_texts_no_longer_pending(tmp_path: Path) -> None:
    vectors = np.eye(3, 4, dtype=np.float32)
    with Journal(tmp_path / "j.sqlite3", 4) as journal:
        journal.add(["a", "b", "c"], vectors)
        journal.mark_pending(["b"])
        assert journal.prune_except_marked() == 2
        assert journal.known(["a", "b", "c"]) == {"b"}
        assert np.array_equal(journal.vectors(["b"])["b"], vectors[1])
    with Journal(tmp_path / "j.sqlite3", 5) as wrong, pytest.raises(ValueError, match="4 dimensions"):
        wrong.vectors(["b"])


def test_embedding_batches_with_an_api_embedder_journals_and_streams(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCVEC_CACHE_DIR", str(tmp_path))
    texts = corpus(5)
    embedder = ApiEmbedder(settings(server, expected_dimension=384))
    out = list(embedding_batches([text_batch(texts)], embedder, model_id=MODEL_ID, total=5, log=lambda _: None))
    assert sum(b.num_rows for b in out) == 5
    with Journal(journal_path(MODEL_ID), 384) as journal:
        assert journal.count() == 5


# ---------------------------------------------------------------------------------------------
# Configuration and model ids
# ---------------------------------------------------------------------------------------------


def test_model_ids_never_mix_with_local_vectors() -> None:
    assert effective_model_id("text-embedding-3-small", "openai") == "openai:text-embedding-3-small"
    assert effective_model_id(DEFAULT_MODEL, "openai") not in {
        effective_model_id(DEFAULT_MODEL, b) for b in ("torch", "onnx", "onnx-int8")
    }
    assert effective_model_id(DEFAULT_MODEL, "torch") == DEFAULT_MODEL


def test_settings_from_the_dbt_config() -> None:
    config = {
        "embedding_api_base_url": "https://api.openai.com/v1",
        "embedding_api_model": "",
        "embedding_api_dimensions": "512",
        "embedding_api_key_env": "MY_KEY",
        "embedding_api_max_retries": "0",
        "embedding_api_concurrency": "2",
    }
    got = settings_from_config(config, "text-embedding-3-small@512", 512, environ={})
    assert (got.model, got.dimensions, got.expected_dimension, got.key_env) == (
        "text-embedding-3-small",
        512,
        512,
        "MY_KEY",
    )
    assert (got.max_retries, got.concurrency, got.endpoint) == (0, 2, "https://api.openai.com/v1/embeddings")
    assert settings_from_config({**config, "embedding_api_dimensions": "None"}, "m", 384, environ={}).dimensions is None
    # not configured (the model's YAML lacks the key): the environment, then the defaults
    env = {"DOCVEC_EMBEDDING_API_BASE_URL": "http://127.0.0.1:9/v1", "DOCVEC_EMBEDDING_API_MODEL": "served"}
    fallback = settings_from_config({}, "m@384", 384, environ=env)
    assert (fallback.base_url, fallback.model, fallback.dimensions, fallback.key_env) == (
        env["DOCVEC_EMBEDDING_API_BASE_URL"],
        "served",
        None,
        "OPENAI_API_KEY",
    )
    assert settings_from_config({"embedding_api_base_url": "http://h/v1"}, "m@384", 384, environ={}).model == "m"
    with pytest.raises(ApiConfigurationError, match="embedding_api_base_url"):
        settings_from_config({}, "m", 384, environ={})


def test_var_defaults_are_the_client_defaults() -> None:
    """dbt_project.yml's embedding_api_* defaults and openai_api's DEFAULT_* are the same numbers."""
    from python_udfs.embedding import openai_api

    defaults = project_vars()
    assert defaults["embedding_api_key_env"] == openai_api.DEFAULT_KEY_ENV
    for name in (
        "max_input_tokens",
        "max_request_tokens",
        "max_texts_per_request",
        "concurrency",
        "timeout_seconds",
        "max_retries",
    ):
        assert defaults[f"embedding_api_{name}"] == getattr(openai_api, f"DEFAULT_{name.upper()}"), name


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"embedding_api_base_url": "ftp://x"}, "var embedding_api_base_url = 'ftp://x': expected null or an http"),
        ({"embedding_api_key_env": "sk-abc def"}, "var embedding_api_key_env = 'sk-abc def': expected the name of"),
        ({"embedding_api_dimensions": 0}, "var embedding_api_dimensions = 0: expected null or an integer >= 1"),
        ({"embedding_api_concurrency": 0}, "var embedding_api_concurrency = 0: expected an integer from 1 to 64"),
        ({"embedding_api_timeout_seconds": 0}, "var embedding_api_timeout_seconds = 0: expected a finite number > 0"),
        (
            {
                "embedding_backend": "openai",
                "embedding_api_dimensions": 512,
                "embedding_dimension": 512,
                "embedding_model_id": "text-embedding-3-small",
            },
            "var embedding_model_id = 'text-embedding-3-small': expected a model id ending in @512",
        ),
    ],
)
def test_configuration_rules_of_the_api_vars(values: dict, expected: str) -> None:
    problems = check_vars(values)
    assert any(p.startswith(expected) for p in problems), problems


def test_valid_api_vars_pass() -> None:
    values = {
        "embedding_backend": "openai",
        "embedding_model_id": "text-embedding-3-small@512",
        "embedding_dimension": 512,
        "embedding_api_base_url": "https://api.openai.com/v1",
        "embedding_api_dimensions": 512,
        "embedding_api_key_env": "OPENAI_API_KEY",
    }
    assert check_vars(values) == []


# ---------------------------------------------------------------------------------------------
# The dbt project through the server: killed, rebuilt, checked
# ---------------------------------------------------------------------------------------------

TOPICS = ["tilapia", "trout", "lettuce", "basil", "kale"]
API_VARS = "{embedding_backend: openai, embedding_api_max_texts_per_request: 2, embedding_api_concurrency: 1}"
# The evaluation models and their gates are not what is tested here (and a 5-file corpus has
# no golden questions to speak of); query embedding through the API is tested above.
BUILD_ARGS = ("build", "--vars", API_VARS, "--exclude", "tag:evaluation")


def write_corpus(root: Path) -> None:
    """Five small Markdown files of four sections each: about 25 distinct chunk texts."""
    for n, topic in enumerate(TOPICS):
        sections = [
            f"## {topic.title()} check {p}\n\nSection {p} about {topic}: unit {n * 10 + p} is checked at dawn, "
            f"its reading {n * 7 + p} is logged in book {p} and the {topic} log is signed by shift {p}."
            for p in range(1, 5)
        ]
        (root / f"{topic}.md").write_text(f"# Notes on {topic}\n\n" + "\n\n".join(sections) + "\n")


class ApiBuild:
    """The project built through the server: the killed build's journal size, the rebuild's
    server counters."""

    def __init__(self, project: DbtProject, cache: Path, journal_rows_after_kill: int, rebuild: dict, first: dict):
        self.project = project
        self.cache = cache
        self.journal_rows_after_kill = journal_rows_after_kill
        self.rebuild = rebuild
        self.first = first


@pytest.fixture(scope="module")
def api_build(server: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory) -> ApiBuild:
    root = tmp_path_factory.mktemp("openai_build")
    landing = root / "landing"
    landing.mkdir()
    write_corpus(landing)
    project_dir = copy_project(root / "project")
    rules = "priority,path_glob,access_groups,description\n1,*,public,every file of the scenario\n"
    (project_dir / "seeds" / "access_rules.csv").write_text(rules)
    project = DbtProject(root, landing, project_dir=project_dir)
    cache = root / "cache"
    env = {
        "OPENAI_API_KEY": API_KEY,
        "DOCVEC_CACHE_DIR": str(cache),
        "DOCVEC_EMBEDDING_API_BASE_URL": server.base_url,
        "DOCVEC_EMBEDDING_API_MODEL": DEFAULT_MODEL,
    }
    # 1. A build killed by SIGKILL once the server has answered three requests.
    server.reset()
    server.inject(default={"kind": "slow", "seconds": 0.4})
    log = root / "killed.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            project.command(*BUILD_ARGS),
            cwd=project_dir,
            env=project.env(**env),
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while server.stats()["answered"] < 3 and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    first = server.stats()
    assert first["answered"] >= 3, log.read_text()[-3000:]
    with sqlite3.connect(journal_path(MODEL_ID, cache)) as conn:
        journal_rows = conn.execute("select count(*) from vectors").fetchone()[0]
    # 2. The rebuild, with one 500 to retry (once the killed build's request in flight has ended).
    server.wait_idle()
    server.reset()
    server.inject({"kind": "status", "status": 500, "message": "flaky"}, default=None)
    project.dbt(*BUILD_ARGS, **env)
    return ApiBuild(project, cache, journal_rows, server.stats(), first)


@pytest.mark.integration
def test_the_rebuild_sends_only_the_texts_the_killed_build_did_not_get(api_build: ApiBuild) -> None:
    project = api_build.project
    distinct = project.query("select count(distinct text_sha256) from chunks")[0][0]
    # Every answered request's 2 vectors are in the journal, but for the responses that arrived
    # in the instant before the SIGKILL (at most the last two under load: one being committed, one
    # answered between the test's poll and the kill).
    assert api_build.journal_rows_after_kill >= 2 * (api_build.first["answered"] - 2)
    assert api_build.journal_rows_after_kill < distinct, "the build was killed before embedding everything"
    assert api_build.rebuild["answered_texts"] == distinct - api_build.journal_rows_after_kill
    assert project.query(f"select count(*) from embeddings where model_id = '{MODEL_ID}'")[0][0] == distinct
    with sqlite3.connect(journal_path(MODEL_ID, api_build.cache)) as conn:
        assert conn.execute("select count(*) from vectors").fetchone()[0] == distinct  # pruned by the next build


@pytest.mark.integration
def test_the_vectors_equal_the_local_backend(api_build: ApiBuild) -> None:
    rows = api_build.project.query(
        "select e.embedding, c.chunk_text from embeddings e join (select text_sha256, min(chunk_text) as chunk_text "
        f"from chunks group by 1) c using (text_sha256) where e.model_id = '{MODEL_ID}' order by e.text_sha256"
    )
    stored = np.asarray([r[0] for r in rows])
    local = embed_texts(load_model(None, "torch"), [r[1] for r in rows])
    assert cosines(stored, local).min() >= 0.9999
    assert np.allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)
    assert api_build.project.query("select distinct model_id from search_index") == [(MODEL_ID,)]
    assert api_build.project.query("select distinct model_id from embeddings") == [(MODEL_ID,)]


@pytest.mark.integration
def test_pipeline_runs_counts_requests_retries_and_tokens(api_build: ApiBuild) -> None:
    row = api_build.project.query(
        "select embedding_requests, embedding_retries, embedding_tokens, embedding_tokens_estimated, texts_embedded, "
        "distinct_texts from pipeline_runs"
    )
    assert len(row) == 1, "the killed build wrote no pipeline_runs row"
    requests, retries, tokens, estimated, texts_embedded, distinct = row[0]
    assert requests == api_build.rebuild["requests"] and retries == 1
    assert tokens == api_build.rebuild["tokens"] and estimated is False
    assert texts_embedded == distinct


@pytest.mark.integration
def test_the_api_key_is_nowhere_in_the_build(api_build: ApiBuild) -> None:
    project = api_build.project
    needle = API_KEY.encode()
    files = [p for folder in ("target", "logs") for p in (project.workdir / folder).rglob("*") if p.is_file()]
    files += [p for p in api_build.cache.rglob("*") if p.is_file()]
    assert files and not [str(p) for p in files if needle in p.read_bytes()]
    with project.connect() as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "join information_schema.tables using (table_catalog, table_schema, table_name) "
            "where table_type = 'BASE TABLE' and (data_type in ('VARCHAR', 'JSON') or data_type like 'VARCHAR%')"
        ).fetchall()
        for schema, table, column in columns:
            hits = conn.execute(
                f'select count(*) from "{schema}"."{table}" where contains("{column}"::varchar, ?)', [API_KEY]
            ).fetchone()
            assert hits == (0,), f"{schema}.{table}.{column} holds the API key"
    manifest = json.loads((project.workdir / "target" / "manifest.json").read_text())
    assert manifest["nodes"]["model.docvec.embeddings"]["config"]["embedding_api_key_env"] == "OPENAI_API_KEY"
