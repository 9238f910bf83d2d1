"""Named points in the publish path where a crash test kills the process (SIGKILL).

A test sets env DOCVEC_FAILPOINT to one of FAILPOINTS and runs a publish; the process dies at
that point exactly as a kill -9 or a power cut would leave it, and the test then checks that the
previous publication still serves complete and correct and that the next publish completes.
Unset (always, outside tests), `reach` does nothing.
"""

from __future__ import annotations

import os
import signal

FAILPOINT_ENV = "DOCVEC_FAILPOINT"
FAILPOINTS = (
    "publish.copied",  # the candidate is copied to the incoming file, not yet indexed
    "publish.indexed_fts",  # the BM25 index is built, HNSW not yet, nothing checkpointed
    "publish.checkpointed",  # the incoming file is complete but not renamed
    "publish.before_swap",  # the version file exists, the serving link still points at the old one
    "publish.swapped",  # the link points at the new publication, the log does not say so yet
    "publish.target_synced",  # an external target is synced, its parity not yet checked
)


def reach(name: str) -> None:
    """Kill this process with SIGKILL if env DOCVEC_FAILPOINT names `name`."""
    if name not in FAILPOINTS:
        raise ValueError(f"unknown failpoint {name!r}")
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
