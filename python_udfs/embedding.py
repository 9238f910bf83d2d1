"""Embedding of chunk texts with sentence-transformers, loaded offline from a local folder.

The `embeddings` Python model streams the texts that still need a vector through
`embedding_batches`, which yields Arrow record batches that DuckDB writes as they come, so memory
stays bounded by one batch whatever the corpus size. The same loaded model embeds search queries.

Backends (var `embedding_backend`):

- `torch`: the model as shipped (PyTorch).
- `onnx`: the same weights exported to ONNX by sentence-transformers (optimum) and run by ONNX
  Runtime; same vectors up to float rounding (cosine > 0.9999).
- `onnx-int8`: that ONNX model with dynamic int8 quantization for this CPU's instruction set
  (`avx512_vnni`, `avx512`, `avx2` or `arm64`); faster, cosine to torch about 0.99.

The exports never touch the model folder (it may be read-only, e.g. in site-packages): they go to
`$DOCVEC_CACHE_DIR/onnx/<model folder name>-<hash of its path and mtime>` (default cache
`~/.cache/docvec`), written to a temporary folder or file first and renamed into place, so an
interrupted export never leaves half a model. Vectors of each backend carry their own model id
(`effective_model_id`), so they never mix in the embedding cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa

from .tokens import DEFAULT_MODEL_ID, resolve_model_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_BATCH_SIZE = 64
# Most word pieces one forward pass may hold (texts x longest text): bounds the activations'
# memory, which grows with batch x length (measured: 64 texts of ~250 pieces add ~0.66 GB,
# 16 add ~0.30 GB, at about the same texts/s). Short texts still fill whole batches.
DEFAULT_MAX_BATCH_TOKENS = 4096
# Texts read from DuckDB per step. encode() sorts each step's texts by length before cutting them
# into batches, so a larger step gives better length bucketing (less padding).
READ_STEP = 1024

CACHE_DIR_ENV = "DOCVEC_CACHE_DIR"
THREADS_ENV = "DOCVEC_EMBEDDING_THREADS"
ONNX_FILE = "onnx/model.onnx"
# Written last into an export folder (before it is renamed into place): what was exported, how.
EXPORT_MARKER = "docvec_export.json"
# Temporary export folders older than this are left-overs of a crashed export and are removed.
STALE_TEMP_SECONDS = 3600.0

logger = logging.getLogger("docvec.embedding")


def effective_model_id(model_id: str, backend: str) -> str:
    """The `model_id` stored with vectors: vectors from different backends never mix."""
    check_backend(backend)
    return model_id if backend == "torch" else f"{model_id}@{backend}"


def check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding_backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def cpu_threads() -> int:
    """Threads for inference: env DOCVEC_EMBEDDING_THREADS, else the CPUs this process may use."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {value!r}")
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def load_model(
    model_path: str | None = None,
    backend: str = "torch",
    *,
    device: str = "cpu",
    threads: int | None = None,
):
    """Load (once per process) the sentence-transformers model from a local folder.

    `backend` is one of BACKENDS; the ONNX ones export the model into the cache on first use.
    `threads` (default `cpu_threads()`) sets torch's and ONNX Runtime's intra-op threads.
    """
    return _load_model(model_path or None, backend, device, threads or cpu_threads())


@lru_cache(maxsize=4)
def _load_model(model_path: str | None, backend: str, device: str, threads: int):
    check_backend(backend)
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    path = resolve_model_path(model_path)
    if backend == "torch":
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    folder = ensure_onnx_export(path, quantized=backend == "onnx-int8")
    file_name = ONNX_FILE if backend == "onnx" else f"onnx/{int8_file_name()}"
    with _quiet_backend_logs():
        return SentenceTransformer(
            str(folder),
            device=device,
            backend="onnx",
            local_files_only=True,
            model_kwargs={"file_name": file_name, **_onnx_runtime_kwargs(device, threads)},
        )


