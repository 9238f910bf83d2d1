"""Find and mask personal data and secrets before a document is chunked or embedded.

``find_pii(text)`` returns typed spans (never the values); ``redact(text)`` replaces every span by
its typed placeholder (``[EMAIL]``, ``[PHONE]``, ...) and returns the spans in the ORIGINAL text.
``redact_record`` is the same as one dict, shaped for a DuckDB UDF returning ``REDACT_RETURN``.

What is detected
----------------
==================  ===========================================================================
EMAIL               ``local@domain.tld`` (ASCII domain; a non-ASCII local part is kept whole)
PHONE               international ``+CC ...`` (validated by libphonenumber, ``+1`` by NANP shape);
                    US ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567`` (area 2-9xx);
                    national numbers with a trunk ``0`` and at least one separator
                    (``020 7946 0958``, ``030 12345678``, ``(030) 12345678``, ``01 23 45 67 89``),
                    valid for one of GB DE FR AT CH NL BE IE AU by libphonenumber
CREDIT_CARD         13-19 digits, one kind of separator (space or dash) in groups of 3-6, a known
                    issuer prefix and length (Visa, Mastercard, Amex, Discover, Diners, JCB,
                    UnionPay, Maestro), Luhn-checked
US_SSN              ``AAA-GG-SSSS`` (or spaces), not area 000/666/9xx, group 00, serial 0000
IBAN                upper-case, compact or in groups, exact length of its country, mod-97 checked
IP_ADDRESS          IPv4 (octets 0-255 without leading zeros, optional ``/prefix``) and IPv6
                    (validated by ``ipaddress``; at least two groups and one digit, optional zone
                    and prefix), see "Version numbers" below
AWS_ACCESS_KEY      ``AKIA``/``ASIA`` + 16 upper-case letters or digits
PRIVATE_KEY         ``-----BEGIN ... PRIVATE KEY-----`` through its ``-----END ...-----`` (also with
                    literal ``\\n`` inside JSON strings); without an END line, the header plus the
                    base64/header lines that follow it
JWT                 three base64url parts whose header decodes to a JSON object with ``"alg"``
GITHUB_TOKEN        ``ghp_ gho_ ghu_ ghs_ ghr_`` + 36 or more letters/digits, ``github_pat_...``
SLACK_TOKEN         ``xoxb- xoxa- xoxp- xoxr- xoxs-`` + at least 10 of ``[A-Za-z0-9-]`` with a digit
SECRET              the VALUE of ``password=``, ``api_key:``, ``"client_secret": "..."``,
                    ``token = ...`` style assignments (the key must END in password, passwd,
                    passphrase, pwd, secret, token, api key, access key, secret key or auth key)
==================  ===========================================================================

Precision rules (on purpose, tested)
------------------------------------
* Digits must stand alone: a candidate glued to letters, ``_`` or another digit group by ``.``
  ``-`` ``/`` ``:`` is not taken (ISBNs, order ids, UUIDs, SHAs, OIDs such as 1.3.6.1.4.1, times
  survive), nor one that continues a space-separated digit sequence (``0044 0532 0130``) or
  follows two 4-character groups (the tail of an IBAN with a bad checksum: ``GB23 VGUQ 0541 ...``).
* Dates, times, ports, counts, currency amounts and PowerShell parameters have none of the shapes.
* PHONE: a national number uses one kind of separator between its groups (only ``/`` or ``)``
  after the area code may differ); numbers with six zeros in a row (hex dumps, padded counters)
  are not taken; a number directly followed by another digit group separated by a space
  (``+44 20 7946 0958 2024``) is taken whole and so fails validation (precision over recall).
* **Version numbers vs IPv4.** An IPv4 address is *not* reported when (a) the 48 characters
  before it on its line end in a version word (``version``, ``ver``, ``v``, ``release``,
  ``build``, ``rev``, ``revision``, ``update``, optionally + ``is``/``of``/``number``), e.g.
  ``Version=1.0.0.0``, ``ModuleVersion = '1.0.0.0'``, ``-MinimumVersion 2.8.5.201``,
  ``version 1.2.3.4``, ``<UICultureVersion>2.15.0.10``, or in a section sign ``§`` or a Markdown
  heading ``#``; or (b) it has the shape of a version: a one-digit first part and a zero last
  part (``6.1.0.0``, ``3.1.0.0``, ``1.0.1.0``: the version column of ``Get-Command`` output), or
  four one-digit parts with two zeros (``1.0.0.1``); or (c) its first octet is 0. Host addresses
  in 1.0.0.0/8 - 9.0.0.0/8 that end in ``.0`` are the price of (b). Documentation addresses such
  as 192.168.1.1 or 172.217.9.174 ARE addresses and are masked; so is ``1.2.3.4`` without a
  version word before it.
* IPv6 needs two non-empty groups and a digit, so ``[Type]::Method``, ``std::vector``, times
  (``12:30:45``) and MAC addresses never match; ``::1`` and ``::`` are left alone.
* EMAIL: ``https://TOKEN@host`` is URL credentials, not an address (the token types see the
  token); in ``https://user:PASSWORD@host`` the password is a SECRET; ``$1.$2.$3@contoso.com``
  (a replacement template) is skipped.
* SECRET values that are code, not secrets, are skipped: ``$variables``, ``${VAR}``, ``%VAR%``,
  ``<placeholders>``, ``(expressions)``, dotted type names (``System.Security.SecureString``),
  ``null``/``true``/``none``..., masks such as ``****``; for a ``$variable`` key only a quoted
  literal counts; an unquoted value after ``:`` must end its line (YAML style); an unquoted value
  must not be a plain word (``Specifies``, ``bearer``); ``PublicKeyToken=`` is no secret.
* Overlaps: the longest span wins, then the more specific type (``_PRIORITY``: a GitHub token
  that is also a ``token =`` value is a GITHUB_TOKEN).

Speed and safety
----------------
All patterns are compiled once and run over ``text.encode("ascii", "replace")``: one byte per
code point, so byte offsets ARE character offsets, and ``bytes.lower``/``bytes.find`` run at
memory speed. Every type has a cheap trigger: a literal (``eyJ``, ``AKIA``, ``-----BEGIN``,
``ghp_``, ``xox``, keywords found by ``bytes.find`` on the lower-cased bytes), an ``@`` with a
domain after it, the shape ``AA00`` (IBAN), ``:h:`` (IPv6) or a run of at least six digit-ish
characters (numbers); the precise patterns only run at triggers or inside those runs. Every
quantifier is bounded or greedy over a run that is then skipped, so the work is linear: a 5 MB
line without whitespace, a 1 MB run of digits, or 2 MB of any one trigger repeated (``a@``,
``eyJ``, ``password=``, ``DE89 ``, ...) take about a second or less (the tests allow two). About 55 MB/s (CPU
time, one core) on the PowerShell docs and 60 MB/s on SciFact abstracts (``bench/pii_eval.py``).
Limits: only ASCII digits, letters and separators are recognised (a no-break space between phone
groups, full-width digits or an IDN domain are not); compact national phone numbers without any
separator are not taken; lower-case IBANs are not taken.

Why not presidio
----------------
presidio-analyzer 2.2.366 was evaluated in a scratch venv (``pip install presidio-analyzer``
pulls spaCy 3.8, tldextract, phonenumbers and regex: 392 MB). It does run fully offline: with
its ``NoOpNlpEngine`` or a blank spaCy pipeline (``spacy.blank("en")``: no model download), with
tldextract given no suffix-list URL (bundled snapshot only) and every socket connect made to
raise, the six predefined recognizers below work. ``python -m bench.pii_eval --presidio``
repeats the measurement; on the same labelled set (seed 20240115, 300 values per type, 3180
look-alikes) and corpora as this module:

==============  ======================  =====================
type            presidio precision/rec  this module prec/rec
==============  ======================  =====================
EMAIL           0.732 / 0.910           1.000 / 1.000
PHONE           0.669 / 0.883           1.000 / 1.000
CREDIT_CARD     0.927 / 0.680           1.000 / 1.000
US_SSN          0.955 / 1.000           1.000 / 1.000
IBAN            1.000 / 0.997           1.000 / 1.000
IP_ADDRESS      0.388 / 1.000           1.000 / 1.000
==============  ======================  =====================

* precision fails on exactly the look-alikes the issue lists: IpRecognizer reports versions and
  OIDs (``6.1.0.0``, ``1.3.6.1``, ``§9.9.8.9``), PhoneRecognizer (phonenumbers' matcher over 8
  regions) order ids and dates, UsSsnRecognizer area 9xx (``924-99-2910``), EmailRecognizer
  ``https://TOKEN@github.com``; recall fails on 19-digit and 2-series cards and ``.example``
  domains (tldextract);
* it covers 6 of the 12 types (no AWS keys, private keys, JWTs, GitHub/Slack tokens or
  ``password=`` values): those need our own patterns anyway;
* it is 50-100 times slower: 1.0 MB/s (NoOp engine) / 0.45 MB/s (blank spaCy) CPU on 1 MB of
  the PowerShell docs, 0.8 / 0.5 MB/s on SciFact, against 55-60 MB/s here.

So this module uses focused, well-kept libraries where they fit -- ``phonenumbers`` (Google's
libphonenumber metadata, also what presidio uses) to validate phone numbers, the stdlib
``ipaddress`` for IPv6 -- plus validated patterns of its own (Luhn, mod-97 with per-country
lengths, SSN ranges, JWT header decoding).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import ipaddress
import json
import re
import string
from dataclasses import dataclass
from typing import Any

import phonenumbers

ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN",
    "IP_ADDRESS",
    "AWS_ACCESS_KEY",
    "PRIVATE_KEY",
    "JWT",
    "GITHUB_TOKEN",
    "SLACK_TOKEN",
    "SECRET",
)
PLACEHOLDERS: dict[str, str] = {t: f"[{t}]" for t in ENTITY_TYPES}

# Tie-break on overlaps of equal length: lower wins (the most specific shape first).
_PRIORITY: dict[str, int] = {
    t: i
    for i, t in enumerate(
        (
            "PRIVATE_KEY",
            "JWT",
            "GITHUB_TOKEN",
            "SLACK_TOKEN",
            "AWS_ACCESS_KEY",
            "EMAIL",
            "IBAN",
            "CREDIT_CARD",
            "US_SSN",
            "IP_ADDRESS",
            "PHONE",
            "SECRET",
        )
    )
}

# DuckDB return type of `redact_record` (same field names as the chunk offsets elsewhere).
REDACT_RETURN = (
    "STRUCT(text VARCHAR, findings STRUCT(entity_type VARCHAR, start_char INTEGER, end_char INTEGER)[])"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: its type and its span ``[start, end)`` in the original text."""

    entity_type: str
    start: int
    end: int


