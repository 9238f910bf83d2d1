"""Tests for python_udfs.plugin: extensions and the docvec_* functions as DuckDB sees them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs import plugin  # noqa: E402
from python_udfs.chunking import chunk_text  # noqa: E402
from python_udfs.cleaning import clean_text  # noqa: E402
from python_udfs.embedding import embed_texts, load_model  # noqa: E402
from python_udfs.tokens import load_tokenizer  # noqa: E402

DIMENSION = 384

# Emoji outside the BMP, skin-tone modifiers, ZWJ sequences, flags, combining marks (not
# normalised), CJK and Greek: offsets must count code points exactly like DuckDB's substring.
UNICODE_DOC = "\n\n".join(
    [
        "Emoji 😀 and 👍🏽 thumbs, a family 👨‍👩‍👧 and flags 🇫🇷🇯🇵 appear here.",
        "Combining: cafe\u0301 nai\u0308ve A\u030a and precomposed café naïve Å side by side.",
        "東京は日本の首都です。大阪は関西の中心です。" * 3,
        "Greek αβγδ and math ∑∫√ with 𝒳𝒴 script letters.",
        " ".join(["More 😀 text é\u0301 here."] * 20),
    ]
)

MARKDOWN_BLOB = b"""---
title: Front Title
tags: [a, b]
---
# Heading One

Body text.

## Sub

