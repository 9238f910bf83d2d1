"""Tests for python_udfs.cleaning: text normalisation and the text hash shared with DuckDB."""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.cleaning import clean_text, sha256_text  # noqa: E402
from python_udfs.duckdb_helpers import scalar  # noqa: E402

DECOMPOSED_E = "e\u0301"  # e + COMBINING ACUTE ACCENT
COMPOSED_E = "\u00e9"  # é

SAMPLES = [
    "",
    "plain text",
    f"Caf{DECOMPOSED_E} cr{DECOMPOSED_E}me br\u00fbl{DECOMPOSED_E}e",
    "Windows\r\nline\r\nendings\r\n",
    "old Mac\rline\rendings",
    "a\x00b\x07c\x1bd\x7fe\x85f\x9fg",
    "zero\u200bwidth\u200c\u200djoiner\u2060word\ufeff",
    "\ufeffBOM at the start",
    "lots\n\n\n\n\nof\n \n\t\n  \nblank lines",
    "trailing   \nspaces\t\t\nhere  ",
    "   \n\n  padded  \n\n   ",
    "page\fbreak",
    "emoji 😀👍🏽 and CJK 東京 and Hangul \u1100\u1161",
]


@pytest.fixture(scope="module")
def db() -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect()
    yield conn
    conn.close()


def has_control(text: str) -> bool:
    """A C0/C1 control character other than tab, line feed and form feed."""
    return any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\f" for ch in text)


# ---------------------------------------------------------------------------------------------
# clean_text
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [None, "", "   ", "\n\n\t \r\n", "\u200b\ufeff", "\x00\x01"])
def test_empty_and_blank_inputs_clean_to_empty(empty) -> None:
    assert clean_text(empty) == ""


def test_nfc_composes_decomposed_characters() -> None:
    cleaned = clean_text(f"caf{DECOMPOSED_E}")
    assert cleaned == f"caf{COMPOSED_E}"
    assert len(cleaned) == 4
    assert unicodedata.is_normalized("NFC", cleaned)


def test_nfc_keeps_already_composed_text() -> None:
    assert clean_text(f"caf{COMPOSED_E}") == f"caf{COMPOSED_E}"
    # Composed and decomposed spellings of the same text clean to the same string.
    assert clean_text("Ame\u0301lie") == clean_text("Am\u00e9lie")


