"""Tests for python_udfs.chunking: token limits, offsets, coverage, overlap and markdown sections."""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.chunking import (  # noqa: E402
    CHARS_PER_TOKEN_CAP,
    CHUNKER_VERSION,
    MARKDOWN_STRUCTURED_TYPES,
    METHODS,
    Chunk,
    chunk_text,
    chunker_version,
    markdown_sections,
)
from python_udfs.tokens import ModelTokenizer, load_tokenizer  # noqa: E402


@pytest.fixture(scope="session")
def tok() -> ModelTokenizer:
    return load_tokenizer()


def check_chunks(text: str, chunks: list[Chunk], tok: ModelTokenizer, max_tokens: int) -> None:
    """The invariants every chunking result must hold."""
    limit = min(max_tokens, tok.max_seq_length)
    max_chars = (limit - tok.n_special_tokens) * CHARS_PER_TOKEN_CAP
    if not text.strip():
        assert chunks == []
        return
    assert chunks, "a text with visible characters must give at least one chunk"
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
    counts = tok.count_batch([c.text for c in chunks])
    for chunk, count in zip(chunks, counts):
        assert 0 <= chunk.start_char < chunk.end_char <= len(text), chunk
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.text, chunk
        assert not chunk.text[0].isspace() and not chunk.text[-1].isspace(), chunk
        assert chunk.n_tokens == count, chunk
        assert chunk.n_tokens <= limit, chunk
        assert len(chunk.text) <= max_chars, (len(chunk.text), max_chars)
    starts = [c.start_char for c in chunks]
    assert starts == sorted(starts)
    # No text lost: every visible character lies in at least one chunk.
    covered = bytearray(len(text))
    for chunk in chunks:
        covered[chunk.start_char : chunk.end_char] = b"\x01" * (chunk.end_char - chunk.start_char)
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, f"{len(lost)} characters lost, first at {lost[0]}: {text[lost[0] : lost[0] + 20]!r}"


def chunked(text: str, tok: ModelTokenizer, max_tokens: int = 256, **kwargs) -> list[Chunk]:
    chunks = chunk_text(text, tok, max_tokens=max_tokens, **kwargs)
    check_chunks(text, chunks, tok, max_tokens)
    return chunks


def overlap_pieces(text: str, prev: Chunk, nxt: Chunk, tok: ModelTokenizer) -> int:
    """Word pieces the next chunk repeats from the previous one (0 when they do not overlap)."""
    if nxt.start_char >= prev.end_char:
        return 0
    return tok.count(text[nxt.start_char : prev.end_char]) - tok.n_special_tokens


WORDS = (
    "the quick brown fox jumps over a lazy dog while retrieval augmented generation systems "
    "split documents into chunks that respect token limits of sentence embedding models"
).split()


def prose(seed: int, n_paragraphs: int, words: tuple[int, int] = (20, 60)) -> str:
    """Deterministic multi-paragraph English-like text with sentences."""
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(n_paragraphs):
        sentences = []
        remaining = rng.randint(*words)
        while remaining > 0:
            n = min(remaining, rng.randint(5, 15))
            sentence = " ".join(rng.choice(WORDS) for _ in range(n))
            sentences.append(sentence[0].upper() + sentence[1:] + rng.choice(".!?"))
            remaining -= n
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


LONG_PROSE = prose(1, 30)


# ---------------------------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------------------------


def test_methods() -> None:
    assert METHODS == ("recursive", "markdown_sections")


@pytest.mark.parametrize("method", ["semantic", "", "Recursive", None])
def test_unknown_method_raises(tok: ModelTokenizer, method) -> None:
    with pytest.raises(ValueError, match="unknown chunking method"):
        chunk_text("some text", tok, method=method)


@pytest.mark.parametrize("max_tokens", [2, 1, 0, -5])
def test_max_tokens_without_room_raises(tok: ModelTokenizer, max_tokens: int) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        chunk_text("some text", tok, max_tokens=max_tokens)


def test_smallest_valid_max_tokens(tok: ModelTokenizer) -> None:
    text = "one two three four five"
    chunks = chunked(text, tok, max_tokens=3)
    assert [c.text for c in chunks] == text.split()
    assert all(c.n_tokens == 3 for c in chunks)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(10, 8), (10, 9), (10, 100), (10, -1), (1000, 254)])
