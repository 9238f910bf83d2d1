"""Find and mask personal data and secrets before a document is chunked or embedded.

``find_pii(text)`` returns typed spans in `text` (never the values). ``apply_pii_mode(text, mode,
policy)`` is the PII stage of the pipeline (the ``docvec_pii`` UDF, dbt var ``pii_mode``): ``redact``
replaces every finding the policy redacts by its typed placeholder (``[EMAIL]``, ``[PHONE]``, ...)
and leaves the ones it flags, ``flag`` keeps the text, ``off`` skips the scan; the spans it returns
always index the text it returns (placeholders or values), which is what ``documents.text`` and
``pii_findings`` store. ``redact(text, policy)`` is the redact mode alone; ``masked_findings`` what
the ``no_pii_detected`` test looks for.

The policy (`PiiPolicy`, from the dbt vars ``pii_policy``, ``pii_allow_patterns`` and
``pii_allow_values`` through `parse_policy`): per entity type ``redact`` (default), ``flag`` (value
kept, finding recorded) or ``keep`` (value kept, nothing recorded); a value in the allow-list, or
matched as a whole by an allowed pattern, is kept whatever its type.

Modules: ``entities`` (types, placeholders, `Finding`), ``numbers`` (phones, cards, SSNs, IPv4,
IBANs), ``addresses`` (IPv6, e-mail, obfuscated e-mail), ``networks`` (which addresses are
personal), ``context`` (code, version/section numbering, phone wording, figures), ``tokens`` (keys
and tokens by prefix), ``assignments`` (``key = value`` secrets), ``detectors`` (`find_pii`:
triggers, non-personal addresses, overlap resolution), ``policy`` (`PiiPolicy`), ``spans``
(`redact`, `apply_pii_mode`, `PII_MODES`).

What is detected
----------------
==================  ===========================================================================
EMAIL               ``local@domain.tld`` (ASCII domain; a non-ASCII local part is kept whole);
                    obfuscated ``local [at] domain`` (also ``(at)``, ``[dot]``, ``(dot)``), and
                    ``local at domain.tld`` in ``<...>`` or after a name, ending its line or before
                    a comma (PEP headers, author tables), never in prose ("URL at www.python.org")
PHONE               international ``+CC ...`` (validated by libphonenumber, ``+1`` by NANP shape);
                    US ``(555) 123-4567`` / ``555-123-4567`` / ``555.123.4567`` (area 2-9xx);
                    national numbers with a trunk ``0`` and at least one separator
                    (``020 7946 0958``, ``030 12345678``, ``(030) 12345678``, ``01 23 45 67 89``),
                    valid for one of GB DE FR AT CH NL BE IE AU by libphonenumber, the first group
                    (3+ digits of) that region's area code (not ``07 024 000365``); NANP with dots
                    or spaces only needs phone wording before it (``Phone: 425.555.0123``); none
                    beside a statistic word or other large figures (``Population 273.879.7501``)
CREDIT_CARD         13-19 digits, one kind of separator (space or dash) in groups of 3-6, a known
                    issuer prefix and length (Visa, Mastercard, Amex, Discover, Diners, JCB,
                    UnionPay, Maestro), Luhn-checked
US_SSN              ``AAA-GG-SSSS`` (or spaces), not area 000/666/9xx, group 00, serial 0000
IBAN                upper-case, compact or in groups, exact length of its country, mod-97 checked
IP_ADDRESS          public host addresses only, see "Addresses" below: IPv4 (octets 0-255
                    without leading zeros, optional ``/prefix``) and IPv6
                    (validated by ``ipaddress``; at least two groups and one digit, optional zone
                    and prefix), and no version or section number (see below)
AWS_ACCESS_KEY      ``AKIA``/``ASIA`` + 16 upper-case letters or digits
PRIVATE_KEY         ``-----BEGIN ... PRIVATE KEY-----`` through its ``-----END ...-----`` (also with
                    literal ``\\n`` inside JSON strings); without an END line, the header plus the
                    base64/header lines that follow it
JWT                 three base64url parts whose header decodes to a JSON object with ``"alg"``
GITHUB_TOKEN        ``ghp_ gho_ ghu_ ghs_ ghr_`` + 36 or more letters/digits, ``github_pat_...``
SLACK_TOKEN         ``xoxb- xoxa- xoxp- xoxr- xoxs-`` + at least 10 of ``[A-Za-z0-9-]`` with a digit
SECRET              the VALUE of ``password=``, ``api_key:``, ``"client_secret": "..."``,
                    ``token = ...`` style assignments (the key must END in password, passwd,
                    passphrase, pwd, secret, token, api key, access key, secret key or auth key);
                    the literal of ``ConvertTo-SecureString "..." -AsPlainText``
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
* **Addresses.** Only public host addresses are personal data: loopback, private (RFC 1918),
  shared (RFC 6598), link-local (RFC 3927), documentation (RFC 5737, 3849, 9637), benchmarking,
  multicast, reserved and unspecified ranges, IPv4-mapped and 6to4 forms of those, and network
  blocks (a ``/prefix`` whose host bits are zero: ``10.88.0.0/16``, ``2001:db8:4860::/64``) are
  never reported (``networks.NOT_PERSONAL_NETWORKS``, listed explicitly: ``ipaddress``'
  ``is_private``/``is_global`` changed meaning between Python versions). Inside markdown code
  (fenced blocks, inline code spans) a dotted quad is not an address, and an IPv6 candidate needs
  three groups (``a::b``, ``ham[1::3]``); a ``[`` glued to a word before it is a subscript.
* **Version and section numbers vs IPv4.** A dotted quad is *not* reported when (a) a version
  word (``version``, ``versions``, ``ver``, ``v``, ``release``, ``build``, ``rev``, ``update``,
  ``patch``, optionally + ``is``/``of``/``number``) or a section word (``section``, ``chapter``,
  ``clause``, ``§``, ``appendix``, ``figure``, ``table``...) or a Markdown heading ``#`` ends the
  64 characters before it on its line (``Version=1.0.0.0``, ``-MinimumVersion 2.8.5.201``,
  ``section 3.1.6.2``), or a version word stands at most three words before it (``a
  **System.Version** object using the "1.2.3.4" string``); (b) it numbers a heading: small parts
  at the start of its line (after ``#``, a list marker or ``[``) and a title after it
  (``3.1.6.2 Polygon Metadata``, ``- [2.2.9.1 Encrypted Message Types]``); (c) it is one of a
  list of dotted numbers (``, ; | / and or to -``) where one has 2, 3 or 5+ parts or a ``v``, or
  after a version word (``3.3.9.44, 3.3.9.45 and 3.4``); (d) it has the shape of a version: a
  one-digit first part and a zero last part (``6.1.0.0``: the version column of ``Get-Command``
  output), or four one-digit parts with two zeros (``1.0.0.1``); (e) its first octet is 0.
* IPv6 needs two non-empty groups and a digit, so ``[Type]::Method``, ``std::vector``, times
  (``12:30:45``) and MAC addresses never match; ``::1`` and ``::`` are left alone.
* EMAIL: ``https://TOKEN@host`` is URL credentials, not an address (the token types see the
  token); in ``https://user:PASSWORD@host`` the password is a SECRET; ``$1.$2.$3@contoso.com``
  (a replacement template) is skipped.
* SECRET values that are code, not secrets, are skipped: ``$variables``, ``${VAR}``, ``%VAR%``,
  ``<placeholders>``, ``(expressions)``, dotted type names (``System.Security.SecureString``),
  ``null``/``true``/``none``..., masks such as ``****``, names standing for a value (``TokenValue``,
  ``MyPassword``: letters in two or more words, one of them password, token, key, value...);
  for a ``$variable`` key only a quoted literal counts; an unquoted value after ``:`` must end
  its line (YAML style); an unquoted value must not be a plain word (``Specifies``, ``bearer``);
  ``PublicKeyToken=`` is no secret.
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
``eyJ``, ``password=``, ``DE89 ``, ...) take about a second or less (the tests allow two). About 33 MB/s (CPU
time, one core, on a busy machine where the version before the obfuscated e-mails and the context
checks did 40) on the PowerShell docs (``python -m bench.pii_eval``).
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

from .detectors import find_pii
from .entities import ENTITY_TYPES, PLACEHOLDERS, Finding
from .networks import is_personal_ip
from .numbers import IBAN_LENGTHS, iban_ok, luhn_ok
from .policy import DEFAULT_POLICY, PII_ACTIONS, PiiPolicy, make_policy, parse_policy
from .spans import PII_MODES, apply_pii_mode, masked_findings, redact

__all__ = [
    "DEFAULT_POLICY",
    "ENTITY_TYPES",
    "IBAN_LENGTHS",
    "PII_ACTIONS",
    "PII_MODES",
    "PLACEHOLDERS",
    "Finding",
    "PiiPolicy",
    "apply_pii_mode",
    "find_pii",
    "iban_ok",
    "is_personal_ip",
    "luhn_ok",
    "make_policy",
    "masked_findings",
    "parse_policy",
    "redact",
]
