"""End to end: `dbt build` on the bundled sample corpus, then the tables are checked row by row.

The build is the session's shared `sample_build`, which these tests only read: a test that runs dbt
again (a rebuild, `dbt docs generate`) does it on a copy of the warehouse (`DbtProject.copy_build`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from python_udfs.tokens import load_tokenizer

from conftest import SERVING_MODEL_ID, DbtProject

EXPECTED_QUARANTINE = {
    "quarantine/empty.md": "empty_text",
    "quarantine/binary_blob.md": "binary_content",
    "quarantine/corrupt_manual.pdf": "parse_error",
    "quarantine/spreadsheet.xlsx": "parse_error",  # not a ZIP package: a corrupt workbook
}


def landing_files(root: Path) -> set[str]:
    return {str(Path(dirpath, name).relative_to(root)) for dirpath, _, names in os.walk(root) for name in names}


def test_build_reports_success(sample_build: DbtProject) -> None:
    out = sample_build.build_result.stdout
    assert "ERROR=0" in out
    # The only warning of the sample build is the quarantine notice for its four bad files.
    assert "WARN=1" in out and "warn_quarantined_documents" in out
    assert "embeddings:" in out and "texts/s" in out, "embedding progress is logged"


def test_every_file_is_accounted_for_exactly_once(sample_build: DbtProject) -> None:
    files = landing_files(sample_build.source_path)
    # Staging is a view over the landing folder (its UDFs exist only inside dbt): every staged file
    # has at least one row in int_documents_redacted, the first stored table.
    staged = {row[0] for row in sample_build.query("select source_path from int_documents_redacted")}
    assert staged == files

    outcomes = sample_build.query(
        """
        select source_path, 'document' as outcome from documents
        union all select source_path, 'duplicate' from document_duplicates
        union all select source_path, 'quarantined' from quarantined_documents
        """
    )
    by_file: dict[str, set[str]] = {}
    for path, outcome in outcomes:
        by_file.setdefault(path, set()).add(outcome)
    assert set(by_file) == files, "every landing file ends in documents, duplicates or quarantine"
    assert all(len(kinds) == 1 for kinds in by_file.values()), {p: k for p, k in by_file.items() if len(k) > 1}

    n_documents, n_duplicates, n_quarantined, n_parsed = sample_build.query(
        """
        select (select count(*) from documents), (select count(*) from document_duplicates),
               (select count(*) from quarantined_documents), (select count(*) from int_documents_redacted)
        """
    )[0]
    assert n_documents + n_duplicates + n_quarantined == n_parsed


def test_bad_files_are_quarantined_with_their_reason(sample_build: DbtProject) -> None:
    rows = sample_build.query("select source_path, reason, detail from quarantined_documents")
    assert {path: reason for path, reason, _ in rows} == EXPECTED_QUARANTINE
    assert all(detail for _, _, detail in rows), "every quarantine row says why"


def test_exact_duplicate_points_at_its_canonical_document(sample_build: DbtProject) -> None:
    rows = sample_build.query(
        """
        select d.source_path, c.source_path, d.text_sha256 = c.text_sha256
        from document_duplicates d join documents c on c.document_id = d.canonical_document_id
        """
    )
    assert rows == [("handbook/welcome.md", "handbook/archive/welcome.md", True)]


def test_parsers_extract_what_they_should(sample_build: DbtProject) -> None:
    docs = {
        (path, key): (file_type, title, text, json.loads(meta) if meta else None, groups)
        for path, key, file_type, title, text, meta, groups in sample_build.query(
            "select source_path, record_key, file_type, title, text, metadata, access_groups from documents"
        )
    }
    # HTML: visible text only.
    for path in ("web/index.html", "web/visit.html"):
        file_type, title, text, _, _ = docs[(path, None)]
        assert file_type == "html" and title
        assert "trackVisitorPixel" not in text and "sidebar-gradient" not in text
    # PDF: several pages, page starts kept in metadata.
    file_type, _, text, meta, _ = docs[("manuals/water_quality_manual.pdf", None)]
    assert file_type == "pdf" and meta["n_pages"] >= 4
    assert meta["page_starts"][0] == 0 and meta["page_starts"] == sorted(meta["page_starts"])
    assert "pH 4.01" in text
    for start in meta["page_starts"][1:]:
        assert text[start - 2 : start] == "\n\n" and not text[start].isspace(), "page starts are exact offsets"
    # Markdown: front matter becomes metadata and access groups; the title of a file without
    # front matter comes from its first heading.
    _, title, text, meta, groups = docs[("hr/compensation_bands.md", None)]
    assert groups == ["hr"] and meta["access_groups"] == ["hr"]
    assert not text.startswith("---")
    _, title, _, _, _ = docs[("handbook/governance_and_roles.md", None)]
    assert title
    # JSON and JSONL: one document per record, keyed by the id field.
    faq = [key for (path, key) in docs if path == "records/faq.json"]
    alerts = [key for (path, key) in docs if path == "records/sensor_alerts.jsonl"]
    assert len(faq) >= 6 and len(alerts) >= 6 and None not in faq + alerts
    # Office files and CSV: Markdown headings and tables, properties in metadata.
    file_type, title, text, meta, groups = docs[("manuals/packing_room_procedures.docx", None)]
    assert file_type == "docx" and title == "Packing Room Procedures" and groups == ["public"]
    assert "\n# Before the van arrives\n" in text and "\n- Crates washed and stacked by farm" in text
    assert meta["author"] == "Marguerite Obi"
    file_type, title, text, meta, _ = docs[("notes/harvest_briefing_2024.pptx", None)]
    assert file_type == "pptx" and meta["n_slides"] == 3 == len(meta["slide_starts"])
    assert all(text[start:].startswith("# ") for start in meta["slide_starts"])
    assert "| Farm | Greens harvest | Main crops |" in text
    sheets = {key: docs[(path, key)] for (path, key) in docs if path == "records/harvest_log_2024.xlsx"}
    assert set(sheets) == {"Harvest log", "Tanks"} and all(d[0] == "xlsx" for d in sheets.values())
    assert "| Date | Farm | Crop | Weight (kg) | Share of target |" in sheets["Harvest log"][2]
    file_type, _, text, meta, _ = docs[("records/water_tests_2024-03.csv", None)]
    assert file_type == "csv" and meta["delimiter"] == ";" and text.startswith("| date | farm | tank |")


def test_chunk_offsets_round_trip(sample_build: DbtProject) -> None:
    bad = sample_build.query(
        """
        select c.chunk_id from chunks c join documents d using (document_id)
        where substring(d.text, c.start_char + 1, c.end_char - c.start_char) <> c.chunk_text
           or c.start_char < 0 or c.end_char > length(d.text) or c.start_char >= c.end_char
        """
    )
    assert bad == []
    assert sample_build.query("select count(*) from chunks")[0][0] > 100


def test_chunks_never_exceed_the_model_token_limit(sample_build: DbtProject) -> None:
    tokenizer = load_tokenizer()
    rows = sample_build.query("select chunk_text, n_tokens from chunks")
    recounted = tokenizer.count_batch([text for text, _ in rows])
    assert recounted == [n for _, n in rows], "stored n_tokens is the tokenizer's count"
    assert max(recounted) <= tokenizer.max_seq_length == 256


def test_both_strategies_are_built_side_by_side(sample_build: DbtProject) -> None:
    rows = dict(sample_build.query("select strategy_id, count(*) from chunks group by 1"))
    assert set(rows) == {"recursive_256", "markdown_sections"}
    sections = sample_build.query(
        "select count(*) from chunks where strategy_id = 'markdown_sections' and section like '% > %'"
    )[0][0]
    assert sections > 0, "markdown section chunks carry their heading path"
    # HTML and the office formats are written as Markdown: they get sections too.
    with_sections = dict(
        sample_build.query(
            "select d.file_type, count(c.section) from chunks c join documents d using (document_id) "
            "where c.strategy_id = 'markdown_sections' group by 1"
        )
    )
    assert all(with_sections[t] > 0 for t in ("markdown", "html", "docx", "pptx", "xlsx")), with_sections


def test_vectors_are_unit_norm_with_the_model_dimension(sample_build: DbtProject) -> None:
    rows = sample_build.query("select embedding, dimension, model_id from embeddings")
    assert rows
    for vector, dimension, model_id in rows:
        assert model_id == SERVING_MODEL_ID
        assert dimension == len(vector) == 384
        assert all(math.isfinite(x) for x in vector)
        assert abs(math.sqrt(sum(x * x for x in vector)) - 1.0) < 1e-3
    chunk_texts = sample_build.query("select count(distinct text_sha256) from chunks")[0][0]
    assert len(rows) == chunk_texts, "one vector per distinct chunk text"


def test_every_serving_chunk_has_a_vector(sample_build: DbtProject) -> None:
    serving, indexed, missing = sample_build.query(
        """
        select (select count(*) from chunks where strategy_id = 'recursive_256'),
               (select count(*) from search_index),
               (select count(*) from search_index where embedding is null)
        """
    )[0]
    assert serving == indexed > 0 and missing == 0


def test_pipeline_runs_records_the_build(sample_build: DbtProject) -> None:
    rows = sample_build.query(
        "select files_seen, documents, quarantined, duplicates, chunks, texts_embedded, "
        "embeddings_reused, embed_seconds from pipeline_runs"
    )
    assert len(rows) == 1
    files_seen, documents, quarantined, duplicates, chunks, embedded, reused, embed_seconds = rows[0]
    assert files_seen == len(landing_files(sample_build.source_path))
    assert quarantined == len(EXPECTED_QUARANTINE) and duplicates == 1
    assert embedded == sample_build.query("select count(*) from embeddings")[0][0] and reused == 0
    assert embed_seconds is not None and embed_seconds > 0


def test_docs_generate(sample_build: DbtProject, tmp_path: Path) -> None:
    project = sample_build.copy_build(tmp_path / "docs")
    project.dbt("docs", "generate")
    catalog = json.loads((project.workdir / "target" / "catalog.json").read_text())
    assert "model.docvec.search_index" in catalog["nodes"]


def test_rebuild_without_change_embeds_nothing(sample_build: DbtProject, tmp_path: Path) -> None:
    """A second `dbt build` over the same files, on a copy of the sample warehouse, embeds nothing."""
    rebuilt = sample_build.copy_build(tmp_path / "rebuild")
    before = rebuilt.query("select chunk_id, text_sha256 from search_index order by 1")
    rebuilt.dbt("build")
    runs = rebuilt.query("select texts_embedded, embeddings_reused from pipeline_runs order by started_at")
    assert len(runs) == 2 and runs[-1][0] == 0 and runs[-1][1] > 0
    assert rebuilt.query("select chunk_id, text_sha256 from search_index order by 1") == before
    assert len(sample_build.query("select * from pipeline_runs")) == 1, "the shared build is untouched"


def test_personal_data_is_redacted_before_chunking(sample_build: DbtProject) -> None:
    raw = (sample_build.source_path / "notes" / "supplier_contacts.txt").read_text()
    planted = [
        "orders@larchmere-hatchery.example",
        "+44 20 7946 0958",
        "(555) 201-4477",
        "GB82 WEST 1234 5698 7654 32",
        "81.2.69.142",
    ]
    assert all(value in raw for value in planted)
    text, counts = sample_build.query(
        "select text, pii_counts::varchar from documents where source_path = 'notes/supplier_contacts.txt'"
    )[0]
    assert json.loads(counts) == {"EMAIL": 1, "PHONE": 2, "IBAN": 1, "IP_ADDRESS": 1}
    for value in planted:
        assert value not in text
        for table, column in (("chunks", "chunk_text"), ("search_index", "chunk_text"), ("documents", "text")):
            hits = sample_build.query(f"select count(*) from {table} where contains({column}, ?)", [value])[0][0]
            assert hits == 0, f"{value!r} reached {table}"
    spans = sample_build.query(
        "select entity_type, start_char, end_char from pii_findings "
        "where source_path = 'notes/supplier_contacts.txt' order by start_char"
    )
    assert [text[start:end] for _, start, end in spans] == [f"[{kind}]" for kind, _, _ in spans]
    assert sample_build.query("select pii_findings from pipeline_runs order by started_at limit 1")[0][0] == 5
