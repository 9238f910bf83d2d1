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

Text is decoded by ``decode_text``: a byte-order mark, BOM-less UTF-16/32, ISO-2022 escapes,
strict UTF-8, then the most plausible candidate decoding (``encoding_detection``); a legacy
encoding and the confidence in it go to the metadata (``encoding``, ``encoding_confidence``).
Binary content and undecodable bytes are rejected. Line endings are always LF. Offsets
(``page_starts``) are counted in code points of ``ParsedRecord.text``.

Modules, one concern each: ``results`` (records, results, options, reasons, errors), ``limits``
(size limits, adjustable as ``limits.NAME``), ``encoding`` (``decode_text``, ``decode_bytes``),
``encoding_detection`` and ``text_plausibility`` (detection of legacy encodings), ``common`` and
``metadata`` (helpers shared by the parsers), one module per format (``markdown``, ``text``,
``html``, ``pdf``, ``json_records``), the page furniture the HTML and Markdown parsers drop
(``boilerplate``, ``html_boilerplate``, ``markdown_boilerplate``: in-page tables of contents,
hidden copies of the title, terminal markup) and ``dispatch`` (``detect_file_type``, ``parse_document``).
"""

from __future__ import annotations

from . import limits
from .dispatch import FILE_TYPES, detect_file_type, parse_document
from .encoding import decode_text
from .results import (
    REASONS,
    BinaryContentError,
    InvalidEncodingError,
    ParsedRecord,
    ParseOptions,
    ParseResult,
    TextDecodeError,
)

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
    "limits",
    "parse_document",
]
