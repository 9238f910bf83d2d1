"""Office and CSV parsing (python_udfs/parsing: docx, pptx, spreadsheet, office_safety, markdown_tables).

Files are built in the tests with python-docx, python-pptx and openpyxl (the sample builders of
scripts/make_office_samples.py), or written as raw ZIP/XML where a hostile shape is needed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import random
import struct
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import docx
import openpyxl
import pptx
import pytest
from pptx.util import Inches

from python_udfs.chunking import markdown_headings
from python_udfs.cleaning import clean_text
from python_udfs.parsing import REASONS, ParseOptions, ParseResult, detect_file_type, office_safety, parse_document
from python_udfs.parsing.markdown_tables import markdown_table
from python_udfs.parsing.spreadsheet import cell_text

from conftest import PROJECT_ROOT


def _load_samples() -> ModuleType:
    """scripts/make_office_samples.py as a module (its builders make the sample files)."""
    path = PROJECT_ROOT / "scripts" / "make_office_samples.py"
    spec = importlib.util.spec_from_file_location("make_office_samples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAMPLES = _load_samples()


def parsed(path: str, content: bytes, options: ParseOptions | None = None) -> ParseResult:
    """``parse_document`` that must succeed."""
    result = parse_document(path, content, options or ParseOptions())
    assert result.reason is None, (result.reason, result.detail)
    assert result.records
    for record in result.records:
        json.dumps(record.metadata)  # always JSON-serialisable
    return result


def rejected(path: str, content: bytes, reason: str) -> str:
    """``parse_document`` that must fail with ``reason``; returns the detail."""
    result = parse_document(path, content)
    assert result.records == []
    assert (result.reason, result.detail) == (reason, result.detail), result.detail
    assert result.reason in REASONS and result.detail
    return result.detail


def saved(document: object) -> bytes:
    """The bytes of a python-docx document, python-pptx presentation or openpyxl workbook."""
    out = io.BytesIO()
    document.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def rezip(content: bytes, replace: dict[str, bytes]) -> bytes:
    """The ZIP package ``content`` with the members of ``replace`` written over (or added)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name not in replace:
                target.writestr(name, source.read(name))
        for name, blob in replace.items():
            target.writestr(name, blob)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Markdown tables and file types
# ---------------------------------------------------------------------------------------------


def test_markdown_table_escapes_cells_and_pads_rows() -> None:
    table = markdown_table(["Farm", "Fish | species"], [["Millbrook", "Nile\ntilapia"], ["Heron Point"]])
    assert table.split("\n") == [
        "| Farm | Fish \\| species |",
        "| --- | --- |",
        "| Millbrook | Nile<br>tilapia |",
        "| Heron Point |  |",
    ]
    assert markdown_table([], []) == ""
    assert markdown_table(["a"], [["1", "2"]]).split("\n")[0] == "| a |  |"  # widest row wins


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/Guide.DOCX", "docx"),
        ("deck.pptx", "pptx"),
        ("book.xlsx", "xlsx"),
        ("t.csv", "csv"),
        ("scan.png", "image"),
        ("scan.JPG", "image"),
        ("scan.jpeg", "image"),
        ("scan.tif", "image"),
        ("scan.tiff", "image"),
        ("old.doc", None),
        ("old.xls", None),
        ("old.ppt", None),
    ],
)
def test_office_file_types(path: str, expected: str | None) -> None:
    assert detect_file_type(path) == expected


@pytest.mark.parametrize("path", ["legacy.doc", "legacy.xls", "legacy.ppt"])
def test_legacy_office_formats_stay_unsupported(path: str) -> None:
    detail = rejected(path, office_safety.CFB_MAGIC + b"\x00" * 504, "unsupported_type")
    assert detail == f"unsupported file extension '.{path.rsplit('.', 1)[1]}'"


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("office/packing_room_procedures.docx", SAMPLES.docx_sample),
        ("office/harvest_briefing_2024.pptx", SAMPLES.pptx_sample),
        ("office/harvest_log_2024.xlsx", SAMPLES.xlsx_sample),
        ("office/water_tests_2024-03.csv", SAMPLES.csv_sample),
    ],
)
def test_round_trip_through_parse_document(name: str, build: Callable[[], bytes]) -> None:
    result = parsed(name, build())
    assert all(record.text == clean_text(record.text) for record in result.records), "already clean"


