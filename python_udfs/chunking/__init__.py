"""Chunking strategies that respect the embedding model's token limit.

Every chunk is a contiguous span of the document text: `text[start_char:end_char] == chunk_text`
(0-based, end exclusive, counted in Unicode code points, the same unit as DuckDB's `substring`).

Two methods:

* ``recursive``: split on paragraph, then line, then sentence, then word boundaries until every
  piece fits the token budget, pack pieces greedily into chunks, and start each chunk with up to
  ``overlap_tokens`` word pieces of the previous one (cut at a word boundary) (``spans``).
* ``markdown_sections``: one chunk per markdown section (heading path in ``section``), headings
  found by markdown-it-py so that ``#`` lines inside code fences are not headings; sections larger
  than the budget fall back to ``recursive`` inside the section (``sections``). A section that is
  only its heading (a heading followed directly by a sub-heading) joins the next section.

Markdown structure (headings, sections) is read in the texts of MARKDOWN_STRUCTURED_TYPES: markdown
files and the formats whose parser writes its text as Markdown (HTML, and the office formats).

Headings are attached to the text that follows them: in such a document no chunk of either
method ends with a heading line that has text after it (the heading moves to the next chunk).
Chunks under ``min_chunk_tokens`` are then joined to a neighbour when the joined text fits
``max_tokens`` (``chunks.merge_short_chunks``); a document shorter than that stays one chunk.

Token counts come from the model's own tokenizer and include the special tokens the model adds
([CLS]/[SEP]), so ``n_tokens <= max_tokens <= max_seq_length`` is what the model really sees. The
final counts are measured on each chunk text on its own, and a chunk that tokenizes longer alone
than in context is split again, so the limit holds exactly.
"""

from __future__ import annotations

from bisect import bisect_left

from ..tokens import ModelTokenizer
from .chunks import Chunk, SpanWithSection, enforce_limit, merge_short_chunks
from .sections import chunk_sections, markdown_headings, markdown_sections
from .spans import CHARS_PER_TOKEN_CAP, TokenSpan, recursive_spans

__all__ = [
    "CHARS_PER_TOKEN_CAP",
    "CHUNKER_VERSION",
    "MARKDOWN_STRUCTURED_TYPES",
    "METHODS",
    "Chunk",
    "chunk_text",
    "chunker_version",
    "markdown_sections",
]

METHODS = ("recursive", "markdown_sections")
# File types whose parsed text is Markdown (headings, lists, tables, code fences): their headings
# are found and `markdown_sections` splits them by section; other types are split recursively.
MARKDOWN_STRUCTURED_TYPES = ("markdown", "html", "docx", "pptx", "xlsx", "csv")

# Version of the chunk output, part of every chunk cache key (UDF `docvec_chunker_version`, macro
# chunk_split_requests): chunks cached under another version are never reused. Bump it in any
# change that alters what `chunk_text` returns for some input (offsets, text, n_tokens, section,
# chunk order), in this package or in tokens.py; tests/python/test_chunking.py holds the golden
# digest of the output for this version and fails until it is bumped and the new digest recorded.
# Comments, refactors and moves that keep the output identical need no bump.
# 2: headings attached to the text after them, heading-only sections joined to the next one,
#    chunks under min_chunk_tokens joined to a neighbour.
# 3: headings and sections in every type of MARKDOWN_STRUCTURED_TYPES (HTML, office formats), not
#    only in markdown.
CHUNKER_VERSION = "3"


def chunker_version() -> str:
    """CHUNKER_VERSION, for the `docvec_chunker_version` DuckDB UDF."""
    return CHUNKER_VERSION


def _checked_settings(
    tokenizer: ModelTokenizer, method: str, max_tokens: int, overlap_tokens: int | None, min_chunk_tokens: int | None
) -> tuple[int, int, int]:
    """(max_tokens capped at the model's limit, overlap_tokens, min_chunk_tokens); ValueError when invalid."""
    if method not in METHODS:
        raise ValueError(f"unknown chunking method {method!r}; expected one of {', '.join(METHODS)}")
    max_tokens = min(int(max_tokens), tokenizer.max_seq_length)
    budget = max_tokens - tokenizer.n_special_tokens
    if budget < 1:
        raise ValueError(f"max_tokens={max_tokens} leaves no room next to the model's special tokens")
    overlap = int(overlap_tokens or 0)
    if overlap < 0 or overlap >= budget:
        raise ValueError(f"overlap_tokens={overlap} must be >= 0 and < {budget} (the token budget)")
    minimum = int(min_chunk_tokens or 0)
    if minimum < 0 or minimum >= max_tokens:
        raise ValueError(f"min_chunk_tokens={minimum} must be >= 0 and < max_tokens ({max_tokens})")
    return max_tokens, overlap, minimum


def chunk_text(
    text: str,
    tokenizer: ModelTokenizer,
    *,
    method: str = "recursive",
    max_tokens: int = 256,
    overlap_tokens: int | None = 0,
    file_type: str | None = None,
    min_chunk_tokens: int | None = 0,
) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens` word pieces (special tokens included).

    `max_tokens` is capped at the model's maximum sequence length; `overlap_tokens` must be smaller
    than the budget; `min_chunk_tokens` (special tokens included; 0 or None: no merging) smaller
    than `max_tokens`. `markdown_sections` applies to the file types of MARKDOWN_STRUCTURED_TYPES;
    other file types get the recursive method with no section. Headings are recognised in those
    file types only.
    """
    max_tokens, overlap_tokens, min_chunk_tokens = _checked_settings(
        tokenizer, method, max_tokens, overlap_tokens, min_chunk_tokens
    )
    if not text or not text.strip():
        return []
    budget = max_tokens - tokenizer.n_special_tokens
    max_chars = budget * CHARS_PER_TOKEN_CAP
    span = TokenSpan(text, tokenizer)
    structured = file_type in MARKDOWN_STRUCTURED_TYPES
    headings = markdown_headings(text) if structured else []
    heading_lines = [(heading.start, heading.end) for heading in headings]
    spans: list[SpanWithSection] = []
    if method == "markdown_sections" and structured:
        heading_starts = [start for start, _ in heading_lines]
        for start, end, section in chunk_sections(text, headings):
            inside = heading_lines[bisect_left(heading_starts, start) : bisect_left(heading_starts, end)]
            for a, b in recursive_spans(span, start, end, budget, overlap_tokens, max_chars, inside):
                spans.append((a, b, section))
    else:
        pieces = recursive_spans(span, 0, len(text), budget, overlap_tokens, max_chars, heading_lines)
        spans = [(a, b, None) for a, b in pieces]
    chunks = enforce_limit(text, spans, tokenizer, max_tokens, max_chars)
    return merge_short_chunks(text, chunks, tokenizer, min_chunk_tokens, max_tokens, max_chars)
