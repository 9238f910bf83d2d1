"""Plain text: the decoded file, no title."""

from __future__ import annotations

from .common import decode_required, single_document
from .results import ParseOptions, ParseResult

__all__ = ["parse_text"]


def parse_text(content: bytes, options: ParseOptions) -> ParseResult:
    """Plain text: the decoded file, no title."""
    text = decode_required(content, "text file")
    return single_document(text, None, {}, "text file contains only whitespace")
