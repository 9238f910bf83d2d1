"""OCR with Tesseract (through pytesseract): the text of one page image and its confidence.

Shared by the image parser (``image``) and the PDF parser (pages without a text layer). Nothing is
downloaded at run time: the ``tesseract`` binary and its English data come from the system
(Debian: ``apt-get install tesseract-ocr``). A page's confidence is the mean confidence (0..100)
of the words Tesseract read on it; a page under ``ParseOptions.ocr_min_confidence`` is flagged in
the metadata, and a document none of whose pages reaches it is rejected as ``LOW_CONFIDENCE``.

Callers decide whether OCR runs at all (``ocr_enabled``); ``ocr_image`` raises ``Rejected``
(``parse_error``) when Tesseract is missing, fails or runs past ``OCR_PAGE_TIMEOUT_S``.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytesseract
from PIL import Image

from .common import describe, one_line
from .results import LOW_CONFIDENCE, ParseOptions, Rejected

__all__ = [
    "MAX_OCR_PIXELS",
    "OCR_LANGUAGE",
    "OCR_PAGE_TIMEOUT_S",
    "TESSERACT_THREADS",
    "OcrPage",
    "ocr_available",
    "ocr_enabled",
    "ocr_engine",
    "ocr_image",
    "ocr_metadata",
    "require_confident_page",
    "require_ocr_size",
]

# Tesseract's language data used for every page (Debian package tesseract-ocr-eng).
OCR_LANGUAGE = "eng"
# Seconds Tesseract may spend on one page before the document is rejected as parse_error.
OCR_PAGE_TIMEOUT_S = 60
# Pixels of one page image OCR accepts (an A4 page at 600 dpi is about 35 million); a larger one
# (a decompression bomb, or a poster) is rejected as too_large before it is decoded.
MAX_OCR_PIXELS = 50_000_000
# OpenMP threads of one Tesseract process (its OMP_THREAD_LIMIT, unless the environment sets one):
# measured on 2 busy cores, one thread reads a scanned page in half the time and a third of the
# CPU of the default (bench/ocr_bench.py); parallel parsing gives the parallelism.
TESSERACT_THREADS = 1
# Tesseract's page segmentation: 3 = fully automatic (columns, blocks), without orientation detection.
_TESSERACT_CONFIG = "--psm 3"
# The image_to_data level of a word (1 page, 2 block, 3 paragraph, 4 line, 5 word).
_WORD_LEVEL = 5
_OFF = "off"


@dataclass(frozen=True)
class OcrPage:
    """The text read from one page image and its confidence.

    ``confidence`` is the mean word confidence (0..100) of the words Tesseract read (words it
    scores below 0 are ignored), 0.0 when it read no words.
    """

    text: str
    confidence: float


def ocr_enabled(options: ParseOptions) -> bool:
    """True unless the ``ocr`` var is ``off``."""
    return options.ocr != _OFF


@functools.cache
def ocr_available() -> bool:
    """True when the ``tesseract`` binary runs and has ``OCR_LANGUAGE`` data (checked once per process)."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return False
    try:
        return OCR_LANGUAGE in pytesseract.get_languages(config="")
    except Exception:
        return False


@functools.cache
def ocr_engine() -> str:
    """``"tesseract <version>"`` of the installed binary (checked once per process)."""
    try:
        return f"tesseract {pytesseract.get_tesseract_version()}"
    except Exception:  # not installed: nothing was OCR'd with it
        return "tesseract (not installed)"


def _require_tesseract() -> None:
    """Reject with ``parse_error`` when Tesseract or its language data is not installed."""
    if not ocr_available():
        raise Rejected(
            "parse_error",
            f"OCR needs the tesseract binary with '{OCR_LANGUAGE}' language data "
            "(Debian: apt-get install tesseract-ocr), which is not installed",
        )


def require_ocr_size(width: int, height: int, what: str) -> None:
    """Reject as ``too_large`` a ``what`` (e.g. ``"image"``, ``"page 3"``) over ``MAX_OCR_PIXELS``."""
    pixels = width * height
    if pixels > MAX_OCR_PIXELS:
        raise Rejected(
            "too_large",
            f"{what} is {width}x{height} = {pixels} pixels; the OCR limit is {MAX_OCR_PIXELS} pixels",
        )


