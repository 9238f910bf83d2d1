"""The project's column lineage from dbt's manifest: SQL models parsed, Python models declared."""

from __future__ import annotations

import csv
import graphlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docvec.lineage.catalog import Catalog
from docvec.lineage.graph import COPY, DERIVED, ROWS, ColumnLineage, ColumnRef, Edge, Lineage, LineageError, Node
from docvec.lineage.sql import QueryResolver, parse_compiled


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


def lineage_from_manifest(path: str | Path | None = None) -> ColumnLineage:
    """Load the manifest (default target/manifest.json) and build the project's column lineage."""
    return build_lineage(load_manifest(path or default_manifest_path()))


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
        node = Node(
            unique_id,
            source["name"],
            "source",
            tuple(c.lower() for c in source["columns"]),
            source_name=source["source_name"],
        )
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
