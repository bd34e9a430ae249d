// The post form: short form first. A draft is one result: its client ID is minted when the draft
// starts and kept with the draft (IndexedDB, across reloads), so a second tap, a retry, the
// outbox's flush or a reload all post the same result. The form clears only once the server has
// the result or the outbox holds it; what happened is shown in a fixed panel (#form-status).
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("results-config").textContent);
  const form = document.getElementById("post-form");
  const status = document.getElementById("form-status");
  const summary = document.getElementById("error-summary");
  const submit = document.getElementById("post-submit");
  const apiPath = `/api/v1/operations/${encodeURIComponent(config.code)}/results`;
  const outbox = window.HubPageOutbox;
  const t = Hub.t;

  function option(select, value, label) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; select.appendChild(o);
  }
  function fill(id, items, blank) {
    const select = document.getElementById(id);
    if (blank !== undefined) option(select, "", blank);
    items.forEach((i) => option(select, i.value, i.label));
  }

  fill("f-entry_point", config.entryPoints.map((e) => ({ value: e.id, label: e.name })));
  fill("f-category", config.categories.map((c) => ({ value: c.code, label: c.name })), t("Choose…"));
  fill("f-unit", config.units);
  fill("f-origin", config.origins, t("Choose…"));
  fill("f-departure", config.origins, "–");
  fill("f-destination", config.origins, "–");
  fill("f-transport_mode", config.transportModes, "–");
  fill("f-detection_method", config.detectionMethods, "–");
  fill("f-infringement", config.infringements, "–");
  fill("f-handling_code", config.handlingCodes);
  const outcomes = document.getElementById("f-outcome");
  config.outcomes.forEach((o) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "radio"; input.name = "outcome"; input.value = o.value;
    label.append(input, Object.assign(document.createElement("span"), { textContent: o.label }));
    outcomes.appendChild(label);
  });

  function localNow() {
    const d = new Date(); d.setSeconds(0, 0);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  const when = document.getElementById("f-inspected_at");
  document.getElementById("tz-note").textContent = t("(this device's time, {zone})", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone });

  function value(name) { const el = form.elements[name]; return el ? String(el.value || "").trim() : ""; }
  function blank() {
    form.reset();
    when.value = localNow();
    document.getElementById("f-handling_code").value = "H1";
    form.querySelector('input[name="outcome"]').checked = true;
  }

  function buildBody(clientId) {
    const line = { category: value("category"), quantity: value("quantity") || "0", unit: value("unit") };
    for (const name of ["description", "gtin", "hs_code"]) if (value(name)) line[name] = value(name);
    if (value("brand")) line.brand = value("brand");
    const at = value("inspected_at");
    const body = {
      client_id: clientId,
      entry_point: Number(value("entry_point")),
      inspected_at: at ? new Date(at).toISOString() : "",
      origin: value("origin"),
      outcome: (form.querySelector('input[name="outcome"]:checked') || {}).value || "",
      lines: [line],
      handling_code: value("handling_code") || "H1",
    };
    for (const name of ["departure", "destination", "transport_mode", "detection_method", "infringement", "concealment", "notes", "reference", "parties"]) {
      if (value(name)) body[name] = value(name);
    }
    if (value("estimated_value")) { body.estimated_value = value("estimated_value"); body.currency = value("currency").toUpperCase(); }
    return body;
  }

  // --- what the officer reads: "1,200 pieces of Medicines" ------------------------------------------
  const unitLabel = (unit) => ((config.units.find((u) => u.value === unit) || {}).label || unit).toLowerCase();
  const categoryName = (code) => (config.categories.find((c) => c.code === code) || {}).name || code;
  function goods(lines) {
    return lines.map((l) => t("{quantity} {unit} of {commodity}", {
      quantity: Hub.formatNumber(Number(l.quantity)), unit: unitLabel(l.unit), commodity: l.category_name || categoryName(l.category),
    })).join(", ");
  }
  const reference = (uuid) => `R-${String(uuid).slice(0, 8).toUpperCase()}`;

  // --- errors: a summary at the top that links to each field, and the message by the field -------
  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    summary.hidden = true; summary.querySelector("ul").replaceChildren();
  }
  function showErrors(errors, detail) {
    const list = summary.querySelector("ul");
    list.replaceChildren();
    const entries = Object.entries(errors || {});
    if (!entries.length && detail) entries.push(["__all__", [detail]]);
    for (const [field, messages] of entries) {
      const text = [].concat(messages).join(" ");
      const target = form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`) || form.querySelector('.field-error[data-for="__all__"]');
      target.textContent += (target.textContent ? " " : "") + (target.dataset.for === field ? "" : `${field}: `) + text;
      if (target.closest("details")) target.closest("details").open = true;
      const li = document.createElement("li");
      const id = `f-${field.replace(/^lines\.0\./, "")}`;
      const link = Object.assign(document.createElement("a"), { href: `#${id}`, textContent: text });
      link.addEventListener("click", (event) => {
        const el = document.getElementById(id);
        const focusable = el && (el.matches("input, select, textarea") ? el : el.querySelector("input"));
        if (focusable) { event.preventDefault(); focusable.focus(); focusable.scrollIntoView({ block: "center" }); }
      });
      li.append(link); list.append(li);
    }
    summary.hidden = false;
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }
  function missing() {
    const errors = {};
    if (!value("entry_point")) errors.entry_point = [t("Choose the entry point.")];
    if (!value("inspected_at")) errors.inspected_at = [t("Enter the time of inspection.")];
    if (!value("category")) errors["lines.0.category"] = [t("Choose the commodity.")];
    if (!(Number(value("quantity")) > 0)) errors["lines.0.quantity"] = [t("Enter a quantity above zero.")];
    if (!form.querySelector('input[name="outcome"]:checked')) errors.outcome = [t("Choose the outcome.")];
    if (!value("origin")) errors.origin = [t("Choose the country of origin.")];
    return Object.keys(errors).length ? errors : null;
  }

  // --- the draft: its values and its client ID, kept on this phone until it is sent or queued -----
  const draftKey = `result:${config.code}:${outbox.user}`;
  let draftId = null;
  function snapshot() {
    const fields = {};
    for (const el of form.elements) {
      if (!el.name || el.type === "submit") continue;
      if (el.type === "radio") { if (el.checked) fields[el.name] = el.value; } else fields[el.name] = el.value;
    }
    return fields;
  }
  function restore(fields) {
    for (const [name, val] of Object.entries(fields || {})) {
      if (name === "outcome") { const r = form.querySelector(`input[name="outcome"][value="${CSS.escape(val)}"]`); if (r) r.checked = true; }
      else if (form.elements[name]) form.elements[name].value = val;
    }
  }
  function restoreBody(body) {
    const line = body.lines[0] || {};
    const fields = { ...body, ...line, inspected_at: body.inspected_at ? toLocalInput(body.inspected_at) : "" };
    delete fields.lines; delete fields.client_id;
    restore(fields);
  }
  let saving = null;
  function keepDraft() {
    clearTimeout(saving);
    saving = setTimeout(() => HubOutbox.saveDraft(draftKey, { clientId: draftId, fields: snapshot(), savedAt: Date.now() }), 300);
  }
  async function startDraft() {
    clearTimeout(saving);
    await HubOutbox.dropDraft(draftKey);
    blank();
    draftId = Hub.uuid(); // a new draft, a new result
    form.dataset.clientId = draftId;
  }
  async function openDraft() {
    blank();
    const asked = new URLSearchParams(location.search).get("draft");
    const queued = asked && (await HubOutbox.get(asked));
    if (queued && queued.kind === "result" && queued.user === outbox.user) {
      // An item of the outbox opened for correction: the same client ID, the server's reasons shown.
      draftId = queued.clientId; restoreBody(queued.body);
      if (queued.state === "refused") showErrors(queued.refusal.errors, queued.refusal.detail);
    } else {
      const saved = await HubOutbox.draft(draftKey);
      const done = saved && ((await HubOutbox.get(saved.clientId)) || (await HubOutbox.sentRecord(saved.clientId)));
      if (saved && !done) { draftId = saved.clientId; restore(saved.fields); } else await startDraft();
    }
    form.dataset.clientId = draftId;
  }

  // --- posting a draft --------------------------------------------------------------------------
  let inFlight = false; // this draft is on its way
  function busy(on) {
    submit.disabled = on;
    submit.setAttribute("aria-busy", on ? "true" : "false");
    submit.textContent = on ? t("Sending…") : submit.dataset.label;
  }
  submit.dataset.label = submit.textContent;

  async function post() {
    const errors = missing();
    if (errors) { showErrors(errors); return; }
    inFlight = true; busy(true);
    const clientId = draftId;
    const body = buildBody(clientId);
    try {
      const item = await outbox.queue({ clientId, kind: "result", op: config.code, path: apiPath, body, label: goods(body.lines) });
      if (!item) {
        const sent = await HubOutbox.sentRecord(clientId);
        await startDraft();
        confirmPosted(sent ? sent.data : null, body);
      } else if (item.state === "refused") {
        showErrors(item.refusal.errors, t("Not posted: {detail}", { detail: item.refusal.detail || item.refusal.status }));
        status.className = ""; status.replaceChildren();
      } else {
        await startDraft();
        outbox.show(status, { state: "saved", title: t("Saved on this phone"), text: `${goods(body.lines)}. ${t("It will be sent by itself when the network is back.")}`, href: "/outbox/", linkText: t("Outbox") });
      }
    } finally { inFlight = false; busy(false); }
  }

  function confirmPosted(result, body) {
    const lines = result && result.current ? result.current.lines : body.lines;
    const text = result ? t("{goods} · reference {ref}", { goods: goods(lines), ref: reference(result.uuid) }) : goods(lines);
    outbox.show(status, {
      state: "posted", title: t("Result posted"), text,
      href: result ? `/operations/${encodeURIComponent(config.code)}/results/${result.uuid}/` : null, linkText: t("View the result"),
    });
  }

  // A result queued earlier (on this page or another) sent while the officer is here.
  HubOutbox.on((event) => {
    if (event.type === "sent" && event.kind === "result" && event.op === config.code && event.clientId !== draftId && !inFlight && event.data) {
      confirmPosted(event.data, null);
    }
  });
  const box = document.getElementById("outbox");
  outbox.attachList(document.getElementById("outbox-list"), { box, only: (i) => i.kind === "result" && i.op === config.code });

  // --- correcting: the same form, filled with the current version, sent with a reason ----------
  let correcting = null;
  const resultPath = config.correct ? `${apiPath}/${config.correct}` : null;
  function toLocalInput(iso) {
    const d = new Date(iso);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  async function loadForCorrection() {
    const result = await Hub.api(resultPath);
    const v = result.current;
    correcting = { version: v };
    const set = (name, val) => { if (form.elements[name] && val !== null && val !== undefined) form.elements[name].value = val; };
    set("inspected_at", toLocalInput(v.inspected_at));
    for (const name of ["origin", "departure", "destination", "transport_mode", "detection_method", "infringement", "concealment", "currency", "handling_code"]) set(name, v[name]);
    if (v.estimated_value !== null) set("estimated_value", Number(v.estimated_value));
    const first = v.lines[0];
    set("category", first.category); set("quantity", Number(first.quantity)); set("unit", first.unit);
    for (const name of ["description", "gtin", "hs_code"]) set(name, first[name]);
    if (v.sealed_visible) { set("brand", first.brand); for (const name of ["notes", "reference", "parties"]) set(name, v[name]); }
    const radio = form.querySelector(`input[name="outcome"][value="${v.outcome}"]`);
    if (radio) radio.checked = true;
    document.getElementById("more-details").open = true;
  }
  function correctionBody() {
    const body = buildBody(null);
    const v = correcting.version;
    delete body.client_id; delete body.entry_point;
    body.reason = value("reason");
    body.transit = v.transit;
    const extra = v.lines.slice(1).map((l) => {
      const line = { category: l.category, quantity: l.quantity, unit: l.unit, description: l.description, gtin: l.gtin, hs_code: l.hs_code };
      if (v.sealed_visible) line.brand = l.brand || "";
      return line;
    });
    if (v.sealed_visible) {
      body.lines[0].brand = value("brand");
      for (const name of ["notes", "reference", "parties"]) body[name] = value(name);
    } else {
      delete body.lines[0].brand;
      for (const name of ["notes", "reference", "parties"]) delete body[name];  // kept as they are
    }
    body.lines = [body.lines[0], ...extra];
    return body;
  }
  async function sendCorrection() {
    inFlight = true; busy(true);
    try {
      await Hub.api(`${resultPath}/corrections`, { method: "POST", body: correctionBody() });
      location.href = `/operations/${encodeURIComponent(config.code)}/results/${config.correct}/`;
    } catch (err) {
      showErrors(err.data && err.data.errors, (err.data && err.data.detail) || err.message);
      inFlight = false; busy(false);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (inFlight) return; // the same draft is already on its way
    clearErrors();
    if (config.correct) { if (correcting) sendCorrection(); return; }
    post();
  });
  if (config.correct) {
    blank();
    loadForCorrection().catch((err) => showErrors(null, t("Could not load the result: {error}", { error: err.message })));
  } else {
    form.addEventListener("input", keepDraft);
    form.addEventListener("change", keepDraft);
    busy(true); // until the draft (and its client ID) is read back
    submit.textContent = submit.dataset.label;
    openDraft().finally(() => busy(false));
  }
  window.HubPost = { get clientId() { return draftId; } };
})();
