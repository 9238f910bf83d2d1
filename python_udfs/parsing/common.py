"""Helpers shared by every parser: safe text, blank checks, failures and one-document results."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from . import limits
from .encoding import DecodedText, decode_bytes, normalise_newlines
from .results import ParsedRecord, ParseResult, Rejected

__all__ = [
    "decode_required",
    "decode_with_encoding",
    "describe",
    "failure",
    "is_blank",
    "join_pages",
    "one_line",
    "safe_text",
    "single_document",
    "with_encoding",
]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def safe_text(text: str) -> str:
    """Make text safe to store: no NULs, lone surrogates become U+FFFD, LF line endings."""
    text = text.replace("\x00", "")
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return normalise_newlines(text)


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace and zero-width characters."""
    return not text.translate(_INVISIBLE_CHARS).strip()


def join_pages(texts: Iterable[str], separator: str = "\n\n") -> tuple[str, list[int]]:
    """Join page texts with ``separator`` (a blank line); returns the text and the offset where
    each page starts in it. An empty page adds neither text nor separator: it starts where the
    page before it ends."""
    starts: list[int] = []
    pieces: list[str] = []
    offset = 0
    for text in texts:
        if pieces and text:
            offset += len(separator)
        starts.append(offset)
        if text:
            pieces.append(text)
            offset += len(text)
    return separator.join(pieces), starts


def describe(exc: BaseException) -> str:
    """``"<ExceptionType>: message"`` for an exception."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def one_line(message: str) -> str:
    """Collapse whitespace (multi-line parser messages) into single spaces."""
    return " ".join(message.split())


def failure(reason: str, detail: str) -> ParseResult:
    """A result with no records; ``detail`` is truncated to ``limits.MAX_DETAIL_CHARS``."""
    if len(detail) > limits.MAX_DETAIL_CHARS:
        detail = detail[: limits.MAX_DETAIL_CHARS - 3] + "..."
    return ParseResult([], reason, detail)


def single_document(text: str, title: str | None, metadata: dict[str, Any], empty_detail: str) -> ParseResult:
    """The result for a one-document file; blank text is rejected as ``empty_text``."""
    text = safe_text(text)
    if is_blank(text):
        raise Rejected("empty_text", empty_detail)
    return ParseResult([ParsedRecord(None, title, text, metadata)])


def decode_with_encoding(content: bytes, what: str) -> DecodedText:
    """``decode_bytes``, rejecting whitespace-only content as ``empty_text``."""
    decoded = decode_bytes(content)
    if is_blank(decoded.text):
        raise Rejected("empty_text", f"{what} contains only whitespace")
    return decoded


def decode_required(content: bytes, what: str) -> str:
    """The text of ``decode_with_encoding``."""
    return decode_with_encoding(content, what).text


def with_encoding(result: ParseResult, decoded: DecodedText) -> ParseResult:
    """``result`` with the encoding of ``decoded`` (``DecodedText.metadata``) in every record's metadata.

    The encoding keys win over record fields of the same name: they describe the file.
    """
    extra = decoded.metadata()
    if not extra:
        return result
    return replace(result, records=[replace(r, metadata={**r.metadata, **extra}) for r in result.records])
