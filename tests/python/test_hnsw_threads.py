"""HNSW index scans from several threads of one process, as `docvec serve` runs them: DuckDB
1.5.5's vss aborts the process when threads scan at once, so docvec.searching takes one indexed
scan at a time (`_HNSW_SCAN`). The scans run in a child process, so that a crash fails the test
instead of killing pytest; the control run without the lock must crash.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration  # child processes that may crash

CHILD = textwrap.dedent(
    """
    import contextlib, sys, threading
    import duckdb, numpy as np, pyarrow as pa
    from python_udfs.plugin import load_extensions
    from docvec import searching
    from docvec.searching import SearchFilters, indexed_vector_ranking

    mode, path, n = sys.argv[1], sys.argv[2], 3000
    if mode == "unlocked":
        searching._HNSW_SCAN = contextlib.nullcontext()
    vectors = np.random.default_rng(0).standard_normal((n, 384)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    conn = duckdb.connect(path)
    load_extensions(conn, ("vss",))
    conn.execute("set hnsw_enable_experimental_persistence = true")
    column = pa.array(vectors.tolist(), type=pa.list_(pa.float32(), 384))
    conn.register("vt", pa.table({"i": list(range(n)), "e": column}))
    conn.execute(
        "create table search_index as select 'c' || i as chunk_id, 'p' || i as source_path, "
        "null::varchar as title, null::varchar as section, 0 as start_char, 1 as end_char, "
        "'text ' || i as chunk_text, 'd' || i as document_id, ['public'] as access_groups, "
        "'text' as file_type, '{}'::json as metadata, 's' as strategy_id, 'm' as model_id, "
        "e::float[384] as embedding from vt"
    )
    conn.execute("create index hnsw on search_index using hnsw (embedding) with (metric = 'cosine')")
    found = []

    def work(worker):
        cursor = conn.cursor()
        for q in range(100):
            vector = vectors[(worker * 101 + q) % n].tolist()
            rows = indexed_vector_ranking(cursor, vector, SearchFilters(groups=("public",)), 10)
            found.append(rows is not None and rows[0][0] == "c" + str((worker * 101 + q) % n))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("searches", len(found), "nearest is itself", sum(found))
    """
)


def run_child(mode: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )


def test_eight_threads_scan_the_hnsw_index_at_once_without_crashing(tmp_path: Path) -> None:
    result = run_child("locked", tmp_path / "index.duckdb")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "searches 800 nearest is itself 800" in result.stdout, result.stdout[-500:]


def test_without_the_lock_the_same_scans_crash(tmp_path: Path) -> None:
    """Control: vss crashed in 2 of 2 such runs without the lock (up to 4 runs here)."""
    outcomes = []
    for attempt in range(4):
        result = run_child("unlocked", tmp_path / f"index{attempt}.duckdb")
        outcomes.append((result.returncode, result.stdout[-200:]))
        if result.returncode != 0:
            return
    pytest.fail(f"no crash without the lock: {outcomes}")
