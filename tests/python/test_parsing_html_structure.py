"""HTML keeps its structure as Markdown (python_udfs.parsing.html_markdown): headings, lists,
tables and code blocks, so that chunking finds sections; boilerplate is still removed.

The last part reads the 125 real PEP pages of ../shared/datasets/real-html-peps (skipped when
../shared is absent) and is marked integration: parsing them all takes about half a minute.
"""

from __future__ import annotations

import sys
import time
from functools import cache
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs.chunking import chunk_text  # noqa: E402
from python_udfs.chunking.sections import markdown_headings  # noqa: E402
from python_udfs.cleaning import clean_text  # noqa: E402
from python_udfs.parsing import ParsedRecord, parse_document  # noqa: E402
from python_udfs.parsing.html_markdown import MAX_COLSPAN, MAX_LIST_DEPTH  # noqa: E402
from python_udfs.tokens import ModelTokenizer, load_tokenizer  # noqa: E402

from conftest import SHARED  # noqa: E402

PEPS = SHARED / "datasets" / "real-html-peps"


def html_text(body: str, head: str = "") -> str:
    """The text the parser gives for a page with this ``<body>``."""
    result = parse_document("page.html", f"<html><head>{head}</head><body>{body}</body></html>".encode())
    assert result.reason is None, result.detail
    (record,) = result.records
    return record.text


def tokens(text: str) -> list[str]:
    """The block token types markdown-it (CommonMark, as the chunker) reads in ``text``."""
    return [token.type for token in MarkdownIt("commonmark").parse(text)]


@pytest.fixture(scope="module")
def tok() -> ModelTokenizer:
    return load_tokenizer()


# ---------------------------------------------------------------------------------------------
# Headings and paragraphs
# ---------------------------------------------------------------------------------------------


def test_headings_of_every_level() -> None:
    body = "".join(f"<h{n}>Level <em>{n}</em></h{n}><p>Text {n}.</p>" for n in range(1, 7))
    text = html_text(body)
    assert text == "\n\n".join(f"{'#' * n} Level {n}\n\nText {n}." for n in range(1, 7))
    assert [(h.level, h.title) for h in markdown_headings(text)] == [(n, f"Level {n}") for n in range(1, 7)]


def test_empty_heading_is_dropped_and_heading_breaks_are_spaces() -> None:
    assert html_text("<h2> </h2><p>Body.</p><h3>Two<br>lines</h3>") == "Body.\n\n### Two lines"


def test_paragraphs_are_separated_by_blank_lines() -> None:
    text = html_text("<div><p>One\n   two.</p><p>Three.</p>Loose text<blockquote>Quoted.</blockquote></div>")
    assert text == "One two.\n\nThree.\n\nLoose text\n\nQuoted."


def test_links_are_their_text() -> None:
    assert html_text('<p>See <a href="https://example.org/x">the <b>guide</b></a>.</p>') == "See the guide."


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("# not a heading", "\\# not a heading"),
        ("###### six", "\\###### six"),
        ("``` not a fence", "\\``` not a fence"),
        ("~~~", "\\~~~"),
        ("<!-- not a comment", "\\<!-- not a comment"),
        ("<pre> not a block", "\\<pre> not a block"),
        ("#hashtag", "#hashtag"),
        ("C# and F#", "C# and F#"),
    ],
)
def test_text_that_would_open_a_markdown_block_is_escaped(paragraph: str, expected: str) -> None:
    escaped = paragraph.replace("&", "&amp;").replace("<", "&lt;")
    text = html_text(f"<h1>Top</h1><p>{escaped}</p><h2>After</h2><p>Body.</p>")
    assert text == f"# Top\n\n{expected}\n\n## After\n\nBody."
    assert [h.title for h in markdown_headings(text)] == ["Top", "After"]


def test_setext_underline_in_text_is_escaped() -> None:
    text = html_text("<p>Title<br>=====</p><p>Sub<br>---</p>")
    assert markdown_headings(text) == []
    assert text == "Title\n\\=====\n\nSub\n\\---"


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------


def test_bullet_and_numbered_lists() -> None:
    assert html_text("<ul><li>One</li><li>Two</li></ul><ol><li>First</li><li>Second</li></ol>") == (
        "- One\n- Two\n\n1. First\n2. Second"
    )


