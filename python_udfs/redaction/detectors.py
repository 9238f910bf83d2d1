"""`find_pii`: every detector at its cheap trigger, then overlapping candidates resolved."""

from __future__ import annotations

import bisect

from .addresses import scan_emails, scan_ipv6, scan_obfuscated_emails
from .assignments import scan_assignments
from .context import CodeMap
from .entities import PRIORITY, Candidate, Finding
from .networks import is_personal_ip
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
    scan_obfuscated_emails(b, cands)
    if b":" in b:
        scan_ipv6(b, cands)
    scan_ibans(b, cands)
    scan_numbers(text, b, cands)
    if b"=" in b or b":" in b:
        scan_assignments(b, cands)
    if not cands:
        return []
    if any(t == "IP_ADDRESS" for _, _, t in cands):
        cands = _personal_ips_only(text, cands)
    return _resolve(cands)


# Inside code an IPv6 address needs three groups: "a::b" is a C++ scope, "[1::3]" a slice.
_MIN_V6_GROUPS_IN_CODE = 3


def _personal_ips_only(text: str, cands: list[Candidate]) -> list[Candidate]:
    """`cands` without IP addresses that are no person's: non-public ranges, network blocks, code.

    Inside markdown code (fences, inline spans) a dotted quad is a version, an OID or an example,
    and an IPv6 candidate must have at least `_MIN_V6_GROUPS_IN_CODE` groups.
    """
    code = CodeMap(text)
    kept: list[Candidate] = []
    for c in cands:
        s, e, t = c
        if t == "IP_ADDRESS":
            value = text[s:e]
            if not is_personal_ip(value):
                continue
            if code.in_code(s):
                groups = sum(1 for g in value.split("/")[0].split(":") if g)
                if ":" not in value or groups < _MIN_V6_GROUPS_IN_CODE:
                    continue
        kept.append(c)
    return kept
