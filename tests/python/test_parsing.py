"""Tests for python_udfs.parsing: every file type, decoding, front matter and failure reasons."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.cleaning import clean_text  # noqa: E402
from python_udfs.parsing import (  # noqa: E402
    FILE_TYPES,
    REASONS,
    BinaryContentError,
    InvalidEncodingError,
    ParsedRecord,
    ParseOptions,
    ParseResult,
    decode_text,
    detect_file_type,
    dispatch,
    json_records,
    limits,
    parse_document,
    pdf_extractors,
    titles,
)

from pdf_samples import encrypt_pdf, form_xobject_bomb_pdf, one_page_pdf  # noqa: E402


def only_record(result: ParseResult) -> ParsedRecord:
    """The single record of a successful one-document result."""
    assert result.reason is None, result.detail
    assert result.detail is None
    assert len(result.records) == 1
    return result.records[0]


def assert_json_safe(metadata: dict) -> None:
    """Metadata must survive strict JSON serialisation and UTF-8 encoding."""
    json.dumps(metadata, allow_nan=False, ensure_ascii=False).encode("utf-8")


def assert_rejected(result: ParseResult, reason: str) -> str:
    """A failed result with ``reason``; returns its detail."""
    assert result.records == []
    assert result.reason == reason, (result.reason, result.detail)
    assert result.reason in REASONS
    assert result.detail
    assert len(result.detail) <= 500
    return result.detail


# ---------------------------------------------------------------------------------------------
# File types
# ---------------------------------------------------------------------------------------------


def test_file_types_mapping() -> None:
    assert FILE_TYPES == {
        "md": "markdown",
        "markdown": "markdown",
        "txt": "text",
        "text": "text",
        "html": "html",
        "htm": "html",
        "pdf": "pdf",
        "json": "json",
        "jsonl": "jsonl",
        "ndjson": "jsonl",
        "docx": "docx",
        "pptx": "pptx",
        "xlsx": "xlsx",
        "csv": "csv",
        "png": "image",
        "jpg": "image",
        "jpeg": "image",
        "tif": "image",
        "tiff": "image",
    }
    assert REASONS == (
        "unsupported_type",
        "empty_text",
        "parse_error",
        "encrypted",
        "binary_content",
        "invalid_encoding",
        "too_large",
        "access_unparseable",
        "low_confidence",
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docs/readme.md", "markdown"),
        ("NOTES.MARKDOWN", "markdown"),
        ("a/b.txt", "text"),
        ("x.text", "text"),
        ("page.HTM", "html"),
        ("page.html", "html"),
        ("C:\\files\\report.Pdf", "pdf"),
        ("data.json", "json"),
        ("data.jsonl", "jsonl"),
        ("data.ndjson", "jsonl"),
        ("s3://bucket/dir.md/file.odt", None),
        ("s3://bucket/dir.pdf/file.docx", "docx"),
        ("Scan.JPEG", "image"),
        ("archive.tar.gz", None),
        ("Makefile", None),
        ("trailing.", None),
        ("", None),
    ],
)
def test_detect_file_type(path: str, expected: str | None) -> None:
    assert detect_file_type(path) == expected


def test_unsupported_extension() -> None:
    detail = assert_rejected(parse_document("letter.odt", b"PK\x03\x04"), "unsupported_type")
    assert ".odt" in detail
    assert_rejected(parse_document("Makefile", b"all:"), "unsupported_type")


# ---------------------------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------------------------


def test_decode_utf8_bom_is_removed() -> None:
    assert decode_text(b"\xef\xbb\xbfhello") == "hello"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_decode_utf16_and_utf32_with_bom(encoding: str) -> None:
    text = "Grüße, 世界 🌍\nline two"
    data = ("\ufeff" + text).encode(encoding)  # explicit byte-order mark
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff", b"\x00\x00")
    assert decode_text(data) == text


def test_decode_utf16_without_bom() -> None:
    assert decode_text("plain ASCII in UTF-16".encode("utf-16-le")) == "plain ASCII in UTF-16"
    assert decode_text("big endian text".encode("utf-16-be")) == "big endian text"


def test_decode_latin1_and_cp1252() -> None:
    assert decode_text("Größe café naïve résumé".encode("latin-1")) == "Größe café naïve résumé"
    assert decode_text("Ça va? Très bien.\nÀ bientôt.".encode("latin-1")) == "Ça va? Très bien.\nÀ bientôt."
    assert decode_text("“Quoted” price: 5 € — done".encode("cp1252")) == "“Quoted” price: 5 € — done"


def test_decode_cyrillic_single_byte() -> None:
    text = "Привет, как дела? Это тест кодировки."
    assert decode_text(text.encode("cp1251")) == text


@pytest.mark.parametrize(
    "text",
    [
        # charset-normalizer alone read these as iso8859-10, cp775, mac_roman or cp1257.
        "Der Bär läuft über die Straße. Größe, Äpfel, Öl, Übung. Falsches Üben von Xylophonmusik quält.",
        "The accented name is José Ñúñez and the city is São Paulo; Ça va? Déjà vu!",
        "Flygande bäckasiner söka hwila på mjuka tuvor. Räksmörgås och ölkällare.",
        "Le coeur déçu mais l'âme plutôt naïve, Louÿs rêva de crapaüter en canoë au delà des îles.",
        "Quel vituperabile xenofobo zelante assaggia il whisky ed esclama: alleluja! Perché è così?",
        "Dose: 5 µg per ml, 1ª edição, nº 3, Größe 20 °C ± 2 - ½ Maß.",
    ],
)
def test_decode_short_latin1_text_is_not_read_as_another_code_page(text: str) -> None:
    assert decode_text(text.encode("latin-1")) == text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Zażółć gęślą jaźń. Pchnąć w tę łódź jeża lub ośm skrzyń fig.", "cp1250"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy.", "cp1250"),
        ("Înţelepciunea şi învăţătura sunt în mâinile tale.", "cp1250"),
        ("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Καλημέρα σας, τι κάνετε;", "cp1253"),
        ("Съешь же ещё этих мягких французских булок, да выпей чаю.", "koi8-r"),
        ("いろはにほへと ちりぬるを わかよたれそ つねならむ", "shift_jis"),
    ],
)
def test_decode_non_western_legacy_text_is_not_forced_to_cp1252(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding)) == text


def test_decode_normalises_line_endings() -> None:
    assert decode_text(b"a\r\nb\rc\n") == "a\nb\nc\n"


def test_decode_rejects_binary() -> None:
    with pytest.raises(BinaryContentError):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(BinaryContentError):
        decode_text(bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 20 + b"some text")
    assert issubclass(BinaryContentError, ValueError)


def test_decode_rejects_undecodable_bytes() -> None:
    with pytest.raises(InvalidEncodingError):
        decode_text(bytes(range(0x80, 0x100)) * 4)
    assert issubclass(InvalidEncodingError, ValueError)


def test_invalid_utf16_after_bom() -> None:
    # A high surrogate with no low surrogate after the UTF-16 LE BOM.
    result = parse_document("a.txt", b"\xff\xfea\x00\x00\xd8b\x00")
    assert_rejected(result, "invalid_encoding")


def test_binary_under_markdown_extension() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
    detail = assert_rejected(parse_document("image.md", png), "binary_content")
    assert "NUL" in detail


def test_undecodable_text_file() -> None:
    assert_rejected(parse_document("a.txt", bytes(range(0x80, 0x100)) * 4), "invalid_encoding")


# ---------------------------------------------------------------------------------------------
# Empty content, limits and the never-raises guarantee
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["a.md", "a.txt", "a.html", "a.pdf", "a.json", "a.jsonl"])
def test_zero_byte_file_is_empty(path: str) -> None:
    detail = assert_rejected(parse_document(path, b""), "empty_text")
    assert "0 bytes" in detail


@pytest.mark.parametrize("path", ["a.md", "a.txt", "a.html", "a.json", "a.jsonl"])
def test_whitespace_only_file_is_empty(path: str) -> None:
    assert_rejected(parse_document(path, b"  \n\t\r\n  \n"), "empty_text")


@pytest.mark.parametrize("path", ["a.md", "a.txt", "a.json"])
def test_unicode_whitespace_controls_are_empty_not_binary(path: str) -> None:
    # Vertical tab and NEL are whitespace (blns has a whitespace-only string holding both).
    source = "\t\x0b\x0c \x85\xa0\u1680\u2002\u2003\u200b\u2028\u2029\u3000\n"
    assert_rejected(parse_document(path, source.encode("utf-8")), "empty_text")


def test_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CONTENT_BYTES", 10)
    detail = assert_rejected(parse_document("a.txt", b"x" * 11), "too_large")
    assert "11 bytes" in detail
    assert only_record(parse_document("a.txt", b"x" * 10)).text == "x" * 10


def test_unexpected_exception_becomes_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(content: bytes, options: ParseOptions) -> ParseResult:
        raise KeyError("x" * 2000)

    monkeypatch.setitem(dispatch._PARSERS, "text", boom)
    detail = assert_rejected(parse_document("a.txt", b"hello"), "parse_error")
    assert detail.startswith("KeyError: 'xxx")
    assert len(detail) == 500


def test_bad_arguments_do_not_raise() -> None:
    assert_rejected(parse_document("a.txt", None), "parse_error")  # type: ignore[arg-type]
    assert_rejected(parse_document(None, b"x"), "unsupported_type")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------------------------


def test_text_happy_path() -> None:
    record = only_record(parse_document("notes.txt", b"First line\nSecond line\n"))
    assert record == ParsedRecord(None, None, "First line\nSecond line\n", {})


def test_text_crlf_and_cr() -> None:
    assert only_record(parse_document("a.txt", b"one\r\ntwo\rthree")).text == "one\ntwo\nthree"


def test_text_latin1_file() -> None:
    record = only_record(parse_document("a.txt", "Größe café naïve résumé".encode("latin-1")))
    assert record.text == "Größe café naïve résumé"


def test_text_utf16_file_with_bom() -> None:
    record = only_record(parse_document("a.txt", "Windows note\r\nzweite Zeile ä".encode("utf-16")))
    assert record.text == "Windows note\nzweite Zeile ä"


def test_cjk_and_emoji_preserved() -> None:
    text = "日本語のテキスト。中文文本。한국어 텍스트 🎉👩‍💻"
    assert only_record(parse_document("a.txt", text.encode("utf-8"))).text == text
    assert only_record(parse_document("a.md", f"# 标题 🚀\n\n{text}".encode())).title == "标题 🚀"
    html = f"<html><head><title>タイトル</title></head><body><p>{text}</p></body></html>"
    html_record = only_record(parse_document("a.html", html.encode("utf-8")))
    assert html_record.text == text
    assert html_record.title == "タイトル"
    data = json.dumps([{"id": "k1", "text": text}], ensure_ascii=True).encode("ascii")
    assert parse_document("a.json", data).records[0].text == text


# ---------------------------------------------------------------------------------------------
# Markdown and front matter
# ---------------------------------------------------------------------------------------------

MARKDOWN = """---
title: Release notes
date: 2024-03-01
updated: 2024-03-02T10:20:30Z
tags: [alpha, beta]
access_groups: [eng, 42]
---
# Heading