# --------------------------------------------------------------------------------------------
# Character classes (as byte sets) and small helpers
# --------------------------------------------------------------------------------------------
_ALNUM = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_WORD = _ALNUM | {ord("_")}
_B64URL = _WORD | {ord("-")}
_EMAIL_LOCAL = _ALNUM | frozenset(b"._%+-'")
_HEX_COLON = frozenset(b"0123456789abcdefABCDEF:")
_QMARK = ord("?")


def _word_at(b: bytes, i: int) -> bool:
    return i < len(b) and b[i] in _WORD


# --------------------------------------------------------------------------------------------
# Numbers: one pass finds runs of digit-ish characters; the precise patterns run inside them
# --------------------------------------------------------------------------------------------
_NUM_RUN = re.compile(rb"[0-9][0-9 ().\-/]{5,}")

_OCTET = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(
    rb"(?<![0-9A-Za-z_.])" + _OCTET + rb"(?:\." + _OCTET + rb"){3}(?:/(?:3[0-2]|[12]?[0-9]))?"
    rb"(?![0-9A-Za-z_]|\.[0-9])"
)
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:(?:version|\bver|\bv|\brelease|\bbuild|\brev|\brevision|\bupdate)(?:[ \t]+(?:is|of|number))?"
    r"|§|^[ \t>]*#{1,6})[ \t:=\'\"(\[>]*\Z",
    re.MULTILINE,
)
# Before the number, not glued to a word or to another number by . - / + :, and not the next
# group of a longer space-separated sequence (the tail of an IBAN, a table row).
_NB = rb"(?<![0-9A-Za-z_+\-./])(?<![0-9][ \-./:])(?<![A-Z0-9]{4} [A-Z0-9]{4} )"
# After it, no word character and no further . - / : digit group (a time: "040-62-3485 04:54").
_NA = rb"(?![0-9A-Za-z_]|[\-./:][0-9])"
_SSN = re.compile(_NB + rb"(?!000|666)[0-8][0-9]{2}([\- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}" + _NA)
# Compact, or groups with one kind of separator (a compact number followed by " 123" stays compact).
_CARD = re.compile(
    _NB + rb"(?:[0-9]{13,19}|[0-9]{3,6}(?P<sep>[ \-])[0-9]{1,6}(?:(?P=sep)[0-9]{1,6}){1,4})" + _NA
)
_PHONE_INTL = re.compile(
    rb"(?<![0-9A-Za-z_+])\+[1-9][0-9]{0,13}"
    rb"(?:(?:\)[ \-./]?\(?|[ \-./]\(?|\()[0-9]{1,14}){0,7}\)?(?![0-9A-Za-z_])"
)
_PHONE_NANP = re.compile(
    _NB + rb"(?:1[ \-.]?)?(?:\([2-9][0-9]{2}\)[ \-.]?|[2-9][0-9]{2}(?P<s>[\-. ]))"
    rb"[0-9]{3}(?(s)(?P=s)|[\-. ])[0-9]{4}" + _NA
)
_PHONE_NATIONAL = re.compile(
    _NB + rb"(?:\(0[1-9][0-9]{0,4}\)|0[1-9][0-9]{0,4})(?:[ \-/][0-9]{2,10}){1,4}" + _NA
)
_PHONE_SEPS = re.compile(r"[ \-./()]+")
_NATIONAL_REGIONS = ("GB", "DE", "FR", "AT", "CH", "NL", "BE", "IE", "AU")

