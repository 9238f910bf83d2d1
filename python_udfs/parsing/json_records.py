"""JSON and JSON Lines: one record per object (array element or line).

The text, id and title of each record come from the fields named in ``ParseOptions``; the other
scalar fields become metadata. A record with none of the text fields gets a text built from its
own fields instead, one ``key: value`` line per value (``_field_text``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .common import decode_with_encoding, describe, is_blank, safe_text, with_encoding
from .metadata import json_key, json_safe, normalise_access_groups
from .results import ParsedRecord, ParseOptions, ParseResult, Rejected

__all__ = ["parse_json", "parse_jsonl"]

_JSON_SCALARS = (str, int, float, bool, type(None))
# Fields never copied into a text built from the record's fields (access control is not content).
_NOT_TEXT_FIELDS = frozenset(("access_groups",))
# Values nested deeper than this are left out of a text built from fields.
MAX_FIELD_TEXT_DEPTH = 32
# A text built from fields longer than this rejects the record (long keys repeated on every line).
MAX_FIELD_TEXT_CHARS = 20_000_000
ARRAY_JOINER = ", "

_Path = tuple[str, ...]


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


def _path_label(path: _Path) -> str:
    """``("a", "b", "[0]", "c")`` as ``a.b[0].c``."""
    label = ""
    for part in path:
        label += part if part.startswith("[") or not label else "." + part
    return label


def _scalar_text(value: Any) -> str | None:
    """A number or boolean as JSON writes it; None for null and non-finite numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return json.dumps(value)
    return None


def _field_lines(record: dict[str, Any], skip: frozenset[str]) -> tuple[list[str], set[str]]:
    """``key: value`` lines for the values of ``record``, in order, and the top-level fields holding text.

    Nested objects give dotted keys (``address.city``) and arrays of objects indexed ones
    (``authors[0].name``). Strings are kept whole; an array's strings are joined with
    ``ARRAY_JOINER``. Single numbers and booleans are included as JSON writes them, but numbers
    inside arrays (coordinates, vectors) are not. Nulls, blank strings, the ``skip`` fields and
    values deeper than ``MAX_FIELD_TEXT_DEPTH`` are left out.
    """
    lines: list[str] = []
    with_text: set[str] = set()
    size = 0
    stack: list[tuple[_Path, Any]] = [((json_key(k),), v) for k, v in reversed(record.items()) if k not in skip]
    while stack:
        path, value = stack.pop()
        line_value: str | None
        if isinstance(value, dict):
            if len(path) <= MAX_FIELD_TEXT_DEPTH:
                stack.extend((path + (json_key(k),), v) for k, v in reversed(value.items()))
            continue
        if isinstance(value, list):
            strings = [safe_text(v).strip() for v in value if isinstance(v, str) and not is_blank(v)]
            if len(path) <= MAX_FIELD_TEXT_DEPTH:
                nested = [(path + (f"[{i}]",), v) for i, v in enumerate(value) if isinstance(v, (dict, list))]
                stack.extend(reversed(nested))
            line_value = ARRAY_JOINER.join(strings) if strings else None
        elif isinstance(value, str):
            line_value = None if is_blank(value) else safe_text(value).strip()
        else:
            line_value = _scalar_text(value)
        if line_value is None:
            continue
        if isinstance(value, (str, list)):
            with_text.add(path[0])
        line = f"{_path_label(path)}: {line_value}"
        size += len(line) + 1
        if size > MAX_FIELD_TEXT_CHARS:
            raise Rejected(
                "parse_error", f"text built from the record's fields exceeds {MAX_FIELD_TEXT_CHARS} characters"
            )
        lines.append(line)
    return lines, with_text


def _fallback_text(
    record: dict[str, Any], named: str, options: ParseOptions, id_field: str | None, title_field: str | None
) -> str:
    """The text of a record without a usable text field: its fields as ``key: value`` lines.

    A text field holding a blank string means an empty document and is rejected, as is a record
    whose only strings are its id and title: there is nothing to index.
    """
    fields = ", ".join(options.json_text_fields)
    blank = [field for field in options.json_text_fields if isinstance(record.get(field), str)]
    if blank:
        raise Rejected("parse_error", f"{named}: no non-empty text field ({blank[0]!r} is blank; looked for: {fields})")
    skip = _NOT_TEXT_FIELDS if id_field is None else _NOT_TEXT_FIELDS | {id_field}
    lines, with_text = _field_lines(record, skip)
    if not with_text - {title_field}:
        raise Rejected(
            "parse_error",
            f"{named}: no non-empty text field (looked for: {fields}) and no other string values to build a text from",
        )
    return "\n".join(lines)


def _json_record(item: Any, number: int, where: str, options: ParseOptions) -> ParsedRecord:
    """One JSON object as a record; ``number`` is its 1-based position, ``where`` its location.

    The text is the first non-blank string of ``options.json_text_fields``; without one, it is
    built from the record's fields (``_fallback_text``).
    """
    if not isinstance(item, dict):
        raise Rejected("parse_error", f"{where}: record is not a JSON object (got {_json_type(item)})")
    id_field, key = _first_id(item, options.json_id_fields)
    text_field, text = _first_string(item, options.json_text_fields)
    title_field, title = _first_string(item, options.json_title_fields)
    if text is None:
        named = f"{where}, key {key!r}" if key is not None else where
        text = _fallback_text(item, named, options, id_field, title_field)
    used = {id_field, text_field, title_field}
    metadata = {
        json_key(name): json_safe(value)
        for name, value in item.items()
        if name not in used and _is_metadata_value(value)
    }
    # Checked on the record itself: an access key holding an object is not metadata, but it is
    # a declaration, so it rejects the file (access_unparseable) instead of being dropped.
    normalise_access_groups(metadata, item, where)
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
    decoded = decode_with_encoding(content, "JSON file")
    try:
        value = json.loads(decoded.text)
    except RecursionError as exc:
        raise Rejected("parse_error", f"JSON nesting is too deep ({describe(exc)})") from exc
    return with_encoding(_json_records(_json_items(value), options, "JSON file"), decoded)


def parse_jsonl(content: bytes, options: ParseOptions) -> ParseResult:
    """JSON Lines: one record per non-blank line; any invalid line rejects the whole file."""
    decoded = decode_with_encoding(content, "JSONL file")
    items: list[tuple[str, Any]] = []
    # Split on LF only: U+2028 and friends may legally appear raw inside JSON strings.
    for number, line in enumerate(decoded.text.split("\n"), start=1):
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
    return with_encoding(_json_records(items, options, "JSONL file"), decoded)
