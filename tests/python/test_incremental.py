"""Incremental builds: each change to a small corpus embeds exactly the chunk texts that are new.

One landing folder and one warehouse go through a sequence of changes, each followed by a real
`dbt build`; the number of texts embedded is compared with the texts that did not exist before.
The steps depend on each other, so they run in one test function, in order. Every test has a
landing folder, project copy and warehouse of its own (the `project` fixture), so that the tests
pass alone and in any order.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from python_udfs.embedding.backends import effective_model_id

from conftest import DBT, PROJECT_VARS, SERVING_MODEL_ID, DbtProject, copy_project

pytestmark = pytest.mark.integration  # real `dbt build`s (the `project` fixture is not a conftest build fixture)

MODEL_ID = SERVING_MODEL_ID


def write_corpus(root: Path) -> None:
    topics = ["tilapia", "trout", "perch", "lettuce", "basil", "kale"]
    for n, topic in enumerate(topics):
        paragraphs = [
            f"# Notes on {topic}\n",
            *(
                f"Paragraph {p} about {topic}: the {topic} unit number {n * 10 + p} is checked at "
                f"dawn and dusk, and its readings are written in logbook {p} of shelf {n}."
                for p in range(1, 13)
            ),
        ]
        (root / f"{topic}.md").write_text("---\ntitle: " + topic.title() + "\n---\n" + "\n\n".join(paragraphs) + "\n")


def texts(project: DbtProject) -> set[str]:
    """The distinct chunk texts (their hashes) of the warehouse."""
    return {r[0] for r in project.query("select distinct text_sha256 from chunks")}


def last_run(project: DbtProject) -> tuple[int, int]:
    """(texts embedded, embeddings reused) of the last build."""
    return project.query(
        "select texts_embedded, embeddings_reused from pipeline_runs order by started_at desc limit 1"
    )[0]


def texts_split(project: DbtProject) -> int:
    """Document texts x strategy settings the last build split (chunk cache rows it added)."""
    return project.query(
        "select count(*) from int_texts_chunked where invocation_id = "
        "(select invocation_id from pipeline_runs order by started_at desc limit 1)"
    )[0][0]


def cache_is_exact(project: DbtProject) -> bool:
    """The chunk cache holds one row per document x strategy of this build, and nothing else."""
    cached = project.query("select count(*) from int_texts_chunked")[0][0]
    wanted = (
        project.query("select count(*) from documents")[0][0]
        * project.query("select count(*) from chunking_strategies")[0][0]
    )
    return cached == wanted


def snapshot(project: DbtProject) -> dict[str, list[tuple]]:
    """The public tables, row by row, in a fixed order."""
    return {
        "documents": project.query("select document_id, source_path, text, text_sha256 from documents order by 1"),
        "chunks": project.query(
            "select chunk_id, strategy_id, chunk_text, start_char, end_char, n_tokens from chunks order by 1"
        ),
        "search_index": project.query("select chunk_id, text_sha256, embedding from search_index order by 1"),
        "embeddings": project.query("select text_sha256, model_id, embedding from embeddings order by 1, 2"),
        "retrieval_runs": project.query(
            "select question_id, strategy_id, mode, rank, chunk_id, score from retrieval_runs order by 1, 2, 3, 4"
        ),
    }


# The data and unit tests are not what this module tests (tests/python/test_data_quality.py is):
# the builds after the first leave them out, which halves a build of this corpus.
NO_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")


def build(project: DbtProject, *args: str, tests: bool = False) -> str:
    """`dbt build` (without data and unit tests unless `tests`); returns dbt's console output."""
    return project.dbt(
        "build", "--vars", "{embedding_cache_retention_days: 0}", *args, *(() if tests else NO_TESTS)
    ).stdout


# One golden question about the scenario's corpus, so that retrieval_runs has something to rank.
GOLDEN = (
    "question_id,question,relevant_source_path,relevant_record_key,groups,answer_phrase\n"
    "q1,When is the tilapia unit checked?,tilapia.md,,public,checked at dawn and dusk\n"
)


