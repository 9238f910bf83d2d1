"""IPv6 addresses and e-mail addresses (IPv4 is number-shaped: see `numbers`)."""

from __future__ import annotations

import ipaddress
import re

from .assignments import plausible_secret
from .charsets import ALNUM, EMAIL_LOCAL, HEX_COLON, QMARK, WORD
from .entities import Candidate
from .numbers import OCTET

# --------------------------------------------------------------------------------------------
# IPv6: ":h:" or "::" triggers; the run of hex digits and colons around it is validated
# --------------------------------------------------------------------------------------------
_V6_TRIGGER = re.compile(rb":[0-9A-Fa-f]{0,4}:")
_V6_RUN = re.compile(rb"[0-9A-Fa-f:]*")
_V4_EMBEDDED = re.compile(OCTET + rb"(?:\." + OCTET + rb"){3}")
_V6_SUFFIX = re.compile(rb"(?:%[0-9A-Za-z_.\-]{1,15})?(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?")


def scan_ipv6(b: bytes, out: list[Candidate]) -> None:
    """Append IPv6 candidates (two groups and a digit at least, validated by `ipaddress`)."""
    n = len(b)
    pos = 0
    while True:
        t = _V6_TRIGGER.search(b, pos)
        if t is None:
            return
        start = t.start()
        while start > 0 and b[start - 1] in HEX_COLON and t.start() - start < 40:
            start -= 1
        core_end = _V6_RUN.match(b, t.start()).end()
        pos = core_end
        if start > 0 and (b[start - 1] in HEX_COLON or b[start - 1] in WORD or b[start - 1] in b".]"):
            continue  # part of a longer run, glued to a word, or [Type]::Member
        if core_end - start > 39:
            continue
        if core_end < n and b[core_end] == 46:  # '.': an embedded IPv4 address (::ffff:192.0.2.1)
            v4 = _V4_EMBEDDED.match(b, b.rfind(b":", start, core_end) + 1)
            if v4 is None or v4.end() <= core_end:
                continue
            core_end = v4.end()
        elif b[core_end - 1] == 58 and b[core_end - 2] != 58:  # a colon after the address
            core_end -= 1
        end = _V6_SUFFIX.match(b, core_end).end()
        if end < n and (b[end] in WORD or (b[end] in b".:" and end + 1 < n and b[end + 1] in ALNUM)):
            continue
        core = b[start:core_end]
        if sum(1 for g in core.split(b":") if g) < 2 or not any(48 <= c <= 57 for c in core):
            continue
        try:
            ipaddress.ip_interface(b[start:end].decode("ascii"))
        except ValueError:
            continue
        out.append((start, end, "IP_ADDRESS"))
        pos = max(pos, end)


# --------------------------------------------------------------------------------------------
# Emails: an '@' with a domain after it is the trigger; the local part is scanned back
# --------------------------------------------------------------------------------------------
# An '@' after a local-part character and before a domain: the regex engine skips every other '@'.
_EMAIL_AT = re.compile(
    rb"@(?<=[A-Za-z0-9._%+'?\-]@)(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}"
    rb"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)


def scan_emails(text: str, b: bytes, out: list[Candidate]) -> None:
    """Append EMAIL candidates, and SECRET for the password of ``https://user:PASSWORD@host``."""
    for m in _EMAIL_AT.finditer(b):
        p = m.start()
        lo = max(0, p - 64)
        i = p
        while i > lo and (
            b[i - 1] in EMAIL_LOCAL or (b[i - 1] == QMARK and not text[i - 1].isascii() and text[i - 1].isalnum())
        ):
            i -= 1
        while i < p and b[i] in b".-'+":
            i += 1
        if i == p or b[i - 1] == 36:  # no local part; '$1.$2.$3@contoso.com' is a replacement template
            continue
        if b.startswith(b"://", i - 3):
            continue  # https://TOKEN@host: URL credentials, not an address (the token types see them)
        if b[i - 1] == 58:  # ':' before the local part
            url = b.rfind(b"://", max(0, i - 80), i)
            if url >= 0 and all(c in EMAIL_LOCAL for c in b[url + 3 : i - 1]):  # https://user:PASSWORD@host
                if plausible_secret(b[i:p], True, False):
                    out.append((i, p, "SECRET"))
                continue
        out.append((i, m.end(), "EMAIL"))
