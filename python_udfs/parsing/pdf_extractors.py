"""The PDF text extractors (``ParseOptions.pdf_parser``), behind one signature.

``extract(content, reader, budget) -> list[str]``: the raw text of every page, one string per
page, lines separated by ``\\n``. ``reader`` is the pypdf reader already unlocked by the caller
(encryption is decided once, by pypdf, for every extractor); the others open ``content`` with the
empty password when it is encrypted. ``budget`` enforces the page and document text caps.

- ``pypdf``: pypdf's plain text, in content-stream order (no positions: columns interleave, no
  tables); the shown strings are counted as pypdf reaches them (its run concatenation is
  quadratic, so a text bomb must be stopped before it is extracted).
- ``pypdfium2``: PDFium's text rectangles and their boxes -> lines and two-column reading order
  (``pdf_reading_order``). Fast (C++).
- ``pdfplumber``: pdfminer words and their boxes -> the same reading order, and ruled tables as
  Markdown tables in place (``pdf_tables``). Slow (pure Python).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import NameObject

from . import limits
from .common import describe
from .pdf_reading_order import Segment, page_lines
from .pdf_tables import inside, page_tables
from .results import Rejected

__all__ = ["AUTO_PDF_PARSER", "EXTRACTORS", "TextBudget", "extractor_for"]

# Layout analysis is for pages of ordinary size: a page with more text rectangles than this (a
# text bomb under the character cap, a dense map) is read as PDFium's plain text, in linear time.
MAX_LAYOUT_SEGMENTS = 5_000
# A document with a page of more characters than this is read by PDFium, not pdfminer (which
# builds an object per character and would take minutes).
MAX_PLUMBER_PAGE_CHARS = 100_000

# The extractor of pdf_parser="auto", chosen by bench/pdf_parsers_bench.py (see BENCHMARKS.md).
AUTO_PDF_PARSER = "pypdfium2"


class TextBudget:
    """The page and document text caps (decompression bombs), checked as pages are extracted."""

    def __init__(self) -> None:
        self.total = 0

    def check_page(self, number: int, chars: int) -> None:
        """Reject page ``number`` (1-based) when it, or the document so far, holds too many characters."""
        if chars > limits.MAX_PDF_PAGE_CHARS:
            raise Rejected(
                "parse_error",
                f"page {number} has more than {limits.MAX_PDF_PAGE_CHARS} characters of text "
                "(possible decompression bomb)",
            )
        self.total += chars
        if self.total > limits.MAX_PDF_TOTAL_CHARS:
            raise Rejected(
                "parse_error",
                f"PDF text exceeds {limits.MAX_PDF_TOTAL_CHARS} characters at page {number} "
                "(possible decompression bomb)",
            )


Extractor = Callable[[bytes, PdfReader, TextBudget], list[str]]


# --- pypdf -----------------------------------------------------------------------------------


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


def _pypdf_page_text(page: PageObject, number: int) -> str:
    """The raw text of one page, never more than about ``limits.MAX_PDF_PAGE_CHARS``."""
    shown = 0

    def guard(operator: bytes, operands: list[Any], cm: Any, tm: Any) -> None:
        nonlocal shown
        shown += _shown_string_bytes(operator, operands)
        if shown > limits.MAX_PDF_PAGE_CHARS:
            raise _PageTextLimit

    try:
        return page.extract_text(visitor_operand_before=guard) or ""
    except _PageTextLimit:
        return "x" * (limits.MAX_PDF_PAGE_CHARS + 1)  # over the cap: TextBudget rejects it
    except Exception as exc:
        raise Rejected("parse_error", f"page {number}: {describe(exc)}") from exc


def extract_pypdf(content: bytes, reader: PdfReader, budget: TextBudget) -> list[str]:
    """pypdf's plain text of every page."""
    texts = []
    for number, page in enumerate(reader.pages, start=1):
        text = _pypdf_page_text(page, number)
        budget.check_page(number, len(text))
        texts.append(text)
    return texts


# --- pypdfium2 -------------------------------------------------------------------------------


