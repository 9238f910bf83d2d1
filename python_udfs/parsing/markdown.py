"""Markdown: YAML front matter becomes metadata; the body (markdown kept) is the text.

The title is the front matter ``title``, else the first top-level ATX ``# `` heading. Front
matter that cannot be read for sure (never closed, invalid YAML, too complex, a malformed
``access_groups``) quarantines the file as ``access_unparseable``: access control fails closed.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import limits
from .common import decode_with_encoding, one_line, single_document, with_encoding
from .markdown_boilerplate import remove_boilerplate
from .metadata import MetadataTooComplex, json_safe, normalise_access_groups
from .results import ACCESS_UNPARSEABLE, ParseOptions, ParseResult, Rejected

__all__ = ["parse_markdown"]

_FRONT_MATTER_OPEN = "---"
_FRONT_MATTER_CLOSE = ("---", "...")
# Skipped before looking for an opening fence: blank lines, spaces, tabs, zero-width characters.
_LEADING_BLANKS = " \t\r\n\u200b\u200c\u200d\u2060\ufeff"


# A line that may open an ATX level-1 heading; markdown-it decides whether it really does.
_H1_CANDIDATE = re.compile(r"^ {0,3}#(?:[ \t]|$)", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> MarkdownIt:
    """A CommonMark parser (the same grammar the chunker uses to find headings)."""
    return MarkdownIt("commonmark")


@functools.lru_cache(maxsize=1)
def _markdown_block_parser() -> MarkdownIt:
    """CommonMark block structure only (no inline parsing: several times faster)."""
    return MarkdownIt("commonmark").disable("inline")


def _split_front_matter(text: str) -> tuple[str, str] | None:
    """``(yaml_source, body)`` when ``text`` opens with front matter, None when it does not try to.

    Front matter is attempted when the first line that is not blank (spaces, tabs, zero-width
    characters) is ``---``: leading blank lines or spaces do not hide it. It ends at the first
    later line that is ``---`` or ``...`` (trailing spaces allowed). Raises
    ``Rejected("access_unparseable")`` when it is never closed: what it declares is unknown.
    """
    start = len(text) - len(text.lstrip(_LEADING_BLANKS))
    lines = text[start:].split("\n")
    if lines[0].rstrip() != _FRONT_MATTER_OPEN:
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in _FRONT_MATTER_CLOSE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :])
    raise Rejected(ACCESS_UNPARSEABLE, "front matter opened by '---' is never closed by a '---' or '...' line")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """What is wrong with the YAML and where, without the offending text (it may hold a secret)."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if not isinstance(problem, str):
        return type(exc).__name__
    where = f" (line {mark.line + 1}, column {mark.column + 1} of the front matter)" if mark is not None else ""
    return one_line(problem + where)[: limits.MAX_DETAIL_CHARS]


def _read_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``(metadata, body)`` of a markdown file; no front matter: no metadata, the whole text is the body.

    Fails closed: front matter that is never closed, is not valid YAML, is not a mapping or is too
    complex (``limits.MAX_METADATA_DEPTH``, ``limits.MAX_METADATA_NODES``: YAML alias bombs) may
    declare access groups nobody can read, so it raises ``Rejected("access_unparseable")`` and the
    file is quarantined instead of becoming a document without its access control.
    """
    split = _split_front_matter(text)
    if split is None:
        return {}, text
    source, body = split
    try:
        loaded = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise Rejected(ACCESS_UNPARSEABLE, f"front matter is not valid YAML: {_yaml_problem(exc)}") from exc
    except RecursionError as exc:
        raise Rejected(ACCESS_UNPARSEABLE, "front matter is nested too deeply to read") from exc
    if loaded is None:
        return {}, body
    if not isinstance(loaded, dict):
        raise Rejected(ACCESS_UNPARSEABLE, f"front matter is not a mapping (got {type(loaded).__name__})")
    try:
        metadata = json_safe(loaded)
    except MetadataTooComplex as exc:
        raise Rejected(ACCESS_UNPARSEABLE, f"front matter is too complex: {exc}") from exc
    return metadata, body


def _inline_plain_text(inline: Token) -> str:
    """The plain text of an inline token (emphasis, link and HTML markup dropped)."""
    parts = [child.content for child in inline.children or [] if child.type in ("text", "code_inline", "image")]
    if not inline.children:
        parts = [inline.content]
    return " ".join("".join(parts).split())


def _first_h1_in(tokens: list[Token]) -> str | None:
    """Plain text of the first non-empty top-level ATX ``# `` heading among block tokens."""
    for index, token in enumerate(tokens[:-1]):
        if token.type == "heading_open" and token.tag == "h1" and token.markup == "#" and token.level == 0:
            inline = _markdown_parser().parseInline(tokens[index + 1].content)
            title = _inline_plain_text(inline[0]) if inline else ""
            if title:
                return title
    return None


def _first_h1(markdown: str) -> str | None:
    """Text of the first top-level ATX ``# `` heading; code blocks and block quotes are skipped.

    Parsing a whole large document is slow, and block structure up to a line never depends on
    the lines after it, so only a prefix is parsed: up to the first line that looks like a
    heading, then (while none is a real heading, e.g. ``#`` comments in code) prefixes at least
    twice as long, each ending after a candidate line. The total work stays under about twice
    the length of the final prefix.
    """
    line_ends = [_line_end(markdown, m.start()) for m in _H1_CANDIDATE.finditer(markdown)]
    parser = _markdown_block_parser()
    parsed_to = 0
    while line_ends:
        target = max(line_ends[0], 2 * parsed_to)
        covered = bisect.bisect_right(line_ends, target)
        parsed_to = line_ends[covered - 1]
        title = _first_h1_in(parser.parse(markdown[:parsed_to]))
        if title is not None:
            return title
        line_ends = line_ends[covered:]
    return None


def _line_end(text: str, position: int) -> int:
    """Offset of the end of the line holding ``position`` (its newline or the end of text)."""
    end = text.find("\n", position)
    return len(text) if end < 0 else end


def parse_markdown(content: bytes, options: ParseOptions) -> ParseResult:
    """Markdown: front matter to metadata, the body (markdown kept; tables of contents and terminal
    markup removed, see ``markdown_boilerplate``) as text."""
    decoded = decode_with_encoding(content, "markdown file")
    metadata, body = _read_front_matter(decoded.text)
    body = remove_boilerplate(body)
    normalise_access_groups(metadata)
    title = metadata.get("title")
    if not isinstance(title, str) or not title.strip():
        title = _first_h1(body)
    else:
        title = " ".join(title.split())
    result = single_document(body, title, metadata, "markdown file has front matter but no body text")
    return with_encoding(result, decoded)