def test_sample_script_is_deterministic(tmp_path: Path) -> None:
    assert SAMPLES.main([str(tmp_path / "a")]) == 0
    assert SAMPLES.main([str(tmp_path / "b")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(SAMPLES.SAMPLES)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


# ---------------------------------------------------------------------------------------------
# Word
# ---------------------------------------------------------------------------------------------


def test_docx_markdown_structure() -> None:
    (record,) = parsed("p.docx", SAMPLES.docx_sample()).records
    text = record.text
    headings = [(h.level, h.title) for h in markdown_headings(text)]
    assert headings == [
        (1, "Packing Room Procedures"),
        (1, "Before the van arrives"),
        (1, "Receiving a delivery"),
        (2, "Harvest days"),
        (1, "Footnotes"),
    ]
    assert "- Clean gloves and hairnets for everyone in the room\n- Crates washed and stacked by farm\n" in text
    assert "1. Check the cutting time written on each crate.\n1. Move the crates" in text
    table = "| Farm | Greens harvest | Main crops |\n| --- | --- | --- |\n| Millbrook | Monday and Thursday |"
    assert table in text
    # body order: the table sits between its heading and the paragraph after it
    assert text.index("## Harvest days") < text.index(table) < text.index("Member boxes are packed")
    assert "on their harvest days.[^1]" in text
    assert text.endswith("# Footnotes\n\n[^1]: All greens must be in the walk-in cooler within two hours of cutting.")


def test_docx_core_properties_and_title() -> None:
    (record,) = parsed("p.docx", SAMPLES.docx_sample()).records
    assert record.title == "Packing Room Procedures"
    meta = record.metadata
    assert meta["author"] == "Marguerite Obi"
    assert meta["keywords"] == "packing, cooler, harvest days"
    assert meta["last_modified_by"] == "Helen Marchetti"
    assert meta["created"] == "2024-03-04T09:00:00Z" and meta["modified"] == "2024-03-11T16:30:00Z"
    assert meta["revision"] == "3" and meta["subject"] == "Harvest and Distribution"


def test_docx_title_falls_back_to_first_heading_and_merged_cells_align() -> None:
    document = docx.Document()
    document.core_properties.title = "Untitled"  # a placeholder, not a title
    document.add_paragraph("Fish room checks")
    document.add_heading("Copperfield fish room", level=2)
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Tanks"
    table.cell(0, 2).text = "Volume"
    table.cell(1, 0).text = "CF-1"
    table.cell(1, 2).text = "8 m³"
    table.cell(1, 1).merge(table.cell(2, 1)).text = "perch"
    (record,) = parsed("f.docx", saved(document)).records
    assert record.title == "Copperfield fish room"
    assert "| Tanks |  | Volume |\n| --- | --- | --- |\n| CF-1 | perch | 8 m³ |\n|  |  |  |" in record.text
    assert record.text.startswith("Fish room checks\n\n## Copperfield fish room")


def test_docx_without_text_is_empty() -> None:
    document = docx.Document()
    document.add_paragraph("   ")
    rejected("blank.docx", saved(document), "empty_text")


def test_docx_text_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_safety, "MAX_OFFICE_TEXT_CHARS", 100)
    document = docx.Document()
    for _ in range(10):
        document.add_paragraph("Greens are cut between 06:30 and 10:00 while the leaves are cool.")
    assert "exceeds 100 characters" in rejected("long.docx", saved(document), "too_large")


# ---------------------------------------------------------------------------------------------
# PowerPoint
# ---------------------------------------------------------------------------------------------


def test_pptx_one_section_per_slide_with_starts() -> None:
    (record,) = parsed("b.pptx", SAMPLES.pptx_sample()).records
    text, starts = record.text, record.metadata["slide_starts"]
    assert record.metadata["n_slides"] == 3 and len(starts) == 3
    assert [text[s:].split("\n", 1)[0] for s in starts] == [
        "# Harvest Briefing 2024",
        "# Greens harvest days",
        "# Slide 3",
    ]
    assert [h.start for h in markdown_headings(text)] == starts
    slides = [text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)])]
    assert "Brightwater Aquaponics Cooperative, Tannery Lane depot" in slides[0]
    assert "| Farm | Greens harvest | Main crops |\n| --- | --- | --- |\n| Millbrook |" in slides[1]
    # grouped shapes are read, in shape order
    assert "The van leaves each site at 10:15.\n\nGreens reach the cooler within two hours." in slides[2]
    assert slides[0].endswith("Notes:\nWelcome the new packing volunteers before starting.")
    assert slides[2].endswith("Notes:\nAsk the farm steward if the van is late.")
    assert record.title == "Harvest Briefing 2024" and record.metadata["author"] == "Marguerite Obi"