Intro paragraph.

## Details

- item
"""


def test_markdown_with_front_matter() -> None:
    record = only_record(parse_document("notes.md", MARKDOWN.encode()))
    assert record.record_key is None
    assert record.title == "Release notes"
    assert record.text == "# Heading\n\nIntro paragraph.\n\n## Details\n\n- item\n"
    assert record.metadata == {
        "title": "Release notes",
        "date": "2024-03-01",
        "updated": "2024-03-02T10:20:30+00:00",
        "tags": ["alpha", "beta"],
        "access_groups": ["eng", "42"],
    }
    assert_json_safe(record.metadata)


def test_markdown_front_matter_closed_with_dots() -> None:
    record = only_record(parse_document("a.md", b"---\nauthor: Ann\n...\nBody\n"))
    assert record.metadata == {"author": "Ann"}
    assert record.text == "Body\n"


def test_markdown_empty_front_matter() -> None:
    record = only_record(parse_document("a.md", b"---\n---\nJust body"))
    assert record.metadata == {}
    assert record.text == "Just body"


def test_markdown_front_matter_without_closing_fence() -> None:
    # Fails closed: what an unclosed front matter declares is unknown (issue #14).
    source = "---\ntitle: never closed\n\n# Real heading\n\nText\n"
    assert "never closed" in assert_rejected(parse_document("a.md", source.encode()), "access_unparseable")


def test_markdown_malformed_yaml_front_matter() -> None:
    source = "---\ntitle: [unclosed\nkey: : value\n---\n# Body heading\n\nText\n"
    detail = assert_rejected(parse_document("a.md", source.encode()), "access_unparseable")
    assert "YAML" in detail and "unclosed" not in detail  # where, never the text


def test_markdown_front_matter_not_a_mapping() -> None:
    source = "---\n- one\n- two\n---\nBody\n"
    detail = assert_rejected(parse_document("a.md", source.encode()), "access_unparseable")
    assert detail == "front matter is not a mapping (got list)"


def test_markdown_front_matter_alias_bomb_is_contained() -> None:
    lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    source = "\n".join(lines + ["---", "Body"])
    assert "too complex" in assert_rejected(parse_document("a.md", source.encode()), "access_unparseable")


def test_markdown_dashes_later_in_file_are_not_front_matter() -> None:
    source = "Intro\n---\ntitle: x\n---\n"
    record = only_record(parse_document("a.md", source.encode()))
    assert record.text == source
    assert record.metadata == {}


def test_markdown_title_from_first_h1() -> None:
    source = "Some intro\n\n## Not level one\n\n#hashtag is not a heading\n\n# The *Real* Title #\n\n# Second\n"
    assert only_record(parse_document("a.md", source.encode())).title == "The Real Title"


def test_markdown_heading_inside_code_fence_ignored() -> None:
    source = "```bash\n# comment in code\n```\n\n~~~\n# also code\n~~~\n\n    # indented code\n\n# Actual\n"
    assert only_record(parse_document("a.md", source.encode())).title == "Actual"


def test_markdown_title_after_many_code_comments() -> None:
    block = "Paragraph text.\n\n```python\n# a comment, not a heading\nx = 1\n```\n\n"
    source = block * 300 + "# Late Title\n\nMore.\n# Later\n"
    assert only_record(parse_document("a.md", source.encode())).title == "Late Title"


def test_markdown_without_heading_has_no_title() -> None:
    assert only_record(parse_document("a.md", b"```\n# code only\n```\ntext")).title is None


def test_markdown_non_string_front_matter_title_falls_back_to_heading() -> None:
    record = only_record(parse_document("a.md", b"---\ntitle: 2024\n---\n# Heading title\n"))
    assert record.title == "Heading title"
    assert record.metadata["title"] == 2024


def test_markdown_access_groups_must_be_a_list() -> None:
    # A single string or no value is not a list of groups: quarantined, never public (issue #14).
    assert_rejected(parse_document("a.md", b"---\naccess_groups: finance\n---\nBody"), "access_unparseable")
    assert_rejected(parse_document("a.md", b"---\naccess_groups:\n---\nBody"), "access_unparseable")


def test_markdown_access_groups_mapping_is_rejected() -> None:
    result = parse_document("a.md", b"---\naccess_groups: {team: hr}\n---\nBody")
    assert "access_groups" in assert_rejected(result, "access_unparseable")


def test_markdown_crlf_front_matter() -> None:
    source = b"---\r\ntitle: Windows\r\n---\r\n# H\r\n\r\nBody\r\n"
    record = only_record(parse_document("a.md", source))
    assert record.title == "Windows"
    assert record.text == "# H\n\nBody\n"
    assert "\r" not in record.text


def test_markdown_utf8_bom_before_front_matter() -> None:
    record = only_record(parse_document("a.md", b"\xef\xbb\xbf---\ntitle: BOM\n---\nBody"))
    assert record.title == "BOM"
    assert record.text == "Body"


def test_markdown_only_front_matter_is_empty() -> None:
    assert_rejected(parse_document("a.md", b"---\ntitle: nothing else\n---\n\n  \n"), "empty_text")


# ---------------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------------

HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>  Page   title </title>
  <style>body { color: red; } .hidden-style {}</style>
  <script>var secret = "script text";</script>
</head>
<body>
  <header>Site header</header>
  <nav><a href="/">Home nav link</a></nav>
  <!-- an html comment -->
  <h1>Main heading</h1>
  <p>First   paragraph with <b>bold</b>
     and <a href="#">a link</a>.</p>
  <p>Second paragraph.<br>After break.</p>
  <ul><li>One</li><li>Two</li></ul>
  <noscript>Enable JavaScript</noscript>
  <template><p>template text</p></template>
  <form><label>Form label</label><input name="q"></form>
  <aside>Sidebar text</aside>
  <iframe src="x">iframe fallback</iframe>
  <svg><title>svg title</title><text>svg text</text></svg>
  <div hidden>hidden div</div>
  <pre>  keep   spacing
    here</pre>
  <footer>Footer text</footer>
</body>
</html>
"""