# Issuer prefixes: (prefix low, prefix high, number of prefix digits, allowed lengths)
_CARD_RANGES: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    (4, 4, 1, frozenset({13, 16, 19})),  # Visa
    (51, 55, 2, frozenset({16})),  # Mastercard
    (2221, 2720, 4, frozenset({16})),  # Mastercard 2-series
    (34, 34, 2, frozenset({15})),  # American Express
    (37, 37, 2, frozenset({15})),
    (6011, 6011, 4, frozenset({16, 17, 18, 19})),  # Discover
    (644, 649, 3, frozenset({16, 17, 18, 19})),
    (65, 65, 2, frozenset({16, 17, 18, 19})),
    (300, 305, 3, frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (36, 36, 2, frozenset({14, 15, 16, 17, 18, 19})),
    (38, 39, 2, frozenset({14, 15, 16, 17, 18, 19})),
    (3528, 3589, 4, frozenset({16, 17, 18, 19})),  # JCB
    (62, 62, 2, frozenset({16, 17, 18, 19})),  # UnionPay
    (50, 50, 2, frozenset({13, 14, 15, 16, 17, 18, 19})),  # Maestro
    (56, 59, 2, frozenset({13, 14, 15, 16, 17, 18, 19})),
    (67, 67, 2, frozenset({13, 14, 15, 16, 17, 18, 19})),
)


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) checksum of a string of ASCII digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_ok(raw: str) -> bool:
    seps = {c for c in raw if not c.isdigit()}
    if len(seps) > 1:
        return False
    digits = raw if not seps else raw.replace(next(iter(seps)), "")
    if seps:
        groups = raw.split(next(iter(seps)))
        if len(groups) < 2 or any(not 3 <= len(g) <= 6 for g in groups[:-1]) or not 1 <= len(groups[-1]) <= 6:
            return False
    n = len(digits)
    if not any(lo <= int(digits[:k]) <= hi and n in lengths for lo, hi, k, lengths in _CARD_RANGES):
        return False
    return luhn_ok(digits)


