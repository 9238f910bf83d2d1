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
"""

from __future__ import annotations

import csv
import graphlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

COPY = "copy"
DERIVED = "derived"
ROWS = "*"
DIALECT = "duckdb"

PUBLIC_TABLES = (
    "documents",
    "chunks",
    "embeddings",
    "search_index",
    "quarantined_documents",
    "pipeline_runs",
)

# DuckDB table functions that read files: a model must read files through a dbt source instead.
FILE_READING_TABLE_FUNCTIONS = frozenset(
    {
        "read_csv", "read_csv_auto", "sniff_csv", "read_json", "read_json_auto", "read_json_objects",
        "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_parquet", "parquet_scan",
        "read_blob", "read_text", "read_xlsx", "glob", "delta_scan", "iceberg_scan", "st_read",
        "docvec_list_files",
    }
)
# Scalar UDFs that read a file's bytes: allowed only in a model that reads a source directly
# (staging reads the bytes of the paths the landing source lists).
FILE_READING_UDFS = frozenset({"docvec_read_file"})

DOCS_BLOCK = "__docvec__"
DOCS_PATH = Path("models") / "docs" / "column_lineage.md"
EXAMPLE_COLUMN = "search_index.chunk_text"

Lineage = dict["ColumnRef", str]


class LineageError(Exception):
    """The lineage cannot be built or queried; the message says why and what to run."""


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a dbt node (`node` is its unique_id); column `*` stands for its rows."""

    node: str
    column: str


@dataclass(frozen=True, order=True)
class Edge:
    """One hop: `column` is upstream (or downstream) of the column asked about, with its kind."""

    column: ColumnRef
    kind: str


@dataclass(frozen=True)
class Node:
    """A dbt node in the lineage: model, seed, source, or a file/table read outside dbt."""

    unique_id: str
    name: str
    resource_type: str
    columns: tuple[str, ...]
    source_name: str | None = None

    @property
    def table(self) -> str:
        """The name a user types: `chunks`, `chunking_strategies`, `landing.documents`."""
        return f"{self.source_name}.{self.name}" if self.source_name else self.name

    @property
    def label(self) -> str:
        """The name shown: models bare, others prefixed with their kind (`source landing.documents`)."""
        return self.table if self.resource_type == "model" else f"{self.resource_type} {self.table}"


# --------------------------------------------------------------------------- relations in a query


def merge(*lineages: Lineage) -> Lineage:
    """Union of lineages; a column reached both as copy and as derived counts as derived."""
    merged: Lineage = {}
    for lineage in lineages:
        for ref, kind in lineage.items():
            merged[ref] = COPY if merged.get(ref, COPY) == COPY and kind == COPY else DERIVED
    return merged


def derive(lineage: Lineage) -> Lineage:
    """The same upstream columns, every edge marked derived."""
    return dict.fromkeys(lineage, DERIVED)


@dataclass
class Relation:
    """What a FROM item offers a query: its columns' lineage and the lineage of its rows.

    `open_lineage` answers for columns it cannot list (`unnest(x, recursive := true)` expands a
    struct whose fields the SQL does not name); `open_node` for a dbt node whose columns are
    unknown (any column is then a copy of that node's column of the same name)."""

    columns: dict[str, Lineage]
    rows: Lineage = field(default_factory=dict)
    open_lineage: Lineage | None = None
    open_node: str | None = None
    fallbacks: tuple[Relation, ...] = ()

    @property
    def is_open(self) -> bool:
        return (
            self.open_lineage is not None
            or self.open_node is not None
            or any(f.is_open for f in self.fallbacks)
        )

    def lookup(self, name: str, allow_open: bool = True) -> Lineage | None:
        """Lineage of column `name`, or None when this relation has no such column."""
        if name in self.columns:
            return self.columns[name]
        for fallback in self.fallbacks:
            found = fallback.lookup(name, allow_open)
            if found is not None:
                return found
        if not allow_open:
            return None
        if self.open_lineage is not None:
            return self.open_lineage
        if self.open_node is not None:
            return {ColumnRef(self.open_node, name): COPY}
        return None


def node_relation(node: Node) -> Relation:
    """A dbt node as a FROM item: each column a copy of itself."""
    columns = {c: {ColumnRef(node.unique_id, c): COPY} for c in node.columns}
    return Relation(
        columns,
        rows={ColumnRef(node.unique_id, ROWS): COPY},
        open_node=None if node.columns else node.unique_id,
    )


