"""Publish the audited candidate: the embedded serving store first, then each external target,
each checked for parity; every outcome is a publish_runs record (one per target).

Called by the dbt on-run-end hook (macros/publish_serving_store.sql, through the UDF that
docvec.publishing.dbt_plugin registers) once the hook has decided whether the candidate passed
its audit and, when it did, copied `search_index` into an incoming file of the store; and by
`docvec publish --rollback`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from docvec.publishing import failpoints
from docvec.publishing.parity import Parity, compare, diff_counts
from docvec.publishing.rows import table_checksums
from docvec.publishing.store import (
    DEFAULT_KEEP,
    IndexSettings,
    Publication,
    PublishError,
    ServingStore,
    connect_publication,
    recompute_digest,
)
from docvec.publishing.targets import EMBEDDED_TARGET, PublicationStamp, SyncCounts, TargetError, make_target


@dataclass(frozen=True)
class PublishRequest:
    """What the dbt hook (or the CLI) asks for; see macros/publish_serving_store.sql."""

    serving_path: str
    invocation_id: str = ""
    command: str = ""
    incoming_path: str | None = None  # the copied candidate; None = held back or unchanged
    candidate_digest: str | None = None
    candidate_rows: int | None = None
    held_back_by: tuple[str, ...] = ()
    hold_reason: str | None = None
    targets: tuple[Mapping[str, Any], ...] = ()
    keep: int = DEFAULT_KEEP
    index: IndexSettings = IndexSettings()
    newest_landing_at: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PublishRequest:
        index = data.get("index") or {}
        return cls(
            serving_path=str(data["serving_path"]),
            invocation_id=str(data.get("invocation_id") or ""),
            command=str(data.get("command") or ""),
            incoming_path=data.get("incoming_path") or None,
            candidate_digest=data.get("candidate_digest"),
            candidate_rows=data.get("candidate_rows"),
            held_back_by=tuple(data.get("held_back_by") or ()),
            hold_reason=data.get("hold_reason") or None,
            targets=tuple(data.get("targets") or ()),
            keep=int(data.get("keep") or DEFAULT_KEEP),
            index=IndexSettings(**index),
            newest_landing_at=data.get("newest_landing_at"),
            meta=dict(data.get("meta") or {}),
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _lag_seconds(published_at: datetime, newest_landing_at: str | None) -> float | None:
    if not newest_landing_at:
        return None
    landed = datetime.fromisoformat(str(newest_landing_at))
    if landed.tzinfo is None:
        landed = landed.replace(tzinfo=UTC)
    return round((published_at - landed).total_seconds(), 3)


class _Run:
    """The records of one publish (one per target), sharing its id, invocation and timing."""

    def __init__(self, request: PublishRequest) -> None:
        self.request = request
        self.publish_id = uuid.uuid4().hex
        self.started = _now()
        self.clock = time.monotonic()
        self.records: list[dict[str, Any]] = []

    def record(self, target: str, target_type: str, status: str, **values: Any) -> dict[str, Any]:
        finished = _now()
        record: dict[str, Any] = {
            "publish_id": self.publish_id,
            "target": target,
            "target_type": target_type,
            "status": status,
            "invocation_id": self.request.invocation_id or None,
            "command": self.request.command or None,
            "started_at": self.started.isoformat(),
            "finished_at": finished.isoformat(),
            "seconds": round(time.monotonic() - self.clock, 3),
            "newest_landing_at": self.request.newest_landing_at,
            "lag_seconds": _lag_seconds(finished, self.request.newest_landing_at) if status != "held_back" else None,
            "held_back_by": list(self.request.held_back_by),
            "version": None,
            "rows": None,
            "inserted": 0,
            "updated": 0,
            "deleted": 0,
            "missing": None,
            "extra": None,
            "mismatched": None,
            "message": None,
            "digest": None,
        }
        record.update(values)
        self.records.append(record)
        return record


def _parity_values(parity: Parity) -> dict[str, int]:
    return {
        "rows": parity.found_rows,
        "missing": len(parity.missing),
        "extra": len(parity.extra),
        "mismatched": len(parity.mismatched),
    }


def read_candidate(publication: Publication) -> pa.Table:
    """The rows of a publication (search_index, ordered by chunk_id) as an Arrow table."""
    conn = connect_publication(publication.path)
    try:
        return conn.execute("select * from search_index order by chunk_id").to_arrow_table()
    finally:
        conn.close()


def stamp_of(publication: Publication) -> PublicationStamp:
    return PublicationStamp(publication.publish_id, publication.version, publication.published_at)


def sync_target(
    run: _Run, config: Mapping[str, Any], candidate: pa.Table, checksums: Mapping[str, str], stamp: PublicationStamp
) -> dict[str, Any]:
    """Sync one external target to the publication and check its parity; a failure is a record, not a raise."""
    name, kind = str(config.get("name")), str(config.get("type"))
    try:
        target = make_target(config)
    except TargetError as error:
        return run.record(name, kind, "failed", version=stamp.version, message=str(error))
    repaired = 0
    try:
        counts = target.sync(candidate, checksums, stamp)
        failpoints.reach("publish.target_synced")
        parity = compare(checksums, target.stored_checksums())
        if not parity.ok:
            # rows changed behind the publisher's back (their row_checksum column still says
            # otherwise): sync again against checksums recomputed from the stored data
            target.recompute_checksums = True
            repair = target.sync(candidate, checksums, stamp)
            repaired = repair.written
            counts = SyncCounts(
                counts.inserted + repair.inserted, counts.updated + repair.updated, counts.deleted + repair.deleted
            )
            parity = compare(checksums, target.stored_checksums())
    except TargetError as error:
        return run.record(name, kind, "failed", version=stamp.version, message=str(error))
    finally:
        target.close()
    status = "published" if parity.ok else "drift"
    message = None if parity.ok else f"after the sync: {parity.summary()}"
    if repaired and parity.ok:
        message = f"repaired {repaired} rows that had drifted from the previous publication"
    return run.record(
        name,
        kind,
        status,
        version=stamp.version,
        inserted=counts.inserted,
        updated=counts.updated,
        deleted=counts.deleted,
        message=message,
        **_parity_values(parity),
    )


class _Rows:
    """A publication's rows and their checksums, read at most once per publish."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication
        self._table: pa.Table | None = None
        self._checksums: dict[str, str] | None = None

    @property
    def table(self) -> pa.Table:
        if self._table is None:
            self._table = read_candidate(self.publication)
        return self._table

    @property
    def checksums(self) -> dict[str, str]:
        if self._checksums is None:
            self._checksums = table_checksums(self.table)
        return self._checksums


