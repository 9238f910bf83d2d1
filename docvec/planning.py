"""`docvec plan`: what switching the serving strategy, model or backend would embed, and how long
it would take, read from a build warehouse without embedding anything.

The embedding cache (`embeddings`, keyed by (text_sha256, model_id)) already says which chunk texts
have a vector under a model id; `chunks` holds every strategy's texts; `pipeline_runs` holds the
current serving configuration (its latest row) and the measured throughput of past builds
(texts_embedded / embed_seconds, per model id). A plan is those three read together:

- `--strategy S`: the distinct texts of S's chunks with no vector under the serving model id.
- `--model M` / `--backend B`: the distinct texts of the serving (or `--strategy`'s) strategy with
  no vector under `effective_model_id(M or the current id, B or the current backend)`.

A `dbt build` embeds the texts of every strategy in `chunks` (not only the served one), so a plan
also reports that whole-build figure. The time estimate divides by the throughput measured for the
same model id and is never invented: without a measurement there is none.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from python_udfs.embedding.api_requests import TOKEN_BOUND_OVERHEAD
from python_udfs.embedding.backends import (
    API_BACKENDS,
    API_MODEL_ID_PREFIX,
    BACKENDS,
    backend_of_model_id,
    effective_model_id,
)
from python_udfs.warehouse_access import explain_known_error, explain_open_error, first_line, path_problem

DB_PATH_ENV = "DOCVEC_DB_PATH"
DEFAULT_DB_PATH = "docvec.duckdb"
REQUIRED_TABLES = ("chunks", "embeddings", "pipeline_runs")
BUILD_CHUNKS = "dbt build --select +chunks"


class PlanError(RuntimeError):
    """The plan cannot be made; the message is one line that says why and what to do."""


@dataclass(frozen=True)
class Serving:
    """The serving configuration of the latest build recorded in pipeline_runs."""

    strategy: str
    model_id: str
    backend: str
    base_model_id: str
    invocation_id: str
    started_at: str | None


@dataclass(frozen=True)
class Workload:
    """Distinct texts to embed, their word pieces (`n_tokens`) and their API token bound."""

    texts: int
    word_pieces: int
    token_bound: int


@dataclass(frozen=True)
class Throughput:
    """Texts embedded per embed-second over the builds of one model id that embedded texts."""

    model_id: str
    builds: int
    texts: int
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.texts / self.seconds


@dataclass(frozen=True)
class Plan:
    """What the planned configuration would embed (for its strategy, and for a whole build)."""

    warehouse: str
    current: Serving
    strategy: str
    model_id: str
    backend: str
    strategy_texts: int
    to_embed: Workload
    build: Workload
    throughput: Throughput | None
    reference: Throughput | None

    @property
    def estimated_seconds(self) -> float | None:
        return estimate_seconds(self.to_embed.texts, self.throughput)

    @property
    def build_estimated_seconds(self) -> float | None:
        return estimate_seconds(self.build.texts, self.throughput)

    @property
    def uses_api(self) -> bool:
        return self.backend in API_BACKENDS

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (token bounds only for an API backend)."""
        return {
            "warehouse": self.warehouse,
            "current": asdict(self.current),
            "planned": {"strategy": self.strategy, "model_id": self.model_id, "backend": self.backend},
            "strategy_texts": self.strategy_texts,
            "to_embed": self._workload_dict(self.to_embed, self.estimated_seconds),
            "build": self._workload_dict(self.build, self.build_estimated_seconds),
            "throughput": _throughput_dict(self.throughput),
            "reference_throughput": _throughput_dict(self.reference),
        }

    def _workload_dict(self, work: Workload, seconds: float | None) -> dict[str, Any]:
        return {
            "texts": work.texts,
            "word_pieces": work.word_pieces,
            "token_bound": work.token_bound if self.uses_api else None,
            "estimated_seconds": seconds,
        }


def _throughput_dict(measured: Throughput | None) -> dict[str, Any] | None:
    if measured is None:
        return None
    return {**asdict(measured), "texts_per_second": measured.texts_per_second}


def estimate_seconds(texts: int, throughput: Throughput | None) -> float | None:
    """texts / measured texts per second; 0 for no texts; None without a measurement."""
    if texts == 0:
        return 0.0
    if throughput is None:
        return None
    return texts / throughput.texts_per_second


def default_db_path() -> str:
    """The build warehouse: env DOCVEC_DB_PATH, else docvec.duckdb in the current folder."""
    return os.environ.get(DB_PATH_ENV) or DEFAULT_DB_PATH


def open_warehouse(path: str) -> duckdb.DuckDBPyConnection:
    """The build warehouse at `path`, read-only, with the tables a plan reads."""
    problem = path_problem(path)
    if problem is not None:
        raise PlanError(problem)
    if not os.path.isfile(path):
        raise PlanError(f"no docvec warehouse at {path!r}: run `dbt build` first, or give its path with --db")
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise PlanError(explain_open_error(path, error, retry="plan again")) from error
    missing = [name for name in REQUIRED_TABLES if not _has_table(conn, name)]
    if missing:
        conn.close()
        raise PlanError(
            f"{path!r} is not a built docvec warehouse (no table {', '.join(missing)}): run `dbt build` first"
        )
    return conn


