// Reveal buttons of ID numbers ({% id_number %}): ask the server for the one number and
// show it in place. The request is recorded in the audit trail on the server.
(function () {
  "use strict";
  if (window.changningSensitiveBound) {
    return;
  }
  window.changningSensitiveBound = true;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-reveal")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var holder = form.closest("[data-sensitive]");
        var value = holder && holder.querySelector("[data-sensitive-value]");
        if (value) {
          value.textContent = data.value;
        }
        form.remove();
      })
      .catch(function () {
        if (button) {
          button.disabled = false;
          button.textContent = form.getAttribute("data-error-text") || button.textContent;
        }
      });
  });
})();