def test_overlap_not_below_budget_raises(tok: ModelTokenizer, max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        chunk_text("some text", tok, max_tokens=max_tokens, overlap_tokens=overlap)


def test_largest_valid_overlap(tok: ModelTokenizer) -> None:
    chunked(LONG_PROSE, tok, max_tokens=10, overlap_tokens=7)
    chunked(LONG_PROSE, tok, max_tokens=1000, overlap_tokens=253)  # budget is 256 - 2 after capping


def test_invalid_arguments_raise_even_for_empty_text(tok: ModelTokenizer) -> None:
    with pytest.raises(ValueError):
        chunk_text("", tok, method="nope")
    with pytest.raises(ValueError):
        chunk_text("", tok, max_tokens=10, overlap_tokens=8)


def test_overlap_none_means_zero(tok: ModelTokenizer) -> None:
    text = prose(7, 10)
    assert chunk_text(text, tok, max_tokens=64, overlap_tokens=None) == chunk_text(
        text, tok, max_tokens=64, overlap_tokens=0
    )


def test_max_tokens_above_model_limit_is_capped(tok: ModelTokenizer) -> None:
    text = "word " * 3000
    capped = chunked(text, tok, max_tokens=10_000)
    assert max(c.n_tokens for c in capped) == 256
    assert capped == chunk_text(text, tok, max_tokens=256)


def test_max_tokens_is_used_fully_on_plain_words(tok: ModelTokenizer) -> None:
    chunks = chunked("word " * 1000, tok, max_tokens=50)
    # 1000 one-piece words, 48 per chunk: every chunk but the last is full.
    assert [c.n_tokens for c in chunks[:-1]] == [50] * (len(chunks) - 1)
    assert len(chunks) == -(-1000 // 48)


# ---------------------------------------------------------------------------------------------
# Edge cases
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \r\n", "\u3000\u00a0 "])
def test_empty_and_whitespace_give_no_chunks(tok: ModelTokenizer, text: str, method: str) -> None:
    assert chunk_text(text, tok, method=method, overlap_tokens=10, file_type="markdown") == []


def test_text_shorter_than_overlap_is_one_chunk(tok: ModelTokenizer) -> None:
    chunks = chunked("hi", tok, overlap_tokens=100)
    assert chunks == [Chunk(0, 0, 2, "hi", tok.count("hi"), None)]


def test_short_text_is_one_stripped_chunk(tok: ModelTokenizer) -> None:
    text = "\n\n   A short document.  \n"
    (chunk,) = chunked(text, tok)
    assert chunk.text == "A short document."
    assert chunk.start_char == text.index("A")
    assert chunk.section is None


def test_text_that_fits_is_one_chunk(tok: ModelTokenizer) -> None:
    text = prose(3, 3, words=(10, 20))
    assert tok.count(text) <= 256
    (chunk,) = chunked(text, tok, overlap_tokens=32)
    assert chunk.text == text


def test_giant_word_without_separators(tok: ModelTokenizer) -> None:
    text = "abcdefghij" * 2000
    chunks = chunked(text, tok, max_tokens=256)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == text  # no separators: chunks tile the text


def test_giant_word_without_separators_with_overlap(tok: ModelTokenizer) -> None:
    chunked("abcdefghij" * 2000, tok, max_tokens=64, overlap_tokens=16)


@pytest.mark.parametrize("overlap", [0, 20])
def test_words_without_punctuation(tok: ModelTokenizer, overlap: int) -> None:
    text = "word " * 5000
    chunks = chunked(text, tok, max_tokens=128, overlap_tokens=overlap)
    assert len(chunks) >= 5000 // 126
    assert all(c.text.split() and set(c.text.split()) == {"word"} for c in chunks)


def test_long_word_pieces_word_without_spaces(tok: ModelTokenizer) -> None:
    # Splits into many word pieces: must be cut at word-piece boundaries, under the limit.
    text = "antidisestablishmentarianism" * 300
    chunks = chunked(text, tok, max_tokens=32)
    assert len(chunks) > 1


def test_character_cap_on_a_huge_single_line(tok: ModelTokenizer) -> None:
    text = "x" * 300_000
    max_tokens = 256
    chunks = chunked(text, tok, max_tokens=max_tokens)
    cap = (max_tokens - 2) * CHARS_PER_TOKEN_CAP
    assert all(len(c.text) <= cap for c in chunks)
    assert len(chunks) >= 300_000 // cap
    assert "".join(c.text for c in chunks) == text


def test_character_cap_with_small_budget(tok: ModelTokenizer) -> None:
    text = "y" * 5_000 + " tail"
    chunks = chunked(text, tok, max_tokens=10)
    assert all(len(c.text) <= 8 * CHARS_PER_TOKEN_CAP for c in chunks)


@pytest.mark.parametrize("max_tokens", [8, 32, 256])
def test_cjk_without_spaces(tok: ModelTokenizer, max_tokens: int) -> None:
    sentence = "東京は日本の首都であり世界で最も人口の多い都市圏の一つです"
    with_punctuation = "。".join([sentence] * 80) + "。"
    no_punctuation = sentence * 80
    for text in (with_punctuation, no_punctuation):
        chunks = chunked(text, tok, max_tokens=max_tokens)
        assert len(chunks) > 1


def test_cjk_splits_after_full_stops(tok: ModelTokenizer) -> None:
    sentence = "東京は日本の首都です。"  # 11 characters, 11 word pieces
    text = sentence * 40
    chunks = chunked(text, tok, max_tokens=40)
    # Chunks of whole sentences: each ends with the ideographic full stop.
    assert all(c.text.endswith("。") for c in chunks)
    assert all(len(c.text) % len(sentence) == 0 for c in chunks)


def test_emoji_and_combining_characters(tok: ModelTokenizer) -> None:
    text = " ".join(["😀 café cafe\u0301 👍🏽 👨‍👩‍👧 🇫🇷 naïve"] * 200)
    chunks = chunked(text, tok, max_tokens=24, overlap_tokens=4)
    assert len(chunks) > 1


def test_emoji_only(tok: ModelTokenizer) -> None:
    chunked("😀" * 5000, tok, max_tokens=64)
    chunked("😀 " * 3000, tok, max_tokens=64, overlap_tokens=8)


def test_crlf_input(tok: ModelTokenizer) -> None:
    lf_text = prose(11, 12)
    crlf_text = lf_text.replace("\n", "\r\n")
    crlf_chunks = chunked(crlf_text, tok, max_tokens=64, overlap_tokens=8)
    lf_chunks = chunked(lf_text, tok, max_tokens=64, overlap_tokens=8)
    assert len(crlf_chunks) > 1
    # The line ending does not change where the text is cut.
    assert [c.text.replace("\r\n", "\n") for c in crlf_chunks] == [c.text for c in lf_chunks]


def test_lone_cr_lines(tok: ModelTokenizer) -> None:
    chunked(prose(12, 8).replace("\n", "\r"), tok, max_tokens=48)


def test_mixed_whitespace_separators(tok: ModelTokenizer) -> None:
    text = "alpha\tbeta\u00a0gamma\u3000delta\u2028epsilon\fzeta " * 300
    chunked(text, tok, max_tokens=20, overlap_tokens=3)


def test_deterministic(tok: ModelTokenizer) -> None:
    first = chunk_text(LONG_PROSE, tok, max_tokens=64, overlap_tokens=16)
    second = chunk_text(LONG_PROSE, tok, max_tokens=64, overlap_tokens=16)
    assert first == second


@pytest.mark.parametrize("seed", range(40))
def test_random_texts_hold_the_invariants(tok: ModelTokenizer, seed: int) -> None:
    rng = random.Random(seed)
    alphabet = list("abc de.\n\n,!?;:。世界😀\u0301\t#-") + [
        "hello ",
        "world. ",
        "\n\n",
        "```\n",
        "# H\n",
        "## Sub\n",
        "supercalifragilistic",
        "\r\n",
    ]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 600)))
    max_tokens = rng.choice([3, 4, 8, 16, 40, 300])
    budget = min(max_tokens, 256) - 2
    overlap = rng.randint(0, budget - 1)
    method = rng.choice(METHODS)
    chunked(text, tok, max_tokens=max_tokens, overlap_tokens=overlap, method=method, file_type="markdown")


