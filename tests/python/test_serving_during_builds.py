"""Searches keep answering while the warehouse is rebuilt and republished (issue #15 "Load").

A reader process searches the serving store 100 ms after each search ends (a fresh
`docvec.connect()` each time, as a short-lived application request would) through a full
`dbt build` that publishes a new version, a `docvec publish` that finds nothing new, and a
`docvec publish --rollback`.
Every answer must come, unblocked, from one complete publication: its search_index holds the
row count and content digest its docvec_publication row records, and it was opened under its
final version file name. A second test runs the `docvec search` command while a build holds the
warehouse's write lock, which used to make it fail.

Each test works on its own copy of the sample build (warehouse, landing folder, serving store),
so the shared `sample_build` stays as built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from docvec.publishing.store import SERVING_PATH_ENV, VERSIONS_SUFFIX, serving_path_for

from conftest import DBT, DbtProject

DOCVEC = str(Path(DBT).with_name("docvec"))
QUERY = "trout hatchery fingerling supply"
CHANGED_FILE = "notes/supplier_contacts.txt"
NEW_WORDS = "Quillmere lanternfish brokerage"
INTERVAL_S = 0.1  # the reader starts a search 100 ms after the previous one ended
BLOCKED_S = 1.0  # a search slower than this counts as blocked
MIN_QUERIES = 50
READER_MAX_S = 900  # the reader stops by itself after this, stop file or not
SETTLE_QUERIES = 3  # searches the reader must have answered before and after each swap is awaited
VERSION_FILE = re.compile(r"^v(\d{6,})\.duckdb$")
# The builds and publishes run at a lower CPU priority than the reader, as a batch job beside a
# serving process would: on a 2-core machine a build at full priority can starve the reader.
NICE = [shutil.which("nice") or "nice", "-n", "5"]

# The reader process. argv: records file (JSON lines), stop file, query vector file (JSON list).
# It connects the way an application does: docvec.connect() with no path, i.e. the current
# publication beside env DOCVEC_DB_PATH; it never opens the warehouse itself.
READER_SCRIPT = """
import json, os, sys, time
import docvec
from docvec.publishing.store import DIGEST_SQL

records_path, stop_path, vector_path = sys.argv[1:4]
interval, query, max_seconds = float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
vector = json.loads(open(vector_path, encoding="utf-8").read())
with docvec.connect() as warm:  # the first search of a process loads the extensions: not a request's cost
    docvec.search(warm, query, k=5, mode="hybrid", vector=vector)
deadline = time.monotonic() + max_seconds
with open(records_path, "a", encoding="utf-8") as out:
    while not os.path.exists(stop_path) and time.monotonic() < deadline:
        started, clock = time.time(), time.monotonic()
        record = {"started": started, "ok": False}
        try:
            conn = docvec.connect()
            record["connect_seconds"] = round(time.monotonic() - clock, 4)
            try:
                hits = docvec.search(conn, query, k=5, mode="hybrid", vector=vector)
                version, recorded_rows, recorded_digest = conn.execute(
                    "select version, row_count, digest from docvec_publication"
                ).fetchone()
                digest, rows = conn.execute(DIGEST_SQL).fetchone()
                path = conn.execute(
                    "select path from duckdb_databases() where database_name = current_database()"
                ).fetchone()[0]
            finally:
                conn.close()
            record.update(
                ok=True, hits=len(hits), version=version, rows=rows, recorded_rows=recorded_rows,
                digest_ok=digest == recorded_digest, path=path,
            )
        except Exception as error:
            record["error"] = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        record["seconds"] = round(time.monotonic() - clock, 4)
        record["finished"] = time.time()
        out.write(json.dumps(record) + "\\n")
        out.flush()
        time.sleep(interval)
"""


@dataclass(frozen=True)
class Phase:
    """What the test did while the reader ran, with its wall-clock bounds (time.time())."""

    name: str
    started: float
    finished: float


def serving_path(project: DbtProject) -> Path:
    return Path(serving_path_for(str(project.db_path)))


def reader_env(project: DbtProject) -> dict[str, str]:
    """The reader's environment: only DOCVEC_DB_PATH says where to look (the serving store is beside it)."""
    env = project.env(TOKENIZERS_PARALLELISM="false")
    env.pop(SERVING_PATH_ENV, None)
    return env