def _onnx_runtime_kwargs(device: str, threads: int) -> dict:
    """ONNX Runtime provider and session options (intra-op threads) for `device`."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads sleep instead of spinning: with one thread per CPU, spinning workers only
    # steal time from torch's pooling and from DuckDB; each op of a 64 x 256 batch lasts
    # milliseconds, so the wake-up latency is negligible (more texts per CPU-second, measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    provider = "CPUExecutionProvider"
    if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        provider = "CUDAExecutionProvider"
    return {"provider": provider, "session_options": options}


# ---------------------------------------------------------------------------------------------
# ONNX export cache
# ---------------------------------------------------------------------------------------------


def cache_root() -> Path:
    """docvec's cache folder: env DOCVEC_CACHE_DIR, else ~/.cache/docvec."""
    return Path(os.path.expanduser(os.environ.get(CACHE_DIR_ENV) or "~/.cache/docvec"))


def model_fingerprint(model_path: Path) -> str:
    """Hash of the model folder's absolute path and its newest modification time."""
    path = Path(model_path).resolve()
    mtime = max([path.stat().st_mtime_ns] + [p.stat().st_mtime_ns for p in path.rglob("*") if p.is_file()])
    return hashlib.sha256(f"{path}\0{mtime}".encode()).hexdigest()[:16]


def onnx_cache_dir(model_path: str | Path | None = None) -> Path:
    """Where the ONNX export of the model at `model_path` (bundled if empty) lives."""
    path = resolve_model_path(str(model_path) if model_path else None).resolve()
    return cache_root() / "onnx" / f"{path.name}-{model_fingerprint(path)}"


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:  # pragma: no cover - not Linux
        pass
    return set()


def int8_quantization_config() -> str:
    """sentence-transformers' dynamic int8 config for this CPU: arm64, avx512_vnni, avx512 or avx2."""
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    flags = cpu_flags()
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if {"avx512f", "avx512bw"} <= flags:
        return "avx512"
    return "avx2"


def int8_file_name() -> str:
    return f"model_qint8_{int8_quantization_config()}.onnx"


def _is_complete_export(folder: Path) -> bool:
    return (folder / EXPORT_MARKER).is_file() and (folder / ONNX_FILE).is_file()


def ensure_onnx_export(model_path: Path, quantized: bool = False) -> Path:
    """The cache folder holding the ONNX export of `model_path` (and its int8 file if `quantized`).

    Exports on first use. The fp32 folder is built in a temporary folder next to its final place
    and renamed into place in one step; the int8 file is written to a temporary folder and moved
    in with os.replace. Either step interrupted leaves only a temporary folder, which later loads
    ignore (and remove once stale), never a half-written model.
    """
    target = onnx_cache_dir(model_path)
    if not _is_complete_export(target):
        _export_onnx(Path(model_path), target)
    if quantized and not (target / "onnx" / int8_file_name()).is_file():
        _export_int8(target, int8_quantization_config())
    return target


def _temp_dir_for(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temp_dirs(target.parent)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))


def _remove_stale_temp_dirs(parent: Path, max_age: float = STALE_TEMP_SECONDS) -> None:
    """Remove temporary export folders left by crashed exports (older than `max_age` seconds)."""
    now = time.time()
    for entry in parent.glob(".*.tmp-*"):
        try:
            if entry.is_dir() and now - entry.stat().st_mtime > max_age:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:  # raced with another process
            pass


