"""Tables of a PDF page (pdfplumber ``find_tables``, ruling lines) as Markdown tables.

A table is kept when it has at least ``MIN_TABLE_ROWS`` rows and ``MIN_TABLE_COLUMNS`` columns
and at least ``MIN_FILLED_SHARE`` of its cells hold text (a lone rectangle around a paragraph
is not a table). Its first row is the header. The words inside a kept table's box are replaced
by the Markdown table (``markdown_tables``), placed at the table's box in the reading order.
"""

from __future__ import annotations

from typing import Any

from .markdown_tables import markdown_table
from .pdf_reading_order import Segment

__all__ = ["inside", "page_tables"]

MIN_TABLE_ROWS = 2
MIN_TABLE_COLUMNS = 2
MIN_FILLED_SHARE = 0.5


def _cell(value: str | None) -> str:
    """A cell's text; pdfplumber gives None for a cell merged into its neighbour."""
    return value if value is not None else ""


def _is_table(rows: list[list[str | None]]) -> bool:
    """Whether extracted rows look like a real table (enough rows, columns and filled cells)."""
    if len(rows) < MIN_TABLE_ROWS or max(len(row) for row in rows) < MIN_TABLE_COLUMNS:
        return False
    cells = [cell for row in rows for cell in row]
    filled = sum(1 for cell in cells if cell is not None and cell.strip())
    return filled >= MIN_FILLED_SHARE * len(cells)


def page_tables(page: Any) -> list[Segment]:
    """The tables of a pdfplumber page as Markdown blocks at their boxes."""
    blocks: list[Segment] = []
    for table in page.find_tables():
        rows = [list(row) for row in table.extract()]
        if not rows or not _is_table(rows):
            continue
        text_rows = [[_cell(cell) for cell in row] for row in rows]
        x0, top, x1, bottom = table.bbox
        markdown = markdown_table(text_rows[0], text_rows[1:])
        blocks.append(Segment(float(x0), float(x1), float(top), float(bottom), markdown, block=True))
    return blocks


def inside(segment: Segment, blocks: list[Segment]) -> bool:
    """Whether the middle of ``segment`` lies inside one of ``blocks``."""
    x = (segment.x0 + segment.x1) / 2
    y = segment.middle
    return any(b.x0 <= x <= b.x1 and b.top <= y <= b.bottom for b in blocks)
