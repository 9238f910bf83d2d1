"""The backend that embeds a query is the one that embedded the vectors it is compared with.

Stored model ids say which backend made their vectors (python_udfs.embedding.effective_model_id:
`<id>` torch, `<id>@onnx`, `<id>@onnx-int8`, `openai:<id>`); `backend_of_model_id` reads it
back, and every query path (docvec.search, `docvec search`, the service's QueryEmbedder) embeds
by it unless told otherwise, and refuses a backend that contradicts it. The tables are real
publications (service_support.write_publication, real vectors of the bundled model) whose
model_id is rewritten to the case under test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from openai_server import DEFAULT_MODEL, FakeOpenAIServer
from service_support import MODEL_ID, Chunk, write_publication

from docvec.cli import main
from docvec.publishing.publisher import read_candidate, stamp_of
from docvec.publishing.rows import table_checksums
from docvec.publishing.store import ServingStore
from docvec.publishing.target_search import search_target, target_model_id
from docvec.publishing.targets import make_target
from docvec.searching import SearchFilters, connect, embed_query, query_backend, search, searched_model_id
from docvec.service.publication import LivePublication
from docvec.service.retrieval import QueryEmbedder, Retrieval, SearchRequest
from python_udfs.embedding import BACKENDS, backend_of_model_id, effective_model_id

CHUNKS = [
    Chunk("guide/glasshouse.md", 0, "The glasshouse opens at seven and closes at dusk."),
    Chunk("guide/glasshouse.md", 1, "Tilapia tanks are checked every morning at dawn."),
    Chunk("notes/kitchen.txt", 0, "The office kitchen is cleaned on Fridays.", file_type="txt"),
]
API_KEY = "sk-docvec-query-backend-test"


# -- backend_of_model_id ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model_id", ["all-MiniLM-L6-v2", "text-embedding-3-small@512", "org/model-v2.1"])
def test_backend_of_model_id_inverts_effective_model_id(backend: str, model_id: str) -> None:
    assert backend_of_model_id(effective_model_id(model_id, backend)) == backend


@pytest.mark.parametrize(
    ("model_id", "backend"),
    [
        ("all-MiniLM-L6-v2", "torch"),
        ("all-MiniLM-L6-v2@onnx", "onnx"),
        ("all-MiniLM-L6-v2@onnx-int8", "onnx-int8"),
        ("openai:text-embedding-3-small", "openai"),
        ("openai:text-embedding-3-small@512", "openai"),
        ("m@512", "torch"),  # dimensions are no backend
        ("m@onnx-int4", "torch"),  # nor an unknown suffix
    ],
)
def test_backend_of_model_id(model_id: str, backend: str) -> None:
    assert backend_of_model_id(model_id) == backend


# -- query_backend: what None means ---------------------------------------------------------------


def test_no_backend_means_the_backend_of_the_vectors() -> None:
    assert query_backend("m@onnx") == "onnx"
    assert query_backend("m@onnx-int8", None) == "onnx-int8"
    assert query_backend("openai:text-embedding-3-small@512") == "openai"
    assert query_backend("m") == "torch"
    assert query_backend(None) == "torch"  # an empty index: nothing to agree with


def test_an_explicit_backend_must_be_that_of_the_vectors() -> None:
    assert query_backend("m@onnx", "onnx") == "onnx"
    assert query_backend(None, "onnx-int8") == "onnx-int8"
    with pytest.raises(ValueError, match=r"model 'm@onnx', embedded by backend 'onnx'.*backend 'torch'"):
        query_backend("m@onnx", "torch")
    with pytest.raises(ValueError, match="backend 'onnx'"):
        query_backend("openai:m@512", "onnx")
    with pytest.raises(ValueError, match="unknown embedding_backend 'int8'"):
        query_backend("m", "int8")


# -- real search_index tables ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A serving store with one real publication (bundled model's vectors, model id MODEL_ID)."""
    path = str(tmp_path_factory.mktemp("query_backend") / "serving.duckdb")
    write_publication(path, CHUNKS, hnsw=False)
    return path


@pytest.fixture(scope="module")
def publication(serving: str) -> str:
    """The file of that publication."""
    path = ServingStore(serving).current_path()
    assert path is not None
    return path


def index_of(publication: str, folder: Path, *model_ids: str) -> str:
    """A copy of `publication` whose chunks carry `model_ids` (the first for all, the others one
    chunk each)."""
    path = str(folder / f"index-{len(list(folder.glob('index-*')))}.duckdb")
    shutil.copyfile(publication, path)
    with duckdb.connect(path) as conn:
        conn.execute("update search_index set model_id = ?", [model_ids[0]])
        for index, model_id in enumerate(model_ids[1:], start=1):
            conn.execute(
                "update search_index set model_id = ? where chunk_id = (select chunk_id from search_index "
                "order by chunk_id limit 1 offset ?)",
                [model_id, index - 1],
            )
    return path


@pytest.mark.parametrize(
    ("stored", "backend"),
    [("m@onnx", "onnx"), ("m@onnx-int8", "onnx-int8"), ("openai:m@512", "openai"), ("m", "torch")],
)
def test_the_auto_backend_is_read_from_the_table(publication: str, tmp_path: Path, stored: str, backend: str) -> None:
    with connect(index_of(publication, tmp_path, stored)) as conn:
        assert searched_model_id(conn, SearchFilters()) == stored
        assert query_backend(searched_model_id(conn, SearchFilters())) == backend


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_search_refuses_a_backend_that_contradicts_the_table(publication: str, tmp_path: Path, mode: str) -> None:
    with connect(index_of(publication, tmp_path, "m@onnx")) as conn:
        with pytest.raises(ValueError, match=r"'m@onnx'.*'torch'"):
            search(conn, "glasshouse", mode=mode, backend="torch")
        # keyword search embeds nothing: no backend to contradict
        assert search(conn, "glasshouse", mode="keyword", backend="torch")