def function_name(function: exp.Func) -> str:
    """Lower-case SQL name of a function call (unknown functions are sqlglot `Anonymous`)."""
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return function.sql_name().lower()


def looks_like_file(name: str) -> bool:
    """A table name DuckDB would read as a file: `from 'data/x.csv'`."""
    return "/" in name or bool(re.search(r"\.[a-z0-9]{1,8}$", name, re.IGNORECASE))


# --------------------------------------------------------------------------- catalog of dbt nodes


@dataclass
class Catalog:
    """Maps relation names in compiled SQL to dbt nodes, and holds the nodes resolved so far."""

    nodes: dict[str, Node] = field(default_factory=dict)
    by_name: dict[tuple[str, ...], str] = field(default_factory=dict)
    placeholders: dict[str, str] = field(default_factory=dict)

    def add(self, node: Node, relation_name: str | None) -> None:
        """Register a node and the relation name its SQL is referenced by."""
        self.nodes[node.unique_id] = node
        if not relation_name:
            return
        key = relation_key(relation_name)
        if key is None:
            # dbt-duckdb external sources compile to an expression such as
            # `(select unnest(docvec_list_files('sample_docs')))`: swap in a placeholder table.
            placeholder = f'"__dbt_node__"."{node.unique_id}"'
            self.placeholders[relation_name] = placeholder
            key = ("__dbt_node__", node.unique_id.lower())
        for start in range(len(key)):
            self.by_name.setdefault(key[start:], node.unique_id)

    def substitute(self, sql: str) -> str:
        """Compiled SQL with expression relations (external sources) replaced by placeholders."""
        for relation_name in sorted(self.placeholders, key=len, reverse=True):
            sql = sql.replace(relation_name, self.placeholders[relation_name])
        return sql

    def resolve_table(self, table: exp.Table) -> str:
        """The unique_id a table reference points at; a file or unknown table becomes a node too."""
        key = tuple(part.name.lower() for part in table.parts)
        if key in self.by_name:
            return self.by_name[key]
        kind = "file" if len(key) == 1 and looks_like_file(table.name) else "table"
        return self.outside_node(kind, ".".join(part.name for part in table.parts))

    def outside_node(self, kind: str, name: str) -> str:
        """A relation read outside dbt (a file, a table function, an unknown table)."""
        unique_id = f"{kind}.{name}"
        self.nodes.setdefault(unique_id, Node(unique_id, name, kind, ()))
        return unique_id


def relation_key(relation_name: str) -> tuple[str, ...] | None:
    """`"db"."main"."chunks"` → ('db', 'main', 'chunks'); None if it is not a plain table name."""
    try:
        parsed = sqlglot.parse_one(relation_name, into=exp.Table, dialect=DIALECT)
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(parsed, exp.Table) or not isinstance(parsed.this, exp.Identifier):
        return None
    return tuple(part.name.lower() for part in parsed.parts)


# --------------------------------------------------------------------------- SQL resolution