def _phone_intl_ok(raw: str) -> bool:
    digits = "".join(c for c in raw if c.isdigit())
    if not 8 <= len(digits) <= 15 or raw.count("(") != raw.count(")") or "000000" in digits:
        return False
    seps = set(_PHONE_SEPS.findall(raw[1:]))
    if "." in seps and len(seps) > 1:  # dots do not mix with other separators (9.7.8.8.8 is no group)
        return False
    if digits[0] == "1":  # NANP: +1 NPA NXX XXXX, area code 2-9xx (555 numbers included)
        return len(digits) == 11 and digits[1] in "23456789"
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        return False


def _phone_national_ok(raw: str) -> bool:
    digits = "".join(c for c in raw if c.isdigit())
    if not 9 <= len(digits) <= 12 or raw.count("(") != raw.count(")") or "000000" in digits:
        return False  # six zeros in a row: a hex dump or padded counter, not a subscriber number
    # One kind of separator between the groups; only "/" or ")" after the area code may differ.
    seps = _PHONE_SEPS.findall(raw.lstrip("("))
    if len(set(seps[1:])) > 1 or (seps[1:] and seps[0] != seps[1] and seps[0].strip() not in ("/", ")")):
        return False
    for region in _NATIONAL_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(raw, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _ipv4_ok(text: str, b: bytes, start: int, end: int) -> bool:
    addr = b[start:end].split(b"/")[0]
    octets = addr.split(b".")
    if octets[0] == b"0":
        return False
    if len(octets[0]) == 1 and octets[3] == b"0":  # 6.1.0.0, 1.0.1.0: version-shaped
        return False
    if all(len(o) == 1 for o in octets) and octets.count(b"0") >= 2:  # 1.0.0.1, 2.0.0.5
        return False
    line_start = b.rfind(b"\n", max(0, start - 48), start) + 1
    return _VERSION_CONTEXT.search(text, max(line_start, start - 48), start) is None


def _numbers(text: str, b: bytes, out: list[tuple[int, int, str]]) -> None:
    n = len(b)
    for run in _NUM_RUN.finditer(b):
        rs, re_ = run.span()
        seg = run.group()
        n_digits = len(seg) - len(seg.translate(None, b"0123456789"))
        ws, we = max(0, rs - 2), min(n, re_ + 2)
        if seg.count(b".") >= 3:
            for m in _IPV4.finditer(b, ws, we):
                if _ipv4_ok(text, b, m.start(), m.end()):
                    out.append((m.start(), m.end(), "IP_ADDRESS"))
        if n_digits < 8:  # every other shape has at least 8 digits (+CC and 7)
            continue
        if n_digits >= 9:
            for m in _SSN.finditer(b, ws, we):
                out.append((m.start(), m.end(), "US_SSN"))
            if b"0" in seg:
                for m in _PHONE_NATIONAL.finditer(b, ws, we):
                    if _phone_national_ok(m.group().decode("ascii")):
                        out.append((m.start(), m.end(), "PHONE"))
        if n_digits >= 10:
            for m in _PHONE_NANP.finditer(b, ws, we):
                out.append((m.start(), m.end(), "PHONE"))
        if n_digits >= 13:
            for m in _CARD.finditer(b, ws, we):
                if _card_ok(m.group().decode("ascii")):
                    out.append((m.start(), m.end(), "CREDIT_CARD"))
        if rs > 0 and b[rs - 1] == 43:  # '+' right before the run
            m = _PHONE_INTL.match(b, rs - 1, we)
            if m and _phone_intl_ok(m.group().decode("ascii")):
                out.append((m.start(), m.end(), "PHONE"))


# --------------------------------------------------------------------------------------------
# IBAN: the shape "AA00" (on a translated copy) triggers a match at that offset
# --------------------------------------------------------------------------------------------
_SHAPE = bytes.maketrans(
    (string.ascii_uppercase + string.ascii_lowercase + string.digits).encode(),
    b"A" * 26 + b"a" * 26 + b"0" * 10,
)
# Two capitals and two digits not preceded by a letter or digit (found in C, on the shape copy).
_IBAN_TRIGGER = re.compile(rb"AA00(?<![A0a]AA00)")
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


# Per country: exactly its length of letters/digits, compact or with single spaces, then a boundary.
_IBAN_BY_LENGTH: dict[bytes, re.Pattern[bytes]] = {
    cc.encode(): re.compile(cc.encode() + rb"[0-9]{2}(?: ?[A-Z0-9]){%d}(?![A-Za-z0-9])" % (length - 4))
    for cc, length in IBAN_LENGTHS.items()
}


def iban_ok(iban: str) -> bool:
    """Country length and ISO 7064 mod-97 check of a compact upper-case IBAN."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _ibans(b: bytes, out: list[tuple[int, int, str]]) -> None:
    if not b:
        return
    shape = b.translate(_SHAPE)
    pos = 0
    while True:
        t = _IBAN_TRIGGER.search(shape, pos)
        if t is None:
            return
        p = t.start()
        pos = p + 1
        pattern = _IBAN_BY_LENGTH.get(b[p : p + 2])
        m = pattern.match(b, p) if pattern is not None else None
        if m and iban_ok(m.group().replace(b" ", b"").decode("ascii")):
            out.append((p, m.end(), "IBAN"))
            pos = m.end()


# --------------------------------------------------------------------------------------------
# IPv6: ":h:" or "::" triggers; the run of hex digits and colons around it is validated
# --------------------------------------------------------------------------------------------
_V6_TRIGGER = re.compile(rb":[0-9A-Fa-f]{0,4}:")
_V6_RUN = re.compile(rb"[0-9A-Fa-f:]*")
_V4_EMBEDDED = re.compile(_OCTET + rb"(?:\." + _OCTET + rb"){3}")
_V6_SUFFIX = re.compile(rb"(?:%[0-9A-Za-z_.\-]{1,15})?(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?")


def _ipv6s(b: bytes, out: list[tuple[int, int, str]]) -> None:
    n = len(b)
    pos = 0
    while True:
        t = _V6_TRIGGER.search(b, pos)
        if t is None:
            return
        start = t.start()
        while start > 0 and b[start - 1] in _HEX_COLON and t.start() - start < 40:
            start -= 1
        core_end = _V6_RUN.match(b, t.start()).end()
        pos = core_end
        if start > 0 and (b[start - 1] in _HEX_COLON or b[start - 1] in _WORD or b[start - 1] in b".]"):
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
        if end < n and (b[end] in _WORD or (b[end] in b".:" and end + 1 < n and b[end + 1] in _ALNUM)):
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


def _emails(text: str, b: bytes, out: list[tuple[int, int, str]]) -> None:
    for m in _EMAIL_AT.finditer(b):
        p = m.start()
        lo = max(0, p - 64)
        i = p
        while i > lo and (
            b[i - 1] in _EMAIL_LOCAL
            or (b[i - 1] == _QMARK and not text[i - 1].isascii() and text[i - 1].isalnum())
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
            if url >= 0 and all(c in _EMAIL_LOCAL for c in b[url + 3 : i - 1]):  # https://user:PASSWORD@host
                if _plausible_secret(b[i:p], True, False):
                    out.append((i, p, "SECRET"))
                continue
        out.append((i, m.end(), "EMAIL"))


# --------------------------------------------------------------------------------------------
# Token-shaped secrets: literal prefixes found with bytes.find
# --------------------------------------------------------------------------------------------
_UPPER_ALNUM_RUN = re.compile(rb"[A-Z0-9]*")
_B64URL_JWT = re.compile(rb"[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*){0,3}")
_WORD_RUN = re.compile(rb"[A-Za-z0-9_]*")
_SLACK_RUN = re.compile(rb"[A-Za-z0-9\-]*")  # after "xox": the type letter, "-" and the body


def _token_hits(b: bytes, prefix: bytes, run: re.Pattern[bytes], before: frozenset[int]):
    """(start, end) of `prefix` + the `run` after it, where no `before` byte precedes `prefix`.

    The search goes on after the run: a prefix inside it is preceded by a run byte, which every
    caller counts in `before`, so nothing is lost and the work stays linear.
    """
    pos = 0
    while True:
        p = b.find(prefix, pos)
        if p < 0:
            return
        if p > 0 and b[p - 1] in before:
            pos = p + 1
            continue
        end = run.match(b, p + len(prefix)).end()
        yield p, end
        pos = max(end, p + 1)


def _aws_keys(b: bytes, out: list[tuple[int, int, str]]) -> None:
    for prefix in (b"AKIA", b"ASIA"):
        for p, end in _token_hits(b, prefix, _UPPER_ALNUM_RUN, _ALNUM):
            if end - p == 20 and not _word_at(b, end):
                out.append((p, end, "AWS_ACCESS_KEY"))


def _b64url_json(part: bytes) -> Any:
    try:
        raw = base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _jwts(b: bytes, out: list[tuple[int, int, str]]) -> None:
    pos = 0
    while True:
        p = b.find(b"eyJ", pos)
        if p < 0:
            return
        m = _B64URL_JWT.match(b, p)
        pos = max(m.end(), p + 3)
        if p > 0 and b[p - 1] in _B64URL:
            continue
        parts = m.group().split(b".")
        end = m.end()
        if len(parts) == 4 and parts[3] == b"":  # a full stop after the token
            parts, end = parts[:3], end - 1
        if len(parts) != 3 or len(parts[0]) < 10 or len(parts[1]) < 2 or len(parts[0]) > 4096:
            continue
        header = _b64url_json(parts[0])
        if isinstance(header, dict) and "alg" in header:
            out.append((p, end, "JWT"))


_GITHUB_PREFIXES = (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_")


def _github_tokens(b: bytes, out: list[tuple[int, int, str]]) -> None:
    for prefix in _GITHUB_PREFIXES + (b"github_pat_",):
        for p, end in _token_hits(b, prefix, _WORD_RUN, _WORD):
            body = b[p + len(prefix) : end]
            if prefix == b"github_pat_":
                ok = 40 <= len(body) <= 255
            else:
                ok = 36 <= len(body) <= 251 and b"_" not in body
            if ok:
                out.append((p, end, "GITHUB_TOKEN"))


def _slack_tokens(b: bytes, out: list[tuple[int, int, str]]) -> None:
    for p, end in _token_hits(b, b"xox", _SLACK_RUN, _B64URL):
        if p + 4 >= len(b) or b[p + 3] not in b"baprs" or b[p + 4] != 45:
            continue
        body = b[p + 5 : end].rstrip(b"-")
        end = p + 5 + len(body)
        if 10 <= len(body) <= 250 and any(48 <= c <= 57 for c in body) and not _word_at(b, end):
            out.append((p, end, "SLACK_TOKEN"))


_KEY_HEADER = re.compile(rb"-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_FOOTER = re.compile(rb"-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_BODY = re.compile(
    rb"(?:(?:\r?\n|\\n)[ \t]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z][A-Za-z\-]{2,39}: [^\r\n\\]{0,200})?)*"
)


def _private_keys(b: bytes, out: list[tuple[int, int, str]]) -> None:
    pos = 0
    no_end_after = len(b) + 1
    while True:
        p = b.find(b"-----BEGIN ", pos)
        if p < 0:
            return
        header = _KEY_HEADER.match(b, p)
        if header is None:
            pos = p + 11
            continue
        end = -1
        if header.end() < no_end_after:
            q = b.find(b"-----END ", header.end())
            if q < 0:
                no_end_after = header.end()
            else:
                footer = _KEY_FOOTER.match(b, q)
                if footer:
                    end = footer.end()
        if end < 0:  # no END line: the header and the key lines after it
            end = _KEY_BODY.match(b, header.end()).end()
            while end > header.end() and b[end - 1] in b" \t\r\n":
                end -= 1
        out.append((p, end, "PRIVATE_KEY"))
        pos = end


# --------------------------------------------------------------------------------------------
# key = value secrets: keywords found on the lower-cased bytes, then the value is matched
# --------------------------------------------------------------------------------------------
# Keywords, grouped by a common start that bytes.find looks for (fewer scans of the text).
_SECRET_KEYWORDS: tuple[tuple[bytes, tuple[bytes, ...]], ...] = (
    (b"pass", (b"password", b"passwd", b"passphrase")),
    (b"pwd", (b"pwd",)),
    (b"secret", (b"secret",)),
    (b"token", (b"token",)),
    (b"api", (b"api_key", b"apikey", b"api-key")),
    (b"accesskey", (b"accesskey",)),
    (b"access_key", (b"access_key",)),
    (b"auth_key", (b"auth_key",)),
)
_KEY_SUFFIXES = (b"_key", b"-key", b"key", b"_value", b"_string", b"_str")
_ASSIGN = re.compile(
    rb"""["']?[ \t]*(?P<op>:=|=>|=|:)[ \t]*"""
    rb"""(?:(?P<q>["'`])(?P<qv>[^"'`\r\n]{1,512}?)(?P=q)|(?P<uv>[^\s"'`,;&)\]}<>|]{1,512}))"""
)
_AFTER_COLON_VALUE = re.compile(rb"[ \t]*(?:[,}][^\r\n]*)?(?:#[^\r\n]*)?(?:\r?\n|\\n|\Z)")
_PLACEHOLDER_VALUES = frozenset(
    {
        "null", "none", "nil", "true", "false", "yes", "no", "undefined", "empty", "required",
        "optional", "string", "str", "int", "bool", "secret", "password", "token", "redacted",
        "hidden", "masked", "default", "value", "example", "your_password", "yourpassword",
        "changeme_placeholder", "n/a", "na", "tbd", "todo",
    }
)  # fmt: skip


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
# Keys that end in a keyword but hold no secret (.NET strong names: PublicKeyToken=31bf3856ad364e35).
_NOT_SECRET_KEYS = (b"publickeytoken",)


def _plausible_secret(value: bytes, quoted: bool, dollar_key: bool) -> bool:
    v = value.strip()
    if len(v) < 3 or len(v) != len(value):
        return False
    s = v.decode("ascii")
    if s.lower() in _PLACEHOLDER_VALUES or s[0] in "$%{[(<@#-" or s.startswith("\\"):
        return False
    if len(set(s)) == 1 or set(s) <= set("*x.-_X#"):  # ****, xxxx, ....
        return False
    if "(" in s or s.startswith("http") and "//" in s and "@" not in s:
        return False
    if _DOTTED_NAME.fullmatch(s):  # System.Security.SecureString: a type name, not a value
        return False
    if quoted:
        return s.count(" ") < 2
    if dollar_key:  # $password = Read-Host ...: code, not a literal
        return False
    # an unquoted plain word is prose or an identifier, not a secret
    return not (s.isalpha() and (s.islower() or s.isupper() or s.istitle()))


# Key names (DB_PASSWORD, x-api-key, spring.datasource.password), matched on the reversed text.
_IDENT_REVERSED = re.compile(rb"[a-z0-9_.\-]{0,64}")


def _assignments(b: bytes, out: list[tuple[int, int, str]]) -> None:
    low = b.lower()
    hits: list[tuple[int, bytes]] = []
    for needle, keywords in _SECRET_KEYWORDS:
        k = low.find(needle)
        while k >= 0:
            for kw in keywords:
                if low.startswith(kw, k):
                    hits.append((k, kw))
                    break
            k = low.find(needle, k + 1)
    if not hits:
        return
    hits.sort()
    rev = low[::-1]  # the key's start is found by matching backwards, in C
    n = len(low)
    scanned = 0
    for k, kw in hits:
        if k < scanned:  # inside the value of the previous assignment
            continue
        ke = k + len(kw)
        if ke < n and low[ke] in _WORD:
            for suffix in _KEY_SUFFIXES:
                if low.startswith(suffix, ke) and (
                    ke + len(suffix) >= n or low[ke + len(suffix)] not in _WORD
                ):
                    ke += len(suffix)
                    break
            else:
                continue
        m = _ASSIGN.match(b, ke)
        if m is None:
            continue
        ks = k - (_IDENT_REVERSED.match(rev, n - k).end() - (n - k))
        if low[ks:ke].endswith(_NOT_SECRET_KEYS):
            continue
        dollar_key = ks > 0 and low[ks - 1] == 36  # '$'
        if m.group("qv") is not None:
            vs, ve, quoted = m.start("qv"), m.end("qv"), True
        else:
            vs, ve, quoted = m.start("uv"), m.end("uv"), False
        scanned = ve
        if not quoted:
            if m.group("op") == b":" and not _AFTER_COLON_VALUE.match(b, ve):
                continue
            if b[ve - 1] in b".":  # a full stop after the value
                ve -= 1
        if _plausible_secret(b[vs:ve], quoted, dollar_key):
            out.append((vs, ve, "SECRET"))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
def _resolve(cands: list[tuple[int, int, str]]) -> list[Finding]:
    """Non-overlapping findings, sorted by start: longest first, then the most specific type."""
    cands.sort()
    kept: list[Finding] = []
    cluster: list[tuple[int, int, str]] = []
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


def _pick(cluster: list[tuple[int, int, str]]) -> list[Finding]:
    cluster.sort(key=lambda c: (c[0] - c[1], _PRIORITY[c[2]], c[0]))
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
    cands: list[tuple[int, int, str]] = []
    if b"-----BEGIN " in b:
        _private_keys(b, cands)
    if b"eyJ" in b:
        _jwts(b, cands)
    if b"gh" in b or b"github_pat_" in b:
        _github_tokens(b, cands)
    if b"xox" in b:
        _slack_tokens(b, cands)
    if b"AKIA" in b or b"ASIA" in b:
        _aws_keys(b, cands)
    if b"@" in b:
        _emails(text, b, cands)
    if b":" in b:
        _ipv6s(b, cands)
    _ibans(b, cands)
    _numbers(text, b, cands)
    if b"=" in b or b":" in b:
        _assignments(b, cands)
    if not cands:
        return []
    return _resolve(cands)


def redact(text: str) -> tuple[str, list[Finding]]:
    """`text` with every finding replaced by its placeholder, and the findings (original spans).

    Text without findings is returned as is (the same object).
    """
    findings = find_pii(text)
    if not findings:
        return text, findings
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos : f.start])
        parts.append(PLACEHOLDERS[f.entity_type])
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), findings


def redact_text(text: str | None) -> str | None:
    """Only the redacted text; NULL stays NULL (a scalar UDF: ``docvec_redact(text) -> VARCHAR``)."""
    if text is None:
        return None
    return redact(text)[0]


def redact_record(text: str | None) -> dict[str, Any] | None:
    """The redacted text and the findings as one struct, for a DuckDB UDF returning REDACT_RETURN.

    Offsets are in the text BEFORE redaction (``start_char``/``end_char`` like the chunk offsets).
    """
    if text is None:
        return None
    redacted, findings = redact(text)
    return {
        "text": redacted,
        "findings": [
            {"entity_type": f.entity_type, "start_char": f.start, "end_char": f.end} for f in findings
        ],
    }


def count_by_type(findings: list[Finding]) -> dict[str, int]:
    """Number of findings per entity type (types without findings are left out)."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.entity_type] = counts.get(f.entity_type, 0) + 1
    return counts
