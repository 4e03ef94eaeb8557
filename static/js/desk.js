// The advisor's desk (走访工作台): find a person as you type, pick with ↑↓ and Enter, log the
// visit with Enter, and start the next one at once. The page works without this file (plain
// GET search, POST and redirect); this only saves the round trips.
(function () {
  "use strict";

  var root = document.querySelector("[data-desk]");
  if (!root) {
    return;
  }
  var searchForm = root.querySelector("[data-desk-search]");
  var search = searchForm.querySelector("input[name=q]");
  var results = root.querySelector("[data-desk-results]");
  var form = root.querySelector("[data-desk-form]");
  var recipient = form.querySelector("[data-desk-recipient]");
  var findings = form.elements.findings;
  var errors = form.querySelector("[data-desk-errors]");
  var live = root.querySelector("[data-desk-live]");
  var saveButton = form.querySelector("button[type=submit]");
  var fullLink = form.querySelector("[data-desk-full-link]");
  var scopeInput = searchForm.querySelector("input[name=scope]");

  var DEBOUNCE_MS = 150;
  var timer = null;
  var inflight = null;
  var sequence = 0;
  var active = -1;
  var saving = false;

  // Search ------------------------------------------------------------------------------

  function options() {
    return Array.prototype.slice.call(results.querySelectorAll("[role=option]"));
  }

  function highlight(index) {
    var all = options();
    active = all.length ? Math.max(0, Math.min(index, all.length - 1)) : -1;
    all.forEach(function (option, position) {
      var on = position === active;
      option.setAttribute("aria-selected", on ? "true" : "false");
      option.classList.toggle("is-active", on);
      if (on) {
        search.setAttribute("aria-activedescendant", option.id);
        option.scrollIntoView({ block: "nearest" });
      }
    });
    if (active < 0) {
      search.removeAttribute("aria-activedescendant");
    }
    search.setAttribute("aria-expanded", all.length ? "true" : "false");
  }

  function showResults(html, text) {
    results.innerHTML = html;
    // Which search the list answers (the browser test waits for it).
    results.setAttribute("data-query", text);
    // The links are for pages without JavaScript; here the keyboard stays in the box.
    results.querySelectorAll("a").forEach(function (link) {
      link.setAttribute("tabindex", "-1");
    });
    highlight(0);
  }

  function clearResults() {
    sequence += 1;
    clearTimeout(timer);
    timer = null;
    results.innerHTML = "";
    results.removeAttribute("data-query");
    highlight(-1);
  }

  function runSearch() {
    clearTimeout(timer);
    timer = null;
    var text = search.value.trim();
    var mine = ++sequence;
    if (!text) {
      clearResults();
      return Promise.resolve();
    }
    var params = new URLSearchParams({ q: text });
    if (scopeInput) {
      params.set("scope", scopeInput.value);
    }
    var request = fetch(searchForm.getAttribute("data-search-url") + "?" + params.toString(), {
      headers: { "X-Desk-Partial": "1" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (mine === sequence) {
          showResults(html, text);
        }
      })
      .catch(function () {})
      .then(function () {
        if (inflight === request) {
          inflight = null;
        }
      });
    inflight = request;
    return request;
  }

  // The results of what is typed now: a pending search runs at once, one under way is awaited.
  function settled() {
    if (timer !== null) {
      return runSearch();
    }
    return inflight || Promise.resolve();
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(runSearch, DEBOUNCE_MS);
  });

  search.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      // Arriving results start on the first person; a key pressed before they came stays there.
      var waiting = timer !== null || inflight !== null;
      var step = event.key === "ArrowDown" ? 1 : -1;
      settled().then(function () {
        if (!waiting) {
          highlight(active + step);
        }
      });
    } else if (event.key === "Enter") {
      event.preventDefault();
      settled().then(function () {
        var option = options()[active];
        if (option) {
          pick(option.dataset.pk, option.dataset.name, option.dataset.note);
        }
      });
    }
  });

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    runSearch();
  });

  results.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (option) {
      event.preventDefault();
      pick(option.dataset.pk, option.dataset.name, option.dataset.note);
    }
  });

  // The person -------------------------------------------------------------------------------

  function showPicked(name, note) {
    form.querySelector("[data-desk-picked-name]").textContent = name || "";
    form.querySelector("[data-desk-picked-note]").textContent = note || "";
    form.querySelector("[data-desk-picked-label]").hidden = !name;
    form.querySelector("[data-desk-picked-hint]").hidden = Boolean(name);
  }

  function pick(pk, name, note) {
    recipient.value = pk;
    showPicked(name, note);
    var base = fullLink.getAttribute("data-base-href");
    fullLink.setAttribute("href", base + "?recipient=" + encodeURIComponent(pk));
    errors.innerHTML = "";
    clearResults();
    findings.focus();
  }

  function unpick() {
    recipient.value = "";
    showPicked("", "");
    fullLink.setAttribute("href", fullLink.getAttribute("data-base-href"));
  }

  // Escape anywhere on the desk: drop the person and the search, back to the search box.
  root.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) {
      return;
    }
    unpick();
    search.value = "";
    clearResults();
    search.focus();
  });

  // A row's 记录走访 picks that person (the link opens the page with ?pick= otherwise).
  root.addEventListener("click", function (event) {
    var link = event.target.closest("[data-desk-pick]");
    if (link) {
      event.preventDefault();
      pick(link.getAttribute("data-desk-pick"), link.dataset.name, link.dataset.note);
    }
  });

  // Saving ---------------------------------------------------------------------------------

  function replaceParts(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    holder.content.querySelectorAll("[data-desk-part]").forEach(function (part) {
      var name = part.getAttribute("data-desk-part");
      var current = root.querySelector('[data-desk-part="' + name + '"]');
      if (current) {
        current.replaceWith(document.importNode(part, true));
      }
    });
    var message = holder.content.querySelector("[data-desk-message]");
    return message ? message.textContent : "";
  }

  // A select back to the choice the page came with (走访完成, 正常).
  function restore(select) {
    Array.prototype.forEach.call(select.options, function (option) {
      option.selected = option.defaultSelected;
    });
  }

  function resetForNext() {
    unpick();
    findings.value = "";
    // The date and the method stay: a day's visits are often logged in a row.
    ["result", "living", "health", "housing", "mood"].forEach(function (name) {
      restore(form.elements[name]);
    });
    form.elements.follow_up_required.checked = false;
    form.elements.follow_up_by.value = "";
    form.elements.follow_up_note.value = "";
    errors.innerHTML = "";
    search.value = "";
    clearResults();
    search.focus();
  }

  function showErrors(html) {
    errors.innerHTML = html;
    var first = errors.querySelector("[data-field]");
    var name = first && first.getAttribute("data-field");
    if (name === "recipient") {
      search.focus();
      return;
    }
    var field = name && form.elements[name];
    if (field && field.focus) {
      var more = field.closest("details");
      if (more) {
        more.open = true;
      }
      field.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (saving) {
      return;
    }
    saving = true;
    saveButton.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: {
        "X-Desk-Partial": "1",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
      },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.text().then(function (html) {
          return { status: response.status, ok: response.ok, html: html };
        });
      })
      .then(function (answer) {
        if (answer.ok) {
          live.textContent = replaceParts(answer.html);
          resetForNext();
        } else if (answer.status === 400) {
          showErrors(answer.html);
        } else {
          errors.textContent = form.getAttribute("data-error-text") + " (" + answer.status + ")";
        }
      })
      .catch(function () {
        errors.textContent = form.getAttribute("data-error-text");
      })
      .then(function () {
        saving = false;
        saveButton.disabled = false;
      });
  });
})();
