"""Turn the raw bytes of a source file into text records ready for cleaning and chunking.

``parse_document(path, content)`` picks a parser from the file extension and returns a
``ParseResult``: either one or more ``ParsedRecord`` s, or no records and a ``reason`` code from
``REASONS`` with a human-readable ``detail``. It never raises, so a single bad file can never stop
a dbt run; the reason codes are meant to be stored and reported.

Supported formats:

* markdown: optional YAML front matter (``---`` ... ``---``/``...``) becomes metadata; the text is
  the body with its markdown syntax kept (heading-aware chunking needs it).
* text: the decoded file.
* html: visible text only (scripts, styles, navigation, comments... removed), one line per block
  element and a blank line between paragraphs.
* pdf: text of every page, pages joined by a blank line; ``page_starts`` gives the offset of each
  page in the text.
* json / jsonl: one record per object (array element or line); the text, id and title come from
  configurable fields (``ParseOptions``).

Text is decoded by ``decode_text``: byte-order marks first, then strict UTF-8, then windows-1252
when it reads as Western European text, then charset-normalizer's guess; binary content and
undecodable bytes are rejected. Line endings are
always LF. Offsets (``page_starts``) are counted in code points of ``ParsedRecord.text``.
"""

from __future__ import annotations

import base64
import bisect
import codecs
import datetime
import functools
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from charset_normalizer import from_bytes
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pypdf import PageObject, PasswordType, PdfReader
from pypdf.generic import NameObject

from .cleaning import clean_text

__all__ = [
    "FILE_TYPES",
    "REASONS",
    "BinaryContentError",
    "InvalidEncodingError",
    "ParseOptions",
    "ParseResult",
    "ParsedRecord",
    "TextDecodeError",
    "decode_text",
    "detect_file_type",
    "parse_document",
]

FILE_TYPES: dict[str, str] = {
    "md": "markdown",
    "markdown": "markdown",
    "txt": "text",
    "text": "text",
    "html": "html",
    "htm": "html",
    "pdf": "pdf",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
}

REASONS = (
    "unsupported_type",
    "empty_text",
    "parse_error",
    "encrypted",
    "binary_content",
    "invalid_encoding",
    "too_large",
)

# Limits. Module constants so that deployments (and tests) can adjust them.
MAX_CONTENT_BYTES = 100 * 1024 * 1024  # larger files are rejected as "too_large"
MAX_PDF_PAGE_CHARS = 2_000_000  # text of one PDF page (guards against decompression bombs)
MAX_PDF_TOTAL_CHARS = 20_000_000  # text of a whole PDF
MAX_DETAIL_CHARS = 500  # ParseResult.detail is truncated to this length
BINARY_CONTROL_SHARE = 0.05  # above this share of control characters, content is binary
MAX_METADATA_DEPTH = 50  # nesting allowed in front-matter metadata
MAX_METADATA_NODES = 100_000  # values allowed in front-matter metadata (YAML alias bombs)


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


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


