"""Chunking strategies that respect the embedding model's token limit.

Every chunk is a contiguous span of the document text: `text[start_char:end_char] == chunk_text`
(0-based, end exclusive, counted in Unicode code points, the same unit as DuckDB's `substring`).

Two methods:

* ``recursive``: split on paragraph, then line, then sentence, then word boundaries until every
  piece fits the token budget, pack pieces greedily into chunks, and start each chunk with up to
  ``overlap_tokens`` word pieces of the previous one (cut at a word boundary).
* ``markdown_sections``: one chunk per markdown section (heading path in ``section``), headings
  found by markdown-it-py so that ``#`` lines inside code fences are not headings; sections larger
  than the budget fall back to ``recursive`` inside the section.

Token counts come from the model's own tokenizer and include the special tokens the model adds
([CLS]/[SEP]), so ``n_tokens <= max_tokens <= max_seq_length`` is what the model really sees. The
final counts are measured on each chunk text on its own, and a chunk that tokenizes longer alone
than in context is split again, so the limit holds exactly.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from markdown_it import MarkdownIt

from .tokens import ModelTokenizer

METHODS = ("recursive", "markdown_sections")

# Version of the chunk output, part of every chunk cache key (UDF `docvec_chunker_version`, macro
# chunk_split_requests): chunks cached under another version are never reused. Bump it in any
# change that alters what `chunk_text` returns for some input (offsets, text, n_tokens, section,
# chunk order), here or in tokens.py; tests/python/test_chunking.py holds the golden digest of the
# output for this version and fails until it is bumped and the new digest recorded. Comments,
# refactors and moves that keep the output identical need no bump.
CHUNKER_VERSION = "1"


def chunker_version() -> str:
    """CHUNKER_VERSION, for the `docvec_chunker_version` DuckDB UDF."""
    return CHUNKER_VERSION


# Paragraph, line, sentence and word boundaries, coarsest first. A match ends a piece; the
# separator stays attached to the piece before it so that pieces cover the text with no gaps.
_SEPARATORS = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"(?<=[.!?;:。！？；])\s+|(?<=[。！？])"),
    re.compile(r"\s+"),
)
_WORD_START = re.compile(r"(?<=\s)\S")

# A word piece can stand for a very long run of characters ([UNK] for a 100+ character "word"),
# so chunks are also capped in characters per allowed token.
CHARS_PER_TOKEN_CAP = 16


@dataclass(frozen=True)
class Chunk:
    chunk_index: int
    start_char: int
    end_char: int
    text: str
    n_tokens: int
    section: str | None


class _Span:
    """Token positions of one document, to count word pieces inside any character span."""

    def __init__(self, text: str, tokenizer: ModelTokenizer):
        offsets = tokenizer.offsets(text)
        self.text = text
        self.starts = [s for s, _ in offsets]
        self.ends = [e for _, e in offsets]

    def count(self, start: int, end: int) -> int:
        """Word pieces lying wholly inside text[start:end] (special tokens excluded)."""
        return max(0, bisect_right(self.ends, end) - bisect_left(self.starts, start))

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        return bisect_left(self.starts, start), bisect_right(self.ends, end)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_at(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    pieces = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        if match.end() <= cursor or match.end() >= end:
            continue
        pieces.append((cursor, match.end()))
        cursor = match.end()
    pieces.append((cursor, end))
    return pieces


def _hard_split(span: _Span, start: int, end: int, budget: int, max_chars: int) -> list[tuple[int, int]]:
    """Split a span with no usable separator at word-piece boundaries (chars as a last resort)."""
    first, last = span.token_range(start, end)
    cuts = [start]
    count = 0
    for i in range(first, last):
        token_start, token_end = span.starts[i], span.ends[i]
        while token_start - cuts[-1] > max_chars:  # a long stretch the tokenizer skipped
            cuts.append(cuts[-1] + max_chars)
            count = 0
        if (count >= budget or token_end - cuts[-1] > max_chars) and token_start > cuts[-1]:
            cuts.append(token_start)
            count = 0
        while token_end - cuts[-1] > max_chars:  # one token wider than the character cap
            cuts.append(cuts[-1] + max_chars)
            count = 0
        count += 1
    while end - cuts[-1] > max_chars:
        cuts.append(cuts[-1] + max_chars)
    cuts.append(end)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _atoms(span: _Span, start: int, end: int, budget: int, max_chars: int, level: int = 0) -> list[tuple[int, int]]:
    """Pieces of text[start:end] that each fit the budget, split at the coarsest boundary possible."""
    if span.count(start, end) <= budget and end - start <= max_chars:
        return [(start, end)]
    if level >= len(_SEPARATORS):
        return _hard_split(span, start, end, budget, max_chars)
    pieces = _split_at(span.text, start, end, _SEPARATORS[level])
    out: list[tuple[int, int]] = []
    for piece_start, piece_end in pieces:
        out.extend(_atoms(span, piece_start, piece_end, budget, max_chars, level + 1))
    return out


def _overlap_start(span: _Span, prev_start: int, prev_end: int, overlap_tokens: int) -> int:
    """Where the next chunk starts so that it repeats <= overlap_tokens of the previous chunk."""
    if overlap_tokens <= 0:
        return prev_end
    first, last = span.token_range(prev_start, prev_end)
    if last - first <= 1:
        return prev_end
    i = max(first + 1, last - overlap_tokens)
    position = span.starts[i]
    # Do not start inside a word: move forward to the next word start within the chunk.
    if position > 0 and not span.text[position - 1].isspace():
        match = _WORD_START.search(span.text, position, prev_end)
        position = match.start() if match else prev_end
    return position


def _pack(
    span: _Span, atoms: list[tuple[int, int]], budget: int, overlap_tokens: int, max_chars: int
) -> list[tuple[int, int]]:
    """Greedily pack consecutive atoms into chunk spans, with token overlap between chunks."""
    chunks: list[tuple[int, int]] = []
    i = 0
    chunk_start = None
    while i < len(atoms):
        if chunk_start is None:
            chunk_start = atoms[i][0]
        chunk_end = atoms[i][1]
        j = i + 1
        while j < len(atoms):
            candidate_end = atoms[j][1]
            if span.count(chunk_start, candidate_end) > budget or candidate_end - chunk_start > max_chars:
                break
            chunk_end = candidate_end
            j += 1
        chunks.append((chunk_start, chunk_end))
        i = j
        if i >= len(atoms):
            break
        next_start = _overlap_start(span, chunk_start, chunk_end, overlap_tokens)
        next_end = atoms[i][1]
        if span.count(next_start, next_end) > budget or next_end - next_start > max_chars:
            next_start = atoms[i][0]  # the overlap does not fit beside the next piece
        chunk_start = next_start
    return chunks


def _recursive_spans(
    span: _Span, start: int, end: int, budget: int, overlap_tokens: int, max_chars: int
) -> list[tuple[int, int]]:
    start, end = _strip(span.text, start, end)
    if start >= end:
        return []
    atoms = _atoms(span, start, end, budget, max_chars)
    out = []
    for a, b in _pack(span, atoms, budget, overlap_tokens, max_chars):
        a, b = _strip(span.text, a, b)
        if b > a:
            out.append((a, b))
    return out


def markdown_sections(text: str) -> list[tuple[int, int, str | None]]:
    """(start, end, heading path) for each markdown section, the preamble having no heading path.

    Headings (ATX and setext) come from markdown-it-py's CommonMark parser, so a ``#`` line in a
    fenced code block is not a heading.
    """
    # markdown-it counts CRLF, CR and LF as line breaks; so must the line -> offset map.
    line_starts = [0]
    for match in re.finditer("\r\n|\r|\n", text):
        line_starts.append(match.end())
    tokens = MarkdownIt("commonmark").parse(text)
    headings: list[tuple[int, int, str]] = []  # (char offset, level, title)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            level = int(token.tag[1:])
            inline = tokens[index + 1]
            title = " ".join(inline.content.split()) if inline.type == "inline" else ""
            headings.append((line_starts[token.map[0]], level, title))
    sections: list[tuple[int, int, str | None]] = []
    if not headings or headings[0][0] > 0:
        sections.append((0, headings[0][0] if headings else len(text), None))
    path: list[tuple[int, str]] = []
    for number, (offset, level, title) in enumerate(headings):
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title or f"(untitled h{level})"))
        end = headings[number + 1][0] if number + 1 < len(headings) else len(text)
        sections.append((offset, end, " > ".join(t for _, t in path)))
    return sections


def _enforce_limit(
    text: str,
    spans: list[tuple[int, int, str | None]],
    tokenizer: ModelTokenizer,
    max_tokens: int,
    max_chars: int,
) -> list[Chunk]:
    """Measure each chunk alone; split again any chunk the tokenizer counts over the limit."""
    budget = max_tokens - tokenizer.n_special_tokens
    chunks: list[Chunk] = []
    pending = list(spans)
    while pending:
        counts = tokenizer.count_batch([text[a:b] for a, b, _ in pending])
        retry: list[tuple[int, int, str | None]] = []
        for (a, b, section), n_tokens in zip(pending, counts):
            if n_tokens <= max_tokens:
                chunks.append(Chunk(-1, a, b, text[a:b], n_tokens, section))
                continue
            piece = text[a:b]
            local = _Span(piece, tokenizer)
            shrink = max(1, budget - (n_tokens - max_tokens) - 1)
            for x, y in _hard_split(local, 0, len(piece), shrink, max_chars):
                x, y = _strip(piece, x, y)
                if y > x:
                    retry.append((a + x, a + y, section))
        pending = retry
    # A re-split piece can fall wholly inside the next (overlapping) chunk: it adds no text.
    chunks.sort(key=lambda c: (c.start_char, -c.end_char))
    kept: list[Chunk] = []
    for chunk in chunks:
        if not kept or chunk.end_char > kept[-1].end_char:
            kept.append(chunk)
    return [Chunk(i, c.start_char, c.end_char, c.text, c.n_tokens, c.section) for i, c in enumerate(kept)]


def chunk_text(
    text: str,
    tokenizer: ModelTokenizer,
    *,
    method: str = "recursive",
    max_tokens: int = 256,
    overlap_tokens: int = 0,
    file_type: str | None = None,
) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens` word pieces (special tokens included).

    `max_tokens` is capped at the model's maximum sequence length; `overlap_tokens` must be smaller
    than the budget. `markdown_sections` applies to markdown documents only; other file types get
    the recursive method with no section.
    """
    if method not in METHODS:
        raise ValueError(f"unknown chunking method {method!r}; expected one of {', '.join(METHODS)}")
    max_tokens = min(int(max_tokens), tokenizer.max_seq_length)
    budget = max_tokens - tokenizer.n_special_tokens
    if budget < 1:
        raise ValueError(f"max_tokens={max_tokens} leaves no room next to the model's special tokens")
    overlap_tokens = int(overlap_tokens or 0)
    if overlap_tokens < 0 or overlap_tokens >= budget:
        raise ValueError(f"overlap_tokens={overlap_tokens} must be >= 0 and < {budget} (the token budget)")
    if not text or not text.strip():
        return []
    max_chars = budget * CHARS_PER_TOKEN_CAP
    span = _Span(text, tokenizer)
    spans: list[tuple[int, int, str | None]] = []
    if method == "markdown_sections" and file_type == "markdown":
        for start, end, section in markdown_sections(text):
            for a, b in _recursive_spans(span, start, end, budget, overlap_tokens, max_chars):
                spans.append((a, b, section))
    else:
        spans = [(a, b, None) for a, b in _recursive_spans(span, 0, len(text), budget, overlap_tokens, max_chars)]
    return _enforce_limit(text, spans, tokenizer, max_tokens, max_chars)