class QueryResolver:
    """Resolves the output columns of one compiled SQL query to the columns of dbt nodes."""

    def __init__(self, catalog: Catalog, model: str):
        self.catalog = catalog
        self.model = model
        self.unresolved: list[str] = []

    def query(self, query: exp.Expression, ctes: Mapping[str, Relation]) -> Relation:
        """A SELECT, set operation, VALUES or parenthesised query, with its own WITH clause."""
        ctes = self.with_clause(query, ctes)
        if isinstance(query, exp.Subquery):
            return self.query(query.this, ctes)
        if isinstance(query, exp.SetOperation):
            return self.set_operation(query, ctes)
        if isinstance(query, exp.Select):
            return self.select(query, ctes)
        if isinstance(query, exp.Values):
            return values_relation(query)
        raise LineageError(f"{self.model}: unsupported query {query.sql(dialect=DIALECT)[:80]!r}")

    def with_clause(self, query: exp.Expression, ctes: Mapping[str, Relation]) -> dict[str, Relation]:
        """CTEs visible inside `query`: the outer ones plus its own, each seeing the earlier ones."""
        visible = dict(ctes)
        with_ = query.args.get("with_")
        for cte in with_.expressions if with_ else ():
            visible[cte.alias_or_name.lower()] = rename_columns(self.query(cte.this, visible), cte.args.get("alias"))
        return visible

    def set_operation(self, query: exp.SetOperation, ctes: Mapping[str, Relation]) -> Relation:
        """UNION / INTERSECT / EXCEPT, by position or (DuckDB `union by name`) by name."""
        left = self.query(query.this, ctes)
        right = self.query(query.expression, ctes)
        if query.args.get("by_name"):
            names = list(left.columns) + [n for n in right.columns if n not in left.columns]
            columns = {n: merge(left.columns.get(n, {}), right.columns.get(n, {})) for n in names}
        else:
            columns = {
                name: merge(lineage, other)
                for (name, lineage), other in zip(left.columns.items(), right.columns.values())
            }
        return Relation(columns, rows=merge(left.rows, right.rows))

    def select(self, select: exp.Select, ctes: Mapping[str, Relation]) -> Relation:
        """A SELECT: its FROM items, then each projection (stars expanded)."""
        sources = self.from_items(select, ctes)
        outer = {j.this.alias_or_name.lower() for j in select.args.get("joins") or () if j.side == "LEFT"}
        columns: dict[str, Lineage] = {}
        fallbacks: list[Relation] = []
        open_parts: list[Lineage] = []
        for projection in select.expressions:
            target = projection.unalias()
            if isinstance(projection, exp.Star):
                fallbacks += self.expand_star(projection, list(sources.values()), columns)
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                fallbacks += self.expand_star(projection.this, [self.source(sources, projection.table)], columns)
            elif isinstance(target, (exp.Explode, exp.Unnest)) and projection is target:
                # select unnest(x, recursive := true): the struct's fields, not named in the SQL
                open_parts.append(derive(self.expression(target, sources, columns, ctes)))
            else:
                columns[projection.alias_or_name.lower()] = self.expression(target, sources, columns, ctes)
        return Relation(
            columns,
            # an outer join keeps the rows of its preserved side: those decide the row count
            rows=merge(*(r.rows for alias, r in sources.items() if alias not in outer)),
            open_lineage=merge(*open_parts) if open_parts else None,
            fallbacks=tuple(fallbacks),
        )

    def source(self, sources: Mapping[str, Relation], alias: str) -> Relation:
        """The FROM item called `alias`."""
        if alias.lower() not in sources:
            raise LineageError(f"{self.model}: no FROM item called {alias!r} (have {', '.join(sources)})")
        return sources[alias.lower()]

    def expand_star(self, star: exp.Star, relations: Sequence[Relation], columns: dict[str, Lineage]) -> list[Relation]:
        """Add the columns of `relations` (minus `exclude`, with `replace`) to `columns`; return the open ones."""
        excluded = {column.name.lower() for column in star.args.get("except_") or ()}
        for relation in relations:
            for name, lineage in relation.columns.items():
                if name not in excluded:
                    columns.setdefault(name, lineage)
        for replacement in star.args.get("replace") or ():
            columns[replacement.alias_or_name.lower()] = derive(
                merge(*(self.lookup_any(c, relations) for c in replacement.find_all(exp.Column)))
            )
        return [r for r in relations if r.is_open or r.fallbacks]

    def lookup_any(self, column: exp.Column, relations: Sequence[Relation]) -> Lineage:
        found = [r.lookup(column.name.lower()) for r in relations]
        return merge(*(f for f in found if f is not None))

    def from_items(self, select: exp.Select, ctes: Mapping[str, Relation]) -> dict[str, Relation]:
        """The FROM item and every joined item, by alias (lateral unnests see the earlier ones)."""
        from_ = select.args.get("from_")
        items = [from_.this] if from_ else []
        items += [join.this for join in select.args.get("joins") or ()]
        sources: dict[str, Relation] = {}
        for item in items:
            alias, relation = self.from_item(item, sources, ctes)
            sources[alias.lower()] = rename_columns(relation, item.args.get("alias"))
        return sources

    def from_item(
        self, item: exp.Expression, sources: Mapping[str, Relation], ctes: Mapping[str, Relation]
    ) -> tuple[str, Relation]:
        """One FROM/JOIN item: a CTE, a dbt relation, a subquery, an unnest, VALUES or a table function."""
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Func):
            name = function_name(item.this)
            kind = "file" if name in FILE_READING_TABLE_FUNCTIONS else "function"
            node = self.catalog.outside_node(kind, describe_call(item.this))
            return item.alias or name, Relation({}, rows={ColumnRef(node, ROWS): COPY}, open_node=node)
        if isinstance(item, exp.Table):
            if not item.db and item.name.lower() in ctes:
                return item.alias_or_name, ctes[item.name.lower()]
            node = self.catalog.nodes[self.catalog.resolve_table(item)]
            return item.alias_or_name, node_relation(node)
        if isinstance(item, exp.Subquery):
            return item.alias, self.query(item.this, ctes)
        if isinstance(item, exp.Unnest):
            return item.alias, self.unnest(item, sources, ctes)
        if isinstance(item, exp.Values):
            return item.alias, values_relation(item)
        raise LineageError(f"{self.model}: unsupported FROM item {item.sql(dialect=DIALECT)[:80]!r}")

    def unnest(self, item: exp.Unnest, sources: Mapping[str, Relation], ctes: Mapping[str, Relation]) -> Relation:
        """`cross join unnest(list) as u(element)`: the element derives from the list."""
        lineage = derive(merge(*(self.expression(e, sources, {}, ctes) for e in item.expressions)))
        alias = item.args.get("alias")
        names = [c.name.lower() for c in alias.columns] if alias and alias.columns else []
        if names:
            return Relation(dict.fromkeys(names, lineage))
        return Relation({}, open_lineage=lineage)

    def expression(
        self,
        expression: exp.Expression,
        sources: Mapping[str, Relation],
        earlier: Mapping[str, Lineage],
        ctes: Mapping[str, Relation],
    ) -> Lineage:
        """Lineage of one projection: a bare column is a copy, anything else derived."""
        if isinstance(expression, exp.Column):
            lineage, field_access = self.column(expression, sources, earlier)
            return derive(lineage) if field_access else lineage
        parts: list[Lineage] = []
        for part in value_parts(expression, frozenset()):
            if isinstance(part, exp.Column):
                parts.append(self.column(part, sources, earlier)[0])
            elif isinstance(part, exp.Count):
                parts.append(merge(*(r.rows for r in sources.values())))
            else:
                subquery = self.query(part, ctes)
                parts.append(merge(*subquery.columns.values()))
        return derive(merge(*parts))

    def column(
        self, column: exp.Column, sources: Mapping[str, Relation], earlier: Mapping[str, Lineage]
    ) -> tuple[Lineage, bool]:
        """(lineage, is a struct field access) of a column reference.

        `read_result.content` is field `content` of column `read_result` when no FROM item is
        called `read_result`; `u.finding.entity_type` is field of column `finding` of item `u`."""
        parts = [part.name.lower() for part in column.parts]
        if len(parts) >= 2 and parts[0] in sources:
            found = sources[parts[0]].lookup(parts[1])
            if found is not None:
                return found, len(parts) > 2
            # like DuckDB, fall back to field parts[1] of a column called parts[0]
        name, field_access = parts[0], len(parts) > 1
        known = [r.lookup(name, allow_open=False) for r in sources.values()]
        if any(k is not None for k in known):
            return merge(*(k for k in known if k is not None)), field_access
        if name in earlier:
            return earlier[name], field_access
        opened = [r.lookup(name) for r in sources.values() if r.is_open]
        if opened:
            return merge(*(o for o in opened if o is not None)), field_access
        return self.missing(column), False

    def missing(self, column: exp.Column) -> Lineage:
        self.unresolved.append(f"{self.model}: cannot resolve column {column.sql(dialect=DIALECT)}")
        return {}


