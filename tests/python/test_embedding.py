"""Tests for python_udfs.embedding: vectors, streaming record batches, backends and progress."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.cleaning import sha256_text  # noqa: E402
from python_udfs.embedding import (  # noqa: E402
    BACKENDS,
    Progress,
    backends,
    effective_model_id,
    embed_texts,
    embedding_batches,
    embedding_dimension,
    load_model,
    output_schema,
    streaming,
)
from python_udfs.tokens import resolve_model_path  # noqa: E402

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


def test_embed_texts_batches_by_token_count(model, monkeypatch: pytest.MonkeyPatch) -> None:
    # More texts than one batch: batches are cut from the texts sorted by token count (longest
    # first), and the vectors come back in input order, equal to encode()'s.
    texts = [("word " * n).strip() for n in (3, 40, 1, 25, 7, 60, 2, 33)] + ["Get-Help -Name *"]
    calls: list[list[str]] = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda batch, **kw: calls.append(list(batch)) or encode(batch, **kw))
    vectors = embed_texts(model, texts, batch_size=4)
    lengths = streaming.token_lengths(model, texts)
    assert [len(c) for c in calls] == [4, 4, 1]
    flat = [t for c in calls for t in c]
    assert sorted(flat) == sorted(texts)
    assert [lengths[texts.index(t)] for t in flat] == sorted(lengths, reverse=True)
    monkeypatch.undo()
    np.testing.assert_allclose(vectors, model.encode(texts, normalize_embeddings=True), atol=1e-4)


def test_token_budget_shrinks_batches_of_long_texts_only(model, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [("word " * n).strip() for n in (200, 190, 180, 170, 5, 4, 3, 2, 6, 7)]
    lengths = streaming.token_lengths(model, texts)
    calls: list[list[str]] = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda batch, **kw: calls.append(list(batch)) or encode(batch, **kw))
    budgeted = embed_texts(model, texts, batch_size=8, max_batch_tokens=420)
    # The longest text (202 pieces with [CLS]/[SEP]) allows 2 per batch, then 2 again (182), then
    # the short ones fill what is left of a full batch of 8.
    assert [len(c) for c in calls] == [2, 2, 6]
    for call in calls:
        assert len(call) * max(lengths[texts.index(t)] for t in call) <= 420 or len(call) == 1
    calls.clear()
    unbudgeted = embed_texts(model, texts, batch_size=8, max_batch_tokens=None)
    assert [len(c) for c in calls] == [8, 2]
    monkeypatch.undo()
    np.testing.assert_allclose(budgeted, unbudgeted, atol=1e-4)


def test_a_text_longer_than_the_budget_gets_a_batch_of_its_own(model, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["word " * 300, "short one", "another short one"]
    calls: list[int] = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda batch, **kw: calls.append(len(batch)) or encode(batch, **kw))
    vectors = embed_texts(model, texts, batch_size=8, max_batch_tokens=16)
    assert calls == [1, 2]  # 256 pieces > 16: alone; the two short ones (<= 5 pieces each) fit together
    assert vectors.shape == (3, 384)
    with pytest.raises(ValueError, match="max_batch_tokens"):
        embed_texts(model, texts, batch_size=8, max_batch_tokens=0)


def test_token_lengths_are_truncated_at_max_seq_length(model) -> None:
    lengths = streaming.token_lengths(model, ["", "hello world", "word " * 2000])
    assert lengths.tolist()[:2] == [2, 4]
    assert lengths[2] == model.max_seq_length == 256


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
    assert BACKENDS == ("torch", "onnx", "onnx-int8", "openai")


def test_effective_model_id_torch_is_the_model_id() -> None:
    assert effective_model_id("m", "torch") == "m"
    assert effective_model_id("all-MiniLM-L6-v2", "torch") == "all-MiniLM-L6-v2"


def test_effective_model_id_differs_per_backend() -> None:
    ids = [effective_model_id("all-MiniLM-L6-v2", b) for b in BACKENDS]
    assert ids == ["all-MiniLM-L6-v2", "all-MiniLM-L6-v2@onnx", "all-MiniLM-L6-v2@onnx-int8", "openai:all-MiniLM-L6-v2"]
    assert len(set(ids)) == len(BACKENDS)


@pytest.mark.parametrize("backend", ["openvino", "", "Torch", "onnx_int8", "int8", "onnx-fp16"])
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
    before = datetime.now(UTC)
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
    after = datetime.now(UTC)
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
    out = list(embedding_batches(reader_of(texts, [3], large=True), model, model_id="m", total=3, log=lambda _: None))
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
    monkeypatch.setattr(streaming.time, "monotonic", fake)
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


# ---------------------------------------------------------------------------------------------
# ONNX backends: export into the cache, reuse, interrupted exports
# ---------------------------------------------------------------------------------------------

# Short sentences, PowerShell help text, Markdown with code, other scripts and an empty text.
ONNX_TEXTS = [
    *TEXTS,
    "Get-ChildItem -Path C:\\Windows -Recurse -Filter *.log | Remove-Item -WhatIf",
    "The `Set-ExecutionPolicy` cmdlet changes the user preference for the PowerShell execution policy. "
    "The execution policy is part of the security strategy of PowerShell: it determines whether you can "
    "load configuration files, such as your profile, and run scripts, and whether scripts must be "
    "digitally signed before they are run.",
    "Water quality in the grow beds is checked every morning: pH between 6.8 and 7.2, ammonia below "
    "0.5 ppm, nitrite below 1 ppm. New fish stay in quarantine for two weeks before joining the main tank.",
    "## Parameters\n\n### -Path\n\nSpecifies a path to one or more locations. Wildcards are accepted. "
    "The default location is the current directory (`.`).\n\n```yaml\nType: System.String[]\nRequired: False\n```",
    "Les réseaux de neurones apprennent des représentations à partir des données.",
]
MIN_MEAN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.99}
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.97}
STALE = 2 * backends.STALE_TEMP_SECONDS


def _snapshot(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _build(backend: str):
    """A fresh load (bypassing load_model's per-process cache), as a new process would do it."""
    return backends._load_model.__wrapped__(None, backend, "cpu", backends.cpu_threads())


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory):
    """A temporary DOCVEC_CACHE_DIR in which the first ONNX export happens, next to the left-overs
    of a crashed export (an old, half-written temporary folder) and of an export still running in
    another process (a recent temporary folder)."""
    cache = tmp_path_factory.mktemp("docvec-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(backends.CACHE_DIR_ENV, str(cache))
        target = backends.onnx_cache_dir(None)
        target.parent.mkdir(parents=True)
        crashed = target.parent / f".{target.name}.tmp-crashed"
        (crashed / "onnx").mkdir(parents=True)
        (crashed / "onnx" / "model.onnx").write_bytes(b"\x08\x07half a model")
        os.utime(crashed, (time.time() - STALE, time.time() - STALE))
        running = target.parent / f".{target.name}.tmp-running"
        running.mkdir()
        bundled = resolve_model_path(None)
        bundled_before = _snapshot(bundled)
        models = {backend: _build(backend) for backend in ("onnx", "onnx-int8")}
        yield {
            "cache": cache,
            "target": target,
            "crashed": crashed,
            "running": running,
            "models": models,
            "bundled": bundled,
            "bundled_before": bundled_before,
        }


def test_onnx_export_lands_in_the_cache_not_in_the_model_folder(onnx_cache) -> None:
    target = onnx_cache["target"]
    assert target.parent == onnx_cache["cache"] / "onnx"
    assert target.name.startswith(onnx_cache["bundled"].name + "-")
    assert (target / backends.ONNX_FILE).is_file()
    assert (target / "onnx" / backends.int8_file_name()).is_file()
    assert backends.int8_file_name().startswith("model_qint8_")
    marker = json.loads((target / backends.EXPORT_MARKER).read_text())
    assert marker["source"] == str(onnx_cache["bundled"].resolve())
    assert "sentence-transformers" in marker["versions"]
    # The bundled model (in site-packages) is left exactly as it was.
    assert _snapshot(onnx_cache["bundled"]) == onnx_cache["bundled_before"]
    assert not (onnx_cache["bundled"] / "onnx").exists()
    # No temporary folder of this run is left behind.
    temps = sorted(p.name for p in target.parent.iterdir() if ".tmp-" in p.name)
    assert temps == [onnx_cache["running"].name]


def test_interrupted_export_does_not_break_the_next_load(onnx_cache) -> None:
    # The crashed export's half-written folder was ignored and, being stale, removed; the one of
    # an export that may still be running elsewhere was left alone.
    assert not onnx_cache["crashed"].exists()
    assert onnx_cache["running"].is_dir()
    vectors = embed_texts(onnx_cache["models"]["onnx"], TEXTS[:2])
    assert vectors.shape == (2, DIMENSION)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_give_unit_vectors_close_to_torch(onnx_cache, model, backend: str) -> None:
    onnx_model = onnx_cache["models"][backend]
    assert embedding_dimension(onnx_model) == DIMENSION
    vectors = embed_texts(onnx_model, ONNX_TEXTS)
    assert vectors.shape == (len(ONNX_TEXTS), DIMENSION)
    assert vectors.dtype == np.float32 and vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * embed_texts(model, ONNX_TEXTS)).sum(axis=1)
    assert cosines.mean() >= MIN_MEAN_COSINE[backend]
    assert cosines.min() >= MIN_COSINE[backend]
    # Batching: identical for fp32; int8's dynamic quantization scales activations per batch,
    # so a text's vector moves slightly with its batch neighbours, never far.
    one_by_one = np.vstack([embed_texts(onnx_model, [t]) for t in ONNX_TEXTS[:6]])
    assert (one_by_one * vectors[:6]).sum(axis=1).min() >= MIN_COSINE[backend]


