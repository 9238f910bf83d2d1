"""The canary corpus of the security suite (issue #14, "Nothing leaks"): one file per attack, each
with a unique canary string, written into a landing folder plus a folder outside it; and the
detectors that look for the canaries in search results, in the tables and in the file's bytes.

Kinds of canary (what the suite asserts about it):

- OUTSIDE: a symbolic link whose real target is outside the landing folder. Never read: not
  public, in no table, quarantined as `outside_source`.
- HIDDEN: a hidden file or a well-known secret location (`.env*`, `.git/`, `.ssh/`). Never read:
  not public, in no table (excluded by default, `include_hidden: false`).
- RESTRICTED: a document that declares or implies `hr` (or is covered by nothing). It may be
  stored, but is never readable by `public`; `reason` is the quarantine reason the issue
  requires for it, where it names one (`access_unparseable`), else None (hr, the admin group or
  a quarantine are all fail-closed).
- SECRET: a planted secret in a public document: redacted (pii_mode redact), so in no table and
  never in a result.

The text of a canary document uses ordinary words plus the canary, so that BM25 and the vectors
both have something to rank.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

OUTSIDE = "outside"
HIDDEN = "hidden"
RESTRICTED = "restricted"
SECRET = "secret"
# Kinds whose markers must be in no table of the warehouse (the others may be stored, restricted).
AT_REST_KINDS = frozenset({OUTSIDE, HIDDEN, SECRET})

OUTSIDE_SOURCE = "outside_source"
ACCESS_UNPARSEABLE = "access_unparseable"

PASSWD_MARKER = "root:x:0:0"
OUTSIDE_LINK_FOLDER = "linked_outside"
# A public document every search path must return to a public caller: proves the checks can fail.
CONTROL_TOKEN = "CONTROL_PUBLIC_7f3a"
CONTROL_PATH = "public/welcome.md"
# A public document with hostile metadata keys, for the metadata filter's injection test.
ODD_KEYS_PATH = "public/odd_keys.md"
ODD_KEY = "it's; drop table documents; --"
ODD_VALUE = "v'1\"); drop table search_index; --"
# The document protected only by the hr/* rule, readable by `hr` (the positive control of access).
RULE_ONLY_TOKEN = "CANARY_RULEONLY_7f3a"

PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEAcanaryPrivateKeyBody7f3aQ2XZ8"
AWS_KEY = "AKIACANARY7F3A9Q2XZ8"  # AKIA + 16 upper-case letters or digits
DB_PASSWORD = "hunter2canary"
DOTENV_SECRET = "CANARYDOTENVVALUE7f3a"
GIT_CONFIG_SECRET = "CANARYGITCONFIG7f3a"
SSH_KEY_BODY = "MIIEpAIBAAKCAQEAcanarySshKeyBody7f3aW9"


@dataclass(frozen=True)
class Canary:
    """One attack: what a searcher would type, the strings and paths that must not leak."""

    name: str
    kind: str
    query: str
    markers: tuple[str, ...]
    paths: tuple[str, ...] = ()
    reason: str | None = None
    files: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def _doc(token: str, topic: str) -> str:
    """The body of a canary document about `topic`, holding `token`."""
    return (
        f"# {topic.capitalize()}\n\n{token} is the reference of this {topic} note. The {topic} figures for the "
        f"quarterly review are confidential and stay with the personnel team.\n"
    )


def _front(lines: str, token: str, topic: str) -> str:
    """A Markdown file: `lines` (front matter as written, fences included) then the body."""
    return lines + _doc(token, topic)


def _restricted(name: str, path: str, token: str, text: str, reason: str | None) -> Canary:
    return Canary(name, RESTRICTED, token, (token,), (path,), reason, {path: text})


def _json_record(token: str, extra: dict) -> str:
    record = {"id": token.lower(), "title": "Payroll record", "text": _doc(token, "payroll"), **extra}
    return json.dumps(record, indent=2)


def _alias_bomb() -> str:
    """A YAML billion-laughs: 9 levels of 9 aliases (9**9 strings once expanded)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def front_matter_canaries() -> list[Canary]:
    """Markdown that declares `hr` through every failure mode of front matter (folder `inbox/`,
    which no access rule covers)."""
    deep = "deep: " + "{a: " * 60 + "1" + "}" * 60 + "\n"
    cases = [
        (
            "front matter: access_groups: [hr (no bracket)",
            "no_bracket",
            "---\naccess_groups: [hr\n---\n",
            ACCESS_UNPARSEABLE,
        ),
        (
            "front matter: tab indentation",
            "tab_indent",
            "---\ntitle: Review\naccess_groups:\n\t- hr\n---\n",
            ACCESS_UNPARSEABLE,
        ),
        (
            "front matter: unclosed quote",
            "unclosed_quote",
            '---\ntitle: "Salary review\naccess_groups: [hr]\n---\n',
            ACCESS_UNPARSEABLE,
        ),
        (
            "front matter: no closing fence",
            "no_fence",
            "---\naccess_groups: [hr]\ntitle: Grievance\n\n",
            ACCESS_UNPARSEABLE,
        ),
        ("front matter after a leading blank line", "leading_blank", "\n---\naccess_groups: [hr]\n---\n", None),
        ("front matter after a leading space", "leading_space", " ---\naccess_groups: [hr]\n---\n", None),
        (
            "front matter: 60-level nested key next to access_groups: [hr]",
            "deep_nesting",
            "---\naccess_groups: [hr]\n" + deep + "---\n",
            ACCESS_UNPARSEABLE,
        ),
        (
            "front matter: YAML alias bomb next to access_groups: [hr]",
            "alias_bomb",
            "---\naccess_groups: [hr]\n" + _alias_bomb() + "---\n",
            ACCESS_UNPARSEABLE,
        ),
        ("front matter: access_groups: []", "empty_list", "---\naccess_groups: []\n---\n", ACCESS_UNPARSEABLE),
        ("front matter: access_groups: null", "null_groups", "---\naccess_groups: null\n---\n", ACCESS_UNPARSEABLE),
        (
            'front matter: access_groups: [" ", ""]',
            "blank_groups",
            '---\naccess_groups: [" ", ""]\n---\n',
            ACCESS_UNPARSEABLE,
        ),
        # A key in another letter case or a near-miss: hr (read case-insensitively) or a quarantine.
        ("front matter: Access_Groups: [hr]", "capitalised_key", "---\nAccess_Groups: [hr]\n---\n", None),
        ("front matter: access_group: hr", "singular_key", "---\naccess_group: hr\n---\n", None),
    ]
    canaries = []
    for name, stem, front, reason in cases:
        token = f"CANARY_{stem.replace('_', '').upper()}_7f3a"
        path = f"inbox/{stem}.md"
        canaries.append(_restricted(name, path, token, _front(front, token, "bonus"), reason))
    return canaries


