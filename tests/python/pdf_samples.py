"""Small PDFs written byte by byte for parser tests (pypdf can read but not author text)."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def pdf_with_stream(page_stream: bytes) -> bytes:
    """A one-page PDF (Helvetica as /F1) whose page content object is ``page_stream``."""
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            page_stream,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1; object 1 is the catalog), with its xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def one_page_pdf(content: bytes, compress: bool = True) -> bytes:
    """A one-page PDF whose content stream is ``content`` (Flate-compressed by default)."""
    stream = zlib.compress(content, 9) if compress else content
    filters = b" /Filter /FlateDecode" if compress else b""
    header = b"<< /Length %d%s >>\nstream\n" % (len(stream), filters)
    return pdf_with_stream(header + stream + b"\nendstream")


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    """``data`` encrypted with RC4-128 (needs no crypto library)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- Labelled layout PDFs (fpdf2): what each page shows, and the text a good extraction gives ---

# DejaVu Sans has the ligature glyphs (U+FB00..U+FB06) that Helvetica (Latin-1) lacks.
DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PAGE_WIDTH_MM = 210.0
LINE_HEIGHT_MM = 6.0
TOP_MM = 20.0


@dataclass(frozen=True)
class LabelledPdf:
    """A generated PDF and what a layout-aware extraction should give.

    ``expected``: the body text in reading order (ligatures as letters, hyphenated words joined,
    no running header, footer, page numbers or table-of-contents lines); ``running``: the lines
    repeated on every page; ``tables``: each table's rows of cells (first row the header).
    """

    name: str
    data: bytes
    expected: str
    running: tuple[str, ...] = ()
    tables: tuple[tuple[tuple[str, ...], ...], ...] = ()