def test_pptx_title_from_first_slide_and_soft_breaks() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Heron Point\vchiller"
    slide.placeholders[1].text_frame.text = "Holds 11 to 15 °C\vin every raceway"
    (record,) = parsed("c.pptx", saved(presentation)).records
    assert record.title == "Heron Point chiller"
    assert record.text == "# Heron Point chiller\n\nHolds 11 to 15 °C\nin every raceway"


def test_pptx_without_text_is_empty() -> None:
    presentation = pptx.Presentation()
    presentation.slides.add_slide(presentation.slide_layouts[6])
    assert "no text" in rejected("blank.pptx", saved(presentation), "empty_text")
    rejected("none.pptx", saved(pptx.Presentation()), "empty_text")


def test_pptx_notes_slide_without_text_is_skipped() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Copperfield dosing"
    slide.notes_slide.notes_text_frame.text = ""
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1))
    box.text_frame.text = "trigger_below_ph = 6.5"
    (record,) = parsed("d.pptx", saved(presentation)).records
    assert record.text == "# Copperfield dosing\n\ntrigger_below_ph = 6.5"


# ---------------------------------------------------------------------------------------------
# Spreadsheets
# ---------------------------------------------------------------------------------------------


def test_xlsx_one_record_per_non_empty_sheet() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(SAMPLES.xlsx_sample()))
    workbook.create_sheet("Empty")
    workbook.create_sheet("Blank cells")["C3"] = "  "
    records = parsed("h.xlsx", saved(workbook)).records
    assert [r.record_key for r in records] == ["Harvest log", "Tanks"]
    log = records[0]
    assert log.title == "Harvest Log 2024: Harvest log"
    assert log.text.split("\n")[:4] == [
        "# Harvest log",
        "",
        "| Date | Farm | Crop | Weight (kg) | Share of target |",
        "| --- | --- | --- | --- | --- |",
    ]
    assert "| 2024-03-04 | Millbrook | Butterhead lettuce | 42.5 | 85% |" in log.text
    assert "| HP-1 | Heron Point | Rainbow trout |  |" in records[1].text
    assert log.metadata["sheet"] == "Harvest log" and log.metadata["n_rows"] == 4
    assert log.metadata["author"] == "Marguerite Obi"


def test_xlsx_header_is_first_non_empty_row_and_values_are_displayed() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Readings"
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = "Taken", "pH", "Ratio", "Chiller on"
    sheet.append([None, datetime(2024, 1, 9, 3, 40), 0.1 + 0.2, 1 / 3, True])
    sheet.append([None, date(2024, 1, 10), 7.0, 12, False])
    (record,) = parsed("r.xlsx", saved(workbook)).records
    assert record.record_key == "Readings" and record.title == "Readings"
    assert record.text == (
        "# Readings\n\n"
        "|  | Taken | pH | Ratio | Chiller on |\n"
        "| --- | --- | --- | --- | --- |\n"
        "|  | 2024-01-09T03:40:00 | 0.3 | 0.333333333333333 | TRUE |\n"
        "|  | 2024-01-10 | 7 | 12 | FALSE |"
    )
    assert record.metadata["header_row"] == 3 and (record.metadata["first_row"], record.metadata["last_row"]) == (4, 5)


def test_xlsx_formulas_show_cached_values() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Fish", "Feed (kg)"])
    workbook.active.append([21, "=A2*2"])
    content = saved(workbook)
    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>A2*2</f><v></v>" in sheet_xml
    with_cache = rezip(content, {"xl/worksheets/sheet1.xml": sheet_xml.replace(b"<v></v>", b"<v>42</v>")})
    (record,) = parsed("f.xlsx", with_cache).records
    assert record.text.endswith("| 21 | 42 |") and "A2*2" not in record.text


def test_sheet_over_max_rows_is_split_with_the_header_repeated() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Feed"
    workbook.active.append(["Tank", "Feed (kg)"])
    for number in range(1, 6):
        workbook.active.append([f"MB-{number}", number])
    records = parsed("s.xlsx", saved(workbook), ParseOptions(max_sheet_rows=2)).records
    assert [r.record_key for r in records] == ["Feed#1", "Feed#2", "Feed#3"]
    for record in records:
        assert record.text.startswith("# Feed\n\n| Tank | Feed (kg) |\n| --- | --- |\n")
        assert record.metadata["n_parts"] == 3
    assert records[2].text.endswith("| --- | --- |\n| MB-5 | 5 |")
    assert [(r.metadata["first_row"], r.metadata["last_row"]) for r in records] == [(2, 3), (4, 5), (6, 6)]