class _Rejected(Exception):
    """Internal: the file cannot become documents, for ``reason`` (a code from ``REASONS``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------------------------------
# File types
# --------------------------------------------------------------------------------------------


def _extension(path: str) -> str:
    """Lower-case extension of the last path component (``/`` or ``\\`` separated), no dot."""
    name = re.split(r"[/\\]", path)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and (stem or ext) else ""


def detect_file_type(path: str) -> str | None:
    """The file type for ``path`` from its extension (see ``FILE_TYPES``), None if unsupported."""
    if not path:
        return None
    return FILE_TYPES.get(_extension(path))


# --------------------------------------------------------------------------------------------
# Text decoding
# --------------------------------------------------------------------------------------------

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE mark.
_BOMS: tuple[tuple[bytes, str], ...] = (
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


def _normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_share(text: str) -> float:
    """Share of the characters of ``text`` that are control characters (see above)."""
    if not text:
        return 0.0
    return (len(text) - len(text.translate(_DELETE_CONTROL_CHARS))) / len(text)


def _reject_binary_text(text: str) -> None:
    """Raise BinaryContentError when decoded ``text`` holds NULs or many control characters."""
    if "\x00" in text:
        raise BinaryContentError("content contains NUL characters: binary data, not text")
    share = _control_share(text)
    if share > BINARY_CONTROL_SHARE:
        raise BinaryContentError(f"{share:.0%} of the characters are control characters: binary data")


def _decode_with_bom(content: bytes) -> str | None:
    """Decode content that starts with a byte-order mark; None when there is no BOM."""
    for bom, encoding in _BOMS:
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
    BinaryContentError for binary data (NUL bytes or more than ``BINARY_CONTROL_SHARE`` control
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
            if raw_share > BINARY_CONTROL_SHARE:
                raise BinaryContentError(
                    f"{raw_share:.0%} of the bytes are control characters: binary data"
                ) from None
            text = _detect_and_decode(content)
    _reject_binary_text(text)
    return _normalise_newlines(text)


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _clean_text(text: str) -> str:
    """Make text safe to store: no NULs, lone surrogates become U+FFFD, LF line endings."""
    text = text.replace("\x00", "")
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _normalise_newlines(text)


def _is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but whitespace and zero-width characters."""
    return not text.translate(_INVISIBLE_CHARS).strip()


