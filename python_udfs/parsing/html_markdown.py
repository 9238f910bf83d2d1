"""The visible text of an HTML tree as Markdown, so that chunking finds its headings and sections.

* ``<h1>`` .. ``<h6>`` become ATX headings ``#`` .. ``######`` on a line of their own (a heading
  inside a list item stays text of the item);
* ``<ul>``/``<ol>`` items become ``- `` / ``1. `` lines, a nested list indented under its item
  (at most ``MAX_LIST_DEPTH`` levels deep; deeper lists are drawn at that depth);
* ``<table>`` becomes a Markdown table: the first row is the header, a cell's ``|`` is escaped
  (``\\|``) and its line breaks become ``<br>``, a cell with ``colspan="n"`` is followed by n - 1
  empty cells (n at most ``MAX_COLSPAN``); a caption, and text standing in the table outside any
  cell, come as a paragraph before it;
* ``<pre>`` (and ``textarea``, ``listing``, ``xmp``, ``plaintext``) becomes a fenced code block
  with its text unchanged, at the start of a line even inside a list item (indenting it would
  change the code); the language, when a ``language-X``/``lang-X`` class or a Sphinx
  ``highlight-X`` wrapper names one, is the fence's info string;
* paragraphs and other blocks are separated by a blank line, ``<br>`` and line-like elements
  (``li``, ``dt``, ``dd``, ``tr``...) by a newline; links, emphasis and inline code are their text.

Text that would start a Markdown block of its own at the start of a line (``# ``, a ``===`` or
``---`` line, a code fence, an HTML block such as ``<!--``) is escaped with a backslash, so the
only headings of the text are the page's headings and no code fence or HTML block hides them.
Scripts, styles, navigation, headers, footers, asides, forms, comments and ``hidden`` elements
are not text (``is_invisible``). Every walk is iterative and linear in the size of the tree, so
deep nesting and huge tables are fine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bs4.element import NavigableString, PreformattedString, Tag

__all__ = ["MAX_COLSPAN", "MAX_LIST_DEPTH", "is_invisible", "render_markdown"]

REMOVED_TAGS = frozenset(
    "script style noscript template nav header footer aside svg iframe form canvas object embed audio video".split()
)
# An <aside> with one of these roles or classes holds notes of the page (footnotes), not a sidebar.
NOTE_ROLES = frozenset(("doc-footnote", "doc-endnote", "doc-endnotes", "doc-footnotes"))
NOTE_CLASSES = frozenset(("footnote", "footnotes", "footnote-list", "endnotes"))
MAX_LIST_DEPTH = 10  # list levels that get their own indentation
MAX_COLSPAN = 100  # columns one table cell may span (browsers allow 1000; a bound on the output)
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_LISTS = frozenset(("ul", "ol", "menu", "dir"))
# Tags that end a paragraph (blank line) or a line (newline).
_PARAGRAPH_TAGS = frozenset(
    "address article blockquote body caption center details dialog div dl fieldset figcaption "
    "figure h1 h2 h3 h4 h5 h6 hgroup hr html main p section summary".split()
)
_LINE_TAGS = frozenset("dd dt legend li option tr".split())
_CELL_TAGS = frozenset(("td", "th"))
_PREFORMATTED_TAGS = frozenset(("pre", "textarea", "listing", "xmp", "plaintext"))
# Tags that break the one-line text of a heading or cell (``_flat_text``).
_FLAT_BREAK_TAGS = _PARAGRAPH_TAGS | _LINE_TAGS | _LISTS | _PREFORMATTED_TAGS | {"table"}
_HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")
# Text that opens a Markdown block at the start of a line: an ATX heading, a setext underline (the
# whole piece), a code fence, an HTML block that can run past a blank line (CommonMark types 1-5).
_BLOCK_START = re.compile(
    r"#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|[=-]+$|<(?:script|pre|style|textarea)(?:[\s>]|$)|<!--|<\?|<![A-Za-z]|<!\[CDATA\[",
    re.IGNORECASE,
)
_LANGUAGE_CLASS = re.compile(r"(?:language|lang|highlight)-([A-Za-z0-9_+#.-]{1,30})")
_NO_LANGUAGE = frozenset(("default", "none", "text", "plain"))
_CELL_BREAK = "<br>"


def _is_note(tag: Tag) -> bool:
    """An ``<aside>`` that holds the page's own notes (docutils and Sphinx render footnotes as
    ``<aside role="doc-footnote">`` in an ``<aside class="footnote-list">``), not a sidebar."""
    roles = str(tag.get("role") or "").lower().split()
    classes = tag.get("class")
    tokens = {str(token).lower() for token in (classes if isinstance(classes, list) else str(classes or "").split())}
    return bool(NOTE_ROLES.intersection(roles) or NOTE_CLASSES & tokens)


def is_invisible(tag: Tag) -> bool:
    """Elements whose content is not page text: scripts, navigation, sidebars, ``hidden`` elements...

    An ``<aside>`` of footnotes (``_is_note``) is text."""
    if tag.has_attr("hidden"):
        return True
    return tag.name in REMOVED_TAGS and not (tag.name == "aside" and _is_note(tag))


def _block_newlines(name: str) -> int:
    """Newlines around a tag: 2 for paragraph-like blocks, 1 for line-like ones, else 0."""
    if name in _PARAGRAPH_TAGS:
        return 2
    return 1 if name in _LINE_TAGS else 0


def _escaped(text: str) -> str:
    """``text`` with a backslash in front when, at the start of a line, it would open a Markdown block."""
    return "\\" + text if _BLOCK_START.match(text) else text


class _MarkdownWriter:
    """Accumulates Markdown: flowing text (spaces collapsed) and whole blocks (headings, code, tables).

    ``indent`` is written at the start of every line of flowing text (list continuation lines);
    a pending list ``marker`` replaces it on the next line that gets text.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pending_newlines = 0
        self._at_line_start = True
        self._marker: str | None = None
        self.indent = ""

    def _flush_newlines(self) -> None:
        if self._pending_newlines:
            self._parts.append("\n" * self._pending_newlines)
            self._pending_newlines = 0
            self._at_line_start = True

    def add_text(self, text: str) -> None:
        """Append flowing text; white space runs collapse to one space."""
        text = _HTML_SPACE.sub(" ", text)
        line_start = self._at_line_start or self._pending_newlines > 0
        if line_start or self._parts[-1].endswith(" "):
            text = text.lstrip(" ")
        if not text:
            return
        self._flush_newlines()
        if self._at_line_start:
            prefix = self._marker if self._marker is not None else self.indent
            self._marker = None
            if prefix:
                self._parts.append(prefix)
            text = _escaped(text)
        self._parts.append(text)
        self._at_line_start = False

    def add_block(self, block: str) -> None:
        """Append a block (heading, code fence, table) at the start of a line, blank lines around it."""
        if not block:
            return
        if self._parts:
            self._pending_newlines = 2
        self._flush_newlines()
        self._parts.append(block)
        self._pending_newlines = 2

    def end_block(self, newlines: int) -> None:
        """Request ``newlines`` (1: new line, 2: blank line) before the next text.

        Ignored while a list item has no text yet: its marker line was already requested."""
        if self._parts and self._marker is None:
            self._pending_newlines = max(self._pending_newlines, newlines)

    def line_break(self) -> None:
        """A ``<br>``: one more newline, at most a blank line."""
        if self._parts:
            self._pending_newlines = min(self._pending_newlines + 1, 2)

    def start_item(self, marker: str, first: bool) -> None:
        """A list item: its ``marker`` starts the next line with text (a new line; the list's
        first item keeps the blank line the list asked for)."""
        if first:
            self.end_block(1)
        elif self._parts:
            self._pending_newlines = 1
        self._marker = marker

    def end_item(self, indent: str) -> None:
        """The end of a list item: back to ``indent``, a new line, no pending marker."""
        self._marker = None
        self.indent = indent
        self.end_block(1)

    def text(self) -> str:
        """The Markdown, trailing spaces removed from every line."""
        lines = "".join(self._parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


def _flat_text(root: Tag, separator: str) -> str:
    """The text of ``root`` on one line: its line breaks (``<br>``, block boundaries, lines of a
    ``<pre>``) become ``separator``, white space collapses. Iterative."""
    segments: list[list[str]] = [[]]
    preformatted_depth = 0
    stack: list[tuple[Any, bool]] = [(child, False) for child in reversed(root.contents)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth -= 1
            if node.name in _CELL_TAGS:
                segments[-1].append(" ")
            elif node.name in _FLAT_BREAK_TAGS:
                segments.append([])
        elif isinstance(node, NavigableString):
            if isinstance(node, PreformattedString):  # comments, doctype, CDATA...
                continue
            if preformatted_depth:
                first, *rest = str(node).split("\n")
                segments[-1].append(first)
                segments.extend([line] for line in rest)
            else:
                segments[-1].append(str(node))
        elif isinstance(node, Tag) and not is_invisible(node):
            if node.name == "br":
                segments.append([])
                continue
            if node.name == "title":
                stack.extend((child, False) for child in reversed(node.contents) if isinstance(child, Tag))
                continue
            if node.name in _FLAT_BREAK_TAGS:
                segments.append([])
            elif node.name in _CELL_TAGS:
                segments[-1].append(" ")
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    lines = (" ".join("".join(segment).split()) for segment in segments)
    return separator.join(line for line in lines if line)


def _heading(tag: Tag) -> str:
    """``## Title`` for an ``<h2>``; empty when the heading has no text."""
    title = _flat_text(tag, " ")
    return f"{'#' * int(tag.name[1])} {title}" if title else ""


def _code_language(tag: Tag) -> str:
    """The language a ``language-X`` class (on the block or its ``<code>``) or a Sphinx
    ``highlight-X`` wrapper (up to two levels up) names; empty when none does."""
    candidates: list[Any] = [tag, tag.find("code", recursive=False), tag.parent]
    if isinstance(tag.parent, Tag):
        candidates.append(tag.parent.parent)
    for candidate in candidates:
        if not isinstance(candidate, Tag):
            continue
        classes = candidate.get("class")
        for token in classes if isinstance(classes, list) else str(classes or "").split():
            match = _LANGUAGE_CLASS.fullmatch(str(token))
            if match and match.group(1).lower() not in _NO_LANGUAGE:
                return match.group(1)
    return ""


def _fenced_code(tag: Tag) -> str:
    """A ``<pre>`` as a fenced code block, its text unchanged (the newline right after the start
    tag, which HTML ignores, and trailing white space aside); empty when it holds no text."""
    code = "".join(str(s) for s in tag.find_all(string=True) if not isinstance(s, PreformattedString))
    code = code.removeprefix("\r\n").removeprefix("\n").rstrip()
    if not code.strip():
        return ""
    longest = max((len(run) for run in re.findall("`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{_code_language(tag)}\n{code}\n{fence}"


def _colspan(cell: Tag) -> int:
    """The columns a cell spans: its ``colspan``, 1 when absent or invalid, at most MAX_COLSPAN."""
    value = str(cell.get("colspan") or "").strip()
    return min(int(value), MAX_COLSPAN) if value.isdigit() and int(value) > 0 else 1


def _cell_text(cell: Tag) -> str:
    """A cell's text on one line, line breaks as ``<br>`` and ``|`` escaped."""
    return _flat_text(cell, _CELL_BREAK).replace("|", "\\|")


@dataclass
class _Table:
    """The rows (cell texts) of one table and the text around them (captions, stray text)."""

    rows: list[list[str]]
    notes: list[str]


def _read_table(table: Tag) -> _Table:
    """Rows and cells of ``table`` (a table nested in a cell is part of the cell's text; a
    ``<tr>`` in a wrapper other than thead/tbody/tfoot still counts). Iterative."""
    read = _Table([], [])
    loose_row: int | None = None  # the row of cells that stand outside any <tr>
    stack: list[tuple[Any, int | None]] = [(child, None) for child in reversed(table.contents)]
    while stack:
        node, row = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString) and node.strip():
                read.notes.append(" ".join(node.split()))
            continue
        if not isinstance(node, Tag) or is_invisible(node):
            continue
        if node.name == "caption":
            read.notes.append(_flat_text(node, " "))
        elif node.name in _CELL_TAGS:
            if row is None:
                if loose_row is None:
                    read.rows.append([])
                    loose_row = len(read.rows) - 1
                row = loose_row
            read.rows[row].extend([_cell_text(node)] + [""] * (_colspan(node) - 1))
        else:
            if node.name == "tr":
                read.rows.append([])
                row = len(read.rows) - 1
            stack.extend((child, row) for child in reversed(node.contents))
    return read


def _table_markdown(rows: list[list[str]]) -> str:
    """A Markdown table: the first row is the header, padded to the widest row; other rows as they are."""
    rows = [row for row in rows if row]
    if not any(cell for row in rows for cell in row):
        return ""
    width = max(len(row) for row in rows)
    header = rows[0] + [""] * (width - len(rows[0]))
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * width]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return "\n".join(lines)


@dataclass
class _ListState:
    """An open list: ordered or not, the next item's number, the indentation of its markers."""

    ordered: bool
    number: int
    indent: str
    items: int = 0


def _list_start(tag: Tag) -> int:
    """The first number of an ordered list (its ``start``, at most 9 digits), else 1."""
    value = str(tag.get("start") or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else 1


def _open_list(tag: Tag, writer: _MarkdownWriter, lists: list[_ListState]) -> None:
    indent = writer.indent if len(lists) < MAX_LIST_DEPTH else lists[-1].indent
    writer.end_block(1 if lists else 2)
    lists.append(_ListState(tag.name == "ol", _list_start(tag), indent))


def _open_item(writer: _MarkdownWriter, lists: list[_ListState], saved_indents: list[str]) -> None:
    state = lists[-1] if lists else _ListState(False, 1, writer.indent)
    marker = f"{state.number}. " if state.ordered else "- "
    state.number += 1
    saved_indents.append(writer.indent)
    writer.start_item(state.indent + marker, first=state.items == 0)
    state.items += 1
    writer.indent = state.indent + " " * len(marker)


def _add_table(table: Tag, writer: _MarkdownWriter) -> None:
    read = _read_table(table)
    for note in read.notes:
        if note:
            writer.add_block(_escaped(note))
    writer.add_block(_table_markdown(read.rows))


def render_markdown(root: Tag) -> str:
    """The visible text of ``root`` as Markdown (see the module docstring); iterative.

    ``<title>`` loses only its own text: with an unclosed ``<title>``, html.parser nests the
    rest of the document inside it, and that content must survive.
    """
    writer = _MarkdownWriter()
    lists: list[_ListState] = []
    saved_indents: list[str] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.name in _LISTS:
                lists.pop()
                writer.end_block(1 if lists else 2)
            elif node.name == "li":
                writer.end_item(saved_indents.pop())
            else:
                if node.name in _CELL_TAGS:
                    writer.add_text(" ")
                writer.end_block(_block_newlines(node.name))
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA...
                writer.add_text(str(node))
            continue
        if not isinstance(node, Tag) or is_invisible(node):
            continue
        name = node.name
        if name == "br":
            writer.line_break()
            continue
        if name == "title":
            stack.extend((child, False) for child in reversed(node.contents) if isinstance(child, Tag))
            continue
        if name in _HEADINGS and not lists:
            writer.add_block(_heading(node))
            continue
        if name in _PREFORMATTED_TAGS:
            writer.add_block(_fenced_code(node))
            continue
        if name == "table":
            _add_table(node, writer)
            continue
        if name in _LISTS:
            _open_list(node, writer, lists)
        elif name == "li":
            _open_item(writer, lists, saved_indents)
        else:
            writer.end_block(_block_newlines(name))
            if name in _CELL_TAGS:
                writer.add_text(" ")  # cells outside a table stay on one line, space separated
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return writer.text()