def test_workbook_without_data_is_empty() -> None:
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Second")
    assert "no non-empty sheet (2 sheets)" in rejected("e.xlsx", saved(workbook), "empty_text")


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(2.5e-7) == "2.5e-07"
    assert cell_text(1e20) == "1e+20"
    assert cell_text(-0.0) == "0"
    assert cell_text(0.125, "0.0%") == "12.5%"
    assert cell_text(datetime(2024, 3, 4)) == "2024-03-04"
    assert cell_text("#DIV/0!") == "#DIV/0!"


def _sheet_workbook(sheet_xml_chunks: Callable[[], object]) -> bytes:
    """A one-sheet workbook whose sheet XML is streamed from ``sheet_xml_chunks`` (bytes pieces)."""
    base = saved(openpyxl.Workbook())
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name in source.namelist():
            if name == "xl/worksheets/sheet1.xml":
                with target.open(name, "w", force_zip64=True) as member:
                    for chunk in sheet_xml_chunks():  # type: ignore[attr-defined]
                        member.write(chunk)
            else:
                target.writestr(name, source.read(name))
    return out.getvalue()


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def test_million_row_sheet_is_rejected_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The row cap, lowered to keep the test short: the work done is set by the cap, not the sheet.
    monkeypatch.setattr(office_safety, "MAX_SPREADSHEET_ROWS", 20_000)

    def chunks():  # 1,000,000 data rows (plus a header), 1,000 rows per chunk, and no <dimension>
        yield _SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row>'
        for block in range(1000):
            start = 2 + block * 1000
            yield b"".join(
                b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(start, start + 1000)
            )
        yield _SHEET_TAIL

    content = _sheet_workbook(chunks)
    began = time.monotonic()
    detail = rejected("big.xlsx", content, "too_large")
    assert "more than 20000 data rows" in detail
    assert time.monotonic() - began < 6, "streaming stops at the row cap"


def test_forged_dimension_and_row_gaps_stay_bounded() -> None:
    def forged():  # says A1:XFD1048576, holds three cells
        yield _SHEET_HEAD.replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>Tank</t></is></c></row>'
        yield b'<row r="2"><c r="A2" t="inlineStr"><is><t>CF-5</t></is></c></row>' + _SHEET_TAIL

    began = time.monotonic()
    (record,) = parsed("d.xlsx", _sheet_workbook(forged)).records
    assert record.text == "# Sheet\n\n| Tank |\n| --- |\n| CF-5 |"

    def gap():  # a row number far past Excel's last row
        yield _SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row>'
        yield b'<row r="99999999999"><c r="A99999999999"><v>2</v></c></row>' + _SHEET_TAIL

    assert "goes past row 1048576" in rejected("g.xlsx", _sheet_workbook(gap), "too_large")
    assert time.monotonic() - began < 8


def test_cell_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_safety, "MAX_SPREADSHEET_CELLS", 10)
    workbook = openpyxl.Workbook()
    for number in range(5):
        workbook.active.append([number, number, number])
    assert "more than 10 cells" in rejected("c.xlsx", saved(workbook), "too_large")


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def test_csv_semicolons_sniffed() -> None:
    (record,) = parsed("w.csv", SAMPLES.csv_sample()).records
    assert record.record_key is None and record.title is None
    assert record.metadata["delimiter"] == ";"
    assert record.text.split("\n")[:3] == [
        "| date | farm | tank | ph | nitrate_mg_l | temperature_°C |",
        "| --- | --- | --- | --- | --- | --- |",
        "| 2024-03-04 | Millbrook | MB-2 | 6.9 | 62 | 27.1 |",
    ]


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), ("|", "pipe"), (",", "comma")])
def test_csv_delimiters(delimiter: str, name: str) -> None:
    rows = [["farm", "fish", "note"], ["Millbrook", "tilapia", "fed at 07:00, 12:00"], ["Heron Point", "trout", "x"]]
    lines = [delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in row) for row in rows]
    (record,) = parsed(f"{name}.csv", "\r\n".join(lines).encode()).records
    assert record.metadata["delimiter"] == delimiter
    assert "| Millbrook | tilapia | fed at 07:00, 12:00 |" in record.text


