"""`docvec eval --beir`: a BEIR dataset through the dbt pipeline into its own DuckDB file.

The dataset is imported as a landing folder (`docvec.evaluation.beir`), the docvec dbt project is
built on it by the real `dbt build` (its own target, logs and DuckDB file under a work folder),
and the run's `retrieval_metrics` are read back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import python_udfs
from docvec.evaluation.beir import BEIR_GROUP, read_beir, write_beir_landing
from python_udfs.duckdb_helpers import scalar

THRESHOLD_TAG = "evaluation_threshold"  # quality gates of the sample; not applied to BEIR runs
LOG_TAIL_LINES = 60  # lines of dbt's output quoted when the build fails
METRIC_FIELDS = ("dataset", "strategy_id", "model_id", "mode", "metric", "k", "value", "n_queries")


def project_dir() -> Path:
    """The docvec dbt project: env DOCVEC_PROJECT_DIR, else the folder that holds python_udfs/."""
    configured = os.environ.get("DOCVEC_PROJECT_DIR")
    candidate = Path(configured) if configured else Path(python_udfs.__file__).resolve().parent.parent
    if not (candidate / "dbt_project.yml").is_file():
        raise FileNotFoundError(
            f"no dbt_project.yml in {candidate}: install docvec from its repository "
            "(`pip install -e .`) or set DOCVEC_PROJECT_DIR to the project folder"
        )
    return candidate


def dbt_executable() -> str:
    """The `dbt` of this Python environment (next to its interpreter), else the one on PATH."""
    local = Path(sys.executable).with_name("dbt")
    if local.is_file():
        return str(local)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt not found next to this Python interpreter nor on PATH")
    return found


def default_workdir(beir_path: str | Path) -> Path:
    """Where `docvec eval` keeps a dataset's landing folder, questions CSV, DuckDB file and dbt
    target: $XDG_CACHE_HOME/docvec/eval/<name>-<hash of the absolute path> (~/.cache by default),
    so a second run reuses the embedding cache and embeds nothing."""
    root = Path(beir_path).resolve()
    digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:8]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "docvec" / "eval" / f"{root.name}-{digest}"


def beir_dbt_vars(landing: Path, golden_csv: Path, dataset: str) -> dict[str, Any]:
    """dbt vars of a BEIR run: the landing folder, its questions, every document public."""
    return {
        "source_path": str(landing),
        "golden_questions_path": str(golden_csv),
        "eval_dataset": dataset,
        # open: the corpus has no access rules, so every document gets default_access_groups
        "access_mode": "open",
        "default_access_groups": [BEIR_GROUP],
        "json_text_fields": ["text"],
        "json_id_fields": ["id"],
        "json_title_fields": ["title"],
    }


def dbt_build_command(project: Path, work: Path, variables: dict[str, Any]) -> list[str]:
    """`dbt build` of the project with the run's own target and logs, the sample's gates excluded."""
    return [
        dbt_executable(), "build",
        "--project-dir", str(project),
        "--profiles-dir", str(project),
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps(variables),
        "--exclude", f"tag:{THRESHOLD_TAG}",
    ]  # fmt: skip


def dbt_environment(db: Path, landing: Path) -> dict[str, str]:
    """This process's environment, pointed at the run's DuckDB file and landing folder, offline."""
    env = dict(os.environ)
    env.update(
        DOCVEC_DB_PATH=str(db.resolve()),
        DOCVEC_SOURCE_PATH=str(landing.resolve()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def stream_command(
    command: list[str], cwd: Path, env: dict[str, str], log: Callable[[str], None]
) -> tuple[int, list[str]]:
    """Run `command`, passing each output line to `log`; (exit status, last lines of output)."""
    tail: list[str] = []
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            log(line)
            tail = (tail + [line])[-LOG_TAIL_LINES:]
        return process.wait(), tail


def read_metrics(db_path: str | Path, dataset: str) -> list[dict[str, Any]]:
    """Rows of retrieval_metrics for one dataset, ordered by strategy, mode, metric and k."""
    modes = "case mode when 'vector' then 0 when 'keyword' then 1 else 2 end"
    metrics = "case metric when 'recall' then 0 when 'mrr' then 1 else 2 end"
    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            f"select {', '.join(METRIC_FIELDS)} from retrieval_metrics where dataset = ? "
            f"order by strategy_id, {modes}, {metrics}, k",
            [dataset],
        ).fetchall()
    return [dict(zip(METRIC_FIELDS, row)) for row in rows]


def warehouse_counts(db_path: str | Path) -> dict[str, Any]:
    """Documents, quarantined files and chunks per strategy of a built warehouse."""
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return {
            "documents": scalar(conn, "select count(*) from documents"),
            "quarantined": scalar(conn, "select count(*) from quarantined_documents"),
            "chunks": dict(conn.execute("select strategy_id, count(*) from chunks group by all").fetchall()),
        }


def run_beir_eval(
    beir_path: str | Path,
    *,
    split: str | None = None,
    db_path: str | Path | None = None,
    workdir: str | Path | None = None,
    max_queries: int | None = None,
    dbt_vars: dict[str, Any] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Import a BEIR dataset, `dbt build` the docvec project on it, and return its metrics.

    Files go under `workdir` (default `default_workdir(beir_path)`): `landing/corpus/*.jsonl`,
    `golden_questions.csv`, `docvec.duckdb` (unless `db_path`), `target/` and `logs/`.
    """
    dataset = read_beir(beir_path, split, max_queries)
    if not dataset.queries:
        raise ValueError(f"no query of {beir_path} has a relevant document in qrels/{dataset.split}.tsv")
    work = Path(workdir) if workdir else default_workdir(beir_path)
    work.mkdir(parents=True, exist_ok=True)
    db = Path(db_path) if db_path else work / "docvec.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    landing, golden_csv = work / "landing", work / "golden_questions.csv"
    started = time.monotonic()
    summary = write_beir_landing(dataset, landing, golden_csv)
    log(
        f"docvec eval: {dataset.name} ({dataset.split}): {summary.documents:,} documents in "
        f"{summary.shards} JSONL files, {summary.questions:,} queries, {summary.judgments:,} judgments "
        f"({summary.skipped} corpus entries skipped, "
        f"{summary.unresolved_judgments} judgments on missing documents)"
    )
    variables = beir_dbt_vars(landing.resolve(), golden_csv.resolve(), dataset.name)
    variables.update(dbt_vars or {})
    project = project_dir()
    command = dbt_build_command(project, work, variables)
    log("docvec eval: " + " ".join(command[:2]) + f" into {db}")
    returncode, tail = stream_command(command, project, dbt_environment(db, landing), log)
    if returncode != 0:
        raise RuntimeError(f"dbt build failed ({returncode}); log in {work / 'logs'}:\n" + "\n".join(tail))
    metrics = read_metrics(db, dataset.name)
    return {
        "dataset": dataset.name,
        "split": dataset.split,
        "db": str(db),
        "workdir": str(work),
        "n_queries": max((m["n_queries"] for m in metrics), default=0),
        **warehouse_counts(db),
        "seconds": round(time.monotonic() - started, 1),
        "metrics": metrics,
    }
