"""OCR of PDF pages without a text layer (var ``ocr``: ``auto``), through ``ocr.ocr_image``.

A page whose extracted text is blank and that holds at least one image is rendered with PDFium
at ``OCR_DPI`` (lower for a page whose bitmap would pass ``ocr.MAX_OCR_PIXELS``) and read by
Tesseract. OCR is optional: when the OCR module or the Tesseract binary is missing no page is
OCR'd and ``OcrOutcome.available`` is False, so that an image-only PDF's rejection says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader

from .results import ParseOptions

__all__ = ["OCR_DPI", "OcrOutcome", "ocr_blank_pages"]

OCR_DPI = 300
PDF_POINTS_PER_INCH = 72


@dataclass
class OcrOutcome:
    """What OCR did: 0-based page index -> (text, mean word confidence 0..100) of the OCR'd pages."""

    pages: dict[int, tuple[str, float]] = field(default_factory=dict)
    image_pages: int = 0  # blank pages holding an image (the OCR candidates)
    enabled: bool = True
    available: bool = True


def _has_image(page: Any) -> bool:
    """Whether a PDFium page holds an image object (a scan), not just nothing."""
    import pypdfium2.raw as pdfium_c

    return next(iter(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])), None) is not None


def _render_scale(page: Any, max_pixels: int) -> float:
    """``OCR_DPI`` as a PDFium scale, lowered so that the bitmap stays under ``max_pixels``."""
    width, height = page.get_size()
    area = max(width * height, 1.0)
    return min(OCR_DPI / PDF_POINTS_PER_INCH, math.sqrt(max_pixels / area) * 0.99)


def ocr_blank_pages(content: bytes, reader: PdfReader, texts: list[str], options: ParseOptions) -> OcrOutcome:
    """OCR every page of ``texts`` that is blank and holds an image, when ``options.ocr`` allows it."""
    outcome = OcrOutcome(enabled=options.ocr != "off")
    blank = [index for index, text in enumerate(texts) if not text.strip()]
    if not blank:
        return outcome
    import pypdfium2

    document = pypdfium2.PdfDocument(content, password="" if reader.is_encrypted else None)
    try:
        image_pages = [index for index in blank if index < len(document) and _has_image(document[index])]
        outcome.image_pages = len(image_pages)
        if not image_pages or not outcome.enabled:
            return outcome
        try:
            from . import ocr
        except ImportError:  # pytesseract not installed
            outcome.available = False
            return outcome
        if not ocr.ocr_available():
            outcome.available = False
            return outcome
        for index in image_pages:
            page = document[index]
            image = page.render(scale=_render_scale(page, ocr.MAX_OCR_PIXELS)).to_pil()
            result = ocr.ocr_image(image, options)
            outcome.pages[index] = (result.text, float(result.confidence))
        return outcome
    finally:
        document.close()
