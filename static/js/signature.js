/* Signature pad of a hand-over receipt: the person receiving draws with a finger, a stylus or
   the mouse (pointer events); on submit the drawing goes into a hidden field as a PNG data URL.
   Without this script the pad stays hidden and the page offers the paper copy instead; the
   strokes are kept as fractions of the box, so a turned phone redraws them at the new size.
   Loaded with <script src defer>: no inline script, so the Content-Security-Policy holds. */
(function () {
  "use strict";
  var form = document.querySelector("[data-signature-form]");
  var canvas = form && form.querySelector("[data-signature-canvas]");
  if (!form || !canvas || !canvas.getContext) { return; }
  var value = form.querySelector("[data-signature-value]");
  var clear = form.querySelector("[data-signature-clear]");
  var status = form.querySelector("[data-signature-status]");
  var fallback = document.querySelector("[data-signature-fallback]");
  var context = canvas.getContext("2d");
  var strokes = [];   // each stroke: a list of [x, y] as fractions of the box
  var current = null;
  var pointerId = null;
  var INK = "#111111";
  var LINE_CSS_PX = 2.5;

  form.hidden = false;
  if (fallback) { fallback.hidden = true; }

  function ratio() { return window.devicePixelRatio || 1; }

  function resize() {
    var box = canvas.getBoundingClientRect();
    var width = Math.max(1, Math.round(box.width * ratio()));
    var height = Math.max(1, Math.round(box.height * ratio()));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    redraw();
  }

  function drawStroke(points) {
    var w = canvas.width, h = canvas.height;
    context.lineWidth = LINE_CSS_PX * ratio();
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = INK;
    context.fillStyle = INK;
    if (points.length === 1) {  // a tap: a dot
      context.beginPath();
      context.arc(points[0][0] * w, points[0][1] * h, context.lineWidth / 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    // Through the midpoints of successive points: a smooth line rather than a polyline.
    context.beginPath();
    context.moveTo(points[0][0] * w, points[0][1] * h);
    for (var i = 1; i < points.length - 1; i++) {
      var mx = (points[i][0] + points[i + 1][0]) / 2;
      var my = (points[i][1] + points[i + 1][1]) / 2;
      context.quadraticCurveTo(points[i][0] * w, points[i][1] * h, mx * w, my * h);
    }
    var last = points[points.length - 1];
    context.lineTo(last[0] * w, last[1] * h);
    context.stroke();
  }

  function redraw() {
    // White, not transparent: the PNG reads the same in any viewer and on the receipt.
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    strokes.forEach(drawStroke);
  }

  function point(event) {
    var box = canvas.getBoundingClientRect();
    var x = (event.clientX - box.left) / (box.width || 1);
    var y = (event.clientY - box.top) / (box.height || 1);
    return [Math.min(Math.max(x, 0), 1), Math.min(Math.max(y, 0), 1)];
  }

  function say(message) {
    if (!status) { return; }
    status.textContent = message || "";
    status.hidden = !message;
  }

  canvas.addEventListener("pointerdown", function (event) {
    if (pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) { return; }
    event.preventDefault();
    pointerId = event.pointerId;
    if (canvas.setPointerCapture) {
      try { canvas.setPointerCapture(event.pointerId); } catch (e) { /* synthetic event */ }
    }
    current = [point(event)];
    strokes.push(current);
    say("");
    redraw();
  });

  canvas.addEventListener("pointermove", function (event) {
    if (event.pointerId !== pointerId || !current) { return; }
    event.preventDefault();
    // A fast stylus sends several positions per frame: keep them all.
    var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    if (!events.length) { events = [event]; }
    events.forEach(function (each) { current.push(point(each)); });
    redraw();
  });

  function end(event) {
    if (event.pointerId !== pointerId) { return; }
    pointerId = null;
    current = null;
  }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  if (clear) {
    clear.hidden = false;
    clear.addEventListener("click", function () {
      strokes = [];
      current = null;
      pointerId = null;
      value.value = "";
      say("");
      redraw();
    });
  }

  form.addEventListener("submit", function (event) {
    if (!strokes.length) {
      event.preventDefault();
      say(status ? status.getAttribute("data-empty-message") : "");
      canvas.scrollIntoView({ block: "center" });
      return;
    }
    value.value = canvas.toDataURL("image/png");
  });

  window.addEventListener("resize", resize);
  resize();
})();