def value_parts(node: exp.Expression, bound: frozenset[str]) -> Iterator[exp.Expression]:
    """Columns, subqueries and `count(*)` whose values flow into `node`.

    Conditions are skipped: CASE/IF conditions, FILTER clauses, window PARTITION/ORDER BY; so are
    lambda parameters (`i -> i + 1`)."""
    if isinstance(node, exp.Column):
        if node.parts[0].name.lower() not in bound:
            yield node
        return
    if isinstance(node, (exp.Query, exp.Subquery)):
        yield node
        return
    if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
        yield node
        return
    if isinstance(node, exp.Lambda):
        bound = bound | {p.name.lower() for p in node.expressions}
        children: list[exp.Expression | None] = [node.this]
    elif isinstance(node, exp.Case):
        children = [branch.args.get("true") for branch in node.args.get("ifs") or ()]
        children.append(node.args.get("default"))
    elif isinstance(node, exp.If):
        children = [node.args.get("true"), node.args.get("false")]
    elif isinstance(node, (exp.Filter, exp.Window)):
        children = [node.this]
    else:
        children = list(node.iter_expressions())
    for child in children:
        if child is not None:
            yield from value_parts(child, bound)


def values_relation(values: exp.Values) -> Relation:
    """`(values (...)) as t(a, b)`: constant columns."""
    alias = values.args.get("alias")
    names = [c.name.lower() for c in alias.columns] if alias and alias.columns else []
    return Relation({name: {} for name in names})


