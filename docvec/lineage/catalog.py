"""Relation names of the compiled SQL mapped to dbt nodes (models, seeds, sources, files)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from docvec.lineage.graph import Node

DIALECT = "duckdb"


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


def looks_like_file(name: str) -> bool:
    """A table name DuckDB would read as a file: `from 'data/x.csv'`."""
    return "/" in name or bool(re.search(r"\.[a-z0-9]{1,8}$", name, re.IGNORECASE))
