// Wide tables scroll sideways inside their .table-wrap on a phone. A scrolling region must be reachable by keyboard
// (WCAG 2.1.1), so while a wrap scrolls it becomes a focusable, named region (named by its table's caption, or by
// the heading its section is labelled by); when it fits again it leaves the tab order.
(function () {
  "use strict";

  function regionName(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var section = wrap.closest("[aria-labelledby]");
    var heading = section && document.getElementById(section.getAttribute("aria-labelledby"));
    if (heading && heading.textContent.trim()) return heading.textContent.trim();
    var previous = wrap.previousElementSibling;
    if (previous && /^H[1-6]$/.test(previous.tagName)) return previous.textContent.trim();
    return "";
  }

  function update() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) {
          wrap.setAttribute("aria-label", regionName(wrap));
          wrap.dataset.scrollNamed = "on";
        }
        wrap.dataset.scrollRegion = "on";
      } else if (!scrolls && wrap.dataset.scrollRegion === "on") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        if (wrap.dataset.scrollNamed === "on") wrap.removeAttribute("aria-label");
        delete wrap.dataset.scrollRegion;
        delete wrap.dataset.scrollNamed;
      }
    });
  }

  var pending = null;
  function soon() {
    if (pending === null) pending = window.requestAnimationFrame(function () { pending = null; update(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
  window.addEventListener("resize", soon);
  document.addEventListener("htmx:afterSettle", soon);
})();
