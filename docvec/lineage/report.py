"""A column's upstream or downstream lineage as a tree: text (`docvec lineage`) or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from docvec.lineage.graph import ColumnLineage, ColumnRef, LineageError


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
