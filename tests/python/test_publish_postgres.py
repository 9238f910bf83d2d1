"""The PostgreSQL + pgvector publish target against a real server (pgserver, Unix socket only).

A synthetic candidate of 300 rows (clustered unit vectors of dimension 384, NATO-alphabet words,
several access groups, file types, folders whose names hold LIKE wildcards, and metadata) is
synced into a schema of its own per test. Rankings are checked against numpy brute force over
the permitted rows; integrity against rows.table_checksums; atomicity by SIGKILLing a syncing
subprocess.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from docvec.publishing.rows import SERVING_COLUMNS, table_checksums
from docvec.publishing.targets import postgres_sql
from docvec.publishing.targets.base import PublicationStamp, TargetError
from docvec.publishing.targets.postgres_target import DEFAULT_DSN_ENV, DEFAULT_SCHEMA, DEFAULT_TABLE, PostgresTarget
from docvec.searching import SearchFilters, SearchResult
from python_udfs.fts_text import fts_text

pytest_plugins = ("postgres_server",)
pytestmark = pytest.mark.integration  # a real PostgreSQL server and subprocesses

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DSN_ENV = "DOCVEC_TEST_PG_DSN"
ROWS = 300
DIMENSION = 384
WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
    "quebec romeo sierra tango uniform victor whiskey xray yankee zulu"
).split()
HOSTILE_GROUP = "x'); drop table t; --"
GROUPS = ("public", "eng", "hr", HOSTILE_GROUP)
RARE_GROUP = "rare"  # only on ROWS // 60 rows: fewer than the limits the tests ask for
FOLDERS = ("docs/team_a/", "docs/teamXa/", "docs/100%/", "docs/100x/")
FILE_TYPES = ("markdown", "text", "html", "pdf")
HOSTILE_KEY, HOSTILE_VALUE = 'it\'s "key"', "o'clock; --"
STAMP = PublicationStamp("pub-1", 1, "2025-01-02T03:04:05.123456Z")
NEW_STAMP = PublicationStamp("pub-2", 2, "2025-01-03T00:00:00Z")


# --------------------------------------------------------------------------------------------
# The synthetic candidate and what a search over it must return
# --------------------------------------------------------------------------------------------


def make_candidate(seed: int = 7, rows: int = ROWS, dimension: int = DIMENSION) -> pa.Table:
    """Deterministic serving rows; rows 10 and 11 share a vector (a tie), row 0 holds awkward floats."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, dimension))
    vectors = centres[rng.integers(0, len(centres), rows)] + 0.6 * rng.standard_normal((rows, dimension))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("<f4")
    if rows > 11:
        vectors[11] = vectors[10]
    vectors[0, :4] = [1e-40, -0.0, np.nextafter(np.float32(1), np.float32(2)), 12345.679]
    records = []
    for n in range(rows):
        text = " ".join(rng.choice(WORDS, 10))
        groups = [RARE_GROUP] if n % 60 == 7 else sorted(set(rng.choice(GROUPS[:3], rng.integers(1, 3))))
        if n % 10 == 3:
            groups.append(HOSTILE_GROUP)
        metadata: dict[str, str] = {} if n % 50 == 0 else {"lang": str(rng.choice(["en", "de"])), "tier": str(n % 3)}
        if n % 25 == 1:
            metadata[HOSTILE_KEY] = HOSTILE_VALUE
        title, section = f"Document {n // 5}", (None if n % 4 == 0 else f"Part {n % 5}")
        records.append(
            {
                "chunk_id": f"c{n:04d}",
                "document_id": f"d{n // 5:03d}",
                "strategy_id": "s1",
                "model_id": "m1",
                "chunk_index": n % 5,
                "chunk_text": text,
                "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "section": section,
                "start_char": 100 * (n % 5),
                "end_char": 100 * (n % 5) + len(text),
                "n_tokens": 10,
                "source_path": f"{FOLDERS[n % len(FOLDERS)]}file{n // 5}.{FILE_TYPES[n % 3]}",
                "title": title,
                "file_type": FILE_TYPES[n % len(FILE_TYPES)],
                "metadata": json.dumps(metadata),
                "access_groups": groups,
                "embedding": vectors[n].tolist(),
                "fts_text": fts_text(" ".join(part for part in (text, title, section) if part)),
            }
        )
    return from_records(records, dimension)


