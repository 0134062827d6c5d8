// Reviewer console: plain JS over the JSON API (/v1/reviews, /v1/tickets/{id}, …/review, …/audit, …/viewers).
// It renders the typed support packet (graph/packet_schema.py) field by field. Every piece of server data
// reaches the page through textContent / createElement, never parsed as markup.
"use strict";

(() => {
  const KEY_STORE = "sda.reviewerKey";
  const ADVANCE_STORE = "sda.autoAdvance";
  const REFRESH_MS = 60_000;
  const PRESENCE_MS = 20_000;
  // API paths are relative to the page's folder, so the console also works behind a path prefix.
  const BASE = new URL(".", window.location.href);

  const $ = (id) => document.getElementById(id);
  const state = {
    key: null, items: [], selected: null, view: null, interrupt: null, busy: false, timer: null, presence: null,
    previousDraft: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("aria-") || name === "role" || name === "for" || name === "title") node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const token = (value) => String(value ?? "").toLowerCase().replace(/[^a-z0-9_-]/g, "");
  const words = (value) => String(value ?? "").replace(/_/g, " ");

  function badge(text, kind, title) {
    return el("span", { class: `badge ${kind ? `badge-${token(kind)}` : ""}`.trim(), text, title });
  }

  function showMessage(text, kind = "info") {
    const box = $("message");
    box.textContent = text;
    box.className = `banner ${kind}`;
    box.hidden = !text;
  }

  function pin(text, kind = "warning") {
    $("pinned-text").textContent = text;
    $("pinned").className = `pinned banner ${kind}`;
    $("pinned").hidden = !text;
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
    return Number.isNaN(t.getTime()) ? String(iso) : t.toLocaleString();
  }

  const pct = (x) => `${Math.round((Number(x) || 0) * 100)} %`;
  function value(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (Array.isArray(v) && v.every((x) => typeof x !== "object")) return v.join(", ");
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  function errorText(status, data) {
    const detail = data && data.detail;
    if (status === 409 && data && data.decided) {
      const d = data.decided;
      return `Conflict: already decided by ${d.reviewer || "someone"} at ${when(d.decided_at)}` +
        `${d.decision ? ` (${d.decision})` : ""}. Your decision was not applied.`;
    }
    const text = typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : `HTTP ${status}`;
    if (status === 409 && data && data.current_digest) return `Conflict: ${text} The current proposal is shown now.`;
    if (status === 409) return `Conflict: ${text}`;
    if (status === 422) return `Not accepted: ${text}`;
    if (status === 403) return `This key may not review: ${text}`;
    return text;
  }

  // ---------------------------------------------------------------- word diff (LCS)

  function diffWords(before, after) {
    const a = String(before).split(/(\s+)/), b = String(after).split(/(\s+)/);
    const n = a.length, m = b.length;
    if (n * m > 4_000_000) return [["del", before], ["ins", after]]; // too long to align: show both
    const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
    const out = [];
    const push = (kind, text) => {
      const last = out[out.length - 1];
      if (last && last[0] === kind) last[1] += text; else out.push([kind, text]);
    };
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { push("same", a[i]); i++; j++; }
      else if (dp[i + 1][j] >= dp[i][j + 1]) push("del", a[i++]);
      else push("ins", b[j++]);
    }
    while (i < n) push("del", a[i++]);
    while (j < m) push("ins", b[j++]);
    return out;
  }

  function renderDiff(target, before, after) {
    target.replaceChildren();
    let changes = 0;
    for (const [kind, text] of diffWords(before, after)) {
      if (kind === "same") target.append(document.createTextNode(text));
      else { changes++; target.append(el(kind, { text })); }
    }
    return changes;
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
    for (const id of ["refresh", "forget", "help-open", "gaps-open"]) $(id).hidden = false;
    clearInterval(state.timer);
    state.timer = setInterval(() => { if (!document.hidden && !state.busy) loadQueue(); }, REFRESH_MS);
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    clearInterval(state.timer);
    clearInterval(state.presence);
    $("app").hidden = true;
    for (const id of ["refresh", "forget", "help-open", "gaps-open"]) $(id).hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = reason || "";
    showMessage("");
    $("key").value = "";
    $("key").focus();
  }

  // ---------------------------------------------------------------- queue

  async function loadQueue() {
    const params = new URLSearchParams({ limit: "500" });
    if ($("f-tier").value === "lead") params.set("queue", "lead");
    else if ($("f-tier").value) params.append("tier", $("f-tier").value);
    if ($("f-category").value) params.set("category", $("f-category").value);
    const { status, data } = await api("GET", `v1/reviews?${params}`);
    if (status === 401) return false;
    if (status !== 200) { showMessage(`Could not load the queue: ${errorText(status, data)}`, "error"); return false; }
    state.items = Array.isArray(data) ? data : [];
    const categories = $("f-category");
    const known = new Set([...categories.options].map((o) => o.value));
    for (const c of new Set(state.items.map((i) => i.category).filter(Boolean))) {
      if (!known.has(c)) categories.append(el("option", { value: c, text: words(c) }));
    }
    renderQueue();
    return true;
  }

  function visibleItems() {
    const priority = $("f-priority").value, sla = $("f-sla").value;
    return state.items.filter((item) => (!priority || item.priority === priority) &&
      (!sla || (sla === "breached" ? item.sla_breached : item.sla_remaining_minutes < Number(sla))));
  }

  function renderQueue() {
    const list = $("queue");
    const items = visibleItems();
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.thread : null;
    list.replaceChildren();
    $("queue-count").textContent = `(${items.length}${items.length !== state.items.length ? ` of ${state.items.length}` : ""})`;
    $("queue-empty").hidden = items.length > 0;
    for (const item of items) {
      const selected = state.selected === item.thread_id;
      const sla = item.sla_breached
        ? el("span", { class: "sla breached", text: `SLA breached ${minutes(item.sla_remaining_minutes)} ago` })
        : el("span", { class: "sla", text: `${minutes(item.sla_remaining_minutes)} left` });
      const tiers = (item.tiers || []).filter((t) => t === "never_without_approval").map((t) => badge("never w/o approval", `tier-${t}`));
      const button = el("button", {
        type: "button", class: `queue-item${selected ? " selected" : ""}${item.sla_breached ? " late" : ""}`,
        dataset: { thread: item.thread_id },
      },
      el("span", { class: "row" },
        el("strong", { class: "ticket-id", text: item.ticket_id || item.thread_id }),
        badge(item.priority || "—", `prio-${item.priority}`),
        el("span", { class: "category", text: words(item.category || "uncategorised") }), tiers,
        item.source === "service" ? badge("CLI/batch", "source") : null,
        item.sla_warning ? badge("SLA warning", "sev-high") : null, item.lead ? badge("lead queue", "sev-critical") : null),
      el("span", { class: "summary", text: item.summary || "" }),
      el("span", { class: "row meta" }, sla, el("span", { text: `waiting ${minutes(item.age_minutes)}` })),
      (item.risk_flags || []).length ? el("span", { class: "row flags" }, (item.risk_flags || []).map((f) => badge(words(f), "flag"))) : null);
      if (selected) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => openTicket(item.thread_id, { scroll: true }));
      list.append(el("li", {}, button));
      if (focused && focused === item.thread_id) button.focus({ preventScroll: true });
    }
  }

  function step(offset) {
    const items = visibleItems();
    if (!items.length) return;
    const at = items.findIndex((i) => i.thread_id === state.selected);
    const next = items[Math.min(items.length - 1, Math.max(0, at < 0 ? 0 : at + offset))];
    openTicket(next.thread_id, { scroll: true });
  }

  // ---------------------------------------------------------------- one ticket

  async function openTicket(threadId, { keepResult = false, scroll = false } = {}) {
    if (state.selected !== threadId) { showMessage(""); state.previousDraft = null; }
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
    watchPresence(threadId);
    if (scroll) $("detail").scrollIntoView({ block: "start" });
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
    const packet = view.packet || {};
    const ticket = packet.ticket || view.ticket || {};
    $("detail-title").textContent = `${ticket.id || view.thread_id} — ${ticket.subject || ""}`;
    $("detail-hint").hidden = true;
    $("detail-body").hidden = false;
    if (!keepResult) setResult("");
    renderMessage(packet, ticket);
    renderTriage(packet);
    renderSources(packet);
    renderEscalation(packet.escalation || {});
    renderCustomer(packet.customer || {});

    const pending = Boolean(state.interrupt);
    $("decide-form").hidden = !pending;
    $("decision-bar").hidden = !pending;
    if (pending) renderProposal();
    else {
      if (!keepResult) setResult(outcome(view), "info");
      loadAudit(view);
    }
    $("audit-box").hidden = pending;
  }

  function renderMessage(packet, ticket) {
    const meta = [ticket.sender ? `From ${ticket.sender}` : "Sender unknown", `via ${ticket.channel || "email"}`,
      ticket.received_at ? `received ${when(ticket.received_at)}` : null].filter(Boolean).join(" · ");
    $("msg-meta").textContent = meta;
    $("msg-subject").textContent = ticket.subject || "";
    const body = $("msg-body");
    body.replaceChildren();
    const thread = packet.messages || [];
    if (thread.length > 1) { // a thread: every message, oldest first (the ticket's body holds them all joined)
      for (const m of thread) {
        body.append(el("div", { class: "thread-message" },
          el("p", { class: "small muted", text: `${m.author}${m.at ? ` · ${when(m.at)}` : ""}` }), el("div", { text: m.body })));
      }
      return;
    }
    const text = String(ticket.body ?? packet.message ?? "");
    const phrase = packet.injection_phrase;
    const at = phrase ? text.indexOf(phrase) : -1;
    if (at >= 0) {
      body.append(text.slice(0, at), el("mark", { class: "injection", title: "Looks like an instruction to the agent", text: phrase }),
        text.slice(at + phrase.length));
    } else body.textContent = text;
  }

  function renderTriage(packet) {
    const dl = $("triage");
    dl.replaceChildren();
    const alternatives = (packet.category_alternatives || []).map((a) => `${words(a.category)} ${pct(a.confidence)}`).join(", ");
    const rows = [
      ["Category", el("span", {}, words(packet.category), " ",
        badge(`${packet.confidence_band || "?"} confidence · ${pct(packet.category_confidence)}`, `band-${packet.confidence_band}`),
        alternatives ? el("span", { class: "small muted", text: ` also: ${alternatives}` }) : null)],
      ["Priority", badge(packet.priority || "—", `prio-${packet.priority}`)],
      ["SLA", `${packet.sla_hours ?? "?"} h${packet.sla_at_risk ? " · at risk" : ""}`],
      ["Sentiment", words(packet.sentiment)],
      ["Requests", (packet.requests || []).length
        ? el("span", {}, (packet.requests || []).map((r) => badge(`${words(r.type)} ${pct(r.confidence)}`, r.action ? "request-action" : "request",
          r.evidence ? `“${r.evidence}”` : undefined)))
        : "none detected"],
      ["Owner", packet.suggested_owner || "—"],
    ];
    for (const [term, detail] of rows) dl.append(el("dt", { text: term }), el("dd", {}, detail));
    const flags = $("flags");
    flags.replaceChildren();
    const list = (packet.flags || []).length ? packet.flags : (packet.risk_flags || []).map((f) => ({ name: f, severity: "medium" }));
    for (const f of list) flags.append(el("li", {}, badge(words(f.name), `sev-${f.severity}`, `severity: ${f.severity}`)));
    $("language-note").hidden = !packet.language_note;
    $("language-note").textContent = packet.language_note || "";
    const changes = packet.changes;
    $("changes-note").hidden = !changes;
    $("changes-note").textContent = changes
      ? `Updated after the customer's reply (packet ${changes.round}). Answered: ${(changes.missing_resolved || []).join(", ") || "nothing asked"}.` +
        ` New flags: ${(changes.flags_added || []).map(words).join(", ") || "none"}. The draft's changes are shown below.`
      : "";
  }

  function sourceItem(s, internal) {
    const updated = s.updated_at_known === false ? "date unknown" : `updated ${s.updated_at || "?"}`;
    return el("li", { class: internal ? "internal" : "" },
      badge(s.badge || (internal ? "internal" : "official"), `src-${(s.badge || "").replace(/ /g, "_")}`),
      internal ? badge("never quote", "never-quote", "Internal: for the reviewer, never sent to the customer") : null, " ",
      el("button", { type: "button", class: "link", text: s.title || s.id, onclick: () => openPassage(s) }),
      s.section ? el("span", { class: "small muted", text: ` › ${s.section}` }) : null,
      el("span", { class: "small muted block", text: `${s.id} · ${words(s.kind)} · ${updated} · relevance ${pct(s.relevance)}` }));
  }

  function renderSources(packet) {
    const list = $("sources");
    list.replaceChildren();
    for (const s of packet.sources || []) list.append(sourceItem(s, false));
    for (const s of packet.reviewer_sources || []) list.append(sourceItem(s, true));
    if (!list.children.length) list.append(el("li", { class: "muted", text: "No source found." }));
    const conflicts = $("conflicts");
    conflicts.replaceChildren();
    for (const c of packet.conflicts || []) {
      conflicts.append(el("li", {}, badge("outdated", "src-outdated"), " ", c.reason || `${c.superseded} → ${c.current}`));
    }
  }

  function sourceById(id) {
    const packet = (state.view && state.view.packet) || {};
    return [...(packet.sources || []), ...(packet.reviewer_sources || [])].find((s) => s.id === id);
  }

  function openPassage(source) {
    $("passage-title").textContent = source.title || source.id;
    $("passage-meta").textContent = `${source.id} · ${source.badge || ""} · ${source.audience === "customer" ? "customer-facing" : "internal — never quote"}`;
    $("passage-text").textContent = source.passage || "(no passage)";
    $("passage").showModal();
  }

  function renderEscalation(esc) {
    const box = $("escalation");
    box.replaceChildren();
    box.append(el("p", {}, el("strong", { text: esc.team && esc.team !== "none" ? `Hand off to ${esc.team}` : "No hand-off" }),
      esc.reason ? ` — ${esc.reason}` : ""));
    if ((esc.needs || []).length) box.append(el("p", { class: "small", text: "They will need:" }), el("ul", {}, esc.needs.map((n) => el("li", { text: n }))));
    const matched = esc.matched || [];
    if (matched.length > 1) {
      box.append(el("p", { class: "small muted", text: "Every matching rule (first one chosen):" }),
        el("ol", { class: "small" }, matched.map((m) => el("li", { text: `${m.name} → ${m.team}${m.reason ? `: ${m.reason}` : ""}` }))));
    }
  }

  function renderCustomer(c) {
    const dl = $("customer");
    dl.replaceChildren();
    const rows = c.known ? [["Customer", `${c.name || "?"}${c.vip ? " · VIP" : ""}`], ["Plan", c.plan], ["Account owner", c.account_owner],
      ["Contract notes", c.contract_notes], ["Open incidents", (c.open_incidents || []).join(", ")]] : [["Customer", "not found in the CRM"]];
    for (const [term, detail] of rows) if (detail) dl.append(el("dt", { text: term }), el("dd", { text: detail }));
    const related = $("related");
    related.replaceChildren();
    for (const t of c.similar_tickets || []) {
      related.append(el("li", {}, el("strong", { text: t.id || t.ticket_id }), ` ${t.subject || ""} `,
        badge("similar", "related"), el("span", { class: "small block", text: t.resolution ? `Resolution: ${t.resolution}` : "No resolution recorded." })));
    }
    for (const t of c.recent_tickets || []) {
      related.append(el("li", {}, el("strong", { text: t.ticket_id || t.id }), ` ${t.subject || ""} `, badge(`recent · ${t.status || "?"}`, "related")));
    }
    if (!related.children.length) related.append(el("li", { class: "muted", text: "No similar or recent tickets." }));
  }

  // ---------------------------------------------------------------- the proposal

  const MISSING_INPUT = { amount: "number", percent: "number" };

  // What a reviewer must fill before an action can be approved: its missing arguments, and the currency
  // that belongs to a missing amount (the server asks for both).
  function needed(action) {
    const missing = [...(action.missing || [])];
    if (missing.includes("amount") && !missing.includes("currency") && !(action.args || {}).currency) missing.push("currency");
    return missing;
  }

  function renderProposal() {
    const args = (state.interrupt.action_request || {}).args || {};
    const list = $("actions");
    list.replaceChildren();
    for (const action of args.actions || []) {
      const id = `act-${token(action.id)}`;
      const box = el("input", { type: "checkbox", id, checked: true, value: action.id });
      box.addEventListener("change", updateButtons);
      const shown = Object.entries(action.args || {}).filter(([k]) => !(action.name === "send_reply" && ["body", "citations"].includes(k)));
      const missing = needed(action);
      const inputs = missing.map((field) => {
        const inputId = `${id}-${token(field)}`;
        const input = el("input", { id: inputId, type: MISSING_INPUT[field] || "text", dataset: { action: action.id, field },
          step: MISSING_INPUT[field] ? "0.01" : undefined, min: MISSING_INPUT[field] ? "0" : undefined, class: "missing-input" });
        input.addEventListener("input", updateButtons);
        return el("span", { class: "missing-field" }, el("label", { for: inputId, text: `${words(field)} ` }), input);
      });
      list.append(el("li", { class: missing.length ? "incomplete" : "" },
        box,
        el("label", { for: id }, el("strong", { text: words(action.name) }), " ",
          badge(words(action.tier), `tier-${action.tier}`),
          missing.length ? badge(`incomplete: missing ${(action.missing || []).join(", ")}`, "incomplete") : null),
        el("dl", { class: "args small" }, shown.map(([k, v]) => [el("dt", { text: words(k) }), el("dd", { text: value(v) })])),
        inputs.length ? el("div", { class: "missing-fields" }, inputs) : null));
    }
    if (!(args.actions || []).length) list.append(el("li", { class: "muted", text: "No gated actions." }));
    const reply = (args.actions || []).find((a) => a.name === "send_reply");
    $("draft-to").textContent = reply ? `to ${value(reply.args && reply.args.to)}` : "";
    renderDraftPreview(args.reply || "");
    $("reply").value = args.reply || "";
    $("reply").dataset.original = args.reply || "";
    $("comment").value = "";
    for (const field of OVERRIDES) $(`o-${field}`).value = "";
    const changes = (state.view.packet || {}).changes;
    const previous = state.previousDraft ?? (changes ? changes.previous_draft : null);
    $("redraft-diff-box").hidden = previous === null;
    if (previous !== null) renderDiff($("redraft-diff"), previous, args.reply || "");
    updateButtons();
  }

  function renderDraftPreview(text) {
    const box = $("draft-preview");
    box.replaceChildren();
    for (const line of String(text).split("\n")) {
      const p = el("p");
      let last = 0;
      for (const m of line.matchAll(/\[([a-z0-9][a-z0-9_-]*)\]/g)) {
        p.append(line.slice(last, m.index));
        const source = sourceById(m[1]);
        p.append(source
          ? el("button", { type: "button", class: "cite", text: `[${m[1]}]`, "aria-label": `Open the cited passage ${m[1]}`,
            onclick: () => openPassage(source) })
          : el("span", { class: "cite unknown", text: `[${m[1]}]` }));
        last = m.index + m[0].length;
      }
      p.append(line.slice(last));
      box.append(p);
    }
  }

  function gatedActions() {
    return ((state.interrupt && state.interrupt.action_request.args.actions) || []);
  }

  function checkedIds() {
    return [...document.querySelectorAll("#actions input[type=checkbox]")].filter((b) => b.checked).map((b) => b.value);
  }

  const OVERRIDES = ["category", "priority", "escalation_team"];

  async function loadVocabulary() {
    const { status, data } = await api("GET", "v1/vocabulary");
    if (status !== 200) return;
    for (const field of OVERRIDES) {
      const select = $(`o-${field}`);
      select.replaceChildren(el("option", { value: "", text: "as triaged" }));
      for (const value of data[field] || []) select.append(el("option", { value, text: words(value) }));
    }
  }

  function overrides() {
    const out = {};
    for (const field of OVERRIDES) if ($(`o-${field}`).value) out[field] = $(`o-${field}`).value;
    return out;
  }

  function suppliedArgs() {
    const out = {};
    for (const input of document.querySelectorAll("#actions .missing-input")) {
      const v = input.value.trim();
      if (v) (out[input.dataset.action] ||= {})[input.dataset.field] = v;
    }
    return out;
  }

  function changed() {
    const subset = checkedIds().length !== gatedActions().length;
    const edited = $("reply").value !== $("reply").dataset.original;
    const supplied = Object.keys(suppliedArgs()).length > 0 || Object.keys(overrides()).length > 0;
    return { subset, edited, supplied };
  }

  function blockedIncomplete() {
    // Kept actions that still lack a required argument: neither Accept nor an edit can approve them.
    const kept = new Set(checkedIds()), supplied = suppliedArgs();
    return gatedActions().filter((a) => kept.has(a.id) && needed(a).some((f) => !(supplied[a.id] || {})[f]));
  }

  function updateButtons() {
    if (!state.interrupt) return;
    const { subset, edited, supplied } = changed();
    const blocked = blockedIncomplete();
    const busy = state.busy;
    const anyProposedIncomplete = gatedActions().some((a) => (a.missing || []).length);
    $("accept").disabled = busy || subset || edited || supplied || anyProposedIncomplete;
    $("edit").disabled = busy || !(subset || edited || supplied) || blocked.length > 0;
    for (const id of ["respond", "reject"]) $(id).disabled = busy;
    const notes = [];
    if (anyProposedIncomplete) notes.push(`Accept is off: ${gatedActions().filter((a) => (a.missing || []).length).map((a) => `${words(a.name)} lacks ${a.missing.join(", ")}`).join("; ")} — fill it in or uncheck it, then save the edit.`);
    if (blocked.length && (subset || edited || supplied)) notes.push(`Still incomplete: ${blocked.map((a) => words(a.name)).join(", ")}.`);
    if ((subset || edited || supplied) && !blocked.length) notes.push("You changed the proposal: “Save edit & approve” applies your version.");
    $("bar-state").textContent = notes.join(" ");
    $("reply-state").textContent = edited ? "Edited — your changes are shown below." : "";
    const diffBox = $("edit-diff-box");
    diffBox.hidden = !edited;
    if (edited) renderDiff($("edit-diff"), $("reply").dataset.original, $("reply").value);
  }

  function confirmRisky(actions) {
    // Never-without-approval actions ask once more, naming the amount and the recipient.
    const risky = actions.filter((a) => a.tier === "never_without_approval");
    if (!risky.length) return Promise.resolve(true);
    const reply = gatedActions().find((a) => a.name === "send_reply" && actions.includes(a));
    const list = $("confirm-list");
    list.replaceChildren();
    for (const a of risky) {
      const args = a.args || {};
      const amount = args.amount ? `${args.amount} ${args.currency || ""}`.trim() : args.percent ? `${args.percent} %` : null;
      list.append(el("li", {}, el("strong", { text: words(a.name) }),
        amount ? ` — amount ${amount}` : "", args.invoice ? ` · invoice ${args.invoice}` : "",
        ` · customer ${(reply && reply.args.to) || args.to || "(no reply in this decision)"}`));
    }
    return new Promise((resolve) => {
      const dialog = $("confirm");
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  function outcome(view) {
    const last = (view.decisions || []).slice(-1)[0];
    const applied = (view.ledger || []).map((row) => words(row.action)).join(", ") || "none";
    const by = last ? ` ${last.type} by ${last.reviewer} at ${when(last.at)}.` : "";
    return `Status: ${words(view.status)}.${by} Applied: ${applied}.`;
  }

  function setResult(text, kind = "info") {
    const box = $("decision-result");
    box.textContent = text;
    box.className = `banner ${kind}`;
    box.hidden = !text;
  }

  async function loadAudit(view) {
    const { status, data } = await api("GET", `v1/tickets/${encodeURIComponent(view.thread_id)}/audit`);
    const list = $("audit");
    list.replaceChildren();
    $("audit-box").hidden = false;
    const sent = $("sent");
    sent.replaceChildren();
    if (status !== 200) { list.append(el("li", { class: "muted", text: `Audit unavailable: ${errorText(status, data)}` })); return; }
    for (const e of data) {
      const d = e.detail || {};
      let detail = "";
      if (e.event === "action.applied") detail = `${words(d.action)} (${words(d.tier)})`;
      else if (e.event === "review.decided") detail = `${d.type || ""} → ${words(d.status || "")}`;
      else if (e.event === "review.claimed") detail = `${d.decision || ""}`;
      else if (e.event === "run.stopped") detail = words(d.status || "");
      list.append(el("li", {}, el("time", { text: when(e.at) }), " ", el("strong", { text: e.event }), ` by ${e.actor || "?"}`,
        detail ? el("span", { class: "small block", text: detail }) : null));
      if (e.event === "action.applied" && d.action === "send_reply" && d.args) {
        sent.append(el("h4", { text: `Sent to ${d.args.to || "?"}: ${d.args.subject || ""}` }), el("pre", { class: "sent-text", text: d.args.body || "" }));
      }
    }
    const last = (view.decisions || []).slice(-1)[0];
    const dropped = (last && last.changes && last.changes.dropped) || [];
    if (dropped.length) sent.append(el("p", { class: "small" }, el("strong", { text: "Dropped by the reviewer: " }), dropped.join(", ")));
    if (!sent.children.length) sent.append(el("p", { class: "small muted", text: "Nothing was sent to the customer." }));
  }

  async function decide(type, args) {
    if (!state.interrupt || state.busy) return;
    const threadId = state.view.thread_id;
    // Bound to what is on screen: if the proposal changed since (a redraft elsewhere), the server refuses with 409.
    const body = { interrupt_id: state.interrupt.id, type };
    if (state.interrupt.digest) body.digest = state.interrupt.digest;
    if (args !== undefined) body.args = args;
    state.busy = true;
    updateButtons();
    setResult("Sending your decision…", "info");
    if (type === "response") state.previousDraft = state.interrupt.action_request.args.reply || "";
    const { status, data } = await api("POST", `v1/tickets/${encodeURIComponent(threadId)}/review`, body);
    state.busy = false;
    if (status === 401) return;
    if (status === 200) {
      const redraft = type === "response" && data.status === "awaiting_review";
      pin("");
      await loadQueue();
      if (!redraft && $("auto-advance").checked && visibleItems().length) {
        await openTicket(visibleItems()[0].thread_id, { scroll: true });
        showMessage(`${data.ticket?.id || threadId}: ${words(data.status)} — opened the next ticket.`, "success");
        return;
      }
      renderDetail(data, true);
      setResult(redraft ? "Redrafted — the changes from the previous draft are shown; decide again." : `Done. ${outcome(data)}`, "success");
      return;
    }
    if (type === "response") state.previousDraft = null;
    const text = errorText(status, data);
    setResult(text, status === 409 ? "warning" : "error");
    if (status === 409 || status === 404) {
      pin(`${state.view.ticket?.id || threadId}: ${text}`, "warning");
      await loadQueue();
      const fresh = await api("GET", `v1/tickets/${encodeURIComponent(threadId)}`);
      if (fresh.status === 200) renderDetail(fresh.data, true);
    }
    updateButtons();
  }

  async function accept() {
    if ($("accept").disabled || !state.interrupt) return;
    if (await confirmRisky(gatedActions())) decide("accept");
  }

  async function saveEdit() {
    if ($("edit").disabled || !state.interrupt) return;
    const { subset, edited } = changed();
    const supplied = suppliedArgs();
    const kept = gatedActions().filter((a) => checkedIds().includes(a.id));
    const editArgs = {};
    if (edited) editArgs.reply = $("reply").value;
    if (Object.keys(overrides()).length) editArgs.overrides = overrides();
    if (subset || Object.keys(supplied).length || !edited && !editArgs.overrides) {
      editArgs.actions = kept.map((a) => (supplied[a.id] ? { id: a.id, args: supplied[a.id] } : a.id));
    }
    const shown = kept.map((a) => ({ ...a, args: { ...(a.args || {}), ...(supplied[a.id] || {}) } }));
    if (await confirmRisky(shown)) decide("edit", editArgs);
  }

  function redraft() {
    if (!state.interrupt) return;
    const comment = $("comment").value.trim();
    if (!comment) { setResult("Write what the redraft should change, then press Redraft again.", "info"); $("comment").focus(); return; }
    decide("response", comment);
  }

  // ---------------------------------------------------------------- knowledge gaps

  async function openGaps() {
    $("gaps").showModal();
    await loadGaps();
  }

  async function loadGaps() {
    const list = $("gaps-list");
    list.replaceChildren();
    $("gaps-status").textContent = "Loading…";
    const { status, data } = await api("GET", "v1/gaps");
    if (status !== 200) { $("gaps-status").textContent = `Could not load the proposals: ${errorText(status, data)}`; return; }
    $("gaps-status").textContent = data.length ? `${data.length} open proposal(s).` : "No open proposals.";
    for (const p of data) {
      const title = el("input", { type: "text", value: p.title, id: `gap-title-${token(p.id)}`, class: "gap-title" });
      const signals = Object.entries(p.signals || {}).map(([k, n]) => `${words(k)} ${n}`).join(", ");
      list.append(el("li", { class: "card gap" },
        el("label", { for: title.id, class: "small muted", text: "Article title" }), title,
        el("p", { class: "small" }, `score ${Number(p.score).toFixed(1)} · ${words(p.category) || "no category"} → ${p.owner} · ${signals}`),
        el("ul", { class: "small" }, (p.tickets || []).map((x) => el("li", { text: `${x.ticket_id}: ${x.subject || ""}` }))),
        el("pre", { class: "sent-text", text: p.article }),
        el("div", { class: "buttons" },
          el("button", { type: "button", class: "primary", text: "Accept into the knowledge base",
            onclick: () => decideGap(p.id, "accept", title.value) }),
          el("button", { type: "button", text: "Dismiss", onclick: () => decideGap(p.id, "dismiss") }))));
    }
  }

  async function decideGap(id, decision, title) {
    const body = { decision };
    if (decision === "accept" && title) body.title = title;
    const { status, data } = await api("POST", `v1/gaps/${encodeURIComponent(id)}/decision`, body);
    if (status !== 200) { $("gaps-status").textContent = errorText(status, data); return; }
    await loadGaps();
    $("gaps-status").textContent = decision === "accept"
      ? `Accepted: knowledge document ${data.document} written; new tickets can cite it.` : "Dismissed.";
  }

  // ---------------------------------------------------------------- presence

  async function ping(threadId) {
    const { status, data } = await api("POST", `v1/tickets/${encodeURIComponent(threadId)}/viewers`);
    const box = $("viewers");
    const others = status === 200 && Array.isArray(data.others) ? data.others : [];
    box.hidden = !others.length || state.selected !== threadId;
    box.textContent = others.length ? `Also viewing this ticket: ${others.map((o) => o.reviewer).join(", ")}` : "";
  }

  function watchPresence(threadId) {
    clearInterval(state.presence);
    ping(threadId);
    state.presence = setInterval(() => { if (!document.hidden && state.selected === threadId) ping(threadId); }, PRESENCE_MS);
  }

  // ---------------------------------------------------------------- wiring

  function typing(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function onKey(event) {
    if (!state.key || event.altKey || event.metaKey) return;
    if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes)
    if (event.ctrlKey && event.key === "Enter" && event.target === $("reply")) { event.preventDefault(); saveEdit(); return; }
    if (event.ctrlKey && event.key === "Enter" && event.target === $("comment")) { event.preventDefault(); redraft(); return; }
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); $("detail").focus({ preventScroll: true }); return; }
    if (event.ctrlKey || typing(event.target)) return;
    const actions = {
      j: () => step(1), k: () => step(-1), a: accept, x: () => !$("reject").disabled && decide("ignore", $("comment").value.trim() || undefined),
      e: () => { $("reply").focus(); $("reply").scrollIntoView({ block: "center" }); },
      r: () => { $("comment").focus(); $("comment").scrollIntoView({ block: "center" }); },
      "?": () => $("help").showModal(),
    };
    const run = actions[event.key];
    if (run && (state.interrupt || ["j", "k", "?"].includes(event.key))) { event.preventDefault(); run(); }
  }

  function init() {
    const ticketFromUrl = readFragment();
    $("login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = $("key").value.trim();
      if (!key) { $("login-error").textContent = "Paste your reviewer API key."; return; }
      sessionStorage.setItem(KEY_STORE, key);
      signIn(key);
      if (await loadQueue()) { showMessage("Signed in.", "success"); loadVocabulary(); }
    });
    $("forget").addEventListener("click", () => signOut("Key forgotten for this tab."));
    $("refresh").addEventListener("click", async () => {
      if (await loadQueue()) showMessage(`Queue refreshed at ${new Date().toLocaleTimeString()}.`, "info");
    });
    $("help-open").addEventListener("click", () => $("help").showModal());
    $("gaps-open").addEventListener("click", openGaps);
    $("pinned-close").addEventListener("click", () => pin(""));
    for (const id of ["f-tier", "f-category"]) $(id).addEventListener("change", loadQueue);
    for (const id of ["f-priority", "f-sla"]) $(id).addEventListener("change", renderQueue);
    const advance = $("auto-advance");
    advance.checked = localStorage.getItem(ADVANCE_STORE) !== "0"; // on unless the reviewer turned it off
    advance.addEventListener("change", () => localStorage.setItem(ADVANCE_STORE, advance.checked ? "1" : "0"));
    $("reply").addEventListener("input", updateButtons);
    for (const field of OVERRIDES) $(`o-${field}`).addEventListener("change", updateButtons);
    $("accept").addEventListener("click", accept);
    $("edit").addEventListener("click", saveEdit);
    $("respond").addEventListener("click", redraft);
    // Nothing gated is applied: no confirmation. A comment, if written, is the rejection's reason.
    $("reject").addEventListener("click", () => decide("ignore", $("comment").value.trim() || undefined));
    document.addEventListener("keydown", onKey);

    const key = sessionStorage.getItem(KEY_STORE);
    if (!key) { signOut(""); return; }
    signIn(key);
    loadQueue().then((ok) => { if (ok) loadVocabulary(); if (ok && ticketFromUrl) openTicket(ticketFromUrl); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
