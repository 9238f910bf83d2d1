"""Column-level lineage of the docvec dbt project, read from dbt's compiled manifest.

Every SQL model's compiled SQL is parsed with sqlglot (DuckDB dialect) and each output column is
resolved, through CTEs, subqueries, stars (`*`, `* exclude (...)`, `alias.*`), joins, unions and
`unnest`, to the columns of the dbt nodes it reads (models, seeds, sources). Python models have no
SQL: they declare their lineage in their yml `config: meta: column_lineage:`, each column mapped to
a list of `relation.column` (or `{from: [...], kind: copy}`).

The lineage is *value* lineage: a column's upstream columns are those whose values flow into it,
function arguments included, so a column made by a UDF call such as `docvec_parse(source_path,
content, ...)` traces to `source_path` and `content`. Columns used only to decide (WHERE, JOIN ON,
CASE conditions, FILTER clauses, window PARTITION/ORDER BY) are not counted. Each edge is `copy`
(the same value, perhaps renamed) or `derived` (computed from it). `count(*)` depends on the rows
of a relation, written as the pseudo column `*`.

Run `dbt compile` (or `dbt docs generate`) first: a manifest from `dbt parse` has no compiled SQL.

Modules: `graph` (column refs, edges, the project's lineage), `catalog` (relation names → dbt
nodes), `sql` (the sqlglot resolver), `manifest` (loading the manifest, every model's lineage),
`checks` (gaps: no source reached, files read outside sources), `report` (trees, text and JSON),
`docs` (the generated dbt docs page).
"""

from docvec.lineage.checks import closure_gaps, direct_file_reads, file_reads, upstream_nodes
from docvec.lineage.docs import DOCS_PATH, PUBLIC_TABLES, docs_markdown, write_docs
from docvec.lineage.graph import COPY, DERIVED, ROWS, ColumnLineage, ColumnRef, Edge, LineageError, Node
from docvec.lineage.manifest import build_lineage, default_manifest_path, lineage_from_manifest, load_manifest
from docvec.lineage.report import lineage_report, lineage_tree, render_tree, tree_json

__all__ = [
    "COPY",
    "DERIVED",
    "DOCS_PATH",
    "PUBLIC_TABLES",
    "ROWS",
    "ColumnLineage",
    "ColumnRef",
    "Edge",
    "LineageError",
    "Node",
    "build_lineage",
    "closure_gaps",
    "default_manifest_path",
    "direct_file_reads",
    "docs_markdown",
    "file_reads",
    "lineage_from_manifest",
    "lineage_report",
    "lineage_tree",
    "load_manifest",
    "render_tree",
    "tree_json",
    "upstream_nodes",
    "write_docs",
]
