"""Text normalisation applied to every parsed document before deduplication and chunking."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Terminal escape sequences (ECMA-48) as captured from a coloured terminal, removed whole (removing
# only the ESC control character, as _CONTROL does, would leave "[1;32m" in the text): CSI such as
# ESC[1;32m (colours, cursor moves; also its one-character C1 form U+009B), OSC such as ESC]0;title
# BEL or the ESC]8;; hyperlinks (ended by BEL, ESC \\ or U+009C), character-set designations such
# as ESC(B and the cursor save/restore and keypad escapes ESC 7, ESC 8, ESC =, ESC >. Other
# two-character escapes (ESC and a letter) are not removed: a stray ESC before a word would take
# its first letter.
_TERMINAL_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: parameter bytes, intermediate bytes, final byte
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC, to its terminator
    r"|\x1b[()*+][0-~]"  # character-set designation
    r"|\x1b[78=>]"  # cursor save/restore, keypad modes
)
# C0/C1 control characters other than tab, line feed and form feed (page breaks are kept).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f]")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_BLANK_LINES = re.compile(r"\n{3,}")
# Zero-width characters and the byte-order mark carry no meaning inside text.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str | None) -> str:
    """Normalise a document's text; the result is the text that is chunked and embedded.

    Unicode NFC; CRLF and lone CR become LF; terminal escape sequences (ANSI colours, cursor
    moves, OSC titles and hyperlinks) are removed whole; control and zero-width characters are removed;
    trailing spaces are dropped; runs of blank lines collapse to one blank line; the ends are
    stripped. Idempotent: ``clean_text(clean_text(x)) == clean_text(x)``.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TERMINAL_ESCAPE.sub("", text)
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