@pytest.fixture
def project(tmp_path: Path) -> DbtProject:
    """The six-file corpus in a landing folder of this test's own, a project copy with one golden
    question, and a warehouse path of its own; nothing is built yet."""
    landing = tmp_path / "landing"
    landing.mkdir()
    write_corpus(landing)
    project_dir = copy_project(tmp_path / "project")
    (project_dir / "seeds" / "golden_questions.csv").write_text(GOLDEN)
    # access_mode enforce reads only what a rule covers: the scenario's files are all public
    rules = "priority,path_glob,access_groups,description\n1,*,public,every file of the scenario\n"
    (project_dir / "seeds" / "access_rules.csv").write_text(rules)
    return DbtProject(tmp_path, landing, project_dir=project_dir)


def test_each_change_embeds_exactly_the_new_texts(project: DbtProject) -> None:
    landing = project.source_path

    # Initial build: every distinct chunk text is embedded once, shared texts only once.
    output = build(project, tests=True)
    before = texts(project)
    assert last_run(project) == (len(before), 0)
    assert project.query("select count(*) from embeddings")[0][0] == len(before)
    assert "retrieval_runs: ranking 1 questions" in output
    assert project.query("select count(*) from retrieval_runs")[0][0] > 0
    assert texts_split(project) == 6 * 2 and cache_is_exact(project)

    # No change: nothing embedded, every public table identical, the rankings reused unranked.
    state = snapshot(project)
    output = build(project)
    assert last_run(project) == (0, len(before))
    assert snapshot(project) == state
    assert "retrieval_runs: inputs unchanged" in output
    assert "retrieval_runs: ranking" not in output
    assert texts_split(project) == 0

    # Add a file: only its chunks are embedded; the questions are ranked again over the new corpus.
    shutil.copy(landing / "kale.md", landing / "spinach.md")
    (landing / "spinach.md").write_text((landing / "kale.md").read_text().replace("kale", "spinach"))
    output = build(project)
    assert "retrieval_runs: ranking 1 questions" in output
    assert texts_split(project) == 2  # the new document, once per strategy
    after = texts(project)
    assert last_run(project)[0] == len(after - before) > 0
    before = after

    # Edit one paragraph: only chunk texts that changed are embedded, far fewer than the file's.
    path = landing / "trout.md"
    path.write_text(path.read_text().replace("Paragraph 12 about trout", "Paragraph 12, revised, about trout"))
    build(project)
    after = texts(project)
    embedded = last_run(project)[0]
    trout_chunks = project.query("select count(*) from chunks where source_path = 'trout.md'")[0][0]
    assert embedded == len(after - before)
    assert 0 < embedded < trout_chunks
    assert texts_split(project) == 2 and cache_is_exact(project)  # only the edited document
    before = after

    # Rename a file with unchanged content: nothing embedded; the document moves to its new path.
    (landing / "perch.md").rename(landing / "yellow_perch.md")
    build(project)
    assert last_run(project)[0] == 0
    paths = {r[0] for r in project.query("select source_path from documents")}
    assert "yellow_perch.md" in paths and "perch.md" not in paths
    assert texts_split(project) == 0  # same text: its cached chunks are reused

    # Delete a file: gone from documents, chunks and search_index; its vectors are pruned.
    (landing / "basil.md").unlink()
    build(project)
    assert last_run(project)[0] == 0
    for table in ("documents", "chunks", "search_index"):
        assert project.query(f"select count(*) from {table} where source_path = 'basil.md'")[0][0] == 0
    assert (
        project.query("select count(*) from embeddings where text_sha256 not in (select text_sha256 from chunks)")[0][0]
        == 0
    )
    assert texts_split(project) == 0 and cache_is_exact(project)  # the deleted text's splits are pruned
    before = texts(project)

    # Change a chunking parameter: only the texts that are new are embedded.
    seed = project.project_dir / "seeds" / "chunking_strategies.csv"
    seed.write_text(seed.read_text().replace("recursive_256,recursive,256,32", "recursive_256,recursive,128,16"))
    build(project)
    after = texts(project)
    assert last_run(project)[0] == len(after - before) > 0
    n_documents = project.query("select count(*) from documents")[0][0]
    assert texts_split(project) == n_documents and cache_is_exact(project)  # only that strategy re-split
    before = after

    # A second model id builds its vectors beside the first; switching back embeds nothing.
    build(project, "--vars", "{embedding_model_id: minilm-blue, embedding_cache_retention_days: 0}")
    counts = dict(project.query("select model_id, count(*) from embeddings group by 1"))
    blue = effective_model_id("minilm-blue", PROJECT_VARS["embedding_backend"])
    assert counts == {MODEL_ID: len(before), blue: len(before)}
    assert project.query("select distinct model_id from search_index") == [(blue,)]
    build(project)
    assert last_run(project)[0] == 0
    assert project.query("select distinct model_id from search_index") == [(MODEL_ID,)]

    # Switching the serving strategy is a var change with no embedding and no data loss.
    build(project, "--vars", "{serving_strategy: markdown_sections, embedding_cache_retention_days: 0}")
    assert last_run(project)[0] == 0
    assert project.query("select distinct strategy_id from search_index") == [("markdown_sections",)]

    # --full-refresh rebuilds everything; the run history survives it.
    runs_before = project.query("select count(*) from pipeline_runs")[0][0]
    build(project, "--full-refresh")
    assert project.query("select count(*) from pipeline_runs")[0][0] == runs_before + 1
    assert last_run(project)[0] == len(texts(project))


