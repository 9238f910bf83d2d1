"""Hostile inputs end to end: one real `dbt build` over a landing folder of bad files next to good ones.

The module builds one temporary landing folder holding, side by side:

* control documents (Markdown, text, JSON, PDF) with known distinctive sentences;
* every string of the Big List of Naughty Strings (``tests/data/naughty-strings/blns.json``)
  as the content of its own ``.txt`` file, and as a file name (``<string>.txt``, each in its own
  numbered folder so that names never collide and each maps back to its string);
* broken encodings, empty/one-byte/at-limit/over-limit files, binary data under text extensions,
  truncated, garbage, encrypted and decompression-bomb PDFs, invalid and 10,000-deep JSON,
  malformed YAML front matter, hostile HTML, a 5 MB line without whitespace, symlinks, a mode-000
  file and an unsupported extension;

runs `dbt build` on it once (``max_file_size_bytes`` = 5,000,000, so that the 5 MB line is exactly
at the limit and a file one byte longer is over it), and checks that every file ends exactly once
in ``documents``, ``document_duplicates`` or ``quarantined_documents`` with the outcome planned
for it, that the control documents come out intact, and that every chunk of every document
round-trips its offsets and respects the model's 256-token limit.

How files are counted: every directory entry that is not a directory is a file, walked without
following links. A symlink counts as a file of its own (its own path, never its target's): the
user put it in the landing folder, so it must be accounted for like any other entry. A link to a
good file should come out as a duplicate of its target (same text), a dangling link in
quarantine as 'unreadable'. Regular files and symlinks are checked by separate tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from python_udfs.cleaning import clean_text
from python_udfs.parsing import REASONS

from conftest import DbtProject, naughty_strings
from pdf_samples import encrypt_pdf, one_page_pdf, pdf_with_stream

MAX_FILE_SIZE = 5_000_000  # the build's max_file_size_bytes
MAX_TOKENS = 256  # the model's maximum sequence length: no chunk may count more
NAME_MAX_BYTES = 255  # file-name limit of common Linux filesystems (ext4, xfs, tmpfs)

DOCUMENT = "document"
DUPLICATE = "duplicate"

# README: control characters that do not occur in text (C0 except tab, LF, VT, FF, CR; DEL; C1
# except NEL); more than 5% of them makes content binary.
_BINARY_CONTROLS = frozenset(
    [chr(c) for c in range(0x20) if chr(c) not in "\t\n\v\f\r"] + [chr(c) for c in range(0x7F, 0xA0) if c != 0x85]
)
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


# --------------------------------------------------------------------------------------------
# Building the landing folder
# --------------------------------------------------------------------------------------------


@dataclass
class Landing:
    root: Path
    # Planned outcome of every regular file: DOCUMENT, DUPLICATE or a quarantine reason.
    expected: dict[str, str] = field(default_factory=dict)
    # Exact documents.text of files planned as documents (all records of the file).
    texts: dict[str, list[str]] = field(default_factory=dict)
    # Cleaned text of files planned as duplicates (compared through text_sha256).
    duplicate_texts: dict[str, str] = field(default_factory=dict)
    # Symlinks: link path -> target path (None for a dangling link).
    symlinks: dict[str, str | None] = field(default_factory=dict)
    # The mode-000 file when this process can still read it (root); else it is left out.
    unreadable: str | None = None
    blns: list[str] = field(default_factory=list)
    blns_names_created: int = 0
    blns_names_truncated: int = 0
    blns_names_sanitised: int = 0
    blns_names_refused: list[tuple[int, str]] = field(default_factory=list)

    def add(self, relative: str, content: bytes, expected: str, texts: list[str] | None = None) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        self.expected[relative] = expected
        if texts is not None:
            self.texts[relative] = texts
        return path


def zlib_bomb_pdf(expanded_bytes: int) -> bytes:
    """A PDF whose page content inflates to ``expanded_bytes`` (mostly spaces), built in pieces."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(b"BT /F1 12 Tf 72 720 Td (zip bomb) Tj ET\n")]
    block = b" " * 1_000_000
    for _ in range(expanded_bytes // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    stream = b"".join(parts)
    return pdf_with_stream(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")


def single_line_without_whitespace(size: int) -> bytes:
    """``size`` ASCII bytes, no whitespace: one random 149-character run of letters and digits,
    repeated and joined by '-' (like a minified or base64-ish line: the tokenizer sees thousands of
    over-long words, each one [UNK]).

    The run repeats so that the line's ~1,200 chunks share a few distinct texts: the embedding
    cache then embeds a handful of texts instead of 1,200 (about 40 s on 2 cores), while the
    parser, cleaner, tokenizer and chunker still handle the full 5 MB.
    """
    run = "".join(random.Random(20240521).choices("abcdefghijklmnopqrstuvwxyz0123456789", k=149))
    return ("-".join([run] * (size // 150 + 1))).encode("ascii")[:size]


def planned_blns_outcome(text: str) -> str | None:
    """The quarantine reason planned for a naughty string as a .txt file, None for a document.

    * nothing but whitespace and zero-width characters -> empty_text;
    * over 5% of control characters (README's binary rule; blns has two all-control strings and
      "The quic\\b\\b\\b\\b\\b\\bk brown fo\\a\\a..." with 35%) -> binary_content;
    * nothing left after cleaning (control/format characters only) -> empty_text.
    """
    if all(char.isspace() or char in _ZERO_WIDTH for char in text):
        return "empty_text"
    if sum(char in _BINARY_CONTROLS for char in text) > 0.05 * len(text):
        return "binary_content"
    if not clean_text(text):
        return "empty_text"
    return None


def blns_file_name(text: str) -> tuple[str, bool, bool]:
    """``<text>.txt`` with only what Linux refuses changed: '/' and NUL, and the 255-byte limit.

    '/' becomes U+2215 DIVISION SLASH and NUL U+2400 SYMBOL FOR NULL (look-alikes, so that the
    name stays as hostile as possible); a name over 255 bytes is cut at a character boundary.
    Returns (name, sanitised, truncated).
    """
    stem = text.replace("/", "\u2215").replace("\x00", "\u2400")
    sanitised = stem != text
    truncated = False
    while len((stem + ".txt").encode("utf-8", "surrogatepass")) > NAME_MAX_BYTES:
        stem = stem[:-1]
        truncated = True
    return stem + ".txt", sanitised, truncated


def build_landing(root: Path, blns: list[str]) -> Landing:
    landing = Landing(root=root, blns=blns)
    add = landing.add
    rng = random.Random(7)

    # -- control documents: must come out intact next to everything below ---------------------
    add(
        "control/alpha.md",
        b"---\ntitle: Alpha Control\naccess_groups: [public]\n---\n"
        b"# Alpha\n\nThe heron counts seventeen silver carp at dawn.\n",
        DOCUMENT,
        ["# Alpha\n\nThe heron counts seventeen silver carp at dawn."],
    )
    add(
        "control/beta.txt",
        b"Quartz lanterns hum beside the northern greenhouse door.\n\nA second paragraph about moss.\n",
        DOCUMENT,
        ["Quartz lanterns hum beside the northern greenhouse door.\n\nA second paragraph about moss."],
    )
    add(
        "control/gamma.md",
        "# Gamma\n\n## Tides\n\nThe tide tables were printed on blue paper in 1987.\n\n"
        "## Crew\n\nMarguerite and Søren mend the nets on Thursdays.\n".encode(),
        DOCUMENT,
        [
            "# Gamma\n\n## Tides\n\nThe tide tables were printed on blue paper in 1987.\n\n"
            "## Crew\n\nMarguerite and Søren mend the nets on Thursdays."
        ],
    )
    records = [
        {"id": "r1", "title": "First", "text": "The granary ledger lists forty sacks of barley."},
        {"id": "r2", "title": "Second", "text": "Pelicans return to the estuary every March."},
    ]
    add("control/records.json", json.dumps(records).encode("utf-8"), DOCUMENT, [r["text"] for r in records])
    good_pdf = one_page_pdf(b"BT /F1 12 Tf 72 720 Td (The lighthouse PDF mentions amber signal flags.) Tj ET")
    add("control/lighthouse.pdf", good_pdf, DOCUMENT, ["The lighthouse PDF mentions amber signal flags."])

    # -- encodings -----------------------------------------------------------------------------
    add(
        "encoding/invalid_utf8_mixed.txt",
        b"Invalid UTF-8 \xff\xfe\xc3\x28 bytes inside the otter census report.\n",
        DOCUMENT,  # not UTF-8: decoded as windows-1252 (README: else charset detection)
        ["Invalid UTF-8 ÿþÃ( bytes inside the otter census report."],
    )
    add("encoding/invalid_utf8_undecodable.txt", bytes(range(0x80, 0x100)) * 4, "invalid_encoding")
    utf16 = "UTF-16 with BOM: the kingfisher nests by the mill race \u2014 naïve café ✓ 漢字"
    add("encoding/utf16_bom.txt", utf16.encode("utf-16"), DOCUMENT, [utf16])
    latin1 = "Latin-1: José Ñúñez visited São Paulo; Straße, Größe, garçon, déjà vu, Ça va, Ødegård."
    add("encoding/latin1.txt", latin1.encode("latin-1"), DOCUMENT, [latin1])

    # -- sizes (the build runs with max_file_size_bytes = MAX_FILE_SIZE) -----------------------
    add("sizes/zero_bytes.txt", b"", "empty_text")
    add("sizes/one_byte.txt", b"Q", DOCUMENT, ["Q"])
    at_limit = single_line_without_whitespace(MAX_FILE_SIZE)
    assert len(at_limit) == MAX_FILE_SIZE
    add("sizes/at_limit_single_line.txt", at_limit, DOCUMENT, [at_limit.decode("ascii")])
    add("sizes/over_limit.txt", b"y" * (MAX_FILE_SIZE + 1), "too_large")

    # -- binary content under text extensions --------------------------------------------------
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(2048)
    add("binary/image.md", png, "binary_content")
    add("binary/blob.txt", b"\x00\x01\x02" + rng.randbytes(4096), "binary_content")

    # -- PDFs ----------------------------------------------------------------------------------
    add("pdf/truncated.pdf", good_pdf[: len(good_pdf) // 2], "parse_error")
    add("pdf/garbage.pdf", b"%PDF-1.7\n" + rng.randbytes(3000), "parse_error")
    add("pdf/encrypted.pdf", encrypt_pdf(good_pdf, user_password="x"), "encrypted")
    # ~3 MB of text operators in one text run (over the 2,000,000-character page cap) in ~10 KB.
    text_bomb = one_page_pdf(b"BT /F1 12 Tf 72 720 Td\n" + (b"(" + b"A" * 80 + b") Tj\n") * 37_000 + b"ET")
    assert len(text_bomb) < 50_000
    add("pdf/bomb_page_text.pdf", text_bomb, "parse_error")
    # 100 MB of content stream in ~100 KB: over pypdf's 75 MB inflate limit.
    zip_bomb = zlib_bomb_pdf(100_000_000)
    assert len(zip_bomb) < 500_000
    add("pdf/bomb_inflate.pdf", zip_bomb, "parse_error")

    # -- JSON ----------------------------------------------------------------------------------
    add("json/invalid.json", b'{"id": 1, "text": "unterminated string', "parse_error")
    add("json/deep.json", b"[" * 10_000 + b"]" * 10_000, "parse_error")

    # -- Markdown and HTML ---------------------------------------------------------------------
    bad_front_matter = (
        '---\ntitle: "unterminated\ntags: [a, b\n: bad: : yaml\n---\n# Surviving Heading\n\n'
        "The body of this file still mentions the copper weathervane.\n"
    )
    # Fails closed: front matter that cannot be read may declare access groups (issue #14).
    add("markdown/bad_front_matter.md", bad_front_matter.encode("utf-8"), "access_unparseable")
    html = (
        '<!DOCTYPE html><html lang="en"><head><title>Hostile HTML page</title>\n'
        '<script>var leaked = "SCRIPT-ONE-MUST-NOT-APPEAR";</script>\n'
        "<style>body { color: red }</style></head>\n"
        "<body><p>The lighthouse keeper logs every passing trawler.<div><b>Bold text never closed "
        "<i>and italics never closed\n"
        '<script type="text/javascript">document.write("SCRIPT-TWO-MUST-NOT-APPEAR</p>");</script>\n'
        "<table><tr><td>cell one<td>cell two</table>\n"
        "<p>Last visible sentence mentions the foghorn schedule.\n"
        '<script>var tail = "UNCLOSED-SCRIPT-MUST-NOT-APPEAR";\n'
    )
    add("html/hostile.html", html.encode("utf-8"), DOCUMENT)

    # -- unsupported types ---------------------------------------------------------------------
    add("unsupported/data.xyz", b"plain words in a file type nobody parses", "unsupported_type")
    add("unsupported/Makefile", b"all:\n\techo no extension\n", "unsupported_type")

    # -- naughty strings: as content, and as file names ----------------------------------------
    content_groups: dict[str, list[str]] = {}
    for index, text in enumerate(blns):
        relative = f"blns/content/{index:04d}.txt"
        reason = planned_blns_outcome(text)
        add(relative, text.encode("utf-8", "surrogatepass"), reason or DOCUMENT)
        if reason is None:
            content_groups.setdefault(clean_text(text), []).append(relative)
    # Exact duplicates: the first path (the pipeline orders by source_path) is canonical.
    for cleaned, paths in content_groups.items():
        first, *others = sorted(paths)
        landing.texts[first] = [cleaned]
        for other in others:
            landing.expected[other] = DUPLICATE
            landing.duplicate_texts[other] = cleaned

    for index, text in enumerate(blns):
        name, sanitised, truncated = blns_file_name(text)
        folder = root / "blns" / "names" / f"{index:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        sentence = f"Naughty file name number {index:04d} is accounted for."
        try:
            (folder / name).write_bytes(sentence.encode("ascii"))
        except (OSError, UnicodeError, ValueError) as exc:  # the OS refuses the name
            landing.blns_names_refused.append((index, f"{type(exc).__name__}: {exc}"))
            continue
        relative = f"blns/names/{index:04d}/{name}"
        landing.expected[relative] = DOCUMENT
        landing.texts[relative] = [sentence]
        landing.blns_names_created += 1
        landing.blns_names_sanitised += sanitised
        landing.blns_names_truncated += truncated

    # -- symlinks (counted as files of their own, see the module docstring) --------------------
    links = root / "links"
    links.mkdir()
    os.symlink("../control/alpha.md", links / "good_link.md")
    landing.symlinks["links/good_link.md"] = "control/alpha.md"
    os.symlink("does-not-exist.txt", links / "dangling.txt")
    landing.symlinks["links/dangling.txt"] = None

    # -- a file nobody may read: root still can; anyone else gets EACCES ------------------------
    locked = add(
        "perms/locked.txt",
        b"The locked file describes the badger sett by the quarry.\n",
        DOCUMENT,
        ["The locked file describes the badger sett by the quarry."],
    )
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        landing.unreadable = "perms/locked.txt"
    else:  # not root: test_unreadable_file_alone checks the quarantine in a build of its own
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
        locked.unlink()
        del landing.expected["perms/locked.txt"], landing.texts["perms/locked.txt"]
    return landing


def walk_files(root: Path) -> tuple[set[str], set[str]]:
    """(regular files, symlinks) below ``root``, relative, links not followed."""
    regular: set[str] = set()
    links: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath, name)
            relative = path.relative_to(root).as_posix()
            (links if path.is_symlink() else regular).add(relative)
    return regular, links


# --------------------------------------------------------------------------------------------
# The one build
# --------------------------------------------------------------------------------------------


@dataclass
class HostileBuild:
    project: DbtProject
    landing: Landing
    returncode: int
    stdout: str
    stderr: str
    # source_path -> list of (outcome, reason, document_id, text, text_sha256, metadata, canonical_id)
    outcomes: dict[str, list[tuple]]


@pytest.fixture(scope="module")
def hostile(make_project, tmp_path_factory: pytest.TempPathFactory) -> HostileBuild:
    landing = build_landing(tmp_path_factory.mktemp("hostile_landing"), naughty_strings())
    project = make_project("hostile", source=landing.root, copy=False)
    # include_hidden: naughty names such as '..txt' start with '.' and must come out as documents
    # here; hidden files skipped by default are tested in test_confinement_build.py.
    result = project.dbt(
        "build", "--vars", f"{{max_file_size_bytes: {MAX_FILE_SIZE}, include_hidden: true}}", check=False
    )
    outcomes: dict[str, list[tuple]] = {}
    if result.returncode == 0 or project.db_path.exists():
        try:
            rows = project.query(
                """
                select source_path, 'document', null, document_id, text, text_sha256, metadata::varchar, null
                from documents
                union all
                select source_path, 'duplicate', null, document_id, null, text_sha256, null,
                    canonical_document_id
                from document_duplicates
                union all
                select source_path, 'quarantined', reason, document_id, detail, null, null, null
                from quarantined_documents
                """
            )
        except Exception:  # the build failed before the marts existed
            rows = []
        for path, *rest in rows:
            outcomes.setdefault(path, []).append(tuple(rest))
    yield HostileBuild(project, landing, result.returncode, result.stdout, result.stderr, outcomes)
    if landing.unreadable:
        (landing.root / landing.unreadable).chmod(stat.S_IRUSR | stat.S_IWUSR)


@pytest.fixture(scope="module")
def built(hostile: HostileBuild) -> HostileBuild:
    """The build, which must have succeeded: otherwise the test fails showing dbt's output."""
    if hostile.returncode != 0:
        pytest.fail(
            f"dbt build failed ({hostile.returncode}):\n{hostile.stdout[-12000:]}\n{hostile.stderr[-4000:]}",
            pytrace=False,
        )
    return hostile


def outcome_kind(rows: list[tuple]) -> str:
    """DOCUMENT, DUPLICATE or the quarantine reason of one file's rows (all rows must agree)."""
    names = {"document": DOCUMENT, "duplicate": DUPLICATE}
    kinds = {names.get(kind, reason) for kind, reason, *_ in rows}
    return kinds.pop() if len(kinds) == 1 else f"mixed: {sorted(map(str, kinds))}"


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_build_succeeds_without_tracebacks(hostile: HostileBuild) -> None:
    assert hostile.returncode == 0, f"dbt build failed:\n{hostile.stdout[-12000:]}\n{hostile.stderr[-4000:]}"
    assert "ERROR=0" in hostile.stdout  # warnings are fine: hostile files trip the warn-level tests
    for stream in (hostile.stdout, hostile.stderr):
        assert "Traceback (most recent call last)" not in stream, stream[-12000:]


def test_landing_is_what_was_planned(built: HostileBuild) -> None:
    regular, links = walk_files(built.landing.root)
    assert regular == set(built.landing.expected)
    assert links == set(built.landing.symlinks)


def test_every_regular_file_is_accounted_for_exactly_once(built: HostileBuild) -> None:
    regular, links = walk_files(built.landing.root)
    # staging is a view whose UDFs exist only inside dbt: int_documents_redacted has every staged file
    staged = {row[0] for row in built.project.query("select source_path from int_documents_redacted")}
    assert staged - links == regular, "every regular file is staged, with its exact name"
    missing = sorted(regular - set(built.outcomes))
    assert not missing, f"{len(missing)} files in no outcome table: {missing[:20]}"
    unknown = sorted(set(built.outcomes) - regular - links)
    assert not unknown, f"outcome rows for paths that are not files: {unknown[:20]}"
    # One table per file; several rows only for JSON records (one per record).
    spread = {
        path: sorted({kind for kind, *_ in rows})
        for path, rows in built.outcomes.items()
        if len({kind for kind, *_ in rows}) > 1
    }
    assert not spread, spread
    several = {path for path, rows in built.outcomes.items() if len(rows) > 1}
    assert several == {"control/records.json"}, sorted(several)


def test_each_file_has_its_planned_outcome(built: HostileBuild) -> None:
    wrong = {
        path: (expected, outcome_kind(built.outcomes.get(path, [])) if path in built.outcomes else "missing")
        for path, expected in built.landing.expected.items()
        if path not in built.outcomes or outcome_kind(built.outcomes[path]) != expected
    }
    assert not wrong, f"{len(wrong)} files with another outcome than planned (planned, got): " + repr(
        dict(sorted(wrong.items())[:40])
    )


def test_quarantine_rows_say_why(built: HostileBuild) -> None:
    for path, rows in built.outcomes.items():
        for kind, reason, _, detail, *_ in rows:
            if kind == "quarantined":
                assert reason in (*REASONS, "unreadable"), (path, reason)
                assert detail, (path, reason)


def test_documents_have_their_exact_text(built: HostileBuild) -> None:
    wrong = {}
    for path, texts in built.landing.texts.items():
        got = sorted(text for kind, _, _, text, *_ in built.outcomes.get(path, []) if kind == "document")
        if got != sorted(texts):
            wrong[path] = (texts[0][:80], got[0][:80] if got else None)
    assert not wrong, f"{len(wrong)} documents without their planned text: {dict(list(wrong.items())[:20])}"


def test_control_documents_are_intact(built: HostileBuild) -> None:
    controls = [path for path in built.landing.expected if path.startswith("control/")]
    assert len(controls) == 5
    for path in controls:
        rows = built.outcomes[path]
        assert {kind for kind, *_ in rows} == {"document"}, (path, rows)
        assert sorted(row[3] for row in rows) == sorted(built.landing.texts[path])
    # The pipeline's own view of the controls: titles and access groups survived too.
    rows = built.project.query("select title, access_groups from documents where source_path = 'control/alpha.md'")
    assert rows == [("Alpha Control", ["public"])]


def test_duplicates_point_at_a_document_with_the_same_text(built: HostileBuild) -> None:
    bad = built.project.query(
        """
        select d.source_path from document_duplicates d
        left join documents c on c.document_id = d.canonical_document_id
        where c.document_id is null or c.text_sha256 <> d.text_sha256
        """
    )
    assert bad == []
    for path, cleaned in built.landing.duplicate_texts.items():
        (row,) = built.outcomes[path]
        assert row[4] == hashlib.sha256(cleaned.encode("utf-8")).hexdigest(), path


def test_encodings_are_decoded_correctly(built: HostileBuild) -> None:
    def text_of(path: str) -> str:
        (row,) = built.outcomes[path]
        assert row[0] == "document", (path, row)
        return row[3]

    latin1 = text_of("encoding/latin1.txt")
    for word in ("José", "Ñúñez", "São", "Straße", "Größe", "garçon", "déjà", "Ça", "Ødegård"):
        assert word in latin1, (word, latin1)
    utf16 = text_of("encoding/utf16_bom.txt")
    assert "kingfisher" in utf16 and "\ufeff" not in utf16
    assert "otter census report" in text_of("encoding/invalid_utf8_mixed.txt")


def test_malformed_front_matter_is_quarantined(built: HostileBuild) -> None:
    (row,) = built.outcomes["markdown/bad_front_matter.md"]
    _, reason, _, detail, *_ = row
    assert reason == "access_unparseable" and "YAML" in detail
    assert "copper weathervane" not in detail and "unterminated" not in detail


def test_html_scripts_are_not_text(built: HostileBuild) -> None:
    (row,) = built.outcomes["html/hostile.html"]
    text = row[3]
    for visible in ("lighthouse keeper", "Bold text never closed", "italics never closed", "cell one", "foghorn"):
        assert visible in text, (visible, text)
    for hidden in ("SCRIPT-ONE", "SCRIPT-TWO", "UNCLOSED-SCRIPT", "color: red", "document.write"):
        assert hidden not in text, (hidden, text)


def test_size_limit_is_exclusive(built: HostileBuild) -> None:
    sizes = dict(
        built.project.query(
            "select source_path, size_bytes from int_documents_redacted where source_path like 'sizes/%'"
        )
    )
    assert sizes["sizes/at_limit_single_line.txt"] == MAX_FILE_SIZE
    assert sizes["sizes/over_limit.txt"] == MAX_FILE_SIZE + 1
    (row,) = built.outcomes["sizes/over_limit.txt"]
    assert row[1] == "too_large" and str(MAX_FILE_SIZE) in row[3]


def test_pdf_bombs_are_rejected_as_bombs(built: HostileBuild) -> None:
    (row,) = built.outcomes["pdf/bomb_page_text.pdf"]
    assert row[1] == "parse_error" and "decompression bomb" in row[3], row
    (row,) = built.outcomes["pdf/bomb_inflate.pdf"]
    assert row[1] == "parse_error" and "limit" in row[3].lower(), row


def test_chunks_respect_offsets_and_the_token_limit(built: HostileBuild) -> None:
    bad_offsets = built.project.query(
        """
        select c.source_path, c.chunk_index from chunks c join documents d using (document_id)
        where substring(d.text, c.start_char + 1, c.end_char - c.start_char) <> c.chunk_text
           or c.start_char < 0 or c.end_char > length(d.text) or c.start_char >= c.end_char
        """
    )
    assert bad_offsets == [], bad_offsets[:20]
    over = built.project.query(
        f"select source_path, chunk_index, n_tokens from chunks where n_tokens > {MAX_TOKENS} or n_tokens < 1"
    )
    assert over == [], over[:20]
    unchunked = built.project.query(
        """
        select d.source_path, s.strategy_id from documents d cross join chunking_strategies s
        where not exists (
            select 1 from chunks c where c.document_id = d.document_id and c.strategy_id = s.strategy_id
        )
        """
    )
    assert unchunked == [], unchunked[:20]


def test_the_5mb_line_is_chunked_end_to_end(built: HostileBuild) -> None:
    rows = built.project.query(
        """
        select strategy_id, count(*), min(start_char), max(end_char), max(n_tokens)
        from chunks where source_path = 'sizes/at_limit_single_line.txt' group by 1 order by 1
        """
    )
    assert [row[0] for row in rows] == ["markdown_sections", "recursive_256"]
    for _, n_chunks, first, last, max_tokens in rows:
        assert n_chunks > 1000  # at most 16 characters per allowed token: >= 5e6 / (254 * 16)
        assert first == 0 and last == MAX_FILE_SIZE
        assert max_tokens <= MAX_TOKENS


def test_every_serving_chunk_is_searchable(built: HostileBuild) -> None:
    missing = built.project.query(
        """
        select c.chunk_id from chunks c
        where c.strategy_id = 'recursive_256'
          and c.chunk_id not in (select chunk_id from search_index)
        """
    )
    assert missing == []


def test_unreadable_file_is_accounted_for(built: HostileBuild) -> None:
    if built.landing.unreadable is None:
        pytest.skip("this process cannot read a mode-000 file: see test_unreadable_file_alone")
    rows = built.outcomes.get(built.landing.unreadable)
    assert rows, "a mode-000 file must be a document or a quarantine row, never missing"
    assert {kind for kind, *_ in rows} <= {"document", "quarantined"}


def test_blns_strings_as_content(built: HostileBuild) -> None:
    blns = built.landing.blns
    assert len(blns) > 500, "the naughty strings are all there"
    paths = [f"blns/content/{i:04d}.txt" for i in range(len(blns))]
    kinds = [outcome_kind(built.outcomes[path]) for path in paths]
    for text, kind in zip(blns, kinds):
        if not text.strip():
            assert kind == "empty_text", (text, kind)
        else:
            assert kind in (DOCUMENT, DUPLICATE, "empty_text", "binary_content"), (text, kind)
    # Most naughty strings are text and must come out as documents or duplicates.
    assert sum(kind in (DOCUMENT, DUPLICATE) for kind in kinds) >= len(blns) - 10


def test_blns_strings_as_file_names(built: HostileBuild) -> None:
    blns = built.landing.blns
    landing = built.landing
    print(
        f"blns file names: {landing.blns_names_created} created "
        f"({landing.blns_names_sanitised} with '/' or NUL replaced, {landing.blns_names_truncated} cut to "
        f"{NAME_MAX_BYTES} bytes), {len(landing.blns_names_refused)} refused by the OS: "
        f"{landing.blns_names_refused}"
    )
    assert landing.blns_names_created + len(landing.blns_names_refused) == len(blns)
    names = [path for path in landing.expected if path.startswith("blns/names/")]
    assert len(names) == landing.blns_names_created
    assert all(outcome_kind(built.outcomes[path]) == DOCUMENT for path in names)
    # The names went through staging, search_index and document_id unchanged.
    served = {row[0] for row in built.project.query("select distinct source_path from search_index")}
    assert set(names) <= served


def test_symlink_to_a_good_file_is_accounted_for(built: HostileBuild) -> None:
    rows = built.outcomes.get("links/good_link.md")
    assert rows, "links/good_link.md is in no outcome table"
    assert len(rows) == 1 and rows[0][0] in ("document", "duplicate"), rows
    if rows[0][0] == "duplicate":
        (target,) = built.outcomes["control/alpha.md"]
        assert rows[0][6] == target[2], "the link is a duplicate of its target"


def test_dangling_symlink_is_quarantined(built: HostileBuild) -> None:
    rows = built.outcomes.get("links/dangling.txt")
    assert rows, "links/dangling.txt is in no outcome table"
    assert len(rows) == 1 and rows[0][0] == "quarantined" and rows[0][1] == "unreadable", rows


def test_unreadable_file_alone(make_project, tmp_path: Path) -> None:
    """Without root, a mode-000 file: must be quarantined while the build goes on."""
    root = tmp_path / "landing"
    root.mkdir()
    (root / "good.txt").write_text("A readable file about the walled garden.\n")
    locked = root / "locked.txt"
    locked.write_text("Nobody may read this.\n")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("this process can read mode-000 files (root): the main build covers the case")
        project = make_project("hostile_unreadable", source=root, copy=False)
        result = project.dbt("build", check=False)
        assert result.returncode == 0, result.stdout[-6000:]
        reasons = dict(project.query("select source_path, reason from quarantined_documents"))
        assert reasons.get("locked.txt") == "unreadable"
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
