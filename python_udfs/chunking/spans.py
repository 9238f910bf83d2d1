"""Recursive splitting of a character span into pieces that fit a token budget, then chunks.

A span is split on paragraph, then line, then sentence, then word boundaries until every piece
("atom") fits the budget; atoms are packed greedily into chunks, each chunk starting with up to
``overlap_tokens`` word pieces of the previous one (cut at a word boundary). In markdown, a
heading is glued to the text after it before packing, so that no chunk ends with a heading.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Sequence

from ..tokens import ModelTokenizer

__all__ = ["CHARS_PER_TOKEN_CAP", "TokenSpan", "hard_split", "recursive_spans", "strip_span"]

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

Piece = tuple[int, int]


class TokenSpan:
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


def strip_span(text: str, start: int, end: int) -> Piece:
    """``(start, end)`` without the white space at either end."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_at(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[Piece]:
    pieces = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        if match.end() <= cursor or match.end() >= end:
            continue
        pieces.append((cursor, match.end()))
        cursor = match.end()
    pieces.append((cursor, end))
    return pieces


def hard_split(span: TokenSpan, start: int, end: int, budget: int, max_chars: int) -> list[Piece]:
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


def _atoms(span: TokenSpan, start: int, end: int, budget: int, max_chars: int, level: int = 0) -> list[Piece]:
    """Pieces of text[start:end] that each fit the budget, split at the coarsest boundary possible."""
    if span.count(start, end) <= budget and end - start <= max_chars:
        return [(start, end)]
    if level >= len(_SEPARATORS):
        return hard_split(span, start, end, budget, max_chars)
    pieces = _split_at(span.text, start, end, _SEPARATORS[level])
    out: list[Piece] = []
    for piece_start, piece_end in pieces:
        out.extend(_atoms(span, piece_start, piece_end, budget, max_chars, level + 1))
    return out


class _Headings:
    """The heading lines of a markdown text (character ranges), to tell heading-only pieces."""

    def __init__(self, text: str, headings: Sequence[Piece]):
        self.text = text
        self.ranges = sorted(headings)
        self.starts = [start for start, _ in self.ranges]

    def starts_inside(self, start: int, end: int) -> list[int]:
        """Heading starts strictly inside (start, end)."""
        return self.starts[bisect_right(self.starts, start) : bisect_left(self.starts, end)]

    def only_headings(self, start: int, end: int) -> bool:
        """Whether text[start:end] holds heading lines and white space only (and not only white space)."""
        start, end = strip_span(self.text, start, end)
        if start >= end:
            return False
        cursor = start
        while cursor < end:
            index = bisect_right(self.starts, cursor) - 1  # the last heading starting at or before cursor
            if index < 0 or self.ranges[index][1] <= cursor:
                return False  # cursor is outside every heading line
            cursor = self.ranges[index][1]
            while cursor < end and self.text[cursor].isspace():
                cursor += 1
        return True


def _split_at_headings(atoms: list[Piece], headings: _Headings) -> list[Piece]:
    """Atoms cut before every heading that starts inside one, so each heading starts an atom."""
    out: list[Piece] = []
    for start, end in atoms:
        for cut in headings.starts_inside(start, end):
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def _glue_headings(
    span: TokenSpan, atoms: list[Piece], headings: _Headings, budget: int, max_chars: int
) -> list[Piece]:
    """Atoms where each heading-only atom is joined to the text after it, so no chunk ends with a heading.

    When a heading and the whole next atom exceed the budget, the next atom is split finer (with
    the budget the heading leaves) and the heading joins its first piece. A heading that leaves no
    room, or that ends the span, stays on its own.
    """
    out: list[Piece] = []
    queue = deque(atoms)
    while queue:
        atom = queue.popleft()
        if not queue or not headings.only_headings(*atom):
            out.append(atom)
            continue
        following = queue.popleft()
        if span.count(atom[0], following[1]) <= budget and following[1] - atom[0] <= max_chars:
            queue.appendleft((atom[0], following[1]))  # checked again: it may still be headings only
            continue
        room = budget - span.count(atom[0], following[0])
        room_chars = max_chars - (following[0] - atom[0])
        if room < 1 or room_chars < 1:
            out.append(atom)
            queue.appendleft(following)
            continue
        pieces = _atoms(span, following[0], following[1], room, room_chars)
        queue.extendleft(reversed([(atom[0], pieces[0][1]), *pieces[1:]]))
    return out


def _overlap_start(span: TokenSpan, prev_start: int, prev_end: int, overlap_tokens: int) -> int:
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


def _pack(span: TokenSpan, atoms: list[Piece], budget: int, overlap_tokens: int, max_chars: int) -> list[Piece]:
    """Greedily pack consecutive atoms into chunk spans, with token overlap between chunks."""
    chunks: list[Piece] = []
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


def recursive_spans(
    span: TokenSpan,
    start: int,
    end: int,
    budget: int,
    overlap_tokens: int,
    max_chars: int,
    headings: Sequence[Piece] = (),
) -> list[Piece]:
    """Chunk spans of text[start:end], stripped, each within ``budget`` word pieces and ``max_chars``.

    ``headings``: character ranges of markdown heading lines; none of the chunks then ends with
    a heading that has text after it in the span.
    """
    start, end = strip_span(span.text, start, end)
    if start >= end:
        return []
    atoms = _atoms(span, start, end, budget, max_chars)
    if headings:
        known = _Headings(span.text, headings)
        atoms = _glue_headings(span, _split_at_headings(atoms, known), known, budget, max_chars)
    out = []
    for a, b in _pack(span, atoms, budget, overlap_tokens, max_chars):
        a, b = strip_span(span.text, a, b)
        if b > a:
            out.append((a, b))
    return out
