"""Number-shaped entities: phone numbers, card numbers, US SSNs, IPv4 addresses and IBANs.

One pass finds runs of digit-ish characters; the precise patterns and validators (libphonenumber,
Luhn, issuer ranges, mod-97) run only inside those runs. Rules: see the package docstring.
"""

from __future__ import annotations

import re
import string

import phonenumbers

from .context import Numbering, among_figures, phone_wording_before
from .entities import Candidate

# --------------------------------------------------------------------------------------------
# Numbers: one pass finds runs of digit-ish characters; the precise patterns run inside them
# --------------------------------------------------------------------------------------------
_NUM_RUN = re.compile(rb"[0-9][0-9 ().\-/]{5,}")

OCTET = rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(
    rb"(?<![0-9A-Za-z_.])" + OCTET + rb"(?:\." + OCTET + rb"){3}(?:/(?:3[0-2]|[12]?[0-9]))?"
    rb"(?![0-9A-Za-z_]|\.[0-9])"
)
# Before the number, not glued to a word or to another number by . - / + :, and not the next
# group of a longer space-separated sequence (the tail of an IBAN, a table row).
_NB = rb"(?<![0-9A-Za-z_+\-./])(?<![0-9][ \-./:])(?<![A-Z0-9]{4} [A-Z0-9]{4} )"
# After it, no word character and no further . - / : digit group (a time: "040-62-3485 04:54").
_NA = rb"(?![0-9A-Za-z_]|[\-./:][0-9])"
_SSN = re.compile(_NB + rb"(?!000|666)[0-8][0-9]{2}([\- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}" + _NA)
# Compact, or groups with one kind of separator (a compact number followed by " 123" stays compact).
_CARD = re.compile(_NB + rb"(?:[0-9]{13,19}|[0-9]{3,6}(?P<sep>[ \-])[0-9]{1,6}(?:(?P=sep)[0-9]{1,6}){1,4})" + _NA)
_PHONE_INTL = re.compile(
    rb"(?<![0-9A-Za-z_+])\+[1-9][0-9]{0,13}"
    rb"(?:(?:\)[ \-./]?\(?|[ \-./]\(?|\()[0-9]{1,14}){0,7}\)?(?![0-9A-Za-z_])"
)
_PHONE_NANP = re.compile(
    _NB + rb"(?:1[ \-.]?)?(?:\([2-9][0-9]{2}\)[ \-.]?|[2-9][0-9]{2}(?P<s>[\-. ]))"
    rb"[0-9]{3}(?(s)(?P=s)|[\-. ])[0-9]{4}" + _NA
)
_PHONE_NATIONAL = re.compile(_NB + rb"(?:\(0[1-9][0-9]{0,4}\)|0[1-9][0-9]{0,4})(?:[ \-/][0-9]{2,10}){1,4}" + _NA)
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
    """One kind of separator in groups of 3-6, a known issuer prefix and length, and the Luhn check."""
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
    """A ``+CC`` number: NANP shape for ``+1``, libphonenumber's validation for every other code."""
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
    """A national number (trunk ``0``) valid in one of `_NATIONAL_REGIONS`, with one kind of separator."""
    digits = "".join(c for c in raw if c.isdigit())
    if not 9 <= len(digits) <= 12 or raw.count("(") != raw.count(")") or "000000" in digits:
        return False  # six zeros in a row: a hex dump or padded counter, not a subscriber number
    # One kind of separator between the groups; only "/" or ")" after the area code may differ.
    seps = _PHONE_SEPS.findall(raw.lstrip("("))
    if len(set(seps[1:])) > 1 or (seps[1:] and seps[0] != seps[1] and seps[0].strip() not in ("/", ")")):
        return False
    # The first group is the trunk and area code as the region writes it, or 3+ digits of it
    # ("020 7946 0958", "0151/24366734"; not "07 024 000365", the output of a format string).
    first_group = re.sub(r"[^0-9]", "", _PHONE_SEPS.split(raw.lstrip("("), 1)[0])
    for region in _NATIONAL_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            area = re.sub(r"[^0-9]", "", _PHONE_SEPS.split(national.lstrip("("), 1)[0])
            if first_group == area or (
                len(first_group) >= 3 and (area.startswith(first_group) or first_group.startswith(area))
            ):
                return True  # "0151/24366734": a mobile prefix written without the subscriber's first digit
    return False


def _phone_nanp_ok(text: str, m: re.Match[bytes]) -> bool:
    """A NANP-shaped number with dots or spaces only (``425.555.0123``) needs phone wording before it."""
    if b"(" in m.group() or b"-" in m.group():
        return True
    return phone_wording_before(text, m.start())


def _ipv4_ok(numbering: Numbering, b: bytes, start: int, end: int) -> bool:
    """An IPv4 match that is no version or section number (by its shape or its context)."""
    addr = b[start:end].split(b"/")[0]
    octets = addr.split(b".")
    if octets[0] == b"0":
        return False
    if len(octets[0]) == 1 and octets[3] == b"0":  # 6.1.0.0, 1.0.1.0: version-shaped
        return False
    if all(len(o) == 1 for o in octets) and octets.count(b"0") >= 2:  # 1.0.0.1, 2.0.0.5
        return False
    return not numbering.numbers(start, end)


def scan_numbers(text: str, b: bytes, out: list[Candidate]) -> None:
    """Append IPv4, US_SSN, PHONE and CREDIT_CARD candidates found inside runs of digit-ish bytes."""
    n = len(b)
    numbering = Numbering(text)
    for run in _NUM_RUN.finditer(b):
        rs, re_ = run.span()
        seg = run.group()
        n_digits = len(seg) - len(seg.translate(None, b"0123456789"))
        ws, we = max(0, rs - 2), min(n, re_ + 2)
        if seg.count(b".") >= 3:
            for m in _IPV4.finditer(b, ws, we):
                if _ipv4_ok(numbering, b, m.start(), m.end()):
                    out.append((m.start(), m.end(), "IP_ADDRESS"))
        if n_digits < 8:  # every other shape has at least 8 digits (+CC and 7)
            continue
        if n_digits >= 9:
            for m in _SSN.finditer(b, ws, we):
                out.append((m.start(), m.end(), "US_SSN"))
            if b"0" in seg:
                for m in _PHONE_NATIONAL.finditer(b, ws, we):
                    if _phone_national_ok(m.group().decode("ascii")) and not among_figures(text, *m.span()):
                        out.append((m.start(), m.end(), "PHONE"))
        if n_digits >= 10:
            for m in _PHONE_NANP.finditer(b, ws, we):
                if _phone_nanp_ok(text, m) and not among_figures(text, *m.span()):
                    out.append((m.start(), m.end(), "PHONE"))
        if n_digits >= 13:
            for m in _CARD.finditer(b, ws, we):
                if _card_ok(m.group().decode("ascii")):
                    out.append((m.start(), m.end(), "CREDIT_CARD"))
        if rs > 0 and b[rs - 1] == 43:  # '+' right before the run
            intl = _PHONE_INTL.match(b, rs - 1, we)
            if intl and _phone_intl_ok(intl.group().decode("ascii")):
                out.append((intl.start(), intl.end(), "PHONE"))


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


def scan_ibans(b: bytes, out: list[Candidate]) -> None:
    """Append IBAN candidates: the exact length of their country and a valid mod-97 check."""
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
