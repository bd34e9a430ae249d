// Alerts wherever the officer is: every signed-in page of an operation holds one live connection (the
// rooms socket, /ws/operations/<code>/rooms/), whose `hello` and `pending` frames carry the warnings
// and alerts this member has yet to acknowledge. Each shows as a banner with "Acknowledge" until it is
// acknowledged (here or on any other page), the Rooms tab shows how many, and where the officer
// allowed it, a system notification (with vibration) when the page is in the background.
// On the room page, room.js already holds the socket: it hands its frames here (HubAlerts.frame).
// On the coordinators' acknowledgements page, the grid is read again whenever an acknowledgement arrives.
// Protocol: docs/protocol.md ("pending", "acknowledged").
"use strict";
(function () {
  if (!window.Hub) return;
  const codes = [...new Set([...document.querySelectorAll("[data-alerts-operation]")].map((n) => n.dataset.alertsOperation))].slice(0, 6);
  const roomPage = document.getElementById("room-config") !== null; // room.js owns the socket there
  const lang = document.documentElement.lang || undefined;
  const ops = {}; // code -> {pending: Map(id -> message), socket}
  const NOTIFIED = "hub-alerts-notified";

  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
  const kindLabel = { warning: Hub.t("Warning"), alert: Hub.t("Alert") };

  // --- the banners --------------------------------------------------------------------------------
  let region = null;
  function banners() {
    if (region) return region;
    region = el("section", "alert-banners");
    region.id = "alert-banners";
    region.setAttribute("aria-label", Hub.t("To acknowledge"));
    region.setAttribute("aria-live", "assertive");
    region.hidden = true;
    const main = document.querySelector("main");
    if (main) main.prepend(region); else document.body.prepend(region);
    return region;
  }

  function render() {
    if (roomPage) { counts(); return; } // the room page shows its own list (#pending-acks)
    const box = banners();
    box.replaceChildren();
    let shown = 0;
    for (const [code, op] of Object.entries(ops)) {
      for (const m of op.pending.values()) {
        shown += 1;
        const banner = el("div", `alert-banner kind-${m.kind}`);
        banner.id = `alert-${m.id}`;
        banner.dataset.message = m.id;
        banner.setAttribute("role", "alert");
        const head = el("p", "alert-head");
        head.append(el("span", `badge kind-badge kind-${m.kind}`, kindLabel[m.kind] || m.kind), " ");
        if (m.reminder_of) head.append(el("span", "badge alert-reminder", Hub.t("Reminder")), " ");
        const who = el("bdi", null, m.author.username || Hub.t("former member"));
        head.append(who);
        if (codes.length > 1) head.append(" ", el("code", "muted", code));
        const at = el("time", "muted", ` ${new Date(m.created_at).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" })}`);
        at.dateTime = m.created_at; head.append(at);
        const text = el("p", "alert-text prewrap", m.text || ""); text.dir = "auto";
        const actions = el("p", "alert-actions");
        const ack = el("button", "primary ack-button", Hub.t("Acknowledge")); ack.type = "button";
        ack.onclick = () => acknowledge(code, m.id, ack);
        const open = el("a", "alert-open", Hub.t("Open in Rooms"));
        open.href = `/operations/${encodeURIComponent(code)}/rooms/${m.room}/`;
        actions.append(ack, " ", open);
        banner.append(head, text, actions);
        box.append(banner);
      }
    }
    if (shown && "Notification" in window && Notification.permission === "default") {
      const ask = el("button", "link alert-notify", Hub.t("Notify me on this device when the page is in the background"));
      ask.type = "button";
      ask.onclick = () => Notification.requestPermission().then(render);
      box.append(ask);
    }
    box.hidden = shown === 0;
    counts();
  }

  // The Rooms tab: how many this member has yet to acknowledge.
  function counts() {
    for (const [code, op] of Object.entries(ops)) {
      for (const tab of document.querySelectorAll(`#operation-tabs a[href="/operations/${CSS.escape(encodeURIComponent(code))}/rooms/"]`)) {
        let badge = tab.querySelector(".alert-count");
        if (!badge) { badge = el("span", "badge alert-count"); tab.append(" ", badge); }
        badge.textContent = op.pending.size;
        badge.title = Hub.t("{count} to acknowledge", { count: op.pending.size });
        badge.setAttribute("aria-label", badge.title);
        badge.hidden = op.pending.size === 0;
      }
    }
  }

  async function acknowledge(code, id, button) {
    if (button) button.disabled = true;
    const op = ops[code];
    if (op.socket && op.socket.send({ type: "ack", ref: `alert-${id}`, message: id })) return; // "done" removes it
    try {
      await Hub.api(`/api/v1/operations/${encodeURIComponent(code)}/messages/${id}/ack`, { method: "POST" });
      op.pending.delete(id); render();
    } catch (err) {
      if (button) button.disabled = false;
    }
  }

  // --- system notifications, where the officer allowed them ---------------------------------------
  function notified() { try { return JSON.parse(localStorage.getItem(NOTIFIED) || "[]"); } catch (e) { return []; } }
  function notify(code, m) {
    const seen = notified();
    if (seen.includes(m.id)) return;
    localStorage.setItem(NOTIFIED, JSON.stringify([...seen, m.id].slice(-200)));
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const title = `${kindLabel[m.kind] || m.kind} · ${code}`;
    const options = { body: m.text || "", tag: `hub-alert-${m.id}`, requireInteraction: true, vibrate: [300, 100, 300], lang, dir: "auto",
      data: { url: `/operations/${encodeURIComponent(code)}/rooms/${m.room}/` } };
    if (navigator.vibrate) try { navigator.vibrate([300, 100, 300]); } catch (e) { /* not allowed here */ }
    try {
      const shown = new Notification(title, options); // desktop
      shown.onclick = () => { window.focus(); shown.close(); };
    } catch (e) { // phones: only through the service worker
      if (navigator.serviceWorker) navigator.serviceWorker.ready.then((reg) => reg.showNotification(title, options)).catch(() => {});
    }
  }

  // --- frames -------------------------------------------------------------------------------------
  // One banner per alert however often it was sent: a reminder stands for the alert it reminds of
  // (acknowledging either acknowledges both).
  function setPending(code, list) {
    const op = ops[code];
    const before = new Set(op.pending.keys());
    const latest = new Map();
    for (const m of list) latest.set(m.reminder_of || m.id, m); // oldest first: the last one wins
    list = [...latest.values()];
    op.pending = new Map(list.map((m) => [m.id, m]));
    for (const m of list) if (!before.has(m.id)) notify(code, m);
    render();
  }

  let gridTimer = null;
  function refreshGrid() { // the acknowledgements page: read the grid again, at most every 300 ms
    const live = document.getElementById("ack-live");
    if (!live || gridTimer) return;
    gridTimer = setTimeout(async () => {
      gridTimer = null;
      try {
        const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("ack-live");
        if (fresh) { live.replaceChildren(...fresh.childNodes); live.dataset.updated = String(Date.now()); }
      } catch (e) { /* the next acknowledgement tries again */ }
    }, 300);
  }

  function frame(code, f) {
    if (!ops[code]) ops[code] = { pending: new Map(), socket: null };
    switch (f.type) {
      case "hello": setPending(code, f.pending || []); refreshGrid(); break;
      case "pending": setPending(code, f.pending || []); break;
      case "done": if (f.action === "ack" && ops[code].pending.delete(f.message)) render(); break;
      case "acknowledged": refreshGrid(); break;
      case "heartbeat": // the database is the truth: a lost hint is made good within a heartbeat
        Hub.api(`/api/v1/operations/${encodeURIComponent(code)}/pending`).then((list) => setPending(code, list), () => {});
        break;
    }
  }

  for (const code of codes) {
    ops[code] = { pending: new Map(), socket: null };
    if (roomPage) continue;
    ops[code].socket = Hub.liveSocket(`/ws/operations/${encodeURIComponent(code)}/rooms/`, { onFrame: (f) => frame(code, f) });
  }
  window.HubAlerts = { frame, pending: (code) => [...(ops[code] ? ops[code].pending.values() : [])] };
})();
