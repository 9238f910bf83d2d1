"""Gaps in the project's lineage: models that reach no source or seed, files read outside sources."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from docvec.lineage.catalog import Catalog, looks_like_file
from docvec.lineage.manifest import catalog_from_manifest
from docvec.lineage.sql import FILE_READING_TABLE_FUNCTIONS, describe_call, function_name, parse_compiled

# Scalar UDFs that read a file's bytes: allowed only in a model that reads a source directly
# (staging reads the bytes of the paths the landing source lists).
FILE_READING_UDFS = frozenset({"docvec_read_file"})


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
