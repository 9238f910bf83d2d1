"""The edges of `docvec search` and `docvec.search()`: every mistake is one clear line, never a traceback.

Bad arguments, a folder or an empty, truncated or corrupted file given as the warehouse, a
warehouse whose write-ahead log needs a recovery, one without `search_index`, one another
process has locked: the command exits 2 with one line on stderr that says what is wrong and
what to do. The warehouses are real DuckDB files, written and damaged by the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from docvec import SearchFilters, search
from docvec.cli import main

from conftest import DBT, PROJECT_ROOT

DOCVEC = str(Path(DBT).with_name("docvec"))
HEADER_BYTES = 12288  # DuckDB's file header (3 x 4 KiB); the first block starts here


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`docvec search` in-process: its exit status and its stderr (which must be one line)."""
    status = main(["search", *args])
    captured = capsys.readouterr()
    return status, captured.err


def one_line(stderr: str) -> str:
    """The single line of `stderr` (asserts there is exactly one and no traceback)."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def write_warehouse(path: Path, rows: int = 20_000) -> Path:
    """A checkpointed DuckDB file with a `search_index` table of `rows` rows (about 1 MB)."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "create table search_index as select range::varchar as chunk_id, repeat('x', 200) || range as chunk_text "
            f"from range({int(rows)})"
        )
        conn.execute("checkpoint")
    return path


# --------------------------------------------------------------------------------------------
# Arguments: checked before the warehouse is opened
# --------------------------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    "args, message",
    [
        (("--rrf-k", "-1"), "rrf_k must be an integer from 0"),
        (("--k", str(10**12)), "k must be an integer from 1 to 10,000"),
        (("--k", "0"), "k must be an integer from 1"),
        (("--candidates", "0"), "candidates must be an integer from 1"),
        (("--vector-weight", "nan"), "vector weight must be a finite number >= 0"),
        (("--keyword-weight", "-1"), "keyword weight must be a finite number >= 0"),
        (("--keyword-weight", "inf"), "keyword weight must be a finite number >= 0"),
        (("--vector-weight", "0", "--keyword-weight", "0"), "weights are both 0"),
        (("--k", "many"), "argument --k: invalid int value"),
        (("--mode", "semantic"), "argument --mode: invalid choice"),
    ],
)
def test_bad_arguments_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    missing = tmp_path / "never-built.duckdb"  # the arguments are refused before the file is looked at
    try:
        status, stderr = run_cli(capsys, "pumps", "--db", str(missing), *args)
    except SystemExit as stop:  # argparse's own errors exit from parse_args
        status, stderr = int(stop.code or 0), capsys.readouterr().err
    assert status == 2
    assert message in one_line(stderr)
    assert not missing.exists()


@pytest.mark.unit
@pytest.mark.parametrize(
    "vector, message",
    [
        ([0.0] * 384, "all zeros"),
        ([float("nan")] + [0.1] * 383, "non-finite"),
        ([], "empty"),
    ],
)
def test_a_query_vector_without_direction_is_rejected(vector: list[float], message: str) -> None:
    with duckdb.connect() as conn, pytest.raises(ValueError, match=message):
        search(conn, "pumps", vector=vector, mode="vector")


@pytest.mark.unit
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weights": (float("nan"), 1.0)}, "vector weight"),
        ({"weights": (1.0, -0.5)}, "keyword weight"),
        ({"rrf_k": -1}, "rrf_k"),
        ({"k": 10**12}, "k must be"),
        ({"candidates": 0}, "candidates"),
        ({"oversample": 0}, "oversample"),
    ],
)
def test_search_rejects_bad_arguments_with_value_error(kwargs: dict, message: str) -> None:
    with duckdb.connect() as conn, pytest.raises(ValueError, match=message):
        search(conn, "pumps", vector=[0.1] * 384, filters=SearchFilters(), **kwargs)


# --------------------------------------------------------------------------------------------
# The warehouse file
# --------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_a_folder_given_as_db(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, stderr = run_cli(capsys, "pumps", "--db", str(tmp_path))
    assert status == 2 and "is a folder, not a DuckDB warehouse file" in one_line(stderr)