def _password(reader: PdfReader) -> str | None:
    """The password for the other libraries: the empty one when pypdf found the file encrypted."""
    return "" if reader.is_encrypted else None


def _pdfium_segments(textpage: Any, height: float) -> list[Segment]:
    """PDFium's text rectangles of a page as segments (top-down coordinates)."""
    segments = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        text = textpage.get_text_bounded(left, bottom, right, top)
        # PDFium reports a hyphen it considers a line-end break as U+0002.
        text = text.replace("\x02", "-").replace("\r", "").replace("\n", " ")
        if text.strip():
            segments.append(Segment(left, right, height - top, height - bottom, text))
    return segments


def _open_pdfium(content: bytes, reader: PdfReader) -> Any:
    """The ``pypdfium2.PdfDocument`` of ``content``; one PDFium cannot open is a ``parse_error``."""
    import pypdfium2

    try:
        return pypdfium2.PdfDocument(content, password=_password(reader))
    except pypdfium2.PdfiumError as exc:
        raise Rejected("parse_error", f"PDFium cannot open the PDF: {describe(exc)}") from exc


def extract_pypdfium2(content: bytes, reader: PdfReader, budget: TextBudget) -> list[str]:
    """PDFium's text of every page, in reading order from the text rectangles."""
    document = _open_pdfium(content, reader)
    try:
        texts = []
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            textpage = page.get_textpage()
            budget.check_page(number, textpage.count_chars())
            width, height = page.get_size()
            if textpage.count_rects() > MAX_LAYOUT_SEGMENTS:
                texts.append(textpage.get_text_range().replace("\x02", "-").replace("\r", ""))
            else:
                texts.append("\n".join(page_lines(_pdfium_segments(textpage, height), width)))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


# --- pdfplumber ------------------------------------------------------------------------------


def _plumber_page_text(page: Any) -> str:
    """One pdfplumber page: its words and its tables (as Markdown), in reading order."""
    tables = page_tables(page)
    words = [
        Segment(float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]), str(w["text"]))
        for w in page.extract_words()
    ]
    segments = [w for w in words if not inside(w, tables)] + tables
    return "\n".join(page_lines(segments, float(page.width)))


def _largest_page_chars(content: bytes, reader: PdfReader, budget: TextBudget) -> int:
    """Apply ``budget`` to every page's character count, as PDFium counts them (fast); the largest count.

    pdfminer builds an object per character: a text bomb must be refused before it reaches it.
    """
    document = _open_pdfium(content, reader)
    largest = 0
    try:
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            textpage = page.get_textpage()
            chars = textpage.count_chars()
            budget.check_page(number, chars)
            largest = max(largest, chars)
            textpage.close()
            page.close()
    finally:
        document.close()
    return largest


def extract_pdfplumber(content: bytes, reader: PdfReader, budget: TextBudget) -> list[str]:
    """pdfplumber's words and tables of every page, in reading order."""
    import pdfplumber

    if _largest_page_chars(content, reader, budget) > MAX_PLUMBER_PAGE_CHARS:
        return extract_pypdfium2(content, reader, TextBudget())  # the budget is already checked
    try:
        document = pdfplumber.open(io.BytesIO(content), password=_password(reader))
    except Exception as exc:
        raise Rejected("parse_error", f"pdfplumber cannot open the PDF: {describe(exc)}") from exc
    with document:
        texts = []
        for page in document.pages:
            texts.append(_plumber_page_text(page))
            page.close()
        return texts


EXTRACTORS: dict[str, Extractor] = {
    "pypdf": extract_pypdf,
    "pypdfium2": extract_pypdfium2,
    "pdfplumber": extract_pdfplumber,
}


def extractor_for(pdf_parser: str) -> Extractor:
    """The extractor named by ``ParseOptions.pdf_parser`` ("auto": ``AUTO_PDF_PARSER``)."""
    name = AUTO_PDF_PARSER if pdf_parser == "auto" else pdf_parser
    if name not in EXTRACTORS:
        raise Rejected(
            "parse_error", f"unknown pdf_parser {pdf_parser!r}; expected one of auto, {', '.join(EXTRACTORS)}"
        )
    return EXTRACTORS[name]