def test_onnx_backend_streams_record_batches(onnx_cache) -> None:
    model_id = effective_model_id("all-MiniLM-L6-v2", "onnx-int8")
    texts = TEXTS[:5]
    out = list(
        embedding_batches(
            reader_of(texts, [3, 2]), onnx_cache["models"]["onnx-int8"], model_id=model_id, total=5, log=lambda _: None
        )
    )
    table = pa.Table.from_batches(out)
    assert table.schema == output_schema(DIMENSION)
    assert set(table.column("model_id").to_pylist()) == {"all-MiniLM-L6-v2@onnx-int8"}
    assert table.column("text_sha256").to_pylist() == [sha256_text(t) for t in texts]


def test_second_load_reuses_the_export(onnx_cache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.CACHE_DIR_ENV, str(onnx_cache["cache"]))
    before = _snapshot(onnx_cache["target"])
    exports: list[str] = []
    monkeypatch.setattr(backends, "_export_onnx", lambda *a: exports.append("fp32"))
    monkeypatch.setattr(backends, "_export_int8", lambda *a: exports.append("int8"))
    again = {backend: _build(backend) for backend in ("onnx", "onnx-int8")}
    assert exports == []
    assert _snapshot(onnx_cache["target"]) == before  # nothing rewritten
    for backend, loaded in again.items():
        np.testing.assert_allclose(
            embed_texts(loaded, TEXTS[:3]), embed_texts(onnx_cache["models"][backend], TEXTS[:3]), atol=1e-5
        )


