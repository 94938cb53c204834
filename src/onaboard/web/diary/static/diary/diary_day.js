/* The diary day form: a tap on an hour button clears the exact-hours box and the other way round, and the
   worst-pain and pain-feature questions only show when there was a headache (or the hours typed cannot be read
   yet) and are left out of the save only on a day without one. Without JavaScript every question shows and the
   engine's checks say what is missing. */
(function () {
  "use strict";

  /* What the hours answered say about the pain questions: NONE (no hours given yet), ZERO (a day without headache)
     or SOME (hours above 0, or typed text the server will refuse, whose answers must not be dropped). */
  var NONE = "none", ZERO = "zero", SOME = "some";

  /* The exact hours read as the server reads them (forms.exact_hours, then the engine): trimmed, a comma between
     digits is the decimal mark ("2,5" is 2.5), then digits with an optional decimal part. */
  function typedHours(text) {
    var number = /^\d+,\d+$/.test(text) ? text.replace(",", ".") : text;
    return /^[0-9]+(\.[0-9]+)?$/.test(number) ? Number(number) : null;
  }

  /* Trimmed of spaces the server strips too (a subset of them: text the server would read otherwise counts as
     typed, so the answers are kept). */
  function trimmed(value) {
    return value.replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, "");
  }

  function hoursState(form) {
    var exact = form.querySelector("input[name=headache_hours]");
    var text = exact ? trimmed(exact.value) : "";
    if (text !== "") {
      return typedHours(text) === 0 ? ZERO : SOME;
    }
    var quick = form.querySelector("input[name=hours_quick]:checked");
    if (!quick) { return NONE; }
    return Number(quick.value) === 0 ? ZERO : SOME;
  }

  /* Only a day without headache drops the pain answers (the server refuses them there). With no hours given yet
     they are hidden but still sent, so clearing the hours and saving (refused: hours are needed) keeps them. */
  function update(form) {
    var details = form.querySelector("#pain-details");
    if (!details) { return; }
    var state = hoursState(form);
    details.hidden = state !== SOME;
    details.querySelectorAll("input").forEach(function (input) { input.disabled = state === ZERO; });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("#diary-form");
    if (!form) { return; }
    if (event.target.name === "hours_quick") {
      var exact = form.querySelector("input[name=headache_hours]");
      if (exact) { exact.value = ""; }
    }
    update(form);
  });

  /* Answers changed since the day was shown: changing the day then asks before they are replaced by the other
     day's (the day picker loads that day's page in place). */
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest("#diary-form") && event.target.name !== "date") { dirty = true; }
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest("#diary-form") && event.target.name !== "date") { dirty = true; }
  });
  document.addEventListener("htmx:confirm", function (event) {
    var picker = event.detail.elt;
    if (!picker || picker.name !== "date" || !picker.closest("#diary-form") || !dirty) { return; }
    event.preventDefault();
    if (window.confirm(picker.getAttribute("data-unsaved") || "")) {
      event.detail.issueRequest(true);
    } else {
      picker.value = picker.defaultValue;  /* the day shown stays the day chosen */
    }
  });
  /* A page come back with errors holds answers not yet saved. */
  function settle() {
    var form = document.getElementById("diary-form");
    dirty = Boolean(form && form.hasAttribute("data-unsaved-on-load"));
  }
  document.addEventListener("htmx:afterSettle", settle);
  document.addEventListener("DOMContentLoaded", settle);
  if (document.readyState !== "loading") { settle(); }

  document.addEventListener("input", function (event) {
    var form = event.target.closest("#diary-form");
    if (!form || event.target.name !== "headache_hours") { return; }
    if (event.target.value.trim() !== "") {
      form.querySelectorAll("input[name=hours_quick]").forEach(function (radio) { radio.checked = false; });
    }
    update(form);
  });

  function init() {
    var form = document.getElementById("diary-form");
    if (form) { update(form); }
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  if (document.readyState !== "loading") { init(); }
})();
