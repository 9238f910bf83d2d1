"""Spreadsheets (.xlsx) and CSV files: Markdown tables, one document per sheet (or per file).

* .xlsx: one record per non-empty worksheet (``record_key`` = the sheet name), its text
  ``# <sheet name>`` then a Markdown table whose header is the sheet's first non-empty row.
  Values are shown as text: cached formula results (``data_only``), dates in ISO 8601, numbers
  with at most 15 significant digits (no float noise), percentages with ``%``, booleans as
  ``TRUE``/``FALSE``. Empty rows are skipped; a workbook without a non-empty sheet is
  ``empty_text``. The sheet is streamed (openpyxl read-only mode, dimensions ignored), never
  loaded whole.
* .csv: one record per file, decoded like text (``encoding``), the delimiter sniffed (``,`` when
  the sniffer cannot tell), the first row as the header.

A table of more than ``ParseOptions.max_sheet_rows`` data rows is split into parts of that many
rows, each repeating the header row; parts have the record key ``<sheet>#<part>`` (CSV:
``<part>``). Bounds, checked while streaming (``office_safety``): ``MAX_SPREADSHEET_ROWS`` data
rows and ``MAX_SPREADSHEET_CELLS`` cells per file, ``MAX_SPREADSHEET_SCANNED_ROWS`` rows read
from one sheet and ``MAX_OFFICE_TEXT_CHARS`` characters of text; past any of them the whole file
is rejected as ``too_large`` (nothing is silently cut off).
"""

from __future__ import annotations

import csv
import datetime
import io
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from . import office_safety
from .common import decode_with_encoding, describe, is_blank, safe_text, with_encoding
from .markdown_tables import markdown_table
from .office_package import core_properties
from .results import ParsedRecord, ParseOptions, ParseResult, Rejected
from .titles import looks_like_title, normalise_title

__all__ = ["cell_text", "parse_csv", "parse_xlsx"]

XLSX, CSV = "xlsx", "csv"
# CSV: the delimiters the sniffer may choose from, the one used when it cannot tell, and how
# much of the file it looks at.
CSV_DELIMITERS = ",;\t|"
DEFAULT_CSV_DELIMITER = ","
SNIFF_CHARS = 16_384
SIGNIFICANT_DIGITS = 15  # what Excel shows of a number
_MIDNIGHT = datetime.time(0, 0)


@dataclass(frozen=True)
class _Part:
    """A part of a table: the header, up to ``max_sheet_rows`` data rows, their source row numbers."""

    header: list[str]
    rows: list[list[str]]
    header_row: int
    first_row: int | None
    last_row: int | None


class _Budget:
    """The row, cell and text bounds of one file, counted as rows stream in."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.data_rows = 0
        self.cells = 0
        self.chars = 0

    def scanned(self, where: str, row_number: int) -> None:
        """Reject a sheet that makes the reader go past ``MAX_SPREADSHEET_SCANNED_ROWS`` rows."""
        if row_number > office_safety.MAX_SPREADSHEET_SCANNED_ROWS:
            raise Rejected(
                "too_large",
                f"{where} goes past row {office_safety.MAX_SPREADSHEET_SCANNED_ROWS} "
                "(the limit of rows read from one sheet)",
            )

    def add_row(self, where: str, width: int, chars: int, is_data: bool) -> None:
        """Count one non-empty row of ``width`` cells and ``chars`` characters."""
        self.cells += width
        self.chars += chars
        self.data_rows += is_data
        if self.data_rows > office_safety.MAX_SPREADSHEET_ROWS:
            raise Rejected(
                "too_large",
                f"{where}: the .{self.kind} file has more than {office_safety.MAX_SPREADSHEET_ROWS} data rows "
                "(the limit per file)",
            )
        if self.cells > office_safety.MAX_SPREADSHEET_CELLS:
            raise Rejected(
                "too_large",
                f"{where}: the .{self.kind} file has more than {office_safety.MAX_SPREADSHEET_CELLS} cells "
                "(the limit per file)",
            )
        office_safety.check_text_size(self.chars, self.kind)


def _trimmed(cells: list[str]) -> list[str]:
    """The cells without the empty ones at the end of the row."""
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _table_parts(rows: Iterable[tuple[int, list[str]]], max_rows: int, budget: _Budget, where: str) -> Iterator[_Part]:
    """Split ``(row number, cells)`` rows into parts: blank rows skipped, the first row the header."""
    header: list[str] | None = None
    header_row = 0
    buffered: list[list[str]] = []
    numbers: list[int] = []
    yielded = 0
    for number, raw in rows:
        cells = _trimmed([safe_text(cell).strip() for cell in raw])
        if not cells or all(is_blank(cell) for cell in cells):
            continue
        budget.add_row(where, len(raw), sum(len(cell) for cell in cells), header is not None)
        if header is None:
            header, header_row = cells, number
            continue
        buffered.append(cells)
        numbers.append(number)
        if len(buffered) == max_rows:
            yield _Part(header, buffered, header_row, numbers[0], numbers[-1])
            buffered, numbers = [], []
            yielded += 1
    if header is not None and (buffered or not yielded):  # a header without data rows is one part
        yield _Part(header, buffered, header_row, numbers[0] if numbers else None, numbers[-1] if numbers else None)


def _number_text(value: float) -> str:
    """A number as Excel shows it: at most 15 significant digits, no ``.0``, no float noise."""
    if not math.isfinite(value):
        return str(value)
    text = format(value, f".{SIGNIFICANT_DIGITS}g")
    return "0" if text == "-0" else text


def cell_text(value: Any, number_format: str = "General") -> str:
    """A spreadsheet value as displayed text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == _MIDNIGHT and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, (int, float)):
        if "%" in (number_format or ""):
            return _number_text(value * 100) + "%"
        return str(value) if isinstance(value, int) else _number_text(value)
    return str(value)


