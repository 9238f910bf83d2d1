"""The dbt-duckdb plugin of the Load stage (profiles.yml, alias `docvec_publish`): registers the
functions through which the on-run-end hook macros/publish_serving_store.sql publishes.

It lives in the application room (`docvec`) because publishing is the application's work; dbt
loads it beside `python_udfs.plugin` (what the transformation runs), which never imports docvec.

    docvec_serving_path()                    the serving store of this warehouse (store.serving_path_for)
    docvec_publication_digest(serving_path)  the current publication's content digest (or NULL)
    docvec_publish_incoming(serving_path)    a fresh incoming file for the hook to copy into
    docvec_publish_records()                 every publish_runs record of the store (source serving.publish_log)
    docvec_publish(request_json)             publish (or record a hold-back); JSON {records, log lines}
"""

from __future__ import annotations

import json
import os
from typing import Any

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from docvec.publishing.publisher import PublishRequest, describe, publish
from docvec.publishing.store import ServingStore, serving_path_for


def publication_digest(serving_path: str | None) -> str | None:
    """The digest of the publication the serving link points to, or None."""
    current = ServingStore(str(serving_path)).current()
    return current.digest if current else None


def publish_incoming(serving_path: str | None) -> str:
    """An absolute path, inside the store, for the hook's copy of the candidate."""
    return os.path.abspath(ServingStore(str(serving_path)).new_incoming_path())


# The columns of a publish_runs record (publisher._Run.record), as the DuckDB type of the list
# docvec_publish_records returns.
RECORD_COLUMNS = (
    ("publish_id", "VARCHAR"),
    ("target", "VARCHAR"),
    ("target_type", "VARCHAR"),
    ("status", "VARCHAR"),
    ("version", "INTEGER"),
    ("invocation_id", "VARCHAR"),
    ("command", "VARCHAR"),
    ("started_at", "VARCHAR"),
    ("finished_at", "VARCHAR"),
    ("seconds", "DOUBLE"),
    ("rows", "BIGINT"),
    ("inserted", "BIGINT"),
    ("updated", "BIGINT"),
    ("deleted", "BIGINT"),
    ("missing", "BIGINT"),
    ("extra", "BIGINT"),
    ("mismatched", "BIGINT"),
    ("newest_landing_at", "VARCHAR"),
    ("lag_seconds", "DOUBLE"),
    ("held_back_by", "VARCHAR[]"),
    ("message", "VARCHAR"),
    ("digest", "VARCHAR"),
)
RECORDS_TYPE = "STRUCT(" + ", ".join(f'"{name}" {kind}' for name, kind in RECORD_COLUMNS) + ")[]"


def publish_udf(request_json: str | None) -> str:
    """Run `publisher.publish` for the hook's request: JSON {records, lines}, the lines being
    what the build log shows (publisher.describe, as `docvec publish --rollback` prints)."""
    request = PublishRequest.from_json(json.loads(request_json or "{}"))
    records = publish(request)
    return json.dumps({"records": records, "lines": describe(records)}, default=str)


def publish_records(serving_path: str) -> list[dict[str, Any]]:
    """Every publish_runs record of the store, oldest first, with every RECORD_COLUMNS key."""
    return [{name: record.get(name) for name, _ in RECORD_COLUMNS} for record in ServingStore(serving_path).read_log()]


class Plugin(BasePlugin):
    """Registers the publishing functions on every connection dbt opens; knows the warehouse
    path, so that the serving store's path has one definition (store.serving_path_for)."""

    warehouse_path: str | None = None

    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        self.warehouse_path = str(creds.path)

    def serving_path(self) -> str:
        return serving_path_for(self.warehouse_path)

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        effects: dict[str, Any] = {"null_handling": "special", "side_effects": True}
        conn.create_function("docvec_serving_path", self.serving_path, [], "VARCHAR", **effects)
        conn.create_function("docvec_publication_digest", publication_digest, ["VARCHAR"], "VARCHAR", **effects)
        conn.create_function("docvec_publish_incoming", publish_incoming, ["VARCHAR"], "VARCHAR", **effects)
        conn.create_function(
            "docvec_publish_records", lambda: publish_records(self.serving_path()), [], RECORDS_TYPE, **effects
        )
        conn.create_function("docvec_publish", publish_udf, ["VARCHAR"], "VARCHAR", **effects)
