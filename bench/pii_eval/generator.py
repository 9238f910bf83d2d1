"""The labelled set: planted values in context, mixed with filler prose and look-alikes.

Standard library only (the labelled set also scores presidio from a venv without docvec).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from .values import (
    ALNUM,
    B64,
    B64URL,
    GENERATORS,
    b64url_json,
    card_digits,
    chars,
    digits,
    group_card,
    iban,
    nanp,
)

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
        return digits(rng, n)

    y, mo, da = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    _, x, n = nanp(rng)
    sha = chars(rng, "0123456789abcdef", 40)
    uuid = "-".join(chars(rng, "0123456789abcdef", k) for k in (8, 4, 4, 4, 12))
    card_bad = group_card(rng, card_digits(rng, valid=False))
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
        ("hex_colour", "#" + chars(rng, "0123456789abcdef", 6)),
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
        ("card_invalid", card_digits(rng, valid=False)),
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
        ("iban_invalid", iban(rng, valid=False)),
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
        ("mac", ":".join(chars(rng, "0123456789ABCDEF", 2) for _ in range(6))),
        *_technical_lookalikes(rng),
        (
            "aws_invalid",
            rng.choice(
                [
                    "AKIA" + chars(rng, string.ascii_uppercase, 12),
                    "akia" + chars(rng, "abcdefgh234567", 16),
                    "AKIA_EXAMPLE_KEY",
                ]
            ),
        ),
        (
            "jwt_invalid",
            f"{b64url_json({'foo': 1, 'bar': 'x'})}.{b64url_json({'sub': '1'})}.{chars(rng, B64URL, 20)}",
        ),
        ("jwt_invalid", "System.Management.Automation"),
        (
            "github_invalid",
            rng.choice(["ghp_" + chars(rng, ALNUM, 12), "ghx_" + chars(rng, ALNUM, 36), "gh_pages"]),
        ),
        ("slack_invalid", rng.choice(["xoxo and hugs", "xoxb-", "xoxz-" + d(12) + "-" + d(13)])),
        ("public_key", "-----BEGIN PUBLIC KEY-----\n" + chars(rng, B64, 64) + "\n-----END PUBLIC KEY-----"),
        (
            "public_key",
            "-----BEGIN CERTIFICATE-----\n" + chars(rng, B64, 64) + "\n-----END CERTIFICATE-----",
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
            rng.choice(["@{Name='Value'}", "user@localhost", "splat @params", "npm i pkg@1.2.3", "@media screen"]),
        ),
    ]


def _technical_lookalikes(rng: random.Random) -> list[tuple[str, str]]:
    """Technical text that is no personal data (issue #13): non-public addresses, network blocks,
    slices, version lists, section numbers, code, figures, placeholder secrets, prose with "at"."""

    def n(hi: int = 9) -> int:
        return rng.randint(1, hi)

    private = rng.choice(
        [f"127.0.0.{n(254)}", f"10.{n(254)}.{n(254)}.{n(254)}", f"172.{rng.randint(16, 31)}.{n(254)}.{n(254)}",
         f"192.168.{n(254)}.{n(254)}", f"169.254.{n(254)}.{n(254)}", f"100.{rng.randint(64, 127)}.{n(254)}.{n(254)}",
         f"192.0.2.{n(254)}", f"198.51.100.{n(254)}", f"203.0.113.{n(254)}", f"224.0.0.{n(254)}"]
    )  # fmt: skip
    private_v6 = rng.choice(
        [f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}",
         f"fd{rng.getrandbits(8):02x}:{rng.getrandbits(16):x}::1",
         f"2001:db8::{rng.getrandbits(16):x}", f"ff02::{n()}", "::1"]
    )  # fmt: skip
    version = f"{n()}.{n()}.{n()}.{rng.randint(10, 99)}"
    return [
        (
            "ip_not_personal",
            rng.choice(
                [
                    f"http://{private}:8000/docs",
                    f"Connect to {private} over SSH.",
                    f"http://[{private_v6}]:8080/",
                    f"Listening on {private_v6}",
                ]
            ),
        ),  # fmt: skip
        (
            "cidr",
            rng.choice(
                [
                    f"10.{n(254)}.0.0/16",
                    f"2001:db8:{rng.getrandbits(16):x}::/64",
                    f"81.{n(254)}.0.0/16",
                    f"2a00:{rng.getrandbits(16):x}::/32",
                ]
            ),
        ),  # fmt: skip
        ("slice", rng.choice([f"ham[{n()}::{n()}]", f"spam[::{n()}]", "eggs[a::b]", "a::b"])),
        ("version_list", f"Tested on {version}, {version[:-1]}{n()} and {n()}.{n()}.{n()}"),
        (
            "section",
            rng.choice(
                [
                    f"\n{n()}.{n()}.{n()}.{n()} Polygon Metadata\n",
                    f"section {n()}.{n()}.{n()}.{n()}",
                    f"\n- [{n()}.{n()}.{n()}.{n()} Encrypted Message Types][01]\n",
                ]
            ),
        ),  # fmt: skip
        ("code_ip", rng.choice([f"`ping {_public_v4_text(rng)}`", f"\n```\nping {_public_v4_text(rng)}\n```\n"])),
        (
            "figures",
            f"Population {n(999)}.{rng.randint(100, 999)}.{rng.randint(1000, 9999)} {n(99)},{d3(rng)},{d3(rng)}",
        ),
        (
            "secret_placeholder",
            rng.choice(["'token' = 'TokenValue'", 'Password = "MyPassword"', "api_key: your_api_key\n"]),
        ),
        (
            "at_prose",
            rng.choice(
                [
                    "the release URL at www.python.org",
                    "specified at packaging.python.org, the",
                    "Take a look at python.org now.",
                ]
            ),
        ),  # fmt: skip
    ]


def d3(rng: random.Random) -> str:
    """Three random digits."""
    return digits(rng, 3)


def _public_v4_text(rng: random.Random) -> str:
    """A public IPv4 address (inside code it is an example, not personal data)."""
    return f"{rng.randint(11, 99)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


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
