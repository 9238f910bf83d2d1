#!/usr/bin/env python3
"""Write small, deterministic Office sample files (Brightwater Aquaponics Cooperative) into a folder.

Writes (re-running gives byte-identical files: fixed core-property dates, fixed ZIP timestamps):

* packing_room_procedures.docx - Title, headings, a bulleted and a numbered list, a table and a footnote
* harvest_briefing_2024.pptx   - 3 slides: a title slide, a table slide, a grouped-shapes slide; notes
* harvest_log_2024.xlsx        - 2 sheets: "Harvest log" (dates, numbers, percentages) and "Tanks"
* water_tests_2024-03.csv      - semicolon-delimited water-test readings, UTF-8 ("°C")

Usage:  .venv/bin/python scripts/make_office_samples.py OUTPUT_FOLDER

The builders (``docx_sample()`` ...) return the bytes; the parser tests use them too.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pptx
from docx.document import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from lxml import etree
from pptx.util import Inches

USAGE = "usage: .venv/bin/python scripts/make_office_samples.py OUTPUT_FOLDER"
CREATED = datetime(2024, 3, 4, 9, 0, 0)
MODIFIED = datetime(2024, 3, 11, 16, 30, 0)
ZIP_DATE = (2024, 3, 11, 16, 30, 0)
W3C_DATE = "%Y-%m-%dT%H:%M:%SZ"
CORE_PART = "docProps/core.xml"
MODIFIED_ELEMENT = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

HARVEST_DAYS = [
    ("Farm", "Greens harvest", "Main crops"),
    ("Millbrook", "Monday and Thursday", "Butterhead lettuce, Genovese basil, mint"),
    ("Heron Point", "Wednesday", "Watercress, curly kale, rocket"),
    ("Copperfield", "Friday", "Swiss chard, bok choy, microgreens"),
]


def deterministic_zip(data: bytes) -> bytes:
    """The same ZIP package with fixed member timestamps and attributes (byte-identical reruns).

    openpyxl stamps ``modified`` with the time of saving: the core properties get ``MODIFIED`` back.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            blob = source.read(member.filename)
            if member.filename == CORE_PART:
                blob = MODIFIED_ELEMENT.sub(rb"\g<1>" + MODIFIED.strftime(W3C_DATE).encode() + rb"\g<2>", blob)
            target.writestr(info, blob)
    return out.getvalue()


def _footnotes_xml(notes: dict[int, str]) -> bytes:
    """A footnotes part: Word's two separators (ids -1 and 0) and one footnote per ``notes`` item."""
    root = etree.Element(qn("w:footnotes"), nsmap={"w": W_NS})
    for note_id, kind in ((-1, "separator"), (0, "continuationSeparator")):
        note = etree.SubElement(root, qn("w:footnote"), {qn("w:type"): kind, qn("w:id"): str(note_id)})
        etree.SubElement(etree.SubElement(etree.SubElement(note, qn("w:p")), qn("w:r")), qn("w:separator"))
    for note_id, text in notes.items():
        note = etree.SubElement(root, qn("w:footnote"), {qn("w:id"): str(note_id)})
        paragraph = etree.SubElement(note, qn("w:p"))
        mark = etree.SubElement(paragraph, qn("w:r"))
        etree.SubElement(mark, qn("w:footnoteRef"))
        run = etree.SubElement(paragraph, qn("w:r"))
        etree.SubElement(run, qn("w:t"), {"{http://www.w3.org/XML/1998/namespace}space": "preserve"}).text = " " + text
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def add_footnotes(document: Document, notes: dict[int, str]) -> None:
    """Give a python-docx document a footnotes part (python-docx cannot write footnotes itself)."""
    part = Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, _footnotes_xml(notes), document.part.package)
    document.part.relate_to(part, RT.FOOTNOTES)


def add_footnote_reference(paragraph: Paragraph, note_id: int) -> None:
    """Append a ``w:footnoteReference`` run (superscript mark) to a paragraph."""
    run = paragraph.add_run()
    run.font.superscript = True
    reference = etree.SubElement(run._r, qn("w:footnoteReference"))
    reference.set(qn("w:id"), str(note_id))


def docx_sample() -> bytes:
    """A Word procedure with a Title, headings, lists, a table and a footnote."""
    document = docx.Document()
    props = document.core_properties
    props.title = "Packing Room Procedures"
    props.author = "Marguerite Obi"
    props.subject = "Harvest and Distribution"
    props.keywords = "packing, cooler, harvest days"
    props.last_modified_by = "Helen Marchetti"
    props.comments = "Summary for new packing-room volunteers"
    props.revision = 3
    props.created = CREATED
    props.modified = MODIFIED
    document.styles["Normal"].font.size = Pt(11)
    document.add_paragraph("Packing Room Procedures", style="Title")
    document.add_heading("Before the van arrives", level=1)
    intro = document.add_paragraph(
        "The packing room at the Tannery Lane depot receives greens from all three farms on their harvest days."
    )
    add_footnote_reference(intro, 1)
    document.add_paragraph("Clean gloves and hairnets for everyone in the room", style="List Bullet")
    document.add_paragraph("Crates washed and stacked by farm", style="List Bullet")
    document.add_paragraph("Walk-in cooler checked at 4 °C", style="List Bullet")
    document.add_heading("Receiving a delivery", level=1)
    document.add_paragraph("Check the cutting time written on each crate.", style="List Number")
    document.add_paragraph("Move the crates into the walk-in cooler.", style="List Number")
    document.add_paragraph("Record the delivery on the harvest sheet.", style="List Number")
    document.add_heading("Harvest days", level=2)
    table = document.add_table(rows=len(HARVEST_DAYS), cols=3)
    for row, values in zip(table.rows, HARVEST_DAYS):
        for cell, value in zip(row.cells, values):
            cell.text = value
    document.add_paragraph("Member boxes are packed on Friday afternoons and collected on Saturdays.")
    add_footnotes(document, {1: "All greens must be in the walk-in cooler within two hours of cutting."})
    out = io.BytesIO()
    document.save(out)
    return deterministic_zip(out.getvalue())