def test_nested_lists_are_indented_under_their_item() -> None:
    body = (
        "<ul><li>Fruit<ul><li>Apple</li><li>Pear<ol><li>Conference</li><li>Williams</li></ol></li></ul></li>"
        "<li>Vegetables</li></ul>"
    )
    text = html_text(body)
    assert text == "- Fruit\n  - Apple\n  - Pear\n    1. Conference\n    2. Williams\n- Vegetables"
    types = tokens(text)
    assert types.count("bullet_list_open") == 2 and types.count("ordered_list_open") == 1


def test_ordered_list_start_and_wide_markers() -> None:
    text = html_text('<ol start="9"><li>Nine<ul><li>inner</li></ul></li><li>Ten<ul><li>inner</li></ul></li></ol>')
    assert text == "9. Nine\n   - inner\n10. Ten\n    - inner"
    assert tokens(text).count("bullet_list_open") == 2


def test_list_items_with_paragraphs_and_breaks() -> None:
    text = html_text("<ul><li><p>First para.</p><p>Second para.</p></li><li>Line<br>break</li></ul>")
    assert text == "- First para.\n\n  Second para.\n- Line\n  break"


def test_heading_inside_a_list_item_stays_item_text() -> None:
    text = html_text("<ul><li><h3>Inside</h3>text</li></ul><h2>Outside</h2>")
    assert [h.title for h in markdown_headings(text)] == ["Outside"]
    assert text.startswith("- Inside")


def test_empty_list_items_leave_no_marker() -> None:
    assert html_text("<ul><li> </li><li>Only</li><li></li></ul><p>After.</p>") == "- Only\n\nAfter."


def test_list_depth_is_bounded() -> None:
    depth = MAX_LIST_DEPTH + 20
    text = html_text("".join(f"<ul><li>level {n}" for n in range(depth)))
    lines = text.split("\n")
    assert len(lines) == depth
    assert max(len(line) - len(line.lstrip()) for line in lines) == 2 * (MAX_LIST_DEPTH - 1)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def test_table_with_header_cells() -> None:
    body = (
        "<table><thead><tr><th>Name</th><th>Age</th></tr></thead>"
        "<tbody><tr><td>Ann</td><td>31</td></tr><tr><td>Bo</td><td>7</td></tr></tbody></table>"
    )
    assert html_text(body) == "| Name | Age |\n| --- | --- |\n| Ann | 31 |\n| Bo | 7 |"


def test_first_row_is_the_header_without_th() -> None:
    assert html_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>") == (
        "| a | b |\n| --- | --- |\n| c | d |"
    )


def test_cell_pipes_and_line_breaks_are_escaped() -> None:
    body = (
        "<table><tr><th>Op</th><th>Meaning</th></tr><tr><td>a|b</td><td><p>one</p><p>two<br>three</p></td></tr></table>"
    )
    assert html_text(body) == "| Op | Meaning |\n| --- | --- |\n| a\\|b | one<br>two<br>three |"


def test_colspan_adds_empty_cells_and_short_rows_pad_the_header() -> None:
    body = (
        "<table><tr><th>Group</th></tr><tr><td colspan='2'>wide</td><td>c</td></tr>"
        "<tr><td colspan='0'>zero</td><td colspan='x'>bad</td></tr></table>"
    )
    assert html_text(body) == "| Group |  |  |\n| --- | --- | --- |\n| wide |  | c |\n| zero | bad |"


def test_huge_colspan_is_capped() -> None:
    text = html_text("<table><tr><td colspan='1000000'>x</td></tr></table>")
    assert text.split("\n")[1].count("---") == MAX_COLSPAN


def test_caption_and_stray_table_text_come_before_the_table() -> None:
    body = "<table><caption>Prices</caption>stray words<tr><td>tea</td><td>2</td></tr></table>"
    assert html_text(body) == "Prices\n\nstray words\n\n| tea | 2 |\n| --- | --- |"


def test_nested_table_is_text_of_its_cell() -> None:
    body = "<table><tr><td>outer<table><tr><td>inner 1</td><td>inner 2</td></tr></table></td><td>x</td></tr></table>"
    assert html_text(body) == "| outer<br>inner 1 inner 2 | x |\n| --- | --- |"


def test_empty_table_gives_no_text() -> None:
    assert html_text("<table><tr><td> </td></tr></table><p>After.</p>") == "After."


def test_unclosed_cells_without_rows_keep_their_text() -> None:
    # html.parser nests an unclosed <td> in the one before: one cell, its text kept
    assert html_text("<table><td>cell one<td>cell two</table>") == "| cell one cell two |\n| --- |"


