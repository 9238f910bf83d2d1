"""The column lineage graph: column references, edges, nodes and the project's lineage.

A column's lineage is a mapping of upstream columns to the kind of edge: `copy` (the same value,
perhaps renamed) or `derived` (computed from it). `*` stands for the rows of a relation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

COPY = "copy"
DERIVED = "derived"
ROWS = "*"
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
