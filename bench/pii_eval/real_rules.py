"""Labelling rules of the real-text evaluation: broad probes for candidates, and a true/false rule per type.

The probes over-collect on purpose (every ``x@y.z``, ``x at y.z``, dotted quad, colon-hex token,
digit group, SSN shape and ``password = value``), so that a label exists for what the detectors
miss as well as for what they find. The rules decide from the document's structure and wording,
never by calling the detectors; every true label and every public-range address was then
reviewed by hand, and the corrections are `real_overrides.csv` (BENCHMARKS.md names the rules).

The rules, per type (a finding is personal data when it names or reaches a person):

* EMAIL: an ``local@domain.tld`` address is true (also a fictitious ``contoso.com`` one: the default
  policy masks every address; the reason says "example domain"), except URL credentials,
  replacement templates (``$1@x.com``) and package pins (``pkg@1.2``). ``local at domain.tld``
  (obfuscated) is true in ``<...>``, bracketed (``[at]``), in a PEP's header field (Author,
  Sponsor, Delegate) or in PEP 0's author table; elsewhere "at" is a preposition (false).
* IP_ADDRESS: false for loopback, private, link-local, shared, documentation, benchmarking,
  multicast and reserved ranges, for network blocks and for a dotted quad numbering something
  (a version word, "section"/"chapter"/"§" before it, a numbered heading, an OID); a public host
  address is true, in code too.
* PHONE: true with phone wording on its line or the line before (phone, tel, fax, mobile, call,
  contact, téléphone...), or an international ``+CC`` number valid for libphonenumber.
* US_SSN: true with "SSN" or "social security" on its line.
* SECRET: the value of a credential assignment is true when it is a literal (not a ``$variable``,
  ``<placeholder>``, expression, type name, keyword or a name such as ``TokenValue``).
* Other types: true when the detector's validation holds (checksums, prefixes); reviewed by hand.
"""

from __future__ import annotations

import ipaddress
import re

from .values import is_public

# --------------------------------------------------------------------------------------------
# Probes: (start, end, type) of every candidate of the broad shapes
# --------------------------------------------------------------------------------------------
_PROBES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"[^\s<>()\[\]\"'`,;:=*]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")),
    ("EMAIL", re.compile(r"(?<![\w.+-])[\w.+-]+ ?(?:\bat\b|\[at\]|\(at\)|\{at\}) ?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    ("IP_ADDRESS", re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\w]|\.\d)")),
    ("IP_ADDRESS", re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:/\d{1,3})?(?![\w:])")),
    ("PHONE", re.compile(r"(?<![\w.,/:-])\+?\(?\d[\d ().\-/]{6,18}\d(?![\w.]\d|[\w])")),
    ("US_SSN", re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")),
    (
        "SECRET",
        re.compile(
            r"(?i)\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey)[\w.-]*['\"]?[ \t]*(?:=|:)[ \t]*"
            r"(?P<q>['\"]?)(?P<value>[^\s'\"]{1,200})(?P=q)"
        ),
    ),
    ("SECRET", re.compile(r"(?i)ConvertTo-SecureString\s+(?:-String\s+)?(?P<q>['\"])(?P<value>[^'\"\n]+)(?P=q)")),
)
_PHONE_DIGITS = (9, 15)


def probe(text: str) -> list[tuple[int, int, str]]:
    """Every candidate span of the broad probes, sorted."""
    out: list[tuple[int, int, str]] = []
    for entity_type, pattern in _PROBES:
        for m in pattern.finditer(text):
            start, end = m.span("value") if entity_type == "SECRET" else m.span()
            value = text[start:end]
            if entity_type == "PHONE":
                digits = sum(c.isdigit() for c in value)
                if not _PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1] or value.count(".") == 3:
                    continue
            if entity_type == "IP_ADDRESS" and ":" in value and not _parses(value):
                continue
            out.append((start, end, entity_type))
    return sorted(set(out))


