"""A `dbt build` stopped, blocked or fed an odd path fails cleanly: one clear line, no traceback.

- SIGINT or SIGTERM during embedding stops the build within one forward pass: the vectors
  embedded so far are committed, the tables after embeddings are the previous ones, and the next
  build completes (python_udfs.interrupts, python_udfs.embedding.streaming).
- A second build while one runs, or a build while an application holds the warehouse open, is
  refused with one line naming the other process (python_udfs.warehouse_access, via the plugin).
- Braces in `source_path` are taken literally (dbt-duckdb `.format()`s a source's location).
- Incremental builds leave no `embeddings__dbt_tmp...` table behind.

The build tests share one small warehouse, built once from a landing folder whose name holds
braces; each test leaves the landing folder as it found it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from python_udfs import interrupts
from python_udfs.embedding import embedding_batches, load_model, output_schema

from conftest import DbtProject

STOP_BOUND_SECONDS = 20  # from the signal to the end of the process
TOPICS = ("tilapia", "trout", "lettuce", "basil")
TEMPORARY_TABLES = r"select table_name from information_schema.tables where table_name like '%\_\_dbt\_tmp%' escape '\'"


# --------------------------------------------------------------------------------------------
# The stop flag, the signal handlers and the embedding stream (no build)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def clean_stop() -> Iterator[Callable[[], None]]:
    """No stop request before or after the test; the signal handlers handed back."""
    interrupts.clear_stop()
    yield interrupts.clear_stop
    interrupts.restore_signal_handlers()
    interrupts.clear_stop()


@pytest.mark.unit
def test_build_interrupted_is_a_keyboard_interrupt_and_a_one_line_dbt_error() -> None:
    from dbt_common.exceptions import DbtBaseException

    error = interrupts.BuildInterrupted(interrupts.interrupted_message("SIGTERM"))
    assert isinstance(error, KeyboardInterrupt) and isinstance(error, DbtBaseException)
    assert "\n" not in str(error) and "interrupted by SIGTERM" in str(error)


@pytest.mark.unit
def test_a_signal_asks_for_a_stop_and_unwinds_the_main_thread(clean_stop: Callable[[], None]) -> None:
    assert interrupts.install_signal_handlers()
    assert interrupts.stop_reason() is None
    with pytest.raises(interrupts.BuildInterrupted, match="interrupted by SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs in this thread before the sleep ends
    assert interrupts.stop_requested() and interrupts.stop_reason() == "SIGTERM"
    interrupts.restore_signal_handlers()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.unit
def test_handlers_are_not_installed_from_another_thread_nor_over_foreign_ones(clean_stop: Callable[[], None]) -> None:
    import threading

    results: list[bool] = []
    worker = threading.Thread(target=lambda: results.append(interrupts.install_signal_handlers()))
    worker.start()
    worker.join()
    assert results == [False]
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # someone chose to ignore SIGTERM
    try:
        interrupts.install_signal_handlers()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        interrupts.restore_signal_handlers()
        signal.signal(signal.SIGTERM, previous)


SECOND_SIGNAL = """
import os, signal, time
from python_udfs import interrupts
interrupts.install_signal_handlers()
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)
except interrupts.BuildInterrupted:
    print("stopping", flush=True)
os.kill(os.getpid(), signal.SIGINT)
time.sleep(5)
print("still running", flush=True)
"""


@pytest.mark.unit
def test_a_second_signal_stops_at_once() -> None:
    result = subprocess.run([sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=60)
    assert result.returncode == -signal.SIGINT, result.stderr
    assert result.stdout.splitlines()[-1] == "stopping" and "still running" not in result.stdout


@pytest.mark.unit
def test_dbt_cancel_event_asks_for_a_stop(clean_stop: Callable[[], None]) -> None:
    """dbt's own KeyboardInterrupt path (handlers not installed) cancels connections: that stops too."""
    from dbt.events.types import LogCancelLine
    from dbt_common.events.base_types import msg_from_base_event

    interrupts.on_dbt_event(msg_from_base_event(LogCancelLine(conn_name="model.docvec.embeddings")))
    assert interrupts.stop_reason() == "a dbt cancel"


