"""IPv6 addresses and e-mail addresses (IPv4 is number-shaped: see `numbers`)."""

from __future__ import annotations

import ipaddress
import re

from .assignments import plausible_secret
from .charsets import ALNUM, EMAIL_LOCAL, HEX_COLON, QMARK, WORD, match_end
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
        core_end = match_end(_V6_RUN, b, t.start())
        pos = core_end
        if start > 0 and (b[start - 1] in HEX_COLON or b[start - 1] in WORD or b[start - 1] in b".]"):
            continue  # part of a longer run, glued to a word, or [Type]::Member
        if start > 1 and b[start - 1] == 91 and (b[start - 2] in WORD or b[start - 2] in b")]"):
            continue  # a subscript or slice: ham[1::3], a[::2]
        if core_end - start > 39:
            continue
        if core_end < n and b[core_end] == 46:  # '.': an embedded IPv4 address (::ffff:192.0.2.1)
            v4 = _V4_EMBEDDED.match(b, b.rfind(b":", start, core_end) + 1)
            if v4 is None or v4.end() <= core_end:
                continue
            core_end = v4.end()
        elif b[core_end - 1] == 58 and b[core_end - 2] != 58:  # a colon after the address
            core_end -= 1
        end = match_end(_V6_SUFFIX, b, core_end)
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


# --------------------------------------------------------------------------------------------
# Obfuscated e-mails: "name at example.org", "name [at] example [dot] org"
# --------------------------------------------------------------------------------------------
# " at " (plain) or a bracketed [at] (at) (spaces around allowed), found by bytes.find.
_AT_NEEDLES: tuple[bytes, ...] = (b" at ", b" AT ", b"[at]", b"(at)")
_OBFUSCATED_DOMAIN = re.compile(
    rb"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.|[ \t]*(?:\[dot\]|\(dot\))[ \t]*| dot )){1,8}"
    rb"[A-Za-z]{2,24}(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)
_PLAIN_LOCAL = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._+-")
_LOCAL_BOUNDARY = frozenset(b" \t\n<(,;:\"'[")
_NAME_TOKEN = re.compile(rb"[A-Z?][A-Za-z?'\-.]+")
# File names are no domains: "described at setup.py", "similar to pyproject.toml, at package.json".
_FILE_SUFFIXES = frozenset(
    b"py json toml txt md rst html htm js ts cfg ini yaml yml xml csv exe dll zip gz whl so".split()
)


def _plain_at_is_an_address(b: bytes, i: int, end: int, out: list[Candidate]) -> bool:
    """Whether ``local at domain`` at ``b[i:end]`` (not in ``<...>``) is an address: after a name,
    ending its line or followed by a comma.

    "Alex Gaynor alex.gaynor at gmail.com" (PEP 0's author table) and a second address after a
    comma are; "specified at packaging.python.org, the" or "the Django docs at docs.example.org
    for" are not (no name before it, or prose after it).
    """
    line_start = max(b.rfind(b"\n", max(0, i - 120), i) + 1, i - 120, 0)
    before = b[line_start:i].rstrip(b" \t")
    if not before:
        return False
    token = before.rsplit(None, 1)[-1]
    if end < len(b) and b[end] not in b"\r\n,;":
        return False  # a table cell or a list item ends its line: "docs at docs.example.org for ..." is prose
    if _NAME_TOKEN.fullmatch(token):
        return True  # a name: "Gaynor", "A.M.", "McClelland", "Bolz-Tereick", "D?Aprano", "PRADOS"
    comma = line_start + len(before) - 1
    return token.endswith(b",") and any(e == comma and t == "EMAIL" for _, e, t in out[-3:])


def _at_tokens(b: bytes) -> list[tuple[int, int, bool]]:
    """(end of the local part, start of the domain, plain " at "?) of every "at" token, sorted."""
    tokens: list[tuple[int, int, bool]] = []
    n = len(b)
    for needle in _AT_NEEDLES:
        plain = needle[0] == 32
        k = b.find(needle)
        while k >= 0:
            local_end, domain_start = k, k + len(needle)
            if not plain:
                while local_end > 0 and b[local_end - 1] in b" \t":
                    local_end -= 1
                while domain_start < n and b[domain_start] in b" \t":
                    domain_start += 1
            tokens.append((local_end, domain_start, plain))
            k = b.find(needle, k + 1)
    tokens.sort()
    return tokens


def scan_obfuscated_emails(b: bytes, out: list[Candidate]) -> None:
    """Append EMAIL candidates written to escape harvesters: ``name at domain.org``, ``name [at] domain``, ``(at)``."""
    for p, domain_start, plain in _at_tokens(b):
        if p == 0 or b[p - 1] not in EMAIL_LOCAL or domain_start >= len(b) or b[domain_start] not in ALNUM:
            continue
        i = p
        while i > max(0, p - 64) and b[i - 1] in EMAIL_LOCAL:
            i -= 1
        while i < p and b[i] in b".-+'":
            i += 1
        if i == p or (i > 0 and b[i - 1] not in _LOCAL_BOUNDARY):
            continue
        d = _OBFUSCATED_DOMAIN.match(b, domain_start)
        if d is None:
            continue
        if plain:
            domain = d.group().lower()
            if domain.startswith(b"www.") or domain.rsplit(b".", 1)[-1] in _FILE_SUFFIXES:
                continue
            enclosed = i > 0 and b[i - 1] == 60 and d.end() < len(b) and b[d.end()] == 62  # <...>
            if not enclosed and not all(c in _PLAIN_LOCAL for c in b[i:p]):
                continue  # "the release URL at ...": a capitalised word is no local part
            if not enclosed and not _plain_at_is_an_address(b, i, d.end(), out):
                continue
        out.append((i, d.end(), "EMAIL"))
