"""Word (.docx): the body as Markdown, paragraphs and tables in document order.

* Headings (``Title`` and ``Heading 1`` .. ``Heading 6`` styles, or styles based on them) become
  ``#`` .. ``######`` lines, so that the ``markdown_sections`` chunker finds them.
* List paragraphs (numbering on the paragraph or its style) become ``- item`` or ``1. item``
  (from the level's number format), indented two spaces per level.
* Tables become Markdown tables, the first row as the header (``markdown_tables``); merged cells
  keep the columns aligned (the covered cells are empty).
* Footnotes: the reference stays where it is as ``[^n]`` (numbered in the order of first
  reference) and the notes follow at the end under ``# Footnotes`` as ``[^n]: text`` lines.
* Text boxes, headers, footers, comments and deleted (tracked) text are left out.

The core properties (title, author, subject, keywords, created, modified, last_modified_by...)
become metadata (``office_package``). The title is the core title when it looks like one, else
the first heading. The package passes ``office_safety`` first (encryption, corruption, zip bombs).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from lxml import etree

from . import office_safety
from .common import describe, single_document
from .markdown_tables import markdown_table
from .office_package import core_properties
from .results import ParseOptions, ParseResult, Rejected
from .titles import looks_like_title, normalise_title

__all__ = ["parse_docx"]

KIND = "docx"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _TR, _TC, _R, _SDT, _SDT_CONTENT = (f"{_W}{n}" for n in ("p", "tbl", "tr", "tc", "r", "sdt", "sdtContent"))
_VAL, _ID = f"{_W}val", f"{_W}id"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_HEADING_STYLE = re.compile(r"^heading\s*([1-6])$")
_TITLE_STYLE = "title"
_MAX_STYLE_DEPTH = 10  # basedOn chains longer than this (or cyclic) are not followed further
_NUMBERED_PREFIX = "1. "
_BULLET_PREFIX = "- "
_LIST_INDENT = "  "
_FOOTNOTES_HEADING = "# Footnotes"
# Footnotes of these types are the separator lines Word draws, not notes.
_SEPARATOR_TYPES = frozenset(("separator", "continuationSeparator", "continuationNotice"))
# A body paragraph that would read as a Markdown heading ("# of fish") gets its "#" escaped.
_LOOKS_LIKE_HEADING = re.compile(r"^#{1,6}(?=\s|$)")


@dataclass(frozen=True)
class _Style:
    """What a paragraph style says: its name (lower case), base style and numbering."""

    name: str
    based_on: str | None
    num_id: str | None
    level: int


@dataclass
class _Context:
    """The parts a body paragraph is read against, and the footnotes met so far."""

    styles: dict[str, _Style]
    numbering: dict[tuple[str, int], str]  # (numId, level) -> number format
    footnotes: dict[str, str]  # footnote id -> text
    footnote_numbers: dict[str, int] = field(default_factory=dict)


def _parse_part_xml(blob: bytes) -> Any:
    """The root element of a part's XML (no entities, no network)."""
    return etree.fromstring(blob, _PARSER)


def _related_blob(document: Any, reltype: str) -> bytes | None:
    """The bytes of the main document part's related part of type ``reltype``, if any."""
    for rel in document.part.rels.values():
        if rel.reltype == reltype and not rel.is_external:
            return bytes(rel.target_part.blob)
    return None


def _num_pr(ppr: Any) -> tuple[str | None, int]:
    """``(numId, level)`` of a ``w:pPr``'s numbering, ``(None, 0)`` without one."""
    if ppr is None:
        return None, 0
    num_pr = ppr.find(f"{_W}numPr")
    if num_pr is None:
        return None, 0
    num_id = num_pr.find(f"{_W}numId")
    level = num_pr.find(f"{_W}ilvl")
    level_value = level.get(_VAL, "0") if level is not None else "0"
    return (
        num_id.get(_VAL) if num_id is not None else None,
        int(level_value) if level_value.isdigit() else 0,
    )


def _read_styles(blob: bytes | None) -> dict[str, _Style]:
    """Paragraph styles by style id."""
    if blob is None:
        return {}
    styles: dict[str, _Style] = {}
    for style in _parse_part_xml(blob).iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId")
        if not style_id or style.get(f"{_W}type", "paragraph") != "paragraph":
            continue
        name = style.find(f"{_W}name")
        based_on = style.find(f"{_W}basedOn")
        num_id, level = _num_pr(style.find(f"{_W}pPr"))
        styles[style_id] = _Style(
            (name.get(_VAL, "") if name is not None else style_id).strip().lower(),
            based_on.get(_VAL) if based_on is not None else None,
            num_id,
            level,
        )
    return styles


