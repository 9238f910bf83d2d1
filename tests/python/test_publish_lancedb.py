"""The LanceDB publish target (docvec.publishing.targets.lancedb_target) on a real LanceDB folder:
incremental sync, stamps, parity checksums, filtered vector and keyword rankings against a
brute-force ranking, hostile filter values, and a sync killed mid-way."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from docvec.publishing.rows import SERVING_COLUMNS, table_checksums
from docvec.publishing.targets.base import PublicationStamp, SyncCounts, TargetError
from docvec.publishing.targets.lancedb_target import (
    VECTOR_INDEX_MIN_ROWS,
    LanceDBTarget,
    metadata_matches,
    parse_stamp_tag,
    stamp_tag,
)
from docvec.searching import SearchFilters

ROWS = 300
DIMENSION = 8
HOSTILE = "x') or true or ('"
GROUPS = (("public",), ("hr",), ("eng", "public"), ("legal",), ("hr", "eng"), (HOSTILE,))
TEAMS = ("alpha", "beta", "gamma")
FILE_TYPES = ("md", "pdf", "html", "txt")
RARE_WORD = "zanzibar"  # in every 7th row, across all groups
ALL_GROUPS = tuple(sorted({group for groups in GROUPS for group in groups}))
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def unit_vectors(count: int, dimension: int = DIMENSION, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def make_candidate(count: int = ROWS, vectors: np.ndarray | None = None, first: int = 0) -> pa.Table:
    """A synthetic serving candidate: rows `first`..`first + count - 1` with rows.SERVING_COLUMNS."""
    vectors = unit_vectors(first + count)[first:] if vectors is None else vectors
    numbers = range(first, first + count)
    teams = [TEAMS[i % 3] for i in numbers]
    texts = [f"common words about topic{i % 10} unique{i}" + (f" {RARE_WORD}" if i % 7 == 0 else "") for i in numbers]
    metadata = [
        json.dumps({"team": team, "year": 2023 + i % 2} | ({"k'q": "v'w"} if i % 11 == 0 else {}))
        for i, team in zip(numbers, teams)
    ]
    columns: dict[str, pa.Array | list] = {
        "chunk_id": [f"chunk-{i:04d}" for i in numbers],
        "document_id": [f"doc-{i // 4:03d}" for i in numbers],
        "strategy_id": ["recursive"] * count,
        "model_id": ["test-model"] * count,
        "chunk_index": pa.array([i % 4 for i in numbers], pa.int32()),
        "chunk_text": texts,
        "text_sha256": [f"sha-{i}" for i in numbers],
        "section": [f"Section {i % 5}" for i in numbers],
        "start_char": pa.array([100 * (i % 4) for i in numbers], pa.int32()),
        "end_char": pa.array([100 * (i % 4) + 99 for i in numbers], pa.int32()),
        "n_tokens": pa.array([6] * count, pa.int32()),
        "source_path": [
            f"docs/{'o' + chr(39) + 'neil' if i % 10 == 1 else team}/file{i // 4}.md" for i, team in zip(numbers, teams)
        ],
        "title": [f"Title {i // 4}" for i in numbers],
        "file_type": [FILE_TYPES[i % 4] for i in numbers],
        "metadata": metadata,
        "access_groups": pa.array([list(GROUPS[i % len(GROUPS)]) for i in numbers], pa.list_(pa.string())),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), vectors.shape[1]),
        "fts_text": [f"{text} Title {i // 4} Section {i % 5}" for i, text in zip(numbers, texts)],
    }
    return pa.table(columns)


def stamp(version: int) -> PublicationStamp:
    return PublicationStamp(f"publish-{version:04d}", version, f"2026-01-{version % 28 + 1:02d}T12:00:00+00:00")


def publish(target: LanceDBTarget, candidate: pa.Table, version: int = 1) -> SyncCounts:
    return target.sync(candidate, table_checksums(candidate), stamp(version))


def open_table(uri: Path) -> lancedb.table.Table:
    return lancedb.connect(str(uri)).open_table("search_index")


def data_rows(uri: Path) -> int:
    """Rows held by the data files of the table's latest version (what syncs wrote, in all)."""
    return int(open_table(uri).list_versions()[-1]["metadata"]["total_data_file_rows"])


