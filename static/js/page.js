/* Every page: land on what happened, and do not lose unsaved choices silently.

   - After a save or an error, focus (and so scroll to) the first error summary, else the
     messages: a screen reader reads it, a phone shows it. Scan pages keep their own focus
     (the scanner types into the scan field).
   - Forms marked data-warn-unsaved: leaving the page with choices not yet saved asks first
     (the browser's own "leave the page?" dialog). A form shown again after an error holds
     choices not saved yet, so it counts as changed from the start.
   Loaded with <script src defer>: no inline script, so a strict Content-Security-Policy holds.
   Everything works without it: it only helps. */
(function () {
  "use strict";

  function land(element) {
    if (!element) { return false; }
    if (!element.hasAttribute("tabindex")) { element.setAttribute("tabindex", "-1"); }
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "start" });
    return true;
  }

  var errors = document.querySelector("[data-error-summary], .error-summary");
  if (!land(errors) && !document.querySelector("[data-scan-input]")) {
    land(document.querySelector(".messages"));
  }

  // Unsaved changes.
  var watched = Array.prototype.slice.call(document.querySelectorAll("form[data-warn-unsaved]"));
  if (!watched.length) { return; }
  var changed = [];
  function mark(form) { if (changed.indexOf(form) < 0) { changed.push(form); } }
  watched.forEach(function (form) {
    if (form.querySelector("[data-error-summary], .field--error")) { mark(form); }
    form.addEventListener("input", function () { mark(form); });
    form.addEventListener("change", function () { mark(form); });
    form.addEventListener("submit", function () {
      // The form sent is saved (or shown again with its errors); other changed forms are not.
      changed = changed.filter(function (other) { return other !== form; });
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (!changed.length) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
})();