def test_html_visible_text() -> None:
    record = only_record(parse_document("page.html", HTML_PAGE))
    assert record.title == "Page title"
    assert record.metadata == {"html_lang": "en-GB"}
    assert record.text == (
        "# Main heading\n\n"
        "First paragraph with bold and a link.\n\n"
        "Second paragraph.\nAfter break.\n\n"
        "- One\n- Two\n\n"
        "```\n  keep   spacing\n    here\n```"
    )
    for hidden in (
        "script text", "color", "Site header", "Home nav", "html comment", "JavaScript",
        "template text", "Form label", "Sidebar", "iframe", "svg", "hidden div", "Footer",
        "Page title",
    ):  # fmt: skip
        assert hidden not in record.text


def test_html_unclosed_tags() -> None:
    source = b"<html><head><title>Broken<body><p>First<p>Second <b>bold <i>italic<div>Block<li>item"
    result = parse_document("broken.htm", source)
    record = only_record(result)
    for word in ("First", "Second bold italic", "Block", "item"):
        assert word in record.text
    assert record.text.index("First") < record.text.index("Second") < record.text.index("item")


def test_html_title_falls_back_to_h1() -> None:
    record = only_record(parse_document("a.html", b"<body><h1>The <em>H1</em></h1><p>text</p></body>"))
    assert record.title == "The H1"
    assert record.metadata == {}


def test_html_table_rows_and_cells() -> None:
    source = b"<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>31</td></tr></table>"
    assert only_record(parse_document("a.html", source)).text == "| Name | Age |\n| --- | --- |\n| Ann | 31 |"


def test_html_meta_charset_windows_1252() -> None:
    source = '<meta charset="iso-8859-1"><p>café “quotes” €</p>'.encode("cp1252")
    assert only_record(parse_document("a.html", source)).text == "café “quotes” €"


def test_html_without_visible_text_is_empty() -> None:
    source = b"<html><head><script>alert(1)</script></head><body><nav>menu</nav></body></html>"
    assert_rejected(parse_document("a.html", source), "empty_text")


def test_html_deep_nesting() -> None:
    source = b"<div>" * 10_000 + b"deep text" + b"</div>" * 10_000
    assert only_record(parse_document("deep.html", source)).text == "deep text"


# ---------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A real PDF with one text line per page (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
    return bytes(pdf.output())


