/* Scan page: keep the input focused for a handheld scanner, beep on each result, and read QR
   codes with the camera (the browser's BarcodeDetector where it has one, else jsQR, served from
   our own static files). Everything works without this script: it only helps. */
(function () {
  "use strict";
  var input = document.querySelector("[data-scan-input]");
  var form = document.querySelector("[data-scan-form]");
  if (!input || !form) { return; }

  function focusInput() {
    // Do not steal focus from a field the user is filling (a note, a select).
    var active = document.activeElement;
    if (active && active !== document.body && active !== input &&
        /^(TEXTAREA|SELECT|INPUT)$/.test(active.tagName)) { return; }
    input.focus({ preventScroll: true });
  }
  focusInput();
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { focusInput(); } });

  // A tap on the page (text, the card, a summary) takes the focus away from the input, and the
  // scanner's next keystrokes would then go nowhere. Any printable key typed outside a field
  // brings the focus back first, so that the key lands in the input.
  function isField(element) {
    return element && (/^(TEXTAREA|SELECT|INPUT)$/.test(element.tagName) || element.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isField(event.target)) { return; }
    // Space and Enter on a button, a link or a summary keep their meaning for keyboard users;
    // a label code or URL holds no space.
    var onPage = event.target === document.body || event.target.id === "main";
    if ((event.key.length === 1 && event.key !== " ") || (event.key === "Enter" && onPage)) {
      input.focus({ preventScroll: true });
    }
  }, true);

  // Audible feedback: one high beep when done, two low ones when refused.
  var audio = null;
  function beep(value) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !value) { return; }
    try {
      audio = audio || new Ctx();
      var ok = /^(applied|found|already_done)$/.test(value);
      var tones = ok ? [[880, 0, 0.12]] : [[220, 0, 0.15], [220, 0.22, 0.15]];
      tones.forEach(function (t) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = t[0];
        gain.gain.value = 0.15;
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + t[1]);
        osc.stop(audio.currentTime + t[1] + t[2]);
      });
    } catch (e) { /* no sound is no harm */ }
  }
  var result = document.querySelector("[data-result]");
  if (result) { beep(result.getAttribute("data-result")); }

  // Batch mode: scans are queued and sent one by one in the background, so that a scanner
  // firing codes quickly never types into a page that is reloading (keys would be lost).
  // Each scan carries its own id: a retry after a network failure is replayed, not repeated.
  var live = document.querySelector("[data-batch-live]");
  var pending = document.querySelector("[data-batch-pending]");
  if (live && window.fetch && window.FormData && window.DOMParser) {
    var queue = [];
    var busy = false;
    var sequence = 0;
    var session = String(Date.now());
    var showPending = function (failed) {
      if (!pending) { return; }
      pending.hidden = queue.length === 0 && !failed;
      pending.textContent = (failed ? pending.getAttribute("data-msg-offline") + " " : "") +
        pending.getAttribute("data-msg-waiting") + " " + String(queue.length);
    };
    var pump = function () {
      if (busy || !queue.length) { return; }
      busy = true;
      var item = queue[0];
      var data = new FormData(form);
      data.set("raw", item.raw);
      data.set("client_id", item.id);
      fetch(window.location.href, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          queue.shift();
          var answer = new DOMParser().parseFromString(html, "text/html");
          var fresh = answer.querySelector("[data-batch-live]");
          if (fresh) { live.innerHTML = fresh.innerHTML; }
          // The title carries the latest result, as a page loaded afresh would.
          if (answer.title) { document.title = answer.title; }
          var latest = live.querySelector("[data-result]");
          if (latest) { beep(latest.getAttribute("data-result")); }
          busy = false;
          showPending(false);
          pump();
        })
        .catch(function () {
          busy = false;
          showPending(true);
          window.setTimeout(pump, 2000);
        });
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value.trim();
      input.value = "";
      input.focus({ preventScroll: true });
      if (!value) { return; }
      sequence += 1;
      queue.push({ raw: value, id: "web-" + session + "-" + sequence });
      showPending(false);
      pump();
    });
  }

  // Camera scanning.
  var camera = document.querySelector("[data-camera]");
  var startButton = document.querySelector("[data-camera-start]");
  var status = document.querySelector("[data-camera-status]");
  var video = document.querySelector("[data-camera-video]");
  if (!camera || !startButton || !video) { return; }
  camera.hidden = false;

  function say(key) { status.textContent = status.getAttribute("data-msg-" + key) || ""; }

  function submit(text) {
    input.value = text;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  startButton.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { say("unavailable"); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        startButton.hidden = true;
        say("looking");
        return video.play().then(function () { scanLoop(stream); });
      })
      .catch(function (err) { say(err && err.name === "NotAllowedError" ? "denied" : "unavailable"); });
  });

  function scanLoop(stream) {
    var detector = null;
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = null; }
    }
    var canvas = document.createElement("canvas");
    var context2d = canvas.getContext("2d", { willReadFrequently: true });
    var done = false;

    function found(text) {
      if (done || !text) { return; }
      done = true;
      stream.getTracks().forEach(function (track) { track.stop(); });
      submit(text);
    }

    function tick() {
      if (done) { return; }
      if (video.readyState < 2) { window.requestAnimationFrame(tick); return; }
      if (detector) {
        detector.detect(video).then(function (codes) {
          if (codes.length) { found(codes[0].rawValue); } else { window.setTimeout(tick, 120); }
        }).catch(function () { detector = null; window.setTimeout(tick, 120); });
        return;
      }
      if (typeof window.jsQR === "function") {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context2d.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context2d.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        if (code) { found(code.data); return; }
      }
      window.setTimeout(tick, 150);
    }
    tick();
  }
})();