def rename_columns(relation: Relation, alias: exp.Expression | None) -> Relation:
    """Apply an alias's column list (`as t(a, b)`) to a relation's columns, by position."""
    names = [c.name.lower() for c in alias.columns] if isinstance(alias, exp.TableAlias) and alias.columns else []
    if not names or not relation.columns or len(names) > len(relation.columns):
        return relation
    columns = list(relation.columns.items())
    renamed = {new: lineage for new, (_, lineage) in zip(names, columns)}
    renamed.update(dict(columns[len(names):]))
    return Relation(renamed, relation.rows, relation.open_lineage, relation.open_node, relation.fallbacks)


# --------------------------------------------------------------------------- the project's lineage


@dataclass
class ColumnLineage:
    """The column lineage of a dbt project: every column's direct upstream edges."""

    nodes: dict[str, Node]
    upstream: dict[ColumnRef, tuple[Edge, ...]]
    unresolved: list[str] = field(default_factory=list)
    project_root: Path | None = None

    def downstream(self) -> dict[ColumnRef, tuple[Edge, ...]]:
        """The inverted edges: for each column, the columns built from it."""
        inverted: dict[ColumnRef, list[Edge]] = {}
        for ref, edges in self.upstream.items():
            for edge in edges:
                inverted.setdefault(edge.column, []).append(Edge(ref, edge.kind))
        return {ref: tuple(sorted(edges)) for ref, edges in inverted.items()}

    def find_node(self, table: str) -> Node:
        """The node a user names: a model or seed name, or `source_name.table` for a source."""
        matches = [n for n in self.nodes.values() if table.lower() in (n.table.lower(), n.unique_id.lower())]
        if not matches:
            names = sorted(n.table for n in self.nodes.values() if n.resource_type in ("model", "seed", "source"))
            raise LineageError(f"unknown table {table!r}; tables: {', '.join(names)}")
        return matches[0]

    def column_ref(self, spec: str) -> ColumnRef:
        """`TABLE.COLUMN` (`search_index.chunk_text`, `landing.documents.file_path`) as a ColumnRef."""
        table, dot, column = spec.rpartition(".")
        if not dot or not table or not column:
            raise LineageError(f"expected TABLE.COLUMN, got {spec!r}")
        node = self.find_node(table)
        known = self.columns_of(node)
        if column.lower() not in known:
            raise LineageError(
                f"{node.label} has no column {column!r}; its columns: {', '.join(c for c in known if c != ROWS)}"
            )
        return ColumnRef(node.unique_id, column.lower())

    def columns_of(self, node: Node) -> list[str]:
        """A node's columns: declared ones, then any the lineage mentions."""
        seen = list(node.columns)
        for ref in list(self.upstream) + [e.column for edges in self.upstream.values() for e in edges]:
            if ref.node == node.unique_id and ref.column not in seen:
                seen.append(ref.column)
        return seen

    def display(self, ref: ColumnRef) -> str:
        """`chunks.chunk_text`, `source landing.documents.file_path`, `chunks.* (rows)`."""
        node = self.nodes[ref.node]
        return f"{node.label}.{ref.column}" + (" (rows)" if ref.column == ROWS else "")

    def roots(self, ref: ColumnRef) -> list[ColumnRef]:
        """The source, seed and file columns that `ref` ultimately comes from."""
        found: set[ColumnRef] = set()
        seen: set[ColumnRef] = set()
        stack = [ref]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            edges = self.upstream.get(current, ())
            if not edges and self.nodes[current.node].resource_type != "model":
                found.add(current)
            stack.extend(edge.column for edge in edges)
        return sorted(found)


