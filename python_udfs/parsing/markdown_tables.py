"""Markdown (GitHub-flavoured) pipe tables from rows of cell texts.

Shared by the parsers that meet tables (Word, PowerPoint, spreadsheets, CSV; PDF and HTML may
reuse it): ``markdown_table(header, rows)``. Cells are escaped so that a cell can never end or
split its row: ``|`` becomes ``\\|`` and a line break inside a cell becomes ``<br>`` (GFM's way
of writing one). Rows are padded with empty cells to the widest row.
"""

from __future__ import annotations

import re

__all__ = ["CELL_LINE_BREAK", "escape_cell", "markdown_table"]

# How a line break inside a cell is written (a table row must stay on one line).
CELL_LINE_BREAK = "<br>"
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|\r|\n|\v|\u2028|\u2029)\s*")
_HEADER_RULE = "---"


def escape_cell(text: str) -> str:
    """One cell's text for a pipe table: stripped, ``|`` escaped, line breaks as ``CELL_LINE_BREAK``."""
    text = _LINE_BREAKS.sub(CELL_LINE_BREAK, text.strip())
    return text.replace("|", "\\|")


def _row_line(cells: list[str], width: int) -> str:
    """``| a | b |`` for ``cells`` padded with empty cells to ``width``."""
    padded = [escape_cell(cell) for cell in cells] + [""] * (width - len(cells))
    return "| " + " | ".join(padded) + " |"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A pipe table: the ``header`` row, the ``---`` rule, then ``rows``; "" when there are no columns.

    The width is that of the widest row (header included); shorter rows get empty cells.
    """
    width = max([len(header), *(len(row) for row in rows)])
    if width == 0:
        return ""
    lines = [_row_line(header, width), "| " + " | ".join([_HEADER_RULE] * width) + " |"]
    lines.extend(_row_line(row, width) for row in rows)
    return "\n".join(lines)