def test_load_model_caches_onnx_models_per_backend(onnx_cache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.CACHE_DIR_ENV, str(onnx_cache["cache"]))
    monkeypatch.setattr(backends, "_export_onnx", lambda *a: pytest.fail("re-exported"))
    monkeypatch.setattr(backends, "_export_int8", lambda *a: pytest.fail("re-quantized"))
    onnx, int8 = load_model(None, "onnx"), load_model(None, "onnx-int8")
    assert load_model(None, "onnx") is onnx and load_model(None, "onnx-int8") is int8
    assert onnx is not int8 and onnx is not load_model(None, "torch")


def test_failed_export_leaves_neither_model_nor_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentence_transformers

    class Exploding:
        """Writes half an export, then fails, as an export killed midway would."""

        def __init__(self, *args, **kwargs) -> None:
            pass

        def save_pretrained(self, folder: str) -> None:
            (Path(folder) / "onnx").mkdir(parents=True)
            (Path(folder) / "onnx" / "model.onnx").write_bytes(b"\x08\x07half")
            raise RuntimeError("export interrupted")

    monkeypatch.setenv(backends.CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Exploding)
    with pytest.raises(RuntimeError, match="export interrupted"):
        backends.ensure_onnx_export(resolve_model_path(None))
    target = backends.onnx_cache_dir(None)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_incomplete_cache_folder_is_replaced_atomically(tmp_path: Path) -> None:
    target = tmp_path / "onnx" / "model-0123"
    (target / "onnx").mkdir(parents=True)
    (target / "onnx" / "model.onnx").write_bytes(b"half")  # no marker: not a finished export
    assert not backends._is_complete_export(target)
    fresh = tmp_path / "onnx" / ".model-0123.tmp-new"
    (fresh / "onnx").mkdir(parents=True)
    (fresh / "onnx" / "model.onnx").write_bytes(b"whole")
    (fresh / backends.EXPORT_MARKER).write_text("{}")
    backends._install_dir(fresh, target)
    assert backends._is_complete_export(target)
    assert (target / "onnx" / "model.onnx").read_bytes() == b"whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model-0123"]


