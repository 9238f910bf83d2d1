"""Markdown structure for chunking: heading lines and the sections they open.

Headings (ATX and setext) come from markdown-it-py's CommonMark parser, so a ``#`` line in a
fenced code block is not a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

__all__ = ["Heading", "Section", "chunk_sections", "markdown_headings", "markdown_sections"]

Section = tuple[int, int, str | None]  # (start, end, heading path); the preamble has no path


@dataclass(frozen=True)
class Heading:
    """One markdown heading: its lines ``text[start:end]`` (end: the start of the next line), level, title."""

    start: int
    end: int
    level: int
    title: str


def markdown_headings(text: str) -> list[Heading]:
    """Every heading of a markdown text, in order."""
    # markdown-it counts CRLF, CR and LF as line breaks; so must the line -> offset map.
    line_starts = [0]
    for match in re.finditer("\r\n|\r|\n", text):
        line_starts.append(match.end())
    tokens = MarkdownIt("commonmark").parse(text)
    headings: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            inline = tokens[index + 1]
            title = " ".join(inline.content.split()) if inline.type == "inline" else ""
            first, last = token.map
            end = line_starts[last] if last < len(line_starts) else len(text)
            headings.append(Heading(line_starts[first], end, int(token.tag[1:]), title))
    return headings


def markdown_sections(text: str, headings: list[Heading] | None = None) -> list[Section]:
    """(start, end, heading path) for each markdown section, the preamble having no heading path.

    Sections tile the text; each heading opens one. ``headings``: ``markdown_headings(text)``
    when already known.
    """
    if headings is None:
        headings = markdown_headings(text)
    sections: list[Section] = []
    if not headings or headings[0].start > 0:
        sections.append((0, headings[0].start if headings else len(text), None))
    path: list[tuple[int, str]] = []
    for number, heading in enumerate(headings):
        while path and path[-1][0] >= heading.level:
            path.pop()
        path.append((heading.level, heading.title or f"(untitled h{heading.level})"))
        end = headings[number + 1].start if number + 1 < len(headings) else len(text)
        sections.append((heading.start, end, " > ".join(t for _, t in path)))
    return sections


def chunk_sections(text: str, headings: list[Heading]) -> list[Section]:
    """The sections that are chunked: ``markdown_sections``, where a section that is its heading
    alone (a heading followed directly by another heading) joins the next section and takes its
    heading path. Heading-only sections at the end of the text join the section before them (or
    stay, when the whole text is headings)."""
    heading_ends = {heading.start: heading.end for heading in headings}
    out: list[Section] = []
    pending: Section | None = None  # heading-only sections waiting for a section with text
    for own_start, end, path in markdown_sections(text, headings):
        if path is None and not text[own_start:end].strip():
            continue  # a blank preamble
        start = pending[0] if pending is not None else own_start
        if path is not None and not text[heading_ends[own_start] : end].strip():
            pending = (start, end, path)
            continue
        pending = None
        out.append((start, end, path))
    if pending is not None:
        if out:
            out[-1] = (out[-1][0], pending[1], out[-1][2])
        else:
            out.append(pending)
    return out
