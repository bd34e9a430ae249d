"use strict";
// The result page's Void and Restore forms: each posts its reason to the API, then reloads the page
// (the new version, struck through or not, is drawn by the server). The button is disabled while the
// request is on its way, so a double tap sends one. Errors show under the form.
(function () {
  for (const id of ["void-form", "restore-form"]) {
    const form = document.getElementById(id);
    if (!form) continue;
    const error = form.querySelector(".error");
    const button = form.querySelector("button[type=submit]");
    let inFlight = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (inFlight) return;
      inFlight = true; button.disabled = true; button.setAttribute("aria-busy", "true");
      error.textContent = "";
      try {
        await Hub.api(form.dataset.path, { method: "POST", body: { reason: form.elements.reason.value } });
        location.reload();
      } catch (err) {
        const errors = (err.data && err.data.errors) || {};
        error.textContent = Object.values(errors).flat().join(" ") || (err.data && err.data.detail) || err.message;
        inFlight = false; button.disabled = false; button.setAttribute("aria-busy", "false");
      }
    });
  }
})();
