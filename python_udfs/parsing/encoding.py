"""Bytes to text: byte-order marks, UTF-16/32 layouts, ISO-2022 escapes, UTF-8, then detection.

``decode_bytes`` returns the text with the encoding that produced it and a confidence (0..1);
``decode_text`` returns the text only. In order:

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE): certain;
2. BOM-less UTF-32 and UTF-16, recognised by where their NUL bytes fall and validated by a
   strict decode: certain;
3. ISO-2022-JP/KR, recognised by their escape sequences before anything judges ESC a control
   character: certain when they decode strictly;
4. strict UTF-8 (``ascii`` when every byte is 7-bit): certain;
5. statistical detection (``encoding_detection``): the most plausible of the candidate
   decodings, with its confidence;
6. BOM-less UTF-16 without NUL bytes (CJK text), when its text is plausible.

Binary content (NUL bytes that fit no UTF-16/32 layout, many control characters) raises
BinaryContentError; bytes that no encoding decodes raise InvalidEncodingError. Line endings
always become LF. ``decode_declared`` decodes with a charset the document declares (HTML, XML)
and falls back to ``decode_bytes`` when the declaration does not decode the bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

from . import limits
from .encoding_detection import decode_sample, detect_encoding
from .results import BinaryContentError, InvalidEncodingError
from .text_plausibility import plausibility

__all__ = [
    "BOMS",
    "CERTAIN",
    "ENCODING_CONFIDENCE_KEY",
    "ENCODING_KEY",
    "DecodedText",
    "decode_bytes",
    "decode_declared",
    "decode_text",
    "normalise_newlines",
    "reject_binary_text",
]

# Metadata keys of the chosen encoding (a Python codec name) and of the confidence in it.
ENCODING_KEY = "encoding"
ENCODING_CONFIDENCE_KEY = "encoding_confidence"
CERTAIN = 1.0
# Encodings that ``metadata()`` leaves out: the default reading of a file, nothing to report.
_DEFAULT_ENCODINGS = frozenset(("ascii", "utf-8"))
# A declared charset that decodes the bytes but that detection reads differently: honoured, but
# below the default ``encoding_min_confidence`` (0.5), so the warn test lists the document.
DISPUTED_DECLARATION_CONFIDENCE = 0.3

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE mark. The codec named is the one
# that decodes the whole content, mark included.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters that do not occur in text: C0 except \t \n \r \f, DEL and C1. The vertical
# tab (U+000B) and next line (U+0085) are Unicode whitespace, so they are not evidence of binary
# data either: a whitespace-only file holding them is empty text, not binary content.
_CONTROL_CODEPOINTS = [c for c in range(0x20) if chr(c) not in "\t\n\r\f\v"] + [
    c for c in range(0x7F, 0xA0) if c != 0x85
]
_CONTROL_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in _CONTROL_CODEPOINTS) + "]")
_CONTROL_BYTES = bytes(c for c in _CONTROL_CODEPOINTS if c < 0x80)
# ISO-2022 designations: Korean announces KS X 1001 once (ESC $ ) C); Japanese switches between
# ASCII/JIS-Roman (ESC ( B, ESC ( J), JIS X 0208 (ESC $ @, ESC $ B) and more in its extensions.
_ISO2022_KR_DESIGNATION = b"\x1b$)C"
_ISO2022_JP_DESIGNATION = re.compile(rb"\x1b(?:\$[@B(]|\([BIJ]|\$\(D|\.[AF])")
_ISO2022_JP_CODECS = ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004")
# UTF-16 without NUL bytes (CJK text) is accepted only when this share of its characters is plausible.
_MIN_UTF16_PLAUSIBILITY = 0.95
_UTF16_CODECS = ("utf-16-le", "utf-16-be")


@dataclass(frozen=True)
class DecodedText:
    """Decoded text (LF line endings), the encoding that produced it and the confidence in it."""

    text: str
    encoding: str
    confidence: float

    def metadata(self) -> dict[str, Any]:
        """``{"encoding": ..., "encoding_confidence": ...}``; empty for plain UTF-8 and ASCII."""
        if self.encoding in _DEFAULT_ENCODINGS:
            return {}
        return {ENCODING_KEY: self.encoding, ENCODING_CONFIDENCE_KEY: round(self.confidence, 3)}


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_share(text: str) -> float:
    """Share of the characters of ``text`` that are control characters (see above)."""
    if not text:
        return 0.0
    return len(_CONTROL_CHARS.findall(text)) / len(text)


def reject_binary_text(text: str) -> None:
    """Raise BinaryContentError when decoded ``text`` holds NULs or many control characters."""
    if "\x00" in text:
        raise BinaryContentError("content contains NUL characters: binary data, not text")
    share = _control_share(text)
    if share > limits.BINARY_CONTROL_SHARE:
        raise BinaryContentError(f"{share:.0%} of the characters are control characters: binary data")


def _strict(content: bytes, encoding: str) -> str | None:
    """``content`` decoded strictly, None when it does not decode."""
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decode_with_bom(content: bytes) -> DecodedText | None:
    """Decode content that starts with a byte-order mark; None when there is no BOM."""
    for bom, encoding in BOMS:
        if content.startswith(bom):
            try:
                return DecodedText(content.decode(encoding), encoding, CERTAIN)
            except UnicodeDecodeError as exc:
                raise InvalidEncodingError(f"invalid {encoding.upper()} after its byte-order mark: {exc}") from exc
    return None


def _utf32_layout(content: bytes) -> str | None:
    """``utf-32-le``/``-be`` when every 4-byte unit has a zero top byte and a plane byte <= 0x10."""
    if len(content) < 4 or len(content) % 4:
        return None
    if not content[3::4].strip(b"\x00") and max(content[2::4]) <= 0x10:
        return "utf-32-le"
    if not content[0::4].strip(b"\x00") and max(content[1::4]) <= 0x10:
        return "utf-32-be"
    return None


def _utf16_layout(content: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the NUL bytes all sit on one side of the code units, and often.

    Mostly-ASCII (or Latin, Cyrillic, Greek...) UTF-16 text has a zero byte in every other
    position; binary data does not follow that pattern.
    """
    if len(content) < 4 or len(content) % 2:
        return None
    units = len(content) // 2
    zeros_even = content[0::2].count(0)
    zeros_odd = content[1::2].count(0)
    if zeros_even == 0 and zeros_odd >= units / 2:
        return "utf-16-le"
    if zeros_odd == 0 and zeros_even >= units / 2:
        return "utf-16-be"
    return None


