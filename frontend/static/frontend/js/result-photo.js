// A photo of a result, through the outbox: its client ID is minted when the file is chosen, and
// the outbox checks the result's photos for the same SHA-256 before sending it again, so a retry
// after a lost answer adds no second copy.
"use strict";
(function () {
  const form = document.getElementById("photo-form");
  const outbox = window.HubPageOutbox;
  if (!form || !outbox) return;
  const t = Hub.t;
  const input = form.elements.file;
  const status = document.getElementById("photo-status");
  const error = document.getElementById("photo-error");
  const button = document.getElementById("photo-submit");
  let clientId = null, inFlight = false;

  input.addEventListener("change", () => { clientId = input.files.length ? Hub.uuid() : null; });

  async function sha256(file) {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showPhoto(photo) {
    let grid = document.querySelector("#photos .photo-grid");
    if (!grid) { grid = document.createElement("div"); grid.className = "photo-grid"; form.before(grid); document.querySelector("#photos > p.muted")?.remove(); }
    const img = Object.assign(document.createElement("img"), { src: photo.url, alt: t("Photo"), width: 160, loading: "lazy" });
    const figure = document.createElement("figure"); figure.append(img); grid.append(figure);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (inFlight || !file) return;
    inFlight = true; button.disabled = true; error.textContent = "";
    try {
      const item = await outbox.queue({
        clientId: clientId || (clientId = Hub.uuid()), kind: "photo", op: form.dataset.code, path: form.dataset.path,
        checkPath: form.dataset.result, file, fileName: file.name || "photo", sha256: await sha256(file),
        label: `${t("A photo for the result at {place}", { place: form.dataset.place })} (${file.name})`,
      });
      if (!item) {
        const sent = await HubOutbox.sentRecord(clientId);
        if (sent && sent.data && sent.data.url) showPhoto(sent.data);
        outbox.show(status, { state: "posted", title: t("Photo added"), text: file.name });
        form.reset(); clientId = null;
      } else if (item.state === "refused") {
        const r = item.refusal;
        error.textContent = t("Refused: {detail}", { detail: Object.values(r.errors || {}).flat().join(" ") || r.detail || r.status });
        status.className = ""; status.replaceChildren();
        error.scrollIntoView({ block: "center" });
      } else {
        outbox.show(status, { state: "saved", title: t("Saved on this phone"), text: `${file.name}. ${t("It will be sent by itself when the network is back.")}`, href: "/outbox/", linkText: t("Outbox") });
        form.reset(); clientId = null;
      }
    } finally { inFlight = false; button.disabled = false; }
  });
})();
