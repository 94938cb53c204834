// A form that posts is sent once. Over a slow network a second tap on its button (or a second Enter) sent it again
// and the server could store what it carried twice (two side-effect reports from one form). Once a POST form's
// submit goes ahead, its submit buttons are disabled and the form is aria-busy, and a further submit of it is
// dropped. They come back when the page is shown again (pageshow: the Back button, the browser's page cache), or
// after STUCK_MS if the page is still there (the load was stopped, or the answer is that slow: a tap then sends
// again, as it would have without this). Forms that do not post, or post to another window, and forms htmx sends
// itself are left alone. The server does not rely on this (the side-effect report carries a submission token);
// without JavaScript forms work as before.
(function () {
  "use strict";

  var STUCK_MS = 10000;
  var sent = 0;

  function isPost(form, submitter) {
    var method = submitter && submitter.hasAttribute("formmethod") ? submitter.formMethod : form.method;
    return String(method).toLowerCase() === "post";
  }

  function opensElsewhere(form, submitter) {
    var target = submitter && submitter.hasAttribute("formtarget") ? submitter.formTarget : form.target;
    return Boolean(target) && target !== "_self";
  }

  // The form's own submit buttons, those outside it with form="..." included; a button the page disabled is left.
  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return (element.type === "submit" || element.type === "image") && !element.disabled;
    });
  }

  function hold(form) {
    var mark = String(++sent);
    form.dataset.submitBusy = mark;
    form.setAttribute("aria-busy", "true");
    submitButtons(form).forEach(function (button) {
      button.disabled = true;
      button.dataset.submitHeld = "on";
    });
    window.setTimeout(function () {
      if (form.dataset.submitBusy === mark) release(form);  // not a later sending of the same form
    }, STUCK_MS);
  }

  function release(form) {
    if (!("submitBusy" in form.dataset)) return;
    delete form.dataset.submitBusy;
    form.removeAttribute("aria-busy");
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.dataset && element.dataset.submitHeld === "on") {
        element.disabled = false;
        delete element.dataset.submitHeld;
      }
    });
  }

  // A form already on its way is not sent again: stopped before any other handler sees the submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && "submitBusy" in form.dataset) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Held only once every handler has run and the browser has read the form: the clicked button's name and value are
  // sent (a disabled button is not), and a submit a handler cancelled (htmx sending it itself, a confirm answered
  // no) holds nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    if (!(form instanceof HTMLFormElement) || !isPost(form, submitter) || opensElsewhere(form, submitter)) return;
    window.setTimeout(function () {
      if (!event.defaultPrevented) hold(form);
    }, 0);
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submit-busy]").forEach(release);
  });
})();
