"""Embedding backends: loading the sentence-transformers model (torch, onnx, onnx-int8) offline.

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

- `openai`: no local model; texts are embedded through an OpenAI-compatible `POST /embeddings`
  (python_udfs.embedding.openai_api). `embedding_model_id` then names the provider's model (and
  its dimensions, `name@512`); its vectors are stored as `openai:<embedding_model_id>`.
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
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..tokens import resolve_model_path

if TYPE_CHECKING:
    from .openai_api import ApiSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

LOCAL_BACKENDS = ("torch", "onnx", "onnx-int8")
API_BACKENDS = ("openai",)
# The values of var embedding_backend.
BACKENDS = LOCAL_BACKENDS + API_BACKENDS
# The model id prefix of vectors from an API backend (`openai:text-embedding-3-small`).
API_MODEL_ID_PREFIX = {"openai": "openai:"}

CACHE_DIR_ENV = "DOCVEC_CACHE_DIR"
THREADS_ENV = "DOCVEC_EMBEDDING_THREADS"
ONNX_FILE = "onnx/model.onnx"
# Written last into an export folder (before it is renamed into place): what was exported, how.
EXPORT_MARKER = "docvec_export.json"
# Temporary export folders older than this are left-overs of a crashed export and are removed.
STALE_TEMP_SECONDS = 3600.0

logger = logging.getLogger("docvec.embedding")


def effective_model_id(model_id: str, backend: str) -> str:
    """The `model_id` stored with vectors: vectors from different backends never mix.

    torch: the id itself; onnx, onnx-int8: `id@backend`; openai: `openai:id`, where the id names
    the provider's model and, when it is shortened, its dimensions (`text-embedding-3-small@512`;
    var embedding_api_dimensions must then match). The base URL is not part of it: moving a server
    or going through a proxy does not change the vectors (and must not re-pay a whole corpus);
    give a differently quantized deployment of the same model a model id of its own and its served
    name in embedding_api_model."""
    check_backend(backend)
    if backend in API_BACKENDS:
        return API_MODEL_ID_PREFIX[backend] + model_id
    return model_id if backend == "torch" else f"{model_id}@{backend}"


def backend_of_model_id(model_id: str) -> str:
    """The backend whose vectors are stored under `model_id`: the inverse of effective_model_id.

    `openai:<id>` -> openai (the id may hold `@<dims>`); `<id>@onnx`, `<id>@onnx-int8` -> that
    local backend; any other id -> torch."""
    for backend, prefix in API_MODEL_ID_PREFIX.items():
        if model_id.startswith(prefix):
            return backend
    for backend in LOCAL_BACKENDS:
        if backend != "torch" and model_id.endswith(f"@{backend}"):
            return backend
    return "torch"


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
    api: ApiSettings | None = None,
):
    """Load (once per process) the sentence-transformers model from a local folder.

    `backend` is one of BACKENDS; the ONNX ones export the model into the cache on first use.
    `threads` (default `cpu_threads()`) sets torch's and ONNX Runtime's intra-op threads.
    `openai` returns an ApiEmbedder for `api` (default: ApiSettings.from_env(), the
    DOCVEC_EMBEDDING_API_* variables); `model_path` is then unused.
    """
    check_backend(backend)
    if backend in API_BACKENDS:
        return _api_embedder(api or _settings_from_env())
    return _load_model(model_path or None, backend, device, threads or cpu_threads())


def _settings_from_env() -> ApiSettings:
    from .openai_api import ApiSettings

    return ApiSettings.from_env()


@lru_cache(maxsize=4)
def _api_embedder(settings: ApiSettings):
    from .api_embedder import ApiEmbedder

    return ApiEmbedder(settings)


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
                str(target),
                device="cpu",
                backend="onnx",
                local_files_only=True,
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
