"""Tests for python_udfs.embedding: vectors, streaming record batches, backends and progress."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs import embedding  # noqa: E402
from python_udfs.cleaning import sha256_text  # noqa: E402
from python_udfs.embedding import (  # noqa: E402
    BACKENDS,
    Progress,
    effective_model_id,
    embed_texts,
    embedding_batches,
    embedding_dimension,
    load_model,
    output_schema,
)

DIMENSION = 384


@pytest.fixture(scope="session")
def model():
    """The bundled all-MiniLM-L6-v2, loaded once (load_model is cached per process).

    Called with the same arguments as the docvec_embed_query UDF so that both share one cache entry.
    """
    return load_model(None, "torch")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def reader_of(texts: list[str], batch_rows: list[int], large: bool = False) -> pa.RecordBatchReader:
    """A RecordBatchReader of (text_sha256, chunk_text) cut into batches of the given sizes."""
    string = pa.large_string() if large else pa.string()
    schema = pa.schema([("text_sha256", string), ("chunk_text", string)])
    batches, position = [], 0
    for rows in batch_rows:
        part = texts[position : position + rows]
        position += rows
        batches.append(
            pa.RecordBatch.from_arrays(
                [pa.array([sha256_text(t) for t in part], string), pa.array(part, string)], schema=schema
            )
        )
    assert position == len(texts)
    return pa.RecordBatchReader.from_batches(schema, batches)


TEXTS = [
    "A man is playing a guitar on stage.",
    "Someone performs music with a stringed instrument.",
    "The central bank raised interest rates again.",
    "Inflation and monetary policy dominated the news.",
    "Cats sleep for most of the day.",
    "東京は日本の首都です。",
    "",
]


# ---------------------------------------------------------------------------------------------
# Model and embed_texts
# ---------------------------------------------------------------------------------------------


def test_model_is_cached_and_has_384_dimensions(model) -> None:
    assert load_model(None, "torch") is model
    assert embedding_dimension(model) == DIMENSION


def test_embed_texts_shape_dtype_and_unit_norm(model) -> None:
    vectors = embed_texts(model, TEXTS)
    assert vectors.shape == (len(TEXTS), DIMENSION)
    assert vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embed_texts_empty_list(model) -> None:
    vectors = embed_texts(model, [])
    assert vectors.shape == (0, DIMENSION)
    assert vectors.dtype == np.float32


def test_similar_sentences_score_higher(model) -> None:
    guitar, music, bank, inflation, cats = embed_texts(model, TEXTS[:5])
    assert cosine(guitar, music) > cosine(guitar, bank)
    assert cosine(guitar, music) > cosine(guitar, inflation)
    assert cosine(bank, inflation) > cosine(bank, cats)
    assert cosine(bank, inflation) > cosine(bank, music)
    # Normalised vectors: the dot product is the cosine.
    assert float(np.dot(guitar, music)) == pytest.approx(cosine(guitar, music), abs=1e-5)


def test_embeddings_do_not_depend_on_batching(model) -> None:
    together = embed_texts(model, TEXTS, batch_size=64)
    one_by_one = np.vstack([embed_texts(model, [t], batch_size=1) for t in TEXTS])
    small_batches = embed_texts(model, TEXTS, batch_size=2)
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)
    np.testing.assert_allclose(together, small_batches, atol=1e-4)


def test_embed_texts_keeps_input_order(model) -> None:
    forward = embed_texts(model, TEXTS)
    backward = embed_texts(model, TEXTS[::-1])
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-4)


def test_identical_texts_give_identical_vectors(model) -> None:
    a, b, c = embed_texts(model, ["same text", "same text", "other text"])
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a, c, atol=1e-3)


def test_long_text_is_truncated_not_rejected(model) -> None:
    (vector,) = embed_texts(model, ["word " * 2000])
    assert vector.shape == (DIMENSION,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


# ---------------------------------------------------------------------------------------------
# Backends and model ids
# ---------------------------------------------------------------------------------------------


def test_backends() -> None:
    assert BACKENDS == ("torch",)


def test_effective_model_id_torch_is_the_model_id() -> None:
    assert effective_model_id("m", "torch") == "m"
    assert effective_model_id("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"


@pytest.mark.parametrize("backend", ["onnx", "openvino", "", "Torch"])
def test_unknown_backend_raises(backend: str) -> None:
    with pytest.raises(ValueError, match="unknown embedding_backend"):
        effective_model_id("m", backend)
    with pytest.raises(ValueError, match="unknown embedding_backend"):
        load_model(None, backend)


def test_load_model_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        load_model(str(tmp_path / "missing"))


# ---------------------------------------------------------------------------------------------
# output_schema and embedding_batches
# ---------------------------------------------------------------------------------------------


def test_output_schema() -> None:
    schema = output_schema(DIMENSION)
    assert schema.names == ["text_sha256", "model_id", "embedding", "dimension", "embedded_at", "invocation_id"]
    assert schema.field("embedding").type == pa.list_(pa.float32(), DIMENSION)
    assert schema.field("embedding").type.list_size == DIMENSION
    assert schema.field("dimension").type == pa.int32()
    assert schema.field("embedded_at").type == pa.timestamp("us", tz="UTC")
    assert output_schema(8).field("embedding").type.list_size == 8


def test_embedding_batches_stream(model) -> None:
    texts = TEXTS[:5]
    logs: list[str] = []
    before = datetime.now(timezone.utc)
    out = list(
        embedding_batches(
            reader_of(texts, [3, 0, 2]),
            model,
            model_id="all-MiniLM-L6-v2",
            total=len(texts),
            batch_size=2,
            invocation_id="inv-1",
            log=logs.append,
        )
    )
    after = datetime.now(timezone.utc)
    assert [b.num_rows for b in out] == [3, 2]  # empty batches are skipped, the rest streamed
    assert all(b.schema == output_schema(DIMENSION) for b in out)
    table = pa.Table.from_batches(out)
    assert table.column("text_sha256").to_pylist() == [sha256_text(t) for t in texts]
    assert set(table.column("model_id").to_pylist()) == {"all-MiniLM-L6-v2"}
    assert set(table.column("dimension").to_pylist()) == {DIMENSION}
    assert set(table.column("invocation_id").to_pylist()) == {"inv-1"}
    stamps = table.column("embedded_at").to_pylist()
    assert all(before - timedelta(seconds=1) <= s <= after + timedelta(seconds=1) for s in stamps)
    vectors = np.array(table.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(vectors, embed_texts(model, texts), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Logs: an opening line with the total and model, and a final progress line done/total.
    assert "5 texts to embed" in logs[0] and "all-MiniLM-L6-v2" in logs[0] and "384-d" in logs[0]
    assert "5/5 texts" in logs[-1] and "100%" in logs[-1]
    assert "texts/s" in logs[-1] and "ETA" in logs[-1]


def test_embedding_batches_accepts_large_strings_and_no_invocation(model) -> None:
    texts = ["alpha", "beta", "gamma"]
    out = list(
        embedding_batches(reader_of(texts, [3], large=True), model, model_id="m", total=3, log=lambda _: None)
    )
    (batch,) = out
    assert batch.schema == output_schema(DIMENSION)
    assert batch.column("text_sha256").to_pylist() == [sha256_text(t) for t in texts]
    assert batch.column("invocation_id").null_count == 3


def test_embedding_batches_is_lazy(model) -> None:
    consumed: list[int] = []

    def batches():
        for i, text in enumerate(["one", "two", "three"]):
            consumed.append(i)
            yield pa.RecordBatch.from_pydict({"text_sha256": [sha256_text(text)], "chunk_text": [text]})

    stream = embedding_batches(batches(), model, model_id="m", total=3, log=lambda _: None)
    assert consumed == []
    first = next(stream)
    assert first.num_rows == 1 and consumed == [0]
    assert sum(b.num_rows for b in stream) == 2 and consumed == [0, 1, 2]


def test_embedding_batches_of_nothing(model) -> None:
    logs: list[str] = []
    out = list(embedding_batches(reader_of([], []), model, model_id="m", total=0, log=logs.append))
    assert out == []
    assert len(logs) == 1 and "0 texts to embed" in logs[0]


def test_embedding_batches_output_round_trips_through_reader(model) -> None:
    texts = TEXTS[:4]
    batches = embedding_batches(reader_of(texts, [2, 2]), model, model_id="m", total=4, log=lambda _: None)
    reader = pa.RecordBatchReader.from_batches(output_schema(DIMENSION), batches)
    table = reader.read_all()
    assert table.num_rows == 4
    assert table.schema == output_schema(DIMENSION)


# ---------------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(embedding.time, "monotonic", fake)
    return fake


def test_progress_message_has_rate_and_eta(clock: FakeClock) -> None:
    progress = Progress(1000, lambda _: None)
    progress.done = 250
    message = progress.message(clock.now + 5.0)  # 250 texts in 5 s: 50/s, 750 left: 15 s
    assert "250/1,000 texts" in message
    assert "(25%)" in message
    assert "50.0 texts/s" in message
    assert "ETA 15s" in message


def test_progress_logs_at_most_every_interval(clock: FakeClock) -> None:
    logs: list[str] = []
    progress = Progress(100, logs.append, every=10.0)
    clock.now += 1
    progress.advance(10)
    assert logs == []  # too soon
    clock.now += 10
    progress.advance(10)
    assert len(logs) == 1 and "20/100" in logs[0]
    clock.now += 2
    progress.advance(10)
    assert len(logs) == 1
    clock.now += 1
    progress.advance(70)  # done: always logged
    assert len(logs) == 2 and "100/100" in logs[1] and "100%" in logs[1]
    assert "ETA 0s" in logs[1]


def test_progress_before_any_text_has_no_eta(clock: FakeClock) -> None:
    message = Progress(10, lambda _: None).message(clock.now + 1.0)
    assert "0/10 texts" in message and "0.0 texts/s" in message
    assert "ETA" in message  # no rate yet: no meaningful time left, but no error either


def test_progress_with_zero_total(clock: FakeClock) -> None:
    message = Progress(0, lambda _: None).message(clock.now + 1.0)
    assert "0/0 texts" in message and "100%" in message