def _page_image(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit grayscale, the mode Tesseract reads directly (alpha composited on white)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16/32-bit grayscale: scale to 0..255 rather than clip.
        image = image.point(lambda value: value / 256).convert("L")
    return image if image.mode == "L" else image.convert("L")


def _tesseract_environment() -> dict[str, str]:
    """The environment of a Tesseract process: this one's, with ``OMP_THREAD_LIMIT`` defaulted.

    Set for the child only: OMP_THREAD_LIMIT in this process would also limit the OpenMP
    libraries loaded here later (torch's).
    """
    environment = dict(os.environ)
    environment.setdefault("OMP_THREAD_LIMIT", str(TESSERACT_THREADS))
    return environment


def _run_tesseract(image: Image.Image) -> dict[str, list[Any]]:
    """Tesseract's word table for ``image``; timeouts and failures become ``parse_error``."""
    # pytesseract starts tesseract with env=pytesseract.pytesseract.environ (os.environ by default).
    pytesseract.pytesseract.environ = _tesseract_environment()
    try:
        data: dict[str, list[Any]] = pytesseract.image_to_data(
            image,
            lang=OCR_LANGUAGE,
            config=_TESSERACT_CONFIG,
            output_type=pytesseract.Output.DICT,
            timeout=OCR_PAGE_TIMEOUT_S,
        )
    except RuntimeError as exc:  # pytesseract's "Tesseract process timeout"
        if "timeout" in str(exc).lower():
            raise Rejected("parse_error", f"OCR took longer than {OCR_PAGE_TIMEOUT_S} s on one page") from exc
        raise Rejected("parse_error", f"OCR failed: {one_line(describe(exc))}") from exc
    except Exception as exc:  # pytesseract.TesseractError, OSError
        raise Rejected("parse_error", f"OCR failed: {one_line(describe(exc))}") from exc
    return data


def _words_to_page(data: dict[str, list[Any]]) -> OcrPage:
    """Words on lines (one space), lines of a paragraph on lines, paragraphs separated by a blank line."""
    paragraphs: list[list[list[str]]] = []
    confidences: list[float] = []
    last_paragraph: tuple[int, int] | None = None
    last_line: int | None = None
    for index, level in enumerate(data["level"]):
        word = str(data["text"][index]).strip()
        if int(level) != _WORD_LEVEL or not word:
            continue
        paragraph = (int(data["block_num"][index]), int(data["par_num"][index]))
        line = int(data["line_num"][index])
        if paragraph != last_paragraph:
            paragraphs.append([])
            last_paragraph, last_line = paragraph, None
        if line != last_line:
            paragraphs[-1].append([])
            last_line = line
        paragraphs[-1][-1].append(word)
        confidence = float(data["conf"][index])
        if confidence >= 0:
            confidences.append(confidence)
    text = "\n\n".join("\n".join(" ".join(words) for words in lines) for lines in paragraphs)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrPage(text, round(mean, 2))


def ocr_image(image: Image.Image, options: ParseOptions) -> OcrPage:
    """The text and confidence Tesseract reads from one page image (any Pillow mode).

    ``options`` is taken for the OCR settings; the caller checks ``ocr_enabled(options)`` first.
    Raises ``Rejected("parse_error", ...)`` when Tesseract is missing, fails or times out, and
    ``Rejected("too_large", ...)`` for an image over ``MAX_OCR_PIXELS``.
    """
    require_ocr_size(image.width, image.height, "page image")
    _require_tesseract()
    return _words_to_page(_run_tesseract(_page_image(image)))


def ocr_metadata(confidences: Sequence[float | None], min_confidence: float) -> dict[str, Any]:
    """The OCR keys of a document's metadata; ``confidences`` has one entry per page, None for a text-layer page.

    ``ocr_confidence``: the per-page confidences; ``ocr_flagged_pages``: 1-based numbers of the OCR'd
    pages under ``min_confidence``; ``ocr_engine``: ``"tesseract <version>"``.
    """
    return {
        "ocr_confidence": list(confidences),
        "ocr_flagged_pages": [n for n, c in enumerate(confidences, start=1) if c is not None and c < min_confidence],
        "ocr_engine": ocr_engine(),
    }


def require_confident_page(confidences: Sequence[float | None], min_confidence: float) -> None:
    """Reject as ``LOW_CONFIDENCE`` a document none of whose pages is usable.

    A page is usable when it has a text layer (None) or its OCR confidence reaches
    ``min_confidence``. A document with no pages is left to the caller (``empty_text``).
    """
    if not confidences or any(c is None or c >= min_confidence for c in confidences):
        return
    best = max(c for c in confidences if c is not None)
    raise Rejected(
        LOW_CONFIDENCE,
        f"OCR confidence is under {min_confidence:g} on every page "
        f"(best {best:.1f} of {len(confidences)} page{'s' if len(confidences) != 1 else ''}; var ocr_min_confidence)",
    )