# ---------------------------------------------------------------------------------------------
# Code blocks
# ---------------------------------------------------------------------------------------------


def test_pre_is_a_fenced_block_with_its_text_unchanged() -> None:
    code = "def f(x):\n    # a comment, not a heading\n    return  x * 2\n\n\nprint(f(1))"
    text = html_text(f"<p>Before.</p><pre>\n{code}\n</pre><p>After.</p>")
    assert text == f"Before.\n\n```\n{code}\n```\n\nAfter."
    assert markdown_headings(text) == []
    fences = [t for t in MarkdownIt("commonmark").parse(text) if t.type == "fence"]
    assert [f.content for f in fences] == [code + "\n"]


def test_code_language_from_its_class() -> None:
    assert html_text('<pre><code class="language-python">x = 1</code></pre>') == "```python\nx = 1\n```"
    sphinx = '<div class="highlight-bash notranslate"><div class="highlight"><pre>ls</pre></div></div>'
    assert html_text(sphinx) == "```bash\nls\n```"
    assert html_text('<div class="highlight-default"><div><pre>x</pre></div></div>') == "```\nx\n```"


def test_fence_is_longer_than_backticks_in_the_code() -> None:
    text = html_text("<pre>```\n# inside\n```</pre><h2>After</h2>")
    assert text == "````\n```\n# inside\n```\n````\n\n## After"
    assert [h.title for h in markdown_headings(text)] == ["After"]


def test_pre_inside_a_list_item_starts_at_column_zero() -> None:
    text = html_text("<ul><li>Run:<pre>make  build</pre></li><li>Done</li></ul>")
    assert text == "- Run:\n\n```\nmake  build\n```\n- Done"
    assert tokens(text).count("fence") == 1 and tokens(text).count("bullet_list_open") == 2


def test_markup_and_entities_inside_pre() -> None:
    text = html_text("<pre><span class='k'>if</span> a &lt; b &amp;&amp; c:<!-- hidden --></pre>")
    assert text == "```\nif a < b && c:\n```"


# ---------------------------------------------------------------------------------------------
# Boilerplate still removed, metadata unchanged
# ---------------------------------------------------------------------------------------------


def test_page_furniture_is_removed() -> None:
    body = (
        "<header><h1>Site name</h1><nav><ul><li><a href='/'>Home</a></li></ul></nav></header>"
        "<aside class='sidebar'><h2>Related</h2></aside>"
        "<main><h1>Article</h1><p>Body text.</p></main>"
        "<div class='banner'><p>Notice.</p><p class='close-button'>×</p><button>✕</button></div>"
        "<footer><p>Copyright footer</p></footer>"
    )
    assert html_text(body) == "# Article\n\nBody text.\n\nNotice."


def test_buttons_with_words_are_kept() -> None:
    assert html_text("<p>Press <button>Save</button> now.</p><p class='close'>12</p>") == "Press Save now.\n\n12"


def test_footnotes_in_an_aside_are_text() -> None:
    body = (
        "<h2>References</h2><aside class='footnote-list brackets'>"
        "<aside class='footnote brackets' role='doc-footnote'><span>[1]</span><p>The first note.</p></aside>"
        "</aside><aside class='sidebar'>Sidebar</aside>"
    )
    assert html_text(body) == "## References\n\n[1]\n\nThe first note."


def test_table_of_contents_is_still_removed_and_headings_kept() -> None:
    body = (
        "<h1>Guide</h1><div class='toc'><p>Contents</p><ul><li><a href='#a'>Alpha</a></li>"
        "<li><a href='#b'>Beta</a></li></ul></div><h2 id='a'>Alpha</h2><p>A.</p><h2 id='b'>Beta</h2><p>B.</p>"
    )
    assert html_text(body) == "# Guide\n\n## Alpha\n\nA.\n\n## Beta\n\nB."


def test_title_and_metadata_are_unchanged() -> None:
    page = (
        '<html lang="de"><head><meta charset="utf-8"><title>Seite | example.org</title></head>'
        "<body><h1>Kopf</h1><p>Text.</p></body></html>"
    )
    result = parse_document("p.html", page.encode())
    (record,) = result.records
    assert isinstance(record, ParsedRecord)
    assert record.title == "Seite"
    assert record.metadata == {"html_lang": "de"}
    assert record.text == "# Kopf\n\nText."


# ---------------------------------------------------------------------------------------------
# Hostile HTML: bounded time, nothing lost
# ---------------------------------------------------------------------------------------------


