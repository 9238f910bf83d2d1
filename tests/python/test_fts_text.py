"""Keyword search (BM25, DuckDB fts) in languages written without spaces: python_udfs.fts_text.

The text rewrite itself, then real in-memory DuckDB indexes built with the app's pragma
(`create_fts_index_sql`) and queried with the app's keyword SQL (docvec.searching.keyword_ranking
over a `search_index` table, and the evaluation's StrategyCorpus on a bare connection).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from docvec.searching import SEARCH_TABLE, SearchFilters, keyword_ranking
from python_udfs.evaluation import StrategyCorpus, corpus_table_name
from python_udfs.fts_text import FUNCTION_NAME, fts_text
from python_udfs.plugin import load_extensions, register_udfs
from python_udfs.ranking import create_fts_index_sql, fts_schema, with_fts_text_sql

# chunk_id, document_id, title, section, chunk_text
CHUNKS = [
    ("en1", "trout", "Trout care", "Water", "Trout need cold, well oxygenated water all year."),
    ("en2", "trout", "Trout care", "Feeding", "Feed the trout twice a day; remove uneaten pellets."),
    ("en3", "pumps", "Pumps", None, "The water pumps run on a timer; clean the filters weekly."),
    ("ja1", "suizokukan", "水族館", "飼育", "東京の水族館では、冷たい水でマスを飼育しています。"),
    ("ja2", "kouen", "公園", None, "公園の池には鯉がいて、毎朝えさをあげます。"),
    ("zh1", "yangyu", "养鱼", None, "我们在温室里用循环水养殖鲈鱼和罗非鱼。"),
    ("ko1", "yangsik", "양식", None, "송어는 차가운 물에서 잘 자랍니다."),
]

SELECT_CHUNKS = (
    "select chunk_id, document_id, ['public']::varchar[] as access_groups, title, section, chunk_text, "
    "'docs/' || document_id || '.md' as source_path, 'markdown' as file_type, '{}'::json as metadata, "
    "0 as start_char, length(chunk_text) as end_char, [1.0, 0.0]::float[2] as embedding from raw_chunks"
)


def _raw_chunks(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "create table raw_chunks (chunk_id varchar, document_id varchar, title varchar, section varchar, "
        "chunk_text varchar)"
    )
    conn.executemany("insert into raw_chunks values (?, ?, ?, ?, ?)", CHUNKS)


@pytest.fixture()
def warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """A `search_index` as the build makes it (fts_text column, the app's fts pragma), with the
    plugin's UDFs; and its English chunks indexed the way they were before fts_text (three raw
    columns, fts's default `ignore`) as `legacy_index`."""
    conn = duckdb.connect()
    load_extensions(conn, ("fts",))
    register_udfs(conn)
    _raw_chunks(conn)
    conn.execute(f"create table {SEARCH_TABLE} as {with_fts_text_sql(SELECT_CHUNKS)}")
    conn.execute(create_fts_index_sql(SEARCH_TABLE))
    _legacy_index(conn, "legacy_index", "where chunk_id like 'en%'")
    yield conn
    conn.close()


def _legacy_index(conn: duckdb.DuckDBPyConnection, table: str, where: str) -> None:
    """The chunks that pass `where` as table `table`, indexed the way search_index was before
    fts_text (three raw columns, fts's default `ignore`)."""
    conn.execute(f"create table {table} as {SELECT_CHUNKS} {where}")
    conn.execute(
        f"pragma create_fts_index('{table}', 'chunk_id', 'chunk_text', 'title', 'section', "
        "stemmer = 'porter', stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
    )


def _ids(rows: list[tuple]) -> list[str]:
    return [row[0] for row in rows]


# --------------------------------------------------------------------------------------------
# fts_text
# --------------------------------------------------------------------------------------------


def test_japanese_runs_become_overlapping_bigrams() -> None:
    assert fts_text("日本語") == " 日本 本語 "
    assert fts_text("水族館でマスを飼育") == " 水族 族館 館で でマ マス スを を飼 飼育 "


def test_punctuation_splits_runs_and_a_lone_character_stays_itself() -> None:
    assert fts_text("東京、水。") == " 東京 、 水 。"


def test_chinese_and_korean_runs_become_bigrams() -> None:
    assert fts_text("养殖鲈鱼") == " 养殖 殖鲈 鲈鱼 "
    assert fts_text("송어는 차가운") == " 송어 어는   차가 가운 "


def test_thai_bigrams_leave_out_combining_marks() -> None:
    assert fts_text("ปลาน้ำ") == " ปล ลา าน นำ "  # the tone mark ้ (U+0E49) is left out


def test_mixed_text_keeps_its_english_and_separates_the_runs() -> None:
    assert fts_text("Trout 養殖 in Tokyo東京") == "Trout  養殖  in Tokyo 東京 "


@pytest.mark.parametrize(
    "text", ["Trout need cold, well oxygenated water all year.", "Ünïcode café — naïve 42%", "", None]
)
def test_text_without_cjk_is_unchanged(text: str | None) -> None:
    assert fts_text(text) == text


def test_the_udf_is_fts_text(warehouse: duckdb.DuckDBPyConnection) -> None:
    row = warehouse.execute(f"select {FUNCTION_NAME}('東京の水'), {FUNCTION_NAME}(null)").fetchone()
    assert row == (fts_text("東京の水"), None)


# --------------------------------------------------------------------------------------------
# BM25 over search_index (docvec.searching.keyword_ranking)
# --------------------------------------------------------------------------------------------


def test_a_japanese_question_finds_the_japanese_chunk(warehouse: duckdb.DuckDBPyConnection) -> None:
    # A phrase of ja1 with other word boundaries (and a question ending of its own).
    rows = keyword_ranking(warehouse, "水族館でマスを飼育するには？", SearchFilters(), 5)
    assert _ids(rows)[0] == "ja1"
    assert _ids(rows) == ["ja1", "ja2"]  # ja2 shares only the bigram には with the question
    _legacy_index(warehouse, "legacy_all", "")
    legacy = f"select chunk_id from legacy_all where {fts_schema('legacy_all')}.match_bm25(chunk_id, ?) is not null"
    assert warehouse.execute(legacy, ["水族館でマスを飼育するには？"]).fetchall() == []  # what issue #13 reported


@pytest.mark.parametrize(
    ("question", "expected"), [("鲈鱼养殖", "zh1"), ("차가운 물", "ko1"), ("池には鯉がいますか", "ja2")]
)
def test_chinese_korean_and_japanese_questions_find_their_chunk(
    warehouse: duckdb.DuckDBPyConnection, question: str, expected: str
) -> None:
    assert _ids(keyword_ranking(warehouse, question, SearchFilters(), 5))[:1] == [expected]


@pytest.mark.parametrize("question", ["cold water for trout", "Feeding the TROUT", "pump filters", "the and of"])
def test_an_english_question_ranks_as_before(warehouse: duckdb.DuckDBPyConnection, question: str) -> None:
    """Same chunks, same order; the same scores once the corpus is English only (BM25's average
    document length counts the CJK chunks' bigrams, which the old index dropped)."""
    rows = keyword_ranking(warehouse, question, SearchFilters(), 10)
    assert _ids(rows) == _ids(_legacy_ranking(warehouse, question))
    warehouse.execute(f"delete from {SEARCH_TABLE} where chunk_id not like 'en%'")
    warehouse.execute(create_fts_index_sql(SEARCH_TABLE))
    rows = keyword_ranking(warehouse, question, SearchFilters(), 10)
    legacy = _legacy_ranking(warehouse, question)
    assert _ids(rows) == _ids(legacy)
    assert [row[-1] for row in rows] == pytest.approx([row[1] for row in legacy], rel=1e-12)


def _legacy_ranking(conn: duckdb.DuckDBPyConnection, question: str) -> list[tuple]:
    return conn.execute(
        f"select chunk_id, {fts_schema('legacy_index')}.match_bm25(chunk_id, ?) as score from legacy_index "
        "where score is not null order by score desc, chunk_id",
        [question],
    ).fetchall()


# --------------------------------------------------------------------------------------------
# BM25 in the evaluation (python_udfs.evaluation.StrategyCorpus)
# --------------------------------------------------------------------------------------------


def test_the_evaluation_corpus_finds_the_japanese_chunk_on_a_bare_connection() -> None:
    with duckdb.connect() as conn:
        load_extensions(conn, ("fts",))  # no register_udfs: StrategyCorpus registers fts_text itself
        _raw_chunks(conn)
        with StrategyCorpus(conn, SELECT_CHUNKS, name=corpus_table_name("fts_text")) as corpus:
            rows = corpus.keyword_ranking("マスを飼育", ("public",), depth=3)
            assert [row[0] for row in rows][:1] == ["ja1"]
            assert [row[0] for row in corpus.keyword_ranking("trout", ("public",), 3, 5)] == ["en1", "en2"]
