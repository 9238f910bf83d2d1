"""pii_mode flag and off, end to end: what a real `dbt build` stores in documents, pii_findings and chunks.

A small landing folder of its own (four markdown files, one with an e-mail address, a phone number
and an IP address) is built once per mode. The default mode, redact, is covered by
test_sample_build.py. In flag and off mode the chunks keep the values, so the `no_pii_detected`
tests on chunks and search_index are enabled only in redact mode (models/marts/_marts__models.yml):
a build that ran them here would fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DbtProject

pytestmark = pytest.mark.integration

CONTACTS = "contacts.md"
VALUES = {"EMAIL": "lena.okafor@example.org", "PHONE": "+44 20 7946 0958", "IP_ADDRESS": "81.2.69.142"}
FILES = {
    CONTACTS: (
        "# Supplier contacts\n\n"
        f"Write to {VALUES['EMAIL']} or call {VALUES['PHONE']} on weekdays before noon.\n\n"
        f"The feeding controller listens on {VALUES['IP_ADDRESS']} behind the hatchery firewall.\n"
    ),
    "feeding.md": "# Feeding\n\nTrout fry are fed six times a day with a fine starter crumble.\n",
    "water.md": "# Water quality\n\nDissolved oxygen is read at dawn and dusk and written in the logbook.\n",
    "harvest.md": "# Harvest\n\nFish are graded by weight before harvest and the tanks are cleaned.\n",
}


def write_landing(root: Path) -> Path:
    """The landing folder: FILES written under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_landing(tmp_path_factory.mktemp("pii_modes_landing"))


def build(make_project: Callable[..., DbtProject], landing: Path, mode: str) -> DbtProject:
    """A project over a copy of `landing`, built once with ``pii_mode: <mode>`` (fails on any failed test)."""
    project = make_project(f"pii_{mode}", source=landing)
    project.dbt("build", "--vars", f'{{pii_mode: "{mode}"}}')  # quoted: YAML reads a bare off as false
    return project


@pytest.fixture(scope="module")
def flag_build(make_project: Callable[..., DbtProject], landing: Path) -> DbtProject:
    return build(make_project, landing, "flag")


@pytest.fixture(scope="module")
def off_build(make_project: Callable[..., DbtProject], landing: Path) -> DbtProject:
    return build(make_project, landing, "off")


def assert_text_unchanged(project: DbtProject) -> None:
    """documents.text is the cleaned text (its hash is the pre-redaction text_sha256) and holds the values."""
    rows = project.query("select source_path, text, sha256(text) = text_sha256 from documents order by source_path")
    assert [path for path, _, _ in rows] == sorted(FILES)
    assert all(same for _, _, same in rows), rows
    text = {path: text for path, text, _ in rows}[CONTACTS]
    assert all(value in text for value in VALUES.values())


def assert_chunks_keep_the_values(project: DbtProject) -> None:
    for value in VALUES.values():
        hits = project.query("select count(*) from chunks where contains(chunk_text, ?)", [value])[0][0]
        assert hits > 0, f"{value!r} is missing from chunks"


def test_flag_keeps_the_text(flag_build: DbtProject) -> None:
    assert_text_unchanged(flag_build)
    assert_chunks_keep_the_values(flag_build)


def test_flag_findings_point_at_the_values_in_documents_text(flag_build: DbtProject) -> None:
    rows = flag_build.query(
        """
        select f.entity_type, f.pii_mode, substring(d.text, f.start_char + 1, f.end_char - f.start_char)
        from pii_findings as f
        inner join documents as d using (document_id)
        order by f.start_char
        """
    )
    assert rows == [(entity_type, "flag", value) for entity_type, value in VALUES.items()]
    (path,) = {row[0] for row in flag_build.query("select source_path from pii_findings")}
    assert path == CONTACTS
    counts = flag_build.query("select source_path, n_pii_findings from documents order by source_path")
    assert dict(counts) == {name: 3 if name == CONTACTS else 0 for name in FILES}


def test_off_stores_no_findings_and_keeps_the_text(off_build: DbtProject) -> None:
    assert off_build.query("select count(*) from pii_findings") == [(0,)]
    assert off_build.query("select sum(n_pii_findings)::integer from documents") == [(0,)]
    assert off_build.query("select pii_findings, pii_mode from pipeline_runs") == [(0, "off")]
    assert_text_unchanged(off_build)
    assert_chunks_keep_the_values(off_build)