def _describe(exc: BaseException) -> str:
    """``"<ExceptionType>: message"`` for an exception."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _one_line(message: str) -> str:
    """Collapse whitespace (multi-line parser messages) into single spaces."""
    return " ".join(message.split())


def _failure(reason: str, detail: str) -> ParseResult:
    """A result with no records; ``detail`` is truncated to ``MAX_DETAIL_CHARS``."""
    if len(detail) > MAX_DETAIL_CHARS:
        detail = detail[: MAX_DETAIL_CHARS - 3] + "..."
    return ParseResult([], reason, detail)


def _single_document(text: str, title: str | None, metadata: dict[str, Any], empty_detail: str) -> ParseResult:
    """The result for a one-document file; blank text is rejected as ``empty_text``."""
    text = _clean_text(text)
    if _is_blank(text):
        raise _Rejected("empty_text", empty_detail)
    return ParseResult([ParsedRecord(None, title, text, metadata)])


def _decode_required(content: bytes, what: str) -> str:
    """``decode_text``, rejecting whitespace-only content as ``empty_text``."""
    text = decode_text(content)
    if _is_blank(text):
        raise _Rejected("empty_text", f"{what} contains only whitespace")
    return text


class _MetadataTooComplex(ValueError):
    """Metadata nested too deeply or too large (cycles, YAML alias expansion)."""


def _json_key(key: Any) -> str:
    """A JSON object key for a YAML/JSON mapping key."""
    if isinstance(key, str):
        return _clean_text(key)
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    if isinstance(key, (datetime.date, datetime.time)):
        return key.isoformat()
    return str(key)


def _json_safe(value: Any) -> Any:
    """A JSON-serialisable copy of ``value``.

    Dates and times become ISO strings, non-finite floats None, bytes base64, sets sorted lists,
    mapping keys strings; anything else unknown becomes ``str(value)``. Raises
    _MetadataTooComplex past ``MAX_METADATA_DEPTH`` levels or ``MAX_METADATA_NODES`` values.
    """
    budget = [MAX_METADATA_NODES]

    def convert(item: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise _MetadataTooComplex(f"more than {MAX_METADATA_NODES} values")
        if depth > MAX_METADATA_DEPTH:
            raise _MetadataTooComplex(f"nested deeper than {MAX_METADATA_DEPTH} levels")
        if item is None or isinstance(item, (bool, int)):
            return item
        if isinstance(item, float):
            return item if math.isfinite(item) else None
        if isinstance(item, str):
            return _clean_text(item)
        if isinstance(item, (datetime.date, datetime.time)):
            return item.isoformat()
        if isinstance(item, bytes):
            return base64.b64encode(item).decode("ascii")
        if isinstance(item, Mapping):
            return {_json_key(k): convert(v, depth + 1) for k, v in item.items()}
        if isinstance(item, (set, frozenset)):
            return [convert(v, depth + 1) for v in sorted(item, key=repr)]
        if isinstance(item, (list, tuple)):
            return [convert(v, depth + 1) for v in item]
        return _clean_text(str(item))

    return convert(value, 0)


def _normalise_access_groups(metadata: dict[str, Any]) -> None:
    """Make ``metadata["access_groups"]`` (when present) a list of non-empty strings, in place.

    A single string becomes a one-element list, null an empty list, scalars strings. Any other
    shape is rejected (``parse_error``) rather than dropped, so that a restricted document
    never silently loses its access control.
    """
    if "access_groups" not in metadata:
        return
    value = metadata["access_groups"]
    items = [] if value is None else value if isinstance(value, list) else [value]
    groups: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool):
            item = json.dumps(item)
        if not isinstance(item, (str, int, float)):
            raise _Rejected(
                "parse_error",
                f"access_groups must be a string or a list of strings, got {type(item).__name__} items",
            )
        group = str(item).strip()
        if group:
            groups.append(group)
    metadata["access_groups"] = groups


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_FRONT_MATTER_OPEN = "---"
_FRONT_MATTER_CLOSE = ("---", "...")


# A line that may open an ATX level-1 heading; markdown-it decides whether it really does.
_H1_CANDIDATE = re.compile(r"^ {0,3}#(?:[ \t]|$)", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    """A CommonMark parser (the same grammar the chunker uses to find headings)."""
    return MarkdownIt("commonmark")


@functools.lru_cache(maxsize=1)
def _markdown_block_parser() -> MarkdownIt:
    """CommonMark block structure only (no inline parsing: several times faster)."""
    return MarkdownIt("commonmark").disable("inline")


def _split_front_matter(text: str) -> tuple[str, str] | None:
    """``(yaml_source, body)`` when ``text`` opens with a closed front matter block, else None."""
    if not text.startswith(_FRONT_MATTER_OPEN):
        return None
    lines = text.split("\n")
    if lines[0].rstrip() != _FRONT_MATTER_OPEN:
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in _FRONT_MATTER_CLOSE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :])
    return None


def _read_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(metadata, body)`` of a markdown file.

    No front matter (or no closing fence): no metadata, the whole text is the body. Invalid
    YAML, or YAML that is not a mapping: ``{"front_matter_error": ...}`` and the whole text.
    """
    split = _split_front_matter(text)
    if split is None:
        return {}, text
    source, body = split
    try:
        loaded = yaml.safe_load(source)
    except (yaml.YAMLError, RecursionError) as exc:
        message = _one_line(f"invalid YAML front matter: {exc}")[:MAX_DETAIL_CHARS]
        return {"front_matter_error": message}, text
    if loaded is None:
        return {}, body
    if not isinstance(loaded, dict):
        return {"front_matter_error": f"front matter is not a mapping (got {type(loaded).__name__})"}, text
    try:
        metadata = _json_safe(loaded)
    except _MetadataTooComplex as exc:
        return {"front_matter_error": f"front matter too complex: {exc}"}, text
    return metadata, body


def _inline_plain_text(inline: Token) -> str:
    """The plain text of an inline token (emphasis, link and HTML markup dropped)."""
    parts = [
        child.content
        for child in inline.children or []
        if child.type in ("text", "code_inline", "image")
    ]
    if not inline.children:
        parts = [inline.content]
    return " ".join("".join(parts).split())


