"""`docvec verify`: check, at any time, that every store holds exactly the current publication.

The embedded store's current publication must open read-only with no write-ahead log beside it,
and its content digest, recomputed over every column of every row, must equal the digest the
publish recorded (in the file and in publish_runs). Each external target must hold the same
chunk ids with the same row checksums (recomputed from the target's own data) as the current
publication, and say that it holds that publication.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from docvec.publishing.parity import compare
from docvec.publishing.publisher import read_candidate
from docvec.publishing.rows import table_checksums
from docvec.publishing.store import Publication, ServingStore, recompute_digest
from docvec.publishing.targets import EMBEDDED_TARGET, TargetError, make_target


@dataclass(frozen=True)
class TargetCheck:
    """What `docvec verify` found for one store."""

    target: str
    ok: bool
    version: int | None
    rows: int | None
    missing: int
    extra: int
    mismatched: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _age_hours(published_at: str) -> float:
    published = datetime.fromisoformat(published_at)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return round((datetime.now(UTC) - published).total_seconds() / 3600, 2)


def logged_digest(store: ServingStore, version: int) -> str | None:
    """The digest publish_runs recorded when `version` was published, or None."""
    for record in reversed(store.read_log()):
        if record.get("target") == EMBEDDED_TARGET and record.get("version") == version and record.get("digest"):
            return str(record["digest"])
    return None


def check_embedded(store: ServingStore, publication: Publication) -> TargetCheck:
    """The current publication opens read-only, has no WAL and still has its recorded content."""
    problems = []
    if os.path.exists(publication.path + ".wal"):
        problems.append("a write-ahead log lies beside the publication")
    digest, rows = recompute_digest(publication.path)
    if digest != publication.digest:
        problems.append(f"its content digest {digest} differs from the one recorded in the file ({publication.digest})")
    recorded = logged_digest(store, publication.version)
    if recorded is not None and recorded != digest:
        problems.append(f"its content digest differs from the one publish_runs recorded ({recorded})")
    if rows != publication.row_count:
        problems.append(f"{rows} rows, the publish recorded {publication.row_count}")
    detail = "; ".join(problems) or f"digest matches, published {_age_hours(publication.published_at)} h ago"
    return TargetCheck(EMBEDDED_TARGET, not problems, publication.version, rows, 0, 0, 0 if not problems else 1, detail)


def check_target(config: Mapping[str, Any], expected: Mapping[str, str], publication: Publication) -> TargetCheck:
    """Parity of one external target with the current publication."""
    name = str(config.get("name"))
    try:
        target = make_target(config)
        try:
            found = target.stored_checksums()
            stamp = target.stamp()
        finally:
            target.close()
    except TargetError as error:
        return TargetCheck(name, False, None, None, 0, 0, 0, f"cannot be read: {error}")
    parity = compare(expected, found)
    problems = [] if parity.ok else [parity.summary()]
    version = stamp.version if stamp else None
    if version != publication.version:
        problems.append(f"it holds publication {version}, the current one is v{publication.version}")
    detail = "; ".join(problems) or parity.summary()
    return TargetCheck(
        name,
        not problems,
        version,
        parity.found_rows,
        len(parity.missing),
        len(parity.extra),
        len(parity.mismatched),
        detail,
    )


def verify(serving_path: str, names: Sequence[str] | None = None) -> list[TargetCheck]:
    """Check the embedded store and the external targets of the current publication (or those named)."""
    store = ServingStore(serving_path)
    publication = store.current()
    if publication is None:
        return [TargetCheck(EMBEDDED_TARGET, False, None, None, 0, 0, 0, f"nothing is published at {serving_path!r}")]
    configs = list(publication.meta.get("targets") or [])
    known = {str(config.get("name")) for config in configs} | {EMBEDDED_TARGET}
    unknown = sorted(set(names or ()) - known)
    if unknown:
        raise TargetError(f"no publish target named {', '.join(unknown)}; the current publication has {sorted(known)}")
    checks = []
    if not names or EMBEDDED_TARGET in names:
        checks.append(check_embedded(store, publication))
    chosen = [c for c in configs if not names or str(c.get("name")) in names]
    if chosen:
        expected = table_checksums(read_candidate(publication))
        checks.extend(check_target(config, expected, publication) for config in chosen)
    return checks
