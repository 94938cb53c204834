/* The diary day form: a tap on an hour button clears the exact-hours box and the other way round, and the
   worst-pain and pain-feature questions only show (and only submit) when there was a headache. Without
   JavaScript every question shows and the engine's checks say what is missing. */
(function () {
  "use strict";

  function hoursOf(form) {
    var exact = form.querySelector("input[name=headache_hours]");
    if (exact && exact.value.trim() !== "") {
      var text = exact.value.trim();
      /* "1,5" is 1.5, as the server reads it: a comma only between digits */
      var typed = /^\d+,\d+$/.test(text) ? Number(text.replace(",", ".")) : Number(text);
      return Number.isNaN(typed) ? null : typed;
    }
    var quick = form.querySelector("input[name=hours_quick]:checked");
    return quick ? Number(quick.value) : null;
  }

  function update(form) {
    var details = form.querySelector("#pain-details");
    if (!details) { return; }
    var hours = hoursOf(form);
    var show = hours !== null && hours > 0;
    details.hidden = !show;
    details.querySelectorAll("input").forEach(function (input) { input.disabled = !show; });
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
