"""PDF: the text of every page, pages joined by a blank line.

``page_starts`` metadata gives the offset of each page in the text. Encrypted PDFs (RC4, and AES
with the ``cryptography`` package) are opened with the empty user password; only those that need
a real user password are rejected as ``encrypted``. Page and document text are capped
(decompression bombs). The title is the metadata ``/Title`` when it looks like a title, else the
first heading-like line of the first page with text (``titles``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.errors import DependencyError
from pypdf.generic import NameObject

from ..cleaning import clean_text
from . import limits
from .common import describe, safe_text, single_document
from .results import ParseOptions, ParseResult, Rejected
from .titles import first_heading_line, looks_like_title, normalise_title

__all__ = ["parse_pdf"]


def _unlock_pdf(reader: PdfReader) -> None:
    """Open an encrypted PDF with the empty user password, or reject it as ``encrypted``."""
    if not reader.is_encrypted:
        return
    try:
        outcome = reader.decrypt("")
    except DependencyError as exc:  # AES without the cryptography package: an installation problem
        raise Rejected("parse_error", f"PDF is AES-encrypted and cannot be opened here: {describe(exc)}") from exc
    except Exception as exc:  # e.g. an unsupported algorithm
        raise Rejected("encrypted", f"PDF is encrypted and cannot be decrypted: {describe(exc)}") from exc
    if outcome == PasswordType.NOT_DECRYPTED:
        raise Rejected("encrypted", "PDF is encrypted with a user password")
    try:
        len(reader.pages)
    except Exception as exc:
        raise Rejected("encrypted", f"PDF is encrypted and unreadable after decryption: {describe(exc)}") from exc


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
    """The raw text of one page, never more than about ``limits.MAX_PDF_PAGE_CHARS``.

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
        if shown > limits.MAX_PDF_PAGE_CHARS:
            raise _PageTextLimit

    try:
        raw = page.extract_text(visitor_operand_before=guard) or ""
    except _PageTextLimit:
        raw = None
    except Exception as exc:
        raise Rejected("parse_error", f"page {number}: {describe(exc)}") from exc
    if raw is None or len(raw) > limits.MAX_PDF_PAGE_CHARS:
        raise Rejected(
            "parse_error",
            f"page {number} has more than {limits.MAX_PDF_PAGE_CHARS} characters of text (possible decompression bomb)",
        )
    return raw


def _pdf_page_texts(reader: PdfReader) -> list[str]:
    """Cleaned text of every page, enforcing ``limits.MAX_PDF_PAGE_CHARS`` and ``limits.MAX_PDF_TOTAL_CHARS``."""
    texts: list[str] = []
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        raw = _extract_page_text(page, number)
        # Cleaned here exactly as cleaning.clean_text will clean the whole document, so that
        # page_starts stay exact offsets into documents.text.
        text = clean_text(safe_text(raw))
        total += len(text)
        if total > limits.MAX_PDF_TOTAL_CHARS:
            raise Rejected(
                "parse_error",
                f"PDF text exceeds {limits.MAX_PDF_TOTAL_CHARS} characters at page {number} "
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


def _metadata_title(reader: PdfReader) -> str | None:
    """The document information ``/Title`` on one line, if present; broken metadata is ignored."""
    try:
        info = reader.metadata
        title = info.title if info is not None else None
    except Exception:
        return None
    if not isinstance(title, str):
        return None
    return normalise_title(str(title)) or None


def _pdf_title(metadata_title: str | None, texts: list[str]) -> str | None:
    """``metadata_title`` when it looks like a title, else the first page's first heading-like line.

    The first page is the first one with text; the top and bottom lines of the pages after it
    tell its running header apart from a heading.
    """
    if metadata_title is not None and looks_like_title(metadata_title):
        return metadata_title
    for index, text in enumerate(texts):
        if text:
            return first_heading_line(text, texts[index + 1 :])  # the pages before are blank
    return None


def parse_pdf(content: bytes, options: ParseOptions) -> ParseResult:
    """PDF: page texts joined by a blank line; ``n_pages``, ``page_starts`` and ``pdf_title`` (the raw ``/Title``)."""
    reader = PdfReader(io.BytesIO(content))
    _unlock_pdf(reader)
    texts = _pdf_page_texts(reader)
    text, starts = _join_pages(texts)
    metadata_title = _metadata_title(reader)
    title = _pdf_title(metadata_title, texts)
    metadata: dict[str, Any] = {"n_pages": len(texts), "page_starts": starts}
    if metadata_title is not None:
        metadata["pdf_title"] = metadata_title
    empty = f"PDF has no extractable text ({len(texts)} pages; scanned images need OCR)"
    return single_document(text, title, metadata, empty)
