// The room page: one socket for all of the member's rooms, messages sent through the hub's outbox
// (outbox-store.js: IndexedDB, sent over HTTP with their client ID, from any page or the worker),
// catch-up by sequence number, history on scroll back. Protocol: docs/protocol.md.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("room-config").textContent);
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const rooms = {};          // id -> {seq, rev, name, read, messages: Map(seq -> message)}
  let current = config.room;
  let socket = null;
  let oldestLoaded = null;   // lowest seq shown in the current room
  let historyPending = false, historyComplete = false;
  let context = null;        // {reply_to, warning, label}
  const pending = new Map(); // message id -> message awaiting my acknowledgement
  const files = [];          // attachments uploaded for the next message: {id, name, content_type}

  // --- the outbox: every message I send waits there until the server confirms it ----------------
  const hubOutbox = window.HubPageOutbox;
  const messagesPath = (room) => `/api/v1/operations/${encodeURIComponent(config.code)}/rooms/${room}/messages`;
  const stateOf = (item) => (item.state === "refused" ? "failed" : item.problem ? "retrying" : "sending");
  function errorOf(item) {
    const r = item.refusal || {};
    return Object.values(r.errors || {}).flat().join(" ") || r.detail || String(r.status || "");
  }
  async function showOutboxItem(clientId) {
    const item = await HubOutbox.get(clientId);
    if (!item) { document.getElementById(`out-${clientId}`)?.remove(); offlineNotice(); return; }
    if (item.kind === "message" && item.op === config.code) renderOutboxItem({ client_id: item.clientId, room: item.room, text: item.body.text, state: stateOf(item), error: errorOf(item) });
    offlineNotice();
  }

  // --- with no connection: the room's messages are not kept on this device (docs/security.md:
  // no message text is stored on a phone), so the page says so, and how many of mine wait to go;
  // those it shows, from the outbox. ---------------------------------------------------------------
  let live = false; // a `hello` came on the socket as it is now
  async function offlineNotice() {
    const notice = $("room-offline");
    if (!notice) return;
    notice.hidden = live;
    if (live) return;
    const items = await HubOutbox.list(hubOutbox.user).catch(() => []);
    const waiting = items.filter((i) => i.kind === "message" && i.op === config.code && i.state !== "refused").length;
    notice.querySelector(".offline-waiting").textContent = Hub.t("Your messages waiting to be sent: {n}", { n: waiting });
    if (!rooms[current] || !rooms[current].messages.size) $("history-state").textContent = "";
  }
  HubOutbox.on((event) => {
    if (!event.clientId) return;
    if (event.type === "sent" && event.kind === "message" && event.data) {
      document.getElementById(`out-${event.clientId}`)?.remove();
      const m = event.data, room = rooms[m.room];
      if (room && !room.messages.has(m.seq)) { room.messages.set(m.seq, m); if (m.room === current) placeMessage(m); }
    } else showOutboxItem(event.clientId);
  });

  // --- rendering (text always through textContent, never as HTML) ------------------------------
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; };
  const lang = document.documentElement.lang || undefined;
  const time = (iso) => new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  const fullDate = (iso) => new Date(iso).toLocaleString(lang, { dateStyle: "full", timeStyle: "short" });
  const dayKey = (iso) => { const d = new Date(iso); return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`; };
  function dayLabel(iso) { // "Today", "Yesterday" (in the page's language), else the full date
    const d = new Date(iso), today = new Date();
    const days = Math.round((new Date(today.getFullYear(), today.getMonth(), today.getDate()) - new Date(d.getFullYear(), d.getMonth(), d.getDate())) / 86400000);
    if (days === 0 || days === 1) {
      const word = new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(-days, "day");
      return word.charAt(0).toLocaleUpperCase(lang) + word.slice(1);
    }
    return d.toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  }
  const kindLabel = { chat: "", warning: Hub.t("Warning"), feedback: Hub.t("Feedback"), alert: Hub.t("Alert") };

  function messageNode(m) {
    const node = el("article", `msg kind-${m.kind}${m.author.id === config.me.id ? " mine" : ""}${m.withdrawn ? " withdrawn" : ""}`);
    node.id = `msg-${m.room}-${m.seq}`;
    node.dataset.seq = m.seq; node.dataset.clientId = m.client_id;
    const head = el("header", "msg-head");
    if (kindLabel[m.kind]) head.append(el("span", `badge kind-badge kind-${m.kind}`, kindLabel[m.kind]));
    head.append(el("strong", null, m.author.username || Hub.t("former member")));
    if (m.author.entry_point) head.append(el("span", "muted", ` @ ${m.author.entry_point}`));
    const stamp = el("time", "muted msg-time", ` ${time(m.created_at)}`);
    stamp.dateTime = m.created_at; stamp.title = fullDate(m.created_at); // the full date on hover
    head.append(stamp);
    if (m.edited_at) { const edited = el("span", "muted", ` · ${Hub.t("edited")}`); edited.title = fullDate(m.edited_at); head.append(edited); }
    if (m.handling === "hub_only") head.append(el("span", "badge handling", Hub.t("hub only")));
    node.append(head);
    if (m.reply_to || m.warning) {
      const ref = rooms[m.room] && [...rooms[m.room].messages.values()].find((x) => x.id === (m.warning || m.reply_to));
      node.append(el("p", "msg-ref muted", `${m.warning ? Hub.t("Feedback on warning") : Hub.t("Reply to")} ${ref ? "#" + ref.seq + ": " + (ref.text || "").slice(0, 80) : Hub.t("an earlier message")}`));
    }
    if (m.reminder_of) {
      const first = rooms[m.room] && [...rooms[m.room].messages.values()].find((x) => x.id === m.reminder_of);
      node.append(el("p", "msg-ref muted", Hub.t("Reminder of #{seq}", { seq: first ? first.seq : "…" })));
    }
    const named = (list, ids) => (ids || []).map((id) => (list.find((e) => e.id === id) || {}).name).filter(Boolean);
    const names = [...named(config.entryPoints, m.entry_points), ...named(config.administrations || [], m.administrations)];
    const roles = named(config.roles || [], m.roles);
    if ((m.kind === "warning" || m.kind === "alert") && (names.length || roles.length || (m.recipients || []).length)) {
      const to = (m.recipients || []).length ? Hub.t("{count} member(s) who had not acknowledged", { count: m.recipients.length })
        : [names.join(", "), roles.join(", ")].filter(Boolean).join(" · ");
      const line = el("p", "msg-targets muted", Hub.t("To: {names}", { names: to })); line.dir = "auto";
      node.append(line);
    }
    const body = el("p", "msg-text prewrap", m.withdrawn ? Hub.t("(withdrawn by the author)") : m.text);
    body.dir = "auto"; // a message's own direction, whatever the interface's
    node.append(body);
    if (m.attachments.length) {
      const box = el("div", "attachments");
      for (const a of m.attachments) {
        const url = `/api/v1/operations/${encodeURIComponent(config.code)}/attachments/${a.id}`;
        const link = el("a", "attachment"); link.href = url; link.target = "_blank"; link.rel = "noopener";
        if (a.preview) { const img = el("img"); img.src = url; img.alt = a.name; img.loading = "lazy"; img.onload = keepAtBottom; link.append(img); }
        else link.append(el("span", "pdf", `📄 ${a.name}`));
        box.append(link);
      }
      node.append(box);
    }
    const actions = el("div", "msg-actions");
    if (m.acked === false) {
      const ack = el("button", "primary ack-button", Hub.t("Acknowledge")); ack.type = "button";
      ack.onclick = () => acknowledge(m.id); actions.append(ack);
    } else if (m.acked === true) actions.append(el("span", "badge acked", Hub.t("acknowledged")));
    if (!m.withdrawn && config.kinds.length) {
      const reply = el("button", "link", Hub.t("Reply")); reply.type = "button";
      reply.onclick = () => setContext({ reply_to: m.id, label: Hub.t("Reply to #{seq}", { seq: m.seq }) }); actions.append(reply);
      if (m.kind === "warning" && config.kinds.includes("feedback")) {
        const fb = el("button", "link", Hub.t("Send feedback")); fb.type = "button";
        fb.onclick = () => setContext({ warning: m.id, label: Hub.t("Feedback on warning #{seq}", { seq: m.seq }) }); actions.append(fb);
      }
      const age = (Date.now() - new Date(m.created_at).getTime()) / 1000;
      if (m.author.id === config.me.id && age < config.editSeconds) {
        const edit = el("button", "link", Hub.t("Edit")); edit.type = "button";
        edit.onclick = () => { const text = prompt(Hub.t("Edit message"), m.text); if (text != null && text.trim()) socket.send({ type: "edit", ref: `e${m.id}`, message: m.id, text }); };
        const withdraw = el("button", "link danger", Hub.t("Withdraw")); withdraw.type = "button";
        withdraw.onclick = () => { if (confirm(Hub.t("Withdraw this message?"))) socket.send({ type: "withdraw", ref: `w${m.id}`, message: m.id }); };
        actions.append(edit, withdraw);
      }
    }
    node.append(actions);
    return node;
  }

  let stickToBottom = true;
  // A link to one message (the search page's: #msg-<room>-<seq>): load back to it, show it, mark it.
  let target = /^#msg-(\d+)-(\d+)$/.exec(location.hash);
  function revealTarget() {
    if (!target || Number(target[1]) !== current) return;
    const node = document.getElementById(location.hash.slice(1));
    if (node) {
      target = null; stickToBottom = false;
      node.classList.add("target"); node.style.outline = "3px solid #f0b429"; node.style.outlineOffset = "2px";
      node.scrollIntoView({ block: "center" });
    } else if (oldestLoaded !== null && oldestLoaded > Number(target[2]) && !historyPending && !historyComplete) {
      historyPending = true;
      socket.send({ type: "history", ref: "t", room: current, before_seq: oldestLoaded, limit: 100 });
    }
  }
  function keepAtBottom() { if (stickToBottom) list.scrollTop = list.scrollHeight; }

  function placeMessage(m) {
    const node = messageNode(m);
    const existing = document.getElementById(node.id);
    if (existing) { existing.replaceWith(node); return; }
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    const after = [...list.querySelectorAll("article.msg[data-seq]")].find((n) => Number(n.dataset.seq) > m.seq);
    list.insertBefore(node, after || list.querySelector(".outbox-item") || null);
    if (oldestLoaded === null || m.seq < oldestLoaded) oldestLoaded = m.seq;
    markDays();
    if (nearBottom || m.author.id === config.me.id) list.scrollTop = list.scrollHeight;
  }

  // A line with the day wherever the day changes between two messages (and before the first).
  function markDays() {
    list.querySelectorAll(".day-sep").forEach((n) => n.remove());
    let previous = null;
    for (const node of list.querySelectorAll("article.msg[data-seq]")) {
      const m = rooms[current] && rooms[current].messages.get(Number(node.dataset.seq));
      if (!m) continue;
      const key = dayKey(m.created_at);
      if (key !== previous) {
        const sep = el("p", "day-sep muted"); sep.setAttribute("role", "separator");
        const label = el("time", null, dayLabel(m.created_at)); label.dateTime = m.created_at.slice(0, 10); label.title = fullDate(m.created_at);
        sep.append(label); node.before(sep);
      }
      previous = key;
    }
  }

  function renderOutboxItem(item) {
    if (item.room !== current) return;
    let node = document.getElementById(`out-${item.client_id}`);
    if (!node) {
      node = el("article", "msg mine outbox-item");
      node.id = `out-${item.client_id}`;
      node.append(el("p", "msg-text prewrap", item.text || "(attachment)"), el("p", "send-state muted"));
      list.append(node); list.scrollTop = list.scrollHeight;
    }
    const state = node.querySelector(".send-state");
    state.textContent = { sending: Hub.t("sending…"), retrying: Hub.t("not sent yet — retrying"), failed: Hub.t("failed: {error}", { error: item.error || Hub.t("refused") }) }[item.state] || item.state;
    node.dataset.state = item.state;
    if (item.state === "failed" && !node.querySelector(".discard")) {
      const discard = el("button", "link danger discard", Hub.t("Discard")); discard.type = "button";
      discard.onclick = () => { HubOutbox.discard(item.client_id); node.remove(); };
      node.append(discard);
    }
  }

  function setContext(ctx) {
    context = ctx;
    const box = $("composer-context");
    if (!box) return;
    box.hidden = !ctx; if (ctx) { box.querySelector("span").textContent = ctx.label; $("composer-text").focus(); }
  }

  function renderPending() {
    const box = $("pending-acks");
    box.replaceChildren();
    for (const m of pending.values()) {
      const row = el("div", `pending kind-${m.kind}`);
      row.append(el("strong", null, Hub.t("{kind} from {name}: ", { kind: kindLabel[m.kind], name: m.author.username })), el("span", null, m.text || ""));
      const ack = el("button", "primary ack-button", Hub.t("Acknowledge")); ack.type = "button"; ack.onclick = () => acknowledge(m.id);
      row.append(ack); box.append(row);
    }
    box.hidden = pending.size === 0;
  }

  function acknowledge(id) { socket && socket.send({ type: "ack", ref: `a${id}`, message: id }); }

  function markRead() {
    const room = rooms[current];
    if (!room || !socket || document.hidden) return;
    const seen = Math.max(0, ...room.messages.keys());
    if (seen > (room.read || 0)) { room.read = seen; socket.send({ type: "read", room: current, seq: seen }); }
    updateUnread();
  }

  function updateUnread() {
    for (const [id, room] of Object.entries(rooms)) {
      const badge = document.querySelector(`#room-list a[data-room="${id}"] .unread`);
      if (!badge) continue;
      const unread = Number(id) === current ? 0 : Math.max(0, room.seq - (room.read || 0));
      badge.hidden = unread === 0; badge.textContent = unread;
    }
  }

  // --- frames from the server -----------------------------------------------------------------
  function onFrame(frame) {
    if (window.HubAlerts) HubAlerts.frame(config.code, frame); // the Rooms tab's count, notifications
    switch (frame.type) {
      case "hello": {
        live = true; offlineNotice();
        for (const r of frame.rooms) {
          const known = rooms[r.id];
          rooms[r.id] = known || { seq: r.seq, rev: r.rev, read: r.read, name: r.name, messages: new Map(), cursor: null };
          rooms[r.id].seq = r.seq; rooms[r.id].read = Math.max(rooms[r.id].read || 0, r.read);
        }
        pending.clear(); for (const m of frame.pending) pending.set(m.id, m); renderPending();
        renderOnline(frame.online);
        subscribeAll();
        break;
      }
      case "messages": {
        const room = rooms[frame.room]; if (!room) break;
        for (const m of frame.messages) {
          room.messages.set(m.seq, m);
          room.cursor = room.cursor || { seq: 0, rev: 0 };
          room.cursor.seq = Math.max(room.cursor.seq, m.seq); room.cursor.rev = Math.max(room.cursor.rev, m.rev);
          room.seq = Math.max(room.seq, m.seq);
          if (m.author.id === config.me.id && document.getElementById(`out-${m.client_id}`)) { HubOutbox.discard(m.client_id); document.getElementById(`out-${m.client_id}`).remove(); }
          if (m.acked === false && !m.withdrawn) pending.set(m.id, m); else pending.delete(m.id);
          if (frame.room === current) placeMessage(m);
        }
        renderPending(); markRead(); updateUnread(); revealTarget();
        break;
      }
      case "subscribed": {
        const room = rooms[frame.room];
        room.cursor = { seq: Math.max(frame.seq, room.cursor ? room.cursor.seq : 0), rev: Math.max(frame.rev, room.cursor ? room.cursor.rev : 0) };
        if (frame.room === current) {
          historyComplete = oldestLoaded === null || oldestLoaded <= 1;
          $("history-state").textContent = oldestLoaded === null ? Hub.t("No messages yet.") : historyComplete ? Hub.t("Start of the room.") : "";
        }
        break;
      }
      case "history": {
        historyPending = false;
        if (frame.room !== current) break;
        const before = list.scrollHeight;
        for (const m of frame.messages) { rooms[frame.room].messages.set(m.seq, m); placeMessage(m); }
        list.scrollTop += list.scrollHeight - before;
        historyComplete = frame.complete;
        $("history-state").textContent = frame.complete ? Hub.t("Start of the room.") : "";
        revealTarget();
        break;
      }
      case "pending": { // what I have yet to acknowledge, on any page of mine (alerts.js)
        pending.clear(); for (const m of frame.pending) pending.set(m.id, m); renderPending();
        for (const room of Object.values(rooms)) for (const m of room.messages.values()) if (m.acked === false && !pending.has(m.id)) markAcked(m.id);
        break;
      }
      case "done": if (frame.action === "ack") { pending.delete(frame.message); renderPending(); markAcked(frame.message); } break;
      case "heartbeat": {
        if (frame.online) renderOnline(frame.online);
        // A gap (a lost live event): ask again from where we are. The server also fills it.
        const behind = Object.entries(frame.rooms).filter(([id, head]) => rooms[id] && rooms[id].cursor && head.seq > rooms[id].cursor.seq);
        if (behind.length) setTimeout(() => {
          const still = behind.filter(([id, head]) => head.seq > rooms[id].cursor.seq);
          if (still.length) socket.send({ type: "subscribe", rooms: still.map(([id]) => ({ room: Number(id), after_seq: rooms[id].cursor.seq, after_rev: rooms[id].cursor.rev })) });
        }, 2000);
        break;
      }
      case "presence": renderOnline(frame.online); break;
      case "rooms": location.reload(); break; // what I may see changed
      case "error": {
        if (frame.code === "beyond_head" && rooms[frame.room]) { resyncFromHead(frame); break; }
        showError(frame.message);
        break;
      }
    }
  }

  function markAcked(id) {
    for (const room of Object.values(rooms)) for (const m of room.messages.values()) if (m.id === id) { m.acked = true; if (m.room === current) placeMessage(m); }
  }

  function renderOnline(online) {
    const ul = $("online-list"); ul.replaceChildren();
    for (const p of online) {
      const li = el("li"); li.append(el("span", "status-dot online"), el("span", null, ` ${p.username}`));
      li.append(el("span", "muted", p.entry_point ? ` @ ${p.entry_point}` : ` (${p.role})`)); ul.append(li);
    }
    $("online-count").textContent = online.length;
  }

  function subscribeAll() {
    const cursors = Object.entries(rooms).map(([id, room]) => {
      if (room.cursor) return { room: Number(id), after_seq: room.cursor.seq, after_rev: room.cursor.rev };
      // First load: the last 50 messages of the room in view, live traffic only for the others.
      return { room: Number(id), after_seq: Number(id) === current ? Math.max(0, room.seq - 50) : room.seq };
    });
    socket.send({ type: "subscribe", ref: "all", rooms: cursors });
    hubOutbox.flush(); // connected again: what waits goes now
  }

  // The server's room is behind what this page holds (another server's data, a restored database):
  // what the page shows cannot be trusted. Drop it and start again from the server's head, as a
  // first load does (the last 50 messages; older ones by scrolling back).
  function resyncFromHead(frame) {
    const room = rooms[frame.room];
    room.messages.clear(); room.cursor = null; room.seq = frame.seq; room.rev = frame.rev;
    room.read = Math.min(room.read || 0, frame.seq);
    if (frame.room === current) {
      for (const node of list.querySelectorAll("article.msg[data-seq]")) node.remove();
      oldestLoaded = null; historyComplete = false;
    }
    socket.send({ type: "subscribe", ref: "resync", rooms: [{ room: frame.room, after_seq: Math.max(0, frame.seq - 50), after_rev: frame.rev }] });
    updateUnread();
  }

  function showError(message) { const p = $("composer-error"); if (p) { p.textContent = message; p.hidden = !message; } }

  // --- sending ---------------------------------------------------------------------------------
  async function uploadFiles(input) {
    for (const file of input.files) {
      const form = new FormData(); form.append("file", file); form.append("handling", $("composer-handling").value);
      try {
        const meta = await Hub.api(`/api/v1/operations/${encodeURIComponent(config.code)}/rooms/${current}/attachments`, { method: "POST", body: form });
        files.push(meta);
        const chip = el("span", "preview-chip");
        if (file.type.startsWith("image/")) { const img = el("img"); img.src = URL.createObjectURL(file); img.alt = meta.name; chip.append(img); }
        chip.append(el("span", "badge", meta.name));
        $("composer-previews").append(chip);
      } catch (err) {
        showError(err.data && err.data.errors ? Object.values(err.data.errors).flat().join(" ") : err.message);
      }
    }
    input.value = "";
  }

  function send(event) {
    event.preventDefault();
    const text = $("composer-text").value.trim();
    if (!text && !files.length) return;
    showError("");
    const kind = context && context.warning ? "feedback" : $("composer-kind").value;
    const clientId = Hub.uuid();
    const addressed = kind === "warning" || kind === "alert";
    const ticked = (name) => (addressed ? [...document.querySelectorAll(`#composer-targets input[name=${name}]:checked`)].map((i) => i.value) : []);
    const body = {
      client_id: clientId, text, kind, handling: $("composer-handling").value,
      entry_points: ticked("entry_points").map(Number), administrations: ticked("administrations").map(Number), roles: ticked("roles"),
      attachments: files.map((f) => f.id),
    };
    if (context && context.reply_to) body.reply_to = context.reply_to;
    if (context && context.warning) body.warning = context.warning;
    renderOutboxItem({ client_id: clientId, room: current, text, state: "sending" });
    hubOutbox.queue({ clientId, kind: "message", op: config.code, room: current, path: messagesPath(current), body, label: text })
      .then((item) => { if (item) showOutboxItem(clientId); });
    $("composer-text").value = ""; files.length = 0; $("composer-previews").replaceChildren(); setContext(null);
  }

  // --- wiring ----------------------------------------------------------------------------------
  function switchRoom(id) { location.href = `/operations/${encodeURIComponent(config.code)}/rooms/${id}/`; }
  $("room-select").addEventListener("change", (e) => switchRoom(e.target.value));
  list.addEventListener("scroll", () => {
    stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    if (list.scrollTop < 60 && !historyPending && !historyComplete && oldestLoaded > 1) {
      historyPending = true; $("history-state").textContent = Hub.t("Loading earlier messages…");
      socket.send({ type: "history", ref: "h", room: current, before_seq: oldestLoaded, limit: 50 });
    }
  });
  document.addEventListener("visibilitychange", markRead);
  if ($("composer-text")) {
    $("composer").addEventListener("submit", send);
    $("composer-text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send(e); });
    $("composer-kind").addEventListener("change", (e) => { $("composer-targets").hidden = !["warning", "alert"].includes(e.target.value); });
    $("composer-files").addEventListener("change", (e) => uploadFiles(e.target));
    $("composer-cancel").addEventListener("click", () => setContext(null));
  }
  hubOutbox.ready.then(() => HubOutbox.list(hubOutbox.user)).then((items) => {
    for (const item of items) if (item.kind === "message" && item.op === config.code) showOutboxItem(item.clientId);
  });
  window.addEventListener("offline", offlineNotice);

  const states = { connecting: Hub.t("connecting…"), online: Hub.t("live"), offline: Hub.t("offline — will reconnect"), "signed-out": Hub.t("signed out") };
  socket = Hub.liveSocket(`/ws/operations/${encodeURIComponent(config.code)}/rooms/`, {
    onFrame,
    onState: (state) => {
      const s = $("conn-state"); s.textContent = states[state] || state; s.dataset.state = state;
      if (state === "offline") { live = false; offlineNotice(); }
    },
  });
  window.HubRoom = { rooms, outbox: HubOutbox, get socket() { return socket; } };
})();