def json_canaries() -> list[Canary]:
    """JSON records whose access_groups are empty, in another case, or an object."""
    cases = [
        ('JSON: "access_groups": []', "json_empty", {"access_groups": []}, ACCESS_UNPARSEABLE),
        ('JSON: "Access_Groups": ["hr"]', "json_capitalised", {"Access_Groups": ["hr"]}, None),
        ('JSON: "access_groups": {"a": "hr"}', "json_object", {"access_groups": {"a": "hr"}}, ACCESS_UNPARSEABLE),
    ]
    canaries = []
    for name, stem, extra, reason in cases:
        token = f"CANARY_{stem.replace('_', '').upper()}_7f3a"
        path = f"inbox/{stem}.json"
        canaries.append(_restricted(name, path, token, _json_record(token, extra), reason))
    return canaries


def path_canaries() -> list[Canary]:
    """Access by path: HR/ against the hr/* rule, a link to an hr file, a file no rule covers."""
    upper = "CANARY_UPPERHR_7f3a"
    uncovered = "CANARY_UNCOVERED_7f3a"
    return [
        _restricted(
            "HR/upper.md under the case-sensitive hr/* rule", "HR/upper.md", upper, _doc(upper, "severance"), None
        ),
        Canary(
            "hr/rule_only.md and its link archive/rule_only_link.md (dedup across access)",
            RESTRICTED,
            RULE_ONLY_TOKEN,
            (RULE_ONLY_TOKEN,),
            ("hr/rule_only.md", "archive/rule_only_link.md"),
            None,
            {"hr/rule_only.md": _doc(RULE_ONLY_TOKEN, "compensation")},
        ),
        _restricted(
            "a file no rule or front matter covers (access_mode enforce)",
            "unfiled/uncovered.md",
            uncovered,
            _doc(uncovered, "budget"),
            None,
        ),
    ]


