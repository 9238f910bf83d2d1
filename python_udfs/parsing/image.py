"""Images (PNG, JPEG, TIFF): the text OCR reads, one page per TIFF frame, pages joined by a blank line.

The image is opened with Pillow, only as PNG, JPEG or TIFF whatever its extension (no other
Pillow decoder runs on untrusted bytes). Its declared size is checked before it is decoded
(``ocr.MAX_OCR_PIXELS`` per page, ``MAX_IMAGE_FRAMES`` pages), so decompression bombs are rejected
as ``too_large``; corrupt or truncated data is ``parse_error``. The EXIF orientation is applied.
Every frame of a TIFF is a page (``page_starts``); other formats have one page (the first frame:
an animated PNG's other frames are not pages). With the ``ocr`` var ``off`` images are
``unsupported_type``: there is no text to read without OCR. Per-page confidences and flagged
pages are in the metadata (``ocr.ocr_metadata``); a document with no page reaching
``ocr_min_confidence`` is ``low_confidence``. The title is the first heading-like line of the
first confident page, as for PDFs (``titles``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ..cleaning import clean_text
from . import ocr
from .common import describe, join_pages, one_line, safe_text, single_document
from .results import ParseOptions, ParseResult, Rejected
from .titles import first_heading_line

__all__ = ["IMAGE_FORMATS", "MAX_IMAGE_FRAMES", "parse_image"]

# The Pillow decoders allowed to open an image file.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
# Pages (TIFF frames) of one image file; a file with more is rejected as too_large.
MAX_IMAGE_FRAMES = 200
_MULTI_PAGE_FORMATS = frozenset({"TIFF"})


def _open_image(data: bytes) -> Image.Image:
    """The image in ``data`` (header only: nothing decoded yet), or ``Rejected``."""
    try:
        return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Rejected("too_large", f"image is too large to decode: {one_line(str(exc))}") from exc
    except UnidentifiedImageError as exc:
        raise Rejected("parse_error", f"not a readable {', '.join(IMAGE_FORMATS)} image") from exc
    except Exception as exc:
        raise Rejected("parse_error", f"image cannot be opened: {one_line(describe(exc))}") from exc


def _count_frames(image: Image.Image) -> int:
    """The number of pages of ``image``: its frames for a TIFF (at most ``MAX_IMAGE_FRAMES``), else 1."""
    if image.format not in _MULTI_PAGE_FORMATS:
        return 1
    try:
        image.seek(MAX_IMAGE_FRAMES)
    except EOFError:
        pass
    except Exception as exc:
        raise Rejected("parse_error", f"TIFF page directory is corrupt: {one_line(describe(exc))}") from exc
    else:
        raise Rejected("too_large", f"image has more than {MAX_IMAGE_FRAMES} pages (frames)")
    count = 1
    try:
        # Bounded: seek(MAX_IMAGE_FRAMES) failed, so there are at most MAX_IMAGE_FRAMES frames.
        while count < MAX_IMAGE_FRAMES:
            image.seek(count)
            count += 1
    except EOFError:
        pass
    except Exception as exc:
        raise Rejected("parse_error", f"TIFF page {count + 1} is corrupt: {one_line(describe(exc))}") from exc
    return count


def _decoded_pages(image: Image.Image, count: int) -> Iterator[Image.Image]:
    """Each of the ``count`` pages, size-checked, decoded and upright (EXIF orientation), one at a time."""
    for index in range(count):
        number = index + 1
        try:
            image.seek(index)
        except Exception as exc:
            raise Rejected("parse_error", f"page {number} cannot be read: {one_line(describe(exc))}") from exc
        ocr.require_ocr_size(image.width, image.height, f"page {number}")
        try:
            image.load()
            page = ImageOps.exif_transpose(image)
        except Exception as exc:  # truncated or corrupt pixel data
            raise Rejected(
                "parse_error", f"page {number}: image data is corrupt or truncated: {one_line(describe(exc))}"
            ) from exc
        yield page


def _title(pages: list[ocr.OcrPage], texts: list[str], min_confidence: float) -> str | None:
    """The first heading-like line of the first page with text, when that page is confident."""
    for index, text in enumerate(texts):
        if text:
            if pages[index].confidence < min_confidence:
                return None
            return first_heading_line(text, texts[index + 1 :])
    return None


def parse_image(content: bytes, options: ParseOptions) -> ParseResult:
    """PNG, JPEG or TIFF: OCR'd page texts joined by a blank line; ``n_pages``, ``page_starts``,
    ``image_format`` and the ``ocr_*`` keys (``ocr.ocr_metadata``)."""
    if not ocr.ocr_enabled(options):
        raise Rejected("unsupported_type", "images need OCR, which is off (var ocr = 'off')")
    with _open_image(content) as image:
        image_format = str(image.format)
        count = _count_frames(image)
        pages = [ocr.ocr_image(page, options) for page in _decoded_pages(image, count)]
    confidences = [page.confidence for page in pages]
    ocr.require_confident_page(confidences, options.ocr_min_confidence)
    # Cleaned here exactly as cleaning.clean_text cleans the whole document, so that
    # page_starts stay exact offsets into documents.text.
    texts = [clean_text(safe_text(page.text)) for page in pages]
    text, starts = join_pages(texts)
    metadata: dict[str, Any] = {
        "n_pages": len(pages),
        "page_starts": starts,
        "image_format": image_format,
        **ocr.ocr_metadata(confidences, options.ocr_min_confidence),
    }
    title = _title(pages, texts, options.ocr_min_confidence)
    return single_document(text, title, metadata, f"OCR read no text in the image ({len(pages)} pages)")