def _read_numbering(blob: bytes | None) -> dict[tuple[str, int], str]:
    """The number format (``bullet``, ``decimal``...) of each (numId, level)."""
    if blob is None:
        return {}
    root = _parse_part_xml(blob)
    abstract: dict[str, dict[int, str]] = {}
    for definition in root.iter(f"{_W}abstractNum"):
        levels: dict[int, str] = {}
        for lvl in definition.iter(f"{_W}lvl"):
            number_format = lvl.find(f"{_W}numFmt")
            level = lvl.get(f"{_W}ilvl", "0")
            if number_format is not None and level.isdigit():
                levels[int(level)] = number_format.get(_VAL, "")
        abstract[definition.get(f"{_W}abstractNumId", "")] = levels
    formats: dict[tuple[str, int], str] = {}
    for num in root.iter(f"{_W}num"):
        ref = num.find(f"{_W}abstractNumId")
        levels = abstract.get(ref.get(_VAL, "") if ref is not None else "", {})
        for level, number_format in levels.items():
            formats[(num.get(f"{_W}numId", ""), level)] = number_format
    return formats


def _run_text(run: Any, context: _Context) -> str:
    """The text of one ``w:r``: text, tabs, line breaks and footnote references (``[^n]``)."""
    pieces: list[str] = []
    for child in run:
        tag = child.tag
        if tag == f"{_W}t":
            pieces.append(child.text or "")
        elif tag == f"{_W}tab":
            pieces.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            pieces.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            pieces.append("-")
        elif tag == f"{_W}footnoteReference":
            pieces.append(_footnote_marker(child.get(_ID, ""), context))
    return "".join(pieces)


def _footnote_marker(footnote_id: str, context: _Context) -> str:
    """``[^n]`` for a footnote reference, numbering footnotes in the order first referenced."""
    if footnote_id not in context.footnotes:
        return ""
    number = context.footnote_numbers.setdefault(footnote_id, len(context.footnote_numbers) + 1)
    return f"[^{number}]"


def _paragraph_text(paragraph: Any, context: _Context) -> str:
    """The text of a ``w:p``: its own runs (in hyperlinks, insertions, fields too), not text boxes'."""
    pieces: list[str] = []
    for run in paragraph.iter(_R):
        owner = run.getparent()
        while owner is not None and owner.tag != _P:
            owner = owner.getparent()
        if owner is paragraph:
            pieces.append(_run_text(run, context))
    return "".join(pieces)


def _style_chain(style_id: str | None, styles: dict[str, _Style]) -> Iterator[_Style]:
    """The paragraph's style, then the styles it is based on (bounded, cycle-safe)."""
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen and len(seen) < _MAX_STYLE_DEPTH:
        seen.add(style_id)
        style = styles[style_id]
        yield style
        style_id = style.based_on


def _heading_level(chain: list[_Style]) -> int | None:
    """1..6 for a Title or Heading style (or one based on them), else None."""
    for style in chain:
        if style.name == _TITLE_STYLE:
            return 1
        match = _HEADING_STYLE.match(style.name)
        if match:
            return int(match.group(1))
    return None


def _list_prefix(ppr: Any, chain: list[_Style], context: _Context) -> str | None:
    """``- `` or ``1. `` (indented by level) for a list paragraph, else None."""
    num_id, level = _num_pr(ppr)
    if num_id is None:
        for style in chain:
            if style.num_id is not None:
                num_id, level = style.num_id, style.level
                break
    if num_id is None or num_id == "0":
        return None
    number_format = context.numbering.get((num_id, level), "bullet")
    marker = _BULLET_PREFIX if number_format in ("bullet", "none", "") else _NUMBERED_PREFIX
    return _LIST_INDENT * min(level, 8) + marker


def _paragraph_block(paragraph: Any, context: _Context) -> tuple[str, str] | None:
    """``(kind, markdown)`` for a body paragraph (kind: heading, item, text); None when blank."""
    text = _paragraph_text(paragraph, context).strip()
    if not text:
        return None
    ppr = paragraph.find(f"{_W}pPr")
    style_ref = ppr.find(f"{_W}pStyle") if ppr is not None else None
    chain = list(_style_chain(style_ref.get(_VAL) if style_ref is not None else None, context.styles))
    level = _heading_level(chain)
    if level is not None:
        return "heading", "#" * level + " " + " ".join(text.split())
    prefix = _list_prefix(ppr, chain, context)
    if prefix is not None:
        return "item", prefix + " ".join(text.split())
    return "text", _LOOKS_LIKE_HEADING.sub(lambda m: "\\" + m.group(0), text)


def _cell_text(cell: Any, context: _Context) -> str:
    """A table cell's paragraphs (nested tables' too), one line each."""
    lines = (_paragraph_text(p, context).strip() for p in cell.iter(_P))
    return "\n".join(line for line in lines if line)


