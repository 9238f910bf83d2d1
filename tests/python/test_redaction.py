"""Tests for python_udfs.redaction: PII/secret detection, and the text and spans of each pii_mode.

The labelled set comes from bench/pii_eval (one generator for the tests and the benchmark):
seeded planted values of every type plus look-alikes that must survive untouched. Speed is the
benchmark's to measure (python -m bench.pii_eval); here only linear time is checked.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import signal
import string
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pii_eval import (  # noqa: E402
    ALL_TYPES,
    STRUCTURED_TYPES,
    LabelledDoc,
    build_labelled_set,
    errors,
    evaluate,
)
from python_udfs.redaction import (  # noqa: E402
    DEFAULT_POLICY,
    ENTITY_TYPES,
    PII_MODES,
    PLACEHOLDERS,
    Finding,
    PiiPolicy,
    apply_pii_mode,
    find_pii,
    iban_ok,
    luhn_ok,
    redact,
)

from conftest import naughty_strings  # noqa: E402

SEED = 20240115


def detect(text: str) -> list[tuple[str, int, int]]:
    return [(f.entity_type, f.start, f.end) for f in find_pii(text)]


def applied(text: str, mode: str, policy: PiiPolicy = DEFAULT_POLICY) -> tuple[str, list[Finding]]:
    """apply_pii_mode of a text that is not NULL (so never None)."""
    result = apply_pii_mode(text, mode, policy)
    assert result is not None
    return result


@pytest.fixture(scope="module")
def docs() -> list[LabelledDoc]:
    return build_labelled_set(seed=SEED, per_type=300)


@pytest.fixture(scope="module")
def found(docs: list[LabelledDoc]) -> list[list[Finding]]:
    """find_pii of every document: spans in the original text."""
    return [find_pii(d.text) for d in docs]


@pytest.fixture(scope="module")
def redacted(docs: list[LabelledDoc]) -> list[tuple[str, list[Finding]]]:
    """redact() of every document: the output and the placeholders' spans in it."""
    return [redact(d.text) for d in docs]


