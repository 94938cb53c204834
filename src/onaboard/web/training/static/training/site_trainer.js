/* The site trainer: place sites of the chosen muscle on the clinic's site map, by clicking it or from the keyboard;
 * the placements travel to the server as JSON in a hidden field, where onaboard.training scores them. On the result
 * page the trainee's placements are drawn as open rings over the correct map.
 *
 * Keyboard: each view of the map is a focusable stop. The arrow keys move a crosshair by STEP map units (Shift: by
 * BIG_STEP), and Enter or Space places a site where it stands: the same placement a click there makes. Each move
 * is announced in words (the view, the part of the drawing, the patient's side, how far across and down), naming
 * only what the drawing shows, never where a site goes, so placing from the keyboard is still the same test.
 *
 * Submitting fewer sites than the attempt asks for asks first.
 *
 * Follow-the-pain: the checkbox marks the next site only; it unticks itself once that site is placed, so a later
 * fixed site cannot silently become a follow-the-pain site. The mode line above the map always says what the next
 * site will be. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var SHORT = {
    corrugator: "C", procerus: "P", frontalis: "F", temporalis: "T",
    occipitalis: "O", cervical_paraspinal: "N", trapezius: "Tr"
  };
  var MAP_SIZE = 1000;
  var STEP = 20;
  var BIG_STEP = 100;
  var START = 500;

  /* The drawing's outline (injections/_site_map.html), sampled: half the head's width at each height of the
   * view, and the top of the shoulders at each distance from the midline. Used only to name the part of the
   * drawing under the crosshair. */
  var HEAD_HALF_WIDTH = {
    front: [[40, 0], [80, 134], [120, 176], [160, 201], [200, 216], [240, 225], [280, 230], [320, 230], [360, 228],
      [400, 224], [440, 219], [480, 210], [520, 198], [560, 182], [600, 162], [640, 136], [680, 101], [720, 0]],
    back: [[40, 0], [80, 134], [120, 176], [160, 201], [200, 216], [240, 225], [280, 230], [320, 230], [360, 227],
      [400, 221], [440, 212], [480, 200], [520, 184], [560, 163], [600, 135], [640, 96]]
  };
  var SHOULDER_TOP = [[0, 800], [96, 800], [136, 823], [176, 835], [216, 844], [256, 852], [296, 860], [336, 870],
    [376, 888], [416, 928], [440, 1000], [500, 1000]];
  var NECK_HALF_WIDTH = 96;

  function interpolate(table, at) {
    if (at <= table[0][0]) { return table[0][1]; }
    for (var i = 1; i < table.length; i += 1) {
      if (at <= table[i][0]) {
        var a = table[i - 1], b = table[i];
        return a[1] + (b[1] - a[1]) * (at - a[0]) / (b[0] - a[0]);
      }
    }
    return table[table.length - 1][1];
  }

  function insideHead(view, dx, y) {
    var table = HEAD_HALF_WIDTH[view];
    if (y < table[0][0] || y > table[table.length - 1][0]) { return false; }
    return dx <= interpolate(table, y);
  }

  function isEar(dx, y) { return dx >= 220 && dx <= 285 && y >= 350 && y <= 485; }

  /* The part of the drawing at a point: a key of the page's words. */
  function areaAt(view, x, y) {
    var dx = Math.abs(x - MAP_SIZE / 2);
    if (y >= interpolate(SHOULDER_TOP, dx)) {
      if (dx <= NECK_HALF_WIDTH + 14) { return view === "front" ? "base-of-neck" : "upper-back"; }
      return "shoulder";
    }
    if (insideHead(view, dx, y)) {
      if (view === "front") {
        if (dx >= 140 && y >= 120 && y < 360) { return "temple"; }
        if (y < 132 + 68 * Math.pow(Math.min(dx, 200) / 200, 2)) { return "scalp"; }
        if (y < 306) { return "forehead"; }
        if (y < 350) { return dx <= 30 ? "between-brows" : "eyebrow"; }
        if (y < 420) { return dx <= 30 ? "nose" : (dx <= 120 ? "eye" : "cheek"); }
        if (y < 500) { return dx <= 30 ? "nose" : "cheek"; }
        if (y < 630) { return dx <= 80 ? "mouth" : "cheek"; }
        return "chin";
      }
      if (y < 300) { return "top-of-head"; }
      if (y < 440) { return "back-of-head"; }
      if (y < 540) { return "lower-back-of-head"; }
      return "base-of-skull";
    }
    if (isEar(dx, y)) { return "ear"; }
    if (dx <= NECK_HALF_WIDTH && y >= 600) { return "neck"; }
    return "outside";
  }

  function sideAt(view, x) {
    if (Math.abs(x - MAP_SIZE / 2) <= 15) { return "midline"; }
    var viewerLeft = view === "front" ? "patient-right" : "patient-left";
    var viewerRight = view === "front" ? "patient-left" : "patient-right";
    return x < MAP_SIZE / 2 ? viewerLeft : viewerRight;
  }

  function layerOf(svg) {
    var layer = svg.querySelector("g.placed-layer");
    if (!layer) {
      layer = document.createElementNS(SVG_NS, "g");
      layer.setAttribute("class", "placed-layer");
      layer.setAttribute("aria-hidden", "true");
      svg.appendChild(layer);
    }
    return layer;
  }

  function drawMarker(svg, placement, index) {
    var group = document.createElementNS(SVG_NS, "g");
    group.setAttribute("class", "placed" + (placement.ftp ? " ftp" : ""));
    group.setAttribute("data-index", String(index));
    var circle = document.createElementNS(SVG_NS, "circle");
    circle.setAttribute("cx", placement.x); circle.setAttribute("cy", placement.y); circle.setAttribute("r", "20");
    var text = document.createElementNS(SVG_NS, "text");
    text.setAttribute("x", placement.x); text.setAttribute("y", placement.y); text.setAttribute("dy", "8");
    text.setAttribute("text-anchor", "middle");
    text.textContent = SHORT[placement.muscle] || "?";
    group.appendChild(circle); group.appendChild(text);
    layerOf(svg).appendChild(group);
    return group;
  }

  function svgPoint(svg, event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    var matrix = svg.getScreenCTM();
    return matrix ? point.matrixTransform(matrix.inverse()) : null;
  }

  function drawCrosshair(svg) {
    var group = document.createElementNS(SVG_NS, "g");
    group.setAttribute("class", "crosshair");
    group.setAttribute("aria-hidden", "true");
    [["line", { x1: -48, y1: 0, x2: -14, y2: 0 }], ["line", { x1: 14, y1: 0, x2: 48, y2: 0 }],
      ["line", { x1: 0, y1: -48, x2: 0, y2: -14 }], ["line", { x1: 0, y1: 14, x2: 0, y2: 48 }],
      ["circle", { cx: 0, cy: 0, r: 14 }]].forEach(function (part) {
      ["halo", "mark"].forEach(function (kind) {
        var shape = document.createElementNS(SVG_NS, part[0]);
        Object.keys(part[1]).forEach(function (name) { shape.setAttribute(name, part[1][name]); });
        shape.setAttribute("class", kind);
        group.appendChild(shape);
      });
    });
    svg.appendChild(group);
    return group;
  }

  function readWords(form) {
    var words = {};
    form.querySelectorAll("[data-trainer-words] [data-phrase-key]").forEach(function (item) {
      words[item.dataset.phraseKey] = item.textContent.trim();
    });
    return words;
  }

  function fill(pattern, values) {
    return pattern.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function initTrainer(form) {
    var field = form.querySelector("[data-placements]");
    var status = form.querySelector("[data-trainer-status]");
    var count = form.querySelector("[data-placed-count]");
    var undo = form.querySelector("[data-undo]");
    var ftpToggle = form.querySelector("#ftp-toggle");
    var modeMuscle = form.querySelector("[data-mode-muscle]");
    var modeKind = form.querySelector("[data-mode-kind]");
    var modeLine = form.querySelector("[data-trainer-mode]");
    var map = form.querySelector("[data-site-map]");
    if (!field || !map) { return; }
    var words = readWords(form);
    map.classList.add("placing");
    /* The asked follow-the-pain areas are shaded by the site map, whose tooltip is the session screen's ("Click to
       add ..."); here a click places a site of the chosen muscle, so the tooltip only names the area. */
    map.querySelectorAll(".ftp-region").forEach(function (area) {
      var title = area.querySelector("title");
      if (title && words["area-asked"]) {
        title.textContent = fill(words["area-asked"], { place: area.dataset.label || "" });
      }
    });
    var placements = [];
    var markers = [];

    function word(key) { return words[key] || key; }

    function where(view, x, y) {
      return fill(word("where"), {
        view: word("view-" + view), area: word("area-" + areaAt(view, x, y)), side: word("side-" + sideAt(view, x)),
        across: String(Math.round(100 * x / MAP_SIZE)), down: String(Math.round(100 * y / MAP_SIZE))
      });
    }

    function kindOf(ftp) { return word(ftp ? "kind-ftp" : "kind-fixed"); }

    function sync() {
      field.value = JSON.stringify(placements);
      if (count) { count.textContent = String(placements.length); }
    }

    function say(text) { if (status) { status.textContent = text; } }

    function chosenMuscle() {
      var radio = form.querySelector("input[name='muscle']:checked");
      return radio ? { value: radio.value, label: radio.dataset.label || radio.value } : null;
    }

    function labelOf(value) {
      var radio = form.querySelector("input[name='muscle'][value='" + value + "']");
      return radio ? (radio.dataset.label || value) : value;
    }

    function showMode() {
      var muscle = chosenMuscle();
      var ftp = Boolean(ftpToggle && ftpToggle.checked);
      if (modeMuscle && muscle) { modeMuscle.textContent = muscle.label; }
      if (modeKind) { modeKind.textContent = kindOf(ftp); }
      if (modeLine) { modeLine.classList.toggle("ftp", ftp); }
    }

    function place(svg, x, y) {
      var muscle = chosenMuscle();
      if (!muscle) { return; }
      var placement = { muscle: muscle.value, view: svg.dataset.view, x: x, y: y, ftp: Boolean(ftpToggle && ftpToggle.checked) };
      placements.push(placement);
      markers.push(drawMarker(svg, placement, placements.length - 1));
      sync();
      var message = fill(word("placed"), {
        muscle: muscle.label, kind: kindOf(placement.ftp), where: where(placement.view, x, y),
        count: String(placements.length)
      });
      if (placement.ftp) {
        ftpToggle.checked = false;
        showMode();
        message += " " + word("ftp-off");
      }
      say(message);
    }

    map.querySelectorAll("svg.site-map-svg").forEach(function (svg) {
      var view = svg.dataset.view;
      var cursor = { x: START, y: START };
      var crosshair = drawCrosshair(svg);
      var label = form.querySelector("[data-label-of-view='" + view + "']");

      function moveCrosshair() {
        crosshair.setAttribute("transform", "translate(" + cursor.x + " " + cursor.y + ")");
        svg.dataset.cursorX = String(cursor.x);
        svg.dataset.cursorY = String(cursor.y);
      }

      svg.setAttribute("tabindex", "0");
      svg.setAttribute("role", "application");
      if (label && label.id) { svg.setAttribute("aria-labelledby", label.id); }
      svg.setAttribute("aria-describedby", "trainer-help");
      moveCrosshair();

      svg.addEventListener("click", function (event) {
        event.preventDefault();
        var point = svgPoint(svg, event);
        if (!point) { return; }
        cursor.x = Math.round(point.x); cursor.y = Math.round(point.y);
        moveCrosshair();
        place(svg, Math.round(point.x * 10) / 10, Math.round(point.y * 10) / 10);
      });

      svg.addEventListener("focus", function () {
        // Keyboard focus only: the words a mouse press would add above the map could move it under the pointer
        // between the press and the click.
        if (svg.matches(":focus-visible")) { say(where(view, cursor.x, cursor.y)); }
      });

      svg.addEventListener("keydown", function (event) {
        if (event.altKey || event.ctrlKey || event.metaKey) { return; }
        var step = event.shiftKey ? BIG_STEP : STEP;
        var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
        if (moves[event.key]) {
          event.preventDefault();
          cursor.x = Math.min(MAP_SIZE, Math.max(0, cursor.x + moves[event.key][0]));
          cursor.y = Math.min(MAP_SIZE, Math.max(0, cursor.y + moves[event.key][1]));
          moveCrosshair();
          say(where(view, cursor.x, cursor.y));
        } else if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          place(svg, cursor.x, cursor.y);
        }
      });
    });

    form.querySelectorAll("input[name='muscle']").forEach(function (radio) {
      radio.addEventListener("change", showMode);
    });
    if (ftpToggle) { ftpToggle.addEventListener("change", showMode); }

    if (undo) {
      undo.addEventListener("click", function () {
        if (!placements.length) { return; }
        var removed = placements.pop();
        var marker = markers.pop();
        if (marker) { marker.remove(); }
        sync();
        say(fill(word("removed"), {
          muscle: labelOf(removed.muscle), kind: kindOf(removed.ftp), where: where(removed.view, removed.x, removed.y),
          count: String(placements.length)
        }));
      });
    }
    /* Fewer sites than the attempt asks for (the engine's fixed sites plus the case's follow-the-pain sites, as the
       page says): ask before sending, so a stray press of the button is not scored as a poor attempt. The server
       refuses a map with no site at all. */
    var expected = Number(form.dataset.expectedSites) || 0;
    form.addEventListener("submit", function (event) {
      if (placements.length >= expected) { return; }
      var question = fill(word("confirm-few"), { count: String(placements.length), expected: String(expected) });
      if (!window.confirm(question)) { event.preventDefault(); }
    });
    showMode();
    sync();
  }

  function initOverlay(holder) {
    var placements;
    try { placements = JSON.parse(holder.dataset.placementsJson || "[]"); } catch (error) { return; }
    placements.forEach(function (placement, index) {
      var svg = holder.querySelector("svg.site-map-svg[data-view='" + placement.view + "']");
      if (svg) { drawMarker(svg, placement, index); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-site-trainer]").forEach(initTrainer);
    document.querySelectorAll("[data-placed-overlay]").forEach(initOverlay);
  });
})();
