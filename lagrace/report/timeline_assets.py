"""The inline CSS and JavaScript of ``index.html`` (no external scripts, fonts or styles).

The page is drawn in Python (:mod:`lagrace.report.timeline_html`) as inline SVG whose
time-placed elements carry ``data-t0`` / ``data-t1`` (seconds on the run axis) and, for markers,
``data-y``. The script only re-places them for the current view (zoom with the wheel or the
buttons, pan by dragging; ``#view=A,B`` in the URL opens at seconds A..B), shows ``data-tip``
texts on hover with the cursor's time in ms, and reports its own health in the DOM:
``<body data-ready="1" data-errors="N">``.
"""

from __future__ import annotations

from typing import Final

STATE_COLOURS: Final = {
    "Active": "#2e9e44",
    "Initializing": "#a3a3a3",
    "Dead": "#d62728",
    "Partial": "#ff8c1a",
}
OTHER_STATE_COLOUR: Final = "#8a63d2"

CSS: Final = """
:root { --fg:#1d1f23; --muted:#5d6470; --line:#d9dde3; --bg:#ffffff; --panel:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header, section { padding: 10px 18px; }
h1 { font-size: 18px; margin: 4px 0 6px; }
h2 { font-size: 14px; margin: 10px 0 4px; }
.meta { color: var(--muted); }
.meta span { margin-right: 14px; }
.verdict { display: inline-block; padding: 3px 10px; border-radius: 4px; font-weight: 600;
  color: #fff; background: #555; text-transform: uppercase; letter-spacing: .04em; }
.verdict[data-verdict="reproduced"] { background: #c62828; }
.verdict[data-verdict="not_reproduced"] { background: #2e7d32; }
.verdict[data-verdict="inconclusive"] { background: #b26a00; }
.verdict[data-verdict="none"] { background: #6b7280; }
.note { background: #fff4d6; border: 1px solid #f0c36d; padding: 4px 8px; margin: 4px 0;
  border-radius: 3px; }
.findings { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.findings > div { min-width: 260px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 2px 8px 2px 0; text-align: left;
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul { margin: 2px 0; padding-left: 18px; }
.controls { position: sticky; top: 0; z-index: 5; background: var(--panel);
  border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); padding: 6px 18px;
  display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.controls button { font: inherit; padding: 2px 10px; border: 1px solid #b8bec7;
  background: #fff; border-radius: 3px; cursor: pointer; }
.controls button:hover { background: #eef2f7; }
#view-range { color: var(--muted); margin-left: 8px; font-variant-numeric: tabular-nums; }
.legend { display: flex; gap: 12px; flex-wrap: wrap; color: var(--muted); margin-left: auto; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
#timeline-wrap { padding: 0 18px 18px; }
#timeline { display: block; width: 100%; user-select: none; cursor: grab; }
#timeline.dragging { cursor: grabbing; }
.lane-bg { fill: #fafbfc; stroke: var(--line); }
.lane[data-kind="worker"] .lane-bg { fill: #fcfcfd; }
.lane-label { font-size: 12px; font-weight: 600; fill: var(--fg); }
.lane-label.target { fill: #9a3412; }
.row-label { font-size: 10px; fill: var(--muted); }
.tick text, .ytick { font-size: 10px; fill: var(--muted); }
.tick line { stroke: #e6e9ee; }
.window { fill: #ffd54f; fill-opacity: .35; stroke: #e0a800; stroke-width: 1; }
.window.derived { stroke-dasharray: 4 3; fill-opacity: .22; }
.band { stroke: none; }
.band.absent { fill: url(#hatch); }
.op { stroke-width: 2; stroke-linecap: round; }
.op.ok, .point.ok { stroke: #2e7d32; fill: #2e7d32; }
.op.fail, .point.fail { stroke: #d62728; fill: #d62728; }
.op.info, .point.info { stroke: #7b1fa2; fill: #7b1fa2; }
.point { stroke-width: 0; fill-opacity: .8; }
.bin { fill-opacity: .35; stroke: none; }
.bin.ok { fill: #2e7d32; } .bin.fail { fill: #d62728; } .bin.info { fill: #7b1fa2; }
.marker { stroke: #222; stroke-width: .6; }
.marker.warn { fill: #ff9800; }
.marker.error { fill: #b71c1c; }
.marker.log { fill: #90a4ae; stroke: none; }
.marker.probe { fill: none; stroke: #6a1b9a; stroke-width: 2; }
.marker.probe.recovered { stroke: #ce93d8; }
.marker.create { fill: #1565c0; }
.marker.create.fail { fill: #d62728; }
.marker.create.info { fill: #7b1fa2; }
.marker.create.visible { fill: #42a5f5; }
.create-link { stroke: #1565c0; stroke-width: 1; stroke-dasharray: 2 2; }
.phase { stroke: #546e7a; stroke-width: 1; stroke-dasharray: 3 4; }
.phase-label { font-size: 10px; fill: #546e7a; }
#cursor { stroke: #111; stroke-width: .6; pointer-events: none; }
#tip { position: fixed; z-index: 10; pointer-events: none; display: none; max-width: 560px;
  background: #1f2430; color: #f3f4f6; padding: 6px 8px; border-radius: 4px; font-size: 12px;
  white-space: pre-wrap; word-break: break-word; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
#tip b { color: #ffd54f; font-weight: 600; }
"""