def hidden_canaries() -> list[Canary]:
    """Hidden files and well-known secret locations with a supported extension (and .git/config)."""
    dotenv = "CANARY_DOTENV_7f3a"
    notes = "CANARY_GITNOTES_7f3a"
    ssh = "CANARY_SSHKEY_7f3a"
    key = f"# {ssh}\n-----BEGIN RSA PRIVATE KEY-----\n{SSH_KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"
    return [
        Canary(
            ".env.txt",
            HIDDEN,
            dotenv,
            (dotenv, DOTENV_SECRET),
            (".env.txt",),
            files={".env.txt": f"# {dotenv} settings\nAPI_TOKEN={DOTENV_SECRET}\n"},
        ),
        Canary(
            ".git/NOTES.md",
            HIDDEN,
            notes,
            (notes,),
            (".git/NOTES.md",),
            files={".git/NOTES.md": _doc(notes, "repository")},
        ),
        Canary(
            ".git/config (a token in a remote URL)",
            HIDDEN,
            GIT_CONFIG_SECRET,
            (GIT_CONFIG_SECRET,),
            (".git/config",),
            files={".git/config": f'[remote "origin"]\n\turl = https://bot:{GIT_CONFIG_SECRET}@example.com/x.git\n'},
        ),
        Canary(
            ".ssh/id_rsa.txt", HIDDEN, ssh, (ssh, SSH_KEY_BODY), (".ssh/id_rsa.txt",), files={".ssh/id_rsa.txt": key}
        ),
    ]


def secret_canaries() -> list[Canary]:
    """Secrets planted in one ordinary public document (redacted under pii_mode redact)."""
    path = "ops/runbook.md"
    text = (
        "---\naccess_groups: [public]\ntitle: Runbook\n---\n# Runbook\n\n"
        "The database of the sensor dashboard is reached with these settings.\n\n"
        f"DB_PASSWORD={DB_PASSWORD}\n\n"
        f"The upload job signs in with the access key {AWS_KEY} for the backups bucket.\n\n"
        "The deploy key of the dashboard:\n\n"
        f"-----BEGIN RSA PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n-----END RSA PRIVATE KEY-----\n\n"
        "Ask the operations lead before rotating any of them.\n"
    )
    return [
        Canary("planted DB_PASSWORD", SECRET, DB_PASSWORD, (DB_PASSWORD,), files={path: text}),
        Canary("planted AWS access key", SECRET, AWS_KEY, (AWS_KEY,)),
        Canary("planted private key block", SECRET, PRIVATE_KEY_BODY, (PRIVATE_KEY_BODY,)),
    ]


def hostname_text() -> str:
    """The machine's /etc/hostname (a marker only when long enough not to occur by chance)."""
    try:
        return Path("/etc/hostname").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def outside_canaries() -> list[Canary]:
    """Links out of the landing folder: the system password file, the host-name file, a folder."""
    host = hostname_text()
    token = "CANARY_OUTSIDE_7f3a"
    return [
        Canary(
            "link passwd.md -> /etc/passwd", OUTSIDE, PASSWD_MARKER, (PASSWD_MARKER,), ("passwd.md",), OUTSIDE_SOURCE
        ),
        Canary(
            "link hostname.md -> /etc/hostname",
            OUTSIDE,
            host or "hostname",
            (host,) if len(host) >= 8 else (),
            ("hostname.md",),
            OUTSIDE_SOURCE,
        ),
        Canary(
            f"link {OUTSIDE_LINK_FOLDER}/ -> a folder outside the landing folder",
            OUTSIDE,
            token,
            (token,),
            (OUTSIDE_LINK_FOLDER, f"{OUTSIDE_LINK_FOLDER}/plans.md"),
            OUTSIDE_SOURCE,
        ),
    ]


CANARIES: tuple[Canary, ...] = (
    *outside_canaries(),
    *front_matter_canaries(),
    *json_canaries(),
    *path_canaries(),
    *hidden_canaries(),
    *secret_canaries(),
)