def test_finished_export_of_another_process_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "model-0123"
    (target / "onnx").mkdir(parents=True)
    (target / "onnx" / "model.onnx").write_bytes(b"theirs")
    (target / backends.EXPORT_MARKER).write_text("{}")
    mine = tmp_path / ".model-0123.tmp-mine"
    (mine / "onnx").mkdir(parents=True)
    (mine / "onnx" / "model.onnx").write_bytes(b"mine")
    backends._install_dir(mine, target)
    assert (target / "onnx" / "model.onnx").read_bytes() == b"theirs"


def test_cache_folder_follows_env_path_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.CACHE_DIR_ENV, str(tmp_path / "cache"))
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    (model_dir / "tokenizer.json").write_text("{}")
    first = backends.onnx_cache_dir(str(model_dir))
    assert first.parent == tmp_path / "cache" / "onnx"
    assert first.name.startswith("my-model-")
    assert backends.onnx_cache_dir(str(model_dir)) == first  # stable
    stamp = time.time() + 10
    os.utime(model_dir / "tokenizer.json", (stamp, stamp))
    assert backends.onnx_cache_dir(str(model_dir)) != first  # the model changed: a new export
    monkeypatch.delenv(backends.CACHE_DIR_ENV)
    assert backends.cache_root() == Path.home() / ".cache" / "docvec"


def test_int8_config_matches_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends.platform, "machine", lambda: "x86_64")
    cases = [
        ({"avx2", "avx512f", "avx512bw", "avx512_vnni"}, "avx512_vnni"),
        ({"avx2", "avx512f", "avx512bw"}, "avx512"),
        ({"avx2", "fma"}, "avx2"),
    ]
    for flags, expected in cases:
        monkeypatch.setattr(backends, "cpu_flags", lambda flags=flags: flags)
        assert backends.int8_quantization_config() == expected
    monkeypatch.setattr(backends.platform, "machine", lambda: "aarch64")
    assert backends.int8_quantization_config() == "arm64"


def test_threads_default_to_usable_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.THREADS_ENV, raising=False)
    assert 1 <= backends.cpu_threads() <= (os.cpu_count() or 1)
    monkeypatch.setenv(backends.THREADS_ENV, "1")
    assert backends.cpu_threads() == 1
    for bad in ("0", "-2", "two"):
        monkeypatch.setenv(backends.THREADS_ENV, bad)
        with pytest.raises(ValueError, match=backends.THREADS_ENV):
            backends.cpu_threads()
