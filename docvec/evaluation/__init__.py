"""`docvec eval --beir`: retrieval quality on a BEIR dataset, measured through the dbt pipeline.

* `beir`: a BEIR-layout folder as a JSONL landing folder and a golden-questions CSV.
* `runner`: `run_beir_eval` builds the docvec project on it with `dbt build` into its own DuckDB
  file and reads back `retrieval_metrics`.
* `report`: the metrics as a plain-text table.
* `compare`: `docvec compare BASE CANDIDATE`, two builds' per-question metrics paired, with a
  bootstrap confidence interval, a sign test and a verdict on the serving configuration.

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
from docvec.evaluation.compare import (
    CompareError,
    Comparison,
    NotComparable,
    compare_warehouses,
    render_json,
    render_markdown,
)
from docvec.evaluation.report import METRIC_COLUMNS, format_metrics_table, metrics_pivot
from docvec.evaluation.runner import default_workdir, project_dir, read_metrics, run_beir_eval

__all__ = [
    "BEIR_GROUP",
    "GOLDEN_COLUMNS",
    "METRIC_COLUMNS",
    "BeirDataset",
    "CompareError",
    "Comparison",
    "LandingSummary",
    "NotComparable",
    "compare_warehouses",
    "default_workdir",
    "format_metrics_table",
    "metrics_pivot",
    "project_dir",
    "read_beir",
    "read_metrics",
    "render_json",
    "render_markdown",
    "resolve_split",
    "run_beir_eval",
    "write_beir_landing",
]
