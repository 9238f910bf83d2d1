"""What one build's API embedding cost, and the table it reaches pipeline_runs through.

The counters are known only inside the embeddings Python model, and a dbt model has one output
relation, so the model writes them (through its own DuckDB session, in its own transaction: they
commit with its vectors, or not at all) to a side table `embedding_api_runs` of its schema, one
row per invocation and model id. pipeline_runs (a ref of embeddings, so built after it) reads the
row of its invocation when the table exists (adapter.get_relation), else reports 0. Putting them
on the vector rows instead would repeat request-level numbers on every row and change the
embeddings schema that the local backends share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATS_TABLE = "embedding_api_runs"

_COLUMNS = (
    ("invocation_id", "varchar"),
    ("model_id", "varchar"),
    ("requests", "bigint"),
    ("retries", "bigint"),
    ("tokens", "bigint"),
    ("tokens_estimated", "boolean"),
    ("texts_sent", "bigint"),
    ("texts_from_journal", "bigint"),
    ("recorded_at", "timestamptz"),
)


@dataclass
class ApiStats:
    """Counters of one build.

    requests: HTTP requests sent (every attempt, retries included); retries: the attempts after a
    request's first; tokens: the provider's usage.prompt_tokens where a response reports it, else
    the request's token bound (UTF-8 bytes + 2 per text), in which case `tokens_estimated`;
    texts_sent: texts whose vector arrived this build; texts_from_journal: texts whose vector an
    earlier (killed or failed) build had already paid for."""

    requests: int = 0
    retries: int = 0
    tokens: int = 0
    tokens_estimated: bool = False
    texts_sent: int = 0
    texts_from_journal: int = 0

    def count_attempts(self, attempts: int) -> None:
        self.requests += attempts
        self.retries += max(0, attempts - 1)

    def count_response(self, texts: int, attempts: int, reported_tokens: int | None, bound: int) -> None:
        self.count_attempts(attempts)
        self.texts_sent += texts
        if reported_tokens is None:
            self.tokens_estimated = True
        self.tokens += bound if reported_tokens is None else reported_tokens


def record_stats(session: Any, schema_sql: str, invocation_id: str | None, model_id: str, stats: ApiStats) -> None:
    """Append the build's counters to `<schema_sql>.embedding_api_runs` (created if missing)."""
    table = f"{schema_sql}.{STATS_TABLE}"
    columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
    session.execute(f"create table if not exists {table} ({columns})")
    session.execute(
        f"insert into {table} values (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
        [
            invocation_id,
            model_id,
            stats.requests,
            stats.retries,
            stats.tokens,
            stats.tokens_estimated,
            stats.texts_sent,
            stats.texts_from_journal,
        ],
    )
