"""The metrics of a `docvec eval` run as a plain-text table: one row per strategy and mode."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from python_udfs.evaluation import METRICS

METRIC_COLUMNS = tuple(f"{name}@{k}" for name, k in METRICS)


def metrics_pivot(metrics: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (strategy_id, model_id, mode) with a column per `metric@k`."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for m in metrics:
        key = (m["strategy_id"], m["model_id"], m["mode"])
        row = rows.setdefault(
            key, {"strategy_id": key[0], "model_id": key[1], "mode": key[2], "n_queries": m["n_queries"]}
        )
        row[f"{m['metric']}@{m['k']}"] = m["value"]
    return list(rows.values())


def format_metrics_table(result: dict[str, Any]) -> str:
    """A plain-text table of a `run_beir_eval` result."""
    header = (
        f"{result['dataset']} ({result['split']}): {result['n_queries']:,} queries, "
        f"{result['documents']:,} documents, chunks: "
        + ", ".join(f"{s} {n:,}" for s, n in sorted(result["chunks"].items()))
    )
    rows = metrics_pivot(result["metrics"])
    if not rows:
        return header + "\nno metrics (no query could be scored)"
    columns = ["strategy_id", "mode", *METRIC_COLUMNS]
    cells = [[r["strategy_id"], r["mode"], *(f"{r.get(c, math.nan):.3f}" for c in METRIC_COLUMNS)] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

    model = ", ".join(sorted({r["model_id"] for r in rows}))
    return "\n".join(
        [header, f"model: {model}", line(columns), line(["-" * w for w in widths]), *(line(c) for c in cells)]
    )