More text.
"""


@pytest.fixture(scope="session")
def model():
    # The same cache key as embed_query_udf (model path None, backend "torch"): loaded once.
    return load_model(None, "torch")


@pytest.fixture(scope="module")
def conn():
    connection = duckdb.connect(":memory:")
    plugin.configure(connection)
    yield connection
    connection.close()


def chunks_sql(conn, text: str | None, file_type: str | None, method: str, max_tokens: int, overlap: int | None):
    return conn.execute(
        "select docvec_chunk(?, ?, ?, ?, ?, 0, null)", [text, file_type, method, max_tokens, overlap]
    ).fetchone()[0]


# ---------------------------------------------------------------------------------------------
# Extensions
# ---------------------------------------------------------------------------------------------


def test_extension_files_come_from_pip_packages() -> None:
    for name in ("vss", "fts"):
        path = plugin.extension_path(name)
        assert path.is_file()
        assert path.name == f"{name}.duckdb_extension"
        assert f"v{duckdb.__version__}" in path.parts


def test_vss_and_fts_are_loaded(conn) -> None:
    loaded = dict(
        conn.execute(
            "select extension_name, loaded from duckdb_extensions() where extension_name in ('vss', 'fts')"
        ).fetchall()
    )
    assert loaded == {"vss": True, "fts": True}


def test_extensions_not_loaded_without_configure() -> None:
    with duckdb.connect() as fresh:
        plugin.register_udfs(fresh)
        loaded = dict(
            fresh.execute(
                "select extension_name, loaded from duckdb_extensions() where extension_name in ('vss', 'fts')"
            ).fetchall()
        )
        assert not any(loaded.values())
        plugin.load_extensions(fresh, ("fts",))
        (fts_loaded,) = fresh.execute("select loaded from duckdb_extensions() where extension_name = 'fts'").fetchone()
        assert fts_loaded


def test_hnsw_index_works(conn) -> None:
    conn.execute("create or replace table vec_test(id int, v FLOAT[3])")
    conn.execute("insert into vec_test values (1, [1, 0, 0]), (2, [0, 1, 0]), (3, [0.9, 0.1, 0])")
    conn.execute("create index vec_test_hnsw on vec_test using hnsw (v) with (metric = 'cosine')")
    plan = conn.execute(
        "explain select id from vec_test order by array_cosine_distance(v, [1, 0, 0]::FLOAT[3]) limit 2"
    ).fetchall()
    assert "HNSW" in str(plan).upper()
    ids = conn.execute(
        "select id from vec_test order by array_cosine_distance(v, [1, 0, 0]::FLOAT[3]) limit 2"
    ).fetchall()
    assert ids == [(1,), (3,)]


def test_fts_index_works(conn) -> None:
    conn.execute("create or replace table fts_test(id varchar, body varchar)")
    conn.execute("insert into fts_test values ('a', 'the quick brown fox'), ('b', 'lazy dogs sleep all day')")
    conn.execute("pragma create_fts_index('fts_test', 'id', 'body')")
    hits = conn.execute(
        "select id from (select id, fts_main_fts_test.match_bm25(id, 'dogs') as score from fts_test) "
        "where score is not null"
    ).fetchall()
    assert hits == [("b",)]


def test_plugin_class_configures_a_connection() -> None:
    from dbt.adapters.duckdb.plugins import BasePlugin

    instance = BasePlugin.create("python_udfs.plugin", config={})
    assert isinstance(instance, plugin.Plugin)
    with duckdb.connect() as fresh:
        instance.configure_connection(fresh)
        assert fresh.execute("select docvec_max_seq_length(null)").fetchone() == (256,)
        (loaded,) = fresh.execute(
            "select count(*) from duckdb_extensions() where loaded and extension_name in ('vss', 'fts')"
        ).fetchone()
        assert loaded == 2


# ---------------------------------------------------------------------------------------------
# docvec_chunk
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("max_tokens", "overlap"), [(16, 4), (32, 0), (256, 32)])
def test_chunk_offsets_match_duckdb_substring(conn, max_tokens: int, overlap: int) -> None:
    rows = conn.execute(
        """
        with doc as (select ?::varchar as text),
        pieces as (
            select text, unnest(docvec_chunk(text, 'text', 'recursive', ?, ?, 0, null), recursive := true)
            from doc
        )
        select chunk_index, start_char, end_char, chunk_text, n_tokens,
               substring(text, start_char + 1, end_char - start_char) as sliced,
               length(chunk_text) as n_chars
        from pieces order by chunk_index
        """,
        [UNICODE_DOC, max_tokens, overlap],
    ).fetchall()
    assert len(rows) >= (2 if max_tokens < 256 else 1)
    tok = load_tokenizer()
    for _index, start, end, text, n_tokens, sliced, n_chars in rows:
        assert text == sliced
        assert n_chars == end - start
        assert n_tokens == tok.count(text) <= max_tokens
    assert [r[0] for r in rows] == list(range(len(rows)))


def test_chunk_udf_equals_chunk_text(conn) -> None:
    structs = chunks_sql(conn, UNICODE_DOC, "text", "recursive", 24, 6)
    expected = chunk_text(UNICODE_DOC, load_tokenizer(), method="recursive", max_tokens=24, overlap_tokens=6)
    assert [
        (s["chunk_index"], s["start_char"], s["end_char"], s["chunk_text"], s["n_tokens"], s["section"])
        for s in structs
    ] == [(c.chunk_index, c.start_char, c.end_char, c.text, c.n_tokens, c.section) for c in expected]


def test_chunk_markdown_sections_in_sql(conn) -> None:
    text = "Preamble.\n\n# A\n\nalpha\n\n## B\n\n```\n# code\n```\n\nbeta\n\n# C\n\ngamma"
    structs = chunks_sql(conn, text, "markdown", "markdown_sections", 256, 32)
    assert [s["section"] for s in structs] == [None, "A", "A > B", "C"]
    for s in structs:
        (sliced,) = conn.execute(
            "select substring(?, ?, ?)", [text, s["start_char"] + 1, s["end_char"] - s["start_char"]]
        ).fetchone()
        assert sliced == s["chunk_text"]
    plain = chunks_sql(conn, text, "text", "markdown_sections", 256, 32)
    assert [s["section"] for s in plain] == [None]


def test_chunk_over_a_table_of_documents(conn) -> None:
    conn.execute("create or replace table docs(id int, text varchar, file_type varchar)")
    conn.execute(
        "insert into docs values (1, ?, 'text'), (2, null, 'text'), (3, '   ', 'markdown'), (4, ?, 'markdown')",
        [UNICODE_DOC, "# T\n\n" + "word " * 400],
    )
    counts = dict(
        conn.execute(
            """
            select id, count(c.chunk_text)
            from docs left join (
                select
                    id as cid,
                    unnest(docvec_chunk(text, file_type, 'markdown_sections', 64, 8, 0, null), recursive := true)
                from docs
            ) c on c.cid = docs.id
            group by id order by id
            """
        ).fetchall()
    )
    assert counts[2] == 0 and counts[3] == 0
    assert counts[1] > 1 and counts[4] > 1
    bad = conn.execute(
        """
        select count(*) from (
            select text, unnest(docvec_chunk(text, file_type, 'markdown_sections', 64, 8, 0, null), recursive := true)
            from docs
        ) where chunk_text <> substring(text, start_char + 1, end_char - start_char) or n_tokens > 64
        """
    ).fetchone()[0]
    assert bad == 0


def test_chunk_invalid_arguments_raise_a_clear_error(conn) -> None:
    with pytest.raises(duckdb.Error, match="unknown chunking method"):
        chunks_sql(conn, "text", "text", "semantic", 256, 0)
    with pytest.raises(duckdb.Error, match="overlap_tokens"):
        chunks_sql(conn, "text", "text", "recursive", 16, 16)
    with pytest.raises(duckdb.Error, match="tokenizer.json"):
        conn.execute("select docvec_chunk('x', 'text', 'recursive', 64, 0, 0, '/no/such/model')").fetchall()


def test_clean_then_chunk_pipeline(conn) -> None:
    raw = "Title\r\n\r\n\r\n\r\ncafe\u0301 with\u200b zero width\x07 and trailing   \r\nlines " * 30
    (cleaned,) = conn.execute("select docvec_clean(?)", [raw]).fetchone()
    assert cleaned == clean_text(raw)
    structs = chunks_sql(conn, cleaned, "text", "recursive", 48, 8)
    assert len(structs) > 1
    assert all(cleaned[s["start_char"] : s["end_char"]] == s["chunk_text"] for s in structs)


# ---------------------------------------------------------------------------------------------
# docvec_parse, docvec_file_type, token helpers
# ---------------------------------------------------------------------------------------------


def test_parse_markdown_blob(conn) -> None:
    (result,) = conn.execute("select docvec_parse('notes/guide.md', ?, null)", [MARKDOWN_BLOB]).fetchone()
    assert result["reason"] is None and result["detail"] is None
    (record,) = result["records"]
    assert record["record_key"] is None
    assert record["title"] == "Front Title"
    assert record["text"].startswith("# Heading One")
    assert "title:" not in record["text"]
    metadata = json.loads(record["metadata"])
    assert metadata["title"] == "Front Title"
    assert metadata["tags"] == ["a", "b"]


def test_parse_fields_are_queryable_in_sql(conn) -> None:
    rows = conn.execute(
        """
        select r.title, json_extract_string(r.metadata, '$.title')
        from (select unnest(docvec_parse('guide.md', ?, null).records) as r)
        """,
        [MARKDOWN_BLOB],
    ).fetchall()
    assert rows == [("Front Title", "Front Title")]


def test_parse_jsonl_with_options(conn) -> None:
    content = b'{"key": 1, "name": "First", "body": "hello", "tag": "x"}\n{"key": 2, "body": "world"}\n'
    options = json.dumps({"json_text_fields": ["body"], "json_id_fields": ["key"], "json_title_fields": ["name"]})
    (result,) = conn.execute("select docvec_parse('data.jsonl', ?, ?)", [content, options]).fetchone()
    assert result["reason"] is None
    records = result["records"]
    assert [r["record_key"] for r in records] == ["1", "2"]
    assert [r["text"] for r in records] == ["hello", "world"]
    assert records[0]["title"] == "First" and records[1]["title"] is None
    assert json.loads(records[0]["metadata"]) == {"tag": "x"}


def test_parse_failure_is_a_reason_not_an_error(conn) -> None:
    (result,) = conn.execute("select docvec_parse('image.png', ?, null)", [b"\x89PNG\r\n"]).fetchone()
    assert result["records"] == []
    assert result["reason"] == "parse_error"  # a truncated PNG
    assert result["detail"]
    (result,) = conn.execute("select docvec_parse('drawing.odg', ?, null)", [b"PK\x03\x04"]).fetchone()
    assert result["records"] == [] and result["reason"] == "unsupported_type" and result["detail"]


def test_file_type(conn) -> None:
    rows = conn.execute(
        "select docvec_file_type(p) from (values ('a/b/Guide.MD'), ('x.txt'), ('page.htm'), ('r.ndjson'), "
        "('doc.pdf'), ('tool.exe'), ('noext')) t(p)"
    ).fetchall()
    assert [r[0] for r in rows] == ["markdown", "text", "html", "jsonl", "pdf", None, None]


def test_count_tokens_and_max_seq_length(conn) -> None:
    tok = load_tokenizer()
    texts = ["", "hello world", UNICODE_DOC]
    for text in texts:
        (count,) = conn.execute("select docvec_count_tokens(?, null)", [text]).fetchone()
        assert count == tok.count(text)
    assert conn.execute("select docvec_count_tokens('', '')").fetchone() == (2,)
    assert conn.execute("select docvec_max_seq_length(null)").fetchone() == (256,)
    assert conn.execute("select docvec_max_seq_length('')").fetchone() == (256,)


def test_clean_in_sql(conn) -> None:
    raw = "a\r\nb\u200b\x00c\n\n\n\nd  "
    assert conn.execute("select docvec_clean(?)", [raw]).fetchone() == (clean_text(raw),)


# ---------------------------------------------------------------------------------------------
# docvec_pii, docvec_find_pii
# ---------------------------------------------------------------------------------------------
PII_TEXT = "Mail jane.doe@example.com or ssh to 81.2.6.3."


def test_pii_modes_in_sql(conn) -> None:
    rows = conn.execute(
        "select m, docvec_pii(?, m, null) from (values ('redact'), ('flag'), ('off')) t(m) order by m", [PII_TEXT]
    ).fetchall()
    by_mode = dict(rows)
    assert by_mode["redact"] == {
        "text": "Mail [EMAIL] or ssh to [IP_ADDRESS].",
        "findings": [
            {"entity_type": "EMAIL", "start_char": 5, "end_char": 12},
            {"entity_type": "IP_ADDRESS", "start_char": 23, "end_char": 35},
        ],
    }
    assert by_mode["flag"] == {
        "text": PII_TEXT,
        "findings": [
            {"entity_type": "EMAIL", "start_char": 5, "end_char": 25},
            {"entity_type": "IP_ADDRESS", "start_char": 36, "end_char": 44},
        ],
    }
    assert by_mode["off"] == {"text": PII_TEXT, "findings": []}


def test_pii_spans_index_the_output_like_duckdb_substring(conn) -> None:
    """1-based substring(text, start_char + 1, end_char - start_char) is the placeholder or the value."""
    rows = conn.execute(
        """
        select m, substring(r.text, f.start_char + 1, f.end_char - f.start_char)
        from (select m, docvec_pii(?, m, null) as r from (values ('redact'), ('flag')) t(m))
        cross join unnest(r.findings) as u(f)
        order by m, f.start_char
        """,
        [PII_TEXT],
    ).fetchall()
    assert rows == [
        ("flag", "jane.doe@example.com"),
        ("flag", "81.2.6.3"),
        ("redact", "[EMAIL]"),
        ("redact", "[IP_ADDRESS]"),
    ]


def test_pii_null_text_and_invalid_mode(conn) -> None:
    assert conn.execute("select docvec_pii(null, 'redact', null), docvec_find_pii(null, null)").fetchone() == (None, [])
    with pytest.raises(duckdb.Error, match="pii_mode must be one of redact, flag, off"):
        conn.execute("select docvec_pii(?, 'mask', null)", [PII_TEXT]).fetchone()
    with pytest.raises(duckdb.Error, match="pii_mode must be one of redact, flag, off"):
        conn.execute("select docvec_pii(?, null, null)", [PII_TEXT]).fetchone()


def test_find_pii_gives_spans_in_its_input(conn) -> None:
    (findings,) = conn.execute("select docvec_find_pii(?, null)", [PII_TEXT]).fetchone()
    assert [(f["entity_type"], PII_TEXT[f["start_char"] : f["end_char"]]) for f in findings] == [
        ("EMAIL", "jane.doe@example.com"),
        ("IP_ADDRESS", "81.2.6.3"),
    ]


# ---------------------------------------------------------------------------------------------
# docvec_embed_query
# ---------------------------------------------------------------------------------------------


def test_embed_query_returns_the_model_vector(conn, model) -> None:
    query = "How do I install the package on Linux?"
    (vector,) = conn.execute("select docvec_embed_query(?, null, 'torch')", [query]).fetchone()
    assert isinstance(vector, list) and len(vector) == DIMENSION
    array = np.array(vector, dtype=np.float32)
    assert np.linalg.norm(array) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(array, embed_texts(model, [query])[0], atol=1e-5)


def test_embed_query_ranks_related_text_first(conn, model) -> None:
    conn.execute("create or replace table passages(id int, body varchar, v FLOAT[384])")
    bodies = [
        "Install the package with pip on Linux.",
        "The recipe needs flour, butter and sugar.",
        "Football season starts in August.",
    ]
    vectors = embed_texts(model, bodies)
    for i, (body, vector) in enumerate(zip(bodies, vectors)):
        conn.execute("insert into passages values (?, ?, ?)", [i, body, vector.tolist()])
    (best,) = conn.execute(
        """
        select id from passages
        order by array_cosine_distance(v, docvec_embed_query('how to set up the software', null, null)::FLOAT[384])
        limit 1
        """
    ).fetchone()
    assert best == 0


def test_embed_query_unknown_backend_raises(conn) -> None:
    with pytest.raises(duckdb.Error, match="unknown embedding_backend"):
        conn.execute("select docvec_embed_query('q', null, 'openvino')").fetchall()


# ---------------------------------------------------------------------------------------------
# NULL inputs
# ---------------------------------------------------------------------------------------------


def test_null_inputs_do_not_crash(conn) -> None:
    (file_type, cleaned, count, max_len, chunks, parsed) = conn.execute(
        """
        select docvec_file_type(null), docvec_clean(null), docvec_count_tokens(null, null),
               docvec_max_seq_length(null), docvec_chunk(null, null, 'recursive', 256, 32, 0, null),
               docvec_parse(null, null, null)
        """
    ).fetchone()
    assert file_type is None
    assert cleaned in (None, "")
    assert count in (None, 2)
    assert max_len == 256
    assert not chunks
    assert parsed["records"] == [] and parsed["reason"] in ("unsupported_type", "empty_text")


def test_null_embed_query_does_not_crash(conn) -> None:
    (vector,) = conn.execute("select docvec_embed_query(null, null, null)").fetchone()
    assert vector is None or len(vector) == DIMENSION


def test_null_file_type_falls_back_to_recursive(conn) -> None:
    text = "word " * 300
    with_null_type = chunks_sql(conn, text, None, "markdown_sections", 64, 0)
    explicit = chunks_sql(conn, text, "text", "recursive", 64, 0)
    assert with_null_type == explicit
    assert all(s["section"] is None for s in with_null_type)


@pytest.mark.parametrize("max_tokens, overlap", [(None, 0), (64, None)])
def test_null_token_settings_are_a_clear_error(conn, max_tokens, overlap) -> None:
    with pytest.raises(duckdb.Error, match="must not be NULL"):
        chunks_sql(conn, "word " * 10, "text", "recursive", max_tokens, overlap)


def test_parse_null_content_with_a_path(conn) -> None:
    (result,) = conn.execute("select docvec_parse('a.md', null, null)").fetchone()
    assert result["records"] == []
    assert result["reason"] == "empty_text"


def test_nulls_mixed_with_values_in_one_vector(conn) -> None:
    rows = conn.execute(
        """
        select t, docvec_clean(t), docvec_count_tokens(t, null), len(docvec_chunk(t, null, 'recursive', 64, 0, 0, null))
        from (values ('hello'), (null), ('world wide'), (null)) v(t)
        """
    ).fetchall()
    tok = load_tokenizer()
    by_text = {r[0]: r[1:] for r in rows if r[0] is not None}
    assert by_text["hello"] == ("hello", tok.count("hello"), 1)
    assert by_text["world wide"] == ("world wide", tok.count("world wide"), 1)
    assert len(rows) == 4


def test_chunk_udf_passes_min_chunk_tokens(conn) -> None:
    text = "# A\n\n" + "alpha beta gamma delta " * 5 + "\n\n# B\n\nTiny.\n\n# C\n\n" + "epsilon zeta eta theta " * 5
    (structs,) = conn.execute(
        "select docvec_chunk(?, 'markdown', 'markdown_sections', 64, 0, 20, null)", [text]
    ).fetchone()
    expected = chunk_text(
        text, load_tokenizer(), method="markdown_sections", max_tokens=64, file_type="markdown", min_chunk_tokens=20
    )
    assert [(s["start_char"], s["end_char"], s["section"]) for s in structs] == [
        (c.start_char, c.end_char, c.section) for c in expected
    ]
    assert [s["section"] for s in structs] == ["A", "C"]  # "# B\n\nTiny." joined the section before
    with pytest.raises(duckdb.Error, match="min_chunk_tokens"):
        conn.execute("select docvec_chunk('x', 'text', 'recursive', 64, 0, -1, null)").fetchall()