def test_pdf_pages_and_page_starts() -> None:
    pages = ["First page text", "Second page here", "Third and last page"]
    record = only_record(parse_document("doc.pdf", make_pdf(pages, title="My PDF")))
    assert record.record_key is None
    assert record.title == "My PDF"
    assert record.metadata["n_pages"] == 3
    assert record.metadata["pdf_title"] == "My PDF"
    starts = record.metadata["page_starts"]
    assert starts[0] == 0
    assert len(starts) == 3
    for index, (start, expected) in enumerate(zip(starts, pages)):
        end = starts[index + 1] - 2 if index + 1 < len(starts) else len(record.text)
        assert record.text[start:end] == expected
        if index:
            assert record.text[start - 2 : start] == "\n\n"
    assert_json_safe(record.metadata)


def test_pdf_without_title_and_with_blank_page() -> None:
    record = only_record(parse_document("doc.pdf", make_pdf(["Alpha", "", "Gamma"])))
    assert record.title == "Alpha"  # no /Title: the first heading-like line of the first page
    assert "pdf_title" not in record.metadata
    # A blank page adds no text (its span is empty, right after the previous page); the joined
    # text is already clean, so page_starts stay exact offsets into the cleaned document text.
    assert record.metadata["page_starts"] == [0, 5, 7]
    assert record.text == "Alpha\n\nGamma"
    assert clean_text(record.text) == record.text


def test_pdf_with_only_blank_pages_is_empty() -> None:
    detail = assert_rejected(parse_document("scan.pdf", make_pdf(["", ""])), "empty_text")
    assert "2 pages" in detail