def from_records(records: list[dict[str, Any]], dimension: int = DIMENSION) -> pa.Table:
    schema = pa.schema(
        [
            pa.field(name, pa.int32() if name in postgres_sql.INTEGER_COLUMNS else pa.string())
            for name in records[0]
            if name not in ("access_groups", "embedding")
        ]
        + [pa.field("access_groups", pa.list_(pa.string())), pa.field("embedding", pa.list_(pa.float32(), dimension))]
    )
    return pa.Table.from_pylist(records, schema=schema).select(list(records[0]))


def permitted(row: dict[str, Any], filters: SearchFilters) -> bool:
    """What SearchFilters allow, in Python: a group in common, the path prefix, file type, metadata."""
    metadata = json.loads(row["metadata"])
    return (
        bool(set(row["access_groups"]) & set(filters.groups))
        and (not filters.path_prefix or row["source_path"].startswith(filters.path_prefix))
        and (not filters.file_type or row["file_type"] == filters.file_type)
        and all(metadata.get(key) == value for key, value in filters.metadata)
    )


def brute_force(candidate: pa.Table, query: np.ndarray, filters: SearchFilters, limit: int) -> list[tuple[str, float]]:
    """The exact ranking in numpy (float64 over the float32 vectors): (chunk_id, cosine), ties by id."""
    rows = candidate.to_pylist()
    vectors = np.asarray([row["embedding"] for row in rows], dtype="<f4").astype("f8")
    q = np.asarray(query, dtype="<f4").astype("f8")
    scores = vectors @ q / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(q))
    ranked = sorted((-scores[n], row["chunk_id"]) for n, row in enumerate(rows) if permitted(row, filters))
    return [(chunk_id, -score) for score, chunk_id in ranked[:limit]]


def queries(candidate: pa.Table, count: int, seed: int = 3) -> list[np.ndarray]:
    """Query vectors near stored rows (and row 10 itself, whose vector row 11 shares)."""
    rng = np.random.default_rng(seed)
    vectors = np.asarray(candidate.column("embedding").to_pylist(), dtype="f8")
    near = [vectors[n] + 0.3 * rng.standard_normal(vectors.shape[1]) / np.sqrt(vectors.shape[1]) for n in range(count)]
    return [vectors[10], *near[: count - 1]]


FILTERS = (
    SearchFilters(),
    SearchFilters(groups=("eng", "hr")),
    SearchFilters(groups=GROUPS, path_prefix="docs/team_a/"),
    SearchFilters(groups=GROUPS, file_type="pdf"),
    SearchFilters(groups=("public", "eng"), metadata=(("lang", "de"),)),
    SearchFilters(groups=(HOSTILE_GROUP,)),
    SearchFilters(groups=GROUPS, path_prefix="docs/100%/", metadata=((HOSTILE_KEY, HOSTILE_VALUE),)),
)


def by_id(candidate: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["chunk_id"]: row for row in candidate.to_pylist()}


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def candidate() -> pa.Table:
    return make_candidate()


@pytest.fixture
def admin(postgres_dsn: str) -> Iterator[psycopg.Connection]:
    """A superuser connection to look behind the target's back."""
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        yield conn


def new_target(monkeypatch: pytest.MonkeyPatch, dsn: str, schema: str, **options: Any) -> PostgresTarget:
    monkeypatch.setenv(DSN_ENV, dsn)
    return PostgresTarget("test-pg", {"dsn_env": DSN_ENV, "schema": schema, **options})


@pytest.fixture
def target(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, admin: psycopg.Connection) -> Iterator[PostgresTarget]:
    """A target in a schema of its own (dropped afterwards)."""
    schema = f"docvec_test_{uuid.uuid4().hex[:12]}"
    publish_target = new_target(monkeypatch, postgres_dsn, schema)
    yield publish_target
    publish_target.close()
    admin.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


@pytest.fixture
def published(target: PostgresTarget, candidate: pa.Table) -> PostgresTarget:
    target.sync(candidate, table_checksums(candidate), STAMP)
    return target