def load_manifest(path: str | Path) -> dict[str, Any]:
    """dbt's target/manifest.json; says what to run when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise LineageError(
            f"no dbt manifest at {path}: run `dbt compile` (or `dbt docs generate`) in the project first"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def default_manifest_path() -> Path:
    """target/manifest.json of the current directory (env DBT_TARGET_PATH changes `target`)."""
    return Path(os.environ.get("DBT_TARGET_PATH") or "target") / "manifest.json"


def build_lineage(manifest: Mapping[str, Any]) -> ColumnLineage:
    """Column lineage of every model of the manifest (SQL parsed, Python declared in meta)."""
    catalog = catalog_from_manifest(manifest)
    upstream: dict[ColumnRef, tuple[Edge, ...]] = {}
    unresolved: list[str] = []
    for unique_id in model_order(manifest):
        node = manifest["nodes"][unique_id]
        if node.get("language") == "python":
            columns, problems = python_model_lineage(node, catalog)
        else:
            columns, problems = sql_model_lineage(node, catalog)
        unresolved += problems
        model = catalog.nodes[unique_id]
        catalog.nodes[unique_id] = Node(unique_id, model.name, "model", tuple(c for c in columns if c != ROWS))
        for column, lineage in columns.items():
            upstream[ColumnRef(unique_id, column)] = tuple(sorted(Edge(ref, kind) for ref, kind in lineage.items()))
    roots = {n.get("root_path") for n in manifest["nodes"].values() if n.get("root_path")}
    return ColumnLineage(catalog.nodes, upstream, unresolved, Path(roots.pop()) if len(roots) == 1 else None)


def catalog_from_manifest(manifest: Mapping[str, Any]) -> Catalog:
    """Every model, seed and source of the manifest, by relation name."""
    catalog = Catalog()
    for unique_id, source in manifest["sources"].items():
        node = Node(unique_id, source["name"], "source", tuple(c.lower() for c in source["columns"]),
                    source_name=source["source_name"])
        catalog.add(node, source.get("relation_name"))
    for unique_id, entry in manifest["nodes"].items():
        if entry["resource_type"] == "seed":
            catalog.add(Node(unique_id, entry["name"], "seed", seed_columns(entry)), entry.get("relation_name"))
        elif entry["resource_type"] == "model":
            declared = tuple(c.lower() for c in entry["columns"])
            catalog.add(Node(unique_id, entry["name"], "model", declared), entry.get("relation_name"))
    return catalog


def seed_columns(seed: Mapping[str, Any]) -> tuple[str, ...]:
    """A seed's columns: the CSV header, else the columns its yml declares."""
    path = Path(seed.get("root_path") or ".") / seed.get("original_file_path", "")
    if path.is_file():
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
        if header:
            return tuple(name.strip().lower() for name in header)
    return tuple(c.lower() for c in seed["columns"])


def model_order(manifest: Mapping[str, Any]) -> list[str]:
    """Models, each after the models it depends on."""
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    graph = {k: {d for d in v["depends_on"]["nodes"] if d in models} for k, v in models.items()}
    return list(graphlib.TopologicalSorter(graph).static_order())


def sql_model_lineage(node: Mapping[str, Any], catalog: Catalog) -> tuple[dict[str, Lineage], list[str]]:
    """Output columns of a SQL model (declared columns included) with their lineage."""
    tree = parse_compiled(node, catalog)
    resolver = QueryResolver(catalog, node["name"])
    relation = resolver.query(tree, {})
    columns = dict(relation.columns)
    for declared in catalog.nodes[node["unique_id"]].columns:
        if declared not in columns:
            found = relation.lookup(declared)
            if found is None:
                resolver.unresolved.append(f"{node['name']}: declared column {declared} is not in its SQL")
            columns[declared] = found or {}
    columns[ROWS] = relation.rows
    return columns, resolver.unresolved


def parse_compiled(node: Mapping[str, Any], catalog: Catalog) -> exp.Expression:
    """A SQL model's compiled code parsed by sqlglot (external sources as placeholder tables)."""
    code = node.get("compiled_code")
    if not code:
        raise LineageError(
            f"{node['unique_id']} has no compiled SQL in the manifest: run `dbt compile` "
            "(or `dbt docs generate`) on the whole project first; `dbt parse` alone does not compile"
        )
    try:
        return sqlglot.parse_one(catalog.substitute(code), dialect=DIALECT)
    except sqlglot.errors.ParseError as error:
        raise LineageError(f"{node['unique_id']}: sqlglot cannot parse the compiled SQL: {error}") from error


def python_model_lineage(node: Mapping[str, Any], catalog: Catalog) -> tuple[dict[str, Lineage], list[str]]:
    """A Python model's lineage from its `meta: column_lineage:`; its rows come from its inputs."""
    declared = (node.get("config", {}).get("meta") or node.get("meta") or {}).get("column_lineage")
    name = node["name"]
    if not isinstance(declared, Mapping):
        return {ROWS: {}}, [f"{name}: Python model without `meta: column_lineage` in its yml"]
    inputs = list(node["depends_on"]["nodes"])
    problems: list[str] = []
    columns: dict[str, Lineage] = {}
    for column, spec in declared.items():
        refs, kind = parse_declared(spec)
        lineage: Lineage = {}
        for ref in refs:
            resolved = declared_ref(ref, inputs, catalog)
            if resolved is None:
                problems.append(f"{name}.{column}: {ref!r} is not a column of a model it depends on")
            else:
                lineage[resolved] = kind
        columns[str(column).lower()] = lineage
    for column in catalog.nodes[node["unique_id"]].columns:
        if column not in columns:
            problems.append(f"{name}: column {column} has no declared lineage")
            columns[column] = {}
    columns[ROWS] = {ColumnRef(i, ROWS): DERIVED for i in inputs}
    return columns, problems


