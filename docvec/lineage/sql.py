"""Output columns of one compiled SQL query resolved to the columns of dbt nodes, with sqlglot.

Through CTEs, subqueries, stars (`*`, `* exclude (...)`, `alias.*`), joins, unions and `unnest`.
Only values count: a column used only to decide (WHERE, JOIN ON, CASE conditions, FILTER
clauses, window PARTITION/ORDER BY) is not upstream of the output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from docvec.lineage.catalog import DIALECT, Catalog
from docvec.lineage.graph import COPY, ROWS, ColumnRef, Lineage, LineageError, Node, derive, merge

# DuckDB table functions that read files: a model must read files through a dbt source instead.
FILE_READING_TABLE_FUNCTIONS = frozenset(
    {
        "read_csv",
        "read_csv_auto",
        "sniff_csv",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "parquet_scan",
        "read_blob",
        "read_text",
        "read_xlsx",
        "glob",
        "delta_scan",
        "iceberg_scan",
        "st_read",
        "docvec_list_files",
    }
)


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
        return self.open_lineage is not None or self.open_node is not None or any(f.is_open for f in self.fallbacks)

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


def describe_call(function: exp.Func) -> str:
    """`read_csv('/data/q.csv')`: the function and its first string argument."""
    literal = function.find(exp.Literal)
    argument = f"'{literal.this}'" if literal is not None and literal.is_string else "..."
    return f"{function_name(function)}({argument})"


def parse_compiled(node: Mapping[str, Any], catalog: Catalog) -> exp.Expression:
    """A SQL model's compiled code parsed by sqlglot (external sources as placeholder tables)."""
    code = node.get("compiled_code")
    if not code:
        raise LineageError(
            f"{node['unique_id']} has no compiled SQL in the manifest: run `dbt compile` "
            "(or `dbt docs generate`) on the whole project first; `dbt parse` alone does not compile"
        )
    try:
        parsed = sqlglot.parse_one(catalog.substitute(code), dialect=DIALECT)
        if not isinstance(parsed, exp.Expression):
            raise LineageError(f"{node['unique_id']}: sqlglot parsed no SQL statement")
        return parsed
    except sqlglot.errors.ParseError as error:
        raise LineageError(f"{node['unique_id']}: sqlglot cannot parse the compiled SQL: {error}") from error


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
            dbt_node = self.catalog.nodes[self.catalog.resolve_table(item)]
            return item.alias_or_name, node_relation(dbt_node)
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
    renamed.update(dict(columns[len(names) :]))
    return Relation(renamed, relation.rows, relation.open_lineage, relation.open_node, relation.fallbacks)