def _first_h1_in(tokens: list[Token]) -> str | None:
    """Plain text of the first non-empty top-level ATX ``# `` heading among block tokens."""
    for index, token in enumerate(tokens[:-1]):
        if token.type == "heading_open" and token.tag == "h1" and token.markup == "#" and token.level == 0:
            inline = _markdown_parser().parseInline(tokens[index + 1].content)
            title = _inline_plain_text(inline[0]) if inline else ""
            if title:
                return title
    return None


def _first_h1(markdown: str) -> str | None:
    """Text of the first top-level ATX ``# `` heading; code blocks and block quotes are skipped.

    Parsing a whole large document is slow, and block structure up to a line never depends on
    the lines after it, so only a prefix is parsed: up to the first line that looks like a
    heading, then (while none is a real heading, e.g. ``#`` comments in code) prefixes at least
    twice as long, each ending after a candidate line. The total work stays under about twice
    the length of the final prefix.
    """
    line_ends = [_line_end(markdown, m.start()) for m in _H1_CANDIDATE.finditer(markdown)]
    parser = _markdown_block_parser()
    parsed_to = 0
    while line_ends:
        target = max(line_ends[0], 2 * parsed_to)
        covered = bisect.bisect_right(line_ends, target)
        parsed_to = line_ends[covered - 1]
        title = _first_h1_in(parser.parse(markdown[:parsed_to]))
        if title is not None:
            return title
        line_ends = line_ends[covered:]
    return None


def _line_end(text: str, position: int) -> int:
    """Offset of the end of the line holding ``position`` (its newline or the end of text)."""
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def _parse_markdown(content: bytes, options: ParseOptions) -> ParseResult:
    """Markdown: front matter to metadata, the body (markdown kept) as text."""
    text = _decode_required(content, "markdown file")
    metadata, body = _read_front_matter(text)
    _normalise_access_groups(metadata)
    title = metadata.get("title")
    if not isinstance(title, str) or not title.strip():
        title = _first_h1(body)
    else:
        title = " ".join(title.split())
    return _single_document(body, title, metadata, "markdown file has front matter but no body text")


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------


def _parse_text(content: bytes, options: ParseOptions) -> ParseResult:
    """Plain text: the decoded file, no title."""
    text = _decode_required(content, "text file")
    return _single_document(text, None, {}, "text file contains only whitespace")


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_REMOVED_TAGS = frozenset(
    "script style noscript template nav header footer aside svg iframe form "
    "canvas object embed audio video".split()
)
# Tags that end a paragraph (blank line) or a line (newline).
_PARAGRAPH_TAGS = frozenset(
    "address article blockquote body caption center details dialog dir div dl fieldset figcaption "
    "figure h1 h2 h3 h4 h5 h6 hgroup hr html main menu ol p pre section summary table ul".split()
)
_LINE_TAGS = frozenset("dd dt legend li option tr".split())
_CELL_TAGS = frozenset(("td", "th"))
_PREFORMATTED_TAGS = frozenset(("pre", "textarea", "listing", "xmp", "plaintext"))
_HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET_WINDOW = 4096
# Per the WHATWG encoding standard these labels mean windows-1252.
_WINDOWS_1252_ALIASES = frozenset(("ascii", "iso8859-1", "latin-1", "cp1252"))


def _declared_html_encoding(content: bytes) -> str | None:
    """The encoding of a ``<meta charset>`` near the start, as a Python codec name, if usable."""
    match = _META_CHARSET.search(content[:_META_CHARSET_WINDOW])
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None  # the meta tag was readable as ASCII, so the document is not UTF-16/32
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def _decode_html(content: bytes) -> str:
    """Decode HTML: BOM first, then the declared ``<meta charset>``, then ``decode_text``."""
    encoding = None if content.startswith(tuple(b for b, _ in _BOMS)) else _declared_html_encoding(content)
    if encoding is None:
        return decode_text(content)
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError:
        return decode_text(content)  # the declaration is wrong: detect instead
    _reject_binary_text(text)
    return _normalise_newlines(text)