def _fpdf(font_size: float = 11.0) -> Any:
    """An FPDF (A4, mm) with DejaVu Sans when it is installed, else Helvetica."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    if Path(DEJAVU_SANS).exists():
        pdf.add_font("DejaVu", fname=DEJAVU_SANS)
        pdf.set_font("DejaVu", size=font_size)
    else:
        pdf.set_font("helvetica", size=font_size)
    return pdf


def write_lines(pdf: Any, lines: list[str], x: float = 20.0, y: float = TOP_MM) -> float:
    """Write ``lines`` one under the other from (``x``, ``y``) mm; returns the y after the last."""
    for line in lines:
        pdf.text(x, y, line)
        y += LINE_HEIGHT_MM
    return y


def running_pages_pdf(pages: list[list[str]], header: str, footer: str = "Page {n} of {total}") -> bytes:
    """A PDF whose pages show ``header`` on top, their lines, and ``footer`` (numbered) at the bottom."""
    pdf = _fpdf()
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        pdf.text(20, 12, header)
        write_lines(pdf, lines, y=30)
        pdf.text(95, 285, footer.format(n=number, total=len(pages)))
    return bytes(pdf.output())


def two_column_pdf(title: str, left: list[str], right: list[str], row_order: bool = False) -> bytes:
    """One page: ``title`` across the page, then ``left`` and ``right`` as two columns side by side.

    ``row_order``: the content stream shows the lines row by row (left line 1, right line 1, ...),
    as some generators do, instead of column by column: stream order is then not reading order.
    """
    pdf = _fpdf()
    pdf.add_page()
    pdf.text(20, 20, title)
    if row_order:
        for index, (first, second) in enumerate(zip(left, right)):
            pdf.text(20, 32 + index * LINE_HEIGHT_MM, first)
            pdf.text(112, 32 + index * LINE_HEIGHT_MM, second)
    else:
        write_lines(pdf, left, x=20, y=32)
        write_lines(pdf, right, x=112, y=32)
    return bytes(pdf.output())


def table_pdf(before: list[str], rows: list[list[str]], after: list[str]) -> bytes:
    """One page: lines, a ruled table of ``rows`` (the first is the header), more lines."""
    pdf = _fpdf()
    pdf.add_page()
    y = write_lines(pdf, before, y=20)
    pdf.set_xy(20, y)
    with pdf.table(width=150, col_widths=tuple([1] * len(rows[0])), first_row_as_headings=False) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    write_lines(pdf, after, y=pdf.get_y() + 8)
    return bytes(pdf.output())


def image_only_pdf(pages: int = 1) -> bytes:
    """A PDF whose pages hold only an image (a scan without a text layer)."""
    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.image(Image.new("L", (40, 20), color=200), x=20, y=20, w=80)
    return bytes(pdf.output())


def _words(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def labelled_corpus() -> list[LabelledPdf]:
    """The labelled PDFs of bench/pdf_parsers_bench.py: running lines, hyphens, ligatures, columns, a table, a TOC."""
    body = [
        [
            "The water treat-",
            "ment plant uses state-of-the-",
            "art \ufb01lters for every \ufb02ow.",
            "The e\ufb04uent is clean and the Anglo-",
            "Saxon o\ufb03ce signs o\ufb00 each week.",
        ],
        ["Sludge is pumped to the drying",
         "beds, where the sun and the wind",
         "remove the remaining moisture."],
        ["Chlorine contact time is checked",
         "every hour by the operators, who",
         "record it in the log book."],
        ["The river intake is cleaned in",
         "spring, before the \ufb02oods, and again",
         "in autumn, after the leaves fall."],
    ]  # fmt: skip
    expected_running = (
        "The water treatment plant uses state-of-the-art filters for every flow. The effluent is clean and "
        "the Anglo-Saxon office signs off each week. "
        + " ".join(_words(page) for page in body[1:]).replace("\ufb02", "fl")
    )
    left = [f"left column line {n} speaks of pumps" for n in range(1, 13)]
    right = [f"right column line {n} speaks of valves" for n in range(1, 13)]
    rows = [
        ["Parameter", "Limit", "Unit"],
        ["Turbidity", "4", "NTU"],
        ["Nitrate", "50", "mg/L"],
        ["Lead", "10", "ug/L"],
    ]
    before = ["Drinking water limits are listed below."]
    after = ["Samples are taken every week."]
    toc_pages = [
        ["Contents", "Introduction ........................ 2", "Treatment steps .................... 3"],
        ["Introduction", "The plant serves the whole valley."],
        ["Treatment steps", "Water is screened, settled and filtered."],
    ]
    return [
        LabelledPdf(
            "running-hyphens-ligatures",
            running_pages_pdf(body, "Annual Filtration Report 2025"),
            expected_running,
            running=("Annual Filtration Report 2025", "Page # of 4"),
        ),
        LabelledPdf(
            "two-columns",
            two_column_pdf("Pumps and Valves Survey", left, right),
            _words(["Pumps and Valves Survey", *left, *right]),
        ),
        LabelledPdf(
            "two-columns-row-order",
            two_column_pdf("Pumps and Valves Survey", left, right, row_order=True),
            _words(["Pumps and Valves Survey", *left, *right]),
        ),
        LabelledPdf(
            "table",
            table_pdf(before, rows, after),
            _words([*before, *(" ".join(row) for row in rows), *after]),
            tables=(tuple(tuple(row) for row in rows),),
        ),
        LabelledPdf(
            "toc",
            running_pages_pdf(toc_pages, "Plant Handbook", footer="{n}"),
            _words(["Contents", *toc_pages[1], *toc_pages[2]]),
            running=("Plant Handbook",),
        ),
    ]


def form_xobject_bomb_pdf(expanded_bytes: int) -> bytes:
    """A one-page PDF whose page draws a form XObject that inflates to ``expanded_bytes`` (spaces
    around one line of text): a decompression bomb outside the page's own content stream."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"BT /F1 12 Tf 72 720 Td (form bomb) Tj ET\n")]
    block = b" " * 1_000_000
    parts += [compressor.compress(block) for _ in range(expanded_bytes // len(block))]
    form = b"".join(parts) + compressor.flush()
    content = b"q /Fm1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Length %d /Filter /FlateDecode >>\nstream\n" % len(form) + form + b"\nendstream",
    ]
    return pdf_from_objects(objects)