@pytest.fixture
def target(tmp_path: Path) -> LanceDBTarget:
    return LanceDBTarget("lance", {"uri": str(tmp_path / "lancedb")})


@pytest.fixture
def published(target: LanceDBTarget) -> LanceDBTarget:
    assert publish(target, make_candidate()) == SyncCounts(ROWS, 0, 0)
    return target


# ------------------------------------------------------------------------------------------
# Sync, stamps, checksums
# ------------------------------------------------------------------------------------------


def test_first_sync_creates_the_table_with_every_serving_column(target: LanceDBTarget) -> None:
    candidate = make_candidate()
    assert target.stamp() is None and target.stored_checksums() == {}
    assert publish(target, candidate, 7) == SyncCounts(inserted=ROWS, updated=0, deleted=0)
    schema = open_table(Path(target.uri)).schema
    assert schema.names == [*SERVING_COLUMNS, "row_checksum"]
    assert schema.field("embedding").type == pa.list_(pa.float32(), DIMENSION)
    assert schema.field("access_groups").type == pa.list_(pa.string())
    assert schema.field("metadata").type == pa.string()
    assert target.stored_checksums() == table_checksums(candidate)
    assert target.stamp() == stamp(7)


def test_identical_resync_writes_no_version_and_moves_the_stamp(published: LanceDBTarget) -> None:
    version = open_table(Path(published.uri)).version
    assert publish(published, make_candidate(), 2) == SyncCounts(0, 0, 0)
    table = open_table(Path(published.uri))
    assert table.version == version
    assert published.stamp() == stamp(2)
    assert [name for name in table.tags.list() if name.startswith("docvec-publish-")] == [stamp_tag(stamp(2))]


def test_one_percent_change_writes_one_percent_of_the_rows(published: LanceDBTarget) -> None:
    vectors = unit_vectors(ROWS)
    vectors[[3, 150, 299]] *= -1  # 1% of the rows get another vector
    candidate = make_candidate(vectors=vectors)
    before = data_rows(Path(published.uri))
    assert publish(published, candidate, 2) == SyncCounts(0, 3, 0)
    assert data_rows(Path(published.uri)) - before == 3
    assert published.stored_checksums() == table_checksums(candidate)


def test_rows_missing_from_the_candidate_are_deleted_and_new_ones_inserted(published: LanceDBTarget) -> None:
    candidate = pa.concat_tables([make_candidate(ROWS - 10), make_candidate(2, first=ROWS)])
    assert publish(published, candidate, 2) == SyncCounts(inserted=2, updated=0, deleted=10)
    assert published.stored_checksums() == table_checksums(candidate)
    assert open_table(Path(published.uri)).count_rows() == ROWS - 8


def test_stamp_tag_round_trip() -> None:
    odd = PublicationStamp("publish/ü:é 'x'", 12, "2026-03-04T05:06:07.123456+00:00")
    assert parse_stamp_tag(stamp_tag(odd)) == odd
    assert parse_stamp_tag("release-1") is None and parse_stamp_tag("docvec-publish-3-!!") is None
    with pytest.raises(ValueError, match="too long"):
        stamp_tag(PublicationStamp("p" * 200, 1, "now"))


def test_a_write_after_the_stamp_clears_it_until_the_next_sync(published: LanceDBTarget) -> None:
    open_table(Path(published.uri)).delete("chunk_id = 'chunk-0001'")
    assert published.stamp() is None
    candidate = make_candidate()
    assert publish(published, candidate, 3) == SyncCounts(1, 0, 0)
    assert published.stamp() == stamp(3) and published.stored_checksums() == table_checksums(candidate)


def test_stored_checksums_see_tampering_the_checksum_column_hides(published: LanceDBTarget) -> None:
    expected = table_checksums(make_candidate())
    table = open_table(Path(published.uri))
    table.delete("chunk_id = 'chunk-0010'")
    table.update(where="chunk_id = 'chunk-0020'", values={"embedding": [0.5] * DIMENSION})
    table.add(make_candidate(1, first=900).append_column("row_checksum", pa.array(["forged"])))
    stored = published.stored_checksums()
    assert set(expected) - set(stored) == {"chunk-0010"}
    assert set(stored) - set(expected) == {"chunk-0900"}
    assert [key for key in expected if key in stored and stored[key] != expected[key]] == ["chunk-0020"]