# ---------------------------------------------------------------------------------------------
# Overlap and boundaries
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("max_tokens", "overlap"), [(64, 8), (128, 16), (256, 32)])
def test_consecutive_chunks_overlap(tok: ModelTokenizer, max_tokens: int, overlap: int) -> None:
    text = prose(5, 40, words=(10, 25))
    chunks = chunked(text, tok, max_tokens=max_tokens, overlap_tokens=overlap)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start_char < nxt.start_char < prev.end_char < nxt.end_char
        repeated = overlap_pieces(text, prev, nxt, tok)
        assert 0 < repeated <= overlap
        # The overlap starts at a word boundary, not inside a word.
        assert text[nxt.start_char - 1].isspace()


@pytest.mark.parametrize("seed", range(10))
def test_overlap_is_bounded_on_mixed_text(tok: ModelTokenizer, seed: int) -> None:
    rng = random.Random(100 + seed)
    pieces = ["hello ", "world. ", "don't ", "x-ray ", "supercalifragilistic ", "世界", "😀 ", "\n\n", ", "]
    text = "".join(rng.choice(pieces) for _ in range(400))
    max_tokens = rng.choice([10, 20, 40])
    overlap = rng.randint(1, max_tokens - 3)
    chunks = chunked(text, tok, max_tokens=max_tokens, overlap_tokens=overlap)
    for prev, nxt in zip(chunks, chunks[1:]):
        shared_end = min(prev.end_char, nxt.end_char)
        if nxt.start_char < shared_end:
            assert tok.count(text[nxt.start_char : shared_end]) - 2 <= overlap


# Found by fuzzing: the run "...ilisticthe..." is hard-split mid-word, and the packed chunk that
# starts with "ticthe" counts more word pieces alone than in context, so _enforce_limit splits it
# again; its tail piece "世界 hello" lies wholly inside the next (overlapping) chunk.
NESTING_TEXT = (
    "supercalifragilisticx-raydon'tsupercalifragilisticthe x-raysupercalifragilistic世界 a "
    "世界 hello the don'tx-ray世界 antidisestablishmentarianisma"
)


def test_every_chunk_adds_new_text(tok: ModelTokenizer) -> None:
    chunks = chunked(NESTING_TEXT, tok, max_tokens=20, overlap_tokens=8)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.start_char < nxt.start_char and prev.end_char < nxt.end_char, (prev, nxt)


def test_every_chunk_adds_new_text_without_overlap(tok: ModelTokenizer) -> None:
    chunks = chunked(NESTING_TEXT, tok, max_tokens=20, overlap_tokens=0)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert prev.end_char <= nxt.start_char


def test_overlap_is_close_to_requested(tok: ModelTokenizer) -> None:
    text = "word " * 2000  # one piece per word, so the overlap can be exact
    chunks = chunked(text, tok, max_tokens=100, overlap_tokens=20)
    for prev, nxt in zip(chunks, chunks[1:]):
        assert overlap_pieces(text, prev, nxt, tok) == 20


@pytest.mark.parametrize("text", [LONG_PROSE, "word " * 3000, prose(9, 5, words=(200, 400))])
def test_no_overlap_without_overlap_tokens(tok: ModelTokenizer, text: str) -> None:
    chunks = chunked(text, tok, max_tokens=64, overlap_tokens=0)
    assert len(chunks) > 1
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start_char >= prev.end_char
        assert not text[prev.end_char : nxt.start_char].strip()  # only whitespace in between


def test_overlap_gives_more_chunks(tok: ModelTokenizer) -> None:
    without = chunked(LONG_PROSE, tok, max_tokens=64, overlap_tokens=0)
    with_overlap = chunked(LONG_PROSE, tok, max_tokens=64, overlap_tokens=24)
    assert len(with_overlap) > len(without)