def _parses(value: str) -> bool:
    """Whether `value` is an IP address or interface as ``ipaddress`` reads it."""
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Rules: (label, reason) of one candidate
# --------------------------------------------------------------------------------------------
_EXAMPLE_DOMAINS = re.compile(
    r"(?i)(?:^|\.)(?:example\.(?:com|org|net)|[^.]+\.example|[^.]+\.test|[^.]+\.invalid|[^.]+\.local|contoso\.com|"
    r"fabrikam\.com|domain\.com|domain\.tld|emailaddress\.com)$"
)
_PEP_HEADER = re.compile(r"(?m)^(?:Author|Authors|Sponsor|PEP-Delegate|BDFL-Delegate|Delegate):?[ \t]*$")
_VERSION_WORD = re.compile(
    r"(?i)(?:version|\bver|\bv|release|\bbuild|\bupdate|revision|\bpatch|section|chapter|clause|§|\boid)[^\w\n]{0,40}$"
)
_HEADING = re.compile(r"^[ \t#>*-]*\[?$")
_PHONE_WORDS = re.compile(
    r"(?i)phone|\btel\b|t[ée]l[ée]phone|telefon|\bfax\b|t[ée]l[ée]copieur|mobile|\bcall\b|contact|hotline"
)


def _line(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The text before `start` on its line, the line before it, and the text after `end` on its line."""
    line_start = text.rfind("\n", 0, start) + 1
    prev_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    line_end = text.find("\n", end)
    return text[line_start:start], text[prev_start:line_start], text[end : len(text) if line_end < 0 else line_end]


def _email_rule(doc_id: str, text: str, start: int, end: int) -> tuple[bool, str]:
    value = text[start:end]
    before, prev_line, after = _line(text, start, end)
    if "@" in value:
        local, _, domain = value.rpartition("@")
        if before.endswith("://") or "$" in local or "{" in local:
            return False, "URL credentials or a template, not a mailbox"
        if domain.rsplit(".", 1)[-1].isdigit():
            return False, "package@version"
        if _EXAMPLE_DOMAINS.search(domain):
            return True, "e-mail address (example domain)"
        return True, "e-mail address"
    if re.search(r"\[at\]|\(at\)|\{at\}", value) or (before.endswith("<") and after.startswith(">")):
        return True, "obfuscated e-mail address (bracketed)"
    if _PEP_HEADER.search(prev_line) or _PEP_HEADER.match(before.split(" ")[0] + "\n"):
        return True, "obfuscated e-mail address in a PEP header"
    if doc_id.endswith("pep-0000.html"):
        table = text.rfind("Authors/Owners", 0, start)
        if table >= 0 and "\n\n" not in text[table:start].split("Name Email Address", 1)[-1]:
            return True, "obfuscated e-mail address in PEP 0's author table"
    return False, "prose: 'at' is a preposition"


def _ip_rule(text: str, start: int, end: int) -> tuple[bool, str]:
    value = text[start:end]
    try:
        interface = ipaddress.ip_interface(value.split("%")[0])
    except ValueError:
        return False, "not an address"
    address = interface.ip
    if (
        "/" in value
        and interface.network.network_address == address
        and interface.network.prefixlen < (interface.network.max_prefixlen)
    ):
        return False, "network block"
    mapped = getattr(address, "ipv4_mapped", None)
    if not is_public(mapped or address):
        return False, "non-public range (loopback, private, link-local, documentation, multicast...)"
    if ":" in value:
        return True, "public IPv6 address"
    if _inside_code(text, start):
        return False, "dotted quad inside markdown code (issue #13: code is not an address)"
    before, _, after = _line(text, start, end)
    if _VERSION_WORD.search(before):
        return False, "version or section number (a numbering word before it)"
    if _HEADING.match(before) and re.match(r"\.?[ \t]+[A-Z][a-z]", after):
        return False, "section number of a heading"
    if re.search(r"(?i)oid", before):
        return False, "OID"
    if re.match(r"^\s*#{1,6}\s*$", before):
        return False, "section number of a heading"
    if _COMMAND_ROW.match(before) or _under_version_header(text, start):
        return False, "version or section number (a Version column)"
    return True, "public IPv4 address"


# A row of Get-Command / Get-Module output: CommandType or ModuleType, name, version.
_COMMAND_ROW = re.compile(
    r"^(?:\S*:\d+:)?\s*(?:Cmdlet|Function|Alias|Filter|Manifest|Script|Binary|Application|Workflow)\s"
)


def _under_version_header(text: str, start: int, lines: int = 15) -> bool:
    """Whether a table header with a ``Version`` column stands in the `lines` lines above `start`."""
    above = text[: text.rfind("\n", 0, start) + 1].splitlines()[-lines:]
    return any(re.search(r"\bVersion\b", line) and not re.search(r"\d", line) for line in above)


def _inside_code(text: str, pos: int) -> bool:
    """Whether `pos` follows an odd number of fence lines, or an odd number of backticks on its line."""
    fences = len(re.findall(r"(?m)^[ \t>]*(?:```|~~~)", text[:pos]))
    line = text[text.rfind("\n", 0, pos) + 1 : pos]
    return fences % 2 == 1 or line.count("`") % 2 == 1


def _phone_rule(text: str, start: int, end: int) -> tuple[bool, str]:
    value = text[start:end]
    before, prev_line, _ = _line(text, start, end)
    if _PHONE_WORDS.search(before) or _PHONE_WORDS.search(prev_line):
        return True, "phone number (phone wording)"
    if value.startswith("+"):
        import phonenumbers

        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(value, None)):
                return True, "international phone number"
        except phonenumbers.NumberParseException:
            pass
    return False, "number without phone wording"


_NOT_LITERAL = re.compile(r"^(?:[$%{<(\[@#\\-]|(?i:null|none|true|false|nil|undefined|\*+)$)")


def _secret_rule(text: str, start: int, end: int) -> tuple[bool, str]:
    value = text[start:end].rstrip(".,;")
    key = text[max(0, start - 40) : start]
    if len(value) < 3 or _NOT_LITERAL.match(value) or value[0] == "`" or value.endswith(":"):
        return False, "variable, placeholder, escape code or keyword"
    if "(" in value or ")" in value or re.fullmatch(r"[A-Z][a-z]+-[A-Z]\w+", value):
        return False, "an expression or a command, not a literal"
    if re.search(r"(?i)publickeytoken\W*$", key):
        return False, "a .NET public key token (public by definition)"
    if value.lower() in {"password", "secret", "token", "passwd", "pwd", "apikey", "api_key"}:
        return False, "the key's own name as a placeholder value"
    if re.fullmatch(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+", value):
        return False, "type or member name"
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", value)
    named = {"password", "passwd", "pass", "pwd", "token", "secret", "key", "value", "string", "credential"}
    alpha = value.replace("_", "").replace("-", "").isalpha()
    if alpha and len(words) >= 2 and any(w.lower() in named for w in words):
        return False, "a name standing for the value (TokenValue), not a secret"
    quoted = start > 0 and text[start - 1] in "'\""
    if alpha and not quoted and len(words) == 1:
        return False, "an unquoted word: prose or an identifier"
    return True, "literal credential value"


def rule_label(doc_id: str, text: str, start: int, end: int, entity_type: str) -> tuple[bool, str]:
    """The rule's label for ``text[start:end]`` as `entity_type`, and the reason."""
    if entity_type == "EMAIL":
        return _email_rule(doc_id, text, start, end)
    if entity_type == "IP_ADDRESS":
        return _ip_rule(text, start, end)
    if entity_type == "PHONE":
        return _phone_rule(text, start, end)
    if entity_type == "US_SSN":
        before, prev_line, after = _line(text, start, end)
        if re.search(r"(?i)\bssn\b|social security", before + prev_line + after):
            return True, "SSN (SSN wording)"
        return False, "digit groups without SSN wording"
    if entity_type == "SECRET":
        return _secret_rule(text, start, end)
    return True, "validated shape (checksum or prefix)"