def test_csv_legacy_encoding_quoted_newlines_and_fallback() -> None:
    content = 'Rôle,Notes\nSteward,"Opens Tannery Lane\nat 09:00"\nCafé helper,"a | b"\n'.encode("cp1252")
    (record,) = parsed("roles.csv", content).records
    assert record.metadata["encoding"] == "cp1252"
    assert record.text.split("\n") == [
        "| Rôle | Notes |",
        "| --- | --- |",
        "| Steward | Opens Tannery Lane<br>at 09:00 |",
        "| Café helper | a \\| b |",
    ]
    (single,) = parsed("one.csv", b"watercress\nkale\n").records  # no delimiter to sniff
    assert single.metadata["delimiter"] == "," and single.text.endswith("| kale |")


def test_csv_split_and_empty() -> None:
    content = "tank,kg\n" + "".join(f"HP-{n},{n}\n" for n in range(1, 6))
    records = parsed("s.csv", content.encode(), ParseOptions(max_sheet_rows=3)).records
    assert [r.record_key for r in records] == ["1", "2"]
    assert all(r.text.startswith("| tank | kg |\n| --- | --- |\n") for r in records)
    rejected("blank.csv", b" \n\n ", "empty_text")
    rejected("commas.csv", b",,,\n,,\n", "empty_text")


def test_csv_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office_safety, "MAX_SPREADSHEET_ROWS", 50)
    content = "n\n" + "".join(f"{n}\n" for n in range(100))
    assert "more than 50 data rows" in rejected("rows.csv", content.encode(), "too_large")


def test_csv_binary_is_rejected() -> None:
    result = parse_document("blob.csv", b"\x00\x01\x02PK\x03\x04" * 50)
    assert result.reason == "binary_content"


# ---------------------------------------------------------------------------------------------
# Hostile packages
# ---------------------------------------------------------------------------------------------

OOXML = ["docx", "pptx", "xlsx"]


def _valid(kind: str) -> bytes:
    return {"docx": SAMPLES.docx_sample, "pptx": SAMPLES.pptx_sample, "xlsx": SAMPLES.xlsx_sample}[kind]()


MAIN_PARTS = {"docx": "word/document.xml", "pptx": "ppt/slides/slide1.xml", "xlsx": "xl/worksheets/sheet1.xml"}