@contextmanager
def _quiet_backend_logs():
    """Silence the export's chatter: sentence-transformers' advice to save into the model folder,
    the TorchScript exporter's deprecation and tracer warnings."""
    names = ("sentence_transformers.backend.utils", "sentence_transformers.backend.load")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*results are registered as constants in the trace.*")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("sentence-transformers", "optimum-onnx", "onnx", "onnxruntime", "torch", "transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _export_onnx(model_path: Path, target: Path) -> None:
    from sentence_transformers import SentenceTransformer

    started = time.monotonic()
    logger.info("exporting %s to ONNX into %s", model_path, target)
    temp = _temp_dir_for(target)
    try:
        # optimum exports into its own temporary folder; nothing is written into model_path.
        with _quiet_backend_logs():
            model = SentenceTransformer(str(model_path), device="cpu", backend="onnx", local_files_only=True)
        model.save_pretrained(str(temp))
        if not (temp / ONNX_FILE).is_file():
            raise RuntimeError(f"ONNX export of {model_path} wrote no {ONNX_FILE}")
        marker = {
            "source": str(Path(model_path).resolve()),
            "exported_at": datetime.now(UTC).isoformat(),
            "versions": _versions(),
        }
        (temp / EXPORT_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _install_dir(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    logger.info("exported %s to ONNX in %.1fs", model_path, time.monotonic() - started)


def _install_dir(temp: Path, target: Path) -> None:
    """Rename the finished export `temp` to `target` (atomic); replace an incomplete `target`."""
    try:
        os.rename(temp, target)
        return
    except OSError:
        if _is_complete_export(target):  # another process finished first: keep its export
            return
    # `target` exists but is incomplete (not made by this code): move it aside, then rename.
    aside = target.with_name(f".{target.name}.tmp-old-{uuid.uuid4().hex[:8]}")
    os.rename(target, aside)
    try:
        os.rename(temp, target)
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _export_int8(target: Path, config: str) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    started = time.monotonic()
    file_name = f"model_qint8_{config}.onnx"
    logger.info("quantizing %s to int8 (%s)", target / ONNX_FILE, config)
    temp = _temp_dir_for(target)
    try:
        with _quiet_backend_logs():
            model = SentenceTransformer(
                str(target), device="cpu", backend="onnx", local_files_only=True,
                model_kwargs={"file_name": ONNX_FILE},
            )
            export_dynamic_quantized_onnx_model(model, config, str(temp), file_suffix=f"qint8_{config}")
        written = temp / "onnx" / file_name
        if not written.is_file():
            raise RuntimeError(f"int8 quantization of {target} wrote no onnx/{file_name}")
        os.replace(written, target / "onnx" / file_name)  # same file system: atomic
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    logger.info("quantized to %s in %.1fs", file_name, time.monotonic() - started)


# ---------------------------------------------------------------------------------------------
# Embedding
# ---------------------------------------------------------------------------------------------


def embedding_dimension(model) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def token_lengths(model, texts: list[str]) -> np.ndarray | None:
    """Word pieces the model sees per text (truncated at its max_seq_length); None if unknown."""
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None or not callable(tokenizer):
        return None
    limit = int(getattr(model, "max_seq_length", 0) or 0) or None
    try:
        ids = tokenizer(
            [t.strip() for t in texts],  # sentence-transformers strips before tokenizing
            add_special_tokens=True,
            truncation=limit is not None,
            max_length=limit,
            padding=False,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
    except Exception:  # pragma: no cover - an exotic tokenizer: fall back to encode()'s own order
        return None
    return np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(texts))


def embed_texts(
    model,
    texts: list[str],
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text.

    Batches are cut from the texts sorted by their token count, so each batch is padded to
    little more than its own length. (encode() sorts by character length, which is a poor proxy
    for code and mixed-language text: 12% of the positions it computes on docvec chunks are
    padding, against 2% here.) A batch holds at most `batch_size` texts and, when
    `max_batch_tokens` is set, at most that many word pieces (texts x its longest text, at least
    one text), so that long texts go in smaller batches and memory stays bounded.
    """
    dimension = embedding_dimension(model)
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    lengths = token_lengths(model, texts) if len(texts) > 1 else None
    if lengths is None:
        return np.ascontiguousarray(_encode(model, texts, batch_size), dtype=np.float32)
    order = np.argsort(-lengths, kind="stable")  # longest first, like encode()
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    for rows in _batches(lengths[order], order, batch_size, max_batch_tokens):
        vectors[rows] = _encode(model, [texts[i] for i in rows], batch_size)
    return vectors


def _batches(
    sorted_lengths: np.ndarray, order: np.ndarray, batch_size: int, max_batch_tokens: int | None
) -> Iterator[np.ndarray]:
    """Cut `order` (texts by decreasing token count) into batches within both limits."""
    if batch_size < 1 or (max_batch_tokens is not None and max_batch_tokens < 1):
        raise ValueError(f"batch_size and max_batch_tokens must be >= 1, got {batch_size}, {max_batch_tokens}")
    start = 0
    while start < len(order):
        size = batch_size
        if max_batch_tokens is not None:  # the first text of a batch is its longest
            size = max(1, min(batch_size, max_batch_tokens // max(int(sorted_lengths[start]), 1)))
        yield order[start : start + size]
        start += size


def _encode(model, texts: list[str], batch_size: int) -> np.ndarray:
    return model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def output_schema(dimension: int) -> pa.Schema:
    return pa.schema(
        [
            ("text_sha256", pa.string()),
            ("model_id", pa.string()),
            ("embedding", pa.list_(pa.float32(), dimension)),
            ("dimension", pa.int32()),
            ("embedded_at", pa.timestamp("us", tz="UTC")),
            ("invocation_id", pa.string()),
        ]
    )


class Progress:
    """Logs done/total, texts per second and the time left, at most every `every` seconds."""

    def __init__(self, total: int, log: Callable[[str], None], every: float = 10.0):
        self.total, self.log, self.every = total, log, every
        self.done = 0
        self.started = self.last = time.monotonic()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            self.log(self.message(now))

    def message(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"embeddings: {self.done:,}/{self.total:,} texts ({pct:.0f}%), "
            f"{rate:,.1f} texts/s, ETA {left:,.0f}s"
        )


def embedding_batches(
    batches: Iterable[pa.RecordBatch],
    model,
    *,
    model_id: str,
    total: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batch_tokens: int | None = DEFAULT_MAX_BATCH_TOKENS,
    invocation_id: str | None = None,
    log: Callable[[str], None] = logger.info,
) -> Iterator[pa.RecordBatch]:
    """Embed record batches of (`text_sha256`, `chunk_text`) into output record batches."""
    dimension = embedding_dimension(model)
    schema = output_schema(dimension)
    progress = Progress(total, log)
    log(
        f"embeddings: {total:,} texts to embed with {model_id} ({dimension}-d, batch size {batch_size}, "
        f"at most {max_batch_tokens or 'any number of'} word pieces per batch)"
    )
    for batch in batches:
        if batch.num_rows == 0:
            continue
        keys = batch.column("text_sha256")
        vectors = embed_texts(model, batch.column("chunk_text").to_pylist(), batch_size, max_batch_tokens)
        n = len(vectors)
        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        yield pa.RecordBatch.from_arrays(
            [
                keys.cast(pa.string()),
                pa.repeat(pa.scalar(model_id, pa.string()), n),
                pa.FixedSizeListArray.from_arrays(flat, dimension),
                pa.array(np.full(n, dimension, dtype=np.int32)),
                pa.repeat(pa.scalar(datetime.now(UTC), pa.timestamp("us", tz="UTC")), n),
                pa.repeat(pa.scalar(invocation_id, pa.string()), n),
            ],
            schema=schema,
        )
        progress.advance(n)


def current_invocation_id() -> str | None:
    """The id of the running dbt invocation (None outside dbt)."""
    try:
        from dbt_common.invocation import get_invocation_id
    except ImportError:  # pragma: no cover - outside dbt
        return None
    return get_invocation_id()


def dbt_logger() -> Callable[[str], None]:
    """Log through dbt's event system when running inside dbt (so lines reach dbt's log)."""
    try:
        from dbt_common.events.functions import fire_event
        from dbt_common.events.types import Note
    except ImportError:  # pragma: no cover - outside dbt
        return logger.info

    def log(message: str) -> None:
        fire_event(Note(msg=message))

    return log


__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL_ID",
    "effective_model_id",
    "ensure_onnx_export",
    "onnx_cache_dir",
    "embed_texts",
    "embedding_batches",
    "load_model",
]