def _decode_wide_layout(content: bytes) -> DecodedText | None:
    """BOM-less UTF-32 or UTF-16 recognised by its NUL bytes and decoding strictly, else None."""
    for encoding in (_utf32_layout(content), _utf16_layout(content)):
        if encoding is not None and (text := _strict(content, encoding)) is not None:
            return DecodedText(text, encoding, CERTAIN)
    return None


def _decode_plausible_utf16(content: bytes) -> DecodedText | None:
    """BOM-less UTF-16 whatever its NUL bytes (CJK text has few), when its text is plausible."""
    if len(content) < 4 or len(content) % 2:
        return None
    best: tuple[float, str, str] | None = None
    for encoding in _UTF16_CODECS:
        text = _strict(content, encoding)
        if text is None or _control_share(text) > limits.BINARY_CONTROL_SHARE:
            continue
        score = plausibility(text)
        if score >= _MIN_UTF16_PLAUSIBILITY and (best is None or score > best[0]):
            best = (score, encoding, text)
    return None if best is None else DecodedText(best[2], best[1], best[0])


def _decode_iso2022(content: bytes) -> DecodedText | None:
    """ISO-2022-KR/JP when 7-bit content holds their escape sequences and decodes strictly."""
    if b"\x1b" not in content or not content.isascii():
        return None
    if _ISO2022_KR_DESIGNATION in content:
        codecs_to_try: tuple[str, ...] = ("iso2022_kr",)
    elif _ISO2022_JP_DESIGNATION.search(content):
        codecs_to_try = _ISO2022_JP_CODECS
    else:
        return None
    for encoding in codecs_to_try:
        if (text := _strict(content, encoding)) is not None:
            return DecodedText(text, encoding, CERTAIN)
    return None


def _decode_utf8(content: bytes) -> DecodedText | None:
    """Strict UTF-8 (``ascii`` when all bytes are 7-bit), None when it is not valid UTF-8."""
    text = _strict(content, "utf-8")
    if text is None:
        return None
    return DecodedText(text, "ascii" if content.isascii() else "utf-8", CERTAIN)


