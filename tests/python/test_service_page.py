"""The search page of `docvec serve` (docvec/service/static), driven in headless Chromium.

A small real publication (service_support.write_publication: real embeddings, the publisher's
own finalize) is served by the real `docvec serve` on loopback; Playwright drives the system's
Chromium (the Debian package `chromium`; no browser is downloaded) through the page as a user
would: the key, a search, the highlighted results, a document opened at its chunk, the compare
view, the API's errors. What the page shows is checked against what the API answers for the same
request, so a page that sends the wrong body or drops results fails. One chunk carries HTML and
script in its text and title: it must render as text, and no script may run. Screenshots go to
test-artifacts/. Skipped, with the reason, where no Chromium or no playwright package is installed.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import Chunk, Credentials, ServiceProcess, write_auth_config, write_publication
from test_docs_site import CHROMIUM

from conftest import PROJECT_ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium binary (install the Debian package `chromium`, or set DOCVEC_CHROMIUM): "
        "the search-page browser test is skipped",
    ),
]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
WAIT_MS = 20_000  # every browser wait is bounded by this
# The page is tested as it is deployed (with /mcp mounted) once the MCP server exists.
NO_MCP: tuple[str, ...] = () if importlib.util.find_spec("docvec.service.mcp_server") else ("--no-mcp",)

ZEBRA = "docs/wildlife/zebra.md"
GUIDE = "docs/handbook/field-guide.md"
UNSAFE = "docs/notes/unsafe.md"
HR_CANARY = "HRCANARY7731"
OKAPI_INDEX = 11
GUIDE_CHUNKS = 14
SCRIPT_TEXT = 'Quagga sighting report: <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & done.'
SCRIPT_TITLE = "<b>bold</b> quagga note"


def _guide_text(index: int) -> str:
    if index == OKAPI_INDEX:
        return "The okapi is a shy forest giraffe of the Congo, striped on its legs like no other animal."
    return (
        f"Camp logistics note {index}: pitch the tents on level ground, boil the water, label the boxes, "
        f"and count the jerrycans twice before the convoy leaves the station at dawn (list {index})."
    )


UNSAFE_CHUNK = Chunk(UNSAFE, 0, SCRIPT_TEXT, title=SCRIPT_TITLE, section="<i>section</i>", file_type="txt")
CHUNKS = [
    Chunk(
        ZEBRA,
        0,
        "Zebra herds cross the Mara river in the great migration. A ZEBRA stallion leads them; "
        "zebrafish and zebras are other words.",
        title="Zebra migration",
        section="Herds",
    ),
    Chunk(ZEBRA, 1, "The striped grazers move with the wildebeest across the savanna.", title="Zebra migration"),
    Chunk(ZEBRA, 2, "Foals are born in the wet season and walk within an hour.", title="Zebra migration"),
    Chunk("docs/kitchen/bread.md", 0, "A sourdough starter is flour and water fermented by wild yeast.", title="Bread"),
    Chunk("docs/kitchen/bread.md", 1, "Knead the dough, let it rise overnight, then bake it hot.", title="Bread"),
    *[Chunk(GUIDE, i, _guide_text(i), title="Field guide", section="Camp") for i in range(GUIDE_CHUNKS)],
    UNSAFE_CHUNK,
    Chunk("hr/salaries.md", 0, f"Zebra payroll {HR_CANARY}: salary bands of the zebra team.", groups=("hr",)),
]

# What the page shows, read from its DOM.
RESULTS_JS = """(side) => Array.from(document.querySelectorAll(`#column-${side} li.result`)).map(li => ({
    chunk_id: li.dataset.chunkId,
    rank: Number(li.dataset.rank),
    title: li.querySelector('button.open').textContent,
    path: li.querySelector('.path').textContent,
    text: li.querySelector('.chunk-text').textContent,
    marks: Array.from(li.querySelectorAll('.chunk-text mark')).map(m => m.textContent),
    other_rank: li.querySelector('.shared-badge') ? Number(li.querySelector('.shared-badge').dataset.otherRank) : null,
}))"""
DOCUMENT_JS = """() => {
    const panel = document.querySelector('#document-panel');
    const box = panel.getBoundingClientRect();
    const head = panel.querySelector('.document-head').getBoundingClientRect();
    return {
        title: document.querySelector('#document-title').textContent,
        scroll_top: panel.scrollTop,
        chunks: Array.from(panel.querySelectorAll('li.document-chunk')).map(li => {
            const b = li.getBoundingClientRect();
            return {
                chunk_id: li.dataset.chunkId,
                index: Number(li.dataset.chunkIndex),
                chosen: li.classList.contains('chosen'),
                current: li.getAttribute('aria-current'),
                text: li.querySelector('.chunk-text').textContent,
                marks: Array.from(li.querySelectorAll('mark')).map(m => m.textContent),
                visible: b.top >= head.bottom - 1 && b.bottom <= box.bottom + 1,
            };
        }),
    };
}"""
INJECTED = "main img, main script, main b, main i, aside img, aside script, aside b, aside i"  # none is the page's own
SETTLED_JS = "() => ['done', 'error'].includes(document.body.dataset.searchState)"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service_page")


@pytest.fixture(scope="module")
def credentials(folder: Path) -> Credentials:
    return write_auth_config(folder, {"viewer": ["public"], "auditor": ["public", "hr"]})


@pytest.fixture(scope="module")
def service(folder: Path, credentials: Credentials) -> Iterator[ServiceProcess]:
    """`docvec serve` started before anything is published, the publication written while it loads
    its query model (both processes load the model: side by side that takes half the time), ready
    once /readyz answers (the service picks the new publication up without a restart)."""
    serving = folder / "docvec.serving.duckdb"
    server = ServiceProcess(serving, credentials.config_path, folder / "serve.log", *NO_MCP)
    try:
        write_publication(serving, CHUNKS)
        server.wait_ready(timeout=120)
        deadline = time.monotonic() + 30
        while httpx.get(server.url + "/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, f"the publication was not picked up:\n{server.log()}"
            time.sleep(0.2)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api(service: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def browser(service: ServiceProcess):
    """The system Chromium, headless, driven by Playwright (nothing downloaded)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed: the browser test is skipped"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Traffic:
    """Every request a tab made, and the errors its scripts raised."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.page_errors: list[str] = []

    def to(self, url: str) -> list[Any]:
        return [request for request in self.requests if request.url == url]


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def page(browser, service: ServiceProcess, traffic: Traffic):
    """A fresh tab (its own sessionStorage) on the search page; a script error or a request
    outside the service fails the test."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    tab.on("request", lambda request: traffic.requests.append(request))
    tab.on("pageerror", lambda error: traffic.page_errors.append(str(error)))
    tab.goto(service.url + "/")
    tab.wait_for_function("() => document.querySelector('#strategy-a').options.length > 0", timeout=WAIT_MS)
    try:
        yield tab
        assert not traffic.page_errors, f"the page raised: {traffic.page_errors}"
        outside = [r.url for r in traffic.requests if not r.url.startswith(service.url + "/")]
        assert not outside, f"the page fetched from outside the service: {outside}"
    finally:
        context.close()


