/* The site trainer: click the clinic's site map to place sites of the chosen muscle; the placements travel to the
 * server as JSON in a hidden field, where onaboard.training scores them. On the result page the trainee's clicks are
 * drawn as open rings over the correct map. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var SHORT = {
    corrugator: "C", procerus: "P", frontalis: "F", temporalis: "T",
    occipitalis: "O", cervical_paraspinal: "N", trapezius: "Tr"
  };

  function layerOf(svg) {
    var layer = svg.querySelector("g.placed-layer");
    if (!layer) {
      layer = document.createElementNS(SVG_NS, "g");
      layer.setAttribute("class", "placed-layer");
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

  function initTrainer(form) {
    var field = form.querySelector("[data-placements]");
    var status = form.querySelector("[data-trainer-status]");
    var count = form.querySelector("[data-placed-count]");
    var undo = form.querySelector("[data-undo]");
    var ftpToggle = form.querySelector("#ftp-toggle");
    var map = form.querySelector("[data-site-map]");
    if (!field || !map) { return; }
    map.classList.add("placing");
    var placements = [];
    var markers = [];

    function sync() {
      field.value = JSON.stringify(placements);
      if (count) { count.textContent = String(placements.length); }
    }

    function chosenMuscle() {
      var radio = form.querySelector("input[name='muscle']:checked");
      return radio ? { value: radio.value, label: radio.dataset.label || radio.value } : null;
    }

    map.querySelectorAll("svg.site-map-svg").forEach(function (svg) {
      svg.addEventListener("click", function (event) {
        event.preventDefault();
        var muscle = chosenMuscle();
        var point = svgPoint(svg, event);
        if (!muscle || !point) { return; }
        var placement = {
          muscle: muscle.value, view: svg.dataset.view,
          x: Math.round(point.x * 10) / 10, y: Math.round(point.y * 10) / 10,
          ftp: Boolean(ftpToggle && ftpToggle.checked)
        };
        placements.push(placement);
        markers.push(drawMarker(svg, placement, placements.length - 1));
        sync();
        if (status) {
          status.textContent = (form.dataset.placedWord || "Placed") + ": " + muscle.label +
            (placement.ftp ? " (" + (form.dataset.ftpWord || "follow-the-pain") + ")" : "");
        }
      });
    });

    if (undo) {
      undo.addEventListener("click", function () {
        if (!placements.length) { return; }
        var removed = placements.pop();
        var marker = markers.pop();
        if (marker) { marker.remove(); }
        sync();
        if (status) { status.textContent = (form.dataset.removedWord || "Removed") + ": " + removed.muscle; }
      });
    }
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