def _raw_control_share(content: bytes) -> float:
    """Share of the bytes of ``content`` that are C0 control bytes (see ``_CONTROL_CODEPOINTS``)."""
    return (len(content) - len(content.translate(None, _CONTROL_BYTES))) / len(content)


def _decode_detected(content: bytes) -> DecodedText | None:
    """The most plausible candidate decoding (``detect_encoding``) that decodes all of ``content``.

    Raises BinaryContentError when the candidates that decode all read as control characters.
    """
    binary: BinaryContentError | None = None
    for detection in detect_encoding(content):
        text = decode_sample(content, detection.encoding, complete=True)
        if text is None:
            continue
        try:
            reject_binary_text(text)
        except BinaryContentError as exc:
            binary = binary or exc
            continue
        return DecodedText(text, detection.encoding, detection.confidence)
    if binary is not None:
        raise binary
    return None


def _decode_unmarked(content: bytes) -> DecodedText:
    """Content without a byte-order mark: steps 2 to 6 of the module docstring."""
    if b"\x00" in content:
        decoded = _decode_wide_layout(content) or _decode_plausible_utf16(content)
        if decoded is None:
            raise BinaryContentError("content contains NUL bytes: binary data, not text")
        return decoded
    decoded = _decode_iso2022(content) or _decode_utf8(content)
    if decoded is not None:
        return decoded
    raw_share = _raw_control_share(content)
    if raw_share <= limits.BINARY_CONTROL_SHARE:
        decoded = _decode_detected(content)
    decoded = decoded or _decode_plausible_utf16(content)
    if decoded is not None:
        return decoded
    if raw_share > limits.BINARY_CONTROL_SHARE:
        raise BinaryContentError(f"{raw_share:.0%} of the bytes are control characters: binary data")
    raise InvalidEncodingError("bytes are not valid UTF-8 and no other text encoding fits them")


def _finish(decoded: DecodedText) -> DecodedText:
    """Reject binary-looking text; LF line endings."""
    reject_binary_text(decoded.text)
    return DecodedText(normalise_newlines(decoded.text), decoded.encoding, decoded.confidence)


def decode_bytes(content: bytes) -> DecodedText:
    """Decode file bytes to text with LF line endings, the encoding used and the confidence in it.

    See the module docstring for the order. Raises BinaryContentError for binary data (NUL bytes
    that fit no UTF-16/32 layout, or more than ``limits.BINARY_CONTROL_SHARE`` control
    characters) and InvalidEncodingError when no encoding fits.
    """
    content = bytes(content)
    return _finish(_decode_with_bom(content) or _decode_unmarked(content))


def decode_text(content: bytes) -> str:
    """``decode_bytes(content).text``."""
    return decode_bytes(content).text


def decode_declared(content: bytes, declared: str | None) -> DecodedText:
    """Decode with the charset a document declares; ``decode_bytes`` when it cannot.

    A byte-order mark wins over the declaration, and so does valid multi-byte UTF-8 (a page
    saved as UTF-8 under a stale ``windows-1252`` declaration; legacy text is practically never
    valid UTF-8 by accident). A declaration that does not decode the bytes strictly (or names no
    known codec) is ignored. One that does is certain when the bytes are 7-bit or when detection
    reads them the same way; otherwise it is honoured with ``DISPUTED_DECLARATION_CONFIDENCE``.
    """
    content = bytes(content)
    if declared is None or content.startswith(tuple(bom for bom, _ in BOMS)):
        return decode_bytes(content)
    try:
        encoding = codecs.lookup(declared).name
    except LookupError:
        return decode_bytes(content)
    text = _strict(content, encoding)
    if text is None:
        return decode_bytes(content)
    if content.isascii() and b"\x1b" not in content:
        return _finish(DecodedText(text, "ascii", CERTAIN))
    try:
        detected: DecodedText | None = _decode_unmarked(content)
    except (BinaryContentError, InvalidEncodingError):
        detected = None
    if detected is not None and detected.encoding == "utf-8":
        return _finish(detected)
    agrees = detected is not None and detected.text == text
    return _finish(DecodedText(text, encoding, CERTAIN if agrees else DISPUTED_DECLARATION_CONFIDENCE))