def test_boundaries_fall_on_paragraph_breaks(tok: ModelTokenizer) -> None:
    text = prose(21, 40, words=(8, 20))
    paragraphs = text.split("\n\n")
    assert all(tok.count(p) <= 40 for p in paragraphs)
    paragraph_starts = {0}
    paragraph_ends = set()
    position = 0
    for paragraph in paragraphs:
        paragraph_starts.add(position)
        paragraph_ends.add(position + len(paragraph))
        position += len(paragraph) + 2
    chunks = chunked(text, tok, max_tokens=128)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.start_char in paragraph_starts
        assert chunk.end_char in paragraph_ends
    # Greedy packing: a chunk plus the next paragraph would not fit.
    for chunk, nxt in zip(chunks, chunks[1:]):
        next_paragraph_end = min(e for e in paragraph_ends if e > chunk.end_char)
        assert tok.count(text[chunk.start_char : next_paragraph_end]) > 128
        assert nxt.start_char == chunk.end_char + 2


def test_boundaries_fall_on_line_breaks_before_sentences(tok: ModelTokenizer) -> None:
    lines = [f"Item {i}: " + " ".join(WORDS[i % 7 : i % 7 + 6]) for i in range(120)]
    text = "\n".join(lines)  # one paragraph of short lines
    chunks = chunked(text, tok, max_tokens=64)
    line_set = set(lines)
    for chunk in chunks:
        assert all(line in line_set for line in chunk.text.split("\n"))


def test_long_paragraph_is_cut_at_sentence_ends(tok: ModelTokenizer) -> None:
    text = prose(31, 1, words=(600, 600))  # one paragraph of many sentences
    chunks = chunked(text, tok, max_tokens=64)
    assert len(chunks) > 3
    assert all(c.text[-1] in ".!?" for c in chunks)


# ---------------------------------------------------------------------------------------------
# markdown_sections
# ---------------------------------------------------------------------------------------------


MARKDOWN = """Preamble before any heading.

# Guide

Intro to the guide.

## Install

Run the installer.

### On Linux

Use the package manager.

```bash
# this is a shell comment, not a heading
apt install docvec
```

## Usage

How to use it.

Setext Title
============

Under a setext heading.

Setext Sub
----------

Under a setext subheading.
"""


def section_of(sections: list[tuple[int, int, str | None]], text: str, needle: str) -> str | None:
    position = text.index(needle)
    matches = [section for start, end, section in sections if start <= position < end]
    assert len(matches) == 1
    return matches[0]


def test_markdown_sections_tile_the_text() -> None:
    sections = markdown_sections(MARKDOWN)
    assert sections[0][0] == 0
    assert sections[-1][1] == len(MARKDOWN)
    assert all(a[1] == b[0] for a, b in zip(sections, sections[1:]))
    assert all(start < end for start, end, _ in sections)


def test_markdown_heading_paths() -> None:
    sections = markdown_sections(MARKDOWN)
    assert [section for _, _, section in sections] == [
        None,
        "Guide",
        "Guide > Install",
        "Guide > Install > On Linux",
        "Guide > Usage",
        "Setext Title",
        "Setext Title > Setext Sub",
    ]
    # Each heading section starts at its heading line.
    for start, _, _section in sections[1:]:
        assert MARKDOWN[start:].startswith(("#", "Setext"))
        assert start == 0 or MARKDOWN[start - 1] == "\n"


def test_fenced_hash_line_is_not_a_heading() -> None:
    sections = markdown_sections(MARKDOWN)
    assert section_of(sections, MARKDOWN, "# this is a shell comment") == "Guide > Install > On Linux"
    assert section_of(sections, MARKDOWN, "apt install docvec") == "Guide > Install > On Linux"
    assert all("shell comment" not in (s or "") for _, _, s in sections)


def test_preamble_has_no_section() -> None:
    sections = markdown_sections(MARKDOWN)
    assert sections[0] == (0, MARKDOWN.index("# Guide"), None)


def test_no_preamble_when_text_starts_with_heading() -> None:
    text = "# Top\n\nbody\n"
    assert markdown_sections(text) == [(0, len(text), "Top")]


def test_no_headings_is_one_preamble_section() -> None:
    text = "just text\n\nno headings here\n"
    assert markdown_sections(text) == [(0, len(text), None)]


def test_sibling_and_deeper_headings_reset_the_path() -> None:
    text = "# A\n\n### A3\n\n## B2\n\n# C\n\n## C2\n\n#### C4\n\n## D2\n"
    paths = [s for _, _, s in markdown_sections(text)]
    assert paths == ["A", "A > A3", "A > B2", "C", "C > C2", "C > C2 > C4", "C > D2"]


def test_heading_titles_are_normalised() -> None:
    text = "#    Spaced    title   ##\n\nx\n\n##\n\ny\n\n# *Emphasis* and `code`\n"
    paths = [s or "" for _, _, s in markdown_sections(text)]
    assert paths[0] == "Spaced title"
    assert paths[1] == "Spaced title > (untitled h2)"
    assert "Emphasis" in paths[2] and "code" in paths[2]


def test_not_headings() -> None:
    text = "#hashtag is not a heading\n\n    # indented code\n\n~~~\n# tilde fence\n~~~\n\n> # quoted\n"
    sections = markdown_sections(text)
    assert section_of(sections, text, "#hashtag") is None
    assert section_of(sections, text, "# indented code") is None
    assert section_of(sections, text, "# tilde fence") is None
    # A heading inside a block quote is still a heading of the document.
    assert section_of(sections, text, "> # quoted") == "quoted"


def test_markdown_sections_with_crlf() -> None:
    text = MARKDOWN.replace("\n", "\r\n")
    sections = markdown_sections(text)
    assert [s for _, _, s in sections] == [s for _, _, s in markdown_sections(MARKDOWN)]
    assert section_of(sections, text, "Use the package manager") == "Guide > Install > On Linux"


