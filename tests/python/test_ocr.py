"""Tests for python_udfs.parsing.ocr and python_udfs.parsing.image: OCR of PNG, JPEG and TIFF files.

Pages are rendered from known text by bench/ocr_bench (one generator for the tests and the
benchmark) and read back by the real Tesseract; tests that need it skip when it is not installed
(`apt-get install tesseract-ocr`, which .ci/run tries). Decompression bombs, corrupt files and the
`ocr` / `ocr_min_confidence` settings are checked without Tesseract where they can be.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ocr_bench import recall_precision, render_page  # noqa: E402
from python_udfs.parsing import image as image_parser  # noqa: E402
from python_udfs.parsing import ocr  # noqa: E402
from python_udfs.parsing.dispatch import parse_document  # noqa: E402
from python_udfs.parsing.results import LOW_CONFIDENCE, ParseOptions, ParseResult, Rejected  # noqa: E402

needs_tesseract = pytest.mark.skipif(
    not ocr.ocr_available(),
    reason="tesseract with English data is not installed (Debian: apt-get install tesseract-ocr; .ci/run tries it)",
)

OPTIONS = ParseOptions()
PAGE_ONE = [
    "Annual Report",
    "The committee met on Tuesday to review the annual budget and the plans for the new library.",
]
PAGE_TWO = ["Members agreed that the reading room should stay open until nine in the evening during winter."]


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _page(paragraphs: list[str]) -> Image.Image:
    """A small page (150 dpi) of ``paragraphs``: quick to OCR."""
    return render_page(paragraphs, dpi=150)


def _parse(data: bytes, options: ParseOptions = OPTIONS) -> ParseResult | Rejected:
    try:
        return image_parser.parse_image(data, options)
    except Rejected as exc:
        return exc


def _rejected(data: bytes, options: ParseOptions = OPTIONS) -> Rejected:
    outcome = _parse(data, options)
    assert isinstance(outcome, Rejected), f"expected a rejection, got {outcome}"
    return outcome


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` (8-bit grey) and whose pixel data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def page_one_png() -> bytes:
    return _encode(_page(PAGE_ONE), "PNG")


@needs_tesseract
def test_clean_png_reads_back_its_words_with_confidence(page_one_png: bytes) -> None:
    result = _parse(page_one_png)
    assert isinstance(result, ParseResult), result
    (record,) = result.records
    recall, precision = recall_precision("\n".join(PAGE_ONE), record.text)
    assert recall >= 0.9 and precision >= 0.9, (recall, precision, record.text)
    assert record.title == "Annual Report"
    meta = record.metadata
    assert meta["n_pages"] == 1 and meta["page_starts"] == [0] and meta["image_format"] == "PNG"
    assert meta["ocr_confidence"][0] >= 80 and meta["ocr_flagged_pages"] == []
    assert meta["ocr_engine"].startswith("tesseract ")


@needs_tesseract
def test_min_confidence_var_rejects_a_page_under_it(page_one_png: bytes) -> None:
    rejection = _rejected(page_one_png, ParseOptions(ocr_min_confidence=99.9))
    assert rejection.reason == LOW_CONFIDENCE and "ocr_min_confidence" in rejection.detail


@needs_tesseract
def test_jpeg_exif_orientation_is_applied() -> None:
    """Stored on its side with EXIF Orientation 6 (rotate 90 degrees clockwise to view): read upright."""
    sideways = _page(PAGE_TWO).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    result = _parse(_encode(sideways, "JPEG", quality=90, exif=exif))
    assert isinstance(result, ParseResult), result
    recall, _ = recall_precision(PAGE_TWO[0], result.records[0].text)
    assert recall >= 0.9, result.records[0].text


@needs_tesseract
def test_text_on_a_transparent_background_is_read() -> None:
    """Black text on a transparent PNG is composited on white (not on black) before OCR."""
    page = _page(PAGE_TWO)
    transparent = Image.new("RGBA", page.size, (0, 0, 0, 0))
    transparent.putalpha(page.point(lambda value: 255 - value))
    result = _parse(_encode(transparent, "PNG"))
    assert isinstance(result, ParseResult), result
    recall, _ = recall_precision(PAGE_TWO[0], result.records[0].text)
    assert recall >= 0.9, result.records[0].text


@needs_tesseract
def test_multi_page_tiff_has_one_page_per_frame() -> None:
    frames = [_page(PAGE_ONE), _page(PAGE_TWO), Image.new("L", (400, 300), 255)]
    data = _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    result = _parse(data)
    assert isinstance(result, ParseResult), result
    (record,) = result.records
    meta = record.metadata
    starts = meta["page_starts"]
    assert meta["n_pages"] == 3 and meta["image_format"] == "TIFF" and len(starts) == 3
    assert starts[0] == 0 and record.text[starts[1] :].startswith("Members agreed")
    assert record.text[starts[1] - 2 : starts[1]] == "\n\n"
    assert starts[2] == len(record.text)  # the blank page adds no text
    assert meta["ocr_confidence"][2] == 0.0 and meta["ocr_flagged_pages"] == [3]
    assert all(confidence >= 80 for confidence in meta["ocr_confidence"][:2])


@needs_tesseract
@pytest.mark.parametrize("kind", ["blank", "noise"])
def test_blank_or_noise_image_is_low_confidence(kind: str) -> None:
    if kind == "blank":
        image = Image.new("L", (600, 400), 255)
    else:
        image = Image.effect_noise((300, 200), 90).point(lambda value: 255 if value > 128 else 0)
    rejection = _rejected(_encode(image, "PNG"))
    assert rejection.reason == LOW_CONFIDENCE, rejection.detail


@needs_tesseract
def test_page_timeout_is_parse_error(page_one_png: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "OCR_PAGE_TIMEOUT_S", 0.01)
    rejection = _rejected(page_one_png)
    assert rejection.reason == "parse_error" and "longer than 0.01 s" in rejection.detail


def test_missing_tesseract_is_parse_error(page_one_png: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr.pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    ocr.ocr_available.cache_clear()
    try:
        rejection = _rejected(page_one_png)
    finally:
        monkeypatch.undo()
        ocr.ocr_available.cache_clear()
    assert rejection.reason == "parse_error" and "apt-get install tesseract-ocr" in rejection.detail


def test_ocr_off_is_unsupported_type(page_one_png: bytes) -> None:
    rejection = _rejected(page_one_png, ParseOptions(ocr="off"))
    assert rejection.reason == "unsupported_type" and "ocr = 'off'" in rejection.detail


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (100_000, 100_000, "10000000000 pixels"),  # over Pillow's own bomb limit: refused at open
        (8_000, 8_000, "64000000 pixels"),  # under Pillow's, over MAX_OCR_PIXELS: refused before decoding
    ],
)
def test_image_bomb_is_too_large(width: int, height: int, expected: str) -> None:
    data = _png_header(width, height)
    assert len(data) < 100
    rejection = _rejected(data)
    assert rejection.reason == "too_large" and expected in rejection.detail


def test_tiff_with_too_many_frames_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(image_parser, "MAX_IMAGE_FRAMES", 5)
    frames = [Image.new("L", (8, 8), 255) for _ in range(6)]
    rejection = _rejected(_encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]))
    assert rejection.reason == "too_large" and "more than 5 pages" in rejection.detail


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"certainly not an image", "not a readable PNG, JPEG, TIFF image"),
        # PostScript would run Ghostscript in Pillow's EPS decoder: only PNG, JPEG and TIFF are opened.
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not a readable"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "not a readable"),
    ],
)
def test_unknown_or_other_format_is_parse_error(data: bytes, expected: str) -> None:
    rejection = _rejected(data)
    assert rejection.reason == "parse_error" and expected in rejection.detail


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_image_is_parse_error(page_one_png: bytes, fmt: str) -> None:
    data = page_one_png if fmt == "PNG" else _encode(Image.open(io.BytesIO(page_one_png)), "JPEG")
    rejection = _rejected(data[: len(data) // 2])
    assert rejection.reason == "parse_error" and "corrupt or truncated" in rejection.detail


def test_ocr_metadata_flags_ocr_pages_under_the_minimum() -> None:
    meta = ocr.ocr_metadata([None, 75.0, 59.9, 0.0], 60.0)
    assert meta["ocr_confidence"] == [None, 75.0, 59.9, 0.0]
    assert meta["ocr_flagged_pages"] == [3, 4]
    assert isinstance(meta["ocr_engine"], str) and meta["ocr_engine"]


@pytest.mark.parametrize(
    ("confidences", "rejected"),
    [
        ([12.0, 59.9], True),
        ([12.0, 60.0], False),  # the minimum itself is enough
        ([None, 3.0], False),  # a text-layer page makes the document usable
        ([], False),  # no pages: the caller's empty_text
    ],
)
def test_require_confident_page(confidences: list[float | None], rejected: bool) -> None:
    try:
        ocr.require_confident_page(confidences, 60.0)
    except Rejected as exc:
        assert rejected, exc
        assert exc.reason == LOW_CONFIDENCE and "best 59.9 of 2 pages" in exc.detail
    else:
        assert not rejected


@needs_tesseract
def test_parse_document_routes_image_extensions_to_ocr(page_one_png: bytes) -> None:
    """Through the entry point: ``.PNG`` is OCR'd; with ``ocr`` off it is quarantined, not dropped."""
    result = parse_document("scans/minutes.PNG", page_one_png)
    assert result.reason is None and "committee" in result.records[0].text, result
    off = parse_document("scans/minutes.png", page_one_png, ParseOptions(ocr="off"))
    assert off.records == [] and off.reason == "unsupported_type", off


def test_tesseract_gets_one_openmp_thread_unless_the_environment_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    assert ocr._tesseract_environment()["OMP_THREAD_LIMIT"] == str(ocr.TESSERACT_THREADS)
    assert "OMP_THREAD_LIMIT" not in os.environ  # this process (and torch's OpenMP) is left alone
    monkeypatch.setenv("OMP_THREAD_LIMIT", "3")
    assert ocr._tesseract_environment()["OMP_THREAD_LIMIT"] == "3"
