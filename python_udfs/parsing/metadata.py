"""Metadata from front matter and JSON records: JSON-safe copies and ``access_groups``."""

from __future__ import annotations

import base64
import datetime
import json
import math
from collections.abc import Mapping
from typing import Any

from . import limits
from .common import safe_text
from .results import Rejected

__all__ = ["MetadataTooComplex", "json_key", "json_safe", "normalise_access_groups"]


class MetadataTooComplex(ValueError):
    """Metadata nested too deeply or too large (cycles, YAML alias expansion)."""


def json_key(key: Any) -> str:
    """A JSON object key for a YAML/JSON mapping key."""
    if isinstance(key, str):
        return safe_text(key)
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, (datetime.date, datetime.time)):
        return key.isoformat()
    return str(key)


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy of ``value``.

    Dates and times become ISO strings, non-finite floats None, bytes base64, sets sorted lists,
    mapping keys strings; anything else unknown becomes ``str(value)``. Raises
    MetadataTooComplex past ``limits.MAX_METADATA_DEPTH`` levels or ``limits.MAX_METADATA_NODES`` values.
    """
    budget = [limits.MAX_METADATA_NODES]

    def convert(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise MetadataTooComplex(f"more than {limits.MAX_METADATA_NODES} values")
        if depth > limits.MAX_METADATA_DEPTH:
            raise MetadataTooComplex(f"nested deeper than {limits.MAX_METADATA_DEPTH} levels")
        if item is None or isinstance(item, (bool, int)):
            return item
        if isinstance(item, float):
            return item if math.isfinite(item) else None
        if isinstance(item, str):
            return safe_text(item)
        if isinstance(item, (datetime.date, datetime.time)):
            return item.isoformat()
        if isinstance(item, bytes):
            return base64.b64encode(item).decode("ascii")
        if isinstance(item, Mapping):
            return {json_key(k): convert(v, depth + 1) for k, v in item.items()}
        if isinstance(item, (set, frozenset)):
            return [convert(v, depth + 1) for v in sorted(item, key=repr)]
        if isinstance(item, (list, tuple)):
            return [convert(v, depth + 1) for v in item]
        return safe_text(str(item))

    return convert(value, 0)


def normalise_access_groups(metadata: dict[str, Any]) -> None:
    """Make ``metadata["access_groups"]`` (when present) a list of non-empty strings, in place.

    A single string becomes a one-element list, null an empty list, scalars strings. Any other
    shape is rejected (``parse_error``) rather than dropped, so that a restricted document
    never silently loses its access control.
    """
    if "access_groups" not in metadata:
        return
    value = metadata["access_groups"]
    items = [] if value is None else value if isinstance(value, list) else [value]
    groups: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool):
            item = json.dumps(item)
        if not isinstance(item, (str, int, float)):
            raise Rejected(
                "parse_error",
                f"access_groups must be a string or a list of strings, got {type(item).__name__} items",
            )
        group = str(item).strip()
        if group:
            groups.append(group)
    metadata["access_groups"] = groups
