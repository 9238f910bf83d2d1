"""Small typed helpers over DuckDB's Python API, shared by the runtime and the application."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

__all__ = ["scalar"]


def scalar(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row of ``sql``; a query that returns no row is a bug here."""
    row = conn.execute(sql, list(params)).fetchone()
    if row is None:
        raise RuntimeError(f"query returned no row: {sql[:200]}")
    return row[0]
