"""`docvec plan`: what a switch of serving strategy, model or backend would embed, read from the
real sample build (read-only), with every expected figure computed here by an independent query."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest

from docvec.cli import main
from python_udfs.embedding.api_requests import token_bound
from python_udfs.embedding.backends import effective_model_id

from conftest import PROJECT_VARS, SERVING_MODEL_ID, DbtProject, copy_project

SERVED = PROJECT_VARS["serving_strategy"]
BACKEND = PROJECT_VARS["embedding_backend"]
OTHER = "markdown_sections"


def plan_json(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> dict:
    """`docvec plan --db DB ARGS --json`, parsed; the command must succeed."""
    assert main(["plan", "--db", str(db), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def plan_error(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> str:
    """`docvec plan` that must fail with exit 2 and one line on stderr; that line."""
    assert main(["plan", "--db", str(db), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def unembedded_texts(project: DbtProject, strategy: str, model_id: str) -> tuple[int, int]:
    """Distinct text_sha256 of `strategy`'s chunks minus those with a vector under `model_id`, and
    their word pieces (written independently of docvec.planning: a set difference)."""
    texts, pieces = project.query(
        "with pending as (select text_sha256 from chunks where strategy_id = ? "
        "except select text_sha256 from embeddings where model_id = ?), "
        "pieces as (select text_sha256, min(n_tokens) as n from chunks where strategy_id = ? group by text_sha256) "
        "select count(*), coalesce(sum(n), 0) from pending join pieces using (text_sha256)",
        [strategy, model_id, strategy],
    )[0]
    return int(texts), int(pieces)


def measured_texts_per_second(project: DbtProject, model_id: str) -> float:
    texts, seconds = project.query(
        "select sum(texts_embedded), sum(embed_seconds) from pipeline_runs "
        "where model_id = ? and texts_embedded > 0 and embed_seconds > 0",
        [model_id],
    )[0]
    assert texts and seconds, "the sample build measured its embedding throughput"
    return texts / seconds


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_served_strategy_plans_nothing(sample_build: DbtProject, capsys: pytest.CaptureFixture[str]) -> None:
    before = file_digest(sample_build.db_path)
    plan = plan_json(capsys, sample_build.db_path, "--strategy", SERVED)
    assert plan["current"]["strategy"] == SERVED
    assert plan["current"]["model_id"] == SERVING_MODEL_ID
    assert plan["planned"] == {"strategy": SERVED, "model_id": SERVING_MODEL_ID, "backend": BACKEND}
    assert plan["to_embed"]["texts"] == 0
    assert plan["to_embed"]["word_pieces"] == 0
    assert plan["to_embed"]["estimated_seconds"] == 0
    assert plan["to_embed"]["token_bound"] is None  # a local backend: no API tokens
    assert file_digest(sample_build.db_path) == before  # read-only


def test_another_strategy_plans_its_texts_without_a_vector(
    sample_build: DbtProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A full build embeds the chunk texts of every strategy in `chunks`, not only the served one,
    # so on the sample build switching to markdown_sections embeds nothing: the independent count is 0.
    expected = unembedded_texts(sample_build, OTHER, SERVING_MODEL_ID)
    plan = plan_json(capsys, sample_build.db_path, "--strategy", OTHER)
    assert (plan["to_embed"]["texts"], plan["to_embed"]["word_pieces"]) == expected == (0, 0)
    distinct = sample_build.query("select count(distinct text_sha256) from chunks where strategy_id = ?", [OTHER])
    assert plan["strategy_texts"] == distinct[0][0] > 0

    # The state after `dbt build --select +chunks` of a new strategy: its chunks are built, its
    # texts are not embedded yet. On a copy, drop the vectors of the texts only markdown_sections has.
    copy = sample_build.copy_build(tmp_path / "copy")
    with duckdb.connect(str(copy.db_path)) as conn:
        conn.execute(
            "delete from embeddings where model_id = ? and text_sha256 in ("
            "select text_sha256 from chunks where strategy_id = ? "
            "except select text_sha256 from chunks where strategy_id = ?)",
            [SERVING_MODEL_ID, OTHER, SERVED],
        )
    texts, pieces = unembedded_texts(copy, OTHER, SERVING_MODEL_ID)
    assert texts > 0
    plan = plan_json(capsys, copy.db_path, "--strategy", OTHER)
    assert (plan["to_embed"]["texts"], plan["to_embed"]["word_pieces"]) == (texts, pieces)
    assert plan["build"]["texts"] == texts  # the served strategy's texts still have their vectors
    assert plan["to_embed"]["estimated_seconds"] == pytest.approx(
        texts / measured_texts_per_second(copy, SERVING_MODEL_ID)
    )
    assert plan["throughput"]["model_id"] == SERVING_MODEL_ID


def test_another_backend_plans_every_served_text(sample_build: DbtProject, capsys: pytest.CaptureFixture[str]) -> None:
    torch_id = effective_model_id(PROJECT_VARS["embedding_model_id"], "torch")
    assert torch_id != SERVING_MODEL_ID
    served = sample_build.query("select count(distinct text_sha256) from chunks where strategy_id = ?", [SERVED])[0][0]
    every = sample_build.query("select count(distinct text_sha256) from chunks")[0][0]
    plan = plan_json(capsys, sample_build.db_path, "--backend", "torch")
    assert plan["planned"] == {"strategy": SERVED, "model_id": torch_id, "backend": "torch"}
    assert plan["to_embed"]["texts"] == served > 0
    assert plan["build"]["texts"] == every
    # No build measured torch: no estimate, and the current model's figure only as a labelled reference.
    assert plan["throughput"] is None
    assert plan["to_embed"]["estimated_seconds"] is None
    assert plan["reference_throughput"]["texts_per_second"] == pytest.approx(
        measured_texts_per_second(sample_build, SERVING_MODEL_ID)
    )
    assert main(["plan", "--db", str(sample_build.db_path), "--backend", "torch"]) == 0
    report = capsys.readouterr().out
    assert f"no measurement for {torch_id}" in report
    assert "for reference only" in report


def test_an_api_backend_reports_the_token_bound(sample_build: DbtProject, capsys: pytest.CaptureFixture[str]) -> None:
    plan = plan_json(capsys, sample_build.db_path, "--backend", "openai", "--model", "text-embedding-3-small")
    assert plan["planned"]["model_id"] == "openai:text-embedding-3-small"
    texts = sample_build.query(
        "select min(chunk_text) from chunks where strategy_id = ? group by text_sha256", [SERVED]
    )
    assert plan["to_embed"]["texts"] == len(texts)
    assert plan["to_embed"]["token_bound"] == sum(token_bound(text) for (text,) in texts)


def test_errors_are_one_line_with_exit_2(
    sample_build: DbtProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = sample_build.db_path
    assert "strategy 'no_such' has no chunks" in plan_error(capsys, db, "--strategy", "no_such")
    assert "dbt build --select +chunks" in plan_error(capsys, db, "--strategy", "no_such")
    assert "unknown embedding backend 'gpu'" in plan_error(capsys, db, "--backend", "gpu")
    assert "nothing to plan" in plan_error(capsys, db)
    assert "no docvec warehouse at" in plan_error(capsys, tmp_path / "missing.duckdb", "--strategy", SERVED)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert "not a built docvec warehouse" in plan_error(capsys, empty, "--strategy", SERVED)


def test_a_new_strategy_is_planned_once_its_chunks_are_built(
    sample_build: DbtProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A new row of seeds/chunking_strategies.csv: refused until its chunks exist, then planned from
    # the real texts that `dbt build --select +chunks` made (which embeds nothing).
    project = copy_project(tmp_path / "project")
    seed = project / "seeds" / "chunking_strategies.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + 'recursive_128,recursive,128,16,20,"smaller chunks"\n')
    copy = sample_build.copy_build(tmp_path / "work")
    copy.project_dir = project
    assert "strategy 'recursive_128' has no chunks" in plan_error(capsys, copy.db_path, "--strategy", "recursive_128")
    copy.dbt("build", "--select", "+chunks")
    texts, pieces = unembedded_texts(copy, "recursive_128", SERVING_MODEL_ID)
    assert texts > 0
    plan = plan_json(capsys, copy.db_path, "--strategy", "recursive_128")
    assert (plan["to_embed"]["texts"], plan["to_embed"]["word_pieces"]) == (texts, pieces)
    assert plan["current"]["strategy"] == SERVED  # the chunks-only build served nothing new