# The script reads every element with data-t0 under #plot and places it for the view [v0, v1]:
# rect -> x/width, circle -> cx, line -> x1/x2, anything else -> transform translate(x, data-y).
JS: Final = r"""
(function () {
  "use strict";
  var body = document.body;
  var errors = 0;
  function fail(msg) {
    errors += 1;
    body.setAttribute("data-errors", String(errors));
    var box = document.getElementById("js-errors");
    if (box) { box.style.display = "block"; box.textContent = "script error: " + msg; }
  }
  window.addEventListener("error", function (e) { fail(String(e.message || e)); });
  var origError = console.error;
  console.error = function () {
    fail(Array.prototype.join.call(arguments, " "));
    return origError.apply(console, arguments);
  };
  body.setAttribute("data-errors", "0");

  var data = JSON.parse(document.getElementById("report-data").textContent);
  var svg = document.getElementById("timeline");
  var plot = document.getElementById("plot");
  var axis = document.getElementById("axis");
  var tip = document.getElementById("tip");
  var cursor = document.getElementById("cursor");
  var clipRect = document.getElementById("plot-clip-rect");
  var L = data.layout.label_width, R = data.layout.right_pad, H = data.layout.height;
  var full = [data.extent.start_s, data.extent.end_s];
  var view = full.slice();
  var W = 0;
  var NS = "http://www.w3.org/2000/svg";
  var placed = Array.prototype.slice.call(plot.querySelectorAll("[data-t0]"));
  var items = placed.map(function (el) {
    var t1 = el.getAttribute("data-t1");
    return { el: el, tag: el.tagName.toLowerCase(), t0: parseFloat(el.getAttribute("data-t0")),
             t1: t1 === null ? null : parseFloat(t1),
             y: parseFloat(el.getAttribute("data-y") || "0") };
  });

  function X(t) { return L + (t - view[0]) / (view[1] - view[0]) * (W - L - R); }
  function T(x) { return view[0] + (x - L) / (W - L - R) * (view[1] - view[0]); }

  function niceStep(span, target) {
    var raw = span / target, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }
  function fmt(t, step) {
    var d = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step)));
    return t.toFixed(d) + " s";
  }
  function drawAxis() {
    while (axis.firstChild) { axis.removeChild(axis.firstChild); }
    var step = niceStep(view[1] - view[0], Math.max(2, (W - L - R) / 90));
    for (var t = Math.ceil(view[0] / step) * step; t <= view[1] + 1e-12; t += step) {
      var g = document.createElementNS(NS, "g");
      g.setAttribute("class", "tick");
      var x = X(t);
      var line = document.createElementNS(NS, "line");
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      line.setAttribute("y1", 22); line.setAttribute("y2", H);
      var text = document.createElementNS(NS, "text");
      text.setAttribute("x", x); text.setAttribute("y", 14);
      text.setAttribute("text-anchor", "middle");
      text.textContent = fmt(t, step);
      g.appendChild(line); g.appendChild(text); axis.appendChild(g);
    }
  }
  function layout() {
    W = svg.clientWidth || svg.getBoundingClientRect().width || 1200;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    clipRect.setAttribute("width", Math.max(0, W - L - R));
    document.querySelectorAll(".lane-bg").forEach(function (r) {
      r.setAttribute("width", Math.max(0, W - L - R));
    });
    for (var i = 0; i < items.length; i++) {
      var it = items[i], x0 = X(it.t0);
      if (it.tag === "rect") {
        var x1 = it.t1 === null ? x0 : X(it.t1);
        it.el.setAttribute("x", x0);
        it.el.setAttribute("width", Math.max(1, x1 - x0));
      } else if (it.tag === "circle") {
        it.el.setAttribute("cx", x0);
      } else if (it.tag === "line") {
        it.el.setAttribute("x1", x0);
        it.el.setAttribute("x2", it.t1 === null ? x0 : X(it.t1));
      } else {
        it.el.setAttribute("transform", "translate(" + x0 + "," + it.y + ")");
      }
    }
    drawAxis();
    document.getElementById("view-range").textContent =
      view[0].toFixed(3) + " s \u2013 " + view[1].toFixed(3) + " s";
  }
  var pending = false;
  function schedule() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; layout(); });
  }
  function setView(a, b) {
    var minSpan = 0.002, span = Math.max(minSpan, b - a);
    var fullSpan = full[1] - full[0];
    if (span > fullSpan * 4) { span = fullSpan * 4; }
    var mid = (a + b) / 2;
    a = mid - span / 2; b = mid + span / 2;
    view = [a, b];
    schedule();
  }
  function zoom(factor, atX) {
    var t = atX === undefined ? (view[0] + view[1]) / 2 : T(atX);
    setView(t - (t - view[0]) * factor, t + (view[1] - t) * factor);
  }
  function svgX(ev) {
    var r = svg.getBoundingClientRect();
    return (ev.clientX - r.left) * (W / r.width);
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(ev.deltaY > 0 ? 1.25 : 0.8, svgX(ev));
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    drag = { x: svgX(ev), view: view.slice() };
    svg.classList.add("dragging");
  });
  window.addEventListener("mouseup", function () {
    drag = null;
    svg.classList.remove("dragging");
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var dt = (svgX(ev) - drag.x) / (W - L - R) * (drag.view[1] - drag.view[0]);
    view = [drag.view[0] - dt, drag.view[1] - dt];
    schedule();
  });
  svg.addEventListener("mousemove", function (ev) {
    var x = svgX(ev);
    if (x < L || x > W - R) {
      cursor.setAttribute("visibility", "hidden");
      tip.style.display = "none";
      return;
    }
    cursor.setAttribute("visibility", "visible");
    cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
    var target = ev.target.closest ? ev.target.closest("[data-tip]") : null;
    var head = document.createElement("b");
    head.textContent = "t = " + T(x).toFixed(3) + " s";
    tip.textContent = "";
    tip.appendChild(head);
    if (target) {
      tip.appendChild(document.createTextNode("\n" + target.getAttribute("data-tip")));
    }
    tip.style.display = "block";
    var left = ev.clientX + 14, top = ev.clientY + 14;
    if (left + tip.offsetWidth > window.innerWidth) { left = ev.clientX - tip.offsetWidth - 10; }
    if (top + tip.offsetHeight > window.innerHeight) { top = ev.clientY - tip.offsetHeight - 10; }
    tip.style.left = left + "px"; tip.style.top = top + "px";
  });
  svg.addEventListener("mouseleave", function () {
    tip.style.display = "none"; cursor.setAttribute("visibility", "hidden");
  });
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(0.5); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(2); });
  document.getElementById("zoom-reset").addEventListener("click", function () {
    setView(full[0], full[1]);
  });
  var race = document.getElementById("zoom-race");
  if (data.focus) {
    race.addEventListener("click", function () { setView(data.focus[0], data.focus[1]); });
  } else {
    race.disabled = true;
  }
  window.addEventListener("resize", schedule);
  var wanted = /view=(-?[0-9.]+),(-?[0-9.]+)/.exec(window.location.hash);
  if (wanted && parseFloat(wanted[2]) > parseFloat(wanted[1])) {
    view = [parseFloat(wanted[1]), parseFloat(wanted[2])];
  }
  layout();
  body.setAttribute("data-ready", "1");
  body.setAttribute("data-lanes", String(document.querySelectorAll(".lane").length));
})();
"""
