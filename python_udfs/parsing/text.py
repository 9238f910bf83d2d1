"""Plain text: the decoded file, no title; a legacy encoding is recorded in the metadata."""

from __future__ import annotations

from .common import decode_with_encoding, single_document
from .results import ParseOptions, ParseResult

__all__ = ["parse_text"]


def parse_text(content: bytes, options: ParseOptions) -> ParseResult:
    """Plain text: the decoded file, no title; metadata holds the encoding unless it is UTF-8."""
    decoded = decode_with_encoding(content, "text file")
    return single_document(decoded.text, None, decoded.metadata(), "text file contains only whitespace")
