"""PDF: the text of every page, pages joined by a blank line.

The text comes from the extractor of ``ParseOptions.pdf_parser`` (``pdf_extractors``; ``auto`` is
the one measured best by bench/pdf_parsers_bench.py), then every page is cleaned the same way
whatever the extractor (``pdf_layout``: ligatures, table-of-contents lines, running headers,
footers and page numbers, end-of-line hyphenation). Pages without a text layer that hold an image
are OCR'd when the ``ocr`` var allows it (``pdf_ocr``).

``page_starts`` metadata gives the offset of each page in the text. Encrypted PDFs (RC4, and AES
with the ``cryptography`` package) are opened with the empty user password; only those that need
a real user password are rejected as ``encrypted``. Page and document text are capped
(decompression bombs). The title is the metadata ``/Title`` when it looks like a title, else the
first heading-like line of the first page with text (``titles``).
"""

from __future__ import annotations

import io
import threading
from typing import Any

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, LimitReachedError
from pypdf.generic import StreamObject

from ..cleaning import clean_text
from .common import describe, join_pages, safe_text, single_document
from .pdf_extractors import AUTO_PDF_PARSER, TextBudget, extractor_for
from .pdf_layout import clean_page_texts
from .pdf_ocr import OcrOutcome, ocr_blank_pages
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


def _empty_detail(n_pages: int, ocr: OcrOutcome) -> str:
    """Why a PDF has no text: no text layer at all, or image pages that OCR could not read."""
    if not ocr.image_pages:
        return f"PDF has no extractable text ({n_pages} pages, no text layer and no images)"
    images = f"PDF has no text layer ({n_pages} pages, {ocr.image_pages} of them images)"
    if not ocr.enabled:
        return f"{images}; OCR is off (var ocr = 'off')"
    if not ocr.available:
        return f"{images}; OCR is not available here (needs pytesseract and the tesseract binary)"
    return f"{images}; OCR read no text on them"


def _ocr_metadata(ocr: OcrOutcome, n_pages: int, options: ParseOptions) -> dict[str, Any]:
    """The ``ocr_*`` metadata keys (``ocr.ocr_metadata``); rejects a document with no usable page."""
    if not ocr.pages:
        return {}
    from . import ocr as ocr_module

    confidences = [ocr.pages[index][1] if index in ocr.pages else None for index in range(n_pages)]
    ocr_module.require_confident_page(confidences, options.ocr_min_confidence)
    return ocr_module.ocr_metadata(confidences, options.ocr_min_confidence)


# Most form XObjects (nested included) whose streams _check_content_streams decodes per document.
MAX_CHECKED_FORMS = 10_000


def _check_content_streams(reader: PdfReader) -> None:
    """Decode every page's content streams and form XObjects (nested ones too) with pypdf, whose
    filters stop at its output limits (``pypdf.filters.ZLIB_MAX_OUTPUT_LENGTH``...): a
    decompression bomb is rejected here, before PDFium or pdfminer (which have no such limit)
    inflate it. A stream pypdf fails to decode for another reason is left to the extractor, which
    may read it. Image XObjects are not decoded (text extraction does not inflate them; the OCR
    renderer's pages are bounded by ``ocr.MAX_OCR_PIXELS``)."""
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, start=1):
        try:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
            _check_forms(page.get("/Resources"), seen)
        except LimitReachedError as exc:
            raise Rejected(
                "parse_error", f"page {number}: a content stream over pypdf's decompression limit: {describe(exc)}"
            ) from exc
        except Rejected:
            raise
        except Exception:  # a stream pypdf cannot decode is left to the extractor
            continue


def _resolved(value: Any) -> Any:
    """The object an indirect reference points to (the value itself otherwise)."""
    return value.get_object() if hasattr(value, "get_object") else value


def _check_forms(resources: Any, seen: set[int]) -> None:
    """Decode the form XObjects of ``resources`` and of the forms inside them, each once (``seen``:
    object ids), iteratively; at most MAX_CHECKED_FORMS per document."""
    pending: list[Any] = [resources]
    while pending:
        current = _resolved(pending.pop())
        xobjects = _resolved(current.get("/XObject")) if isinstance(current, dict) else None
        if not isinstance(xobjects, dict):
            continue
        for reference in xobjects.values():
            key = getattr(reference, "idnum", None)
            form = _resolved(reference)
            is_form = isinstance(form, StreamObject) and form.get("/Subtype") == "/Form"
            if not is_form or (key is not None and key in seen):
                continue
            if key is not None:
                seen.add(key)
            if len(seen) > MAX_CHECKED_FORMS:
                raise Rejected("parse_error", f"PDF has more than {MAX_CHECKED_FORMS} form XObjects")
            form.get_data()
            pending.append(form.get("/Resources"))


# PDFium (pypdfium2, also under pdfplumber and the OCR page renderer) is not thread-safe, and
# ctypes releases the GIL during its calls: DuckDB runs the parse UDF on several threads, and two
# PDFs parsed at once corrupted the heap ("double free or corruption", a crashed dbt build). One
# PDF at a time per process; the other formats still parse in parallel.
_PDFIUM_LOCK = threading.Lock()


def parse_pdf(content: bytes, options: ParseOptions) -> ParseResult:
    """PDF: page texts joined by a blank line, one PDF at a time (``_PDFIUM_LOCK``)."""
    with _PDFIUM_LOCK:
        return _parse_pdf(content, options)


def _parse_pdf(content: bytes, options: ParseOptions) -> ParseResult:
    """PDF: page texts joined by a blank line.

    Metadata: ``n_pages``, ``page_starts``, ``pdf_parser`` (the extractor used), ``pdf_title`` (the
    raw ``/Title``) and, when pages were OCR'd, the ``ocr_*`` keys (``ocr.ocr_metadata``).
    """
    reader = PdfReader(io.BytesIO(content))
    _unlock_pdf(reader)
    _check_content_streams(reader)
    extract = extractor_for(options.pdf_parser)
    raw = [safe_text(text) for text in extract(content, reader, TextBudget())]
    ocr = ocr_blank_pages(content, reader, raw, options)
    raw = [ocr.pages[index][0] if index in ocr.pages else text for index, text in enumerate(raw)]
    # Each page is cleaned exactly as cleaning.clean_text will clean the whole document, so that
    # page_starts stay exact offsets into documents.text.
    texts = [clean_text(text) for text in clean_page_texts(raw)]
    text, starts = join_pages(texts)
    metadata_title = _metadata_title(reader)
    title = _pdf_title(metadata_title, texts)
    parser = AUTO_PDF_PARSER if options.pdf_parser == "auto" else options.pdf_parser
    metadata: dict[str, Any] = {"n_pages": len(texts), "page_starts": starts, "pdf_parser": parser}
    if metadata_title is not None:
        metadata["pdf_title"] = metadata_title
    if text.strip():
        metadata.update(_ocr_metadata(ocr, len(texts), options))
    return single_document(text, title, metadata, _empty_detail(len(texts), ocr))