@pytest.fixture(scope="module")
def scores(docs: list[LabelledDoc]):
    return evaluate(detect, docs)


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------
def test_api_types_and_placeholders() -> None:
    assert ENTITY_TYPES == (
        "EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS", "AWS_ACCESS_KEY",
        "PRIVATE_KEY", "JWT", "GITHUB_TOKEN", "SLACK_TOKEN", "SECRET",
    )  # fmt: skip
    assert set(ALL_TYPES) == set(ENTITY_TYPES)
    assert all(PLACEHOLDERS[t] == f"[{t}]" for t in ENTITY_TYPES)
    finding = Finding("EMAIL", 0, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.start = 1  # type: ignore[misc]
    assert {f.name for f in dataclasses.fields(Finding)} == {"entity_type", "start", "end"}


def test_empty_text() -> None:
    assert find_pii("") == []
    assert redact("") == ("", [])


# --------------------------------------------------------------------------------------------
# pii_mode: the text the documents table stores and the findings' spans in THAT text
# --------------------------------------------------------------------------------------------
# Four findings of different lengths: two placeholders are shorter than their value, one
# ([IP_ADDRESS], 12 characters for 8) is longer, so later spans shift both ways.
MIXED = "Mail jane.doe@example.com, call (555) 123-4567 or ssh to 81.2.6.3; card 4111 1111 1111 1111."
MIXED_VALUES = [
    ("EMAIL", "jane.doe@example.com"),
    ("PHONE", "(555) 123-4567"),
    ("IP_ADDRESS", "81.2.6.3"),
    ("CREDIT_CARD", "4111 1111 1111 1111"),
]


def test_pii_modes() -> None:
    assert PII_MODES == ("redact", "flag", "off")


def test_redact_mode_spans_point_at_the_placeholders_in_the_output() -> None:
    out, findings = applied(MIXED, "redact")
    assert out == "Mail [EMAIL], call [PHONE] or ssh to [IP_ADDRESS]; card [CREDIT_CARD]."
    assert [(f.entity_type, f.start, f.end) for f in findings] == [
        ("EMAIL", 5, 12),
        ("PHONE", 19, 26),
        ("IP_ADDRESS", 37, 49),
        ("CREDIT_CARD", 56, 69),
    ]
    assert [out[f.start : f.end] for f in findings] == [f"[{t}]" for t, _ in MIXED_VALUES]
    assert (out, findings) == redact(MIXED)


def test_redact_mode_keeps_the_text_between_findings(docs, found, redacted) -> None:
    for doc, original, (out, placed) in zip(docs, found, redacted, strict=True):
        assert [f.entity_type for f in placed] == [f.entity_type for f in original]
        assert all(out[f.start : f.end] == PLACEHOLDERS[f.entity_type] for f in placed)
        # what lies before, between and after the findings is the same text in both
        cuts_in = [0, *(x for f in original for x in (f.start, f.end)), len(doc.text)]
        cuts_out = [0, *(x for f in placed for x in (f.start, f.end)), len(out)]
        gaps_in = [doc.text[a:b] for a, b in zip(cuts_in[::2], cuts_in[1::2], strict=True)]
        gaps_out = [out[a:b] for a, b in zip(cuts_out[::2], cuts_out[1::2], strict=True)]
        assert gaps_in == gaps_out


def test_redact_mode_without_findings_returns_the_text_itself() -> None:
    text = "Nothing personal here: version 1.2.3.4, ISBN 0-306-40615-2, 12:30:45."
    out, findings = applied(text, "redact")
    assert out is text
    assert findings == []


def test_flag_mode_keeps_the_text_and_spans_point_at_the_values() -> None:
    out, findings = applied(MIXED, "flag")
    assert out is MIXED
    assert [(f.entity_type, out[f.start : f.end]) for f in findings] == MIXED_VALUES
    assert findings == find_pii(MIXED)


def test_off_mode_reports_nothing_even_with_pii_present() -> None:
    assert find_pii(MIXED), "the text does hold personal data"
    out, findings = applied(MIXED, "off")
    assert out is MIXED
    assert findings == []


@pytest.mark.parametrize("mode", PII_MODES)
def test_every_mode_passes_null_and_empty_text(mode: str) -> None:
    assert apply_pii_mode(None, mode) is None
    assert apply_pii_mode("", mode) == ("", [])


@pytest.mark.parametrize("mode", ["REDACT", "mask", "", " flag", None])
@pytest.mark.parametrize("text", [MIXED, None], ids=["text", "null"])
def test_invalid_mode_raises_naming_the_allowed_values(mode: str | None, text: str | None) -> None:
    with pytest.raises(ValueError, match=r"pii_mode must be one of redact, flag, off, got ") as raised:
        apply_pii_mode(text, mode)
    assert repr(mode) in str(raised.value)


# --------------------------------------------------------------------------------------------
# The labelled set
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("entity_type", STRUCTURED_TYPES)
def test_precision_recall_structured(entity_type: str, scores, docs) -> None:
    s = scores[entity_type]
    assert s.tp + s.fn >= 250, "the generated set should plant enough values"
    detail = [e for e in errors(detect, docs, limit=10_000) if e.split(":")[0].endswith(entity_type)][:10]
    assert s.recall >= 0.99, (s, detail)
    assert s.precision >= 0.95, (s, detail)


@pytest.mark.parametrize("entity_type", ["PHONE", "SECRET"])
def test_precision_recall_phone_and_secret(entity_type: str, scores, docs) -> None:
    s = scores[entity_type]
    detail = [e for e in errors(detect, docs, limit=10_000) if e.split(":")[0].endswith(entity_type)][:10]
    assert s.recall >= 0.97, (s, detail)
    assert s.precision >= 0.95, (s, detail)


def test_spans_point_at_planted_values(docs, found) -> None:
    missed = []
    for doc, findings in zip(docs, found, strict=True):
        by_span = {(f.start, f.end): f.entity_type for f in findings}
        for entity_type, start, end in doc.spans:
            if by_span.get((start, end)) != entity_type:
                missed.append((entity_type, doc.text[start:end]))
    structured = [m for m in missed if m[0] in STRUCTURED_TYPES]
    assert len(structured) <= 0.01 * sum(len(d.spans) for d in docs), structured[:10]
    assert len(missed) <= 0.01 * sum(len(d.spans) for d in docs), missed[:10]


def test_planted_values_are_gone_from_the_output(docs, redacted) -> None:
    left = []
    for doc, (out, _) in zip(docs, redacted, strict=True):
        for entity_type, start, end in doc.spans:
            if doc.text[start:end] in out:
                left.append((entity_type, doc.text[start:end]))
    assert not [x for x in left if x[0] in STRUCTURED_TYPES], left[:10]
    assert len(left) <= 0.03 * sum(len(d.spans) for d in docs), left[:10]


def test_output_is_the_text_with_typed_placeholders(docs, found, redacted) -> None:
    for doc, findings, (out, _) in zip(docs, found, redacted, strict=True):
        assert all(0 <= f.start < f.end <= len(doc.text) for f in findings)
        assert all(a.end <= b.start for a, b in itertools.pairwise(findings)), "sorted and non-overlapping"
        rebuilt, pos = [], 0
        for f in findings:
            rebuilt += [doc.text[pos : f.start], PLACEHOLDERS[f.entity_type]]
            pos = f.end
        rebuilt.append(doc.text[pos:])
        assert out == "".join(rebuilt)


def test_lookalikes_survive_untouched(docs, found, redacted) -> None:
    touched = []
    for doc, findings, (out, _) in zip(docs, found, redacted, strict=True):
        for category, start, end in doc.lookalikes:
            hit = [f for f in findings if f.start < end and start < f.end]
            if hit or doc.text[start:end] not in out:
                touched.append(
                    (category, doc.text[start:end], [(f.entity_type, doc.text[f.start : f.end]) for f in hit])
                )
    assert sum(len(d.lookalikes) for d in docs) > 2500
    assert not touched, touched[:10]


def test_text_without_pii_is_returned_unchanged(docs) -> None:
    rng = random.Random(SEED)
    for doc in docs[:300]:
        parts = [doc.text[s:e] for _, s, e in doc.lookalikes]
        text = rng.choice([" ", "\n", " | ", "; "]).join(parts)
        out, findings = redact(text)
        assert findings == [], (text, findings)
        assert out is text


def test_redaction_is_idempotent(docs, redacted) -> None:
    for out, _ in redacted[:300]:
        again, findings = redact(out)
        assert again == out, findings


# --------------------------------------------------------------------------------------------
# Hand-written examples
# --------------------------------------------------------------------------------------------
POSITIVES = [
    ("Reach me at (555) 123-4567 today", "PHONE", "(555) 123-4567"),
    ("Reach me at 555-123-4567 today", "PHONE", "555-123-4567"),
    ("Reach me at 555.123.4567 today", "PHONE", "555.123.4567"),
    ("Office: +1 415 555 0132.", "PHONE", "+1 415 555 0132"),
    ("UK office 020 7946 0958 (London)", "PHONE", "020 7946 0958"),
    ("UK office +44 20 7946 0958", "PHONE", "+44 20 7946 0958"),
    ("UK office +44 (0)20 7946 0958", "PHONE", "+44 (0)20 7946 0958"),
    ("Berlin: 030 12345678", "PHONE", "030 12345678"),
    ("Berlin: (030) 12345678", "PHONE", "(030) 12345678"),
    ("Berlin: 030/12345678", "PHONE", "030/12345678"),
    ("Berlin: +49 30 12345678", "PHONE", "+49 30 12345678"),
    ("Paris: 01 42 68 53 00", "PHONE", "01 42 68 53 00"),
    ("Tokyo: +81 3-1234-5678", "PHONE", "+81 3-1234-5678"),
    ("Visa 4111 1111 1111 1111 exp 12/27", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005", "CREDIT_CARD", "3782-822463-10005"),
    ("MC 5555555555554444.", "CREDIT_CARD", "5555555555554444"),
    ("Discover 6011111111111117", "CREDIT_CARD", "6011111111111117"),
    ("JCB 3530 1113 3330 0000", "CREDIT_CARD", "3530 1113 3330 0000"),
    ("Diners 30569309025904", "CREDIT_CARD", "30569309025904"),
    ("MC 2-series 2223003122003222", "CREDIT_CARD", "2223003122003222"),
    ("SSN 078-05-1120 on file", "US_SSN", "078-05-1120"),
    ("SSN: 123 45 6789", "US_SSN", "123 45 6789"),
    ("IBAN DE89 3704 0044 0532 0130 00.", "IBAN", "DE89 3704 0044 0532 0130 00"),
    ("IBAN GB82WEST12345698765432", "IBAN", "GB82WEST12345698765432"),
    ("iban: FR14 2004 1010 0505 0001 3M02 606", "IBAN", "FR14 2004 1010 0505 0001 3M02 606"),
    ("host 81.2.69.142:8080", "IP_ADDRESS", "81.2.69.142"),
    ("eth0 81.2.69.142/24 is up", "IP_ADDRESS", "81.2.69.142/24"),
    ("Client 8.8.8.8.", "IP_ADDRESS", "8.8.8.8"),
    ("v6 2a00:1450:85a3::8a2e:370:7334 up", "IP_ADDRESS", "2a00:1450:85a3::8a2e:370:7334"),
    ("zone 2a00:1450:4001:82a::200e%eth0 up", "IP_ADDRESS", "2a00:1450:4001:82a::200e%eth0"),
    ("mapped ::ffff:81.2.69.128 here", "IP_ADDRESS", "::ffff:81.2.69.128"),
    ("url http://[2a00:1450::1]:8080/x", "IP_ADDRESS", "2a00:1450::1"),
    ("aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
    ("session ASIAY34FZKBOKMUTVV7A ok", "AWS_ACCESS_KEY", "ASIAY34FZKBOKMUTVV7A"),
    (
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c.",
        "JWT",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    (
        "GH_TOKEN ghp_16C7e42F292c6912E7710c838347Ae178B4a here",
        "GITHUB_TOKEN",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    (
        "slack xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy ok",
        "SLACK_TOKEN",
        "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    ),
    ("password=hunter2", "SECRET", "hunter2"),
    ("PASSWORD: 'correct horse'", "SECRET", "correct horse"),
    ('{"client_secret": "s3cr3t-Value_42"}', "SECRET", "s3cr3t-Value_42"),
    ("api_key: sk_live_4eC39HqLyjWDarjtT1zdp7dc\n", "SECRET", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("curl 'https://x.example/api?token=abcDEF123456&page=2'", "SECRET", "abcDEF123456"),
    ("$password = 'P@ssw0rd!'", "SECRET", "P@ssw0rd!"),
    ("git clone https://alice:S3cretPass99@git.example.com/repo.git", "SECRET", "S3cretPass99"),
    ("Mail to <Jane.Doe+news@Example.co.uk>.", "EMAIL", "Jane.Doe+news@Example.co.uk"),
    ("Grüße an müller@example.de!", "EMAIL", "müller@example.de"),
]


@pytest.mark.parametrize(("text", "entity_type", "value"), POSITIVES)
def test_positive_examples(text: str, entity_type: str, value: str) -> None:
    findings = find_pii(text)
    assert [(f.entity_type, text[f.start : f.end]) for f in findings] == [(entity_type, value)]
    out, _ = redact(text)
    assert value not in out and PLACEHOLDERS[entity_type] in out


def test_private_key_blocks() -> None:
    body = "\n".join(["MIIEowIBAAKCAQEA" + "x" * 48, "Y" * 64, "Zm9vYmFy=="])
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    text = f"key:\n{key}\nafter"
    assert redact(text)[0] == "key:\n[PRIVATE_KEY]\nafter"
    json_key = key.replace("\n", "\\n")
    assert redact(f'{{"private_key": "{json_key}"}}')[0] == '{"private_key": "[PRIVATE_KEY]"}'
    pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF" + "a" * 60 + "\n-----END PGP PRIVATE KEY BLOCK-----"
    assert redact(pgp)[0] == "[PRIVATE_KEY]"
    # Without an END line: the header and the key lines after it, nothing beyond.
    truncated = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAABG5vbmUAAAAEbm9uZQ\n\nThe rest of the page."
    )
    assert redact(truncated)[0] == "[PRIVATE_KEY]\n\nThe rest of the page."
    public = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
    assert find_pii(public) == []


NEGATIVES = [
    "Requires version 1.2.3 and v10.0.19041.1 or later; build 10.0.17763.1.",
    "version 1.2.3.4",
    "ModuleVersion = '1.0.0.0'",
    "Help Version: 5.2.0.0",
    "Install-Module -Name Foo -MinimumVersion 2.8.5.201 -Force",
    "Cmdlet          Format-Table       6.1.0.0    Microsoft.PowerShell.Utility",
    "Microsoft.PowerShell.ConsoleHost, Version=1.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35",
    "<UICultureVersion>2.15.0.10</UICultureVersion>",
    "See [§2.3.5.6] and\n#### 2.3.2.3 Preference variables",
    "OID 1.3.6.1.4.1.311.80.1",
    "d----    8/14/2020  5:56 PM    1.0.0.1",
    "Dates 2024-01-15, 15/01/2024, 01/15/2024 and 2024-01-15T10:30:00Z at 10:30:45.123",
    "ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2",
    "Order ORD-2024-000123 shipped; invoice INV0000123456",
    "GUID 123e4567-e89b-12d3-a456-426614174000 and {6F9619FF-8B86-D011-B42D-00C04FC964FF}",
    "colour #ff8800, sha 3f786850e387550fdab836ed7e6dc881de23001b",
    "Get-Process -Id 4242 -Port 8080 -Timeout 30 -Count 5",
    "Listening on localhost:8080 and port 443",
    "Price $1,234.56 or EUR 1.234.567,89; 12 345 678 rows",
    "123-456-7890 is not a valid NANP number, neither is +1 123 456 7890",
    "Call 555-1234 locally.",
    "card 4111 1111 1111 1112 and 1234567812345678 fail Luhn",
    "SSN-like 000-12-3456, 666-12-3456, 912-12-3456, 123-00-4567, 123-45-0000",
    "IBAN DE89 3704 0044 0532 0130 01 has a bad checksum",
    "[System.Math]::Round(2.5); std::vector<int>; [int]::MaxValue; 12:30:45; 00:1A:2B:3C:4D:5E",
    "AKIA1234 is too short, akiaiosfodnn7example is lower case",
    "ghp_short gh_pages xoxo xoxb-",
    "$token = Get-AzAccessToken",
    "$password = Read-Host -AsSecureString",
    "Get-Credential -UserName admin -Password $securePassword",
    "password: <your-password>",
    "Password           : System.Security.SecureString",
    "max_tokens = 256",
    "token_type: bearer",
    "secretName: my-secret",
    "Token: Specifies the token to use.",
    "password = $null",
    "secret: true",
    "splat @params with @{Name='Value'}; npm i pkg@1.2.3",
    "-replace '(\\w+) (\\w+)\\. (\\w+)', '$1.$2.$3@contoso.com'",
    "00000000   01 00 00 00 02 00 00 00 03 00 00 00",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative_examples(text: str) -> None:
    out, findings = redact(text)
    assert findings == [], [(f.entity_type, text[f.start : f.end]) for f in findings]
    assert out is text


def test_overlaps_longest_and_most_specific_wins() -> None:
    token = "ghp_" + "a1B2" * 9
    text = f"token = {token}"
    assert [(f.entity_type, text[f.start : f.end]) for f in find_pii(text)] == [("GITHUB_TOKEN", token)]
    text = f"git clone https://{token}@github.com/org/repo.git"
    assert [f.entity_type for f in find_pii(text)] == ["GITHUB_TOKEN"]
    text = "::ffff:81.2.6.3"
    assert [(f.start, f.end) for f in find_pii(text)] == [(0, len(text))]
    text = "4111-1111-1111-1111"  # not also a phone or an SSN
    assert [f.entity_type for f in find_pii(text)] == ["CREDIT_CARD"]


def test_offsets_are_character_offsets_in_non_ascii_text() -> None:
    text = "Grüße 😀 — ñandú\u00a0Tel. +49 30 12345678, E-Mail: zoë.o'brien@example.org, IP 81.2.6.3 ✓"
    found = {(f.entity_type, text[f.start : f.end]) for f in find_pii(text)}
    assert found == {
        ("PHONE", "+49 30 12345678"),
        ("EMAIL", "zoë.o'brien@example.org"),
        ("IP_ADDRESS", "81.2.6.3"),
    }
    assert redact(text)[0] == "Grüße 😀 — ñandú\u00a0Tel. [PHONE], E-Mail: [EMAIL], IP [IP_ADDRESS] ✓"


def test_checksum_helpers() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    assert not iban_ok("DE8937040044053201300")  # one character short for DE


# --------------------------------------------------------------------------------------------
# Robustness: linear time (throughput is measured by python -m bench.pii_eval, not asserted)
# --------------------------------------------------------------------------------------------
# A detector that backtracks catastrophically does not get slower by a constant: on these inputs it
# runs for minutes or hours. The guard below is a ceiling far above the linear cost (about a second
# each on 2 cores), not a speed measurement: throughput is measured by `python -m bench.pii_eval`.
HANG_SECONDS = 60


class _Hang(Exception):
    pass


def _finishes(fn, *args) -> bool:
    """True when ``fn(*args)`` returns within HANG_SECONDS of wall time (SIGALRM, main thread)."""

    def alarm(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        fn(*args)
        return True
    except _Hang:
        return False
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_no_catastrophic_backtracking() -> None:
    rng = random.Random(SEED)
    no_whitespace = "".join(rng.choices(string.ascii_letters + string.digits + string.punctuation, k=5_000_000))
    assert _finishes(find_pii, no_whitespace)
    assert _finishes(find_pii, "1234567890" * 100_000)
    # Inputs dense in triggers: every detector must stay linear.
    for unit in ("a@", "eyJhbGciOi.", "1:", "ab::", "xoxb-1", "AKIA", "ghp_", "DE89 ", "+1 (0)", "1.1.1.1.",
                 "password=", 'password="', "$password = '", "030 1 ", "-----BEGIN RSA PRIVATE KEY-----",
                 "Ab ab at cd.ef, ", " at ", "a [at] b", "```\n", "` "):  # fmt: skip
        assert _finishes(find_pii, unit * (2_000_000 // len(unit))), unit
    # Dense addresses: every one is a candidate that the context checks look around (200 KB each).
    for unit in ("81.2.3.4, ", "`81.2.3.4` ", "v1.2, 81.2.3.4, ", "section 81.2.3.4 "):
        assert _finishes(find_pii, unit * (200_000 // len(unit))), unit


def test_naughty_strings_never_crash() -> None:
    strings = naughty_strings()
    strings += ["\ud800", "a\x00b@example.com", "\u202e+1 415 555 0132", "１２３-４５-６７８９"]
    for s in strings:
        out, findings = redact(s)
        assert all(0 <= f.start < f.end <= len(s) and f.entity_type in ENTITY_TYPES for f in findings)
        assert isinstance(out, str)
        if not findings:
            assert out is s
    everything = "\n".join(strings)
    assert redact(everything)[0].count("[") >= everything.count("[")


# --------------------------------------------------------------------------------------------
# Technical text is not personal data (issue #13: false positives measured on real docs)
# --------------------------------------------------------------------------------------------
NOT_PERSONAL_ADDRESSES = [
    "127.0.0.1", "127.10.20.30", "10.1.2.3", "10.59.137.44", "172.16.5.4", "172.31.255.1", "192.168.1.45",
    "169.254.10.20", "100.64.108.37", "192.0.2.1", "198.51.100.7", "203.0.113.42", "198.18.0.1",
    "224.0.0.251", "239.255.255.250", "240.1.2.3", "255.255.255.255", "fe80::1ff:fe23:4567:890a",
    "fd12:3456:789a::1", "2001:db8::1", "2001:db8:85a3::8a2e:370:7334", "3fff:1::42", "ff02::1:3",
    "::ffff:10.1.2.3", "::ffff:192.0.2.128",
]  # fmt: skip


@pytest.mark.parametrize("address", NOT_PERSONAL_ADDRESSES)
def test_loopback_private_link_local_and_documentation_addresses_are_not_personal(address: str) -> None:
    text = f"Connect to {address} over SSH, or browse http://{address}:8000/docs."
    if ":" in address:
        text = f"Connect to {address} over SSH, or browse http://[{address}]:8000/docs."
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


@pytest.mark.parametrize(
    "text",
    [
        "The cluster network is 10.88.0.0/16 and the pod range 2001:db8:4860::/64.",
        "Routes: 81.2.0.0/16, 2a00:1450::/32 and 8.8.0.0/14.",
    ],
)
def test_cidr_network_blocks_are_not_addresses(text: str) -> None:
    assert find_pii(text) == []


def test_an_interface_address_with_a_prefix_is_still_an_address() -> None:
    text = "eth0 has 81.2.69.142/24 and 2a00:1450:4001:82a::200e/64."
    assert [text[f.start : f.end] for f in find_pii(text)] == ["81.2.69.142/24", "2a00:1450:4001:82a::200e/64"]


@pytest.mark.parametrize(
    "text",
    [
        "Open http://127.0.0.1:8000/docs in the browser (or http://localhost:8000/docs).",
        "print(ham[1::3])  # every third item",
        "Take ham[1::3], spam[::2] and eggs[a::b] of the list.",
    ],
)
def test_loopback_urls_slices_and_scopes_are_not_addresses(text: str) -> None:
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Tested on 3.3.9.44, 3.3.9.45 and 3.4.0.",
        "Supported versions: 3.3.9.44, 3.3.9.45",
        'This example creates a **System.Version** object using the "1.2.3.4" string.',
        "3.1.6.2 Polygon Metadata",
        "3.1.3.1 Point Events\ncd PointEvents",
        '"date" is renamed "validity_date" in\nsection 3.1.6.2 and at all other parts.',
        "- [2.2.9.1 Encrypted Message Types][01]",
        "See chapter 12.3.4.5 for details.",
    ],
)
def test_version_and_section_numbers_are_not_addresses(text: str) -> None:
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


@pytest.mark.parametrize(
    "text",
    [
        "Run `pip install foo==3.3.9.45` first.",
        'szOID_ENHANCED_KEY_USAGE = "2.5.29.37"\n',
        "```Output\nHop  Address\n  1  172.217.9.174\n  2  12.108.153.193\n```\n",
        "~~~\nping 81.2.69.142\n~~~",
        "```powershell\n$x = a::b\n$y = ham[1::3]\n```",
    ],
)
def test_dotted_quads_and_short_ipv6_inside_markdown_code_are_not_addresses(text: str) -> None:
    if not text.startswith("```") and not text.startswith("~~~") and "`" not in text:
        text = f"```\n{text}```"
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


def test_public_addresses_outside_code_and_full_ipv6_inside_code_are_found() -> None:
    text = (
        "The client 81.2.69.142 was blocked.\n\n```Output\n2601:600:a27f:a470:f532:6451:5630:ec8b\n```\n"
        "Back in prose: 2a00:1450:4001:82a::200e answered."
    )
    assert [(f.entity_type, text[f.start : f.end]) for f in find_pii(text)] == [
        ("IP_ADDRESS", "81.2.69.142"),
        ("IP_ADDRESS", "2601:600:a27f:a470:f532:6451:5630:ec8b"),
        ("IP_ADDRESS", "2a00:1450:4001:82a::200e"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Population 273.879.7501 83,190,5562 8,935,1123 67,413",
        "Population: 212 555 1234 inhabitants",
        "Order 425.555.0123 shipped.",
        '"{0:00} {1:000} {2:000000}" -f 7, 24, 365 gives 07 024 000365',
        "Rows 1 234 567 8901 and 2 345 678",
    ],
)
def test_large_numbers_are_not_phone_numbers(text: str) -> None:
    assert [f for f in find_pii(text) if f.entity_type == "PHONE"] == [], [
        text[f.start : f.end] for f in find_pii(text)
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Phone: 425.555.0123", "425.555.0123"),
        ("Call 425 555 0123 today", "425 555 0123"),
        ("Phoebe Cat, 425-123-6789, 6", "425-123-6789"),
        ("Téléphone : 1-800-661-2638 (Canada)", "1-800-661-2638"),
    ],
)
def test_phone_numbers_with_phone_formatting_or_wording_are_found(text: str, value: str) -> None:
    assert [(f.entity_type, text[f.start : f.end]) for f in find_pii(text)] == [("PHONE", value)]


@pytest.mark.parametrize(
    "text",
    [
        "$body = @{ 'userId' = 'UserIDValue'; 'token' = 'TokenValue' }",
        '$R.Forms[0].Password = "MyPassword"',
        "api_key: your_api_key\n",
    ],
)
def test_placeholder_secret_values_are_not_secrets(text: str) -> None:
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Author:\nBrett Cannon <brett at python.org>, Dustin Ingram <di at python.org>",
         ["brett at python.org", "di at python.org"]),
        ("Alex Gaynor alex.gaynor at gmail.com\nJeremy Hylton jeremy at alum.mit.edu, jeremy at python.org",
         ["alex.gaynor at gmail.com", "jeremy at alum.mit.edu", "jeremy at python.org"]),
        ("Write to jane.doe [at] example [dot] org or j.doe(at)example.org.",
         ["jane.doe [at] example [dot] org", "j.doe(at)example.org"]),
    ],
)  # fmt: skip
def test_obfuscated_email_addresses_are_found(text: str, values: list[str]) -> None:
    assert [(f.entity_type, text[f.start : f.end]) for f in find_pii(text)] == [("EMAIL", v) for v in values]


@pytest.mark.parametrize(
    "text",
    [
        "including the release URL at www.python.org and the files",
        "reserved for use only by standards specified at packaging.python.org, the",
        "a data file, similar in scope to pyproject.toml, at package.json.",
        "Take a look at python.org for more.",
        "The meeting is at 10.30 at noon.",
    ],
)
def test_prose_with_at_is_not_an_email_address(text: str) -> None:
    assert find_pii(text) == [], [text[f.start : f.end] for f in find_pii(text)]


# --------------------------------------------------------------------------------------------
# Per-type policy (dbt var pii_policy) and allow-lists (pii_allow_patterns, pii_allow_values)
# --------------------------------------------------------------------------------------------
def _typed(text: str, findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in findings]


def test_default_policy_redacts_every_type() -> None:
    from python_udfs.redaction import DEFAULT_POLICY, PII_ACTIONS

    assert PII_ACTIONS == ("redact", "flag", "keep")
    assert all(DEFAULT_POLICY.action(t) == "redact" for t in ENTITY_TYPES)
    assert apply_pii_mode(MIXED, "redact", DEFAULT_POLICY) == apply_pii_mode(MIXED, "redact")


def test_policy_flag_leaves_the_value_and_reports_its_span_in_the_output() -> None:
    from python_udfs.redaction import make_policy

    policy = make_policy({"IP_ADDRESS": "flag", "PHONE": "keep"})
    out, findings = applied(MIXED, "redact", policy)
    assert out == "Mail [EMAIL], call (555) 123-4567 or ssh to 81.2.6.3; card [CREDIT_CARD]."
    assert _typed(out, findings) == [
        ("EMAIL", "[EMAIL]"),
        ("IP_ADDRESS", "81.2.6.3"),
        ("CREDIT_CARD", "[CREDIT_CARD]"),
    ]


def test_policy_keep_in_flag_mode_reports_nothing_of_that_type() -> None:
    from python_udfs.redaction import make_policy

    policy = make_policy({"EMAIL": "keep", "IP_ADDRESS": "flag"})
    out, findings = applied(MIXED, "flag", policy)
    assert out is MIXED
    assert [f.entity_type for f in findings] == ["PHONE", "IP_ADDRESS", "CREDIT_CARD"]


def test_policy_where_nothing_is_redacted_returns_the_text_itself() -> None:
    from python_udfs.redaction import make_policy

    policy = make_policy(dict.fromkeys(ENTITY_TYPES, "flag"))
    out, findings = applied(MIXED, "redact", policy)
    assert out is MIXED
    assert _typed(out, findings) == MIXED_VALUES


def test_allow_values_and_patterns_are_never_masked_nor_reported() -> None:
    from python_udfs.redaction import make_policy, masked_findings

    text = "Ping 8.8.8.8 or 81.2.6.3; mail noreply@example.com or jane.doe@example.com; git@github.com:o/r.git"
    policy = make_policy(
        allow_patterns=[r"(?i)no-?reply@.+", r"81\.2\.6\.\d+"], allow_values=["8.8.8.8", "git@github.com"]
    )
    out, findings = applied(text, "redact", policy)
    assert out == "Ping 8.8.8.8 or 81.2.6.3; mail noreply@example.com or [EMAIL]; git@github.com:o/r.git"
    assert _typed(out, findings) == [("EMAIL", "[EMAIL]")]
    assert _typed(text, masked_findings(text, policy)) == [("EMAIL", "jane.doe@example.com")]
    # a pattern must match the whole value: "81\.2\.6" alone allows nothing
    assert len(masked_findings(text, make_policy(allow_patterns=[r"81\.2\.6"]))) == 5
    assert applied(text, "flag", policy)[1] == [f for f in find_pii(text) if text[f.start] == "j"]


def test_masked_findings_follow_the_policy() -> None:
    from python_udfs.redaction import make_policy, masked_findings

    assert masked_findings(MIXED) == find_pii(MIXED)
    policy = make_policy({"EMAIL": "flag", "PHONE": "keep"})
    assert [f.entity_type for f in masked_findings(MIXED, policy)] == ["IP_ADDRESS", "CREDIT_CARD"]


def test_parse_policy_reads_the_udf_json() -> None:
    from python_udfs.redaction import DEFAULT_POLICY, parse_policy

    assert parse_policy(None) is DEFAULT_POLICY
    assert parse_policy("") is DEFAULT_POLICY
    policy = parse_policy('{"actions": {"EMAIL": "flag"}, "allow_patterns": ["a+"], "allow_values": ["x"]}')
    assert policy.action("EMAIL") == "flag" and policy.action("PHONE") == "redact"
    assert policy.allows("aaa") and policy.allows("x") and not policy.allows("ab")
    assert parse_policy('{"actions": {}, "allow_patterns": [], "allow_values": []}').actions == {}


@pytest.mark.parametrize(
    ("policy_json", "message"),
    [
        ('{"actions": {"E_MAIL": "redact"}}', r"unknown entity type 'E_MAIL'; allowed: EMAIL, PHONE, .*SECRET"),
        ('{"actions": {"EMAIL": "mask"}}', r"action for EMAIL must be one of redact, flag, keep, got 'mask'"),
        ('{"actions": {"EMAIL": false}}', r"action for EMAIL must be one of redact, flag, keep, got False"),
        ('{"allow_patterns": ["("]}', r"pii_allow_patterns: '\(' is not a valid regular expression"),
        ('{"allow_values": [1]}', r"pii_allow_values: every value must be a string"),
        ('{"actions": ["EMAIL"]}', r"pii_policy must map entity types to redact \| flag \| keep"),
        ('{"policy": {}}', r"must be a JSON object with the keys actions, allow_patterns, allow_values"),
        ("{", r"not valid JSON"),
    ],
)
def test_invalid_policies_raise_naming_the_allowed_values(policy_json: str, message: str) -> None:
    from python_udfs.redaction import parse_policy

    with pytest.raises(ValueError, match=message):
        parse_policy(policy_json)


def test_the_policy_macro_names_the_same_types_and_actions() -> None:
    """macros/pii_policy_json.sql validates the dbt vars with its own copy of the two lists."""
    import re

    from python_udfs.redaction import PII_ACTIONS

    macro = (ROOT / "macros" / "pii_policy_json.sql").read_text(encoding="utf-8")
    lists = {
        name: re.findall(r"'([A-Za-z_]+)'", body)
        for name, body in re.findall(r"set (entity_types|actions) = \[([^\]]*)\]", macro)
    }
    assert tuple(lists["entity_types"]) == ENTITY_TYPES
    assert tuple(lists["actions"]) == PII_ACTIONS


def test_udfs_take_the_policy_json() -> None:
    """docvec_pii(text, mode, policy) and docvec_find_pii(text, policy) in DuckDB (no model needed)."""
    import json

    import duckdb

    from python_udfs.plugin import register_udfs

    conn = duckdb.connect()
    register_udfs(conn)
    policy = json.dumps({"actions": {"IP_ADDRESS": "flag", "PHONE": "keep"}, "allow_values": ["jane.doe@example.com"]})
    (result,) = conn.execute("select docvec_pii(?, 'redact', ?)", [MIXED, policy]).fetchall()[0]
    assert result["text"] == "Mail jane.doe@example.com, call (555) 123-4567 or ssh to 81.2.6.3; card [CREDIT_CARD]."
    assert [f["entity_type"] for f in result["findings"]] == ["IP_ADDRESS", "CREDIT_CARD"]
    (masked,) = conn.execute("select docvec_find_pii(?, ?)", [MIXED, policy]).fetchall()[0]
    assert [f["entity_type"] for f in masked] == ["CREDIT_CARD"]
    (default,) = conn.execute("select docvec_find_pii(?, null)", [MIXED]).fetchall()[0]
    assert len(default) == 4
    with pytest.raises(duckdb.Error, match="unknown entity type 'PHONES'"):
        conn.execute("select docvec_pii(?, 'redact', ?)", [MIXED, '{"actions": {"PHONES": "keep"}}']).fetchone()
