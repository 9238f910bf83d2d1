"""The text the BM25 index (DuckDB fts) sees: CJK and Thai runs rewritten as character bigrams.

DuckDB's fts splits text on what its `ignore` regex matches (spaces, punctuation, by default every
character outside a-z), so a language written without spaces between words (Chinese, Japanese,
Thai; Korean glues particles to its words) would be one unsearchable token, or nothing at all.
`fts_text` rewrites each run of such characters as its overlapping character bigrams ("日本語" ->
"日本 本語"; a lone character stays itself), separated by spaces from the text around it, and
leaves every other character as it is, so English keeps its tokens, stemming and stopwords.
Documents (the `fts_text` column of search_index and of the evaluation's corpora) and queries go
through the same function, so a question matches a document on the bigrams they share, whatever
the word boundaries. `BIGRAM_RANGES` is also what the index's `ignore` option keeps
(python_udfs.ranking.FTS_OPTIONS), so the bigrams survive the index's own tokenizer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import duckdb

FUNCTION_NAME = "docvec_fts_text"  # the UDF, registered by python_udfs.plugin (and `ensure_registered`)

# Code point ranges (first, last) of the scripts written as bigrams: Han, Hiragana, Katakana,
# Hangul and Thai, with their marks of iteration and length.
BIGRAM_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),  # Thai
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana (with ー)
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF66, 0xFF9F),  # Halfwidth Katakana
    (0x20000, 0x3134F),  # CJK Unified Ideographs Extensions B-G, Compatibility Supplement
)

_RUN = re.compile("[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in BIGRAM_RANGES) + "]+")


def re2_class_body() -> str:
    """BIGRAM_RANGES as the body of an RE2 character class (`\\x{0e00}-\\x{0e7f}...`), for fts's
    `ignore` regex."""
    return "".join(f"\\x{{{first:04x}}}-\\x{{{last:04x}}}" for first, last in BIGRAM_RANGES)


def bigrams(run: str) -> list[str]:
    """The overlapping character bigrams of `run`, its combining marks left out (fts strips them
    anyway); a run of one character is that character."""
    letters = [c for c in run if not unicodedata.category(c).startswith("M")]
    if len(letters) < 2:
        return letters
    return [a + b for a, b in zip(letters, letters[1:])]


def fts_text(text: str | None) -> str | None:
    """`text` with each run of BIGRAM_RANGES characters replaced by its bigrams, space separated;
    text without such characters is returned unchanged (NULL stays NULL)."""
    if text is None or not _RUN.search(text):
        return text
    return _RUN.sub(lambda match: " " + " ".join(bigrams(match.group())) + " ", text)


def ensure_registered(conn: duckdb.DuckDBPyConnection) -> None:
    """Register `fts_text` as FUNCTION_NAME on `conn` unless it is there already (the plugin
    registers it on every dbt connection; a bare connection gets it here)."""
    found = conn.execute("select count(*) from duckdb_functions() where function_name = ?", [FUNCTION_NAME]).fetchone()
    if not found or not found[0]:
        register(conn)


def register(conn: duckdb.DuckDBPyConnection) -> None:
    """Register `fts_text` as the UDF FUNCTION_NAME(VARCHAR) -> VARCHAR on `conn` (as the plugin does)."""
    special: dict[str, Any] = {"null_handling": "special", "side_effects": False}
    conn.create_function(FUNCTION_NAME, fts_text, ["VARCHAR"], "VARCHAR", **special)
