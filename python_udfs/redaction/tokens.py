"""Token-shaped secrets found by their literal prefixes: AWS keys, JWTs, GitHub and Slack tokens, private keys."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

from .charsets import ALNUM, B64URL, WORD, match_end, word_at
from .entities import Candidate

_UPPER_ALNUM_RUN = re.compile(rb"[A-Z0-9]*")
_B64URL_JWT = re.compile(rb"[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*){0,3}")
_WORD_RUN = re.compile(rb"[A-Za-z0-9_]*")
_SLACK_RUN = re.compile(rb"[A-Za-z0-9\-]*")  # after "xox": the type letter, "-" and the body


def _token_hits(b: bytes, prefix: bytes, run: re.Pattern[bytes], before: frozenset[int]) -> Iterator[tuple[int, int]]:
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
        end = match_end(run, b, p + len(prefix))
        yield p, end
        pos = max(end, p + 1)


def scan_aws_keys(b: bytes, out: list[Candidate]) -> None:
    """Append AWS_ACCESS_KEY candidates: ``AKIA``/``ASIA`` + 16 upper-case letters or digits."""
    for prefix in (b"AKIA", b"ASIA"):
        for p, end in _token_hits(b, prefix, _UPPER_ALNUM_RUN, ALNUM):
            if end - p == 20 and not word_at(b, end):
                out.append((p, end, "AWS_ACCESS_KEY"))


def _b64url_json(part: bytes) -> Any:
    """The JSON value a base64url part decodes to, or None."""
    try:
        raw = base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None


def scan_jwts(b: bytes, out: list[Candidate]) -> None:
    """Append JWT candidates: three base64url parts whose header is a JSON object with ``alg``."""
    pos = 0
    while True:
        p = b.find(b"eyJ", pos)
        if p < 0:
            return
        end = match_end(_B64URL_JWT, b, p)
        pos = max(end, p + 3)
        if p > 0 and b[p - 1] in B64URL:
            continue
        parts = b[p:end].split(b".")
        if len(parts) == 4 and parts[3] == b"":  # a full stop after the token
            parts, end = parts[:3], end - 1
        if len(parts) != 3 or len(parts[0]) < 10 or len(parts[1]) < 2 or len(parts[0]) > 4096:
            continue
        header = _b64url_json(parts[0])
        if isinstance(header, dict) and "alg" in header:
            out.append((p, end, "JWT"))


_GITHUB_PREFIXES = (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_")


def scan_github_tokens(b: bytes, out: list[Candidate]) -> None:
    """Append GITHUB_TOKEN candidates (``ghp_``... + 36 or more characters, ``github_pat_``...)."""
    for prefix in _GITHUB_PREFIXES + (b"github_pat_",):
        for p, end in _token_hits(b, prefix, _WORD_RUN, WORD):
            body = b[p + len(prefix) : end]
            if prefix == b"github_pat_":
                ok = 40 <= len(body) <= 255
            else:
                ok = 36 <= len(body) <= 251 and b"_" not in body
            if ok:
                out.append((p, end, "GITHUB_TOKEN"))


def scan_slack_tokens(b: bytes, out: list[Candidate]) -> None:
    """Append SLACK_TOKEN candidates (``xoxb-``... with a digit in the body)."""
    for p, end in _token_hits(b, b"xox", _SLACK_RUN, B64URL):
        if p + 4 >= len(b) or b[p + 3] not in b"baprs" or b[p + 4] != 45:
            continue
        body = b[p + 5 : end].rstrip(b"-")
        end = p + 5 + len(body)
        if 10 <= len(body) <= 250 and any(48 <= c <= 57 for c in body) and not word_at(b, end):
            out.append((p, end, "SLACK_TOKEN"))


_KEY_HEADER = re.compile(rb"-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_FOOTER = re.compile(rb"-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_BODY = re.compile(rb"(?:(?:\r?\n|\\n)[ \t]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z][A-Za-z\-]{2,39}: [^\r\n\\]{0,200})?)*")


def scan_private_keys(b: bytes, out: list[Candidate]) -> None:
    """Append PRIVATE_KEY candidates: BEGIN through END, or the header and key lines without END."""
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
            end = match_end(_KEY_BODY, b, header.end())
            while end > header.end() and b[end - 1] in b" \t\r\n":
                end -= 1
        out.append((p, end, "PRIVATE_KEY"))
        pos = end
