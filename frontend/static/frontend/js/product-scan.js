// The product lookup on the post form (frontend/templates/products/_scan.html).
// A GTIN comes from the camera (the browser's BarcodeDetector, else the vendored ZXing library),
// from a photo of the barcode, or typed. The card comes from /api/v1/products?gtin=..., or offline
// from the copy of the operation's products kept in localStorage. A found product fills the post
// form's commodity, GTIN, brand and description; the GTIN is what the result records.
"use strict";
(function () {
  const root = document.getElementById("product-scan");
  if (!root) return;
  const code = root.dataset.operation;
  const msg = (name) => root.dataset[`msg${name[0].toUpperCase()}${name.slice(1)}`] || "";
  const input = document.getElementById("scan-gtin");
  const status = document.getElementById("scan-status");
  const card = document.getElementById("product-card");
  const video = document.getElementById("scan-video");
  const cacheKey = `hub-products:${code}`;
  const FORMATS = ["ean_13", "ean_8", "upc_a", "upc_e", "itf"];
  let stopScan = null;

  function say(text) { status.textContent = text; }

  // GS1 check digit (the server checks again with python-stdnum).
  function validGtin(digits) {
    if (!/^\d+$/.test(digits) || ![8, 12, 13, 14].includes(digits.length)) return false;
    const body = digits.slice(0, -1).split("").reverse();
    const total = body.reduce((s, d, i) => s + Number(d) * (i % 2 === 0 ? 3 : 1), 0);
    return (10 - (total % 10)) % 10 === Number(digits.slice(-1));
  }

  // --- the offline copy ------------------------------------------------------------------------
  function cached() {
    try { return JSON.parse(localStorage.getItem(cacheKey) || "{}").products || []; } catch (e) { return []; }
  }
  async function refreshCache() {
    try {
      const response = await fetch(`/api/v1/operations/${encodeURIComponent(code)}/products`, { credentials: "same-origin" });
      if (response.ok) localStorage.setItem(cacheKey, JSON.stringify({ at: new Date().toISOString(), products: await response.json() }));
    } catch (e) { /* offline: keep the copy we have */ }
  }

  async function find(gtin) {
    try {
      const response = await fetch(`/api/v1/products?gtin=${encodeURIComponent(gtin)}`, { credentials: "same-origin" });
      if (response.ok) return { products: await response.json(), offline: false };
      if (response.status < 500) return { products: [], offline: false };
    } catch (e) { /* no network */ }
    return { products: cached().filter((p) => p.gtins.includes(gtin)), offline: true };
  }

  // --- the card --------------------------------------------------------------------------------
  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    Object.assign(e, attrs || {});
    return e;
  }
  function showCard(p) {
    const parts = [el("h2", `${p.brand} · ${p.name}`, { dir: "auto" }), el("p", `${p.right_holder} · ${p.category_name} · GTIN ${p.gtins.join(", ")}`, { className: "muted", dir: "auto" })];
    if (p.photos.length && navigator.onLine) {
      const photos = el("div", null, { className: "product-photos" });
      p.photos.forEach((ph) => photos.append(el("img", null, { src: ph.url, alt: ph.caption || p.name, width: 120 })));
      parts.push(photos);
    }
    if (p.genuine_features) parts.push(el("h3", msg("features")), el("p", p.genuine_features, { className: "pre", dir: "auto" }));
    if (p.counterfeit_indicators) parts.push(el("h3", msg("indicators")), el("p", p.counterfeit_indicators, { className: "pre", dir: "auto" }));
    const contact = el("p", null, { dir: "auto" });
    contact.append(p.contact.name);
    if (p.contact.phone) contact.append(" · ", el("a", p.contact.phone, { href: `tel:${p.contact.phone}` }));
    if (p.contact.email) contact.append(" · ", el("a", p.contact.email, { href: `mailto:${p.contact.email}` }));
    if (p.contact.hours) contact.append(` · ${p.contact.hours}`);
    parts.push(el("h3", msg("contact")), contact);
    card.replaceChildren(...parts);
    card.dataset.product = p.id;
    card.hidden = false;
  }

  function setField(name, value, onlyIfEmpty) {
    const field = document.querySelector(`#post-form [name="${name}"]`);
    if (!field || (onlyIfEmpty && field.value)) return;
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) return;
    field.value = value;
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  async function lookUp(raw) {
    const gtin = String(raw || "").replace(/[\s-]/g, "");
    input.value = gtin;
    card.hidden = true;
    if (!validGtin(gtin)) { say(msg("invalid")); return; }
    setField("gtin", gtin);
    const { products, offline } = await find(gtin);
    if (!products.length) { say(msg("none") + (offline ? ` ${msg("offline")}` : "")); return; }
    const product = products[0];
    showCard(product);
    setField("category", product.category);
    setField("brand", product.brand, true);
    setField("description", product.name, true);
    say(msg("found") + (offline ? ` ${msg("offline")}` : ""));
  }

  // --- reading barcodes ------------------------------------------------------------------------
  function zxingReader() {
    const hints = new Map();
    hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, [ZXing.BarcodeFormat.EAN_13, ZXing.BarcodeFormat.EAN_8, ZXing.BarcodeFormat.UPC_A, ZXing.BarcodeFormat.UPC_E, ZXing.BarcodeFormat.ITF]);
    hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
    return new ZXing.BrowserMultiFormatReader(hints);
  }
  async function detector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const supported = await window.BarcodeDetector.getSupportedFormats();
      const formats = FORMATS.filter((f) => supported.includes(f));
      return formats.length ? new window.BarcodeDetector({ formats }) : null;
    } catch (e) { return null; }
  }

  async function readImage(file) {
    const url = URL.createObjectURL(file);
    try {
      const native = await detector();
      if (native) {
        const bitmap = await createImageBitmap(file);
        const found = await native.detect(bitmap);
        if (found.length) return found[0].rawValue;
      }
      if (window.ZXing) return (await zxingReader().decodeFromImageUrl(url)).getText();
    } catch (e) { /* nothing readable */ } finally { URL.revokeObjectURL(url); }
    return null;
  }

  function stop() { if (stopScan) { stopScan(); stopScan = null; } video.hidden = true; }

  async function scan() {
    stop();
    say(msg("scanning"));
    const native = await detector();
    try {
      if (native) {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
        video.srcObject = stream; video.hidden = false; await video.play();
        let running = true;
        stopScan = () => { running = false; stream.getTracks().forEach((t) => t.stop()); };
        while (running) {
          const found = await native.detect(video).catch(() => []);
          if (found.length) { stop(); lookUp(found[0].rawValue); return; }
          await new Promise((r) => setTimeout(r, 200));
        }
      } else if (window.ZXing && navigator.mediaDevices) {
        const reader = zxingReader();
        video.hidden = false;
        stopScan = () => reader.reset();
        await reader.decodeFromVideoDevice(null, video, (result) => { if (result) { stop(); lookUp(result.getText()); } });
      } else {
        throw new Error("no camera");
      }
    } catch (e) { stop(); say(msg("nocamera")); }
  }

  document.getElementById("scan-lookup").addEventListener("click", () => lookUp(input.value));
  document.getElementById("scan-start").addEventListener("click", scan);
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); lookUp(input.value); } });
  document.getElementById("scan-file").addEventListener("change", async (event) => {
    const file = event.target.files && event.target.files[0];
    if (!file) return;
    const text = await readImage(file);
    event.target.value = "";
    if (text) lookUp(text); else say(msg("unreadable"));
  });
  const form = document.getElementById("post-form");
  if (form) form.addEventListener("reset", () => { stop(); card.hidden = true; input.value = ""; say(""); });
  refreshCache();
})();
