// Shared helpers for the hub's pages: CSRF-aware fetch and a WebSocket that reconnects.
"use strict";
(function () {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function api(path, { method = "GET", body, headers = {} } = {}) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    if (method !== "GET") init.headers["X-CSRFToken"] = csrf();
    const response = await fetch(path, init);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) { const err = new Error((data && data.detail) || response.statusText); err.status = response.status; err.data = data; throw err; }
    return data;
  }

  // The pause before reconnecting: "full jitter" (anywhere from 0 to the capped exponential step), so
  // a thousand pages dropped at once (a deploy, a network blip) come back spread out, not in waves;
  // a server that shed load (an "overloaded" error frame with retry_after seconds, then close 4503)
  // is asked again no sooner than it said, spread over as long again.
  const RECONNECT_BASE_MS = 500, RECONNECT_CAP_MS = 30000;
  function reconnectDelay(attempt, retryAfterSeconds) {
    const step = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** attempt);
    const floor = Math.min(RECONNECT_CAP_MS, (retryAfterSeconds || 0) * 1000);
    return floor + Math.random() * Math.max(step, floor);
  }
  const FINAL_CLOSES = [4401, 4403, 4404]; // sign in again / another site / not a member: do not retry

  // A socket that reconnects with backoff; onOpen runs on every (re)connect, so callers can catch up.
  function liveSocket(path, { onOpen, onFrame, onState } = {}) {
    let socket = null, attempt = 0, stopped = false, timer = null;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    function setState(state) { onState && onState(state); }
    function connect() {
      setState("connecting");
      socket = new WebSocket(url);
      let heard = false, retryAfter = 0;
      socket.onopen = () => { setState("online"); onOpen && onOpen(send); };
      socket.onmessage = (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch (e) { console.error(e); return; }
        if (frame.type === "error" && frame.code === "overloaded") { retryAfter = frame.retry_after || 0; return; }
        // Served (not refused or shed right after the handshake): the back-off starts over.
        if (!heard) { heard = true; attempt = 0; }
        try { onFrame && onFrame(frame, send); } catch (e) { console.error(e); }
      };
      socket.onclose = (event) => {
        setState(event.code === 4401 ? "signed-out" : "offline");
        if (stopped || FINAL_CLOSES.includes(event.code)) return;
        timer = setTimeout(connect, reconnectDelay(attempt++, retryAfter));
      };
    }
    function send(frame) {
      if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
      return false;
    }
    window.addEventListener("online", () => { if (!socket || socket.readyState > 1) { clearTimeout(timer); attempt = 0; connect(); } });
    connect();
    return { send, close() { stopped = true; socket && socket.close(); }, get socket() { return socket; } };
  }

  function uuid() { return crypto.randomUUID ? crypto.randomUUID() : ([1e7]+-1e3+-4e3+-8e3+-1e11).replace(/[018]/g, c => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16)); }

  // The interface's words in the page's language (frontend/i18n.py); English when not translated.
  let strings = {};
  try { strings = JSON.parse(document.getElementById("ui-strings")?.textContent || "{}"); } catch (e) { strings = {}; }
  // More words from templates (<template data-ui-strings><i data-text="English">translated</i>…).
  for (const table of document.querySelectorAll("template[data-ui-strings]")) {
    for (const entry of table.content.querySelectorAll("[data-text]")) strings[entry.dataset.text] = entry.textContent;
  }
  function t(text, vars) {
    let out = strings[text] || text;
    for (const [name, value] of Object.entries(vars || {})) out = out.split(`{${name}}`).join(String(value));
    return out;
  }

  const fmt = new Intl.NumberFormat("en-GB");
  window.Hub = { api, liveSocket, reconnectDelay, uuid, csrf, t, formatNumber: (n) => fmt.format(n) };

  // The language picker in the top bar applies on choosing (without scripts, its button does).
  document.getElementById("language-select")?.addEventListener("change", (event) => event.target.form.submit());

  // The top bar's menu on a phone (app.css collapses the bar below 600 px once this runs).
  const menuButton = document.getElementById("menu-button");
  const menu = document.getElementById("site-menu");
  if (menuButton && menu) {
    const setOpen = (open) => { menuButton.setAttribute("aria-expanded", String(open)); menu.classList.toggle("open", open); };
    menuButton.addEventListener("click", () => setOpen(menuButton.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.classList.contains("open")) { setOpen(false); menuButton.focus(); }
    });
    menuButton.closest(".topbar").classList.add("menu-ready");
  }

  // A box that scrolls (a wide table in its card) can be scrolled from the keyboard: it takes the
  // focus when nothing inside it can (WCAG 2.1.1; axe's scrollable-region-focusable).
  function keyboardScroll() {
    for (const box of document.querySelectorAll("main *")) {
      const style = getComputedStyle(box);
      const scrolls = (/auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1)
        || (/auto|scroll/.test(style.overflowY) && box.scrollHeight > box.clientHeight + 1);
      const inside = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
      if (scrolls && !inside && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0; box.dataset.keyboardScroll = "";
        const heading = box.querySelector("h2, h3, caption");
        if (heading && !box.getAttribute("aria-label")) { box.setAttribute("role", "region"); box.setAttribute("aria-label", heading.textContent.trim()); }
      } else if (!scrolls && "keyboardScroll" in box.dataset) {
        box.removeAttribute("tabindex"); delete box.dataset.keyboardScroll;
      }
    }
  }
  let scrollCheck = null;
  const checkSoon = () => { clearTimeout(scrollCheck); scrollCheck = setTimeout(keyboardScroll, 150); };
  window.addEventListener("load", checkSoon);
  window.addEventListener("resize", checkSoon);
  const main = document.querySelector("main");
  if (main && "MutationObserver" in window) new MutationObserver(checkSoon).observe(main, { childList: true, subtree: true });
  Hub.keyboardScroll = checkSoon; // for pages whose scripts fill in tables later

  // Buttons that ask first (data-confirm holds the question, in the page's language).
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
