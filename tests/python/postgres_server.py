"""A throwaway PostgreSQL 16 + pgvector server for the tests (pgserver's bundled binaries).

`postgres_dsn` (session scope) starts one server in a temporary folder, listening on a Unix
socket only (no TCP), and yields its libpq URI (superuser `postgres`, database `postgres`,
trust authentication); at the end of the session it stops the server and removes the folder.
Tests that need it: `pytest_plugins = ("postgres_server",)` (or the same line in conftest.py).
The tests skip, saying why, only when pgserver is not installed.
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT_S = 60.0  # initdb + start on a loaded 2-core machine takes a few seconds
STOP_TIMEOUT_S = 15.0


def _import_pgserver() -> Any:
    """pgserver, or a skip saying that it is missing (platformdirs warns when XDG_RUNTIME_DIR is unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("pgserver", reason="pgserver (bundled PostgreSQL + pgvector) is not installed")


def _log_tail(data: Path, lines: int = 30) -> str:
    log = data / "log"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no server log)"


def _start(pgserver: Any, data: Path) -> Any:
    """The running server for `data`, or a test failure when it does not start in START_TIMEOUT_S."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(pgserver.get_server, data, cleanup_mode="delete")
    try:
        return future.result(timeout=START_TIMEOUT_S)
    except FutureTimeout:
        pytest.fail(f"PostgreSQL did not start within {START_TIMEOUT_S:.0f} s:\n{_log_tail(data)}")
    except Exception as error:  # noqa: BLE001 - any start failure fails the tests with the server's log
        pytest.fail(f"PostgreSQL did not start ({type(error).__name__}: {error}):\n{_log_tail(data)}")
    finally:
        pool.shutdown(wait=False)


def _stop(server: Any) -> None:
    """Stop the server (pg_ctl stop) and make sure its postmaster is gone (killed after STOP_TIMEOUT_S)."""
    import psutil  # a dependency of pgserver

    pid = server.get_pid()
    server.cleanup()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while pid is not None and psutil.pid_exists(pid):
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
            if time.monotonic() > deadline:
                psutil.Process(pid).kill()
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.1)


@pytest.fixture(scope="session")
def postgres_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The libpq URI of a PostgreSQL server with pgvector, started for this test session."""
    pgserver = _import_pgserver()
    folder = tmp_path_factory.mktemp("pg")
    server = _start(pgserver, folder / "data")
    try:
        yield server.get_uri()
    finally:
        _stop(server)
        shutil.rmtree(folder, ignore_errors=True)
