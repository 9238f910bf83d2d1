"""Markdown blocks that are page furniture, not content: in-page tables of contents, terminal markup.

``remove_boilerplate(body)`` returns the body without them; everything else is kept byte for byte.

* A **table of contents** is a heading whose text is a TOC label ("Contents", "In this topic",
  ``boilerplate.TOC_LABELS``) followed, up to the next heading of the same or a higher level, only
  by lists whose every item is a link to an anchor of the page (``[Setup](#setup)`` or a reference
  link whose definition is ``#setup``) and by deeper headings grouping such lists; at least
  ``boilerplate.MIN_TOC_LINKS`` links. The heading and its lists are removed (reference
  definitions stay). Any other text under the heading keeps the whole section.
* **Terminal markup** is the HTML a documentation site uses to draw a terminal (termynal: a
  ``<div class="termy">`` around a console block, as in the FastAPI docs): the wrapper lines,
  the colouring tags inside (``<font color>``, ``<span style>``, ``<u>``, ``<b>``...), termynal's
  progress lines (``---> 100%``) and HTML entities become plain terminal text.
"""

from __future__ import annotations

import functools
import html
import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .boilerplate import MIN_TOC_LINKS, is_separator_text, is_toc_label

__all__ = ["remove_boilerplate", "remove_tables_of_contents", "remove_terminal_markup"]

# A line that may be a TOC heading (ATX, or the text line of a setext heading); markdown-it decides.
_TOC_HEADING_CANDIDATE = re.compile(
    r"^ {0,3}(?:#{1,6}[ \t]+)?(?:table of contents|contents|on this page|in this (?:article|topic|section)"
    r"|page contents|toc)[ \t]*:?[ \t]*#*[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# termynal's wrapper: <div class="termy"> (or "termynal", among other classes and attributes).
_TERMINAL_OPEN = re.compile(r"^[ \t]*<div\b[^>]*\bclass\s*=\s*[\"'][^\"']*\btermy(?:nal)?\b[^\"']*[\"'][^>]*>[ \t]*$")
_TERMINAL_CLOSE = re.compile(r"^[ \t]*</div>[ \t]*$")
# Inline tags a terminal-to-HTML converter colours text with (opening, with any attributes, or closing).
_COLOUR_TAG = re.compile(r"</?(?:font|span|u|b|i|strong|em)(?:\s[^<>]*)?>", re.IGNORECASE)
# termynal's animated progress bar: "---> 100%".
_PROGRESS_LINE = re.compile(r"^[ \t]*-+>[ \t]*\d+[ \t]*%[ \t]*$")
_LIST_OPEN = ("bullet_list_open", "ordered_list_open")
_LIST_CLOSE = ("bullet_list_close", "ordered_list_close")


@functools.lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """CommonMark, the grammar the chunker finds headings with."""
    return MarkdownIt("commonmark")


def _only_anchor_links(inline: Token) -> int | None:
    """The number of in-page links of a list item's text when it is made of nothing else, else None."""
    links = 0
    depth = 0
    anchored = False
    for child in inline.children or []:
        if child.type == "link_open":
            href = str(child.attrs.get("href") or "")
            anchored = href.startswith("#") and len(href) > 1
            if not anchored:
                return None
            depth += 1
            links += 1
        elif child.type == "link_close":
            depth -= 1
        elif depth == 0 and child.type not in ("softbreak", "hardbreak") and not is_separator_text(child.content):
            return None
    return links


def _toc_end(tokens: list[Token], start: int, level: int) -> tuple[int, int] | None:
    """(index of the first token after the section, its in-page links) when the section of the
    heading at ``tokens[start]`` is a table of contents, else None."""
    links = 0
    list_depth = 0
    index = start + 3  # heading_open, inline, heading_close
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and list_depth == 0:
            if int(token.tag[1:]) <= level:
                break
            index += 3  # a deeper heading grouping the entries
            continue
        if token.type in _LIST_OPEN:
            list_depth += 1
        elif token.type in _LIST_CLOSE:
            list_depth -= 1
        elif token.type == "inline":
            found = _only_anchor_links(token) if list_depth > 0 else None
            if found is None:
                return None
            links += found
        elif token.type not in ("list_item_open", "list_item_close", "paragraph_open", "paragraph_close"):
            return None  # a code block, a table, HTML...: content
        index += 1
    return (index, links) if links >= MIN_TOC_LINKS else None


def remove_tables_of_contents(body: str) -> str:
    """``body`` without its tables of contents (see the module docstring)."""
    if not _TOC_HEADING_CANDIDATE.search(body):
        return body  # the usual case: no parse needed
    tokens = _parser().parse(body, {})
    lines = body.split("\n")
    removed: list[tuple[int, int]] = []  # line ranges
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None or token.level != 0:
            continue
        if not is_toc_label(tokens[index + 1].content):
            continue
        found = _toc_end(tokens, index, int(token.tag[1:]))
        if found is None:
            continue
        end_index, _ = found
        end_token = next((t for t in tokens[end_index:] if t.map is not None), None)
        end_line = end_token.map[0] if end_token is not None and end_token.map is not None else len(lines)
        removed.append((token.map[0], end_line))
    if not removed:
        return body
    kept = []
    cursor = 0
    for first, last in removed:
        kept.extend(lines[cursor:first])
        cursor = max(cursor, last)
    kept.extend(lines[cursor:])
    return "\n".join(kept)


def _plain_terminal_line(line: str) -> str:
    """A line of a terminal drawing as the terminal showed it: colouring tags dropped, entities decoded."""
    return html.unescape(_COLOUR_TAG.sub("", line))


def remove_terminal_markup(body: str) -> str:
    """``body`` with every termynal block reduced to its terminal text (see the module docstring).

    A wrapper that is never closed by a ``</div>`` line is left as it is.
    """
    if "termy" not in body:
        return body
    lines = body.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        close = None
        if _TERMINAL_OPEN.match(line):
            close = next((j for j in range(index + 1, len(lines)) if _TERMINAL_CLOSE.match(lines[j])), None)
        if close is None:
            out.append(line)
            index += 1
            continue
        out.extend(_plain_terminal_line(inner) for inner in lines[index + 1 : close] if not _PROGRESS_LINE.match(inner))
        index = close + 1
    return "\n".join(out)


def remove_boilerplate(body: str) -> str:
    """``body`` without tables of contents and terminal markup."""
    return remove_terminal_markup(remove_tables_of_contents(body))