def _has_table(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = (
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'main' and table_name = ?"
    )
    row = conn.execute(sql, [name]).fetchone()
    return bool(row and row[0])


def base_model_id(model_id: str) -> str:
    """The embedding_model_id a stored model id was made from (effective_model_id's inverse)."""
    backend = backend_of_model_id(model_id)
    if backend in API_MODEL_ID_PREFIX:
        return model_id.removeprefix(API_MODEL_ID_PREFIX[backend])
    return model_id.removesuffix(f"@{backend}")


def current_serving(conn: duckdb.DuckDBPyConnection) -> Serving:
    """The serving strategy and model id of the latest pipeline_runs row."""
    row = conn.execute(
        "select serving_strategy, model_id, invocation_id, started_at::varchar from pipeline_runs "
        "order by started_at desc nulls last, finished_at desc nulls last limit 1"
    ).fetchone()
    if row is None:
        raise PlanError("pipeline_runs is empty: no build is recorded to plan from; run `dbt build` first")
    strategy, model_id, invocation_id, started_at = row
    if not strategy or not model_id:
        raise PlanError(f"the latest pipeline_runs row ({invocation_id}) has no serving_strategy or model_id")
    return Serving(
        strategy=strategy,
        model_id=model_id,
        backend=backend_of_model_id(model_id),
        base_model_id=base_model_id(model_id),
        invocation_id=invocation_id,
        started_at=started_at,
    )


def chunked_strategies(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """The strategy ids that have chunks."""
    return [row[0] for row in conn.execute("select distinct strategy_id from chunks order by 1").fetchall()]


def distinct_texts(conn: duckdb.DuckDBPyConnection, strategy: str) -> int:
    """The distinct chunk texts of `strategy`."""
    row = conn.execute("select count(distinct text_sha256) from chunks where strategy_id = ?", [strategy]).fetchone()
    return int(row[0]) if row else 0


def pending_work(conn: duckdb.DuckDBPyConnection, model_id: str, strategy: str | None) -> Workload:
    """The distinct texts of `strategy`'s chunks (every strategy's when None) that have no vector
    under `model_id`: their count, word pieces and token bound (UTF-8 bytes + overhead each)."""
    sql = """
        with texts as (
            select text_sha256, min(n_tokens) as n_tokens, min(strlen(chunk_text)) as n_bytes
            from chunks
            where $strategy is null or strategy_id = $strategy
            group by text_sha256
        )
        select count(*), coalesce(sum(n_tokens), 0), coalesce(sum(n_bytes + $overhead), 0)
        from texts
        where not exists (
            select 1 from embeddings
            where embeddings.text_sha256 = texts.text_sha256 and embeddings.model_id = $model_id
        )
    """
    params = {"strategy": strategy, "model_id": model_id, "overhead": TOKEN_BOUND_OVERHEAD}
    row = conn.execute(sql, params).fetchone()
    assert row is not None  # an aggregate always returns one row
    return Workload(texts=int(row[0]), word_pieces=int(row[1]), token_bound=int(row[2]))


def measured_throughput(conn: duckdb.DuckDBPyConnection, model_id: str) -> Throughput | None:
    """Texts per embed-second over the pipeline_runs rows of `model_id` that embedded texts."""
    row = conn.execute(
        "select count(*), sum(texts_embedded), sum(embed_seconds) from pipeline_runs "
        "where model_id = ? and texts_embedded > 0 and embed_seconds > 0",
        [model_id],
    ).fetchone()
    if row is None or not row[0]:
        return None
    return Throughput(model_id=model_id, builds=int(row[0]), texts=int(row[1]), seconds=float(row[2]))


def target_model_id(current: Serving, model: str | None, backend: str | None) -> tuple[str, str]:
    """(model id, backend) of the planned configuration: `model` / `backend` or the current ones."""
    if model is not None and not model.strip():
        raise PlanError("--model needs a model id (an embedding_model_id such as all-MiniLM-L6-v2)")
    if backend is not None and backend not in BACKENDS:
        raise PlanError(f"unknown embedding backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    engine = backend or current.backend
    return effective_model_id(model or current.base_model_id, engine), engine


def check_strategy(conn: duckdb.DuckDBPyConnection, strategy: str) -> None:
    """PlanError when `strategy` has no chunks in the warehouse (e.g. a new seed row not built yet)."""
    known = chunked_strategies(conn)
    if strategy not in known:
        raise PlanError(
            f"strategy {strategy!r} has no chunks in this warehouse (chunked: {', '.join(known) or 'none'}); "
            f"if it is a new row of seeds/chunking_strategies.csv, build its chunks first with `{BUILD_CHUNKS}` "
            "(chunking is cheap and embeds nothing; a plan needs the real texts), then plan again"
        )


def make_plan(
    conn: duckdb.DuckDBPyConnection,
    warehouse: str,
    *,
    strategy: str | None = None,
    model: str | None = None,
    backend: str | None = None,
) -> Plan:
    """The plan of serving `strategy` with `model` / `backend` (each defaults to the current one)."""
    if strategy is None and model is None and backend is None:
        raise PlanError("nothing to plan: give --strategy, --model and/or --backend")
    current = current_serving(conn)
    model_id, engine = target_model_id(current, model, backend)
    planned_strategy = strategy or current.strategy
    check_strategy(conn, planned_strategy)
    throughput = measured_throughput(conn, model_id)
    reference = None if model_id == current.model_id else measured_throughput(conn, current.model_id)
    return Plan(
        warehouse=warehouse,
        current=current,
        strategy=planned_strategy,
        model_id=model_id,
        backend=engine,
        strategy_texts=distinct_texts(conn, planned_strategy),
        to_embed=pending_work(conn, model_id, planned_strategy),
        build=pending_work(conn, model_id, None),
        throughput=throughput,
        reference=reference,
    )


def plan_warehouse(
    path: str | None = None, *, strategy: str | None = None, model: str | None = None, backend: str | None = None
) -> Plan:
    """Open the warehouse at `path` (default: env DOCVEC_DB_PATH, else docvec.duckdb) read-only and plan."""
    warehouse = path or default_db_path()
    conn = open_warehouse(warehouse)
    try:
        return make_plan(conn, warehouse, strategy=strategy, model=model, backend=backend)
    except duckdb.Error as error:  # damage found past the file's header, a table of another shape
        known = explain_known_error(warehouse, error, retry="plan again")
        raise PlanError(known or f"reading {warehouse!r} failed in DuckDB: {first_line(error)}") from error
    finally:
        conn.close()


def format_seconds(seconds: float) -> str:
    """A duration for people: 0.4 s, 12 s, 3 min 20 s, 2 h 05 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    hours, rest = divmod(round(seconds) // 60, 60)
    return f"{hours} h {rest:02d} min"


def _estimate_text(plan: Plan, seconds: float | None) -> str:
    if seconds == 0:
        return "nothing to embed"
    if seconds is None:
        return f"no estimate (no measurement for {plan.model_id})"
    return f"about {format_seconds(seconds)}"


def _throughput_line(plan: Plan) -> str:
    if plan.throughput is not None:
        t = plan.throughput
        return (
            f"throughput: {t.texts_per_second:,.1f} texts per embed-second for {t.model_id}, measured over "
            f"{t.builds} build(s) in pipeline_runs ({t.texts:,} texts in {t.seconds:,.1f} s, model loading included)"
        )
    line = f"throughput: no measurement for {plan.model_id} in pipeline_runs"
    if plan.reference is not None:
        r = plan.reference
        line += (
            f" (for reference only, the current model {r.model_id} measured {r.texts_per_second:,.1f} texts per "
            "embed-second; another model or backend runs at its own speed)"
        )
    return line


def _cached_text(plan: Plan) -> str:
    cached = plan.strategy_texts - plan.to_embed.texts
    if cached == 0:
        return f"none has a vector under {plan.model_id} yet"
    return f"{cached:,} already have a vector under {plan.model_id}"


def render_text(plan: Plan) -> str:
    """The plan as a short report for people."""
    current = plan.current
    same = plan.strategy == current.strategy and plan.model_id == current.model_id
    work, build = plan.to_embed, plan.build
    lines = [
        f"warehouse:  {plan.warehouse}",
        f"current:    strategy {current.strategy}, model {current.model_id} "
        f"(latest build {current.invocation_id}, {current.started_at})",
        f"planned:    strategy {plan.strategy}, model {plan.model_id}"
        + ("  (the current configuration)" if same else ""),
        f"to embed:   {work.texts:,} of the {plan.strategy_texts:,} distinct texts of {plan.strategy} "
        f"({work.word_pieces:,} word pieces); {_cached_text(plan)}",
        f"estimate:   {_estimate_text(plan, plan.estimated_seconds)}",
        f"dbt build:  embeds the texts of every strategy in chunks: {build.texts:,} texts "
        f"({build.word_pieces:,} word pieces), {_estimate_text(plan, plan.build_estimated_seconds)}",
        _throughput_line(plan),
    ]
    if plan.uses_api:
        lines.append(
            f"API tokens: at most {work.token_bound:,} for {plan.strategy}, {build.token_bound:,} for the build "
            f"(token bound: UTF-8 bytes + {TOKEN_BOUND_OVERHEAD} per text; the cost proxy)"
        )
    lines.append("word pieces are counted by the tokenizer the chunks were built with; nothing was embedded")
    return "\n".join(lines)