def row_versions(admin: psycopg.Connection, target: PostgresTarget) -> dict[str, str]:
    """chunk_id -> xmin: the transaction that last wrote each row."""
    query = sql.SQL("select chunk_id, xmin::text from {}").format(target.qualified())
    return dict(admin.execute(query).fetchall())


# --------------------------------------------------------------------------------------------
# Sync
# --------------------------------------------------------------------------------------------


def test_a_first_sync_creates_the_table_its_indexes_and_the_stamp(
    target: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    assert target.stored_checksums() == {} and target.stamp() is None  # never published
    with pytest.raises(TargetError, match="never published"):
        target.vector_ranking([1.0] * DIMENSION, SearchFilters(), 5)

    counts = target.sync(candidate, table_checksums(candidate), STAMP)

    assert (counts.inserted, counts.updated, counts.deleted) == (ROWS, 0, 0)
    assert target.stamp() == STAMP
    assert target.stored_checksums() == table_checksums(candidate)
    definitions = [
        row[0]
        for row in admin.execute(
            "select indexdef from pg_indexes where schemaname = %s and tablename = %s", [target.schema, target.table]
        )
    ]
    assert any("USING hnsw (embedding vector_cosine_ops)" in d for d in definitions), definitions
    assert any("USING gin (access_groups)" in d for d in definitions), definitions
    assert any("USING gin (fts)" in d for d in definitions), definitions
    row_count = admin.execute(sql.SQL("select row_count from {}").format(target.qualified("_publication"))).fetchone()
    assert row_count == (ROWS,)


def test_an_identical_resync_writes_only_the_stamp(
    published: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    before = row_versions(admin, published)

    counts = published.sync(candidate, table_checksums(candidate), NEW_STAMP)

    assert counts.written == 0
    assert row_versions(admin, published) == before  # not one row rewritten
    assert published.stamp() == NEW_STAMP


def test_a_small_change_writes_only_the_changed_rows(
    published: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    before = row_versions(admin, published)
    records = candidate.to_pylist()
    records[3]["embedding"][7] = float(np.nextafter(np.float32(records[3]["embedding"][7]), np.float32(2)))
    records[4]["access_groups"] = [*records[4]["access_groups"], "zzz"]
    records[5]["text_sha256"] = hashlib.sha256(b"changed").hexdigest()
    deleted = {records[8]["chunk_id"], records[9]["chunk_id"]}
    records = [r for r in records if r["chunk_id"] not in deleted] + [{**records[0], "chunk_id": "c9999"}]
    changed = from_records(records)

    counts = published.sync(changed, table_checksums(changed), NEW_STAMP)

    assert (counts.inserted, counts.updated, counts.deleted) == (1, 3, 2)
    after = row_versions(admin, published)
    rewritten = {chunk_id for chunk_id, version in after.items() if before.get(chunk_id) != version}
    assert rewritten == {"c0003", "c0004", "c0005", "c9999"}
    assert deleted.isdisjoint(after)
    assert published.stored_checksums() == table_checksums(changed)


def test_vectors_round_trip_bit_exactly(
    published: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    expected = {row["chunk_id"]: np.asarray(row["embedding"], dtype="<f4") for row in candidate.to_pylist()}
    with admin.cursor(binary=True) as cursor:  # pgvector's own binary form, no docvec loader involved
        cursor.execute(sql.SQL("select chunk_id, embedding from {}").format(published.qualified()))
        stored = {chunk_id: np.frombuffer(bytes(data)[4:], dtype=">f4") for chunk_id, data in cursor}
    texts = dict(admin.execute(sql.SQL("select chunk_id, embedding::text from {}").format(published.qualified())))
    for chunk_id, vector in expected.items():
        assert stored[chunk_id].astype("<f4").tobytes() == vector.tobytes(), chunk_id
        parsed = np.asarray(texts[chunk_id][1:-1].split(","), dtype="<f4")  # the text form applications read
        assert parsed.tobytes() == vector.tobytes(), chunk_id
    assert np.signbit(stored["c0000"][1]) and stored["c0000"][0] == np.float32(1e-40)  # -0.0 and a subnormal kept


def test_tampering_is_detected_and_repaired(
    published: PostgresTarget,
    candidate: pa.Table,
    admin: psycopg.Connection,
    postgres_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = table_checksums(candidate)
    table = published.qualified()
    admin.execute(sql.SQL("delete from {} where chunk_id = 'c0005'").format(table))
    vector = np.asarray(by_id(candidate)["c0007"]["embedding"], dtype="<f4")
    vector[0] = np.nextafter(vector[0], np.float32(2))  # one float32 step; row_checksum left as it was
    text = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    admin.execute(sql.SQL("update {} set embedding = %s::vector where chunk_id = 'c0007'").format(table), [text])
    others = sql.SQL(", ").join(map(sql.Identifier, [*SERVING_COLUMNS[1:], postgres_sql.CHECKSUM_COLUMN]))
    admin.execute(
        sql.SQL("insert into {0} (chunk_id, {1}) select 'stray', {1} from {0} where chunk_id = 'c0009'").format(
            table, others
        )
    )

    stored = published.stored_checksums()

    assert set(expected) - set(stored) == {"c0005"}
    assert set(stored) - set(expected) == {"stray"}
    assert {key for key in expected.keys() & stored.keys() if stored[key] != expected[key]} == {"c0007"}
    counts = published.sync(candidate, expected, NEW_STAMP)  # trusts row_checksum: the vector stays wrong
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 0, 1)
    assert published.stored_checksums()["c0007"] != expected["c0007"]
    recomputing = new_target(monkeypatch, postgres_dsn, published.schema, recompute_checksums=True)
    try:
        assert recomputing.sync(candidate, expected, NEW_STAMP).updated == 1
    finally:
        recomputing.close()
    assert published.stored_checksums() == expected


def test_a_new_dimension_starts_the_table_over(published: PostgresTarget) -> None:
    small = make_candidate(seed=11, rows=20, dimension=8)

    counts = published.sync(small, table_checksums(small), NEW_STAMP)

    assert (counts.inserted, counts.updated, counts.deleted) == (20, 0, ROWS)
    assert published.stored_checksums() == table_checksums(small)
    assert len(published.vector_ranking([1.0] * 8, SearchFilters(groups=GROUPS), 5)) == 5


# --------------------------------------------------------------------------------------------
# Rankings
# --------------------------------------------------------------------------------------------


def ids(results: list[SearchResult]) -> list[str]:
    return [result.chunk_id for result in results]


def test_the_exact_vector_ranking_is_numpy_brute_force_over_the_permitted_rows(
    published: PostgresTarget, candidate: pa.Table
) -> None:
    for query in queries(candidate, 6):
        for filters in FILTERS:
            expected = brute_force(candidate, query, filters, 10)
            results = published.vector_ranking(query.tolist(), filters, 10, exact=True)
            assert ids(results) == [chunk_id for chunk_id, _ in expected], filters
            assert [r.score for r in results] == pytest.approx([score for _, score in expected], abs=1e-5)
    tie = ids(published.vector_ranking(queries(candidate, 1)[0].tolist(), SearchFilters(groups=GROUPS), 2))
    assert tie == ["c0010", "c0011"]  # the same vector: the tie is broken by chunk_id


def test_the_indexed_vector_ranking_uses_hnsw_and_agrees_with_the_exact_one(
    published: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    overlaps = []
    for query in queries(candidate, 12, seed=5):
        exact = ids(published.vector_ranking(query.tolist(), SearchFilters(groups=GROUPS), 10, exact=True))
        indexed = ids(published.vector_ranking(query.tolist(), SearchFilters(groups=GROUPS), 10))
        overlaps.append(len(set(exact) & set(indexed)) / len(exact))
    assert np.mean(overlaps) >= 0.9, overlaps
    # Fewer permitted rows than asked for among the HNSW candidates: the exact ranking answers.
    rare = SearchFilters(groups=(RARE_GROUP,))
    rare_ids = sorted(chunk_id for chunk_id, row in by_id(candidate).items() if permitted(row, rare))
    assert sorted(ids(published.vector_ranking(queries(candidate, 1)[0].tolist(), rare, 10))) == rare_ids
    where, params = postgres_sql.filter_sql(SearchFilters(groups=GROUPS))
    text = "[" + ",".join(repr(float(x)) for x in queries(candidate, 1)[0]) + "]"
    with admin.transaction():
        for name, value in postgres_sql.INDEXED_SETTINGS.items():
            admin.execute("select set_config(%s, %s, true)", [name, value])
        explain = sql.SQL("explain ") + postgres_sql.indexed_vector_sql(published.qualified(), where)
        plan = "\n".join(row[0] for row in admin.execute(explain, [text, *params, text, 40, 10]))
    assert f"Index Scan using {published.table}_embedding_hnsw" in plan, plan


def test_no_ranking_returns_a_row_the_filters_forbid(published: PostgresTarget, candidate: pa.Table) -> None:
    rows = by_id(candidate)
    rng = np.random.default_rng(9)
    for n, query in enumerate(queries(candidate, 8, seed=8)):
        filters = FILTERS[n % len(FILTERS)]
        words = " ".join(rng.choice(WORDS, 3))
        for results in (
            published.vector_ranking(query.tolist(), filters, 20),
            published.vector_ranking(query.tolist(), filters, 20, exact=True),
            published.keyword_ranking(words, filters, 20),
        ):
            assert all(permitted(rows[chunk_id], filters) for chunk_id in ids(results)), (filters, ids(results))
    with pytest.raises(ValueError, match="access groups are required"):
        published.vector_ranking([1.0] * DIMENSION, SearchFilters(groups=()), 5)


def test_hostile_values_are_bound_not_spliced(
    published: PostgresTarget, candidate: pa.Table, admin: psycopg.Connection
) -> None:
    rows = by_id(candidate)
    query = queries(candidate, 1)[0].tolist()
    for filters in (
        SearchFilters(groups=(HOSTILE_GROUP,)),
        SearchFilters(groups=GROUPS, path_prefix="docs/team_a/"),  # `_` is no wildcard: docs/teamXa/ stays out
        SearchFilters(groups=GROUPS, path_prefix="docs/100%/"),  # nor is `%`: docs/100x/ stays out
        SearchFilters(groups=GROUPS, metadata=((HOSTILE_KEY, HOSTILE_VALUE),)),
        SearchFilters(groups=GROUPS, metadata=(("lang' or '1'='1", "en"),)),
    ):
        expected = {chunk_id for chunk_id, row in rows.items() if permitted(row, filters)}
        assert set(ids(published.vector_ranking(query, filters, ROWS, exact=True))) == expected, filters
        assert set(ids(published.vector_ranking(query, filters, ROWS))) == expected, filters
    assert published.keyword_ranking("x'); drop table t; -- alpha", SearchFilters(groups=GROUPS), 5)
    assert admin.execute(sql.SQL("select count(*) from {}").format(published.qualified())).fetchone() == (ROWS,)


def test_hostile_schema_and_table_names_are_quoted(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, admin: psycopg.Connection
) -> None:
    small = make_candidate(seed=2, rows=30)
    schema = f'we"ird; drop schema public; -- {uuid.uuid4().hex[:6]}'
    hostile = new_target(monkeypatch, postgres_dsn, schema, table='t\'able "x"')
    try:
        assert hostile.sync(small, table_checksums(small), STAMP).inserted == 30
        assert hostile.stored_checksums() == table_checksums(small) and hostile.stamp() == STAMP
        assert len(hostile.vector_ranking(queries(small, 1)[0].tolist(), SearchFilters(groups=GROUPS), 5)) == 5
    finally:
        hostile.close()
        admin.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    assert admin.execute("select to_regnamespace('public') is not null").fetchone() == (True,)


def test_the_keyword_ranking_returns_only_permitted_matching_rows(
    published: PostgresTarget, candidate: pa.Table
) -> None:
    rows = by_id(candidate)
    filters = SearchFilters(groups=("eng", HOSTILE_GROUP))
    results = published.keyword_ranking("Alpha ZULU", filters, ROWS)
    expected = {
        chunk_id
        for chunk_id, row in rows.items()
        if permitted(row, filters) and {"alpha", "zulu"} & set(row["chunk_text"].split())
    }
    assert set(ids(results)) == expected and expected
    assert [(-r.score, r.chunk_id) for r in results] == sorted((-r.score, r.chunk_id) for r in results)
    assert all(r.score > 0 for r in results)
    top = published.keyword_ranking("alpha", filters, 3)
    assert len(top) == 3 and ids(top) == ids(published.keyword_ranking("alpha", filters, ROWS))[:3]
    for nothing in ("", "   ", "the and of", "qwertyuiop"):
        assert published.keyword_ranking(nothing, filters, 5) == [], nothing


# --------------------------------------------------------------------------------------------
# Atomicity: a syncing process killed at any point leaves the previous publication
# --------------------------------------------------------------------------------------------

CRASH_SYNC = textwrap.dedent(
    """
    import sys
    import pyarrow.ipc as ipc
    from docvec.publishing.rows import SERVING_COLUMNS, table_checksums
    from docvec.publishing.targets.base import PublicationStamp
    from docvec.publishing.targets.postgres_target import PostgresTarget

    candidate = ipc.open_file(sys.argv[1]).read_all()
    target = PostgresTarget("crash", {"dsn_env": sys.argv[2], "schema": sys.argv[3]})
    checksums = table_checksums(candidate)
    print("ready", flush=True)
    target.sync(candidate, checksums, PublicationStamp("pub-2", 2, "2025-01-03T00:00:00Z"))
    print("done", flush=True)
    """
)


def start_sync(path: Path, target: PostgresTarget) -> subprocess.Popen[str]:
    """A subprocess that syncs the candidate stored at `path` into `target`, once it printed `ready`."""
    process = subprocess.Popen(
        [sys.executable, "-c", CRASH_SYNC, str(path), DSN_ENV, target.schema],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_sync_killed_at_any_point_leaves_the_old_rows_or_the_new_ones(
    published: PostgresTarget, candidate: pa.Table, postgres_dsn: str, tmp_path: Path
) -> None:
    old_sums = table_checksums(candidate)
    records = make_candidate(seed=99).to_pylist()[30:]  # every vector new, 30 rows gone, 30 new
    new = from_records(records + [{**r, "chunk_id": f"n{n:04d}"} for n, r in enumerate(records[:30])])
    new_sums = table_checksums(new)
    path = tmp_path / "new.arrow"
    with ipc.new_file(path, new.schema) as writer:
        writer.write_table(new)

    def state() -> str:
        sums, stamp = published.stored_checksums(), published.stamp()
        if sums == old_sums and stamp == STAMP:
            return "old"
        assert sums == new_sums and stamp is not None and stamp.version == 2, "a partial publication"
        published.sync(candidate, old_sums, STAMP)  # back to the old rows for the next kill
        return "new"

    # Killed mid-transaction, deterministically: every row written, the stamp's table locked by us.
    with (
        psycopg.connect(postgres_dsn, autocommit=True) as locker,
        psycopg.connect(postgres_dsn, autocommit=True) as watcher,
    ):
        with locker.transaction():
            locker.execute(
                sql.SQL("lock table {} in access exclusive mode").format(published.qualified("_publication"))
            )
            process = start_sync(path, published)
            deadline = time.monotonic() + 30
            while not watcher.execute(
                "select count(*) > 0 from pg_stat_activity where application_name = 'docvec' "
                "and wait_event_type = 'Lock' and query ilike 'insert into%_publication%'"
            ).fetchone()[0]:
                assert time.monotonic() < deadline and process.poll() is None, "the sync never reached the stamp"
                time.sleep(0.05)
            kill(process)
    outcomes = [state()]
    # Killed after short delays, wherever the sync is by then.
    for delay in (0.02, 0.08, 0.2, 0.5):
        process = start_sync(path, published)
        time.sleep(delay)
        kill(process)
        outcomes.append(state())
    assert outcomes[0] == "old", outcomes

    counts = published.sync(new, new_sums, NEW_STAMP)  # a later sync completes

    assert (counts.inserted, counts.updated, counts.deleted) == (30, ROWS - 30, 30)
    assert published.stored_checksums() == new_sums and published.stamp() == NEW_STAMP


# --------------------------------------------------------------------------------------------
# Connecting: libpq's environment, and no secret in any error
# --------------------------------------------------------------------------------------------


def test_without_the_dsn_variable_libpq_environment_applies(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, admin: psycopg.Connection
) -> None:
    defaults = PostgresTarget("defaults", {})
    assert (defaults.dsn_env, defaults.schema, defaults.table) == (DEFAULT_DSN_ENV, DEFAULT_SCHEMA, DEFAULT_TABLE)
    params = conninfo_to_dict(postgres_dsn)
    monkeypatch.delenv("DOCVEC_TEST_UNSET_DSN", raising=False)
    for name, key in (("PGHOST", "host"), ("PGUSER", "user"), ("PGDATABASE", "dbname")):
        monkeypatch.setenv(name, str(params[key]))
    schema = f"docvec_test_{uuid.uuid4().hex[:12]}"
    libpq = PostgresTarget("libpq-env", {"dsn_env": "DOCVEC_TEST_UNSET_DSN", "schema": schema})
    small = make_candidate(seed=4, rows=12)
    try:
        assert libpq.sync(small, table_checksums(small), STAMP).inserted == 12 and libpq.stamp() == STAMP
    finally:
        libpq.close()
        admin.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


@pytest.fixture
def password_role(admin: psycopg.Connection) -> Iterator[tuple[str, str]]:
    """A login role that must give its password (scram-sha-256 over the socket): (name, password)."""
    role, password = f"docvec_pw_{uuid.uuid4().hex[:8]}", f"S3cret-{uuid.uuid4().hex}"
    admin.execute(sql.SQL("create role {} login password {}").format(sql.Identifier(role), sql.Literal(password)))
    hba = Path(admin.execute("show hba_file").fetchone()[0])
    original = hba.read_text()
    hba.write_text(f"local all {role} scram-sha-256\n{original}")
    admin.execute("select pg_reload_conf()")
    try:
        yield role, password
    finally:
        hba.write_text(original)
        admin.execute("select pg_reload_conf()")
        admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def failure_text(target: PostgresTarget) -> tuple[str, TargetError]:
    with pytest.raises(TargetError) as raised:
        target.stored_checksums()
    error = raised.value
    return "".join(traceback.format_exception(error)), error


def test_a_wrong_password_is_a_target_error_without_the_secret(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch, password_role: tuple[str, str]
) -> None:
    role, password = password_role
    socket = str(conninfo_to_dict(postgres_dsn)["host"])
    wrong = f"Wr0ng-{uuid.uuid4().hex}"
    wrong_dsn = make_conninfo(postgres_dsn, user=role, password=wrong)
    deadline = time.monotonic() + 10  # pg_reload_conf() is asynchronous
    while time.monotonic() < deadline:
        try:
            psycopg.connect(wrong_dsn).close()
            time.sleep(0.1)
        except psycopg.OperationalError:
            break
    special = f"p@ss w%rd:/?#{uuid.uuid4().hex[:6]}"
    cases = {
        wrong: wrong_dsn,
        special: f"postgresql://{role}:{quote(special, safe='')}@/postgres?host={quote(socket, safe='')}",
        f"Malformed-{wrong}": f"host={socket} password=Malformed-{wrong} dbname",
    }
    for secret, dsn in cases.items():
        monkeypatch.setenv(DSN_ENV, dsn)
        text, error = failure_text(PostgresTarget("pw-target", {"dsn_env": DSN_ENV}))
        for leak in (secret, quote(secret, safe=""), dsn):
            assert leak not in text, text
        assert "'pw-target'" in text and error.__cause__ is None and error.__context__ is None
    monkeypatch.setenv(DSN_ENV, wrong_dsn)
    text, _ = failure_text(PostgresTarget("pw-target", {"dsn_env": DSN_ENV}))
    assert f"socket {socket}" in text and "database postgres" in text and "password authentication failed" in text
    monkeypatch.setenv(DSN_ENV, make_conninfo(postgres_dsn, user=role))
    monkeypatch.setenv("PGPASSWORD", wrong)
    text, _ = failure_text(PostgresTarget("pw-target", {"dsn_env": DSN_ENV}))
    assert wrong not in text
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv(DSN_ENV, make_conninfo(postgres_dsn, user=role, password=password))
    right = PostgresTarget("pw-target", {"dsn_env": DSN_ENV})
    try:
        assert right.stored_checksums() == {}  # the right password connects: the failures were the password's
    finally:
        right.close()
