"""What parsing returns and raises: records, results, options, reason codes and errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCESS_UNPARSEABLE",
    "REASONS",
    "BinaryContentError",
    "InvalidEncodingError",
    "ParseOptions",
    "ParseResult",
    "ParsedRecord",
    "Rejected",
    "TextDecodeError",
]

# Front matter or a JSON record whose access groups cannot be known for sure (invalid or too
# complex YAML, a misspelt or misplaced access key, an empty, null, blank or non-list value):
# quarantined, never public (access control fails closed).
ACCESS_UNPARSEABLE = "access_unparseable"

REASONS = (
    "unsupported_type",
    "empty_text",
    "parse_error",
    "encrypted",
    "binary_content",
    "invalid_encoding",
    "too_large",
    ACCESS_UNPARSEABLE,
)


@dataclass(frozen=True)
class ParsedRecord:
    """One document extracted from a file.

    ``record_key`` is None for one-document files (markdown, text, html, pdf) and the record id
    (as a string) for JSON/JSONL records. ``metadata`` is always JSON-serialisable.
    """

    record_key: str | None
    title: str | None
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class ParseResult:
    """The outcome of parsing one file: records, or no records and a reason from ``REASONS``."""

    records: list[ParsedRecord]
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ParseOptions:
    """Field names looked up, in order, in each JSON/JSONL record."""

    json_text_fields: tuple[str, ...] = ("text", "body", "content")
    json_id_fields: tuple[str, ...] = ("id", "_id", "uuid")
    json_title_fields: tuple[str, ...] = ("title", "name")


class TextDecodeError(ValueError):
    """Bytes that cannot become text; ``reason`` is the matching code from ``REASONS``."""

    reason = "parse_error"


class BinaryContentError(TextDecodeError):
    """The bytes look like binary data (NUL bytes, many control characters), not text."""

    reason = "binary_content"


class InvalidEncodingError(TextDecodeError):
    """The bytes are not valid in the encoding they declare, nor in any encoding detected."""

    reason = "invalid_encoding"


class Rejected(Exception):
    """Internal: the file cannot become documents, for ``reason`` (a code from ``REASONS``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
