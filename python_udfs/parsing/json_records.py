"""JSON and JSON Lines: one record per object (array element or line).

The text, id and title of each record come from the fields named in ``ParseOptions``; the other
scalar fields become metadata.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .common import decode_required, describe, is_blank, safe_text
from .metadata import json_key, json_safe, normalise_access_groups
from .results import ParsedRecord, ParseOptions, ParseResult, Rejected

__all__ = ["parse_json", "parse_jsonl"]

_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def _is_metadata_value(value: Any) -> bool:
    """Scalars and lists of scalars go to metadata; objects and nested arrays do not."""
    if isinstance(value, list):
        return all(isinstance(item, _JSON_SCALARS) for item in value)
    return isinstance(value, _JSON_SCALARS)


def _first_string(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``(field, value)`` of the first field holding a non-blank string, else ``(None, None)``."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, str) and not is_blank(value):
            return field, value
    return None, None


def _first_id(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``(field, key)`` of the first usable id (non-blank string or number), else ``(None, None)``."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str) and not is_blank(value):
            return field, safe_text(value)
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            return field, str(value)
    return None, None


def _json_record(item: Any, number: int, where: str, options: ParseOptions) -> ParsedRecord:
    """One JSON object as a record; ``number`` is its 1-based position, ``where`` its location."""
    if not isinstance(item, dict):
        raise Rejected("parse_error", f"{where}: record is not a JSON object (got {_json_type(item)})")
    id_field, key = _first_id(item, options.json_id_fields)
    text_field, text = _first_string(item, options.json_text_fields)
    if text is None:
        named = f"{where}, key {key!r}" if key is not None else where
        fields = ", ".join(options.json_text_fields)
        raise Rejected("parse_error", f"{named}: no non-empty text field (looked for: {fields})")
    title_field, title = _first_string(item, options.json_title_fields)
    used = {id_field, text_field, title_field}
    metadata = {
        json_key(name): json_safe(value)
        for name, value in item.items()
        if name not in used and _is_metadata_value(value)
    }
    normalise_access_groups(metadata)
    if title is not None:
        title = " ".join(safe_text(title).split())
    return ParsedRecord(key if key is not None else str(number), title, safe_text(text), metadata)


def _json_records(items: list[tuple[str, Any]], options: ParseOptions, what: str) -> ParseResult:
    """Records for ``(location, value)`` pairs, in order; duplicate keys are rejected."""
    if not items:
        raise Rejected("empty_text", f"{what} contains no records")
    records: list[ParsedRecord] = []
    seen: dict[str, str] = {}
    for number, (where, item) in enumerate(items, start=1):
        record = _json_record(item, number, where, options)
        key = record.record_key or ""
        if key in seen:
            raise Rejected("parse_error", f"duplicate record key {key!r} ({seen[key]} and {where})")
        seen[key] = where
        records.append(record)
    return ParseResult(records)


def _json_items(value: Any) -> list[tuple[str, Any]]:
    """The records of a JSON document, each with a description of where it is.

    An array holds one record per element; an object is one record, unless its only key holds
    a non-empty array of objects (``{"documents": [...]}``), whose elements are the records.
    """
    if isinstance(value, list):
        return [(f"record {i + 1} (index {i})", item) for i, item in enumerate(value)]
    if isinstance(value, dict):
        if len(value) == 1:
            ((name, inner),) = value.items()
            if isinstance(inner, list) and inner and all(isinstance(item, dict) for item in inner):
                return [(f"record {i + 1} ({name}[{i}])", item) for i, item in enumerate(inner)]
        return [("top-level object", value)]
    raise Rejected("parse_error", f"top-level JSON value must be an object or an array, got {_json_type(value)}")


def parse_json(content: bytes, options: ParseOptions) -> ParseResult:
    """JSON: an array of records, one record object, or ``{"<name>": [records]}``."""
    text = decode_required(content, "JSON file")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise Rejected("parse_error", f"JSON nesting is too deep ({describe(exc)})") from exc
    return _json_records(_json_items(value), options, "JSON file")


def parse_jsonl(content: bytes, options: ParseOptions) -> ParseResult:
    """JSON Lines: one record per non-blank line; any invalid line rejects the whole file."""
    text = decode_required(content, "JSONL file")
    items: list[tuple[str, Any]] = []
    # Split on LF only: U+2028 and friends may legally appear raw inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if is_blank(line):
            continue
        try:
            items.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise Rejected("parse_error", f"line {number}: {exc.msg} (column {exc.colno})") from exc
        except RecursionError as exc:
            raise Rejected("parse_error", f"line {number}: JSON nesting is too deep") from exc
        except ValueError as exc:  # e.g. integers longer than Python allows
            raise Rejected("parse_error", f"line {number}: {describe(exc)}") from exc
    return _json_records(items, options, "JSONL file")