def niced_dbt(project: DbtProject, *args: str) -> subprocess.CompletedProcess[str]:
    """`dbt args` on the copy at low priority (NICE); a failure fails the test with dbt's output."""
    result = subprocess.run(
        [*NICE, *project.command(*args)],
        cwd=project.project_dir,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
    return result


def docvec_cli(project: DbtProject, *args: str, nice: bool = False) -> subprocess.CompletedProcess[str]:
    """The `docvec` command on the copy (`nice`: at low priority); dbt's target and logs go to its
    work folder, not the project's."""
    env = project.env(
        DBT_TARGET_PATH=str(project.workdir / "target"),
        DBT_LOG_PATH=str(project.workdir / "logs"),
        TOKENIZERS_PARALLELISM="false",
    )
    env.pop(SERVING_PATH_ENV, None)
    command = [*NICE, DOCVEC, *args] if nice else [DOCVEC, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, cwd=project.workdir)


def own_copy(sample_build: DbtProject, tmp_path: Path) -> DbtProject:
    """A copy of the sample build's warehouse with its own landing folder."""
    copy = sample_build.copy_build(tmp_path / "work")
    landing = tmp_path / "landing"
    shutil.copytree(sample_build.source_path, landing, symlinks=True)
    copy.source_path = landing
    return copy


def copy_serving_store(source: DbtProject, destination: DbtProject) -> Path:
    """Copy the serving store beside `source`'s warehouse to beside `destination`'s (link and versions)."""
    link, target = serving_path(source), serving_path(destination)
    shutil.copytree(str(link) + VERSIONS_SUFFIX, str(target) + VERSIONS_SUFFIX)
    os.symlink(os.readlink(link), target)
    return target


def change_landing(project: DbtProject) -> None:
    """Append new words to one landing file, so that the next build has a new candidate."""
    landing_file = project.source_path / CHANGED_FILE
    landing_file.write_text(landing_file.read_text(encoding="utf-8") + f"\n\n{NEW_WORDS}.\n", encoding="utf-8")


def query_vector(publication: Path) -> list[float]:
    """A real embedding of the publication (its first chunk's), so the reader needs no model."""
    with duckdb.connect(str(publication), read_only=True) as conn:
        return list(conn.execute("select embedding from search_index order by chunk_id limit 1").fetchone()[0])


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_answers(records: Path, count: int, after: float, timeout: float = 60) -> None:
    """Wait until the reader has answered `count` searches started after `after` (time.time())."""
    deadline = time.monotonic() + timeout
    while sum(1 for r in read_records(records) if r["started"] > after) < count:
        assert time.monotonic() < deadline, f"the reader answered fewer than {count} searches in {timeout} s"
        time.sleep(INTERVAL_S)


@contextmanager
def reader(project: DbtProject, workdir: Path, vector: list[float]) -> Iterator[Path]:
    """Run the reader process for the duration of the block; yields its records file."""
    script, records, stop, vector_file = (workdir / name for name in ("reader.py", "reads.jsonl", "stop", "vec.json"))
    script.write_text(READER_SCRIPT, encoding="utf-8")
    vector_file.write_text(json.dumps(vector), encoding="utf-8")
    args = [str(records), str(stop), str(vector_file), str(INTERVAL_S), QUERY, str(READER_MAX_S)]
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        env=reader_env(project),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield records
    finally:
        stop.touch()
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    assert process.returncode == 0, f"the reader process failed ({process.returncode}):\n{stderr[-4000:]}"


def run_phase(
    name: str,
    action: Callable[[], subprocess.CompletedProcess[str]],
    check: Callable[[subprocess.CompletedProcess[str]], None],
) -> Phase:
    """Run one step of the test (`action()`), check its result with `check(result)`, time it."""
    started = time.time()
    result = action()
    finished = time.time()
    check(result)
    return Phase(name, started, finished)


def collapsed(versions: list[int]) -> list[int]:
    """The versions in the order they were served, with repeats collapsed ([1, 1, 2, 2, 1] -> [1, 2, 1])."""
    return [v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v]


def check_answers(records: list[dict], phases: dict[str, Phase]) -> None:
    """Every search answered, unblocked, from a complete publication, and the right one at each time."""
    failed = [r for r in records if not r["ok"]]
    assert not failed, f"{len(failed)} of {len(records)} searches failed, e.g. {failed[:3]}"
    blocked = [r for r in records if r["seconds"] > BLOCKED_S]
    assert not blocked, f"{len(blocked)} searches took over {BLOCKED_S} s, e.g. {blocked[:3]}"
    assert all(r["hits"] > 0 for r in records), "a search returned nothing"
    incomplete = [r for r in records if r["rows"] != r["recorded_rows"] or not r["digest_ok"]]
    assert not incomplete, f"{len(incomplete)} answers came from an incomplete publication, e.g. {incomplete[:3]}"
    for r in records:
        name = Path(r["path"]).name
        matched = VERSION_FILE.match(name)
        assert matched and int(matched[1]) == r["version"], f"a search opened {r['path']!r}, not a version file"
        assert Path(r["path"]).parent.name.endswith(VERSIONS_SUFFIX), r["path"]
    versions = [r["version"] for r in sorted(records, key=lambda r: r["started"])]
    assert set(versions) == {1, 2}
    assert collapsed(versions) == [1, 2, 1], f"versions served, in order: {collapsed(versions)}"
    build, rollback = phases["build"], phases["rollback"]
    for r in records:
        if r["finished"] < build.started or r["started"] > rollback.finished:
            assert r["version"] == 1, r
        elif build.finished < r["started"] and r["finished"] < rollback.started:
            assert r["version"] == 2, r


def test_searches_answer_from_a_complete_publication_through_build_publish_and_rollback(
    sample_build: DbtProject, tmp_path: Path
) -> None:
    copy = own_copy(sample_build, tmp_path)
    serving = copy_serving_store(sample_build, copy)  # v1, which the sample's own `dbt build` published
    assert os.path.islink(serving) and Path(os.path.realpath(serving)).name == "v000001.duckdb"
    change_landing(copy)
    phases: dict[str, Phase] = {}
    with reader(copy, tmp_path, query_vector(serving)) as records:
        wait_for_answers(records, SETTLE_QUERIES, after=0)
        phases["build"] = run_phase(
            "build",
            lambda: niced_dbt(copy, "build"),
            lambda result: _expect(result.stdout, "docvec publish: embedded published v2"),
        )
        wait_for_answers(records, SETTLE_QUERIES, after=phases["build"].finished)
        phases["publish"] = run_phase(
            "publish",
            lambda: docvec_cli(copy, "publish", "--project-dir", str(copy.project_dir), nice=True),
            lambda result: _expect_ok(result, "docvec publish: embedded unchanged v2"),
        )
        phases["rollback"] = run_phase(
            "rollback",
            lambda: docvec_cli(copy, "publish", "--rollback", nice=True),
            lambda result: _expect_ok(result, "docvec publish: embedded rolled_back v1"),
        )
        wait_for_answers(records, SETTLE_QUERIES, after=phases["rollback"].finished)
    answers = read_records(records)
    seconds = sorted(r["seconds"] for r in answers)
    print(
        f"\n{len(answers)} searches, {sum(not r['ok'] for r in answers)} failed, "
        f"max {seconds[-1]:.3f} s, median {seconds[len(seconds) // 2]:.3f} s, "
        f"versions {collapsed([r.get('version') for r in answers])}, "
        + ", ".join(f"{p.name} {p.finished - p.started:.1f} s" for p in phases.values())
    )
    assert len(answers) >= MIN_QUERIES, f"only {len(answers)} searches ran"
    check_answers(answers, phases)


def _expect(output: str, line: str) -> None:
    assert line in output, f"{line!r} not in the output:\n{output[-6000:]}"


def _expect_ok(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    _expect(result.stdout, line)


def test_the_search_command_answers_while_a_build_holds_the_warehouse_lock(
    sample_build: DbtProject, tmp_path: Path
) -> None:
    copy = own_copy(sample_build, tmp_path)
    copy_serving_store(sample_build, copy)
    build = subprocess.Popen(
        copy.command("build"), cwd=copy.project_dir, env=copy.env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert build.stdout is not None
        # wait until dbt has the warehouse open and is running models
        started = any(" START " in line for line in build.stdout)
        assert started, "dbt build ended before it ran a model"
        search = docvec_cli(copy, "search", QUERY, "--mode", "keyword", "--k", "3", "--format", "json")
        locked = docvec_cli(copy, "search", QUERY, "--mode", "keyword", "--db", str(copy.db_path))
        still_running = build.poll() is None
    finally:
        stop_process(build)
    assert still_running, "the build ended before the searches did: nothing was proven"
    assert locked.returncode == 2 and "locked by another process" in locked.stderr, (locked.returncode, locked.stderr)
    assert search.returncode == 0, search.stderr
    hits = json.loads(search.stdout)
    assert hits and all(hit["source_path"] for hit in hits)


def stop_process(process: subprocess.Popen[str]) -> None:
    """Interrupt a process this test started (as Ctrl-C would), killing it if it does not stop in 60 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
