"""`find_pii`: every detector at its cheap trigger, then overlapping candidates resolved."""

from __future__ import annotations

import bisect

from .addresses import scan_emails, scan_ipv6
from .assignments import scan_assignments
from .entities import PRIORITY, Candidate, Finding
from .numbers import scan_ibans, scan_numbers
from .tokens import scan_aws_keys, scan_github_tokens, scan_jwts, scan_private_keys, scan_slack_tokens


def _resolve(cands: list[Candidate]) -> list[Finding]:
    """Non-overlapping findings, sorted by start: longest first, then the most specific type."""
    cands.sort()
    kept: list[Finding] = []
    cluster: list[Candidate] = []
    cluster_end = -1
    for c in cands + [(1 << 62, 1 << 62, "")]:
        if c[0] >= cluster_end and cluster:  # the cluster of mutually overlapping candidates is complete
            if len(cluster) == 1:
                kept.append(Finding(cluster[0][2], cluster[0][0], cluster[0][1]))
            else:
                kept.extend(_pick(cluster))
            cluster = []
        cluster.append(c)
        cluster_end = max(cluster_end, c[1]) if len(cluster) > 1 else c[1]
    return kept


def _pick(cluster: list[Candidate]) -> list[Finding]:
    """Non-overlapping findings of one cluster: longest first, then `PRIORITY`, then leftmost."""
    cluster.sort(key=lambda c: (c[0] - c[1], PRIORITY[c[2]], c[0]))
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Finding] = []
    for s, e, t in cluster:
        i = bisect.bisect_right(starts, s)
        if (i > 0 and ends[i - 1] > s) or (i < len(starts) and starts[i] < e):
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        kept.insert(i, Finding(t, s, e))
    return kept


def find_pii(text: str) -> list[Finding]:
    """Non-overlapping findings sorted by start; spans index the original `text`."""
    if not text:
        return []
    b = text.encode("ascii") if text.isascii() else text.encode("ascii", "replace")
    cands: list[Candidate] = []
    if b"-----BEGIN " in b:
        scan_private_keys(b, cands)
    if b"eyJ" in b:
        scan_jwts(b, cands)
    if b"gh" in b or b"github_pat_" in b:
        scan_github_tokens(b, cands)
    if b"xox" in b:
        scan_slack_tokens(b, cands)
    if b"AKIA" in b or b"ASIA" in b:
        scan_aws_keys(b, cands)
    if b"@" in b:
        scan_emails(text, b, cands)
    if b":" in b:
        scan_ipv6(b, cands)
    scan_ibans(b, cands)
    scan_numbers(text, b, cands)
    if b"=" in b or b":" in b:
        scan_assignments(b, cands)
    if not cands:
        return []
    return _resolve(cands)