def test_killed_build_leaves_previous_tables_intact(project: DbtProject) -> None:
    """kill -9 during embedding: the old vectors survive; the next build completes cleanly."""
    landing = project.source_path
    build(project)
    good = snapshot(project)
    # Enough new text that embedding lasts many seconds, so the kill lands in the middle of it.
    for n in range(400):
        (landing / f"extra_{n}.txt").write_text(
            "\n\n".join(
                f"Extra note {n}.{p}: pump {n * 7 + p} was serviced on day {n * 3 + p}, its impeller "
                f"{n * 11 + p} replaced and its flow logged at {n * 13 + p} litres per minute in bay {p}."
                for p in range(12)
            )
        )
    command = project.command("build")
    log = project.workdir / "killed.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=project.project_dir, env=project.env(), stdout=out, stderr=out, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while "texts to embed" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1.0)
        assert process.poll() is None, "the build finished before it could be killed: " + log.read_text()[-2000:]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert "texts to embed with" in log.read_text()

    after_kill = snapshot(project)
    assert after_kill["embeddings"] == good["embeddings"], "no half-written vectors"
    assert after_kill["search_index"] == good["search_index"], "the serving table is the previous one"

    project.dbt("build")
    duplicates, missing = project.query(
        """
        select (select count(*) - count(distinct (text_sha256, model_id)) from embeddings),
               (select count(*) from chunks c where strategy_id = 'recursive_256'
                  and not exists (select 1 from search_index s where s.chunk_id = c.chunk_id))
        """
    )[0]
    assert duplicates == 0 and missing == 0


def test_second_process_gets_a_clear_lock_message(project: DbtProject) -> None:
    """While a build holds the warehouse, `docvec search` explains the lock instead of a traceback.

    The lock is taken when the file is opened, before any table is read: the warehouse need not be built.
    """
    holder = duckdb.connect(str(project.db_path))  # a writer, like a running `dbt build`
    try:
        result = subprocess.run(
            [str(Path(DBT).with_name("docvec")), "search", "tilapia", "--db", str(project.db_path)],
            capture_output=True,
            text=True,
            env=project.env(),
            timeout=120,
        )
    finally:
        holder.close()
    assert result.returncode == 2
    assert "locked by another process" in result.stderr and "Traceback" not in result.stderr