class _TextBuilder:
    """Accumulates visible text; block boundaries become newlines, spaces are collapsed."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pending_newlines = 0
        self._at_line_start = True

    def add_text(self, text: str, preformatted: bool = False) -> None:
        """Append text; outside ``<pre>`` whitespace runs collapse to one space."""
        if not preformatted:
            text = _HTML_SPACE.sub(" ", text)
            if self._at_line_start or self._pending_newlines or self._parts[-1].endswith(" "):
                text = text.lstrip(" ")
        if not text:
            return
        if self._pending_newlines:
            self._parts.append("\n" * self._pending_newlines)
            self._pending_newlines = 0
        self._parts.append(text)
        self._at_line_start = text.endswith("\n")

    def end_block(self, newlines: int) -> None:
        """Request ``newlines`` (1: new line, 2: blank line) before the next text."""
        if self._parts:
            self._pending_newlines = max(self._pending_newlines, newlines)

    def line_break(self) -> None:
        """A ``<br>``: one more newline, at most a blank line."""
        if self._parts:
            self._pending_newlines = min(self._pending_newlines + 1, 2)

    def text(self) -> str:
        """The text, trailing spaces removed from every line."""
        lines = "".join(self._parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


def _block_newlines(name: str) -> int:
    """Newlines around a tag: 2 for paragraph-like blocks, 1 for line-like ones, else 0."""
    if name in _PARAGRAPH_TAGS:
        return 2
    return 1 if name in _LINE_TAGS else 0


def _is_invisible(tag: Tag) -> bool:
    """Elements whose content is not page text: scripts, navigation, ``hidden`` elements..."""
    return tag.name in _REMOVED_TAGS or tag.has_attr("hidden")


def _visible_text(root: Tag) -> str:
    """The text of ``root`` as a reader sees it; iterative, so deep nesting is fine.

    Invisible elements (``_is_invisible``) and comments are skipped whole. ``<title>`` loses
    only its own text: with an unclosed ``<title>``, html.parser nests the rest of the document
    inside it, and that content must survive.
    """
    builder = _TextBuilder()
    preformatted_depth = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth -= 1
            if node.name in _CELL_TAGS:
                builder.add_text(" ")
            builder.end_block(_block_newlines(node.name))
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA...
                builder.add_text(str(node), preformatted_depth > 0)
        elif isinstance(node, Tag):
            if _is_invisible(node):
                continue
            if node.name == "br":
                builder.line_break()
                continue
            if node.name == "title":
                stack.extend((child, False) for child in reversed(node.contents) if isinstance(child, Tag))
                continue
            builder.end_block(_block_newlines(node.name))
            if node.name in _CELL_TAGS:
                builder.add_text(" ")  # cells of a row stay on one line, space separated
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    return builder.text()


def _element_text(tag: Tag) -> str:
    """The text of one element on a single line."""
    return " ".join(tag.get_text(" ").split())


def _own_text(tag: Tag) -> str:
    """The text directly inside ``tag`` (not in child elements or comments), on a single line."""
    strings = tag.find_all(string=True, recursive=False)
    return " ".join("".join(s for s in strings if not isinstance(s, PreformattedString)).split())


def _html_title(soup: BeautifulSoup) -> str | None:
    """``<title>`` (outside SVG), else the first ``<h1>``, else None."""
    for tag in soup.find_all("title"):
        if tag.find_parent("svg") is None and (title := _own_text(tag)):
            return title
    for tag in soup.find_all("h1"):
        if title := _element_text(tag):
            return title
    return None


def _parse_html(content: bytes, options: ParseOptions) -> ParseResult:
    """HTML: visible text, title from ``<title>`` or the first ``<h1>``, ``html_lang``."""
    html = _decode_html(content)
    if _is_blank(html):
        raise _Rejected("empty_text", "HTML file contains only whitespace")
    soup = BeautifulSoup(html, "html.parser")
    title = _html_title(soup)
    metadata: dict[str, Any] = {}
    html_tag = soup.find("html")
    if isinstance(html_tag, Tag) and isinstance(lang := html_tag.get("lang"), str) and lang.strip():
        metadata["html_lang"] = lang.strip()
    return _single_document(_visible_text(soup), title, metadata, "HTML has no visible text")


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def _unlock_pdf(reader: PdfReader) -> None:
    """Open an encrypted PDF with the empty user password, or reject it as ``encrypted``."""
    if not reader.is_encrypted:
        return
    try:
        outcome = reader.decrypt("")
    except Exception as exc:  # e.g. an unsupported algorithm or a missing crypto library
        raise _Rejected("encrypted", f"PDF is encrypted and cannot be decrypted: {_describe(exc)}") from exc
    if outcome == PasswordType.NOT_DECRYPTED:
        raise _Rejected("encrypted", "PDF is encrypted with a user password")
    try:
        len(reader.pages)
    except Exception as exc:
        raise _Rejected("encrypted", f"PDF is encrypted and unreadable after decryption: {_describe(exc)}") from exc


class _PageTextLimit(BaseException):
    """Raised from inside pypdf's extraction loop when a page shows too much text.

    A BaseException, so that pypdf's own ``except Exception`` handlers (around form XObjects,
    for one) cannot swallow it and carry on extracting.
    """


def _shown_string_bytes(operator: bytes, operands: list[Any]) -> int:
    """Bytes of the strings a text-showing operator (``Tj``, ``TJ``, ``'``, ``"``) shows."""
    if operator in (b"Tj", b"'"):
        items = operands[:1]
    elif operator == b'"':
        items = operands[2:3]
    elif operator == b"TJ" and operands and isinstance(operands[0], list):
        items = operands[0]
    else:
        return 0
    strings = (item for item in items if isinstance(item, (str, bytes)) and not isinstance(item, NameObject))
    return sum(len(item) for item in strings)


def _extract_page_text(page: PageObject, number: int) -> str:
    """The raw text of one page, never more than about ``MAX_PDF_PAGE_CHARS``.

    pypdf builds a run of text by string concatenation, which takes quadratic time: a small
    Flate-compressed page that shows a few MB of text in one run would stall extraction for
    minutes before the length of its text could be checked. The strings shown by the page's
    text operators are counted as pypdf reaches them, and extraction stops once they exceed
    the cap.
    """
    shown = 0

    def guard(operator: bytes, operands: list[Any], cm: Any, tm: Any) -> None:
        nonlocal shown
        shown += _shown_string_bytes(operator, operands)
        if shown > MAX_PDF_PAGE_CHARS:
            raise _PageTextLimit

    try:
        raw = page.extract_text(visitor_operand_before=guard) or ""
    except _PageTextLimit:
        raw = None
    except Exception as exc:
        raise _Rejected("parse_error", f"page {number}: {_describe(exc)}") from exc
    if raw is None or len(raw) > MAX_PDF_PAGE_CHARS:
        raise _Rejected(
            "parse_error",
            f"page {number} has more than {MAX_PDF_PAGE_CHARS} characters of text "
            "(possible decompression bomb)",
        )
    return raw


def _pdf_page_texts(reader: PdfReader) -> list[str]:
    """Cleaned text of every page, enforcing ``MAX_PDF_PAGE_CHARS`` and ``MAX_PDF_TOTAL_CHARS``."""
    texts: list[str] = []
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        raw = _extract_page_text(page, number)
        # Cleaned here exactly as cleaning.clean_text will clean the whole document, so that
        # page_starts stay exact offsets into documents.text.
        text = clean_text(_clean_text(raw))
        total += len(text)
        if total > MAX_PDF_TOTAL_CHARS:
            raise _Rejected(
                "parse_error",
                f"PDF text exceeds {MAX_PDF_TOTAL_CHARS} characters at page {number} "
                "(possible decompression bomb)",
            )
        texts.append(text)
    return texts


def _join_pages(texts: Iterable[str], separator: str = "\n\n") -> tuple[str, list[int]]:
    """Join page texts; returns the text and the offset where each page starts in it."""
    starts: list[int] = []
    offset = 0
    pieces: list[str] = []
    for text in texts:
        if pieces and text:
            offset += len(separator)
        starts.append(offset)
        if text:
            pieces.append(text)
            offset += len(text)
    return separator.join(pieces), starts


def _pdf_title(reader: PdfReader) -> str | None:
    """The document information /Title, if present; broken metadata is ignored."""
    try:
        info = reader.metadata
        title = info.title if info is not None else None
    except Exception:
        return None
    if not isinstance(title, str):
        return None
    title = " ".join(_clean_text(str(title)).split())
    return title or None


def _parse_pdf(content: bytes, options: ParseOptions) -> ParseResult:
    """PDF: page texts joined by a blank line; ``n_pages``, ``page_starts`` and ``pdf_title``."""
    reader = PdfReader(io.BytesIO(content))
    _unlock_pdf(reader)
    texts = _pdf_page_texts(reader)
    text, starts = _join_pages(texts)
    title = _pdf_title(reader)
    metadata: dict[str, Any] = {"n_pages": len(texts), "page_starts": starts}
    if title is not None:
        metadata["pdf_title"] = title
    empty = f"PDF has no extractable text ({len(texts)} pages; scanned images need OCR)"
    return _single_document(text, title, metadata, empty)


# --------------------------------------------------------------------------------------------
# JSON and JSONL
# --------------------------------------------------------------------------------------------

_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def _is_metadata_value(value: Any) -> bool:
    """Scalars and lists of scalars go to metadata; objects and nested arrays do not."""
    if isinstance(value, list):
        return all(isinstance(item, _JSON_SCALARS) for item in value)
    return isinstance(value, _JSON_SCALARS)


def _first_string(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``(field, value)`` of the first field holding a non-blank string, else ``(None, None)``."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, str) and not _is_blank(value):
            return field, value
    return None, None


def _first_id(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    """``(field, key)`` of the first usable id (non-blank string or number), else ``(None, None)``."""
    for field in fields:
        value = record.get(field)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, str) and not _is_blank(value):
            return field, _clean_text(value)
        if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
            return field, str(value)
    return None, None


def _json_record(item: Any, number: int, where: str, options: ParseOptions) -> ParsedRecord:
    """One JSON object as a record; ``number`` is its 1-based position, ``where`` its location."""
    if not isinstance(item, dict):
        raise _Rejected("parse_error", f"{where}: record is not a JSON object (got {_json_type(item)})")
    id_field, key = _first_id(item, options.json_id_fields)
    text_field, text = _first_string(item, options.json_text_fields)
    if text is None:
        named = f"{where}, key {key!r}" if key is not None else where
        fields = ", ".join(options.json_text_fields)
        raise _Rejected("parse_error", f"{named}: no non-empty text field (looked for: {fields})")
    title_field, title = _first_string(item, options.json_title_fields)
    used = {id_field, text_field, title_field}
    metadata = {
        _json_key(name): _json_safe(value)
        for name, value in item.items()
        if name not in used and _is_metadata_value(value)
    }
    _normalise_access_groups(metadata)
    if title is not None:
        title = " ".join(_clean_text(title).split())
    return ParsedRecord(key if key is not None else str(number), title, _clean_text(text), metadata)


def _json_records(items: list[tuple[str, Any]], options: ParseOptions, what: str) -> ParseResult:
    """Records for ``(location, value)`` pairs, in order; duplicate keys are rejected."""
    if not items:
        raise _Rejected("empty_text", f"{what} contains no records")
    records: list[ParsedRecord] = []
    seen: dict[str, str] = {}
    for number, (where, item) in enumerate(items, start=1):
        record = _json_record(item, number, where, options)
        key = record.record_key or ""
        if key in seen:
            raise _Rejected("parse_error", f"duplicate record key {key!r} ({seen[key]} and {where})")
        seen[key] = where
        records.append(record)
    return ParseResult(records)


def _json_items(value: Any) -> list[tuple[str, Any]]:
    """The records of a JSON document, each with a description of where it is.

    An array holds one record per element; an object is one record, unless its only key holds
    a non-empty array of objects (``{"documents": [...]}``), whose elements are the records.
    """
    if isinstance(value, list):
        return [(f"record {i + 1} (index {i})", item) for i, item in enumerate(value)]
    if isinstance(value, dict):
        if len(value) == 1:
            ((name, inner),) = value.items()
            if isinstance(inner, list) and inner and all(isinstance(item, dict) for item in inner):
                return [(f"record {i + 1} ({name}[{i}])", item) for i, item in enumerate(inner)]
        return [("top-level object", value)]
    raise _Rejected("parse_error", f"top-level JSON value must be an object or an array, got {_json_type(value)}")


def _parse_json(content: bytes, options: ParseOptions) -> ParseResult:
    """JSON: an array of records, one record object, or ``{"<name>": [records]}``."""
    text = _decode_required(content, "JSON file")
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise _Rejected("parse_error", f"JSON nesting is too deep ({_describe(exc)})") from exc
    return _json_records(_json_items(value), options, "JSON file")


def _parse_jsonl(content: bytes, options: ParseOptions) -> ParseResult:
    """JSON Lines: one record per non-blank line; any invalid line rejects the whole file."""
    text = _decode_required(content, "JSONL file")
    items: list[tuple[str, Any]] = []
    # Split on LF only: U+2028 and friends may legally appear raw inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if _is_blank(line):
            continue
        try:
            items.append((f"line {number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise _Rejected("parse_error", f"line {number}: {exc.msg} (column {exc.colno})") from exc
        except RecursionError as exc:
            raise _Rejected("parse_error", f"line {number}: JSON nesting is too deep") from exc
        except ValueError as exc:  # e.g. integers longer than Python allows
            raise _Rejected("parse_error", f"line {number}: {_describe(exc)}") from exc
    return _json_records(items, options, "JSONL file")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

_Parser = Callable[[bytes, ParseOptions], ParseResult]
_PARSERS: dict[str, _Parser] = {
    "markdown": _parse_markdown,
    "text": _parse_text,
    "html": _parse_html,
    "pdf": _parse_pdf,
    "json": _parse_json,
    "jsonl": _parse_jsonl,
}


def _parse(path: str, content: bytes, options: ParseOptions) -> ParseResult:
    """``parse_document`` without the safety net: may raise."""
    file_type = detect_file_type(path)
    if file_type is None:
        ext = _extension(path or "")
        detail = f"unsupported file extension '.{ext}'" if ext else f"file has no extension: {path!r}"
        raise _Rejected("unsupported_type", detail)
    data = bytes(content)
    if len(data) > MAX_CONTENT_BYTES:
        raise _Rejected("too_large", f"file is {len(data)} bytes; the limit is {MAX_CONTENT_BYTES} bytes")
    if not data:
        raise _Rejected("empty_text", "file is empty (0 bytes)")
    return _PARSERS[file_type](data, options)


def parse_document(path: str, content: bytes, options: ParseOptions = ParseOptions()) -> ParseResult:
    """Parse one file into records; never raises.

    The parser is chosen by ``detect_file_type(path)``. When the file cannot become documents
    the result has no records, a ``reason`` from ``REASONS`` and a ``detail``; unexpected
    exceptions become ``parse_error`` with ``"<ExceptionType>: message"``.
    """
    try:
        return _parse(path, content, options)
    except _Rejected as exc:
        return _failure(exc.reason, exc.detail)
    except TextDecodeError as exc:
        return _failure(exc.reason, str(exc))
    except Exception as exc:
        return _failure("parse_error", _one_line(_describe(exc)))