def parse_declared(spec: Any) -> tuple[list[str], str]:
    """`[a.x, b.y]` (derived) or `{from: [a.x], kind: copy}`."""
    if isinstance(spec, Mapping):
        kind = str(spec.get("kind", DERIVED))
        if kind not in (COPY, DERIVED):
            raise LineageError(f"column_lineage kind must be {COPY} or {DERIVED}, got {kind!r}")
        return [str(r) for r in spec.get("from", ())], kind
    if isinstance(spec, str):
        return [spec], DERIVED
    return [str(r) for r in spec or ()], DERIVED


def declared_ref(spec: str, inputs: Sequence[str], catalog: Catalog) -> ColumnRef | None:
    """`chunks.chunk_text` as a column of one of the model's inputs."""
    table, _, column = spec.rpartition(".")
    for unique_id in inputs:
        node = catalog.nodes.get(unique_id)
        if node and node.table.lower() == table.lower() and column.lower() in node.columns:
            return ColumnRef(unique_id, column.lower())
    return None


# --------------------------------------------------------------------------- no gaps


def upstream_nodes(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """Every node a model, test or exposure depends on, directly or not."""
    nodes = {**manifest["nodes"], **manifest.get("exposures", {})}
    seen: set[str] = set()
    stack = list(nodes[unique_id]["depends_on"]["nodes"])
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(nodes.get(current, {}).get("depends_on", {}).get("nodes", ()))
    return seen


def closure_gaps(manifest: Mapping[str, Any]) -> list[str]:
    """Models whose upstream closure reaches neither a source nor a seed."""
    gaps = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        if not any(s.startswith(("source.", "seed.")) for s in upstream_nodes(manifest, unique_id)):
            gaps.append(f"{node['name']}: its upstream closure reaches no source or seed")
    return sorted(gaps)


def direct_file_reads(manifest: Mapping[str, Any]) -> list[str]:
    """Models that read files other than through a dbt source (read_csv, 'x.csv', read_blob, ...)."""
    catalog = catalog_from_manifest(manifest)
    problems = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        reads_source = any(d.startswith("source.") for d in node["depends_on"]["nodes"])
        for name, call in file_reads(node, catalog):
            if name not in FILE_READING_UDFS or not reads_source:
                problems.append(f"{node['name']} reads files directly: {call}")
    return sorted(problems)


def file_reads(node: Mapping[str, Any], catalog: Catalog) -> list[tuple[str, str]]:
    """(function, call) of each file-reading call or file path in a model's compiled code."""
    readers = FILE_READING_TABLE_FUNCTIONS | FILE_READING_UDFS
    if node.get("language") == "python":
        pattern = rf"\b({'|'.join(sorted(readers))})\s*\("
        return [(m.group(1), m.group(0)) for m in re.finditer(pattern, node.get("raw_code") or "")]
    tree = parse_compiled(node, catalog)
    reads = [(function_name(f), describe_call(f)) for f in tree.find_all(exp.Func) if function_name(f) in readers]
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier) and not table.db and looks_like_file(table.name):
            reads.append(("file", f"from '{table.name}'"))
    return reads


def describe_call(function: exp.Func) -> str:
    """`read_csv('/data/q.csv')`: the function and its first string argument."""
    literal = function.find(exp.Literal)
    argument = f"'{literal.this}'" if literal is not None and literal.is_string else "..."
    return f"{function_name(function)}({argument})"


# --------------------------------------------------------------------------- trees and output


@dataclass
class TreeNode:
    """One column in a printed lineage tree; `repeated` when its subtree is shown earlier."""

    column: ColumnRef
    kind: str | None
    children: list[TreeNode] = field(default_factory=list)
    repeated: bool = False


def lineage_tree(lineage: ColumnLineage, ref: ColumnRef, direction: str = "upstream") -> TreeNode:
    """The full upstream (or downstream) tree of a column; a column met twice is expanded once."""
    if direction not in ("upstream", "downstream"):
        raise LineageError(f"direction must be upstream or downstream, got {direction!r}")
    edges = lineage.upstream if direction == "upstream" else lineage.downstream()
    expanded: set[ColumnRef] = set()

    def grow(column: ColumnRef, kind: str | None) -> TreeNode:
        node = TreeNode(column, kind)
        if column in expanded and edges.get(column):
            node.repeated = True
            return node
        expanded.add(column)
        node.children = [grow(edge.column, edge.kind) for edge in edges.get(column, ())]
        return node

    return grow(ref, None)


