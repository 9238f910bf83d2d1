"""The chunks a split returns: measured alone, kept within the token limit, short ones merged.

``enforce_limit`` counts each chunk text on its own with the model's tokenizer and splits again
any chunk that tokenizes longer alone than in context; ``merge_short_chunks`` joins a chunk with
fewer than ``min_chunk_tokens`` word pieces to a neighbour when the joined text still fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tokens import ModelTokenizer
from .spans import TokenSpan, hard_split, strip_span

__all__ = ["Chunk", "enforce_limit", "merge_short_chunks"]

SpanWithSection = tuple[int, int, str | None]


@dataclass(frozen=True)
class Chunk:
    chunk_index: int
    start_char: int
    end_char: int
    text: str
    n_tokens: int
    section: str | None


def _numbered(chunks: list[Chunk]) -> list[Chunk]:
    return [Chunk(i, c.start_char, c.end_char, c.text, c.n_tokens, c.section) for i, c in enumerate(chunks)]


def enforce_limit(
    text: str,
    spans: list[SpanWithSection],
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
        retry: list[SpanWithSection] = []
        for (a, b, section), n_tokens in zip(pending, counts):
            if n_tokens <= max_tokens:
                chunks.append(Chunk(-1, a, b, text[a:b], n_tokens, section))
                continue
            piece = text[a:b]
            local = TokenSpan(piece, tokenizer)
            shrink = max(1, budget - (n_tokens - max_tokens) - 1)
            for x, y in hard_split(local, 0, len(piece), shrink, max_chars):
                x, y = strip_span(piece, x, y)
                if y > x:
                    retry.append((a + x, a + y, section))
        pending = retry
    # A re-split piece can fall wholly inside the next (overlapping) chunk: it adds no text.
    chunks.sort(key=lambda c: (c.start_char, -c.end_char))
    kept: list[Chunk] = []
    for chunk in chunks:
        if not kept or chunk.end_char > kept[-1].end_char:
            kept.append(chunk)
    return _numbered(kept)


def _joined(
    text: str, short: Chunk, neighbour: Chunk, tokenizer: ModelTokenizer, max_tokens: int, max_chars: int
) -> Chunk | None:
    """``short`` and ``neighbour`` as one chunk (the span covering both, the neighbour's section),
    or None when it would exceed ``max_tokens`` or ``max_chars``."""
    start = min(short.start_char, neighbour.start_char)
    end = max(short.end_char, neighbour.end_char)
    if end - start > max_chars:
        return None
    joined = text[start:end]
    n_tokens = tokenizer.count(joined)
    if n_tokens > max_tokens:
        return None
    return Chunk(-1, start, end, joined, n_tokens, neighbour.section)


def merge_short_chunks(
    text: str,
    chunks: list[Chunk],
    tokenizer: ModelTokenizer,
    min_chunk_tokens: int,
    max_tokens: int,
    max_chars: int,
) -> list[Chunk]:
    """Chunks where each chunk under ``min_chunk_tokens`` (special tokens included) is joined to a
    neighbour, the previous one if the joined text keeps ``n_tokens <= max_tokens``, else the
    next one; the joined chunk takes the neighbour's section. A joined chunk still short is joined
    again. A chunk no neighbour can take (both too long), and the only chunk of a short text, stay.

    Chunks are contiguous spans of ``text`` sorted by start and by end, so the join of two
    neighbours is the span from the first start to the last end, a span of ``text`` too.
    """
    if min_chunk_tokens <= 0 or len(chunks) < 2:
        return chunks
    items = list(chunks)
    index = 0
    while index < len(items):
        short = items[index]
        if short.n_tokens >= min_chunk_tokens or len(items) < 2:
            index += 1
            continue
        for neighbour in (i for i in (index - 1, index + 1) if 0 <= i < len(items)):
            joined = _joined(text, short, items[neighbour], tokenizer, max_tokens, max_chars)
            if joined is not None:
                first = min(index, neighbour)
                items[first : first + 2] = [joined]
                index = first
                break
        else:
            index += 1
    return _numbered(items)