def _table_rows(table: Any, context: _Context) -> list[list[str]]:
    """The rows of a ``w:tbl`` as cell texts; a cell spanning n columns is followed by n-1 empty ones."""
    rows: list[list[str]] = []
    for row in table.findall(_TR):
        cells: list[str] = []
        for cell in row.findall(_TC):
            tc_pr = cell.find(f"{_W}tcPr")
            span = tc_pr.find(f"{_W}gridSpan") if tc_pr is not None else None
            merge = tc_pr.find(f"{_W}vMerge") if tc_pr is not None else None
            continued = merge is not None and merge.get(_VAL, "continue") == "continue"
            cells.append("" if continued else _cell_text(cell, context))
            span_value = span.get(_VAL, "1") if span is not None else "1"
            cells.extend([""] * (min(int(span_value), 64) - 1 if span_value.isdigit() else 0))
        rows.append(cells)
    return rows


def _table_block(table: Any, context: _Context) -> tuple[str, str] | None:
    """``("table", markdown)`` for a ``w:tbl`` (first row as header); None when it holds no text."""
    rows = _table_rows(table, context)
    if not any(cell for row in rows for cell in row):
        return None
    return "table", markdown_table(rows[0], rows[1:])


def _body_elements(container: Any) -> Iterator[Any]:
    """Paragraphs and tables of the body in order, those inside content controls too."""
    for child in container:
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from _body_elements(content)


def _read_footnotes(blob: bytes | None) -> dict[str, str]:
    """Footnote texts by id (separators left out), each on one line."""
    if blob is None:
        return {}
    notes: dict[str, str] = {}
    empty = _Context({}, {}, {})
    for note in _parse_part_xml(blob).iter(f"{_W}footnote"):
        if note.get(f"{_W}type") in _SEPARATOR_TYPES:
            continue
        text = " ".join(" ".join(_paragraph_text(p, empty).split()) for p in note.iter(_P)).strip()
        if text:
            notes[note.get(_ID, "")] = text
    return notes


def _join_blocks(blocks: list[tuple[str, str]]) -> str:
    """Blocks separated by a blank line; consecutive list items by a single newline (one list)."""
    pieces: list[str] = []
    previous = ""
    for kind, text in blocks:
        if pieces:
            pieces.append("\n" if kind == previous == "item" else "\n\n")
        pieces.append(text)
        previous = kind
    return "".join(pieces)


def _footnote_section(context: _Context) -> str:
    """``# Footnotes`` and a ``[^n]: text`` line per referenced footnote, or ""."""
    if not context.footnote_numbers:
        return ""
    lines = [f"[^{n}]: {context.footnotes[i]}" for i, n in context.footnote_numbers.items()]
    return _FOOTNOTES_HEADING + "\n\n" + "\n".join(lines)


def _document_markdown(document: Any, context: _Context) -> tuple[str, str | None]:
    """The body as Markdown and its first heading's text."""
    blocks: list[tuple[str, str]] = []
    size = 0
    first_heading: str | None = None
    for element in _body_elements(document.element.body):
        block = _paragraph_block(element, context) if element.tag == _P else _table_block(element, context)
        if block is None:
            continue
        if block[0] == "heading" and first_heading is None:
            first_heading = block[1].lstrip("#").strip()
        blocks.append(block)
        size += len(block[1])
        office_safety.check_text_size(size, KIND)
    footnotes = _footnote_section(context)
    if footnotes:
        blocks.append(("footnotes", footnotes))
    return _join_blocks(blocks), first_heading


def _docx_title(properties: dict[str, str], first_heading: str | None) -> str | None:
    """The core title when it looks like a title, else the first heading."""
    core = normalise_title(properties.get("title", ""))
    if core and looks_like_title(core):
        return core
    return normalise_title(first_heading) if first_heading else None


def parse_docx(content: bytes, options: ParseOptions) -> ParseResult:
    """Word: Markdown body (headings, lists, tables, footnotes); core properties as metadata."""
    with office_safety.open_package(content, KIND) as archive:
        properties = core_properties(archive)
    try:
        document = docx.Document(io.BytesIO(content))
        context = _Context(
            _read_styles(_related_blob(document, RT.STYLES)),
            _read_numbering(_related_blob(document, RT.NUMBERING)),
            _read_footnotes(_related_blob(document, RT.FOOTNOTES)),
        )
        text, first_heading = _document_markdown(document, context)
    except Rejected:
        raise
    except Exception as exc:
        raise Rejected("parse_error", f"corrupt or unreadable .{KIND} file: {describe(exc)}") from exc
    metadata: dict[str, Any] = dict(properties)
    return single_document(text, _docx_title(properties, first_heading), metadata, "Word document has no text")
