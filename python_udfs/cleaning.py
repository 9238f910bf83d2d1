"""Text normalisation applied to every parsed document before deduplication and chunking."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# C0/C1 control characters other than tab, line feed and form feed (page breaks are kept).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f]")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_BLANK_LINES = re.compile(r"\n{3,}")
# Zero-width characters and the byte-order mark carry no meaning inside text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str | None) -> str:
    """Normalise a document's text; the result is the text that is chunked and embedded.

    Unicode NFC; CRLF and lone CR become LF; control and zero-width characters are removed;
    trailing spaces are dropped; runs of blank lines collapse to one blank line; the ends are
    stripped. Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _INVISIBLE.sub("", text)
    # After the removals: a removed character between a letter and a combining mark would
    # otherwise leave the pair decomposed (and a second pass would change the text).
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of `text` (equals DuckDB's ``sha256(text)``)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
