"""Real publications and a real `docvec serve` process for the service tests, without a dbt build.

`write_publication` writes a serving store exactly as the publisher does (ServingStore.finalize:
BM25 and HNSW indexes, the docvec_publication row, then the atomic link swap), from a handful
of chunks embedded by the real query model, so that vector, keyword and hybrid searches rank
for real. `ServiceProcess` runs `docvec serve` as a subprocess on a free loopback port and
stops it; its log is kept for the failure message.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from docvec.publishing.store import IndexSettings, ServingStore
from docvec.service.auth import generate_api_key, hash_api_key
from python_udfs.embedding import embed_texts, load_model
from python_udfs.fts_text import fts_text

DOCVEC = str(Path(sys.executable).with_name("docvec"))
MODEL_ID = "all-MiniLM-L6-v2"
STRATEGY_ID = "recursive_256"


@dataclass(frozen=True)
class Chunk:
    """One chunk of a test publication."""

    document: str  # the source path; the document id is its md5
    index: int
    text: str
    groups: tuple[str, ...] = ("public",)
    section: str | None = None
    title: str | None = None
    file_type: str = "md"
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def document_id(self) -> str:
        return hashlib.md5(self.document.encode()).hexdigest()

    @property
    def chunk_id(self) -> str:
        return hashlib.md5(f"{self.document_id}:{STRATEGY_ID}:{self.index}".encode()).hexdigest()


def write_publication(serving_path: str | os.PathLike, chunks: list[Chunk], hnsw: bool = True) -> int:
    """Publish `chunks` as the next version of the serving store at `serving_path`; its version."""
    store = ServingStore(str(serving_path))
    vectors = embed_texts(load_model(None), [c.text for c in chunks])
    incoming = store.new_incoming_path()
    conn = duckdb.connect(incoming)
    try:
        conn.execute(
            f"""create table search_index (
                chunk_id varchar, document_id varchar, strategy_id varchar, model_id varchar, chunk_index integer,
                chunk_text varchar, text_sha256 varchar, section varchar, start_char integer, end_char integer,
                n_tokens integer, source_path varchar, title varchar, file_type varchar, metadata json,
                access_groups varchar[], embedding float[{len(vectors[0])}], fts_text varchar)"""
        )
        offsets: dict[str, int] = {}
        for chunk, vector in zip(chunks, vectors):
            start = offsets.get(chunk.document, 0)
            offsets[chunk.document] = start + len(chunk.text) + 1
            conn.execute(
                "insert into search_index values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    chunk.chunk_id,
                    chunk.document_id,
                    STRATEGY_ID,
                    MODEL_ID,
                    chunk.index,
                    chunk.text,
                    hashlib.sha256(chunk.text.encode()).hexdigest(),
                    chunk.section,
                    start,
                    start + len(chunk.text),
                    len(chunk.text.split()),
                    chunk.document,
                    chunk.title,
                    chunk.file_type,
                    json.dumps(chunk.metadata),
                    list(chunk.groups),
                    vector.tolist(),
                    fts_text(" ".join(filter(None, (chunk.text, chunk.title, chunk.section)))),
                ],
            )
        conn.execute("checkpoint")
    finally:
        conn.close()
    with store.locked():
        version = store.next_version()
        publication = store.finalize(
            incoming, version, uuid.uuid4().hex, "2026-12-01T00:00:00+00:00", {"source": "tests"}, IndexSettings(hnsw)
        )
        store.activate(publication)
    return version


@dataclass(frozen=True)
class Credentials:
    """API keys of the test principals, and the auth config file that holds their hashes."""

    config_path: Path
    keys: dict[str, str]  # principal -> API key


def write_auth_config(
    folder: Path, principals: dict[str, list[str]], extra: dict[str, Any] | None = None
) -> Credentials:
    """An auth config with one API key per principal (mapped to its groups; [] = unmapped)."""
    keys = {name: generate_api_key() for name in principals}
    config: dict[str, Any] = {
        "api_keys": [{"principal": name, "key_sha256": hash_api_key(key)} for name, key in keys.items()],
        "principals": {name: groups for name, groups in principals.items() if groups},
    }
    config.update(extra or {})
    path = folder / "auth.yaml"
    path.write_text(yaml.safe_dump(config))
    return Credentials(path, keys)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    """`docvec serve` on a free loopback port, ready when /readyz or /healthz answers."""

    def __init__(
        self, serving_path: Path, auth_config: Path, log_path: Path, *extra: str, env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [
            DOCVEC,
            "serve",
            "--serving",
            str(serving_path),
            "--auth",
            str(auth_config),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *extra,
        ]
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docvec serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"docvec serve did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
