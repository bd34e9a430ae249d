// The hub's one outbox: everything an officer sends (results, nil returns, photos, chat messages)
// waits here, in IndexedDB (through idb), keyed by its client ID, until the server has it or
// refuses it. Loaded by every signed-in page (outbox.js) and by the service worker, so both
// flush with the same rules:
//   - one item per client ID: a second tap, a retry or a reload writes the same record again;
//   - sent in order, one flusher at a time (Web Locks), across tabs and the worker;
//   - no network, 5xx or 429: kept, tried again later; 401/403: kept until the officer signs in;
//   - any other 4xx (422 invalid, 409 refused, 413 too large, 404): kept as "refused" with the
//     server's reason, for the officer to correct or discard. Never dropped silently.
"use strict";
(function (scope) {
  const DB_NAME = "cencomm-hub";
  const LOCK = "cencomm-hub-outbox";
  const CHANNEL = "cencomm-hub-outbox";
  let opening = null;

  function db() {
    if (!opening) {
      opening = scope.idb.openDB(DB_NAME, 1, {
        upgrade(database) {
          database.createObjectStore("outbox", { keyPath: "clientId" }).createIndex("user", "user");
          database.createObjectStore("drafts", { keyPath: "key" });
          database.createObjectStore("meta", { keyPath: "key" });
          database.createObjectStore("sent", { keyPath: "clientId" }).createIndex("sentAt", "sentAt");
        },
        blocking() { opening = null; }, // a newer version opened elsewhere: let it upgrade
      });
    }
    return opening;
  }

  // --- who is signed in (written by the pages; the worker reads it to flush) ---------------------
  async function session() { return (await (await db()).get("meta", "session")) || null; }
  async function setSession(value) { await (await db()).put("meta", { key: "session", ...value }); }

  // --- events: to this context's listeners and to every other tab and the worker -----------------
  const listeners = new Set();
  const channel = "BroadcastChannel" in scope ? new scope.BroadcastChannel(CHANNEL) : null;
  function emit(event) {
    for (const listener of listeners) { try { listener(event); } catch (e) { console.error(e); } }
    if (channel) channel.postMessage(event);
  }
  if (channel) channel.onmessage = (message) => { for (const listener of listeners) listener(message.data); };
  function on(listener) { listeners.add(listener); return () => listeners.delete(listener); }

  // --- the items ---------------------------------------------------------------------------------
  async function list(user) {
    const items = await (await db()).getAllFromIndex("outbox", "user", String(user));
    return items.sort((a, b) => a.createdAt - b.createdAt);
  }
  async function get(clientId) { return (await db()).get("outbox", clientId); }

  // Queue (or queue again, after a correction) the item with this client ID: never a second copy.
  async function put(item) {
    const database = await db();
    const tx = database.transaction("outbox", "readwrite");
    const known = await tx.store.get(item.clientId);
    const record = {
      attempts: 0, createdAt: Date.now(), ...known, ...item,
      user: String(item.user), state: "waiting", problem: null, refusal: null,
    };
    await tx.store.put(record);
    await tx.done;
    emit({ type: "changed", clientId: record.clientId });
    return record;
  }

  async function update(clientId, patch) {
    const database = await db();
    const tx = database.transaction("outbox", "readwrite");
    const item = await tx.store.get(clientId);
    if (item) await tx.store.put({ ...item, ...patch });
    await tx.done;
    return item ? { ...item, ...patch } : null;
  }

  async function discard(clientId) {
    await (await db()).delete("outbox", clientId);
    emit({ type: "discarded", clientId });
  }

  // --- what was sent lately (the server's answer), so the page that queued it can say what it was --
  const KEEP_SENT = 50;
  async function markSent(item, data) {
    const database = await db();
    const tx = database.transaction(["outbox", "sent"], "readwrite");
    tx.objectStore("outbox").delete(item.clientId);
    const sent = tx.objectStore("sent");
    // A chat message sent leaves no text on the device (docs/security.md): only that it went.
    const kept = item.kind === "message" ? {} : { label: item.label, data };
    sent.put({ clientId: item.clientId, kind: item.kind, op: item.op, user: item.user, ...kept, sentAt: Date.now() });
    const keys = await sent.index("sentAt").getAllKeys();
    for (const key of keys.slice(0, Math.max(0, keys.length - KEEP_SENT))) sent.delete(key);
    await tx.done;
  }
  async function sentRecord(clientId) { return (await db()).get("sent", clientId); }

  // --- drafts: a form's unsent values and the client ID minted when the draft started ------------
  async function draft(key) { return (await db()).get("drafts", key); }
  async function saveDraft(key, value) { await (await db()).put("drafts", { key, ...value }); }
  async function dropDraft(key) { await (await db()).delete("drafts", key); }

  // --- sending -----------------------------------------------------------------------------------
  function headers(csrf, extra) { return { Accept: "application/json", "X-CSRFToken": csrf || "", ...extra }; }

  async function send(item, csrf) {
    if (item.kind === "photo") {
      // Photos carry no client ID to the server: a try that may have arrived is checked first.
      if (item.attempts > 1 && item.checkPath) {
        const check = await fetch(item.checkPath, { credentials: "same-origin", headers: headers(csrf) });
        if (check.ok) {
          const result = await check.json();
          const same = (result.photos || []).find((p) => p.sha256 === item.sha256);
          if (same) return { status: 200, ok: true, data: same };
        }
      }
      const form = new FormData();
      form.append("file", item.file, item.fileName);
      return answer(await fetch(item.path, { method: "POST", credentials: "same-origin", headers: headers(csrf), body: form }));
    }
    return answer(await fetch(item.path, {
      method: "POST", credentials: "same-origin",
      headers: headers(csrf, { "Content-Type": "application/json" }), body: JSON.stringify(item.body),
    }));
  }
  async function answer(response) {
    const data = await response.json().catch(() => null);
    return { status: response.status, ok: response.ok, data };
  }

  // Send what waits for the signed-in user. Resolves to {sent, waiting, refused, problem}.
  // What is queued while it runs goes in the same run, right after the item on its way (a chat
  // message typed meanwhile does not wait for this run to end and another to start).
  async function flushNow() {
    const who = await session();
    const outcome = { sent: 0, refused: 0, waiting: 0, problem: null };
    if (!who || !who.user) return outcome;
    const tried = new Set();
    for (;;) {
      const items = (await list(who.user)).filter((i) => i.state !== "refused" && !tried.has(i.clientId));
      if (!items.length) return outcome;
      for (const item of items) tried.add(item.clientId);
      await sendEach(items, who, outcome);
      if (outcome.problem) return outcome; // the rest waits: the network or the session is the problem
    }
  }

  async function sendEach(items, who, outcome) {
    for (const queued of items) {
      const item = await get(queued.clientId); // another flusher may have finished it meanwhile
      if (!item || item.state === "refused") continue;
      if (outcome.problem) { outcome.waiting += 1; continue; }
      const attempt = await update(item.clientId, { state: "sending", attempts: item.attempts + 1, triedAt: Date.now() });
      emit({ type: "sending", clientId: item.clientId });
      let reply;
      try { reply = await send(attempt, who.csrf); } catch (e) { reply = null; }
      if (reply && reply.ok) {
        await markSent(item, reply.data);
        outcome.sent += 1;
        emit({ type: "sent", clientId: item.clientId, kind: item.kind, op: item.op, data: reply.data });
        continue;
      }
      let problem = null;
      if (!reply) problem = { code: "network" };
      else if (reply.status === 401 || reply.status === 403) problem = { code: "signin", status: reply.status };
      else if (reply.status === 429 || reply.status >= 500) problem = { code: "server", status: reply.status };
      if (problem) {
        await update(item.clientId, { state: "waiting", problem });
        outcome.problem = problem; outcome.waiting += 1;
        emit({ type: "waiting", clientId: item.clientId, problem });
        continue; // the rest waits too: the network or the session is the problem, not the item
      }
      const refusal = { status: reply.status, detail: (reply.data && reply.data.detail) || "", errors: (reply.data && reply.data.errors) || {} };
      await update(item.clientId, { state: "refused", refusal });
      outcome.refused += 1;
      emit({ type: "refused", clientId: item.clientId, kind: item.kind, op: item.op, refusal });
    }
  }

  function flush() {
    const locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request(LOCK, flushNow) : flushNow();
  }

  scope.HubOutbox = { db, session, setSession, on, emit, list, get, put, discard, draft, saveDraft, dropDraft, sentRecord, flush };
})(self);