def _sync_targets(run: _Run, rows: _Rows, targets: Sequence[Mapping[str, Any]]) -> None:
    for config in targets:
        sync_target(run, config, rows.table, rows.checksums, stamp_of(rows.publication))


def _record_swap(run: _Run, status: str, after: _Rows, counts: tuple[int, int, int], message: str | None) -> None:
    """The embedded store's record of a publish or rollback that swapped `after` in; `counts`
    = (inserted, updated, deleted) from the publication it replaced."""
    inserted, updated, deleted = counts
    run.record(
        EMBEDDED_TARGET,
        "duckdb",
        status,
        version=after.publication.version,
        rows=after.publication.row_count,
        inserted=inserted,
        updated=updated,
        deleted=deleted,
        missing=0,
        extra=0,
        mismatched=0,
        digest=after.publication.digest,
        message=message,
    )


def _held_back(store: ServingStore, request: PublishRequest) -> list[dict[str, Any]]:
    run = _Run(request)
    current = store.current()
    reason = request.hold_reason or (
        "held back by failing or missing tests: "
        + ", ".join(request.held_back_by[:10])
        + (f" and {len(request.held_back_by) - 10} more" if len(request.held_back_by) > 10 else "")
    )
    version = current.version if current else None
    run.record(EMBEDDED_TARGET, "duckdb", "held_back", version=version, message=reason)
    for config in request.targets:
        run.record(str(config.get("name")), str(config.get("type")), "held_back", version=version, message=reason)
    store.append_log(run.records)
    return run.records


