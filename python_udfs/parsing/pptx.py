"""PowerPoint (.pptx): one Markdown section per slide.

Each slide is ``# <slide title>`` (``# Slide N`` when it has none), then the text of its shapes
in shape order (one block per shape; grouped shapes too), tables as Markdown tables (first row
as the header) and the speaker notes under a ``Notes:`` line. Slides are joined by a blank line;
``slide_starts`` gives the offset of each slide's ``#`` in the text (like the PDF's
``page_starts``: each slide is cleaned as the whole document will be, so the offsets stay exact).
Core properties become metadata; the title is the core title when it looks like one, else the
first slide's title. The package passes ``office_safety`` first.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

import pptx
from pptx.shapes.group import GroupShape

from ..cleaning import clean_text
from . import office_safety
from .common import describe, safe_text, single_document
from .markdown_tables import markdown_table
from .office_package import core_properties
from .results import ParseOptions, ParseResult, Rejected
from .titles import looks_like_title, normalise_title

__all__ = ["parse_pptx"]

KIND = "pptx"
NOTES_LABEL = "Notes:"
SLIDE_SEPARATOR = "\n\n"
_MAX_GROUP_DEPTH = 32  # groups nested deeper than this are not read


def _frame_text(text_frame: Any) -> str:
    """A text frame's paragraphs, one line each (PowerPoint's soft line breaks become newlines)."""
    lines = (paragraph.text.replace("\v", "\n").strip() for paragraph in text_frame.paragraphs)
    return "\n".join(line for line in lines if line)


def _table_markdown(table: Any) -> str:
    """A slide table as a Markdown table, the first row as the header."""
    rows = [[_frame_text(cell.text_frame) for cell in row.cells] for row in table.rows]
    if not rows or not any(cell for row in rows for cell in row):
        return ""
    return markdown_table(rows[0], rows[1:])


def _shapes(shapes: Iterable[Any], depth: int = 0) -> Iterator[Any]:
    """The shapes in order, the members of groups in place of the group."""
    for shape in shapes:
        if isinstance(shape, GroupShape):
            if depth < _MAX_GROUP_DEPTH:
                yield from _shapes(shape.shapes, depth + 1)
        else:
            yield shape


def _shape_text(shape: Any) -> str:
    """The text of one shape: its text frame, or its table as Markdown."""
    if getattr(shape, "has_table", False):
        return _table_markdown(shape.table)
    if getattr(shape, "has_text_frame", False):
        return _frame_text(shape.text_frame)
    return ""


def _slide_title(slide: Any) -> tuple[Any, str]:
    """The title placeholder of a slide and its text on one line ("" when there is none)."""
    shape = slide.shapes.title
    if shape is None or not shape.has_text_frame:
        return None, ""
    return shape, " ".join(shape.text_frame.text.split())


def _notes_text(slide: Any) -> str:
    """The speaker notes of a slide ("" without any); reading them never creates a notes slide."""
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return _frame_text(frame) if frame is not None else ""


def _slide_markdown(slide: Any, number: int) -> tuple[str, str, bool]:
    """The cleaned Markdown of one slide, its title ("" when it has none) and whether it holds any text."""
    title_shape, title = _slide_title(slide)
    blocks = ["# " + (title or f"Slide {number}")]
    for shape in _shapes(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        text = _shape_text(shape)
        if text:
            blocks.append(text)
    notes = _notes_text(slide)
    if notes:
        blocks.append(NOTES_LABEL + "\n" + notes)
    return clean_text(safe_text("\n\n".join(blocks))), title, bool(title) or len(blocks) > 1


def _slides_markdown(presentation: Any) -> tuple[str, list[int], list[str]]:
    """The slides joined by ``SLIDE_SEPARATOR``, the offset where each starts, and their titles.

    Rejects a presentation whose slides hold no text at all (``# Slide N`` headings alone) as
    ``empty_text``.
    """
    pieces: list[str] = []
    any_text = False
    starts: list[int] = []
    titles: list[str] = []
    offset = 0
    for number, slide in enumerate(presentation.slides, start=1):
        text, title, has_text = _slide_markdown(slide, number)
        any_text = any_text or has_text
        if pieces:
            offset += len(SLIDE_SEPARATOR)
        starts.append(offset)
        pieces.append(text)
        titles.append(title)
        offset += len(text)
        office_safety.check_text_size(offset, KIND)
    if not any_text:
        raise Rejected("empty_text", f"PowerPoint presentation has no text ({len(starts)} slides)")
    return SLIDE_SEPARATOR.join(pieces), starts, titles


def _pptx_title(properties: dict[str, str], slide_titles: list[str]) -> str | None:
    """The core title when it looks like a title, else the first slide title."""
    core = normalise_title(properties.get("title", ""))
    if core and looks_like_title(core):
        return core
    first = next((title for title in slide_titles if title), None)
    return normalise_title(first) if first else None


def parse_pptx(content: bytes, options: ParseOptions) -> ParseResult:
    """PowerPoint: a ``# title`` section per slide with text, tables and notes; ``slide_starts``."""
    with office_safety.open_package(content, KIND) as archive:
        properties = core_properties(archive)
    try:
        presentation = pptx.Presentation(io.BytesIO(content))
        text, starts, titles = _slides_markdown(presentation)
    except Rejected:
        raise
    except Exception as exc:
        raise Rejected("parse_error", f"corrupt or unreadable .{KIND} file: {describe(exc)}") from exc
    metadata: dict[str, Any] = {**properties, "n_slides": len(starts), "slide_starts": starts}
    return single_document(text, _pptx_title(properties, titles), metadata, "PowerPoint presentation has no text")