def test_several_models_need_the_model_filter(publication: str, tmp_path: Path) -> None:
    with connect(index_of(publication, tmp_path, "m", "m@onnx")) as conn:
        with pytest.raises(ValueError, match=r"several models \(m, m@onnx\).*model_id filter"):
            search(conn, "glasshouse", mode="vector")
        chosen = SearchFilters(model_id="m@onnx")
        assert query_backend(searched_model_id(conn, chosen)) == "onnx"
        with pytest.raises(ValueError, match=r"'m@onnx'.*'torch'"):
            search(conn, "glasshouse", mode="vector", filters=chosen, backend="torch")


def test_the_search_command_refuses_a_contradicting_backend(
    publication: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = index_of(publication, tmp_path, "m@onnx-int8")
    assert main(["search", "glasshouse", "--db", path, "--mode", "vector", "--backend", "torch"]) == 2
    assert "'m@onnx-int8', embedded by backend 'onnx-int8'" in capsys.readouterr().err


def test_search_finds_with_the_auto_backend(publication: str, tmp_path: Path) -> None:
    """The published model id (torch's): the default search embeds with torch and ranks as with its vector."""
    with connect(index_of(publication, tmp_path, MODEL_ID)) as conn:
        auto = search(conn, "When does the glasshouse open?", k=2, mode="vector")
        vector = embed_query("When does the glasshouse open?")
        given = search(conn, "When does the glasshouse open?", k=2, mode="vector", vector=vector)
    assert [hit.chunk_id for hit in auto] == [hit.chunk_id for hit in given]
    assert auto[0].chunk_text == CHUNKS[0].text


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAIServer]:
    """The fake OpenAI-compatible server (the bundled model's vectors), named by the environment."""
    fake = FakeOpenAIServer(API_KEY).start()
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("DOCVEC_EMBEDDING_API_BASE_URL", fake.base_url)
    monkeypatch.setenv("DOCVEC_EMBEDDING_API_MODEL", DEFAULT_MODEL)
    try:
        yield fake
    finally:
        fake.stop()


def test_openai_vectors_are_searched_through_the_api_by_default(
    publication: str, tmp_path: Path, api_server: FakeOpenAIServer
) -> None:
    """Vectors stored as openai:<id>: a search naming no backend embeds its query through the API
    (the server answers it), not with a local model."""
    with connect(index_of(publication, tmp_path, effective_model_id(DEFAULT_MODEL, "openai"))) as conn:
        hits = search(conn, "When does the glasshouse open?", k=1, mode="vector")
    assert api_server.stats()["answered_texts"] >= 1  # the query (and the client's dimension probe)
    assert hits[0].chunk_text == CHUNKS[0].text


# -- an external publish target ----------------------------------------------------------------


def test_a_target_is_searched_by_the_backend_of_the_publication_it_holds(serving: str, tmp_path: Path) -> None:
    publication = ServingStore(serving).current()
    assert publication is not None
    target = make_target({"name": "lake", "type": "lancedb", "uri": str(tmp_path / "lancedb"), "table": "search_index"})
    try:
        candidate = read_candidate(publication)
        target.sync(candidate, table_checksums(candidate), stamp_of(publication))
        stored = target_model_id(serving, target)
        assert stored == MODEL_ID
        question = "When does the glasshouse open?"
        with pytest.raises(ValueError, match=f"'{MODEL_ID}', embedded by backend 'torch'"):
            search_target(target, question, mode="vector", backend="onnx", stored_model_id=stored)
        hits = search_target(target, question, k=1, mode="vector", stored_model_id=stored)
    finally:
        target.close()
    assert [hit.chunk_text for hit in hits] == [CHUNKS[0].text]


# -- the service ----------------------------------------------------------------------------------


def test_the_query_embedder_refuses_a_contradicting_backend() -> None:
    with pytest.raises(ValueError, match=r"'m@onnx'.*'torch'"):
        QueryEmbedder(backend="torch").embed("glasshouse", "m@onnx")
    with pytest.raises(ValueError, match=r"'openai:m@512'.*'onnx'"):
        QueryEmbedder(backend="onnx").warm_up(["openai:m@512"])


def test_the_service_embeds_by_the_published_model(serving: str) -> None:
    """Retrieval hands the published model id to the embedder: a backend that contradicts it is
    refused, the default embeds by it."""
    request = SearchRequest("When does the glasshouse open?", k=1, mode="vector")
    refusing = Retrieval(LivePublication(serving), QueryEmbedder(backend="onnx"))
    auto = Retrieval(LivePublication(serving), QueryEmbedder())
    try:
        with pytest.raises(ValueError, match=f"'{MODEL_ID}', embedded by backend 'torch'"):
            refusing.search(("public",), request)
        answer = auto.search(("public",), request)
    finally:
        refusing.publication.close()
        auto.publication.close()
    assert answer["model"] == MODEL_ID
    assert [hit["chunk_text"] for hit in answer["results"]] == [CHUNKS[0].text]
