"""The entry point: file type from the extension, then the matching parser, never raising."""

from __future__ import annotations

import re
from collections.abc import Callable

from . import limits
from .common import describe, failure, one_line
from .docx import parse_docx
from .html import parse_html
from .json_records import parse_json, parse_jsonl
from .markdown import parse_markdown
from .pdf import parse_pdf
from .pptx import parse_pptx
from .results import ParseOptions, ParseResult, Rejected, TextDecodeError
from .spreadsheet import parse_csv, parse_xlsx
from .text import parse_text

__all__ = ["FILE_TYPES", "detect_file_type", "parse_document"]

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
    "docx": "docx",
    "pptx": "pptx",
    "xlsx": "xlsx",
    "csv": "csv",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "tif": "image",
    "tiff": "image",
}


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


_Parser = Callable[[bytes, ParseOptions], ParseResult]


def _parse_image(content: bytes, options: ParseOptions) -> ParseResult:
    """Images (OCR): ``image.parse_image``, imported on first use (it loads the OCR engine)."""
    from .image import parse_image

    return parse_image(content, options)


_PARSERS: dict[str, _Parser] = {
    "markdown": parse_markdown,
    "text": parse_text,
    "html": parse_html,
    "pdf": parse_pdf,
    "json": parse_json,
    "jsonl": parse_jsonl,
    "docx": parse_docx,
    "pptx": parse_pptx,
    "xlsx": parse_xlsx,
    "csv": parse_csv,
    "image": _parse_image,
}


# One shared default: ParseOptions is frozen, so sharing it is safe.
_DEFAULT_OPTIONS = ParseOptions()


def _parse(path: str, content: bytes, options: ParseOptions) -> ParseResult:
    """``parse_document`` without the safety net: may raise."""
    file_type = detect_file_type(path)
    if file_type is None:
        ext = _extension(path or "")
        detail = f"unsupported file extension '.{ext}'" if ext else f"file has no extension: {path!r}"
        raise Rejected("unsupported_type", detail)
    data = bytes(content)
    if len(data) > limits.MAX_CONTENT_BYTES:
        raise Rejected("too_large", f"file is {len(data)} bytes; the limit is {limits.MAX_CONTENT_BYTES} bytes")
    if not data:
        raise Rejected("empty_text", "file is empty (0 bytes)")
    return _PARSERS[file_type](data, options)


def parse_document(path: str, content: bytes, options: ParseOptions = _DEFAULT_OPTIONS) -> ParseResult:
    """Parse one file into records; never raises.

    The parser is chosen by ``detect_file_type(path)``. When the file cannot become documents
    the result has no records, a ``reason`` from ``REASONS`` and a ``detail``; unexpected
    exceptions become ``parse_error`` with ``"<ExceptionType>: message"``.
    """
    try:
        return _parse(path, content, options)
    except Rejected as exc:
        return failure(exc.reason, exc.detail)
    except TextDecodeError as exc:
        return failure(exc.reason, str(exc))
    except Exception as exc:
        return failure("parse_error", one_line(describe(exc)))
