"""Bytes to text: byte-order marks, UTF-8/UTF-16, windows-1252 and charset detection.

``decode_text`` tries, in order: a byte-order mark, BOM-less UTF-16, strict UTF-8, windows-1252
when it reads as Western European text, then charset-normalizer's guess. Binary content and
undecodable bytes are rejected; line endings always become LF.
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from . import limits
from .results import BinaryContentError, InvalidEncodingError

__all__ = ["BOMS", "decode_text", "normalise_newlines", "reject_binary_text"]

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE mark.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters that do not occur in text: C0 except \t \n \r \f, DEL and C1. The vertical
# tab (U+000B) and next line (U+0085) are Unicode whitespace, so they are not evidence of binary
# data either: a whitespace-only file holding them is empty text, not binary content.
_CONTROL_CODEPOINTS = [c for c in range(0x20) if chr(c) not in "\t\n\r\f\v"] + [
    c for c in range(0x7F, 0xA0) if c != 0x85
]
_DELETE_CONTROL_CHARS = dict.fromkeys(_CONTROL_CODEPOINTS)
_CONTROL_BYTES = bytes(c for c in _CONTROL_CODEPOINTS if c < 0x80)
# Preferred when charset-normalizer finds several equally good single-byte encodings.
_PREFERRED_LEGACY_ENCODING = "cp1252"
# What windows-1252 (a superset of the printable Latin-1 range) turns bytes >= 0x80 into when the
# text really is Western European: accented letters, the letters of 0x8A-0x9F, typographic
# punctuation and the Latin-1 symbols. ``_WORD_INTERNAL_MARKS`` may also sit between letters.
_CP1252_EXTRA_LETTERS = frozenset("ŠšŒœŽžŸƒ")
# Letters of the symbol range, plausible only where they are used: ordinals after a digit or
# "n" (1º, 2ª, nº) and the micro sign at the start of a unit (5 µg). Elsewhere they are more
# likely windows-1250 letters (Romanian ş and Ş are 0xBA and 0xAA).
_ORDINAL_INDICATORS = frozenset("ªº")
_MICRO_SIGN = "µ"
_CP1252_PUNCTUATION = frozenset("€‚„…†‡ˆ‰‹‘’“”•–—˜™›×÷")
_WORD_INTERNAL_MARKS = frozenset("’‘·")
# Western European text has far fewer accented letters than this share of its letters; Greek,
# Cyrillic, Hebrew... bytes read as windows-1252 are almost all accented letters.
_MAX_ACCENTED_LETTER_SHARE = 0.25


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_share(text: str) -> float:
    """Share of the characters of ``text`` that are control characters (see above)."""
    if not text:
        return 0.0
    return (len(text) - len(text.translate(_DELETE_CONTROL_CHARS))) / len(text)


def reject_binary_text(text: str) -> None:
    """Raise BinaryContentError when decoded ``text`` holds NULs or many control characters."""
    if "\x00" in text:
        raise BinaryContentError("content contains NUL characters: binary data, not text")
    share = _control_share(text)
    if share > limits.BINARY_CONTROL_SHARE:
        raise BinaryContentError(f"{share:.0%} of the characters are control characters: binary data")


def _decode_with_bom(content: bytes) -> str | None:
    """Decode content that starts with a byte-order mark; None when there is no BOM."""
    for bom, encoding in BOMS:
        if content.startswith(bom):
            try:
                return content[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise InvalidEncodingError(f"invalid {encoding.upper()} after its byte-order mark: {exc}") from exc
    return None


def _decode_bomless_utf16(content: bytes) -> str | None:
    """Decode UTF-16 without a BOM when the NUL bytes sit on one side of each code unit.

    Mostly-ASCII UTF-16 text has a zero byte in every other position; binary data does not
    follow that pattern. Returns None when the content does not look like UTF-16.
    """
    if len(content) < 4 or len(content) % 2:
        return None
    units = len(content) // 2
    zeros_even = content[0::2].count(0)
    zeros_odd = content[1::2].count(0)
    if zeros_even == 0 and zeros_odd >= units / 2:
        encoding = "utf-16-le"
    elif zeros_odd == 0 and zeros_even >= units / 2:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _reads_as_western_text(text: str) -> bool:
    """True when ``text`` (bytes decoded as windows-1252) looks like Western European text.

    Every non-ASCII character must be a Latin-1 letter, one of windows-1252's extra letters,
    typographic punctuation or a Latin-1 symbol; no symbol may sit inside a word (``¿``, ``³``,
    ``¹`` between letters are Polish or Czech windows-1250 letters read wrongly); and accented
    letters must stay a minority of the letters.
    """
    letters = accented = 0
    last = len(text) - 1
    for index, char in enumerate(text):
        if char.isalpha():
            letters += 1
            if char > "\x7f":
                before = text[index - 1] if index else " "
                if char in _ORDINAL_INDICATORS:
                    if not (before.isdigit() or before in "nN"):
                        return False
                elif char == _MICRO_SIGN:
                    if before.isalpha():
                        return False
                elif not ("\u00c0" <= char <= "\u00ff" or char in _CP1252_EXTRA_LETTERS):
                    return False
                accented += 1
        elif char > "\x7f":
            if not ("\u00a0" <= char <= "\u00bf" or char in _CP1252_PUNCTUATION):
                return False
            inside_word = 0 < index < last and text[index - 1].isalpha() and text[index + 1].isalpha()
            if inside_word and char not in _WORD_INTERNAL_MARKS:
                return False
    return letters > 0 and accented <= letters * _MAX_ACCENTED_LETTER_SHARE


def _detect_and_decode(content: bytes) -> str:
    """Decode non-UTF-8 bytes: windows-1252 when it reads as Western text, else detection.

    charset-normalizer alone is unreliable for short Latin-1 text: it often ranks Baltic,
    Nordic or DOS code pages (iso8859-10, cp775, mac_roman...) above windows-1252 and turns
    "José Ñúñez" or "Straße" into mojibake. So windows-1252 (a superset of the printable
    Latin-1 range) is tried first and kept when ``_reads_as_western_text``; otherwise
    charset-normalizer's best guess is used, windows-1252 still winning among equally ranked
    candidates.
    """
    try:
        text = content.decode(_PREFERRED_LEGACY_ENCODING)
    except UnicodeDecodeError:
        pass
    else:
        if _reads_as_western_text(text):
            return text
    matches = from_bytes(content)
    best = matches.best()
    if best is None:
        raise InvalidEncodingError("bytes are not valid UTF-8 and no other text encoding fits them")
    for match in matches:
        equally_good = match.chaos <= best.chaos and match.coherence >= best.coherence
        if equally_good and _PREFERRED_LEGACY_ENCODING in match.could_be_from_charset:
            try:
                return content.decode(_PREFERRED_LEGACY_ENCODING)
            except UnicodeDecodeError:
                break
    return str(best)


def decode_text(content: bytes) -> str:
    """Decode file bytes to text with LF line endings.

    Order: byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE); BOM-less UTF-16; strict UTF-8;
    windows-1252 when the result reads as Western text; charset-normalizer's best guess. Raises
    BinaryContentError for binary data (NUL bytes or more than ``limits.BINARY_CONTROL_SHARE`` control
    characters) and InvalidEncodingError when no encoding fits.
    """
    content = bytes(content)
    text = _decode_with_bom(content)
    if text is None and b"\x00" in content:
        text = _decode_bomless_utf16(content)
        if text is None:
            raise BinaryContentError("content contains NUL bytes: binary data, not text")
    if text is None:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raw_share = (len(content) - len(content.translate(None, _CONTROL_BYTES))) / len(content)
            if raw_share > limits.BINARY_CONTROL_SHARE:
                raise BinaryContentError(f"{raw_share:.0%} of the bytes are control characters: binary data") from None
            text = _detect_and_decode(content)
    reject_binary_text(text)
    return normalise_newlines(text)
