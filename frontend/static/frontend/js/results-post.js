// The post form: short form first, and an outbox in localStorage so a retry never posts twice.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("results-config").textContent);
  const form = document.getElementById("post-form");
  const status = document.getElementById("form-status");
  const outboxKey = `hub.outbox.${config.code}`;
  const apiPath = `/api/v1/operations/${encodeURIComponent(config.code)}/results`;
  let flushing = false;

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
  fill("f-category", config.categories.map((c) => ({ value: c.code, label: c.name })), Hub.t("Choose…"));
  fill("f-unit", config.units);
  fill("f-origin", config.origins, Hub.t("Choose…"));
  fill("f-departure", config.origins, "–");
  fill("f-destination", config.origins, "–");
  fill("f-transport_mode", config.transportModes, "–");
  fill("f-detection_method", config.detectionMethods, "–");
  fill("f-infringement", config.infringements, "–");
  fill("f-handling_code", config.handlingCodes);
  document.getElementById("f-handling_code").value = "H1";
  const outcomes = document.getElementById("f-outcome");
  config.outcomes.forEach((o, i) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="outcome" value="${o.value}" ${i === 0 ? "checked" : ""}><span></span>`;
    label.querySelector("span").textContent = o.label;
    outcomes.appendChild(label);
  });

  function localNow() {
    const d = new Date(); d.setSeconds(0, 0);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  const when = document.getElementById("f-inspected_at");
  when.value = localNow();
  document.getElementById("tz-note").textContent = Hub.t("(this device's time, {zone})", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone });

  function value(name) { const el = form.elements[name]; return el ? String(el.value || "").trim() : ""; }

  function buildBody() {
    const line = { category: value("category"), quantity: value("quantity") || "0", unit: value("unit") };
    for (const name of ["description", "gtin", "hs_code"]) if (value(name)) line[name] = value(name);
    if (value("brand")) line.brand = value("brand");
    const at = value("inspected_at");
    const body = {
      client_id: Hub.uuid(),
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

  function clearErrors() { form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; }); }
  function showErrors(errors) {
    let shown = false;
    for (const [field, messages] of Object.entries(errors || {})) {
      const target = form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`) || form.querySelector('.field-error[data-for="__all__"]');
      target.textContent += (target.textContent ? " " : "") + (target.dataset.for === field ? "" : `${field}: `) + messages.join(" ");
      if (target.closest("details")) target.closest("details").open = true;
      shown = true;
    }
    return shown;
  }
  function say(text, kind) { status.textContent = text; status.className = kind === "error" ? "error" : "notice"; }

  const load = () => { try { return JSON.parse(localStorage.getItem(outboxKey) || "[]"); } catch (e) { return []; } };
  const save = (items) => { localStorage.setItem(outboxKey, JSON.stringify(items)); render(); };

  function render() {
    const items = load();
    document.getElementById("outbox").hidden = items.length === 0;
    const list = document.getElementById("outbox-list");
    list.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const goods = item.body.lines.map((l) => `${l.quantity} ${l.unit} ${l.category}`).join(", ");
      li.textContent = `${new Date(item.body.inspected_at).toLocaleString()} · ${goods} · ${item.body.outcome}` + (item.lastError ? ` (${item.lastError})` : "");
      return li;
    }));
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      for (const item of load()) {
        try {
          const result = await Hub.api(apiPath, { method: "POST", body: item.body });
          save(load().filter((i) => i.body.client_id !== item.body.client_id));
          if (item.current) {
            form.reset(); when.value = localNow(); document.getElementById("f-handling_code").value = "H1";
            form.querySelector('input[name="outcome"]').checked = true;
          }
          const link = `/operations/${encodeURIComponent(config.code)}/results/${result.uuid}/`;
          status.innerHTML = ""; const a = document.createElement("a"); a.href = link; a.textContent = Hub.t("Result posted");
          status.append(a, ` (${goodsText(result)})`); status.className = "notice posted";
        } catch (err) {
          if (err.status && err.status < 500 && err.status !== 429 && err.status !== 401 && err.status !== 403) {
            // refused: the server stored nothing; keep the form so the officer can fix it
            save(load().filter((i) => i.body.client_id !== item.body.client_id));
            const detail = (err.data && err.data.detail) || err.message;
            if (!item.current) say(Hub.t("A result saved earlier was refused: {detail}", { detail: `${detail} ${JSON.stringify((err.data && err.data.errors) || {})}` }), "error");
            else if (showErrors(err.data && err.data.errors)) say(Hub.t("Please correct the marked fields."), "error");
            else say(detail, "error");
          } else {
            item.lastError = err.status ? Hub.t("server said {status}", { status: err.status }) : Hub.t("no network");
            save(load().map((i) => (i.body.client_id === item.body.client_id ? item : i)));
            say(Hub.t("Saved on this device; it will be sent when the network is back."), "error");
            break;
          }
        }
      }
    } finally { flushing = false; }
  }
  function goodsText(result) { return result.current.lines.map((l) => `${Number(l.quantity)} ${l.unit} ${l.category_name}`).join(", "); }

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
    const body = buildBody();
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
    try {
      await Hub.api(`${resultPath}/corrections`, { method: "POST", body: correctionBody() });
      location.href = `/operations/${encodeURIComponent(config.code)}/results/${config.correct}/`;
    } catch (err) {
      if (showErrors(err.data && err.data.errors)) say(Hub.t("Please correct the marked fields."), "error");
      else say((err.data && err.data.detail) || err.message, "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors();
    if (config.correct) { if (correcting) sendCorrection(); return; }
    const items = load().map((i) => ({ ...i, current: false }));
    items.push({ body: buildBody(), current: true });
    save(items);
    flush();
  });
  document.getElementById("outbox-retry").addEventListener("click", flush);
  window.addEventListener("online", flush);
  setInterval(flush, 15000);
  render();
  if (config.correct) loadForCorrection().catch((err) => say(Hub.t("Could not load the result: {error}", { error: err.message }), "error"));
  else flush();
})();