def test_markdown_sections_with_lone_cr() -> None:
    text = MARKDOWN.replace("\n", "\r")
    sections = markdown_sections(text)
    assert section_of(sections, text, "Use the package manager") == "Guide > Install > On Linux"


def test_markdown_sections_with_mixed_line_endings() -> None:
    text = "x\r# A\nbody\n\n\n\nmore\n"
    sections = markdown_sections(text)
    assert section_of(sections, text, "# A") == "A"
    assert sections[0] == (0, text.index("# A"), None)


def test_chunk_markdown_sections_with_lone_cr(tok: ModelTokenizer) -> None:
    text = MARKDOWN.replace("\n", "\r")
    chunks = chunked(text, tok, method="markdown_sections", file_type="markdown")
    assert [c.section for c in chunks][-1] == "Setext Title > Setext Sub"


def test_chunk_markdown_sections(tok: ModelTokenizer) -> None:
    chunks = chunked(MARKDOWN, tok, method="markdown_sections", file_type="markdown")
    assert [c.section for c in chunks] == [s for _, _, s in markdown_sections(MARKDOWN)]
    assert chunks[0].text == "Preamble before any heading."
    assert chunks[1].text.startswith("# Guide")
    for chunk in chunks:
        assert section_of(markdown_sections(MARKDOWN), MARKDOWN, chunk.text) == chunk.section


@pytest.mark.parametrize("file_type", ["text", "pdf", "json", "jsonl", "Markdown", None])
def test_markdown_method_on_other_file_types_is_recursive(tok: ModelTokenizer, file_type) -> None:
    chunks = chunked(MARKDOWN * 4, tok, method="markdown_sections", file_type=file_type, max_tokens=64)
    assert all(c.section is None for c in chunks)
    assert chunks == chunk_text(MARKDOWN * 4, tok, method="recursive", max_tokens=64)


def test_markdown_structured_types() -> None:
    assert MARKDOWN_STRUCTURED_TYPES == ("markdown", "html", "docx", "pptx", "xlsx", "csv")


@pytest.mark.parametrize("file_type", MARKDOWN_STRUCTURED_TYPES)
def test_markdown_structured_types_are_split_by_section(tok: ModelTokenizer, file_type: str) -> None:
    """HTML and the office formats are parsed to Markdown: they get sections like markdown files."""
    chunks = chunked(MARKDOWN, tok, method="markdown_sections", file_type=file_type)
    assert [c.section for c in chunks] == [s for _, _, s in markdown_sections(MARKDOWN)]
    assert chunks == chunk_text(MARKDOWN, tok, method="markdown_sections", file_type="markdown")


@pytest.mark.parametrize("file_type", MARKDOWN_STRUCTURED_TYPES)
def test_headings_stay_with_their_text_in_structured_types(tok: ModelTokenizer, file_type: str) -> None:
    """The recursive method also keeps a heading with the text after it in these types."""
    text = "\n\n".join(f"## Part {n}\n\n" + prose(60 + n, 3) for n in range(6))
    chunks = chunked(text, tok, method="recursive", file_type=file_type, max_tokens=64)
    headings = heading_lines(text)
    assert headings
    for chunk in chunks:
        last_line = chunk.text.rsplit("\n", 1)[-1]
        assert not (last_line.startswith("## ") and chunk.end_char < len(text)), chunk


def test_recursive_method_on_markdown_has_no_sections(tok: ModelTokenizer) -> None:
    chunks = chunked(MARKDOWN, tok, method="recursive", file_type="markdown")
    assert all(c.section is None for c in chunks)


def test_oversized_sections_are_split_and_keep_their_section(tok: ModelTokenizer) -> None:
    text = "Intro.\n\n# Big\n\n" + prose(41, 12) + "\n\n## Bigger\n\n" + prose(42, 12) + "\n\n# Small\n\nTiny.\n"
    chunks = chunked(text, tok, method="markdown_sections", file_type="markdown", max_tokens=64, overlap_tokens=8)
    by_section: dict[str | None, list[Chunk]] = {}
    for chunk in chunks:
        by_section.setdefault(chunk.section, []).append(chunk)
    assert list(by_section) == [None, "Big", "Big > Bigger", "Small"]
    assert len(by_section["Big"]) > 1 and len(by_section["Big > Bigger"]) > 1
    assert [c.text for c in by_section["Small"]] == ["# Small\n\nTiny."]
    sections = markdown_sections(text)
    for chunk in chunks:
        # Each piece stays inside its own section: no chunk crosses a heading.
        (start, end) = next((a, b) for a, b, s in sections if s == chunk.section)
        assert start <= chunk.start_char and chunk.end_char <= end


def test_section_chunks_do_not_overlap_across_sections(tok: ModelTokenizer) -> None:
    text = "# One\n\n" + prose(51, 6) + "\n\n# Two\n\n" + prose(52, 6)
    chunks = chunked(text, tok, method="markdown_sections", file_type="markdown", max_tokens=64, overlap_tokens=16)
    boundary = text.index("# Two")
    assert all(c.end_char <= boundary for c in chunks if c.section == "One")
    assert all(c.start_char >= boundary for c in chunks if c.section == "Two")


# ---------------------------------------------------------------------------------------------
# Golden output: CHUNKER_VERSION must change whenever the chunks do
# ---------------------------------------------------------------------------------------------

