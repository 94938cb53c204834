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

  /* The day picker: a GET form of its own (a date and a "Show day" button, what works without JavaScript) that
     htmx sends to load the day in place. A date field fires "change" at each part typed once the date is whole,
     so sending on every change loaded a day per key (typing 11/25/2026 over a date loaded 2026-01-30, then
     2026-12-30...). A date picked from the calendar (no key pressed in the field) is sent at once; a date typed is
     sent when the field is left (Tab, a tap elsewhere) or with Enter and the button (the form's own submit). */
  var NOT_TYPING = ["Tab", "Shift", "Enter", "Escape"];

  function dayField(target) {
    return target && target.name === "date" && target.closest && target.closest("#day-picker") ? target : null;
  }

  /* Send the day once: not when unfinished, the day shown, or the day just sent (the field, taken out of the page
     by the swap that shows that day, reports leaving the focus). */
  function showDay(field) {
    if (!field.value || field.value === field.defaultValue || field.value === field.dataset.sent) { return; }
    var form = field.form;
    if (form.requestSubmit) { form.requestSubmit(); } else { htmx.trigger(form, "submit"); }
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id !== "day-picker") { return; }
    var field = event.target.querySelector("input[name=date]");
    if (field) {
      field.dataset.sent = field.value;
      delete field.dataset.typed;
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var field = dayField(event.target);
    if (field && NOT_TYPING.indexOf(event.key) === -1) { field.dataset.typed = "yes"; }
  });
  document.addEventListener("pointerdown", function (event) {
    var field = dayField(event.target);
    if (field) { delete field.dataset.typed; }  /* the calendar opened with a tap or a click */
  });
  document.addEventListener("change", function (event) {
    var field = dayField(event.target);
    if (field && !field.dataset.typed) { showDay(field); }
  });
  document.addEventListener("focusout", function (event) {
    var field = dayField(event.target);
    if (field && field.dataset.typed) { showDay(field); }
  });

  /* Answers changed since the day was shown: changing the day then asks before they are replaced by the other
     day's (the day picker loads that day's page in place), once for the day sent, not at each key. */
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target.closest("#diary-form")) { dirty = true; }
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest("#diary-form")) { dirty = true; }
  });
  document.addEventListener("htmx:confirm", function (event) {
    var picker = event.detail.elt;
    if (!picker || picker.id !== "day-picker" || !dirty) { return; }
    event.preventDefault();
    var field = picker.querySelector("input[name=date]");
    if (window.confirm(picker.getAttribute("data-unsaved") || "")) {
      event.detail.issueRequest(true);
    } else if (field) {
      field.value = field.defaultValue;  /* the day shown stays the day chosen */
      delete field.dataset.typed;
      delete field.dataset.sent;
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
