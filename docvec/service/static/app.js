// The docvec search page: plain DOM, no framework, nothing fetched from outside this service.
//
// Everything that comes from the API (chunk text, titles, paths, sections, error messages) enters
// the page through textContent / text nodes, never innerHTML: chunk text is untrusted document
// content. The page never sends access groups: the server maps the caller's key to them, and the
// page only shows what GET /v1/whoami says they are.
(() => {
  "use strict";

  const KEY_STORAGE = "docvec.apiKey"; // sessionStorage only: the key dies with the tab
  const MODES = [
    ["hybrid", "hybrid (vector + keyword)"],
    ["vector", "vector (meaning)"],
    ["keyword", "keyword (BM25)"],
  ];
  const SIDES = ["a", "b"];
  const DEFAULT_K = 10;
  const MAX_K = 100; // docvec.service.limits.MAX_K
  const MAX_HIGHLIGHT_WORDS = 32; // bounds the highlighting pattern whatever the query
  const WORD = /[\p{L}\p{N}_]+/gu; // a query word: letters, digits, underscore (any script)
  const NOT_WORD_BEFORE = "(?<![\\p{L}\\p{N}_])";
  const NOT_WORD_AFTER = "(?![\\p{L}\\p{N}_])";

  const $ = (id) => document.getElementById(id);

  /** An error answered by the API: its JSON `{"error": {"status", "code", "message"}}`. */
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // -- small DOM helpers (text only) ------------------------------------------------------------

  /** A new element with a class and text (as a text node, never parsed as HTML). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setState(name) {
    document.body.dataset.searchState = name;
  }

  // -- the API key --------------------------------------------------------------------------------

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_STORAGE) || "";
    } catch {
      return "";
    }
  }

  function storeKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // storage refused (private mode): the key then lives for this page only
    }
  }

  // -- the API ------------------------------------------------------------------------------------

  /** JSON from the service at `path`; an ApiError for any failure, with the API's own message. */
  async function api(path, { method = "GET", body, auth = true } = {}) {
    const headers = { Accept: "application/json" };
    const key = storedKey();
    if (auth && key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "unreachable", `cannot reach the service (${error.message})`);
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const detail = payload && typeof payload === "object" ? payload.error : null;
      throw new ApiError(
        response.status,
        (detail && detail.code) || "error",
        (detail && detail.message) || `${response.status} ${response.statusText}`.trim(),
      );
    }
    return payload;
  }

  // -- errors ---------------------------------------------------------------------------------------

  function clearError() {
    const area = $("error");
    area.hidden = true;
    area.replaceChildren();
    $("key-form").classList.remove("needs-key");
  }

  /** Show an API error (status, code, message); a 401 also asks for the key. */
  function showError(error) {
    const area = $("error");
    const status = error instanceof ApiError && error.status ? `${error.status} ${error.code}` : "Error";
    const line = el("p", "error-line");
    line.append(el("strong", "error-status", status), ": ", el("span", "error-message", error.message));
    area.replaceChildren(line);
    if (error instanceof ApiError && error.status === 401) {
      area.append(el("p", "error-hint", "This needs a valid API key: enter it above and press Enter."));
      $("key-form").classList.add("needs-key");
      $("api-key").focus();
    }
    area.hidden = false;
  }

  // -- who am I -------------------------------------------------------------------------------------

  async function showWhoAmI() {
    const out = $("whoami");
    if (!storedKey()) {
      out.replaceChildren("No key set.");
      return;
    }
    out.replaceChildren("Checking the key…");
    try {
      const me = await api("/v1/whoami");
      const groups = el("span", "groups");
      if (me.groups.length === 0) groups.append(el("span", "group none", "no access groups: searches find nothing"));
      for (const group of me.groups) groups.append(el("span", "group", group));
      out.replaceChildren(
        "Signed in as ",
        el("strong", "principal", me.principal),
        ` (${me.method}) · groups: `,
        groups,
      );
    } catch (error) {
      if (error.status === 401) storeKey("");
      out.replaceChildren("The key was not accepted.");
      showError(error);
    }
  }

  // -- the publication and the ranking choices -----------------------------------------------------

  function formatAge(seconds) {
    const s = Math.max(0, Number(seconds) || 0);
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 90 * 60) return `${Math.round(s / 60)} min`;
    if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86400)} d`;
  }

  let knownVersion = null;

  function showPublication(info, rows) {
    knownVersion = info.version;
    const parts = [`Publication v${info.version}`, `published ${info.published_at}`, `${formatAge(info.age_seconds)} old`];
    if (rows !== undefined) parts.push(`${rows} chunks`);
    const line = $("publication");
    line.textContent = parts.join(" · ");
    line.dataset.version = String(info.version);
  }

  /** Fill a select with `values`, keeping the current choice when it is still offered. */
  function fillSelect(select, values, fallbackLabel) {
    const previous = select.value;
    select.replaceChildren();
    if (values.length === 0) {
      const option = el("option", "", fallbackLabel);
      option.value = "";
      select.append(option);
      return;
    }
    for (const value of values) {
      const option = el("option", "", value);
      option.value = value;
      select.append(option);
    }
    if (values.includes(previous)) select.value = previous;
  }

  async function loadReadiness() {
    try {
      const ready = await api("/readyz", { auth: false });
      showPublication(ready, ready.rows);
      for (const select of document.querySelectorAll("select.strategy")) {
        fillSelect(select, ready.strategies, "(server default)");
      }
      for (const select of document.querySelectorAll("select.model")) {
        fillSelect(select, ready.models, "(server default)");
      }
    } catch (error) {
      $("publication").textContent = `Nothing to search yet: ${error.message}`;
      for (const select of document.querySelectorAll("select.strategy, select.model")) {
        fillSelect(select, [], "(server default)");
      }
    }
  }

  function fillModes() {
    for (const side of SIDES) {
      const select = $(`mode-${side}`);
      for (const [value, label] of MODES) {
        const option = el("option", "", label);
        option.value = value;
        select.append(option);
      }
      select.value = select.dataset.default;
    }
  }

  // -- highlighting -------------------------------------------------------------------------------

  /** The query's distinct words, longest first (so a longer word wins over its prefix). */
  function queryWords(query) {
    const words = new Set();
    for (const match of query.toLowerCase().matchAll(WORD)) {
      words.add(match[0]);
      if (words.size >= MAX_HIGHLIGHT_WORDS) break;
    }
    return [...words].sort((a, b) => b.length - a.length);
  }

  /** A pattern matching the words as whole words, any case; null for no words. */
  function highlightPattern(query) {
    const words = queryWords(query);
    if (words.length === 0) return null;
    const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return new RegExp(`${NOT_WORD_BEFORE}(?:${escaped.join("|")})${NOT_WORD_AFTER}`, "giu");
  }

  /** Append `text` to `parent` as text nodes, with each match of `pattern` in a <mark>. */
  function appendHighlighted(parent, text, pattern) {
    const value = String(text ?? "");
    if (!pattern) {
      parent.append(value);
      return;
    }
    let last = 0;
    for (const match of value.matchAll(pattern)) {
      if (match.index > last) parent.append(value.slice(last, match.index));
      parent.append(el("mark", "", match[0]));
      last = match.index + match[0].length;
    }
    if (last < value.length) parent.append(value.slice(last));
  }

  // -- searching ------------------------------------------------------------------------------------

  function readK() {
    const k = Number.parseInt($("k").value, 10);
    if (!Number.isFinite(k)) return DEFAULT_K;
    return Math.min(MAX_K, Math.max(1, k));
  }

  /** The POST /v1/search body for one ranking side (never a groups field). */
  function searchBody(side, query) {
    const body = { query, k: readK(), mode: $(`mode-${side}`).value, filters: {} };
    // A strategy or model is named only where the publication holds several: with one, the
    // service uses it (and says so in its answer), and a choice from a stale /readyz cannot fail.
    for (const kind of ["strategy", "model"]) {
      const select = $(`${kind}-${side}`);
      if (select.options.length > 1 && select.value) body[kind] = select.value;
    }
    const pathPrefix = $("path-prefix").value.trim();
    const fileType = $("file-type").value.trim();
    if (pathPrefix) body.filters.path_prefix = pathPrefix;
    if (fileType) body.filters.file_type = fileType;
    return body;
  }

  let searchSeq = 0; // a newer search makes the answers of older ones stale
  let lastQuery = "";

  async function runSearch() {
    clearError();
    const query = $("query").value.trim();
    if (!query) {
      showError(new Error("enter a query"));
      $("query").focus();
      return;
    }
    lastQuery = query;
    const sides = $("compare").checked ? SIDES : ["a"];
    const seq = ++searchSeq;
    setState("loading");
    $("results").setAttribute("aria-busy", "true");
    $("search-status").textContent = "Searching…";
    try {
      const answers = await Promise.all(
        sides.map((side) => api("/v1/search", { method: "POST", body: searchBody(side, query) })),
      );
      if (seq !== searchSeq) return;
      renderAnswers(sides, answers, highlightPattern(query));
      const newest = answers[answers.length - 1].publication;
      if (knownVersion !== null && newest.version !== knownVersion) loadReadiness();
      showPublication(newest);
      $("search-status").textContent = answers
        .map((a, i) => `${sides.length > 1 ? `${sides[i].toUpperCase()}: ` : ""}${a.results.length} results`)
        .join(" · ");
      setState("done");
    } catch (error) {
      if (seq !== searchSeq) return;
      for (const side of SIDES) $(`column-${side}`).hidden = true;
      $("search-status").textContent = "";
      showError(error);
      setState("error");
    } finally {
      if (seq === searchSeq) $("results").removeAttribute("aria-busy");
    }
  }

  function renderAnswers(sides, answers, pattern) {
    const ranks = answers.map((answer) => new Map(answer.results.map((hit) => [hit.chunk_id, hit.rank])));
    const comparing = sides.length > 1;
    $("results").classList.toggle("comparing", comparing);
    SIDES.forEach((side) => {
      $(`column-${side}`).hidden = !sides.includes(side);
    });
    sides.forEach((side, i) => {
      const other = comparing ? { side: sides[1 - i].toUpperCase(), ranks: ranks[1 - i] } : null;
      renderColumn(side, answers[i], pattern, other, comparing);
    });
  }

  function renderColumn(side, answer, pattern, other, comparing) {
    const column = $(`column-${side}`);
    const label = [answer.mode, answer.strategy, answer.model].filter(Boolean).join(" · ");
    column.querySelector(".column-title").textContent = comparing ? `${side.toUpperCase()}: ${label}` : label;
    column.dataset.mode = answer.mode;
    const shared = other ? answer.results.filter((hit) => other.ranks.has(hit.chunk_id)).length : 0;
    const summary = [`${answer.results.length} results in ${answer.took_ms} ms`];
    if (other) summary.push(`${shared} also in ${other.side}`);
    column.querySelector(".column-summary").textContent = summary.join(" · ");
    const list = column.querySelector("ol.results");
    list.replaceChildren();
    if (answer.results.length === 0) {
      list.append(el("li", "empty", "No result that your access groups may read."));
      return;
    }
    for (const hit of answer.results) list.append(renderHit(hit, pattern, other));
  }

  function renderHit(hit, pattern, other) {
    const item = el("li", "result");
    item.dataset.chunkId = hit.chunk_id;
    item.dataset.documentId = hit.document_id;
    item.dataset.rank = String(hit.rank);

    const head = el("div", "result-head");
    head.append(el("span", "rank", `#${hit.rank}`));
    const open = el("button", "open title", hit.title || hit.source_path);
    open.type = "button";
    open.title = "Open the document at this chunk";
    head.append(open);
    if (other) {
      const otherRank = other.ranks.get(hit.chunk_id);
      if (otherRank !== undefined) {
        item.classList.add("shared");
        const badge = el("span", "shared-badge", `#${otherRank} in ${other.side}`);
        badge.dataset.otherRank = String(otherRank);
        badge.title = `This chunk is also ranked #${otherRank} in column ${other.side}`;
        head.append(badge);
      } else {
        head.append(el("span", "only-badge", `not in ${other.side}`));
      }
    }
    const score = el("span", "score", Number(hit.score).toFixed(4));
    score.title = "score";
    head.append(score);
    item.append(head);

    const meta = el("p", "meta");
    meta.append(el("code", "path", hit.source_path));
    if (hit.section) meta.append(" · ", el("span", "section", `§ ${hit.section}`));
    meta.append(" · ", el("span", "offsets", `chars ${hit.start_char}–${hit.end_char}`));
    item.append(meta);

    const text = el("p", "chunk-text");
    appendHighlighted(text, hit.chunk_text, pattern);
    item.append(text);
    return item;
  }

  // -- the document panel ---------------------------------------------------------------------------

  let documentSeq = 0;
  let openedFrom = null; // the result button to give the focus back to

  async function openDocument(item) {
    clearError();
    const seq = ++documentSeq;
    openedFrom = item.querySelector("button.open");
    const panel = $("document-panel");
    panel.hidden = false;
    panel.dataset.state = "loading";
    document.body.classList.add("document-open");
    $("document-title").textContent = "Loading the document…";
    $("document-meta").textContent = "";
    $("document-chunks").replaceChildren();
    try {
      const doc = await api(`/v1/documents/${encodeURIComponent(item.dataset.documentId)}`);
      if (seq !== documentSeq) return;
      renderDocument(doc, item.dataset.chunkId, highlightPattern(lastQuery));
      panel.dataset.state = "done";
    } catch (error) {
      if (seq !== documentSeq) return;
      closeDocument();
      showError(error);
    }
  }

  function renderDocument(doc, chunkId, pattern) {
    const chosen = doc.chunks.find((c) => c.chunk_id === chunkId) || null;
    // One strategy's (and model's) chunks: those of the chosen chunk, in document order.
    const chunks = doc.chunks
      .filter((c) => !chosen || (c.strategy_id === chosen.strategy_id && c.model_id === chosen.model_id))
      .sort((a, b) => a.chunk_index - b.chunk_index);
    $("document-title").textContent = doc.title || doc.source_path;
    const meta = [doc.source_path, doc.file_type, `${chunks.length} chunks`];
    if (chosen) meta.push(`chunk ${chosen.chunk_index} chosen`, chosen.strategy_id);
    else meta.push("the chosen chunk is not among the chunks returned");
    if (doc.truncated) meta.push("truncated");
    $("document-meta").textContent = meta.filter(Boolean).join(" · ");

    const list = $("document-chunks");
    let chosenItem = null;
    for (const chunk of chunks) {
      const item = el("li", "document-chunk");
      item.dataset.chunkId = chunk.chunk_id;
      item.dataset.chunkIndex = String(chunk.chunk_index);
      const head = [`chunk ${chunk.chunk_index}`];
      if (chunk.section) head.push(`§ ${chunk.section}`);
      head.push(`chars ${chunk.start_char}–${chunk.end_char}`);
      item.append(el("p", "meta", head.join(" · ")));
      const text = el("p", "chunk-text");
      appendHighlighted(text, chunk.chunk_text, pattern);
      item.append(text);
      if (chosen && chunk.chunk_id === chosen.chunk_id) {
        item.classList.add("chosen");
        item.setAttribute("aria-current", "true");
        chosenItem = item;
      }
      list.append(item);
    }
    $("document-title").focus({ preventScroll: true });
    if (chosenItem) chosenItem.scrollIntoView({ block: "center" });
  }

  function closeDocument() {
    documentSeq++;
    $("document-panel").hidden = true;
    $("document-panel").dataset.state = "closed";
    document.body.classList.remove("document-open");
    if (openedFrom && document.contains(openedFrom)) openedFrom.focus();
    openedFrom = null;
  }

  // -- wiring ---------------------------------------------------------------------------------------

  function onResultClick(event) {
    const item = event.target.closest("li.result");
    if (!item) return;
    const selecting = window.getSelection && String(window.getSelection()) !== "";
    if (selecting && !event.target.closest("button")) return; // selecting text is not opening
    openDocument(item);
  }

  function start() {
    fillModes();
    $("api-key").value = storedKey();
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearError();
      storeKey($("api-key").value.trim());
      showWhoAmI();
    });
    $("forget-key").addEventListener("click", () => {
      storeKey("");
      $("api-key").value = "";
      showWhoAmI();
    });
    $("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      runSearch();
    });
    $("compare").addEventListener("change", () => {
      $("ranking-b").hidden = !$("compare").checked;
      if (lastQuery && $("query").value.trim()) runSearch();
    });
    $("results").addEventListener("click", onResultClick);
    $("close-document").addEventListener("click", closeDocument);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !$("document-panel").hidden) closeDocument();
    });
    $("ranking-b").hidden = !$("compare").checked;
    loadReadiness();
    showWhoAmI();
  }

  start();
})();
