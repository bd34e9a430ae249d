// Every signed-in page: the outbox indicator in the top bar, the outbox flushed (on load, when the
// network returns, every 15 s, and by the service worker's Background Sync), the service worker
// registered, and the outbox list (the outbox page, and the post form's own list).
// The outbox itself is outbox-store.js; forms queue through HubPageOutbox.queue().
"use strict";
(function () {
  const indicator = document.getElementById("outbox-indicator");
  if (!indicator || !window.HubOutbox || !window.indexedDB) return;
  const user = indicator.dataset.user;
  const operation = indicator.dataset.operation || "";
  const PAGES_CACHE = "cencomm-hub-pages";
  const SYNC_TAG = "cencomm-hub-outbox";
  const t = Hub.t;

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
    return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : Hub.csrf();
  }
  // The session the worker flushes with; written again only when the CSRF token changed.
  let sessionWritten = csrfToken();
  const ready = HubOutbox.setSession({ user, csrf: sessionWritten }).then(migrateLegacy);
  function sessionFresh() {
    const csrf = csrfToken();
    if (csrf === sessionWritten) return null;
    sessionWritten = csrf;
    return HubOutbox.setSession({ user, csrf });
  }

  // --- flushing: one run at a time in this page. What is queued during a run goes in that run
  // (HubOutbox.flush takes what was queued meanwhile, right after the item on its way); a call
  // during a run also gets the next run, which starts after it, for what the run missed. -------
  let running = null, next = null;
  function run() {
    return ready
      .then(async () => { await sessionFresh(); render(true); return HubOutbox.flush(); })
      .catch((e) => { console.error(e); return null; })
      .finally(() => { running = null; render(false); });
  }
  function flush() {
    if (!running) return (running = run());
    if (!next) next = running.then(() => { next = null; return flush(); });
    return next;
  }

  // Queue an item (its client ID decides: the same draft is one record however often it is queued),
  // then send it at once, with no timer or Background Sync waited for: the try starts as soon as
  // the item is stored (stored first, so a failed try keeps it). Resolves to the item as it stands
  // after that try (null: sent).
  async function queue(item) {
    await ready;
    await HubOutbox.put({ ...item, user });
    await flush();
    const left = await HubOutbox.get(item.clientId);
    if (left && left.state !== "refused") askForSync(); // not sent yet: the worker sends it when it can
    return left;
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(SYNC_TAG))
      .catch(() => {}); // no Background Sync here: the pages' timer and `online` do it
  }

  // --- the indicator: "2 waiting · sending…", "1 refused", "offline" -----------------------------
  async function render(sending) {
    const items = await HubOutbox.list(user).catch(() => []);
    const waiting = items.filter((i) => i.state !== "refused").length;
    const refused = items.length - waiting;
    const parts = [];
    if (!navigator.onLine) parts.push(t("offline"));
    if (waiting) parts.push(t("{n} waiting", { n: waiting }));
    if (refused) parts.push(t("{n} refused", { n: refused }));
    if (waiting && sending && navigator.onLine) parts.push(t("sending…"));
    if (!parts.length) parts.push(t("all sent"));
    indicator.querySelector(".outbox-text").textContent = parts.join(" · ");
    indicator.dataset.state = refused ? "refused" : waiting ? "waiting" : navigator.onLine ? "empty" : "offline";
    indicator.dataset.waiting = waiting; indicator.dataset.refused = refused;
    indicator.title = t("Outbox");
    for (const list of lists) await list.render(items);
  }

  // --- lists of what waits: the outbox page (everything) and the post form (its results) ---------
  const lists = [];
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
  const kindNames = { result: t("Result"), nil: t("Nil return"), photo: t("Photo"), message: t("Message") };

  function reason(item) {
    if (item.state === "refused") {
      const r = item.refusal || {};
      const fields = Object.entries(r.errors || {}).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`);
      const detail = [r.detail, ...fields].filter(Boolean).join(" — ");
      return r.status === 409 ? t("Refused by the hub: {detail}", { detail }) : t("Refused: {detail}", { detail: detail || r.status });
    }
    const p = item.problem;
    if (!p) return item.state === "sending" ? t("sending…") : t("waiting to be sent");
    if (p.code === "signin") return t("Sign in again to send it.");
    if (p.code === "server") return t("server said {status}", { status: p.status });
    return t("no network");
  }

  function itemNode(item) {
    const li = el("li", `outbox-entry state-${item.state}`);
    li.dataset.clientId = item.clientId; li.dataset.state = item.state;
    const head = el("div", "outbox-entry-head");
    head.append(el("strong", null, kindNames[item.kind] || item.kind), el("span", "muted", ` ${item.op} · ${new Date(item.createdAt).toLocaleString(document.documentElement.lang)}`));
    const label = el("p", "outbox-label", item.label || ""); label.dir = "auto";
    li.append(head, label, el("p", item.state === "refused" ? "outbox-reason error" : "outbox-reason muted", reason(item)));
    if (item.state === "refused") {
      const actions = el("div", "outbox-actions");
      if (item.kind === "result") {
        const fix = el("a", "button", t("Correct it"));
        fix.href = `/operations/${encodeURIComponent(item.op)}/results/new/?draft=${encodeURIComponent(item.clientId)}`;
        actions.append(fix);
      }
      const drop = el("button", "danger", t("Discard")); drop.type = "button";
      drop.onclick = async () => { if (window.confirm(t("Discard it? It will not be sent."))) { await HubOutbox.discard(item.clientId); render(false); } };
      actions.append(drop);
      li.append(actions);
    }
    return li;
  }

  // A list of the outbox's items in `container`; `only(item)` picks which; `box` is hidden when empty.
  function attachList(container, { only = () => true, box = null, node = itemNode } = {}) {
    const list = {
      async render(items) {
        const shown = items.filter(only);
        container.replaceChildren(...shown.map(node));
        if (box) box.hidden = shown.length === 0;
      },
    };
    lists.push(list);
    HubOutbox.list(user).then((items) => list.render(items)).catch(() => {});
    return list;
  }

  // --- the confirmation panel: fixed where the officer looks, announced to screen readers --------
  // state: "posted" | "saved" | "refused"; the element is a role=status region that stays in the DOM.
  function show(panel, { state, title, text, href, linkText }) {
    panel.replaceChildren();
    panel.className = `confirmation ${state}`;
    const body = el("div", "confirmation-body");
    body.append(el("strong", "confirmation-title", title));
    if (text) { const p = el("span", "confirmation-text", text); p.dir = "auto"; body.append(p); }
    if (href) { const a = el("a", "confirmation-link", linkText); a.href = href; body.append(a); }
    const close = el("button", "link confirmation-close", "×"); close.type = "button";
    close.setAttribute("aria-label", t("Close"));
    close.onclick = () => { panel.replaceChildren(); panel.className = ""; };
    panel.append(body, close);
    panel.tabIndex = -1;
    panel.focus({ preventScroll: true });
  }

  // --- the page's events -------------------------------------------------------------------------
  HubOutbox.on(() => render(Boolean(running)));
  window.addEventListener("online", () => { render(false); flush(); });
  window.addEventListener("offline", () => render(false));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) flush(); });
  setInterval(() => { if (navigator.onLine) flush(); }, 15000);

  // Signing out: this phone forgets the signed-in pages it kept; what waits is kept for the same
  // officer (it is sent again once they sign in, never under another account).
  document.querySelectorAll('form[action="/accounts/logout/"]').forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.cleared) return;
      event.preventDefault();
      Promise.allSettled([HubOutbox.setSession({ user: null, csrf: "" }), window.caches ? caches.delete(PAGES_CACHE) : null])
        .finally(() => { form.dataset.cleared = "1"; form.submit(); });
    });
  });

  // --- the service worker: precaches the app shell, keeps the pages seen, flushes in background --
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => console.warn("service worker", e));
    navigator.serviceWorker.ready.then((registration) => {
      // Keep the pages an officer needs offline, seen or not yet: the outbox, and this operation's
      // post form, nil return (the results list) and rooms.
      const urls = ["/outbox/"];
      if (operation) {
        const base = `/operations/${encodeURIComponent(operation)}`;
        urls.push(`${base}/results/new/`, `${base}/results/`, `${base}/rooms/`, `${base}/`);
      }
      if (navigator.onLine && registration.active) registration.active.postMessage({ type: "keep-pages", urls });
    });
  }

  // --- what the earlier pages kept in localStorage moves into the outbox, once -------------------
  async function migrateLegacy() {
    for (const key of Object.keys(localStorage)) {
      let items;
      const results = key.match(/^hub\.outbox\.(.+)$/);
      const messages = key.match(/^hub-outbox:(.+):(\d+)$/);
      if (!results && !(messages && messages[2] === user)) continue;
      try { items = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { items = []; }
      for (const item of items) {
        if (results && item.body && item.body.client_id) {
          const op = results[1];
          await HubOutbox.put({
            clientId: item.body.client_id, kind: "result", user, op, body: item.body,
            path: `/api/v1/operations/${encodeURIComponent(op)}/results`,
            label: item.body.lines.map((l) => `${l.quantity} ${l.unit} ${l.category}`).join(", "),
          });
        } else if (messages && item.client_id) {
          const op = messages[1];
          const body = { client_id: item.client_id, text: item.text || "", kind: item.kind || "chat", handling: item.handling || "operation",
            entry_points: item.entry_points || [], attachments: item.attachments || [] };
          if (item.reply_to) body.reply_to = item.reply_to;
          if (item.warning) body.warning = item.warning;
          await HubOutbox.put({
            clientId: item.client_id, kind: "message", user, op, room: item.room, body, label: item.text || "",
            path: `/api/v1/operations/${encodeURIComponent(op)}/rooms/${item.room}/messages`,
          });
        }
      }
      localStorage.removeItem(key);
    }
  }

  // The outbox page: everything that waits on this phone, with the reason for anything refused.
  const pageList = document.getElementById("outbox-page-list");
  if (pageList) {
    attachList(pageList, {});
    const empty = document.getElementById("outbox-page-empty");
    lists.push({ async render(items) { if (empty) empty.hidden = items.length > 0; } });
  }
  // The results list: this phone's results not yet on the hub come first, as rows (cards on a
  // phone) with their outbox state, and a link to correct a refused one.
  function resultRow(item) {
    const row = el("tr", `result-card ${item.state === "refused" ? "refused" : "waiting"}`);
    row.dataset.clientId = item.clientId;
    const cell = (field, content) => { const td = el("td"); td.dataset.field = field; if (content) td.append(content); row.append(td); return td; };
    const at = item.body && item.body.inspected_at ? new Date(item.body.inspected_at) : new Date(item.createdAt);
    cell("when", el("span", null, at.toLocaleString(document.documentElement.lang, { dateStyle: "medium", timeStyle: "short" })));
    cell("place"); cell("outcome"); cell("origin");
    const goods = el("bdi", null, item.label || ""); cell("goods", goods);
    cell("validation"); cell("version");
    const state = el("a", `sync-state ${item.state === "refused" ? "sync-refused" : "sync-waiting"}`, reason(item));
    state.href = item.state === "refused" && item.kind === "result"
      ? `/operations/${encodeURIComponent(item.op)}/results/new/?draft=${encodeURIComponent(item.clientId)}` : "/outbox/";
    cell("sync", state);
    return row;
  }
  const waitingRows = document.getElementById("results-waiting");
  if (waitingRows) attachList(waitingRows, { node: resultRow, only: (i) => i.kind === "result" && i.op === waitingRows.dataset.operation });

  document.querySelectorAll("[data-outbox-send]").forEach((button) => button.addEventListener("click", () => flush()));

  window.HubPageOutbox = { ready, queue, flush, show, attachList, render, user, get flushing() { return Boolean(running); } };
  render(false);
  flush();
})();