def pptx_sample() -> bytes:
    """A 3-slide briefing: a title slide, a table slide and a slide of grouped shapes, with notes."""
    presentation = pptx.Presentation()
    props = presentation.core_properties
    props.title = "Harvest Briefing 2024"
    props.author = "Marguerite Obi"
    props.subject = "Weekly harvest rhythm"
    props.comments = "Briefing for the packing-room volunteers"
    props.last_modified_by = "Marguerite Obi"
    props.revision = 2
    props.created = CREATED
    props.modified = MODIFIED

    first = presentation.slides.add_slide(presentation.slide_layouts[0])
    first.shapes.title.text = "Harvest Briefing 2024"
    first.placeholders[1].text = "Brightwater Aquaponics Cooperative, Tannery Lane depot"
    first.notes_slide.notes_text_frame.text = "Welcome the new packing volunteers before starting."

    second = presentation.slides.add_slide(presentation.slide_layouts[5])
    second.shapes.title.text = "Greens harvest days"
    frame = second.shapes.add_table(len(HARVEST_DAYS), 3, Inches(0.5), Inches(1.5), Inches(9), Inches(3))
    for row_index, values in enumerate(HARVEST_DAYS):
        for column, value in enumerate(values):
            frame.table.cell(row_index, column).text = value
    second.notes_slide.notes_text_frame.text = "Greens are cut between 06:30 and 10:00."

    third = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank: no title
    group = third.shapes.add_group_shape()
    for index, line in enumerate(("The van leaves each site at 10:15.", "Greens reach the cooler within two hours.")):
        box = group.shapes.add_textbox(Inches(1), Inches(1 + index), Inches(8), Inches(1))
        box.text_frame.text = line
    third.notes_slide.notes_text_frame.text = "Ask the farm steward if the van is late."
    out = io.BytesIO()
    presentation.save(out)
    return deterministic_zip(out.getvalue())


def xlsx_sample() -> bytes:
    """A workbook of two sheets: a harvest log (dates, weights, percentages) and the fish tanks."""
    workbook = openpyxl.Workbook()
    workbook.properties.title = "Harvest Log 2024"
    workbook.properties.creator = "Marguerite Obi"
    workbook.properties.lastModifiedBy = "Helen Marchetti"
    workbook.properties.created = CREATED
    workbook.properties.modified = MODIFIED
    log = workbook.active
    log.title = "Harvest log"
    log.append(["Date", "Farm", "Crop", "Weight (kg)", "Share of target"])
    rows = [
        (date(2024, 3, 4), "Millbrook", "Butterhead lettuce", 42.5, 0.85),
        (date(2024, 3, 6), "Heron Point", "Watercress", 18.2, 0.91),
        (date(2024, 3, 7), "Millbrook", "Genovese basil", 6.4, 0.8),
        (date(2024, 3, 8), "Copperfield", "Bok choy", 27.75, 1.11),
    ]
    for values in rows:
        log.append(list(values))
    for row in log.iter_rows(min_row=2):
        row[0].number_format = "yyyy-mm-dd"
        row[4].number_format = "0%"
    tanks = workbook.create_sheet("Tanks")
    tanks.append(["Tank", "Farm", "Species", "Volume (m³)"])
    tanks.append(["MB-1", "Millbrook", "Nile tilapia", 12])
    tanks.append(["HP-1", "Heron Point", "Rainbow trout", None])  # raceways: volume not recorded here
    tanks.append(["CF-1", "Copperfield", "Yellow perch", 8])
    out = io.BytesIO()
    workbook.save(out)
    return deterministic_zip(out.getvalue())


def csv_sample() -> bytes:
    """Water-test readings, semicolon-delimited, UTF-8."""
    lines = [
        "date;farm;tank;ph;nitrate_mg_l;temperature_°C",
        "2024-03-04;Millbrook;MB-2;6.9;62;27.1",
        "2024-03-04;Heron Point;HP-3;7.2;34;12.8",
        "2024-03-05;Copperfield;CF-1;6.6;45;22.4",
        '2024-03-05;Millbrook;MB-4;6.8;71;"26.5"',
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


SAMPLES = {
    "packing_room_procedures.docx": docx_sample,
    "harvest_briefing_2024.pptx": pptx_sample,
    "harvest_log_2024.xlsx": xlsx_sample,
    "water_tests_2024-03.csv": csv_sample,
}


def main(argv: list[str]) -> int:
    """Write every sample into the folder given as the only argument."""
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in SAMPLES.items():
        (folder / name).write_bytes(build())
        print(folder / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
