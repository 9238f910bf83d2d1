"""What parsing returns and raises: records, results, options, reason codes and errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACCESS_UNPARSEABLE",
    "LOW_CONFIDENCE",
    "OCR_MODES",
    "PDF_PARSERS",
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
# OCR found no text it is confident about (every page under ParseOptions.ocr_min_confidence).
LOW_CONFIDENCE = "low_confidence"

REASONS = (
    "unsupported_type",
    "empty_text",
    "parse_error",
    "encrypted",
    "binary_content",
    "invalid_encoding",
    "too_large",
    ACCESS_UNPARSEABLE,
    LOW_CONFIDENCE,
)

# The parser choices (vars `pdf_parser`, `ocr`): "auto" is the measured default of each format.
PDF_PARSERS = ("auto", "pypdf", "pypdfium2", "pdfplumber")
OCR_MODES = ("auto", "off")


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
    """The parser settings (dbt vars of the same names, through macros/parse_options_json.sql)."""

    # Field names looked up, in order, in each JSON/JSONL record.
    json_text_fields: tuple[str, ...] = ("text", "body", "content")
    json_id_fields: tuple[str, ...] = ("id", "_id", "uuid")
    json_title_fields: tuple[str, ...] = ("title", "name")
    # The PDF text extractor, one of PDF_PARSERS.
    pdf_parser: str = "auto"
    # OCR of images and of PDF pages without a text layer (one of OCR_MODES), and the mean word
    # confidence (0..100) under which an OCR'd page is flagged; a document none of whose pages
    # reaches it is rejected as LOW_CONFIDENCE.
    ocr: str = "auto"
    ocr_min_confidence: float = 60.0
    # Spreadsheets and CSV: data rows per document (a larger sheet becomes several documents,
    # each with the header row).
    max_sheet_rows: int = 1000


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
