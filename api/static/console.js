// Reviewer console: plain JS over the JSON API (/v1/reviews, /v1/tickets/{id}, /v1/tickets/{id}/review).
// Every piece of server data reaches the page through textContent / createElement, never parsed as markup.
"use strict";

(() => {
  const KEY_STORE = "sda.reviewerKey";
  const REFRESH_MS = 60_000;
  // API paths are relative to the page's folder, so the console also works behind a path prefix.
  const BASE = new URL(".", window.location.href);

  const $ = (id) => document.getElementById(id);
  const state = { key: null, items: [], selected: null, view: null, interrupt: null, busy: false, timer: null };

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("aria-") || name === "role" || name === "for") node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const token = (value) => String(value ?? "").toLowerCase().replace(/[^a-z0-9_-]/g, "");

  function badge(text, kind) {
    return el("span", { class: `badge ${kind ? `badge-${token(kind)}` : ""}`.trim(), text });
  }

  function showMessage(text, kind = "info") {
    const box = $("message");
    box.textContent = text;
    box.className = `banner ${kind}`;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.hidden = !text;
  }

  // ---------------------------------------------------------------- minimal, safe Markdown

  // Headings, **bold**, `code`, "- " lists, "> " blockquotes and paragraphs; everything else is text.
  // The packet escapes customer text with backslashes (\* \# \< …): show the character itself.
  const unescape = (s) => s.replace(/\\(.)/g, "$1");

  function renderInline(parent, text) {
    const pattern = /\\(.)|\*\*((?:\\.|[^*\\])+?)\*\*|`([^`]+)`/g;
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) parent.append(document.createTextNode(m[1]));
      else if (m[2] !== undefined) parent.append(el("strong", { text: unescape(m[2]) }));
      else parent.append(el("code", { text: m[3] }));
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

  function renderMarkdown(target, source) {
    target.replaceChildren();
    let list = null, quote = null, quotePara = null, para = null;
    for (const raw of String(source ?? "").split(/\r?\n/)) {
      const line = raw.replace(/\s+$/, "");
      let m;
      if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
        list = quote = quotePara = para = null;
        const level = Math.min(6, m[1].length + 1); // the page already uses h1 and h2
        const heading = el(`h${level}`);
        renderInline(heading, m[2]);
        target.append(heading);
      } else if ((m = /^>\s?(.*)$/.exec(line))) {
        list = para = null;
        if (!quote) { quote = el("blockquote"); quotePara = null; target.append(quote); }
        if (!m[1]) { quotePara = null; continue; }
        if (!quotePara) { quotePara = el("p"); quote.append(quotePara); } else quotePara.append(el("br"));
        renderInline(quotePara, m[1]);
      } else if ((m = /^\s*[-*]\s+(.*)$/.exec(line))) {
        quote = quotePara = para = null;
        if (!list) { list = el("ul"); target.append(list); }
        const item = el("li");
        renderInline(item, m[1]);
        list.append(item);
      } else if (!line.trim()) {
        list = quote = quotePara = para = null;
      } else {
        list = quote = quotePara = null;
        if (!para) { para = el("p"); target.append(para); } else para.append(el("br"));
        renderInline(para, line);
      }
    }
  }

  // ---------------------------------------------------------------- formatting

  function minutes(m) {
    const exact = Math.abs(Number(m) || 0);
    if (exact < 1) return "<1 min";
    const v = Math.round(exact); // whole minutes first, so 119.9 reads "2 h", not "1 h 60 min"
    if (v < 60) return `${v} min`;
    if (v < 1440) { const h = Math.floor(v / 60), r = v % 60; return r ? `${h} h ${r} min` : `${h} h`; }
    const hours = Math.round(v / 60), d = Math.floor(hours / 24), h = hours % 24;
    return h ? `${d} d ${h} h` : `${d} d`;
  }

  function when(iso) {
    if (!iso) return "an unknown time";
    const t = new Date(iso);
    return Number.isNaN(t.getTime()) ? String(iso) : `${t.toLocaleString()} (${iso})`;
  }

  const flagText = (f) => (typeof f === "string" ? f : (f && (f.name || f.code || f.flag)) || JSON.stringify(f));

  function errorText(status, data) {
    const detail = data && data.detail;
    if (status === 409 && data && data.decided) {
      const d = data.decided;
      return `Already decided by ${d.reviewer || "someone"} at ${when(d.decided_at)}` +
        `${d.decision ? ` (${d.decision})` : ""}. Your decision was not applied.`;
    }
    const text = typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : `HTTP ${status}`;
    if (status === 422) return `Not accepted: ${text}`;
    if (status === 403) return `This key may not review: ${text}`;
    return text;
  }

  // ---------------------------------------------------------------- API

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${state.key}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(new URL(path, BASE), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
      });
    } catch (err) {
      return { status: 0, data: { detail: `cannot reach the server (${err.message})` } };
    }
    let data = null;
    try { data = await response.json(); } catch { data = { detail: `HTTP ${response.status} (no JSON body)` }; }
    if (response.status === 401) signOut(`The key was refused: ${errorText(401, data)}`);
    return { status: response.status, data };
  }

  // ---------------------------------------------------------------- key / session

  function readFragment() {
    const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    const key = params.get("key");
    if (key) {
      sessionStorage.setItem(KEY_STORE, key.trim());
      params.delete("key");
    }
    const rest = params.toString();
    // Drop the key from the address bar and history right away.
    history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
    return params.get("ticket");
  }

  function setTicketFragment(threadId) {
    const hash = threadId ? `#ticket=${encodeURIComponent(threadId)}` : "";
    history.replaceState(null, "", window.location.pathname + window.location.search + hash);
  }

  function signIn(key) {
    state.key = key;
    $("login").hidden = true;
    $("app").hidden = false;
    $("refresh").hidden = false;
    $("forget").hidden = false;
    clearInterval(state.timer);
    state.timer = setInterval(() => { if (!document.hidden && !state.busy) loadQueue(); }, REFRESH_MS);
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    clearInterval(state.timer);
    $("app").hidden = true;
    $("refresh").hidden = true;
    $("forget").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = reason || "";
    showMessage("");
    $("key").value = "";
    $("key").focus();
  }

  // ---------------------------------------------------------------- queue

  async function loadQueue() {
    const { status, data } = await api("GET", "v1/reviews?limit=200");
    if (status === 401) return false;
    if (status !== 200) { showMessage(`Could not load the queue: ${errorText(status, data)}`, "error"); return false; }
    state.items = Array.isArray(data) ? data : [];
    renderQueue();
    return true;
  }

  function renderQueue() {
    const list = $("queue");
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.thread : null;
    list.replaceChildren();
    $("queue-count").textContent = `(${state.items.length})`;
    $("queue-empty").hidden = state.items.length > 0;
    for (const item of state.items) {
      const selected = state.selected === item.thread_id;
      const sla = item.sla_breached
        ? el("span", { class: "sla breached", text: `SLA breached ${minutes(item.sla_remaining_minutes)} ago` })
        : el("span", { class: "sla", text: `${minutes(item.sla_remaining_minutes)} left` });
      const flags = (item.risk_flags || []).map((f) => badge(flagText(f), "flag"));
      const button = el("button", {
        type: "button", class: `queue-item${selected ? " selected" : ""}${item.sla_breached ? " late" : ""}`,
        dataset: { thread: item.thread_id },
      },
      el("span", { class: "row" },
        el("strong", { class: "ticket-id", text: item.ticket_id || item.thread_id }),
        badge(item.priority || "—", `prio-${item.priority}`),
        el("span", { class: "category", text: (item.category || "uncategorised").replace(/_/g, " ") })),
      el("span", { class: "summary", text: item.summary || "" }),
      el("span", { class: "row meta" },
        el("span", { text: `SLA ${item.sla_hours ?? "?"} h` }), sla,
        el("span", { text: `waiting ${minutes(item.age_minutes)}` })),
      flags.length ? el("span", { class: "row flags" }, ...flags) : null);
      if (selected) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => openTicket(item.thread_id));
      list.append(el("li", {}, button));
      if (focused && focused === item.thread_id) button.focus();
    }
  }

  // ---------------------------------------------------------------- one review

  async function openTicket(threadId, { keepResult = false } = {}) {
    if (state.selected !== threadId) showMessage("");
    state.selected = threadId;
    setTicketFragment(threadId);
    renderQueue();
    const { status, data } = await api("GET", `v1/tickets/${encodeURIComponent(threadId)}`);
    if (status === 401) return;
    if (status !== 200) {
      showDetailError(`Could not open ${threadId}: ${errorText(status, data)}`);
      return;
    }
    renderDetail(data, keepResult);
    $("detail").focus({ preventScroll: true });
  }

  function showDetailError(text) {
    $("detail-title").textContent = "Review unavailable";
    $("detail-hint").hidden = false;
    $("detail-hint").textContent = text;
    $("detail-body").hidden = true;
  }

  function renderDetail(view, keepResult) {
    state.view = view;
    state.interrupt = (view.interrupts || [])[0] || null;
    const ticket = view.ticket || {};
    $("detail-title").textContent = `${ticket.id || view.thread_id} — ${ticket.subject || ""}`;
    $("detail-hint").hidden = true;
    $("detail-body").hidden = false;
    if (!keepResult) setResult("");

    if (!state.interrupt) {
      // Decided (here or elsewhere) since the queue was loaded: show the outcome, no form.
      $("decide-form").hidden = true;
      $("packet").closest("details").hidden = true;
      if (!keepResult) setResult(outcome(view), "info");
      return;
    }
    $("decide-form").hidden = false;
    $("packet").closest("details").hidden = false;
    renderMarkdown($("packet"), state.interrupt.description || "");

    const args = (state.interrupt.action_request || {}).args || {};
    const actions = $("actions");
    actions.replaceChildren();
    for (const action of args.actions || []) {
      const id = `act-${token(action.id)}`;
      const box = el("input", { type: "checkbox", id, checked: true, value: action.id });
      box.addEventListener("change", updateButtons);
      const details = Object.entries(action.args || {})
        .filter(([k]) => !(action.name === "send_reply" && k === "body"))
        .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
      actions.append(el("li", {},
        box,
        el("label", { for: id },
          el("strong", { text: action.name }), " ", badge(action.tier, `tier-${action.tier}`), " ",
          el("code", { class: "muted", text: action.id }),
          action.name === "send_reply" ? el("span", { class: "small muted block", text: "sends the reply below" }) : null,
          details ? el("span", { class: "small block", text: details }) : null)));
    }
    if (!(args.actions || []).length) actions.append(el("li", { class: "muted", text: "No gated actions." }));
    $("reply").value = args.reply || "";
    $("reply").dataset.original = args.reply || "";
    $("comment").value = "";
    updateButtons();
  }

  function outcome(view) {
    const last = (view.decisions || []).slice(-1)[0];
    const applied = (view.ledger || []).map((row) => row.action).join(", ") || "none";
    const by = last ? ` Decision: ${last.type} by ${last.reviewer} at ${when(last.at)}.` : "";
    return `Status: ${view.status}.${by} Actions applied: ${applied}.`;
  }

  function setResult(text, kind = "info") {
    const box = $("decision-result");
    box.textContent = text;
    box.className = `banner ${kind}`;
    box.hidden = !text;
  }

  function checkedIds() {
    return [...document.querySelectorAll("#actions input[type=checkbox]")].filter((b) => b.checked).map((b) => b.value);
  }

  function changed() {
    const boxes = document.querySelectorAll("#actions input[type=checkbox]");
    const subset = checkedIds().length !== boxes.length;
    const edited = $("reply").value !== $("reply").dataset.original;
    return { subset, edited };
  }

  function updateButtons() {
    const { subset, edited } = changed();
    const busy = state.busy;
    $("accept").disabled = busy || subset || edited;
    for (const id of ["edit", "respond", "reject"]) $(id).disabled = busy;
    $("reply-state").textContent = subset || edited
      ? `You changed ${[edited && "the reply", subset && "the actions"].filter(Boolean).join(" and ")} — ` +
        "use “Save edit & approve” (Accept applies the proposal unchanged)."
      : "";
  }

  async function decide(type, args) {
    if (!state.interrupt || state.busy) return;
    const threadId = state.view.thread_id;
    const body = { interrupt_id: state.interrupt.id, type };
    if (args !== undefined) body.args = args;
    state.busy = true;
    updateButtons();
    setResult("Sending your decision…", "info");
    const { status, data } = await api("POST", `v1/tickets/${encodeURIComponent(threadId)}/review`, body);
    state.busy = false;
    if (status === 401) return;
    if (status === 200) {
      const redraft = type === "response" && data.status === "awaiting_review";
      const text = redraft
        ? "Sent back for a redraft — the new draft is below; decide again."
        : `Done. ${outcome(data)}`;
      await loadQueue();
      renderDetail(data, true); // the redrafted review, or the outcome without a form
      setResult(text, "success");
      showMessage(`${data.ticket?.id || threadId}: ${redraft ? "redraft requested" : data.status}.`, "success");
      return;
    }
    setResult(errorText(status, data), status === 409 ? "warning" : "error");
    if (status === 409 || status === 404) {
      // No longer pending: refresh the queue and show where the ticket stands now.
      await loadQueue();
      $("decide-form").hidden = true;
    }
    updateButtons();
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    const ticketFromUrl = readFragment();
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = $("key").value.trim();
      if (!key) { $("login-error").textContent = "Paste your reviewer API key."; return; }
      sessionStorage.setItem(KEY_STORE, key);
      signIn(key);
      if (await loadQueue()) showMessage("Signed in.", "success");
    });
    $("forget").addEventListener("click", () => signOut("Key forgotten for this tab."));
    $("refresh").addEventListener("click", async () => {
      if (await loadQueue()) showMessage(`Queue refreshed at ${new Date().toLocaleTimeString()}.`, "info");
    });
    $("reply").addEventListener("input", updateButtons);
    $("accept").addEventListener("click", () => decide("accept"));
    $("edit").addEventListener("click", () => {
      const args = { reply: $("reply").value };
      if (changed().subset) args.actions = checkedIds();
      decide("edit", args);
    });
    $("respond").addEventListener("click", () => {
      const comment = $("comment").value.trim();
      if (!comment) { setResult("Write a comment for the redraft first.", "error"); $("comment").focus(); return; }
      decide("response", comment);
    });
    $("reject").addEventListener("click", () => {
      if (window.confirm("Reject this packet? None of its gated actions will be applied.")) decide("ignore");
    });

    const key = sessionStorage.getItem(KEY_STORE);
    if (!key) { signOut(""); return; }
    signIn(key);
    loadQueue().then((ok) => {
      const first = ticketFromUrl || null;
      if (ok && first) openTicket(first);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
