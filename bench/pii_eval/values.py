"""Planted values of every entity type in varied formats, from a seeded ``random.Random``.

Standard library only (the labelled set also scores presidio from a venv without docvec).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
from collections.abc import Callable

_FIRST = ["john", "jane", "maria", "li", "ahmed", "olga", "pierre", "sofia", "kenji", "ana", "tom", "eva"]
_LAST = [
    "doe",
    "smith",
    "mueller",
    "garcia",
    "chen",
    "ivanova",
    "dubois",
    "rossi",
    "tanaka",
    "silva",
    "okafor",
]
_DOMAINS = [
    "example.com", "example.org", "mail.example.net", "contoso.com", "fabrikam.co.uk", "uni-mannheim.de",
    "dept.example.edu", "xn--mller-kva.example", "corp.internal.example.com", "startup.io", "posteo.de",
]  # fmt: skip
ALNUM = string.ascii_letters + string.digits
B64 = string.ascii_letters + string.digits + "+/"
B64URL = string.ascii_letters + string.digits + "-_"


def digits(rng: random.Random, n: int) -> str:
    """`n` random ASCII digits."""
    return "".join(rng.choice(string.digits) for _ in range(n))


def chars(rng: random.Random, alphabet: str, n: int) -> str:
    """`n` random characters of `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(n))


def gen_email(rng: random.Random) -> str:
    """An e-mail address (names, tags, subdomains; a tenth upper-case)."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}_{last}",
            f"{first[0]}{last}{rng.randint(1, 99)}",
            f"{first}+{rng.choice(['news', 'billing', 'git'])}",
            f"{first}.{last[0]}-{rng.randint(1, 9)}",
            f"{last}{rng.randint(1970, 2005)}",
        ]
    )
    email = f"{local}@{rng.choice(_DOMAINS)}"
    return email.upper() if rng.random() < 0.1 else email


def nanp(rng: random.Random) -> tuple[str, str, str]:
    """A NANP number's area code (2-9xx), exchange and line."""
    return str(rng.randint(2, 9)) + digits(rng, 2), digits(rng, 3), digits(rng, 4)


def gen_phone(rng: random.Random) -> str:
    """A phone number: NANP, UK, DE, FR and other countries, national or international."""
    kind = rng.randrange(12)
    if kind == 0:
        a, x, n = nanp(rng)
        return rng.choice([f"({a}) {x}-{n}", f"({a}){x}-{n}"])
    if kind == 1:
        a, x, n = nanp(rng)
        return rng.choice([f"{a}-{x}-{n}", f"{a}.{x}.{n}", f"1-{a}-{x}-{n}"])
    if kind == 2:
        a, x, n = nanp(rng)
        return rng.choice([f"+1 {a} {x} {n}", f"+1-{a}-{x}-{n}", f"+1 ({a}) {x}-{n}", f"+1{a}{x}{n}"])
    if kind == 3:  # UK national: London, Manchester, Leeds drama ranges and mobiles
        return rng.choice(
            [f"020 7946 0{digits(rng, 3)}", f"0161 496 0{digits(rng, 3)}", f"0113 496 0{digits(rng, 3)}",
             f"07{rng.choice('123459')}{digits(rng, 2)} {digits(rng, 6)}"]
        )  # fmt: skip
    if kind == 4:
        return rng.choice(
            [
                f"+44 20 7946 0{digits(rng, 3)}",
                f"+44 (0)20 7946 0{digits(rng, 3)}",
                f"+44 161 496 0{digits(rng, 3)}",
            ]
        )
    if kind == 5:  # DE national: Berlin, Munich, Hamburg, mobiles; several separators
        area, rest = rng.choice([("030", 8), ("089", 7), ("040", 8), ("0171", 7), ("0151", 8), ("0221", 7)])
        number = str(rng.randint(2, 9)) + digits(rng, rest - 1)
        return rng.choice([f"{area} {number}", f"({area}) {number}", f"{area}/{number}", f"{area}-{number}"])
    if kind == 6:
        area, rest = rng.choice([("30", 8), ("89", 7), ("40", 8), ("171", 7)])
        number = str(rng.randint(2, 9)) + digits(rng, rest - 1)
        return rng.choice([f"+49 {area} {number}", f"+49 (0){area} {number}", f"+49-{area}-{number}"])
    if kind == 7:  # FR
        pairs = " ".join([str(rng.randint(1, 8)) + digits(rng, 1)] + [digits(rng, 2) for _ in range(3)])
        d = rng.choice("1345")
        return rng.choice([f"0{d} {pairs}", f"+33 {d} {pairs}"])
    if kind == 8:  # India mobile, Australia Sydney, Japan Tokyo
        return rng.choice(
            [f"+91 9{digits(rng, 4)} {digits(rng, 5)}", f"+61 2 9{digits(rng, 3)} {digits(rng, 4)}",
             f"+81 3-{rng.randint(1000, 9999)}-{digits(rng, 4)}"]
        )  # fmt: skip
    if kind == 9:  # Spain mobile, Italy Rome, Netherlands Amsterdam
        return rng.choice(
            [f"+34 6{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}",
             f"+39 06 {digits(rng, 4)} {digits(rng, 4)}",
             f"+31 20 {rng.randint(200, 799)} {digits(rng, 4)}"]
        )  # fmt: skip
    if kind == 10:  # Switzerland Zurich, Ireland Dublin, Sweden Stockholm
        return rng.choice(
            [f"+41 44 {rng.randint(200, 799)} {digits(rng, 2)} {digits(rng, 2)}",
             f"+353 1 {rng.randint(200, 899)} {digits(rng, 4)}",
             f"+46 8 {rng.randint(100, 799)} {digits(rng, 3)} {digits(rng, 2)}"]
        )  # fmt: skip
    a, x, n = nanp(rng)
    return f"+1.{a}.{x}.{n}"


_CARD_BRANDS = [  # (prefixes, lengths)
    (["4"], [16, 16, 13, 19]),
    ([str(p) for p in range(51, 56)], [16]),
    ([str(p) for p in range(2221, 2721)], [16]),
    (["34", "37"], [15]),
    (["6011", "65"] + [str(p) for p in range(644, 650)], [16, 19]),
    ([str(p) for p in range(3528, 3590)], [16]),
    (["36", "38"] + [str(p) for p in range(300, 306)], [14]),
    (["62"], [16, 19]),
    (["5018", "5020", "5038", "6759"], [16, 19]),
]


def luhn_check_digit(payload: str) -> str:
    """The Luhn check digit that completes `payload`."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card_digits(rng: random.Random, valid: bool = True) -> str:
    """A card number of a known brand and length, Luhn-valid unless `valid` is False."""
    prefixes, lengths = rng.choice(_CARD_BRANDS)
    prefix, length = rng.choice(prefixes), rng.choice(lengths)
    payload = prefix + digits(rng, length - len(prefix) - 1)
    check = luhn_check_digit(payload)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    return payload + check


def group_card(rng: random.Random, digits: str) -> str:
    """`digits` compact, or grouped by spaces or dashes like the brand prints it."""
    style = rng.randrange(3)
    if style == 0:
        return digits
    sep = " " if style == 1 else "-"
    if len(digits) in (14, 15):  # Diners 4-6-4, Amex 4-6-5
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return sep.join(groups)


def gen_card(rng: random.Random) -> str:
    """A valid card number, compact or grouped."""
    return group_card(rng, card_digits(rng))


def gen_ssn(rng: random.Random) -> str:
    """A valid US SSN (not area 000/666/9xx, group 00 or serial 0000)."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = "-" if rng.random() < 0.85 else " "
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


# BBAN layouts: n = digits, a = upper-case letters, c = letters or digits
_IBAN_LAYOUTS = {
    "DE": "18n", "GB": "4a14n", "FR": "10n11c2n", "NL": "4a10n", "ES": "20n", "IT": "1a10n12c", "BE": "12n",
    "CH": "5n12c", "AT": "16n", "PL": "24n", "SE": "20n", "NO": "11n", "IE": "4a14n", "PT": "21n", "DK": "14n",
    "FI": "14n", "LU": "3n13c", "CZ": "20n", "HU": "24n", "RO": "4a16c", "SA": "2n18c", "BR": "23n1a1c",
}  # fmt: skip


def _bban(rng: random.Random, layout: str) -> str:
    """A basic bank account number following `layout` (e.g. ``4a14n``)."""
    out, num = [], ""
    for ch in layout:
        if ch.isdigit():
            num += ch
            continue
        alphabet = {
            "n": string.digits,
            "a": string.ascii_uppercase,
            "c": string.ascii_uppercase + string.digits,
        }[ch]
        out.append(chars(rng, alphabet, int(num)))
        num = ""
    return "".join(out)


def iban_check_digits(country: str, bban: str) -> str:
    """The two mod-97 check digits of an IBAN of `country` and `bban`."""
    rearranged = bban + country + "00"
    remainder = int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"{98 - remainder:02d}"


def iban(rng: random.Random, valid: bool = True) -> str:
    """An IBAN of a random country, compact or in groups of four; a bad checksum unless `valid`."""
    country = rng.choice(sorted(_IBAN_LAYOUTS))
    bban = _bban(rng, _IBAN_LAYOUTS[country])
    check = iban_check_digits(country, bban)
    if not valid:
        check = f"{(int(check) + rng.randint(1, 96)) % 97 + 2:02d}"[-2:]
        if check == iban_check_digits(country, bban):
            check = f"{(int(check) + 1) % 100:02d}"
    compact = country + check + bban
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def gen_iban(rng: random.Random) -> str:
    """A valid IBAN."""
    return iban(rng)


# Ranges that no person's connection uses, beyond what ``ipaddress`` calls private, reserved,
# multicast, loopback or link-local in every Python version (documentation, shared, 6to4, ORCHID...).
_NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
              "224.0.0.0/3", "2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")
]  # fmt: skip


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` is a public host address (what the detectors must report)."""
    special = address.is_private or address.is_reserved or address.is_multicast or address.is_loopback
    special = special or address.is_link_local or address.is_unspecified
    if isinstance(address, ipaddress.IPv6Address) and address.packed[0] & 0xE0 != 0x20:
        return False
    return not special and not any(address.version == n.version and address in n for n in _NOT_PUBLIC)


def _public_v4(rng: random.Random) -> str:
    """A random public IPv4 host address."""
    while True:
        ip = ipaddress.IPv4Address(".".join(map(str, [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                                                      rng.randint(1, 254)])))  # fmt: skip
        if is_public(ip):
            return str(ip)


def _public_v6(rng: random.Random) -> ipaddress.IPv6Address:
    """A random public IPv6 host address (in 2000::/3)."""
    while True:
        ip = ipaddress.IPv6Address((1 << 125) | rng.getrandbits(125))
        if is_public(ip):
            return ip


def gen_ip(rng: random.Random) -> str:
    """A public IPv4 (some with an interface prefix), IPv6 (compressed, exploded, zone, prefix) or
    mapped address: loopback, private, documentation ranges and network blocks are no personal data."""
    kind = rng.randrange(10)
    if kind < 6:
        ip = _public_v4(rng)
        if kind == 5:
            while True:
                prefix = rng.randint(8, 32)
                network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
                if prefix == 32 or network.network_address != ipaddress.ip_address(ip):
                    return f"{ip}/{prefix}"  # an interface address: its host bits are set
        return ip
    if kind == 6:
        return str(_public_v6(rng))
    if kind == 7:
        return _public_v6(rng).exploded
    if kind == 8:
        return rng.choice(
            [f"2a00:1450::{rng.randint(1, 0xFFFF):x}",
             f"2a00:1450:4001::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}%eth0",
             f"2a03:2880:{rng.getrandbits(16):x}::{rng.randint(1, 0xFFFF):x}/48"]
        )  # fmt: skip
    return f"::ffff:{_public_v4(rng)}"


def gen_aws(rng: random.Random) -> str:
    """An AWS access key id (``AKIA``/``ASIA`` + 16)."""
    return rng.choice(["AKIA", "ASIA"]) + chars(rng, string.ascii_uppercase + "234567", 16)


def gen_private_key(rng: random.Random) -> str:
    """A PEM private key block (a fifth with literal ``\\n``, as inside JSON)."""
    label = rng.choice(["RSA ", "EC ", "OPENSSH ", "DSA ", "ENCRYPTED ", ""])
    lines = [chars(rng, B64, 64) for _ in range(rng.randint(2, 6))]
    lines.append(chars(rng, B64, rng.randint(8, 60)) + "==")
    newline = "\\n" if rng.random() < 0.2 else "\n"  # literal \n inside a JSON string
    return newline.join([f"-----BEGIN {label}PRIVATE KEY-----", *lines, f"-----END {label}PRIVATE KEY-----"])


def b64url_json(obj: dict) -> str:
    """`obj` as unpadded base64url JSON (a JWT part)."""
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def gen_jwt(rng: random.Random) -> str:
    """A JWT with an ``alg`` header."""
    header = rng.choice(
        [
            {"alg": "HS256", "typ": "JWT"},
            {"alg": "RS256", "typ": "JWT", "kid": chars(rng, ALNUM, 8)},
            {"typ": "JWT", "alg": "ES384"},
        ]
    )
    payload = {
        "sub": digits(rng, 10),
        "name": rng.choice(_FIRST).title(),
        "iat": rng.randint(1_500_000_000, 1_800_000_000),
    }
    return f"{b64url_json(header)}.{b64url_json(payload)}.{chars(rng, B64URL, rng.choice([43, 86]))}"


def gen_github(rng: random.Random) -> str:
    """A GitHub token (``ghp_``... or ``github_pat_``...)."""
    if rng.random() < 0.2:
        return f"github_pat_{chars(rng, ALNUM, 22)}_{chars(rng, ALNUM, 59)}"
    return rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + chars(rng, ALNUM, 36)


def gen_slack(rng: random.Random) -> str:
    """A Slack token (``xoxb-``, ``xoxp-``, ``xoxa-``...)."""
    kind = rng.randrange(3)
    if kind == 0:
        return f"xoxb-{digits(rng, 12)}-{digits(rng, 13)}-{chars(rng, ALNUM, 24)}"
    if kind == 1:
        return f"xoxp-{digits(rng, 12)}-{digits(rng, 12)}-{digits(rng, 13)}-{chars(rng, '0123456789abcdef', 32)}"
    return f"{rng.choice(['xoxa', 'xoxr', 'xoxs'])}-2-{digits(rng, 12)}-{chars(rng, ALNUM, 30)}"


def gen_secret_value(rng: random.Random) -> str:
    """A password-like value with at least one digit."""
    value = rng.choice(ALNUM) + chars(rng, ALNUM + "!%^*_-+", rng.randint(7, 27))
    cut = rng.randint(1, len(value))
    return value[:cut] + rng.choice(string.digits) + value[cut:]


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "EMAIL": gen_email,
    "PHONE": gen_phone,
    "CREDIT_CARD": gen_card,
    "US_SSN": gen_ssn,
    "IBAN": gen_iban,
    "IP_ADDRESS": gen_ip,
    "AWS_ACCESS_KEY": gen_aws,
    "PRIVATE_KEY": gen_private_key,
    "JWT": gen_jwt,
    "GITHUB_TOKEN": gen_github,
    "SLACK_TOKEN": gen_slack,
    "SECRET": gen_secret_value,
}
