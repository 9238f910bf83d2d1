"""Metadata from front matter and JSON records: JSON-safe copies and ``access_groups``.

Access control fails closed: a declaration of access groups that is malformed, misspelt or
misplaced rejects the file as ``access_unparseable`` (quarantined), never silently dropped.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
from collections.abc import Mapping
from typing import Any

from . import limits
from .common import is_blank, safe_text
from .results import ACCESS_UNPARSEABLE, Rejected

__all__ = [
    "ACCESS_GROUPS_KEY",
    "MetadataTooComplex",
    "json_key",
    "json_safe",
    "looks_like_access_key",
    "normalise_access_groups",
    "read_access_groups",
]

# The one key that declares a document's access groups (front matter, JSON record fields).
ACCESS_GROUPS_KEY = "access_groups"
_ACCESS_KEY_LETTERS = "accessgroups"
# How an access_groups value that is not a list is named in a message (never the value itself).
_VALUE_KINDS: dict[type, str] = {
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    dict: "a mapping",
}


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


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` becomes ``b`` with at most one insertion, deletion or substitution."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            rest = index + 1
            return a[rest:] == b[rest:] if len(a) == len(b) else a[index:] == b[rest:]
    return True


def looks_like_access_key(key: str) -> bool:
    """True for ``access_groups`` and every spelling a person may mean by it.

    The letters of the key, lower-cased (``Access-Groups``, ``ACCESS GROUPS``, ``accessGroups``
    all give ``accessgroups``), within one letter of ``accessgroups`` (``access_group``,
    ``acess_groups``).
    """
    letters = "".join(char for char in key.lower() if char.isalpha())
    return _edit_distance_at_most_one(letters, _ACCESS_KEY_LETTERS)


def _misplaced_access_key(source: Mapping[str, Any]) -> str | None:
    """The first key that looks like ``access_groups`` but is not the top-level ``access_groups``."""
    stack: list[tuple[Any, bool]] = [(source, True)]
    while stack:
        value, top_level = stack.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                name = key if isinstance(key, str) else json_key(key)
                if looks_like_access_key(name) and not (top_level and name == ACCESS_GROUPS_KEY):
                    return name
                stack.append((item, False))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, False) for item in value)
    return None


def _describe_value(value: Any) -> str:
    """A short, content-free description of a value for an error message (never the value)."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s), not all group names" if value else "an empty list"
    return _VALUE_KINDS.get(type(value), "a value that is not a list")


def _group_name(item: Any) -> str | None:
    """The group an ``access_groups`` item names: a non-blank string (trimmed) or an integer; else None."""
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str) and not is_blank(item):
        return item.strip()
    return None


def read_access_groups(source: Mapping[str, Any], where: str) -> list[str] | None:
    """The groups ``source`` (front matter or a JSON record) declares; None when it declares none.

    Fails closed: raises ``Rejected("access_unparseable")`` when a key looks like ``access_groups``
    but is spelt otherwise or is not at the top level (``_misplaced_access_key``), or when the value
    of ``access_groups`` is not a non-empty list of group names (non-blank strings or integers):
    null, an empty list, blank names, a single string, a mapping, booleans, floats. ``where`` names
    the place in the message, which describes the value's shape, never the value.
    """
    misplaced = _misplaced_access_key(source)
    if misplaced == ACCESS_GROUPS_KEY:
        raise Rejected(ACCESS_UNPARSEABLE, f"{where}: {ACCESS_GROUPS_KEY} must be a top-level key, not nested")
    if misplaced is not None:
        raise Rejected(
            ACCESS_UNPARSEABLE,
            f"{where}: key {misplaced!r} looks like a misspelt {ACCESS_GROUPS_KEY} (the only access key, "
            "spelt exactly so, at the top level)",
        )
    if ACCESS_GROUPS_KEY not in source:
        return None
    value = source[ACCESS_GROUPS_KEY]
    groups = [_group_name(item) for item in value] if isinstance(value, list) else []
    if not groups or None in groups:
        raise Rejected(
            ACCESS_UNPARSEABLE,
            f"{where}: {ACCESS_GROUPS_KEY} must be a non-empty list of group names (non-blank strings), "
            f"got {_describe_value(value)}",
        )
    return [group for group in groups if group is not None]


def normalise_access_groups(
    metadata: dict[str, Any], source: Mapping[str, Any] | None = None, where: str = "front matter"
) -> None:
    """Check the access keys of ``source`` (default: ``metadata``) and store the groups in ``metadata``.

    ``metadata["access_groups"]`` becomes the list of ``read_access_groups``, or is removed when
    ``source`` declares none. Raises ``Rejected("access_unparseable")`` as ``read_access_groups`` does.
    """
    groups = read_access_groups(metadata if source is None else source, where)
    if groups is None:
        metadata.pop(ACCESS_GROUPS_KEY, None)
    else:
        metadata[ACCESS_GROUPS_KEY] = groups