def sign_in(page, key: str) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#whoami .principal", timeout=WAIT_MS)


def search(page, query: str) -> str:
    """Type `query` and press Enter; the page's state once the answer is shown (done / error)."""
    page.evaluate("() => { document.body.dataset.searchState = 'idle'; }")
    page.fill("#query", query)
    page.press("#query", "Enter")
    page.wait_for_function(SETTLED_JS, timeout=WAIT_MS)
    return str(page.evaluate("() => document.body.dataset.searchState"))


def api_search(api: httpx.Client, key: str, query: str, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/search", headers={"Authorization": f"Bearer {key}"}, json={"query": query, **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def chunk_ids(answer: dict[str, Any]) -> list[str]:
    return [hit["chunk_id"] for hit in answer["results"]]


def screenshot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    print(f"\nscreenshot: {path}")


def test_key_shows_principal_groups_and_the_publication(
    page, traffic: Traffic, api: httpx.Client, credentials: Credentials, service: ServiceProcess
) -> None:
    ready = api.get("/readyz").json()
    assert f"v{ready['version']}" in page.inner_text("#publication")
    for select in ("#strategy-a", "#strategy-b"):
        assert page.eval_on_selector(select, "s => Array.from(s.options).map(o => o.value)") == ready["strategies"]
    assert page.eval_on_selector("#model-a", "s => Array.from(s.options).map(o => o.value)") == ready["models"]
    assert page.input_value("#mode-a") == "hybrid" and page.input_value("#mode-b") == "vector"

    sign_in(page, credentials.keys["viewer"])
    assert page.inner_text("#whoami .principal") == "viewer"
    assert page.eval_on_selector_all("#whoami .group", "gs => gs.map(g => g.textContent)") == ["public"]
    assert page.evaluate("() => sessionStorage.getItem('docvec.apiKey')") == credentials.keys["viewer"]
    assert page.evaluate("() => localStorage.length") == 0, "the key must not outlive the tab"
    whoami = traffic.to(service.url + "/v1/whoami")
    assert whoami and whoami[-1].headers.get("authorization") == f"Bearer {credentials.keys['viewer']}"


def test_search_lists_results_with_the_query_words_marked(
    page, traffic: Traffic, api: httpx.Client, credentials: Credentials, service: ServiceProcess
) -> None:
    key = credentials.keys["viewer"]
    sign_in(page, key)
    assert search(page, "zebra") == "done"
    shown = page.evaluate(RESULTS_JS, "a")
    expected = api_search(api, key, "zebra", k=10, mode="hybrid")
    assert [r["chunk_id"] for r in shown] == chunk_ids(expected), "the page does not show the API's ranking"
    assert [r["rank"] for r in shown] == list(range(1, len(shown) + 1))
    first = next(r for r in shown if r["chunk_id"] == CHUNKS[0].chunk_id)
    assert first["title"] == "Zebra migration" and first["path"] == ZEBRA
    # Every whole-word "zebra", in any case, is marked; "zebras" and "zebrafish" are not.
    for result in shown:
        assert result["marks"] == re.findall(r"(?<!\w)zebra(?!\w)", result["text"], re.IGNORECASE), result
    assert first["marks"] == ["Zebra", "ZEBRA"]
    # The hr-only canary is not shown to a viewer, though an hr reader finds it with the same query.
    assert HR_CANARY in str(api_search(api, credentials.keys["auditor"], "zebra payroll"))
    assert HR_CANARY not in page.inner_text("body")
    assert all(not r["path"].startswith("hr/") for r in shown)
    # The page sent the documented body, with the key as a bearer token and never any groups.
    posts = traffic.to(service.url + "/v1/search")
    body = posts[-1].post_data_json
    assert body == {"query": "zebra", "k": 10, "mode": "hybrid", "filters": {}}  # one strategy and model: not named
    assert posts[-1].headers.get("authorization") == f"Bearer {key}"
    screenshot(page, "service-page.png")

    page.select_option("#mode-a", "keyword")  # the canary's own word: only the hr chunk has it
    assert search(page, HR_CANARY) == "done"
    assert page.evaluate(RESULTS_JS, "a") == []
    assert "No result" in page.inner_text("#column-a")


def test_filters_reach_the_api(page, api: httpx.Client, credentials: Credentials) -> None:
    key = credentials.keys["viewer"]
    sign_in(page, key)
    page.fill("#path-prefix", "docs/kitchen/")
    assert search(page, "zebra bread dough") == "done"
    paths = [r["path"] for r in page.evaluate(RESULTS_JS, "a")]
    assert paths and all(p.startswith("docs/kitchen/") for p in paths), paths
    page.fill("#path-prefix", "")
    page.fill("#file-type", "txt")
    assert search(page, "zebra bread dough") == "done"
    shown = [r["chunk_id"] for r in page.evaluate(RESULTS_JS, "a")]
    assert shown == chunk_ids(api_search(api, key, "zebra bread dough", filters={"file_type": "txt"}))
    assert shown == [UNSAFE_CHUNK.chunk_id]


def test_html_in_a_chunk_renders_as_text_and_runs_nothing(page, credentials: Credentials) -> None:
    sign_in(page, credentials.keys["viewer"])
    assert search(page, "quagga sighting") == "done"
    shown = {r["chunk_id"]: r for r in page.evaluate(RESULTS_JS, "a")}
    unsafe = shown[UNSAFE_CHUNK.chunk_id]
    assert unsafe["text"] == SCRIPT_TEXT, "the chunk's HTML was not shown as its literal text"
    assert unsafe["title"] == SCRIPT_TITLE
    assert unsafe["marks"] == ["Quagga", "sighting"]
    page.click(f'li.result[data-chunk-id="{UNSAFE_CHUNK.chunk_id}"] button.open')
    page.wait_for_selector('#document-panel[data-state="done"]', timeout=WAIT_MS)
    assert page.evaluate(DOCUMENT_JS)["chunks"][0]["text"] == SCRIPT_TEXT
    injected = page.evaluate("(selector) => document.querySelectorAll(selector).length", INJECTED)
    assert injected == 0, "markup from a chunk became elements"
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert page.evaluate("() => typeof window.__pwned") == "undefined", "a script from a chunk ran"


def test_open_document_scrolls_to_and_highlights_the_chunk(page, credentials: Credentials) -> None:
    sign_in(page, credentials.keys["viewer"])
    assert search(page, "okapi forest giraffe") == "done"
    okapi = next(c for c in CHUNKS if c.document == GUIDE and c.index == OKAPI_INDEX)
    page.click(f'li.result[data-chunk-id="{okapi.chunk_id}"] .chunk-text')  # a click anywhere on the result
    page.wait_for_selector('#document-panel[data-state="done"]', timeout=WAIT_MS)
    page.wait_for_timeout(200)  # the scroll into view
    shown = page.evaluate(DOCUMENT_JS)
    assert shown["title"] == "Field guide"
    assert [c["index"] for c in shown["chunks"]] == list(range(GUIDE_CHUNKS)), "chunks not all shown in order"
    assert [c["text"] for c in shown["chunks"]] == [_guide_text(i) for i in range(GUIDE_CHUNKS)]
    chosen = [c for c in shown["chunks"] if c["chosen"]]
    assert [c["chunk_id"] for c in chosen] == [okapi.chunk_id] and chosen[0]["current"] == "true"
    assert chosen[0]["visible"] and shown["scroll_top"] > 0, "the panel is not scrolled to the chosen chunk"
    assert not shown["chunks"][0]["visible"]
    assert chosen[0]["marks"] == ["okapi", "forest", "giraffe"]
    screenshot(page, "service-page-document.png", full_page=False)  # the panel is fixed to the viewport
    page.keyboard.press("Escape")
    page.wait_for_selector("#document-panel", state="hidden", timeout=WAIT_MS)


def test_compare_view_shows_two_rankings_and_what_they_share(page, api: httpx.Client, credentials: Credentials) -> None:
    key = credentials.keys["viewer"]
    sign_in(page, key)
    query = "zebra striped animal"
    page.fill("#k", "5")
    page.check("#compare")
    page.select_option("#mode-b", "keyword")
    assert search(page, query) == "done"
    left, right = page.evaluate(RESULTS_JS, "a"), page.evaluate(RESULTS_JS, "b")
    hybrid, keyword = api_search(api, key, query, k=5, mode="hybrid"), api_search(api, key, query, k=5, mode="keyword")
    assert [r["chunk_id"] for r in left] == chunk_ids(hybrid)
    assert [r["chunk_id"] for r in right] == chunk_ids(keyword)
    assert chunk_ids(hybrid) != chunk_ids(keyword), "the fixture should give the two modes different rankings"
    assert page.inner_text("#column-a-title").startswith("A: hybrid")
    assert page.inner_text("#column-b-title").startswith("B: keyword")
    # A chunk in both columns carries its rank in the other one; a chunk in one only carries none.
    right_ranks = {r["chunk_id"]: r["rank"] for r in right}
    left_ranks = {r["chunk_id"]: r["rank"] for r in left}
    assert [r["other_rank"] for r in left] == [right_ranks.get(r["chunk_id"]) for r in left]
    assert [r["other_rank"] for r in right] == [left_ranks.get(r["chunk_id"]) for r in right]
    assert any(r["other_rank"] not in (None, r["rank"]) for r in left), "no shared chunk moves: badges untested"
    boxes = [page.locator(f"#column-{side}").bounding_box() for side in "ab"]
    assert boxes[0] and boxes[1] and boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"], "columns not side by side"
    screenshot(page, "service-page-compare.png")


def test_without_a_key_the_401_is_shown_and_the_key_asked_for(page, api: httpx.Client) -> None:
    message = api.post("/v1/search", json={"query": "zebra"}).json()["error"]["message"]
    assert search(page, "zebra") == "error"
    error = page.inner_text("#error")
    assert page.is_visible("#error") and "401" in error and message in error, error
    assert page.evaluate("() => document.activeElement.id") == "api-key"
    assert page.evaluate(RESULTS_JS, "a") == []
    # A wrong key is refused at whoami with the API's message, and not kept.
    page.fill("#api-key", "dv_not-a-real-key")
    page.press("#api-key", "Enter")
    page.wait_for_function("() => document.querySelector('#whoami').textContent.includes('not accepted')")
    assert "401" in page.inner_text("#error")
    assert page.evaluate("() => sessionStorage.getItem('docvec.apiKey')") is None