@pytest.fixture(scope="module")
def model():
    return load_model()


def texts_reader(texts: list[str]) -> pa.RecordBatchReader:
    keys = [f"{i:064x}" for i in range(len(texts))]
    batch = pa.RecordBatch.from_pydict({"text_sha256": keys, "chunk_text": texts})
    return pa.RecordBatchReader.from_batches(batch.schema, [batch])


@pytest.mark.unit
def test_the_stream_stops_between_forward_passes_and_keeps_what_it_embedded(model) -> None:
    texts = [f"note {i}: pump {i} was serviced and its flow logged" for i in range(10)]
    passes: list[int] = []
    logs: list[str] = []

    def stop_reason() -> str | None:  # asked before each forward pass: stop before the third
        passes.append(1)
        return "SIGINT" if len(passes) > 2 else None

    out = list(
        embedding_batches(
            texts_reader(texts), model, model_id="m", total=10, batch_size=4, log=logs.append, stop_reason=stop_reason
        )
    )
    (batch,) = out
    assert batch.schema == output_schema(384) and batch.num_rows == 8  # two passes of 4 texts
    keys = batch.column("text_sha256").to_pylist()
    assert keys == sorted(keys)  # input order kept
    vectors = np.array(batch.column("embedding").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert "stopped by SIGINT after 8/10 texts" in logs[-1] and "embeds the other 2" in logs[-1]


@pytest.mark.unit
def test_a_stop_before_the_first_pass_yields_nothing(model) -> None:
    out = list(
        embedding_batches(
            texts_reader(["a", "b"]), model, model_id="m", total=2, log=lambda _: None, stop_reason=lambda: "SIGTERM"
        )
    )
    assert out == []


# --------------------------------------------------------------------------------------------
# Real builds
# --------------------------------------------------------------------------------------------


def write_notes(root: Path) -> None:
    for n, topic in enumerate(TOPICS):
        paragraphs = [f"Paragraph {p} about {topic}: unit {n * 10 + p} is checked at dawn and dusk." for p in range(6)]
        (root / f"{topic}.md").write_text(f"# Notes on {topic}\n\n" + "\n\n".join(paragraphs) + "\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """A small warehouse built once; its landing folder is `x{name}br{ace}`, beside a decoy `xdocuments`
    (what `x{name}` formats to) that must never be read."""
    workdir = tmp_path_factory.mktemp("interrupts")
    landing = workdir / "x{name}br{ace}"
    landing.mkdir()
    write_notes(landing)
    (workdir / "xdocuments").mkdir()
    (workdir / "xdocuments" / "decoy.md").write_text("# Decoy\n\nThis file must never be read.\n")
    project = DbtProject(workdir, landing)
    project.dbt("build")
    return project


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


@pytest.mark.integration
def test_braces_in_source_path_are_taken_literally(built: DbtProject) -> None:
    paths = {row[0] for row in built.query("select source_path from documents")}
    assert paths == {f"{topic}.md" for topic in TOPICS}
    assert built.query("select count(*) from quarantined_documents")[0][0] == 0


@pytest.mark.integration
def test_incremental_builds_leave_no_temporary_tables(built: DbtProject) -> None:
    built.dbt("build")  # the second build appends through the incremental path
    assert built.query(TEMPORARY_TABLES) == []


@pytest.mark.integration
def test_a_build_while_an_application_reads_the_warehouse_names_it(built: DbtProject) -> None:
    with duckdb.connect(str(built.db_path), read_only=True):  # this test process: a reader
        result = built.dbt("build", check=False)
    output = output_of(result)
    assert result.returncode != 0 and "Traceback" not in output
    (line,) = [line for line in output.splitlines() if "locked by another process" in line]
    assert f"PID {os.getpid()}" in line and "wait for it to finish or stop it" in line
    after = output.split("Encountered an error:", 1)[1].strip().splitlines()
    assert len(after) <= 2, output  # dbt's "Database Error" header, then the one line


def write_extra_notes(root: Path, tag: str, files: int = 250) -> list[Path]:
    """Enough new text that embedding lasts well past the signal (~700 chunk texts, a minute here)."""
    written = []
    for n in range(files):
        path = root / f"extra_{tag}_{n}.txt"
        path.write_text(
            "\n\n".join(
                f"Extra {tag} note {n}.{p}: pump {n * 7 + p} was serviced on day {n * 3 + p}, its impeller "
                f"{n * 11 + p} replaced and its flow logged at {n * 13 + p} litres per minute in bay {p}."
                for p in range(12)
            )
        )
        written.append(path)
    return written


def second_build(project: DbtProject) -> subprocess.CompletedProcess[str]:
    """`dbt build` in its own target folder (a copy, for partial parsing), as a second terminal would."""
    target = project.workdir / "second-target"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(project.workdir / "target", target)
    command = project.command("build")
    command[command.index("--target-path") + 1] = str(target)
    command[command.index("--log-path") + 1] = str(project.workdir / "second-logs")
    return subprocess.run(
        command, cwd=project.project_dir, env=project.env(), capture_output=True, text=True, timeout=600
    )


@pytest.mark.integration
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_embedding_stops_the_build_cleanly(built: DbtProject, stop_signal: signal.Signals) -> None:
    previous_serving = built.query("select chunk_id, text_sha256, embedding from search_index order by 1")
    previous_vectors = set(built.query("select text_sha256, model_id, embedding from embeddings"))
    extra = write_extra_notes(built.source_path, stop_signal.name)
    log = built.workdir / f"{stop_signal.name}.log"
    try:
        with log.open("w") as out:
            build = subprocess.Popen(
                built.command("build"), cwd=built.project_dir, env=built.env(), stdout=out, stderr=out,
                start_new_session=True,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 600
                while "texts to embed with" not in log.read_text() and time.monotonic() < deadline:
                    assert build.poll() is None, log.read_text()[-3000:]
                    time.sleep(0.2)

                # Meanwhile, a second build is refused with the first one's PID.
                refused = second_build(built)
                assert refused.returncode != 0 and "Traceback" not in output_of(refused)
                (line,) = [line for line in output_of(refused).splitlines() if "locked by another process" in line]
                assert f"PID {build.pid}" in line

                assert build.poll() is None, "the build ended before the signal: " + log.read_text()[-2000:]
                signalled = time.monotonic()
                build.send_signal(stop_signal)
                build.wait(timeout=120)
                stopped_after = time.monotonic() - signalled
            finally:
                if build.poll() is None:
                    build.kill()
                    build.wait()
        output = log.read_text()
        assert stopped_after < STOP_BOUND_SECONDS, output[-3000:]
        assert build.returncode != 0 and "Traceback" not in output, output[-3000:]
        last = [line for line in output.splitlines() if line.strip()][-1]
        assert f"build interrupted by {stop_signal.name}: stopped cleanly" in last

        # Stopped mid-way: some of the new texts have vectors, not all; nothing else changed after embeddings.
        announced = re.search(r"embeddings: ([\d,]+) texts to embed", output)
        assert announced is not None
        pending = int(announced[1].replace(",", ""))
        vectors = built.query("select text_sha256, model_id, embedding from embeddings")
        assert previous_vectors <= set(vectors) and len(vectors) == len(set(vectors))
        assert len(vectors) - len(previous_vectors) < pending
        assert built.query("select chunk_id, text_sha256, embedding from search_index order by 1") == previous_serving
        assert built.query(TEMPORARY_TABLES) == []
    finally:
        for path in extra:
            path.unlink()

    built.dbt("build")  # the next build completes
    assert built.query(
        "select count(*) from chunks c where strategy_id = 'recursive_256' "
        "and not exists (select 1 from search_index s where s.chunk_id = c.chunk_id)"
    ) == [(0,)]