def test_new_column_types_rewrite_the_table(published: LanceDBTarget) -> None:
    candidate = make_candidate(vectors=unit_vectors(ROWS, 4))
    assert publish(published, candidate, 2) == SyncCounts(0, ROWS, 0)
    assert published.stored_checksums() == table_checksums(candidate)
    top = published.vector_ranking(unit_vectors(ROWS, 4)[5].tolist(), SearchFilters(groups=ALL_GROUPS), 1)
    assert top[0].chunk_id == "chunk-0005"


def test_an_empty_candidate_publishes_an_empty_table(target: LanceDBTarget) -> None:
    assert publish(target, make_candidate(0)) == SyncCounts(0, 0, 0)
    assert target.stored_checksums() == {} and target.stamp() == stamp(1)
    assert target.vector_ranking([1.0] * DIMENSION, SearchFilters(), 3) == []
    assert target.keyword_ranking("unique1", SearchFilters(), 3) == []
    assert publish(target, make_candidate(), 2) == SyncCounts(ROWS, 0, 0)


def test_candidate_errors_and_target_errors(tmp_path: Path, target: LanceDBTarget) -> None:
    candidate = make_candidate(5)
    with pytest.raises(ValueError, match="no checksum"):
        target.sync(candidate, {}, stamp(1))
    with pytest.raises(ValueError, match="unique"):
        publish(target, pa.concat_tables([candidate, candidate]))
    with pytest.raises(ValueError, match="uri"):
        LanceDBTarget("lance", {})
    with pytest.raises(TargetError, match="publish to it first"):
        target.vector_ranking([1.0] * DIMENSION, SearchFilters(), 3)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    broken = LanceDBTarget("broken", {"uri": str(blocker / "db")})
    with pytest.raises(TargetError, match=r"'broken'.*a-file"):
        publish(broken, candidate)


# ------------------------------------------------------------------------------------------
# Rankings
# ------------------------------------------------------------------------------------------


def permitted(i: int, filters: SearchFilters) -> bool:
    """Whether row i of make_candidate() passes `filters` (written out independently of the target)."""
    team = TEAMS[i % 3]
    path = f"docs/{'o' + chr(39) + 'neil' if i % 10 == 1 else team}/file{i // 4}.md"
    meta = {"team": team, "year": str(2023 + i % 2)} | ({"k'q": "v'w"} if i % 11 == 0 else {})
    return (
        bool(set(GROUPS[i % len(GROUPS)]) & set(filters.groups))
        and (not filters.path_prefix or path.startswith(filters.path_prefix))
        and (not filters.file_type or FILE_TYPES[i % 4] == filters.file_type)
        and all(meta.get(key) == value for key, value in filters.metadata)
    )


def brute_force(query: np.ndarray, filters: SearchFilters, limit: int) -> list[str]:
    vectors = unit_vectors(ROWS)
    scores = vectors @ (query / np.linalg.norm(query))
    rows = [i for i in range(ROWS) if permitted(i, filters)]
    return [f"chunk-{i:04d}" for i in sorted(rows, key=lambda i: (-scores[i], i))[:limit]]