def render_tree(lineage: ColumnLineage, tree: TreeNode) -> str:
    """The tree as text, one column per line, kinds in brackets."""
    lines = [lineage.display(tree.column)]

    def walk(node: TreeNode, prefix: str) -> None:
        for index, child in enumerate(node.children):
            last = index == len(node.children) - 1
            note = " (see above)" if child.repeated else ""
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{lineage.display(child.column)}  [{child.kind}]{note}")
            walk(child, prefix + ("   " if last else "│  "))

    walk(tree, "")
    return "\n".join(lines)


def tree_json(lineage: ColumnLineage, tree: TreeNode) -> dict[str, Any]:
    """The tree as JSON-ready dicts."""
    node = lineage.nodes[tree.column.node]
    result: dict[str, Any] = {
        "table": node.table,
        "column": tree.column.column,
        "resource_type": node.resource_type,
        "unique_id": node.unique_id,
    }
    if tree.kind is not None:
        result["kind"] = tree.kind
    if tree.repeated:
        result["repeated"] = True
    result["children"] = [tree_json(lineage, child) for child in tree.children]
    return result


def lineage_report(lineage: ColumnLineage, spec: str, direction: str = "upstream", fmt: str = "tree") -> str:
    """What `docvec lineage TABLE.COLUMN` prints."""
    ref = lineage.column_ref(spec)
    tree = lineage_tree(lineage, ref, direction)
    if fmt == "json":
        payload = {
            "column": spec,
            "direction": direction,
            "tree": tree_json(lineage, tree),
            "roots": [lineage.display(r) for r in lineage.roots(ref)] if direction == "upstream" else None,
        }
        return json.dumps(payload, indent=2)
    return render_tree(lineage, tree)


def docs_markdown(lineage: ColumnLineage, tables: Sequence[str] = PUBLIC_TABLES) -> str:
    """The generated docs page: a table of direct upstream columns and origins per public table."""
    lines = [
        f"{{% docs {DOCS_BLOCK} %}}",
        "# docvec: column lineage",
        "",
        "<!-- Generated by `docvec lineage --write-docs` from dbt's compiled manifest; do not edit by hand. -->",
        "",
        "[← overview](#!/overview). For every column of the public tables: the columns it is made from",
        "(*copy*: the same value, perhaps renamed; *derived*: computed from them, UDF calls included)",
        "and the landing-source and seed columns it ultimately comes from. Only values count: columns",
        "that only filter, join or decide (WHERE, ON, CASE conditions) are not listed. `x.*` stands for",
        "the rows of `x` (a count). SQL models are parsed with sqlglot; the Python models `embeddings`",
        "and `retrieval_runs` declare theirs in `meta: column_lineage`.",
        "`docvec lineage TABLE.COLUMN [--direction downstream] [--format json]` prints any column's tree.",
        "",
        f"Example, `docvec lineage {EXAMPLE_COLUMN}`:",
        "",
        "```",
        lineage_report(lineage, EXAMPLE_COLUMN),
        "```",
    ]
    for table in tables:
        lines += ["", f"## {table}", "", "| column | made from | comes from |", "|---|---|---|"]
        node = lineage.find_node(table)
        for column in node.columns:
            ref = ColumnRef(node.unique_id, column)
            made = ", ".join(f"`{lineage.display(e.column)}` ({e.kind})" for e in lineage.upstream.get(ref, ()))
            roots = ", ".join(f"`{lineage.display(r)}`" for r in lineage.roots(ref))
            lines.append(f"| {column} | {made or '— (constant, var or run metadata)'} | {roots or '—'} |")
    lines.append("{% enddocs %}")
    return "\n".join(lines) + "\n"


def write_docs(lineage: ColumnLineage, path: str | Path | None = None) -> Path:
    """Write the docs page where dbt picks it up (default: the project's models/docs/column_lineage.md)."""
    path = Path(path) if path else (lineage.project_root or Path()) / DOCS_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(docs_markdown(lineage), encoding="utf-8")
    return path


def lineage_from_manifest(path: str | Path | None = None) -> ColumnLineage:
    """Load the manifest (default target/manifest.json) and build the project's column lineage."""
    return build_lineage(load_manifest(path or default_manifest_path()))