GOLDEN_CORPUS: dict[str, tuple[str, str]] = {  # name -> (file_type, text)
    "guide.md": (
        "markdown",
        "Preamble before any heading, with a link to [the docs](https://example.org/docs).\n\n"
        "# Install\n\n"
        "Install the package with pip, then check that the command line tool starts. The installer "
        "needs network access once; after that every model loads from the local cache, so builds "
        "run offline. On a shared machine, point the cache at a folder every user can read.\n\n"
        "## From source\n\n"
        "Clone the repository, create a virtual environment and install it in editable mode. The "
        "tests need the bundled model, which the development extras pull in. Run them with pytest; "
        "the slow ones build the sample project end to end and take a few minutes.\n\n"
        "```python\n"
        "# not a heading: a comment in a code fence\n"
        "from docvec import search\n"
        "\n"
        'for hit in search("how do I install it?", k=5):\n'
        "    print(hit.score, hit.section, hit.text[:80])\n"
        "```\n\n"
        "Setext heading\n"
        "--------------\n\n"
        "- first item of a list, short\n"
        "- second item, which goes on for a while so that the list is longer than one small chunk "
        "and has to be split between its items rather than in the middle of a word\n"
        "- third item\n\n"
        "# Usage\r\n\r\nWindows line endings here.\r\nA second line.\r\n",
    ),
    "essay.txt": (
        "text",
        "Chunking splits a long document into pieces that an embedding model can read whole. Each "
        "piece must fit the model's limit, counted in word pieces rather than characters, because "
        "the model truncates anything longer and the end of the text would silently be lost! Good "
        "boundaries matter too: a chunk that stops in the middle of a sentence embeds poorly; one "
        "that holds a whole paragraph embeds well. So the splitter tries paragraph breaks first, "
        "then line breaks, then sentence ends, then spaces, and only cuts inside a word when a "
        "single word is longer than the budget.\n\n"
        "Overlap repeats the end of one chunk at the start of the next? It helps a question whose "
        "answer straddles a boundary; it costs more vectors.\n"
        "A line of its own.\n\n\n" + "supercalifragilisticexpialidocious" * 6 + "\n\nLast paragraph: short.",
    ),
    # HTML as python_udfs.parsing.html writes it: Markdown headings, a list, a table, a code fence.
    "page.html": (
        "html",
        "# Opening hours\n\n"
        "The library opens every weekday; the reading room closes an hour earlier than the lending desk.\n\n"
        "## Branches\n\n"
        "- Central: the main building, with the archive and the map room\n"
        "- Riverside: a small branch by the ferry, children's books\n"
        "  - Saturday story time at ten\n\n"
        "| Branch | Weekdays | Saturday |\n| --- | --- | --- |\n"
        "| Central | 9-20 | 10-16 |\n| Riverside | 10-18 | 10-13 \\| closed in August |\n\n"
        "## Catalogue\n\n"
        "```\n# not a heading\nsearch --branch central 'maps'\n```\n",
    ),
    "cjk.md": (
        "markdown",
        "# 概要\n\n"
        "文書を小さな断片に分割し、それぞれをベクトルに変換します。検索のときは質問も同じモデルで変換し、"
        "最も近い断片を返します。句読点のない長い文でも、トークンの上限を超えないように区切られます。\n\n"
        "## 詳細\n\n"
        "中文文本没有空格，分词器按字切分。这一段用来检查句号之后的切分是否稳定！还有问号吗？有的。\n\n"
        "한국어 문장도 포함됩니다. 이모지도 있어요 🙂👍🏽 그리고 결합 문자 e\u0301 도요.\n",
    ),
}
# (max_tokens, overlap_tokens, min_chunk_tokens); version 1 had no min_chunk_tokens (the first three).
GOLDEN_SETTINGS = ((32, 0, 0), (64, 8, 0), (256, 0, 0), (32, 0, 20), (64, 8, 20))
# sha256 of the golden output (see golden_digest), per CHUNKER_VERSION. Keep old entries: they
# document which output each version had.
GOLDEN_DIGESTS: dict[str, str] = {
    "1": "2a495efaac282ff075c449e8b9acc8fe8116de59f288bb183acb2c691bfdf52a",
    "2": "89bded796ec1ecb66067b788036560b03cc776f41a78d1d64277afe6154886c8",
    "3": "8e7ce93b93ce42428bfe9120ba252997f900e5edf56f297e4fa8c572d0653c8a",
}


def golden_digest(tok: ModelTokenizer) -> str:
    """sha256 of every chunk of GOLDEN_CORPUS, with both methods and every GOLDEN_SETTINGS."""
    digest = hashlib.sha256()
    for name, (file_type, text) in GOLDEN_CORPUS.items():
        for method in METHODS:
            for max_tokens, overlap, minimum in GOLDEN_SETTINGS:
                chunks = chunk_text(
                    text,
                    tok,
                    method=method,
                    max_tokens=max_tokens,
                    overlap_tokens=overlap,
                    file_type=file_type,
                    min_chunk_tokens=minimum,
                )
                check_chunks(text, chunks, tok, max_tokens)
                rows = [[c.chunk_index, c.start_char, c.end_char, c.n_tokens, c.section, c.text] for c in chunks]
                settings = [max_tokens, overlap] + ([minimum] if minimum else [])
                line = json.dumps([name, method, *settings, rows], ensure_ascii=False)
                digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def test_golden_corpus_exercises_sections_and_splits(tok: ModelTokenizer) -> None:
    file_type, text = GOLDEN_CORPUS["guide.md"]
    chunks = chunk_text(text, tok, method="markdown_sections", max_tokens=32, file_type=file_type)
    sections = {c.section for c in chunks}
    assert {None, "Install", "Install > From source", "Install > Setext heading", "Usage"} <= sections
    assert len(chunks) > len(sections)  # some sections are longer than one chunk


