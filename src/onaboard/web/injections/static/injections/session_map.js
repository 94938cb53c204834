/* The injection-session screen: add follow-the-pain sites by clicking the map or with "Add site" (in place, no page
 * load), keep the map's units in step with the fields, and refresh the engine's summary as the form changes.
 * Without this file the screen still works: "Add site" posts the form and comes back to the follow-the-pain table,
 * and totals update with the "Update totals" button. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  /* A site's dot as _site_map_layer.html draws it (radius and text baseline, in map units). */
  var DOT_RADIUS = "30";
  var TEXT_DY = "12";
  /* A finger's tap this close to a site's centre was meant for the site, so inside a shaded area it adds nothing:
   * within NEAR_DOT_RADII of the dot's radius as drawn (its edge and a margin half as wide), and never further
   * than FINGER_PX, half a fingertip's 44 px target, in CSS pixels as the eye sees them. Scaled to the drawn dot,
   * the rule is the same in every area at every map size: on a phone or a portrait tablet (dots about 21 px
   * across) about a quarter of the temporalis area, crowded with its four fixed sites, still takes a tap, where a
   * fixed 22 px left under 2 %; a pinch-zoomed map draws its dots larger and FINGER_PX then keeps the margin
   * small. Mouse and pen clicks are precise: they add a site anywhere in an area outside the dots. */
  var FINGER_PX = 22;
  var NEAR_DOT_RADII = 1.5;
  var NEAR_SHOWN_MS = 1500;

  function init(form) {
    var summary = document.querySelector("[data-plan-summary]");
    var status = document.querySelector("[data-map-status]");
    var addStatus = form.querySelector("[data-add-status]");
    var rows = form.querySelector("[data-ftp-rows]");
    var template = document.getElementById("ftp-row-template");
    var total = form.querySelector("input[name='ftp-TOTAL_FORMS']");
    var map = form.querySelector("[data-site-map]");
    /* The label's units per site, the engine's UNITS_PER_SITE as the page gives it: every added site gets it, and a
     * site at any other dose is marked. */
    var unitsPerSite = form.dataset.unitsPerSite;
    if (!summary || !rows || !template || !total || !map || !unitsPerSite) { return; }
    map.classList.add("interactive");

    var words = {
      place: form.dataset.extraPlace || "%(muscle)s %(side)s, extra site %(index)s",
      added: form.dataset.addedWord || "Added",
      removed: form.dataset.removedWord || "Removed",
      failed: form.dataset.failedWord || "Totals could not be updated; use Update totals.",
      tooClose: map.dataset.tooClose || "Not added: too close to %(place)s.",
      totalLimit: form.dataset.ftpTotalMessage || ""
    };
    /* The most extra sites a session may be recorded with in all (the engine's FOLLOW_THE_PAIN_MAX_TOTAL_SITES). */
    var totalLimit = parseInt(form.dataset.ftpTotalLimit, 10);
    var pending = null;
    var inflight = null;
    /* Set once the server said the session has ended: the note it sent stays in the summary box. */
    var signedOut = false;

    /* Say a message in the map's status line, or in ``where`` (the line beside "Add site"); the other is cleared,
     * so an old message never stands beside a new one. */
    function say(message, where) {
      var target = where || status;
      [status, addStatus].forEach(function (line) { if (line) { line.textContent = line === target ? message : ""; } });
    }

    /* The server's answer to the totals of a session that has ended is 401 with a short note for this box (signed
     * out, nothing saved, a link to sign in: accounts/middleware.py's sign_in_from_here), never the sign-in page
     * itself. An answer that was redirected anyway is some other page, not the totals: it is not shown here. */
    function refresh() {
      if (signedOut) { return; }
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(function () {
        pending = null;
        var data = new FormData(form);
        data.set("action", "preview");
        if (inflight) { inflight.abort(); }
        inflight = new AbortController();
        fetch(form.getAttribute("action") || window.location.href, {
          method: "POST",
          body: data,
          headers: { "HX-Request": "true" },
          credentials: "same-origin",
          signal: inflight.signal
        }).then(function (response) {
          if (response.status === 401) { signedOut = true; return response.text(); }
          if (!response.ok || response.redirected) { throw new Error("preview " + response.status); }
          return response.text();
        }).then(function (html) {
          summary.innerHTML = html;
        }).catch(function (error) {
          if (error.name !== "AbortError") { say(words.failed); }
        });
      }, 300);
    }

    function emptyNote() {
      var note = form.querySelector("[data-ftp-empty]");
      if (note) { note.hidden = rows.querySelector("[data-ftp-row]") !== null; }
    }

    function siteLink(key) { return map.querySelector("a.site[data-key='" + key + "']"); }

    function label(place, units) { return place + (units ? ", " + units + " U" : ""); }

    function placeOf(row) {
      if (row.dataset.place) { return row.dataset.place; }
      var fill = row.querySelector("[data-fill='place']");
      return fill ? fill.textContent.trim() : "";
    }

    function syncMarker(input) {
      var row = input.closest("[data-site]");
      if (!row) { return; }
      var key = row.id.replace(/^site-/, "");
      var link = siteLink(key);
      if (!link) { return; }
      var units = input.value.trim();
      var text = link.querySelector("text");
      if (text) { text.textContent = units; }
      link.classList.toggle("nonstandard", units !== "" && units !== unitsPerSite);
      var place = placeOf(row);
      if (place) {
        link.setAttribute("aria-label", label(place, units));
        var title = link.querySelector("title");
        if (title) { title.textContent = label(place, units); }
      }
    }

    function addMarker(key, view, x, y, place) {
      var layer = map.querySelector("[data-sites='" + view + "']");
      if (!layer) { return; }
      var link = document.createElementNS(SVG_NS, "a");
      link.setAttribute("href", "#site-" + key);
      link.setAttribute("class", "site ftp");
      link.setAttribute("data-key", key);
      link.setAttribute("aria-label", label(place, unitsPerSite));
      var title = document.createElementNS(SVG_NS, "title");
      title.textContent = label(place, unitsPerSite);
      var circle = document.createElementNS(SVG_NS, "circle");
      circle.setAttribute("cx", x); circle.setAttribute("cy", y); circle.setAttribute("r", DOT_RADIUS);
      var text = document.createElementNS(SVG_NS, "text");
      text.setAttribute("x", x); text.setAttribute("y", y); text.setAttribute("dy", TEXT_DY);
      text.setAttribute("text-anchor", "middle"); text.setAttribute("aria-hidden", "true");
      text.textContent = unitsPerSite;
      link.appendChild(title); link.appendChild(circle); link.appendChild(text);
      layer.appendChild(link);
    }

    function countRows(muscle, side) {
      var selector = "[data-ftp-row]" + (muscle ? "[data-muscle='" + muscle + "']" : "") +
        (side ? "[data-side='" + side + "']" : "");
      return rows.querySelectorAll(selector).length;
    }

    function svgPoint(svg, event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      var matrix = svg.getScreenCTM();
      if (!matrix) { return null; }
      return point.matrixTransform(matrix.inverse());
    }

    /* The limits are recording's, as the page gives them: an area's data-limit is the most extra sites of its
     * muscle a session may be recorded with (temporalis 2, trapezius 4; occipitalis, whose limit of 2 is derived,
     * the total), and the form's the most in all. Past a derived limit (data-derived-limit) the site is added and
     * the announcement says it needs a reason for overriding. A site added with "Add site" (``where``: the line
     * beside the button) was not placed: its x and y stay empty, as the server leaves them, and its dot is drawn on
     * the area's next default spot. */
    function addSite(region, x, y, where) {
      var muscle = region.dataset.muscle, side = region.dataset.side;
      var placed = !where;
      if (countRows(muscle) >= parseInt(region.dataset.limit, 10)) {
        say(region.dataset.limitMessage, where);
        return;
      }
      if (totalLimit >= 0 && countRows() >= totalLimit) {
        say(words.totalLimit, where);
        return;
      }
      var index = parseInt(total.value, 10) || 0;
      var key = "ftp-" + index;
      var number = countRows(muscle, side) + 1;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      row.dataset.muscle = muscle;
      row.dataset.side = side;
      var muscleLabel = region.dataset.muscleLabel, sideLabel = region.dataset.sideLabel;
      var place = words.place.replace("%(muscle)s", muscleLabel).replace("%(side)s", sideLabel).replace("%(index)s", number);
      row.querySelectorAll("[data-fill='muscle']").forEach(function (el) { el.textContent = muscleLabel; });
      row.querySelectorAll("[data-fill='side']").forEach(function (el) { el.textContent = sideLabel; });
      row.querySelectorAll("[data-fill='index']").forEach(function (el) { el.textContent = number; });
      row.querySelectorAll("[data-fill='place']").forEach(function (el) { el.textContent = place; });
      row.dataset.place = place;
      var prefix = "ftp-" + index + "-";
      var values = {
        muscle: muscle, side: side, units: unitsPerSite, view: region.dataset.view,
        x: placed ? Math.round(x) : "", y: placed ? Math.round(y) : ""
      };
      Object.keys(values).forEach(function (name) {
        var input = row.querySelector("[name='" + prefix + name + "']");
        if (input) { input.value = values[name]; }
      });
      rows.appendChild(row);
      emptyNote();
      total.value = String(index + 1);
      addMarker(key, region.dataset.view, Math.round(x), Math.round(y), place);
      var derived = parseInt(region.dataset.derivedLimit, 10);
      var past = derived >= 0 && countRows(muscle) > derived && region.dataset.derivedMessage;
      say(words.added + ": " + label(place, unitsPerSite) + (past ? " " + region.dataset.derivedMessage : ""), where);
      refresh();
    }

    /* The area's default spot for the number-th extra site of its muscle and side (sitemap.follow_the_pain_default:
     * the spots in turn, wrapping round). */
    function defaultSpot(region, number) {
      var spots = (region.dataset.defaults || "").trim().split(/\s+/).filter(Boolean);
      if (!spots.length) { return null; }
      var pair = spots[(number - 1) % spots.length].split(",");
      return { x: parseFloat(pair[0]), y: parseFloat(pair[1]) };
    }

    /* "Add site" adds the row in place, as a tap on the map does; without an area for the choice (there is one
     * for every muscle and side the form offers) the form is posted as without this file. */
    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-add-site]");
      if (!button) { return; }
      var muscle = form.querySelector("[name='add-muscle']"), side = form.querySelector("[name='add-side']");
      if (!muscle || !side) { return; }
      var region = map.querySelector(".ftp-region[data-muscle='" + muscle.value + "'][data-side='" + side.value + "']");
      var spot = region && defaultSpot(region, countRows(muscle.value, side.value) + 1);
      if (!spot) { return; }
      event.preventDefault();
      addSite(region, spot.x, spot.y, addStatus || status);
    });

    /* The site of an svg whose centre is nearest a click, how far it is and its dot's drawn radius, in CSS pixels
     * as the eye sees them (a pinch-zoomed page shows them larger, so a finger reaches fewer of them). */
    function nearestSite(svg, event) {
      var matrix = svg.getScreenCTM();
      if (!matrix) { return null; }
      var zoom = (window.visualViewport && window.visualViewport.scale) || 1;
      var nearest = null;
      var scale = Math.hypot(matrix.a, matrix.b) * zoom;
      svg.querySelectorAll("a.site circle").forEach(function (dot) {
        var centre = svg.createSVGPoint();
        centre.x = parseFloat(dot.getAttribute("cx")); centre.y = parseFloat(dot.getAttribute("cy"));
        centre = centre.matrixTransform(matrix);
        var distance = Math.hypot(centre.x - event.clientX, centre.y - event.clientY) * zoom;
        if (!nearest || distance < nearest.distance) {
          nearest = { link: dot.closest("a.site"), distance: distance, radius: parseFloat(dot.getAttribute("r")) * scale };
        }
      });
      return nearest;
    }

    // A site on the map moves focus to its units field (the link's fragment alone would only scroll).
    function selectSite(link, event) {
      var row = document.getElementById("site-" + link.dataset.key);
      var input = row && row.querySelector("input.units");
      if (input) { event.preventDefault(); input.focus(); input.select(); row.scrollIntoView({ block: "nearest" }); }
    }

    function showNear(link) {
      link.classList.add("near");
      setTimeout(function () { link.classList.remove("near"); }, NEAR_SHOWN_MS);
    }

    var pointer = "mouse";
    map.addEventListener("pointerdown", function (event) { pointer = event.pointerType || "mouse"; });

    function meantFor(nearest) {
      return nearest && nearest.distance <= Math.min(FINGER_PX, NEAR_DOT_RADII * nearest.radius);
    }

    /* A tap on a dot selects its site. Outside the shaded areas a finger's tap within FINGER_PX of a dot selects
     * it (a tap there adds nothing, so reaching far costs nothing). Inside one a tap just beside a dot (``meantFor``)
     * adds nothing and says so, since a follow-the-pain site drawn on top of a fixed one would hide the mistake;
     * anywhere else in a shaded area adds a site there. */
    map.addEventListener("click", function (event) {
      var target = event.target;
      var svg = target.closest && target.closest("svg.site-map-svg");
      if (!svg) { return; }
      var link = target.closest("a.site");
      if (link) { selectSite(link, event); return; }
      var region = target.closest(".ftp-region");
      var nearest = pointer === "touch" ? nearestSite(svg, event) : null;
      if (!region) {
        if (nearest && nearest.distance <= FINGER_PX) { selectSite(nearest.link, event); }
        return;
      }
      if (meantFor(nearest)) {
        showNear(nearest.link);
        say(words.tooClose.replace("%(place)s", nearest.link.getAttribute("aria-label")));
        return;
      }
      var point = svgPoint(svg, event);
      if (point) { addSite(region, point.x, point.y); }
    });

    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-remove]");
      if (!button) { return; }
      event.preventDefault();
      var row = button.closest("[data-site]");
      var key = row.id.replace(/^site-/, "");
      var link = siteLink(key);
      if (link) { link.remove(); }
      say(words.removed + ": " + placeOf(row));
      row.remove();
      emptyNote();
      refresh();
    });

    form.addEventListener("input", function (event) {
      if (event.target.matches("input.units")) { syncMarker(event.target); }
      refresh();
    });
    form.addEventListener("change", function () { refresh(); });

    // Enter in a field refreshes the summary in place instead of reloading the page (it never records).
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.matches("input:not([type=submit]):not([type=button])")) {
        event.preventDefault();
        refresh();
      }
    });

    // Highlight the field's site on the map while its field has focus.
    form.addEventListener("focusin", function (event) {
      if (!event.target.matches("input.units")) { return; }
      var row = event.target.closest("[data-site]");
      map.querySelectorAll("a.site.current").forEach(function (el) { el.classList.remove("current"); });
      var link = row && siteLink(row.id.replace(/^site-/, ""));
      if (link) { link.classList.add("current"); }
    });
    form.addEventListener("focusout", function (event) {
      if (!event.target.matches("input.units")) { return; }
      map.querySelectorAll("a.site.current").forEach(function (el) { el.classList.remove("current"); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-session-form]").forEach(init);
  });
})();