PUBLIC_FILES = {
    CONTROL_PATH: (
        f"---\naccess_groups: [public]\ntitle: Welcome\n---\n# Welcome\n\n{CONTROL_TOKEN} welcomes visitors to "
        "the farm shop, open on Saturdays from nine until noon.\n"
    ),
    ODD_KEYS_PATH: (
        f"---\naccess_groups: [public]\n{json.dumps(ODD_KEY)}: {json.dumps(ODD_VALUE)}\n---\n# Odd keys\n\n"
        "The greenhouse thermometer is read every morning.\n"
    ),
}


def write_corpus(root: Path) -> Path:
    """The landing folder `root/landing` (every canary file, the links, the public files) and the
    folder `root/outside` that only a link reaches. Returns the landing folder."""
    landing = root / "landing"
    outside = root / "outside"
    files = dict(PUBLIC_FILES)
    for canary in CANARIES:
        files.update(canary.files)
    for relative, text in files.items():
        path = landing / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "plans.md").write_text(_doc("CANARY_OUTSIDE_7f3a", "expansion"), encoding="utf-8")
    os.symlink("/etc/passwd", landing / "passwd.md")
    os.symlink("/etc/hostname", landing / "hostname.md")
    os.symlink(outside.resolve(), landing / OUTSIDE_LINK_FOLDER, target_is_directory=True)
    (landing / "archive").mkdir(parents=True, exist_ok=True)
    os.symlink("../hr/rule_only.md", landing / "archive" / "rule_only_link.md")
    return landing


# --------------------------------------------------------------------------------------------
# Detectors: which results carry a canary, which tables or bytes hold a marker
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One result a caller got: through which path and mode, for which query."""

    path: str
    mode: str
    query: str
    chunk_id: str
    source_path: str
    chunk_text: str


def leaks(hits: Iterable[Hit], canaries: Iterable[Canary] = CANARIES) -> list[str]:
    """One message per canary, path, mode and leaked file, for the hits that carry a canary (one of
    its paths, or a marker in the text), with how many of the queries returned it."""
    found: dict[tuple[str, str, str, str, str], list[Hit]] = {}
    for hit in hits:
        for canary in canaries:
            by_path = any(hit.source_path == p or hit.source_path.startswith(p + "/") for p in canary.paths)
            markers = [m for m in canary.markers if m and m in hit.chunk_text]
            if by_path or markers:
                what = f"marker {markers[0]!r}" if markers else "its document"
                found.setdefault((canary.name, what, hit.path, hit.mode, hit.source_path), []).append(hit)
    return [
        f"[{name}] {what} reached a public caller via {path} {mode} search in {source_path} "
        f"({len({h.query for h in found_hits})} queries, e.g. {found_hits[0].query[:40]!r}): "
        f"{found_hits[0].chunk_text[:60]!r}"
        for (name, what, path, mode, source_path), found_hits in sorted(found.items())
    ]


def quoted(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def scan_tables(conn: duckdb.DuckDBPyConnection, markers: Sequence[str]) -> dict[str, list[str]]:
    """marker -> the `schema.table.column`s holding it, over every base table of the warehouse
    (information_schema: all schemas, the dbt test audit schema included; views hold nothing at
    rest). Every column is cast to VARCHAR: a BLOB keeps its ASCII bytes as they are (others
    become \\xNN escapes), so an ASCII marker in raw file bytes is found."""
    found: dict[str, list[str]] = {marker: [] for marker in markers}
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_type = 'BASE TABLE' and table_catalog = current_database() order by all"
    ).fetchall()
    for schema, table in tables:
        columns = conn.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
        pairs = [(column, marker) for (column,) in columns for marker in markers]
        if not pairs:
            continue
        counts = ", ".join(f"count_if(contains(cast({quoted(c)} as varchar), ?))" for c, _ in pairs)
        row = conn.execute(f"select {counts} from {quoted(schema)}.{quoted(table)}", [m for _, m in pairs]).fetchone()
        for (column, marker), n in zip(pairs, row, strict=True):
            if n:
                found[marker].append(f"{schema}.{table}.{column} ({n} rows)")
    return found


def warehouse_bytes(db_path: Path) -> bytes:
    """The raw bytes of the warehouse file and its write-ahead log, if any."""
    files = (db_path, db_path.with_name(db_path.name + ".wal"))
    return b"".join(path.read_bytes() for path in files if path.exists())