def test_golden_corpus_html_page_has_sections(tok: ModelTokenizer) -> None:
    file_type, text = GOLDEN_CORPUS["page.html"]
    chunks = chunk_text(text, tok, method="markdown_sections", max_tokens=32, file_type=file_type)
    assert {"Opening hours", "Opening hours > Branches", "Opening hours > Catalogue"} <= {c.section for c in chunks}


def test_chunk_output_matches_the_golden_digest_of_chunker_version(tok: ModelTokenizer) -> None:
    digest = golden_digest(tok)
    message = (
        "chunk output changed: bump CHUNKER_VERSION in python_udfs/chunking/__init__.py and record the new digest "
        f"(GOLDEN_DIGESTS in {Path(__file__).name}: {{new version: {digest!r}}}); "
        f"CHUNKER_VERSION is {CHUNKER_VERSION!r}"
    )
    assert GOLDEN_DIGESTS.get(CHUNKER_VERSION) == digest, message


def test_chunker_version_is_the_constant() -> None:
    assert isinstance(CHUNKER_VERSION, str) and CHUNKER_VERSION.strip() == CHUNKER_VERSION != ""
    assert chunker_version() == CHUNKER_VERSION


def test_chunker_version_udf_returns_the_constant() -> None:
    import duckdb

    from python_udfs.plugin import register_udfs

    conn = duckdb.connect()
    try:
        register_udfs(conn)
        assert conn.execute("select docvec_chunker_version()").fetchone() == (CHUNKER_VERSION,)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# Headings stay with their text; short chunks are joined to a neighbour
# ---------------------------------------------------------------------------------------------


def heading_lines(text: str) -> list[tuple[int, int]]:
    """Character ranges of the markdown heading lines of `text` (markdown-it, as the chunker)."""
    from markdown_it import MarkdownIt

    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    ranges = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "heading_open" and token.map is not None:
            first, last = token.map
            ranges.append((starts[first], starts[last] if last < len(starts) else len(text)))
    return ranges


def only_headings(text: str, start: int, end: int, headings: list[tuple[int, int]]) -> bool:
    """Whether every visible character of text[start:end] lies on a heading line."""
    visible = [i for i in range(start, end) if not text[i].isspace()]
    return bool(visible) and all(any(a <= i < b for a, b in headings) for i in visible)


def ends_with_heading(text: str, chunk: Chunk, headings: list[tuple[int, int]]) -> bool:
    """Whether the last line of the chunk is a heading line."""
    return any(a <= chunk.end_char - 1 < b for a, b in headings)


def markdown_doc(seed: int, n_sections: int) -> str:
    """Markdown with headings of several levels, some directly under another, and prose between."""
    rng = random.Random(seed)
    parts = []
    bare = False
    for number in range(n_sections):
        parts.append("#" * rng.randint(1, 4) + f" Heading {number} {rng.choice(WORDS)}")
        bare = not bare and rng.random() < 0.3  # a heading directly followed by the next, never 3 in a row
        if not bare:
            parts.append(prose(seed * 100 + number, rng.randint(1, 4), words=(5, 50)))
    return "\n\n".join(parts) + "\n"


def test_a_heading_directly_followed_by_a_subheading_joins_its_section(tok: ModelTokenizer) -> None:
    text = "# Guide\n\n## Install\n\nRun the installer, then check that it starts.\n"
    chunks = chunked(text, tok, method="markdown_sections", file_type="markdown")
    assert [c.text for c in chunks] == [text.strip()]
    assert chunks[0].section == "Guide > Install"


def test_heading_only_sections_at_the_end_join_the_section_before(tok: ModelTokenizer) -> None:
    text = "# Guide\n\nSome text about the guide.\n\n## Appendix\n\n### Empty\n"
    chunks = chunked(text, tok, method="markdown_sections", file_type="markdown")
    assert [(c.text, c.section) for c in chunks] == [(text.strip(), "Guide")]


def test_a_text_of_headings_only_is_still_chunked(tok: ModelTokenizer) -> None:
    text = "# One\n\n## Two\n"
    for method in METHODS:
        assert [c.text for c in chunked(text, tok, method=method, file_type="markdown")] == [text.strip()]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(40, 0), (64, 8), (96, 16)])
@pytest.mark.parametrize("seed", range(4))
def test_no_chunk_is_headings_only_or_ends_with_a_heading(
    tok: ModelTokenizer, method: str, max_tokens: int, overlap: int, seed: int
) -> None:
    text = markdown_doc(seed, 14)
    headings = heading_lines(text)
    chunks = chunked(text, tok, method=method, max_tokens=max_tokens, overlap_tokens=overlap, file_type="markdown")
    for chunk in chunks[:-1]:
        assert not only_headings(text, chunk.start_char, chunk.end_char, headings), chunk
        assert not ends_with_heading(text, chunk, headings), chunk


def test_a_heading_before_a_long_paragraph_starts_the_paragraphs_chunk(tok: ModelTokenizer) -> None:
    # Each paragraph alone fills a chunk: the heading fits neither after the first paragraph nor
    # before the whole second one, so it takes the first sentences of the second.
    paragraph = " ".join(["Every sentence here is short and plain."] * 6)
    text = paragraph + "\n\n## Details\n\n" + paragraph + "\n"
    (paragraph_tokens,) = tok.count_batch([paragraph])
    chunks = chunked(text, tok, max_tokens=paragraph_tokens, file_type="markdown")
    assert chunks[0].text == paragraph
    assert chunks[1].text.startswith("## Details\n\nEvery sentence here is short and plain.")
    assert not any(c.text.endswith("## Details") for c in chunks)
    # Without headings (a text file) the heading line is a chunk of its own.
    assert "## Details" in [c.text for c in chunked(text, tok, max_tokens=paragraph_tokens, file_type="text")]


