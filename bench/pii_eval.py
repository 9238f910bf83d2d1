"""PII/secret redaction: precision/recall on a generated labelled set, throughput on real docs.

    .venv/bin/python -m bench.pii_eval [--seed 20240115] [--per-type 300] [--repeat 3] \
        [--sample 15] [--out bench/results/pii_eval.json] [--presidio]

1. A labelled set is generated (seeded ``random.Random``; the same generator backs
   tests/python/test_redaction.py): planted values of every entity type in varied formats and
   contexts, mixed with filler prose and look-alikes that must survive untouched (versions,
   dates, ISBNs, order ids, UUIDs, hex colours, git SHAs, PowerShell parameters, ports, times,
   amounts, invalid phone numbers, SSNs and IPs, Luhn-invalid cards, bad-checksum IBANs, ...).
   A finding is a true positive only when its type AND span equal a planted value's.
2. ``redact()`` throughput (MB/s, best of --repeat) on every ``*.md`` file of
   /work/shared/datasets/powershell-docs (read as text) and on the SciFact abstracts (plain
   prose), and the number of findings per type on the PowerShell docs with a sample of each
   (a sanity check of false positives on real technical docs). Missing corpora are skipped.

The generator only needs the standard library, so other detectors can be scored on the same set:
``evaluate(detect, docs)`` takes any ``text -> [(entity_type, start, end)]``. ``--presidio`` scores
presidio-analyzer's pattern recognizers (offline, no spaCy model) the same way; presidio is not a
docvec dependency, so run that from a venv that has it (python_udfs/redaction.py says why).
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import os
import platform
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
POWERSHELL_DOCS = SHARED / "powershell-docs"
SCIFACT = SHARED / "scifact" / "corpus.jsonl"

# Types scored with the strict thresholds (>= 0.99 recall, >= 0.95 precision) in the tests.
STRUCTURED_TYPES = (
    "EMAIL",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN",
    "IP_ADDRESS",
    "AWS_ACCESS_KEY",
    "PRIVATE_KEY",
    "JWT",
    "GITHUB_TOKEN",
    "SLACK_TOKEN",
)
ALL_TYPES = STRUCTURED_TYPES[:1] + ("PHONE",) + STRUCTURED_TYPES[1:] + ("SECRET",)


@dataclass
class LabelledDoc:
    """A generated document: planted values (``spans``) and look-alikes (``lookalikes``)."""

    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (entity_type, start, end)
    lookalikes: list[tuple[str, int, int]] = field(default_factory=list)  # (category, start, end)


# ------------------------------------------------------------------------------------------
# Value generators (each returns the planted value; `rng` is a random.Random)
# ------------------------------------------------------------------------------------------
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
_ALNUM = string.ascii_letters + string.digits
_B64 = string.ascii_letters + string.digits + "+/"
_B64URL = string.ascii_letters + string.digits + "-_"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def gen_email(rng: random.Random) -> str:
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


def _nanp(rng: random.Random) -> tuple[str, str, str]:
    return str(rng.randint(2, 9)) + _digits(rng, 2), _digits(rng, 3), _digits(rng, 4)


def gen_phone(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        a, x, n = _nanp(rng)
        return rng.choice([f"({a}) {x}-{n}", f"({a}){x}-{n}"])
    if kind == 1:
        a, x, n = _nanp(rng)
        return rng.choice([f"{a}-{x}-{n}", f"{a}.{x}.{n}", f"1-{a}-{x}-{n}"])
    if kind == 2:
        a, x, n = _nanp(rng)
        return rng.choice([f"+1 {a} {x} {n}", f"+1-{a}-{x}-{n}", f"+1 ({a}) {x}-{n}", f"+1{a}{x}{n}"])
    if kind == 3:  # UK national: London, Manchester, Leeds drama ranges and mobiles
        return rng.choice(
            [f"020 7946 0{_digits(rng, 3)}", f"0161 496 0{_digits(rng, 3)}", f"0113 496 0{_digits(rng, 3)}",
             f"07{rng.choice('123459')}{_digits(rng, 2)} {_digits(rng, 6)}"]
        )  # fmt: skip
    if kind == 4:
        return rng.choice(
            [
                f"+44 20 7946 0{_digits(rng, 3)}",
                f"+44 (0)20 7946 0{_digits(rng, 3)}",
                f"+44 161 496 0{_digits(rng, 3)}",
            ]
        )
    if kind == 5:  # DE national: Berlin, Munich, Hamburg, mobiles; several separators
        area, rest = rng.choice([("030", 8), ("089", 7), ("040", 8), ("0171", 7), ("0151", 8), ("0221", 7)])
        number = str(rng.randint(2, 9)) + _digits(rng, rest - 1)
        return rng.choice([f"{area} {number}", f"({area}) {number}", f"{area}/{number}", f"{area}-{number}"])
    if kind == 6:
        area, rest = rng.choice([("30", 8), ("89", 7), ("40", 8), ("171", 7)])
        number = str(rng.randint(2, 9)) + _digits(rng, rest - 1)
        return rng.choice([f"+49 {area} {number}", f"+49 (0){area} {number}", f"+49-{area}-{number}"])
    if kind == 7:  # FR
        pairs = " ".join([str(rng.randint(1, 8)) + _digits(rng, 1)] + [_digits(rng, 2) for _ in range(3)])
        d = rng.choice("1345")
        return rng.choice([f"0{d} {pairs}", f"+33 {d} {pairs}"])
    if kind == 8:  # India mobile, Australia Sydney, Japan Tokyo
        return rng.choice(
            [f"+91 9{_digits(rng, 4)} {_digits(rng, 5)}", f"+61 2 9{_digits(rng, 3)} {_digits(rng, 4)}",
             f"+81 3-{rng.randint(1000, 9999)}-{_digits(rng, 4)}"]
        )  # fmt: skip
    if kind == 9:  # Spain mobile, Italy Rome, Netherlands Amsterdam
        return rng.choice(
            [f"+34 6{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}",
             f"+39 06 {_digits(rng, 4)} {_digits(rng, 4)}",
             f"+31 20 {rng.randint(200, 799)} {_digits(rng, 4)}"]
        )  # fmt: skip
    if kind == 10:  # Switzerland Zurich, Ireland Dublin, Sweden Stockholm
        return rng.choice(
            [f"+41 44 {rng.randint(200, 799)} {_digits(rng, 2)} {_digits(rng, 2)}",
             f"+353 1 {rng.randint(200, 899)} {_digits(rng, 4)}",
             f"+46 8 {rng.randint(100, 799)} {_digits(rng, 3)} {_digits(rng, 2)}"]
        )  # fmt: skip
    a, x, n = _nanp(rng)
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
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _card_digits(rng: random.Random, valid: bool = True) -> str:
    prefixes, lengths = rng.choice(_CARD_BRANDS)
    prefix, length = rng.choice(prefixes), rng.choice(lengths)
    payload = prefix + _digits(rng, length - len(prefix) - 1)
    check = luhn_check_digit(payload)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    return payload + check


def _group_card(rng: random.Random, digits: str) -> str:
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
    return _group_card(rng, _card_digits(rng))


def gen_ssn(rng: random.Random) -> str:
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
        out.append(_chars(rng, alphabet, int(num)))
        num = ""
    return "".join(out)


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    remainder = int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"{98 - remainder:02d}"


def _iban(rng: random.Random, valid: bool = True) -> str:
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
    return _iban(rng)


def gen_ip(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind < 6:
        while True:
            octets = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)]
            if octets[0] != 127:
                break
        ip = ".".join(map(str, octets))
        if kind == 5:
            ip += f"/{rng.randint(8, 32)}"
        return ip
    if kind == 6:
        return str(ipaddress.IPv6Address(rng.getrandbits(128)))
    if kind == 7:
        return ipaddress.IPv6Address(rng.getrandbits(128)).exploded
    if kind == 8:
        return rng.choice(
            [f"2001:db8::{rng.randint(1, 0xFFFF):x}", f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}%eth0",
             f"2001:db8:{rng.getrandbits(16):x}::/48"]
        )  # fmt: skip
    return f"::ffff:{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def gen_aws(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + _chars(rng, string.ascii_uppercase + "234567", 16)


def gen_private_key(rng: random.Random) -> str:
    label = rng.choice(["RSA ", "EC ", "OPENSSH ", "DSA ", "ENCRYPTED ", ""])
    lines = [_chars(rng, _B64, 64) for _ in range(rng.randint(2, 6))]
    lines.append(_chars(rng, _B64, rng.randint(8, 60)) + "==")
    newline = "\\n" if rng.random() < 0.2 else "\n"  # literal \n inside a JSON string
    return newline.join([f"-----BEGIN {label}PRIVATE KEY-----", *lines, f"-----END {label}PRIVATE KEY-----"])


def _b64url_json(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()


def gen_jwt(rng: random.Random) -> str:
    header = rng.choice(
        [
            {"alg": "HS256", "typ": "JWT"},
            {"alg": "RS256", "typ": "JWT", "kid": _chars(rng, _ALNUM, 8)},
            {"typ": "JWT", "alg": "ES384"},
        ]
    )
    payload = {
        "sub": _digits(rng, 10),
        "name": rng.choice(_FIRST).title(),
        "iat": rng.randint(1_500_000_000, 1_800_000_000),
    }
    return f"{_b64url_json(header)}.{_b64url_json(payload)}.{_chars(rng, _B64URL, rng.choice([43, 86]))}"


def gen_github(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"github_pat_{_chars(rng, _ALNUM, 22)}_{_chars(rng, _ALNUM, 59)}"
    return rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + _chars(rng, _ALNUM, 36)


def gen_slack(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"xoxb-{_digits(rng, 12)}-{_digits(rng, 13)}-{_chars(rng, _ALNUM, 24)}"
    if kind == 1:
        return f"xoxp-{_digits(rng, 12)}-{_digits(rng, 12)}-{_digits(rng, 13)}-{_chars(rng, '0123456789abcdef', 32)}"
    return f"{rng.choice(['xoxa', 'xoxr', 'xoxs'])}-2-{_digits(rng, 12)}-{_chars(rng, _ALNUM, 30)}"


def gen_secret_value(rng: random.Random) -> str:
    value = rng.choice(_ALNUM) + _chars(rng, _ALNUM + "!%^*_-+", rng.randint(7, 27))
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

# Contexts: "{}" is where the value goes.
_CONTEXTS: dict[str, list[str]] = {
    "EMAIL": ["Contact {} for access.", "Send the report to <{}>.", "mailto:{}", '"email": "{}",',
              "From: Jane Doe <{}>", "Reviewer: {}", "(cc {})"],
    "PHONE": ["Call {} for support.", "Phone: {}", "Tel. {} (office hours)", '"phone": "{}",', "Mobile {}; fax none.",
              "reach me at {}."],
    "CREDIT_CARD": ["Card number {} was charged.", "cc={}", '"card": "{}"', "Pay with {}, exp 12/27."],
    "US_SSN": ["SSN: {}", "Social security number {} on file.", '"ssn": "{}"'],
    "IBAN": ["IBAN {}", "Transfer to {}, BIC DEUTDEFF.", '"iban": "{}"', "Account: {}."],
    "IP_ADDRESS": ["Connect to {} over SSH.", "Client {} was blocked.", "host={}", "Allow {} in the firewall.",
                   "ping {}", "Listening on [{}]:8080"],
    "AWS_ACCESS_KEY": ["aws_access_key_id = {}", "The key {} was rotated.", "AWS_ACCESS_KEY_ID={}"],
    "PRIVATE_KEY": ["Key file:\n{}\n", '"private_key": "{}",', "{}"],
    "JWT": ["Authorization: Bearer {}", "id={}&state=ok", "Token {} expired."],
    "GITHUB_TOKEN": ["GH token {} leaked", "git clone https://{}@github.com/org/repo.git", "GITHUB_PAT {}"],
    "SLACK_TOKEN": ["slack bot {} posted", "SLACK_BOT {}", "webhook auth {}"],
    "SECRET": ["password={}", 'DB_PASSWORD="{}"', '"client_secret": "{}",', "api_key: {}\n", "token = {}",
               "export API_KEY={}", "secret: '{}'", "x-api-key: {}\n", "spring.datasource.password={}",
               "$password = '{}'", "pwd={};", "auth_token => '{}'"],
}  # fmt: skip
_IP_CONTEXT_V6_ONLY = "Listening on [{}]:8080"


def _lookalikes(rng: random.Random) -> list[tuple[str, str]]:
    """(category, text) look-alikes; every generated text must come out of redact() unchanged."""

    def d(n: int) -> str:
        return _digits(rng, n)

    y, mo, da = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    _, x, n = _nanp(rng)
    sha = _chars(rng, "0123456789abcdef", 40)
    uuid = "-".join(_chars(rng, "0123456789abcdef", k) for k in (8, 4, 4, 4, 12))
    card_bad = _group_card(rng, _card_digits(rng, valid=False))
    return [
        ("version", f"version {rng.randint(0, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}"),
        ("version", f"v{rng.randint(1, 12)}.0.{rng.randint(10000, 22631)}.{rng.randint(1, 3000)}"),
        ("version", f"Version: {rng.randint(1, 9)}.{rng.randint(0, 9)}.0.0"),
        (
            "version",
            f"ModuleVersion = '{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}'",
        ),
        (
            "version",
            f"-MinimumVersion {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1, 300)}",
        ),
        ("version", f"Microsoft.PowerShell.Utility  {rng.randint(1, 7)}.{rng.randint(0, 1)}.0.0"),
        (
            "version",
            f"version {rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(1, 9)}",
        ),
        ("oid", f"OID 1.3.6.1.4.1.{rng.randint(100, 50000)}.{rng.randint(1, 9)}"),
        (
            "section",
            f"see [\u00a7{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}]",
        ),
        ("date", f"{y}-{mo:02d}-{da:02d}"),
        ("date", f"{da:02d}/{mo:02d}/{y}"),
        ("date", f"{mo}/{da}/{y} {rng.randint(1, 12)}:{rng.randint(0, 59):02d} PM"),
        (
            "date",
            f"{y}-{mo:02d}-{da:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        ),
        (
            "isbn",
            rng.choice(["ISBN 978-3-16-148410-0", "ISBN 0-306-40615-2", f"ISBN 978-1-{d(4)}-{d(4)}-{d(1)}"]),
        ),
        ("order_id", f"ORD-{y}-{d(6)}"),
        ("order_id", f"invoice INV{d(10)}"),
        ("uuid", uuid),
        ("uuid", "{" + uuid.upper() + "}"),
        ("hex_colour", "#" + _chars(rng, "0123456789abcdef", 6)),
        ("git_sha", sha),
        ("git_sha", f"commit {sha[:7]}"),
        ("ps_parameter", f"-Port {rng.randint(1, 65535)} -Timeout {rng.randint(1, 600)}"),
        (
            "ps_parameter",
            rng.choice(
                [
                    "-Password $securePassword",
                    "-Token $token",
                    "-Credential (Get-Credential)",
                    "-ApiKey $env:NUGET_KEY",
                    "-ComputerName Server01 -Count 4",
                ]
            ),
        ),
        ("port", f"localhost:{rng.randint(1024, 65535)}"),
        ("port", f"port {rng.randint(1, 65535)}"),
        ("time", f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"),
        ("time", f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{d(3)}"),
        ("amount", f"${rng.randint(1, 999)},{d(3)}.{d(2)}"),
        ("amount", f"EUR {rng.randint(1, 999)}.{d(3)},{d(2)}"),
        ("count", f"{rng.randint(1, 999)} {d(3)} {d(3)} rows"),
        ("count", f"{rng.randint(100, 999)},{d(3)},{d(3)} bytes"),
        ("phone_invalid", f"1{d(2)}-{d(3)}-{d(4)}"),  # NANP area codes never start with 0/1
        ("phone_invalid", f"+1 1{d(2)} {d(3)} {d(4)}"),
        ("phone_invalid", f"{x}-{n}"),  # 7-digit local number: too ambiguous to take
        ("phone_invalid", f"+44 20 {d(3)}"),
        ("phone_invalid", f"00{d(2)} {d(6)}"),
        ("card_invalid", card_bad),
        ("card_invalid", _card_digits(rng, valid=False)),
        (
            "ssn_invalid",
            rng.choice(
                [
                    f"000-{d(2)}-{d(4)}",
                    f"666-{d(2)}-{d(4)}",
                    f"9{d(2)}-{d(2)}-{d(4)}",
                    f"{rng.randint(100, 665)}-00-{d(4)}",
                    f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-0000",
                ]
            ),
        ),
        ("iban_invalid", _iban(rng, valid=False)),
        (
            "ip_invalid",
            f"{rng.randint(256, 999)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
        ),
        (
            "ip_invalid",
            f"{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}.{rng.randint(1, 9)}",
        ),
        (
            "ipv6_like",
            rng.choice(
                [
                    "[System.Math]::Round(2.5)",
                    "std::vector<int>",
                    "[int]::MaxValue",
                    "[Convert]::FromBase64String($s)",
                    "[ipaddress]::Any",
                ]
            ),
        ),
        ("mac", ":".join(_chars(rng, "0123456789ABCDEF", 2) for _ in range(6))),
        (
            "aws_invalid",
            rng.choice(
                [
                    "AKIA" + _chars(rng, string.ascii_uppercase, 12),
                    "akia" + _chars(rng, "abcdefgh234567", 16),
                    "AKIA_EXAMPLE_KEY",
                ]
            ),
        ),
        (
            "jwt_invalid",
            f"{_b64url_json({'foo': 1, 'bar': 'x'})}.{_b64url_json({'sub': '1'})}.{_chars(rng, _B64URL, 20)}",
        ),
        ("jwt_invalid", "System.Management.Automation"),
        (
            "github_invalid",
            rng.choice(["ghp_" + _chars(rng, _ALNUM, 12), "ghx_" + _chars(rng, _ALNUM, 36), "gh_pages"]),
        ),
        ("slack_invalid", rng.choice(["xoxo and hugs", "xoxb-", "xoxz-" + d(12) + "-" + d(13)])),
        ("public_key", "-----BEGIN PUBLIC KEY-----\n" + _chars(rng, _B64, 64) + "\n-----END PUBLIC KEY-----"),
        (
            "public_key",
            "-----BEGIN CERTIFICATE-----\n" + _chars(rng, _B64, 64) + "\n-----END CERTIFICATE-----",
        ),
        (
            "secret_invalid",
            rng.choice(
                [
                    "$token = Get-AzAccessToken",
                    "password: <your-password>",
                    "max_tokens = 256",
                    "token_type: bearer",
                    "secretName: my-secret",
                    "Token: Specifies the token to use.",
                    "password = $null",
                    "$apiKey = $env:API_KEY",
                    "secret: true",
                    "$password = Read-Host -AsSecureString",
                    "password: ********",
                ]
            ),
        ),
        (
            "email_invalid",
            rng.choice(
                ["@{Name='Value'}", "user@localhost", "splat @params", "npm i pkg@1.2.3", "@media screen"]
            ),
        ),
    ]


_FILLER = [
    "The pipeline reads every file below the folder.",
    "Run the command again after the update finishes.",
    "This cmdlet gets the processes that are running on the local computer.",
    "Use the following parameters to filter the output.",
    "Results are written to the table in order of arrival.",
    "Each document is split into chunks before it is embedded.",
    "See the notes below for more information.",
    "The default value is shown in the table.",
    "In 2023 about 40 percent of the requests took less than 15 ms.",
    "Step 3 of 7: configure the module.",
]


def build_labelled_set(seed: int = 20240115, per_type: int = 300) -> list[LabelledDoc]:
    """Documents with `per_type` planted values of each type and ~`per_type`/5 of each look-alike."""
    rng = random.Random(seed)
    items: list[tuple[str, str, str]] = []  # (kind: "pii"/"look", type or category, context-with-value)
    for entity_type, gen in GENERATORS.items():
        for _ in range(per_type):
            value = gen(rng)
            contexts = _CONTEXTS[entity_type]
            if entity_type == "IP_ADDRESS" and (":" not in value or "/" in value):
                contexts = [c for c in contexts if c != _IP_CONTEXT_V6_ONLY]
            items.append(("pii", entity_type, rng.choice(contexts) + "\x00" + value))
    for _ in range(max(1, per_type // 5)):
        for category, text in _lookalikes(rng):
            items.append(("look", category, text))
    rng.shuffle(items)

    docs: list[LabelledDoc] = []
    i = 0
    while i < len(items):
        doc = LabelledDoc(text="")
        parts: list[str] = []
        pos = 0
        for kind, label, payload in items[i : i + rng.randint(4, 10)]:
            i += 1
            if rng.random() < 0.5:
                filler = rng.choice(_FILLER) + " "
                parts.append(filler)
                pos += len(filler)
            if kind == "pii":
                context, value = payload.split("\x00")
                before, after = context.split("{}")
                parts.append(before)
                pos += len(before)
                doc.spans.append((label, pos, pos + len(value)))
                parts.append(value + after)
                pos += len(value) + len(after)
            else:
                doc.lookalikes.append((label, pos, pos + len(payload)))
                parts.append(payload)
                pos += len(payload)
            sep = rng.choice([" ", "\n", "\n\n", " | "])
            parts.append(sep)
            pos += len(sep)
        doc.text = "".join(parts)
        docs.append(doc)
    return docs


# ------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------
@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


Detector = Callable[[str], Iterable[tuple[str, int, int]]]


def evaluate(detect: Detector, docs: list[LabelledDoc], types: Iterable[str] = ALL_TYPES) -> dict[str, Score]:
    """Per-type scores: a prediction is a true positive only when type and span both match."""
    scores = {t: Score() for t in types}
    for doc in docs:
        gold = {(t, s, e) for t, s, e in doc.spans if t in scores}
        pred = {(t, s, e) for t, s, e in detect(doc.text) if t in scores}
        for t, _, _ in gold & pred:
            scores[t].tp += 1
        for t, _, _ in pred - gold:
            scores[t].fp += 1
        for t, _, _ in gold - pred:
            scores[t].fn += 1
    return scores


def errors(detect: Detector, docs: list[LabelledDoc], limit: int = 30) -> list[str]:
    """Readable false positives and negatives (for tuning and for failing tests)."""
    out: list[str] = []
    for doc in docs:
        gold = set(doc.spans)
        pred = set(detect(doc.text))
        for t, s, e in sorted(pred - gold, key=lambda x: x[1]):
            out.append(f"FP {t}: {doc.text[s:e]!r} in {doc.text[max(0, s - 30) : e + 30]!r}")
        for t, s, e in sorted(gold - pred, key=lambda x: x[1]):
            out.append(f"FN {t}: {doc.text[s:e]!r} in {doc.text[max(0, s - 30) : e + 30]!r}")
        if len(out) >= limit:
            break
    return out[:limit]



def scores_json(scores: dict) -> dict[str, dict[str, float]]:
    """Per-type counts, precision and recall, JSON-ready (rounded to 4 places)."""
    return {
        t: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4), "recall": round(s.recall, 4)}
        for t, s in scores.items()
    }

def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def score_table(scores: dict[str, Score]) -> str:
    rows = [
        [t, s.tp + s.fn, s.tp, s.fp, s.fn, f"{s.precision:.3f}", f"{s.recall:.3f}"] for t, s in scores.items()
    ]
    return markdown_table(["entity type", "planted", "TP", "FP", "FN", "precision", "recall"], rows)


# ------------------------------------------------------------------------------------------
# Corpora
# ------------------------------------------------------------------------------------------
def load_powershell_docs(root: Path = POWERSHELL_DOCS) -> list[tuple[str, str]]:
    """(relative path, text) of every *.md file under `root`, sorted; [] when it is absent."""
    if not root.is_dir():
        return []
    return [
        (str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(root.rglob("*.md"))
    ]


def load_scifact(path: Path = SCIFACT) -> list[str]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r["title"] + "\n\n" + r["text"] for r in records]


def throughput(texts: list[str], fn: Callable[[str], object], repeat: int) -> dict[str, float]:
    """MB/s of UTF-8 input over all `texts`, best of `repeat` runs, by CPU time of this process
    (what one core does, even on a busy machine) and by wall-clock time."""
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for t in texts:
            fn(t)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {
        "mb": round(n_bytes / 1e6, 2),
        "cpu_seconds": round(best_cpu, 3),
        "wall_seconds": round(best_wall, 3),
        "mb_per_s_cpu": round(n_bytes / 1e6 / best_cpu, 2),
        "mb_per_s_wall": round(n_bytes / 1e6 / best_wall, 2),
    }


# ------------------------------------------------------------------------------------------
# presidio-analyzer, for comparison (not a docvec dependency)
# ------------------------------------------------------------------------------------------
PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
}


def presidio_detector(engine: str = "noop") -> Detector:
    """presidio-analyzer's pattern recognizers, fully offline.

    The network is switched off for the whole process (any socket connect raises), tldextract
    is given no suffix-list URL (its bundled snapshot only) and the NLP engine loads no model:
    presidio's NoOpNlpEngine (``engine="noop"``) or a blank spaCy pipeline (``"blank-spacy"``).
    Overlaps are resolved like docvec's: highest score, then longest, wins.
    """
    import socket

    def no_network(self, *args, **kwargs):
        raise RuntimeError(f"network access attempted: {args}")

    socket.socket.connect = no_network  # type: ignore[method-assign]
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class BlankSpacyEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    registry = RecognizerRegistry()
    for recognizer in (EmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(),
                       IbanRecognizer(), IpRecognizer()):  # fmt: skip
        registry.add_recognizer(recognizer)
    models = [{"lang_code": "en", "model_name": engine}]
    nlp = NoOpNlpEngine(models=models) if engine == "noop" else BlankSpacyEngine(models=models)
    nlp.load()
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])

    def detect(text: str) -> list[tuple[str, int, int]]:
        results = analyzer.analyze(text=text, language="en", entities=list(PRESIDIO_TYPES))
        results.sort(key=lambda r: (-r.score, r.start - r.end))
        kept: list = []
        for r in results:
            if all(r.end <= k.start or k.end <= r.start for k in kept):
                kept.append(r)
        return [(PRESIDIO_TYPES[r.entity_type], r.start, r.end) for r in kept]

    return detect


def _first_mb(texts: list[str], n_bytes: int = 1_000_000) -> list[str]:
    out, total = [], 0
    for t in texts:
        if total >= n_bytes:
            break
        out.append(t)
        total += len(t.encode("utf-8"))
    return out


def run_presidio(docs: list[LabelledDoc], repeat: int) -> dict[str, object]:
    """Score presidio on the labelled set (its six types) and time it on ~1 MB of each corpus."""
    report: dict[str, object] = {}
    corpora = {
        "powershell-docs (*.md)": [t for _, t in load_powershell_docs()],
        "scifact abstracts": load_scifact(),
    }
    for engine in ("noop", "blank-spacy"):
        detect = presidio_detector(engine)
        scores = evaluate(detect, docs, PRESIDIO_TYPES.values())
        print(f"\n## presidio-analyzer ({engine} NLP engine) on the same labelled set\n")
        print(score_table(scores))
        rows, speed = [], {}
        for name, texts in corpora.items():
            if texts:
                result = throughput(_first_mb(texts), detect, repeat)
                speed[name] = result
                rows.append([name, result["mb"], result["cpu_seconds"], result["mb_per_s_cpu"]])
        print()
        print(markdown_table(["corpus (first ~1 MB)", "MB", "CPU seconds", "MB/s (CPU)"], rows))
        report[engine] = {
            "scores": scores_json(scores),
            "throughput": speed,
        }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20240115)
    parser.add_argument("--per-type", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs; the best counts")
    parser.add_argument("--sample", type=int, default=15, help="findings shown per type on powershell-docs")
    parser.add_argument("--out", default="bench/results/pii_eval.json")
    parser.add_argument(
        "--presidio",
        action="store_true",
        help="also score presidio-analyzer (needs it installed, e.g. in a scratch venv: "
        "/tmp/pii-venv/bin/python -m bench.pii_eval --presidio)",
    )
    args = parser.parse_args(argv)

    from python_udfs.redaction import ENTITY_TYPES, find_pii, redact

    def detect(text: str) -> list[tuple[str, int, int]]:
        return [(f.entity_type, f.start, f.end) for f in find_pii(text)]

    docs = build_labelled_set(args.seed, args.per_type)
    scores = evaluate(detect, docs)
    n_look = sum(len(d.lookalikes) for d in docs)
    touched = sum(
        1 for d in docs for _, s, e in d.lookalikes for f in find_pii(d.text) if f.start < e and s < f.end
    )
    print(f"## Labelled set (seed {args.seed}): {len(docs)} documents, "
          f"{sum(len(d.spans) for d in docs)} planted values, "
          f"{n_look} look-alikes ({touched} touched)\n")  # fmt: skip
    print(score_table(scores))
    for line in errors(detect, docs, limit=20):
        print("  ", line)

    report: dict[str, object] = {
        "benchmark": "pii_eval",
        "command": " ".join(
            [os.path.basename(sys.executable), "-m", "bench.pii_eval", *(argv or sys.argv[1:])]
        ),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "labelled_set": {
            "seed": args.seed,
            "documents": len(docs),
            "lookalikes": n_look,
            "lookalikes_touched": touched,
            "scores": scores_json(scores),
        },
    }

    corpora = {
        "powershell-docs (*.md)": [t for _, t in load_powershell_docs()],
        "scifact abstracts": load_scifact(),
    }
    report["throughput"] = {}
    print(f"\n## Throughput of redact() (one core, best of {args.repeat})\n")
    rows = []
    for name, texts in corpora.items():
        if not texts:
            print(f"{name}: absent, skipped")
            continue
        redact(texts[0])  # warm-up (imports, phonenumbers metadata)
        result = throughput(texts, redact, args.repeat)
        rows.append(
            [
                name,
                len(texts),
                result["mb"],
                result["cpu_seconds"],
                result["mb_per_s_cpu"],
                result["mb_per_s_wall"],
            ]
        )
        report["throughput"][name] = {"documents": len(texts), **result}
    print(markdown_table(["corpus", "documents", "MB", "CPU seconds", "MB/s (CPU)", "MB/s (wall)"], rows))
    print(f"(load average at the end: {os.getloadavg()[0]:.1f}; wall-clock rates suffer on a busy machine)")

    ps_docs = load_powershell_docs()
    if ps_docs:
        counts: Counter[str] = Counter()
        samples: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
        rng = random.Random(args.seed)
        seen: dict[str, int] = Counter()
        for path, text in ps_docs:
            for f in find_pii(text):
                counts[f.entity_type] += 1
                seen[f.entity_type] += 1
                item = f"{path}: {text[f.start : f.end]!r} in {text[max(0, f.start - 40) : f.end + 20]!r}"
                bucket = samples[f.entity_type]
                if len(bucket) < args.sample:  # reservoir sample per type
                    bucket.append(item)
                elif (j := rng.randrange(seen[f.entity_type])) < args.sample:
                    bucket[j] = item
        print(f"\n## Findings on powershell-docs ({len(ps_docs)} files)\n")
        print(markdown_table(["entity type", "findings"], [[t, counts.get(t, 0)] for t in ENTITY_TYPES]))
        for t in ENTITY_TYPES:
            for item in samples[t]:
                print(f"  {t}: {item}")
        report["powershell_docs_findings"] = {t: counts.get(t, 0) for t in ENTITY_TYPES}
        report["powershell_docs_samples"] = {t: v for t, v in samples.items() if v}

    if args.presidio:
        report["presidio"] = run_presidio(docs, args.repeat)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