def test_pdf_truncated_is_parse_error() -> None:
    data = make_pdf(["Some text", "More text"])
    assert_rejected(parse_document("cut.pdf", data[: len(data) // 2]), "parse_error")


def test_pdf_garbage_is_parse_error() -> None:
    assert_rejected(parse_document("fake.pdf", b"this is not a pdf at all"), "parse_error")


def test_pdf_encrypted_with_user_password() -> None:
    data = encrypt_pdf(make_pdf(["Top secret"]), user_password="s3cret")
    assert_rejected(parse_document("locked.pdf", data), "encrypted")


def test_pdf_encrypted_with_empty_user_password_is_read() -> None:
    data = encrypt_pdf(make_pdf(["Readable anyway"]), user_password="")
    assert only_record(parse_document("owner-only.pdf", data)).text == "Readable anyway"


def flate_pdf(content: bytes) -> bytes:
    """A one-page PDF (Helvetica) whose page content stream is ``content``, Flate-compressed."""
    return one_page_pdf(content)


def test_pdf_text_bomb_stops_extraction_at_the_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # One text run of many Tj operators: pypdf concatenates the run in quadratic time (a 240 KB
    # PDF of this shape took over 10 minutes), so the page cap must stop pypdf's extraction while
    # it runs (pdf_extractors' visitor guard), not check the text once it is complete.
    show = b"(" + b"A" * 80 + b") Tj\n"
    data = flate_pdf(b"BT /F1 12 Tf 72 720 Td\n" + show * 20_000 + b"ET")
    assert len(data) < 20_000  # 1.7 MB of content stream compresses to a few KB
    visited: list[bytes] = []
    original = pdf_extractors._shown_string_bytes

    def counting(operator: bytes, operands: list) -> int:
        visited.append(operator)
        return original(operator, operands)

    monkeypatch.setattr(pdf_extractors, "_shown_string_bytes", counting)
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", 8_000)
    detail = assert_rejected(parse_document("bomb.pdf", data, ParseOptions(pdf_parser="pypdf")), "parse_error")
    assert "page 1" in detail and "8000 characters" in detail
    assert visited.count(b"Tj") == 8_000 // 80 + 1, "extraction stopped as soon as the cap was passed"
    for parser in ("pypdfium2", "pdfplumber"):  # PDFium counts the page's characters before any layout
        detail = assert_rejected(parse_document("bomb.pdf", data, ParseOptions(pdf_parser=parser)), "parse_error")
        assert "page 1" in detail and "8000 characters" in detail


@pytest.mark.parametrize("parser", pdf_extractors.EXTRACTORS)
def test_pdf_text_limit_counts_tj_arrays_and_quote_operators(parser: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", 100)
    counted: list[int] = []
    original = pdf_extractors._shown_string_bytes

    def counting(operator: bytes, operands: list) -> int:
        counted.append(original(operator, operands))
        return counted[-1]

    monkeypatch.setattr(pdf_extractors, "_shown_string_bytes", counting)
    options = ParseOptions(pdf_parser=parser, ocr="off")
    # A leading (TL) so that ' and " move to a new line: PDFium drops glyphs drawn exactly over
    # the same glyphs, so copies at one place would be 30 characters of text to it.
    start = b"BT /F1 12 Tf 14 TL 72 720 Td\n"
    for operator in (b"[(%s) 120 (%s)] TJ\n", b"(%s) '\n", b'1 2 (%s) "\n'):
        line = operator.replace(b"%s", b"B" * 30, 1).replace(b"%s", b"C" * 30)
        counted.clear()
        data = flate_pdf(start + line * 20 + b"ET")
        assert_rejected(parse_document("bomb.pdf", data, options), "parse_error")
        if parser == "pypdf":  # the guard stopped extraction as soon as the shown strings passed the cap
            assert sum(counted) > 100 >= sum(counted[:-1]), (operator, counted)
        small = flate_pdf(start + line + b"ET")
        assert "B" * 30 in only_record(parse_document("ok.pdf", small, options)).text


@pytest.mark.parametrize("parser", ["pypdf", "pypdfium2", "pdfplumber"])
def test_a_form_xobject_bomb_is_rejected_before_any_extractor_inflates_it(parser: str) -> None:
    # 200 MB of spaces in a form the page draws: PDFium inflated it all (RSS 658 MB for 300 MB)
    # and returned its text before form XObjects were decoded under pypdf's limits first.
    data = form_xobject_bomb_pdf(200_000_000)
    assert len(data) < 300_000
    result = parse_document("form_bomb.pdf", data, ParseOptions(pdf_parser=parser))
    assert "decompression limit" in assert_rejected(result, "parse_error")
    small = parse_document("form.pdf", form_xobject_bomb_pdf(1_000_000), ParseOptions(pdf_parser=parser))
    assert "form bomb" in only_record(small).text


def test_pdf_page_and_total_text_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    data = make_pdf(["A page with quite some text", "Another page"])
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", 10)
    assert "page 1" in assert_rejected(parse_document("bomb.pdf", data), "parse_error")
    monkeypatch.setattr(limits, "MAX_PDF_PAGE_CHARS", 1_000)
    monkeypatch.setattr(limits, "MAX_PDF_TOTAL_CHARS", 30)
    assert "page 2" in assert_rejected(parse_document("bomb.pdf", data), "parse_error")


# ---------------------------------------------------------------------------------------------
# JSON and JSONL
# ---------------------------------------------------------------------------------------------


def dumps(value: object) -> bytes:
    return json.dumps(value).encode("utf-8")


def test_json_array_records() -> None:
    data = dumps(
        [
            {"id": 7, "title": "Seven", "text": "seven text", "lang": "en", "tags": ["a", "b"], "nested": {"x": 1}},
            {"_id": "abc", "name": "Named", "body": "body text", "score": 1.5, "ok": True, "none": None},
            {"content": "third", "text": "", "matrix": [[1]]},
        ]
    )
    result = parse_document("data.json", data)
    assert result.reason is None
    assert result.records == [
        ParsedRecord("7", "Seven", "seven text", {"lang": "en", "tags": ["a", "b"]}),
        ParsedRecord("abc", "Named", "body text", {"score": 1.5, "ok": True, "none": None}),
        ParsedRecord("3", None, "third", {"text": ""}),
    ]
    for record in result.records:
        assert_json_safe(record.metadata)


def test_json_single_object() -> None:
    record = only_record(parse_document("one.json", dumps({"text": "hello", "author": "Bo"})))
    assert record == ParsedRecord("1", None, "hello", {"author": "Bo"})


def test_json_object_wrapping_a_list_of_records() -> None:
    data = dumps({"documents": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]})
    result = parse_document("wrapped.json", data)
    assert [(r.record_key, r.text) for r in result.records] == [("a", "A"), ("b", "B")]


def test_json_custom_options() -> None:
    options = ParseOptions(json_text_fields=("summary",), json_id_fields=("doc_no",), json_title_fields=("head",))
    data = dumps([{"doc_no": 12, "head": "H", "summary": "S", "text": "ignored as text"}])
    assert parse_document("a.json", data, options).records == [
        ParsedRecord("12", "H", "S", {"text": "ignored as text"})
    ]


def test_json_access_groups_string() -> None:
    # A single string is not a list of groups: the file is quarantined, never public (issue #14).
    result = parse_document("a.json", dumps([{"text": "t", "access_groups": "legal"}]))
    assert "record 1" in assert_rejected(result, "access_unparseable")
    record = parse_document("a.json", dumps([{"text": "t", "access_groups": ["legal"]}])).records[0]
    assert record.metadata == {"access_groups": ["legal"]}


def test_json_missing_text_field() -> None:
    data = dumps([{"id": "ok", "text": "fine"}, {"id": "bad", "text": "   ", "other": "x"}])
    detail = assert_rejected(parse_document("a.json", data), "parse_error")
    assert "record 2" in detail
    assert "'bad'" in detail
    assert "text, body, content" in detail


def test_json_record_not_an_object() -> None:
    detail = assert_rejected(parse_document("a.json", dumps([{"text": "a"}, "just a string"])), "parse_error")
    assert "record 2" in detail and "not a JSON object" in detail


def test_json_top_level_scalar() -> None:
    assert "string" in assert_rejected(parse_document("a.json", b'"text"'), "parse_error")


def test_json_empty_array() -> None:
    assert_rejected(parse_document("a.json", b"[]"), "empty_text")


def test_json_syntax_error() -> None:
    detail = assert_rejected(parse_document("a.json", b'[{"text": "a"},'), "parse_error")
    assert detail.startswith("JSONDecodeError")


def test_json_deep_nesting_is_parse_error() -> None:
    depth = 10_000
    deep = b'{"text": "x", "deep": ' + b"[" * depth + b"]" * depth + b"}"
    assert_rejected(parse_document("deep.json", deep), "parse_error")
    assert_rejected(parse_document("deep.json", b"[" * depth + b"]" * depth), "parse_error")
    detail = assert_rejected(parse_document("deep.jsonl", b'{"text": "ok"}\n' + deep), "parse_error")
    assert detail.startswith("line 2:")


def test_json_duplicate_keys() -> None:
    data = dumps([{"id": "k", "text": "a"}, {"id": "other", "text": "b"}, {"id": "k", "text": "c"}])
    detail = assert_rejected(parse_document("a.json", data), "parse_error")
    assert "duplicate" in detail and "'k'" in detail
    data = dumps([{"id": 2, "text": "a"}, {"text": "b"}])  # the second record's default key is "2"
    assert "'2'" in assert_rejected(parse_document("a.json", data), "parse_error")


def test_json_non_finite_and_unsafe_values_are_sanitised() -> None:
    data = b'[{"text": "a\\u0000b\\ud800c", "score": NaN, "big": Infinity}]'
    record = parse_document("a.json", data).records[0]
    assert record.text == "ab\ufffdc"
    assert record.metadata == {"score": None, "big": None}
    assert_json_safe(record.metadata)


def test_jsonl_records() -> None:
    data = b'{"id": "x1", "text": "first"}\r\n\r\n  \n{"text": "second", "title": "T"}\n{"text": "third"}\n'
    result = parse_document("data.jsonl", data)
    assert result.records == [
        ParsedRecord("x1", None, "first", {}),
        ParsedRecord("2", "T", "second", {}),
        ParsedRecord("3", None, "third", {}),
    ]


def test_jsonl_invalid_line_number() -> None:
    data = b'{"text": "a"}\n\n{"text": broken}\n{"text": "c"}\n'
    detail = assert_rejected(parse_document("data.ndjson", data), "parse_error")
    assert detail.startswith("line 3: ")


def test_jsonl_duplicate_key_and_missing_text() -> None:
    data = b'{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n'
    detail = assert_rejected(parse_document("d.jsonl", data), "parse_error")
    assert "'1'" in detail and "line 1" in detail and "line 2" in detail
    detail = assert_rejected(parse_document("d.jsonl", b'{"text": "a"}\n{"title": "no text"}\n'), "parse_error")
    assert detail.startswith("line 2")


def test_jsonl_line_separator_inside_string() -> None:
    data = '{"text": "before\u2028after"}\n'.encode("utf-8")
    assert parse_document("a.jsonl", data).records[0].text == "before\u2028after"


# ---------------------------------------------------------------------------------------------
# Titles: the shared "looks like a title" rules, PDF and HTML titles
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        "", "x", "Binder1.pdf", "Test Orient PDF.docx", "C:\\scans\\report", "Model", "Untitled", "untitled",
        "Untitled document", "Title", "Document1", "Slide 3", "Microsoft Word - Annual report", "windows-1254",
        "UTF-8", "ascii", "306272", "2004-08", "imagemagick-images", "DSC00123", "report_final", "A" * 201,
        " ".join(["word"] * 31),
    ],
)  # fmt: skip
def test_looks_like_title_rejects_junk(junk: str) -> None:
    assert not titles.looks_like_title(junk)


@pytest.mark.parametrize(
    "title",
    [
        "The Crazy Ones", "PDF Example Document", "Hamlet", "Spider-Man", "PEP 8 – Style Guide for Python Code",
        "ISO 9001 Quality Manual", "Введение в Python", "商品编码说明", "Latin", "Report on word counts",
        "COVID-19", "Web3",
    ],
)  # fmt: skip
def test_looks_like_title_accepts_titles(title: str) -> None:
    assert titles.looks_like_title(title)


def test_first_heading_line_skips_page_numbers_labels_and_list_items() -> None:
    page = "12\nPage 1 of 9\n1. Install the pump\nEnglish:\n(a) Note\nWater Quality Manual\nBody text here."
    assert titles.first_heading_line(page) == "Water Quality Manual"


def test_first_heading_line_skips_numbered_running_headers() -> None:
    first = "THE SIEGE OF VICKSBURG 49\nA Soldier's Diary\nText of the page."
    others = ["50 THE SIEGE OF VICKSBURG\nMore text.", "THE SIEGE OF VICKSBURG 51\nEven more."]
    assert titles.first_heading_line(first, others) == "A Soldier's Diary"
    assert titles.first_heading_line(first) == "THE SIEGE OF VICKSBURG 49"  # one page: no evidence
    # Repeated without a changing number, a top line is kept: reports print their title on every page.
    assert titles.first_heading_line("Annual Report\nText.", ["Annual Report\nMore."]) == "Annual Report"


def test_first_heading_line_stops_at_body_text() -> None:
    assert titles.first_heading_line("however, the siege did not last long; it became dan-\nA Report") is None
    assert titles.first_heading_line("THE SIEGE. 49\ngerous for use and it went on\nA Report") is None
    assert titles.first_heading_line(" ".join(["word"] * 20) + "\nShort Heading") is None
    assert titles.first_heading_line("foo\n1\nReal Title") == "Real Title"  # short labels are skipped
    assert titles.first_heading_line("") is None


def make_lines_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A real PDF (fpdf2) with the given lines on each page."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@pytest.mark.parametrize("junk", ["Binder1.pdf", "Model", "306272", "windows-1254", "Untitled document"])
def test_pdf_junk_metadata_title_falls_back_to_first_heading(junk: str) -> None:
    data = make_lines_pdf([["3", "Quarterly Water Report", "The tanks were fine all quarter."]], title=junk)
    record = only_record(parse_document("report.pdf", data))
    assert record.title == "Quarterly Water Report"
    assert record.metadata["pdf_title"] == junk  # the raw /Title is kept as metadata


def test_pdf_title_skips_running_header_and_blank_first_page() -> None:
    pages = [[], ["Field Notes 1", "Tank Inspection Guide", "Look at the tanks."], ["Field Notes 2", "More notes."]]
    record = only_record(parse_document("guide.pdf", make_lines_pdf(pages)))
    assert record.title == "Tank Inspection Guide"


def test_pdf_without_heading_like_line_has_no_title() -> None:
    record = only_record(parse_document("n.pdf", make_lines_pdf([["42", "2024-03-01", "lowercase words run on here"]])))
    assert record.title is None
    assert record.text.startswith("42")


def html_with_title(title: str, head: str = "", body: str = "<p>Body.</p>") -> bytes:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


@pytest.mark.parametrize(
    ("title", "head", "expected"),
    [
        ("PEP 8 – Style Guide for Python Code | peps.python.org", "", "PEP 8 – Style Guide for Python Code"),
        ("PEP 324 – subprocess - New module | peps.python.org", "", "PEP 324 – subprocess - New module"),
        ("Python (language) - Wikipedia", '<meta property="og:site_name" content="Wikipedia">', "Python (language)"),
        ("Releases · GitHub", '<link rel="canonical" href="https://github.com/x/y/releases">', "Releases"),
        ("Example Site | Getting Started", '<meta name="application-name" content="Example Site">', "Getting Started"),
        ("Spider-Man - Far From Home", "", "Spider-Man - Far From Home"),
        ("Fish and greens - Brightwater Cooperative", "", "Fish and greens - Brightwater Cooperative"),
        ("www.example.com | Docs", "", "Docs"),
    ],
)
def test_html_title_site_suffix(title: str, head: str, expected: str) -> None:
    assert only_record(parse_document("p.html", html_with_title(title, head))).title == expected


@pytest.mark.parametrize("junk", ["Untitled Document", "index.html", "windows-1254", "12345"])
def test_html_junk_title_falls_back_to_h1(junk: str) -> None:
    source = html_with_title(junk, body="<h1>Opening Hours</h1><p>Body.</p>")
    assert only_record(parse_document("p.html", source)).title == "Opening Hours"


def test_html_junk_title_and_no_h1_has_no_title() -> None:
    assert only_record(parse_document("p.html", html_with_title("Binder1.pdf"))).title is None


# ---------------------------------------------------------------------------------------------
# Encrypted PDFs: AES needs the cryptography package
# ---------------------------------------------------------------------------------------------


def encrypted_pdf(data: bytes, user_password: str, algorithm: str) -> bytes:
    """``data`` encrypted by pypdf's writer with ``algorithm`` (``AES-128``, ``AES-256``...)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="x", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256", "AES-256-R5", "RC4-40"])
def test_pdf_encrypted_with_empty_user_password_is_parsed(algorithm: str) -> None:
    data = encrypted_pdf(make_lines_pdf([["Sealed Manual", "Readable text."], ["Page two."]]), "", algorithm)
    assert b"/Encrypt" in data
    record = only_record(parse_document("sealed.pdf", data))
    assert record.text == "Sealed Manual\nReadable text.\n\nPage two."
    assert record.title == "Sealed Manual"
    assert record.metadata["n_pages"] == 2


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256", "RC4-128"])
def test_pdf_encrypted_with_user_password_is_encrypted(algorithm: str) -> None:
    data = encrypted_pdf(make_pdf(["Top secret"]), "s3cret", algorithm)
    detail = assert_rejected(parse_document("locked.pdf", data), "encrypted")
    assert "user password" in detail


# ---------------------------------------------------------------------------------------------
# JSON records without a text field: the text is built from the record's fields
# ---------------------------------------------------------------------------------------------


def test_json_without_text_field_builds_text_from_fields() -> None:
    record = {
        "id": "pkg-1",
        "name": "tilapia-feed",
        "description": "Floating pellets for tilapia",
        "version": 3,
        "organic": False,
        "price": 12.5,
        "missing": None,
        "blank": "  ",
        "supplier": {"name": "Aqua Ltd", "address": {"city": "Ashgrove"}},
        "tags": ["feed", "fish", 7],
        "sizes": [1, 2, 3],
        "lots": [{"code": "L1", "kg": 20}, {"code": "L2"}],
        "access_groups": ["buyers"],
    }
    parsed = only_record(parse_document("catalogue.json", dumps([record])))
    assert parsed.record_key == "pkg-1"
    assert parsed.title == "tilapia-feed"
    assert parsed.text == (
        "name: tilapia-feed\n"
        "description: Floating pellets for tilapia\n"
        "version: 3\n"
        "organic: false\n"
        "price: 12.5\n"
        "supplier.name: Aqua Ltd\n"
        "supplier.address.city: Ashgrove\n"
        "tags: feed, fish\n"
        "lots[0].code: L1\n"
        "lots[0].kg: 20\n"
        "lots[1].code: L2"
    )
    assert "buyers" not in parsed.text and "pkg-1" not in parsed.text
    # Metadata is what it always was: the record's other scalar fields.
    assert parsed.metadata == {
        "description": "Floating pellets for tilapia", "version": 3, "organic": False, "price": 12.5, "missing": None,
        "blank": "  ", "tags": ["feed", "fish", 7], "sizes": [1, 2, 3], "access_groups": ["buyers"],
    }  # fmt: skip
    assert_json_safe(parsed.metadata)


def test_json_text_field_still_wins_over_fields() -> None:
    parsed = only_record(parse_document("a.json", dumps({"text": "the text", "other": "value"})))
    assert parsed.text == "the text"


def test_json_custom_text_field_missing_uses_fields() -> None:
    options = ParseOptions(json_text_fields=("summary",))
    parsed = only_record(parse_document("a.json", dumps([{"id": 1, "text": "plain", "lang": "en"}]), options))
    assert parsed.text == "text: plain\nlang: en"


def test_json_fields_text_in_jsonl_and_multiline_values() -> None:
    data = b'{"question": "Why?", "answer": "Because.\\nThat is all."}\n{"text": "plain"}\n'
    result = parse_document("qa.jsonl", data)
    assert [r.text for r in result.records] == ["question: Why?\nanswer: Because.\nThat is all.", "plain"]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"id": "n1", "count": 3, "ok": True, "values": [1.5, 2], "none": None}, "no other string values"),
        ({"id": "t1", "title": "Only a title"}, "no other string values"),
        ({"nested": {"deeper": [1, 2]}, "blank": " "}, "no other string values"),
    ],
)
def test_json_record_without_string_content_is_rejected(record: dict, expected: str) -> None:
    detail = assert_rejected(parse_document("a.json", dumps([record])), "parse_error")
    assert expected in detail and "text, body, content" in detail


def test_json_blank_text_field_is_still_rejected() -> None:
    detail = assert_rejected(parse_document("a.json", dumps([{"id": "b", "body": " ", "other": "x"}])), "parse_error")
    assert "'body' is blank" in detail and "'b'" in detail


def test_json_fields_text_leaves_out_values_nested_too_deep() -> None:
    deep: dict = {"leaf": "too deep"}
    for _ in range(json_records.MAX_FIELD_TEXT_DEPTH + 2):
        deep = {"k": deep}
    parsed = only_record(parse_document("a.json", dumps({"summary": "kept", "deep": deep})))
    assert parsed.text == "summary: kept"


def test_json_fields_text_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_records, "MAX_FIELD_TEXT_CHARS", 100)
    data = dumps({"k" * 60: {str(i): "v" for i in range(10)}})
    assert "exceeds 100 characters" in assert_rejected(parse_document("a.json", data), "parse_error")
    assert only_record(parse_document("a.json", dumps({"k": "v"}))).text == "k: v"


# ---------------------------------------------------------------------------------------------
# Page furniture removed at parse time: tables of contents, repeated titles, terminal markup
# ---------------------------------------------------------------------------------------------

# Shaped like a rendered PEP page (docutils + the PEP theme): a hidden copy of the title for the
# site search, the visible <h1>, an in-page table of contents in <details>, then the sections.
PEP_LIKE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>PEP 9999 – Example Proposal | peps.example.org</title></head>
<body><section id="pep-page-section">
<header><h1>Example Enhancement Proposals</h1></header>
<main>
<span data-pagefind-meta="title:PEP 9999 – Example Proposal" class="visually-hidden">PEP 9999 – Example Proposal</span>
<section id="pep-content">
<h1 class="page-title">PEP 9999 – Example Proposal</h1>
<dl><dt>Author:</dt><dd>A. Writer</dd></dl>
<section id="contents">
<details><summary>Table of Contents</summary><ul class="simple">
<li><a class="reference internal" href="#abstract">Abstract</a></li>
<li><a class="reference internal" href="#rationale">Rationale</a><ul>
<li><a class="reference internal" href="#non-goals">Non-goals</a></li></ul></li>
<li><a class="reference internal" href="#file-contents">File contents</a></li>
</ul></details></section>
<section id="abstract"><h2><a class="toc-backref" href="#abstract">Abstract</a></h2>
<p>This proposal adds an example.</p></section>
<section id="rationale"><h2>Rationale</h2><p>Examples help.</p>
<section id="non-goals"><h3>Non-goals</h3><p>Nothing else.</p></section></section>
<section id="file-contents"><h2>File contents</h2><p>The file holds one line.</p></section>
</section></main>
<nav id="pep-sidebar"><h2>Contents</h2><ul><li><a href="#abstract">Abstract</a></li></ul></nav>
</section></body></html>
"""


def test_html_table_of_contents_and_hidden_title_copy_are_removed() -> None:
    record = only_record(parse_document("pep-9999.html", PEP_LIKE_PAGE.encode("utf-8")))
    assert record.title == "PEP 9999 – Example Proposal"
    assert record.text == (
        "# PEP 9999 – Example Proposal\n\nAuthor:\nA. Writer\n\n"
        "## Abstract\n\nThis proposal adds an example.\n\n## Rationale\n\nExamples help.\n\n"
        "### Non-goals\n\nNothing else.\n\n## File contents\n\nThe file holds one line."
    )


@pytest.mark.parametrize(
    "toc",
    [
        '<div class="toc"><p class="topic-title">Contents</p><ul><li><a href="#a">1. Alpha</a></li>'
        '<li><a href="#b">2. Beta</a></li></ul></div>',
        '<nav-like role="doc-toc"><ol><li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li></ol></nav-like>',
        '<div id="table-of-contents">Contents: <a href="#a">Alpha</a> · <a href="#b">Beta</a></div>',
        '<aside-like aria-label="On this page"><a href="#a">Alpha</a> <a href="#b">Beta</a></aside-like>',
        '<h2>Table of Contents</h2>\n<ul><li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li></ul>',
        '<p><strong>In this article</strong></p><ol><li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li></ol>',
    ],
    ids=["class-toc", "role-doc-toc", "id-table-of-contents", "aria-label", "heading-and-list", "paragraph-and-list"],
)
def test_html_tables_of_contents_are_removed(toc: str) -> None:
    page = f"<body><p>Intro.</p>{toc}<h2 id='a'>Alpha</h2><p>First.</p><h2 id='b'>Beta</h2><p>Second.</p></body>"
    text = only_record(parse_document("a.html", page.encode("utf-8"))).text
    assert text == "Intro.\n\n## Alpha\n\nFirst.\n\n## Beta\n\nSecond."


@pytest.mark.parametrize(
    "block",
    [
        # marked as a table of contents, but it holds prose: kept
        '<div class="toc"><p>Read <a href="#a">Alpha</a> first, then <a href="#b">Beta</a>.</p></div>',
        # links to other pages, not to anchors of this one: a list of related pages
        '<h2>Contents</h2><ul><li><a href="alpha.html">Alpha</a></li><li><a href="beta.html">Beta</a></li></ul>',
        # one in-page link is a cross-reference
        '<div class="contents"><a href="#a">Alpha</a></div>',
        # "contents" inside another name is a section about contents
        '<section id="file-contents"><a href="#a">Alpha</a> <a href="#b">Beta</a></section>',
        # a list of anchors without any table-of-contents mark
        '<ul><li><a href="#a">Alpha</a></li><li><a href="#b">Beta</a></li></ul>',
    ],
    ids=["prose", "other-pages", "one-link", "file-contents", "unmarked"],
)
def test_html_blocks_like_a_table_of_contents_are_kept(block: str) -> None:
    page = f"<body>{block}<h2 id='a'>Alpha</h2><p>First.</p></body>"
    text = only_record(parse_document("a.html", page.encode("utf-8"))).text
    before, found, _ = text.partition("\n\n## Alpha\n\nFirst.")
    assert found and "Alpha" in before, text


def test_html_hidden_text_that_is_not_the_title_is_kept() -> None:
    page = (
        "<body><h1>Guide</h1><span class='visually-hidden'>Guide</span>"
        "<p>Press <span class='sr-only'>the</span> Enter key.</p></body>"
    )
    assert only_record(parse_document("a.html", page.encode("utf-8"))).text == "# Guide\n\nPress the Enter key."


def test_markdown_table_of_contents_is_removed() -> None:
    source = (
        "# Guidelines\n\nWhat to follow.\n\n## In this Topic\n\n### Design\n\n"
        "- [Use approved verbs (RD01)][rd01]\n- [Names to avoid](#names-to-avoid)\n\n"
        "### Code\n\n1. [Derive from Cmdlet](#derive)\n\n## Use approved verbs (RD01)\n\nThe verb must be approved.\n\n"
        "[rd01]: #use-approved-verbs-rd01\n"
    )
    record = only_record(parse_document("a.md", source.encode("utf-8")))
    assert record.text == (
        "# Guidelines\n\nWhat to follow.\n\n## Use approved verbs (RD01)\n\nThe verb must be approved.\n\n"
        "[rd01]: #use-approved-verbs-rd01\n"
    )


@pytest.mark.parametrize(
    "section",
    [
        # links to other pages, each with a description: an index of the section, kept
        "## In This Section\n\n[Creating a Table View](./table.md)\nHow a table view is defined.\n\n"
        "[Creating a List View](./list.md)\nHow a list view is defined.\n",
        # prose under the heading
        "## Contents\n\nThe package contents are listed below.\n\n- [Alpha](#alpha)\n- [Beta](#beta)\n",
        # a code block under the heading
        "## Contents\n\n```\n- [Alpha](#alpha)\n- [Beta](#beta)\n```\n",
        # a heading inside a code fence is not a heading
        "```markdown\n## Contents\n\n- [Alpha](#alpha)\n- [Beta](#beta)\n```\n",
    ],
    ids=["other-pages", "prose", "code", "fenced"],
)
def test_markdown_sections_like_a_table_of_contents_are_kept(section: str) -> None:
    source = f"# Title\n\n{section}\n## Alpha\n\nText.\n"
    assert only_record(parse_document("a.md", source.encode("utf-8"))).text == source


# Shaped like the termynal blocks of the FastAPI docs: a terminal drawn with HTML colour tags.
TERMINAL_BLOCK = (
    'Run the server:\n\n<div class="termy">\n\n```console\n'
    '$ <font color="#4E9A06">serve</font> <u style="text-decoration-style:solid">main.py</u>\n\n'
    "---> 100%\n\n"
    '<span style="background-color:#007166"><font color="#D3D7CF"> INFO </font></span>  Watching '
    '<b>[</b><font color="#4E9A06">&apos;/srv/app&apos;</font><b>]</b> &amp; more\n'
    "```\n\n</div>\n\nThen open the page.\n"
)


def test_markdown_terminal_markup_becomes_terminal_text() -> None:
    record = only_record(parse_document("a.md", TERMINAL_BLOCK.encode("utf-8")))
    assert clean_text(record.text) == (
        "Run the server:\n\n```console\n$ serve main.py\n\n INFO   Watching ['/srv/app'] & more\n```\n\n"
        "Then open the page."
    )


def test_markdown_html_outside_a_terminal_block_is_kept() -> None:
    source = 'Use <b>bold</b> and <font color="red">red</font>.\n\n<div class="note">\n\n&amp; <b>x</b>\n\n</div>\n'
    assert only_record(parse_document("a.md", source.encode("utf-8"))).text == source
    unclosed = '<div class="termy">\n\n```console\n$ <b>run</b>\n```\n'
    assert only_record(parse_document("a.md", unclosed.encode("utf-8"))).text == unclosed