def timed_text(source: bytes, limit_s: float = 10.0) -> str:
    started = time.perf_counter()
    result = parse_document("hostile.html", source)
    elapsed = time.perf_counter() - started
    assert elapsed < limit_s, f"parsing took {elapsed:.1f}s"
    assert result.reason is None, result.detail
    return result.records[0].text


def test_deeply_nested_elements() -> None:
    depth = 10_000
    source = b"<div><ul><li><table><tr><td><h2>" * 500 + b"deep" + b"<div>" * depth + b"text" + b"</div>" * depth
    text = timed_text(source)
    assert "deep" in text and "text" in text


def test_deeply_nested_headings_and_cells() -> None:
    source = b"<table><tr><td>" * 3_000 + b"cell" + b"</td></tr></table>" * 3_000 + b"<h1>" * 3_000 + b"head"
    text = timed_text(source)
    assert "cell" in text and "head" in text


NESTED = 10_000
LINKS = b"<a href='#a'>Alpha</a> <a href='#b'>Beta</a>"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # marked tables of contents inside each other, with prose at the bottom: all kept
        (b"<section class='toc'>" * NESTED + LINKS + b" and prose", "Alpha Beta and prose"),
        # ... with only links: removed
        (
            b"<p>Intro.</p>" + b"<div class='toc'>" * NESTED + LINKS + b"</div>" * NESTED + b"<p>After.</p>",
            "Intro.\n\nAfter.",
        ),
        (
            b"<details>" * NESTED + b"<summary>Contents</summary>" + LINKS + b"</details>" * NESTED + b"<p>After.</p>",
            "After.",
        ),
        # hidden copies of the title inside each other: removed
        (b"<h1>Guide</h1>" + b"<span class='sr-only'>" * NESTED + b"Guide", "# Guide"),
        # close buttons inside each other: removed
        (b"<p>Kept.</p>" + b"<button>" * NESTED + "\u00d7".encode(), "Kept."),
        # nested headings, none of them a title
        (b"<h1>" * NESTED + b"1", "# 1"),
    ],
    ids=["toc-with-prose", "toc-of-links", "details-toc", "hidden-titles", "close-buttons", "headings"],
)
def test_deeply_nested_boilerplate_candidates(source: bytes, expected: str) -> None:
    """Every element may be a table of contents, a hidden title or a close button: each is
    judged without reading its whole subtree again (html_boilerplate reads the tree once)."""
    assert timed_text(source, limit_s=5.0) == expected


def test_huge_table() -> None:
    rows = "".join(f"<tr><td>r{n}</td><td>{n * 2}</td><td colspan=3>x</td></tr>" for n in range(20_000))
    text = timed_text(f"<table><tr><th>id</th><th>double</th></tr>{rows}</table>".encode())
    lines = text.split("\n")
    assert len(lines) == 20_002
    assert lines[0] == "| id | double |  |  |  |" and lines[-1] == "| r19999 | 39998 | x |  |  |"


def test_malformed_markup() -> None:
    source = (
        b"<h2>Unclosed heading<p>para <b>bold <i>both</b> italic</i><ul><li>one<li>two<ol><li>x</ul>"
        b"<table><tr><td>a<tr><td>b</table></td></tr><pre>code <b>in</pre> after</h2>"
        b"</li></li></ol><td>stray cell</td><tr>stray row<li>stray item<h3>Tail"
    )
    text = timed_text(source)
    for word in ("Unclosed heading", "para", "bold", "italic", "one", "two", "x", "a", "b", "code", "in"):
        assert word in text, (word, text)
    for word in ("stray cell", "stray row", "stray item", "Tail"):
        assert word in text, (word, text)


def test_many_siblings_and_long_text() -> None:
    source = b"<p>" + b"word " * 200_000 + b"</p>" + b"<li>item</li>" * 20_000
    text = timed_text(source)
    assert text.count("- item") == 20_000


# ---------------------------------------------------------------------------------------------
# Chunks of HTML: sections, offsets round-trip
# ---------------------------------------------------------------------------------------------

GUIDE_PAGE = (
    "<h1>Guide</h1><p>Intro paragraph of the guide.</p><h2>Install</h2><p>"
    + "Install it with pip and check the command line tool starts. " * 30
    + "</p><ul><li>step one</li><li>step two</li></ul><h2>Usage</h2><pre>docvec search 'x'</pre>"
    "<table><tr><th>flag</th><th>meaning</th></tr><tr><td>-k</td><td>hits</td></tr></table>"
)


