"""``key = value`` secrets: the value of ``password=``, ``api_key:``, ``"client_secret": "..."``."""

from __future__ import annotations

import re

from .charsets import WORD, match_end
from .entities import Candidate

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
# A value made of words, one of which names what it stands for: TokenValue, MyPassword, your_api_key.
_WORD_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_NAMING_WORDS = frozenset(
    {"password", "passwd", "pass", "pwd", "token", "secret", "key", "value", "string", "credential", "credentials"}
)


def _named_placeholder(value: str) -> bool:
    """Whether `value` is letters (and ``_``/``-``) in two or more words, one a word like ``Password``."""
    if not value.replace("_", "").replace("-", "").isalpha():
        return False
    parts = _WORD_PARTS.findall(value)
    return len(parts) >= 2 and any(p.lower() in _NAMING_WORDS for p in parts)


# Keys that end in a keyword but hold no secret (.NET strong names: PublicKeyToken=31bf3856ad364e35).
_NOT_SECRET_KEYS = (b"publickeytoken",)


def plausible_secret(value: bytes, quoted: bool, dollar_key: bool) -> bool:
    """Whether an assigned value looks like a literal secret rather than code, a placeholder or prose."""
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
    if _named_placeholder(s):  # 'TokenValue', "MyPassword": a value that names itself
        return False
    if quoted:
        return s.count(" ") < 2
    if dollar_key:  # $password = Read-Host ...: code, not a literal
        return False
    # an unquoted plain word is prose or an identifier, not a secret
    return not (s.isalpha() and (s.islower() or s.isupper() or s.istitle()))


# Key names (DB_PASSWORD, x-api-key, spring.datasource.password), matched on the reversed text.
_IDENT_REVERSED = re.compile(rb"[a-z0-9_.\-]{0,64}")


def scan_assignments(b: bytes, out: list[Candidate]) -> None:
    """Append SECRET candidates: the values of ``password=``, ``api_key:``, ... assignments."""
    low = b.lower()
    if b"-asplaintext" in low:
        scan_plaintext_secure_strings(b, out)
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
        if ke < n and low[ke] in WORD:
            for suffix in _KEY_SUFFIXES:
                if low.startswith(suffix, ke) and (ke + len(suffix) >= n or low[ke + len(suffix)] not in WORD):
                    ke += len(suffix)
                    break
            else:
                continue
        m = _ASSIGN.match(b, ke)
        if m is None:
            continue
        ks = k - (match_end(_IDENT_REVERSED, rev, n - k) - (n - k))
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
        if plausible_secret(b[vs:ve], quoted, dollar_key):
            out.append((vs, ve, "SECRET"))


# A password given in plain text to a command: ConvertTo-SecureString "P@ssw0rd" -AsPlainText -Force.
_PLAIN_TEXT_SECURE_STRING = re.compile(
    rb"(?i)convertto-securestring[ \t]+(?:-string[ \t]+)?(?P<q>[\"'])(?P<value>[^\"'\r\n]{1,256})(?P=q)"
    rb"[^\r\n|;]{0,80}?-asplaintext"
)


def scan_plaintext_secure_strings(b: bytes, out: list[Candidate]) -> None:
    """Append SECRET candidates: the literal of ``ConvertTo-SecureString "..." -AsPlainText``."""
    for m in _PLAIN_TEXT_SECURE_STRING.finditer(b):
        if plausible_secret(m.group("value"), True, False):
            out.append((m.start("value"), m.end("value"), "SECRET"))
