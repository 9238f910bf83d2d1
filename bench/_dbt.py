"""Run the docvec dbt project from benchmarks: the real `dbt build` into a DuckDB file of its own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
DBT = str(Path(sys.executable).with_name("dbt"))


def machine() -> str:
    """One line describing the machine the numbers were taken on."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


@dataclass
class Warehouse:
    workdir: Path
    source_path: Path

    @property
    def db_path(self) -> Path:
        return self.workdir / "docvec.duckdb"

    peak_rss_bytes: int = 0  # of the last build: the dbt process and every child it waited for

    def build(self, *args: str) -> float:
        """`dbt build`; returns wall seconds and records the build's peak RSS. Raises on failure."""
        env = dict(
            os.environ,
            DOCVEC_DB_PATH=str(self.db_path),
            DOCVEC_SOURCE_PATH=str(self.source_path),
            HF_HUB_OFFLINE="1",
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        command = [
            DBT,
            "build",
            "--project-dir",
            str(PROJECT_ROOT),
            "--profiles-dir",
            str(PROJECT_ROOT),
            "--target-path",
            str(self.workdir / "target"),
            "--log-path",
            str(self.workdir / "logs"),
            *args,
        ]
        output = self.workdir / "dbt-build-output.txt"
        started = time.perf_counter()
        with output.open("w") as sink:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
            # wait4 gives this one child's resource usage (Linux: ru_maxrss in KiB, the largest of
            # the process and its waited-for descendants), so each build is measured on its own.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        self.peak_rss_bytes = usage.ru_maxrss * 1024
        if process.returncode != 0:
            raise RuntimeError(f"dbt build failed:\n{output.read_text()[-8000:]}")
        return seconds

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.db_path), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    def last_run(self) -> dict[str, object]:
        columns = [
            "files_seen",
            "documents",
            "chunks",
            "texts_embedded",
            "embeddings_reused",
            "staging_seconds",
            "parse_seconds",
            "redact_seconds",
            "chunk_seconds",
            "embed_seconds",
            "serve_seconds",
        ]
        row = self.query(f"select {', '.join(columns)} from pipeline_runs order by started_at desc limit 1")[0]
        return dict(zip(columns, row))
