"""`docvec eval --beir`: retrieval quality on a BEIR dataset, measured through the dbt pipeline.

* `beir`: a BEIR-layout folder as a JSONL landing folder and a golden-questions CSV.
* `runner`: `run_beir_eval` builds the docvec project on it with `dbt build` into its own DuckDB
  file and reads back `retrieval_metrics`.
* `report`: the metrics as a plain-text table.

The metric math and the per-strategy rankings run inside dbt: `python_udfs.evaluation`.
"""

from docvec.evaluation.beir import (
    BEIR_GROUP,
    GOLDEN_COLUMNS,
    BeirDataset,
    LandingSummary,
    read_beir,
    resolve_split,
    write_beir_landing,
)
from docvec.evaluation.report import METRIC_COLUMNS, format_metrics_table, metrics_pivot
from docvec.evaluation.runner import default_workdir, project_dir, read_metrics, run_beir_eval

__all__ = [
    "BEIR_GROUP",
    "GOLDEN_COLUMNS",
    "METRIC_COLUMNS",
    "BeirDataset",
    "LandingSummary",
    "default_workdir",
    "format_metrics_table",
    "metrics_pivot",
    "project_dir",
    "read_beir",
    "read_metrics",
    "resolve_split",
    "run_beir_eval",
    "write_beir_landing",
]
