"""OCR quality and speed: word recall/precision of python_udfs.parsing.image on synthetic scans.

    .venv/bin/python -m bench.ocr_bench [--pages 3] [--variants gray upscale ...] \
        [--out bench/results/ocr.json]

Pages of known English prose are rendered with Pillow (DejaVu Serif, 10-11 pt, A4 width) and
degraded the way scanners and fax machines degrade them, seeded (random.Random(page)):

- ``clean``: 300 dpi, as rendered (a born-digital image);
- ``scan``: 300 dpi, rotated up to 1.5 degrees, blurred, uneven grey background, Gaussian noise,
  speckles, JPEG quality 40;
- ``lowres``: the scan at 150 dpi, JPEG quality 50;
- ``fax``: 200 dpi, blurred, noisy and thresholded to 1 bit (a fax or a cheap document feeder);
- ``tiny``: the scan at 100 dpi (11 pt text about 10 px high), JPEG quality 30;
- ``dim``: a low-contrast photocopy (grey text on a grey, shaded page), noisy, JPEG quality 40;
- ``screen``: a screenshot: 9 pt text rendered at 96 dpi (12 px), clean PNG.

Each page is saved (PNG, JPEG or TIFF as a scanner would), parsed by ``parse_image`` and its text
compared with the known text: word recall and precision over lower-cased words without
punctuation (multiset intersection). ``--variants`` compares preprocessings applied before OCR
(the parser itself converts to grayscale): ``gray`` (the parser as it is), ``upscale`` (x2
Lanczos below 2000 px wide), ``autocontrast``, ``otsu`` (global threshold) and ``median`` (3x3
median filter). Needs the
tesseract binary (Debian: apt-get install tesseract-ocr); the font is DejaVu Serif (fonts-dejavu-core)
where installed, else the font Pillow ships.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
A4_WIDTH_IN = 8.27
MARGIN_IN = 0.8
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "ocr.json"

# Plain English prose (written for this benchmark), cut into pages of sentences.
SENTENCES = [
    "The committee met on Tuesday to review the annual budget and the plans for the new library.",
    "Members agreed that the reading room should stay open until nine in the evening during winter.",
    "A survey of 412 residents found that most of them visit the library at least twice a month.",
    "The treasurer reported that spending on books rose by seven percent compared with last year.",
    "Several speakers asked for more computers, faster internet access and a quiet place to study.",
    "The architect presented three designs, each with a garden, a café and space for exhibitions.",
    "Construction is expected to begin in March and to finish before the end of the following year.",
    "Children's services will move to the ground floor so that families with prams can reach them.",
    "The old building will be sold, and the money will pay for about a third of the new one.",
    "Volunteers have catalogued the local history collection, including maps, letters and photographs.",
    "A grant from the regional council will cover the cost of digitising the newspaper archive.",
    "Staff training on the new lending system is planned for the first two weeks of September.",
    "The chairman thanked everyone for their patience and closed the meeting at half past eight.",
    "Questions about the project may be sent to the secretary by letter or by electronic mail.",
    "Minutes of this meeting will be published on the notice board and on the council website.",
    "The next meeting will discuss opening hours, parking, and the price of printing and copying.",
]


@dataclass(frozen=True)
class Sample:
    """One degraded page: the file bytes, how it was made and the text it shows."""

    name: str
    condition: str
    data: bytes
    text: str


def _font(points: float, dpi: int) -> ImageFont.FreeTypeFont:
    """DejaVu Serif at ``points`` for ``dpi``; without it, the sans-serif font Pillow ships (Aileron)."""
    size = round(points / 72 * dpi)
    if FONT_PATH.is_file():
        return ImageFont.truetype(str(FONT_PATH), size=size)
    font = ImageFont.load_default(size=size)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow was built without FreeType"
    return font


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def render_page(paragraphs: list[str], dpi: int = 300, points: float = 11.0) -> Image.Image:
    """Black text on white, A4-wide at ``dpi``, as tall as the text needs (mode ``L``)."""
    font = _font(points, dpi)
    margin = round(MARGIN_IN * dpi)
    width = round(A4_WIDTH_IN * dpi)
    line_height = round(font.size * 1.4)
    blocks = [_wrap(paragraph, font, width - 2 * margin) for paragraph in paragraphs]
    height = 2 * margin + sum(len(lines) + 1 for lines in blocks) * line_height
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = margin
    for lines in blocks:
        for line in lines:
            draw.text((margin, y), line, font=font, fill=0)
            y += line_height
        y += line_height
    return image


def _noisy(image: Image.Image, rng: random.Random, sigma: float, speckles: float) -> Image.Image:
    """Gaussian noise of ``sigma`` grey levels, a ``speckles`` share of black/white dots, uneven background."""
    generator = np.random.default_rng(rng.randrange(2**32))
    pixels = np.asarray(image, dtype=np.float32)
    height, width = pixels.shape
    shade = np.linspace(0, rng.uniform(20, 45), width, dtype=np.float32)[None, :]  # a darker edge
    pixels = pixels - shade + generator.normal(0, sigma, pixels.shape).astype(np.float32)
    dots = generator.random(pixels.shape)
    pixels[dots < speckles / 2] = 0
    pixels[dots > 1 - speckles / 2] = 255
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def degrade(page: Image.Image, condition: str, rng: random.Random) -> bytes:
    """The file a scanner would write for ``page`` (rendered at 300 dpi) under ``condition``."""
    if condition == "clean":
        out = io.BytesIO()
        page.save(out, "PNG")
        return out.getvalue()
    if condition == "fax":
        page = page.resize((page.width * 2 // 3, page.height * 2 // 3), Image.Resampling.LANCZOS)
    page = page.rotate(rng.uniform(-1.5, 1.5), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.0)))
    if condition in ("lowres", "tiny"):
        factor = 2 if condition == "lowres" else 3
        page = page.resize((page.width // factor, page.height // factor), Image.Resampling.LANCZOS)
        return _jpeg(_noisy(page, rng, sigma=12, speckles=0.002), quality=50 if condition == "lowres" else 30)
    if condition == "dim":
        page = page.point(lambda value: 110 + value * 60 // 255)  # text 110, paper 170
        return _jpeg(_noisy(page, rng, sigma=18, speckles=0.002), quality=40)
    page = _noisy(page, rng, sigma=25, speckles=0.004)
    if condition == "fax":
        out = io.BytesIO()
        page.point(lambda value: 255 if value > 140 else 0).convert("1").save(out, "TIFF", compression="group4")
        return out.getvalue()
    return _jpeg(page, quality=40)


CONDITIONS = ("clean", "scan", "lowres", "fax", "tiny", "dim", "screen")


def page_paragraphs(index: int, sentences_per_page: int = 8) -> list[str]:
    """Seeded paragraphs (2-3 sentences each) for page ``index``."""
    rng = random.Random(index)
    chosen = rng.sample(SENTENCES, sentences_per_page)
    paragraphs: list[str] = []
    while chosen:
        size = min(len(chosen), rng.choice((2, 3)))
        paragraphs.append(" ".join(chosen[:size]))
        chosen = chosen[size:]
    return paragraphs


def make_samples(pages: int, conditions: tuple[str, ...] = CONDITIONS) -> list[Sample]:
    """``pages`` pages of known text under each of ``conditions``."""
    samples = []
    for index in range(pages):
        paragraphs = page_paragraphs(index)
        rendered = render_page(paragraphs)
        for condition in conditions:
            if condition == "screen":
                out = io.BytesIO()
                render_page(paragraphs, dpi=96, points=9).save(out, "PNG")
                data = out.getvalue()
            else:
                data = degrade(rendered, condition, random.Random(f"{condition}-{index}"))
            samples.append(Sample(f"page{index}-{condition}", condition, data, "\n\n".join(paragraphs)))
    return samples


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> Counter[str]:
    """Lower-case words (letters, digits, an apostrophe suffix), punctuation dropped."""
    return Counter(_WORD.findall(text.lower().replace("\u2019", "'")))


def recall_precision(truth: str, read: str) -> tuple[float, float]:
    """Word recall and precision of ``read`` against ``truth`` (multisets)."""
    expected, got = words(truth), words(read)
    common = sum((expected & got).values())
    recall = common / max(1, sum(expected.values()))
    precision = common / max(1, sum(got.values()))
    return recall, precision


def _otsu(image: Image.Image) -> Image.Image:
    histogram = np.asarray(image.convert("L").histogram(), dtype=np.float64)
    levels = np.arange(256)
    weight = np.cumsum(histogram)
    mean = np.cumsum(histogram * levels)
    total_weight, total_mean = weight[-1], mean[-1]
    between = (total_mean * weight - mean * total_weight) ** 2 / np.maximum(weight * (total_weight - weight), 1e-9)
    threshold = int(np.argmax(between))
    return image.convert("L").point(lambda value: 255 if value > threshold else 0)


def _upscale(image: Image.Image) -> Image.Image:
    if image.width >= 2000:
        return image
    return image.convert("L").resize((image.width * 2, image.height * 2), Image.Resampling.LANCZOS)


PREPROCESSORS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "gray": lambda image: image,
    "upscale": _upscale,
    "autocontrast": lambda image: ImageOps.autocontrast(image.convert("L"), cutoff=1),
    "otsu": _otsu,
    "median": lambda image: image.convert("L").filter(ImageFilter.MedianFilter(3)),
}


def _parse_with(data: bytes, variant: str):
    """``parse_image`` with ``PREPROCESSORS[variant]`` applied to each page before OCR."""
    from python_udfs.parsing import image as image_parser
    from python_udfs.parsing import ocr
    from python_udfs.parsing.results import ParseOptions, Rejected

    original = ocr.ocr_image
    preprocess = PREPROCESSORS[variant]
    image_parser.ocr.ocr_image = lambda page, options: original(preprocess(page), options)  # type: ignore[assignment]
    try:
        return image_parser.parse_image(data, ParseOptions())
    except Rejected as exc:
        return exc
    finally:
        image_parser.ocr.ocr_image = original  # type: ignore[assignment]


def run(samples: list[Sample], variants: list[str]) -> list[dict]:
    """One row per (variant, condition): mean recall, precision, confidence and pages/s."""
    rows = []
    for variant in variants:
        for condition in dict.fromkeys(sample.condition for sample in samples):
            chosen = [sample for sample in samples if sample.condition == condition]
            recalls, precisions, confidences, rejected = [], [], [], 0
            started = time.perf_counter()
            for sample in chosen:
                result = _parse_with(sample.data, variant)
                if not hasattr(result, "records"):
                    rejected += 1
                    recalls.append(0.0)
                    precisions.append(0.0)
                    continue
                record = result.records[0]
                recall, precision = recall_precision(sample.text, record.text)
                recalls.append(recall)
                precisions.append(precision)
                confidences.append(record.metadata["ocr_confidence"][0])
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "variant": variant,
                    "condition": condition,
                    "pages": len(chosen),
                    "word_recall": round(sum(recalls) / len(recalls), 4),
                    "min_word_recall": round(min(recalls), 4),
                    "word_precision": round(sum(precisions) / len(precisions), 4),
                    "mean_confidence": round(sum(confidences) / len(confidences), 1) if confidences else None,
                    "rejected": rejected,
                    "pages_per_s": round(len(chosen) / seconds, 3),
                }
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def markdown_table(rows: list[dict]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("" if row[h] is None else str(row[h]) for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def machine_info() -> dict:
    from importlib.metadata import version

    from python_udfs.parsing import ocr

    return {
        "cpu_count": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "python": platform.python_version(),
        "engine": ocr.ocr_engine(),
        "pytesseract": version("pytesseract"),
        "pillow": version("pillow"),
        "omp_thread_limit": ocr._tesseract_environment()["OMP_THREAD_LIMIT"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=3, help="pages of text per condition")
    parser.add_argument("--variants", nargs="*", default=["gray"], choices=sorted(PREPROCESSORS))
    parser.add_argument("--conditions", nargs="*", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    from python_udfs.parsing import ocr

    if not ocr.ocr_available():
        print("tesseract with English data is not installed (apt-get install tesseract-ocr)", file=sys.stderr)
        return 2
    info = machine_info()
    samples = make_samples(args.pages, tuple(args.conditions))
    rows = run(samples, args.variants)
    table = markdown_table(rows)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python -m bench.ocr_bench", *sys.argv[1:]])
    args.out.write_text(json.dumps({"command": command, "machine": info, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
