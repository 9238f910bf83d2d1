"""Byte classes shared by the detectors (they scan ``text.encode("ascii", "replace")``)."""

from __future__ import annotations

import re

ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
WORD = ALNUM | {ord("_")}
B64URL = WORD | {ord("-")}
EMAIL_LOCAL = ALNUM | frozenset(b"._%+-'")
HEX_COLON = frozenset(b"0123456789abcdefABCDEF:")
QMARK = ord("?")


def word_at(b: bytes, i: int) -> bool:
    """Whether the byte at `i` is a word character (letter, digit or ``_``); False past the end."""
    return i < len(b) and b[i] in WORD


def match_end(pattern: re.Pattern[bytes], b: bytes, pos: int) -> int:
    """Where `pattern` (one that can match the empty string, such as ``[a-z]*``) stops matching at `pos`."""
    m = pattern.match(b, pos)
    return pos if m is None else m.end()