FILTERS = [
    SearchFilters(groups=ALL_GROUPS),
    SearchFilters(groups=("hr",)),
    SearchFilters(groups=("legal", "eng")),
    SearchFilters(groups=ALL_GROUPS, path_prefix="docs/beta/"),
    SearchFilters(groups=("public",), file_type="pdf"),
    SearchFilters(groups=ALL_GROUPS, metadata=(("team", "gamma"), ("year", "2024"))),
    SearchFilters(groups=("hr", "public"), path_prefix="docs/alpha/", file_type="md", metadata=(("team", "alpha"),)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=range(len(FILTERS)))
def test_exact_vector_ranking_equals_brute_force(published: LanceDBTarget, filters: SearchFilters) -> None:
    for query in unit_vectors(5, seed=99):
        results = published.vector_ranking(query.tolist(), filters, 10, exact=True)
        assert [result.chunk_id for result in results] == brute_force(query, filters, 10)
        assert all(permitted(int(result.chunk_id[-4:]), filters) for result in results)
        expected = unit_vectors(ROWS)[[int(result.chunk_id[-4:]) for result in results]] @ query
        assert np.allclose([result.score for result in results], expected, atol=1e-5)


def test_ann_ranking_matches_the_exact_ranking(published: LanceDBTarget) -> None:
    indexes = {tuple(index.columns) for index in open_table(Path(published.uri)).list_indices()}
    assert ("embedding",) in indexes and ("fts_text",) in indexes
    noise = np.random.default_rng(5).normal(scale=0.1, size=(20, DIMENSION)).astype(np.float32)
    for filters in FILTERS:
        for query in unit_vectors(ROWS)[::15] + noise:
            ann = published.vector_ranking(query.tolist(), filters, 10)
            exact = published.vector_ranking(query.tolist(), filters, 10, exact=True)
            assert [result.chunk_id for result in ann] == [result.chunk_id for result in exact]


def test_a_forbidden_nearest_row_neither_shows_nor_pushes_out(published: LanceDBTarget) -> None:
    query = unit_vectors(ROWS)[1]  # row 1 is hr only
    filters = SearchFilters(groups=("legal",))
    for exact in (False, True):
        results = published.vector_ranking(query.tolist(), filters, 5, exact=exact)
        assert [result.chunk_id for result in results] == brute_force(query, filters, 5)
    everything = published.vector_ranking(query.tolist(), filters, 1000, exact=False)
    assert len(everything) == sum(permitted(i, filters) for i in range(ROWS))


def test_keyword_ranking_finds_only_permitted_rows(published: LanceDBTarget) -> None:
    for filters in FILTERS:
        results = published.keyword_ranking(RARE_WORD, filters, 100)
        expected = {f"chunk-{i:04d}" for i in range(0, ROWS, 7) if permitted(i, filters)}
        assert {result.chunk_id for result in results} == expected
        assert [result.score for result in results] == sorted((result.score for result in results), reverse=True)
    unique = published.keyword_ranking("UNIQUE42", SearchFilters(groups=ALL_GROUPS), 5)
    assert [result.chunk_id for result in unique] == ["chunk-0042"]
    assert published.keyword_ranking("unique42", SearchFilters(groups=("hr",)), 5) == []  # row 42 is public
    assert published.keyword_ranking("the and of", SearchFilters(groups=ALL_GROUPS), 5) == []
    assert published.keyword_ranking("", SearchFilters(groups=ALL_GROUPS), 5) == []


def test_hostile_filter_values_are_literals(published: LanceDBTarget) -> None:
    query = unit_vectors(1, seed=3)[0].tolist()
    hostile_rows = {f"chunk-{i:04d}" for i in range(ROWS) if HOSTILE in GROUPS[i % len(GROUPS)]}
    found = published.vector_ranking(query, SearchFilters(groups=(HOSTILE,)), 1000, exact=True)
    assert {result.chunk_id for result in found} == hostile_rows
    injections = [
        SearchFilters(groups=("nobody') or true or ('",)),
        SearchFilters(groups=("nobody'] ) or true or array_has_any(access_groups, ['public",)),
        SearchFilters(groups=("hr",), path_prefix="') or true or ('"),
        SearchFilters(groups=("hr",), file_type="md' or '1'='1"),
        SearchFilters(groups=("hr",), file_type="md\\' or 1=1 or \\'"),
        SearchFilters(groups=("hr",), metadata=(("team", "alpha' or true or '"),)),
    ]
    for filters in injections:
        assert published.vector_ranking(query, filters, 10, exact=True) == []
        assert published.keyword_ranking(RARE_WORD, filters, 10) == []
    quoted = SearchFilters(groups=ALL_GROUPS, path_prefix="docs/o'neil/", metadata=(("k'q", "v'w"),))
    results = published.vector_ranking(query, quoted, 100, exact=True)
    assert [result.chunk_id for result in results] == brute_force(np.asarray(query), quoted, 100) != []


def test_metadata_matches_like_json_extract_string() -> None:
    text = json.dumps({"team": "a", "year": 2024, "ok": True, "none": None, "nested": {"b": 1}})
    assert metadata_matches(text, [("team", "a"), ("year", "2024"), ("ok", "true"), ("nested", '{"b":1}')])
    assert not metadata_matches(text, [("none", "null")])
    assert not metadata_matches(text, [("team", "b")])
    assert not metadata_matches(text, [("missing", "a")])
    assert not metadata_matches(None, [("team", "a")]) and not metadata_matches("[1]", [("team", "a")])
    assert not metadata_matches("{broken", [("team", "a")])


def test_rows_written_after_the_index_are_searchable(published: LanceDBTarget) -> None:
    newcomer = make_candidate(3, first=ROWS)
    candidate = pa.concat_tables([make_candidate(), newcomer])
    assert publish(published, candidate, 2) == SyncCounts(3, 0, 0)
    assert all(index.num_unindexed_rows == 0 for index in open_table(Path(published.uri)).list_indices())
    stray = make_candidate(1, first=ROWS + 3)  # written by LanceDB itself: not indexed
    open_table(Path(published.uri)).add(stray.append_column("row_checksum", pa.array(["x"])))
    everyone = SearchFilters(groups=ALL_GROUPS)
    for i in range(ROWS, ROWS + 4):
        vector = unit_vectors(ROWS + 4)[i].tolist()
        assert published.vector_ranking(vector, everyone, 1)[0].chunk_id == f"chunk-{i:04d}"
        assert [result.chunk_id for result in published.keyword_ranking(f"unique{i}", everyone, 3)] == [
            f"chunk-{i:04d}"
        ]


def test_a_small_table_is_searched_without_an_ann_index(target: LanceDBTarget) -> None:
    candidate = make_candidate(VECTOR_INDEX_MIN_ROWS - 1)
    publish(target, candidate)
    assert [index.columns for index in open_table(Path(target.uri)).list_indices()] == [["fts_text"]]
    query = unit_vectors(ROWS)[20]
    filters = SearchFilters(groups=("public",))
    expected = [result.chunk_id for result in target.vector_ranking(query.tolist(), filters, 5, exact=True)]
    assert [result.chunk_id for result in target.vector_ranking(query.tolist(), filters, 5)] == expected
    assert expected[0] == "chunk-0020"


# ------------------------------------------------------------------------------------------
# A sync killed mid-way
# ------------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    import pyarrow as pa
    from docvec.publishing.rows import table_checksums
    from docvec.publishing.targets.base import PublicationStamp
    from docvec.publishing.targets.lancedb_target import LanceDBTarget

    uri, *paths = sys.argv[1:]
    candidates = [pa.ipc.open_file(path).read_all() for path in paths]
    target = LanceDBTarget("lance", {"uri": uri})
    print("ready", flush=True)
    version = 100
    while True:  # alternate the candidates until killed
        for candidate in candidates:
            version += 1
            target.sync(candidate, table_checksums(candidate), PublicationStamp(f"p{version}", version, "now"))
    """
)


def write_ipc(table: pa.Table, path: Path) -> str:
    with pa.ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)
    return str(path)


def test_a_killed_sync_leaves_one_complete_version(tmp_path: Path) -> None:
    old = make_candidate()
    vectors = unit_vectors(ROWS)
    vectors[::2] *= -1
    new = pa.concat_tables([make_candidate(ROWS - 30, vectors=vectors[: ROWS - 30]), make_candidate(30, first=ROWS)])
    paths = [write_ipc(new, tmp_path / "new.arrow"), write_ipc(old, tmp_path / "old.arrow")]
    uri = tmp_path / "lancedb"
    states: list[dict[str, str]] = [{}, table_checksums(old), table_checksums(new)]
    chooser = random.Random(15)
    for round_ in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(uri), *paths], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(chooser.uniform(0.0, 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        survivor = LanceDBTarget("lance", {"uri": str(uri)})
        assert survivor.stored_checksums() in states, f"round {round_}: a partial version"
        states = [table_checksums(old), table_checksums(new)]  # from now on the table exists
        publish(survivor, new, 1000 + round_)
        assert survivor.stored_checksums() == table_checksums(new)
        assert survivor.stamp() == stamp(1000 + round_)