def test_nfc_is_not_nfkc() -> None:
    # Compatibility characters (ligature, full-width letter) are not folded by NFC.
    assert clean_text("\ufb01le \uff21") == "\ufb01le \uff21"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\r\nb", "a\nb"),
        ("a\rb", "a\nb"),
        ("a\r\n\r\nb", "a\n\nb"),
        ("a\r\rb", "a\n\nb"),
        ("a\n\rb", "a\n\nb"),
        ("a\r\n\rb", "a\n\nb"),
    ],
)
def test_line_endings_become_lf(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_no_carriage_return_survives() -> None:
    for sample in SAMPLES:
        assert "\r" not in clean_text(sample)


def test_control_characters_are_removed() -> None:
    assert clean_text("a\x00b\x07c\x1bd\x7fe\x85f\x9fg") == "abcdefg"
    assert clean_text("x\x0by") == "xy"  # vertical tab


def test_tab_newline_and_form_feed_are_kept() -> None:
    assert clean_text("a\tb\nc\fd") == "a\tb\nc\fd"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters_are_removed(invisible: str) -> None:
    assert clean_text(f"zero{invisible}width") == "zerowidth"
    assert clean_text(f"{invisible}start") == "start"


def test_visible_non_ascii_is_kept() -> None:
    text = "emoji 😀👍🏽 CJK 東京 Greek αβγ non\u00a0breaking"
    assert clean_text(text) == text


def test_trailing_spaces_are_dropped_but_indentation_is_kept() -> None:
    assert clean_text("line  \t\n    indented code\nend") == "line\n    indented code\nend"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\n\n\nb", "a\n\nb"),
        ("a\n\n\n\n\n\n\nb", "a\n\nb"),
        ("a\n \n\t\n  \nb", "a\n\nb"),  # lines of spaces/tabs are blank lines too
        ("a\r\n\r\n\r\n\r\nb", "a\n\nb"),
        ("a\n\nb", "a\n\nb"),
        ("a\nb", "a\nb"),
    ],
)
def test_blank_line_runs_collapse_to_one(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_ends_are_stripped() -> None:
    assert clean_text("  \n\n  hello world \n\n ") == "hello world"


@pytest.mark.parametrize("sample", SAMPLES)
def test_cleaned_text_properties(sample: str) -> None:
    cleaned = clean_text(sample)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert "\r" not in cleaned
    assert not has_control(cleaned)
    assert not any(ch in cleaned for ch in "\u200b\u200c\u200d\u2060\ufeff")
    assert "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip()
    assert all(line == line.rstrip(" \t") for line in cleaned.split("\n"))


@pytest.mark.parametrize("sample", SAMPLES)
def test_clean_text_is_idempotent(sample: str) -> None:
    once = clean_text(sample)
    assert clean_text(once) == once


@pytest.mark.parametrize("separator", ["\u200b", "\ufeff", "\x00", "\x07"])
def test_removed_character_between_letter_and_combining_mark(separator: str) -> None:
    raw = f"caf{separator.join(DECOMPOSED_E)}"
    once = clean_text(raw)
    assert unicodedata.is_normalized("NFC", once)
    assert clean_text(once) == once


# ---------------------------------------------------------------------------------------------
# sha256_text
# ---------------------------------------------------------------------------------------------


def test_sha256_text_is_hex_of_utf8_bytes() -> None:
    assert sha256_text("") == hashlib.sha256(b"").hexdigest()
    digest = sha256_text("héllo 😀")
    assert digest == hashlib.sha256("héllo 😀".encode()).hexdigest()
    assert len(digest) == 64 and digest == digest.lower()
    assert sha256_text(f"caf{COMPOSED_E}") != sha256_text(f"caf{DECOMPOSED_E}")


@pytest.mark.parametrize("text", [s for s in SAMPLES if "\x00" not in s] + ["'quoted'", "x" * 10_000])
def test_sha256_text_matches_duckdb(db: duckdb.DuckDBPyConnection, text: str) -> None:
    in_duckdb = scalar(db, "select sha256(?::varchar)", [text])
    assert sha256_text(text) == in_duckdb
    cleaned_in_duckdb = scalar(db, "select sha256(?::varchar)", [clean_text(text)])
    assert sha256_text(clean_text(text)) == cleaned_in_duckdb


def test_sha256_text_matches_duckdb_sql_literal() -> None:
    text = "Ünïcödé 東京 😀"
    with duckdb.connect() as conn:
        in_duckdb = scalar(conn, f"select sha256('{text}')")
    assert sha256_text(text) == in_duckdb


@pytest.mark.parametrize(
    ("captured", "expected"),
    [
        ("\x1b[1;32mPASSED\x1b[0m tests/test_x.py", "PASSED tests/test_x.py"),
        ("\x1b[38;5;208morange\x1b[39m and \x1b[48;2;0;0;255mblue\x1b[49m", "orange and blue"),
        ("\x1b[?25l\x1b[2K\x1b[1Gprogress 100%\x1b[?25h", "progress 100%"),
        ("\x1b]0;user@host: ~\x07$ ls", "$ ls"),
        ("\x1b]8;;https://example.org\x1b\\a link\x1b]8;;\x1b\\ here", "a link here"),
        ("\x1b(Bplain\x1b7 saved\x1b8", "plain saved"),
        ("\x9b31mred\x9b0m", "red"),
    ],
    ids=["sgr", "256-and-truecolour", "cursor", "osc-title", "osc-hyperlink", "charset-and-cursor-save", "c1-csi"],
)
def test_terminal_escape_sequences_are_removed_whole(captured: str, expected: str) -> None:
    assert clean_text(captured) == expected
    assert clean_text(clean_text(captured)) == expected


def test_text_that_only_looks_like_an_escape_is_kept() -> None:
    assert clean_text("PowerShell: `e[32mGreen`e[0m and [1m literal") == "PowerShell: `e[32mGreen`e[0m and [1m literal"
