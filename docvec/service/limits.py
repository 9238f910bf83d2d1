"""The bounds of a request to the service (HTTP and MCP alike): beyond them it is refused with a
clear error before any work is done, so no caller can make the service scan, embed or return
without limit."""

MAX_QUERY_CHARS = 2_000  # a question, not a document (the model reads 256 word pieces anyway)
MAX_K = 100  # results per search
MAX_BODY_BYTES = 64 * 1024  # a request body (413 beyond it)
MAX_NEIGHBOURS = 5  # chunks on each side of a fetched chunk
MAX_METADATA_FILTERS = 16
MAX_FILTER_CHARS = 512  # a path prefix, a file type, a metadata key or value
MAX_DOCUMENT_CHUNKS = 1_000  # chunks returned with a document
ID_PATTERN = r"^[0-9a-f]{32}$"  # document and chunk ids are md5 hex digests
# Request fields, headers and query parameters through which a client might try to name its own
# access groups: refused with 403, because groups come from the server's mapping only.
GROUP_FIELDS = frozenset({"groups", "access_groups", "group"})
GROUP_HEADERS = frozenset({b"x-docvec-groups", b"x-access-groups", b"x-groups"})