def publish(request: PublishRequest) -> list[dict[str, Any]]:
    """Publish (or record the hold-back of) one candidate; the publish_runs records written.

    Raises PublishError after logging when the embedded store could not be published or a
    target failed or drifted (the dbt hook then fails the build)."""
    store = ServingStore(request.serving_path)
    with store.locked():
        if request.held_back_by or request.hold_reason:
            return _held_back(store, request)
        run = _Run(request)
        current = store.current()
        if request.incoming_path is None:
            if current is None or current.digest != request.candidate_digest:
                raise PublishError("nothing to publish: no incoming copy of the candidate was given")
            rows = _Rows(current)
            run.record(
                EMBEDDED_TARGET,
                "duckdb",
                "unchanged",
                version=current.version,
                rows=current.row_count,
                missing=0,
                extra=0,
                mismatched=0,
                digest=current.digest,
                message="the candidate equals the current publication",
            )
        else:
            failpoints.reach("publish.copied")
            version = store.next_version()
            published_at = _now().isoformat()
            meta = {**request.meta, "invocation_id": request.invocation_id, "targets": list(request.targets)}
            publication = store.finalize(
                request.incoming_path, version, run.publish_id, published_at, meta, request.index
            )
            if request.candidate_digest is not None and publication.digest != request.candidate_digest:
                raise PublishError(
                    f"publication v{version} does not equal the candidate it was copied from "
                    f"(digest {publication.digest} != {request.candidate_digest}): not published"
                )
            rows = _Rows(publication)
            counts = diff_counts(_Rows(current).checksums if current else {}, rows.checksums)
            store.activate(publication)
            failpoints.reach("publish.swapped")
            pruned = store.prune(request.keep)
            _record_swap(run, "published", rows, counts, f"pruned versions {pruned}" if pruned else None)
        _sync_targets(run, rows, request.targets)
        store.append_log(run.records)
    _raise_on_failure(run.records)
    return run.records


def rollback(serving_path: str, targets: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Serve the publication before the current one again, in the embedded store and in each
    target (the targets of that publication unless `targets` is given)."""
    store = ServingStore(serving_path)
    with store.locked():
        current = store.current()
        previous = store.previous()
        if current is None or previous is None:
            raise PublishError(
                f"nothing to roll back to in {serving_path!r}: "
                + ("nothing is published yet" if current is None else f"v{current.version} is the oldest kept")
            )
        request = PublishRequest(serving_path=serving_path, command="rollback")
        run = _Run(request)
        digest, _ = recompute_digest(previous.path)
        if digest != previous.digest:
            raise PublishError(
                f"v{previous.version} no longer holds what was published (its digest changed): not rolled back"
            )
        rows = _Rows(previous)
        counts = diff_counts(_Rows(current).checksums, rows.checksums)
        store.activate(previous)
        _record_swap(run, "rolled_back", rows, counts, f"v{current.version} -> v{previous.version}")
        chosen = list(targets) if targets is not None else list(previous.meta.get("targets") or [])
        _sync_targets(run, rows, chosen)
        store.append_log(run.records)
    _raise_on_failure(run.records)
    return run.records


def _raise_on_failure(records: Sequence[Mapping[str, Any]]) -> None:
    failed = [r for r in records if r["status"] in ("failed", "drift")]
    if failed:
        raise PublishError("; ".join(f"target {r['target']} {r['status']}: {r['message']}" for r in failed))


def describe(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """One log line per record, as the build log and `docvec publish` print them."""
    lines = []
    for r in records:
        counts = f"+{r['inserted']} ~{r['updated']} -{r['deleted']}"
        parity = (
            f", parity {r['missing']} missing / {r['extra']} extra / {r['mismatched']} mismatched"
            if r.get("missing") is not None
            else ""
        )
        version = f" v{r['version']}" if r.get("version") is not None else ""
        note = f" ({r['message']})" if r.get("message") else ""
        lines.append(
            f"docvec publish: {r['target']} {r['status']}{version}: {counts} rows{parity}, {r['seconds']} s{note}"
        )
    return lines