def _garbled(content: bytes, name: str) -> bytes:
    """``content`` with the compressed data of member ``name`` overwritten in the middle."""
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    name_length, extra_length = struct.unpack_from("<HH", content, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length + info.compress_size // 3
    return content[:start] + b"\xff" * 16 + content[start + 16 :]


def _flag_encrypted(content: bytes, name: str) -> bytes:
    """``content`` with member ``name`` marked encrypted (general-purpose flag bit 0) in both headers."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(name)
    data[info.header_offset + 6] |= 0x1
    directory = data.index(b"PK\x01\x02")
    while data[directory + 46 : directory + 46 + len(name)] != name.encode():
        directory = data.index(b"PK\x01\x02", directory + 4)
    data[directory + 8] |= 0x1
    return bytes(data)


def _fake_encrypted_ooxml() -> bytes:
    """What Office writes for a password-protected file: a CFB container with EncryptedInfo/EncryptedPackage.

    Only the parts the check reads are real: the CFB signature and header, and a directory
    sector naming the two streams (UTF-16LE), as msoffcrypto-tool would find them.
    """
    header = office_safety.CFB_MAGIC + b"\x00" * 16 + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + b"\x00" * 476
    names = ["Root Entry", "EncryptionInfo", "EncryptedPackage"]
    directory = b""
    for name in names:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        directory += raw.ljust(64, b"\x00") + struct.pack("<H", len(raw)) + b"\x02" + b"\x00" * 61
    return header + directory.ljust(512, b"\x00") + bytes(range(256)) * 8


@pytest.mark.parametrize("kind", OOXML)
def test_password_protected_office_file_is_encrypted(kind: str) -> None:
    detail = rejected(f"secret.{kind}", _fake_encrypted_ooxml(), "encrypted")
    assert "encrypted Office file" in detail


@pytest.mark.parametrize("kind", OOXML)
def test_other_ole2_file_is_a_legacy_format(kind: str) -> None:
    detail = rejected(f"renamed.{kind}", office_safety.CFB_MAGIC + b"\x00" * 1024, "unsupported_type")
    assert "legacy binary Office file" in detail


@pytest.mark.parametrize("kind", OOXML)
def test_corrupt_and_truncated_packages(kind: str) -> None:
    content = _valid(kind)
    assert "corrupt or truncated" in rejected(f"t.{kind}", content[: len(content) // 2], "parse_error")
    assert "no ZIP package signature" in rejected(f"n.{kind}", b"just some text, not a package", "parse_error")
    detail = rejected(f"g.{kind}", _garbled(content, MAIN_PARTS[kind]), "parse_error")
    assert detail.startswith((f"corrupt or unreadable .{kind} file: ", f"corrupt .{kind} file, sheet ")), detail
    no_types = io.BytesIO()
    with zipfile.ZipFile(no_types, "w") as package:
        package.writestr("word/document.xml", "<w:document/>")
    assert "[Content_Types].xml" in rejected(f"x.{kind}", no_types.getvalue(), "parse_error")


def test_wrong_package_under_an_office_name() -> None:
    detail = rejected("sheet-named.docx", SAMPLES.xlsx_sample(), "parse_error")
    assert "corrupt or unreadable .docx" in detail and "not a Word file" in detail


@pytest.mark.parametrize("kind", OOXML)
def test_fuzzed_packages_never_crash(kind: str) -> None:
    content = bytearray(_valid(kind))
    rng = random.Random(17)
    for _ in range(12):
        mutated = bytearray(content)
        for _ in range(8):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        result = parse_document(f"fuzz.{kind}", bytes(mutated))
        assert result.reason in (None, *REASONS)
        assert result.records or result.detail


def _zip_with(members: dict[str, bytes | int], level: int = 9) -> bytes:
    """A ZIP with [Content_Types].xml and ``members``; an int member is that many zero bytes, streamed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        for name, data in members.items():
            if isinstance(data, int):
                with package.open(name, "w", force_zip64=True) as member:
                    for _ in range(data // (1 << 20)):
                        member.write(bytes(1 << 20))
            else:
                package.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("kind", OOXML)
def test_zip_bomb_is_rejected_before_decompressing(kind: str) -> None:
    bomb = _zip_with({"word/document.xml": 300 << 20})  # 300 MiB of zeros
    assert len(bomb) < 1_000_000
    began = time.monotonic()
    detail = rejected(f"bomb.{kind}", bomb, "too_large")
    assert time.monotonic() - began < 1, "judged from the ZIP directory, not by inflating"
    assert "possible zip bomb" in detail and "word/document.xml" in detail


def test_compression_ratio_limit() -> None:
    bomb = _zip_with({"xl/worksheets/sheet1.xml": 40 << 20})  # 40 MiB of zeros: under the size limits
    detail = rejected("ratio.xlsx", bomb, "too_large")
    assert "expands" in detail and "times" in detail and f"the limit is {office_safety.MAX_COMPRESSION_RATIO}" in detail
    small = _zip_with({"xl/worksheets/sheet1.xml": 1 << 20})  # within RATIO_GRACE_BYTES: any ratio is fine
    assert parse_document("small.xlsx", small).reason == "parse_error"  # not a workbook, but no bomb


def test_zip_bomb_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    noise = random.Random(3).randbytes(300_000)  # incompressible: the ratio check stays out of the way
    monkeypatch.setattr(office_safety, "MAX_ZIP_MEMBER_BYTES", 200_000)
    assert "per part" in rejected("m.docx", _zip_with({"word/document.xml": noise}), "too_large")
    monkeypatch.setattr(office_safety, "MAX_ZIP_MEMBER_BYTES", 10**9)
    monkeypatch.setattr(office_safety, "MAX_ZIP_TOTAL_BYTES", 500_000)
    detail = rejected("t.pptx", _zip_with({"a.xml": noise, "b.xml": noise}), "too_large")
    assert "more than 500000 bytes" in detail
    monkeypatch.setattr(office_safety, "MAX_ZIP_MEMBERS", 3)
    many = _zip_with({f"p{n}.xml": b"<p/>" for n in range(5)})
    assert "6 parts; the limit is 3" in rejected("n.xlsx", many, "too_large")


@pytest.mark.parametrize("kind", OOXML)
def test_encrypted_zip_member_is_encrypted(kind: str) -> None:
    content = _flag_encrypted(_valid(kind), MAIN_PARTS[kind])
    assert f"ZIP member '{MAIN_PARTS[kind]}' is encrypted" in rejected(f"z.{kind}", content, "encrypted")
