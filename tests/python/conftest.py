"""Shared fixtures (running the real dbt project into a temporary DuckDB file) and the test tiers.

Every test gets exactly one tier marker (registered in pyproject.toml): an explicit marker on the
test, its class or its module wins; else `browser` or `lint` for the modules of MODULE_TIERS;
else `integration` when the test needs, directly or through another fixture, a fixture that runs
dbt (DBT_FIXTURES); else `unit`. `make test-fast` runs `-m unit`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import yaml

from python_udfs.embedding.backends import effective_model_id

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DOCS = PROJECT_ROOT / "sample_docs"
SHARED = PROJECT_ROOT.parent / "shared"
DBT = str(Path(sys.executable).with_name("dbt"))
# Data shipped with the tests (tests/data/): never read from ../shared, which a fresh clone lacks.
TEST_DATA = PROJECT_ROOT / "tests" / "data"
# The Big List of Naughty Strings (MIT, see tests/data/naughty-strings/LICENSE): a JSON list of strings.
NAUGHTY_STRINGS = TEST_DATA / "naughty-strings" / "blns.json"
PROJECT_VARS = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
# The model id a default build stores its vectors under (the backend's id: `effective_model_id`).
SERVING_MODEL_ID = effective_model_id(PROJECT_VARS["embedding_model_id"], PROJECT_VARS["embedding_backend"])

TIERS = ("unit", "integration", "browser", "lint")
# Fixtures that run the real dbt project; a test whose fixture closure holds one is `integration`.
DBT_FIXTURES = frozenset({"make_project", "sample_build", "parsed_manifest"})
# Modules whose tests all have one tier (unless a test says otherwise).
MODULE_TIERS = {"test_docs_site.py": "browser", "test_lint.py": "lint"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class DbtProject:
    """The docvec project run by the real `dbt` command against its own DuckDB file and folders."""

    def __init__(self, workdir: Path, source_path: Path, project_dir: Path = PROJECT_ROOT):
        self.workdir = workdir
        self.source_path = source_path
        self.project_dir = project_dir
        self.db_path = workdir / "docvec.duckdb"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DOCVEC_DB_PATH=str(self.db_path),
            DOCVEC_SOURCE_PATH=str(self.source_path),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            HF_HUB_OFFLINE="1",
        )
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        """The `dbt` command line for `args` on this project, its target and log folders."""
        return [
            DBT,
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.workdir / "target"),
            "--log-path",
            str(self.workdir / "logs"),
        ]

    def dbt(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
        """Run `dbt args` to the end; with `check`, a failure fails the test with dbt's output."""
        result = subprocess.run(
            self.command(*args), cwd=self.project_dir, env=self.env(**env), capture_output=True, text=True, timeout=1200
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dbt {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def copy_build(self, workdir: Path) -> DbtProject:
        """A DbtProject over a copy of this one's warehouse (same sources and project), in `workdir`.

        A test that writes (a rebuild, `dbt test` storing failures, corrupting rows) works on a copy,
        so that a shared build such as `sample_build` stays as it was built whatever the test order.
        """
        workdir.mkdir(parents=True, exist_ok=True)
        copy = DbtProject(workdir, self.source_path, project_dir=self.project_dir)
        shutil.copy(self.db_path, copy.db_path)
        return copy

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.db_path), read_only=True)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params or []).fetchall()


PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/generic")


def copy_project(destination: Path) -> Path:
    """A copy of the dbt project (not the data) whose seeds and settings a test may edit."""
    for name in PROJECT_FILES:
        source = PROJECT_ROOT / name
        target = destination / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    for sql in (PROJECT_ROOT / "tests").glob("*.sql"):
        shutil.copy(sql, destination / "tests" / sql.name)
    return destination


@pytest.fixture(scope="session")
def make_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., DbtProject]:
    """Factory: a DbtProject over a copy of `source` (default: the bundled sample_docs)."""

    def make(name: str, source: Path | None = None, copy: bool = True) -> DbtProject:
        workdir = tmp_path_factory.mktemp(name)
        source = source or SAMPLE_DOCS
        if copy:
            landing = workdir / "landing"
            shutil.copytree(source, landing, symlinks=True)
        else:
            landing = source
        return DbtProject(workdir, landing)

    return make


@pytest.fixture(scope="session")
def sample_build(make_project: Callable[..., DbtProject]) -> DbtProject:
    """The bundled sample corpus built once by `dbt build` into a temporary DuckDB file."""
    project = make_project("sample")
    project.build_result = project.dbt("build")
    return project


@pytest.fixture(scope="session")
def parsed_manifest(make_project: Callable[..., DbtProject]) -> tuple[DbtProject, Path]:
    """`dbt parse` of the project (no database work) into a temporary target: the project and its manifest.json."""
    project = make_project("parsed", copy=False)
    project.dbt("parse")
    return project, project.workdir / "target" / "manifest.json"


def naughty_strings() -> list[str]:
    """The Big List of Naughty Strings shipped in tests/data (515 strings)."""
    return json.loads(NAUGHTY_STRINGS.read_text(encoding="utf-8"))


def tier_of(item: pytest.Item) -> str:
    """The one tier of a collected test (see the module docstring for the rules)."""
    explicit = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
    if len(explicit) > 1:
        raise pytest.UsageError(f"{item.nodeid} has more than one tier marker: {sorted(explicit)}")
    if explicit:
        return explicit.pop()
    module_tier = MODULE_TIERS.get(item.path.name)
    if module_tier is not None:
        return module_tier
    if DBT_FIXTURES.intersection(getattr(item, "fixturenames", ())):
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every test without an explicit tier marker the tier `tier_of` finds for it."""
    for item in items:
        tier = tier_of(item)
        if item.get_closest_marker(tier) is None:
            item.add_marker(getattr(pytest.mark, tier))