def _part_records(
    parts: list[_Part], key: str | None, heading: str | None, title: str | None, metadata: dict[str, Any]
) -> list[ParsedRecord]:
    """One record per part: ``key`` (``key#n`` when split; CSV: ``n``), the heading and the table."""
    records: list[ParsedRecord] = []
    for number, part in enumerate(parts, start=1):
        table = markdown_table(part.header, part.rows)
        text = f"# {heading}\n\n{table}" if heading else table
        if len(parts) == 1:
            record_key = key
        else:
            record_key = f"{key}#{number}" if key is not None else str(number)
        part_metadata = {
            **metadata,
            "header_row": part.header_row,
            "first_row": part.first_row,
            "last_row": part.last_row,
            "n_rows": len(part.rows),
            "part": number,
            "n_parts": len(parts),
        }
        records.append(ParsedRecord(record_key, title, safe_text(text), part_metadata))
    return records


def _sheet_rows(worksheet: Any, budget: _Budget, where: str) -> Iterator[tuple[int, list[str]]]:
    """``(row number, displayed cell texts)`` for each row of a read-only sheet, streamed."""
    worksheet.reset_dimensions()  # a forged <dimension> must not make openpyxl pad rows and columns
    for number, row in enumerate(worksheet.iter_rows(), start=1):
        budget.scanned(where, number)
        if row:
            yield number, [cell_text(cell.value, getattr(cell, "number_format", "General")) for cell in row]


def _sheet_title(core_title: str | None, sheet: str) -> str:
    """``<workbook title>: <sheet>`` when the workbook has a real title, else the sheet name."""
    return f"{core_title}: {sheet}" if core_title else sheet


class _UnsizedWorksheet(ReadOnlyWorksheet):
    """A read-only worksheet that does not read its ``<dimension>`` when it is opened.

    openpyxl looks for the dimension by parsing the sheet up to it; a sheet without one is parsed
    whole, however large, before the first row can be counted. The dimensions are not used here
    anyway (``_sheet_rows`` resets them).
    """

    def _get_size(self) -> None:
        """Nothing: the size is learnt while streaming."""


class _StreamingReader(ExcelReader):
    """openpyxl's workbook reader in read-only mode, its worksheets ``_UnsizedWorksheet`` s.

    Chart sheets (no cells) are left out. Mirrors ``ExcelReader.read_worksheets`` (openpyxl 3.1)
    for read-only mode; ``test_parsing_office`` covers the sheets it yields.
    """

    def read_worksheets(self) -> None:
        """Open each worksheet for streaming."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnsizedWorksheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def _load_workbook(content: bytes) -> Any:
    """An openpyxl workbook in read-only mode with cached formula values, or ``parse_error``."""
    try:
        reader = _StreamingReader(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
        reader.read()
        return reader.wb
    except Exception as exc:
        raise Rejected("parse_error", f"corrupt or unreadable .{XLSX} file: {describe(exc)}") from exc


def parse_xlsx(content: bytes, options: ParseOptions) -> ParseResult:
    """Excel: one Markdown-table record per non-empty sheet (split by ``max_sheet_rows``)."""
    with office_safety.open_package(content, XLSX) as archive:
        properties = core_properties(archive)
    core_title = normalise_title(properties.get("title", "")) or None
    if core_title is not None and not looks_like_title(core_title):
        core_title = None
    max_rows = max(1, options.max_sheet_rows)
    budget = _Budget(XLSX)
    records: list[ParsedRecord] = []
    workbook = _load_workbook(content)
    try:
        for index, worksheet in enumerate(workbook.worksheets):
            sheet = safe_text(str(worksheet.title))
            where = f"sheet {sheet!r}"
            try:
                parts = list(_table_parts(_sheet_rows(worksheet, budget, where), max_rows, budget, where))
            except Rejected:
                raise
            except Exception as exc:
                raise Rejected("parse_error", f"corrupt .{XLSX} file, {where}: {describe(exc)}") from exc
            metadata = {**properties, "sheet": sheet, "sheet_index": index, "sheet_state": worksheet.sheet_state}
            records.extend(_part_records(parts, sheet, sheet, _sheet_title(core_title, sheet), metadata))
        n_sheets = len(workbook.worksheets)
    finally:
        workbook.close()
    if not records:
        raise Rejected("empty_text", f"workbook has no non-empty sheet ({n_sheets} sheets)")
    return ParseResult(records)


def _sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text, from its first lines; ``DEFAULT_CSV_DELIMITER`` when unclear."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return DEFAULT_CSV_DELIMITER
    return delimiter if delimiter in CSV_DELIMITERS else DEFAULT_CSV_DELIMITER


def _csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of each CSV row (the line where the row starts)."""
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def parse_csv(content: bytes, options: ParseOptions) -> ParseResult:
    """CSV: one Markdown-table record (split by ``max_sheet_rows``); ``delimiter`` and encoding metadata."""
    decoded = decode_with_encoding(content, "CSV file")
    delimiter = _sniff_delimiter(decoded.text)
    reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    budget = _Budget(CSV)
    try:
        parts = list(_table_parts(_csv_rows(reader), max(1, options.max_sheet_rows), budget, "CSV file"))
    except csv.Error as exc:
        raise Rejected("parse_error", f"malformed CSV at line {reader.line_num}: {describe(exc)}") from exc
    if not parts:
        raise Rejected("empty_text", "CSV file has no non-empty row")
    records = _part_records(parts, None, None, None, {"delimiter": delimiter})
    return with_encoding(ParseResult(records), decoded)