def test_headings_are_markdown_only(tok: ModelTokenizer) -> None:
    text = markdown_doc(3, 10)
    plain = chunk_text(text, tok, max_tokens=40, file_type="text")
    assert plain == chunk_text(text, tok, max_tokens=40, file_type=None)
    assert plain != chunk_text(text, tok, max_tokens=40, file_type="markdown")
    # "#" lines in a code fence are no headings: nothing moves.
    code = "```bash\n" + "\n".join(f"# step {i}\necho {i}" for i in range(40)) + "\n```\n"
    assert heading_lines(code) == []
    assert chunk_text(code, tok, max_tokens=32, file_type="markdown") == chunk_text(code, tok, max_tokens=32)


SHORT_SECTION = (
    "## A\n\n" + prose(5, 1, words=(25, 25)) + "\n\n## B\n\nNothing else.\n\n## C\n\n" + prose(6, 1, words=(25, 25))
)


def sections_chunked(text: str, tok: ModelTokenizer, **kwargs) -> list[Chunk]:
    return chunked(text, tok, method="markdown_sections", file_type="markdown", max_tokens=64, **kwargs)


@pytest.mark.parametrize("overlap", [0, 16])
def test_a_short_chunk_joins_the_previous_chunk(tok: ModelTokenizer, overlap: int) -> None:
    unmerged = sections_chunked(SHORT_SECTION, tok, overlap_tokens=overlap)
    assert [(c.text, c.section) for c in unmerged][1] == ("## B\n\nNothing else.", "B")
    assert unmerged[1].n_tokens < 20
    chunks = sections_chunked(SHORT_SECTION, tok, overlap_tokens=overlap, min_chunk_tokens=20)
    assert [c.section for c in chunks] == ["A", "C"]
    assert chunks[0].text.endswith("## B\n\nNothing else.") and chunks[0].text.startswith("## A")
    assert all(c.n_tokens >= 20 for c in chunks)


def test_a_short_chunk_joins_the_next_chunk_when_the_previous_is_full(tok: ModelTokenizer) -> None:
    text = "## A\n\n" + "word " * 58 + "\n\n## B\n\nNothing else.\n\n## C\n\n" + prose(6, 1, words=(25, 25))
    assert [c.section for c in sections_chunked(text, tok)] == ["A", "B", "C"]
    chunks = sections_chunked(text, tok, min_chunk_tokens=20)
    assert [c.section for c in chunks] == ["A", "C"]
    assert chunks[0].text.endswith("word")
    assert chunks[1].text.startswith("## B\n\nNothing else.\n\n## C")


def test_a_short_document_stays_one_chunk(tok: ModelTokenizer) -> None:
    for method in METHODS:
        (chunk,) = chunked("A short document.", tok, method=method, file_type="markdown", min_chunk_tokens=20)
        assert chunk.text == "A short document." and chunk.n_tokens < 20


def test_a_short_chunk_no_neighbour_can_take_stays(tok: ModelTokenizer) -> None:
    # Both neighbours are full: joining would exceed max_tokens, which always wins.
    text = "word " * 62 + "\n\nTiny.\n\n" + "word " * 62
    chunks = chunked(text, tok, max_tokens=64, min_chunk_tokens=20)
    assert [c.text for c in chunks][1] == "Tiny."


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(6))
def test_short_chunks_are_merged_and_the_invariants_hold(tok: ModelTokenizer, method: str, seed: int) -> None:
    rng = random.Random(seed)
    text = markdown_doc(seed, 12) + "\n\n" + "\n\n".join(rng.choice(WORDS) for _ in range(30))
    max_tokens, overlap = rng.choice([(32, 0), (64, 8), (128, 32)])
    plain = chunked(text, tok, method=method, max_tokens=max_tokens, overlap_tokens=overlap, file_type="markdown")
    merged = chunked(
        text,
        tok,
        method=method,
        max_tokens=max_tokens,
        overlap_tokens=overlap,
        file_type="markdown",
        min_chunk_tokens=20,
    )
    assert len(merged) <= len(plain)
    for index, chunk in enumerate(merged):
        if chunk.n_tokens >= 20:
            continue
        # A short chunk left over: neither neighbour could take it within max_tokens.
        for neighbour in (merged[i] for i in (index - 1, index + 1) if 0 <= i < len(merged)):
            start, end = min(chunk.start_char, neighbour.start_char), max(chunk.end_char, neighbour.end_char)
            assert tok.count(text[start:end]) > max_tokens


@pytest.mark.parametrize("minimum", [-1, 64, 100])
def test_min_chunk_tokens_out_of_range_raises(tok: ModelTokenizer, minimum: int) -> None:
    with pytest.raises(ValueError, match="min_chunk_tokens"):
        chunk_text("some text", tok, max_tokens=64, min_chunk_tokens=minimum)


def test_min_chunk_tokens_none_means_zero(tok: ModelTokenizer) -> None:
    def split(minimum: int | None) -> list[Chunk]:
        return chunk_text(
            SHORT_SECTION,
            tok,
            method="markdown_sections",
            file_type="markdown",
            max_tokens=64,
            min_chunk_tokens=minimum,
        )

    assert split(None) == split(0)
