// The nil return ("inspected, found nothing") for an entry point and a day, through the outbox.
// Its client ID is the entry point and the day: the server keeps one nil return for them, and a
// second tap, or a tap offline and another later, is the same item.
"use strict";
(function () {
  const form = document.getElementById("nil-form");
  const outbox = window.HubPageOutbox;
  if (!form || !outbox) return;
  const t = Hub.t;
  const status = document.getElementById("nil-status");
  const error = document.getElementById("nil-error");
  const button = document.getElementById("nil-submit");
  let inFlight = false;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (inFlight) return;
    inFlight = true; button.disabled = true; error.textContent = "";
    const entryPoint = form.elements.entry_point;
    const day = form.elements.day.value;
    const place = entryPoint.options[entryPoint.selectedIndex].textContent;
    try {
      const item = await outbox.queue({
        clientId: `nil:${form.dataset.code}:${entryPoint.value}:${day}`, kind: "nil", op: form.dataset.code,
        path: form.dataset.path, body: { entry_point: Number(entryPoint.value), day },
        label: t("Nil return for {place} on {day}", { place, day }),
      });
      if (!item) outbox.show(status, { state: "posted", title: t("Nil return recorded for {day}.", { day }), text: place });
      else if (item.state === "refused") {
        const r = item.refusal;
        const detail = Object.values(r.errors || {}).flat().join(" ") || r.detail || r.status;
        error.textContent = t("Refused: {detail}", { detail });
        outbox.show(status, { state: "refused", title: t("Refused: {detail}", { detail }), text: place, href: "/outbox/", linkText: t("Outbox") });
      } else {
        outbox.show(status, { state: "saved", title: t("Saved on this phone"), text: `${t("Nil return for {place} on {day}", { place, day })}. ${t("It will be sent by itself when the network is back.")}`, href: "/outbox/", linkText: t("Outbox") });
      }
    } finally { inFlight = false; button.disabled = false; }
  });
})();