def test_html_chunks_have_sections_and_round_trip(tok: ModelTokenizer) -> None:
    text = clean_text(html_text(GUIDE_PAGE))
    chunks = chunk_text(text, tok, method="markdown_sections", max_tokens=64, file_type="html", min_chunk_tokens=0)
    assert {c.section for c in chunks} == {"Guide", "Guide > Install", "Guide > Usage"}
    for chunk in chunks:
        assert text[chunk.start_char : chunk.end_char] == chunk.text
    assert any("```" in c.text and c.section == "Guide > Usage" for c in chunks)


# ---------------------------------------------------------------------------------------------
# The real PEP pages
# ---------------------------------------------------------------------------------------------

# What every PEP page repeats around its text (site header, breadcrumbs, theme switch, sidebar,
# footer, the banner's close button): none of it may reach the text.
PEP_FURNITURE = (
    "Python Enhancement Proposals",
    "PEP Index",
    "Toggle light / dark / auto colour theme",
    "Page Source (GitHub)",
    "Last modified:",
    "Source: https://github.com/python/peps",
    "Contents",
    "## Contents",
    "Table of Contents",
    "×",
)
MIN_PEP_HEADINGS = 5
MIN_PEP_SECTIONS = 4


@cache
def pep_texts() -> dict[str, str]:
    """The cleaned text of every PEP page (parsed once per test session)."""
    texts = {}
    for path in sorted(PEPS.glob("pep-*.html")):
        result = parse_document(path.name, path.read_bytes())
        assert result.reason is None, (path.name, result.reason, result.detail)
        (record,) = result.records
        assert record.title and record.title.startswith("PEP "), (path.name, record.title)
        assert record.metadata.get("html_lang") == "en"
        texts[path.name] = clean_text(record.text)
    return texts


needs_peps = pytest.mark.skipif(not PEPS.is_dir(), reason="../shared/datasets/real-html-peps is absent")


@needs_peps
@pytest.mark.integration
def test_every_pep_parses_with_headings() -> None:
    texts = pep_texts()
    assert len(texts) == 125
    few = {name: n for name, text in texts.items() if (n := len(markdown_headings(text))) < MIN_PEP_HEADINGS}
    assert not few, few


@needs_peps
@pytest.mark.integration
def test_every_pep_gets_sections_in_its_chunks(tok: ModelTokenizer) -> None:
    sections: dict[str, int] = {}
    for name, text in pep_texts().items():
        chunks = chunk_text(
            text,
            tok,
            method="markdown_sections",
            max_tokens=256,
            overlap_tokens=32,
            file_type="html",
            min_chunk_tokens=20,
        )
        assert all(text[c.start_char : c.end_char] == c.text for c in chunks), name
        sections[name] = len({c.section for c in chunks if c.section})
    few = {name: n for name, n in sections.items() if n < MIN_PEP_SECTIONS}
    assert not few, few


@needs_peps
@pytest.mark.integration
def test_pep_page_furniture_is_absent() -> None:
    left = {
        name: [line for line in text.split("\n") if line.strip() in PEP_FURNITURE or line.startswith(PEP_FURNITURE[:6])]
        for name, text in pep_texts().items()
    }
    assert not {name: lines for name, lines in left.items() if lines}


@needs_peps
@pytest.mark.integration
def test_pep_code_blocks_and_footnotes_survive() -> None:
    """Every <pre> is one fenced block holding its code line for line; every footnote is text."""
    for number, (name, text) in enumerate(pep_texts().items()):
        fences = [t.content for t in MarkdownIt("commonmark").parse(text) if t.type == "fence"]
        source = (PEPS / name).read_text(encoding="utf-8")
        assert len(fences) == source.count("<pre"), name
        if number % 5:
            continue  # the code and footnotes of every fifth page are compared in full
        soup = BeautifulSoup(source, "html.parser")
        code = [pre.get_text().strip("\n") for pre in soup.find_all("pre")]
        assert [clean_text(c) for c in code if c.strip()] == [clean_text(f) for f in fences], name
        flat = "".join(text.split())
        for note in soup.find_all("aside", attrs={"role": "doc-footnote"}):
            for label in note.find_all(class_="label"):
                label.extract()  # "[1]": its brackets and number come split by tags
            assert "".join(note.get_text().split()) in flat, (name, note)
