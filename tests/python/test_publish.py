"""The Load stage end to end on the sample (issue #15): write-audit-publish in `dbt build`, the
embedded serving store (atomic swap, versions kept, rollback), `docvec verify`, and crash safety.

Each test that writes works on its own copy of the sample build (warehouse and landing folder),
so the shared `sample_build` stays as built. External targets: test_publish_targets.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from docvec.publishing.failpoints import FAILPOINT_ENV
from docvec.publishing.publisher import PublishRequest, publish
from docvec.publishing.store import DIGEST_SQL, ServingStore, connect_publication, serving_path_for
from docvec.searching import SearchFilters, connect, search
from python_udfs.plugin import load_extensions

from conftest import DBT, DbtProject

DOCVEC = str(Path(DBT).with_name("docvec"))
QUERY = "trout hatchery fingerling supply"
CHANGED_FILE = "notes/supplier_contacts.txt"
NEW_WORDS = "Zanzibarquill emberwhistle sprockets"


def serving_of(project: DbtProject) -> ServingStore:
    return ServingStore(serving_path_for(str(project.db_path)))


def publish_log(project: DbtProject) -> list[dict]:
    return serving_of(project).read_log()


def warehouse_digest(project: DbtProject) -> str:
    with project.connect() as conn:
        return conn.execute(DIGEST_SQL).fetchone()[0]


def docvec(project: DbtProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOCVEC, *args], capture_output=True, text=True, env=project.env(), timeout=600, cwd=project.workdir
    )


@pytest.fixture
def published(sample_build: DbtProject, tmp_path: Path) -> DbtProject:
    """A copy of the sample build with its own landing folder, published once by `docvec publish`
    (dbt test, whose on-run-end hook publishes when every test passes)."""
    copy = sample_build.copy_build(tmp_path / "work")
    landing = tmp_path / "landing"
    shutil.copytree(sample_build.source_path, landing, symlinks=True)
    copy.source_path = landing
    result = docvec(copy, "publish", "--project-dir", str(copy.project_dir))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return copy


def test_the_build_publishes_its_candidate(sample_build: DbtProject) -> None:
    store = serving_of(sample_build)
    current = store.current()
    assert current is not None and current.version == 1
    assert os.path.islink(store.path) and Path(store.path).name == "docvec.serving.duckdb"
    assert current.digest == warehouse_digest(sample_build)
    assert "docvec publish: embedded published v1" in sample_build.build_result.stdout
    (record,) = [r for r in publish_log(sample_build) if r["target"] == "embedded"]
    assert record["status"] == "published" and record["inserted"] == current.row_count > 0
    assert record["lag_seconds"] is not None and record["lag_seconds"] >= 0
    runs = sample_build.query(
        "select publish_status, published_version, publish_lag_seconds from pipeline_runs order by started_at"
    )
    assert runs[-1][:2] == ("published", 1) and runs[-1][2] is not None
    viewed = sample_build.query("select target, status, version, inserted from publish_runs")
    assert viewed == [("embedded", "published", 1, current.row_count)]


def test_the_published_store_answers_like_the_warehouse(sample_build: DbtProject, monkeypatch) -> None:
    monkeypatch.setenv("DOCVEC_DB_PATH", str(sample_build.db_path))
    monkeypatch.delenv("DOCVEC_SERVING_PATH", raising=False)
    for mode in ("vector", "keyword", "hybrid"):
        with connect() as served, connect(str(sample_build.db_path)) as warehouse:
            assert served.execute("select count(*) from docvec_publication").fetchone() == (1,)
            got = [r.chunk_id for r in search(served, QUERY, k=5, mode=mode)]
            want = [r.chunk_id for r in search(warehouse, QUERY, k=5, mode=mode)]
        assert got == want and got, mode


def test_the_publication_opens_read_only_with_its_indexes_and_no_wal(sample_build: DbtProject) -> None:
    current = serving_of(sample_build).current()
    assert not os.path.exists(current.path + ".wal")
    with connect_publication(current.path) as conn:
        indexes = {name for (name,) in conn.execute("select index_name from duckdb_indexes()").fetchall()}
        schemas = {name for (name,) in conn.execute("select schema_name from duckdb_schemas()").fetchall()}
    assert "search_index_hnsw" in indexes and "fts_main_search_index" in schemas


def test_a_failing_gate_serves_the_previous_publication(published: DbtProject) -> None:
    store = serving_of(published)
    first = store.current()
    landing_file = published.source_path / CHANGED_FILE
    landing_file.write_text(landing_file.read_text(encoding="utf-8") + f"\n\n{NEW_WORDS}.\n", encoding="utf-8")

    failed = published.dbt("build", "--vars", "{eval_min_ndcg_at_10: 0.999}", check=False)
    assert failed.returncode != 0
    assert "embedded held_back v1" in failed.stdout and "evaluation_serving_ndcg_at_10 (fail)" in failed.stdout
    assert store.current() == first
    held = publish_log(published)[-1]
    assert held["status"] == "held_back" and "evaluation_serving_ndcg_at_10 (fail)" in held["held_back_by"]
    assert published.query("select publish_status from pipeline_runs order by started_at desc limit 1") == [
        ("held_back",)
    ]
    with connect(first.path) as conn:
        assert not search(conn, NEW_WORDS, k=3, mode="keyword")

    # dbt run never publishes; a partial build names the tests it did not run
    published.dbt("run", "--select", "documents")
    partial = published.dbt("build", "--select", "documents", check=False)
    assert "held_back" in partial.stdout and "(not run)" in partial.stdout
    assert store.current() == first

    # the next passing build publishes the change, incrementally counted
    published.dbt("build")
    second = store.current()
    assert second.version == 2 and second.digest == warehouse_digest(published)
    record = [r for r in publish_log(published) if r["target"] == "embedded"][-1]
    assert record["status"] == "published" and 0 < record["inserted"] + record["updated"] + record["deleted"]
    assert record["inserted"] + record["updated"] + record["deleted"] < second.row_count // 2
    with connect(second.path) as conn:
        assert [r.source_path for r in search(conn, NEW_WORDS, k=1, mode="keyword")] == [CHANGED_FILE]

    # a rebuild with nothing changed writes nothing
    published.dbt("build")
    assert store.current() == second and publish_log(published)[-1]["status"] == "unchanged"

    # rollback goes back one, verify agrees, and the rolled-back store answers the old way
    rolled = docvec(published, "publish", "--rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert store.current().version == 1 and publish_log(published)[-1]["status"] == "rolled_back"
    assert docvec(published, "verify").returncode == 0
    again = docvec(published, "publish", "--rollback")
    assert again.returncode == 2 and "nothing to roll back to" in again.stderr

    # the next publication is v3 (numbers are never reused); publish_keep bounds the versions kept
    landing_file.write_text(landing_file.read_text(encoding="utf-8") + "\nonce more\n", encoding="utf-8")
    published.dbt("build", "--vars", "{publish_keep: 2}")
    assert store.current().version == 3 and sorted(store.version_paths()) == [2, 3]


def test_verify_catches_a_tampered_publication(sample_build: DbtProject, direct_store: ServingStore) -> None:
    env = {**sample_build.env(), "DOCVEC_SERVING_PATH": direct_store.path}
    assert subprocess.run([DOCVEC, "verify"], env=env, capture_output=True, timeout=300).returncode == 0
    current = direct_store.current()
    conn = duckdb.connect(current.path)
    try:
        load_extensions(conn, ("vss", "fts"))
        conn.execute("update search_index set chunk_text = chunk_text || ' tampered' where chunk_index = 0")
        conn.execute("checkpoint")
    finally:
        conn.close()
    result = subprocess.run(
        [DOCVEC, "verify", "--format", "json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    (check,) = json.loads(result.stdout)
    assert check["target"] == "embedded" and not check["ok"] and "digest" in check["detail"]


# --------------------------------------------------------------------------------------------
# Crash safety: SIGKILL at every failpoint of the publish path
# --------------------------------------------------------------------------------------------

KILLED_PUBLISH = """
import sys
from docvec.publishing.publisher import PublishRequest, publish
from docvec.publishing.store import ServingStore
store = ServingStore(sys.argv[2])
incoming, digest, rows = store.copy_candidate(sys.argv[1])
publish(PublishRequest(serving_path=sys.argv[2], incoming_path=incoming, candidate_digest=digest, candidate_rows=rows))
"""


@pytest.fixture
def direct_store(sample_build: DbtProject, tmp_path: Path) -> ServingStore:
    """A serving store of its own, published once from the sample warehouse without dbt."""
    store = ServingStore(str(tmp_path / "serving" / "docvec.serving.duckdb"))
    incoming, digest, rows = store.copy_candidate(str(sample_build.db_path))
    publish(
        PublishRequest(serving_path=store.path, incoming_path=incoming, candidate_digest=digest, candidate_rows=rows)
    )
    return store


@pytest.mark.parametrize(
    "failpoint",
    ["publish.copied", "publish.indexed_fts", "publish.checkpointed", "publish.before_swap", "publish.swapped"],
)
def test_a_killed_publish_leaves_the_previous_publication_serving(
    sample_build: DbtProject, direct_store: ServingStore, failpoint: str, tmp_path: Path
) -> None:
    store = direct_store
    before = store.current()
    # a changed candidate: a warehouse copy whose search_index lost a row
    changed = tmp_path / "changed.duckdb"
    shutil.copy(sample_build.db_path, changed)
    with duckdb.connect(str(changed)) as conn:
        load_extensions(conn, ("vss", "fts"))
        conn.execute("delete from search_index where chunk_id = (select min(chunk_id) from search_index)")
    env = {**sample_build.env(), FAILPOINT_ENV: failpoint}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISH, str(changed), store.path], env=env, capture_output=True, timeout=300
    )
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]

    current = store.current()
    expected = before if failpoint != "publish.swapped" else current
    assert current.version == expected.version
    with connect(store.path) as conn:  # the serving link opens read-only
        digest, rows = conn.execute(DIGEST_SQL).fetchone()
        assert conn.execute("select count(*) from docvec_publication").fetchone() == (1,)
        assert len(search(conn, QUERY, k=3, mode="hybrid", filters=SearchFilters())) == 3
    assert digest == current.digest and rows == current.row_count
    assert not list(Path(store.versions_dir).glob("v*.wal"))

    incoming, digest, rows = store.copy_candidate(str(changed))
    records = publish(
        PublishRequest(serving_path=store.path, incoming_path=incoming, candidate_digest=digest, candidate_rows=rows)
    )
    (record,) = records
    assert record["status"] == "published" and (record["missing"], record["extra"], record["mismatched"]) == (0, 0, 0)
    assert store.current().digest == digest and store.current().version > before.version
    assert not [p for p in Path(store.versions_dir).iterdir() if p.name.startswith(".incoming-")]
    assert not list(Path(store.path).parent.glob(Path(store.path).name + ".link-*"))