@pytest.mark.unit
def test_an_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    status, stderr = run_cli(capsys, "pumps", "--db", str(empty))
    assert status == 2 and "is an empty file (0 bytes)" in one_line(stderr)


@pytest.mark.unit
def test_a_truncated_file_is_damaged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_warehouse(tmp_path / "whole.duckdb")
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(path.read_bytes()[: HEADER_BYTES + 8000])  # the header, not the blocks it points to
    status, stderr = run_cli(capsys, "pumps", "--db", str(truncated))
    line = one_line(stderr)
    assert status == 2 and "is damaged" in line and "restore it from a copy" in line


@pytest.mark.unit
def test_a_checksum_failure_is_corruption_not_a_lock(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """DuckDB says "... in block at location ...": the word "block" must not read as a lock."""
    path = write_warehouse(tmp_path / "corrupt.duckdb")
    data = bytearray(path.read_bytes())
    for start in range(HEADER_BYTES, len(data), 262_144):  # damage every block after its checksum
        data[start + 100 : start + 164] = b"\xff" * 64
    path.write_bytes(bytes(data))
    status, stderr = run_cli(capsys, "pumps", "--db", str(path))
    line = one_line(stderr)
    assert status == 2 and "is damaged" in line and "checksum" in line
    assert "locked" not in line


WAL_WRITER = """
import duckdb, os, sys
from python_udfs.plugin import load_extensions
conn = duckdb.connect(sys.argv[1])
load_extensions(conn, ("vss",))
conn.execute("set hnsw_enable_experimental_persistence = true")
conn.execute("set checkpoint_threshold = '1TB'")  # everything stays in the write-ahead log
conn.execute("create table search_index (chunk_id varchar, embedding float[3])")
conn.execute("insert into search_index values ('a', [1, 0, 0]), ('b', [0, 1, 0])")
conn.execute("create index search_index_hnsw on search_index using hnsw (embedding) with (metric = 'cosine')")
os._exit(0)  # stopped before closing: the log is never checkpointed
"""


@pytest.mark.unit
def test_a_warehouse_that_needs_wal_recovery(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A build stopped after writing an HNSW index leaves a log a read-only open cannot replay."""
    path = tmp_path / "stopped.duckdb"
    subprocess.run([sys.executable, "-c", WAL_WRITER, str(path)], cwd=PROJECT_ROOT, check=True, timeout=120)
    assert Path(f"{path}.wal").exists()
    status, stderr = run_cli(capsys, "pumps", "--db", str(path))
    line = one_line(stderr)
    assert status == 2 and "write-ahead log" in line and "run `dbt build` once to recover it" in line


@pytest.mark.unit
def test_a_warehouse_without_search_index_says_build_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "unbuilt.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("create table documents (document_id varchar)")
    status, stderr = run_cli(capsys, "pumps", "--db", str(path), "--mode", "keyword")
    line = one_line(stderr)
    assert status == 2 and "has no search_index table: build it first" in line


@pytest.fixture
def locked_warehouse(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A warehouse another process holds open read-write (like a running `dbt build`): (path, its PID)."""
    path = write_warehouse(tmp_path / "busy.duckdb", rows=10)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield path, holder.pid
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.unit
def test_a_lock_names_the_process_that_holds_it(
    capsys: pytest.CaptureFixture[str], locked_warehouse: tuple[Path, int]
) -> None:
    path, pid = locked_warehouse
    status, stderr = run_cli(capsys, "pumps", "--db", str(path))
    line = one_line(stderr)
    assert status == 2 and "locked by another process" in line and f"PID {pid}" in line


@pytest.mark.integration
def test_the_command_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    """The installed `docvec` command itself: a damaged file and a bad argument, one line each."""
    path = write_warehouse(tmp_path / "whole.duckdb")
    truncated = tmp_path / "truncated.duckdb"
    truncated.write_bytes(path.read_bytes()[: HEADER_BYTES + 8000])
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    for args in (["--db", str(truncated)], ["--db", str(path), "--rrf-k", "-1"], ["--db", str(tmp_path)]):
        result = subprocess.run(
            [DOCVEC, "search", "pumps", *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert result.returncode == 2, result.stderr
        assert one_line(result.stderr).startswith("docvec: ") and result.stdout == ""
